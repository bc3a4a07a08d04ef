/*
 * test_page_cache_race.c - racing double frees of page blocks against exclusive mode's
 * per-CPU page caches (bsa.h, BSA_PAGE_CACHE_*).
 *
 * Two threads, one CPU id each, BSA_CPU_EXCLUSIVE. Each round one of them allocates a
 * block of order round % (BSA_PAGE_CACHE_MAX_ORDER + 1) (from its cache or the buddy;
 * with bsa_alloc_pages, or every other pair of rounds as a large object with bsa_alloc),
 * both meet at a barrier and free the same block at once (bsa_free_pages / bsa_free). The claim of a freed block is a
 * compare-and-swap on its page record, so exactly one free must win (BSA_OK) and the
 * other must be refused (BSA_E_BAD_FREE), whichever cache or buddy the winner puts it
 * in. Nobody allocates pages between the two frees, so the loser's free can only be a
 * double free. At the end both CPUs reclaim and the accounting must be exact: every page
 * free again, no page cached, bad_frees == rounds, bsa_check OK.
 * Built to be clean under ThreadSanitizer (the tsan preset runs it).
 */
#include <pthread.h>
#include <string.h>

#include "bsa.h"
#include "test_util.h"

#define PS ((size_t)4096)
#define ROUNDS 4000
#define HEAP_BYTES ((size_t)4 << 20)

typedef struct race {
    bsa_allocator_t a;
    pthread_barrier_t barrier;
    void *block[ROUNDS];                 /* written by the round's allocator         */
    bsa_status_t alloc_st[ROUNDS];
    bsa_status_t free_st[2][ROUNDS];     /* [thread][round]                           */
    bsa_status_t reclaim_st[2];
} race_t;

typedef struct racer {
    race_t *race;
    unsigned index;
} racer_t;

static void *racer_main(void *arg) {
    racer_t *me = arg;
    race_t *r = me->race;
    for (unsigned i = 0; i < ROUNDS; i++) {
        size_t count = (size_t)1 << (i % (BSA_PAGE_CACHE_MAX_ORDER + 1u));
        bool large = i % 4 >= 2;
        if (i % 2 == me->index)
            r->alloc_st[i] = large ? bsa_alloc(&r->a, count * PS, 0, &r->block[i])
                                   : bsa_alloc_pages(&r->a, count, 0, &r->block[i]);
        pthread_barrier_wait(&r->barrier); /* the block is published */
        bsa_status_t st = BSA_OK;
        if (r->alloc_st[i] == BSA_OK)
            st = large ? bsa_free(&r->a, r->block[i]) : bsa_free_pages(&r->a, r->block[i], count);
        r->free_st[me->index][i] = st;
        pthread_barrier_wait(&r->barrier); /* both frees done: pages may move again */
    }
    r->reclaim_st[me->index] = bsa_reclaim(&r->a);
    return NULL;
}

int main(void) {
    static race_t r;
    memset(&r, 0, sizeof r);
    CHECK(bsa_hosted_thread_cpu_set_limit(2));
    unsigned char *heap = test_region(HEAP_BYTES);
    bsa_ops_t ops = {.cpu_id = bsa_hosted_thread_cpu_id, .relax = bsa_hosted_yield};
    bsa_config_t cfg = {.page_size = PS, .cpu_count = 2, .ops = &ops, .flags = BSA_CPU_EXCLUSIVE};
    CHECK_STATUS(bsa_init(&r.a, &cfg, heap, HEAP_BYTES), BSA_OK);
    bsa_stats_t st0, st;
    CHECK_STATUS(bsa_stats(&r.a, &st0), BSA_OK);
    pthread_barrier_init(&r.barrier, NULL, 2);
    racer_t racers[2] = {{&r, 0}, {&r, 1}};
    pthread_t t[2];
    for (unsigned i = 0; i < 2; i++)
        CHECK_EQ_INT(pthread_create(&t[i], NULL, racer_main, &racers[i]), 0);
    for (unsigned i = 0; i < 2; i++)
        pthread_join(t[i], NULL);

    unsigned wins[2] = {0, 0}, bad_rounds = 0;
    for (unsigned i = 0; i < ROUNDS; i++) {
        bsa_status_t a = r.free_st[0][i], b = r.free_st[1][i];
        bool one_won = (a == BSA_OK && b == BSA_E_BAD_FREE) || (a == BSA_E_BAD_FREE && b == BSA_OK);
        if (r.alloc_st[i] != BSA_OK || !one_won) {
            if (bad_rounds++ < 5)
                fprintf(stderr, "round %u: alloc %s, frees %s / %s\n", i,
                        bsa_status_name(r.alloc_st[i]), bsa_status_name(a), bsa_status_name(b));
            continue;
        }
        wins[a == BSA_OK ? 0 : 1]++;
    }
    printf("%u rounds: thread 0 won %u frees, thread 1 won %u\n", ROUNDS, wins[0], wins[1]);
    CHECK_EQ_INT(bad_rounds, 0);
    CHECK_STATUS(r.reclaim_st[0], BSA_OK);
    CHECK_STATUS(r.reclaim_st[1], BSA_OK);

    CHECK_STATUS(bsa_stats(&r.a, &st), BSA_OK);
    CHECK_EQ_SZ(st.cached_pages, 0);
    CHECK_EQ_SZ(st.free_pages, st0.free_pages);
    CHECK_EQ_INT(st.bad_frees, ROUNDS);
    for (unsigned k = 0; k <= BSA_MAX_ORDER; k++)
        CHECK_EQ_SZ(st.free_blocks[k], st0.free_blocks[k]);
    CHECK_STATUS(bsa_check(&r.a), BSA_OK);

    pthread_barrier_destroy(&r.barrier);
    test_region_free(heap, HEAP_BYTES);
    CHECK(bsa_hosted_thread_cpu_set_limit(BSA_MAX_CPUS));
    TEST_MAIN_END();
}
