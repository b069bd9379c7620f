#!/usr/bin/env bats
# Bypass family: /proc paths.  /proc/self/root, /proc/self/cwd,
# /proc/PID/cwd, /proc/self/fd/N of a directory fd, /dev/fd/N: each names
# the same object as the direct path, and is decided as that object.

bats_require_minimum_version 1.5.0
load corpus

setup() {
	corpus_setup
	printf 'API_KEY=%s\n' "$CANARY" > "$WS/.env"
}
teardown() { corpus_teardown; }

@test "corpus proc: /proc/self/root to a secret outside the workspace joins its chain" {
	turn 'cat ~/.aws/credentials' 1
	turn "cat /proc/self/root$SECRET" 1
	turn "cat /proc/\$\$/root$SECRET" 1
	turn "cat /proc/thread-self/root/$SECRET" 126
	assert_no_canary
	assert_chain "$SECRET" 4 pending deny,deny,deny,escalate
	assert_receipted
}

@test "corpus proc: cwd and fd links to a workspace secret join its chain" {
	turn 'cat .env' 1
	turn 'cat /proc/$$/cwd/.env' 1
	turn 'exec 3< . && cat /proc/self/fd/3/.env' 1
	turn 'exec 4< . && cat /dev/fd/4/.env' 126
	assert_no_canary
	assert_chain "$WS/.env" 4 pending deny,deny,deny,escalate
	assert_receipted
}
