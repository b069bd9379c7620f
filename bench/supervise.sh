#!/bin/sh
# The cost of supervision (issue 4): an open-heavy workload (OPENS opens and
# closes of an allowed file) and a real build of a small C project (FILES
# translation units, make -j2), each run bare, under bubblewrap, under
# `stockade run --no-supervise` and under `stockade run` (every open, exec
# and connect decided by identity), side by side in one run.  Medians of
# RUNS; ratios to bubblewrap; the cost per supervised open in microseconds.
set -eu
BUILD=${BUILD:-build}
STOCKADE=$(cd "$BUILD" && pwd)/stockade
RUNS=${RUNS:-5}
OPENS=${OPENS:-100000}
FILES=${FILES:-24}
out=$(mktemp -d /tmp/stockade-bench.XXXXXX)
trap 'rm -rf "$out"' EXIT
here=$(cd "$(dirname "$0")" && pwd)

# The project: FILES units that include the usual headers, one program.
proj="$out/proj"
mkdir -p "$proj"
cc -O2 -o "$proj/opens" "$here/opens.c"
i=0
while [ "$i" -lt "$FILES" ]; do
	cat > "$proj/u$i.c" <<C
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <unistd.h>
#include <sys/stat.h>
#include <math.h>
int f$i(int x) { char b[64]; snprintf(b, sizeof(b), "%d", x); return (int)strlen(b) + (int)sqrt((double)x) + errno; }
C
	i=$((i + 1))
done
{
	printf 'int main(void) { int s = 0;\n'
	i=0; while [ "$i" -lt "$FILES" ]; do printf 'extern int f%d(int); s += f%d(%d);\n' "$i" "$i" "$i"; i=$((i + 1)); done
	printf 'return s == 0; }\n'
} > "$proj/main.c"
printf 'SRC := $(wildcard *.c)\nprog: $(SRC:.c=.o)\n\t$(CC) -o $@ $^ -lm\n%%.o: %%.c\n\t$(CC) -O1 -c -o $@ $<\nclean:\n\trm -f *.o prog\n' > "$proj/Makefile"

# A search through a tree of small files (the agent's most common
# open-heavy command): 40 directories of 50 files.
mkdir -p "$proj/tree"
i=0
while [ "$i" -lt 40 ]; do
	mkdir -p "$proj/tree/d$i"
	j=0
	while [ "$j" -lt 50 ]; do
		printf 'int v%d = %d; /* some text here */\n' 1 2 3 4 5 6 7 8 > "$proj/tree/d$i/f$j.c"
		j=$((j + 1))
	done
	i=$((i + 1))
done

# The same project with a secret .env (a token among ordinary settings):
# every file the build reads is read for the token too.
cp -r "$proj" "$out/projenv"
printf 'APP_ENV=development\nAPI_TOKEN=tok_9f8e7d6c5b4a39281706f5e4d3c2b1a0\n' > "$out/projenv/.env"

BW="bwrap --unshare-all --die-with-parent --ro-bind / / --dev /dev --proc /proc --tmpfs /tmp --bind $proj $proj --chdir $proj"
ST="$STOCKADE run --state-dir $out/state --workspace $proj --"
build="sh -c 'make -s clean && make -s -j2'"
cd "$proj"
hyperfine -N --warmup 1 --runs "$RUNS" --export-json "$out/s.json" \
	-n opens-bare "$proj/opens $OPENS" \
	-n opens-bubblewrap "$BW $proj/opens $OPENS" \
	-n opens-stockade-nosup "$STOCKADE run --no-supervise --state-dir $out/state -- $proj/opens $OPENS" \
	-n opens-stockade "$STOCKADE run --state-dir $out/state -- $proj/opens $OPENS" \
	-n grep-bare "sh -c 'grep -rc zzz tree > /dev/null || true'" \
	-n grep-bubblewrap "$BW sh -c 'grep -rc zzz tree > /dev/null || true'" \
	-n grep-stockade-nosup "$STOCKADE run --no-supervise --state-dir $out/state --workspace $proj -- sh -c 'grep -rc zzz tree > /dev/null || true'" \
	-n grep-stockade "$STOCKADE run --state-dir $out/state --workspace $proj -- sh -c 'grep -rc zzz tree > /dev/null || true'" \
	-n build-bare "sh -c 'make -s clean && make -s -j2'" \
	-n build-bubblewrap "$BW sh -c 'make -s clean && make -s -j2'" \
	-n build-stockade-nosup "$STOCKADE run --no-supervise --state-dir $out/state --workspace $proj -- sh -c 'make -s clean && make -s -j2'" \
	-n build-stockade "$STOCKADE run --state-dir $out/state --workspace $proj -- sh -c 'make -s clean && make -s -j2'" \
	-n build-stockade-dotenv "$STOCKADE run --state-dir $out/state --workspace $out/projenv -- sh -c 'make -s clean && make -s -j2'" \
	>/dev/null
python3 - "$out/s.json" "$OPENS" <<'PY'
import json, sys
res = {r["command"]: r["median"] * 1000 for r in json.load(open(sys.argv[1]))["results"]}
n = int(sys.argv[2])
titles = {"opens": "%d opens+closes" % n, "grep": "grep -r through 2,000 small files",
          "build": "build of a small C project (make -j2)"}
for w in ("opens", "grep", "build"):
    bw = res[w + "-bubblewrap"]
    print("%s: median ms, ratio to bubblewrap" % titles[w])
    for k in ("bare", "bubblewrap", "stockade-nosup", "stockade", "stockade-dotenv"):
        if w + "-" + k in res:
            print("  %-16s %9.1f ms  %5.2fx" % (k, res[w + "-" + k], res[w + "-" + k] / bw))
per = (res["opens-stockade"] - res["opens-stockade-nosup"]) * 1000.0 / n
print("supervision cost per open: %.1f us (stockade - stockade --no-supervise, / %d)" % (per, n))
PY
