#!/usr/bin/env bats
# stockade profile check | show | list, judged from outside: every shipped
# profile parses, its digest is the SHA-256 of the canonical form it shows,
# is stable, and a broken profile is refused with file:line:col.

bats_require_minimum_version 1.5.0
load helpers

PROFILES="default strict build readonly network"
REPO=$(cd "$BATS_TEST_DIRNAME/.." && pwd)

setup() {
	T=$(mktemp -d "${BATS_TMPDIR:-/tmp}/stockade-prof.XXXXXX")
	export HOME="$T/home"
	mkdir -p "$HOME" "$T/ws"
	unset STOCKADE_PROFILE_PATH XDG_CONFIG_HOME
}

teardown() {
	rm -rf "$T"
}

@test "every shipped profile parses, by name and by file" {
	for p in $PROFILES; do
		run "$STOCKADE" profile check --workspace "$T/ws" "$p"
		[ "$status" -eq 0 ] || { echo "$p: $output"; false; }
		[[ "$output" == *": ok, "*" rules, policy coverage "*"/15, sha256:"* ]]
		run "$STOCKADE" profile check --workspace "$T/ws" "$REPO/profiles/$p"
		[ "$status" -eq 0 ]
	done
}

@test "every shipped profile says at its top whom it is for" {
	for p in $PROFILES; do
		head -1 "$REPO/profiles/$p" | grep -q "^# $p: for "
	done
}

@test "show prints the canonical form; the digest is its SHA-256" {
	for p in $PROFILES; do
		run "$STOCKADE" profile show --workspace "$T/ws" "$p"
		[ "$status" -eq 0 ]
		first=$(printf '%s\n' "$output" | head -1)
		body_sum=$(printf '%s\n' "$output" | tail -n +2 | sha256sum | cut -d' ' -f1)
		[ "$first" = "# sha256:$body_sum" ]
		[ "$(printf '%s\n' "$output" | sed -n 2p)" = "stockade-profile 1" ]
	done
}

@test "the digest is stable across runs and equals show --digest and --json" {
	a=$("$STOCKADE" profile show --workspace "$T/ws" --digest default)
	b=$("$STOCKADE" profile show --workspace "$T/ws" --digest default)
	[ "$a" = "$b" ]
	[[ "$a" =~ ^sha256:[0-9a-f]{64}$ ]]
	c=$("$STOCKADE" profile show --workspace "$T/ws" default | head -1)
	[ "$c" = "# $a" ]
	d=$("$STOCKADE" profile show --workspace "$T/ws" --json default |
		python3 -c 'import json,sys; j=json.load(sys.stdin); print(j["digest"]); assert j["coverage"]["total"] == 15')
	[ "$d" = "$a" ]
}

@test "the digest names the resolved profile: another workspace, another digest" {
	mkdir -p "$T/ws2"
	a=$("$STOCKADE" profile show --workspace "$T/ws" --digest default)
	b=$("$STOCKADE" profile show --workspace "$T/ws2" --digest default)
	[ "$a" != "$b" ]
}

@test "the canonical form is itself a profile with the same canonical form" {
	"$STOCKADE" profile show --workspace "$T/ws" network | tail -n +2 > "$T/canon"
	run "$STOCKADE" profile show --workspace "$T/ws" "$T/canon"
	[ "$status" -eq 0 ]
	diff <(printf '%s\n' "$output" | tail -n +2) "$T/canon"
	a=$("$STOCKADE" profile show --workspace "$T/ws" --digest network)
	b=$("$STOCKADE" profile show --workspace "$T/ws" --digest "$T/canon")
	[ "$a" = "$b" ]
}

@test "comments and blank lines do not change the digest; a rule does" {
	printf 'file deny /x\nnet host\n' > "$T/p1"
	printf '# about\n\nfile   deny\t/x   # why\nnet host\n' > "$T/p2"
	printf 'file deny /y\nnet host\n' > "$T/p3"
	a=$("$STOCKADE" profile show --digest "$T/p1")
	c=$("$STOCKADE" profile show --digest "$T/p3")
	[ "$a" != "$c" ]
	# p2 moves the rule to line 3: its id changes, so does the digest...
	b=$("$STOCKADE" profile show --digest "$T/p2")
	[ "$a" != "$b" ]
	# ...but blanks and comments on the same lines do not.
	printf 'file   deny  /x # why\nnet host   \n' > "$T/p1"
	b=$("$STOCKADE" profile show --digest "$T/p1")
	printf 'file deny /x\nnet host\n' > "$T/p1"
	[ "$b" = "$("$STOCKADE" profile show --digest "$T/p1")" ]
}

@test "a broken profile is refused with file:line:col and exit 125" {
	printf 'file deny /x\n\n  net sometimes\n' > "$T/bad"
	run "$STOCKADE" profile check "$T/bad"
	[ "$status" -eq 125 ]
	[[ "$output" == "$T/bad:3:7: unknown net action 'sometimes'"* ]]
	printf 'fiel deny /x\n' > "$T/bad"
	run "$STOCKADE" profile check "$T/bad"
	[ "$status" -eq 125 ]
	[[ "$output" == "$T/bad:1:1: unknown key 'fiel'"* ]]
	run "$STOCKADE" profile show "$T/bad"
	[ "$status" -eq 125 ]
	[[ "$output" == *"$T/bad:1:1: unknown key"* ]]
}

@test "a wildcard net domain is accepted with a warning: it matches no connect" {
	printf 'stockade-profile 1\nnet host\nnet deny *.evil.example:*\nnet deny good.example:443\n' > "$T/wild"
	run --separate-stderr "$STOCKADE" profile check "$T/wild"
	[ "$status" -eq 0 ]
	[[ "$output" == "$T/wild: ok, 2 rules"* ]]
	[[ "$stderr" == "wild:3: warning: net *.evil.example:*: a wildcard domain resolves to no addresses"* ]]
	[[ "$stderr" != *good.example* ]]
}

@test "include cycles between files are refused" {
	printf 'include two\n' > "$T/one"
	printf 'file deny /x\ninclude one\n' > "$T/two"
	run "$STOCKADE" profile check "$T/one"
	[ "$status" -eq 125 ]
	[[ "$output" == *"two:2:9: include 'one': include cycle"* ]]
}

@test "a file may include a shipped profile by name" {
	mkdir -p "$T/mine"
	printf 'include default\nnet host\n' > "$T/mine/custom"
	run "$STOCKADE" profile show --workspace "$T/ws" "$T/mine/custom"
	[ "$status" -eq 0 ]
	[[ "$output" == *"file secret $HOME/.ssh id=default:"* ]]
	[[ "$output" == *"net host id=custom:2"* ]]
}

@test "list shows the shipped profiles and not data files; the search path is honoured" {
	run "$STOCKADE" profile list
	[ "$status" -eq 0 ]
	for p in $PROFILES; do
		printf '%s\n' "$output" | grep -q "^$p "
	done
	! printf '%s\n' "$output" | grep -q "redact.rules"
	mkdir -p "$T/path"
	printf '# default: a local override\nnet host\n' > "$T/path/default"
	STOCKADE_PROFILE_PATH="$T/path" run "$STOCKADE" profile list --json
	[ "$status" -eq 0 ]
	src=$(printf '%s\n' "$output" | python3 -c 'import json,sys; print([p["path"] for p in json.load(sys.stdin)["profiles"] if p["name"]=="default"][0])')
	[ "$src" = "$T/path/default" ]
	STOCKADE_PROFILE_PATH="$T/path" run "$STOCKADE" profile show --digest default
	[ "$status" -eq 0 ]
	[ "$output" != "$("$STOCKADE" profile show --digest default)" ]
}

@test "an unknown profile name and bad usage exit 125 with one line" {
	run "$STOCKADE" profile show no-such-profile
	[ "$status" -eq 125 ]
	[[ "$output" == "stockade: no profile named 'no-such-profile'"* ]]
	run "$STOCKADE" profile frobnicate
	[ "$status" -eq 125 ]
	run "$STOCKADE" profile show --bogus default
	[ "$status" -eq 125 ]
	run "$STOCKADE" profile --help
	[ "$status" -eq 0 ]
	[[ "$output" == *"usage: stockade profile check"* ]]
}
