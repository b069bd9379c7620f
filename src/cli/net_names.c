/* Domain rules meet connects.  The supervisor sees the address a process
 * dials, never the name it looked up, so a rule `net deny example.com:*`
 * matches through the addresses the name resolves to: resolved once, in
 * the sandbox's init, at the first connect that has to be decided (a run
 * that dials nothing pays nothing).  The name is then set on the event, so
 * decide (pure) applies the domain rule and the receipt records it: replay
 * needs no resolver.  A wildcard rule (*.example.com) names no addresses
 * and can only match a domain that is known. */
#include <arpa/inet.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "run_internal.h"

/* The profile's exact-domain net rules (no I/O). */
void sk_net_names_init(sk_net_names *n, const sk_profile *p)
{
	*n = (sk_net_names){ 0 };
	for (size_t i = 0; i < p->n_rules; i++) {
		const sk_rule *r = &p->rules[i];
		if (r->cls != SK_CLASS_NET || r->net.kind != SK_ADDR_DOMAIN || !strncmp(r->net.domain, "*.", 2))
			continue;
		bool seen = false;
		for (size_t j = 0; j < n->n && !seen; j++)
			seen = !strcmp(n->v[j].domain, r->net.domain);
		if (!seen && n->n < SK_NET_NAMES_MAX)
			n->v[n->n++].domain = r->net.domain;
	}
}

/* One resolved address, canonical: IPv4 (also when IPv4-mapped) as 4
 * bytes, IPv6 as 16. */
static void add_address(sk_net_name *name, const struct sockaddr *sa)
{
	static const uint8_t mapped[12] = { [10] = 0xff, [11] = 0xff };
	if (name->n_addrs >= SK_NET_NAME_ADDRS)
		return;
	sk_net_addr *a = &name->addrs[name->n_addrs];
	memset(a, 0, sizeof(*a));
	if (sa->sa_family == AF_INET) {
		a->family = SK_NET_FAMILY_INET4;
		memcpy(a->addr, &((const struct sockaddr_in *)sa)->sin_addr, 4);
	} else if (sa->sa_family == AF_INET6) {
		const uint8_t *x = ((const struct sockaddr_in6 *)sa)->sin6_addr.s6_addr;
		a->family = memcmp(x, mapped, 12) ? SK_NET_FAMILY_INET6 : SK_NET_FAMILY_INET4;
		memcpy(a->addr, a->family == SK_NET_FAMILY_INET4 ? x + 12 : x, a->family == SK_NET_FAMILY_INET4 ? 4 : 16);
	} else {
		return;
	}
	for (size_t i = 0; i < name->n_addrs; i++)
		if (!memcmp(&name->addrs[i], a, sizeof(*a)))
			return;
	name->n_addrs++;
}

/* Resolve every name, once.  A name that does not resolve has no
 * addresses: its rule matches nothing here (as before resolution). */
static void resolve_all(sk_net_names *n)
{
	n->resolved = true;
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM };
	for (size_t i = 0; i < n->n; i++) {
		struct addrinfo *res = NULL;
		if (getaddrinfo(n->v[i].domain, NULL, &hints, &res) != 0)
			continue;
		for (struct addrinfo *ai = res; ai; ai = ai->ai_next)
			add_address(&n->v[i], ai->ai_addr);
		freeaddrinfo(res);
	}
}

size_t sk_net_names_of(sk_net_names *n, const sk_event *ev, const char **out, size_t cap)
{
	if (!n->n || ev->kind != SK_EVENT_CONNECT ||
	    (ev->connect.family != SK_NET_FAMILY_INET4 && ev->connect.family != SK_NET_FAMILY_INET6))
		return 0;
	if (!n->resolved)
		resolve_all(n);
	size_t k = 0, len = ev->connect.family == SK_NET_FAMILY_INET4 ? 4 : 16;
	for (size_t i = 0; i < n->n && k < cap; i++)
		for (size_t j = 0; j < n->v[i].n_addrs; j++)
			if (n->v[i].addrs[j].family == ev->connect.family &&
			    !memcmp(n->v[i].addrs[j].addr, ev->connect.addr, len)) {
				out[k++] = n->v[i].domain;
				break;
			}
	return k;
}
