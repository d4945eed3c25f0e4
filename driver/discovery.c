// SPDX-License-Identifier: GPL-2.0
/*
 * Discovery: every port sends a HELLO every hello_ms and keeps a table of
 * the megalink ports it hears.  A neighbour that stays silent for the dead
 * interval it advertised is lost.  A port's link is up while its carrier
 * is up and at least one neighbour is alive (ml_port_update_link()).
 *
 * Timers: one per port, port->timer.  It fires at the earlier of the next
 * HELLO and the next neighbour expiry; the receive path pulls it in with
 * timer_reduce() when a new neighbour expires sooner.
 *
 * Locking: the neighbour table is under port->lock (port.h), and so is
 * every re-arming of the timer, so that none undoes another.  A HELLO is
 * sent outside the lock.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/etherdevice.h>
#include <linux/jiffies.h>
#include <linux/skbuff.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "device.h"
#include "discovery.h"
#include "netlink.h"
#include "port.h"
#include "topo.h"
#include "udp.h"
#include "wire.h"

static unsigned long ml_neigh_expiry(const struct ml_neigh *n)
{
	return n->last_seen + msecs_to_jiffies(n->dead_ms);
}

static void ml_neigh_lost(struct ml_port *port, struct ml_neigh *n)
{
	lockdep_assert_held(&port->lock);
	list_del(&n->list);
	port->num_neigh--;
	ml_stat_inc(port, ML_STAT_NEIGH_LOST);
	ml_nl_notify_neigh(port, n, false);
	ml_topo_changed(port->dev, false);
	kfree(n);
}

/* Forget every neighbour (carrier loss, unbind); port->lock held. */
void ml_disc_flush(struct ml_port *port)
{
	struct ml_neigh *n, *tmp;

	lockdep_assert_held(&port->lock);
	list_for_each_entry_safe(n, tmp, &port->neighs, list)
		ml_neigh_lost(port, n);
}

static void ml_disc_timer(struct timer_list *t)
{
	struct ml_port *port = from_timer(port, t, timer);
	unsigned long now = jiffies, next;
	struct ml_neigh *n, *tmp;
	bool hello = false;

	if (READ_ONCE(port->dying))
		return;

	spin_lock_bh(&port->lock);
	/* Carrier loss may be seen here before the netdev notifier runs. */
	if (!ml_port_carrier_ok(port))
		ml_disc_flush(port);
	list_for_each_entry_safe(n, tmp, &port->neighs, list)
		if (time_after_eq(now, ml_neigh_expiry(n)))
			ml_neigh_lost(port, n);
	ml_port_update_link(port, ML_REASON_NEIGH);

	if (time_after_eq(now, port->next_hello)) {
		hello = true;
		port->next_hello = now +
			msecs_to_jiffies(READ_ONCE(port->dev->hello_ms));
	}
	next = port->next_hello;
	list_for_each_entry(n, &port->neighs, list)
		if (time_before(ml_neigh_expiry(n), next))
			next = ml_neigh_expiry(n);
	/* Under the lock, so that a concurrent timer_reduce() is kept. */
	if (!READ_ONCE(port->dying))
		mod_timer(&port->timer, next);
	spin_unlock_bh(&port->lock);

	if (hello && ml_port_carrier_ok(port)) {
		ml_tx_hello(port);
		ml_udp_tx_hellos(port);
	}
}

void ml_disc_port_init(struct ml_port *port)
{
	timer_setup(&port->timer, ml_disc_timer, 0);
}

void ml_disc_port_start(struct ml_port *port)
{
	ml_disc_kick(port);
}

/* Send a HELLO now: a new port, new settings, or carrier back. */
void ml_disc_kick(struct ml_port *port)
{
	spin_lock_bh(&port->lock);
	port->next_hello = jiffies;
	spin_unlock_bh(&port->lock);
	if (!READ_ONCE(port->dying))
		mod_timer(&port->timer, jiffies);
}

/* Called after the port is marked dying and its rx handler removed. */
void ml_disc_port_stop(struct ml_port *port)
{
	timer_shutdown_sync(&port->timer);
}

/* The neighbour at @mac (Ethernet, @addr NULL) or at @addr (UDP). */
static struct ml_neigh *ml_neigh_find(struct ml_port *port, const u8 *mac,
				      const struct in6_addr *addr)
{
	struct ml_neigh *n;

	list_for_each_entry(n, &port->neighs, list)
		if (addr ? n->udp && ipv6_addr_equal(&n->addr, addr) :
			   !n->udp && ether_addr_equal(n->mac, mac))
			return n;
	return NULL;
}

/* A UDP peer was removed: forget its neighbour; port->lock held. */
void ml_disc_forget_addr(struct ml_port *port, const struct in6_addr *addr)
{
	struct ml_neigh *n;

	lockdep_assert_held(&port->lock);
	n = ml_neigh_find(port, NULL, addr);
	if (n) {
		ml_neigh_lost(port, n);
		ml_port_update_link(port, ML_REASON_NEIGH);
	}
}

/**
 * ml_disc_rx_hello() - handle a HELLO that passed the common header checks
 * @port: receiving port
 * @skb: the frame, data at the megalink header
 * @saddr: the source address of a frame that came in UDP, else NULL
 *
 * Return: 0, or the ML_STAT_DROP_* reason to count.
 */
int ml_disc_rx_hello(struct ml_port *port, struct sk_buff *skb,
		     const struct in6_addr *saddr)
{
	u32 len = ntohs(((struct ml_wire_hdr *)skb->data)->len);
	static const u8 no_mac[ETH_ALEN];
	const u8 *mac = saddr ? no_mac : eth_hdr(skb)->h_source;
	u32 node_id, dead_ms, src_port;
	struct ml_wire_hello hbuf = {};
	const struct ml_wire_hello *h = &hbuf;
	unsigned long expiry;
	bool found = false;
	struct ml_neigh *n;

	/*
	 * A copy: the frame's fields need not be aligned.  Optional fields
	 * a shorter HELLO lacks stay 0; a longer one's extra bytes are for
	 * later versions.
	 */
	if (len < ML_WIRE_HELLO_MIN_LEN ||
	    skb_copy_bits(skb, 0, &hbuf, min_t(u32, len, sizeof(hbuf))))
		return ML_STAT_DROP_MALFORMED;
	node_id = ntohl(h->hdr.src_node);
	dead_ms = ntohl(h->dead_ms);
	src_port = ntohs(h->src_port);
	if (h->flags || !memchr(h->dev_name, '\0', sizeof(h->dev_name)) ||
	    dead_ms < ML_DEAD_MS_MIN || dead_ms > ML_DEAD_MS_MAX ||
	    src_port >= ML_MAX_PORTS || (!saddr && !is_valid_ether_addr(mac)))
		return ML_STAT_DROP_MALFORMED;

	ml_stat_inc(port, ML_STAT_RX_HELLO);
	spin_lock_bh(&port->lock);
	n = ml_neigh_find(port, mac, saddr);
	if (n && (n->node_id != node_id || n->port_index != src_port)) {
		/* The same MAC now speaks for another node or port. */
		ml_neigh_lost(port, n);
		n = NULL;
	}
	if (!n) {
		if (port->num_neigh >= ML_MAX_NEIGH) {
			spin_unlock_bh(&port->lock);
			return ML_STAT_DROP_NEIGH_FULL;
		}
		n = kzalloc(sizeof(*n), GFP_ATOMIC);
		if (!n) {
			spin_unlock_bh(&port->lock);
			return ML_STAT_DROP_NOMEM;
		}
		ether_addr_copy(n->mac, mac);
		if (saddr) {
			n->udp = true;
			n->addr = *saddr;
		}
		n->node_id = node_id;
		n->port_index = src_port;
		list_add_tail(&n->list, &port->neighs);
		port->num_neigh++;
		found = true;
	}
	n->caps = be64_to_cpu(h->caps);
	n->dead_ms = dead_ms;
	n->mtu = ntohl(h->mtu);
	strscpy(n->dev_name, h->dev_name, sizeof(n->dev_name));
	n->last_seen = jiffies;
	expiry = ml_neigh_expiry(n);
	if (found) {
		ml_stat_inc(port, ML_STAT_NEIGH_FOUND);
		ml_nl_notify_neigh(port, n, true);
		ml_topo_changed(port->dev, true);
		ml_port_update_link(port, ML_REASON_NEIGH);
	}
	if (!READ_ONCE(port->dying))
		timer_reduce(&port->timer, expiry);
	spin_unlock_bh(&port->lock);
	return 0;
}
