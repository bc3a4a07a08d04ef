#!/bin/bash -eu
# OSS-Fuzz / ClusterFuzzLite build of bsa's differential fuzzers. Uses only what the
# build environment gives: $CC $CFLAGS $CXX $CXXFLAGS $LIB_FUZZING_ENGINE $SRC $OUT.
# The core, the reference model and each harness are compiled with $CC $CFLAGS (so
# they carry the engine's instrumentation and sanitizer); the link is $CXX with
# $LIB_FUZZING_ENGINE, which brings the engine's main. For each target it writes
# $OUT/<target>, <target>_seed_corpus.zip, <target>.dict and <target>.options.
# .clusterfuzzlite/build.sh is this file (ci/oss-fuzz/check.sh verifies they match).

src=$SRC/bsa
objs=$(mktemp -d)
inc=(-I"$src/core/include" -I"$src/core/src" -I"$src/fuzz/model" -I"$src/fuzz/common")

# compile DIR PREFIX: every .c of DIR into $objs/PREFIX_<name>.o
compile() {
  for f in "$1"/*.c; do
    $CC $CFLAGS -std=gnu11 "${inc[@]}" -c "$f" -o "$objs/$2_$(basename "$f" .c).o"
  done
}
compile "$src/core/src" core
compile "$src/fuzz/model" model
compile "$src/fuzz/common" common

for target in fuzz_buddy fuzz_slab fuzz_allocator; do
  $CC $CFLAGS -std=gnu11 "${inc[@]}" -c "$src/fuzz/$target.c" -o "$objs/$target.o"
  $CXX $CXXFLAGS "$objs/$target.o" "$objs"/core_*.o "$objs"/model_*.o "$objs"/common_*.o \
    $LIB_FUZZING_ENGINE -o "$OUT/$target"
  (cd "$src/fuzz/corpus/$target" && zip -q -j "$OUT/${target}_seed_corpus.zip" ./*)
  cp "$src/fuzz/dict/$target.dict" "$OUT/$target.dict"
  printf '[libfuzzer]\ndict = %s.dict\nmax_len = 1024\n' "$target" > "$OUT/$target.options"
done
rm -rf "$objs"
