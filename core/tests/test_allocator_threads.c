/*
 * test_allocator_threads.c - the global allocator under real threads. Each worker
 * allocates objects of every class (and a few large ones), fills them with a pattern and
 * hands many of them to other workers through small mutex-protected inboxes; the
 * receiver checks the pattern and frees them (remote frees), reallocs them, or keeps
 * and later passes them on. At the end everybody frees everything, each worker calls
 * bsa_reclaim on its own CPU, and the accounting must be exact: free_pages as right
 * after init, no slab held, live == remote_pending == 0 in every class, no bad free,
 * bsa_check OK.
 *
 * Variant 1: 4 workers, 4 CPU ids, one each (bsa_hosted_thread_cpu_id, limit 4).
 * Variant 2: 4 workers sharing 2 CPU ids (limit 2), the default locked mode.
 * Built to be clean under ThreadSanitizer and ASan; a few thousand ops per worker.
 */
#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include "bsa.h"
#include "test_util.h"

#define PS ((size_t)4096)
#define NWORKERS 4
#define OPS 20000
#define QCAP 128
#define ROUND 250 /* ops between barriers: keeps the workers interleaved on few cores */
#define MAXOWN 192
#define HEAP_BYTES ((size_t)64 << 20)

typedef struct item {
    unsigned char *p;
    size_t size, align;
    unsigned char fill;
    bool reallocated; /* freed with bsa_free only: see on_receive */
} item_t;

typedef struct inbox {
    pthread_mutex_t lock;
    item_t q[QCAP];
    size_t head, count;
} inbox_t;

typedef struct run {
    bsa_allocator_t a;
    unsigned cpu_count;
    inbox_t inbox[NWORKERS];
    pthread_barrier_t barrier;
    uint64_t seed;
} run_t;

typedef struct worker {
    run_t *run;
    unsigned index;
    unsigned cpu;                   /* its CPU id, as the hosted port gave it */
    unsigned long allocs, sent, received, remote_realloc;
    item_t own[MAXOWN];
    size_t nown;
} worker_t;

static const size_t sizes[] = {0,   1,   8,   12,  16,   24,   32,   40,   64,   65,
                               100, 128, 200, 256, 400,  512,  513,  1000, 1024, 1500,
                               2000, 2048, 8,  16,  32,  64,   128,  256,  512,  2049,
                               4096, 5000, 12000};

static bool push(inbox_t *in, const item_t *it) {
    pthread_mutex_lock(&in->lock);
    bool ok = in->count < QCAP;
    if (ok) {
        in->q[(in->head + in->count) % QCAP] = *it;
        in->count++;
    }
    pthread_mutex_unlock(&in->lock);
    return ok;
}

static bool pop(inbox_t *in, item_t *it) {
    pthread_mutex_lock(&in->lock);
    bool ok = in->count > 0;
    if (ok) {
        *it = in->q[in->head];
        in->head = (in->head + 1) % QCAP;
        in->count--;
    }
    pthread_mutex_unlock(&in->lock);
    return ok;
}

/* Pattern: every byte is fill (checked whole for small, sampled for large ones). */
static bool intact(const item_t *it) {
    size_t n = it->size, step = n > 2048 ? 61 : 1;
    for (size_t i = 0; i < n; i += step)
        if (it->p[i] != it->fill)
            return false;
    return n == 0 || it->p[n - 1] == it->fill;
}

static void release(bsa_allocator_t *a, const item_t *it, test_rng_t *rng) {
    if (!CHECK(intact(it)))
        fprintf(stderr, "  corrupted object %p size %zu\n", (void *)it->p, it->size);
    bsa_status_t s = it->reallocated || test_rng_below(rng, 2)
                         ? bsa_free(a, it->p)
                         : bsa_free_sized(a, it->p, it->size, it->align);
    CHECK_STATUS(s, BSA_OK);
}

static bool new_item(worker_t *w, test_rng_t *rng, item_t *it) {
    bsa_allocator_t *a = &w->run->a;
    it->size = sizes[test_rng_below(rng, sizeof sizes / sizeof sizes[0])];
    it->align = test_rng_below(rng, 8) == 0 ? (size_t)1 << test_rng_below(rng, 12) : 0;
    it->fill = (unsigned char)(test_rng_next(rng) | 1);
    it->reallocated = false;
    void *p;
    if (!CHECK_STATUS(bsa_alloc(a, it->size, it->align, &p), BSA_OK))
        return false;
    it->p = p;
    size_t al = it->align ? it->align : 8;
    int cls = bsa_size_class(it->size, it->align);
    if (cls >= 0 && (uintptr_t)p % bsa_size_class_bytes((unsigned)cls) != 0)
        al = SIZE_MAX; /* force the check below to fail */
    CHECK((uintptr_t)p % al == 0);
    memset(p, it->fill, it->size);
    w->allocs++;
    return true;
}

/* The received object: check it, then free it (mostly), realloc it, or keep it. */
static void on_receive(worker_t *w, item_t *it, test_rng_t *rng) {
    bsa_allocator_t *a = &w->run->a;
    w->received++;
    unsigned r = (unsigned)test_rng_below(rng, 10);
    if (r < 6 || w->nown == MAXOWN) {
        release(a, it, rng);
        return;
    }
    if (r < 7) {
        CHECK(intact(it));
        CHECK(bsa_usable_size(a, it->p) >= it->size);
        size_t n = sizes[test_rng_below(rng, sizeof sizes / sizeof sizes[0])];
        void *q;
        if (CHECK_STATUS(bsa_realloc(a, it->p, n, it->align, &q), BSA_OK)) {
            /* A block that stayed in place may keep its old class or page order, which
             * bsa_free_sized(new size) refuses today (reported): free it unsized. */
            item_t moved = {q, n, it->align, it->fill, true};
            size_t keep = n < it->size ? n : it->size;
            moved.size = keep;
            CHECK(intact(&moved));
            moved.size = n;
            if (n == 0) {
                CHECK(q == NULL);
                return;
            }
            memset(q, moved.fill, n);
            *it = moved;
            w->remote_realloc++;
        }
    }
    w->own[w->nown++] = *it;
}

static void work(worker_t *w, test_rng_t *rng) {
    run_t *run = w->run;
    for (unsigned op = 0; op < OPS; op++) {
        if (op % ROUND == 0)
            pthread_barrier_wait(&run->barrier);
        unsigned r = (unsigned)test_rng_below(rng, 100);
        item_t it;
        if (r < 35 && w->nown < MAXOWN) {
            if (new_item(w, rng, &it))
                w->own[w->nown++] = it;
        } else if (r < 55 && w->nown > 0) {
            size_t i = (size_t)test_rng_below(rng, w->nown);
            it = w->own[i];
            w->own[i] = w->own[--w->nown];
            unsigned hop = 1 + (unsigned)test_rng_below(rng, NWORKERS - 1);
            unsigned to = (w->index + hop) % NWORKERS; /* any other worker */
            if (push(&run->inbox[to], &it))
                w->sent++;
            else
                release(&run->a, &it, rng);
        } else if (r < 85) {
            if (pop(&run->inbox[w->index], &it))
                on_receive(w, &it, rng);
        } else if (w->nown > 0) {
            size_t i = (size_t)test_rng_below(rng, w->nown);
            it = w->own[i];
            w->own[i] = w->own[--w->nown];
            release(&run->a, &it, rng);
        }
    }
}

static void *worker_main(void *arg) {
    worker_t *w = arg;
    run_t *run = w->run;
    test_rng_t rng = test_rng_init(run->seed * 1000003u + w->index + 1);
    w->cpu = bsa_hosted_thread_cpu_id(NULL);
    pthread_barrier_wait(&run->barrier); /* everyone has an id */
    work(w, &rng);
    pthread_barrier_wait(&run->barrier); /* nobody sends any more */
    item_t it;
    while (pop(&run->inbox[w->index], &it)) {
        w->received++;
        release(&run->a, &it, &rng);
    }
    while (w->nown > 0)
        release(&run->a, &w->own[--w->nown], &rng);
    pthread_barrier_wait(&run->barrier); /* nobody frees any more */
    CHECK_STATUS(bsa_reclaim(&run->a), BSA_OK);
    return NULL;
}

static void run_variant(unsigned cpu_count, uint64_t seed) {
    static run_t run; /* large: keep it off the stack */
    static worker_t w[NWORKERS];
    memset(&run, 0, sizeof run);
    memset(w, 0, sizeof w);
    run.cpu_count = cpu_count;
    run.seed = seed + cpu_count;
    if (!CHECK(bsa_hosted_thread_cpu_set_limit(cpu_count)))
        return;
    unsigned char *heap = test_region(HEAP_BYTES);
    bsa_ops_t ops = {.cpu_id = bsa_hosted_thread_cpu_id, .relax = bsa_hosted_yield};
    bsa_config_t cfg = {.page_size = PS, .cpu_count = cpu_count, .ops = &ops};
    CHECK_STATUS(bsa_init(&run.a, &cfg, heap, HEAP_BYTES), BSA_OK);
    bsa_stats_t st0, st;
    CHECK_STATUS(bsa_stats(&run.a, &st0), BSA_OK);
    for (unsigned i = 0; i < NWORKERS; i++)
        pthread_mutex_init(&run.inbox[i].lock, NULL);
    pthread_barrier_init(&run.barrier, NULL, NWORKERS);
    pthread_t t[NWORKERS];
    for (unsigned i = 0; i < NWORKERS; i++) {
        w[i].run = &run;
        w[i].index = i;
        CHECK_EQ_INT(pthread_create(&t[i], NULL, worker_main, &w[i]), 0);
    }
    for (unsigned i = 0; i < NWORKERS; i++)
        pthread_join(t[i], NULL);

    /* The ids were as intended: one each, or every id shared by two workers. */
    unsigned per_id[NWORKERS] = {0};
    unsigned long allocs = 0, sent = 0, received = 0, reallocs = 0;
    for (unsigned i = 0; i < NWORKERS; i++) {
        CHECK(w[i].cpu < cpu_count);
        if (w[i].cpu < NWORKERS)
            per_id[w[i].cpu]++;
        allocs += w[i].allocs;
        sent += w[i].sent;
        received += w[i].received;
        reallocs += w[i].remote_realloc;
    }
    for (unsigned id = 0; id < cpu_count; id++)
        CHECK_EQ_INT(per_id[id], NWORKERS / cpu_count);
    printf("%u CPU ids: %lu allocations, %lu handed over, %lu received, %lu remote reallocs\n",
           cpu_count, allocs, sent, received, reallocs);
    CHECK_EQ_INT(sent, received);
    CHECK(sent > NWORKERS * OPS / 10);

    CHECK_STATUS(bsa_stats(&run.a, &st), BSA_OK);
    CHECK_EQ_SZ(st.free_pages, st0.free_pages);
    CHECK_EQ_SZ(st.free_pages, st.total_pages);
    CHECK_EQ_SZ(st.allocated_bytes, 0);
    for (unsigned k = 0; k < BSA_SIZE_CLASS_COUNT; k++) {
        if (!CHECK_EQ_SZ(st.classes[k].live, 0) || !CHECK_EQ_SZ(st.classes[k].slabs, 0) ||
            !CHECK_EQ_SZ(st.classes[k].remote_pending, 0))
            fprintf(stderr, "  class %u\n", k);
        CHECK_EQ_SZ(st.classes[k].capacity, 0);
    }
    CHECK_EQ_INT(st.bad_frees, 0);
    for (unsigned k = 0; k <= BSA_MAX_ORDER; k++)
        CHECK_EQ_SZ(st.free_blocks[k], st0.free_blocks[k]);
    CHECK_STATUS(bsa_check(&run.a), BSA_OK);

    pthread_barrier_destroy(&run.barrier);
    for (unsigned i = 0; i < NWORKERS; i++)
        pthread_mutex_destroy(&run.inbox[i].lock);
    test_region_free(heap, HEAP_BYTES);
}

int main(void) {
    uint64_t seed = test_seed(0x7e57ab1e);
    run_variant(NWORKERS, seed);     /* one CPU id each */
    run_variant(NWORKERS / 2, seed); /* two workers per CPU id */
    CHECK(bsa_hosted_thread_cpu_set_limit(BSA_MAX_CPUS));
    TEST_MAIN_END();
}
