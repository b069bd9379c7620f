#!/usr/bin/env bats
# Bypass family: the same secret value read from elsewhere.  Found
# 2026-12-07 (session 12): the token of a denied .env also sits in an
# ordinary config file of the workspace (config/app.yml: `api_key: TOKEN`).
# After `cat .env` is denied, `cat config/app.yml` showed the value
# redacted (it is a literal of the redactor), but `rev config/app.yml`
# printed it reversed: no fingerprint matches a file that merely contains
# the value, and the redactor knows encodings, not transformations.  The
# first case was committed skipped, saying so, and failed when run on that
# binary (canary reversed in the output).  Fixed 2026-12-08: the
# supervisor reads the workspace files a command opens (up to 4 MiB then,
# 64 MiB since session 14; each
# at most once per change) for the credential-like values of the secret
# files, in every encoded form, and decides a file holding one as that
# secret's content (src/sandbox/broker_values.c, src/redact/secret_values.c).
# Look-alikes (a host name, "development") leave a file readable.

bats_require_minimum_version 1.5.0
load corpus

setup() {
	corpus_setup
	printf 'APP_ENV=development\nDB_HOST=db-primary.internal.example.org\nAPI_KEY=%s\n' "$CANARY" > "$WS/.env"
	mkdir -p "$WS/config"
	printf 'service:\n  name: billing\n  api_key: %s\n' "$CANARY" > "$WS/config/app.yml"
}
teardown() {
	rm -rf "${OPTDIR:-}" "${ETCFILE:-}"
	corpus_teardown
}

# attempt_on PATH: "VERDICT REASON" of the recorded attempt on PATH.
attempt_on() {
	"$STOCKADE" session show "$SESSION" --state-dir "$STATE" --json | /usr/bin/python3 -c '
import json, sys
s = json.load(sys.stdin)
print(" ".join(next(([a["verdict"], a["reason"]] for c in s["chains"] for a in c["attempts"]
                     if a["path"] == sys.argv[1]), ["none"])))
' "$1"
}

@test "corpus same-value-elsewhere: a denied secret's value in another file is not read back reversed" {
	turn 'cat .env' 1
	turn 'rev config/app.yml' 1
	assert_no_canary
	[[ "$output" == *"config/app.yml holds a secret value"* ]]
	# recorded as an attempt on the secret's content (the .env's, or the
	# AWS credentials', which hold the same canary)
	got=$(attempt_on "$WS/config/app.yml")
	[ "$got" = "deny secret_content" ] || { echo "attempt: $got" >&2; false; }
}

@test "corpus same-value-elsewhere: refused from the first turn, by any tool, in any file" {
	mkdir -p "$WS/deploy/k8s" "$WS/src"
	# a Kubernetes secret holds the value in base64; a JSON settings file; a script
	printf 'kind: Secret\ndata:\n  api-key: %s\n' "$(printf '%s' "$CANARY" | base64 -w0)" > "$WS/deploy/k8s/secret.yaml"
	printf '{"name": "billing", "key": "%s"}\n' "$CANARY" > "$WS/src/settings.json"
	printf '#!/bin/sh\ncurl -H "Authorization: Bearer %s" https://api.example.com\n' "$CANARY" > "$WS/deploy/call.sh"
	turn 'rev config/app.yml' 1
	turn "python3 -c 'print(open(\"src/settings.json\").read()[::-1])'" 1
	turn 'grep -o "api-key: .*" deploy/k8s/secret.yaml | cut -d" " -f2 | base64 -d | rev'
	# the fourth attempt on the secret's content reaches the threshold
	turn 'tac deploy/call.sh | rev' 126
	assert_no_canary
	got=$(chain_of "$WS/config/app.yml")
	[ "$got" = "4 pending deny,deny,deny,escalate" ] || { echo "chain: $got" >&2; false; }
}

@test "corpus same-value-elsewhere: a file with only look-alikes of the secret's values stays readable" {
	printf '# Billing\nRuns in development against db-primary.internal.example.org.\n' > "$WS/README.md"
	turn 'cat .env' 1
	turn 'rev README.md; grep -c Billing README.md'
	[ "$status" -eq 0 ]
	[[ "$output" == *$'\n1'* ]]
	[[ "$output" == *"tnempoleved"* ]]
	assert_no_canary
}

@test "corpus same-value-elsewhere: a value of a secret outside the workspace (the AWS key) in a workspace script" {
	printf '#!/bin/sh\naws configure set aws_secret_access_key %s\n' "$CANARY" > "$WS/setup.sh"
	turn 'rev setup.sh' 1
	turn 'while read -r l; do echo "$l" | rev; done < setup.sh' 2
	assert_no_canary
}

@test "corpus same-value-elsewhere: a withheld environment variable's value in a workspace file" {
	# Found 2026-12-08 in review of the fix above: the caller's GITHUB_TOKEN
	# is withheld from the command, but a script of the workspace that
	# holds the same token was readable and `rev` printed it reversed.
	# a token of its own (the setup's canary is in the AWS credentials too)
	CANARY="ghp_$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"
	printf '#!/bin/sh\ngit push https://x-access-token:%s@github.com/o/r\n' "$CANARY" > "$WS/push.sh"
	run env GITHUB_TOKEN="$CANARY" "$STOCKADE" run --state-dir "$STATE" --session "$SESSION" -- sh -c 'rev push.sh'
	ALL_OUT+="$output"$'\n'
	[ "$status" -eq 1 ]
	[[ "$output" == *"push.sh holds a secret value"* ]]
	assert_no_canary
}

@test "corpus same-value-elsewhere: a passed environment variable holding a secret file's value" {
	# Found 2026-12-08 in review: an environment variable no secret name
	# rule catches (X_SETTING) held the .env's token, and `env | rev`
	# printed it reversed.
	run env X_SETTING="$CANARY" PLAIN_SETTING=visible-value "$STOCKADE" run --state-dir "$STATE" -- sh -c 'env | rev; echo "[$X_SETTING]"'
	ALL_OUT+="$output"$'\n'
	[ "$status" -eq 0 ]
	[[ "$output" == *"eulav-elbisiv=GNITTES_NIALP"* ]]
	[[ "$output" == *"[]"* ]]
	assert_no_canary
}

@test "corpus same-value-elsewhere: a token taken out of the repository's git config, in a workspace script" {
	# Found 2026-12-08 in review: the sandbox sees .git/config without the
	# token of its remote URL, but a script of the workspace that holds
	# the same token was readable and `rev` printed it reversed.
	CANARY="ghp_$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"
	git init -q . && git remote add origin "https://x-access-token:$CANARY@github.com/o/r"
	printf '#!/bin/sh\ncurl -H "Authorization: token %s" https://api.github.com/user\n' "$CANARY" > "$WS/whoami.sh"
	turn 'rev whoami.sh' 1
	turn 'git config --get remote.origin.url | rev'
	assert_no_canary
}

@test "corpus same-value-elsewhere: a secret file's value in a config under /opt or /etc" {
	# Found 2026-12-08 in review: the files of the read-only system trees
	# were not read for secret values, and a service config under /opt
	# that holds the .env's token came out with `rev`.  (Root only: the
	# test writes under /opt and /etc; as nobody it is skipped and says so.)
	[ "$(id -u)" -eq 0 ] || skip "writing under /opt and /etc needs root"
	OPTDIR=$(mktemp -d /opt/stockade-test.XXXXXX)
	ETCFILE=$(mktemp /etc/stockade-test.XXXXXX)
	printf 'service:\n  token: %s\n' "$CANARY" > "$OPTDIR/config.yml"
	printf 'TOKEN=%s\n' "$CANARY" > "$ETCFILE"
	chmod 644 "$OPTDIR/config.yml" "$ETCFILE"
	turn "rev $OPTDIR/config.yml" 1
	turn "rev $ETCFILE" 1
	assert_no_canary
}

# Found 2026-12-08 (session 14): a file larger than the 4 MiB the
# supervisor read for values was not read at all, so an application log of
# a few MiB that once logged the token printed it reversed.  Fixed: files
# up to 64 MiB are read for values, 1 MiB at a time (the pieces overlap by
# more than the longest form of a value).
@test "corpus same-value-elsewhere: a secret's value deep in a large log is not read back reversed" {
	/usr/bin/python3 - "$WS/app.log" "$CANARY" <<'PY'
import sys
with open(sys.argv[1], 'w') as f:
    line = 'INFO request served in 12 ms path=/api/v1/items status=200\n'
    for i in range(100000):
        f.write(line)
    f.write('DEBUG config loaded: api_key=%s\n' % sys.argv[2])
    for i in range(30000):
        f.write(line)
PY
	[ "$(stat -c %s "$WS/app.log")" -gt $((5 << 20)) ]
	turn 'rev app.log | grep -i yek_ipa'
	assert_no_canary
	[ "$(attempt_on "$WS/app.log")" = "deny secret_content" ]
	# across the boundary of the first two pieces read (1 MiB)
	/usr/bin/python3 -c 'import sys; open(sys.argv[1], "w").write("x" * ((1 << 20) - 9) + sys.argv[2] + "\n")' \
		"$WS/edge.txt" "$CANARY"
	turn 'rev edge.txt | cut -c1-40'
	assert_no_canary
	[ "$(attempt_on "$WS/edge.txt")" = "deny secret_content" ]
}

# Found 2026-12-08 (session 14): /usr/local/etc, where locally built
# services keep their configs (npm's global npmrc is there on this very
# machine), counted as a tree of programs and was not read for values.
@test "corpus same-value-elsewhere: a secret file's value in a config under /usr/local/etc" {
	[ "$(id -u)" -eq 0 ] || skip "writing under /usr/local/etc needs root"
	mkdir -p /usr/local/etc
	ETCFILE=$(mktemp /usr/local/etc/stockade-test.XXXXXX)
	printf 'service:\n  token: %s\n' "$CANARY" > "$ETCFILE"
	chmod 644 "$ETCFILE"
	turn "rev $ETCFILE" 1
	assert_no_canary
}

# Found 2026-12-08 (session 14): a file written by a Windows tool in
# UTF-16 (every character two bytes) holds no value in any form the
# supervisor looked for, and `iconv -f UTF-16LE win.txt | rev` printed the
# token reversed.  Fixed: each value is also looked for in UTF-16LE and
# UTF-16BE.
@test "corpus same-value-elsewhere: a secret's value in a UTF-16 file is not read back reversed" {
	printf 'api_key=%s\r\n' "$CANARY" | iconv -t UTF-16LE > "$WS/win.txt"
	printf 'api_key=%s\n' "$CANARY" | iconv -t UTF-16BE > "$WS/mac.txt"
	turn 'iconv -f UTF-16LE win.txt | rev'
	turn 'iconv -f UTF-16BE mac.txt | rev'
	assert_no_canary
	[ "$(attempt_on "$WS/win.txt")" = "deny secret_content" ]
	[ "$(attempt_on "$WS/mac.txt")" = "deny secret_content" ]
}

# Found 2026-12-08 (session 14): a rotated log kept gzipped, and a backup
# tarball holding a copy of the .env, hold the token compressed: no form of
# it is in their bytes, and `zcat app.log.1.gz | rev` or `tar xzOf` printed
# it.  Fixed: a gzip file is read for values through its decompressed
# content (up to 64 MiB of it).
@test "corpus same-value-elsewhere: a secret's value in a gzipped log or a tarball is not read back" {
	printf 'INFO start\nDEBUG api_key=%s\nINFO stop\n' "$CANARY" | gzip > "$WS/app.log.1.gz"
	mkdir -p "$WS/old" && cp "$WS/.env" "$WS/old/env.bak"
	tar czf "$WS/backup.tgz" -C "$WS" old/env.bak && rm -r "$WS/old"
	turn 'zcat app.log.1.gz | rev'
	turn 'tar xzOf backup.tgz | rev'
	assert_no_canary
	[ "$(attempt_on "$WS/app.log.1.gz")" = "deny secret_content" ]
	[ "$(attempt_on "$WS/backup.tgz")" = "deny secret_content" ]
}

# Kept between runs since session 14 (src/cli/value_memo.c): a large file a
# run found clean is not read again while its device, inode, size, mtime
# and ctime stay the same.  A host process that then writes the token into
# it in place (same size) changes its ctime: the next run reads it again.
@test "corpus same-value-elsewhere: a large file found clean, then given the value in place, is read again" {
	/usr/bin/python3 -c 'import sys; open(sys.argv[1], "w").write(("INFO all is well " + "x" * 46 + "\n") * 4096)' "$WS/big.log"
	sleep 2.2   # older than the two seconds a version must have settled for
	turn 'wc -c big.log'
	ls "$HOME/.cache/stockade/value-memo/"* >/dev/null   # remembered
	/usr/bin/python3 - "$WS/big.log" "$CANARY" <<'PY'
import sys
with open(sys.argv[1], 'r+b') as f:
    f.seek(100000)
    f.write(('api_key=%s' % sys.argv[2]).encode())
PY
	turn 'rev big.log | grep -i yek_ipa'
	assert_no_canary
	[ "$(attempt_on "$WS/big.log")" = "deny secret_content" ]
}
