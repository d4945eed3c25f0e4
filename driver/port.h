/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _ML_PORT_H
#define _ML_PORT_H

#include <linux/netdevice.h>
#include <linux/spinlock.h>
#include <linux/timer.h>
#include "stats.h"

struct ml_dev;

/**
 * struct ml_port - an Ethernet netdev bound to a megalink device
 * @dev: the owning device; stable for the port's life
 * @netdev: the bound netdev, held (netdev_hold) until the port is freed
 * @index: port index within @dev
 * @id: this binding's number, never reused: a QP is bound to the port
 *	instance (@id), not to the slot @index, which a later bind reuses
 * @pt: our EtherType's packet handler, bound to @netdev only; its
 *	af_packet_priv points back at the port
 * @timer: HELLO transmission and neighbour ageing (discovery.c)
 * @next_hello: jiffies of the next HELLO; @lock
 * @lock: protects @neighs, @num_neigh, @link_up and @next_hello, and
 *	serialises link-state changes so that their notifications go out in
 *	the order the changes happened.  Taken from process, timer and
 *	receive (softirq) context: always spin_lock_bh().
 * @neighs: list of struct ml_neigh; @lock
 * @num_neigh: length of @neighs; @lock
 * @link_up: carrier up and at least one neighbour alive; @lock
 * @dying: set once removal started; the timer stops re-arming
 * @stats: per-CPU counters (stats.h)
 * @base: totals carried over from an earlier binding of the same device
 *	and netdev names (stats.c); written under RTNL before the port is
 *	published, constant afterwards
 */
struct ml_port {
	struct ml_dev *dev;
	struct net_device *netdev;
	netdevice_tracker dev_tracker;
	u32 index;
	u64 id;
	struct packet_type pt;
	struct timer_list timer;
	unsigned long next_hello;
	spinlock_t lock;	/* see above */
	struct list_head neighs;
	u32 num_neigh;
	bool link_up;
	bool dying;
	struct ml_pcpu_stats __percpu *stats;
	u64 base[__ML_STAT_MAX];
};

int ml_port_bind(struct net_device *netdev, struct ml_dev *dev, u32 node_id,
		 u32 hello_ms, u32 dead_ms, struct ml_port **out,
		 struct netlink_ext_ack *extack);
void ml_port_unbind(struct ml_port *port);
void ml_port_remove(struct ml_port *port);
struct ml_port *ml_port_find(const struct net_device *netdev);
bool ml_port_carrier_ok(const struct ml_port *port);
void ml_port_update_link(struct ml_port *port, u8 reason);
int ml_port_notifier_init(void);
void ml_port_notifier_exit(void);

#endif /* _ML_PORT_H */
