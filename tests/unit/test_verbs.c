// SPDX-License-Identifier: MIT
/*
 * Host unit tests of the data-plane inline calls of <megalink/megalink.h>
 * (posting and polling), on fake rings in plain memory: no kernel module.
 * A "kernel" here is the test itself, or a thread that plays the kernel's
 * side of a ring with the same acquire/release protocol.
 */
#define _GNU_SOURCE
#include <check.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include <megalink/megalink.h>
#include "../../lib/internal.h"

_Static_assert(sizeof(struct ml_ring_hdr) == 192, "ring header is 192 bytes");
_Static_assert(sizeof(struct ml_send_wqe) == 128, "send WQE is 128 bytes");
_Static_assert(sizeof(struct ml_recv_wqe) == 80, "recv WQE is 80 bytes");
_Static_assert(sizeof(struct ml_cqe) == 32, "CQE is 32 bytes");

/* ---- fake rings ---- */

static void ring_init(struct ml_ring *r, uint32_t entries, uint32_t entry_size,
		      uint32_t start)
{
	size_t size = ML_RING_ENTRIES_OFFSET + (size_t)entries * entry_size;
	void *p = NULL;

	ck_assert_int_eq(posix_memalign(&p, 4096, size), 0);
	memset(p, 0, size);
	r->hdr = p;
	r->hdr->mask = entries - 1;
	r->hdr->entry_size = entry_size;
	r->hdr->producer = start;
	r->hdr->consumer = start;
	r->entries = (char *)p + ML_RING_ENTRIES_OFFSET;
	r->mask = entries - 1;
	r->size = entries;
	r->local = start;
	r->cached = start;
	r->map_size = size;
}

static struct ml_device fake_dev = { .fd = -1, .name = "mlfake" };

/* A connected QP of sq/rq entries whose indices start at @start. */
static void qp_init(struct ml_qp *qp, uint32_t sq, uint32_t rq, uint32_t start)
{
	memset(qp, 0, sizeof(*qp));
	ring_init(&qp->sq, sq, sizeof(struct ml_send_wqe), start);
	ring_init(&qp->rq, rq, sizeof(struct ml_recv_wqe), start);
	qp->sq_notified = start;
	qp->qpn = 7;
	qp->handle = 1;
	qp->state = ML_QPS_RTS;
	qp->max_send_sge = ML_MAX_SGE;
	qp->max_recv_sge = 2;
	qp->max_inline = ML_MAX_INLINE;
	qp->max_msg_size = 1ULL << 30;
	qp->dev = &fake_dev;
}

static void qp_fini(struct ml_qp *qp)
{
	free(qp->sq.hdr);
	free(qp->rq.hdr);
}

static void cq_init(struct ml_cq *cq, uint32_t entries, uint32_t start)
{
	memset(cq, 0, sizeof(*cq));
	ring_init(&cq->ring, entries, sizeof(struct ml_cqe), start);
	cq->entries = entries;
	cq->handle = 3;
	cq->dev = &fake_dev;
}

/* The kernel's side: consume n SQ entries. */
static void kernel_consume_sq(struct ml_qp *qp, uint32_t n)
{
	__atomic_store_n(&qp->sq.hdr->consumer, qp->sq.hdr->consumer + n,
			 __ATOMIC_RELEASE);
}

/* The kernel's side: produce one CQE. */
static void kernel_cqe(struct ml_cq *cq, uint64_t wr_id, uint8_t status)
{
	uint32_t p = cq->ring.hdr->producer;
	struct ml_cqe *e = (struct ml_cqe *)cq->ring.entries + (p & cq->ring.mask);

	memset(e, 0, sizeof(*e));
	e->wr_id = wr_id;
	e->status = status;
	e->opcode = ML_WC_SEND;
	e->byte_len = (uint32_t)wr_id;
	__atomic_store_n(&cq->ring.hdr->producer, p + 1, __ATOMIC_RELEASE);
}

static char buf[4096];

static struct ml_send_wr send_wr(uint64_t id, struct ml_sge *sge, uint32_t n)
{
	struct ml_send_wr wr = {
		.wr_id = id, .opcode = ML_WR_SEND, .flags = ML_WR_F_SIGNALED,
		.sg_list = sge, .num_sge = n,
	};
	return wr;
}

/* ---- send queue ---- */

START_TEST(test_sq_fill_and_full)
{
	struct ml_sge sge = { (uintptr_t)buf, 16, 0x1234 };
	struct ml_qp qp;
	uint32_t i;

	qp_init(&qp, 8, 8, 0);
	ck_assert_uint_eq(ml_sq_space(&qp), 8);
	for (i = 0; i < 8; i++) {
		struct ml_send_wr wr = send_wr(i, &sge, 1);

		ck_assert_int_eq(ml_post_send_nodb(&qp, &wr), 0);
		ck_assert_uint_eq(qp.sq.hdr->producer, i + 1);
	}
	ck_assert_uint_eq(ml_sq_space(&qp), 0);
	{
		struct ml_send_wr wr = send_wr(99, &sge, 1);

		ck_assert_int_eq(ml_post_send_nodb(&qp, &wr), -ENOSPC);
		ck_assert_ptr_nonnull(strstr(ml_last_error(), "send queue full"));
		ck_assert_uint_eq(qp.sq.hdr->producer, 8);	/* nothing written */
		kernel_consume_sq(&qp, 1);
		ck_assert_int_eq(ml_post_send_nodb(&qp, &wr), 0);
		ck_assert_uint_eq(qp.sq.hdr->producer, 9);
		/* slot 0 was reused */
		ck_assert_uint_eq(((struct ml_send_wqe *)qp.sq.entries)[0].wr_id, 99);
		ck_assert_int_eq(ml_post_send_nodb(&qp, &wr), -ENOSPC);
	}
	qp_fini(&qp);
}
END_TEST

START_TEST(test_sq_wrap_2_32)
{
	struct ml_sge sge = { (uintptr_t)buf, 1, 1 };
	const uint32_t start = 0xfffffffdU;
	struct ml_qp qp;
	uint32_t i;

	qp_init(&qp, 4, 4, start);
	for (i = 0; i < 4; i++) {
		struct ml_send_wr wr = send_wr(100 + i, &sge, 1);

		ck_assert_int_eq(ml_post_send_nodb(&qp, &wr), 0);
	}
	/* producer wrapped past 2^32: 0xfffffffd + 4 = 1 */
	ck_assert_uint_eq(qp.sq.hdr->producer, 1);
	ck_assert_uint_eq(ml_sq_space(&qp), 0);
	{
		struct ml_send_wr wr = send_wr(0, &sge, 1);

		ck_assert_int_eq(ml_post_send_nodb(&qp, &wr), -ENOSPC);
	}
	/* slots: index & mask */
	for (i = 0; i < 4; i++) {
		uint32_t idx = start + i;

		ck_assert_uint_eq(((struct ml_send_wqe *)qp.sq.entries)[idx & 3].wr_id,
				  100 + i);
	}
	kernel_consume_sq(&qp, 3);	/* consumer 0x0 (wrapped too) */
	ck_assert_uint_eq(qp.sq.hdr->consumer, 0);
	ck_assert_uint_eq(ml_sq_space(&qp), 3);
	for (i = 0; i < 3; i++) {
		struct ml_send_wr wr = send_wr(200 + i, &sge, 1);

		ck_assert_int_eq(ml_post_send_nodb(&qp, &wr), 0);
	}
	ck_assert_uint_eq(qp.sq.hdr->producer, 4);
	ck_assert_uint_eq(ml_sq_space(&qp), 0);
	qp_fini(&qp);
}
END_TEST

START_TEST(test_sq_wqe_contents)
{
	struct ml_sge sge[3] = {
		{ (uintptr_t)buf, 10, 0x11 },
		{ (uintptr_t)buf + 100, 20, 0x22 },
		{ (uintptr_t)buf + 200, 30, 0x33 },
	};
	struct ml_send_wqe *w;
	struct ml_send_wr wr;
	struct ml_qp qp;
	unsigned int i;

	qp_init(&qp, 4, 4, 0);
	/* stale garbage in the slot must not survive */
	memset(qp.sq.entries, 0xa5, 4 * sizeof(struct ml_send_wqe));

	wr = (struct ml_send_wr){
		.wr_id = 0xdeadbeefcafeULL, .opcode = ML_WR_WRITE_IMM,
		.flags = ML_WR_F_SIGNALED, .sg_list = sge, .num_sge = 3,
		.imm = 0x01020304, .remote_addr = 0x7f0000001000ULL, .rkey = 0x99,
	};
	ck_assert_int_eq(ml_post_send_nodb(&qp, &wr), 0);
	w = (struct ml_send_wqe *)qp.sq.entries;
	ck_assert_uint_eq(w->wr_id, 0xdeadbeefcafeULL);
	ck_assert_uint_eq(w->opcode, ML_WR_WRITE_IMM);
	ck_assert_uint_eq(w->num_sge, 3);
	ck_assert_uint_eq(w->flags, ML_WR_F_SIGNALED);
	ck_assert_uint_eq(w->imm, 0x01020304);
	ck_assert_uint_eq(w->remote_addr, 0x7f0000001000ULL);
	ck_assert_uint_eq(w->rkey, 0x99);
	ck_assert_uint_eq(w->inline_len, 0);
	for (i = 0; i < 3; i++) {
		ck_assert_uint_eq(w->sge[i].addr, sge[i].addr);
		ck_assert_uint_eq(w->sge[i].length, sge[i].length);
		ck_assert_uint_eq(w->sge[i].lkey, sge[i].lkey);
	}
	ck_assert_uint_eq(w->sge[3].addr, 0);
	for (i = 0; i < sizeof(w->reserved); i++)
		ck_assert_uint_eq(w->reserved[i], 0);

	/* SEND: imm, remote_addr and rkey are not copied */
	wr.opcode = ML_WR_SEND;
	wr.num_sge = 1;
	ck_assert_int_eq(ml_post_send_nodb(&qp, &wr), 0);
	w = (struct ml_send_wqe *)qp.sq.entries + 1;
	ck_assert_uint_eq(w->opcode, ML_WR_SEND);
	ck_assert_uint_eq(w->imm, 0);
	ck_assert_uint_eq(w->remote_addr, 0);
	ck_assert_uint_eq(w->rkey, 0);
	ck_assert_uint_eq(w->sge[1].addr, 0);

	/* zero-length SEND with no SGE */
	wr.num_sge = 0;
	wr.sg_list = NULL;
	ck_assert_int_eq(ml_post_send_nodb(&qp, &wr), 0);
	ck_assert_uint_eq(((struct ml_send_wqe *)qp.sq.entries)[2].num_sge, 0);
	qp_fini(&qp);
}
END_TEST

START_TEST(test_sq_inline)
{
	char a[40], b[24];
	struct ml_sge sge[2] = {
		{ (uintptr_t)a, sizeof(a), 0 },
		{ (uintptr_t)b, sizeof(b), 0 },
	};
	struct ml_send_wr wr = send_wr(5, sge, 2);
	struct ml_send_wqe *w;
	struct ml_qp qp;

	memset(a, 'a', sizeof(a));
	memset(b, 'b', sizeof(b));
	qp_init(&qp, 4, 4, 0);
	wr.flags |= ML_WR_F_INLINE;
	ck_assert_int_eq(ml_post_send_nodb(&qp, &wr), 0);
	memset(a, 'x', sizeof(a));	/* the caller may reuse it at once */
	w = (struct ml_send_wqe *)qp.sq.entries;
	ck_assert_uint_eq(w->flags, ML_WR_F_SIGNALED | ML_WR_F_INLINE);
	ck_assert_uint_eq(w->inline_len, 64);
	ck_assert_uint_eq(w->num_sge, 0);
	ck_assert_int_eq(w->inline_data[0], 'a');
	ck_assert_int_eq(w->inline_data[39], 'a');
	ck_assert_int_eq(w->inline_data[40], 'b');
	ck_assert_int_eq(w->inline_data[63], 'b');

	/* one byte more than max_inline */
	{
		char big[100];
		struct ml_sge s = { (uintptr_t)big, sizeof(big), 0 };
		struct ml_send_wr w2 = send_wr(6, &s, 1);

		w2.flags |= ML_WR_F_INLINE;
		ck_assert_int_eq(ml_post_send_nodb(&qp, &w2), -EINVAL);
		ck_assert_str_eq(ml_last_error(),
				 "post send: inline length 100 exceeds max_inline 64");
		s.length = 65;
		ck_assert_int_eq(ml_post_send_nodb(&qp, &w2), -EINVAL);
		/* the QP's own limit, not ML_MAX_INLINE */
		qp.max_inline = 16;
		s.length = 17;
		ck_assert_int_eq(ml_post_send_nodb(&qp, &w2), -EINVAL);
		ck_assert_str_eq(ml_last_error(),
				 "post send: inline length 17 exceeds max_inline 16");
		s.length = 16;
		ck_assert_int_eq(ml_post_send_nodb(&qp, &w2), 0);

		w2.opcode = ML_WR_READ;
		w2.rkey = 1;
		ck_assert_int_eq(ml_post_send_nodb(&qp, &w2), -EINVAL);
		ck_assert_str_eq(ml_last_error(),
				 "post send: ML_WR_F_INLINE is not allowed with READ");
	}
	ck_assert_uint_eq(qp.sq.hdr->producer, 2);
	qp_fini(&qp);
}
END_TEST

START_TEST(test_sq_validation)
{
	struct ml_sge sge[5] = { { (uintptr_t)buf, 8, 1 } };
	struct ml_send_wr wr = send_wr(1, sge, 5);
	struct ml_qp qp;

	qp_init(&qp, 4, 4, 0);
	ck_assert_int_eq(ml_post_send_nodb(&qp, &wr), -EINVAL);
	ck_assert_str_eq(ml_last_error(),
			 "post send: num_sge 5 exceeds the QP's max_send_sge 4");
	qp.max_send_sge = 1;
	wr.num_sge = 2;
	ck_assert_int_eq(ml_post_send(&qp, &wr), -EINVAL);
	ck_assert_str_eq(ml_last_error(),
			 "post send: num_sge 2 exceeds the QP's max_send_sge 1");

	wr.num_sge = 1;
	wr.sg_list = NULL;
	ck_assert_int_eq(ml_post_send_nodb(&qp, &wr), -EINVAL);
	ck_assert_str_eq(ml_last_error(),
			 "post send: sg_list is NULL but num_sge is not 0");
	wr.sg_list = sge;

	wr.opcode = 0;
	ck_assert_int_eq(ml_post_send_nodb(&qp, &wr), -EINVAL);
	ck_assert_str_eq(ml_last_error(), "post send: unknown opcode 0");
	wr.opcode = ML_WR_READ + 1;
	ck_assert_int_eq(ml_post_send_nodb(&qp, &wr), -EINVAL);
	ck_assert_str_eq(ml_last_error(), "post send: unknown opcode 6");
	wr.opcode = ML_WR_SEND;

	wr.flags = ML_WR_F_SIGNALED | 0x80;
	ck_assert_int_eq(ml_post_send_nodb(&qp, &wr), -EINVAL);
	ck_assert_str_eq(ml_last_error(), "post send: unknown flags 0x80");
	wr.flags = 0;

	sge[0].length = 0xffffffffU;
	qp.max_msg_size = 1ULL << 30;
	ck_assert_int_eq(ml_post_send_nodb(&qp, &wr), -EINVAL);
	ck_assert_str_eq(ml_last_error(),
			 "post send: message length 4294967295 exceeds max_msg_size 1073741824");
	sge[0].length = 8;

	ck_assert_int_eq(ml_post_send_nodb(&qp, NULL), -EINVAL);
	ck_assert_str_eq(ml_last_error(), "post send: wr is NULL");
	ck_assert_int_eq(ml_post_send_nodb(NULL, &wr), -EINVAL);
	ck_assert_str_eq(ml_last_error(), "post send: qp is NULL");

	/* nothing of the above reached the ring */
	ck_assert_uint_eq(qp.sq.hdr->producer, 0);
	ck_assert_uint_eq(qp.sq.local, 0);
	ck_assert_int_eq(ml_post_send_nodb(&qp, &wr), 0);
	ck_assert_uint_eq(qp.sq.hdr->producer, 1);
	qp_fini(&qp);
}
END_TEST

START_TEST(test_sq_not_connected_and_error)
{
	struct ml_sge sge = { (uintptr_t)buf, 8, 1 };
	struct ml_send_wr wr = send_wr(1, &sge, 1);
	struct ml_recv_wr rwr = { .wr_id = 2, .sg_list = &sge, .num_sge = 1 };
	struct ml_qp qp;

	qp_init(&qp, 4, 4, 0);
	qp.state = ML_QPS_INIT;
	ck_assert_int_eq(ml_post_send(&qp, &wr), -ENOTCONN);
	ck_assert_str_eq(ml_last_error(),
			 "post send: QP 7 not connected (ml_qp_connect first)");
	/* receives may be posted before connect */
	ck_assert_int_eq(ml_post_recv(&qp, &rwr), 0);

	qp.state = ML_QPS_RTS;
	qp.sq.hdr->flags = ML_RING_F_ERROR;
	qp.rq.hdr->flags = ML_RING_F_ERROR;
	ck_assert_int_eq(ml_post_send_nodb(&qp, &wr), -EIO);
	ck_assert_ptr_nonnull(strstr(ml_last_error(), "error state"));
	ck_assert_int_eq(ml_post_recv(&qp, &rwr), -EIO);
	ck_assert_ptr_nonnull(strstr(ml_last_error(), "post recv: QP 7"));
	ck_assert_uint_eq(qp.sq.hdr->producer, 0);
	ck_assert_uint_eq(qp.rq.hdr->producer, 1);
	qp_fini(&qp);
}
END_TEST

START_TEST(test_doorbell)
{
	struct ml_sge sge = { (uintptr_t)buf, 8, 1 };
	struct ml_send_wr wr = send_wr(1, &sge, 1);
	struct ml_qp qp;

	qp_init(&qp, 4, 4, 0);
	/* nothing new: no syscall (the fake device has fd -1) */
	ck_assert_int_eq(ml_qp_doorbell(&qp), 0);
	ck_assert_int_eq(ml_post_send_nodb(&qp, &wr), 0);
	ck_assert_int_eq(ml_post_send_nodb(&qp, &wr), 0);
	/* the doorbell reaches the (bad) fd and fails; the WRs stay queued */
	ck_assert_int_eq(ml_qp_doorbell(&qp), -EBADF);
	ck_assert_ptr_nonnull(strstr(ml_last_error(), "doorbell mlfake"));
	ck_assert_uint_eq(qp.sq_notified, 0);
	ck_assert_uint_eq(qp.sq.hdr->producer, 2);
	/* ml_post_send = nodb + doorbell: the doorbell error is returned */
	ck_assert_int_eq(ml_post_send(&qp, &wr), -EBADF);
	ck_assert_uint_eq(qp.sq.hdr->producer, 3);
	/* pretend a doorbell went through */
	qp.sq_notified = qp.sq.local;
	ck_assert_int_eq(ml_qp_doorbell(&qp), 0);
	qp_fini(&qp);
}
END_TEST

/* ---- receive queue ---- */

START_TEST(test_rq)
{
	struct ml_sge sge[3] = {
		{ (uintptr_t)buf, 100, 0x5 }, { (uintptr_t)buf + 100, 50, 0x6 },
	};
	struct ml_recv_wr wr = { .wr_id = 42, .sg_list = sge, .num_sge = 2 };
	struct ml_recv_wqe *w;
	struct ml_qp qp;
	uint32_t i;

	qp_init(&qp, 4, 2, 0xffffffffU);
	memset(qp.rq.entries, 0xa5, 2 * sizeof(struct ml_recv_wqe));
	ck_assert_uint_eq(ml_rq_space(&qp), 2);
	ck_assert_int_eq(ml_post_recv(&qp, &wr), 0);
	w = (struct ml_recv_wqe *)qp.rq.entries + 1;	/* 0xffffffff & 1 */
	ck_assert_uint_eq(w->wr_id, 42);
	ck_assert_uint_eq(w->num_sge, 2);
	ck_assert_uint_eq(w->reserved, 0);
	ck_assert_uint_eq(w->sge[1].length, 50);
	ck_assert_uint_eq(w->sge[1].lkey, 6);
	ck_assert_uint_eq(w->sge[2].addr, 0);
	ck_assert_uint_eq(qp.rq.hdr->producer, 0);	/* wrapped */

	wr.num_sge = 0;		/* for WRITE_IMM: no buffer */
	wr.sg_list = NULL;
	ck_assert_int_eq(ml_post_recv(&qp, &wr), 0);
	ck_assert_uint_eq(ml_rq_space(&qp), 0);
	ck_assert_int_eq(ml_post_recv(&qp, &wr), -ENOSPC);
	ck_assert_ptr_nonnull(strstr(ml_last_error(), "post recv: receive queue full"));
	__atomic_store_n(&qp.rq.hdr->consumer, 0, __ATOMIC_RELEASE);
	ck_assert_uint_eq(ml_rq_space(&qp), 1);

	wr.sg_list = sge;
	wr.num_sge = 3;
	ck_assert_int_eq(ml_post_recv(&qp, &wr), -EINVAL);
	ck_assert_str_eq(ml_last_error(),
			 "post recv: num_sge 3 exceeds the QP's max_recv_sge 2");
	wr.num_sge = 1;
	wr.sg_list = NULL;
	ck_assert_int_eq(ml_post_recv(&qp, &wr), -EINVAL);
	wr.sg_list = sge;
	for (i = 0; i < 1; i++)
		ck_assert_int_eq(ml_post_recv(&qp, &wr), 0);
	ck_assert_int_eq(ml_post_recv(&qp, &wr), -ENOSPC);
	ck_assert_uint_eq(qp.rq.hdr->producer, 2);
	qp_fini(&qp);
}
END_TEST

/* ---- completion queue ---- */

START_TEST(test_cq_poll)
{
	struct ml_cqe wc[8];
	struct ml_cq cq;

	cq_init(&cq, 4, 0);
	ck_assert_int_eq(ml_cq_ready(&cq), 0);
	ck_assert_int_eq(ml_cq_poll(&cq, wc, 8), 0);
	kernel_cqe(&cq, 10, ML_WC_SUCCESS);
	kernel_cqe(&cq, 11, ML_WC_SUCCESS);
	kernel_cqe(&cq, 12, ML_WC_RETRY_EXC_ERR);
	ck_assert_int_eq(ml_cq_ready(&cq), 3);
	ck_assert_int_eq(ml_cq_poll(&cq, wc, 0), 0);
	ck_assert_int_eq(ml_cq_poll(&cq, wc, 2), 2);
	ck_assert_uint_eq(wc[0].wr_id, 10);
	ck_assert_uint_eq(wc[1].wr_id, 11);
	ck_assert_uint_eq(cq.ring.hdr->consumer, 2);
	ck_assert_int_eq(ml_cq_poll(&cq, wc, 8), 1);
	ck_assert_uint_eq(wc[0].wr_id, 12);
	ck_assert_uint_eq(wc[0].status, ML_WC_RETRY_EXC_ERR);
	ck_assert_str_eq(ml_wc_status_str(wc[0].status), "retry count exceeded");
	ck_assert_uint_eq(cq.ring.hdr->consumer, 3);
	ck_assert_int_eq(ml_cq_poll(&cq, wc, 8), 0);
	free(cq.ring.hdr);
}
END_TEST

START_TEST(test_cq_wrap_and_full)
{
	struct ml_cqe wc[8];
	struct ml_cq cq;
	uint32_t i;

	cq_init(&cq, 4, 0xfffffffeU);
	for (i = 0; i < 4; i++)
		kernel_cqe(&cq, i, 0);
	ck_assert_uint_eq(cq.ring.hdr->producer, 2);	/* wrapped */
	ck_assert_int_eq(ml_cq_ready(&cq), 4);		/* full is not corrupt */
	ck_assert_int_eq(ml_cq_poll(&cq, wc, 8), 4);
	for (i = 0; i < 4; i++)
		ck_assert_uint_eq(wc[i].wr_id, i);
	ck_assert_uint_eq(cq.ring.hdr->consumer, 2);

	/* overflow: reported once the ring is drained */
	cq.ring.hdr->flags = ML_RING_F_ERROR;
	kernel_cqe(&cq, 50, 0);
	ck_assert_int_eq(ml_cq_poll(&cq, wc, 8), 1);
	ck_assert_int_eq(ml_cq_poll(&cq, wc, 8), -EOVERFLOW);
	ck_assert_ptr_nonnull(strstr(ml_last_error(), "overflowed"));
	cq.ring.hdr->flags = 0;

	/* a producer more than a ring ahead is corrupt */
	cq.ring.hdr->producer = cq.ring.hdr->consumer + 5;
	ck_assert_int_eq(ml_cq_poll(&cq, wc, 8), -EIO);
	ck_assert_ptr_nonnull(strstr(ml_last_error(), "corrupt"));
	/* and so is one behind the consumer */
	cq.ring.hdr->producer = cq.ring.hdr->consumer - 1;
	ck_assert_int_eq(ml_cq_ready(&cq), -EIO);
	ck_assert_uint_eq(cq.ring.local, 3);
	free(cq.ring.hdr);
}
END_TEST

START_TEST(test_cq_peek_advance_arm)
{
	const struct ml_cqe *e;
	struct ml_cq cq;

	cq_init(&cq, 8, 100);
	ck_assert_ptr_null(ml_cq_peek(&cq));
	ck_assert_int_eq(ml_cq_arm(&cq), 0);
	ck_assert_uint_eq(cq.ring.hdr->armed, 1);
	kernel_cqe(&cq, 77, 0);
	cq.ring.hdr->armed = 0;		/* the kernel disarms when it wakes */
	ck_assert_int_eq(ml_cq_arm(&cq), 1);	/* already there: do not sleep */
	e = ml_cq_peek(&cq);
	ck_assert_ptr_nonnull(e);
	ck_assert_uint_eq(e->wr_id, 77);
	ck_assert_uint_eq(cq.ring.hdr->consumer, 100);
	ml_cq_advance(&cq, 1);
	ck_assert_uint_eq(cq.ring.hdr->consumer, 101);
	ck_assert_ptr_null(ml_cq_peek(&cq));
	free(cq.ring.hdr);
}
END_TEST

/* ---- both sides at once: a thread plays the kernel ---- */

#define STRESS_N	100000u

struct stress {
	struct ml_qp qp;
	struct ml_cq cq;
	int bad;
};

/* Consumes SQ entries in order and turns each into a CQE. */
static void *fake_kernel(void *arg)
{
	struct stress *s = arg;
	struct ml_ring_hdr *sq = s->qp.sq.hdr, *cq = s->cq.ring.hdr;
	uint32_t cons = sq->consumer, cprod = cq->producer;
	uint64_t expect = 0;

	while (expect < STRESS_N) {
		uint32_t prod = __atomic_load_n(&sq->producer, __ATOMIC_ACQUIRE);

		if (prod == cons)
			sched_yield();	/* the machine may have fewer free CPUs than threads */
		while (cons != prod && expect < STRESS_N) {
			struct ml_send_wqe w = ((struct ml_send_wqe *)s->qp.sq.entries)
						[cons & s->qp.sq.mask];
			struct ml_cqe *e;

			if (w.wr_id != expect || w.sge[0].length != (uint32_t)expect)
				s->bad++;
			__atomic_store_n(&sq->consumer, ++cons, __ATOMIC_RELEASE);
			/* wait for CQ room */
			while (cprod - __atomic_load_n(&cq->consumer, __ATOMIC_ACQUIRE) >=
			       s->cq.ring.size)
				sched_yield();
			e = (struct ml_cqe *)s->cq.ring.entries + (cprod & s->cq.ring.mask);
			e->wr_id = w.wr_id;
			e->byte_len = w.sge[0].length;
			__atomic_store_n(&cq->producer, ++cprod, __ATOMIC_RELEASE);
			expect++;
		}
	}
	return NULL;
}

START_TEST(test_stress_two_threads)
{
	struct stress s;
	struct ml_cqe wc[16];
	uint64_t posted = 0, done = 0;
	pthread_t t;

	memset(&s, 0, sizeof(s));
	qp_init(&s.qp, 8, 8, 0xffff0000U);	/* wraps 2^32 on the way */
	cq_init(&s.cq, 16, 0xfffff000U);
	ck_assert_int_eq(pthread_create(&t, NULL, fake_kernel, &s), 0);
	while (done < STRESS_N) {
		while (posted < STRESS_N) {
			struct ml_sge sge = { (uintptr_t)buf, (uint32_t)posted, 1 };
			struct ml_send_wr wr = send_wr(posted, &sge, 1);
			int r = ml_post_send_nodb(&s.qp, &wr);

			if (r == -ENOSPC)
				break;
			ck_assert_int_eq(r, 0);
			posted++;
		}
		{
			int n = ml_cq_poll(&s.cq, wc, 16), i;

			ck_assert_int_ge(n, 0);
			if (n == 0)
				sched_yield();
			for (i = 0; i < n; i++, done++) {
				ck_assert_uint_eq(wc[i].wr_id, done);
				ck_assert_uint_eq(wc[i].byte_len, (uint32_t)done);
			}
		}
	}
	pthread_join(t, NULL);
	ck_assert_int_eq(s.bad, 0);
	ck_assert_uint_eq(s.qp.sq.hdr->producer, 0xffff0000U + STRESS_N);
	ck_assert_uint_eq(s.cq.ring.hdr->consumer, 0xfffff000U + STRESS_N);
	qp_fini(&s.qp);
	free(s.cq.ring.hdr);
}
END_TEST

/* ---- setup calls without a kernel ---- */

START_TEST(test_setup_args)
{
	struct ml_pd *pd = (void *)1;
	struct ml_cq *cq = (void *)1;
	struct ml_qp *qp = (void *)1;
	struct ml_mr *mr = (void *)1;
	struct ml_qp_init init = { 0 };

	ck_assert_int_eq(ml_pd_alloc(NULL, &pd), -EINVAL);
	ck_assert_ptr_null(pd);
	ck_assert_int_eq(ml_cq_create(NULL, 16, &cq), -EINVAL);
	ck_assert_ptr_null(cq);
	ck_assert_int_eq(ml_cq_create(&fake_dev, 0, &cq), -EINVAL);
	ck_assert_str_eq(ml_last_error(), "cq create: entries is 0");
	ck_assert_int_eq(ml_qp_create(NULL, &init, &qp), -EINVAL);
	ck_assert_ptr_null(qp);
	ck_assert_int_eq(ml_mr_reg(NULL, buf, 1, 0, &mr), -EINVAL);
	ck_assert_ptr_null(mr);
	ck_assert_int_eq(ml_qp_connect(NULL, 1, 1, NULL), -EINVAL);
	ck_assert_int_eq(ml_pd_free(NULL), 0);
	ck_assert_int_eq(ml_mr_dereg(NULL), 0);
	ck_assert_int_eq(ml_cq_destroy(NULL), 0);
	ck_assert_int_eq(ml_qp_destroy(NULL), 0);
	ck_assert_int_eq(ml_cq_wait(NULL, 0), -EINVAL);
}
END_TEST

START_TEST(test_connect_args)
{
	struct ml_connect_opts o = { .retry_cnt = 16 };
	struct ml_qp qp;

	qp_init(&qp, 4, 4, 0);
	qp.state = ML_QPS_INIT;
	ck_assert_int_eq(ml_qp_connect(&qp, 0, 1, NULL), -EINVAL);
	ck_assert_str_eq(ml_last_error(), "qp connect: remote node 0x00000000 is reserved");
	ck_assert_int_eq(ml_qp_connect(&qp, 0xffffffffU, 1, NULL), -EINVAL);
	ck_assert_int_eq(ml_qp_connect(&qp, 2, 1, &o), -EINVAL);
	ck_assert_str_eq(ml_last_error(), "qp connect: retry_cnt 16 exceeds 15");
	qp.state = ML_QPS_RTS;
	ck_assert_int_eq(ml_qp_connect(&qp, 2, 1, NULL), -EISCONN);
	qp_fini(&qp);
}
END_TEST

START_TEST(test_names)
{
	ck_assert_str_eq(ml_qp_state_name(ML_QPS_RTS), "rts");
	ck_assert_str_eq(ml_qp_state_name(ML_QPS_ERROR), "error");
	ck_assert_str_eq(ml_qp_state_name(99), "unknown");
	ck_assert_str_eq(ml_wc_status_str(ML_WC_SUCCESS), "success");
	ck_assert_str_eq(ml_wc_status_str(ML_WC_WR_FLUSH_ERR), "flushed");
	ck_assert_str_eq(ml_wc_status_str(200), "unknown");
	ck_assert_str_eq(ml_wc_opcode_name(ML_WC_RECV_IMM), "recv_imm");
	ck_assert_str_eq(ml_wc_opcode_name(0), "unknown");
}
END_TEST

static Suite *verbs_suite(void)
{
	Suite *s = suite_create("libmegalink-verbs");
	TCase *tc;

	tc = tcase_create("sq");
	tcase_add_test(tc, test_sq_fill_and_full);
	tcase_add_test(tc, test_sq_wrap_2_32);
	tcase_add_test(tc, test_sq_wqe_contents);
	tcase_add_test(tc, test_sq_inline);
	tcase_add_test(tc, test_sq_validation);
	tcase_add_test(tc, test_sq_not_connected_and_error);
	tcase_add_test(tc, test_doorbell);
	suite_add_tcase(s, tc);

	tc = tcase_create("rq");
	tcase_add_test(tc, test_rq);
	suite_add_tcase(s, tc);

	tc = tcase_create("cq");
	tcase_add_test(tc, test_cq_poll);
	tcase_add_test(tc, test_cq_wrap_and_full);
	tcase_add_test(tc, test_cq_peek_advance_arm);
	suite_add_tcase(s, tc);

	tc = tcase_create("stress");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_stress_two_threads);
	suite_add_tcase(s, tc);

	tc = tcase_create("setup");
	tcase_add_test(tc, test_setup_args);
	tcase_add_test(tc, test_connect_args);
	tcase_add_test(tc, test_names);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(verbs_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
