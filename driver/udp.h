/* SPDX-License-Identifier: GPL-2.0 */
/*
 * UDP over IPv4 encapsulation: the same megalink frames as over Ethernet,
 * as the payload of UDP datagrams to port udp_port (docs/wire.md,
 * section 6), to peers configured by address (PEER_ADD).
 */
#ifndef _ML_UDP_H
#define _ML_UDP_H

#include <linux/ip.h>
#include <linux/list.h>
#include <linux/rcupdate.h>
#include <linux/types.h>
#include <linux/udp.h>

struct ml_dev;
struct ml_port;
struct net;
struct netlink_ext_ack;
struct sk_buff;

/* IPv4 and UDP headers in front of every encapsulated frame. */
#define ML_UDP_OVERHEAD (sizeof(struct iphdr) + sizeof(struct udphdr))

/**
 * struct ml_peer - a UDP peer of a device, added by address
 * @list: in dev->peers (RCU list, changed under RTNL)
 * @rcu: freed an RCU grace period after removal
 * @addr: the peer's IPv4 address
 * @local: the source address to send from; 0: the route's
 */
struct ml_peer {
	struct list_head list;
	struct rcu_head rcu;
	__be32 addr;
	__be32 local;
};

extern u16 ml_udp_port;

int ml_peer_add(struct ml_dev *dev, __be32 addr, __be32 local,
		struct netlink_ext_ack *extack);
int ml_peer_del(struct ml_dev *dev, __be32 addr);
void ml_peer_flush(struct ml_dev *dev);
struct ml_port *ml_udp_host_port(struct ml_dev *dev);
void ml_udp_tx_hellos(struct ml_port *port);
int ml_udp_xmit(struct ml_port *port, struct sk_buff *skb, __be32 saddr,
		__be32 daddr, u32 flow);
int ml_udp_init(void);
void ml_udp_exit(void);

#endif /* _ML_UDP_H */
