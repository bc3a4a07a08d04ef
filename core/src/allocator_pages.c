/*
 * allocator_pages.c - the global allocator's page calls, section queries and reclaim.
 *
 * Page calls are the buddy calls under the buddy lock, behind the calling CPU's page
 * cache in exclusive mode (page_cache.h). Reclaim works on the calling CPU: its page
 * cache back to the buddy, drain, then hand every fully free slab back, one CPU lock
 * hold per slab so the buddy lock is never taken inside it.
 */
#include "allocator_internal.h"

bsa_status_t bsa_alloc_pages(bsa_allocator_t *a, size_t count, size_t align, void **out) {
    if (BSA__UNLIKELY(!bsa__ready(a)))
        return BSA_E_UNINIT;
    unsigned order;
    if (BSA__UNLIKELY(out == NULL || bsa__buddy_request(&a->_buddy, count, &align, &order) != BSA_OK))
        return BSA_E_INVALID;
    return bsa__alloc_block(a, order, align, BSA__KIND_PAGES, out);
}

/* Never from the page cache: its blocks may lie above 4 GiB. */
bsa_status_t bsa_alloc_pages_lowmem(bsa_allocator_t *a, size_t count, size_t align,
                                    void **out) {
    if (!bsa__ready(a))
        return BSA_E_UNINIT;
    unsigned order;
    if (out == NULL || bsa__buddy_request(&a->_buddy, count, &align, &order) != BSA_OK)
        return BSA_E_INVALID;
    return bsa__locked_alloc(a, order, align, true, BSA__KIND_PAGES, out);
}

bsa_status_t bsa__alloc_block_general(bsa_allocator_t *a, bsa__cpu_t *cpu, unsigned order,
                                      size_t align, unsigned kind, void **out) {
    if (cpu == NULL)
        cpu = bsa__current_cpu(a);
    uint32_t n;
    uintptr_t cached;
    bsa__section_t *s;
    if (bsa__page_cache_peek(&cpu->pages, order, align, &cached, &n) &&
        bsa__section_of(a, cpu, cached, &s)) { /* it has one */
        bsa__page_cache_pop(&a->_buddy, &cpu->pages, s, cached, n, order, kind);
        *out = (void *)cached;
        return BSA_OK;
    }
    return bsa__alloc_block_missed(a, cpu, order, align, kind, out);
}

/* bsa__alloc_block_missed under the buddy lock. `refill`: the stack of the order is empty.
 * A page-aligned request and its refill come as one run when the buddy has one; no
 * refill after a give-back: pages are short then, and the cache would take back what it
 * just returned. */
static bsa_status_t alloc_missed_locked(bsa_allocator_t *a, bsa__cpu_t *cpu, unsigned order,
                                        size_t align, unsigned kind, bool refill, void **out) {
    if (refill && align == a->_buddy._page_size &&
        bsa__page_cache_refill_run(&a->_buddy, &cpu->pages, order, kind, out))
        return BSA_OK;
    bsa_status_t st = bsa__buddy_alloc(&a->_buddy, order, align, false, kind, out);
    if (st == BSA_OK && refill)
        bsa__page_cache_refill(&a->_buddy, &cpu->pages, order);
    else if (st == BSA_E_NOMEM)
        st = bsa__alloc_after_give_back(a, cpu, order, align, false, kind, out);
    return st;
}

/* Only in exclusive mode (the page cache's). */
bsa_status_t bsa__alloc_block_missed(bsa_allocator_t *a, bsa__cpu_t *cpu, unsigned order,
                                     size_t align, unsigned kind, void **out) {
    bool refill = bsa__page_cache_count(&cpu->pages, order) == 0; /* else: align missed */
    uintptr_t state = bsa__lock(bsa__ops(a), bsa__buddy_lock(a));
    bsa_status_t st = alloc_missed_locked(a, cpu, order, align, kind, refill, out);
    bsa__unlock(bsa__ops(a), bsa__buddy_lock(a), state);
    return st;
}

/* A claimed block whose stack is full: the whole stack goes back to the buddy in one lock
 * hold (a spill, page_cache.h), and the block starts the stack again. Its stack's blocks
 * are mostly in its section. */
BSA__NOINLINE static bsa_status_t cache_spill(bsa_allocator_t *a, bsa__cpu_t *cpu,
                                              bsa__section_t *s, uintptr_t addr,
                                              unsigned order) {
    uintptr_t state = bsa__lock(bsa__ops(a), bsa__buddy_lock(a));
    bsa_status_t st = bsa__page_cache_spill(&a->_buddy, &cpu->pages, order, s);
    bsa__unlock(bsa__ops(a), bsa__buddy_lock(a), state);
    (void)bsa__page_cache_put(&cpu->pages, order, addr); /* the stack is empty now */
    return st;
}

/* The block at addr into the CPU's page cache, in section `s`: claimed, then pushed, or
 * spilled with the stack when that is full. */
static inline bsa_status_t cache_free_in(bsa_allocator_t *a, bsa__cpu_t *cpu,
                                         bsa__section_t *s, uintptr_t addr, unsigned order,
                                         unsigned kind) {
    if (((addr - s->base) & (a->_buddy._page_size - 1u)) != 0 ||
        !bsa__page_cache_claim(s, bsa__page_idx(&a->_buddy, s, addr), order, kind))
        return BSA_E_BAD_FREE;
    if (bsa__page_cache_put(&cpu->pages, order, addr))
        return BSA_OK;
    return cache_spill(a, cpu, s, addr, order);
}

/* free_block's path when addr is not in the CPU's last section. */
BSA__NOINLINE static bsa_status_t cache_free_elsewhere(bsa_allocator_t *a, bsa__cpu_t *cpu,
                                                       uintptr_t addr, unsigned order,
                                                       unsigned kind) {
    bsa__section_t *s;
    if (!bsa__section_of(a, cpu, addr, &s))
        return BSA_E_BAD_FREE;
    return cache_free_in(a, cpu, s, addr, order, kind);
}

/* bsa_free_pages's free, which finds the CPU and the section itself (bsa__free_large_in
 * is given them). Every call a tail call: see bsa__alloc_block. */
static inline bsa_status_t free_block(bsa_allocator_t *a, uintptr_t addr, unsigned order,
                                      unsigned kind) {
    if (!bsa__page_cached(a, order))
        return bsa__locked_free(a, (void *)addr, kind, order);
    bsa__cpu_t *cpu = bsa__current_cpu(a);
    bsa__section_t *s = bsa__last_section_holding(cpu, addr);
    if (BSA__UNLIKELY(s == NULL))
        return cache_free_elsewhere(a, cpu, addr, order, kind);
    return cache_free_in(a, cpu, s, addr, order, kind);
}

bsa_status_t bsa__free_large_in(bsa_allocator_t *a, bsa__cpu_t *cpu, bsa__section_t *s,
                                uintptr_t addr, unsigned order) {
    /* Re-validated under the lock (or by the page cache's claim): a racing double free
     * loses there. */
    bsa_status_t st = bsa__page_cached(a, order)
                          ? cache_free_in(a, cpu, s, addr, order, BSA__KIND_LARGE)
                          : bsa__locked_free_in(a, s, (void *)addr, BSA__KIND_LARGE, order);
    return BSA__UNLIKELY(st == BSA_E_BAD_FREE) ? bsa__refuse(a, (void *)addr) : st;
}

bsa_status_t bsa_free_pages(bsa_allocator_t *a, void *addr, size_t count) {
    if (!bsa__ready(a))
        return BSA_E_UNINIT;
    if (count == 0 || count > BSA_MAX_COUNT)
        return BSA_E_INVALID;
    bsa_status_t st = free_block(a, (uintptr_t)addr, bsa__order_of(count), BSA__KIND_PAGES);
    return BSA__UNLIKELY(st == BSA_E_BAD_FREE) ? bsa__refuse(a, addr) : st;
}

bsa_status_t bsa_reclaim(bsa_allocator_t *a) {
    if (!bsa__ready(a))
        return BSA_E_UNINIT;
    bsa__cpu_t *cpu = bsa__current_cpu(a);
    if (bsa__page_cache_pages(&cpu->pages) != 0) {
        uintptr_t state = bsa__lock(bsa__ops(a), bsa__buddy_lock(a));
        bsa_status_t st = bsa__page_cache_give_back(&a->_buddy, &cpu->pages);
        bsa__unlock(bsa__ops(a), bsa__buddy_lock(a), state);
        if (st != BSA_OK)
            return st;
    }
    for (;;) {
        bsa_slab_pages_t release;
        uintptr_t state = bsa__cpu_lock(a, cpu);
        bsa_status_t st = bsa_slab_reclaim(&cpu->slab, &release);
        bsa__cpu_unlock(a, cpu, state);
        if (st != BSA_RELEASE_PAGES)
            return st;
        st = bsa__locked_free(a, release.base, BSA__KIND_SLAB, bsa__order_of(release.pages));
        if (st != BSA_OK)
            return BSA_E_CORRUPT; /* a slab the buddy does not know: cannot happen */
    }
}

size_t bsa_section_count(const bsa_allocator_t *a) {
    if (!bsa__ready(a))
        return 0;
    uintptr_t state = bsa__lock(bsa__ops(a), bsa__buddy_lock(a));
    size_t n = bsa_buddy_section_count(&a->_buddy);
    bsa__unlock(bsa__ops(a), bsa__buddy_lock(a), state);
    return n;
}

bsa_status_t bsa_section(const bsa_allocator_t *a, size_t index, bsa_section_info_t *out) {
    if (!bsa__ready(a))
        return BSA_E_UNINIT;
    uintptr_t state = bsa__lock(bsa__ops(a), bsa__buddy_lock(a));
    bsa_status_t st = bsa_buddy_section(&a->_buddy, index, out);
    bsa__unlock(bsa__ops(a), bsa__buddy_lock(a), state);
    return st;
}
