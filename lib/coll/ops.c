// SPDX-License-Identifier: MIT
/*
 * The collectives as schedules of steps (internal.h), argument checks,
 * requests.
 *
 * Reduction order (what a reference must reproduce for floats):
 *  - ring all-reduce: element block s (count split into size blocks, the
 *    first count % size one element longer) is reduced as
 *    ((x[s] op x[s+1]) op x[s+2]) ... op x[s-1], ranks modulo size;
 *  - reduce-scatter: block s as x[s+1] op x[s+2] ... op x[s];
 *  - reduce: x[root+1] op x[root+2] ... op x[root];
 *  - recursive doubling (small all-reduce): ranks r >= P (the largest
 *    power of two <= size) first fold into r - P as x[r-P] op x[r]; then
 *    at distance 1, 2, 4 ... each pair computes (lower op upper).
 * Every rank ends with bitwise the same all-reduce result.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static int check_comm(struct ml_coll_comm *c, const char *call, struct ml_coll_req **req)
{
	if (!c)
		return mlc_fail(-EINVAL, "%s: comm is NULL", call);
	if (!req)
		return mlc_fail(-EINVAL, "%s: req is NULL", call);
	*req = NULL;
	if (atomic_load(&c->aborted) && !c->error)
		mlc_comm_break(c, -ECANCELED, "communicator aborted by ml_coll_abort() on rank %d",
			       c->rank);
	if (c->error)
		return mlc_fail(c->error, "%s: the communicator is broken: %s", call, c->errmsg);
	return 0;
}

static int check_args(const char *call, const void *a, const char *an, const void *b,
		      const char *bn, size_t count, size_t mult, unsigned int dtype,
		      int op, size_t *bytes)
{
	size_t es = ml_coll_dtype_size(dtype);

	if (!es)
		return mlc_fail(-EINVAL, "%s: unknown dtype %u (ML_COLL_INT8..ML_COLL_FLOAT64)",
				call, dtype);
	if (op >= 0 && (unsigned int)op >= ML_COLL_OP_COUNT)
		return mlc_fail(-EINVAL, "%s: unknown op %d (ML_COLL_SUM..ML_COLL_AVG)", call, op);
	if (count > SIZE_MAX / es / mult || count * es * mult > (size_t)1 << 46)
		return mlc_fail(-EOVERFLOW, "%s: count %zu of %s overflows (%zu bytes max)",
				call, count, ml_coll_dtype_name(dtype), (size_t)1 << 46);
	if (count && an && !a)
		return mlc_fail(-EINVAL, "%s: %s is NULL with count %zu", call, an, count);
	if (count && bn && !b)
		return mlc_fail(-EINVAL, "%s: %s is NULL with count %zu", call, bn, count);
	*bytes = count * es;
	return 0;
}

static struct ml_coll_req *new_req(struct ml_coll_comm *c, int kind, int nsteps,
				   unsigned int dtype, unsigned int op)
{
	struct ml_coll_req *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->steps = calloc((size_t)nsteps + 1, sizeof(struct step));
	if (!r->steps) {
		free(r);
		return NULL;
	}
	r->comm = c;
	r->kind = kind;
	r->dtype = dtype;
	r->op = op;
	r->esize = ml_coll_dtype_size(dtype);
	r->cur = -1;
	return r;
}

/* A user buffer @r may send from in place (registration cache). */
static void ureg(struct ml_coll_req *r, int i, const void *addr, size_t len)
{
	r->ureg[i].addr = addr;
	r->ureg[i].len = len;
}

static struct step *add_step(struct ml_coll_req *r)
{
	struct step *s = &r->steps[r->nsteps++];

	s->send_peer = -1;
	s->recv_peer = -1;
	return s;
}

static int submit(struct ml_coll_comm *c, struct ml_coll_req *r, struct ml_coll_req **out,
		  const char *call)
{
	int ret;

	r->queued = true;
	if (c->tail)
		c->tail->next = r;
	else
		c->head = r;
	c->tail = r;
	*out = r;
	/* Start it now if it is the oldest. */
	ret = ml_coll_test(r);
	if (ret < 0 && r->err[0])
		mlc_fail(ret, "%s: %s", call, r->err);
	return 0;
}

static int nomem(struct ml_coll_req *r, const char *call)
{
	if (r) {
		free(r->steps);
		free(r->scratch);
		free(r);
	}
	return mlc_fail(-ENOMEM, "%s: out of memory", call);
}

/* Block b of count elements split in n: offset and length in elements. */
static void block(size_t count, int n, int b, size_t *off, size_t *len)
{
	size_t base = count / (size_t)n, rem = count % (size_t)n, ub = (size_t)b;

	*off = ub * base + (ub < rem ? ub : rem);
	*len = base + (ub < rem);
}

static int mod(int a, int n)
{
	return ((a % n) + n) % n;
}

static void ring_allreduce(struct ml_coll_comm *c, struct ml_coll_req *r, char *buf, size_t count)
{
	int n = c->size, me = c->rank, right = mod(me + 1, n), left = mod(me - 1, n);
	size_t es = r->esize, so, sl, ro, rl;

	for (int k = 0; k < n - 1; k++) {
		struct step *s = add_step(r);

		block(count, n, mod(me - k, n), &so, &sl);
		block(count, n, mod(me - k - 1, n), &ro, &rl);
		s->send_peer = right;
		s->send_buf = buf + so * es;
		s->send_len = sl * es;
		s->recv_peer = left;
		s->recv_dst = buf + ro * es;
		s->recv_src = buf + ro * es;
		s->recv_len = rl * es;
		s->rop = RX_REDUCE;
		s->in_first = 1;
	}
	for (int k = 0; k < n - 1; k++) {
		struct step *s = add_step(r);

		block(count, n, mod(me + 1 - k, n), &so, &sl);
		block(count, n, mod(me - k, n), &ro, &rl);
		s->send_peer = right;
		s->send_buf = buf + so * es;
		s->send_len = sl * es;
		s->recv_peer = left;
		s->recv_dst = buf + ro * es;
		s->recv_len = rl * es;
		s->rop = RX_COPY;
	}
	c->stats.ring_ops++;
}

static void rd_allreduce(struct ml_coll_comm *c, struct ml_coll_req *r, char *buf, size_t bytes)
{
	int n = c->size, me = c->rank, p2 = 1;
	struct step *s;

	while (p2 * 2 <= n)
		p2 *= 2;
	if (me >= p2) {
		s = add_step(r);
		s->send_peer = me - p2;
		s->send_buf = buf;
		s->send_len = bytes;
		s = add_step(r);
		s->recv_peer = me - p2;
		s->recv_dst = buf;
		s->recv_len = bytes;
		s->rop = RX_COPY;
		c->stats.rd_ops++;
		return;
	}
	if (me + p2 < n) {
		s = add_step(r);
		s->recv_peer = me + p2;
		s->recv_dst = buf;
		s->recv_src = buf;
		s->recv_len = bytes;
		s->rop = RX_REDUCE;
		s->in_first = 0;
	}
	for (int mask = 1; mask < p2; mask <<= 1) {
		int partner = me ^ mask;

		s = add_step(r);
		s->send_peer = partner;
		s->send_buf = buf;
		s->send_len = bytes;
		s->recv_peer = partner;
		s->recv_dst = buf;
		s->recv_src = buf;
		s->recv_len = bytes;
		s->rop = RX_REDUCE;
		s->in_first = partner < me;
		s->send_first = 1;
	}
	if (me + p2 < n) {
		s = add_step(r);
		s->send_peer = me + p2;
		s->send_buf = buf;
		s->send_len = bytes;
	}
	c->stats.rd_ops++;
}

MLC_EXPORT int ml_coll_allreduce_start(struct ml_coll_comm *c, const void *sendbuf, void *recvbuf,
				       size_t count, unsigned int dtype, unsigned int op,
				       struct ml_coll_req **out)
{
	static const char call[] = "all-reduce";
	struct ml_coll_req *r;
	size_t bytes;
	int ret = check_comm(c, call, out);

	if (ret || (ret = check_args(call, sendbuf, "sendbuf", recvbuf, "recvbuf", count, 1,
				     dtype, (int)op, &bytes)))
		return ret;
	r = new_req(c, RK_ALLREDUCE, 4 * c->size + 8, dtype, op);
	if (!r)
		return nomem(r, call);
	r->pre_dst = recvbuf;
	r->pre_src = sendbuf;
	r->pre_len = bytes;
	r->avg_buf = recvbuf;
	r->avg_count = count;
	ureg(r, 0, recvbuf, bytes);
	if (c->size > 1 && count) {
		unsigned int algo = c->algo;

		if (algo == ML_COLL_ALGO_AUTO)
			algo = bytes <= c->small_max ? ML_COLL_ALGO_RD : ML_COLL_ALGO_RING;
		if (algo == ML_COLL_ALGO_RD || count < (size_t)c->size)
			rd_allreduce(c, r, recvbuf, bytes);
		else
			ring_allreduce(c, r, recvbuf, count);
	}
	return submit(c, r, out, call);
}

MLC_EXPORT int ml_coll_reduce_scatter_start(struct ml_coll_comm *c, const void *sendbuf,
					    void *recvbuf, size_t recvcount, unsigned int dtype,
					    unsigned int op, struct ml_coll_req **out)
{
	static const char call[] = "reduce-scatter";
	struct ml_coll_req *r;
	size_t bytes, es;
	int ret = check_comm(c, call, out), n, me;

	if (ret || (ret = check_args(call, sendbuf, "sendbuf", recvbuf, "recvbuf", recvcount,
				     (size_t)c->size, dtype, (int)op, &bytes)))
		return ret;
	n = c->size;
	me = c->rank;
	es = ml_coll_dtype_size(dtype);
	r = new_req(c, RK_RS, n + 2, dtype, op);
	if (!r || (bytes && !(r->scratch = malloc(bytes * (size_t)n))))
		return nomem(r, call);
	r->pre_dst = r->scratch;
	r->pre_src = sendbuf;
	r->pre_len = bytes * (size_t)n;
	for (int k = 0; k < n - 1 && bytes; k++) {
		struct step *s = add_step(r);
		size_t so = (size_t)mod(me - k - 1, n) * bytes, ro = (size_t)mod(me - k - 2, n) * bytes;

		s->send_peer = mod(me + 1, n);
		s->send_buf = r->scratch + so;
		s->send_len = bytes;
		s->recv_peer = mod(me - 1, n);
		s->recv_dst = r->scratch + ro;
		s->recv_src = r->scratch + ro;
		s->recv_len = bytes;
		s->rop = RX_REDUCE;
		s->in_first = 1;
	}
	(void)es;
	r->copy_dst = recvbuf;
	r->copy_src = r->scratch + (size_t)me * bytes;
	r->copy_len = bytes;
	r->avg_buf = recvbuf;
	r->avg_count = recvcount;
	return submit(c, r, out, call);
}

MLC_EXPORT int ml_coll_allgather_start(struct ml_coll_comm *c, const void *sendbuf, void *recvbuf,
				       size_t sendcount, unsigned int dtype,
				       struct ml_coll_req **out)
{
	static const char call[] = "all-gather";
	struct ml_coll_req *r;
	size_t bytes;
	int ret = check_comm(c, call, out), n, me;
	char *rb = recvbuf;

	if (ret || (ret = check_args(call, sendbuf, "sendbuf", recvbuf, "recvbuf", sendcount,
				     (size_t)c->size, dtype, -1, &bytes)))
		return ret;
	n = c->size;
	me = c->rank;
	r = new_req(c, RK_AG, n + 2, dtype, 0);
	if (!r)
		return nomem(r, call);
	r->pre_dst = rb + (size_t)me * bytes;
	r->pre_src = sendbuf;
	r->pre_len = bytes;
	ureg(r, 0, recvbuf, bytes * (size_t)n);
	for (int k = 0; k < n - 1 && bytes; k++) {
		struct step *s = add_step(r);

		s->send_peer = mod(me + 1, n);
		s->send_buf = rb + (size_t)mod(me - k, n) * bytes;
		s->send_len = bytes;
		s->recv_peer = mod(me - 1, n);
		s->recv_dst = rb + (size_t)mod(me - k - 1, n) * bytes;
		s->recv_len = bytes;
		s->rop = RX_COPY;
	}
	return submit(c, r, out, call);
}

static int check_root(const char *call, struct ml_coll_comm *c, int root, const char *what)
{
	if (root < 0 || root >= c->size)
		return mlc_fail(-EINVAL, "%s: %s %d is not a rank of this communicator (size %d)",
				call, what, root, c->size);
	return 0;
}

MLC_EXPORT int ml_coll_broadcast_start(struct ml_coll_comm *c, void *buf, size_t count,
				       unsigned int dtype, int root, struct ml_coll_req **out)
{
	static const char call[] = "broadcast";
	struct ml_coll_req *r;
	size_t bytes;
	int ret = check_comm(c, call, out), n, pos;

	if (ret || (ret = check_args(call, buf, "buf", NULL, NULL, count, 1, dtype, -1, &bytes)) ||
	    (ret = check_root(call, c, root, "root")))
		return ret;
	n = c->size;
	pos = mod(c->rank - root, n);
	r = new_req(c, RK_BCAST, 2, dtype, 0);
	if (!r)
		return nomem(r, call);
	if (pos < n - 1)		/* the last of the chain only receives */
		ureg(r, 0, buf, bytes);
	if (n > 1 && bytes) {
		struct step *s = add_step(r);

		if (pos > 0) {
			s->recv_peer = mod(c->rank - 1, n);
			s->recv_dst = buf;
			s->recv_len = bytes;
			s->rop = RX_COPY;
		}
		if (pos < n - 1) {
			s->send_peer = mod(c->rank + 1, n);
			s->send_buf = buf;
			s->send_len = bytes;
			s->fwd = pos > 0;
		}
	}
	return submit(c, r, out, call);
}

MLC_EXPORT int ml_coll_reduce_start(struct ml_coll_comm *c, const void *sendbuf, void *recvbuf,
				    size_t count, unsigned int dtype, unsigned int op, int root,
				    struct ml_coll_req **out)
{
	static const char call[] = "reduce";
	struct ml_coll_req *r;
	size_t bytes;
	int ret = check_comm(c, call, out), n, pos;

	if (ret || (ret = check_root(call, c, root, "root")) ||
	    (ret = check_args(call, sendbuf, "sendbuf", recvbuf,
			      c->rank == root ? "recvbuf (at the root)" : NULL, count, 1,
			      dtype, (int)op, &bytes)))
		return ret;
	n = c->size;
	pos = mod(c->rank - root - 1, n);	/* root+1 starts, the root ends */
	r = new_req(c, RK_REDUCE, 2, dtype, op);
	if (!r)
		return nomem(r, call);
	if (pos == 0)			/* the others send what they reduced */
		ureg(r, 0, sendbuf, bytes);
	if (c->rank == root) {
		r->pre_dst = recvbuf;
		r->pre_src = sendbuf;
		r->pre_len = n == 1 ? bytes : 0;
		r->avg_buf = recvbuf;
		r->avg_count = count;
	}
	if (n > 1 && bytes) {
		struct step *s = add_step(r);

		if (pos > 0) {
			char *dst = recvbuf;

			if (c->rank != root) {
				r->scratch = malloc(bytes);
				if (!r->scratch)
					return nomem(r, call);
				dst = r->scratch;
			}
			s->recv_peer = mod(c->rank - 1, n);
			s->recv_dst = dst;
			s->recv_src = sendbuf;
			s->recv_len = bytes;
			s->rop = RX_REDUCE;
			s->in_first = 1;
		}
		if (pos < n - 1) {
			s->send_peer = mod(c->rank + 1, n);
			s->send_buf = pos > 0 ? s->recv_dst : sendbuf;
			s->send_len = bytes;
			s->fwd = pos > 0;
		}
	}
	return submit(c, r, out, call);
}

MLC_EXPORT int ml_coll_alltoall_start(struct ml_coll_comm *c, const void *sendbuf, void *recvbuf,
				      size_t count, unsigned int dtype, struct ml_coll_req **out)
{
	static const char call[] = "all-to-all";
	struct ml_coll_req *r;
	size_t bytes;
	int ret = check_comm(c, call, out), n, me;
	const char *sb = sendbuf;
	char *rb = recvbuf;

	if (ret || (ret = check_args(call, sendbuf, "sendbuf", recvbuf, "recvbuf", count,
				     (size_t)c->size, dtype, -1, &bytes)))
		return ret;
	n = c->size;
	me = c->rank;
	r = new_req(c, RK_A2A, n + 2, dtype, 0);
	if (!r)
		return nomem(r, call);
	if (bytes && sendbuf == recvbuf) {	/* in place: send from a copy */
		r->scratch = malloc(bytes * (size_t)n);
		if (!r->scratch)
			return nomem(r, call);
		memcpy(r->scratch, sendbuf, bytes * (size_t)n);
		sb = r->scratch;
	} else {
		ureg(r, 0, sendbuf, bytes * (size_t)n);
	}
	r->pre_dst = rb + (size_t)me * bytes;
	r->pre_src = sb + (size_t)me * bytes;
	r->pre_len = bytes;
	for (int k = 1; k < n && bytes; k++) {
		struct step *s = add_step(r);
		int to = mod(me + k, n), from = mod(me - k, n);

		s->send_peer = to;
		s->send_buf = sb + (size_t)to * bytes;
		s->send_len = bytes;
		s->recv_peer = from;
		s->recv_dst = rb + (size_t)from * bytes;
		s->recv_len = bytes;
		s->rop = RX_COPY;
	}
	return submit(c, r, out, call);
}

MLC_EXPORT int ml_coll_barrier_start(struct ml_coll_comm *c, struct ml_coll_req **out)
{
	static const char call[] = "barrier";
	struct ml_coll_req *r;
	int ret = check_comm(c, call, out);

	if (ret)
		return ret;
	r = new_req(c, RK_BARRIER, 2 * c->size + 4, ML_COLL_UINT8, ML_COLL_MAX);
	if (!r || !(r->scratch = calloc(1, 8)))
		return nomem(r, call);
	if (c->size > 1)
		rd_allreduce(c, r, r->scratch, 1);
	return submit(c, r, out, call);
}

static int p2p(struct ml_coll_comm *c, void *buf, size_t count, unsigned int dtype, int peer,
	       int is_send, struct ml_coll_req **out)
{
	const char *call = is_send ? "send" : "recv";
	struct ml_coll_req *r;
	size_t bytes;
	int ret = check_comm(c, call, out);

	if (ret || (ret = check_args(call, buf, "buf", NULL, NULL, count, 1, dtype, -1, &bytes)) ||
	    (ret = check_root(call, c, peer, "peer")))
		return ret;
	if (peer == c->rank)
		return mlc_fail(-EINVAL, "%s: peer %d is this rank", call, peer);
	r = new_req(c, is_send ? RK_SEND : RK_RECV, 1, dtype, 0);
	if (!r)
		return nomem(r, call);
	if (is_send)
		ureg(r, 0, buf, bytes);
	if (bytes) {
		struct step *s = add_step(r);

		if (is_send) {
			s->send_peer = peer;
			s->send_buf = buf;
			s->send_len = bytes;
		} else {
			s->recv_peer = peer;
			s->recv_dst = buf;
			s->recv_len = bytes;
			s->rop = RX_COPY;
		}
	}
	return submit(c, r, out, call);
}

MLC_EXPORT int ml_coll_send_start(struct ml_coll_comm *c, const void *buf, size_t count,
				  unsigned int dtype, int peer, struct ml_coll_req **out)
{
	return p2p(c, (void *)buf, count, dtype, peer, 1, out);
}

MLC_EXPORT int ml_coll_recv_start(struct ml_coll_comm *c, void *buf, size_t count,
				  unsigned int dtype, int peer, struct ml_coll_req **out)
{
	return p2p(c, buf, count, dtype, peer, 0, out);
}

/* ---- requests ---- */

static void pop_done(struct ml_coll_comm *c)
{
	while (c->head && c->head->status != 0) {
		struct ml_coll_req *r = c->head;

		c->head = r->next;
		if (!c->head)
			c->tail = NULL;
		r->next = NULL;
		r->queued = false;
	}
}

static bool is_p2p(const struct ml_coll_req *r)
{
	return r->kind == RK_SEND || r->kind == RK_RECV;
}

/*
 * Point-to-point requests queued one after another progress together
 * (so that "send to A, receive from B" on every rank cannot deadlock on
 * the credit window), each in order with the others on its own channel:
 * a request waits for any earlier unfinished one to the same peer in the
 * same direction.
 */
static int progress_p2p_group(struct ml_coll_comm *c)
{
	uint64_t busy_send = 0, busy_recv = 0;

	for (struct ml_coll_req *q = c->head; q && is_p2p(q); q = q->next) {
		int peer = q->nsteps ? (q->kind == RK_SEND ? q->steps[0].send_peer :
					 q->steps[0].recv_peer) : -1;
		uint64_t bit = peer >= 0 ? 1ull << peer : 0;
		uint64_t *busy = q->kind == RK_SEND ? &busy_send : &busy_recv;

		if (q->status)
			continue;
		if (!(*busy & bit)) {
			int r = mlc_req_progress(q);

			if (r < 0)
				return r;
			if (r == 1)
				continue;
		}
		*busy |= bit;
	}
	return 0;
}

static void fail_all(struct ml_coll_comm *c)
{
	for (struct ml_coll_req *q = c->head; q; q = q->next) {
		if (q->status)
			continue;
		q->status = c->error;
		snprintf(q->err, sizeof(q->err), "%s", c->errmsg);
		mlc_reg_put(q);
	}
}

MLC_EXPORT int ml_coll_test(struct ml_coll_req *req)
{
	struct ml_coll_comm *c;

	if (!req)
		return mlc_fail(-EINVAL, "test: req is NULL");
	if (req->status)
		goto out;
	c = req->comm;
	while (c->head) {
		struct ml_coll_req *h = c->head;
		int r;

		if (atomic_load(&c->aborted) && !c->error)
			mlc_comm_break(c, -ECANCELED, "communicator aborted by ml_coll_abort() "
				       "on rank %d", c->rank);
		if (c->error)
			r = c->error;
		else if (is_p2p(h))
			r = progress_p2p_group(c) ?: h->status;
		else
			r = mlc_req_progress(h);
		if (r < 0) {
			/* Everything queued fails with the communicator. */
			fail_all(c);
			pop_done(c);
			break;
		}
		if (r == 0)
			break;
		pop_done(c);
		if (req->status)
			break;
	}
out:
	if (req->status < 0)
		return mlc_fail(req->status, "%s", req->err);
	return req->status;
}

static void req_release(struct ml_coll_req *r)
{
	struct ml_coll_comm *c = r->comm;

	/* done out of order (point to point): still linked behind the head */
	if (r->queued) {
		struct ml_coll_req **pp = &c->head, *prev = NULL;

		while (*pp && *pp != r) {
			prev = *pp;
			pp = &(*pp)->next;
		}
		if (*pp) {
			*pp = r->next;
			if (c->tail == r)
				c->tail = prev;
		}
	}
	mlc_reg_put(r);
	free(r->steps);
	free(r->scratch);
	free(r);
}

MLC_EXPORT int ml_coll_wait(struct ml_coll_req *req)
{
	int r;

	if (!req)
		return mlc_fail(-EINVAL, "wait: req is NULL");
	while ((r = ml_coll_test(req)) == 0) {
		struct ml_coll_comm *c = req->comm;

		if (c->head && mlc_wait_event(c, c->head) < 0)
			continue;	/* the next test fails the requests */
	}
	r = req->status < 0 ? req->status : 0;
	if (r)
		mlc_fail(r, "%s", req->err);
	req_release(req);
	return r;
}

MLC_EXPORT int ml_coll_req_free(struct ml_coll_req *req)
{
	if (!req)
		return 0;
	if (req->status == 0)
		return mlc_fail(-EBUSY, "req free: the request is still in progress "
				"(ml_coll_wait() it)");
	req_release(req);
	return 0;
}

#define BLOCKING(name, params, args)					\
	MLC_EXPORT int ml_coll_##name params				\
	{								\
		struct ml_coll_req *req;				\
		int r = ml_coll_##name##_start args;			\
									\
		return r ? r : ml_coll_wait(req);			\
	}

BLOCKING(allreduce, (struct ml_coll_comm *c, const void *s, void *d, size_t n, unsigned int t,
		     unsigned int op), (c, s, d, n, t, op, &req))
BLOCKING(reduce_scatter, (struct ml_coll_comm *c, const void *s, void *d, size_t n,
			  unsigned int t, unsigned int op), (c, s, d, n, t, op, &req))
BLOCKING(allgather, (struct ml_coll_comm *c, const void *s, void *d, size_t n, unsigned int t),
	 (c, s, d, n, t, &req))
BLOCKING(broadcast, (struct ml_coll_comm *c, void *b, size_t n, unsigned int t, int root),
	 (c, b, n, t, root, &req))
BLOCKING(reduce, (struct ml_coll_comm *c, const void *s, void *d, size_t n, unsigned int t,
		  unsigned int op, int root), (c, s, d, n, t, op, root, &req))
BLOCKING(alltoall, (struct ml_coll_comm *c, const void *s, void *d, size_t n, unsigned int t),
	 (c, s, d, n, t, &req))
BLOCKING(barrier, (struct ml_coll_comm *c), (c, &req))
BLOCKING(send, (struct ml_coll_comm *c, const void *b, size_t n, unsigned int t, int peer),
	 (c, b, n, t, peer, &req))
BLOCKING(recv, (struct ml_coll_comm *c, void *b, size_t n, unsigned int t, int peer),
	 (c, b, n, t, peer, &req))
