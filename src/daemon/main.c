/* stockaded: parse options, get the listening socket (systemd's, or our own
 * with a tight mode), tell systemd we are ready, run the loop (loop.c). */
#include <getopt.h>
#include <stdarg.h>
#include <stddef.h>
#include <grp.h>
#include <libgen.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "stockade/daemon.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: stockaded [--socket PATH] [--state-dir DIR] [--group GROUP]\n"
		   "                 [--client-buffer SIZE] [--client-timeout SECONDS] [--grace SECONDS]\n"
		   "                 [--operator-uid UID]... [--operator-group GROUP]...\n\n"
		   "The stockade supervisor: JSON-RPC 2.0 over a Unix socket (docs/protocol.md).\n"
		   "  --socket PATH          default $XDG_RUNTIME_DIR/stockade.sock, or\n"
		   "                         /run/stockade/stockade.sock as root\n"
		   "  --state-dir DIR        receipts (other uids get DIR/uid-N)\n"
		   "  --group GROUP          socket mode 0660 for GROUP (default 0600)\n"
		   "  --client-buffer SIZE   output queued per client before it is dropped (4M)\n"
		   "  --client-timeout SECS  a client that reads nothing this long is dropped (30)\n"
		   "  --grace SECS           on SIGTERM, running commands get this long (10)\n"
		   "  --operator-uid UID     may decide escalations (root always may)\n"
		   "  --operator-group GROUP so may the members of GROUP\n"
		   "  --help, --version\n");
}

__attribute__((format(printf, 1, 2))) static int die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "stockaded: ");
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	return SK_EXIT_INTERNAL;
}

/* systemd socket activation: LISTEN_PID is ours and LISTEN_FDS >= 1 -> fd 3. */
static int activated_fd(void)
{
	const char *pid = getenv("LISTEN_PID"), *fds = getenv("LISTEN_FDS");
	uint64_t p, n;
	if (!pid || !fds || sk_parse_u64(pid, &p) < 0 || sk_parse_u64(fds, &n) < 0 || p != (uint64_t)getpid() || n < 1)
		return -1;
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");
	return 3;
}

static void notify_ready(void)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	if (!path || !*path || strlen(path) >= sizeof(sa.sun_path))
		return;
	size_t len = strlen(path);
	memcpy(sa.sun_path, path, len);
	if (sa.sun_path[0] == '@')
		sa.sun_path[0] = '\0';
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	sendto(fd, "READY=1", 7, MSG_NOSIGNAL, (struct sockaddr *)&sa, offsetof(struct sockaddr_un, sun_path) + len);
	close(fd);
}

/* Bind path, refusing to steal a live daemon's socket: the fd, or -1. */
static int listen_on(const char *path, const char *group)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof(sa.sun_path))
		return die("socket path '%s' is too long", path), -1;
	strcpy(sa.sun_path, path);
	char dir[sizeof(sa.sun_path)];
	strcpy(dir, path);
	sk_mkdir_p(dirname(dir), 0755);
	int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (probe >= 0 && connect(probe, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
		close(probe);
		return die("a daemon already listens on '%s'", path), -1;
	}
	if (probe >= 0)
		close(probe);
	unlink(path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	mode_t old = umask(0177);
	int r = fd < 0 ? -1 : bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (r < 0 || listen(fd, 512) < 0)
		return die("cannot listen on '%s': %s", path, strerror(errno)), -1;
	if (group) {
		struct group *g = getgrnam(group);
		if (!g || chown(path, (uid_t)-1, g->gr_gid) < 0 || chmod(path, 0660) < 0)
			return die("cannot give the socket to group '%s'", group), -1;
	}
	return fd;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, 's' }, { "state-dir", required_argument, NULL, 'd' },
		{ "group", required_argument, NULL, 'g' }, { "client-buffer", required_argument, NULL, 'b' },
		{ "client-timeout", required_argument, NULL, 't' }, { "grace", required_argument, NULL, 'G' },
		{ "operator-uid", required_argument, NULL, 'u' }, { "operator-group", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' }, { 0 },
	};
	sk_daemon_options o = { .listen_fd = -1, .client_buffer = 4u << 20, .stall_ms = 30000, .grace_ms = 10000 };
	uid_t op_uids[64];
	gid_t op_gids[64];
	const char *group = NULL;
	char def[4096];
	int c;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		uint64_t v;
		switch (c) {
		case 's': o.socket_path = optarg; break;
		case 'd': o.state_dir = optarg; break;
		case 'g': group = optarg; break;
		case 'b':
			if (sk_parse_size(optarg, &v) < 0 || v < 65536 || v > (1ULL << 32))
				return die("--client-buffer '%s': a size from 64K to 4G", optarg);
			o.client_buffer = v;
			break;
		case 't':
			if (sk_parse_duration_ms(optarg, &v) < 0 || !v || v > 86400000)
				return die("--client-timeout '%s': a duration up to a day", optarg);
			o.stall_ms = (unsigned)v;
			break;
		case 'G':
			if (sk_parse_duration_ms(optarg, &v) < 0 || v > 3600000)
				return die("--grace '%s': a duration up to an hour", optarg);
			o.grace_ms = (unsigned)v;
			break;
		case 'u': {
			struct passwd *pw = getpwnam(optarg);
			if (sk_parse_u64(optarg, &v) < 0 && !pw)
				return die("--operator-uid '%s': not a uid or user name", optarg);
			if (o.n_operator_uids == SK_ARRAY_LEN(op_uids))
				return die("--operator-uid: at most %zu", SK_ARRAY_LEN(op_uids));
			op_uids[o.n_operator_uids++] = pw && sk_parse_u64(optarg, &v) < 0 ? pw->pw_uid : (uid_t)v;
			o.operator_uids = op_uids;
			break;
		}
		case 'o': {
			struct group *g = getgrnam(optarg);
			if (!g && sk_parse_u64(optarg, &v) < 0)
				return die("--operator-group '%s': no such group", optarg);
			if (o.n_operator_gids == SK_ARRAY_LEN(op_gids))
				return die("--operator-group: at most %zu", SK_ARRAY_LEN(op_gids));
			op_gids[o.n_operator_gids++] = g ? g->gr_gid : (gid_t)v;
			o.operator_gids = op_gids;
			break;
		}
		case 'h': usage(stdout); return 0;
		case 'V': printf("stockaded %s\n", STOCKADE_VERSION); return 0;
		default: usage(stderr); return SK_EXIT_INTERNAL;
		}
	}
	if (optind < argc)
		return die("unexpected argument '%s'", argv[optind]);
	if (!o.state_dir && geteuid() == 0)
		o.state_dir = SK_SYSTEM_STATE_DIR;
	if (o.state_dir && sk_mkdir_p(o.state_dir, 0700) < 0)
		return die("cannot create the state directory '%s'", o.state_dir);
	struct stat st;
	/* Other uids' subdirectories are reachable only through the daemon. */
	if (o.state_dir && stat(o.state_dir, &st) == 0 && st.st_uid == geteuid() && (st.st_mode & 077) &&
	    chmod(o.state_dir, 0700) < 0)
		return die("cannot make the state directory '%s' private", o.state_dir);
	o.listen_fd = o.socket_path ? -1 : activated_fd();
	if (o.listen_fd < 0) {
		if (!o.socket_path) {
			const char *rt = getenv("XDG_RUNTIME_DIR");
			if (geteuid() != 0 && !(rt && *rt))
				return die("no --socket and no $XDG_RUNTIME_DIR");
			snprintf(def, sizeof(def), "%s", geteuid() == 0 ? "/run/stockade/stockade.sock" : rt);
			if (geteuid() != 0)
				snprintf(def, sizeof(def), "%s/stockade.sock", rt);
			o.socket_path = def;
		}
		if ((o.listen_fd = listen_on(o.socket_path, group)) < 0)
			return SK_EXIT_INTERNAL;
	}
	o.on_ready = notify_ready;
	sk_error err = { 0 };
	int r = sk_daemon_run(&o, &err);
	if (o.socket_path)
		unlink(o.socket_path);
	if (r < 0)
		return die("%s", err.msg);
	return 0;
}
