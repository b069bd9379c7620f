#!/usr/bin/env bats
# Bypass family: the host's own keys and credentials under /etc and
# /var/lib.  They are readable by root only, and a command run by root (a CI
# container, an agent on a build box) is root in its sandbox, so the
# read-only system showed them: found 2026-12-07, a WireGuard private key,
# an apt source's password, a kubeconfig and a cloud-init user-data file
# (which often carries credentials) all printed.  Fixed: the default profile
# denies the usual places (ssh host keys, /etc/ssl/private, krb5.keytab,
# apt auth, WireGuard, NetworkManager connections, IPsec/PPP secrets, sssd,
# Let's Encrypt, Kubernetes, k3s, GitLab runner, kubelet PKI, cloud-init).

bats_require_minimum_version 1.5.0
load corpus

PLANTED=(/etc/wireguard/stockade-test.conf /etc/apt/auth.conf.d/stockade-test.conf
	/etc/kubernetes/stockade-test.conf /var/lib/cloud/instance/stockade-test.txt)

setup() {
	[ "$(id -u)" -eq 0 ] || skip "the host's root-only files: only root can plant them (and read them)"
	corpus_setup
	MADE=()
	for f in "${PLANTED[@]}"; do
		d=${f%/*}
		[ -d "$d" ] || { mkdir -p "$d" && MADE+=("$d"); }
		printf 'PrivateKey = %s\n' "$CANARY" > "$f"
		chmod 600 "$f"
	done
}
teardown() {
	[ "$(id -u)" -eq 0 ] || return 0
	rm -f "${PLANTED[@]}"
	for ((i = ${#MADE[@]} - 1; i >= 0; i--)); do rmdir -p --ignore-fail-on-non-empty "${MADE[$i]}" 2>/dev/null || true; done
	corpus_teardown
}

@test "corpus host-keys: root-only keys and credentials of the host are not readable by a root command" {
	for f in "${PLANTED[@]}"; do
		turn "rev $f; cat ${f%/*}/* 2>&1 | rev"
	done
	assert_no_canary
	[[ "$ALL_OUT" == *"Permission denied"* || "$ALL_OUT" == *"No such file"* ]]
	# The rest of /etc is there.
	run "$STOCKADE" run --state-dir "$STATE" -- cat /etc/hostname
	[ "$status" -eq 0 ]
	[ -n "$output" ]
}
