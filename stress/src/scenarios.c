/*
 * scenarios.c - the named scenarios: one step of each, and what a worker does with an
 * object another thread sends it. The table at the end lists them with their heaps.
 *
 * Table invariant: a slot not holding an object has kind OBJ_NONE. Scenarios that use
 * their table as a stack (producer-consumer, oom) keep table[0 .. held) full and
 * clear every slot they move an object out of, so the common cleanup in run.c can
 * free whatever is left by scanning the whole table.
 *
 * remote-double-free: a victim is a fresh object of STRESS_VICTIM_CLASS, a class no
 * other request of that scenario maps to. Its slab holds a keeper (an object kept live
 * to the end), so the slab cannot be released while the victim's frees race the owner.
 * One victim at a time (the run's token): between its first free and its refused
 * second free no thread allocates from the class, so its slot cannot be handed out
 * again and the second free can only be a double free, never the free of someone
 * else's object.
 */
#define _GNU_SOURCE
#include <sched.h>

#include "stress.h"

/* ---- random requests --------------------------------------------------------------- */

/* 80% slab-sized (1..2048, log-uniform), 20% page path (2049..64 KiB). */
static size_t random_size(worker_t *w) {
    if (rng_below(w, 5) != 0)
        return 1u + (size_t)rng_below(w, (uint64_t)1 << rng_below(w, 12));
    return 2049u + (size_t)rng_below(w, 65536u - 2048u);
}

/* Mostly the default; sometimes up to 128; rarely up to 4096 (forces the page path). */
static size_t random_align(worker_t *w) {
    uint64_t roll = rng_below(w, 100);
    if (roll < 75)
        return 0;
    return (size_t)1 << rng_below(w, roll < 95 ? 8u : 13u);
}

static bool reserved(const worker_t *w, size_t size, size_t align) {
    return (w->run->sc->flags & SC_VICTIMS) &&
           bsa_size_class(size, align) == (int)STRESS_VICTIM_CLASS;
}

static void random_request(worker_t *w, size_t *size, size_t *align) {
    do {
        *size = random_size(w);
        *align = random_align(w);
    } while (reserved(w, *size, *align));
}

/* A new size for a realloc of a block allocated with `align` (never a reserved class). */
static size_t random_resize(worker_t *w, size_t align) {
    if (rng_below(w, 32) == 0)
        return 0; /* realloc(p, 0) frees */
    size_t size;
    do
        size = random_size(w);
    while (reserved(w, size, align));
    return size;
}

static obj_t *random_slot(worker_t *w) { return &w->table[rng_below(w, w->cap)]; }

static void reclaim(worker_t *w) {
    w->c.operations++;
    w->c.reclaim_calls++;
    bsa_status_t st = bsa_reclaim(&w->run->alloc);
    if (st != BSA_OK)
        stress_fatal(w, "bsa_reclaim returned %s", bsa_status_name(st));
}

static void send_or_free(worker_t *w, obj_t *o) {
    if (mailbox_send(w, random_peer(w), o))
        o->kind = OBJ_NONE;
    else
        obj_release(w, o);
}

/* ---- 1. producer-consumer ---------------------------------------------------------- */

/* Round robin over the other threads. */
static unsigned next_peer(worker_t *w) {
    unsigned n = w->run->nthreads;
    w->next_peer = (w->next_peer + 1u) % n;
    if (w->next_peer == w->index)
        w->next_peer = (w->next_peer + 1u) % n;
    return w->next_peer;
}

/* The backlog is table[0 .. held): send what the peers' mailboxes take, keep the rest.
 * Returns how many were sent. */
static size_t pc_send_backlog(worker_t *w) {
    size_t sent = 0;
    while (sent < w->held && mailbox_send(w, next_peer(w), &w->table[sent]))
        sent++; /* stop at the first full mailbox: its consumer is behind */
    for (size_t i = sent; i < w->held; i++)
        w->table[i - sent] = w->table[i];
    for (size_t i = w->held - sent; i < w->held; i++)
        w->table[i].kind = OBJ_NONE;
    w->held -= sent;
    return sent;
}

/* One object of every class, sized inside the class, then send and receive. A step
 * that moved nothing yields: the consumer we wait for may share our core. */
static void pc_step(worker_t *w) {
    size_t moved = 0;
    for (unsigned k = 0; k < BSA_SIZE_CLASS_COUNT && w->held < w->cap; k++) {
        size_t bytes = bsa_size_class_bytes(k);
        size_t lo = k ? bytes / 2u + 1u : 1u;
        size_t size = lo + (size_t)rng_below(w, bytes - lo + 1u);
        size_t align = rng_below(w, 4) ? 0 : (size_t)1 << rng_below(w, k + 4u);
        if (obj_alloc(w, size, align, false, &w->table[w->held])) {
            w->held++;
            moved++;
        }
    }
    moved += pc_send_backlog(w);
    moved += mailbox_poll(w);
    if (moved == 0)
        sched_yield();
}

/* Every object goes to another thread, so every free is remote: wait for room. The
 * peers poll their mailboxes in every phase, so room comes. */
static void pc_flush(worker_t *w) {
    while (w->held != 0)
        if (pc_send_backlog(w) + mailbox_poll(w) == 0)
            sched_yield();
}

/* ---- 2. all-to-all (also shared-ids, hot-add and remote-double-free) --------------- */

static void a2a_alloc(worker_t *w, obj_t *o) {
    size_t size, align;
    random_request(w, &size, &align);
    (void)obj_alloc(w, size, align, rng_below(w, 10) == 0, o); /* NOMEM: slot stays free */
}

static void a2a_step(worker_t *w) {
    obj_t *o = random_slot(w);
    if (o->kind == OBJ_NONE) {
        a2a_alloc(w, o);
    } else {
        uint64_t roll = rng_below(w, 100);
        if (roll < 35)
            obj_release(w, o);
        else if (roll < 60)
            (void)obj_realloc(w, o, random_resize(w, o->align));
        else if (roll < 90)
            send_or_free(w, o);
        else
            obj_check(w, o, "while held");
    }
    if (rng_below(w, 4096) == 0)
        reclaim(w);
}

/* Adopt a received object (it keeps living, now under this thread) or free it. */
static void a2a_receive(worker_t *w, obj_t *o) {
    for (unsigned tries = 0; w->producing && tries < 4; tries++) {
        obj_t *slot = random_slot(w);
        if (slot->kind == OBJ_NONE) {
            obj_check(w, o, "on receipt");
            *slot = *o;
            return;
        }
    }
    obj_release(w, o);
}

/* ---- 3. page-pressure -------------------------------------------------------------- */

static void pp_alloc(worker_t *w, obj_t *o) {
    run_t *r = w->run;
    if (rng_below(w, 100) < 15) { /* slabs and large objects compete for the pages */
        a2a_alloc(w, o);
        return;
    }
    unsigned order = (unsigned)rng_below(w, 9);
    size_t half = order ? (size_t)1 << (order - 1u) : 0;
    size_t count = order ? half + 1u + (size_t)rng_below(w, half) : 1u;
    size_t align = (rng_next(w) & 1u) ? 0 : r->page_size << rng_below(w, 11);
    (void)pages_alloc(w, count, align, rng_below(w, 10) < 3, o);
}

static void pp_step(worker_t *w) {
    obj_t *o = random_slot(w);
    if (o->kind == OBJ_NONE) {
        pp_alloc(w, o);
        return;
    }
    uint64_t roll = rng_below(w, 100);
    if (roll < 60)
        obj_release(w, o);
    else if (roll < 85)
        send_or_free(w, o);
    else
        obj_check(w, o, "while held");
}

/* ---- 4. oom ------------------------------------------------------------------------ */

/* Frees about half of table[0 .. held) and compacts the rest. */
static void oom_free_half(worker_t *w) {
    size_t kept = 0;
    for (size_t i = 0; i < w->held; i++) {
        obj_t o = w->table[i];
        w->table[i].kind = OBJ_NONE;
        if (rng_next(w) & 1u)
            obj_release(w, &o);
        else
            w->table[kept++] = o;
    }
    w->held = kept;
}

/* BSA_E_NOMEM: give memory back, or check that a failing realloc keeps its block. */
static void oom_handle(worker_t *w) {
    uint64_t roll = rng_below(w, 100);
    if (roll < 50 && w->held != 0) {
        oom_free_half(w);
    } else if (roll < 75 || w->held == 0) {
        reclaim(w); /* cached and drained slabs go back to the buddy */
    } else {
        obj_t *g = &w->table[rng_below(w, w->held)];
        if (g->kind == OBJ_ALLOC)
            (void)obj_realloc(w, g, g->size * 4u + 4096u);
    }
}

static void oom_step(worker_t *w) {
    if (w->held == w->cap) {
        oom_free_half(w);
        return;
    }
    obj_t *o = &w->table[w->held];
    bool ok;
    if (rng_below(w, 5) == 0) {
        ok = pages_alloc(w, (size_t)1 << rng_below(w, 5), 0, false, o);
    } else {
        size_t size, align;
        random_request(w, &size, &align);
        ok = obj_alloc(w, size, align, false, o);
    }
    if (!ok) {
        oom_handle(w);
        return;
    }
    w->held++;
    if (rng_below(w, 10) == 0 && mailbox_send(w, random_peer(w), o)) {
        o->kind = OBJ_NONE; /* o is the top of the stack */
        w->held--;
    }
}

/* ---- 5. hot-add -------------------------------------------------------------------- */

static void hot_add_region(worker_t *w, unsigned k) {
    run_t *r = w->run;
    size_t len = ((size_t)128 << 10 << rng_below(w, 5)) + (size_t)rng_below(w, 65536);
    size_t off = (size_t)rng_below(w, 4096); /* regions may start at any address */
    void *map = bsa_hosted_map(len + off);
    if (map == NULL)
        stress_fatal(w, "cannot map a region of %zu bytes", len + off);
    r->regions[k] = (region_rec_t){map, len + off};
    char *region = (char *)map + off;
    w->c.operations += 3;
    bsa_status_t st = bsa_add_region(&r->alloc, region, len);
    if (st != BSA_OK)
        stress_fatal(w, "bsa_add_region(%p, %zu) returned %s", (void *)region, len,
                     bsa_status_name(st));
    w->c.regions_added++;
    /* Part of it again must be refused, and so must a region too small for a page. */
    st = bsa_add_region(&r->alloc, region + len / 2u, len / 4u);
    if (st != BSA_E_OVERLAP)
        stress_fatal(w, "re-adding part of region %p returned %s, not BSA_E_OVERLAP",
                     (void *)region, bsa_status_name(st));
    char tiny[64];
    st = bsa_add_region(&r->alloc, tiny, sizeof tiny);
    if (st != BSA_E_INVALID)
        stress_fatal(w, "a 64-byte region returned %s, not BSA_E_INVALID",
                     bsa_status_name(st));
}

/* Region k is due at t0 + k * interval, so the adds spread over the run. */
static void hot_add_maybe(worker_t *w) {
    run_t *r = w->run;
    unsigned k = atomic_load_explicit(&r->regions_claimed, memory_order_relaxed);
    if (k >= STRESS_MAX_REGIONS || stress_now() < r->t0 + (double)k * r->region_interval)
        return;
    /* Relaxed: the claim only makes k ours; the region itself is published by the
     * allocator's own lock. */
    if (atomic_compare_exchange_strong_explicit(&r->regions_claimed, &k, k + 1u,
                                                memory_order_relaxed, memory_order_relaxed))
        hot_add_region(w, k);
}

static void hot_add_step(worker_t *w) {
    a2a_step(w);
    if (rng_below(w, 64) == 0)
        hot_add_maybe(w);
}

/* ---- 7. remote-double-free --------------------------------------------------------- */

static bool keeper_near(const run_t *r, const void *p) {
    uintptr_t page = (uintptr_t)p >> r->page_shift;
    for (size_t i = 0; i < r->nkeepers; i++)
        if ((uintptr_t)r->keepers[i].p >> r->page_shift == page)
            return true;
    return false;
}

/* Token held. A fresh victim-class object in a slab that holds a keeper; objects that
 * land in a slab without one become its keeper. Victim-class slabs are one page
 * (checked at setup), so "same page" is "same slab". */
static bool find_victim(worker_t *w, obj_t *v) {
    run_t *r = w->run;
    for (unsigned tries = 0; tries < 64 && r->nkeepers < r->keepers_cap; tries++) {
        obj_t x;
        if (!obj_alloc(w, bsa_size_class_bytes(STRESS_VICTIM_CLASS), 0, false, &x))
            return false;
        if (keeper_near(r, x.p)) {
            *v = x;
            return true;
        }
        r->keepers[r->nkeepers++] = x;
    }
    return false;
}

static void second_free(worker_t *w, const obj_t *o) {
    run_t *r = w->run;
    w->c.operations++;
    bsa_status_t st = (rng_next(w) & 1u) ? bsa_free(&r->alloc, o->p)
                                         : bsa_free_sized(&r->alloc, o->p, o->size, o->align);
    if (st != BSA_E_BAD_FREE)
        stress_fatal(w, "the second free of %p (allocated on cpu %u) returned %s, not "
                     "BSA_E_BAD_FREE", o->p, (unsigned)o->cpu, bsa_status_name(st));
    w->c.deliberate_bad_frees++;
    /* Release: both frees are done before the next victim's owner takes the token. */
    atomic_store_explicit(&r->token, 0, memory_order_release);
}

/* The first free (accepted), then the second one: right away (most likely refused by
 * the pending bit), from another non-owner (pending or drained by then), or from the
 * owner (a local double free). */
static void victim_first_free(worker_t *w, obj_t *v) {
    run_t *r = w->run;
    obj_t second = *v;
    second.kind = OBJ_SECOND_FREE;
    v->kind = OBJ_ALLOC;
    obj_release(w, v);
    unsigned owner = (unsigned)(second.tag >> 48) - 1u;
    uint64_t roll = rng_below(w, 100);
    unsigned to = w->index;
    if (roll < 10)
        to = owner;
    else if (roll >= 55 && r->nthreads > 2)
        do
            to = random_peer(w);
        while (to == owner);
    if (to == w->index || !w->producing || !mailbox_send(w, to, &second))
        second_free(w, &second);
}

static void victim_round(worker_t *w) {
    run_t *r = w->run;
    int idle = 0;
    /* Acquire: pairs with second_free's release; the keepers are ours now. */
    if (!atomic_compare_exchange_strong_explicit(&r->token, &idle, 1, memory_order_acquire,
                                                 memory_order_relaxed))
        return;
    obj_t v;
    if (!find_victim(w, &v)) {
        atomic_store_explicit(&r->token, 0, memory_order_release);
        return;
    }
    v.kind = OBJ_VICTIM;
    if (!mailbox_send(w, random_peer(w), &v))
        victim_first_free(w, &v); /* both frees from here */
}

/* A bad free of a live object: an interior pointer or the wrong size. Refused, and the
 * object must be untouched. */
static void bad_pointer_round(worker_t *w) {
    run_t *r = w->run;
    obj_t *o = random_slot(w);
    if (o->kind != OBJ_ALLOC)
        return;
    bsa_status_t st;
    w->c.operations++;
    if ((rng_next(w) & 1u) || (o->flags & OBJ_UNSIZED)) {
        st = bsa_free(&r->alloc, (char *)o->p + 1);
    } else if (obj_is_slab(o)) {
        int k = bsa_size_class(o->size, o->align);
        size_t wrong = k < 8 ? bsa_size_class_bytes((unsigned)k + 1u) : 2u * r->page_size;
        st = bsa_free_sized(&r->alloc, o->p, wrong, o->align);
    } else {
        st = bsa_free_sized(&r->alloc, o->p, 8, 0); /* a slab size for a page block */
    }
    if (st != BSA_E_BAD_FREE)
        stress_fatal(w, "a bad free of live %p (size %zu) returned %s, not BSA_E_BAD_FREE",
                     o->p, o->size, bsa_status_name(st));
    w->c.deliberate_bad_frees++;
    obj_check(w, o, "after a refused bad free");
}

static void rdf_step(worker_t *w) {
    a2a_step(w);
    uint64_t roll = rng_below(w, 256);
    if (roll < 4 && w->index < 3) /* "a few threads" own victims */
        victim_round(w);
    else if (roll == 4)
        bad_pointer_round(w);
}

/* ---- dispatch and table ------------------------------------------------------------ */

void stress_receive(worker_t *w, obj_t *o) {
    if (o->kind == OBJ_VICTIM)
        victim_first_free(w, o);
    else if (o->kind == OBJ_SECOND_FREE)
        second_free(w, o);
    else if (w->run->sc->receive)
        w->run->sc->receive(w, o);
    else
        obj_release(w, o);
}

const scenario_t stress_scenarios[] = {
    {"producer-consumer",
     "objects of every class handed through mailboxes and freed by another thread",
     pc_step, pc_flush, NULL, 16, 0, 64, SC_ALL_REMOTE},
    {"all-to-all",
     "sizes 1 B..64 KiB, random alignments, owners and lifetimes, realloc churn",
     a2a_step, NULL, a2a_receive, 32, 16, 256, 0},
    {"page-pressure",
     "page blocks of orders 0..8 with alignments up to 4 MiB, lowmem mixed in",
     pp_step, NULL, NULL, 48, 8, 64, SC_LOWMEM_MAP},
    {"oom",
     "a 2 MiB heap: every thread allocates until BSA_E_NOMEM, then frees or reclaims",
     oom_step, NULL, NULL, 2, 0, 1024, SC_NOMEM_EACH},
    {"hot-add",
     "regions added with bsa_add_region while every thread allocates (1 MiB start)",
     hot_add_step, NULL, a2a_receive, 1, 0, 256, SC_HOT_ADD},
    {"shared-ids",
     "two threads per CPU id: contended CPU locks, remote frees racing drains",
     a2a_step, NULL, a2a_receive, 32, 16, 256, SC_SHARED_IDS},
    {"remote-double-free",
     "objects freed twice from another CPU under all-to-all load, refused and counted",
     rdf_step, NULL, a2a_receive, 32, 16, 256, SC_VICTIMS},
};
const size_t stress_scenario_count = sizeof stress_scenarios / sizeof stress_scenarios[0];
