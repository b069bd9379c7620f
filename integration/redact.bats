#!/usr/bin/env bats
# stockade redact: the redactor as a filter, judged on what comes out.
load helpers
bats_require_minimum_version 1.5.0

setup() {
	TMP=$(mktemp -d "${BATS_TMPDIR:-/tmp}/stockade-redact.XXXXXX")
	export XDG_CACHE_HOME="$TMP/cache"
}

teardown() {
	rm -rf "$TMP"
}

@test "redact: shipped rules replace a token, the rest passes" {
	run sh -c "printf 'ok ghp_%s done\n' abcdefghijklmnopqrstuvwxyz0123456789 | '$STOCKADE' redact"
	[ "$status" -eq 0 ]
	[ "$output" = "ok [REDACTED:github-pat] done" ]
}

@test "redact: a literal file's values and their base64 are removed" {
	printf 'API_KEY=Zq8xv3Kp1mWn7Tb2\n' > "$TMP/secrets.env"
	b64=$(printf 'xx Zq8xv3Kp1mWn7Tb2 yy' | base64)
	run sh -c "printf 'a Zq8xv3Kp1mWn7Tb2 b %s\n' '$b64' | '$STOCKADE' redact --no-rules --literals '$TMP/secrets.env'"
	[ "$status" -eq 0 ]
	[[ "$output" != *Zq8xv3Kp1mWn7Tb2* ]]
	[[ "$output" == "a [REDACTED:literal] b "* ]]
	[[ "$output" != *"$(printf 'Zq8xv3Kp1mWn7Tb2' | base64 | cut -c3-12)"* ]]
}

@test "redact: a short literal is refused with a warning, not redacted" {
	run sh -c "echo 'v abc123' | SHORTV=abc123 '$STOCKADE' redact --no-rules --literal-env SHORTV 2>&1"
	[ "$status" -eq 0 ]
	[[ "$output" == *"shorter than 8 bytes"* ]]
	[[ "$output" == *"v abc123"* ]]
}

@test "redact: counts as JSON on stderr" {
	run sh -c "printf 'AKIAIOSFODNN7EXAMPLE\n' | '$STOCKADE' redact --json-counts 2>&1 >/dev/null"
	[ "$status" -eq 0 ]
	[ "$output" = '{"total":1,"rules":{"aws-access-key-id":1}}' ]
}

@test "redact: a bad rules file is an error with file:line, exit 125" {
	printf '# x\npattern broken (abc\n' > "$TMP/bad.rules"
	run sh -c "echo hi | '$STOCKADE' redact --rules '$TMP/bad.rules' 2>&1"
	[ "$status" -eq 125 ]
	[[ "$output" == *"bad.rules:2: rule 'broken'"* ]]
}

# The stockade binary carries no pattern compiler: on a cold cache the
# helper stockade-rulec (next to it, or in the libexec dir) compiles, and a
# warm cache needs no helper at all.
@test "redact: the compile helper fills a cold cache; a warm one needs no helper; none is a clear error" {
	[ ! -e /usr/local/lib/stockade/stockade-rulec ] ||
		skip "an installed helper in /usr/local/lib/stockade would be found"
	mkdir -p "$TMP/bin"
	cp "$STOCKADE" "$TMP/bin/stockade"
	cp "${STOCKADE%/*}/stockade-rulec" "$TMP/bin/stockade-rulec"
	run -0 "$TMP/bin/stockade-rulec" --version
	[[ "$output" == "stockade-rulec "* ]]
	printf 'pattern acme ACME_[0-9a-f]{8,40}\n' > "$TMP/one.rules"
	tok=ACME_0123456789abcdef01234567
	run -0 sh -c "echo 'k $tok' | '$TMP/bin/stockade' redact --rules '$TMP/one.rules'"
	[ "$output" = "k [REDACTED:acme]" ]
	[ "$(ls "$XDG_CACHE_HOME"/stockade/redact-*.hsdb | wc -l)" -eq 1 ]
	# a start-of-match database came over too: only the token is cut, not
	# the rule's whole width (45 bytes) before its end
	run -0 sh -c "echo 'keep ACME_0123 and $tok here' | '$TMP/bin/stockade' redact --rules '$TMP/one.rules'"
	[ "$output" = "keep ACME_0123 and [REDACTED:acme] here" ]
	rm "$TMP/bin/stockade-rulec"
	run -0 sh -c "echo 'k $tok' | '$TMP/bin/stockade' redact --rules '$TMP/one.rules'"
	[ "$output" = "k [REDACTED:acme]" ]
	printf 'pattern other OTHER_[0-9]{20}\n' > "$TMP/two.rules"
	run sh -c "echo hi | '$TMP/bin/stockade' redact --rules '$TMP/two.rules' 2>&1"
	[ "$status" -eq 125 ]
	[[ "$output" == *"stockade-rulec not found next to stockade"*"reinstall stockade"* ]]
	[[ "$output" != *hi* ]]
}

@test "redact: a damaged cache entry fails the run closed, is removed, and the next run rebuilds it" {
	tok=ghp_abcdefghijklmnopqrstuvwxyz0123456789
	run -0 "$STOCKADE" run --state-dir "$TMP/state" -- echo "warm $tok"
	[ "$output" = "warm [REDACTED:github-pat]" ]
	entry=$(ls "$XDG_CACHE_HOME"/stockade/redact-*.hsdb)
	# one byte of the stream database, past the header: the header still
	# reads as sound, the database's own check fails when it is loaded
	printf '\377' | dd of="$entry" bs=1 seek=8192 conv=notrunc status=none
	run "$STOCKADE" run --state-dir "$TMP/state" -- echo "damaged $tok"
	[ "$status" -eq 125 ]
	[[ "$output" == *"cached redaction database was damaged and has been removed; run the command again"* ]]
	[[ "$output" != *"$tok"* ]]
	[ ! -e "$entry" ]
	run -0 "$STOCKADE" run --state-dir "$TMP/state" -- echo "again $tok"
	[ "$output" = "again [REDACTED:github-pat]" ]
}

@test "redact: a private key printed in small writes is removed whole" {
	key="-----BEGIN OPENSSH PRIVATE KEY-----
b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW
QyNTUxOQAAACDm1ZSsT3dGkZr5Yl4s4pLZrq9tJ6u6xT2Q3c1PvHcVbQAAAJg2y8xZNsvM
-----END OPENSSH PRIVATE KEY-----"
	printf 'before\n%s\nafter\n' "$key" > "$TMP/key"
	run sh -c "while IFS= read -r l; do printf '%s\n' \"\$l\"; sleep 0.01; done < '$TMP/key' | '$STOCKADE' redact"
	[ "$status" -eq 0 ]
	[ "$output" = "before
[REDACTED:openssh-private-key]
after" ]
}

# Bytes are held back only while they can still be part of a match: an
# interactive tool that prints a line and then waits is seen at once.
@test "redact: a complete line without a secret goes out while the producer waits" {
	"$STOCKADE" redact < /dev/null   # compile the rules into the cache first
	start=$(date +%s%N)
	sh -c "(echo hello; sleep 2; echo 'bye ghp_abcdefghijklmnopqrstuvwxyz0123456789') | '$STOCKADE' redact" |
		while IFS= read -r line; do
			echo "$(( ($(date +%s%N) - start) / 1000000 )) $line"
		done > "$TMP/seen"
	cat "$TMP/seen"
	[ "$(sed -n 1p "$TMP/seen" | cut -d' ' -f2-)" = "hello" ]
	[ "$(sed -n 2p "$TMP/seen" | cut -d' ' -f2-)" = "bye [REDACTED:github-pat]" ]
	hello_ms=$(sed -n 1p "$TMP/seen" | cut -d' ' -f1)
	bye_ms=$(sed -n 2p "$TMP/seen" | cut -d' ' -f1)
	[ "$hello_ms" -lt 1000 ]
	[ "$bye_ms" -ge 2000 ]
}

# ... and the beginning of a secret is not: nothing of it shows early.
@test "redact: the beginning of a token waits for the rest, however long it takes" {
	"$STOCKADE" redact < /dev/null
	sh -c "(printf 'key ghp_abcdefghij'; sleep 1; printf 'klmnopqrstuvwxyz0123456789 end\n') | '$STOCKADE' redact" \
		> "$TMP/out" &
	pid=$!
	sleep 0.5
	early=$(cat "$TMP/out")
	wait "$pid"
	[ -z "$early" ]
	[ "$(cat "$TMP/out")" = "key [REDACTED:github-pat] end" ]
}
