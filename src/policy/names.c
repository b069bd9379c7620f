/* Names of actions, classes, reasons and keywords: one table each, so the
 * parser, the canonical form and the receipts all spell them the same. */
#include <string.h>

#include "internal.h"

static const char *const reason_names[SK_REASON_N] = {
	[SK_REASON_INVALID_EVENT] = "invalid_event",
	[SK_REASON_APPROVED] = "approved",
	[SK_REASON_STICKY_DENY] = "sticky_deny",
	[SK_REASON_CHAIN_THRESHOLD] = "chain_threshold",
	[SK_REASON_ESCALATE_RULE] = "escalate_rule",
	[SK_REASON_ESCALATE_CLASS] = "escalate_class",
	[SK_REASON_FILE_READ_WRITE] = "file_read_write",
	[SK_REASON_FILE_READ_ONLY] = "file_read_only",
	[SK_REASON_FILE_WRITE_READ_ONLY] = "file_write_read_only",
	[SK_REASON_FILE_TMPFS] = "file_tmpfs",
	[SK_REASON_FILE_HIDDEN] = "file_hidden",
	[SK_REASON_FILE_DENIED] = "file_denied",
	[SK_REASON_FILE_SECRET] = "file_secret",
	[SK_REASON_ENV_PASS] = "env_pass",
	[SK_REASON_ENV_DROP] = "env_drop",
	[SK_REASON_ENV_SECRET] = "env_secret",
	[SK_REASON_NET_RULE_ALLOW] = "net_rule_allow",
	[SK_REASON_NET_RULE_DENY] = "net_rule_deny",
	[SK_REASON_NET_RULE_ESCALATE] = "net_rule_escalate",
	[SK_REASON_NET_MODE_NONE] = "net_mode_none",
	[SK_REASON_NET_NOT_LOOPBACK] = "net_not_loopback",
	[SK_REASON_NET_LOOPBACK] = "net_loopback",
	[SK_REASON_NET_HOST] = "net_host",
	[SK_REASON_SYSCALL_ALLOW] = "syscall_allow",
	[SK_REASON_SYSCALL_DENY] = "syscall_deny",
	[SK_REASON_SYSCALL_ESCALATE] = "syscall_escalate",
	[SK_REASON_SYSCALL_DEFAULT] = "syscall_default",
	[SK_REASON_COMMAND_ALLOW] = "command_allow",
	[SK_REASON_COMMAND_DENY] = "command_deny",
	[SK_REASON_COMMAND_ESCALATE] = "command_escalate",
	[SK_REASON_SECRET_CONTENT] = "secret_content",
};

const char *sk_reason_name(sk_reason r)
{
	if ((unsigned)r >= SK_REASON_N || !reason_names[r])
		return "unknown";
	return reason_names[r];
}

int sk_reason_from_name(const char *name)
{
	for (int i = 0; i < SK_REASON_N; i++)
		if (reason_names[i] && !strcmp(reason_names[i], name))
			return i;
	return -1;
}

const char *sk_action_name(sk_action a)
{
	switch (a) {
	case SK_ACTION_ALLOW: return "allow";
	case SK_ACTION_DENY: return "deny";
	case SK_ACTION_ESCALATE: return "escalate";
	}
	return "unknown";
}

const char *sk_class_name(sk_class c)
{
	static const char *const names[SK_CLASS_N] = {
		[SK_CLASS_FILE] = "file", [SK_CLASS_ENV] = "env", [SK_CLASS_NET] = "net",
		[SK_CLASS_SYSCALL] = "syscall", [SK_CLASS_COMMAND] = "command",
		[SK_CLASS_LIMIT] = "limit", [SK_CLASS_ESCALATION] = "escalation",
		[SK_CLASS_REDACT] = "redact", [SK_CLASS_META] = "meta",
	};
	return (unsigned)c < SK_CLASS_N ? names[c] : "unknown";
}

const char *sk_file_action_name(sk_file_action a)
{
	static const char *const names[] = {
		[SK_FILE_READ_WRITE] = "read-write", [SK_FILE_TMPFS] = "tmpfs",
		[SK_FILE_READ_ONLY] = "read-only", [SK_FILE_HIDDEN] = "hidden",
		[SK_FILE_DENY] = "deny", [SK_FILE_SECRET] = "secret",
	};
	return (unsigned)a < SK_ARRAY_LEN(names) ? names[a] : "unknown";
}

const char *sk_env_action_name(sk_env_action a)
{
	static const char *const names[] = {
		[SK_ENV_PASS] = "pass", [SK_ENV_DROP] = "drop", [SK_ENV_SECRET] = "secret",
	};
	return (unsigned)a < SK_ARRAY_LEN(names) ? names[a] : "unknown";
}

const char *sk_net_policy_name(sk_net_policy n)
{
	static const char *const names[] = {
		[SK_NETP_NONE] = "none", [SK_NETP_LOOPBACK] = "loopback", [SK_NETP_HOST] = "host",
	};
	return (unsigned)n < SK_ARRAY_LEN(names) ? names[n] : "unknown";
}

const char *sk_limit_name(sk_limit_kind k)
{
	static const char *const names[SK_LIMIT_N] = {
		[SK_LIMIT_TIMEOUT] = "timeout", [SK_LIMIT_MEMORY] = "memory",
		[SK_LIMIT_PIDS] = "pids", [SK_LIMIT_CPU] = "cpu",
		[SK_LIMIT_OUTPUT] = "output", [SK_LIMIT_NOFILE] = "nofile",
	};
	return (unsigned)k < SK_LIMIT_N ? names[k] : "unknown";
}
