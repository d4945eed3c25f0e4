// SPDX-License-Identifier: GPL-2.0
/*
 * Queue pair objects: creation, the state machine, connect, the send
 * queue fetch, completions, and moving to error with every outstanding
 * work request flushed.  The data path is in qp_tx.c and qp_rx.c.
 *
 * State machine: RESET -> INIT at creation; INIT -> RTS (through RTR) in
 * one ML_IOCTL_CONNECT_QP; any state -> ERROR on a fatal completion, a
 * retry budget exhausted, or the device going away.  ERROR is final.
 *
 * Locking: qp.h.  dev->qps (QP number -> QP) is an xarray changed under
 * its own lock and read under RCU by the receive path; a QP's memory is
 * freed an RCU grace period after it left the table.
 */
#include <linux/delay.h>
#include <linux/etherdevice.h>
#include <linux/jhash.h>
#include <linux/random.h>
#include <linux/moduleparam.h>
#include <linux/pid.h>
#include <linux/rcupdate.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>

#include "cq.h"
#include "device.h"
#include "discovery.h"
#include "mr.h"
#include "netlink.h"
#include "port.h"
#include "qp.h"
#include "udp.h"

static struct workqueue_struct *ml_qp_wq;

static u32 ml_roundup_pow2(u32 n)
{
	return n <= 1 ? 1 : roundup_pow_of_two(n);
}

int ml_qp_create(struct ml_ctx *ctx, struct ml_create_qp *attr,
		 struct ml_pd *pd, struct ml_cq *scq, struct ml_cq *rcq,
		 struct ml_qp **out)
{
	struct ml_dev *dev = ctx->dev;
	struct ml_qp *qp;
	int err;

	qp = kzalloc(sizeof(*qp), GFP_KERNEL_ACCOUNT);
	if (!qp)
		return -ENOMEM;
	qp->ctx = ctx;
	qp->dev = dev;
	qp->owner = get_task_pid(current, PIDTYPE_TGID);
	qp->pd = pd;
	qp->scq = scq;
	qp->rcq = rcq;
	qp->sq_size = ml_roundup_pow2(attr->sq_entries);
	qp->rq_size = ml_roundup_pow2(attr->rq_entries);
	qp->max_send_sge = attr->max_send_sge;
	qp->max_recv_sge = attr->max_recv_sge;
	qp->max_inline = attr->max_inline;
	spin_lock_init(&qp->lock);
	spin_lock_init(&qp->tx_lock);
	INIT_WORK(&qp->tx_work, ml_qp_tx_work);
	timer_setup(&qp->timer, ml_qp_timer, 0);
	qp->state = ML_QPS_INIT;

	qp->swq = kvcalloc(qp->sq_size, sizeof(*qp->swq), GFP_KERNEL_ACCOUNT | __GFP_NOWARN);
	if (!qp->swq) {
		err = -ENOMEM;
		goto err_free;
	}
	err = ml_ring_create(ctx, qp->sq_size, sizeof(struct ml_send_wqe),
			     &qp->sq);
	if (err)
		goto err_swq;
	err = ml_ring_create(ctx, qp->rq_size, sizeof(struct ml_recv_wqe),
			     &qp->rq);
	if (err)
		goto err_sq;
	if (atomic_inc_return(&dev->nr_qps) > ML_MAX_QP_PER_DEV) {
		err = -ENOSPC;
		goto err_count;
	}
	err = xa_alloc_cyclic(&dev->qps, &qp->qpn, qp, XA_LIMIT(1, ML_QPN_MAX),
			      &dev->qp_next, GFP_KERNEL);
	if (err < 0) {
		/* -EBUSY: the QP number space is exhausted. */
		if (err == -EBUSY)
			err = -ENOSPC;
		goto err_count;
	}

	atomic_inc(&pd->uobj.usecnt);
	atomic_inc(&scq->uobj.usecnt);
	atomic_inc(&rcq->uobj.usecnt);
	attr->sq_entries = qp->sq_size;
	attr->rq_entries = qp->rq_size;
	*out = qp;
	return 0;

err_count:
	atomic_dec(&dev->nr_qps);
	ml_ring_destroy(ctx, qp->rq);
err_sq:
	ml_ring_destroy(ctx, qp->sq);
err_swq:
	kvfree(qp->swq);
err_free:
	put_pid(qp->owner);
	kfree(qp);
	return err;
}

void ml_qp_put_swqe(struct ml_swqe *s)
{
	int i;

	for (i = 0; i < ML_MAX_SGE; i++) {
		if (s->mr[i])
			ml_mr_put(s->mr[i]);
		s->mr[i] = NULL;
	}
}

static void ml_qp_put_recv(struct ml_qp *qp)
{
	int i;

	for (i = 0; i < ML_MAX_SGE; i++) {
		if (qp->rmr[i])
			ml_mr_put(qp->rmr[i]);
		qp->rmr[i] = NULL;
	}
	qp->recv_active = false;
}

static void ml_qp_put_rresp(struct ml_qp *qp)
{
	for (; qp->rresp_head != qp->rresp_tail; qp->rresp_head++)
		ml_mr_put(qp->rresp[qp->rresp_head % ML_MAX_RD].mr);
}

/**
 * ml_qp_post_cqe() - post a completion of @qp to @cq
 * @qp: the QP, with qp->lock held
 * @cq: its send or receive CQ
 * @cqe: the entry
 *
 * A full CQ loses the completion (the ring is flagged, libmegalink's poll
 * reports the overflow); the QP then goes to error from its tx work, not
 * here, because the callers are walking its queues.
 */
void ml_qp_post_cqe(struct ml_qp *qp, struct ml_cq *cq,
		    const struct ml_cqe *cqe)
{
	lockdep_assert_held(&qp->lock);
	if (ml_cq_post(cq, cqe) && qp->state != ML_QPS_ERROR &&
	    !qp->cq_overrun) {
		qp->cq_overrun = true;
		ml_qp_kick(qp);
	}
}

/* The wire operation a send WR's opcode stands for. */
static u8 ml_wr_wire_op(u8 opcode)
{
	switch (opcode) {
	case ML_WR_WRITE:
	case ML_WR_WRITE_IMM:
		return ML_OP_WRITE;
	case ML_WR_READ:
		return ML_OP_READ_REQ;
	default:
		return ML_OP_SEND;
	}
}

static u8 ml_wc_opcode(const struct ml_swqe *s)
{
	switch (s->op) {
	case ML_OP_WRITE:
		return ML_WC_WRITE;
	case ML_OP_READ_REQ:
		return ML_WC_READ;
	default:
		return ML_WC_SEND;
	}
}

/* Complete a send WR (qp->lock held) and drop its MR references. */
void ml_qp_complete_send(struct ml_qp *qp, struct ml_swqe *s, u8 status)
{
	struct ml_cqe cqe = {
		.wr_id = s->wqe.wr_id,
		.status = status,
		.opcode = ml_wc_opcode(s),
		.byte_len = s->len,
		.qpn = qp->qpn,
		.src_qpn = qp->remote_qpn,
	};

	lockdep_assert_held(&qp->lock);
	if (status || (s->wqe.flags & ML_WR_F_SIGNALED))
		ml_qp_post_cqe(qp, qp->scq, &cqe);
	ml_qp_put_swqe(s);
}

static void ml_qp_complete_recv_flush(struct ml_qp *qp, u64 wr_id)
{
	struct ml_cqe cqe = {
		.wr_id = wr_id,
		.status = ML_WC_WR_FLUSH_ERR,
		.opcode = ML_WC_RECV,
		.qpn = qp->qpn,
	};

	ml_qp_post_cqe(qp, qp->rcq, &cqe);
}

/* Flush what user space posted and the kernel never took (lock held). */
static void ml_qp_flush_rings(struct ml_qp *qp)
{
	struct ml_ring_hdr *hdr;
	u32 prod, n;

	lockdep_assert_held(&qp->lock);
	hdr = qp->sq->hdr;
	/* Acquire: entries user space published are visible. */
	prod = smp_load_acquire(&hdr->producer);
	for (n = 0; qp->sq_cons != prod && n <= qp->sq->mask; n++) {
		struct ml_swqe s = {};

		memcpy(&s.wqe, ml_ring_entry(qp->sq, qp->sq_cons),
		       sizeof(s.wqe));
		qp->sq_cons++;
		s.wqe.flags = 0;
		s.op = ml_wr_wire_op(s.wqe.opcode);
		ml_qp_complete_send(qp, &s, ML_WC_WR_FLUSH_ERR);
	}
	/* Release: the slots are user space's again. */
	smp_store_release(&hdr->consumer, qp->sq_cons);

	hdr = qp->rq->hdr;
	/* Acquire: entries user space published are visible. */
	prod = smp_load_acquire(&hdr->producer);
	for (n = 0; qp->rq_cons != prod && n <= qp->rq->mask; n++) {
		const struct ml_recv_wqe *r = ml_ring_entry(qp->rq,
							    qp->rq_cons);

		ml_qp_complete_recv_flush(qp, READ_ONCE(r->wr_id));
		qp->rq_cons++;
	}
	/* Release: the slots are user space's again. */
	smp_store_release(&hdr->consumer, qp->rq_cons);
}

/**
 * ml_qp_error() - move to ERROR and flush every outstanding work request
 * @qp: the QP, with qp->lock held
 * @status: the status of the WR that failed (given by the caller
 *	already), recorded for ML_IOCTL_QUERY_QP
 */
void ml_qp_error(struct ml_qp *qp, u8 status)
{
	struct ml_swqe *s;

	lockdep_assert_held(&qp->lock);
	if (qp->state == ML_QPS_ERROR)
		return;
	qp->state = ML_QPS_ERROR;
	qp->status = status;
	/* Before the flush, so that the event shows what was outstanding. */
	ml_nl_notify_qp_error(qp);
	for (; qp->swq_head != qp->swq_tail; qp->swq_head++) {
		s = &qp->swq[qp->swq_head & (qp->sq_size - 1)];
		ml_qp_complete_send(qp, s, ML_WC_WR_FLUSH_ERR);
	}
	qp->swq_send = qp->swq_tail;
	if (qp->recv_active) {
		ml_qp_complete_recv_flush(qp, qp->rwqe.wr_id);
		ml_qp_put_recv(qp);
	}
	ml_qp_put_rresp(qp);
	WRITE_ONCE(qp->sq->hdr->flags, ML_RING_F_ERROR);
	WRITE_ONCE(qp->rq->hdr->flags, ML_RING_F_ERROR);
	ml_qp_flush_rings(qp);
	timer_delete(&qp->timer);
	pr_debug("%s: qp %u: error, status %u\n", qp->dev->name, qp->qpn,
		 status);
}

void ml_qp_kick(struct ml_qp *qp)
{
	if (!READ_ONCE(qp->dying))
		queue_work(ml_qp_wq, &qp->tx_work);
}

/*
 * The doorbell: new send work, or flush what was posted in error.  Called
 * under rcu_read_lock() without ctx->lock, so the QP may be being
 * destroyed: everything is decided under qp->lock, which ml_qp_destroy()
 * takes to set dying.  With ml_tx_inline the caller's context transmits
 * (no work-queue hop, no wakeup, on the CPU that posted), unless another
 * transmitter is busy with the QP: then the tx work takes it.
 */
void ml_qp_doorbell(struct ml_qp *qp)
{
	bool now = false;

	spin_lock_bh(&qp->lock);
	if (qp->dying) {
		/* Its rings may be gone already: touch nothing. */
		spin_unlock_bh(&qp->lock);
		return;
	}
	if (qp->state == ML_QPS_ERROR)
		ml_qp_flush_rings(qp);
	if (qp->state == ML_QPS_RTS && READ_ONCE(ml_tx_inline))
		now = true;
	else
		ml_qp_kick(qp);
	spin_unlock_bh(&qp->lock);
	if (now)
		ml_qp_tx_now(qp);
}

static u32 ml_qp_flow_seed __read_mostly;

/* Testing only: widen the window between resolving a path and using it. */
static unsigned int ml_fault_connect_delay_ms;
module_param_named(fault_connect_delay_ms, ml_fault_connect_delay_ms, uint,
		   0600);
MODULE_PARM_DESC(fault_connect_delay_ms,
		 "testing only: sleep this long in connect after resolving the path (default 0)");

int ml_qp_connect(struct ml_qp *qp, const struct ml_connect_qp *c)
{
	struct ml_path path[ML_MAX_PATHS];
	struct ml_port *port;
	unsigned int delay;
	int i, n, live;
	u32 gen, pmtu;
	int err = 0;

	gen = atomic_read(&qp->dev->path_gen);
	n = ml_path_resolve(qp->dev, c->remote_node, 256, path, NULL);
	if (!n) {
		/* Reachable, but only through paths that are too small? */
		return ml_path_resolve(qp->dev, c->remote_node, 0, path, NULL) ?
		       -EMSGSIZE : -EHOSTUNREACH;
	}
	delay = READ_ONCE(ml_fault_connect_delay_ms);
	if (unlikely(delay))
		msleep(delay);

	spin_lock_bh(&qp->tx_lock);
	spin_lock_bh(&qp->lock);
	if (qp->state != ML_QPS_INIT) {
		err = qp->state == ML_QPS_RTS ? -EISCONN : -EINVAL;
		goto out;
	}
	/*
	 * A port may have been unbound since it was resolved: an unbind
	 * clears its slot before ml_qp_port_gone() takes this lock, so only
	 * the paths whose port is still in its slot are kept, and they are
	 * resolved again if anything changed meanwhile (path_gen).
	 */
	rcu_read_lock();
	for (i = 0, live = 0; i < n; i++) {
		port = rcu_dereference(qp->dev->ports[path[i].port_index]);
		if (port && port->id == path[i].port_id)
			path[live++] = path[i];
	}
	rcu_read_unlock();
	if (!live) {
		err = -EHOSTUNREACH;
		goto out;
	}
	/* One packet size for every path: the smallest. */
	for (i = 0, pmtu = U32_MAX; i < live; i++)
		pmtu = min(pmtu, path[i].pmtu);
	qp->pmtu = pmtu;
	qp->remote_node = c->remote_node;
	ml_path_install(qp, path, live, gen);
	qp->udp_saddr = in6addr_any;
	qp->udp_flow = jhash_3words(qp->qpn, c->remote_node, c->remote_qpn,
				    ml_qp_flow_seed);
	qp->remote_qpn = c->remote_qpn;
	qp->timeout_ms = c->timeout_ms ?: ML_DEF_TIMEOUT_MS;
	qp->rto_ms = qp->timeout_ms;
	qp->retry_cnt = c->retry_cnt ?: ML_DEF_RETRY;
	qp->rnr_retry = c->rnr_retry ?: ML_DEF_RETRY;
	qp->rnr_timer_ms = c->rnr_timer_ms ?: ML_DEF_RNR_TIMER_MS;
	qp->cwnd = ML_CWND_INIT;
	qp->ssthresh = ML_WINDOW;
	qp->reorder_nak = ML_REORDER_NAK;
	qp->state = ML_QPS_RTS;
out:
	spin_unlock_bh(&qp->lock);
	spin_unlock_bh(&qp->tx_lock);
	if (!err)
		ml_qp_kick(qp);
	return err;
}

void ml_qp_query(struct ml_qp *qp, struct ml_query_qp *q)
{
	spin_lock_bh(&qp->lock);
	q->state = qp->state;
	q->qpn = qp->qpn;
	q->remote_node = qp->remote_node;
	q->remote_qpn = qp->remote_qpn;
	q->snd_psn = qp->snd_nxt;
	q->snd_una = qp->snd_una;
	q->rcv_psn = qp->rcv_nxt;
	q->retransmits = qp->retransmits;
	q->timeouts = qp->timeouts;
	q->outstanding = qp->swq_tail - qp->swq_head;
	q->status = qp->status;
	spin_unlock_bh(&qp->lock);
}

/* Destroy (the handle is gone already).  No completions are generated. */
void ml_qp_destroy(struct ml_qp *qp)
{
	spin_lock_bh(&qp->lock);
	WRITE_ONCE(qp->dying, true);
	qp->state = ML_QPS_ERROR;
	for (; qp->swq_head != qp->swq_tail; qp->swq_head++)
		ml_qp_put_swqe(&qp->swq[qp->swq_head & (qp->sq_size - 1)]);
	ml_qp_put_recv(qp);
	ml_qp_put_rresp(qp);
	spin_unlock_bh(&qp->lock);

	xa_erase(&qp->dev->qps, qp->qpn);
	atomic_dec(&qp->dev->nr_qps);
	timer_shutdown_sync(&qp->timer);
	cancel_work_sync(&qp->tx_work);

	atomic_dec(&qp->pd->uobj.usecnt);
	atomic_dec(&qp->scq->uobj.usecnt);
	atomic_dec(&qp->rcq->uobj.usecnt);
	ml_ring_destroy(qp->ctx, qp->sq);
	ml_ring_destroy(qp->ctx, qp->rq);
	kvfree(qp->swq);
	/* Dumps read it under qp->lock and skip a dying QP. */
	put_pid(qp->owner);
	kfree_rcu(qp, rcu);
}

/*
 * Port @port_index of @dev is going away: the QPs that used it move to
 * their other paths, or wait for one within their retry budget (path.c).
 * With ML_MAX_PORTS the whole device is going: every QP goes to error.
 */
void ml_qp_port_gone(struct ml_dev *dev, u32 port_index)
{
	struct ml_qp *qp;
	unsigned long i;

	if (port_index != ML_MAX_PORTS) {
		ml_path_changed(dev);
		return;
	}
	rcu_read_lock();
	xa_for_each(&dev->qps, i, qp) {
		spin_lock_bh(&qp->lock);
		if (!qp->dying)
			ml_qp_error(qp, ML_WC_RETRY_EXC_ERR);
		spin_unlock_bh(&qp->lock);
	}
	rcu_read_unlock();
}

/* The device lost its last port or is going away: error every QP. */
void ml_qp_dev_gone(struct ml_dev *dev)
{
	ml_qp_port_gone(dev, ML_MAX_PORTS);
}

int ml_qp_init(void)
{
	ml_qp_flow_seed = get_random_u32();
	ml_qp_wq = alloc_workqueue("megalink_qp", WQ_UNBOUND | WQ_HIGHPRI, 0);
	return ml_qp_wq ? 0 : -ENOMEM;
}

void ml_qp_exit(void)
{
	destroy_workqueue(ml_qp_wq);
}
