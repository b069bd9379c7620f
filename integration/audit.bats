#!/usr/bin/env bats
# Receipt logs end to end: the signing key, verify on intact and tampered
# logs (each tamper named by its line), torn lines, concurrent writers, kill -9
# at random points, rotation.  Logs are written through sk_audit_append by
# bench/audit_gen.c, built here against the library.

setup_file() {
	ROOT=$(cd "$BATS_TEST_DIRNAME/.." && pwd)
	BUILD_DIR=$(cd "$ROOT/${BUILD:-build}" && pwd)
	cc -I"$ROOT/include" -D_GNU_SOURCE -O2 ${SAN:-} $(pkg-config --cflags jansson) \
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

# the receipt hashes of the logs (checkpoints included), sorted
log_hashes() {
	grep -oh '"hash":"[0-9a-f]*"' "$@" | cut -d'"' -f4 | sort
}

@test "kill -9 at random points: the log always verifies after recovery; no returned id is lost" {
	# 15 rounds of two writers racing for the lock, both killed at a random
	# moment (anywhere in an append: under the lock, between write and
	# fsync, while signing); every id a writer printed had been returned by
	# sk_audit_append, so it must be in the log.  A record is one write(2),
	# so kill -9 rarely tears a line; torn lines are also made by hand above.
	recovered=0
	for round in $(seq 1 15); do
		for w in 1 2; do
			AUDIT_GEN_PRINT_IDS=1 "$GEN" "$S" 100000 32 >"$BATS_TEST_TMPDIR/ids.$w" &
			eval "pid$w=\$!"
		done
		sleep "0.$(printf %02d $((RANDOM % 15 + 2)))"
		kill -9 "$pid1" 2>/dev/null || true
		sleep "0.00$((RANDOM % 10))"
		kill -9 "$pid2" 2>/dev/null || true
		{ wait "$pid1" "$pid2"; } 2>/dev/null || true
		# the next writer recovers (cuts a torn line, records the cut)
		run "$GEN" "$S" 1 32
		[ "$status" -eq 0 ] || { echo "round $round: recovery failed: $output"; false; }
		[[ "$output" == *"torn_bytes=0"* ]] || recovered=$((recovered + 1))
		run "$STOCKADE_BIN" verify --state-dir "$S"
		[ "$status" -eq 0 ] || { echo "round $round: $output"; false; }
		cat "$BATS_TEST_TMPDIR/ids.1" "$BATS_TEST_TMPDIR/ids.2" | awk '{print $3}' | sort >"$BATS_TEST_TMPDIR/returned"
		[ -s "$BATS_TEST_TMPDIR/returned" ] || { echo "round $round: no writer returned an id"; false; }
		lost=$(log_hashes "$LOG" | comm -23 "$BATS_TEST_TMPDIR/returned" -)
		[ -z "$lost" ] || { echo "round $round: returned but not in the log: $lost"; false; }
	done
	echo "rounds with a torn line recovered: $recovered"
	# nothing recorded twice
	[ -z "$(grep -o '"seq":[0-9]*' "$LOG" | uniq -d)" ]
}

@test "kill -9 stockade run at random points: every result returned has its receipts" {
	# A caller runs commands one after another and writes down each result
	# it got back; the whole process group (stockade and its sandbox) is
	# killed at random.  Every command whose result came back must have its
	# command receipt and its outcome receipt, with that exit status.
	mkdir -p "$BATS_TEST_TMPDIR/ws"
	cd "$BATS_TEST_TMPDIR/ws"
	: >"$BATS_TEST_TMPDIR/results"
	for round in $(seq 1 6); do
		setsid sh -c 'i=0; while :; do i=$((i + 1)); tag="r$1-$i"
			out=$("$2" run --state-dir "$3" -- sh -c "echo $tag; exit $((i % 3))"); rc=$?
			[ "$out" = "$tag" ] && echo "$tag $rc" >>"$4"; done' \
			sh "$round" "$STOCKADE_BIN" "$S" "$BATS_TEST_TMPDIR/results" &
		pid=$!
		# let it return 1 to 3 results (however slow the machine), then
		# kill it somewhere in the runs that follow
		want=$((RANDOM % 3 + 1))
		for _ in $(seq 1 300); do
			[ "$(grep -c "^r$round-" "$BATS_TEST_TMPDIR/results")" -ge "$want" ] && break
			sleep 0.1
		done
		sleep "0.$((RANDOM % 4))$((RANDOM % 10))"
		kill -9 -- "-$pid" 2>/dev/null || true
		{ wait "$pid"; } 2>/dev/null || true
		"$STOCKADE_BIN" run --state-dir "$S" -- true   # the next writer recovers
		run "$STOCKADE_BIN" verify --state-dir "$S"
		[ "$status" -eq 0 ] || { echo "round $round: $output"; false; }
	done
	n=$(wc -l <"$BATS_TEST_TMPDIR/results")
	echo "results returned before the kills: $n"
	[ "$n" -ge 6 ]
	# "tag kind exit" for each receipt of a tagged command, in one pass
	jq -r 'select(.type == "command" or .type == "outcome") | (.event.argv[2] // "") as $c
		| select($c | startswith("echo r")) | "\($c | split(";")[0] | ltrimstr("echo ")) \(.type) \(.outcome.exit // "-")"' \
		"$S/receipts.jsonl" | sort >"$BATS_TEST_TMPDIR/receipts"
	while read -r tag rc; do
		grep -qx "$tag command -" "$BATS_TEST_TMPDIR/receipts" || { echo "$tag: no command receipt"; false; }
		grep -qx "$tag outcome $rc" "$BATS_TEST_TMPDIR/receipts" || { echo "$tag: returned $rc, no outcome receipt saying so"; false; }
		[ "$(grep -c "^$tag " "$BATS_TEST_TMPDIR/receipts")" -eq 2 ] || { echo "$tag: receipts twice"; false; }
	done <"$BATS_TEST_TMPDIR/results"
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
