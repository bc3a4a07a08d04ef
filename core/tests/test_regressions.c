/*
 * test_regressions.c - bugs found in review, each pinned by the smallest test that failed
 * before its fix.
 *
 * 1. Aligned large allocations failed with most of the heap free when a section's first
 *    page sat at an odd page address (blocks are aligned relative to their section):
 *    the section base is now aligned as far as the metadata budget allows.
 * 2. realloc shrank in place across a size class, after which bsa_free_sized with the
 *    new size was refused: realloc now stays in place only within the class / order.
 * 3. (found by fuzz_allocator) bsa_add_region accepted a region overlapping only the
 *    per-CPU array carved from the first region, and wrote its header over it.
 */
#include <stdint.h>
#include <stdio.h>

#include "bsa.h"
#include "test_util.h"

#define PAGE 4096u

static bsa_status_t init_at(bsa_allocator_t *a, void *region, size_t len) {
    bsa_config_t cfg = {.page_size = PAGE, .cpu_count = 1, .ops = NULL};
    return bsa_init(a, &cfg, region, len);
}

static void aligned_large_on_odd_page_region(void) {
    size_t len = 16u << 20;
    unsigned char *map = test_region_aligned(len + 64 * 1024, 64 * 1024);
    static const struct { size_t size, align; } req[] = {
        {8192, 8192}, {5000, 65536}, {3000, 32768}, {16384, 16384}, {4097, 8192},
    };
    /* One page, three pages and 5 pages + 8 bytes past a 64 KiB boundary. */
    static const size_t offsets[] = {PAGE, 3 * PAGE, 5 * PAGE + 8};
    for (size_t o = 0; o < sizeof offsets / sizeof offsets[0]; o++) {
        bsa_allocator_t a;
        CHECK_STATUS(init_at(&a, map + offsets[o], len), BSA_OK);
        for (size_t i = 0; i < sizeof req / sizeof req[0]; i++) {
            void *p = NULL;
            CHECK_STATUS(bsa_alloc(&a, req[i].size, req[i].align, &p), BSA_OK);
            CHECK(((uintptr_t)p & (req[i].align - 1u)) == 0);
        }
        void *pages = NULL;
        CHECK_STATUS(bsa_alloc_pages(&a, 2, 2 * PAGE, &pages), BSA_OK);
        CHECK_STATUS(bsa_check(&a), BSA_OK);
    }
    test_region_free(map, len + 64 * 1024);
}

/* Base alignment must never cost more than the budget: 0.5% of the region plus a page
 * for everything before the first managed page (per-CPU state excluded: buddy alone). */
static void base_alignment_stays_in_budget(void) {
    static const size_t sizes[] = {33 * PAGE, 1u << 20, 3u << 20, 16u << 20, 100u << 20};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        size_t len = sizes[i];
        unsigned char *map = test_region_aligned(len + PAGE, PAGE);
        for (size_t off = 0; off < 2 * PAGE; off += PAGE + 40) {
            bsa_buddy_t b;
            size_t use = len - off;
            CHECK_STATUS(bsa_buddy_init(&b, PAGE, NULL, map + off, use), BSA_OK);
            size_t lost = use - bsa_buddy_managed_bytes(&b);
            /* plus the tail that is not a whole page */
            CHECK(lost <= use / 200u + PAGE + PAGE);
        }
        test_region_free(map, len + PAGE);
    }
}

static void realloc_shrink_then_free_sized(void) {
    size_t len = 4u << 20;
    void *map = test_region(len);
    bsa_allocator_t a;
    CHECK_STATUS(init_at(&a, map, len), BSA_OK);
    static const struct { size_t from, to; } cases[] = {
        {2048, 8}, {12000, 8}, {12000, 5000}, {100, 2000}, {9000, 100000},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        void *p = NULL, *q = NULL;
        CHECK_STATUS(bsa_alloc(&a, cases[i].from, 0, &p), BSA_OK);
        CHECK_STATUS(bsa_realloc(&a, p, cases[i].to, 0, &q), BSA_OK);
        CHECK(q != p); /* another class or order: moved */
        CHECK_STATUS(bsa_free_sized(&a, q, cases[i].to, 0), BSA_OK);
    }
    /* Same class or order: in place, and free_sized takes the new size. */
    static const struct { size_t from, to; } same[] = {{1000, 600}, {600, 1024}, {5000, 8192}};
    for (size_t i = 0; i < sizeof same / sizeof same[0]; i++) {
        void *p = NULL, *q = NULL;
        CHECK_STATUS(bsa_alloc(&a, same[i].from, 0, &p), BSA_OK);
        CHECK_STATUS(bsa_realloc(&a, p, same[i].to, 0, &q), BSA_OK);
        CHECK(q == p);
        CHECK_STATUS(bsa_free_sized(&a, q, same[i].to, 0), BSA_OK);
    }
    CHECK_STATUS(bsa_check(&a), BSA_OK);
    test_region_free(map, len);
}

static unsigned cpu_zero(void *ctx) {
    (void)ctx;
    return 0;
}

static void add_region_over_cpu_array(void) {
    size_t len = 512u << 10;
    unsigned char *map = test_region(2 * len);
    bsa_ops_t ops = {.cpu_id = cpu_zero};
    bsa_config_t cfg = {.page_size = PAGE, .cpu_count = 16, .ops = &ops};
    bsa_allocator_t a;
    CHECK_STATUS(bsa_init(&a, &cfg, map, len), BSA_OK);
    CHECK_STATUS(bsa_add_region(&a, map + 64, 10000), BSA_E_OVERLAP);
    CHECK_STATUS(bsa_add_region(&a, map, 3 * PAGE), BSA_E_OVERLAP);
    CHECK_STATUS(bsa_add_region(&a, map + len, len), BSA_OK); /* touching is fine */
    CHECK_STATUS(bsa_check(&a), BSA_OK);
    void *p = NULL;
    CHECK_STATUS(bsa_alloc(&a, 64, 0, &p), BSA_OK);
    CHECK_STATUS(bsa_free(&a, p), BSA_OK);
    test_region_free(map, 2 * len);
}

int main(void) {
    add_region_over_cpu_array();
    aligned_large_on_odd_page_region();
    base_alignment_stays_in_budget();
    realloc_shrink_then_free_sized();
    TEST_MAIN_END();
}
