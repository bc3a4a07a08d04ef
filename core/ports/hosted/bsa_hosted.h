/*
 * bsa_hosted.h - platform hooks for running bsa as an ordinary process (Linux, POSIX).
 *
 * Everything here may use libc and pthreads; the core (bsa.h) never does. Tests,
 * fuzzers, stress runs and benchmarks build their bsa_ops_t from these:
 *
 *   bsa_ops_t ops = { .cpu_id = bsa_hosted_thread_cpu_id };
 *
 *   regions      bsa_hosted_map / bsa_hosted_map_aligned / bsa_hosted_unmap
 *   cpu_id       bsa_hosted_thread_cpu_id  one id per live thread (exclusive ids while
 *                                          there are no more threads than the limit)
 *                bsa_hosted_sched_cpu_id   the CPU the thread runs on (ids are shared)
 *   virt_to_phys bsa_hosted_identity_phys, bsa_hosted_offset_phys
 *   relax        bsa_hosted_yield
 */
#ifndef BSA_HOSTED_H
#define BSA_HOSTED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bsa.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- regions ------------------------------------------------------------------------
 * Anonymous, private, zero-filled memory, `bytes` rounded up to the OS page size.
 * NULL when `bytes` is 0 or the OS refuses. Thread-safe. */
void *bsa_hosted_map(size_t bytes);
/* As bsa_hosted_map, and the result is a multiple of `align` (a power of two; 0 or
 * anything below the OS page size means the page size). NULL for a bad `align`. */
void *bsa_hosted_map_aligned(size_t bytes, size_t align);
/* Gives back a region from either map call; `bytes` as passed to it. NULL: no-op. */
void bsa_hosted_unmap(void *p, size_t bytes);
/* The OS page size (4096 on x86-64 Linux). */
size_t bsa_hosted_page_size(void);

/* ---- per-thread ids (cpu_id hook) ---------------------------------------------------
 * `ctx` is ignored. A thread gets its id on its first call: the smallest id below the
 * limit that no live thread holds. It is cached in a thread-local, so every later call
 * is one TLS read. The id goes back to the pool when the thread exits (a pthread key
 * destructor): the next new thread reuses it.
 *
 * When every id below the limit is held, a new thread shares the id held by the fewest
 * threads (lowest on ties), and gives its share back at exit like any other. Shared ids
 * are correct for bsa_allocator's default mode (per-CPU locks) but not for a mode that
 * assumes one thread per CPU id: keep live threads <= limit there (see
 * bsa_hosted_thread_cpu_holders).
 *
 * Never fails and never allocates. A thread that calls it again from another TLS
 * destructor after its own id was released registers anew. The main thread's id is
 * released only when the process exits. After fork() the child keeps the parent's
 * table: ids of threads that do not exist in the child stay held. */
unsigned bsa_hosted_thread_cpu_id(void *ctx);
/* Ids handed out are < this; BSA_MAX_CPUS unless changed. */
unsigned bsa_hosted_thread_cpu_limit(void);
/* Sets the limit to `n` (1..BSA_MAX_CPUS) for threads registering from now on. False,
 * and nothing changes, if `n` is out of range or a live thread holds an id >= n. Set
 * it to the allocator's cpu_count before threads start allocating. */
bool bsa_hosted_thread_cpu_set_limit(unsigned n);
/* Live threads holding `id` (0 if free or out of range); > 1 means it is shared. */
unsigned bsa_hosted_thread_cpu_holders(unsigned id);

/* ---- CPU the thread runs on (cpu_id hook) -------------------------------------------
 * `ctx` points to an unsigned cpu_count >= 1 (NULL or 0: 1). Returns
 * sched_getcpu() mod cpu_count, or 0 if sched_getcpu fails. Any number of threads may
 * get the same id at once, and a thread may migrate right after the call. */
unsigned bsa_hosted_sched_cpu_id(void *ctx);

/* ---- address translation (virt_to_phys hook) ----------------------------------------*/
/* `ctx` is ignored: physical == virtual. */
uint64_t bsa_hosted_identity_phys(void *ctx, uintptr_t va);

/* Linear map: phys = phys_base + (va - virt_base), modulo 2^64 (so addresses below
 * virt_base wrap). Lets a test place a region's "physical" image anywhere, e.g.
 * straddling BSA_DMA32_LIMIT, without the memory being there. */
typedef struct bsa_hosted_phys_map {
    uintptr_t virt_base;
    uint64_t phys_base;
} bsa_hosted_phys_map_t;

/* `ctx` points to a bsa_hosted_phys_map_t, which must outlive the allocator. */
uint64_t bsa_hosted_offset_phys(void *ctx, uintptr_t va);

/* ---- spin-wait hint (relax hook) ----------------------------------------------------
 * sched_yield(): on a machine with fewer cores than threads, a spinner that yields lets
 * the preempted lock holder run instead of burning its time slice. `ctx` is ignored. */
void bsa_hosted_yield(void *ctx);

#ifdef __cplusplus
}
#endif
#endif /* BSA_HOSTED_H */
