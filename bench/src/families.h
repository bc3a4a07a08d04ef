/*
 * families.h - the benchmark bodies, instantiated once per allocator under test.
 *
 * A source file defines BENCH_IMPL_TABLE (the name of its bench_impl_t) and these
 * static inline functions, then includes this file:
 *
 *   void *impl_alloc(size_t size);                          object
 *   void  impl_free(void *p, size_t size);                  size as allocated
 *   void *impl_pages_alloc(unsigned order, size_t align);   2^order pages, align 0: page
 *   void  impl_pages_free(void *p, unsigned order, size_t align);
 *   void *impl_realloc(void *p, size_t old_size, size_t new_size);   p may be NULL
 *
 * Each returns a usable pointer or calls bench_die. The bodies are the same for every
 * allocator; only these calls differ, inlined into each loop. Pair, batch, recycle and
 * pages do not touch the memory they get (the allocator's own cost); mixed and realloc
 * write one byte of each block, as a program would.
 */
#ifndef BENCH_IMPL_TABLE
#error "define BENCH_IMPL_TABLE and the impl_* functions before including families.h"
#endif

#include <pthread.h>

#include "bench_common.h"

static void fam_pair(size_t size, uint64_t iters) {
    for (uint64_t i = 0; i < iters; i++) {
        void *p = impl_alloc(size);
        bench_escape(p);
        impl_free(p, size);
    }
}

static void fam_batch(size_t size, uint64_t iters) {
    void *obj[BENCH_BATCH];
    for (uint64_t i = 0; i < iters; i++) {
        for (unsigned j = 0; j < BENCH_BATCH; j++)
            obj[j] = impl_alloc(size);
        bench_escape(obj);
        for (unsigned j = 0; j < BENCH_BATCH; j++)
            impl_free(obj[j], size);
    }
}

static void fam_recycle(size_t size, uint64_t iters) {
    void *live[BENCH_BATCH];
    for (unsigned j = 0; j < BENCH_BATCH; j++)
        live[j] = impl_alloc(size);
    for (uint64_t i = 0; i < iters; i++) {
        unsigned s = bench_recycle_slot[i & BENCH_TABLE_MASK];
        impl_free(live[s], size);
        live[s] = impl_alloc(size);
        bench_escape(live[s]);
    }
    for (unsigned j = 0; j < BENCH_BATCH; j++)
        impl_free(live[j], size);
}

static void fam_pages(unsigned order, size_t align, uint64_t iters) {
    for (uint64_t i = 0; i < iters; i++) {
        void *p = impl_pages_alloc(order, align);
        bench_escape(p);
        impl_pages_free(p, order, align);
    }
}

static void fam_pages_batch(unsigned order, uint64_t iters) {
    void *blk[BENCH_BATCH];
    for (uint64_t i = 0; i < iters; i++) {
        for (unsigned j = 0; j < BENCH_BATCH; j++)
            blk[j] = impl_pages_alloc(order, 0);
        bench_escape(blk);
        for (unsigned j = 0; j < BENCH_BATCH; j++)
            impl_pages_free(blk[j], order, 0);
    }
}

/* ---- 5. cross-CPU: this thread allocates, a consumer thread frees -------------------*/
typedef struct xcpu_job {
    bench_ring_t *ring;
    size_t size;
    uint64_t count;
} xcpu_job_t;

static bench_ring_t xcpu_ring; /* one cross-CPU run at a time per allocator */

static void *xcpu_consumer(void *arg) {
    const xcpu_job_t *job = arg;
    bench_ring_t *r = job->ring;
    uint64_t t = 0;
    unsigned spins = 0;
    while (t < job->count) {
        uint64_t h = atomic_load_explicit(&r->head, memory_order_acquire);
        if (h == t) {
            bench_relax(&spins);
            continue;
        }
        spins = 0;
        for (; t < h; t++)
            impl_free(r->slot[t & (BENCH_RING - 1u)], job->size);
        atomic_store_explicit(&r->tail, t, memory_order_release);
    }
    return NULL;
}

static void fam_xcpu(size_t size, uint64_t iters) {
    bench_ring_t *r = &xcpu_ring;
    atomic_store_explicit(&r->head, 0, memory_order_relaxed);
    atomic_store_explicit(&r->tail, 0, memory_order_relaxed);
    xcpu_job_t job = {.ring = r, .size = size, .count = iters};
    pthread_t consumer;
    if (pthread_create(&consumer, NULL, xcpu_consumer, &job) != 0)
        bench_die("pthread_create", 0);
    uint64_t h = 0, tail_seen = 0;
    for (uint64_t i = 0; i < iters; i++) {
        void *p = impl_alloc(size);
        unsigned spins = 0;
        while (h - tail_seen >= BENCH_RING) {
            tail_seen = atomic_load_explicit(&r->tail, memory_order_acquire);
            if (h - tail_seen >= BENCH_RING)
                bench_relax(&spins);
        }
        r->slot[h & (BENCH_RING - 1u)] = p;
        h++;
        if ((h & (BENCH_RING_PUBLISH - 1u)) == 0)
            atomic_store_explicit(&r->head, h, memory_order_release);
    }
    atomic_store_explicit(&r->head, h, memory_order_release);
    pthread_join(consumer, NULL);
}

/* ---- 7. mixed: random sizes (small and large), random lifetimes ----------------------*/
static _Thread_local void *mixed_ptr[BENCH_MIXED_SLOTS];
static _Thread_local uint32_t mixed_len[BENCH_MIXED_SLOTS];

static void fam_mixed(uint64_t iters) {
    void **ptr = mixed_ptr;
    uint32_t *len = mixed_len;
    for (uint64_t i = 0; i < iters; i++) {
        uint32_t k = (uint32_t)i & BENCH_TABLE_MASK;
        unsigned s = bench_mixed_slot[k];
        if (ptr[s] != NULL)
            impl_free(ptr[s], len[s]);
        len[s] = bench_mixed_size[k];
        ptr[s] = impl_alloc(len[s]);
        *(volatile char *)ptr[s] = (char)k;
    }
    for (unsigned s = 0; s < BENCH_MIXED_SLOTS; s++) {
        if (ptr[s] != NULL)
            impl_free(ptr[s], len[s]);
        ptr[s] = NULL;
    }
}

/* ---- 8. realloc growth chains --------------------------------------------------------*/
static void fam_realloc_chain(uint64_t iters) {
    unsigned steps = bench_realloc_steps();
    for (uint64_t i = 0; i < iters; i++) {
        void *p = NULL;
        size_t old = 0;
        for (unsigned j = 0; j < steps; j++) {
            size_t n = bench_realloc_size[j];
            p = impl_realloc(p, old, n);
            ((volatile char *)p)[n - 1] = (char)j;
            old = n;
        }
        impl_free(p, old);
    }
}

const bench_impl_t BENCH_IMPL_TABLE = {
    .pair = fam_pair,
    .batch = fam_batch,
    .recycle = fam_recycle,
    .pages = fam_pages,
    .pages_batch = fam_pages_batch,
    .xcpu = fam_xcpu,
    .mixed = fam_mixed,
    .realloc_chain = fam_realloc_chain,
};
