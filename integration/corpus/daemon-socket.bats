#!/usr/bin/env bats
# Bypass family: stockaded's own socket, reached from inside a sandbox.
# Found 2026-12-07 in review.  A daemon whose socket lies in a tree the
# sandbox sees (here: the workspace, where an agent harness may well put
# it) answered a command run in a sandbox: as the caller's uid, which is an
# operator (root always is; a user's own daemon names the user), the
# command listed the pending escalations and approved its own.
# Fixed: every sandbox of the daemon hides the daemon's socket, and so does
# `stockade run` for the default socket paths; an operator's call
# (escalation.decide) must come from the daemon's own pid namespace, which
# no sandbox shares, whatever name it reached the socket by.

bats_require_minimum_version 1.5.0
load corpus

PY=/usr/bin/python3
CLIENT="$PY $BATS_TEST_DIRNAME/../daemon_client.py"

# From inside the sandbox: list the escalations, approve each, print what
# the daemon said.  SELF-APPROVED marks a success.
ATTACK='
import json, socket, sys
s = socket.socket(socket.AF_UNIX)
try:
    s.connect(sys.argv[1])
except OSError as e:
    print("no connect: errno", e.errno); sys.exit(0)
f = s.makefile("rw")
def rpc(i, method, params):
    f.write(json.dumps({"jsonrpc": "2.0", "id": i, "method": method, "params": params}) + "\n"); f.flush()
    return json.loads(f.readline())
esc = rpc(1, "escalation.list", {}).get("result", {}).get("escalations", [])
print("seen escalations:", len(esc))
for e in esc:
    r = rpc(2, "escalation.decide", {"id": e["id"], "decision": "approve", "reason": "self"})
    print("SELF-APPROVED" if "result" in r else "refused: " + json.dumps(r.get("error")))
'

setup() {
	corpus_setup
	DDIR=$(mktemp -d /tmp/stockaded.XXXXXX)
	chmod 755 "$DDIR" "$WS"
}

teardown() {
	kill "$DPID" 2>/dev/null || true
	wait "$DPID" 2>/dev/null || true
	rm -rf "$DDIR"
	corpus_teardown
}

# An escalation pending in a session of the daemon: $sid, chain 1 (ssh).
escalate_ssh() {
	sid=$($CLIENT "$SOCK" open "$WS")
	run $CLIENT "$SOCK" exec "$sid" ssh -V
	[[ "$output" == *'"escalated": true'* ]]
}

assert_still_pending() {
	run $CLIENT "$SOCK" rpc escalation.list '{}'
	[[ "$output" == *"\"id\": \"$sid#1\""* ]]
	run $CLIENT "$SOCK" exec "$sid" ssh -V
	[[ "$output" != *'"verdict": "allow"'* ]]
}

@test "corpus daemon-socket: a command the daemon runs cannot reach the daemon's socket in its workspace" {
	SOCK="$WS/stockade.sock"
	start_stockaded
	escalate_ssh
	run $CLIENT "$SOCK" exec "$sid" "$PY" -c "$ATTACK" "$SOCK"
	echo "$output"
	[[ "$output" != *SELF-APPROVED* ]]
	[[ "$output" != *"seen escalations"* ]]
	assert_still_pending
}

@test "corpus daemon-socket: a command under stockade run cannot approve through a socket it can see" {
	SOCK="$WS/stockade.sock"
	start_stockaded
	escalate_ssh
	# The prefix wrapper cannot know a socket named by --socket: the daemon
	# itself refuses a decision from outside its pid namespace.
	run "$STOCKADE" run --state-dir "$DDIR/run-state" -- "$PY" -c "$ATTACK" "$SOCK"
	echo "$output"
	[[ "$output" != *SELF-APPROVED* ]]
	assert_still_pending
}

@test "corpus daemon-socket: another name of the socket (a hard link) in the workspace approves nothing" {
	SOCK="$DDIR/s.sock"
	start_stockaded
	escalate_ssh
	ln "$SOCK" "$WS/link.sock"
	run $CLIENT "$SOCK" exec "$sid" "$PY" -c "$ATTACK" "$WS/link.sock"
	echo "$output"
	[[ "$output" != *SELF-APPROVED* ]]
	assert_still_pending
}

@test "corpus daemon-socket: stockade run hides the default socket (XDG_RUNTIME_DIR inside the workspace)" {
	[ "$(id -u)" -ne 0 ] || skip "root's default socket is /run/stockade/stockade.sock: /run is private in every sandbox"
	mkdir -p "$WS/run"
	SOCK="$WS/run/stockade.sock"
	XDG_RUNTIME_DIR="$WS/run" start_stockaded
	escalate_ssh
	run env XDG_RUNTIME_DIR="$WS/run" "$STOCKADE" run --state-dir "$DDIR/run-state" -- \
		sh -c 'test -S run/stockade.sock && echo SOCKET-VISIBLE; echo done'
	[[ "$output" != *SOCKET-VISIBLE* ]]
	[[ "$output" == *done* ]]
}
