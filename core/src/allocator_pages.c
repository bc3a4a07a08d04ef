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

/* bsa__free_block, inlined into bsa_free_pages. */
static inline bsa_status_t free_block(bsa_allocator_t *a, uintptr_t addr, unsigned order,
                                      unsigned kind) {
    if (!bsa__page_cached(a, order))
        return bsa__locked_free(a, (void *)addr, kind, order);
    bsa__cpu_t *cpu = bsa__current_cpu(a);
    bsa__section_t *s;
    if (!bsa__section_of(a, cpu, addr, &s) || ((addr - s->base) & (a->_buddy._page_size - 1u)) != 0 ||
        !bsa__page_cache_claim(s, (size_t)((addr - s->base) >> a->_buddy._page_shift), order,
                               kind))
        return BSA_E_BAD_FREE;
    if (bsa__page_cache_put(&cpu->pages, order, addr))
        return BSA_OK;
    return bsa__locked_free_in(a, s, (void *)addr, BSA__KIND_CACHED, order);
}

bsa_status_t bsa__free_block(bsa_allocator_t *a, uintptr_t addr, unsigned order,
                             unsigned kind) {
    return free_block(a, addr, order, kind);
}

bsa_status_t bsa_free_pages(bsa_allocator_t *a, void *addr, size_t count) {
    if (!bsa__ready(a))
        return BSA_E_UNINIT;
    if (count == 0 || count > BSA_MAX_COUNT)
        return BSA_E_INVALID;
    bsa_status_t st = free_block(a, (uintptr_t)addr, bsa__order_of(count), BSA__KIND_PAGES);
    if (st == BSA_E_BAD_FREE)
        bsa__note_bad(a, addr);
    return st;
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
