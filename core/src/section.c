/*
 * section.c - turning a region into a section, and finding the section of an address.
 *
 * Owns: the region layout (section header, one bsa__page_t per managed page, then
 * whole pages), the registration list (allocation order) and the address-sorted skip
 * list that lookups walk without a lock.
 * Locks: none here. Creation and publication run under the buddy's caller's
 * serialisation (the global allocator's buddy lock); bsa__section_find may run
 * concurrently with one publisher.
 */
#include "internal.h"

#define BSA__MAX_SECTION_PAGES ((size_t)BSA__NIL - 1u) /* page idx must fit 32 bits */

typedef struct bsa__layout {
    uintptr_t header;   /* where the section header goes           */
    uintptr_t base;     /* first managed page                      */
    size_t pages;       /* managed pages                           */
} bsa__layout_t;

static uintptr_t align_up(uintptr_t x, uintptr_t a) { return (x + a - 1u) & ~(a - 1u); }

static uintptr_t layout_base(uintptr_t header, size_t pages, size_t base_align) {
    return align_up(header + sizeof(bsa__section_t) + pages * sizeof(bsa__page_t), base_align);
}

/*
 * Alignment of the first managed page. Blocks are buddy-aligned relative to their
 * section, so a run of 2^k pages aligned to A pages exists only where the section base
 * is aligned to min(2^k, A) pages: the stronger the base alignment, the more aligned
 * requests (and multi-page slabs) can be met. Take the largest power of two whose worst
 * case still keeps everything lost before the first page - header, page records and
 * padding - within the budget of 0.5% of the region plus one page.
 */
static size_t base_alignment(size_t len, size_t page_size) {
    size_t budget = len / 200u + page_size;
    size_t records = sizeof(bsa__section_t) + _Alignof(bsa__section_t) +
                     (len / page_size) * sizeof(bsa__page_t);
    size_t align = page_size;
    while (align < (page_size << BSA_MAX_ORDER) && records + 2u * align <= budget + 1u)
        align <<= 1;
    return align;
}

/* Pure: where the metadata and pages of `region` would go. Writes nothing. */
static bsa_status_t section_layout(void *region, size_t len, size_t page_size,
                                   bsa__layout_t *out) {
    uintptr_t start = (uintptr_t)region;
    if (region == NULL || len == 0 || start + len < start)
        return BSA_E_INVALID;
    uintptr_t end = start + len;
    uintptr_t header = align_up(start, _Alignof(bsa__section_t));
    if (header < start || header >= end)
        return BSA_E_INVALID; /* wrapped at the top of the address space, or no room */
    size_t base_align = base_alignment(len, page_size);
    /* Padding may cost up to one base_align beyond the estimate; the loop corrects it. */
    size_t room = header + sizeof(bsa__section_t) + page_size < end
                      ? (size_t)(end - header - sizeof(bsa__section_t))
                      : 0;
    size_t pages = room / (page_size + sizeof(bsa__page_t));
    if (pages > BSA__MAX_SECTION_PAGES)
        pages = BSA__MAX_SECTION_PAGES;
    while (pages > 0 && (layout_base(header, pages, base_align) > end ||
                         end - layout_base(header, pages, base_align) < pages * page_size))
        pages--;
    if (pages == 0)
        return BSA_E_INVALID;
    out->header = header;
    out->base = layout_base(header, pages, base_align);
    out->pages = pages;
    return BSA_OK;
}

static bool overlaps_existing(const bsa_buddy_t *b, uintptr_t start, uintptr_t end) {
    for (const bsa__section_t *s = b->_first; s != NULL; s = s->next_registered)
        if (start < s->region_end && s->region_start < end)
            return true;
    return false;
}

/* Skip-list height from the section address: deterministic, about half as many nodes
 * on each level up. A fixed multiplier spreads clustered addresses. */
static unsigned skip_levels(uintptr_t base) {
    uint64_t h = (uint64_t)base * 0x9e3779b97f4a7c15ull;
    unsigned levels = 1;
    while (levels < BSA__SKIP_LEVELS && ((h >> (40u + levels)) & 1u))
        levels++;
    return levels;
}

static size_t lowmem_pages(const bsa_buddy_t *b, uintptr_t base, size_t pages) {
    uint64_t phys = b->_ops.virt_to_phys ? b->_ops.virt_to_phys(b->_ops.ctx, base)
                                          : (uint64_t)base;
    if (phys >= BSA_DMA32_LIMIT)
        return 0;
    uint64_t below = (BSA_DMA32_LIMIT - phys) >> b->_page_shift;
    return below < pages ? (size_t)below : pages;
}

bsa_status_t bsa__section_check_region(size_t page_size, void *region, size_t len) {
    bsa__layout_t lay;
    return section_layout(region, len, page_size, &lay);
}

bsa_status_t bsa__section_create(bsa_buddy_t *b, void *region, size_t len,
                                 bsa__section_t **out) {
    bsa__layout_t lay;
    bsa_status_t st = section_layout(region, len, b->_page_size, &lay);
    if (st != BSA_OK)
        return st;
    uintptr_t start = (uintptr_t)region;
    if (overlaps_existing(b, start, start + len))
        return BSA_E_OVERLAP;

    bsa__section_t *s = (bsa__section_t *)lay.header;
    s->region_start = start;
    s->region_end = start + len;
    s->base = lay.base;
    s->pages = lay.pages;
    s->span = (uintptr_t)lay.pages << b->_page_shift;
    s->lowmem_pages = lowmem_pages(b, lay.base, lay.pages);
    s->free_pages = 0;
    s->free_mask = 0;
    for (unsigned k = 0; k <= BSA_MAX_ORDER; k++)
        s->free_head[k] = BSA__NIL;
    s->levels = skip_levels(lay.base);
    s->next_registered = NULL;
    for (unsigned l = 0; l < BSA__SKIP_LEVELS; l++)
        atomic_init(&s->skip_next[l], NULL);
    for (size_t i = 0; i < lay.pages; i++)
        atomic_init(&s->rec[i].info, bsa__info(BSA__KIND_NONE, 0));
    *out = s;
    return BSA_OK;
}

void bsa__section_claim_prefix(bsa__section_t *s, uintptr_t start) {
    if (start < s->region_start)
        s->region_start = start;
}

/* The link slot that follows `node` on `level`; the list head when node is NULL. */
static _Atomic(bsa__section_t *) *skip_link(const bsa_buddy_t *b, const bsa__section_t *node,
                                            unsigned level) {
    return node ? (_Atomic(bsa__section_t *) *)&node->skip_next[level]
                : (_Atomic(bsa__section_t *) *)&b->_skip[level];
}

void bsa__section_publish(bsa_buddy_t *b, bsa__section_t *s) {
    if (b->_last)
        b->_last->next_registered = s;
    else
        b->_first = s;
    b->_last = s;
    b->_section_count++;

    _Atomic(bsa__section_t *) *pred[BSA__SKIP_LEVELS];
    bsa__section_t *node = NULL;
    for (unsigned l = BSA__SKIP_LEVELS; l-- > 0;) {
        for (;;) {
            /* Relaxed: only the publisher (us) writes links. */
            bsa__section_t *next = atomic_load_explicit(skip_link(b, node, l),
                                                        memory_order_relaxed);
            if (next == NULL || next->base > s->base)
                break;
            node = next;
        }
        pred[l] = skip_link(b, node, l);
    }
    for (unsigned l = 0; l < s->levels; l++)
        atomic_store_explicit(&s->skip_next[l],
                              atomic_load_explicit(pred[l], memory_order_relaxed),
                              memory_order_relaxed);
    /* Release: a reader that sees `s` through a link also sees its header, records and
     * own links. Level 0 first, so every published upper link leads into a complete
     * level-0 list. */
    for (unsigned l = 0; l < s->levels; l++)
        atomic_store_explicit(pred[l], s, memory_order_release);
    /* Lookups start at the highest level in use (one level for a few sections, not
     * all 8). Any value is safe for a reader: level 0 alone finds every section, a
     * higher start only skips more. Release: the new links above are visible first. */
    if (s->levels > atomic_load_explicit(&b->_skip_levels, memory_order_relaxed))
        atomic_store_explicit(&b->_skip_levels, s->levels, memory_order_release);
}

bsa__section_t *bsa__section_find(const bsa_buddy_t *b, uintptr_t addr) {
    bsa__section_t *node = NULL;
    /* Acquire: pairs with the release store in bsa__section_publish. */
    unsigned top = atomic_load_explicit((_Atomic unsigned *)&b->_skip_levels,
                                        memory_order_acquire);
    for (unsigned l = top; l-- > 0;) {
        for (;;) {
            /* Acquire: pairs with the release in bsa__section_publish. */
            bsa__section_t *next = atomic_load_explicit(skip_link(b, node, l),
                                                        memory_order_acquire);
            if (next == NULL || next->base > addr)
                break;
            node = next;
        }
    }
    if (node && bsa__section_holds(node, addr))
        return node;
    return NULL;
}
