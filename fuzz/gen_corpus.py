#!/usr/bin/python3
"""Writes the seed corpora fuzz/corpus/<target>/ and dictionaries fuzz/dict/<target>.dict.

Each seed is an 8-byte header and 8-byte op records (byte 0 op code, byte 1 cpu/flags,
bytes 2-7 three little-endian u16 arguments a, b, c), decoded by the harness of the same
name; the op codes below mirror each harness's `enum op`. Seeds are short, meaningful
sequences (one scenario each) that mutation starts from; dictionary entries are whole
op records, so that libFuzzer / AFL++ insert complete operations.

    /usr/bin/python3 fuzz/gen_corpus.py          # rewrites the named seeds and dict/
"""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))


def rec(code, cpu=0, a=0, b=0, c=0):
    return struct.pack("<BBHHH", code, cpu, a & 0xFFFF, b & 0xFFFF, c & 0xFFFF)


def header(*bytes_):
    return bytes(bytes_) + bytes(8 - len(bytes_))


# ---- fuzz_buddy ------------------------------------------------------------------------
B = dict(ALLOC=0, LOWMEM=3, FREE=4, FREE_STALE=7, FREE_WILD=8, ADD_REGION=9, BAD_REGION=10,
         BAD_ALLOC=11, QUERY=12, UNINIT=13, FILL=14, FREE_MANY=15, CORRUPT=16)


def b_head(page_sel=0, ops=1, phys_mode=2, pages=128, off16=256, phys=40):
    """page_sel 0: 4 KiB, 5: 8 KiB, 6: 16 KiB, 7: 64 KiB; ops 0 NULL, 1 translator,
    3 table without translator; phys_mode 0 below 4G, 1 above, 2 straddling."""
    return struct.pack("<BBHHH", page_sel, ops | (phys_mode << 2), (pages - 1) & 0xFF,
                       off16, phys)


def b_count(n):  # decode_count: 1..8 exact, else 1..64, else powers of two
    if 1 <= n <= 8:
        return n - 1
    if n <= 64:
        return (3 << 13) | (n - 1)
    return (5 << 13) | (n.bit_length() - 1)


def b_align(shift):  # page size << shift; None: default
    return 0 if shift is None else 5 + shift


def buddy_seeds():
    s = {}
    s["basic"] = b_head() + b"".join(
        [rec(B["ALLOC"], a=b_count(n)) for n in (1, 2, 3, 4, 8, 16, 1, 1)] +
        [rec(B["FREE"], a=i, b=0) for i in (1, 3, 0)] + [rec(B["QUERY"], a=0, b=0)])
    # Corrupt each checked field once (cpu selects it), with allocated, free and split
    # blocks around: bsa_buddy_check must say CORRUPT (or OK for records), then OK again.
    s["corrupt"] = b_head(pages=64) + b"".join(
        [rec(B["ALLOC"], a=b_count(n)) for n in (1, 2, 4, 1)] + [rec(B["FREE"], a=1)] +
        [rec(B["CORRUPT"], cpu=sel, a=0, b=idx, c=c) for sel, idx, c in (
            (0, 0, 0), (0, 1, 1), (0, 2, 32), (0, 4, 0x100), (0, 8, 2), (1, 4, 0), (1, 8, 64),
            (2, 4, 0), (2, 12, 3), (3, 0, 0), (3, 0, 2), (3, 0, 3), (4, 0, 0), (4, 0, 3),
            (4, 0, 30), (5, 0, 0), (6, 0, 0), (7, 0, 0), (8, 0, 0), (9, 0, 2),
            (10, 0, 0), (10, 0, 64))])
    # Page records that break the block walk: two free buddies, a kind or an order out
    # of range, a misaligned or oversized block, a tail page that claims to be a head.
    # 63 pages; the allocations take the lowest-order blocks: idx 62 PAGES o0, 56 PAGES o1,
    # 58 FREE o1, 48 PAGES o2, 52 FREE o2, 60 FREE o1 (freed), 32 FREE o4, 0 FREE o5.
    def flip(value, byte=0):  # the harness flips (1 + (c >> 5)) << (8 * ((c >> 3) & 3))
        return ((value - 1) << 5) | (byte << 3)
    s["corrupt_blocks"] = b_head(pages=64) + b"".join(
        [rec(B["ALLOC"], a=b_count(n)) for n in (1, 1, 2, 4)] + [rec(B["FREE"], a=1)] +
        [rec(B["CORRUPT"], cpu=0, a=0, b=idx, c=c) for idx, c in (
            (56, flip(3)),          # PAGES o1 -> FREE o1 next to its free buddy
            (62, flip(7)),          # kind 5
            (0, flip(0x10, 1)),     # order 21
            (58, flip(3, 1)),       # FREE o2 at an idx that is not a multiple of 4
            (32, flip(1, 1)),       # FREE o5 at 32: past the last page
            (33, flip(1)))])        # a tail page with a kind
    s["aligned"] = b_head(pages=200) + b"".join(
        rec(B["ALLOC"], a=b_count(n), b=b_align(sh)) for n, sh in
        ((1, 3), (2, 5), (4, 2), (1, 7), (8, 4), (3, 1)))
    s["lowmem_straddle"] = b_head(phys_mode=2, phys=60) + b"".join(
        [rec(B["LOWMEM"], a=b_count(n)) for n in (1, 2, 4, 8, 16, 32, 64)] +
        [rec(B["FILL"], cpu=1, a=0)])
    s["lowmem_above"] = b_head(phys_mode=1) + rec(B["LOWMEM"], a=b_count(1)) + \
        rec(B["ALLOC"], a=b_count(1))
    s["regions"] = b_head(pages=32, off16=4096) + b"".join([
        rec(B["ADD_REGION"], cpu=0 | (2 << 2), a=40, b=0, c=10),      # touching after
        rec(B["ADD_REGION"], cpu=0, a=20, b=100, c=3),                 # after a gap
        rec(B["ADD_REGION"], cpu=2, a=16, b=0, c=0),                   # touching before
        rec(B["ADD_REGION"], cpu=3, a=16, b=0, c=500),                 # overlapping
        rec(B["ADD_REGION"], cpu=1, a=16, b=20000, c=0),               # anywhere
        rec(B["ALLOC"], a=b_count(32)), rec(B["ALLOC"], a=b_count(32)),
        rec(B["ALLOC"], a=b_count(16)), rec(B["LOWMEM"], a=b_count(4)),
        rec(B["FREE_MANY"], cpu=1)])
    s["bad_inputs"] = b_head() + b"".join(
        [rec(B["BAD_REGION"], cpu=v, a=3, b=v) for v in range(6)] +
        [rec(B["BAD_ALLOC"], cpu=v, b=0x0D | (v << 4)) for v in range(16)] +
        [rec(B["ALLOC"], a=b_count(2))] +
        [rec(B["FREE"], a=0, b=v, c=c) for v in (5, 6, 7) for c in (0, 2 | (1 << 2), 3)] +
        [rec(B["FREE_WILD"], a=0, b=7, c=v) for v in range(8)] +
        [rec(B["FREE"], a=0, b=0), rec(B["FREE_STALE"], a=0)] +
        [rec(B["UNINIT"], cpu=v, a=v) for v in range(5)] + [rec(B["QUERY"], a=7, b=33)])
    s["fill_free"] = b_head(pages=64) + b"".join(
        [rec(B["FILL"], a=k) for k in (2, 0)] + [rec(B["FREE_MANY"], cpu=0),
                                                 rec(B["FILL"], a=1), rec(B["FREE_MANY"], cpu=1)])
    for sel, name in ((5, "8k"), (6, "16k"), (7, "64k")):
        s["pages_" + name] = b_head(page_sel=sel, pages=40) + b"".join(
            rec(B["ALLOC"], a=b_count(n), b=b_align(sh)) for n, sh in ((1, None), (2, 1), (4, None)))
    s["no_translator"] = b_head(ops=3) + rec(B["LOWMEM"], a=0) + rec(B["ALLOC"], a=0)
    return s


# ---- fuzz_slab -------------------------------------------------------------------------
S = dict(ALLOC=0, FREE=4, REMOTE=6, DOUBLE=8, RECLAIM=9, BAD_ADD=10, BAD_CALLS=11, UNINIT=12,
         QUERY=13, FREE_MANY=14, ALLOC_MANY=15, CORRUPT=16)


# fuzz_slab's CORRUPT: (cpu >> 2) % 22 picks the field, as the tables in op_corrupt.
S_FIELD = {name: i for i, name in enumerate((
    "class_count", "class_slab_pages", "class_first_offset", "class_slabs", "class_in_use",
    "magic", "page_size", "cookie", "size_class", "list", "count", "free", "words", "hint",
    "free_map", "pending_map", "owner", "prev", "first_offset", "remote", "free_hint",
    "free_hint_bytes"))}


def s_corrupt(field, cls=0, slab=0, c=0):
    return rec(S["CORRUPT"], cpu=S_FIELD[field] << 2, a=cls, b=slab, c=c)


def s_head(page_sel=0, cpus=2, pages=128):
    return struct.pack("<BBH", page_sel, cpus - 1, pages - 64) + bytes(4)


def s_size(cls):  # a size of exactly 8 << cls
    return (3 << 14) | cls


def slab_seeds():
    s = {}
    s["alloc_free"] = s_head() + b"".join(
        [rec(S["ALLOC"], a=s_size(c)) for c in range(9)] +
        [rec(S["FREE"], a=i) for i in (0, 3, 5)] + [rec(S["ALLOC"], a=s_size(3))])
    s["fill_slab_release"] = s_head(cpus=1) + b"".join([
        rec(S["ALLOC_MANY"], a=s_size(8), b=40), rec(S["FREE_MANY"], a=0),
        rec(S["ALLOC_MANY"], a=s_size(8), b=40), rec(S["FREE_MANY"], a=1),
        rec(S["RECLAIM"], a=0)])
    s["remote_drain"] = s_head(cpus=2) + b"".join([
        rec(S["ALLOC_MANY"], a=s_size(7), b=20), rec(S["REMOTE"], a=0), rec(S["REMOTE"], a=1),
        rec(S["REMOTE"], a=0),                       # already pending: refused
        rec(S["FREE"], a=1),                         # local free of a pending object
        rec(S["ALLOC"], a=s_size(7)),                # drains
        rec(S["FREE_MANY"], cpu=4, a=0), rec(S["ALLOC"], a=s_size(7)), rec(S["RECLAIM"], a=0)])
    # Drains run only when no slab with room is in use. Two full slabs X, Y; all of Y
    # and part of X freed remotely (Y first, so X is drained first); one allocation
    # drains both: X ends partial, Y empty, and Y must go to the empty cache (it is not
    # alone on partial). The local frees that empty X then give X's pages back.
    s["drain_empties_slabs"] = s_head(cpus=2) + b"".join(
        [rec(S["ALLOC_MANY"], a=s_size(8), b=29)] +
        [rec(S["REMOTE"], a=i) for i in range(15, 30)] +
        [rec(S["REMOTE"], a=i) for i in range(5)] +
        [rec(S["ALLOC"], a=s_size(8)), rec(S["FREE_MANY"], a=0), rec(S["RECLAIM"], a=0)])
    # Corrupt each checked field once ((cpu >> 2) selects it) on slabs of several
    # classes: bsa_slab_check must say CORRUPT (UNINIT for the magic), then OK again.
    s["corrupt"] = s_head(cpus=1) + b"".join(
        [rec(S["ALLOC_MANY"], a=s_size(c), b=3) for c in (0, 3, 8)] +
        [s_corrupt("cookie"), s_corrupt("size_class"), s_corrupt("list"),
         s_corrupt("list", slab=1, c=16), s_corrupt("count"), s_corrupt("free"),
         s_corrupt("words"), s_corrupt("hint"), s_corrupt("hint", c=64),
         s_corrupt("free_map"), s_corrupt("free_map", slab=1, c=63),
         s_corrupt("free_map", slab=2, c=5), s_corrupt("pending_map", c=3),
         s_corrupt("owner"), s_corrupt("class_count"), s_corrupt("class_slab_pages", cls=3),
         s_corrupt("class_first_offset", cls=8), s_corrupt("class_slabs"),
         s_corrupt("class_slabs", cls=5), s_corrupt("class_in_use"), s_corrupt("magic"),
         s_corrupt("first_offset"), s_corrupt("remote", slab=1), s_corrupt("free_hint"),
         s_corrupt("free_hint_bytes", c=32)])
    # A free count that contradicts the slab's list (partial with none free, full with
    # some free, empty with not all free), a back link, the page size.
    s["corrupt_lists"] = s_head(cpus=1) + b"".join([
        rec(S["ALLOC_MANY"], a=s_size(0), b=2),                 # class 0 partial: 486 free
        rec(S["ALLOC_MANY"], a=s_size(8), b=14),                # class 8: one full slab
        rec(S["ALLOC"], a=s_size(5)), rec(S["FREE"], a=18),    # class 5: cached empty
        s_corrupt("free", slab=0, c=(486 - 1) << 4),             # free ^ 486 = 0
        s_corrupt("free", cls=8, slab=1), s_corrupt("free", cls=8, slab=2),
        s_corrupt("free", cls=5, slab=2), s_corrupt("free", cls=5, slab=3),
        s_corrupt("prev", slab=0), s_corrupt("prev", slab=1),
        s_corrupt("page_size"), s_corrupt("page_size", c=16)])
    s["double_free"] = s_head() + b"".join([
        rec(S["ALLOC"], a=s_size(2)), rec(S["ALLOC"], a=s_size(2)), rec(S["FREE"], a=0),
        rec(S["DOUBLE"], cpu=0, a=0), rec(S["DOUBLE"], cpu=1, a=0), rec(S["REMOTE"], a=0),
        rec(S["DOUBLE"], cpu=1, a=1), rec(S["ALLOC"], a=s_size(2))])
    s["cross_cpu"] = s_head(cpus=4) + b"".join(
        [rec(S["ALLOC_MANY"], cpu=c, a=s_size(c), b=10) for c in range(4)] +
        [rec(S["FREE"], cpu=4, a=i) for i in range(4)] +
        [rec(S["REMOTE"], a=i) for i in range(8)] +
        [rec(S["RECLAIM"], cpu=c, a=0) for c in range(4)])
    s["page_failure"] = s_head(cpus=1, pages=64) + b"".join([
        rec(S["ALLOC"], cpu=0x80, a=s_size(0)), rec(S["ALLOC_MANY"], a=s_size(8), b=127),
        rec(S["ALLOC_MANY"], a=s_size(8), b=127), rec(S["ALLOC_MANY"], a=s_size(8), b=127),
        rec(S["ALLOC"], a=s_size(5)), rec(S["FREE_MANY"], a=0), rec(S["ALLOC"], a=s_size(5))])
    s["bad_inputs"] = s_head() + b"".join(
        [rec(S["ALLOC"], a=s_size(4))] +
        [rec(S["BAD_ADD"], cpu=v << 2, a=v, b=1, c=3) for v in range(6)] +
        [rec(S["BAD_CALLS"], cpu=v << 2, a=v, b=100 * v) for v in range(10)] +
        [rec(S["FREE"], a=0, b=v, c=w) for v in (4, 5, 6, 7) for w in (5, 6, 7)] +
        [rec(S["UNINIT"], cpu=v << 2, a=v) for v in range(4)] +
        [rec(S["QUERY"], a=a, b=b) for a, b in ((0, 0), (9, 3), (2048, 0), (2049, 0), (8, 0x8003))])
    for sel, name in ((5, "8k"), (6, "16k"), (7, "64k")):
        s["pages_" + name] = s_head(page_sel=sel) + b"".join(
            [rec(S["ALLOC_MANY"], a=s_size(c), b=5) for c in (0, 4, 8)] +
            [rec(S["REMOTE"], a=1), rec(S["FREE_MANY"], a=0), rec(S["RECLAIM"], a=0)])
    return s


# ---- fuzz_allocator --------------------------------------------------------------------
A = dict(ALLOC=0, FREE=4, FREE_SIZED=7, REALLOC=8, USABLE=9, ALLOC_PAGES=10, FREE_PAGES=11,
         ADD_REGION=12, RECLAIM=13, FILL_PAGES=14, FREE_ALL_PAGES=15, DOUBLE_FREE=16, WILD=17,
         BAD_CALLS=18, UNINIT=19, ALLOC_MANY=20, FREE_MANY=21, CORRUPT=24)


def a_head(page_sel=0, cpus=2, translate=False, phys_mode=2, pages=128, off64=64,
           exclusive=False):
    h0 = page_sel | (0x80 if exclusive else 0)  # 0x80: BSA_CPU_EXCLUSIVE
    h1 = (cpus - 1) | (0x10 if translate else 0) | (phys_mode << 5)
    return struct.pack("<BBHHH", h0, h1, pages - 64, off64, 20)


def a_small(n):  # decode_size: exact sizes up to 2047, and 2048
    return 4 << 13 if n == 2048 else (3 << 13) | n


def a_large(n):  # 2049 + n, n < 8192; else n rounded down to 16 bytes
    return (5 << 13) | n if n < 8192 else (6 << 13) | (n // 16)


def allocator_seeds():
    s = {}
    s["small_local"] = a_head(cpus=1) + b"".join(
        [rec(A["ALLOC"], a=a_small(n)) for n in (1, 8, 24, 100, 512, 2000, 0)] +
        [rec(A["FREE"], a=i) for i in (0, 2)] + [rec(A["USABLE"], a=1)] +
        [rec(A["FREE_SIZED"], a=0, b=0), rec(A["FREE_SIZED"], a=0, b=5)])
    s["remote"] = a_head(cpus=3) + b"".join([
        rec(A["ALLOC_MANY"], cpu=0, a=a_small(64), b=10),
        rec(A["FREE"], cpu=1, a=0), rec(A["FREE"], cpu=2, a=1), rec(A["FREE"], cpu=1, a=0),
        rec(A["USABLE"], cpu=2, a=0), rec(A["ALLOC"], cpu=0, a=a_small(64)),
        rec(A["FREE_MANY"], cpu=1, a=1), rec(A["RECLAIM"], cpu=1), rec(A["RECLAIM"], cpu=0)])
    # Corrupt what only bsa_check sees (cpu selects it): block kinds against the slab
    # census, a CPU's id, the CPU count, a slab's class and owner, a block's order (6);
    # then OK again. 5, a page cache, is in page_cache.
    s["corrupt"] = a_head(cpus=2) + b"".join(
        [rec(A["ALLOC_MANY"], cpu=0, a=a_small(64), b=3),
         rec(A["ALLOC_MANY"], cpu=1, a=a_small(8), b=3),
         rec(A["ALLOC"], a=a_large(5000)), rec(A["ALLOC_PAGES"], a=1)] +
        [rec(A["CORRUPT"], cpu=sel, a=a_, b=b, c=c) for sel, a_, b, c in (
            (0, 0, 0, 0), (0, 0, 0, 1), (0, 0, 1, 2), (0, 0, 2, 0), (0, 0, 3, 2), (0, 0, 3, 1),
            (1, 0, 0, 0), (1, 1, 0, 5), (2, 0, 0, 0), (2, 0, 0, 1), (3, 0, 0, 0), (3, 0, 1, 7),
            (4, 0, 0, 0), (4, 0, 0, 1), (4, 0, 1, 0), (6, 0, 0, 0), (6, 0, 2, 1))])
    s["large"] = a_head() + b"".join(
        [rec(A["ALLOC"], a=a_large(n), b=b) for n, b in ((0, 0), (5000, 4 | (13 << 3)), (100, 3))] +
        [rec(A["FREE_SIZED"], a=0, b=0), rec(A["USABLE"], a=1, b=1), rec(A["FREE"], a=1)])
    s["realloc"] = a_head(cpus=2) + b"".join([
        rec(A["REALLOC"], a=0, b=a_small(10), c=0), rec(A["REALLOC"], a=0, b=a_small(12), c=1),
        rec(A["REALLOC"], a=0, b=a_small(300), c=1), rec(A["REALLOC"], a=0, b=a_large(10), c=2),
        rec(A["REALLOC"], cpu=1, a=0, b=a_small(5), c=1), rec(A["REALLOC"], a=0, b=0, c=1)])
    s["pages_pressure"] = a_head(cpus=2, pages=64) + b"".join([
        rec(A["ALLOC"], a=a_small(32)), rec(A["FILL_PAGES"], a=0),
        rec(A["ALLOC_MANY"], a=a_small(2048), b=20), rec(A["ALLOC"], cpu=1, a=a_small(16)),
        rec(A["FREE_ALL_PAGES"], a=0), rec(A["ALLOC"], cpu=1, a=a_small(16)),
        rec(A["ALLOC_PAGES"], a=3, b=4 | (2 << 3), c=0), rec(A["FREE_PAGES"], a=0, b=1)])
    s["lowmem"] = a_head(translate=True, phys_mode=2) + b"".join(
        [rec(A["ALLOC_PAGES"], a=n, c=1) for n in (0, 1, 3, 7)] +
        [rec(A["FILL_PAGES"], a=0, b=1), rec(A["FREE_PAGES"], a=0, b=1)])
    s["regions"] = a_head(pages=64, off64=1024) + b"".join([
        rec(A["ADD_REGION"], cpu=0, a=40, b=0), rec(A["ADD_REGION"], cpu=3, a=20, b=0),
        rec(A["ADD_REGION"], cpu=2, a=20, b=0, c=700), rec(A["ADD_REGION"], cpu=4, c=100),
        rec(A["ADD_REGION"], cpu=0x70), rec(A["FILL_PAGES"], a=1),
        rec(A["ALLOC"], a=a_small(100))])
    s["bad_inputs"] = a_head() + b"".join(
        [rec(A["ALLOC"], a=a_small(40)), rec(A["ALLOC"], a=a_large(3000)),
         rec(A["ALLOC_PAGES"], a=1)] +
        [rec(A["WILD"], a=v, b=3, c=w) for v in range(12) for w in (0, 1, 3)] +
        [rec(A["BAD_CALLS"], cpu=v, a=v, b=v) for v in range(8)] +
        [rec(A["UNINIT"], cpu=v, a=v) for v in range(8)] +
        [rec(A["ALLOC"], a=(7 << 13) | v) for v in range(8)] +
        [rec(A["DOUBLE_FREE"], a=0, b=v) for v in range(4)] +
        [rec(A["FREE"], a=0), rec(A["DOUBLE_FREE"], a=0, b=0), rec(A["DOUBLE_FREE"], a=0, b=1)])
    for sel, name in ((5, "8k"), (6, "16k"), (7, "64k")):
        s["pages_" + name] = a_head(page_sel=sel, cpus=2, pages=64) + b"".join(
            [rec(A["ALLOC_MANY"], a=a_small(n), b=4) for n in (8, 200, 2048)] +
            [rec(A["ALLOC"], a=a_large(50000)), rec(A["FREE_MANY"], cpu=1, a=1),
             rec(A["RECLAIM"], cpu=0)])
    # Exclusive mode's per-CPU page caches: hits, a miss on alignment, a free into another
    # CPU's cache, a double free of a cached block, full stacks spilling to the buddy, a
    # NOMEM that gives the cache back, reclaim.
    s["page_cache"] = a_head(cpus=2, pages=64, exclusive=True) + b"".join(
        [rec(A["ALLOC_PAGES"], a=n) for n in (0, 0, 0, 1, 3, 7, (6 << 13) | 4)] +
        [rec(A["FREE_PAGES"], a=0, b=1), rec(A["FREE_PAGES"], a=0, b=1),
         rec(A["ALLOC_PAGES"], a=0), rec(A["ALLOC_PAGES"], a=0, b=4 | (3 << 3)),
         rec(A["FREE_PAGES"], cpu=1, a=1, b=1), rec(A["ALLOC_PAGES"], cpu=1, a=0),
         rec(A["DOUBLE_FREE"], a=0, b=2), rec(A["DOUBLE_FREE"], a=0, b=0),
         rec(A["DOUBLE_FREE"], a=0, b=3), rec(A["FILL_PAGES"], a=0),
         rec(A["FREE_ALL_PAGES"], a=1), rec(A["ALLOC"], a=a_large(5000)),
         rec(A["FILL_PAGES"], cpu=1, a=1), rec(A["ALLOC"], a=a_small(64)),
         rec(A["FREE_ALL_PAGES"], cpu=1, a=1)] +
        [rec(A["CORRUPT"], cpu=5, a=cpu, b=b, c=c) for cpu in (0, 1) for b, c in
         ((0, 0), (1, 2), (2, 4), (3, 6), (0, 1), (1, 3))] +
        [rec(A["RECLAIM"], cpu=0), rec(A["RECLAIM"], cpu=1)])
    # The same scenarios with BSA_CPU_EXCLUSIVE (no per-CPU lock, the inlined fast paths).
    for name in ("small_local", "remote", "realloc", "bad_inputs", "pages_pressure"):
        s[name + "_exclusive"] = bytes([s[name][0] | 0x80]) + s[name][1:]
    return s


TARGETS = {"fuzz_buddy": (buddy_seeds, B), "fuzz_slab": (slab_seeds, S),
           "fuzz_allocator": (allocator_seeds, A)}


def dict_entries(ops):
    """Whole op records: each op with a few typical argument patterns."""
    out = []
    for name, code in sorted(ops.items(), key=lambda kv: kv[1]):
        for cpu, a, b, c in ((0, 0, 0, 0), (1, 1, 0, 0), (0, 0x6003, 5, 1), (2, 0xFFFF, 0xFFFF, 7)):
            out.append((f"{name.lower()}_{cpu}_{a:x}_{b:x}_{c:x}", rec(code, cpu, a, b, c)))
    return out


def main():
    for target, (seeds, ops) in TARGETS.items():
        # Named seeds are rewritten; inputs merged in from fuzzing runs (named by their
        # SHA-1, see README.md) stay.
        d = os.path.join(HERE, "corpus", target)
        os.makedirs(d, exist_ok=True)
        for name, data in seeds().items():
            with open(os.path.join(d, name), "wb") as f:
                f.write(data)
        os.makedirs(os.path.join(HERE, "dict"), exist_ok=True)
        with open(os.path.join(HERE, "dict", target + ".dict"), "w") as f:
            f.write(f"# {target}: whole 8-byte op records (written by gen_corpus.py)\n")
            for name, data in dict_entries(ops):
                f.write(name + '="' + "".join(f"\\x{x:02x}" for x in data) + '"\n')
        print(f"{target}: {len(seeds())} seeds, {len(dict_entries(ops))} dictionary entries")


if __name__ == "__main__":
    main()
