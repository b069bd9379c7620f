#!/bin/sh
# make fuzz: build every tests/fuzz/fuzz_*.c as a libFuzzer target under
# ASan+UBSan and run each for FUZZ_SECONDS (default 20).  A target names the
# src/ parts it needs in a comment line "fuzz-parts: util policy".  Seeds:
# tests/fuzz/corpus/<target>/ plus, for fuzz_profile, the shipped profiles.
# Prints one "ok"/"not ok" line per target (TAP); exits non-zero on a finding.
set -u
BUILD=${BUILD:-build-fuzz}
SECONDS_EACH=${FUZZ_SECONDS:-20}
CC=${FUZZ_CC:-clang}
PKGS="libseccomp libsodium jansson zlib libhs"
out="$BUILD/fuzz"
mkdir -p "$out"
if ! command -v "$CC" >/dev/null 2>&1; then
	echo "1..0 # SKIP $CC not installed (apt-get install clang)"
	exit 0
fi
n=0 failed=0
targets=$(ls tests/fuzz/fuzz_*.c 2>/dev/null)
echo "1..$(echo "$targets" | grep -c .)"
for t in $targets; do
	n=$((n + 1))
	name=$(basename "$t" .c)
	parts=$(sed -n 's/.*fuzz-parts:[[:space:]]*\([a-z ]*\).*/\1/p' "$t" | head -1)
	srcs=""
	# The fuzzers compile rules in process: the helper's main and the code
	# that spawns it (Makefile: RULEC_SRC, EXEC_SRC) stay out.
	for p in ${parts:-util}; do
		srcs="$srcs $(ls src/$p/*.c | grep -v -e '/rulec_main\.c$' -e '/compile_exec\.c$')"
	done
	bin="$out/$name"
	if ! $CC -g -O1 -std=gnu11 -D_GNU_SOURCE -Iinclude -DSTOCKADE_VERSION='"fuzz"' \
		-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
		$(pkg-config --cflags $PKGS) "$t" $srcs -o "$bin" $(pkg-config --libs $PKGS) \
		>"$out/$name.build.log" 2>&1; then
		echo "not ok $n - $name: does not build (see $out/$name.build.log)"
		failed=$((failed + 1))
		continue
	fi
	corpus="$out/$name.corpus"
	mkdir -p "$corpus"
	[ -d "tests/fuzz/corpus/$name" ] && cp -n tests/fuzz/corpus/$name/* "$corpus"/ 2>/dev/null
	if [ "$name" = fuzz_profile ]; then
		for f in profiles/*; do cp -n "$f" "$corpus/seed-$(basename "$f")" 2>/dev/null; done
	fi
	if "$bin" -max_total_time="$SECONDS_EACH" -max_len=8192 -timeout=10 -rss_limit_mb=1024 \
		-artifact_prefix="$out/$name-" "$corpus" >"$out/$name.log" 2>&1; then
		echo "ok $n - $name: $(grep -o 'Done [0-9]* runs' "$out/$name.log" | tail -1) in ${SECONDS_EACH}s"
	else
		echo "not ok $n - $name: finding, see $out/$name.log and $out/$name-*"
		tail -30 "$out/$name.log" | sed 's/^/# /'
		failed=$((failed + 1))
	fi
done
[ "$failed" -eq 0 ]
