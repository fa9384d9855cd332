// BigInt references for the crypto tests (Node only: the code under test has no BigInt).
export const P = 2n ** 255n - 19n
export const L = 2n ** 252n + 27742317777372353535851937790883648493n
export const D = (-121665n * inv(121666n)) % P + P

export function mod(a: bigint, m: bigint = P): bigint {
    const r = a % m
    return r < 0n ? r + m : r
}

export function pow(b: bigint, e: bigint, m: bigint = P): bigint {
    let r = 1n
    b = mod(b, m)
    for (; e > 0n; e >>= 1n, b = (b * b) % m) if (e & 1n) r = (r * b) % m
    return r
}

export function inv(a: bigint): bigint {
    return pow(a, P - 2n)
}

/** Little-endian bytes → BigInt. */
export function fromLE(b: Buffer): bigint {
    return b.length === 0 ? 0n : BigInt("0x" + Buffer.from(b).reverse().toString("hex"))
}

/** BigInt → n little-endian bytes. */
export function toLE(x: bigint, n = 32): Buffer {
    return Buffer.from(x.toString(16).padStart(2 * n, "0"), "hex").reverse()
}

/** x for a y on the curve with the given parity, or null (RFC 8032 §5.1.3 in BigInt). */
export function recoverX(y: bigint, sign: number): bigint | null {
    const u = mod(y * y - 1n)
    const v = mod(D * y * y + 1n)
    let x = mod(u * pow(v, 3n) * pow(u * pow(v, 7n), (P - 5n) / 8n))
    if (mod(v * x * x - u) !== 0n) {
        if (mod(v * x * x + u) !== 0n) return null
        x = mod(x * pow(2n, (P - 1n) / 4n))
    }
    if (x === 0n && sign === 1) return null
    return Number(x & 1n) === sign ? x : P - x
}

export type Point = [bigint, bigint]

/** Affine Edwards addition (complete for Ed25519). */
export function add([x1, y1]: Point, [x2, y2]: Point): Point {
    const t = mod(D * x1 * x2 * y1 * y2)
    return [mod((x1 * y2 + x2 * y1) * inv(mod(1n + t))), mod((y1 * y2 + x1 * x2) * inv(mod(1n - t)))]
}

export function scalarMul(k: bigint, p: Point): Point {
    let r: Point = [0n, 1n]
    for (let i = 255; i >= 0; i--) {
        r = add(r, r)
        if ((k >> BigInt(i)) & 1n) r = add(r, p)
    }
    return r
}

export const BASE: Point = [recoverX(mod(4n * inv(5n)), 0)!, mod(4n * inv(5n))]

export function encodePoint([x, y]: Point): Buffer {
    return toLE(y | ((x & 1n) << 255n))
}
