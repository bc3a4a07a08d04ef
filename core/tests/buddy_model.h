/*
 * buddy_model.h - the reference model of the buddy page allocator (DESIGN section 7),
 * shared by the buddy tests.
 *
 * The model knows only what the contract promises: a bitmap of used pages per section
 * and the head of every live block. From it, it predicts
 *   - whether alloc_pages(count, align) / alloc_pages_lowmem must succeed (some run of
 *     2^k fully free pages at a section-relative page index that is a multiple of 2^k,
 *     address a multiple of align, and for lowmem phys end <= 4 GiB),
 *   - whether a returned block is such a run,
 *   - the status of a free,
 *   - every counter: managed/allocated bytes, per-section info, and the free blocks per
 *     order (with eager merging the free blocks are exactly the maximal free buddy
 *     blocks; see bm_count_blocks),
 * and compares them with the core after each operation (bm_verify).
 *
 * Also here: a linear per-region virt_to_phys translator (the core translates a region
 * once, at add time, so a translator must be linear per region), and a snapshot of
 * everything observable about an instance, for "an error changes nothing" checks.
 *
 * Tests may use libc freely; only the core may not.
 */
#ifndef BSA_TESTS_BUDDY_MODEL_H
#define BSA_TESTS_BUDDY_MODEL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bsa.h"

#define BM_4G 0x100000000ull

/* ---- small helpers ------------------------------------------------------------------ */

/* Smallest k with 2^k >= count (count >= 1). Re-derived on purpose: this is the oracle. */
static inline unsigned bm_order_of(size_t count) {
    unsigned k = 0;
    while (((size_t)1 << k) < count)
        k++;
    return k;
}

static inline bool bm_is_pow2(size_t x) { return x != 0 && (x & (x - 1)) == 0; }

/* ---- linear per-region translator --------------------------------------------------- */

#define BM_XLATE_MAX 64

typedef struct bm_xlate {
    size_t n;
    struct {
        uintptr_t va;
        size_t len;
        uint64_t pa;
    } map[BM_XLATE_MAX];
    unsigned calls;  /* every call                                    */
    unsigned misses; /* calls with an address outside every mapping   */
} bm_xlate_t;

/* Maps [va, va + len) linearly onto [pa, pa + len). */
static inline void bm_xlate_add(bm_xlate_t *x, const void *va, size_t len, uint64_t pa) {
    if (x->n >= BM_XLATE_MAX) {
        fprintf(stderr, "bm_xlate_add: table full\n");
        abort();
    }
    x->map[x->n].va = (uintptr_t)va;
    x->map[x->n].len = len;
    x->map[x->n].pa = pa;
    x->n++;
}

static inline bool bm_xlate_lookup(const bm_xlate_t *x, uintptr_t va, uint64_t *pa) {
    for (size_t i = x->n; i-- > 0;) { /* newest first: a re-used range wins */
        if (va >= x->map[i].va && va - x->map[i].va < x->map[i].len) {
            *pa = x->map[i].pa + (uint64_t)(va - x->map[i].va);
            return true;
        }
    }
    return false;
}

/* The hook given to the core through bsa_ops_t.virt_to_phys. */
static inline uint64_t bm_xlate_v2p(void *ctx, uintptr_t va) {
    bm_xlate_t *x = ctx;
    uint64_t pa;
    x->calls++;
    if (bm_xlate_lookup(x, va, &pa))
        return pa;
    x->misses++;
    return (uint64_t)va;
}

/* ---- the model ------------------------------------------------------------------------ */

typedef struct bm_sec {
    uintptr_t start;      /* first managed page, as the core reports it     */
    size_t pages;
    uint64_t phys;        /* physical address of `start` (test translator)  */
    size_t free_pages;
    uint8_t *used;        /* 1 per page: allocated                          */
    uint8_t *head;        /* order + 1 at the head of a live block, else 0  */
} bm_sec_t;

typedef struct bm_model {
    size_t page_size;
    const bm_xlate_t *xlate; /* NULL: identity                              */
    size_t nsec;
    bm_sec_t *sec;           /* in the core's section index order           */
    char msg[512];           /* first disagreement found by bm_verify        */
} bm_model_t;

static inline void bm_init(bm_model_t *m, size_t page_size, const bm_xlate_t *xlate) {
    memset(m, 0, sizeof *m);
    m->page_size = page_size;
    m->xlate = xlate;
}

static inline void bm_destroy(bm_model_t *m) {
    for (size_t i = 0; i < m->nsec; i++) {
        free(m->sec[i].used);
        free(m->sec[i].head);
    }
    free(m->sec);
    memset(m, 0, sizeof *m);
}

static inline bool bm_fail(bm_model_t *m, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(m->msg, sizeof m->msg, fmt, ap);
    va_end(ap);
    return false;
}

static inline uint64_t bm_phys(const bm_model_t *m, uintptr_t va) {
    uint64_t pa = (uint64_t)va;
    if (m->xlate != NULL && !bm_xlate_lookup(m->xlate, va, &pa))
        pa = (uint64_t)va;
    return pa;
}

/* Pages [0, L) of the section end at or below 4 GiB physically. */
static inline size_t bm_lowmem_pages(const bm_model_t *m, const bm_sec_t *s) {
    if (s->phys >= BM_4G)
        return 0;
    uint64_t n = (BM_4G - s->phys) / m->page_size;
    return n < s->pages ? (size_t)n : s->pages;
}

/*
 * Picks up the sections the core reports that the model does not know yet (all pages
 * free) after an init or add_region, and checks the known ones did not move. The core
 * reports sections by index; a new section may be inserted at any index, so the model
 * is re-ordered to the core's order. False (message in m->msg) on a mismatch.
 */
static inline bool bm_sync_sections(bm_model_t *m, const bsa_buddy_t *b) {
    size_t n = bsa_buddy_section_count(b);
    if (n < m->nsec)
        return bm_fail(m, "section count fell from %zu to %zu", m->nsec, n);
    bm_sec_t *next = calloc(n ? n : 1, sizeof *next);
    bool *taken = calloc(m->nsec ? m->nsec : 1, sizeof *taken);
    if (next == NULL || taken == NULL) {
        fprintf(stderr, "bm_sync_sections: out of memory\n");
        abort();
    }
    size_t matched = 0;
    for (size_t i = 0; i < n; i++) {
        bsa_section_info_t info;
        bsa_status_t st = bsa_buddy_section(b, i, &info);
        if (st != BSA_OK) {
            free(next);
            free(taken);
            return bm_fail(m, "bsa_buddy_section(%zu) = %s", i, bsa_status_name(st));
        }
        size_t j = 0;
        while (j < m->nsec && (taken[j] || m->sec[j].start != (uintptr_t)info.start))
            j++;
        if (j < m->nsec) {
            taken[j] = true;
            next[i] = m->sec[j];
            matched++;
            continue;
        }
        bm_sec_t *s = &next[i];
        s->start = (uintptr_t)info.start;
        s->pages = info.total_pages;
        s->phys = bm_phys(m, s->start);
        s->free_pages = info.total_pages;
        s->used = calloc(s->pages ? s->pages : 1, 1);
        s->head = calloc(s->pages ? s->pages : 1, 1);
        if (s->used == NULL || s->head == NULL) {
            fprintf(stderr, "bm_sync_sections: out of memory\n");
            abort();
        }
    }
    bool ok = matched == m->nsec;
    if (!ok)
        bm_fail(m, "a known section vanished or moved (%zu of %zu found)", matched, m->nsec);
    for (size_t j = 0; j < m->nsec && !ok; j++) { /* keep ownership of the lost ones */
        if (!taken[j]) {
            free(m->sec[j].used);
            free(m->sec[j].head);
        }
    }
    free(taken);
    free(m->sec);
    m->sec = next;
    m->nsec = n;
    return ok;
}

/* Section and page index of a page-aligned (relative to the section) address inside a
 * section's managed pages. */
static inline bm_sec_t *bm_find(bm_model_t *m, uintptr_t addr, size_t *idx) {
    *idx = 0;
    for (size_t i = 0; i < m->nsec; i++) {
        bm_sec_t *s = &m->sec[i];
        if (addr >= s->start && (addr - s->start) / m->page_size < s->pages) {
            *idx = (addr - s->start) / m->page_size;
            return s;
        }
    }
    return NULL;
}

static inline bool bm_run_free(const bm_sec_t *s, size_t idx, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (s->used[idx + i])
            return false;
    return true;
}

/* Block of 2^order pages at page `idx` of `s` satisfies the request. */
static inline bool bm_fits(const bm_model_t *m, const bm_sec_t *s, size_t idx,
                           unsigned order, size_t align, bool lowmem) {
    size_t n = (size_t)1 << order;
    if (idx % n != 0 || idx + n > s->pages)
        return false;
    uintptr_t addr = s->start + idx * m->page_size;
    size_t a = align == 0 ? m->page_size : align;
    if (addr % a != 0)
        return false;
    if (lowmem && s->phys + (uint64_t)(idx + n) * m->page_size > BM_4G)
        return false;
    return bm_run_free(s, idx, n);
}

/* The request must succeed exactly when this is true. */
static inline bool bm_can_alloc(const bm_model_t *m, unsigned order, size_t align,
                                bool lowmem) {
    size_t n = (size_t)1 << order;
    for (size_t i = 0; i < m->nsec; i++)
        for (size_t idx = 0; idx + n <= m->sec[i].pages; idx += n)
            if (bm_fits(m, &m->sec[i], idx, order, align, lowmem))
                return true;
    return false;
}

/* Checks that `addr` is a block the request may return, then marks it used. */
static inline bool bm_take(bm_model_t *m, void *addr, unsigned order, size_t align,
                           bool lowmem) {
    size_t idx;
    bm_sec_t *s = bm_find(m, (uintptr_t)addr, &idx);
    if (s == NULL)
        return bm_fail(m, "returned %p is in no section", addr);
    if ((uintptr_t)addr != s->start + idx * m->page_size)
        return bm_fail(m, "returned %p is not page aligned in its section", addr);
    if (!bm_fits(m, s, idx, order, align, lowmem))
        return bm_fail(m,
                       "returned %p (page %zu of section at %#lx, %zu pages) is not a free, "
                       "%zu-aligned run of 2^%u pages%s",
                       addr, idx, (unsigned long)s->start, s->pages,
                       align ? align : m->page_size, order,
                       lowmem ? " ending <= 4 GiB physically" : "");
    size_t n = (size_t)1 << order;
    memset(s->used + idx, 1, n);
    s->head[idx] = (uint8_t)(order + 1);
    s->free_pages -= n;
    return true;
}

#define BM_FREE_OK 0
#define BM_FREE_BAD 1         /* BSA_E_BAD_FREE                                     */
#define BM_FREE_BAD_COUNT 2   /* count 0 or > 2^MAX_ORDER: E_BAD_FREE or E_INVALID */

/* Status a free_pages(addr, count) must get. */
static inline int bm_free_verdict(bm_model_t *m, const void *addr, size_t count) {
    if (count == 0 || count > BSA_MAX_COUNT)
        return BM_FREE_BAD_COUNT;
    size_t idx;
    bm_sec_t *s = bm_find(m, (uintptr_t)addr, &idx);
    if (s == NULL || (uintptr_t)addr != s->start + idx * m->page_size)
        return BM_FREE_BAD;
    if (s->head[idx] == 0 || s->head[idx] != bm_order_of(count) + 1)
        return BM_FREE_BAD;
    return BM_FREE_OK;
}

static inline bool bm_free_status_ok(int verdict, bsa_status_t st) {
    switch (verdict) {
    case BM_FREE_OK: return st == BSA_OK;
    case BM_FREE_BAD: return st == BSA_E_BAD_FREE;
    default: return st == BSA_E_BAD_FREE || st == BSA_E_INVALID;
    }
}

/* Marks the live block at `addr` free. The caller checked bm_free_verdict. */
static inline void bm_release(bm_model_t *m, const void *addr) {
    size_t idx;
    bm_sec_t *s = bm_find(m, (uintptr_t)addr, &idx);
    if (s == NULL || s->head[idx] == 0) {
        fprintf(stderr, "bm_release(%p): not a live block of the model\n", addr);
        abort();
    }
    size_t n = (size_t)1 << (s->head[idx] - 1);
    memset(s->used + idx, 0, n);
    s->head[idx] = 0;
    s->free_pages += n;
}

/*
 * Free blocks per order: the maximal free buddy blocks (section-relative, at most
 * 2^BSA_MAX_ORDER pages, inside the section). With eager merging these are exactly the
 * core's free blocks: a fully free aligned block made of smaller free blocks would
 * contain two free buddies of one order. A greedy scan from low to high finds them.
 * With `cut` a block may also not straddle the section's 4 GiB physical boundary (a
 * core may keep DMA32 and normal pages apart); bm_verify accepts either form.
 */
static inline void bm_count_blocks(const bm_model_t *m, bool cut,
                                   size_t out[BSA_MAX_ORDER + 1]) {
    memset(out, 0, sizeof(size_t) * (BSA_MAX_ORDER + 1));
    for (size_t i = 0; i < m->nsec; i++) {
        const bm_sec_t *s = &m->sec[i];
        size_t low = cut ? bm_lowmem_pages(m, s) : 0;
        size_t idx = 0;
        while (idx < s->pages) {
            if (s->used[idx]) {
                idx++;
                continue;
            }
            unsigned k = 0;
            while (k < BSA_MAX_ORDER) {
                size_t n = (size_t)2 << k;
                if (idx % n != 0 || idx + n > s->pages)
                    break;
                if (cut && low > idx && low < idx + n)
                    break;
                if (!bm_run_free(s, idx, n))
                    break;
                k++;
            }
            out[k]++;
            idx += (size_t)1 << k;
        }
    }
}

static inline bool bm_blocks_equal(const bsa_buddy_t *b, const size_t want[BSA_MAX_ORDER + 1]) {
    for (unsigned k = 0; k <= BSA_MAX_ORDER; k++)
        if (bsa_buddy_free_blocks(b, k) != want[k])
            return false;
    return true;
}

/* Everything observable agrees with the model, and bsa_buddy_check passes. */
static inline bool bm_verify(bm_model_t *m, const bsa_buddy_t *b) {
    size_t n = bsa_buddy_section_count(b);
    if (n != m->nsec)
        return bm_fail(m, "section_count %zu, model %zu", n, m->nsec);
    size_t total = 0, free_pages = 0;
    for (size_t i = 0; i < n; i++) {
        const bm_sec_t *s = &m->sec[i];
        bsa_section_info_t info;
        bsa_status_t st = bsa_buddy_section(b, i, &info);
        if (st != BSA_OK)
            return bm_fail(m, "bsa_buddy_section(%zu) = %s", i, bsa_status_name(st));
        if ((uintptr_t)info.start != s->start || info.total_pages != s->pages ||
            info.bytes != s->pages * m->page_size || info.free_pages != s->free_pages)
            return bm_fail(m,
                           "section %zu: start %p total %zu bytes %zu free %zu; model start "
                           "%#lx total %zu free %zu",
                           i, info.start, info.total_pages, info.bytes, info.free_pages,
                           (unsigned long)s->start, s->pages, s->free_pages);
        total += s->pages;
        free_pages += s->free_pages;
    }
    size_t managed = bsa_buddy_managed_bytes(b), allocated = bsa_buddy_allocated_bytes(b);
    if (managed != total * m->page_size)
        return bm_fail(m, "managed_bytes %zu, model %zu", managed, total * m->page_size);
    if (allocated != (total - free_pages) * m->page_size)
        return bm_fail(m, "allocated_bytes %zu, model %zu", allocated,
                       (total - free_pages) * m->page_size);
    size_t want[BSA_MAX_ORDER + 1], want_cut[BSA_MAX_ORDER + 1];
    bm_count_blocks(m, false, want);
    bm_count_blocks(m, true, want_cut);
    if (!bm_blocks_equal(b, want) && !bm_blocks_equal(b, want_cut)) {
        char got[256] = "", exp[256] = "";
        for (unsigned k = 0; k <= BSA_MAX_ORDER; k++) {
            size_t g = bsa_buddy_free_blocks(b, k);
            if (g != 0 || want[k] != 0) {
                size_t lg = strlen(got), le = strlen(exp);
                snprintf(got + lg, sizeof got - lg, " %u:%zu", k, g);
                snprintf(exp + le, sizeof exp - le, " %u:%zu", k, want[k]);
            }
        }
        return bm_fail(m, "free_blocks (order:count)%s; model%s", got, exp);
    }
    if (bsa_buddy_free_blocks(b, BSA_MAX_ORDER + 1) != 0)
        return bm_fail(m, "free_blocks(MAX_ORDER + 1) is not 0");
    bsa_status_t st = bsa_buddy_check(b);
    if (st != BSA_OK)
        return bm_fail(m, "bsa_buddy_check = %s", bsa_status_name(st));
    return true;
}

/* ---- snapshot: everything observable, for "an error changes nothing" --------------- */

#define BM_SNAP_SECS 256

typedef struct bm_snap {
    size_t sections;
    bsa_section_info_t info[BM_SNAP_SECS];
    size_t managed, allocated;
    size_t blocks[BSA_MAX_ORDER + 1];
    bsa_status_t check;
} bm_snap_t;

static inline void bm_snap_take(const bsa_buddy_t *b, bm_snap_t *s) {
    memset(s, 0, sizeof *s);
    s->sections = bsa_buddy_section_count(b);
    for (size_t i = 0; i < s->sections && i < BM_SNAP_SECS; i++)
        if (bsa_buddy_section(b, i, &s->info[i]) != BSA_OK)
            memset(&s->info[i], 0xee, sizeof s->info[i]);
    s->managed = bsa_buddy_managed_bytes(b);
    s->allocated = bsa_buddy_allocated_bytes(b);
    for (unsigned k = 0; k <= BSA_MAX_ORDER; k++)
        s->blocks[k] = bsa_buddy_free_blocks(b, k);
    s->check = bsa_buddy_check(b);
}

/* Same as `before`, which was taken on a consistent instance. Prints what differs. */
static inline bool bm_snap_same(const bsa_buddy_t *b, const bm_snap_t *before,
                                const char *what) {
    bm_snap_t now;
    bm_snap_take(b, &now);
    bool same = true;
    if (now.sections != before->sections) {
        fprintf(stderr, "  %s: section count %zu -> %zu\n", what, before->sections,
                now.sections);
        same = false;
    }
    for (size_t i = 0; i < now.sections && i < before->sections && i < BM_SNAP_SECS; i++) {
        const bsa_section_info_t *x = &before->info[i], *y = &now.info[i];
        if (x->start != y->start || x->bytes != y->bytes || x->total_pages != y->total_pages ||
            x->free_pages != y->free_pages) {
            fprintf(stderr, "  %s: section %zu changed (free %zu -> %zu)\n", what, i,
                    x->free_pages, y->free_pages);
            same = false;
        }
    }
    if (now.managed != before->managed || now.allocated != before->allocated) {
        fprintf(stderr, "  %s: managed/allocated %zu/%zu -> %zu/%zu\n", what, before->managed,
                before->allocated, now.managed, now.allocated);
        same = false;
    }
    for (unsigned k = 0; k <= BSA_MAX_ORDER; k++) {
        if (now.blocks[k] != before->blocks[k]) {
            fprintf(stderr, "  %s: free_blocks[%u] %zu -> %zu\n", what, k, before->blocks[k],
                    now.blocks[k]);
            same = false;
        }
    }
    if (now.check != BSA_OK) {
        fprintf(stderr, "  %s: bsa_buddy_check = %s\n", what, bsa_status_name(now.check));
        same = false;
    }
    return same;
}

#endif /* BSA_TESTS_BUDDY_MODEL_H */
