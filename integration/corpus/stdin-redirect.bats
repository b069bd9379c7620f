#!/usr/bin/env bats
# Bypass family: a secret handed to the command as its stdin by the
# caller's shell.  Found 2026-12-07: `stockade run -- rev < .env` - the
# redirection is the host shell's open, outside the sandbox, so the
# supervisor never saw it; the command read the file from fd 0 (and
# `cat /dev/stdin`, a reopen of that fd, was let through as well).  The
# redactor caught `cat` and `base64` (the whole file is a literal), not
# `rev`.  An agent harness that runs `stockade run -- $CMD` through a shell
# hands the agent that redirection.
# Fixed: a stdin that is a file is decided as the command opening it for
# reading, before anything runs; a refusal is an attempt on that file (its
# chain, its receipt) and stops the run (exit 126).

bats_require_minimum_version 1.5.0
load corpus

setup() {
	corpus_setup
	printf 'DB_HOST=db.internal\nDB_PASSWORD=%s\n' "$CANARY" > "$WS/.env"
	printf 'plain words\n' > "$WS/notes.txt"
}
teardown() { corpus_teardown; }

# stdin_turn FILE 'SHELL COMMAND': a turn whose stdin the caller's shell
# opened on FILE.
stdin_turn() {
	run "$STOCKADE" run --state-dir "$STATE" --session "$SESSION" -- sh -c "$2" < "$1"
	TURNS=$((TURNS + 1))
	ALL_OUT+="$output"$'\n'
}

@test "corpus stdin-redirect: a secret file as stdin is refused, reversed or reopened" {
	turn 'cat .env' 1
	stdin_turn "$WS/.env" 'rev'
	[ "$status" -eq 126 ]
	[[ "$output" == *"stdin"* ]]
	stdin_turn "$WS/.env" 'cat /dev/stdin | rev'
	[ "$status" -eq 126 ]
	stdin_turn "$SECRET" 'rev'
	[ "$status" -eq 126 ]
	# A hard link made outside, and a copy (sticky by content).
	ln "$WS/.env" "$BATS_TEST_TMPDIR/linked"
	stdin_turn "$BATS_TEST_TMPDIR/linked" 'rev'
	[ "$status" -eq 126 ]
	cp "$WS/.env" "$BATS_TEST_TMPDIR/copied"
	stdin_turn "$BATS_TEST_TMPDIR/copied" 'od -c'
	[ "$status" -eq 126 ]
	assert_no_canary
	assert_receipted
	# Every try on .env is in its chain: the open, then four stdins.
	got=$(chain_of "$WS/.env")
	set -- $got
	[ "$1" -ge 5 ] || { echo "chain of .env: $got" >&2; false; }
}

@test "corpus stdin-redirect: an ordinary file, a pipe and /dev/null as stdin still pass" {
	stdin_turn "$WS/notes.txt" 'rev'
	[ "$status" -eq 0 ]
	[ "$output" = "sdrow nialp" ]
	run "$STOCKADE" run --state-dir "$STATE" -- sh -c 'cat' < /dev/null
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	run bash -c "printf 'piped\n' | '$STOCKADE' run --state-dir '$STATE' -- cat"
	[ "$status" -eq 0 ]
	[ "$output" = "piped" ]
}
