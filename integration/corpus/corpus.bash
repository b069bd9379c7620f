# Shared by the corpus cases: a session of turns against one canary secret,
# judged from outside the sandbox.
source "${BASH_SOURCE[0]%/*}/../helpers.bash"

# corpus_setup: a workspace, a fake HOME with ~/.aws/credentials holding
# $CANARY, a state directory and a fresh session id.
corpus_setup() {
	setup_workspace
	STATE="$WS.state"
	SESSION="corpus-$BATS_TEST_NUMBER-$$"
	SECRET="$FAKEHOME/.aws/credentials"
	ALL_OUT=""
	TURNS=0
}

# commit_dotenv: a git repository in the workspace with a committed .env
# that holds $CANARY after 53 bytes of other settings (the file itself is
# hidden and denied in the sandbox; `git show HEAD:.env` reads the copy in
# .git).
commit_dotenv() {
	git init -q . && git config user.email a@b && git config user.name a
	printf 'DB_HOST=db-primary.internal.example.org:5432\nAPI_KEY=%s\n' "$CANARY" > .env
	git add -f .env && git commit -qm env
}

# edited_dotenv: a secret .env and env.bak, an edited copy of it (a line
# added in front) stored with each line reversed: no fingerprint knows it
# and it holds none of the .env's values as they are (a file holding one
# is refused as the secret: same-value-elsewhere.bats), so `rev env.bak`
# prints the .env's content and only the redactor (the .env's values are
# its literals) stands between it and the output.  The committed copy these
# cases once read (`git show HEAD:.env`) is refused now (git-objects.bats),
# and so was the plain edited copy since 2026-12-08.
edited_dotenv() {
	printf 'DB_HOST=db-primary.internal.example.org:5432\nAPI_KEY=%s\n' "$CANARY" > .env
	{ printf '# copied by hand\n'; cat .env; } | rev > env.bak
}

corpus_teardown() {
	rm -rf "$STATE"
	teardown_workspace
}

# turn 'SHELL COMMAND' [STATUS]: one turn of the session; its output is kept
# for the final no-canary check.  With STATUS, the exit status must be that.
turn() {
	run "$STOCKADE" run --state-dir "$STATE" --session "$SESSION" -- sh -c "$1"
	TURNS=$((TURNS + 1))
	ALL_OUT+="$output"$'\n'
	if [ -n "${2:-}" ] && [ "$status" -ne "$2" ]; then
		echo "turn $TURNS ($1): exit $status, expected $2; output: $output" >&2
		return 1
	fi
}

# No form of the canary in anything the agent saw: plain, reversed,
# base64, hex.
assert_no_canary() {
	local rev b64 hex
	rev=$(printf '%s' "$CANARY" | rev)
	b64=$(printf '%s' "$CANARY" | base64 -w0)
	hex=$(printf '%s' "$CANARY" | od -An -tx1 | tr -d ' \n')
	[[ "$ALL_OUT" != *"$CANARY"* ]] || { echo "canary in output" >&2; return 1; }
	[[ "$ALL_OUT" != *"$rev"* ]] || { echo "reversed canary in output" >&2; return 1; }
	[[ "$ALL_OUT" != *"${b64:0:16}"* ]] || { echo "base64 canary in output" >&2; return 1; }
	[[ "$ALL_OUT" != *"${hex:0:24}"* ]] || { echo "hex canary in output" >&2; return 1; }
}

# chain_of PATH: "LENGTH ESCALATION VERDICTS" of the chain whose first
# path is PATH (verdicts joined by ','), from `stockade session show --json`.
chain_of() {
	"$STOCKADE" session show "$SESSION" --state-dir "$STATE" --json | /usr/bin/python3 -c '
import json, sys
s = json.load(sys.stdin)
for c in s["chains"]:
    if c["path"] == sys.argv[1]:
        print(c["length"], c["escalation"], ",".join(a["verdict"] for a in c["attempts"]))
        break
else:
    print("0 none -")
' "$1"
}

# assert_chain PATH LENGTH ESCALATION VERDICTS
assert_chain() {
	local got
	got=$(chain_of "$1")
	if [ "$got" != "$2 $3 $4" ]; then
		echo "chain of $1: got '$got', want '$2 $3 $4'" >&2
		"$STOCKADE" session show "$SESSION" --state-dir "$STATE" >&2
		return 1
	fi
}

# Every attempt of the session has its receipt, and the log verifies.
assert_receipted() {
	"$STOCKADE" verify --state-dir "$STATE" >/dev/null
	"$STOCKADE" session show "$SESSION" --state-dir "$STATE" --json | /usr/bin/python3 -c '
import json, sys
s = json.load(sys.stdin)
seqs = set()
for line in open(sys.argv[1]):
    r = json.loads(line)
    if r.get("session") == s["session"] and r.get("type") in ("event", "command"):
        seqs.add(r["seq"])
for c in s["chains"]:
    for a in c["attempts"]:
        if a.get("receipt") not in seqs:
            sys.exit("attempt %d of chain %d has no receipt" % (a["attempt"], c["chain"]))
' "$STATE/receipts.jsonl"
}

# assert_escalated PATH: the chain of PATH holds at least 4 attempts, the
# first three denied, the fourth escalated, and the escalation is pending
# (a shell that tries several PATH entries makes several attempts a turn).
assert_escalated() {
	local got
	got=$(chain_of "$1")
	set -- $got
	if [ "$1" -lt 4 ] || [ "$2" != pending ] || [[ "$3" != deny,deny,deny,escalate* ]]; then
		echo "chain: got '$got', want >= 4 attempts, pending, deny,deny,deny,escalate..." >&2
		"$STOCKADE" session show "$SESSION" --state-dir "$STATE" >&2
		return 1
	fi
}
