/*
 * slab_remote.c - lock-free frees from other CPUs and the owner's drain.
 *
 * A remote freer claims the object's bit in the slab's pending_map (fetch_or), so an
 * object can be on the stack at most once: a second remote free of it is refused at
 * once instead of turning the stack into a cycle. It then pushes the object onto
 * remote_head with a CAS, linking through the object's first word. The push that takes
 * a slab's stack from empty also pushes the slab onto its owner's ready stack for the
 * class (bsa_slab_t._ready, linked through ready_next). The owner's drain takes the
 * whole ready stack with one exchange, and of each slab on it the whole object stack
 * with another (single consumer: no ABA), returns the slots to the bitmap a word at a
 * time and clears their pending bits. So a drain visits only slabs with frees waiting,
 * not every slab of the class (a producer far ahead of its consumer has hundreds). Walks
 * are bounded by the slab's slot count and the class's slab count, and only a slot whose
 * pending bit is set goes back: a link overwritten in freed memory can lose objects but
 * never frees a live one.
 * Invariant: a slab whose remote_head is not 0 is on its owner's ready stack, or in the
 * hands of the drain that took it off; only that drain sets remote_head back to 0.
 * Locks: none. The drain runs on the owner (under its CPU lock in the global allocator).
 */
#include "slab_fast.h"

void bsa__slab_note_bad(bsa_slab_t *s, const void *ptr) {
    /* Relaxed: a statistic; nothing is published through it. */
    atomic_fetch_add_explicit(&s->_bad_frees, 1, memory_order_relaxed);
    if (s->_ops && s->_ops->report)
        s->_ops->report(s->_ops->ctx, BSA_E_BAD_FREE, ptr);
}

bsa_status_t bsa__slab_remote_push(bsa__slab_hdr_t *h, void *ptr) {
    bsa_slab_t *owner = h->owner;
    long slot = bsa__slab_slot(h, ptr);
    if (slot < 0) {
        bsa__slab_note_bad(owner, ptr);
        return BSA_E_BAD_FREE;
    }
    _Atomic uintptr_t *pending = bsa__slab_pending_word(h, bsa__slot_word((uint32_t)slot));
    uintptr_t bit = bsa__slot_bit((uint32_t)slot);
    /* Acquire pairs with the drain's release clear: the drain's read of the object's
     * link happens before our write of it below. */
    if (atomic_fetch_or_explicit(pending, bit, memory_order_acquire) & bit) {
        bsa__slab_note_bad(owner, ptr); /* already on the stack */
        return BSA_E_BAD_FREE;
    }
    /* A live object's bit was cleared by its allocation, which happened before whoever
     * hands us the pointer got it; a set bit can only mean "already free". */
    if (bsa__slab_slot_free(h, (uint32_t)slot)) {
        atomic_fetch_and_explicit(pending, ~bit, memory_order_relaxed);
        bsa__slab_note_bad(owner, ptr);
        return BSA_E_BAD_FREE;
    }
    /* Relaxed: ordered before the release CAS below, so a drain that takes this object
     * also sees this increment before it subtracts. */
    atomic_fetch_add_explicit(&owner->_remote_pending[h->size_class], 1,
                              memory_order_relaxed);
    _Atomic uintptr_t *stack = bsa__slab_remote_head(h);
    uintptr_t head = atomic_load_explicit(stack, memory_order_relaxed);
    do {
        *(uintptr_t *)ptr = head;
        /* Release: the owner's acquire exchange then sees the link written above.
         * Acquire: when we take the stack from empty, the drain that emptied it has read
         * the slab's ready_next (before its release exchange), which we rewrite below. */
    } while (!atomic_compare_exchange_weak_explicit(stack, &head, (uintptr_t)ptr,
                                                    memory_order_acq_rel,
                                                    memory_order_relaxed));
    if (head == 0) { /* the slab had nothing waiting: it goes on its owner's ready stack */
        _Atomic(bsa__slab_hdr_t *) *ready = &owner->_cls[h->size_class]._ready;
        bsa__slab_hdr_t *top = atomic_load_explicit(ready, memory_order_relaxed);
        do {
            atomic_store_explicit(bsa__slab_ready_next(h), (uintptr_t)top, memory_order_relaxed);
            /* Release: the drain's acquire exchange sees ready_next written above. */
        } while (!atomic_compare_exchange_weak_explicit(ready, &top, h, memory_order_release,
                                                        memory_order_relaxed));
    }
    return BSA_OK;
}

/* Returns the slots `bits` of word `w`, found on h's stack, to its bitmap with one store
 * (bsa__slab_put_bits, settling the slab if that emptied it), then clears their pending
 * bits and counts them into *cleared. Only after the store may those slots be claimed
 * again: a remote free racing with the drain sees either the pending bit or the free
 * bit, never neither. A slot on the stack whose pending bit is not set, or that is free
 * already, was linked there by a write into freed memory: reported and left as it is,
 * so a corrupted link never marks a live object free. False when there was such a slot. */
static bool return_word(bsa_slab_t *s, bsa__slab_hdr_t *h, uint32_t w, uintptr_t bits,
                        uint32_t *cleared) {
    if (bits == 0)
        return true;
    _Atomic uintptr_t *pending = bsa__slab_pending_word(h, w);
    /* Relaxed: only the drain clears the pending bit of a slot on the stack, and the
     * pushers set these before the release CAS that the drain's exchange acquired. */
    uintptr_t claimed = bits & atomic_load_explicit(pending, memory_order_relaxed);
    uintptr_t fresh = claimed & ~atomic_load_explicit(&h->maps[w], memory_order_relaxed);
    for (uintptr_t bad = bits & ~fresh; bad != 0; bad &= bad - 1u)
        bsa__slab_note_bad(s, bsa__slab_slot_addr(h, (w << BSA__WORD_SHIFT) + bsa__ctz(bad)));
    if (fresh != 0 &&
        bsa__slab_put_bits(s, &s->_cls[h->size_class], h, w, fresh,
                           bsa__popcount(fresh)))
        (void)bsa__slab_settle_empty(s, h, NULL);
    /* Release: the drain's reads of these objects' links and the bitmap store above
     * happen before a later pusher's acquire fetch_or and its link write. */
    if (claimed != 0)
        atomic_fetch_and_explicit(pending, ~claimed, memory_order_release);
    *cleared += bsa__popcount(claimed);
    return fresh == bits;
}

/* Owner only. Returns slots of every remotely freed object of `h` to its bitmap, a word
 * at a time (a stack pushed by a consumer freeing in order holds runs of one word): the
 * slab moves off the full list with the first word and is settled as empty with the
 * last, as the frees one by one would have moved it. A link that names no object of
 * `h`, one seen already, or one return_word refuses ends the walk: it was written into
 * freed memory, and the objects behind it stay pending (reported; lost, never handed out
 * twice). */
static void drain_slab(bsa_slab_t *s, bsa__slab_hdr_t *h) {
    /* Acquire: pairs with the pushers' release CAS (links and counter visible). Release:
     * our read of ready_next (the caller's) happens before the next push that finds the
     * stack empty and links the slab onto the ready stack again. */
    uintptr_t top = atomic_exchange_explicit(bsa__slab_remote_head(h), 0, memory_order_acq_rel);
    /* The slot geometry in locals: the loop's report calls would make the compiler
     * reload it from the header for every object. */
    uintptr_t first = (uintptr_t)h + h->first_offset;
    unsigned shift = h->size_class + 3u;
    uint32_t count = h->count;
    uint32_t word = 0, taken = 0, cleared = 0;
    uintptr_t bits = 0; /* slots of `word` found on the stack, not yet returned */
    while (top != 0 && taken < count) {
        long slot = bsa__slot_index(first, shift, count, (void *)top);
        if (slot < 0)
            break;
        uintptr_t bit = bsa__slot_bit((uint32_t)slot);
        if (bsa__slot_word((uint32_t)slot) != word) {
            bool clean = return_word(s, h, word, bits, &cleared);
            word = bsa__slot_word((uint32_t)slot);
            bits = 0;
            if (!clean)
                break;
        } else if (bits & bit) {
            break; /* a cycle */
        }
        bits |= bit;
        taken++;
        top = *(uintptr_t *)top; /* the link, read before its slot can be pushed again */
    }
    (void)return_word(s, h, word, bits, &cleared); /* the last word: the walk ends anyway */
    if (top != 0)
        bsa__slab_note_bad(s, (void *)top); /* a corrupted link: the walk stopped there */
    /* Relaxed: a statistic, like the pushers' increments. */
    atomic_fetch_sub_explicit(&s->_remote_pending[h->size_class], cleared,
                              memory_order_relaxed);
}

void bsa__slab_drain_class(bsa_slab_t *s, unsigned cls) {
    if (!bsa__slab_drain_due(s, cls))
        return;
    /* Acquire: pairs with the pushers' release CAS; each slab's ready_next is visible. */
    bsa__slab_hdr_t *h = atomic_exchange_explicit(&s->_cls[cls]._ready, NULL, memory_order_acquire);
    size_t limit = bsa__count(&s->_cls[cls]._slabs);
    for (size_t n = 0; h != NULL && n < limit; n++) {
        /* Read before drain_slab: once its exchange empties the stack, a push may link
         * the slab onto the ready stack again. */
        bsa__slab_hdr_t *next = (bsa__slab_hdr_t *)atomic_load_explicit(
            bsa__slab_ready_next(h), memory_order_relaxed);
        drain_slab(s, h);
        h = next;
    }
    if (h != NULL)
        bsa__slab_note_bad(s, h); /* more ready slabs than slabs: a corrupted link */
}

bsa_status_t bsa_slab_remote_free(void *ptr, size_t size, size_t align) {
    int cls = bsa_size_class(size, align);
    if (cls < 0)
        return BSA_E_INVALID;
    if (ptr == NULL)
        return BSA_E_BAD_FREE;
    /* The owner is unknown, and so is its page size: try each slab size this class can
     * have, smallest first. Each candidate header lies inside the slab that holds ptr,
     * so every read stays inside memory the slab allocator was given. */
    size_t bytes = ((size_t)8 << cls) * BSA__SLAB_MIN_OBJECTS;
    if (bytes < BSA_MIN_PAGE_SIZE)
        bytes = BSA_MIN_PAGE_SIZE;
    for (; bytes <= BSA_MAX_PAGE_SIZE; bytes <<= 1) {
        bsa__slab_hdr_t *h = (bsa__slab_hdr_t *)((uintptr_t)ptr & ~(bytes - 1u));
        if (h->cookie == bsa__slab_cookie(h) && h->size_class == (unsigned)cls &&
            h->owner != NULL && h->owner->_magic == BSA__SLAB_MAGIC &&
            bsa__slab_bytes(h->owner, (unsigned)cls) == bytes)
            return bsa__slab_remote_push(h, ptr);
    }
    return BSA_E_BAD_FREE;
}
