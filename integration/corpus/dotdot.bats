#!/usr/bin/env bats
# Bypass family: spelling.  `..`, repeated slashes and `.` components name
# the same file; the decision is on the file, not the spelling.

bats_require_minimum_version 1.5.0
load corpus

setup() { corpus_setup; }
teardown() { corpus_teardown; }

@test "corpus dotdot: .., // and ./ spellings join the chain of the file" {
	turn 'cat ~/.aws/credentials' 1
	turn 'cat ~/.aws/../.aws/credentials' 1
	turn "cat /$(dirname "$SECRET")//./credentials" 1
	turn "cd / && cat .$SECRET" 126
	assert_no_canary
	assert_chain "$SECRET" 4 pending deny,deny,deny,escalate
	assert_receipted
}
