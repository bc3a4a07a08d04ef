/*
 * internal.h - private types and helpers shared by the core's source files.
 *
 * Glossary
 *   section   one added region: header + page records at its start, then whole pages.
 *   page idx  index of a managed page inside its section (0 .. pages-1, < 2^32-1).
 *   block     2^order pages starting at a page idx that is a multiple of 2^order.
 *   head      the first page of a block; the only page whose record has a kind.
 *   slab      a block of kind SLAB whose first bytes are a bsa__slab_hdr.
 *
 * Invariants (checked by bsa_buddy_check / bsa_slab_check)
 *   section:  free_pages == sum over free blocks of 2^order
 *             free_head[k] != NIL  <=>  bit k of free_mask
 *   record:   kind != NONE  <=>  the page is the head of a block (free or allocated)
 *   block:    a free block's buddy is never a free block of the same order (eager merge)
 *   slab:     in_use + free == count for each slab; sum(in_use) == class in_use
 */
#ifndef BSA_INTERNAL_H
#define BSA_INTERNAL_H

#include <stdatomic.h>

#include "bsa.h"

#if defined(__GNUC__)
#define BSA__HIDDEN __attribute__((visibility("hidden")))
#define BSA__LIKELY(x) __builtin_expect(!!(x), 1)
#define BSA__UNLIKELY(x) __builtin_expect(!!(x), 0)
#define BSA__NOINLINE __attribute__((noinline)) /* keeps slow paths out of fast ones */
#define BSA__ALWAYS_INLINE inline __attribute__((always_inline)) /* where a call costs */
#else
#define BSA__NOINLINE
#define BSA__ALWAYS_INLINE inline
#define BSA__HIDDEN
#define BSA__LIKELY(x) (x)
#define BSA__UNLIKELY(x) (x)
#endif

#define BSA__BUDDY_MAGIC 0x42554459u /* "BUDY" */
#define BSA__SLAB_MAGIC 0x534c4142u  /* "SLAB" */
#define BSA__ALLOC_MAGIC 0x42534121u /* "BSA!" */
#define BSA__SKIP_LEVELS 8
#define BSA__NIL UINT32_MAX          /* no page: end of a free list */
#define BSA__WORD_BITS (sizeof(uintptr_t) * 8u)
#define BSA__WORD_SHIFT (sizeof(uintptr_t) == 8 ? 6u : 5u)
#define BSA__SLAB_MIN_OBJECTS 16u    /* a slab spans at least this many object sizes */
#define BSA__HINT_FULL UINT32_MAX    /* a full slab's bsa__slab_hdr_t.hint: above any word */

/* Field by field: a struct assignment may become a memcpy call, which the core has not. */
static inline void bsa__ops_copy(bsa_ops_t *dst, const bsa_ops_t *src) {
    dst->ctx = src ? src->ctx : NULL;
    dst->cpu_id = src ? src->cpu_id : NULL;
    dst->virt_to_phys = src ? src->virt_to_phys : NULL;
    dst->crit_enter = src ? src->crit_enter : NULL;
    dst->crit_exit = src ? src->crit_exit : NULL;
    dst->relax = src ? src->relax : NULL;
    dst->report = src ? src->report : NULL;
}

/* ---- bit helpers (no libc, no division on hot paths) ---- */
static inline unsigned bsa__ctz(uintptr_t x) { return (unsigned)__builtin_ctzl(x); }
/* Portable popcount (__builtin_popcountl may call libgcc without -mpopcnt): bits summed
 * in pairs, nibbles, then bytes (the multiply adds all bytes into the top one), in
 * constant time. The checkers count free bitmaps, which are mostly ones, so a loop per
 * set bit was their largest cost. */
static inline unsigned bsa__popcount(uintptr_t x) {
    const uintptr_t ones = ~(uintptr_t)0;
    x -= (x >> 1) & (ones / 3u);                            /* 0x55...: pairs   */
    x = (x & (ones / 5u)) + ((x >> 2) & (ones / 5u));       /* 0x33...: nibbles */
    x = (x + (x >> 4)) & (ones / 17u);                      /* 0x0f...: bytes   */
    return (unsigned)((x * (ones / 255u)) >> (BSA__WORD_BITS - 8u)); /* 0x01...: sum */
}

static inline bool bsa__is_pow2(size_t x) { return x != 0 && (x & (x - 1)) == 0; }
static inline unsigned bsa__log2(size_t x) { /* x > 0 */
    return (unsigned)(sizeof(unsigned long) * 8u - 1u) - (unsigned)__builtin_clzl(x);
}
/* Smallest k with 2^k >= count; count in 1..2^BSA_MAX_ORDER. 2 * count - 1 has its top
 * bit at k (2^(k-1) < count <= 2^k), so no branch for count 1: the branch cost a page
 * pair (which computes it twice) 4 instructions at order 0 and 7 at orders 1-4. */
static inline unsigned bsa__order_of(size_t count) {
    return bsa__log2(2u * count - 1u);
}

/* Size class of (size, align) per bsa_size_class: inlined on the allocation path. */
static inline int bsa__size_class(size_t size, size_t align) {
    if (align != 0 && !bsa__is_pow2(align))
        return -1;
    size_t need = size > align ? size : align;
    if (need > BSA_SMALL_MAX)
        return -1;
    if (need <= 8)
        return 0;
    return (int)bsa__order_of(need) - 3;
}

/* A counter with one writer (the owning CPU) that other CPUs may read: a plain load and
 * store, no read-modify-write. Relaxed: statistics, nothing is published through them. */
static inline size_t bsa__count(const _Atomic size_t *n) {
    return atomic_load_explicit((_Atomic size_t *)n, memory_order_relaxed);
}
static inline void bsa__count_add(_Atomic size_t *n, size_t delta) {
    atomic_store_explicit(n, bsa__count(n) + delta, memory_order_relaxed);
}

/* ---- page records ---------------------------------------------------------------
 * 12 bytes a page (0.29% of a 4 KiB page). `info` is atomic so that lock-free lookups
 * (bsa_free from any thread) may read it while the buddy lock holder writes other
 * records; all accesses are relaxed: a live block's head record does not change until
 * the block is freed, and that free happens-after the lookup in any correct program.
 */
enum bsa__kind {
    BSA__KIND_NONE = 0,  /* not a block head                         */
    BSA__KIND_FREE = 1,  /* head of a free block, on free_head[order] */
    BSA__KIND_PAGES = 2, /* allocated by *_alloc_pages*              */
    BSA__KIND_LARGE = 3, /* allocated by bsa_alloc for a large size  */
    BSA__KIND_SLAB = 4,  /* allocated as a slab                      */
    BSA__KIND_CACHED = 5, /* freed pages in a CPU's page cache: taken */
};

typedef struct bsa__page {
    uint32_t next, prev;      /* free-list links (page idx), valid when kind == FREE */
    _Atomic uint32_t info;    /* kind | order << 8 (| head distance << 16: a hint) */
} bsa__page_t;

static inline uint32_t bsa__info(unsigned kind, unsigned order) {
    return (uint32_t)kind | ((uint32_t)order << 8);
}
static inline unsigned bsa__info_kind(uint32_t info) { return info & 0xffu; }
static inline unsigned bsa__info_order(uint32_t info) { return (info >> 8) & 0xffu; }
/* A record of kind NONE may name, above the kind, the order of the slab it was a later
 * page of when the allocator wrote it there, and its distance from that slab's head
 * (below 2^order), so that a free finds the header without a search. Only a hint: the
 * buddy never clears it, so it counts only while the head's record still says a slab of
 * that order (bsa__info_slab_tail_head), which makes this page one of that slab's. A
 * record without a hint has distance 0: it points at itself, of kind NONE. */
static inline uint32_t bsa__info_slab_tail(size_t head_distance, unsigned order) {
    return bsa__info(BSA__KIND_NONE, order) | (uint32_t)head_distance << 16;
}
/* The record the head of a slab tail's hint must have. */
static inline uint32_t bsa__info_slab_tail_head(uint32_t tail) {
    return (tail & 0xff00u) | BSA__KIND_SLAB;
}
static inline size_t bsa__info_head_distance(uint32_t info) { return info >> 16; }

/* ---- sections ---------------------------------------------------------------------
 * Lives at the start of its region. Immutable once published, except the free lists
 * and counters, which only the buddy's caller (under its lock) touches.
 */
typedef struct bsa__section {
    uintptr_t region_start, region_end; /* whole region, metadata included: overlap test */
    uintptr_t base;                     /* first managed page                            */
    size_t pages;                       /* managed pages                                 */
    uintptr_t span;                     /* their bytes (pages << page_shift): the lookup's
                                         * bound, one load instead of a shift           */
    size_t lowmem_pages;                /* pages [0, lowmem_pages) end below 4 GiB phys  */
    unsigned levels;                    /* skip-list height of this node                 */
    struct bsa__section *next_registered;
    _Atomic(struct bsa__section *) skip_next[BSA__SKIP_LEVELS];
    /* Written by every buddy call on the section: more than a cache line after base and
     * span, which every CPU reads on its page calls and frees (the skip links between). */
    size_t free_pages;
    uint32_t free_mask;                 /* bit k: free_head[k] is not empty              */
    uint32_t free_head[BSA_MAX_ORDER + 1];
    bsa__page_t rec[];                  /* one per managed page                          */
} bsa__section_t;

/* Fields read on every call and fields CPUs write, kept a cache line apart (the comments
 * on bsa_allocator_t and bsa__section_t): a field added in between must not undo it. */
#define BSA__LINE_APART(T, read, written)                                               \
    (offsetof(T, written) >= offsetof(T, read) + sizeof(((T *)0)->read) + 64u)
_Static_assert(BSA__LINE_APART(bsa__section_t, span, free_pages),
               "bsa__section_t: base and span a line before the free lists");

static inline uintptr_t bsa__page_addr(const bsa_buddy_t *b, const bsa__section_t *s,
                                       size_t idx) {
    return s->base + ((uintptr_t)idx << b->_page_shift);
}
/* bsa__page_addr's inverse: the index in `s` of the page that holds `addr`, one of its
 * managed pages. */
static inline size_t bsa__page_idx(const bsa_buddy_t *b, const bsa__section_t *s,
                                   uintptr_t addr) {
    return (size_t)((addr - s->base) >> b->_page_shift);
}
static inline uint32_t bsa__rec_info(const bsa__section_t *s, size_t idx) {
    return atomic_load_explicit(&s->rec[idx].info, memory_order_relaxed);
}
static inline void bsa__rec_set(bsa__section_t *s, size_t idx, unsigned kind, unsigned order) {
    atomic_store_explicit(&s->rec[idx].info, bsa__info(kind, order), memory_order_relaxed);
}

/* section.c: layout, registration, lookup by address */
/* BSA_OK if `region` would hold at least one managed page. Writes nothing. */
BSA__HIDDEN bsa_status_t bsa__section_check_region(size_t page_size, void *region, size_t len);
/* Validates (E_INVALID, E_OVERLAP), then writes the header and blank page records. */
BSA__HIDDEN bsa_status_t bsa__section_create(bsa_buddy_t *b, void *region, size_t len,
                                             bsa__section_t **out);
BSA__HIDDEN void bsa__section_publish(bsa_buddy_t *b, bsa__section_t *s);
/* Memory just below a section's region that its owner carved for itself (the global
 * allocator's per-CPU state): counted as part of the region by the overlap test. */
BSA__HIDDEN void bsa__section_claim_prefix(bsa__section_t *s, uintptr_t start);
/* Section whose managed pages contain `addr`, or NULL. Lock-free, O(log sections). */
BSA__HIDDEN bsa__section_t *bsa__section_find(const bsa_buddy_t *b, uintptr_t addr);

/* ---- buddy internals used by the global allocator ---- */
typedef struct bsa__block {
    bsa__section_t *sec;
    size_t head;        /* page idx of the block head */
    unsigned kind, order;
} bsa__block_t;

BSA__HIDDEN bsa_status_t bsa__buddy_alloc(bsa_buddy_t *b, unsigned order, size_t align,
                                          bool lowmem, unsigned kind, void **out);
/* 2^shift page-aligned blocks of order k, one run of order k + shift: carved from the
 * smallest free block that holds one in the section bsa__buddy_alloc would serve order k
 * from (the first with a free block of order k or more). out[i]: the run's i-th block by
 * address, out[0] of `kind`, the others of `rest`, each with its own record as k-order
 * calls would leave it. Smaller free blocks there are left for other requests. False,
 * with nothing taken, when that section has no block of order k + shift or more. Saves
 * the halves that calls one at a time push and take back. */
BSA__HIDDEN bool bsa__buddy_alloc_run(bsa_buddy_t *b, unsigned k, unsigned shift,
                                      unsigned kind, unsigned rest, uintptr_t *out);
/* Frees the block that starts at `addr` if it is live, of `kind` and of `order`. */
BSA__HIDDEN bsa_status_t bsa__buddy_free(bsa_buddy_t *b, void *addr, unsigned kind,
                                         unsigned order);
/* The same in section `s`, which holds `addr` among its managed pages (the caller found
 * it, e.g. through a CPU's last-section hint, and spares the skip-list walk). */
BSA__HIDDEN bsa_status_t bsa__buddy_free_in(bsa_buddy_t *b, bsa__section_t *s, void *addr,
                                            unsigned kind, unsigned order);
/* bsa__buddy_alloc_run's inverse: the 2^shift blocks of order k that tile the run of
 * order k + shift at `addr` in `s` go back as one block. Their records become the run's
 * (the first's says `kind` of the run's order, the others none), then one free, which
 * merges on as any free does, instead of 2^shift frees that merge the run back half by
 * half. The caller vouches that every block of the run is a live block of its own, of
 * `kind` and order k (a page cache's full stack); only the free's checks follow. */
BSA__HIDDEN bsa_status_t bsa__buddy_free_run_in(bsa_buddy_t *b, bsa__section_t *s,
                                                uintptr_t addr, unsigned kind, unsigned k,
                                                unsigned shift);
/* The block containing `addr` (free or allocated). Lock-free; false if none. */
BSA__HIDDEN bool bsa__buddy_find(const bsa_buddy_t *b, uintptr_t addr, bsa__block_t *out);
/* The same inside a section already known to hold `addr` among its managed pages. */
BSA__HIDDEN bool bsa__buddy_find_in(const bsa_buddy_t *b, bsa__section_t *s, uintptr_t addr,
                                    bsa__block_t *out);
/* True when `addr` falls in one of the section's managed pages. */
static inline bool bsa__section_holds(const bsa__section_t *s, uintptr_t addr) {
    return addr - s->base < s->span;
}
BSA__HIDDEN bool bsa__buddy_ready(const bsa_buddy_t *b);
/* KIND_CACHED blocks as bsa_check tallies them: their number and the sum of their
 * addresses (a cache that lists one block twice and another not at all keeps the number
 * but not the sum). */
typedef struct bsa__cached_tally {
    size_t blocks;
    uintptr_t addr_sum;
} bsa__cached_tally_t;
/* bsa_buddy_check that allows KIND_CACHED blocks (a global allocator's page caches) and
 * tallies them into *cached, for the caller to match with its caches. */
BSA__HIDDEN bsa_status_t bsa__buddy_check(const bsa_buddy_t *b, bsa__cached_tally_t *cached);
/* Calls fn on every block of `kind` until it returns false (then returns false).
 * Only on an instance that bsa_buddy_check has passed. */
typedef bool (*bsa__block_fn)(void *ctx, uintptr_t addr, unsigned order);
BSA__HIDDEN bool bsa__buddy_visit(const bsa_buddy_t *b, unsigned kind, bsa__block_fn fn,
                                  void *ctx);
/* Validates a page request: E_INVALID, or BSA_OK with *align defaulted and *order set.
 * Inline: it is most of a page-cache hit's argument checks. */
static inline bsa_status_t bsa__buddy_request(const bsa_buddy_t *b, size_t count,
                                              size_t *align, unsigned *order) {
    if (count == 0 || count > BSA_MAX_COUNT)
        return BSA_E_INVALID;
    if (*align == 0)
        *align = b->_page_size; /* a power of two: no need to test it */
    else if (!bsa__is_pow2(*align) || *align < b->_page_size)
        return BSA_E_INVALID;
    *order = bsa__order_of(count);
    return BSA_OK;
}

/* ---- slabs -------------------------------------------------------------------------
 * A slab header sits at the slab start; objects begin at the class's first_offset.
 * Bitmaps: bit i of `free_map` set = slot i free (written only by the owner; atomic so
 * that remote freers may read it); bit i of `pending_map` set = slot i is on the remote
 * stack (set by the pusher, cleared by the owner's drain).
 */
enum bsa__slab_list { BSA__LIST_PARTIAL = 0, BSA__LIST_FULL = 1, BSA__LIST_EMPTY = 2 };

typedef struct bsa__slab_hdr {
    bsa_slab_t *owner;
    struct bsa__slab_hdr *next, *prev;
    uint32_t cookie;        /* BSA__SLAB_MAGIC ^ low bits of the header address */
    uint16_t size_class;
    uint16_t list;          /* enum bsa__slab_list                               */
    uint32_t count;         /* slots                                             */
    uint32_t free;          /* slots whose free_map bit is set                   */
    uint32_t words;         /* bitmap words                                      */
    uint32_t hint;          /* no free slot below word `hint` (BSA__HINT_FULL when
                             * none is free)                                      */
    uint32_t remote;        /* maps[] index of remote_head: bsa__slab_remote_index
                             * (words), kept because every remote free reads it:
                             * computing it cost 9 instructions there              */
    uint32_t first_offset;  /* of slot 0 from the header: the class's, copied here so
                             * that a free (local or remote) finds the slot from this
                             * line alone                                            */
    /* free_map[words]; then, from the first cache line after it, the remote words:
     * remote_head (stack of remotely freed objects, linked by their first word),
     * ready_next (the link on the owner's ready stack, bsa_slab_t._ready) and
     * pending_map[words] (slab_remote.c). Remote freers write only that line(s), so they
     * do not take the owner's header and bitmap line away from it on every push. */
    _Atomic uintptr_t maps[];
} bsa__slab_hdr_t;

/* Bitmap word and bit of a slot. */
static inline uint32_t bsa__slot_word(uint32_t slot) { return slot >> BSA__WORD_SHIFT; }
static inline uintptr_t bsa__slot_bit(uint32_t slot) {
    return (uintptr_t)1 << (slot & (BSA__WORD_BITS - 1u));
}

static inline uint32_t bsa__slab_cookie(const bsa__slab_hdr_t *h) {
    return BSA__SLAB_MAGIC ^ (uint32_t)((uintptr_t)h >> 4);
}
/* A free-hint entry's parts (bsa_slab_t._free_hints): the slab (NULL: empty) and log2
 * of its size in bytes. */
#define BSA__FREE_HINT_LOG_MASK ((uintptr_t)63u)
static inline bsa__slab_hdr_t *bsa__free_hint_slab(uintptr_t e) {
    return (bsa__slab_hdr_t *)(e & ~BSA__FREE_HINT_LOG_MASK);
}
static inline unsigned bsa__free_hint_log(uintptr_t e) {
    return (unsigned)(e & BSA__FREE_HINT_LOG_MASK);
}

/* Index in maps[] of remote_head: the first word at a 64-byte boundary (slabs are
 * page-aligned) after free_map; pending_map follows it. */
static inline uint32_t bsa__slab_remote_index(uint32_t words) {
    size_t end = offsetof(bsa__slab_hdr_t, maps) + (size_t)words * sizeof(uintptr_t);
    size_t line = (end + 63u) & ~(size_t)63u;
    return (uint32_t)((line - offsetof(bsa__slab_hdr_t, maps)) / sizeof(uintptr_t));
}
/* The remote words of a slab whose header checked out (cookie; `remote` by bsa_slab_check). */
static inline _Atomic uintptr_t *bsa__slab_remote_head(bsa__slab_hdr_t *h) {
    return &h->maps[h->remote];
}
static inline _Atomic uintptr_t *bsa__slab_ready_next(bsa__slab_hdr_t *h) {
    return &h->maps[h->remote + 1u];
}
static inline _Atomic uintptr_t *bsa__slab_pending_word(bsa__slab_hdr_t *h, uint32_t word) {
    return &h->maps[h->remote + 2u + word];
}
static inline size_t bsa__slab_header_bytes(uint32_t words) {
    return offsetof(bsa__slab_hdr_t, maps) +
           (bsa__slab_remote_index(words) + 2u + (size_t)words) * sizeof(uintptr_t);
}

typedef struct bsa__slab_geo {
    uint32_t pages, first_offset, count;
} bsa__slab_geo_t;

/* Bytes of one slab of class `cls` on slab allocator `s` (from its geometry). */
static inline size_t bsa__slab_bytes(const bsa_slab_t *s, unsigned cls) {
    return (size_t)s->_cls[cls]._slab_pages * s->_page_size;
}

/* slab_geometry.c: the one place that knows slab geometry. False for bad inputs. */
BSA__HIDDEN bool bsa__slab_geometry(unsigned size_class, size_t page_size,
                                    bsa__slab_geo_t *out);

/* slab.c internals for the global allocator (which found `h` via page metadata). */
/* Makes `base` (the class's slab size, page-aligned) a slab of `s` on the partial list. */
BSA__HIDDEN void bsa__slab_add(bsa_slab_t *s, unsigned cls, void *base);
BSA__HIDDEN bsa_status_t bsa__slab_alloc_class(bsa_slab_t *s, unsigned cls, void **out);
BSA__HIDDEN bsa_status_t bsa__slab_free_in(bsa_slab_t *s, bsa__slab_hdr_t *h, void *ptr,
                                           bsa_slab_pages_t *release);
/* A slab that bsa__slab_put just emptied, moved where it belongs: cached, or handed back
 * (BSA_RELEASE_PAGES with *release filled). `release` NULL: the caller cannot give pages
 * back now (a drain); the slab is kept on the empty or partial list. */
BSA__HIDDEN bsa_status_t bsa__slab_settle_empty(bsa_slab_t *s, bsa__slab_hdr_t *h,
                                                bsa_slab_pages_t *release);
/* Standalone lookup: the live slab of `s` and class `cls` that `ptr` falls in, by
 * alignment, or NULL. Reads the slab-aligned word below `ptr`: it must be readable. */
BSA__HIDDEN bsa__slab_hdr_t *bsa__slab_header_of(const bsa_slab_t *s, unsigned cls,
                                                 const void *ptr);

/* slab_remote.c */
BSA__HIDDEN bsa_status_t bsa__slab_remote_push(bsa__slab_hdr_t *h, void *ptr);
/* Drains every slab of the class that has pending frees; list moves included. */
BSA__HIDDEN void bsa__slab_drain_class(bsa_slab_t *s, unsigned cls);
BSA__HIDDEN void bsa__slab_note_bad(bsa_slab_t *s, const void *ptr);

/* ---- per-CPU state of the global allocator, carved from the first region ---- */
/* Exclusive mode's page cache (bsa.h, BSA_PAGE_CACHE_*): a stack of block addresses per
 * order, read and written only by its CPU; a cached block's head record is KIND_CACHED.
 * Addresses only: the section comes from the CPU's last-section hint, and the array
 * stays small (it is BSA_MAX_CPUS times in the first region). */
typedef struct bsa__page_cache {
    _Atomic uint32_t count[BSA_PAGE_CACHE_MAX_ORDER + 1]; /* owner writes, bsa_stats reads */
    uintptr_t block[BSA_PAGE_CACHE_MAX_ORDER + 1][BSA_PAGE_CACHE_DEPTH];
} bsa__page_cache_t;
typedef struct bsa__cpu {
    bsa_slab_t slab;           /* first: its 64-byte alignment then costs no padding */
    _Atomic int lock;          /* unused with BSA_CPU_EXCLUSIVE */
    /* The section of this CPU's last lookup: nearly every free hits it, which spares the
     * skip-list walk. Set to the first section at init; sections are never unpublished,
     * so it always points at a valid one.
     * Release/acquire: a thread sharing this CPU id that reads the hint also sees the
     * section header it points at. */
    _Atomic(bsa__section_t *) last_section;
    bsa__page_cache_t pages;   /* used only with BSA_CPU_EXCLUSIVE */
} __attribute__((aligned(2048))) bsa__cpu_t;
/* Every call finds its CPU as cpus + id: a power-of-two size makes that one shift (960
 * bytes took four instructions, twice per object pair). Also keeps CPUs off each other's
 * cache lines. */
_Static_assert((sizeof(bsa__cpu_t) & (sizeof(bsa__cpu_t) - 1u)) == 0,
               "bsa__cpu_t: keep its size a power of two");
/* Every slab call finds its class as _cls + class: 64 bytes make that a shift on 64-bit
 * targets (56 took three instructions, several times per object pair). */
_Static_assert(sizeof(void *) != 8 || sizeof(bsa__slab_class_t) == 64,
               "bsa__slab_class_t: keep it 64 bytes on 64-bit targets");

#endif /* BSA_INTERNAL_H */
