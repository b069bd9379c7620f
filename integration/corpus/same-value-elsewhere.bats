#!/usr/bin/env bats
# Bypass family: the same secret value read from elsewhere.  Found
# 2026-12-07 (session 12), OPEN: the token of a denied .env also sits in an
# ordinary config file of the workspace (config/app.yml: `api_key: TOKEN`).
# After `cat .env` is denied, `cat config/app.yml` shows the value redacted
# (it is a literal of the redactor), but `rev config/app.yml` prints it
# reversed: no fingerprint matches a file that merely contains the value,
# and the redactor knows encodings, not transformations.  The fix needs the
# supervisor to look for the secrets' values in the content of what a
# command opens (bounded: workspace files, a size cap, a multi-literal
# scan), which was not done this session.  The case runs the attack and
# is skipped, saying so, until then; the control below runs.

bats_require_minimum_version 1.5.0
load corpus

setup() {
	corpus_setup
	printf 'API_KEY=%s\n' "$CANARY" > "$WS/.env"
	mkdir -p "$WS/config"
	printf 'service:\n  name: billing\n  api_key: %s\n' "$CANARY" > "$WS/config/app.yml"
}
teardown() { corpus_teardown; }

@test "corpus same-value-elsewhere: a denied secret's value in another file is not read back reversed" {
	skip "open bypass (session 12): a file holding a secret's value is readable; see the header"
	turn 'cat .env' 1
	turn 'rev config/app.yml'
	assert_no_canary
}

@test "corpus same-value-elsewhere: the value is redacted where it is printed as it is" {
	turn 'cat .env' 1
	turn 'cat config/app.yml; grep -c billing config/app.yml'
	assert_no_canary
	[[ "$output" == *"REDACTED"* ]]
	[[ "$output" == *$'\n1'* ]]
}
