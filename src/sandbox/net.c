/* The private network namespace: only loopback, brought up with libnl. */
#include <net/if.h>
#include <netlink/netlink.h>
#include <netlink/route/link.h>

#include "internal.h"

/* Loopback's index in every network namespace (LOOPBACK_IFINDEX in the
 * kernel, fixed since Linux 3.7): the change can name it without asking
 * the kernel first, which saves a netlink round trip (~0.1 ms of every
 * spawn).  Should that ever fail, the link is looked up by name. */
enum { LOOPBACK_IFINDEX = 1 };

static int set_up(struct nl_sock *sk, struct rtnl_link *lo)
{
	struct rtnl_link *change = rtnl_link_alloc();
	if (!change)
		return -NLE_NOMEM;
	rtnl_link_set_flags(change, IFF_UP);
	int r = rtnl_link_change(sk, lo, change, 0);
	rtnl_link_put(change);
	return r;
}

int sk_net_loopback_up(sk_error *err)
{
	struct nl_sock *sk = nl_socket_alloc();
	struct rtnl_link *lo = NULL;
	int r = 0;
	if (!sk)
		return sk_fail(err, ENOMEM, "cannot allocate a netlink socket");
	if ((r = nl_connect(sk, NETLINK_ROUTE)) < 0) {
		r = sk_fail(err, EIO, "netlink connect: %s", nl_geterror(r));
		goto out;
	}
	if (!(lo = rtnl_link_alloc())) {
		r = sk_fail(err, ENOMEM, "out of memory");
		goto out;
	}
	rtnl_link_set_ifindex(lo, LOOPBACK_IFINDEX);
	if (set_up(sk, lo) == 0)
		goto out;
	rtnl_link_put(lo);
	lo = NULL;
	if ((r = rtnl_link_get_kernel(sk, 0, "lo", &lo)) < 0) {
		r = sk_fail(err, ENODEV, "no loopback link: %s", nl_geterror(r));
		goto out;
	}
	if ((r = set_up(sk, lo)) < 0)
		r = sk_fail(err, EIO, "cannot bring loopback up: %s", nl_geterror(r));
out:
	rtnl_link_put(lo);
	nl_socket_free(sk);
	return r < 0 ? r : 0;
}
