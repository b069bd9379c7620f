#!/usr/bin/env bats
# The auditor's side end to end: stockade replay, report and regress on a
# log written by integration/audit-replay-gen.c (verdicts from sk_decide,
# decide's input recorded, the profile in the evidence store).

setup_file() {
	ROOT=$(cd "$BATS_TEST_DIRNAME/.." && pwd)
	BUILD_DIR=$(cd "$ROOT/${BUILD:-build}" && pwd)
	cc -I"$ROOT/include" -D_GNU_SOURCE -O2 ${SAN:-} $(pkg-config --cflags jansson) \
		-o "$BATS_FILE_TMPDIR/gen" "$ROOT/integration/audit-replay-gen.c" "$BUILD_DIR/libstockade.a" \
		$(pkg-config --libs libseccomp libcap libnl-3.0 libnl-route-3.0 libsodium jansson libhs)
}

setup() {
	T=$BATS_TEST_TMPDIR
	S=$T/state
	printf '%s\n' 'file default read-only' 'file read-write /w' 'file deny /etc/shadow' \
		'file secret /home/u/.aws' 'env default pass' 'env secret *_TOKEN' 'net none' \
		'command deny curl' 'command default allow' 'escalation chain 3' > "$T/a.profile"
	# B: /etc/shadow no longer denied, curl allowed
	printf '%s\n' 'file default read-only' 'file read-write /w' 'file secret /home/u/.aws' \
		'env default pass' 'env secret *_TOKEN' 'net none' 'command allow curl' \
		'command default allow' 'escalation chain 3' > "$T/b.profile"
	printf '%s\n' 'file default deny' 'env default drop' 'net none' 'command default deny' > "$T/deny-all.profile"
	"$BATS_FILE_TMPDIR/gen" "$S" "$T/a.profile" 3
	LOG=$S/receipts.jsonl
}

# seq of the receipts whose surface key is $1, one a line
seqs_of() {
	jq -r --arg k "$1" 'select(.surface.key == $k) | .seq' "$LOG"
}

@test "replay: an honest log replays at 100% after verifying" {
	run "$STOCKADE_BIN" replay "$S"
	[ "$status" -eq 0 ]
	[[ "$output" == *"verified: ok"* ]]
	[[ "$output" == *"replay pass rate: 100.00% (24/24 match)"* ]]
	run "$STOCKADE_BIN" replay --json "$LOG"
	[ "$status" -eq 0 ]
	[ "$(echo "$output" | jq '.replayed, .matches, .verified' | tr '\n' ' ')" = "24 24 true " ]
}

@test "replay: a tampered verdict is a mismatch, and verification says so" {
	seq=$(seqs_of cmd:/usr/bin/curl | head -1)
	line=$(grep -n "\"seq\":$seq," "$LOG" | cut -d: -f1)
	sed -i "${line}s/\"verdict\":\"deny\"/\"verdict\":\"allow\"/" "$LOG"
	run "$STOCKADE_BIN" replay "$S"
	[ "$status" -eq 1 ]
	[[ "$output" == *"verified: FAILED at $LOG:$line"* ]]
	[[ "$output" == *"mismatch seq=$seq surface=cmd:/usr/bin/curl allow -> deny"* ]]
	[[ "$output" == *"(23/24 match)"* ]]
	run "$STOCKADE_BIN" replay --no-verify "$S"
	[ "$status" -eq 1 ]
	[[ "$output" == *"verified: no (--no-verify)"* ]]
	[ "$(echo "$output" | grep -c '^mismatch ')" -eq 1 ]
}

@test "replay --profile: exactly the verdicts that change" {
	run "$STOCKADE_BIN" replay --profile "$T/b.profile" "$S"
	[ "$status" -eq 0 ]
	[ "$(echo "$output" | grep -c '^change ')" -eq 6 ]
	want=$( (seqs_of file:/etc/shadow; seqs_of cmd:/usr/bin/curl) | sort -n | tr '\n' ' ')
	got=$(echo "$output" | sed -n 's/^change seq=\([0-9]*\) .*/\1/p' | sort -n | tr '\n' ' ')
	[ "$got" = "$want" ]
	[ "$(echo "$output" | grep -c 'surface=file:/etc/shadow deny -> allow')" -eq 3 ]
	[ "$(echo "$output" | grep -c 'surface=cmd:/usr/bin/curl deny -> allow')" -eq 3 ]
	[[ "$output" == *"diff: 6 of 24 replayed verdicts would change"* ]]
	# the same profile changes nothing
	run "$STOCKADE_BIN" replay --profile "$T/a.profile" "$S"
	[ "$status" -eq 0 ]
	[[ "$output" == *"diff: 0 of 24"* ]]
}

@test "replay: a sample is reproducible; bad options and a missing store fail" {
	a=$("$STOCKADE_BIN" replay --json --sample 50% --seed 3 "$S" | jq .replayed)
	b=$("$STOCKADE_BIN" replay --json --sample 50% --seed 3 "$S" | jq .replayed)
	[ "$a" = "$b" ]
	[ "$a" -gt 0 ] && [ "$a" -lt 24 ]
	run "$STOCKADE_BIN" replay --sample 0% "$S"
	[ "$status" -eq 125 ]
	run "$STOCKADE_BIN" replay --profile "$T/nonexistent.profile" "$S"
	[ "$status" -eq 125 ]
	rm -rf "$S/evidence"
	run "$STOCKADE_BIN" replay "$S"
	[ "$status" -eq 1 ]
	[[ "$output" == *"profile not in evidence store: 24"* ]]
}

@test "report: metrics, labels, and a deny-all profile never scores higher" {
	shadow=$(seqs_of file:/etc/shadow | head -1)
	curl=$(seqs_of cmd:/usr/bin/curl | head -1)
	write=$(seqs_of file:/w/src/main.c | head -1)
	printf '{"seq": %s, "label": "correct", "severity": "high"}\n{"seq": %s, "label": "false_deny", "severity": "high"}\n{"seq": %s, "label": "correct", "severity": "low"}\n' \
		"$shadow" "$curl" "$write" > "$T/labels.jsonl"
	run "$STOCKADE_BIN" report --json --labels "$T/labels.jsonl" "$S"
	[ "$status" -eq 0 ]
	r=$output
	[ "$(echo "$r" | jq .evaluation_coverage.ratio)" = 1 ]
	[ "$(echo "$r" | jq .replay.pass_rate)" = 1 ]
	[ "$(echo "$r" | jq .evidence_completeness.ratio)" = 1 ]
	[ "$(echo "$r" | jq .escalation.resolved)" = 3 ]
	[ "$(echo "$r" | jq .labels.false_deny.high)" = 1 ]
	[ "$(echo "$r" | jq .attack_pressure.denials_by_command.curl)" = 3 ]
	[ "$(echo "$r" | jq .attack_pressure.denials_by_surface.net)" = 3 ]
	recorded=$(echo "$r" | jq .decision_quality.score)
	denyall=$("$STOCKADE_BIN" report --json --labels "$T/labels.jsonl" --profile "$T/deny-all.profile" "$S" |
		jq .decision_quality.score)
	# C fixes the false deny of curl and nothing else: it scores higher
	sed 's/command deny curl/command allow curl/' "$T/a.profile" > "$T/c.profile"
	fixed=$("$STOCKADE_BIN" report --json --labels "$T/labels.jsonl" --profile "$T/c.profile" "$S" |
		jq .decision_quality.score)
	echo "scores: recorded=$recorded deny-all=$denyall fixed=$fixed"
	jq -n --argjson a "$denyall" --argjson r "$recorded" --argjson f "$fixed" '$a <= $r and $a == 0 and $f > $r' | grep -qx true
	# B also opens /etc/shadow (a high false allow): it does not score higher
	opened=$("$STOCKADE_BIN" report --json --labels "$T/labels.jsonl" --profile "$T/b.profile" "$S" |
		jq .decision_quality.score)
	jq -n --argjson b "$opened" --argjson f "$fixed" '$b < $f' | grep -qx true
	# a bad labels file is named by file:line
	printf '{"seq": 1, "label": "correct"}\n{"seq": 2, "label": "bogus"}\n' > "$T/bad.jsonl"
	run "$STOCKADE_BIN" report --labels "$T/bad.jsonl" "$S"
	[ "$status" -eq 125 ]
	[[ "$output" == *"$T/bad.jsonl:2:"* ]]
}

@test "report --prom and --html: stockade_* names, no ids or paths, charts without network" {
	run "$STOCKADE_BIN" report --prom "$T/stockade.prom" --html "$T/report.html" "$S"
	[ "$status" -eq 0 ]
	[ -s "$T/stockade.prom" ] && [ -s "$T/report.html" ]
	[ -z "$(ls "$T" | grep '\.tmp\.')" ]
	# every sample is a stockade_* metric; counters end in _total
	! grep -v '^#' "$T/stockade.prom" | grep -v '^stockade_'
	grep -q '^# TYPE stockade_receipts_total counter' "$T/stockade.prom"
	grep -q '^stockade_escalation_latency_seconds_count 3$' "$T/stockade.prom"
	grep -q '^stockade_denials_by_reason_total{reason="command_deny"} 3$' "$T/stockade.prom"
	! grep 'counter' "$T/stockade.prom" | grep -v '_total counter'
	! grep -E 'session|s1|/' <(grep -v '^#' "$T/stockade.prom")
	[ "$(grep -c '<svg' "$T/report.html")" -ge 5 ]
	! grep -Eq '<script|src=|href=|@import|url\(' "$T/report.html"
}

@test "regress: denied commands come from the log; a corpus command now allowed fails" {
	export XDG_STATE_HOME=$T/run-state   # where the re-runs record their receipts
	run "$STOCKADE_BIN" regress --json "$S"
	[ "$(echo "$output" | jq -c '[.commands, .results[0].argv]')" = '[1,["curl","http://example.com"]]' ]
	printf '{"argv": ["/nonexistent-cmd-%s"]}\n' "$$" > "$T/blocked.jsonl"
	run "$STOCKADE_BIN" regress "$T/blocked.jsonl"
	[ "$status" -eq 0 ]
	[[ "$output" == *"still blocked (exit 127)"* ]]
	printf '{"argv": ["true"]}\n{"argv": ["/nonexistent-cmd"]}\n' > "$T/corpus.jsonl"
	run "$STOCKADE_BIN" regress "$T/corpus.jsonl"
	[ "$status" -eq 1 ]
	[[ "$output" == *"NOW ALLOWED (exit 0): true"* ]]
	[[ "$output" == *"regress: 2 command(s), 1 now allowed"* ]]
	run "$STOCKADE_BIN" regress "$T/missing.jsonl"
	[ "$status" -eq 125 ]
}

@test "replay and report: a log written by stockade run replays at 100%" {
	export XDG_STATE_HOME=$T/run-state
	cd "$T"
	"$STOCKADE_BIN" run -- true
	"$STOCKADE_BIN" run -- sh -c 'exit 3' || [ $? -eq 3 ]
	"$STOCKADE_BIN" run -- ls / >/dev/null
	run "$STOCKADE_BIN" replay "$T/run-state/stockade"
	[ "$status" -eq 0 ]
	[[ "$output" == *"verified: ok"* ]]
	[[ "$output" == *"replay pass rate: 100.00%"* ]]
	n=$("$STOCKADE_BIN" replay --json "$T/run-state/stockade" | jq .replayed)
	[ "$n" -ge 3 ]
	run "$STOCKADE_BIN" report --json "$T/run-state/stockade"
	[ "$status" -eq 0 ]
	[ "$(echo "$output" | jq .evidence_completeness.ratio)" = 1 ]
	[ "$(echo "$output" | jq .evaluation_coverage.commands)" -ge 3 ]
}

@test "replay: the integration corpus's log replays at 100%; a changed profile gives exactly the expected diff" {
	# the corpus cases (integration/corpus/*.bats) record into one state
	# directory, and a few runs with denials are added to them.  Left out:
	# the slow cases that keep every receipt in a state directory of their
	# own (network, git-host-exec, daemon-worker-memory): they would add
	# a minute and nothing to this log.
	export XDG_STATE_HOME=$T/corpus-state
	ROOT=$(cd "$BATS_TEST_DIRNAME/.." && pwd)
	cases=$(ls "$ROOT"/integration/corpus/*.bats | grep -v -e /network.bats -e /git-host-exec.bats \
		-e /daemon-worker-memory.bats)
	bats --tap $cases >"$T/corpus.tap" 2>&1 || true
	mkdir -p "$T/ws"
	cd "$T/ws"
	echo hello >note.txt
	"$STOCKADE_BIN" run -- cat note.txt >/dev/null
	"$STOCKADE_BIN" run -- su -c true 2>/dev/null || [ $? -eq 126 ]
	"$STOCKADE_BIN" run -- sh -c 'cat note.txt; exit 4' >/dev/null || [ $? -eq 4 ]
	"$STOCKADE_BIN" run -- cat note.txt >/dev/null
	"$STOCKADE_BIN" run -- su 2>/dev/null || [ $? -eq 126 ]
	L=$XDG_STATE_HOME/stockade
	corpus=$(grep -c '^ok ' "$T/corpus.tap")
	[ "$corpus" -ge 1 ]
	total=$(jq -s 'map(select(.decide.event)) | length' "$L/receipts.jsonl")
	[ "$total" -ge 16 ]
	run "$STOCKADE_BIN" replay "$L"
	[ "$status" -eq 0 ]
	[[ "$output" == *"verified: ok"* ]]
	[[ "$output" == *"replay pass rate: 100.00% ($total/$total match)"* ]]
	# the change: su no longer denied, cat denied
	sed -e '/^command deny su$/d' "$ROOT/profiles/default" >"$T/new.profile"
	echo 'command deny cat' >>"$T/new.profile"
	# what must change, read from the log itself: every receipt of a cat
	# (allowed, now denied) and of a su (denied, now allowed), nothing else
	want=$(jq -r 'select(.decide.event.kind == "command")
		| (.decide.event.exe.path // "" | split("/") | last) as $exe
		| select(($exe == "cat" and .verdict == "allow") or ($exe == "su" and .verdict == "deny"))
		| "\(.seq) \(if .verdict == "allow" then "allow -> deny" else "deny -> allow" end)"' "$L/receipts.jsonl")
	[ "$(echo "$want" | grep -c 'allow -> deny')" -ge 4 ]
	[ "$(echo "$want" | grep -c 'deny -> allow')" -eq 2 ]
	run "$STOCKADE_BIN" replay --profile "$T/new.profile" "$L"
	[ "$status" -eq 0 ]
	got=$(echo "$output" | sed -n 's/^change seq=\([0-9]*\) surface=[^ ]* \([a-z]* -> [a-z]*\) .*/\1 \2/p')
	echo "want: $want"
	echo "got: $got"
	[ "$got" = "$want" ]
	[[ "$output" == *"diff: $(echo "$want" | wc -l) of $total replayed verdicts would change"* ]]
	# the recorded profile itself changes nothing
	"$STOCKADE_BIN" profile show default | tail -n +2 >"$T/same.profile"
	run "$STOCKADE_BIN" replay --profile "$T/same.profile" "$L"
	[ "$status" -eq 0 ]
	[[ "$output" == *"diff: 0 of $total"* ]]
}
