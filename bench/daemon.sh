#!/bin/sh
# stockaded through its socket: execs of /bin/true per second with 1, 8 and
# 64 concurrent clients (one session each), p50/p99 latency from the exec
# request to its result, the daemon's RSS idle and under load; side by side
# with the prefix wrapper `stockade run -- /bin/true` (with and without a
# session, which adds the session journal's fsync'd turn), and the socket's
# own round trip (a `status` call).  Overhead per command = daemon p50 with
# one client minus the prefix wrapper's p50 with a session: both run the same
# sk_run; the daemon adds the hand-over to a spare worker, JSON-RPC and the
# socket, and saves an exec.
# The load comes from bench/daemon_client.c (C: the client's own JSON and
# thread wake-ups are not the daemon's); one row shows the Python client of
# the integration tests for comparison.  The 1-client latency is measured
# back to back and at an agent's pace (30 ms between execs: the previous
# sandbox's teardown in the kernel is then over).
set -eu
BUILD=${BUILD:-build}
B=$(cd "$BUILD" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
PYLOAD="python3 $here/../integration/daemon_load.py"
N1=${N1:-60} N8=${N8:-200} N64=${N64:-320} RUNS=${RUNS:-40}
out=$(mktemp -d)
chmod 755 "$out"
mkdir "$out/ws"
${CC:-cc} -O2 -o "$out/daemon_client" "$here/daemon_client.c" $(pkg-config --cflags --libs jansson) -lpthread
LOAD="$out/daemon_client"
"$B/stockaded" --socket "$out/s.sock" --state-dir "$out/state" </dev/null >"$out/log" 2>&1 &
dpid=$!
trap 'kill $dpid 2>/dev/null; wait $dpid 2>/dev/null; rm -rf "$out"' EXIT
for _ in $(seq 50); do [ -S "$out/s.sock" ] && break; sleep 0.1; done
rss() { awk '/^VmRSS/ { printf "%.1f", $2 / 1024 }' "/proc/$dpid/status"; }
hwm() { awk '/^VmHWM/ { printf "%.1f", $2 / 1024 }' "/proc/$dpid/status"; }

cd "$out/ws"
$LOAD "$out/s.sock" "$out/ws" 1 5 >/dev/null   # warm up: page cache, key, profile
idle=$(rss)
# The zygote and its spare workers: forked ahead, mostly shared pages.
helpers=$(for z in $(pgrep -P $dpid -x stockade-zygote); do echo $z; pgrep -P $z; done)
hpss=$(for p in $helpers; do awk '/^Pss:/ { print $2 }' /proc/$p/smaps_rollup; done | awk '{ s += $1 } END { printf "%.1f", s / 1024 }')
nhelp=$(echo $helpers | wc -w)
python3 - "$out/s.sock" <<'PY' >"$out/rtt"
import json, socket, sys, time
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); f = s.makefile("rwb")
lat = []
for i in range(2000):
    t0 = time.perf_counter()
    f.write(b'{"jsonrpc":"2.0","id":1,"method":"status"}\n'); f.flush(); f.readline()
    lat.append(time.perf_counter() - t0)
lat.sort()
print("%.3f %.3f" % (lat[len(lat) // 2] * 1000, lat[int(len(lat) * 0.99)] * 1000))
PY
r1=$($LOAD "$out/s.sock" "$out/ws" 1 "$N1")
r1t=$($LOAD "$out/s.sock" "$out/ws" 1 "$N1" 30)
r1p=$($PYLOAD "$out/s.sock" "$out/ws" bench 1 "$N1")
r8=$($LOAD "$out/s.sock" "$out/ws" 8 "$N8")
$LOAD "$out/s.sock" "$out/ws" 64 "$N64" >"$out/r64" &
lpid=$!
peak=0
while kill -0 $lpid 2>/dev/null; do
	cur=$(rss); peak=$(python3 -c "print(max($peak, $cur))"); sleep 0.2
done
wait $lpid
r64=$(cat "$out/r64")
after=$(rss)

hyperfine -N --warmup 3 --runs "$RUNS" --export-json "$out/prefix.json" \
	-n prefix "$B/stockade run --state-dir $out/pstate -- /bin/true" \
	-n prefix-session "$B/stockade run --state-dir $out/pstate --session bench -- /bin/true" >/dev/null 2>&1

python3 - "$out/prefix.json" "$r1" "$r1t" "$r1p" "$r8" "$r64" "$(cat "$out/rtt")" "$idle" "$peak" "$after" "$nhelp" "$hpss" <<'PY'
import json, sys
pre = {r["command"]: sorted(r["times"]) for r in json.load(open(sys.argv[1]))["results"]}
q = lambda v, p: v[min(len(v) - 1, int(p * len(v)))] * 1000
runs = [json.loads(a) for a in sys.argv[2:7]]
labels = ["1 client", "1 client, 30 ms apart", "1 client (Python client)", "8 clients", "64 clients"]
rtt50, rtt99 = map(float, sys.argv[7].split())
idle, peak, after, nhelp, hpss = sys.argv[8:13]
print("stockaded, /bin/true through the socket (one session per client)")
print("  %-32s %8s %9s %9s %13s %13s" % ("", "cmds/s", "p50 ms", "p99 ms", "overhead p50", "overhead p99"))
for label, r in zip(labels, runs):
    print("  %-32s %8.1f %9.2f %9.2f %10.3f ms %10.3f ms" % (
        "daemon, " + label, r["per_s"], r["p50_ms"], r["p99_ms"],
        r["overhead_p50_ms"], r["overhead_p99_ms"]))
for k, name in (("prefix", "stockade run"), ("prefix-session", "stockade run --session")):
    t = pre[k]
    print("  %-32s %8.1f %9.2f %9.2f" % (name + " (serial)", 1 / (sum(t) / len(t)), q(t, .5), q(t, .99)))
print("  overhead = exec latency minus the run path's own time (sk_run in the worker, run_ms):")
print("  the hand-over to a spare worker, JSON-RPC both ways, the socket, the result pipe; target < 1 ms at p50")
print("  socket round trip alone (status): p50 %.3f ms, p99 %.3f ms" % (rtt50, rtt99))
print("  daemon 1 client p50 - stockade run --session p50: %+.2f ms (the prefix pays an exec and a profile load)"
      % (runs[0]["p50_ms"] - q(pre["prefix-session"], .5)))
print("  daemon RSS: idle %s MiB (target < 8), peak under 64 clients %s MiB, after %s MiB" % (idle, peak, after))
print("  zygote + spare workers: %s processes, PSS %s MiB in all (idle)" % (nhelp, hpss))
PY
