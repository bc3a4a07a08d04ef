/*
 * model.h - the reference model the differential fuzzers check the core against
 * (DESIGN section 7). Written for obviousness: one byte per page, one byte per slab
 * slot, small fixed tables, no allocation. The few indexes kept for speed (runs of free
 * pages, free blocks and free pages per section, block by head page, slab by page,
 * counters per CPU and class) are updated where the state they summarise changes, and
 * m_selfcheck re-derives every one of them from the plain state by a full scan (the
 * harnesses call it once per input, so a stale index is a model bug that fails loudly).
 *
 * Three parts, all in one model_t that a harness keeps in static storage:
 *   pages   sections in registration order, a byte per page (free or the kind of block
 *           covering it), the page blocks handed out. Decides whether a page request
 *           must succeed and whether a run the core returned is one it may return.
 *   objs    what a user holds: address, size, align, fill byte, owner CPU, state (live,
 *           or pending: remotely freed and not yet drained). Writes and checks fill bytes.
 *   slabs   every CPU's slabs: slot states, the one-cached-empty-slab rule, remote frees
 *           and drains, as DESIGN sections 3-4 and API.md describe them.
 *
 * The model re-derives nothing about the core's layout: slab geometry comes from the
 * core's public queries (bsa_slab_pages_for, ...), the one place that knows it.
 * Glossary: order k = a block of 2^k pages; page idx = index inside a section.
 */
#ifndef BSA_FUZZ_MODEL_H
#define BSA_FUZZ_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bsa.h"

#define M_MAX_SECTIONS 32
#define M_MAX_PAGES 1024       /* per section: 4 MiB arenas of 4 KiB pages */
#define M_MAX_BLOCKS 2048      /* live page blocks (PAGES, LARGE, SLAB)     */
#define M_MAX_OBJS 4096        /* live or pending user blocks               */
#define M_MAX_SLABS 256
#define M_MAX_SLOTS 8192       /* 64 KiB slab of 8-byte objects             */
#define M_MAX_CPUS 8
#define M_4G 0x100000000ull

enum m_kind { M_FREE = 0, M_PAGES = 1, M_LARGE = 2, M_SLAB = 3, M_SMALL = 4, M_CACHED = 5 };
enum m_state { M_SLOT_FREE = 0, M_LIVE = 1, M_PENDING = 2 };

/* ---- helpers (re-derived on purpose: this is the oracle) ---------------------------- */
bool m_is_pow2(size_t x);
unsigned m_order_of(size_t count); /* smallest k with 2^k >= count; 0 for count <= 1 */
/* Size class per DESIGN §3, re-derived: smallest c with 8 << c >= max(size, align); -1
 * if none or align is not a power of two. */
int m_size_class(size_t size, size_t align);

/* ---- pages ------------------------------------------------------------------------- */
typedef struct m_section {
    uintptr_t region_start, region_end; /* what was passed to add_region           */
    uintptr_t base;                     /* first managed page (from the core)       */
    size_t pages;
    uint64_t phys_base;                 /* physical address of base                 */
    uint8_t page[M_MAX_PAGES];          /* M_FREE or the kind of the covering block  */
    /* Indexes, re-derived from page[] whenever it changes (refresh in pages.c):      */
    size_t free;                        /* pages that are M_FREE                      */
    uint16_t run[M_MAX_PAGES];          /* free pages from idx on, idx included       */
    size_t blocks[BSA_MAX_ORDER + 1];   /* maximal free buddy blocks per order        */
    int16_t head[M_MAX_PAGES];          /* block[] index of the block at idx, or -1   */
} m_section_t;

typedef struct m_block {
    uintptr_t addr;
    unsigned order, kind;
} m_block_t;

typedef struct m_pages {
    size_t page_size;
    size_t nsec;
    m_section_t sec[M_MAX_SECTIONS];
    size_t nblocks;
    m_block_t block[M_MAX_BLOCKS];
    size_t total, free; /* index: the sections' pages and free pages, summed */
    /* Exclusive mode's per-CPU page caches: stacks of M_CACHED block addresses. */
    uintptr_t cache[M_MAX_CPUS][BSA_PAGE_CACHE_MAX_ORDER + 1][BSA_PAGE_CACHE_DEPTH];
    unsigned cached[M_MAX_CPUS][BSA_PAGE_CACHE_MAX_ORDER + 1];
} m_pages_t;

/* ---- objects ----------------------------------------------------------------------- */
typedef struct m_obj {
    uintptr_t addr;
    size_t size;       /* bytes the user asked for: the fill covers them             */
    size_t align;      /* as asked (0 allowed)                                       */
    size_t count;      /* page calls: the count asked for                            */
    unsigned kind;     /* M_PAGES, M_LARGE, M_SMALL                                  */
    unsigned order;    /* page blocks                                                */
    unsigned cls;      /* small objects: size class                                  */
    unsigned cpu;      /* small: owner CPU of the slab; others: CPU that allocated   */
    unsigned state;    /* M_LIVE or M_PENDING                                        */
    uint8_t fill;
} m_obj_t;

#define M_OBJ_BUCKETS 4096
typedef struct m_objs {
    size_t n;
    m_obj_t obj[M_MAX_OBJS];
    int head[M_OBJ_BUCKETS]; /* speed only: chains of obj[] indexes by address hash */
    int next[M_MAX_OBJS];
    size_t round;            /* where m_fill_check_some goes on */
} m_objs_t;

/* ---- slabs ------------------------------------------------------------------------- */
typedef struct m_slab {
    bool used;
    unsigned cpu, cls;
    uintptr_t base;
    size_t bytes;
    uint32_t first, count, size; /* first object offset, slots, object bytes */
    uint32_t live, pending;      /* slots live / on the remote stack         */
    uint32_t hint;               /* speed only: no free slot below it        */
} m_slab_t;

/* Per CPU and class, summed over the class's slabs (an index: slabs.c keeps it). */
typedef struct m_tally {
    size_t live[M_MAX_CPUS][BSA_SIZE_CLASS_COUNT];    /* live slots                   */
    size_t slabs[M_MAX_CPUS][BSA_SIZE_CLASS_COUNT];
    size_t pending[M_MAX_CPUS][BSA_SIZE_CLASS_COUNT]; /* slots on the remote stack    */
    size_t room[M_MAX_CPUS][BSA_SIZE_CLASS_COUNT];    /* slabs with a free slot       */
    size_t empty[M_MAX_CPUS][BSA_SIZE_CLASS_COUNT];   /* slabs with no live or pending */
} m_tally_t;

#define M_WINDOW_BYTES ((size_t)4 << 20) /* where slabs may lie: the harness's arena */
#define M_GRANULE 4096u                  /* the smallest page size                  */

typedef struct m_slabs {
    unsigned cpus;
    size_t hi;                                        /* slots [0, hi) of slab[] used */
    m_slab_t slab[M_MAX_SLABS];
    bool cached[M_MAX_CPUS][BSA_SIZE_CLASS_COUNT];   /* the empty list holds a slab  */
    m_tally_t tally;                                 /* index                        */
    uintptr_t window;                                /* m_slab_window                */
    int16_t at[M_WINDOW_BYTES / M_GRANULE];          /* index: slab over each granule, -1 */
    uint8_t slot[M_MAX_SLABS][M_MAX_SLOTS];          /* enum m_state per slot        */
} m_slabs_t;

typedef struct model {
    size_t page_size;
    m_pages_t pages;
    m_objs_t objs;
    m_slabs_t slabs;
    uint64_t bad_frees[M_MAX_CPUS + 1]; /* standalone slab: per CPU; global: [0] */
} model_t;

void m_reset(model_t *m, size_t page_size, unsigned cpus);
/* NULL if every index agrees with a full rescan of the plain state, else which not. */
const char *m_selfcheck(const model_t *m);

/* pages.c */
bool m_pages_overlaps(const model_t *m, uintptr_t start, uintptr_t end);
/* The highest end of any region added so far, at least `floor`. */
uintptr_t m_pages_highest_end(const model_t *m, uintptr_t floor);
void m_pages_add(model_t *m, uintptr_t rstart, uintptr_t rend, uintptr_t base, size_t pages,
                 uint64_t phys_base);
int m_pages_section_of(const model_t *m, uintptr_t addr); /* managed pages; -1: none */
bool m_pages_run_ok(const model_t *m, size_t sec, size_t idx, unsigned k, size_t align,
                    bool lowmem);
/* First section (registration order) holding a run; -1 if none. *idx: its lowest run. */
int m_pages_first_fit(const model_t *m, unsigned k, size_t align, bool lowmem, size_t *idx);
/* NULL if the core may return `addr` for this request, else why not. fit_sec: what
 * m_pages_first_fit answered for the same request (the run must lie in that section). */
const char *m_pages_judge(const model_t *m, uintptr_t addr, unsigned k, size_t align,
                          bool lowmem, int fit_sec);
void m_pages_take(model_t *m, uintptr_t addr, unsigned k, unsigned kind);
int m_pages_block_at(const model_t *m, uintptr_t addr); /* live block head; -1: none */
void m_pages_release(model_t *m, int block);
size_t m_pages_total(const model_t *m);
size_t m_pages_free(const model_t *m);
size_t m_section_free(const m_section_t *s);
/* Free blocks per order: the maximal free buddy blocks (eager merging makes them so). */
void m_pages_free_blocks(const model_t *m, size_t out[BSA_MAX_ORDER + 1]);
/* The n-th free page (n modulo the number of free pages); 0 if none. */
uintptr_t m_pages_nth_free(const model_t *m, size_t n);
/* A live block becomes `kind` (M_PAGES <-> M_CACHED), pages and all. */
void m_pages_set_kind(model_t *m, int block, unsigned kind);

/* page_cache.c: exclusive mode's per-CPU page caches, as bsa.h describes them. */
/* The newest cached block of order k if it meets `align`, else 0. */
uintptr_t m_cache_top(const model_t *m, unsigned cpu, unsigned k, size_t align);
void m_cache_pop(model_t *m, unsigned cpu, unsigned k, unsigned kind); /* M_PAGES, M_LARGE */
/* A live block of order 0..MAX freed on `cpu`: pushed, or spilled with a full stack. */
void m_cache_free(model_t *m, unsigned cpu, int block);
/* A refill's block of order k at addr (free pages, the caller judged them): taken as
 * M_CACHED and pushed. */
void m_cache_take(model_t *m, unsigned cpu, unsigned k, uintptr_t addr);
/* Every cached block of `cpu` freed; false if there was none. */
bool m_cache_give_back(model_t *m, unsigned cpu);
size_t m_cache_pages(const model_t *m);

/* objects.c */
m_obj_t *m_obj_add(model_t *m, const m_obj_t *o); /* NULL when the table is full */
int m_obj_find(const model_t *m, uintptr_t addr);  /* exact start; -1: none      */
int m_obj_containing(const model_t *m, uintptr_t addr);
void m_obj_remove(model_t *m, int i);
bool m_obj_overlaps_any(const model_t *m, uintptr_t addr, size_t size, int except);
/* Fill bytes: all of a block up to 4 KiB, else 64-byte stripes at every page and at the
 * end (cheap, still catches a header or link written into a live block). */
void m_fill(const model_t *m, const m_obj_t *o);
/* Offset of the first byte that lost its fill, or -1. `len` caps the checked prefix. */
long m_fill_check(const model_t *m, const m_obj_t *o, size_t len);
/* The full check of the live object starting at `addr` before its free: the offset of
 * the first byte that lost its fill, or -1 (also when no live object starts there). */
long m_fill_check_at(const model_t *m, uintptr_t addr);

/* The quick per-op check: the first 64 bytes of up to `count` live objects, going round
 * the table from one call to the next (every object is checked in full at its free).
 * Returns the index of an object that lost its fill, or -1. */
int m_fill_check_some(model_t *m, size_t count);

/* slabs.c */
/* Slabs lie in [base, base + M_WINDOW_BYTES) (the harness's arena); once per input. */
void m_slab_window(model_t *m, uintptr_t base);
/* -1: the table is full or base is outside the window. */
int m_slab_add(model_t *m, unsigned cpu, unsigned cls, uintptr_t base);
int m_slab_of(const model_t *m, uintptr_t addr);        /* slab containing addr; -1 */
int m_slab_at(const model_t *m, uintptr_t base);        /* slab starting at base; -1 */
long m_slab_slot(const m_slab_t *s, uintptr_t addr);    /* object start -> slot; -1 */
uintptr_t m_slab_obj(const m_slab_t *s, uint32_t slot);
long m_slab_lowest_free(const model_t *m, int slab);
/* Slabs of (cpu, cls) with a free slot. */
size_t m_slab_with_room(const model_t *m, unsigned cpu, unsigned cls);
size_t m_slab_fully_free(const model_t *m, unsigned cpu, unsigned cls);
/* The owner's drain: every pending slot of the class's slabs becomes free. */
void m_slab_drain(model_t *m, unsigned cpu, unsigned cls);
/* The drain an allocation does: only when every slab with a free slot is entirely free. */
void m_slab_alloc_drain(model_t *m, unsigned cpu, unsigned cls);
/* An allocation landed in `slab` at `slot` (the caller checked it was free). */
void m_slab_take(model_t *m, int slab, uint32_t slot);
/* Owner frees a live slot (a free does not drain). True: the slab must go back (removed). */
bool m_slab_local_free(model_t *m, int slab, uint32_t slot);
void m_slab_remote_free(model_t *m, int slab, uint32_t slot);
/* One reclaim step of `cpu`: drains classes from 0 up to the first with a fully free
 * slab; returns that class (the core must release one of its fully free slabs), or -1. */
int m_slab_reclaim_class(model_t *m, unsigned cpu);
/* A reclaim released `slab` of class `cls`. */
void m_slab_reclaimed(model_t *m, int slab);
void m_slab_remove(model_t *m, int slab);
/* Per CPU and class (O(1), from the tally). */
size_t m_slab_live(const model_t *m, unsigned cpu, unsigned cls);
size_t m_slab_count(const model_t *m, unsigned cpu, unsigned cls);
size_t m_slab_pending(const model_t *m, unsigned cpu, unsigned cls);
/* The tally by a full scan of the slabs (m_selfcheck compares it with the index). */
void m_slab_tally_scan(const model_t *m, m_tally_t *t);

#endif /* BSA_FUZZ_MODEL_H */
