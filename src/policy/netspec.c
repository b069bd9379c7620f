/* Network rule specs: "ADDR[/PREFIX]:PORT" where ADDR is an IPv4 address,
 * [IPv6], a domain ("example.com", "*.example.com") or "*", and PORT is
 * "N", "N-M" or "*".  Parsing and printing are exact inverses. */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

static const char *parse_port(const char *s, sk_net_match *m)
{
	if (!strcmp(s, "*")) {
		m->port_lo = 0;
		m->port_hi = 65535;
		return NULL;
	}
	uint64_t lo, hi;
	const char *dash = strchr(s, '-');
	char buf[16];
	if (dash) {
		size_t n = (size_t)(dash - s);
		if (n == 0 || n >= sizeof(buf))
			return "bad port range (expected N-M)";
		memcpy(buf, s, n);
		buf[n] = '\0';
		if (sk_parse_u64(buf, &lo) < 0 || sk_parse_u64(dash + 1, &hi) < 0)
			return "bad port range (expected N-M)";
	} else {
		if (sk_parse_u64(s, &lo) < 0)
			return "bad port (expected a number, N-M or *)";
		hi = lo;
	}
	if (hi > 65535 || lo > hi)
		return "port out of range (0-65535, low before high)";
	m->port_lo = (uint16_t)lo;
	m->port_hi = (uint16_t)hi;
	return NULL;
}

static void mask_prefix(sk_net_match *m)
{
	unsigned bits = m->family == 4 ? 32 : 128;
	for (unsigned i = m->prefix; i < bits; i++)
		m->addr[i / 8] &= (uint8_t)~(0x80u >> (i % 8));
}

static const char *parse_prefix(const char *s, unsigned max, sk_net_match *m)
{
	uint64_t v;
	if (sk_parse_u64(s, &v) < 0 || v > max)
		return "bad prefix length after '/'";
	m->prefix = (uint8_t)v;
	return NULL;
}

static const char *parse_domain(sk_arena *a, const char *s, sk_net_match *m)
{
	size_t n = strlen(s);
	if (n == 0 || n > 253)
		return "bad address (expected IPv4, [IPv6], a domain or *)";
	const char *p = s;
	if (!strncmp(p, "*.", 2))
		p += 2;
	bool label_start = true;
	for (; *p; p++) {
		unsigned char c = (unsigned char)*p;
		if (c == '.') {
			if (label_start)
				return "bad domain name (empty label)";
			label_start = true;
			continue;
		}
		if (!isalnum(c) && c != '-' && c != '_')
			return "bad address (expected IPv4, [IPv6], a domain or *)";
		label_start = false;
	}
	if (label_start)
		return "bad domain name (empty label)";
	m->kind = SK_ADDR_DOMAIN;
	m->domain = sk_arena_strdup(a, s);
	if (!m->domain)
		return "out of memory";
	for (char *d = m->domain; *d; d++)
		*d = (char)tolower((unsigned char)*d);
	return NULL;
}

static const char *parse_addr(sk_arena *a, char *s, sk_net_match *m)
{
	if (!strcmp(s, "*")) {
		m->kind = SK_ADDR_ANY;
		return NULL;
	}
	char *slash = strchr(s, '/');
	if (s[0] == '[') {
		char *close = strchr(s, ']');
		if (!close || (close[1] != '\0' && close[1] != '/'))
			return "bad IPv6 address (expected [ADDR] or [ADDR]/PREFIX)";
		*close = '\0';
		m->kind = SK_ADDR_IP;
		m->family = 6;
		m->prefix = 128;
		if (inet_pton(AF_INET6, s + 1, m->addr) != 1)
			return "bad IPv6 address";
		if (close[1] == '/') {
			const char *e = parse_prefix(close + 2, 128, m);
			if (e)
				return e;
		}
		mask_prefix(m);
		return NULL;
	}
	if (slash)
		*slash = '\0';
	if (strspn(s, "0123456789.") == strlen(s)) {
		m->kind = SK_ADDR_IP;
		m->family = 4;
		m->prefix = 32;
		if (inet_pton(AF_INET, s, m->addr) != 1)
			return "bad IPv4 address";
		if (slash) {
			const char *e = parse_prefix(slash + 1, 32, m);
			if (e)
				return e;
		}
		mask_prefix(m);
		return NULL;
	}
	if (slash)
		return "a prefix length needs an IP address";
	return parse_domain(a, s, m);
}

const char *sk_net_spec_parse(sk_arena *a, const char *spec, sk_net_match *m)
{
	*m = (sk_net_match){ 0 };
	char buf[300];
	size_t n = strlen(spec);
	if (n >= sizeof(buf))
		return "network spec too long";
	memcpy(buf, spec, n + 1);
	char *colon = strrchr(buf, ':');
	const char *close = strchr(buf, ']');
	if (!colon || (buf[0] == '[' && (!close || colon < close)))
		return "missing :PORT (use ADDR:PORT, ADDR:* or *:*)";
	*colon = '\0';
	const char *e = parse_port(colon + 1, m);
	return e ? e : parse_addr(a, buf, m);
}

int sk_net_spec_format(const sk_net_match *m, char *buf, size_t len)
{
	char addr[300], port[16];
	switch (m->kind) {
	case SK_ADDR_ANY:
		snprintf(addr, sizeof(addr), "*");
		break;
	case SK_ADDR_DOMAIN:
		snprintf(addr, sizeof(addr), "%s", m->domain);
		break;
	case SK_ADDR_IP: {
		char ip[INET6_ADDRSTRLEN];
		inet_ntop(m->family == 4 ? AF_INET : AF_INET6, m->addr, ip, sizeof(ip));
		unsigned full = m->family == 4 ? 32 : 128;
		char pfx[8] = "";
		if (m->prefix != full)
			snprintf(pfx, sizeof(pfx), "/%u", m->prefix);
		snprintf(addr, sizeof(addr), m->family == 4 ? "%s%s" : "[%s]%s", ip, pfx);
		break;
	}
	}
	if (m->port_lo == 0 && m->port_hi == 65535)
		snprintf(port, sizeof(port), "*");
	else if (m->port_lo == m->port_hi)
		snprintf(port, sizeof(port), "%u", m->port_lo);
	else
		snprintf(port, sizeof(port), "%u-%u", m->port_lo, m->port_hi);
	return snprintf(buf, len, "%s:%s", addr, port);
}
