#!/usr/bin/env bats
# What supervision must not break: everyday tools under `stockade run`, with
# every open, exec and connect decided by the supervisor.  Each case here is
# a false refusal found while building it (a FIFO woken by the supervisor's
# own open, a pipe behind /dev/stdin, glibc probing nscd's socket) or a path
# the supervisor takes that plain runs do not.

bats_require_minimum_version 1.5.0
load corpus/corpus

setup() { corpus_setup; }
teardown() { corpus_teardown; }

@test "workloads: git, tar (NSS lookups), sed -i, flock, a venv and node run with no attempt recorded" {
	run "$STOCKADE" run --state-dir "$STATE" -- sh -c '
		set -e
		git init -q . && git config user.email a@b && git config user.name a
		echo hello > a.txt && git add a.txt && git commit -qm one && git log --oneline | wc -l
		tar czf t.tgz a.txt && tar tzf t.tgz
		sed -i s/hello/bye/ a.txt && cat a.txt
		flock lockf -c "echo locked"
		/usr/bin/python3 -m venv v >/dev/null && ./v/bin/python -c "import sys; print(sys.prefix.endswith(\"/v\"))"
		node -e "require(\"fs\").writeFileSync(\"n.txt\", \"node ok\"); console.log(require(\"fs\").readFileSync(\"n.txt\", \"utf8\"))"
		id -un >/dev/null'
	[ "$status" -eq 0 ]
	[[ "$output" == *"a.txt"*"bye"*"locked"*"True"*"node ok"* ]]
	! grep -q '"type":"event"' "$STATE/receipts.jsonl"
}

@test "workloads: named FIFOs both ways, pipes behind /dev/stdin, /proc/self/fd and /dev/fd" {
	run timeout 60 "$STOCKADE" run --state-dir "$STATE" -- sh -c '
		set -e
		mkfifo q; (sleep 0.3; cat q) & echo to-reader > q; wait
		mkfifo r; (sleep 0.3; echo to-writer > r) & cat r; wait
		printf "x\n" | cat /dev/stdin
		printf "y\n" | cat /proc/self/fd/0
		exec 3<>/dev/null; cat /dev/fd/3; echo fd3-ok'
	[ "$status" -eq 0 ]
	[ "$output" = "$(printf 'to-reader\nto-writer\nx\ny\nfd3-ok')" ]
	! grep -q '"type":"event"' "$STATE/receipts.jsonl"
}

# Found 2026-12-07: every O_PATH open failed with EBADF (ADDFD cannot pass
# an O_PATH file), so coreutils' `cp FILE DIR/` said "cannot overwrite
# directory"; an O_PATH open of a secret is still refused.
@test "workloads: O_PATH opens (cp into a directory, find, /proc/self/fd) work; of a secret they are refused" {
	mkdir d
	run "$STOCKADE" run --state-dir "$STATE" -- sh -c '
		set -e
		cp /etc/hostname d/ && cp -r d e && ls e
		find d -type f
		/usr/bin/python3 -c "
import os
fd = os.open(\"d\", os.O_PATH | os.O_DIRECTORY)
print(\"opath\", os.listdir(\"/proc/self/fd/%d\" % fd))
try:
    os.open(os.path.expanduser(\"~/.aws/credentials\"), os.O_PATH)
    print(\"secret opened\")
except PermissionError:
    print(\"secret refused\")
try:
    os.open(\".env\", os.O_PATH)
except OSError as e:
    print(\"dotenv\", e.strerror)
"'
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$output" = "$(printf 'hostname\nd/hostname\nopath [%shostname%s]\nsecret refused\ndotenv Permission denied' "'" "'")" ]
}

@test "workloads: creating a secret-named file is refused before it exists; read-only refusals stay the kernel's" {
	run "$STOCKADE" run --state-dir "$STATE" -- sh -c 'echo A=1 > .env; touch /usr/stockade-x; echo done'
	[[ "$output" == *".env: Permission denied"* ]]
	[[ "$output" == *"Read-only file system"* ]]
	[ ! -e "$WS/.env" ]
	[ "$(grep -c '"type":"event"' "$STATE/receipts.jsonl")" -eq 1 ]
}

@test "workloads: an approved command chain runs the command again" {
	su_path=$(readlink -f "$(command -v su)")
	for i in 1 2 3 4; do turn 'su -c true 2>/dev/null; true'; done
	assert_escalated "$su_path"
	run "$STOCKADE" approve "$SESSION" 1 --state-dir "$STATE"
	[ "$status" -eq 0 ]
	run "$STOCKADE" run --state-dir "$STATE" --session "$SESSION" -- sh -c 'test -x '"$su_path"' && su --version >/dev/null 2>&1; echo ran=$?'
	[[ "$output" == *"ran="* ]]
	[[ "$output" != *"Permission denied"* ]]
	[[ "$output" != *"awaits a human decision"* ]]
}

@test "workloads: parallel C builds (make -j2) are reliable under supervision, run after run" {
	# Found 2026-11-23: a supervisor whose syscalls a signal could interrupt
	# handed a compiler a broken file now and then ("file too short").
	for i in 0 1 2 3 4 5 6 7; do
		printf '#include <stdio.h>\n#include <string.h>\n#include <math.h>\nint f%d(int x) { char b[32]; snprintf(b, sizeof(b), "%%d", x); return (int)strlen(b) + (int)sqrt((double)x); }\n' "$i" > "u$i.c"
	done
	printf 'int main(void) { return 0; }\n' > main.c
	printf 'SRC := $(wildcard *.c)\nprog: $(SRC:.c=.o)\n\t$(CC) -o $@ $^ -lm\n%%.o: %%.c\n\t$(CC) -O1 -c -o $@ $<\nclean:\n\trm -f *.o prog\n' > Makefile
	for round in 1 2 3 4 5 6; do
		run "$STOCKADE" run --state-dir "$STATE" -- sh -c 'make -s clean && make -s -j2 && ./prog && echo built'
		[ "$status" -eq 0 ] || { echo "round $round: $output" >&2; return 1; }
		[[ "$output" == *built* ]]
	done
}

@test "workloads: concurrent openers (both broker threads): every open decided and counted, every refusal receipted in order" {
	# Past a few opens a second broker thread takes notifications while the
	# first waits in ADDFD: four openers at once keep both busy.
	echo hello > a.txt
	# Four openers of n cats each open S + 4nK files, whichever thread
	# answers: n = 50 must count exactly 49 times what n = 2 adds to n = 1.
	for n in 1 2 50; do
		run "$STOCKADE" run --verbose --state-dir "$STATE" -- sh -c '
			for p in 1 2 3 4; do (for i in $(seq '"$n"'); do cat a.txt; done) & done; wait'
		[ "$status" -eq 0 ]
		[ "$(grep -cx hello <<<"$output")" -eq $((4 * n)) ]
		opens[n]=$(sed -n 's/.*supervision: [0-9]* events (\([0-9]*\) opens.*/\1/p' <<<"$output")
	done
	echo "opens: ${opens[1]} ${opens[2]} ${opens[50]}"
	[ "${opens[2]}" -gt "${opens[1]}" ]
	[ $((opens[50] - opens[1])) -eq $((49 * (opens[2] - opens[1]))) ]
	! grep -q '"type":"event"' "$STATE/receipts.jsonl"
	# Refusals among the openers: three denied, the fourth escalates and
	# stops the command; each one receipted, whichever thread decided it.
	run "$STOCKADE" run --state-dir "$STATE" -- sh -c '
		for p in 1 2 3 4; do (for i in $(seq 30); do cat a.txt >/dev/null; done; cat /etc/shadow) & done; wait'
	[ "$status" -eq 126 ]
	[[ "$output" != *"root:"* ]]
	verdicts=$(grep '"type":"event"' "$STATE/receipts.jsonl" | /usr/bin/python3 -c '
import json, sys
print(" ".join(json.loads(l)["verdict"] + "/" + json.loads(l)["surface"]["key"].split(":")[0] for l in sys.stdin))')
	[ "$verdicts" = "deny/file deny/file deny/file escalate/file" ]
	"$STOCKADE" verify --state-dir "$STATE" >/dev/null
}

@test "workloads: allowed connects made by the supervisor behave as the process's own (blocking, non-blocking, IPv6, mapped, UDP, refused)" {
	# The supervisor connects the process's socket itself (no second read of
	# the address): every way of connecting must still work as before.
	PORT=$((20000 + RANDOM % 20000))
	printf 'stockade-profile 1\ninclude default\nnet host\nnet deny 127.0.0.1:1\n' > "$STATE.profile"
	/usr/bin/python3 - "$PORT" "$WS.ready" <<'PY' &
import socket, sys, threading
port = int(sys.argv[1])
def serve(fam, addr):
    s = socket.socket(fam); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind((addr, port)); s.listen(16); s.settimeout(10)
    try:
        while True:
            c, _ = s.accept(); c.sendall(b"echo:" + c.recv(100)); c.close()
    except OSError: pass
def udp():
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind(("127.0.0.1", port)); u.settimeout(10)
    try:
        while True:
            d, a = u.recvfrom(100); u.sendto(b"echo:" + d, a)
    except OSError: pass
threads = [threading.Thread(target=serve, args=(socket.AF_INET, "127.0.0.1")),
           threading.Thread(target=serve, args=(socket.AF_INET6, "::1")), threading.Thread(target=udp)]
for t in threads: t.start()
open(sys.argv[2], "w").close()
PY
	server=$!
	for i in $(seq 50); do [ -e "$WS.ready" ] && break; sleep 0.1; done
	run "$STOCKADE" run --profile "$STATE.profile" --state-dir "$STATE" -- /usr/bin/python3 - "$PORT" <<'PY'
import asyncio, socket, sys
port = int(sys.argv[1])
s = socket.create_connection(("127.0.0.1", port), timeout=3); s.sendall(b"a"); print(s.recv(100), s.getpeername()[1] == port)
s = socket.socket(); s.connect(("127.0.0.1", port)); s.sendall(b"b"); print(s.recv(100))
s = socket.socket(socket.AF_INET6); s.connect(("::1", port)); s.sendall(b"c"); print(s.recv(100))
s = socket.socket(socket.AF_INET6); s.connect(("::ffff:127.0.0.1", port)); s.sendall(b"d"); print(s.recv(100))
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.settimeout(3); u.connect(("127.0.0.1", port)); u.send(b"e"); print(u.recv(100))
async def nonblocking():
    r, w = await asyncio.open_connection("127.0.0.1", port); w.write(b"f"); await w.drain(); print(await r.read(100)); w.close()
asyncio.run(nonblocking())
s = socket.socket()
try:
    s.connect(("127.0.0.1", port + 1 if port < 65000 else port - 1))
except OSError as e:
    print("closed:", e.errno)
s.close()
try:
    socket.create_connection(("127.0.0.1", 1), timeout=2)
except OSError as e:
    print("denied:", e.errno)
PY
	kill "$server" 2>/dev/null || true
	rm -f "$WS.ready" "$STATE.profile"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "b'echo:a' True" ]
	[ "${lines[1]}" = "b'echo:b'" ]
	[ "${lines[2]}" = "b'echo:c'" ]
	[ "${lines[3]}" = "b'echo:d'" ]
	[ "${lines[4]}" = "b'echo:e'" ]
	[ "${lines[5]}" = "b'echo:f'" ]
	[ "${lines[6]}" = "closed: 111" ]
	[ "${lines[7]}" = "denied: 13" ]
}

@test "workloads: sendmsg is supervised only where the sandbox shares the host's network" {
	# Every sendmsg is a notification when supervised (the filter cannot see
	# its address): on the private network, where it reaches nothing outside,
	# a Unix-socket chatterbox must not pay for it.
	printf 'stockade-profile 1\ninclude default\nnet host\n' > "$STATE.profile"
	chat='import socket
a, b = socket.socketpair()
for i in range(500):
    a.sendmsg([b"x"]); b.recv(10)
print("done")'
	events() { sed -n 's/.*supervision: \([0-9]*\) events.*/\1/p' <<<"$1"; }
	run "$STOCKADE" run -v --state-dir "$STATE" -- /usr/bin/python3 -c "$chat"
	[ "$status" -eq 0 ]
	private=$(events "$output")
	run "$STOCKADE" run -v --profile "$STATE.profile" --state-dir "$STATE" -- /usr/bin/python3 -c "$chat"
	[ "$status" -eq 0 ]
	host=$(events "$output")
	rm -f "$STATE.profile"
	[ -n "$private" ] && [ -n "$host" ]
	[ "$private" -lt 200 ]
	[ "$host" -ge $((private + 500)) ] || { echo "private $private, host $host" >&2; false; }
}
