#!/bin/sh
# bench/redact.sh — the output redactor: set-up time (cold, warm, no cache)
# and throughput of `stockade redact` with the shipped rules + 1,000
# literals on generated tool output (compiler logs, JSON, env dumps, base64
# blobs, with secrets in them), side by side with cat in the same run, and
# peak RSS.  REDACT_BENCH_MB sets the size (default 1024).
set -eu
BUILD=${BUILD:-build}
BIN=$(cd "$BUILD" && pwd)/stockade
MB=${REDACT_BENCH_MB:-1024}
tmp=$(mktemp -d /tmp/stockade-bench-redact.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
export XDG_CACHE_HOME="$tmp/cache"

# 64 MiB of varied output with 1,000 secrets sprinkled in, repeated.
python3 - "$tmp" <<'EOF'
import base64, json, random, sys
d = sys.argv[1]
rnd = random.Random(5)
al = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
secrets = ["".join(rnd.choice(al) for _ in range(rnd.randint(16, 48))) for _ in range(1000)]
with open(d + "/literals", "w") as f:
    f.write("\n".join(secrets) + "\n")
words = ("error warning note include undefined reference function struct return value "
         "path file build make gcc src lib obj test main static const unsigned").split()
parts, size = [], 0
while size < 64 << 20:
    k = rnd.random()
    if k < 0.35:
        s = "src/%s/%s.c:%d:%d: %s: %s [-W%s]\n" % (rnd.choice(words), rnd.choice(words),
            rnd.randint(1, 3000), rnd.randint(1, 80), rnd.choice(["error", "warning", "note"]),
            " ".join(rnd.choice(words) for _ in range(9)), rnd.choice(words))
    elif k < 0.6:
        s = json.dumps({"id": rnd.randint(0, 10**9), "name": " ".join(rnd.choice(words) for _ in range(3)),
                        "commit": "%040x" % rnd.getrandbits(160), "uuid": "%08x-%04x-4%03x-a%03x-%012x" % (
                        rnd.getrandbits(32), rnd.getrandbits(16), rnd.getrandbits(12), rnd.getrandbits(12),
                        rnd.getrandbits(48)), "sha256": "%064x" % rnd.getrandbits(256)}) + "\n"
    elif k < 0.8:
        s = "%s_%s=%s\n" % (rnd.choice(words).upper(), rnd.choice(words).upper(),
                            "/usr/%s/%s:%s" % (rnd.choice(words), rnd.choice(words), rnd.choice(words)))
    elif k < 0.995:
        s = base64.b64encode(rnd.randbytes(57)).decode() + "\n"
    else:
        sec = rnd.choice(secrets)
        s = rnd.choice(["API_TOKEN=%s\n", "{\"key\": \"%s\"}\n", "url https://x/?k=%s\n", "%s\n"]) % sec
    parts.append(s)
    size += len(s)
open(d + "/chunk", "w").write("".join(parts))
EOF
n=$(( (MB + 63) / 64 ))
i=0
: > "$tmp/input"
while [ $i -lt $n ]; do cat "$tmp/chunk" >> "$tmp/input"; i=$((i + 1)); done
bytes=$(stat -c %s "$tmp/input")

ms() { echo "$1 $2" | awk '{ printf "%.1f", ($2 - $1) / 1e6 }'; }
rate() { echo "$1 $2" | awk '{ printf "%.2f", $1 / ($2 / 1e3) / 1e9 }'; }

# Set-up: the time sk_redactor_build() reports (--verbose), median of 5.
setup() {
	for k in 1 2 3 4 5; do
		"$BIN" redact --verbose "$@" < /dev/null 2>&1 >/dev/null | sed -n 's/.*setup \([0-9.]*\) ms.*/\1/p'
	done | sort -n | sed -n 3p
}
rm -rf "$XDG_CACHE_HOME"
cold=$("$BIN" redact --verbose < /dev/null 2>&1 | sed -n 's/.*setup \([0-9.]*\) ms.*/\1/p')
warm=$(setup)
warm_lit=$(setup --literals "$tmp/literals")
nocache=$(setup --no-cache)
info=$("$BIN" redact --verbose --literals "$tmp/literals" < /dev/null 2>&1 | grep "^redact:")
echo "redactor: $info"
echo "set-up (shipped rules):        cold (compile + store) ${cold} ms, warm (cache) ${warm} ms, no cache ${nocache} ms"
echo "set-up (rules + 1000 literals): warm ${warm_lit} ms"
echo "input: $(awk -v b="$bytes" 'BEGIN { printf "%.0f MiB", b / 1048576 }') of generated tool output"

run() {   # label, command (reads $tmp/input)
	t0=$(date +%s%N)
	sh -c "$2" > /dev/null
	t1=$(date +%s%N)
	t=$(ms "$t0" "$t1")
	printf '%-44s %8s ms  %6s GB/s\n' "$1" "$t" "$(rate "$bytes" "$t")"
	echo "$t" > "$tmp/last"
}
cat "$tmp/input" > /dev/null   # page cache
run "cat < file > /dev/null" "cat < '$tmp/input'"
cat_file=$(cat "$tmp/last")
run "stockade redact < file > /dev/null" "'$BIN' redact --literals '$tmp/literals' < '$tmp/input' 2>/dev/null"
red_file=$(cat "$tmp/last")
run "stockade redact (rules only) < file" "'$BIN' redact < '$tmp/input'"
run "cat file | cat > /dev/null" "cat '$tmp/input' | cat"
cat_pipe=$(cat "$tmp/last")
run "cat file | stockade redact > /dev/null" "cat '$tmp/input' | '$BIN' redact --literals '$tmp/literals' 2>/dev/null"
red_pipe=$(cat "$tmp/last")
echo "redact vs cat: file $(echo "$cat_file $red_file" | awk '{ printf "%.0f%%", 100 * $1 / $2 }'), pipe $(echo "$cat_pipe $red_pipe" | awk '{ printf "%.0f%%", 100 * $1 / $2 }') of cat's throughput"

"$BIN" redact --literals "$tmp/literals" --json-counts < "$tmp/chunk" 2>"$tmp/counts" >/dev/null
echo "replacements in one 64 MiB copy: $(grep '^{' "$tmp/counts")"
if [ -x /usr/bin/time ]; then
	rss=$(/usr/bin/time -f %M "$BIN" redact --literals "$tmp/literals" < "$tmp/input" 2>&1 >/dev/null | tail -1)
	crss=$(/usr/bin/time -f %M cat "$tmp/input" 2>&1 >/dev/null | tail -1)
	echo "peak RSS: stockade redact ${rss} KiB, cat ${crss} KiB"
fi
