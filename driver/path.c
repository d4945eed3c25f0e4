// SPDX-License-Identifier: GPL-2.0
/*
 * Multi-path: a connected QP knows every live path (local port, neighbour)
 * to its remote node, up to ML_MAX_PATHS, and spreads its packets across
 * them.
 *
 * Path set.  dev->path_gen counts changes of the neighbour tables and link
 * states of the device's ports (ml_port_update_link(), unbind).  Before
 * each run, the transmitter compares it with the generation its set was
 * resolved for and resolves again when they differ (ml_path_refresh()):
 * neighbours are walked under each port's lock, with no QP lock held, and
 * the new set is installed under qp->lock.  Paths that persist keep their
 * estimators and counters.
 *
 * Striping.  Packets go out in bursts: ML_PATH_BURST packets on a path,
 * then the next path.  A path's burst is scaled by the smallest smoothed
 * round trip over its own (a path twice as slow gets half the packets)
 * and halved for every point of its loss score.  RTTs are sampled from
 * cumulative acks, one sample in flight per path, never on a resent PSN
 * (Karn).  Every frame of a run is handed to its netdev in PSN order, so
 * paths of equal delay deliver in order; the receiver places WRITE
 * packets that overtake others, and NAKs a gap only when it is older than
 * a reorder distance that it adapts to the reorders the paths turn out to
 * make (qp_rx.c); a reorder NAKed as a loss costs a go-back-N.
 *
 * Failover.  A path that disappears from the set with packets in flight
 * moves them all to the remaining paths: the QP goes back to snd_una
 * (go-back-N; the responder drops and re-acks duplicates, so nothing is
 * lost or placed twice), counted in failovers.  A path blamed for a
 * retransmission timeout (it carried snd_una) sits out for two timeouts
 * while other paths remain, so that a dead neighbour that discovery has
 * not declared dead yet does not eat the retries.  Paths whose port's link
 * is down are used only when no other path is up.  When resolving finds no
 * path at all, the QP keeps the set it had: a neighbour that stops
 * answering for a while (or whose HELLOs a third party disturbs: spoofed
 * short dead intervals) costs retries, not the connection, as it did
 * before there were paths.  Only when no port of the set exists any more
 * is the QP blocked (qp->tx_blocked): every retransmission timeout without
 * a path costs a retry, and the retry limit errors the QP as it does for
 * a silent peer.  A path that comes back is resolved into the set again
 * by the next run.
 *
 * Locking: struct ml_path (path.h); dev->path_gen is an atomic_t.
 */
#include <linux/etherdevice.h>
#include <linux/ktime.h>
#include <linux/rcupdate.h>

#include "device.h"
#include "discovery.h"
#include "path.h"
#include "port.h"
#include "qp.h"
#include "udp.h"

/* @qp's Ethernet path through port instance @port_id, or NULL. */
static const struct ml_path *ml_path_eth_of(const struct ml_paths *cur,
					    u64 port_id)
{
	unsigned int i;

	for (i = 0; cur && i < cur->num; i++)
		if (!cur->p[i].udp && cur->p[i].port_id == port_id)
			return &cur->p[i];
	return NULL;
}

/* The payload bytes per packet of a path through @port to @n. */
static u32 ml_path_pmtu(const struct ml_port *port, const struct ml_neigh *n)
{
	u32 mtu = READ_ONCE(port->netdev->mtu);

	/* The smaller of the two ends' MTUs, if the peer said; a UDP peer
	 * advertises its MTU less the headers.
	 */
	if (n->udp)
		mtu -= ml_udp_overhead(&n->addr);
	if (n->mtu >= ETH_MIN_MTU && n->mtu < mtu)
		mtu = n->mtu;
	return mtu <= sizeof(struct ml_wire_data) ? 0 :
	       round_down(mtu - sizeof(struct ml_wire_data), 64);
}

/**
 * ml_path_resolve() - the live paths of @dev to node @node
 * @dev: the device
 * @node: the remote node id
 * @min_pmtu: paths that carry fewer payload bytes per packet are left out
 * @out: ML_MAX_PATHS entries; addressing fields filled, the rest zero
 * @cur: the QP's current set (its addressing stable: qp->tx_lock held),
 *	or NULL when connecting
 *
 * A port with its link up gives at most one Ethernet path and one per UDP
 * neighbour that is @node.  The Ethernet one keeps the MAC of @cur's path
 * through the same port instance while the port is up, even when the
 * peer's entry of that MAC is gone and another station claims the node id
 * (a forged HELLO may): the peer's MAC changes only with its port, which
 * rebinds (a new port instance).  Otherwise it is the entry of the node
 * found first.  Takes each port's lock in turn; call with no QP lock held.
 * Return: the number of paths found.
 */
int ml_path_resolve(struct ml_dev *dev, u32 node, u32 min_pmtu,
		    struct ml_path *out, const struct ml_paths *cur)
{
	const struct ml_neigh *first, *same;
	const struct ml_path *c;
	struct ml_port *port;
	struct ml_neigh *n;
	int i, num = 0;
	u32 pmtu;

	rcu_read_lock();
	for (i = 0; i < ML_MAX_PORTS && num < ML_MAX_PATHS; i++) {
		port = rcu_dereference(dev->ports[i]);
		if (!port)
			continue;
		c = ml_path_eth_of(cur, port->id);
		first = NULL;
		same = NULL;
		spin_lock_bh(&port->lock);
		if (!port->link_up || port->dying)
			goto next;
		list_for_each_entry(n, &port->neighs, list) {
			if (n->node_id != node)
				continue;
			pmtu = ml_path_pmtu(port, n);
			if (pmtu < min_pmtu)
				continue;
			if (!n->udp) {
				if (!first)
					first = n;
				if (c && ether_addr_equal(n->mac, c->dmac))
					same = n;
				continue;
			}
			if (num == ML_MAX_PATHS)
				break;
			memset(&out[num], 0, sizeof(out[num]));
			out[num].port_index = i;
			out[num].port_id = port->id;
			out[num].udp = true;
			out[num].daddr = n->addr;
			out[num].remote_port = n->port_index;
			out[num].pmtu = pmtu;
			num++;
		}
		if (num == ML_MAX_PATHS || (!first && !c))
			goto next;
		memset(&out[num], 0, sizeof(out[num]));
		out[num].port_index = i;
		out[num].port_id = port->id;
		if (same || !c) {
			const struct ml_neigh *pick = same ?: first;

			ether_addr_copy(out[num].dmac, pick->mac);
			out[num].remote_port = pick->port_index;
			out[num].pmtu = ml_path_pmtu(port, pick);
		} else if (first) {
			/* Its entry is gone, another claims the node: keep it. */
			ether_addr_copy(out[num].dmac, c->dmac);
			out[num].remote_port = c->remote_port;
			out[num].pmtu = c->pmtu;
		} else {
			goto next;
		}
		num++;
next:
		spin_unlock_bh(&port->lock);
	}
	rcu_read_unlock();
	return num;
}

static bool ml_path_same(const struct ml_path *a, const struct ml_path *b)
{
	return a->port_id == b->port_id && a->udp == b->udp &&
	       ipv6_addr_equal(&a->daddr, &b->daddr) &&
	       ether_addr_equal(a->dmac, b->dmac);
}

/**
 * ml_path_install() - make @np the QP's path set
 * @qp: the QP, qp->lock and qp->tx_lock held (or not yet visible)
 * @np: @n resolved paths
 * @n: how many
 * @gen: the dev->path_gen they were resolved for
 */
void ml_path_install(struct ml_qp *qp, const struct ml_path *np, int n,
		     u32 gen)
{
	struct ml_paths *ps = &qp->paths;
	struct ml_path old[ML_MAX_PATHS];
	int i, j, old_num = ps->num;
	bool lost = false;

	lockdep_assert_held(&qp->lock);
	memcpy(old, ps->p, sizeof(old));
	for (i = 0; i < n; i++) {
		ps->p[i] = np[i];
		for (j = 0; j < old_num; j++) {
			if (!ml_path_same(&old[j], &np[i]))
				continue;
			/* Same path: keep what was learnt and counted. */
			ps->p[i] = old[j];
			ps->p[i].pmtu = np[i].pmtu;
			ps->p[i].remote_port = np[i].remote_port;
			break;
		}
	}
	for (j = 0; j < old_num; j++) {
		for (i = 0; i < n; i++)
			if (ml_path_same(&old[j], &np[i]))
				break;
		if (i == n)
			lost = true;
	}
	ps->num = n;
	ps->cur = 0;
	ps->credit = 0;
	WRITE_ONCE(ps->gen, gen);
	/* Indices moved: which path carried what is forgotten. */
	memset(ps->psn_path, ML_PATH_NONE, sizeof(ps->psn_path));
	if (lost && qp->state == ML_QPS_RTS && qp->snd_nxt != qp->snd_una) {
		/* What was in flight on a lost path: resent on the others. */
		ps->failovers++;
		ml_qp_rewind(qp, qp->snd_una);
	}
}

/* Whether the QP's path set predates the device's last change. */
bool ml_path_stale(struct ml_qp *qp)
{
	return READ_ONCE(qp->paths.gen) !=
	       (u32)atomic_read(&qp->dev->path_gen);
}

/*
 * Resolve the path set again if the device's ports or neighbours changed
 * since it was built.  qp->tx_lock held, qp->lock not.
 */
void ml_path_refresh(struct ml_qp *qp)
{
	struct ml_path np[ML_MAX_PATHS];
	u32 gen;
	int n;

	lockdep_assert_held(&qp->tx_lock);
	if (!ml_path_stale(qp) || READ_ONCE(qp->state) != ML_QPS_RTS)
		return;
	gen = atomic_read(&qp->dev->path_gen);
	/* A change while resolving bumps gen again: the next run redoes it. */
	n = ml_path_resolve(qp->dev, qp->remote_node, qp->pmtu, np,
			      &qp->paths);
	spin_lock_bh(&qp->lock);
	if (qp->dying || qp->state != ML_QPS_RTS)
		;
	else if (n)
		ml_path_install(qp, np, n, gen);
	else	/* No path now: keep the last ones (see the top). */
		WRITE_ONCE(qp->paths.gen, gen);
	spin_unlock_bh(&qp->lock);
}

/*
 * The port of path @i, or NULL when it is gone or another binding took its
 * slot.  RCU read lock held.
 */
struct ml_port *ml_path_port(struct ml_qp *qp, unsigned int i)
{
	const struct ml_path *p = &qp->paths.p[i];
	struct ml_port *port;

	if (i >= READ_ONCE(qp->paths.num))
		return NULL;
	port = rcu_dereference(qp->dev->ports[READ_ONCE(p->port_index)]);
	if (!port || port->id != READ_ONCE(p->port_id))
		return NULL;
	return port;
}

/* Packets of path @i's next burst.  qp->lock held. */
static u32 ml_path_burst(const struct ml_paths *ps, unsigned int i, u32 mask)
{
	u32 b = ML_PATH_BURST, min_srtt = 0, srtt = ps->p[i].srtt_us;
	unsigned int j;

	for (j = 0; j < ps->num; j++)
		if ((mask & BIT(j)) && ps->p[j].srtt_us &&
		    (!min_srtt || ps->p[j].srtt_us < min_srtt))
			min_srtt = ps->p[j].srtt_us;
	if (min_srtt && srtt > min_srtt)
		b = (u32)div_u64((u64)b * min_srtt, srtt);
	b >>= min_t(u32, ps->p[i].loss, 4);
	return max_t(u32, b, 1);
}

/**
 * ml_path_next() - the path for the next packet
 * @qp: the QP, qp->lock held
 * @mask: the paths that have a port (bit i: path i)
 *
 * Return: a path index, or -1 when @mask is empty.
 */
int ml_path_next(struct ml_qp *qp, u32 mask)
{
	struct ml_paths *ps = &qp->paths;
	unsigned long now = jiffies;
	u32 ok = 0;
	unsigned int i, k;

	lockdep_assert_held(&qp->lock);
	mask &= BIT(ps->num) - 1;
	if (!mask)
		return -1;
	for (i = 0; i < ps->num; i++)
		if ((mask & BIT(i)) &&
		    time_after_eq(now, ps->p[i].suspend_until))
			ok |= BIT(i);
	/* All blamed: better any than none. */
	if (!ok)
		ok = mask;
	if (ps->credit && (ok & BIT(ps->cur))) {
		ps->credit--;
		return ps->cur;
	}
	for (k = 1; k <= ps->num; k++) {
		i = (ps->cur + k) % ps->num;
		if (ok & BIT(i)) {
			ps->cur = i;
			ps->credit = ml_path_burst(ps, i, ok) - 1;
			return i;
		}
	}
	return -1;
}

/**
 * ml_path_sent() - a data packet was built for path @i
 * @qp: the QP, qp->lock held
 * @i: path index
 * @psn: its PSN
 * @plen: its payload bytes
 * @resent: a retransmission
 */
void ml_path_sent(struct ml_qp *qp, unsigned int i, u32 psn, u32 plen,
		  bool resent)
{
	struct ml_path *p = &qp->paths.p[i];

	lockdep_assert_held(&qp->lock);
	p->tx_pkts++;
	p->tx_bytes += plen;
	if (resent)
		p->retransmits++;
	qp->paths.psn_path[psn & (ML_PATH_PSNS - 1)] = i;
	if (!p->rtt_on && !resent) {
		p->rtt_on = true;
		p->rtt_psn = psn;
		p->rtt_start = ktime_get_ns();
	}
}

/* Everything before @psn is acknowledged: RTT samples.  qp->lock held. */
void ml_path_acked(struct ml_qp *qp, u32 psn)
{
	struct ml_paths *ps = &qp->paths;
	unsigned int i;
	u64 us;

	lockdep_assert_held(&qp->lock);
	for (i = 0; i < ps->num; i++) {
		struct ml_path *p = &ps->p[i];

		if (!p->rtt_on || !ml_psn_before(p->rtt_psn, psn))
			continue;
		p->rtt_on = false;
		us = div_u64(ktime_get_ns() - p->rtt_start, NSEC_PER_USEC);
		us = clamp_t(u64, us, 1, U32_MAX / 2);
		/* RFC 6298's alpha = 1/8 */
		p->srtt_us = p->srtt_us ? p->srtt_us - p->srtt_us / 8 +
					  (u32)us / 8 : (u32)us;
		p->loss /= 2;
		p->suspend_until = jiffies;
	}
}

/**
 * ml_path_loss() - PSN @psn was lost (a NAK named it, or it timed out)
 * @qp: the QP, qp->lock held
 * @psn: the PSN
 * @timeout: a retransmission timeout: the path sits out a while
 */
void ml_path_loss(struct ml_qp *qp, u32 psn, bool timeout)
{
	struct ml_paths *ps = &qp->paths;
	u8 i = ps->psn_path[psn & (ML_PATH_PSNS - 1)];

	lockdep_assert_held(&qp->lock);
	if (i >= ps->num)
		return;
	ps->p[i].loss++;
	if (timeout && ps->num > 1)
		ps->p[i].suspend_until = jiffies +
					 msecs_to_jiffies(2 * qp->rto_ms);
}

/* Going back: the running samples would time retransmissions.  Lock held. */
void ml_path_rtt_reset(struct ml_qp *qp)
{
	unsigned int i;

	for (i = 0; i < qp->paths.num; i++)
		qp->paths.p[i].rtt_on = false;
}

/*
 * The ports or neighbours of @dev changed in a way the QPs should act on
 * now (a port unbound, a carrier lost or back): their path sets are
 * resolved again by a run of their transmitters.  No port lock held.
 */
void ml_path_changed(struct ml_dev *dev)
{
	struct ml_qp *qp;
	unsigned long i;

	atomic_inc(&dev->path_gen);
	rcu_read_lock();
	xa_for_each(&dev->qps, i, qp) {
		spin_lock_bh(&qp->lock);
		if (!qp->dying && qp->state == ML_QPS_RTS)
			ml_qp_kick(qp);
		spin_unlock_bh(&qp->lock);
	}
	rcu_read_unlock();
}
