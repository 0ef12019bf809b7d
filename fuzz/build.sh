#!/usr/bin/env bash
# Builds one libFuzzer executable per harness in fuzz/harnesses/ into
# .build/fuzz/<target> (all of them, or only the targets named as arguments).
#
# One Swift module, named Ranker, is compiled ONCE by swiftc with
# -sanitize=fuzzer,address -parse-as-library from
#   Sources/Ranker/**/*.swift  Sources/RankerReport/*.swift
#   fuzz/FuzzSupport.swift     fuzz/harnesses/*.swift
# into .build/fuzz/libRankerFuzz.a (RankerReport's `import Ranker` is then an
# import of its own module, which swiftc ignores). Each harness exports its
# entry point as `ranker_fuzz_<target>`; each executable is that archive
# linked whole with libFuzzer's main, its LLVMFuzzerTestOneInput being the
# target's entry point (`--defsym`). So the library and the harnesses are one
# module, compiled once (about 4-5 minutes at -O on 2 cores) instead of once
# per target.
#
# C modules: CBLAS and CZlib from Modules/ (-I), OpenBLAS's headers from
# pkg-config; the link adds -lopenblas -llapacke -lz, as the module maps ask.
# CRankerKernels (Sources/CRankerKernels: the layers' C loops) is compiled by
# clang with the same sanitizers into the same archive, its module map found
# through -I Sources/CRankerKernels/include.
#
# Environment: SWIFTC (default swiftc), FUZZ_OPT (default -O),
# FUZZ_BUILD_DIR (default .build/fuzz).
set -euo pipefail
cd "$(dirname "$0")/.."
SWIFTC=${SWIFTC:-swiftc}
OUT=${FUZZ_BUILD_DIR:-.build/fuzz}
OPT=${FUZZ_OPT:--O}
mkdir -p "$OUT"

shopt -s globstar nullglob
harnesses=(fuzz/harnesses/*.swift)
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  for f in "${harnesses[@]}"; do targets+=("$(basename "$f" .swift)"); done
fi
for target in "${targets[@]}"; do
  [ -f "fuzz/harnesses/$target.swift" ] || { echo "no harness fuzz/harnesses/$target.swift" >&2; exit 1; }
done

sources=(Sources/Ranker/**/*.swift Sources/RankerReport/*.swift fuzz/FuzzSupport.swift "${harnesses[@]}")
blas_cflags=$(pkg-config --cflags-only-I openblas 2>/dev/null || true)
blas_libdirs=$(pkg-config --libs-only-L openblas 2>/dev/null || true)
xcc=()
for flag in $blas_cflags; do xcc+=(-Xcc "$flag"); done
archive=$OUT/libRankerFuzz.a

# Rebuild the archive only when a source is newer than it.
stale=0
[ -f "$archive" ] || stale=1
if [ $stale = 0 ]; then
  for s in "${sources[@]}" fuzz/build.sh; do [ "$s" -nt "$archive" ] && { stale=1; break; }; done
fi
c_sources=(Sources/CRankerKernels/*.c)
if [ $stale = 0 ]; then
  for s in "${c_sources[@]}" Sources/CRankerKernels/*.h Sources/CRankerKernels/include/*; do
    [ "$s" -nt "$archive" ] && { stale=1; break; }
  done
fi
if [ $stale = 1 ]; then
  echo "compiling ${#c_sources[@]} C files of CRankerKernels (-fsanitize=fuzzer-no-link,address)"
  mkdir -p "$OUT/c"
  c_objects=()
  for c in "${c_sources[@]}"; do
    object="$OUT/c/$(basename "$c" .c).o"
    clang -fsanitize=fuzzer-no-link,address -O2 -g -I Sources/CRankerKernels/include \
      -c "$c" -o "$object"
    c_objects+=("$object")
  done
  echo "compiling ${#sources[@]} Swift files into $archive (-sanitize=fuzzer,address $OPT)"
  "$SWIFTC" -sanitize=fuzzer,address -parse-as-library $OPT -g \
    -module-name Ranker -swift-version 5 -suppress-warnings \
    -I Modules/CBLAS -I Modules/CZlib -I Sources/CRankerKernels/include "${xcc[@]}" \
    -module-cache-path "$OUT/module-cache" \
    -emit-library -static -o "$archive" "${sources[@]}"
  ar rs "$archive" "${c_objects[@]}" 2>/dev/null
fi

for target in "${targets[@]}"; do
  echo "linking $OUT/$target"
  # ld.gold's "Cannot export local symbol __asan_*" warnings are noise; drop them.
  "$SWIFTC" -sanitize=fuzzer,address \
    -Xlinker --whole-archive "$archive" -Xlinker --no-whole-archive \
    -Xlinker "--defsym=LLVMFuzzerTestOneInput=ranker_fuzz_$target" \
    $blas_libdirs -lopenblas -llapacke -lz \
    -o "$OUT/$target" 2> >(grep -v "Cannot export local symbol" >&2)
done
