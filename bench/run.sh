#!/bin/sh
# make bench: every benchmark, each printing its figures and its peers'.
set -eu
here=$(dirname "$0")
echo "== machine: $(nproc) cores, $(uname -r)"
for b in spawn profile redact audit supervise daemon; do
	if [ -f "$here/$b.sh" ]; then
		echo "== $b"
		sh "$here/$b.sh"
	fi
done
