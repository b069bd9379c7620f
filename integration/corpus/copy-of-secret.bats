#!/usr/bin/env bats
# Bypass family: copies.  A copy of a secret made before the run (cp .env
# backup.txt) is a different inode: no mount rule names it.  The redactor
# removes the value and its encodings from the output, but a transformation
# it does not know (rev, rot13, character splitting) got it out.
# Fixed (issue 4): every open is supervised; a file with the size and
# SHA-256 of a secret file, or of a file denied earlier in the session, is
# refused (secret_content) and joins the original's retry chain.  Since
# 2026-12-08 so is a file that holds one of a secret's credential-like
# values (same-value-elsewhere.bats).

bats_require_minimum_version 1.5.0
load corpus

setup() {
	corpus_setup
	printf 'API_KEY=%s\n' "$CANARY" > "$WS/.env"
	cp "$WS/.env" "$WS/backup.txt"
}
teardown() { corpus_teardown; }

@test "corpus copy: the copy is refused, and so is a file holding its value; the value's look-alikes stay" {
	# Not a copy: the same value inside a file that differs.  Redacted
	# until 2026-12-08; since then refused as the secret's content
	# (same-value-elsewhere.bats: `rev` got it out).  A line of the file
	# that is no value of the secret is no reason to refuse another file.
	printf '# deploy config\nregion=eu\nkey=%s\n' "$CANARY" > "$WS/deploy.ini"
	printf '# deploy config\nregion=eu\n' > "$WS/plain.ini"
	run "$STOCKADE" run -- sh -c 'cat backup.txt; cat deploy.ini; base64 deploy.ini; cat plain.ini'
	[[ "$output" == *"backup.txt: Permission denied"* ]]
	[[ "$output" == *"deploy.ini: Permission denied"* ]]
	[[ "$output" == *"region=eu"* ]]
	[[ "$output" != *"$CANARY"* ]]
	b64=$(printf '%s' "$CANARY" | base64)
	[[ "$output" != *"${b64:0:16}"* ]]
}

@test "corpus copy: a transformed copy does not get out" {
	run "$STOCKADE" run -- rev backup.txt
	rev_canary=$(printf '%s' "$CANARY" | rev)
	[[ "$output" != *"$rev_canary"* ]]
	[ "$status" -ne 0 ]
}

@test "corpus copy: copies of a secret, anywhere and under any name, join the secret's chain" {
	cp "$SECRET" "$WS/creds.bak"
	mkdir -p "$WS/deep/er" && cp "$SECRET" "$WS/deep/er/x.txt"
	turn 'cat ~/.aws/credentials' 1
	turn 'rev creds.bak' 1
	turn '/usr/bin/python3 -c "print(open(\"deep/er/x.txt\").read()[::-1])"' 1
	turn 'cp creds.bak /tmp/c && rev /tmp/c' 126
	assert_no_canary
	assert_chain "$SECRET" 4 pending deny,deny,deny,escalate
	assert_receipted
}

@test "corpus copy: a copy of a file denied in an earlier turn is refused in later turns" {
	mkdir -p "$WS/private"
	printf 'token=%s\n' "$CANARY" > "$WS/private/notes.txt"
	cp "$WS/private/notes.txt" "$WS/notes.bak"
	printf 'stockade-profile 1\ninclude default\nfile deny ${WORKSPACE}/private\n' > "$STATE.profile"
	run "$STOCKADE" run --profile "$STATE.profile" --state-dir "$STATE" --session "$SESSION" -- cat private/notes.txt
	ALL_OUT+="$output"
	[ "$status" -ne 0 ]
	run "$STOCKADE" run --profile "$STATE.profile" --state-dir "$STATE" --session "$SESSION" -- rev notes.bak
	ALL_OUT+="$output"
	[ "$status" -ne 0 ]
	rm -f "$STATE.profile"
	assert_no_canary
	assert_chain "$WS/private/notes.txt" 2 none deny,deny
	assert_receipted
}
