// SPDX-License-Identifier: GPL-2.0
/*
 * UDP over IPv4 and IPv6: megalink frames to and from peers outside the
 * broadcast domain.  Two kernel UDP sockets per network namespace, bound to
 * udp_port: an AF_INET one, open while a device of the namespace has an
 * IPv4 peer, and an AF_INET6 v6only one, open while one has an IPv6 peer.
 *
 * A device's UDP traffic goes through its lowest bound port, the "host
 * port" (ml_udp_host_port()): UDP neighbours live in that port's
 * neighbour table, keyed by address, its timer sends their HELLOs and its
 * counters count their frames.
 *
 * Locking:
 * - dev->peers is an RCU list, changed under RTNL only; dev->num_peers and
 *   struct ml_net's @users are RTNL.
 * - ml_net->sock[] is RCU: the transmitters and the receive path use them
 *   under rcu_read_lock(); one is cleared under RTNL and the socket
 *   released by udp_tunnel_sock_release(), which waits for an RCU grace
 *   period before it frees anything.
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
#include <net/addrconf.h>
#include <net/inet_ecn.h>
#include <net/ip.h>
#include <net/ip6_route.h>
#include <net/ipv6.h>
#include <net/ipv6_stubs.h>
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
MODULE_PARM_DESC(udp_port, "UDP port of the UDP/IPv4 and UDP/IPv6 encapsulation (default 4793)");

unsigned int ml_udp_gso = 16;
module_param_named(udp_gso, ml_udp_gso, uint, 0644);
MODULE_PARM_DESC(udp_gso,
		 "at most this many frames of a QP to a UDP path go down the IP stack as one UDP GSO datagram (0 or 1: none; at most 32; default 16)");

static unsigned int ml_net_id __read_mostly;

enum { ML_SOCK_V4, ML_SOCK_V6, ML_NUM_SOCKS };

/**
 * struct ml_net - megalink's per-namespace state
 * @sock: the UDP sockets (IPv4, IPv6), or NULL; RCU, written under RTNL
 * @users: UDP peers of all devices of the namespace, per family; RTNL
 */
struct ml_net {
	struct socket __rcu *sock[ML_NUM_SOCKS];
	unsigned int users[ML_NUM_SOCKS];
};

static int ml_sock_idx(const struct in6_addr *addr)
{
	return ipv6_addr_v4mapped(addr) ? ML_SOCK_V4 : ML_SOCK_V6;
}

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
 * has @saddr as a peer and is (one of) the destination.  When there is
 * none, *@blame is the host port to count the datagram on: of the first
 * device of the namespace that is the destination, else of the first one
 * with a peer (the socket is open for it), else NULL.  Without @saddr (a
 * malformed datagram: no destination either), of the first with a peer.
 * RCU held.
 */
static struct ml_port *ml_udp_find_port(struct net *net,
					const struct in6_addr *saddr, u32 dst,
					struct ml_port **blame)
{
	struct ml_port *fallback = NULL, *mine = NULL;
	struct ml_peer *peer;
	struct ml_dev *dev;
	unsigned long i;
	bool to_dev;

	xa_for_each(&ml_devs, i, dev) {
		if (!net_eq(ml_dev_net(dev), net) || READ_ONCE(dev->dead))
			continue;
		to_dev = dst == ML_WIRE_NODE_ALL ||
			 dst == READ_ONCE(dev->node_id);
		if (!mine && to_dev)
			mine = ml_udp_host_port(dev);
		if (!fallback && !list_empty(&dev->peers))
			fallback = ml_udp_host_port(dev);
		if (!saddr || !to_dev)
			continue;
		list_for_each_entry_rcu(peer, &dev->peers, list)
			if (ipv6_addr_equal(&peer->addr, saddr))
				return ml_udp_host_port(dev);
	}
	*blame = saddr ? mine ?: fallback : fallback;
	return NULL;
}

/*
 * encap_rcv of the sockets: skb->data is at the UDP header, whose
 * checksum (if any) the UDP layer has checked.  Return 0: the frame is
 * consumed.  A datagram too short for a megalink header, or from an
 * address that is no peer (spoofed or stray), is dropped and counted on
 * the port ml_udp_find_port() blames, if there is one.
 */
static int ml_udp_encap_rcv(struct sock *sk, struct sk_buff *skb)
{
	const struct ml_wire_hdr *hdr;
	struct ml_port *port, *blame = NULL;
	struct in6_addr saddr;
	int stat;
	u8 ds;

	if (sk->sk_family == AF_INET6) {
		saddr = ipv6_hdr(skb)->saddr;
		ds = ipv6_get_dsfield(ipv6_hdr(skb));
	} else {
		ipv6_addr_set_v4mapped(ip_hdr(skb)->saddr, &saddr);
		ds = ipv4_get_dsfield(ip_hdr(skb));
	}
	if (!pskb_may_pull(skb, sizeof(struct udphdr) + sizeof(*hdr))) {
		ml_udp_find_port(sock_net(sk), NULL, ML_WIRE_NODE_ALL, &blame);
		stat = ML_STAT_DROP_UDP_MALFORMED;
		goto drop;
	}
	__skb_pull(skb, sizeof(struct udphdr));
	hdr = (const struct ml_wire_hdr *)skb->data;
	/* Only configured peers are heard: anything else is spoofed. */
	port = ml_udp_find_port(sock_net(sk), &saddr, ntohl(hdr->dst_node),
				&blame);
	if (!port) {
		stat = ML_STAT_DROP_UDP_UNKNOWN;
		goto drop;
	}
	ml_rx_frame(port, skb, &saddr, INET_ECN_is_ce(ds));
	return 0;
drop:
	if (blame)
		ml_stat_inc(blame, stat);
	kfree_skb(skb);
	return 0;
}

/*
 * Open the namespace's socket of family @idx for its first peer of that
 * family; RTNL held.  The IPv6 one is v6only, so that both can bind
 * udp_port, and wants UDP checksums (we send them over IPv6).
 */
static int ml_udp_get(struct net *net, int idx, struct netlink_ext_ack *extack)
{
	struct udp_tunnel_sock_cfg tcfg = {
		.encap_type = 1,
		.encap_rcv = ml_udp_encap_rcv,
	};
	struct udp_port_cfg cfg = {
		.local_udp_port = htons(ml_udp_port),
	};
	struct ml_net *mn = ml_net(net);
	struct socket *sock;
	int err;

	ASSERT_RTNL();
	if (mn->users[idx]++)
		return 0;
	if (idx == ML_SOCK_V6) {
		cfg.family = AF_INET6;
		cfg.local_ip6 = in6addr_any;
		cfg.ipv6_v6only = 1;
		cfg.use_udp6_rx_checksums = 1;
		cfg.use_udp6_tx_checksums = 1;
		err = IS_ENABLED(CONFIG_IPV6) ? udp_sock_create(net, &cfg, &sock) :
						-EAFNOSUPPORT;
	} else {
		cfg.family = AF_INET;
		cfg.local_ip.s_addr = htonl(INADDR_ANY);
		err = udp_sock_create(net, &cfg, &sock);
	}
	if (err) {
		mn->users[idx]--;
		if (idx == ML_SOCK_V6)
			NL_SET_ERR_MSG(extack, "cannot open the megalink UDP/IPv6 socket (IPv6 disabled, or udp_port in use?)");
		else
			NL_SET_ERR_MSG(extack, "cannot open the megalink UDP socket (udp_port in use?)");
		return err;
	}
	setup_udp_tunnel_sock(net, sock, &tcfg);
	rcu_assign_pointer(mn->sock[idx], sock);
	return 0;
}

static void ml_udp_close(struct ml_net *mn, int idx)
{
	struct socket *sock = rtnl_dereference(mn->sock[idx]);

	if (!sock)
		return;
	RCU_INIT_POINTER(mn->sock[idx], NULL);
	/* Waits for RCU readers (transmit, encap_rcv) before freeing. */
	udp_tunnel_sock_release(sock);
}

/* Close the socket with the namespace's last peer of its family; RTNL. */
static void ml_udp_put(struct net *net, int idx)
{
	struct ml_net *mn = ml_net(net);

	ASSERT_RTNL();
	if (!WARN_ON_ONCE(!mn->users[idx]) && !--mn->users[idx])
		ml_udp_close(mn, idx);
}

static struct ml_peer *ml_peer_find(struct ml_dev *dev,
				    const struct in6_addr *addr)
{
	struct ml_peer *peer;

	list_for_each_entry_rcu(peer, &dev->peers, list, lockdep_rtnl_is_held())
		if (ipv6_addr_equal(&peer->addr, addr))
			return peer;
	return NULL;
}

/**
 * ml_peer_add() - add a UDP peer to a device
 * @dev: the device
 * @addr: the peer's address, v4-mapped IPv4 or IPv6, checked to be
 *	unicast by the caller
 * @local: source address of the same family, or :: (any)
 * @extack: for the reason of a refusal
 *
 * RTNL held.  The peer gets a HELLO at once.
 * Return: 0, -EEXIST, -ENOSPC, or the socket's error.
 */
int ml_peer_add(struct ml_dev *dev, const struct in6_addr *addr,
		const struct in6_addr *local, struct netlink_ext_ack *extack)
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
	peer->addr = *addr;
	peer->local = *local;
	err = ml_udp_get(ml_dev_net(dev), ml_sock_idx(addr), extack);
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
		ml_disc_forget_addr(port, &peer->addr);
		spin_unlock_bh(&port->lock);
	}
	ml_udp_put(ml_dev_net(dev), ml_sock_idx(&peer->addr));
	kfree_rcu(peer, rcu);
}

/* Remove the peer @addr and its neighbour; RTNL held.  0 or -ENOENT. */
int ml_peer_del(struct ml_dev *dev, const struct in6_addr *addr)
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

static __be16 ml_udp_sport(struct net *net, u32 flow)
{
	int lo, hi;

	inet_get_local_port_range(net, &lo, &hi);
	return htons(lo + (u32)(((u64)flow * (u32)(hi - lo + 1)) >> 32));
}

/*
 * A UDP GSO batch (ml_udp_gso_add()) leaves its checksum to the
 * segmentation, which needs CHECKSUM_PARTIAL at the UDP header about to be
 * pushed; a single frame over IPv4 goes with a zero checksum.  Whether the
 * UDP checksum is to be zero.
 */
static bool ml_udp_csum_setup(struct sk_buff *skb)
{
	if (!skb_is_gso(skb))
		return true;
	skb->ip_summed = CHECKSUM_PARTIAL;
	skb->csum_start = skb_headroom(skb) - sizeof(struct udphdr);
	skb->csum_offset = offsetof(struct udphdr, check);
	return false;
}

/* IPv4; RCU held.  0, or -ENOBUFS with @skb still ours. */
static int ml_udp4_xmit(struct net *net, struct socket *sock,
			struct sk_buff *skb, const struct in6_addr *saddr,
			const struct in6_addr *daddr, u32 flow)
{
	struct flowi4 fl4;
	struct rtable *rt;
	bool nocheck;

	memset(&fl4, 0, sizeof(fl4));
	fl4.daddr = daddr->s6_addr32[3];
	fl4.saddr = saddr->s6_addr32[3];
	fl4.flowi4_proto = IPPROTO_UDP;
	fl4.fl4_dport = htons(ml_udp_port);
	rt = ip_route_output_key(net, &fl4);
	if (IS_ERR(rt))
		return -ENOBUFS;
	if (skb_cow_head(skb, LL_RESERVED_SPACE(rt->dst.dev) +
			 ML_UDP_OVERHEAD)) {
		ip_rt_put(rt);
		return -ENOBUFS;
	}
	skb_scrub_packet(skb, true);
	nocheck = ml_udp_csum_setup(skb);
	udp_tunnel_xmit_skb(rt, sock->sk, skb, fl4.saddr, fl4.daddr,
			    INET_ECN_ECT_0, ip4_dst_hoplimit(&rt->dst), 0,
			    ml_udp_sport(net, flow), htons(ml_udp_port),
			    false, nocheck);
	return 0;
}

/*
 * IPv6, the way vxlan and geneve send: a route from ipv6_stub (the IPv6
 * module may be loaded after us), the UDP checksum computed (or offloaded;
 * zero checksums over IPv6 are not universally accepted); RCU held.
 */
static int ml_udp6_xmit(struct net *net, struct socket *sock,
			struct sk_buff *skb, const struct in6_addr *saddr,
			const struct in6_addr *daddr, u32 flow)
{
#if IS_ENABLED(CONFIG_IPV6)
	struct in6_addr src, dst;
	struct dst_entry *ndst;
	struct flowi6 fl6;

	memset(&fl6, 0, sizeof(fl6));
	fl6.daddr = *daddr;
	fl6.saddr = *saddr;
	fl6.flowi6_proto = IPPROTO_UDP;
	fl6.fl6_dport = htons(ml_udp_port);
	ndst = ipv6_stub->ipv6_dst_lookup_flow(net, sock->sk, &fl6, NULL);
	if (IS_ERR(ndst))
		return -ENOBUFS;
	if (skb_cow_head(skb, LL_RESERVED_SPACE(ndst->dev) +
			 ML_UDP6_OVERHEAD)) {
		dst_release(ndst);
		return -ENOBUFS;
	}
	skb_scrub_packet(skb, true);
	ml_udp_csum_setup(skb);
	/* 6.1 takes the addresses non-const. */
	src = fl6.saddr;
	dst = fl6.daddr;
	udp_tunnel6_xmit_skb(ndst, sock->sk, skb, NULL, &src, &dst,
			     INET_ECN_ECT_0, ip6_dst_hoplimit(ndst), 0,
			     ml_udp_sport(net, flow), htons(ml_udp_port),
			     false);
	return 0;
#else
	return -ENOBUFS;
#endif
}

/**
 * ml_udp_gso_add() - append a frame to a UDP GSO batch
 * @head: the batch's first frame, data at the megalink header
 * @last: the batch's last frame (@head when alone)
 * @skb: the next frame to the same address on the same path, on no list
 *
 * The frames become the segments of one UDP datagram with SKB_GSO_UDP_L4:
 * the stack routes it, filters it and queues it once, a netdev with UDP
 * segmentation (veth, NICs with USO) carries it whole, and the receiving
 * UDP socket, which does not take GSO datagrams, splits it back into the
 * frames as sent.  Segments are gso_size bytes but the last, so a frame
 * joins only while it is no longer than @head and @last is as long as
 * @head; the batch stays within an IP datagram's 64 KiB.
 * Return: whether @skb was taken (linked on @head's frag_list).
 */
bool ml_udp_gso_add(struct sk_buff *head, struct sk_buff *last,
		    struct sk_buff *skb)
{
	struct skb_shared_info *sh = skb_shinfo(head);
	unsigned int mss = sh->gso_size ?: head->len;

	if (last->len != mss || skb->len > mss ||
	    head->len + skb->len > ML_UDP_GSO_MAX - ML_UDP6_OVERHEAD ||
	    (sh->gso_segs ?: 1) >= min_t(unsigned int, READ_ONCE(ml_udp_gso),
					 ML_UDP_GSO_SEGS))
		return false;
	if (!sh->gso_size) {
		sh->gso_size = mss;
		sh->gso_segs = 1;
		sh->gso_type = SKB_GSO_UDP_L4;
		sh->frag_list = skb;
	} else {
		last->next = skb;
	}
	skb->next = NULL;
	sh->gso_segs++;
	head->len += skb->len;
	head->data_len += skb->len;
	head->truesize += skb->truesize;
	/* User pages: as ml_mr_attach() marks them, for the whole datagram. */
	if (skb_has_shared_frag(skb))
		sh->flags |= SKBFL_SHARED_FRAG;
	return true;
}

/**
 * ml_udp_xmit() - send a built frame to @daddr in UDP
 * @port: the host port, for the counters
 * @skb: the frame, data at the megalink header; consumed
 * @saddr: source address or ::
 * @daddr: destination, v4-mapped IPv4 or IPv6
 * @flow: hashed into the UDP source port, so that ECMP spreads flows
 *
 * ECT(0) is set; the UDP checksum is 0 over IPv4 (the frames carry their
 * own CRC), computed over IPv6 and for a UDP GSO batch (ml_udp_gso_add()),
 * whose frames are counted one by one.
 * Return: 0, or -ENOBUFS when there is no socket, route or memory, or
 * the IP layer refused the frame.
 */
int ml_udp_xmit(struct ml_port *port, struct sk_buff *skb,
		const struct in6_addr *saddr, const struct in6_addr *daddr,
		u32 flow)
{
	struct net *net = ml_dev_net(port->dev);
	int idx = ml_sock_idx(daddr);
	unsigned int segs = skb_shinfo(skb)->gso_segs ?: 1;
	unsigned int len = skb->len;
	struct socket *sock;
	int err = -ENOBUFS;

	rcu_read_lock();
	sock = rcu_dereference(ml_net(net)->sock[idx]);
	if (sock)
		err = idx == ML_SOCK_V4 ?
		      ml_udp4_xmit(net, sock, skb, saddr, daddr, flow) :
		      ml_udp6_xmit(net, sock, skb, saddr, daddr, flow);
	rcu_read_unlock();
	if (err) {
		kfree_skb(skb);
		ml_stat_add(port, ML_STAT_TX_ERRORS, segs);
		return err;
	}
	ml_stat_add(port, ML_STAT_TX_FRAMES, segs);
	ml_stat_add(port, ML_STAT_TX_BYTES, len);
	return 0;
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
		skb = ml_tx_hello_build(port, ml_udp_overhead(&peer->addr));
		if (!skb) {
			ml_stat_inc(port, ML_STAT_TX_ERRORS);
			continue;
		}
		ml_udp_xmit(port, skb, &peer->local, &peer->addr,
			    ipv6_addr_hash(&peer->addr));
	}
out:
	rcu_read_unlock();
}

static void __net_exit ml_udp_net_exit(struct net *net)
{
	rtnl_lock();
	ml_udp_close(ml_net(net), ML_SOCK_V4);
	ml_udp_close(ml_net(net), ML_SOCK_V6);
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
