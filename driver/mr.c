// SPDX-License-Identifier: GPL-2.0
/*
 * Protection domains and memory regions.
 *
 * An MR pins its user pages with pin_user_pages_fast(FOLL_LONGTERM) and
 * charges them to the registering process's pinned_vm against its
 * RLIMIT_MEMLOCK (unless CAP_IPC_LOCK).  Its key is both lkey and rkey;
 * the device's key table (dev->mrs, an xarray) finds it from the wire
 * under RCU, and every access is checked against the MR's range and
 * access flags to the byte.
 *
 * Locking: dev->mrs is changed under its own xa_lock by ml_mr_reg() and
 * ml_mr_dereg() (which run under ctx->lock); lookups are RCU plus
 * kref_get_unless_zero().  The MR's memory is freed an RCU grace period
 * after the pages are unpinned.
 */
#include <linux/highmem.h>
#include <linux/mm.h>
#include <linux/random.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/skbuff.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>

#include "device.h"
#include "mr.h"

#define ML_KEY_TAG_BITS 8

static struct workqueue_struct *ml_mr_wq;

static void ml_mr_free_work(struct work_struct *work)
{
	struct ml_mr *mr = container_of(work, struct ml_mr, free_work);

	unpin_user_pages_dirty_lock(mr->pages, mr->npages,
				    mr->access & (ML_ACCESS_LOCAL_WRITE |
						  ML_ACCESS_REMOTE_WRITE));
	atomic64_sub(mr->npages, &mr->mm->pinned_vm);
	atomic64_sub(mr->npages, &mr->dev->pinned);
	ml_dev_put(mr->dev);
	mmdrop(mr->mm);
	kvfree(mr->pages);
	kfree_rcu(mr, rcu);
}

/*
 * The last reference dropped by a work request, a READ response or the
 * receive path: unpinning may sleep (folio lock) and these run in softirq
 * or under a QP's BH spinlock, so it goes through the work queue.
 * (in_task() is no test for that: it is true with BH disabled.)
 */
static void ml_mr_release(struct kref *ref)
{
	struct ml_mr *mr = container_of(ref, struct ml_mr, ref);

	INIT_WORK(&mr->free_work, ml_mr_free_work);
	queue_work(ml_mr_wq, &mr->free_work);
}

/* Deregistration and close may sleep: unpin and uncharge before return. */
static void ml_mr_release_sync(struct kref *ref)
{
	struct ml_mr *mr = container_of(ref, struct ml_mr, ref);

	might_sleep();
	ml_mr_free_work(&mr->free_work);
}

/* Drop a reference.  Any context. */
void ml_mr_put(struct ml_mr *mr)
{
	kref_put(&mr->ref, ml_mr_release);
}

/* A counted reference to the MR with @key, or NULL.  Any context. */
struct ml_mr *ml_mr_get(struct ml_dev *dev, u32 key)
{
	struct ml_mr *mr;

	rcu_read_lock();
	mr = xa_load(&dev->mrs, key >> ML_KEY_TAG_BITS);
	if (mr && (READ_ONCE(mr->key) != key ||
		   !kref_get_unless_zero(&mr->ref)))
		mr = NULL;
	rcu_read_unlock();
	return mr;
}

/* [addr, addr + len) lies inside the MR; no overflow possible. */
bool ml_mr_range_ok(const struct ml_mr *mr, u64 addr, u64 len)
{
	return addr >= mr->addr && len <= mr->length &&
	       addr - mr->addr <= mr->length - len;
}

/*
 * Pin for writing even a read-only MR where the memory allows it: a
 * read-only pin of never-touched anonymous memory would pin the shared
 * zero page, and the process's later writes would go to copies the MR
 * never sees.  Read-only mappings fall back to a read-only pin.
 */
static int ml_mr_pin_range(struct ml_mr *mr, unsigned long done,
			   unsigned int gup)
{
	return pin_user_pages_fast((mr->addr & PAGE_MASK) + done * PAGE_SIZE,
				   min_t(unsigned long, mr->npages - done,
					 PAGE_SIZE / sizeof(struct page *)),
				   gup, mr->pages + done);
}

static int ml_mr_pin(struct ml_mr *mr)
{
	bool need_write = mr->access & (ML_ACCESS_LOCAL_WRITE |
					ML_ACCESS_REMOTE_WRITE);
	unsigned long done = 0;
	int n, err = 0;

	while (done < mr->npages) {
		n = ml_mr_pin_range(mr, done, FOLL_LONGTERM | FOLL_WRITE);
		if (n <= 0 && !need_write)
			n = ml_mr_pin_range(mr, done, FOLL_LONGTERM);
		if (n <= 0) {
			err = n ? n : -EFAULT;
			break;
		}
		done += n;
		if (fatal_signal_pending(current)) {
			err = -EINTR;
			break;
		}
	}
	if (err)
		unpin_user_pages(mr->pages, done);
	return err;
}

/**
 * ml_mr_reg() - pin and register user memory
 * @ctx: the file
 * @pd: its protection domain
 * @addr: user address, any alignment
 * @length: bytes, already checked non-zero and below ML_MAX_MR_SIZE
 * @access: ML_ACCESS_* bits, already checked
 * @out: the new MR, holding one reference for the file
 *
 * Return: 0, -ENOMEM (RLIMIT_MEMLOCK or memory), -EFAULT (bad range).
 */
int ml_mr_reg(struct ml_ctx *ctx, struct ml_pd *pd, u64 addr, u64 length,
	      u32 access, struct ml_mr **out)
{
	struct ml_dev *dev = ctx->dev;
	unsigned long lim;
	struct ml_mr *mr;
	u32 idx;
	int err;

	if (addr + length < addr || addr + length > TASK_SIZE)
		return -EFAULT;
	mr = kzalloc(sizeof(*mr), GFP_KERNEL_ACCOUNT);
	if (!mr)
		return -ENOMEM;
	mr->ctx = ctx;
	mr->pd = pd;
	mr->access = access;
	mr->addr = addr;
	mr->length = length;
	mr->offset = addr & ~PAGE_MASK;
	mr->npages = (PAGE_ALIGN(addr + length) - (addr & PAGE_MASK)) >>
		     PAGE_SHIFT;
	kref_init(&mr->ref);
	/*
	 * The pages pinned are current's (pin_user_pages_fast()), whoever
	 * opened the file (fork, SCM_RIGHTS): they are charged to current's
	 * mm, against current's limit, and uncharged from that mm.
	 */
	mr->mm = current->mm;
	mmgrab(mr->mm);

	/* Charge first: a request over the limit allocates nothing. */
	lim = rlimit(RLIMIT_MEMLOCK) >> PAGE_SHIFT;
	if (atomic64_add_return(mr->npages, &mr->mm->pinned_vm) > lim &&
	    !capable(CAP_IPC_LOCK)) {
		err = -ENOMEM;
		goto err_charge;
	}
	mr->pages = kvcalloc(mr->npages, sizeof(*mr->pages),
			     GFP_KERNEL_ACCOUNT | __GFP_NOWARN);
	if (!mr->pages) {
		err = -ENOMEM;
		goto err_charge;
	}
	err = ml_mr_pin(mr);
	if (err)
		goto err_pages;

	err = xa_alloc_cyclic(&dev->mrs, &idx, mr,
			      XA_LIMIT(1, (1U << (32 - ML_KEY_TAG_BITS)) - 1),
			      &dev->mr_next, GFP_KERNEL);
	if (err < 0)
		goto err_unpin;
	mr->dev = dev;
	kref_get(&dev->ref);
	atomic64_add(mr->npages, &dev->pinned);
	/* A random tag makes a stale key unlikely to find a new MR. */
	WRITE_ONCE(mr->key, idx << ML_KEY_TAG_BITS |
			    (get_random_u32() & ((1U << ML_KEY_TAG_BITS) - 1)));
	atomic_inc(&pd->uobj.usecnt);
	*out = mr;
	return 0;

err_unpin:
	unpin_user_pages(mr->pages, mr->npages);
err_pages:
	kvfree(mr->pages);
err_charge:
	atomic64_sub(mr->npages, &mr->mm->pinned_vm);
	mmdrop(mr->mm);
	kfree(mr);
	return err;
}

/* Unregister: no new lookups find it; work in flight keeps its pages. */
void ml_mr_dereg(struct ml_mr *mr)
{
	xa_erase(&mr->dev->mrs, mr->key >> ML_KEY_TAG_BITS);
	atomic_dec(&mr->pd->uobj.usecnt);
	/* Work requests still holding it unpin it later, from the queue. */
	kref_put(&mr->ref, ml_mr_release_sync);
}

/*
 * The piece of [addr, addr + left) that lies in one page of the MR; the
 * range has been checked with ml_mr_range_ok().
 */
static size_t ml_mr_chunk(const struct ml_mr *mr, u64 addr, size_t left,
			  struct page **page, size_t *poff)
{
	u64 off = addr - mr->addr + mr->offset;

	*page = mr->pages[off >> PAGE_SHIFT];
	*poff = off & ~PAGE_MASK;
	return min_t(size_t, left, PAGE_SIZE - *poff);
}

void ml_mr_copy_out(struct ml_mr *mr, u64 addr, void *dst, size_t len)
{
	size_t done, n, poff;
	struct page *page;

	for (done = 0; done < len; done += n) {
		n = ml_mr_chunk(mr, addr + done, len - done, &page, &poff);
		memcpy_from_page(dst + done, page, poff, n);
	}
}

int ml_mr_copy_in_skb(struct ml_mr *mr, u64 addr, const struct sk_buff *skb,
		      int offset, size_t len)
{
	size_t done, n, poff;
	struct page *page;
	void *va;
	int err;

	for (done = 0; done < len; done += n) {
		n = ml_mr_chunk(mr, addr + done, len - done, &page, &poff);
		va = kmap_local_page(page);
		err = skb_copy_bits(skb, offset + done, va + poff, n);
		kunmap_local(va);
		if (err)
			return err;
	}
	return 0;
}

/**
 * ml_mr_attach() - append [@addr, @addr + @len) of @mr to @skb as page
 *	fragments (zero-copy transmit)
 * @mr: the MR, range-checked by the caller and held until the skb is built
 * @addr: first byte
 * @len: bytes
 * @skb: the frame; each new fragment holds a page reference, so the pages
 *	outlive an unpin while the frame is in flight
 *
 * Return: 0, or -EMSGSIZE when the skb runs out of fragment slots (the
 * caller frees the skb).
 */
int ml_mr_attach(struct ml_mr *mr, u64 addr, size_t len, struct sk_buff *skb)
{
	struct skb_shared_info *sh = skb_shinfo(skb);
	size_t done, n, poff;
	struct page *page;
	int i;

	for (done = 0; done < len; done += n) {
		n = ml_mr_chunk(mr, addr + done, len - done, &page, &poff);
		i = sh->nr_frags;
		if (i && skb_can_coalesce(skb, i, page, poff)) {
			skb_frag_size_add(&sh->frags[i - 1], n);
		} else {
			if (i >= MAX_SKB_FRAGS)
				return -EMSGSIZE;
			get_page(page);
			skb_fill_page_desc(skb, i, page, poff, n);
			/* The frame holds the whole page, not just n bytes. */
			skb->truesize += PAGE_SIZE;
		}
		skb->len += n;
		skb->data_len += n;
	}
	/* User space may still write these pages: never modify in place. */
	sh->flags |= SKBFL_SHARED_FRAG;
	return 0;
}

int ml_mr_init(void)
{
	ml_mr_wq = alloc_workqueue("megalink_mr", WQ_UNBOUND, 0);
	return ml_mr_wq ? 0 : -ENOMEM;
}

void ml_mr_exit(void)
{
	destroy_workqueue(ml_mr_wq);
}
