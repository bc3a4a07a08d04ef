/*
 * test_util.h - the few helpers every core test uses: checks that keep going after a
 * failure, a pass/fail tally, memory regions and a PRNG. Header-only; include it from
 * exactly one .c (each test is one file).
 *
 *   int main(void) {
 *       void *r = test_region(1u << 20);
 *       bsa_buddy_t b;
 *       CHECK_STATUS(bsa_buddy_init(&b, 4096, NULL, r, 1u << 20), BSA_OK);
 *       CHECK_EQ_SZ(bsa_buddy_allocated_bytes(&b), 0);
 *       TEST_MAIN_END();
 *   }
 *
 * Every CHECK* is an expression that is true when the check passed, so a test can stop
 * early: `if (!CHECK(p != NULL)) return;`. A failure prints file:line, the expression
 * and the values to stderr. Checks may run on any thread (the tally is atomic).
 * TEST_MAIN_END() prints "N passed, N failed" as the last line and returns from main
 * with 0 only if nothing failed (and at least one check ran).
 */
#ifndef BSA_TEST_UTIL_H
#define BSA_TEST_UTIL_H

#include <inttypes.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "bsa.h"
#include "bsa_hosted.h"

/* ---- checks ------------------------------------------------------------------------ */

static atomic_ulong test__passed, test__failed;

static inline bool test__tally(bool ok) {
    /* relaxed: the totals are read by main after joining every thread that checks */
    atomic_fetch_add_explicit(ok ? &test__passed : &test__failed, 1ul, memory_order_relaxed);
    return ok;
}

static inline bool test__check(bool ok, const char *file, int line, const char *expr) {
    if (!ok) fprintf(stderr, "%s:%d: CHECK(%s) failed\n", file, line, expr);
    return test__tally(ok);
}

static inline bool test__eq_int(long long a, long long b, const char *file, int line,
                                const char *ea, const char *eb) {
    if (a != b)
        fprintf(stderr, "%s:%d: CHECK_EQ_INT(%s, %s) failed: %lld != %lld\n", file, line,
                ea, eb, a, b);
    return test__tally(a == b);
}

static inline bool test__eq_sz(size_t a, size_t b, const char *file, int line,
                               const char *ea, const char *eb) {
    if (a != b)
        fprintf(stderr, "%s:%d: CHECK_EQ_SZ(%s, %s) failed: %zu (%#zx) != %zu (%#zx)\n",
                file, line, ea, eb, a, a, b, b);
    return test__tally(a == b);
}

static inline bool test__status(bsa_status_t got, bsa_status_t want, const char *file,
                                int line, const char *expr, const char *ewant) {
    if (got != want)
        fprintf(stderr, "%s:%d: CHECK_STATUS(%s, %s) failed: got %s (%d), want %s (%d)\n",
                file, line, expr, ewant, bsa_status_name(got), (int)got,
                bsa_status_name(want), (int)want);
    return test__tally(got == want);
}

#define CHECK(cond) test__check((cond) ? true : false, __FILE__, __LINE__, #cond)
#define CHECK_EQ_INT(a, b) \
    test__eq_int((long long)(a), (long long)(b), __FILE__, __LINE__, #a, #b)
#define CHECK_EQ_SZ(a, b) test__eq_sz((size_t)(a), (size_t)(b), __FILE__, __LINE__, #a, #b)
#define CHECK_STATUS(expr, want) \
    test__status((expr), (want), __FILE__, __LINE__, #expr, #want)

/* Prints the tally (flushing stderr first so the tally is the last line) and returns
 * from the enclosing function, which should be main. A test that checked nothing
 * fails: it most likely did not run what it meant to. */
#define TEST_MAIN_END()                                                               \
    do {                                                                              \
        unsigned long test__p = atomic_load(&test__passed);                           \
        unsigned long test__f = atomic_load(&test__failed);                           \
        fflush(stderr);                                                               \
        if (test__p + test__f == 0) fprintf(stdout, "no checks ran\n");               \
        fprintf(stdout, "%lu passed, %lu failed\n", test__p, test__f);                \
        fflush(stdout);                                                               \
        return (test__f == 0 && test__p > 0) ? 0 : 1;                                 \
    } while (0)

/* ---- memory ------------------------------------------------------------------------ */

/* Page-aligned, zero-filled, private memory from the hosted port. Aborts if the OS
 * refuses: no test can go on without its region. Give it back with test_region_free. */
static inline void *test_region(size_t bytes) {
    void *p = bsa_hosted_map(bytes);
    if (p == NULL) {
        fprintf(stderr, "test_region(%zu): mmap failed\n", bytes);
        abort();
    }
    return p;
}

/* As test_region, aligned to `align` (a power of two). */
static inline void *test_region_aligned(size_t bytes, size_t align) {
    void *p = bsa_hosted_map_aligned(bytes, align);
    if (p == NULL) {
        fprintf(stderr, "test_region_aligned(%zu, %zu): mmap failed\n", bytes, align);
        abort();
    }
    return p;
}

static inline void test_region_free(void *p, size_t bytes) { bsa_hosted_unmap(p, bytes); }

/* ---- PRNG: xorshift64 (Marsaglia). Not for statistics; for reproducible shuffles ---- */

typedef struct test_rng {
    uint64_t state; /* never 0 */
} test_rng_t;

static inline test_rng_t test_rng_init(uint64_t seed) {
    test_rng_t r = {seed ? seed : 0x9e3779b97f4a7c15ull};
    return r;
}

static inline uint64_t test_rng_next(test_rng_t *r) {
    uint64_t x = r->state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    r->state = x;
    return x;
}

/* Uniform enough in [0, n) for test purposes; n > 0. */
static inline uint64_t test_rng_below(test_rng_t *r, uint64_t n) {
    return test_rng_next(r) % n;
}

/* The seed to use: $BSA_TEST_SEED if set (decimal or 0x hex), else `fallback`. Printed,
 * so that a failing randomized run can be repeated. */
static inline uint64_t test_seed(uint64_t fallback) {
    const char *env = getenv("BSA_TEST_SEED");
    uint64_t seed = env && *env ? (uint64_t)strtoull(env, NULL, 0) : fallback;
    printf("seed %#" PRIx64 " (set BSA_TEST_SEED to repeat or vary)\n", seed);
    return seed;
}

#endif /* BSA_TEST_UTIL_H */
