// SPDX-License-Identifier: GPL-2.0
/*
 * The requester and the responder's transmit side of the reliable
 * transport: taking work requests from the send ring, segmenting messages
 * into packets of the path's payload MTU, READ responses, acks, and the
 * retransmission timer.
 *
 * Every QP has one work item (qp->tx_work) that sends, at most
 * ML_TX_BUDGET packets a run (the doorbell may do a first run itself,
 * ml_qp_tx_now()), and one timer (qp->timer):
 *  - retransmission: armed while packets are unacknowledged; on expiry
 *    the QP goes back to the oldest unacknowledged PSN (go-back-N) with
 *    the timeout doubled, until retry_cnt expiries in a row move it to
 *    error with ML_WC_RETRY_EXC_ERR;
 *  - receiver not ready: after an RNR NAK the QP waits rnr_timer_ms,
 *    then resends from the refused PSN, rnr_retry times at most.
 *
 * Packets are built under qp->lock into a private list and transmitted
 * after it is dropped.  Payload from registered memory is attached to the
 * frame as page fragments (zero copy) when the netdev takes fragments
 * (NETIF_F_SG) and the packet is large enough for that to pay; small
 * packets, inline data and netdevs without scatter-gather get a copy.
 * Locking: qp.h.
 */
#include <linux/crc32.h>
#include <linux/etherdevice.h>
#include <linux/moduleparam.h>
#include <linux/netdevice.h>
#include <linux/skbuff.h>

#include "device.h"
#include "mr.h"
#include "path.h"
#include "port.h"
#include "qp.h"
#include "udp.h"
#include "wire.h"

/* Payloads at least this long are attached rather than copied. */
#define ML_ZC_MIN	1024

/* The path a built frame goes out on, until it is handed to the netdev. */
#define ML_SKB_PATH(skb)	(*(u8 *)(skb)->cb)

bool ml_tx_inline = true;
module_param_named(tx_inline, ml_tx_inline, bool, 0644);
MODULE_PARM_DESC(tx_inline,
		 "the doorbell transmits in the poster's context instead of the tx work (default Y)");

/**
 * ml_wire_crc() - CRC32C of a frame: its header, then its payload
 * @hdr: the header, with its crc field zero
 * @hlen: header bytes
 * @skb: the frame, linear or not
 * @off: payload offset in @skb
 * @len: payload bytes, all within @skb
 */
u32 ml_wire_crc(const void *hdr, size_t hlen, const struct sk_buff *skb,
		int off, size_t len)
{
	u32 crc = __crc32c_le(~0U, hdr, hlen);
	struct skb_seq_state st;
	unsigned int got, n;
	const u8 *data;

	if (!len)
		return crc;
	if (off + len <= skb_headlen(skb))
		return __crc32c_le(crc, skb->data + off, len);
	/* Fragments: walked in place, never linearised. */
	skb_prepare_seq_read((struct sk_buff *)skb, off, off + len, &st);
	for (got = 0; (n = skb_seq_read(got, &data, &st)) != 0; got += n)
		crc = __crc32c_le(crc, data, n);
	return crc;
}

static struct sk_buff *ml_pkt_alloc(struct net_device *ndev, size_t hlen,
				    size_t plen)
{
	struct sk_buff *skb;

	/*
	 * Room for the IPv6 and UDP headers too, so that a frame on a UDP
	 * path (either family) needs no head reallocation in ml_udp_xmit().
	 */
	skb = alloc_skb(LL_RESERVED_SPACE(ndev) + ML_UDP6_OVERHEAD + hlen +
			plen + ndev->needed_tailroom, GFP_ATOMIC);
	if (!skb)
		return NULL;
	skb_reserve(skb, LL_RESERVED_SPACE(ndev) + ML_UDP6_OVERHEAD);
	skb_reset_network_header(skb);
	skb->dev = ndev;
	skb->protocol = htons(ml_ethertype);
	skb_put_zero(skb, hlen);
	return skb;
}

static void ml_pkt_hdr(struct ml_qp *qp, struct ml_wire_hdr *h, u8 type,
		       size_t len)
{
	h->version = ML_WIRE_VERSION;
	h->type = type;
	h->len = htons(len);
	h->src_node = htonl(READ_ONCE(qp->dev->node_id));
	h->dst_node = htonl(qp->remote_node);
}

/* Seal: CRC over the headers (crc = 0) and the payload. */
static void ml_pkt_seal(struct sk_buff *skb)
{
	struct ml_wire_data *d = (struct ml_wire_data *)skb->data;

	d->crc = htonl(ml_wire_crc(d, sizeof(*d), skb, sizeof(*d),
				   skb->len - sizeof(*d)));
}

/* Gather @len bytes at message offset @off from the WR's buffers. */
static void ml_swqe_gather(const struct ml_swqe *s, u64 off, void *dst,
			   size_t len)
{
	const struct ml_send_wqe *w = &s->wqe;
	unsigned int i;
	size_t n;

	if (w->flags & ML_WR_F_INLINE) {
		memcpy(dst, w->inline_data + off, len);
		return;
	}
	for (i = 0; i < w->num_sge && len; i++) {
		if (off >= w->sge[i].length) {
			off -= w->sge[i].length;
			continue;
		}
		n = min_t(u64, len, w->sge[i].length - off);
		ml_mr_copy_out(s->mr[i], w->sge[i].addr + off, dst, n);
		dst += n;
		len -= n;
		off = 0;
	}
}

/* Attach @len bytes at message offset @off of the WR's buffers to @skb. */
static int ml_swqe_attach(const struct ml_swqe *s, u64 off,
			  struct sk_buff *skb, size_t len)
{
	const struct ml_send_wqe *w = &s->wqe;
	unsigned int i;
	size_t n;
	int err;

	for (i = 0; i < w->num_sge && len; i++) {
		if (off >= w->sge[i].length) {
			off -= w->sge[i].length;
			continue;
		}
		n = min_t(u64, len, w->sge[i].length - off);
		err = ml_mr_attach(s->mr[i], w->sge[i].addr + off, n, skb);
		if (err)
			return err;
		len -= n;
		off = 0;
	}
	return 0;
}

/*
 * Whether a @plen byte payload from registered memory goes out as page
 * fragments: every SGE piece may start mid-page, hence the slack.
 */
static bool ml_zerocopy(const struct net_device *ndev, u32 plen)
{
	return plen >= ML_ZC_MIN && (READ_ONCE(ndev->features) & NETIF_F_SG) &&
	       2 * ML_MAX_SGE + DIV_ROUND_UP(plen, PAGE_SIZE) <= MAX_SKB_FRAGS;
}

/* Build the next packet of swq_send for path @pi into @q; qp->lock held. */
static int ml_qp_build_req(struct ml_qp *qp, struct net_device *ndev,
			   unsigned int pi, struct sk_buff_head *q)
{
	struct ml_swqe *s = &qp->swq[qp->swq_send & (qp->sq_size - 1)];
	const struct ml_send_wqe *w = &s->wqe;
	u64 off = (u64)qp->send_off * qp->pmtu;
	u32 psn = s->first_psn + qp->send_off;
	u32 plen = 0, pkts = 1;
	struct ml_wire_data *d;
	struct sk_buff *skb;
	bool zc = false;
	u8 flags = 0;

	lockdep_assert_held(&qp->lock);
	if (s->op == ML_OP_READ_REQ) {
		/* One request for as many responses as the window allows. */
		u32 inflight = qp->snd_nxt - qp->snd_una;

		/*
		 * One READ request in flight at a time, for a window of
		 * responses: the responder queues only ML_MAX_RD of them.
		 */
		if (inflight)
			return -EAGAIN;
		pkts = min3(s->npkts - qp->send_off, qp->cwnd,
			    (u32)ML_READ_WINDOW);
	} else {
		plen = min_t(u64, qp->pmtu, s->len - off);
		zc = !(w->flags & ML_WR_F_INLINE) && ml_zerocopy(ndev, plen);
	}
	skb = ml_pkt_alloc(ndev, sizeof(*d), zc ? 0 : plen);
	if (!skb)
		return -ENOMEM;
	d = (struct ml_wire_data *)skb->data;
	ml_pkt_hdr(qp, &d->hdr, ML_WIRE_DATA, sizeof(*d) + plen);
	d->dst_qpn = htonl(qp->remote_qpn);
	d->src_qpn = htonl(qp->qpn);
	d->psn = htonl(psn);
	d->op = s->op;
	d->rkey = htonl(w->rkey);
	d->raddr = cpu_to_be64(w->remote_addr + off);
	if (s->op == ML_OP_READ_REQ) {
		d->msg_len = htonl(min_t(u64, s->len - off,
					 (u64)pkts * qp->pmtu));
		d->imm = htonl(qp->pmtu);
		flags = ML_PKT_F_FIRST | ML_PKT_F_LAST | ML_PKT_F_ACKREQ;
	} else {
		d->msg_len = htonl(s->len);
		if (!qp->send_off)
			flags |= ML_PKT_F_FIRST;
		if (qp->send_off + 1 == s->npkts) {
			flags |= ML_PKT_F_LAST | ML_PKT_F_ACKREQ;
			if (w->opcode == ML_WR_SEND_IMM ||
			    w->opcode == ML_WR_WRITE_IMM) {
				flags |= ML_PKT_F_IMM;
				d->imm = htonl(w->imm);
			}
		}
		/*
		 * Ask for an ack every ML_ACK_EVERY packets, when this
		 * packet ends what there is to send, and when it fills the
		 * window with no request for an ack in flight: the
		 * responder acks only when asked or every ML_ACK_EVERY
		 * packets, and a sender waiting for an ack that never
		 * comes would stall until its timer.  (Asking on every
		 * packet that fills the window made the window's every
		 * packet ask once it was full: an ack per packet, each
		 * opening room for one more, and no batch ever built.)
		 */
		if (!((psn + 1) % ML_ACK_EVERY) ||
		    (psn + 1 - qp->snd_una >= qp->cwnd &&
		     !ml_psn_before(qp->snd_una, qp->ackreq_end)) ||
		    (qp->send_off + 1 == s->npkts &&
		     qp->swq_send + 1 == qp->swq_tail))
			flags |= ML_PKT_F_ACKREQ;
		if (!zc)
			ml_swqe_gather(s, off, skb_put(skb, plen), plen);
		else if (ml_swqe_attach(s, off, skb, plen))
			goto drop;
	}
	/* Tells the responder whether a reorder it NAKed was one (qp_rx.c). */
	if (ml_psn_before(psn, qp->snd_max))
		flags |= ML_PKT_F_RESENT;
	d->flags = flags;
	if (flags & ML_PKT_F_ACKREQ)
		qp->ackreq_end = psn + pkts;
	ml_pkt_seal(skb);
	ML_SKB_PATH(skb) = pi;
	__skb_queue_tail(q, skb);
	if (zc)
		ml_qp_stat(qp, ML_STAT_TX_ZEROCOPY);
	ml_path_sent(qp, pi, psn, plen, ml_psn_before(psn, qp->snd_max));

	if (ml_psn_before(psn, qp->snd_max)) {
		qp->retransmits++;
		ml_qp_stat(qp, ML_STAT_RETRANSMITS);
	}
	qp->send_off += pkts;
	if (ml_psn_before(qp->snd_nxt, psn + pkts))
		qp->snd_nxt = psn + pkts;
	if (ml_psn_before(qp->snd_max, qp->snd_nxt))
		qp->snd_max = qp->snd_nxt;
	if (qp->send_off >= s->npkts) {
		qp->swq_send++;
		qp->send_off = 0;
	}
	return 0;

drop:
	/* Cannot happen with ml_zerocopy()'s bound; the next run retries. */
	kfree_skb(skb);
	return -ENOMEM;
}

/* One READ response packet for path @pi into @q; qp->lock held. */
static int ml_qp_build_resp(struct ml_qp *qp, struct net_device *ndev,
			    unsigned int pi, struct sk_buff_head *q)
{
	struct ml_rresp *r = &qp->rresp[qp->rresp_head % ML_MAX_RD];
	u32 plen = min(r->len, r->pmtu);
	bool zc = ml_zerocopy(ndev, plen);
	struct ml_wire_data *d;
	struct sk_buff *skb;

	lockdep_assert_held(&qp->lock);
	skb = ml_pkt_alloc(ndev, sizeof(*d), zc ? 0 : plen);
	if (!skb)
		return -ENOMEM;
	d = (struct ml_wire_data *)skb->data;
	ml_pkt_hdr(qp, &d->hdr, ML_WIRE_DATA, sizeof(*d) + plen);
	d->dst_qpn = htonl(qp->remote_qpn);
	d->src_qpn = htonl(qp->qpn);
	d->psn = htonl(r->psn);
	d->op = ML_OP_READ_RESP;
	d->flags = r->left == 1 ? ML_PKT_F_LAST : 0;
	if (!zc) {
		ml_mr_copy_out(r->mr, r->addr, skb_put(skb, plen), plen);
	} else if (ml_mr_attach(r->mr, r->addr, plen, skb)) {
		kfree_skb(skb);
		return -ENOMEM;
	}
	ml_pkt_seal(skb);
	ML_SKB_PATH(skb) = pi;
	__skb_queue_tail(q, skb);
	if (zc)
		ml_qp_stat(qp, ML_STAT_TX_ZEROCOPY);
	/* Counted, not timed: its PSN is in the peer's sequence space. */
	qp->paths.p[pi].tx_pkts++;
	qp->paths.p[pi].tx_bytes += plen;

	r->addr += plen;
	r->len -= plen;
	r->psn++;
	if (!--r->left) {
		ml_mr_put(r->mr);
		qp->rresp_head++;
	}
	return 0;
}

/* Validate a fetched WR; returns 0 or the completion status. */
static u8 ml_qp_prepare(struct ml_qp *qp, struct ml_swqe *s)
{
	struct ml_send_wqe *w = &s->wqe;
	u32 need = 0;
	unsigned int i;
	u64 len = 0;

	memset(s->mr, 0, sizeof(s->mr));
	switch (w->opcode) {
	case ML_WR_SEND:
	case ML_WR_SEND_IMM:
		s->op = ML_OP_SEND;
		break;
	case ML_WR_WRITE:
	case ML_WR_WRITE_IMM:
		s->op = ML_OP_WRITE;
		break;
	case ML_WR_READ:
		s->op = ML_OP_READ_REQ;
		need = ML_ACCESS_LOCAL_WRITE;
		break;
	default:
		s->op = ML_OP_SEND;
		return ML_WC_BAD_WR;
	}
	if (w->flags & ~(ML_WR_F_SIGNALED | ML_WR_F_INLINE))
		return ML_WC_BAD_WR;
	if (w->flags & ML_WR_F_INLINE) {
		if (s->op == ML_OP_READ_REQ || w->inline_len > qp->max_inline)
			return ML_WC_BAD_WR;
		len = w->inline_len;
	} else {
		if (w->num_sge > qp->max_send_sge)
			return ML_WC_BAD_WR;
		for (i = 0; i < w->num_sge; i++) {
			struct ml_mr *mr;

			len += w->sge[i].length;
			if (!w->sge[i].length)
				continue;
			mr = ml_mr_get(qp->dev, w->sge[i].lkey);
			s->mr[i] = mr;
			if (!mr || mr->pd != qp->pd ||
			    (mr->access & need) != need ||
			    !ml_mr_range_ok(mr, w->sge[i].addr,
					    w->sge[i].length))
				return ML_WC_LOC_PROT_ERR;
		}
	}
	if (len > ML_MAX_MSG_SIZE)
		return ML_WC_LOC_LEN_ERR;
	s->len = len;
	s->npkts = max_t(u64, 1, DIV_ROUND_UP_ULL(len, qp->pmtu));
	s->rd_recv = 0;
	return 0;
}

/* Take new WRs from the send ring; qp->lock held, QP in RTS. */
static void ml_qp_fetch(struct ml_qp *qp)
{
	struct ml_ring_hdr *hdr = qp->sq->hdr;
	struct ml_swqe *s;
	u32 prod;
	u8 status;

	lockdep_assert_held(&qp->lock);
	/* Acquire: entries user space published are visible. */
	prod = smp_load_acquire(&hdr->producer);
	if (prod - qp->sq_cons > qp->sq_size) {
		/* Nonsense from user space: nothing more can be trusted. */
		ml_qp_error(qp, ML_WC_BAD_WR);
		return;
	}
	while (qp->sq_cons != prod && qp->swq_tail - qp->swq_head < qp->sq_size) {
		s = &qp->swq[qp->swq_tail & (qp->sq_size - 1)];
		memcpy(&s->wqe, ml_ring_entry(qp->sq, qp->sq_cons),
		       sizeof(s->wqe));
		qp->sq_cons++;
		status = ml_qp_prepare(qp, s);
		s->first_psn = qp->psn_next;
		qp->swq_tail++;
		if (status) {
			/* Complete it with its error, flush the rest. */
			qp->swq_tail--;
			ml_qp_complete_send(qp, s, status);
			ml_qp_error(qp, status);
			break;
		}
		qp->psn_next += s->npkts;
	}
	/* Release: the slots are user space's again. */
	smp_store_release(&hdr->consumer, qp->sq_cons);
}

/*
 * Congestion control on the packet window, as TCP Reno's: from
 * ML_CWND_INIT, one more packet per packet acknowledged (the window
 * doubles every round trip) up to ssthresh, which is the whole window
 * until the first loss; above it one more packet per window acknowledged.
 * A loss (NAK, gap, timeout, an ECN echo, or the local netdev refusing a
 * frame) halves the window and sets ssthresh there.  qp->lock held.
 */
void ml_qp_cwnd_grow(struct ml_qp *qp, u32 acked)
{
	lockdep_assert_held(&qp->lock);
	if (qp->cwnd < qp->ssthresh) {
		qp->cwnd = min(qp->cwnd + acked, qp->ssthresh);
		return;
	}
	qp->cwnd_acc += acked;
	while (qp->cwnd_acc >= qp->cwnd && qp->cwnd < ML_WINDOW) {
		qp->cwnd_acc -= qp->cwnd;
		qp->cwnd++;
	}
}

void ml_qp_cwnd_loss(struct ml_qp *qp)
{
	lockdep_assert_held(&qp->lock);
	qp->cwnd = max_t(u32, qp->cwnd / 2, ML_CWND_MIN);
	qp->ssthresh = qp->cwnd;
	qp->cwnd_acc = 0;
}

/*
 * ECN: an ACK up to @acked (exclusive) echoed a CE mark (ML_ACK_F_ECE).
 * Halve the window, at most once per round trip: after a cut, echoes are
 * ignored until an ACK covers everything that was in flight at the cut
 * (snd_max then, in ecn_high), as TCP's CWR does.  qp->lock held.
 * Return: true if the window was cut.
 */
bool ml_qp_ecn_echo(struct ml_qp *qp, u32 acked)
{
	lockdep_assert_held(&qp->lock);
	if (qp->ecn_wait && ml_psn_before(acked, qp->ecn_high))
		return false;
	ml_qp_cwnd_loss(qp);
	qp->ecn_wait = true;
	qp->ecn_high = qp->snd_max;
	return true;
}

/*
 * A request the netdev refused: go back to it and retry in a tick.  A
 * netdev that keeps refusing for a whole retransmission timeout costs a
 * retry like a silent peer does (ml_qp_timer()), so it cannot keep the QP
 * busy for ever.
 */
static void ml_qp_tx_refused(struct ml_qp *qp, u32 psn)
{
	spin_lock_bh(&qp->lock);
	if (!qp->dying && qp->state == ML_QPS_RTS &&
	    !ml_psn_before(psn, qp->snd_una) &&
	    ml_psn_before(psn, qp->snd_nxt)) {
		ml_qp_rewind(qp, psn);
		ml_qp_cwnd_loss(qp);
		qp->tx_blocked = true;
		if (!qp->blocked_since)
			qp->blocked_since = jiffies ?: 1;
		mod_timer(&qp->timer, jiffies + 1);
	}
	spin_unlock_bh(&qp->lock);
}

/* To the QP's peer over Ethernet or, on a UDP path, in UDP. */
static int ml_qp_tx_frame(struct ml_qp *qp, struct ml_port *port,
			  const u8 *dmac, const struct in6_addr *daddr,
			  struct sk_buff *skb)
{
	if (daddr)
		return ml_udp_xmit(port, skb, &qp->udp_saddr, daddr,
				   qp->udp_flow);
	return ml_tx_frame(port, skb, dmac);
}

/* A request's packet, which the QP resends itself if it is refused. */
static bool ml_skb_request(const struct sk_buff *skb)
{
	const struct ml_wire_data *d = (const struct ml_wire_data *)skb->data;

	return d->hdr.type == ML_WIRE_DATA && d->op != ML_OP_READ_RESP;
}

/*
 * On a UDP path, the frames after @skb in @q for the same path and of the
 * same kind join it as one UDP GSO datagram (udp.c), as long as they fit.
 */
static void ml_qp_gso_batch(struct sk_buff_head *q, struct sk_buff *skb,
			    bool request)
{
	struct sk_buff *next, *last = skb;

	while ((next = skb_peek(q)) &&
	       ML_SKB_PATH(next) == ML_SKB_PATH(skb) &&
	       ml_skb_request(next) == request) {
		__skb_unlink(next, q);
		if (!ml_udp_gso_add(skb, last, next)) {
			__skb_queue_head(q, next);
			break;
		}
		last = next;
	}
}

/*
 * Hand the built frames to their paths' netdevs, in PSN order.  tx_lock
 * held, so the paths' addressing is stable (path.h); RCU read lock held.
 */
static void ml_qp_xmit(struct ml_qp *qp, struct sk_buff_head *q)
{
	const struct ml_wire_data *d;
	const struct ml_path *p;
	struct ml_port *port;
	struct sk_buff *skb;
	bool request;
	u32 psn;

	while ((skb = __skb_dequeue(q))) {
		port = ml_path_port(qp, ML_SKB_PATH(skb));
		if (!port) {
			/* Lost since it was built: resent after the rewind. */
			kfree_skb(skb);
			continue;
		}
		p = &qp->paths.p[ML_SKB_PATH(skb)];
		d = (const struct ml_wire_data *)skb->data;
		request = ml_skb_request(skb);
		psn = ntohl(d->psn);
		if (p->udp)
			ml_qp_gso_batch(q, skb, request);
		if (!ml_qp_tx_frame(qp, port, p->dmac,
				    p->udp ? &p->daddr : NULL, skb) ||
		    !request)
			continue;
		/* The rest would be refused too. */
		__skb_queue_purge(q);
		ml_qp_tx_refused(qp, psn);
	}
}

/*
 * The paths to send on now, as a mask: those whose port's link is up, or
 * if none is, those that still have a port (path.c).  RCU read lock held.
 */
static u32 ml_qp_path_mask(struct ml_qp *qp, struct ml_port **ports)
{
	u32 mask = 0, up = 0;
	unsigned int i;

	for (i = 0; i < qp->paths.num; i++) {
		ports[i] = ml_path_port(qp, i);
		if (!ports[i])
			continue;
		mask |= BIT(i);
		if (READ_ONCE(ports[i]->link_up))
			up |= BIT(i);
	}
	return up ?: mask;
}

/*
 * One run of the transmitter: at most ML_TX_BUDGET packets, built under
 * qp->lock, then handed to the netdev in order.  qp->tx_lock held.
 */
static void ml_qp_tx_run(struct ml_qp *qp)
{
	struct ml_port *ports[ML_MAX_PATHS];
	struct sk_buff_head q;
	int n = 0, err = 0, pi = 0;
	u32 mask = 0;

	lockdep_assert_held(&qp->tx_lock);
	__skb_queue_head_init(&q);
	ml_path_refresh(qp);
	rcu_read_lock();
	spin_lock_bh(&qp->lock);
	if (qp->cq_overrun && !qp->dying)
		ml_qp_error(qp, ML_WC_CQ_OVERRUN_ERR);
	if (qp->dying || qp->state != ML_QPS_RTS)
		goto unlock;
	mask = ml_qp_path_mask(qp, ports);

	while (n < ML_TX_BUDGET && qp->rresp_head != qp->rresp_tail &&
	       (pi = ml_path_next(qp, mask)) >= 0 &&
	       !(err = ml_qp_build_resp(qp, ports[pi]->netdev, pi, &q)))
		n++;

	ml_qp_fetch(qp);
	while (!err && pi >= 0 && n < ML_TX_BUDGET &&
	       qp->state == ML_QPS_RTS &&
	       !qp->rnr_wait && qp->swq_send != qp->swq_tail &&
	       qp->snd_nxt - qp->snd_una < qp->cwnd &&
	       (pi = ml_path_next(qp, mask)) >= 0 &&
	       !(err = ml_qp_build_req(qp, ports[pi]->netdev, pi, &q)))
		n++;
	if (err == -ENOMEM && qp->state == ML_QPS_RTS) {
		/*
		 * No memory for a frame: try again in a tick (nothing may be
		 * in flight to arm the retransmission timer).  Not charged to
		 * the retry budget: the memory comes back, or the QP goes.
		 */
		qp->tx_blocked = true;
		mod_timer(&qp->timer, jiffies + 1);
	} else if (!mask && qp->state == ML_QPS_RTS && !qp->rnr_wait &&
		   (qp->swq_send != qp->swq_tail ||
		    qp->rresp_head != qp->rresp_tail ||
		    qp->snd_nxt != qp->snd_una)) {
		/*
		 * No path to the peer: look again soon, and let every
		 * timeout without one cost a retry (ml_qp_timer()), so that
		 * a peer that stays unreachable errors the QP in the time
		 * a silent one would.
		 */
		qp->tx_blocked = true;
		if (!qp->blocked_since)
			qp->blocked_since = jiffies ?: 1;
		mod_timer(&qp->timer, jiffies + msecs_to_jiffies(10));
	} else if (qp->snd_nxt != qp->snd_una && !timer_pending(&qp->timer)) {
		mod_timer(&qp->timer, jiffies + msecs_to_jiffies(qp->rto_ms));
	}
	/* The rest in the tx work (under qp->lock: see ml_qp_destroy()). */
	if (n == ML_TX_BUDGET)
		ml_qp_kick(qp);
unlock:
	spin_unlock_bh(&qp->lock);
	ml_qp_xmit(qp, &q);
	rcu_read_unlock();
}

void ml_qp_tx_work(struct work_struct *work)
{
	struct ml_qp *qp = container_of(work, struct ml_qp, tx_work);

	spin_lock_bh(&qp->tx_lock);
	ml_qp_tx_run(qp);
	spin_unlock_bh(&qp->tx_lock);
}

/*
 * Transmit in the caller's context (the doorbell), with the QP's memory
 * guaranteed by the caller (RCU).  When another transmitter holds the
 * QP, the tx work runs after it instead: nothing posted is left behind.
 */
void ml_qp_tx_now(struct ml_qp *qp)
{
	if (spin_trylock_bh(&qp->tx_lock)) {
		ml_qp_tx_run(qp);
		spin_unlock_bh(&qp->tx_lock);
		return;
	}
	spin_lock_bh(&qp->lock);
	ml_qp_kick(qp);
	spin_unlock_bh(&qp->lock);
}

/* Go back to @psn (go-back-N); qp->lock held. */
void ml_qp_rewind(struct ml_qp *qp, u32 psn)
{
	u32 i;

	lockdep_assert_held(&qp->lock);
	ml_path_rtt_reset(qp);
	/* What asked for an ack from @psn on is to be sent again. */
	if (ml_psn_before(psn, qp->ackreq_end))
		qp->ackreq_end = psn;
	for (i = qp->swq_head; i != qp->swq_tail; i++) {
		struct ml_swqe *s = &qp->swq[i & (qp->sq_size - 1)];

		if (ml_psn_before(psn, s->first_psn + s->npkts)) {
			qp->swq_send = i;
			qp->send_off = ml_psn_before(psn, s->first_psn) ? 0 :
				       psn - s->first_psn;
			break;
		}
	}
	qp->snd_nxt = psn;
}

void ml_qp_timer(struct timer_list *t)
{
	struct ml_qp *qp = from_timer(qp, t, timer);
	bool kick = false, due = false;

	spin_lock_bh(&qp->lock);
	if (qp->dying || qp->state != ML_QPS_RTS)
		goto out;
	if (qp->rnr_wait || qp->tx_blocked) {
		due = qp->tx_blocked && qp->blocked_since &&
		      time_after_eq(jiffies, qp->blocked_since +
				    msecs_to_jiffies(qp->rto_ms));

		if (qp->rnr_wait)
			ml_qp_rewind(qp, qp->snd_una);
		qp->rnr_wait = false;
		qp->tx_blocked = false;
		if (!due) {
			kick = true;
			goto out;
		}
		/* Refused for a whole timeout: count it as one. */
		qp->blocked_since = jiffies ?: 1;
	}
	/* (A refused request was rewound: nothing may look in flight.) */
	if (!due && qp->snd_nxt == qp->snd_una)
		goto out;
	qp->timeouts++;
	ml_qp_stat(qp, ML_STAT_TIMEOUTS);
	if (!due)
		ml_path_loss(qp, qp->snd_una, true);
	if (++qp->retries > qp->retry_cnt) {
		struct ml_swqe *s = &qp->swq[qp->swq_head & (qp->sq_size - 1)];

		if (qp->swq_head != qp->swq_tail) {
			ml_qp_complete_send(qp, s, ML_WC_RETRY_EXC_ERR);
			qp->swq_head++;
		}
		ml_qp_error(qp, ML_WC_RETRY_EXC_ERR);
		goto out;
	}
	qp->rto_ms = min(qp->rto_ms * 2, ML_MAX_TIMEOUT_MS);
	ml_qp_cwnd_loss(qp);
	qp->rd_gap = false;
	ml_qp_rewind(qp, qp->snd_una);
	kick = true;
out:
	spin_unlock_bh(&qp->lock);
	if (kick)
		ml_qp_kick(qp);
}

/* Count @stat on the QP's primary path's port, if it has one.  Any context. */
void ml_qp_stat(struct ml_qp *qp, int stat)
{
	struct ml_port *port;

	rcu_read_lock();
	port = ml_path_port(qp, 0);
	if (port)
		ml_stat_inc(port, stat);
	rcu_read_unlock();
}

/*
 * An ACK or NAK for @psn, sent at once from any context but under
 * qp->lock: back through @via (the port the packet came in on) when a
 * path leads there, else on any path.  @flags: ML_ACK_F_*.
 */
void ml_qp_send_ack(struct ml_qp *qp, struct ml_port *via, u32 psn,
		    u8 syndrome, u8 flags)
{
	struct ml_port *port = NULL;
	struct ml_wire_ack *a;
	struct sk_buff *skb;
	u8 dmac[ETH_ALEN];
	struct in6_addr daddr;
	bool udp = false;
	unsigned int i;

	rcu_read_lock();
	spin_lock_bh(&qp->lock);
	for (i = 0; i < qp->paths.num; i++) {
		struct ml_port *pp = ml_path_port(qp, i);

		if (!pp)
			continue;
		if (!port || pp == via) {
			port = pp;
			ether_addr_copy(dmac, qp->paths.p[i].dmac);
			udp = qp->paths.p[i].udp;
			daddr = qp->paths.p[i].daddr;
		}
		if (pp == via)
			break;
	}
	spin_unlock_bh(&qp->lock);
	if (!port)
		goto out;
	skb = ml_pkt_alloc(port->netdev, sizeof(*a), 0);
	if (!skb)
		goto out;
	a = (struct ml_wire_ack *)skb->data;
	ml_pkt_hdr(qp, &a->hdr, ML_WIRE_ACK, sizeof(*a));
	a->dst_qpn = htonl(qp->remote_qpn);
	a->src_qpn = htonl(qp->qpn);
	a->psn = htonl(psn);
	a->syndrome = syndrome;
	a->flags = flags;
	a->crc = htonl(ml_wire_crc(a, sizeof(*a), skb, 0, 0));
	ml_stat_inc(port, syndrome ? ML_STAT_TX_NAK : ML_STAT_TX_ACK);
	ml_qp_tx_frame(qp, port, dmac, udp ? &daddr : NULL, skb);
out:
	rcu_read_unlock();
}
