// SPDX-License-Identifier: MIT
/*
 * The progress engine: completions, credits, the chunk pipeline of the
 * current step of the oldest request, liveness probes, failure.
 * See internal.h for the wire protocol.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

static char *send_slot(struct ml_coll_comm *c, int peer, uint64_t n)
{
	return c->sendbuf + ((size_t)peer * c->slots + n % c->slots) * c->chunk;
}

static char *recv_slot(struct ml_coll_comm *c, int peer, uint64_t n)
{
	return c->stage + ((size_t)peer * c->slots + n % c->slots) * c->chunk;
}

/* Write @len bytes at @src (in one of our MRs, @lkey) to the peer's @raddr. */
static int post_write(struct ml_coll_comm *c, int peer, unsigned int type, const void *src,
		      uint32_t len, uint32_t lkey, uint64_t raddr, uint32_t rkey,
		      int with_imm, uint32_t imm)
{
	struct peer *p = &c->peers[peer];
	struct ml_sge sge = { (uintptr_t)src, len, lkey };
	struct ml_send_wr wr = {
		.wr_id = WR_ID(type, peer),
		.opcode = with_imm ? ML_WR_WRITE_IMM : ML_WR_WRITE,
		.flags = ML_WR_F_SIGNALED | (len <= ML_MAX_INLINE ? ML_WR_F_INLINE : 0),
		.sg_list = &sge, .num_sge = 1, .imm = imm,
		.remote_addr = raddr, .rkey = rkey,
	};
	int r = ml_post_send_nodb(p->qp, &wr);

	if (r)
		return mlc_comm_break(c, r, "posting a write to rank %d (node 0x%x): %s",
				      peer, p->node_id, ml_last_error());
	p->sq_used++;
	return 0;
}

static int doorbell(struct ml_coll_comm *c, int peer)
{
	int r = ml_qp_doorbell(c->peers[peer].qp);

	if (r)
		return mlc_comm_break(c, r, "doorbell of the QP to rank %d (node 0x%x): %s",
				      peer, c->peers[peer].node_id, ml_last_error());
	return 0;
}

void mlc_send_abort(struct ml_coll_comm *c)
{
	if (!c->ctrl)
		return;
	memcpy(c->ctrl->abort_out, c->errmsg, MSG_LEN);
	c->ctrl->abort_out[MSG_LEN - 1] = 0;
	for (int i = 0; i < c->size; i++) {
		struct peer *p = &c->peers[i];

		if (i == c->rank || !p->qp || p->sq_used >= SQ_DEPTH - 1)
			continue;
		struct ml_sge sge = { (uintptr_t)c->ctrl->abort_out, MSG_LEN, c->ctrl_mr->lkey };
		struct ml_send_wr wr = {
			.wr_id = WR_ID(WR_ABORT, i), .opcode = ML_WR_WRITE_IMM,
			.flags = ML_WR_F_SIGNALED, .sg_list = &sge, .num_sge = 1,
			.imm = (IMM_ABORT << IMM_TYPE_SHIFT) | (uint32_t)c->rank,
			.remote_addr = p->ctrl_addr + offsetof(struct ctrl_area, abort_in) +
				       (uint64_t)c->rank * MSG_LEN,
			.rkey = p->ctrl_rkey,
		};
		if (ml_post_send(p->qp, &wr) == 0)
			p->sq_used++;
	}
}

/* Break the communicator: sticky error, peers told. */
int mlc_comm_break(struct ml_coll_comm *c, int err, const char *fmt, ...)
{
	va_list ap;

	if (c->error)
		return c->error;
	va_start(ap, fmt);
	vsnprintf(c->errmsg, sizeof(c->errmsg), fmt, ap);
	va_end(ap);
	c->error = err;
	mlc_send_abort(c);
	return err;
}

static int post_credit(struct ml_coll_comm *c, int peer)
{
	struct peer *p = &c->peers[peer];

	if (p->credit_busy || p->credit_pending == c->ctrl->credit_out[peer] + 0 ||
	    p->sq_used >= SQ_DEPTH)
		return 0;
	c->ctrl->credit_out[peer] = p->credit_pending;
	p->credit_busy = true;
	return post_write(c, peer, WR_CREDIT, &c->ctrl->credit_out[peer], 8, c->ctrl_mr->lkey,
			  p->ctrl_addr + offsetof(struct ctrl_area, credit_in) +
			  (uint64_t)c->rank * 8, p->ctrl_rkey, 1,
			  (IMM_CREDIT << IMM_TYPE_SHIFT) |
			  (uint32_t)(p->credit_pending & IMM_VAL_MASK)) ?: doorbell(c, peer);
}

static void repost_recv(struct ml_coll_comm *c, int peer)
{
	struct ml_recv_wr wr = { .wr_id = WR_ID(WR_RECV, peer), .num_sge = 0 };

	if (ml_post_recv(c->peers[peer].qp, &wr))
		mlc_comm_break(c, -EIO, "reposting a receive for rank %d: %s", peer,
			       ml_last_error());
}

static int peer_of_qpn(struct ml_coll_comm *c, uint32_t qpn)
{
	for (int i = 0; i < c->size; i++)
		if (i != c->rank && c->peers[i].qpn == qpn)
			return i;
	return -1;
}

/* Drain the CQ.  Returns the number of completions handled, or an error. */
int mlc_poll(struct ml_coll_comm *c)
{
	struct ml_cqe wc[32];
	int n, total = 0;

	if (!c->cq)
		return 0;
	while ((n = ml_cq_poll(c->cq, wc, 32)) > 0) {
		for (int i = 0; i < n; i++) {
			unsigned int type = (unsigned int)(wc[i].wr_id & 0xff);
			int peer = (int)(wc[i].wr_id >> 8);
			struct peer *p;

			if (peer < 0 || peer >= c->size || peer == c->rank)
				peer = peer_of_qpn(c, wc[i].qpn);
			if (peer < 0)
				continue;
			p = &c->peers[peer];
			if (wc[i].status != ML_WC_SUCCESS) {
				mlc_comm_break(c, wc[i].status == ML_WC_RETRY_EXC_ERR ?
					       -EHOSTDOWN : -EIO,
					       "rank %d (node 0x%x) failed: %s on its QP (%s)%s",
					       peer, p->node_id, ml_wc_status_str(wc[i].status),
					       ml_wc_opcode_name(wc[i].opcode),
					       wc[i].status == ML_WC_RETRY_EXC_ERR ?
					       ": the peer is gone or unreachable" : "");
				continue;
			}
			total++;
			if (wc[i].opcode == ML_WC_RECV_IMM || wc[i].opcode == ML_WC_RECV) {
				uint32_t imm = wc[i].imm, v = imm & IMM_VAL_MASK;

				repost_recv(c, peer);
				switch (imm >> IMM_TYPE_SHIFT) {
				case IMM_DATA:
					if (v != (uint32_t)(p->rx_arrived & IMM_VAL_MASK))
						mlc_comm_break(c, -EPROTO, "rank %d sent chunk %u, "
							       "chunk %u expected", peer, v,
							       (uint32_t)(p->rx_arrived & IMM_VAL_MASK));
					p->rx_len[p->rx_arrived % c->slots] = wc[i].byte_len;
					p->rx_arrived++;
					break;
				case IMM_CREDIT:
					p->tx_credit += (v - (uint32_t)p->tx_credit) & IMM_VAL_MASK;
					break;
				case IMM_ABORT:
					c->ctrl->abort_in[peer][MSG_LEN - 1] = 0;
					mlc_comm_break(c, -ECONNABORTED, "rank %d (node 0x%x) aborted: %s",
						       peer, p->node_id, c->ctrl->abort_in[peer]);
					break;
				}
				continue;
			}
			if (p->sq_used)
				p->sq_used--;
			switch (type) {
			case WR_DATA_ZC:
				/* completions of a QP come in order: this is chunk tx_done */
				p->zc_len[p->tx_done % c->slots] = 0;
				if (c->zc_inflight)
					c->zc_inflight--;
				p->tx_done++;
				break;
			case WR_DATA: p->tx_done++; break;
			case WR_CREDIT: p->credit_busy = false; break;
			case WR_PROBE: p->probe_busy = false; break;
			}
		}
		total += 0;
	}
	if (n < 0)
		return mlc_comm_break(c, n, "completion queue: %s", ml_last_error());
	for (int i = 0; i < c->size && !c->error; i++)
		if (i != c->rank)
			post_credit(c, i);
	return c->error ? c->error : total;
}

/* Does [a, a + alen) overlap [b, b + blen)? */
static bool overlaps(const char *a, size_t alen, const char *b, size_t blen)
{
	return alen && blen && a < b + blen && b < a + alen;
}

/* Does a zero-copy WRITE in flight still read a byte of [dst, dst + len)? */
static bool zc_reads(struct ml_coll_comm *c, const char *dst, size_t len)
{
	if (!c->zc_inflight)
		return false;
	for (int i = 0; i < c->size; i++) {
		struct peer *p = &c->peers[i];

		for (uint64_t n = p->tx_done; n < p->tx_posted; n++)
			if (overlaps(p->zc_src[n % c->slots], p->zc_len[n % c->slots], dst, len))
				return true;
	}
	return false;
}

static void do_send(struct ml_coll_comm *c, struct ml_coll_req *req, struct step *st,
		    int *moved)
{
	struct peer *p = &c->peers[st->send_peer];
	/* zero copy: the step's source is a cached user registration and the
	 * step does not receive into it (recursive doubling does) */
	bool zc = c->reg_max_bytes && (req->ureg[0].e || req->ureg[1].e) &&
		  !(st->recv_peer >= 0 && overlaps(st->send_buf, st->send_len,
						   st->recv_dst, st->recv_len));
	int posted = 0;

	while (st->sent < st->send_len && !c->error) {
		uint64_t n = p->tx_posted;
		size_t len = st->send_len - st->sent;

		if (len > c->chunk)
			len = c->chunk;
		if (n - p->tx_credit >= c->slots || n - p->tx_done >= c->slots ||
		    p->sq_used >= SQ_DEPTH - 2)
			break;
		if (st->fwd && st->recvd < st->recv_len && st->recvd < st->sent + len)
			break;
		const char *src = st->send_buf + st->sent;
		const struct ml_mr *mr = zc ? mlc_reg_find(req, src, len) : NULL;
		uint64_t raddr = p->stage_addr +
				 ((uint64_t)c->rank * c->slots + n % c->slots) * c->chunk;
		uint32_t imm = (IMM_DATA << IMM_TYPE_SHIFT) | (uint32_t)(n & IMM_VAL_MASK);

		if (mr) {
			if (post_write(c, st->send_peer, WR_DATA_ZC, src, (uint32_t)len,
				       mr->lkey, raddr, p->stage_rkey, 1, imm))
				return;
			p->zc_src[n % c->slots] = src;
			p->zc_len[n % c->slots] = (uint32_t)len;
			c->zc_inflight++;
			c->stats.zc_chunks++;
		} else {
			memcpy(send_slot(c, st->send_peer, n), src, len);
			if (post_write(c, st->send_peer, WR_DATA, send_slot(c, st->send_peer, n),
				       (uint32_t)len, c->send_mr->lkey, raddr, p->stage_rkey, 1,
				       imm))
				return;
		}
		p->tx_posted++;
		st->sent += len;
		c->stats.bytes_sent += len;
		c->stats.chunks_sent++;
		posted = 1;
	}
	if (posted) {
		doorbell(c, st->send_peer);
		*moved = 1;
	}
}

static void do_recv(struct ml_coll_comm *c, struct ml_coll_req *req, struct step *st, int *moved)
{
	struct peer *p = &c->peers[st->recv_peer];

	while (st->recvd < st->recv_len && p->rx_arrived > p->rx_consumed && !c->error) {
		size_t len = st->recv_len - st->recvd;
		uint32_t got = p->rx_len[p->rx_consumed % c->slots];
		const char *src = recv_slot(c, st->recv_peer, p->rx_consumed);

		if (len > c->chunk)
			len = c->chunk;
		if (got != len) {
			mlc_comm_break(c, -EBADMSG, "rank %d (node 0x%x) sent a %u-byte chunk "
				       "where this rank expected %zu bytes: the ranks called "
				       "different operations, counts or dtypes", st->recv_peer,
				       p->node_id, got, len);
			return;
		}
		if (st->send_first && st->sent < st->send_len && st->sent < st->recvd + len)
			break;
		if (zc_reads(c, st->recv_dst + st->recvd, len))
			break;		/* lands on bytes a WRITE still sends: after it */
		if (st->rop == RX_COPY)
			memcpy(st->recv_dst + st->recvd, src, len);
		else if (st->in_first)
			mlc_reduce(st->recv_dst + st->recvd, src, st->recv_src + st->recvd,
				   len / req->esize, req->dtype, req->op);
		else
			mlc_reduce(st->recv_dst + st->recvd, st->recv_src + st->recvd, src,
				   len / req->esize, req->dtype, req->op);
		p->rx_consumed++;
		p->credit_pending = p->rx_consumed;
		st->recvd += len;
		*moved = 1;
	}
	if (*moved)
		post_credit(c, st->recv_peer);
}

static void finish(struct ml_coll_req *req)
{
	if (req->copy_len)
		memmove(req->copy_dst, req->copy_src, req->copy_len);
	if (req->avg_buf && req->op == ML_COLL_AVG)
		mlc_divide(req->avg_buf, req->avg_count, req->dtype, req->comm->size);
	req->status = 1;
	req->comm->stats.ops++;
	mlc_reg_put(req);
}

/* Advance @req (the oldest of its communicator) as far as it goes now. */
int mlc_req_progress(struct ml_coll_req *req)
{
	struct ml_coll_comm *c = req->comm;
	int moved;

	if (req->cur < 0) {
		if (req->pre_len && req->pre_dst != req->pre_src)
			memmove(req->pre_dst, req->pre_src, req->pre_len);
		req->cur = 0;
		req->last_progress_ns = mlc_now_ns();
		mlc_reg_acquire(req);
	}
	do {
		moved = 0;
		while (req->cur < req->nsteps && !c->error) {
			struct step *st = &req->steps[req->cur];

			if (st->send_peer >= 0)
				do_send(c, req, st, &moved);
			if (st->recv_peer >= 0)
				do_recv(c, req, st, &moved);
			if (st->send_peer >= 0 && st->fwd && st->sent < st->send_len)
				do_send(c, req, st, &moved);
			if (st->sent < st->send_len || st->recvd < st->recv_len)
				break;
			req->cur++;
			moved = 1;
		}
		if (!c->error && req->cur < req->nsteps && mlc_poll(c) > 0)
			moved = 1;
		if (moved)
			req->last_progress_ns = mlc_now_ns();
	} while (moved && req->cur < req->nsteps && !c->error);
	if (c->error)
		return c->error;
	/* no zero-copy WRITE may still read the caller's memory when it is done */
	if (req->cur == req->nsteps && req->status == 0 && c->zc_inflight && mlc_poll(c) > 0)
		req->last_progress_ns = mlc_now_ns();
	if (c->error)
		return c->error;
	if (req->cur == req->nsteps && req->status == 0 && !c->zc_inflight)
		finish(req);
	return req->status;
}

static void probe_all(struct ml_coll_comm *c)
{
	for (int i = 0; i < c->size && !c->error; i++) {
		struct peer *p = &c->peers[i];

		if (i == c->rank || p->probe_busy || p->sq_used >= SQ_DEPTH - 1)
			continue;
		if (post_write(c, i, WR_PROBE, &c->ctrl->probe_out, 8, c->ctrl_mr->lkey,
			       p->ctrl_addr + offsetof(struct ctrl_area, probe_in) +
			       (uint64_t)c->rank * 8, p->ctrl_rkey, 0, 0) == 0) {
			p->probe_busy = true;
			c->stats.probes++;
			doorbell(c, i);
		}
	}
}

/* Who @req waits for: the rank to name in a timeout. */
static int waited_peer(struct ml_coll_req *req)
{
	struct step *st = req->cur >= 0 && req->cur < req->nsteps ? &req->steps[req->cur] : NULL;

	if (!st)
		return -1;
	if (st->recv_peer >= 0 && st->recvd < st->recv_len)
		return st->recv_peer;
	return st->send_peer;
}

/* Sleep until a completion, the next probe or the deadline of @req. */
int mlc_wait_event(struct ml_coll_comm *c, struct ml_coll_req *req)
{
	uint64_t now = mlc_now_ns(), probe_ns = (uint64_t)c->probe_ms * 1000000;
	uint64_t idle = now - req->last_progress_ns;
	int r, slice = 20;

	if (atomic_load(&c->aborted))
		return mlc_comm_break(c, -ECANCELED, "communicator aborted by ml_coll_abort() "
				      "on rank %d", c->rank);
	if (idle > (uint64_t)c->timeout_ms * 1000000) {
		int p = waited_peer(req);

		return mlc_comm_break(c, -ETIMEDOUT, "timeout: no progress for %u ms waiting "
				      "for rank %d (node 0x%x) (ML_COLL_TIMEOUT_MS)",
				      c->timeout_ms, p, p >= 0 ? c->peers[p].node_id : 0);
	}
	if (idle > probe_ns && now - c->last_probe_ns > probe_ns) {
		c->last_probe_ns = now;
		probe_all(c);
	}
	if (c->error)
		return c->error;
	r = ml_cq_wait(c->dev, slice);
	if (r < 0 && r != -ETIMEDOUT && r != -EINTR)
		return mlc_comm_break(c, r, "waiting for completions: %s", ml_last_error());
	return 0;
}
