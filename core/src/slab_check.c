/*
 * slab_check.c - bsa_slab_check: every slab list, header and bitmap of one CPU's slabs.
 *
 * Owner only (the global allocator holds the CPU lock). Walks are bounded by the class's
 * slab count, so a corrupted list gives BSA_E_CORRUPT rather than a hang. Pending bits
 * are only read: remote freers may set them at any time.
 */
#include "internal.h"

static bool check_bitmap(const bsa__slab_hdr_t *h) {
    uint32_t free = 0;
    for (uint32_t w = 0; w < h->words; w++) {
        uintptr_t v = atomic_load_explicit((_Atomic uintptr_t *)&h->maps[w],
                                           memory_order_relaxed);
        uint32_t first_slot = w << BSA__WORD_SHIFT;
        if (h->count - first_slot < BSA__WORD_BITS &&
            (v >> (h->count - first_slot)) != 0)
            return false; /* a bit beyond the last slot */
        if (v != 0 && w < h->hint)
            return false; /* the hint promises no free slot below it */
        free += bsa__popcount(v);
    }
    return free == h->free;
}

static bool check_header(const bsa_slab_t *s, const bsa__slab_class_t *c, unsigned cls,
                         const bsa__slab_hdr_t *h, unsigned list) {
    if (h->cookie != bsa__slab_cookie(h) || h->owner != s || h->size_class != cls ||
        h->list != list || h->count != c->_count || h->first_offset != c->_first_offset ||
        h->words != (c->_count + (uint32_t)BSA__WORD_BITS - 1u) >> BSA__WORD_SHIFT ||
        h->remote != bsa__slab_remote_index(h->words) ||
        h->free > h->count ||
        ((uintptr_t)h & (s->_page_size - 1u)) != 0)
        return false;
    if ((list == BSA__LIST_FULL && h->free != 0 && (h != s->_room || h->free == h->count)) ||
        (list == BSA__LIST_EMPTY && h->free != h->count) ||
        (list == BSA__LIST_PARTIAL && h->free == 0))
        return false;
    return check_bitmap(h);
}

static bool check_list(const bsa_slab_t *s, const bsa__slab_class_t *c, unsigned cls,
                       const bsa__slab_hdr_t *h, unsigned list, size_t *slabs, size_t *used) {
    const bsa__slab_hdr_t *prev = NULL;
    for (; h != NULL; prev = h, h = h->next) {
        if (++*slabs > bsa__count(&c->_slabs) || h->prev != prev ||
            !check_header(s, c, cls, h, list))
            return false;
        *used += h->count - h->free;
    }
    return true;
}

static bool on_list(const bsa__slab_hdr_t *list, const bsa__slab_hdr_t *h, size_t limit) {
    for (size_t n = 0; list != NULL && n < limit; n++, list = list->next)
        if (list == h)
            return true;
    return false;
}

/* `h` is on one of the class's three lists (walks bounded by its slab count). */
static bool of_class(const bsa__slab_class_t *c, const bsa__slab_hdr_t *h) {
    size_t limit = bsa__count(&c->_slabs);
    return on_list(c->_partial, h, limit) || on_list(c->_full, h, limit) ||
           on_list(c->_empty, h, limit);
}

/* Every slab on the class's ready stack is one of its slabs, with frees waiting. Not the
 * converse: a push may be between its two CAS right now. */
static bool check_ready(const bsa_slab_t *s, const bsa__slab_class_t *c, unsigned cls) {
    size_t limit = bsa__count(&c->_slabs), n = 0;
    bsa__slab_hdr_t *h = atomic_load_explicit((_Atomic(bsa__slab_hdr_t *) *)&s->_cls[cls]._ready,
                                              memory_order_acquire);
    for (; h != NULL; h = (bsa__slab_hdr_t *)atomic_load_explicit(bsa__slab_ready_next(h),
                                                                  memory_order_relaxed)) {
        if (++n > limit || !of_class(c, h) ||
            atomic_load_explicit(bsa__slab_remote_head(h), memory_order_relaxed) == 0)
            return false;
    }
    return true;
}

/* The class of live slab `h` of `s` into *cls; false if it is not one. */
static bool live_slab(const bsa_slab_t *s, const bsa__slab_hdr_t *h, unsigned *cls) {
    for (unsigned k = 0; k < BSA_SIZE_CLASS_COUNT; k++)
        if (of_class(&s->_cls[k], h)) {
            *cls = k;
            return true;
        }
    return false;
}

/* The room slab is none, or, if the allocator keeps one, a live slab on its full list
 * (check_header then checks its counts). Each free-hint entry is empty (0), or a live
 * slab with log2 of its size: the free path trusts it. */
static bool check_hints(const bsa_slab_t *s) {
    unsigned cls;
    if (s->_room != NULL && (!s->_keeps_room || !live_slab(s, s->_room, &cls) ||
                             s->_room->list != BSA__LIST_FULL))
        return false;
    for (unsigned i = 0; i < BSA__FREE_HINTS; i++) {
        uintptr_t e = s->_free_hints[i];
        if (e != 0 && (!live_slab(s, bsa__free_hint_slab(e), &cls) ||
                       bsa__free_hint_log(e) != bsa__log2(bsa__slab_bytes(s, cls))))
            return false;
    }
    return true;
}

bsa_status_t bsa_slab_check(const bsa_slab_t *s) {
    if (s == NULL || s->_magic != BSA__SLAB_MAGIC)
        return BSA_E_UNINIT;
    if (!check_hints(s))
        return BSA_E_CORRUPT;
    for (unsigned k = 0; k < BSA_SIZE_CLASS_COUNT; k++) {
        const bsa__slab_class_t *c = &s->_cls[k];
        bsa__slab_geo_t g;
        size_t partial = 0, full = 0, empty = 0, used = 0;
        if (!bsa__slab_geometry(k, s->_page_size, &g) || g.count != c->_count ||
            g.pages != c->_slab_pages || g.first_offset != c->_first_offset ||
            (c->_empty && c->_empty->next) ||
            !check_list(s, c, k, c->_partial, BSA__LIST_PARTIAL, &partial, &used) ||
            !check_list(s, c, k, c->_full, BSA__LIST_FULL, &full, &used) ||
            !check_list(s, c, k, c->_empty, BSA__LIST_EMPTY, &empty, &used) ||
            partial + full + empty != bsa__count(&c->_slabs) || full != c->_full_slabs ||
            used != bsa__count(&c->_in_use) ||
            !check_ready(s, c, k))
            return BSA_E_CORRUPT;
    }
    return BSA_OK;
}
