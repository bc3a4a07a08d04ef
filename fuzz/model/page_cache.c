/*
 * page_cache.c - the model of exclusive mode's per-CPU page caches (bsa.h,
 * BSA_PAGE_CACHE_*): per CPU and order a stack of at most BSA_PAGE_CACHE_DEPTH blocks
 * that bsa_free_pages or a large bsa_free put there. A cached block is taken, not free
 * (M_CACHED), and has no kind; a page or large allocation on the same CPU gets the
 * newest one back when it meets the alignment.
 */
#include "model.h"

uintptr_t m_cache_top(const model_t *m, unsigned cpu, unsigned k, size_t align) {
    unsigned n = m->pages.cached[cpu][k];
    if (n == 0 || m->pages.cache[cpu][k][n - 1] % align != 0)
        return 0;
    return m->pages.cache[cpu][k][n - 1];
}

void m_cache_pop(model_t *m, unsigned cpu, unsigned k, unsigned kind) {
    uintptr_t addr = m->pages.cache[cpu][k][--m->pages.cached[cpu][k]];
    m_pages_set_kind(m, m_pages_block_at(m, addr), kind);
}

bool m_cache_push(model_t *m, unsigned cpu, int block) {
    unsigned k = m->pages.block[block].order;
    if (m->pages.cached[cpu][k] == BSA_PAGE_CACHE_DEPTH)
        return false;
    m->pages.cache[cpu][k][m->pages.cached[cpu][k]++] = m->pages.block[block].addr;
    m_pages_set_kind(m, block, M_CACHED);
    return true;
}

bool m_cache_give_back(model_t *m, unsigned cpu) {
    bool any = false;
    for (unsigned k = 0; k <= BSA_PAGE_CACHE_MAX_ORDER; k++)
        while (m->pages.cached[cpu][k] != 0) {
            uintptr_t addr = m->pages.cache[cpu][k][--m->pages.cached[cpu][k]];
            m_pages_release(m, m_pages_block_at(m, addr));
            any = true;
        }
    return any;
}

size_t m_cache_pages(const model_t *m) {
    size_t pages = 0;
    for (unsigned cpu = 0; cpu < M_MAX_CPUS; cpu++)
        for (unsigned k = 0; k <= BSA_PAGE_CACHE_MAX_ORDER; k++)
            pages += (size_t)m->pages.cached[cpu][k] << k;
    return pages;
}
