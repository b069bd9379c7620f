#!/bin/sh
# bench/redact.sh — the output redactor.
#  - set-up time of a redactor (cold: compile + store; warm: from the
#    cache; no cache; with 1,000 literals), median of 5;
#  - throughput of `stockade redact` with the shipped rules + 1,000
#    literals on ~1 GiB of generated tool output (compiler logs, JSON, env
#    dumps, base64 blobs, secrets sprinkled in), side by side with cat in
#    the same run, from a file and from a pipe (median of 3 each), as GB/s
#    and as a share of cat's throughput; the times include the start-up;
#  - peak RSS of stockade redact and of cat.
# REDACT_BENCH_MB sets the size (default 1024); STOCKADE_BIN the binary.
# Takes about a minute on 2 cores.
set -eu
BUILD=${BUILD:-build}
BIN=${STOCKADE_BIN:-$(cd "$BUILD" && pwd)/stockade}
MB=${REDACT_BENCH_MB:-1024}
REPS=${REDACT_BENCH_REPS:-3}
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

# ---- set-up ----
setup() {   # median of 5 of the time sk_redactor_build() reports (--verbose)
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

# ---- throughput ----
cat "$tmp/input" > /dev/null   # page cache
# Runs "sh -c CMD" REPS times; prints the median wall time in ms and the
# median CPU time (user + sys of every process of the command) in ms: on a
# busy machine the CPU time says more than the wall time.
median_ms() {
	k=0
	while [ $k -lt "$REPS" ]; do
		t0=$(date +%s%N)
		/usr/bin/time -f "%U %S" -o "$tmp/cpu" sh -c "$1" > /dev/null
		t1=$(date +%s%N)
		echo "$(( (t1 - t0) / 1000 )) $(awk '{ printf "%d", ($1 + $2) * 1e6 }' "$tmp/cpu")"
		k=$((k + 1))
	done > "$tmp/runs"
	med() { cut -d' ' -f"$1" "$tmp/runs" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
	echo "$(med 1) $(med 2)" | awk '{ printf "%.1f %.0f", $1 / 1000, $2 / 1000 }'
}
gbs() { awk -v b="$bytes" -v t="$1" 'BEGIN { printf "%.2f", b / (t / 1e3) / 1e9 }'; }
row() {   # label, "wall cpu"
	set -- "$1" $2
	printf '%-46s %9s ms  %6s GB/s   cpu %6s ms\n' "$1" "$2" "$(gbs "$2")" "$3"
}
wall() { echo "${1%% *}"; }

R="'$BIN' redact --literals '$tmp/literals' 2>/dev/null"
cat_file=$(median_ms "cat < '$tmp/input'")
red_file=$(median_ms "$R < '$tmp/input'")
rules_file=$(median_ms "'$BIN' redact < '$tmp/input'")
cat_pipe=$(median_ms "cat '$tmp/input' | cat")
red_pipe=$(median_ms "cat '$tmp/input' | $R")
echo "median of $REPS runs; cpu = user + sys of all the processes of the command"
row "cat < file > /dev/null" "$cat_file"
row "stockade redact (rules + 1000 lit) < file" "$red_file"
row "stockade redact (rules only) < file" "$rules_file"
row "cat file | cat > /dev/null" "$cat_pipe"
row "cat file | stockade redact (rules + 1000 lit)" "$red_pipe"
pct() { awk -v c="$1" -v r="$2" 'BEGIN { printf "%.0f%%", 100 * c / r }'; }
echo "redact vs cat: file $(pct "$(wall "$cat_file")" "$(wall "$red_file")"), pipe $(pct "$(wall "$cat_pipe")" "$(wall "$red_pipe")") of cat's throughput" \
     "(targets: >= 1 GB/s and >= 40%)"

"$BIN" redact --literals "$tmp/literals" --json-counts < "$tmp/chunk" 2>"$tmp/counts" >/dev/null
echo "replacements in one 64 MiB copy: $(grep '^{' "$tmp/counts")"
if [ -x /usr/bin/time ]; then
	rss=$(/usr/bin/time -f %M "$BIN" redact --literals "$tmp/literals" < "$tmp/input" 2>&1 >/dev/null | tail -1)
	prss=$( { cat "$tmp/input" | /usr/bin/time -f %M "$BIN" redact --literals "$tmp/literals" >/dev/null; } 2>&1 | tail -1)
	crss=$(/usr/bin/time -f %M cat "$tmp/input" 2>&1 >/dev/null | tail -1)
	echo "peak RSS: stockade redact ${rss} KiB (file), ${prss} KiB (pipe); cat ${crss} KiB"
fi
