/*
 * test_buddy_bad_input.c - every bad input to the buddy (DESIGN section 6) is refused
 * with its status, and the instance is exactly as before: section count, each
 * section's info, managed/allocated bytes, free blocks per order, bsa_buddy_check OK.
 * Live blocks carry fill patterns that must survive every refused call.
 */
#include <stdint.h>
#include <string.h>

#include "bsa.h"
#include "buddy_model.h"
#include "test_util.h"

#define PS ((size_t)4096)

static bsa_buddy_t b;
static unsigned char *live4, *live1; /* live blocks of 4 and 1 pages */

static bool patterns_intact(void) {
    for (size_t i = 0; i < 4 * PS; i++)
        if (live4[i] != 0x44)
            return false;
    for (size_t i = 0; i < PS; i++)
        if (live1[i] != 0x11)
            return false;
    return true;
}

/* `call` must return one of `w1`/`w2` and leave everything observable as it was. */
static void refused_at(bsa_status_t got, bsa_status_t w1, bsa_status_t w2,
                       const bm_snap_t *before, const char *what, int line) {
    bool ok = got == w1 || got == w2;
    if (!ok)
        fprintf(stderr, "test_buddy_bad_input.c:%d: %s = %s, want %s\n", line, what,
                bsa_status_name(got), bsa_status_name(w1));
    if (!bm_snap_same(&b, before, what)) {
        fprintf(stderr, "test_buddy_bad_input.c:%d: %s changed the instance\n", line, what);
        ok = false;
    }
    if (!patterns_intact()) {
        fprintf(stderr, "test_buddy_bad_input.c:%d: %s touched a live block\n", line, what);
        ok = false;
    }
    CHECK(ok);
}
#define REFUSED2(call, w1, w2)                                                           \
    do {                                                                                 \
        bm_snap_t snap_;                                                                 \
        bm_snap_take(&b, &snap_);                                                        \
        bsa_status_t st_ = (call);                                                       \
        refused_at(st_, (w1), (w2), &snap_, #call, __LINE__);                            \
    } while (0)
#define REFUSED(call, want) REFUSED2(call, want, want)

static bool all_zero(const unsigned char *p, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (p[i] != 0)
            return false;
    return true;
}

/* Calls on a zero-filled instance before init. */
static void test_uninit(void) {
    static bsa_buddy_t z; /* zero-filled */
    unsigned char *r = test_region(16 * PS);
    void *p = NULL;
    bsa_section_info_t info;
    CHECK_STATUS(bsa_buddy_add_region(&z, r, 16 * PS), BSA_E_UNINIT);
    CHECK_STATUS(bsa_buddy_alloc_pages(&z, 1, 0, &p), BSA_E_UNINIT);
    CHECK_STATUS(bsa_buddy_alloc_pages_lowmem(&z, 1, 0, &p), BSA_E_UNINIT);
    CHECK_STATUS(bsa_buddy_free_pages(&z, r + PS, 1), BSA_E_UNINIT);
    CHECK_STATUS(bsa_buddy_section(&z, 0, &info), BSA_E_UNINIT);
    CHECK_STATUS(bsa_buddy_check(&z), BSA_E_UNINIT);
    CHECK_EQ_SZ(bsa_buddy_section_count(&z), 0);
    CHECK_EQ_SZ(bsa_buddy_managed_bytes(&z), 0);
    CHECK_EQ_SZ(bsa_buddy_allocated_bytes(&z), 0);
    for (unsigned k = 0; k <= BSA_MAX_ORDER; k++)
        CHECK_EQ_SZ(bsa_buddy_free_blocks(&z, k), 0);
    CHECK(all_zero(r, 16 * PS)); /* the refused region was not written */

    /* A failed init leaves it uninitialised, and writes nothing into the region. */
    CHECK_STATUS(bsa_buddy_init(&z, 3000, NULL, r, 16 * PS), BSA_E_INVALID);
    CHECK_STATUS(bsa_buddy_init(&z, PS, NULL, NULL, 16 * PS), BSA_E_INVALID);
    CHECK_STATUS(bsa_buddy_init(&z, PS, NULL, r, PS), BSA_E_INVALID);
    CHECK(all_zero(r, 16 * PS));
    CHECK_STATUS(bsa_buddy_alloc_pages(&z, 1, 0, &p), BSA_E_UNINIT);
    CHECK_STATUS(bsa_buddy_check(&z), BSA_E_UNINIT);
    CHECK_EQ_SZ(bsa_buddy_section_count(&z), 0);
    CHECK_EQ_SZ(bsa_buddy_managed_bytes(&z), 0);

    /* A NULL instance is refused too, and never dereferenced. */
    bsa_status_t st = bsa_buddy_alloc_pages(NULL, 1, 0, &p);
    CHECK(st == BSA_E_INVALID || st == BSA_E_UNINIT);
    st = bsa_buddy_free_pages(NULL, r + PS, 1);
    CHECK(st == BSA_E_INVALID || st == BSA_E_UNINIT);
    st = bsa_buddy_check(NULL);
    CHECK(st == BSA_E_INVALID || st == BSA_E_UNINIT);
    st = bsa_buddy_init(NULL, PS, NULL, r, 16 * PS);
    CHECK(st == BSA_E_INVALID);
    CHECK_EQ_SZ(bsa_buddy_section_count(NULL), 0);
    CHECK_EQ_SZ(bsa_buddy_managed_bytes(NULL), 0);
    CHECK_EQ_SZ(bsa_buddy_allocated_bytes(NULL), 0);
    CHECK_EQ_SZ(bsa_buddy_free_blocks(NULL, 0), 0);

    /* And once initialised, the same instance works. */
    CHECK_STATUS(bsa_buddy_init(&z, PS, NULL, r, 16 * PS), BSA_OK);
    CHECK_STATUS(bsa_buddy_alloc_pages(&z, 1, 0, &p), BSA_OK);
    CHECK_STATUS(bsa_buddy_check(&z), BSA_OK);
}

/* Bad page sizes, NULL and too-small regions, given to init on a live instance (which
 * must not change) and to add_region. */
static void test_bad_regions(unsigned char *big) {
    unsigned char *other = big + 120 * PS; /* unused part of the mapping */
    static const size_t bad_ps[] = {0, 1, 2048, 3000, 5000, 3 * 4096, 131072,
                                    (size_t)1 << 20, (size_t)1 << 63, SIZE_MAX};
    for (size_t i = 0; i < sizeof bad_ps / sizeof bad_ps[0]; i++)
        REFUSED(bsa_buddy_init(&b, bad_ps[i], NULL, other, 16 * PS), BSA_E_INVALID);
    REFUSED(bsa_buddy_init(&b, PS, NULL, NULL, 16 * PS), BSA_E_INVALID);
    REFUSED(bsa_buddy_add_region(&b, NULL, 16 * PS), BSA_E_INVALID);
    REFUSED(bsa_buddy_add_region(&b, NULL, 0), BSA_E_INVALID);

    /* Too small: the metadata starts the region, so from a page-aligned start one page
     * needs 2 pages; less than that leaves no whole page. */
    REFUSED(bsa_buddy_add_region(&b, other, 0), BSA_E_INVALID);
    REFUSED(bsa_buddy_add_region(&b, other, 1), BSA_E_INVALID);
    REFUSED(bsa_buddy_add_region(&b, other, PS), BSA_E_INVALID);
    REFUSED(bsa_buddy_add_region(&b, other, 2 * PS - 1), BSA_E_INVALID);
    REFUSED(bsa_buddy_add_region(&b, other + 1, 2 * PS - 2), BSA_E_INVALID);
    REFUSED(bsa_buddy_add_region(&b, other + PS - 1, 2 * PS - 1), BSA_E_INVALID);
    REFUSED(bsa_buddy_init(&b, PS, NULL, other, 2 * PS - 1), BSA_E_INVALID);
    /* Wrapping around the address space. */
    REFUSED2(bsa_buddy_add_region(&b, other, SIZE_MAX), BSA_E_INVALID, BSA_E_OVERLAP);
    REFUSED2(bsa_buddy_add_region(&b, other, (size_t)0 - (uintptr_t)other + 1), BSA_E_INVALID,
             BSA_E_OVERLAP);
}

static void expect_added(unsigned char *region, size_t len, size_t *sections) {
    CHECK_STATUS(bsa_buddy_add_region(&b, region, len), BSA_OK);
    (*sections)++;
    CHECK_EQ_SZ(bsa_buddy_section_count(&b), *sections);
    CHECK_STATUS(bsa_buddy_check(&b), BSA_OK);
    CHECK(patterns_intact());
}

/* R is [big + 48 pages, big + 81 pages). */
static void test_overlap(unsigned char *big) {
    unsigned char *r = big + 48 * PS, *r_end = r + 33 * PS;
    REFUSED(bsa_buddy_add_region(&b, r, 33 * PS), BSA_E_OVERLAP);              /* same    */
    REFUSED(bsa_buddy_add_region(&b, r + 4 * PS, 8 * PS), BSA_E_OVERLAP);      /* inside  */
    REFUSED(bsa_buddy_add_region(&b, r + 1, 8 * PS), BSA_E_OVERLAP);           /* in meta */
    REFUSED(bsa_buddy_add_region(&b, r_end - 8 * PS, 8 * PS), BSA_E_OVERLAP);  /* at end  */
    REFUSED(bsa_buddy_add_region(&b, r - 4 * PS, 8 * PS), BSA_E_OVERLAP);      /* start   */
    REFUSED(bsa_buddy_add_region(&b, r - 8 * PS, 8 * PS + 1), BSA_E_OVERLAP);  /* 1 byte  */
    REFUSED(bsa_buddy_add_region(&b, r_end - 4 * PS, 8 * PS), BSA_E_OVERLAP);  /* end     */
    REFUSED(bsa_buddy_add_region(&b, r_end - 1, 8 * PS), BSA_E_OVERLAP);       /* 1 byte  */
    REFUSED(bsa_buddy_add_region(&b, r - 8 * PS, 49 * PS), BSA_E_OVERLAP);     /* covers  */

    size_t sections = bsa_buddy_section_count(&b);
    expect_added(r - 8 * PS, 8 * PS, &sections); /* touching below */
    expect_added(r_end, 8 * PS, &sections);      /* touching above */

    /* A region at an odd address: its slack bytes before the first page and after the
     * last one belong to it, so overlapping them is refused too. */
    unsigned char *u = big + 100 * PS + 123, *u_end = u + 10 * PS;
    expect_added(u, 10 * PS, &sections);
    REFUSED(bsa_buddy_add_region(&b, big + 90 * PS, 10 * PS + 124), BSA_E_OVERLAP);
    REFUSED(bsa_buddy_add_region(&b, u_end - 1, 8 * PS), BSA_E_OVERLAP);
    REFUSED(bsa_buddy_add_region(&b, u + PS, 2 * PS), BSA_E_OVERLAP);
    expect_added(big + 90 * PS + 123, 10 * PS, &sections); /* touching u's start */
    expect_added(u_end, 8 * PS, &sections);                /* touching u's end   */
    /* The exact minimum, two pages from a page-aligned start, is one managed page. */
    expect_added(big + 130 * PS, 2 * PS, &sections);
    bsa_section_info_t info;
    size_t found = 0;
    for (size_t i = 0; i < sections; i++) {
        CHECK_STATUS(bsa_buddy_section(&b, i, &info), BSA_OK);
        if ((unsigned char *)info.start == big + 131 * PS) {
            found++;
            CHECK_EQ_SZ(info.total_pages, 1);
        }
    }
    CHECK_EQ_SZ(found, 1);
}

static void test_bad_alloc(void) {
    void *p = NULL;
    static const size_t bad_count[] = {0, BSA_MAX_COUNT + 1, BSA_MAX_COUNT * 2, SIZE_MAX};
    for (size_t i = 0; i < sizeof bad_count / sizeof bad_count[0]; i++) {
        REFUSED(bsa_buddy_alloc_pages(&b, bad_count[i], 0, &p), BSA_E_INVALID);
        REFUSED(bsa_buddy_alloc_pages_lowmem(&b, bad_count[i], 0, &p), BSA_E_INVALID);
    }
    static const size_t bad_align[] = {1, 2, 8, 2048, PS / 2, 3, PS + 1, 3 * PS, 12345,
                                       SIZE_MAX};
    for (size_t i = 0; i < sizeof bad_align / sizeof bad_align[0]; i++) {
        REFUSED(bsa_buddy_alloc_pages(&b, 1, bad_align[i], &p), BSA_E_INVALID);
        REFUSED(bsa_buddy_alloc_pages_lowmem(&b, 1, bad_align[i], &p), BSA_E_INVALID);
    }
    REFUSED(bsa_buddy_alloc_pages(&b, 0, 3, &p), BSA_E_INVALID);
    REFUSED(bsa_buddy_alloc_pages(&b, 1, 0, NULL), BSA_E_INVALID);
    REFUSED(bsa_buddy_alloc_pages_lowmem(&b, 1, 0, NULL), BSA_E_INVALID);
    bsa_section_info_t info;
    REFUSED(bsa_buddy_section(&b, 0, NULL), BSA_E_INVALID);
    REFUSED(bsa_buddy_section(&b, bsa_buddy_section_count(&b), &info), BSA_E_INVALID);
    REFUSED(bsa_buddy_section(&b, SIZE_MAX, &info), BSA_E_INVALID);

    /* Well-formed but unsatisfiable: NOMEM, and nothing changes either. */
    REFUSED(bsa_buddy_alloc_pages(&b, BSA_MAX_COUNT, 0, &p), BSA_E_NOMEM);
    REFUSED(bsa_buddy_alloc_pages(&b, 1024, 0, &p), BSA_E_NOMEM);
    REFUSED2(bsa_buddy_alloc_pages(&b, 1, (size_t)1 << 63, &p), BSA_E_NOMEM, BSA_E_INVALID);
}

/* A page address of `b` that is free: a free block's head and, if the block is larger,
 * a page inside it. */
static void find_free_pages(unsigned char **head, unsigned char **inner) {
    *head = *inner = NULL;
    /* Ask the core: allocate the largest free block, note it, give it back. */
    for (unsigned k = BSA_MAX_ORDER + 1; k-- > 0 && *head == NULL;) {
        if (bsa_buddy_free_blocks(&b, k) == 0)
            continue;
        void *p;
        CHECK_STATUS(bsa_buddy_alloc_pages(&b, (size_t)1 << k, 0, &p), BSA_OK);
        CHECK_STATUS(bsa_buddy_free_pages(&b, p, (size_t)1 << k), BSA_OK);
        *head = p;
        *inner = k > 0 ? (unsigned char *)p + PS : NULL;
    }
}

static void test_bad_free(unsigned char *big) {
    unsigned char *r = big + 48 * PS;
    int on_stack = 0;
    unsigned char *foreign = test_region(4 * PS);
    /* Outside every section. */
    REFUSED(bsa_buddy_free_pages(&b, NULL, 1), BSA_E_BAD_FREE);
    REFUSED(bsa_buddy_free_pages(&b, &on_stack, 1), BSA_E_BAD_FREE);
    REFUSED(bsa_buddy_free_pages(&b, foreign, 1), BSA_E_BAD_FREE);
    REFUSED(bsa_buddy_free_pages(&b, foreign + PS, 1), BSA_E_BAD_FREE);
    REFUSED(bsa_buddy_free_pages(&b, big + 2 * PS, 1), BSA_E_BAD_FREE);
    REFUSED(bsa_buddy_free_pages(&b, (void *)(uintptr_t)-4096, 1), BSA_E_BAD_FREE);
    /* The metadata prefix. */
    REFUSED(bsa_buddy_free_pages(&b, r, 1), BSA_E_BAD_FREE);
    REFUSED(bsa_buddy_free_pages(&b, r + 64, 1), BSA_E_BAD_FREE);
    /* Just past the last managed page of each section, and just before the first. */
    for (size_t i = 0; i < bsa_buddy_section_count(&b); i++) {
        bsa_section_info_t info;
        CHECK_STATUS(bsa_buddy_section(&b, i, &info), BSA_OK);
        unsigned char *s = info.start;
        REFUSED(bsa_buddy_free_pages(&b, s + info.bytes, 1), BSA_E_BAD_FREE);
        REFUSED(bsa_buddy_free_pages(&b, s - PS, 1), BSA_E_BAD_FREE);
        REFUSED(bsa_buddy_free_pages(&b, s - 1, 1), BSA_E_BAD_FREE);
    }
    /* The partial page after the last whole page of the odd region of test_overlap. */
    REFUSED(bsa_buddy_free_pages(&b, big + 110 * PS, 1), BSA_E_BAD_FREE);
    /* Non-head pages of a live block, with every count. */
    for (size_t i = 1; i < 4; i++) {
        REFUSED(bsa_buddy_free_pages(&b, live4 + i * PS, 1), BSA_E_BAD_FREE);
        REFUSED(bsa_buddy_free_pages(&b, live4 + i * PS, 4), BSA_E_BAD_FREE);
    }
    /* A count of another order. */
    REFUSED(bsa_buddy_free_pages(&b, live4, 1), BSA_E_BAD_FREE);
    REFUSED(bsa_buddy_free_pages(&b, live4, 2), BSA_E_BAD_FREE);
    REFUSED(bsa_buddy_free_pages(&b, live4, 5), BSA_E_BAD_FREE);
    REFUSED(bsa_buddy_free_pages(&b, live4, 8), BSA_E_BAD_FREE);
    REFUSED(bsa_buddy_free_pages(&b, live1, 2), BSA_E_BAD_FREE);
    REFUSED2(bsa_buddy_free_pages(&b, live1, 0), BSA_E_BAD_FREE, BSA_E_INVALID);
    REFUSED2(bsa_buddy_free_pages(&b, live4, BSA_MAX_COUNT + 1), BSA_E_BAD_FREE,
             BSA_E_INVALID);
    REFUSED2(bsa_buddy_free_pages(&b, live4, SIZE_MAX), BSA_E_BAD_FREE, BSA_E_INVALID);
    /* Unaligned addresses inside live blocks. */
    REFUSED(bsa_buddy_free_pages(&b, live4 + 1, 4), BSA_E_BAD_FREE);
    REFUSED(bsa_buddy_free_pages(&b, live4 + PS / 2, 4), BSA_E_BAD_FREE);
    REFUSED(bsa_buddy_free_pages(&b, live1 + 8, 1), BSA_E_BAD_FREE);
    REFUSED(bsa_buddy_free_pages(&b, live1 + PS - 1, 1), BSA_E_BAD_FREE);
    /* Free pages: the head of a free block with its own count, and a page inside it. */
    unsigned char *fhead, *finner;
    find_free_pages(&fhead, &finner);
    CHECK(fhead != NULL);
    if (fhead != NULL) {
        for (unsigned k = 0; k <= BSA_MAX_ORDER; k++)
            REFUSED(bsa_buddy_free_pages(&b, fhead, (size_t)1 << k), BSA_E_BAD_FREE);
    }
    if (finner != NULL)
        REFUSED(bsa_buddy_free_pages(&b, finner, 1), BSA_E_BAD_FREE);
    /* Double free: a single page, and a block that merged with its buddy on free. */
    void *d = NULL, *d2 = NULL;
    CHECK_STATUS(bsa_buddy_alloc_pages(&b, 1, 0, &d), BSA_OK);
    CHECK_STATUS(bsa_buddy_alloc_pages(&b, 2, 0, &d2), BSA_OK);
    CHECK_STATUS(bsa_buddy_free_pages(&b, d, 1), BSA_OK);
    REFUSED(bsa_buddy_free_pages(&b, d, 1), BSA_E_BAD_FREE);
    CHECK_STATUS(bsa_buddy_free_pages(&b, d2, 2), BSA_OK);
    REFUSED(bsa_buddy_free_pages(&b, d2, 2), BSA_E_BAD_FREE);
    REFUSED(bsa_buddy_free_pages(&b, d, 1), BSA_E_BAD_FREE);
}

int main(void) {
    test_uninit();

    unsigned char *big = test_region(160 * PS);
    unsigned char *r = big + 48 * PS;
    memset(&b, 0, sizeof b);
    CHECK_STATUS(bsa_buddy_init(&b, PS, NULL, r, 33 * PS), BSA_OK);
    void *p = NULL;
    CHECK_STATUS(bsa_buddy_alloc_pages(&b, 4, 0, &p), BSA_OK);
    live4 = p;
    CHECK_STATUS(bsa_buddy_alloc_pages(&b, 1, 0, &p), BSA_OK);
    live1 = p;
    memset(live4, 0x44, 4 * PS);
    memset(live1, 0x11, PS);
    CHECK_STATUS(bsa_buddy_check(&b), BSA_OK);

    test_bad_regions(big);
    test_bad_alloc();
    test_overlap(big);
    test_bad_free(big);

    /* Everything refused: the live blocks still free normally, and the heap is whole. */
    CHECK_STATUS(bsa_buddy_free_pages(&b, live4, 4), BSA_OK);
    CHECK_STATUS(bsa_buddy_free_pages(&b, live1, 1), BSA_OK);
    CHECK_EQ_SZ(bsa_buddy_allocated_bytes(&b), 0);
    CHECK_STATUS(bsa_buddy_check(&b), BSA_OK);
    TEST_MAIN_END();
}
