/*
 * test_allocator_api.c - every call of the global allocator (bsa_*), single-threaded,
 * with the CPU of each call chosen through ops.cpu_id: calls before init, bad configs,
 * the bad inputs of DESIGN section 6 on the object side (each refused with its status,
 * counted in bad_frees when it is a free, bsa_check still OK and the patterns of other
 * live objects intact), usable_size, realloc, the page calls, lowmem with an address
 * translator, and add_region.
 */
#include <stdint.h>
#include <string.h>

#include "bsa.h"
#include "test_util.h"

#define PS ((size_t)4096)
#define NCPU 4

static unsigned cur_cpu; /* the "current CPU" of every call */
static unsigned get_cpu(void *ctx) {
    (void)ctx;
    return cur_cpu;
}
static const bsa_ops_t cpu_ops = {.cpu_id = get_cpu};

static bool all_zero(const void *p, size_t n) {
    const unsigned char *c = p;
    for (size_t i = 0; i < n; i++)
        if (c[i] != 0)
            return false;
    return true;
}

static void fill(void *p, size_t n, unsigned char v) { memset(p, v, n); }
static bool filled(const void *p, size_t n, unsigned char v) {
    const unsigned char *c = p;
    for (size_t i = 0; i < n; i++)
        if (c[i] != v)
            return false;
    return true;
}


/* ---- before init, and bad configs ------------------------------------------------- */

static void check_uninit(bsa_allocator_t *z, void *somewhere) {
    void *p = NULL;
    bsa_stats_t st;
    bsa_section_info_t info;
    CHECK_STATUS(bsa_alloc(z, 8, 0, &p), BSA_E_UNINIT);
    CHECK_STATUS(bsa_alloc(z, 100000, 0, &p), BSA_E_UNINIT);
    CHECK_STATUS(bsa_free(z, somewhere), BSA_E_UNINIT);
    CHECK_STATUS(bsa_free_sized(z, somewhere, 8, 0), BSA_E_UNINIT);
    CHECK_STATUS(bsa_realloc(z, NULL, 8, 0, &p), BSA_E_UNINIT);
    CHECK_STATUS(bsa_realloc(z, somewhere, 8, 0, &p), BSA_E_UNINIT);
    CHECK_STATUS(bsa_alloc_pages(z, 1, 0, &p), BSA_E_UNINIT);
    CHECK_STATUS(bsa_alloc_pages_lowmem(z, 1, 0, &p), BSA_E_UNINIT);
    CHECK_STATUS(bsa_free_pages(z, somewhere, 1), BSA_E_UNINIT);
    CHECK_STATUS(bsa_add_region(z, somewhere, 64 * PS), BSA_E_UNINIT);
    CHECK_STATUS(bsa_reclaim(z), BSA_E_UNINIT);
    CHECK_STATUS(bsa_section(z, 0, &info), BSA_E_UNINIT);
    CHECK_STATUS(bsa_stats(z, &st), BSA_E_UNINIT);
    CHECK_STATUS(bsa_check(z), BSA_E_UNINIT);
    CHECK_EQ_SZ(bsa_usable_size(z, somewhere), 0);
    CHECK_EQ_SZ(bsa_section_count(z), 0);
    CHECK(p == NULL);
}

static void test_uninit_and_bad_config(void) {
    static bsa_allocator_t z; /* zero-filled */
    const size_t len = 64 * PS;
    unsigned char *r = test_region(len);
    check_uninit(&z, r + 8 * PS);
    CHECK(all_zero(r, len)); /* add_region on an uninitialised instance wrote nothing */

    /* NULL instances are refused and never dereferenced. */
    void *p;
    bsa_status_t st = bsa_alloc(NULL, 8, 0, &p);
    CHECK(st == BSA_E_UNINIT || st == BSA_E_INVALID);
    st = bsa_free(NULL, r);
    CHECK(st == BSA_E_UNINIT || st == BSA_E_INVALID);
    st = bsa_check(NULL);
    CHECK(st == BSA_E_UNINIT || st == BSA_E_INVALID);
    CHECK_EQ_SZ(bsa_usable_size(NULL, r), 0);
    CHECK_EQ_SZ(bsa_section_count(NULL), 0);

    bsa_config_t good = {.page_size = PS, .cpu_count = NCPU, .ops = &cpu_ops};
    static const bsa_ops_t no_cpu_id = {.ctx = NULL};
    static const size_t bad_ps[] = {0, 1, 2048, 4095, 5000, 3 * 4096, 131072, SIZE_MAX};
    for (size_t i = 0; i < sizeof bad_ps / sizeof bad_ps[0]; i++) {
        bsa_config_t c = good;
        c.page_size = bad_ps[i];
        if (!CHECK_STATUS(bsa_init(&z, &c, r, len), BSA_E_INVALID))
            fprintf(stderr, "  page size %zu\n", bad_ps[i]);
    }
    bsa_config_t c = good;
    c.cpu_count = 0;
    CHECK_STATUS(bsa_init(&z, &c, r, len), BSA_E_INVALID);
    c.cpu_count = BSA_MAX_CPUS + 1;
    CHECK_STATUS(bsa_init(&z, &c, r, len), BSA_E_INVALID);
    c.cpu_count = UINT32_MAX;
    CHECK_STATUS(bsa_init(&z, &c, r, len), BSA_E_INVALID);
    /* Unknown flag bits are refused (a later flag must not be silently ignored). */
    for (unsigned bit = 1; bit < 32; bit++) {
        c = good;
        c.flags = BSA_CPU_EXCLUSIVE | (1u << bit);
        if (!CHECK_STATUS(bsa_init(&z, &c, r, len), BSA_E_INVALID))
            fprintf(stderr, "  flags %#x\n", c.flags);
    }
    c = good;
    c.ops = NULL;
    CHECK_STATUS(bsa_init(&z, &c, r, len), BSA_E_INVALID);
    c.ops = &no_cpu_id;
    CHECK_STATUS(bsa_init(&z, &c, r, len), BSA_E_INVALID);
    CHECK_STATUS(bsa_init(&z, NULL, r, len), BSA_E_INVALID);
    CHECK_STATUS(bsa_init(NULL, &good, r, len), BSA_E_INVALID);
    CHECK_STATUS(bsa_init(&z, &good, NULL, len), BSA_E_INVALID);
    CHECK_STATUS(bsa_init(&z, &good, r, 0), BSA_E_INVALID);
    CHECK_STATUS(bsa_init(&z, &good, r, 1), BSA_E_INVALID);
    CHECK_STATUS(bsa_init(&z, &good, r, PS), BSA_E_INVALID);
    CHECK_STATUS(bsa_init(&z, &good, r, SIZE_MAX), BSA_E_INVALID); /* wraps */
    /* Room for the per-CPU state of 256 CPUs, but not for it plus one page. */
    c = good;
    c.cpu_count = BSA_MAX_CPUS;
    CHECK_STATUS(bsa_init(&z, &c, r, 16 * PS), BSA_E_INVALID);
    c.page_size = 65536; /* a 64 KiB page does not fit in 64 4 KiB pages after metadata */
    c.cpu_count = 1;
    CHECK_STATUS(bsa_init(&z, &c, r, 16 * PS), BSA_E_INVALID);
    /* Every refusal wrote nothing: still uninitialised, region untouched. */
    check_uninit(&z, r + 8 * PS);
    CHECK(all_zero(r, len));

    /* The smallest useful region for one CPU: two pages give one managed page. */
    c = good;
    c.cpu_count = 1;
    c.ops = NULL; /* cpu_id is optional with one CPU */
    CHECK_STATUS(bsa_init(&z, &c, r, 2 * PS), BSA_OK);
    CHECK_EQ_SZ(bsa_section_count(&z), 1);
    bsa_stats_t s;
    CHECK_STATUS(bsa_stats(&z, &s), BSA_OK);
    CHECK_EQ_SZ(s.total_pages, 1);
    CHECK_EQ_SZ(s.free_pages, 1);
    CHECK_STATUS(bsa_alloc(&z, 8, 0, &p), BSA_OK); /* the one page becomes a slab */
    CHECK_STATUS(bsa_alloc_pages(&z, 1, 0, &p), BSA_E_NOMEM);
    CHECK_STATUS(bsa_check(&z), BSA_OK);

    /* A bad re-init of a live instance changes nothing either. */
    void *keep;
    CHECK_STATUS(bsa_alloc(&z, 7, 0, &keep), BSA_OK); /* same slab: no page left */
    fill(keep, 7, 0x5c);
    c.cpu_count = 0;
    CHECK_STATUS(bsa_init(&z, &c, r + 16 * PS, 32 * PS), BSA_E_INVALID);
    c.cpu_count = 1;
    CHECK_STATUS(bsa_init(&z, &c, r + 16 * PS, PS), BSA_E_INVALID);
    CHECK(all_zero(r + 16 * PS, 32 * PS));
    CHECK_EQ_SZ(bsa_usable_size(&z, keep), 8);
    CHECK(filled(keep, 7, 0x5c));
    CHECK_STATUS(bsa_free(&z, keep), BSA_OK);
    CHECK_STATUS(bsa_free(&z, p), BSA_OK);
    CHECK_STATUS(bsa_reclaim(&z), BSA_OK);
    CHECK_STATUS(bsa_stats(&z, &s), BSA_OK);
    CHECK_EQ_SZ(s.free_pages, 1);
    CHECK_STATUS(bsa_check(&z), BSA_OK);

    test_region_free(r, len);

    /* The full range of cpu_count and page sizes is accepted. BSA_MAX_CPUS CPUs' state
     * (2 KiB each: slab classes, free hints and page cache) takes 128 pages by itself. */
    const size_t big = 256 * PS;
    r = test_region(big);
    c = good;
    c.cpu_count = BSA_MAX_CPUS;
    CHECK_STATUS(bsa_init(&z, &c, r, big), BSA_OK);
    CHECK_STATUS(bsa_check(&z), BSA_OK);
    c.cpu_count = 2;
    c.page_size = 65536;
    CHECK_STATUS(bsa_init(&z, &c, r, big), BSA_OK);
    CHECK_STATUS(bsa_alloc(&z, 8, 0, &p), BSA_OK);
    CHECK_STATUS(bsa_check(&z), BSA_OK);
    test_region_free(r, big);
}

/* ---- the main instance and its live objects --------------------------------------- */

#define HEAP_BYTES ((size_t)16 << 20)
#define HEAP_ALIGN ((size_t)1 << 16)
static bsa_allocator_t A;
static unsigned char *heap, *heap_map;

typedef struct live {
    void *p;
    size_t size, align;
    unsigned cpu;
} live_t;

static const struct {
    size_t size, align;
    unsigned cpu;
} live_spec[] = {
    {0, 0, 0},   {1, 0, 0},    {8, 0, 0},        {24, 0, 1},       {100, 0, 0},
    {512, 0, 2}, {2048, 0, 0}, {8, 2048, 3},     {2049, 0, 0},     {3000, 0, 1},
    {5000, 0, 0}, {100000, 0, 2}, {16, 8192, 0}, {5000, 65536, 0}, {64, 64, 1},
};
#define NLIVE (sizeof live_spec / sizeof live_spec[0])
static live_t lv[NLIVE];

static unsigned char pattern_of(size_t i) { return (unsigned char)(0x30 + i); }

static bool live_intact(void) {
    for (size_t i = 0; i < NLIVE; i++)
        if (!filled(lv[i].p, lv[i].size, pattern_of(i)))
            return false;
    return true;
}

static void make_live(void) {
    for (size_t i = 0; i < NLIVE; i++) {
        lv[i] = (live_t){NULL, live_spec[i].size, live_spec[i].align, live_spec[i].cpu};
        cur_cpu = lv[i].cpu;
        CHECK_STATUS(bsa_alloc(&A, lv[i].size, lv[i].align, &lv[i].p), BSA_OK);
        size_t al = lv[i].align ? lv[i].align : 8;
        CHECK_EQ_SZ((uintptr_t)lv[i].p % al, 0);
        fill(lv[i].p, lv[i].size, pattern_of(i));
    }
    cur_cpu = 0;
}

typedef struct snap {
    bsa_stats_t st;
} snap_t;

static void snap_take(snap_t *s) { CHECK_STATUS(bsa_stats(&A, &s->st), BSA_OK); }

/* Same pages, same free blocks, same slabs and live objects per class. */
static bool snap_same(const snap_t *b, const snap_t *n) {
    bool same = b->st.total_pages == n->st.total_pages &&
                b->st.free_pages == n->st.free_pages &&
                b->st.managed_bytes == n->st.managed_bytes &&
                b->st.allocated_bytes == n->st.allocated_bytes;
    for (unsigned k = 0; k <= BSA_MAX_ORDER; k++)
        same &= b->st.free_blocks[k] == n->st.free_blocks[k];
    for (unsigned k = 0; k < BSA_SIZE_CLASS_COUNT; k++)
        same &= b->st.classes[k].slabs == n->st.classes[k].slabs &&
                b->st.classes[k].live == n->st.classes[k].live &&
                b->st.classes[k].capacity == n->st.classes[k].capacity;
    return same;
}

static void refused_at(bsa_status_t got, bsa_status_t want, uint64_t more_bad,
                       const snap_t *before, const char *what, int line) {
    bool ok = got == want;
    if (!ok)
        fprintf(stderr, "test_allocator_api.c:%d: %s = %s, want %s\n", line, what,
                bsa_status_name(got), bsa_status_name(want));
    snap_t now;
    snap_take(&now);
    if (!snap_same(before, &now)) {
        fprintf(stderr, "test_allocator_api.c:%d: %s changed the instance\n", line, what);
        ok = false;
    }
    if (now.st.bad_frees != before->st.bad_frees + more_bad) {
        fprintf(stderr, "test_allocator_api.c:%d: %s: bad_frees %llu -> %llu, want +%llu\n",
                line, what, (unsigned long long)before->st.bad_frees,
                (unsigned long long)now.st.bad_frees, (unsigned long long)more_bad);
        ok = false;
    }
    if (bsa_check(&A) != BSA_OK) {
        fprintf(stderr, "test_allocator_api.c:%d: %s: bsa_check failed\n", line, what);
        ok = false;
    }
    if (!live_intact()) {
        fprintf(stderr, "test_allocator_api.c:%d: %s touched a live object\n", line, what);
        ok = false;
    }
    CHECK(ok);
}
/* `call` gets `want`, bad_frees grows by `bad`, nothing else observable changes. */
#define REFUSED(call, want, bad)                                                          \
    do {                                                                                 \
        snap_t snap_;                                                                    \
        snap_take(&snap_);                                                               \
        bsa_status_t st_ = (call);                                                       \
        refused_at(st_, (want), (bad), &snap_, #call, __LINE__);                         \
    } while (0)
#define BAD_FREE(call) REFUSED(call, BSA_E_BAD_FREE, 1)

/* The heap is placed so that the section's first managed page is 64 KiB-aligned: the
 * buddy aligns blocks relative to the section, so a large allocation of 2^k pages
 * aligned to more than a page needs the section's first page aligned to
 * min(align, 2^k pages); elsewhere it fails with NOMEM (reported as an issue). */
static void init_main(void) {
    heap_map = test_region_aligned(HEAP_BYTES + HEAP_ALIGN, HEAP_ALIGN);
    bsa_config_t cfg = {.page_size = PS, .cpu_count = NCPU, .ops = &cpu_ops};
    bsa_section_info_t probe;
    CHECK_STATUS(bsa_init(&A, &cfg, heap_map, HEAP_BYTES), BSA_OK);
    CHECK_STATUS(bsa_section(&A, 0, &probe), BSA_OK);
    size_t meta = (size_t)((unsigned char *)probe.start - heap_map);
    heap = heap_map + (HEAP_ALIGN - meta % HEAP_ALIGN) % HEAP_ALIGN;
    memset(heap_map, 0, HEAP_BYTES + HEAP_ALIGN);
    CHECK_STATUS(bsa_init(&A, &cfg, heap, HEAP_BYTES), BSA_OK);
    CHECK_STATUS(bsa_check(&A), BSA_OK);
    CHECK_EQ_SZ(bsa_section_count(&A), 1);
    bsa_section_info_t info;
    CHECK_STATUS(bsa_section(&A, 0, &info), BSA_OK);
    CHECK((unsigned char *)info.start > heap);
    CHECK((unsigned char *)info.start + info.bytes <= heap + HEAP_BYTES);
    CHECK_EQ_SZ((uintptr_t)info.start % HEAP_ALIGN, 0);
    CHECK_EQ_SZ(info.bytes, info.total_pages * PS);
    CHECK_EQ_SZ(info.free_pages, info.total_pages);
    /* The metadata (per-CPU state, section header, page records) is small. */
    CHECK((size_t)((unsigned char *)info.start - heap) <= HEAP_BYTES / 200 + 2 * PS +
                                                              NCPU * sizeof(bsa_slab_t) * 2);
    bsa_stats_t st;
    CHECK_STATUS(bsa_stats(&A, &st), BSA_OK);
    CHECK_EQ_SZ(st.total_pages, info.total_pages);
    CHECK_EQ_SZ(st.free_pages, info.total_pages);
    CHECK_EQ_SZ(st.managed_bytes, info.bytes);
    CHECK_EQ_SZ(st.allocated_bytes, 0);
    CHECK_EQ_INT(st.bad_frees, 0);
    for (unsigned k = 0; k < BSA_SIZE_CLASS_COUNT; k++) {
        CHECK_EQ_SZ(st.classes[k].object_size, (size_t)8 << k);
        CHECK_EQ_SZ(st.classes[k].slabs + st.classes[k].live + st.classes[k].capacity, 0);
    }
    CHECK_STATUS(bsa_stats(&A, NULL), BSA_E_INVALID);
    CHECK_STATUS(bsa_section(&A, 1, &info), BSA_E_INVALID);
    CHECK_STATUS(bsa_section(&A, SIZE_MAX, &info), BSA_E_INVALID);
    CHECK_STATUS(bsa_section(&A, 0, NULL), BSA_E_INVALID);
}

/* Bad allocation requests: refused, nothing changes, no bad free counted. */
static void test_bad_alloc(void) {
    void *p = (void *)1;
    REFUSED(bsa_alloc(&A, SIZE_MAX, 0, &p), BSA_E_INVALID, 0);
    REFUSED(bsa_alloc(&A, SIZE_MAX - 10, 0, &p), BSA_E_INVALID, 0);
    REFUSED(bsa_alloc(&A, SIZE_MAX - PS + 2, 0, &p), BSA_E_INVALID, 0);
    REFUSED(bsa_alloc(&A, BSA_MAX_COUNT * PS + 1, 0, &p), BSA_E_INVALID, 0);
    REFUSED(bsa_alloc(&A, BSA_MAX_COUNT * PS * 2, 0, &p), BSA_E_INVALID, 0);
    /* Exactly 2^20 pages is well-formed: only too big for this heap. */
    REFUSED(bsa_alloc(&A, BSA_MAX_COUNT * PS, 0, &p), BSA_E_NOMEM, 0);
    REFUSED(bsa_alloc(&A, HEAP_BYTES, 0, &p), BSA_E_NOMEM, 0);
    static const size_t bad_align[] = {3, 24, 5, 6, 12, 100, 3 * PS, SIZE_MAX};
    for (size_t i = 0; i < sizeof bad_align / sizeof bad_align[0]; i++) {
        REFUSED(bsa_alloc(&A, 8, bad_align[i], &p), BSA_E_INVALID, 0);
        REFUSED(bsa_alloc(&A, 100000, bad_align[i], &p), BSA_E_INVALID, 0);
        REFUSED(bsa_realloc(&A, NULL, 8, bad_align[i], &p), BSA_E_INVALID, 0);
    }
    REFUSED(bsa_alloc(&A, 8, 0, NULL), BSA_E_INVALID, 0);
    REFUSED(bsa_alloc(&A, 100000, 0, NULL), BSA_E_INVALID, 0);
    REFUSED(bsa_realloc(&A, NULL, 8, 0, NULL), BSA_E_INVALID, 0);
    CHECK(p == (void *)1); /* never written by a refused call */
    /* An alignment no block in this heap can meet. */
    snap_t before;
    snap_take(&before);
    bsa_status_t st = bsa_alloc(&A, 8, (size_t)1 << 62, &p);
    CHECK(st == BSA_E_NOMEM || st == BSA_E_INVALID);
    refused_at(st, st, 0, &before, "bsa_alloc(8, 1 << 62)", __LINE__);
}

/* Large allocations aligned to more than a page (in the 64 KiB-aligned section). Size 0
 * and 1 with such an alignment are one page, like any large request of under a page. */
static void test_aligned_large(void) {
    static const size_t sizes[] = {0, 1, 2049, 4096, 4097, 5000, 8192, 20000, 65536, 100000};
    static const size_t aligns[] = {4096, 8192, 16384, 65536};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
        for (size_t j = 0; j < sizeof aligns / sizeof aligns[0]; j++) {
            void *p = NULL;
            size_t size = sizes[i], align = aligns[j];
            if (!CHECK_STATUS(bsa_alloc(&A, size, align, &p), BSA_OK)) {
                fprintf(stderr, "  bsa_alloc(%zu, %zu)\n", size, align);
                continue;
            }
            CHECK_EQ_SZ((uintptr_t)p % align, 0);
            CHECK(bsa_usable_size(&A, p) >= size);
            if (size <= PS)
                CHECK_EQ_SZ(bsa_usable_size(&A, p), PS);
            fill(p, size, 0x11);
            CHECK_STATUS(bsa_free_sized(&A, p, size, align), BSA_OK);
        }
    CHECK_STATUS(bsa_check(&A), BSA_OK);
    CHECK(live_intact());
}

/* Every bad free of DESIGN section 6 on the object side. */
static void test_bad_free(void) {
    void *p, *q;
    unsigned char local_var[64];
    bsa_section_info_t info;
    CHECK_STATUS(bsa_section(&A, 0, &info), BSA_OK);
    unsigned char *managed = info.start;

    /* NULL is fine for bsa_free and bsa_free_sized. */
    REFUSED(bsa_free(&A, NULL), BSA_OK, 0);
    REFUSED(bsa_free_sized(&A, NULL, 8, 0), BSA_OK, 0);

    /* Double free on the same CPU: small and large. */
    CHECK_STATUS(bsa_alloc(&A, 40, 0, &p), BSA_OK);
    CHECK_STATUS(bsa_free(&A, p), BSA_OK);
    BAD_FREE(bsa_free(&A, p));
    BAD_FREE(bsa_free_sized(&A, p, 40, 0));
    CHECK_STATUS(bsa_alloc(&A, 50000, 0, &q), BSA_OK);
    CHECK_STATUS(bsa_free(&A, q), BSA_OK);
    BAD_FREE(bsa_free(&A, q));
    BAD_FREE(bsa_free_sized(&A, q, 50000, 0));

    /* Double free across CPUs: CPU 0 allocates, CPU 1 frees (remote, pending), then
     * every CPU tries again; the owner's attempt drains first and finds it free. */
    cur_cpu = 0;
    CHECK_STATUS(bsa_alloc(&A, 200, 0, &p), BSA_OK);
    cur_cpu = 1;
    CHECK_STATUS(bsa_free(&A, p), BSA_OK);
    bsa_stats_t st;
    CHECK_STATUS(bsa_stats(&A, &st), BSA_OK);
    CHECK_EQ_SZ(st.classes[5].remote_pending, 1);
    BAD_FREE(bsa_free(&A, p));                 /* CPU 1 again */
    cur_cpu = 2;
    BAD_FREE(bsa_free(&A, p));                 /* a third CPU */
    BAD_FREE(bsa_free_sized(&A, p, 200, 0));
    cur_cpu = 0;
    BAD_FREE(bsa_free(&A, p));                 /* the owner: its pending bit refuses it */
    CHECK_STATUS(bsa_stats(&A, &st), BSA_OK);
    CHECK_EQ_SZ(st.classes[5].remote_pending, 1); /* a free does not drain */
    CHECK_STATUS(bsa_reclaim(&A), BSA_OK);     /* the owner's reclaim does */
    CHECK_STATUS(bsa_stats(&A, &st), BSA_OK);
    CHECK_EQ_SZ(st.classes[5].remote_pending, 0);
    cur_cpu = 3;
    BAD_FREE(bsa_free(&A, p));                 /* after the drain */
    /* Local free, then a remote one. */
    cur_cpu = 2;
    CHECK_STATUS(bsa_alloc(&A, 16, 0, &p), BSA_OK);
    CHECK_STATUS(bsa_free(&A, p), BSA_OK);
    cur_cpu = 0;
    BAD_FREE(bsa_free(&A, p));
    cur_cpu = 0;

    /* Outside every region: the stack, another mapping, small integers, the top. */
    unsigned char *elsewhere = test_region(4 * PS);
    BAD_FREE(bsa_free(&A, local_var));
    BAD_FREE(bsa_free(&A, elsewhere));
    BAD_FREE(bsa_free(&A, elsewhere + 64));
    BAD_FREE(bsa_free(&A, (void *)16));
    BAD_FREE(bsa_free(&A, (void *)(UINTPTR_MAX - 15)));
    BAD_FREE(bsa_free(&A, heap + HEAP_BYTES));           /* just past the region */
    BAD_FREE(bsa_free(&A, managed + info.bytes));        /* just past the last page */
    BAD_FREE(bsa_free_sized(&A, local_var, 8, 0));
    BAD_FREE(bsa_free_sized(&A, elsewhere, 100000, 0));
    CHECK(all_zero(elsewhere, 4 * PS));

    /* The metadata prefix: region start (per-CPU state), inside it, just before the
     * first managed page (page records). */
    BAD_FREE(bsa_free(&A, heap));
    BAD_FREE(bsa_free(&A, heap + 64));
    BAD_FREE(bsa_free(&A, heap + 8));
    BAD_FREE(bsa_free(&A, managed - 8));
    BAD_FREE(bsa_free(&A, managed - PS));
    BAD_FREE(bsa_free_sized(&A, heap + 64, 64, 0));
    BAD_FREE(bsa_free_sized(&A, heap, 100000, 0));

    /* Inside a free page: find one by allocating and freeing it. */
    CHECK_STATUS(bsa_alloc_pages(&A, 4, 0, &q), BSA_OK);
    CHECK_STATUS(bsa_free_pages(&A, q, 4), BSA_OK);
    unsigned char *fp = q;
    BAD_FREE(bsa_free(&A, fp));
    BAD_FREE(bsa_free(&A, fp + 8));
    BAD_FREE(bsa_free(&A, fp + 2 * PS));
    BAD_FREE(bsa_free_sized(&A, fp, 8, 0));
    BAD_FREE(bsa_free_sized(&A, fp, 4 * PS, 0));
    BAD_FREE(bsa_free_pages(&A, fp, 4));

    /* Inside a slab, not at an object start; inside the slab header. */
    unsigned char *o8 = lv[2].p, *o128 = lv[4].p, *o2k = lv[6].p, *o64 = lv[14].p;
    BAD_FREE(bsa_free(&A, o8 + 1));
    BAD_FREE(bsa_free(&A, o8 + 4));
    BAD_FREE(bsa_free(&A, o128 + 8));
    BAD_FREE(bsa_free(&A, o128 + 64));
    BAD_FREE(bsa_free(&A, o2k + 1024));
    BAD_FREE(bsa_free(&A, o2k + 2047));
    BAD_FREE(bsa_free_sized(&A, o128 + 64, 128, 0));
    unsigned char *slab8 = (unsigned char *)((uintptr_t)o8 & ~(PS - 1)); /* 1-page slab */
    BAD_FREE(bsa_free(&A, slab8));
    BAD_FREE(bsa_free(&A, slab8 + 8));
    BAD_FREE(bsa_free(&A, slab8 + 32));
    BAD_FREE(bsa_free_sized(&A, slab8, 8, 0));
    /* ... also from a CPU that does not own the slab (the remote path). */
    cur_cpu = 3;
    BAD_FREE(bsa_free(&A, o8 + 1));
    BAD_FREE(bsa_free(&A, slab8 + 16));
    BAD_FREE(bsa_free(&A, o64 + 32)); /* owned by CPU 1 */
    cur_cpu = 0;

    /* free_sized with another class: smaller, bigger, large; by alignment too. */
    BAD_FREE(bsa_free_sized(&A, o128, 8, 0));
    BAD_FREE(bsa_free_sized(&A, o128, 64, 0));
    BAD_FREE(bsa_free_sized(&A, o128, 129, 0));
    BAD_FREE(bsa_free_sized(&A, o128, 2048, 0));
    BAD_FREE(bsa_free_sized(&A, o128, 100, 256));
    BAD_FREE(bsa_free_sized(&A, o128, 3000, 0));
    BAD_FREE(bsa_free_sized(&A, o128, 100000, 0));
    BAD_FREE(bsa_free_sized(&A, lv[7].p, 8, 0));     /* allocated with align 2048 */
    BAD_FREE(bsa_free_sized(&A, lv[0].p, 16, 0));    /* size 0 is class 0 */
    /* A large block freed with the wrong size. */
    unsigned char *big = lv[10].p;                    /* 5000 bytes: 2 pages */
    BAD_FREE(bsa_free_sized(&A, big, 4096, 0));      /* 1 page */
    BAD_FREE(bsa_free_sized(&A, big, 20000, 0));     /* 8 pages */
    BAD_FREE(bsa_free_sized(&A, big, 2048, 0));      /* a slab size */
    BAD_FREE(bsa_free_sized(&A, big, 8, 0));
    BAD_FREE(bsa_free_sized(&A, lv[11].p, 5000, 0)); /* 100000 bytes: 32 pages */
    BAD_FREE(bsa_free_sized(&A, lv[11].p, 300000, 0));
    BAD_FREE(bsa_free_sized(&A, lv[12].p, 16, 0));   /* allocated with align 8192 */
    /* Interior pointers of large blocks. */
    BAD_FREE(bsa_free(&A, big + 8));
    BAD_FREE(bsa_free(&A, big + PS));
    BAD_FREE(bsa_free(&A, (unsigned char *)lv[11].p + 16 * PS));
    BAD_FREE(bsa_free_sized(&A, big + PS, 5000, 0));
    /* Arguments outside the contract: INVALID, not a bad free. */
    REFUSED(bsa_free_sized(&A, o128, 100, 3), BSA_E_INVALID, 0);
    REFUSED(bsa_free_sized(&A, o128, 100, 24), BSA_E_INVALID, 0);
    REFUSED(bsa_free_sized(&A, big, SIZE_MAX, 0), BSA_E_INVALID, 0);
    REFUSED(bsa_free_sized(&A, big, SIZE_MAX - 10, 0), BSA_E_INVALID, 0);
    REFUSED(bsa_free_sized(&A, big, BSA_MAX_COUNT * PS + 1, 0), BSA_E_INVALID, 0);

    /* Page calls and object calls do not mix. */
    BAD_FREE(bsa_free_pages(&A, o8, 1));
    BAD_FREE(bsa_free_pages(&A, slab8, 1));
    BAD_FREE(bsa_free_pages(&A, big, 2));   /* a bsa_alloc block with its page count */
    BAD_FREE(bsa_free_pages(&A, lv[11].p, 32));
    CHECK_STATUS(bsa_alloc_pages(&A, 2, 0, &q), BSA_OK);
    fill(q, 2 * PS, 0x77);
    BAD_FREE(bsa_free(&A, q));
    BAD_FREE(bsa_free_sized(&A, q, 2 * PS, 0));
    BAD_FREE(bsa_free_sized(&A, q, 5000, 0));
    BAD_FREE(bsa_free_pages(&A, q, 1));                       /* wrong count */
    BAD_FREE(bsa_free_pages(&A, q, 4));
    BAD_FREE(bsa_free_pages(&A, (unsigned char *)q + PS, 1)); /* not the head */
    BAD_FREE(bsa_free_pages(&A, (unsigned char *)q + 8, 2));
    REFUSED(bsa_free_pages(&A, q, 0), BSA_E_INVALID, 0);
    REFUSED(bsa_free_pages(&A, q, BSA_MAX_COUNT + 1), BSA_E_INVALID, 0);
    CHECK(filled(q, 2 * PS, 0x77));
    CHECK_STATUS(bsa_free_pages(&A, q, 2), BSA_OK);
    BAD_FREE(bsa_free_pages(&A, q, 2));                       /* double */

    /* Accepted: free_sized with a different size of the same class, and a large block
     * with a size of the same page order, and with its alignment. */
    CHECK_STATUS(bsa_alloc(&A, 100, 0, &p), BSA_OK);
    CHECK_STATUS(bsa_stats(&A, &st), BSA_OK);
    size_t live128 = st.classes[4].live;
    CHECK_STATUS(bsa_free_sized(&A, p, 65, 0), BSA_OK);
    CHECK_STATUS(bsa_stats(&A, &st), BSA_OK);
    CHECK_EQ_SZ(st.classes[4].live, live128 - 1);
    CHECK_STATUS(bsa_alloc(&A, 100, 0, &p), BSA_OK);
    CHECK_STATUS(bsa_free_sized(&A, p, 128, 64), BSA_OK);
    CHECK_STATUS(bsa_alloc(&A, 5000, 0, &p), BSA_OK);
    CHECK_STATUS(bsa_free_sized(&A, p, 8192, 0), BSA_OK);
    CHECK_STATUS(bsa_alloc(&A, 5000, 65536, &p), BSA_OK);
    CHECK_EQ_SZ((uintptr_t)p % 65536, 0);
    CHECK_STATUS(bsa_free_sized(&A, p, 5000, 65536), BSA_OK);
    cur_cpu = 2; /* a remote free_sized */
    CHECK_STATUS(bsa_alloc(&A, 300, 0, &p), BSA_OK);
    cur_cpu = 0;
    CHECK_STATUS(bsa_free_sized(&A, p, 257, 0), BSA_OK);
    CHECK_STATUS(bsa_check(&A), BSA_OK);
    CHECK(live_intact());
    test_region_free(elsewhere, 4 * PS);
}

static void test_usable_size(void) {
    static const size_t want[NLIVE] = {8,    8,    8,     32,    128,   512, 2048, 2048,
                                       4096, 4096, 8192, 131072, 4096, 8192, 64};
    for (size_t i = 0; i < NLIVE; i++) {
        size_t u = bsa_usable_size(&A, lv[i].p);
        if (!CHECK_EQ_SZ(u, want[i]))
            fprintf(stderr, "  live object %zu (size %zu align %zu)\n", i, lv[i].size,
                    lv[i].align);
        CHECK(u >= lv[i].size);
    }
    /* From any CPU: the same answer. */
    cur_cpu = 3;
    CHECK_EQ_SZ(bsa_usable_size(&A, lv[4].p), 128);
    cur_cpu = 0;
    unsigned char local_var[16];
    CHECK_EQ_SZ(bsa_usable_size(&A, NULL), 0);
    CHECK_EQ_SZ(bsa_usable_size(&A, local_var), 0);
    CHECK_EQ_SZ(bsa_usable_size(&A, heap), 0);
    CHECK_EQ_SZ(bsa_usable_size(&A, (unsigned char *)lv[4].p + 8), 0);
    CHECK_EQ_SZ(bsa_usable_size(&A, (unsigned char *)lv[10].p + PS), 0);
    CHECK_EQ_SZ(bsa_usable_size(&A, (void *)((uintptr_t)lv[2].p & ~(PS - 1))), 0);
    void *p, *q;
    CHECK_STATUS(bsa_alloc(&A, 700, 0, &p), BSA_OK);
    CHECK_STATUS(bsa_alloc(&A, 70000, 0, &q), BSA_OK);
    CHECK_EQ_SZ(bsa_usable_size(&A, p), 1024);
    CHECK_EQ_SZ(bsa_usable_size(&A, q), 32 * PS);
    CHECK_STATUS(bsa_free(&A, q), BSA_OK);
    CHECK_EQ_SZ(bsa_usable_size(&A, q), 0);
    /* Freed remotely (still pending): not live any more. */
    cur_cpu = 1;
    CHECK_STATUS(bsa_free(&A, p), BSA_OK);
    CHECK_EQ_SZ(bsa_usable_size(&A, p), 0);
    cur_cpu = 0;
    CHECK_EQ_SZ(bsa_usable_size(&A, p), 0);
    CHECK_STATUS(bsa_alloc(&A, 700, 0, &q), BSA_OK); /* the slab has room: no drain */
    CHECK(q != p);
    CHECK_EQ_SZ(bsa_usable_size(&A, q), 1024);
    CHECK_EQ_SZ(bsa_usable_size(&A, p), 0);
    CHECK_STATUS(bsa_free(&A, q), BSA_OK);
    CHECK_EQ_SZ(bsa_usable_size(&A, q), 0);
    /* Size 0 gives unique objects. */
    void *z1, *z2;
    CHECK_STATUS(bsa_alloc(&A, 0, 0, &z1), BSA_OK);
    CHECK_STATUS(bsa_alloc(&A, 0, 0, &z2), BSA_OK);
    CHECK(z1 != z2 && z1 != lv[0].p && z2 != lv[0].p);
    CHECK_EQ_SZ(bsa_usable_size(&A, z1), 8);
    CHECK_STATUS(bsa_free(&A, z1), BSA_OK);
    CHECK_STATUS(bsa_free(&A, z2), BSA_OK);
}

/* The realloc chain's content: byte i is 1 for i < 8, else floor(log2(i)) - 1, so each
 * class's new half has its own value: [8,16) = 2, [16,32) = 3, ..., [1024,2048) = 9. */
static unsigned char chain_byte(size_t i) {
    unsigned v = 1;
    for (size_t b = 16; b <= i * 2 && b <= 4096; b *= 2)
        v++;
    return (unsigned char)(i < 8 ? 1 : v);
}
static bool chain_ok(const void *p, size_t n) {
    const unsigned char *c = p;
    for (size_t i = 0; i < n; i++)
        if (c[i] != chain_byte(i))
            return false;
    return true;
}
static void chain_fill(void *p, size_t from, size_t to) {
    for (size_t i = from; i < to; i++)
        ((unsigned char *)p)[i] = chain_byte(i);
}

static void test_realloc(void) {
    void *p = NULL, *q = NULL;
    bsa_stats_t st;
    /* NULL allocates. */
    CHECK_STATUS(bsa_realloc(&A, NULL, 100, 0, &p), BSA_OK);
    CHECK(p != NULL);
    CHECK_EQ_SZ(bsa_usable_size(&A, p), 128);
    CHECK_STATUS(bsa_realloc(&A, NULL, 100, 256, &q), BSA_OK);
    CHECK_EQ_SZ((uintptr_t)q % 256, 0);
    CHECK_STATUS(bsa_free(&A, q), BSA_OK);
    /* In place when it fits. */
    fill(p, 100, 0xab);
    CHECK_STATUS(bsa_realloc(&A, p, 120, 0, &q), BSA_OK);
    CHECK(q == p);
    CHECK_STATUS(bsa_realloc(&A, p, 128, 0, &q), BSA_OK);
    CHECK(q == p);
    CHECK_STATUS(bsa_realloc(&A, p, 128, 128, &q), BSA_OK);
    CHECK(q == p);
    CHECK(filled(p, 100, 0xab));
    /* Size 0 frees and sets *out to NULL. */
    CHECK_STATUS(bsa_stats(&A, &st), BSA_OK);
    size_t live128 = st.classes[4].live;
    q = (void *)1;
    CHECK_STATUS(bsa_realloc(&A, p, 0, 0, &q), BSA_OK);
    CHECK(q == NULL);
    CHECK_EQ_SZ(bsa_usable_size(&A, p), 0);
    CHECK_STATUS(bsa_stats(&A, &st), BSA_OK);
    CHECK_EQ_SZ(st.classes[4].live, live128 - 1);
    /* Of a pointer that is not live: refused, counted. */
    REFUSED(bsa_realloc(&A, p, 50, 0, &q), BSA_E_BAD_FREE, 1);
    REFUSED(bsa_realloc(&A, (unsigned char *)lv[4].p + 8, 50, 0, &q), BSA_E_BAD_FREE, 1);

    /* Content kept across every class (8 -> 2048), into pages and back. */
    CHECK_STATUS(bsa_alloc(&A, 8, 0, &p), BSA_OK);
    chain_fill(p, 0, 8);
    size_t have = 8;
    for (size_t size = 16; size <= 2048; size *= 2) {
        CHECK_STATUS(bsa_realloc(&A, p, size, 0, &q), BSA_OK);
        CHECK(q != p); /* it did not fit */
        CHECK_EQ_SZ(bsa_usable_size(&A, q), size);
        CHECK_EQ_SZ(bsa_usable_size(&A, p), 0);
        CHECK(chain_ok(q, have));
        chain_fill(q, have, size);
        have = size;
        p = q;
    }
    /* p: bytes [0,8) = 1, [8,16) = 2, [16,32) = 3, ..., [1024,2048) = 9. */
    CHECK_STATUS(bsa_realloc(&A, p, 100000, 0, &q), BSA_OK);
    CHECK(q != p);
    CHECK_EQ_SZ(bsa_usable_size(&A, p), 0);
    CHECK_EQ_SZ(bsa_usable_size(&A, q), 32 * PS);
    CHECK_EQ_SZ((uintptr_t)q % PS, 0);
    CHECK(chain_ok(q, 2048));
    fill((unsigned char *)q + 2048, 100000 - 2048, 0xee);
    /* Bigger pages: moves, keeps all 100000 bytes. */
    void *r;
    CHECK_STATUS(bsa_realloc(&A, q, 300000, 0, &r), BSA_OK);
    CHECK_EQ_SZ(bsa_usable_size(&A, r), 128 * PS);
    CHECK(chain_ok(r, 2048) && filled((unsigned char *)r + 2048, 100000 - 2048, 0xee));
    CHECK_EQ_SZ(bsa_usable_size(&A, q), 0);
    /* Back to a slab size: content of the first 2048 bytes kept (in place or moved). */
    CHECK_STATUS(bsa_realloc(&A, r, 2048, 0, &q), BSA_OK);
    CHECK(bsa_usable_size(&A, q) >= 2048);
    CHECK(chain_ok(q, 2048));
    /* Down to 8 bytes: the first 8 kept. */
    CHECK_STATUS(bsa_realloc(&A, q, 8, 0, &r), BSA_OK);
    CHECK(bsa_usable_size(&A, r) >= 8);
    CHECK(chain_ok(r, 8));
    /* A bigger alignment than the block has: moves to an aligned one. */
    CHECK_STATUS(bsa_alloc(&A, 8, 0, &p), BSA_OK);
    fill(p, 8, 0x42);
    CHECK_STATUS(bsa_realloc(&A, p, 8, 1024, &q), BSA_OK);
    CHECK_EQ_SZ((uintptr_t)q % 1024, 0);
    CHECK(filled(q, 8, 0x42));
    CHECK_STATUS(bsa_free(&A, q), BSA_OK);
    /* A remote realloc (CPU 2 reallocs CPU 0's object): content kept, old freed. */
    CHECK_STATUS(bsa_alloc(&A, 40, 0, &p), BSA_OK);
    fill(p, 40, 0x24);
    cur_cpu = 2;
    CHECK_STATUS(bsa_realloc(&A, p, 400, 0, &q), BSA_OK);
    CHECK(filled(q, 40, 0x24));
    CHECK_EQ_SZ(bsa_usable_size(&A, p), 0);
    CHECK_STATUS(bsa_free(&A, q), BSA_OK);
    cur_cpu = 0;
    /* Bad sizes and alignment: the old block untouched and live. */
    REFUSED(bsa_realloc(&A, r, SIZE_MAX, 0, &q), BSA_E_INVALID, 0);
    REFUSED(bsa_realloc(&A, r, BSA_MAX_COUNT * PS + 1, 0, &q), BSA_E_INVALID, 0);
    REFUSED(bsa_realloc(&A, r, 16, 3, &q), BSA_E_INVALID, 0);
    CHECK(chain_ok(r, 8));
    CHECK(bsa_usable_size(&A, r) >= 8);
    CHECK_STATUS(bsa_free(&A, r), BSA_OK);
    CHECK_STATUS(bsa_check(&A), BSA_OK);
}

/* realloc NOMEM on a small heap leaves the old block live and intact. */
static void test_realloc_nomem(void) {
    static bsa_allocator_t S;
    const size_t len = 48 * PS;
    unsigned char *r = test_region(len);
    bsa_config_t cfg = {.page_size = PS, .cpu_count = 1, .ops = NULL};
    CHECK_STATUS(bsa_init(&S, &cfg, r, len), BSA_OK);
    void *p, *big, *x, *q = (void *)1;
    CHECK_STATUS(bsa_alloc(&S, 8, 0, &x), BSA_OK); /* a class-0 slab, 1 page */
    fill(x, 8, 0x18);
    CHECK_STATUS(bsa_alloc(&S, 2048, 0, &p), BSA_OK);
    fill(p, 2048, 0x9d);
    CHECK_STATUS(bsa_alloc(&S, 5 * PS, 0, &big), BSA_OK); /* 8 pages */
    fill(big, 5 * PS, 0x3e);
    bsa_stats_t before, after;
    CHECK_STATUS(bsa_stats(&S, &before), BSA_OK);
    CHECK_STATUS(bsa_realloc(&S, p, 64 * PS, 0, &q), BSA_E_NOMEM);
    CHECK_STATUS(bsa_realloc(&S, big, 64 * PS, 0, &q), BSA_E_NOMEM);
    CHECK_STATUS(bsa_realloc(&S, big, 32 * PS, 0, &q), BSA_E_NOMEM);
    CHECK(q == (void *)1);
    CHECK_STATUS(bsa_stats(&S, &after), BSA_OK);
    CHECK_EQ_SZ(after.free_pages, before.free_pages);
    CHECK_EQ_SZ(after.classes[8].live, 1);
    CHECK_EQ_SZ(after.classes[0].live, 1);
    CHECK_EQ_SZ(bsa_usable_size(&S, p), 2048);
    CHECK_EQ_SZ(bsa_usable_size(&S, big), 8 * PS);
    CHECK(filled(p, 2048, 0x9d));
    CHECK(filled(big, 5 * PS, 0x3e));
    CHECK_STATUS(bsa_check(&S), BSA_OK);
    /* Fill the heap with pages, then a small realloc that needs a new slab fails too. */
    void *pg[64];
    size_t n = 0;
    while (n < 64 && bsa_alloc_pages(&S, 1, 0, &pg[n]) == BSA_OK)
        n++;
    CHECK(n > 0 && n < 64);
    CHECK_STATUS(bsa_realloc(&S, p, 8, 4096 / 2, &q), BSA_OK); /* class 8: fits in place */
    CHECK(q == p);
    CHECK_STATUS(bsa_realloc(&S, x, 100, 0, &q), BSA_E_NOMEM); /* class 4: no slab */
    CHECK_STATUS(bsa_realloc(&S, p, 4000, 0, &q), BSA_E_NOMEM); /* no page */
    CHECK_STATUS(bsa_realloc(&S, big, 9 * PS, 0, &q), BSA_E_NOMEM);
    CHECK(q == p);
    CHECK_EQ_SZ(bsa_usable_size(&S, x), 8);
    CHECK_EQ_SZ(bsa_usable_size(&S, p), 2048);
    CHECK_EQ_SZ(bsa_usable_size(&S, big), 8 * PS);
    CHECK(filled(x, 8, 0x18));
    CHECK(filled(p, 2048, 0x9d));
    CHECK(filled(big, 5 * PS, 0x3e));
    CHECK_STATUS(bsa_check(&S), BSA_OK);
    for (size_t i = 0; i < n; i++)
        CHECK_STATUS(bsa_free_pages(&S, pg[i], 1), BSA_OK);
    CHECK_STATUS(bsa_realloc(&S, x, 100, 0, &q), BSA_OK); /* now it moves */
    CHECK(q != x);
    CHECK(filled(q, 8, 0x18));
    CHECK_EQ_SZ(bsa_usable_size(&S, x), 0);
    CHECK_STATUS(bsa_free(&S, q), BSA_OK);
    CHECK_STATUS(bsa_free(&S, p), BSA_OK);
    CHECK_STATUS(bsa_free(&S, big), BSA_OK);
    CHECK_STATUS(bsa_reclaim(&S), BSA_OK);
    CHECK_STATUS(bsa_stats(&S, &after), BSA_OK);
    CHECK_EQ_SZ(after.free_pages, after.total_pages);
    CHECK_STATUS(bsa_check(&S), BSA_OK);
    test_region_free(r, len);
}

/* ---- pages through the allocator --------------------------------------------------- */

static void test_pages(void) {
    bsa_stats_t s0, s1;
    CHECK_STATUS(bsa_stats(&A, &s0), BSA_OK);
    void *p, *q, *r;
    CHECK_STATUS(bsa_alloc_pages(&A, 1, 0, &p), BSA_OK);
    CHECK_EQ_SZ((uintptr_t)p % PS, 0);
    CHECK_STATUS(bsa_alloc_pages(&A, 3, 0, &q), BSA_OK); /* rounds to 4 */
    CHECK_STATUS(bsa_alloc_pages(&A, 2, 16 * PS, &r), BSA_OK);
    CHECK_EQ_SZ((uintptr_t)r % (16 * PS), 0);
    CHECK_STATUS(bsa_stats(&A, &s1), BSA_OK);
    CHECK_EQ_SZ(s0.free_pages - s1.free_pages, 1 + 4 + 2);
    CHECK_EQ_SZ(s1.allocated_bytes - s0.allocated_bytes, 7 * PS);
    fill(q, 4 * PS, 0x61);
    /* Bad page requests. */
    REFUSED(bsa_alloc_pages(&A, 0, 0, &p), BSA_E_INVALID, 0);
    REFUSED(bsa_alloc_pages(&A, BSA_MAX_COUNT + 1, 0, &p), BSA_E_INVALID, 0);
    REFUSED(bsa_alloc_pages(&A, SIZE_MAX, 0, &p), BSA_E_INVALID, 0);
    REFUSED(bsa_alloc_pages(&A, 1, 2048, &p), BSA_E_INVALID, 0);
    REFUSED(bsa_alloc_pages(&A, 1, 3 * PS, &p), BSA_E_INVALID, 0);
    REFUSED(bsa_alloc_pages(&A, 1, 8, &p), BSA_E_INVALID, 0);
    REFUSED(bsa_alloc_pages(&A, 1, 0, NULL), BSA_E_INVALID, 0);
    REFUSED(bsa_alloc_pages_lowmem(&A, 0, 0, &p), BSA_E_INVALID, 0);
    REFUSED(bsa_alloc_pages_lowmem(&A, 1, 3, &p), BSA_E_INVALID, 0);
    REFUSED(bsa_alloc_pages_lowmem(&A, 1, 0, NULL), BSA_E_INVALID, 0);
    REFUSED(bsa_alloc_pages(&A, BSA_MAX_COUNT, 0, &p), BSA_E_NOMEM, 0);
    /* Frees: wrong count (different order), non-head, then right. */
    BAD_FREE(bsa_free_pages(&A, q, 2));
    BAD_FREE(bsa_free_pages(&A, q, 5));
    BAD_FREE(bsa_free_pages(&A, (unsigned char *)q + PS, 1));
    BAD_FREE(bsa_free_pages(&A, (unsigned char *)q + 2 * PS, 2));
    CHECK(filled(q, 4 * PS, 0x61));
    CHECK_STATUS(bsa_free_pages(&A, q, 4), BSA_OK); /* same order as 3 */
    CHECK_STATUS(bsa_free_pages(&A, p, 1), BSA_OK);
    CHECK_STATUS(bsa_free_pages(&A, r, 2), BSA_OK);
    CHECK_STATUS(bsa_stats(&A, &s1), BSA_OK);
    CHECK_EQ_SZ(s1.free_pages, s0.free_pages);
    CHECK_STATUS(bsa_check(&A), BSA_OK);
}

/* lowmem through an address translator: the section's first managed page is placed
 * 8 pages below 4 GiB, so exactly 8 pages are low. */
static void test_lowmem(void) {
    static bsa_allocator_t L;
    static bsa_hosted_phys_map_t map;
    const size_t len = 128 * PS;
    unsigned char *r = test_region(len);
    bsa_ops_t ops = {.cpu_id = get_cpu, .virt_to_phys = bsa_hosted_offset_phys, .ctx = &map};
    bsa_config_t cfg = {.page_size = PS, .cpu_count = 2, .ops = &ops};
    map.virt_base = (uintptr_t)r;
    map.phys_base = 0;
    CHECK_STATUS(bsa_init(&L, &cfg, r, len), BSA_OK);
    bsa_section_info_t info;
    CHECK_STATUS(bsa_section(&L, 0, &info), BSA_OK);
    uint64_t meta = (uint64_t)((unsigned char *)info.start - r);
    /* Everything below 4 GiB: lowmem works like alloc_pages. */
    void *p;
    CHECK_STATUS(bsa_alloc_pages_lowmem(&L, 4, 0, &p), BSA_OK);
    CHECK_STATUS(bsa_free_pages(&L, p, 4), BSA_OK);

    /* Re-init with the first managed page at phys 4 GiB - 8 pages. */
    map.phys_base = BSA_DMA32_LIMIT - 8 * PS - meta;
    CHECK_STATUS(bsa_init(&L, &cfg, r, len), BSA_OK);
    CHECK_STATUS(bsa_section(&L, 0, &info), BSA_OK);
    CHECK_EQ_INT(bsa_hosted_offset_phys(&map, (uintptr_t)info.start), BSA_DMA32_LIMIT - 8 * PS);
    unsigned char *low_end = (unsigned char *)info.start + 8 * PS;
    CHECK_STATUS(bsa_alloc_pages_lowmem(&L, 16, 0, &p), BSA_E_NOMEM);
    CHECK_STATUS(bsa_alloc_pages_lowmem(&L, 9, 0, &p), BSA_E_NOMEM);
    void *lp[8];
    CHECK_STATUS(bsa_alloc_pages_lowmem(&L, 4, 0, &lp[0]), BSA_OK);
    CHECK((unsigned char *)lp[0] + 4 * PS <= low_end);
    CHECK(bsa_hosted_offset_phys(&map, (uintptr_t)lp[0]) + 4 * PS <= BSA_DMA32_LIMIT);
    CHECK_STATUS(bsa_free_pages(&L, lp[0], 4), BSA_OK);
    for (size_t i = 0; i < 8; i++) {
        CHECK_STATUS(bsa_alloc_pages_lowmem(&L, 1, 0, &lp[i]), BSA_OK);
        CHECK((unsigned char *)lp[i] >= (unsigned char *)info.start &&
              (unsigned char *)lp[i] + PS <= low_end);
        CHECK(bsa_hosted_offset_phys(&map, (uintptr_t)lp[i]) + PS <= BSA_DMA32_LIMIT);
    }
    CHECK_STATUS(bsa_alloc_pages_lowmem(&L, 1, 0, &p), BSA_E_NOMEM);
    /* Ordinary calls still work from the high pages. */
    CHECK_STATUS(bsa_alloc_pages(&L, 1, 0, &p), BSA_OK);
    CHECK((unsigned char *)p >= low_end);
    void *o;
    CHECK_STATUS(bsa_alloc(&L, 64, 0, &o), BSA_OK);
    CHECK((unsigned char *)o >= low_end);
    CHECK_STATUS(bsa_free(&L, o), BSA_OK);
    CHECK_STATUS(bsa_free_pages(&L, p, 1), BSA_OK);
    CHECK_STATUS(bsa_free_pages(&L, lp[3], 1), BSA_OK);
    CHECK_STATUS(bsa_alloc_pages_lowmem(&L, 1, 0, &p), BSA_OK);
    CHECK(p == lp[3]);
    CHECK_STATUS(bsa_check(&L), BSA_OK);

    /* Entirely above 4 GiB: no lowmem at all. */
    map.phys_base = (uint64_t)1 << 33;
    CHECK_STATUS(bsa_init(&L, &cfg, r, len), BSA_OK);
    CHECK_STATUS(bsa_alloc_pages_lowmem(&L, 1, 0, &p), BSA_E_NOMEM);
    CHECK_STATUS(bsa_alloc_pages(&L, 1, 0, &p), BSA_OK);
    CHECK_STATUS(bsa_check(&L), BSA_OK);
    /* Identity (no hook): lowmem exactly when the mapping is below 4 GiB. */
    ops.virt_to_phys = NULL;
    CHECK_STATUS(bsa_init(&L, &cfg, r, len), BSA_OK);
    bsa_status_t st = bsa_alloc_pages_lowmem(&L, 1, 0, &p);
    CHECK_STATUS(st, (uint64_t)(uintptr_t)(r + len) <= BSA_DMA32_LIMIT ? BSA_OK : BSA_E_NOMEM);
    test_region_free(r, len);
}

/* add_region: once the first region is full, allocations land in the new one. */
static void test_add_region(void) {
    static bsa_allocator_t R;
    const size_t len1 = 32 * PS, len2 = 64 * PS, len0 = 16 * PS, total = 160 * PS;
    unsigned char *map = test_region(total);
    unsigned char *r0 = map;                /* added last, below the first region */
    unsigned char *r = map + 24 * PS;
    unsigned char *r2 = r + len1 + 16 * PS; /* a gap between them */
    bsa_config_t cfg = {.page_size = PS, .cpu_count = 2, .ops = &cpu_ops};
    CHECK_STATUS(bsa_init(&R, &cfg, r, len1), BSA_OK);
    bsa_stats_t s0, s1;
    CHECK_STATUS(bsa_stats(&R, &s0), BSA_OK);
    void *pg[128], *p;
    size_t n = 0;
    while (n < 128 && bsa_alloc_pages(&R, 1, 0, &pg[n]) == BSA_OK)
        n++;
    CHECK_EQ_SZ(n, s0.total_pages);
    CHECK_STATUS(bsa_alloc(&R, 8, 0, &p), BSA_E_NOMEM);
    CHECK_STATUS(bsa_alloc(&R, 5000, 0, &p), BSA_E_NOMEM);

    CHECK_STATUS(bsa_add_region(&R, NULL, len2), BSA_E_INVALID);
    CHECK_STATUS(bsa_add_region(&R, r2, PS), BSA_E_INVALID);
    CHECK_STATUS(bsa_add_region(&R, r2, 0), BSA_E_INVALID);
    CHECK_STATUS(bsa_add_region(&R, r + PS, 8 * PS), BSA_E_OVERLAP);
    CHECK_STATUS(bsa_add_region(&R, r + len1 - PS, 8 * PS), BSA_E_OVERLAP);
    CHECK_STATUS(bsa_add_region(&R, r, len1), BSA_E_OVERLAP);
    CHECK_EQ_SZ(bsa_section_count(&R), 1);
    CHECK_STATUS(bsa_check(&R), BSA_OK);

    CHECK_STATUS(bsa_add_region(&R, r2, len2), BSA_OK);
    CHECK_EQ_SZ(bsa_section_count(&R), 2);
    CHECK_STATUS(bsa_add_region(&R, r2 + PS, PS * 4), BSA_E_OVERLAP);
    bsa_section_info_t info;
    CHECK_STATUS(bsa_section(&R, 1, &info), BSA_OK);
    unsigned char *lo = info.start, *hi = lo + info.bytes;
    CHECK(lo >= r2 && hi <= r2 + len2);
    CHECK_STATUS(bsa_stats(&R, &s1), BSA_OK);
    CHECK_EQ_SZ(s1.total_pages, s0.total_pages + info.total_pages);
    /* Small (a new slab), large, pages: all in the new section. */
    void *o[4];
    cur_cpu = 1;
    CHECK_STATUS(bsa_alloc(&R, 8, 0, &o[0]), BSA_OK);
    cur_cpu = 0;
    CHECK_STATUS(bsa_alloc(&R, 1000, 0, &o[1]), BSA_OK);
    CHECK_STATUS(bsa_alloc(&R, 5000, 0, &o[2]), BSA_OK);
    CHECK_STATUS(bsa_alloc_pages(&R, 4, 0, &o[3]), BSA_OK);
    for (size_t i = 0; i < 4; i++)
        CHECK((unsigned char *)o[i] >= lo && (unsigned char *)o[i] < hi);
    CHECK_STATUS(bsa_check(&R), BSA_OK);
    /* Give everything back: free_pages == initial + the added section. */
    cur_cpu = 1;
    CHECK_STATUS(bsa_free(&R, o[0]), BSA_OK);
    CHECK_STATUS(bsa_reclaim(&R), BSA_OK);
    cur_cpu = 0;
    CHECK_STATUS(bsa_free(&R, o[1]), BSA_OK);
    CHECK_STATUS(bsa_free(&R, o[2]), BSA_OK);
    CHECK_STATUS(bsa_free_pages(&R, o[3], 4), BSA_OK);
    for (size_t i = 0; i < n; i++)
        CHECK_STATUS(bsa_free_pages(&R, pg[i], 1), BSA_OK);
    CHECK_STATUS(bsa_reclaim(&R), BSA_OK);
    CHECK_STATUS(bsa_stats(&R, &s1), BSA_OK);
    CHECK_EQ_SZ(s1.free_pages, s0.free_pages + info.total_pages);
    for (unsigned k = 0; k < BSA_SIZE_CLASS_COUNT; k++)
        CHECK_EQ_SZ(s1.classes[k].slabs + s1.classes[k].live, 0);
    CHECK_STATUS(bsa_check(&R), BSA_OK);

    /* A third region below the others: lookups find it (sections sorted by address). */
    n = 0;
    while (n < 128 && bsa_alloc_pages(&R, 1, 0, &pg[n]) == BSA_OK)
        n++;
    CHECK(n > 0 && n < 128);
    CHECK_STATUS(bsa_add_region(&R, r0, len0), BSA_OK);
    CHECK_EQ_SZ(bsa_section_count(&R), 3);
    bsa_section_info_t i0;
    CHECK_STATUS(bsa_section(&R, 2, &i0), BSA_OK);
    CHECK((unsigned char *)i0.start >= r0 && (unsigned char *)i0.start + i0.bytes <= r0 + len0);
    cur_cpu = 1;
    CHECK_STATUS(bsa_alloc(&R, 300, 0, &o[0]), BSA_OK);
    CHECK((unsigned char *)o[0] >= (unsigned char *)i0.start &&
          (unsigned char *)o[0] < (unsigned char *)i0.start + i0.bytes);
    CHECK_EQ_SZ(bsa_usable_size(&R, o[0]), 512);
    CHECK_STATUS(bsa_free(&R, r0), BSA_E_BAD_FREE); /* its metadata */
    cur_cpu = 0;
    CHECK_STATUS(bsa_free(&R, o[0]), BSA_OK); /* remote */
    for (size_t i = 0; i < n; i++)
        CHECK_STATUS(bsa_free_pages(&R, pg[i], 1), BSA_OK);
    for (cur_cpu = 0; cur_cpu < 2; cur_cpu++)
        CHECK_STATUS(bsa_reclaim(&R), BSA_OK);
    cur_cpu = 0;
    CHECK_STATUS(bsa_stats(&R, &s1), BSA_OK);
    CHECK_EQ_SZ(s1.free_pages, s0.free_pages + info.total_pages + i0.total_pages);
    CHECK_EQ_SZ(s1.free_pages, s1.total_pages);
    CHECK_STATUS(bsa_check(&R), BSA_OK);
    test_region_free(map, total);
}

/* The optional hooks: critical sections are balanced and never nested (bsa never holds
 * two locks at once), and every refused or detected bad free is reported once. */
typedef struct hook_log {
    int depth, max_depth;
    unsigned long enters, exits, bad_state, reports, other_reports;
    const void *last_bad;
} hook_log_t;
static hook_log_t hl;
static uintptr_t h_enter(void *ctx) {
    hook_log_t *l = ctx;
    l->enters++;
    if (++l->depth > l->max_depth)
        l->max_depth = l->depth;
    return 0x1234 + (uintptr_t)l->depth;
}
static void h_exit(void *ctx, uintptr_t state) {
    hook_log_t *l = ctx;
    l->exits++;
    if (state != 0x1234 + (uintptr_t)l->depth)
        l->bad_state++;
    l->depth--;
}
static void h_report(void *ctx, bsa_status_t st, const void *ptr) {
    hook_log_t *l = ctx;
    if (st == BSA_E_BAD_FREE) {
        l->reports++;
        l->last_bad = ptr;
    } else {
        l->other_reports++;
    }
}
static unsigned h_cpu(void *ctx) {
    (void)ctx;
    return cur_cpu;
}

static void test_hooks(void) {
    static bsa_allocator_t H;
    const size_t len = 256 * PS;
    unsigned char *r = test_region(len);
    bsa_ops_t ops = {.ctx = &hl, .cpu_id = h_cpu, .crit_enter = h_enter, .crit_exit = h_exit,
                     .report = h_report};
    bsa_config_t cfg = {.page_size = PS, .cpu_count = 3, .ops = &ops};
    CHECK_STATUS(bsa_init(&H, &cfg, r, len), BSA_OK);
    ops.report = NULL; /* the table was copied at init */
    void *o[40], *pg;
    for (unsigned i = 0; i < 40; i++) {
        cur_cpu = i % 3;
        CHECK_STATUS(bsa_alloc(&H, (size_t)8 << (i % 9), 0, &o[i]), BSA_OK);
    }
    CHECK_STATUS(bsa_alloc(&H, 9000, 0, &pg), BSA_OK);
    bsa_stats_t st;
    CHECK_STATUS(bsa_stats(&H, &st), BSA_OK);
    CHECK_STATUS(bsa_check(&H), BSA_OK);
    CHECK_EQ_SZ(bsa_usable_size(&H, o[5]), 256);
    void *q;
    CHECK_STATUS(bsa_realloc(&H, o[0], 3000, 0, &q), BSA_OK);
    o[0] = q;
    /* Bad frees, each reported with its pointer: local, remote, large, pages. */
    unsigned long rep0 = hl.reports;
    cur_cpu = 0;
    CHECK_STATUS(bsa_free(&H, (unsigned char *)o[3] + 1), BSA_E_BAD_FREE); /* owner 0 */
    CHECK(hl.last_bad == (unsigned char *)o[3] + 1);
    CHECK_STATUS(bsa_free(&H, (unsigned char *)o[4] + 1), BSA_E_BAD_FREE); /* owner 1 */
    CHECK(hl.last_bad == (unsigned char *)o[4] + 1);
    CHECK_STATUS(bsa_free(&H, (unsigned char *)pg + PS), BSA_E_BAD_FREE);
    CHECK_STATUS(bsa_free_pages(&H, pg, 4), BSA_E_BAD_FREE);
    CHECK_STATUS(bsa_free(&H, r), BSA_E_BAD_FREE);
    CHECK_STATUS(bsa_free_sized(&H, o[1], 8, 0), BSA_E_BAD_FREE); /* 16-byte object */
    CHECK_EQ_INT(hl.reports - rep0, 6);
    /* Free everything from the "wrong" CPUs (remote), reclaim everywhere. */
    for (unsigned i = 0; i < 40; i++) {
        cur_cpu = (i + 1) % 3;
        CHECK_STATUS(bsa_free(&H, o[i]), BSA_OK);
    }
    CHECK_STATUS(bsa_free(&H, pg), BSA_OK);
    for (cur_cpu = 0; cur_cpu < 3; cur_cpu++)
        CHECK_STATUS(bsa_reclaim(&H), BSA_OK);
    cur_cpu = 0;
    CHECK_STATUS(bsa_stats(&H, &st), BSA_OK);
    CHECK_EQ_SZ(st.free_pages, st.total_pages);
    CHECK_EQ_INT(st.bad_frees, hl.reports);
    CHECK_STATUS(bsa_check(&H), BSA_OK);
    printf("hooks: %lu critical sections, max depth %d, %lu bad frees reported\n", hl.enters,
           hl.max_depth, hl.reports);
    CHECK(hl.enters > 40);
    CHECK_EQ_INT(hl.enters, hl.exits);
    CHECK_EQ_INT(hl.depth, 0);
    CHECK_EQ_INT(hl.max_depth, 1);
    CHECK_EQ_INT(hl.bad_state, 0);
    CHECK_EQ_INT(hl.other_reports, 0);
    test_region_free(r, len);
}

/* The main instance ends clean: free the live set, reclaim every CPU, exact pages. */
static void finish_main(void) {
    bsa_stats_t st;
    for (size_t i = 0; i < NLIVE; i++) {
        cur_cpu = (unsigned)(i % NCPU); /* mostly remote frees */
        CHECK_STATUS(bsa_free(&A, lv[i].p), BSA_OK);
    }
    for (cur_cpu = 0; cur_cpu < NCPU; cur_cpu++)
        CHECK_STATUS(bsa_reclaim(&A), BSA_OK);
    cur_cpu = 0;
    CHECK_STATUS(bsa_stats(&A, &st), BSA_OK);
    CHECK_EQ_SZ(st.free_pages, st.total_pages);
    CHECK_EQ_SZ(st.allocated_bytes, 0);
    for (unsigned k = 0; k < BSA_SIZE_CLASS_COUNT; k++)
        CHECK_EQ_SZ(st.classes[k].slabs + st.classes[k].live + st.classes[k].remote_pending, 0);
    printf("bad frees counted: %llu\n", (unsigned long long)st.bad_frees);
    CHECK(st.bad_frees > 50);
    CHECK_STATUS(bsa_check(&A), BSA_OK);
    test_region_free(heap_map, HEAP_BYTES + HEAP_ALIGN);
}

int main(void) {
    test_uninit_and_bad_config();
    init_main();
    make_live();
    CHECK_STATUS(bsa_check(&A), BSA_OK);
    test_bad_alloc();
    test_aligned_large();
    test_bad_free();
    test_usable_size();
    test_realloc();
    test_realloc_nomem();
    test_pages();
    test_lowmem();
    test_add_region();
    test_hooks();
    CHECK(live_intact());
    finish_main();
    TEST_MAIN_END();
}
