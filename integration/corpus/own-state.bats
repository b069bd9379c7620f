#!/usr/bin/env bats
# Bypass family: stockade's own state, reached from inside the sandbox.
# Found 2026-12-04 in review.  With the workspace at HOME (an agent started
# in ~), the command read ~/.local/state/stockade/signing.key, the key that
# signs every receipt, so it could forge the evidence; with the state
# directory inside the workspace it could also rewrite the receipts and the
# session journal that holds its sticky denials; with XDG_CACHE_HOME inside
# the workspace it could replace the cached seccomp programs that later
# runs load; a root command could read /var/lib/stockade (the system
# daemon's key and every uid's session env).
# Fixed: the state directory, the cache directory and /var/lib/stockade are
# never in the sandbox, whatever the profile says; a workspace inside one
# of them is refused.

bats_require_minimum_version 1.5.0
load corpus

setup() { corpus_setup; }
teardown() { corpus_teardown; }

# not_reachable PATH...: inside the sandbox none of them exists or opens.
not_reachable() {
	local script='for f in "$@"; do [ -e "$f" ] && echo "visible:$f"; cat "$f" >/dev/null 2>&1 && echo "readable:$f"; done; echo done'
	run "$STOCKADE" run "${RUN_ARGS[@]}" -- sh -c "$script" sh "$@"
	[ "$status" -eq 0 ]
	[[ "$output" != *visible:* ]]
	[[ "$output" != *readable:* ]]
	[[ "$output" == *done* ]]
}

@test "corpus own-state: with the workspace at HOME, the signing key, receipts and cache are not in the sandbox" {
	cd "$HOME"
	RUN_ARGS=()
	"$STOCKADE" run -- true   # makes the key, the log and the cache
	local state="$HOME/.local/state/stockade" cache="$HOME/.cache/stockade"
	[ -s "$state/signing.key" ]
	[ -n "$(ls "$cache")" ]
	not_reachable "$state/signing.key" "$state/receipts.jsonl" "$cache"/*
	run "$STOCKADE" run -- sh -c 'echo forged >> .local/state/stockade/receipts.jsonl; ls -A .local/state/stockade 2>/dev/null | wc -l'
	[ "${lines[-1]}" -eq 0 ]
	"$STOCKADE" verify >/dev/null
}

@test "corpus own-state: a state directory inside the workspace keeps the session's chain and the log intact" {
	STATE="$WS/state"
	turn 'cat ~/.aws/credentials' 1
	turn 'rm -rf state/sessions; : > state/receipts.jsonl; echo x >> state/receipts.jsonl; cat state/signing.key'
	[ -s "$STATE/signing.key" ]
	assert_no_canary
	assert_chain "$SECRET" 1 none deny
	assert_receipted
	RUN_ARGS=(--state-dir "$STATE")
	not_reachable "$STATE/signing.key" "$STATE/receipts.jsonl"
}

@test "corpus own-state: a cache inside the workspace cannot be read or replaced" {
	export XDG_CACHE_HOME="$WS/cache"
	RUN_ARGS=()
	"$STOCKADE" run -- true
	local entries before
	entries=$(ls "$XDG_CACHE_HOME/stockade" | grep -c seccomp-)
	[ "$entries" -ge 1 ]
	before=$(cat "$XDG_CACHE_HOME"/stockade/* | sha256sum)
	run "$STOCKADE" run -- sh -c 'for f in cache/stockade/*; do true 2>/dev/null > "$f"; done; echo x 2>/dev/null > cache/stockade/seccomp-new.bpf; ls -A cache/stockade 2>/dev/null | wc -l'
	[ "${lines[-1]}" -eq 0 ]
	[ ! -e "$XDG_CACHE_HOME/stockade/seccomp-new.bpf" ]
	[ "$(cat "$XDG_CACHE_HOME"/stockade/* | sha256sum)" = "$before" ]
	run "$STOCKADE" run -- unshare -U true
	[ "$status" -ne 0 ]
}

@test "corpus own-state: a workspace inside the state directory is refused" {
	mkdir -p "$WS/state/inner"
	run "$STOCKADE" run --state-dir "$WS/state" --workspace "$WS/state/inner" -- true
	[ "$status" -eq 125 ]
	[[ "$output" == *"inside stockade's own state"* ]]
}

@test "corpus own-state: the system daemon's state (/var/lib/stockade) is not in the sandbox" {
	[ "$(id -u)" -eq 0 ] || skip "needs root: /var/lib/stockade is root's"
	local made=""
	[ -d /var/lib/stockade ] || { mkdir -m 0750 /var/lib/stockade; made=1; }
	local probe="/var/lib/stockade/corpus-$$.json"
	printf '{"env":{"API_KEY":"%s"}}\n' "$CANARY" > "$probe"
	chmod 600 "$probe"
	RUN_ARGS=()
	run "$STOCKADE" run -- sh -c "cat $probe | rev; ls -A /var/lib/stockade 2>/dev/null | wc -l"
	rm -f "$probe"
	[ -z "$made" ] || rmdir /var/lib/stockade
	ALL_OUT="$output"
	assert_no_canary
	[ "${lines[-1]}" -eq 0 ]
}
