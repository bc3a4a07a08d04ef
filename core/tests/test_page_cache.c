/*
 * test_page_cache.c - exclusive mode's per-CPU page cache (bsa.h, BSA_PAGE_CACHE_*) on
 * one CPU, through its page accounting (bsa_stats: free_pages, cached_pages):
 *   - refill: a page allocation that finds the stack of its order empty takes DEPTH
 *     blocks from the buddy, its own and DEPTH - 1 for the stack, and the next DEPTH - 1
 *     of the order take no page from the buddy; fewer when the buddy runs short; none
 *     when the stack holds blocks that miss the request's alignment, or when the buddy
 *     could meet the request only after the CPU's cache went back;
 *   - newest first;
 *   - spill: a free that finds the stack full gives the whole stack back and starts it
 *     again with the freed block; a stack holding a block of another section spills too;
 *   - runs: a refill and its request are one aligned run of DEPTH blocks, carved from a
 *     larger free block even where smaller ones are free; a stack that is one run goes
 *     back as one block, after which each of its blocks is refused as a double free;
 *   - large objects share the stacks; bsa_reclaim empties them.
 * bsa_check after every step.
 */
#include <string.h>

#include "bsa.h"
#include "test_util.h"

#define PS ((size_t)4096)
#define DEPTH BSA_PAGE_CACHE_DEPTH

static const bsa_config_t cfg = {.page_size = PS, .cpu_count = 1, .flags = BSA_CPU_EXCLUSIVE};

static bsa_stats_t stats(bsa_allocator_t *a) {
    bsa_stats_t st;
    memset(&st, 0xff, sizeof st);
    CHECK_STATUS(bsa_stats(a, &st), BSA_OK);
    CHECK_STATUS(bsa_check(a), BSA_OK);
    return st;
}

/* Free and cached pages as expected; true if both held. */
static bool pages_are(bsa_allocator_t *a, size_t free_pages, size_t cached, int line) {
    bsa_stats_t st = stats(a);
    if (st.free_pages == free_pages && st.cached_pages == cached)
        return true;
    fprintf(stderr, "line %d: free %zu cached %zu; want free %zu cached %zu\n", line,
            st.free_pages, st.cached_pages, free_pages, cached);
    return false;
}
#define PAGES_ARE(a, f, c) CHECK(pages_are((a), (f), (c), __LINE__))

/* A one-CPU exclusive instance on a region of its own; f0: the free pages it must end
 * with (its start's, or after a region it adds). */
typedef struct instance {
    bsa_allocator_t a;
    unsigned char *region;
    size_t len, f0;
} instance_t;

static void open_instance(instance_t *t, size_t len) {
    t->region = test_region(len);
    t->len = len;
    CHECK_STATUS(bsa_init(&t->a, &cfg, t->region, len), BSA_OK);
    t->f0 = stats(&t->a).free_pages;
}

/* Every test ends the same way: with nothing live, bsa_reclaim gives every page back. */
static void close_instance(instance_t *t) {
    CHECK_STATUS(bsa_reclaim(&t->a), BSA_OK);
    PAGES_ARE(&t->a, t->f0, 0);
    test_region_free(t->region, t->len);
}

/* Refill, hits, newest first and spill for blocks of order k (bsa_alloc_pages, or large
 * objects of the same pages with bsa_alloc when `large`). */
static void test_batches(unsigned k, bool large) {
    const size_t n = (size_t)1 << k;
    instance_t t;
    open_instance(&t, (size_t)4 << 20);
    bsa_allocator_t *A = &t.a;
    const size_t f0 = t.f0;
    void *blk[2 * DEPTH];
#define TAKE(i) CHECK_STATUS(large ? bsa_alloc(A, n * PS, 0, &blk[i]) \
                                   : bsa_alloc_pages(A, n, 0, &blk[i]), BSA_OK)
#define GIVE(p) CHECK_STATUS(large ? bsa_free(A, (p)) : bsa_free_pages(A, (p), n), BSA_OK)

    TAKE(0); /* an empty stack: DEPTH blocks from the buddy */
    PAGES_ARE(A, f0 - DEPTH * n, (DEPTH - 1) * n);
    for (unsigned i = 1; i < DEPTH; i++) { /* hits: the buddy is not asked */
        TAKE(i);
        PAGES_ARE(A, f0 - DEPTH * n, (DEPTH - 1 - i) * n);
    }
    TAKE(DEPTH); /* empty again: the next refill */
    PAGES_ARE(A, f0 - 2 * DEPTH * n, (DEPTH - 1) * n);

    /* Newest first: two cached blocks taken, freed, and taken back in reverse. */
    TAKE(DEPTH + 1);
    TAKE(DEPTH + 2);
    GIVE(blk[DEPTH + 1]);
    GIVE(blk[DEPTH + 2]);
    void *p, *q;
    CHECK_STATUS(large ? bsa_alloc(A, n * PS, 0, &p) : bsa_alloc_pages(A, n, 0, &p), BSA_OK);
    CHECK_STATUS(large ? bsa_alloc(A, n * PS, 0, &q) : bsa_alloc_pages(A, n, 0, &q), BSA_OK);
    CHECK(p == blk[DEPTH + 2] && q == blk[DEPTH + 1]);
    PAGES_ARE(A, f0 - 2 * DEPTH * n, (DEPTH - 3) * n);

    /* Frees fill the stack; the one after it is full spills it and starts it again. */
    unsigned freed = 0;
    for (unsigned cached = DEPTH - 3; cached < DEPTH; cached++)
        GIVE(blk[freed++]);
    PAGES_ARE(A, f0 - 2 * DEPTH * n, DEPTH * n);
    GIVE(blk[freed++]);
    PAGES_ARE(A, f0 - DEPTH * n, n);
    CHECK_STATUS(large ? bsa_free(A, blk[0]) : bsa_free_pages(A, blk[0], n), BSA_E_BAD_FREE);

    /* The rest: DEPTH + 3 taken in all, minus DEPTH + 1 freed, plus the two taken back. */
    while (freed <= DEPTH)
        GIVE(blk[freed++]);
    GIVE(p);
    GIVE(q);
#undef TAKE
#undef GIVE
    close_instance(&t);
}

/* Whether blk[0..DEPTH) are the blocks of 2^k pages of one aligned run of DEPTH of them
 * in the first section, in the order a refill hands them out: the request's the run's
 * first, then the stack's from the newest (the run's last) down. */
static bool refill_order_run(bsa_allocator_t *A, void *const *blk, size_t n) {
    bsa_section_info_t sec;
    CHECK_STATUS(bsa_section(A, 0, &sec), BSA_OK);
    uintptr_t first = (uintptr_t)blk[0], block_bytes = n * PS;
    if ((first - (uintptr_t)sec.start) % (DEPTH * block_bytes) != 0)
        return false;
    for (unsigned i = 1; i < DEPTH; i++)
        if ((uintptr_t)blk[i] != first + (DEPTH - i) * block_bytes)
            return false;
    return true;
}

/* Runs of order k + log2(DEPTH). A refill's run is carved from a larger free block
 * although a free block of order k (a fragment) is there: the fragment stays free, where
 * one block at a time would have taken it first. Freed in any order, a run's blocks make
 * a full stack that goes back as one block on the next free: the pages add up, every
 * record checks out (bsa_check in every PAGES_ARE), and each block of the run is then
 * refused as a double free. */
static void test_runs(unsigned k) {
    const size_t n = (size_t)1 << k;
    instance_t t;
    open_instance(&t, (size_t)4 << 20);
    bsa_allocator_t *A = &t.a;
    const size_t f0 = t.f0;
    void *a[DEPTH], *b[DEPTH];
    for (unsigned i = 0; i < DEPTH; i++) /* a refill, then hits */
        CHECK_STATUS(bsa_alloc_pages(A, n, 0, &a[i]), BSA_OK);
    CHECK(refill_order_run(A, a, n));
    /* The run's first block back to the buddy: a fragment, its buddy (a[DEPTH - 1]) live. */
    CHECK_STATUS(bsa_free_pages(A, a[0], n), BSA_OK);
    CHECK_STATUS(bsa_reclaim(A), BSA_OK);
    PAGES_ARE(A, f0 - (DEPTH - 1) * n, 0);
    for (unsigned i = 0; i < DEPTH; i++)
        CHECK_STATUS(bsa_alloc_pages(A, n, 0, &b[i]), BSA_OK);
    CHECK(refill_order_run(A, b, n) && b[0] != a[0]);
    PAGES_ARE(A, f0 - (2 * DEPTH - 1) * n, 0);
    static const unsigned free_order[DEPTH] = {1, 0, 2, 3};
    for (unsigned i = 0; i < DEPTH; i++)
        CHECK_STATUS(bsa_free_pages(A, b[free_order[i]], n), BSA_OK);
    PAGES_ARE(A, f0 - (2 * DEPTH - 1) * n, DEPTH * n);
    CHECK_STATUS(bsa_free_pages(A, a[1], n), BSA_OK); /* spills run b, stacks a[1] */
    PAGES_ARE(A, f0 - (DEPTH - 1) * n, n);
    for (unsigned i = 0; i < DEPTH; i++)
        CHECK_STATUS(bsa_free_pages(A, b[i], n), BSA_E_BAD_FREE);
    PAGES_ARE(A, f0 - (DEPTH - 1) * n, n);
    CHECK_STATUS(bsa_free_pages(A, a[2], n), BSA_OK);
    CHECK_STATUS(bsa_free_pages(A, a[3], n), BSA_OK);
    close_instance(&t);
}

/* A request whose stack holds blocks, none meeting its alignment, goes to the buddy
 * without a refill: the stack keeps what it has. */
static void test_no_refill_unless_empty(void) {
    instance_t t;
    open_instance(&t, (size_t)1 << 20);
    bsa_allocator_t *A = &t.a;
    const size_t f0 = t.f0;
    void *first, *x, *y, *aligned;
    CHECK_STATUS(bsa_alloc_pages(A, 1, 0, &first), BSA_OK); /* refill: 3 cached */
    CHECK_STATUS(bsa_alloc_pages(A, 1, 0, &x), BSA_OK);
    CHECK_STATUS(bsa_alloc_pages(A, 1, 0, &y), BSA_OK);
    /* Two distinct pages a page apart (the refill's neighbours) cannot both be 2-page
     * aligned; the stack's top becomes one that is not. */
    void *odd = (uintptr_t)x % (2 * PS) != 0 ? x : y, *even = odd == x ? y : x;
    CHECK((uintptr_t)odd % (2 * PS) != 0);
    CHECK_STATUS(bsa_free_pages(A, odd, 1), BSA_OK);
    PAGES_ARE(A, f0 - DEPTH, 2);
    CHECK_STATUS(bsa_alloc_pages(A, 1, 2 * PS, &aligned), BSA_OK);
    CHECK((uintptr_t)aligned % (2 * PS) == 0);
    PAGES_ARE(A, f0 - DEPTH - 1, 2); /* one page from the buddy, the stack as it was */
    CHECK_STATUS(bsa_free_pages(A, aligned, 1), BSA_OK);
    CHECK_STATUS(bsa_free_pages(A, even, 1), BSA_OK);
    CHECK_STATUS(bsa_free_pages(A, first, 1), BSA_OK); /* the stack was full: a spill */
    PAGES_ARE(A, f0 - 1, 1);
    close_instance(&t);
}

/* Single pages until the buddy has none: each refill takes DEPTH - 1 blocks for the
 * stack while it can, then what is left; every page is handed out, none stays cached. */
static void test_refill_runs_short(void) {
    instance_t t;
    open_instance(&t, (size_t)1 << 20);
    bsa_allocator_t *A = &t.a;
    size_t avail = t.f0; /* pages the loop below can take */
    void *low = NULL;
    if (avail % DEPTH == 0) { /* lowmem never refills: makes the last refill short */
        CHECK_STATUS(bsa_alloc_pages_lowmem(A, 1, 0, &low), BSA_OK);
        avail--;
    }
    static void *page[1024];
    size_t taken = 0, short_refills = 0;
    for (;;) {
        bsa_stats_t before = stats(A);
        if (!CHECK(taken < 1024))
            break;
        bsa_status_t st = bsa_alloc_pages(A, 1, 0, &page[taken]);
        if (st == BSA_E_NOMEM)
            break;
        CHECK_STATUS(st, BSA_OK);
        taken++;
        bsa_stats_t after = stats(A);
        if (before.cached_pages != 0) { /* a hit */
            CHECK(after.free_pages == before.free_pages &&
                  after.cached_pages == before.cached_pages - 1);
            continue;
        }
        size_t want = before.free_pages - 1 < DEPTH - 1 ? before.free_pages - 1 : DEPTH - 1;
        short_refills += want < DEPTH - 1;
        CHECK_EQ_SZ(after.cached_pages, want);
        CHECK_EQ_SZ(after.free_pages, before.free_pages - 1 - want);
    }
    CHECK_EQ_SZ(taken, avail);
    CHECK_EQ_SZ(short_refills, 1);
    PAGES_ARE(A, 0, 0);
    while (taken > 0)
        CHECK_STATUS(bsa_free_pages(A, page[--taken], 1), BSA_OK);
    if (low)
        CHECK_STATUS(bsa_free_pages(A, low, 1), BSA_OK);
    close_instance(&t);
}

/* A request the buddy can meet only once the calling CPU's cache went back takes no
 * refill: pages are short, and the stack would take back what the cache just returned.
 * Every page is taken one at a time, the first four (one aligned group of four: the
 * first refill's) are freed into the order-0 stack, then a two-page request finds no
 * free page until the give-back merges them. */
static void test_no_refill_after_give_back(void) {
    instance_t t;
    open_instance(&t, (size_t)1 << 20);
    bsa_allocator_t *A = &t.a;
    static void *page[1024];
    size_t taken = 0;
    while (CHECK(taken < 1024) && bsa_alloc_pages(A, 1, 0, &page[taken]) == BSA_OK)
        taken++;
    PAGES_ARE(A, 0, 0);
    for (size_t i = 0; i < DEPTH; i++)
        CHECK_STATUS(bsa_free_pages(A, page[i], 1), BSA_OK);
    PAGES_ARE(A, 0, DEPTH);
    void *two;
    CHECK_STATUS(bsa_alloc_pages(A, 2, 0, &two), BSA_OK);
    PAGES_ARE(A, DEPTH - 2, 0); /* the order-1 stack stays empty */
    CHECK_STATUS(bsa_free_pages(A, two, 2), BSA_OK);
    for (size_t i = DEPTH; i < taken; i++)
        CHECK_STATUS(bsa_free_pages(A, page[i], 1), BSA_OK);
    close_instance(&t);
}

/* A spill started by a free in one section, with a block of another section in the
 * stack: both go back. */
static void test_spill_two_sections(void) {
    const size_t len = 64 * PS;
    instance_t t;
    open_instance(&t, len);
    bsa_allocator_t *A = &t.a;
    unsigned char *r2 = test_region(len);
    CHECK_STATUS(bsa_add_region(A, r2, len), BSA_OK);
    const size_t f0 = t.f0 = stats(A).free_pages; /* both regions' */
    static void *page[128];
    size_t n = 0;
    void *in_second = NULL;
    while (in_second == NULL && CHECK(n < 128) &&
           CHECK_STATUS(bsa_alloc_pages(A, 1, 0, &page[n]), BSA_OK)) {
        if ((unsigned char *)page[n] >= r2 && (unsigned char *)page[n] < r2 + len)
            in_second = page[n];
        n++;
    }
    CHECK(in_second != NULL && n > DEPTH + 1);
    CHECK_STATUS(bsa_reclaim(A), BSA_OK); /* an empty stack to start from */
    size_t held = f0 - stats(A).free_pages;
    CHECK_STATUS(bsa_free_pages(A, in_second, 1), BSA_OK);
    for (size_t i = 0; i < DEPTH - 1; i++) /* pages of the first region */
        CHECK_STATUS(bsa_free_pages(A, page[i], 1), BSA_OK);
    PAGES_ARE(A, f0 - held, DEPTH);
    CHECK_STATUS(bsa_free_pages(A, page[DEPTH - 1], 1), BSA_OK); /* spills the stack */
    PAGES_ARE(A, f0 - held + DEPTH, 1);
    for (size_t i = DEPTH; i < n - 1; i++)
        CHECK_STATUS(bsa_free_pages(A, page[i], 1), BSA_OK);
    close_instance(&t);
    test_region_free(r2, len);
}

int main(void) {
    for (unsigned k = 0; k <= BSA_PAGE_CACHE_MAX_ORDER; k++) {
        test_batches(k, false);
        test_batches(k, true);
        test_runs(k);
    }
    test_no_refill_unless_empty();
    test_refill_runs_short();
    test_no_refill_after_give_back();
    test_spill_two_sections();
    TEST_MAIN_END();
}
