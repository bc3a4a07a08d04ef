/*
 * slab_fast.h - the common cases of a slab allocation and of a local free, inlined into
 * the global allocator's entry points.
 *
 * The primitives below (slot lookup, take, put) are the one implementation; slab.c's
 * full paths are built from them too. The two fast paths handle only the common case:
 * no remote frees to drain, no slab to add or give back, no bad input. Anything else
 * returns false and the caller runs the full path in slab.c, which decides every case,
 * so these never need to refuse or report anything. Owner only, like slab.c.
 */
#ifndef BSA_SLAB_FAST_H
#define BSA_SLAB_FAST_H

#include "slab_lists.h"

/* Remote frees pushed for the class and not yet drained. Relaxed: a hint for the owner
 * (a push it misses now is seen by a later call) and a statistic. */
static inline size_t bsa__slab_pending(const bsa_slab_t *s, unsigned cls) {
    return atomic_load_explicit((_Atomic size_t *)&s->_remote_pending[cls], memory_order_relaxed);
}

/* Remote frees of the class wait for the owner's drain (some slab is on the ready stack).
 * Read rather than the pending count, whose line takes a write on every remote free.
 * Relaxed: a push the owner misses now is seen by a later call. */
static inline bool bsa__slab_drain_due(const bsa_slab_t *s, unsigned cls) {
    return atomic_load_explicit((_Atomic(bsa__slab_hdr_t *) *)&s->_cls[cls]._ready,
                                memory_order_relaxed) != NULL;
}

/* Objects of a class live on slab allocator `s`: handed out minus pending remote frees
 * (the pushers' count may run ahead of the owner's in_use for a moment: clamp at 0). */
static inline size_t bsa__slab_live_in(const bsa_slab_t *s, unsigned size_class) {
    size_t used = bsa__count(&s->_cls[size_class]._in_use);
    size_t pending = bsa__slab_pending(s, size_class); /* exact once pushers are quiet */
    return used > pending ? used - pending : 0;
}

/* Slot index of `ptr` among `count` slots of 2^shift bytes from `first`, or -1 if it
 * is not a slot start. A pointer below `first` wraps `off` to a slot far beyond `count`:
 * one compare covers both ends. */
static inline long bsa__slot_index(uintptr_t first, unsigned shift, uint32_t count,
                                   const void *ptr) {
    uintptr_t off = (uintptr_t)ptr - first;
    if ((off & (((uintptr_t)1 << shift) - 1u)) != 0)
        return -1;
    uintptr_t slot = off >> shift;
    return slot < count ? (long)slot : -1;
}

/* Slot index of `ptr` in `h`, or -1 if it is not an object start. */
static inline long bsa__slab_slot(const bsa__slab_hdr_t *h, const void *ptr) {
    return bsa__slot_index((uintptr_t)h + h->first_offset, h->size_class + 3u, h->count, ptr);
}

/* The slot `slot` of 2^shift bytes from `first`: bsa__slot_index's inverse. */
static inline void *bsa__slot_at(uintptr_t first, unsigned shift, uint32_t slot) {
    return (void *)(first + ((uintptr_t)slot << shift));
}

/* The object at `slot` of `h`: bsa__slab_slot's inverse. */
static inline void *bsa__slab_slot_addr(const bsa__slab_hdr_t *h, uint32_t slot) {
    return bsa__slot_at((uintptr_t)h + h->first_offset, h->size_class + 3u, slot);
}

/* The slot's pending bit: freed by another CPU (on the slab's stack, or being pushed). */
static inline bool bsa__slab_slot_pending(const bsa__slab_hdr_t *h, uint32_t slot) {
    uintptr_t v = atomic_load_explicit(bsa__slab_pending_word((bsa__slab_hdr_t *)h,
                                                              bsa__slot_word(slot)),
                                       memory_order_relaxed);
    return (v & bsa__slot_bit(slot)) != 0;
}

static inline bool bsa__slab_slot_free(const bsa__slab_hdr_t *h, uint32_t slot) {
    uintptr_t v = atomic_load_explicit(&((bsa__slab_hdr_t *)h)->maps[bsa__slot_word(slot)],
                                       memory_order_relaxed);
    return (v & bsa__slot_bit(slot)) != 0;
}

/* The room slab (bsa_slab_t._room) if it is of class `cls`, else NULL. */
static inline bsa__slab_hdr_t *bsa__slab_room(const bsa_slab_t *s, unsigned cls) {
    bsa__slab_hdr_t *r = s->_room;
    return r != NULL && r->size_class == cls ? r : NULL;
}

/* The lowest free slot of slab `h`, handed out. `room`: h is the room slab (on the full
 * list already: it stops being the room when that was its last slot); else h is on the
 * partial list and moves to full when that was its last. free_map is written only by the
 * owner, so a relaxed load + store (no read-modify-write) is enough. Every field is read
 * before the first store: the stores are atomic, and the compiler would reload what it
 * read after them. `c` is s->_cls[cls], as `c` of bsa__slab_put_bits is h's class: the
 * callers have it, and deriving it inside both made GCC 12's object pairs 3-5
 * instructions longer (callgrind). */
static inline void *bsa__slab_take(bsa_slab_t *s, bsa__slab_class_t *c, bsa__slab_hdr_t *h,
                                   unsigned cls, bool room) {
    uint32_t w = h->hint;
    uint32_t free = h->free - 1u;
    uintptr_t first = (uintptr_t)h + h->first_offset;
    uintptr_t v = atomic_load_explicit(&h->maps[w], memory_order_relaxed);
    if (BSA__UNLIKELY(v == 0)) {
        do /* no free slot below the hint, and one at least at or above it */
            v = atomic_load_explicit(&h->maps[++w], memory_order_relaxed);
        while (v == 0);
        h->hint = w;
    }
    atomic_store_explicit(&h->maps[w], v & (v - 1u), memory_order_relaxed);
    h->free = free;
    bsa__count_add(&c->_in_use, 1);
    if (free == 0) {
        /* No free word: the first slot put back sets the hint to its own word, which the
         * next take then reads first (kept at w, a free above w left it below the only
         * free word, and that take searched up to it). */
        h->hint = BSA__HINT_FULL;
        if (room)
            s->_room = NULL;
        else
            bsa__list_move_from(c, h, BSA__LIST_PARTIAL, BSA__LIST_FULL);
    }
    uint32_t slot = (w << BSA__WORD_SHIFT) + bsa__ctz(v);
    return bsa__slot_at(first, cls + 3u, slot);
}

/* Sets the bits `bits` (n of them) of word `w`, live slots of `h`, back: the counts
 * follow, and a full slab becomes partial, or the room slab if there is none and the
 * allocator keeps one (it stays on the full list: the next allocation of its class takes
 * the slot back with no list move either). True when that emptied the slab: the caller
 * decides where it goes (bsa__slab_settle_empty, which also ends its time as the room).
 * A local free gives back one slot, a drain a word's worth; the full slab moves before
 * the empty test, so a drain that empties a full slab at once settles it from the
 * partial list, as slot by slot would. */
static inline bool bsa__slab_put_bits(bsa_slab_t *s, bsa__slab_class_t *c, bsa__slab_hdr_t *h,
                                      uint32_t w, uintptr_t bits, uint32_t n) {
    _Atomic uintptr_t *word = &h->maps[w];
    uintptr_t v = atomic_load_explicit(word, memory_order_relaxed);
    atomic_store_explicit(word, v | bits, memory_order_relaxed);
    if (w < h->hint)
        h->hint = w;
    h->free += n;
    bsa__count_add(&c->_in_use, (size_t)0 - n);
    if (h->list == BSA__LIST_FULL && h != s->_room) {
        if (s->_room == NULL && s->_keeps_room)
            s->_room = h;
        else
            bsa__list_move_from(c, h, BSA__LIST_FULL, BSA__LIST_PARTIAL);
    }
    return h->free == h->count && h->list != BSA__LIST_EMPTY;
}

/* bsa__slab_put_bits of one slot. */
static inline bool bsa__slab_put(bsa_slab_t *s, bsa__slab_class_t *c, bsa__slab_hdr_t *h,
                                 uint32_t slot) {
    return bsa__slab_put_bits(s, c, h, bsa__slot_word(slot), bsa__slot_bit(slot), 1u);
}

/* The free-hint entry of `ptr`'s 4 KiB chunk (bsa_slab_t._free_hints). A fixed chunk,
 * not the page: no load of the page size, and a larger page's chunks only take more
 * entries. */
#define BSA__FREE_HINT_SHIFT 12u
static inline uintptr_t *bsa__free_hint_at(bsa_slab_t *s, const void *ptr) {
    return &s->_free_hints[((uintptr_t)ptr >> BSA__FREE_HINT_SHIFT) & (BSA__FREE_HINTS - 1u)];
}

/* The live slab of `s` that holds `ptr` by its free-hint entry, if it is of class
 * size_class (-1: any); else NULL. An empty entry (0: a shift of 0) holds no pointer
 * but NULL, which the callers never pass. */
static inline bsa__slab_hdr_t *bsa__slab_hinted(bsa_slab_t *s, const void *ptr,
                                                int size_class) {
    uintptr_t e = *bsa__free_hint_at(s, ptr);
    bsa__slab_hdr_t *h = bsa__free_hint_slab(e);
    return (((uintptr_t)ptr - (uintptr_t)h) >> bsa__free_hint_log(e)) == 0 &&
                   (size_class < 0 || h->size_class == (unsigned)size_class)
               ? h
               : NULL;
}

/* The number of free-hint entries slab `h` of `s` can have: one per chunk, at most all
 * of them (a slab's chunks are consecutive: so are their entries, wrapping); and
 * bsa__free_hint_of_chunk(s, h, i), for i below that number: the entry of chunk i. The
 * entries' two writers, bsa__slab_set_hints and retire() in slab.c, visit exactly
 * these. */
static inline size_t bsa__free_hint_span(const bsa_slab_t *s, const bsa__slab_hdr_t *h) {
    size_t chunks = bsa__slab_bytes(s, h->size_class) >> BSA__FREE_HINT_SHIFT;
    return chunks < BSA__FREE_HINTS ? chunks : BSA__FREE_HINTS;
}
static inline uintptr_t *bsa__free_hint_of_chunk(bsa_slab_t *s, const bsa__slab_hdr_t *h,
                                                 size_t i) {
    return bsa__free_hint_at(s, (const char *)h + (i << BSA__FREE_HINT_SHIFT));
}

/* Makes live slab `h` of `s` the free-hint entry of each of its chunks (retire() in
 * slab.c clears them): the frees that follow in any part of it skip the lookup, as a
 * batch freeing slab after slab does (filling only the looked-up chunk's entry leaves
 * one lookup per chunk: every other free for 2048-byte objects). Owner only. */
static inline void bsa__slab_set_hints(bsa_slab_t *s, bsa__slab_hdr_t *h) {
    uintptr_t e = (uintptr_t)h | bsa__log2(bsa__slab_bytes(s, h->size_class)); /* 2^k */
    for (size_t i = 0, n = bsa__free_hint_span(s, h); i < n; i++)
        *bsa__free_hint_of_chunk(s, h, i) = e;
}

/* bsa__slab_alloc_class when the class has the room slab, or a partial slab and no drain
 * is due: remote frees wait, if any, until every slab with room is entirely free
 * (bsa__only_empty_room). The room slab comes first: it is not fully free, and taking
 * its slot back moves no slab. */
static inline bool bsa__slab_alloc_fast(bsa_slab_t *s, unsigned cls, void **out) {
    bsa__slab_class_t *c = &s->_cls[cls];
    bsa__slab_hdr_t *h = bsa__slab_room(s, cls);
    if (h != NULL) {
        *out = bsa__slab_take(s, c, h, cls, true);
        return true;
    }
    h = c->_partial;
    if (BSA__UNLIKELY(h == NULL || (h->free == h->count && bsa__slab_drain_due(s, cls))))
        return false;
    *out = bsa__slab_take(s, c, h, cls, false);
    return true;
}

/* bsa__slab_free_in for a live object when the slab, if this empties it, stays where it
 * is as the class's cached slab (bsa__lone_cached). */
static inline bool bsa__slab_free_fast(bsa_slab_t *s, bsa__slab_hdr_t *h, void *ptr) {
    bsa__slab_class_t *c = &s->_cls[h->size_class];
    long slot = bsa__slab_slot(h, ptr);
    if (BSA__UNLIKELY(slot < 0 || bsa__slab_slot_free(h, (uint32_t)slot) ||
                      bsa__slab_slot_pending(h, (uint32_t)slot) ||
                      (h->free + 1u == h->count && !bsa__lone_cached(c, h))))
        return false; /* the full path decides, refuses and reports */
    (void)bsa__slab_put(s, c, h, (uint32_t)slot);
    return true;
}

#endif /* BSA_SLAB_FAST_H */
