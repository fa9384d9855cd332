// VM bench: Ed25519 verification in DeviceScript's own VM, as MCUboot's ED25519 TLV uses it (the
// message is the image's 32-byte SHA-256). Run under `devs run --test`, so GC stress is on and the
// figures are pessimistic; the VM's clock only moves between slices, so every figure is taken
// across yields. npm run bench:ed25519:vm adds the heap and bytecode figures (bench/ed25519-vm.ts).
import * as ds from "@devicescript/core"
import { checkEd25519 } from "../../src/crypto/ed25519"
import { fe } from "../../src/crypto/field25519"
import { mul } from "../../src/crypto/field-mul"
import { S, dbl, madd, newWork, setup } from "../../src/crypto/edwards25519"

// seed byte i = (31 i + 7) & 0xff, message = SHA-256("bench image body"), signed by pyca/cryptography
const KEY = "caf538c1a666da74cd49d0a3dbe45f7f886ca256f82ba8e8e56f71a5f905043d"
const MSG = "5c2b7ba2317d9e0d9f658f56ca8c4dfd3527b2014b140f61301d32950310519d"
const SIG =
    "ffcdbdb05319e7d3f63e15279bb36d527eab1c57afb459b1094a04b9c21ee820" +
    "e4059689baea3fbbecb1a9315176304c0c88d31f054c349a09181a27a064f400"
const RUNS = 7

let yields = 0
async function counted() {
    yields++
    await ds.sleep(0)
}

/** No Number.toFixed in DeviceScript. */
function fixed(x: number, digits: number): string {
    const f = Math.pow(10, digits)
    return `${Math.round(x * f) / f}`
}

async function primitives() {
    const a = fe()
    const b = fe()
    for (let i = 0; i < 15; i++) {
        a[i] = 60000 - 7001 * i
        b[i] = 1234 * i - 3000
    }
    let t0 = ds.millis()
    for (let n = 0; n < 4000; n++) {
        mul(a, a, b)
        if (n % 20 === 19) await ds.sleep(0) // 40 multiplications fill a slice
    }
    const tMul = ds.millis() - t0
    const w = newWork()
    setup(w)
    madd(w, S.B, false, true)
    t0 = ds.millis()
    for (let n = 0; n < 400; n++) {
        dbl(w, true)
        if (n % 2 === 1) await ds.sleep(0) // four of them no longer fit a slice
    }
    const tDbl = ds.millis() - t0
    t0 = ds.millis()
    for (let n = 0; n < 400; n++) {
        madd(w, S.B, (n & 1) === 1, true)
        if (n % 2 === 1) await ds.sleep(0) // four of them no longer fit a slice
    }
    const tAdd = ds.millis() - t0
    console.log(
        `BENCH primitives: field mul ${fixed((tMul * 1000) / 4000, 0)} us, point double ${fixed((tDbl * 1000) / 400, 0)} us, mixed add ${fixed((tAdd * 1000) / 400, 0)} us`
    )
}

async function verify() {
    const key = Buffer.from(KEY, "hex")
    const msg = Buffer.from(MSG, "hex")
    const sig = Buffer.from(SIG, "hex")
    const times: number[] = []
    for (let i = 0; i < RUNS; i++) {
        yields = 0
        const t0 = ds.millis()
        const r = await checkEd25519(key, msg, sig, counted)
        times.push(ds.millis() - t0)
        if (!r.ok) throw new Error(`the bench signature did not verify: ${r.reason}`)
    }
    sig[7] ^= 1
    const t0 = ds.millis()
    const bad = await checkEd25519(key, msg, sig)
    const tBad = ds.millis() - t0
    if (bad.ok) throw new Error("a flipped bit verified")
    // sort by hand: Array.sort can exceed the opcode slice on long arrays (not on 7, but keep the habit)
    for (let i = 1; i < times.length; i++)
        for (let j = i; j > 0 && times[j - 1] > times[j]; j--) {
            const x = times[j]
            times[j] = times[j - 1]
            times[j - 1] = x
        }
    console.log(
        `BENCH verify (32-byte message, ${RUNS} runs): median ${times[RUNS >> 1]} ms, min ${times[0]} ms, max ${times[RUNS - 1]} ms (goal <= 1000 ms); ${yields} yields per verify; a wrong signature refused in ${tBad} ms`
    )
}

await primitives()
await verify()
ds.restart()
