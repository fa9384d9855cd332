// `npm run bench:ed25519`: our Ed25519 verifier (src/crypto, the code the VM runs) against
// node:crypto (OpenSSL) over N random keys and messages (default 10 000; --count N): each good
// signature, then the same with one random bit flipped in the message, the signature or the key,
// must get the same verdict from both. Prints the count, the disagreements (exit 1 if any) and
// the time per verification in Node.
import { createPublicKey, generateKeyPairSync, randomBytes, randomInt, sign, verify } from "node:crypto"
import { checkEd25519 } from "../src/crypto/ed25519"
import { publicKeyFromSpki, spkiOf } from "../src/crypto/ed25519-key"

const i = process.argv.indexOf("--count")
const count = i >= 0 ? Number(process.argv[i + 1]) : 10000
const noYield = async () => {}

function nodeVerify(raw: Buffer, msg: Buffer, sig: Buffer): boolean {
    try {
        return verify(null, msg, createPublicKey({ key: spkiOf(raw), format: "der", type: "spki" }), sig)
    } catch {
        return false // a key node cannot decode
    }
}

async function main() {
    let disagreements = 0
    let checks = 0
    let accepted = 0
    let ms = 0
    for (let n = 0; n < count; n++) {
        if (n > 0 && n % 2000 === 0) process.stderr.write(`bench:ed25519: ${n} of ${count} keys, ${disagreements} disagreements so far\n`)
        const { privateKey, publicKey } = generateKeyPairSync("ed25519")
        const raw = publicKeyFromSpki(publicKey.export({ format: "der", type: "spki" }) as Buffer)
        const msg = randomBytes(n % 4 === 0 ? 32 : randomInt(0, 300))
        const sig = sign(null, msg, privateKey)
        const cases: [Buffer, Buffer, Buffer][] = [[raw, msg, sig]]
        const flip = (b: Buffer) => {
            const c = Buffer.from(b)
            if (c.length > 0) c[randomInt(0, c.length)] ^= 1 << randomInt(0, 8)
            return c
        }
        const which = n % 3
        cases.push(which === 0 ? [raw, flip(msg.length ? msg : Buffer.alloc(1)), sig] : which === 1 ? [raw, msg, flip(sig)] : [flip(raw), msg, sig])
        for (const [k, m, s] of cases) {
            const t = performance.now()
            const ours = (await checkEd25519(k, m, s, noYield)).ok
            ms += performance.now() - t
            const theirs = nodeVerify(k, m, s)
            checks++
            if (ours) accepted++
            if (ours !== theirs) {
                disagreements++
                console.log(`disagreement: key ${k.toString("hex")} msg ${m.toString("hex")} sig ${s.toString("hex")}: ours ${ours}, node ${theirs}`)
            }
        }
    }
    console.log(`bench:ed25519 ${count} random keys and messages, ${checks} verifications (${accepted} good), ${disagreements} disagreements with node:crypto; ${(ms / checks).toFixed(3)} ms per verification in Node`)
    process.exit(disagreements === 0 && accepted === count ? 0 : 1)
}

main()
