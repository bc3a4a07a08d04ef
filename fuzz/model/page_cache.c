/*
 * page_cache.c - the model of exclusive mode's per-CPU page caches (bsa.h,
 * BSA_PAGE_CACHE_*): per CPU and order a stack of at most BSA_PAGE_CACHE_DEPTH blocks
 * that bsa_free_pages or a large bsa_free put there, or a refill took from the free
 * pages. A cached block is taken, not free (M_CACHED), and has no kind; a page or large
 * allocation on the same CPU gets the newest one back when it meets the alignment. A
 * free that finds its stack full frees the whole stack (a spill), then pushes the block.
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

/* Every block of the stack of order k freed; false if it held none. */
static bool spill(model_t *m, unsigned cpu, unsigned k) {
    bool any = m->pages.cached[cpu][k] != 0;
    while (m->pages.cached[cpu][k] != 0) {
        uintptr_t addr = m->pages.cache[cpu][k][--m->pages.cached[cpu][k]];
        m_pages_release(m, m_pages_block_at(m, addr));
    }
    return any;
}

void m_cache_free(model_t *m, unsigned cpu, int block) {
    unsigned k = m->pages.block[block].order;
    uintptr_t addr = m->pages.block[block].addr;
    if (m->pages.cached[cpu][k] == BSA_PAGE_CACHE_DEPTH) {
        spill(m, cpu, k);
        block = m_pages_block_at(m, addr); /* releases move the block table's entries */
    }
    m->pages.cache[cpu][k][m->pages.cached[cpu][k]++] = addr;
    m_pages_set_kind(m, block, M_CACHED);
}

void m_cache_take(model_t *m, unsigned cpu, unsigned k, uintptr_t addr) {
    m_pages_take(m, addr, k, M_CACHED);
    m->pages.cache[cpu][k][m->pages.cached[cpu][k]++] = addr;
}

bool m_cache_give_back(model_t *m, unsigned cpu) {
    bool any = false;
    for (unsigned k = 0; k <= BSA_PAGE_CACHE_MAX_ORDER; k++)
        any |= spill(m, cpu, k);
    return any;
}

size_t m_cache_pages(const model_t *m) {
    size_t pages = 0;
    for (unsigned cpu = 0; cpu < M_MAX_CPUS; cpu++)
        for (unsigned k = 0; k <= BSA_PAGE_CACHE_MAX_ORDER; k++)
            pages += (size_t)m->pages.cached[cpu][k] << k;
    return pages;
}
