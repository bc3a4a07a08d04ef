/*
 * fuzz_buddy.c - differential fuzzer of the standalone buddy page allocator.
 *
 * One bsa_buddy_t over a 4 MiB static arena, re-initialised for every input. Regions of
 * fuzz-chosen offsets and lengths are added during the run, each with a fuzz-chosen
 * linear virtual-to-physical map (so lowmem requests meet the 4 GiB line inside small
 * regions). Every op runs on the core and on the model (model/pages.c); after each op
 * every observable of the core is compared with the model (verify). Memory the core
 * must never touch, i.e. everything but the regions' metadata prefixes, is ASan-poisoned
 * except while a block is handed out (the buddy keeps all its state in page records).
 *
 * Header: [0] page size  [1] ops/translator, phys mode  [2-3] first region length
 *         [4-5] first region offset  [6-7] phys choice. Ops: see `enum op` and README.md.
 */
#include <stdio.h>
#include <string.h>

#include "fuzz_common.h"
#include "internal.h" /* CORRUPT: the core's records, to corrupt on purpose */
#include "model.h"

#define TARGET "fuzz_buddy"
#define ARENA_BYTES ((size_t)4 << 20)
#define STALE 16

static uint8_t arena[ARENA_BYTES] __attribute__((aligned(65536)));
static model_t model;
static bsa_buddy_t buddy;
static bsa_ops_t ops;
static size_t ps;
static bool translate; /* the core was given our virt_to_phys */
static bool pass_ops;  /* bsa_buddy_init got an ops table (else NULL)   */


/* ---- small decoders ---------------------------------------------------------------- */
static size_t decode_len(uint16_t v) {
    size_t pages = (v & 0x100) ? 1 + (v & 0xf) : 1 + (v & 0xff);
    return pages * ps + ((size_t)(v >> 9) << 7);
}

static size_t decode_count(uint16_t v) {
    static const size_t odd[8] = {0, 1, BSA_MAX_COUNT, BSA_MAX_COUNT + 1, SIZE_MAX, 3, 1023, 513};
    switch (v >> 13) {
    case 0: case 1: case 2: return 1 + (v & 7);
    case 3: case 4: return 1 + (v & 0x3f);
    case 5: return (size_t)1 << (v & 0xf);
    case 6: return 1 + (v & 0x3ff);
    default: return odd[v & 7];
    }
}

static size_t decode_align(uint16_t v) {
    static const size_t bad[4] = {2048, 3 * 4096, (size_t)1 << 40, SIZE_MAX};
    unsigned sel = v & 0xf;
    if (sel <= 4)
        return 0;
    if (sel <= 12)
        return ps << (sel - 5);
    if (sel == 13)
        return bad[(v >> 4) & 3];
    if (sel == 14)
        return (size_t)1 << (12 + (v >> 4) % 52);
    return ps << ((v >> 4) % 12);
}

static bool in_arena(uintptr_t start, size_t len) {
    uintptr_t a = (uintptr_t)arena;
    return start >= a && len <= ARENA_BYTES && start - a <= ARENA_BYTES - len;
}

static uintptr_t dirty_lo, dirty_hi; /* arena span this input may have unpoisoned */

/* ---- poisoning: only metadata prefixes and handed-out blocks are addressable -------- */
static void repoison(uintptr_t start, size_t len) {
    fz_poison((void *)start, len);
    for (size_t i = 0; i < model.pages.nsec; i++) {
        const m_section_t *s = &model.pages.sec[i];
        fz_unpoison((void *)s->region_start, s->base - s->region_start);
    }
    for (size_t i = 0; i < model.objs.n; i++)
        fz_unpoison((void *)model.objs.obj[i].addr, model.objs.obj[i].size);
}

/* ---- verify: every observable of the core against the model ------------------------ */
static void verify(void) {
    fz_expect_status("bsa_buddy_check", bsa_buddy_check(&buddy), BSA_OK);
    fz_expect_size("section count", bsa_buddy_section_count(&buddy), model.pages.nsec);
    for (size_t i = 0; i < model.pages.nsec; i++) {
        const m_section_t *s = &model.pages.sec[i];
        bsa_section_info_t info;
        fz_expect_status("bsa_buddy_section", bsa_buddy_section(&buddy, i, &info), BSA_OK);
        fz_expect_ptr("section start", info.start, (void *)s->base);
        fz_expect_size("section total pages", info.total_pages, s->pages);
        fz_expect_size("section bytes", info.bytes, s->pages * ps);
        fz_expect_size("section free pages", info.free_pages, m_section_free(s));
    }
    size_t total = m_pages_total(&model), free = m_pages_free(&model);
    fz_expect_size("managed bytes", bsa_buddy_managed_bytes(&buddy), total * ps);
    fz_expect_size("allocated bytes", bsa_buddy_allocated_bytes(&buddy), (total - free) * ps);
    size_t blocks[BSA_MAX_ORDER + 1];
    m_pages_free_blocks(&model, blocks);
    for (unsigned k = 0; k <= BSA_MAX_ORDER; k++)
        if (bsa_buddy_free_blocks(&buddy, k) != blocks[k])
            fz_fail("free blocks of order %u: core %zu, model %zu", k,
                    bsa_buddy_free_blocks(&buddy, k), blocks[k]);
    int bad = m_fill_check_some(&model, 32);
    if (bad >= 0)
        fz_fail("block %p: a fill byte changed", (void *)model.objs.obj[bad].addr);
}

/* ---- regions ----------------------------------------------------------------------- */

/* The section the core made of [start, start + len): sane, and translated once. */
static void check_new_section(uintptr_t start, size_t len, const bsa_section_info_t *info) {
    const char *why = fz_section_sane(start, len, ps, 0, info);
    if (why)
        fz_fail("new section of region [%#lx, +%zu): start %p, %zu pages: %s",
                (unsigned long)start, len, info->start, info->total_pages, why);
    if (translate && (fz_xmap_calls != 1 || fz_xmap_last != (uintptr_t)info->start))
        fz_fail("virt_to_phys called %u times, last at %#lx; want once, at the first page %p",
                fz_xmap_calls, (unsigned long)fz_xmap_last, info->start);
}

/* Adds a region on both sides; init: the first region, through bsa_buddy_init. */
static bool add_region(uintptr_t start, size_t len, uint64_t phys, bool init) {
    if (!init && model.pages.nsec == M_MAX_SECTIONS)
        return false; /* the model's table is full (the core has no limit): not tried */
    bool mapped = in_arena(start, len);
    unsigned allowed = fz_region_allowed(
        start, len, ps, 0, !init && m_pages_overlaps(&model, start, start + len));
    if (mapped) {
        if (start < dirty_lo)
            dirty_lo = start;
        if (start + len > dirty_hi)
            dirty_hi = start + len;
        fz_unpoison((void *)start, len);
        fz_xmap_push(start, start + len, phys);
    }
    fz_xmap_calls = 0;
    bsa_status_t st = init ? bsa_buddy_init(&buddy, ps, pass_ops ? &ops : NULL,
                                            (void *)start, len)
                           : bsa_buddy_add_region(&buddy, (void *)start, len);
    fz_expect_status_in(init ? "bsa_buddy_init" : "bsa_buddy_add_region", st, allowed);
    if (st != BSA_OK) {
        if (mapped) {
            fz_xmap_pop();
            repoison(start, len);
        }
        return false;
    }
    bsa_section_info_t info;
    fz_expect_status("bsa_buddy_section of the new section",
                     bsa_buddy_section(&buddy, model.pages.nsec, &info), BSA_OK);
    check_new_section(start, len, &info);
    m_pages_add(&model, start, start + len, (uintptr_t)info.start, info.total_pages,
                translate ? fz_xmap_phys((uintptr_t)info.start) : (uintptr_t)info.start);
    repoison(start, len);
    return true;
}

static uintptr_t lowest_start(void) {
    uintptr_t s = (uintptr_t)arena + ARENA_BYTES;
    for (size_t i = 0; i < model.pages.nsec; i++)
        if (model.pages.sec[i].region_start < s)
            s = model.pages.sec[i].region_start;
    return s;
}

static void op_add_region(const fz_op_t *op) {
    size_t len = decode_len(op->a);
    uintptr_t start;
    switch (op->cpu & 3) {
    case 0: /* touching or just past the highest region */
        start = m_pages_highest_end(&model, (uintptr_t)arena) + op->b % 512;
        break;
    case 1: start = (uintptr_t)arena + ((size_t)op->b * 64) % ARENA_BYTES; break;
    case 2: start = lowest_start() - len - op->b % 512; break;
    default: {
        const m_section_t *s = &model.pages.sec[op->b % model.pages.nsec];
        start = s->region_start + op->c % (s->region_end - s->region_start);
    }
    }
    if (!in_arena(start, len))
        return;
    add_region(start, len, fz_choose_phys(op->cpu >> 2, op->c, start, len, ps), false);
}

static void op_bad_region(const fz_op_t *op) {
    uintptr_t cursor = m_pages_highest_end(&model, (uintptr_t)arena);
    const m_section_t *s = &model.pages.sec[op->b % model.pages.nsec];
    switch (op->cpu % 6) {
    case 0: add_region(0, decode_len(op->a), 0, false); break;
    case 1: add_region(cursor, 0, 0, false); break;
    case 2:
        if (in_arena(cursor, ps + 512))
            add_region(cursor + op->b % 64, 1 + op->a % (ps + 448), M_4G, false);
        break;
    case 3: add_region((uintptr_t)0 - 2 * ps, 4 * ps, 0, false); break;
    case 4: add_region(cursor, SIZE_MAX - op->a, 0, false); break;
    default: add_region(s->region_start, s->region_end - s->region_start, 0, false); break;
    }
}

/* ---- page calls -------------------------------------------------------------------- */
static size_t stale_n;
static struct {
    uintptr_t addr;
    size_t count;
} stale[STALE];

static void do_alloc(size_t count, size_t align, bool lowmem, bool null_out, uint8_t fill) {
    void *p = NULL;
    void **out = null_out ? NULL : &p;
    bsa_status_t st = lowmem ? bsa_buddy_alloc_pages_lowmem(&buddy, count, align, out)
                             : bsa_buddy_alloc_pages(&buddy, count, align, out);
    size_t a = align ? align : ps, idx = 0;
    unsigned k = 0;
    int sec = -1;
    bsa_status_t want = BSA_E_INVALID;
    if (!null_out && count != 0 && count <= BSA_MAX_COUNT && m_is_pow2(a) && a >= ps) {
        k = m_order_of(count);
        sec = m_pages_first_fit(&model, k, a, lowmem, &idx);
        want = sec >= 0 ? BSA_OK : BSA_E_NOMEM;
    }
    if (st != want)
        fz_fail("status: core %s, model %s (model's lowest run: section %d page %zu)",
                bsa_status_name(st), bsa_status_name(want), sec, idx);
    if (st != BSA_OK)
        return;
    const char *why = m_pages_judge(&model, (uintptr_t)p, k, a, lowmem, sec);
    if (why)
        fz_fail("core returned %p: %s (model: section %d page %zu)", p, why, sec, idx);
    m_pages_take(&model, (uintptr_t)p, k, M_PAGES);
    m_obj_t o = {.addr = (uintptr_t)p, .size = ps << k, .align = align, .count = count,
                 .kind = M_PAGES, .order = k, .state = M_LIVE, .fill = fill};
    fz_unpoison(p, o.size);
    m_fill(&model, m_obj_add(&model, &o));
}

static void do_free(uintptr_t addr, size_t count) {
    bsa_status_t want = BSA_E_INVALID;
    int blk = -1, oi = -1;
    if (count != 0 && count <= BSA_MAX_COUNT) {
        blk = m_pages_block_at(&model, addr);
        want = blk >= 0 && model.pages.block[blk].order == m_order_of(count) ? BSA_OK
                                                                              : BSA_E_BAD_FREE;
    }
    if (want == BSA_OK) {
        oi = m_obj_find(&model, addr);
        long bad = m_fill_check(&model, &model.objs.obj[oi], SIZE_MAX);
        if (bad >= 0)
            fz_fail("block %p: fill byte at +%ld changed before its free", (void *)addr, bad);
    }
    fz_expect_status("bsa_buddy_free_pages", bsa_buddy_free_pages(&buddy, (void *)addr, count),
                     want);
    if (want != BSA_OK)
        return;
    fz_poison((void *)addr, model.objs.obj[oi].size);
    m_pages_release(&model, blk);
    m_obj_remove(&model, oi);
    stale[stale_n++ % STALE].addr = addr;
    stale[(stale_n - 1) % STALE].count = count;
}

/* A count for freeing a block of order k: right, equivalent, wrong or invalid. */
static size_t free_count(const m_obj_t *o, uint16_t v) {
    unsigned k = o->order;
    switch (v & 7) {
    case 3: return (size_t)1 << k;
    case 4: return k ? ((size_t)1 << (k - 1)) + 1 + (v >> 3) % ((size_t)1 << (k - 1)) : 1;
    case 5: return k && (v & 8) ? (size_t)1 << (k - 1) : (size_t)2 << k;
    case 6: return 0;
    case 7: return BSA_MAX_COUNT + 1 + (v >> 3);
    default: return o->count;
    }
}

static void op_free(const fz_op_t *op) {
    if (model.objs.n == 0)
        return;
    const m_obj_t *o = &model.objs.obj[op->a % model.objs.n];
    uintptr_t addr = o->addr;
    if ((op->c & 3) == 2)
        addr += ((op->c >> 2) % ((size_t)1 << o->order)) * ps; /* maybe a non-head page */
    else if ((op->c & 3) == 3)
        addr += 1 + (op->c >> 2) % (ps - 1); /* inside the first page */
    do_free(addr, free_count(o, op->b));
}

static void op_free_wild(const fz_op_t *op) {
    const m_section_t *s = &model.pages.sec[op->a % model.pages.nsec];
    uintptr_t addr;
    switch (op->c % 8) {
    case 0: addr = 0; break;
    case 1: addr = (uintptr_t)&buddy; break;
    case 2: addr = s->region_start + op->b % (s->base - s->region_start); break;
    case 3: addr = m_pages_nth_free(&model, op->b); break;
    case 4: addr = s->base + s->pages * ps; break;
    case 5: addr = ~(uintptr_t)0 & ~(uintptr_t)(ps - 1); break;
    case 6: addr = (uintptr_t)arena + (((size_t)op->a << 6) | (op->b & 63)); break;
    default: addr = s->base - ps; break;
    }
    do_free(addr, 1 + (size_t)((op->c >> 3) & 7) * ((op->c >> 6) & 1 ? 64u : 1u));
}

/* ---- queries, uninitialised and badly initialised instances ------------------------ */
static void op_query(const fz_op_t *op) {
    bsa_section_info_t info;
    size_t idx = op->a % (model.pages.nsec + 3);
    if (idx >= model.pages.nsec)
        fz_expect_status("bsa_buddy_section(out of range)", bsa_buddy_section(&buddy, idx, &info),
                         BSA_E_INVALID);
    fz_expect_status("bsa_buddy_section(NULL out)", bsa_buddy_section(&buddy, 0, NULL),
                     BSA_E_INVALID);
    size_t blocks[BSA_MAX_ORDER + 1];
    m_pages_free_blocks(&model, blocks);
    unsigned k = op->b % 40;
    fz_expect_size("bsa_buddy_free_blocks", bsa_buddy_free_blocks(&buddy, k),
                   k <= BSA_MAX_ORDER ? blocks[k] : 0);
}

static void probe_uninit(bsa_buddy_t *b) {
    void *p = NULL;
    bsa_section_info_t info;
    uintptr_t spot = m_pages_highest_end(&model, (uintptr_t)arena);
    fz_expect_status("add_region", bsa_buddy_add_region(b, (void *)spot, 4 * ps), BSA_E_UNINIT);
    fz_expect_status("alloc_pages", bsa_buddy_alloc_pages(b, 1, 0, &p), BSA_E_UNINIT);
    fz_expect_status("alloc_pages_lowmem", bsa_buddy_alloc_pages_lowmem(b, 1, 0, &p),
                     BSA_E_UNINIT);
    fz_expect_status("free_pages", bsa_buddy_free_pages(b, (void *)model.pages.sec[0].base, 1),
                     BSA_E_UNINIT);
    fz_expect_status("section", bsa_buddy_section(b, 0, &info), BSA_E_UNINIT);
    fz_expect_status("check", bsa_buddy_check(b), BSA_E_UNINIT);
    fz_expect_size("section_count", bsa_buddy_section_count(b), 0);
    fz_expect_size("managed_bytes", bsa_buddy_managed_bytes(b), 0);
    fz_expect_size("allocated_bytes", bsa_buddy_allocated_bytes(b), 0);
    fz_expect_size("free_blocks", bsa_buddy_free_blocks(b, 0), 0);
}

static void op_uninit(const fz_op_t *op) {
    static const size_t bad_ps[4] = {0, 2048, 3 * 4096, 131072};
    static bsa_buddy_t zero;
    uintptr_t spot = m_pages_highest_end(&model, (uintptr_t)arena);
    switch (op->cpu % 5) {
    case 0: probe_uninit(&zero); break;
    case 1: probe_uninit(NULL); break;
    case 2:
        fz_expect_status("bsa_buddy_init(bad page size) on a live instance",
                         bsa_buddy_init(&buddy, bad_ps[op->a & 3], NULL, (void *)spot, 64 * ps),
                         BSA_E_INVALID);
        break;
    case 3:
        fz_expect_status("bsa_buddy_init(NULL region) on a live instance",
                         bsa_buddy_init(&buddy, ps, NULL, NULL, 64 * ps), BSA_E_INVALID);
        break;
    default:
        fz_expect_status("bsa_buddy_init(NULL instance)",
                         bsa_buddy_init(NULL, ps, NULL, (void *)spot, 64 * ps), BSA_E_INVALID);
        fz_expect_status("bsa_buddy_init(tiny region) on a live instance",
                         bsa_buddy_init(&buddy, ps, NULL, (void *)spot, 1 + op->a % 200),
                         BSA_E_INVALID);
        break;
    }
}

/* ---- pressure ---------------------------------------------------------------------- */
static void op_fill(const fz_op_t *op, uint8_t fill) {
    size_t before;
    do {
        before = model.objs.n;
        do_alloc((size_t)1 << (op->a % 4), 0, op->cpu & 1, false, fill++);
    } while (model.objs.n > before);
}

static void op_free_many(const fz_op_t *op) {
    for (size_t i = model.objs.n; i-- > 0;)
        if ((op->cpu & 1) || i % 2 == 0)
            do_free(model.objs.obj[i].addr, model.objs.obj[i].count);
}

/* ---- corruption: bsa_buddy_check must notice, and must not crash ------------------- */
/* Flips bits of one field the checker cross-checks (never a pointer or a range it walks
 * by: internal.h promises only that links and indexes are range-checked and walks
 * bounded), runs bsa_buddy_check, and puts the field back. `must`: a counter or mask
 * the checker recomputes, so any change is BSA_E_CORRUPT; else (a page record, a list
 * head) either answer may be right, but it must answer. verify() then wants BSA_OK. */
static void corrupt_field(void *field, size_t size, uint64_t flip, bool must, const char *what) {
    uint64_t saved = 0, v;
    memcpy(&saved, field, size);
    v = saved ^ flip;
    memcpy(field, &v, size);
    bsa_status_t st = bsa_buddy_check(&buddy);
    memcpy(field, &saved, size);
    if (must ? st != BSA_E_CORRUPT : st != BSA_OK && st != BSA_E_CORRUPT)
        fz_fail("bsa_buddy_check with %s ^ %#llx: core %s, model %s", what,
                (unsigned long long)flip, bsa_status_name(st),
                must ? "BSA_E_CORRUPT" : "BSA_OK or BSA_E_CORRUPT");
}

static void op_corrupt(const fz_op_t *op) {
    bsa__section_t *s = buddy._first;
    for (size_t i = op->a % model.pages.nsec; i > 0; i--)
        s = s->next_registered;
    size_t idx = op->b % s->pages;
    unsigned k = op->c % (BSA_MAX_ORDER + 1);
    /* c: bits 5.. the value to flip, bits 3-4 which byte it starts at */
    uint64_t flip = (1 + (uint64_t)(op->c >> 5)) << (8 * ((op->c >> 3) & 3));
    uint64_t bit = (uint64_t)1 << (op->c % 32);
    const struct {
        void *at;
        size_t size;
        uint64_t flip;
        bool must;
        const char *what;
    } fields[] = {
        {(void *)&s->rec[idx].info, 4, flip, false, "a page record's kind/order"},
        {&s->rec[idx].next, 4, flip, false, "a page record's next"},
        {&s->rec[idx].prev, 4, flip, false, "a page record's prev"},
        {&s->free_head[k], 4, flip, false, "a free-list head"},
        {&s->free_mask, 4, bit, true, "a section's free mask"},
        {&s->free_pages, sizeof(size_t), flip, true, "a section's free pages"},
        {&s->lowmem_pages, sizeof(size_t), (uint64_t)1 << 40, true, "a section's lowmem pages"},
        {&buddy._free_pages, sizeof(size_t), flip, true, "the free pages"},
        {&buddy._total_pages, sizeof(size_t), flip, true, "the total pages"},
        {&buddy._free_blocks[k], sizeof(size_t), flip, true, "a free-block count"},
        {&buddy._section_count, sizeof(size_t), flip, true, "the section count"},
    };
    unsigned sel = op->cpu % (sizeof fields / sizeof fields[0]);
    corrupt_field(fields[sel].at, fields[sel].size, fields[sel].flip, fields[sel].must,
                  fields[sel].what);
}

/* ---- the run ----------------------------------------------------------------------- */
enum op {
    OP_ALLOC, OP_ALLOC2, OP_ALLOC3, OP_LOWMEM, OP_FREE, OP_FREE2, OP_FREE3, OP_FREE_STALE,
    OP_FREE_WILD, OP_ADD_REGION, OP_BAD_REGION, OP_BAD_ALLOC, OP_QUERY, OP_UNINIT, OP_FILL,
    OP_FREE_MANY, OP_CORRUPT, OP_COUNT
};
static const char *const op_names[OP_COUNT] = {
    "ALLOC", "ALLOC", "ALLOC", "LOWMEM", "FREE", "FREE", "FREE", "FREE_STALE", "FREE_WILD",
    "ADD_REGION", "BAD_REGION", "BAD_ALLOC", "QUERY", "UNINIT", "FILL", "FREE_MANY", "CORRUPT"};

static const char *model_selfcheck(void) { return m_selfcheck(&model); }

static void run_op(const fz_op_t *op, uint8_t fill) {
    switch (op->code % OP_COUNT) {
    case OP_ALLOC: case OP_ALLOC2: case OP_ALLOC3: case OP_LOWMEM:
        do_alloc(decode_count(op->a), decode_align(op->b), op->code % OP_COUNT == OP_LOWMEM,
                 false, fill);
        break;
    case OP_FREE: case OP_FREE2: case OP_FREE3: op_free(op); break;
    case OP_FREE_STALE:
        if (stale_n)
            do_free(stale[op->a % (stale_n < STALE ? stale_n : STALE)].addr,
                    stale[op->a % (stale_n < STALE ? stale_n : STALE)].count);
        break;
    case OP_FREE_WILD: op_free_wild(op); break;
    case OP_ADD_REGION: op_add_region(op); break;
    case OP_BAD_REGION: op_bad_region(op); break;
    case OP_BAD_ALLOC: {
        static const size_t counts[4] = {0, BSA_MAX_COUNT + 1, SIZE_MAX, 1};
        do_alloc(counts[op->cpu & 3], (op->cpu & 4) ? decode_align(op->b) : 0, op->cpu & 8,
                 (op->cpu & 3) == 3, fill);
        break;
    }
    case OP_QUERY: op_query(op); break;
    case OP_UNINIT: op_uninit(op); break;
    case OP_FILL: op_fill(op, fill); break;
    case OP_CORRUPT: op_corrupt(op); break;
    default: op_free_many(op); break;
    }
}


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static const size_t sizes[8] = {4096, 4096, 4096, 4096, 4096, 8192, 16384, 65536};
    uint8_t h[FZ_HEADER];
    fz_reader_t r;
    fz_reader_init(&r, data, size, h);
    static bool poisoned;
    if (!poisoned)
        fz_poison(arena, ARENA_BYTES);
    else if (dirty_hi > dirty_lo)
        fz_poison((void *)dirty_lo, dirty_hi - dirty_lo);
    poisoned = true;
    dirty_lo = (uintptr_t)arena + ARENA_BYTES;
    dirty_hi = (uintptr_t)arena;

    ps = sizes[h[0] & 7];
    translate = (h[1] & 3) == 1 || (h[1] & 3) == 2;
    ops = (bsa_ops_t){.virt_to_phys = translate ? fz_xmap_v2p : NULL};
    fz_xmap_reset();
    stale_n = 0;
    m_reset(&model, ps, 1);
    memset(&buddy, 0, sizeof buddy);

    uintptr_t start = (uintptr_t)arena + (size_t)fz_u16(h + 4) * 16 + (h[6] & 15);
    size_t len = decode_len(fz_u16(h + 2));
    if (!in_arena(start, len))
        len = (uintptr_t)arena + ARENA_BYTES - start;
    fz_begin(TARGET, 0, "INIT(page_size=%zu, region=arena+%#lx, len=%zu)", ps,
             (unsigned long)(start - (uintptr_t)arena), len);
    pass_ops = (h[1] & 3) != 0; /* 3: an ops table without a translator */
    if (!add_region(start, len, fz_choose_phys(h[1] >> 2, fz_u16(h + 6), start, len, ps), true))
        return 0;
    verify();

    fz_run_ops(&r, TARGET, op_names, OP_COUNT, run_op, verify, model_selfcheck);
    return 0;
}
