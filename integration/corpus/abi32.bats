#!/usr/bin/env bats
# Bypass family: the 32-bit system call ABI.  A 64-bit machine runs i386
# programs too (int $0x80): their calls have other numbers, their message
# headers another layout, and socket calls can go through the socketcall
# multiplexer, whose arguments a filter cannot see.  A 32-bit open of a
# copy of the secret, a 32-bit sendmsg or sendmmsg to a denied destination
# (their headers read in the 32-bit layout) and socketcall must all meet
# the same verdicts as their 64-bit forms.  The program is abi32.c, built
# without libc, so any x86_64 gcc builds it.

bats_require_minimum_version 1.5.0
load corpus

setup_file() {
	command -v cc >/dev/null || skip "no C compiler to build the i386 test program"
	cc -m32 -nostdlib -static -ffreestanding -fno-pie -no-pie -fno-stack-protector -O1 \
		-o "$BATS_FILE_TMPDIR/abi32" "$BATS_TEST_DIRNAME/abi32.c"
}

setup() {
	corpus_setup
	cp "$BATS_FILE_TMPDIR/abi32" "$WS/abi32"
}
teardown() {
	[ -z "${LISTENER_PID:-}" ] || kill "$LISTENER_PID" 2>/dev/null || true
	rm -f "$STATE.profile" "${LISTENER_LOG:-}" "${LISTENER_LOG:-x}.ready"
	corpus_teardown
}

@test "corpus abi32: 32-bit opens of the secret and of its copy are refused and join one chain" {
	cp "$SECRET" "$WS/creds.bak"
	turn 'cat ~/.aws/credentials' 1
	turn './abi32 cat creds.bak | rev'
	turn './abi32 cat ~/.aws/credentials | od -c'
	assert_no_canary
	assert_chain "$SECRET" 3 none deny,deny,deny
	assert_receipted
	# The program does read files: the verdicts above are not its failure.
	printf 'plain-text-%s\n' "$$" > "$WS/plain.txt"
	run "$STOCKADE" run --state-dir "$STATE" -- ./abi32 cat plain.txt
	[ "$status" -eq 0 ]
	[ "$output" = "plain-text-$$" ]
}

@test "corpus abi32: 32-bit sendmsg and sendmmsg to the denied destination are refused and recorded" {
	start_listener
	printf 'stockade-profile 1\ninclude default\nnet host\nnet deny 127.0.0.1:%s\n' "$PORT" > "$STATE.profile"
	other=$((PORT > 30000 ? PORT - 7 : PORT + 7))
	run "$STOCKADE" run --profile "$STATE.profile" --state-dir "$STATE" --session "$SESSION" -- ./abi32 sendmsg "$PORT"
	[ "$status" -eq 1 ]
	[ "$output" = "error 13" ]
	run "$STOCKADE" run --profile "$STATE.profile" --state-dir "$STATE" --session "$SESSION" -- ./abi32 sendmmsg "$PORT"
	[ "$status" -eq 1 ]
	[ "$output" = "error 13" ]
	shown=$("$STOCKADE" session show "$SESSION" --state-dir "$STATE" --json)
	[[ "$shown" == *'"op": "sendmsg"'* ]]
	[[ "$shown" == *'"op": "sendmmsg"'* ]]
	assert_receipted
	# A destination that is not denied goes out: the 32-bit headers were
	# read right, not refused for being unreadable.
	run "$STOCKADE" run --profile "$STATE.profile" --state-dir "$STATE" -- ./abi32 sendmsg "$other"
	[ "$status" -eq 0 ]
	[ "$output" = "SENT" ]
}

@test "corpus abi32: socket calls through socketcall are refused; the direct calls work" {
	run "$STOCKADE" run --state-dir "$STATE" -- ./abi32 socketcall
	[ "$status" -eq 1 ]
	[ "$output" = "error 1" ]
	run "$STOCKADE" run --state-dir "$STATE" -- ./abi32 socket
	[ "$status" -eq 0 ]
	[ "$output" = "OK" ]
}
