/*
 * run.c - one scenario from start to verdict: a fresh allocator on a fresh heap, the
 * worker threads and their phases, the monitor (progress lines, deadline, watchdog),
 * and the exact accounting at the end.
 *
 * Worker phases: start barrier -> produce (scenario steps until the deadline or the op
 * count) -> drain (send nothing more; poll the mailboxes until every worker has left
 * its produce phase and they are empty) -> free everything held -> `drained` barrier
 * -> worker 0 frees the keepers -> each worker reclaims its own CPU (racing the other
 * reclaims and frees) -> finished.
 *
 * Then the main thread, with the allocator quiet: every class has live == 0 and the free
 * pages are the initial ones (+ added regions) minus the pages of the slabs the CPUs
 * still cache; it reclaims every CPU id with the id forced, and then every page must be
 * back, bad_frees must equal the deliberate bad frees (and the report hook calls), and
 * bsa_check must pass. A failure here is recorded in the result; a failure inside a
 * worker (corruption, unexpected status) is fatal at once (objects.c).
 */
#define _GNU_SOURCE
#include <inttypes.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "stress.h"

#define PAGE_SIZE 4096u
#define KEEPERS_CAP 4096u

const char *cpu_mode_name(cpu_mode_t m) {
    return m == CPU_THREAD ? "thread" : m == CPU_SHARED ? "shared" : m == CPU_SCHED ? "sched"
                                                                                   : "exclusive";
}

/* One CPU id per thread, from bsa_hosted_thread_cpu_id. */
static bool one_id_per_thread(cpu_mode_t m) { return m == CPU_THREAD || m == CPU_EXCLUSIVE;
}

/* Records the first failure; later ones only add a count. */
static void fail(result_t *res, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fail(result_t *res, const char *fmt, ...) {
    if (!res->ok) {
        fprintf(stderr, "bsa_stress: [%s] also: ", res->name);
        va_list ap;
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputc('\n', stderr);
        return;
    }
    res->ok = false;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(res->failure, sizeof res->failure, fmt, ap);
    va_end(ap);
    fprintf(stderr, "bsa_stress: FAIL [%s]: %s\n", res->name, res->failure);
}

/* ---- hooks ------------------------------------------------------------------------- */

static uint64_t stress_phys(void *ctx, uintptr_t va) {
    run_t *r = ctx;
    return bsa_hosted_offset_phys(&r->phys, va);
}

static void stress_report(void *ctx, bsa_status_t status, const void *ptr) {
    (void)status;
    (void)ptr;
    run_t *r = ctx;
    /* Relaxed: a tally read after every worker is joined. */
    atomic_fetch_add_explicit(&r->reports, 1, memory_order_relaxed);
}

/* ---- setup and teardown ------------------------------------------------------------ */

static void choose_threads(run_t *r, const stress_opts_t *opt) {
    r->mode = opt->mode;
    if ((r->sc->flags & SC_SHARED_IDS) && r->mode != CPU_SCHED)
        r->mode = CPU_SHARED;
    r->nthreads = opt->threads;
    r->cpu_count = opt->threads;
    if (r->mode == CPU_SHARED) { /* at least two threads on every id */
        r->cpu_count = opt->ids ? opt->ids : (opt->threads / 2u > 2u ? opt->threads / 2u : 2u);
        if (r->nthreads < 2u * r->cpu_count)
            r->nthreads = 2u * r->cpu_count;
        if (r->nthreads > STRESS_MAX_THREADS)
            r->nthreads = STRESS_MAX_THREADS;
    } else if (r->mode == CPU_SCHED) {
        long n = sysconf(_SC_NPROCESSORS_CONF);
        r->cpu_count = n < 1 ? 1u : n > BSA_MAX_CPUS ? BSA_MAX_CPUS : (unsigned)n;
    }
}

static bool setup_heap(run_t *r, const stress_opts_t *opt, result_t *res) {
    size_t mib = opt->heap_mib ? opt->heap_mib
                               : r->sc->heap_mib + r->sc->heap_mib_per_thread * r->nthreads;
    r->heap_len = mib << 20;
    r->heap = bsa_hosted_map(r->heap_len);
    if (r->heap == NULL) {
        fail(res, "cannot map a %zu MiB heap", mib);
        return false;
    }
    r->page_size = PAGE_SIZE;
    r->page_shift = 12;
    r->ops = (bsa_ops_t){.ctx = r, .cpu_id = stress_cpu_id, .relax = bsa_hosted_yield,
                         .report = stress_report};
    if (r->sc->flags & SC_LOWMEM_MAP) { /* half the heap ends below 4 GiB "physical" */
        r->phys = (bsa_hosted_phys_map_t){(uintptr_t)r->heap,
                                          BSA_DMA32_LIMIT - r->heap_len / 2u};
        r->ops.virt_to_phys = stress_phys;
    }
    bsa_config_t cfg = {.page_size = r->page_size, .cpu_count = r->cpu_count, .ops = &r->ops,
                        .flags = r->mode == CPU_EXCLUSIVE ? BSA_CPU_EXCLUSIVE : 0u};
    bsa_status_t st = bsa_init(&r->alloc, &cfg, r->heap, r->heap_len);
    if (st != BSA_OK) {
        fail(res, "bsa_init(%zu MiB, %u CPUs) returned %s", mib, r->cpu_count,
             bsa_status_name(st));
        return false;
    }
    return true;
}

static bool setup_run(run_t *r, const stress_opts_t *opt, result_t *res) {
    choose_threads(r, opt);
    if (one_id_per_thread(r->mode) && !bsa_hosted_thread_cpu_set_limit(r->cpu_count)) {
        fail(res, "cannot limit thread ids to %u (an id is still held)", r->cpu_count);
        return false;
    }
    if (!setup_heap(r, opt, res))
        return false;
    if ((r->sc->flags & SC_VICTIMS) && bsa_slab_pages_for(STRESS_VICTIM_CLASS, r->page_size) != 1) {
        fail(res, "the victim class needs one-page slabs");
        return false;
    }
    size_t n = r->nthreads;
    r->rings = aligned_alloc(64, n * n * sizeof(ring_t));
    r->workers = calloc(n, sizeof(worker_t));
    r->keepers_cap = (r->sc->flags & SC_VICTIMS) ? KEEPERS_CAP : 0;
    r->keepers = calloc(KEEPERS_CAP, sizeof(obj_t));
    if (r->rings == NULL || r->workers == NULL || r->keepers == NULL) {
        fail(res, "out of host memory");
        return false;
    }
    for (size_t i = 0; i < n * n; i++) {
        atomic_init(&r->rings[i].head, 0);
        atomic_init(&r->rings[i].tail, 0);
        r->rings[i].head_seen = r->rings[i].tail_seen = 0;
    }
    uint64_t name_hash = 1469598103934665603ull; /* FNV-1a: same stream alone or in "all" */
    for (const char *c = r->sc->name; *c; c++)
        name_hash = (name_hash ^ (unsigned char)*c) * 1099511628211ull;
    for (unsigned i = 0; i < n; i++) {
        worker_t *w = &r->workers[i];
        w->run = r;
        w->index = i;
        w->rng = stress_mix(opt->seed ^ name_hash) + stress_mix(i + 1u);
        w->next_peer = i;
        w->cap = r->sc->table;
        w->table = calloc(w->cap, sizeof(obj_t));
        if (w->table == NULL) {
            fail(res, "out of host memory");
            return false;
        }
    }
    r->region_interval = opt->duration > 0 ? opt->duration / (STRESS_MAX_REGIONS + 1u) : 0;
    atomic_init(&r->producing, r->nthreads);
    return true;
}

static void teardown(run_t *r) {
    if (r->workers)
        for (unsigned i = 0; i < r->nthreads; i++)
            free(r->workers[i].table);
    free(r->workers);
    free(r->rings);
    free(r->keepers);
    unsigned regions = atomic_load_explicit(&r->regions_claimed, memory_order_relaxed);
    for (unsigned k = 0; k < regions && k < STRESS_MAX_REGIONS; k++)
        bsa_hosted_unmap(r->regions[k].map, r->regions[k].len);
    bsa_hosted_unmap(r->heap, r->heap_len);
}

/* ---- workers ----------------------------------------------------------------------- */

static bool should_stop(const worker_t *w) {
    /* Relaxed: a flag; the workers' own phases synchronise through the barriers. */
    return atomic_load_explicit(&w->run->stop, memory_order_relaxed) ||
           (w->run->opt->ops != 0 && w->c.operations >= w->run->opt->ops);
}

static void publish_progress(worker_t *w) {
    /* Relaxed: the monitor only prints it. */
    atomic_store_explicit(&w->progress, w->c.operations, memory_order_relaxed);
}

static void produce(worker_t *w) {
    const scenario_t *sc = w->run->sc;
    for (uint64_t i = 1; !should_stop(w); i++) {
        sc->step(w);
        if ((i & 63u) == 0) {
            mailbox_poll(w);
            publish_progress(w);
        }
    }
    if (sc->flush)
        sc->flush(w);
}

/* Leaves the produce phase, then takes everything still sent to us. */
static void drain(worker_t *w) {
    run_t *r = w->run;
    w->producing = false;
    /* Release: our sends happen before a drainer that reads the count that we lowered
     * (or a later one: the decrements form a release sequence). */
    atomic_fetch_sub_explicit(&r->producing, 1u, memory_order_release);
    for (;;) {
        /* Acquire: once it reads 0, every send of every worker is visible, so the
         * poll below empties our mailboxes for good. */
        bool last = atomic_load_explicit(&r->producing, memory_order_acquire) == 0;
        mailbox_poll(w);
        if (last)
            break;
        sched_yield();
    }
    for (size_t i = 0; i < w->cap; i++)
        if (w->table[i].kind != OBJ_NONE)
            obj_release(w, &w->table[i]);
    w->held = 0;
}

static void reclaim_own(worker_t *w) {
    w->c.operations++;
    w->c.reclaim_calls++;
    bsa_status_t st = bsa_reclaim(&w->run->alloc);
    if (st != BSA_OK)
        stress_fatal(w, "bsa_reclaim at the end returned %s", bsa_status_name(st));
}

static void *worker_main(void *arg) {
    worker_t *w = arg;
    run_t *r = w->run;
    stress_force_cpu(r->mode == CPU_SHARED ? w->index % r->cpu_count + 1u : 0u);
    unsigned cpu = stress_cpu_id(r); /* thread mode: take an id before anyone allocates */
    pthread_barrier_wait(&r->start);
    if (one_id_per_thread(r->mode) && bsa_hosted_thread_cpu_holders(cpu) != 1)
        stress_fatal(w, "thread mode, but cpu id %u has %u holders", cpu,
                     bsa_hosted_thread_cpu_holders(cpu));
    w->producing = true;
    produce(w);
    drain(w);
    pthread_barrier_wait(&r->drained);
    if (w->index == 0)
        for (size_t i = 0; i < r->nkeepers; i++)
            obj_release(w, &r->keepers[i]);
    reclaim_own(w);
    publish_progress(w);
    /* Relaxed: the monitor only counts; it reads our results after pthread_join. */
    atomic_fetch_add_explicit(&r->finished, 1u, memory_order_relaxed);
    return NULL;
}

/* ---- monitor ----------------------------------------------------------------------- */

static uint64_t total_progress(const run_t *r) {
    uint64_t ops = 0;
    for (unsigned i = 0; i < r->nthreads; i++)
        ops += atomic_load_explicit(&r->workers[i].progress, memory_order_relaxed);
    return ops;
}

static void progress_line(const run_t *r, double now, uint64_t ops, uint64_t last_ops,
                          double last_t) {
    bsa_stats_t s;
    if (bsa_stats(&r->alloc, &s) != BSA_OK)
        return;
    size_t pending = 0;
    for (unsigned k = 0; k < BSA_SIZE_CLASS_COUNT; k++)
        pending += s.classes[k].remote_pending;
    double rate = now > last_t ? (double)(ops - last_ops) / (now - last_t) : 0;
    printf("  [%s] %6.1fs  ops %-11" PRIu64 " %9.0f ops/s  pages used %zu/%zu  "
           "remote pending %zu  bad frees %" PRIu64 "  finished %u/%u\n",
           r->sc->name, now - r->t0, ops, rate, s.total_pages - s.free_pages, s.total_pages,
           pending, s.bad_frees, atomic_load_explicit((_Atomic unsigned *)&r->finished,
                                                      memory_order_relaxed),
           r->nthreads);
    fflush(stdout);
}

static void watchdog_fire(const run_t *r, double now) {
    fflush(stdout);
    fprintf(stderr, "bsa_stress: FAIL [%s]: no end %.0f s after the planned end (hang?); "
            "%u of %u workers finished, %u still producing; ops per worker:",
            r->sc->name, now - r->t0, atomic_load(&r->finished), r->nthreads,
            atomic_load(&r->producing));
    for (unsigned i = 0; i < r->nthreads; i++)
        fprintf(stderr, " %" PRIu64, atomic_load(&r->workers[i].progress));
    fputc('\n', stderr);
    _exit(3);
}

/* Runs until every worker has finished: deadline, progress lines, peak page use. */
static void monitor(run_t *r, result_t *res) {
    const stress_opts_t *opt = r->opt;
    double deadline = opt->duration > 0 ? r->t0 + opt->duration : 0;
    double last_t = r->t0, next_line = r->t0 + opt->progress, moved_at = r->t0;
    uint64_t last_ops = 0, seen_ops = 0;
    size_t peak = 0;
    struct timespec tick = {0, 20 * 1000 * 1000};
    while (atomic_load_explicit(&r->finished, memory_order_relaxed) < r->nthreads) {
        nanosleep(&tick, NULL);
        double now = stress_now();
        if (deadline != 0 && now >= deadline) /* relaxed: a flag, see should_stop */
            atomic_store_explicit(&r->stop, 1, memory_order_relaxed);
        bsa_stats_t s;
        if (bsa_stats(&r->alloc, &s) == BSA_OK) {
            size_t pending = 0;
            for (unsigned k = 0; k < BSA_SIZE_CLASS_COUNT; k++)
                pending += s.classes[k].remote_pending;
            if (pending > res->peak_remote_pending)
                res->peak_remote_pending = pending;
            if (s.total_pages - s.free_pages > peak)
                peak = s.total_pages - s.free_pages;
        }
        uint64_t ops = total_progress(r);
        if (ops != seen_ops) {
            seen_ops = ops;
            moved_at = now;
        }
        if (opt->progress > 0 && now >= next_line) {
            progress_line(r, now, ops, last_ops, last_t);
            last_ops = ops;
            last_t = now;
            next_line += opt->progress;
        }
        double planned = deadline != 0 ? deadline : moved_at;
        if (now > (planned > moved_at ? planned : moved_at) + opt->watchdog)
            watchdog_fire(r, now);
    }
    res->peak_pages_in_use = peak;
}

/* ---- accounting -------------------------------------------------------------------- */

/* Everything is freed but not yet reclaimed: no live object, and the only pages out of
 * the buddy are those of the slabs the CPUs keep (cached empty, or drained) and of the
 * CPUs' page caches (exclusive mode). */
static void check_freed(run_t *r, const bsa_stats_t *init, result_t *res) {
    bsa_stats_t s;
    bsa_stats(&r->alloc, &s);
    res->pages_added = s.total_pages - init->total_pages;
    size_t cached = 0, pending = 0;
    for (unsigned k = 0; k < BSA_SIZE_CLASS_COUNT; k++) {
        if (s.classes[k].live != 0)
            fail(res, "class %zu B: %zu objects live after every thread freed everything",
                 s.classes[k].object_size, s.classes[k].live);
        cached += s.classes[k].slabs * bsa_slab_pages_for(k, r->page_size);
        pending += s.classes[k].remote_pending;
    }
    res->slab_pages_cached = cached;
    res->page_cache_pages = s.cached_pages;
    res->pending_at_end = pending;
    size_t expect = init->free_pages + res->pages_added - cached - s.cached_pages;
    if (s.free_pages != expect)
        fail(res, "before reclaim: %zu free pages, expected %zu (initial %zu + added %zu - "
             "%zu pages of cached slabs - %zu in page caches): %+ld pages unaccounted",
             s.free_pages, expect, init->free_pages, res->pages_added, cached, s.cached_pages,
             (long)expect - (long)s.free_pages);
}

static void reclaim_all(run_t *r, result_t *res) {
    for (unsigned id = 0; id < r->cpu_count; id++) {
        stress_force_cpu(id + 1u);
        bsa_status_t st = bsa_reclaim(&r->alloc);
        if (st != BSA_OK)
            fail(res, "bsa_reclaim on cpu %u returned %s", id, bsa_status_name(st));
    }
    stress_force_cpu(0);
}

static void check_reclaimed(run_t *r, const bsa_stats_t *init, result_t *res) {
    bsa_stats_t s;
    bsa_stats(&r->alloc, &s);
    for (unsigned k = 0; k < BSA_SIZE_CLASS_COUNT; k++) {
        const bsa_class_stats_t *c = &s.classes[k];
        if (c->slabs || c->capacity || c->live || c->remote_pending)
            fail(res, "class %zu B after every CPU reclaimed: %zu slabs, capacity %zu, "
                 "live %zu, remote pending %zu", c->object_size, c->slabs, c->capacity,
                 c->live, c->remote_pending);
    }
    if (s.cached_pages != 0)
        fail(res, "after every CPU reclaimed: %zu pages still in page caches", s.cached_pages);
    res->final_free_pages = s.free_pages;
    res->total_pages = s.total_pages;
    res->initial_free_pages = init->free_pages;
    if (s.free_pages != init->free_pages + res->pages_added)
        fail(res, "after reclaim: %zu free pages, expected %zu initial + %zu added: %+ld "
             "pages lost", s.free_pages, init->free_pages, res->pages_added,
             (long)(init->free_pages + res->pages_added) - (long)s.free_pages);
    res->bad_frees = s.bad_frees;
    res->reports = atomic_load_explicit(&r->reports, memory_order_relaxed);
    if (s.bad_frees != res->c.deliberate_bad_frees || res->reports != s.bad_frees)
        fail(res, "bad_frees %" PRIu64 ", report hook calls %" PRIu64 ", deliberate bad "
             "frees %" PRIu64 ": they must agree", s.bad_frees, res->reports,
             res->c.deliberate_bad_frees);
    bsa_status_t st = bsa_check(&r->alloc);
    if (st != BSA_OK)
        fail(res, "bsa_check returned %s", bsa_status_name(st));
}

/* The driver's own books, and what each scenario promises. */
static void check_books(run_t *r, result_t *res) {
    const counters_t *c = &res->c;
    if (c->allocs != c->frees)
        fail(res, "%" PRIu64 " allocations but %" PRIu64 " frees", c->allocs, c->frees);
    if (c->pages_taken != c->pages_returned)
        fail(res, "%" PRIu64 " pages taken but %" PRIu64 " returned", c->pages_taken,
             c->pages_returned);
    size_t sections = bsa_section_count(&r->alloc);
    res->sections = sections;
    if (sections != 1u + c->regions_added)
        fail(res, "%zu sections after adding %" PRIu64 " regions", sections, c->regions_added);
    size_t added = 0;
    for (size_t i = 1; i < sections; i++) {
        bsa_section_info_t info;
        if (bsa_section(&r->alloc, i, &info) == BSA_OK)
            added += info.total_pages;
    }
    if (added != res->pages_added)
        fail(res, "added sections hold %zu pages, the totals grew by %zu", added,
             res->pages_added);
    if ((r->sc->flags & SC_ALL_REMOTE) && one_id_per_thread(r->mode) && c->local_frees != 0)
        fail(res, "%" PRIu64 " local frees: every free should have been remote", c->local_frees);
    if ((r->sc->flags & SC_NOMEM_EACH) && res->min_worker_nomem == 0)
        fail(res, "a worker never saw BSA_E_NOMEM: the heap is not small enough");
    if ((r->sc->flags & SC_HOT_ADD) && c->regions_added == 0)
        fail(res, "no region was added");
}

static void sum_counters(const run_t *r, result_t *res) {
    res->min_worker_nomem = UINT64_MAX;
    for (unsigned i = 0; i < r->nthreads; i++) {
        const counters_t *c = &r->workers[i].c;
#define STRESS_SUM(name) res->c.name += c->name;
        STRESS_COUNTERS(STRESS_SUM)
#undef STRESS_SUM
        if (c->nomem < res->min_worker_nomem)
            res->min_worker_nomem = c->nomem;
    }
}

/* ---- one scenario ------------------------------------------------------------------ */

static void start_workers(run_t *r) {
    pthread_barrier_init(&r->start, NULL, r->nthreads + 1u);
    pthread_barrier_init(&r->drained, NULL, r->nthreads);
    for (unsigned i = 0; i < r->nthreads; i++) {
        int e = pthread_create(&r->workers[i].thread, NULL, worker_main, &r->workers[i]);
        if (e != 0) {
            fprintf(stderr, "bsa_stress: pthread_create: %s\n", strerror(e));
            _exit(1); /* the others wait at the start barrier forever */
        }
    }
    r->t0 = stress_now(); /* read by the workers after the barrier */
    pthread_barrier_wait(&r->start);
}

static void finish(run_t *r, result_t *res, const bsa_stats_t *init, double t_start) {
    double t_run = stress_now();
    for (unsigned i = 0; i < r->nthreads; i++)
        pthread_join(r->workers[i].thread, NULL);
    pthread_barrier_destroy(&r->start);
    pthread_barrier_destroy(&r->drained);
    sum_counters(r, res);
    res->run_seconds = t_run - r->t0;
    res->ops_per_sec = res->run_seconds > 0 ? (double)res->c.operations / res->run_seconds : 0;
    check_freed(r, init, res);
    reclaim_all(r, res);
    check_reclaimed(r, init, res);
    check_books(r, res);
    res->drains = res->c.remote_frees > res->pending_at_end
                      ? res->c.remote_frees - res->pending_at_end : 0;
    res->wall_seconds = stress_now() - t_start;
}

void run_scenario(const scenario_t *sc, const stress_opts_t *opt, result_t *res) {
    double t_start = stress_now();
    memset(res, 0, sizeof *res);
    res->name = sc->name;
    res->ok = true;
    res->seed = opt->seed;
    run_t *r = calloc(1, sizeof *r);
    if (r == NULL) {
        fail(res, "out of host memory");
        return;
    }
    r->sc = sc;
    r->opt = opt;
    r->seed = opt->seed;
    if (setup_run(r, opt, res)) {
        res->threads = r->nthreads;
        res->cpu_ids = r->cpu_count;
        res->mode = r->mode;
        bsa_stats_t init;
        bsa_stats(&r->alloc, &init);
        printf("== %s: %s\n   %u threads on %u CPU ids (%s mode), %zu MiB heap, seed %" PRIu64
               "\n", sc->name, sc->what, r->nthreads, r->cpu_count, cpu_mode_name(r->mode),
               r->heap_len >> 20, opt->seed);
        fflush(stdout);
        start_workers(r);
        monitor(r, res);
        finish(r, res, &init, t_start);
    }
    teardown(r);
    free(r);
}
