/*
 * slabs.c - the slab part of the model: per slab a state byte per slot, per CPU and
 * class whether the empty list holds a slab ("cached").
 *
 * The rules, from API.md and DESIGN sections 3-4:
 *   - a slot is free, live, or pending (remotely freed, not yet drained);
 *   - the owner drains every slab of a class with pending frees when an allocation in
 *     that class finds every slab with a free slot entirely free (m_slab_alloc_drain),
 *     and in reclaim; a slab a drain empties is cached if nothing is cached, else stays
 *     on the partial list. A local free does not drain: a pending slot is not live;
 *   - a slab a local free empties is cached if nothing is cached, else given back;
 *   - an allocation takes a partial slab first; only when the cached slab is the one
 *     slab with room does it take that one (and nothing is cached any more);
 *   - a fully free slab that is the one slab with room is the cached one, however it
 *     got there (settle_cached): the core's cached slab is the empty list's or a fully
 *     free slab alone on the partial list;
 *   - reclaim gives back every fully free slab, one per step, class by class.
 * The cached slab's identity is never needed, only whether there is one.
 *
 * Two indexes, for speed: the tally (counters per CPU and class) changes only through
 * count_out / count_in around each change of a slab's counts, and at[] maps every 4 KiB
 * granule of the window to the slab over it. m_selfcheck re-derives both by a scan.
 */
#include <string.h>

#include "model.h"

static bool of_class(const m_slab_t *s, unsigned cpu, unsigned cls) {
    return s->used && s->cpu == cpu && s->cls == cls;
}

static bool fully_free(const m_slab_t *s) { return s->live == 0 && s->pending == 0; }

static bool has_room(const m_slab_t *s) { return s->live + s->pending < s->count; }

/* A partial reclaim, or a drain that empties slabs while one is cached, leaves fully free
 * slabs that are not the cached one; allocations may then use up all the others. The
 * core treats a fully free slab alone on the partial list as its cached slab (README,
 * "The cached empty slab may be the lone partial slab"), so when the one slab with room
 * is fully free, the class has a cached slab. Called at the end of each change of
 * counts, after the change has made its own decision. */
static void settle_cached(model_t *m, unsigned cpu, unsigned cls) {
    if (m->slabs.tally.room[cpu][cls] == 1 && m->slabs.tally.empty[cpu][cls] == 1)
        m->slabs.cached[cpu][cls] = true;
}

/* Takes slab s out of the tally, before its counts change ... */
static void count_out(m_slabs_t *ms, const m_slab_t *s) {
    m_tally_t *t = &ms->tally;
    t->slabs[s->cpu][s->cls]--;
    t->live[s->cpu][s->cls] -= s->live;
    t->pending[s->cpu][s->cls] -= s->pending;
    t->room[s->cpu][s->cls] -= has_room(s);
    t->empty[s->cpu][s->cls] -= fully_free(s);
}

/* ... and puts it back after. */
static void count_in(m_slabs_t *ms, const m_slab_t *s) {
    m_tally_t *t = &ms->tally;
    t->slabs[s->cpu][s->cls]++;
    t->live[s->cpu][s->cls] += s->live;
    t->pending[s->cpu][s->cls] += s->pending;
    t->room[s->cpu][s->cls] += has_room(s);
    t->empty[s->cpu][s->cls] += fully_free(s);
}

/* Points the granules of slab i at it (or at nothing: -1). */
static void map_slab(m_slabs_t *ms, size_t i, int16_t to) {
    const m_slab_t *s = &ms->slab[i];
    size_t g = (s->base - ms->window) / M_GRANULE, n = (s->bytes + M_GRANULE - 1) / M_GRANULE;
    for (size_t j = 0; j < n; j++)
        ms->at[g + j] = to;
}

void m_slab_window(model_t *m, uintptr_t base) { m->slabs.window = base; }

int m_slab_add(model_t *m, unsigned cpu, unsigned cls, uintptr_t base) {
    m_slabs_t *ms = &m->slabs;
    size_t bytes = bsa_slab_pages_for(cls, m->page_size) * m->page_size;
    if (base < ms->window || bytes > M_WINDOW_BYTES || base - ms->window > M_WINDOW_BYTES - bytes)
        return -1;
    size_t i = 0;
    while (i < ms->hi && ms->slab[i].used)
        i++;
    if (i == M_MAX_SLABS)
        return -1;
    if (i == ms->hi)
        ms->hi++;
    m_slab_t *s = &ms->slab[i];
    s->used = true;
    s->cpu = cpu;
    s->cls = cls;
    s->base = base;
    s->bytes = bytes;
    s->first = (uint32_t)bsa_slab_first_offset_for(cls, m->page_size);
    s->count = (uint32_t)bsa_slab_objects_for(cls, m->page_size);
    s->size = (uint32_t)bsa_size_class_bytes(cls);
    s->live = s->pending = s->hint = 0;
    memset(ms->slot[i], M_SLOT_FREE, s->count);
    count_in(ms, s);
    map_slab(ms, i, (int16_t)i);
    return (int)i;
}

int m_slab_of(const model_t *m, uintptr_t addr) {
    const m_slabs_t *ms = &m->slabs;
    if (addr < ms->window || addr - ms->window >= M_WINDOW_BYTES)
        return -1;
    int i = ms->at[(addr - ms->window) / M_GRANULE];
    if (i < 0)
        return -1;
    const m_slab_t *s = &ms->slab[i];
    return s->used && addr >= s->base && addr - s->base < s->bytes ? i : -1;
}

int m_slab_at(const model_t *m, uintptr_t base) {
    int i = m_slab_of(m, base);
    return i >= 0 && m->slabs.slab[i].base == base ? i : -1;
}

long m_slab_slot(const m_slab_t *s, uintptr_t addr) {
    if (addr < s->base + s->first || (addr - s->base - s->first) % s->size != 0)
        return -1;
    uintptr_t slot = (addr - s->base - s->first) / s->size;
    return slot < s->count ? (long)slot : -1;
}

uintptr_t m_slab_obj(const m_slab_t *s, uint32_t slot) {
    return s->base + s->first + (uintptr_t)slot * s->size;
}

long m_slab_lowest_free(const model_t *m, int slab) {
    const m_slab_t *s = &m->slabs.slab[slab];
    for (uint32_t i = s->hint; i < s->count; i++)
        if (m->slabs.slot[slab][i] == M_SLOT_FREE)
            return (long)i;
    return -1;
}

size_t m_slab_with_room(const model_t *m, unsigned cpu, unsigned cls) {
    return m->slabs.tally.room[cpu][cls];
}

size_t m_slab_fully_free(const model_t *m, unsigned cpu, unsigned cls) {
    return m->slabs.tally.empty[cpu][cls];
}

void m_slab_drain(model_t *m, unsigned cpu, unsigned cls) {
    if (m->slabs.tally.pending[cpu][cls] == 0)
        return; /* as the core: nothing pending, nothing to drain */
    for (size_t i = 0; i < m->slabs.hi; i++) {
        m_slab_t *s = &m->slabs.slab[i];
        if (!of_class(s, cpu, cls) || s->pending == 0)
            continue;
        count_out(&m->slabs, s);
        for (uint32_t slot = 0; slot < s->count; slot++) {
            if (m->slabs.slot[i][slot] != M_PENDING)
                continue;
            m->slabs.slot[i][slot] = M_SLOT_FREE;
            if (slot < s->hint)
                s->hint = slot;
            int o = m_obj_find(m, m_slab_obj(s, slot));
            if (o >= 0)
                m_obj_remove(m, o);
        }
        s->pending = 0;
        count_in(&m->slabs, s);
        if (s->live == 0)
            m->slabs.cached[cpu][cls] = true; /* first one emptied is cached; others stay */
    }
    settle_cached(m, cpu, cls);
}

void m_slab_alloc_drain(model_t *m, unsigned cpu, unsigned cls) {
    if (m->slabs.tally.room[cpu][cls] == m->slabs.tally.empty[cpu][cls])
        m_slab_drain(m, cpu, cls);
}

void m_slab_take(model_t *m, int slab, uint32_t slot) {
    m_slab_t *s = &m->slabs.slab[slab];
    bool *cached = &m->slabs.cached[s->cpu][s->cls];
    if (*cached && m_slab_with_room(m, s->cpu, s->cls) == 1)
        *cached = false; /* no partial slab: the cached one was taken */
    count_out(&m->slabs, s);
    m->slabs.slot[slab][slot] = M_LIVE;
    s->live++;
    count_in(&m->slabs, s);
    while (s->hint < s->count && m->slabs.slot[slab][s->hint] != M_SLOT_FREE)
        s->hint++;
    settle_cached(m, s->cpu, s->cls);
}

bool m_slab_local_free(model_t *m, int slab, uint32_t slot) {
    m_slab_t *s = &m->slabs.slab[slab];
    unsigned cpu = s->cpu, cls = s->cls;
    bool *cached = &m->slabs.cached[cpu][cls];
    m->slabs.slot[slab][slot] = M_SLOT_FREE;
    if (slot < s->hint)
        s->hint = slot;
    count_out(&m->slabs, s);
    s->live--;
    count_in(&m->slabs, s);
    bool release = fully_free(s) && *cached;
    if (fully_free(s))
        *cached = true;
    if (release)
        m_slab_remove(m, slab);
    settle_cached(m, cpu, cls);
    return release;
}

void m_slab_remote_free(model_t *m, int slab, uint32_t slot) {
    m_slab_t *s = &m->slabs.slab[slab];
    m->slabs.slot[slab][slot] = M_PENDING;
    count_out(&m->slabs, s);
    s->live--;
    s->pending++;
    count_in(&m->slabs, s);
}

int m_slab_reclaim_class(model_t *m, unsigned cpu) {
    for (unsigned k = 0; k < BSA_SIZE_CLASS_COUNT; k++) {
        m_slab_drain(m, cpu, k);
        if (m_slab_fully_free(m, cpu, k) != 0)
            return (int)k;
    }
    return -1;
}

void m_slab_reclaimed(model_t *m, int slab) {
    m_slab_t *s = &m->slabs.slab[slab];
    unsigned cpu = s->cpu, cls = s->cls;
    m->slabs.cached[cpu][cls] = false; /* the cached one goes first, if any */
    m_slab_remove(m, slab);
    settle_cached(m, cpu, cls);
}

void m_slab_remove(model_t *m, int slab) {
    count_out(&m->slabs, &m->slabs.slab[slab]);
    map_slab(&m->slabs, (size_t)slab, -1);
    m->slabs.slab[slab].used = false;
    while (m->slabs.hi > 0 && !m->slabs.slab[m->slabs.hi - 1].used)
        m->slabs.hi--;
}

void m_slab_tally_scan(const model_t *m, m_tally_t *t) {
    memset(t, 0, sizeof *t);
    for (size_t i = 0; i < m->slabs.hi; i++) {
        const m_slab_t *s = &m->slabs.slab[i];
        if (!s->used)
            continue;
        t->live[s->cpu][s->cls] += s->live;
        t->slabs[s->cpu][s->cls]++;
        t->pending[s->cpu][s->cls] += s->pending;
        t->room[s->cpu][s->cls] += s->live + s->pending < s->count;
        t->empty[s->cpu][s->cls] += s->live == 0 && s->pending == 0;
    }
}

size_t m_slab_live(const model_t *m, unsigned cpu, unsigned cls) {
    return m->slabs.tally.live[cpu][cls];
}

size_t m_slab_count(const model_t *m, unsigned cpu, unsigned cls) {
    return m->slabs.tally.slabs[cpu][cls];
}

size_t m_slab_pending(const model_t *m, unsigned cpu, unsigned cls) {
    return m->slabs.tally.pending[cpu][cls];
}
