/* Supervision records from the sandbox's init to the caller: one
 * SOCK_SEQPACKET message each, a fixed header then the strings. */
#include <string.h>
#include <sys/socket.h>

#include "internal.h"

enum { WIRE_RECORD = 1, WIRE_STATS = 2, WIRE_CLEAN = 3, MAX_ALIASES = 4 };
enum { S_PATH, S_VIA, S_CONTENT, S_RULE, S_OP, S_EXTRA, S_ALIAS0, S_N = S_ALIAS0 + MAX_ALIASES };

typedef struct wire_hdr {
	uint32_t type;
	int32_t kind, access, family, port, pid, error, action, reason;
	uint32_t chain, n_aliases;
	uint8_t has_identity, by_value, addr[16];
	uint64_t dev, ino, size;
	uint16_t len[S_N];     /* 0xffff = NULL */
} wire_hdr;

static const sk_file_ref *file_of(const sk_event *ev)
{
	return ev->kind == SK_EVENT_FILE ? &ev->file.file : ev->kind == SK_EVENT_COMMAND ? &ev->command.exe : NULL;
}

int sk_wire_send_record(int fd, const sk_sup_record *rec)
{
	char buf[SK_WIRE_MAX];
	wire_hdr h = { .type = WIRE_RECORD, .kind = rec->ev.kind, .pid = rec->pid, .error = rec->error,
		       .action = rec->verdict.action, .reason = rec->verdict.reason, .chain = rec->verdict.chain,
		       .size = rec->size, .by_value = rec->by_value };
	const char *s[S_N] = { [S_VIA] = rec->via, [S_CONTENT] = rec->content, [S_RULE] = rec->verdict.rule_id,
			       [S_OP] = rec->op };
	const sk_file_ref *f = file_of(&rec->ev);
	if (f) {
		s[S_PATH] = f->path;
		h.has_identity = f->has_identity;
		h.dev = f->dev;
		h.ino = f->ino;
		h.n_aliases = f->n_aliases < MAX_ALIASES ? (uint32_t)f->n_aliases : MAX_ALIASES;
		for (uint32_t i = 0; i < h.n_aliases; i++)
			s[S_ALIAS0 + i] = f->aliases[i];
		if (rec->ev.kind == SK_EVENT_FILE)
			h.access = (int32_t)rec->ev.file.access;
	} else if (rec->ev.kind == SK_EVENT_CONNECT) {
		h.family = rec->ev.connect.family;
		h.port = rec->ev.connect.port;
		memcpy(h.addr, rec->ev.connect.addr, 16);
		/* A Unix socket's path, or the domain an address was decided as. */
		s[S_EXTRA] = rec->ev.connect.family == SK_NET_FAMILY_UNIX ? rec->ev.connect.unix_path
									   : rec->ev.connect.domain;
	}
	size_t off = sizeof(h);
	for (int i = 0; i < S_N; i++) {
		size_t n = s[i] ? strnlen(s[i], 4095) : 0;
		if (!s[i] || off + n + 1 > sizeof(buf)) {
			h.len[i] = 0xffff;
			continue;
		}
		memcpy(buf + off, s[i], n);
		buf[off + n] = '\0';
		h.len[i] = (uint16_t)n;
		off += n + 1;
	}
	memcpy(buf, &h, sizeof(h));
	while (send(fd, buf, off, MSG_NOSIGNAL) < 0)
		if (errno != EINTR)
			return -errno;
	return 0;
}

/* A header of type and a fixed-size body, in one message. */
static int send_fixed(int fd, uint32_t type, const void *body, size_t len)
{
	char buf[sizeof(wire_hdr) + 128];
	wire_hdr h = { .type = type };
	memcpy(buf, &h, sizeof(h));
	memcpy(buf + sizeof(h), body, len);
	return send(fd, buf, sizeof(h) + len, MSG_NOSIGNAL) < 0 ? -errno : 0;
}

int sk_wire_send_stats(int fd, const sk_sup_stats *st)
{
	_Static_assert(sizeof(*st) <= 128, "fits send_fixed");
	return send_fixed(fd, WIRE_STATS, st, sizeof(*st));
}

int sk_wire_send_clean(int fd, const sk_clean_file *f)
{
	_Static_assert(sizeof(*f) <= 128, "fits send_fixed");
	return send_fixed(fd, WIRE_CLEAN, f, sizeof(*f));
}

int sk_wire_decode(char *buf, size_t len, sk_sup_record *rec, const char **aliases, size_t max_aliases,
		   sk_sup_stats *st, sk_clean_file *clean)
{
	wire_hdr h;
	if (len < sizeof(h))
		return -EBADMSG;
	memcpy(&h, buf, sizeof(h));
	if (h.type == WIRE_STATS) {
		if (len != sizeof(h) + sizeof(*st))
			return -EBADMSG;
		memcpy(st, buf + sizeof(h), sizeof(*st));
		return 2;
	}
	if (h.type == WIRE_CLEAN) {
		if (len != sizeof(h) + sizeof(*clean))
			return -EBADMSG;
		memcpy(clean, buf + sizeof(h), sizeof(*clean));
		return 3;
	}
	if (h.type != WIRE_RECORD || h.n_aliases > MAX_ALIASES)
		return -EBADMSG;
	const char *s[S_N];
	size_t off = sizeof(h);
	for (int i = 0; i < S_N; i++) {
		if (h.len[i] == 0xffff) {
			s[i] = NULL;
			continue;
		}
		if (off + h.len[i] + 1 > len || buf[off + h.len[i]] != '\0')
			return -EBADMSG;
		s[i] = buf + off;
		off += h.len[i] + 1u;
	}
	memset(rec, 0, sizeof(*rec));
	rec->ev.kind = (sk_event_kind)h.kind;
	rec->verdict = (sk_verdict){ (sk_action)h.action, (sk_reason)h.reason, s[S_RULE], h.chain };
	rec->op = s[S_OP];
	rec->via = s[S_VIA];
	rec->content = s[S_CONTENT];
	rec->size = h.size;
	rec->by_value = h.by_value;
	rec->pid = h.pid;
	rec->error = h.error;
	sk_file_ref *f = rec->ev.kind == SK_EVENT_FILE ? &rec->ev.file.file
		       : rec->ev.kind == SK_EVENT_COMMAND ? &rec->ev.command.exe : NULL;
	if (f) {
		f->path = s[S_PATH];
		f->has_identity = h.has_identity;
		f->dev = h.dev;
		f->ino = h.ino;
		size_t n = 0;
		for (uint32_t i = 0; i < h.n_aliases && n < max_aliases; i++)
			if (s[S_ALIAS0 + i])
				aliases[n++] = s[S_ALIAS0 + i];
		f->aliases = aliases;
		f->n_aliases = n;
		f->fingerprint = rec->content ? rec->content + 8 : NULL;   /* past "content:" */
		if (rec->ev.kind == SK_EVENT_FILE)
			rec->ev.file.access = (unsigned)h.access;
	} else if (rec->ev.kind == SK_EVENT_CONNECT) {
		rec->ev.connect.family = (sk_net_family)h.family;
		rec->ev.connect.port = (uint16_t)h.port;
		memcpy(rec->ev.connect.addr, h.addr, 16);
		if (rec->ev.connect.family == SK_NET_FAMILY_UNIX)
			rec->ev.connect.unix_path = s[S_EXTRA];
		else
			rec->ev.connect.domain = s[S_EXTRA];
	} else {
		return -EBADMSG;
	}
	return 1;
}
