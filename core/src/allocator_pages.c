/*
 * allocator_pages.c - the global allocator's page calls, section queries and reclaim.
 *
 * Page calls are the buddy calls under the buddy lock. Reclaim works on the calling
 * CPU: drain, then hand every fully free slab back, one CPU lock hold per slab so the
 * buddy lock is never taken inside it.
 */
#include "allocator_internal.h"

static bsa_status_t alloc_pages(bsa_allocator_t *a, size_t count, size_t align, bool lowmem,
                                void **out) {
    if (!bsa__ready(a))
        return BSA_E_UNINIT;
    unsigned order;
    if (out == NULL || bsa__buddy_request(&a->_buddy, count, &align, &order) != BSA_OK)
        return BSA_E_INVALID;
    return bsa__locked_alloc(a, order, align, lowmem, BSA__KIND_PAGES, out);
}

bsa_status_t bsa_alloc_pages(bsa_allocator_t *a, size_t count, size_t align, void **out) {
    return alloc_pages(a, count, align, false, out);
}

bsa_status_t bsa_alloc_pages_lowmem(bsa_allocator_t *a, size_t count, size_t align,
                                    void **out) {
    return alloc_pages(a, count, align, true, out);
}

bsa_status_t bsa_free_pages(bsa_allocator_t *a, void *addr, size_t count) {
    if (!bsa__ready(a))
        return BSA_E_UNINIT;
    if (count == 0 || count > BSA_MAX_COUNT)
        return BSA_E_INVALID;
    bsa_status_t st = bsa__locked_free(a, addr, BSA__KIND_PAGES, bsa__order_of(count));
    if (st == BSA_E_BAD_FREE)
        bsa__note_bad(a, addr);
    return st;
}

bsa_status_t bsa_reclaim(bsa_allocator_t *a) {
    if (!bsa__ready(a))
        return BSA_E_UNINIT;
    bsa__cpu_t *cpu = bsa__current_cpu(a);
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
