// The tests `npm run mutate` runs against each mutant (tools/mutate.mjs): the unit and scenario
// tests of the image store, the download state machine and the policy, without the long sweeps
// (each mutant runs every test that covers it; a 20-second sweep per mutant would take hours; the
// bit-flip sweep, > 10 000 mounts per scenario, took over 120 s per run instrumented).
// The sweeps still run in `npm test`.
import { defineConfig } from "vitest/config"
import base from "./vitest.config"

// not mergeConfig: it would append this include list to the base's "test/**"
export default defineConfig({
    resolve: base.resolve,
    test: {
        environment: "node",
        // instrumented on a loaded machine a scenario can take minutes
        testTimeout: 600_000,
            include: [
                "test/flash/basics.test.ts",
                "test/flash/block-writer.test.ts",
                "test/flash/boot-decision.test.ts",
                "test/flash/boot-stage.test.ts",
                "test/flash/failed-trial.test.ts",
                "test/flash/image-store.test.ts",
                "test/flash/image-store-edges.test.ts",
                "test/flash/meta-log.test.ts",
                "test/flash/meta-log-edges.test.ts",
                "test/flash/state-fallback.test.ts",
                "test/flash/slot-io.test.ts",
                "test/flash/store-config.test.ts",
                "test/flash/store-journal.test.ts",
                "test/flash/store-records.test.ts",
                "test/flash/rebuild-store.test.ts",
                "test/flash/seq-wrap.test.ts",
                "test/flash/w25q.test.ts",
                "test/sota/flows.test.ts",
                "test/sota/engine.test.ts",
                "test/sota/policy.test.ts",
                // the engine's later unit and scenario tests (seconds each; not components.test.ts: its
                // 332-cut sweep is minutes instrumented)
                "test/sota/delta.test.ts",
                "test/sota/consent.test.ts",
                "test/sota/consent-engine.test.ts",
                "test/sota/outcome.test.ts",
                "test/sota/signed-images.test.ts",
                "test/sota/dead-mcu.test.ts",
                "test/sota/resume-identity.test.ts",
                "test/sota/bad-events.test.ts",
                "test/sota/silence.test.ts",
            ],
    },
})
