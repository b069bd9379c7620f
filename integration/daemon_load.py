#!/usr/bin/env python3
"""Many concurrent stockaded clients (integration/daemon.bats, bench/daemon.sh).

usage: daemon_load.py SOCKET WS check N
           N clients at once, each on its own connection and session, run
           `echo client-I TOKEN-I`; each must get exactly its own line with
           its token redacted, exit 0 and a redaction count.  Prints "ok N".
       daemon_load.py SOCKET WS bench C TOTAL [CMD...]
           C clients, one session each, run TOTAL execs of CMD (/bin/true)
           between them, each client one at a time.  Prints JSON: execs/s,
           p50 and p99 latency (send of exec to its result) and of the
           overhead (that latency minus the run path's own time, run_ms), ms.
"""
import json, socket, sys, threading, time

SOCK, WS, MODE = sys.argv[1], sys.argv[2], sys.argv[3]


class Client:
    def __init__(self):
        self.s = socket.socket(socket.AF_UNIX)
        self.s.connect(SOCK)
        self.f = self.s.makefile("rwb")
        self.n = 0

    def call(self, method, params, out=None):
        self.n += 1
        rid = self.n
        self.f.write(json.dumps({"jsonrpc": "2.0", "id": rid, "method": method, "params": params}).encode() + b"\n")
        self.f.flush()
        while True:
            line = self.f.readline()
            if not line:
                raise RuntimeError("connection closed")
            m = json.loads(line)
            if m.get("id") == rid:
                return m
            if out is not None and m.get("method") == "exec.output":
                out.append(m["params"].get("text", ""))

    def open(self):
        return self.call("session.open", {"workspace": WS})["result"]["session"]


def token(i):
    return "ghp_" + ("%06d" % i) + "abcdefghijklmnopqrstuvwxyz0123"   # 36 after ghp_


def check(n):
    errors, barrier = [], threading.Barrier(n)

    def one(i):
        try:
            c = Client()
            sid = c.open()
            barrier.wait(timeout=60)
            out = []
            r = c.call("exec", {"session": sid, "argv": ["echo", "client-%d" % i, token(i)]}, out)
            text = "".join(out)
            res = r.get("result", {})
            if text != "client-%d [REDACTED:github-pat]\n" % i:
                errors.append("client %d got %r" % (i, text))
            elif res.get("exit") != 0 or res.get("redactions", {}).get("github-pat") != 1:
                errors.append("client %d: %r" % (i, r))
        except Exception as e:   # noqa: BLE001 - every failure is reported
            errors.append("client %d: %s" % (i, e))

    threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for e in errors[:10]:
        print(e)
    if errors:
        print("%d of %d clients failed" % (len(errors), n))
        sys.exit(1)
    print("ok %d" % n)


def bench(c, total, cmd):
    lat, over, lock, left = [], [], threading.Lock(), [total]
    clients = []
    for _ in range(c):
        cl = Client()
        clients.append((cl, cl.open()))

    def one(cl, sid):
        while True:
            with lock:
                if left[0] <= 0:
                    return
                left[0] -= 1
            t0 = time.perf_counter()
            r = cl.call("exec", {"session": sid, "argv": cmd})
            dt = time.perf_counter() - t0
            if r.get("result", {}).get("exit") != 0:
                raise SystemExit("exec failed: %r" % r)
            with lock:
                lat.append(dt)
                over.append(dt - r["result"]["run_ms"] / 1000)

    threads = [threading.Thread(target=one, args=x) for x in clients]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    lat.sort()
    over.sort()
    pick = lambda v, q: v[min(len(v) - 1, int(q * len(v)))] * 1000
    print(json.dumps({"clients": c, "execs": len(lat), "per_s": round(len(lat) / wall, 1),
                      "p50_ms": round(pick(lat, 0.50), 2), "p99_ms": round(pick(lat, 0.99), 2),
                      "overhead_p50_ms": round(pick(over, 0.50), 3), "overhead_p99_ms": round(pick(over, 0.99), 3)}))


if MODE == "check":
    check(int(sys.argv[4]))
else:
    bench(int(sys.argv[4]), int(sys.argv[5]), sys.argv[6:] or ["/bin/true"])
