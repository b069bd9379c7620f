#!/bin/sh
# make deps: install the Debian packages stockade needs, idempotently.
# As root it runs apt-get; otherwise it prints the exact line to run.
set -u
missing=""
for p in "$@"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
	echo "stockade: missing Debian packages:$missing" >&2
	echo "stockade: run as root: apt-get install -y$missing" >&2
	exit 1
fi
echo "make deps: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null && apt-get install -y -qq --no-install-recommends $missing >/dev/null
