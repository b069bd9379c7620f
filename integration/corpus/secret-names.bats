#!/usr/bin/env bats
# Bypass family: secret files in the workspace known by name.  Found
# 2026-12-07: the default profile named .env, .netrc and .git-credentials,
# but not direnv's .envrc (exported secrets) nor private keys checked into a
# repository (id_rsa, id_ed25519, ...): they were readable, and only the
# redactor's patterns stood between them and the output - `rev` got past.
# Fixed: the default profile marks those names secret wherever they are.

bats_require_minimum_version 1.5.0
load corpus

setup() {
	corpus_setup
	printf 'export DEPLOY_TOKEN=%s\n' "$CANARY" > "$WS/.envrc"
	mkdir -p "$WS/deploy/keys"
	for k in id_rsa id_dsa id_ecdsa id_ed25519; do
		printf -- '-----BEGIN OPENSSH PRIVATE KEY-----\n%s-%s\n-----END OPENSSH PRIVATE KEY-----\n' "$CANARY" "$k" \
			> "$WS/deploy/keys/$k"
	done
}
teardown() { corpus_teardown; }

@test "corpus secret-names: .envrc and private keys in the workspace are refused, reversed or not" {
	turn 'rev .envrc'
	turn 'cat deploy/keys/id_rsa | rev'
	turn 'rev deploy/keys/id_ed25519; rev deploy/keys/id_ecdsa; rev deploy/keys/id_dsa'
	turn '/usr/bin/python3 -c "print(open(\".envrc\").read()[::-1])"'
	assert_no_canary
	[[ "$ALL_OUT" == *"Permission denied"* ]]
	assert_receipted
	# Other files beside them stay readable.
	printf 'plain\n' > "$WS/deploy/keys/README"
	run "$STOCKADE" run --state-dir "$STATE" -- cat deploy/keys/README
	[ "$status" -eq 0 ]
	[ "$output" = "plain" ]
}
