/*
 * allocator_internal.h - what the global allocator's source files share: the spinlock
 * (C11 atomics plus the platform's critical-section and relax hooks), the CPU lookup and
 * the buddy calls made under the buddy lock. One lock is never taken while another is
 * held.
 */
#ifndef BSA_ALLOCATOR_INTERNAL_H
#define BSA_ALLOCATOR_INTERNAL_H

#include "internal.h"
#include "page_cache.h"
#include "slab_fast.h"

/* bsa_allocator_t's order (bsa.h): the fields every call reads a line before the buddy's
 * counters and lock, which the CPU doing buddy work writes. */
_Static_assert(BSA__LINE_APART(bsa_allocator_t, _cpus, _buddy._free_pages) &&
                   BSA__LINE_APART(bsa_allocator_t, _buddy._page_size, _buddy._free_pages),
               "bsa_allocator_t: the read fields a line before the written ones");

static inline uintptr_t bsa__lock(const bsa_ops_t *ops, _Atomic int *lock) {
    uintptr_t state = ops->crit_enter ? ops->crit_enter(ops->ctx) : 0;
    /* Acquire: everything the previous holder wrote before its release is visible. */
    while (atomic_exchange_explicit(lock, 1, memory_order_acquire) != 0) {
        /* Relaxed spin on a plain load: no cache-line ping-pong while we wait. */
        while (atomic_load_explicit(lock, memory_order_relaxed) != 0)
            if (ops->relax)
                ops->relax(ops->ctx);
    }
    return state;
}

static inline void bsa__unlock(const bsa_ops_t *ops, _Atomic int *lock, uintptr_t state) {
    /* Release: publishes the critical section's writes to the next holder. */
    atomic_store_explicit(lock, 0, memory_order_release);
    if (ops->crit_exit)
        ops->crit_exit(ops->ctx, state);
}

/* The per-CPU lock; nothing at all with BSA_CPU_EXCLUSIVE, where the platform already
 * guarantees that only CPU i's one thread of control touches CPU i's slabs. */
static inline uintptr_t bsa__cpu_lock(const bsa_allocator_t *a, bsa__cpu_t *cpu) {
    if (a->_flags & BSA_CPU_EXCLUSIVE)
        return 0;
    return bsa__lock(&a->_ops, &cpu->lock);
}

static inline void bsa__cpu_unlock(const bsa_allocator_t *a, bsa__cpu_t *cpu,
                                   uintptr_t state) {
    if (!(a->_flags & BSA_CPU_EXCLUSIVE))
        bsa__unlock(&a->_ops, &cpu->lock, state);
}

static inline bool bsa__ready(const bsa_allocator_t *a) {
    return a != NULL && a->_magic == BSA__ALLOC_MAGIC;
}
static inline bsa_ops_t *bsa__ops(const bsa_allocator_t *a) { return (bsa_ops_t *)&a->_ops; }
static inline _Atomic int *bsa__buddy_lock(const bsa_allocator_t *a) {
    return (_Atomic int *)&a->_buddy_lock;
}

/* The calling CPU. An id outside the contract is folded in rather than trusted. */
static inline bsa__cpu_t *bsa__current_cpu(const bsa_allocator_t *a) {
    if (a->_cpu_count == 1)
        return &a->_cpus[0];
    unsigned id = a->_ops.cpu_id(a->_ops.ctx);
    if (BSA__UNLIKELY(id >= a->_cpu_count))
        id %= a->_cpu_count;
    return &a->_cpus[id];
}

/* Page order of a LARGE block for `size` bytes, at least one page (size 0 is large when
 * its alignment is above 2048); E_INVALID when it cannot be a block. */
static inline bsa_status_t bsa__large_order(const bsa_allocator_t *a, size_t size,
                                            unsigned *order) {
    size_t pages = size == 0 ? 1u : ((size - 1u) >> a->_buddy._page_shift) + 1u;
    if (pages > BSA_MAX_COUNT)
        return BSA_E_INVALID;
    *order = bsa__order_of(pages);
    return BSA_OK;
}

/* Whether `owner` points exactly at one of the CPUs' slab allocators. One unsigned
 * compare covers both ends (a pointer below the array wraps), and the slab allocator is
 * the CPU struct's first member. */
static inline bool bsa__owner_valid(const bsa_allocator_t *a, const bsa_slab_t *owner) {
    uintptr_t off = (uintptr_t)owner - (uintptr_t)a->_cpus;
    _Static_assert(offsetof(bsa__cpu_t, slab) == 0, "the slab allocator leads bsa__cpu_t");
    return off < (uintptr_t)a->_cpu_count * sizeof(bsa__cpu_t) &&
           (off & (sizeof(bsa__cpu_t) - 1u)) == 0;
}

/* The CPU whose slab allocator `owner` is, or NULL unless it points exactly at one. */
static inline bsa__cpu_t *bsa__cpu_of_owner(const bsa_allocator_t *a, const bsa_slab_t *owner) {
    if (!bsa__owner_valid(a, owner))
        return NULL;
    return &a->_cpus[((uintptr_t)owner - (uintptr_t)a->_cpus) / sizeof(bsa__cpu_t)];
}

/* The slab header at `head`, the first page of a SLAB block, or NULL if it does not
 * check out. Checked before anything in the header is trusted further; the calling CPU's
 * own slabs pass the owner test with one compare. (bsa_check's census_block makes the
 * same test on a header it has by address; a shared helper cost the object pair 3
 * instructions in GCC's inlining.) */
static inline bsa__slab_hdr_t *bsa__slab_header_at(const bsa_allocator_t *a,
                                                   const bsa__cpu_t *cpu, uintptr_t head) {
    bsa__slab_hdr_t *h = (bsa__slab_hdr_t *)head;
    if (h->cookie != bsa__slab_cookie(h) || h->size_class >= BSA_SIZE_CLASS_COUNT ||
        (h->owner != &cpu->slab && !bsa__owner_valid(a, h->owner)))
        return NULL;
    return h;
}

/* The CPU's last section if it holds `addr` among its managed pages, else NULL (the
 * full path walks the skip list). For the common frees: no call. */
static inline bsa__section_t *bsa__last_section_holding(const bsa__cpu_t *cpu,
                                                        uintptr_t addr) {
    bsa__section_t *s = atomic_load_explicit((_Atomic(bsa__section_t *) *)&cpu->last_section,
                                             memory_order_acquire);
    return bsa__section_holds(s, addr) ? s : NULL;
}

/* The section whose managed pages hold `addr` into *out (false: none), the CPU's last
 * section tried before the skip list. A bool, not a NULL test: the hint's hit path then
 * has no test left after inlining. */
static inline bool bsa__section_of(const bsa_allocator_t *a, bsa__cpu_t *cpu, uintptr_t addr,
                                   bsa__section_t **out) {
    bsa__section_t *s = bsa__last_section_holding(cpu, addr);
    if (BSA__UNLIKELY(s == NULL)) {
        s = bsa__section_find(&a->_buddy, addr);
        if (s == NULL)
            return false;
        atomic_store_explicit(&cpu->last_section, s, memory_order_release);
    }
    *out = s;
    return true;
}

/* The block holding `addr`. */
static inline bool bsa__find_block(const bsa_allocator_t *a, bsa__cpu_t *cpu, uintptr_t addr,
                                   bsa__block_t *blk) {
    bsa__section_t *s;
    if (!bsa__section_of(a, cpu, addr, &s))
        return false;
    /* The page's own record names its block when the page is a head, as every page of
     * a one-page slab is; otherwise search down for the head. */
    size_t idx = bsa__page_idx(&a->_buddy, s, addr);
    uint32_t info = bsa__rec_info(s, idx);
    if (BSA__UNLIKELY(bsa__info_kind(info) == BSA__KIND_NONE))
        return bsa__buddy_find_in(&a->_buddy, s, addr, blk);
    blk->sec = s;
    blk->head = idx;
    blk->kind = bsa__info_kind(info);
    blk->order = bsa__info_order(info);
    return true;
}

/* The checked header of the slab that page `idx` of `s`, whose record says `info`, is
 * part of; NULL if it is in no slab (or, for a later page, if its record does not name
 * the head: free_checked's search decides then). bsa__find_block's work without a block
 * struct in memory, for the common frees. */
static inline bsa__slab_hdr_t *bsa__slab_of_page(const bsa_allocator_t *a,
                                                 const bsa__cpu_t *cpu, const bsa__section_t *s,
                                                 size_t idx, uint32_t info) {
    if (BSA__UNLIKELY(bsa__info_kind(info) != BSA__KIND_SLAB)) {
        /* A later page of a multi-page slab names its head (bsa__info_slab_tail), which
         * counts only while that head's record is still the one the name asks for: a name
         * left from an earlier block then fails. Any other record has distance 0 and names
         * its own page, whose record (not of a slab head) fails the compare too. */
        uint32_t want = bsa__info_slab_tail_head(info);
        idx -= bsa__info_head_distance(info);
        if (bsa__rec_info(s, idx) != want)
            return NULL;
    }
    return bsa__slab_header_at(a, cpu, bsa__page_addr(&a->_buddy, s, idx));
}

/* allocator.c */
/* In exclusive mode, under the buddy lock, after the buddy could not meet a request: the
 * calling CPU's page cache goes back and the buddy tries once more; E_NOMEM if the cache
 * held nothing. `cpu`: that CPU, or NULL when the caller has not looked it up. */
BSA__HIDDEN bsa_status_t bsa__alloc_after_give_back(bsa_allocator_t *a, bsa__cpu_t *cpu,
                                                    unsigned order, size_t align, bool lowmem,
                                                    unsigned kind, void **out);
/* One buddy allocation under the buddy lock, with bsa__alloc_after_give_back when the
 * buddy cannot meet it. Six arguments, no CPU: its callers' calls stay tail calls. */
BSA__HIDDEN bsa_status_t bsa__locked_alloc(bsa_allocator_t *a, unsigned order, size_t align,
                                           bool lowmem, unsigned kind, void **out);

/* Whether blocks of `order` go through the calling CPU's page cache (bsa.h): one compare
 * (the mode test and the order test, as two, cost 4 instructions per page pair). */
static inline bool bsa__page_cached(const bsa_allocator_t *a, unsigned order) {
    return order < a->_cached_orders;
}

/* allocator_pages.c: bsa__alloc_block's general path, for a request aligned beyond a
 * page (only some cached blocks meet it) or a newest cached block outside the CPU's last
 * section: the cached block if one meets `align`, in whichever section holds it, else the
 * buddy's. `cpu`: the calling CPU, or NULL when the caller has not looked it up. It peeks
 * at the cache again rather than take the caller's values: two more arguments would go
 * on the stack, and bsa__alloc_block's call would no longer be a tail call. */
BSA__HIDDEN bsa_status_t bsa__alloc_block_general(bsa_allocator_t *a, bsa__cpu_t *cpu,
                                                  unsigned order, size_t align,
                                                  unsigned kind, void **out);
/* allocator_pages.c: bsa__alloc_block's path when the page cache has no block for the
 * request: the buddy's, and when the stack of the order is empty and the buddy met the
 * request without the cache's pages, a refill of it in the same lock hold (page_cache.h). */
BSA__HIDDEN bsa_status_t bsa__alloc_block_missed(bsa_allocator_t *a, bsa__cpu_t *cpu,
                                                 unsigned order, size_t align, unsigned kind,
                                                 void **out);

/* A block of `kind` (PAGES, LARGE; not lowmem) for a validated request: the newest
 * cached block of the order if the page cache is in use and it meets `align`, else the
 * buddy's (with a refill of an empty stack). Inline, and a cache hit in the CPU's last
 * section makes no call but cpu_id: every other call is a tail call, so the callers save
 * only what lives across cpu_id. A page-aligned request (nearly all) takes any cached
 * block, so `align` is not among those: saving it cost 9 instructions per page pair. */
static inline bsa_status_t bsa__alloc_block(bsa_allocator_t *a, unsigned order, size_t align,
                                            unsigned kind, void **out) {
    if (!bsa__page_cached(a, order))
        return bsa__locked_alloc(a, order, align, false, kind, out);
    if (align > a->_buddy._page_size)
        return bsa__alloc_block_general(a, NULL, order, align, kind, out);
    bsa__cpu_t *cpu = bsa__current_cpu(a);
    uint32_t n;
    uintptr_t cached;
    if (!bsa__page_cache_top(&cpu->pages, order, &cached, &n))
        return bsa__alloc_block_missed(a, cpu, order, a->_buddy._page_size, kind, out);
    bsa__section_t *s = bsa__last_section_holding(cpu, cached);
    if (BSA__UNLIKELY(s == NULL))
        return bsa__alloc_block_general(a, cpu, order, a->_buddy._page_size, kind, out);
    bsa__page_cache_pop(&a->_buddy, &cpu->pages, s, cached, n, order, kind);
    *out = (void *)cached;
    return BSA_OK;
}

/* allocator_pages.c */
/* Frees the LARGE object of `order` at addr, in section `s`, for the calling CPU `cpu`:
 * into its page cache (claimed there, or for the buddy when the cache is full) or to the
 * buddy, as bsa__page_cached says; or refuses and reports it (BSA_E_BAD_FREE) if it is not
 * such a block. The caller has both from its own lookup: no second cpu_id call. */
BSA__HIDDEN bsa_status_t bsa__free_large_in(bsa_allocator_t *a, bsa__cpu_t *cpu,
                                            bsa__section_t *s, uintptr_t addr, unsigned order);
/* One buddy free under the buddy lock; _in: in section `s`, which holds addr (found
 * through a CPU's last-section hint: no skip-list walk). */
BSA__HIDDEN bsa_status_t bsa__locked_free(bsa_allocator_t *a, void *addr, unsigned kind,
                                          unsigned order);
BSA__HIDDEN bsa_status_t bsa__locked_free_in(bsa_allocator_t *a, bsa__section_t *s, void *addr,
                                             unsigned kind, unsigned order);
/* Counts and reports a refused free (bad_frees, the report hook); BSA_E_BAD_FREE. Out
 * of line, so that a refusal is a tail call. */
BSA__HIDDEN bsa_status_t bsa__refuse(const bsa_allocator_t *a, const void *ptr);

#endif /* BSA_ALLOCATOR_INTERNAL_H */
