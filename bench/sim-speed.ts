// `npm run bench:sim [runs]`: how close the simulator's upgrade comes to the UART floor (the
// download phase's bytes at the line rate plus the module's latency per command), for the default
// package (the 2_0_0 firmware image, ≈ 72 KB), the CLI exactly as a person runs it. One line per
// case, the worst of the runs:
//     bench:sim <engine> <baud> baud: download/UART floor N.NNN (goal G)
// The VM's own link (its Jacdac packets at ≈ 50/s: the AT commands; the flash goes over a socket)
// is a second floor that the summary reports (linkFloorSeconds; floorSeconds is the larger); the
// goal here is against the UART, which a board would have.
import { execFileSync } from "node:child_process"

const root = new URL("..", import.meta.url).pathname
const RUNS = Number(process.argv[2] || 3)
const CASES: [engine: string, baud: number, goal: number][] = [
    ["node", 115200, 1.05],
    ["node", 921600, 1.1],
    ["vm", 115200, 1.15],
]

function sim(engine: string, baud: number) {
    const out = execFileSync(
        process.execPath,
        ["node_modules/vite-node/vite-node.mjs", "--config", "vitest.config.ts", "sim/cli/main.ts", "--", "--engine", engine, "--baud", String(baud), "--json"],
        { cwd: root, encoding: "utf8", timeout: 300_000 }
    )
    return JSON.parse(out.trim().split("\n").pop()!)
}

for (const [engine, baud, goal] of CASES) {
    const ratios: number[] = []
    for (let i = 0; i < RUNS; i++) {
        process.stderr.write(`bench:sim: ${engine} at ${baud} baud, run ${i + 1} of ${RUNS}…\n`)
        const s = sim(engine, baud)
        if (s.result !== "upgraded" || s.runningVersion !== "2_0_0") throw new Error(`${engine}: ${s.result} ${s.reason}, running ${s.runningVersion}`)
        ratios.push(s.downloadSeconds / s.uartFloorSeconds)
        process.stderr.write(
            `  download ${s.downloadSeconds} s, UART floor ${s.uartFloorSeconds} s, engine floor ${s.floorSeconds} s` +
                `${s.linkFloorSeconds === undefined ? "" : ` (simulator link ${s.linkFloorSeconds} s)`}, run ${s.seconds} s, ${s.imageBytes} bytes\n`
        )
    }
    const worst = Math.max(...ratios)
    console.log(`bench:sim ${engine} ${baud} baud: download/UART floor ${worst.toFixed(3)} (goal ${goal})${worst <= goal ? "" : " NOT met"}; best ${Math.min(...ratios).toFixed(3)} over ${RUNS} runs`)
}
