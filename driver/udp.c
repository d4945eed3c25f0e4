// SPDX-License-Identifier: GPL-2.0
/*
 * UDP over IPv4: megalink frames to and from peers outside the broadcast
 * domain.  One kernel UDP socket per network namespace, bound to udp_port,
 * open while at least one device of the namespace has a peer.
 *
 * A device's UDP traffic goes through its lowest bound port, the "host
 * port" (ml_udp_host_port()): UDP neighbours live in that port's
 * neighbour table, keyed by address, its timer sends their HELLOs and its
 * counters count their frames.
 *
 * Locking:
 * - dev->peers is an RCU list, changed under RTNL only; dev->num_peers and
 *   struct ml_net's @users are RTNL.
 * - ml_net->sock is RCU: the transmitters and the receive path use it
 *   under rcu_read_lock(); it is cleared under RTNL and the socket released
 *   by udp_tunnel_sock_release(), which waits for an RCU grace period
 *   before it frees anything.
 * - Receive (encap_rcv) runs in softirq under RCU, and finds the device
 *   and its host port under RCU as the Ethernet receive path does.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/inetdevice.h>
#include <linux/jhash.h>
#include <linux/module.h>
#include <linux/netdevice.h>
#include <linux/rtnetlink.h>
#include <linux/skbuff.h>
#include <linux/slab.h>
#include <net/inet_ecn.h>
#include <net/ip.h>
#include <net/netns/generic.h>
#include <net/route.h>
#include <net/udp_tunnel.h>

#include "device.h"
#include "discovery.h"
#include "port.h"
#include "udp.h"
#include "wire.h"

u16 ml_udp_port = ML_UDP_PORT_DEFAULT;
module_param_named(udp_port, ml_udp_port, ushort, 0444);
MODULE_PARM_DESC(udp_port, "UDP port of the UDP/IPv4 encapsulation (default 4793)");

static unsigned int ml_net_id __read_mostly;

/**
 * struct ml_net - megalink's per-namespace state
 * @sock: the UDP socket, or NULL; RCU, written under RTNL
 * @users: UDP peers of all devices of the namespace; RTNL
 */
struct ml_net {
	struct socket __rcu *sock;
	unsigned int users;
};

static struct ml_net *ml_net(struct net *net)
{
	return net_generic(net, ml_net_id);
}

/* The device's lowest bound port, or NULL; RCU or RTNL held. */
struct ml_port *ml_udp_host_port(struct ml_dev *dev)
{
	struct ml_port *port;
	unsigned int i;

	for (i = 0; i < ML_MAX_PORTS; i++) {
		port = rcu_dereference_rtnl(dev->ports[i]);
		if (port)
			return port;
	}
	return NULL;
}

/*
 * A frame from @saddr for node @dst: the device of this namespace that
 * has @saddr as a peer and is (one of) the destination.  RCU held.
 */
static struct ml_port *ml_udp_find_port(struct net *net, __be32 saddr,
					u32 dst)
{
	struct ml_peer *peer;
	struct ml_dev *dev;
	unsigned long i;

	xa_for_each(&ml_devs, i, dev) {
		if (!net_eq(ml_dev_net(dev), net) || READ_ONCE(dev->dead))
			continue;
		if (dst != ML_WIRE_NODE_ALL && dst != READ_ONCE(dev->node_id))
			continue;
		list_for_each_entry_rcu(peer, &dev->peers, list)
			if (peer->addr == saddr)
				return ml_udp_host_port(dev);
	}
	return NULL;
}

/*
 * encap_rcv of the socket: skb->data is at the UDP header, whose checksum
 * (if any) the UDP layer has checked.  Return 0: the frame is consumed.
 */
static int ml_udp_encap_rcv(struct sock *sk, struct sk_buff *skb)
{
	const struct ml_wire_hdr *hdr;
	struct ml_port *port;
	__be32 saddr;

	if (!pskb_may_pull(skb, sizeof(struct udphdr) + sizeof(*hdr)))
		goto drop;
	saddr = ip_hdr(skb)->saddr;
	__skb_pull(skb, sizeof(struct udphdr));
	hdr = (const struct ml_wire_hdr *)skb->data;
	/* Only configured peers are heard: anything else is spoofed. */
	port = ml_udp_find_port(sock_net(sk), saddr, ntohl(hdr->dst_node));
	if (!port)
		goto drop;
	ml_rx_frame(port, skb, saddr);
	return 0;
drop:
	kfree_skb(skb);
	return 0;
}

/* Open the namespace's socket for its first peer; RTNL held. */
static int ml_udp_get(struct net *net, struct netlink_ext_ack *extack)
{
	struct udp_tunnel_sock_cfg tcfg = {
		.encap_type = 1,
		.encap_rcv = ml_udp_encap_rcv,
	};
	struct udp_port_cfg cfg = {
		.family = AF_INET,
		.local_ip.s_addr = htonl(INADDR_ANY),
		.local_udp_port = htons(ml_udp_port),
	};
	struct ml_net *mn = ml_net(net);
	struct socket *sock;
	int err;

	ASSERT_RTNL();
	if (mn->users++)
		return 0;
	err = udp_sock_create(net, &cfg, &sock);
	if (err) {
		mn->users--;
		NL_SET_ERR_MSG(extack, "cannot open the megalink UDP socket (udp_port in use?)");
		return err;
	}
	setup_udp_tunnel_sock(net, sock, &tcfg);
	rcu_assign_pointer(mn->sock, sock);
	return 0;
}

static void ml_udp_close(struct ml_net *mn)
{
	struct socket *sock = rtnl_dereference(mn->sock);

	if (!sock)
		return;
	RCU_INIT_POINTER(mn->sock, NULL);
	/* Waits for RCU readers (transmit, encap_rcv) before freeing. */
	udp_tunnel_sock_release(sock);
}

/* Close the socket with the namespace's last peer; RTNL held. */
static void ml_udp_put(struct net *net)
{
	struct ml_net *mn = ml_net(net);

	ASSERT_RTNL();
	if (!WARN_ON_ONCE(!mn->users) && !--mn->users)
		ml_udp_close(mn);
}

static struct ml_peer *ml_peer_find(struct ml_dev *dev, __be32 addr)
{
	struct ml_peer *peer;

	list_for_each_entry_rcu(peer, &dev->peers, list, lockdep_rtnl_is_held())
		if (peer->addr == addr)
			return peer;
	return NULL;
}

/**
 * ml_peer_add() - add a UDP peer to a device
 * @dev: the device
 * @addr: the peer's IPv4 address, checked to be unicast by the caller
 * @local: source address, or 0
 * @extack: for the reason of a refusal
 *
 * RTNL held.  The peer gets a HELLO at once.
 * Return: 0, -EEXIST, -ENOSPC, or the socket's error.
 */
int ml_peer_add(struct ml_dev *dev, __be32 addr, __be32 local,
		struct netlink_ext_ack *extack)
{
	struct ml_peer *peer;
	struct ml_port *port;
	int err;

	ASSERT_RTNL();
	if (ml_peer_find(dev, addr)) {
		NL_SET_ERR_MSG(extack, "peer already configured on this device");
		return -EEXIST;
	}
	if (dev->num_peers >= ML_MAX_PEERS) {
		NL_SET_ERR_MSG(extack, "too many peers on this device (64)");
		return -ENOSPC;
	}
	peer = kzalloc(sizeof(*peer), GFP_KERNEL);
	if (!peer)
		return -ENOMEM;
	peer->addr = addr;
	peer->local = local;
	err = ml_udp_get(ml_dev_net(dev), extack);
	if (err) {
		kfree(peer);
		return err;
	}
	list_add_tail_rcu(&peer->list, &dev->peers);
	dev->num_peers++;
	port = ml_udp_host_port(dev);
	if (port)
		ml_disc_kick(port);
	return 0;
}

static void ml_peer_remove(struct ml_dev *dev, struct ml_peer *peer)
{
	struct ml_port *port = ml_udp_host_port(dev);

	list_del_rcu(&peer->list);
	dev->num_peers--;
	if (port) {
		spin_lock_bh(&port->lock);
		ml_disc_forget_addr(port, peer->addr);
		spin_unlock_bh(&port->lock);
	}
	kfree_rcu(peer, rcu);
	ml_udp_put(ml_dev_net(dev));
}

/* Remove the peer @addr and its neighbour; RTNL held.  0 or -ENOENT. */
int ml_peer_del(struct ml_dev *dev, __be32 addr)
{
	struct ml_peer *peer;

	ASSERT_RTNL();
	peer = ml_peer_find(dev, addr);
	if (!peer)
		return -ENOENT;
	ml_peer_remove(dev, peer);
	return 0;
}

/* Device destruction: remove every peer; RTNL held. */
void ml_peer_flush(struct ml_dev *dev)
{
	struct ml_peer *peer, *tmp;

	ASSERT_RTNL();
	list_for_each_entry_safe(peer, tmp, &dev->peers, list)
		ml_peer_remove(dev, peer);
}

/**
 * ml_udp_xmit() - send a built frame to @daddr in UDP
 * @port: the host port, for the counters
 * @skb: the frame, data at the megalink header; consumed
 * @saddr: source address or 0
 * @daddr: destination
 * @flow: hashed into the UDP source port, so that ECMP spreads flows
 *
 * ECT(0) is set; the UDP checksum is 0 (the frames carry their own CRC).
 * Return: 0, or -ENOBUFS when there is no socket, route or memory, or
 * the IP layer refused the frame.
 */
int ml_udp_xmit(struct ml_port *port, struct sk_buff *skb, __be32 saddr,
		__be32 daddr, u32 flow)
{
	struct net *net = ml_dev_net(port->dev);
	unsigned int len = skb->len;
	struct socket *sock;
	struct flowi4 fl4;
	struct rtable *rt;
	int lo, hi;
	__be16 sport;

	rcu_read_lock();
	sock = rcu_dereference(ml_net(net)->sock);
	if (!sock)
		goto err;
	memset(&fl4, 0, sizeof(fl4));
	fl4.daddr = daddr;
	fl4.saddr = saddr;
	fl4.flowi4_proto = IPPROTO_UDP;
	fl4.fl4_dport = htons(ml_udp_port);
	rt = ip_route_output_key(net, &fl4);
	if (IS_ERR(rt))
		goto err;
	if (skb_cow_head(skb, LL_RESERVED_SPACE(rt->dst.dev) +
			 ML_UDP_OVERHEAD)) {
		ip_rt_put(rt);
		goto err;
	}
	inet_get_local_port_range(net, &lo, &hi);
	sport = htons(lo + (u32)(((u64)flow * (u32)(hi - lo + 1)) >> 32));
	skb_scrub_packet(skb, true);
	udp_tunnel_xmit_skb(rt, sock->sk, skb, fl4.saddr, daddr,
			    INET_ECN_ECT_0, ip4_dst_hoplimit(&rt->dst), 0,
			    sport, htons(ml_udp_port), false, true);
	rcu_read_unlock();
	ml_stat_inc(port, ML_STAT_TX_FRAMES);
	ml_stat_add(port, ML_STAT_TX_BYTES, len);
	return 0;
err:
	rcu_read_unlock();
	kfree_skb(skb);
	ml_stat_inc(port, ML_STAT_TX_ERRORS);
	return -ENOBUFS;
}

/* A HELLO to every peer of @port's device, if @port is its host port. */
void ml_udp_tx_hellos(struct ml_port *port)
{
	struct ml_dev *dev = port->dev;
	struct ml_peer *peer;
	struct sk_buff *skb;

	rcu_read_lock();
	if (ml_udp_host_port(dev) != port)
		goto out;
	list_for_each_entry_rcu(peer, &dev->peers, list) {
		skb = ml_tx_hello_build(port, ML_UDP_OVERHEAD);
		if (!skb) {
			ml_stat_inc(port, ML_STAT_TX_ERRORS);
			continue;
		}
		ml_udp_xmit(port, skb, peer->local, peer->addr,
			    (__force u32)peer->addr);
	}
out:
	rcu_read_unlock();
}

static void __net_exit ml_udp_net_exit(struct net *net)
{
	rtnl_lock();
	ml_udp_close(ml_net(net));
	rtnl_unlock();
}

static struct pernet_operations ml_udp_net_ops = {
	.exit = ml_udp_net_exit,
	.id = &ml_net_id,
	.size = sizeof(struct ml_net),
};

int __init ml_udp_init(void)
{
	return register_pernet_subsys(&ml_udp_net_ops);
}

void ml_udp_exit(void)
{
	unregister_pernet_subsys(&ml_udp_net_ops);
}
