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

static inline void bsa__list_unlink(bsa__slab_class_t *c, bsa__slab_hdr_t *h) {
    if (h->prev)
        h->prev->next = h->next;
    else
        *bsa__list_head(c, h->list) = h->next;
    if (h->next)
        h->next->prev = h->prev;
    h->next = h->prev = NULL;
}

static inline void bsa__list_link(bsa__slab_class_t *c, bsa__slab_hdr_t *h, unsigned list) {
    bsa__slab_hdr_t **head = bsa__list_head(c, list);
    h->list = (uint16_t)list;
    h->prev = NULL;
    h->next = *head;
    if (*head)
        (*head)->prev = h;
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
 * fuzz models test the same counts). Walks only fully free partial slabs, which are few:
 * the first partial slab in use ends it. */
static inline bool bsa__only_empty_room(const bsa__slab_class_t *c) {
    for (const bsa__slab_hdr_t *h = c->_partial; h != NULL; h = h->next)
        if (h->free != h->count)
            return false;
    return true;
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

/* The two moves of a slab that fills and frees one slot at a time (a program that frees
 * an old object and allocates a new one), spelled out for their known lists: the generic
 * unlink finds the list head through the slab's `list` field. */

/* The partial list's head, where allocations take from, just filled: to the full list. */
static inline void bsa__list_full_from_partial_head(bsa__slab_class_t *c, bsa__slab_hdr_t *h) {
    bsa__slab_hdr_t *next = h->next, *full = c->_full;
    c->_partial = next;
    if (next)
        next->prev = NULL;
    h->list = BSA__LIST_FULL;
    h->next = full; /* h->prev is NULL already: h was a head */
    if (full)
        full->prev = h;
    c->_full = h;
}

/* A full slab got a free slot back: to the partial list. */
static inline void bsa__list_partial_from_full(bsa__slab_class_t *c, bsa__slab_hdr_t *h) {
    if (h->prev)
        h->prev->next = h->next;
    else
        c->_full = h->next;
    if (h->next)
        h->next->prev = h->prev;
    bsa__list_push(c, h, BSA__LIST_PARTIAL);
}

#endif /* BSA_SLAB_LISTS_H */
