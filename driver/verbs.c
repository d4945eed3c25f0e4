// SPDX-License-Identifier: GPL-2.0
/*
 * The data-plane ioctls: argument checks and object bookkeeping.  The
 * objects themselves live in mr.c, cq.c and qp.c.  The dispatcher in
 * chardev.c has copied the argument in (size-checked) and copies it out.
 *
 * Locking: ctx->lock around handle lookups and object creation and
 * destruction; never around pinning (see ctx.c).
 */
#include <linux/slab.h>

#include "cq.h"
#include "ctx.h"
#include "device.h"
#include "mr.h"
#include "qp.h"
#include "verbs.h"

int ml_ioctl_query_limits(struct ml_ctx *ctx, void *arg)
{
	struct ml_query_limits *l = arg;

	if (l->flags)
		return -EINVAL;
	memset(l, 0, sizeof(*l));
	l->size = sizeof(*l);
	l->max_pd = ML_MAX_PD_PER_CTX;
	l->max_mr = ML_MAX_MR_PER_CTX;
	l->max_cq = ML_MAX_CQ_PER_CTX;
	l->max_qp = ML_MAX_QP_PER_CTX;
	l->max_cqe = ML_MAX_CQE;
	l->max_sq_wr = ML_MAX_WR;
	l->max_rq_wr = ML_MAX_WR;
	l->max_sge = ML_MAX_SGE;
	l->max_inline = ML_MAX_INLINE;
	l->max_qp_dev = ML_MAX_QP_PER_DEV;
	l->max_msg_size = ML_MAX_MSG_SIZE;
	l->max_mr_size = ML_MAX_MR_SIZE;
	return 0;
}

int ml_ioctl_alloc_pd(struct ml_ctx *ctx, void *arg)
{
	struct ml_alloc_pd *a = arg;
	struct ml_pd *pd;
	int err;

	if (a->flags || a->reserved)
		return -EINVAL;
	pd = kzalloc(sizeof(*pd), GFP_KERNEL_ACCOUNT);
	if (!pd)
		return -ENOMEM;
	pd->ctx = ctx;
	/*
	 * The answer is read under the lock: once it is dropped, another
	 * thread may destroy the object by its (predictable) handle.
	 */
	mutex_lock(&ctx->lock);
	err = ml_ctx_add(ctx, &pd->uobj, ML_OBJ_PD);
	if (!err)
		a->out_pd = pd->uobj.handle;
	mutex_unlock(&ctx->lock);
	if (err) {
		kfree(pd);
		return err;
	}
	return 0;
}

int ml_ioctl_destroy(struct ml_ctx *ctx, void *arg)
{
	struct ml_destroy *d = arg;
	struct ml_uobj *uobj;
	int err = 0;

	if (d->flags || d->type < ML_OBJ_PD || d->type > ML_OBJ_QP)
		return -EINVAL;
	mutex_lock(&ctx->lock);
	uobj = ml_ctx_find(ctx, d->handle, d->type);
	if (!uobj) {
		err = -ENOENT;
		goto out;
	}
	if (atomic_read(&uobj->usecnt)) {
		err = -EBUSY;
		goto out;
	}
	ml_ctx_remove(ctx, uobj);
	switch (d->type) {
	case ML_OBJ_PD:
		kfree(container_of(uobj, struct ml_pd, uobj));
		break;
	case ML_OBJ_MR:
		ml_mr_dereg(container_of(uobj, struct ml_mr, uobj));
		break;
	case ML_OBJ_CQ:
		ml_cq_destroy(container_of(uobj, struct ml_cq, uobj));
		break;
	case ML_OBJ_QP:
		ml_qp_destroy(container_of(uobj, struct ml_qp, uobj));
		break;
	}
out:
	mutex_unlock(&ctx->lock);
	return err;
}

int ml_ioctl_reg_mr(struct ml_ctx *ctx, void *arg)
{
	struct ml_reg_mr *r = arg;
	struct ml_uobj *uobj;
	struct ml_pd *pd;
	struct ml_mr *mr;
	int err;

	if (r->flags || r->reserved || (r->access & ~ML_ACCESS_ALL) ||
	    !r->length || r->length > ML_MAX_MR_SIZE)
		return -EINVAL;
	/* Remote write needs local write, as in verbs. */
	if ((r->access & ML_ACCESS_REMOTE_WRITE) &&
	    !(r->access & ML_ACCESS_LOCAL_WRITE))
		return -EINVAL;

	/* Hold the PD across pinning, which runs without ctx->lock. */
	mutex_lock(&ctx->lock);
	uobj = ml_ctx_find(ctx, r->pd, ML_OBJ_PD);
	if (uobj)
		atomic_inc(&uobj->usecnt);
	mutex_unlock(&ctx->lock);
	if (!uobj)
		return -ENOENT;
	pd = container_of(uobj, struct ml_pd, uobj);

	err = ml_mr_reg(ctx, pd, r->addr, r->length, r->access, &mr);
	atomic_dec(&uobj->usecnt);
	if (err)
		return err;
	mutex_lock(&ctx->lock);
	err = ml_ctx_add(ctx, &mr->uobj, ML_OBJ_MR);
	if (!err) {
		/* Under the lock: see ml_ioctl_alloc_pd(). */
		r->out_handle = mr->uobj.handle;
		r->out_lkey = mr->key;
		r->out_rkey = mr->key;
	}
	mutex_unlock(&ctx->lock);
	if (err) {
		ml_mr_dereg(mr);
		return err;
	}
	return 0;
}

static bool ml_depth_ok(u32 n, u32 max)
{
	return n >= 1 && n <= max;
}

int ml_ioctl_create_cq(struct ml_ctx *ctx, void *arg)
{
	struct ml_create_cq *c = arg;
	struct ml_cq *cq;
	u32 entries;
	int err;

	if (c->flags || !ml_depth_ok(c->entries, ML_MAX_CQE))
		return -EINVAL;
	entries = roundup_pow_of_two(c->entries);
	mutex_lock(&ctx->lock);
	err = ml_cq_create(ctx, entries, &cq);
	if (!err) {
		err = ml_ctx_add(ctx, &cq->uobj, ML_OBJ_CQ);
		if (err)
			ml_cq_destroy(cq);
	}
	if (!err) {
		/* Under the lock: see ml_ioctl_alloc_pd(). */
		c->entries = entries;
		c->out_handle = cq->uobj.handle;
		c->out_mmap_offset = (u64)cq->ring->pgoff << PAGE_SHIFT;
		c->out_mmap_size = cq->ring->size;
	}
	mutex_unlock(&ctx->lock);
	return err;
}

int ml_ioctl_create_qp(struct ml_ctx *ctx, void *arg)
{
	struct ml_create_qp *c = arg;
	struct ml_uobj *pd, *scq, *rcq;
	struct ml_qp *qp;
	int err;

	if (c->flags || !ml_depth_ok(c->sq_entries, ML_MAX_WR) ||
	    !ml_depth_ok(c->rq_entries, ML_MAX_WR) ||
	    c->max_send_sge > ML_MAX_SGE || c->max_recv_sge > ML_MAX_SGE ||
	    c->max_inline > ML_MAX_INLINE)
		return -EINVAL;
	mutex_lock(&ctx->lock);
	pd = ml_ctx_find(ctx, c->pd, ML_OBJ_PD);
	scq = ml_ctx_find(ctx, c->send_cq, ML_OBJ_CQ);
	rcq = ml_ctx_find(ctx, c->recv_cq, ML_OBJ_CQ);
	if (!pd || !scq || !rcq) {
		err = -ENOENT;
		goto out;
	}
	err = ml_qp_create(ctx, c, container_of(pd, struct ml_pd, uobj),
			   container_of(scq, struct ml_cq, uobj),
			   container_of(rcq, struct ml_cq, uobj), &qp);
	if (err)
		goto out;
	err = ml_ctx_add(ctx, &qp->uobj, ML_OBJ_QP);
	if (err) {
		ml_qp_destroy(qp);
		goto out;
	}
	c->out_handle = qp->uobj.handle;
	c->out_qpn = qp->qpn;
	c->out_sq_offset = (u64)qp->sq->pgoff << PAGE_SHIFT;
	c->out_sq_size = qp->sq->size;
	c->out_rq_offset = (u64)qp->rq->pgoff << PAGE_SHIFT;
	c->out_rq_size = qp->rq->size;
out:
	mutex_unlock(&ctx->lock);
	return err;
}

static struct ml_qp *ml_ctx_qp(struct ml_ctx *ctx, u32 handle)
{
	struct ml_uobj *uobj = ml_ctx_find(ctx, handle, ML_OBJ_QP);

	return uobj ? container_of(uobj, struct ml_qp, uobj) : NULL;
}

int ml_ioctl_connect_qp(struct ml_ctx *ctx, void *arg)
{
	struct ml_connect_qp *c = arg;
	struct ml_qp *qp;
	int err;

	if (c->flags || c->reserved0 || c->retry_cnt > 15 ||
	    c->rnr_retry > 15 || c->timeout_ms > ML_MAX_TIMEOUT_MS ||
	    c->rnr_timer_ms > ML_MAX_TIMEOUT_MS || !c->remote_qpn ||
	    c->remote_qpn > ML_QPN_MAX || c->remote_node < ML_NODE_ID_MIN ||
	    c->remote_node > ML_NODE_ID_MAX)
		return -EINVAL;
	mutex_lock(&ctx->lock);
	qp = ml_ctx_qp(ctx, c->qp);
	err = qp ? ml_qp_connect(qp, c) : -ENOENT;
	mutex_unlock(&ctx->lock);
	return err;
}

int ml_ioctl_query_qp(struct ml_ctx *ctx, void *arg)
{
	struct ml_query_qp *q = arg;
	struct ml_qp *qp;
	u32 handle = q->qp;

	if (q->flags)
		return -EINVAL;
	mutex_lock(&ctx->lock);
	qp = ml_ctx_qp(ctx, handle);
	if (qp) {
		memset(q, 0, sizeof(*q));
		q->size = sizeof(*q);
		q->qp = handle;
		ml_qp_query(qp, q);
	}
	mutex_unlock(&ctx->lock);
	return qp ? 0 : -ENOENT;
}

/*
 * The doorbell: on the data path, so no ctx->lock, only an RCU lookup.
 * A QP destroyed meanwhile by another thread is still memory until the
 * grace period ends, and ml_qp_doorbell() checks it under qp->lock.
 */
int ml_ioctl_notify(struct ml_ctx *ctx, void *arg)
{
	struct ml_notify *n = arg;
	struct ml_uobj *uobj;

	if (n->flags || n->reserved)
		return -EINVAL;
	rcu_read_lock();
	uobj = ml_ctx_find_rcu(ctx, n->qp, ML_OBJ_QP);
	if (uobj)
		ml_qp_doorbell(container_of(uobj, struct ml_qp, uobj));
	rcu_read_unlock();
	return uobj ? 0 : -ENOENT;
}
