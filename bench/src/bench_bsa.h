/*
 * bench_bsa.h - the bsa heap the benchmarks run on, and checked wrappers for the two
 * bsa variants (sized and unsized frees) that instantiate families.h.
 */
#ifndef BSA_BENCH_BSA_H
#define BSA_BENCH_BSA_H

#include "bench_common.h"
#include "bsa.h"

#define BENCH_BSA_ARENA ((size_t)256 << 20) /* one bsa_hosted_map region          */
#define BENCH_BSA_CPUS 16u                   /* ids: one per thread (hosted hook)   */
#define BENCH_BSA_PLACE ((size_t)4 << 20)    /* first managed page aligned to this  */

extern bsa_allocator_t bench_heap;

static inline void *bench_bsa_alloc(size_t size, size_t align) {
    void *p;
    if (__builtin_expect(bsa_alloc(&bench_heap, size, align, &p) != BSA_OK, 0))
        bench_die("bsa_alloc", size);
    return p;
}

static inline void *bench_bsa_realloc(void *p, size_t new_size) {
    void *q;
    if (__builtin_expect(bsa_realloc(&bench_heap, p, new_size, 0, &q) != BSA_OK, 0))
        bench_die("bsa_realloc", new_size);
    return q;
}

static inline void bench_bsa_check(bsa_status_t st, const char *what, size_t arg) {
    if (__builtin_expect(st != BSA_OK, 0))
        bench_die(what, arg);
}

#endif /* BSA_BENCH_BSA_H */
