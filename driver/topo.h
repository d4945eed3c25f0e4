/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Topology: link-state flooding, so that every node sees the whole pod
 * (docs/wire.md section 7).
 */
#ifndef _ML_TOPO_H
#define _ML_TOPO_H

#include <linux/hashtable.h>
#include <linux/list.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/workqueue.h>
#include <linux/megalink.h>

struct in6_addr;
struct ml_dev;
struct ml_port;
struct sk_buff;

/* Own records are made at most this often, however fast links change. */
#define ML_TOPO_MIN_INTERVAL_MS	200
/* Withdrawn records are remembered this long, against stale copies. */
#define ML_TOPO_TOMBSTONE_MS	5000

/* One link of a record, in host order. */
struct ml_topo_link {
	u32 node;
	u8 local_port;
	u8 remote_port;
	u8 kind;		/* enum ml_topo_link_kind */
	u8 state;		/* enum ml_link_state */
	u32 mtu;
};

/**
 * struct ml_topo_node - the stored record of one node
 * @list: in ml_topo.nodes, sorted by @node_id
 * @hnode: in ml_topo.hash
 * @node_id: the record's origin
 * @seq: its sequence number
 * @stored: jiffies when this version was stored
 * @expires: jiffies when it ages out (not for the own record)
 * @self: the device's own record
 * @reachable: reachable from the own record over the links
 * @withdrawn: a tombstone: the origin withdrew its record
 * @mark: scratch of ml_topo_reach()
 * @num_links: entries of @links
 * @links: the links
 */
struct ml_topo_node {
	struct list_head list;
	struct hlist_node hnode;
	u32 node_id;
	u32 seq;
	unsigned long stored;
	unsigned long expires;
	bool self;
	bool reachable;
	bool withdrawn;
	bool mark;
	u16 num_links;
	struct ml_topo_link links[];
};

/**
 * struct ml_topo - a device's view of the fabric (embedded in ml_dev)
 * @lock: protects everything below but @work; taken from process,
 *	softirq (receive) and workqueue context: spin_lock_bh().  Never held
 *	while a port->lock is taken, nor the other way round: the receive
 *	path and discovery only queue @work (ml_topo_changed()).
 * @nodes: struct ml_topo_node, sorted by node id
 * @hash: the same, by node id
 * @num_nodes: entries of @nodes (tombstones included), <= ML_TOPO_MAX_NODES
 * @seq: sequence number of the last own record
 * @last_orig: jiffies of the last own record
 * @next_refresh: jiffies when the own record is sent again unchanged
 * @need_orig: something changed: make a new own record
 * @need_sync: a neighbour appeared: send it every record
 * @dying: set once the device goes away; @work is not queued any more
 * @work: origination, refresh, ageing, reachability (system_wq)
 */
struct ml_topo {
	spinlock_t lock;	/* see above */
	struct list_head nodes;
	DECLARE_HASHTABLE(hash, 6);
	unsigned int num_nodes;
	u32 seq;
	unsigned long last_orig;
	unsigned long next_refresh;
	bool need_orig;
	bool need_sync;
	bool dying;
	struct delayed_work work;
};

void ml_topo_init(struct ml_dev *dev);
void ml_topo_withdraw(struct ml_dev *dev);
void ml_topo_stop(struct ml_dev *dev);
void ml_topo_changed(struct ml_dev *dev, bool sync);
int ml_topo_rx(struct ml_port *port, struct sk_buff *skb,
	       const struct in6_addr *saddr);
u32 ml_topo_refresh_ms(const struct ml_dev *dev);
u32 ml_topo_lifetime_ms(const struct ml_dev *dev);

#endif /* _ML_TOPO_H */
