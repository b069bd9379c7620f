#!/usr/bin/env bats
# Receipt logs end to end: the signing key, verify on intact and tampered
# logs (each tamper named by its line), torn lines, concurrent writers, kill -9
# at random points, rotation.  Logs are written through sk_audit_append by
# bench/audit_gen.c, built here against the library.

setup_file() {
	ROOT=$(cd "$BATS_TEST_DIRNAME/.." && pwd)
	BUILD_DIR=$(cd "$ROOT/${BUILD:-build}" && pwd)
	cc -I"$ROOT/include" -D_GNU_SOURCE -O2 $(pkg-config --cflags jansson) \
		-o "$BATS_FILE_TMPDIR/audit_gen" "$ROOT/bench/audit_gen.c" "$BUILD_DIR/libstockade.a" \
		$(pkg-config --libs libsodium jansson)
}

setup() {
	GEN=$BATS_FILE_TMPDIR/audit_gen
	S=$BATS_TEST_TMPDIR/state
	LOG=$S/receipts.jsonl
}

# line N of the log replaced by the output of a sed expression on it
edit_line() {
	sed -i "$1s/$2/$3/" "$LOG"
}

@test "key: made on first use, 0600 in a 0700 directory; export is PEM" {
	run "$STOCKADE_BIN" key show --state-dir "$S"
	[ "$status" -eq 0 ]
	[[ "$output" == *"key id:"* ]]
	[ "$(stat -c %a "$S/signing.key")" = 600 ]
	[ "$(stat -c %a "$S")" = 700 ]
	id1=$("$STOCKADE_BIN" key show --state-dir "$S" --json | sed 's/.*"key_id": *"\([0-9a-f]*\)".*/\1/')
	[ ${#id1} -eq 16 ]
	run "$STOCKADE_BIN" key export --state-dir "$S"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "-----BEGIN PUBLIC KEY-----" ]
	run "$STOCKADE_BIN" key frobnicate --state-dir "$S"
	[ "$status" -eq 125 ]
}

@test "verify: an untouched log verifies, with the default and an exported key" {
	"$GEN" "$S" 50 8
	run "$STOCKADE_BIN" verify --state-dir "$S"
	[ "$status" -eq 0 ]
	[[ "$output" == "ok: 56 records (50 receipts, 6 checkpoints) in 1 file(s)"* ]]
	"$STOCKADE_BIN" key export --state-dir "$S" --out "$BATS_TEST_TMPDIR/k.pem"
	run "$STOCKADE_BIN" verify --key "$BATS_TEST_TMPDIR/k.pem" --every-signature "$LOG"
	[ "$status" -eq 0 ]
	run "$STOCKADE_BIN" verify --state-dir "$S" --json
	[[ "$output" == *'"ok": true'* ]]
}

@test "verify: a flipped byte is named by its line" {
	"$GEN" "$S" 20 8
	edit_line 7 '"turn":\([0-9]\)' '"turn":9\1'
	run "$STOCKADE_BIN" verify --state-dir "$S"
	[ "$status" -eq 1 ]
	[[ "$output" == "$LOG:7: hash mismatch"* ]]
}

@test "verify: a changed signature is named by its line" {
	"$GEN" "$S" 20 8
	# change the first base64 character of line 4's signature (always to a
	# different one: A becomes B, anything else becomes A)
	sed -i '4s/"sig":"A/"sig":"#/; 4s/"sig":"[^#]/"sig":"A/; 4s/"sig":"#/"sig":"B/' "$LOG"
	run "$STOCKADE_BIN" verify --state-dir "$S"
	[ "$status" -eq 1 ]
	[[ "$output" == "$LOG:4: bad signature"* ]]
}

@test "verify: a dropped line, reordered lines, a duplicated line" {
	"$GEN" "$S" 20 8
	cp "$LOG" "$BATS_TEST_TMPDIR/orig"
	sed -i '5d' "$LOG"
	run "$STOCKADE_BIN" verify --state-dir "$S"
	[ "$status" -eq 1 ]
	[[ "$output" == "$LOG:5: seq 6 follows seq 4"* ]]
	awk 'NR==3 {held=$0; next} NR==4 {print; print held; next} {print}' "$BATS_TEST_TMPDIR/orig" >"$LOG"
	run "$STOCKADE_BIN" verify --state-dir "$S"
	[ "$status" -eq 1 ]
	[[ "$output" == "$LOG:3: seq 4 follows seq 2"* ]]
	sed -n '1,6p;6,$p' "$BATS_TEST_TMPDIR/orig" >"$LOG"
	run "$STOCKADE_BIN" verify --state-dir "$S"
	[ "$status" -eq 1 ]
	[[ "$output" == "$LOG:7:"* ]]
	cp "$BATS_TEST_TMPDIR/orig" "$LOG"
	run "$STOCKADE_BIN" verify --state-dir "$S"
	[ "$status" -eq 0 ]
}

@test "verify: two logs spliced together (same key) break at the seam" {
	"$GEN" "$S" 20 8
	mkdir -p "$BATS_TEST_TMPDIR/other"
	cp -p "$S/signing.key" "$BATS_TEST_TMPDIR/other/"
	"$GEN" "$BATS_TEST_TMPDIR/other" 20 8
	{ sed -n '1,9p' "$LOG"; sed -n '10,$p' "$BATS_TEST_TMPDIR/other/receipts.jsonl"; } >"$BATS_TEST_TMPDIR/spliced"
	run "$STOCKADE_BIN" verify --state-dir "$S" "$BATS_TEST_TMPDIR/spliced"
	[ "$status" -eq 1 ]
	[[ "$output" == "$BATS_TEST_TMPDIR/spliced:10: prev"* ]]
}

@test "verify: a log signed by another key is refused" {
	"$GEN" "$S" 5
	"$STOCKADE_BIN" key export --state-dir "$BATS_TEST_TMPDIR/k2" --out "$BATS_TEST_TMPDIR/k2.pem"
	run "$STOCKADE_BIN" verify --key "$BATS_TEST_TMPDIR/k2.pem" "$LOG"
	[ "$status" -eq 1 ]
	[[ "$output" == "$LOG:1: signed by key"*"not among the trusted keys" ]]
	run "$STOCKADE_BIN" verify --key /nonexistent.pem "$LOG"
	[ "$status" -eq 125 ]
}

@test "torn last line: verify names it; the next writer cuts it and records a recovery" {
	"$GEN" "$S" 6
	printf '{"attempt":1,"cha' >>"$LOG"
	run "$STOCKADE_BIN" verify --state-dir "$S"
	[ "$status" -eq 1 ]
	[[ "$output" == "$LOG:7: torn last line"* ]]
	run "$GEN" "$S" 1
	[[ "$output" == *"torn_bytes=17"* ]]
	grep -q '"cut_bytes":17' "$LOG"
	grep -q '"type":"recovery"' "$LOG"
	run "$STOCKADE_BIN" verify --state-dir "$S"
	[ "$status" -eq 0 ]
}

@test "truncation mid-record is caught" {
	"$GEN" "$S" 10
	truncate -s -40 "$LOG"
	run "$STOCKADE_BIN" verify --state-dir "$S"
	[ "$status" -eq 1 ]
	[[ "$output" == "$LOG:10: torn"* ]]
}

@test "concurrent writers never interleave lines" {
	for i in 1 2 3 4; do "$GEN" "$S" 40 16 >/dev/null & done
	wait
	run "$STOCKADE_BIN" verify --state-dir "$S"
	[ "$status" -eq 0 ]
	[[ "$output" == "ok: 170 records (160 receipts, 10 checkpoints)"* ]]
}

@test "kill -9 at random points: the log always verifies after recovery; no returned id is lost" {
	for run in $(seq 1 12); do
		AUDIT_GEN_PRINT_IDS=1 "$GEN" "$S" 400 32 >"$BATS_TEST_TMPDIR/ids" &
		pid=$!
		sleep "0.0$((RANDOM % 9 + 1))"
		kill -9 "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
		"$GEN" "$S" 1 32 >/dev/null
		run "$STOCKADE_BIN" verify --state-dir "$S"
		[ "$status" -eq 0 ] || { echo "run $run: $output"; false; }
		while read -r _ seq hash; do
			grep -q "\"hash\":\"$hash\"" "$LOG" || { echo "run $run: receipt $seq returned but not in the log"; false; }
		done <"$BATS_TEST_TMPDIR/ids"
	done
}

@test "rotation: files chain to one another; a missing file breaks the chain" {
	"$GEN" "$S" 60 1000 8192
	n=$(ls "$S"/receipts-*.jsonl | wc -l)
	[ "$n" -ge 2 ]
	run "$STOCKADE_BIN" verify --state-dir "$S"
	[ "$status" -eq 0 ]
	[[ "$output" == *"60 receipts"* ]]
	second=$(ls "$S"/receipts-*.jsonl | sed -n 2p)
	run "$STOCKADE_BIN" verify --state-dir "$S" $(ls "$S"/receipts-*.jsonl | sed 2d) "$LOG"
	[ "$status" -eq 1 ]
	[[ "$output" == *":1: seq"* ]]
	# every rotated file ends with its checkpoint
	for f in "$S"/receipts-*.jsonl; do tail -1 "$f" | grep -q '"reason":"rotation"'; done
}
