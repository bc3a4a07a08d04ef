/*
 * stress.h - the stress driver's shared types: options, one scenario run, its workers,
 * the objects they hold and the mailboxes they hand objects through.
 *
 * Glossary
 *   run       one scenario on a fresh allocator instance (run_t), shared by its workers.
 *   worker    one pthread (worker_t); owns its table of held objects and its counters.
 *   object    anything the driver holds (obj_t): a bsa_alloc block, a page block, or a
 *             message about one (the second free of the remote-double-free scenario).
 *   mailbox   ring[from][to]: a single-producer single-consumer lock-free ring.
 *   produce   a worker's main phase; after it a worker only drains its mailboxes,
 *   phase     frees what it holds and reclaims its CPU (see run.c).
 *
 * Every object is filled with a pattern derived from its tag (allocating thread and a
 * serial) and checked before it is freed, reallocated or handed on.
 *
 * Threads: run_t fields are written before the workers start and read-only after,
 * except the atomics and what a comment says is guarded by the victim token.
 */
#ifndef BSA_STRESS_H
#define BSA_STRESS_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bsa.h"
#include "bsa_hosted.h"

#define STRESS_MAX_THREADS 64u
#define STRESS_MAX_REGIONS 32u  /* hot-add: regions added per run                  */
#define STRESS_RING_CAP 256u    /* objects in flight per mailbox (a power of two)   */
#define STRESS_NO_ORDER 0xffu   /* obj_t.order of a slab object                     */
#define STRESS_VICTIM_CLASS 1u  /* remote-double-free: the class only victims use   */

typedef enum cpu_mode {
    CPU_THREAD, /* bsa_hosted_thread_cpu_id: one id per thread, cpu_count = threads   */
    CPU_SHARED, /* id = thread index % ids: threads share ids and contend on locks   */
    CPU_SCHED,  /* bsa_hosted_sched_cpu_id: the CPU the thread runs on               */
    CPU_EXCLUSIVE, /* as CPU_THREAD, with BSA_CPU_EXCLUSIVE: no per-CPU lock         */
} cpu_mode_t;

typedef struct stress_opts {
    const char *scenarios; /* comma-separated names or "all"                          */
    unsigned threads;
    double duration;       /* seconds per scenario; 0: until `ops`                    */
    uint64_t ops;          /* operations per thread; 0: until `duration`              */
    uint64_t seed;
    cpu_mode_t mode;
    unsigned ids;          /* CPU ids in shared mode; 0: threads / 2, at least 2      */
    const char *json;      /* summary path; "" for none                               */
    double progress;       /* seconds between progress lines; 0: none                 */
    double watchdog;       /* seconds past the planned end before a hang is declared  */
    size_t heap_mib;       /* 0: each scenario's default                              */
} stress_opts_t;

enum obj_kind {
    OBJ_NONE = 0,    /* empty table slot                                      */
    OBJ_ALLOC,       /* bsa_alloc / bsa_realloc block; size = bytes asked     */
    OBJ_PAGES,       /* bsa_alloc_pages block; size = page count asked        */
    OBJ_LOWMEM,      /* bsa_alloc_pages_lowmem block                          */
    OBJ_VICTIM,      /* OBJ_ALLOC on its way to be freed twice                */
    OBJ_SECOND_FREE, /* message: free this already freed pointer again        */
};

#define OBJ_UNSIZED 1u /* realloc'd in place: free with bsa_free, not bsa_free_sized */

typedef struct obj {
    void *p;
    size_t size;    /* bytes asked for (OBJ_ALLOC) or pages asked for (page blocks) */
    uint64_t tag;   /* pattern seed: (thread index + 1) << 48 | serial              */
    uint32_t align; /* as passed to the allocator (0: its default)                  */
    uint16_t cpu;   /* CPU id of the allocating thread, as the driver saw it        */
    uint8_t kind;   /* enum obj_kind                                                */
    uint8_t order;  /* buddy order of a page block or large object; STRESS_NO_ORDER */
    uint8_t flags;
} obj_t;

/* Per-worker counters, summed per run and written to the JSON summary. */
#define STRESS_COUNTERS(X)                                                             \
    X(operations)     /* allocator calls that allocate, free, reallocate or add      */ \
    X(allocs)         /* successful allocations (objects and page blocks)            */ \
    X(frees)          /* successful frees                                            */ \
    X(local_frees)    /* frees on the owner's CPU, and every page/large-block free   */ \
    X(remote_frees)   /* slab-object frees from a CPU that does not own the slab     */ \
    X(reallocs)       /* successful bsa_realloc calls on a live block                */ \
    X(realloc_moves)  /* ... of which moved the block                                */ \
    X(nomem)          /* BSA_E_NOMEM results (handled)                               */ \
    X(pages_taken)    /* pages of page blocks and large objects allocated            */ \
    X(pages_returned) /* pages of page blocks and large objects freed                */ \
    X(lowmem_allocs)  /* successful *_lowmem allocations (checked below 4 GiB)       */ \
    X(reclaim_calls)  /* bsa_reclaim calls by workers                                */ \
    X(deliberate_bad_frees) /* bad frees made on purpose (all refused)               */ \
    X(regions_added)  /* successful bsa_add_region calls                             */ \
    X(handoffs)       /* objects sent to another thread's mailbox                    */

typedef struct counters {
#define STRESS_FIELD(name) uint64_t name;
    STRESS_COUNTERS(STRESS_FIELD)
#undef STRESS_FIELD
} counters_t;

/* Single producer, single consumer. Indices grow forever; slot = index % CAP. Each
 * side keeps its last view of the other's index on its own cache line, and re-reads
 * the shared one only when that view says full (producer) or empty (consumer). */
typedef struct ring {
    _Alignas(64) _Atomic size_t head; /* next slot to read; written by the consumer  */
    size_t tail_seen;                 /* consumer only                                */
    _Alignas(64) _Atomic size_t tail; /* next slot to write; written by the producer */
    size_t head_seen;                 /* producer only                                */
    obj_t slot[STRESS_RING_CAP];
} ring_t;

struct run;
typedef struct worker worker_t;

typedef struct scenario {
    const char *name;
    const char *what;
    /* One step of the produce phase; called until the worker should stop. */
    void (*step)(worker_t *w);
    /* After the last step, still in the produce phase (NULL: nothing). */
    void (*flush)(worker_t *w);
    /* An object popped from a mailbox (NULL: check and free it). */
    void (*receive)(worker_t *w, obj_t *o);
    size_t heap_mib, heap_mib_per_thread; /* default heap                            */
    size_t table;                         /* held-object slots per worker            */
    unsigned flags;
} scenario_t;

#define SC_LOWMEM_MAP 1u   /* linear virt_to_phys: half the heap below 4 GiB           */
#define SC_SHARED_IDS 2u   /* shared CPU ids unless --cpu-mode sched                   */
#define SC_ALL_REMOTE 4u   /* in thread mode every free must be remote                 */
#define SC_NOMEM_EACH 8u   /* every worker must have seen BSA_E_NOMEM                  */
#define SC_VICTIMS 16u     /* remote-double-free: victim class reserved, keepers       */
#define SC_HOT_ADD 32u     /* regions are added during the run                         */

typedef struct region_rec {
    void *map;  /* as mapped, for unmapping */
    size_t len;
} region_rec_t;

typedef struct run {
    const scenario_t *sc;
    const stress_opts_t *opt;
    bsa_allocator_t alloc;
    bsa_ops_t ops;
    size_t page_size;
    unsigned page_shift;
    void *heap;
    size_t heap_len;
    bsa_hosted_phys_map_t phys; /* SC_LOWMEM_MAP only                                  */
    cpu_mode_t mode;
    unsigned nthreads, cpu_count;
    uint64_t seed;
    double t0;                  /* monotonic seconds when the workers were released   */
    ring_t *rings;              /* nthreads * nthreads                                 */
    worker_t *workers;
    pthread_barrier_t start;    /* workers + main                                      */
    pthread_barrier_t drained;  /* workers: every mailbox empty, every table freed     */
    _Atomic int stop;           /* set by the monitor at the deadline                  */
    _Atomic unsigned producing; /* workers still in the produce phase                  */
    _Atomic unsigned finished;  /* workers done                                        */
    _Atomic uint64_t reports;   /* calls of the report hook                            */

    /* remote-double-free: the token serialises victims (one in flight at a time). */
    _Atomic int token;
    obj_t *keepers;             /* guarded by the token                                */
    size_t nkeepers, keepers_cap;

    /* hot-add */
    _Atomic unsigned regions_claimed;
    region_rec_t regions[STRESS_MAX_REGIONS]; /* written by the claimer; read after join */
    double region_interval;
} run_t;

struct worker {
    run_t *run;
    unsigned index;
    pthread_t thread;
    uint64_t rng, serial;
    bool producing;
    counters_t c;
    _Atomic uint64_t progress; /* c.operations, published for the monitor (relaxed)   */
    obj_t *table;              /* held objects; OBJ_NONE marks a free slot             */
    size_t cap, held;          /* held: used slots, for scenarios that use a stack     */
    unsigned next_peer;
};

/* ---- objects.c: rng, patterns, the checked allocator calls, mailboxes -------------- */
uint64_t stress_mix(uint64_t x);
uint64_t rng_next(worker_t *w);
uint64_t rng_below(worker_t *w, uint64_t n);
double stress_now(void);
unsigned stress_cpu_id(void *ctx);          /* the ops.cpu_id hook                   */
void stress_force_cpu(unsigned id_plus_one); /* this thread: fixed id + 1; 0: mode's */
void stress_fatal(const worker_t *w, const char *fmt, ...)
    __attribute__((noreturn, format(printf, 2, 3)));

bool obj_alloc(worker_t *w, size_t size, size_t align, bool via_realloc, obj_t *o);
bool obj_realloc(worker_t *w, obj_t *o, size_t size); /* false: NOMEM, o untouched  */
bool pages_alloc(worker_t *w, size_t count, size_t align, bool lowmem, obj_t *o);
void obj_check(const worker_t *w, const obj_t *o, const char *when);
void obj_release(worker_t *w, obj_t *o); /* check and free any kind; o becomes NONE   */
bool obj_is_slab(const obj_t *o);

bool mailbox_send(worker_t *w, unsigned to, const obj_t *o);
size_t mailbox_poll(worker_t *w); /* handles everything addressed to w; how many */
unsigned random_peer(worker_t *w);

/* ---- scenarios.c ------------------------------------------------------------------- */
extern const scenario_t stress_scenarios[];
extern const size_t stress_scenario_count;
void stress_receive(worker_t *w, obj_t *o); /* dispatch of one mailbox object        */

/* ---- run.c ------------------------------------------------------------------------- */
typedef struct result {
    const char *name;
    bool ok;
    char failure[1024];
    unsigned threads, cpu_ids;
    cpu_mode_t mode;
    uint64_t seed;
    counters_t c;
    double run_seconds, wall_seconds, ops_per_sec;
    uint64_t drains, pending_at_end, bad_frees, reports, min_worker_nomem;
    size_t initial_free_pages, final_free_pages, total_pages, pages_added;
    size_t slab_pages_cached, page_cache_pages, peak_pages_in_use, peak_remote_pending, sections;
} result_t;

void run_scenario(const scenario_t *sc, const stress_opts_t *opt, result_t *res);
const char *cpu_mode_name(cpu_mode_t m);

#endif /* BSA_STRESS_H */
