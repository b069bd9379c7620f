#!/usr/bin/env bats
# Bypass family: code the command leaves for the host to run later.  The
# workspace's .git/config and .git/hooks are run by the next git command
# outside the sandbox (a person's `git status`, an agent harness's own git
# calls), unsandboxed: core.fsmonitor, core.hooksPath, core.pager, a
# post-checkout hook.  Found 2026-12-04 in review: the sandboxed command
# set core.fsmonitor to `cat ~/.aws/credentials > ...` and a host
# `git status` ran it.
# Fixed: when the workspace is a repository, every sandbox has
# .git/config and .git/hooks read-only and .git as a mount of its own, so
# neither can be written, removed or replaced, nor .git moved aside for a
# new one.  Commits and branches work.  Left open (docs/profiles.md): a
# core.hooksPath that points into the workspace (husky's .husky/), and a
# repository the command creates itself.

bats_require_minimum_version 1.5.0
load ../helpers

setup() {
	setup_workspace
	git init -q
	git -c user.email=t@t -c user.name=t commit -q --allow-empty -m init
	CONFIG_BEFORE=$(sha256sum .git/config)
}
teardown() { teardown_workspace; }

# host_git_runs_nothing: git on the host, as a person would run it next.
host_git_runs_nothing() {
	git status >/dev/null 2>&1 || true
	git checkout -q -b host-branch 2>/dev/null || true
	git -c user.email=t@t -c user.name=t commit -q --allow-empty -m host 2>/dev/null || true
	[ ! -e "$WS.pwned" ] || { echo "host git ran the command's code: $(cat "$WS.pwned")" >&2; rm -f "$WS.pwned"; return 1; }
	[ "$(sha256sum .git/config)" = "$CONFIG_BEFORE" ]
}

@test "corpus git-config: config and hooks written from the sandbox do not run on the host" {
	run "$STOCKADE" run -- sh -c "
		git config core.fsmonitor 'cat ~/.aws/credentials > $WS.pwned; false'
		git config core.hooksPath /tmp
		printf '[core]\n\tpager = touch $WS.pwned\n' >> .git/config
		printf '#!/bin/sh\ntouch $WS.pwned\n' > .git/hooks/post-checkout && chmod +x .git/hooks/post-checkout
		printf '#!/bin/sh\ntouch $WS.pwned\n' > .git/hooks/pre-commit && chmod +x .git/hooks/pre-commit
		echo done"
	[[ "$output" == *done* ]]
	host_git_runs_nothing
}

@test "corpus git-config: .git cannot be moved aside, nor its config or hooks replaced" {
	run "$STOCKADE" run -- sh -c "
		mv .git/config .git/config.old; printf '[core]\n\tfsmonitor = touch $WS.pwned\n' > .git/config.new; mv .git/config.new .git/config
		rm -rf .git/hooks; mkdir -p x/hooks; printf '#!/bin/sh\ntouch $WS.pwned\n' > x/hooks/post-checkout; chmod +x x/hooks/post-checkout; mv x/hooks .git/hooks
		mv .git .git-old && { git init -q . ; git config core.fsmonitor 'touch $WS.pwned'; }
		echo done"
	[[ "$output" == *done* ]]
	[ -d .git ] && [ ! -e .git-old ]
	host_git_runs_nothing
}

@test "corpus git-config: git still works in the sandbox (add, commit, branch, status)" {
	run "$STOCKADE" run -- sh -c 'echo hi > f && git add f && git -c user.email=t@t -c user.name=t commit -qm f && git checkout -qb feature && git status --short && echo works'
	[ "$status" -eq 0 ]
	[[ "$output" == *works* ]]
	[ "$(git log --format=%s -1 feature)" = f ]
	host_git_runs_nothing
}

@test "corpus git-config: the readonly profile keeps .git read-only too" {
	run "$STOCKADE" run --profile readonly -- sh -c 'touch .git/x 2>/dev/null && echo wrote; echo done'
	[[ "$output" != *wrote* ]]
	[[ "$output" == *done* ]]
	[ ! -e .git/x ]
}

@test "corpus git-config: hooks behind a link into the workspace are read-only where they are" {
	mkdir githooks
	rm -rf .git/hooks
	ln -s ../githooks .git/hooks
	run "$STOCKADE" run -- sh -c "printf '#!/bin/sh\ntouch $WS.pwned\n' > githooks/post-checkout 2>/dev/null; chmod +x githooks/post-checkout 2>/dev/null; echo done"
	[[ "$output" == *done* ]]
	[ ! -e githooks/post-checkout ]
	host_git_runs_nothing
}

@test "corpus git-config: a repository of another uid still runs (its read-only parts are bound as they are)" {
	[ "$(id -u)" -eq 0 ] || skip "needs root: a repository owned by another uid"
	local st
	st=$(mktemp -d)
	chown nobody:nogroup "$st"
	chmod 755 "$WS"
	run setpriv --reuid=nobody --regid=nogroup --clear-groups env HOME=/nonexistent XDG_STATE_HOME="$st" \
		"$STOCKADE" run -- sh -c 'head -1 .git/config; echo done'
	rm -rf "$st"
	[ "$status" -eq 0 ]
	[[ "$output" == *"[core]"*done* ]]
}

# Found 2026-12-07: a submodule's git directory (.git/modules/NAME) was
# writable: its config and hooks run on the host too - `git status` looks
# into every submodule with a git of its own - so core.fsmonitor set there
# from the sandbox ran unsandboxed at the host's next `git status`.  Fixed:
# every submodule's config and hooks are read-only like the repository's.
@test "corpus git-config: a submodule's config and hooks written from the sandbox do not run on the host" {
	sub=$(mktemp -d "${BATS_TMPDIR:-/tmp}/stockade-sub.XXXXXX")
	git -C "$sub" init -q && git -C "$sub" -c user.email=t@t -c user.name=t commit -q --allow-empty -m s
	git -c protocol.file.allow=always submodule add -q "$sub" lib/sub
	git -c user.email=t@t -c user.name=t commit -qam sub
	rm -rf "$sub"
	SUB_BEFORE=$(sha256sum .git/modules/lib/sub/config)
	CONFIG_BEFORE=$(sha256sum .git/config)
	run "$STOCKADE" run -- sh -c "
		git -C lib/sub config core.fsmonitor 'touch $WS.pwned; false'
		printf '[core]\n\tfsmonitor = touch $WS.pwned\n' >> .git/modules/lib/sub/config
		printf '#!/bin/sh\ntouch $WS.pwned\n' > .git/modules/lib/sub/hooks/post-checkout
		chmod +x .git/modules/lib/sub/hooks/post-checkout
		echo done"
	[[ "$output" == *done* ]]
	echo change > lib/sub/file
	git status >/dev/null 2>&1 || true
	git -C lib/sub checkout -q -b host 2>/dev/null || true
	[ ! -e "$WS.pwned" ] || { rm -f "$WS.pwned"; echo "host git ran the command's code" >&2; false; }
	[ "$(sha256sum .git/modules/lib/sub/config)" = "$SUB_BEFORE" ]
	# git in the submodule still works in the sandbox.
	run "$STOCKADE" run -- sh -c 'git -C lib/sub log --oneline | wc -l'
	[ "$status" -eq 0 ]
	[ "$output" = "1" ]
}
