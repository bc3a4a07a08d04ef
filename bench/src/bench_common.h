/*
 * bench_common.h - helpers for the C benchmark bodies: the fixed-seed input tables, the
 * optimisation barrier, the producer -> consumer ring of the cross-CPU family.
 */
#ifndef BSA_BENCH_COMMON_H
#define BSA_BENCH_COMMON_H

#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>

#include "bench.h"

#define BENCH_TABLE 65536u /* entries of each random table (a power of two) */
#define BENCH_TABLE_MASK (BENCH_TABLE - 1u)
#define BENCH_REALLOC_STEPS_MAX 32u

extern uint8_t bench_recycle_slot[BENCH_TABLE];  /* 0 .. BENCH_BATCH-1              */
extern uint16_t bench_mixed_slot[BENCH_TABLE];   /* 0 .. BENCH_MIXED_SLOTS-1        */
extern uint32_t bench_mixed_size[BENCH_TABLE];   /* 1 .. 32768 bytes                */
extern uint32_t bench_realloc_size[BENCH_REALLOC_STEPS_MAX]; /* one growth chain    */

/* The compiler must assume `p` escapes and memory changed: keeps a malloc/free pair
 * from being folded away (gcc and clang both delete unused pairs). */
static inline void bench_escape(void *p) { __asm__ volatile("" : : "r"(p) : "memory"); }

/* Prints "bench: <what> failed (<arg>)" and aborts: a benchmark never runs on after a
 * failed allocation. */
_Noreturn void bench_die(const char *what, size_t arg);

/* ---- single-producer single-consumer ring (cross-CPU family) ------------------------
 * The producer publishes `head` every BENCH_RING_PUBLISH slots (and at the end), the
 * consumer publishes `tail` after each run of slots it freed, so the two cores exchange
 * one cache line per batch instead of per object. Same code for every allocator. */
#define BENCH_RING 4096u
#define BENCH_RING_PUBLISH 32u

typedef struct bench_ring {
    /* Release by the producer after writing slots, acquire by the consumer before
     * reading them: the slot writes happen-before their reads. */
    _Alignas(64) _Atomic uint64_t head;
    /* Release by the consumer after it is done with slots, acquire by the producer
     * before it overwrites them. */
    _Alignas(64) _Atomic uint64_t tail;
    _Alignas(64) void *slot[BENCH_RING];
} bench_ring_t;

/* Spin politely: PAUSE first, then give the core away (2-core machines, other load). */
static inline void bench_relax(unsigned *spins) {
    if (++*spins < 64) {
#if defined(__x86_64__) || defined(__i386__)
        __builtin_ia32_pause();
#endif
    } else {
        sched_yield();
    }
}

#endif /* BSA_BENCH_COMMON_H */
