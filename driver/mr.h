/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _ML_MR_H
#define _ML_MR_H

#include <linux/kref.h>
#include <linux/workqueue.h>
#include "ctx.h"

struct sk_buff;

struct ml_pd {
	struct ml_uobj uobj;
	struct ml_ctx *ctx;
};

/**
 * struct ml_mr - a pinned, registered range of user memory
 * @key: lkey and rkey (the same number): index in the device's key table
 *	in the upper 24 bits, a generation tag in the low 8
 * @ref: the key table, work requests in flight and the receive path hold
 *	references; pages are unpinned after the last put (in a work item,
 *	as the last put may come from softirq)
 * @addr: first user address; @length bytes
 * @pages: @npages pinned pages; @offset of @addr in the first
 */
struct ml_mr {
	struct ml_uobj uobj;
	struct ml_dev *dev;		/* referenced until the pages are unpinned */
	struct ml_ctx *ctx;		/* only while registered */
	struct ml_pd *pd;
	u32 key;
	u32 access;
	u64 addr;
	u64 length;
	unsigned long npages;
	unsigned int offset;
	struct page **pages;
	struct mm_struct *mm;
	struct kref ref;
	struct work_struct free_work;
	struct rcu_head rcu;
};

int ml_mr_reg(struct ml_ctx *ctx, struct ml_pd *pd, u64 addr, u64 length,
	      u32 access, struct ml_mr **out);
void ml_mr_dereg(struct ml_mr *mr);
void ml_mr_put(struct ml_mr *mr);
struct ml_mr *ml_mr_get(struct ml_dev *dev, u32 key);
bool ml_mr_range_ok(const struct ml_mr *mr, u64 addr, u64 len);
void ml_mr_copy_out(struct ml_mr *mr, u64 addr, void *dst, size_t len);
int ml_mr_copy_in_skb(struct ml_mr *mr, u64 addr, const struct sk_buff *skb,
		      int offset, size_t len);
int ml_mr_attach(struct ml_mr *mr, u64 addr, size_t len, struct sk_buff *skb);
int ml_mr_init(void);
void ml_mr_exit(void);

#endif /* _ML_MR_H */
