/*
 * page_cache.c - the per-CPU page cache's cold calls: refill, spill, init, give back,
 * check (page_cache.h has the hot ones and the record protocol). Refill and spill run
 * under the buddy lock, which the caller holds: one lock hold moves a whole batch.
 */
#include "page_cache.h"

void bsa__page_cache_init(bsa__page_cache_t *c) {
    for (unsigned k = 0; k <= BSA_PAGE_CACHE_MAX_ORDER; k++)
        atomic_init(&c->count[k], 0);
}

void bsa__page_cache_refill(bsa_buddy_t *b, bsa__page_cache_t *c, unsigned order) {
    uint32_t n = 0;
    void *block;
    while (n < BSA_PAGE_CACHE_DEPTH - 1u &&
           bsa__buddy_alloc(b, order, b->_page_size, false, BSA__KIND_CACHED, &block) == BSA_OK)
        c->block[order][n++] = (uintptr_t)block;
    bsa__page_cache_set_count(c, order, n);
}

bool bsa__page_cache_refill_run(bsa_buddy_t *b, bsa__page_cache_t *c, unsigned order,
                                unsigned kind, void **out) {
    uintptr_t run[BSA_PAGE_CACHE_DEPTH];
    if (!bsa__buddy_alloc_run(b, order, BSA__PAGE_CACHE_RUN_SHIFT, kind, BSA__KIND_CACHED, run))
        return false;
    *out = (void *)run[0];
    for (uint32_t n = 1; n < BSA_PAGE_CACHE_DEPTH; n++)
        c->block[order][n - 1u] = run[n];
    bsa__page_cache_set_count(c, order, BSA_PAGE_CACHE_DEPTH - 1u);
    return true;
}

/* Whether the stack of `order` is full and its blocks tile one buddy run of order +
 * BSA__PAGE_CACHE_RUN_SHIFT in `s` (may be NULL): the lowest block (into *lo) is aligned
 * to the run and no block lies past its end. Enough, as the stack's blocks are distinct
 * and each is aligned to its own size. A refill's run comes back so when its blocks are
 * freed, in any order, between two spills. */
static bool stack_is_run(const bsa_buddy_t *b, const bsa__page_cache_t *c, unsigned order,
                         const bsa__section_t *s, uintptr_t *lo) {
    if (s == NULL || bsa__page_cache_count(c, order) != BSA_PAGE_CACHE_DEPTH)
        return false;
    uintptr_t run_bytes = (uintptr_t)b->_page_size << (order + BSA__PAGE_CACHE_RUN_SHIFT);
    *lo = UINTPTR_MAX;
    for (uint32_t i = 0; i < BSA_PAGE_CACHE_DEPTH; i++) {
        if (!bsa__section_holds(s, c->block[order][i]))
            return false;
        if (c->block[order][i] < *lo)
            *lo = c->block[order][i];
    }
    if (((*lo - s->base) & (run_bytes - 1u)) != 0)
        return false;
    for (uint32_t i = 0; i < BSA_PAGE_CACHE_DEPTH; i++)
        if (c->block[order][i] - *lo >= run_bytes)
            return false;
    return true;
}

bsa_status_t bsa__page_cache_spill(bsa_buddy_t *b, bsa__page_cache_t *c, unsigned order,
                                   bsa__section_t *s) {
    uintptr_t lo;
    if (stack_is_run(b, c, order, s, &lo)) { /* the buddy takes it back as one block */
        bsa__page_cache_set_count(c, order, 0);
        return bsa__buddy_free_run_in(b, s, lo, BSA__KIND_CACHED, order,
                                      BSA__PAGE_CACHE_RUN_SHIFT) == BSA_OK
                   ? BSA_OK
                   : BSA_E_CORRUPT;
    }
    bsa_status_t st = BSA_OK;
    for (uint32_t n = bsa__page_cache_count(c, order); n != 0; n--) {
        void *block = (void *)c->block[order][n - 1u];
        if ((s != NULL && bsa__section_holds(s, (uintptr_t)block)
                 ? bsa__buddy_free_in(b, s, block, BSA__KIND_CACHED, order)
                 : bsa__buddy_free(b, block, BSA__KIND_CACHED, order)) != BSA_OK)
            st = BSA_E_CORRUPT;
    }
    bsa__page_cache_set_count(c, order, 0);
    return st;
}

bsa_status_t bsa__page_cache_give_back(bsa_buddy_t *b, bsa__page_cache_t *c) {
    bsa_status_t st = BSA_OK;
    for (unsigned k = 0; k <= BSA_PAGE_CACHE_MAX_ORDER; k++)
        if (bsa__page_cache_spill(b, c, k, NULL) != BSA_OK)
            st = BSA_E_CORRUPT;
    return st;
}

bool bsa__page_cache_check(const bsa_buddy_t *b, const bsa__page_cache_t *c,
                           bsa__cached_tally_t *tally) {
    for (unsigned k = 0; k <= BSA_PAGE_CACHE_MAX_ORDER; k++) {
        uint32_t n = bsa__page_cache_count(c, k);
        if (n > BSA_PAGE_CACHE_DEPTH)
            return false;
        for (uint32_t i = 0; i < n; i++) {
            uintptr_t addr = c->block[k][i];
            const bsa__section_t *s = bsa__section_find(b, addr);
            if (s == NULL || ((addr - s->base) & (b->_page_size - 1u)) != 0 ||
                bsa__rec_info(s, bsa__page_idx(b, s, addr)) !=
                    bsa__info(BSA__KIND_CACHED, k))
                return false;
            tally->addr_sum += addr;
        }
        tally->blocks += n;
    }
    return true;
}
