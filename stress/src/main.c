/*
 * main.c - bsa_stress: command line, the scenario loop, the summary table and the JSON
 * summary the reports read. Exit status: 0 all scenarios passed, 1 a scenario failed
 * (or a worker found corruption), 2 bad usage, 3 the watchdog saw a hang.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "stress.h"

#if defined(__SANITIZE_THREAD__)
#define STRESS_SANITIZER "thread"
#elif defined(__SANITIZE_ADDRESS__)
#define STRESS_SANITIZER "address"
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define STRESS_SANITIZER "thread"
#elif __has_feature(address_sanitizer)
#define STRESS_SANITIZER "address"
#endif
#endif
#ifndef STRESS_SANITIZER
#define STRESS_SANITIZER "none"
#endif

static void usage(FILE *f) {
    fprintf(f,
        "usage: bsa_stress [options] [SCENARIO...]\n"
        "  -s, --scenario LIST  comma-separated scenario names, or all (default)\n"
        "  -t, --threads N      worker threads, 2..%u (default: online CPUs, at least 2)\n"
        "  -d, --duration SEC   seconds per scenario (default 2; 0 with --ops: no limit)\n"
        "  -n, --ops N          allocator operations per thread (default 0: no limit)\n"
        "      --seed N         seed of every thread's random stream (default 1)\n"
        "      --cpu-mode MODE  thread: one CPU id per thread (bsa_hosted_thread_cpu_id)\n"
        "                       shared: id = thread %% ids, two or more threads per id\n"
        "                       sched:  sched_getcpu() ids (bsa_hosted_sched_cpu_id)\n"
        "                       exclusive: as thread, with BSA_CPU_EXCLUSIVE (no CPU lock)\n"
        "                       (default thread; shared-ids uses shared unless sched)\n"
        "      --ids N          CPU ids in shared mode (default threads/2, at least 2)\n"
        "      --heap-mib N     heap of every scenario (default: each scenario's own)\n"
        "      --json PATH      JSON summary (default results/stress/summary.json; '' none)\n"
        "      --progress SEC   seconds between progress lines (default 1; 0 none)\n"
        "      --watchdog SEC   declare a hang this long after the planned end (default 60)\n"
        "  -l, --list           list the scenarios\n"
        "  -h, --help\n",
        STRESS_MAX_THREADS);
}

static bool parse_u64(const char *s, uint64_t *out) {
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 0);
    if (errno || end == s || *end || s[0] == '-')
        return false;
    *out = v;
    return true;
}

static bool parse_seconds(const char *s, double *out) {
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !(v >= 0) || v > 1e7)
        return false;
    *out = v;
    return true;
}

static bool parse_mode(const char *s, cpu_mode_t *out) {
    if (!strcmp(s, "thread"))
        *out = CPU_THREAD;
    else if (!strcmp(s, "shared"))
        *out = CPU_SHARED;
    else if (!strcmp(s, "sched"))
        *out = CPU_SCHED;
    else if (!strcmp(s, "exclusive"))
        *out = CPU_EXCLUSIVE;
    else
        return false;
    return true;
}

static int bad_arg(const char *opt, const char *val) {
    fprintf(stderr, "bsa_stress: bad value for --%s: '%s'\n", opt, val);
    usage(stderr);
    return 2;
}

enum { OPT_SEED = 256, OPT_MODE, OPT_IDS, OPT_HEAP, OPT_JSON, OPT_PROGRESS, OPT_WATCHDOG };

static const struct option long_options[] = {
    {"scenario", required_argument, 0, 's'}, {"threads", required_argument, 0, 't'},
    {"duration", required_argument, 0, 'd'}, {"ops", required_argument, 0, 'n'},
    {"seed", required_argument, 0, OPT_SEED}, {"cpu-mode", required_argument, 0, OPT_MODE},
    {"ids", required_argument, 0, OPT_IDS}, {"heap-mib", required_argument, 0, OPT_HEAP},
    {"json", required_argument, 0, OPT_JSON}, {"progress", required_argument, 0, OPT_PROGRESS},
    {"watchdog", required_argument, 0, OPT_WATCHDOG}, {"list", no_argument, 0, 'l'},
    {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};

/* A bounded unsigned option value; false if it is not one. */
static bool parse_range(const char *s, uint64_t lo, uint64_t hi, uint64_t *out) {
    return parse_u64(s, out) && *out >= lo && *out <= hi;
}

/* One option with a value. Returns -1 to go on, else the exit status. */
static int apply_option(int c, const char *arg, stress_opts_t *o) {
    uint64_t v = 0;
    bool ok = true;
    switch (c) {
    case 's': o->scenarios = arg; break;
    case 't': ok = parse_range(arg, 2, STRESS_MAX_THREADS, &v); o->threads = (unsigned)v; break;
    case 'd': ok = parse_seconds(arg, &o->duration); break;
    case 'n': ok = parse_u64(arg, &o->ops); break;
    case OPT_SEED: ok = parse_u64(arg, &o->seed); break;
    case OPT_MODE: ok = parse_mode(arg, &o->mode); break;
    case OPT_IDS: ok = parse_range(arg, 1, STRESS_MAX_THREADS / 2u, &v); o->ids = (unsigned)v; break;
    case OPT_HEAP: ok = parse_range(arg, 1, 1u << 16, &v); o->heap_mib = (size_t)v; break;
    case OPT_JSON: o->json = arg; break;
    case OPT_PROGRESS: ok = parse_seconds(arg, &o->progress); break;
    case OPT_WATCHDOG: ok = parse_seconds(arg, &o->watchdog) && o->watchdog >= 1; break;
    default: usage(stderr); return 2;
    }
    if (ok)
        return -1;
    for (const struct option *l = long_options; l->name; l++)
        if (l->val == c)
            return bad_arg(l->name, arg);
    return bad_arg("?", arg);
}

/* Returns -1 to go on, else the exit status. `names` collects positional scenarios. */
static int parse_args(int argc, char **argv, stress_opts_t *o, char *names, size_t cap) {
    bool duration_set = false;
    int c;
    while ((c = getopt_long(argc, argv, "s:t:d:n:lh", long_options, NULL)) != -1) {
        if (c == 'l') {
            for (size_t i = 0; i < stress_scenario_count; i++)
                printf("%-20s %s\n", stress_scenarios[i].name, stress_scenarios[i].what);
            return 0;
        }
        if (c == 'h') {
            usage(stdout);
            return 0;
        }
        int rc = apply_option(c, optarg, o);
        if (rc >= 0)
            return rc;
        duration_set |= c == 'd';
    }
    if (!duration_set && o->ops != 0)
        o->duration = 0; /* --ops alone: run to the op count */
    if (o->duration == 0 && o->ops == 0)
        return bad_arg("duration", "0 (give --ops, or a duration)");
    for (int i = optind; i < argc; i++) {
        if (strlen(names) + strlen(argv[i]) + 2u > cap)
            return bad_arg("scenario", argv[i]);
        if (names[0])
            strcat(names, ",");
        strcat(names, argv[i]);
    }
    if (names[0])
        o->scenarios = names;
    return -1;
}

/* ---- scenario selection ------------------------------------------------------------ */

static const scenario_t *find_scenario(const char *name, size_t len) {
    for (size_t i = 0; i < stress_scenario_count; i++)
        if (strlen(stress_scenarios[i].name) == len && !strncmp(stress_scenarios[i].name, name, len))
            return &stress_scenarios[i];
    return NULL;
}

/* Fills `sel` (one flag per scenario, table order); false on an unknown name. */
static bool select_scenarios(const char *list, bool *sel) {
    if (!strcmp(list, "all")) {
        for (size_t i = 0; i < stress_scenario_count; i++)
            sel[i] = true;
        return true;
    }
    for (const char *p = list; *p;) {
        size_t len = strcspn(p, ",");
        const scenario_t *sc = find_scenario(p, len);
        if (sc == NULL) {
            fprintf(stderr, "bsa_stress: unknown scenario '%.*s' (see --list)\n", (int)len, p);
            return false;
        }
        sel[sc - stress_scenarios] = true;
        p += len + (p[len] == ',');
    }
    return true;
}

/* ---- output ------------------------------------------------------------------------ */

static void json_string(FILE *f, const char *s) {
    fputc('"', f);
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\')
            fprintf(f, "\\%c", ch);
        else if (ch < 0x20)
            fprintf(f, "\\u%04x", ch);
        else
            fputc(ch, f);
    }
    fputc('"', f);
}

static void json_result(FILE *f, const result_t *r) {
    fprintf(f, "    {\"name\": ");
    json_string(f, r->name);
    fprintf(f, ", \"ok\": %s, \"failure\": ", r->ok ? "true" : "false");
    json_string(f, r->failure);
    fprintf(f, ",\n     \"threads\": %u, \"cpu_ids\": %u, \"cpu_mode\": \"%s\", \"seed\": %" PRIu64
            ",\n     \"ops_per_sec\": %.0f, \"wall_seconds\": %.3f, \"run_seconds\": %.3f,\n    ",
            r->threads, r->cpu_ids, cpu_mode_name(r->mode), r->seed, r->ops_per_sec,
            r->wall_seconds, r->run_seconds);
#define STRESS_JSON(name) fprintf(f, " \"%s\": %" PRIu64 ",", #name, r->c.name);
    STRESS_COUNTERS(STRESS_JSON)
#undef STRESS_JSON
    fprintf(f, "\n     \"drains\": %" PRIu64 ", \"remote_pending_at_end\": %" PRIu64
            ", \"bad_frees\": %" PRIu64 ", \"report_hook_calls\": %" PRIu64
            ", \"min_worker_nomem\": %" PRIu64 ",\n     \"initial_free_pages\": %zu"
            ", \"final_free_pages\": %zu, \"total_pages\": %zu, \"pages_added\": %zu"
            ", \"sections\": %zu, \"slab_pages_cached_before_reclaim\": %zu"
            ", \"page_cache_pages_before_reclaim\": %zu"
            ", \"peak_pages_in_use\": %zu, \"peak_remote_pending\": %zu}",
            r->drains, r->pending_at_end, r->bad_frees, r->reports,
            r->min_worker_nomem == UINT64_MAX ? 0 : r->min_worker_nomem,
            r->initial_free_pages, r->final_free_pages, r->total_pages, r->pages_added,
            r->sections, r->slab_pages_cached, r->page_cache_pages, r->peak_pages_in_use,
            r->peak_remote_pending);
}

static int make_parents(const char *path) {
    char buf[4096];
    if (strlen(path) >= sizeof buf)
        return -1;
    strcpy(buf, path);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(buf, 0777) != 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    return 0;
}

static bool write_json(const stress_opts_t *o, const result_t *res, size_t n, bool all_ok) {
    if (make_parents(o->json) != 0) {
        fprintf(stderr, "bsa_stress: cannot create the directory of %s: %s\n", o->json,
                strerror(errno));
        return false;
    }
    FILE *f = fopen(o->json, "w");
    if (f == NULL) {
        fprintf(stderr, "bsa_stress: cannot write %s: %s\n", o->json, strerror(errno));
        return false;
    }
    fprintf(f, "{\n  \"tool\": \"bsa_stress\", \"bsa_version\": \"%d.%d.%d\","
            " \"compiler\": \"%s\", \"sanitizer\": \"%s\",\n  \"seed\": %" PRIu64
            ", \"threads\": %u, \"cpu_mode\": \"%s\", \"duration_seconds\": %.3f"
            ", \"ops_per_thread\": %" PRIu64 ", \"ok\": %s,\n  \"scenarios\": [\n",
            BSA_VERSION_MAJOR, BSA_VERSION_MINOR, BSA_VERSION_PATCH, __VERSION__,
            STRESS_SANITIZER, o->seed, o->threads, cpu_mode_name(o->mode), o->duration,
            o->ops, all_ok ? "true" : "false");
    for (size_t i = 0; i < n; i++) {
        json_result(f, &res[i]);
        fputs(i + 1 < n ? ",\n" : "\n", f);
    }
    fputs("  ]\n}\n", f);
    bool ok = fclose(f) == 0;
    if (ok)
        printf("summary: %s\n", o->json);
    return ok;
}

static void print_table(const result_t *res, size_t n) {
    printf("\n%-19s %3s %3s %11s %11s %10s %10s %10s %6s %7s  %s\n", "scenario", "thr",
           "ids", "ops", "ops/s", "local", "remote", "drains", "bad", "wall", "result");
    for (size_t i = 0; i < n; i++) {
        const result_t *r = &res[i];
        printf("%-19s %3u %3u %11" PRIu64 " %11.0f %10" PRIu64 " %10" PRIu64 " %10" PRIu64
               " %6" PRIu64 " %6.1fs  %s\n", r->name, r->threads, r->cpu_ids,
               r->c.operations, r->ops_per_sec, r->c.local_frees, r->c.remote_frees,
               r->drains, r->bad_frees, r->wall_seconds, r->ok ? "ok" : "FAIL");
    }
}

int main(int argc, char **argv) {
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    stress_opts_t o = {
        .scenarios = "all", .threads = cpus < 2 ? 2u : cpus > 64 ? 64u : (unsigned)cpus,
        .duration = 2, .seed = 1, .mode = CPU_THREAD, .json = "results/stress/summary.json",
        .progress = 1, .watchdog = 60};
    char names[1024] = "";
    int rc = parse_args(argc, argv, &o, names, sizeof names);
    if (rc >= 0)
        return rc;
    bool sel[64] = {false};
    if (!select_scenarios(o.scenarios, sel))
        return 2;
    result_t *res = calloc(stress_scenario_count, sizeof *res);
    if (res == NULL)
        return 1;
    size_t n = 0;
    bool all_ok = true;
    for (size_t i = 0; i < stress_scenario_count; i++) {
        if (!sel[i])
            continue;
        run_scenario(&stress_scenarios[i], &o, &res[n]);
        all_ok &= res[n].ok;
        n++;
    }
    print_table(res, n);
    if (o.json[0] && !write_json(&o, res, n, all_ok))
        all_ok = false;
    printf("bsa_stress: %s\n", all_ok ? "all scenarios passed" : "FAILED");
    free(res);
    return all_ok ? 0 : 1;
}
