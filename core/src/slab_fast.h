/*
 * slab_fast.h - the common cases of a slab allocation and of a local free, inlined into
 * the global allocator's entry points.
 *
 * Each handles only the common case: no remote frees to drain, no slab to add or give
 * back, no bad input, the slot in the hint word (allocation). Anything else returns
 * false and the caller runs the full path in slab.c, which decides every case (and
 * checks everything again), so these two never need to refuse or report anything.
 * Owner only, like the rest of slab.c.
 */
#ifndef BSA_SLAB_FAST_H
#define BSA_SLAB_FAST_H

#include "slab_lists.h"

/* An object from the partial head's hint word (a slab it fills moves to full). */
static inline bool bsa__slab_alloc_fast(bsa_slab_t *s, unsigned cls, void **out) {
    bsa__slab_class_t *c = &s->_cls[cls];
    bsa__slab_hdr_t *h = c->_partial;
    /* Relaxed: a hint only, as in bsa__slab_alloc_class. */
    if (BSA__UNLIKELY(h == NULL ||
                      atomic_load_explicit(&s->_remote_pending[cls], memory_order_relaxed) != 0))
        return false;
    _Atomic uintptr_t *word = &h->maps[h->hint];
    uintptr_t v = atomic_load_explicit(word, memory_order_relaxed);
    if (BSA__UNLIKELY(v == 0))
        return false;
    atomic_store_explicit(word, v & (v - 1u), memory_order_relaxed);
    h->free--;
    bsa__count_add(&c->_in_use, 1);
    if (h->free == 0)
        bsa__list_move(c, h, BSA__LIST_FULL);
    uint32_t slot = (h->hint << BSA__WORD_SHIFT) + bsa__ctz(v);
    *out = (char *)h + c->_first_offset + ((size_t)slot << (cls + 3u));
    return true;
}

/* Frees a live object of `h` unless that empties a slab that must move or go back: a
 * full slab moves to partial; a slab alone on the partial list with nothing else cached
 * stays there, cached. */
static inline bool bsa__slab_free_fast(bsa_slab_t *s, bsa__slab_hdr_t *h, void *ptr) {
    bsa__slab_class_t *c = &s->_cls[h->size_class];
    uintptr_t off = (uintptr_t)ptr - (uintptr_t)h - c->_first_offset;
    uint32_t slot = (uint32_t)(off >> (h->size_class + 3u));
    if (BSA__UNLIKELY((uintptr_t)ptr < (uintptr_t)h + c->_first_offset ||
                      (off & ((8u << h->size_class) - 1u)) != 0 ||
                      (off >> (h->size_class + 3u)) >= h->count ||
                      atomic_load_explicit(&s->_remote_pending[h->size_class],
                                           memory_order_relaxed) != 0))
        return false;
    if (BSA__UNLIKELY(h->free + 1u == h->count &&
                      (c->_empty != NULL || h != c->_partial || h->next != NULL)))
        return false;
    _Atomic uintptr_t *word = &h->maps[bsa__slot_word(slot)];
    uintptr_t v = atomic_load_explicit(word, memory_order_relaxed);
    if (BSA__UNLIKELY(v & bsa__slot_bit(slot)))
        return false; /* already free: the full path refuses and reports it */
    atomic_store_explicit(word, v | bsa__slot_bit(slot), memory_order_relaxed);
    if (bsa__slot_word(slot) < h->hint)
        h->hint = bsa__slot_word(slot);
    h->free++;
    bsa__count_add(&c->_in_use, (size_t)-1);
    if (h->list == BSA__LIST_FULL)
        bsa__list_move(c, h, BSA__LIST_PARTIAL);
    return true;
}

#endif /* BSA_SLAB_FAST_H */
