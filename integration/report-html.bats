#!/usr/bin/env bats
# The HTML report as a person sees it: a log of real `stockade run`s (allowed,
# denied, retried after a denial, redacted output, a failing command), the
# report drawn with --html, opened in headless Chromium, and the screenshot
# decoded: the chart bars the HTML declares must be on screen, in their
# colour, with about the area the HTML gives them.  A control proves the
# check can fail: the same page with its charts hidden is refused.

setup_file() {
	command -v chromium >/dev/null || {
		echo "chromium is not installed (make deps installs it)" >&2
		return 1
	}
	T=$BATS_FILE_TMPDIR
	S=$T/state
	mkdir -p "$T/ws"
	cd "$T/ws"
	printf 'AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n' >creds.txt
	"$STOCKADE_BIN" run --state-dir "$S" -- true
	"$STOCKADE_BIN" run --state-dir "$S" -- ls / >/dev/null
	"$STOCKADE_BIN" run --state-dir "$S" -- sudo true 2>/dev/null || true
	"$STOCKADE_BIN" run --state-dir "$S" -- sudo true 2>/dev/null || true
	"$STOCKADE_BIN" run --state-dir "$S" -- cat creds.txt >"$T/redacted.out"
	"$STOCKADE_BIN" run --state-dir "$S" -- sh -c 'exit 3' || true
	# reviews: the first command was right, the sudo denial too (so the
	# decision-quality chart is drawn), the second sudo a low false deny
	seqs=$(jq -r 'select(.type == "command") | .seq' "$S/receipts.jsonl")
	first=$(echo "$seqs" | sed -n 1p) sudo1=$(echo "$seqs" | sed -n 3p) sudo2=$(echo "$seqs" | sed -n 4p)
	printf '{"seq":%s,"label":"correct"}\n{"seq":%s,"label":"correct","severity":"high"}\n{"seq":%s,"label":"false_deny","severity":"low"}\n' \
		"$first" "$sudo1" "$sudo2" >"$T/labels.jsonl"
	"$STOCKADE_BIN" report --labels "$T/labels.jsonl" --html "$T/report.html" "$S"
	# the control: the same page with every chart hidden
	sed 's/<svg /<svg style="display:none" /' "$T/report.html" >"$T/hidden.html"
	for page in report hidden; do
		shot "$T/$page.html" "$T/$page.png"
	done
}

# shot PAGE PNG: headless Chromium, no sandbox of its own (it runs as root
# and as nobody here), every file it writes in the test's directory.
shot() {
	local home=$BATS_FILE_TMPDIR/chromium-home
	mkdir -p "$home"
	HOME=$home XDG_CONFIG_HOME=$home/config XDG_CACHE_HOME=$home/cache \
		timeout 90 chromium --headless --no-sandbox --disable-gpu --disable-dev-shm-usage \
		--no-first-run --disable-extensions --hide-scrollbars --force-device-scale-factor=1 \
		--user-data-dir="$home/profile" --window-size=1000,2400 \
		--screenshot="$2" "file://$1" >"$BATS_FILE_TMPDIR/chromium.log" 2>&1
	[ -s "$2" ] || {
		echo "chromium wrote no screenshot of $1:" >&2
		tail -5 "$BATS_FILE_TMPDIR/chromium.log" >&2
		return 1
	}
}

# check_png PNG HTML: the bars HTML declares (<rect ... width height fill>)
# are drawn in PNG.  A small PNG decoder (zlib from the standard library):
# 8-bit RGB or RGBA, not interlaced, the five row filters.
check_png() {
	python3 - "$1" "$2" <<'EOF'
import collections, re, struct, sys, zlib

def decode(path):
    data = open(path, 'rb').read()
    assert data[:8] == b'\x89PNG\r\n\x1a\n', 'not a PNG'
    pos, idat = 8, b''
    while pos < len(data):
        n, kind = struct.unpack('>I4s', data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b'IHDR':
            w, h, depth, ctype, _, _, interlace = struct.unpack('>IIBBBBB', body)
            assert depth == 8 and ctype in (2, 6) and interlace == 0, 'unsupported PNG'
        elif kind == b'IDAT':
            idat += body
        pos += 12 + n
    bpp = 4 if ctype == 6 else 3
    raw, stride = zlib.decompress(idat), w * bpp
    rows, prev = [], bytearray(stride)
    for y in range(h):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            if f == 1: line[i] = (line[i] + a) & 255
            elif f == 2: line[i] = (line[i] + b) & 255
            elif f == 3: line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(bytes(line))
        prev = line
    return w, h, bpp, rows

w, h, bpp, rows = decode(sys.argv[1])
html = open(sys.argv[2]).read()
want = {}
for m in re.finditer(r'<rect [^>]*width="([0-9.]+)" height="([0-9.]+)" fill="#([0-9a-f]{6})"', html):
    want[m.group(3)] = want.get(m.group(3), 0) + float(m.group(1)) * float(m.group(2))
assert want, 'the HTML declares no chart bars'
pixels = collections.Counter()
for row in rows:
    pixels.update(zip(row[0::bpp], row[1::bpp], row[2::bpp]))
ink = w * h - pixels[(255, 255, 255)]
counts = {}
for k in want:
    t = tuple(int(k[i:i + 2], 16) for i in (0, 2, 4))
    counts[k] = sum(n for px, n in pixels.items() if all(abs(px[i] - t[i]) <= 8 for i in range(3)))
colours = pixels
print('screenshot %dx%d: %d colours, %.2f%% not white' % (w, h, len(colours), 100.0 * ink / (w * h)))
ok = True
for k in want:
    print('bars #%s: %d pixels drawn, %d declared' % (k, counts[k], want[k]))
    if counts[k] < 0.8 * want[k]:
        ok = False
if len(colours) < 16 or ink < 0.01 * w * h:
    ok = False
sys.exit(0 if ok else 1)
EOF
}

@test "report --html: the runs' figures are in the page as SVG bars" {
	H=$BATS_FILE_TMPDIR/report.html
	[ "$(grep -c '<svg' "$H")" -ge 6 ]
	[ "$(grep -o '<rect ' "$H" | wc -l)" -ge 8 ]
	# the denied command is a bar of the denials-by-command chart
	grep -q '>sudo</text><rect x="200" y="[0-9]*" width="[1-9][0-9.]*"' "$H"
	grep -q '>command_deny</text><rect' "$H"
	# the decision-quality chart exists because the runs were reviewed
	grep -q '<h2>Decision quality</h2>' "$H"
	grep -q '>false deny: low</text><rect x="200" y="[0-9]*" width="[1-9]' "$H"
	# self-contained: nothing to fetch
	! grep -Eq '<script|src=|href=|@import|url\(' "$H"
	# the redacted run's output did not carry the key
	! grep -q wJalrXUtnFEMI "$BATS_FILE_TMPDIR/redacted.out"
}

@test "report --html: headless Chromium draws the charts (the screenshot is not blank)" {
	run check_png "$BATS_FILE_TMPDIR/report.png" "$BATS_FILE_TMPDIR/report.html"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"bars #3b6ea5:"* ]]
}

@test "report --html: the check fails on the same page with its charts hidden" {
	run check_png "$BATS_FILE_TMPDIR/hidden.png" "$BATS_FILE_TMPDIR/report.html"
	echo "$output"
	[ "$status" -eq 1 ]
	[[ "$output" == *"bars #3b6ea5: 0 pixels drawn"* ]]
}
