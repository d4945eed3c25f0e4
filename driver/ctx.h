/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _ML_CTX_H
#define _ML_CTX_H

#include <linux/mutex.h>
#include <linux/spinlock.h>
#include <linux/wait.h>
#include <linux/xarray.h>
#include <linux/megalink.h>

struct ml_dev;

/* Per-file limits, reported by ML_IOCTL_QUERY_LIMITS. */
#define ML_MAX_PD_PER_CTX	64
#define ML_MAX_MR_PER_CTX	4096
#define ML_MAX_CQ_PER_CTX	256
#define ML_MAX_QP_PER_CTX	1024
#define ML_MAX_QP_PER_DEV	16384
#define ML_MAX_CQE		65536
#define ML_MAX_WR		4096
#define ML_MAX_MSG_SIZE		(1ULL << 31)
#define ML_MAX_MR_SIZE		(1ULL << 40)

/**
 * struct ml_uobj - what every per-file object starts with
 * @type: enum ml_obj_type
 * @handle: the file's handle for it
 * @usecnt: objects that depend on this one (a PD's MRs and QPs, a CQ's
 *	QPs); destroy refuses with -EBUSY while it is not zero
 */
struct ml_uobj {
	u32 type;
	u32 handle;
	atomic_t usecnt;
};

/**
 * struct ml_ctx - an open file of the char device
 * @dev: the device, referenced
 * @lock: serialises object creation and destruction (ioctls)
 * @objs: handle -> struct ml_uobj; changed under @lock, read under @lock
 * @count: objects per enum ml_obj_type; @lock
 * @mmaps: mmap offset (in pages) -> ring; changed under @lock, read under
 *	RCU by mmap()
 * @next_mmap: next free mmap page offset; @lock
 * @poll_wq: poll() waiters; woken by an armed CQ
 * @cq_lock: protects @cqs for poll()
 * @cqs: the file's CQs, scanned by poll()
 */
struct ml_ctx {
	struct ml_dev *dev;
	struct mutex lock;
	struct xarray objs;
	unsigned int count[ML_OBJ_QP + 1];
	struct xarray mmaps;
	unsigned long next_mmap;
	wait_queue_head_t poll_wq;
	spinlock_t cq_lock;	/* see above */
	struct list_head cqs;
};

/**
 * struct ml_ring - a queue shared with user space by mmap
 * @hdr: struct ml_ring_hdr at the start of the mapping
 * @entries: the entries, one page after @hdr
 * @size: bytes mapped (header page + entries, page aligned)
 * @mask: entries - 1
 * @entry_size: bytes per entry
 * @pgoff: mmap offset in pages
 * @ref: held by the owning object and, for the duration of the call, by
 *	mmap(); pages already mapped stay alive after vfree() because the
 *	mapping holds page references (vm_insert_page())
 */
struct ml_ring {
	struct ml_ring_hdr *hdr;
	void *entries;
	size_t size;
	u32 mask;
	u32 entry_size;
	unsigned long pgoff;
	refcount_t ref;
};

int ml_ring_create(struct ml_ctx *ctx, u32 entries, u32 entry_size,
		   struct ml_ring **out);
void ml_ring_destroy(struct ml_ctx *ctx, struct ml_ring *ring);
int ml_ctx_mmap(struct ml_ctx *ctx, struct vm_area_struct *vma);

static inline void *ml_ring_entry(struct ml_ring *r, u32 idx)
{
	return r->entries + (size_t)(idx & r->mask) * r->entry_size;
}

int ml_ctx_add(struct ml_ctx *ctx, struct ml_uobj *uobj, u32 type);
struct ml_uobj *ml_ctx_find(struct ml_ctx *ctx, u32 handle, u32 type);
struct ml_uobj *ml_ctx_find_rcu(struct ml_ctx *ctx, u32 handle, u32 type);
void ml_ctx_remove(struct ml_ctx *ctx, struct ml_uobj *uobj);

struct ml_ctx *ml_ctx_create(struct ml_dev *dev);
void ml_ctx_destroy(struct ml_ctx *ctx);

#endif /* _ML_CTX_H */
