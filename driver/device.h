/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _ML_DEVICE_H
#define _ML_DEVICE_H

#include <linux/kref.h>
#include <linux/list.h>
#include <linux/rcupdate.h>
#include <linux/rtnetlink.h>
#include <linux/xarray.h>
#include <net/net_namespace.h>
#include <linux/megalink.h>

#include "topo.h"

struct ml_port;
struct netlink_ext_ack;

#define ML_MAX_DEVS ML_MAX_DEVICES

/**
 * struct ml_dev - a node's fabric adapter (ml0, ml1, ...)
 * @ref: held by the device table and by every open file of the char device
 * @rcu: the memory is freed an RCU grace period after the last put
 * @net: the network namespace of its ports; no reference is held, the
 *	device is destroyed with its last port, before the namespace can go
 * @index: N of mlN, also the char device minor
 * @name: "mlN"
 * @node_id: pod-unique node id; written under RTNL, read locklessly
 * @hello_ms: HELLO interval; written under RTNL, read locklessly
 * @dead_ms: dead interval advertised to neighbours; as @hello_ms
 * @ports: bound ports by port index; RCU, written under RTNL
 * @num_ports: number of non-NULL @ports; RTNL
 * @dead: set under RTNL when the device is unregistered; open files then
 *	get -ENODEV
 * @mrs: memory regions by key index (mr.c)
 * @mr_next: cursor of the cyclic key allocation
 * @qps: queue pairs by QP number (qp.c)
 * @qp_next: cursor of the cyclic QP number allocation
 * @nr_qps: QPs created and not yet destroyed, at most ML_MAX_QP_PER_DEV
 * @nr: live objects of each enum ml_obj_type, [0] counts open files
 * @pinned: pages pinned by the device's MRs
 * @peers: UDP peers (struct ml_peer, udp.c) added by address; an RCU list,
 *	changed under RTNL, read under RCU by the HELLO timer and receive
 * @num_peers: length of @peers, at most ML_MAX_PEERS; RTNL
 * @topo: the device's view of the fabric (topo.c, locking in topo.h)
 * @topo_bfs: scratch queue of the reachability walk; @topo.lock
 * @path_gen: bumped on every change of the ports' link states and
 *	neighbour tables; QPs resolve their paths again when it moved (path.c)
 */
struct ml_dev {
	struct kref ref;
	struct rcu_head rcu;
	possible_net_t net;
	u32 index;
	char name[ML_DEV_NAME_LEN];
	u32 node_id;
	u32 hello_ms;
	u32 dead_ms;
	struct ml_port __rcu *ports[ML_MAX_PORTS];
	unsigned int num_ports;
	bool dead;
	struct xarray mrs;
	u32 mr_next;
	struct xarray qps;
	u32 qp_next;
	atomic_t nr_qps;
	atomic_t nr[ML_OBJ_QP + 1];
	atomic64_t pinned;
	struct list_head peers;
	unsigned int num_peers;
	struct ml_topo topo;
	struct ml_topo_node *topo_bfs[ML_TOPO_MAX_NODES];
	atomic_t path_gen;
};

/*
 * Locking: every megalink device lives in ml_devs, an xarray indexed by
 * device index.  Devices are added and removed, and their ports bound and
 * unbound, only under RTNL.  Lookups under RTNL need nothing more; the char
 * device's open() looks up under RCU and takes a reference with
 * kref_get_unless_zero().
 */
extern struct xarray ml_devs;

static inline struct net *ml_dev_net(const struct ml_dev *dev)
{
	return read_pnet(&dev->net);
}

/* Port @i of @dev or NULL; RTNL held. */
static inline struct ml_port *ml_dev_port(struct ml_dev *dev, unsigned int i)
{
	return rtnl_dereference(dev->ports[i]);
}

extern unsigned int ml_default_hello_ms;
extern unsigned int ml_default_dead_ms;

struct ml_dev *ml_dev_create(struct net *net, u32 node_id, u32 hello_ms,
			     u32 dead_ms, struct netlink_ext_ack *extack);
void ml_dev_destroy(struct ml_dev *dev);
void ml_dev_destroy_all(void);
void ml_dev_put(struct ml_dev *dev);
struct ml_dev *ml_dev_get_by_minor(unsigned int minor);
struct ml_dev *ml_dev_find(struct net *net, u32 index, const char *name);
struct ml_dev *ml_dev_by_node_id(u32 node_id);
u32 ml_dev_node_id_from_mac(const u8 *mac);
u64 ml_dev_caps(const struct ml_dev *dev);
void ml_dev_set_timing(struct ml_dev *dev, u32 node_id, u32 hello_ms,
		       u32 dead_ms);

#endif /* _ML_DEVICE_H */
