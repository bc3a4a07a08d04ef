/*
 * test_buddy_scenarios.c - whole-heap scenarios for the buddy page allocator:
 *   a  a 32-page heap filled with single pages, freed in a checkerboard
 *   b  1 page at 64 KiB alignment costs exactly one page, aligned heap start or not
 *   c  two sections: filled in registration order, frees go back to the right one
 *   d  lowmem under a translator that puts part of a region above 4 GiB
 *   e  regions at odd addresses: page-aligned pages, nothing outside the region touched
 *   f  metadata overhead of 1 MiB, 64 MiB and 1 GiB regions
 *   g  200 sections added in random address order; a region between two of them
 * The model of buddy_model.h checks every counter and bsa_buddy_check after each step.
 */
#include <string.h>
#include <sys/mman.h>

#include "bsa.h"
#include "buddy_model.h"
#include "test_util.h"

#define PS ((size_t)4096)
#define KIB ((size_t)1024)
#define MIB (KIB * KIB)

static bool verify_at(bm_model_t *m, const bsa_buddy_t *b, int line) {
    if (bm_verify(m, b))
        return true;
    fprintf(stderr, "test_buddy_scenarios.c:%d: model disagrees: %s\n", line, m->msg);
    return false;
}
#define VERIFY(m, b) CHECK(verify_at((m), (b), __LINE__))

/* alloc_pages(_lowmem) through core and model: the status must be the model's, the
 * block one the model allows. NULL when it failed. */
static void *take_at(bm_model_t *m, bsa_buddy_t *b, size_t count, size_t align, bool lowmem,
                     int line) {
    unsigned order = bm_order_of(count);
    bool expect = bm_can_alloc(m, order, align, lowmem);
    void *p = NULL;
    bsa_status_t st = lowmem ? bsa_buddy_alloc_pages_lowmem(b, count, align, &p)
                             : bsa_buddy_alloc_pages(b, count, align, &p);
    if (st != (expect ? BSA_OK : BSA_E_NOMEM)) {
        fprintf(stderr, "test_buddy_scenarios.c:%d: alloc(count %zu, align %zu, lowmem %d) = %s, "
                "model says %s\n", line, count, align, (int)lowmem, bsa_status_name(st),
                expect ? "BSA_OK" : "BSA_E_NOMEM");
        CHECK(false);
        return NULL;
    }
    if (st != BSA_OK)
        return NULL;
    if (!bm_take(m, p, order, align, lowmem)) {
        fprintf(stderr, "test_buddy_scenarios.c:%d: %s\n", line, m->msg);
        CHECK(false);
        return NULL;
    }
    return p;
}
#define TAKE(m, b, count, align, lowmem) take_at((m), (b), (count), (align), (lowmem), __LINE__)

static void give_at(bm_model_t *m, bsa_buddy_t *b, void *p, size_t count, int line) {
    if (p == NULL)
        return;
    bsa_status_t st = bsa_buddy_free_pages(b, p, count);
    if (st != BSA_OK) {
        fprintf(stderr, "test_buddy_scenarios.c:%d: free(%p, %zu) = %s\n", line, p, count,
                bsa_status_name(st));
        CHECK(false);
        return;
    }
    bm_release(m, p);
}
#define GIVE(m, b, p, count) give_at((m), (b), (p), (count), __LINE__)

/* Section index whose managed pages contain `p`, or SIZE_MAX. */
static size_t section_of(const bsa_buddy_t *b, const void *p) {
    for (size_t i = 0; i < bsa_buddy_section_count(b); i++) {
        bsa_section_info_t info;
        if (bsa_buddy_section(b, i, &info) != BSA_OK)
            continue;
        if ((const unsigned char *)p >= (unsigned char *)info.start &&
            (const unsigned char *)p < (unsigned char *)info.start + info.bytes)
            return i;
    }
    return SIZE_MAX;
}

static size_t section_free(const bsa_buddy_t *b, size_t index) {
    bsa_section_info_t info;
    if (bsa_buddy_section(b, index, &info) != BSA_OK)
        return SIZE_MAX;
    return info.free_pages;
}

/* ---- a ---------------------------------------------------------------------------- */
static void scenario_checkerboard(void) {
    unsigned char *region = test_region(33 * PS);
    bsa_buddy_t b;
    bm_model_t m;
    bm_init(&m, PS, NULL);
    CHECK_STATUS(bsa_buddy_init(&b, PS, NULL, region, 33 * PS), BSA_OK);
    CHECK(bm_sync_sections(&m, &b));
    bsa_section_info_t info;
    CHECK_STATUS(bsa_buddy_section(&b, 0, &info), BSA_OK);
    CHECK_EQ_SZ(info.total_pages, 32);
    VERIFY(&m, &b);

    void *page[32];
    for (size_t i = 0; i < 32; i++) {
        page[i] = TAKE(&m, &b, 1, 0, false);
        if (!CHECK(page[i] != NULL))
            return;
        if (i > 0) /* ascending, hence unique */
            CHECK((uintptr_t)page[i] > (uintptr_t)page[i - 1]);
        memset(page[i], (int)i, PS);
        VERIFY(&m, &b);
    }
    void *extra = TAKE(&m, &b, 1, 0, false);
    CHECK(extra == NULL);
    CHECK_EQ_SZ(bsa_buddy_allocated_bytes(&b), 32 * PS);

    for (size_t i = 0; i < 32; i += 2) {
        GIVE(&m, &b, page[i], 1);
        VERIFY(&m, &b);
    }
    CHECK_EQ_SZ(bsa_buddy_free_blocks(&b, 0), 16);
    void *p = NULL;
    CHECK_STATUS(bsa_buddy_alloc_pages(&b, 2, 0, &p), BSA_E_NOMEM);
    VERIFY(&m, &b);
    for (size_t i = 1; i < 32; i += 2) { /* the odd pages are untouched by all that */
        const unsigned char *q = page[i];
        CHECK(q[0] == (unsigned char)i && q[PS - 1] == (unsigned char)i);
        GIVE(&m, &b, page[i], 1);
        VERIFY(&m, &b);
    }
    CHECK_EQ_SZ(bsa_buddy_free_blocks(&b, 5), 1);
    void *eight = TAKE(&m, &b, 8, 0, false);
    CHECK(eight != NULL);
    VERIFY(&m, &b);
    GIVE(&m, &b, eight, 8);
    VERIFY(&m, &b);
    CHECK_STATUS(bsa_buddy_section(&b, 0, &info), BSA_OK);
    CHECK_EQ_SZ(info.free_pages, 32);
    CHECK_EQ_SZ(bsa_buddy_free_blocks(&b, 5), 1);
    CHECK_EQ_SZ(bsa_buddy_allocated_bytes(&b), 0);
    bm_destroy(&m);
}

/* ---- b ---------------------------------------------------------------------------- */
/* `region` of `len` bytes; requests 1 page at 64 KiB until none is left. */
static void aligned_single_pages(unsigned char *region, size_t len) {
    bsa_buddy_t b;
    bm_model_t m;
    bm_init(&m, PS, NULL);
    CHECK_STATUS(bsa_buddy_init(&b, PS, NULL, region, len), BSA_OK);
    CHECK(bm_sync_sections(&m, &b));
    bsa_section_info_t info;
    CHECK_STATUS(bsa_buddy_section(&b, 0, &info), BSA_OK);
    size_t expect = 0; /* 64 KiB boundaries among the managed pages */
    for (size_t i = 0; i < info.total_pages; i++)
        if (((uintptr_t)info.start + i * PS) % (64 * KIB) == 0)
            expect++;
    void *got[64];
    size_t n = 0;
    for (;;) {
        size_t before = bsa_buddy_allocated_bytes(&b);
        void *p = TAKE(&m, &b, 1, 16 * PS, false);
        VERIFY(&m, &b);
        if (p == NULL || n == 64)
            break;
        CHECK((uintptr_t)p % (64 * KIB) == 0);
        CHECK_EQ_SZ(bsa_buddy_allocated_bytes(&b) - before, PS);
        got[n++] = p;
    }
    CHECK_EQ_SZ(n, expect);
    /* 4 pages at 128 KiB: still exactly 4 pages, carved from a larger block. */
    size_t before = bsa_buddy_allocated_bytes(&b);
    void *q = TAKE(&m, &b, 4, 32 * PS, false);
    if (q != NULL) {
        CHECK((uintptr_t)q % (128 * KIB) == 0);
        CHECK_EQ_SZ(bsa_buddy_allocated_bytes(&b) - before, 4 * PS);
    }
    VERIFY(&m, &b);
    GIVE(&m, &b, q, 4);
    for (size_t i = 0; i < n; i++) {
        GIVE(&m, &b, got[i], 1);
        VERIFY(&m, &b);
    }
    CHECK_EQ_SZ(bsa_buddy_allocated_bytes(&b), 0);
    bm_destroy(&m);
}

static void scenario_aligned(void) {
    unsigned char *base = test_region_aligned(256 * PS, 64 * KIB);
    /* Managed start on a 64 KiB boundary: region page 0 is metadata. */
    aligned_single_pages(base + 64 * KIB - PS, 80 * PS);
    /* Managed start 3 pages past a 64 KiB boundary. */
    aligned_single_pages(base + 128 * KIB + 2 * PS, 100 * PS);
    /* Managed start one page before a boundary, odd region start. */
    aligned_single_pages(base + 64 * KIB - 2 * PS + 1000, 60 * PS);
}

/* ---- c ---------------------------------------------------------------------------- */
static void scenario_two_sections(void) {
    unsigned char *big = test_region(100 * PS);
    unsigned char *first = big + 50 * PS, *second = big; /* first is the higher one */
    bsa_buddy_t b;
    bm_model_t m;
    bm_init(&m, PS, NULL);
    CHECK_STATUS(bsa_buddy_init(&b, PS, NULL, first, 21 * PS), BSA_OK);
    CHECK_STATUS(bsa_buddy_add_region(&b, second, 13 * PS), BSA_OK);
    CHECK(bm_sync_sections(&m, &b));
    VERIFY(&m, &b);
    CHECK_EQ_SZ(bsa_buddy_section_count(&b), 2);
    size_t s0 = section_of(&b, first + 1 * PS), s1 = section_of(&b, second + 1 * PS);
    if (!CHECK(s0 != SIZE_MAX && s1 != SIZE_MAX && s0 != s1))
        return;
    CHECK_EQ_SZ(section_free(&b, s0), 20);
    CHECK_EQ_SZ(section_free(&b, s1), 12);

    void *page[32];
    for (size_t i = 0; i < 32; i++) {
        page[i] = TAKE(&m, &b, 1, 0, false);
        if (!CHECK(page[i] != NULL))
            return;
        /* all of the first-registered section's pages before any of the second's */
        CHECK_EQ_SZ(section_of(&b, page[i]), i < 20 ? s0 : s1);
        CHECK_EQ_SZ(section_free(&b, s0), i < 20 ? 19 - i : 0);
        CHECK_EQ_SZ(section_free(&b, s1), i < 20 ? 12 : 31 - i);
        VERIFY(&m, &b);
    }
    CHECK(TAKE(&m, &b, 1, 0, false) == NULL);

    /* Frees alternate between the sections; each goes back to its own. */
    size_t f0 = 0, f1 = 0;
    for (size_t j = 0; j < 20; j++) {
        size_t i = (j % 2 == 0) ? j / 2 : 20 + j / 2; /* s0 page, s1 page, ... */
        if (i >= 32)
            continue;
        GIVE(&m, &b, page[i], 1);
        if (i < 20)
            f0++;
        else
            f1++;
        CHECK_EQ_SZ(section_free(&b, s0), f0);
        CHECK_EQ_SZ(section_free(&b, s1), f1);
        VERIFY(&m, &b);
    }
    bm_destroy(&m);
}

/* ---- d ---------------------------------------------------------------------------- */
static uint64_t phys_of(const bm_xlate_t *x, const void *p) {
    uint64_t pa = 0;
    CHECK(bm_xlate_lookup(x, (uintptr_t)p, &pa));
    return pa;
}

/* One region of 33 pages whose managed start maps to `phys_start`; `low_pages` of them
 * end at or below 4 GiB. Lowmem single pages use exactly those, then fail; plain ones
 * go on. */
static void lowmem_one(uint64_t phys_start, size_t low_pages) {
    bm_xlate_t x;
    memset(&x, 0, sizeof x);
    unsigned char *region = test_region(33 * PS);
    /* region page 0 is metadata: the region start maps one page below phys_start */
    bm_xlate_add(&x, region, 33 * PS, phys_start - PS);
    bsa_ops_t ops = {.ctx = &x, .virt_to_phys = bm_xlate_v2p};
    bsa_buddy_t b;
    bm_model_t m;
    bm_init(&m, PS, &x);
    CHECK_STATUS(bsa_buddy_init(&b, PS, &ops, region, 33 * PS), BSA_OK);
    CHECK(bm_sync_sections(&m, &b));
    CHECK(x.calls >= 1);
    CHECK_EQ_SZ(x.misses, 0);
    VERIFY(&m, &b);

    void *low[33];
    size_t n = 0;
    while (n < 33) {
        void *p = TAKE(&m, &b, 1, 0, true);
        VERIFY(&m, &b);
        if (p == NULL)
            break;
        CHECK(phys_of(&x, p) + PS <= BM_4G);
        low[n++] = p;
    }
    CHECK_EQ_SZ(n, low_pages);
    void *p = NULL;
    CHECK_STATUS(bsa_buddy_alloc_pages_lowmem(&b, 1, 0, &p), BSA_E_NOMEM);
    void *plain = TAKE(&m, &b, 1, 0, false);
    if (low_pages < 32)
        CHECK(plain != NULL && phys_of(&x, plain) >= BM_4G);
    else /* every page was low, and is taken */
        CHECK(plain == NULL);
    VERIFY(&m, &b);
    GIVE(&m, &b, plain, 1);
    for (size_t i = 0; i < n; i++)
        GIVE(&m, &b, low[i], 1);
    VERIFY(&m, &b);

    /* Larger lowmem blocks: the model knows which fit below 4 GiB. */
    for (size_t count = 2; count <= 32; count *= 2) {
        void *q = TAKE(&m, &b, count, 0, true);
        if (q != NULL)
            CHECK(phys_of(&x, q) + count * PS <= BM_4G);
        CHECK((q != NULL) == (count <= low_pages)); /* low pages start the section */
        VERIFY(&m, &b);
        GIVE(&m, &b, q, count);
    }
    bm_destroy(&m);
}

static void scenario_lowmem(void) {
    lowmem_one(BM_4G - 8 * PS, 8);   /* 8 low pages: one buddy-aligned block of 8 */
    lowmem_one(BM_4G - 5 * PS, 5);   /* 5 low pages: blocks of 4 and 1 */
    lowmem_one(BM_4G, 0);            /* starts at 4 GiB */
    lowmem_one(BM_4G + 64 * MIB, 0); /* entirely above */
    lowmem_one(BM_4G - 32 * PS, 32); /* ends exactly at 4 GiB */

    /* Two sections, the high one registered first: lowmem must skip it. */
    bm_xlate_t x;
    memset(&x, 0, sizeof x);
    unsigned char *hi = test_region(17 * PS), *lo = test_region(17 * PS);
    bm_xlate_add(&x, hi, 17 * PS, 6 * KIB * MIB);  /* 6 GiB */
    bm_xlate_add(&x, lo, 17 * PS, 2 * KIB * MIB);  /* 2 GiB */
    bsa_ops_t ops = {.ctx = &x, .virt_to_phys = bm_xlate_v2p};
    bsa_buddy_t b;
    bm_model_t m;
    bm_init(&m, PS, &x);
    CHECK_STATUS(bsa_buddy_init(&b, PS, &ops, hi, 17 * PS), BSA_OK);
    CHECK_STATUS(bsa_buddy_add_region(&b, lo, 17 * PS), BSA_OK);
    CHECK_EQ_SZ(x.misses, 0);
    CHECK(bm_sync_sections(&m, &b));
    void *q = TAKE(&m, &b, 16, 0, true);
    CHECK(q != NULL && (unsigned char *)q > lo && (unsigned char *)q < lo + 17 * PS);
    VERIFY(&m, &b);
    void *r = TAKE(&m, &b, 1, 0, true);
    CHECK(r == NULL);
    r = TAKE(&m, &b, 1, 0, false);
    CHECK(r != NULL && (unsigned char *)r > hi && (unsigned char *)r < hi + 17 * PS);
    VERIFY(&m, &b);
    GIVE(&m, &b, q, 16);
    GIVE(&m, &b, r, 1);
    VERIFY(&m, &b);
    bm_destroy(&m);
}

/* ---- e ---------------------------------------------------------------------------- */
#define CANARY 0x5a
#define FILL 0x77

/* A region of `len` bytes at `offset` bytes past a page boundary, with a PROT_NONE page
 * and canary bytes on both sides. Given to init (add == false) or add_region. */
static void odd_region(size_t page_size, size_t offset, size_t len, bool add) {
    size_t os_page = PS;
    size_t inner = (offset + len + 2 * page_size + os_page - 1) / os_page * os_page;
    size_t total = inner + 2 * os_page;
    unsigned char *map = test_region(total);
    unsigned char *base = map + os_page, *region = base + offset, *end = region + len;
    CHECK(mprotect(map, os_page, PROT_NONE) == 0);
    CHECK(mprotect(map + total - os_page, os_page, PROT_NONE) == 0);
    memset(base, CANARY, inner);
    memset(region, FILL, len); /* garbage: the core may not rely on zeroed memory */

    bsa_buddy_t b;
    bm_model_t m;
    bm_init(&m, page_size, NULL);
    unsigned char *other = NULL;
    size_t other_len = 4 * page_size;
    if (add) {
        other = test_region(other_len);
        CHECK_STATUS(bsa_buddy_init(&b, page_size, NULL, other, other_len), BSA_OK);
        CHECK_STATUS(bsa_buddy_add_region(&b, region, len), BSA_OK);
    } else {
        CHECK_STATUS(bsa_buddy_init(&b, page_size, NULL, region, len), BSA_OK);
    }
    CHECK(bm_sync_sections(&m, &b));
    VERIFY(&m, &b);

    bsa_section_info_t info = {0};
    bool found = false;
    for (size_t i = 0; i < bsa_buddy_section_count(&b); i++) {
        CHECK_STATUS(bsa_buddy_section(&b, i, &info), BSA_OK);
        if ((unsigned char *)info.start > region && (unsigned char *)info.start < end) {
            found = true;
            break;
        }
    }
    if (!CHECK(found))
        return;
    uintptr_t first = ((uintptr_t)region + page_size - 1) / page_size * page_size;
    uintptr_t last = ((uintptr_t)end) / page_size * page_size;
    size_t whole = (size_t)(last - first) / page_size; /* whole pages in the region */
    CHECK((uintptr_t)info.start % page_size == 0);
    CHECK((unsigned char *)info.start + info.bytes <= end);
    /* The metadata of these few pages fits in one page: at most one page is lost. */
    CHECK(info.total_pages == whole || info.total_pages + 1 == whole);
    if (first - (uintptr_t)region >= page_size / 2) /* ample room before the 1st page */
        CHECK_EQ_SZ(info.total_pages, whole);

    size_t n = 0;
    for (;;) {
        void *p = TAKE(&m, &b, 1, 0, false);
        if (p == NULL)
            break;
        n++;
        unsigned char *q = p;
        /* past the metadata, inside the region */
        if (!add || (q > region && q < end)) {
            CHECK((uintptr_t)q % page_size == 0);
            CHECK(q >= (unsigned char *)info.start && q + page_size <= end);
        }
        memset(q, 0xee, page_size); /* must not hit the metadata */
    }
    VERIFY(&m, &b);
    CHECK_EQ_SZ(n, info.total_pages + (add ? 3 : 0));
    for (size_t i = 0; i < offset; i++)
        if (base[i] != CANARY) {
            fprintf(stderr, "  offset %zu: byte %zu before the region was written\n", offset,
                    offset - i);
            CHECK(false);
            break;
        }
    for (unsigned char *q = end; q < base + inner; q++)
        if (*q != CANARY) {
            fprintf(stderr, "  offset %zu: byte %zu after the region was written\n", offset,
                    (size_t)(q - end));
            CHECK(false);
            break;
        }
    bm_destroy(&m);
    CHECK(mprotect(map, total, PROT_READ | PROT_WRITE) == 0);
    test_region_free(map, total);
    if (other != NULL)
        test_region_free(other, other_len);
}

static void scenario_odd_addresses(void) {
    static const size_t offsets[] = {1, 3, 4095, 17 * 4096 + 5, 2048, 4096 - 1000};
    for (size_t i = 0; i < sizeof offsets / sizeof offsets[0]; i++) {
        odd_region(PS, offsets[i], 40 * PS + 77, false);
        odd_region(PS, offsets[i], 40 * PS + 77, true);
        odd_region(PS, offsets[i], 3 * PS, false); /* one or two pages only */
    }
    static const size_t big_offsets[] = {1, 65535, 3 * 65536 + 5};
    for (size_t i = 0; i < sizeof big_offsets / sizeof big_offsets[0]; i++) {
        odd_region(64 * KIB, big_offsets[i], 8 * 64 * KIB + 77, false);
        odd_region(64 * KIB, big_offsets[i], 8 * 64 * KIB + 77, true);
    }
}

/* ---- f ---------------------------------------------------------------------------- */
static void overhead(size_t len, size_t page_size) {
    unsigned char *region = mmap(NULL, len, PROT_READ | PROT_WRITE,
                                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (!CHECK(region != MAP_FAILED))
        return;
    bsa_buddy_t b;
    CHECK_STATUS(bsa_buddy_init(&b, page_size, NULL, region, len), BSA_OK);
    size_t managed = bsa_buddy_managed_bytes(&b);
    size_t over = len - managed;
    size_t limit = len / 200 + page_size + page_size; /* 0.5% + one page + alignment */
    printf("metadata overhead: region %zu MiB, page %zu: managed %zu, overhead %zu bytes "
           "(%.3f%%, limit %zu)\n",
           len / MIB, page_size, managed, over, 100.0 * (double)over / (double)len, limit);
    CHECK(managed <= len);
    CHECK(over <= limit);
    /* The largest block that fits is there and usable. */
    bsa_section_info_t info;
    CHECK_STATUS(bsa_buddy_section(&b, 0, &info), BSA_OK);
    size_t top = 1;
    while (top * 2 <= info.total_pages && top * 2 <= BSA_MAX_COUNT)
        top *= 2;
    void *p = NULL;
    CHECK_STATUS(bsa_buddy_alloc_pages(&b, top, 0, &p), BSA_OK);
    CHECK_EQ_SZ(bsa_buddy_allocated_bytes(&b), top * page_size);
    CHECK_STATUS(bsa_buddy_check(&b), BSA_OK);
    CHECK_STATUS(bsa_buddy_free_pages(&b, p, top), BSA_OK);
    CHECK_EQ_SZ(bsa_buddy_allocated_bytes(&b), 0);
    CHECK_STATUS(bsa_buddy_check(&b), BSA_OK);
    munmap(region, len);
}

static void scenario_overhead(void) {
    overhead(1 * MIB, PS);
    overhead(64 * MIB, PS);
    overhead(1024 * MIB, PS);
    overhead(64 * MIB, 64 * KIB);
    overhead(1024 * MIB, 64 * KIB);
}

/* ---- g ---------------------------------------------------------------------------- */
#define NREG 200
#define SLOT (8 * PS)   /* region j occupies the first 3 pages of slot j */
#define RLEN (3 * PS)   /* metadata page + 2 managed pages */

static void scenario_many_sections(void) {
    test_rng_t rng = test_rng_init(test_seed(0x5ec71045));
    unsigned char *big = test_region(NREG * SLOT);
    size_t order[NREG];
    for (size_t i = 0; i < NREG; i++)
        order[i] = i;
    for (size_t i = NREG - 1; i > 0; i--) {
        size_t j = (size_t)test_rng_below(&rng, i + 1), t = order[i];
        order[i] = order[j];
        order[j] = t;
    }
    bsa_buddy_t b;
    bm_model_t m;
    bm_init(&m, PS, NULL);
    CHECK_STATUS(bsa_buddy_init(&b, PS, NULL, big + order[0] * SLOT, RLEN), BSA_OK);
    for (size_t i = 1; i < NREG; i++)
        CHECK_STATUS(bsa_buddy_add_region(&b, big + order[i] * SLOT, RLEN), BSA_OK);
    CHECK_EQ_SZ(bsa_buddy_section_count(&b), NREG);
    CHECK(bm_sync_sections(&m, &b));
    VERIFY(&m, &b);
    CHECK_EQ_SZ(bsa_buddy_managed_bytes(&b), NREG * 2 * PS);

    /* Fill everything; then free one page per region, in random order. */
    for (size_t i = 0; i < 2 * NREG; i++)
        if (!CHECK(TAKE(&m, &b, 1, 0, false) != NULL))
            return;
    CHECK(TAKE(&m, &b, 1, 0, false) == NULL);
    for (size_t i = 0; i < NREG; i++) {
        unsigned char *page = big + order[i] * SLOT + PS + (i % 2) * PS;
        size_t s = section_of(&b, page);
        CHECK(s != SIZE_MAX);
        size_t before = section_free(&b, s);
        GIVE(&m, &b, page, 1);
        CHECK_EQ_SZ(section_free(&b, s), before + 1);
        CHECK_STATUS(bsa_buddy_free_pages(&b, page, 1), BSA_E_BAD_FREE); /* double */
        /* the gap after the region belongs to nobody */
        CHECK_STATUS(bsa_buddy_free_pages(&b, big + order[i] * SLOT + RLEN, 1),
                     BSA_E_BAD_FREE);
        CHECK_STATUS(bsa_buddy_free_pages(&b, big + order[i] * SLOT, 1), BSA_E_BAD_FREE);
    }
    VERIFY(&m, &b);

    /* A region filling the gap between regions j and j+1 exactly: touches both. */
    size_t j = NREG / 2;
    unsigned char *gap = big + j * SLOT + RLEN;
    CHECK_STATUS(bsa_buddy_add_region(&b, gap - 1, SLOT - RLEN), BSA_E_OVERLAP);
    CHECK_STATUS(bsa_buddy_add_region(&b, gap, SLOT - RLEN + 1), BSA_E_OVERLAP);
    CHECK_STATUS(bsa_buddy_add_region(&b, gap, SLOT - RLEN), BSA_OK);
    CHECK(bm_sync_sections(&m, &b));
    VERIFY(&m, &b);
    size_t s = section_of(&b, gap + PS);
    CHECK(s != SIZE_MAX && section_free(&b, s) == 4);
    /* Every other section has one free page and no free pair: 4 pages come from the
     * new section. */
    void *four = TAKE(&m, &b, 4, 0, false);
    CHECK(four != NULL && section_of(&b, four) == s);
    VERIFY(&m, &b);
    CHECK(TAKE(&m, &b, 2, 0, false) == NULL);
    GIVE(&m, &b, four, 4);
    VERIFY(&m, &b);

    /* Every live page, found through the section lookup, in address order. */
    for (size_t i = 0; i < NREG * SLOT / PS; i++) {
        unsigned char *pg = big + i * PS;
        if (bm_free_verdict(&m, pg, 1) == BM_FREE_OK)
            GIVE(&m, &b, pg, 1);
        else
            CHECK_STATUS(bsa_buddy_free_pages(&b, pg, 1), BSA_E_BAD_FREE);
    }
    VERIFY(&m, &b);
    CHECK_EQ_SZ(bsa_buddy_allocated_bytes(&b), 0);
    bm_destroy(&m);
}

int main(void) {
    scenario_checkerboard();
    scenario_aligned();
    scenario_two_sections();
    scenario_lowmem();
    scenario_odd_addresses();
    scenario_overhead();
    scenario_many_sections();
    TEST_MAIN_END();
}
