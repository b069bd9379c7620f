#!/usr/bin/env bats
# Bypass family: bind mounts.  The secret's directory is bind-mounted on the
# host into the workspace under another name before the run: the same
# inodes at new paths.  The mount tree hides every name of a hidden inode
# it finds in the workspace, and the supervisor decides on device and
# inode, so the other path meets the same verdict and the same chain.
# Making the bind mount needs root on the host: as another user the case
# is skipped, and says so.

bats_require_minimum_version 1.5.0
load corpus

setup() { corpus_setup; }
teardown() { corpus_teardown; }

@test "corpus bind mount: a host bind mount of the secret's directory joins its chain" {
	[ "$(id -u)" -eq 0 ] || skip "making a host bind mount needs root"
	mkdir -p "$WS/mirror"
	# A private mount namespace for the test: the host's mounts are untouched.
	run unshare -m sh -c '
		mount --bind "$1" "$2/mirror" || exit 99
		for c in "cat $3" "cat mirror/credentials" "rev mirror/credentials" "cat ./mirror/../mirror/credentials"; do
			"$4" run --state-dir "$5" --session "$6" -- sh -c "$c"
			echo "status=$?"
		done' sh "$FAKEHOME/.aws" "$WS" "$SECRET" "$STOCKADE" "$STATE" "$SESSION"
	ALL_OUT="$output"
	[ "$status" -ne 99 ]
	[[ "$output" == *"status=126"* ]]
	assert_no_canary
	assert_chain "$SECRET" 4 pending deny,deny,deny,escalate
	assert_receipted
}
