/*
 * bench_bsa_unsized.c - bsa as a malloc-style heap: bsa_free finds the size itself;
 * page blocks are large objects (bsa_alloc with page alignment, bsa_free).
 */
#include "bench_bsa.h"

static inline void *impl_alloc(size_t size) { return bench_bsa_alloc(size, 0); }

static inline void impl_free(void *p, size_t size) {
    bench_bsa_check(bsa_free(&bench_heap, p), "bsa_free", size);
}

static inline void *impl_pages_alloc(unsigned order, size_t align) {
    return bench_bsa_alloc((size_t)BENCH_PAGE << order, align ? align : BENCH_PAGE);
}

static inline void impl_pages_free(void *p, unsigned order, size_t align) {
    (void)align;
    bench_bsa_check(bsa_free(&bench_heap, p), "bsa_free", order);
}

static inline void *impl_realloc(void *p, size_t old_size, size_t new_size) {
    (void)old_size;
    return bench_bsa_realloc(p, new_size);
}

#define BENCH_IMPL_TABLE bench_impl_bsa_unsized
#include "families.h"
