/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _ML_CQ_H
#define _ML_CQ_H

#include <linux/spinlock.h>
#include "ctx.h"

/**
 * struct ml_cq - a completion queue
 * @ring: shared with user space; the kernel produces, user space consumes
 * @lock: serialises producers (QPs in softirq and in their work items)
 * @prod: the kernel's own copy of the producer index; @lock
 * @node: in ctx->cqs, under ctx->cq_lock
 */
struct ml_cq {
	struct ml_uobj uobj;
	struct ml_ctx *ctx;
	struct ml_ring *ring;
	spinlock_t lock;	/* see above */
	u32 prod;
	struct list_head node;
};

int ml_cq_create(struct ml_ctx *ctx, u32 entries, struct ml_cq **out);
void ml_cq_destroy(struct ml_cq *cq);
int ml_cq_post(struct ml_cq *cq, const struct ml_cqe *cqe);
bool ml_ctx_cqs_ready(struct ml_ctx *ctx);

#endif /* _ML_CQ_H */
