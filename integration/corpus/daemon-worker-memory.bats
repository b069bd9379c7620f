#!/usr/bin/env bats
# Found in review (session 3): a root stockaded forked each exec's worker
# from itself, so the worker carried a copy of the daemon's memory, every
# other uid's session env included; the worker then becomes the client's
# uid and dumpable again (it must write its sandbox's uid_map), so the
# client's uid could read that copy through /proc/PID/mem.  The case: root
# opens a session whose env holds a canary and runs a command in it; nobody
# runs a command and, while it runs, reads the memory of every process of
# its own uid.  The canary must not be there.

bats_require_minimum_version 1.5.0
load ../helpers

STOCKADED=$(dirname "$STOCKADE")/stockaded
PY=/usr/bin/python3
CLIENT="$PY $BATS_TEST_DIRNAME/../daemon_client.py"

setup() {
	[ "$(id -u)" -eq 0 ] || skip "needs root: the daemon serves two uids"
	setup_workspace
	DDIR=$(mktemp -d /tmp/stockaded.XXXXXX)
	chmod 755 "$DDIR" "$WS"
	SOCK=$DDIR/s.sock
	"$STOCKADED" --socket "$SOCK" --state-dir "$DDIR/state" --group nogroup </dev/null >>"$DDIR/log" 2>&1 3>&- &
	DPID=$!
	for _ in $(seq 50); do [ -S "$SOCK" ] && break; sleep 0.1; done
	[ -S "$SOCK" ]
}

teardown() {
	[ -n "${DPID:-}" ] || return 0
	kill "$DPID" 2>/dev/null || true
	wait "$DPID" 2>/dev/null || true
	rm -rf "$DDIR"
	teardown_workspace
}

# Print the pids of uid's processes whose memory holds $1 (readable ones
# only), then "readable N": how many processes could be read at all.
SCAN='import os, re, sys
needle, uid = sys.argv[1].encode(), int(sys.argv[2])
hits, readable = [], 0
for p in filter(str.isdigit, os.listdir("/proc")):
    try:
        if os.stat("/proc/" + p).st_uid != uid or int(p) == os.getpid():
            continue
        maps = open("/proc/%s/maps" % p).read().splitlines()
        mem = open("/proc/%s/mem" % p, "rb", 0)
    except OSError:
        continue
    readable += 1
    for m in maps:
        a, b = (int(x, 16) for x in m.split()[0].split("-"))
        if "r" not in m.split()[1] or m.endswith("[vvar]") or m.endswith("[vsyscall]") or m.endswith("[vvar_vclock]"):
            continue
        # Over 1 GiB: the shadow memory of a sanitizer (terabytes, make asan)
        # or a reservation, never a heap with an env in it; reading it would
        # fault it all in.
        if b - a > 1 << 30:
            continue
        try:
            mem.seek(a)
            if needle in mem.read(b - a):
                hits.append(p)
                break
        except (OSError, ValueError, OverflowError, MemoryError):
            pass
print(" ".join(hits) or "none")
for h in hits: print("hit", h, open("/proc/%s/cmdline" % h).read().replace("\0", " "), open("/proc/%s/status" % h).read().split("\n")[0])
print("readable %d" % readable)'

@test "a worker of one uid holds no other uid's session env" {
	canary="AKIAWORKERMEMORY$RANDOM$RANDOM"
	run $CLIENT "$SOCK" rpc session.open "{\"workspace\":\"$WS\",\"env\":{\"AWS_SECRET_ACCESS_KEY\":\"$canary\"}}"
	[ "$status" -eq 0 ]
	sid=$(printf '%s' "$output" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["result"]["session"])')
	run $CLIENT "$SOCK" exec "$sid" true
	[[ "$output" == *'"exit": 0'* ]]
	# the control: root finds the canary in the daemon, so the scan can see it
	run "$PY" -c "$SCAN" "$canary" 0
	[[ "${lines[0]}" == *"$DPID"* ]]

	nws=$(mktemp -d /tmp/stockade-nws.XXXXXX)
	chown nobody:nogroup "$nws"
	setpriv --reuid nobody --regid nogroup --clear-groups $CLIENT "$SOCK" run "$nws" sleep 4 >/dev/null 2>&1 3>&- &
	cpid=$!
	for _ in $(seq 50); do pgrep -u nobody -x sleep >/dev/null && break; sleep 0.1; done
	pgrep -u nobody -x sleep
	run setpriv --reuid nobody --regid nogroup --clear-groups "$PY" -c "$SCAN" "$canary" 65534
	wait "$cpid" || true
	rm -rf "$nws"
	echo "$output"
	# the worker (and the client) were readable: the scan was not vacuous
	[[ "${lines[-1]}" =~ ^readable\ ([0-9]+)$ ]]
	[ "${BASH_REMATCH[1]}" -ge 2 ]
	[ "${lines[0]}" = none ]
}
