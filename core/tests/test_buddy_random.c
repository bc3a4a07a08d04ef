/*
 * test_buddy_random.c - randomized differential test of the buddy page allocator
 * against the page-bitmap model of buddy_model.h (DESIGN section 7).
 *
 * Per seed: a few regions of random sizes at random byte offsets, the first given to
 * init and the others added mid-run, each mapped by a linear translator below, across
 * or above 4 GiB physically. Then thousands of random operations: alloc_pages and
 * alloc_pages_lowmem with random counts and alignments, correct frees with any count
 * that rounds to the block's order, bad frees (wrong count, interior page, double free,
 * unaligned, foreign), overlapping add_region and malformed requests. For each:
 *   - the status is the model's (an allocation succeeds exactly when a free,
 *     buddy-aligned, align-aligned, for lowmem physically low run of 2^k pages exists),
 *   - a returned block is such a run; the model flips the same pages,
 *   - every counter equals the model's and bsa_buddy_check says BSA_OK,
 *   - the first word of every live block (a tag written by the test) is intact.
 * The first disagreement stops the seed and prints seed, page size and operation.
 * BSA_TEST_SEED=<n> runs one extra seed (4096-byte pages).
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "bsa.h"
#include "buddy_model.h"
#include "test_util.h"

#define MAX_REGIONS 8
#define MAX_LIVE 4096
#define FREED_RING 64

typedef struct live {
    unsigned char *addr;
    unsigned order;
} live_t;

typedef struct run {
    uint64_t seed;
    size_t ps;
    test_rng_t rng;
    bsa_buddy_t b;
    bm_model_t m;
    bm_xlate_t x;
    unsigned char *arena;
    size_t arena_len, slot_len;
    size_t nregions, added;
    struct {
        unsigned char *start;
        size_t len;
        size_t add_at; /* operation index at which it is added */
    } region[MAX_REGIONS];
    live_t live[MAX_LIVE];
    size_t nlive;
    unsigned char *freed[FREED_RING]; /* recently freed heads: double-free candidates */
    size_t nfreed;
    size_t op;
    char what[160];
    size_t stats_ok, stats_nomem, stats_bad, stats_low_ok, stats_low_nomem;
} run_t;

static uint64_t rnd(run_t *r, uint64_t n) { return test_rng_below(&r->rng, n); }

static bool fail(run_t *r, const char *fmt, ...) {
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fprintf(stderr,
            "test_buddy_random: FAILED seed %#" PRIx64 " page size %zu, op %zu (%s): %s\n"
            "  repeat with BSA_TEST_SEED=%#" PRIx64 " (4096-byte pages) or this seed\n",
            r->seed, r->ps, r->op, r->what, msg, r->seed);
    return false;
}

static uint64_t tag_of(const run_t *r, const unsigned char *p) {
    return (uint64_t)(uintptr_t)p * 0x9e3779b97f4a7c15ull ^ r->seed;
}

/* ---- regions ------------------------------------------------------------------------- */

static void plan_regions(run_t *r) {
    size_t max_pages = r->ps >= 65536 ? 160 : 600;
    r->nregions = 3 + (size_t)rnd(r, 4);
    r->slot_len = (max_pages + 8) * r->ps;
    r->arena_len = r->slot_len * r->nregions;
    r->arena = test_region(r->arena_len);
    size_t slot[MAX_REGIONS];
    for (size_t i = 0; i < r->nregions; i++)
        slot[i] = i;
    for (size_t i = r->nregions - 1; i > 0; i--) { /* address order != add order */
        size_t j = (size_t)rnd(r, i + 1), t = slot[i];
        slot[i] = slot[j];
        slot[j] = t;
    }
    unsigned kind0 = (unsigned)rnd(r, 4); /* every seed gets each placement kind */
    for (size_t i = 0; i < r->nregions; i++) {
        bool large = i == 0 || rnd(r, 2) == 0;
        size_t pages = 2 + (size_t)rnd(r, large ? max_pages - 2 : 64);
        size_t offset = (size_t)rnd(r, 4 * r->ps);
        r->region[i].start = r->arena + slot[i] * r->slot_len + offset;
        r->region[i].len = pages * r->ps + (size_t)rnd(r, r->ps);
        r->region[i].add_at = 0;
        /* Physical placement: low, across 4 GiB, or high; congruent to the virtual
         * address modulo the page size, as a real mapping is. */
        uint64_t va = (uint64_t)(uintptr_t)r->region[i].start, pa;
        uint64_t in_page = va % r->ps;
        switch ((kind0 + i) % 4) {
        case 0: pa = 0x10000000ull * (1 + rnd(r, 8)) + in_page; break;        /* low    */
        case 1: pa = BM_4G - r->ps * (1 + rnd(r, pages + 1)) + in_page; break; /* across */
        case 2: pa = 2 * BM_4G + 0x10000000ull * rnd(r, 8) + in_page; break;  /* high   */
        default: pa = va; break;                                              /* ident. */
        }
        bm_xlate_add(&r->x, r->region[i].start, r->region[i].len, pa);
    }
}

/* Each added section lies inside a region that was added. */
static bool sections_inside(run_t *r) {
    for (size_t i = 0; i < r->m.nsec; i++) {
        const bm_sec_t *s = &r->m.sec[i];
        bool in = false;
        for (size_t j = 0; j < r->added && !in; j++) {
            uintptr_t lo = (uintptr_t)r->region[j].start, hi = lo + r->region[j].len;
            in = s->start > lo && s->start % r->ps == 0 && s->pages > 0 &&
                 s->start + s->pages * r->ps <= hi;
        }
        if (!in)
            return fail(r, "section %zu (%#lx, %zu pages) is not inside an added region", i,
                        (unsigned long)s->start, s->pages);
    }
    return true;
}

static bool add_next_region(run_t *r) {
    size_t i = r->added;
    snprintf(r->what, sizeof r->what, "add_region %zu: %p + %zu", i,
             (void *)r->region[i].start, r->region[i].len);
    bsa_status_t st = bsa_buddy_add_region(&r->b, r->region[i].start, r->region[i].len);
    if (st != BSA_OK)
        return fail(r, "add_region = %s", bsa_status_name(st));
    r->added++;
    if (!bm_sync_sections(&r->m, &r->b))
        return fail(r, "%s", r->m.msg);
    return sections_inside(r);
}

/* ---- operations ---------------------------------------------------------------------- */

static size_t count_for(run_t *r, unsigned order) {
    if (order == 0)
        return 1;
    size_t half = (size_t)1 << (order - 1);
    return half + 1 + (size_t)rnd(r, half); /* (2^(k-1), 2^k]: rounds to 2^k */
}

static unsigned random_order(run_t *r) {
    uint64_t c = rnd(r, 100);
    if (c < 45)
        return 0;
    if (c < 90)
        return 1 + (unsigned)rnd(r, 4);
    return 5 + (unsigned)rnd(r, 6);
}

static bool op_alloc(run_t *r, bool lowmem) {
    unsigned order = random_order(r);
    size_t count = count_for(r, order);
    size_t align = rnd(r, 3) == 0 ? r->ps << rnd(r, 9) : 0;
    snprintf(r->what, sizeof r->what, "alloc_pages%s(count %zu, align %zu)",
             lowmem ? "_lowmem" : "", count, align);
    bool expect = bm_can_alloc(&r->m, order, align, lowmem);
    void *p = NULL;
    bsa_status_t st = lowmem ? bsa_buddy_alloc_pages_lowmem(&r->b, count, align, &p)
                             : bsa_buddy_alloc_pages(&r->b, count, align, &p);
    if (st != (expect ? BSA_OK : BSA_E_NOMEM))
        return fail(r, "status %s, model says %s", bsa_status_name(st),
                    expect ? "BSA_OK (a fitting free run exists)" : "BSA_E_NOMEM");
    if (st != BSA_OK) {
        r->stats_nomem++;
        r->stats_low_nomem += lowmem;
        return true;
    }
    r->stats_low_ok += lowmem;
    if (!bm_take(&r->m, p, order, align, lowmem))
        return fail(r, "%s", r->m.msg);
    if (r->nlive == MAX_LIVE)
        return fail(r, "test table of live blocks is full");
    r->live[r->nlive].addr = p;
    r->live[r->nlive].order = order;
    r->nlive++;
    uint64_t tag = tag_of(r, p);
    memcpy(p, &tag, sizeof tag);
    r->stats_ok++;
    return true;
}

static void note_freed(run_t *r, unsigned char *p) {
    r->freed[r->nfreed % FREED_RING] = p;
    r->nfreed++;
}

/* free_pages(addr, count) with the model's verdict; `i` the live entry it frees when
 * correct (SIZE_MAX: look it up). */
static bool do_free(run_t *r, unsigned char *addr, size_t count) {
    int verdict = bm_free_verdict(&r->m, addr, count);
    size_t i = SIZE_MAX;
    if (verdict == BM_FREE_OK) {
        for (size_t j = 0; j < r->nlive; j++)
            if (r->live[j].addr == addr)
                i = j;
        if (i == SIZE_MAX)
            return fail(r, "test bookkeeping: %p live in the model only", (void *)addr);
        uint64_t tag;
        memcpy(&tag, addr, sizeof tag);
        if (tag != tag_of(r, addr))
            return fail(r, "the live block at %p was overwritten", (void *)addr);
    }
    bsa_status_t st = bsa_buddy_free_pages(&r->b, addr, count);
    if (!bm_free_status_ok(verdict, st))
        return fail(r, "status %s, model says %s", bsa_status_name(st),
                    verdict == BM_FREE_OK ? "BSA_OK" : "BSA_E_BAD_FREE");
    if (verdict != BM_FREE_OK) {
        r->stats_bad++;
        return true;
    }
    bm_release(&r->m, addr);
    r->live[i] = r->live[--r->nlive];
    note_freed(r, addr);
    return true;
}

static bool op_free(run_t *r) {
    if (r->nlive == 0)
        return op_alloc(r, false);
    live_t *l = &r->live[rnd(r, r->nlive)];
    size_t count = count_for(r, l->order);
    snprintf(r->what, sizeof r->what, "free_pages(%p, %zu), a live block of order %u",
             (void *)l->addr, count, l->order);
    return do_free(r, l->addr, count);
}

/* Any address the model has an opinion on: mostly wrong, sometimes right by chance. */
static bool op_bad_free(run_t *r) {
    unsigned char *addr = NULL;
    size_t count = 1;
    const char *kind = "";
    uint64_t c = rnd(r, 7);
    const live_t *l = r->nlive ? &r->live[rnd(r, r->nlive)] : NULL;
    if (c == 0 && l != NULL) { /* wrong count */
        unsigned other = (l->order + 1 + (unsigned)rnd(r, 6)) % 8;
        count = count_for(r, other);
        addr = l->addr;
        kind = "count of another order";
    } else if (c == 1 && l != NULL && l->order > 0) { /* interior page */
        addr = l->addr + r->ps * (1 + rnd(r, ((size_t)1 << l->order) - 1));
        count = count_for(r, (unsigned)rnd(r, l->order + 1));
        kind = "interior page";
    } else if (c == 2 && r->nfreed > 0) { /* double free, unless re-allocated since */
        size_t n = r->nfreed < FREED_RING ? r->nfreed : FREED_RING;
        addr = r->freed[rnd(r, n)];
        count = count_for(r, (unsigned)rnd(r, 4));
        kind = "freed earlier";
    } else if (c == 3 && l != NULL) { /* unaligned */
        addr = l->addr + 1 + rnd(r, r->ps - 1);
        count = (size_t)1 << l->order;
        kind = "unaligned";
    } else if (c == 4) { /* anywhere in the arena: metadata, gaps, free pages, ... */
        addr = r->arena + rnd(r, r->arena_len / r->ps) * r->ps + (rnd(r, 2) ? 0 : rnd(r, 64));
        count = count_for(r, (unsigned)rnd(r, 3));
        kind = "arena address";
    } else if (c == 5 && r->m.nsec > 0) { /* a page of a section, any state */
        const bm_sec_t *s = &r->m.sec[rnd(r, r->m.nsec)];
        addr = (unsigned char *)s->start + rnd(r, s->pages) * r->ps;
        count = count_for(r, (unsigned)rnd(r, 3));
        kind = "section page";
    } else { /* region starts: the metadata prefix */
        addr = r->region[rnd(r, r->added)].start;
        kind = "region start";
    }
    snprintf(r->what, sizeof r->what, "free_pages(%p, %zu), %s", (void *)addr, count, kind);
    return do_free(r, addr, count);
}

/* Malformed requests and overlapping regions: refused, nothing changes. */
static bool op_malformed(run_t *r) {
    void *p = NULL;
    bsa_status_t st, want;
    size_t i = (size_t)rnd(r, r->added);
    unsigned char *s = r->region[i].start;
    size_t len = r->region[i].len;
    switch (rnd(r, 5)) {
    case 0:
        snprintf(r->what, sizeof r->what, "alloc_pages(0, 0)");
        st = bsa_buddy_alloc_pages(&r->b, 0, 0, &p);
        want = BSA_E_INVALID;
        break;
    case 1:
        snprintf(r->what, sizeof r->what, "alloc_pages_lowmem(1, page size / 2)");
        st = bsa_buddy_alloc_pages_lowmem(&r->b, 1, r->ps / 2, &p);
        want = BSA_E_INVALID;
        break;
    case 2:
        snprintf(r->what, sizeof r->what, "alloc_pages(2^20 + 1, 0)");
        st = bsa_buddy_alloc_pages(&r->b, BSA_MAX_COUNT + 1, 0, &p);
        want = BSA_E_INVALID;
        break;
    case 3: { /* overlaps region i by at least one byte, at a random place */
        size_t at = (size_t)rnd(r, len);
        size_t lo = at > 3 * r->ps ? at - (size_t)rnd(r, 3 * r->ps) : 0;
        snprintf(r->what, sizeof r->what, "add_region overlapping region %zu", i);
        st = bsa_buddy_add_region(&r->b, s + lo, at - lo + 1 + 4 * r->ps);
        want = BSA_E_OVERLAP;
        break;
    }
    default:
        snprintf(r->what, sizeof r->what, "add_region of a region already added");
        st = bsa_buddy_add_region(&r->b, s, len);
        want = BSA_E_OVERLAP;
        break;
    }
    if (st != want)
        return fail(r, "status %s, want %s", bsa_status_name(st), bsa_status_name(want));
    return true;
}

static bool step(run_t *r) {
    while (r->added < r->nregions && r->region[r->added].add_at <= r->op)
        if (!add_next_region(r))
            return false;
    uint64_t c = rnd(r, 100);
    bool ok;
    if (c < 32)
        ok = op_alloc(r, false);
    else if (c < 44)
        ok = op_alloc(r, true);
    else if (c < 80)
        ok = op_free(r);
    else if (c < 96)
        ok = op_bad_free(r);
    else
        ok = op_malformed(r);
    if (!ok)
        return false;
    if (!bm_verify(&r->m, &r->b))
        return fail(r, "after the operation: %s", r->m.msg);
    return true;
}

static bool run_seed(uint64_t seed, size_t ps, size_t ops) {
    run_t *r = calloc(1, sizeof *r);
    if (r == NULL)
        return false;
    r->seed = seed;
    r->ps = ps;
    r->rng = test_rng_init(seed);
    plan_regions(r);
    for (size_t i = 1; i < r->nregions; i++) /* the rest arrive during the run */
        r->region[i].add_at = (size_t)rnd(r, ops);
    for (size_t i = 1; i < r->nregions; i++) /* in order of add_at */
        for (size_t j = i; j > 1 && r->region[j].add_at < r->region[j - 1].add_at; j--) {
            size_t t = r->region[j].add_at;
            r->region[j].add_at = r->region[j - 1].add_at;
            r->region[j - 1].add_at = t;
        }
    bm_init(&r->m, ps, &r->x);
    bsa_ops_t ops_table = {.ctx = &r->x, .virt_to_phys = bm_xlate_v2p};
    memset(&r->b, 0xa5, sizeof r->b);
    snprintf(r->what, sizeof r->what, "init(%p + %zu)", (void *)r->region[0].start,
             r->region[0].len);
    bool ok = true;
    bsa_status_t st = bsa_buddy_init(&r->b, ps, &ops_table, r->region[0].start,
                                     r->region[0].len);
    if (st != BSA_OK)
        ok = fail(r, "init = %s", bsa_status_name(st));
    if (ok) {
        r->added = 1;
        ok = bm_sync_sections(&r->m, &r->b) ? sections_inside(r) : fail(r, "%s", r->m.msg);
    }
    if (ok && !bm_verify(&r->m, &r->b))
        ok = fail(r, "after init: %s", r->m.msg);
    for (r->op = 0; ok && r->op < ops; r->op++)
        ok = step(r);
    /* Drain: free every live block; the heap must be whole again. */
    for (size_t n = 0; ok && r->nlive > 0; n++) {
        live_t l = r->live[r->nlive - 1];
        snprintf(r->what, sizeof r->what, "final free_pages(%p, %zu)", (void *)l.addr,
                 (size_t)1 << l.order);
        ok = do_free(r, l.addr, (size_t)1 << l.order) &&
             (bm_verify(&r->m, &r->b) || fail(r, "%s", r->m.msg));
    }
    if (ok && bsa_buddy_allocated_bytes(&r->b) != 0)
        ok = fail(r, "allocated_bytes %zu after freeing everything",
                  bsa_buddy_allocated_bytes(&r->b));
    if (ok && r->x.misses != 0)
        ok = fail(r, "virt_to_phys called %u times outside every region", r->x.misses);
    if (ok)
        printf("seed %#" PRIx64 " page %zu: %zu ops, %zu regions, %zu sections, %zu pages; "
               "%zu allocs (%zu lowmem), %zu NOMEM (%zu lowmem), %zu refused frees: OK\n",
               seed, ps, ops, r->nregions, r->m.nsec, bsa_buddy_managed_bytes(&r->b) / ps,
               r->stats_ok, r->stats_low_ok, r->stats_nomem, r->stats_low_nomem,
               r->stats_bad);
    bm_destroy(&r->m);
    test_region_free(r->arena, r->arena_len);
    free(r);
    return ok;
}

int main(void) {
    static const struct {
        uint64_t seed;
        size_t page_size;
    } seeds[] = {
        {0x1, 4096}, {0xb5a0b5a0, 4096}, {0xdeadbeefcafe, 4096},
        {0x5eed5eed, 8192}, {0x64c0ffee, 65536},
    };
    for (size_t i = 0; i < sizeof seeds / sizeof seeds[0]; i++)
        CHECK(run_seed(seeds[i].seed, seeds[i].page_size, 10000));
    if (getenv("BSA_TEST_SEED") != NULL)
        CHECK(run_seed(test_seed(0), 4096, 10000));
    TEST_MAIN_END();
}
