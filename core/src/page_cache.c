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

bsa_status_t bsa__page_cache_spill(bsa_buddy_t *b, bsa__page_cache_t *c, unsigned order,
                                   bsa__section_t *s) {
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
                bsa__rec_info(s, (size_t)((addr - s->base) >> b->_page_shift)) !=
                    bsa__info(BSA__KIND_CACHED, k))
                return false;
            tally->addr_sum += addr;
        }
        tally->blocks += n;
    }
    return true;
}
