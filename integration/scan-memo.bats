#!/usr/bin/env bats
# The workspace walk for name rules (".env") is kept between runs in the
# cache directory and used while no directory it opened has changed.
# Judged from outside: with supervision off, only the mount tree hides a
# secret-named file, so a stale memo would show its content.

bats_require_minimum_version 1.5.0
load helpers

setup() {
	setup_workspace
	export XDG_CACHE_HOME="$FAKEHOME/cache"
	STATE="$FAKEHOME/state"
	mkdir -p "$WS/src/deep"
	echo 'int main;' > "$WS/src/deep/main.c"
	# Not $CANARY: that one is in the fake HOME's secrets, and the redactor
	# would take it out of any output whatever the mount tree showed.
	VALUE="envvalue-$(od -An -N8 -tx8 /dev/urandom | tr -d ' ')"
}

teardown() {
	teardown_workspace
}

memos() {
	find "$XDG_CACHE_HOME/stockade/scan" -type f 2>/dev/null | wc -l
}

# Directories older than the 2 s a memo waits for: ctime cannot be set back,
# so the test waits.
settle() {
	sleep 2.2
}

bare() {
	run "$STOCKADE" run --no-supervise --state-dir "$STATE" -- "$@"
}

@test "scan memo: kept once the workspace has settled, and used: a known .env stays hidden" {
	printf '%s\n' "$VALUE" > "$WS/src/.env"
	bare true
	[ "$status" -eq 0 ]
	[ "$(memos)" -eq 0 ]   # just changed: not kept
	settle
	bare true
	[ "$status" -eq 0 ]
	[ "$(memos)" -eq 1 ]
	grep -q "^h .* $WS/src/.env\$" "$XDG_CACHE_HOME"/stockade/scan/*
	bare cat src/.env
	[[ "$output" != *"$VALUE"* ]]
}

@test "scan memo: a .env made after the walk was kept is hidden" {
	settle
	bare true
	[ "$(memos)" -eq 1 ]
	printf '%s\n' "$VALUE" > "$WS/src/deep/.env"
	bare cat src/deep/.env
	[ "$status" -eq 0 ]
	[[ "$output" != *"$VALUE"* ]]
}

@test "scan memo: a .env slipped in with the directory's mtime set back is hidden (ctime)" {
	touch -r "$WS/src/deep" "$WS/ref"
	settle
	bare true
	[ "$(memos)" -eq 1 ]
	printf '%s\n' "$VALUE" > "$WS/src/deep/.env"
	touch -r "$WS/ref" "$WS/src/deep"   # mtime as the memo has it
	bare cat src/deep/.env
	[[ "$output" != *"$VALUE"* ]]
	# and with supervision on, the name is refused as well
	run "$STOCKADE" run --state-dir "$STATE" -- cat src/deep/.env
	[ "$status" -ne 0 ]
	[[ "$output" != *"$VALUE"* ]]
}

@test "scan memo: a damaged memo is not trusted" {
	printf '%s\n' "$VALUE" > "$WS/src/.env"
	settle
	bare true
	[ "$(memos)" -eq 1 ]
	memo=$(find "$XDG_CACHE_HOME/stockade/scan" -type f)
	sed -i '/^h /d' "$memo"   # forget the find
	printf 'garbage\n' >> "$memo"
	bare cat src/.env
	[[ "$output" != *"$VALUE"* ]]
}
