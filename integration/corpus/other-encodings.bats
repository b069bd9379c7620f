#!/usr/bin/env bats
# Bypass family: a secret printed in an encoding the redactor does not
# read.  Found 2026-12-07 in review, after wrapped-base64.bats and
# hexdump.bats were fixed: `git show HEAD:.env` piped through base32(1),
# `xxd -i` (a C array) or `od -x` (little-endian 16-bit words) prints the
# committed value whole, in a form that reads straight back.  Each case
# was checked to fail on the binary of that day (`canary decodable from
# base32`, `canary in the C array`, `canary in the 16-bit words`).
# Fixed the same day: xxd -i and od -x (and hexdump's default, the same
# words) by the hex dump reader (src/redact/hexdump.c), base32 by a
# literal's base32 forms at its five alignments (src/redact/encode.c).
# Compression (gzip | base64) and deliberate transforms (rev, tr, xor) are
# out of reach of any list of encodings: the fence for those is that the
# file is not readable (docs/redact.md).
# Since session 12 the committed copy itself is refused (git-objects.bats):
# these cases read an edited copy instead, which only the redactor stops
# (stored reversed since 2026-12-08 and read with rev: a file holding the
# value as it is is refused too, same-value-elsewhere.bats).

bats_require_minimum_version 1.5.0
load corpus

setup() { corpus_setup; }
teardown() { corpus_teardown; }

# no_canary_decoded FORMAT: $output read back as FORMAT does not hold $CANARY.
no_canary_decoded() {
	/usr/bin/python3 - "$1" "$CANARY" "$output" <<'PY'
import base64, re, sys
fmt, canary, out = sys.argv[1], sys.argv[2].encode(), sys.argv[3]
if fmt == "base32":
    s = re.sub(r"[^A-Z2-7=]", "", out)
    for off in range(8):
        t = s[off:]
        t = t[: len(t) - len(t) % 8]
        try:
            if canary in base64.b32decode(t.replace("=", "A")):
                sys.exit("canary decodable from base32")
        except ValueError:
            pass
elif fmt == "xxd-i":
    data = bytes(int(h, 16) for h in re.findall(r"0x([0-9a-fA-F]{2})", out))
    if canary in data:
        sys.exit("canary in the C array")
elif fmt in ("od-x", "hexdump"):
    data = bytearray()
    for line in out.splitlines():
        m = re.match(r"^[0-9a-f]{7}((?: [0-9a-f]{4})+) *$", line)
        if m:
            for w in m.group(1).split():
                data += bytes([int(w[2:], 16), int(w[:2], 16)])
    if canary in data:
        sys.exit("canary in the 16-bit words")
PY
}

@test "corpus other-encodings: an edited copy of .env printed with base32 is redacted" {
	edited_dotenv
	run "$STOCKADE" run --state-dir "$STATE" -- sh -c 'rev env.bak | base32'
	[ "$status" -eq 0 ]
	[[ "$output" == *"[REDACTED:"* ]]
	no_canary_decoded base32
}

@test "corpus other-encodings: an edited copy of .env printed with xxd -i is redacted" {
	edited_dotenv
	run "$STOCKADE" run --state-dir "$STATE" -- sh -c 'rev env.bak | xxd -i'
	[ "$status" -eq 0 ]
	[[ "$output" == *"[REDACTED:"* ]]
	no_canary_decoded xxd-i
}

@test "corpus other-encodings: an edited copy of .env printed with od -x is redacted" {
	edited_dotenv
	run "$STOCKADE" run --state-dir "$STATE" -- sh -c 'rev env.bak | od -x'
	[ "$status" -eq 0 ]
	[[ "$output" == *"[REDACTED:"* ]]
	no_canary_decoded od-x
}

@test "corpus other-encodings: an edited copy of .env printed with hexdump's default words is redacted" {
	edited_dotenv
	run "$STOCKADE" run --state-dir "$STATE" -- sh -c 'rev env.bak | hexdump'
	[ "$status" -eq 0 ]
	[[ "$output" == *"[REDACTED:"* ]]
	no_canary_decoded hexdump
}
