#!/usr/bin/env bats
# Bypass family: copies.  A copy of a secret made before the run (cp .env
# backup.txt) is a different inode: no mount rule names it.  The redactor
# removes the value and its encodings from the output, but a transformation
# it does not know (rev, rot13, character splitting) gets it out.  The fix
# is issue 4: open() supervised by identity and content fingerprint.

bats_require_minimum_version 1.5.0
load ../helpers

setup() {
	setup_workspace
	printf 'API_KEY=%s\n' "$CANARY" > "$WS/.env"
	cp "$WS/.env" "$WS/backup.txt"
}
teardown() { teardown_workspace; }

@test "corpus copy: the copy's value is redacted from plain, base64 and hex output" {
	run "$STOCKADE" run -- sh -c 'cat backup.txt; base64 backup.txt; od -An -tx1 backup.txt | tr -d " \n"; echo'
	[[ "$output" != *"$CANARY"* ]]
	b64=$(printf '%s' "$CANARY" | base64)
	[[ "$output" != *"$b64"* ]]
	[[ "$output" == *"REDACTED"* ]]
}

@test "corpus copy: a transformed copy does not get out" {
	skip "open: a copy is a new inode; refusing it needs open() supervision with content fingerprints (issue 4)"
	run "$STOCKADE" run -- rev backup.txt
	rev_canary=$(printf '%s' "$CANARY" | rev)
	[[ "$output" != *"$rev_canary"* ]]
}
