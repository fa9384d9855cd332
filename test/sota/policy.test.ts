import { describe, expect, it } from "vitest"
import { csqToDbm, decidePlan, PolicyContext } from "../../src/sota/policy"
import { OtaOffer } from "../../src/qiot/events"
import { MAX_VERSION_LENGTH } from "../../src/flash/store-port"
import { MAX_VERSION } from "../../src/flash/store-records"

const offer: OtaOffer = { component: "STM32", source: "", target: "2_0_0", minBattery: 30, minSignal: -100, size: 27954 }
const ctx: PolicyContext = { component: "STM32", running: "1_0_0", allowDowngrade: false, battery: 80, signal: -75, slotSize: 32768 }

describe("plan policy: one rule at a time", () => {
    it("accepts a plan that passes every rule", () => {
        expect(decidePlan(offer, ctx)).toEqual({ accept: true, reason: null, detail: "" })
    })
    const cases: [string, Partial<OtaOffer>, Partial<PolicyContext>, string][] = [
        ["another component", { component: "ESP32" }, {}, "not-our-component"],
        ["the version that runs", { target: "1_0_0" }, {}, "same-version"],
        ["the same version spelled longer", { target: "1_0" }, {}, "same-version"],
        ["a delta from another version", { source: "1_5_0" }, {}, "wrong-source-version"],
        ["a delta from what runs, without an applier (a patch is not an image)", { source: "1_0_0" }, {}, "unsupported-package"],
        ["a delta of the version that failed here, whatever its size (the store keeps the image's)", { source: "1_0_0", size: 999 }, { rebuilds: true, failed: { version: "2_0_0", size: 27954 } }, "failed-before"],
        ["a package without a source of the version that failed here, whatever its size, when packages are rebuilt (a compressed package's size is its patch's)", { size: 999 }, { rebuilds: true, failed: { version: "2_0_0", size: 27954 } }, "failed-before"],
        ["a target longer than the store records", { target: "2_0_0_" + "x".repeat(28) }, {}, "bad-plan"],
        ["a target with a quote (it is quoted in AT+QIOTMCUVER)", { target: '2_0"0' }, {}, "bad-plan"],
        ["a downgrade", { target: "0_9_0" }, {}, "downgrade"],
        ["a pre-release of the version that runs (it precedes its release)", { target: "1_0_0_rc1" }, {}, "downgrade"],
        ["battery below the limit", {}, { battery: 29 }, "low-battery"],
        ["signal below the minimum", {}, { signal: -101 }, "weak-signal"],
        ["a package bigger than a slot", { size: 32769 }, {}, "too-large"],
        ["the package that failed its trial here", {}, { failed: { version: "2_0_0", size: 27954, md5: "00".repeat(16) } }, "failed-before"],
    ]
    for (const [what, o, c, reason] of cases)
        it(`refuses ${what}`, () => {
            const d = decidePlan({ ...offer, ...o }, { ...ctx, ...c })
            expect(d.accept).toBe(false)
            expect(d.reason).toBe(reason)
            expect(d.detail.length).toBeGreaterThan(0)
        })
    it("accepts at the limits: battery equal, signal equal, size equal to a slot, a target of 32 bytes", () => {
        expect(decidePlan({ ...offer, size: 32768, target: "2_0_0_" + "x".repeat(26) }, { ...ctx, battery: 30, signal: -100 }).accept).toBe(true)
    })
    it("the version limit is the store's", () => {
        expect(MAX_VERSION_LENGTH).toBe(MAX_VERSION)
    })
    it("a failed package is that version at that size: another version, or another package of it, is taken", () => {
        const failed = { version: "2_0_0", size: 27954 }
        expect(decidePlan({ ...offer, target: "2_0_1" }, { ...ctx, failed }).accept).toBe(true)
        expect(decidePlan({ ...offer, size: 27955 }, { ...ctx, failed }).accept).toBe(true)
        expect(decidePlan(offer, { ...ctx, failed: null }).accept).toBe(true)
    })
    it("accepts a delta from the version that runs when it has an applier (the rebuild checks the base)", () => {
        expect(decidePlan({ ...offer, source: "1_0_0" }, { ...ctx, rebuilds: true }).accept).toBe(true)
        expect(decidePlan({ ...offer, source: "1_5_0" }, { ...ctx, rebuilds: true }).reason).toBe("wrong-source-version")
    })
    it("allows a downgrade only when told to", () => {
        expect(decidePlan({ ...offer, target: "0_9_0" }, { ...ctx, allowDowngrade: true }).accept).toBe(true)
    })
    it("an unknown signal (CSQ 99) cannot refuse", () => {
        expect(decidePlan(offer, { ...ctx, signal: NaN }).accept).toBe(true)
    })
    it("maps AT+CSQ to dBm", () => {
        expect([csqToDbm(0), csqToDbm(17), csqToDbm(31), csqToDbm(99), csqToDbm(32), csqToDbm(-1)]).toEqual([-113, -79, -51, NaN, NaN, NaN])
    })
})
