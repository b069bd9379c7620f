# Shared set-up for the integration tests.  Every test judges from outside
# the sandbox: what the host sees, what the caller receives.
# STOCKADE_BIN, else the tree's build/ (from integration/ or integration/corpus/).
STOCKADE=${STOCKADE_BIN:-$(cd "${BASH_SOURCE[0]%/*}/.." && pwd)/build/stockade}
PROBE=$(dirname "$STOCKADE")/helpers/probe

setup_workspace() {
	WS=$(mktemp -d "${BATS_TMPDIR:-/tmp}/stockade-ws.XXXXXX")
	FAKEHOME=$(mktemp -d "${BATS_TMPDIR:-/tmp}/stockade-home.XXXXXX")
	CANARY="canary-$(od -An -N8 -tx8 /dev/urandom | tr -d ' ')"
	mkdir -p "$FAKEHOME/.aws" "$FAKEHOME/.ssh"
	printf '[default]\naws_secret_access_key = %s\n' "$CANARY" > "$FAKEHOME/.aws/credentials"
	printf '%s\n' "$CANARY" > "$FAKEHOME/.ssh/id_ed25519"
	chmod 600 "$FAKEHOME/.aws/credentials" "$FAKEHOME/.ssh/id_ed25519"
	export HOME="$FAKEHOME"
	cd "$WS"
}

teardown_workspace() {
	cd /
	rm -rf "$WS" "$FAKEHOME"
}

# run the sandbox; output and status as bats' run sets them
sandbox() {
	run "$STOCKADE" run "$@"
}

# A TCP listener on the host's 127.0.0.1:$PORT that writes "connected" or
# "nothing" to $LISTENER_LOG; returns once it listens.
start_listener() {
	PORT=$((20000 + RANDOM % 20000))
	LISTENER_LOG="$WS.listener"
	python3 -c '
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(5); s.settimeout(6)
open(sys.argv[2] + ".ready", "w").write("")
try:
    c, _ = s.accept(); open(sys.argv[2], "w").write("connected")
except socket.timeout:
    open(sys.argv[2], "w").write("nothing")
' "$PORT" "$LISTENER_LOG" &
	LISTENER_PID=$!
	for i in $(seq 50); do [ -e "$LISTENER_LOG.ready" ] && break; sleep 0.1; done
}

# start_stockaded [OPTION...]: stockaded on $SOCK, state in $DDIR/state, log
# in $DDIR/log, pid in $DPID; returns once it listens.  As nobody, nobody is
# also the operator (root always is).
start_stockaded() {
	local extra=()
	[ "$(id -u)" -ne 0 ] || extra=(--group nogroup)
	[ "$(id -u)" -eq 0 ] || extra=(--operator-uid "$(id -u)")
	"$(dirname "$STOCKADE")/stockaded" --socket "$SOCK" --state-dir "$DDIR/state" "${extra[@]}" "$@" \
		</dev/null >>"$DDIR/log" 2>&1 3>&- &
	DPID=$!
	for _ in $(seq 50); do [ -S "$SOCK" ] && break; sleep 0.1; done
	[ -S "$SOCK" ]
}
