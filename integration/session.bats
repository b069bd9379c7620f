#!/usr/bin/env bats
# Sessions from the command line: turns, retry chains, sticky denials across
# turns, escalation and the human's answer, soft blocks, concurrency, and
# the supervision switch.  Judged from outside: exit codes, `stockade
# session show --json`, the receipts.

bats_require_minimum_version 1.5.0
load corpus/corpus

setup() { corpus_setup; }
teardown() { corpus_teardown; }

show_json() {
	"$STOCKADE" session show "$SESSION" --state-dir "$STATE" --json
}

field() {
	/usr/bin/python3 -c 'import json,sys; d=json.load(sys.stdin); print(eval(sys.argv[1], {"d": d}))' "$1"
}

@test "session: turns are numbered; STOCKADE_SESSION works like --session" {
	turn 'true' 0
	STOCKADE_SESSION="$SESSION" run "$STOCKADE" run --state-dir "$STATE" -- true
	[ "$status" -eq 0 ]
	[ "$(show_json | field 'd["turns"]')" = 2 ]
	run "$STOCKADE" run --state-dir "$STATE" --session '../x' -- true
	[ "$status" -eq 125 ]
	[[ "$output" == *"invalid --session"* ]]
}

@test "session: approve shows the file read-only (its value still redacted), deny keeps it refused" {
	turn 'cat ~/.aws/credentials' 1
	turn 'cat ~/.aws/credentials' 1
	turn 'cat ~/.aws/credentials' 1
	turn 'cat ~/.aws/credentials' 126
	[[ "$output" == *"stockade approve $SESSION 1"* ]]
	[ "$(show_json | field 'd["pending_escalations"]')" = "[1]" ]
	run "$STOCKADE" deny "$SESSION" 1 --state-dir "$STATE" --reason "not for this task"
	[ "$status" -eq 0 ]
	turn 'cat ~/.aws/credentials' 1
	[ "$(show_json | field 'd["chains"][0]["escalation"]')" = denied ]
	run "$STOCKADE" approve "$SESSION" 1 --state-dir "$STATE" --reason "deploy needs it"
	[ "$status" -eq 0 ]
	turn 'wc -l < ~/.aws/credentials; cat ~/.aws/credentials' 0
	[[ "$output" == 2* ]]
	[[ "$output" == *REDACTED* ]]
	assert_no_canary
	[ "$(show_json | field 'd["chains"][0]["decision_reason"]')" = "deploy needs it" ]
	# Both answers are receipted as resolutions naming the escalation.
	[ "$(grep -c '"type":"resolution"' "$STATE/receipts.jsonl")" -eq 2 ]
	grep -q "\"id\":\"$SESSION#1\"" "$STATE/receipts.jsonl"
	run "$STOCKADE" approve "$SESSION" 9 --state-dir "$STATE"
	[ "$status" -eq 125 ]
	[[ "$output" == *"no chain 9"* ]]
}

@test "session: a timeout or failure after a denial is a soft block on the chain" {
	turn 'cat ~/.aws/credentials' 1
	run "$STOCKADE" run --state-dir "$STATE" --session "$SESSION" --timeout 1 -- sh -c 'cat ~/.aws/credentials; sleep 5'
	[ "$status" -eq 124 ]
	turn 'cat ~/.aws/credentials || true' 0
	[ "$(show_json | field 'd["chains"][0]["soft_blocks"]')" = 2 ]
	[ "$(show_json | field '[a["soft_block"] for a in d["chains"][0]["attempts"]]')" = "[True, True, False]" ]
}

@test "session: concurrent turns of one session keep dense turn and attempt numbers" {
	for i in 1 2 3 4 5 6; do
		"$STOCKADE" run --state-dir "$STATE" --session "$SESSION" -- sh -c 'cat ~/.aws/credentials' >/dev/null 2>&1 &
	done
	wait
	[ "$(show_json | field 'd["turns"]')" = 6 ]
	[ "$(show_json | field '[a["attempt"] for a in d["chains"][0]["attempts"]]')" = "[1, 2, 3, 4, 5, 6]" ]
	[ "$(show_json | field 'sorted(a["turn"] for a in d["chains"][0]["attempts"])')" = "[1, 2, 3, 4, 5, 6]" ]
}

@test "session: a denial sticks across turns for a path the profile would allow (a hard link outside the scan)" {
	# The workspace scan that hides other names of a hidden inode is bounded
	# in depth; a link deeper than it is reached only through supervision,
	# which decides on the inode.
	mkdir -p "$WS/a/b/c/d/e/f/g/h/i"
	printf 'API_KEY=%s\n' "$CANARY" > "$WS/.env"
	ln "$WS/.env" "$WS/a/b/c/d/e/f/g/h/i/data"
	turn 'cat .env' 1
	turn 'rev a/b/c/d/e/f/g/h/i/data' 1
	assert_no_canary
	assert_chain "$WS/.env" 2 none deny,deny
}

@test "session: show lists chains and pending escalations; list names the session; damage is reported with file:line" {
	turn 'cat ~/.aws/credentials' 1
	run "$STOCKADE" session show "$SESSION" --state-dir "$STATE"
	[ "$status" -eq 0 ]
	[[ "$output" == *"chain 1: file $SECRET (sticky deny)"* ]]
	[[ "$output" == *"pending escalations: 0"* ]]
	run "$STOCKADE" session list --state-dir "$STATE"
	[[ "$output" == *"$SESSION"* ]]
	echo '{"t":"attempt"}' >> "$STATE/sessions/$SESSION/journal.jsonl"
	run "$STOCKADE" run --state-dir "$STATE" --session "$SESSION" -- true
	[ "$status" -eq 125 ]
	[[ "$output" == *"journal.jsonl:"*"damaged"* ]]
	run "$STOCKADE" session show nosuch --state-dir "$STATE"
	[ "$status" -eq 125 ]
}

@test "supervision: --no-supervise turns it off (measurement only); with it on, every attempt is receipted" {
	run "$STOCKADE" run --state-dir "$STATE" --no-supervise -- sh -c 'cat /etc/shadow; true'
	[ "$status" -eq 0 ]
	n0=$(grep -c '"type":"event"' "$STATE/receipts.jsonl" || true)
	[ "$n0" -eq 0 ]
	run "$STOCKADE" run --state-dir "$STATE" -- sh -c 'cat /etc/shadow; cat /etc/shadow; true'
	[ "$(grep -c '"type":"event"' "$STATE/receipts.jsonl")" -eq 2 ]
	grep '"type":"event"' "$STATE/receipts.jsonl" | grep -q '"reason":"file_denied"'
	"$STOCKADE" verify --state-dir "$STATE" >/dev/null
}
