#!/usr/bin/env bats
# Bypass family: a secret printed as a hex dump.  Found 2026-12-07 in
# review, next to wrapped-base64.bats: `cat env.bak | xxd` printed
# the committed value in full.  A dump puts 16 bytes on a line, as hex
# pairs (or groups) and again in an ASCII column, between offsets: neither
# the raw value nor its hex form is in the output in one piece, yet both
# columns read back to it.  Fixed the same day: complete dump lines are
# parsed and their bytes scanned as one decoded view, and a match is
# redacted in both columns (src/redact/hexdump.c).  Each case was checked to
# fail on the binary before the fix (no replacement; with that check left
# out, `canary decodable from the hex column`).  The od -c case came a
# commit later, checked the same way (`canary in the od -c cells`).
# Since session 12 the committed copy itself is refused (git-objects.bats):
# these cases read an edited copy instead, which only the redactor stops
# (stored reversed since 2026-12-08 and read with rev: a file holding the
# value as it is is refused too, same-value-elsewhere.bats).

bats_require_minimum_version 1.5.0
load corpus

setup() { corpus_setup; }
teardown() { corpus_teardown; }

# no_canary_in_dump FORMAT: the dump in $output, read back the way a human
# or a script would (the hex column decoded, the ASCII column joined, line
# after line), does not hold $CANARY.
no_canary_in_dump() {
	/usr/bin/python3 - "$1" "$CANARY" "$output" <<'PY'
import re, sys
fmt, canary, out = sys.argv[1], sys.argv[2].encode(), sys.argv[3]
data, text = bytearray(), ""
for line in out.splitlines():
    if fmt == "xxd":      # 00000000: 7878 7878 ... 616e  xxxxxxxxxxsk-can
        m = re.match(r"^[0-9a-f]{8}: (.{39})  (.*)$", line)
        if m:
            hexpart, asc = m.group(1), m.group(2)
    elif fmt == "hexdump":   # 00000000  78 78 ... 6e  |xxxxxxxxxxsk-can|
        m = re.match(r"^[0-9a-f]{8}  (.{48})  \|(.*)\|$", line)
        if m:
            hexpart, asc = m.group(1), m.group(2)
    elif fmt == "odc":    # od -c: 0000000   A   P   I  \n 303
        m = re.match(r"^[0-7]{7}((?:.{4})+)$", line)
        if m:
            for k in range(0, len(m.group(1)), 4):
                cell = m.group(1)[k:k + 4]
                if cell.startswith("   ") or (cell[:2] == "  " and cell[2] != "\\"):
                    text += cell[3]
                elif cell[:3] == "  \\":
                    text += {"n": "\n", "t": "\t", "0": "\0"}.get(cell[3], "?")
                else:
                    text += "?"
        continue
    else:                 # od -An -tx1: " 78 78 78"
        m = re.match(r"^((?: [0-9a-f]{2})+)$", line)
        if m:
            hexpart, asc = m.group(1), ""
    if not m:
        continue
    data += bytes.fromhex("".join(re.findall(r"[0-9a-fA-F]{2}", hexpart)))
    text += asc
if canary in data:
    sys.exit("canary decodable from the hex column")
if canary.decode() in text:
    sys.exit("canary in the ASCII column" if fmt != "odc" else "canary in the od -c cells")
PY
}

@test "corpus hexdump: an edited copy of .env printed with xxd hides its value in both columns" {
	edited_dotenv
	run "$STOCKADE" run --state-dir "$STATE" -- sh -c 'rev env.bak | xxd'
	[ "$status" -eq 0 ]
	[[ "$output" == *"[REDACTED:"* ]]
	no_canary_in_dump xxd
}

@test "corpus hexdump: a secret env value in a file dumped by hexdump -C is redacted" {
	# stored reversed: a file holding the value as it is is refused
	{ printf 'x%.0s' $(seq 11); printf '%s\n' "$CANARY"; } | rev > pad
	run env DEPLOY_TOKEN="$CANARY" "$STOCKADE" run --state-dir "$STATE" -- sh -c 'rev pad | hexdump -C'
	[ "$status" -eq 0 ]
	[[ "$output" == *"[REDACTED:"* ]]
	no_canary_in_dump hexdump
}

@test "corpus hexdump: od -An -tx1 of an edited copy of a secret is redacted" {
	edited_dotenv
	run "$STOCKADE" run --state-dir "$STATE" -- sh -c 'rev env.bak | od -An -tx1'
	[ "$status" -eq 0 ]
	[[ "$output" == *"[REDACTED:"* ]]
	no_canary_in_dump od
}

@test "corpus hexdump: od -c of an edited copy of .env is redacted" {
	edited_dotenv
	run "$STOCKADE" run --state-dir "$STATE" -- sh -c 'rev env.bak | od -c'
	[ "$status" -eq 0 ]
	[[ "$output" == *"[REDACTED:"* ]]
	no_canary_in_dump odc
}
