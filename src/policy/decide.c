/* decide(): profile x session view x event -> verdict.  PURE: it reads its
 * arguments only — no I/O, no clock, no globals, no allocation.
 *
 * Within a class the most specific matching rule wins and, at equal
 * specificity, the strictest.  A file or an executable is evaluated at
 * every location where it is known to live (the path the kernel resolved,
 * plus the locations sk_profile_bind recorded for its device and inode)
 * and the strictest of those verdicts is kept: a second path to the same
 * object never loosens the verdict. */
#include <string.h>

#include "internal.h"

#define SESSION_ID "session"
#define SANDBOX_ID "sandbox"
enum { SPEC_IDENT = 1 << 30, SPEC_PATTERN = 1 << 20, MAX_LOCATIONS = 9 };

int sk_action_rank(sk_action a)
{
	return a == SK_ACTION_DENY ? 2 : a == SK_ACTION_ESCALATE ? 1 : 0;
}

static sk_verdict verdict(sk_action a, sk_reason r, const char *id)
{
	return (sk_verdict){ .action = a, .reason = r, .rule_id = id ? id : SK_BUILTIN_ID };
}

static const sk_verdict invalid = { SK_ACTION_DENY, SK_REASON_INVALID_EVENT, SK_BUILTIN_ID, 0 };

/* A denial becomes an escalation when its rule or its class says so. */
static sk_verdict maybe_escalate(const sk_profile *p, sk_class cls, const sk_rule *rule, sk_verdict v)
{
	if (v.action != SK_ACTION_DENY)
		return v;
	if (rule && rule->escalate)
		return verdict(SK_ACTION_ESCALATE, SK_REASON_ESCALATE_RULE, v.rule_id);
	if (p->escalate_class[cls])
		return verdict(SK_ACTION_ESCALATE, SK_REASON_ESCALATE_CLASS, v.rule_id);
	return v;
}

static long literal_len(const char *pattern)
{
	return (long)sk_pattern_literal_chars(pattern);
}

static const char *base_of(const char *path)
{
	const char *s = strrchr(path, '/');
	return s ? s + 1 : path;
}

/* Commands: an exact path beats a name, a name beats a glob. */
static long command_specificity(const sk_rule *r, const char *path)
{
	switch (r->path_kind) {
	case SK_PATH_PREFIX:
		if (sk_path_beneath(path, r->arg))
			return 3L * SPEC_PATTERN + (long)strlen(r->arg);
		if (r->resolved && sk_path_beneath(path, r->resolved))
			return 3L * SPEC_PATTERN + (long)strlen(r->resolved);
		return -1;
	case SK_PATH_NAME:
		return sk_name_glob(r->arg, base_of(path)) ? 2L * SPEC_PATTERN + literal_len(r->arg) : -1;
	case SK_PATH_GLOB:
		return sk_name_glob(r->arg, path) ? SPEC_PATTERN + literal_len(r->arg) : -1;
	}
	return -1;
}

/* How specifically rule r names path (< 0: it does not).  Files: a
 * pattern (".env") beats any prefix, so it applies inside the workspace;
 * among prefixes the longest wins. */
static long path_specificity(const sk_rule *r, const char *path)
{
	if (r->cls == SK_CLASS_COMMAND)
		return command_specificity(r, path);
	switch (r->path_kind) {
	case SK_PATH_PREFIX:
		if (sk_path_beneath(path, r->arg))
			return (long)strlen(r->arg) + 1;
		if (r->resolved && sk_path_beneath(path, r->resolved))
			return (long)strlen(r->resolved) + 1;
		return -1;
	case SK_PATH_GLOB:
		return sk_name_glob(r->arg, path) ? SPEC_PATTERN + literal_len(r->arg) : -1;
	case SK_PATH_NAME:
		return sk_path_component_glob(r->arg, path) ? SPEC_PATTERN + literal_len(r->arg) : -1;
	}
	return -1;
}

/* The best rule of class cls for one path; strictness breaks ties. */
static const sk_rule *best_path_rule(const sk_profile *p, sk_class cls, const char *path,
				     int (*strictness)(const sk_rule *))
{
	const sk_rule *best = NULL;
	long best_spec = -1;
	for (size_t i = 0; i < p->n_rules; i++) {
		const sk_rule *r = &p->rules[i];
		if (r->cls != cls)
			continue;
		long s = path_specificity(r, path);
		if (s < 0)
			continue;
		if (s > best_spec || (s == best_spec && strictness(r) > strictness(best))) {
			best = r;
			best_spec = s;
		}
	}
	return best;
}

/* Every known location of a file: the resolved path, then bound ones. */
static size_t locations(const sk_profile *p, const sk_file_ref *f, const char **out)
{
	size_t n = 0;
	out[n++] = f->path;
	for (size_t i = 0; i < f->n_aliases && n < MAX_LOCATIONS; i++)
		if (f->aliases[i] && f->aliases[i][0] == '/')
			out[n++] = f->aliases[i];
	if (!f->has_identity || !p->n_idents)
		return n;
	size_t lo = 0, hi = p->n_idents;
	while (lo < hi) {   /* first entry >= (dev, ino) */
		size_t mid = lo + (hi - lo) / 2;
		const sk_ident *m = &p->idents[mid];
		if (m->dev < f->dev || (m->dev == f->dev && m->ino < f->ino))
			lo = mid + 1;
		else
			hi = mid;
	}
	for (; lo < p->n_idents && n < MAX_LOCATIONS; lo++) {
		const sk_ident *m = &p->idents[lo];
		if (m->dev != f->dev || m->ino != f->ino)
			break;
		if (strcmp(m->path, f->path))
			out[n++] = m->path;
	}
	return n;
}

static int file_strictness(const sk_rule *r) { return r->action; }

static sk_verdict file_verdict_at(const sk_profile *p, const char *path, unsigned access)
{
	const sk_rule *r = best_path_rule(p, SK_CLASS_FILE, path, file_strictness);
	sk_file_action a = r ? (sk_file_action)r->action : (sk_file_action)p->file_default.value;
	const char *id = r ? r->id : p->file_default.id;
	sk_verdict v;
	switch (a) {
	case SK_FILE_READ_WRITE: v = verdict(SK_ACTION_ALLOW, SK_REASON_FILE_READ_WRITE, id); break;
	case SK_FILE_TMPFS: v = verdict(SK_ACTION_ALLOW, SK_REASON_FILE_TMPFS, id); break;
	case SK_FILE_READ_ONLY:
		v = access & SK_ACCESS_WRITE ? verdict(SK_ACTION_DENY, SK_REASON_FILE_WRITE_READ_ONLY, id)
					     : verdict(SK_ACTION_ALLOW, SK_REASON_FILE_READ_ONLY, id);
		break;
	case SK_FILE_HIDDEN: v = verdict(SK_ACTION_DENY, SK_REASON_FILE_HIDDEN, id); break;
	case SK_FILE_DENY: v = verdict(SK_ACTION_DENY, SK_REASON_FILE_DENIED, id); break;
	default: v = verdict(SK_ACTION_DENY, SK_REASON_FILE_SECRET, id); break;
	}
	return maybe_escalate(p, SK_CLASS_FILE, r, v);
}

static bool valid_file(const sk_file_ref *f)
{
	return f->path && f->path[0] == '/';
}

static sk_verdict decide_file(const sk_profile *p, const sk_file_ref *f, unsigned access)
{
	/* The sandbox's own objects, named or not ("pipe:[N]" has no path). */
	if (f->sandbox_private && f->path)
		return verdict(SK_ACTION_ALLOW, SK_REASON_FILE_TMPFS, SANDBOX_ID);
	if (!valid_file(f))
		return invalid;
	const char *where[MAX_LOCATIONS];
	size_t n = locations(p, f, where);
	sk_verdict v = file_verdict_at(p, where[0], access);
	for (size_t i = 1; i < n; i++) {
		sk_verdict o = file_verdict_at(p, where[i], access);
		if (sk_action_rank(o.action) > sk_action_rank(v.action))
			v = o;
	}
	return v;
}

static int verdict_strictness(const sk_rule *r) { return sk_action_rank((sk_action)r->action); }

static sk_verdict command_verdict_at(const sk_profile *p, const char *path)
{
	static const sk_reason reasons[] = {
		[SK_ACTION_ALLOW] = SK_REASON_COMMAND_ALLOW, [SK_ACTION_DENY] = SK_REASON_COMMAND_DENY,
		[SK_ACTION_ESCALATE] = SK_REASON_COMMAND_ESCALATE,
	};
	const sk_rule *r = best_path_rule(p, SK_CLASS_COMMAND, path, verdict_strictness);
	sk_action a = r ? (sk_action)r->action : (sk_action)p->command_default.value;
	sk_verdict v = verdict(a, reasons[a], r ? r->id : p->command_default.id);
	return maybe_escalate(p, SK_CLASS_COMMAND, r, v);
}

/* A command must pass its command rules and be executable as a file. */
static sk_verdict decide_command(const sk_profile *p, const sk_file_ref *exe)
{
	if (!valid_file(exe))
		return invalid;
	const char *where[MAX_LOCATIONS];
	size_t n = locations(p, exe, where);
	sk_verdict v = command_verdict_at(p, where[0]);
	for (size_t i = 1; i < n; i++) {
		sk_verdict o = command_verdict_at(p, where[i]);
		if (sk_action_rank(o.action) > sk_action_rank(v.action))
			v = o;
	}
	if (v.action != SK_ACTION_ALLOW)
		return v;
	sk_verdict f = decide_file(p, exe, SK_ACCESS_EXEC | SK_ACCESS_READ);
	return f.action == SK_ACTION_ALLOW ? v : f;
}

static sk_verdict decide_env(const sk_profile *p, const char *name)
{
	static const sk_reason reasons[] = {
		[SK_ENV_PASS] = SK_REASON_ENV_PASS, [SK_ENV_DROP] = SK_REASON_ENV_DROP,
		[SK_ENV_SECRET] = SK_REASON_ENV_SECRET,
	};
	if (!name || !*name)
		return invalid;
	const sk_rule *best = NULL;
	long best_spec = -1;
	for (size_t i = 0; i < p->n_rules; i++) {
		const sk_rule *r = &p->rules[i];
		if (r->cls != SK_CLASS_ENV)
			continue;
		long s = r->path_kind == SK_PATH_NAME ? (strcmp(r->arg, name) ? -1 : SPEC_PATTERN)
			 : sk_name_glob(r->arg, name) ? literal_len(r->arg) : -1;
		if (s > best_spec || (s >= 0 && s == best_spec && r->action > best->action)) {
			best = r;
			best_spec = s;
		}
	}
	int a = best ? best->action : p->env_default.value;
	sk_verdict v = verdict(a == SK_ENV_PASS ? SK_ACTION_ALLOW : SK_ACTION_DENY, reasons[a],
			       best ? best->id : p->env_default.id);
	return maybe_escalate(p, SK_CLASS_ENV, best, v);
}

static bool domain_matches(const char *rule, const char *domain)
{
	if (!domain)
		return false;
	if (strncmp(rule, "*.", 2))
		return !strcasecmp(rule, domain);
	size_t rl = strlen(rule + 1), dl = strlen(domain);   /* ".example.com" */
	return dl > rl && !strcasecmp(domain + dl - rl, rule + 1);
}

static bool prefix_matches(const uint8_t *a, const uint8_t *b, unsigned bits)
{
	for (unsigned i = 0; i < bits; i++) {
		uint8_t m = (uint8_t)(0x80u >> (i % 8));
		if ((a[i / 8] & m) != (b[i / 8] & m))
			return false;
	}
	return true;
}

/* How specifically rule m names the destination (< 0: it does not). */
static long net_specificity(const sk_net_match *m, const sk_event *ev)
{
	if (ev->connect.port < m->port_lo || ev->connect.port > m->port_hi)
		return -1;
	long port = m->port_lo == m->port_hi ? 2 : (m->port_lo == 0 && m->port_hi == 65535) ? 0 : 1;
	long addr;
	switch (m->kind) {
	case SK_ADDR_ANY:
		addr = 0;
		break;
	case SK_ADDR_IP:
		if (m->family != (int)ev->connect.family ||
		    !prefix_matches(m->addr, ev->connect.addr, m->prefix))
			return -1;
		addr = 1 + m->prefix;
		break;
	default:
		if (!domain_matches(m->domain, ev->connect.domain))
			return -1;
		addr = strncmp(m->domain, "*.", 2) ? 1000 : 500 + (long)strlen(m->domain);
	}
	return addr * 4 + port;
}

static bool is_loopback(const sk_event *ev)
{
	static const uint8_t v6_loop[16] = { [15] = 1 };
	static const uint8_t v4_mapped[12] = { [10] = 0xff, [11] = 0xff };
	const uint8_t *a = ev->connect.addr;
	if (ev->connect.family == SK_NET_FAMILY_INET4)
		return a[0] == 127;
	return !memcmp(a, v6_loop, 16) || (!memcmp(a, v4_mapped, 12) && a[12] == 127);
}

static sk_verdict decide_connect(const sk_profile *p, const sk_event *ev)
{
	if (ev->connect.family == SK_NET_FAMILY_UNIX) {
		if (!ev->connect.unix_path || ev->connect.unix_path[0] != '/')
			return invalid;   /* abstract sockets: no path to judge; refused */
		sk_file_ref f = { .path = ev->connect.unix_path };
		return decide_file(p, &f, SK_ACCESS_WRITE);
	}
	if (ev->connect.family != SK_NET_FAMILY_INET4 && ev->connect.family != SK_NET_FAMILY_INET6)
		return invalid;
	const sk_rule *best = NULL;
	long best_spec = -1;
	for (size_t i = 0; i < p->n_rules; i++) {
		const sk_rule *r = &p->rules[i];
		if (r->cls != SK_CLASS_NET)
			continue;
		long s = net_specificity(&r->net, ev);
		if (s > best_spec || (s >= 0 && s == best_spec && sk_action_rank((sk_action)r->action) > sk_action_rank((sk_action)best->action))) {
			best = r;
			best_spec = s;
		}
	}
	sk_verdict v;
	if (best) {
		static const sk_reason reasons[] = {
			[SK_ACTION_ALLOW] = SK_REASON_NET_RULE_ALLOW, [SK_ACTION_DENY] = SK_REASON_NET_RULE_DENY,
			[SK_ACTION_ESCALATE] = SK_REASON_NET_RULE_ESCALATE,
		};
		v = verdict((sk_action)best->action, reasons[best->action], best->id);
	} else if (p->net.value == SK_NETP_HOST) {
		v = verdict(SK_ACTION_ALLOW, SK_REASON_NET_HOST, p->net.id);
	} else if (p->net.value == SK_NETP_LOOPBACK) {
		v = is_loopback(ev) ? verdict(SK_ACTION_ALLOW, SK_REASON_NET_LOOPBACK, p->net.id)
				    : verdict(SK_ACTION_DENY, SK_REASON_NET_NOT_LOOPBACK, p->net.id);
	} else {
		v = verdict(SK_ACTION_DENY, SK_REASON_NET_MODE_NONE, p->net.id);
	}
	return maybe_escalate(p, SK_CLASS_NET, best, v);
}

static sk_verdict decide_syscall(const sk_profile *p, const char *name)
{
	if (!name || !*name)
		return invalid;
	const sk_rule *best = NULL;
	for (size_t i = 0; i < p->n_rules; i++) {
		const sk_rule *r = &p->rules[i];
		if (r->cls == SK_CLASS_SYSCALL && !strcmp(r->arg, name) &&
		    (!best || sk_action_rank((sk_action)r->action) > sk_action_rank((sk_action)best->action)))
			best = r;
	}
	sk_verdict v;
	if (!best)
		v = verdict(SK_ACTION_DENY, SK_REASON_SYSCALL_DEFAULT, SK_BUILTIN_ID);
	else if (best->action == SK_ACTION_ALLOW)
		v = verdict(SK_ACTION_ALLOW, SK_REASON_SYSCALL_ALLOW, best->id);
	else if (best->action == SK_ACTION_ESCALATE)
		v = verdict(SK_ACTION_ESCALATE, SK_REASON_SYSCALL_ESCALATE, best->id);
	else
		v = verdict(SK_ACTION_DENY, SK_REASON_SYSCALL_DENY, best->id);
	return maybe_escalate(p, SK_CLASS_SYSCALL, best, v);
}

/* The profile's verdict alone, before the session is consulted. */
static sk_verdict decide_profile(const sk_profile *p, const sk_event *ev)
{
	switch (ev->kind) {
	case SK_EVENT_FILE: return decide_file(p, &ev->file.file, ev->file.access);
	case SK_EVENT_COMMAND: return decide_command(p, &ev->command.exe);
	case SK_EVENT_CONNECT: return decide_connect(p, ev);
	case SK_EVENT_SYSCALL: return decide_syscall(p, ev->syscall.name);
	case SK_EVENT_ENV: return decide_env(p, ev->env.name);
	}
	return invalid;
}

static const sk_surface_state *find_state(const sk_session_view *s, const char *key)
{
	if (!s || !s->v)
		return NULL;
	size_t lo = 0, hi = s->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(s->v[mid].key, key);
		if (c == 0)
			return &s->v[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

sk_verdict sk_decide(const sk_profile *p, const sk_session_view *session, const sk_event *ev)
{
	char key[SK_SURFACE_KEY_MAX];
	if (!p || !ev || sk_surface_key(ev, key, sizeof(key)) < 0) {
		sk_verdict v = invalid;
		v.chain = 1;
		return v;
	}
	sk_verdict v = decide_profile(p, ev);
	const sk_surface_state *st = find_state(session, key);
	uint32_t before = st ? st->attempts : 0;
	v.chain = before == UINT32_MAX ? before : before + 1;
	if (st && st->approved)
		return (sk_verdict){ SK_ACTION_ALLOW, SK_REASON_APPROVED, SESSION_ID, v.chain };

	bool sticky = st && st->denied;
	char ckey[SK_SURFACE_KEY_MAX];
	if (!sticky && sk_surface_content_key(ev, ckey, sizeof(ckey)) > 0) {
		/* A copy: the chain is the original's. */
		const sk_surface_state *cst = find_state(session, ckey);
		if (cst && cst->denied && !cst->approved) {
			uint32_t b = cst->attempts > before ? cst->attempts : before;
			v.chain = b == UINT32_MAX ? b : b + 1;
			if (v.action != SK_ACTION_DENY) {
				v.action = SK_ACTION_DENY;
				v.reason = SK_REASON_SECRET_CONTENT;
				v.rule_id = SESSION_ID;
			}
		}
	}
	if (sticky && v.action != SK_ACTION_DENY) {
		v.action = SK_ACTION_DENY;
		v.reason = SK_REASON_STICKY_DENY;
		v.rule_id = SESSION_ID;
	}
	if (v.action == SK_ACTION_DENY && p->chain.value > 0 && v.chain > (uint32_t)p->chain.value) {
		v.action = SK_ACTION_ESCALATE;
		v.reason = SK_REASON_CHAIN_THRESHOLD;
	}
	return v;
}
