#!/bin/sh
# Spawn latency of `stockade run -- /bin/true`, side by side in one run with
# bubblewrap, firejail and the bare namespace floor; medians and ratios,
# back to back and at an agent's pace.
# stockade's figure is the whole run path: the default profile, decide, two
# fsync'd signed receipts, the redactor, the sandbox, seccomp and Landlock.
# The usual workspace is an empty directory; one more row runs in a
# workspace of 10,000 files in 100 directories (a mid-size repository),
# which the profile's scans (hidden names like .env, hard links to hidden
# files) read on every run.
# This machine's speed drifts by 20-30% over tens of seconds, and hyperfine
# runs one command's runs in a block: the runs are split into ROUNDS rounds
# of all the commands, and the medians are over all rounds, so that drift
# cannot favour whichever command ran in a fast stretch.
set -eu
BUILD=${BUILD:-build}
STOCKADE=$(cd "$BUILD" && pwd)/stockade
RUNS=${RUNS:-60}
ROUNDS=${ROUNDS:-6}
out=$(mktemp -d)
repo=$(mktemp -d)   # not under $out: the other rows' workspace is $out
trap 'rm -rf "$out" "$repo"' EXIT
cd "$out"
for d in $(seq 100); do
	mkdir "$repo/d$d"
	(cd "$repo/d$d" && touch $(seq -f f%g.c 100))
done
per=$(( (RUNS + ROUNDS - 1) / ROUNDS ))
r=0
while [ "$r" -lt "$ROUNDS" ]; do
	r=$((r + 1))
	hyperfine -N --warmup 2 --runs "$per" --export-json "$out/spawn.$r.json" \
		-n stockade "$STOCKADE run --state-dir $out/state -- /bin/true" \
		-n stockade-nolimits "$STOCKADE run --state-dir $out/state --pids 0 --memory 0 -- /bin/true" \
		-n stockade-10k-files "$STOCKADE run --state-dir $out/state --workspace $repo -- /bin/true" \
		-n bubblewrap "bwrap --unshare-all --die-with-parent --ro-bind / / --dev /dev --proc /proc --tmpfs /tmp /bin/true" \
		-n firejail "firejail --quiet --noprofile --net=none /bin/true" \
		-n namespace-floor "unshare --user --map-current-user --pid --fork --mount --net --ipc --uts --cgroup /bin/true" \
		-n bare "/bin/true" >/dev/null 2>&1
	# At an agent's pace: 100 ms (not timed) before each run.  Back to back,
	# one run's kernel work can be left warm for the next (a cgroup move's
	# RCU grace period: 10 ms a run that back-to-back runs never showed).
	hyperfine -N --warmup 1 --runs "$(( (per + 1) / 2 ))" --prepare 'sleep 0.1' --export-json "$out/paced.$r.json" \
		-n stockade "$STOCKADE run --state-dir $out/state -- /bin/true" \
		-n stockade-nolimits "$STOCKADE run --state-dir $out/state --pids 0 --memory 0 -- /bin/true" \
		-n bubblewrap "bwrap --unshare-all --die-with-parent --ro-bind / / --dev /dev --proc /proc --tmpfs /tmp /bin/true" \
		-n namespace-floor "unshare --user --map-current-user --pid --fork --mount --net --ipc --uts --cgroup /bin/true" \
		>/dev/null 2>&1
done
python3 - "$out" "$ROUNDS" <<'PY'
import json, statistics, sys
def table(kind, title, names):
    times = {}
    for r in range(1, int(sys.argv[2]) + 1):
        for res in json.load(open("%s/%s.%d.json" % (sys.argv[1], kind, r)))["results"]:
            times.setdefault(res["command"], []).extend(res["times"])
    med = {k: statistics.median(v) * 1000 for k, v in times.items()}
    bw = med["bubblewrap"]
    print("%s, median of %d runs in %s rounds (ms), ratio to bubblewrap"
          % (title, len(times["bubblewrap"]), sys.argv[2]))
    for k in names:
        print("  %-18s %7.2f ms   %5.2fx" % (k, med[k], med[k] / bw))
table("spawn", "spawn latency, /bin/true, back to back",
      ["stockade", "stockade-nolimits", "stockade-10k-files", "bubblewrap", "firejail", "namespace-floor", "bare"])
table("paced", "spawn latency, /bin/true, 100 ms apart (an agent's pace)",
      ["stockade", "stockade-nolimits", "bubblewrap", "namespace-floor"])
PY
