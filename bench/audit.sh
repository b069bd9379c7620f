#!/bin/sh
# Receipts: cost per receipt (canonical form, SHA-256, ed25519 signature,
# one write, fdatasync, under the log lock) and verify throughput.
#   BUILD=build sh bench/audit.sh [N]
# Target: verify >= 50,000 receipts/s.
# The append cost is measured on the disk the state directory would live
# on; the N receipts for the verify figures are written to tmpfs when there
# is one (fsync costs nothing there, and verify reads from the page cache
# either way).  Each verify figure is the best of 3 runs, whole process
# included.
set -eu
BUILD=${BUILD:-build}
N=${1:-20000}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=$ROOT/$BUILD/stockade
TMP=$(mktemp -d "${TMPDIR:-/var/tmp}/sk-audit-bench.XXXXXX")
FAST=$TMP
if [ -d /dev/shm ] && [ -w /dev/shm ]; then
	FAST=$(mktemp -d /dev/shm/sk-audit-bench.XXXXXX)
fi
trap 'rm -rf "$TMP" "$FAST"' EXIT
cc -I"$ROOT/include" -D_GNU_SOURCE -O2 $(pkg-config --cflags jansson) -o "$TMP/gen" \
	"$ROOT/bench/audit_gen.c" "$ROOT/$BUILD/libstockade.a" $(pkg-config --libs libsodium jansson)

echo "== receipts: append with fsync + ed25519 (state dir on $(df -P "$TMP" | awk 'NR==2 {print $1}'))"
"$TMP/gen" "$TMP/s" 2000 1024 | sed 's/^/append 2000: /'
echo "== receipts: $N for the verify figures (on $(df -P "$FAST" | awk 'NR==2 {print $1}'))"
"$TMP/gen" "$FAST/s" "$N" 1024 | sed 's/^/append: /'
bytes=$(stat -c %s "$FAST/s/receipts.jsonl")
echo "log: $N receipts, $bytes bytes ($((bytes / N)) bytes/receipt)"

rate() {   # label, command...
	label=$1; shift
	best=0
	for i in 1 2 3; do
		t0=$(date +%s%N)
		"$@" >/dev/null
		t1=$(date +%s%N)
		us=$(( (t1 - t0) / 1000 ))
		[ "$us" -gt 0 ] || us=1
		if [ "$best" -eq 0 ] || [ "$us" -lt "$best" ]; then best=$us; fi
	done
	echo "$label: $((N * 1000000 / best)) receipts/s ($((best / 1000)) ms for $N, best of 3)"
}
rate "verify (anchored signatures, every hash and link)" "$BIN" verify --state-dir "$FAST/s"
rate "verify --every-signature" "$BIN" verify --every-signature --state-dir "$FAST/s"
