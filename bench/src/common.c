/*
 * common.c - the fixed-seed inputs every allocator sees, failure reporting, and where
 * malloc comes from in this process.
 */
#define _GNU_SOURCE /* dladdr */
#include <dlfcn.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "bench_common.h"

uint8_t bench_recycle_slot[BENCH_TABLE];
uint16_t bench_mixed_slot[BENCH_TABLE];
uint32_t bench_mixed_size[BENCH_TABLE];
uint32_t bench_realloc_size[BENCH_REALLOC_STEPS_MAX];
static unsigned realloc_steps;

/* xorshift64*: fixed seed, so every allocator and every run get the same inputs. */
static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint64_t rng_next(void) {
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545f4914f6cdd1dull;
}
static double rng_unit(void) { return (double)(rng_next() >> 11) * 0x1.0p-53; }

/* Log-uniform in [lo, hi]: each size class gets about the same share. */
static uint32_t log_uniform(double lo, double hi) {
    double v = lo * pow(hi / lo, rng_unit());
    return (uint32_t)(v + 0.5);
}

void bench_tables_init(void) {
    for (unsigned i = 0; i < BENCH_TABLE; i++) {
        bench_recycle_slot[i] = (uint8_t)(rng_next() % BENCH_BATCH);
        bench_mixed_slot[i] = (uint16_t)(rng_next() % BENCH_MIXED_SLOTS);
        /* 95% objects of 8..2048 bytes, 5% large blocks of 2 KiB..32 KiB. */
        bench_mixed_size[i] = rng_unit() < 0.95 ? log_uniform(8.0, 2048.0)
                                                : log_uniform(2049.0, 32768.0);
    }
    realloc_steps = 0;
    for (double s = 16.0; s <= BENCH_REALLOC_MAX && realloc_steps < BENCH_REALLOC_STEPS_MAX;
         s *= 1.5)
        bench_realloc_size[realloc_steps++] = (uint32_t)s;
}

unsigned bench_realloc_steps(void) { return realloc_steps; }

double bench_mixed_mean_size(void) {
    double sum = 0.0;
    for (unsigned i = 0; i < BENCH_TABLE; i++)
        sum += bench_mixed_size[i];
    return sum / BENCH_TABLE;
}

_Noreturn void bench_die(const char *what, size_t arg) {
    fprintf(stderr, "bench: %s failed (%zu)\n", what, arg);
    abort();
}

const char *bench_malloc_origin(void) {
    /* &malloc resolves through the GOT to the definition the dynamic linker chose:
     * the peer library when it interposes, libc otherwise. */
    void *(*fn)(size_t) = malloc;
    void *addr;
    __builtin_memcpy(&addr, &fn, sizeof addr);
    Dl_info info;
    if (dladdr(addr, &info) == 0 || info.dli_fname == NULL)
        return "unknown";
    return info.dli_fname;
}
