#!/usr/bin/env bats
# Bypass family: a git repository the command makes or redirects, that
# the host's git then enters.  git-config.bats keeps the workspace's own
# .git/config and hooks (and each submodule's) read-only; but git reads a
# repository's config from wherever the repository's files point it, and
# most of those files are the command's to write:
#   - a gitlink in the (writable) index makes `git status` look into that
#     directory's own repository, with that repository's config;
#   - a submodule's `.git` file names its git directory ("gitdir: ...");
#   - `.git/commondir` moves the whole config (and hooks) elsewhere, for
#     the workspace's repository itself, a submodule's or a worktree's;
#   - a workspace that is not a repository becomes one with `git init`;
#   - a linked worktree's `.git` file; `config.worktree`.
# Found 2026-12-07 in review (the first two by hand in session 10, the rest
# while writing these cases): each ran `core.fsmonitor` unsandboxed at the
# host's next `git status`.
# Fixed: after each run, with the command's processes gone, the host looks
# at every repository git would enter from the workspace (src/cli/git_guard.c)
# and moves aside (quarantines) the entry of any whose config says more than
# git itself writes there, or that has hooks, or a commondir where none
# belongs; the run's stderr and its outcome receipt name each one.

bats_require_minimum_version 1.5.0
load ../helpers

setup() {
	setup_workspace
	STATE="$WS.state"
	# an identity, so that git looks up no host name (a DNS query: refused)
	printf '[user]\n\tname = t\n\temail = t@t\n' > "$HOME/.gitconfig"
	git init -q
	git -c user.email=t@t -c user.name=t commit -q --allow-empty -m init
}
teardown() {
	rm -rf "$STATE" "$WS.pwned" "${OUTSIDE:-/nonexistent-stockade}"
	teardown_workspace
}

# host_git_runs_nothing [DIR...]: the git a person or a harness runs next,
# in the workspace and in each DIR.
host_git_runs_nothing() {
	local d
	for d in . "$@"; do
		git -C "$d" status >/dev/null 2>&1 || true
		git -C "$d" diff >/dev/null 2>&1 || true
	done
	[ ! -e "$WS.pwned" ] || { rm -f "$WS.pwned"; echo "host git ran the command's code" >&2; return 1; }
}

# stockade run in the workspace, with the receipts in $STATE
run_sandboxed() {
	run "$STOCKADE" run --state-dir "$STATE" -- sh -c "$1"
	echo "$output"
}

# assert_quarantined PATH: the run said so, and its outcome receipt names PATH.
assert_quarantined() {
	[[ "$output" == *"quarantined"*"$1"* ]] || { echo "no quarantine notice for $1" >&2; return 1; }
	/usr/bin/python3 - "$STATE/receipts.jsonl" "$1" <<-'EOF'
	import json, sys
	for line in open(sys.argv[1]):
	    r = json.loads(line)
	    for q in (r.get("outcome") or {}).get("quarantined", []):
	        if q["path"] == sys.argv[2] and q["why"]:
	            sys.exit(0)
	sys.exit("no outcome receipt names " + sys.argv[2])
	EOF
	"$STOCKADE" verify --state-dir "$STATE" >/dev/null
}

# add_submodule: lib/sub, a submodule of the workspace's repository, with
# its git directory in .git/modules/lib/sub.
add_submodule() {
	local sub
	sub=$(mktemp -d "${BATS_TMPDIR:-/tmp}/stockade-sub.XXXXXX")
	git -C "$sub" init -q && git -C "$sub" -c user.email=t@t -c user.name=t commit -q --allow-empty -m s
	git -c protocol.file.allow=always submodule add -q "$sub" lib/sub
	git -c user.email=t@t -c user.name=t commit -qam sub
	rm -rf "$sub"
}

# expect_quarantined ENTRY [DIR...]: a change in each DIR for git status to
# look at, then the host's git (in the workspace and each DIR) runs nothing,
# and ENTRY was moved aside, said and receipted.
expect_quarantined() {
	local entry=$1 d
	shift
	for d in "$@"; do echo change > "$d/file"; done
	host_git_runs_nothing "$@"
	assert_quarantined "$entry"
}

@test "corpus git-host-exec: a gitlink planted in the index to a new repository" {
	run_sandboxed "
		mkdir x && git -C x init -q && git -C x -c user.email=t@t -c user.name=t commit -q --allow-empty -m x
		git -C x config core.fsmonitor 'touch $WS.pwned; false'
		git update-index --add --cacheinfo 160000,\$(git -C x rev-parse HEAD),x
		echo done"
	[[ "$output" == *done* ]]
	expect_quarantined x/.git x
}

@test "corpus git-host-exec: a submodule's .git file pointed at another git directory" {
	add_submodule
	run_sandboxed "
		cp -r .git/modules/lib/sub evil
		git config --file evil/config core.fsmonitor 'touch $WS.pwned; false'
		git config --file evil/config core.worktree ../lib/sub
		printf 'gitdir: ../../evil\n' > lib/sub/.git
		echo done"
	[[ "$output" == *done* ]]
	expect_quarantined lib/sub/.git lib/sub
}

@test "corpus git-host-exec: .git/commondir moves the repository's config" {
	run_sandboxed "
		mkdir .git/evil && cp -r .git/HEAD .git/refs .git/objects .git/evil/
		printf '[core]\n\trepositoryformatversion = 0\n\tfsmonitor = touch $WS.pwned; false\n' > .git/evil/config
		echo evil > .git/commondir
		echo done"
	[[ "$output" == *done* ]]
	echo change > file
	host_git_runs_nothing
	assert_quarantined .git/commondir
}

@test "corpus git-host-exec: a submodule's git directory given a commondir" {
	add_submodule
	run_sandboxed "
		cp -r .git/modules/lib/sub .git/evil
		git config --file .git/evil/config core.fsmonitor 'touch $WS.pwned; false'
		echo ../../../evil > .git/modules/lib/sub/commondir
		echo done"
	[[ "$output" == *done* ]]
	expect_quarantined .git/modules/lib/sub/commondir lib/sub
}

@test "corpus git-host-exec: a workspace that was no repository becomes one" {
	rm -rf .git
	run_sandboxed "
		git init -q && git config core.fsmonitor 'touch $WS.pwned; false'
		echo done"
	[[ "$output" == *done* ]]
	host_git_runs_nothing
	assert_quarantined .git
}

@test "corpus git-host-exec: an old-style submodule with its .git directory in the worktree" {
	mkdir old && git -C old init -q && git -C old -c user.email=t@t -c user.name=t commit -q --allow-empty -m o
	git update-index --add --cacheinfo "160000,$(git -C old rev-parse HEAD),old"
	git -c user.email=t@t -c user.name=t commit -qm old
	run_sandboxed "
		git -C old config core.fsmonitor 'touch $WS.pwned; false'
		echo done"
	[[ "$output" == *done* ]]
	expect_quarantined old/.git old
}

@test "corpus git-host-exec: a linked worktree's commondir, from its main repository" {
	OUTSIDE=$(mktemp -d "${BATS_TMPDIR:-/tmp}/stockade-wt.XXXXXX")
	git worktree add -q "$OUTSIDE/wt"
	run_sandboxed "
		cp -r .git .git-evil 2>/dev/null; rm -rf .git-evil/worktrees
		git config --file .git-evil/config core.fsmonitor 'touch $WS.pwned; false'
		echo ../../../.git-evil > .git/worktrees/wt/commondir
		echo done"
	[[ "$output" == *done* ]]
	echo change > "$OUTSIDE/wt/file"
	host_git_runs_nothing "$OUTSIDE/wt"
	assert_quarantined .git/worktrees/wt/commondir
}

@test "corpus git-host-exec: a workspace that is a linked worktree keeps its .git file" {
	OUTSIDE=$(mktemp -d "${BATS_TMPDIR:-/tmp}/stockade-wt.XXXXXX")
	git worktree add -q "$OUTSIDE/wt"
	cd "$OUTSIDE/wt"
	run "$STOCKADE" run --state-dir "$STATE" -- sh -c "
		git init -q evil && git -C evil config core.fsmonitor 'touch $WS.pwned; false'
		printf 'gitdir: evil/.git\n' > .git 2>&1
		echo done"
	echo "$output"
	[[ "$output" == *done* ]]
	echo change > file
	host_git_runs_nothing "$OUTSIDE/wt"
	grep -q "^gitdir: $WS/.git/worktrees/wt" .git
}

@test "corpus git-host-exec: config.worktree, where the repository reads it" {
	git config extensions.worktreeConfig true
	run_sandboxed "
		printf '[core]\n\tfsmonitor = touch $WS.pwned; false\n' > .git/config.worktree
		echo done"
	[[ "$output" == *done* ]]
	echo change > file
	host_git_runs_nothing
	assert_quarantined .git/config.worktree
}

@test "corpus git-host-exec: a gitlink committed, then taken out of the index, comes back with the host's reset" {
	run_sandboxed "
		mkdir x && git -C x init -q && git -C x -c user.email=t@t -c user.name=t commit -q --allow-empty -m x
		git -C x config core.fsmonitor 'touch $WS.pwned; false'
		git update-index --add --cacheinfo 160000,\$(git -C x rev-parse HEAD),x
		git commit -qm 'add x' && git rm -q --cached x
		echo done"
	[[ "$output" == *done* ]]
	git reset -q 2>/dev/null || true
	expect_quarantined x/.git x
}

@test "corpus git-host-exec: a git directory made in one run under another name, moved into place in the next" {
	run_sandboxed "
		git init -q stage && mv stage/.git stage/parked
		git config --file stage/parked/config core.fsmonitor 'touch $WS.pwned; false'
		mkdir .git/parked && git init -q .git/parked/r && mv .git/parked/r/.git .git/parked/gitdir
		git config --file .git/parked/gitdir/config core.fsmonitor 'touch $WS.pwned; false'
		echo done"
	[[ "$output" == *done* ]]
	[[ "$output" != *quarantined* ]]
	run_sandboxed "
		mkdir x y && mv stage/parked x/.git && mv .git/parked/gitdir y/.git
		git -C x -c user.email=t@t -c user.name=t commit -q --allow-empty -m x
		git -C y -c user.email=t@t -c user.name=t commit -q --allow-empty -m y
		git update-index --add --cacheinfo 160000,\$(git -C x rev-parse HEAD),x
		git update-index --add --cacheinfo 160000,\$(git -C y rev-parse HEAD),y
		echo done"
	[[ "$output" == *done* ]]
	echo change > x/file
	echo change > y/file
	host_git_runs_nothing x y
	assert_quarantined x/.git
	assert_quarantined y/.git
}

@test "corpus git-host-exec: what a run stopped before its check left is judged by the next run" {
	"$STOCKADE" run --state-dir "$STATE" -- sh -c "
		git init -q x && git -C x -c user.email=t@t -c user.name=t commit -q --allow-empty -m x
		git update-index --add --cacheinfo 160000,\$(git -C x rev-parse HEAD),x
		git -C x config core.fsmonitor 'touch $WS.pwned; false'
		sleep 60" 3>&- &
	pid=$!
	for _ in $(seq 200); do
		grep -q fsmonitor x/.git/config 2>/dev/null && break
		sleep 0.1
	done
	kill -KILL "$pid"
	wait "$pid" || true
	grep -q fsmonitor x/.git/config
	run_sandboxed "echo done"
	[[ "$output" == *done* ]]
	expect_quarantined x/.git x
}

@test "corpus git-host-exec: the git directory behind a .git file of the caller's, swapped for one staged in an earlier run" {
	run_sandboxed "
		git init -q stage && mv stage/.git stage/gd
		git config --file stage/gd/config core.fsmonitor 'touch $WS.pwned; false'
		echo done"
	[[ "$output" == *done* ]]
	# Between runs the caller makes a repository whose git directory is elsewhere.
	mkdir store && git init -q --separate-git-dir="$WS/store/w2" w2
	run_sandboxed "rm -rf store/w2 && mv stage/gd store/w2 && echo done"
	[[ "$output" == *done* ]]
	expect_quarantined w2/.git w2
}

@test "corpus git-host-exec: a .git that leads through /proc/self/cwd (where it goes depends on who looks)" {
	run_sandboxed "
		git init -q evil && mv evil/.git evil/gd
		git config --file evil/gd/config core.fsmonitor 'touch $WS.pwned; false'
		git --git-dir=evil/gd --work-tree=evil -c user.email=t@t -c user.name=t commit -q --allow-empty -m e
		mkdir x && ln -s /proc/self/cwd/../evil/gd x/.git
		git update-index --add --cacheinfo 160000,\$(git --git-dir=evil/gd rev-parse HEAD),x
		echo done"
	[[ "$output" == *done* ]]
	echo change > x/file
	host_git_runs_nothing
	assert_quarantined x/.git
}

@test "corpus git-host-exec: thousands of empty .git directories ahead of the bad one do not exhaust the check" {
	run_sandboxed "
		seq -f 'a%g/.git' 5000 | xargs mkdir -p
		git init -q zz && git -C zz config core.fsmonitor 'touch $WS.pwned; false'
		git -C zz -c user.email=t@t -c user.name=t commit -q --allow-empty -m z
		h=\$(git -C zz rev-parse HEAD)
		seq -f \"160000 \$h 0	a%g\" 5000 | git update-index --index-info
		git update-index --add --cacheinfo 160000,\$h,zz
		echo done"
	[[ "$output" == *done* ]]
	[[ "$output" != *"larger than the check"* ]]
	expect_quarantined zz/.git zz
}

@test "corpus git-host-exec: the caller's own nested repositories, hooks and all, are left alone" {
	mkdir tools && git -C tools init -q && git -C tools commit -q --allow-empty -m t
	git -C tools config core.editor vi
	printf '#!/bin/sh\nexit 0\n' > tools/.git/hooks/pre-commit && chmod +x tools/.git/hooks/pre-commit
	run_sandboxed "git -C tools status --short; touch tools/new; git -C tools add new; echo done"
	[[ "$output" == *done* ]]
	[[ "$output" != *quarantined* ]]
	[ -d tools/.git ] && [ -x tools/.git/hooks/pre-commit ]
	# A repository the caller clones in between runs: the same.
	git clone -q tools lib2 && git -C lib2 config core.editor vi
	printf '#!/bin/sh\nexit 0\n' > lib2/.git/hooks/pre-commit && chmod +x lib2/.git/hooks/pre-commit
	# A change in the clock tick (4 ms here) a run starts in cannot be told
	# from the run's own, and counts as the sandbox's (docs/sessions.md): a
	# caller is slower than that between writing a config and running.
	sleep 0.02
	run_sandboxed "git -C lib2 status --short; touch lib2/new; echo done"
	[[ "$output" == *done* ]]
	[[ "$output" != *quarantined* ]]
	[ -d lib2/.git ]
	# Written from the sandbox, the same hook is not the caller's.
	run_sandboxed "printf '#!/bin/sh\ntouch $WS.pwned\n' > lib2/.git/hooks/post-checkout; chmod +x lib2/.git/hooks/post-checkout"
	git -C lib2 checkout -q -b other 2>/dev/null || true
	host_git_runs_nothing lib2
	assert_quarantined lib2/.git
}

# Positive controls: what an agent does with git every day is left alone.
@test "corpus git-host-exec: nested repositories, gitlinks and worktrees made the ordinary way stay" {
	run_sandboxed "
		git init -q upstream && git -C upstream -c user.email=t@t -c user.name=t commit -q --allow-empty -m s
		git -c protocol.file.allow=always clone -q upstream nested 2>&1
		git -C nested config user.email a@b && git -C nested remote add mirror https://example.com/x.git
		git -C nested checkout -q -b topic && git -C nested branch -q -u origin/HEAD 2>/dev/null
		git update-index --add --cacheinfo 160000,\$(git -C nested rev-parse HEAD),nested
		git worktree add -q wt 2>&1
		echo done"
	[[ "$output" == *done* ]]
	[[ "$output" != *quarantined* ]]
	[ -d nested/.git ] && [ -f wt/.git ]
	[ "$(git -C nested config user.email)" = a@b ]
	git status --porcelain | grep -q nested
	host_git_runs_nothing nested wt
}

@test "corpus git-host-exec: a repository made from scratch, with a submodule, stays" {
	rm -rf .git
	run_sandboxed "
		git init -q upstream && git -C upstream -c user.email=t@t -c user.name=t commit -q --allow-empty -m s
		git init -q && git config user.name agent && git config user.email a@b
		git -c protocol.file.allow=always submodule add -q $WS/upstream lib/sub 2>&1
		git commit -qm sub && git -C lib/sub config pull.rebase true
		echo done"
	[[ "$output" == *done* ]]
	[[ "$output" != *quarantined* ]]
	[ -d .git ] && [ -f lib/sub/.git ]
	[ "$(git log --oneline | wc -l)" = 1 ]
	host_git_runs_nothing lib/sub
}
