#!/bin/sh
# Receipts: cost per receipt (canonical form, SHA-256, ed25519 signature,
# one write, fdatasync, under the log lock) and verify throughput.
#   BUILD=build sh bench/audit.sh [N]
# Target: verify >= 50,000 receipts/s.
set -eu
BUILD=${BUILD:-build}
N=${1:-20000}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=$ROOT/$BUILD/stockade
TMP=$(mktemp -d "${TMPDIR:-/var/tmp}/sk-audit-bench.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
cc -I"$ROOT/include" -D_GNU_SOURCE -O2 $(pkg-config --cflags jansson) -o "$TMP/gen" \
	"$ROOT/bench/audit_gen.c" "$ROOT/$BUILD/libstockade.a" $(pkg-config --libs libsodium jansson)

echo "== receipts: append with fsync + ed25519 (state dir on $(df -P "$TMP" | awk 'NR==2 {print $1}'))"
"$TMP/gen" "$TMP/s" 2000 1024 | sed 's/^/append 2000: /'
echo "== receipts: $N more, for the verify figures"
"$TMP/gen" "$TMP/s" "$N" 1024 | sed 's/^/append: /'
bytes=$(stat -c %s "$TMP/s/receipts.jsonl")
total=$((N + 2000))
echo "log: $total receipts, $bytes bytes ($((bytes / total)) bytes/receipt)"

rate() {   # label, command...
	label=$1; shift
	t0=$(date +%s%N)
	"$@" >/dev/null
	t1=$(date +%s%N)
	ms=$(( (t1 - t0) / 1000000 ))
	[ "$ms" -gt 0 ] || ms=1
	echo "$label: $((total * 1000 / ms)) receipts/s ($ms ms for $total)"
}
rate "verify (anchored signatures, every hash and link)" "$BIN" verify --state-dir "$TMP/s"
rate "verify --every-signature" "$BIN" verify --every-signature --state-dir "$TMP/s"
