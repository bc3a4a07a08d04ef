/*
 * pages.c - the page part of the model: one byte per page, blocks by head address.
 *
 * A page request of order k may be served by a run of 2^k free pages at a page idx that
 * is a multiple of 2^k inside its section, whose address is a multiple of the alignment,
 * and for lowmem whose physical end is <= 4 GiB (the translator is linear per region).
 * Sections are searched in registration order, so the run must lie in the first section
 * that has one.
 *
 * page[] is the truth, changed only by set_pages, which re-derives the section's
 * indexes around the change: free pages, run[] (free pages from each idx on), the
 * maximal free blocks per order, so that a run test is O(1) and the per-op counters
 * need no scan. head[] maps a block's first page to its block[] entry.
 */
#include <string.h>

#include "model.h"

bool m_is_pow2(size_t x) { return x != 0 && (x & (x - 1)) == 0; }

int m_size_class(size_t size, size_t align) {
    if (align != 0 && !m_is_pow2(align))
        return -1;
    size_t need = size > align ? size : align;
    for (int c = 0; c < BSA_SIZE_CLASS_COUNT; c++)
        if (((size_t)8 << c) >= need)
            return c;
    return -1;
}

uintptr_t m_pages_highest_end(const model_t *m, uintptr_t floor) {
    uintptr_t e = floor;
    for (size_t i = 0; i < m->pages.nsec; i++)
        if (m->pages.sec[i].region_end > e)
            e = m->pages.sec[i].region_end;
    return e;
}

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
    m->pages.total = m->pages.free = 0;
    memset(m->pages.cached, 0, sizeof m->pages.cached);
    m->objs.n = 0;
    m->objs.round = 0;
    memset(m->objs.head, -1, sizeof m->objs.head);
    m->slabs.cpus = cpus;
    m->slabs.hi = 0;
    memset(m->slabs.cached, 0, sizeof m->slabs.cached);
    memset(&m->slabs.tally, 0, sizeof m->slabs.tally);
    memset(m->slabs.at, -1, sizeof m->slabs.at);
    m->slabs.window = 0;
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

/* Adds `sign` times the free blocks of [lo, hi), a span that starts and ends at a free
 * stretch's edges. Walking up from a free page at the end of the previous free block,
 * the block that starts there is the largest aligned, fitting, fully free one; a
 * stretch's blocks depend on that stretch alone. */
static void count_blocks(m_section_t *s, size_t lo, size_t hi, int sign) {
    for (size_t idx = lo; idx < hi;) {
        if (s->run[idx] == 0) {
            idx++;
            continue;
        }
        unsigned k = BSA_MAX_ORDER;
        while (k > 0 && (idx % ((size_t)1 << k) != 0 || ((size_t)1 << k) > s->run[idx]))
            k--;
        s->blocks[k] += (size_t)sign;
        idx += (size_t)1 << k;
    }
}

/* Sets pages [idx, idx + n) to `kind` and re-derives the indexes that can change: those
 * of the free stretches around the range, [lo, hi). Free pages outside it keep their
 * run (it ends before the range) and their blocks. */
static void set_pages(m_pages_t *mp, m_section_t *s, size_t idx, size_t n, unsigned kind) {
    size_t lo = idx, hi = idx + n, run = 0, freed = 0, taken = 0;
    while (lo > 0 && s->page[lo - 1] == M_FREE)
        lo--;
    while (hi < s->pages && s->page[hi] == M_FREE)
        hi++;
    count_blocks(s, lo, hi, -1);
    for (size_t i = idx; i < idx + n; i++) {
        taken += s->page[i] == M_FREE && kind != M_FREE;
        freed += s->page[i] != M_FREE && kind == M_FREE;
        s->page[i] = (uint8_t)kind;
    }
    for (size_t i = hi; i-- > lo;) { /* page[hi] is not free (or hi is the end) */
        run = s->page[i] == M_FREE ? run + 1 : 0;
        s->run[i] = (uint16_t)run;
    }
    count_blocks(s, lo, hi, +1);
    s->free = s->free + freed - taken;
    mp->free = mp->free + freed - taken;
}

void m_pages_add(model_t *m, uintptr_t rstart, uintptr_t rend, uintptr_t base, size_t pages,
                 uint64_t phys_base) {
    m_section_t *s = &m->pages.sec[m->pages.nsec++];
    s->region_start = rstart;
    s->region_end = rend;
    s->base = base;
    s->pages = pages;
    s->phys_base = phys_base;
    s->free = 0;
    memset(s->page, M_SLAB, pages); /* set_pages frees them all */
    memset(s->blocks, 0, sizeof s->blocks);
    memset(s->run, 0, pages * sizeof s->run[0]);
    memset(s->head, -1, pages * sizeof s->head[0]);
    m->pages.total += pages;
    set_pages(&m->pages, s, 0, pages, M_FREE);
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
    return s->run[idx] >= n;
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
                          bool lowmem, int fit_sec) {
    int sec = m_pages_section_of(m, addr);
    if (sec < 0)
        return "not in any section's managed pages";
    const m_section_t *s = &m->pages.sec[sec];
    if ((addr - s->base) % m->page_size != 0)
        return "not at a page start";
    if (!m_pages_run_ok(m, (size_t)sec, (addr - s->base) / m->page_size, k, align, lowmem))
        return "not a free, buddy-aligned, aligned (lowmem: below 4 GiB) run of 2^k pages";
    if (fit_sec != sec)
        return "an earlier-registered section has a run";
    return NULL;
}

void m_pages_take(model_t *m, uintptr_t addr, unsigned k, unsigned kind) {
    int sec = m_pages_section_of(m, addr);
    m_section_t *s = &m->pages.sec[sec];
    size_t idx = (addr - s->base) / m->page_size;
    set_pages(&m->pages, s, idx, (size_t)1 << k, kind);
    s->head[idx] = (int16_t)m->pages.nblocks;
    m->pages.block[m->pages.nblocks++] = (m_block_t){addr, k, kind};
}

/* The section and page idx of a block's head. */
static m_section_t *head_of(const model_t *m, uintptr_t addr, size_t *idx) {
    int sec = m_pages_section_of(m, addr);
    if (sec < 0)
        return NULL;
    m_section_t *s = (m_section_t *)&m->pages.sec[sec];
    if ((addr - s->base) % m->page_size != 0)
        return NULL;
    *idx = (addr - s->base) / m->page_size;
    return s;
}

int m_pages_block_at(const model_t *m, uintptr_t addr) {
    size_t idx;
    const m_section_t *s = head_of(m, addr, &idx);
    return s ? s->head[idx] : -1;
}

void m_pages_release(model_t *m, int block) {
    m_block_t *b = &m->pages.block[block];
    size_t idx = 0, moved_idx = 0;
    m_section_t *s = head_of(m, b->addr, &idx);
    set_pages(&m->pages, s, idx, (size_t)1 << b->order, M_FREE);
    s->head[idx] = -1;
    m_block_t *last = &m->pages.block[--m->pages.nblocks];
    if (last != b) { /* the last entry moves into the hole */
        head_of(m, last->addr, &moved_idx)->head[moved_idx] = (int16_t)block;
        *b = *last;
    }
}

size_t m_pages_total(const model_t *m) { return m->pages.total; }

size_t m_section_free(const m_section_t *s) { return s->free; }

size_t m_pages_free(const model_t *m) { return m->pages.free; }

void m_pages_free_blocks(const model_t *m, size_t out[BSA_MAX_ORDER + 1]) {
    memset(out, 0, sizeof(size_t) * (BSA_MAX_ORDER + 1));
    for (size_t sec = 0; sec < m->pages.nsec; sec++)
        for (unsigned k = 0; k <= BSA_MAX_ORDER; k++)
            out[k] += m->pages.sec[sec].blocks[k];
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

void m_pages_set_kind(model_t *m, int block, unsigned kind) {
    m_block_t *b = &m->pages.block[block];
    size_t idx = 0;
    m_section_t *s = head_of(m, b->addr, &idx);
    set_pages(&m->pages, s, idx, (size_t)1 << b->order, kind);
    b->kind = kind;
}
