// shim.cc - registers the C benchmark bodies (families.h) with Google Benchmark.
//
// One binary per allocator: peers that replace malloc need their own process. The bsa
// binary (BSA_BENCH_BSA) registers bsa_sized and bsa_unsized; a peer binary registers
// one peer named BSA_BENCH_PEER and refuses to run unless malloc really resolves to the
// expected library (BSA_BENCH_MALLOC_ORIGIN, a substring of its path).
//
// Names: <allocator>/<family>/<param>[/threads:N][/real_time]. Every benchmark sets the
// counter ops_per_iter (pairs, objects or reallocs per iteration) and items_per_second,
// so the reports turn times into ns per op without knowing the families.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstring>
#include <functional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "bench.h"

namespace {

using Body = std::function<void(uint64_t)>;

struct Impl {
    std::string name;
    const bench_impl_t *fns;
};

benchmark::internal::Benchmark *add(const std::string &name, double ops, Body body) {
    return benchmark::RegisterBenchmark(
        name.c_str(), [ops, body](benchmark::State &st) {
            // One batch of exactly max_iterations: the C loop does all of them, with no
            // framework code between iterations.
            while (st.KeepRunningBatch(st.max_iterations))
                body(static_cast<uint64_t>(st.max_iterations));
            st.SetItemsProcessed(
                static_cast<int64_t>(static_cast<double>(st.iterations()) * ops));
            st.counters["ops_per_iter"] =
                benchmark::Counter(ops, benchmark::Counter::kAvgThreads);
        });
}

std::vector<int> scaling_threads() {
    unsigned cpus = std::thread::hardware_concurrency();
    unsigned top = cpus > 1 ? 2 * cpus : 2;  // up to twice the cores: oversubscribed too
    std::vector<int> t;
    for (unsigned n = 1; n <= top; n *= 2)
        t.push_back(static_cast<int>(n));
    return t;
}

void register_all(const std::vector<Impl> &impls) {
    // Families in order, allocators interleaved inside each, so that the two bsa
    // variants of one binary run side by side.
    const size_t sizes[] = {8, 16, 32, 64, 128, 256, 512, 1024, 2048};
    const double batch = BENCH_BATCH;
    for (size_t s : sizes)
        for (const Impl &im : impls)
            add(im.name + "/pair/" + std::to_string(s), 1,
                [f = im.fns, s](uint64_t n) { f->pair(s, n); });
    for (size_t s : sizes)
        for (const Impl &im : impls)
            add(im.name + "/batch/" + std::to_string(s), batch,
                [f = im.fns, s](uint64_t n) { f->batch(s, n); });
    for (size_t s : sizes)
        for (const Impl &im : impls)
            add(im.name + "/recycle/" + std::to_string(s), 1,
                [f = im.fns, s](uint64_t n) { f->recycle(s, n); });
    for (unsigned k = 0; k < BENCH_PAGE_ORDERS; k++)
        for (const Impl &im : impls)
            add(im.name + "/pages/" + std::to_string(k), 1,
                [f = im.fns, k](uint64_t n) { f->pages(k, 0, n); });
    for (unsigned k = 0; k < BENCH_PAGE_ORDERS; k++)
        for (const Impl &im : impls)
            add(im.name + "/pages_batch/" + std::to_string(k), batch,
                [f = im.fns, k](uint64_t n) { f->pages_batch(k, n); });
    // Alignment four times the block size: the buddy must pick a suitably placed block.
    for (unsigned k = 0; k < BENCH_PAGE_ORDERS; k++)
        for (const Impl &im : impls)
            add(im.name + "/pages_aligned/" + std::to_string(k), 1,
                [f = im.fns, k](uint64_t n) {
                    f->pages(k, static_cast<size_t>(BENCH_PAGE) << (k + 2), n);
                });
    for (size_t s : sizes)
        for (const Impl &im : impls)
            add(im.name + "/xcpu/" + std::to_string(s), 1,
                [f = im.fns, s](uint64_t n) { f->xcpu(s, n); })
                ->UseRealTime();
    for (int t : scaling_threads())
        for (const Impl &im : impls) {
            add(im.name + "/scale_pair/64", 1, [f = im.fns](uint64_t n) { f->pair(64, n); })
                ->Threads(t)
                ->UseRealTime();
            add(im.name + "/scale_mixed/" + std::to_string(BENCH_MIXED_SLOTS), 1,
                [f = im.fns](uint64_t n) { f->mixed(n); })
                ->Threads(t)
                ->UseRealTime();
            // Single pages, 256 at a time, in every thread: for bsa the buddy lock is
            // shared, and its page caches' batches decide how often it is taken.
            add(im.name + "/scale_pages_batch/0", batch,
                [f = im.fns](uint64_t n) { f->pages_batch(0, n); })
                ->Threads(t)
                ->UseRealTime();
        }
    for (const Impl &im : impls)
        add(im.name + "/mixed/" + std::to_string(BENCH_MIXED_SLOTS), 1,
            [f = im.fns](uint64_t n) { f->mixed(n); });
    for (const Impl &im : impls)
        add(im.name + "/realloc/" + std::to_string(BENCH_REALLOC_MAX), bench_realloc_steps(),
            [f = im.fns](uint64_t n) { f->realloc_chain(n); });
}

}  // namespace

int main(int argc, char **argv) {
    bench_tables_init();
    std::vector<Impl> impls;
    std::string names;
#ifdef BSA_BENCH_BSA
    char desc[256];
    bench_bsa_setup(desc, sizeof desc);
    benchmark::AddCustomContext("bsa_heap", desc);
    impls.push_back({"bsa_sized", &bench_impl_bsa_sized});
    impls.push_back({"bsa_unsized", &bench_impl_bsa_unsized});
#else
    impls.push_back({BSA_BENCH_PEER, &bench_impl_peer});
#endif
    const char *origin = bench_malloc_origin();
    if (std::strstr(origin, BSA_BENCH_MALLOC_ORIGIN) == nullptr) {
        std::fprintf(stderr, "bench: malloc comes from %s, expected %s: not measuring\n",
                     origin, BSA_BENCH_MALLOC_ORIGIN);
        return 1;
    }
    for (const Impl &im : impls)
        names += (names.empty() ? "" : ",") + im.name;
    benchmark::AddCustomContext("bench_allocators", names);
    benchmark::AddCustomContext("malloc_origin", origin);
    benchmark::AddCustomContext("mixed_mean_request_bytes",
                                std::to_string(bench_mixed_mean_size()));
    benchmark::AddCustomContext("realloc_steps_per_chain",
                                std::to_string(bench_realloc_steps()));

    register_all(impls);
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv))
        return 1;
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
