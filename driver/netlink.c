// SPDX-License-Identifier: GPL-2.0
/*
 * The "megalink" generic netlink family: the whole control surface.
 * docs/netlink/megalink.yaml is its specification.
 *
 * Locking: every command and every dump runs under RTNL, which is what
 * serialises all control-plane changes (device.h, port.h); the family is
 * therefore parallel_ops.  Notifications may be sent from any context,
 * including softirq under port->lock, so they allocate with GFP_ATOMIC.
 *
 * Permissions: commands that change state need CAP_NET_ADMIN in the
 * initial user namespace; they check it themselves (rather than with
 * GENL_ADMIN_PERM) so that the refusal carries an extack message.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/etherdevice.h>
#include <linux/in.h>
#include <linux/pid_namespace.h>
#include <linux/rtnetlink.h>
#include <net/genetlink.h>
#include <net/netlink.h>
#include <net/sock.h>

#include "compat.h"
#include "device.h"
#include "discovery.h"
#include "netlink.h"
#include "port.h"
#include "qp.h"
#include "topo.h"
#include "udp.h"
#include "wire.h"

static struct genl_family ml_genl_family;

enum { ML_MCGRP_MONITOR };

static const struct genl_multicast_group ml_mcgrps[] = {
	[ML_MCGRP_MONITOR] = { .name = ML_GENL_MCGRP_MONITOR },
};

static struct netlink_range_validation ml_node_id_range = {
	.min = ML_NODE_ID_MIN, .max = ML_NODE_ID_MAX,
};

static struct netlink_range_validation ml_hello_range = {
	.min = ML_HELLO_MS_MIN, .max = ML_HELLO_MS_MAX,
};

static struct netlink_range_validation ml_dead_range = {
	.min = ML_DEAD_MS_MIN, .max = ML_DEAD_MS_MAX,
};

static const struct nla_policy ml_dev_get_policy[ML_A_DEV_NAME + 1] = {
	[ML_A_DEV_INDEX] = NLA_POLICY_MAX(NLA_U32, ML_MAX_DEVICES - 1),
	[ML_A_DEV_NAME] = { .type = NLA_NUL_STRING, .len = ML_DEV_NAME_LEN - 1 },
};

static const struct nla_policy ml_dev_set_policy[ML_A_DEAD_MS + 1] = {
	[ML_A_DEV_INDEX] = NLA_POLICY_MAX(NLA_U32, ML_MAX_DEVICES - 1),
	[ML_A_DEV_NAME] = { .type = NLA_NUL_STRING, .len = ML_DEV_NAME_LEN - 1 },
	[ML_A_NODE_ID] = NLA_POLICY_FULL_RANGE(NLA_U32, &ml_node_id_range),
	[ML_A_HELLO_MS] = NLA_POLICY_FULL_RANGE(NLA_U32, &ml_hello_range),
	[ML_A_DEAD_MS] = NLA_POLICY_FULL_RANGE(NLA_U32, &ml_dead_range),
};

/* Selects a port: netdev, or device + port index.  Also PORT_UNBIND. */
static const struct nla_policy ml_port_get_policy[ML_A_IFNAME + 1] = {
	[ML_A_DEV_INDEX] = NLA_POLICY_MAX(NLA_U32, ML_MAX_DEVICES - 1),
	[ML_A_DEV_NAME] = { .type = NLA_NUL_STRING, .len = ML_DEV_NAME_LEN - 1 },
	[ML_A_PORT_INDEX] = NLA_POLICY_MAX(NLA_U32, ML_MAX_PORTS - 1),
	[ML_A_IFINDEX] = NLA_POLICY_MIN(NLA_U32, 1),
	[ML_A_IFNAME] = { .type = NLA_NUL_STRING, .len = IFNAMSIZ - 1 },
};

static const struct nla_policy ml_port_bind_policy[ML_A_IFNAME + 1] = {
	[ML_A_DEV_INDEX] = NLA_POLICY_MAX(NLA_U32, ML_MAX_DEVICES - 1),
	[ML_A_DEV_NAME] = { .type = NLA_NUL_STRING, .len = ML_DEV_NAME_LEN - 1 },
	[ML_A_NODE_ID] = NLA_POLICY_FULL_RANGE(NLA_U32, &ml_node_id_range),
	[ML_A_HELLO_MS] = NLA_POLICY_FULL_RANGE(NLA_U32, &ml_hello_range),
	[ML_A_DEAD_MS] = NLA_POLICY_FULL_RANGE(NLA_U32, &ml_dead_range),
	[ML_A_IFINDEX] = NLA_POLICY_MIN(NLA_U32, 1),
	[ML_A_IFNAME] = { .type = NLA_NUL_STRING, .len = IFNAMSIZ - 1 },
};

/* PEER_ADD, PEER_DEL; PEER_GET's dump filter is ml_dev_get_policy. */
static const struct nla_policy ml_peer_policy[ML_A_PEER_LOCAL6 + 1] = {
	[ML_A_DEV_INDEX] = NLA_POLICY_MAX(NLA_U32, ML_MAX_DEVICES - 1),
	[ML_A_DEV_NAME] = { .type = NLA_NUL_STRING, .len = ML_DEV_NAME_LEN - 1 },
	[ML_A_PEER_ADDR] = { .type = NLA_BE32 },
	[ML_A_PEER_LOCAL] = { .type = NLA_BE32 },
	[ML_A_PEER_ADDR6] = NLA_POLICY_EXACT_LEN(sizeof(struct in6_addr)),
	[ML_A_PEER_LOCAL6] = NLA_POLICY_EXACT_LEN(sizeof(struct in6_addr)),
};

/* ------------------------------------------------------------------ */
/* Message builders                                                    */
/* ------------------------------------------------------------------ */

static void *ml_nl_put_hdr(struct sk_buff *skb, u32 portid, u32 seq,
			   int flags, u8 cmd)
{
	return genlmsg_put(skb, portid, seq, &ml_genl_family, flags, cmd);
}

static int ml_nl_put_dev(struct sk_buff *skb, const struct ml_dev *dev)
{
	if (nla_put_u32(skb, ML_A_DEV_INDEX, dev->index) ||
	    nla_put_string(skb, ML_A_DEV_NAME, dev->name) ||
	    nla_put_u32(skb, ML_A_NODE_ID, READ_ONCE(dev->node_id)) ||
	    nla_put_u32(skb, ML_A_HELLO_MS, READ_ONCE(dev->hello_ms)) ||
	    nla_put_u32(skb, ML_A_DEAD_MS, READ_ONCE(dev->dead_ms)) ||
	    nla_put_u64_64bit(skb, ML_A_CAPS, ml_dev_caps(dev), ML_A_PAD) ||
	    nla_put_u32(skb, ML_A_ABI_VERSION, ML_ABI_VERSION) ||
	    nla_put_u16(skb, ML_A_ETHERTYPE, ml_ethertype) ||
	    nla_put_u32(skb, ML_A_NUM_PORTS, dev->num_ports) ||
	    nla_put_u32(skb, ML_A_NUM_CTX, atomic_read(&dev->nr[0])) ||
	    nla_put_u32(skb, ML_A_NUM_PDS, atomic_read(&dev->nr[ML_OBJ_PD])) ||
	    nla_put_u32(skb, ML_A_NUM_MRS, atomic_read(&dev->nr[ML_OBJ_MR])) ||
	    nla_put_u32(skb, ML_A_NUM_CQS, atomic_read(&dev->nr[ML_OBJ_CQ])) ||
	    nla_put_u32(skb, ML_A_NUM_QPS, atomic_read(&dev->nr[ML_OBJ_QP])) ||
	    nla_put_u64_64bit(skb, ML_A_PINNED_PAGES,
			      atomic64_read(&dev->pinned), ML_A_PAD))
		return -EMSGSIZE;
	return 0;
}

/* The QP's paths, one ML_A_PATH nest each; qp->lock held. */
static int ml_nl_put_paths(struct sk_buff *skb, const struct ml_qp *qp)
{
	const struct ml_paths *ps = &qp->paths;
	struct ml_port *port;
	struct nlattr *nest;
	unsigned int i;

	lockdep_assert_held(&qp->lock);
	if (nla_put_u32(skb, ML_A_NUM_PATHS, ps->num) ||
	    nla_put_u64_64bit(skb, ML_A_FAILOVERS, ps->failovers, ML_A_PAD) ||
	    nla_put_u32(skb, ML_A_CWND, qp->cwnd) ||
	    nla_put_u32(skb, ML_A_SSTHRESH, qp->ssthresh) ||
	    nla_put_u32(skb, ML_A_REORDER_NAK, qp->reorder_nak))
		return -EMSGSIZE;
	for (i = 0; i < ps->num; i++) {
		const struct ml_path *p = &ps->p[i];

		nest = nla_nest_start(skb, ML_A_PATH);
		if (!nest)
			return -EMSGSIZE;
		rcu_read_lock();
		port = rcu_dereference(qp->dev->ports[p->port_index]);
		if (port && port->id == p->port_id &&
		    nla_put_string(skb, ML_PATH_A_IFNAME, port->netdev->name)) {
			rcu_read_unlock();
			goto cancel;
		}
		rcu_read_unlock();
		if (nla_put_u32(skb, ML_PATH_A_INDEX, i) ||
		    nla_put_u32(skb, ML_PATH_A_PORT_INDEX, p->port_index) ||
		    nla_put_u32(skb, ML_PATH_A_REMOTE_PORT, p->remote_port) ||
		    nla_put(skb, ML_PATH_A_MAC, ETH_ALEN, p->dmac) ||
		    (p->udp && ipv6_addr_v4mapped(&p->daddr) &&
		     nla_put_in_addr(skb, ML_PATH_A_ADDR,
				     p->daddr.s6_addr32[3])) ||
		    (p->udp && !ipv6_addr_v4mapped(&p->daddr) &&
		     nla_put_in6_addr(skb, ML_PATH_A_ADDR6, &p->daddr)) ||
		    nla_put_u32(skb, ML_PATH_A_SRTT_US, p->srtt_us) ||
		    nla_put_u32(skb, ML_PATH_A_LOSS, p->loss) ||
		    nla_put_u64_64bit(skb, ML_PATH_A_TX_PACKETS, p->tx_pkts,
				      ML_PATH_A_PAD) ||
		    nla_put_u64_64bit(skb, ML_PATH_A_TX_BYTES, p->tx_bytes,
				      ML_PATH_A_PAD) ||
		    nla_put_u64_64bit(skb, ML_PATH_A_RETRANSMITS,
				      p->retransmits, ML_PATH_A_PAD))
			goto cancel;
		nla_nest_end(skb, nest);
	}
	return 0;

cancel:
	nla_nest_cancel(skb, nest);
	return -EMSGSIZE;
}

/*
 * A QP's state and counters; qp->lock held.  The owner's pid as @ns sees
 * it: 0 when it is not visible there, and without @ns (a notification,
 * multicast to readers in any pid namespace).
 */
static int ml_nl_put_qp(struct sk_buff *skb, const struct ml_qp *qp,
			struct pid_namespace *ns)
{
	pid_t owner = ns && !qp->dying ? pid_nr_ns(qp->owner, ns) : 0;

	lockdep_assert_held(&qp->lock);
	if (nla_put_u32(skb, ML_A_DEV_INDEX, qp->dev->index) ||
	    nla_put_string(skb, ML_A_DEV_NAME, qp->dev->name) ||
	    nla_put_u32(skb, ML_A_QPN, qp->qpn) ||
	    nla_put_u8(skb, ML_A_QP_STATE, qp->state) ||
	    nla_put_u8(skb, ML_A_QP_STATUS, qp->status) ||
	    nla_put_u32(skb, ML_A_OWNER_PID, owner) ||
	    nla_put_u32(skb, ML_A_REMOTE_NODE, qp->remote_node) ||
	    nla_put_u32(skb, ML_A_REMOTE_QPN, qp->remote_qpn) ||
	    nla_put_u32(skb, ML_A_PORT_INDEX, qp->paths.p[0].port_index) ||
	    nla_put_u32(skb, ML_A_SND_PSN, qp->snd_nxt) ||
	    nla_put_u32(skb, ML_A_SND_UNA, qp->snd_una) ||
	    nla_put_u32(skb, ML_A_RCV_PSN, qp->rcv_nxt) ||
	    nla_put_u32(skb, ML_A_OUTSTANDING, qp->swq_tail - qp->swq_head) ||
	    nla_put_u64_64bit(skb, ML_A_RETRANSMITS, qp->retransmits,
			      ML_A_PAD) ||
	    nla_put_u64_64bit(skb, ML_A_TIMEOUTS, qp->timeouts, ML_A_PAD) ||
	    nla_put_u64_64bit(skb, ML_A_RNR_NAKS, qp->rnr_naks, ML_A_PAD) ||
	    nla_put_u64_64bit(skb, ML_A_SEQ_NAKS, qp->seq_naks, ML_A_PAD))
		return -EMSGSIZE;
	return ml_nl_put_paths(skb, qp);
}

/* The attributes that name a port: device, port index and netdev. */
static int ml_nl_put_port_id(struct sk_buff *skb, const struct ml_port *port)
{
	if (nla_put_u32(skb, ML_A_DEV_INDEX, port->dev->index) ||
	    nla_put_string(skb, ML_A_DEV_NAME, port->dev->name) ||
	    nla_put_u32(skb, ML_A_PORT_INDEX, port->index) ||
	    nla_put_u32(skb, ML_A_IFINDEX, port->netdev->ifindex) ||
	    nla_put_string(skb, ML_A_IFNAME, port->netdev->name))
		return -EMSGSIZE;
	return 0;
}

/* Port state; the caller holds port->lock or RTNL (a snapshot is fine). */
static int ml_nl_put_port(struct sk_buff *skb, const struct ml_port *port,
			  bool link_up, u32 num_neigh)
{
	const struct net_device *nd = port->netdev;

	if (ml_nl_put_port_id(skb, port) ||
	    nla_put(skb, ML_A_MAC, ETH_ALEN, nd->dev_addr) ||
	    nla_put_u32(skb, ML_A_MTU, READ_ONCE(nd->mtu)) ||
	    nla_put_u8(skb, ML_A_CARRIER, ml_port_carrier_ok(port)) ||
	    nla_put_u8(skb, ML_A_LINK_STATE,
		       link_up ? ML_LINK_UP : ML_LINK_DOWN) ||
	    nla_put_u32(skb, ML_A_NUM_NEIGH, num_neigh))
		return -EMSGSIZE;
	return 0;
}

static int ml_nl_put_neigh(struct sk_buff *skb, const struct ml_port *port,
			   const struct ml_neigh *n)
{
	u32 age = jiffies_to_msecs(jiffies - n->last_seen);

	if (ml_nl_put_port_id(skb, port) ||
	    nla_put_u32(skb, ML_A_NEIGH_NODE_ID, n->node_id) ||
	    nla_put_u32(skb, ML_A_NEIGH_PORT_INDEX, n->port_index) ||
	    nla_put(skb, ML_A_NEIGH_MAC, ETH_ALEN, n->mac) ||
	    nla_put_string(skb, ML_A_NEIGH_DEV_NAME, n->dev_name) ||
	    nla_put_u64_64bit(skb, ML_A_NEIGH_CAPS, n->caps, ML_A_PAD) ||
	    nla_put_u32(skb, ML_A_NEIGH_AGE_MS, age) ||
	    nla_put_u32(skb, ML_A_NEIGH_DEAD_MS, n->dead_ms) ||
	    (n->mtu && nla_put_u32(skb, ML_A_NEIGH_MTU, n->mtu)) ||
	    (n->udp && ipv6_addr_v4mapped(&n->addr) &&
	     nla_put_in_addr(skb, ML_A_NEIGH_ADDR, n->addr.s6_addr32[3])) ||
	    (n->udp && !ipv6_addr_v4mapped(&n->addr) &&
	     nla_put_in6_addr(skb, ML_A_NEIGH_ADDR6, &n->addr)))
		return -EMSGSIZE;
	return 0;
}

static int ml_nl_put_stats(struct sk_buff *skb, const struct ml_port *port)
{
	u64 v[__ML_STAT_MAX];
	struct nlattr *nest;
	int i;

	if (ml_nl_put_port_id(skb, port))
		return -EMSGSIZE;
	nest = nla_nest_start(skb, ML_A_STATS);
	if (!nest)
		return -EMSGSIZE;
	ml_stats_read(port, v);
	for (i = ML_STAT_PAD + 1; i < __ML_STAT_MAX; i++)
		if (nla_put_u64_64bit(skb, i, v[i], ML_STAT_PAD)) {
			nla_nest_cancel(skb, nest);
			return -EMSGSIZE;
		}
	nla_nest_end(skb, nest);
	return 0;
}

/* One link of a topology record, as an ML_A_TOPO_LINK nest. */
static int ml_nl_put_topo_link(struct sk_buff *skb,
			       const struct ml_topo_link *l)
{
	struct nlattr *nest = nla_nest_start(skb, ML_A_TOPO_LINK);

	if (!nest)
		return -EMSGSIZE;
	if (nla_put_u32(skb, ML_A_TOPO_LINK_NODE_ID, l->node) ||
	    nla_put_u32(skb, ML_A_TOPO_LINK_LOCAL_PORT, l->local_port) ||
	    nla_put_u32(skb, ML_A_TOPO_LINK_REMOTE_PORT, l->remote_port) ||
	    nla_put_u8(skb, ML_A_TOPO_LINK_KIND, l->kind) ||
	    nla_put_u8(skb, ML_A_TOPO_LINK_STATE, l->state) ||
	    nla_put_u32(skb, ML_A_TOPO_LINK_MTU, l->mtu)) {
		nla_nest_cancel(skb, nest);
		return -EMSGSIZE;
	}
	nla_nest_end(skb, nest);
	return 0;
}

/* A stored record of @dev's view; dev->topo.lock held. */
static int ml_nl_put_topo_node(struct sk_buff *skb, const struct ml_dev *dev,
			       const struct ml_topo_node *n)
{
	unsigned long now = jiffies;
	u32 flags = 0, left = 0;
	unsigned int i;

	if (n->self)
		flags |= ML_TOPO_F_SELF;
	if (n->reachable)
		flags |= ML_TOPO_F_REACHABLE;
	if (!n->self && time_before(now, n->expires))
		left = jiffies_to_msecs(n->expires - now);
	else if (n->self)
		left = ml_topo_lifetime_ms(dev);
	if (nla_put_u32(skb, ML_A_DEV_INDEX, dev->index) ||
	    nla_put_string(skb, ML_A_DEV_NAME, dev->name) ||
	    nla_put_u32(skb, ML_A_TOPO_NODE_ID, n->node_id) ||
	    nla_put_u32(skb, ML_A_TOPO_SEQ, n->seq) ||
	    nla_put_u32(skb, ML_A_TOPO_AGE_MS,
			jiffies_to_msecs(now - n->stored)) ||
	    nla_put_u32(skb, ML_A_TOPO_LIFETIME_MS, left) ||
	    nla_put_u32(skb, ML_A_TOPO_FLAGS, flags) ||
	    nla_put_u32(skb, ML_A_TOPO_NUM_LINKS, n->num_links))
		return -EMSGSIZE;
	for (i = 0; i < n->num_links; i++)
		if (ml_nl_put_topo_link(skb, &n->links[i]))
			return -EMSGSIZE;
	return 0;
}

/* One whole message for @port of kind @cmd (port, neighbour-less ones). */
static int ml_nl_fill_port(struct sk_buff *skb, struct ml_port *port,
			   u32 portid, u32 seq, int flags, u8 cmd)
{
	void *hdr = ml_nl_put_hdr(skb, portid, seq, flags, cmd);
	int err;

	if (!hdr)
		return -EMSGSIZE;
	if (cmd == ML_CMD_STATS_GET) {
		err = ml_nl_put_stats(skb, port);
	} else {
		spin_lock_bh(&port->lock);
		err = ml_nl_put_port(skb, port, port->link_up,
				     port->num_neigh);
		spin_unlock_bh(&port->lock);
	}
	if (err) {
		genlmsg_cancel(skb, hdr);
		return err;
	}
	genlmsg_end(skb, hdr);
	return 0;
}

static int ml_nl_fill_dev(struct sk_buff *skb, const struct ml_dev *dev,
			  u32 portid, u32 seq, int flags, u8 cmd)
{
	void *hdr = ml_nl_put_hdr(skb, portid, seq, flags, cmd);

	if (!hdr)
		return -EMSGSIZE;
	if (ml_nl_put_dev(skb, dev)) {
		genlmsg_cancel(skb, hdr);
		return -EMSGSIZE;
	}
	genlmsg_end(skb, hdr);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Notifications                                                       */
/* ------------------------------------------------------------------ */

static struct sk_buff *ml_nl_ntf_start(struct net *net, void **hdr, u8 cmd)
{
	struct sk_buff *skb;

	if (!genl_has_listeners(&ml_genl_family, net, ML_MCGRP_MONITOR))
		return NULL;
	skb = genlmsg_new(NLMSG_DEFAULT_SIZE, GFP_ATOMIC);
	if (!skb)
		return NULL;
	*hdr = ml_nl_put_hdr(skb, 0, 0, 0, cmd);
	if (!*hdr) {
		nlmsg_free(skb);
		return NULL;
	}
	return skb;
}

static void ml_nl_ntf_send(struct net *net, struct sk_buff *skb, void *hdr,
			   int err)
{
	if (err) {
		nlmsg_free(skb);
		return;
	}
	genlmsg_end(skb, hdr);
	genlmsg_multicast_netns(&ml_genl_family, net, skb, 0,
				ML_MCGRP_MONITOR, GFP_ATOMIC);
}

void ml_nl_notify_dev(struct ml_dev *dev, u8 cmd)
{
	struct net *net = ml_dev_net(dev);
	struct sk_buff *skb;
	void *hdr;

	skb = ml_nl_ntf_start(net, &hdr, cmd);
	if (skb)
		ml_nl_ntf_send(net, skb, hdr, ml_nl_put_dev(skb, dev));
}

/* Called with port->lock held, so events leave in the order they happen. */
void ml_nl_notify_port(struct ml_port *port, bool up, u8 reason)
{
	struct net *net = ml_dev_net(port->dev);
	struct sk_buff *skb;
	void *hdr;
	int err;

	lockdep_assert_held(&port->lock);
	skb = ml_nl_ntf_start(net, &hdr, up ? ML_CMD_PORT_UP_NTF :
					       ML_CMD_PORT_DOWN_NTF);
	if (!skb)
		return;
	err = ml_nl_put_port(skb, port, up, port->num_neigh) ||
	      nla_put_u8(skb, ML_A_REASON, reason);
	ml_nl_ntf_send(net, skb, hdr, err);
}

void ml_nl_notify_neigh(struct ml_port *port, const struct ml_neigh *n,
			bool found)
{
	struct net *net = ml_dev_net(port->dev);
	struct sk_buff *skb;
	void *hdr;

	skb = ml_nl_ntf_start(net, &hdr, found ? ML_CMD_NEIGH_FOUND_NTF :
						  ML_CMD_NEIGH_LOST_NTF);
	if (skb)
		ml_nl_ntf_send(net, skb, hdr, ml_nl_put_neigh(skb, port, n));
}

/* Called with qp->lock held. */
void ml_nl_notify_qp_error(struct ml_qp *qp)
{
	struct net *net = ml_dev_net(qp->dev);
	struct sk_buff *skb;
	void *hdr;

	lockdep_assert_held(&qp->lock);
	skb = ml_nl_ntf_start(net, &hdr, ML_CMD_QP_ERROR_NTF);
	if (skb)
		ml_nl_ntf_send(net, skb, hdr, ml_nl_put_qp(skb, qp, NULL));
}

/*
 * A topology change seen by @dev: @event about @node (and @link of its
 * record).  Called with dev->topo.lock held, so events leave in order.
 */
void ml_nl_notify_topo(struct ml_dev *dev, u8 event, u32 node,
		       const struct ml_topo_link *link)
{
	struct net *net = ml_dev_net(dev);
	struct sk_buff *skb;
	void *hdr;
	int err;

	skb = ml_nl_ntf_start(net, &hdr, ML_CMD_TOPO_NTF);
	if (!skb)
		return;
	err = nla_put_u32(skb, ML_A_DEV_INDEX, dev->index) ||
	      nla_put_string(skb, ML_A_DEV_NAME, dev->name) ||
	      nla_put_u32(skb, ML_A_NODE_ID, READ_ONCE(dev->node_id)) ||
	      nla_put_u8(skb, ML_A_TOPO_EVENT, event) ||
	      nla_put_u32(skb, ML_A_TOPO_NODE_ID, node) ||
	      (link && ml_nl_put_topo_link(skb, link));
	ml_nl_ntf_send(net, skb, hdr, err);
}

/* ------------------------------------------------------------------ */
/* Lookups from attributes                                             */
/* ------------------------------------------------------------------ */

static int ml_nl_require_admin(struct sk_buff *skb,
			       struct netlink_ext_ack *extack)
{
	if (netlink_capable(skb, CAP_NET_ADMIN))
		return 0;
	NL_SET_ERR_MSG(extack, "CAP_NET_ADMIN required");
	return -EPERM;
}

static bool ml_nl_has_dev(struct nlattr **attrs)
{
	return attrs[ML_A_DEV_INDEX] || attrs[ML_A_DEV_NAME];
}

/* The device named by DEV_INDEX or DEV_NAME; RTNL held. */
static struct ml_dev *ml_nl_get_dev(struct net *net, struct nlattr **attrs,
				    struct netlink_ext_ack *extack)
{
	struct nlattr *bad = attrs[ML_A_DEV_INDEX] ?: attrs[ML_A_DEV_NAME];
	struct ml_dev *dev;

	ASSERT_RTNL();
	if (!bad) {
		NL_SET_ERR_MSG(extack, "dev-index or dev-name required");
		return ERR_PTR(-EINVAL);
	}
	if (attrs[ML_A_DEV_INDEX] && attrs[ML_A_DEV_NAME]) {
		NL_SET_ERR_MSG_ATTR(extack, attrs[ML_A_DEV_NAME],
				    "give dev-index or dev-name, not both");
		return ERR_PTR(-EINVAL);
	}
	if (attrs[ML_A_DEV_INDEX])
		dev = ml_dev_find(net, nla_get_u32(attrs[ML_A_DEV_INDEX]),
				  NULL);
	else
		dev = ml_dev_find(net, 0, nla_data(attrs[ML_A_DEV_NAME]));
	if (!dev) {
		NL_SET_ERR_MSG_ATTR(extack, bad, "no such megalink device");
		return ERR_PTR(-ENODEV);
	}
	return dev;
}

/* The netdev named by IFINDEX or IFNAME, or NULL; RTNL held. */
static struct net_device *ml_nl_get_netdev(struct net *net,
					   struct nlattr **attrs,
					   struct netlink_ext_ack *extack)
{
	struct net_device *nd;

	ASSERT_RTNL();
	if (attrs[ML_A_IFINDEX] && attrs[ML_A_IFNAME]) {
		NL_SET_ERR_MSG_ATTR(extack, attrs[ML_A_IFNAME],
				    "give ifindex or ifname, not both");
		return ERR_PTR(-EINVAL);
	}
	if (attrs[ML_A_IFINDEX])
		nd = __dev_get_by_index(net, nla_get_u32(attrs[ML_A_IFINDEX]));
	else
		nd = __dev_get_by_name(net, nla_data(attrs[ML_A_IFNAME]));
	if (!nd) {
		NL_SET_ERR_MSG_ATTR(extack,
				    attrs[ML_A_IFINDEX] ?: attrs[ML_A_IFNAME],
				    "no such network device");
		return ERR_PTR(-ENODEV);
	}
	return nd;
}

/* A port by IFINDEX/IFNAME or by device + PORT_INDEX; RTNL held. */
static struct ml_port *ml_nl_get_port(struct net *net, struct nlattr **attrs,
				      struct netlink_ext_ack *extack)
{
	struct net_device *nd;
	struct ml_port *port;
	struct ml_dev *dev;

	ASSERT_RTNL();
	if (attrs[ML_A_IFINDEX] || attrs[ML_A_IFNAME]) {
		nd = ml_nl_get_netdev(net, attrs, extack);
		if (IS_ERR(nd))
			return ERR_CAST(nd);
		port = ml_port_find(nd);
		if (!port) {
			NL_SET_ERR_MSG_ATTR(extack, attrs[ML_A_IFINDEX] ?:
					    attrs[ML_A_IFNAME],
					    "network device is not a megalink port");
			return ERR_PTR(-ENOENT);
		}
		return port;
	}
	if (!ml_nl_has_dev(attrs) || !attrs[ML_A_PORT_INDEX]) {
		NL_SET_ERR_MSG(extack,
			       "ifindex, ifname, or a device and port-index required");
		NL_SET_ERR_ATTR_MISS(extack, NULL, ML_A_IFINDEX);
		return ERR_PTR(-EINVAL);
	}
	dev = ml_nl_get_dev(net, attrs, extack);
	if (IS_ERR(dev))
		return ERR_CAST(dev);
	port = rtnl_dereference(dev->ports[nla_get_u32(attrs[ML_A_PORT_INDEX])]);
	if (!port) {
		NL_SET_ERR_MSG_ATTR(extack, attrs[ML_A_PORT_INDEX],
				    "no such port on this device");
		return ERR_PTR(-ENOENT);
	}
	return port;
}

/* dead_ms must leave room for at least two HELLOs. */
static int ml_nl_check_timing(struct nlattr **attrs, u32 hello_ms,
			      u32 dead_ms, struct netlink_ext_ack *extack)
{
	if (dead_ms >= 2 * hello_ms)
		return 0;
	NL_SET_ERR_MSG_ATTR(extack, attrs[ML_A_DEAD_MS] ?: attrs[ML_A_HELLO_MS],
			    "dead interval must be at least twice the hello interval");
	return -EINVAL;
}

/* ------------------------------------------------------------------ */
/* Commands                                                            */
/* ------------------------------------------------------------------ */

/* Answer with @port into @msg (consumed), or with a new message. */
static int ml_nl_reply_port_msg(struct genl_info *info, struct sk_buff *msg,
				struct ml_port *port, u8 cmd)
{
	int err;

	err = ml_nl_fill_port(msg, port, info->snd_portid, info->snd_seq, 0,
			      cmd);
	if (err) {
		nlmsg_free(msg);
		return err;
	}
	return genlmsg_reply(msg, info);
}

static int ml_nl_reply_port(struct genl_info *info, struct ml_port *port,
			    u8 cmd)
{
	struct sk_buff *msg;

	msg = genlmsg_new(NLMSG_DEFAULT_SIZE, GFP_KERNEL);
	if (!msg)
		return -ENOMEM;
	return ml_nl_reply_port_msg(info, msg, port, cmd);
}

static int ml_nl_dev_get_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct sk_buff *msg;
	struct ml_dev *dev;
	int err;

	msg = genlmsg_new(NLMSG_DEFAULT_SIZE, GFP_KERNEL);
	if (!msg)
		return -ENOMEM;
	rtnl_lock();
	dev = ml_nl_get_dev(genl_info_net(info), info->attrs, info->extack);
	if (IS_ERR(dev))
		err = PTR_ERR(dev);
	else
		err = ml_nl_fill_dev(msg, dev, info->snd_portid, info->snd_seq,
				     0, ML_CMD_DEV_GET);
	rtnl_unlock();
	if (err) {
		nlmsg_free(msg);
		return err;
	}
	return genlmsg_reply(msg, info);
}

/* Dumps resume from cb->args[0], the index of the next device. */
static int ml_nl_dev_get_dumpit(struct sk_buff *skb,
				struct netlink_callback *cb)
{
	struct net *net = sock_net(skb->sk);
	struct ml_dev *dev;
	unsigned long i;
	int err = 0;

	rtnl_lock();
	xa_for_each_start(&ml_devs, i, dev, cb->args[0]) {
		if (net_eq(ml_dev_net(dev), net)) {
			err = ml_nl_fill_dev(skb, dev,
					     NETLINK_CB(cb->skb).portid,
					     cb->nlh->nlmsg_seq, NLM_F_MULTI,
					     ML_CMD_DEV_GET);
			if (err)
				break;
		}
		cb->args[0] = i + 1;
	}
	rtnl_unlock();
	if (err == -EMSGSIZE && skb->len)
		return skb->len;
	return err ?: skb->len;
}

/*
 * Device filter of a port/neighbour/stats dump, checked once in .start so
 * that a bad filter is refused with a full extended ack.  cb->args[3] is
 * the filter's device index + 1, or 0 for all devices.
 */
static int ml_nl_dump_start(struct netlink_callback *cb)
{
	struct nlattr **attrs = ml_dump_attrs(cb);
	struct ml_dev *dev;

	if (!attrs || !ml_nl_has_dev(attrs))
		return 0;
	rtnl_lock();
	dev = ml_nl_get_dev(sock_net(cb->skb->sk), attrs, cb->extack);
	if (!IS_ERR(dev))
		cb->args[3] = dev->index + 1;
	rtnl_unlock();
	return PTR_ERR_OR_ZERO(dev);
}

/* Neighbours of one port from position cb->args[2]; port->lock taken. */
static int ml_nl_dump_neighs(struct sk_buff *skb, struct netlink_callback *cb,
			     struct ml_port *port)
{
	u32 portid = NETLINK_CB(cb->skb).portid;
	struct ml_neigh *n;
	long k = 0;
	void *hdr;
	int err = 0;

	spin_lock_bh(&port->lock);
	list_for_each_entry(n, &port->neighs, list) {
		if (k++ < cb->args[2])
			continue;
		hdr = ml_nl_put_hdr(skb, portid, cb->nlh->nlmsg_seq,
				    NLM_F_MULTI, ML_CMD_NEIGH_GET);
		if (!hdr) {
			err = -EMSGSIZE;
			break;
		}
		err = ml_nl_put_neigh(skb, port, n);
		if (err) {
			genlmsg_cancel(skb, hdr);
			break;
		}
		genlmsg_end(skb, hdr);
		cb->args[2] = k;
	}
	spin_unlock_bh(&port->lock);
	return err;
}

/*
 * Port, neighbour and stats dumps share one walk.  The cursor: cb->args[0]
 * is the device index, cb->args[1] the port index within it, cb->args[2]
 * the position in the port's neighbour list.
 */
static int ml_nl_port_walk(struct sk_buff *skb, struct netlink_callback *cb,
			   u8 cmd)
{
	struct net *net = sock_net(skb->sk);
	unsigned long filter = cb->args[3];
	struct ml_port *port;
	struct ml_dev *dev;
	unsigned long i;
	unsigned int p;
	int err = 0;

	rtnl_lock();
	xa_for_each_start(&ml_devs, i, dev, cb->args[0]) {
		if (i != cb->args[0]) {
			cb->args[1] = 0;
			cb->args[2] = 0;
		}
		cb->args[0] = i;
		if (!net_eq(ml_dev_net(dev), net) || (filter && i != filter - 1))
			continue;
		for (p = cb->args[1]; p < ML_MAX_PORTS; p++) {
			port = rtnl_dereference(dev->ports[p]);
			if (port && cmd == ML_CMD_NEIGH_GET)
				err = ml_nl_dump_neighs(skb, cb, port);
			else if (port)
				err = ml_nl_fill_port(skb, port,
						      NETLINK_CB(cb->skb).portid,
						      cb->nlh->nlmsg_seq,
						      NLM_F_MULTI, cmd);
			if (err)
				goto out;
			cb->args[1] = p + 1;
			cb->args[2] = 0;
		}
	}
	/* Past the last device: the next call finds nothing. */
	cb->args[0] = ULONG_MAX;
out:
	rtnl_unlock();
	if (err == -EMSGSIZE && skb->len)
		return skb->len;
	return err ?: skb->len;
}

/* QPs: cursor cb->args[0] device index, cb->args[1] next QP number. */
static int ml_nl_qp_get_dumpit(struct sk_buff *skb,
			       struct netlink_callback *cb)
{
	struct net *net = sock_net(skb->sk);
	unsigned long filter = cb->args[3];
	unsigned long i, q;
	struct ml_dev *dev;
	struct ml_qp *qp;
	void *hdr;
	int err = 0;

	rtnl_lock();
	xa_for_each_start(&ml_devs, i, dev, cb->args[0]) {
		if (i != cb->args[0])
			cb->args[1] = 0;
		cb->args[0] = i;
		if (!net_eq(ml_dev_net(dev), net) || (filter && i != filter - 1))
			continue;
		rcu_read_lock();
		xa_for_each_start(&dev->qps, q, qp, cb->args[1]) {
			hdr = ml_nl_put_hdr(skb, NETLINK_CB(cb->skb).portid,
					    cb->nlh->nlmsg_seq, NLM_F_MULTI,
					    ML_CMD_QP_GET);
			if (!hdr) {
				err = -EMSGSIZE;
				break;
			}
			spin_lock_bh(&qp->lock);
			err = ml_nl_put_qp(skb, qp,
					   task_active_pid_ns(current));
			spin_unlock_bh(&qp->lock);
			if (err) {
				genlmsg_cancel(skb, hdr);
				break;
			}
			genlmsg_end(skb, hdr);
			cb->args[1] = q + 1;
		}
		rcu_read_unlock();
		if (err)
			goto out;
	}
	cb->args[0] = ULONG_MAX;
out:
	rtnl_unlock();
	if (err == -EMSGSIZE && skb->len)
		return skb->len;
	return err ?: skb->len;
}

static int ml_nl_port_get_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct ml_port *port;
	int err;

	rtnl_lock();
	port = ml_nl_get_port(genl_info_net(info), info->attrs, info->extack);
	err = IS_ERR(port) ? PTR_ERR(port) :
	      ml_nl_reply_port(info, port, ML_CMD_PORT_GET);
	rtnl_unlock();
	return err;
}

static int ml_nl_port_get_dumpit(struct sk_buff *skb,
				 struct netlink_callback *cb)
{
	return ml_nl_port_walk(skb, cb, ML_CMD_PORT_GET);
}

static int ml_nl_stats_get_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct ml_port *port;
	int err;

	rtnl_lock();
	port = ml_nl_get_port(genl_info_net(info), info->attrs, info->extack);
	err = IS_ERR(port) ? PTR_ERR(port) :
	      ml_nl_reply_port(info, port, ML_CMD_STATS_GET);
	rtnl_unlock();
	return err;
}

static int ml_nl_stats_get_dumpit(struct sk_buff *skb,
				  struct netlink_callback *cb)
{
	return ml_nl_port_walk(skb, cb, ML_CMD_STATS_GET);
}

static int ml_nl_neigh_get_dumpit(struct sk_buff *skb,
				  struct netlink_callback *cb)
{
	return ml_nl_port_walk(skb, cb, ML_CMD_NEIGH_GET);
}

static u32 ml_nl_get_u32(struct nlattr *attr, u32 def)
{
	return attr ? nla_get_u32(attr) : def;
}

static int ml_nl_port_bind_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct nlattr **attrs = info->attrs;
	struct netlink_ext_ack *extack = info->extack;
	struct net *net = genl_info_net(info);
	u32 hello_ms, dead_ms, node_id;
	struct ml_dev *dev = NULL;
	struct net_device *nd;
	struct sk_buff *msg;
	struct ml_port *port;
	int err;

	err = ml_nl_require_admin(skb, extack);
	if (err)
		return err;
	if (!attrs[ML_A_IFINDEX] && !attrs[ML_A_IFNAME]) {
		NL_SET_ERR_MSG(extack, "ifindex or ifname required");
		NL_SET_ERR_ATTR_MISS(extack, NULL, ML_A_IFINDEX);
		return -EINVAL;
	}
	/* The answer first: once bound, nothing may fail for lack of memory. */
	msg = genlmsg_new(NLMSG_DEFAULT_SIZE, GFP_KERNEL);
	if (!msg)
		return -ENOMEM;

	rtnl_lock();
	nd = ml_nl_get_netdev(net, attrs, extack);
	if (IS_ERR(nd)) {
		err = PTR_ERR(nd);
		goto out;
	}
	if (ml_nl_has_dev(attrs)) {
		dev = ml_nl_get_dev(net, attrs, extack);
		if (IS_ERR(dev)) {
			err = PTR_ERR(dev);
			goto out;
		}
		if (attrs[ML_A_NODE_ID] || attrs[ML_A_HELLO_MS] ||
		    attrs[ML_A_DEAD_MS]) {
			NL_SET_ERR_MSG_ATTR(extack, attrs[ML_A_NODE_ID] ?:
					    attrs[ML_A_HELLO_MS] ?:
					    attrs[ML_A_DEAD_MS],
					    "settings of an existing device are changed with dev-set");
			err = -EINVAL;
			goto out;
		}
	}
	node_id = ml_nl_get_u32(attrs[ML_A_NODE_ID], 0);
	hello_ms = ml_nl_get_u32(attrs[ML_A_HELLO_MS], ml_default_hello_ms);
	dead_ms = ml_nl_get_u32(attrs[ML_A_DEAD_MS],
				max(ml_default_dead_ms, 2 * hello_ms));
	err = ml_nl_check_timing(attrs, hello_ms, dead_ms, extack);
	if (err)
		goto out;

	err = ml_port_bind(nd, dev, node_id, hello_ms, dead_ms, &port, extack);
	if (err == -EOPNOTSUPP || err == -ENETDOWN || err == -EBUSY ||
	    err == -EEXIST)
		NL_SET_BAD_ATTR(extack, err == -EEXIST ? attrs[ML_A_NODE_ID] :
				attrs[ML_A_IFINDEX] ?: attrs[ML_A_IFNAME]);
	if (!err) {
		err = ml_nl_reply_port_msg(info, msg, port, ML_CMD_PORT_BIND);
		msg = NULL;
	}
out:
	rtnl_unlock();
	nlmsg_free(msg);
	return err;
}

static int ml_nl_port_unbind_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct ml_port *port;
	int err;

	err = ml_nl_require_admin(skb, info->extack);
	if (err)
		return err;
	rtnl_lock();
	port = ml_nl_get_port(genl_info_net(info), info->attrs, info->extack);
	if (IS_ERR(port))
		err = PTR_ERR(port);
	else
		ml_port_remove(port);
	rtnl_unlock();
	return err;
}

static int ml_nl_dev_set_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct nlattr **attrs = info->attrs;
	struct netlink_ext_ack *extack = info->extack;
	u32 node_id, hello_ms, dead_ms;
	struct ml_dev *dev, *other;
	int err;

	err = ml_nl_require_admin(skb, extack);
	if (err)
		return err;
	if (!ml_nl_has_dev(attrs)) {
		NL_SET_ERR_MSG(extack, "dev-index or dev-name required");
		NL_SET_ERR_ATTR_MISS(extack, NULL, ML_A_DEV_INDEX);
		return -EINVAL;
	}
	if (!attrs[ML_A_NODE_ID] && !attrs[ML_A_HELLO_MS] &&
	    !attrs[ML_A_DEAD_MS]) {
		NL_SET_ERR_MSG(extack, "nothing to set: give node-id, hello-ms or dead-ms");
		return -EINVAL;
	}

	rtnl_lock();
	dev = ml_nl_get_dev(genl_info_net(info), attrs, extack);
	if (IS_ERR(dev)) {
		err = PTR_ERR(dev);
		goto out;
	}
	node_id = ml_nl_get_u32(attrs[ML_A_NODE_ID], 0);
	hello_ms = ml_nl_get_u32(attrs[ML_A_HELLO_MS], dev->hello_ms);
	dead_ms = ml_nl_get_u32(attrs[ML_A_DEAD_MS], dev->dead_ms);
	err = ml_nl_check_timing(attrs, hello_ms, dead_ms, extack);
	if (err)
		goto out;
	other = node_id ? ml_dev_by_node_id(node_id) : NULL;
	if (other && other != dev) {
		NL_SET_ERR_MSG(extack, "node id is used by another megalink device");
		NL_SET_BAD_ATTR(extack, attrs[ML_A_NODE_ID]);
		err = -EEXIST;
		goto out;
	}
	ml_dev_set_timing(dev, node_id, hello_ms, dead_ms);
out:
	rtnl_unlock();
	return err;
}

/* A unicast IPv4 address from @attr, v4-mapped; else -EINVAL naming it. */
static int ml_nl_get_in_addr(struct nlattr *attr, struct in6_addr *addr,
			     struct netlink_ext_ack *extack)
{
	__be32 a = nla_get_in_addr(attr);

	if (ipv4_is_zeronet(a) || ipv4_is_multicast(a) ||
	    ipv4_is_lbcast(a) || ipv4_is_loopback(a)) {
		NL_SET_ERR_MSG_ATTR(extack, attr,
				    "not a unicast IPv4 address");
		return -EINVAL;
	}
	ipv6_addr_set_v4mapped(a, addr);
	return 0;
}

/*
 * A global or unique-local unicast IPv6 address from @attr (the policy
 * checked its length); else -EINVAL naming it.  v4-mapped addresses are
 * for peer-addr, link-local ones would need an interface to be reached.
 */
static int ml_nl_get_in6_addr(struct nlattr *attr, struct in6_addr *addr,
			      struct netlink_ext_ack *extack)
{
	struct in6_addr a = nla_get_in6_addr(attr);
	int type = ipv6_addr_type(&a);

	if (type == IPV6_ADDR_ANY)
		NL_SET_ERR_MSG_ATTR(extack, attr, "unspecified IPv6 address (::)");
	else if (type & IPV6_ADDR_MAPPED)
		NL_SET_ERR_MSG_ATTR(extack, attr,
				    "v4-mapped IPv6 address: use the IPv4 attribute");
	else if (type & IPV6_ADDR_MULTICAST)
		NL_SET_ERR_MSG_ATTR(extack, attr, "multicast IPv6 address");
	else if (type & IPV6_ADDR_LOOPBACK)
		NL_SET_ERR_MSG_ATTR(extack, attr, "loopback IPv6 address");
	else if (type & IPV6_ADDR_LINKLOCAL)
		NL_SET_ERR_MSG_ATTR(extack, attr,
				    "link-local IPv6 address: not supported");
	else if (!(type & IPV6_ADDR_UNICAST) || (type & IPV6_ADDR_COMPATv4))
		NL_SET_ERR_MSG_ATTR(extack, attr, "not a unicast IPv6 address");
	else
		goto ok;
	return -EINVAL;
ok:
	*addr = a;
	return 0;
}

/*
 * The peer address and the optional local one of PEER_ADD or PEER_DEL:
 * peer-addr (IPv4) with peer-local, or peer-addr6 with peer-local6.
 */
static int ml_nl_get_peer(struct nlattr **attrs, bool add,
			  struct in6_addr *addr, struct in6_addr *local,
			  struct netlink_ext_ack *extack)
{
	struct nlattr *a4 = attrs[ML_A_PEER_ADDR], *a6 = attrs[ML_A_PEER_ADDR6];
	struct nlattr *l4 = attrs[ML_A_PEER_LOCAL];
	struct nlattr *l6 = attrs[ML_A_PEER_LOCAL6];
	struct nlattr *l = a6 ? l6 : l4, *wrong = a6 ? l4 : l6;
	int err;

	if (!a4 && !a6) {
		NL_SET_ERR_MSG(extack, "peer-addr or peer-addr6 required");
		NL_SET_ERR_ATTR_MISS(extack, NULL, ML_A_PEER_ADDR);
		return -EINVAL;
	}
	if (a4 && a6) {
		NL_SET_ERR_MSG_ATTR(extack, a6,
				    "peer-addr and peer-addr6 are exclusive");
		return -EINVAL;
	}
	if (wrong) {
		if (a6)
			NL_SET_ERR_MSG_ATTR(extack, wrong,
					    "peer-local is IPv4: peer-addr6 takes peer-local6");
		else
			NL_SET_ERR_MSG_ATTR(extack, wrong,
					    "peer-local6 is IPv6: peer-addr takes peer-local");
		return -EINVAL;
	}
	err = a6 ? ml_nl_get_in6_addr(a6, addr, extack) :
		   ml_nl_get_in_addr(a4, addr, extack);
	if (err)
		return err;
	*local = in6addr_any;
	if (!l)
		return 0;
	if (!add) {
		if (a6)
			NL_SET_ERR_MSG_ATTR(extack, l,
					    "peer-local6 is only for peer-add");
		else
			NL_SET_ERR_MSG_ATTR(extack, l,
					    "peer-local is only for peer-add");
		return -EINVAL;
	}
	return a6 ? ml_nl_get_in6_addr(l, local, extack) :
		    ml_nl_get_in_addr(l, local, extack);
}

static int ml_nl_peer_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct nlattr **attrs = info->attrs;
	struct netlink_ext_ack *extack = info->extack;
	bool add = info->genlhdr->cmd == ML_CMD_PEER_ADD;
	struct in6_addr addr, local;
	struct nlattr *addr_attr;
	struct ml_dev *dev;
	int err;

	err = ml_nl_require_admin(skb, extack);
	if (err)
		return err;
	if (!ml_nl_has_dev(attrs)) {
		NL_SET_ERR_MSG(extack, "dev-index or dev-name required");
		NL_SET_ERR_ATTR_MISS(extack, NULL, ML_A_DEV_INDEX);
		return -EINVAL;
	}
	err = ml_nl_get_peer(attrs, add, &addr, &local, extack);
	if (err)
		return err;
	addr_attr = attrs[ML_A_PEER_ADDR] ?: attrs[ML_A_PEER_ADDR6];

	rtnl_lock();
	dev = ml_nl_get_dev(genl_info_net(info), attrs, extack);
	if (IS_ERR(dev)) {
		err = PTR_ERR(dev);
	} else if (add) {
		err = ml_peer_add(dev, &addr, &local, extack);
		if (err == -EEXIST)
			NL_SET_BAD_ATTR(extack, addr_attr);
	} else {
		err = ml_peer_del(dev, &addr);
		if (err)
			NL_SET_ERR_MSG_ATTR(extack, addr_attr,
					    "no such peer on this device");
	}
	rtnl_unlock();
	return err;
}

/* peer-addr [peer-local] of an IPv4 peer, peer-addr6 [peer-local6] else. */
static int ml_nl_put_peer_addrs(struct sk_buff *skb,
				const struct ml_peer *peer)
{
	bool local = !ipv6_addr_any(&peer->local);

	if (ipv6_addr_v4mapped(&peer->addr))
		return nla_put_in_addr(skb, ML_A_PEER_ADDR,
				       peer->addr.s6_addr32[3]) ||
		       (local && nla_put_in_addr(skb, ML_A_PEER_LOCAL,
						 peer->local.s6_addr32[3]));
	return nla_put_in6_addr(skb, ML_A_PEER_ADDR6, &peer->addr) ||
	       (local && nla_put_in6_addr(skb, ML_A_PEER_LOCAL6, &peer->local));
}

/* Peers of the devices; cb->args[0] device index, cb->args[1] position. */
static int ml_nl_peer_get_dumpit(struct sk_buff *skb,
				 struct netlink_callback *cb)
{
	struct net *net = sock_net(skb->sk);
	unsigned long filter = cb->args[3];
	struct ml_peer *peer;
	struct ml_dev *dev;
	unsigned long i;
	int err = 0;
	void *hdr;
	long k;

	rtnl_lock();
	xa_for_each_start(&ml_devs, i, dev, cb->args[0]) {
		if (i != cb->args[0])
			cb->args[1] = 0;
		cb->args[0] = i;
		if (!net_eq(ml_dev_net(dev), net) || (filter && i != filter - 1))
			continue;
		k = 0;
		list_for_each_entry(peer, &dev->peers, list) {
			if (k++ < cb->args[1])
				continue;
			hdr = ml_nl_put_hdr(skb, NETLINK_CB(cb->skb).portid,
					    cb->nlh->nlmsg_seq, NLM_F_MULTI,
					    ML_CMD_PEER_GET);
			if (!hdr) {
				err = -EMSGSIZE;
				goto out;
			}
			if (nla_put_u32(skb, ML_A_DEV_INDEX, dev->index) ||
			    nla_put_string(skb, ML_A_DEV_NAME, dev->name) ||
			    ml_nl_put_peer_addrs(skb, peer) ||
			    nla_put_u16(skb, ML_A_UDP_PORT, ml_udp_port)) {
				genlmsg_cancel(skb, hdr);
				err = -EMSGSIZE;
				goto out;
			}
			genlmsg_end(skb, hdr);
			cb->args[1] = k;
		}
		cb->args[0] = i + 1;
		cb->args[1] = 0;
	}
out:
	rtnl_unlock();
	if (err == -EMSGSIZE && skb->len)
		return skb->len;
	return err ?: skb->len;
}

/*
 * The topology as each device sees it: one message per stored record.
 * Cursor: cb->args[0] device index, cb->args[1] position in its list.
 */
static int ml_nl_topo_get_dumpit(struct sk_buff *skb,
				 struct netlink_callback *cb)
{
	struct net *net = sock_net(skb->sk);
	unsigned long filter = cb->args[3];
	struct ml_topo_node *n;
	struct ml_dev *dev;
	unsigned long i;
	int err = 0;
	void *hdr;
	long k;

	rtnl_lock();
	xa_for_each_start(&ml_devs, i, dev, cb->args[0]) {
		if (i != cb->args[0])
			cb->args[1] = 0;
		cb->args[0] = i;
		if (!net_eq(ml_dev_net(dev), net) || (filter && i != filter - 1))
			continue;
		k = 0;
		spin_lock_bh(&dev->topo.lock);
		list_for_each_entry(n, &dev->topo.nodes, list) {
			if (n->withdrawn || k++ < cb->args[1])
				continue;
			hdr = ml_nl_put_hdr(skb, NETLINK_CB(cb->skb).portid,
					    cb->nlh->nlmsg_seq, NLM_F_MULTI,
					    ML_CMD_TOPO_GET);
			if (!hdr) {
				err = -EMSGSIZE;
				break;
			}
			err = ml_nl_put_topo_node(skb, dev, n);
			if (err) {
				genlmsg_cancel(skb, hdr);
				break;
			}
			genlmsg_end(skb, hdr);
			cb->args[1] = k;
		}
		spin_unlock_bh(&dev->topo.lock);
		if (err)
			goto out;
		cb->args[0] = i + 1;
		cb->args[1] = 0;
	}
	cb->args[0] = ULONG_MAX;
out:
	rtnl_unlock();
	if (err == -EMSGSIZE && skb->len)
		return skb->len;
	return err ?: skb->len;
}

static const struct genl_ops ml_genl_ops[] = {
	{
		.cmd = ML_CMD_DEV_GET,
		.doit = ml_nl_dev_get_doit,
		.dumpit = ml_nl_dev_get_dumpit,
		.policy = ml_dev_get_policy,
		.maxattr = ARRAY_SIZE(ml_dev_get_policy) - 1,
	},
	{
		.cmd = ML_CMD_DEV_SET,
		.doit = ml_nl_dev_set_doit,
		.policy = ml_dev_set_policy,
		.maxattr = ARRAY_SIZE(ml_dev_set_policy) - 1,
	},
	{
		.cmd = ML_CMD_PORT_GET,
		.doit = ml_nl_port_get_doit,
		.start = ml_nl_dump_start,
		.dumpit = ml_nl_port_get_dumpit,
		.policy = ml_port_get_policy,
		.maxattr = ARRAY_SIZE(ml_port_get_policy) - 1,
	},
	{
		.cmd = ML_CMD_PORT_BIND,
		.doit = ml_nl_port_bind_doit,
		.policy = ml_port_bind_policy,
		.maxattr = ARRAY_SIZE(ml_port_bind_policy) - 1,
	},
	{
		.cmd = ML_CMD_PORT_UNBIND,
		.doit = ml_nl_port_unbind_doit,
		.policy = ml_port_get_policy,
		.maxattr = ARRAY_SIZE(ml_port_get_policy) - 1,
	},
	{
		.cmd = ML_CMD_NEIGH_GET,
		.start = ml_nl_dump_start,
		.dumpit = ml_nl_neigh_get_dumpit,
		.policy = ml_dev_get_policy,
		.maxattr = ARRAY_SIZE(ml_dev_get_policy) - 1,
	},
	{
		.cmd = ML_CMD_QP_GET,
		.start = ml_nl_dump_start,
		.dumpit = ml_nl_qp_get_dumpit,
		.policy = ml_dev_get_policy,
		.maxattr = ARRAY_SIZE(ml_dev_get_policy) - 1,
	},
	{
		.cmd = ML_CMD_STATS_GET,
		.doit = ml_nl_stats_get_doit,
		.start = ml_nl_dump_start,
		.dumpit = ml_nl_stats_get_dumpit,
		.policy = ml_port_get_policy,
		.maxattr = ARRAY_SIZE(ml_port_get_policy) - 1,
	},
	{
		.cmd = ML_CMD_PEER_ADD,
		.doit = ml_nl_peer_doit,
		.policy = ml_peer_policy,
		.maxattr = ARRAY_SIZE(ml_peer_policy) - 1,
	},
	{
		.cmd = ML_CMD_PEER_DEL,
		.doit = ml_nl_peer_doit,
		.policy = ml_peer_policy,
		.maxattr = ARRAY_SIZE(ml_peer_policy) - 1,
	},
	{
		.cmd = ML_CMD_PEER_GET,
		.start = ml_nl_dump_start,
		.dumpit = ml_nl_peer_get_dumpit,
		.policy = ml_dev_get_policy,
		.maxattr = ARRAY_SIZE(ml_dev_get_policy) - 1,
	},
	{
		.cmd = ML_CMD_TOPO_GET,
		.start = ml_nl_dump_start,
		.dumpit = ml_nl_topo_get_dumpit,
		.policy = ml_dev_get_policy,
		.maxattr = ARRAY_SIZE(ml_dev_get_policy) - 1,
	},
};

static struct genl_family ml_genl_family __ro_after_init = {
	.name = ML_GENL_NAME,
	.version = ML_GENL_VERSION,
	.module = THIS_MODULE,
	.netnsok = true,
	.parallel_ops = true,
	.ops = ml_genl_ops,
	.n_ops = ARRAY_SIZE(ml_genl_ops),
	.mcgrps = ml_mcgrps,
	.n_mcgrps = ARRAY_SIZE(ml_mcgrps),
};

int __init ml_genl_init(void)
{
	return genl_register_family(&ml_genl_family);
}

void ml_genl_exit(void)
{
	genl_unregister_family(&ml_genl_family);
}
