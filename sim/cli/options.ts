// `npm run sim` options. Bad input is a UsageError with one line of explanation (exit code 2).

import { readFileSync } from "node:fs"
import { FaultSpec, parseFault } from "./fault-spec"

export class UsageError extends Error {
    constructor(message: string) {
        super(message)
        this.name = "UsageError"
    }
}

export type EngineKind = "vm" | "node"

export interface SimOptions {
    engine: EngineKind
    image: Buffer | null
    size: number
    from: string
    to: string
    component: string
    /** module buffer (piece) size; 0: the whole package in one piece */
    piece: number
    block: number
    baud: number
    latency: number
    seed: number
    faults: FaultSpec[]
    trace: boolean
    json: boolean
    help: boolean
    /** --modem: a real module (serial port path or tcp://HOST:PORT) instead of the emulator; null: the emulator */
    modem: string | null
    /** serial rate of --modem */
    modemBaud: number
    /** seconds to wait for the module at first contact and after the link drops */
    modemWait: number
    /** --flash FILE: the MCU's NOR flash persists there (with --modem) */
    flash: string | null
    /** bytes per image slot of a new --flash file */
    slot: number
    /** --serve-module PORT: serve the emulator on 127.0.0.1:PORT (0: any free port); -1: off */
    serveModule: number
    /** --module-upgrade: upgrade the module's own firmware (DFOTA) from this location instead; null: SOTA */
    moduleUpgrade: string | null
}

export const DEFAULTS: SimOptions = {
    engine: "vm",
    image: null,
    size: 27954,
    from: "1_0_0",
    to: "2_0_0",
    component: "STM32",
    piece: 0,
    block: 1024,
    baud: 115200,
    latency: 5,
    seed: 1,
    faults: [],
    trace: false,
    json: false,
    help: false,
    modem: null,
    modemBaud: 115200,
    modemWait: 20,
    flash: null,
    slot: 512 * 1024,
    serveModule: -1,
    moduleUpgrade: null,
}

export const USAGE = `usage: npm run sim -- [options]
  --engine vm|node     where the firmware runs (node: the same portable code in-process)
  --image FILE         the new image (default: a generated one of --size bytes)
  --size BYTES         size of the generated image (default ${DEFAULTS.size})
  --from VER --to VER  versions, QuecThing style (default ${DEFAULTS.from} → ${DEFAULTS.to})
  --component NAME     MCU component (default ${DEFAULTS.component})
  --piece BYTES        the module's buffer: the package comes in pieces of this size (default: one piece)
  --block BYTES        largest AT+QIOTOTARD block (default ${DEFAULTS.block})
  --baud N             UART rate, 8N1; 0 = unpaced (default ${DEFAULTS.baud})
  --latency MS         module response latency per command (default ${DEFAULTS.latency})
  --seed N             seed for generated data and random faults (default ${DEFAULTS.seed})
  --fault SPEC         repeatable; see below
  --trace              print the AT dialogue (binary payloads as a length)
  --json               print only the summary, as one JSON object on the last line
  --modem WHERE        drive a real module instead of the emulator: a serial port (/dev/ttyUSB2, COM7)
                       or tcp://HOST:PORT; implies --engine node (docs/MODEM.md)
  --modem-baud N       serial rate for --modem (default ${DEFAULTS.modemBaud})
  --modem-wait S       seconds to wait for the module's answer, and for a dropped link (default ${DEFAULTS.modemWait})
  --flash FILE         with --modem: the MCU's flash lives in FILE (an interrupted run resumes from it)
  --slot BYTES         with --modem: image slot size of a new --flash file (default ${DEFAULTS.slot})
  --serve-module PORT  serve the module emulator on tcp://127.0.0.1:PORT (0: any free port) until Ctrl-C
  --module-upgrade URL upgrade the module's own firmware (DFOTA) from HTTP://, FTP:// or UFS: instead of
                       the MCU's; the emulator serves a package there (node engine)
faults:
  cut@block=N[:before|after|torn]   power cut at the flash write of download block N (default torn)
  cut@op=N[:before|after|torn]      power cut at the N-th flash program/erase after the first boot
  reboot@block=N                    the module reboots in the middle of its reply to block N
  drop@byte=N | corrupt@byte=N | dup@byte=N     one byte of the module → MCU stream (0-based)
  drop@rate=P | corrupt@rate=P                  seeded byte faults, probability per byte
  lie@block=N                       the reply header to block N claims 5 bytes more than follow
  error@CMD[:nth] | timeout@CMD[:nth]           ERROR or no reply to a command (prefix, e.g. AT+QIOTUPDATE=3)
  bad-digest                        the delivered bytes do not match the announced MD5/SHA-256
  cloud-loss@block=N                the platform connection drops at block N (the plan fails, 10706)
  self-test-fail                    the new image fails its self-test (rolled back)`

function int(name: string, v: string, min: number, max: number): number {
    if (v === undefined) throw new UsageError(`${name} needs a value`)
    if (!/^\d+$/.test(v)) throw new UsageError(`${name} must be a whole number, got "${v}"`)
    const n = Number(v)
    if (n < min || n > max) throw new UsageError(`${name} must be between ${min} and ${max}, got ${n}`)
    return n
}

function version(name: string, v: string): string {
    if (!v || !/^[A-Za-z0-9_.]{1,32}$/.test(v)) throw new UsageError(`${name} must be a version like 1_0_0 or V1_0, got "${v ?? ""}"`)
    return v
}

export function parseOptions(argv: string[]): SimOptions {
    const o: SimOptions = { ...DEFAULTS, faults: [] }
    for (let i = 0; i < argv.length; i++) {
        const a = argv[i]
        const next = () => argv[++i]
        switch (a) {
            case "--engine": {
                const v = next()
                if (v !== "vm" && v !== "node") throw new UsageError(`--engine must be vm or node, got "${v ?? ""}"`)
                o.engine = v
                break
            }
            case "--image": {
                const f = next()
                if (!f) throw new UsageError("--image needs a file")
                try {
                    o.image = readFileSync(f)
                } catch (e: any) {
                    throw new UsageError(`--image ${f}: ${e.code === "ENOENT" ? "no such file" : e.message}`)
                }
                if (o.image.length === 0) throw new UsageError(`--image ${f}: the file is empty`)
                break
            }
            case "--size":
                o.size = int(a, next(), 1, 16 * 1024 * 1024)
                break
            case "--from":
                o.from = version(a, next())
                break
            case "--to":
                o.to = version(a, next())
                break
            case "--component": {
                const v = next()
                if (!v || !/^[A-Za-z0-9_]{1,32}$/.test(v)) throw new UsageError(`--component must be a name like STM32, got "${v ?? ""}"`)
                o.component = v
                break
            }
            case "--piece":
                o.piece = int(a, next(), 1, 16 * 1024 * 1024)
                break
            case "--block":
                o.block = int(a, next(), 16, 4096)
                break
            case "--baud":
                o.baud = int(a, next(), 0, 4_000_000)
                if (o.baud > 0 && o.baud < 1200) throw new UsageError(`--baud must be 0 (unpaced) or at least 1200, got ${o.baud}`)
                break
            case "--latency":
                o.latency = int(a, next(), 0, 10_000)
                break
            case "--seed":
                o.seed = int(a, next(), 0, 2 ** 31 - 1)
                break
            case "--fault": {
                const v = next()
                if (!v) throw new UsageError("--fault needs a spec (see --help)")
                o.faults.push(parseFault(v))
                break
            }
            case "--trace":
                o.trace = true
                break
            case "--json":
                o.json = true
                break
            case "--modem": {
                const v = next()
                if (!v || v.startsWith("--")) throw new UsageError("--modem needs a serial port (/dev/ttyUSB2, COM7) or tcp://HOST:PORT")
                o.modem = v
                break
            }
            case "--modem-baud":
                o.modemBaud = int(a, next(), 1200, 4_000_000)
                break
            case "--modem-wait":
                o.modemWait = int(a, next(), 1, 600)
                break
            case "--flash": {
                const v = next()
                if (!v || v.startsWith("--")) throw new UsageError("--flash needs a file")
                o.flash = v
                break
            }
            case "--slot":
                o.slot = int(a, next(), 4096, 16 * 1024 * 1024)
                break
            case "--serve-module":
                o.serveModule = int(a, next(), 0, 65535)
                break
            case "--module-upgrade": {
                const v = next()
                if (v === undefined || v.startsWith("--")) throw new UsageError("--module-upgrade needs a location (HTTP://, FTP:// or UFS:)")
                o.moduleUpgrade = v // validated by src/dfota before anything is sent, like on the device
                break
            }
            case "--help":
            case "-h":
                o.help = true
                break
            default:
                throw new UsageError(`unknown option "${a}" (see --help)`)
        }
    }
    if (o.from === o.to) throw new UsageError(`--from and --to are the same version (${o.from})`)
    if (o.modem !== null) {
        if (o.engine === "vm" && argv.includes("--engine")) throw new UsageError("--modem runs the firmware's code in this process: use --engine node")
        o.engine = "node"
        if (o.faults.length) throw new UsageError("--fault acts on the emulator; it cannot be used with --modem")
        if (o.serveModule >= 0) throw new UsageError("--serve-module serves the emulator; it cannot be used with --modem")
    } else if (o.flash !== null) throw new UsageError("--flash goes with --modem (the emulator's platform does not persist)")
    if (o.moduleUpgrade !== null) {
        if (o.modem !== null || o.serveModule >= 0) throw new UsageError("--module-upgrade runs against the emulator; it cannot be used with --modem or --serve-module")
        if (o.faults.length) throw new UsageError("--fault acts on a SOTA upgrade; it cannot be used with --module-upgrade")
        o.engine = "node"
    }
    return o
}
