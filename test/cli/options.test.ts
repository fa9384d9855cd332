// `npm run sim` options (sim/cli/options.ts): what each kind of run accepts, and what it refuses
// with one line instead of ignoring it.
import { describe, expect, it } from "vitest"
import { parseOptions, USAGE, UsageError } from "../../sim/cli/options"

const refused = (args: string[]) => expect(() => parseOptions(args)).toThrow(UsageError)

describe("options", () => {
    it("a same-version plan can be asked for: --from X --to X", () => {
        expect(parseOptions(["--from", "2_0_0", "--to", "2_0_0"])).toMatchObject({ from: "2_0_0", to: "2_0_0" })
    })

    it("--modem: --from is the factory image's version; --to and the emulator's options play no part and are refused", () => {
        expect(parseOptions(["--modem", "tcp://127.0.0.1:9", "--from", "2_0_0"])).toMatchObject({ from: "2_0_0", engine: "node" })
        for (const extra of [["--to", "3_0_0"], ["--baud", "0"], ["--latency", "1"], ["--piece", "4096"], ["--seed", "2"], ["--fault", "bad-digest"]])
            refused(["--modem", "tcp://127.0.0.1:9", ...extra])
        expect(() => parseOptions(["--modem", "tcp://127.0.0.1:9", "--to", "2_0_0"])).toThrow("--to does not apply with --modem")
    })

    it("--module-upgrade: the location is checked before anything runs; --engine vm and SOTA options are refused", () => {
        expect(parseOptions(["--module-upgrade", "UFS:delta.bin"])).toMatchObject({ engine: "node", moduleUpgrade: "UFS:delta.bin" })
        expect(() => parseOptions(["--module-upgrade", "HTTP://"])).toThrow(/--module-upgrade HTTP:\/\/: .*host-empty/)
        expect(() => parseOptions(["--module-upgrade", "gopher://x/y"])).toThrow(UsageError)
        expect(() => parseOptions(["--module-upgrade", "UFS:a.bin", "--engine", "vm"])).toThrow("--engine vm is not supported")
        for (const extra of [["--to", "3_0_0"], ["--image", "bad:throws"], ["--piece", "4096"], ["--fault", "bad-digest"], ["--modem", "tcp://127.0.0.1:9"]])
            refused(["--module-upgrade", "UFS:a.bin", ...extra])
    })

    it("--serve-module: faults on the MCU side are refused at once", () => {
        expect(() => parseOptions(["--serve-module", "0", "--fault", "cut@op=3"])).toThrow("acts on the MCU side")
        expect(parseOptions(["--serve-module", "0", "--fault", "reboot@block=6"]).faults).toHaveLength(1)
    })

    it("options of --modem alone are refused without it", () => {
        for (const extra of [["--modem-baud", "9600"], ["--modem-wait", "3"], ["--slot", "65536"], ["--flash", "x.nor"]]) refused(extra)
    })

    it("--delta and --compressed: a package built from the firmware images; one of them, and not where the package comes from elsewhere", () => {
        expect(parseOptions([]).packageKind).toBe("full")
        expect(parseOptions(["--delta"])).toMatchObject({ packageKind: "delta", from: "1_0_0", to: "2_0_0" })
        expect(parseOptions(["--compressed", "--image", "bad:throws"])).toMatchObject({ packageKind: "compressed", bad: "throws" })
        expect(() => parseOptions(["--delta", "--compressed"])).toThrow("give one")
        expect(() => parseOptions(["--delta", "--size", "90000"])).toThrow("--size does not apply")
        expect(() => parseOptions(["--delta", "--image", "package.json"])).toThrow("--image FILE does not apply")
        expect(() => parseOptions(["--delta", "--from", "2_0_0", "--to", "2_0_0"])).toThrow("two versions")
        for (const mode of [["--modem", "tcp://127.0.0.1:9"], ["--module-upgrade", "UFS:a.bin"], ["--serve-module", "0"]]) refused([...mode, "--delta"])
        expect(USAGE).toContain("--delta")
        expect(USAGE).toContain("--compressed")
    })

    it("the firmware profile follows the run: delta for --delta and --compressed (the rebuilder), signed otherwise; --help says why", () => {
        expect(parseOptions([]).profile).toBe("signed")
        expect(parseOptions(["--image", "bad:unsigned"]).profile).toBe("signed")
        expect(parseOptions(["--delta"]).profile).toBe("delta")
        expect(parseOptions(["--compressed"]).profile).toBe("delta")
        expect(parseOptions(["--engine", "node", "--delta"]).profile).toBe("delta")
        expect(USAGE).toMatch(/firmware profiles[^]*65 424 B[^]*signed[^]*delta\s+--delta, --compressed/)
    })

    it("--strict, and the exit codes in --help", () => {
        expect(parseOptions(["--strict"]).strict).toBe(true)
        expect(parseOptions([]).strict).toBe(false)
        for (const code of ["0 ", "1 ", "2 ", "3 ", "4 "]) expect(USAGE).toContain(`\n  ${code} `)
        expect(USAGE).toContain("--strict")
    })
})
