# Shared set-up for the integration tests.  Every test judges from outside
# the sandbox: what the host sees, what the caller receives.
STOCKADE=${STOCKADE_BIN:-$BATS_TEST_DIRNAME/../build/stockade}
[ -x "$STOCKADE" ] || STOCKADE=$(cd "$BATS_TEST_DIRNAME/.." && pwd)/build/stockade
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
