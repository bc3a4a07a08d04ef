/*
 * test_slab_api.c - the standalone slab allocator (bsa_slab_*): size classes, slab
 * geometry, the NEED_PAGES / add_slab / RELEASE_PAGES protocol, lowest-slot-first
 * allocation, the one cached empty slab, bad frees (refused, counted, nothing changes),
 * and lock-free remote frees with their drain (single-threaded, deterministic).
 *
 * Pages come from a tiny page source: an mmap'd arena carved into chunks aligned to
 * their own size, each chunk tracked so that every RELEASE_PAGES must name a chunk that
 * was given out and not yet returned, with the right page count.
 * White-box: includes internal.h only to name the list a slab is on.
 */
#include <stdint.h>
#include <string.h>

#include "bsa.h"
#include "internal.h"
#include "test_util.h"

#define PS ((size_t)4096)
#define ARENA_ALIGN ((size_t)1 << 16) /* >= every slab size any page size can ask for */
#define ARENA_BYTES ((size_t)8 << 20)
#define MAX_CHUNKS 256
#define MAX_OBJS 600 /* more than the objects of any one 4 KiB-page slab */

/* ---- page source ------------------------------------------------------------------ */

typedef struct chunk {
    unsigned char *base;
    size_t pages;
    bool live;
} chunk_t;

static unsigned char *arena;
static size_t arena_used;
static chunk_t chunks[MAX_CHUNKS];
static size_t nchunks;

static void *src_get(size_t pages) {
    size_t bytes = pages * PS;
    arena_used = (arena_used + bytes - 1) & ~(bytes - 1);
    if (arena_used + bytes > ARENA_BYTES || nchunks == MAX_CHUNKS) {
        fprintf(stderr, "page source exhausted\n");
        abort();
    }
    chunk_t *c = &chunks[nchunks++];
    c->base = arena + arena_used;
    c->pages = pages;
    c->live = true;
    arena_used += bytes;
    return c->base;
}

/* A RELEASE_PAGES answer: must be a live chunk of exactly this size. */
static bool src_put(void *base, size_t pages) {
    for (size_t i = 0; i < nchunks; i++)
        if (chunks[i].base == base)
            return chunks[i].live && chunks[i].pages == pages && !(chunks[i].live = false);
    return false;
}

static size_t src_live_chunks(void) {
    size_t n = 0;
    for (size_t i = 0; i < nchunks; i++)
        n += chunks[i].live;
    return n;
}

/* ---- helpers -------------------------------------------------------------------- */

/* Allocates, feeding the slab allocator a fresh slab on NEED_PAGES. `fed` counts them. */
static bsa_status_t alloc_fed(bsa_slab_t *s, size_t size, size_t align, void **out,
                              size_t *fed) {
    bsa_slab_pages_t need = {99, NULL, 0};
    bsa_status_t st = bsa_slab_alloc(s, size, align, out, &need);
    if (st != BSA_NEED_PAGES)
        return st;
    int cls = bsa_size_class(size, align);
    CHECK_EQ_INT(need.size_class, cls);
    CHECK_EQ_SZ(need.pages, bsa_slab_pages_for((unsigned)cls, PS));
    void *base = src_get(need.pages);
    CHECK_STATUS(bsa_slab_add_slab(s, need.size_class, base, need.pages * PS), BSA_OK);
    if (fed)
        (*fed)++;
    return bsa_slab_alloc(s, size, align, out, &need);
}

/* Frees; a RELEASE_PAGES answer must name a live chunk. Returns the status. */
static bsa_status_t free_handled(bsa_slab_t *s, void *p, size_t size, size_t align) {
    bsa_slab_pages_t rel = {99, NULL, 0};
    bsa_status_t st = bsa_slab_free(s, p, size, align, &rel);
    if (st == BSA_RELEASE_PAGES) {
        CHECK_EQ_INT(rel.size_class, bsa_size_class(size, align));
        CHECK(src_put(rel.base, rel.pages));
    }
    return st;
}

/* Reclaims until BSA_OK; returns how many slabs came back. */
static size_t reclaim_all(bsa_slab_t *s) {
    size_t n = 0;
    bsa_slab_pages_t rel;
    bsa_status_t st;
    while ((st = bsa_slab_reclaim(s, &rel)) == BSA_RELEASE_PAGES) {
        CHECK(src_put(rel.base, rel.pages));
        CHECK_EQ_SZ(rel.pages, bsa_slab_pages_for(rel.size_class, PS));
        if (++n > MAX_CHUNKS)
            break;
    }
    CHECK_STATUS(st, BSA_OK);
    return n;
}

static unsigned list_of(void *slab_base) { return ((bsa__slab_hdr_t *)slab_base)->list; }

static int cmp_ptr(const void *x, const void *y) {
    uintptr_t a = *(const uintptr_t *)x, b = *(const uintptr_t *)y;
    return a < b ? -1 : a > b;
}

/* ---- size classes and geometry ---------------------------------------------------- */

static void test_size_class(void) {
    static const struct {
        size_t size, align;
        int cls;
    } cases[] = {
        {0, 0, 0},       {1, 0, 0},       {8, 0, 0},       {9, 0, 1},      {16, 0, 1},
        {17, 0, 2},      {32, 0, 2},      {33, 0, 3},      {64, 0, 3},     {65, 0, 4},
        {128, 0, 4},     {129, 0, 5},     {256, 0, 5},     {257, 0, 6},    {512, 0, 6},
        {513, 0, 7},     {1024, 0, 7},    {1025, 0, 8},    {2048, 0, 8},   {2049, 0, -1},
        {4096, 0, -1},   {SIZE_MAX, 0, -1}, {SIZE_MAX - 10, 0, -1},
        /* align 0 and 1 mean "no constraint" */
        {0, 1, 0},       {9, 1, 1},       {2048, 1, 8},    {2049, 1, -1},
        /* not a power of two */
        {8, 3, -1},      {8, 24, -1},     {100, 96, -1},   {0, 7, -1},     {8, SIZE_MAX, -1},
        /* align bigger than size decides the class */
        {1, 8, 0},       {1, 16, 1},      {8, 64, 3},      {17, 16, 2},    {100, 512, 6},
        {1, 2048, 8},    {2048, 2048, 8}, {1, 4096, -1},   {8, 4096, -1},  {2048, 4096, -1},
        /* align smaller than size changes nothing */
        {100, 2, 4},     {1000, 16, 7},   {0, 8, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int got = bsa_size_class(cases[i].size, cases[i].align);
        if (!CHECK_EQ_INT(got, cases[i].cls))
            fprintf(stderr, "  bsa_size_class(%zu, %zu)\n", cases[i].size, cases[i].align);
    }
    for (unsigned k = 0; k < BSA_SIZE_CLASS_COUNT; k++) {
        CHECK_EQ_SZ(bsa_size_class_bytes(k), (size_t)8 << k);
        CHECK_EQ_INT(bsa_size_class(bsa_size_class_bytes(k), 0), k);
        CHECK_EQ_INT(bsa_size_class(bsa_size_class_bytes(k) + 1, 0), k == 8 ? -1 : (int)k + 1);
    }
    CHECK_EQ_SZ(bsa_size_class_bytes(BSA_SIZE_CLASS_COUNT), 0);
    CHECK_EQ_SZ(bsa_size_class_bytes(100), 0);
    CHECK_EQ_SZ(bsa_size_class_bytes(UINT32_MAX), 0);
}

static void check_geometry(size_t ps, bool print) {
    if (print)
        printf("geometry, page size %zu:\n  class  size  pages  slab_bytes  first_offset  "
               "objects  waste\n", ps);
    for (unsigned k = 0; k < BSA_SIZE_CLASS_COUNT; k++) {
        size_t size = bsa_size_class_bytes(k);
        size_t pages = bsa_slab_pages_for(k, ps);
        size_t count = bsa_slab_objects_for(k, ps);
        size_t first = bsa_slab_first_offset_for(k, ps);
        size_t bytes = pages * ps;
        size_t want_bytes = 16 * size > ps ? 16 * size : ps;
        if (print)
            printf("  %5u  %4zu  %5zu  %10zu  %12zu  %7zu  %5zu\n", k, size, pages, bytes,
                   first, count, bytes - first - count * size);
        CHECK_EQ_SZ(bytes, want_bytes);
        CHECK(pages >= 1 && (pages & (pages - 1)) == 0);
        CHECK_EQ_SZ(first % size, 0);
        CHECK(count >= 15);
        CHECK(first + count * size <= bytes);
        CHECK((bytes - first) / size - count <= 1);
        /* The header (core's own size function) fits before the first object, wastes
         * less than one object, and one more object would not fit. */
        size_t words = (count + BSA__WORD_BITS - 1) / BSA__WORD_BITS;
        size_t hdr = bsa__slab_header_bytes((uint32_t)words);
        CHECK(hdr >= sizeof(bsa__slab_hdr_t));
        CHECK(first >= hdr);
        CHECK(first < hdr + size);
        size_t words1 = (count + 1 + BSA__WORD_BITS - 1) / BSA__WORD_BITS;
        size_t first1 = (bsa__slab_header_bytes((uint32_t)words1) + size - 1) & ~(size - 1);
        CHECK(first1 + (count + 1) * size > bytes);
    }
}

static void test_geometry(void) {
    check_geometry(PS, true);
    check_geometry(8192, false);
    check_geometry(16384, false);
    check_geometry(65536, true);
    /* The documented 4 KiB numbers that do not depend on the header size. */
    static const size_t pages4k[BSA_SIZE_CLASS_COUNT] = {1, 1, 1, 1, 1, 1, 2, 4, 8};
    for (unsigned k = 0; k < BSA_SIZE_CLASS_COUNT; k++)
        CHECK_EQ_SZ(bsa_slab_pages_for(k, PS), pages4k[k]);
    /* Bad class or page size: 0 from every geometry function. */
    static const size_t bad_ps[] = {0, 1, 2048, 4095, 4097, 3 * 4096, 131072, SIZE_MAX};
    for (size_t i = 0; i < sizeof bad_ps / sizeof bad_ps[0]; i++) {
        CHECK_EQ_SZ(bsa_slab_pages_for(0, bad_ps[i]), 0);
        CHECK_EQ_SZ(bsa_slab_objects_for(0, bad_ps[i]), 0);
        CHECK_EQ_SZ(bsa_slab_first_offset_for(0, bad_ps[i]), 0);
    }
    CHECK_EQ_SZ(bsa_slab_pages_for(BSA_SIZE_CLASS_COUNT, PS), 0);
    CHECK_EQ_SZ(bsa_slab_objects_for(BSA_SIZE_CLASS_COUNT, PS), 0);
    CHECK_EQ_SZ(bsa_slab_first_offset_for(BSA_SIZE_CLASS_COUNT, PS), 0);
    CHECK_EQ_SZ(bsa_slab_pages_for(UINT32_MAX, PS), 0);
}

/* ---- init and uninitialised instances ------------------------------------------ */

static void test_init_and_uninit(void) {
    static bsa_slab_t z; /* zero-filled */
    void *p = NULL;
    bsa_slab_pages_t pg;
    unsigned char *chunk = src_get(1);
    CHECK_STATUS(bsa_slab_alloc(&z, 8, 0, &p, &pg), BSA_E_UNINIT);
    CHECK_STATUS(bsa_slab_add_slab(&z, 0, chunk, PS), BSA_E_UNINIT);
    CHECK_STATUS(bsa_slab_free(&z, chunk + 512, 8, 0, &pg), BSA_E_UNINIT);
    CHECK_STATUS(bsa_slab_reclaim(&z, &pg), BSA_E_UNINIT);
    CHECK_STATUS(bsa_slab_check(&z), BSA_E_UNINIT);
    CHECK_EQ_SZ(bsa_slab_live(&z, 0), 0);
    CHECK_EQ_SZ(bsa_slab_count(&z, 0), 0);
    CHECK_EQ_SZ(bsa_slab_remote_pending(&z, 0), 0);
    CHECK_EQ_INT(bsa_slab_bad_frees(&z), 0);
    /* A refused add_slab wrote nothing into the chunk. */
    bool zero = true;
    for (size_t i = 0; i < PS; i++)
        zero &= chunk[i] == 0;
    CHECK(zero);

    CHECK_STATUS(bsa_slab_init(NULL, PS, 0), BSA_E_INVALID);
    static const size_t bad_ps[] = {0, 1, 2048, 4095, 4097, 5000, 3 * 4096, 131072,
                                    (size_t)1 << 40, SIZE_MAX};
    for (size_t i = 0; i < sizeof bad_ps / sizeof bad_ps[0]; i++) {
        if (!CHECK_STATUS(bsa_slab_init(&z, bad_ps[i], 0), BSA_E_INVALID))
            fprintf(stderr, "  page size %zu\n", bad_ps[i]);
        CHECK_STATUS(bsa_slab_check(&z), BSA_E_UNINIT); /* still not initialised */
    }
    static const size_t good_ps[] = {4096, 8192, 16384, 32768, 65536};
    for (size_t i = 0; i < sizeof good_ps / sizeof good_ps[0]; i++) {
        CHECK_STATUS(bsa_slab_init(&z, good_ps[i], 3), BSA_OK);
        CHECK_STATUS(bsa_slab_check(&z), BSA_OK);
        for (unsigned k = 0; k < BSA_SIZE_CLASS_COUNT; k++) {
            CHECK_EQ_SZ(bsa_slab_count(&z, k), 0);
            CHECK_EQ_SZ(bsa_slab_live(&z, k), 0);
        }
    }
    /* Out-of-range class queries on a live instance. */
    CHECK_EQ_SZ(bsa_slab_count(&z, BSA_SIZE_CLASS_COUNT), 0);
    CHECK_EQ_SZ(bsa_slab_live(&z, BSA_SIZE_CLASS_COUNT), 0);
    CHECK_EQ_SZ(bsa_slab_remote_pending(&z, BSA_SIZE_CLASS_COUNT), 0);
    src_put(chunk, 1);
}

/* ---- the NEED_PAGES / add_slab protocol ------------------------------------------ */

static void test_need_and_add(void) {
    bsa_slab_t s;
    CHECK_STATUS(bsa_slab_init(&s, PS, 0), BSA_OK);
    void *p = (void *)1;
    bsa_slab_pages_t need = {99, (void *)1, 0};

    /* Bad alloc arguments. */
    CHECK_STATUS(bsa_slab_alloc(&s, 2049, 0, &p, &need), BSA_E_INVALID);
    CHECK_STATUS(bsa_slab_alloc(&s, 8, 3, &p, &need), BSA_E_INVALID);
    CHECK_STATUS(bsa_slab_alloc(&s, 8, 4096, &p, &need), BSA_E_INVALID);
    CHECK_STATUS(bsa_slab_alloc(&s, SIZE_MAX, 0, &p, &need), BSA_E_INVALID);
    CHECK_STATUS(bsa_slab_alloc(&s, 8, 0, NULL, &need), BSA_E_INVALID);
    CHECK_STATUS(bsa_slab_alloc(&s, 8, 0, &p, NULL), BSA_E_INVALID);

    for (unsigned k = 0; k < BSA_SIZE_CLASS_COUNT; k++) {
        size_t size = bsa_size_class_bytes(k);
        need = (bsa_slab_pages_t){99, (void *)1, 0};
        CHECK_STATUS(bsa_slab_alloc(&s, size, 0, &p, &need), BSA_NEED_PAGES);
        CHECK_EQ_INT(need.size_class, k);
        CHECK_EQ_SZ(need.pages, bsa_slab_pages_for(k, PS));
        /* Smaller size of the same class, and the class chosen by alignment. */
        need = (bsa_slab_pages_t){99, (void *)1, 0};
        CHECK_STATUS(bsa_slab_alloc(&s, size / 2 + 1, 0, &p, &need), BSA_NEED_PAGES);
        CHECK_EQ_INT(need.size_class, k);
        need = (bsa_slab_pages_t){99, (void *)1, 0};
        CHECK_STATUS(bsa_slab_alloc(&s, 1, size, &p, &need), BSA_NEED_PAGES);
        CHECK_EQ_INT(need.size_class, k);
        CHECK_EQ_SZ(need.pages, bsa_slab_pages_for(k, PS));
    }
    CHECK_STATUS(bsa_slab_check(&s), BSA_OK);

    /* add_slab bad inputs, class 8 (8 pages = 32 KiB, must be 32 KiB-aligned). */
    size_t b8 = bsa_slab_pages_for(8, PS) * PS;
    unsigned char *base = src_get(b8 / PS);
    CHECK_STATUS(bsa_slab_add_slab(&s, 8, base + PS, b8), BSA_E_INVALID);     /* misaligned */
    CHECK_STATUS(bsa_slab_add_slab(&s, 8, base + 8, b8), BSA_E_INVALID);      /* misaligned */
    CHECK_STATUS(bsa_slab_add_slab(&s, 8, base, b8 / 2), BSA_E_INVALID);      /* bytes      */
    CHECK_STATUS(bsa_slab_add_slab(&s, 8, base, b8 * 2), BSA_E_INVALID);      /* bytes      */
    CHECK_STATUS(bsa_slab_add_slab(&s, 8, base, b8 - 1), BSA_E_INVALID);      /* bytes      */
    CHECK_STATUS(bsa_slab_add_slab(&s, 8, base, 0), BSA_E_INVALID);           /* bytes      */
    CHECK_STATUS(bsa_slab_add_slab(&s, 9, base, b8), BSA_E_INVALID);          /* class      */
    CHECK_STATUS(bsa_slab_add_slab(&s, UINT32_MAX, base, b8), BSA_E_INVALID); /* class      */
    CHECK_STATUS(bsa_slab_add_slab(&s, 8, NULL, b8), BSA_E_INVALID);          /* NULL       */
    CHECK_STATUS(bsa_slab_add_slab(&s, 0, base, b8), BSA_E_INVALID); /* class 0 is 1 page */
    CHECK_EQ_SZ(bsa_slab_count(&s, 8), 0);
    CHECK_STATUS(bsa_slab_check(&s), BSA_OK);

    CHECK_STATUS(bsa_slab_add_slab(&s, 8, base, b8), BSA_OK);
    CHECK_EQ_SZ(bsa_slab_count(&s, 8), 1);
    CHECK_STATUS(bsa_slab_add_slab(&s, 8, base, b8), BSA_E_INVALID); /* same slab twice */
    CHECK_EQ_SZ(bsa_slab_count(&s, 8), 1);
    CHECK_STATUS(bsa_slab_check(&s), BSA_OK);

    /* A fresh slab hands out ascending addresses from first_offset, each aligned to the
     * class; when it is full the next allocation asks for pages again. */
    size_t count = bsa_slab_objects_for(8, PS), first = bsa_slab_first_offset_for(8, PS);
    for (size_t i = 0; i < count; i++) {
        CHECK_STATUS(bsa_slab_alloc(&s, 2048, 0, &p, &need), BSA_OK);
        CHECK(p == base + first + i * 2048);
        CHECK_EQ_SZ((uintptr_t)p % 2048, 0);
    }
    CHECK_EQ_SZ(bsa_slab_live(&s, 8), count);
    CHECK_STATUS(bsa_slab_alloc(&s, 2048, 0, &p, &need), BSA_NEED_PAGES);
    CHECK_EQ_INT(need.size_class, 8);
    CHECK_EQ_SZ(need.pages, 8);
    CHECK_EQ_INT(list_of(base), BSA__LIST_FULL);
    CHECK_STATUS(bsa_slab_check(&s), BSA_OK);
}

/* Every class: ascending addresses, alignment, a full slab asks for pages, objects do
 * not overlap and stay inside their slab. Then everything is freed and reclaimed. */
static void test_every_class(void) {
    bsa_slab_t s;
    CHECK_STATUS(bsa_slab_init(&s, PS, 1), BSA_OK);
    static void *objs[MAX_OBJS];
    for (unsigned k = 0; k < BSA_SIZE_CLASS_COUNT; k++) {
        size_t size = bsa_size_class_bytes(k), count = bsa_slab_objects_for(k, PS);
        size_t fed = 0;
        if (!CHECK(count <= MAX_OBJS))
            return;
        for (size_t i = 0; i < count; i++) {
            CHECK_STATUS(alloc_fed(&s, size, 0, &objs[i], &fed), BSA_OK);
            memset(objs[i], (int)(i & 0xff), size);
            CHECK_EQ_SZ((uintptr_t)objs[i] % size, 0);
            if (i > 0)
                CHECK((uintptr_t)objs[i] == (uintptr_t)objs[i - 1] + size);
        }
        CHECK_EQ_SZ(fed, 1);
        unsigned char *slab = (unsigned char *)objs[0] - bsa_slab_first_offset_for(k, PS);
        CHECK_EQ_SZ((uintptr_t)slab % (bsa_slab_pages_for(k, PS) * PS), 0);
        CHECK((unsigned char *)objs[count - 1] + size <= slab + bsa_slab_pages_for(k, PS) * PS);
        void *p;
        bsa_slab_pages_t need;
        CHECK_STATUS(bsa_slab_alloc(&s, size, 0, &p, &need), BSA_NEED_PAGES);
        CHECK_EQ_SZ(bsa_slab_live(&s, k), count);
        CHECK_EQ_SZ(bsa_slab_count(&s, k), 1);
        /* Patterns intact: no object overlapped another or the header bookkeeping. */
        bool intact = true;
        for (size_t i = 0; i < count; i++)
            for (size_t j = 0; j < size; j++)
                intact &= ((unsigned char *)objs[i])[j] == (unsigned char)(i & 0xff);
        CHECK(intact);
        /* Alignment above the size: same class as the alignment, aligned to it. */
        CHECK_STATUS(alloc_fed(&s, 1, size, &p, NULL), BSA_OK);
        CHECK_EQ_SZ((uintptr_t)p % size, 0);
        CHECK_EQ_SZ(bsa_slab_count(&s, k), 2);
        CHECK_STATUS(free_handled(&s, p, 1, size), BSA_OK); /* the first empty: cached */
        for (size_t i = 0; i < count; i++) {
            bsa_status_t st = free_handled(&s, objs[i], size, 0);
            /* The full slab empties last: a slab is already cached, so it goes back. */
            CHECK_STATUS(st, i + 1 == count ? BSA_RELEASE_PAGES : BSA_OK);
        }
        CHECK_EQ_SZ(bsa_slab_live(&s, k), 0);
        CHECK_EQ_SZ(bsa_slab_count(&s, k), 1);
        CHECK_STATUS(bsa_slab_check(&s), BSA_OK);
    }
    CHECK_EQ_SZ(reclaim_all(&s), BSA_SIZE_CLASS_COUNT);
    for (unsigned k = 0; k < BSA_SIZE_CLASS_COUNT; k++)
        CHECK_EQ_SZ(bsa_slab_count(&s, k), 0);
    CHECK_STATUS(bsa_slab_check(&s), BSA_OK);
}

/* Freed slots come back lowest first; one cached empty slab; the second is released. */
static void test_lowest_first_and_cache(void) {
    bsa_slab_t s;
    CHECK_STATUS(bsa_slab_init(&s, PS, 0), BSA_OK);
    size_t count = bsa_slab_objects_for(3, PS); /* 64-byte class, one page */
    static void *a[MAX_OBJS], *b[MAX_OBJS];
    size_t fed = 0;
    for (size_t i = 0; i < count; i++)
        CHECK_STATUS(alloc_fed(&s, 64, 0, &a[i], &fed), BSA_OK);
    CHECK_EQ_SZ(fed, 1);
    void *p;
    bsa_slab_pages_t need;
    CHECK_STATUS(bsa_slab_alloc(&s, 64, 0, &p, &need), BSA_NEED_PAGES);

    /* Free 9, 2, 5, count-1 (in that order): they come back as 2, 5, 9, count-1. */
    CHECK_STATUS(free_handled(&s, a[9], 64, 0), BSA_OK);
    CHECK_STATUS(free_handled(&s, a[2], 64, 0), BSA_OK);
    CHECK_STATUS(free_handled(&s, a[5], 64, 0), BSA_OK);
    CHECK_STATUS(free_handled(&s, a[count - 1], 64, 0), BSA_OK);
    unsigned char *slab_a = (unsigned char *)((uintptr_t)a[0] & ~(PS - 1));
    CHECK_EQ_INT(list_of(slab_a), BSA__LIST_PARTIAL);
    CHECK_EQ_SZ(bsa_slab_live(&s, 3), count - 4);
    static const size_t order[] = {2, 5, 9};
    for (size_t i = 0; i < 3; i++) {
        CHECK_STATUS(bsa_slab_alloc(&s, 33, 0, &p, &need), BSA_OK);
        CHECK(p == a[order[i]]);
    }
    CHECK_STATUS(bsa_slab_alloc(&s, 64, 64, &p, &need), BSA_OK);
    CHECK(p == a[count - 1]);
    CHECK_EQ_INT(list_of(slab_a), BSA__LIST_FULL);

    /* A second slab, filled. */
    fed = 0;
    for (size_t i = 0; i < count; i++)
        CHECK_STATUS(alloc_fed(&s, 64, 0, &b[i], &fed), BSA_OK);
    CHECK_EQ_SZ(fed, 1);
    CHECK_EQ_SZ(bsa_slab_count(&s, 3), 2);
    unsigned char *slab_b = (unsigned char *)((uintptr_t)b[0] & ~(PS - 1));
    CHECK(slab_a != slab_b);

    /* Empty slab A completely: it is cached (OK, no pages back), where it is: alone on
     * the partial list (B is full). */
    for (size_t i = 0; i < count; i++)
        CHECK_STATUS(free_handled(&s, a[i], 64, 0), BSA_OK);
    CHECK_EQ_INT(list_of(slab_a), BSA__LIST_PARTIAL);
    CHECK(s._cls[3]._partial == (void *)slab_a && s._cls[3]._empty == NULL);
    CHECK_EQ_SZ(bsa_slab_count(&s, 3), 2);
    CHECK_STATUS(bsa_slab_check(&s), BSA_OK);

    /* Empty slab B: B joining the partial list sends A to the empty list; B's last free
     * returns its pages. */
    for (size_t i = 0; i + 1 < count; i++)
        CHECK_STATUS(free_handled(&s, b[i], 64, 0), BSA_OK);
    CHECK_EQ_INT(list_of(slab_a), BSA__LIST_EMPTY);
    bsa_slab_pages_t rel = {99, NULL, 0};
    CHECK_STATUS(bsa_slab_free(&s, b[count - 1], 64, 0, &rel), BSA_RELEASE_PAGES);
    CHECK_EQ_INT(rel.size_class, 3);
    CHECK(rel.base == slab_b);
    CHECK_EQ_SZ(rel.pages, 1);
    CHECK(src_put(rel.base, rel.pages));
    CHECK_EQ_SZ(bsa_slab_count(&s, 3), 1);
    CHECK_EQ_SZ(bsa_slab_live(&s, 3), 0);
    CHECK_STATUS(bsa_slab_check(&s), BSA_OK);

    /* The cached slab serves the next allocation without NEED_PAGES, from its start. */
    CHECK_STATUS(bsa_slab_alloc(&s, 64, 0, &p, &need), BSA_OK);
    CHECK(p == a[0]);
    CHECK_EQ_INT(list_of(slab_a), BSA__LIST_PARTIAL);
    /* An alloc+free pair moves no slab: A stays alone on partial, the cached one. */
    CHECK_STATUS(free_handled(&s, p, 64, 0), BSA_OK);
    CHECK_EQ_INT(list_of(slab_a), BSA__LIST_PARTIAL);
    CHECK(s._cls[3]._empty == NULL);

    /* Reclaim gives the cached one back, once; then OK. */
    bsa_slab_pages_t r2;
    CHECK_STATUS(bsa_slab_reclaim(&s, &r2), BSA_RELEASE_PAGES);
    CHECK(r2.base == slab_a);
    CHECK_EQ_INT(r2.size_class, 3);
    CHECK_EQ_SZ(r2.pages, 1);
    CHECK(src_put(r2.base, r2.pages));
    CHECK_STATUS(bsa_slab_reclaim(&s, &r2), BSA_OK);
    CHECK_STATUS(bsa_slab_reclaim(&s, NULL), BSA_E_INVALID);
    CHECK_EQ_SZ(bsa_slab_count(&s, 3), 0);
    CHECK_STATUS(bsa_slab_check(&s), BSA_OK);
}

/* ---- bad frees ------------------------------------------------------------------- */

typedef struct snap {
    size_t live[BSA_SIZE_CLASS_COUNT], slabs[BSA_SIZE_CLASS_COUNT],
        pending[BSA_SIZE_CLASS_COUNT];
    uint64_t bad;
} snap_t;

static void snap_take(const bsa_slab_t *s, snap_t *out) {
    for (unsigned k = 0; k < BSA_SIZE_CLASS_COUNT; k++) {
        out->live[k] = bsa_slab_live(s, k);
        out->slabs[k] = bsa_slab_count(s, k);
        out->pending[k] = bsa_slab_remote_pending(s, k);
    }
    out->bad = bsa_slab_bad_frees(s);
}

static bool snap_same(const bsa_slab_t *s, const snap_t *before, uint64_t more_bad) {
    snap_t now;
    snap_take(s, &now);
    bool same = now.bad == before->bad + more_bad;
    for (unsigned k = 0; k < BSA_SIZE_CLASS_COUNT; k++)
        same &= now.live[k] == before->live[k] && now.slabs[k] == before->slabs[k] &&
                now.pending[k] == before->pending[k];
    return same;
}

/* Live objects of the bad-free test, each filled with its own byte. */
#define NLIVE 12
static void *live_obj[NLIVE];
static size_t live_size[NLIVE];

static bool live_intact(void) {
    for (size_t i = 0; i < NLIVE; i++)
        for (size_t j = 0; j < live_size[i]; j++)
            if (((unsigned char *)live_obj[i])[j] != (unsigned char)(0xa0 + i))
                return false;
    return true;
}

/* `call` on slab allocator `s` gets `want`; bad_frees grows by `more_bad`; nothing
 * else changes; both allocators still check; live objects keep their patterns. */
static void refused_at(bsa_slab_t *s, bsa_slab_t *other, bsa_status_t got, bsa_status_t want,
                       uint64_t more_bad, const snap_t *before, const snap_t *before_other,
                       const char *what, int line) {
    bool ok = got == want;
    if (!ok)
        fprintf(stderr, "test_slab_api.c:%d: %s = %s, want %s\n", line, what,
                bsa_status_name(got), bsa_status_name(want));
    if (!snap_same(s, before, more_bad) || !snap_same(other, before_other, 0)) {
        fprintf(stderr, "test_slab_api.c:%d: %s changed counters\n", line, what);
        ok = false;
    }
    if (bsa_slab_check(s) != BSA_OK || bsa_slab_check(other) != BSA_OK) {
        fprintf(stderr, "test_slab_api.c:%d: %s: bsa_slab_check failed\n", line, what);
        ok = false;
    }
    if (!live_intact()) {
        fprintf(stderr, "test_slab_api.c:%d: %s touched a live object\n", line, what);
        ok = false;
    }
    CHECK(ok);
}
#define REFUSED(s, other, call, want, more_bad)                                            \
    do {                                                                                 \
        snap_t snap_, snap_o_;                                                           \
        snap_take((s), &snap_);                                                          \
        snap_take((other), &snap_o_);                                                    \
        bsa_status_t st_ = (call);                                                       \
        refused_at((s), (other), st_, (want), (more_bad), &snap_, &snap_o_, #call, __LINE__); \
    } while (0)

static void test_bad_free(void) {
    static bsa_slab_t s, t; /* t: another slab allocator */
    CHECK_STATUS(bsa_slab_init(&s, PS, 0), BSA_OK);
    CHECK_STATUS(bsa_slab_init(&t, PS, 1), BSA_OK);
    /* Live objects: classes 0, 1, 3, 5, 8 on s, and class 0 on t. */
    static const size_t sizes[NLIVE] = {8, 8, 8, 16, 16, 64, 64, 256, 2048, 2048, 8, 8};
    for (size_t i = 0; i < NLIVE; i++) {
        live_size[i] = sizes[i];
        CHECK_STATUS(alloc_fed(i >= 10 ? &t : &s, sizes[i], 0, &live_obj[i], NULL), BSA_OK);
        memset(live_obj[i], 0xa0 + (int)i, sizes[i]);
    }
    /* A freed object of class 0 whose slab stays alive (live_obj[0..2] share it). */
    void *freed;
    CHECK_STATUS(alloc_fed(&s, 8, 0, &freed, NULL), BSA_OK);
    CHECK_STATUS(free_handled(&s, freed, 8, 0), BSA_OK);
    unsigned char *o8 = live_obj[0], *o64 = live_obj[5], *o2k = live_obj[8];
    unsigned char *slab0 = (unsigned char *)((uintptr_t)o8 & ~(PS - 1));
    bsa_slab_pages_t rel;

    REFUSED(&s, &t, bsa_slab_free(&s, o8 + 1, 8, 0, &rel), BSA_E_BAD_FREE, 1);
    REFUSED(&s, &t, bsa_slab_free(&s, o8 + 4, 8, 0, &rel), BSA_E_BAD_FREE, 1);
    REFUSED(&s, &t, bsa_slab_free(&s, o64 + 8, 64, 0, &rel), BSA_E_BAD_FREE, 1);
    REFUSED(&s, &t, bsa_slab_free(&s, o64 + 32, 64, 0, &rel), BSA_E_BAD_FREE, 1);
    REFUSED(&s, &t, bsa_slab_free(&s, o2k + 1024, 2048, 0, &rel), BSA_E_BAD_FREE, 1);
    /* Inside the header: its start, a word in, the last byte before the first object. */
    REFUSED(&s, &t, bsa_slab_free(&s, slab0, 8, 0, &rel), BSA_E_BAD_FREE, 1);
    REFUSED(&s, &t, bsa_slab_free(&s, slab0 + 8, 8, 0, &rel), BSA_E_BAD_FREE, 1);
    REFUSED(&s, &t,
            bsa_slab_free(&s, slab0 + bsa_slab_first_offset_for(0, PS) - 8, 8, 0, &rel),
            BSA_E_BAD_FREE, 1);
    /* Past the last object of the slab (slack at the end, if any, or the next slab). */
    REFUSED(&s, &t,
            bsa_slab_free(&s,
                          slab0 + bsa_slab_first_offset_for(0, PS) +
                              bsa_slab_objects_for(0, PS) * 8,
                          8, 0, &rel),
            BSA_E_BAD_FREE, 1);
    /* Double free. */
    REFUSED(&s, &t, bsa_slab_free(&s, freed, 8, 0, &rel), BSA_E_BAD_FREE, 1);
    /* Wrong class: same slab size (16 for an 8-byte object), and a bigger slab size. */
    REFUSED(&s, &t, bsa_slab_free(&s, o8, 16, 0, &rel), BSA_E_BAD_FREE, 1);
    REFUSED(&s, &t, bsa_slab_free(&s, o8, 64, 0, &rel), BSA_E_BAD_FREE, 1);
    REFUSED(&s, &t, bsa_slab_free(&s, o8, 2048, 0, &rel), BSA_E_BAD_FREE, 1);
    REFUSED(&s, &t, bsa_slab_free(&s, o8, 1, 16, &rel), BSA_E_BAD_FREE, 1);
    REFUSED(&s, &t, bsa_slab_free(&s, o64, 8, 0, &rel), BSA_E_BAD_FREE, 1);
    REFUSED(&s, &t, bsa_slab_free(&s, o2k, 1024, 0, &rel), BSA_E_BAD_FREE, 1);
    /* Another slab allocator's object, both ways. */
    REFUSED(&s, &t, bsa_slab_free(&s, live_obj[10], 8, 0, &rel), BSA_E_BAD_FREE, 1);
    REFUSED(&t, &s, bsa_slab_free(&t, o8, 8, 0, &rel), BSA_E_BAD_FREE, 1);
    /* Memory no slab owns (unused arena, zero-filled). */
    REFUSED(&s, &t, bsa_slab_free(&s, arena + ARENA_BYTES - PS + 64, 8, 0, &rel),
            BSA_E_BAD_FREE, 1);
    /* NULL. */
    REFUSED(&s, &t, bsa_slab_free(&s, NULL, 8, 0, &rel), BSA_E_BAD_FREE, 1);
    /* Arguments outside the contract: refused, not counted as bad frees. */
    REFUSED(&s, &t, bsa_slab_free(&s, o8, 2049, 0, &rel), BSA_E_INVALID, 0);
    REFUSED(&s, &t, bsa_slab_free(&s, o8, 8, 3, &rel), BSA_E_INVALID, 0);
    REFUSED(&s, &t, bsa_slab_free(&s, o8, 8, 4096, &rel), BSA_E_INVALID, 0);
    REFUSED(&s, &t, bsa_slab_free(&s, o8, 8, 0, NULL), BSA_E_INVALID, 0);

    /* Remote frees that must be refused at once. */
    REFUSED(&s, &t, bsa_slab_remote_free(freed, 8, 0), BSA_E_BAD_FREE, 1); /* already free */
    REFUSED(&s, &t, bsa_slab_remote_free(o8 + 1, 8, 0), BSA_E_BAD_FREE, 1);
    REFUSED(&s, &t, bsa_slab_remote_free(slab0 + 8, 8, 0), BSA_E_BAD_FREE, 1);
    REFUSED(&s, &t, bsa_slab_remote_free(o2k + 1024, 2048, 0), BSA_E_BAD_FREE, 1);
    REFUSED(&s, &t, bsa_slab_remote_free(o8, 16, 0), BSA_E_BAD_FREE, 0); /* no such slab */
    REFUSED(&s, &t, bsa_slab_remote_free(arena + ARENA_BYTES - PS + 64, 8, 0),
            BSA_E_BAD_FREE, 0);
    REFUSED(&s, &t, bsa_slab_remote_free(NULL, 8, 0), BSA_E_BAD_FREE, 0);
    REFUSED(&s, &t, bsa_slab_remote_free(o8, 2049, 0), BSA_E_INVALID, 0);
    REFUSED(&s, &t, bsa_slab_remote_free(o8, 8, 24), BSA_E_INVALID, 0);

    /* Double remote free: the first is queued, the second refused and counted. */
    unsigned char *o16 = live_obj[3];
    CHECK_STATUS(bsa_slab_remote_free(o16, 16, 0), BSA_OK);
    CHECK_EQ_SZ(bsa_slab_remote_pending(&s, 1), 1);
    CHECK_EQ_SZ(bsa_slab_live(&s, 1), 1);
    live_size[3] = 0; /* its first word now links the remote stack */
    REFUSED(&s, &t, bsa_slab_remote_free(o16, 16, 0), BSA_E_BAD_FREE, 1);
    REFUSED(&s, &t, bsa_slab_remote_free(o16, 9, 0), BSA_E_BAD_FREE, 1);
    /* A local free of the pending object is a double free too: its pending bit says so
     * (a free does not drain; the object stays pending). */
    snap_t before;
    snap_take(&s, &before);
    CHECK_STATUS(bsa_slab_free(&s, o16, 16, 0, &rel), BSA_E_BAD_FREE);
    CHECK_EQ_SZ(bsa_slab_remote_pending(&s, 1), 1);
    CHECK_EQ_SZ(bsa_slab_live(&s, 1), 1);
    CHECK_EQ_INT(bsa_slab_bad_frees(&s), before.bad + 1);
    CHECK_STATUS(bsa_slab_check(&s), BSA_OK);
    CHECK(live_intact());
    /* Still pending: a remote free of it is refused as well. */
    REFUSED(&s, &t, bsa_slab_remote_free(o16, 16, 0), BSA_E_BAD_FREE, 1);

    /* Everything still works: free the live objects, reclaim both, all chunks back. */
    for (size_t i = 0; i < NLIVE; i++)
        if (i != 3)
            CHECK(free_handled(i >= 10 ? &t : &s, live_obj[i], sizes[i], 0) >= BSA_OK);
    for (unsigned k = 0; k < BSA_SIZE_CLASS_COUNT; k++) {
        CHECK_EQ_SZ(bsa_slab_live(&s, k), 0);
        CHECK_EQ_SZ(bsa_slab_live(&t, k), 0);
    }
    reclaim_all(&s);
    reclaim_all(&t);
    for (unsigned k = 0; k < BSA_SIZE_CLASS_COUNT; k++) {
        CHECK_EQ_SZ(bsa_slab_count(&s, k), 0);
        CHECK_EQ_SZ(bsa_slab_count(&t, k), 0);
    }
    CHECK_STATUS(bsa_slab_check(&s), BSA_OK);
    CHECK_STATUS(bsa_slab_check(&t), BSA_OK);
}

/* ---- remote frees ------------------------------------------------------------------ */

/* Remote frees wait while the slab has free slots; the allocation that finds none
 * drains them and gets the lowest one back. */
static void test_remote_then_alloc(void) {
    bsa_slab_t s;
    CHECK_STATUS(bsa_slab_init(&s, PS, 2), BSA_OK);
    void *a, *b, *c, *p;
    bsa_slab_pages_t need;
    CHECK_STATUS(alloc_fed(&s, 128, 0, &a, NULL), BSA_OK);
    CHECK_STATUS(alloc_fed(&s, 128, 0, &b, NULL), BSA_OK);
    CHECK_STATUS(alloc_fed(&s, 128, 0, &c, NULL), BSA_OK);
    CHECK_EQ_SZ(bsa_slab_live(&s, 4), 3);
    CHECK_STATUS(bsa_slab_remote_free(b, 128, 0), BSA_OK);
    CHECK_EQ_SZ(bsa_slab_remote_pending(&s, 4), 1);
    CHECK_EQ_SZ(bsa_slab_live(&s, 4), 2);
    CHECK_EQ_SZ(bsa_slab_remote_pending(&s, 0), 0);
    CHECK_STATUS(bsa_slab_check(&s), BSA_OK);
    CHECK_STATUS(bsa_slab_alloc(&s, 100, 0, &p, &need), BSA_OK);
    CHECK(p != b); /* the slab has free slots: b stays pending */
    CHECK_EQ_SZ(bsa_slab_remote_pending(&s, 4), 1);
    CHECK_EQ_SZ(bsa_slab_live(&s, 4), 3);
    /* A remote free with a different size of the same class; a local free of another
     * object drains nothing. */
    CHECK_STATUS(bsa_slab_remote_free(a, 65, 0), BSA_OK);
    CHECK_EQ_SZ(bsa_slab_remote_pending(&s, 4), 2);
    CHECK_STATUS(free_handled(&s, c, 128, 0), BSA_OK);
    CHECK_EQ_SZ(bsa_slab_remote_pending(&s, 4), 2);
    CHECK_EQ_SZ(bsa_slab_live(&s, 4), 1);
    /* Take every free slot (p is live, a and b pending): no drain yet... */
    size_t count = bsa_slab_objects_for(4, PS);
    static void *fill[64];
    for (size_t i = 0; i + 3 < count; i++)
        CHECK_STATUS(bsa_slab_alloc(&s, 128, 0, &fill[i], &need), BSA_OK);
    CHECK_EQ_SZ(bsa_slab_remote_pending(&s, 4), 2);
    /* ...the next allocation finds none, drains, and takes the lowest slot: a. */
    void *q;
    CHECK_STATUS(bsa_slab_alloc(&s, 128, 0, &q, &need), BSA_OK);
    CHECK(q == a);
    CHECK_EQ_SZ(bsa_slab_remote_pending(&s, 4), 0);
    CHECK_EQ_SZ(bsa_slab_live(&s, 4), count - 1);
    CHECK_STATUS(bsa_slab_check(&s), BSA_OK);
    for (size_t i = 0; i + 3 < count; i++)
        CHECK_STATUS(free_handled(&s, fill[i], 128, 0), BSA_OK);
    CHECK_STATUS(free_handled(&s, p, 128, 0), BSA_OK);
    CHECK_STATUS(free_handled(&s, q, 128, 0), BSA_OK);
    CHECK_STATUS(free_handled(&s, b, 128, 0), BSA_E_BAD_FREE); /* drained: free already */
    CHECK_EQ_SZ(bsa_slab_live(&s, 4), 0);
    CHECK_EQ_SZ(reclaim_all(&s), 1);
    CHECK_STATUS(bsa_slab_check(&s), BSA_OK);
}

/* Fills one slab of class k (a new one if want_fed, else the cached one); returns the
 * count, objects in objs[]. */
static size_t fill_slab(bsa_slab_t *s, unsigned k, void **objs, size_t want_fed) {
    size_t count = bsa_slab_objects_for(k, PS), fed = 0;
    for (size_t i = 0; i < count; i++)
        CHECK_STATUS(alloc_fed(s, bsa_size_class_bytes(k), 0, &objs[i], &fed), BSA_OK);
    CHECK_EQ_SZ(fed, want_fed);
    return count;
}

/* A full slab: half freed remotely, the rest locally. It ends partial while one object
 * is live, then cached when empty, and every slot is reusable. */
static void test_remote_and_local_mix(unsigned k) {
    bsa_slab_t s;
    CHECK_STATUS(bsa_slab_init(&s, PS, 0), BSA_OK);
    size_t size = bsa_size_class_bytes(k);
    static void *objs[MAX_OBJS], *again[MAX_OBJS];
    size_t count = fill_slab(&s, k, objs, 1);
    unsigned char *slab = (unsigned char *)objs[0] - bsa_slab_first_offset_for(k, PS);
    CHECK_EQ_INT(list_of(slab), BSA__LIST_FULL);

    size_t remote = 0;
    for (size_t i = 1; i < count; i += 2, remote++)
        CHECK_STATUS(bsa_slab_remote_free(objs[i], size, 0), BSA_OK);
    CHECK_EQ_SZ(bsa_slab_remote_pending(&s, k), remote);
    CHECK_EQ_SZ(bsa_slab_live(&s, k), count - remote);
    CHECK_EQ_INT(list_of(slab), BSA__LIST_FULL); /* nothing drained yet */
    CHECK_STATUS(bsa_slab_check(&s), BSA_OK);
    /* Local frees of the even objects but slot 0: they drain nothing. */
    for (size_t i = 2; i < count; i += 2)
        CHECK_STATUS(free_handled(&s, objs[i], size, 0), BSA_OK);
    CHECK_EQ_SZ(bsa_slab_remote_pending(&s, k), remote);
    CHECK_EQ_SZ(bsa_slab_live(&s, k), 1);
    CHECK_EQ_INT(list_of(slab), BSA__LIST_PARTIAL);
    CHECK_STATUS(bsa_slab_check(&s), BSA_OK);
    CHECK_STATUS(free_handled(&s, objs[0], size, 0), BSA_OK);
    CHECK_EQ_INT(list_of(slab), BSA__LIST_PARTIAL); /* not empty: the remote ones wait */
    CHECK_EQ_SZ(bsa_slab_count(&s, k), 1);
    CHECK_EQ_SZ(bsa_slab_live(&s, k), 0);

    /* Allocate everything again: the free slots, then (the drain) the remote ones:
     * exactly the same set of addresses, no new slab. */
    size_t fed = 0;
    for (size_t i = 0; i < count; i++)
        CHECK_STATUS(alloc_fed(&s, size, 0, &again[i], &fed), BSA_OK);
    CHECK_EQ_SZ(fed, 0);
    qsort(again, count, sizeof again[0], cmp_ptr);
    CHECK(memcmp(again, objs, count * sizeof objs[0]) == 0); /* objs[] is ascending */
    void *p;
    bsa_slab_pages_t need;
    CHECK_STATUS(bsa_slab_alloc(&s, size, 0, &p, &need), BSA_NEED_PAGES);
    CHECK_EQ_INT(list_of(slab), BSA__LIST_FULL);
    CHECK_STATUS(bsa_slab_check(&s), BSA_OK);

    /* Remote frees of all but one, then a local free of the last one: the slab goes
     * from full to partial and waits there for a drain; reclaim drains it and gives it
     * back. */
    for (size_t i = 1; i < count; i++)
        CHECK_STATUS(bsa_slab_remote_free(objs[i], size, 0), BSA_OK);
    CHECK_STATUS(free_handled(&s, objs[0], size, 0), BSA_OK);
    CHECK_EQ_INT(list_of(slab), BSA__LIST_PARTIAL);
    CHECK_EQ_SZ(bsa_slab_live(&s, k), 0);
    CHECK_EQ_SZ(bsa_slab_remote_pending(&s, k), count - 1);
    CHECK_EQ_SZ(reclaim_all(&s), 1);
    CHECK_EQ_SZ(bsa_slab_remote_pending(&s, k), 0);
    CHECK_STATUS(bsa_slab_check(&s), BSA_OK);
}

/* A whole slab freed remotely is not stranded: reclaim gives it back, or an allocation
 * drains it and reuses it. */
static void test_remote_whole_slab(void) {
    bsa_slab_t s;
    CHECK_STATUS(bsa_slab_init(&s, PS, 0), BSA_OK);
    static void *a[MAX_OBJS], *b[MAX_OBJS];
    const unsigned k = 6; /* 512 bytes, 2 pages */
    size_t count = fill_slab(&s, k, a, 1);
    unsigned char *slab_a = (unsigned char *)a[0] - bsa_slab_first_offset_for(k, PS);

    /* 1. Everything remote, then reclaim: one RELEASE_PAGES for it, then OK. */
    for (size_t i = 0; i < count; i++)
        CHECK_STATUS(bsa_slab_remote_free(a[i], 512, 0), BSA_OK);
    CHECK_EQ_SZ(bsa_slab_remote_pending(&s, k), count);
    CHECK_EQ_SZ(bsa_slab_live(&s, k), 0);
    CHECK_STATUS(bsa_slab_check(&s), BSA_OK);
    bsa_slab_pages_t rel = {99, NULL, 0};
    CHECK_STATUS(bsa_slab_reclaim(&s, &rel), BSA_RELEASE_PAGES);
    CHECK(rel.base == slab_a);
    CHECK_EQ_INT(rel.size_class, k);
    CHECK_EQ_SZ(rel.pages, 2);
    CHECK(src_put(rel.base, rel.pages));
    CHECK_STATUS(bsa_slab_reclaim(&s, &rel), BSA_OK);
    CHECK_EQ_SZ(bsa_slab_count(&s, k), 0);
    CHECK_EQ_SZ(bsa_slab_remote_pending(&s, k), 0);
    CHECK_STATUS(bsa_slab_check(&s), BSA_OK);

    /* 2. Everything remote, then an allocation drains: the slab is reused in place. */
    count = fill_slab(&s, k, a, 1);
    slab_a = (unsigned char *)a[0] - bsa_slab_first_offset_for(k, PS);
    for (size_t i = count; i-- > 0;)
        CHECK_STATUS(bsa_slab_remote_free(a[i], 512, 0), BSA_OK);
    void *p;
    bsa_slab_pages_t need;
    CHECK_STATUS(bsa_slab_alloc(&s, 512, 0, &p, &need), BSA_OK);
    CHECK(p == a[0]);
    CHECK_EQ_SZ(bsa_slab_count(&s, k), 1);
    CHECK_EQ_SZ(bsa_slab_live(&s, k), 1);
    CHECK_EQ_SZ(bsa_slab_remote_pending(&s, k), 0);
    CHECK_STATUS(free_handled(&s, p, 512, 0), BSA_OK); /* cached, alone on partial */
    CHECK_EQ_INT(list_of(slab_a), BSA__LIST_PARTIAL);

    /* 3. Two full slabs, both freed remotely (the cached one is used first), then one
     * local alloc/free pair drains them: neither is stranded. Reclaim returns each
     * once, then OK, and every chunk is back. */
    count = fill_slab(&s, k, a, 0); /* refills the cached slab: no new pages */
    CHECK_EQ_SZ(bsa_slab_count(&s, k), 1);
    size_t fed = 0;
    for (size_t i = 0; i < count; i++)
        CHECK_STATUS(alloc_fed(&s, 512, 0, &b[i], &fed), BSA_OK);
    CHECK_EQ_SZ(fed, 1);
    CHECK_EQ_SZ(bsa_slab_count(&s, k), 2);
    for (size_t i = 0; i < count; i++) {
        CHECK_STATUS(bsa_slab_remote_free(a[i], 512, 0), BSA_OK);
        CHECK_STATUS(bsa_slab_remote_free(b[i], 512, 0), BSA_OK);
    }
    CHECK_EQ_SZ(bsa_slab_remote_pending(&s, k), 2 * count);
    CHECK_EQ_SZ(bsa_slab_live(&s, k), 0);
    CHECK_STATUS(bsa_slab_alloc(&s, 512, 0, &p, &need), BSA_OK);
    CHECK(p == a[0] || p == b[0]);
    CHECK_EQ_SZ(bsa_slab_remote_pending(&s, k), 0);
    CHECK_EQ_SZ(bsa_slab_live(&s, k), 1);
    bsa_status_t st = free_handled(&s, p, 512, 0);
    CHECK(st == BSA_OK || st == BSA_RELEASE_PAGES);
    CHECK_STATUS(bsa_slab_check(&s), BSA_OK);
    size_t back = (st == BSA_RELEASE_PAGES) + reclaim_all(&s);
    CHECK_EQ_SZ(back, 2);
    CHECK_EQ_SZ(bsa_slab_count(&s, k), 0);
    CHECK_STATUS(bsa_slab_check(&s), BSA_OK);

    /* 4. Two full slabs freed remotely, reclaim straight away: RELEASE twice, then OK. */
    fill_slab(&s, k, a, 1);
    fed = 0;
    for (size_t i = 0; i < count; i++)
        CHECK_STATUS(alloc_fed(&s, 512, 0, &b[i], &fed), BSA_OK);
    for (size_t i = 0; i < count; i++) {
        CHECK_STATUS(bsa_slab_remote_free(b[i], 512, 0), BSA_OK);
        CHECK_STATUS(bsa_slab_remote_free(a[i], 512, 0), BSA_OK);
    }
    size_t n = 0;
    while ((st = bsa_slab_reclaim(&s, &rel)) == BSA_RELEASE_PAGES && n < 10) {
        CHECK(src_put(rel.base, rel.pages));
        n++;
        CHECK_EQ_SZ(bsa_slab_count(&s, k), 2 - n);
        CHECK_STATUS(bsa_slab_check(&s), BSA_OK);
    }
    CHECK_STATUS(st, BSA_OK);
    CHECK_EQ_SZ(n, 2);
    CHECK_EQ_SZ(bsa_slab_remote_pending(&s, k), 0);
}

/* Remote frees on a slab allocator with a bigger page size are found too. */
static void test_remote_big_pages(void) {
    bsa_slab_t s;
    const size_t ps = 65536;
    CHECK_STATUS(bsa_slab_init(&s, ps, 0), BSA_OK);
    void *p, *q;
    bsa_slab_pages_t need;
    CHECK_STATUS(bsa_slab_alloc(&s, 8, 0, &p, &need), BSA_NEED_PAGES);
    CHECK_EQ_SZ(need.pages, 1);
    /* One 64 KiB page from the page source (16 of its 4 KiB pages, 64 KiB-aligned). */
    unsigned char *base = src_get(16);
    CHECK_STATUS(bsa_slab_add_slab(&s, 0, base, ps), BSA_OK);
    size_t count = bsa_slab_objects_for(0, ps);
    for (size_t i = 0; i < count; i++) {
        CHECK_STATUS(bsa_slab_alloc(&s, 8, 0, &p, &need), BSA_OK);
        *(uint64_t *)p = 0x0101010101010101ull * (i & 0xff);
    }
    q = base + bsa_slab_first_offset_for(0, ps) + 8 * (count - 1);
    CHECK(p == q);
    /* Objects at 4 KiB boundaries inside the slab must not be mistaken for headers. */
    unsigned char *at4k = base + 4 * PS;
    CHECK_STATUS(bsa_slab_remote_free(at4k, 8, 0), BSA_OK);
    CHECK_STATUS(bsa_slab_remote_free(q, 8, 0), BSA_OK);
    CHECK_EQ_SZ(bsa_slab_remote_pending(&s, 0), 2);
    CHECK_EQ_SZ(bsa_slab_live(&s, 0), count - 2);
    CHECK_STATUS(bsa_slab_alloc(&s, 8, 0, &p, &need), BSA_OK);
    CHECK(p == at4k);
    CHECK_STATUS(bsa_slab_check(&s), BSA_OK);
    bsa_slab_pages_t rel;
    CHECK_STATUS(bsa_slab_free(&s, p, 8, 0, &rel), BSA_OK);
    for (size_t i = 0; i + 1 < count; i++) {
        unsigned char *o = base + bsa_slab_first_offset_for(0, ps) + 8 * i;
        if (o != at4k)
            CHECK_STATUS(bsa_slab_free(&s, o, 8, 0, &rel), BSA_OK);
    }
    CHECK_EQ_SZ(bsa_slab_live(&s, 0), 0);
    CHECK_STATUS(bsa_slab_reclaim(&s, &rel), BSA_RELEASE_PAGES);
    CHECK(rel.base == base);
    CHECK_EQ_SZ(rel.pages, 1);
    CHECK(src_put(base, 16));
    CHECK_STATUS(bsa_slab_reclaim(&s, &rel), BSA_OK);
    CHECK_STATUS(bsa_slab_check(&s), BSA_OK);
}

int main(void) {
    arena = test_region_aligned(ARENA_BYTES, ARENA_ALIGN);
    test_size_class();
    test_geometry();
    test_init_and_uninit();
    test_need_and_add();
    test_every_class();
    test_lowest_first_and_cache();
    test_bad_free();
    test_remote_then_alloc();
    for (unsigned k = 0; k < BSA_SIZE_CLASS_COUNT; k++)
        test_remote_and_local_mix(k);
    test_remote_whole_slab();
    test_remote_big_pages();
    /* test_need_and_add leaves its full class-8 slab live on purpose (stack instance). */
    CHECK_EQ_SZ(src_live_chunks(), 1);
    test_region_free(arena, ARENA_BYTES);
    TEST_MAIN_END();
}
