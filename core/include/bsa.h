/*
 * bsa.h - the one public header of bsa, a buddy + slab allocator core in C11.
 *
 * Three layers, each usable alone:
 *   bsa_buddy_*   page allocator over any number of regions (caller serialises)
 *   bsa_slab_*    per-CPU object allocator, 9 classes of 8..2048 bytes; owns no pages
 *                 (the BSA_NEED_PAGES / BSA_RELEASE_PAGES protocol), lock-free remote frees
 *   bsa_*         global allocator: buddy + one slab per CPU, thread-safe after bsa_init
 *
 * Needs only <stddef.h>, <stdint.h>, <stdbool.h>; builds with -ffreestanding.
 * Every call that returns an error changes nothing. Struct types are complete so that
 * a kernel can place them statically; their fields are private (names start with `_`).
 */
#ifndef BSA_H
#define BSA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
/* C++ sees the same layout; only the core touches these fields, always as C11 atomics. */
#define BSA__ATOMIC(T) T
#define BSA__ALIGN64 alignas(64)
#else
#define BSA__ATOMIC(T) _Atomic(T)
#define BSA__ALIGN64 _Alignas(64)
#endif

/* Public functions keep default visibility even when the core is built with
 * -fvisibility=hidden (internal bsa__ symbols stay hidden), so a shared build works. */
#if defined(__GNUC__)
#define BSA_API __attribute__((visibility("default")))
#else
#define BSA_API
#endif

#define BSA_VERSION_MAJOR 0
#define BSA_VERSION_MINOR 1
#define BSA_VERSION_PATCH 0

#define BSA_MAX_ORDER 20            /* largest buddy block: 2^20 pages              */
#define BSA_SIZE_CLASS_COUNT 9      /* 8, 16, ..., 2048 bytes                        */
#define BSA_SMALL_MAX 2048          /* size and align <= this go to the slabs        */
#define BSA_DMA32_LIMIT 0x100000000ull /* physical end limit of the *_lowmem calls     */
#define BSA_MAX_COUNT (1ul << BSA_MAX_ORDER) /* largest page count of one request     */
#define BSA_MIN_PAGE_SIZE 4096
#define BSA_MAX_PAGE_SIZE 65536
#ifndef BSA_MAX_CPUS
#define BSA_MAX_CPUS 256
#endif

typedef enum bsa_status {
    BSA_OK = 0,
    BSA_NEED_PAGES = 1,    /* slab only: class has no free object; see bsa_slab_alloc   */
    BSA_RELEASE_PAGES = 2, /* slab only: a slab became empty; give its pages back       */
    BSA_E_INVALID = -1,    /* argument outside the contract                             */
    BSA_E_NOMEM = -2,      /* well-formed request that no free block can satisfy        */
    BSA_E_OVERLAP = -3,    /* region overlaps memory this instance already manages      */
    BSA_E_UNINIT = -4,     /* instance used before a successful init                     */
    BSA_E_BAD_FREE = -5,   /* not a live allocation of this instance                     */
    BSA_E_CORRUPT = -6,    /* bsa_check found a broken invariant                         */
} bsa_status_t;

/* "BSA_E_NOMEM", ...; "BSA_UNKNOWN_STATUS" for a value outside the enum. Never NULL. */
BSA_API const char *bsa_status_name(bsa_status_t s);

/* ------------------------------------------------------------------------------------
 * Platform hooks. Build with designated initializers; NULL means the built-in default.
 * The table is copied at init. Every hook gets `ctx`.
 */
typedef struct bsa_ops {
    void *ctx;
    /* Current CPU, < cpu_count. Called on every global alloc/free; must be cheap and
     * must not allocate. Required when cpu_count > 1. */
    unsigned (*cpu_id)(void *ctx);
    /* Physical address of `va`. NULL: identity. Called once per region when it is
     * added (on its first managed page): a region must be physically contiguous. */
    uint64_t (*virt_to_phys)(void *ctx, uintptr_t va);
    /* Entered before taking any bsa lock and left after releasing it (e.g. IRQ masking,
     * preemption off). `enter` returns a state that `exit` restores. Never nested by bsa. */
    uintptr_t (*crit_enter)(void *ctx);
    void (*crit_exit)(void *ctx, uintptr_t state);
    /* Called in spin-wait loops (e.g. PAUSE / YIELD / WFE). NULL: busy spin. */
    void (*relax)(void *ctx);
    /* A bad free was refused or detected (status BSA_E_BAD_FREE), `ptr` the culprit.
     * May be called with a bsa lock held: it must not call back into bsa. */
    void (*report)(void *ctx, bsa_status_t status, const void *ptr);
} bsa_ops_t;

/* ------------------------------------------------------------------------------------
 * Buddy page allocator (standalone, not thread-safe: the caller serialises).
 */
struct bsa__section;

typedef struct bsa_buddy {
    uint32_t _magic;                       /* set last by a successful init          */
    unsigned _page_shift;
    size_t _page_size;
    bsa_ops_t _ops;
    struct bsa__section *_first, *_last;   /* registration order: allocation order   */
    /* address-sorted skip list of sections, read lock-free by lookups */
    BSA__ATOMIC(struct bsa__section *) _skip[8];
    BSA__ATOMIC(unsigned) _skip_levels;    /* levels in use: lookups start there      */
    size_t _section_count;
    size_t _total_pages, _free_pages;
    size_t _free_blocks[BSA_MAX_ORDER + 1];
} bsa_buddy_t;

typedef struct bsa_section_info {
    void *start;        /* first managed page (after the region's own metadata) */
    size_t bytes;       /* managed bytes in this section = total_pages * page_size */
    size_t total_pages;
    size_t free_pages;
} bsa_section_info_t;

/* O(1) + O(region pages) to write page metadata. E_INVALID: page size not a power of
 * two in 4096..65536, NULL region, or not one whole page left after the metadata. */
BSA_API bsa_status_t bsa_buddy_init(bsa_buddy_t *b, size_t page_size, const bsa_ops_t *ops,
                            void *region, size_t len);
/* As init's region; E_OVERLAP if it overlaps a region already added (touching is fine). */
BSA_API bsa_status_t bsa_buddy_add_region(bsa_buddy_t *b, void *region, size_t len);
/* 2^k pages, k = ceil(log2(count)), at an address that is a multiple of `align`
 * (0: page size). Succeeds whenever such a buddy-aligned free run exists. O(orders) for
 * the default alignment, O(free blocks) for larger ones. */
BSA_API bsa_status_t bsa_buddy_alloc_pages(bsa_buddy_t *b, size_t count, size_t align, void **out);
/* As alloc_pages, and the block's physical end is <= BSA_DMA32_LIMIT. */
BSA_API bsa_status_t bsa_buddy_alloc_pages_lowmem(bsa_buddy_t *b, size_t count, size_t align,
                                          void **out);
/* E_BAD_FREE unless `addr` is the start of a live block and `count` rounds to its order. */
BSA_API bsa_status_t bsa_buddy_free_pages(bsa_buddy_t *b, void *addr, size_t count);
BSA_API size_t bsa_buddy_section_count(const bsa_buddy_t *b);
BSA_API bsa_status_t bsa_buddy_section(const bsa_buddy_t *b, size_t index, bsa_section_info_t *out);
BSA_API size_t bsa_buddy_managed_bytes(const bsa_buddy_t *b);
BSA_API size_t bsa_buddy_allocated_bytes(const bsa_buddy_t *b);
/* Free buddy blocks of `order`; 0 for an order out of range. */
BSA_API size_t bsa_buddy_free_blocks(const bsa_buddy_t *b, unsigned order);
/* Walks every section: BSA_OK or BSA_E_CORRUPT. */
BSA_API bsa_status_t bsa_buddy_check(const bsa_buddy_t *b);

/* ------------------------------------------------------------------------------------
 * Slab allocator (standalone; one per CPU; owns no pages).
 */
struct bsa__slab_hdr;

/* Entries in a slab allocator's free hints (bsa_slab_t._free_hints). */
#define BSA__FREE_HINTS 128u /* a power of two */

typedef struct bsa__slab_class {
    struct bsa__slab_hdr *_partial, *_full, *_empty; /* doubly linked; _empty holds <= 1 */
    /* Written by the owner only, read by bsa_stats from any CPU (hence atomic). */
    BSA__ATOMIC(size_t) _slabs;       /* on all three lists                             */
    BSA__ATOMIC(size_t) _in_use;      /* objects handed out, remote frees not yet drained */
    uint32_t _slab_pages, _first_offset, _count; /* geometry, from bsa__slab_geometry  */
    /* Slabs on the full list: with _in_use, says in one compare whether every slab with
     * a free slot is entirely free (bsa__only_empty_room), instead of a walk of the
     * partial list. 32 bits fill the padding: 2^32 full slabs would be 16 TiB.          */
    uint32_t _full_slabs;
    /* The slabs whose remote-free stack a push took from empty, for the owner's drain to
     * visit (instead of every slab of the class). Not NULL: frees wait for a drain.
     * Other CPUs write it once per slab and drain, not per free, so it may sit with the
     * owner's lines; here it also makes the struct 64 bytes, so finding a class is a
     * shift. */
    BSA__ATOMIC(struct bsa__slab_hdr *) _ready;
} bsa__slab_class_t;

typedef struct bsa_slab {
    uint32_t _magic;
    unsigned _cpu;
    size_t _page_size;
    const bsa_ops_t *_ops;            /* report hook; NULL when standalone              */
    BSA__ATOMIC(size_t) _bad_frees;   /* refused or detected at drain, any CPU          */
    bsa__slab_class_t _cls[BSA_SIZE_CLASS_COUNT];
    /* Whether this allocator keeps a room slab (below): the global allocator's in
     * BSA_CPU_EXCLUSIVE mode. Elsewhere a full slab moves at its first slot back. */
    bool _keeps_room;
    /* NULL, or the one slab on a full list that has a free slot again: the first full
     * slab a free gives a slot back to while there is none stays on its list, and its
     * class's allocations take from it before any other slab (bsa__slab_room), so that a
     * free+alloc step moves no slab between lists. It stops being the room when it fills
     * again, or makes the deferred move to the partial list when it empties
     * (end_room() in slab.c). */
    struct bsa__slab_hdr *_room;
    /* The free hints: the slabs of recent exclusive-mode local frees that had to be
     * looked up, one entry per 4 KiB chunk of such a slab, indexed by chunk
     * (bsa__free_hint_at). A free whose entry's slab holds it skips the section, page
     * record and header checks. Many entries, not one: frees spread over a few slabs
     * (any live set of more than one slab's objects) missed a single hint whenever they
     * changed slab, each miss a mispredicted branch and a lookup. Each entry is 0, or the
     * address of a live slab (page-aligned) with log2 of its size in bytes in the low 6
     * bits: one word each. Cleared when the slab is handed back (owner only). */
    uintptr_t _free_hints[BSA__FREE_HINTS];
    /* Per class: pushed by other CPUs, not yet drained. On cache lines of their own, so
     * that a remote free's increment does not take away the lines the owner writes. */
    BSA__ALIGN64 BSA__ATOMIC(size_t) _remote_pending[BSA_SIZE_CLASS_COUNT];
} bsa_slab_t;

typedef struct bsa_slab_pages {  /* filled on BSA_NEED_PAGES and BSA_RELEASE_PAGES */
    unsigned size_class;         /* 0..8                                           */
    void *base;                  /* RELEASE: first page to give back               */
    size_t pages;                /* pages to supply (NEED) or give back (RELEASE)  */
} bsa_slab_pages_t;

BSA_API int bsa_size_class(size_t size, size_t align);  /* 0..8, or -1: not slab-sized */
BSA_API size_t bsa_size_class_bytes(unsigned size_class); /* 8 << size_class; 0 if out of range */
/* Pages per slab of the class: the smallest power of two holding at least 16 objects
 * and at least one page. 0 for a bad class or page size. */
BSA_API size_t bsa_slab_pages_for(unsigned size_class, size_t page_size);
/* Objects per slab and offset of the first object from the slab start. */
BSA_API size_t bsa_slab_objects_for(unsigned size_class, size_t page_size);
BSA_API size_t bsa_slab_first_offset_for(unsigned size_class, size_t page_size);

BSA_API bsa_status_t bsa_slab_init(bsa_slab_t *s, size_t page_size, unsigned cpu);
BSA_API bsa_status_t bsa_slab_alloc(bsa_slab_t *s, size_t size, size_t align, void **out,
                            bsa_slab_pages_t *need);
/* `base` aligned to and `bytes` equal to the class's slab size. */
BSA_API bsa_status_t bsa_slab_add_slab(bsa_slab_t *s, unsigned size_class, void *base, size_t bytes);
BSA_API bsa_status_t bsa_slab_free(bsa_slab_t *s, void *ptr, size_t size, size_t align,
                           bsa_slab_pages_t *release);
/* Any CPU, any time, no lock: E_BAD_FREE at once when the object is already free or
 * already pending; otherwise queued for the owner. */
BSA_API bsa_status_t bsa_slab_remote_free(void *ptr, size_t size, size_t align);
/* Owner: drains every pending remote free and hands back every empty slab, one per
 * call: BSA_RELEASE_PAGES with `release` filled until BSA_OK says nothing is left. */
BSA_API bsa_status_t bsa_slab_reclaim(bsa_slab_t *s, bsa_slab_pages_t *release);
/* Objects of the class currently live (handed out minus drained and pending frees). */
BSA_API size_t bsa_slab_live(const bsa_slab_t *s, unsigned size_class);
BSA_API size_t bsa_slab_count(const bsa_slab_t *s, unsigned size_class);
BSA_API size_t bsa_slab_remote_pending(const bsa_slab_t *s, unsigned size_class);
BSA_API uint64_t bsa_slab_bad_frees(const bsa_slab_t *s);
BSA_API bsa_status_t bsa_slab_check(const bsa_slab_t *s);

/* ------------------------------------------------------------------------------------
 * Global allocator (thread-safe after init).
 */
/* bsa_config_t.flags. BSA_CPU_EXCLUSIVE: the platform promises that CPU i's slabs are
 * only ever touched by one thread of control at a time, the one cpu_id() calls i
 * (kernel: preemption and same-CPU interrupt allocations off around each call; hosted:
 * one thread per CPU id). The per-CPU lock and its critical-section hooks are then
 * skipped; frees from other CPUs stay lock-free pushes. bsa_stats and bsa_check read
 * other CPUs' slab lists unlocked in this mode: call them on a quiet allocator. */
#define BSA_CPU_EXCLUSIVE 1u

/* With BSA_CPU_EXCLUSIVE each CPU also keeps page blocks of order
 * 0..BSA_PAGE_CACHE_MAX_ORDER, up to BSA_PAGE_CACHE_DEPTH per order, last in first out,
 * as Linux keeps per-CPU page lists: a page pair on one CPU then takes no lock and does
 * no split or merge. A cached block counts as taken (not in free_pages;
 * bsa_stats.cached_pages). bsa_alloc_pages and a large bsa_alloc take the newest cached
 * block of the order when it meets the alignment (lowmem requests never use the cache).
 * The cache moves blocks to and from the buddy in batches, one buddy lock hold each:
 *   - refill: a request that finds its order's stack empty takes its block from the
 *     buddy and DEPTH - 1 more of the order (page-aligned, fewer if the buddy runs out)
 *     for the stack; not when the buddy could meet it only after the give-back below.
 *     The DEPTH blocks are one aligned run carved from one free block when the buddy has
 *     one that large (smaller free blocks are then left to other requests);
 *   - spill: bsa_free_pages (or bsa_free of a large object) pushes the block; when the
 *     stack is full, the whole stack goes back to the buddy first (as one block when it is
 *     one such run).
 * A request the buddy cannot meet first gives the calling CPU's whole cache back and
 * tries again; bsa_reclaim gives it back too. Other CPUs' caches are theirs: call
 * bsa_reclaim on an idle CPU to return its pages. At most DEPTH * (2^(MAX_ORDER+1) - 1)
 * = 124 pages per CPU. Additions to API.md. */
#define BSA_PAGE_CACHE_MAX_ORDER 4u
#define BSA_PAGE_CACHE_DEPTH 4u

typedef struct bsa_config {
    size_t page_size;       /* 4096..65536, power of two           */
    unsigned cpu_count;     /* 1..BSA_MAX_CPUS                     */
    const bsa_ops_t *ops;   /* cpu_id required when cpu_count > 1  */
    unsigned flags;         /* 0 (default, shared ids) or BSA_CPU_EXCLUSIVE; an
                             * addition to API.md: zero-initialised configs keep the
                             * contract's behaviour */
} bsa_config_t;

struct bsa__cpu;

/* Field order is for the cache: what every call reads (the head, _ops, _cpus, the
 * buddy's page size) comes first and is written only by init; what CPUs write (the
 * buddy's counters, the buddy lock, _bad_frees) comes last, more than a cache line
 * after it, so that one CPU's buddy work does not take the line the others read on every
 * call (bsa_buddy_t keeps its counters last for the same reason). */
typedef struct bsa_allocator {
    uint32_t _magic;
    unsigned _cpu_count;
    unsigned _flags;                  /* bsa_config_t.flags                          */
    unsigned _cached_orders;          /* page orders below it use the page cache: 0, or
                                       * BSA_PAGE_CACHE_MAX_ORDER + 1 when exclusive   */
    bsa_ops_t _ops;
    struct bsa__cpu *_cpus;           /* carved from the first region                */
    size_t _initial_free_pages;
    bsa_buddy_t _buddy;
    BSA__ATOMIC(int) _buddy_lock;
    BSA__ATOMIC(size_t) _bad_frees;   /* refused by allocator-level checks           */
} bsa_allocator_t;

BSA_API bsa_status_t bsa_init(bsa_allocator_t *a, const bsa_config_t *cfg, void *region, size_t len);
BSA_API bsa_status_t bsa_add_region(bsa_allocator_t *a, void *region, size_t len);

BSA_API bsa_status_t bsa_alloc(bsa_allocator_t *a, size_t size, size_t align, void **out);
BSA_API bsa_status_t bsa_free(bsa_allocator_t *a, void *ptr); /* NULL: BSA_OK */
BSA_API bsa_status_t bsa_free_sized(bsa_allocator_t *a, void *ptr, size_t size, size_t align);
BSA_API bsa_status_t bsa_realloc(bsa_allocator_t *a, void *ptr, size_t new_size, size_t align,
                         void **out);
BSA_API size_t bsa_usable_size(const bsa_allocator_t *a, const void *ptr); /* 0 if not live */

BSA_API bsa_status_t bsa_alloc_pages(bsa_allocator_t *a, size_t count, size_t align, void **out);
BSA_API bsa_status_t bsa_alloc_pages_lowmem(bsa_allocator_t *a, size_t count, size_t align,
                                    void **out);
BSA_API bsa_status_t bsa_free_pages(bsa_allocator_t *a, void *addr, size_t count);

BSA_API bsa_status_t bsa_reclaim(bsa_allocator_t *a); /* current CPU: drain, give back */

BSA_API size_t bsa_section_count(const bsa_allocator_t *a);
BSA_API bsa_status_t bsa_section(const bsa_allocator_t *a, size_t index, bsa_section_info_t *out);

typedef struct bsa_class_stats {
    size_t object_size;  /* 8 << class                       */
    size_t slabs;        /* slabs held, all CPUs              */
    size_t capacity;     /* objects those slabs can hold      */
    size_t live;         /* objects allocated and not freed   */
    size_t remote_pending; /* remote frees not yet drained    */
} bsa_class_stats_t;

typedef struct bsa_stats {
    size_t managed_bytes;                  /* sum of section bytes           */
    size_t allocated_bytes;                /* managed - free_pages*page_size */
    size_t total_pages, free_pages;
    size_t free_blocks[BSA_MAX_ORDER + 1]; /* free buddy blocks per order    */
    bsa_class_stats_t classes[BSA_SIZE_CLASS_COUNT];
    uint64_t bad_frees;                    /* frees refused or detected bad  */
    size_t cached_pages;                   /* in per-CPU page caches (an
                                            * addition to API.md)            */
} bsa_stats_t;

BSA_API bsa_status_t bsa_stats(const bsa_allocator_t *a, bsa_stats_t *out);
BSA_API bsa_status_t bsa_check(const bsa_allocator_t *a); /* BSA_OK or BSA_E_CORRUPT */

#ifdef __cplusplus
}
#endif
#endif /* BSA_H */
