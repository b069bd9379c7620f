#!/usr/bin/env bats
# Bypass family: credentials in the system-wide configs of package managers
# and git, which the sandbox shows read-only with the rest of /etc and /usr:
# a corporate image's /etc/pip.conf (index-url = https://user:token@...),
# npm's global npmrc (/etc/npmrc, /usr/etc/npmrc, /usr/local/etc/npmrc:
# //host/:_authToken=...), /etc/gitconfig (a token in an extraheader).
# Found 2026-12-07 (session 12): `rev /etc/pip.conf` printed the token.
# Fixed: those files, when they hold a credential, are read-only copies
# without it in the sandbox (as ~/.gitconfig and the workspace's configs);
# the values taken out are redaction literals.
# Putting the files in place needs root (a private mount namespace binds
# them over the host's, which stay untouched): as another user the case is
# skipped, and says so.

bats_require_minimum_version 1.5.0
load corpus

setup() { corpus_setup; }
teardown() { corpus_teardown; }

@test "corpus system-configs: tokens in /etc/pip.conf, the global npmrc and /etc/gitconfig do not get out" {
	[ "$(id -u)" -eq 0 ] || skip "binding files over /etc needs root"
	cfg="$BATS_TEST_TMPDIR/cfg"
	mkdir -p "$cfg"
	printf '[global]\nindex-url = https://ci:%s-pip@pypi.corp.example/simple\ntimeout = 60\n' "$CANARY" > "$cfg/pip.conf"
	printf 'registry=https://npm.corp.example/\n//npm.corp.example/:_authToken=%s-npm\n' "$CANARY" > "$cfg/npmrc"
	printf '[http "https://git.corp.example/"]\n\textraheader = AUTHORIZATION: bearer %s-git\n[core]\n\tautocrlf = false\n' \
		"$CANARY" > "$cfg/gitconfig"
	run unshare -m sh -c '
		for f in /etc/pip.conf /etc/npmrc /usr/etc/npmrc /usr/local/etc/npmrc /etc/gitconfig; do
			[ -e "$f" ] || continue
			case $f in */pip.conf) src=$1/pip.conf ;; */gitconfig) src=$1/gitconfig ;; *) src=$1/npmrc ;; esac
			mount --bind "$src" "$f" || exit 99
		done
		"$2" run --state-dir "$3" -- sh -c "for f in /etc/pip.conf /etc/npmrc /usr/etc/npmrc /usr/local/etc/npmrc /etc/gitconfig; do [ -e \$f ] && rev \$f; done; grep -h timeout /etc/pip.conf; git config --system core.autocrlf"
		echo "status=$?"' sh "$cfg" "$STOCKADE" "$STATE"
	ALL_OUT="$output"
	echo "$output"
	[ "$status" -ne 99 ]
	[[ "$output" == *"status=0"* ]]
	assert_no_canary
	# What is no credential stays.
	[[ "$output" == *"timeout = 60"* ]]
	[[ "$output" == *$'\nfalse\n'* ]]
}
