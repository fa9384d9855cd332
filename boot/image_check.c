/* Pass and fail exactly where the TypeScript passes and fails (every failure is the same
 * BadWhy, so which step fails first does not matter, and the cheap steps go before the hash):
 * readImageLayout, checkTlvRules, the version, (BS_SIGNATURES) the signature TLVs, the key and the
 * counter, the DevS magic, the SHA-256, then (BS_SIGNATURES) the Ed25519 signature. The image may
 * reach neither past its recorded size nor past the slot (the stage's slot reader fails there):
 * every bound is checked against the smaller of the two, lim, and the reads before a bound is
 * known stay inside the chip (slot_check checked the recorded size against it; the chip wraps). */
#include "image_check.h"
#include "bs_port.h"
#include "sha256.h"
#include "w25q.h"
#ifdef BS_SIGNATURES
#include "bs_keys.h"
#include "ed25519.h"
#endif

enum { E_HEADER = 2, E_SIZE, E_TLV, E_RULES, E_HASH, E_VERSION, E_PROGRAM, E_UNSIGNED, E_KEY, E_COUNTER, E_SIGNATURE };

#ifdef BS_SIGNATURES
uint32_t bs_min_counter;
/* the value offsets of the KEYHASH, ED25519 and SEC_CNT TLVs the walk found (0: none) */
static uint32_t keyhash, signature, counter_at;
#endif

/* Fields are read as words: the image is little-endian, as every MCU the stage is for. */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the boot stage reads little-endian fields with word loads"
#endif

static uint32_t word(uint32_t addr) {
    uint32_t v;
    w25q_read(addr, (uint8_t *)&v, 4);
    return v;
}

/* The lengths TLV types fix (src/image/tlv.ts tlvFixedLength): KEYHASH, SHA256, SHA384, SHA512,
 * ED25519, SEC_CNT, DEPENDENCY, UUID_VID, UUID_CID, SIG_PURE. */
static const uint8_t fixed[2][10] = {{0x01, 0x10, 0x11, 0x12, 0x24, 0x50, 0x40, 0x74, 0x75, 0x25},
                                     {32, 32, 48, 64, 64, 4, 12, 16, 16, 1}};

/* Both TLV areas in one walk: the protected one (magic 0x6908, its total the header's
 * ih_protect_tlv_size) when the header announces it, then the plain one (0x6907, total >= 4);
 * in each, every entry inside the area, at most 32 in all, the fixed lengths, exactly one SHA-256
 * TLV and not in the protected area (it would hash itself), at most one security counter and only
 * there (checkTlvRules). The SHA-256 TLV's value offset, or 0 when the rules fail. */
static uint32_t tlvs(uint32_t base, uint32_t off, uint32_t prot, uint32_t lim) {
    uint32_t count = 0, hash = 0, counter = 0, i;
    for (;;) {
        uint32_t t = word(base + off), end = off + (t >> 16), type, len;
        if ((t & 0xffff) != (prot ? 0x6908u : 0x6907u) || t >> 16 != (prot ? prot : t >> 16) || t >> 16 < 4 || end > lim)
            return 0;
        for (off += 4; off < end; off += 4 + len) {
            if (end - off < 4) return 0;
            t = word(base + off);
            type = t & 0xffff;
            len = t >> 16;
            if (len > end - off - 4 || count++ >= 32) return 0;
            for (i = 0; i < 10; i++)
                if (fixed[0][i] == type && fixed[1][i] != len) return 0;
            if (type == 0x10) {
                if (prot || hash) return 0; /* in the area it hashes, or twice */
                hash = off + 4;
            } else if (type == 0x50) {
                if (!prot || counter++) return 0;
#ifdef BS_SIGNATURES
                counter_at = off + 4;
            } else if (type == 0x01 || type == 0x24) { /* signature.ts: one of each, plain (the hash cannot cover them) */
                uint32_t *at = type == 1 ? &keyhash : &signature;
                if (prot || *at) return 0;
                *at = off + 4;
#endif
            }
        }
        if (!prot) return hash;
        prot = 0;
    }
}

/* Whether the recorded version string s (src/image/version.ts parseVersion) is the header's
 * version hv (bytes 20..27: major, minor, revision u16, build u32), in one pass: [V|v] then up to
 * three decimal parts split by '_' or '.' (one of them throughout), then "+build" only after three
 * parts; no empty part, no leading zero, nothing past 32 bits. The range checks come free: a part
 * must equal its header field, missing parts being 0. */
static int version_is(const uint8_t *s, uint32_t n, const uint32_t *hv) {
    uint32_t v[4], k = 0, digits = 0, i = n && (s[0] | 32) == 'v';
    uint8_t sep = 0;
    v[0] = v[1] = v[2] = v[3] = 0;
    for (; i <= n; i++) {
        uint32_t c = i < n ? s[i] : 0, d = c - '0';
        if (d <= 9) {
            if ((digits && !v[k]) || v[k] > 429496729u || (v[k] == 429496729u && d > 5)) return 0;
            v[k] = v[k] * 10 + d;
            digits++;
            continue;
        }
        if (!digits) return 0;
        digits = 0;
        if (c == '+') {
            if (k != 2) return 0; /* a build only after three parts */
        } else if (c == '_' || c == '.') {
            if (k >= 2 || (sep && c != sep)) return 0;
            sep = (uint8_t)c;
        } else if (i < n)
            return 0;
        k++;
    }
    return v[0] == (hv[0] & 255) && v[1] == (hv[0] >> 8 & 255) && v[2] == hv[0] >> 16 && v[3] == hv[1];
}

int bs_image_check(uint32_t base, uint32_t lim, const bs_slot_t *s) {
    uint8_t *buf = w25q_buf;
    static const uint8_t devs[8] = {0x44, 0x65, 0x76, 0x53, 0x0a, 0x6e, 0x29, 0xf1};
    uint32_t h[8]; /* magic, load address, header and protected sizes, body size, flags, version */
    uint32_t hdr, prot, body, hashed, hash;
#ifdef BS_SIGNATURES
    const uint8_t *key = 0;
    uint32_t k;
#endif

    w25q_read(base, (uint8_t *)h, 32);
    hdr = h[2] & 0xffff;
    prot = h[2] >> 16;
    body = h[3];
    hashed = hdr + prot + body; /* hdr + prot < 2^17 and lim < 2^27: a body past lim fails first */
    if (h[0] != 0x96f3b83du || !(h[2] << 16 >> 21) || (h[4] & ~0x131u) || prot - 1 < 3) return E_HEADER;
    if (body >= lim || hashed >= lim) return E_SIZE; /* no room left for the TLV area */
#ifdef BS_SIGNATURES
    keyhash = signature = counter_at = 0;
#endif
    /* a protected area the header does not announce fails the plain magic */
    if (!(hash = tlvs(base, hdr + body, prot, lim))) return E_TLV;
    if (!version_is(SLOT_VER(s), SLOT_VER_LEN(s), h + 5)) return E_VERSION;
#ifdef BS_SIGNATURES
    /* check.ts with keys, before the hash: a KEYHASH and an ED25519 TLV, the first trusted key the
     * KEYHASH names, the security counter (0 without one) at least the store's */
    if (!keyhash || !signature) return E_UNSIGNED;
    w25q_read(base + keyhash, buf, 32);
    for (k = 0; k < BS_TRUSTED_KEYS && !key; k++)
        if (!bs_differ(buf, bs_trusted_keys[k] + 32, 32)) key = bs_trusted_keys[k];
    if (!key) return E_KEY;
    if ((counter_at ? word(base + counter_at) : 0) < bs_min_counter) return E_COUNTER;
#endif
    w25q_read(base + hdr, buf, 8); /* inside the chip; past the image only when it has no DevS magic */
    if (bs_differ(buf, devs, 8)) return E_PROGRAM;
    bs_sha256_flash(base, hashed, hashed, buf);
    w25q_read(base + hash, buf + 32, 32);
    if (bs_differ(buf, buf + 32, 32)) return E_HASH;
#ifdef BS_SIGNATURES
    /* after the hash: the ED25519 TLV verifies over it (in buf) with that key */
    w25q_read(base + signature, buf + 32, 64);
    if (bs_ed25519_verify(key, buf, 32, buf + 32)) return E_SIGNATURE;
#endif
    return 0;
}
