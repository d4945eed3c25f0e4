// SPDX-License-Identifier: GPL-2.0
/*
 * The receive side of the reliable transport, in softirq: checking a data
 * or ack frame (CRC32C, QP, peer), the responder (in-order placement of
 * SEND and WRITE data, READ requests, acks and NAKs) and the requester's
 * handling of acks, NAKs and READ responses.
 *
 * Responder rules: a packet with the expected PSN is executed and the PSN
 * advances; a duplicate (older PSN) is acknowledged again (a duplicate
 * READ request is answered again: reads are idempotent).  A packet from
 * the future (within the window) may be a reorder of a QP striped over
 * several paths (path.c) rather than a loss: a WRITE packet without an
 * immediate, which changes no receive state, is placed at once and
 * remembered in qp->ooo, and rcv_nxt skips it when the gap before it is
 * filled; other packets from the future are dropped.  NAK_SEQ, once per
 * gap, only when the gap is qp->reorder_nak packets old (adapted to the
 * reorders the QP's paths turn out to make: ml_qp_reorder_seen()), or
 * when filling a gap leaves a hole behind a packet that was seen (dropped)
 * ahead.  Data
 * is copied once, from the frame into the registered memory, after the
 * CRC matched.
 *
 * Locking: qp.h.  The QP is found under RCU (the receive path runs in an
 * RCU read-side section) and its lock taken; a dying QP is left alone.
 */
#include <linux/etherdevice.h>
#include <linux/skbuff.h>

#include "cq.h"
#include "device.h"
#include "mr.h"
#include "path.h"
#include "port.h"
#include "qp.h"
#include "wire.h"

/*
 * Take the next receive WR from the ring and check it; lock held.
 * Return: 0; -EAGAIN when none is posted (receiver not ready); -EPROTO
 * when the ring's producer index is nonsense (no WR was taken); or a
 * positive ML_WC_* status for a WR taken but unusable (recv_active: the
 * caller completes it with that status).
 */
static int ml_qp_take_recv(struct ml_qp *qp)
{
	struct ml_ring_hdr *hdr = qp->rq->hdr;
	struct ml_recv_wqe *r = &qp->rwqe;
	unsigned int i;
	u32 prod;
	u64 len = 0;

	lockdep_assert_held(&qp->lock);
	/* Acquire: entries user space published are visible. */
	prod = smp_load_acquire(&hdr->producer);
	if (prod == qp->rq_cons)
		return -EAGAIN;
	if (prod - qp->rq_cons > qp->rq_size)
		return -EPROTO;
	memcpy(r, ml_ring_entry(qp->rq, qp->rq_cons), sizeof(*r));
	qp->rq_cons++;
	/* Release: the slots are user space's again. */
	smp_store_release(&hdr->consumer, qp->rq_cons);
	qp->recv_active = true;
	qp->recv_off = 0;
	if (r->num_sge > qp->max_recv_sge)
		return ML_WC_BAD_WR;
	for (i = 0; i < r->num_sge; i++) {
		struct ml_mr *mr;

		len += r->sge[i].length;
		if (!r->sge[i].length)
			continue;
		mr = ml_mr_get(qp->dev, r->sge[i].lkey);
		qp->rmr[i] = mr;
		if (!mr || mr->pd != qp->pd ||
		    !(mr->access & ML_ACCESS_LOCAL_WRITE) ||
		    !ml_mr_range_ok(mr, r->sge[i].addr, r->sge[i].length))
			return ML_WC_LOC_PROT_ERR;
	}
	qp->recv_len = len;
	return 0;
}

static void ml_qp_complete_recv(struct ml_qp *qp, u8 status, u32 len,
				bool imm, u32 immval, u8 opcode)
{
	struct ml_cqe cqe = {
		.wr_id = qp->rwqe.wr_id,
		.status = status,
		.opcode = opcode,
		.flags = imm ? ML_WC_F_IMM : 0,
		.byte_len = len,
		.imm = immval,
		.qpn = qp->qpn,
		.src_qpn = qp->remote_qpn,
	};
	unsigned int i;

	ml_qp_post_cqe(qp, qp->rcq, &cqe);
	for (i = 0; i < ML_MAX_SGE; i++) {
		if (qp->rmr[i])
			ml_mr_put(qp->rmr[i]);
		qp->rmr[i] = NULL;
	}
	qp->recv_active = false;
}

/*
 * The responder cannot place a message into its receive WR: that WR (if
 * one was taken) completes with @why, the requester is told with a NAK
 * (its WR fails with a remote invalid-request error) and this QP goes to
 * error, as a verbs responder does on a local error.  @why: -EAGAIN (no
 * WR: receiver not ready, retried by the requester), -EPROTO (the RQ's
 * producer index is nonsense), or an ML_WC_* status.  Lock held.
 */
static u8 ml_qp_recv_failed(struct ml_qp *qp, int why)
{
	lockdep_assert_held(&qp->lock);
	if (why == -EAGAIN)
		return ML_NAK_RNR;
	if (why > 0 && qp->recv_active)
		ml_qp_complete_recv(qp, why, 0, false, 0, ML_WC_RECV);
	qp->resp_error = why > 0 ? why : ML_WC_BAD_WR;
	return ML_NAK_INVALID;
}

/* Scatter @len payload bytes into the current receive WR at recv_off. */
static int ml_qp_scatter(struct ml_qp *qp, const struct sk_buff *skb,
			 int off, u32 len)
{
	const struct ml_recv_wqe *r = &qp->rwqe;
	u64 pos = qp->recv_off;
	unsigned int i;
	u32 n;

	if (len > qp->recv_len - qp->recv_off)
		return -EMSGSIZE;
	for (i = 0; i < r->num_sge && len; i++) {
		if (pos >= r->sge[i].length) {
			pos -= r->sge[i].length;
			continue;
		}
		n = min_t(u64, len, r->sge[i].length - pos);
		if (ml_mr_copy_in_skb(qp->rmr[i], r->sge[i].addr + pos, skb,
				      off, n))
			return -EFAULT;
		off += n;
		len -= n;
		qp->recv_off += n;
		pos = 0;
	}
	return 0;
}

/* A remote access to [addr, addr + len) with @access; a held MR or NULL. */
static struct ml_mr *ml_qp_rkey(struct ml_qp *qp, u32 rkey, u64 addr,
				u64 len, u32 access)
{
	struct ml_mr *mr = ml_mr_get(qp->dev, rkey);

	if (mr && (mr->pd != qp->pd || !(mr->access & access) ||
		   !ml_mr_range_ok(mr, addr, len))) {
		ml_mr_put(mr);
		mr = NULL;
	}
	return mr;
}

/* Forget the READ responses not sent yet; lock held. */
static void ml_qp_drop_rresp(struct ml_qp *qp)
{
	lockdep_assert_held(&qp->lock);
	for (; qp->rresp_head != qp->rresp_tail; qp->rresp_head++)
		ml_mr_put(qp->rresp[qp->rresp_head % ML_MAX_RD].mr);
}

/* Responder: a READ request at @psn; queue its responses.  Lock held. */
static u8 ml_qp_read_req(struct ml_qp *qp, const struct ml_wire_data *d,
			 u32 psn, u32 *npkts)
{
	u32 len = ntohl(d->msg_len), pmtu = ntohl(d->imm);
	u64 addr = be64_to_cpu(d->raddr);
	struct ml_rresp *r;
	struct ml_mr *mr;
	u64 n;

	lockdep_assert_held(&qp->lock);
	if (pmtu < 64 || pmtu > qp->pmtu)
		return ML_NAK_INVALID;
	/* Our requesters ask for a window of responses at most. */
	n = max_t(u64, 1, DIV_ROUND_UP_ULL((u64)len, pmtu));
	if (n > ML_READ_WINDOW)
		return ML_NAK_INVALID;
	*npkts = n;
	if (qp->rresp_tail - qp->rresp_head >= ML_MAX_RD)
		return ML_NAK_RNR;
	mr = ml_qp_rkey(qp, ntohl(d->rkey), addr, len, ML_ACCESS_REMOTE_READ);
	if (!mr)
		return ML_NAK_ACCESS;
	r = &qp->rresp[qp->rresp_tail++ % ML_MAX_RD];
	r->mr = mr;
	r->addr = addr;
	r->len = len;
	r->pmtu = pmtu;
	r->psn = psn;
	r->left = *npkts;
	return ML_ACK_OK;
}

/* Responder: execute an in-order SEND or WRITE packet.  Lock held. */
static u8 ml_qp_execute(struct ml_qp *qp, const struct ml_wire_data *d,
			const struct sk_buff *skb, u32 plen)
{
	bool first = d->flags & ML_PKT_F_FIRST, last = d->flags & ML_PKT_F_LAST;
	bool imm = last && (d->flags & ML_PKT_F_IMM);
	u32 msg_len = ntohl(d->msg_len);
	struct ml_mr *mr;
	int err;

	lockdep_assert_held(&qp->lock);
	if (d->op == ML_OP_WRITE) {
		u64 addr = be64_to_cpu(d->raddr);

		/*
		 * The first packet checks the whole message, so that a
		 * WRITE that would run past the MR changes nothing at all.
		 */
		if (first) {
			mr = ml_qp_rkey(qp, ntohl(d->rkey), addr, msg_len,
					ML_ACCESS_REMOTE_WRITE);
			if (!mr)
				return ML_NAK_ACCESS;
			ml_mr_put(mr);
		}
		mr = ml_qp_rkey(qp, ntohl(d->rkey), addr, plen,
				ML_ACCESS_REMOTE_WRITE);
		if (!mr)
			return ML_NAK_ACCESS;
		if (imm && !qp->recv_active) {
			err = ml_qp_take_recv(qp);
			if (err) {
				ml_mr_put(mr);
				return ml_qp_recv_failed(qp, err);
			}
		}
		err = ml_mr_copy_in_skb(mr, addr, skb, sizeof(*d), plen);
		ml_mr_put(mr);
		/* A receive WR taken for the immediate completes with it. */
		if (err)
			return ml_qp_recv_failed(qp, ML_WC_LOC_PROT_ERR);
		if (imm)
			ml_qp_complete_recv(qp, 0, msg_len, true,
					    ntohl(d->imm), ML_WC_RECV_IMM);
		return ML_ACK_OK;
	}

	/* SEND */
	/* A new message while one is being received: the sender is broken. */
	if (first && qp->recv_active)
		return ml_qp_recv_failed(qp, ML_WC_REM_INV_REQ_ERR);
	if (first) {
		err = ml_qp_take_recv(qp);
		if (err)
			return ml_qp_recv_failed(qp, err);
		if (msg_len > qp->recv_len)
			return ml_qp_recv_failed(qp, ML_WC_LOC_LEN_ERR);
	}
	if (!qp->recv_active)
		return ML_NAK_INVALID;
	err = ml_qp_scatter(qp, skb, sizeof(*d), plen);
	if (err)
		return ml_qp_recv_failed(qp, err == -EMSGSIZE ?
					 ML_WC_LOC_LEN_ERR : ML_WC_LOC_PROT_ERR);
	if (last)
		ml_qp_complete_recv(qp, 0, qp->recv_off, imm,
				    imm ? ntohl(d->imm) : 0,
				    imm ? ML_WC_RECV_IMM : ML_WC_RECV);
	return ML_ACK_OK;
}

/* The flags of an ACK about to be sent: ECE once per CE mark; qp->lock. */
static u8 ml_qp_ece(struct ml_qp *qp)
{
	bool ce = qp->ce_pending;

	qp->ce_pending = false;
	return ce ? ML_ACK_F_ECE : 0;
}

/*
 * rcv_nxt moves past @n PSNs just executed, then past the WRITE packets
 * placed ahead of it.  Returns whether it skipped any of those.  Lock held.
 */
static bool ml_qp_rcv_advance(struct ml_qp *qp, u32 n)
{
	bool skipped = false;

	lockdep_assert_held(&qp->lock);
	while (n--)
		clear_bit(qp->rcv_nxt++ % ML_WINDOW, qp->ooo);
	while (test_and_clear_bit(qp->rcv_nxt % ML_WINDOW, qp->ooo)) {
		qp->rcv_nxt++;
		skipped = true;
	}
	if (!ml_psn_before(qp->rcv_nxt, qp->ooo_drop))
		qp->ooo_drop = qp->rcv_nxt;
	return skipped;
}

/*
 * Responder: @psn is ahead of rcv_nxt.  Place it now if it is a WRITE
 * packet that needs no receive WR; say whether the gap before it should
 * be NAKed.  Lock held.
 */
static bool ml_qp_ahead(struct ml_qp *qp, const struct ml_wire_data *d,
			const struct sk_buff *skb, u32 psn, u32 plen)
{
	u32 dist = psn - qp->rcv_nxt;

	lockdep_assert_held(&qp->lock);
	/*
	 * One path: nothing is reordered, a gap is a loss (and packets
	 * behind a NAKed one are never placed).  After a NAK that fails the
	 * requester, nothing more is placed either: the packets behind it
	 * belong to a request that must change nothing.
	 */
	if (dist >= ML_WINDOW || qp->paths.num <= 1 || qp->ooo_off)
		return true;
	if (test_bit(psn % ML_WINDOW, qp->ooo)) {
		qp->dups++;
	} else if (d->op == ML_OP_WRITE && !(d->flags & ML_PKT_F_IMM) &&
		   ml_qp_execute(qp, d, skb, plen) == ML_ACK_OK) {
		/* (A failure is answered when the packet comes in order.) */
		set_bit(psn % ML_WINDOW, qp->ooo);
	} else if (ml_psn_before(qp->ooo_drop, psn + 1)) {
		/* Dropped: it must come again, NAK the gap once filled. */
		qp->ooo_drop = psn + 1;
	}
	return dist >= qp->reorder_nak;
}

/*
 * Responder: the reorder distance qp->reorder_nak, adapted the way TCP
 * adapts its reordering window to DSACKs (RFC 8985).  After a NAK for a
 * reorder gap at nak_psn, the original of that packet (not
 * ML_PKT_F_RESENT) arriving, to fill the gap or later as a duplicate
 * (the retransmission took a faster path), shows the gap was a reorder:
 * the NAK cost the requester a go-back-N and a window cut for nothing,
 * and the distance doubles.  A gap filled by the retransmission whose
 * original has not come by the next NAK was a loss: the distance shrinks
 * back towards ML_REORDER_NAK, so that losses are found soon.  @psn is
 * the packet's PSN, @dup whether it is a duplicate.  Lock held.
 */
static void ml_qp_reorder_seen(struct ml_qp *qp, const struct ml_wire_data *d,
			       u32 psn, bool dup)
{
	lockdep_assert_held(&qp->lock);
	if (psn != qp->nak_psn || (dup ? !qp->nak_watch : !qp->nak_reorder))
		return;
	qp->nak_reorder = false;
	qp->nak_watch = false;
	if (!(d->flags & ML_PKT_F_RESENT))
		qp->reorder_nak = min_t(u32, 2 * qp->reorder_nak,
					ML_REORDER_MAX);
	else
		qp->nak_watch = true;
}

/* Responder: a NAK for a reorder gap at rcv_nxt goes out.  Lock held. */
static void ml_qp_reorder_nak(struct ml_qp *qp)
{
	lockdep_assert_held(&qp->lock);
	/* The last one's original never came: it was a loss. */
	if (qp->nak_watch)
		qp->reorder_nak = max_t(u32, qp->reorder_nak -
					qp->reorder_nak / 4, ML_REORDER_NAK);
	qp->nak_watch = false;
	qp->nak_reorder = qp->paths.num > 1;
	qp->nak_psn = qp->rcv_nxt;
}

/* Responder side of a data packet; returns a drop reason or 0. */
static int ml_qp_responder(struct ml_qp *qp, struct ml_port *port,
			   const struct ml_wire_data *d,
			   const struct sk_buff *skb, u32 plen)
{
	u32 psn = ntohl(d->psn), npkts = 1, ack_psn = 0;
	u8 syn = ML_ACK_OK, flags;
	bool ack = false;

	spin_lock_bh(&qp->lock);
	if (qp->dying || qp->state != ML_QPS_RTS) {
		spin_unlock_bh(&qp->lock);
		return ML_STAT_DROP_NO_QP;
	}
	/* Echoed in the next ACK or NAK, whichever packet it is for. */
	if (ML_RX_CB(skb)->ce)
		qp->ce_pending = true;
	if (psn != qp->rcv_nxt) {
		if (ml_psn_before(psn, qp->rcv_nxt)) {
			/*
			 * Duplicate: answer reads again (the requester lost
			 * responses: those still queued are stale), re-ack
			 * the rest.
			 */
			qp->dups++;
			ml_qp_reorder_seen(qp, d, psn, true);
			if (d->op == ML_OP_READ_REQ) {
				ml_qp_drop_rresp(qp);
				if (ml_qp_read_req(qp, d, psn, &npkts) ==
				    ML_ACK_OK)
					ml_qp_kick(qp);
				else
					npkts = 0;
				/*
				 * A re-request may reach past the original:
				 * its PSNs are then taken, in order.
				 */
				if (npkts &&
				    ml_psn_before(qp->rcv_nxt, psn + npkts)) {
					ml_qp_rcv_advance(qp, psn + npkts -
							  qp->rcv_nxt);
					qp->nak_sent = false;
				}
			}
			ack = true;
			ack_psn = qp->rcv_nxt - 1;
		} else if (ml_qp_ahead(qp, d, skb, psn, plen) &&
			   !qp->nak_sent) {
			qp->nak_sent = true;
			ml_qp_reorder_nak(qp);
			qp->seq_naks++;
			ack = true;
			syn = ML_NAK_SEQ;
			ack_psn = qp->rcv_nxt;
		}
		flags = ack ? ml_qp_ece(qp) : 0;
		spin_unlock_bh(&qp->lock);
		if (ack)
			ml_qp_send_ack(qp, port, ack_psn, syn, flags);
		return ML_STAT_DROP_SEQ;
	}

	ml_qp_reorder_seen(qp, d, psn, false);
	if (d->op == ML_OP_READ_REQ) {
		syn = ml_qp_read_req(qp, d, psn, &npkts);
		if (syn == ML_ACK_OK)
			ml_qp_kick(qp);
	} else {
		syn = ml_qp_execute(qp, d, skb, plen);
	}
	if (syn == ML_ACK_OK) {
		bool skipped = ml_qp_rcv_advance(qp, npkts);
		bool hole;

		qp->ooo_off = false;
		hole = ml_psn_before(qp->rcv_nxt, qp->ooo_drop);

		/*
		 * Behind a packet seen (and dropped) ahead, one NAK asks for
		 * the hole at once; no other until rcv_nxt has passed
		 * everything seen ahead.  (Not after a READ: a NAK beyond it
		 * would read as its responses lost; the next packet asks.)
		 */
		if (!hole) {
			qp->nak_sent = false;
		} else if (!qp->nak_sent && d->op != ML_OP_READ_REQ) {
			qp->nak_sent = true;
			qp->seq_naks++;
			ack = true;
			syn = ML_NAK_SEQ;
			ack_psn = qp->rcv_nxt;
		}
		if (!ack && d->op != ML_OP_READ_REQ &&
		    (skipped || (d->flags & ML_PKT_F_ACKREQ) ||
		     ++qp->unacked >= ML_ACK_EVERY)) {
			/*
			 * READ responses are the acknowledgement of a READ
			 * (an ack beyond it would read as responses lost);
			 * packets placed ahead are acknowledged with the one
			 * that filled the gap before them.
			 */
			qp->unacked = 0;
			ack = true;
			ack_psn = qp->rcv_nxt - 1;
		}
	} else {
		ack = true;
		ack_psn = psn;
		if (syn != ML_NAK_RNR)
			qp->ooo_off = true;
		if (syn == ML_NAK_RNR) {
			qp->rnr_naks++;
			ml_stat_inc(port, ML_STAT_RNR_NAKS);
		}
		/* The NAK still goes out: ml_qp_send_ack() needs no state. */
		if (qp->resp_error)
			ml_qp_error(qp, qp->resp_error);
	}
	flags = ack ? ml_qp_ece(qp) : 0;
	spin_unlock_bh(&qp->lock);
	if (ack)
		ml_qp_send_ack(qp, port, ack_psn, syn, flags);
	return 0;
}

/*
 * Requester, after progress: the retransmission timer for what is still in
 * flight.  During an RNR wait the timer is the wait's end (ml_qp_timer()
 * clears rnr_wait and resumes): cancelling or pushing it back would leave
 * the QP silent with WRs to send and nothing in flight.  Lock held.
 */
static void ml_qp_rearm(struct ml_qp *qp)
{
	if (qp->rnr_wait)
		return;
	if (qp->snd_una == qp->snd_nxt)
		timer_delete(&qp->timer);
	else
		mod_timer(&qp->timer, jiffies + msecs_to_jiffies(qp->rto_ms));
}

/*
 * Requester: everything before @psn is acknowledged.  Completes finished
 * WRs in order; a READ is finished only by its own responses.  Returns
 * false when a READ stands before @psn without its data (an implied NAK).
 * Lock held.
 */
static bool ml_qp_acked(struct ml_qp *qp, u32 psn)
{
	struct ml_swqe *s;

	lockdep_assert_held(&qp->lock);
	if (!ml_psn_before(qp->snd_una, psn) || ml_psn_before(qp->snd_max, psn))
		return true;
	while (qp->swq_head != qp->swq_tail) {
		s = &qp->swq[qp->swq_head & (qp->sq_size - 1)];
		if (s->op == ML_OP_READ_REQ) {
			u32 have = s->first_psn + s->rd_recv;

			if (ml_psn_before(have, psn)) {
				if (ml_psn_before(qp->snd_una, have))
					qp->snd_una = have;
				return false;
			}
			break;
		}
		if (ml_psn_before(psn, s->first_psn + s->npkts))
			break;
		ml_qp_complete_send(qp, s, 0);
		if (qp->swq_send == qp->swq_head) {
			qp->swq_send++;
			qp->send_off = 0;
		}
		qp->swq_head++;
	}
	ml_qp_cwnd_grow(qp, psn - qp->snd_una);
	ml_path_acked(qp, psn);
	qp->snd_una = psn;
	/* Acknowledged beyond what we were about to resend: skip it. */
	if (ml_psn_before(qp->snd_nxt, psn))
		ml_qp_rewind(qp, psn);
	qp->retries = 0;
	qp->blocked_since = 0;
	qp->rto_ms = qp->timeout_ms;
	ml_qp_rearm(qp);
	return true;
}

/* Requester: a READ response.  Lock held. */
static int ml_qp_read_resp(struct ml_qp *qp, const struct ml_wire_data *d,
			   const struct sk_buff *skb, u32 plen)
{
	u32 psn = ntohl(d->psn);
	struct ml_swqe *s;
	u64 off, pos;
	unsigned int i;
	int doff;
	u32 n;

	lockdep_assert_held(&qp->lock);
	/* Earlier SENDs and WRITEs are implicitly acknowledged. */
	for (;;) {
		if (qp->swq_head == qp->swq_tail)
			return ML_STAT_DROP_SEQ;
		s = &qp->swq[qp->swq_head & (qp->sq_size - 1)];
		if (s->op == ML_OP_READ_REQ ||
		    ml_psn_before(psn, s->first_psn + s->npkts))
			break;
		ml_qp_complete_send(qp, s, 0);
		if (qp->swq_send == qp->swq_head) {
			qp->swq_send++;
			qp->send_off = 0;
		}
		qp->swq_head++;
	}
	if (s->op != ML_OP_READ_REQ || psn != s->first_psn + s->rd_recv) {
		if (!qp->rd_gap && s->op == ML_OP_READ_REQ &&
		    ml_psn_before(s->first_psn + s->rd_recv, psn)) {
			/* A response was lost: ask again from there. */
			qp->rd_gap = true;
			qp->retransmits++;
			ml_qp_cwnd_loss(qp);
			ml_qp_rewind(qp, s->first_psn + s->rd_recv);
			ml_qp_kick(qp);
		}
		return ML_STAT_DROP_SEQ;
	}
	off = (u64)s->rd_recv * qp->pmtu;
	if (plen != min_t(u64, qp->pmtu, s->len - off))
		return ML_STAT_DROP_MALFORMED;
	pos = off;
	doff = sizeof(*d);
	for (i = 0; i < s->wqe.num_sge && plen; i++) {
		const struct ml_sge *g = &s->wqe.sge[i];

		if (pos >= g->length) {
			pos -= g->length;
			continue;
		}
		n = min_t(u64, plen, g->length - pos);
		if (ml_mr_copy_in_skb(s->mr[i], g->addr + pos, skb, doff, n))
			return ML_STAT_DROP_MALFORMED;
		doff += n;
		plen -= n;
		pos = 0;
	}
	s->rd_recv++;
	ml_qp_cwnd_grow(qp, 1);
	ml_path_acked(qp, psn + 1);
	qp->rd_gap = false;
	qp->snd_una = psn + 1;
	if (ml_psn_before(qp->snd_nxt, qp->snd_una))
		qp->snd_nxt = qp->snd_una;
	qp->retries = 0;
	if (s->rd_recv == s->npkts) {
		ml_qp_complete_send(qp, s, 0);
		if (qp->swq_send == qp->swq_head) {
			qp->swq_send++;
			qp->send_off = 0;
		}
		qp->swq_head++;
	}
	ml_qp_rearm(qp);
	ml_qp_kick(qp);
	return 0;
}

/* Requester: an ACK or NAK. */
static int ml_qp_ack(struct ml_qp *qp, const struct ml_wire_ack *a)
{
	u32 psn = ntohl(a->psn);
	struct ml_swqe *s;
	u8 status;
	bool kick = true, inline_tx;

	spin_lock_bh(&qp->lock);
	if (qp->dying || qp->state != ML_QPS_RTS) {
		spin_unlock_bh(&qp->lock);
		return ML_STAT_DROP_NO_QP;
	}
	/*
	 * A NAK, which costs a rewind, a retry or the QP, must name a packet
	 * in flight: a late duplicate (before snd_una) or one for a PSN never
	 * sent is a ghost, dropped.
	 */
	if (a->syndrome != ML_ACK_OK &&
	    (ml_psn_before(psn, qp->snd_una) ||
	     !ml_psn_before(psn, qp->snd_max))) {
		spin_unlock_bh(&qp->lock);
		return ML_STAT_DROP_SEQ;
	}
	switch (a->syndrome) {
	case ML_ACK_OK:
		if (!ml_qp_acked(qp, psn + 1))
			ml_qp_rewind(qp, qp->snd_una);
		if ((a->flags & ML_ACK_F_ECE) && ml_qp_ecn_echo(qp, psn + 1))
			ml_qp_stat(qp, ML_STAT_ECN_CWND_CUTS);
		break;
	case ML_NAK_SEQ:
		ml_qp_acked(qp, psn);
		ml_path_loss(qp, psn, false);
		ml_qp_rewind(qp, qp->snd_una);
		ml_qp_cwnd_loss(qp);
		break;
	case ML_NAK_RNR:
		ml_qp_acked(qp, psn);
		if (++qp->rnr_retries > qp->rnr_retry) {
			status = ML_WC_RNR_RETRY_EXC_ERR;
			goto fatal;
		}
		qp->rnr_wait = true;
		mod_timer(&qp->timer,
			  jiffies + msecs_to_jiffies(qp->rnr_timer_ms));
		kick = false;
		break;
	case ML_NAK_ACCESS:
	case ML_NAK_INVALID:
		ml_qp_acked(qp, psn);
		status = a->syndrome == ML_NAK_ACCESS ? ML_WC_REM_ACCESS_ERR :
							ML_WC_REM_INV_REQ_ERR;
		goto fatal;
	default:
		spin_unlock_bh(&qp->lock);
		return ML_STAT_DROP_MALFORMED;
	}
	if (a->syndrome == ML_ACK_OK)
		qp->rnr_retries = 0;
	/*
	 * The ack opened the window: send on from here, as the doorbell
	 * does (we are under RCU, ml_qp_tx_now() decides under qp->lock),
	 * rather than wake the tx work for it.  Else the kick is under the
	 * lock: ml_qp_destroy() sets dying under it, then cancels.
	 */
	inline_tx = kick && READ_ONCE(ml_tx_inline);
	if (kick && !inline_tx)
		ml_qp_kick(qp);
	spin_unlock_bh(&qp->lock);
	if (inline_tx)
		ml_qp_tx_now(qp);
	return 0;

fatal:
	if (qp->swq_head != qp->swq_tail) {
		s = &qp->swq[qp->swq_head & (qp->sq_size - 1)];
		ml_qp_complete_send(qp, s, status);
		qp->swq_head++;
	}
	ml_qp_error(qp, status);
	spin_unlock_bh(&qp->lock);
	return 0;
}

/**
 * ml_qp_rx() - a DATA or ACK frame whose common header passed the checks
 * @port: the receiving port
 * @skb: the frame, data at the megalink header
 *
 * Return: 0, or the ML_STAT_* reason the frame was dropped for.
 */
int ml_qp_rx(struct ml_port *port, struct sk_buff *skb)
{
	const struct ml_wire_hdr *h = (const struct ml_wire_hdr *)skb->data;
	bool is_ack = h->type == ML_WIRE_ACK;
	u32 len = ntohs(h->len), hlen, crc, plen = 0;
	struct ml_wire_data dh;
	struct ml_wire_ack ah;
	void *hdr = is_ack ? (void *)&ah : (void *)&dh;
	__be32 *crcp;
	struct ml_qp *qp;
	int reason;

	hlen = is_ack ? sizeof(ah) : sizeof(dh);
	if (len < hlen)
		return ML_STAT_DROP_MALFORMED;
	/*
	 * Only the header need be linear (this may move skb->data: h is
	 * not used after it); the payload stays where the netdev put it
	 * and is copied once, into the MR.
	 */
	if (!pskb_may_pull(skb, hlen))
		return ML_STAT_DROP_NOMEM;
	memcpy(hdr, skb->data, hlen);
	crcp = is_ack ? &ah.crc : &dh.crc;
	crc = ntohl(*crcp);
	*crcp = 0;
	if (!is_ack)
		plen = len - hlen;
	if (ml_wire_crc(hdr, hlen, skb, hlen, plen) != crc)
		return ML_STAT_DROP_CRC;

	h = hdr;
	/* Only HELLOs go to every node; reserved fields are zero. */
	if (ntohl(h->dst_node) == ML_WIRE_NODE_ALL ||
	    (is_ack ? (ah.flags & ~ML_ACK_F_ECE) | ah.reserved[0] |
		      ah.reserved[1] :
		      dh.reserved || dh.reserved2))
		return ML_STAT_DROP_MALFORMED;
	if (!is_ack)
		ml_stat_inc(port, ML_STAT_RX_DATA);
	qp = xa_load(&port->dev->qps, ntohl(is_ack ? ah.dst_qpn : dh.dst_qpn));
	if (!qp || READ_ONCE(qp->remote_node) != ntohl(h->src_node) ||
	    READ_ONCE(qp->remote_qpn) !=
	    ntohl(is_ack ? ah.src_qpn : dh.src_qpn))
		return ML_STAT_DROP_NO_QP;

	if (is_ack) {
		ml_stat_inc(port, ah.syndrome ? ML_STAT_RX_NAK :
						ML_STAT_RX_ACK);
		return ml_qp_ack(qp, &ah);
	}
	if (dh.op == ML_OP_READ_RESP) {
		spin_lock_bh(&qp->lock);
		reason = qp->dying || qp->state != ML_QPS_RTS ?
			 ML_STAT_DROP_NO_QP : ml_qp_read_resp(qp, &dh, skb, plen);
		spin_unlock_bh(&qp->lock);
		return reason;
	}
	if (dh.op != ML_OP_SEND && dh.op != ML_OP_WRITE &&
	    dh.op != ML_OP_READ_REQ)
		return ML_STAT_DROP_MALFORMED;
	if (plen > qp->pmtu)
		return ML_STAT_DROP_MALFORMED;
	return ml_qp_responder(qp, port, &dh, skb, plen);
}
