/* probe: tries one forbidden operation per argument and prints
 * "<name> ok" or "<name> <errno name>".  Run inside the sandbox by the
 * integration tests, and outside as a control. */
#include <errno.h>
#include <fcntl.h>
#include <linux/keyctl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/netlink.h>

static const char *ename(int e)
{
	switch (e) {
	case 0: return "ok";
	case EPERM: return "EPERM";
	case EACCES: return "EACCES";
	case ENOSYS: return "ENOSYS";
	case EINVAL: return "EINVAL";
	case EAFNOSUPPORT: return "EAFNOSUPPORT";
	case ENOENT: return "ENOENT";
	case EBADF: return "EBADF";
	case ENOTTY: return "ENOTTY";
	case EFAULT: return "EFAULT";
	case ECONNREFUSED: return "ECONNREFUSED";
	case ENETUNREACH: return "ENETUNREACH";
	default: return strerror(e);
	}
}

static int r(long v) { return v < 0 ? errno : 0; }

static int try(const char *what)
{
	if (!strcmp(what, "ptrace")) {
		pid_t c = fork();
		if (c == 0) { pause(); _exit(0); }
		int e = r(ptrace(PTRACE_ATTACH, c, 0, 0));
		kill(c, SIGKILL);
		waitpid(c, NULL, 0);
		return e;
	}
	if (!strcmp(what, "mount")) return r(mount("none", "/tmp", "tmpfs", 0, NULL));
	if (!strcmp(what, "unshare")) return r(unshare(CLONE_NEWUSER));
	if (!strcmp(what, "clone-newns")) {
		long c = syscall(SYS_clone, CLONE_NEWNS | SIGCHLD, 0, 0, 0, 0);
		if (c == 0) _exit(0);
		if (c > 0) { waitpid((pid_t)c, NULL, 0); return 0; }
		return errno;
	}
	if (!strcmp(what, "clone3")) return r(syscall(SYS_clone3, NULL, 0));
	if (!strcmp(what, "io_uring")) {
		char params[120] = { 0 };
		return r(syscall(SYS_io_uring_setup, 4, params));
	}
	if (!strcmp(what, "keyctl")) return r(syscall(SYS_keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0));
	if (!strcmp(what, "tiocsti")) {
		char c = 'x';
		int fd = open("/dev/tty", O_RDWR);
		int e = r(ioctl(fd >= 0 ? fd : 0, TIOCSTI, &c));
		if (fd >= 0) close(fd);
		return e;
	}
	if (!strcmp(what, "bpf")) return r(syscall(SYS_bpf, 0, NULL, 0));
	if (!strcmp(what, "perf")) return r(syscall(SYS_perf_event_open, NULL, 0, -1, -1, 0));
	if (!strcmp(what, "userfaultfd")) return r(syscall(SYS_userfaultfd, 0));
	if (!strcmp(what, "personality")) return r(personality(READ_IMPLIES_EXEC));
	if (!strcmp(what, "af_packet")) return r(socket(AF_PACKET, SOCK_RAW, 0));
	if (!strcmp(what, "raw")) return r(socket(AF_INET, SOCK_RAW, 1));
	if (!strcmp(what, "netlink-audit")) return r(socket(AF_NETLINK, SOCK_RAW, NETLINK_AUDIT));
	if (!strcmp(what, "netlink-route")) return r(socket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE));
	if (!strcmp(what, "open_by_handle")) return r(syscall(SYS_open_by_handle_at, AT_FDCWD, NULL, 0));
	if (!strcmp(what, "chroot")) return r(chroot("/tmp"));
	fprintf(stderr, "probe: unknown probe %s\n", what);
	return -1;
}

int main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		int e = try(argv[i]);
		if (e < 0)
			return 2;
		printf("%s %s\n", argv[i], ename(e));
	}
	return 0;
}
