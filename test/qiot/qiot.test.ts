// The QuecThing layer both upgrades stand on (src/qiot): the event inbox, the session and the
// plan commands, against a byte-level scripted module.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest"
import { AtClient } from "../../src/at/client"
import { AtError } from "../../src/at/errors"
import { createPipe } from "../../src/link/pipe"
import { planAction, tryPlanAction } from "../../src/qiot/commands"
import { EVT_INDICATION, EVT_MODULE_RESTART, EVT_OTA, OtaAction, parseOffer, parseQiotEvent } from "../../src/qiot/events"
import { EventInbox } from "../../src/qiot/inbox"
import { recover, sessionLost, subscribe } from "../../src/qiot/session"
import { ScriptedModule } from "../at/scripted-module"

beforeEach(() => vi.useFakeTimers())
afterEach(() => vi.useRealTimers())

function setup() {
    const [mcu, moduleEnd] = createPipe()
    const module = new ScriptedModule(moduleEnd)
    module.echo = false
    module.on("AT", "\r\nOK\r\n").on("ATE0", "\r\nOK\r\n")
    const at = new AtClient(mcu)
    const inbox = new EventInbox()
    at.onUrc(l => inbox.urc(l))
    return { module, at, inbox }
}

async function run<T>(p: Promise<T>, ms = 120_000): Promise<T> {
    let done = false
    let value: T
    let error: unknown = null
    p.then(
        v => ((done = true), (value = v)),
        e => ((done = true), (error = e))
    )
    for (let t = 0; t < ms && !done; t += 10) await vi.advanceTimersByTimeAsync(10)
    if (!done) throw new Error("did not settle")
    if (error) throw error
    return value!
}

describe("the event inbox", () => {
    it("types +QIOTEVT lines and RDY, skips anything else, and keeps unmatched events in order", async () => {
        const inbox = new EventInbox()
        inbox.urc("+QIOTEVT: 7,10702")
        inbox.urc("+CSQ: 20,99")
        inbox.urc("+QIOTEVT: x,1")
        inbox.urc("RDY")
        inbox.urc('+QIOTEVT: 7,10700,"STM32","","2_0_0",30,-113,1000')
        const offer = await inbox.next(e => e.type === EVT_OTA && e.code === 10700, 0)
        expect(parseOffer(offer!)).toMatchObject({ component: "STM32", target: "2_0_0", size: 1000 })
        expect((await inbox.next(() => true, 0))!.code).toBe(10702)
        expect((await inbox.next(() => true, 0))!.type).toBe(EVT_MODULE_RESTART)
        expect(await inbox.next(() => true, 0)).toBeNull()
    })

    it("is bounded: the oldest event goes and is counted", async () => {
        const inbox = new EventInbox(4)
        for (let i = 0; i < 7; i++) inbox.urc(`+QIOTEVT: 7,${10700 + i}`)
        expect(inbox.dropped).toBe(3)
        const codes: number[] = []
        let e
        while ((e = await inbox.next(() => true, 0))) codes.push(e.code)
        expect(codes).toEqual([10703, 10704, 10705, 10706])
    })

    it("never evicts an upgrade's own event for chatter: unrelated events go first", async () => {
        const inbox = new EventInbox(16)
        inbox.urc("+QIOTEVT: 7,10703")
        inbox.urc("RDY")
        for (let i = 0; i < 40; i++) inbox.urc(`+QIOTEVT: 5,10210,${i}`)
        expect(inbox.dropped).toBe(26)
        expect((await inbox.next(e => e.type === EVT_OTA, 0))!.code).toBe(10703)
        expect(await inbox.next(e => e.type === EVT_MODULE_RESTART, 0)).not.toBeNull()
        // the chatter kept is the newest
        expect((await inbox.next(() => true, 0))!.line).toBe("+QIOTEVT: 5,10210,26")
        // a queue that is all the upgrade's own still stays bounded: its oldest goes
        const full = new EventInbox(2)
        for (const c of [10700, 10701, 10703]) full.urc(`+QIOTEVT: 7,${c}`)
        expect(full.dropped).toBe(1)
        expect((await full.next(() => true, 0))!.code).toBe(10701)
    })

    it("queues only the +QIND lines its filter accepts", async () => {
        const seen: string[] = []
        const inbox = new EventInbox(8, { indication: l => (seen.push(l), l.includes('"FOTA"')) })
        inbox.urc('+QIND: "FOTA","START"')
        inbox.urc('+QIND: "SMS DONE"')
        expect(seen).toHaveLength(2)
        const e = await inbox.next(x => x.type === EVT_INDICATION, 0)
        expect(e!.line).toBe('+QIND: "FOTA","START"')
        expect(await inbox.next(() => true, 0)).toBeNull()
        // without a filter no +QIND line is an event
        const plain = new EventInbox()
        plain.urc('+QIND: "FOTA","START"')
        expect(await plain.next(() => true, 0)).toBeNull()
        expect(parseQiotEvent('+QIND: "FOTA","START"')).toBeNull()
    })

    it("wakes a waiter when an event arrives and times out otherwise", async () => {
        const inbox = new EventInbox()
        const p = inbox.next(e => e.code === 10701, 5000)
        setTimeout(() => inbox.urc("+QIOTEVT: 7,10701"), 1000)
        expect((await run(p))!.code).toBe(10701)
        expect(await run(inbox.next(() => true, 3000))).toBeNull()
    })
})

describe("the session", () => {
    it("does nothing when the module is subscribed already", async () => {
        const { module, at, inbox } = setup()
        module.on("AT+QIOTSTATE?", "\r\n+QIOTSTATE: 8\r\n\r\nOK\r\n")
        expect(await run(subscribe(at, inbox, 10_000))).toBe("")
        expect(module.received).not.toContain("AT+QIOTREG=1")
    })

    it("registers and follows 1/2/3 events to 3,10200", async () => {
        const { module, at, inbox } = setup()
        module.on("AT+QIOTSTATE?", "\r\n+QIOTSTATE: 1\r\n\r\nOK\r\n")
        module.on("AT+QIOTREG=1", [
            { data: "\r\nOK\r\n" },
            { after: 300, data: "\r\n+QIOTEVT: 1,10200\r\n" },
            { after: 300, data: "\r\n+QIOTEVT: 2,10200\r\n" },
            { after: 300, data: "\r\n+QIOTEVT: 3,10200\r\n" },
        ])
        expect(await run(subscribe(at, inbox, 10_000))).toBe("")
    })

    it("names a failing event", async () => {
        const { module, at, inbox } = setup()
        module.on("AT+QIOTSTATE?", "\r\n+QIOTSTATE: 1\r\n\r\nOK\r\n")
        module.on("AT+QIOTREG=1", [{ data: "\r\nOK\r\n" }, { after: 100, data: "\r\n+QIOTEVT: 1,10422\r\n" }])
        expect(await run(subscribe(at, inbox, 10_000))).toBe("+QIOTEVT: 1,10422")
    })

    it("a lost 3,10200 does not stall it: the state is asked again", async () => {
        const { module, at, inbox } = setup()
        let state = 1
        module.on("AT+QIOTSTATE?", () => `\r\n+QIOTSTATE: ${state}\r\n\r\nOK\r\n`)
        module.on("AT+QIOTREG=1", () => {
            setTimeout(() => (state = 8), 2000) // subscribed, but the event never comes
            return "\r\nOK\r\n"
        })
        const t0 = Date.now()
        expect(await run(subscribe(at, inbox, 60_000))).toBe("")
        expect(Date.now() - t0).toBeLessThanOrEqual(6000) // one poll period after the registration, not the deadline
        expect(module.received.filter(c => c === "AT+QIOTSTATE?").length).toBeGreaterThanOrEqual(2)
    })

    it("times out with a reason, and recover() retries until its own deadline", async () => {
        const { module, at, inbox } = setup()
        module.on("AT+QIOTSTATE?", "\r\n+QIOTSTATE: 1\r\n\r\nOK\r\n")
        module.on("AT+QIOTREG=1", "\r\nOK\r\n")
        expect(await run(subscribe(at, inbox, 12_000))).toBe("not subscribed within 12000 ms")
        const why = await run(recover(at, inbox, 3000, 8000), 60_000)
        expect(why).toBe("not subscribed within 3000 ms")
        expect(module.received.filter(c => c === "AT+QIOTREG=1").length).toBeGreaterThanOrEqual(3)
    })

    it("sessionLost: true only when the module answers with another state", async () => {
        const { module, at } = setup()
        module.on("AT+QIOTSTATE?", "\r\n+QIOTSTATE: 8\r\n\r\nOK\r\n")
        expect(await run(sessionLost(at))).toBe(false)
        module.on("AT+QIOTSTATE?", "\r\n+QIOTSTATE: 0\r\n\r\nOK\r\n")
        expect(await run(sessionLost(at))).toBe(true)
        module.on("AT+QIOTSTATE?", null) // no answer: it cannot tell
        expect(await run(sessionLost(at))).toBe(false)
    })
})

describe("plan actions", () => {
    it("retry an ERROR, give up after the retries, and never repeat one that timed out", async () => {
        const { module, at } = setup()
        let errors = 2
        module.on("AT+QIOTUPDATE=2", () => (errors-- > 0 ? "\r\nERROR\r\n" : "\r\nOK\r\n"))
        await run(planAction(at, OtaAction.NextPiece, 3))
        expect(module.received.filter(c => c === "AT+QIOTUPDATE=2")).toHaveLength(3)
        module.on("AT+QIOTUPDATE=1", "\r\nERROR\r\n")
        await expect(run(planAction(at, OtaAction.Accept, 1))).rejects.toBeInstanceOf(AtError)
        expect(module.received.filter(c => c === "AT+QIOTUPDATE=1")).toHaveLength(2)
        module.on("AT+QIOTUPDATE=3", null)
        await run(planAction(at, OtaAction.Installing, 3))
        expect(module.received.filter(c => c === "AT+QIOTUPDATE=3")).toHaveLength(1)
    })

    it("tryPlanAction swallows AT failures only", async () => {
        const { module, at } = setup()
        module.on("AT+QIOTUPDATE=0", "\r\nERROR\r\n")
        await run(tryPlanAction(at, OtaAction.Refuse))
        expect(module.received).toContain("AT+QIOTUPDATE=0")
    })
})
