/*
 * bench_bsa.c - sets up the bsa heap every bsa benchmark uses: its own mmap region
 * (never malloc), several CPU ids, one id per thread through the hosted port.
 *
 * Buddy blocks are aligned relative to their section's first managed page (README,
 * "Pages"), so an alignment above the block size can only be met when that page is
 * itself aligned. The region is placed so that the first managed page sits on a
 * BENCH_BSA_PLACE boundary, as a kernel would place its heap; the pages_aligned family
 * then measures the aligned search, not a layout accident.
 */
#include <stdio.h>

#include "bench_bsa.h"
#include "bsa_hosted.h"

bsa_allocator_t bench_heap;

void bench_bsa_setup(char *desc, size_t desc_len) {
    static const bsa_ops_t ops = {
        .cpu_id = bsa_hosted_thread_cpu_id,
        .relax = bsa_hosted_yield, /* threads may outnumber cores in the scaling family */
    };
    /* Exclusive: every thread holds its own id (at most BENCH_BSA_CPUS threads, the
     * limit set below), so the per-CPU lock is not needed. */
    const bsa_config_t cfg = {.page_size = BENCH_PAGE, .cpu_count = BENCH_BSA_CPUS,
                              .ops = &ops, .flags = BSA_CPU_EXCLUSIVE};
    if (!bsa_hosted_thread_cpu_set_limit(BENCH_BSA_CPUS))
        bench_die("bsa_hosted_thread_cpu_set_limit", BENCH_BSA_CPUS);
    unsigned char *map = bsa_hosted_map(BENCH_BSA_ARENA + BENCH_BSA_PLACE);
    if (map == NULL)
        bench_die("bsa_hosted_map", BENCH_BSA_ARENA);
    /* A first init tells where the first managed page lands for this length; the
     * second, on a shifted region of the same length, puts it on the boundary. */
    bsa_section_info_t sec;
    bench_bsa_check(bsa_init(&bench_heap, &cfg, map, BENCH_BSA_ARENA), "bsa_init", 0);
    bench_bsa_check(bsa_section(&bench_heap, 0, &sec), "bsa_section", 0);
    uintptr_t start = (uintptr_t)sec.start;
    size_t shift = (size_t)(-start & (BENCH_BSA_PLACE - 1u));
    bench_bsa_check(bsa_init(&bench_heap, &cfg, map + shift, BENCH_BSA_ARENA), "bsa_init",
                    shift);
    bench_bsa_check(bsa_section(&bench_heap, 0, &sec), "bsa_section", 0);
    if (((uintptr_t)sec.start & (BENCH_BSA_PLACE - 1u)) != 0)
        bench_die("placing the bsa region", (uintptr_t)sec.start);
    snprintf(desc, desc_len,
             "bsa %d.%d.%d: %zu MiB mmap region, first managed page on a %zu MiB "
             "boundary, %u-byte pages, cpu_count %u, bsa_hosted_thread_cpu_id (one id "
             "per thread)",
             BSA_VERSION_MAJOR, BSA_VERSION_MINOR, BSA_VERSION_PATCH, BENCH_BSA_ARENA >> 20,
             BENCH_BSA_PLACE >> 20, BENCH_PAGE, BENCH_BSA_CPUS);
}
