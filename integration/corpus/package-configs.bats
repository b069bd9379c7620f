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

# Found 2026-12-07 (session 12): only the top's were sanitized; a monorepo
# keeps one in each package (packages/api/.npmrc, tools/py/.pypirc,
# apps/web/.yarnrc.yml) and `rev` printed those tokens.  Fixed: the
# workspace walk that finds secret names finds these too, at any depth
# (node_modules and .git left out, as for the names), and each is shown
# the same way; one that is a link is followed to its file in the
# workspace (the first version of the fix missed that).
@test "corpus package-configs: a monorepo's nested configs are sanitized too" {
	mkdir -p "$WS/packages/api" "$WS/apps/web" "$WS/tools/py/deep/er"
	printf '//npm.pkg.github.com/:_authToken=ghp_%s\nregistry=https://npm.pkg.github.com/\n' "$CANARY" > "$WS/packages/api/.npmrc"
	printf 'npmRegistries:\n  "https://r.example":\n    npmAuthToken: "%s-web"\n' "$CANARY" > "$WS/apps/web/.yarnrc.yml"
	printf '[pypi]\nusername = __token__\npassword = pypi-%s-deep\n' "$CANARY" > "$WS/tools/py/deep/er/.pypirc"
	# One package's .npmrc a link to a shared file under another name.
	mkdir -p "$WS/shared" "$WS/packages/lib"
	printf '//r.example/:_authToken=%s-linked\n' "$CANARY" > "$WS/shared/npmrc"
	ln -s ../../shared/npmrc "$WS/packages/lib/.npmrc"
	turn 'rev packages/api/.npmrc; rev apps/web/.yarnrc.yml; rev tools/py/deep/er/.pypirc'
	turn 'rev packages/lib/.npmrc; rev shared/npmrc'
	turn 'find . -name .npmrc -o -name .pypirc -o -name .yarnrc.yml | xargs cat | base64'
	assert_no_canary
	run "$STOCKADE" run --state-dir "$STATE" -- sh -c 'grep ^registry= packages/api/.npmrc; grep -c username tools/py/deep/er/.pypirc'
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "registry=https://npm.pkg.github.com/" ]
	[ "${lines[1]}" = "1" ]
	grep -q "ghp_$CANARY" "$WS/packages/api/.npmrc"   # the caller's file is untouched
}
