#!/usr/bin/env bats
# stockaded over its real socket.  Runs as root and as nobody.

bats_require_minimum_version 1.5.0
load helpers

STOCKADED=$(dirname "$STOCKADE")/stockaded
PY=$(command -v /usr/bin/python3 || command -v python3)
CLIENT="$PY $BATS_TEST_DIRNAME/daemon_client.py"

setup() {
	setup_workspace
	DDIR=$(mktemp -d /tmp/stockaded.XXXXXX)
	chmod 755 "$DDIR" "$WS"
	SOCK=$DDIR/s.sock
	group=()
	[ "$(id -u)" -ne 0 ] || group=(--group nogroup)
	"$STOCKADED" --socket "$SOCK" --state-dir "$DDIR/state" "${group[@]}" \
		--client-buffer 256K --client-timeout 2 </dev/null >"$DDIR/log" 2>&1 3>&- &
	DPID=$!
	for _ in $(seq 50); do [ -S "$SOCK" ] && break; sleep 0.1; done
	[ -S "$SOCK" ]
}

teardown() {
	kill "$DPID" 2>/dev/null || true
	wait "$DPID" 2>/dev/null || true
	rm -rf "$DDIR"
	teardown_workspace
}

@test "status round trip" {
	run $CLIENT "$SOCK" raw '{"jsonrpc":"2.0","id":7,"method":"status"}'
	[ "$status" -eq 0 ]
	[[ "$output" == *'"id": 7'* ]]
	[[ "$output" == *'"version": "'* ]]
	[[ "$output" == *'"sessions": 0'* ]]
}

@test "the socket has a tight mode" {
	mode=$(stat -c %a "$SOCK")
	[ "$mode" = 600 ] || [ "$mode" = 660 ]
}

@test "exec of echo hello streams the output and exits 0" {
	run $CLIENT "$SOCK" run "$WS" echo hello
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "hello" ]
	[[ "${lines[1]}" == 'RESULT '*'"exit": 0'*'"denied": false'* ]]
}

@test "a denied command gets 126 and denied true" {
	run $CLIENT "$SOCK" run "$WS" sudo true
	[ "$status" -eq 0 ]
	[[ "$output" == *'"exit": 126'* ]]
	[[ "$output" == *'"denied": true'* ]]
}

@test "malformed JSON and unknown methods get errors; the connection still works" {
	run $CLIENT "$SOCK" raw '{bad json' '{"jsonrpc":"2.0","id":1,"method":"no.such"}' \
		'{"jsonrpc":"2.0","id":2,"method":"exec","params":{"session":5}}' '[1,2]' \
		'{"jsonrpc":"2.0","id":3,"method":"status"}'
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" == *'"code": -32700'* ]]
	[[ "${lines[1]}" == *'"code": -32601'* ]]
	[[ "${lines[2]}" == *'"code": -32602'* ]]
	[[ "${lines[3]}" == *'"code": -32600'* ]]
	[[ "${lines[4]}" == *'"result"'*'"version"'* ]]
	kill -0 "$DPID"
}

@test "an oversized line gets an error and the client is dropped; the daemon stays up" {
	run "$PY" -c '
import socket, sys, threading
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
def flood():
    try: s.sendall(b"x" * (2 << 20))
    except OSError: pass
threading.Thread(target=flood, daemon=True).start()
print(s.makefile("rb").readline().decode())' "$SOCK"
	[[ "$output" == *'-32003'* ]]
	run $CLIENT "$SOCK" raw '{"jsonrpc":"2.0","id":1,"method":"status"}'
	[[ "$output" == *'"result"'* ]]
}

@test "another uid cannot use a session it does not own" {
	[ "$(id -u)" -eq 0 ] || skip "needs root to act as a second uid"
	sid=$($CLIENT "$SOCK" open "$WS")
	[ -n "$sid" ]
	run setpriv --reuid nobody --regid nogroup --clear-groups $CLIENT "$SOCK" exec "$sid" echo hi
	[[ "$output" == *'"code": -32001'* ]]
	[[ "$output" != *'"result"'* ]]
	run $CLIENT "$SOCK" exec "$sid" echo mine
	[[ "$output" == *'"exit": 0'* ]]
}

@test "20 concurrent clients each get their own output" {
	pids=()
	for n in $(seq 20); do
		$CLIENT "$SOCK" run "$WS" echo "client-$n" >"$DDIR/out.$n" 2>&1 &
		pids+=($!)
	done
	wait "${pids[@]}"
	for n in $(seq 20); do
		[ "$(head -1 "$DDIR/out.$n")" = "client-$n" ]
		grep -q '"exit": 0' "$DDIR/out.$n"
		[ "$(grep -c client- "$DDIR/out.$n")" -eq 1 ]
	done
}

@test "a client that disconnects mid-command leaves no process behind" {
	marker=$((RANDOM + 31000))
	$CLIENT "$SOCK" run "$WS" sleep "$marker" >/dev/null 2>&1 3>&- &
	cpid=$!
	for _ in $(seq 100); do pgrep -f "^sleep $marker\$" >/dev/null && break; sleep 0.1; done
	pgrep -f "^sleep $marker\$"
	kill "$cpid"
	wait "$cpid" || true
	for _ in $(seq 50); do pgrep -f "^sleep $marker\$" >/dev/null || break; sleep 0.1; done
	run pgrep -f "^sleep $marker\$"
	[ "$status" -eq 1 ]
	run $CLIENT "$SOCK" raw '{"jsonrpc":"2.0","id":1,"method":"status"}'
	[[ "$output" == *'"running": 0'* ]]
}

@test "exec.cancel kills a running command and answers its exec" {
	run "$PY" -c '
import json, socket, sys, time
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); f = s.makefile("rwb")
def send(o): f.write(json.dumps(o).encode() + b"\n"); f.flush()
def recv(): return json.loads(f.readline())
send({"jsonrpc": "2.0", "id": 1, "method": "session.open", "params": {"workspace": sys.argv[2]}})
sid = recv()["result"]["session"]
send({"jsonrpc": "2.0", "id": "e1", "method": "exec", "params": {"session": sid, "argv": ["sleep", "60"]}})
time.sleep(0.5)
send({"jsonrpc": "2.0", "id": 2, "method": "exec.cancel", "params": {"id": "e1"}})
print(json.dumps(recv())); print(json.dumps(recv()))
send({"jsonrpc": "2.0", "id": 3, "method": "exec.cancel", "params": {"id": "e1"}})
print(json.dumps(recv()))' "$SOCK" "$WS"
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" == *'"cancelled": true'* ]]
	[[ "${lines[1]}" == *'"id": "e1"'*'"message": "cancelled"'* ]]
	[[ "${lines[2]}" == *'"code": -32004'* ]]
}

@test "a client that stops reading is dropped and stalls nobody" {
	"$PY" -c '
import json, socket, sys, time
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); f = s.makefile("rwb")
def send(o): f.write(json.dumps(o).encode() + b"\n"); f.flush()
send({"jsonrpc": "2.0", "id": 1, "method": "session.open", "params": {"workspace": sys.argv[2]}})
sid = json.loads(f.readline())["result"]["session"]
send({"jsonrpc": "2.0", "id": 2, "method": "exec", "params": {"session": sid, "command": "yes stockade-flood | head -c 50000000"}})
time.sleep(30)' "$SOCK" "$WS" 3>&- &
	stuck=$!
	sleep 1
	start=$(date +%s)
	run $CLIENT "$SOCK" run "$WS" echo still-served
	[ "${lines[0]}" = still-served ]
	[ $(( $(date +%s) - start )) -lt 10 ]
	# dropped after --client-timeout: its flood is killed, nothing runs
	for _ in $(seq 80); do
		out=$($CLIENT "$SOCK" raw '{"jsonrpc":"2.0","id":1,"method":"status"}')
		[[ "$out" == *'"running": 0'* ]] && break
		sleep 0.1
	done
	kill "$stuck" 2>/dev/null || true
	wait "$stuck" 2>/dev/null || true
	[[ "$out" == *'"running": 0'* ]]
	run pgrep -f "yes stockade-flood"
	[ "$status" -eq 1 ]
}

@test "readiness is notified to NOTIFY_SOCKET" {
	"$PY" -c '
import os, socket, subprocess, sys
d = sys.argv[1]
n = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); n.bind(d + "/notify"); n.settimeout(10)
p = subprocess.Popen([sys.argv[2], "--socket", d + "/n.sock", "--state-dir", d + "/st2"],
                     env=dict(os.environ, NOTIFY_SOCKET=d + "/notify"), stdin=subprocess.DEVNULL)
try:
    print(n.recv(100).decode())
    print(os.path.exists(d + "/n.sock"))
finally:
    p.terminate(); p.wait()
print(os.path.exists(d + "/n.sock"))' "$DDIR" "$STOCKADED" >"$DDIR/notify.out" 3>&-
	run cat "$DDIR/notify.out"
	[ "${lines[0]}" = READY=1 ]
	[ "${lines[1]}" = True ]
	[ "${lines[2]}" = False ]
}

@test "stockade exec --connect prints the output and exits with the command's code" {
	run "$STOCKADE" exec --connect "$SOCK" -- sh -c 'echo out; exit 3'
	[ "$status" -eq 3 ]
	[ "$output" = out ]
	run "$STOCKADE" exec --connect "$DDIR/none.sock" -- true
	[ "$status" -eq 125 ]
}
