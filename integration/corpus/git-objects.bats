#!/usr/bin/env bats
# Bypass family: a copy of a secret file in git's object store.  Found
# 2026-12-07 (session 12): with .env committed (by mistake, as it often
# is), `git show HEAD:.env | rev` printed the secret reversed.  The file
# itself is hidden and denied, but git keeps its content compressed in a
# loose object or a pack: no fingerprint of the file's bytes matches there,
# and the redactor knows encodings, not transformations.
# Fixed: before the run, the secret files the workspace's index tracks are
# looked up by their object id among the loose objects and in the packs;
# an open of a file holding one is decided as that secret's content
# (`secret_content`, the same chain as the file's).  So git cannot read
# those objects (nor anything else in a pack that holds one: docs).

bats_require_minimum_version 1.5.0
load corpus

setup() {
	corpus_setup
	commit_dotenv
}
teardown() { corpus_teardown; }

@test "corpus git-objects: a committed secret is not read back from a loose object" {
	turn 'git show HEAD:.env | rev'
	turn 'git cat-file -p $(git rev-parse HEAD:.env) | tr a-z A-Z | rev'
	turn '/usr/bin/python3 -c "
import zlib, subprocess
oid = subprocess.run([\"git\", \"rev-parse\", \"HEAD:.env\"], capture_output=True, text=True).stdout.strip()
print(zlib.decompress(open(\".git/objects/%s/%s\" % (oid[:2], oid[2:]), \"rb\").read())[::-1])"'
	assert_no_canary
	assert_receipted
	[[ "$ALL_OUT" == *"ermission denied"* || "$ALL_OUT" == *"corrupt"* ]]
	# stockade says why, git does not.
	[[ "$ALL_OUT" == *"history holds a secret file"* ]]
}

@test "corpus git-objects: a committed secret is not read back from a pack" {
	git gc -q
	[ -z "$(find .git/objects -type f -path '*/objects/??/*')" ]
	turn 'git show HEAD:.env | rev'
	turn '/usr/bin/python3 -c "
import glob, zlib
d = open(glob.glob(\".git/objects/pack/*.pack\")[0], \"rb\").read()
out = []
for i in range(len(d)):
    try: out.append(zlib.decompressobj().decompress(d[i:i + 4096]))
    except Exception: pass
print(b\"\".join(out)[::-1])"'
	assert_no_canary
	assert_receipted
}

@test "corpus git-objects: a repository without a committed secret is read as usual" {
	rm -rf .git .env
	git init -q . && git config user.email a@b && git config user.name a
	printf 'hello\n' > README && git add README && git commit -qm readme && git gc -q
	run "$STOCKADE" run --state-dir "$STATE" -- sh -c 'git show HEAD:README; git log --oneline | wc -l'
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "hello" ]
	[ "${lines[1]}" = "1" ]
}

# Found 2026-12-07 (session 12, review of the fix): only the workspace's
# own repository was looked at; a secret committed in a nested repository
# (a submodule's worktree, a vendored repo) was read back from its objects.
# Fixed: each secret file is looked up in the repository of its own
# worktree (the nearest .git above it).
@test "corpus git-objects: a secret committed in a nested repository is not read back either" {
	rm -rf .git .env
	mkdir -p vendor/lib
	(cd vendor/lib && git init -q . && git config user.email a@b && git config user.name a &&
		printf 'DB_HOST=db\nAPI_KEY=%s\n' "$CANARY" > .env && git add -f .env && git commit -qm env)
	turn 'cd vendor/lib && git show HEAD:.env | rev'
	assert_no_canary
	assert_receipted
}

# Found 2026-12-08 (session 13): a secret that git keeps but that is no
# longer a file of the worktree.  The fix above looked up only the objects
# of secret files that exist, through the index; a .env deleted from the
# worktree (still tracked), one removed in a later commit, and an older
# version of one that was rewritten all left blobs that `git show` and
# `git log -p` printed.  The cases were committed skipped, saying so, and
# each printed the canary reversed when run on that build.  Fixed the same
# day: a reader of git's history (refs, reflogs, commits, trees, packed
# objects and their deltas: src/cli/git_history.c, git_objects.c) finds
# every blob that stood at a secret's name; each is a secret content of
# the run and the objects holding it carry it.
@test "corpus git-objects: a committed .env deleted from the worktree is not read back" {
	rm .env
	turn 'git show HEAD:.env | rev'
	assert_no_canary
}

@test "corpus git-objects: a .env removed in a later commit is not read back from the log" {
	git rm -q --cached .env && git commit -qm 'remove .env'
	rm .env
	turn 'git log -p | grep API_KEY | rev'
	assert_no_canary
}

@test "corpus git-objects: an older version of a committed .env is not read back" {
	OLD=$CANARY
	printf 'DB_HOST=db\nAPI_KEY=rotated-%s\n' "$(od -An -N8 -tx8 /dev/urandom | tr -d ' ')" > .env
	git add -f .env && git commit -qm rotate
	turn 'git show HEAD~1:.env | rev'
	CANARY=$OLD
	assert_no_canary
}

# nested_repo_removed_env: no repository at the top; vendor/lib one that
# committed a .env holding $CANARY and removed it (only its history keeps it).
nested_repo_removed_env() {
	rm -rf .git .env
	mkdir -p vendor/lib
	(cd vendor/lib && git init -q . && git config user.email a@b && git config user.name a &&
		printf 'DB_HOST=db\nAPI_KEY=%s\n' "$CANARY" > .env && git add -f .env && git commit -qm env &&
		git rm -q --cached .env && git commit -qm 'remove .env' && rm .env)
}

# Found 2026-12-08 in review of the history fix: only the workspace's own
# repository's history was walked; a nested repository (vendored, a
# submodule's worktree) that once committed a .env and removed it kept the
# blob, and `git log -p` there printed it.  Fixed: the repositories the
# check after a run found below the workspace are walked too (from the
# next run on: the first run of a workspace knows only its own).
@test "corpus git-objects: a secret removed from a nested repository's history is not read back" {
	nested_repo_removed_env
	turn 'true'
	turn 'cd vendor/lib && git log -p | grep API_KEY | rev'
	assert_no_canary
}

# Found 2026-12-08 (session 14), the gap the case above left: in the first
# run of a workspace no check after a run had yet found the nested
# repository, so its history was not walked, and `git log -p` there printed
# the removed .env's secret.
@test "corpus git-objects: a nested repository's history is walked in the workspace's first run" {
	nested_repo_removed_env
	turn 'cd vendor/lib && git log -p | grep API_KEY | rev'
	assert_no_canary
}

# Found 2026-12-08 (session 14): a value of a secret file that only git's
# history keeps (the .env deleted from the worktree, or rotated since) was
# looked for nowhere else: its blob was known by fingerprint, but a file
# holding the old token (a config the agent never opened as .env) was read
# and printed as it is.  (Each case uses a token of its own: $CANARY is
# also in the fake HOME's AWS credentials, a secret file of every run.)
history_token() {
	TOKEN="hist$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"
	printf 'DB_HOST=db\nAPI_KEY=%s\n' "$TOKEN" > .env
	git add -f .env && git commit -qm token
	mkdir -p config
	printf 'api:\n  key: %s\n' "$TOKEN" > config/app.yml
}

@test "corpus git-objects: a value of a .env that only the history keeps is not read from another file" {
	history_token
	rm .env
	turn 'rev config/app.yml'
	CANARY=$TOKEN
	assert_no_canary
}

@test "corpus git-objects: an old value of a rotated .env is not read from another file" {
	history_token
	printf 'DB_HOST=db\nAPI_KEY=rotated%s\n' "$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')" > .env
	git add -f .env && git commit -qm rotate
	turn 'rev config/app.yml'
	CANARY=$TOKEN
	assert_no_canary
}

# Found 2026-12-08 (session 14): `git add .env` undone with `git reset`
# (the .env never committed, no longer in the index) leaves the .env's blob
# in the object store, unreachable; `git fsck --unreachable` names it and
# `git cat-file -p` printed it.  Neither the index nor the history knew
# that object.  Fixed: the object id of each secret file's current content
# (as `git hash-object` computes it) is looked for too.
@test "corpus git-objects: a .env added and reset (an unreachable blob) is not read back" {
	git rm -q --cached .env && git commit -qm 'untrack .env'
	printf 'DB_HOST=db\nAPI_KEY=%s\n' "$CANARY" > .env
	git add -f .env && git reset -q .env
	turn 'for o in $(git fsck --unreachable --no-reflogs 2>/dev/null | awk "/blob/ {print \$3}"); do git cat-file -p $o | rev; done'
	assert_no_canary
}

# Found 2026-12-08 (session 14): a token pasted into an ordinary file
# (config/app.yml, no secret name) and committed is in git's objects,
# compressed; `rev config/app.yml` is refused (the file holds a secret's
# value), but `git show HEAD:config/app.yml | rev` read the loose object.
# Fixed: a zlib stream (a loose object) is read for values through what
# it holds, as a gzip file is; the pack case below.
@test "corpus git-objects: a secret's value committed in an ordinary file is not read back from its loose object" {
	mkdir -p config
	printf 'api:\n  key: %s\n' "$CANARY" > config/app.yml
	git add config && git commit -qm config
	turn 'git show HEAD:config/app.yml | rev'
	turn 'git log -p | rev | grep yek'
	assert_no_canary
}

# Found 2026-12-08 (session 14), the same after `git gc` (or in a clone):
# the blob is in a pack, where the supervisor's reading of files cannot
# find the token (many zlib streams, deltas).  Fixed: before the run every
# blob of each pack is read (once per pack and set of values, kept in the
# cache), and a pack holding a value carries that secret.
@test "corpus git-objects: a secret's value committed in an ordinary file is not read back from a pack" {
	rm -rf .git   # a repository that never held the .env itself
	git init -q . && git config user.email a@b && git config user.name a
	printf '.env\n' > .gitignore
	mkdir -p config
	printf 'api:\n  key: %s\n' "$CANARY" > config/app.yml
	git add .gitignore config && git commit -qm config && git gc -q
	[ -z "$(find .git/objects -type f -path '*/objects/??/*')" ]   # all packed
	turn 'git show HEAD:config/app.yml | rev'
	turn 'git show HEAD:config/app.yml | rev'   # the second from the cache
	assert_no_canary
	ls "$HOME/.cache/stockade/git-values/"* >/dev/null
}
