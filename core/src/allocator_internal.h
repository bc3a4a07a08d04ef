/*
 * allocator_internal.h - what the global allocator's source files share: the spinlock
 * (C11 atomics plus the platform's critical-section and relax hooks), the CPU lookup and
 * the buddy calls made under the buddy lock. One lock is never taken while another is
 * held.
 */
#ifndef BSA_ALLOCATOR_INTERNAL_H
#define BSA_ALLOCATOR_INTERNAL_H

#include "internal.h"

static inline uintptr_t bsa__lock(const bsa_ops_t *ops, _Atomic int *lock) {
    uintptr_t state = ops->crit_enter ? ops->crit_enter(ops->ctx) : 0;
    /* Acquire: everything the previous holder wrote before its release is visible. */
    while (atomic_exchange_explicit(lock, 1, memory_order_acquire) != 0) {
        /* Relaxed spin on a plain load: no cache-line ping-pong while we wait. */
        while (atomic_load_explicit(lock, memory_order_relaxed) != 0)
            if (ops->relax)
                ops->relax(ops->ctx);
    }
    return state;
}

static inline void bsa__unlock(const bsa_ops_t *ops, _Atomic int *lock, uintptr_t state) {
    /* Release: publishes the critical section's writes to the next holder. */
    atomic_store_explicit(lock, 0, memory_order_release);
    if (ops->crit_exit)
        ops->crit_exit(ops->ctx, state);
}

static inline bool bsa__ready(const bsa_allocator_t *a) {
    return a != NULL && a->_magic == BSA__ALLOC_MAGIC;
}
static inline bsa_ops_t *bsa__ops(const bsa_allocator_t *a) { return (bsa_ops_t *)&a->_ops; }
static inline _Atomic int *bsa__buddy_lock(const bsa_allocator_t *a) {
    return (_Atomic int *)&a->_buddy_lock;
}
static inline bsa_buddy_t *bsa__buddy_of(const bsa_allocator_t *a) {
    return (bsa_buddy_t *)&a->_buddy;
}

/* The calling CPU. An id outside the contract is folded in rather than trusted. */
static inline bsa__cpu_t *bsa__current_cpu(const bsa_allocator_t *a) {
    if (a->_cpu_count == 1)
        return &a->_cpus[0];
    unsigned id = a->_ops.cpu_id(a->_ops.ctx);
    return &a->_cpus[BSA__LIKELY(id < a->_cpu_count) ? id : id % a->_cpu_count];
}

/* Page order of a LARGE block for `size` bytes; E_INVALID when it cannot be a block. */
static inline bsa_status_t bsa__large_order(const bsa_allocator_t *a, size_t size,
                                            unsigned *order) {
    size_t pages = (size >> a->_buddy._page_shift) +
                   ((size & (a->_buddy._page_size - 1u)) != 0);
    if (pages > BSA_MAX_COUNT)
        return BSA_E_INVALID;
    *order = bsa__order_of(pages);
    return BSA_OK;
}

/* allocator.c */
BSA__HIDDEN bsa_status_t bsa__locked_alloc(bsa_allocator_t *a, unsigned order, size_t align,
                                           bool lowmem, unsigned kind, void **out);
BSA__HIDDEN bsa_status_t bsa__locked_free(bsa_allocator_t *a, void *addr, unsigned kind,
                                          unsigned order);
BSA__HIDDEN void bsa__note_bad(const bsa_allocator_t *a, const void *ptr);
/* The slab header of a SLAB block, or NULL if it does not check out. */
BSA__HIDDEN bsa__slab_hdr_t *bsa__slab_of_block(const bsa_allocator_t *a,
                                                const bsa__block_t *blk);

#endif /* BSA_ALLOCATOR_INTERNAL_H */
