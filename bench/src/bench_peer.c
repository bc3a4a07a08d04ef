/*
 * bench_peer.c - a peer allocator through the C library interface: malloc / free for
 * objects, aligned_alloc (page alignment or more) / free for pages, realloc. Which
 * allocator answers is decided at link time (bench/CMakeLists.txt): glibc, or a peer
 * library that interposes malloc.
 */
#include <stdlib.h>

#include "bench_common.h"

static inline void *impl_alloc(size_t size) {
    void *p = malloc(size);
    if (__builtin_expect(p == NULL, 0))
        bench_die("malloc", size);
    return p;
}

static inline void impl_free(void *p, size_t size) {
    (void)size;
    free(p);
}

static inline void *impl_pages_alloc(unsigned order, size_t align) {
    size_t bytes = (size_t)BENCH_PAGE << order;
    void *p = aligned_alloc(align ? align : BENCH_PAGE, bytes);
    if (__builtin_expect(p == NULL, 0))
        bench_die("aligned_alloc", bytes);
    return p;
}

static inline void impl_pages_free(void *p, unsigned order, size_t align) {
    (void)order;
    (void)align;
    free(p);
}

static inline void *impl_realloc(void *p, size_t old_size, size_t new_size) {
    (void)old_size;
    void *q = realloc(p, new_size);
    if (__builtin_expect(q == NULL, 0))
        bench_die("realloc", new_size);
    return q;
}

#define BENCH_IMPL_TABLE bench_impl_peer
#include "families.h"
