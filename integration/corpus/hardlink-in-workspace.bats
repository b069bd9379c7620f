#!/usr/bin/env bats
# Bypass family: hard links.  A secret file in the workspace is hidden by
# its name (.env); a hard link made to it before the run under another name
# reaches the same inode.  Found 2026-11-23: the link was readable (only the
# redactor kept the value from the output, and `rev` got past that).
# Fixed: the workspace is scanned for other names of every hidden inode, and
# those are hidden too.

bats_require_minimum_version 1.5.0
load corpus

setup() {
	corpus_setup
	printf 'API_KEY=%s\n' "$CANARY" > "$WS/.env"
	ln "$WS/.env" "$WS/notes.txt"
	mkdir -p "$WS/deep/er"
	ln "$WS/.env" "$WS/deep/er/data.bin"
}
teardown() { corpus_teardown; }

@test "corpus hardlink: the direct path is refused" {
	run "$STOCKADE" run -- cat .env
	[ "$status" -ne 0 ]
	[[ "$output" != *"$CANARY"* ]]
}

@test "corpus hardlink: other names of the same inode are refused, even reversed" {
	run "$STOCKADE" run -- sh -c 'cat notes.txt; rev notes.txt; rev deep/er/data.bin; od -c notes.txt | head -3'
	[[ "$output" != *"$CANARY"* ]]
	rev_canary=$(printf '%s' "$CANARY" | rev)
	[[ "$output" != *"$rev_canary"* ]]
}

@test "corpus hardlink: a symlink to the secret is refused too" {
	ln -s .env "$WS/link"
	run "$STOCKADE" run -- sh -c 'cat link; rev link'
	rev_canary=$(printf '%s' "$CANARY" | rev)
	[[ "$output" != *"$CANARY"* ]]
	[[ "$output" != *"$rev_canary"* ]]
}

@test "corpus hardlink: every name of the inode is one retry chain across turns" {
	turn 'cat .env' 1
	turn 'cat notes.txt' 1
	turn 'rev deep/er/data.bin' 1
	turn '/usr/bin/python3 -c "print(open(\"notes.txt\").read())"' 126
	assert_no_canary
	assert_chain "$WS/.env" 4 pending deny,deny,deny,escalate
	assert_receipted
}
