#!/usr/bin/env bats
# Bypass family: credentials in git configuration.  A CI checkout leaves its
# token in the repository's .git/config (actions/checkout: an
# http.<url>.extraheader "AUTHORIZATION: basic ..."; others: the token in
# the remote URL), and ~/.gitconfig can hold one (url.<with token>.insteadOf),
# as can git's XDG config (~/.config/git/config), beside which
# git-credential-store keeps ~/.config/git/credentials - all inside the
# read-only ~/.config/git of the default profile.
# The sandbox shows these read-only - git needs them - and found 2026-12-07:
# `rev .git/config` printed the token (the redactor knows the plain forms
# only).  Fixed: the sandbox sees copies without the credentials; the
# values taken out are redaction literals.

bats_require_minimum_version 1.5.0
load corpus

setup() {
	corpus_setup
	TOKEN="ghs_$CANARY"
	git init -q .
	git -c user.email=t@t -c user.name=t commit -q --allow-empty -m init
	git remote add origin "https://x-access-token:$TOKEN@github.com/o/r.git"
	git config http.https://github.com/.extraheader \
		"AUTHORIZATION: basic $(printf 'x-access-token:%s' "$TOKEN" | base64 -w0)"
	printf '[user]\n\tname = Agent Person\n[url "https://ghp_%s@github.com/"]\n\tinsteadOf = https://github.com/\n' \
		"$CANARY" > "$FAKEHOME/.gitconfig"
	# git's XDG places: its config, and git-credential-store's file.
	mkdir -p "$FAKEHOME/.config/git"
	printf '[url "https://oauth2:glpat-%s@gitlab.com/"]\n\tinsteadOf = https://gitlab.com/\n' "$CANARY" \
		> "$FAKEHOME/.config/git/config"
	printf 'https://user:ghp_%s@github.com\n' "$CANARY" > "$FAKEHOME/.config/git/credentials"
	BEFORE=$(sha256sum .git/config "$FAKEHOME/.gitconfig" "$FAKEHOME/.config/git/config")
}
teardown() { corpus_teardown; }

@test "corpus git-credentials: tokens in .git/config and ~/.gitconfig do not get out, git still works" {
	turn 'rev .git/config'
	turn 'git config -l | rev; git remote get-url origin | rev'
	turn 'base64 .git/config; od -c ~/.gitconfig | head -20; rev ~/.gitconfig'
	turn 'rev ~/.config/git/config; rev ~/.config/git/credentials; git config --global -l | rev'
	turn '/usr/bin/python3 -c "import base64, re; t = open(\".git/config\").read(); print(t[::-1]); print([base64.b64decode(m)[::-1] for m in re.findall(r\"basic (\\S+)\", t)])"'
	assert_no_canary
	# git works on the copies; the rest of the configuration is there.
	run "$STOCKADE" run --state-dir "$STATE" -- sh -c 'git log --oneline | wc -l; git config user.name; git remote get-url origin'
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "1" ]
	[ "${lines[1]}" = "Agent Person" ]
	[ "${lines[2]}" = "https://github.com/o/r.git" ]
	# The host's files are untouched.
	[ "$(sha256sum .git/config "$FAKEHOME/.gitconfig" "$FAKEHOME/.config/git/config")" = "$BEFORE" ]
}
