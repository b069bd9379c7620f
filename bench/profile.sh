#!/bin/sh
# Profile costs: load+parse+resolve of the default profile (target: well
# under 1 ms), its digest, and one decide().  Needs $BUILD/libstockade.a.
set -eu
BUILD=${BUILD:-build}
here=$(dirname "$0")
bin="$BUILD/bench/profile_bench"
mkdir -p "$BUILD/bench"
${CC:-cc} -std=gnu11 -O2 -D_GNU_SOURCE -Iinclude -o "$bin" "$here/profile_bench.c" \
	"$BUILD/libstockade.a" $(pkg-config --libs libseccomp libsodium jansson)
"$bin" profiles/default "${PROFILE_BENCH_N:-2000}"
"$bin" profiles/strict "${PROFILE_BENCH_N:-2000}" | head -1 | sed 's/^load/strict: load/'
