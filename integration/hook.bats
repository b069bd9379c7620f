#!/usr/bin/env bats
# stockade hook claude-code, fed recorded hook inputs of the shape the Claude
# Code hooks reference documents (session_id, transcript_path, cwd,
# permission_mode, hook_event_name, tool_name, tool_input, tool_use_id,
# tool_response), and its rewritten commands run the way the Bash tool runs
# them (bash -c).

bats_require_minimum_version 1.5.0
load helpers

setup() {
	setup_workspace
	STATE=$BATS_TEST_TMPDIR/state
	SID=0b7c9e4e-$$-$RANDOM
	unset CLAUDE_PROJECT_DIR
}

teardown() { teardown_workspace; }

# pre_input COMMAND: a recorded PreToolUse input for the Bash tool.
pre_input() {
	node -e 'console.log(JSON.stringify({session_id: process.argv[1],
		transcript_path: "/home/u/.claude/projects/p/" + process.argv[1] + ".jsonl", cwd: process.argv[2],
		permission_mode: "default", hook_event_name: "PreToolUse", tool_name: "Bash",
		tool_input: {command: process.argv[3], description: "a recorded call", timeout: 120000},
		tool_use_id: "toolu_01ABC123"}))' "$SID" "$WS" "$1"
}

# feed: the hook input (stdin) for the next hook call; hook ARGS: run the
# hook on it (not in a pipeline, so that bats sees its status).
feed() { cat >"$BATS_TEST_TMPDIR/in.json"; }
hook() {
	run --separate-stderr "$STOCKADE" hook claude-code --state-dir "$STATE" "$@" <"$BATS_TEST_TMPDIR/in.json"
}

# json EXPR: evaluate EXPR on the hook's stdout (o)
json() {
	node -e 'const o = JSON.parse(process.argv[1]); const v = eval(process.argv[2]);
		 console.log(typeof v === "string" ? v : JSON.stringify(v))' "$output" "$1"
}

# The rewritten command of a PreToolUse answer for COMMAND.
rewrite() {
	pre_input "$1" | feed
	hook
	[ "$status" -eq 0 ]
	json 'o.hookSpecificOutput.updatedInput.command'
}

@test "--print-config prints a settings.json hooks snippet for PreToolUse Bash and PostToolUse" {
	run --separate-stderr "$STOCKADE" hook claude-code --print-config --profile strict
	[ "$status" -eq 0 ]
	[ "$(json 'o.hooks.PreToolUse[0].matcher')" = "Bash" ]
	[ "$(json 'o.hooks.PreToolUse[0].hooks[0].type')" = "command" ]
	[[ "$(json 'o.hooks.PreToolUse[0].hooks[0].command')" == *"hook claude-code --profile 'strict'"* ]]
	[ "$(json 'o.hooks.PostToolUse[0].matcher')" = "*" ]
}

@test "PreToolUse Bash: the command is rewritten to stockade run in the hook's session, other fields kept" {
	pre_input "ls -la" | feed
	hook
	[ "$status" -eq 0 ]
	[ "$(json 'o.hookSpecificOutput.hookEventName')" = "PreToolUse" ]
	[ "$(json 'o.hookSpecificOutput.permissionDecision')" = "allow" ]
	[ "$(json 'o.hookSpecificOutput.updatedInput.description')" = "a recorded call" ]
	[ "$(json 'o.hookSpecificOutput.updatedInput.timeout')" = "120000" ]
	cmd=$(json 'o.hookSpecificOutput.updatedInput.command')
	[[ "$cmd" == "'$(readlink -f "$STOCKADE")' run --session '$SID' --workspace '$WS' --state-dir '$STATE' -- "* ]]
	[[ "$cmd" == *"-c 'ls -la'" ]]
}

@test "PreToolUse Bash --ask: Claude Code asks before the rewritten command" {
	pre_input "ls" | feed
	hook --ask
	[ "$status" -eq 0 ]
	[ "$(json 'o.hookSpecificOutput.permissionDecision')" = "ask" ]
}

@test "the workspace is CLAUDE_PROJECT_DIR when Claude Code sets it" {
	mkdir "$WS/sub"
	pre_input "pwd" | feed
	CLAUDE_PROJECT_DIR=$WS hook
	[ "$status" -eq 0 ]
	[[ "$(json 'o.hookSpecificOutput.updatedInput.command')" == *"--workspace '$WS'"* ]]
}

@test "the rewritten command runs in the sandbox and prints what the original prints (quoting survives)" {
	original=$'printf \'[%s]\' "a  b" \'it\'"\'"\'s\' $((1+2)) "$(echo x)"; echo; echo "${STOCKADE_SANDBOX:-none}"'
	cmd=$(rewrite "$original")
	run bash -c "$cmd"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "[a  b][it's][3][x]" ]
	[ "${lines[1]}" = "1" ]   # the marker: it ran inside
	grep -q "\"session\":\"$SID\"" "$STATE/receipts.jsonl"
}

@test "PreToolUse Bash: a command the profile denies is recorded and blocked with exit 2 and a reason" {
	pre_input "sudo rm -rf /" | feed
	hook
	[ "$status" -eq 2 ]
	[ -z "$output" ]
	[[ "$stderr" == *"denied by policy: command_deny"* ]]
	[[ "$stderr" == *"$SID"* ]]
	# the attempt is a receipted turn of the session
	grep "\"session\":\"$SID\"" "$STATE/receipts.jsonl" | grep -q '"verdict":"deny"'
}

@test "PreToolUse: other tools, and Bash input without a command, are left alone" {
	node -e 'console.log(JSON.stringify({session_id: "s1", hook_event_name: "PreToolUse", tool_name: "Read",
		tool_input: {file_path: "/etc/hostname"}, tool_use_id: "t"}))' | feed
	hook
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	echo '{"session_id":"s1","hook_event_name":"PreToolUse","tool_name":"Bash","tool_input":{}}' | feed
	hook
	[ "$status" -eq 0 ]
	[ -z "$output" ]
}

@test "PreToolUse Bash without a usable session_id is blocked (fail closed)" {
	echo '{"hook_event_name":"PreToolUse","tool_name":"Bash","cwd":"/tmp","tool_input":{"command":"ls"}}' | feed
	hook
	[ "$status" -eq 2 ]
	[[ "$stderr" == *session_id* ]]
	echo '{"session_id":"../../x","hook_event_name":"PreToolUse","tool_name":"Bash","cwd":"/tmp","tool_input":{"command":"ls"}}' | feed
	hook
	[ "$status" -eq 2 ]
}

@test "PostToolUse: secrets in another tool's output are replaced, the output's shape kept" {
	export MY_TOKEN=$CANARY
	node -e 'console.log(JSON.stringify({session_id: "s1", hook_event_name: "PostToolUse", tool_name: "Read",
		tool_input: {file_path: "/w/notes.txt"}, tool_use_id: "t", duration_ms: 3,
		tool_response: {type: "text", file: {filePath: "/w/notes.txt", numLines: 2, content:
		"token " + process.argv[1] + "\nkey AKIAIOSFODNN7EXAMPLE\n"}}}))' "$CANARY" | feed
	hook
	[ "$status" -eq 0 ]
	[[ "$output" != *"$CANARY"* ]]
	[ "$(json 'o.hookSpecificOutput.hookEventName')" = "PostToolUse" ]
	[ "$(json 'o.hookSpecificOutput.updatedToolOutput.type')" = "text" ]
	[ "$(json 'o.hookSpecificOutput.updatedToolOutput.file.numLines')" = "2" ]
	content=$(json 'o.hookSpecificOutput.updatedToolOutput.file.content')
	[[ "$content" == *"[REDACTED:env:MY_TOKEN]"* ]]
	[[ "$content" == *"[REDACTED:aws-access-key-id]"* ]]
}

@test "PostToolUse: clean output, and Bash output (stockade run redacted it), get no answer" {
	echo '{"session_id":"s1","hook_event_name":"PostToolUse","tool_name":"Read","tool_input":{},"tool_response":{"file":{"content":"nothing secret"}}}' | feed
	hook
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	echo '{"session_id":"s1","hook_event_name":"PostToolUse","tool_name":"Bash","tool_input":{},"tool_response":{"stdout":"AKIAIOSFODNN7EXAMPLE","stderr":"","interrupted":false,"isImage":false}}' | feed
	hook
	[ "$status" -eq 0 ]
	[ -z "$output" ]
}

@test "a hook input that is not JSON is the hook's own error (125), with where" {
	echo '{"session_id": ' | feed
	hook
	[ "$status" -eq 125 ]
	[[ "$stderr" == *"stdin:"* ]]
}

@test "end to end: a denied secret read then three other paths in one session ends escalated, every attempt receipted" {
	attempts=(
		"cat ~/.aws/credentials"
		"cat $FAKEHOME/.aws/credentials"
		"cat $FAKEHOME/.aws/../.aws/credentials"
		"ln -s $FAKEHOME/.aws aws-link; cat aws-link/credentials"
	)
	codes=()
	for a in "${attempts[@]}"; do
		cmd=$(rewrite "$a")
		run --separate-stderr bash -c "$cmd"
		[[ "$output$stderr" != *"$CANARY"* ]]
		codes+=("$status")
	done
	[ "${codes[0]}" -ne 0 ]
	[ "${codes[3]}" -eq 126 ]
	# all four attempts are turns of the one session in the receipts
	[ "$(grep "\"session\":\"$SID\"" "$STATE/receipts.jsonl" | grep -c '"type":"command"')" -ge 4 ]
	grep "\"session\":\"$SID\"" "$STATE/receipts.jsonl" | grep -q '"verdict":"escalate"'
}
