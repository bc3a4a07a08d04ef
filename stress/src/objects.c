/*
 * objects.c - what every scenario does to an object: allocate it through the public
 * API, fill it with its owner's pattern, check the pattern, free it, reallocate it,
 * hand it to another thread. Also the PRNG, the CPU-id hook and the mailboxes.
 *
 * Pattern: byte `off` of an object is byte `off % 8` of stress_mix(tag ^ word index),
 * so any sub-range can be checked on its own. Blocks up to 4 KiB are filled whole;
 * larger ones in 64-byte chunks at every 4 KiB and at their end, so every page of a
 * block carries its owner's mark and two blocks that overlap cannot both check out.
 *
 * Every unexpected status, misaligned result or pattern mismatch is fatal: the process
 * prints what, where and which thread, and exits 1 (memory may be corrupt by then).
 */
#define _GNU_SOURCE
#include <inttypes.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "stress.h"

#define FULL_FILL_MAX 4096u
#define CHUNK 64u
#define STRIDE 4096u

/* ---- rng, time, CPU ids ------------------------------------------------------------ */

uint64_t stress_mix(uint64_t x) { /* splitmix64's finalizer */
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ull;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

uint64_t rng_next(worker_t *w) {
    w->rng += 0x9e3779b97f4a7c15ull;
    return stress_mix(w->rng);
}

uint64_t rng_below(worker_t *w, uint64_t n) { return n ? rng_next(w) % n : 0; }

double stress_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* id + 1 when this thread's id is fixed (shared mode, or a forced reclaim); 0 asks the
 * run's mode. Thread-local, so no synchronisation. */
static _Thread_local unsigned tls_fixed_id;

void stress_force_cpu(unsigned id_plus_one) { tls_fixed_id = id_plus_one; }

unsigned stress_cpu_id(void *ctx) {
    const run_t *r = ctx;
    if (tls_fixed_id != 0)
        return tls_fixed_id - 1u;
    if (r->mode == CPU_SCHED)
        return bsa_hosted_sched_cpu_id((void *)&r->cpu_count);
    return bsa_hosted_thread_cpu_id(NULL);
}

static unsigned current_cpu(const run_t *r) { return stress_cpu_id((void *)r); }

void stress_fatal(const worker_t *w, const char *fmt, ...) {
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    const run_t *r = w->run;
    fflush(stdout);
    fprintf(stderr, "bsa_stress: FAIL [%s] thread %u, seed %" PRIu64 ", %s mode: %s\n",
            r->sc->name, w->index, r->seed, cpu_mode_name(r->mode), msg);
    fflush(stderr);
    _exit(1); /* other threads may be inside the allocator: no atexit, no unwinding */
}

/* ---- patterns ---------------------------------------------------------------------- */

static uint64_t pattern_word(uint64_t tag, size_t word) {
    return stress_mix(tag ^ ((uint64_t)word * 0x9e3779b97f4a7c15ull));
}

static unsigned char pattern_byte(uint64_t tag, size_t off) {
    uint64_t v = pattern_word(tag, off >> 3);
    unsigned char b[8];
    memcpy(b, &v, sizeof b); /* memory order, so byte and word paths agree anywhere */
    return b[off & 7u];
}

static void fill_range(unsigned char *p, size_t lo, size_t hi, uint64_t tag) {
    size_t off = lo;
    for (; off < hi && (off & 7u) != 0; off++)
        p[off] = pattern_byte(tag, off);
    for (; off + 8u <= hi; off += 8u) {
        uint64_t v = pattern_word(tag, off >> 3);
        memcpy(p + off, &v, sizeof v);
    }
    for (; off < hi; off++)
        p[off] = pattern_byte(tag, off);
}

/* First offset in [lo, hi) that does not hold the pattern, or SIZE_MAX. */
static size_t check_range(const unsigned char *p, size_t lo, size_t hi, uint64_t tag) {
    size_t off = lo;
    for (; off < hi && (off & 7u) != 0; off++)
        if (p[off] != pattern_byte(tag, off))
            return off;
    for (; off + 8u <= hi; off += 8u) {
        uint64_t v;
        memcpy(&v, p + off, sizeof v);
        if (v != pattern_word(tag, off >> 3))
            break; /* the byte loop below finds the exact offset */
    }
    for (; off < hi; off++)
        if (p[off] != pattern_byte(tag, off))
            return off;
    return SIZE_MAX;
}

/* The filled ranges of a block of `size` bytes, clipped to [0, lim): fill or check. */
static size_t sparse_ranges(unsigned char *p, size_t size, size_t lim, uint64_t tag,
                            bool fill) {
    size_t bad = SIZE_MAX;
    if (size <= FULL_FILL_MAX) {
        size_t hi = size < lim ? size : lim;
        if (fill)
            fill_range(p, 0, hi, tag);
        return fill ? SIZE_MAX : check_range(p, 0, hi, tag);
    }
    for (size_t off = 0;; off += STRIDE) {
        bool last = off >= size; /* the last chunk: the block's end */
        size_t lo = last ? size - CHUNK : off;
        size_t hi = lo + CHUNK;
        hi = hi < size ? hi : size;
        hi = hi < lim ? hi : lim;
        if (lo < hi) {
            if (fill)
                fill_range(p, lo, hi, tag);
            else if ((bad = check_range(p, lo, hi, tag)) != SIZE_MAX)
                break;
        }
        if (last)
            break;
    }
    return bad;
}

bool obj_is_slab(const obj_t *o) { return o->order == STRESS_NO_ORDER; }

static size_t obj_bytes(const run_t *r, const obj_t *o) {
    if (o->kind == OBJ_PAGES || o->kind == OBJ_LOWMEM)
        return r->page_size << o->order;
    return o->size;
}

static const char *kind_name(unsigned kind) {
    static const char *const names[] = {"none", "object", "pages", "lowmem pages", "victim",
                                        "second-free"};
    return kind < sizeof names / sizeof names[0] ? names[kind] : "?";
}

static void report_mismatch(const worker_t *w, const obj_t *o, uint64_t tag, size_t off,
                            const char *when) {
    const unsigned char *p = o->p;
    stress_fatal(w,
                 "%s: %s %p (size %zu, align %" PRIu32 ") allocated by thread %" PRIu64
                 " on cpu %u (serial %" PRIu64 ") is corrupt at offset %zu: byte 0x%02x, "
                 "expected 0x%02x",
                 when, kind_name(o->kind), o->p, o->size, o->align, (tag >> 48) - 1u,
                 (unsigned)o->cpu, (uint64_t)(tag & 0xffffffffffffu), off, p[off],
                 pattern_byte(tag, off));
}

void obj_check(const worker_t *w, const obj_t *o, const char *when) {
    size_t bytes = obj_bytes(w->run, o);
    size_t bad = sparse_ranges(o->p, bytes, bytes, o->tag, false);
    if (bad != SIZE_MAX)
        report_mismatch(w, o, o->tag, bad, when);
}

static uint64_t new_tag(worker_t *w) {
    return ((uint64_t)(w->index + 1u) << 48) | (++w->serial & 0xffffffffffffull);
}

static void obj_fill(worker_t *w, obj_t *o) {
    o->tag = new_tag(w);
    size_t bytes = obj_bytes(w->run, o);
    sparse_ranges(o->p, bytes, bytes, o->tag, true);
}

/* ---- allocation -------------------------------------------------------------------- */

static void expect_aligned(const worker_t *w, const void *p, size_t align, const char *what) {
    if (((uintptr_t)p & (align - 1u)) != 0)
        stress_fatal(w, "%s returned %p, not aligned to %zu", what, p, align);
}

/* Order of the large block at p, from the allocator's own usable size. */
static uint8_t large_order(worker_t *w, const obj_t *o) {
    run_t *r = w->run;
    size_t usable = bsa_usable_size(&r->alloc, o->p);
    if (usable < o->size || usable < r->page_size || (usable & (usable - 1u)) != 0)
        stress_fatal(w, "bsa_usable_size(%p) = %zu for a large block of %zu bytes", o->p,
                     usable, o->size);
    return (uint8_t)__builtin_ctzl(usable >> r->page_shift);
}

/* After a successful allocation of o->p: classify, check, fill, count. */
static void adopt_new(worker_t *w, obj_t *o) {
    run_t *r = w->run;
    o->cpu = (uint16_t)current_cpu(r);
    o->kind = OBJ_ALLOC;
    o->flags = 0;
    expect_aligned(w, o->p, o->align ? o->align : 8u, "bsa_alloc");
    if (bsa_size_class(o->size, o->align) < 0) {
        o->order = large_order(w, o);
        w->c.pages_taken += (uint64_t)1 << o->order;
    } else {
        o->order = STRESS_NO_ORDER;
        if ((w->serial & 15u) == 0 && bsa_usable_size(&r->alloc, o->p) < o->size)
            stress_fatal(w, "bsa_usable_size(%p) < %zu", o->p, o->size);
    }
    obj_fill(w, o);
    w->c.allocs++;
}

bool obj_alloc(worker_t *w, size_t size, size_t align, bool via_realloc, obj_t *o) {
    run_t *r = w->run;
    void *p = NULL;
    w->c.operations++;
    bsa_status_t st = via_realloc ? bsa_realloc(&r->alloc, NULL, size, align, &p)
                                  : bsa_alloc(&r->alloc, size, align, &p);
    if (st == BSA_E_NOMEM) {
        w->c.nomem++;
        return false;
    }
    if (st != BSA_OK || p == NULL)
        stress_fatal(w, "%s(size %zu, align %zu) returned %s", via_realloc ? "bsa_realloc"
                     : "bsa_alloc", size, align, bsa_status_name(st));
    *o = (obj_t){.p = p, .size = size, .align = (uint32_t)align};
    adopt_new(w, o);
    return true;
}

bool pages_alloc(worker_t *w, size_t count, size_t align, bool lowmem, obj_t *o) {
    run_t *r = w->run;
    void *p = NULL;
    w->c.operations++;
    bsa_status_t st = lowmem ? bsa_alloc_pages_lowmem(&r->alloc, count, align, &p)
                             : bsa_alloc_pages(&r->alloc, count, align, &p);
    if (st == BSA_E_NOMEM) {
        w->c.nomem++;
        return false;
    }
    const char *what = lowmem ? "bsa_alloc_pages_lowmem" : "bsa_alloc_pages";
    if (st != BSA_OK || p == NULL)
        stress_fatal(w, "%s(%zu, %zu) returned %s", what, count, align, bsa_status_name(st));
    unsigned order = 0;
    while (((size_t)1 << order) < count)
        order++;
    *o = (obj_t){.p = p, .size = count, .align = (uint32_t)align, .order = (uint8_t)order,
                 .kind = (uint8_t)(lowmem ? OBJ_LOWMEM : OBJ_PAGES),
                 .cpu = (uint16_t)current_cpu(r)};
    expect_aligned(w, p, align > r->page_size ? align : r->page_size, what);
    size_t bytes = r->page_size << order;
    uint64_t phys = r->ops.virt_to_phys ? r->ops.virt_to_phys(r->ops.ctx, (uintptr_t)p)
                                        : (uint64_t)(uintptr_t)p;
    if (lowmem && phys + bytes > BSA_DMA32_LIMIT)
        stress_fatal(w, "%s returned %p, physical 0x%" PRIx64 " + %zu is above 4 GiB", what,
                     p, phys, bytes);
    obj_fill(w, o);
    w->c.allocs++;
    w->c.lowmem_allocs += lowmem;
    w->c.pages_taken += (uint64_t)1 << order;
    return true;
}

/* ---- free and realloc -------------------------------------------------------------- */

/* Counts the free of `o` (already done) made on CPU `cpu`. */
static void count_free(worker_t *w, const obj_t *o, unsigned cpu) {
    w->c.frees++;
    if (obj_is_slab(o) && cpu != o->cpu)
        w->c.remote_frees++;
    else
        w->c.local_frees++;
    if (!obj_is_slab(o))
        w->c.pages_returned += (uint64_t)1 << o->order;
}

static void free_block(worker_t *w, obj_t *o) {
    run_t *r = w->run;
    bsa_status_t st;
    unsigned cpu = current_cpu(r);
    bool alt = rng_next(w) & 1u; /* sized / unsized, exact count / its power of two */
    w->c.operations++;
    if (o->kind == OBJ_PAGES || o->kind == OBJ_LOWMEM)
        st = bsa_free_pages(&r->alloc, o->p, alt ? o->size : (size_t)1 << o->order);
    else if (alt && !(o->flags & OBJ_UNSIZED))
        st = bsa_free_sized(&r->alloc, o->p, o->size, o->align);
    else
        st = bsa_free(&r->alloc, o->p);
    if (st != BSA_OK)
        stress_fatal(w, "freeing %s %p (size %zu, align %" PRIu32 ") returned %s",
                     kind_name(o->kind), o->p, o->size, o->align, bsa_status_name(st));
    count_free(w, o, cpu);
}

void obj_release(worker_t *w, obj_t *o) {
    obj_check(w, o, "before free");
    free_block(w, o);
    o->kind = OBJ_NONE;
}

/* The realloc moved `o` to q: the old block was freed, a new one allocated. */
static void realloc_moved(worker_t *w, obj_t *o, void *q, size_t size, unsigned cpu) {
    count_free(w, o, cpu);
    w->c.realloc_moves++;
    size_t keep = o->size < size ? o->size : size;
    obj_t moved = *o;
    moved.p = q;
    size_t bad = sparse_ranges(q, o->size, keep, o->tag, false);
    if (bad != SIZE_MAX)
        report_mismatch(w, &moved, o->tag, bad, "contents lost by bsa_realloc (moved)");
    o->p = q;
    o->size = size;
    adopt_new(w, o);
}

bool obj_realloc(worker_t *w, obj_t *o, size_t size) {
    run_t *r = w->run;
    obj_check(w, o, "before realloc");
    unsigned cpu = current_cpu(r);
    void *q = o->p;
    w->c.operations++;
    bsa_status_t st = bsa_realloc(&r->alloc, o->p, size, o->align, &q);
    if (st == BSA_E_NOMEM) {
        w->c.nomem++;
        obj_check(w, o, "after a failed realloc");
        return false;
    }
    if (st != BSA_OK)
        stress_fatal(w, "bsa_realloc(%p, %zu -> %zu) returned %s", o->p, o->size, size,
                     bsa_status_name(st));
    w->c.reallocs++;
    if (size == 0) { /* a free */
        if (q != NULL)
            stress_fatal(w, "bsa_realloc(%p, 0) returned %p, not NULL", o->p, q);
        count_free(w, o, cpu);
        o->kind = OBJ_NONE;
        return true;
    }
    if (q != o->p) {
        realloc_moved(w, o, q, size, cpu);
        return true;
    }
    size_t keep = o->size < size ? o->size : size; /* in place: the prefix survives */
    size_t bad = sparse_ranges(o->p, o->size, keep, o->tag, false);
    if (bad != SIZE_MAX)
        report_mismatch(w, o, o->tag, bad, "contents lost by bsa_realloc (in place)");
    o->size = size;
    o->flags |= OBJ_UNSIZED;
    obj_fill(w, o);
    return true;
}

/* ---- mailboxes --------------------------------------------------------------------- */

static ring_t *ring_of(const run_t *r, unsigned from, unsigned to) {
    return &r->rings[(size_t)from * r->nthreads + to];
}

bool mailbox_send(worker_t *w, unsigned to, const obj_t *o) {
    ring_t *q = ring_of(w->run, w->index, to);
    /* Relaxed: only this thread writes tail. */
    size_t tail = atomic_load_explicit(&q->tail, memory_order_relaxed);
    if (tail - q->head_seen == STRESS_RING_CAP) {
        /* Acquire: the consumer finished reading a slot before it advanced head. */
        q->head_seen = atomic_load_explicit(&q->head, memory_order_acquire);
        if (tail - q->head_seen == STRESS_RING_CAP)
            return false;
    }
    if (o->kind != OBJ_SECOND_FREE) /* that one points at freed memory */
        obj_check(w, o, "before a handoff");
    q->slot[tail % STRESS_RING_CAP] = *o;
    /* Release: the slot, and the object's contents behind it, reach the consumer. */
    atomic_store_explicit(&q->tail, tail + 1u, memory_order_release);
    w->c.handoffs++;
    return true;
}

size_t mailbox_poll(worker_t *w) {
    run_t *r = w->run;
    size_t got = 0;
    for (unsigned from = 0; from < r->nthreads; from++) {
        if (from == w->index)
            continue;
        ring_t *q = ring_of(r, from, w->index);
        size_t head = atomic_load_explicit(&q->head, memory_order_relaxed);
        if (head == q->tail_seen) {
            /* Acquire: pairs with the producer's release of tail. */
            q->tail_seen = atomic_load_explicit(&q->tail, memory_order_acquire);
            if (head == q->tail_seen)
                continue;
        }
        for (; head != q->tail_seen; head++) {
            obj_t o = q->slot[head % STRESS_RING_CAP];
            /* Release: our copy of the slot is done before the producer reuses it. */
            atomic_store_explicit(&q->head, head + 1u, memory_order_release);
            stress_receive(w, &o);
            got++;
        }
    }
    return got;
}

unsigned random_peer(worker_t *w) {
    unsigned n = w->run->nthreads;
    return (w->index + 1u + (unsigned)rng_below(w, n - 1u)) % n;
}
