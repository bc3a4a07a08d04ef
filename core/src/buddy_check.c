/*
 * buddy_check.c - bsa_buddy_check: verifies every buddy invariant of internal.h.
 *
 * Never trusts a link or an index before range-checking it, and bounds every walk by
 * a count it already knows, so a corrupted instance yields BSA_E_CORRUPT, not a hang.
 * O(total pages + sections). Same locking as the other buddy calls.
 */
#include "internal.h"

typedef struct tally {
    size_t free_pages;
    bsa__cached_tally_t cached; /* only a global allocator's page caches hold them */
    size_t free_blocks[BSA_MAX_ORDER + 1];
} tally_t;

static void tally_clear(tally_t *t) {
    t->free_pages = 0;
    t->cached.blocks = 0;
    t->cached.addr_sum = 0;
    for (unsigned k = 0; k <= BSA_MAX_ORDER; k++)
        t->free_blocks[k] = 0;
}

static bool is_free_head(const bsa__section_t *s, size_t idx, unsigned k) {
    return bsa__rec_info(s, idx) == bsa__info(BSA__KIND_FREE, k);
}

/* Free list of order k: well-linked, heads of free blocks of order k, bounded. */
static bool check_free_list(const bsa__section_t *s, unsigned k, size_t *blocks) {
    size_t seen = 0, limit = s->pages >> k;
    uint32_t prev = BSA__NIL;
    for (uint32_t h = s->free_head[k]; h != BSA__NIL; h = s->rec[h].next) {
        if (h >= s->pages || seen++ >= limit || !is_free_head(s, h, k) ||
            s->rec[h].prev != prev)
            return false;
        prev = h;
    }
    if ((seen != 0) != ((s->free_mask >> k) & 1u))
        return false;
    *blocks = seen;
    return true;
}

/* Walks the section block by block: every page is covered by exactly one block. */
static bool check_blocks(const bsa_buddy_t *b, const bsa__section_t *s, tally_t *t) {
    size_t idx = 0;
    while (idx < s->pages) {
        uint32_t info = bsa__rec_info(s, idx);
        unsigned kind = bsa__info_kind(info), k = bsa__info_order(info);
        if (kind == BSA__KIND_NONE || kind > BSA__KIND_CACHED || k > BSA_MAX_ORDER)
            return false;
        size_t n = (size_t)1 << k;
        if ((idx & (n - 1u)) != 0 || idx + n > s->pages)
            return false;
        for (size_t i = idx + 1; i < idx + n; i++)
            if (bsa__info_kind(bsa__rec_info(s, i)) != BSA__KIND_NONE)
                return false;
        if (kind == BSA__KIND_FREE) {
            size_t buddy = idx ^ n;
            if (k < BSA_MAX_ORDER && buddy + n <= s->pages && is_free_head(s, buddy, k))
                return false; /* two free buddies: a merge was missed */
            t->free_pages += n;
            t->free_blocks[k]++;
        }
        if (kind == BSA__KIND_CACHED) {
            t->cached.blocks++;
            t->cached.addr_sum += bsa__page_addr(b, s, idx);
        }
        idx += n;
    }
    return true;
}

static bool check_section(const bsa_buddy_t *b, const bsa__section_t *s, tally_t *total) {
    tally_t t;
    tally_clear(&t);
    if (s->pages == 0 || s->pages >= BSA__NIL || (s->base & (b->_page_size - 1u)) != 0 ||
        s->base < (uintptr_t)&s->rec[s->pages] || s->lowmem_pages > s->pages ||
        s->span != (uintptr_t)s->pages << b->_page_shift ||
        (s->free_mask >> (BSA_MAX_ORDER + 1)) != 0 || !check_blocks(b, s, &t) ||
        t.free_pages != s->free_pages)
        return false;
    for (unsigned k = 0; k <= BSA_MAX_ORDER; k++) {
        size_t listed;
        if (!check_free_list(s, k, &listed) || listed != t.free_blocks[k])
            return false;
        total->free_blocks[k] += listed;
    }
    total->free_pages += t.free_pages;
    total->cached.blocks += t.cached.blocks;
    total->cached.addr_sum += t.cached.addr_sum;
    return true;
}

/* Level 0 of the skip list: ascending, non-overlapping, exactly the registered sections. */
static bool check_skip_list(const bsa_buddy_t *b) {
    size_t seen = 0;
    uintptr_t prev_end = 0;
    for (const bsa__section_t *s = atomic_load_explicit(
             (_Atomic(bsa__section_t *) *)&b->_skip[0], memory_order_acquire);
         s != NULL; s = atomic_load_explicit((_Atomic(bsa__section_t *) *)&s->skip_next[0],
                                             memory_order_acquire)) {
        if (seen++ >= b->_section_count || s->region_start < prev_end ||
            bsa__section_find(b, s->base) != s)
            return false;
        prev_end = s->region_end;
    }
    return seen == b->_section_count;
}

bsa_status_t bsa__buddy_check(const bsa_buddy_t *b, bsa__cached_tally_t *cached) {
    if (!bsa__buddy_ready(b))
        return BSA_E_UNINIT;
    tally_t total;
    tally_clear(&total);
    size_t sections = 0, pages = 0;
    for (const bsa__section_t *s = b->_first; s != NULL; s = s->next_registered) {
        if (sections++ >= b->_section_count || !check_section(b, s, &total))
            return BSA_E_CORRUPT;
        pages += s->pages;
    }
    if (sections != b->_section_count || pages != b->_total_pages ||
        total.free_pages != b->_free_pages || !check_skip_list(b))
        return BSA_E_CORRUPT;
    for (unsigned k = 0; k <= BSA_MAX_ORDER; k++)
        if (total.free_blocks[k] != b->_free_blocks[k])
            return BSA_E_CORRUPT;
    *cached = total.cached;
    return BSA_OK;
}

/* A buddy of its own has no page caches: a CACHED record would be pages lost. */
bsa_status_t bsa_buddy_check(const bsa_buddy_t *b) {
    bsa__cached_tally_t cached;
    bsa_status_t st = bsa__buddy_check(b, &cached);
    return st != BSA_OK || cached.blocks == 0 ? st : BSA_E_CORRUPT;
}

bool bsa__buddy_visit(const bsa_buddy_t *b, unsigned kind, bsa__block_fn fn, void *ctx) {
    for (const bsa__section_t *s = b->_first; s != NULL; s = s->next_registered) {
        size_t idx = 0;
        while (idx < s->pages) {
            uint32_t info = bsa__rec_info(s, idx);
            if (bsa__info_kind(info) == kind &&
                !fn(ctx, bsa__page_addr(b, s, idx), bsa__info_order(info)))
                return false;
            idx += (size_t)1 << bsa__info_order(info);
        }
    }
    return true;
}
