/*
 * test_buddy_api.c - every buddy function on well-formed input.
 *
 * After each step every counter (managed/allocated bytes, per-section info, free blocks
 * per order) is compared with the reference model in buddy_model.h, and with literal
 * values where the contract fixes them, and bsa_buddy_check must say BSA_OK.
 */
#include <string.h>

#include "bsa.h"
#include "buddy_model.h"
#include "test_util.h"

#define PS ((size_t)4096)

static bool verify_at(bm_model_t *m, const bsa_buddy_t *b, int line) {
    if (bm_verify(m, b))
        return true;
    fprintf(stderr, "test_buddy_api.c:%d: model disagrees: %s\n", line, m->msg);
    return false;
}
#define VERIFY(m, b) CHECK(verify_at((m), (b), __LINE__))

/* Allocates through the core and the model; returns the block or NULL. */
static void *take(bm_model_t *m, bsa_buddy_t *b, size_t count, size_t align, bool lowmem) {
    unsigned order = bm_order_of(count);
    bool expect = bm_can_alloc(m, order, align, lowmem);
    void *p = NULL;
    bsa_status_t st = lowmem ? bsa_buddy_alloc_pages_lowmem(b, count, align, &p)
                             : bsa_buddy_alloc_pages(b, count, align, &p);
    CHECK_STATUS(st, expect ? BSA_OK : BSA_E_NOMEM);
    if (st != BSA_OK)
        return NULL;
    if (!bm_take(m, p, order, align, lowmem)) {
        fprintf(stderr, "  alloc(count %zu, align %zu, lowmem %d): %s\n", count, align,
                (int)lowmem, m->msg);
        CHECK(false);
        return NULL;
    }
    memset(p, 0xcc, ((size_t)1 << order) * PS); /* the pages are the caller's now */
    return p;
}

static void give(bm_model_t *m, bsa_buddy_t *b, void *p, size_t count) {
    if (p == NULL) /* its allocation failed, and was reported */
        return;
    CHECK_STATUS(bsa_buddy_free_pages(b, p, count), BSA_OK);
    bm_release(m, p);
}

static void test_status_names(void) {
    static const struct {
        bsa_status_t s;
        const char *name;
    } names[] = {
        {BSA_OK, "BSA_OK"},
        {BSA_NEED_PAGES, "BSA_NEED_PAGES"},
        {BSA_RELEASE_PAGES, "BSA_RELEASE_PAGES"},
        {BSA_E_INVALID, "BSA_E_INVALID"},
        {BSA_E_NOMEM, "BSA_E_NOMEM"},
        {BSA_E_OVERLAP, "BSA_E_OVERLAP"},
        {BSA_E_UNINIT, "BSA_E_UNINIT"},
        {BSA_E_BAD_FREE, "BSA_E_BAD_FREE"},
        {BSA_E_CORRUPT, "BSA_E_CORRUPT"},
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        const char *got = bsa_status_name(names[i].s);
        CHECK(got != NULL);
        if (got != NULL && strcmp(got, names[i].name) != 0) {
            fprintf(stderr, "  status %d named \"%s\", want \"%s\"\n", (int)names[i].s, got,
                    names[i].name);
            CHECK(false);
        }
    }
    const int unknown[] = {3, 42, -7, -100, 1000000};
    for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
        const char *got = bsa_status_name((bsa_status_t)unknown[i]);
        CHECK(got != NULL && strcmp(got, "BSA_UNKNOWN_STATUS") == 0);
    }
}

/* init on a garbage-filled struct, then every allocation shape on a 32-page heap. */
static void test_one_section(void) {
    /* The managed pages start at a 64 KiB boundary, so aligned requests have a fixed
     * answer: region page 0 is metadata (see below). */
    unsigned char *region = (unsigned char *)test_region_aligned(64 * PS, 16 * PS) + 15 * PS;
    bsa_buddy_t b;
    memset(&b, 0xa5, sizeof b); /* garbage: init must not read it */
    CHECK_STATUS(bsa_buddy_init(&b, PS, NULL, region, 33 * PS), BSA_OK);

    bm_model_t m;
    bm_init(&m, PS, NULL);
    CHECK(bm_sync_sections(&m, &b));

    /* The metadata of 32 pages needs less than a page: region page 0 is metadata and
     * pages 1..32 are managed. These values are fixed by the contract, not the model. */
    CHECK_EQ_SZ(bsa_buddy_section_count(&b), 1);
    bsa_section_info_t info;
    CHECK_STATUS(bsa_buddy_section(&b, 0, &info), BSA_OK);
    CHECK(info.start == region + PS);
    CHECK_EQ_SZ(info.total_pages, 32);
    CHECK_EQ_SZ(info.free_pages, 32);
    CHECK_EQ_SZ(info.bytes, 32 * PS);
    CHECK_EQ_SZ(bsa_buddy_managed_bytes(&b), 32 * PS);
    CHECK_EQ_SZ(bsa_buddy_allocated_bytes(&b), 0);
    for (unsigned k = 0; k <= BSA_MAX_ORDER; k++)
        CHECK_EQ_SZ(bsa_buddy_free_blocks(&b, k), k == 5 ? 1u : 0u);
    CHECK_EQ_SZ(bsa_buddy_free_blocks(&b, BSA_MAX_ORDER + 1), 0);
    CHECK_EQ_SZ(bsa_buddy_free_blocks(&b, 1000), 0);
    CHECK_EQ_SZ(bsa_buddy_free_blocks(&b, ~0u), 0);
    CHECK_STATUS(bsa_buddy_check(&b), BSA_OK);
    VERIFY(&m, &b);

    /* One page: splits 32 into 16+8+4+2+1 free whatever page is chosen. */
    void *p1 = take(&m, &b, 1, 0, false);
    CHECK(p1 != NULL);
    CHECK_EQ_SZ(bsa_buddy_allocated_bytes(&b), PS);
    for (unsigned k = 0; k <= 4; k++)
        CHECK_EQ_SZ(bsa_buddy_free_blocks(&b, k), 1);
    CHECK_EQ_SZ(bsa_buddy_free_blocks(&b, 5), 0);
    VERIFY(&m, &b);

    void *p3 = take(&m, &b, 3, 0, false); /* rounds up to 4 pages */
    CHECK_EQ_SZ(bsa_buddy_allocated_bytes(&b), 5 * PS);
    VERIFY(&m, &b);
    void *p5 = take(&m, &b, 5, 0, false); /* 8 pages */
    CHECK_EQ_SZ(bsa_buddy_allocated_bytes(&b), 13 * PS);
    VERIFY(&m, &b);
    void *p2 = take(&m, &b, 2, 8 * PS, false); /* 2 pages at a 32 KiB boundary */
    CHECK(p2 != NULL && (uintptr_t)p2 % (8 * PS) == 0);
    CHECK_EQ_SZ(bsa_buddy_allocated_bytes(&b), 15 * PS);
    VERIFY(&m, &b);
    /* 17 free pages left: 16 may or may not fit depending on placement; the model
     * says which, and the core must agree either way. */
    void *p16 = take(&m, &b, 16, 0, false);
    VERIFY(&m, &b);
    if (p16 != NULL) {
        give(&m, &b, p16, 16);
        VERIFY(&m, &b);
    }

    give(&m, &b, p3, 3); /* 3 rounds to 4: the block's own order */
    CHECK_EQ_SZ(bsa_buddy_allocated_bytes(&b), 11 * PS);
    VERIFY(&m, &b);
    give(&m, &b, p1, 1);
    VERIFY(&m, &b);
    give(&m, &b, p5, 7); /* 7 rounds to 8 */
    VERIFY(&m, &b);
    give(&m, &b, p2, 2);
    VERIFY(&m, &b);
    CHECK_EQ_SZ(bsa_buddy_allocated_bytes(&b), 0);
    CHECK_EQ_SZ(bsa_buddy_free_blocks(&b, 5), 1);

    /* The whole heap in one block, then nothing is left. */
    void *all = take(&m, &b, 17, 0, false); /* 17 rounds to 32 */
    CHECK(all == region + PS);
    CHECK_EQ_SZ(bsa_buddy_allocated_bytes(&b), 32 * PS);
    CHECK_STATUS(bsa_buddy_section(&b, 0, &info), BSA_OK);
    CHECK_EQ_SZ(info.free_pages, 0);
    for (unsigned k = 0; k <= BSA_MAX_ORDER; k++)
        CHECK_EQ_SZ(bsa_buddy_free_blocks(&b, k), 0);
    VERIFY(&m, &b);
    void *none = (void *)1;
    CHECK_STATUS(bsa_buddy_alloc_pages(&b, 1, 0, &none), BSA_E_NOMEM);
    VERIFY(&m, &b);
    give(&m, &b, all, 32);
    CHECK_EQ_SZ(bsa_buddy_free_blocks(&b, 5), 1);
    VERIFY(&m, &b);

    /* Largest aligned request that exists: 64 KiB alignment, 1 page. */
    void *a16 = take(&m, &b, 1, 16 * PS, false);
    VERIFY(&m, &b);
    if (a16 != NULL)
        give(&m, &b, a16, 1);
    VERIFY(&m, &b);
    bm_destroy(&m);
}

static unsigned poisoned_calls;
static uint64_t poisoned_v2p(void *ctx, uintptr_t va) {
    (void)ctx;
    poisoned_calls++;
    return (uint64_t)va;
}

/* add_region, section lookup of the new section, the ops table copied at init, and
 * lowmem allocation under a translator that puts the heap below 4 GiB. */
static void test_add_region_and_lowmem(void) {
    bm_xlate_t x;
    memset(&x, 0, sizeof x);
    unsigned char *r0 = test_region(40 * PS);
    unsigned char *r1 = test_region(24 * PS + 100);
    bm_xlate_add(&x, r0, 40 * PS, 0x40000000ull);              /* 1 GiB: low  */
    bm_xlate_add(&x, r1, 24 * PS + 100, 0x200000000ull);       /* 8 GiB: high */

    bsa_ops_t ops = {.ctx = &x, .virt_to_phys = bm_xlate_v2p};
    bsa_buddy_t b;
    memset(&b, 0, sizeof b);
    CHECK_STATUS(bsa_buddy_init(&b, PS, &ops, r0, 40 * PS), BSA_OK);
    CHECK(x.calls >= 1);
    /* The table is copied at init: changing ours afterwards changes nothing. */
    ops.virt_to_phys = poisoned_v2p;
    ops.ctx = NULL;

    bm_model_t m;
    bm_init(&m, PS, &x);
    CHECK(bm_sync_sections(&m, &b));
    VERIFY(&m, &b);
    size_t managed0 = bsa_buddy_managed_bytes(&b);
    CHECK_EQ_SZ(managed0, 39 * PS);

    unsigned calls_before = x.calls;
    CHECK_STATUS(bsa_buddy_add_region(&b, r1, 24 * PS + 100), BSA_OK);
    CHECK(x.calls > calls_before);
    CHECK(poisoned_calls == 0);
    CHECK_EQ_SZ(x.misses, 0);
    CHECK_EQ_SZ(bsa_buddy_section_count(&b), 2);
    CHECK(bm_sync_sections(&m, &b));
    for (size_t i = 0; i < 2; i++) {
        bsa_section_info_t info;
        CHECK_STATUS(bsa_buddy_section(&b, i, &info), BSA_OK);
        unsigned char *lo = i == 0 ? r0 : r1;
        size_t len = i == 0 ? 40 * PS : 24 * PS + 100;
        /* each section is the one of its own region, in registration order */
        CHECK((unsigned char *)info.start > lo);
        CHECK((uintptr_t)info.start % PS == 0);
        CHECK((unsigned char *)info.start + info.bytes <= lo + len);
    }
    CHECK_EQ_SZ(bsa_buddy_managed_bytes(&b), managed0 + 23 * PS);
    VERIFY(&m, &b);

    /* lowmem: only r0 is below 4 GiB; plain allocations may use both. */
    void *lows[64];
    size_t nlow = 0;
    for (;;) {
        void *p = take(&m, &b, 2, 0, true);
        VERIFY(&m, &b);
        if (p == NULL)
            break;
        CHECK((unsigned char *)p >= r0 && (unsigned char *)p < r0 + 40 * PS);
        lows[nlow++] = p;
        if (nlow == sizeof lows / sizeof lows[0])
            break;
    }
    /* 39 managed pages (32 + 4 + 2 + 1) hold 16 + 2 + 1 buddy-aligned pairs */
    CHECK_EQ_SZ(nlow, 19);
    void *hi = take(&m, &b, 4, 0, false); /* r0 has one page left: r1 serves it */
    CHECK(hi != NULL && (unsigned char *)hi > r1 && (unsigned char *)hi < r1 + 24 * PS);
    VERIFY(&m, &b);
    for (size_t i = 0; i < nlow; i++) {
        give(&m, &b, lows[i], 2);
        VERIFY(&m, &b);
    }
    give(&m, &b, hi, 3);
    VERIFY(&m, &b);
    CHECK_EQ_SZ(bsa_buddy_allocated_bytes(&b), 0);
    bm_destroy(&m);
}

/* With no ops the translation is the identity: lowmem succeeds exactly when the
 * virtual addresses end below 4 GiB, which the model predicts from the addresses. */
static void test_lowmem_identity(void) {
    unsigned char *r = test_region(9 * PS);
    bsa_buddy_t b;
    memset(&b, 0, sizeof b);
    CHECK_STATUS(bsa_buddy_init(&b, PS, NULL, r, 9 * PS), BSA_OK);
    bm_model_t m;
    bm_init(&m, PS, NULL);
    CHECK(bm_sync_sections(&m, &b));
    void *p = take(&m, &b, 1, 0, true);
    VERIFY(&m, &b);
    if (p != NULL)
        give(&m, &b, p, 1);
    VERIFY(&m, &b);
    bm_destroy(&m);
}

int main(void) {
    test_status_names();
    test_one_section();
    test_add_region_and_lowmem();
    test_lowmem_identity();
    TEST_MAIN_END();
}
