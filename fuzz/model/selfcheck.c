/*
 * selfcheck.c - m_selfcheck: the model's indexes against a plain rescan of its state.
 *
 * pages.c and slabs.c keep summaries (free pages, free runs, free blocks, block heads,
 * per-class tallies, the slab map) so that a per-op check costs O(1) instead of a scan.
 * Here each is derived again the slow, obvious way, from page[] and the slot bytes
 * alone. The harnesses call this once per input: an index that fell out of step is a
 * model bug, and it fails the input instead of silently weakening the comparison.
 */
#include <string.h>

#include "model.h"

_Static_assert(M_MAX_PAGES <= UINT16_MAX, "run[] holds page counts in 16 bits");
_Static_assert(M_MAX_BLOCKS <= INT16_MAX && M_MAX_SLABS <= INT16_MAX, "16-bit indexes");

static bool all_free(const m_section_t *s, size_t idx, size_t n) {
    for (size_t i = idx; i < idx + n; i++)
        if (s->page[i] != M_FREE)
            return false;
    return true;
}

static const char *check_section(const m_section_t *s, size_t *free) {
    size_t blocks[BSA_MAX_ORDER + 1] = {0}, n = 0, run = 0;
    for (size_t i = s->pages; i-- > 0;) {
        run = s->page[i] == M_FREE ? run + 1 : 0; /* free pages from i on */
        if (s->run[i] != run)
            return "run[] (free pages from a page on)";
        n += s->page[i] == M_FREE;
    }
    if (s->free != n)
        return "a section's free pages";
    *free += n;
    for (size_t idx = 0; idx < s->pages;) {
        if (s->page[idx] != M_FREE) {
            idx++;
            continue;
        }
        unsigned k = BSA_MAX_ORDER;
        while (k > 0 && (idx % ((size_t)1 << k) != 0 || idx + ((size_t)1 << k) > s->pages ||
                         !all_free(s, idx, (size_t)1 << k)))
            k--;
        blocks[k]++;
        idx += (size_t)1 << k;
    }
    if (memcmp(blocks, s->blocks, sizeof blocks) != 0)
        return "a section's free blocks per order";
    return NULL;
}

/* Every block is found at its head, and no other page claims one. */
static const char *check_heads(const model_t *m) {
    size_t heads = 0;
    for (size_t i = 0; i < m->pages.nsec; i++)
        for (size_t p = 0; p < m->pages.sec[i].pages; p++)
            heads += m->pages.sec[i].head[p] >= 0;
    if (heads != m->pages.nblocks)
        return "head[] (pages that name a block)";
    for (size_t b = 0; b < m->pages.nblocks; b++)
        if (m_pages_block_at(m, m->pages.block[b].addr) != (int)b)
            return "head[] (the block at a page)";
    return NULL;
}

/* Each cache entry is an M_CACHED block of its order, and every M_CACHED block is an
 * entry (as many of them as entries; a block cached twice would leave one short). */
static const char *check_caches(const model_t *m) {
    size_t entries = 0, blocks = 0;
    for (unsigned cpu = 0; cpu < M_MAX_CPUS; cpu++)
        for (unsigned k = 0; k <= BSA_PAGE_CACHE_MAX_ORDER; k++) {
            if (m->pages.cached[cpu][k] > BSA_PAGE_CACHE_DEPTH)
                return "a page cache deeper than BSA_PAGE_CACHE_DEPTH";
            for (unsigned i = 0; i < m->pages.cached[cpu][k]; i++, entries++) {
                int b = m_pages_block_at(m, m->pages.cache[cpu][k][i]);
                if (b < 0 || m->pages.block[b].kind != M_CACHED || m->pages.block[b].order != k)
                    return "a page cache entry that is not a cached block of its order";
            }
        }
    for (size_t b = 0; b < m->pages.nblocks; b++)
        blocks += m->pages.block[b].kind == M_CACHED;
    return blocks == entries ? NULL : "cached blocks that no page cache holds";
}

static const char *check_pages(const model_t *m) {
    size_t total = 0, free = 0;
    for (size_t i = 0; i < m->pages.nsec; i++) {
        const char *why = check_section(&m->pages.sec[i], &free);
        if (why)
            return why;
        total += m->pages.sec[i].pages;
    }
    if (total != m->pages.total || free != m->pages.free)
        return "the model's total or free pages";
    const char *why = check_heads(m);
    return why ? why : check_caches(m);
}

/* The tally against a scan, and the slab map: each slab's granules name it, no other
 * granule names a slab. */
static const char *check_slabs(const model_t *m) {
    const m_slabs_t *ms = &m->slabs;
    m_tally_t t;
    m_slab_tally_scan(m, &t);
    if (memcmp(&t, &ms->tally, sizeof t) != 0)
        return "the per-CPU, per-class tally";
    size_t mapped = 0, want = 0;
    for (size_t g = 0; g < M_WINDOW_BYTES / M_GRANULE; g++)
        mapped += ms->at[g] >= 0;
    for (size_t i = 0; i < ms->hi; i++) {
        const m_slab_t *s = &ms->slab[i];
        if (!s->used)
            continue;
        for (size_t off = 0; off < s->bytes; off += M_GRANULE, want++)
            if (m_slab_of(m, s->base + off) != (int)i)
                return "at[] (the slab over a granule)";
    }
    return mapped == want ? NULL : "at[] (granules that name a slab)";
}

const char *m_selfcheck(const model_t *m) {
    const char *why = check_pages(m);
    return why ? why : check_slabs(m);
}
