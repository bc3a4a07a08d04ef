/*
 * icount.c - the instruction-count driver, run under valgrind --tool=callgrind by
 * bench/icount.sh. Each measurement warms up, zeroes callgrind's counters, runs its
 * operations, and dumps the counters as "<name>@<ops>"; icount.sh divides by <ops>.
 * Outside valgrind the client requests do nothing and the driver is a quick self-test.
 *
 * Measurements (sizes 8..2048, orders 0..6):
 *   calib/empty          zero followed by dump: the fixed cost of one measurement
 *   calib/loop           the timing loop with nothing in it, per iteration
 *   pair_sized/<size>    bsa_alloc + bsa_free_sized
 *   pair_unsized/<size>  bsa_alloc + bsa_free
 *   pages/<order>        bsa_alloc_pages + bsa_free_pages
 *   large/<order>        bsa_alloc + bsa_free of a large object of 2^order pages
 *   recycle/<size>       one step of the benchmarks' recycle family: of 256 live
 *                        objects, the one the family's random table names is freed
 *                        (bsa_free_sized) and allocated again
 *   remote_free/<size>   bsa_free_sized from a thread that does not own the slab
 *   alloc_after_remote/<size>  the owner's allocations right after those remote frees
 *                        (the first one drains them all)
 *   alloc_after_local/<size>   the same allocations after local frees instead
 * The drain's share per object is alloc_after_remote - alloc_after_local. Pinned objects
 * fill the rest of the round's slab, so no slab empties, no page changes hands while
 * measuring, and the first allocation after the remote frees finds no free slot and
 * drains (drains wait until then).
 */
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <valgrind/callgrind.h>

#include "bench_common.h"
#include "bsa.h"
#include "bsa_hosted.h"

#define ARENA ((size_t)256 << 20)
#define PAGE 4096u
#define CPUS 4u
#define PAIRS 20000u
#define WARMUP 2000u
#define ORDERS 7u
#define ROUND_MAX 32u

static bsa_allocator_t heap;

static void check(bsa_status_t st, const char *what) {
    if (st != BSA_OK) {
        fprintf(stderr, "icount: %s: %s\n", what, bsa_status_name(st));
        exit(1);
    }
}

/* A measurement: begin() names it "<kind>/<param>@<ops>" (no "/<param>" when negative)
 * before zeroing the counters, end() dumps them, so only the two client requests and
 * the measured code are counted. Never two at once (threads take turns). */
static char measure_name[96];

static void begin(const char *kind, long param, unsigned long ops) {
    if (param < 0)
        snprintf(measure_name, sizeof measure_name, "%s@%lu", kind, ops);
    else
        snprintf(measure_name, sizeof measure_name, "%s/%ld@%lu", kind, param, ops);
    CALLGRIND_ZERO_STATS;
}

static void end(void) { CALLGRIND_DUMP_STATS_AT(measure_name); }

static void *alloc_obj(size_t size) {
    void *p;
    check(bsa_alloc(&heap, size, 0, &p), "bsa_alloc");
    return p;
}

/* ---- calibration ---------------------------------------------------------------------*/
static void measure_calibration(void) {
    begin("calib/warmup", -1, 1); /* binds the dump path's symbols; not reported */
    end();
    begin("calib/empty", -1, 1);
    end();
    begin("calib/loop", -1, PAIRS);
    for (unsigned i = 0; i < PAIRS; i++)
        bench_escape(&heap);
    end();
}

/* ---- object and page pairs -------------------------------------------------------------*/
static void pairs(size_t size, bool sized, unsigned n) {
    for (unsigned i = 0; i < n; i++) {
        void *p = alloc_obj(size);
        bench_escape(p);
        check(sized ? bsa_free_sized(&heap, p, size, 0) : bsa_free(&heap, p), "bsa_free");
    }
}

static void page_pairs(unsigned order, unsigned n) {
    for (unsigned i = 0; i < n; i++) {
        void *p;
        check(bsa_alloc_pages(&heap, (size_t)1 << order, 0, &p), "bsa_alloc_pages");
        bench_escape(p);
        check(bsa_free_pages(&heap, p, (size_t)1 << order), "bsa_free_pages");
    }
}

static void large_pairs(unsigned order, unsigned n) {
    for (unsigned i = 0; i < n; i++) {
        void *p = alloc_obj((size_t)PAGE << order);
        bench_escape(p);
        check(bsa_free(&heap, p), "bsa_free");
    }
}

/* `pairs` of every order 0..ORDERS-1, each from a reclaimed CPU: what earlier orders
 * left in its page cache would change how deep an uncached order's pair splits and
 * merges. */
static void measure_orders(const char *name, void (*pairs_of)(unsigned, unsigned)) {
    for (unsigned k = 0; k < ORDERS; k++) {
        check(bsa_reclaim(&heap), "bsa_reclaim");
        pairs_of(k, WARMUP);
        begin(name, (long)k, PAIRS);
        pairs_of(k, PAIRS);
        end();
    }
}

/* `n` steps of the recycle family from step `first` of its table: the random frees miss
 * the one-slab free hint, so they measure the lookup path (slab records and header). */
static void recycle_steps(void **live, size_t size, unsigned first, unsigned n) {
    for (unsigned i = first; i < first + n; i++) {
        unsigned s = bench_recycle_slot[i & BENCH_TABLE_MASK];
        check(bsa_free_sized(&heap, live[s], size, 0), "bsa_free_sized");
        live[s] = alloc_obj(size);
        bench_escape(live[s]);
    }
}

static void measure_recycle(void) {
    bench_tables_init();
    void *live[BENCH_BATCH];
    for (unsigned c = 0; c < BSA_SIZE_CLASS_COUNT; c++) {
        size_t size = bsa_size_class_bytes(c);
        for (unsigned j = 0; j < BENCH_BATCH; j++)
            live[j] = alloc_obj(size);
        recycle_steps(live, size, 0, WARMUP);
        begin("recycle", (long)size, PAIRS);
        recycle_steps(live, size, WARMUP, PAIRS);
        end();
        for (unsigned j = 0; j < BENCH_BATCH; j++)
            check(bsa_free_sized(&heap, live[j], size, 0), "bsa_free_sized");
    }
}

static void measure_pairs(void) {
    for (unsigned c = 0; c < BSA_SIZE_CLASS_COUNT; c++) {
        size_t size = bsa_size_class_bytes(c);
        for (int sized = 1; sized >= 0; sized--) {
            pairs(size, sized, WARMUP);
            begin(sized ? "pair_sized" : "pair_unsized", (long)size, PAIRS);
            pairs(size, sized, PAIRS);
            end();
        }
    }
    measure_orders("pages", page_pairs);
    measure_orders("large", large_pairs);
}

/* ---- remote free + drain -------------------------------------------------------------
 * A worker thread (its own CPU id) frees on command; the main thread waits in sem_wait,
 * blocked in the kernel, so only the worker executes while it is measured. */
typedef struct remote_job {
    sem_t go, done;
    void **obj;
    unsigned count;
    size_t size;
    bool measure, quit;
} remote_job_t;

static void *remote_worker(void *arg) {
    remote_job_t *job = arg;
    for (;;) {
        while (sem_wait(&job->go) != 0) {
        }
        if (job->quit)
            break;
        if (job->measure)
            begin("remote_free", (long)job->size, job->count);
        for (unsigned j = 0; j < job->count; j++)
            check(bsa_free_sized(&heap, job->obj[j], job->size, 0), "remote bsa_free_sized");
        if (job->measure)
            end();
        sem_post(&job->done);
    }
    return NULL;
}

static void alloc_round(void **obj, unsigned n, size_t size, const char *name) {
    if (name != NULL)
        begin(name, (long)size, n);
    for (unsigned j = 0; j < n; j++)
        obj[j] = alloc_obj(size);
    if (name != NULL)
        end();
}

static void remote_round(remote_job_t *job, void **obj, unsigned n, size_t size,
                         bool measure) {
    job->obj = obj;
    job->count = n;
    job->size = size;
    job->measure = measure;
    sem_post(&job->go);
    while (sem_wait(&job->done) != 0) {
    }
    alloc_round(obj, n, size, measure ? "alloc_after_remote" : NULL);
    for (unsigned j = 0; j < n; j++)
        check(bsa_free_sized(&heap, obj[j], size, 0), "bsa_free_sized");
    alloc_round(obj, n, size, measure ? "alloc_after_local" : NULL);
}

static void measure_remote(void) {
    remote_job_t job = {0};
    sem_init(&job.go, 0, 0);
    sem_init(&job.done, 0, 0);
    pthread_t worker;
    if (pthread_create(&worker, NULL, remote_worker, &job) != 0) {
        fprintf(stderr, "icount: pthread_create failed\n");
        exit(1);
    }
    void *obj[ROUND_MAX];
    static void *pins[PAGE / 8];
    for (unsigned c = 0; c < BSA_SIZE_CLASS_COUNT; c++) {
        size_t size = bsa_size_class_bytes(c);
        size_t per_slab = bsa_slab_objects_for(c, PAGE);
        unsigned n = per_slab - 1 < ROUND_MAX ? (unsigned)(per_slab - 1) : ROUND_MAX;
        /* The pins fill the rest of the round's slab: it never empties, and after the
         * remote frees its only free slots are theirs, so the owner's next allocation
         * drains them (drains wait until no slot is free). */
        size_t npins = per_slab - n;
        for (size_t j = 0; j < npins; j++)
            pins[j] = alloc_obj(size);
        alloc_round(obj, n, size, NULL);
        for (int r = 0; r < 3; r++)
            remote_round(&job, obj, n, size, r == 2);
        for (unsigned j = 0; j < n; j++)
            check(bsa_free_sized(&heap, obj[j], size, 0), "bsa_free_sized");
        for (size_t j = 0; j < npins; j++)
            check(bsa_free_sized(&heap, pins[j], size, 0), "bsa_free_sized");
    }
    job.quit = true;
    sem_post(&job.go);
    pthread_join(worker, NULL);
}

int main(void) {
    static const bsa_ops_t ops = {.cpu_id = bsa_hosted_thread_cpu_id};
    const bsa_config_t cfg = {
        .page_size = PAGE, .cpu_count = CPUS, .ops = &ops, .flags = BSA_CPU_EXCLUSIVE};
    if (!bsa_hosted_thread_cpu_set_limit(CPUS))
        return 1;
    /* Aligned to its size: where the region lies decides the section's layout, and with
     * it which free blocks an uncached page order (5, 6) splits and merges; at a page
     * alignment that moved with the binary's own size (pages/5 388 or 623). */
    void *region = bsa_hosted_map_aligned(ARENA, ARENA);
    if (region == NULL)
        return 1;
    check(bsa_init(&heap, &cfg, region, ARENA), "bsa_init");
    measure_calibration();
    measure_pairs();
    measure_recycle();
    measure_remote();
    check(bsa_reclaim(&heap), "bsa_reclaim");
    check(bsa_check(&heap), "bsa_check");
    printf("icount: done (%s)\n", RUNNING_ON_VALGRIND ? "under valgrind" : "natively");
    return 0;
}
