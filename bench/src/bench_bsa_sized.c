/*
 * bench_bsa_sized.c - bsa with the caller passing sizes back: bsa_free_sized for
 * objects, bsa_alloc_pages / bsa_free_pages for pages.
 */
#include "bench_bsa.h"

static inline void *impl_alloc(size_t size) { return bench_bsa_alloc(size, 0); }

static inline void impl_free(void *p, size_t size) {
    bench_bsa_check(bsa_free_sized(&bench_heap, p, size, 0), "bsa_free_sized", size);
}

static inline void *impl_pages_alloc(unsigned order, size_t align) {
    void *p;
    bench_bsa_check(bsa_alloc_pages(&bench_heap, (size_t)1 << order, align, &p),
                    "bsa_alloc_pages", order);
    return p;
}

static inline void impl_pages_free(void *p, unsigned order, size_t align) {
    (void)align;
    bench_bsa_check(bsa_free_pages(&bench_heap, p, (size_t)1 << order), "bsa_free_pages",
                    order);
}

static inline void *impl_realloc(void *p, size_t old_size, size_t new_size) {
    (void)old_size;
    return bench_bsa_realloc(p, new_size);
}

#define BENCH_IMPL_TABLE bench_impl_bsa_sized
#include "families.h"
