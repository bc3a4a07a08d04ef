/*
 * buddy.c - the buddy page allocator: free lists, split, merge, and its public calls.
 *
 * Owns: per-section free lists (one per order, linked through page records by index),
 * the instance counters (free pages, free blocks per order).
 * Invariants: see internal.h; bsa_buddy_check verifies them.
 * Locks: none; the caller serialises (the global allocator holds its buddy lock).
 * Section lookups (bsa__section_find, bsa__buddy_find) are the only lock-free readers.
 */
#include "internal.h"

static size_t pages_of(unsigned order) { return (size_t)1 << order; }

static void freelist_push(bsa_buddy_t *b, bsa__section_t *s, size_t idx, unsigned k) {
    uint32_t old = s->free_head[k];
    s->rec[idx].prev = BSA__NIL;
    s->rec[idx].next = old;
    if (old != BSA__NIL)
        s->rec[old].prev = (uint32_t)idx;
    s->free_head[k] = (uint32_t)idx;
    s->free_mask |= 1u << k;
    bsa__rec_set(s, idx, BSA__KIND_FREE, k);
    s->free_pages += pages_of(k);
    b->_free_pages += pages_of(k);
    b->_free_blocks[k]++;
}

/* Unlinks a free block; its record becomes NONE until the caller gives it a kind. */
static void freelist_remove(bsa_buddy_t *b, bsa__section_t *s, size_t idx, unsigned k) {
    uint32_t next = s->rec[idx].next, prev = s->rec[idx].prev;
    if (prev != BSA__NIL)
        s->rec[prev].next = next;
    else
        s->free_head[k] = next;
    if (next != BSA__NIL)
        s->rec[next].prev = prev;
    if (s->free_head[k] == BSA__NIL)
        s->free_mask &= ~(1u << k);
    bsa__rec_set(s, idx, BSA__KIND_NONE, 0);
    s->free_pages -= pages_of(k);
    b->_free_pages -= pages_of(k);
    b->_free_blocks[k]--;
}

/* Free blocks, low to high: the largest naturally aligned block that fits each time. */
static void seed_free_blocks(bsa_buddy_t *b, bsa__section_t *s) {
    size_t idx = 0;
    while (idx < s->pages) {
        unsigned k = idx ? bsa__ctz(idx) : BSA_MAX_ORDER;
        if (k > BSA_MAX_ORDER)
            k = BSA_MAX_ORDER;
        while (idx + pages_of(k) > s->pages)
            k--;
        freelist_push(b, s, idx, k);
        idx += pages_of(k);
    }
}

typedef struct candidate {
    size_t head;     /* free block to take apart */
    unsigned order;  /* its order                */
    size_t target;   /* page idx of the 2^k run   */
} candidate_t;

/*
 * First free block (lowest order first) holding a 2^k run at a page idx that is a
 * multiple of 2^k, whose address is a multiple of `align`, inside [0, limit).
 * With A = align in pages and B = base in pages, the run's idx t needs t = -B (mod A);
 * r below is that residue. The lowest such t in a block is the best for `limit`.
 */
static bool find_run(const bsa_buddy_t *b, const bsa__section_t *s, unsigned k, size_t align,
                     size_t limit, candidate_t *out) {
    size_t a_pages = align >> b->_page_shift;
    size_t r = (0u - (size_t)(s->base >> b->_page_shift)) & (a_pages - 1u);
    if ((r & (pages_of(k) - 1u)) != 0 || pages_of(k) > limit)
        return false; /* no 2^k-aligned idx in this section meets `align` */
    for (uint32_t mask = s->free_mask >> k << k; mask != 0; mask &= mask - 1u) {
        unsigned j = bsa__ctz(mask);
        for (uint32_t h = s->free_head[j]; h != BSA__NIL; h = s->rec[h].next) {
            size_t t = h + ((r - h) & (a_pages - 1u));
            if (t + pages_of(k) <= h + pages_of(j) && t + pages_of(k) <= limit) {
                out->head = h;
                out->order = j;
                out->target = t;
                return true;
            }
        }
    }
    return false;
}

/* Takes the run out of its free block; the halves that are not on the way go back.
 * Inlined into both callers: as a call it cost bsa__buddy_alloc 23-27 instructions per
 * allocation (saved registers). */
static BSA__ALWAYS_INLINE void carve(bsa_buddy_t *b, bsa__section_t *s, const candidate_t *c,
                                     unsigned k, unsigned kind) {
    size_t h = c->head;
    unsigned j = c->order;
    freelist_remove(b, s, h, j);
    while (j > k) {
        j--;
        if (c->target >= h + pages_of(j)) {
            freelist_push(b, s, h, j);
            h += pages_of(j);
        } else {
            freelist_push(b, s, h + pages_of(j), j);
        }
    }
    bsa__rec_set(s, h, kind, k);
}

bsa_status_t bsa__buddy_alloc(bsa_buddy_t *b, unsigned order, size_t align, bool lowmem,
                              unsigned kind, void **out) {
    for (bsa__section_t *s = b->_first; s != NULL; s = s->next_registered) {
        candidate_t c;
        if ((s->free_mask >> order) == 0)
            continue;
        if (find_run(b, s, order, align, lowmem ? s->lowmem_pages : s->pages, &c)) {
            carve(b, s, &c, order, kind);
            *out = (void *)bsa__page_addr(b, s, c.target);
            return BSA_OK;
        }
    }
    return BSA_E_NOMEM;
}

bool bsa__buddy_alloc_run(bsa_buddy_t *b, unsigned k, unsigned shift, unsigned kind,
                          unsigned rest, uintptr_t *out) {
    for (bsa__section_t *s = b->_first; s != NULL; s = s->next_registered) {
        if ((s->free_mask >> k) == 0)
            continue; /* bsa__buddy_alloc passes this section by too */
        uint32_t mask = s->free_mask >> (k + shift) << (k + shift);
        if (mask == 0)
            return false; /* only smaller free blocks here: the caller takes those */
        /* find_run's answer for a page-aligned run: the head of the lowest-order list
         * that holds one. Calling find_run instead, its second caller, cost it its
         * inlining: 3-5 more instructions per uncached page pair, 8 per batched one. */
        unsigned j = bsa__ctz(mask);
        candidate_t c = {.head = s->free_head[j], .order = j, .target = s->free_head[j]};
        carve(b, s, &c, k + shift, rest);
        /* A record per block of the run, as calls one at a time would leave them. */
        for (size_t i = ((size_t)1 << shift) - 1u; i != 0; i--) {
            bsa__rec_set(s, c.target + (i << k), rest, k);
            out[i] = bsa__page_addr(b, s, c.target + (i << k));
        }
        bsa__rec_set(s, c.target, kind, k);
        out[0] = bsa__page_addr(b, s, c.target);
        return true;
    }
    return false;
}

bool bsa__buddy_find(const bsa_buddy_t *b, uintptr_t addr, bsa__block_t *out) {
    bsa__section_t *s = bsa__section_find(b, addr);
    return s != NULL && bsa__buddy_find_in(b, s, addr, out);
}

/* The head page of the block that holds page `idx` of `s`: a block's head is its page
 * idx with low bits cleared, so the candidates are idx with its lowest set bits cleared
 * one at a time, and the first with a record of a head decides; *info is that record.
 * SIZE_MAX: none, or a record whose block does not reach idx (inconsistent records:
 * refuse rather than guess). Lock-free, as the records it reads are atomic. */
static size_t block_head(const bsa__section_t *s, size_t idx, uint32_t *info) {
    for (size_t head = idx;; head &= head - 1u) {
        *info = bsa__rec_info(s, head);
        if (bsa__info_kind(*info) != BSA__KIND_NONE)
            return idx - head < ((size_t)1 << bsa__info_order(*info)) ? head : SIZE_MAX;
        if (head == 0)
            return SIZE_MAX;
    }
}

bool bsa__buddy_find_in(const bsa_buddy_t *b, bsa__section_t *s, uintptr_t addr,
                        bsa__block_t *out) {
    size_t idx = bsa__page_idx(b, s, addr);
    uint32_t info;
    size_t head = block_head(s, idx, &info);
    if (head == SIZE_MAX)
        return false;
    out->sec = s;
    out->head = head;
    out->kind = bsa__info_kind(info);
    out->order = bsa__info_order(info);
    return true;
}

/* bsa__buddy_free's work once the section is known; inlined into both entry points. */
static inline bsa_status_t free_in(bsa_buddy_t *b, bsa__section_t *s, void *addr,
                                   unsigned kind, unsigned order) {
    uintptr_t off = (uintptr_t)addr - s->base;
    if ((off & (b->_page_size - 1u)) != 0)
        return BSA_E_BAD_FREE;
    size_t idx = (size_t)(off >> b->_page_shift);
    if (bsa__rec_info(s, idx) != bsa__info(kind, order))
        return BSA_E_BAD_FREE;
    bsa__rec_set(s, idx, BSA__KIND_NONE, 0);
    unsigned k = order;
    while (k < BSA_MAX_ORDER) {
        size_t buddy = idx ^ pages_of(k);
        if (buddy + pages_of(k) > s->pages ||
            bsa__rec_info(s, buddy) != bsa__info(BSA__KIND_FREE, k))
            break;
        freelist_remove(b, s, buddy, k);
        idx &= buddy;
        k++;
    }
    freelist_push(b, s, idx, k);
    return BSA_OK;
}

bsa_status_t bsa__buddy_free_run_in(bsa_buddy_t *b, bsa__section_t *s, uintptr_t addr,
                                    unsigned kind, unsigned k, unsigned shift) {
    size_t head = bsa__page_idx(b, s, addr);
    for (size_t i = ((size_t)1 << shift) - 1u; i != 0; i--)
        bsa__rec_set(s, head + (i << k), BSA__KIND_NONE, 0);
    bsa__rec_set(s, head, kind, k + shift);
    return free_in(b, s, (void *)addr, kind, k + shift);
}

bsa_status_t bsa__buddy_free(bsa_buddy_t *b, void *addr, unsigned kind, unsigned order) {
    bsa__section_t *s = bsa__section_find(b, (uintptr_t)addr);
    return s != NULL ? free_in(b, s, addr, kind, order) : BSA_E_BAD_FREE;
}

bsa_status_t bsa__buddy_free_in(bsa_buddy_t *b, bsa__section_t *s, void *addr, unsigned kind,
                                unsigned order) {
    return free_in(b, s, addr, kind, order);
}

bool bsa__buddy_ready(const bsa_buddy_t *b) {
    return b != NULL && b->_magic == BSA__BUDDY_MAGIC;
}

/* ---- public calls ---------------------------------------------------------------- */

bsa_status_t bsa_buddy_add_region(bsa_buddy_t *b, void *region, size_t len) {
    if (!bsa__buddy_ready(b))
        return BSA_E_UNINIT;
    bsa__section_t *s;
    bsa_status_t st = bsa__section_create(b, region, len, &s);
    if (st != BSA_OK)
        return st;
    seed_free_blocks(b, s);
    b->_total_pages += s->pages;
    bsa__section_publish(b, s);
    return BSA_OK;
}

bsa_status_t bsa_buddy_init(bsa_buddy_t *b, size_t page_size, const bsa_ops_t *ops,
                            void *region, size_t len) {
    if (b == NULL || !bsa__is_pow2(page_size) || page_size < BSA_MIN_PAGE_SIZE ||
        page_size > BSA_MAX_PAGE_SIZE)
        return BSA_E_INVALID;
    bsa_status_t st = bsa__section_check_region(page_size, region, len);
    if (st != BSA_OK)
        return st;
    b->_magic = 0;
    b->_page_size = page_size;
    b->_page_shift = bsa__log2(page_size);
    bsa__ops_copy(&b->_ops, ops);
    b->_first = b->_last = NULL;
    for (unsigned l = 0; l < BSA__SKIP_LEVELS; l++)
        atomic_init(&b->_skip[l], NULL);
    atomic_init(&b->_skip_levels, 0);
    b->_section_count = 0;
    b->_total_pages = b->_free_pages = 0;
    for (unsigned k = 0; k <= BSA_MAX_ORDER; k++)
        b->_free_blocks[k] = 0;
    b->_magic = BSA__BUDDY_MAGIC;
    return bsa_buddy_add_region(b, region, len);
}

static bsa_status_t alloc_pages(bsa_buddy_t *b, size_t count, size_t align, bool lowmem,
                                void **out) {
    if (!bsa__buddy_ready(b))
        return BSA_E_UNINIT;
    unsigned order;
    if (out == NULL)
        return BSA_E_INVALID;
    bsa_status_t st = bsa__buddy_request(b, count, &align, &order);
    if (st != BSA_OK)
        return st;
    return bsa__buddy_alloc(b, order, align, lowmem, BSA__KIND_PAGES, out);
}

bsa_status_t bsa_buddy_alloc_pages(bsa_buddy_t *b, size_t count, size_t align, void **out) {
    return alloc_pages(b, count, align, false, out);
}

bsa_status_t bsa_buddy_alloc_pages_lowmem(bsa_buddy_t *b, size_t count, size_t align,
                                          void **out) {
    return alloc_pages(b, count, align, true, out);
}

bsa_status_t bsa_buddy_free_pages(bsa_buddy_t *b, void *addr, size_t count) {
    if (!bsa__buddy_ready(b))
        return BSA_E_UNINIT;
    if (count == 0 || count > BSA_MAX_COUNT)
        return BSA_E_INVALID;
    return bsa__buddy_free(b, addr, BSA__KIND_PAGES, bsa__order_of(count));
}

size_t bsa_buddy_section_count(const bsa_buddy_t *b) {
    return bsa__buddy_ready(b) ? b->_section_count : 0;
}

bsa_status_t bsa_buddy_section(const bsa_buddy_t *b, size_t index, bsa_section_info_t *out) {
    if (!bsa__buddy_ready(b))
        return BSA_E_UNINIT;
    if (out == NULL || index >= b->_section_count)
        return BSA_E_INVALID;
    const bsa__section_t *s = b->_first;
    while (index-- > 0)
        s = s->next_registered;
    out->start = (void *)s->base;
    out->total_pages = s->pages;
    out->bytes = s->pages << b->_page_shift;
    out->free_pages = s->free_pages;
    return BSA_OK;
}

size_t bsa_buddy_managed_bytes(const bsa_buddy_t *b) {
    return bsa__buddy_ready(b) ? b->_total_pages << b->_page_shift : 0;
}

size_t bsa_buddy_allocated_bytes(const bsa_buddy_t *b) {
    return bsa__buddy_ready(b) ? (b->_total_pages - b->_free_pages) << b->_page_shift : 0;
}

size_t bsa_buddy_free_blocks(const bsa_buddy_t *b, unsigned order) {
    return bsa__buddy_ready(b) && order <= BSA_MAX_ORDER ? b->_free_blocks[order] : 0;
}
