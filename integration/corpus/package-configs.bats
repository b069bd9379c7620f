#!/usr/bin/env bats
# Bypass family: registry tokens in a project's package-manager configs.
# `npm login --location=project` and CI set-ups write the token into the
# workspace's .npmrc (//registry.npmjs.org/:_authToken=...), yarn into
# .yarnrc.yml (npmAuthToken:), twine users into .pypirc (password =).
# Found 2026-12-07: `rev .npmrc` printed the token (the redactor knows the
# plain npm_ form only).  Fixed: at the workspace's top these files, when
# they hold a credential, are read-only copies without it in the sandbox;
# the values taken out are redaction literals.

bats_require_minimum_version 1.5.0
load corpus

setup() {
	corpus_setup
	printf 'registry=https://registry.npmjs.org/\n//registry.npmjs.org/:_authToken=npm_%s\n' "$CANARY" > "$WS/.npmrc"
	printf 'npmScopes:\n  acme:\n    npmAuthToken: "%s-yarn"\n    npmAlwaysAuth: true\n' "$CANARY" > "$WS/.yarnrc.yml"
	printf '[pypi]\nusername: __token__\npassword = pypi-%s\n' "$CANARY" > "$WS/.pypirc"
	BEFORE=$(sha256sum "$WS/.npmrc" "$WS/.yarnrc.yml" "$WS/.pypirc")
}
teardown() { corpus_teardown; }

@test "corpus package-configs: tokens in .npmrc, .yarnrc.yml and .pypirc do not get out; the rest stays" {
	turn 'rev .npmrc; rev .yarnrc.yml; rev .pypirc'
	turn 'base64 .npmrc; od -c .pypirc | head; /usr/bin/python3 -c "print(open(\".yarnrc.yml\").read()[::-1])"'
	assert_no_canary
	run "$STOCKADE" run --state-dir "$STATE" -- sh -c 'grep ^registry= .npmrc; grep -c npmAlwaysAuth .yarnrc.yml; grep username .pypirc'
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "registry=https://registry.npmjs.org/" ]
	[ "${lines[1]}" = "1" ]
	[ "${lines[2]}" = "username: __token__" ]
	[ "$(sha256sum "$WS/.npmrc" "$WS/.yarnrc.yml" "$WS/.pypirc")" = "$BEFORE" ]
	# One without a credential stays the workspace's own, writable file.
	printf 'save-exact=true\n' > "$WS/.npmrc"
	run "$STOCKADE" run --state-dir "$STATE" -- sh -c 'echo fund=false >> .npmrc && cat .npmrc'
	[ "$status" -eq 0 ]
	[[ "$output" == *"fund=false"* ]]
}
