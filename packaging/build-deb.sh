#!/bin/sh
# make deb: build stockade_<version>_<arch>.deb (and the native source
# package) with dpkg-buildpackage, from a clean copy of the working tree with
# packaging/debian as its debian/, so the checkout itself never gets debian/
# build artefacts.  Usage: build-deb.sh OUTDIR VERSION
# DEB_BUILD_OPTIONS is passed through (nocheck skips the unit tests).
set -eu
out=${1:?usage: build-deb.sh OUTDIR VERSION}
version=${2:?usage: build-deb.sh OUTDIR VERSION}
top=$(cd "$(dirname "$0")/.." && pwd)

fail() {
	echo "make deb: $*" >&2
	exit 1
}

for tool in dpkg-buildpackage dh dpkg-parsechangelog; do
	command -v "$tool" >/dev/null || fail "$tool is missing: run make deps (as root)"
done
changelog_version=$(dpkg-parsechangelog -l "$top/packaging/debian/changelog" -S Version)
[ "$changelog_version" = "$version" ] ||
	fail "packaging/debian/changelog says $changelog_version, the Makefile says $version: add a changelog entry (dch -v $version)"

mkdir -p "$out"
out=$(cd "$out" && pwd)
rm -f "$out"/stockade_* "$out"/stockade-dbgsym_*   # a failed build leaves no stale .deb
work=$(mktemp -d "${TMPDIR:-/tmp}/stockade-deb.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM
tree=$work/stockade-$version
mkdir "$tree"

# The files of the tree: tracked and untracked-but-not-ignored (so build*/
# and node_modules stay out), as they are in the working tree now.
copy_tree() {
	if git -c safe.directory='*' -C "$top" rev-parse --git-dir >/dev/null 2>&1; then
		(cd "$top" && git -c safe.directory='*' ls-files -z -c -o --exclude-standard |
			xargs -0 sh -c 'for f; do [ -f "$f" ] && printf "%s\0" "$f"; done' sh |
			tar --null -T - -cf -) | tar -xf - -C "$tree"
	else
		(cd "$top" && tar --exclude='./build' --exclude='./build-*' --exclude=./.git \
			--exclude='*.deb' --exclude=./integration/verify-node/node_modules -cf - .) |
			tar -xf - -C "$tree"
	fi
}
copy_tree
rm -rf "$tree/debian"
cp -a "$top/packaging/debian" "$tree/debian"

# Not the caller's make settings (make asan's SAN/OPT, a jobserver, BUILD):
# the package is built the way debian/rules says, and nothing else.
unset MAKEFLAGS MFLAGS MAKELEVEL MAKEOVERRIDES BUILD OPT SAN HARDEN PREFIX DESTDIR

log=$out/build.log
echo "make deb: dpkg-buildpackage in $tree (log: $log)" >&2
if ! (cd "$tree" && dpkg-buildpackage -us -uc -J"$(nproc)") >"$log" 2>&1; then
	tail -40 "$log" >&2
	fail "dpkg-buildpackage failed; the whole log is $log"
fi

arch=$(dpkg-architecture -qDEB_HOST_ARCH)
for f in "$work"/stockade_* "$work"/stockade-dbgsym_*; do
	mv "$f" "$out/"
done
[ -f "$out/stockade_${version}_$arch.deb" ] || fail "no stockade_${version}_$arch.deb was made"
echo "$out/stockade_${version}_$arch.deb"
