#!/usr/bin/env bats
# Bypass family: the caller's terminal.  When stockade runs on a terminal
# (an agent harness that runs commands in a pty, or a person), the command
# inherited it as its stdin and as its controlling terminal, and a write to
# either went straight to the screen past the redactor:
#   cat token.txt >&0      (fd 0 is the terminal, opened read-write)
#   cat token.txt >/dev/tty
# Found 2026-12-04 in review: both printed a GitHub token that stdout
# redacts.  Fixed: the sandbox gives up the controlling terminal
# (/dev/tty has nothing behind it) and a terminal on stdin is
# relayed to the command through a pipe, so the command never holds it.

bats_require_minimum_version 1.5.0
load ../helpers

setup() {
	setup_workspace
	TOKEN="ghp_$(od -An -N18 -tx1 /dev/urandom | tr -d ' \n')"
	printf 'token: %s\n' "$TOKEN" > "$WS/token.txt"
}
teardown() { teardown_workspace; }

# on_terminal 'SHELL COMMAND': stockade runs it on a fresh pty (script(1));
# $output is everything that reached the terminal.
on_terminal() {
	local cmd
	printf -v cmd '%q run -- sh -c %q' "$STOCKADE" "$1"
	run script -qec "$cmd" /dev/null
}

@test "corpus terminal: writes to fd 0 and /dev/tty do not reach the terminal unredacted" {
	on_terminal 'cat token.txt; cat token.txt >&0; cat token.txt >/dev/tty; echo done'
	[[ "$output" != *"$TOKEN"* ]]
	[[ "$output" == *"[REDACTED:"* ]]   # the stdout path is redacted and shown
	[[ "$output" == *done* ]]
}

@test "corpus terminal: the command has no terminal, and its stdin still reads what is typed" {
	local cmd
	printf -v cmd '%q run -- sh -c %q' "$STOCKADE" 'tty; [ -t 0 ] && echo stdin-is-tty; read -r line; echo "got:$line"'
	run script -qec "$cmd" /dev/null < <(sleep 1; printf 'hello\n'; sleep 1)
	[[ "$output" == *"not a tty"* ]]
	[[ "$output" != *stdin-is-tty* ]]
	[[ "$output" == *"got:hello"* ]]
}

@test "corpus terminal: a reopen of stdin or init's stdin through /proc reaches no terminal" {
	on_terminal 'for f in /proc/self/fd/0 /dev/tty /proc/1/fd/0 /dev/stdin; do (cat token.txt > $f) 2>/dev/null; done; ls -l /proc/self/fd/0; echo done'
	[[ "$output" != *"$TOKEN"* ]]
	[[ "$output" == *"pipe:"* ]]
	[[ "$output" == *done* ]]
}
