// The module's connection to the Developer Center (AT+QIOTREG, AT+QIOTSTATE, +QIOTEVT types
// 1, 2, 3 and 6). Connecting authenticates the first time (`+QIOTEVT: 1,10200`, a DeviceSecret
// is issued and saved), then accesses (`2,10200`) and subscribes (`3,10200`): state 8. A device
// the platform already knows (a saved DeviceSecret) goes straight to access, as in the
// walk-through. Failures: 1,<code> (e.g. 10423 unknown ProductKey, 10424 wrong ProductSecret,
// 10422 already authenticated) with state 4, or 2,<code> (10430 wrong DeviceSecret, 10438
// device unknown) with state 7. Without a Developer Center model every connection succeeds
// and no plan is ever offered.
// A lost connection (fault "cloud-loss") is re-established by the module itself after
// `reconnectMs` when QuecThing is enabled (mode 1 or 2), with 2,10200 and 3,10200 again.

import type { QuecModule } from "./module"

export const STATE_UNINIT = 0
export const STATE_INIT = 1
export const STATE_AUTHENTICATING = 2
export const STATE_AUTH_FAILED = 4
export const STATE_REGISTERING = 5
export const STATE_REGISTERED = 6
export const STATE_REG_FAILED = 7
export const STATE_SUBSCRIBED = 8
export const STATE_DEREGISTERED = 11

export class QiotConnection {
    state: number
    private attempt = 0

    constructor(private m: QuecModule) {
        this.state = this.idleState()
    }

    connected(): boolean {
        return this.state === STATE_SUBSCRIBED
    }

    deviceKey(): string {
        return this.m.nvm.customDk || this.m.imei
    }

    configured(): boolean {
        const n = this.m.nvm
        return n.productKey !== "" && n.productSecret !== "" && n.serverUrl !== ""
    }

    /** AT+QIOTREG=1/2 (and power-on in mode 2): connect unless connected or connecting. */
    start() {
        if (this.state === STATE_SUBSCRIBED || this.state === STATE_AUTHENTICATING || this.state === STATE_REGISTERING)
            return
        const attempt = ++this.attempt
        this.state = this.m.devCenter && !this.m.nvm.deviceSecret ? STATE_AUTHENTICATING : STATE_REGISTERING
        this.m.timer(this.m.opts.registerMs, () => {
            if (attempt === this.attempt) this.finishConnect()
        })
    }

    /** AT+QIOTREG=0: deregister. */
    stop() {
        this.attempt++
        const was = this.state === STATE_SUBSCRIBED
        this.dropLink()
        this.state = was ? STATE_DEREGISTERED : this.idleState()
        if (was) this.m.afterReply(() => this.m.urc("+QIOTEVT: 6,10200"))
    }

    /** The network took the connection away; the module reconnects by itself. */
    lose() {
        if (this.state !== STATE_SUBSCRIBED) return
        this.attempt++
        this.dropLink()
        this.state = STATE_REGISTERING
        this.m.ota.onCloudLost()
        const attempt = this.attempt
        this.m.timer(this.m.opts.reconnectMs, () => {
            if (attempt !== this.attempt || this.m.nvm.regMode === 0) return
            this.state = STATE_INIT
            this.start()
        })
    }

    /** Power loss: RAM state gone, the platform sees the device go offline. */
    powerLoss() {
        this.attempt++
        this.dropLink()
        this.state = this.idleState()
    }

    private idleState(): number {
        return this.configured() ? STATE_INIT : STATE_UNINIT
    }

    private dropLink() {
        if (this.m.devCenter) this.m.devCenter.disconnect(this.deviceKey())
        this.m.stopPlanChecks()
    }

    private finishConnect() {
        const m = this.m
        const dc = m.devCenter
        const n = m.nvm
        const dk = this.deviceKey()
        if (dc) {
            if (!n.deviceSecret) {
                const r = dc.authenticate(n.productKey, n.productSecret, dk)
                if (r.code !== 10200 || !("deviceSecret" in r)) {
                    this.state = STATE_AUTH_FAILED
                    m.urc(`+QIOTEVT: 1,${r.code}`)
                    return
                }
                n.deviceSecret = r.deviceSecret
                m.urc("+QIOTEVT: 1,10200")
            }
            const code = dc.connect(n.productKey, dk, n.customDs || n.deviceSecret, {
                planAvailable: () => m.ota.planAvailable(),
            })
            if (code !== 10200) {
                this.state = STATE_REG_FAILED
                m.urc(`+QIOTEVT: 2,${code}`)
                return
            }
        }
        this.state = STATE_REGISTERED
        m.urc("+QIOTEVT: 2,10200")
        this.state = STATE_SUBSCRIBED
        m.urc("+QIOTEVT: 3,10200")
        m.reportVersions()
        m.startPlanChecks()
        m.ota.onConnected()
    }
}
