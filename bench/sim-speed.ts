// `npm run bench:sim`: how close the simulator's upgrade comes to its floors (issue 6), for the
// default package (the 2_0_0 firmware image, ≈ 71 KB) at 115 200 baud, a few runs per engine, the
// CLI exactly as a person runs it; the whole run's wall time beside the download's.
//   node engine: the UART is the only floor; target download ≤ 1.05 × floor.
//   vm engine: the floor is the larger of the UART floor and the VM → host link (≈ 50 packets/s);
//              target ≤ 1.15 × floor.
import { execFileSync } from "node:child_process"

const root = new URL("..", import.meta.url).pathname
const RUNS = Number(process.argv[2] || 3)

function sim(engine: string) {
    const out = execFileSync(
        process.execPath,
        ["node_modules/vite-node/vite-node.mjs", "--config", "vitest.config.ts", "sim/cli/main.ts", "--", "--engine", engine, "--baud", "115200", "--json"],
        { cwd: root, encoding: "utf8", timeout: 300_000 }
    )
    return JSON.parse(out.trim().split("\n").pop())
}

for (const [engine, target] of [["node", 1.05], ["vm", 1.15]] as const) {
    const ratios: number[] = []
    for (let i = 0; i < RUNS; i++) {
        const s = sim(engine)
        if (s.result !== "upgraded" || s.runningVersion !== "2_0_0") throw new Error(`${engine}: ${s.result} ${s.reason}, running ${s.runningVersion}`)
        ratios.push(s.floorRatio)
        console.log(
            `${engine}: download ${s.downloadSeconds} s, UART floor ${s.uartFloorSeconds} s, floor ${s.floorSeconds} s, ` +
                `ratio ${s.floorRatio} (total ${s.seconds} s, ${s.imageBytes} bytes)`
        )
    }
    const worst = Math.max(...ratios)
    console.log(`${engine}: ratio ${Math.min(...ratios)}–${worst} over ${RUNS} runs; target ≤ ${target}: ${worst <= target ? "met" : "NOT met"}`)
}
