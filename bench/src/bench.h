/*
 * bench.h - what the benchmark bodies (C) share with the registration shim (C++).
 *
 * One allocator under test is a bench_impl_t: the bodies of the eight families,
 * instantiated from families.h with that allocator's calls inlined, so that no indirect
 * call sits inside a timed loop. Every body runs `iters` iterations itself; the shim
 * hands it Google Benchmark's iteration count in one batch. Bodies free everything they
 * allocate before returning, so runs do not leak into each other.
 */
#ifndef BSA_BENCH_H
#define BSA_BENCH_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define BENCH_BATCH 256        /* objects or blocks per batch / live set of recycle */
#define BENCH_MIXED_SLOTS 1024 /* live slots of the mixed workload                  */
#define BENCH_REALLOC_MAX 65536 /* realloc chains grow to this many bytes            */
#define BENCH_PAGE_ORDERS 7    /* pages families: orders 0..6                       */
#define BENCH_PAGE 4096u       /* page size of the bsa arena and of peers' pages    */

typedef struct bench_impl {
    /* 1. one alloc + free of `size` bytes per iteration */
    void (*pair)(size_t size, uint64_t iters);
    /* 2. per iteration: BENCH_BATCH allocs of `size`, then BENCH_BATCH frees (FIFO) */
    void (*batch)(size_t size, uint64_t iters);
    /* 3. BENCH_BATCH live objects; per iteration free one (random slot), alloc one */
    void (*recycle)(size_t size, uint64_t iters);
    /* 4. one alloc + free of 2^order pages aligned to `align` (0: page) per iteration */
    void (*pages)(unsigned order, size_t align, uint64_t iters);
    /*    per iteration: BENCH_BATCH page blocks of 2^order, then their frees */
    void (*pages_batch)(unsigned order, uint64_t iters);
    /* 5. the calling thread allocates `iters` objects, a consumer thread frees them */
    void (*xcpu)(size_t size, uint64_t iters);
    /* 7. per iteration: free a random slot's object (if any), allocate a random size */
    void (*mixed)(uint64_t iters);
    /* 8. per iteration: one chain 16 -> BENCH_REALLOC_MAX bytes (x1.5 steps), then free */
    void (*realloc_chain)(uint64_t iters);
} bench_impl_t;

/* Allocators compiled into this binary (bench_bsa.c, bench_peer.c). */
extern const bench_impl_t bench_impl_bsa_sized;   /* bsa_free_sized, bsa_free_pages   */
extern const bench_impl_t bench_impl_bsa_unsized; /* bsa_free, pages via bsa_alloc    */
extern const bench_impl_t bench_impl_peer;        /* malloc / free / aligned_alloc    */

/* bench_bsa.c: the bsa heap, on its own mmap region. Describes itself in `desc`. */
void bench_bsa_setup(char *desc, size_t desc_len);

/* common.c */
void bench_tables_init(void);             /* fixed-seed inputs; call once, first  */
unsigned bench_realloc_steps(void);       /* reallocs in one chain                */
double bench_mixed_mean_size(void);       /* mean request of the mixed workload   */
/* Where `malloc` resolves in this process (a shared object's path). */
const char *bench_malloc_origin(void);

#ifdef __cplusplus
}
#endif
#endif /* BSA_BENCH_H */
