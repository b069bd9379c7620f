#!/usr/bin/env bats
# Bypass family: a secret printed in an encoding that is broken by line
# wraps.  Found 2026-12-07 in review: `.env` is hidden and denied, and
# `git show HEAD:.env` (a committed copy) is redacted whole, but
# `cat env.bak | base64` is not: base64(1) wraps at 76 columns (as
# openssl and PEM do at 64), and the redactor matches a literal's base64
# forms only unbroken, so a value whose encoding crosses a wrap goes
# through, decodable across the line break.
# Fixed 2026-12-07: a literal form also matches across a line break between
# encoding characters, the break left out (src/redact/dewrap.c).  Each case
# was checked to fail on the binary before the fix (`canary decodable
# from: ...`, or no replacement at all).
# Since session 12 the committed copy itself is refused (git-objects.bats):
# these cases read an edited copy instead, which only the redactor stops
# (stored reversed since 2026-12-08 and read with rev: a file holding the
# value as it is is refused too, same-value-elsewhere.bats).

bats_require_minimum_version 1.5.0
load corpus

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

@test "corpus wrapped-base64: an edited copy of .env printed as base64 (76 columns) hides its value" {
	# 53 bytes before the value: its encoding starts at column 71 and
	# crosses the wrap at 76.
	edited_dotenv
	run "$STOCKADE" run --state-dir "$STATE" -- sh -c 'rev env.bak | base64'
	[ "$status" -eq 0 ]
	no_decodable_canary
}

@test "corpus wrapped-base64: a secret env value in openssl-style 64-column base64 is redacted" {
	# The value the redactor knows (a withheld variable) reaches the output
	# by another way in: a file in the workspace that holds it reversed (as
	# it is, the file is refused: same-value-elsewhere.bats).
	# 40 bytes before it: its encoding crosses the wrap at column 64.
	{ printf 'x%.0s' $(seq 40); printf '%s' "$CANARY"; } | rev > pad
	run env DEPLOY_TOKEN="$CANARY" "$STOCKADE" run --state-dir "$STATE" -- sh -c 'rev pad | tr -d "\n" | base64 -w 64'
	[ "$status" -eq 0 ]
	no_decodable_canary
}

# no_decodable_hex: the same for hex (lower or upper case), newlines removed.
no_decodable_hex() {
	/usr/bin/python3 - "$CANARY" "$output" <<'PY'
import re, sys
canary, out = sys.argv[1].encode(), sys.argv[2]
for run in re.findall(r"[0-9A-Fa-f\r\n]{16,}", out):
    s = re.sub(r"[\r\n]", "", run)
    for off in range(2):
        t = s[off:]
        t = t[: len(t) - len(t) % 2]
        if canary in bytes.fromhex(t):
            sys.exit("canary decodable from: " + run[:60])
PY
}

@test "corpus wrapped-base64: a secret env value dumped as wrapped hex (basenc --base16, CRLF) is redacted" {
	# The 60-column hex of xxd -p (basenc's default is 76), with the line
	# ends of a Windows tool: 25 bytes before it, the canary's hex crosses the
	# wrap at column 60.
	{ printf 'x%.0s' $(seq 25); printf '%s' "$CANARY"; } | rev > pad
	run env DEPLOY_TOKEN="$CANARY" "$STOCKADE" run --state-dir "$STATE" -- sh -c 'rev pad | tr -d "\n" | basenc --base16 -w 60 | sed "s/\$/\r/"'
	[ "$status" -eq 0 ]
	[[ "$output" == *"[REDACTED:"* ]]
	no_decodable_hex
}
