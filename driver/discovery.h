/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _ML_DISCOVERY_H
#define _ML_DISCOVERY_H

#include <linux/if_ether.h>
#include <linux/in6.h>
#include <linux/megalink.h>

struct ml_port;
struct sk_buff;

#define ML_MAX_NEIGH 64	/* per port */

/**
 * struct ml_neigh - a megalink port heard on the other end of a link
 * All fields are protected by the port's lock.
 */
struct ml_neigh {
	struct list_head list;
	u8 mac[ETH_ALEN];		/* Ethernet neighbour; zero for UDP */
	bool udp;			/* a UDP neighbour, at @addr */
	struct in6_addr addr;		/* IPv4 v4-mapped, or IPv6 */
	u32 node_id;
	u32 port_index;
	u64 caps;
	u32 dead_ms;
	u32 mtu;			/* the peer port's MTU; 0: not said */
	char dev_name[ML_DEV_NAME_LEN];
	unsigned long last_seen;
};

void ml_disc_port_init(struct ml_port *port);
void ml_disc_port_start(struct ml_port *port);
void ml_disc_port_stop(struct ml_port *port);
void ml_disc_kick(struct ml_port *port);
void ml_disc_flush(struct ml_port *port);
int ml_disc_rx_hello(struct ml_port *port, struct sk_buff *skb,
		     const struct in6_addr *saddr);
void ml_disc_forget_addr(struct ml_port *port, const struct in6_addr *addr);

#endif /* _ML_DISCOVERY_H */
