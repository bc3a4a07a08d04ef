/*
 * fuzz_common.c - input reader, failure report and ASan helpers for the harnesses.
 */
#include "fuzz_common.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define FZ_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define FZ_ASAN 1
#endif
#ifdef FZ_ASAN
#include <sanitizer/asan_interface.h>
#endif

static const char *cur_target = "fuzz";
static size_t cur_index;
static char cur_op[256];
/* fz_begin_op stores the record and formats it only if the op fails: a vsnprintf per
 * op cost the harnesses ~5% of their execs. */
static const char *cur_name; /* NULL: cur_op is already formatted */
static fz_op_t cur_rec;

uint16_t fz_u16(const uint8_t *p) { return (uint16_t)(p[0] | (p[1] << 8)); }

void fz_reader_init(fz_reader_t *r, const uint8_t *data, size_t size, uint8_t header[FZ_HEADER]) {
    memset(header, 0, FZ_HEADER);
    memcpy(header, data, size < FZ_HEADER ? size : FZ_HEADER);
    r->data = data;
    r->size = size;
    r->off = size < FZ_HEADER ? size : FZ_HEADER;
}

bool fz_next(fz_reader_t *r, fz_op_t *op) {
    uint8_t rec[FZ_RECORD] = {0};
    if (r->off >= r->size || (r->off - FZ_HEADER) / FZ_RECORD >= FZ_MAX_OPS)
        return false;
    size_t n = r->size - r->off < FZ_RECORD ? r->size - r->off : FZ_RECORD;
    memcpy(rec, r->data + r->off, n);
    r->off += n;
    op->code = rec[0];
    op->cpu = rec[1];
    op->a = fz_u16(rec + 2);
    op->b = fz_u16(rec + 4);
    op->c = fz_u16(rec + 6);
    return true;
}

void fz_begin(const char *target, size_t index, const char *fmt, ...) {
    va_list ap;
    cur_target = target;
    cur_index = index;
    cur_name = NULL;
    va_start(ap, fmt);
    vsnprintf(cur_op, sizeof cur_op, fmt, ap);
    va_end(ap);
}

void fz_begin_op(const char *target, size_t index, const char *name, const fz_op_t *op) {
    cur_target = target;
    cur_index = index;
    cur_name = name;
    cur_rec = *op;
}

const char *fz_current_op(void) {
    if (cur_name != NULL) {
        snprintf(cur_op, sizeof cur_op, "%s(cpu=%u a=%u b=%u c=%u)", cur_name, cur_rec.cpu,
                 cur_rec.a, cur_rec.b, cur_rec.c);
        cur_name = NULL;
    }
    return cur_op;
}

_Noreturn void fz_fail(const char *fmt, ...) {
    va_list ap;
    fprintf(stderr, "%s: op #%zu %s: ", cur_target, cur_index, fz_current_op());
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    fflush(stderr);
    abort();
}

unsigned fz_bit(bsa_status_t s) { return 1u << ((unsigned)(s + 8) & 31u); }

void fz_expect_status(const char *what, bsa_status_t core, bsa_status_t model) {
    if (core != model)
        fz_fail("%s: core %s, model %s", what, bsa_status_name(core), bsa_status_name(model));
}

void fz_expect_status_in(const char *what, bsa_status_t core, unsigned allowed) {
    if (fz_bit(core) & allowed)
        return;
    char list[160] = "";
    for (int s = -8; s < 8; s++)
        if (allowed & fz_bit((bsa_status_t)s)) {
            strncat(list, list[0] ? " or " : "", sizeof list - strlen(list) - 1);
            strncat(list, bsa_status_name((bsa_status_t)s), sizeof list - strlen(list) - 1);
        }
    fz_fail("%s: core %s, model %s", what, bsa_status_name(core), list);
}

void fz_expect_size(const char *what, size_t core, size_t model) {
    if (core != model)
        fz_fail("%s: core %zu, model %zu", what, core, model);
}

void fz_expect_ptr(const char *what, const void *core, const void *model) {
    if (core != model)
        fz_fail("%s: core %p, model %p", what, core, model);
}

void fz_poison(const void *p, size_t n) {
#ifdef FZ_ASAN
    ASAN_POISON_MEMORY_REGION(p, n);
#else
    (void)p;
    (void)n;
#endif
}

void fz_unpoison(const void *p, size_t n) {
#ifdef FZ_ASAN
    ASAN_UNPOISON_MEMORY_REGION(p, n);
#else
    (void)p;
    (void)n;
#endif
}

/* ---- regions ------------------------------------------------------------------------ */
static uintptr_t align_up(uintptr_t x, size_t a) { return (x + a - 1) & ~(uintptr_t)(a - 1); }

/* Bytes a region of len may lose before its first page and after its last (DESIGN 2:
 * metadata at most 0.5% of the region plus one page; the base's alignment and the tail
 * may cost about as much again). */
static size_t overhead_budget(size_t len, size_t page_size, size_t extra) {
    return len / 100 + 3 * page_size + 1024 + extra;
}

unsigned fz_region_allowed(uintptr_t start, size_t len, size_t page_size, size_t extra,
                           bool overlaps) {
    if (start == 0 || len == 0 || start + len < start)
        return fz_bit(BSA_E_INVALID);
    uintptr_t end = start + len;
    uintptr_t least = align_up(start + 1, page_size);
    bool can = least > start && least <= end && end - least >= page_size;
    bool sure = len >= overhead_budget(len, page_size, extra) + page_size;
    unsigned allowed = sure ? 0 : fz_bit(BSA_E_INVALID);
    if (can)
        allowed |= fz_bit(overlaps ? BSA_E_OVERLAP : BSA_OK);
    return allowed;
}

const char *fz_section_sane(uintptr_t start, size_t len, size_t page_size, size_t extra,
                            const bsa_section_info_t *info) {
    uintptr_t base = (uintptr_t)info->start, end = start + len;
    size_t pages = info->total_pages;
    if (pages == 0 || info->bytes != pages * page_size || info->free_pages != pages)
        return "pages, bytes and free pages disagree";
    if (base % page_size != 0)
        return "first page not page-aligned";
    if (base < start + 12 * pages)
        return "no room for a record per page before the first page";
    if (base > end || info->bytes > end - base)
        return "pages run past the region's end";
    if (len - info->bytes > overhead_budget(len, page_size, extra))
        return "more bytes lost to metadata and padding than the budget";
    return NULL;
}

/* ---- the translator ------------------------------------------------------------------ */
typedef struct fz_xmap {
    uintptr_t start, end;
    uint64_t phys;
} fz_xmap_t;
static fz_xmap_t xmap[FZ_XMAP_MAX];
static size_t nxmap;
unsigned fz_xmap_calls;
uintptr_t fz_xmap_last;

void fz_xmap_reset(void) { nxmap = 0; }

void fz_xmap_push(uintptr_t start, uintptr_t end, uint64_t phys) {
    if (nxmap == FZ_XMAP_MAX)
        fz_fail("more than %d translated regions (a harness limit)", FZ_XMAP_MAX);
    xmap[nxmap++] = (fz_xmap_t){start, end, phys};
}

void fz_xmap_pop(void) { nxmap--; }

/* The latest region holding `va` (a failed add may leave an older one), or NULL. */
static const fz_xmap_t *xmap_find(uintptr_t va) {
    for (size_t i = nxmap; i-- > 0;)
        if (va >= xmap[i].start && va < xmap[i].end)
            return &xmap[i];
    return NULL;
}

uint64_t fz_xmap_v2p(void *ctx, uintptr_t va) {
    (void)ctx;
    fz_xmap_calls++;
    fz_xmap_last = va;
    const fz_xmap_t *m = xmap_find(va);
    if (m == NULL)
        fz_fail("virt_to_phys(%#lx) outside every region", (unsigned long)va);
    return m->phys + (va - m->start);
}

uint64_t fz_xmap_phys(uintptr_t va) {
    const fz_xmap_t *m = xmap_find(va);
    return m ? m->phys + (va - m->start) : va;
}

uint64_t fz_choose_phys(unsigned mode, uint16_t v, uintptr_t start, size_t len,
                        size_t page_size) {
    const uint64_t g4 = (uint64_t)1 << 32;
    uint64_t p = (mode & 3) == 0   ? (uint64_t)16 << 20
                 : (mode & 3) == 1 ? 2 * g4
                                   : g4 - (uint64_t)(v % (len / page_size + 3)) * page_size;
    return p + (start & (page_size - 1));
}

void fz_run_ops(fz_reader_t *r, const char *target, const char *const *names, unsigned count,
                void (*run)(const fz_op_t *op, uint8_t fill), void (*verify)(void),
                const char *(*selfcheck)(void)) {
    fz_op_t op;
    for (size_t i = 1; fz_next(r, &op); i++) {
        fz_begin_op(target, i, names[op.code % count], &op);
        run(&op, (uint8_t)(i * 37 + op.c));
        verify();
    }
    const char *stale = selfcheck();
    if (stale)
        fz_fail("model self-check: %s is out of step (a model bug)", stale);
}
