/*
 * allocator_stats.c - bsa_stats and bsa_check for the global allocator.
 *
 * Each structure is read under its own lock, one lock at a time, so the figures of a
 * busy allocator are each exact but not one snapshot; on a quiet allocator they agree.
 * bsa_check's cross-checks (slab blocks in the buddy == slabs on the CPUs' lists) assume
 * a quiet allocator, as the fuzzers and the end of every stress run have.
 */
#include "allocator_internal.h"

bsa_status_t bsa_stats(const bsa_allocator_t *a, bsa_stats_t *out) {
    if (!bsa__ready(a))
        return BSA_E_UNINIT;
    if (out == NULL)
        return BSA_E_INVALID;
    const bsa_buddy_t *b = &a->_buddy;
    uintptr_t state = bsa__lock(bsa__ops(a), bsa__buddy_lock(a));
    out->total_pages = b->_total_pages;
    out->free_pages = b->_free_pages;
    for (unsigned k = 0; k <= BSA_MAX_ORDER; k++)
        out->free_blocks[k] = b->_free_blocks[k];
    bsa__unlock(bsa__ops(a), bsa__buddy_lock(a), state);
    out->managed_bytes = out->total_pages << b->_page_shift;
    out->allocated_bytes = (out->total_pages - out->free_pages) << b->_page_shift;

    uint64_t bad = atomic_load_explicit((_Atomic size_t *)&a->_bad_frees, memory_order_relaxed);
    out->cached_pages = 0;
    for (unsigned k = 0; k < BSA_SIZE_CLASS_COUNT; k++) {
        bsa_class_stats_t *cs = &out->classes[k];
        cs->object_size = bsa_size_class_bytes(k);
        cs->slabs = cs->capacity = cs->live = cs->remote_pending = 0;
    }
    for (unsigned i = 0; i < a->_cpu_count; i++) {
        bsa__cpu_t *cpu = &a->_cpus[i];
        state = bsa__cpu_lock(a, cpu);
        for (unsigned k = 0; k < BSA_SIZE_CLASS_COUNT; k++) {
            /* What bsa_slab_count / _live / _remote_pending return, without their
             * argument checks: this runs 9 times per CPU. */
            const bsa__slab_class_t *c = &cpu->slab._cls[k];
            size_t slabs = bsa__count(&c->_slabs);
            bsa_class_stats_t *cs = &out->classes[k];
            cs->slabs += slabs;
            cs->capacity += slabs * c->_count;
            cs->live += bsa__slab_live_in(&cpu->slab, k);
            cs->remote_pending += bsa__slab_pending(&cpu->slab, k);
        }
        bad += bsa_slab_bad_frees(&cpu->slab);
        bsa__cpu_unlock(a, cpu, state);
        out->cached_pages += bsa__page_cache_pages(&cpu->pages);
    }
    out->bad_frees = bad;
    return BSA_OK;
}

typedef struct slab_census {
    const bsa_allocator_t *a;
    size_t slabs;
} slab_census_t;

/* Whether every later page of the slab of 2^order pages at `addr` names its head, as
 * alloc_refill wrote (bsa__info_slab_tail): a wrong hint would only send frees to the
 * slow path, so nothing but this check would see it. */
static bool slab_tails_named(const bsa_allocator_t *a, uintptr_t addr, unsigned order) {
    const bsa__section_t *s = bsa__section_find(&a->_buddy, addr);
    if (s == NULL)
        return false;
    size_t head = bsa__page_idx(&a->_buddy, s, addr);
    for (size_t i = 1; i < (size_t)1 << order; i++)
        if (bsa__rec_info(s, head + i) != bsa__info_slab_tail(i, order))
            return false;
    return true;
}

/* One SLAB block of the buddy: its header must be a live slab of one of our CPUs, of a
 * class whose geometry has exactly this many pages, and its later pages must name it. */
static bool census_block(void *ctx, uintptr_t addr, unsigned order) {
    slab_census_t *census = ctx;
    const bsa__slab_hdr_t *h = (const bsa__slab_hdr_t *)addr;
    if (h->cookie != bsa__slab_cookie(h) || h->size_class >= BSA_SIZE_CLASS_COUNT ||
        !bsa__owner_valid(census->a, h->owner) ||
        bsa__order_of(h->owner->_cls[h->size_class]._slab_pages) != order ||
        !slab_tails_named(census->a, addr, order))
        return false;
    census->slabs++;
    return true;
}

bsa_status_t bsa_check(const bsa_allocator_t *a) {
    if (!bsa__ready(a))
        return BSA_E_UNINIT;
    if (a->_cpu_count == 0 || a->_cpu_count > BSA_MAX_CPUS)
        return BSA_E_CORRUPT;
    slab_census_t census;
    census.a = a;
    census.slabs = 0;
    bsa__cached_tally_t records, cached;
    cached.blocks = 0; /* field by field: clang -O0 makes an initializer a memset call */
    cached.addr_sum = 0;
    uintptr_t state = bsa__lock(bsa__ops(a), bsa__buddy_lock(a));
    bsa_status_t st = bsa__buddy_check(&a->_buddy, &records);
    if (st == BSA_OK && !bsa__buddy_visit(&a->_buddy, BSA__KIND_SLAB, census_block, &census))
        st = BSA_E_CORRUPT;
    /* Every CACHED record is in exactly one CPU's page cache: each entry names one, and
     * entries and records agree in number and in the sum of their addresses. */
    for (unsigned i = 0; i < a->_cpu_count && st == BSA_OK; i++)
        if (!bsa__page_cache_check(&a->_buddy, &a->_cpus[i].pages, &cached))
            st = BSA_E_CORRUPT;
    bsa__unlock(bsa__ops(a), bsa__buddy_lock(a), state);
    if (st != BSA_OK || cached.blocks != records.blocks || cached.addr_sum != records.addr_sum)
        return BSA_E_CORRUPT;

    size_t listed = 0;
    for (unsigned i = 0; i < a->_cpu_count && st == BSA_OK; i++) {
        bsa__cpu_t *cpu = &a->_cpus[i];
        state = bsa__cpu_lock(a, cpu);
        if (cpu->slab._cpu != i || bsa_slab_check(&cpu->slab) != BSA_OK)
            st = BSA_E_CORRUPT;
        for (unsigned k = 0; k < BSA_SIZE_CLASS_COUNT; k++)
            listed += bsa_slab_count(&cpu->slab, k);
        bsa__cpu_unlock(a, cpu, state);
    }
    return st == BSA_OK && listed == census.slabs ? BSA_OK : BSA_E_CORRUPT;
}
