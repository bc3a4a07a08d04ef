/*
 * pages.c - the page part of the model: one byte per page, blocks by head address.
 *
 * A page request of order k may be served by a run of 2^k free pages at a page idx that
 * is a multiple of 2^k inside its section, whose address is a multiple of the alignment,
 * and for lowmem whose physical end is <= 4 GiB (the translator is linear per region).
 * Sections are searched in registration order, so the run must lie in the first section
 * that has one. Everything is a plain scan.
 */
#include <string.h>

#include "model.h"

bool m_is_pow2(size_t x) { return x != 0 && (x & (x - 1)) == 0; }

unsigned m_order_of(size_t count) {
    unsigned k = 0;
    while (((size_t)1 << k) < count)
        k++;
    return k;
}

void m_reset(model_t *m, size_t page_size, unsigned cpus) {
    m->page_size = page_size;
    m->pages.page_size = page_size;
    m->pages.nsec = 0;
    m->pages.nblocks = 0;
    m->objs.n = 0;
    m->objs.round = 0;
    memset(m->objs.head, -1, sizeof m->objs.head);
    m->slabs.cpus = cpus;
    m->slabs.hi = 0;
    memset(m->slabs.cached, 0, sizeof m->slabs.cached);
    memset(m->slabs.pending, 0, sizeof m->slabs.pending);
    memset(m->bad_frees, 0, sizeof m->bad_frees);
}

bool m_pages_overlaps(const model_t *m, uintptr_t start, uintptr_t end) {
    for (size_t i = 0; i < m->pages.nsec; i++) {
        const m_section_t *s = &m->pages.sec[i];
        if (start < s->region_end && s->region_start < end)
            return true;
    }
    return false;
}

void m_pages_add(model_t *m, uintptr_t rstart, uintptr_t rend, uintptr_t base, size_t pages,
                 uint64_t phys_base) {
    m_section_t *s = &m->pages.sec[m->pages.nsec++];
    s->region_start = rstart;
    s->region_end = rend;
    s->base = base;
    s->pages = pages;
    s->phys_base = phys_base;
    memset(s->page, M_FREE, pages);
}

int m_pages_section_of(const model_t *m, uintptr_t addr) {
    for (size_t i = 0; i < m->pages.nsec; i++) {
        const m_section_t *s = &m->pages.sec[i];
        if (addr >= s->base && addr - s->base < s->pages * m->page_size)
            return (int)i;
    }
    return -1;
}

bool m_pages_run_ok(const model_t *m, size_t sec, size_t idx, unsigned k, size_t align,
                    bool lowmem) {
    const m_section_t *s = &m->pages.sec[sec];
    size_t n = (size_t)1 << k;
    uintptr_t addr = s->base + idx * m->page_size;
    if (idx % n != 0 || n > s->pages || idx > s->pages - n || addr % align != 0)
        return false;
    if (lowmem && s->phys_base + (uint64_t)(idx + n) * m->page_size > M_4G)
        return false;
    for (size_t i = idx; i < idx + n; i++)
        if (s->page[i] != M_FREE)
            return false;
    return true;
}

int m_pages_first_fit(const model_t *m, unsigned k, size_t align, bool lowmem, size_t *idx) {
    size_t n = (size_t)1 << k;
    for (size_t sec = 0; sec < m->pages.nsec; sec++) {
        size_t pages = m->pages.sec[sec].pages;
        for (size_t i = 0; n <= pages && i <= pages - n; i += n) {
            if (m_pages_run_ok(m, sec, i, k, align, lowmem)) {
                *idx = i;
                return (int)sec;
            }
        }
    }
    return -1;
}

const char *m_pages_judge(const model_t *m, uintptr_t addr, unsigned k, size_t align,
                          bool lowmem) {
    int sec = m_pages_section_of(m, addr);
    size_t first_idx;
    if (sec < 0)
        return "not in any section's managed pages";
    const m_section_t *s = &m->pages.sec[sec];
    if ((addr - s->base) % m->page_size != 0)
        return "not at a page start";
    if (!m_pages_run_ok(m, (size_t)sec, (addr - s->base) / m->page_size, k, align, lowmem))
        return "not a free, buddy-aligned, aligned (lowmem: below 4 GiB) run of 2^k pages";
    if (m_pages_first_fit(m, k, align, lowmem, &first_idx) != sec)
        return "an earlier-registered section has a run";
    return NULL;
}

void m_pages_take(model_t *m, uintptr_t addr, unsigned k, unsigned kind) {
    int sec = m_pages_section_of(m, addr);
    m_section_t *s = &m->pages.sec[sec];
    size_t idx = (addr - s->base) / m->page_size;
    memset(&s->page[idx], (int)kind, (size_t)1 << k);
    m->pages.block[m->pages.nblocks++] = (m_block_t){addr, k, kind};
}

int m_pages_block_at(const model_t *m, uintptr_t addr) {
    for (size_t i = 0; i < m->pages.nblocks; i++)
        if (m->pages.block[i].addr == addr)
            return (int)i;
    return -1;
}

void m_pages_release(model_t *m, int block) {
    m_block_t *b = &m->pages.block[block];
    int sec = m_pages_section_of(m, b->addr);
    m_section_t *s = &m->pages.sec[sec];
    memset(&s->page[(b->addr - s->base) / m->page_size], M_FREE, (size_t)1 << b->order);
    *b = m->pages.block[--m->pages.nblocks];
}

size_t m_pages_total(const model_t *m) {
    size_t n = 0;
    for (size_t i = 0; i < m->pages.nsec; i++)
        n += m->pages.sec[i].pages;
    return n;
}

size_t m_section_free(const m_section_t *s) {
    size_t n = 0;
    for (size_t i = 0; i < s->pages; i++)
        n += s->page[i] == M_FREE;
    return n;
}

size_t m_pages_free(const model_t *m) {
    size_t n = 0;
    for (size_t i = 0; i < m->pages.nsec; i++)
        n += m_section_free(&m->pages.sec[i]);
    return n;
}

static bool all_free(const m_section_t *s, size_t idx, size_t n) {
    for (size_t i = idx; i < idx + n; i++)
        if (s->page[i] != M_FREE)
            return false;
    return true;
}

/* Walking up from a free page at the end of the previous free block, the block that
 * starts there is the largest aligned, fitting, fully free one. */
void m_pages_free_blocks(const model_t *m, size_t out[BSA_MAX_ORDER + 1]) {
    memset(out, 0, sizeof(size_t) * (BSA_MAX_ORDER + 1));
    for (size_t sec = 0; sec < m->pages.nsec; sec++) {
        const m_section_t *s = &m->pages.sec[sec];
        size_t idx = 0;
        while (idx < s->pages) {
            if (s->page[idx] != M_FREE) {
                idx++;
                continue;
            }
            unsigned k = BSA_MAX_ORDER;
            while (k > 0 && (idx % ((size_t)1 << k) != 0 || idx + ((size_t)1 << k) > s->pages ||
                             !all_free(s, idx, (size_t)1 << k)))
                k--;
            out[k]++;
            idx += (size_t)1 << k;
        }
    }
}

uintptr_t m_pages_nth_free(const model_t *m, size_t n) {
    size_t total = m_pages_free(m);
    if (total == 0)
        return 0;
    n %= total;
    for (size_t sec = 0; sec < m->pages.nsec; sec++) {
        const m_section_t *s = &m->pages.sec[sec];
        for (size_t i = 0; i < s->pages; i++)
            if (s->page[i] == M_FREE && n-- == 0)
                return s->base + i * m->page_size;
    }
    return 0;
}
