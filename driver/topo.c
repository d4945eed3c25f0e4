// SPDX-License-Identifier: GPL-2.0
/*
 * Topology: link-state flooding (docs/wire.md section 7).
 *
 * Every device originates a record of its links (its live neighbours,
 * Ethernet and UDP) with a sequence number and a lifetime: when they
 * change (at most every ML_TOPO_MIN_INTERVAL_MS) and every refresh
 * interval.  A received record newer than the stored one is stored and
 * sent on to every other port and UDP peer; older or equal ones are
 * ignored; records not refreshed within their lifetime age out.  A device
 * that goes away withdraws its record (lifetime 0).  The stored records
 * are the device's view of the fabric: ML_CMD_TOPO_GET dumps it, and
 * ML_CMD_TOPO_NTF reports nodes that become reachable or unreachable and
 * links that appear or disappear.
 *
 * Bounds: at most ML_TOPO_MAX_NODES records (when full, a record of a
 * node that is not reachable makes room, else the new one is dropped),
 * ML_TOPO_MAX_LINKS links each, the exact length checked; every drop is
 * counted under the port it came in on.
 *
 * Locking: ml_topo.lock (topo.h) protects the records and the origination
 * state.  It is never nested with a port->lock: own links are gathered
 * before it is taken, and discovery only queues the work.  Frames are
 * built and sent under it (with BH disabled, dev_queue_xmit() and the UDP
 * transmit never re-enter the receive path on this CPU).  Ports are
 * reached under RCU (dev->ports); the work is cancelled when the device
 * goes, after its ports are unbound.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/jiffies.h>
#include <linux/ktime.h>
#include <linux/math64.h>
#include <linux/overflow.h>
#include <linux/skbuff.h>
#include <linux/slab.h>

#include "device.h"
#include "discovery.h"
#include "netlink.h"
#include "port.h"
#include "topo.h"
#include "udp.h"
#include "wire.h"

#define ML_TOPO_HDR_LEN sizeof(struct ml_wire_topo)
#define ML_TOPO_LINK_LEN sizeof(struct ml_wire_topo_link)

/* Serial comparison: @a is newer than @b. */
static bool ml_seq_after(u32 a, u32 b)
{
	return (s32)(a - b) > 0;
}

u32 ml_topo_refresh_ms(const struct ml_dev *dev)
{
	return clamp_t(u32, 5 * READ_ONCE(dev->hello_ms), 1000, 60000);
}

u32 ml_topo_lifetime_ms(const struct ml_dev *dev)
{
	return min_t(u32, 3 * ml_topo_refresh_ms(dev) + READ_ONCE(dev->dead_ms),
		     ML_TOPO_LIFETIME_MAX_MS);
}

static struct ml_topo_node *ml_topo_find(struct ml_topo *t, u32 id)
{
	struct ml_topo_node *n;

	hash_for_each_possible(t->hash, n, hnode, id)
		if (n->node_id == id)
			return n;
	return NULL;
}

/* Insert @n in node id order; t->lock held. */
static void ml_topo_insert(struct ml_topo *t, struct ml_topo_node *n)
{
	struct ml_topo_node *pos;

	list_for_each_entry(pos, &t->nodes, list)
		if (pos->node_id > n->node_id)
			break;
	list_add_tail(&n->list, &pos->list);
	hash_add(t->hash, &n->hnode, n->node_id);
	t->num_nodes++;
}

static void ml_topo_replace(struct ml_topo *t, struct ml_topo_node *old,
			    struct ml_topo_node *n)
{
	list_replace(&old->list, &n->list);
	hash_del(&old->hnode);
	hash_add(t->hash, &n->hnode, n->node_id);
	kfree(old);
}

static void ml_topo_remove(struct ml_dev *dev, struct ml_topo_node *n)
{
	struct ml_topo *t = &dev->topo;

	if (n->reachable && !n->self)
		ml_nl_notify_topo(dev, ML_TOPO_EV_NODE_LEAVE, n->node_id, NULL);
	list_del(&n->list);
	hash_del(&n->hnode);
	t->num_nodes--;
	kfree(n);
}

static bool ml_link_same(const struct ml_topo_link *a,
			 const struct ml_topo_link *b)
{
	return a->node == b->node && a->local_port == b->local_port &&
	       a->remote_port == b->remote_port && a->kind == b->kind &&
	       a->state == b->state;
}

static bool ml_link_in(const struct ml_topo_link *l,
		       const struct ml_topo_node *n)
{
	unsigned int i;

	if (!n)
		return false;
	for (i = 0; i < n->num_links; i++)
		if (ml_link_same(l, &n->links[i]))
			return true;
	return false;
}

/* LINK_UP/LINK_DOWN for the up links that differ; t->lock held. */
static void ml_topo_diff(struct ml_dev *dev, const struct ml_topo_node *old,
			 const struct ml_topo_node *n)
{
	unsigned int i;

	if (old)
		for (i = 0; i < old->num_links; i++)
			if (old->links[i].state == ML_LINK_UP &&
			    !ml_link_in(&old->links[i], n))
				ml_nl_notify_topo(dev, ML_TOPO_EV_LINK_DOWN,
						  old->node_id, &old->links[i]);
	for (i = 0; i < n->num_links; i++)
		if (n->links[i].state == ML_LINK_UP &&
		    !ml_link_in(&n->links[i], old))
			ml_nl_notify_topo(dev, ML_TOPO_EV_LINK_UP, n->node_id,
					  &n->links[i]);
}

static struct ml_topo_node *ml_topo_node_alloc(unsigned int num_links,
					       gfp_t gfp)
{
	struct ml_topo_node *n;

	n = kzalloc(struct_size(n, links, num_links), gfp);
	if (n)
		n->num_links = num_links;
	return n;
}

/*
 * Recompute which nodes the own record reaches over up links, and report
 * the nodes that joined or left; t->lock held.  A breadth-first walk with
 * the queue in dev->topo_bfs: every node enters it at most once.
 */
static void ml_topo_reach(struct ml_dev *dev)
{
	struct ml_topo *t = &dev->topo;
	struct ml_topo_node **q = dev->topo_bfs;
	struct ml_topo_node *n, *m;
	unsigned int head = 0, tail = 0, i;
	u32 own = READ_ONCE(dev->node_id);
	bool was;

	lockdep_assert_held(&t->lock);
	list_for_each_entry(n, &t->nodes, list)
		n->mark = false;
	n = ml_topo_find(t, own);
	if (n && n->self) {
		n->mark = true;
		q[tail++] = n;
	}
	while (head < tail) {
		n = q[head++];
		for (i = 0; i < n->num_links; i++) {
			if (n->links[i].state != ML_LINK_UP)
				continue;
			m = ml_topo_find(t, n->links[i].node);
			if (!m || m->mark || m->withdrawn ||
			    tail >= ML_TOPO_MAX_NODES)
				continue;
			m->mark = true;
			q[tail++] = m;
		}
	}
	list_for_each_entry(n, &t->nodes, list) {
		was = n->reachable;
		n->reachable = n->mark;
		if (n->self || was == n->reachable)
			continue;
		ml_nl_notify_topo(dev, n->reachable ? ML_TOPO_EV_NODE_JOIN :
				  ML_TOPO_EV_NODE_LEAVE, n->node_id, NULL);
	}
}

/* A TOPO frame of record @n for @port, lifetime @life; NULL without memory. */
static struct sk_buff *ml_topo_build(struct ml_port *port,
				     const struct ml_topo_node *n, u32 life)
{
	u32 len = ML_TOPO_HDR_LEN + n->num_links * ML_TOPO_LINK_LEN;
	struct ml_wire_topo_link *wl;
	struct ml_wire_topo *th;
	struct sk_buff *skb;
	unsigned int i;

	skb = ml_tx_alloc(port->netdev, len);
	if (!skb)
		return NULL;
	th = skb_put_zero(skb, len);
	th->hdr.version = ML_WIRE_VERSION;
	th->hdr.type = ML_WIRE_TOPO;
	th->hdr.len = htons(len);
	th->hdr.src_node = htonl(READ_ONCE(port->dev->node_id));
	th->hdr.dst_node = htonl(ML_WIRE_NODE_ALL);
	th->origin = htonl(n->node_id);
	th->seq = htonl(n->seq);
	th->lifetime_ms = htonl(life);
	th->num_links = htons(n->num_links);
	wl = (struct ml_wire_topo_link *)(th + 1);
	for (i = 0; i < n->num_links; i++) {
		wl[i].node = htonl(n->links[i].node);
		wl[i].local_port = n->links[i].local_port;
		wl[i].remote_port = n->links[i].remote_port;
		wl[i].kind = n->links[i].kind;
		wl[i].state = n->links[i].state;
		wl[i].mtu = htonl(n->links[i].mtu);
	}
	return skb;
}

/*
 * Send record @n with lifetime @life on every port with carrier but
 * @except, and to every UDP peer but @except_addr.  t->lock held.
 */
static void ml_topo_send(struct ml_dev *dev, const struct ml_topo_node *n,
			 u32 life, const struct ml_port *except,
			 const struct in6_addr *except_addr)
{
	struct ml_port *port, *host;
	struct ml_peer *peer;
	struct sk_buff *skb;
	unsigned int i;

	rcu_read_lock();
	for (i = 0; i < ML_MAX_PORTS; i++) {
		port = rcu_dereference(dev->ports[i]);
		if (!port || port == except || READ_ONCE(port->dying) ||
		    !ml_port_carrier_ok(port))
			continue;
		skb = ml_topo_build(port, n, life);
		if (!skb) {
			ml_stat_inc(port, ML_STAT_TX_ERRORS);
			continue;
		}
		if (!ml_tx_frame(port, skb, port->netdev->broadcast))
			ml_stat_inc(port, ML_STAT_TX_TOPO);
	}
	host = ml_udp_host_port(dev);
	if (host && !READ_ONCE(host->dying)) {
		list_for_each_entry_rcu(peer, &dev->peers, list) {
			if (except_addr && ipv6_addr_equal(&peer->addr, except_addr))
				continue;
			skb = ml_topo_build(host, n, life);
			if (!skb) {
				ml_stat_inc(host, ML_STAT_TX_ERRORS);
				continue;
			}
			if (!ml_udp_xmit(host, skb, &peer->local, &peer->addr,
					 ipv6_addr_hash(&peer->addr)))
				ml_stat_inc(host, ML_STAT_TX_TOPO);
		}
	}
	rcu_read_unlock();
}

static u32 ml_topo_remaining(const struct ml_topo_node *n, unsigned long now)
{
	if (time_after_eq(now, n->expires))
		return 0;
	return jiffies_to_msecs(n->expires - now);
}

/* The device's links now: its live neighbours.  No topo lock held. */
static unsigned int ml_topo_gather(struct ml_dev *dev,
				   struct ml_topo_link *links)
{
	struct ml_port *port;
	struct ml_neigh *nb;
	unsigned int i, k = 0;
	u32 mtu, lm;
	bool up;

	rcu_read_lock();
	for (i = 0; i < ML_MAX_PORTS; i++) {
		port = rcu_dereference(dev->ports[i]);
		if (!port || READ_ONCE(port->dying))
			continue;
		mtu = READ_ONCE(port->netdev->mtu);
		spin_lock_bh(&port->lock);
		up = port->link_up;
		list_for_each_entry(nb, &port->neighs, list) {
			if (k == ML_TOPO_MAX_LINKS)
				break;
			links[k].node = nb->node_id;
			links[k].local_port = port->index;
			links[k].remote_port = nb->port_index;
			links[k].kind = nb->udp ? ML_TOPO_LINK_UDP :
						  ML_TOPO_LINK_ETH;
			links[k].state = up ? ML_LINK_UP : ML_LINK_DOWN;
			lm = nb->udp ? mtu - ml_udp_overhead(&nb->addr) : mtu;
			if (nb->mtu && nb->mtu < lm)
				lm = nb->mtu;
			links[k].mtu = lm;
			k++;
		}
		spin_unlock_bh(&port->lock);
	}
	rcu_read_unlock();
	return k;
}

/* The wall clock in tenths of a second, the floor of own sequence numbers. */
static u32 ml_topo_clock(void)
{
	return (u32)div_u64(ktime_get_real_ns(), 100 * NSEC_PER_MSEC);
}

/* The next own sequence number: past the last, and at least the clock. */
static u32 ml_topo_next_seq(struct ml_topo *t)
{
	u32 ds = ml_topo_clock();
	u32 seq = t->seq + 1;

	if (ml_seq_after(ds, seq))
		seq = ds;
	t->seq = seq;
	return seq;
}

/* Install @n as the own record; t->lock held.  Consumes @n. */
static void ml_topo_install_self(struct ml_dev *dev, struct ml_topo_node *n)
{
	struct ml_topo *t = &dev->topo;
	struct ml_topo_node *old, *tmp;

	/* A node id change leaves an own record under the old id. */
	list_for_each_entry_safe(old, tmp, &t->nodes, list)
		if (old->self && old->node_id != n->node_id)
			ml_topo_remove(dev, old);
	old = ml_topo_find(t, n->node_id);
	n->self = true;
	n->reachable = true;
	n->stored = jiffies;
	ml_topo_diff(dev, old, n);
	if (old) {
		ml_topo_replace(t, old, n);
	} else {
		/* Our id may be taken by a stored record: ours wins. */
		ml_topo_insert(t, n);
	}
}

static void ml_topo_expire(struct ml_dev *dev, unsigned long now,
			   unsigned long *next)
{
	struct ml_topo *t = &dev->topo;
	struct ml_topo_node *n, *tmp;

	list_for_each_entry_safe(n, tmp, &t->nodes, list) {
		if (n->self)
			continue;
		if (time_after_eq(now, n->expires))
			ml_topo_remove(dev, n);
		else if (time_before(n->expires, *next))
			*next = n->expires;
	}
}

static void ml_topo_work(struct work_struct *work)
{
	struct ml_topo *t = container_of(to_delayed_work(work), struct ml_topo,
					 work);
	struct ml_dev *dev = container_of(t, struct ml_dev, topo);
	unsigned long now = jiffies, next, earliest;
	struct ml_topo_node *self = NULL, *n;
	bool orig, sync;
	unsigned int k;

	orig = xchg(&t->need_orig, false);
	sync = xchg(&t->need_sync, false);
	earliest = t->last_orig + msecs_to_jiffies(ML_TOPO_MIN_INTERVAL_MS);
	if (orig || sync || time_after_eq(now, t->next_refresh)) {
		self = ml_topo_node_alloc(ML_TOPO_MAX_LINKS, GFP_KERNEL);
		if (self) {
			k = ml_topo_gather(dev, self->links);
			self->num_links = k;
			self->node_id = READ_ONCE(dev->node_id);
		}
	}

	spin_lock_bh(&t->lock);
	if (t->dying) {
		spin_unlock_bh(&t->lock);
		kfree(self);
		return;
	}
	next = now + HZ;
	ml_topo_expire(dev, now, &next);
	if (self && time_before(now, earliest)) {
		/* Too soon after the last one: later. */
		WRITE_ONCE(t->need_orig, true);
		if (sync)
			WRITE_ONCE(t->need_sync, true);
		kfree(self);
		self = NULL;
		next = earliest;
	} else if (self) {
		self->seq = ml_topo_next_seq(t);
		ml_topo_install_self(dev, self);
		t->last_orig = now;
		t->next_refresh = now + msecs_to_jiffies(ml_topo_refresh_ms(dev));
		ml_topo_send(dev, self, ml_topo_lifetime_ms(dev), NULL, NULL);
		if (sync)
			list_for_each_entry(n, &t->nodes, list)
				if (!n->self && !n->withdrawn)
					ml_topo_send(dev, n,
						     ml_topo_remaining(n, now),
						     NULL, NULL);
	} else if (orig || sync || time_after_eq(now, t->next_refresh)) {
		/* No memory: try again soon. */
		WRITE_ONCE(t->need_orig, true);
		next = now + msecs_to_jiffies(ML_TOPO_MIN_INTERVAL_MS);
	}
	ml_topo_reach(dev);
	if (time_before(t->next_refresh, next))
		next = t->next_refresh;
	if (time_before(next, now))
		next = now;
	queue_delayed_work(system_wq, &t->work, next - now);
	spin_unlock_bh(&t->lock);
}

void ml_topo_init(struct ml_dev *dev)
{
	struct ml_topo *t = &dev->topo;

	spin_lock_init(&t->lock);
	INIT_LIST_HEAD(&t->nodes);
	hash_init(t->hash);
	INIT_DELAYED_WORK(&t->work, ml_topo_work);
	t->last_orig = jiffies - msecs_to_jiffies(ML_TOPO_MIN_INTERVAL_MS);
	t->next_refresh = jiffies;
	t->need_orig = true;
	queue_delayed_work(system_wq, &t->work, 0);
}

/**
 * ml_topo_changed() - the device's links changed: originate a new record
 * @dev: the device
 * @sync: a neighbour appeared: also send it every stored record
 *
 * Any context, any lock (it only queues the work).
 */
void ml_topo_changed(struct ml_dev *dev, bool sync)
{
	struct ml_topo *t = &dev->topo;

	if (READ_ONCE(t->dying))
		return;
	WRITE_ONCE(t->need_orig, true);
	if (sync)
		WRITE_ONCE(t->need_sync, true);
	mod_delayed_work(system_wq, &t->work, 0);
}

/*
 * The device goes away (RTNL, its ports still bound): tell the fabric
 * with a withdrawn record and stop changing anything.
 */
void ml_topo_withdraw(struct ml_dev *dev)
{
	struct ml_topo *t = &dev->topo;
	struct ml_topo_node w = {
		.node_id = READ_ONCE(dev->node_id),
	};

	spin_lock_bh(&t->lock);
	WRITE_ONCE(t->dying, true);
	if (t->seq) {
		w.seq = ml_topo_next_seq(t);
		ml_topo_send(dev, &w, 0, NULL, NULL);
	}
	spin_unlock_bh(&t->lock);
}

/* After the ports are unbound: no frame can reach ml_topo_rx() any more. */
void ml_topo_stop(struct ml_dev *dev)
{
	struct ml_topo *t = &dev->topo;
	struct ml_topo_node *n, *tmp;

	WRITE_ONCE(t->dying, true);
	synchronize_net();
	cancel_delayed_work_sync(&t->work);
	spin_lock_bh(&t->lock);
	list_for_each_entry_safe(n, tmp, &t->nodes, list) {
		list_del(&n->list);
		hash_del(&n->hnode);
		kfree(n);
	}
	t->num_nodes = 0;
	spin_unlock_bh(&t->lock);
}

/*
 * Room for one more record; t->lock held.  False when full.  A record
 * evicted for it counts as DROP_TOPO_FULL on @port.
 */
static bool ml_topo_make_room(struct ml_dev *dev, struct ml_port *port)
{
	struct ml_topo *t = &dev->topo;
	struct ml_topo_node *n, *victim = NULL;

	if (t->num_nodes < ML_TOPO_MAX_NODES)
		return true;
	/* Tombstones first, then the unreachable record nearest its end. */
	list_for_each_entry(n, &t->nodes, list) {
		if (n->self || n->reachable)
			continue;
		if (!victim || (n->withdrawn && !victim->withdrawn) ||
		    (n->withdrawn == victim->withdrawn &&
		     time_before(n->expires, victim->expires)))
			victim = n;
	}
	if (!victim)
		return false;
	ml_topo_remove(dev, victim);
	ml_stat_inc(port, ML_STAT_DROP_TOPO_FULL);
	return true;
}

/**
 * ml_topo_rx() - a TOPO frame that passed the common header checks
 * @port: receiving port (the host port for UDP)
 * @skb: the frame, data at the megalink header
 * @saddr: the source address of a frame that came in UDP, else NULL
 *
 * Softirq, under RCU.  Return: 0, or the ML_STAT_DROP_* reason to count.
 */
int ml_topo_rx(struct ml_port *port, struct sk_buff *skb,
	       const struct in6_addr *saddr)
{
	u32 len = ntohs(((struct ml_wire_hdr *)skb->data)->len);
	struct ml_dev *dev = port->dev;
	struct ml_topo *t = &dev->topo;
	struct ml_topo_node *n, *cur;
	struct ml_wire_topo_link wl;
	struct ml_wire_topo th;
	u32 origin, seq, life, own;
	unsigned long now;
	unsigned int i, nl;
	int reason = 0;

	if (len < ML_TOPO_HDR_LEN || skb_copy_bits(skb, 0, &th, sizeof(th)))
		return ML_STAT_DROP_TOPO_MALFORMED;
	nl = ntohs(th.num_links);
	origin = ntohl(th.origin);
	seq = ntohl(th.seq);
	life = ntohl(th.lifetime_ms);
	if (th.flags || nl > ML_TOPO_MAX_LINKS ||
	    len != ML_TOPO_HDR_LEN + nl * ML_TOPO_LINK_LEN ||
	    origin < ML_NODE_ID_MIN || origin > ML_NODE_ID_MAX ||
	    life > ML_TOPO_LIFETIME_MAX_MS || (!life && nl))
		return ML_STAT_DROP_TOPO_MALFORMED;

	n = ml_topo_node_alloc(nl, GFP_ATOMIC);
	if (!n)
		return ML_STAT_DROP_NOMEM;
	for (i = 0; i < nl; i++) {
		if (skb_copy_bits(skb, ML_TOPO_HDR_LEN + i * ML_TOPO_LINK_LEN,
				  &wl, sizeof(wl)))
			goto malformed;
		n->links[i].node = ntohl(wl.node);
		n->links[i].local_port = wl.local_port;
		n->links[i].remote_port = wl.remote_port;
		n->links[i].kind = wl.kind;
		n->links[i].state = wl.state;
		n->links[i].mtu = ntohl(wl.mtu);
		if (n->links[i].node < ML_NODE_ID_MIN ||
		    n->links[i].node > ML_NODE_ID_MAX ||
		    n->links[i].node == origin ||
		    wl.local_port >= ML_MAX_PORTS ||
		    wl.remote_port >= ML_MAX_PORTS ||
		    wl.kind > ML_TOPO_LINK_UDP || wl.state > ML_LINK_UP)
			goto malformed;
	}
	ml_stat_inc(port, ML_STAT_RX_TOPO);
	n->node_id = origin;
	n->seq = seq;
	n->withdrawn = !life;
	now = jiffies;
	n->stored = now;
	n->expires = now + msecs_to_jiffies(life ?: ML_TOPO_TOMBSTONE_MS);
	own = READ_ONCE(dev->node_id);

	spin_lock_bh(&t->lock);
	if (t->dying)
		goto free;
	cur = ml_topo_find(t, origin);
	if (origin == own) {
		/*
		 * Ours came back round (or an old one from before a restart:
		 * below the clock), or someone speaks for us.  That one is
		 * refused here, but the others may have taken it: our next
		 * record goes above it, at once, so that ours wins again.
		 */
		if (!ml_seq_after(seq, cur && cur->self ? cur->seq :
						     ml_topo_clock())) {
			ml_stat_inc(port, ML_STAT_TOPO_STALE);
			goto free;
		}
		reason = ML_STAT_DROP_TOPO_SPOOF;
		if (ml_seq_after(seq, t->seq))
			t->seq = seq;
		spin_unlock_bh(&t->lock);
		kfree(n);
		ml_topo_changed(dev, false);
		return reason;
	}
	if (cur && !ml_seq_after(seq, cur->seq)) {
		ml_stat_inc(port, ML_STAT_TOPO_STALE);
		goto free;
	}
	if (!cur && !ml_topo_make_room(dev, port)) {
		reason = ML_STAT_DROP_TOPO_FULL;
		goto free;
	}
	ml_topo_diff(dev, cur, n);
	if (cur) {
		n->reachable = cur->reachable;
		ml_topo_replace(t, cur, n);
	} else {
		ml_topo_insert(t, n);
	}
	ml_topo_send(dev, n, life, saddr ? NULL : port, saddr);
	spin_unlock_bh(&t->lock);
	/* Reachability may have changed. */
	mod_delayed_work(system_wq, &t->work, 0);
	return 0;

free:
	spin_unlock_bh(&t->lock);
	kfree(n);
	return reason;
malformed:
	kfree(n);
	return ML_STAT_DROP_TOPO_MALFORMED;
}
