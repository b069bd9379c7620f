#!/usr/bin/env bats
# The independent verifier: integration/verify-node/verify.js checks a log
# stockade wrote, with the npm `canonicalize` package (RFC 8785, pinned in
# package.json) and Node's built-in Ed25519 — code no one here wrote.

setup_file() {
	ROOT=$(cd "$BATS_TEST_DIRNAME/.." && pwd)
	BUILD_DIR=$(cd "$ROOT/${BUILD:-build}" && pwd)
	cc -I"$ROOT/include" -D_GNU_SOURCE -O2 ${SAN:-} $(pkg-config --cflags jansson) \
		-o "$BATS_FILE_TMPDIR/audit_gen" "$ROOT/bench/audit_gen.c" "$BUILD_DIR/libstockade.a" \
		$(pkg-config --libs libsodium jansson)
	NODE_DIR=$BATS_FILE_TMPDIR/verify-node
	mkdir -p "$NODE_DIR"
	cp "$ROOT/integration/verify-node/package.json" "$ROOT/integration/verify-node/verify.js" "$NODE_DIR/"
	(cd "$NODE_DIR" && npm_config_cache="$BATS_FILE_TMPDIR/npm-cache" \
		npm install --no-audit --no-fund --loglevel=error >"$BATS_FILE_TMPDIR/npm.log" 2>&1) || true
}

setup() {
	NODE_DIR=$BATS_FILE_TMPDIR/verify-node
	[ -f "$NODE_DIR/node_modules/canonicalize/package.json" ] ||
		skip "npm install of canonicalize failed: $(tail -1 "$BATS_FILE_TMPDIR/npm.log")"
	S=$BATS_TEST_TMPDIR/state
	LOG=$S/receipts.jsonl
	"$BATS_FILE_TMPDIR/audit_gen" "$S" 300 16 >/dev/null
	"$STOCKADE_BIN" key export --state-dir "$S" --out "$BATS_TEST_TMPDIR/pub.pem"
}

@test "node: the pinned canonicalize version is the one installed" {
	v=$(node -p "require('$NODE_DIR/node_modules/canonicalize/package.json').version")
	[ "$v" = "$(node -p "require('$NODE_DIR/package.json').dependencies.canonicalize")" ]
}

@test "node: a log stockade wrote verifies independently (hashes, signatures, chain)" {
	run node "$NODE_DIR/verify.js" "$BATS_TEST_TMPDIR/pub.pem" "$LOG"
	[ "$status" -eq 0 ]
	[ "$output" = "ok 318" ]
}

@test "node: rotated files verify as one chain independently" {
	rm -rf "$S"
	"$BATS_FILE_TMPDIR/audit_gen" "$S" 60 1000 8192 >/dev/null
	"$STOCKADE_BIN" key export --state-dir "$S" --out "$BATS_TEST_TMPDIR/pub.pem"
	run node "$NODE_DIR/verify.js" "$BATS_TEST_TMPDIR/pub.pem" "$S"/receipts-*.jsonl "$LOG"
	[ "$status" -eq 0 ]
	[[ "$output" == "ok "* ]]
}

@test "node: the independent verifier also catches tampering, on the same line as stockade" {
	sed -i '42s/"turn":\([0-9]\)/"turn":7\1/' "$LOG"
	run node "$NODE_DIR/verify.js" "$BATS_TEST_TMPDIR/pub.pem" "$LOG"
	[ "$status" -eq 1 ]
	[[ "$output" == "$LOG:42: hash mismatch" ]]
	run "$STOCKADE_BIN" verify --state-dir "$S"
	[ "$status" -eq 1 ]
	[[ "$output" == "$LOG:42: hash mismatch"* ]]
}

@test "node: a signature by another key fails independently" {
	"$STOCKADE_BIN" key export --state-dir "$BATS_TEST_TMPDIR/other" --out "$BATS_TEST_TMPDIR/other.pem"
	run node "$NODE_DIR/verify.js" "$BATS_TEST_TMPDIR/other.pem" "$LOG"
	[ "$status" -eq 1 ]
	[[ "$output" == "$LOG:1: bad signature" ]]
}

@test "node: a log written by real stockade runs verifies independently, and tampering is caught" {
	R=$BATS_TEST_TMPDIR/runs
	mkdir -p "$BATS_TEST_TMPDIR/ws"
	cd "$BATS_TEST_TMPDIR/ws"
	printf 'token=ghp_abcdefghijklmnopqrstuvwxyz0123456789\n' >t.txt
	"$STOCKADE_BIN" run --state-dir "$R" -- true
	"$STOCKADE_BIN" run --state-dir "$R" -- sudo true 2>/dev/null || [ $? -eq 126 ]
	"$STOCKADE_BIN" run --state-dir "$R" -- cat t.txt >/dev/null
	"$STOCKADE_BIN" run --state-dir "$R" -- sh -c 'echo é€😀; exit 2' >/dev/null || [ $? -eq 2 ]
	"$STOCKADE_BIN" key export --state-dir "$R" --out "$BATS_TEST_TMPDIR/runs.pem"
	n=$(wc -l <"$R/receipts.jsonl")
	[ "$n" -ge 7 ]
	run node "$NODE_DIR/verify.js" "$BATS_TEST_TMPDIR/runs.pem" "$R/receipts.jsonl"
	[ "$status" -eq 0 ]
	[ "$output" = "ok $n" ]
	sed -i '3s/"verdict":"[a-z]*"/"verdict":"allow"/; 3s/"reason":"command_deny"/"reason":"command_allow"/' "$R/receipts.jsonl"
	run node "$NODE_DIR/verify.js" "$BATS_TEST_TMPDIR/runs.pem" "$R/receipts.jsonl"
	[ "$status" -eq 1 ]
	[[ "$output" == "$R/receipts.jsonl:3: hash mismatch" ]]
}
