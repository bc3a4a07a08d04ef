/*
 * slab.c - one CPU's object allocator: slab lists, slot bitmaps, the NEED/RELEASE
 * protocol with whoever owns the pages.
 *
 * Owns: per class, the partial / full / empty lists and the counters in bsa__slab_class_t.
 * Invariants: a slab is on exactly one list, the one its `list` field names; slabs on
 * the full list have free == 0, but the room slab (bsa_slab_t._room: some but not all
 * slots free again, at most one per CPU). Each class caches at most one empty slab: on
 * the empty list, or, when that list is empty, alone on the partial list (so an
 * alloc+free pair moves nothing).
 * A fully free slab may also sit on partial after a drain, ready for the next allocation.
 * Locks: none here. Everything but remote frees (slab_remote.c) runs on the owner, which
 * the global allocator serialises with the CPU's lock.
 */
#include "slab_fast.h"

static bool slab_ready(const bsa_slab_t *s) { return s != NULL && s->_magic == BSA__SLAB_MAGIC; }

bsa_status_t bsa_slab_init(bsa_slab_t *s, size_t page_size, unsigned cpu) {
    bsa__slab_geo_t g;
    if (s == NULL || !bsa__slab_geometry(0, page_size, &g))
        return BSA_E_INVALID;
    s->_magic = 0;
    s->_cpu = cpu;
    s->_page_size = page_size;
    s->_ops = NULL;
    s->_keeps_room = false;
    s->_room = NULL;
    for (unsigned i = 0; i < BSA__FREE_HINTS; i++)
        s->_free_hints[i] = 0;
    atomic_init(&s->_bad_frees, 0);
    for (unsigned k = 0; k < BSA_SIZE_CLASS_COUNT; k++) {
        bsa__slab_class_t *c = &s->_cls[k];
        bsa__slab_geometry(k, page_size, &g);
        c->_partial = c->_full = c->_empty = NULL;
        c->_full_slabs = 0;
        atomic_init(&c->_slabs, 0);
        atomic_init(&c->_in_use, 0);
        atomic_init(&s->_remote_pending[k], 0);
        atomic_init(&s->_cls[k]._ready, NULL);
        c->_slab_pages = g.pages;
        c->_first_offset = g.first_offset;
        c->_count = g.count;
    }
    s->_magic = BSA__SLAB_MAGIC;
    return BSA_OK;
}

bsa_status_t bsa__slab_alloc_class(bsa_slab_t *s, unsigned cls, void **out) {
    bsa__slab_class_t *c = &s->_cls[cls];
    /* Remote frees are drained only when they are needed: when every slab with a free
     * slot is entirely free (never while there is a room slab, which is not). Draining on
     * every call while frees trickle in moved the remote lines between the CPUs on every
     * object. */
    bsa__slab_hdr_t *h = bsa__slab_room(s, cls);
    if (h == NULL && BSA__UNLIKELY(bsa__only_empty_room(c) && bsa__slab_drain_due(s, cls))) {
        bsa__slab_drain_class(s, cls);
        h = bsa__slab_room(s, cls); /* a full slab the drain gave a slot back */
    }
    if (h != NULL) {
        *out = bsa__slab_take(s, c, h, cls, true);
        return BSA_OK;
    }
    h = c->_partial;
    if (BSA__UNLIKELY(h == NULL)) {
        h = c->_empty;
        if (h == NULL)
            return BSA_NEED_PAGES;
        bsa__list_move(c, h, BSA__LIST_PARTIAL);
    }
    *out = bsa__slab_take(s, c, h, cls, false);
    return BSA_OK;
}

bsa_status_t bsa_slab_alloc(bsa_slab_t *s, size_t size, size_t align, void **out,
                            bsa_slab_pages_t *need) {
    if (!slab_ready(s))
        return BSA_E_UNINIT;
    int cls = bsa_size_class(size, align);
    if (out == NULL || need == NULL || cls < 0)
        return BSA_E_INVALID;
    bsa_status_t st = bsa__slab_alloc_class(s, (unsigned)cls, out);
    if (st == BSA_NEED_PAGES) {
        need->size_class = (unsigned)cls;
        need->base = NULL;
        need->pages = s->_cls[cls]._slab_pages;
    }
    return st;
}

static bool is_live_slab(const bsa__slab_hdr_t *h) { return h->cookie == bsa__slab_cookie(h); }

void bsa__slab_add(bsa_slab_t *s, unsigned cls, void *base) {
    bsa__slab_class_t *c = &s->_cls[cls];
    bsa__slab_hdr_t *h = base;
    h->owner = s;
    h->size_class = (uint16_t)cls;
    h->count = c->_count;
    h->first_offset = c->_first_offset;
    h->free = c->_count;
    h->words = (c->_count + (uint32_t)BSA__WORD_BITS - 1u) >> BSA__WORD_SHIFT;
    h->hint = 0;
    h->remote = bsa__slab_remote_index(h->words);
    atomic_init(bsa__slab_remote_head(h), 0);
    atomic_init(bsa__slab_ready_next(h), 0);
    for (uint32_t w = 0; w < h->words; w++) {
        uint32_t left = c->_count - (w << BSA__WORD_SHIFT);
        uintptr_t ones = left >= BSA__WORD_BITS ? ~(uintptr_t)0 : bsa__slot_bit(left) - 1u;
        atomic_init(&h->maps[w], ones);
        atomic_init(bsa__slab_pending_word(h, w), 0);
    }
    h->cookie = bsa__slab_cookie(h);
    bsa__count_add(&c->_slabs, 1);
    bsa__list_push(c, h, BSA__LIST_PARTIAL);
}

bsa_status_t bsa_slab_add_slab(bsa_slab_t *s, unsigned size_class, void *base, size_t bytes) {
    if (!slab_ready(s))
        return BSA_E_UNINIT;
    /* Standalone slabs are found by alignment (bsa__slab_header_of), hence the check. */
    if (size_class >= BSA_SIZE_CLASS_COUNT || base == NULL ||
        bytes != bsa__slab_bytes(s, size_class) || ((uintptr_t)base & (bytes - 1u)) != 0)
        return BSA_E_INVALID;
    const bsa__slab_hdr_t *h = base;
    if (is_live_slab(h) && h->owner == s)
        return BSA_E_INVALID; /* the same slab added twice */
    bsa__slab_add(s, size_class, base);
    return BSA_OK;
}

/* Takes a fully free slab off its list to hand it back: *release filled. */
static bsa_status_t retire(bsa_slab_t *s, bsa__slab_class_t *c, bsa__slab_hdr_t *h,
                           bsa_slab_pages_t *release) {
    bsa__list_unlink(c, h);
    bsa__count_add(&c->_slabs, (size_t)-1);
    h->cookie = 0; /* a stale header must never pass for a live one */
    /* Only h's chunks' entries can name it (bsa__slab_set_hints): a scan of all 128 made
     * the batch-256 medians of 128-2048 bytes 14-29% slower than with the one hint before
     * (one A/B of 10 runs). */
    for (size_t i = 0, n = bsa__free_hint_span(s, h); i < n; i++) {
        uintptr_t *e = bsa__free_hint_of_chunk(s, h, i);
        if (bsa__free_hint_slab(*e) == h)
            *e = 0;
    }
    release->size_class = h->size_class;
    release->base = h;
    release->pages = c->_slab_pages;
    return BSA_RELEASE_PAGES;
}

/* A slab just became fully free: cache it, or hand it back when one is cached. Alone
 * on the partial list it is cached where it is (bsa__lone_cached). */
static bsa_status_t slab_emptied(bsa_slab_t *s, bsa__slab_class_t *c, bsa__slab_hdr_t *h,
                                 bsa_slab_pages_t *release) {
    if (bsa__lone_cached(c, h))
        return BSA_OK;
    if (c->_empty == NULL) {
        bsa__list_move(c, h, BSA__LIST_EMPTY);
        return BSA_OK;
    }
    return retire(s, c, h, release);
}

/* The room slab (bsa_slab_t._room, not NULL) makes its deferred move to the partial
 * list and is the room no more: it emptied. */
static void end_room(bsa_slab_t *s) {
    bsa__slab_hdr_t *r = s->_room;
    s->_room = NULL;
    bsa__list_move_from(&s->_cls[r->size_class], r, BSA__LIST_FULL, BSA__LIST_PARTIAL);
}

bsa_status_t bsa__slab_settle_empty(bsa_slab_t *s, bsa__slab_hdr_t *h,
                                    bsa_slab_pages_t *release) {
    bsa__slab_class_t *c = &s->_cls[h->size_class];
    /* The room slab makes its deferred move first: it settles from the partial list, as
     * it would have had it moved with its first slot back (a lone empty partial slab
     * then goes to the empty list, and the class still caches one empty slab). */
    if (h == s->_room)
        end_room(s);
    if (release)
        return slab_emptied(s, c, h, release);
    /* A drain cannot hand pages back: cache the slab, or keep it on partial where the
     * next allocation uses it and bsa_slab_reclaim finds it. */
    if (bsa__lone_cached(c, h))
        return BSA_OK;
    bool cached = c->_empty != NULL || bsa__lone_and_empty(c->_partial);
    bsa__list_move(c, h, cached ? BSA__LIST_PARTIAL : BSA__LIST_EMPTY);
    return BSA_OK;
}

/* Returns a freed slot to its slab and moves the slab between lists. */
static bsa_status_t put_slot(bsa_slab_t *s, bsa__slab_hdr_t *h, uint32_t slot,
                             bsa_slab_pages_t *release) {
    bsa__slab_class_t *c = &s->_cls[h->size_class];
    if (!bsa__slab_put(s, c, h, slot))
        return BSA_OK;
    return bsa__slab_settle_empty(s, h, release);
}

bsa_status_t bsa__slab_free_in(bsa_slab_t *s, bsa__slab_hdr_t *h, void *ptr,
                               bsa_slab_pages_t *release) {
    long slot = bsa__slab_slot(h, ptr);
    if (slot < 0) {
        bsa__slab_note_bad(s, ptr);
        return BSA_E_BAD_FREE;
    }
    /* Free already: in the bitmap, or remotely (pending: on the stack, or being pushed;
     * the drain that would move it to the bitmap has not run). */
    if (bsa__slab_slot_free(h, (uint32_t)slot) || bsa__slab_slot_pending(h, (uint32_t)slot)) {
        bsa__slab_note_bad(s, ptr);
        return BSA_E_BAD_FREE;
    }
    return put_slot(s, h, (uint32_t)slot, release);
}

/* The slab of `ptr` for a class, found by alignment and verified by its header. */
bsa__slab_hdr_t *bsa__slab_header_of(const bsa_slab_t *s, unsigned cls, const void *ptr) {
    bsa__slab_hdr_t *h = (bsa__slab_hdr_t *)((uintptr_t)ptr & ~(bsa__slab_bytes(s, cls) - 1u));
    if (!is_live_slab(h) || h->owner != s || h->size_class != cls)
        return NULL;
    return h;
}

bsa_status_t bsa_slab_free(bsa_slab_t *s, void *ptr, size_t size, size_t align,
                           bsa_slab_pages_t *release) {
    if (!slab_ready(s))
        return BSA_E_UNINIT;
    int cls = bsa_size_class(size, align);
    if (release == NULL || cls < 0)
        return BSA_E_INVALID;
    bsa__slab_hdr_t *h = ptr ? bsa__slab_header_of(s, (unsigned)cls, ptr) : NULL;
    if (h == NULL) {
        bsa__slab_note_bad(s, ptr);
        return BSA_E_BAD_FREE;
    }
    return bsa__slab_free_in(s, h, ptr, release);
}

/* A fully free slab on the empty or partial list, or NULL. */
static bsa__slab_hdr_t *find_empty(bsa__slab_class_t *c) {
    if (c->_empty)
        return c->_empty;
    for (bsa__slab_hdr_t *h = c->_partial; h != NULL; h = h->next)
        if (h->free == h->count)
            return h;
    return NULL;
}

bsa_status_t bsa_slab_reclaim(bsa_slab_t *s, bsa_slab_pages_t *release) {
    if (!slab_ready(s))
        return BSA_E_UNINIT;
    if (release == NULL)
        return BSA_E_INVALID;
    for (unsigned k = 0; k < BSA_SIZE_CLASS_COUNT; k++) {
        bsa__slab_class_t *c = &s->_cls[k];
        bsa__slab_drain_class(s, k);
        bsa__slab_hdr_t *h = find_empty(c);
        if (h)
            return retire(s, c, h, release);
    }
    return BSA_OK;
}

size_t bsa_slab_live(const bsa_slab_t *s, unsigned size_class) {
    if (!slab_ready(s) || size_class >= BSA_SIZE_CLASS_COUNT)
        return 0;
    return bsa__slab_live_in(s, size_class);
}

size_t bsa_slab_count(const bsa_slab_t *s, unsigned size_class) {
    if (!slab_ready(s) || size_class >= BSA_SIZE_CLASS_COUNT)
        return 0;
    return bsa__count(&s->_cls[size_class]._slabs);
}

size_t bsa_slab_remote_pending(const bsa_slab_t *s, unsigned size_class) {
    if (!slab_ready(s) || size_class >= BSA_SIZE_CLASS_COUNT)
        return 0;
    return bsa__slab_pending(s, size_class); /* exact once the pushers are quiet */
}

uint64_t bsa_slab_bad_frees(const bsa_slab_t *s) {
    return slab_ready(s) ? atomic_load_explicit((_Atomic size_t *)&s->_bad_frees,
                                                memory_order_relaxed)
                         : 0;
}
