/*
 * fuzz_allocator.c - differential fuzzer of the global allocator (every public call).
 *
 * One bsa_allocator_t with 1..4 CPUs over a small first region (64..512 pages) of a
 * static arena; more regions join through bsa_add_region. The CPU of every op is chosen
 * by the input and returned by the cpu_id hook, so remote frees and drains run
 * deterministically in one thread. Page pressure is real: FILL_PAGES takes pages with
 * bsa_alloc_pages until the buddy says NOMEM, after which slab refills fail too.
 *
 * The model (model/) follows the pages exactly: where a new slab went is learned from the
 * first object the core hands out of it (slot 0, at the class's first offset), and from
 * then on slab refills, slab releases (a local free emptying a slab while one is cached;
 * bsa_reclaim) and large blocks all move pages in the model as in the core. Statuses,
 * counters (bsa_stats), usable sizes, fill bytes and bsa_check are compared after every
 * op. Memory outside the regions is ASan-poisoned: the core must never touch it.
 *
 * Header: [0] page size  [1] CPUs, translator  [2-3] first region pages  [4-5] its
 * offset  [6-7] phys choice. Ops: `enum op` and README.md.
 */
#include <stdio.h>
#include <string.h>

#include "fuzz_common.h"
#include "internal.h" /* CORRUPT: the core's records, to corrupt on purpose */
#include "model.h"

#define TARGET "fuzz_allocator"
#define ARENA_BYTES ((size_t)4 << 20)
#define MAX_CPUS 4
#define STALE 16

static uint8_t arena[ARENA_BYTES] __attribute__((aligned(65536)));
static model_t model;
static bsa_allocator_t alloc;
static bsa_ops_t ops;
static unsigned cpus, cur_cpu, reports;
static unsigned flags; /* bsa_config_t.flags of this input */
static size_t ps;
static size_t objects_per_slab[BSA_SIZE_CLASS_COUNT]; /* for ps, asked once per input */
static bool translate;

/* ---- hooks ------------------------------------------------------------------------- */
static unsigned fuzz_cpu_id(void *ctx) {
    (void)ctx;
    return cur_cpu;
}

static void fuzz_report(void *ctx, bsa_status_t st, const void *ptr) {
    (void)ctx;
    (void)ptr;
    if (st != BSA_E_BAD_FREE)
        fz_fail("report hook called with %s", bsa_status_name(st));
    reports++;
}


/* ---- small helpers ----------------------------------------------------------------- */
static bool in_arena(uintptr_t start, size_t len) {
    uintptr_t a = (uintptr_t)arena;
    return start >= a && len <= ARENA_BYTES && start - a <= ARENA_BYTES - len;
}


/* Pages of a large request, or 0 when it cannot be a block (E_INVALID). */
static size_t large_pages(size_t size) {
    size_t pages = size / ps + (size % ps != 0);
    if (pages > BSA_MAX_COUNT)
        return 0;
    return pages ? pages : 1;
}

static void bad_free(void) { model.bad_frees[0]++; }

/* ---- verify ------------------------------------------------------------------------ */
/* The core's page-cache stack of `cpu` and order k: its count and its entries. */
static uint32_t core_cache(unsigned cpu, unsigned k, const uintptr_t **entries) {
    const bsa__page_cache_t *c = &alloc._cpus[cpu].pages;
    *entries = c->block[k];
    return atomic_load_explicit((_Atomic uint32_t *)&c->count[k], memory_order_relaxed);
}

static void verify_stats(void) {
    bsa_stats_t st;
    fz_expect_status("bsa_stats", bsa_stats(&alloc, &st), BSA_OK);
    size_t total = m_pages_total(&model), free = m_pages_free(&model);
    fz_expect_size("stats.managed_bytes", st.managed_bytes, total * ps);
    fz_expect_size("stats.allocated_bytes", st.allocated_bytes, (total - free) * ps);
    fz_expect_size("stats.total_pages", st.total_pages, total);
    fz_expect_size("stats.free_pages", st.free_pages, free);
    fz_expect_size("stats.cached_pages", st.cached_pages, m_cache_pages(&model));
    size_t blocks[BSA_MAX_ORDER + 1];
    m_pages_free_blocks(&model, blocks);
    for (unsigned k = 0; k <= BSA_MAX_ORDER; k++)
        if (st.free_blocks[k] != blocks[k])
            fz_fail("stats.free_blocks[%u]: core %zu, model %zu", k, st.free_blocks[k], blocks[k]);
    const m_tally_t *t = &model.slabs.tally;
    for (unsigned k = 0; k < BSA_SIZE_CLASS_COUNT; k++) {
        size_t slabs = 0, live = 0, pending = 0;
        for (unsigned c = 0; c < cpus; c++) {
            slabs += t->slabs[c][k];
            live += t->live[c][k];
            pending += t->pending[c][k];
        }
        const bsa_class_stats_t *cs = &st.classes[k];
        if (cs->object_size != bsa_size_class_bytes(k) || cs->slabs != slabs ||
            cs->capacity != slabs * objects_per_slab[k] || cs->live != live ||
            cs->remote_pending != pending)
            fz_fail("stats.classes[%u] size/slabs/capacity/live/pending: core "
                    "%zu/%zu/%zu/%zu/%zu, model %zu/%zu/%zu/%zu/%zu", k, cs->object_size,
                    cs->slabs, cs->capacity, cs->live, cs->remote_pending,
                    bsa_size_class_bytes(k), slabs, slabs * objects_per_slab[k], live,
                    pending);
    }
    if (st.bad_frees != model.bad_frees[0] || reports != model.bad_frees[0])
        fz_fail("bad frees: core %llu (report hook %u), model %llu",
                (unsigned long long)st.bad_frees, reports,
                (unsigned long long)model.bad_frees[0]);
}

/* Every CPU's page-cache stacks, entry by entry (newest on top), as the model has them. */
static void verify_caches(void) {
    for (unsigned c = 0; c < cpus; c++)
        for (unsigned k = 0; k <= BSA_PAGE_CACHE_MAX_ORDER; k++) {
            const uintptr_t *entry;
            uint32_t n = core_cache(c, k, &entry);
            if (n != model.pages.cached[c][k])
                fz_fail("cpu %u page cache of order %u: core %u blocks, model %u", c, k, n,
                        model.pages.cached[c][k]);
            for (uint32_t i = 0; i < n; i++)
                if (entry[i] != model.pages.cache[c][k][i])
                    fz_fail("cpu %u page cache of order %u, entry %u: core %#lx, model %#lx",
                            c, k, i, (unsigned long)entry[i],
                            (unsigned long)model.pages.cache[c][k][i]);
        }
}

static void verify(void) {
    fz_expect_status("bsa_check", bsa_check(&alloc), BSA_OK);
    fz_expect_size("section count", bsa_section_count(&alloc), model.pages.nsec);
    for (size_t i = 0; i < model.pages.nsec; i++) {
        const m_section_t *s = &model.pages.sec[i];
        bsa_section_info_t info;
        fz_expect_status("bsa_section", bsa_section(&alloc, i, &info), BSA_OK);
        if (info.start != (void *)s->base || info.total_pages != s->pages ||
            info.bytes != s->pages * ps || info.free_pages != m_section_free(s))
            fz_fail("section %zu start/pages/bytes/free: core %p/%zu/%zu/%zu, model "
                    "%p/%zu/%zu/%zu", i, info.start, info.total_pages, info.bytes,
                    info.free_pages, (void *)s->base, s->pages, s->pages * ps,
                    m_section_free(s));
    }
    verify_stats();
    verify_caches();
    int bad = m_fill_check_some(&model, 32);
    if (bad >= 0)
        fz_fail("block %p: a fill byte changed", (void *)model.objs.obj[bad].addr);
}

/* ---- allocation -------------------------------------------------------------------- */
static m_obj_t *record(const m_obj_t *o) {
    m_obj_t *added = m_obj_add(&model, o);
    if (added == NULL)
        fz_fail("model table full (%d objects)", M_MAX_OBJS);
    m_fill(&model, added);
    return added;
}

/* A page block the core took from the buddy for a request of order k aligned to
 * `align`: must succeed exactly when the model has a run, and be such a run. In exclusive
 * mode a request with no run first gives the CPU's page cache back. */
static bool check_pages(bsa_status_t st, void *p, unsigned k, size_t align, bool lowmem,
                        unsigned kind, const char *what) {
    size_t idx = 0;
    int sec = m_pages_first_fit(&model, k, align, lowmem, &idx);
    if (sec < 0 && (flags & BSA_CPU_EXCLUSIVE) && m_cache_give_back(&model, cur_cpu))
        sec = m_pages_first_fit(&model, k, align, lowmem, &idx);
    if (st != (sec >= 0 ? BSA_OK : BSA_E_NOMEM))
        fz_fail("%s: core %s, model %s (model's lowest run: section %d page %zu)", what,
                bsa_status_name(st), sec >= 0 ? "BSA_OK" : "BSA_E_NOMEM", sec, idx);
    if (st != BSA_OK)
        return false;
    const char *why = m_pages_judge(&model, (uintptr_t)p, k, align, lowmem, sec);
    if (why)
        fz_fail("%s: core took %p: %s (model: section %d page %zu)", what, p, why, sec, idx);
    m_pages_take(&model, (uintptr_t)p, k, kind);
    return true;
}

/* Whether requests of order k on this run's CPUs go through the page cache (lowmem
 * ones never do). */
static bool cache_order(unsigned k) {
    return (flags & BSA_CPU_EXCLUSIVE) && k <= BSA_PAGE_CACHE_MAX_ORDER;
}

/* A page block (PAGES, or a LARGE object's) of order k aligned to `align`: in exclusive
 * mode the CPU's newest cached block of the order comes first when it meets `align`
 * (lowmem never). True when the model expects that hit, and the core gave it. */
static bool check_cache_hit(bsa_status_t st, void *p, unsigned k, size_t align,
                            unsigned kind, const char *what) {
    uintptr_t cached = cache_order(k) ? m_cache_top(&model, cur_cpu, k, align) : 0;
    if (cached == 0)
        return false;
    fz_expect_status(what, st, BSA_OK);
    if ((uintptr_t)p != cached)
        fz_fail("%s: core %p, model's newest cached block %#lx", what, p, (unsigned long)cached);
    m_cache_pop(&model, cur_cpu, k, kind);
    return true;
}

/* After the buddy served a request of order k that found the CPU's stack of the order
 * empty: the refill (page_cache.h). Up to DEPTH - 1 more blocks of the order, each the
 * buddy's choice among the first section's free buddy-aligned runs, while there is one.
 * Which runs the core took is its choice: its stack's first entries say (whatever the
 * rest of the call pushed goes above them), the model judges each. That the core took no
 * more is verify_caches' to see, after the call. */
static void check_refill(unsigned k) {
    const uintptr_t *entry;
    uint32_t n = core_cache(cur_cpu, k, &entry);
    size_t idx = 0;
    for (uint32_t i = 0; i + 1u < BSA_PAGE_CACHE_DEPTH; i++) {
        int sec = m_pages_first_fit(&model, k, ps, false, &idx);
        if (sec < 0)
            break;
        if (i >= n)
            fz_fail("refill of order %u: core cached %u blocks, model has a run (section %d "
                    "page %zu)", k, n, sec, idx);
        const char *why = m_pages_judge(&model, entry[i], k, ps, false, sec);
        if (why)
            fz_fail("refill of order %u: core cached %#lx: %s", k, (unsigned long)entry[i], why);
        m_cache_take(&model, cur_cpu, k, entry[i]);
    }
}

/* A page block (PAGES, LARGE) that the page cache did not serve: the buddy's
 * (check_pages), with a refill when the CPU's stack of the order was empty and the buddy
 * had a run without the cache given back. */
static bool check_buddy_block(bsa_status_t st, void *p, unsigned k, size_t align,
                              unsigned kind, const char *what) {
    size_t idx;
    bool refill = cache_order(k) && model.pages.cached[cur_cpu][k] == 0 &&
                  m_pages_first_fit(&model, k, align, false, &idx) >= 0;
    if (!check_pages(st, p, k, align, false, kind, what))
        return false;
    if (refill)
        check_refill(k);
    return true;
}

/* A live page block freed: into the CPU's page cache in exclusive mode (pushed, or
 * spilled with the whole stack when that is full), else back to the free pages. */
static void release_block(int blk) {
    if (cache_order(model.pages.block[blk].order))
        m_cache_free(&model, cur_cpu, blk);
    else
        m_pages_release(&model, blk);
}

/* A small allocation of class cls on `cpu` answered (st, p). */
static bool check_small(unsigned cpu, int cls, bsa_status_t st, void *p) {
    m_slab_alloc_drain(&model, cpu, (unsigned)cls);
    int sl = -1;
    if (m_slab_with_room(&model, cpu, (unsigned)cls) == 0) { /* a new slab: pages first */
        size_t first = bsa_slab_first_offset_for((unsigned)cls, ps);
        unsigned k = m_order_of(bsa_slab_pages_for((unsigned)cls, ps));
        void *base = (void *)((uintptr_t)p - first);
        if (!check_pages(st, base, k, ps, false, M_SLAB, "bsa_alloc (new slab)"))
            return false;
        sl = m_slab_add(&model, cpu, (unsigned)cls, (uintptr_t)base);
        if (sl < 0)
            fz_fail("model slab table full");
    } else {
        fz_expect_status("bsa_alloc (slab with room)", st, BSA_OK);
        sl = m_slab_of(&model, (uintptr_t)p);
    }
    const m_slab_t *s = sl >= 0 ? &model.slabs.slab[sl] : NULL;
    long slot = s ? m_slab_slot(s, (uintptr_t)p) : -1;
    if (s == NULL || s->cpu != cpu || s->cls != (unsigned)cls || slot < 0)
        fz_fail("object %p is not a slot of a slab of cpu %u class %d", p, cpu, cls);
    if (slot != m_slab_lowest_free(&model, sl))
        fz_fail("object %p is slot %ld; model: the lowest free slot of its slab is %ld", p, slot,
                m_slab_lowest_free(&model, sl));
    m_slab_take(&model, sl, (uint32_t)slot);
    return true;
}

/* bsa_alloc(size, align) on cur_cpu answered (st, p): check and record. NULL: failed. */
static m_obj_t *check_alloc(size_t size, size_t align, bsa_status_t st, void *p, uint8_t fill) {
    size_t a = align ? align : 8;
    if (!m_is_pow2(a)) {
        fz_expect_status("bsa_alloc", st, BSA_E_INVALID);
        return NULL;
    }
    int cls = m_size_class(size, a);
    m_obj_t o = {.addr = (uintptr_t)p, .size = size, .align = align, .cpu = cur_cpu,
                 .state = M_LIVE, .fill = fill};
    if (cls >= 0) {
        if (!check_small(cur_cpu, cls, st, p))
            return NULL;
        o.kind = M_SMALL;
        o.cls = (unsigned)cls;
    } else {
        size_t pages = large_pages(size);
        if (pages == 0) {
            fz_expect_status("bsa_alloc (too large)", st, BSA_E_INVALID);
            return NULL;
        }
        unsigned k = m_order_of(pages);
        size_t block_align = a > ps ? a : ps;
        if (!check_cache_hit(st, p, k, block_align, M_LARGE, "bsa_alloc (large)") &&
            !check_buddy_block(st, p, k, block_align, M_LARGE, "bsa_alloc (large)"))
            return NULL;
        o.kind = M_LARGE;
        o.order = k;
    }
    if ((uintptr_t)p % a != 0 || (cls >= 0 && (uintptr_t)p % bsa_size_class_bytes((unsigned)cls)))
        fz_fail("bsa_alloc returned %p: not aligned to %zu and its class", p, a);
    return record(&o);
}

static void do_alloc(size_t size, size_t align, uint8_t fill) {
    if (model.objs.n >= M_MAX_OBJS - 1)
        return;
    void *p = NULL;
    bsa_status_t st = bsa_alloc(&alloc, size, align, &p);
    check_alloc(size, align, st, p, fill);
}

/* ---- frees ------------------------------------------------------------------------- */
static size_t stale_n;
static m_obj_t stale[STALE];

static void forget(uintptr_t addr) {
    int oi = m_obj_find(&model, addr);
    stale[stale_n++ % STALE] = model.objs.obj[oi];
    m_obj_remove(&model, oi);
}

static void check_fill_before_free(uintptr_t ptr) {
    long bad = m_fill_check_at(&model, ptr);
    if (bad >= 0)
        fz_fail("block %p: fill byte at +%ld changed before its free", (void *)ptr, bad);
}

/* Frees a slab object in the model as the core does on cur_cpu; the status. */
static bsa_status_t model_free_small(int sl, uintptr_t ptr) {
    const m_slab_t *s = &model.slabs.slab[sl];
    long slot = m_slab_slot(s, ptr);
    if (slot < 0)
        return BSA_E_BAD_FREE;
    if (s->cpu != cur_cpu) { /* remote: refused at once when pending or free */
        if (model.slabs.slot[sl][slot] != M_LIVE)
            return BSA_E_BAD_FREE;
        model.objs.obj[m_obj_find(&model, ptr)].state = M_PENDING;
        m_slab_remote_free(&model, sl, (uint32_t)slot);
        return BSA_OK;
    }
    if (model.slabs.slot[sl][slot] != M_LIVE) /* free, or pending: freed remotely */
        return BSA_E_BAD_FREE;
    uintptr_t base = s->base;
    forget(ptr);
    if (m_slab_local_free(&model, sl, (uint32_t)slot)) /* emptied, one cached: pages back */
        m_pages_release(&model, m_pages_block_at(&model, base));
    return BSA_OK;
}

/* The model's bsa_free / bsa_free_sized (cls >= 0: small of that class; order >= 0:
 * large of that order; both -1: unsized). Applies the model's side and returns the
 * status the core must give. */
static bsa_status_t model_free(uintptr_t ptr, int cls, int order) {
    if (ptr == 0)
        return BSA_OK;
    int sl = m_slab_of(&model, ptr);
    if (sl >= 0 && order < 0 && (cls < 0 || model.slabs.slab[sl].cls == (unsigned)cls)) {
        bsa_status_t st = model_free_small(sl, ptr);
        if (st != BSA_OK)
            bad_free();
        return st;
    }
    int blk = m_pages_block_at(&model, ptr);
    if (sl < 0 && blk >= 0 && cls < 0 && model.pages.block[blk].kind == M_LARGE &&
        (order < 0 || model.pages.block[blk].order == (unsigned)order)) {
        forget(ptr);
        release_block(blk);
        return BSA_OK;
    }
    bad_free();
    return BSA_E_BAD_FREE;
}

static void do_free(uintptr_t ptr) {
    check_fill_before_free(ptr);
    bsa_status_t st = bsa_free(&alloc, (void *)ptr);
    fz_expect_status("bsa_free", st, model_free(ptr, -1, -1));
}

static void do_free_sized(uintptr_t ptr, size_t size, size_t align) {
    check_fill_before_free(ptr);
    bsa_status_t st = bsa_free_sized(&alloc, (void *)ptr, size, align);
    size_t a = align ? align : 8;
    bsa_status_t want;
    if (!m_is_pow2(a))
        want = BSA_E_INVALID;
    else if (ptr == 0)
        want = BSA_OK;
    else if (m_size_class(size, a) >= 0)
        want = model_free(ptr, m_size_class(size, a), -1);
    else if (large_pages(size) == 0)
        want = BSA_E_INVALID;
    else
        want = model_free(ptr, -1, (int)m_order_of(large_pages(size)));
    fz_expect_status("bsa_free_sized", st, want);
}

/* What bsa_usable_size must say: the block's bytes for a live large block or object. */
static size_t model_usable(uintptr_t ptr) {
    int sl = m_slab_of(&model, ptr);
    if (sl >= 0) {
        long slot = m_slab_slot(&model.slabs.slab[sl], ptr);
        return slot >= 0 && model.slabs.slot[sl][slot] == M_LIVE ? model.slabs.slab[sl].size
                                                                 : 0;
    }
    int blk = m_pages_block_at(&model, ptr);
    if (blk >= 0 && model.pages.block[blk].kind == M_LARGE)
        return ps << model.pages.block[blk].order;
    return 0;
}

/* May bsa_realloc leave the live block at ptr in place for (size, align)? Only if a fresh
 * request would get a block of the same class (small) or page order (large) and ptr
 * meets the alignment: then bsa_free_sized(ptr, size, align) stays valid. */
static bool may_stay(uintptr_t ptr, size_t size, size_t align) {
    size_t a = align ? align : 8;
    int cls = m_size_class(size, a), sl = m_slab_of(&model, ptr);
    if (ptr % a != 0)
        return false;
    if (cls >= 0)
        return sl >= 0 && model.slabs.slab[sl].cls == (unsigned)cls;
    int blk = m_pages_block_at(&model, ptr);
    return sl < 0 && blk >= 0 && large_pages(size) != 0 &&
           model.pages.block[blk].order == m_order_of(large_pages(size));
}

static void do_realloc(uintptr_t ptr, size_t size, size_t align, uint8_t fill) {
    if (model.objs.n >= M_MAX_OBJS - 1)
        return;
    int oi = ptr ? m_obj_find(&model, ptr) : -1;
    m_obj_t old = oi >= 0 ? model.objs.obj[oi] : (m_obj_t){0};
    size_t usable = ptr ? model_usable(ptr) : 0;
    if (usable)
        check_fill_before_free(ptr);
    void *out = (void *)1;
    bsa_status_t st = bsa_realloc(&alloc, (void *)ptr, size, align, &out);
    if (align != 0 && !m_is_pow2(align)) {
        fz_expect_status("bsa_realloc(bad align)", st, BSA_E_INVALID);
        return;
    }
    if (ptr == 0) {
        check_alloc(size, align, st, out, fill);
        return;
    }
    if (usable == 0) {
        bad_free();
        fz_expect_status("bsa_realloc(not a live block)", st, BSA_E_BAD_FREE);
        return;
    }
    if (size == 0) {
        fz_expect_status("bsa_realloc(p, 0)", st, model_free(ptr, -1, -1));
        fz_expect_ptr("bsa_realloc(p, 0) out", out, NULL);
        return;
    }
    if (st == BSA_OK && out == (void *)ptr) { /* stayed in place: allowed? */
        if (!may_stay(ptr, size, align))
            fz_fail("bsa_realloc(%p, %zu, %zu) stayed in place; model: a fresh request gets "
                    "another class or order, so it must move", (void *)ptr, size, align);
        long bad = m_fill_check(&model, &old, old.size < size ? old.size : size);
        if (bad >= 0)
            fz_fail("bsa_realloc in place: byte +%ld changed", bad);
        m_obj_t *o = &model.objs.obj[oi];
        o->size = size;
        o->align = align;
        o->fill = fill;
        m_fill(&model, o);
        return;
    }
    if (st == BSA_OK) { /* moved: the old bytes must have been copied */
        m_obj_t probe = old;
        probe.addr = (uintptr_t)out;
        long bad = m_fill_check(&model, &probe, old.size < size ? old.size : size);
        if (bad >= 0)
            fz_fail("bsa_realloc moved %p to %p: byte +%ld not copied", (void *)ptr, out, bad);
    }
    if (check_alloc(size, align, st, out, fill) == NULL)
        return; /* failed: the old block is untouched and still live (verify checks) */
    if (model_free(ptr, -1, -1) != BSA_OK)
        fz_fail("bsa_realloc: the model cannot free the old block %p", (void *)ptr);
}

/* ---- pages ------------------------------------------------------------------------- */
static void do_alloc_pages(size_t count, size_t align, bool lowmem, bool null_out,
                           uint8_t fill) {
    if (model.objs.n >= M_MAX_OBJS - 1)
        return;
    void *p = NULL;
    void **out = null_out ? NULL : &p;
    bsa_status_t st = lowmem ? bsa_alloc_pages_lowmem(&alloc, count, align, out)
                             : bsa_alloc_pages(&alloc, count, align, out);
    size_t a = align ? align : ps;
    if (null_out || count == 0 || count > BSA_MAX_COUNT || !m_is_pow2(a) || a < ps) {
        fz_expect_status("bsa_alloc_pages (bad request)", st, BSA_E_INVALID);
        return;
    }
    unsigned k = m_order_of(count);
    if (lowmem ? !check_pages(st, p, k, a, true, M_PAGES, "bsa_alloc_pages_lowmem")
               : !check_cache_hit(st, p, k, a, M_PAGES, "bsa_alloc_pages") &&
                     !check_buddy_block(st, p, k, a, M_PAGES, "bsa_alloc_pages"))
        return;
    m_obj_t o = {.addr = (uintptr_t)p, .size = ps << k, .align = align, .count = count,
                 .kind = M_PAGES, .order = k, .cpu = cur_cpu, .state = M_LIVE, .fill = fill};
    record(&o);
}

static void do_free_pages(uintptr_t addr, size_t count) {
    check_fill_before_free(addr);
    bsa_status_t st = bsa_free_pages(&alloc, (void *)addr, count), want = BSA_E_INVALID;
    if (count != 0 && count <= BSA_MAX_COUNT) {
        int blk = m_pages_block_at(&model, addr);
        want = BSA_E_BAD_FREE;
        if (blk >= 0 && model.pages.block[blk].kind == M_PAGES &&
            model.pages.block[blk].order == m_order_of(count)) {
            want = BSA_OK;
            forget(addr);
            release_block(blk);
        } else {
            bad_free();
        }
    }
    fz_expect_status("bsa_free_pages", st, want);
}

static void do_reclaim(void) {
    fz_expect_status("bsa_reclaim", bsa_reclaim(&alloc), BSA_OK);
    m_cache_give_back(&model, cur_cpu);
    int k;
    while ((k = m_slab_reclaim_class(&model, cur_cpu)) >= 0)
        for (size_t i = 0; i < model.slabs.hi; i++) {
            const m_slab_t *s = &model.slabs.slab[i];
            if (s->used && s->cpu == cur_cpu && s->cls == (unsigned)k && !s->live && !s->pending) {
                m_pages_release(&model, m_pages_block_at(&model, s->base));
                m_slab_reclaimed(&model, (int)i);
                break;
            }
        }
}

/* ---- regions ----------------------------------------------------------------------- */
/* Poisons [start, start + len) but for the sections' regions inside it. */
static void poison_outside_sections(uintptr_t start, size_t len) {
    fz_poison((void *)start, len);
    for (size_t i = 0; i < model.pages.nsec; i++) {
        const m_section_t *s = &model.pages.sec[i];
        if (s->region_start < start + len && start < s->region_end)
            fz_unpoison((void *)s->region_start, s->region_end - s->region_start);
    }
}

static bool add_region(uintptr_t start, size_t len, uint64_t phys, const bsa_config_t *cfg) {
    if (!cfg && model.pages.nsec == M_MAX_SECTIONS)
        return false; /* the model's table is full (the core has no limit): not tried */
    bool mapped = in_arena(start, len);
    size_t meta = cfg ? (size_t)cfg->cpu_count * 2048 : 0; /* the per-CPU array */
    unsigned allowed = fz_region_allowed(
        start, len, ps, meta, !cfg && m_pages_overlaps(&model, start, start + len));
    if (mapped) {
        fz_unpoison((void *)start, len);
        fz_xmap_push(start, start + len, phys);
    }
    fz_xmap_calls = 0;
    bsa_status_t st = cfg ? bsa_init(&alloc, cfg, (void *)start, len)
                          : bsa_add_region(&alloc, (void *)start, len);
    fz_expect_status_in(cfg ? "bsa_init" : "bsa_add_region", st, allowed);
    if (st != BSA_OK) {
        if (mapped) {
            fz_xmap_pop();
            poison_outside_sections(start, len); /* sections stay addressable */
        }
        return false;
    }
    bsa_section_info_t info;
    fz_expect_status("bsa_section of the new section",
                     bsa_section(&alloc, model.pages.nsec, &info), BSA_OK);
    uintptr_t base = (uintptr_t)info.start;
    const char *why = fz_section_sane(start, len, ps, meta, &info);
    if (why)
        fz_fail("new section of region [%#lx, +%zu): start %p, %zu pages: %s",
                (unsigned long)start, len, info.start, info.total_pages, why);
    if (translate && (fz_xmap_calls != 1 || fz_xmap_last != base))
        fz_fail("virt_to_phys called %u times, last at %#lx; want once, at %p",
                fz_xmap_calls, (unsigned long)fz_xmap_last, info.start);
    uint64_t base_phys = translate ? fz_xmap_phys(base) : base;
    m_pages_add(&model, start, start + len, base, info.total_pages, base_phys);
    return true;
}

static void op_add_region(const fz_op_t *op) {
    size_t len = ((op->a & 0x100) ? 1 + (op->a & 0xf) : 1 + (op->a & 0xff)) * ps +
                 ((size_t)(op->a >> 9) << 7);
    uintptr_t start;
    const m_section_t *s = &model.pages.sec[op->b % model.pages.nsec];
    switch (op->cpu & 3) {
    case 0:
        start = m_pages_highest_end(&model, (uintptr_t)arena) + op->b % 512;
        break;
    case 1: start = (uintptr_t)arena + ((size_t)op->b * 64) % ARENA_BYTES; break;
    case 2: start = s->region_start + op->c % (s->region_end - s->region_start); break;
    default: start = s->region_start - len + op->c % 2048; break; /* 0: touching */
    }
    if (op->cpu & 4)
        len = op->cpu & 8 ? 0 : 1 + op->c % (ps + 512); /* too small, maybe */
    if ((op->cpu & 0x70) == 0x70) {
        add_region(0, len, 0, NULL);                           /* NULL */
        add_region((uintptr_t)0 - 2 * ps, 4 * ps, 0, NULL);    /* wraps */
        return;
    }
    if (in_arena(start, len))
        add_region(start, len, fz_choose_phys(op->cpu >> 4, op->c, start, len, ps), NULL);
}

/* ---- picking things ---------------------------------------------------------------- */
static const m_obj_t *pick(uint16_t v, unsigned kind) {
    size_t n = model.objs.n;
    for (size_t i = 0; i < n; i++) {
        const m_obj_t *o = &model.objs.obj[(v + i) % n];
        if (kind == M_FREE || o->kind == kind)
            return o;
    }
    return NULL;
}

/* An address for the bad-free catalogue. */
static uintptr_t wild_ptr(uint16_t sel, uint16_t v) {
    const m_section_t *s = &model.pages.sec[v % model.pages.nsec];
    const m_obj_t *o = pick(v, M_FREE);
    int sl = o ? m_slab_of(&model, o->addr) : -1;
    switch (sel % 12) {
    case 0: return 0;
    case 1: return (uintptr_t)&alloc;                                 /* outside regions  */
    case 2: return s->region_start + v % (s->base - s->region_start); /* metadata, CPUs   */
    case 3: return m_pages_nth_free(&model, v);                       /* a free page      */
    case 4: return s->base + s->pages * ps;                           /* past the end     */
    case 5: return o ? o->addr + 1 + v % 64 : 0;                      /* interior         */
    case 6: return sl >= 0 ? model.slabs.slab[sl].base : 0;           /* a slab header    */
    case 7: return sl >= 0 ? model.slabs.slab[sl].base + v % model.slabs.slab[sl].first : 0;
    case 8: return o && o->kind != M_SMALL ? o->addr + ps * (1 + v % 4) : 0; /* page inside */
    case 9: return (uintptr_t)arena + (size_t)v * 61 % ARENA_BYTES;
    case 10: return ~(uintptr_t)0 - 4095;
    default: return s->base - 8;
    }
}

/* ---- ops --------------------------------------------------------------------------- */
static size_t decode_size(uint16_t v) {
    switch (v >> 13) {
    case 0: case 1: return v & 0x1f;
    case 2: return v & 0xff;
    case 3: return v & 0x7ff;
    case 4: return (size_t)8 << (v % 9);
    case 5: return 2049 + (v & 0x1fff);                    /* large: 1..3 pages        */
    case 6: return (size_t)(v & 0x1fff) * 16;
    default: {
        static const size_t odd[8] = {0, 2048, 2049, 4096, SIZE_MAX, SIZE_MAX / 2, 1, 65537};
        return odd[v & 7];
    }
    }
}

static size_t decode_align(uint16_t v) {
    switch (v & 7) {
    case 0: case 1: case 2: return 0;
    case 3: return (size_t)1 << ((v >> 3) % 12);          /* 1 .. 2048                */
    case 4: return (size_t)1 << ((v >> 3) % 20);          /* up to 512 KiB            */
    case 5: return (size_t)1 << (12 + (v >> 3) % 52);
    case 6: return 3 + (size_t)((v >> 3) & 0xff) * 2;             /* not a power of two       */
    default: return 8;
    }
}

static size_t decode_count(uint16_t v) {
    static const size_t odd[8] = {0, 1, BSA_MAX_COUNT, BSA_MAX_COUNT + 1, SIZE_MAX, 3, 100, 257};
    switch (v >> 13) {
    case 0: case 1: case 2: case 3: return 1 + (v & 7);
    case 4: case 5: return 1 + (v & 0x3f);
    case 6: return (size_t)1 << (v & 0xf);
    default: return odd[v & 7];
    }
}

static size_t decode_page_align(uint16_t v) {
    switch (v & 7) {
    case 0: case 1: case 2: case 3: return 0;
    case 4: return ps << ((v >> 3) % 8);
    case 5: return (size_t)1 << ((v >> 3) % 64);          /* may be < page: invalid    */
    case 6: return 3 * ps;
    default: return ps << ((v >> 3) % 12);
    }
}

static void op_free(const fz_op_t *op, int how) {
    const m_obj_t *o = pick(op->a, M_FREE);
    if (o == NULL)
        return;
    m_obj_t c = *o;
    if (how == 0) {
        do_free(c.addr);
        return;
    }
    size_t size = c.size, align = c.align;
    switch (op->b & 7) {
    case 4: size = c.kind == M_SMALL ? (op->b >> 3) % (bsa_size_class_bytes(c.cls) + 1)
                                     : size + ps; break;           /* same class? maybe   */
    case 5: size = size * 2 + 8; break;                             /* other class / order */
    case 6: align = 3; break;
    case 7: size = c.kind == M_SMALL ? 4096 : 8; break;
    default: break;
    }
    do_free_sized(c.addr, size, align); /* on a PAGES block: BSA_E_BAD_FREE */
}

static void op_double_free(const fz_op_t *op) {
    if (stale_n == 0)
        return;
    m_obj_t o = stale[op->a % (stale_n < STALE ? stale_n : STALE)];
    switch (op->b % 4) {
    case 0: do_free(o.addr); break;
    case 1: do_free_sized(o.addr, o.size, o.align); break;
    case 2: do_free_pages(o.addr, o.count ? o.count : 1); break;
    default: fz_expect_size("bsa_usable_size(freed)", bsa_usable_size(&alloc, (void *)o.addr),
                            model_usable(o.addr));
    }
}

static void op_wild(const fz_op_t *op, uint8_t fill) {
    uintptr_t p = wild_ptr(op->a, op->b);
    switch (op->c % 5) {
    case 0: do_free(p); break;
    case 1: do_free_sized(p, decode_size(op->c >> 3), 0); break;
    case 2: do_free_pages(p, 1 + op->c % 3); break;
    case 3: do_realloc(p, decode_size(op->c >> 3), 0, fill); break;
    default: fz_expect_size("bsa_usable_size", bsa_usable_size(&alloc, (void *)p),
                            model_usable(p));
    }
}

static void op_bad_calls(const fz_op_t *op) {
    switch (op->cpu % 8) {
    case 0: fz_expect_status("bsa_alloc(NULL out)", bsa_alloc(&alloc, 8, 0, NULL), BSA_E_INVALID); break;
    case 1: fz_expect_status("bsa_realloc(NULL out)", bsa_realloc(&alloc, NULL, 8, 0, NULL),
                             BSA_E_INVALID); break;
    case 2: do_alloc(decode_size(op->a), 3 + 2 * (size_t)(op->b % 100), 0); break;
    case 3: do_alloc(SIZE_MAX - op->a, 0, 0); break;
    case 4: do_free_sized(pick(op->a, M_FREE) ? pick(op->a, M_FREE)->addr : 0, 8, 6); break;
    case 5: do_alloc_pages(decode_count(op->a), 0, op->b & 1, true, 0); break;
    case 6:
        fz_expect_status("bsa_stats(NULL)", bsa_stats(&alloc, NULL), BSA_E_INVALID);
        fz_expect_status("bsa_section(NULL)", bsa_section(&alloc, 0, NULL), BSA_E_INVALID);
        fz_expect_status("bsa_section(out of range)",
                         bsa_section(&alloc, model.pages.nsec + op->a % 4, &(bsa_section_info_t){0}),
                         BSA_E_INVALID);
        break;
    default: {
        const m_obj_t *o = pick(op->a, M_FREE);
        do_free_pages(o ? o->addr : 0, op->b & 1 ? 0 : BSA_MAX_COUNT + 1);
    }
    }
}

static void probe_uninit(bsa_allocator_t *a) {
    void *p = NULL;
    bsa_stats_t st;
    bsa_section_info_t info;
    fz_expect_status("add_region", bsa_add_region(a, arena, ps * 8), BSA_E_UNINIT);
    fz_expect_status("alloc", bsa_alloc(a, 8, 0, &p), BSA_E_UNINIT);
    fz_expect_status("free", bsa_free(a, arena), BSA_E_UNINIT);
    fz_expect_status("free_sized", bsa_free_sized(a, arena, 8, 0), BSA_E_UNINIT);
    fz_expect_status("realloc", bsa_realloc(a, NULL, 8, 0, &p), BSA_E_UNINIT);
    fz_expect_size("usable_size", bsa_usable_size(a, arena), 0);
    fz_expect_status("alloc_pages", bsa_alloc_pages(a, 1, 0, &p), BSA_E_UNINIT);
    fz_expect_status("alloc_pages_lowmem", bsa_alloc_pages_lowmem(a, 1, 0, &p), BSA_E_UNINIT);
    fz_expect_status("free_pages", bsa_free_pages(a, arena, 1), BSA_E_UNINIT);
    fz_expect_status("reclaim", bsa_reclaim(a), BSA_E_UNINIT);
    fz_expect_size("section_count", bsa_section_count(a), 0);
    fz_expect_status("section", bsa_section(a, 0, &info), BSA_E_UNINIT);
    fz_expect_status("stats", bsa_stats(a, &st), BSA_E_UNINIT);
    fz_expect_status("check", bsa_check(a), BSA_E_UNINIT);
}

static void op_uninit(const fz_op_t *op) {
    static bsa_allocator_t zero;
    bsa_config_t cfg = {.page_size = ps, .cpu_count = cpus, .ops = &ops, .flags = flags};
    uintptr_t spot = m_pages_highest_end(&model, (uintptr_t)arena);
    switch (op->cpu % 8) {
    case 0: probe_uninit(&zero); return;
    case 1: probe_uninit(NULL); return;
    case 2: cfg.page_size = op->a & 1 ? 2048 : 3 * 4096; break;
    case 3: cfg.cpu_count = op->a & 1 ? 0 : BSA_MAX_CPUS + 1; break;
    case 4:
        if (op->a & 2) {
            cfg.flags = BSA_CPU_EXCLUSIVE << (1 + op->a % 31); /* an unknown flag */
        } else {
            cfg.ops = NULL;
            cfg.cpu_count = 2;
        }
        break;
    case 5: spot = 0; break;
    case 6: fz_expect_status("bsa_init(NULL cfg)", bsa_init(&alloc, NULL, (void *)spot, 64 * ps),
                             BSA_E_INVALID); return;
    default:
        fz_expect_status("bsa_init(tiny region) on a live instance",
                         bsa_init(&alloc, &cfg, (void *)spot, 1 + op->a % 512), BSA_E_INVALID);
        return;
    }
    fz_expect_status("bsa_init(bad config) on a live instance",
                     bsa_init(&alloc, &cfg, (void *)spot, 64 * ps), BSA_E_INVALID);
}

/* ---- corruption: bsa_check must notice, and must not crash ------------------------- */
/* As in fuzz_buddy and fuzz_slab, for what only the global allocator's bsa_check sees:
 * the census of slab blocks in the buddy against the slabs on the CPUs' lists, the CPU
 * array, the owners. Sets one field to `to`, runs bsa_check, puts it back. `must`: the
 * answer has to be BSA_E_CORRUPT; else BSA_OK or BSA_E_CORRUPT. */
static void corrupt_to(void *field, size_t size, uint64_t to, bool must, const char *what) {
    uint64_t saved = 0;
    memcpy(&saved, field, size);
    memcpy(field, &to, size);
    bsa_status_t st = bsa_check(&alloc);
    memcpy(field, &saved, size);
    if (must ? st != BSA_E_CORRUPT : st != BSA_OK && st != BSA_E_CORRUPT)
        fz_fail("bsa_check with %s = %#llx (was %#llx): core %s, model %s", what,
                (unsigned long long)to, (unsigned long long)saved, bsa_status_name(st),
                must ? "BSA_E_CORRUPT" : "BSA_OK or BSA_E_CORRUPT");
}

static void op_corrupt(const fz_op_t *op) {
    const m_block_t *blk = model.pages.nblocks ? &model.pages.block[op->b % model.pages.nblocks]
                                               : NULL;
    int sl = model.slabs.hi ? m_slab_of(&model, model.slabs.slab[op->b % model.slabs.hi].base)
                            : -1;
    bsa__slab_hdr_t *h = sl >= 0 ? (bsa__slab_hdr_t *)model.slabs.slab[sl].base : NULL;
    bsa__cpu_t *cpu = &alloc._cpus[op->a % cpus];
    bsa__block_t b;
    switch (op->cpu % 7) {
    case 0: /* a block's kind in the buddy: a slab that is no longer one is a census
             * mismatch. Not the other way: the census would read a header from user
             * bytes, and its owner test reads through a pointer it has only range-checked
             * (misaligned: UBSan), so a forged header there is not the checker's to catch. */
        if (blk && bsa__buddy_find(&alloc._buddy, blk->addr, &b)) {
            unsigned to = b.kind == BSA__KIND_PAGES || (b.kind == BSA__KIND_SLAB && op->c & 1)
                              ? BSA__KIND_LARGE
                              : BSA__KIND_PAGES;
            corrupt_to((void *)&b.sec->rec[b.head].info, 4, bsa__info(to, b.order),
                       b.kind == BSA__KIND_SLAB, "a block's kind");
        }
        break;
    case 1:
        corrupt_to(&cpu->slab._cpu, sizeof(unsigned), cpu->slab._cpu ^ (1u + op->c), true,
                   "a CPU's slab id");
        break;
    case 2:
        corrupt_to(&alloc._cpu_count, sizeof(unsigned), op->c & 1 ? 0 : BSA_MAX_CPUS + 1u + op->c,
                   true, "the CPU count");
        break;
    case 3:
        if (h)
            corrupt_to(&h->size_class, 2, BSA_SIZE_CLASS_COUNT + op->c % 100u, true,
                       "a slab's class");
        break;
    case 4: /* an owner outside the CPU array, or another CPU's slab */
        if (h) {
            bsa_slab_t *other = &alloc._cpus[(h->owner->_cpu + 1) % cpus].slab;
            corrupt_to((void *)&h->owner, sizeof h->owner,
                       op->c & 1 ? (uintptr_t)&alloc : (uintptr_t)other, op->c & 1 || cpus > 1,
                       "a slab's owner");
        }
        break;
    case 5: /* a CPU's page cache: a count past the depth, or an entry moved to another
             * address (not a cached block, or one listed already: the address sum) */
        for (unsigned k = 0; k <= BSA_PAGE_CACHE_MAX_ORDER; k++) {
            uint32_t n = atomic_load_explicit(&cpu->pages.count[k], memory_order_relaxed);
            if (n == 0)
                continue;
            uintptr_t *entry = &cpu->pages.block[k][op->b % n];
            if (op->c & 1)
                corrupt_to((void *)&cpu->pages.count[k], 4,
                           BSA_PAGE_CACHE_DEPTH + 1u + op->c % 8u, true, "a page cache count");
            else
                corrupt_to(entry, sizeof *entry, *entry + (ps << (op->c >> 1) % 4u), true,
                           "a page cache entry");
            break;
        }
        break;
    default: /* a block's order: the buddy's own check may or may not mind */
        if (blk && bsa__buddy_find(&alloc._buddy, blk->addr, &b))
            corrupt_to((void *)&b.sec->rec[b.head].info, 4,
                       bsa__info(b.kind, (b.order ^ (1u + op->c % 4)) % (BSA_MAX_ORDER + 1)),
                       false, "a block's order");
    }
}

enum op {
    OP_ALLOC, OP_ALLOC2, OP_ALLOC3, OP_ALLOC4, OP_FREE, OP_FREE2, OP_FREE3, OP_FREE_SIZED,
    OP_REALLOC, OP_USABLE, OP_ALLOC_PAGES, OP_FREE_PAGES, OP_ADD_REGION, OP_RECLAIM,
    OP_FILL_PAGES, OP_FREE_ALL_PAGES, OP_DOUBLE_FREE, OP_WILD, OP_BAD_CALLS, OP_UNINIT,
    OP_ALLOC_MANY, OP_FREE_MANY, OP_REALLOC2, OP_FREE_SIZED2, OP_CORRUPT, OP_COUNT
};
static const char *const op_names[OP_COUNT] = {
    "ALLOC", "ALLOC", "ALLOC", "ALLOC", "FREE", "FREE", "FREE", "FREE_SIZED", "REALLOC",
    "USABLE_SIZE", "ALLOC_PAGES", "FREE_PAGES", "ADD_REGION", "RECLAIM", "FILL_PAGES",
    "FREE_ALL_PAGES", "DOUBLE_FREE", "WILD", "BAD_CALLS", "UNINIT", "ALLOC_MANY", "FREE_MANY",
    "REALLOC", "FREE_SIZED", "CORRUPT"};

static const char *model_selfcheck(void) { return m_selfcheck(&model); }

static void run_op(const fz_op_t *op, uint8_t fill) {
    cur_cpu = op->cpu % cpus; /* the CPU the core's cpu_id hook answers */
    switch (op->code % OP_COUNT) {
    case OP_ALLOC: case OP_ALLOC2: case OP_ALLOC3: case OP_ALLOC4:
        do_alloc(decode_size(op->a), decode_align(op->b), fill);
        break;
    case OP_FREE: case OP_FREE2: case OP_FREE3: op_free(op, 0); break;
    case OP_FREE_SIZED: case OP_FREE_SIZED2: op_free(op, 1); break;
    case OP_REALLOC: case OP_REALLOC2: {
        const m_obj_t *o = (op->c & 3) ? pick(op->a, M_FREE) : NULL;
        do_realloc(o ? o->addr : 0, decode_size(op->b), decode_align(op->c >> 2), fill);
        break;
    }
    case OP_USABLE: {
        const m_obj_t *o = pick(op->a, M_FREE);
        uintptr_t p = o ? o->addr + (op->b & 1 ? op->b % 32 : 0) : 0;
        fz_expect_size("bsa_usable_size", bsa_usable_size(&alloc, (void *)p), model_usable(p));
        break;
    }
    case OP_ALLOC_PAGES:
        do_alloc_pages(decode_count(op->a), decode_page_align(op->b), op->c & 1, false, fill);
        break;
    case OP_FREE_PAGES: {
        const m_obj_t *o = pick(op->a, op->c & 1 ? M_FREE : M_PAGES);
        if (o == NULL)
            break;
        size_t count = o->count ? o->count : (size_t)1 << o->order;
        do_free_pages(o->addr + (op->c & 2 ? ps * (op->c >> 8 & 3) : 0),
                      op->b & 1 ? count : decode_count(op->b));
        break;
    }
    case OP_ADD_REGION: op_add_region(op); break;
    case OP_RECLAIM: do_reclaim(); break;
    case OP_FILL_PAGES: {
        size_t before;
        do {
            before = model.objs.n;
            do_alloc_pages((size_t)1 << (op->a % 3), 0, op->b & 1, false, fill++);
        } while (model.objs.n > before);
        break;
    }
    case OP_FREE_ALL_PAGES:
        for (size_t i = model.objs.n; i-- > 0;)
            if (i < model.objs.n && model.objs.obj[i].kind == M_PAGES && ((op->a & 1) || i % 2))
                do_free_pages(model.objs.obj[i].addr, model.objs.obj[i].count);
        break;
    case OP_DOUBLE_FREE: op_double_free(op); break;
    case OP_WILD: op_wild(op, fill); break;
    case OP_BAD_CALLS: op_bad_calls(op); break;
    case OP_UNINIT: op_uninit(op); break;
    case OP_CORRUPT: op_corrupt(op); break;
    case OP_ALLOC_MANY:
        for (size_t i = 0; i < 1 + op->b % 64u; i++)
            do_alloc(decode_size(op->a), 0, (uint8_t)(fill + i));
        break;
    default:
        for (size_t i = model.objs.n; i-- > 0;)
            if (i < model.objs.n && model.objs.obj[i].kind != M_PAGES && ((op->a & 1) || i % 2))
                do_free(model.objs.obj[i].addr);
        break;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static const size_t sizes[8] = {4096, 4096, 4096, 4096, 4096, 8192, 16384, 65536};
    static bool poisoned;
    uint8_t h[FZ_HEADER];
    fz_reader_t r;
    fz_reader_init(&r, data, size, h);
    /* Only the last input's regions are addressable (a failed add poisons its region
     * again at once), and the model still lists them. */
    if (!poisoned)
        fz_poison(arena, ARENA_BYTES);
    for (size_t i = 0; i < model.pages.nsec; i++)
        fz_poison((void *)model.pages.sec[i].region_start,
                  model.pages.sec[i].region_end - model.pages.sec[i].region_start);
    poisoned = true;

    ps = sizes[h[0] & 7];
    for (unsigned k = 0; k < BSA_SIZE_CLASS_COUNT; k++)
        objects_per_slab[k] = bsa_slab_objects_for(k, ps);
    flags = h[0] & 0x80 ? BSA_CPU_EXCLUSIVE : 0u; /* one thread here: always exclusive */
    cpus = 1 + h[1] % MAX_CPUS;
    translate = (h[1] & 0x10) != 0;
    cur_cpu = 0;
    reports = 0;
    fz_xmap_reset();
    stale_n = 0;
    ops = (bsa_ops_t){.cpu_id = fuzz_cpu_id, .report = fuzz_report,
                      .virt_to_phys = translate ? fz_xmap_v2p : NULL};
    m_reset(&model, ps, cpus);
    m_slab_window(&model, (uintptr_t)arena);
    memset(&alloc, 0, sizeof alloc);

    size_t pages = 64 + fz_u16(h + 2) % 449;
    uintptr_t start = (uintptr_t)arena + (size_t)(fz_u16(h + 4) % 2048) * 64 + (h[6] & 63);
    size_t len = pages * ps + (size_t)(h[7] & 0xf) * 512;
    if (!in_arena(start, len))
        len = (uintptr_t)arena + ARENA_BYTES - start;
    fz_begin(TARGET, 0, "INIT(page_size=%zu, cpus=%u, flags=%u, region=arena+%#lx, len=%zu)",
             ps, cpus, flags,
             (unsigned long)(start - (uintptr_t)arena), len);
    bsa_config_t cfg = {.page_size = ps, .cpu_count = cpus, .ops = &ops, .flags = flags};
    if (!add_region(start, len, fz_choose_phys(h[1] >> 5, fz_u16(h + 6), start, len, ps), &cfg))
        return 0;
    verify();

    fz_run_ops(&r, TARGET, op_names, OP_COUNT, run_op, verify, model_selfcheck);
    return 0;
}
