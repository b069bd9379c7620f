#!/usr/bin/env bats
# Bypass family: a secret printed in an encoding that is broken by line
# wraps.  Found 2026-12-07 in review: `.env` is hidden and denied, and
# `git show HEAD:.env` (a committed copy) is redacted whole, but
# `git show HEAD:.env | base64` is not: base64(1) wraps at 76 columns (as
# openssl and PEM do at 64), and the redactor matches a literal's base64
# forms only unbroken, so a value whose encoding crosses a wrap goes
# through, decodable across the line break.
# OPEN: the cases below are skipped, with this reason, until the redactor
# gets a de-wrapped view of base64 blocks (src/redact/stream.c).  Each case
# was checked to fail without the skip.

bats_require_minimum_version 1.5.0
load corpus

OPEN="OPEN BYPASS (2026-12-07): line-wrapped base64 of a known secret is not redacted; see this file's header"

setup() { corpus_setup; }
teardown() { corpus_teardown; }

# no_decodable_canary: no run of base64 characters in $output, newlines
# removed, decodes (at any of the four offsets) to text holding $CANARY.
no_decodable_canary() {
	/usr/bin/python3 - "$CANARY" "$output" <<'PY'
import base64, re, sys
canary, out = sys.argv[1].encode(), sys.argv[2]
for run in re.findall(r"[A-Za-z0-9+/=\n]{16,}", out):
    s = run.replace("\n", "")
    for off in range(4):
        t = s[off:]
        t = t[: len(t) - len(t) % 4]
        try:
            if canary in base64.b64decode(t.replace("=", "A")):
                sys.exit("canary decodable from: " + run[:60])
        except ValueError:
            pass
PY
}

@test "corpus wrapped-base64: a committed .env printed as base64 (76 columns) hides its value" {
	skip "$OPEN"
	git init -q . && git config user.email a@b && git config user.name a
	# 53 bytes before the value: its encoding starts at column 71 and
	# crosses the wrap at 76.
	printf 'DB_HOST=db-primary.internal.example.org:5432\nAPI_KEY=%s\n' "$CANARY" > .env
	git add -f .env && git commit -qm env
	run "$STOCKADE" run --state-dir "$STATE" -- sh -c 'git show HEAD:.env | base64'
	[ "$status" -eq 0 ]
	no_decodable_canary
}

@test "corpus wrapped-base64: a secret env value in openssl-style 64-column base64 is redacted" {
	skip "$OPEN"
	# The value the redactor knows (a withheld variable) reaches the output
	# by another way in: a file in the workspace that holds it.
	# 40 bytes before it: its encoding crosses the wrap at column 64.
	printf 'x%.0s' $(seq 40) > pad && printf '%s' "$CANARY" >> pad
	run env DEPLOY_TOKEN="$CANARY" "$STOCKADE" run --state-dir "$STATE" -- sh -c 'base64 -w 64 pad'
	[ "$status" -eq 0 ]
	no_decodable_canary
}
