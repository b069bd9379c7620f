#!/usr/bin/env bats
# The Debian package: make deb, lintian, then (root) a container-less install
# on this machine, a run from the installed files, the socket-activated
# daemon, remove (state kept) and purge (state gone).  Refuses to touch a
# host that already has stockade installed or its directories.
# As nobody: checks the .deb that the root run built (contents, control
# data, lintian) or builds one itself; what needs root is skipped, with why.

bats_require_minimum_version 1.5.0

TOP=$(cd "$BATS_TEST_DIRNAME/.." && pwd)

setup_file() {
	local build=${BUILD:-build} version arch
	case $build in /*) ;; *) build=$TOP/$build ;; esac
	version=$(sed -n 's/^VERSION *:= *//p' "$TOP/Makefile")
	arch=$(dpkg --print-architecture)
	export PKG_VERSION=$version
	export DEBDIR=$build/deb
	export DEB=$DEBDIR/stockade_${version}_$arch.deb
	export CHANGES=$DEBDIR/stockade_${version}_$arch.changes
	export MARK=$BATS_FILE_TMPDIR/installed-by-test
	# The suite runs elsewhere: nocheck skips the unit tests in the build.
	local opts="nocheck parallel=$(nproc)"
	if [ "$(id -u)" -eq 0 ]; then
		DEB_BUILD_OPTIONS=$opts make -s -C "$TOP" BUILD="$build" deb >"$BATS_FILE_TMPDIR/make-deb.log" 2>&1 ||
			{ cat "$BATS_FILE_TMPDIR/make-deb.log" >&3; return 1; }
		host_lock || return 1
	elif [ ! -f "$DEB" ] || [ ! -f "$CHANGES" ]; then
		# No root run before us: build our own copy (Rules-Requires-Root: no).
		export DEBDIR=$BATS_FILE_TMPDIR/deb DEB=$BATS_FILE_TMPDIR/deb/${DEB##*/} CHANGES=$BATS_FILE_TMPDIR/deb/${CHANGES##*/}
		DEB_BUILD_OPTIONS=$opts sh "$TOP/packaging/build-deb.sh" "$DEBDIR" "$version" \
			>"$BATS_FILE_TMPDIR/make-deb.log" 2>&1 || { cat "$BATS_FILE_TMPDIR/make-deb.log" >&3; return 1; }
	fi
}

# One package test per machine at a time (several checkouts may run
# make test as root at once): a holder process keeps an flock on a host-wide
# lock file until teardown_file kills it, bats removes this file's temporary
# directory, or 20 minutes pass.
host_lock() {
	local lock=/run/lock/stockade-package-test.lock dir=$BATS_FILE_TMPDIR
	(
		exec 9>"$lock"
		flock -w 600 9 || exit 1
		: >"$dir/locked"
		for _ in $(seq 6000); do
			[ -d "$dir" ] || break
			sleep 0.2 9>&-
		done
	) </dev/null >/dev/null 2>&1 3>&- &
	echo $! >"$dir/lock.pid"
	for _ in $(seq 3000); do
		[ -e "$BATS_FILE_TMPDIR/locked" ] && return 0
		kill -0 $! 2>/dev/null || break
		sleep 0.2
	done
	echo "another package test holds $lock" >&3
	return 1
}

# Whatever happened, leave the host as it was: purge what we installed, and
# drop the system user if this test created it.
teardown_file() {
	if [ -f "$BATS_FILE_TMPDIR/daemon.pid" ]; then
		kill "$(cat "$BATS_FILE_TMPDIR/daemon.pid")" 2>/dev/null || true
	fi
	if [ -f "$MARK" ]; then
		if dpkg-query -W -f='${Status}' stockade 2>/dev/null | grep -qv 'not-installed'; then
			dpkg_wait --purge stockade >/dev/null 2>&1 || true
		fi
		if grep -q 'user-created' "$MARK" && getent passwd _stockade >/dev/null; then
			userdel _stockade 2>/dev/null || true
			getent group _stockade >/dev/null && groupdel _stockade 2>/dev/null || true
		fi
	fi
	if [ -f "$BATS_FILE_TMPDIR/lock.pid" ]; then
		kill "$(cat "$BATS_FILE_TMPDIR/lock.pid")" 2>/dev/null || true
	fi
}

need_root() {
	[ "$(id -u)" -eq 0 ] || skip "as $(id -un): installing a Debian package needs root (the root run does it)"
}

# dpkg, waiting up to 2 minutes for another apt/dpkg to let go of the lock.
dpkg_wait() {
	local i out rc
	for i in $(seq 120); do
		out=$(dpkg "$@" 2>&1) && { printf '%s\n' "$out"; return 0; }
		rc=$?
		case $out in *"lock"*) sleep 1 ;; *) printf '%s\n' "$out"; return $rc ;; esac
	done
	printf '%s\n' "$out"
	return 1
}

installed() {
	dpkg-query -W -f='${Status}' stockade 2>/dev/null | grep -q 'install ok installed'
}

@test "make deb builds stockade_<version>_<arch>.deb with the installed layout" {
	[ -f "$DEB" ]
	run -0 dpkg-deb -c "$DEB"
	for f in ./usr/bin/stockade ./usr/sbin/stockaded ./usr/lib/stockade/stockade-rulec \
		./etc/stockade/profiles/default ./etc/stockade/profiles/strict \
		./usr/share/stockade/redact.rules \
		./usr/share/man/man1/stockade.1.gz ./usr/share/man/man8/stockaded.8.gz \
		./usr/share/man/man5/stockade-profile.5.gz \
		./lib/systemd/system/stockaded.service ./lib/systemd/system/stockaded.socket \
		./usr/lib/systemd/user/stockaded.service ./usr/lib/systemd/user/stockaded.socket \
		./usr/lib/sysusers.d/stockade.conf ./var/lib/stockade/ \
		./usr/share/doc/stockade/copyright; do
		grep -qE " $f\$" <<<"$output" || { echo "missing from the .deb: $f"; return 1; }
	done
	# the rules are data, not configuration; no build tree leaks in
	! grep -qE ' \./etc/stockade/profiles/redact\.rules$' <<<"$output"
	! grep -qE 'debian/build|/build-' <<<"$output"
}

@test "the control data: version, shlibs Depends, profiles as conffiles" {
	run -0 dpkg-deb -f "$DEB" Package Version Depends
	[[ "$output" == *"Package: stockade"* ]]
	[[ "$output" == *"Version: $PKG_VERSION"* ]]
	[[ "$output" == *"libseccomp2"* && "$output" == *"libsodium23"* && "$output" == *"libvectorscan"* ]]
	[[ "$output" == *"systemd | systemd-sysusers"* ]]
	local ctl=$BATS_TEST_TMPDIR/ctl
	dpkg-deb -e "$DEB" "$ctl"
	grep -qx /etc/stockade/profiles/default "$ctl/conffiles"
	grep -qx /etc/stockade/profiles/network "$ctl/conffiles"
	# purge removes state and configuration without asking (no debconf)
	grep -q 'rm -rf /var/lib/stockade /etc/stockade' "$ctl/postrm"
	! grep -q 'db_' "$ctl/postrm"
}

@test "lintian: no errors and no warnings" {
	command -v lintian >/dev/null || { echo "lintian is missing: make deps installs it"; return 1; }
	run lintian --fail-on error,warning "$CHANGES"
	echo "$output"
	[ "$status" -eq 0 ]
	! grep -E '^[EW]: ' <<<"$output"
}

@test "installs on this machine without clobbering anything" {
	need_root
	# Refuse when the host has stockade (installed by someone else) or its
	# directories: purge at the end would delete them.
	if dpkg-query -W -f='${Status}' stockade 2>/dev/null | grep -qv 'not-installed'; then
		echo "refusing: a stockade package is already on this machine ($(dpkg-query -W -f='${Status}' stockade))"
		return 1
	fi
	for p in /etc/stockade /var/lib/stockade /usr/bin/stockade /usr/sbin/stockaded; do
		[ ! -e "$p" ] || { echo "refusing: $p exists and does not belong to a stockade package"; return 1; }
	done
	getent passwd _stockade >/dev/null && echo user-existed >"$MARK" || echo user-created >"$MARK"
	run dpkg_wait -i "$DEB"
	echo "$output"
	[ "$status" -eq 0 ]
	installed
	[ -x /usr/bin/stockade ] && [ -x /usr/sbin/stockaded ]
	getent passwd _stockade
	getent group _stockade
	[ "$(stat -c '%U:%G %a' /var/lib/stockade)" = "root:_stockade 750" ]
	run -0 /usr/bin/stockade --version
	[[ "$output" == *"$PKG_VERSION"* ]]
}

@test "the installed units load (systemd-analyze verify)" {
	need_root
	installed || { echo "not installed: the install test failed"; return 1; }
	command -v systemd-analyze >/dev/null || skip "systemd-analyze is not on this machine"
	run systemd-analyze verify /lib/systemd/system/stockaded.socket /lib/systemd/system/stockaded.service
	echo "$output"
	[ "$status" -eq 0 ]
	run -0 grep -x 'ListenStream=/run/stockade/stockade.sock' /lib/systemd/system/stockaded.socket
	run -0 grep -x 'SocketGroup=_stockade' /lib/systemd/system/stockaded.socket
}

@test "stockade run -- echo ok from the installed files" {
	need_root
	installed || { echo "not installed: the install test failed"; return 1; }
	local ws=$BATS_TEST_TMPDIR/ws state=$BATS_TEST_TMPDIR/state
	mkdir -p "$ws"
	cd "$ws"
	# Only the installed profiles and rules: nothing from the checkout.
	run -0 env -u STOCKADE_DATADIR HOME="$BATS_TEST_TMPDIR" /usr/bin/stockade run --state-dir "$state" -- echo ok
	[ "$output" = ok ]
	run -0 env -u STOCKADE_DATADIR /usr/bin/stockade profile list
	[[ "$output" == *"/etc/stockade/profiles/default"* ]]
	run -0 /usr/bin/stockade verify --key "$state/signing.pub" "$state"
	# the redaction rules are found in /usr/share/stockade: a GitHub token is cut
	local tok=ghp_$(head -c 96 /dev/urandom | base64 | tr -dc A-Za-z0-9 | head -c 36)
	run -0 env -u STOCKADE_DATADIR HOME="$BATS_TEST_TMPDIR" /usr/bin/stockade run --state-dir "$state" -- echo "$tok"
	[[ "$output" != *"$tok"* ]]
}

@test "the socket-activated daemon answers stockade exec --connect" {
	need_root
	installed || { echo "not installed: the install test failed"; return 1; }
	local ws=$BATS_TEST_TMPDIR/ws sock
	mkdir -p "$ws"
	cd "$ws"
	if [ -d /run/systemd/system ]; then
		sock=/run/stockade/stockade.sock
		systemctl start stockaded.socket
		[ "$(stat -c '%U:%G %a' "$sock")" = "root:_stockade 660" ]
	else
		# No systemd as pid 1: the unit's ExecStart, handed its listening
		# socket the way systemd does (LISTEN_FDS), on a private path.
		command -v systemd-socket-activate >/dev/null ||
			{ echo "no systemd and no systemd-socket-activate (package systemd)"; return 1; }
		local exec_start
		exec_start=$(sed -n 's/^ExecStart=//p' /lib/systemd/system/stockaded.service)
		[ -n "$exec_start" ]
		sock=$BATS_TEST_TMPDIR/stockade.sock
		# shellcheck disable=SC2086  # ExecStart is a command line
		systemd-socket-activate -l "$sock" $exec_start </dev/null >"$BATS_TEST_TMPDIR/daemon.log" 2>&1 3>&- &
		echo $! >"$BATS_FILE_TMPDIR/daemon.pid"
		for _ in $(seq 50); do [ -S "$sock" ] && break; sleep 0.1; done
	fi
	run -0 timeout 30 /usr/bin/stockade exec --connect "$sock" -- echo ok
	[ "$output" = ok ]
	# a root client's receipts and the daemon's key are in the package's state dir
	[ -s /var/lib/stockade/signing.key ]
	[ -s /var/lib/stockade/receipts.jsonl ]
	run -0 /usr/bin/stockade verify --key /var/lib/stockade/signing.pub /var/lib/stockade
	if [ -d /run/systemd/system ]; then
		systemctl stop stockaded.socket stockaded.service
	else
		kill "$(cat "$BATS_FILE_TMPDIR/daemon.pid")"
		wait "$(cat "$BATS_FILE_TMPDIR/daemon.pid")" || true
		rm -f "$BATS_FILE_TMPDIR/daemon.pid"
	fi
}

@test "dpkg -r keeps the receipts, the key and the configuration" {
	need_root
	installed || { echo "not installed: the install test failed"; return 1; }
	run dpkg_wait -r stockade
	echo "$output"
	[ "$status" -eq 0 ]
	[ ! -e /usr/bin/stockade ] && [ ! -e /usr/sbin/stockaded ]
	[ "$(dpkg-query -W -f='${db:Status-Abbrev}' stockade)" = "rc " ]
	[ -s /var/lib/stockade/signing.key ]
	[ -s /var/lib/stockade/receipts.jsonl ]
	[ -f /etc/stockade/profiles/default ]
}

@test "dpkg -P removes the configuration and the state without questions" {
	need_root
	dpkg-query -W stockade >/dev/null 2>&1 || { echo "not known to dpkg: the earlier tests failed"; return 1; }
	run dpkg_wait -P stockade </dev/null
	echo "$output"
	[ "$status" -eq 0 ]
	[ ! -e /etc/stockade ]
	[ ! -e /var/lib/stockade ]
	! dpkg-query -W stockade >/dev/null 2>&1 || [ "$(dpkg-query -W -f='${db:Status-Abbrev}' stockade)" = "un " ]
}
