/*
 * allocator_realloc.c - bsa_usable_size and bsa_realloc.
 *
 * Liveness of a slab object is read under its owner's CPU lock (the free bitmap is the
 * owner's), plus its pending bit (an object on the remote stack is already freed).
 */
#include "allocator_internal.h"

/* Usable bytes of the live block or object at ptr; 0 if it is not one. */
static size_t live_size(const bsa_allocator_t *a, const void *ptr) {
    bsa__block_t blk;
    if (ptr == NULL || !bsa__buddy_find(&a->_buddy, (uintptr_t)ptr, &blk))
        return 0;
    if (blk.kind == BSA__KIND_LARGE)
        return bsa__page_addr(&a->_buddy, blk.sec, blk.head) == (uintptr_t)ptr
                   ? (size_t)1 << (blk.order + a->_buddy._page_shift)
                   : 0;
    if (blk.kind != BSA__KIND_SLAB)
        return 0;
    /* Any CPU will do for the header's owner test (its own slabs just pass it sooner):
     * the first one, so that a size query calls no platform hook. */
    bsa__slab_hdr_t *h = bsa__slab_header_at(a, &a->_cpus[0],
                                             bsa__page_addr(&a->_buddy, blk.sec, blk.head));
    long slot = h ? bsa__slab_slot(h, ptr) : -1;
    if (slot < 0)
        return 0;
    bsa__cpu_t *owner = bsa__cpu_of_owner(a, h->owner); /* checked by bsa__slab_header_at */
    uintptr_t state = bsa__cpu_lock(a, owner);
    bool live = !bsa__slab_slot_pending(h, (uint32_t)slot) &&
                !bsa__slab_slot_free(h, (uint32_t)slot);
    bsa__cpu_unlock(a, owner, state);
    return live ? bsa_size_class_bytes(h->size_class) : 0;
}

size_t bsa_usable_size(const bsa_allocator_t *a, const void *ptr) {
    return bsa__ready(a) ? live_size(a, ptr) : 0;
}

/* True when a fresh request (size, align) would get a block of the same class or page
 * order as the live one of `usable` bytes at ptr, and ptr meets `align`. Staying in
 * place only then keeps bsa_free_sized(new size) valid; a shrink across a class moves
 * the object, so the memory goes back. */
static bool same_block_shape(const bsa_allocator_t *a, size_t usable, size_t size, size_t align,
                             const void *ptr) {
    if (((uintptr_t)ptr & (align - 1u)) != 0)
        return false;
    int cls = bsa_size_class(size, align);
    if (cls >= 0)
        return usable == bsa_size_class_bytes((unsigned)cls);
    if (usable <= BSA_SMALL_MAX)
        return false;
    unsigned order;
    return bsa__large_order(a, size, &order) == BSA_OK &&
           ((size_t)1 << order) == usable >> a->_buddy._page_shift;
}

/* Byte copy the compiler may not turn into a memcpy call (the core has no libc). */
static void copy_bytes(void *dst, const void *src, size_t n) {
    uintptr_t *dw = dst;
    const uintptr_t *sw = src;
    size_t words = n / sizeof(uintptr_t);
    for (size_t i = 0; i < words; i++)
        dw[i] = sw[i];
    unsigned char *db = (unsigned char *)(dw + words);
    const unsigned char *sb = (const unsigned char *)(sw + words);
    for (size_t i = 0; i < n % sizeof(uintptr_t); i++)
        db[i] = sb[i];
}

bsa_status_t bsa_realloc(bsa_allocator_t *a, void *ptr, size_t new_size, size_t align,
                         void **out) {
    if (!bsa__ready(a))
        return BSA_E_UNINIT;
    if (out == NULL || (align != 0 && !bsa__is_pow2(align)))
        return BSA_E_INVALID;
    if (ptr == NULL)
        return bsa_alloc(a, new_size, align, out);
    size_t old = live_size(a, ptr);
    if (old == 0)
        return bsa__refuse(a, ptr);
    if (new_size == 0) {
        *out = NULL;
        return bsa_free(a, ptr);
    }
    if (same_block_shape(a, old, new_size, align ? align : 8, ptr)) {
        *out = ptr; /* already the block this request would get: stay in place */
        return BSA_OK;
    }
    void *fresh;
    bsa_status_t st = bsa_alloc(a, new_size, align, &fresh);
    if (st != BSA_OK)
        return st; /* the old block is untouched and still live */
    copy_bytes(fresh, ptr, old < new_size ? old : new_size);
    (void)bsa_free(a, ptr);
    *out = fresh;
    return BSA_OK;
}
