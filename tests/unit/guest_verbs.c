// SPDX-License-Identifier: MIT
/*
 * In-guest check of the libmegalink data plane against the real module.
 * One process opens two devices (ML_DEV_A, ML_DEV_B: ml0 and ml1 by
 * default) whose ports are neighbours (guest-verbs-smoke.sh sets that up:
 * two netns joined by a veth pair) and connects a QP of each to the other.
 * Check runs every test in its own process, so each starts from fresh
 * files.
 *
 *   tests/harness/run-in-guest.sh --kernel 6.12 -- tests/unit/guest-verbs-smoke.sh
 */
#define _GNU_SOURCE
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <megalink/megalink.h>
#include <linux/megalink.h>	/* tests of the kernel ABI use it directly */

#define OK(call)	ck_assert_msg((call) == 0, "%s: %s", #call, ml_last_error())

static const char *dev_a, *dev_b;

struct side {
	struct ml_device *dev;
	uint32_t node;
	struct ml_pd *pd;
	struct ml_cq *cq;
	struct ml_qp *qp;
	struct ml_mr *mr;
	char *buf;
	size_t len;
};

static void side_open(struct side *s, const char *name, size_t buflen)
{
	struct ml_device_info info;

	memset(s, 0, sizeof(*s));
	OK(ml_device_open(name, &s->dev));
	OK(ml_device_query(s->dev, &info));
	ck_assert_msg(info.caps & ML_DEV_CAP_DATA_PLANE, "%s lacks DATA_PLANE", name);
	s->node = info.node_id;
	OK(ml_pd_alloc(s->dev, &s->pd));
	OK(ml_cq_create(s->dev, 256, &s->cq));
	s->len = buflen;
	s->buf = aligned_alloc(4096, buflen);
	ck_assert_ptr_nonnull(s->buf);
	memset(s->buf, 0, buflen);
	OK(ml_mr_reg(s->pd, s->buf, buflen, ML_ACCESS_ALL, &s->mr));
}

static void side_qp(struct side *s, const struct ml_qp_init *in)
{
	struct ml_qp_init init = {
		.send_cq = s->cq, .sq_entries = 64, .rq_entries = 64,
		.max_send_sge = 4, .max_recv_sge = 4, .max_inline = 64,
	};

	OK(ml_qp_create(s->pd, in ? in : &init, &s->qp));
}

/* Two connected QPs, ml0 <-> ml1. */
static void pair_open(struct side *a, struct side *b, size_t buflen,
		      const struct ml_connect_opts *opts)
{
	side_open(a, dev_a, buflen);
	side_open(b, dev_b, buflen);
	side_qp(a, NULL);
	side_qp(b, NULL);
	OK(ml_qp_connect(a->qp, b->node, ml_qp_num(b->qp), opts));
	OK(ml_qp_connect(b->qp, a->node, ml_qp_num(a->qp), opts));
}

/* The next completion of @s, waiting up to 10 s. */
static struct ml_cqe next_cqe(struct side *s)
{
	struct ml_cqe wc;
	int n, tries = 0;

	while ((n = ml_cq_poll(s->cq, &wc, 1)) == 0) {
		n = ml_cq_wait(s->dev, 1000);
		ck_assert_msg(n == 1 || n == -ETIMEDOUT, "cq wait: %d %s", n,
			      ml_last_error());
		ck_assert_msg(++tries < 10, "no completion on %s in 10 s",
			      ml_device_name(s->dev));
	}
	ck_assert_int_eq(n, 1);
	return wc;
}

static void expect_cqe(struct side *s, uint64_t wr_id, unsigned int opcode,
		       unsigned int status, uint32_t byte_len)
{
	struct ml_cqe wc = next_cqe(s);

	ck_assert_msg(wc.wr_id == wr_id && wc.opcode == opcode && wc.status == status,
		      "%s: got wr_id %llu opcode %s status %s, want %llu %s %s",
		      ml_device_name(s->dev), (unsigned long long)wc.wr_id,
		      ml_wc_opcode_name(wc.opcode), ml_wc_status_str(wc.status),
		      (unsigned long long)wr_id, ml_wc_opcode_name(opcode),
		      ml_wc_status_str(status));
	if (status == ML_WC_SUCCESS && byte_len != (uint32_t)-1)
		ck_assert_uint_eq(wc.byte_len, byte_len);
}

static void no_cqe(struct side *s)
{
	struct ml_cqe wc;

	ck_assert_int_eq(ml_cq_poll(s->cq, &wc, 1), 0);
}

static struct ml_sge sge(struct side *s, size_t off, uint32_t len)
{
	struct ml_sge g = { (uintptr_t)s->buf + off, len, s->mr->lkey };

	return g;
}

static void post_recv1(struct side *s, uint64_t id, size_t off, uint32_t len)
{
	struct ml_sge g = sge(s, off, len);
	struct ml_recv_wr wr = { .wr_id = id, .sg_list = &g, .num_sge = len ? 1 : 0 };

	OK(ml_post_recv(s->qp, &wr));
}

static void post1(struct side *s, uint64_t id, unsigned int op, unsigned int flags,
		  size_t off, uint32_t len, uint64_t raddr, uint32_t rkey, uint32_t imm)
{
	struct ml_sge g = sge(s, off, len);
	struct ml_send_wr wr = {
		.wr_id = id, .opcode = op, .flags = flags, .sg_list = &g,
		.num_sge = 1, .remote_addr = raddr, .rkey = rkey, .imm = imm,
	};

	OK(ml_post_send(s->qp, &wr));
}

static void fill(char *p, size_t n, unsigned int seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (char)(i * 31 + seed + (i >> 9));
}

/* ---- objects ---- */

START_TEST(test_limits)
{
	struct ml_device *d;
	struct ml_limits l;

	OK(ml_device_open(dev_a, &d));
	OK(ml_query_limits(d, &l));
	ck_assert_uint_eq(l.max_sge, ML_MAX_SGE);
	ck_assert_uint_eq(l.max_inline, ML_MAX_INLINE);
	ck_assert_uint_ge(l.max_msg_size, 1ULL << 30);
	ck_assert_uint_gt(l.max_pd, 0);
	ck_assert_uint_gt(l.max_qp, 0);
	ck_assert_uint_gt(l.max_cqe, 0);
	ck_assert_uint_gt(l.max_sq_wr, 0);
	ml_device_close(d);
}
END_TEST

START_TEST(test_busy_and_order)
{
	struct side a;

	side_open(&a, dev_a, 4096);
	side_qp(&a, NULL);
	ck_assert_int_eq(ml_pd_free(a.pd), -EBUSY);
	ck_assert_ptr_nonnull(strstr(ml_last_error(), "still used"));
	ck_assert_int_eq(ml_cq_destroy(a.cq), -EBUSY);
	ck_assert_ptr_nonnull(strstr(ml_last_error(), "still used by a QP"));
	OK(ml_qp_destroy(a.qp));
	ck_assert_int_eq(ml_pd_free(a.pd), -EBUSY);	/* the MR */
	OK(ml_mr_dereg(a.mr));
	OK(ml_cq_destroy(a.cq));
	OK(ml_pd_free(a.pd));
	ml_device_close(a.dev);
}
END_TEST

START_TEST(test_close_with_objects)
{
	struct side a, b;
	int i;

	/* Leave everything behind, several times: the file release cleans up. */
	for (i = 0; i < 3; i++) {
		pair_open(&a, &b, 1 << 20, NULL);
		post_recv1(&b, 1, 0, 64);
		ml_device_close(a.dev);
		ml_device_close(b.dev);
		free(a.buf);
		free(b.buf);
	}
}
END_TEST

START_TEST(test_mr_errors)
{
	struct side a;
	struct ml_mr *mr;
	void *hole;

	side_open(&a, dev_a, 4096);
	ck_assert_int_eq(ml_mr_reg(a.pd, a.buf, 0, 0, &mr), -EINVAL);
	ck_assert_int_eq(ml_mr_reg(a.pd, a.buf, 16, 0x80, &mr), -EINVAL);
	ck_assert_str_eq(ml_last_error(), "mr reg: unknown access bits 0x80");
	hole = mmap(NULL, 65536, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ck_assert_ptr_ne(hole, MAP_FAILED);
	munmap(hole, 65536);
	ck_assert_int_eq(ml_mr_reg(a.pd, hole, 4096, ML_ACCESS_LOCAL_WRITE, &mr), -EFAULT);
	/* odd alignment is fine */
	OK(ml_mr_reg(a.pd, a.buf + 3, 1000, ML_ACCESS_LOCAL_WRITE, &mr));
	OK(ml_mr_dereg(mr));
	ml_device_close(a.dev);
}
END_TEST

START_TEST(test_memlock)
{
	struct rlimit rl = { 1 << 20, 1 << 20 };
	struct side a;
	struct ml_mr *mr;
	char *big;

	side_open(&a, dev_a, 4096);
	ck_assert_int_eq(setrlimit(RLIMIT_MEMLOCK, &rl), 0);
	/* become nobody (keeping the open file) to lose CAP_IPC_LOCK */
	if (geteuid() == 0)
		ck_assert_int_eq(setgid(65534) || setuid(65534), 0);
	big = aligned_alloc(4096, 8 << 20);
	ck_assert_int_eq(ml_mr_reg(a.pd, big, 8 << 20, ML_ACCESS_LOCAL_WRITE, &mr), -ENOMEM);
	ck_assert_ptr_nonnull(strstr(ml_last_error(), "RLIMIT_MEMLOCK"));
	ml_device_close(a.dev);
}
END_TEST

START_TEST(test_qp_create_errors)
{
	struct ml_qp_init init;
	struct side a, b;
	struct ml_qp *qp;

	side_open(&a, dev_a, 4096);
	side_open(&b, dev_b, 4096);
	memset(&init, 0, sizeof(init));
	ck_assert_int_eq(ml_qp_create(a.pd, &init, &qp), -EINVAL);
	ck_assert_str_eq(ml_last_error(), "qp create: send_cq is NULL");
	init.send_cq = b.cq;
	ck_assert_int_eq(ml_qp_create(a.pd, &init, &qp), -EINVAL);
	ck_assert_str_eq(ml_last_error(), "qp create: send_cq belongs to another device");
	init.send_cq = a.cq;
	init.max_send_sge = 5;
	ck_assert_int_eq(ml_qp_create(a.pd, &init, &qp), -EINVAL);
	ck_assert_str_eq(ml_last_error(), "qp create: max_send_sge 5 exceeds max_sge 4");
	init.max_send_sge = 0;
	init.max_inline = 65;
	ck_assert_int_eq(ml_qp_create(a.pd, &init, &qp), -EINVAL);
	init.max_inline = 0;
	init.sq_entries = 100;	/* rounded up */
	OK(ml_qp_create(a.pd, &init, &qp));
	ck_assert_uint_eq(qp->sq.size, 128);
	ck_assert_uint_eq(qp->rq.size, 128);
	ck_assert_uint_eq(ml_sq_space(qp), 128);
	OK(ml_qp_destroy(qp));
	ml_device_close(a.dev);
	ml_device_close(b.dev);
}
END_TEST

START_TEST(test_connect_errors)
{
	struct ml_qp_attr qa;
	struct side a;
	struct ml_sge g;
	struct ml_send_wr wr = { .opcode = ML_WR_SEND };

	side_open(&a, dev_a, 4096);
	side_qp(&a, NULL);
	OK(ml_qp_query(a.qp, &qa));
	ck_assert_uint_eq(qa.state, ML_QPS_INIT);
	ck_assert_uint_eq(qa.qpn, ml_qp_num(a.qp));
	g = sge(&a, 0, 8);
	wr.sg_list = &g;
	wr.num_sge = 1;
	ck_assert_int_eq(ml_post_send(a.qp, &wr), -ENOTCONN);
	ck_assert_int_eq(ml_qp_connect(a.qp, 0x12345, 1, NULL), -EHOSTUNREACH);
	ck_assert_ptr_nonnull(strstr(ml_last_error(), "not a live neighbour"));
	ml_device_close(a.dev);
}
END_TEST

/* ---- operations ---- */

START_TEST(test_send_recv_sge)
{
	struct side a, b;
	struct ml_sge gs[3], gr[2];
	struct ml_qp_attr qa;
	struct ml_cqe wc;

	pair_open(&a, &b, 1 << 16, NULL);
	OK(ml_qp_query(a.qp, &qa));
	ck_assert_uint_eq(qa.state, ML_QPS_RTS);
	ck_assert_uint_eq(qa.remote_node, b.node);
	ck_assert_uint_eq(qa.remote_qpn, ml_qp_num(b.qp));

	fill(a.buf, 3000, 1);
	gs[0] = sge(&a, 0, 1000);
	gs[1] = sge(&a, 1000, 1000);
	gs[2] = sge(&a, 2000, 1000);
	gr[0] = sge(&b, 100, 1500);
	gr[1] = sge(&b, 8000, 2000);
	struct ml_recv_wr rwr = { .wr_id = 77, .sg_list = gr, .num_sge = 2 };
	struct ml_send_wr swr = {
		.wr_id = 55, .opcode = ML_WR_SEND, .flags = ML_WR_F_SIGNALED,
		.sg_list = gs, .num_sge = 3,
	};

	OK(ml_post_recv(b.qp, &rwr));
	OK(ml_post_send(a.qp, &swr));
	wc = next_cqe(&b);
	ck_assert_uint_eq(wc.wr_id, 77);
	ck_assert_uint_eq(wc.status, ML_WC_SUCCESS);
	ck_assert_uint_eq(wc.opcode, ML_WC_RECV);
	ck_assert_uint_eq(wc.byte_len, 3000);
	ck_assert_uint_eq(wc.qpn, ml_qp_num(b.qp));
	ck_assert_uint_eq(wc.src_qpn, ml_qp_num(a.qp));
	ck_assert_uint_eq(wc.flags & ML_WC_F_IMM, 0);
	ck_assert_int_eq(memcmp(b.buf + 100, a.buf, 1500), 0);
	ck_assert_int_eq(memcmp(b.buf + 8000, a.buf + 1500, 1500), 0);
	expect_cqe(&a, 55, ML_WC_SEND, ML_WC_SUCCESS, -1);
	ml_device_close(a.dev);
	ml_device_close(b.dev);
}
END_TEST

START_TEST(test_send_imm_inline)
{
	struct side a, b;
	struct ml_cqe wc;
	char msg[64];

	pair_open(&a, &b, 1 << 16, NULL);
	post_recv1(&b, 1, 0, 4096);
	post_recv1(&b, 2, 4096, 4096);
	memset(msg, 'q', sizeof(msg));
	{
		struct ml_sge g = { (uintptr_t)msg, sizeof(msg), 0 };	/* no MR: inline */
		struct ml_send_wr wr = {
			.wr_id = 9, .opcode = ML_WR_SEND_IMM,
			.flags = ML_WR_F_SIGNALED | ML_WR_F_INLINE,
			.sg_list = &g, .num_sge = 1, .imm = 0xabcd1234,
		};

		OK(ml_post_send(a.qp, &wr));
		memset(msg, 'z', sizeof(msg));
	}
	wc = next_cqe(&b);
	ck_assert_uint_eq(wc.wr_id, 1);
	ck_assert_uint_eq(wc.status, ML_WC_SUCCESS);
	ck_assert_uint_eq(wc.opcode, ML_WC_RECV_IMM);
	ck_assert_uint_eq(wc.flags & ML_WC_F_IMM, ML_WC_F_IMM);
	ck_assert_uint_eq(wc.imm, 0xabcd1234);
	ck_assert_uint_eq(wc.byte_len, 64);
	ck_assert_int_eq(b.buf[0], 'q');
	ck_assert_int_eq(b.buf[63], 'q');
	expect_cqe(&a, 9, ML_WC_SEND, ML_WC_SUCCESS, -1);

	/* zero-length SEND */
	{
		struct ml_send_wr wr = { .wr_id = 10, .opcode = ML_WR_SEND,
					 .flags = ML_WR_F_SIGNALED };

		OK(ml_post_send(a.qp, &wr));
	}
	expect_cqe(&b, 2, ML_WC_RECV, ML_WC_SUCCESS, 0);
	expect_cqe(&a, 10, ML_WC_SEND, ML_WC_SUCCESS, -1);
	ml_device_close(a.dev);
	ml_device_close(b.dev);
}
END_TEST

START_TEST(test_write_read)
{
	const size_t n = 1 << 20;
	struct side a, b;

	pair_open(&a, &b, 4 << 20, NULL);
	fill(a.buf, n, 7);
	/* WRITE 1 MiB at an odd offset, unsignaled, then a signaled READ back */
	post1(&a, 1, ML_WR_WRITE, 0, 0, (uint32_t)n, (uintptr_t)b.buf + 5, b.mr->rkey, 0);
	post1(&a, 2, ML_WR_READ, ML_WR_F_SIGNALED, n + 11, (uint32_t)n,
	      (uintptr_t)b.buf + 5, b.mr->rkey, 0);
	expect_cqe(&a, 2, ML_WC_READ, ML_WC_SUCCESS, (uint32_t)n);
	no_cqe(&a);	/* the unsignaled WRITE */
	ck_assert_int_eq(memcmp(b.buf + 5, a.buf, n), 0);
	ck_assert_int_eq(memcmp(a.buf + n + 11, a.buf, n), 0);
	no_cqe(&b);	/* a plain WRITE consumes no receive */

	/* WRITE_IMM into a zero-SGE receive */
	post_recv1(&b, 33, 0, 0);
	post1(&a, 3, ML_WR_WRITE_IMM, ML_WR_F_SIGNALED, 0, 4096,
	      (uintptr_t)b.buf + 2 * n, b.mr->rkey, 0x5151);
	{
		struct ml_cqe wc = next_cqe(&b);

		ck_assert_uint_eq(wc.wr_id, 33);
		ck_assert_uint_eq(wc.status, ML_WC_SUCCESS);
		ck_assert_uint_eq(wc.opcode, ML_WC_RECV_IMM);
		ck_assert_uint_eq(wc.imm, 0x5151);
		ck_assert_uint_eq(wc.byte_len, 4096);
	}
	expect_cqe(&a, 3, ML_WC_WRITE, ML_WC_SUCCESS, -1);
	ck_assert_int_eq(memcmp(b.buf + 2 * n, a.buf, 4096), 0);
	ml_device_close(a.dev);
	ml_device_close(b.dev);
}
END_TEST

START_TEST(test_batch_and_full)
{
	struct side a, b;
	uint32_t i, sz, posted;
	int r;

	pair_open(&a, &b, 1 << 16, NULL);
	sz = a.qp->sq.size;
	for (i = 0; i < 64; i++)
		post_recv1(&b, 100 + i, 64 * i, 64);
	/*
	 * Without the doorbell the SQ fills up.  (The kernel may take entries
	 * at any time, e.g. from work queued at connect, so at least sz fit.)
	 */
	for (posted = 0; ; posted++) {
		struct ml_sge g = sge(&a, 0, 8);
		struct ml_send_wr wr = { .wr_id = posted, .opcode = ML_WR_SEND,
					 .flags = (posted % 8 == 7) ? ML_WR_F_SIGNALED : 0,
					 .sg_list = &g, .num_sge = 1 };

		r = ml_post_send_nodb(a.qp, &wr);
		if (r || posted > 4 * sz)
			break;
	}
	ck_assert_int_eq(r, -ENOSPC);
	ck_assert_uint_ge(posted, sz);
	ck_assert_ptr_nonnull(strstr(ml_last_error(), "send queue full"));
	OK(ml_qp_doorbell(a.qp));
	for (i = 0; i < posted; i++) {
		expect_cqe(&b, 100 + i, ML_WC_RECV, ML_WC_SUCCESS, 8);
		if (i + 64 < posted)
			post_recv1(&b, 100 + i + 64, 64 * (i % 64), 64);
	}
	for (i = 7; i < posted; i += 8)
		expect_cqe(&a, i, ML_WC_SEND, ML_WC_SUCCESS, -1);
	usleep(20000);
	no_cqe(&a);
	ck_assert_uint_eq(ml_sq_space(a.qp), sz);
	ml_device_close(a.dev);
	ml_device_close(b.dev);
}
END_TEST

START_TEST(test_many_messages)
{
	const uint32_t total = 2000;
	struct side a, b;
	uint32_t posted = 0, recvd = 0, sent = 0, rposted = 0;

	pair_open(&a, &b, 1 << 20, NULL);
	while (recvd < total || sent < total) {
		struct ml_cqe wc[16];
		int n, i;

		while (rposted < total && rposted - recvd < 64 && ml_rq_space(b.qp)) {
			post_recv1(&b, rposted, (rposted % 64) * 4096, 4096);
			rposted++;
		}
		while (posted < total && posted - sent < 64 && ml_sq_space(a.qp)) {
			struct ml_sge g = sge(&a, (posted % 64) * 4096, 100 + posted % 3000);
			struct ml_send_wr wr = { .wr_id = posted, .opcode = ML_WR_SEND,
						 .flags = ML_WR_F_SIGNALED,
						 .sg_list = &g, .num_sge = 1 };

			if (ml_post_send_nodb(a.qp, &wr) != 0)
				break;
			posted++;
		}
		OK(ml_qp_doorbell(a.qp));
		n = ml_cq_poll(b.cq, wc, 16);
		ck_assert_int_ge(n, 0);
		for (i = 0; i < n; i++, recvd++) {
			ck_assert_uint_eq(wc[i].status, ML_WC_SUCCESS);
			ck_assert_uint_eq(wc[i].wr_id, recvd);
			ck_assert_uint_eq(wc[i].byte_len, 100 + recvd % 3000);
		}
		n = ml_cq_poll(a.cq, wc, 16);
		ck_assert_int_ge(n, 0);
		for (i = 0; i < n; i++, sent++) {
			ck_assert_uint_eq(wc[i].status, ML_WC_SUCCESS);
			ck_assert_uint_eq(wc[i].wr_id, sent);
		}
		if (recvd < total || sent < total) {
			n = ml_cq_wait(a.dev, 5000);
			ck_assert_msg(n == 1 || n == -ETIMEDOUT, "%s", ml_last_error());
			if (n == -ETIMEDOUT && ml_cq_ready(b.cq) == 0 && ml_cq_ready(a.cq) == 0) {
				struct ml_qp_attr qa;

				ml_qp_query(a.qp, &qa);
				ck_abort_msg("stalled: posted %u sent %u recvd %u; qp %s "
					     "outstanding %u retransmits %llu", posted, sent,
					     recvd, ml_qp_state_name(qa.state), qa.outstanding,
					     (unsigned long long)qa.retransmits);
			}
		}
	}
	ml_device_close(a.dev);
	ml_device_close(b.dev);
}
END_TEST

/* ---- errors on the wire ---- */

START_TEST(test_remote_access_error)
{
	struct ml_qp_attr qa;
	struct side a, b;
	struct ml_send_wr wr = { .opcode = ML_WR_SEND };

	pair_open(&a, &b, 1 << 16, NULL);
	post1(&a, 1, ML_WR_WRITE, 0, 0, 64, (uintptr_t)b.buf, b.mr->rkey ^ 0x5a5a, 0);
	/* errors always complete, signaled or not */
	expect_cqe(&a, 1, ML_WC_WRITE, ML_WC_REM_ACCESS_ERR, -1);
	OK(ml_qp_query(a.qp, &qa));
	ck_assert_uint_eq(qa.state, ML_QPS_ERROR);
	ck_assert_uint_eq(qa.status, ML_WC_REM_ACCESS_ERR);
	ck_assert_int_eq(ml_post_send(a.qp, &wr), -EIO);
	ck_assert_ptr_nonnull(strstr(ml_last_error(), "error state"));
	ml_device_close(a.dev);
	ml_device_close(b.dev);
}
END_TEST

START_TEST(test_write_out_of_range)
{
	struct side a, b;

	pair_open(&a, &b, 1 << 16, NULL);
	post1(&a, 1, ML_WR_WRITE, ML_WR_F_SIGNALED, 0, 4096,
	      (uintptr_t)b.buf + (1 << 16) - 100, b.mr->rkey, 0);
	expect_cqe(&a, 1, ML_WC_WRITE, ML_WC_REM_ACCESS_ERR, -1);
	ml_device_close(a.dev);
	ml_device_close(b.dev);
}
END_TEST

START_TEST(test_local_length_error)
{
	struct ml_cqe wc;
	struct side a, b;

	pair_open(&a, &b, 1 << 16, NULL);
	post_recv1(&b, 5, 0, 100);
	post1(&a, 6, ML_WR_SEND, ML_WR_F_SIGNALED, 0, 200, 0, 0, 0);
	wc = next_cqe(&b);
	ck_assert_uint_eq(wc.wr_id, 5);
	ck_assert_uint_eq(wc.status, ML_WC_LOC_LEN_ERR);
	wc = next_cqe(&a);
	ck_assert_uint_eq(wc.wr_id, 6);
	ck_assert_uint_ne(wc.status, ML_WC_SUCCESS);
	ml_device_close(a.dev);
	ml_device_close(b.dev);
}
END_TEST

START_TEST(test_bad_lkey)
{
	struct side a, b;
	struct ml_sge g;

	pair_open(&a, &b, 1 << 16, NULL);
	g = sge(&a, 0, 64);
	g.lkey ^= 0x777;
	struct ml_send_wr wr = { .wr_id = 4, .opcode = ML_WR_SEND, .sg_list = &g,
				 .num_sge = 1 };

	post_recv1(&b, 1, 0, 64);
	OK(ml_post_send(a.qp, &wr));
	expect_cqe(&a, 4, ML_WC_SEND, ML_WC_LOC_PROT_ERR, -1);
	ml_device_close(a.dev);
	ml_device_close(b.dev);
}
END_TEST

START_TEST(test_rnr)
{
	struct ml_connect_opts o = { .rnr_retry = 2, .rnr_timer_ms = 5 };
	struct ml_qp_attr qa;
	struct side a, b;
	struct ml_cqe wc;

	pair_open(&a, &b, 1 << 16, &o);
	/* no receive posted at b */
	post1(&a, 1, ML_WR_SEND, ML_WR_F_SIGNALED, 0, 64, 0, 0, 0);
	post1(&a, 2, ML_WR_SEND, ML_WR_F_SIGNALED, 0, 64, 0, 0, 0);
	expect_cqe(&a, 1, ML_WC_SEND, ML_WC_RNR_RETRY_EXC_ERR, -1);
	expect_cqe(&a, 2, ML_WC_SEND, ML_WC_WR_FLUSH_ERR, -1);
	OK(ml_qp_query(a.qp, &qa));
	ck_assert_uint_eq(qa.state, ML_QPS_ERROR);
	ck_assert_uint_eq(qa.status, ML_WC_RNR_RETRY_EXC_ERR);
	ck_assert_int_eq(ml_cq_poll(a.cq, &wc, 1), 0);
	ml_device_close(a.dev);
	ml_device_close(b.dev);
}
END_TEST

START_TEST(test_rnr_recovers)
{
	struct side a, b;

	pair_open(&a, &b, 1 << 16, NULL);	/* default: 7 RNR retries */
	post1(&a, 1, ML_WR_SEND, ML_WR_F_SIGNALED, 0, 64, 0, 0, 0);
	usleep(20000);
	post_recv1(&b, 9, 0, 64);
	expect_cqe(&b, 9, ML_WC_RECV, ML_WC_SUCCESS, 64);
	expect_cqe(&a, 1, ML_WC_SEND, ML_WC_SUCCESS, -1);
	ml_device_close(a.dev);
	ml_device_close(b.dev);
}
END_TEST

START_TEST(test_peer_gone)
{
	struct ml_connect_opts o = { .timeout_ms = 20, .retry_cnt = 2 };
	struct side a, b;

	pair_open(&a, &b, 1 << 16, &o);
	ml_device_close(b.dev);	/* its QP is gone: nobody answers */
	post1(&a, 1, ML_WR_SEND, ML_WR_F_SIGNALED, 0, 64, 0, 0, 0);
	{
		struct ml_cqe wc = next_cqe(&a);

		ck_assert_uint_eq(wc.wr_id, 1);
		ck_assert_msg(wc.status == ML_WC_RETRY_EXC_ERR ||
			      wc.status == ML_WC_REM_INV_REQ_ERR,
			      "status %s", ml_wc_status_str(wc.status));
	}
	ml_device_close(a.dev);
}
END_TEST

/* ---- notification ---- */

START_TEST(test_arm_wait_epoll)
{
	struct epoll_event ev;
	struct side a, b;
	int ep;

	pair_open(&a, &b, 1 << 16, NULL);
	ck_assert_int_eq(ml_cq_wait(b.dev, 50), -ETIMEDOUT);
	ck_assert_ptr_nonnull(strstr(ml_last_error(), "no completion within 50 ms"));

	ep = epoll_create1(0);
	ev.events = EPOLLIN;
	ev.data.u32 = 1;
	ck_assert_int_eq(epoll_ctl(ep, EPOLL_CTL_ADD, ml_device_fd(b.dev), &ev), 0);
	ck_assert_int_eq(ml_cq_arm(b.cq), 0);
	ck_assert_int_eq(epoll_wait(ep, &ev, 1, 0), 0);

	post_recv1(&b, 1, 0, 64);
	post1(&a, 2, ML_WR_SEND, 0, 0, 64, 0, 0, 0);
	ck_assert_int_eq(epoll_wait(ep, &ev, 1, 5000), 1);	/* the wakeup */
	ck_assert_uint_eq(b.cq->ring.hdr->armed, 0);		/* disarmed */
	ck_assert_int_eq(ml_cq_ready(b.cq), 1);
	/* level-triggered: still readable until consumed */
	ck_assert_int_eq(epoll_wait(ep, &ev, 1, 0), 1);
	expect_cqe(&b, 1, ML_WC_RECV, ML_WC_SUCCESS, 64);
	ck_assert_int_eq(epoll_wait(ep, &ev, 1, 0), 0);
	close(ep);
	ml_device_close(a.dev);
	ml_device_close(b.dev);
}
END_TEST

/* ---- user space misbehaving: the kernel must survive it ---- */

/* Write a raw WQE into the next SQ slot and publish it. */
static void raw_send(struct side *s, const struct ml_send_wqe *w)
{
	struct ml_qp *qp = s->qp;
	uint32_t t = qp->sq.local;

	((struct ml_send_wqe *)qp->sq.entries)[t & qp->sq.mask] = *w;
	qp->sq.local = t + 1;
	__atomic_store_n(&qp->sq.hdr->producer, t + 1, __ATOMIC_RELEASE);
	OK(ml_qp_doorbell(qp));
}

START_TEST(test_bad_wqes)
{
	static const struct {
		const char *what;
		struct ml_send_wqe w;
	} cases[] = {
		{ "opcode 99", { .wr_id = 1, .opcode = 99 } },
		{ "num_sge 7", { .wr_id = 1, .opcode = ML_WR_SEND, .num_sge = 7 } },
		{ "inline_len 200", { .wr_id = 1, .opcode = ML_WR_SEND,
				      .flags = ML_WR_F_INLINE, .inline_len = 200 } },
		{ "flags 0x8000", { .wr_id = 1, .opcode = ML_WR_SEND, .flags = 0x8000 } },
		{ "inline READ", { .wr_id = 1, .opcode = ML_WR_READ,
				   .flags = ML_WR_F_INLINE, .inline_len = 8 } },
	};
	unsigned int i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ml_qp_attr qa;
		struct side a, b;
		struct ml_cqe wc;

		pair_open(&a, &b, 4096, NULL);
		raw_send(&a, &cases[i].w);
		wc = next_cqe(&a);
		ck_assert_msg(wc.wr_id == 1 && wc.status == ML_WC_BAD_WR,
			      "%s: wr_id %llu status %s", cases[i].what,
			      (unsigned long long)wc.wr_id, ml_wc_status_str(wc.status));
		OK(ml_qp_query(a.qp, &qa));
		ck_assert_uint_eq(qa.state, ML_QPS_ERROR);
		ml_device_close(a.dev);
		ml_device_close(b.dev);
		free(a.buf);
		free(b.buf);
	}
}
END_TEST

START_TEST(test_garbage_indices)
{
	struct ml_qp_attr qa;
	struct side a, b;
	struct ml_cqe wc;
	int n;

	pair_open(&a, &b, 4096, NULL);
	/* SQ producer far ahead of the consumer */
	__atomic_store_n(&a.qp->sq.hdr->producer, 0x80000000U, __ATOMIC_RELEASE);
	OK(ml_qp_notify(a.qp));
	usleep(50000);
	OK(ml_qp_query(a.qp, &qa));
	ck_assert_uint_eq(qa.state, ML_QPS_ERROR);
	while ((n = ml_cq_poll(a.cq, &wc, 1)) == 1)
		;

	/* RQ producer far ahead: then a message arrives */
	__atomic_store_n(&b.qp->rq.hdr->producer, 0x7fffff00U, __ATOMIC_RELEASE);
	ml_device_close(a.dev);
	pair_open(&a, &b, 4096, NULL);
	__atomic_store_n(&b.qp->rq.hdr->producer, 0x7fffff00U, __ATOMIC_RELEASE);
	post1(&a, 1, ML_WR_SEND, ML_WR_F_SIGNALED, 0, 64, 0, 0, 0);
	wc = next_cqe(&a);
	ck_assert_uint_eq(wc.wr_id, 1);
	ck_assert_uint_ne(wc.status, ML_WC_SUCCESS);
	/* the CQ consumer moved backwards / far ahead: the kernel must not care */
	__atomic_store_n(&b.cq->ring.hdr->consumer, 0xdeadbeefU, __ATOMIC_RELEASE);
	__atomic_store_n(&b.cq->ring.hdr->mask, 0xffffffffU, __ATOMIC_RELEASE);
	__atomic_store_n(&b.qp->rq.hdr->mask, 0xffffffffU, __ATOMIC_RELEASE);
	usleep(50000);
	ml_device_close(a.dev);
	ml_device_close(b.dev);
}
END_TEST

START_TEST(test_cq_overflow)
{
	struct side a, b;
	struct ml_cqe wc[64];
	struct ml_cq *small;
	struct ml_qp_init init;
	int i, n, got = 0;

	side_open(&a, dev_a, 1 << 16);
	side_open(&b, dev_b, 1 << 16);
	OK(ml_cq_create(a.dev, 4, &small));
	memset(&init, 0, sizeof(init));
	init.send_cq = small;
	init.sq_entries = 32;
	OK(ml_qp_create(a.pd, &init, &a.qp));
	side_qp(&b, NULL);
	OK(ml_qp_connect(a.qp, b.node, ml_qp_num(b.qp), NULL));
	OK(ml_qp_connect(b.qp, a.node, ml_qp_num(a.qp), NULL));
	for (i = 0; i < 16; i++)
		post_recv1(&b, i, 64 * i, 64);
	/* The QP goes to error once its CQ overflows: later posts fail. */
	for (i = 0; i < 16; i++) {
		struct ml_sge g = sge(&a, 0, 8);
		struct ml_send_wr wr = { .wr_id = i, .opcode = ML_WR_SEND,
					 .flags = ML_WR_F_SIGNALED, .sg_list = &g,
					 .num_sge = 1 };

		if (ml_post_send(a.qp, &wr))
			break;
	}
	ck_assert_int_gt(i, (int)small->entries);
	usleep(300000);
	while ((n = ml_cq_poll(small, wc, 64)) > 0)
		got += n;
	ck_assert_int_eq(got, (int)small->entries);
	ck_assert_int_eq(n, -EOVERFLOW);
	ck_assert_ptr_nonnull(strstr(ml_last_error(), "overflowed"));
	{
		struct ml_qp_attr qa;

		OK(ml_qp_query(a.qp, &qa));
		ck_assert_uint_eq(qa.state, ML_QPS_ERROR);
	}
	ml_device_close(a.dev);
	ml_device_close(b.dev);
}
END_TEST

START_TEST(test_qpn_reuse)
{
	struct ml_connect_opts o = { .timeout_ms = 20, .retry_cnt = 2 };
	uint32_t old;
	struct side a, b;
	struct ml_cqe wc;

	pair_open(&a, &b, 4096, &o);
	old = ml_qp_num(b.qp);
	OK(ml_qp_destroy(b.qp));
	side_qp(&b, NULL);	/* may get the same QP number back */
	post_recv1(&b, 5, 0, 64);
	post1(&a, 1, ML_WR_SEND, ML_WR_F_SIGNALED, 0, 64, 0, 0, 0);
	wc = next_cqe(&a);
	ck_assert_uint_eq(wc.wr_id, 1);
	ck_assert_msg(wc.status != ML_WC_SUCCESS,
		      "a SEND to destroyed QP %u was delivered (new QP %u, not connected)",
		      old, ml_qp_num(b.qp));
	usleep(50000);
	ck_assert_int_eq(ml_cq_poll(b.cq, &wc, 1), 0);
	ml_device_close(a.dev);
	ml_device_close(b.dev);
}
END_TEST

START_TEST(test_mmap_abuse)
{
	struct side a;
	uint64_t off;
	void *p;

	side_open(&a, dev_a, 4096);
	side_qp(&a, NULL);
	/* the library mapped the rings; find the CQ's offset by asking again */
	{
		struct ml_create_cq c = { .size = sizeof(c), .entries = 8 };

		ck_assert_int_eq(ioctl(ml_device_fd(a.dev), ML_IOCTL_CREATE_CQ, &c), 0);
		off = c.out_mmap_offset;
		p = mmap(NULL, c.out_mmap_size + 4096, PROT_READ | PROT_WRITE, MAP_SHARED,
			 ml_device_fd(a.dev), (off_t)off);
		ck_assert_msg(p == MAP_FAILED, "mmap larger than the ring succeeded");
		p = mmap(NULL, c.out_mmap_size, PROT_READ | PROT_WRITE, MAP_PRIVATE,
			 ml_device_fd(a.dev), (off_t)off);
		ck_assert_msg(p == MAP_FAILED, "MAP_PRIVATE of a ring succeeded");
		p = mmap(NULL, 4096, PROT_READ, MAP_SHARED, ml_device_fd(a.dev),
			 (off_t)(off + 4096));
		ck_assert_msg(p == MAP_FAILED, "mmap into the middle of a ring succeeded");
		p = mmap(NULL, 4096, PROT_READ, MAP_SHARED, ml_device_fd(a.dev),
			 (off_t)(1ULL << 40));
		ck_assert_msg(p == MAP_FAILED, "mmap of an unknown offset succeeded");
		p = mmap(NULL, c.out_mmap_size, PROT_READ | PROT_WRITE, MAP_SHARED,
			 ml_device_fd(a.dev), (off_t)off);
		ck_assert_ptr_ne(p, MAP_FAILED);
		/* destroy the CQ while it is mapped: the pages stay usable */
		struct ml_destroy d = { .size = sizeof(d), .type = ML_OBJ_CQ,
					.handle = c.out_handle };

		ck_assert_int_eq(ioctl(ml_device_fd(a.dev), ML_IOCTL_DESTROY, &d), 0);
		((volatile struct ml_ring_hdr *)p)->consumer = 5;
		ck_assert_int_eq(munmap(p, c.out_mmap_size), 0);
		/* and its offset is gone */
		p = mmap(NULL, c.out_mmap_size, PROT_READ, MAP_SHARED, ml_device_fd(a.dev),
			 (off_t)off);
		ck_assert_msg(p == MAP_FAILED, "mmap of a destroyed ring succeeded");
	}
	ml_device_close(a.dev);
}
END_TEST

START_TEST(test_fork_and_exit_with_work)
{
	const size_t n = 1 << 20;
	struct side a, b;
	pid_t pid;
	int st;

	pair_open(&a, &b, n, NULL);
	fill(a.buf, n, 3);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		/* The child shares files and rings, not the library's state:
		 * it may only let go of them. */
		ml_device_close(a.dev);
		ml_device_close(b.dev);
		_exit(0);
	}
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert_int_eq(WEXITSTATUS(st), 0);
	/* The parent writes to its MR pages after the fork (COW): the MRs
	 * must still be these pages, not copies left to the child. */
	memset(b.buf, 0, n);
	fill(a.buf, n, 4);
	post1(&a, 3, ML_WR_WRITE, ML_WR_F_SIGNALED, 0, (uint32_t)n, (uintptr_t)b.buf,
	      b.mr->rkey, 0);
	expect_cqe(&a, 3, ML_WC_WRITE, ML_WC_SUCCESS, -1);
	ck_assert_msg(memcmp(a.buf, b.buf, n) == 0, "RDMA WRITE after fork() "
		      "did not land in the parent's (written-to) MR pages");
	/* exit with a big WRITE in flight */
	post1(&a, 4, ML_WR_WRITE, 0, 0, (uint32_t)n, (uintptr_t)b.buf, b.mr->rkey, 0);
	_exit(0);
}
END_TEST

START_TEST(test_readonly_mr_fresh_pages)
{
	const size_t n = 64 << 10;
	struct side a, b;
	struct ml_mr *ro;
	char *fresh;

	pair_open(&a, &b, n, NULL);
	/* never touched: no pages yet; register for local read only */
	fresh = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ck_assert_ptr_ne(fresh, MAP_FAILED);
	OK(ml_mr_reg(a.pd, fresh, n, 0, &ro));
	memset(fresh, 'R', n);		/* written after registration */
	{
		struct ml_sge g = { (uintptr_t)fresh, (uint32_t)n, ro->lkey };
		struct ml_send_wr wr = { .wr_id = 1, .opcode = ML_WR_WRITE,
					 .flags = ML_WR_F_SIGNALED, .sg_list = &g,
					 .num_sge = 1, .remote_addr = (uintptr_t)b.buf,
					 .rkey = b.mr->rkey };

		OK(ml_post_send(a.qp, &wr));
	}
	expect_cqe(&a, 1, ML_WC_WRITE, ML_WC_SUCCESS, -1);
	ck_assert_msg(b.buf[0] == 'R' && b.buf[n - 1] == 'R' && memcmp(b.buf, fresh, n) == 0,
		      "read-only MR of untouched memory sent 0x%02x, not the 'R's "
		      "written after registration (zero page pinned?)",
		      (unsigned char)b.buf[0]);
	ml_device_close(a.dev);
	ml_device_close(b.dev);
}
END_TEST

START_TEST(test_dereg_busy_mr)
{
	struct side a, b;
	int r;

	pair_open(&a, &b, 1 << 20, NULL);
	/* a SEND that waits for a receive (RNR) keeps its MR referenced */
	post1(&a, 1, ML_WR_SEND, ML_WR_F_SIGNALED, 0, 1 << 20, 0, 0, 0);
	usleep(20000);
	r = ml_mr_dereg(a.mr);
	fprintf(stderr, "dereg of an MR under an outstanding SEND: %d (%s)\n", r,
		r ? ml_last_error() : "allowed");
	if (r == 0)
		memset(a.buf, 0, 1 << 20);	/* still our memory */
	post_recv1(&b, 9, 0, 1 << 20);
	{
		struct ml_cqe wc = next_cqe(&a);

		fprintf(stderr, "  then the SEND completed: %s\n",
			ml_wc_status_str(wc.status));
	}
	ml_device_close(a.dev);
	ml_device_close(b.dev);
}
END_TEST

/* ---- the device goes away under a live QP (last: it removes ML_DEV_D) ---- */

static int enter_netns(const char *name)
{
	char path[64];
	int fd, r;

	snprintf(path, sizeof(path), "/run/netns/%s", name);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	r = setns(fd, CLONE_NEWNET);
	close(fd);
	return r;
}

START_TEST(test_unbind_under_qp)
{
	const char *dc = getenv("ML_DEV_C"), *dd = getenv("ML_DEV_D");
	struct ml_connect_opts o = { .timeout_ms = 20, .retry_cnt = 2 };
	struct side c, d;
	struct ml_ctl *ctl;
	struct ml_cqe wc;
	struct ml_qp_attr qa;
	struct pollfd pfd;
	int n;

	if (!dc || !dd)
		return;
	side_open(&c, dc, 1 << 16);
	side_open(&d, dd, 1 << 16);
	side_qp(&c, NULL);
	side_qp(&d, NULL);
	OK(ml_qp_connect(c.qp, d.node, ml_qp_num(d.qp), &o));
	OK(ml_qp_connect(d.qp, c.node, ml_qp_num(c.qp), &o));
	post_recv1(&d, 1, 0, 64);
	post_recv1(&d, 2, 0, 64);
	post1(&c, 3, ML_WR_SEND, ML_WR_F_SIGNALED, 0, 64, 0, 0, 0);
	expect_cqe(&d, 1, ML_WC_RECV, ML_WC_SUCCESS, 64);

	ck_assert_int_eq(enter_netns("d"), 0);
	OK(ml_ctl_open(&ctl));
	OK(ml_ctl_unbind(ctl, "vd"));	/* its last port: the device goes */
	ml_ctl_close(ctl);

	/* d: the outstanding receive is flushed, the fd reports HUP/ERR */
	wc = next_cqe(&d);
	ck_assert_uint_eq(wc.wr_id, 2);
	ck_assert_uint_eq(wc.status, ML_WC_WR_FLUSH_ERR);
	pfd.fd = ml_device_fd(d.dev);
	pfd.events = POLLIN;
	ck_assert_int_eq(poll(&pfd, 1, 0), 1);
	ck_assert(pfd.revents & (POLLHUP | POLLERR));
	n = ml_qp_query(d.qp, &qa);
	ck_assert_int_eq(n, -ENODEV);
	ck_assert_int_eq(ml_cq_wait(d.dev, 0), -ENODEV);	/* HUP */
	ck_assert_ptr_nonnull(strstr(ml_last_error(), "device gone"));
	/* teardown still works: the library releases its side */
	OK(ml_qp_destroy(d.qp));
	OK(ml_mr_dereg(d.mr));
	OK(ml_cq_destroy(d.cq));
	OK(ml_pd_free(d.pd));

	/* c: its peer is gone; a send fails instead of hanging */
	post1(&c, 4, ML_WR_SEND, ML_WR_F_SIGNALED, 0, 64, 0, 0, 0);
	expect_cqe(&c, 3, ML_WC_SEND, ML_WC_SUCCESS, -1);
	wc = next_cqe(&c);
	ck_assert_uint_eq(wc.wr_id, 4);
	ck_assert_uint_ne(wc.status, ML_WC_SUCCESS);
	ml_device_close(c.dev);
	ml_device_close(d.dev);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("guest-verbs");
	TCase *tc = tcase_create("objects");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_limits);
	tcase_add_test(tc, test_busy_and_order);
	tcase_add_test(tc, test_close_with_objects);
	tcase_add_test(tc, test_mr_errors);
	tcase_add_test(tc, test_memlock);
	tcase_add_test(tc, test_qp_create_errors);
	tcase_add_test(tc, test_connect_errors);
	suite_add_tcase(s, tc);

	tc = tcase_create("ops");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_send_recv_sge);
	tcase_add_test(tc, test_send_imm_inline);
	tcase_add_test(tc, test_write_read);
	tcase_add_test(tc, test_batch_and_full);
	tcase_add_test(tc, test_many_messages);
	suite_add_tcase(s, tc);

	tc = tcase_create("errors");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_remote_access_error);
	tcase_add_test(tc, test_write_out_of_range);
	tcase_add_test(tc, test_local_length_error);
	tcase_add_test(tc, test_bad_lkey);
	tcase_add_test(tc, test_rnr);
	tcase_add_test(tc, test_rnr_recovers);
	tcase_add_test(tc, test_peer_gone);
	suite_add_tcase(s, tc);

	tc = tcase_create("notify");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_arm_wait_epoll);
	suite_add_tcase(s, tc);

	tc = tcase_create("abuse");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_bad_wqes);
	tcase_add_test(tc, test_garbage_indices);
	tcase_add_test(tc, test_cq_overflow);
	tcase_add_test(tc, test_qpn_reuse);
	tcase_add_test(tc, test_mmap_abuse);
	tcase_add_test_raise_signal(tc, test_fork_and_exit_with_work, 0);
	tcase_add_test(tc, test_dereg_busy_mr);
	tcase_add_test(tc, test_readonly_mr_fresh_pages);
	suite_add_tcase(s, tc);

	tc = tcase_create("teardown");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_unbind_under_qp);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr;
	int failed;

	dev_a = getenv("ML_DEV_A") ? getenv("ML_DEV_A") : "ml0";
	dev_b = getenv("ML_DEV_B") ? getenv("ML_DEV_B") : "ml1";
	sr = srunner_create(suite());
	srunner_run_all(sr, CK_VERBOSE);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
