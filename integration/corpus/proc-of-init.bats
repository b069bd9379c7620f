#!/usr/bin/env bats
# Bypass family: /proc of the sandbox's own pid 1.  The sandbox's init is a
# copy of the caller's process: its /proc/1/environ held the caller's whole
# environment (secret variables that the profile withholds from the
# command), /proc/1/mem its memory.  Found 2026-11-23: `rev` of
# /proc/1/environ printed AWS-style secrets past the redactor.
# Fixed: init makes itself non-dumpable as soon as its id maps are written,
# so the command (same uid, no capabilities) cannot open its /proc files,
# ptrace it or take its fds.

bats_require_minimum_version 1.5.0
load ../helpers

setup() { setup_workspace; }
teardown() { teardown_workspace; }

@test "corpus proc-of-init: /proc/1/environ does not give the caller's secret variables" {
	export DEPLOY_TOKEN="$CANARY"
	run "$STOCKADE" run -- sh -c 'tr "\0" "\n" < /proc/1/environ | rev; rev /proc/1/cmdline; echo done'
	unset DEPLOY_TOKEN
	rev_canary=$(printf '%s' "$CANARY" | rev)
	[[ "$output" != *"$rev_canary"* ]]
	[[ "$output" != *"$CANARY"* ]]
	[[ "$output" == *done* ]]
}

@test "corpus proc-of-init: /proc/1/mem and /proc/1/fd are closed to the command" {
	export DEPLOY_TOKEN="$CANARY"
	run "$STOCKADE" run -- sh -c 'readlink /proc/1/fd/1 >/dev/null 2>&1 && echo fd-open; head -c1 /proc/1/fd/0 >/dev/null 2>&1 && echo fd-read; head -c1 /proc/1/mem >/dev/null 2>&1 && echo mem-open; grep -c . /proc/1/maps >/dev/null 2>&1 && echo maps-open; echo done'
	unset DEPLOY_TOKEN
	[[ "$output" != *fd-open* ]]
	[[ "$output" != *fd-read* ]]
	[[ "$output" != *mem-open* ]]
	[[ "$output" != *maps-open* ]]
	[[ "$output" == *done* ]]
}
