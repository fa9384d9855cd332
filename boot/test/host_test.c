/* The C boot stage against the TypeScript one, on the shared vectors (tools/boot-vectors.ts):
 *   1. every vector: the same outcome, slot, trial, rollback, record written (byte for byte: the
 *      metadata after the stage), unrecorded boot, news, and fstor ends with the same program;
 *   2. power cuts in the middle of a deploy (the chained vectors): the next boot deploys again and
 *      fstor ends with the program of the slot the TypeScript stage chooses on that boot;
 *   3. power cuts in the stage's own record (every program and erase, before, after, torn), then
 *      the next boot: each cut state and what the C decided on it go to c-cuts.bin, where
 *      test/boot-c/boot-c.test.ts runs the TypeScript stage on them and checks they agree;
 *   4. what only the C meets (limits), and the SHA-256 (its constants computed, not tabled) on
 *      FIPS 180-2's examples;
 *   5. the vectors whose metadata sectors fail their erase again, on a chip whose failed erase
 *      stops half way without a word and still takes programs: only the erase's read-back sees it,
 *      and the stage must decide and write as on the first run.
 * Built with BS_SIGNATURES it runs the signed set (tools/boot-vectors.ts --signed), where each
 * image must also carry a trusted signature and a security counter at least the store's.
 * Usage: host_test VECTORS RESULTS CUTS. Prints one line per part; exit 1 on any failure. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../boot_stage.h"
#include "../bs_port.h"
#include "../sha256.h"
#include "host.h"

/* The signed build (BS_SIGNATURES) runs the signed set: the TypeScript stage's decisions with keys */
#ifdef BS_SIGNATURES
#define VECTOR_MAGIC "BSVECS01"
#else
#define VECTOR_MAGIC "BSVEC001"
#endif

typedef struct {
    char name[256];
    uint32_t size;
    bs_layout_t lay;
    int has_fstor;
    uint8_t fstor[32], wear[16];
    uint32_t *flash;
    uint8_t outcome, trial, rolled, wrote, fault, why, fvlen, deploy;
    int8_t slot;
    uint8_t fv[256], program[32];
    uint32_t meta[8];
    int32_t chain;
} vec_t;

static uint8_t *blobs;
static vec_t *vecs;
static uint32_t nvec;
static uint8_t image[1u << 20];
static uint8_t copybuf[4096];
static FILE *cuts;

static uint8_t *blob(uint32_t i) { return blobs + (size_t)i * 4096; }

static void load(const char *path) {
    FILE *f = fopen(path, "rb");
    long n;
    uint8_t *d, *p;
    uint32_t nblobs, i, k;
    if (!f) perror(path), exit(2);
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    d = malloc((size_t)n);
    if (fread(d, 1, (size_t)n, f) != (size_t)n || memcmp(d, VECTOR_MAGIC, 8)) fprintf(stderr, "%s: not a vector file of this build\n", path), exit(2);
    fclose(f);
#define U8() (*p++)
#define U16() (p += 2, (uint32_t)p[-2] | (uint32_t)p[-1] << 8)
#define U32() (p += 4, (uint32_t)p[-4] | (uint32_t)p[-3] << 8 | (uint32_t)p[-2] << 16 | (uint32_t)p[-1] << 24)
    p = d + 8;
    nblobs = U32();
    nvec = U32();
    blobs = p;
    p += (size_t)nblobs * 4096;
    vecs = calloc(nvec, sizeof *vecs);
    for (i = 0; i < nvec; i++) {
        vec_t *v = &vecs[i];
        uint32_t len = U16(), nworn;
        memcpy(v->name, p, len < 255 ? len : 255);
        p += len;
        v->size = U32();
        v->lay.meta_addr = U32();
        v->lay.meta_sectors = U8();
        v->lay.unit = U8();
        v->lay.slot_addr[0] = U32();
        v->lay.slot_addr[1] = U32();
        v->lay.slot_size = U32();
        v->lay.max_program = BS_FSTOR_MAX_PROGRAM(128u * 1024);
        v->has_fstor = U8();
        memcpy(v->fstor, p, 32);
        p += 32;
        for (nworn = U8(); nworn; nworn--) {
            uint32_t s = U16();
            v->wear[s] = U8();
        }
        v->flash = malloc(v->size / 4096 * 4);
        for (k = 0; k < v->size / 4096; k++) v->flash[k] = U32();
        v->outcome = U8();
        v->slot = (int8_t)U8();
        v->trial = U8();
        v->rolled = U8();
        v->wrote = U8();
        v->fault = U8();
        v->why = U8();
        v->fvlen = U8();
        memcpy(v->fv, p, v->fvlen);
        p += v->fvlen;
        v->deploy = U8();
        memcpy(v->program, p, 32);
        p += 32;
        for (k = 0; k < v->lay.meta_sectors; k++) v->meta[k] = U32();
        v->chain = (int32_t)U32();
    }
}

/* The vector's flash into the chip, fstor as the vector says. */
static void setup(const vec_t *v) {
    uint32_t k;
    for (k = 0; k < v->size / 4096; k++) memcpy(image + k * 4096, blob(v->flash[k]), 4096);
    model_load(image, v->size, v->wear, v->lay.meta_addr, v->lay.meta_addr + v->lay.meta_sectors * 4096u);
    fake_fstor(v->has_fstor ? v->fstor : 0);
    watchdog_feeds = 0;
}

static uint32_t cap_for(uint32_t i) {
    static const uint32_t caps[] = {512, 1024, 4064, 544};
    return caps[i % 4];
}

/* "" when the run agrees with what v expects, else what differs. */
static const char *compare(const vec_t *v, const bs_result_t *r, const uint8_t *meta_expected_override) {
    static char why[200];
    uint8_t h[32];
    uint32_t k;
    int valid = fake_fstor_get(h);
    if (model_violations) return model_violation;
    if (r->outcome != v->outcome) return snprintf(why, sizeof why, "outcome %d, expected %d", r->outcome, v->outcome), why;
    for (k = 0; k < v->lay.meta_sectors; k++) {
        const uint8_t *want = meta_expected_override ? meta_expected_override + k * 4096 : blob(v->meta[k]);
        if (memcmp(image + v->lay.meta_addr + k * 4096, want, 4096)) {
            uint32_t b = 0;
            while (image[v->lay.meta_addr + k * 4096 + b] == want[b]) b++;
            return snprintf(why, sizeof why, "metadata sector %u differs at byte %u: 0x%02x, expected 0x%02x", (unsigned)k, (unsigned)b,
                            image[v->lay.meta_addr + k * 4096 + b], want[b]),
                   why;
        }
    }
    if (r->outcome != BS_OK) {
        if (fake_starts || valid != v->has_fstor || (valid && memcmp(h, v->fstor, 32))) return "fstor changed without a boot";
        return "";
    }
    if (r->slot != v->slot || r->trial != v->trial || r->rolled_back != v->rolled || r->wrote != v->wrote ||
        r->meta_fault != v->fault || r->why != v->why)
        return snprintf(why, sizeof why, "slot %d trial %d rolledBack %d wrote %d metaFault %d why %d, expected %d %d %d %d %d %d", r->slot,
                        r->trial, r->rolled_back, r->wrote, r->meta_fault, r->why, v->slot, v->trial, v->rolled, v->wrote, v->fault, v->why),
               why;
    if (model_boot_logs != 1 || model_boot_a != (uint32_t)r->slot ||
        model_boot_b != (r->trial | (uint32_t)r->rolled_back << 8 | (uint32_t)r->wrote << 16))
        return snprintf(why, sizeof why, "%u BOOT logs, the last a %u b 0x%x", (unsigned)model_boot_logs, (unsigned)model_boot_a, (unsigned)model_boot_b), why;
    if (r->failed_ver_len != v->fvlen || (v->fvlen && memcmp(r->failed_ver, v->fv, v->fvlen))) return "failed version";
    if (r->deployed != v->deploy) return snprintf(why, sizeof why, "deployed %d, expected %d (error %d)", r->deployed, v->deploy, r->deploy_error), why;
    if (!valid || memcmp(h, v->program, 32)) return "fstor does not end with the chosen program";
    if (fake_unfed) return "the watchdog was not fed between deploy chunks";
    return "";
}

static void put(FILE *f, const void *p, size_t n) {
    if (fwrite(p, 1, n, f) != n) perror("write"), exit(2);
}

static void put_result(FILE *f, const vec_t *v, const bs_result_t *r) {
    uint8_t b[7];
    b[0] = r->outcome;
    b[1] = (uint8_t)r->slot;
    b[2] = r->trial;
    b[3] = r->wrote;
    b[4] = r->meta_fault;
    b[5] = r->why;
    b[6] = r->deployed;
    put(f, b, 7);
    if (r->wrote) put(f, image + v->lay.meta_addr, v->lay.meta_sectors * 4096u); /* else it is as it was */
}

/* Part 2: cut the deploy of v after n writes (0: at its start, -2: in its last call), boot again. */
static const char *deploy_cut(const vec_t *v, uint32_t cap, int n) {
    static jmp_buf jb;
    bs_result_t r;
    const vec_t *next = &vecs[v->chain];
    setup(v);
    fake_arm_cut(n, &jb);
    if (!setjmp(jb)) {
        bs_boot_stage(&v->lay, copybuf, cap, &r);
        return "the cut never came";
    }
    model_reboot();
    fake_reboot();
    watchdog_feeds = 0;
    bs_boot_stage(&next->lay, copybuf, cap, &r);
    return compare(next, &r, 0);
}

/* Part 3: cut the stage's own record at its op-th flash operation, boot again, keep both. */
static int own_cut(uint32_t i, uint32_t cap, uint32_t op, int kind) {
    static jmp_buf jb;
    static uint8_t cut_meta[8 * 4096];
    bs_result_t r;
    const vec_t *v = &vecs[i];
    uint8_t kind8 = (uint8_t)kind;
    setup(v);
    model_arm_cut(op, kind, &jb);
    if (!setjmp(jb)) {
        bs_boot_stage(&v->lay, copybuf, cap, &r);
        return 0; /* fewer operations this time: nothing to cut */
    }
    memcpy(cut_meta, image + v->lay.meta_addr, v->lay.meta_sectors * 4096u);
    model_reboot();
    fake_reboot();
    bs_boot_stage(&v->lay, copybuf, cap, &r);
    put(cuts, &i, 4);
    put(cuts, &kind8, 1);
    put(cuts, cut_meta, v->lay.meta_sectors * 4096u);
    put_result(cuts, v, &r);
    return model_violations ? -1 : 1;
}

/* Part 4: what only the C stage meets, on the first vector that deploys: each must leave fstor
 * as it was and say why. */
static uint32_t limits(uint32_t *failures) {
    static uint8_t absent[1u << 15];
    uint32_t i, n = 0;
    bs_result_t r;
    const vec_t *v = 0;
    bs_layout_t lay;
    for (i = 0; i < nvec && !v; i++)
        if (vecs[i].deploy && vecs[i].outcome == BS_OK && !vecs[i].fault && vecs[i].has_fstor) v = &vecs[i];
    if (!v) return ++*failures, 1;
#define CHECK(what, cond)                                                                                  \
    do {                                                                                                   \
        uint8_t h[32];                                                                                     \
        n++;                                                                                               \
        if (!(cond) || !fake_fstor_get(h) || memcmp(h, v->fstor, 32)) {                                    \
            ++*failures;                                                                                   \
            printf("  limit: %s\n", what);                                                                 \
        }                                                                                                  \
    } while (0)
    lay = v->lay;
    lay.max_program = 1024;
    setup(v);
    bs_boot_stage(&lay, copybuf, 512, &r);
    CHECK("a program over fstor's capacity is not deployed", r.outcome == BS_OK && r.deploy_error == 1 && !fake_starts);
    setup(v);
    fake_fstor_bytes = 12u * 1024; /* one data page: never found, nothing fits */
    bs_boot_stage(&v->lay, copybuf, 512, &r);
    fake_fstor_bytes = 128u * 1024;
    n++; /* devsmgr refusing the size: reported; fstor has no program until a reset (devsmgr.c) */
    if (r.deploy_error != 1 || fake_starts != 1) ++*failures, printf("  limit: deploy_start refusing is reported\n");
    /* max_program is what fstor takes, to the byte: devsmgr (the fake, counting pages as jd_fstor.c)
     * starts a deploy of exactly max_program on the RP2040's 128 KB and on the ESP32's 256 KB, and
     * refuses 32 bytes more, so the stage never commits to a deploy fstor will refuse */
    {
        static const uint32_t part[2] = {128u * 1024, 256u * 1024}, want[2] = {110464, 225152};
        int k;
        for (k = 0; k < 2; k++) {
            uint32_t max = BS_FSTOR_MAX_PROGRAM(part[k]);
            int fits, over;
            n++;
            fake_fstor_bytes = part[k];
            fake_fstor(0);
            fits = devsmgr_deploy_start(max);
            over = devsmgr_deploy_start(max + 32);
            if (max != want[k] || fits != 0 || over != -2)
                ++*failures, printf("  limit: max_program %u of %u B fstor: start %d, 32 B more %d\n", max, part[k], fits, over);
        }
        fake_fstor_bytes = 128u * 1024;
    }
    setup(v);
    bs_boot_stage(&v->lay, copybuf, 100, &r);
    CHECK("a copy buffer under 512 bytes is refused", r.outcome == BS_ERROR && !model_ops);
    setup(v);
    bs_boot_stage(&v->lay, copybuf, 520, &r);
    CHECK("a copy buffer not a multiple of 32 is refused", r.outcome == BS_ERROR && !model_ops);
    /* the bounds' edges (one shifted range in the stage): 32 below 512 and 32 above 4 064 */
    setup(v);
    bs_boot_stage(&v->lay, copybuf, 480, &r);
    CHECK("a copy buffer of 480 bytes is refused", r.outcome == BS_ERROR && !model_ops);
    setup(v);
    bs_boot_stage(&v->lay, copybuf, 4096, &r);
    CHECK("a copy buffer of 4 096 bytes is refused", r.outcome == BS_ERROR && !model_ops);
    lay = v->lay;
    lay.slot_size = v->size;
    setup(v);
    bs_boot_stage(&lay, copybuf, 512, &r);
    CHECK("a layout past the chip is refused", r.outcome == BS_ERROR && !model_ops);
    lay = v->lay;
    lay.meta_sectors = 1;
    setup(v);
    bs_boot_stage(&lay, copybuf, 512, &r);
    CHECK("a one-sector log is refused", r.outcome == BS_ERROR && !model_ops);
    memset(absent, 0xff, sizeof absent);
    setup(v);
    model_load(absent, 0, v->wear, 0, 0); /* size 0: the JEDEC ID reads 0xFF, as MISO floating */
    bs_boot_stage(&v->lay, copybuf, 512, &r);
    CHECK("no chip answering is refused", r.outcome == BS_ERROR);
#undef CHECK
    return n;
}

/* FIPS 180-2 appendix B (one block, two blocks) and the empty message: the stage's SHA-256, whose
 * H0 and K it computes at the first hash (sha256.c), must give these. */
static uint32_t sha_known(uint32_t *failures) {
    static const char *const kat[3][2] = {
        {"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
        {"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
        {"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
    };
    uint32_t i, k;
    for (i = 0; i < 3; i++) {
        bs_sha256_t c;
        uint8_t out[32];
        char hex[65];
        bs_sha256_init(&c);
        bs_sha256_update(&c, (const uint8_t *)kat[i][0], (uint32_t)strlen(kat[i][0]));
        bs_sha256_final(&c, out);
        for (k = 0; k < 32; k++) snprintf(hex + 2 * k, 3, "%02x", out[k]);
        if (strcmp(hex, kat[i][1])) ++*failures, printf("  sha-256 of \"%s\": %s, expected %s\n", kat[i][0], hex, kat[i][1]);
    }
    return i;
}

/* Part 5: each vector with a sector whose erase fails (flag 1, not dead), that erase made silent
 * and half done (flag 4). The stage must refuse the sector as it did (unrecorded boot), so the
 * vector's expectations hold, with that half erased in its metadata. */
static uint32_t silent_erases(uint32_t *failures, uint32_t *erased) {
    static uint8_t meta[8 * 4096];
    uint32_t i, k, n = 0;
    for (i = 0; i < nvec; i++) {
        vec_t w = vecs[i];
        bs_result_t r;
        const char *why;
        int any = 0;
        for (k = 0; k < sizeof w.wear; k++)
            if ((w.wear[k] & 3) == 1) w.wear[k] |= 4, any = 1;
        if (!any) continue;
        n++;
        setup(&w);
        bs_boot_stage(&w.lay, copybuf, cap_for(i), &r);
        for (k = 0; k < w.lay.meta_sectors; k++) memcpy(meta + k * 4096, blob(w.meta[k]), 4096);
        if (model_half_erased >= 0) {
            ++*erased;
            memset(meta + (model_half_erased * 4096 - w.lay.meta_addr), 0xff, 2048);
        }
        why = compare(&w, &r, meta);
        if (*why && (*failures)++ < 20) printf("  silent erase failure: vector %u (%s): %s\n", (unsigned)i, w.name, why);
    }
    return n;
}

int main(int argc, char **argv) {
    uint32_t i, bad = 0, dpoints = 0, dbad = 0, dnone = 0, cpoints = 0, cbad = 0;
    FILE *out;
    if (argc != 4) fprintf(stderr, "usage: host_test VECTORS RESULTS CUTS\n"), exit(2);
    load(argv[1]);
    out = fopen(argv[2], "wb");
    cuts = fopen(argv[3], "wb");
    if (!out || !cuts) perror("results"), exit(2);
    for (i = 0; i < nvec; i++) {
        bs_result_t r;
        const char *why;
        setup(&vecs[i]);
        bs_boot_stage(&vecs[i].lay, copybuf, cap_for(i), &r);
        why = compare(&vecs[i], &r, 0);
        if (*why && bad++ < 20) printf("  disagreement: vector %u (%s): %s\n", (unsigned)i, vecs[i].name, why);
        put_result(out, &vecs[i], &r);
    }
    printf("boot vectors: %u vectors, %u disagreements\n", (unsigned)nvec, (unsigned)bad);

    for (i = 0; i < nvec; i++) {
        const vec_t *v = &vecs[i];
        bs_result_t r;
        uint32_t chunks, cap = cap_for(i);
        int n;
        if (v->chain < 0) continue;
        setup(v);
        bs_boot_stage(&v->lay, copybuf, cap, &r);
        chunks = fake_writes;
        for (n = -2; n <= (int)chunks; n++) {
            const char *why;
            if (n == -1) continue;
            why = deploy_cut(v, cap, n);
            dpoints++;
            if (vecs[v->chain].outcome != BS_OK) dnone++;
            if (*why && dbad++ < 20) printf("  deploy cut: vector %u (%s) after %d writes: %s\n", (unsigned)i, v->name, n, why);
        }
    }
    printf("deploy power cuts: %u points, %u failures (the next boot deployed again and ended with the program the TypeScript "
           "stage chose: %u; nothing bootable, as it decided, and no program: %u)\n",
           (unsigned)dpoints, (unsigned)dbad, (unsigned)(dpoints - dnone), (unsigned)dnone);

    for (i = 0; i < nvec; i += 13) {
        const vec_t *v = &vecs[i];
        bs_result_t r;
        uint32_t ops, op;
        int kind;
        if (!v->wrote || v->fault) continue;
        setup(v);
        bs_boot_stage(&v->lay, copybuf, cap_for(i), &r);
        ops = model_ops;
        for (op = 1; op <= ops; op++)
            for (kind = CUT_BEFORE; kind <= CUT_TORN; kind++) {
                int res = own_cut(i, cap_for(i), op, kind);
                if (!res) continue;
                cpoints++;
                if (res < 0 && cbad++ < 20) printf("  record cut: vector %u op %u kind %d: %s\n", (unsigned)i, (unsigned)op, kind, model_violation);
            }
    }
    printf("record power cuts: %u points for the TypeScript check, %u flash violations\n", (unsigned)cpoints, (unsigned)cbad);
    {
        uint32_t lbad = 0, n = limits(&lbad);
        printf("boot stage limits: %u checks, %u failures\n", (unsigned)n, (unsigned)lbad);
        bad += lbad;
        lbad = 0;
        n = sha_known(&lbad);
        printf("sha-256 known answers: %u messages, %u failures\n", (unsigned)n, (unsigned)lbad);
        bad += lbad;
    }
    {
        uint32_t sbad = 0, erased = 0, n = silent_erases(&sbad, &erased);
        printf("silent erase failures: %u vectors, %u erases left half done, %u disagreements\n", (unsigned)n, (unsigned)erased, (unsigned)sbad);
        bad += sbad + !erased;
    }
    fclose(out);
    fclose(cuts);
    return bad || dbad || cbad ? 1 : 0;
}
