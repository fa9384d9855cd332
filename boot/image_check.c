/* Pass and fail exactly where the TypeScript passes and fails (every failure is the same
 * BadWhy, so which step fails first does not matter, and the cheap steps go before the hash):
 * readImageLayout, checkTlvRules, the SHA-256, then the version and the DevS magic. Reads past
 * the slot fail, as the stage's slot reader makes them fail. */
#include "image_check.h"
#include "bs_port.h"
#include "sha256.h"
#include "w25q.h"

enum { E_READ = 1, E_HEADER, E_SIZE, E_TLV, E_RULES, E_HASH, E_VERSION, E_PROGRAM };

static uint32_t get(const uint8_t *p, int n) {
    uint32_t v = 0;
    while (n--) v = v << 8 | p[n];
    return v;
}

static int rd(const bs_image_t *img, uint32_t off, uint32_t n, uint8_t *dst) {
    if (off > img->slot_size || img->slot_size - off < n) return -1;
    w25q_read(img->base + off, dst, n);
    return 0;
}

/* The lengths TLV types fix (src/image/tlv.ts tlvFixedLength): KEYHASH, SHA256, SHA384, SHA512,
 * ED25519, SEC_CNT, DEPENDENCY, UUID_VID, UUID_CID, SIG_PURE; 0 when it varies. */
static uint32_t fixed_len(uint32_t t) {
    static const uint8_t types[] = {0x01, 0x10, 0x11, 0x12, 0x24, 0x50, 0x40, 0x74, 0x75, 0x25};
    static const uint8_t lens[] = {32, 32, 48, 64, 64, 4, 12, 16, 16, 1};
    uint32_t i;
    for (i = 0; i < sizeof types; i++)
        if (types[i] == t) return lens[i];
    return 0;
}

typedef struct {
    uint32_t count, hash; /* hash: the SHA-256 TLV's value offset, 0: none yet */
    uint8_t counter;
} tlvs_t;

/* One TLV area's entries [off, end), with the rules of checkTlvRules as they come. */
static int entries(const bs_image_t *img, uint32_t off, uint32_t end, int prot, tlvs_t *t) {
    while (off < end) {
        uint8_t h[4];
        uint32_t type, len, f;
        if (end - off < 4 || rd(img, off, 4, h)) return -1;
        type = get(h, 2);
        len = get(h + 2, 2);
        f = fixed_len(type);
        if (len > end - off - 4 || t->count++ >= 32 || (f && len != f)) return -1;
        if (type == 0x10) {
            if (prot || t->hash) return -1; /* in the area it hashes, or twice */
            t->hash = off + 4;
        } else if (type == 0x50) {
            if (!prot || t->counter) return -1;
            t->counter = 1;
        }
        off += 4 + len;
    }
    return 0;
}

/* Whether the recorded version string s (src/image/version.ts parseVersion) is the header's
 * version hv (bytes 20..27: major, minor, revision u16, build u32), in one pass: [V|v] then up to
 * three decimal parts split by '_' or '.' (one of them throughout), then "+build" only after three
 * parts; no empty part, no leading zero, nothing past 32 bits. The range checks come free: a part
 * must equal its header field, missing parts being 0. */
static int version_is(const uint8_t *s, uint32_t n, const uint8_t *hv) {
    uint32_t v[4], k = 0, digits = 0, i = n && (s[0] | 32) == 'v';
    uint8_t sep = 0;
    if (!n) return 0;
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
    return v[0] == hv[0] && v[1] == hv[1] && v[2] == get(hv + 2, 2) && v[3] == get(hv + 4, 4);
}

int bs_image_check(bs_image_t *img, const bs_slot_t *s) {
    uint8_t *buf = w25q_buf;
    static const uint8_t devs[8] = {0x44, 0x65, 0x76, 0x53, 0x0a, 0x6e, 0x29, 0xf1};
    uint8_t h[32], v[8];
    uint32_t hdr, prot, body, at, plain, tot, end, size = bs_slot_size(s);
    uint64_t hashed;
    tlvs_t t = {0, 0, 0};
    bs_sha256_t sha;

    if (rd(img, 0, 32, h)) return E_READ;
    hdr = get(h + 8, 2);
    prot = get(h + 10, 2);
    body = get(h + 12, 4);
    hashed = (uint64_t)hdr + body + prot;
    if (get(h, 4) != 0x96f3b83du || hdr < 32 || (get(h + 16, 4) & ~0x131u) || (prot && prot < 4)) return E_HEADER;
    if (hashed >= size) return E_SIZE; /* no room left for the TLV area */
    at = hdr + body;
    if (rd(img, at, 4, v)) return E_READ;
    if (prot) {
        if (get(v, 2) != 0x6908 || get(v + 2, 2) != prot || entries(img, at + 4, at + prot, 1, &t)) return E_TLV;
        plain = at + prot;
        if (rd(img, plain, 4, v)) return E_READ;
    } else
        plain = at; /* a protected area the header does not announce fails the plain magic below */
    tot = get(v + 2, 2);
    end = plain + tot;
    if (get(v, 2) != 0x6907 || tot < 4 || end > size || rd(img, end - 1, 1, v) ||
        entries(img, plain + 4, end, 0, &t))
        return E_TLV;
    if (!t.hash) return E_RULES;
    if (!version_is(SLOT_VER(s), SLOT_VER_LEN(s), h + 20)) return E_VERSION;
    if (rd(img, hdr, 8, v)) return E_PROGRAM;
    if (bs_differ(v, devs, 8)) return E_PROGRAM;
    bs_sha256_init(&sha);
    w25q_digest(&sha, img->base, (uint32_t)hashed);
    bs_sha256_final(&sha, buf);
    w25q_read(img->base + t.hash, buf + 32, 32);
    if (bs_differ(buf, buf + 32, 32)) return E_HASH;
    img->body = hdr;
    img->body_len = body;
    return 0;
}
