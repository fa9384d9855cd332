import { defineConfig } from "vitest/config"
import { fileURLToPath } from "node:url"

export default defineConfig({
    resolve: {
        alias: {
            // portable src/ modules import a tiny @devicescript/core surface; in Node it is this shim
            "@devicescript/core": fileURLToPath(new URL("./test/shims/devicescript-core.ts", import.meta.url)),
        },
    },
    test: {
        include: ["test/**/*.test.ts"],
        exclude: ["test/vm/**", "node_modules/**"],
        environment: "node",
    },
})
