#!/usr/bin/env python3
"""A tiny stockaded client for integration/daemon.bats.

usage: daemon_client.py SOCKET raw LINE...      send lines, print each reply
       daemon_client.py SOCKET run WS CMD...    open a session, exec argv, print
                                                output then 'RESULT <json>'
       daemon_client.py SOCKET hang WS CMD...   exec, wait for first output, exit
       daemon_client.py SOCKET open WS          print a new session id
       daemon_client.py SOCKET exec SID CMD...  exec in an existing session
       daemon_client.py SOCKET execw SID WAIT CMD...  the same, waiting up to
                                                WAIT s for an escalation's decision
       daemon_client.py SOCKET rpc METHOD JSON  one call; print its reply
"""
import json, socket, sys

sock = socket.socket(socket.AF_UNIX)
sock.connect(sys.argv[1])
f = sock.makefile("rwb")

def send(obj):
    f.write((obj if isinstance(obj, str) else json.dumps(obj)).encode() + b"\n")
    f.flush()

def recv():
    line = f.readline()
    if not line:
        print("EOF")
        sys.exit(3)
    return json.loads(line)

def call(rid, method, params):
    send({"jsonrpc": "2.0", "id": rid, "method": method, "params": params})
    while True:
        m = recv()
        if "id" in m and m["id"] == rid:
            return m
        if m.get("method") == "exec.output":
            sys.stdout.write(m["params"].get("text", ""))
            sys.stdout.flush()
            if mode == "hang":
                sys.exit(0)

mode = sys.argv[2]
if mode == "raw":
    for line in sys.argv[3:]:
        send(line)
        print(json.dumps(recv()))
elif mode == "open":
    print(call(1, "session.open", {"workspace": sys.argv[3]})["result"]["session"])
elif mode == "rpc":
    print(json.dumps(call(1, sys.argv[3], json.loads(sys.argv[4]))))
elif mode == "execw":
    print("RESULT " + json.dumps(call(2, "exec", {"session": sys.argv[3], "wait": float(sys.argv[4]),
                                                  "argv": sys.argv[5:]})))
elif mode == "exec":
    print("RESULT " + json.dumps(call(2, "exec", {"session": sys.argv[3], "argv": sys.argv[4:]})))
else:
    sid = call(1, "session.open", {"workspace": sys.argv[3]})["result"]["session"]
    print("RESULT " + json.dumps(call(2, "exec", {"session": sid, "argv": sys.argv[4:]})))
