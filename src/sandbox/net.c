/* The private network namespace: only loopback, brought up with libnl. */
#include <net/if.h>
#include <netlink/netlink.h>
#include <netlink/route/link.h>

#include "internal.h"

int sk_net_loopback_up(sk_error *err)
{
	struct nl_sock *sk = nl_socket_alloc();
	struct rtnl_link *lo = NULL, *change = NULL;
	int r = 0;
	if (!sk)
		return sk_fail(err, ENOMEM, "cannot allocate a netlink socket");
	if ((r = nl_connect(sk, NETLINK_ROUTE)) < 0) {
		r = sk_fail(err, EIO, "netlink connect: %s", nl_geterror(r));
		goto out;
	}
	if ((r = rtnl_link_get_kernel(sk, 0, "lo", &lo)) < 0) {
		r = sk_fail(err, ENODEV, "no loopback link: %s", nl_geterror(r));
		goto out;
	}
	if (!(change = rtnl_link_alloc())) {
		r = sk_fail(err, ENOMEM, "out of memory");
		goto out;
	}
	rtnl_link_set_flags(change, IFF_UP);
	if ((r = rtnl_link_change(sk, lo, change, 0)) < 0)
		r = sk_fail(err, EIO, "cannot bring loopback up: %s", nl_geterror(r));
out:
	rtnl_link_put(change);
	rtnl_link_put(lo);
	nl_socket_free(sk);
	return r < 0 ? r : 0;
}
