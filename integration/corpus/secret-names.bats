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

# Found 2026-12-07 (session 12): secrets under other usual names were
# readable - an SSH key named for its use (deploy_rsa, github_ed25519),
# Rails' config/master.key, .pgpass, .vault-token, Streamlit's
# secrets.toml, Rails' secrets.yml - and so were private keys in PEM files
# named for their use (server.key, tls.pem, Apple's AuthKey_*.p8), which
# no name rule can list.  Fixed: the default profile names the former;
# a *.pem, *.key or *.p8 file in the workspace that holds a PEM private
# key is a secret by its content (a certificate beside it stays readable).
@test "corpus secret-names: keys and credentials under other names, and private keys by content" {
	key() { printf -- '-----BEGIN %s-----\n%s-%s\n-----END %s-----\n' "$1" "$CANARY" "$2" "$1"; }
	mkdir -p "$WS/ops" "$WS/config" "$WS/.streamlit" "$WS/certs" "$WS/keys"
	key "OPENSSH PRIVATE KEY" deploy > "$WS/ops/deploy_rsa"
	key "OPENSSH PRIVATE KEY" gh > "$WS/ops/github_ed25519"
	printf '%s-master\n' "$CANARY" > "$WS/config/master.key"
	printf 'db:5432:app:app:%s-pg\n' "$CANARY" > "$WS/.pgpass"
	printf '%s-vault\n' "$CANARY" > "$WS/.vault-token"
	printf 'api_key = "%s-st"\n' "$CANARY" > "$WS/.streamlit/secrets.toml"
	printf 'production:\n  secret_key_base: %s-yml\n' "$CANARY" > "$WS/config/secrets.yml"
	key "PRIVATE KEY" server > "$WS/certs/server.key"
	{ key "CERTIFICATE" cert-not-secret; key "RSA PRIVATE KEY" tls; } > "$WS/certs/tls.pem"
	key "PRIVATE KEY" apple > "$WS/keys/AuthKey_ABC123.p8"
	printf -- '-----BEGIN CERTIFICATE-----\nMIIBpublicpart\n-----END CERTIFICATE-----\n' > "$WS/certs/ca.pem"
	turn 'for f in ops/deploy_rsa ops/github_ed25519 config/master.key .pgpass .vault-token .streamlit/secrets.toml config/secrets.yml; do rev $f; done'
	turn 'rev certs/server.key certs/tls.pem keys/AuthKey_ABC123.p8; cat certs/*.pem keys/* | base64'
	assert_no_canary
	assert_receipted
	# A certificate is no secret.
	run "$STOCKADE" run --state-dir "$STATE" -- cat certs/ca.pem
	[ "$status" -eq 0 ]
	[[ "$output" == *"MIIBpublicpart"* ]]
}
