/*
 * fuzz_common.h - what the three harnesses share: the input reader, the failure report,
 * status checks and ASan poisoning of memory the core must not touch.
 *
 * Input format (README.md): an 8-byte header, then 8-byte operation records
 *   byte 0 op code, byte 1 cpu / flags, bytes 2-3 a, 4-5 b, 6-7 c (little endian).
 * A short last record is zero-padded; at most FZ_MAX_OPS records run.
 *
 * A disagreement between the core and the model calls fz_fail, which prints
 *   <target>: op #<index> <op>: <what>: core <answer>, model <answer>
 * and aborts (libFuzzer and AFL++ record the input as a crash).
 */
#ifndef BSA_FUZZ_COMMON_H
#define BSA_FUZZ_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bsa.h"

#define FZ_HEADER 8
#define FZ_RECORD 8
#define FZ_MAX_OPS 512

typedef struct fz_op {
    uint8_t code, cpu;
    uint16_t a, b, c;
} fz_op_t;

typedef struct fz_reader {
    const uint8_t *data;
    size_t size, off;
} fz_reader_t;

void fz_reader_init(fz_reader_t *r, const uint8_t *data, size_t size, uint8_t header[FZ_HEADER]);
bool fz_next(fz_reader_t *r, fz_op_t *op);

/* The op being checked, for failure messages: fz_begin formats it now (once per input),
 * fz_begin_op keeps the record and formats "NAME(cpu=.. a=.. b=.. c=..)" on failure. */
void fz_begin(const char *target, size_t index, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void fz_begin_op(const char *target, size_t index, const char *name, const fz_op_t *op);
const char *fz_current_op(void);
_Noreturn void fz_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void fz_expect_status(const char *what, bsa_status_t core, bsa_status_t model);
/* `allowed` is a bit mask of statuses (fz_bit); for choices the contract leaves open. */
void fz_expect_status_in(const char *what, bsa_status_t core, unsigned allowed);
unsigned fz_bit(bsa_status_t s);
void fz_expect_size(const char *what, size_t core, size_t model);
void fz_expect_ptr(const char *what, const void *core, const void *model);

/* The harness entry point (libFuzzer, AFL++'s driver, replay_main.c). */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Decoders shared by the targets. */
uint16_t fz_u16(const uint8_t *p);

/* Memory the core must not read or write (no-ops without ASan). */
void fz_poison(const void *p, size_t n);
void fz_unpoison(const void *p, size_t n);


/* ---- regions: what the contract says about a region and the section made of it ----- */
/* Statuses allowed for adding [start, start + len). The exact metadata size is the
 * core's business: between "surely too small" (not one byte of metadata and one page
 * fit) and "surely fits" (DESIGN's budget: 0.5% of the region plus one page, plus
 * `extra` for what comes before the section, e.g. the global allocator's per-CPU array)
 * either answer is allowed. `overlaps`: the region overlaps an earlier one. */
unsigned fz_region_allowed(uintptr_t start, size_t len, size_t page_size, size_t extra,
                           bool overlaps);
/* NULL if the section the core made of the region is sane: metadata first, whole
 * aligned pages after it, within the overhead budget; else what is wrong. */
const char *fz_section_sane(uintptr_t start, size_t len, size_t page_size, size_t extra,
                            const bsa_section_info_t *info);

/* ---- the op loop every target runs ------------------------------------------------ */
/* For each record left in `r`: names it for failure messages (names[code % count]),
 * runs it with a fill byte derived from its index, and verifies core against model.
 * Then `selfcheck` (NULL or what in the model is out of step) fails the input on a
 * model bug. */
void fz_run_ops(fz_reader_t *r, const char *target, const char *const *names, unsigned count,
                void (*run)(const fz_op_t *op, uint8_t fill), void (*verify)(void),
                const char *(*selfcheck)(void));

/* ---- the translator the fuzzers give the core: linear per region ------------------- */
#define FZ_XMAP_MAX 64
/* Calls of fz_xmap_v2p since the harness last zeroed them, and the address asked last. */
extern unsigned fz_xmap_calls;
extern uintptr_t fz_xmap_last;
void fz_xmap_reset(void);
void fz_xmap_push(uintptr_t start, uintptr_t end, uint64_t phys);
void fz_xmap_pop(void); /* the region just pushed, when its add failed */
/* The bsa_ops_t.virt_to_phys hook: fails the input for an address outside every region. */
uint64_t fz_xmap_v2p(void *ctx, uintptr_t va);
/* The physical address of `va`: itself outside every region. */
uint64_t fz_xmap_phys(uintptr_t va);
/* A physical address for a region's start, chosen by the input (mode, v): at 16 MiB,
 * above 4 GiB, or so that the region straddles 4 GiB; in-page offset kept. */
uint64_t fz_choose_phys(unsigned mode, uint16_t v, uintptr_t start, size_t len,
                        size_t page_size);

#endif /* BSA_FUZZ_COMMON_H */
