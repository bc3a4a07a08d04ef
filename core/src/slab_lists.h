/*
 * slab_lists.h - a class's three slab lists (partial, full, empty): doubly linked
 * through the slab headers, each slab on the list its `list` field names. Shared by
 * slab.c and the inlined fast paths (slab_fast.h). Owner only.
 */
#ifndef BSA_SLAB_LISTS_H
#define BSA_SLAB_LISTS_H

#include "internal.h"

static inline bsa__slab_hdr_t **bsa__list_head(bsa__slab_class_t *c, unsigned list) {
    return list == BSA__LIST_PARTIAL ? &c->_partial
           : list == BSA__LIST_FULL  ? &c->_full
                                     : &c->_empty;
}

/* Takes `h` off `list`, the one it is on. A caller that knows the list passes it (the
 * head is then found without a branch on h->list); bsa__list_unlink reads it. */
static inline void bsa__list_unlink_from(bsa__slab_class_t *c, bsa__slab_hdr_t *h,
                                         unsigned list) {
    /* The full-slab count first (in bsa__list_link too) for GCC 12's sake: with both
     * updates after the links, it kept one more register in bsa_free_sized and
     * recomputed the class address in bsa_alloc (callgrind: allocations +3 instructions,
     * sized frees +4 to +5); with either one first, neither happens. */
    if (list == BSA__LIST_FULL)
        c->_full_slabs--;
    bsa__slab_hdr_t *prev = h->prev, *next = h->next; /* read once: the stores may alias */
    if (prev)
        prev->next = next;
    else
        *bsa__list_head(c, list) = next;
    if (next)
        next->prev = prev;
    /* h's own links are left as they are: bsa__list_link rewrites both, and a slab
     * handed back is not read again. */
}

static inline void bsa__list_unlink(bsa__slab_class_t *c, bsa__slab_hdr_t *h) {
    bsa__list_unlink_from(c, h, h->list);
}

static inline void bsa__list_link(bsa__slab_class_t *c, bsa__slab_hdr_t *h, unsigned list) {
    if (list == BSA__LIST_FULL)
        c->_full_slabs++;
    bsa__slab_hdr_t **head = bsa__list_head(c, list), *first = *head;
    h->list = (uint16_t)list;
    h->prev = NULL;
    h->next = first;
    if (first)
        first->prev = h;
    *head = h;
}

/* A fully free slab alone on the partial list is the class's cached empty slab (the
 * empty list is then empty): a slab that an alloc+free pair empties stays where the
 * next allocation looks, with no list moves. */
static inline bool bsa__lone_and_empty(const bsa__slab_hdr_t *h) {
    return h != NULL && h->next == NULL && h->free == h->count;
}

/* Whether `h`, once fully free, stays where it is as that cached slab: nothing else is
 * cached and it is alone on the partial list. */
static inline bool bsa__lone_cached(const bsa__slab_class_t *c, const bsa__slab_hdr_t *h) {
    return c->_empty == NULL && h == c->_partial && h->next == NULL;
}

/* Every slab of the class with a free slot is entirely free (the empty list's slab and
 * fully free partial ones): the point where the owner drains its remote frees, before it
 * starts on an empty slab or asks for pages. Counts, not list positions, decide it (the
 * fuzz models test the same counts): the objects handed out are all in full slabs. Valid
 * only when the class has no room slab, which the full list counts but which has room
 * (the caller takes from it first). Not a walk of the partial list: after a drain it
 * holds every slab the drain emptied. A producer of 512-byte objects whose consumer
 * frees them on another CPU walked 104 slabs a call on average (32 of 64 bytes), and
 * spent over a third of its time there. */
static inline bool bsa__only_empty_room(const bsa__slab_class_t *c) {
    return bsa__count(&c->_in_use) == (size_t)c->_full_slabs * c->_count;
}

/* Pushes onto a list; a slab joining the partial list first sends a lone empty partial
 * slab to the empty list, so that "the cached slab" keeps one meaning. */
static inline void bsa__list_push(bsa__slab_class_t *c, bsa__slab_hdr_t *h, unsigned list) {
    bsa__slab_hdr_t *lone = c->_partial;
    if (list == BSA__LIST_PARTIAL && c->_empty == NULL && bsa__lone_and_empty(lone)) {
        bsa__list_unlink(c, lone);
        bsa__list_link(c, lone, BSA__LIST_EMPTY);
    }
    bsa__list_link(c, h, list);
}

static inline void bsa__list_move(bsa__slab_class_t *c, bsa__slab_hdr_t *h, unsigned list) {
    bsa__list_unlink(c, h);
    bsa__list_push(c, h, list);
}

/* bsa__list_move from a list the caller knows `h` is on: the fast paths' moves
 * (partial -> full as a slab fills, full -> partial as it gets a slot back). */
static inline void bsa__list_move_from(bsa__slab_class_t *c, bsa__slab_hdr_t *h,
                                       unsigned from, unsigned to) {
    bsa__list_unlink_from(c, h, from);
    bsa__list_push(c, h, to);
}

#endif /* BSA_SLAB_LISTS_H */
