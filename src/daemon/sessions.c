/* The daemon's sessions: who owns each, its profile, workspace and env.
 * The session's own state (turns, chains, sticky denials, escalations) is
 * its journal under the owner's state dir, written by the run path; this
 * table is kept in STATE_DIR/daemon/UID.ID.json (0600, the daemon's own
 * directory), so a restarted daemon knows every open session again. */
#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>

#include "internal.h"

uint64_t dmn_wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

dsession *dmn_session_find(dmn *d, const char *id, uid_t uid)
{
	for (dsession *s = d->sessions; s; s = s->next)
		if (s->uid == uid && !strcmp(s->id, id))
			return s;
	return NULL;
}

dsession *dmn_session_lookup(dmn *d, const char *id, int64_t uid, bool *ambiguous)
{
	dsession *found = NULL;
	*ambiguous = false;
	for (dsession *s = d->sessions; s; s = s->next) {
		if (strcmp(s->id, id) || (uid >= 0 && (int64_t)s->uid != uid))
			continue;
		if (found)
			*ambiguous = true;
		found = s;
	}
	return *ambiguous ? NULL : found;
}

void dmn_session_free(dsession *s)
{
	if (!s)
		return;
	free(s->profile);
	free(s->workspace);
	free(s->home);
	json_decref(s->env);
	json_decref(s->escalated_at);
	free(s);
}

dsession *dmn_session_add(dmn *d, const char *id, uid_t uid, gid_t gid, const char *profile, const char *workspace,
			  json_t *env)
{
	dsession *s = calloc(1, sizeof(*s));
	if (!s || strlen(id) > SK_SESSION_ID_MAX || !(s->workspace = strdup(workspace)) ||
	    (profile && !(s->profile = strdup(profile))) || !(s->env = json_is_object(env) ? json_deep_copy(env) : json_object()) ||
	    !(s->escalated_at = json_object())) {
		dmn_session_free(s);
		return NULL;
	}
	strcpy(s->id, id);
	s->uid = uid;
	s->gid = gid;
	s->next = d->sessions;
	d->sessions = s;
	d->n_sessions++;
	return s;
}

static int meta_path(const dmn *d, uid_t uid, const char *id, char *buf, size_t n)
{
	int len = snprintf(buf, n, "%s/daemon/%u.%s.json", d->state, (unsigned)uid, id);
	return len < 0 || (size_t)len >= n ? -ENAMETOOLONG : 0;
}

void dmn_session_remove(dmn *d, dsession *s)
{
	for (dsession **pp = &d->sessions; *pp; pp = &(*pp)->next)
		if (*pp == s) {
			*pp = s->next;
			d->n_sessions--;
			break;
		}
	char path[PATH_MAX];
	if (meta_path(d, s->uid, s->id, path, sizeof(path)) == 0)
		unlink(path);
	dmn_session_free(s);
}

/* Written whole to a temporary file and renamed: a crash leaves the old
 * version or the new one. */
int dmn_session_save(dmn *d, const dsession *s)
{
	char path[PATH_MAX], tmp[PATH_MAX + 8];
	int r = meta_path(d, s->uid, s->id, path, sizeof(path));
	if (r < 0)
		return r;
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	json_t *o = json_pack("{s:s, s:I, s:I, s:s, s:s?, s:O, s:O}", "session", s->id, "uid", (json_int_t)s->uid,
			      "gid", (json_int_t)s->gid, "workspace", s->workspace, "profile", s->profile, "env",
			      s->env, "escalated_at", s->escalated_at);
	char *text = o ? json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	json_decref(o);
	if (!text)
		return -ENOMEM;
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	r = fd < 0 ? -errno : sk_write_all(fd, text, strlen(text));
	free(text);
	if (fd >= 0 && r >= 0 && fsync(fd) < 0)
		r = -errno;
	if (fd >= 0)
		close(fd);
	if (r >= 0 && rename(tmp, path) < 0)
		r = -errno;
	if (r < 0)
		unlink(tmp);
	return r < 0 ? r : 0;
}

static void load_one(dmn *d, const char *path)
{
	json_error_t je;
	json_t *o = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
	const char *id = json_string_value(json_object_get(o, "session"));
	const char *ws = json_string_value(json_object_get(o, "workspace"));
	json_t *uid = json_object_get(o, "uid"), *gid = json_object_get(o, "gid");
	json_t *env = json_object_get(o, "env"), *esc = json_object_get(o, "escalated_at");
	dsession *s = NULL;
	if (id && ws && sk_session_id_valid(id) && json_is_integer(uid) && json_is_integer(gid) && (!env || json_is_object(env) || json_is_null(env)) &&
	    !dmn_session_find(d, id, (uid_t)json_integer_value(uid)))
		s = dmn_session_add(d, id, (uid_t)json_integer_value(uid), (gid_t)json_integer_value(gid),
				    json_string_value(json_object_get(o, "profile")), ws, env);
	if (s && json_is_object(esc))
		json_object_update(s->escalated_at, esc);
	if (!s)
		fprintf(stderr, "stockaded: %s: not a session file (line %d: %s); ignored\n", path, je.line,
			o ? "missing or bad fields" : je.text);
	json_decref(o);
}

void dmn_sessions_load(dmn *d)
{
	char dir[PATH_MAX + 8];
	snprintf(dir, sizeof(dir), "%s/daemon", d->state);
	if (sk_mkdir_p(dir, 0700) < 0)
		return;
	chmod(dir, 0700);
	DIR *dh = opendir(dir);
	struct dirent *e;
	while (dh && (e = readdir(dh))) {
		size_t n = strlen(e->d_name);
		if (n < 6 || strcmp(e->d_name + n - 5, ".json") || e->d_name[0] == '.')
			continue;
		char path[PATH_MAX + 8 + 257];
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		load_one(d, path);
	}
	if (dh)
		closedir(dh);
}

/* Another uid's sessions and receipts go to its own subdirectory, which it
 * owns; the daemon's state dir stays 0700, so only the daemon (and the
 * workers it hands a descriptor) can reach it. */
int dmn_state_dir_for(dmn *d, uid_t uid, gid_t gid, char *buf, size_t n)
{
	int len = uid == geteuid() ? snprintf(buf, n, "%s", d->state)
				   : snprintf(buf, n, "%s/uid-%u", d->state, (unsigned)uid);
	if (len < 0 || (size_t)len >= n)
		return -ENAMETOOLONG;
	if (uid == geteuid())
		return 0;
	if (geteuid() != 0)
		return -EPERM;
	if (mkdir(buf, 0700) < 0 && errno != EEXIST)
		return -errno;
	struct stat st;
	if (lstat(buf, &st) < 0 || !S_ISDIR(st.st_mode))
		return -ENOTDIR;
	if ((st.st_uid != uid || st.st_gid != gid) && chown(buf, uid, gid) < 0)
		return -errno;
	return 0;
}

/* An operator's peer runs in the daemon's own pid namespace.  No stockade
 * sandbox does (each has a pid namespace of its own), whatever name of the
 * socket it reached: a command cannot approve its own escalation.  Unknown
 * (the peer is gone, in another namespace: pid 0, or out of reach): no. */
bool dmn_peer_in_our_pidns(pid_t pid)
{
	char path[64];
	struct stat mine, theirs;
	if (pid <= 0)
		return false;
	snprintf(path, sizeof(path), "/proc/%d/ns/pid", (int)pid);
	return stat("/proc/self/ns/pid", &mine) == 0 && stat(path, &theirs) == 0 && mine.st_dev == theirs.st_dev &&
	       mine.st_ino == theirs.st_ino;
}

bool dmn_is_operator(const dmn *d, uid_t uid, gid_t gid, int fd)
{
	if (uid == 0)
		return true;
	for (size_t i = 0; i < d->o->n_operator_uids; i++)
		if (d->o->operator_uids[i] == uid)
			return true;
	if (!d->o->n_operator_gids)
		return false;
	gid_t groups[256];
	socklen_t len = sizeof(groups);
	size_t n = 0;
	if (fd >= 0 && getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) == 0)
		n = len / sizeof(gid_t);
	for (size_t i = 0; i < d->o->n_operator_gids; i++) {
		if (d->o->operator_gids[i] == gid)
			return true;
		for (size_t k = 0; k < n; k++)
			if (groups[k] == d->o->operator_gids[i])
				return true;
	}
	return false;
}
