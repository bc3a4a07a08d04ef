/*
 * test_hosted.c - the hosted port: mapped regions, per-thread ids (unique while live,
 * recycled after exit, shared past the limit), sched_getcpu ids and the translators.
 */
#include <pthread.h>
#include <string.h>

#include "test_util.h"

#define WORKERS 6

/* ---- regions ---- */

static void test_map(void) {
    size_t page = bsa_hosted_page_size();
    CHECK(page >= 4096 && (page & (page - 1)) == 0);
    CHECK(bsa_hosted_map(0) == NULL);
    CHECK(bsa_hosted_map_aligned(page, 3 * page) == NULL);

    unsigned char *p = bsa_hosted_map(10000);
    if (!CHECK(p != NULL)) return;
    CHECK_EQ_SZ((uintptr_t)p % page, 0);
    CHECK_EQ_INT(p[0] | p[9999], 0); /* zero-filled */
    memset(p, 0xa5, 3 * page);       /* rounded up to whole pages: all writable */
    bsa_hosted_unmap(p, 10000);

    size_t align = (size_t)2 << 20;
    unsigned char *q = test_region_aligned(3 * page, align);
    CHECK_EQ_SZ((uintptr_t)q % align, 0);
    memset(q, 0x5a, 3 * page);
    test_region_free(q, 3 * page);
    bsa_hosted_unmap(NULL, 1); /* no-op */
}

/* ---- per-thread ids ---- */

typedef struct worker {
    pthread_barrier_t *all_have_ids; /* keeps every worker alive until all registered */
    unsigned id;
    unsigned again; /* the id on a second call: must be cached */
} worker_t;

static void *worker_main(void *arg) {
    worker_t *w = arg;
    w->id = bsa_hosted_thread_cpu_id(NULL);
    pthread_barrier_wait(w->all_have_ids);
    w->again = bsa_hosted_thread_cpu_id(NULL);
    return NULL;
}

/* Runs `n` workers that are all alive at once; their ids land in ids[]. */
static void run_workers(unsigned n, unsigned *ids) {
    pthread_barrier_t barrier;
    pthread_t t[WORKERS];
    worker_t w[WORKERS];
    pthread_barrier_init(&barrier, NULL, n);
    for (unsigned i = 0; i < n; i++) {
        w[i] = (worker_t){.all_have_ids = &barrier};
        CHECK_EQ_INT(pthread_create(&t[i], NULL, worker_main, &w[i]), 0);
    }
    for (unsigned i = 0; i < n; i++) {
        pthread_join(t[i], NULL);
        CHECK_EQ_INT(w[i].again, w[i].id);
        ids[i] = w[i].id;
    }
    pthread_barrier_destroy(&barrier);
}

/* Bit i set: some worker got id i. */
static uint64_t id_set(const unsigned *ids, unsigned n) {
    uint64_t set = 0;
    for (unsigned i = 0; i < n; i++)
        if (CHECK(ids[i] < 64)) set |= 1ull << ids[i];
    return set;
}

static void test_thread_ids(void) {
    unsigned ids[WORKERS];
    CHECK_EQ_INT(bsa_hosted_thread_cpu_limit(), BSA_MAX_CPUS);
    unsigned main_id = bsa_hosted_thread_cpu_id(NULL);
    CHECK_EQ_INT(main_id, 0); /* first thread to ask gets the smallest id */
    CHECK_EQ_INT(bsa_hosted_thread_cpu_id(NULL), main_id);
    CHECK_EQ_INT(bsa_hosted_thread_cpu_holders(0), 1);

    /* Live threads: distinct ids, the smallest free ones: 1..WORKERS. */
    run_workers(WORKERS, ids);
    uint64_t want = ((1ull << WORKERS) - 1) << 1;
    CHECK_EQ_SZ(id_set(ids, WORKERS), want);
    /* Joined threads gave their ids back, so the next ones reuse exactly those. */
    for (unsigned id = 1; id <= WORKERS; id++) CHECK_EQ_INT(bsa_hosted_thread_cpu_holders(id), 0);
    run_workers(WORKERS, ids);
    CHECK_EQ_SZ(id_set(ids, WORKERS), want);

    /* Past the limit ids are shared, least shared first, and all stay below it. */
    CHECK(!bsa_hosted_thread_cpu_set_limit(0));
    CHECK(!bsa_hosted_thread_cpu_set_limit(BSA_MAX_CPUS + 1));
    CHECK(bsa_hosted_thread_cpu_set_limit(3));
    CHECK_EQ_INT(bsa_hosted_thread_cpu_limit(), 3);
    run_workers(WORKERS, ids); /* main holds 0; 6 workers share 0, 1, 2 */
    unsigned per_id[3] = {1, 0, 0};
    for (unsigned i = 0; i < WORKERS; i++)
        if (CHECK(ids[i] < 3)) per_id[ids[i]]++;
    /* 7 holders over 3 ids, balanced: 3, 2, 2 (lowest id first on ties) */
    CHECK_EQ_INT(per_id[0], 3);
    CHECK_EQ_INT(per_id[1], 2);
    CHECK_EQ_INT(per_id[2], 2);
    for (unsigned id = 1; id < 3; id++) CHECK_EQ_INT(bsa_hosted_thread_cpu_holders(id), 0);
    CHECK_EQ_INT(bsa_hosted_thread_cpu_holders(0), 1);
    CHECK(bsa_hosted_thread_cpu_set_limit(BSA_MAX_CPUS));
}

/* A limit below a live thread's id is refused. */
static pthread_barrier_t hold_barrier;
static void *hold_main(void *arg) {
    *(unsigned *)arg = bsa_hosted_thread_cpu_id(NULL);
    pthread_barrier_wait(&hold_barrier); /* registered */
    pthread_barrier_wait(&hold_barrier); /* main is done checking */
    return NULL;
}

static void test_limit_refused(void) {
    unsigned held = 0;
    pthread_t t;
    pthread_barrier_init(&hold_barrier, NULL, 2);
    CHECK_EQ_INT(pthread_create(&t, NULL, hold_main, &held), 0);
    pthread_barrier_wait(&hold_barrier);
    CHECK_EQ_INT(held, 1);
    CHECK(!bsa_hosted_thread_cpu_set_limit(1));
    CHECK_EQ_INT(bsa_hosted_thread_cpu_limit(), BSA_MAX_CPUS);
    CHECK(bsa_hosted_thread_cpu_set_limit(2));
    pthread_barrier_wait(&hold_barrier);
    pthread_join(t, NULL);
    CHECK(bsa_hosted_thread_cpu_set_limit(1)); /* id 1 was given back at exit */
    CHECK(bsa_hosted_thread_cpu_set_limit(BSA_MAX_CPUS));
    pthread_barrier_destroy(&hold_barrier);
}

/* ---- sched ids and translators ---- */

static void test_sched_ids(void) {
    for (unsigned n = 1; n <= 4; n++)
        for (int i = 0; i < 100; i++) CHECK(bsa_hosted_sched_cpu_id(&n) < n);
    unsigned zero = 0;
    CHECK_EQ_INT(bsa_hosted_sched_cpu_id(&zero), 0);
    CHECK_EQ_INT(bsa_hosted_sched_cpu_id(NULL), 0);
}

static void test_translators(void) {
    unsigned char *r = test_region(1u << 16);
    uintptr_t va = (uintptr_t)r;
    CHECK_EQ_SZ(bsa_hosted_identity_phys(NULL, va), va);
    CHECK_EQ_SZ(bsa_hosted_identity_phys(NULL, 0), 0);

    /* The region's physical image straddles 4 GiB: its second half lies above. */
    bsa_hosted_phys_map_t m = {.virt_base = va, .phys_base = BSA_DMA32_LIMIT - (1u << 15)};
    CHECK(bsa_hosted_offset_phys(&m, va) == BSA_DMA32_LIMIT - (1u << 15));
    CHECK(bsa_hosted_offset_phys(&m, va + (1u << 15)) == BSA_DMA32_LIMIT);
    CHECK(bsa_hosted_offset_phys(&m, va + (1u << 16) - 1) == BSA_DMA32_LIMIT + (1u << 15) - 1);
    /* As a bsa_ops_t hook. */
    bsa_ops_t ops = {.ctx = &m, .virt_to_phys = bsa_hosted_offset_phys};
    CHECK(ops.virt_to_phys(ops.ctx, va + 4096) == BSA_DMA32_LIMIT - (1u << 15) + 4096);
    test_region_free(r, 1u << 16);
}

static void test_rng(void) {
    test_rng_t a = test_rng_init(42), b = test_rng_init(42), z = test_rng_init(0);
    uint64_t x = test_rng_next(&a);
    CHECK(x != 0 && x == test_rng_next(&b));
    CHECK(test_rng_next(&z) != 0);
    for (int i = 0; i < 1000; i++) CHECK(test_rng_below(&a, 7) < 7);
}

int main(void) {
    test_map();
    test_thread_ids(); /* first: expects the main thread to take id 0 */
    test_limit_refused();
    test_sched_ids();
    test_translators();
    test_rng();
    CHECK_STATUS(BSA_E_NOMEM, BSA_E_NOMEM); /* the helper links bsa_status_name */
    TEST_MAIN_END();
}
