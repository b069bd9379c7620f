/* The seccomp filter (libseccomp): syscalls an agent command has no
 * business making fail with EPERM — not a kill, so tools degrade and say
 * why.  One table; profiles add names to it or take names out of it. */
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <linux/sched.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include "internal.h"


#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

/* The one table.  Entries with a handler below are denied only for some
 * arguments; the rest are denied outright. */
static const sk_syscall_rule denies[] = {
	{ "ptrace", "inspect or control another process" },
	{ "process_vm_readv", "read another process's memory" },
	{ "process_vm_writev", "write another process's memory" },
	{ "mount", "change the mount tree" },
	{ "umount2", "change the mount tree" },
	{ "pivot_root", "change the root" },
	{ "move_mount", "change the mount tree" },
	{ "open_tree", "clone mounts" },
	{ "fsopen", "new mount API" },
	{ "fsconfig", "new mount API" },
	{ "fsmount", "new mount API" },
	{ "fspick", "new mount API" },
	{ "mount_setattr", "change mount flags" },
	{ "unshare", "new namespaces" },
	{ "setns", "enter other namespaces" },
	{ "keyctl", "kernel keyrings hold credentials" },
	{ "add_key", "kernel keyrings hold credentials" },
	{ "request_key", "kernel keyrings hold credentials" },
	{ "bpf", "eBPF programs" },
	{ "perf_event_open", "performance counters leak and attack surface" },
	{ "userfaultfd", "a race-widening primitive for kernel exploits" },
	{ "io_uring_setup", "io_uring bypasses syscall filtering" },
	{ "io_uring_enter", "io_uring bypasses syscall filtering" },
	{ "io_uring_register", "io_uring bypasses syscall filtering" },
	{ "open_by_handle_at", "opens files by handle, past the mount tree" },
	{ "name_to_handle_at", "file handles, pair of open_by_handle_at" },
	{ "kexec_load", "load a new kernel" },
	{ "kexec_file_load", "load a new kernel" },
	{ "init_module", "load kernel modules" },
	{ "finit_module", "load kernel modules" },
	{ "delete_module", "unload kernel modules" },
	{ "reboot", "reboot the machine" },
	{ "swapon", "swap configuration" },
	{ "swapoff", "swap configuration" },
	{ "acct", "process accounting" },
	{ "socketcall", "multiplexed socket calls hide their arguments (32-bit)" },
	{ "clone", "with namespace flags: new namespaces" },
	{ "clone3", "ENOSYS: its flags are out of seccomp's reach; libc falls back to clone" },
	{ "personality", "other than the default: ASLR off, READ_IMPLIES_EXEC" },
	{ "ioctl", "TIOCSTI / TIOCLINUX: type into the terminal" },
	{ "socket", "AF_PACKET, SOCK_RAW, netlink other than NETLINK_ROUTE, exotic families" },
};

const sk_syscall_rule *sk_seccomp_default_denies(size_t *n)
{
	*n = SK_ARRAY_LEN(denies);
	return denies;
}

static bool listed(const char *name, const char *const *names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(name, names[i]))
			return true;
	return false;
}

#define EPERM_ACT SCMP_ACT_ERRNO(EPERM)

static int deny_clone_namespaces(scmp_filter_ctx ctx)
{
	static const uint64_t flags[] = {
		CLONE_NEWNS, CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET, CLONE_NEWIPC,
		CLONE_NEWUTS, CLONE_NEWCGROUP, CLONE_NEWTIME,
	};
	for (size_t i = 0; i < SK_ARRAY_LEN(flags); i++) {
		int r = seccomp_rule_add(ctx, EPERM_ACT, SCMP_SYS(clone), 1,
					 SCMP_A0(SCMP_CMP_MASKED_EQ, flags[i], flags[i]));
		if (r < 0)
			return r;
	}
	return 0;
}

static int deny_clone3(scmp_filter_ctx ctx)
{
	return seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0);
}

/* personality(): only 0 (PER_LINUX) and the query 0xffffffff.  libseccomp
 * cannot AND two tests on one argument, so the complement is written as a
 * union: a 32-bit value that is neither all zeros nor all ones has a bit i
 * set whose (cyclic) neighbour i+1 is clear; plus any value above 32 bits. */
static int deny_personality(scmp_filter_ctx ctx)
{
	for (unsigned i = 0; i < 32; i++) {
		uint64_t set = 1ULL << i, clear = 1ULL << ((i + 1) % 32);
		int r = seccomp_rule_add(ctx, EPERM_ACT, SCMP_SYS(personality), 1,
					 SCMP_A0(SCMP_CMP_MASKED_EQ, set | clear, set));
		if (r < 0)
			return r;
	}
	return seccomp_rule_add(ctx, EPERM_ACT, SCMP_SYS(personality), 1,
				SCMP_A0(SCMP_CMP_GT, 0xffffffffULL));
}

static int deny_terminal_injection(scmp_filter_ctx ctx)
{
	static const uint64_t reqs[] = { TIOCSTI, TIOCLINUX };
	for (size_t i = 0; i < SK_ARRAY_LEN(reqs); i++) {
		int r = seccomp_rule_add(ctx, EPERM_ACT, SCMP_SYS(ioctl), 1,
					 SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffULL, reqs[i]));
		if (r < 0)
			return r;
	}
	return 0;
}

/* Families a command may use: unix (1), inet (2), inet6 (10), netlink (16,
 * route only).  The rest, as few single-test rules as cover them. */
static int deny_socket_families(scmp_filter_ctx ctx)
{
	int r;
	for (int fam = 0; fam < AF_NETLINK; fam++) {
		if (fam == AF_UNIX || fam == AF_INET || fam == AF_INET6)
			continue;
		if ((r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EAFNOSUPPORT), SCMP_SYS(socket), 1,
					  SCMP_A0(SCMP_CMP_EQ, (uint64_t)fam))) < 0)
			return r;
	}
	if ((r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EAFNOSUPPORT), SCMP_SYS(socket), 1,
				  SCMP_A0(SCMP_CMP_GT, (uint64_t)AF_NETLINK))) < 0)
		return r;
	/* Raw and packet sockets of inet: forged packets.  (Netlink's usual
	 * type is SOCK_RAW, so the type test is per family.) */
	static const int inet[] = { AF_INET, AF_INET6 };
	static const int raw_types[] = { SOCK_RAW, SOCK_PACKET };
	for (size_t i = 0; i < SK_ARRAY_LEN(inet); i++)
		for (size_t j = 0; j < SK_ARRAY_LEN(raw_types); j++)
			if ((r = seccomp_rule_add(ctx, EPERM_ACT, SCMP_SYS(socket), 2,
						  SCMP_A0(SCMP_CMP_EQ, (uint64_t)inet[i]),
						  SCMP_A1(SCMP_CMP_MASKED_EQ, 0xf, (uint64_t)raw_types[j]))) < 0)
				return r;
	return seccomp_rule_add(ctx, EPERM_ACT, SCMP_SYS(socket), 2,
				SCMP_A0(SCMP_CMP_EQ, AF_NETLINK),
				SCMP_A2(SCMP_CMP_NE, 0 /* NETLINK_ROUTE */));
}

static const struct {
	const char *name;
	int (*add)(scmp_filter_ctx ctx);
} conditional[] = {
	{ "clone", deny_clone_namespaces }, { "clone3", deny_clone3 },
	{ "personality", deny_personality }, { "ioctl", deny_terminal_injection },
	{ "socket", deny_socket_families },
};

static int add_plain(scmp_filter_ctx ctx, const char *name, sk_error *err)
{
	int nr = seccomp_syscall_resolve_name(name);
	if (nr == __NR_SCMP_ERROR)
		return sk_fail(err, EINVAL, "unknown syscall '%s' in the seccomp deny list", name);
	int r = seccomp_rule_add(ctx, EPERM_ACT, nr, 0);
	/* -EACCES/-EEXIST: already covered; a syscall absent on an ABI is fine. */
	if (r < 0 && r != -EEXIST && r != -EACCES && r != -EDOM)
		return sk_fail_errno(err, -r, "cannot add seccomp rule for %s", name);
	return 0;
}

int sk_seccomp_build(const sk_sandbox_config *cfg, scmp_filter_ctx *out, sk_error *err)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
	int r;
	if (!ctx)
		return sk_fail(err, ENOMEM, "cannot create the seccomp filter");
	/* A binary tree of syscall numbers instead of a linear list: every
	 * syscall of the command (and of the supervisor) pays for the filter. */
	seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);
	/* The i386 ABI first, so every rule below covers it too.  x32 is not
	 * added: libseccomp then kills x32 syscalls (the bad-arch action), as
	 * it does any foreign architecture — closed, not open. */
	if ((r = seccomp_arch_add(ctx, SCMP_ARCH_X86)) < 0 && r != -EEXIST)
		goto fail;
	for (size_t i = 0; i < SK_ARRAY_LEN(denies); i++) {
		if (listed(denies[i].name, cfg->allow_syscalls, cfg->n_allow_syscalls))
			continue;
		/* The supervisor (init) reads the command's memory (and writes
		 * back what a call it makes for the command returns there:
		 * sendmmsg's msg_len); the command gets these rules in its own,
		 * stacked filter instead. */
		if (cfg->sup.enabled &&
		    (!strcmp(denies[i].name, "process_vm_readv") || !strcmp(denies[i].name, "process_vm_writev")))
			continue;
		int (*add)(scmp_filter_ctx) = NULL;
		for (size_t j = 0; j < SK_ARRAY_LEN(conditional); j++)
			if (!strcmp(conditional[j].name, denies[i].name))
				add = conditional[j].add;
		if (add && (r = add(ctx)) < 0)
			goto fail;
		if (!add && (r = add_plain(ctx, denies[i].name, err)) < 0) {
			seccomp_release(ctx);
			return r;
		}
	}
	for (size_t i = 0; i < cfg->n_deny_syscalls; i++)
		if ((r = add_plain(ctx, cfg->deny_syscalls[i], err)) < 0) {
			seccomp_release(ctx);
			return r;
		}
	*out = ctx;
	return 0;
fail:
	seccomp_release(ctx);
	return sk_fail_errno(err, -r, "cannot build the seccomp filter");
}

/* The syscalls the supervisor decides by identity (seccomp user
 * notification): everything that opens a file, runs one or dials out. */
static const char *const supervised[] = {
	"open", "creat", "openat", "openat2", "execve", "execveat", "connect",
};

/* sendmsg and sendmmsg carry their destination inside the message header,
 * where the filter cannot look, so every one of them would go - ~18 us
 * each, heavy for programs that talk over Unix sockets (browsers' IPC).
 * On the sandbox's private network they reach only its loopback and Unix
 * sockets that the mount tree shows: they go only where the sandbox shares
 * the host's network. */
static const char *const supervised_on_host_net[] = { "sendmsg", "sendmmsg" };

/* Every call in names goes to the supervisor (unknown ones skipped). */
static int notify_all(scmp_filter_ctx ctx, const char *const *names, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int r = seccomp_rule_add(ctx, SCMP_ACT_NOTIFY, seccomp_syscall_resolve_name(names[i]), 0);
		if (r < 0 && r != -EEXIST && r != -EDOM)
			return r;
	}
	return 0;
}

int sk_seccomp_build_notify(scmp_filter_ctx *out, bool host_net, sk_error *err)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
	int r;
	if (!ctx)
		return sk_fail(err, ENOMEM, "cannot create the seccomp filter");
	if ((r = seccomp_arch_add(ctx, SCMP_ARCH_X86)) < 0 && r != -EEXIST)
		goto fail;
	if ((r = seccomp_rule_add(ctx, EPERM_ACT, SCMP_SYS(process_vm_readv), 0)) < 0 ||
	    (r = seccomp_rule_add(ctx, EPERM_ACT, SCMP_SYS(process_vm_writev), 0)) < 0)
		goto fail;
	/* sendto with a destination (unconnected datagrams): decided like a
	 * connect.  Without one (a connected socket) it is no new destination. */
	if ((r = seccomp_rule_add(ctx, SCMP_ACT_NOTIFY, SCMP_SYS(sendto), 1, SCMP_A4(SCMP_CMP_NE, 0))) < 0)
		goto fail;
	if ((r = notify_all(ctx, supervised, SK_ARRAY_LEN(supervised))) < 0 ||
	    (host_net && (r = notify_all(ctx, supervised_on_host_net, SK_ARRAY_LEN(supervised_on_host_net))) < 0))
		goto fail;
	*out = ctx;
	return 0;
fail:
	seccomp_release(ctx);
	return sk_fail_errno(err, -r, "cannot build the supervision filter");
}

/* Append ctx's program to w: its length (u32 bytes), then the BPF. */
static int export_one(scmp_filter_ctx ctx, sk_bpf_wire *w, sk_error *err)
{
	_cleanup_close_ int mem = memfd_create("stockade-bpf", MFD_CLOEXEC);
	int r = mem < 0 ? -errno : seccomp_export_bpf(ctx, mem);
	if (r < 0)
		return sk_fail_errno(err, -r, "cannot export the seccomp filter");
	off_t len = lseek(mem, 0, SEEK_END);
	if (len <= 0 || (size_t)len > SK_BPF_MAX)
		return sk_fail(err, EPROTO, "seccomp filter of %lld bytes", (long long)len);
	char *p = realloc(w->bytes, w->len + (size_t)len + 4);
	if (!p)
		return sk_fail(err, ENOMEM, "out of memory");
	w->bytes = p;
	uint32_t n = (uint32_t)len;
	memcpy(p + w->len, &n, 4);
	if (pread(mem, p + w->len + 4, (size_t)len, 0) != len)
		return sk_fail_errno(err, errno ? errno : EIO, "cannot export the seccomp filter");
	w->len += (size_t)len + 4;
	return 0;
}

int sk_seccomp_generate(const sk_sandbox_config *cfg, sk_bpf_wire *out, sk_error *err)
{
	*out = (sk_bpf_wire){ 0 };
	scmp_filter_ctx ctx;
	int r = sk_seccomp_build(cfg, &ctx, err);
	if (r < 0)
		return r;
	r = export_one(ctx, out, err);
	seccomp_release(ctx);
	if (r == 0 && cfg->sup.enabled && (r = sk_seccomp_build_notify(&ctx, cfg->net != SK_NET_NONE, err)) == 0) {
		r = export_one(ctx, out, err);
		seccomp_release(ctx);
	}
	if (r < 0) {
		free(out->bytes);
		*out = (sk_bpf_wire){ 0 };
	}
	return r;
}

bool sk_bpf_wire_valid(const sk_bpf_wire *w, bool with_notify)
{
	size_t off = 0, n = 0;
	while (off + 4 <= w->len) {
		uint32_t len;
		memcpy(&len, w->bytes + off, 4);
		if (!len || len > SK_BPF_MAX || len % sizeof(struct sock_filter) || len > w->len - off - 4)
			return false;
		off += 4 + len;
		n++;
	}
	return off == w->len && n == (with_notify ? 2u : 1u);
}

int sk_seccomp_send(const sk_bpf_wire *w, int fd, sk_error *err)
{
	if (sk_write_all(fd, w->bytes, w->len) < 0)
		return sk_fail_errno(err, errno ? errno : EIO, "cannot hand the seccomp filter to the sandbox");
	return 0;
}

static int read_full(int fd, void *buf, size_t len)
{
	size_t got = 0;
	while (got < len) {
		ssize_t n = read(fd, (char *)buf + got, len - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : (int)got;
		got += (size_t)n;
	}
	return (int)got;
}

/* One program, or none (*prog zeroed) when the pipe ends first. */
static int receive_one(int fd, sk_bpf_program *prog, sk_error *err)
{
	memset(prog, 0, sizeof(*prog));
	uint32_t len;
	int n = read_full(fd, &len, 4);
	if (n == 0)
		return 0;
	if (n != 4 || len == 0 || len > SK_BPF_MAX || len % sizeof(struct sock_filter))
		/* Fail closed: no filter, no command. */
		return sk_fail(err, EPROTO, "no valid seccomp filter arrived");
	char *buf = malloc(len);
	if (!buf)
		return sk_fail(err, ENOMEM, "out of memory");
	if (read_full(fd, buf, len) != (int)len) {
		free(buf);
		return sk_fail(err, EPROTO, "the seccomp filter arrived cut short");
	}
	prog->insns = buf;
	prog->len = len;
	return 0;
}

int sk_seccomp_receive(int fd, sk_bpf_program *prog, sk_bpf_program *notify, sk_error *err)
{
	int r = receive_one(fd, prog, err);
	if (r == 0 && !prog->insns)
		r = sk_fail(err, EPROTO, "no seccomp filter arrived");
	if (r == 0)
		r = receive_one(fd, notify, err);
	if (r < 0) {
		free(prog->insns);
		prog->insns = NULL;
	}
	return r;
}

int sk_seccomp_load_notify(const sk_bpf_program *prog, sk_error *err)
{
	struct sock_fprog fp = {
		.len = (unsigned short)(prog->len / sizeof(struct sock_filter)),
		.filter = prog->insns,
	};
	/* Killable waits: a signal cannot interrupt an open we already made. */
	int fd = (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER,
			      SECCOMP_FILTER_FLAG_NEW_LISTENER | SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV, &fp);
	if (fd < 0 && errno == EINVAL)
		fd = (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, &fp);
	if (fd < 0)
		return sk_fail_errno(err, errno, "cannot load the supervision filter");
	return fd;
}

int sk_seccomp_load(const sk_bpf_program *prog, sk_error *err)
{
	struct sock_fprog fp = {
		.len = (unsigned short)(prog->len / sizeof(struct sock_filter)),
		.filter = prog->insns,
	};
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &fp) < 0)
		return sk_fail_errno(err, errno, "cannot load the seccomp filter");
	return 0;
}
