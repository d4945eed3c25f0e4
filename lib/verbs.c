// SPDX-License-Identifier: MIT
/*
 * libmegalink data plane: PD, MR, CQ and QP setup and teardown over the
 * ioctls of /dev/megalink/mlN, ring mapping, and the cold paths of the
 * inline calls of <megalink/megalink.h> (posting and polling live there).
 *
 * Locking: dev->lock protects the device's object list and its cached
 * limits.  Everything on the data path is lock-free (see the header).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>

#include "internal.h"

#define container_of(p, type, member) \
	((type *)(void *)((char *)(p) - offsetof(type, member)))

/* Library objects: the public struct first, then the list link. */
struct ml_pd {
	struct ml_device *dev;
	uint32_t handle;
	struct ml_obj link;
};

struct mr_impl {
	struct ml_mr pub;
	struct ml_obj link;
};

struct cq_impl {
	struct ml_cq pub;
	struct ml_obj link;
};

struct qp_impl {
	struct ml_qp pub;
	struct ml_obj link;
};

#define QP_DEFAULT_ENTRIES	128u

/* ------------------------------------------------------------------ */
/* Helpers                                                              */
/* ------------------------------------------------------------------ */

static void obj_add(struct ml_device *dev, struct ml_obj *o, int type)
{
	o->type = type;
	pthread_mutex_lock(&dev->lock);
	o->next = &dev->objs;
	o->prev = dev->objs.prev;
	dev->objs.prev->next = o;
	dev->objs.prev = o;
	pthread_mutex_unlock(&dev->lock);
}

static void obj_del(struct ml_device *dev, struct ml_obj *o)
{
	pthread_mutex_lock(&dev->lock);
	o->prev->next = o->next;
	o->next->prev = o->prev;
	o->prev = o->next = o;
	pthread_mutex_unlock(&dev->lock);
}

/* ioctl with a negative errno result; EINTR is retried. */
static int dp_ioctl(struct ml_device *dev, unsigned long cmd, void *arg)
{
	int r;

	do {
		r = ioctl(dev->fd, cmd, arg);
	} while (r < 0 && errno == EINTR);
	return r < 0 ? -errno : 0;
}

/* Failure of an ioctl: an explanation for the errors every call shares. */
static int dp_fail(struct ml_device *dev, int err, const char *what)
{
	switch (err) {
	case -ENOTTY:
		return ml__fail(err, "%s %s: the megalink module has no data plane "
				"(ioctl not supported: kernel module too old?)",
				what, dev->name);
	case -ENODEV:
		return ml__fail(err, "%s %s: device removed", what, dev->name);
	default:
		return ml__fail(err, "%s %s: %s", what, dev->name, ml_strerror(err));
	}
}

static void destroy_handle(struct ml_device *dev, uint32_t type, uint32_t handle)
{
	struct ml_destroy d = {
		.size = sizeof(d), .type = type, .handle = handle,
	};

	(void)dp_ioctl(dev, ML_IOCTL_DESTROY, &d);
}

/*
 * ML_IOCTL_DESTROY.  Once the device is gone (-ENODEV) the kernel objects
 * die with the file: the caller releases its side and reports success.
 */
static int destroy_ioctl(struct ml_device *dev, struct ml_destroy *d)
{
	int err = dp_ioctl(dev, ML_IOCTL_DESTROY, d);

	return err == -ENODEV ? 0 : err;
}

static int get_limits(struct ml_device *dev, struct ml_limits *out)
{
	struct ml_query_limits q;
	int err;

	pthread_mutex_lock(&dev->lock);
	if (dev->have_limits) {
		*out = dev->limits;
		pthread_mutex_unlock(&dev->lock);
		return 0;
	}
	pthread_mutex_unlock(&dev->lock);

	memset(&q, 0, sizeof(q));
	q.size = sizeof(q);
	err = dp_ioctl(dev, ML_IOCTL_QUERY_LIMITS, &q);
	if (err)
		return dp_fail(dev, err, "query limits");

	memset(out, 0, sizeof(*out));
	out->max_pd = q.max_pd;
	out->max_mr = q.max_mr;
	out->max_cq = q.max_cq;
	out->max_qp = q.max_qp;
	out->max_cqe = q.max_cqe;
	out->max_sq_wr = q.max_sq_wr;
	out->max_rq_wr = q.max_rq_wr;
	out->max_sge = q.max_sge;
	out->max_inline = q.max_inline;
	out->max_qp_dev = q.max_qp_dev;
	out->max_msg_size = q.max_msg_size;
	out->max_mr_size = q.max_mr_size;

	pthread_mutex_lock(&dev->lock);
	dev->limits = *out;
	dev->have_limits = 1;
	pthread_mutex_unlock(&dev->lock);
	return 0;
}

ML_EXPORT int ml_query_limits(struct ml_device *dev, struct ml_limits *out)
{
	if (!dev || !out)
		return ml__fail(-EINVAL, "query limits: NULL %s", dev ? "output" : "device");
	return get_limits(dev, out);
}

/*
 * Map a ring the kernel described by (offset, size) and check its header:
 * @entries slots of @entry_size bytes.  Returns 0 or -errno (detail set).
 */
static int ring_map(struct ml_device *dev, struct ml_ring *r, uint64_t offset,
		    uint64_t size, uint32_t entries, uint32_t entry_size,
		    const char *what)
{
	struct ml_ring_hdr *hdr;
	uint64_t eoff;
	void *p;

	memset(r, 0, sizeof(*r));
	if (!entries || (entries & (entries - 1)) ||
	    size < sizeof(*hdr) + (uint64_t)entries * entry_size)
		return ml__fail(-EPROTO, "%s %s: kernel described an impossible ring "
				"(%" PRIu32 " entries of %" PRIu32 " bytes in %" PRIu64
				" bytes)", what, dev->name, entries, entry_size, size);

	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, dev->fd, (off_t)offset);
	if (p == MAP_FAILED) {
		int err = -errno;

		return ml__fail(err, "%s %s: mmap of the ring (offset 0x%" PRIx64
				", %" PRIu64 " bytes): %s", what, dev->name, offset,
				size, ml_strerror(err));
	}
	hdr = p;
	if (hdr->mask != entries - 1 || hdr->entry_size != entry_size) {
		munmap(p, size);
		return ml__fail(-EPROTO, "%s %s: ring header says %" PRIu32
				" entries of %" PRIu32 " bytes, expected %" PRIu32
				" of %" PRIu32, what, dev->name, hdr->mask + 1,
				hdr->entry_size, entries, entry_size);
	}
	/* The kernel says where the entries are; older ones put them at 4096. */
	eoff = hdr->entries_offset ? hdr->entries_offset : ML_RING_ENTRIES_OFFSET;
	if (eoff < sizeof(*hdr) || eoff + (uint64_t)entries * entry_size > size) {
		munmap(p, size);
		return ml__fail(-EPROTO, "%s %s: ring header puts %" PRIu32 " entries of %"
				PRIu32 " bytes at offset %" PRIu64 ", outside the %" PRIu64
				"-byte mapping", what, dev->name, entries, entry_size, eoff,
				size);
	}
	r->hdr = p;
	r->entries = (char *)p + eoff;
	r->mask = entries - 1;
	r->size = entries;
	r->map_size = size;
	return 0;
}

static void ring_unmap(struct ml_ring *r)
{
	if (r->hdr)
		munmap(r->hdr, r->map_size);
	r->hdr = NULL;
}

/* ------------------------------------------------------------------ */
/* PD                                                                   */
/* ------------------------------------------------------------------ */

ML_EXPORT int ml_pd_alloc(struct ml_device *dev, struct ml_pd **out)
{
	struct ml_alloc_pd a;
	struct ml_pd *pd;
	int err;

	if (!out)
		return ml__fail(-EINVAL, "pd alloc: out pointer is NULL");
	*out = NULL;
	if (!dev)
		return ml__fail(-EINVAL, "pd alloc: device is NULL");
	pd = calloc(1, sizeof(*pd));
	if (!pd)
		return ml__fail(-ENOMEM, "pd alloc %s: out of memory", dev->name);

	memset(&a, 0, sizeof(a));
	a.size = sizeof(a);
	err = dp_ioctl(dev, ML_IOCTL_ALLOC_PD, &a);
	if (err) {
		free(pd);
		if (err == -ENOSPC || err == -EMFILE)
			return ml__fail(err, "pd alloc %s: too many PDs on this file "
					"(see ml_query_limits max_pd)", dev->name);
		return dp_fail(dev, err, "pd alloc");
	}
	pd->dev = dev;
	pd->handle = a.out_pd;
	obj_add(dev, &pd->link, ML_OBJ_PD);
	*out = pd;
	return 0;
}

ML_EXPORT int ml_pd_free(struct ml_pd *pd)
{
	struct ml_destroy d;
	int err;

	if (!pd)
		return 0;
	memset(&d, 0, sizeof(d));
	d.size = sizeof(d);
	d.type = ML_OBJ_PD;
	d.handle = pd->handle;
	err = destroy_ioctl(pd->dev, &d);
	if (err == -EBUSY)
		return ml__fail(err, "pd free %s: PD %" PRIu32 " is still used by MRs "
				"or QPs (destroy them first)", pd->dev->name, pd->handle);
	if (err)
		return dp_fail(pd->dev, err, "pd free");
	obj_del(pd->dev, &pd->link);
	free(pd);
	return 0;
}

/* ------------------------------------------------------------------ */
/* MR                                                                   */
/* ------------------------------------------------------------------ */

static void mib(char *buf, size_t n, uint64_t bytes)
{
	if (bytes >= (1ULL << 20))
		snprintf(buf, n, "%" PRIu64 " MiB", bytes >> 20);
	else
		snprintf(buf, n, "%" PRIu64 " KiB", bytes >> 10);
}

ML_EXPORT int ml_mr_reg(struct ml_pd *pd, void *addr, size_t length,
			unsigned int access, struct ml_mr **out)
{
	struct ml_reg_mr r;
	struct mr_impl *m;
	int err;

	if (!out)
		return ml__fail(-EINVAL, "mr reg: out pointer is NULL");
	*out = NULL;
	if (!pd)
		return ml__fail(-EINVAL, "mr reg: pd is NULL");
	if (!addr)
		return ml__fail(-EINVAL, "mr reg: addr is NULL");
	if (!length)
		return ml__fail(-EINVAL, "mr reg: length is 0");
	if (access & ~ML_ACCESS_ALL)
		return ml__fail(-EINVAL, "mr reg: unknown access bits 0x%x",
				access & ~ML_ACCESS_ALL);
	m = calloc(1, sizeof(*m));
	if (!m)
		return ml__fail(-ENOMEM, "mr reg %s: out of memory", pd->dev->name);

	memset(&r, 0, sizeof(r));
	r.size = sizeof(r);
	r.pd = pd->handle;
	r.access = access;
	r.addr = (uintptr_t)addr;
	r.length = length;
	err = dp_ioctl(pd->dev, ML_IOCTL_REG_MR, &r);
	if (err) {
		struct rlimit rl;
		char a[32], b[32];

		free(m);
		if (err == -ENOMEM && getrlimit(RLIMIT_MEMLOCK, &rl) == 0 &&
		    rl.rlim_cur != RLIM_INFINITY) {
			mib(a, sizeof(a), length);
			mib(b, sizeof(b), rl.rlim_cur);
			return ml__fail(err, "mr reg %s: cannot pin %s: RLIMIT_MEMLOCK "
					"is %s (raise it with ulimit -l, or run with "
					"CAP_IPC_LOCK)", pd->dev->name, a, b);
		}
		if (err == -EFAULT)
			return ml__fail(err, "mr reg %s: [%p, +%zu) is not mapped "
					"memory of this process", pd->dev->name, addr, length);
		if (err == -EINVAL)
			return ml__fail(err, "mr reg %s: kernel refused the region "
					"(length %zu, access 0x%x; max_mr_size?)",
					pd->dev->name, length, access);
		if (err == -ENOSPC || err == -EMFILE)
			return ml__fail(err, "mr reg %s: too many MRs on this file "
					"(see ml_query_limits max_mr)", pd->dev->name);
		return dp_fail(pd->dev, err, "mr reg");
	}
	m->pub.addr = addr;
	m->pub.length = length;
	m->pub.lkey = r.out_lkey;
	m->pub.rkey = r.out_rkey;
	m->pub.access = access;
	m->pub.handle = r.out_handle;
	m->pub.pd = pd;
	obj_add(pd->dev, &m->link, ML_OBJ_MR);
	*out = &m->pub;
	return 0;
}

ML_EXPORT int ml_mr_dereg(struct ml_mr *mr)
{
	struct mr_impl *m;
	struct ml_device *dev;
	struct ml_destroy d;
	int err;

	if (!mr)
		return 0;
	m = container_of(mr, struct mr_impl, pub);
	dev = mr->pd->dev;
	memset(&d, 0, sizeof(d));
	d.size = sizeof(d);
	d.type = ML_OBJ_MR;
	d.handle = mr->handle;
	err = destroy_ioctl(dev, &d);
	if (err == -EBUSY)
		return ml__fail(err, "mr dereg %s: MR %" PRIu32 " is in use by "
				"outstanding work", dev->name, mr->handle);
	if (err)
		return dp_fail(dev, err, "mr dereg");
	obj_del(dev, &m->link);
	free(m);
	return 0;
}

/* ------------------------------------------------------------------ */
/* CQ                                                                   */
/* ------------------------------------------------------------------ */

ML_EXPORT int ml_cq_create(struct ml_device *dev, uint32_t entries, struct ml_cq **out)
{
	struct ml_limits lim;
	struct ml_create_cq c;
	struct cq_impl *q;
	int err;

	if (!out)
		return ml__fail(-EINVAL, "cq create: out pointer is NULL");
	*out = NULL;
	if (!dev)
		return ml__fail(-EINVAL, "cq create: device is NULL");
	if (!entries)
		return ml__fail(-EINVAL, "cq create: entries is 0");
	err = get_limits(dev, &lim);
	if (err)
		return err;
	if (lim.max_cqe && entries > lim.max_cqe)
		return ml__fail(-EINVAL, "cq create: entries %" PRIu32 " exceeds "
				"max_cqe %" PRIu32, entries, lim.max_cqe);
	q = calloc(1, sizeof(*q));
	if (!q)
		return ml__fail(-ENOMEM, "cq create %s: out of memory", dev->name);

	memset(&c, 0, sizeof(c));
	c.size = sizeof(c);
	c.entries = entries;
	err = dp_ioctl(dev, ML_IOCTL_CREATE_CQ, &c);
	if (err) {
		free(q);
		if (err == -ENOSPC || err == -EMFILE)
			return ml__fail(err, "cq create %s: too many CQs on this file "
					"(see ml_query_limits max_cq)", dev->name);
		return dp_fail(dev, err, "cq create");
	}
	if (c.entries < entries) {
		destroy_handle(dev, ML_OBJ_CQ, c.out_handle);
		free(q);
		return ml__fail(-EPROTO, "cq create %s: asked for %" PRIu32
				" entries, kernel gave %" PRIu32, dev->name, entries,
				c.entries);
	}
	err = ring_map(dev, &q->pub.ring, c.out_mmap_offset, c.out_mmap_size,
		       c.entries, sizeof(struct ml_cqe), "cq create");
	if (err) {
		destroy_handle(dev, ML_OBJ_CQ, c.out_handle);
		free(q);
		return err;
	}
	q->pub.ring.local = ml__load_acquire(&q->pub.ring.hdr->consumer);
	q->pub.dev = dev;
	q->pub.handle = c.out_handle;
	q->pub.entries = c.entries;
	obj_add(dev, &q->link, ML_OBJ_CQ);
	*out = &q->pub;
	return 0;
}

ML_EXPORT int ml_cq_destroy(struct ml_cq *cq)
{
	struct cq_impl *q;
	struct ml_destroy d;
	int err;

	if (!cq)
		return 0;
	q = container_of(cq, struct cq_impl, pub);
	memset(&d, 0, sizeof(d));
	d.size = sizeof(d);
	d.type = ML_OBJ_CQ;
	d.handle = cq->handle;
	err = destroy_ioctl(cq->dev, &d);
	if (err == -EBUSY)
		return ml__fail(err, "cq destroy %s: CQ %" PRIu32 " is still used by "
				"a QP (destroy the QPs first)", cq->dev->name, cq->handle);
	if (err)
		return dp_fail(cq->dev, err, "cq destroy");
	obj_del(cq->dev, &q->link);
	ring_unmap(&cq->ring);
	free(q);
	return 0;
}

ML_EXPORT int ml_cq_wait(struct ml_device *dev, int timeout_ms)
{
	struct pollfd pfd;
	struct ml_obj *o;
	int ready = 0, r;

	if (!dev)
		return ml__fail(-EINVAL, "cq wait: device is NULL");

	pthread_mutex_lock(&dev->lock);
	for (o = dev->objs.next; o != &dev->objs; o = o->next) {
		if (o->type == ML_OBJ_CQ) {
			r = ml_cq_arm(&container_of(o, struct cq_impl, link)->pub);
			if (r != 0)
				ready = r;
		}
	}
	pthread_mutex_unlock(&dev->lock);
	if (ready < 0)
		return ready;
	if (ready > 0)
		return 1;

	pfd.fd = dev->fd;
	pfd.events = POLLIN;
	pfd.revents = 0;
	r = poll(&pfd, 1, timeout_ms);
	if (r < 0) {
		int err = -errno;

		if (err == -EINTR)
			return err;
		return ml__fail(err, "cq wait %s: poll: %s", dev->name, ml_strerror(err));
	}
	if (r == 0)
		return ml__fail(-ETIMEDOUT, "cq wait %s: no completion within %d ms",
				dev->name, timeout_ms);
	if (pfd.revents & (POLLERR | POLLHUP | POLLNVAL))
		return ml__fail(-ENODEV, "cq wait %s: device gone (poll revents 0x%x)",
				dev->name, (unsigned int)pfd.revents);
	return 1;
}

/* ------------------------------------------------------------------ */
/* QP                                                                   */
/* ------------------------------------------------------------------ */

static uint32_t or_default(uint32_t v, uint32_t def)
{
	return v ? v : def;
}

ML_EXPORT int ml_qp_create(struct ml_pd *pd, const struct ml_qp_init *attr,
			   struct ml_qp **out)
{
	struct ml_create_qp c;
	struct ml_limits lim;
	struct ml_device *dev;
	struct ml_cq *scq, *rcq;
	uint32_t max_sge, max_inline;
	struct qp_impl *q;
	int err;

	if (!out)
		return ml__fail(-EINVAL, "qp create: out pointer is NULL");
	*out = NULL;
	if (!pd || !attr)
		return ml__fail(-EINVAL, "qp create: %s is NULL", pd ? "attr" : "pd");
	dev = pd->dev;
	scq = attr->send_cq;
	rcq = attr->recv_cq ? attr->recv_cq : scq;
	if (!scq)
		return ml__fail(-EINVAL, "qp create: send_cq is NULL");
	if (scq->dev != dev || rcq->dev != dev)
		return ml__fail(-EINVAL, "qp create: %s belongs to another device",
				scq->dev != dev ? "send_cq" : "recv_cq");
	err = get_limits(dev, &lim);
	if (err)
		return err;

	memset(&c, 0, sizeof(c));
	c.size = sizeof(c);
	c.pd = pd->handle;
	c.send_cq = scq->handle;
	c.recv_cq = rcq->handle;
	c.sq_entries = or_default(attr->sq_entries, QP_DEFAULT_ENTRIES);
	c.rq_entries = or_default(attr->rq_entries, QP_DEFAULT_ENTRIES);
	c.max_send_sge = or_default(attr->max_send_sge, 1);
	c.max_recv_sge = or_default(attr->max_recv_sge, 1);
	c.max_inline = attr->max_inline;
	max_sge = lim.max_sge ? lim.max_sge : ML_MAX_SGE;
	max_inline = lim.max_inline ? lim.max_inline : ML_MAX_INLINE;

#define CHECK_LIMIT(field, lname, limit)					\
	do {								\
		if ((limit) && c.field > (limit))			\
			return ml__fail(-EINVAL, "qp create: " #field " %" PRIu32 \
					" exceeds " lname " %" PRIu32,	\
					c.field, (uint32_t)(limit));	\
	} while (0)
	CHECK_LIMIT(sq_entries, "max_sq_wr", lim.max_sq_wr);
	CHECK_LIMIT(rq_entries, "max_rq_wr", lim.max_rq_wr);
	CHECK_LIMIT(max_send_sge, "max_sge", max_sge);
	CHECK_LIMIT(max_recv_sge, "max_sge", max_sge);
	CHECK_LIMIT(max_inline, "max_inline", max_inline);
#undef CHECK_LIMIT

	q = calloc(1, sizeof(*q));
	if (!q)
		return ml__fail(-ENOMEM, "qp create %s: out of memory", dev->name);
	err = dp_ioctl(dev, ML_IOCTL_CREATE_QP, &c);
	if (err) {
		free(q);
		if (err == -ENOSPC || err == -EMFILE)
			return ml__fail(err, "qp create %s: too many QPs (max_qp %" PRIu32
					" per file, max_qp_dev %" PRIu32 " per device)",
					dev->name, lim.max_qp, lim.max_qp_dev);
		if (err == -ENOENT || err == -EBADF)
			return ml__fail(err, "qp create %s: the kernel does not know the "
					"PD or a CQ (destroyed?)", dev->name);
		return dp_fail(dev, err, "qp create");
	}
	err = ring_map(dev, &q->pub.sq, c.out_sq_offset, c.out_sq_size, c.sq_entries,
		       sizeof(struct ml_send_wqe), "qp create (send queue)");
	if (!err) {
		err = ring_map(dev, &q->pub.rq, c.out_rq_offset, c.out_rq_size,
			       c.rq_entries, sizeof(struct ml_recv_wqe),
			       "qp create (receive queue)");
		if (err)
			ring_unmap(&q->pub.sq);
	}
	if (err) {
		destroy_handle(dev, ML_OBJ_QP, c.out_handle);
		free(q);
		return err;
	}
	/* Start from whatever the kernel put in the indices (zero today). */
	q->pub.sq.local = ml__load_acquire(&q->pub.sq.hdr->producer);
	q->pub.sq.cached = ml__load_acquire(&q->pub.sq.hdr->consumer);
	q->pub.sq_notified = q->pub.sq.local;
	q->pub.rq.local = ml__load_acquire(&q->pub.rq.hdr->producer);
	q->pub.rq.cached = ml__load_acquire(&q->pub.rq.hdr->consumer);
	q->pub.qpn = c.out_qpn;
	q->pub.handle = c.out_handle;
	q->pub.state = ML_QPS_INIT;
	q->pub.max_send_sge = c.max_send_sge;
	q->pub.max_recv_sge = c.max_recv_sge;
	q->pub.max_inline = c.max_inline;
	q->pub.max_msg_size = lim.max_msg_size ? lim.max_msg_size : UINT32_MAX;
	q->pub.dev = dev;
	q->pub.pd = pd;
	q->pub.send_cq = scq;
	q->pub.recv_cq = rcq;
	obj_add(dev, &q->link, ML_OBJ_QP);
	*out = &q->pub;
	return 0;
}

ML_EXPORT int ml_qp_destroy(struct ml_qp *qp)
{
	struct qp_impl *q;
	struct ml_destroy d;
	int err;

	if (!qp)
		return 0;
	q = container_of(qp, struct qp_impl, pub);
	memset(&d, 0, sizeof(d));
	d.size = sizeof(d);
	d.type = ML_OBJ_QP;
	d.handle = qp->handle;
	err = destroy_ioctl(qp->dev, &d);
	if (err)
		return dp_fail(qp->dev, err, "qp destroy");
	obj_del(qp->dev, &q->link);
	ring_unmap(&qp->sq);
	ring_unmap(&qp->rq);
	free(q);
	return 0;
}

ML_EXPORT int ml_qp_connect(struct ml_qp *qp, uint32_t remote_node, uint32_t remote_qpn,
			    const struct ml_connect_opts *opts)
{
	struct ml_connect_qp c;
	int err;

	if (!qp)
		return ml__fail(-EINVAL, "qp connect: qp is NULL");
	if (remote_node < ML_NODE_ID_MIN || remote_node > ML_NODE_ID_MAX)
		return ml__fail(-EINVAL, "qp connect: remote node 0x%08" PRIx32
				" is reserved", remote_node);
	if (opts && (opts->retry_cnt > 15 || opts->rnr_retry > 15))
		return ml__fail(-EINVAL, "qp connect: %s %u exceeds 15",
				opts->retry_cnt > 15 ? "retry_cnt" : "rnr_retry",
				opts->retry_cnt > 15 ? opts->retry_cnt : opts->rnr_retry);
	if (qp->state == ML_QPS_RTS)
		return ml__fail(-EISCONN, "qp connect %s: QP %" PRIu32 " is already "
				"connected", qp->dev->name, qp->qpn);

	memset(&c, 0, sizeof(c));
	c.size = sizeof(c);
	c.qp = qp->handle;
	c.remote_node = remote_node;
	c.remote_qpn = remote_qpn;
	if (opts) {
		c.timeout_ms = opts->timeout_ms;
		c.retry_cnt = opts->retry_cnt;
		c.rnr_retry = opts->rnr_retry;
		c.rnr_timer_ms = opts->rnr_timer_ms;
	}
	err = dp_ioctl(qp->dev, ML_IOCTL_CONNECT_QP, &c);
	if (err == -EHOSTUNREACH)
		return ml__fail(err, "qp connect %s: node 0x%08" PRIx32 " (%" PRIu32
				") is not a live neighbour of any port", qp->dev->name,
				remote_node, remote_node);
	if (err == -EINVAL)
		return ml__fail(err, "qp connect %s: kernel refused QP %" PRIu32
				" -> node 0x%08" PRIx32 " qpn %" PRIu32
				" (bad QP number, QP state or option)",
				qp->dev->name, qp->qpn, remote_node, remote_qpn);
	if (err)
		return dp_fail(qp->dev, err, "qp connect");
	qp->state = ML_QPS_RTS;
	return 0;
}

ML_EXPORT int ml_qp_query(struct ml_qp *qp, struct ml_qp_attr *out)
{
	struct ml_query_qp q;
	int err;

	if (!qp || !out)
		return ml__fail(-EINVAL, "qp query: %s is NULL", qp ? "out" : "qp");
	memset(&q, 0, sizeof(q));
	q.size = sizeof(q);
	q.qp = qp->handle;
	err = dp_ioctl(qp->dev, ML_IOCTL_QUERY_QP, &q);
	if (err)
		return dp_fail(qp->dev, err, "qp query");
	memset(out, 0, sizeof(*out));
	out->state = q.state;
	out->qpn = q.qpn;
	out->remote_node = q.remote_node;
	out->remote_qpn = q.remote_qpn;
	out->snd_psn = q.snd_psn;
	out->snd_una = q.snd_una;
	out->rcv_psn = q.rcv_psn;
	out->outstanding = q.outstanding;
	out->status = q.status;
	out->retransmits = q.retransmits;
	out->timeouts = q.timeouts;
	return 0;
}

ML_EXPORT int ml_qp_notify(struct ml_qp *qp)
{
	struct ml_notify n;
	uint32_t tail;
	int err;

	if (!qp)
		return ml__fail(-EINVAL, "doorbell: qp is NULL");
	tail = qp->sq.local;
	memset(&n, 0, sizeof(n));
	n.size = sizeof(n);
	n.qp = qp->handle;
	err = dp_ioctl(qp->dev, ML_IOCTL_NOTIFY, &n);
	if (err)
		return dp_fail(qp->dev, err, "doorbell");
	qp->sq_notified = tail;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Cold paths of the inline calls                                       */
/* ------------------------------------------------------------------ */

static const char *wr_opcode_name(uint64_t op)
{
	switch (op) {
	case ML_WR_SEND:	return "SEND";
	case ML_WR_SEND_IMM:	return "SEND_IMM";
	case ML_WR_WRITE:	return "WRITE";
	case ML_WR_WRITE_IMM:	return "WRITE_IMM";
	case ML_WR_READ:	return "READ";
	}
	return "unknown";
}

ML_EXPORT int ml__post_fail(const struct ml_qp *qp, int code, uint64_t a, uint64_t b)
{
	const char *what = (code & ML__PE_REQ_RECV) ? "post recv" : "post send";
	const char *sge = (code & ML__PE_REQ_RECV) ? "max_recv_sge" : "max_send_sge";
	uint32_t qpn = qp ? qp->qpn : 0;

	switch (code & ~ML__PE_REQ_RECV) {
	case ML__PE_NULL:
		return ml__fail(-EINVAL, "%s: %s is NULL", what, qp ? "wr" : "qp");
	case ML__PE_NOTCONN:
		return ml__fail(-ENOTCONN, "%s: QP %" PRIu32 " not connected "
				"(ml_qp_connect first)", what, qpn);
	case ML__PE_QP_ERROR:
		return ml__fail(-EIO, "%s: QP %" PRIu32 " is in the error state "
				"(ml_qp_query tells why; destroy it)", what, qpn);
	case ML__PE_OPCODE:
		return ml__fail(-EINVAL, "%s: unknown opcode %" PRIu64, what, a);
	case ML__PE_FLAGS:
		return ml__fail(-EINVAL, "%s: unknown flags 0x%" PRIx64, what,
				a & ~(uint64_t)(ML_WR_F_SIGNALED | ML_WR_F_INLINE));
	case ML__PE_NUM_SGE:
		return ml__fail(-EINVAL, "%s: num_sge %" PRIu64 " exceeds the QP's "
				"%s %" PRIu64, what, a, sge, b);
	case ML__PE_SG_LIST:
		return ml__fail(-EINVAL, "%s: sg_list is NULL but num_sge is not 0", what);
	case ML__PE_INLINE_LEN:
		return ml__fail(-EINVAL, "%s: inline length %" PRIu64 " exceeds "
				"max_inline %" PRIu64, what, a, b);
	case ML__PE_INLINE_OP:
		return ml__fail(-EINVAL, "%s: ML_WR_F_INLINE is not allowed with %s",
				what, wr_opcode_name(a));
	case ML__PE_MSG_SIZE:
		return ml__fail(-EINVAL, "%s: message length %" PRIu64 " exceeds "
				"max_msg_size %" PRIu64, what, a, b);
	case ML__PE_FULL:
		return ml__fail(-ENOSPC, "%s: %s queue full (%" PRIu64 " entries "
				"outstanding; poll the CQ)", what,
				(code & ML__PE_REQ_RECV) ? "receive" : "send", a);
	}
	return ml__fail(-EINVAL, "%s: invalid work request", what);
}

ML_EXPORT int ml__cq_fail(const struct ml_cq *cq, uint32_t avail)
{
	if (avail == 0)
		return ml__fail(-EOVERFLOW, "cq poll: CQ %" PRIu32 " overflowed: the "
				"kernel dropped completions (%" PRIu32 " entries are "
				"too few for the work outstanding)", cq->handle,
				cq->ring.size);
	return ml__fail(-EIO, "cq poll: CQ %" PRIu32 " is corrupt (%" PRIu32
			" completions in a ring of %" PRIu32 ")",
			cq->handle, avail, cq->ring.size);
}

/* ------------------------------------------------------------------ */
/* Names                                                                */
/* ------------------------------------------------------------------ */

ML_EXPORT const char *ml_qp_state_name(unsigned int state)
{
	switch (state) {
	case ML_QPS_RESET:	return "reset";
	case ML_QPS_INIT:	return "init";
	case ML_QPS_RTR:	return "rtr";
	case ML_QPS_RTS:	return "rts";
	case ML_QPS_ERROR:	return "error";
	}
	return "unknown";
}

ML_EXPORT const char *ml_wc_status_str(unsigned int status)
{
	switch (status) {
	case ML_WC_SUCCESS:		return "success";
	case ML_WC_LOC_LEN_ERR:		return "local length error";
	case ML_WC_LOC_PROT_ERR:	return "local protection error";
	case ML_WC_WR_FLUSH_ERR:	return "flushed";
	case ML_WC_REM_ACCESS_ERR:	return "remote access error";
	case ML_WC_REM_INV_REQ_ERR:	return "remote invalid request";
	case ML_WC_RETRY_EXC_ERR:	return "retry count exceeded";
	case ML_WC_RNR_RETRY_EXC_ERR:	return "RNR retry count exceeded";
	case ML_WC_BAD_WR:		return "bad work request";
	case ML_WC_REM_OP_ERR:		return "remote operation error";
	case ML_WC_CQ_OVERRUN_ERR:	return "completion queue overrun";
	}
	return "unknown";
}

ML_EXPORT const char *ml_wc_opcode_name(unsigned int opcode)
{
	switch (opcode) {
	case ML_WC_SEND:	return "send";
	case ML_WC_WRITE:	return "write";
	case ML_WC_READ:	return "read";
	case ML_WC_RECV:	return "recv";
	case ML_WC_RECV_IMM:	return "recv_imm";
	}
	return "unknown";
}

/* ------------------------------------------------------------------ */

/*
 * ml_device_close(): unmap and free what the caller left.  No ioctls: the
 * kernel destroys the objects when the file is released, which happens
 * once the fd is closed and these mappings are gone.
 */
void ml__verbs_release_all(struct ml_device *dev)
{
	struct ml_obj *o, *next;

	pthread_mutex_lock(&dev->lock);
	for (o = dev->objs.next; o != &dev->objs; o = next) {
		next = o->next;
		switch (o->type) {
		case ML_OBJ_QP: {
			struct qp_impl *q = container_of(o, struct qp_impl, link);

			ring_unmap(&q->pub.sq);
			ring_unmap(&q->pub.rq);
			free(q);
			break;
		}
		case ML_OBJ_CQ: {
			struct cq_impl *q = container_of(o, struct cq_impl, link);

			ring_unmap(&q->pub.ring);
			free(q);
			break;
		}
		case ML_OBJ_MR:
			free(container_of(o, struct mr_impl, link));
			break;
		case ML_OBJ_PD:
			free(container_of(o, struct ml_pd, link));
			break;
		}
	}
	dev->objs.prev = dev->objs.next = &dev->objs;
	pthread_mutex_unlock(&dev->lock);
}
