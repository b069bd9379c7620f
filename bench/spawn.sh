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
set -eu
BUILD=${BUILD:-build}
STOCKADE=$(cd "$BUILD" && pwd)/stockade
RUNS=${RUNS:-60}
out=$(mktemp -d)
repo=$(mktemp -d)   # not under $out: the other rows' workspace is $out
trap 'rm -rf "$out" "$repo"' EXIT
cd "$out"
for d in $(seq 100); do
	mkdir "$repo/d$d"
	(cd "$repo/d$d" && touch $(seq -f f%g.c 100))
done
hyperfine -N --warmup 5 --runs "$RUNS" --export-json "$out/spawn.json" \
	-n stockade "$STOCKADE run --state-dir $out/state -- /bin/true" \
	-n stockade-nolimits "$STOCKADE run --state-dir $out/state --pids 0 --memory 0 -- /bin/true" \
	-n stockade-10k-files "$STOCKADE run --state-dir $out/state --workspace $repo -- /bin/true" \
	-n bubblewrap "bwrap --unshare-all --die-with-parent --ro-bind / / --dev /dev --proc /proc --tmpfs /tmp /bin/true" \
	-n firejail "firejail --quiet --noprofile --net=none /bin/true" \
	-n namespace-floor "unshare --user --map-current-user --pid --fork --mount --net --ipc --uts --cgroup /bin/true" \
	-n bare "/bin/true" >/dev/null 2>&1
# At an agent's pace: 100 ms (not timed) before each run.  Back to back, one
# run's kernel work can be left warm for the next (a cgroup move's RCU
# grace period: 10 ms a run that back-to-back runs never showed).
hyperfine -N --warmup 3 --runs "$((RUNS / 2))" --prepare 'sleep 0.1' --export-json "$out/paced.json" \
	-n stockade "$STOCKADE run --state-dir $out/state -- /bin/true" \
	-n stockade-nolimits "$STOCKADE run --state-dir $out/state --pids 0 --memory 0 -- /bin/true" \
	-n bubblewrap "bwrap --unshare-all --die-with-parent --ro-bind / / --dev /dev --proc /proc --tmpfs /tmp /bin/true" \
	-n namespace-floor "unshare --user --map-current-user --pid --fork --mount --net --ipc --uts --cgroup /bin/true" \
	>/dev/null 2>&1
python3 - "$out/spawn.json" "$out/paced.json" <<'PY'
import json, sys
def table(path, title, names):
    res = {r["command"]: r for r in json.load(open(path))["results"]}
    med = {k: v["median"] * 1000 for k, v in res.items()}
    bw = med["bubblewrap"]
    print("%s, median of %d runs (ms), ratio to bubblewrap" % (title, len(res["bubblewrap"]["times"])))
    for k in names:
        print("  %-18s %7.2f ms   %5.2fx" % (k, med[k], med[k] / bw))
table(sys.argv[1], "spawn latency, /bin/true, back to back",
      ["stockade", "stockade-nolimits", "stockade-10k-files", "bubblewrap", "firejail", "namespace-floor", "bare"])
table(sys.argv[2], "spawn latency, /bin/true, 100 ms apart (an agent's pace)",
      ["stockade", "stockade-nolimits", "bubblewrap", "namespace-floor"])
PY
