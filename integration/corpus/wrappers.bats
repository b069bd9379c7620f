#!/usr/bin/env bats
# Bypass family: wrappers.  sh -c, env, xargs, find -exec, busybox and
# script run the same read (or the same denied command) one process
# further away; supervision sees every process of the tree.

bats_require_minimum_version 1.5.0
load corpus

setup() { corpus_setup; }
teardown() { corpus_teardown; }

@test "corpus wrappers: env, xargs, find -exec and busybox reading a secret join its chain" {
	turn 'env cat ~/.aws/credentials' 1
	turn 'echo ~/.aws/credentials | xargs cat' 123
	turn "find / -maxdepth 0 -exec cat '{}$SECRET' \\;"
	turn 'busybox cat ~/.aws/credentials' 126
	assert_no_canary
	assert_chain "$SECRET" 4 pending deny,deny,deny,escalate
	assert_receipted
}

@test "corpus wrappers: script(1) and sh -c around a denied command meet the command's verdict" {
	su_path=$(readlink -f "$(command -v su)")
	turn 'su -c true'
	[ "$status" -ne 0 ]
	turn 'sh -c "su -c true"'
	[ "$status" -ne 0 ]
	turn 'env su -c true'
	[ "$status" -ne 0 ]
	turn 'script -qec "su -c true" /dev/null' 126
	[[ "$output" == *"awaits a human decision"* ]]
	assert_escalated "$su_path"
	assert_receipted
}
