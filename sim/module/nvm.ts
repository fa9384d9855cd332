// What the module keeps across a reboot ("saved automatically", as the AT manual says of
// AT+QIOTCFG, AT+QIOTREG and AT+QIOTMCUVER), and the defaults of a module fresh from the
// factory. Everything else (echo, connection state, a piece of a package) is RAM and is lost.

import type { FotaFile } from "./dfota"

export interface PdpContext {
    type: number
    apn: string
    user: string
    password: string
    auth: number
}

export interface ModuleNvm {
    productKey: string
    productSecret: string
    serverType: number
    serverUrl: string
    lifetime: number
    bufferMode: number
    contextId: number
    sessionMode: number
    tslMode: number
    txidMode: number
    /** AT+QIOTCFG="dk_ds": a custom DeviceKey (else the IMEI) and DeviceSecret. */
    customDk: string
    customDs: string
    /** The DeviceSecret the platform issued at the first authentication. */
    deviceSecret: string | null
    /** AT+QIOTREG mode: 0 off, 1 manual, 2 connect at power-on. */
    regMode: number
    /** AT+QIOTMCUVER entries, in the order they were first set. */
    mcuVersions: [string, string][]
    /** AT+QCFG="fota/cid". */
    fotaCid: number
    /** AT+QICSGP contexts by id. */
    pdpContexts: Map<number, PdpContext>
    /** The module's firmware revision (ATI), changed by a DFOTA upgrade. */
    revision: string
    /** Files in the module's file system (UFS:), for AT+QFOTADL="UFS:<file>". */
    ufsFiles: Map<string, FotaFile>
}

export const DEFAULT_SERVER = "mqtt://iot-south.quectelcn.com:1883"

export function defaultNvm(revision: string): ModuleNvm {
    return {
        productKey: "",
        productSecret: "",
        serverType: 1,
        serverUrl: DEFAULT_SERVER,
        lifetime: 120,
        bufferMode: 0,
        contextId: 1,
        sessionMode: 0,
        tslMode: 0,
        txidMode: 0,
        customDk: "",
        customDs: "",
        deviceSecret: null,
        regMode: 0,
        mcuVersions: [],
        fotaCid: 1,
        pdpContexts: new Map([[1, { type: 1, apn: "", user: "", password: "", auth: 0 }]]),
        revision,
        ufsFiles: new Map(),
    }
}
