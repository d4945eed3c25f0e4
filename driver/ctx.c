// SPDX-License-Identifier: GPL-2.0
/*
 * The per-file context of the char device: its object table, its rings
 * and their mmap offsets, and teardown when the file is closed (also when
 * the process dies).
 *
 * Locking: ctx->lock (a mutex) serialises the ioctls that create and
 * destroy objects.  It is never held across pin_user_pages() or other
 * calls that take mmap_lock, because mmap() (which runs under mmap_lock)
 * looks rings up without it: ctx->mmaps is an xarray read under its own
 * lock, and a ring holds a reference for mmap() while it maps it.
 */
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>

#include "compat.h"
#include "cq.h"
#include "ctx.h"
#include "device.h"
#include "mr.h"
#include "qp.h"

int ml_ring_create(struct ml_ctx *ctx, u32 entries, u32 entry_size,
		   struct ml_ring **out)
{
	struct ml_ring *ring;
	int err;

	ring = kzalloc(sizeof(*ring), GFP_KERNEL_ACCOUNT);
	if (!ring)
		return -ENOMEM;
	ring->size = PAGE_SIZE + PAGE_ALIGN((size_t)entries * entry_size);
	/*
	 * Not vmalloc_user(): that takes no flags.  The rings are the user's
	 * to size, so they are charged to the user's memory cgroup, and a
	 * failure is the user's ENOMEM, not a kernel warning.
	 */
	ring->hdr = __vmalloc(ring->size,
			      GFP_KERNEL_ACCOUNT | __GFP_ZERO | __GFP_NOWARN);
	if (!ring->hdr) {
		kfree(ring);
		return -ENOMEM;
	}
	ring->entries = (void *)ring->hdr + PAGE_SIZE;
	ring->mask = entries - 1;
	ring->entry_size = entry_size;
	ring->hdr->mask = ring->mask;
	ring->hdr->entry_size = entry_size;
	ring->hdr->entries_offset = PAGE_SIZE;
	refcount_set(&ring->ref, 1);

	ring->pgoff = ctx->next_mmap;
	err = xa_insert(&ctx->mmaps, ring->pgoff, ring, GFP_KERNEL_ACCOUNT);
	if (err) {
		vfree(ring->hdr);
		kfree(ring);
		return err;
	}
	ctx->next_mmap += ring->size >> PAGE_SHIFT;
	*out = ring;
	return 0;
}

static void ml_ring_put(struct ml_ring *ring)
{
	if (refcount_dec_and_test(&ring->ref)) {
		/* Pages still mapped stay alive until unmapped. */
		vfree(ring->hdr);
		kfree(ring);
	}
}

void ml_ring_destroy(struct ml_ctx *ctx, struct ml_ring *ring)
{
	if (!ring)
		return;
	xa_erase(&ctx->mmaps, ring->pgoff);
	ml_ring_put(ring);
}

/* mmap() of a ring: the offset names it, the length must match. */
int ml_ctx_mmap(struct ml_ctx *ctx, struct vm_area_struct *vma)
{
	size_t len = vma->vm_end - vma->vm_start;
	struct ml_ring *ring;
	size_t off;
	int err;

	xa_lock(&ctx->mmaps);
	ring = xa_load(&ctx->mmaps, vma->vm_pgoff);
	if (ring && !refcount_inc_not_zero(&ring->ref))
		ring = NULL;
	xa_unlock(&ctx->mmaps);
	if (!ring)
		return -EINVAL;
	if (len != ring->size || !(vma->vm_flags & VM_SHARED)) {
		err = -EINVAL;
		goto out;
	}
	ml_vm_flags_set(vma, VM_DONTEXPAND | VM_DONTDUMP);
	/*
	 * Page by page, as remap_vmalloc_range() would (it wants VM_USERMAP,
	 * which only vmalloc_user() sets); on failure mmap() unmaps what was
	 * inserted.
	 */
	err = 0;
	for (off = 0; off < len; off += PAGE_SIZE) {
		err = vm_insert_page(vma, vma->vm_start + off,
				     vmalloc_to_page((void *)ring->hdr + off));
		if (err)
			break;
	}
out:
	ml_ring_put(ring);
	return err;
}

/* Give @uobj a handle (ctx->lock held); enforces the per-file limits. */
int ml_ctx_add(struct ml_ctx *ctx, struct ml_uobj *uobj, u32 type)
{
	static const unsigned int max[] = {
		[ML_OBJ_PD] = ML_MAX_PD_PER_CTX,
		[ML_OBJ_MR] = ML_MAX_MR_PER_CTX,
		[ML_OBJ_CQ] = ML_MAX_CQ_PER_CTX,
		[ML_OBJ_QP] = ML_MAX_QP_PER_CTX,
	};
	int err;

	lockdep_assert_held(&ctx->lock);
	if (ctx->count[type] >= max[type])
		return -EMFILE;
	uobj->type = type;
	atomic_set(&uobj->usecnt, 0);
	err = xa_alloc(&ctx->objs, &uobj->handle, uobj, xa_limit_31b,
		       GFP_KERNEL_ACCOUNT);
	if (err)
		return err;
	ctx->count[type]++;
	atomic_inc(&ctx->dev->nr[type]);
	return 0;
}

static struct ml_uobj *ml_ctx_lookup(struct ml_ctx *ctx, u32 handle, u32 type)
{
	struct ml_uobj *uobj = xa_load(&ctx->objs, handle);

	/* The type is set before the object is published. */
	return uobj && uobj->type == type ? uobj : NULL;
}

/* The object with @handle if it is of @type (ctx->lock held). */
struct ml_uobj *ml_ctx_find(struct ml_ctx *ctx, u32 handle, u32 type)
{
	lockdep_assert_held(&ctx->lock);
	return ml_ctx_lookup(ctx, handle, type);
}

/*
 * The same under rcu_read_lock() instead of ctx->lock: the object may be
 * being destroyed (its memory stays until a grace period has passed, every
 * object is freed by kfree_rcu()), so callers check its state under its
 * own lock before using anything beyond the object itself.
 */
struct ml_uobj *ml_ctx_find_rcu(struct ml_ctx *ctx, u32 handle, u32 type)
{
	RCU_LOCKDEP_WARN(!rcu_read_lock_held(), "object lookup without RCU");
	return ml_ctx_lookup(ctx, handle, type);
}

void ml_ctx_remove(struct ml_ctx *ctx, struct ml_uobj *uobj)
{
	lockdep_assert_held(&ctx->lock);
	xa_erase(&ctx->objs, uobj->handle);
	ctx->count[uobj->type]--;
	atomic_dec(&ctx->dev->nr[uobj->type]);
}

struct ml_ctx *ml_ctx_create(struct ml_dev *dev)
{
	struct ml_ctx *ctx;

	ctx = kzalloc(sizeof(*ctx), GFP_KERNEL_ACCOUNT);
	if (!ctx)
		return NULL;
	ctx->dev = dev;
	mutex_init(&ctx->lock);
	xa_init_flags(&ctx->objs, XA_FLAGS_ALLOC1);
	xa_init(&ctx->mmaps);
	init_waitqueue_head(&ctx->poll_wq);
	spin_lock_init(&ctx->cq_lock);
	INIT_LIST_HEAD(&ctx->cqs);
	atomic_inc(&dev->nr[0]);
	return ctx;
}

/* Close: QPs first (they use everything else), then MRs, CQs, PDs. */
void ml_ctx_destroy(struct ml_ctx *ctx)
{
	static const u32 order[] = { ML_OBJ_QP, ML_OBJ_MR, ML_OBJ_CQ,
				     ML_OBJ_PD };
	struct ml_uobj *uobj;
	unsigned long h;
	unsigned int i;

	mutex_lock(&ctx->lock);
	for (i = 0; i < ARRAY_SIZE(order); i++) {
		xa_for_each(&ctx->objs, h, uobj) {
			if (uobj->type != order[i])
				continue;
			ml_ctx_remove(ctx, uobj);
			switch (uobj->type) {
			case ML_OBJ_QP:
				ml_qp_destroy(container_of(uobj, struct ml_qp,
							   uobj));
				break;
			case ML_OBJ_MR:
				ml_mr_dereg(container_of(uobj, struct ml_mr,
							 uobj));
				break;
			case ML_OBJ_CQ:
				ml_cq_destroy(container_of(uobj, struct ml_cq,
							   uobj));
				break;
			case ML_OBJ_PD:
				kfree(container_of(uobj, struct ml_pd, uobj));
				break;
			}
		}
	}
	mutex_unlock(&ctx->lock);
	xa_destroy(&ctx->objs);
	xa_destroy(&ctx->mmaps);
	atomic_dec(&ctx->dev->nr[0]);
	kfree(ctx);
}
