/* SPDX-License-Identifier: GPL-2.0 */
/*
 * UDP over IPv4 and IPv6 encapsulation: the same megalink frames as over
 * Ethernet, as the payload of UDP datagrams to port udp_port (docs/wire.md,
 * section 6), to peers configured by address (PEER_ADD).
 *
 * Addresses are kept as struct in6_addr: an IPv4 address as its
 * v4-mapped form (::ffff:a.b.c.d), which a user cannot configure as an
 * IPv6 peer (netlink.c refuses it), so the two never collide.
 */
#ifndef _ML_UDP_H
#define _ML_UDP_H

#include <linux/in6.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/list.h>
#include <linux/rcupdate.h>
#include <linux/types.h>
#include <linux/udp.h>
#include <net/ipv6.h>

struct ml_dev;
struct ml_port;
struct net;
struct netlink_ext_ack;
struct sk_buff;

/* IPv4 or IPv6, and UDP headers in front of every encapsulated frame. */
#define ML_UDP_OVERHEAD (sizeof(struct iphdr) + sizeof(struct udphdr))
#define ML_UDP6_OVERHEAD (sizeof(struct ipv6hdr) + sizeof(struct udphdr))

/*
 * A UDP GSO batch: at most this many frames, in one IP datagram (its
 * length fields are 16 bits).
 */
#define ML_UDP_GSO_SEGS	32
#define ML_UDP_GSO_MAX	65535

/* The headers in front of a frame to or from @addr. */
static inline u32 ml_udp_overhead(const struct in6_addr *addr)
{
	return ipv6_addr_v4mapped(addr) ? ML_UDP_OVERHEAD : ML_UDP6_OVERHEAD;
}

/**
 * struct ml_peer - a UDP peer of a device, added by address
 * @list: in dev->peers (RCU list, changed under RTNL)
 * @rcu: freed an RCU grace period after removal
 * @addr: the peer's address (IPv4 v4-mapped, or IPv6)
 * @local: the source address to send from, of the same family; all zero
 *	(::): the route's
 */
struct ml_peer {
	struct list_head list;
	struct rcu_head rcu;
	struct in6_addr addr;
	struct in6_addr local;
};

extern u16 ml_udp_port;
extern unsigned int ml_udp_gso;

bool ml_udp_gso_add(struct sk_buff *head, struct sk_buff *last,
		    struct sk_buff *skb);

int ml_peer_add(struct ml_dev *dev, const struct in6_addr *addr,
		const struct in6_addr *local, struct netlink_ext_ack *extack);
int ml_peer_del(struct ml_dev *dev, const struct in6_addr *addr);
void ml_peer_flush(struct ml_dev *dev);
struct ml_port *ml_udp_host_port(struct ml_dev *dev);
void ml_udp_tx_hellos(struct ml_port *port);
int ml_udp_xmit(struct ml_port *port, struct sk_buff *skb,
		const struct in6_addr *saddr, const struct in6_addr *daddr,
		u32 flow);
int ml_udp_init(void);
void ml_udp_exit(void);

#endif /* _ML_UDP_H */
