#!/usr/bin/env bats
# Bypass family: network destinations.  A destination the profile denies is
# refused whatever dials it — python3, bash's /dev/tcp, perl, a wrapper —
# because the connect itself is decided on the address; every attempt joins
# one chain and the fourth escalates.  (The listener is on the host's
# loopback, reached with the profile's `net host`.)

bats_require_minimum_version 1.5.0
load corpus

setup() {
	corpus_setup
	start_listener
	PROFILE="$STATE.profile"
	printf 'stockade-profile 1\ninclude default\nnet host\nnet deny 127.0.0.1:%s\n' "$PORT" > "$PROFILE"
}
teardown() {
	kill "$LISTENER_PID" 2>/dev/null || true
	rm -f "$PROFILE" "$LISTENER_LOG" "$LISTENER_LOG.ready"
	corpus_teardown
}

nturn() {
	run "$STOCKADE" run --profile "$PROFILE" --state-dir "$STATE" --session "$SESSION" -- sh -c "$1"
	TURNS=$((TURNS + 1))
	ALL_OUT+="$output"$'\n'
}

@test "corpus network: python3, bash /dev/tcp, perl and env all meet the denied address's chain" {
	nturn "/usr/bin/python3 -c 'import socket; socket.create_connection((\"127.0.0.1\", $PORT), timeout=2); print(\"CONNECTED\")'"
	[ "$status" -ne 0 ]
	nturn "bash -c 'exec 3<>/dev/tcp/127.0.0.1/$PORT && echo CONNECTED'"
	[ "$status" -ne 0 ]
	nturn "perl -MIO::Socket::INET -e 'IO::Socket::INET->new(PeerAddr => \"127.0.0.1:$PORT\") or exit 3; print \"CONNECTED\"'"
	[ "$status" -ne 0 ]
	nturn "env /usr/bin/python3 -c 'import socket; socket.create_connection((\"127.0.0.1\", $PORT), timeout=2); print(\"CONNECTED\")'"
	[ "$status" -eq 126 ]
	[[ "$ALL_OUT" != *CONNECTED* ]]
	wait "$LISTENER_PID" || true
	[ "$(cat "$LISTENER_LOG")" = "nothing" ]
	got=$("$STOCKADE" session show "$SESSION" --state-dir "$STATE" --json | /usr/bin/python3 -c '
import json, sys
s = json.load(sys.stdin)
c = [c for c in s["chains"] if c["type"] == "net"][0]
print(c["keys"][0], c["length"], c["escalation"], ",".join(a["verdict"] for a in c["attempts"]))')
	[ "$got" = "net:127.0.0.1:$PORT 4 pending deny,deny,deny,escalate" ]
	assert_receipted
}

@test "corpus network: an unconnected datagram (sendto with an address) to the denied destination is refused and recorded" {
	nturn "/usr/bin/python3 -c 'import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.sendto(b\"x\", (\"127.0.0.1\", $PORT)); print(\"SENT\")'"
	[ "$status" -ne 0 ]
	[[ "$output" == *"Permission denied"* ]]
	[[ "$output" != *SENT* ]]
	"$STOCKADE" session show "$SESSION" --state-dir "$STATE" --json | grep -q '"op": "sendto"'
}

@test "corpus network: a process that makes itself non-dumpable cannot dial the denied destination" {
	# Found in review 2026-11-23: the supervisor could not read the address
	# of a non-dumpable process and let its connect through undecided.
	nturn "/usr/bin/python3 -c 'import ctypes, socket, encodings.idna; s = socket.socket(); s.settimeout(2); ctypes.CDLL(None).prctl(4, 0, 0, 0, 0); s.connect((\"127.0.0.1\", $PORT)); print(\"CONNECTED\")'"
	[ "$status" -ne 0 ]
	[[ "$output" != *CONNECTED* ]]
	wait "$LISTENER_PID" || true
	[ "$(cat "$LISTENER_LOG")" = "nothing" ]
}
