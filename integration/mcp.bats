#!/usr/bin/env bats
# stockade mcp driven by MCP clients nobody on this project wrote, installed
# from npm at the versions pinned in integration/mcp/package.json:
#   @modelcontextprotocol/sdk      v1 Client + StdioClientTransport (2025-11-25 initialize)
#   @modelcontextprotocol/client   v2 Client: legacy, 'auto' negotiation (server/discover
#                                  probe) and pinned to the stateless 2026-07-28 revision
#   @modelcontextprotocol/inspector  --cli (exits 0 even on isError: its JSON is parsed)
# The install is cached (by package.json's hash) and reused; if it fails the
# tests fail, they are not skipped.

bats_require_minimum_version 1.5.0
load helpers

# Where the pinned clients live: the first cache directory that already has
# them or that we can install into.
install_clients() {
	local pkg=$1 key base dir
	key=$(sha256sum "$pkg/package.json" | cut -c1-16)
	for base in "${STOCKADE_TEST_CACHE:-}" /var/cache/stockade-test "${XDG_CACHE_HOME:-}/stockade-test" \
		"${TMPDIR:-/tmp}/stockade-test-$(id -u)"; do
		[ -n "$base" ] && [ "$base" != "/stockade-test" ] || continue
		dir=$base/mcp-clients-$key
		[ -f "$dir/.installed" ] && { echo "$dir"; return 0; }
		mkdir -p "$dir" 2>/dev/null && [ -w "$dir" ] || continue
		cp "$pkg/package.json" "$dir/"
		if (cd "$dir" && umask 022 && npm install --no-audit --no-fund --ignore-scripts --loglevel=error \
			--cache "$base/npm-cache" >"$dir/npm.log" 2>&1); then
			chmod -R a+rX "$dir"
			touch "$dir/.installed"
			echo "$dir"
			return 0
		fi
		echo "npm install of the MCP clients failed in $dir:" >&2
		tail -20 "$dir/npm.log" >&2
		return 1
	done
	echo "no writable cache directory for the MCP clients" >&2
	return 1
}

setup_file() {
	ROOT=$(cd "$BATS_TEST_DIRNAME/.." && pwd)
	CLIENTS=$(install_clients "$ROOT/integration/mcp")
	# The driver sits next to the clients' node_modules (ESM resolves from
	# the script's directory), in a directory of this run.
	mkdir -p "$BATS_FILE_TMPDIR/clients"
	cp "$ROOT/integration/mcp/client.mjs" "$BATS_FILE_TMPDIR/clients/"
	ln -s "$CLIENTS/node_modules" "$BATS_FILE_TMPDIR/clients/node_modules"
	export CLIENTS
}

setup() {
	setup_workspace
	STATE=$BATS_TEST_TMPDIR/state
	DRIVER=$BATS_FILE_TMPDIR/clients/client.mjs
	INSPECTOR=$BATS_FILE_TMPDIR/clients/node_modules/.bin/mcp-inspector
	export MY_TOKEN=$CANARY
}

teardown() { teardown_workspace; }

# load_json FILE: every leaf of the JSON document as a line "a.0.b=value"
# (newlines in values written \n), read back with val; one node per file.
load_json() {
	FLAT=$1.flat
	node -e 'const walk = (v, p) => v !== null && typeof v === "object"
			? Object.entries(v).forEach(([k, x]) => walk(x, p ? p + "." + k : k))
			: console.log(p + "=" + String(v).replace(/\n/g, "\\n"));
		 walk(JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")), "");' "$1" >"$FLAT"
}
val() { awk -v k="$1" 'index($0, k "=") == 1 { print substr($0, length(k) + 2); exit }' "$FLAT"; }

# The scenario every client runs: an allowed command printing a secret, a
# command denied by policy, a secret read the sandbox refuses, then a retry
# chain of one denied program under four spellings in a session of its own,
# and the session's status.
write_steps() {
	cat >"$BATS_TEST_TMPDIR/steps.json" <<EOF
[
 {"tool": "run_command", "arguments": {"command": "echo hello; echo $CANARY; pwd"}},
 {"tool": "run_command", "arguments": {"argv": ["sudo", "true"], "session": "\$SESSION"}},
 {"tool": "run_command", "arguments": {"command": "cat ~/.aws/credentials $FAKEHOME/.aws/credentials", "session": "\$SESSION"}},
 {"tool": "run_command", "arguments": {"argv": ["su", "-c", "id"], "session": "chain-$1-$$"}},
 {"tool": "run_command", "arguments": {"argv": ["/bin/su", "-c", "id"], "session": "chain-$1-$$"}},
 {"tool": "run_command", "arguments": {"argv": ["/usr/bin/su", "-c", "id"], "session": "chain-$1-$$"}},
 {"tool": "run_command", "arguments": {"argv": ["/usr/bin/../bin/su", "-c", "id"], "session": "chain-$1-$$"}},
 {"tool": "session_status", "arguments": {}}
]
EOF
}

drive() {
	write_steps "$1"
	run --separate-stderr node "$DRIVER" "$1" "$BATS_TEST_TMPDIR/steps.json" -- \
		"$STOCKADE" mcp --workspace "$WS" --state-dir "$STATE"
	[ "$status" -eq 0 ] || { echo "$stderr" >&2; return 1; }
	printf '%s' "$output" >"$BATS_TEST_TMPDIR/out.json"
	OUT=$BATS_TEST_TMPDIR/out.json
	load_json "$OUT"
}

# What every client must have seen (the chain's escalation needs sessions).
check_scenario() {
	[ "$(val tools.0),$(val tools.1)" = "run_command,session_status" ]
	[ "$(val server.name)" = "stockade" ]
	# allowed: ran, the secret came back redacted
	[ "$(val results.0.isError)" = "false" ]
	[ "$(val results.0.structured.verdict)" = "allow" ]
	[[ "$(val results.0.structured.stdout)" == *hello* ]]
	[[ "$(val results.0.structured.stdout)" == *"[REDACTED:"* ]]
	[[ "$(val results.0.text)" == *"$WS"* ]]
	! grep -q "$CANARY" "$OUT"
	session=$(val results.0.structured.session)
	[[ "$session" == mcp-* ]]
	# denied by policy: did not run, isError, the same session
	[ "$(val results.1.isError)" = "true" ]
	[ "$(val results.1.structured.verdict)" = "deny" ]
	[ "$(val results.1.structured.exit_code)" = "126" ]
	[ "$(val results.1.structured.session)" = "$session" ]
	[[ "$(val results.1.text)" == *"denied by policy"* ]]
	# the secret read fails inside the sandbox
	[ "$(val results.2.isError)" = "true" ]
	[ "$(val results.2.structured.exit_code)" != "0" ]
	# every call is a receipted turn of its session
	[ "$(grep -c "\"session\":\"$session\"" "$STATE/receipts.jsonl")" -ge 5 ]
	[ "$(val results.7.structured.session)" = "$session" ]
	[ "$(val results.7.structured.turns_run_here)" = "3" ]
	# the retry chain: denied, then escalated by the fourth attempt
	[ "$(val results.3.structured.verdict)" = "deny" ]
	[ "$(val results.6.isError)" = "true" ]
	[ "$(val results.6.structured.verdict)" = "escalate" ]
	[ "$(val results.6.structured.escalated)" = "true" ]
}

@test "the pinned client versions are the ones installed" {
	for p in sdk client inspector; do
		v=$(node -p "require('$CLIENTS/node_modules/@modelcontextprotocol/$p/package.json').version")
		[ "$v" = "$(node -p "require('$CLIENTS/package.json').dependencies['@modelcontextprotocol/$p']")" ]
	done
}

@test "sdk v1 client (2025-11-25 initialize): tools, allowed, denied, redacted, escalating chain" {
	drive sdk
	check_scenario
}

@test "client v2, legacy negotiation: the initialize handshake at 2025-11-25" {
	drive client-legacy
	[ "$(val protocolVersion)" = "2025-11-25" ]
	[ "$(val era)" = "legacy" ]
	check_scenario
}

@test "client v2, auto negotiation: server/discover selects the stateless 2026-07-28 revision" {
	drive client-auto
	[ "$(val protocolVersion)" = "2026-07-28" ]
	[ "$(val era)" = "modern" ]
	check_scenario
}

@test "client v2 pinned to 2026-07-28: every request carries its version" {
	drive client-pin
	[ "$(val protocolVersion)" = "2026-07-28" ]
	check_scenario
}

# inspector --cli: one process per call.  Its exit status says little (older
# versions exit 0 even on isError; 2.12 exits 5 with "tool_is_error" on
# stderr), so the result is judged from the JSON it prints.
inspect() {
	run --separate-stderr "$INSPECTOR" --cli -e "MY_TOKEN=$CANARY" \
		"$STOCKADE" mcp --workspace "$WS" --state-dir "$STATE" "$@"
	[ "$status" -eq 0 ] || { [ "$status" -eq 5 ] && [[ "$stderr" == *tool_is_error* ]]; } ||
		{ echo "$stderr" >&2; return 1; }
	printf '%s' "$output" >"$BATS_TEST_TMPDIR/out.json"
	OUT=$BATS_TEST_TMPDIR/out.json
	load_json "$OUT"
}

@test "inspector --cli: lists the tools" {
	inspect --method tools/list
	[ "$(val tools.0.name),$(val tools.1.name)" = "run_command,session_status" ]
	[ "$(val tools.0.inputSchema.type)" = "object" ]
}

@test "inspector --cli: an allowed command runs and the secret it prints is redacted" {
	inspect --method tools/call --tool-name run_command --tool-arg "command=echo hello; echo $CANARY"
	[ "$(val isError)" = "false" ]
	[[ "$(val content.0.text)" == *hello* ]]
	[[ "$(val structuredContent.stdout)" == *"[REDACTED:env:MY_TOKEN]"* ]]
	! grep -q "$CANARY" "$OUT"
}

@test "inspector --cli: a denied command is isError with the verdict" {
	inspect --method tools/call --tool-name run_command --tool-arg 'argv=["sudo","true"]'
	[ "$(val isError)" = "true" ]
	[ "$(val structuredContent.verdict)" = "deny" ]
	[ "$(val structuredContent.reason)" = "command_deny" ]
}

@test "inspector --cli: a retry chain across four connections of one session escalates" {
	sid=insp-chain-$$
	verdicts=()
	for exe in su /bin/su /usr/bin/su /usr/bin/../bin/su; do
		inspect --method tools/call --tool-name run_command --tool-arg "argv=[\"$exe\",\"-c\",\"id\"]" \
			--tool-arg "session=$sid"
		[ "$(val isError)" = "true" ]
		[ "$(val structuredContent.session)" = "$sid" ]
		verdicts+=("$(val structuredContent.verdict)")
	done
	[ "$(grep -c "\"session\":\"$sid\"" "$STATE/receipts.jsonl")" -ge 4 ]
	[ "${verdicts[0]}" = "deny" ]
	[ "${verdicts[3]}" = "escalate" ]
}

@test "a raw 2026-07-28 request with an unsupported version gets -32022 and the supported list" {
	run --separate-stderr sh -c "printf '%s\n' '{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\",\"params\":{\"_meta\":{\"io.modelcontextprotocol/protocolVersion\":\"1999-01-01\",\"io.modelcontextprotocol/clientCapabilities\":{}}}}' | '$STOCKADE' mcp --state-dir '$STATE'"
	[ "$status" -eq 0 ]
	printf '%s' "$output" >"$BATS_TEST_TMPDIR/out.json"
	load_json "$BATS_TEST_TMPDIR/out.json"
	[ "$(val error.code)" = "-32022" ]
	[ "$(val error.data.requested)" = "1999-01-01" ]
	[ "$(val error.data.supported.0),$(val error.data.supported.1)" = "2026-07-28,2025-11-25" ]
}

@test "a command cannot read the protocol stream: its stdin is empty" {
	run --separate-stderr sh -c "printf '%s\n%s\n' '{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{\"protocolVersion\":\"2025-11-25\",\"capabilities\":{}}}' '{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/call\",\"params\":{\"name\":\"run_command\",\"arguments\":{\"command\":\"wc -c\"}}}' | '$STOCKADE' mcp --state-dir '$STATE'"
	[ "$status" -eq 0 ]
	[ "$(echo "$output" | wc -l)" -eq 2 ]
	echo "$output" | tail -1 >"$BATS_TEST_TMPDIR/out.json"
	load_json "$BATS_TEST_TMPDIR/out.json"
	[ "$(val result.structuredContent.stdout)" = "0\\n" ]
}

@test "a bad profile is an error at start (125), not at the first call" {
	printf 'stockade-profile 1\nfile bogus /x\n' >"$BATS_TEST_TMPDIR/bad.profile"
	run --separate-stderr "$STOCKADE" mcp --profile "$BATS_TEST_TMPDIR/bad.profile" </dev/null
	[ "$status" -eq 125 ]
	[[ "$stderr" == *"bad.profile:2"* ]]
}
