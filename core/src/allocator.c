/*
 * allocator.c - the global allocator: init, routing, and the object calls.
 *
 * Owns: the per-CPU array (carved from the first region), the buddy lock.
 * Routing: size <= 2048 and align <= 2048 -> the current CPU's slab; larger -> a LARGE
 * block of pages aligned to max(align, page size). Frees find their block through the
 * buddy's page records (never through bytes a user could write), then the slab header.
 * Locks: a_buddy_lock around every buddy call, cpus[i].lock around CPU i's slab, never
 * two at once. Remote frees (owner != current CPU) take no lock at all.
 */
#include "allocator_internal.h"

bsa_status_t bsa__refuse(const bsa_allocator_t *a, const void *ptr) {
    /* Relaxed: a statistic. */
    atomic_fetch_add_explicit((_Atomic size_t *)&a->_bad_frees, 1, memory_order_relaxed);
    if (a->_ops.report)
        a->_ops.report(a->_ops.ctx, BSA_E_BAD_FREE, ptr);
    return BSA_E_BAD_FREE;
}

bsa_status_t bsa_init(bsa_allocator_t *a, const bsa_config_t *cfg, void *region, size_t len) {
    if (a == NULL || cfg == NULL || bsa_slab_pages_for(0, cfg->page_size) == 0 ||
        cfg->cpu_count == 0 || cfg->cpu_count > BSA_MAX_CPUS ||
        (cfg->flags & ~BSA_CPU_EXCLUSIVE) != 0 ||
        (cfg->cpu_count > 1 && (cfg->ops == NULL || cfg->ops->cpu_id == NULL)) ||
        region == NULL || (uintptr_t)region + len < (uintptr_t)region)
        return BSA_E_INVALID;
    uintptr_t cpus = ((uintptr_t)region + _Alignof(bsa__cpu_t) - 1u) &
                     ~(uintptr_t)(_Alignof(bsa__cpu_t) - 1u);
    uintptr_t rest = cpus + cfg->cpu_count * sizeof(bsa__cpu_t);
    uintptr_t end = (uintptr_t)region + len;
    if (cpus < (uintptr_t)region || rest >= end)
        return BSA_E_INVALID;
    /* Validate everything before writing anything: a failed init changes nothing. */
    bsa_status_t st = bsa__section_check_region(cfg->page_size, (void *)rest, end - rest);
    if (st != BSA_OK)
        return BSA_E_INVALID;

    a->_magic = 0;
    st = bsa_buddy_init(&a->_buddy, cfg->page_size, cfg->ops, (void *)rest, end - rest);
    if (st != BSA_OK)
        return st;
    bsa__ops_copy(&a->_ops, &a->_buddy._ops);
    /* The per-CPU array is part of the first region: a later region must not overlap it. */
    bsa__section_claim_prefix(a->_buddy._first, (uintptr_t)region);
    a->_cpu_count = cfg->cpu_count;
    a->_flags = cfg->flags;
    a->_cached_orders = (cfg->flags & BSA_CPU_EXCLUSIVE) ? BSA_PAGE_CACHE_MAX_ORDER + 1u : 0u;
    a->_cpus = (bsa__cpu_t *)cpus;
    for (unsigned i = 0; i < cfg->cpu_count; i++) {
        atomic_init(&a->_cpus[i].lock, 0);
        atomic_init(&a->_cpus[i].last_section, a->_buddy._first);
        bsa_slab_init(&a->_cpus[i].slab, cfg->page_size, i);
        a->_cpus[i].slab._ops = &a->_ops;
        a->_cpus[i].slab._keeps_room = (cfg->flags & BSA_CPU_EXCLUSIVE) != 0;
        bsa__page_cache_init(&a->_cpus[i].pages);
    }
    atomic_init(&a->_buddy_lock, 0);
    atomic_init(&a->_bad_frees, 0);
    a->_initial_free_pages = a->_buddy._free_pages;
    a->_magic = BSA__ALLOC_MAGIC;
    return BSA_OK;
}

bsa_status_t bsa_add_region(bsa_allocator_t *a, void *region, size_t len) {
    if (!bsa__ready(a))
        return BSA_E_UNINIT;
    uintptr_t state = bsa__lock(bsa__ops(a), bsa__buddy_lock(a));
    bsa_status_t st = bsa_buddy_add_region(&a->_buddy, region, len);
    bsa__unlock(bsa__ops(a), bsa__buddy_lock(a), state);
    return st;
}

bsa_status_t bsa__alloc_after_give_back(bsa_allocator_t *a, bsa__cpu_t *cpu, unsigned order,
                                        size_t align, bool lowmem, unsigned kind, void **out) {
    if (cpu == NULL)
        cpu = bsa__current_cpu(a);
    if (bsa__page_cache_pages(&cpu->pages) == 0 ||
        bsa__page_cache_give_back(&a->_buddy, &cpu->pages) != BSA_OK)
        return BSA_E_NOMEM;
    return bsa__buddy_alloc(&a->_buddy, order, align, lowmem, kind, out);
}

bsa_status_t bsa__locked_alloc(bsa_allocator_t *a, unsigned order, size_t align, bool lowmem,
                                unsigned kind, void **out) {
    uintptr_t state = bsa__lock(bsa__ops(a), bsa__buddy_lock(a));
    bsa_status_t st = bsa__buddy_alloc(&a->_buddy, order, align, lowmem, kind, out);
    if (BSA__UNLIKELY(st == BSA_E_NOMEM) && (a->_flags & BSA_CPU_EXCLUSIVE))
        st = bsa__alloc_after_give_back(a, NULL, order, align, lowmem, kind, out);
    bsa__unlock(bsa__ops(a), bsa__buddy_lock(a), state);
    return st;
}

bsa_status_t bsa__locked_free(bsa_allocator_t *a, void *addr, unsigned kind, unsigned order) {
    uintptr_t state = bsa__lock(bsa__ops(a), bsa__buddy_lock(a));
    bsa_status_t st = bsa__buddy_free(&a->_buddy, addr, kind, order);
    bsa__unlock(bsa__ops(a), bsa__buddy_lock(a), state);
    return st;
}

bsa_status_t bsa__locked_free_in(bsa_allocator_t *a, bsa__section_t *s, void *addr,
                                 unsigned kind, unsigned order) {
    uintptr_t state = bsa__lock(bsa__ops(a), bsa__buddy_lock(a));
    bsa_status_t st = bsa__buddy_free_in(&a->_buddy, s, addr, kind, order);
    bsa__unlock(bsa__ops(a), bsa__buddy_lock(a), state);
    return st;
}

/* The later pages of the fresh slab at `base`, of 2^order pages, name its head in their
 * records (bsa__info_slab_tail), so that a free of an object on one of them reads one
 * more record instead of searching down for the head (bsa__slab_of_page). No lock: the
 * buddy does not write the records of a block it has handed out until the block comes
 * back, and they are atomic for the lock-free readers. The buddy leaves them behind when
 * the block is freed; a reader checks the head they name. */
static void name_slab_head(bsa_allocator_t *a, bsa__cpu_t *cpu, uintptr_t base, unsigned order) {
    bsa__section_t *s;
    if (order == 0 || !bsa__section_of(a, cpu, base, &s))
        return;
    size_t head = bsa__page_idx(&a->_buddy, s, base);
    for (size_t i = 1; i < (size_t)1 << order; i++)
        atomic_store_explicit(&s->rec[head + i].info, bsa__info_slab_tail(i, order),
                              memory_order_relaxed);
}

/* A fresh slab for the class, then the allocation from it. Never two locks: the slab's
 * pages come with the CPU lock dropped. Page-aligned is enough: frees find the slab
 * through its page records, not its alignment (and a section-relative buddy cannot
 * promise more in a section at an odd page). */
BSA__NOINLINE static bsa_status_t alloc_refill(bsa_allocator_t *a, bsa__cpu_t *cpu,
                                               unsigned cls, void **out) {
    void *base;
    unsigned order = bsa__order_of(cpu->slab._cls[cls]._slab_pages);
    bsa_status_t st = bsa__locked_alloc(a, order, a->_buddy._page_size, false, BSA__KIND_SLAB,
                                        &base);
    if (st != BSA_OK)
        return st;
    name_slab_head(a, cpu, (uintptr_t)base, order);
    uintptr_t state = bsa__cpu_lock(a, cpu);
    bsa__slab_add(&cpu->slab, cls, base);
    st = bsa__slab_alloc_class(&cpu->slab, cls, out); /* succeeds: a fresh slab is there */
    bsa__cpu_unlock(a, cpu, state);
    return st;
}

BSA__NOINLINE static bsa_status_t alloc_small(bsa_allocator_t *a, bsa__cpu_t *cpu,
                                              unsigned cls, void **out) {
    uintptr_t state = bsa__cpu_lock(a, cpu);
    bsa_status_t st = BSA__LIKELY(bsa__slab_alloc_fast(&cpu->slab, cls, out))
                          ? BSA_OK
                          : bsa__slab_alloc_class(&cpu->slab, cls, out);
    bsa__cpu_unlock(a, cpu, state);
    return BSA__LIKELY(st != BSA_NEED_PAGES) ? st : alloc_refill(a, cpu, cls, out);
}

/* A LARGE block: the page cache first in exclusive mode, then the buddy. Out of line:
 * it keeps bsa_alloc's object path short. */
BSA__NOINLINE static bsa_status_t alloc_large(bsa_allocator_t *a, size_t size, size_t align,
                                              void **out) {
    unsigned order;
    if (bsa__large_order(a, size, &order) != BSA_OK)
        return BSA_E_INVALID;
    if (align < a->_buddy._page_size)
        align = a->_buddy._page_size;
    return bsa__alloc_block(a, order, align, BSA__KIND_LARGE, out);
}

bsa_status_t bsa_alloc(bsa_allocator_t *a, size_t size, size_t align, void **out) {
    if (BSA__UNLIKELY(!bsa__ready(a)))
        return BSA_E_UNINIT;
    if (align == 0)
        align = 8;
    if (BSA__UNLIKELY(out == NULL || !bsa__is_pow2(align)))
        return BSA_E_INVALID;
    int cls = bsa__size_class(size, align);
    if (BSA__LIKELY(cls >= 0)) {
        bsa__cpu_t *cpu = bsa__current_cpu(a);
        /* Exclusive mode needs no lock: try the common case before the call. */
        if ((a->_flags & BSA_CPU_EXCLUSIVE) && bsa__slab_alloc_fast(&cpu->slab, (unsigned)cls, out))
            return BSA_OK;
        return alloc_small(a, cpu, (unsigned)cls, out);
    }
    return alloc_large(a, size, align, out);
}

/* Frees slab object ptr of header h, in section `s` (the caller's lookup found both). */
static bsa_status_t free_small(bsa_allocator_t *a, bsa__cpu_t *cpu, bsa__section_t *s,
                               bsa__slab_hdr_t *h, void *ptr) {
    if (h->owner != &cpu->slab) /* another CPU's (bsa__slab_header_at checked it is one) */
        return bsa__slab_remote_push(h, ptr);
    bsa_slab_pages_t release;
    uintptr_t state = bsa__cpu_lock(a, cpu);
    bsa_status_t st = BSA__LIKELY(bsa__slab_free_fast(&cpu->slab, h, ptr))
                          ? BSA_OK
                          : bsa__slab_free_in(&cpu->slab, h, ptr, &release);
    bsa__cpu_unlock(a, cpu, state);
    if (st == BSA_RELEASE_PAGES) /* h's slab: in section s, where ptr is */
        st = bsa__locked_free_in(a, s, release.base, BSA__KIND_SLAB,
                                 bsa__order_of(release.pages));
    return st;
}

/* Frees the live block or object at ptr. size_class >= 0 / order >= 0: what the caller
 * says it allocated (bsa_free_sized); -1: unknown (bsa_free). */
BSA__NOINLINE static bsa_status_t free_checked(bsa_allocator_t *a, bsa__cpu_t *cpu, void *ptr,
                                               int size_class, int order) {
    bsa__block_t blk;
    if (bsa__find_block(a, cpu, (uintptr_t)ptr, &blk)) {
        uintptr_t head = bsa__page_addr(&a->_buddy, blk.sec, blk.head);
        if (blk.kind == BSA__KIND_SLAB && order < 0) {
            bsa__slab_hdr_t *h = bsa__slab_header_at(a, cpu, head);
            if (h && (size_class < 0 || h->size_class == (unsigned)size_class))
                return free_small(a, cpu, blk.sec, h, ptr);
        } else if (blk.kind == BSA__KIND_LARGE && size_class < 0 && head == (uintptr_t)ptr &&
                   (order < 0 || blk.order == (unsigned)order)) {
            return bsa__free_large_in(a, cpu, blk.sec, head, blk.order);
        }
    }
    return bsa__refuse(a, ptr);
}

/* Exclusive mode's frees, the common case: an object of a slab its free-hint entry names
 * (a live slab of the CPU's own: no lookup, no header check) that the slab fast path
 * frees. Inline and with no call, so that the entry points save few registers; false:
 * exclusive_free decides. */
static inline bool exclusive_free_hinted(bsa__cpu_t *cpu, void *ptr, int size_class) {
    bsa_slab_t *own = &cpu->slab;
    bsa__slab_hdr_t *h = bsa__slab_hinted(own, ptr, size_class);
    return h != NULL && bsa__slab_free_fast(own, h, ptr);
}

/* Exclusive mode's other frees, in the CPU's last section: a large object (bsa_free)
 * goes to bsa__free_large_in; a slab object, found and checked as free_checked does, is
 * pushed to its owner if it is another CPU's, else its slab fills its chunks' free-hint
 * entries and it is freed as free_small does. Anything else (another section, bad
 * input) goes to free_checked.
 * Inline, and every call a tail call: the entry points then save only what lives across
 * cpu_id. */
static inline bsa_status_t exclusive_free(bsa_allocator_t *a, bsa__cpu_t *cpu, void *ptr,
                                          int size_class) {
    uintptr_t addr = (uintptr_t)ptr;
    bsa__section_t *s = bsa__last_section_holding(cpu, addr);
    if (s == NULL)
        return free_checked(a, cpu, ptr, size_class, -1);
    size_t idx = bsa__page_idx(&a->_buddy, s, addr);
    uint32_t info = bsa__rec_info(s, idx);
    if (size_class < 0 && bsa__info_kind(info) == BSA__KIND_LARGE &&
        bsa__page_addr(&a->_buddy, s, idx) == addr)
        return bsa__free_large_in(a, cpu, s, addr, bsa__info_order(info));
    bsa__slab_hdr_t *h = bsa__slab_of_page(a, cpu, s, idx, info);
    if (h == NULL || (size_class >= 0 && h->size_class != (unsigned)size_class))
        return free_checked(a, cpu, ptr, size_class, -1);
    bsa_slab_t *own = &cpu->slab;
    if (h->owner != own)
        return bsa__slab_remote_push(h, ptr);
    bsa__slab_set_hints(own, h);
    return BSA__LIKELY(bsa__slab_free_fast(own, h, ptr)) ? BSA_OK
                                                         : free_small(a, cpu, s, h, ptr);
}

/* A slab object of class size_class (-1: unknown): the exclusive-mode paths, else
 * free_checked. */
static inline bsa_status_t free_object(bsa_allocator_t *a, bsa__cpu_t *cpu, void *ptr,
                                       int size_class) {
    if (!(a->_flags & BSA_CPU_EXCLUSIVE))
        return free_checked(a, cpu, ptr, size_class, -1);
    if (BSA__LIKELY(exclusive_free_hinted(cpu, ptr, size_class)))
        return BSA_OK;
    return exclusive_free(a, cpu, ptr, size_class);
}

bsa_status_t bsa_free(bsa_allocator_t *a, void *ptr) {
    if (BSA__UNLIKELY(!bsa__ready(a)))
        return BSA_E_UNINIT;
    if (ptr == NULL)
        return BSA_OK;
    return free_object(a, bsa__current_cpu(a), ptr, -1);
}

bsa_status_t bsa_free_sized(bsa_allocator_t *a, void *ptr, size_t size, size_t align) {
    if (BSA__UNLIKELY(!bsa__ready(a)))
        return BSA_E_UNINIT;
    if (align == 0)
        align = 8;
    if (!bsa__is_pow2(align))
        return BSA_E_INVALID;
    if (ptr == NULL)
        return BSA_OK;
    int cls = bsa__size_class(size, align);
    bsa__cpu_t *cpu = bsa__current_cpu(a);
    if (cls >= 0)
        return free_object(a, cpu, ptr, cls);
    unsigned order;
    if (bsa__large_order(a, size, &order) != BSA_OK)
        return BSA_E_INVALID;
    return free_checked(a, cpu, ptr, -1, (int)order);
}
