/*
 * hosted.c - regions from mmap, the sched_getcpu() CPU id, address translators and the
 * yield relax hook. Stateless: every function here is thread-safe. The per-thread id
 * registry, which has state, lives in hosted_thread.c.
 */
#define _GNU_SOURCE /* sched_getcpu, MAP_ANONYMOUS */
#include <sched.h>
#include <sys/mman.h>
#include <unistd.h>

#include "bsa_hosted.h"

size_t bsa_hosted_page_size(void) {
    long page = sysconf(_SC_PAGESIZE);
    return page > 0 ? (size_t)page : 4096u;
}

/* `bytes` rounded up to a multiple of `unit` (a power of two); 0 on overflow. */
static size_t hosted_round_up(size_t bytes, size_t unit) {
    if (bytes > SIZE_MAX - (unit - 1u)) return 0;
    return (bytes + unit - 1u) & ~(unit - 1u);
}

void *bsa_hosted_map_aligned(size_t bytes, size_t align) {
    size_t page = bsa_hosted_page_size();
    if (align & (align - 1u)) return NULL;
    if (align < page) align = page;
    size_t len = hosted_round_up(bytes, page);
    if (len == 0 || len > SIZE_MAX - (align - page)) return NULL;

    /* mmap only promises page alignment: map `align - page` extra bytes, then trim the
     * unaligned head and the unused tail so that unmap(p, bytes) frees everything. */
    size_t span = len + (align - page);
    void *raw = mmap(NULL, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (raw == MAP_FAILED) return NULL;
    uintptr_t start = (uintptr_t)raw;
    uintptr_t aligned = (start + (align - 1u)) & ~(uintptr_t)(align - 1u);
    size_t head = aligned - start, tail = span - head - len;
    if (head) munmap(raw, head);
    if (tail) munmap((void *)(aligned + len), tail);
    return (void *)aligned;
}

void *bsa_hosted_map(size_t bytes) { return bsa_hosted_map_aligned(bytes, 0); }

void bsa_hosted_unmap(void *p, size_t bytes) {
    if (p == NULL || bytes == 0) return;
    munmap(p, hosted_round_up(bytes, bsa_hosted_page_size()));
}

unsigned bsa_hosted_sched_cpu_id(void *ctx) {
    unsigned n = ctx ? *(const unsigned *)ctx : 1u;
    int cpu = sched_getcpu();
    if (cpu < 0 || n <= 1u) return 0;
    unsigned c = (unsigned)cpu;
    return c < n ? c : c % n; /* the division only when the machine has more CPUs */
}

uint64_t bsa_hosted_identity_phys(void *ctx, uintptr_t va) {
    (void)ctx;
    return (uint64_t)va;
}

uint64_t bsa_hosted_offset_phys(void *ctx, uintptr_t va) {
    const bsa_hosted_phys_map_t *m = ctx;
    return m->phys_base + ((uint64_t)va - (uint64_t)m->virt_base);
}

void bsa_hosted_yield(void *ctx) {
    (void)ctx;
    sched_yield();
}
