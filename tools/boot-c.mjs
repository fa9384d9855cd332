#!/usr/bin/env node
// The C step of `npm test`: the board's boot stage (boot/) against the TypeScript store, built twice:
// plain, and signed (-DBS_SIGNATURES: the image must carry a trusted Ed25519 signature and a
// security counter at least the store's, as the TypeScript stage checks with keys).
//   1. tools/boot-vectors.ts writes the shared vectors into .devicescript/boot-c (not committed):
//      the plain set, the signed set (--signed) and the Ed25519 verifier's cases (--ed25519);
//   2. gcc builds the host test (boot/test: a W25Q model on NOR images, a fake devsmgr) with the
//      address and undefined-behaviour sanitizers, and runs it on every vector: it prints
//      `boot vectors: N vectors, D disagreements`, the deploy and record power-cut lines and the
//      limits only the C stage meets (a program too big for fstor, a bad buffer or layout, no chip)
//      and the SHA-256 on FIPS 180-2's examples; the vectors whose metadata erase fails, again on a
//      chip whose failed erase stops half way silently and still takes programs. The signed build
//      runs the same test on the signed set, and boot/test/crypto_test.c runs its Ed25519 and
//      SHA-512 on the cases (RFC 8032, node:crypto's signatures and flipped bits, the strict rules'
//      edges with the TypeScript's reasons), then, built -O2, times a verification on this host;
//   3. arm-none-eabi-gcc builds each variant for Cortex-M0+ and prints its sizes, with the stack the
//      call graph needs; the image must use no heap, no floating point and no C library.
// Needs gcc and Debian's gcc-arm-none-eabi with libnewlib-arm-none-eabi (.ci/run installs them);
// without them it fails and says so, it never skips. Writes summary.json for test/boot-c.
import { execFileSync, spawnSync } from "node:child_process"
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { join } from "node:path"

const root = new URL("..", import.meta.url).pathname
const out = join(root, ".devicescript/boot-c")
const boot = join(root, "boot")
const stage = readdirSync(boot).filter(f => f.endsWith(".c")).map(f => join(boot, f))
const hostTest = ["host_test.c", "nor_spi.c", "fake_devsmgr.c"].map(f => join(boot, "test", f))
const CROSS = ["-std=c99", "-Os", "-mcpu=cortex-m0plus", "-mthumb", "-fno-tree-loop-distribute-patterns", "-fno-tree-dominator-opts", "-fno-code-hoisting", "-Wall", "-Wextra", "-Werror"]
const fail = msg => {
    console.error(`boot-c: ${msg}`)
    process.exit(1)
}

function need(tool, debian) {
    if (spawnSync(tool, ["--version"], { stdio: "ignore" }).status !== 0)
        fail(`${tool} is missing: apt-get install ${debian} (.ci/run does). The C boot stage is not tested without it.`)
}

function run(cmd, args, opts = {}) {
    const r = spawnSync(cmd, args, { cwd: root, encoding: "utf8", maxBuffer: 1 << 26, ...opts })
    if (r.error) fail(`${cmd}: ${r.error.message}`)
    return r
}

need("gcc", "gcc")
need("arm-none-eabi-gcc", "gcc-arm-none-eabi libnewlib-arm-none-eabi")
rmSync(out, { recursive: true, force: true })
mkdirSync(out, { recursive: true })
const summary = {}

// 1. vectors: the plain set, the signed set, the verifier's cases (2 000 keys)
for (const args of [["--out", join(out, "vectors.bin")], ["--out", join(out, "signed-vectors.bin"), "--signed"], ["--ed25519", join(out, "ed25519-cases.bin"), "2000"]]) {
    const gen = run(join(root, "node_modules/.bin/vite-node"), ["--config", "vitest.config.ts", "tools/boot-vectors.ts", "--", ...args], { stdio: ["ignore", "inherit", "inherit"] })
    if (gen.status !== 0) fail(`the vector generator failed (${args.join(" ")})`)
}

// 2. host tests (BS_HOST: the SHA-256 steps, static on the board, are exported for the fake devsmgr)
const SANITIZE = ["-std=c99", "-DBS_HOST", "-O1", "-g", "-Wall", "-Wextra", "-Werror", "-fsanitize=address,undefined", "-fno-sanitize-recover=all"]
const num = (re, text) => {
    const m = re.exec(text)
    return m ? m.slice(1).map(Number) : null
}
let failed = false
function runHostTest(name, defines, files) {
    const exe = join(out, `host-test${name}`)
    const cc = run("gcc", [...SANITIZE, ...defines, ...stage, ...hostTest, "-o", exe], { stdio: ["ignore", "inherit", "inherit"] })
    if (cc.status !== 0) fail(`the host test${name} does not build`)
    const ht = run(exe, files.map(f => join(out, f)))
    process.stdout.write(ht.stdout)
    process.stderr.write(ht.stderr)
    const vec = num(/boot vectors: (\d+) vectors, (\d+) disagreements/, ht.stdout)
    const dep = num(/deploy power cuts: (\d+) points, (\d+) failures/, ht.stdout)
    const rec = num(/record power cuts: (\d+) points for the TypeScript check, (\d+) flash violations/, ht.stdout)
    const lim = num(/boot stage limits: (\d+) checks, (\d+) failures/, ht.stdout)
    const kat = num(/sha-256 known answers: (\d+) messages, (\d+) failures/, ht.stdout)
    const silent = num(/silent erase failures: (\d+) vectors, (\d+) erases left half done, (\d+) disagreements/, ht.stdout)
    if (!vec || !dep || !rec || !lim || !kat || !silent) fail(`the host test${name} did not report (exit ${ht.status})`)
    if (ht.status !== 0) failed = true
    return { vectors: vec[0], disagreements: vec[1], deployCuts: dep[0], deployFailures: dep[1], recordCuts: rec[0], flashViolations: rec[1], limits: lim[0], limitFailures: lim[1], shaAnswers: kat[0], shaFailures: kat[1], silentVectors: silent[0], silentErases: silent[1], silentDisagreements: silent[2] }
}
Object.assign(summary, runHostTest("", [], ["vectors.bin", "c-results.bin", "c-cuts.bin"]))
console.log("signed build (BS_SIGNATURES), on the signed set:")
summary.signed = runHostTest("-signed", ["-DBS_SIGNATURES"], ["signed-vectors.bin", "c-signed-results.bin", "c-signed-cuts.bin"])

// the signed build's Ed25519 and SHA-512 on their cases, sanitized; then timed, built -O2
const cryptoSrc = [join(boot, "ed25519.c"), join(boot, "sha512.c"), join(boot, "test/crypto_test.c")]
const ct = join(out, "crypto-test")
if (run("gcc", [...SANITIZE, "-DBS_SIGNATURES", ...cryptoSrc, "-o", ct], { stdio: ["ignore", "inherit", "inherit"] }).status !== 0) fail("crypto_test does not build")
const cr = run(ct, [join(out, "ed25519-cases.bin")])
process.stdout.write(cr.stdout + cr.stderr)
const ed = num(/ed25519 cases: (\d+) cases \(rfc8032 (\d+), valid (\d+), flipped (\d+), edges (\d+)\), (\d+) disagreements with the TypeScript, (\d+) with node:crypto/, cr.stdout)
const sha512 = num(/sha-512 answers: (\d+) messages, (\d+) failures/, cr.stdout)
if (!ed || !sha512) fail(`crypto_test did not report (exit ${cr.status})`)
if (cr.status !== 0) failed = true
const cb = join(out, "crypto-bench")
if (run("gcc", ["-std=c99", "-DBS_HOST", "-DBS_SIGNATURES", "-O2", ...cryptoSrc, "-o", cb], { stdio: ["ignore", "inherit", "inherit"] }).status !== 0) fail("the crypto bench does not build")
const bench = run(cb, [join(out, "ed25519-cases.bin"), "--bench"])
process.stdout.write(bench.stdout + bench.stderr)
const timing = num(/ed25519 verify \(host, gcc -O2\): (\d+) us of CPU per signature .* (\d+) field multiplications each \((\d+) of them squarings\)/, bench.stdout)
if (!timing || bench.status !== 0) fail("the crypto bench did not report")
summary.ed25519 = { cases: ed[0], rfc8032: ed[1], valid: ed[2], flipped: ed[3], edges: ed[4], disagreements: ed[5], nodeDisagreements: ed[6], sha512Answers: sha512[0], sha512Failures: sha512[1], hostMicros: timing[0], fieldMuls: timing[1], squarings: timing[2] }

// 3. Cortex-M0+: the stage and a stub port (boot/test/arm_stubs.c), linked, the stub's own bytes taken off
const size = f => {
    const [text, data, bss] = execFileSync("arm-none-eabi-size", [f], { encoding: "utf8" }).trim().split("\n")[1].trim().split(/\s+/).map(Number)
    return { text, data, bss }
}
function cross(name, defines) {
    const dir = join(out, `m0-${name}`)
    mkdirSync(dir, { recursive: true })
    const obj = f => join(dir, f.split("/").pop().replace(/\.c$/, ".o"))
    for (const f of [...stage, join(boot, "test/arm_stubs.c")]) {
        const r = run("arm-none-eabi-gcc", [...CROSS, ...defines, "-fcallgraph-info=su", "-c", f, "-o", obj(f), "-dumpdir", dir + "/"], { stdio: ["ignore", "inherit", "inherit"] })
        if (r.status !== 0) fail(`${f} does not build for Cortex-M0+ (${name})`)
    }
    const elf = join(dir, "stage.elf")
    const objs = [...stage, join(boot, "test/arm_stubs.c")].map(obj)
    const ld = run("arm-none-eabi-gcc", [...CROSS, "--specs=nano.specs", "-nostartfiles", "-Wl,--gc-sections", "-Wl,-e,bs_cross_entry", ...objs, "-o", elf], { stdio: ["ignore", "inherit", "inherit"] })
    if (ld.status !== 0) fail(`the Cortex-M0+ link failed (${name})`)
    const all = size(elf)
    const stub = size(obj(join(boot, "test/arm_stubs.c")))
    const text = all.text - stub.text
    const data = all.data - stub.data
    const bss = all.bss - stub.bss // the stub holds the 512-byte copy buffer: the caller's
    const syms = execFileSync("arm-none-eabi-nm", [elf], { encoding: "utf8" })
    // no compiler helper either (64-bit shifts and multiplications included: the signed build's SHA-512 once called __aeabi_llsr)
    const banned = syms.split("\n").map(l => l.trim().split(/\s+/).pop()).filter(s => /^(malloc|calloc|realloc|free|_sbrk|memcpy|memset|memmove|__aeabi_\w+|__\w+[sd]i3|__gnu_\w+)$/.test(s))
    if (banned.length) fail(`the Cortex-M0+ image (${name}) calls ${banned.join(", ")}: no heap, no floating point, no C library, no compiler helpers`)

    // the deepest stack: frames from -fcallgraph-info=su along the call graph from bs_boot_stage
    const frames = new Map()
    const edges = new Map()
    for (const f of readdirSync(dir).filter(f => f.endsWith(".ci") && f !== "arm_stubs.ci")) {
        const ci = readFileSync(join(dir, f), "utf8")
        for (const m of ci.matchAll(/node: \{ title: "([^"]+)" label: "[^"\\]*(?:\\n[^"\\]*)*?\\n(\d+) bytes/g)) frames.set(m[1].split(":").pop(), Number(m[2]))
        for (const m of ci.matchAll(/edge: \{ sourcename: "([^"]+)" targetname: "([^"]+)"/g)) {
            const from = m[1].split(":").pop()
            if (!edges.has(from)) edges.set(from, new Set())
            edges.get(from).add(m[2].split(":").pop())
        }
    }
    const deepest = (fn, seen = new Set()) => {
        if (seen.has(fn)) fail(`recursion through ${fn}`)
        const next = new Set(seen).add(fn)
        let most = 0
        for (const t of edges.get(fn) || []) most = Math.max(most, deepest(t, next))
        return (frames.get(fn) || 0) + most
    }
    if (!frames.has("bs_boot_stage")) fail(`no call graph for bs_boot_stage (${name})`)
    return { text, data, bss, stack: deepest("bs_boot_stage") }
}

const plain = cross("plain", [])
const { text, data, bss, stack } = plain
console.log(`boot stage (cortex-m0plus): text ${text} B, data ${data} B, bss ${bss} B`)
// The code goal (issue 19) is under 4 KB: met at 4 004 B. The ceiling is today's figure and a few bytes:
// code that grows past it fails here, so a cut stays cut (5 640 B, then 5 548 B; 4 300 B after the redesign,
// 4 176 B after layout and inlining cuts, 4 160 B with two GCC passes off, 4 156 B with the SPI header as one word,
// 4 124 B without -ffunction-sections/-fdata-sections: one data section per object lets GCC's section
// anchors address the statics from one literal (-24 B), one text section lets calls stay short (-8 B);
// 4 112 B with w25q_buf/w25q_cap defined beside the stage's statics, 4 116 B with the SHA-256 padding
// fixed, 4 020 B with SHA-256's H0 and K computed at the first hash instead of tabled, 4 004 B with the
// copy buffer's address and size in one struct and the BOOT log's flags as the decision's bytes; 4 004 B again
// after the 32-bit security counter's format 2 (+16 B), three literals replaced by shifts and sums: docs/BOARDS.md).
// -fno-tree-dominator-opts -fno-code-hoisting: 16 B less with -Os (GCC 12.2; each alone and
// ~70 other single -fno-* flags measured, none else smaller, -Oz the same as -Os).
const CODE_GOAL = 4096, CODE_CEILING = 4008
console.log(`boot stage (cortex-m0plus): code goal ${CODE_GOAL} B ${text < CODE_GOAL ? "met" : `NOT met (${text - CODE_GOAL + 1} B over)`}, ceiling ${CODE_CEILING} B`)
console.log(`boot stage (cortex-m0plus): stack at most ${stack} B (call graph; the port's own frames aside); RAM ${data + bss + stack} B besides the copy buffer`)
Object.assign(summary, { text, data, bss, stack })

// The signed variant (BS_SIGNATURES): Ed25519 and SHA-512 in C (boot/ed25519.c, boot/sha512.c), the
// trusted keys (boot/bs_keys.h), the signature rules in the image check. No goal of its own (the
// stage it adds to is the 4 KB one); its ceiling is today's figure and a few bytes, as the plain one's
// (8 312 B first; 8 472 B with the addition chains and the squaring, 3 966 -> 3 490 field multiplications;
// 8 448 B with SHA-512's digest put out by constant shifts, no __aeabi_llsr; 8 444 B with 16-bit limbs
// in memory, the stack 1 712 -> 1 232 B).
const signed = cross("signed", ["-DBS_SIGNATURES"])
const SIGNED_CEILING = 8452
console.log(`boot stage, signed (cortex-m0plus): text ${signed.text} B, data ${signed.data} B, bss ${signed.bss} B, stack at most ${signed.stack} B; ceiling ${SIGNED_CEILING} B`)
Object.assign(summary.signed, signed)
writeFileSync(join(out, "summary.json"), JSON.stringify(summary, null, 1) + "\n")
if (failed) fail("a host test failed (above)")
if (text >= CODE_CEILING) fail(`the stage's code grew to ${text} B (ceiling ${CODE_CEILING} B)`)
if (signed.text >= SIGNED_CEILING) fail(`the signed stage's code grew to ${signed.text} B (ceiling ${SIGNED_CEILING} B)`)
