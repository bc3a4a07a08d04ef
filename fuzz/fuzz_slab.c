/*
 * fuzz_slab.c - differential fuzzer of the standalone slab protocol.
 *
 * Up to 4 bsa_slab_t (one per CPU) draw their slabs from a page source in this file: a
 * first-fit allocator of size-aligned page runs over a static arena (64..512 pages).
 * On BSA_NEED_PAGES the harness supplies a slab unless the op injects a page failure or
 * the source is exhausted; BSA_RELEASE_PAGES hands pages back. Local frees, remote frees
 * (bsa_slab_remote_free, from no particular CPU), double frees, reclaim and the bad-input
 * catalogue run against the model (model/slabs.c), which knows every slab base.
 *
 * Header: [0] page size  [1] CPUs  [2-3] pages in the source. Ops: `enum op`, README.md.
 */
#include <stdio.h>
#include <string.h>

#include "fuzz_common.h"
#include "internal.h" /* CORRUPT: the core's headers, to corrupt on purpose */
#include "model.h"

#define TARGET "fuzz_slab"
#define ARENA_BYTES ((size_t)4 << 20)
#define MAX_CPUS 4
#define STALE 16

static uint8_t arena[ARENA_BYTES] __attribute__((aligned(65536)));
static uint8_t outside[65536] __attribute__((aligned(65536))); /* never given to a slab */
static model_t model;
static bsa_slab_t slabs[MAX_CPUS];
static unsigned cpus;
static size_t ps;

/* ---- the page source ------------------------------------------------------------- */
static size_t src_pages;
static uint8_t src_used[ARENA_BYTES / 4096];

static void *src_alloc(size_t n) {
    for (size_t i = 0; i + n <= src_pages; i += n) {
        size_t j = i;
        while (j < i + n && !src_used[j])
            j++;
        if (j == i + n) {
            memset(&src_used[i], 1, n);
            return arena + i * ps;
        }
    }
    return NULL;
}

static void src_free(void *base, size_t n) {
    memset(&src_used[(size_t)((uint8_t *)base - arena) / ps], 0, n);
}

/* ---- model helpers ----------------------------------------------------------------- */

static void verify(void) {
    const m_tally_t *t = &model.slabs.tally;
    for (unsigned cpu = 0; cpu < cpus; cpu++) {
        const bsa_slab_t *s = &slabs[cpu];
        if (bsa_slab_check(s) != BSA_OK)
            fz_fail("bsa_slab_check(cpu %u): core %s, model BSA_OK", cpu,
                    bsa_status_name(bsa_slab_check(s)));
        for (unsigned k = 0; k < BSA_SIZE_CLASS_COUNT; k++) {
            if (bsa_slab_live(s, k) != t->live[cpu][k] || bsa_slab_count(s, k) != t->slabs[cpu][k] ||
                bsa_slab_remote_pending(s, k) != t->pending[cpu][k])
                fz_fail("cpu %u class %u live/slabs/pending: core %zu/%zu/%zu, model %zu/%zu/%zu",
                        cpu, k, bsa_slab_live(s, k), bsa_slab_count(s, k),
                        bsa_slab_remote_pending(s, k), t->live[cpu][k], t->slabs[cpu][k],
                        t->pending[cpu][k]);
        }
        if (bsa_slab_bad_frees(s) != model.bad_frees[cpu])
            fz_fail("cpu %u bad frees: core %llu, model %llu", cpu,
                    (unsigned long long)bsa_slab_bad_frees(s),
                    (unsigned long long)model.bad_frees[cpu]);
    }
    int bad = m_fill_check_some(&model, 32);
    if (bad >= 0)
        fz_fail("block %p: a fill byte changed", (void *)model.objs.obj[bad].addr);
}

/* ---- alloc ------------------------------------------------------------------------- */
static bool expect_object(unsigned cpu, int cls, void *p, size_t size, size_t align,
                          uint8_t fill) {
    int sl = m_slab_of(&model, (uintptr_t)p);
    const m_slab_t *s = sl >= 0 ? &model.slabs.slab[sl] : NULL;
    long slot = s ? m_slab_slot(s, (uintptr_t)p) : -1;
    if (s == NULL || s->cpu != cpu || s->cls != (unsigned)cls || slot < 0)
        fz_fail("object %p is not a slot of a slab of cpu %u class %d", p, cpu, cls);
    if (slot != m_slab_lowest_free(&model, sl))
        fz_fail("object %p is slot %ld of its slab; model: the lowest free slot is %ld", p,
                slot, m_slab_lowest_free(&model, sl));
    if ((uintptr_t)p % bsa_size_class_bytes((unsigned)cls) != 0 || (align && (uintptr_t)p % align))
        fz_fail("object %p is not aligned to its class and to %zu", p, align);
    m_slab_take(&model, sl, (uint32_t)slot);
    m_obj_t o = {.addr = (uintptr_t)p, .size = size, .align = align, .kind = M_SMALL,
                 .cls = (unsigned)cls, .cpu = cpu, .state = M_LIVE, .fill = fill};
    m_obj_t *added = m_obj_add(&model, &o);
    if (added == NULL)
        return false;
    m_fill(&model, added);
    return true;
}

/* One bsa_slab_alloc with NEED_PAGES served (unless `refuse`); false: nothing allocated. */
static bool do_alloc(unsigned cpu, size_t size, size_t align, bool refuse, uint8_t fill) {
    bsa_slab_t *s = &slabs[cpu];
    void *p = NULL;
    bsa_slab_pages_t need = {0};
    if (model.objs.n == M_MAX_OBJS)
        return false;
    int cls = m_size_class(size, align);
    bsa_status_t st = bsa_slab_alloc(s, size, align, &p, &need);
    if (cls < 0) {
        fz_expect_status("bsa_slab_alloc", st, BSA_E_INVALID);
        return false;
    }
    m_slab_alloc_drain(&model, cpu, (unsigned)cls);
    bool room = m_slab_with_room(&model, cpu, (unsigned)cls) != 0;
    fz_expect_status("bsa_slab_alloc", st, room ? BSA_OK : BSA_NEED_PAGES);
    if (st == BSA_OK)
        return expect_object(cpu, cls, p, size, align, fill);
    size_t pages = bsa_slab_pages_for((unsigned)cls, ps);
    if (need.size_class != (unsigned)cls || need.pages != pages)
        fz_fail("NEED_PAGES asks for class %u, %zu pages; model: class %d, %zu pages",
                need.size_class, need.pages, cls, pages);
    void *base = refuse ? NULL : src_alloc(pages);
    if (base == NULL)
        return false; /* injected or real page failure: the caller gives up */
    if (m_slab_add(&model, cpu, (unsigned)cls, (uintptr_t)base) < 0) {
        src_free(base, pages); /* the model's slab table is full: a page failure too */
        return false;
    }
    fz_expect_status("bsa_slab_add_slab", bsa_slab_add_slab(s, (unsigned)cls, base, pages * ps),
                     BSA_OK);
    fz_expect_status("bsa_slab_alloc after add_slab", bsa_slab_alloc(s, size, align, &p, &need),
                     BSA_OK);
    return expect_object(cpu, cls, p, size, align, fill);
}

/* ---- frees ------------------------------------------------------------------------- */
static size_t stale_n;
static m_obj_t stale[STALE];

static void forget(int oi) {
    stale[stale_n++ % STALE] = model.objs.obj[oi];
    m_obj_remove(&model, oi);
}

static void check_fill_before_free(uintptr_t ptr) {
    long bad = m_fill_check_at(&model, ptr);
    if (bad >= 0)
        fz_fail("object %p: fill byte at +%ld changed before its free", (void *)ptr, bad);
}

static void do_free_local(unsigned cpu, uintptr_t ptr, size_t size, size_t align,
                          bool null_release) {
    bsa_slab_pages_t rel = {0};
    int cls = m_size_class(size, align);
    check_fill_before_free(ptr);
    bsa_status_t st = bsa_slab_free(&slabs[cpu], (void *)ptr, size, align,
                                    null_release ? NULL : &rel);
    if (cls < 0 || null_release) {
        fz_expect_status("bsa_slab_free", st, BSA_E_INVALID);
        return;
    }
    int sl = ptr ? m_slab_of(&model, ptr) : -1;
    const m_slab_t *s = sl >= 0 ? &model.slabs.slab[sl] : NULL;
    long slot = -1;
    if (s && s->cpu == cpu && s->cls == (unsigned)cls)
        slot = m_slab_slot(s, ptr);
    if (slot < 0 || model.slabs.slot[sl][slot] != M_LIVE) { /* free, or pending remotely */
        model.bad_frees[cpu]++;
        fz_expect_status("bsa_slab_free", st, BSA_E_BAD_FREE);
        return;
    }
    uintptr_t base = s->base;
    size_t pages = s->bytes / ps;
    forget(m_obj_find(&model, ptr));
    bool release = m_slab_local_free(&model, sl, (uint32_t)slot);
    fz_expect_status("bsa_slab_free", st, release ? BSA_RELEASE_PAGES : BSA_OK);
    if (!release)
        return;
    if ((uintptr_t)rel.base != base || rel.pages != pages || rel.size_class != (unsigned)cls)
        fz_fail("RELEASE_PAGES gives back %p (%zu pages, class %u); model: %p (%zu, %d)",
                rel.base, rel.pages, rel.size_class, (void *)base, pages, cls);
    src_free(rel.base, rel.pages);
}

static void do_free_remote(uintptr_t ptr, size_t size, size_t align) {
    int cls = m_size_class(size, align);
    check_fill_before_free(ptr);
    bsa_status_t st = bsa_slab_remote_free((void *)ptr, size, align);
    if (cls < 0) {
        fz_expect_status("bsa_slab_remote_free", st, BSA_E_INVALID);
        return;
    }
    int sl = ptr ? m_slab_of(&model, ptr) : -1;
    const m_slab_t *s = sl >= 0 ? &model.slabs.slab[sl] : NULL;
    if (s == NULL || s->cls != (unsigned)cls) {
        fz_expect_status("bsa_slab_remote_free (no slab of the class)", st, BSA_E_BAD_FREE);
        return;
    }
    long slot = m_slab_slot(s, ptr);
    if (slot < 0 || model.slabs.slot[sl][slot] != M_LIVE) {
        model.bad_frees[s->cpu]++;
        fz_expect_status("bsa_slab_remote_free", st, BSA_E_BAD_FREE);
        return;
    }
    fz_expect_status("bsa_slab_remote_free", st, BSA_OK);
    model.objs.obj[m_obj_find(&model, ptr)].state = M_PENDING;
    m_slab_remote_free(&model, sl, (uint32_t)slot);
}

/* Size and align for freeing `o`: as allocated, same class, other class, or invalid. */
static void free_args(const m_obj_t *o, uint16_t v, size_t *size, size_t *align) {
    size_t cb = bsa_size_class_bytes(o->cls);
    *size = o->size;
    *align = o->align;
    switch (v & 7) {
    case 4: *size = o->cls ? cb / 2 + 1 + (v >> 3) % (cb / 2) : (v >> 3) % 9; *align = 0; break;
    case 5: *size = o->cls ? cb / 2 : cb * 2; *align = 0; break;  /* wrong class */
    case 6: *size = 4096; break;                                   /* not slab-sized */
    case 7: *align = 3; break;                                     /* not a power of two */
    default: break;
    }
}

/* A pointer near object `o`: itself, inside it, in its slab's header, its slab's base. */
static uintptr_t free_ptr(const m_obj_t *o, uint16_t v) {
    int sl = m_slab_of(&model, o->addr);
    switch (v & 7) {
    case 5: return o->addr + 1 + (v >> 3) % (bsa_size_class_bytes(o->cls) - 1);
    case 6: return sl >= 0 ? model.slabs.slab[sl].base + (v >> 3) % model.slabs.slab[sl].first
                           : o->addr;
    case 7: return sl >= 0 ? model.slabs.slab[sl].base : o->addr;
    default: return o->addr;
    }
}

static void op_free(const fz_op_t *op, bool remote) {
    if (model.objs.n == 0)
        return;
    const m_obj_t *o = &model.objs.obj[op->a % model.objs.n];
    size_t size, align;
    free_args(o, op->b, &size, &align);
    uintptr_t ptr = free_ptr(o, op->c);
    /* local: from the owner unless bit 2 asks for another CPU (a BAD_FREE) */
    unsigned cpu = (op->cpu & 4) ? (o->cpu + 1 + op->cpu % 3u) % cpus : o->cpu;
    if (remote)
        do_free_remote(ptr, size, align);
    else
        do_free_local(cpu, ptr, size, align, false);
}

static void op_double_free(const fz_op_t *op) {
    if (stale_n == 0)
        return;
    const m_obj_t *o = &stale[op->a % (stale_n < STALE ? stale_n : STALE)];
    if (op->cpu & 1)
        do_free_remote(o->addr, o->size, o->align);
    else
        do_free_local((op->cpu & 2) ? op->cpu % cpus : o->cpu, o->addr, o->size, o->align, false);
}

/* ---- reclaim ----------------------------------------------------------------------- */
static void op_reclaim(const fz_op_t *op) {
    unsigned cpu = op->cpu % cpus;
    size_t steps = op->a % 4 ? op->a % 4 : 1000;
    for (size_t i = 0; i < steps; i++) {
        bsa_slab_pages_t rel = {0};
        bsa_status_t st = bsa_slab_reclaim(&slabs[cpu], &rel);
        int k = m_slab_reclaim_class(&model, cpu);
        fz_expect_status("bsa_slab_reclaim", st, k < 0 ? BSA_OK : BSA_RELEASE_PAGES);
        if (k < 0)
            return;
        int sl = m_slab_at(&model, (uintptr_t)rel.base);
        const m_slab_t *s = sl >= 0 ? &model.slabs.slab[sl] : NULL;
        if (s == NULL || s->cpu != cpu || s->cls != (unsigned)k || s->live || s->pending ||
            rel.size_class != (unsigned)k || rel.pages != s->bytes / ps)
            fz_fail("reclaim gave back %p (class %u, %zu pages); model: a fully free slab of "
                    "cpu %u class %d", rel.base, rel.size_class, rel.pages, cpu, k);
        m_slab_reclaimed(&model, sl);
        src_free(rel.base, rel.pages);
    }
    fz_expect_status("bsa_slab_reclaim(NULL release)", bsa_slab_reclaim(&slabs[cpu], NULL),
                     BSA_E_INVALID);
}

/* ---- bad input --------------------------------------------------------------------- */
static void op_bad_add(const fz_op_t *op) {
    unsigned cpu = op->cpu % cpus, cls = op->a % BSA_SIZE_CLASS_COUNT;
    size_t bytes = bsa_slab_pages_for(cls, ps) * ps;
    void *base = arena + (size_t)(op->b % 64) * bytes; /* aligned, maybe in use: not added */
    int sl = -1;
    for (size_t i = 0; i < model.slabs.hi && sl < 0; i++)
        if (model.slabs.slab[i].used && model.slabs.slab[i].cpu == cpu)
            sl = (int)i;
    switch ((op->cpu >> 2) % 6) {
    case 0: base = (uint8_t *)base + 8 * (1 + op->c % 64); break; /* misaligned */
    case 1: bytes = bytes * 2; break;                              /* wrong size */
    case 2: bytes = bytes - ps; break;
    case 3: cls = BSA_SIZE_CLASS_COUNT + op->c % 8; break;         /* no such class */
    case 4: base = NULL; break;
    default:                                                       /* a live slab again */
        if (sl < 0)
            return;
        base = (void *)model.slabs.slab[sl].base;
        cls = model.slabs.slab[sl].cls;
        bytes = model.slabs.slab[sl].bytes;
        break;
    }
    fz_expect_status("bsa_slab_add_slab", bsa_slab_add_slab(&slabs[cpu], cls, base, bytes),
                     BSA_E_INVALID);
}

static void op_bad_calls(const fz_op_t *op) {
    unsigned cpu = op->cpu % cpus;
    void *p;
    bsa_slab_pages_t need;
    static const size_t bad_size[4] = {2049, 4096, SIZE_MAX, 1u << 20};
    uintptr_t wild = (uintptr_t)outside + op->b % sizeof outside;
    switch ((op->cpu >> 2) % 10) {
    case 0:
        fz_expect_status("bsa_slab_alloc(size > 2048)",
                         bsa_slab_alloc(&slabs[cpu], bad_size[op->a & 3], 0, &p, &need),
                         BSA_E_INVALID);
        break;
    case 1:
        fz_expect_status("bsa_slab_alloc(align 3 / 4096)",
                         bsa_slab_alloc(&slabs[cpu], 8, op->a & 1 ? 3 : 4096, &p, &need),
                         BSA_E_INVALID);
        break;
    case 2:
        fz_expect_status("bsa_slab_alloc(NULL out)",
                         bsa_slab_alloc(&slabs[cpu], 8, 0, NULL, &need), BSA_E_INVALID);
        fz_expect_status("bsa_slab_alloc(NULL need)",
                         bsa_slab_alloc(&slabs[cpu], 8, 0, &p, NULL), BSA_E_INVALID);
        break;
    case 3: do_free_local(cpu, 0, 8, 0, false); break;
    case 4: do_free_remote(0, 8, 0); break;
    case 5: do_free_local(cpu, wild, 8u << (op->a % 9), 0, false); break;
    case 6: do_free_remote(wild, 8u << (op->a % 9), 0); break;
    case 7: /* a free page of the source, or a slab page of any class */
        do_free_local(cpu, (uintptr_t)arena + (size_t)op->b * 64 % (src_pages * ps),
                      8u << (op->a % 9), 0, op->a & 0x200);
        break;
    case 8:
        do_free_remote((uintptr_t)arena + (size_t)op->b * 64 % (src_pages * ps),
                       8u << (op->a % 9), op->a & 0x200 ? 0 : 8);
        break;
    default: do_free_local(cpu, wild, bad_size[op->a & 3], 0, false); break;
    }
}

static void probe_uninit(bsa_slab_t *s) {
    void *p;
    bsa_slab_pages_t pg;
    fz_expect_status("alloc", bsa_slab_alloc(s, 8, 0, &p, &pg), BSA_E_UNINIT);
    fz_expect_status("add_slab", bsa_slab_add_slab(s, 0, outside, ps), BSA_E_UNINIT);
    fz_expect_status("free", bsa_slab_free(s, outside + 64, 8, 0, &pg), BSA_E_UNINIT);
    fz_expect_status("reclaim", bsa_slab_reclaim(s, &pg), BSA_E_UNINIT);
    fz_expect_status("check", bsa_slab_check(s), BSA_E_UNINIT);
    fz_expect_size("live", bsa_slab_live(s, 0), 0);
    fz_expect_size("count", bsa_slab_count(s, 0), 0);
    fz_expect_size("pending", bsa_slab_remote_pending(s, 0), 0);
    fz_expect_size("bad_frees", (size_t)bsa_slab_bad_frees(s), 0);
}

static void op_uninit(const fz_op_t *op) {
    static bsa_slab_t zero;
    static const size_t bad_ps[4] = {0, 2048, 3 * 4096, 131072};
    unsigned cpu = op->cpu % cpus;
    switch ((op->cpu >> 2) % 4) {
    case 0: probe_uninit(&zero); break;
    case 1: probe_uninit(NULL); break;
    case 2:
        fz_expect_status("bsa_slab_init(bad page size) on a live instance",
                         bsa_slab_init(&slabs[cpu], bad_ps[op->a & 3], cpu), BSA_E_INVALID);
        fz_expect_status("bsa_slab_init(NULL)", bsa_slab_init(NULL, ps, 0), BSA_E_INVALID);
        break;
    default: {
        unsigned k = BSA_SIZE_CLASS_COUNT + op->a % 8;
        fz_expect_size("live(bad class)", bsa_slab_live(&slabs[cpu], k), 0);
        fz_expect_size("count(bad class)", bsa_slab_count(&slabs[cpu], k), 0);
        fz_expect_size("pending(bad class)", bsa_slab_remote_pending(&slabs[cpu], k), 0);
        fz_expect_size("size_class_bytes(bad class)", bsa_size_class_bytes(k), 0);
        fz_expect_size("pages_for(bad class)", bsa_slab_pages_for(k, ps), 0);
        fz_expect_size("pages_for(bad page size)", bsa_slab_pages_for(0, bad_ps[op->a & 3]), 0);
        break;
    }
    }
}

static void op_query(const fz_op_t *op) {
    size_t size = op->a, align = op->b & 0x8000 ? op->b & 0x7fff : (size_t)1 << (op->b % 16);
    int want = m_size_class(size, align);
    if (bsa_size_class(size, align) != want)
        fz_fail("bsa_size_class(%zu, %zu): core %d, model %d", size, align,
                bsa_size_class(size, align), want);
}

/* ---- corruption: bsa_slab_check must notice, and must not crash -------------------- */
/* As in fuzz_buddy: flips bits of one field the checker cross-checks (never a list link
 * it walks), runs bsa_slab_check, puts the field back; `want` is what it must answer,
 * or -1 for "BSA_OK or BSA_E_CORRUPT" (a field the checker need not see). */
static void corrupt_field(const bsa_slab_t *s, void *field, size_t size, uint64_t flip,
                          int want, const char *what) {
    uint64_t saved = 0, v;
    memcpy(&saved, field, size);
    v = saved ^ flip;
    memcpy(field, &v, size);
    bsa_status_t st = bsa_slab_check(s);
    memcpy(field, &saved, size);
    if (want == -1 ? st != BSA_OK && st != BSA_E_CORRUPT : st != (bsa_status_t)want)
        fz_fail("bsa_slab_check with %s ^ %#llx: core %s, model %s", what,
                (unsigned long long)flip, bsa_status_name(st),
                want != -1 ? bsa_status_name((bsa_status_t)want) : "BSA_OK or BSA_E_CORRUPT");
}

static void op_corrupt(const fz_op_t *op) {
    unsigned cpu = op->cpu % cpus, k = op->a % BSA_SIZE_CLASS_COUNT;
    bsa_slab_t *s = &slabs[cpu];
    bsa__slab_class_t *c = &s->_cls[k];
    uint64_t flip = 1 + (uint64_t)(op->c >> 4), bit = (uint64_t)1 << (op->c % 64);
    const int corrupt = BSA_E_CORRUPT, either = -1;
    int sl = -1; /* a slab of this CPU, if any: the header fields */
    for (size_t i = 0; i < model.slabs.hi && sl < 0; i++)
        if (model.slabs.slab[(i + op->b) % model.slabs.hi].used &&
            model.slabs.slab[(i + op->b) % model.slabs.hi].cpu == cpu)
            sl = (int)((i + op->b) % model.slabs.hi);
    typedef struct {
        void *at;
        size_t size;
        uint64_t flip;
        int want;
        const char *what;
    } field_t;
    const field_t of_class[] = { /* the instance and a class: always there */
        {&c->_count, 4, flip, corrupt, "a class's slot count"},
        {&c->_slab_pages, 4, flip, corrupt, "a class's slab pages"},
        {&c->_first_offset, 4, flip, corrupt, "a class's first offset"},
        {&c->_slabs, sizeof(size_t), flip, corrupt, "a class's slab count"},
        {&c->_in_use, sizeof(size_t), flip, corrupt, "a class's objects in use"},
        {&s->_magic, 4, flip, BSA_E_UNINIT, "the magic"},
        {&s->_page_size, sizeof(size_t), flip << 12, corrupt, "the page size"},
    };
    const size_t nclass = sizeof of_class / sizeof of_class[0];
    enum { NSLAB_FIELDS = 16 }; /* of_slab's entries, below (it needs a slab) */
    unsigned sel = (op->cpu >> 2) % (unsigned)(nclass + NSLAB_FIELDS);
    if (sl < 0 || sel < nclass) {
        const field_t *f = &of_class[sel % nclass];
        corrupt_field(s, f->at, f->size, f->flip, f->want, f->what);
        return;
    }
    bsa__slab_hdr_t *h = (bsa__slab_hdr_t *)model.slabs.slab[sl].base;
    const field_t of_slab[] = { /* a slab's header: links are compared, never followed */
        {&h->cookie, 4, flip, corrupt, "a slab's cookie"},
        {&h->size_class, 2, flip, corrupt, "a slab's class"},
        {&h->list, 2, flip, corrupt, "a slab's list"},
        {&h->count, 4, flip, corrupt, "a slab's slot count"},
        {&h->free, 4, flip, corrupt, "a slab's free count"},
        {&h->words, 4, flip, corrupt, "a slab's bitmap words"},
        {&h->hint, 4, flip, either, "a slab's hint"},
        /* one bit of the free map: the free count no longer matches the bitmap */
        {(void *)&h->maps[op->b % h->words], 8, bit, corrupt, "a free-map word"},
        /* the pending map: remote freers set bits at any time, so the check reads none */
        {(void *)bsa__slab_pending_word(h, op->b % h->words), 8, bit, either, "a pending-map word"},
        {(void *)&h->owner, sizeof h->owner, flip << 4, corrupt, "a slab's owner"},
        {(void *)&h->prev, sizeof h->prev, flip << 4, corrupt, "a slab's prev"},
        /* added later, hence at the end (the seeds' selectors keep their fields) */
        {&h->first_offset, 4, flip, corrupt, "a slab's first offset"},
        {&h->remote, 4, flip, corrupt, "a slab's remote-words index"},
        /* a free-hint entry (empty here: only the global allocator fills them) and the
         * room slab: compared with the lists' slabs, never followed */
        {(void *)&s->_free_hints[op->b % BSA__FREE_HINTS], sizeof(uintptr_t), flip << 12,
         corrupt, "a free-hint entry's slab"},
        {(void *)&s->_free_hints[op->b % BSA__FREE_HINTS], sizeof(uintptr_t), flip & 63u,
         either, "a free-hint entry's size"},
        {(void *)&s->_room, sizeof s->_room, flip << 4, corrupt, "the room slab"},
    };
    _Static_assert(sizeof of_slab / sizeof of_slab[0] == NSLAB_FIELDS, "NSLAB_FIELDS");
    const field_t *f = &of_slab[sel - nclass];
    corrupt_field(s, f->at, f->size, f->flip, f->want, f->what);
}

/* ---- the run ----------------------------------------------------------------------- */
static size_t decode_size(uint16_t v) {
    switch (v >> 14) {
    case 0: return v & 0xf;
    case 1: return v & 0xff;
    case 2: return v & 0x7ff;
    default: return (size_t)8 << ((v & 0xff) % 9);
    }
}

static size_t decode_align(uint16_t v) {
    return v & 0x8 ? (size_t)1 << (v & 7) << ((v >> 4) & 3) : 0; /* 0, 1..1024 */
}

enum op {
    OP_ALLOC, OP_ALLOC2, OP_ALLOC3, OP_ALLOC4, OP_FREE, OP_FREE2, OP_REMOTE, OP_REMOTE2,
    OP_DOUBLE, OP_RECLAIM, OP_BAD_ADD, OP_BAD_CALLS, OP_UNINIT, OP_QUERY, OP_FREE_MANY,
    OP_ALLOC_MANY, OP_CORRUPT, OP_COUNT
};
static const char *const op_names[OP_COUNT] = {
    "ALLOC", "ALLOC", "ALLOC", "ALLOC", "FREE", "FREE", "REMOTE_FREE", "REMOTE_FREE",
    "DOUBLE_FREE", "RECLAIM", "BAD_ADD", "BAD_CALLS", "UNINIT", "QUERY", "FREE_MANY",
    "ALLOC_MANY", "CORRUPT"};

static const char *model_selfcheck(void) { return m_selfcheck(&model); }

static void run_op(const fz_op_t *op, uint8_t fill) {
    unsigned cpu = op->cpu % cpus;
    switch (op->code % OP_COUNT) {
    case OP_ALLOC: case OP_ALLOC2: case OP_ALLOC3: case OP_ALLOC4:
        do_alloc(cpu, decode_size(op->a), decode_align(op->b), (op->cpu & 0x80) != 0, fill);
        break;
    case OP_FREE: case OP_FREE2: op_free(op, false); break;
    case OP_REMOTE: case OP_REMOTE2: op_free(op, true); break;
    case OP_DOUBLE: op_double_free(op); break;
    case OP_RECLAIM: op_reclaim(op); break;
    case OP_BAD_ADD: op_bad_add(op); break;
    case OP_BAD_CALLS: op_bad_calls(op); break;
    case OP_UNINIT: op_uninit(op); break;
    case OP_QUERY: op_query(op); break;
    case OP_CORRUPT: op_corrupt(op); break;
    case OP_FREE_MANY:
        for (size_t i = model.objs.n; i-- > 0;) {
            if (i >= model.objs.n) /* a drain removed objects */
                continue;
            const m_obj_t o = model.objs.obj[i];
            if (o.state != M_LIVE || (op->a & 1 && i % 2))
                continue;
            if ((op->cpu & 4) && o.cpu != cpu)
                do_free_remote(o.addr, o.size, o.align);
            else
                do_free_local(o.cpu, o.addr, o.size, o.align, false);
        }
        break;
    default:
        for (size_t i = 0; i < 1 + op->b % 128u; i++)
            if (!do_alloc(cpu, decode_size(op->a), 0, false, (uint8_t)(fill + i)))
                break;
        break;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static const size_t sizes[8] = {4096, 4096, 4096, 4096, 4096, 8192, 16384, 65536};
    uint8_t h[FZ_HEADER];
    fz_reader_t r;
    fz_reader_init(&r, data, size, h);
    ps = sizes[h[0] & 7];
    cpus = 1 + h[1] % MAX_CPUS;
    src_pages = 64 + fz_u16(h + 2) % 449;
    if (src_pages > ARENA_BYTES / ps)
        src_pages = ARENA_BYTES / ps;
    /* The last input's slabs still carry live headers in the arena: a new slab allocator
     * at the same address would take them for its own. Wipe them (the core itself wipes
     * every slab it gives back). */
    for (size_t i = 0; i < model.slabs.hi; i++)
        if (model.slabs.slab[i].used)
            memset((void *)model.slabs.slab[i].base, 0, 64);
    memset(src_used, 0, sizeof src_used);
    stale_n = 0;
    m_reset(&model, ps, cpus);
    m_slab_window(&model, (uintptr_t)arena);
    fz_begin(TARGET, 0, "INIT(page_size=%zu, cpus=%u, source=%zu pages)", ps, cpus, src_pages);
    for (unsigned cpu = 0; cpu < cpus; cpu++)
        fz_expect_status("bsa_slab_init", bsa_slab_init(&slabs[cpu], ps, cpu), BSA_OK);
    verify();

    fz_run_ops(&r, TARGET, op_names, OP_COUNT, run_op, verify, model_selfcheck);
    return 0;
}
