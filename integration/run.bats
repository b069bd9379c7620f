#!/usr/bin/env bats
# stockade run: the sandbox, judged from outside.  Runs as root and as nobody.

bats_require_minimum_version 1.5.0
load helpers

setup() { setup_workspace; }
teardown() { teardown_workspace; }

@test "a command runs and its output comes back" {
	sandbox -- echo hello
	[ "$status" -eq 0 ]
	[ "$output" = "hello" ]
}

@test "stdin passes through" {
	run sh -c "printf 'from stdin' | '$STOCKADE' run -- cat"
	[ "$status" -eq 0 ]
	[ "$output" = "from stdin" ]
}

@test "the command runs as the caller's uid" {
	sandbox -- id -u
	[ "$status" -eq 0 ]
	[ "$output" = "$(id -u)" ]
}

@test "no host process is visible" {
	marker="stockade-host-marker-$$"
	bash -c "exec -a $marker sleep 30" &
	hostpid=$!
	sandbox -- sh -c 'ls /proc | grep -c "^[0-9]"; ps -eo args'
	kill "$hostpid"
	[ "$status" -eq 0 ]
	[[ "$output" != *"$marker"* ]]
	# init, sh, ls/grep, ps: a handful, never the host's hundreds
	[ "$(echo "$output" | head -1)" -lt 10 ]
}

@test "a canary secret in the caller's real HOME is unreadable by any path" {
	sandbox -- sh -c 'cat ~/.aws/credentials; cat "$0"/.aws/credentials; cat "$0"/.ssh/id_ed25519; ls -la ~; grep -r canary / --exclude-dir=proc --exclude-dir=sys 2>/dev/null | head' "$FAKEHOME"
	[[ "$output" != *"$CANARY"* ]]
}

@test "the home inside is private and empty" {
	sandbox -- sh -c 'ls -A "$HOME" | wc -l'
	[ "$status" -eq 0 ]
	[ "$output" = "0" ]
}

@test "a HOME the caller cannot search still runs; what it cannot read stays out" {
	# nobody's HOME is /nonexistent: once root has made it, it is a directory
	# nobody cannot search, and the profile's optional dotfiles in it
	# (~/.gitconfig) cannot even be looked at.  They are skipped, not fatal.
	# /root plays that part here (0700 root on Debian); as root it is simply
	# root's own HOME.
	if [ "$(id -u)" -ne 0 ]; then
		run ls /root/
		[ "$status" -ne 0 ]   # the premise: nobody cannot search /root
	fi
	HOME=/root XDG_STATE_HOME="$WS.state" XDG_CACHE_HOME="$WS.cache" \
		run "$STOCKADE" run -- sh -c 'echo ran'
	rm -rf "$WS.state" "$WS.cache"
	[ "$status" -eq 0 ]
	[ "$output" = ran ]
}

@test "the command may run on every CPU its caller may" {
	# The supervisor moves the sandbox's init off its own CPU for the set-up;
	# init must take the caller's set back before the command starts.
	sandbox -- sh -c 'grep Cpus_allowed_list /proc/self/status; sh -c "grep Cpus_allowed_list /proc/self/status"'
	[ "$status" -eq 0 ]
	outside=$(grep Cpus_allowed_list /proc/self/status)
	[ "${lines[0]}" = "$outside" ]
	[ "${lines[1]}" = "$outside" ]
	if [ "$(nproc)" -gt 1 ]; then
		run taskset -c 0 "$STOCKADE" run -- grep Cpus_allowed_list /proc/self/status
		[ "$status" -eq 0 ]
		[ "$(echo "$output" | awk '{print $2}')" = 0 ]
	fi
}

@test "writes land in the workspace only" {
	outside=$(mktemp -d "${BATS_TMPDIR:-/tmp}/stockade-outside.XXXXXX")
	sandbox -- sh -c "echo in > inside.txt; echo x > '$outside/escaped' ; echo x > /tmp/private; echo x > \$HOME/private; echo x > /etc/stockade-escaped; echo x > /usr/stockade-escaped; true"
	[ "$status" -eq 0 ]
	[ "$(cat "$WS/inside.txt")" = "in" ]
	[ ! -e "$outside/escaped" ]
	[ ! -e /etc/stockade-escaped ]
	[ ! -e /usr/stockade-escaped ]
	[ ! -e "$FAKEHOME/private" ]
	rm -rf "$outside"
}

@test "a TCP listener on the host's 127.0.0.1 receives nothing" {
	start_listener
	sandbox -- python3 -c "
import socket
try:
    socket.create_connection(('127.0.0.1', $PORT), timeout=2); print('CONNECTED')
except OSError as e:
    print('refused', e)
"
	wait "$LISTENER_PID"
	[[ "$output" != *CONNECTED* ]]
	[ "$(cat "$LISTENER_LOG")" = "nothing" ]
	rm -f "$LISTENER_LOG" "$LISTENER_LOG.ready"
}

@test "the control: the same listener is reachable with --net host" {
	start_listener
	sandbox --net host -- python3 -c "import socket; socket.create_connection(('127.0.0.1', $PORT), timeout=2); print('CONNECTED')"
	wait "$LISTENER_PID"
	[[ "$output" == *CONNECTED* ]]
	[ "$(cat "$LISTENER_LOG")" = "connected" ]
	rm -f "$LISTENER_LOG" "$LISTENER_LOG.ready"
}

@test "loopback inside the sandbox is up and private" {
	sandbox -- python3 -c "
import socket
s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen(1)
c = socket.create_connection(s.getsockname()); print('loopback ok')"
	[ "$status" -eq 0 ]
	[ "$output" = "loopback ok" ]
}

@test "dangerous syscalls fail: ptrace mount unshare clone io_uring keyctl TIOCSTI bpf perf userfaultfd personality raw sockets" {
	cp "$PROBE" "$WS/probe"
	sandbox -- ./probe ptrace mount unshare clone-newns io_uring keyctl tiocsti bpf perf userfaultfd personality af_packet raw netlink-audit open_by_handle chroot clone3
	[ "$status" -eq 0 ]
	echo "$output"
	[[ "$output" == *"ptrace EPERM"* ]]
	[[ "$output" == *"mount EPERM"* ]]
	[[ "$output" == *"unshare EPERM"* ]]
	[[ "$output" == *"clone-newns EPERM"* ]]
	[[ "$output" == *"io_uring EPERM"* ]]
	[[ "$output" == *"keyctl EPERM"* ]]
	[[ "$output" == *"tiocsti EPERM"* ]]
	[[ "$output" == *"bpf EPERM"* ]]
	[[ "$output" == *"perf EPERM"* ]]
	[[ "$output" == *"userfaultfd EPERM"* ]]
	[[ "$output" == *"personality EPERM"* ]]
	[[ "$output" == *"af_packet EAFNOSUPPORT"* ]] || [[ "$output" == *"af_packet EPERM"* ]]
	[[ "$output" == *"raw EPERM"* ]]
	[[ "$output" == *"netlink-audit EPERM"* ]]
	[[ "$output" == *"open_by_handle EPERM"* ]]
	[[ "$output" == *"chroot EPERM"* ]]
	[[ "$output" == *"clone3 ENOSYS"* ]]
}

@test "the seccomp filter comes from a cache that a damaged entry cannot weaken" {
	cp "$PROBE" "$WS/probe"
	export XDG_CACHE_HOME="$WS.cache"
	sandbox -- ./probe unshare
	[[ "$output" == *"unshare EPERM"* ]]
	entries=("$XDG_CACHE_HOME"/stockade/seccomp-*.bpf)
	[ "${#entries[@]}" -eq 1 ] && [ -s "${entries[0]}" ]
	good=$(sha256sum < "${entries[0]}")
	# truncated, garbage after a valid head, zeroed programs: each is ignored
	# and rewritten, and the filter still holds
	for damage in "truncate -s 50" "truncate -s +8" "dd if=/dev/zero bs=1 seek=40 count=64 conv=notrunc status=none of="; do
		if [[ "$damage" == dd* ]]; then $damage"${entries[0]}"; else $damage "${entries[0]}"; fi
		sandbox -- ./probe unshare
		[[ "$output" == *"unshare EPERM"* ]]
		[ "$(sha256sum < "${entries[0]}")" = "$good" ]
	done
	rm -rf "$XDG_CACHE_HOME"
}

@test "what a command needs still works: netlink route, fork, pipes" {
	cp "$PROBE" "$WS/probe"
	sandbox -- sh -c './probe netlink-route; echo a | cat | tr a b'
	[ "$status" -eq 0 ]
	[[ "$output" == *"netlink-route ok"* ]]
	[[ "$output" == *"b"* ]]
}

@test "no capabilities in any set, no_new_privs, seccomp filter on" {
	sandbox -- grep -E '^(Cap(Inh|Prm|Eff|Bnd|Amb)|NoNewPrivs|Seccomp):' /proc/self/status
	[ "$status" -eq 0 ]
	[ "$(echo "$output" | grep -c '0000000000000000')" -eq 5 ]
	[[ "$output" == *"NoNewPrivs:"*"1"* ]]
	[[ "$output" == *"Seccomp:"*"2"* ]]
}

@test "a double-forked setsid daemon does not outlive the command" {
	marker="stockade-daemon-$$-$RANDOM"
	sandbox -- sh -c "setsid bash -c 'exec -a $marker sleep 60' </dev/null >/dev/null 2>&1 & sleep 0.2; echo started"
	[ "$status" -eq 0 ]
	[ "$output" = "started" ]
	sleep 0.3
	! pgrep -f "$marker"
}

@test "a timeout kills a sleep loop and everything it started" {
	marker="stockade-loop-$$-$RANDOM"
	start=$(date +%s)
	sandbox --timeout 1 -- bash -c "(exec -a $marker sleep 60) & while :; do sleep 0.1; done"
	[ "$status" -eq 124 ]
	[ $(( $(date +%s) - start )) -lt 5 ]
	[[ "$output" == *"timed out"* ]]
	! pgrep -f "$marker"
}

@test "a fork bomb is contained by the pids limit" {
	sandbox --pids 64 --timeout 20 -- python3 -c '
import os, time
n = 0
for i in range(300):
    try:
        pid = os.fork()
    except OSError:
        break
    if pid == 0:
        time.sleep(3)
        os._exit(0)
    n += 1
print("forked", n)
'
	echo "$output"
	count=$(echo "$output" | sed -n 's/^forked \([0-9]*\)$/\1/p')
	[ -n "$count" ]
	[ "$count" -gt 10 ]
	[ "$count" -lt 64 ]
}

@test "a real fork bomb ends, and leaves nothing behind" {
	start=$(date +%s)
	sandbox --pids 128 --timeout 3 -- sh -c 'b() { b | b & }; b'
	[ $(( $(date +%s) - start )) -lt 15 ]
	sleep 0.5
	! pgrep -f 'b \| b'
}

@test "root: the sandbox's every process is in its own pids and memory cgroups, with the limits set" {
	# The bombs above are also stopped by rlimits; this looks at the cgroups.
	[ "$(id -u)" -eq 0 ] || skip "cgroups are root's here (no delegated cgroup v2 subtree)"
	"$STOCKADE" run --pids 77 --memory 300M -- sh -c 'sleep 30 & sleep 30 & wait' &
	pid=$!
	for i in $(seq 50); do
		pids=$(find /sys/fs/cgroup/pids -maxdepth 3 -type d -name "stockade-$pid" | head -1)
		mem=$(find /sys/fs/cgroup/memory -maxdepth 3 -type d -name "stockade-$pid" | head -1)
		[ -n "$pids" ] && [ "$(pgrep -c -x sleep)" -ge 2 ] && break
		sleep 0.1
	done
	[ -n "$pids" ] && [ -n "$mem" ] || { kill "$pid"; skip "this host's limits are not cgroup v1 ($(ls /sys/fs/cgroup))"; }
	[ "$(cat "$pids/pids.max")" = 77 ]
	[ "$(cat "$mem/memory.limit_in_bytes")" = $((300 << 20)) ]
	# init, sh and the two sleeps, in both; the supervisor is not in them.
	[ "$(wc -l < "$pids/tasks")" -ge 4 ]
	[ "$(sort "$pids/cgroup.procs")" = "$(sort "$mem/cgroup.procs")" ]
	! grep -qx "$pid" "$pids/cgroup.procs"
	for p in $(pgrep -x sleep); do
		if grep -q "stockade-$pid" /proc/$p/cgroup 2>/dev/null; then n=$((${n:-0} + 1)); fi
	done
	[ "${n:-0}" -eq 2 ]
	kill -TERM "$pid"
	wait "$pid" || true
	for i in $(seq 50); do [ -d "$pids" ] || [ -d "$mem" ] || break; sleep 0.1; done
	[ ! -d "$pids" ] && [ ! -d "$mem" ]
}

@test "root: the cgroups a killed supervisor left behind are removed by the next run, a live one's kept" {
	[ "$(id -u)" -eq 0 ] || skip "cgroups are root's here (no delegated cgroup v2 subtree)"
	[ -d /sys/fs/cgroup/pids ] && [ -d /sys/fs/cgroup/memory ] || skip "this host's limits are not cgroup v1"
	true & dead=$!; wait "$dead"
	sleep 30 & live=$!
	made=()
	for c in pids memory; do
		own=$(sed -n "s/^[0-9]*:\([^:]*,\)\{0,1\}$c\(,[^:]*\)\{0,1\}:\(.*\)$/\3/p" /proc/self/cgroup)
		parent=/sys/fs/cgroup/$c${own%/}
		mkdir "$parent/stockade-$dead" "$parent/stockade-$live"
		made+=("$parent/stockade-$dead" "$parent/stockade-$live")
	done
	sandbox -- true
	kill "$live"
	for d in "${made[@]}"; do
		case $d in
		*-"$dead") [ ! -d "$d" ] ;;
		*) [ -d "$d" ]; rmdir "$d" ;;
		esac
	done
}

@test "a memory bomb is contained by the memory limit" {
	sandbox --memory 256M -- python3 -c 'b = bytearray(1 << 30); print("ALLOCATED", len(b))'
	[ "$status" -ne 0 ]
	[[ "$output" != *ALLOCATED* ]]
}

@test "the output cap stops a flood" {
	sandbox --output-cap 100k -- sh -c 'yes flood'
	[ "$status" -eq 137 ]
	[ "${#output}" -lt 200000 ]
	[[ "$output" == *"more than 102400 bytes"* ]]
}

@test "exit codes follow env(1): own code, 127 not found, 126 not executable, 128+N signal" {
	sandbox -- sh -c 'exit 3'
	[ "$status" -eq 3 ]
	run -127 "$STOCKADE" run -- /nonexistent/command
	[ "$status" -eq 127 ]
	[[ "$output" == *"cannot run '/nonexistent/command'"* ]]
	run -127 "$STOCKADE" run -- no-such-command-anywhere
	[ "$status" -eq 127 ]
	printf 'data' > "$WS/notexec"
	chmod 644 "$WS/notexec"
	sandbox -- ./notexec
	[ "$status" -eq 126 ]
	sandbox -- sh -c 'kill -9 $$'
	[ "$status" -eq 137 ]
	sandbox -- sh -c 'kill -TERM $$'
	[ "$status" -eq 143 ]
}

@test "-c runs a shell string and -C changes directory first" {
	mkdir -p "$WS/sub"
	sandbox -C "$WS/sub" -c 'pwd; echo $((6*7))'
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "$WS/sub" ]
	[ "${lines[1]}" = "42" ]
}

@test "the environment says it is sandboxed; HOME is the private one" {
	sandbox -- sh -c 'echo "$STOCKADE_SANDBOX $HOME"'
	[ "$status" -eq 0 ]
	[ "$output" = "1 $FAKEHOME" ]
}

@test "bad options give one line and exit 125" {
	sandbox --no-such-option -- true
	[ "$status" -eq 125 ]
	[ "${#lines[@]}" -eq 1 ]
	[[ "$output" == *"unknown option '--no-such-option'"* ]]
	sandbox
	[ "$status" -eq 125 ]
	[ "${#lines[@]}" -eq 1 ]
	[[ "$output" == *"no command given"* ]]
	sandbox --workspace /nonexistent/dir -- true
	[ "$status" -eq 125 ]
	[ "${#lines[@]}" -eq 1 ]
	[[ "$output" == *"does not exist"* ]]
	sandbox --timeout soon -- true
	[ "$status" -eq 125 ]
	[[ "$output" == *"invalid --timeout 'soon'"* ]]
	sandbox --timeout
	[ "$status" -eq 125 ]
	[[ "$output" == *"needs a value"* ]]
}

@test "--verbose reports what applied" {
	sandbox --verbose -- true
	[ "$status" -eq 0 ]
	[[ "$output" == *"landlock ABI"* ]] || [[ "$output" == *"landlock not available"* ]]
	[[ "$output" == *"limits:"* ]]
}

@test "--help and --version" {
	sandbox --help
	[ "$status" -eq 0 ]
	[[ "$output" == *"usage: stockade run"* ]]
	run "$STOCKADE" --version
	[ "$status" -eq 0 ]
	[[ "$output" == "stockade "* ]]
}

@test "a kernel refusing user namespaces gives one clear line and 125" {
	# Inside a sandbox, seccomp refuses new user namespaces: the inner
	# stockade meets exactly what a kernel without them does.
	mkdir -p "$WS/inner/bin" "$WS/inner/profiles"
	cp "$STOCKADE" "$WS/inner/bin/stockade"
	cp "$BATS_TEST_DIRNAME"/../profiles/* "$WS/inner/profiles/"
	# For a sanitizer build (make asan): --memory 0, as its shadow memory
	# exceeds RLIMIT_DATA, and no leak check, as LeakSanitizer needs ptrace.
	sandbox --memory 0 -- env ASAN_OPTIONS=detect_leaks=0 ./inner/bin/stockade run -- true
	[ "$status" -eq 125 ]
	[ "${#lines[@]}" -eq 1 ]
	[[ "$output" == *"cannot create user namespaces"* ]]
}
