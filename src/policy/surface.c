/* Surface keys: the names sessions, chains and receipts use for the thing
 * an event touches.  Built from identity (device and inode, address and
 * port), never from the spelling of a path when an identity is known. */
#include <arpa/inet.h>
#include <stdio.h>
#include <sys/sysmacros.h>

#include "internal.h"

static int finish(int n, size_t len)
{
	if (n < 0)
		return -EINVAL;
	if ((size_t)n >= len)
		return -ENOSPC;
	return n;
}

static int file_key(const char *prefix, const sk_file_ref *f, char *buf, size_t len)
{
	if (f->has_identity)
		return finish(snprintf(buf, len, "%s:%u:%u:%llu", prefix, major(f->dev), minor(f->dev),
				       (unsigned long long)f->ino), len);
	if (!f->path || f->path[0] != '/')
		return -EINVAL;
	return finish(snprintf(buf, len, "%s:%s", prefix, f->path), len);
}

static int net_key(const sk_event *ev, char *buf, size_t len)
{
	char ip[INET6_ADDRSTRLEN];
	switch (ev->connect.family) {
	case SK_NET_FAMILY_UNIX:
		if (!ev->connect.unix_path)
			return -EINVAL;
		return finish(snprintf(buf, len, "net:unix:%s", ev->connect.unix_path), len);
	case SK_NET_FAMILY_INET4:
		inet_ntop(AF_INET, ev->connect.addr, ip, sizeof(ip));
		return finish(snprintf(buf, len, "net:%s:%u", ip, ev->connect.port), len);
	case SK_NET_FAMILY_INET6:
		inet_ntop(AF_INET6, ev->connect.addr, ip, sizeof(ip));
		return finish(snprintf(buf, len, "net:[%s]:%u", ip, ev->connect.port), len);
	}
	return -EINVAL;
}

int sk_surface_key(const sk_event *ev, char *buf, size_t len)
{
	if (!ev || !buf || len == 0)
		return -EINVAL;
	switch (ev->kind) {
	case SK_EVENT_FILE:
		return file_key("file", &ev->file.file, buf, len);
	case SK_EVENT_COMMAND:
		return file_key("cmd", &ev->command.exe, buf, len);
	case SK_EVENT_CONNECT:
		return net_key(ev, buf, len);
	case SK_EVENT_SYSCALL:
		if (!ev->syscall.name || !*ev->syscall.name)
			return -EINVAL;
		return finish(snprintf(buf, len, "syscall:%s", ev->syscall.name), len);
	case SK_EVENT_ENV:
		if (!ev->env.name || !*ev->env.name)
			return -EINVAL;
		return finish(snprintf(buf, len, "env:%s", ev->env.name), len);
	}
	return -EINVAL;
}

int sk_surface_content_key(const sk_event *ev, char *buf, size_t len)
{
	const sk_file_ref *f = ev->kind == SK_EVENT_FILE ? &ev->file.file
			     : ev->kind == SK_EVENT_COMMAND ? &ev->command.exe : NULL;
	if (!f || !f->fingerprint || !*f->fingerprint)
		return -ENOENT;
	return finish(snprintf(buf, len, "content:%s", f->fingerprint), len);
}

sk_class sk_event_class(const sk_event *ev)
{
	switch (ev->kind) {
	case SK_EVENT_FILE: return SK_CLASS_FILE;
	case SK_EVENT_COMMAND: return SK_CLASS_COMMAND;
	case SK_EVENT_CONNECT: return SK_CLASS_NET;
	case SK_EVENT_SYSCALL: return SK_CLASS_SYSCALL;
	case SK_EVENT_ENV: return SK_CLASS_ENV;
	}
	return SK_CLASS_META;
}
