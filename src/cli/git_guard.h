/* Repositories the host's git would enter from the workspace, checked
 * after each run (git_guard.c); the walk that finds every .git entry
 * (git_walk.c); and the two pure readers they stand on: which config keys
 * git itself writes (git_allow.c) and which index entries are gitlinks
 * (git_index.c). */
#ifndef STOCKADE_CLI_GIT_GUARD_H
#define STOCKADE_CLI_GIT_GUARD_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "stockade/util.h"

/* 0 when every line of text (a git config file) is one git itself would
 * write (blank, comment, [section], [section "sub"], key, key = value)
 * and every key is one that git's own commands set to plain data (core
 * basics, remotes, branches, submodule urls, user identity, ...: no
 * command, no hook path, no include).  1 otherwise, with why saying which
 * key or line.  Strict on purpose: what it cannot read is not clean. */
int sk_git_config_check(const char *text, size_t len, char *why, size_t why_len);

/* The object format's hash length for a repository whose config is text
 * (20 for sha1, 32 for extensions.objectformat = sha256). */
size_t sk_git_hash_len(const char *text, size_t len);

/* Calls fn with the path of every gitlink (mode 160000) entry of an index
 * file (versions 2 to 4; hash_len bytes per object id).  When the index is
 * split, *shared gets the shared index's name (hex; "" when none) so the
 * caller reads that one too.  Returns the number of gitlinks, or -EINVAL
 * for an index this reader does not understand, or fn's negative value. */
typedef int (*sk_gitlink_fn)(void *ctx, const char *path, size_t len);
int sk_git_index_gitlinks(const unsigned char *buf, size_t len, size_t hash_len, char shared[65],
			  sk_gitlink_fn fn, void *ctx);
/* The same reader, every entry: fn gets its path, mode and object id
 * (hash_len bytes) and returns what to add to the count (or a negative
 * value that stops the read and is returned). */
typedef int (*sk_git_entry_fn)(void *ctx, const char *path, size_t len, uint32_t mode, const unsigned char *oid);
int sk_git_index_entries(const unsigned char *buf, size_t len, size_t hash_len, char shared[65],
			 sk_git_entry_fn fn, void *ctx);

/* The repository git enters from worktree's .git: its git and common
 * directories, object store and hash length.  1; 0 when none. */
typedef struct sk_git_repo {
	char gitdir[PATH_MAX], common[PATH_MAX], objects[PATH_MAX + 16];
	size_t hash_len;
} sk_git_repo;
int sk_git_repository_of(const char *worktree, sk_git_repo *repo);

/* Files of the worktree's repository's object store that hold a tracked
 * secret file's content (git_carriers.c): secret is its index in the
 * caller's list.  Loose objects and packs (by their .idx, version 2); the
 * index's lookup is kept in cache_dir (NULL: none).  0, or a negative
 * errno. */
typedef struct sk_git_carrier {
	uint64_t dev, ino;
	size_t secret;
} sk_git_carrier;
int sk_git_secret_carriers(const char *cache_dir, const char *workspace, const char *const *secrets,
			   size_t n_secrets, sk_git_carrier **out, size_t *n_out);
/* Whether a pack index (version 2) lists the object id; _find also gives
 * its offset in the pack (offset may be NULL). */
bool sk_git_idx_has(const unsigned char *idx, size_t len, size_t hash_len, const unsigned char *oid);
bool sk_git_idx_find(const unsigned char *idx, size_t len, size_t hash_len, const unsigned char *oid,
		     uint64_t *offset);
/* The file of a loose object: objects/XX/YYYY...; 0 or -ENAMETOOLONG. */
int sk_git_loose_path(const char *objects, const unsigned char *oid, size_t hash_len, char *out, size_t cap);

/* git_objects.c: read objects of a repository's store (loose, packed,
 * deltas resolved).  Types: 1 commit, 2 tree, 3 blob, 4 tag. */
#define SK_GIT_OBJECT_MAX (64u << 20)
typedef struct sk_git_odb sk_git_odb;
int sk_git_odb_open(const char *objects, size_t hash_len, sk_git_odb **out);
void sk_git_odb_close(sk_git_odb *db);
/* 0 and the content (malloc'd) of oid, -ENOENT when it is not there (or
 * not in a form this reader knows), negative errno. */
int sk_git_odb_read(sk_git_odb *db, const unsigned char *oid, int *type, unsigned char **data, size_t *len);
/* The packs it maps, and of pack i the object ids its index (version 2)
 * lists and the pack's checksum (hash_len bytes); -ENOENT for an index
 * this reader does not know. */
size_t sk_git_odb_n_packs(const sk_git_odb *db);
int sk_git_odb_pack_ids(const sk_git_odb *db, size_t i, const unsigned char **oids, size_t *n,
			const unsigned char **checksum);

/* git_history.c: the blobs that stood at a secret's name in any commit
 * reachable from the repository's refs, its reflogs and HEAD.  secret()
 * gets the path relative to the worktree's top.  Bounded (commits and
 * trees read): *partial says the walk stopped short.  Kept in cache_dir
 * (NULL: none) under the digest of the refs and reflogs, per repository
 * and `names` (what identifies secret(): the profile's digest). */
typedef bool (*sk_git_secret_name_fn)(void *ctx, const char *path);
typedef struct sk_git_history_blob {
	unsigned char oid[32];
	char content[SK_FINGERPRINT_LEN + 1];   /* "content:sha256:HEX" of the blob */
	uint64_t size;
} sk_git_history_blob;
int sk_git_history_secrets(const char *cache_dir, const char *gitdir, const char *common, size_t hash_len,
			   const char *names, sk_git_secret_name_fn secret, void *ctx, sk_git_history_blob **out,
			   size_t *n_out, bool *partial);
/* The files of the store holding any of the objects (loose, or a pack
 * listing one): secret is the object's index. */
int sk_git_object_carriers(const char *objects, size_t hash_len, const unsigned char (*oids)[32], size_t n,
			   struct sk_git_carrier **out, size_t *n_out);

/* The workspace walk for .git entries (git_walk.c). */
typedef struct sk_git_known {
	char *path;                        /* relative to the workspace: DIR/.git */
	uint64_t dev, ino, gdev, gino;     /* the entry and its git directory, as the memo had them */
	bool known;                        /* the memo had this entry */
	/* Filled by the caller for sk_git_walk_save: */
	bool judged;                       /* looked at in this check */
	bool keep;                         /* still there, and clean or trusted */
	uint64_t now_dev, now_ino, now_gdev, now_gino;
} sk_git_known;

typedef struct sk_git_walk_result {
	sk_git_known *entries;
	size_t n, cap;
	int64_t memo_ns;         /* when the last walk began (INT64_MIN: none) */
	int64_t pending_ns;      /* the earliest start of a run not yet checked: changes at or after it are judged */
	bool overflow;           /* more directories than are walked: some not looked at */
	void *next;              /* the memo this walk makes; stored by sk_git_walk_save */
	char *memo;              /* the workspace's directory in the cache */
	bool other_runs;         /* run files besides this run's: some may be left by stopped runs */
	bool have_old;           /* a memo was read: old_body digests all but its time */
	unsigned char old_body[16];
} sk_git_walk_result;

struct stat;
int64_t sk_git_now_ns(void);
/* The repositories the last check found below root: their .git entries,
 * relative, one per line (*text malloc'd; NULL when none is known). */
void sk_git_walk_repos(const char *cache_dir, const char *root, char **text);
int64_t sk_git_ctime_ns(const struct stat *st);
/* Before a run: its run file (run_file gets its path), which stays until
 * its check is done. */
int sk_git_walk_prepare(const char *cache_dir, const char *root, int64_t start_ns, char run_file[PATH_MAX]);
int sk_git_walk(const char *cache_dir, const char *root, int64_t run_start_ns, sk_git_walk_result *out);
/* The memo, with the entries marked keep as they are now; then the run's
 * file (and those of runs stopped before their check) goes. */
int sk_git_walk_save(sk_git_walk_result *r, const char *run_file);
void sk_git_walk_free(sk_git_walk_result *r);

enum { SK_GIT_QUARANTINE_MAX = 64 };

typedef struct sk_git_quarantine {
	char path[PATH_MAX];     /* relative to the workspace, as it was */
	char moved_to[PATH_MAX]; /* where it is now; "" when it could not be moved */
	char why[160];
} sk_git_quarantine;

/* Before the run: the git directories whose config and hooks the sandbox
 * saw read-only (their realpaths), and the workspace.  After: what was
 * moved aside. */
typedef struct sk_git_guard {
	char workspace[PATH_MAX];
	char **trusted;
	size_t n_trusted, cap_trusted;
	const char *cache_dir;   /* where the walk's memo is kept (NULL: none) */
	int64_t start_ns;        /* when the run began (sk_git_now_ns) */
	char run_file[PATH_MAX]; /* sk_git_walk_prepare's */
	sk_git_quarantine *q;    /* what was moved aside (or could not be) */
	size_t n_q, cap_q;
	size_t n_unlisted;       /* moved aside beyond SK_GIT_QUARANTINE_MAX listed */
	bool overflow;           /* directories beyond the walk's limits: not all looked at */
} sk_git_guard;

/* The git directory the .git entry at path leads git to, and its common
 * directory ("" when none), resolved as git resolves them: 1; 0 when git
 * could not enter it either; -1 when only through a /proc magic link. */
int sk_git_entry_dirs(const char *path, char gitdir[PATH_MAX], char common[PATH_MAX]);

/* A git directory whose config (and commondir, config.worktree, hooks)
 * is bound read-only in the sandbox: its config is the caller's own. */
int sk_git_guard_trust(sk_git_guard *g, const char *gitdir);

/* After the run, with none of the command's processes left: every
 * repository git could enter from the workspace (its .git, the gitlinks
 * of its index, theirs in turn, every other .git entry the walk finds),
 * each commondir and config.worktree: one that is neither the caller's
 * own nor unchanged since a sandbox could write, and whose config or
 * hooks could run code, is moved aside (NAME.stockade-quarantined) and
 * listed in g->q. */
void sk_git_guard_check(sk_git_guard *g);
void sk_git_guard_free(sk_git_guard *g);

#endif
