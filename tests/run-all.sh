#!/bin/sh
# make test: unit tests (check, TAP) and integration tests (bats, TAP), the
# latter once as root and once as an unprivileged user (nobody) when run as
# root.  Ends with one line: "N passed, N failed, N skipped".
set -u
BUILD=${BUILD:-build}
ONLY=${ONLY:-all}
export BUILD
STOCKADE_BIN=$(cd "$BUILD" && pwd)/stockade
export STOCKADE_BIN
pass=0 fail=0 skip=0
out=$(mktemp)
trap 'rm -f "$out"' EXIT

# Count TAP lines of one run; a runner that dies without TAP is one failure.
tally() {
	name=$1 rc=$2
	p=$(grep -c '^ok ' "$out" | head -1)
	s=$(grep -E -c '^ok .*# (skip|SKIP)' "$out" | head -1)
	f=$(grep -c '^not ok' "$out" | head -1)
	p=$((p - s))
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "FAIL: $name exited $rc without reporting a failing test" >&2
		f=1
	fi
	pass=$((pass + p)); fail=$((fail + f)); skip=$((skip + s))
	printf '%-44s %4d passed %3d failed %3d skipped %4ds\n' "$name" "$p" "$f" "$s" $(($(date +%s) - t0))
}
started=$(date +%s)

if [ "$ONLY" != integration ]; then
	for t in "$BUILD"/tests/test_*; do
		case $t in *.o|*.d) continue ;; esac
		[ -x "$t" ] || continue
		t0=$(date +%s)
		CK_TAP_LOG_FILE_NAME=- CK_VERBOSITY=silent "$t" >"$out" 2>&1
		rc=$?
		grep '^not ok' "$out" >&2
		tally "unit $(basename "$t")" "$rc"
	done
fi

# Fuzz targets (libFuzzer, ASan+UBSan) for a bounded time each.
if [ "$ONLY" = all ]; then
	t0=$(date +%s)
	FUZZ_SECONDS=${FUZZ_SECONDS:-8} BUILD="$BUILD-fuzz" sh tests/fuzz.sh >"$out" 2>&1
	rc=$?
	grep '^not ok' -A30 "$out" >&2
	tally "fuzz tests/fuzz/*.c" "$rc"
fi

run_bats() {
	who=$1; shift
	for f in integration/*.bats integration/corpus/*.bats; do
		[ -f "$f" ] || continue
		t0=$(date +%s)
		if [ "$who" = root ]; then
			bats --tap "$f" >"$out" 2>&1
		else
			setpriv --reuid=nobody --regid=nogroup --clear-groups \
				env HOME=/nonexistent bats --tap "$f" >"$out" 2>&1
		fi
		rc=$?
		grep -A12 '^not ok' "$out" >&2
		tally "$who $f" "$rc"
	done
}

if [ "$ONLY" != unit ]; then
	if [ "$(id -u)" -eq 0 ]; then
		run_bats root
		run_bats nobody
	else
		run_bats "$(id -un)"
	fi
fi

echo "# $(($(date +%s) - started)) s in all"
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
