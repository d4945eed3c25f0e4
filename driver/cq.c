// SPDX-License-Identifier: GPL-2.0
/*
 * Completion queues.  The ring is written by the kernel and read by user
 * space with no system call (include/uapi/linux/megalink.h, struct
 * ml_ring_hdr): the kernel writes an entry, then publishes the producer
 * index with a store-release; user space reads the producer with a
 * load-acquire and publishes its consumer index the same way.  The kernel
 * keeps its own producer index and never trusts the consumer index for
 * anything but the free-space check, always masked.
 *
 * Notification: user space sets hdr->armed; the first completion after
 * that clears it and wakes poll() on the file.  poll() reports EPOLLIN
 * while any CQ of the file holds unconsumed entries.
 *
 * Locking: cq->lock serialises producers (lock order: qp->lock, then
 * cq->lock); ctx->cq_lock protects the file's CQ list for poll().
 */
#include <linux/poll.h>
#include <linux/slab.h>

#include "cq.h"

int ml_cq_create(struct ml_ctx *ctx, u32 entries, struct ml_cq **out)
{
	struct ml_cq *cq;
	int err;

	cq = kzalloc(sizeof(*cq), GFP_KERNEL_ACCOUNT);
	if (!cq)
		return -ENOMEM;
	err = ml_ring_create(ctx, entries, sizeof(struct ml_cqe), &cq->ring);
	if (err) {
		kfree(cq);
		return err;
	}
	cq->ctx = ctx;
	spin_lock_init(&cq->lock);
	spin_lock_bh(&ctx->cq_lock);
	list_add_tail(&cq->node, &ctx->cqs);
	spin_unlock_bh(&ctx->cq_lock);
	*out = cq;
	return 0;
}

/* No QP uses it any more (usecnt checked by the caller). */
void ml_cq_destroy(struct ml_cq *cq)
{
	struct ml_ctx *ctx = cq->ctx;

	spin_lock_bh(&ctx->cq_lock);
	list_del(&cq->node);
	spin_unlock_bh(&ctx->cq_lock);
	ml_ring_destroy(ctx, cq->ring);
	kfree(cq);
}

/**
 * ml_cq_post() - add a completion
 * @cq: the CQ
 * @cqe: the entry
 *
 * Any context.  Return: 0, or -ENOSPC when the ring is full (the
 * completion is lost and the ring flagged ML_RING_F_ERROR).
 */
int ml_cq_post(struct ml_cq *cq, const struct ml_cqe *cqe)
{
	struct ml_ring *r = cq->ring;
	struct ml_ring_hdr *hdr = r->hdr;
	bool wake = false;
	u32 cons;

	spin_lock_bh(&cq->lock);
	/* Acquire: user space is done with the slots it passed. */
	cons = smp_load_acquire(&hdr->consumer);
	if (cq->prod - cons > r->mask) {
		WRITE_ONCE(hdr->flags, READ_ONCE(hdr->flags) | ML_RING_F_ERROR);
		spin_unlock_bh(&cq->lock);
		return -ENOSPC;
	}
	memcpy(ml_ring_entry(r, cq->prod), cqe, sizeof(*cqe));
	/* Release: the entry is written before it is published. */
	smp_store_release(&hdr->producer, ++cq->prod);
	/* Pairs with user space's fence between setting armed and polling. */
	smp_mb();
	if (READ_ONCE(hdr->armed)) {
		WRITE_ONCE(hdr->armed, 0);
		wake = true;
	}
	spin_unlock_bh(&cq->lock);
	if (wake)
		wake_up_interruptible(&cq->ctx->poll_wq);
	return 0;
}

bool ml_ctx_cqs_ready(struct ml_ctx *ctx)
{
	struct ml_cq *cq;
	bool ready = false;

	spin_lock_bh(&ctx->cq_lock);
	list_for_each_entry(cq, &ctx->cqs, node) {
		if (READ_ONCE(cq->ring->hdr->producer) !=
		    READ_ONCE(cq->ring->hdr->consumer)) {
			ready = true;
			break;
		}
	}
	spin_unlock_bh(&ctx->cq_lock);
	return ready;
}
