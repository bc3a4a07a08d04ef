/*
 * test_allocator_scenarios.c - multi-CPU scenarios of the global allocator, run in one
 * thread with the CPU of each call chosen through ops.cpu_id: a remote free and its
 * drain, filling the heap with 2048-byte objects until NOMEM and giving everything back
 * (locally and spread over 4 CPUs) with exact page accounting after bsa_reclaim, and a
 * random mix of every class on every CPU checked against a tiny model; frees into pages
 * of slabs that went back (the free hint's slab, a later page that still names its old
 * slab's head) must be refused. After each step:
 * bsa_check, and per class slabs / capacity (= slabs * objects per slab) / live /
 * remote_pending as expected. All of it twice: in the default mode and with
 * BSA_CPU_EXCLUSIVE.
 */
#include <stdint.h>
#include <string.h>

#include "bsa.h"
#include "test_util.h"

#define PS ((size_t)4096)
#define NCPU 4
#define HEAP_BYTES ((size_t)8 << 20)
#define MAX_OBJS 8192

static unsigned cur_cpu;
static unsigned get_cpu(void *ctx) {
    (void)ctx;
    return cur_cpu;
}
static const bsa_ops_t cpu_ops = {.cpu_id = get_cpu};

static bsa_allocator_t A;
static unsigned char *heap;
static size_t free0; /* free pages right after init */

static bsa_stats_t stats(void) {
    bsa_stats_t st;
    memset(&st, 0xff, sizeof st);
    CHECK_STATUS(bsa_stats(&A, &st), BSA_OK);
    return st;
}

/* Class k: `live` objects, `pending` remote frees (unless SIZE_MAX); slabs == `slabs`
 * unless SIZE_MAX.
 * capacity is always slabs * objects per slab. Returns true if all held. */
static bool class_is(const bsa_stats_t *st, unsigned k, size_t live, size_t pending,
                     size_t slabs, int line) {
    const bsa_class_stats_t *c = &st->classes[k];
    size_t per = bsa_slab_objects_for(k, PS);
    bool ok = c->object_size == (size_t)8 << k && c->live == live &&
              (pending == SIZE_MAX || c->remote_pending == pending) &&
              c->capacity == c->slabs * per &&
              c->live + c->remote_pending <= c->capacity &&
              (slabs == SIZE_MAX || c->slabs == slabs);
    if (!ok)
        fprintf(stderr,
                "line %d: class %u: live %zu pending %zu slabs %zu capacity %zu; want live %zu "
                "pending %zu slabs %zu capacity slabs*%zu\n",
                line, k, c->live, c->remote_pending, c->slabs, c->capacity, live, pending,
                slabs, per);
    return ok;
}
#define CLASS_IS(st, k, live, pending, slabs) \
    CHECK(class_is(&(st), (k), (live), (pending), (slabs), __LINE__))

/* Every CPU reclaims; then every page is free again, no slab is held. */
static void reclaim_everywhere_exact(void) {
    for (cur_cpu = 0; cur_cpu < NCPU; cur_cpu++)
        CHECK_STATUS(bsa_reclaim(&A), BSA_OK);
    cur_cpu = 0;
    bsa_stats_t st = stats();
    CHECK_EQ_SZ(st.free_pages, free0);
    CHECK_EQ_SZ(st.allocated_bytes, 0);
    for (unsigned k = 0; k < BSA_SIZE_CLASS_COUNT; k++)
        CLASS_IS(st, k, 0, 0, 0);
    CHECK_STATUS(bsa_check(&A), BSA_OK);
}

static void init(unsigned flags) {
    heap = test_region(HEAP_BYTES);
    bsa_config_t cfg = {.page_size = PS, .cpu_count = NCPU, .ops = &cpu_ops, .flags = flags};
    CHECK_STATUS(bsa_init(&A, &cfg, heap, HEAP_BYTES), BSA_OK);
    bsa_stats_t st = stats();
    free0 = st.free_pages;
    CHECK_EQ_SZ(free0, st.total_pages);
    CHECK_EQ_INT(st.bad_frees, 0);
}

/* ---- one remote free, one drain ----------------------------------------------------- */

static void test_remote_free_drain(void) {
    void *x, *y, *z;
    cur_cpu = 0;
    CHECK_STATUS(bsa_alloc(&A, 64, 0, &x), BSA_OK);
    CHECK_STATUS(bsa_alloc(&A, 64, 0, &y), BSA_OK);
    memset(y, 0x5a, 64);
    bsa_stats_t st = stats();
    CLASS_IS(st, 3, 2, 0, 1);
    cur_cpu = 1;
    CHECK_STATUS(bsa_free(&A, x), BSA_OK);
    st = stats();
    CLASS_IS(st, 3, 1, 1, 1); /* pending, visible, not yet live-counted */
    CHECK_STATUS(bsa_check(&A), BSA_OK);
    /* CPU 1's reclaim works on CPU 1 only: CPU 0's pending free stays. */
    CHECK_STATUS(bsa_reclaim(&A), BSA_OK);
    st = stats();
    CLASS_IS(st, 3, 1, 1, 1);
    /* CPU 1 allocating the class uses its own slab, not CPU 0's. */
    CHECK_STATUS(bsa_alloc(&A, 64, 0, &z), BSA_OK);
    CHECK(z != x);
    st = stats();
    CLASS_IS(st, 3, 2, 1, 2);
    /* CPU 0's next allocation of the class: its slab still has room, so x stays
     * pending (drains wait until only the cached empty slab has room). */
    cur_cpu = 0;
    void *again;
    CHECK_STATUS(bsa_alloc(&A, 50, 0, &again), BSA_OK);
    CHECK(again != x);
    st = stats();
    CLASS_IS(st, 3, 3, 1, 2);
    CHECK_STATUS(bsa_check(&A), BSA_OK);
    CHECK(((unsigned char *)y)[0] == 0x5a && ((unsigned char *)y)[63] == 0x5a);

    /* A remote free_sized with a different size of the class; a local free drains
     * nothing. */
    cur_cpu = 3;
    CHECK_STATUS(bsa_free_sized(&A, again, 33, 0), BSA_OK);
    st = stats();
    CLASS_IS(st, 3, 2, 2, 2);
    cur_cpu = 0;
    CHECK_STATUS(bsa_free(&A, y), BSA_OK);
    st = stats();
    CLASS_IS(st, 3, 1, 2, 2); /* CPU 0's slab holds two pending frees */
    /* CPU 0's reclaim drains them: its slab is empty, and goes back. */
    CHECK_STATUS(bsa_reclaim(&A), BSA_OK);
    st = stats();
    CLASS_IS(st, 3, 1, 0, 1);
    cur_cpu = 2;
    CHECK_STATUS(bsa_free(&A, z), BSA_OK); /* CPU 1's object, remote from CPU 2 */
    st = stats();
    CLASS_IS(st, 3, 0, 1, 1);
    CHECK_STATUS(bsa_check(&A), BSA_OK);
    reclaim_everywhere_exact();
}

/* ---- a slab handed back is no longer where frees look ----------------------------- */

/* Exclusive mode's frees test the slab of the last looked-up free first (bsa_slab_t
 * _hint), without the page record or header checks. Once that slab goes back to the
 * buddy and its page is someone's page block, a free into it must be refused, even
 * when the new owner has written bytes that look like the old header. */
static void test_free_hint_retired(void) {
    void *x, *y;
    cur_cpu = 0;
    CHECK_STATUS(bsa_alloc(&A, 64, 0, &x), BSA_OK);
    CHECK_STATUS(bsa_alloc(&A, 64, 0, &y), BSA_OK);
    unsigned char *slab = (unsigned char *)((uintptr_t)x & ~(PS - 1u));
    CHECK(slab == (unsigned char *)((uintptr_t)y & ~(PS - 1u))); /* one-page slabs */
    size_t header = bsa_slab_first_offset_for(3, PS);
    unsigned char snapshot[PS];
    memcpy(snapshot, slab, header); /* the header with x and y live */
    CHECK_STATUS(bsa_free(&A, y), BSA_OK);
    CHECK_STATUS(bsa_free(&A, x), BSA_OK); /* x's slab is the hint now */
    CHECK_STATUS(bsa_reclaim(&A), BSA_OK); /* and goes back: it was empty */
    CHECK_STATUS(bsa_check(&A), BSA_OK);

    /* Take pages until the slab's page comes back as a page block. */
    static void *taken[HEAP_BYTES / PS];
    size_t n = 0;
    void *p = NULL;
    while (p != slab && bsa_alloc_pages(&A, 1, 0, &p) == BSA_OK)
        taken[n++] = p;
    CHECK(p == slab);
    memcpy(slab, snapshot, header); /* the page's owner writes what it likes */
    uint64_t bad = stats().bad_frees;
    CHECK_STATUS(bsa_free(&A, x), BSA_E_BAD_FREE);
    CHECK_EQ_INT(stats().bad_frees, bad + 1);
    CHECK(memcmp(slab, snapshot, header) == 0); /* untouched */
    CHECK_STATUS(bsa_check(&A), BSA_OK);
    while (n > 0)
        CHECK_STATUS(bsa_free_pages(&A, taken[--n], 1), BSA_OK);
    CHECK_STATUS(bsa_check(&A), BSA_OK);
    reclaim_everywhere_exact();
}

/* ---- a later page of a slab that went back ----------------------------------------- */

/* The later pages of a multi-page slab name its head in their page records (the frees'
 * way to the header without a search), and the buddy leaves those names behind when the
 * slab goes back. A free into such a page once it is part of a page block, whose owner
 * has copied the old slab header into it, must still be refused, by the CPU that owned
 * the slab and by another (the remote push), and write nothing. Before that, the names
 * serve the frees of the live slab: every object goes back, one of them remotely. */
static void test_slab_tail_hint_stale(void) {
    const unsigned cls = BSA_SIZE_CLASS_COUNT - 1u; /* 2048 bytes: the biggest slab */
    const size_t pages = bsa_slab_pages_for(cls, PS);
    const size_t per = bsa_slab_objects_for(cls, PS);
    const size_t header = bsa_slab_first_offset_for(cls, PS);
    CHECK(pages > 1 && per <= 64);
    static void *obj[64];
    cur_cpu = 0;
    for (size_t i = 0; i < per; i++)
        CHECK_STATUS(bsa_alloc(&A, 2048, 0, &obj[i]), BSA_OK);
    /* CPU 0 held no slab of the class: one fresh slab, filled from slot 0. */
    unsigned char *slab = (unsigned char *)obj[0] - header;
    unsigned char *last = obj[per - 1];
    CHECK((size_t)(last - slab) >= PS); /* on a later page */
    static unsigned char snapshot[64 * 1024];
    CHECK(pages * PS <= sizeof snapshot);
    memcpy(snapshot, slab, header); /* the live header */
    cur_cpu = 1;
    CHECK_STATUS(bsa_free(&A, last), BSA_OK); /* a remote free */
    cur_cpu = 0;
    for (size_t i = 0; i + 1 < per; i++)
        CHECK_STATUS(bsa_free_sized(&A, obj[i], 2048, 0), BSA_OK);
    CHECK_STATUS(bsa_reclaim(&A), BSA_OK); /* drains the remote free: the slab goes back */
    CHECK_EQ_SZ(stats().classes[cls].slabs, 0);
    CHECK_STATUS(bsa_check(&A), BSA_OK);

    /* Take blocks of the slab's size until the slab's pages come back as one. */
    static void *taken[HEAP_BYTES / PS];
    size_t n = 0;
    void *p = NULL;
    while (p != slab && bsa_alloc_pages(&A, pages, 0, &p) == BSA_OK)
        taken[n++] = p;
    CHECK(p == slab);
    memcpy(slab, snapshot, header); /* the block's owner writes what it likes */
    memcpy(snapshot, slab, pages * PS);
    for (cur_cpu = 0; cur_cpu < 2; cur_cpu++) {
        uint64_t bad = stats().bad_frees;
        CHECK_STATUS(bsa_free(&A, last), BSA_E_BAD_FREE);
        CHECK_STATUS(bsa_free_sized(&A, last, 2048, 0), BSA_E_BAD_FREE);
        CHECK_EQ_INT(stats().bad_frees, bad + 2);
        CHECK(memcmp(slab, snapshot, pages * PS) == 0); /* untouched */
    }
    cur_cpu = 0;
    CHECK_STATUS(bsa_check(&A), BSA_OK);
    while (n > 0)
        CHECK_STATUS(bsa_free_pages(&A, taken[--n], pages), BSA_OK);
    reclaim_everywhere_exact();
}

/* ---- frees into full slabs ---------------------------------------------------------- */

/* The 64-byte class's slab that holds `p` (one-page slabs). */
static uintptr_t slab_of(const void *p) { return (uintptr_t)p & ~(PS - 1u); }

static void alloc_expect(size_t size, const void *want, size_t slabs) {
    void *p = NULL;
    CHECK_STATUS(bsa_alloc(&A, size, 0, &p), BSA_OK);
    CHECK(p == want);
    CHECK_EQ_SZ(stats().classes[bsa_size_class(size, 0)].slabs, slabs);
    CHECK_STATUS(bsa_check(&A), BSA_OK);
}

/* A free into a full slab and an allocation after it (the benchmarks' recycle step):
 * with BSA_CPU_EXCLUSIVE the slab stays on its full list as the room slab (bsa_slab_t
 * ._room) and the allocation takes the slot back from there. In either mode, an
 * allocation takes a freed slot before the class's cached empty slab and before new
 * pages, a drain's slot too; and a slab that empties while it is the room settles as
 * any other: the first empty slab is cached, the next one handed back. bsa_check after
 * every step. */
static void test_frees_into_full_slabs(test_rng_t *rng) {
    enum { SLABS = 3, MAX_PER = 128 };
    const size_t size = 64, per = bsa_slab_objects_for(3, PS), n = SLABS * per;
    static void *o[SLABS * MAX_PER];
    bsa_stats_t st;
    if (!CHECK(per <= MAX_PER))
        return;
    cur_cpu = 0;
    for (size_t i = 0; i < n; i++)
        CHECK_STATUS(bsa_alloc(&A, size, 0, &o[i]), BSA_OK);
    st = stats();
    CLASS_IS(st, 3, n, 0, SLABS); /* every slab full */

    /* Free + alloc steps: the freed slot is the class's only one, and comes back. */
    for (unsigned step = 0; step < 1000; step++) {
        size_t i = (size_t)test_rng_below(rng, n);
        CHECK_STATUS(bsa_free_sized(&A, o[i], size, 0), BSA_OK);
        void *p = NULL;
        CHECK_STATUS(bsa_alloc(&A, size, 0, &p), BSA_OK);
        if (!CHECK(p == o[i]) || (step % 50 == 0 && !CHECK_STATUS(bsa_check(&A), BSA_OK)))
            return;
    }
    st = stats();
    CLASS_IS(st, 3, n, 0, SLABS);

    /* A slot back in each of two full slabs (the room changes): both come back. */
    size_t a = 0, b = per; /* slabs are filled in turn: o[0] and o[per] differ */
    if (!CHECK(slab_of(o[a]) != slab_of(o[b])))
        return;
    CHECK_STATUS(bsa_free(&A, o[a]), BSA_OK);
    CHECK_STATUS(bsa_free(&A, o[b]), BSA_OK);
    CHECK_STATUS(bsa_check(&A), BSA_OK);
    void *p = NULL, *q = NULL;
    CHECK_STATUS(bsa_alloc(&A, size, 0, &p), BSA_OK);
    CHECK_STATUS(bsa_alloc(&A, size, 0, &q), BSA_OK);
    CHECK((p == o[a] && q == o[b]) || (p == o[b] && q == o[a]));
    st = stats();
    CLASS_IS(st, 3, n, 0, SLABS);

    /* The last slab empties (cached); a slot freed in a full slab comes before it. */
    uintptr_t last = slab_of(o[n - 1]);
    for (size_t i = n; i-- > 0;)
        if (slab_of(o[i]) == last)
            CHECK_STATUS(bsa_free(&A, o[i]), BSA_OK);
    st = stats();
    CLASS_IS(st, 3, n - per, 0, SLABS);
    CHECK_STATUS(bsa_check(&A), BSA_OK);
    /* A pair from the cached slab: it stays cached, alone on the partial list now. */
    CHECK_STATUS(bsa_alloc(&A, size, 0, &p), BSA_OK);
    CHECK(slab_of(p) == last);
    CHECK_STATUS(bsa_free(&A, p), BSA_OK);
    CHECK_STATUS(bsa_free(&A, o[a]), BSA_OK);
    alloc_expect(size, o[a], SLABS);
    /* Slab a empties while an empty slab is cached: it goes back. */
    for (size_t i = 0; i < n; i++)
        if (slab_of(o[i]) == slab_of(o[a]))
            CHECK_STATUS(bsa_free(&A, o[i]), BSA_OK);
    st = stats();
    CLASS_IS(st, 3, n - 2 * per, 0, SLABS - 1);
    CHECK_STATUS(bsa_check(&A), BSA_OK);

    /* The two slabs left, both full again: a local free and a remote one into one of
     * them; the local slot comes back first, then the drain's, and no page is taken. */
    size_t live = 0;
    uintptr_t gone = slab_of(o[a]);
    for (size_t i = 0; i < n; i++)
        if (slab_of(o[i]) != gone && slab_of(o[i]) != last)
            o[live++] = o[i];
    CHECK_EQ_SZ(live, per);
    for (size_t i = 0; i < per; i++) /* from the cached slab: gone by the test's end */
        CHECK_STATUS(bsa_alloc(&A, size, 0, &o[live + i]), BSA_OK);
    st = stats();
    CLASS_IS(st, 3, live + per, 0, SLABS - 1);
    CHECK_STATUS(bsa_free(&A, o[1]), BSA_OK);
    cur_cpu = 1;
    CHECK_STATUS(bsa_free(&A, o[2]), BSA_OK);
    cur_cpu = 0;
    st = stats();
    CLASS_IS(st, 3, live + per - 2, 1, SLABS - 1);
    alloc_expect(size, o[1], SLABS - 1);
    alloc_expect(size, o[2], SLABS - 1);
    st = stats();
    CLASS_IS(st, 3, live + per, 0, SLABS - 1);
    for (size_t i = 0; i < live + per; i++)
        CHECK_STATUS(bsa_free(&A, o[i]), BSA_OK);
    reclaim_everywhere_exact();
}

/* ---- page blocks of two sections; a pointer deep in a free block -------------------- */

/* Exclusive mode's page paths work in the CPU's last section without a lookup and go
 * out of line for a block of another section: both must give the same answers. On its
 * own two-region instance, one CPU: a page of the second region is freed while the first
 * is the CPU's last section, a page of the first while the second is, and both come back
 * from the page cache, newest first, whichever section the CPU looked at last. */
static void test_pages_two_sections(unsigned flags) {
    const size_t first_bytes = 64 * PS, second_bytes = 64 * PS;
    unsigned char *r1 = test_region(first_bytes), *r2 = test_region(second_bytes);
    bsa_allocator_t B;
    bsa_config_t cfg = {.page_size = PS, .cpu_count = 1, .flags = flags};
    CHECK_STATUS(bsa_init(&B, &cfg, r1, first_bytes), BSA_OK);
    CHECK_STATUS(bsa_add_region(&B, r2, second_bytes), BSA_OK);
    bsa_stats_t st;
    CHECK_STATUS(bsa_stats(&B, &st), BSA_OK);
    size_t free0_b = st.free_pages;

    /* Take single pages until one comes from the second region (the first is used up
     * first), keeping one of the first. */
    static void *taken[128];
    size_t n = 0;
    void *p = NULL;
    while (bsa_alloc_pages(&B, 1, 0, &p) == BSA_OK) {
        taken[n++] = p;
        if ((unsigned char *)p >= r2 && (unsigned char *)p < r2 + second_bytes)
            break;
    }
    CHECK(n >= 2 && p == taken[n - 1] && (unsigned char *)p >= r2);
    void *in_first = taken[0], *in_second = taken[n - 1];
    CHECK((unsigned char *)in_first >= r1 && (unsigned char *)in_first < r1 + first_bytes);

    CHECK_STATUS(bsa_free_pages(&B, in_second, 1), BSA_OK); /* last section: the first */
    CHECK_STATUS(bsa_free_pages(&B, in_first, 1), BSA_OK);  /* last section: the second */
    CHECK_STATUS(bsa_free_pages(&B, in_first, 1), BSA_E_BAD_FREE); /* cached: not live */
    CHECK_STATUS(bsa_check(&B), BSA_OK);
    void *again;
    CHECK_STATUS(bsa_alloc_pages(&B, 1, 0, &again), BSA_OK);
    /* Exclusive mode: the newest cached block. Default mode: the buddy's, the first
     * section's one free page and then the second's lowest: the same two, in this order. */
    CHECK(again == in_first);
    taken[0] = again;
    CHECK_STATUS(bsa_alloc_pages(&B, 1, 0, &again), BSA_OK);
    CHECK(again == in_second); /* exclusive: in the section the CPU did not look at last */
    taken[n - 1] = again;
    CHECK_STATUS(bsa_check(&B), BSA_OK);

    /* A pointer deep in a free block of the second region: no slab holds it. */
    CHECK_STATUS(bsa_free_pages(&B, taken[n - 1], 1), BSA_OK);
    CHECK_STATUS(bsa_reclaim(&B), BSA_OK);
    CHECK_STATUS(bsa_free(&B, r2 + second_bytes - 3 * PS + 64), BSA_E_BAD_FREE);
    while (--n > 0)
        CHECK_STATUS(bsa_free_pages(&B, taken[n - 1], 1), BSA_OK);
    CHECK_STATUS(bsa_reclaim(&B), BSA_OK);
    CHECK_STATUS(bsa_stats(&B, &st), BSA_OK);
    CHECK_EQ_SZ(st.free_pages, free0_b);
    CHECK_EQ_INT(st.bad_frees, 2);
    CHECK_STATUS(bsa_check(&B), BSA_OK);
    test_region_free(r1, first_bytes);
    test_region_free(r2, second_bytes);
}

/* ---- the heap full of 2048-byte objects ------------------------------------------- */

static void *objs[MAX_OBJS];
static size_t nobj;

/* CPU 0 allocates 2048-byte objects until NOMEM, checking the class after each. */
static void fill_2048(void) {
    const size_t per = bsa_slab_objects_for(8, PS);
    cur_cpu = 0;
    nobj = 0;
    for (;;) {
        if (!CHECK(nobj < MAX_OBJS))
            return;
        bsa_status_t s = bsa_alloc(&A, 2048, 0, &objs[nobj]);
        if (s == BSA_E_NOMEM)
            break;
        if (!CHECK_STATUS(s, BSA_OK))
            return;
        CHECK_EQ_SZ((uintptr_t)objs[nobj] % 2048, 0);
        memset(objs[nobj], (int)(nobj & 0xff), 2048);
        nobj++;
        bsa_stats_t st = stats();
        CLASS_IS(st, 8, nobj, 0, (nobj + per - 1) / per);
        if (nobj % 64 == 0)
            CHECK_STATUS(bsa_check(&A), BSA_OK);
    }
    bsa_stats_t st = stats();
    printf("2048-byte objects until NOMEM: %zu in %zu slabs; %zu of %zu pages left\n", nobj,
           st.classes[8].slabs, st.free_pages, st.total_pages);
    /* Every slab is full, and no free block could hold another slab. */
    CHECK_EQ_SZ(nobj % per, 0);
    CLASS_IS(st, 8, nobj, 0, nobj / per);
    size_t slab_order = 0;
    while (((size_t)1 << slab_order) < bsa_slab_pages_for(8, PS))
        slab_order++;
    for (size_t k = slab_order; k <= BSA_MAX_ORDER; k++)
        CHECK_EQ_SZ(st.free_blocks[k], 0);
    CHECK(st.free_pages < bsa_slab_pages_for(8, PS) * 4); /* little waste: a few blocks */
    CHECK_EQ_SZ(free0 - st.free_pages, st.classes[8].slabs * bsa_slab_pages_for(8, PS));
    /* Full: the other classes (needing a new slab) and pages fail too. */
    void *p;
    CHECK_STATUS(bsa_alloc(&A, 2048, 0, &p), BSA_E_NOMEM);
    CHECK_STATUS(bsa_alloc(&A, 100000, 0, &p), BSA_E_NOMEM);
    CHECK_STATUS(bsa_check(&A), BSA_OK);
    bool intact = true;
    for (size_t i = 0; i < nobj; i++)
        intact &= ((unsigned char *)objs[i])[0] == (unsigned char)(i & 0xff) &&
                  ((unsigned char *)objs[i])[2047] == (unsigned char)(i & 0xff);
    CHECK(intact);
}

/* Shuffled order of 0..n-1. */
static void shuffle(size_t *idx, size_t n, test_rng_t *rng) {
    for (size_t i = 0; i < n; i++)
        idx[i] = i;
    for (size_t i = n; i > 1; i--) {
        size_t j = (size_t)test_rng_below(rng, i), t = idx[i - 1];
        idx[i - 1] = idx[j];
        idx[j] = t;
    }
}

/* All freed on CPU 0 in random order. Object i lives in slab i / per (a fresh heap
 * fills slabs one after the other), so the slab count is known at each step: slabs
 * with a live object, plus the one cached empty slab once any slab has emptied. */
static void free_all_local(test_rng_t *rng) {
    const size_t per = bsa_slab_objects_for(8, PS);
    static size_t idx[MAX_OBJS], in_slab[MAX_OBJS];
    size_t nslabs = nobj / per, nonempty = nslabs, emptied = 0;
    for (size_t s = 0; s < nslabs; s++)
        in_slab[s] = per;
    shuffle(idx, nobj, rng);
    cur_cpu = 0;
    for (size_t i = 0; i < nobj; i++) {
        size_t o = idx[i];
        CHECK(((unsigned char *)objs[o])[1000] == (unsigned char)(o & 0xff));
        CHECK_STATUS(bsa_free(&A, objs[o]), BSA_OK);
        if (--in_slab[o / per] == 0) {
            nonempty--;
            emptied++;
        }
        bsa_stats_t st = stats();
        CLASS_IS(st, 8, nobj - i - 1, 0, nonempty + (emptied > 0));
        CHECK_EQ_SZ(free0 - st.free_pages,
                    (nonempty + (emptied > 0)) * bsa_slab_pages_for(8, PS));
        if (i % 64 == 0)
            CHECK_STATUS(bsa_check(&A), BSA_OK);
    }
    CHECK_STATUS(bsa_check(&A), BSA_OK);
    /* One slab stays cached until CPU 0 reclaims. */
    bsa_stats_t st = stats();
    CLASS_IS(st, 8, 0, 0, 1);
    CHECK_EQ_SZ(st.free_pages, free0 - bsa_slab_pages_for(8, PS));
    reclaim_everywhere_exact();
}

/* All freed in random order by CPU (i + 1) % 4: a quarter local, the rest remote. The
 * remote ones pile up: frees do not drain. */
static void free_all_spread(test_rng_t *rng) {
    static size_t idx[MAX_OBJS];
    shuffle(idx, nobj, rng);
    size_t pending = 0;
    for (size_t i = 0; i < nobj; i++) {
        size_t o = idx[i];
        cur_cpu = (unsigned)((i + 1) % NCPU); /* the last one or three are remote */
        CHECK(((unsigned char *)objs[o])[2000] == (unsigned char)(o & 0xff));
        CHECK_STATUS(bsa_free(&A, objs[o]), BSA_OK);
        pending += cur_cpu != 0;
        bsa_stats_t st = stats();
        CLASS_IS(st, 8, nobj - i - 1, pending, SIZE_MAX);
        if (i % 64 == 0)
            CHECK_STATUS(bsa_check(&A), BSA_OK);
    }
    CHECK_STATUS(bsa_check(&A), BSA_OK);
    bsa_stats_t st = stats();
    CLASS_IS(st, 8, 0, pending, SIZE_MAX);
    CHECK(pending > 0); /* the last frees were remote */
    /* Reclaim on CPUs 1..3 leaves CPU 0's slabs alone. */
    size_t slabs = st.classes[8].slabs;
    for (cur_cpu = 1; cur_cpu < NCPU; cur_cpu++)
        CHECK_STATUS(bsa_reclaim(&A), BSA_OK);
    st = stats();
    CLASS_IS(st, 8, 0, pending, slabs);
    reclaim_everywhere_exact();
}

/* ---- every class, every CPU, random ------------------------------------------------ */

/* The model of the remote-free counters: the owner of a slab object is the CPU that
 * allocated it; a free from another CPU adds one pending free to (owner, class); the
 * owner's next allocation or free in the class drains all of them. */
typedef struct obj {
    unsigned char *p;
    size_t size, align;
    unsigned cls; /* BSA_SIZE_CLASS_COUNT: large */
    unsigned owner;
    unsigned char fill;
} obj_t;

static obj_t live[2048];
static size_t nlive;

static void test_random_mix(test_rng_t *rng) {
    static const size_t sizes[] = {0, 1, 7, 8, 9, 16, 24, 32, 48, 64, 100, 128, 200, 256,
                                   300, 512, 777, 1024, 1500, 2048, 2049, 5000, 20000};
    size_t live_cls[BSA_SIZE_CLASS_COUNT] = {0};
    size_t remote_frees = 0;
    nlive = 0;
    for (unsigned step = 0; step < 6000; step++) {
        cur_cpu = (unsigned)test_rng_below(rng, NCPU);
        bool do_alloc = nlive == 0 || (nlive < 2048 && test_rng_below(rng, 100) < 55);
        if (do_alloc) {
            obj_t o;
            o.size = sizes[test_rng_below(rng, sizeof sizes / sizeof sizes[0])];
            o.align = test_rng_below(rng, 4) == 0 ? (size_t)1 << test_rng_below(rng, 12) : 0;
            int cls = bsa_size_class(o.size, o.align);
            o.cls = cls < 0 ? BSA_SIZE_CLASS_COUNT : (unsigned)cls;
            o.owner = cur_cpu;
            o.fill = (unsigned char)test_rng_next(rng);
            void *p;
            bsa_status_t s = bsa_alloc(&A, o.size, o.align, &p);
            if (!CHECK_STATUS(s, BSA_OK))
                break;
            o.p = p;
            size_t al = o.align ? o.align : 8;
            CHECK_EQ_SZ((uintptr_t)p % al, 0);
            if (cls >= 0)
                CHECK_EQ_SZ((uintptr_t)p % bsa_size_class_bytes((unsigned)cls), 0);
            CHECK(bsa_usable_size(&A, p) >= o.size);
            memset(p, o.fill, o.size);
            live[nlive++] = o;
            if (cls >= 0)
                live_cls[cls]++;
        } else {
            size_t i = (size_t)test_rng_below(rng, nlive);
            obj_t o = live[i];
            bool intact = true;
            for (size_t j = 0; j < o.size; j++)
                intact &= o.p[j] == o.fill;
            CHECK(intact);
            bsa_status_t s = test_rng_below(rng, 2) ? bsa_free(&A, o.p)
                                                     : bsa_free_sized(&A, o.p, o.size, o.align);
            CHECK_STATUS(s, BSA_OK);
            live[i] = live[--nlive];
            if (o.cls < BSA_SIZE_CLASS_COUNT) {
                live_cls[o.cls]--;
                remote_frees += o.owner != cur_cpu;
            }
        }
        /* Live is exact; pending depends on when each owner drains (only when no slab
         * but the cached empty one has room), which this test does not replay. */
        bsa_stats_t st = stats();
        for (unsigned k = 0; k < BSA_SIZE_CLASS_COUNT; k++) {
            if (!class_is(&st, k, live_cls[k], SIZE_MAX, SIZE_MAX, __LINE__)) {
                CHECK(false);
                fprintf(stderr, "  step %u\n", step);
            }
        }
        if (step % 16 == 0)
            CHECK_STATUS(bsa_check(&A), BSA_OK);
    }
    printf("random mix: %zu remote frees\n", remote_frees);
    CHECK(remote_frees > 1000);
    CHECK_EQ_INT(stats().bad_frees, 0);
    /* Free what is left from random CPUs, then the exact accounting. */
    while (nlive > 0) {
        cur_cpu = (unsigned)test_rng_below(rng, NCPU);
        obj_t o = live[--nlive];
        CHECK_STATUS(bsa_free(&A, o.p), BSA_OK);
    }
    bsa_stats_t st = stats();
    for (unsigned k = 0; k < BSA_SIZE_CLASS_COUNT; k++)
        CHECK_EQ_SZ(st.classes[k].live, 0);
    CHECK_STATUS(bsa_check(&A), BSA_OK);
    reclaim_everywhere_exact();
}

/* Everything, on a fresh instance with these bsa_config_t.flags. */
static void run_all(unsigned flags, test_rng_t *rng) {
    init(flags);
    test_remote_free_drain();
    test_frees_into_full_slabs(rng);
    test_pages_two_sections(flags);
    fill_2048();
    free_all_local(rng);
    fill_2048();
    free_all_spread(rng);
    /* A refill after everything went back gives the same number of objects. */
    size_t first = nobj;
    fill_2048();
    CHECK_EQ_SZ(nobj, first);
    free_all_spread(rng);
    test_random_mix(rng);
    CHECK_EQ_INT(stats().bad_frees, 0);
    /* Last: their bad frees count. */
    test_free_hint_retired();
    test_slab_tail_hint_stale();
    test_region_free(heap, HEAP_BYTES);
}

int main(void) {
    test_rng_t rng = test_rng_init(test_seed(0x5eed5ca1e));
    run_all(0, &rng);
    /* One thread here, so every CPU id is used by one thread at a time: the promise of
     * BSA_CPU_EXCLUSIVE, whose frees and allocations take the inlined fast paths. */
    run_all(BSA_CPU_EXCLUSIVE, &rng);
    TEST_MAIN_END();
}
