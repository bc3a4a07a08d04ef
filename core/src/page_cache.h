/*
 * page_cache.h - exclusive mode's per-CPU page cache (bsa.h, BSA_PAGE_CACHE_*): the
 * inline steps of the page calls and of large bsa_alloc / bsa_free, and the calls that
 * give it back. A cached block has no kind: a free of PAGES or of a LARGE object puts it
 * there, and either allocation takes it back as its own kind.
 *
 * Only its own CPU touches a cache (the BSA_CPU_EXCLUSIVE promise), so the stacks need
 * no lock. The head record of a block says where it is:
 *   PAGES/LARGE -> CACHED  on a free, by compare-and-swap: two CPUs racing to free one
 *                    block (a double free) cannot both cache it; the loser is refused.
 *   CACHED -> PAGES/LARGE  on a cache hit, by a plain store: no other CPU writes a CACHED
 *                    record, and a free that reads it refuses the block.
 *   CACHED -> FREE   when the cache gives the block back: a buddy free of kind CACHED
 *                    under the buddy lock.
 * Once a free has claimed a block it is the freeing CPU's alone, so a free that finds its
 * stack full hands the whole stack to the buddy (a spill) and starts it again with the
 * claimed block.
 * Batches: a page call that misses an empty stack refills it from the buddy in the same
 * lock hold (unless the buddy could meet it only with the cache given back), and a spill
 * empties it, so a run of allocations or of frees takes the buddy
 * lock once per few blocks; refill stops one short of full, so no single call sequence
 * alternates between the two.
 * Runs: the request and its refill are DEPTH blocks, which the buddy carves as one run
 * of order + BSA__PAGE_CACHE_RUN_SHIFT when it has a free block that large; a spill whose
 * stack is one such run (its blocks freed in any order since the last spill) gives it back
 * as one block. The buddy then neither splits the run into halves nor merges them back.
 */
#ifndef BSA_PAGE_CACHE_H
#define BSA_PAGE_CACHE_H

#include "internal.h"

/* Blocks in the stack of `order`. Relaxed load and store, no read-modify-write: the owner
 * is the only writer, and bsa_stats only counts. */
static inline uint32_t bsa__page_cache_count(const bsa__page_cache_t *c, unsigned order) {
    return atomic_load_explicit((_Atomic uint32_t *)&c->count[order], memory_order_relaxed);
}
static inline void bsa__page_cache_set_count(bsa__page_cache_t *c, unsigned order, uint32_t n) {
    atomic_store_explicit(&c->count[order], n, memory_order_relaxed);
}

/* The newest cached block of `order` into *addr (false: none); *n: the blocks cached,
 * for bsa__page_cache_pop. Every cached block is page-aligned. */
static inline bool bsa__page_cache_top(const bsa__page_cache_t *c, unsigned order,
                                       uintptr_t *addr, uint32_t *n) {
    *n = bsa__page_cache_count(c, order);
    if (*n == 0)
        return false;
    *addr = c->block[order][*n - 1u];
    return true;
}

/* bsa__page_cache_top, when that block also meets `align` (false: the caller goes to the
 * buddy). */
static inline bool bsa__page_cache_peek(const bsa__page_cache_t *c, unsigned order,
                                        size_t align, uintptr_t *addr, uint32_t *n) {
    return bsa__page_cache_top(c, order, addr, n) && (*addr & (align - 1u)) == 0;
}

/* Hands out the block at `addr` that bsa__page_cache_top (or _peek) named, with the
 * count it gave, as a block of `kind` (PAGES, LARGE); `s`: its section. Their values,
 * not reloads: the record store is atomic, and the compiler would reload both across it. */
static inline void bsa__page_cache_pop(const bsa_buddy_t *b, bsa__page_cache_t *c,
                                       bsa__section_t *s, uintptr_t addr, uint32_t n,
                                       unsigned order, unsigned kind) {
    size_t idx = bsa__page_idx(b, s, addr); /* before either store */
    bsa__page_cache_set_count(c, order, n - 1u);
    bsa__rec_set(s, idx, kind, order);
}

/* Makes the block at page idx of `s` the caller's if it is a live block of `kind` and
 * `order` (-> CACHED); false otherwise: a bad free, or the loser of a race. The compare is
 * the whole check: any other record (free, another kind or order, not a head) fails it.
 * Relaxed: the block carries no data for anyone; the CAS only decides which free wins. */
static inline bool bsa__page_cache_claim(bsa__section_t *s, size_t idx, unsigned order,
                                         unsigned kind) {
    uint32_t live = bsa__info(kind, order);
    return atomic_compare_exchange_strong_explicit(&s->rec[idx].info, &live,
                                                   bsa__info(BSA__KIND_CACHED, order),
                                                   memory_order_relaxed, memory_order_relaxed);
}

/* Pushes a claimed block; false when the stack of its order is full. */
static inline bool bsa__page_cache_put(bsa__page_cache_t *c, unsigned order, uintptr_t addr) {
    uint32_t n = bsa__page_cache_count(c, order);
    if (n == BSA_PAGE_CACHE_DEPTH)
        return false;
    c->block[order][n] = addr;
    bsa__page_cache_set_count(c, order, n + 1u);
    return true;
}

/* Pages held, for bsa_stats. */
static inline size_t bsa__page_cache_pages(const bsa__page_cache_t *c) {
    size_t pages = 0;
    for (unsigned k = 0; k <= BSA_PAGE_CACHE_MAX_ORDER; k++)
        pages += (size_t)bsa__page_cache_count(c, k) << k;
    return pages;
}

/* A refill's blocks and the request's make 2^BSA__PAGE_CACHE_RUN_SHIFT: one buddy run. */
#define BSA__PAGE_CACHE_RUN_SHIFT 2u
_Static_assert((1u << BSA__PAGE_CACHE_RUN_SHIFT) == BSA_PAGE_CACHE_DEPTH,
               "a refill and its request are one run of BSA__PAGE_CACHE_RUN_SHIFT");

/* page_cache.c */
BSA__HIDDEN void bsa__page_cache_init(bsa__page_cache_t *c);
/* A page-aligned request of `order` whose stack is empty, and its refill, as one buddy
 * run (bsa__buddy_alloc_run), which the buddy, caller-locked, carves in one go: the run's
 * first block into *out as `kind`, the other DEPTH - 1 onto the stack in address order
 * (the newest last), as the request and bsa__page_cache_refill would have stacked them
 * from the same free block. False: no free block holds a run, nothing is taken, and the
 * caller takes those two steps. */
BSA__HIDDEN bool bsa__page_cache_refill_run(bsa_buddy_t *b, bsa__page_cache_t *c,
                                            unsigned order, unsigned kind, void **out);
/* The stack of `order`, empty, filled with up to BSA_PAGE_CACHE_DEPTH - 1 blocks from the
 * buddy, which the caller has locked (fewer if the buddy runs out). One short of full, so
 * that a free right after it is not a spill. */
BSA__HIDDEN void bsa__page_cache_refill(bsa_buddy_t *b, bsa__page_cache_t *c, unsigned order);
/* Every block of the stack of `order` back to the buddy, which the caller has locked; `s`
 * (may be NULL): a section most of them are in, which spares their section lookups, and
 * where a full stack that is one run goes back as one block. BSA_E_CORRUPT if the buddy
 * refuses one (cannot happen on a consistent instance). */
BSA__HIDDEN bsa_status_t bsa__page_cache_spill(bsa_buddy_t *b, bsa__page_cache_t *c,
                                               unsigned order, bsa__section_t *s);
/* Every cached block back to the buddy, which the caller has locked. BSA_E_CORRUPT if
 * the buddy refuses one (cannot happen on a consistent instance). */
BSA__HIDDEN bsa_status_t bsa__page_cache_give_back(bsa_buddy_t *b, bsa__page_cache_t *c);
/* Each entry names a CACHED block of its order; the entries are added into *tally. */
BSA__HIDDEN bool bsa__page_cache_check(const bsa_buddy_t *b, const bsa__page_cache_t *c,
                                       bsa__cached_tally_t *tally);

#endif /* BSA_PAGE_CACHE_H */
