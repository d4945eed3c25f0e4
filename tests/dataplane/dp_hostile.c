// SPDX-License-Identifier: MIT
/*
 * dp_hostile: hostile processes next to a healthy transfer.
 *
 * Two hostile processes (one per node, file descriptors opened as root,
 * then running as nobody with a 1 MiB RLIMIT_MEMLOCK) loop over:
 *  - every ML_IOCTL_* with malformed arguments through raw ioctl(): sizes
 *    0 / 7 / short, a huge size with a non-zero tail, a size reaching into
 *    an unmapped page, NULL and unmapped pointers, unknown flags, non-zero
 *    reserved fields, bad and wrong-type handles, unknown commands, and
 *    random bytes;
 *  - garbage in their mapped rings: random SQ and RQ descriptors
 *    published, SQ producer far ahead, consumer/mask/flags/armed garbage,
 *    CQ indices garbage, while traffic runs through those QPs;
 *  - mmap() with bad offsets and lengths, MAP_PRIVATE, mremap() growth,
 *    partial munmap, fork() children scribbling on shared rings, rings
 *    used after their object is destroyed;
 * while a healthy pair of processes on the same two devices moves data
 * that must arrive byte-exact.  One hostile process exits, the other is
 * killed with SIGKILL; then every object count is 0.  The kernel must stay
 * up (the harness fails the run on any splat).
 *
 * test_huge_mr_unprivileged: REG_MR of 1 TiB by a process whose
 * RLIMIT_MEMLOCK is 64 KiB must fail cleanly (no huge allocation, no
 * warning) - run last.
 *
 * DP_SEED=N reproduces a run (the seed is printed).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "dp_main.h"

#define MiB (1ULL << 20)

static uint64_t rs = 88172645463325252ULL;

static uint64_t rnd(void)
{
	rs ^= rs << 13;
	rs ^= rs >> 7;
	rs ^= rs << 17;
	return rs;
}

static void rnd_bytes(void *p, size_t n)
{
	uint8_t *b = p;

	while (n >= 8) {
		uint64_t v = rnd();

		memcpy(b, &v, 8);
		b += 8;
		n -= 8;
	}
	while (n--)
		*b++ = (uint8_t)rnd();
}

static int xioctl(int fd, unsigned long cmd, void *arg)
{
	int r = ioctl(fd, cmd, arg);

	return r < 0 ? -errno : r;
}

static const struct {
	unsigned long cmd;
	uint32_t size;
	const char *name;
} cmds[] = {
	{ ML_IOCTL_QUERY_DEVICE, sizeof(struct ml_query_device), "QUERY_DEVICE" },
	{ ML_IOCTL_QUERY_LIMITS, sizeof(struct ml_query_limits), "QUERY_LIMITS" },
	{ ML_IOCTL_ALLOC_PD, sizeof(struct ml_alloc_pd), "ALLOC_PD" },
	{ ML_IOCTL_DESTROY, sizeof(struct ml_destroy), "DESTROY" },
	{ ML_IOCTL_REG_MR, sizeof(struct ml_reg_mr), "REG_MR" },
	{ ML_IOCTL_CREATE_CQ, sizeof(struct ml_create_cq), "CREATE_CQ" },
	{ ML_IOCTL_CREATE_QP, sizeof(struct ml_create_qp), "CREATE_QP" },
	{ ML_IOCTL_CONNECT_QP, sizeof(struct ml_connect_qp), "CONNECT_QP" },
	{ ML_IOCTL_QUERY_QP, sizeof(struct ml_query_qp), "QUERY_QP" },
	{ ML_IOCTL_NOTIFY, sizeof(struct ml_notify), "NOTIFY" },
};
#define NCMDS ((int)(sizeof(cmds) / sizeof(cmds[0])))

struct hctx {
	struct dp_node *n;
	struct ml_device *dev[2];
	uint8_t *guard;		/* a readable page followed by a PROT_NONE page */
	uint8_t *buf;		/* 1 MiB, registered per round */
	uint64_t calls;
};

/* ---- ioctls ---- */

static void ioctl_contract(struct hctx *h, int fd)
{
	static uint8_t big[8192] __attribute__((aligned(64)));
	int i, r;

	for (i = 0; i < NCMDS; i++) {
		uint32_t *u = (uint32_t *)big;
		uint8_t *end;

		memset(big, 0, sizeof(big));
		u[0] = 0;
		r = xioctl(fd, cmds[i].cmd, big);
		C_CHECK(r == -EINVAL, "%s size 0: %d, want -EINVAL", cmds[i].name, r);
		u[0] = 7;
		r = xioctl(fd, cmds[i].cmd, big);
		C_CHECK(r == -EINVAL, "%s size 7: %d, want -EINVAL", cmds[i].name, r);
		u[0] = cmds[i].size + 64;
		big[cmds[i].size + 63] = 1;
		r = xioctl(fd, cmds[i].cmd, big);
		C_CHECK(r == -E2BIG, "%s size %u with a non-zero tail: %d, want -E2BIG",
			cmds[i].name, u[0], r);
		big[cmds[i].size + 63] = 0;
		u[0] = cmds[i].size;
		u[1] = 0x80000000u;
		r = xioctl(fd, cmds[i].cmd, big);
		C_CHECK(r == -EINVAL, "%s flags 0x80000000: %d, want -EINVAL", cmds[i].name, r);
		u[1] = 1u << (rnd() % 32);
		r = xioctl(fd, cmds[i].cmd, big);
		C_CHECK(r == -EINVAL, "%s flags 0x%x: %d, want -EINVAL", cmds[i].name, u[1], r);
		r = xioctl(fd, cmds[i].cmd, NULL);
		C_CHECK(r == -EFAULT, "%s NULL: %d, want -EFAULT", cmds[i].name, r);
		r = xioctl(fd, cmds[i].cmd, h->guard + 4096);
		C_CHECK(r == -EFAULT, "%s unmapped pointer: %d, want -EFAULT", cmds[i].name, r);
		r = xioctl(fd, cmds[i].cmd, (void *)0xffff888000000000ULL);
		C_CHECK(r == -EFAULT, "%s kernel pointer: %d, want -EFAULT", cmds[i].name, r);
		/* the struct ends at the page end; its size reaches into PROT_NONE */
		end = h->guard + 4096 - cmds[i].size;
		memset(end, 0, cmds[i].size);
		memcpy(end, &(uint32_t){ cmds[i].size + 4096 }, 4);
		r = xioctl(fd, cmds[i].cmd, end);
		C_CHECK(r == -EFAULT, "%s size reaching an unmapped page: %d, want -EFAULT",
			cmds[i].name, r);
		memcpy(end, &(uint32_t){ 0xffffffffu }, 4);
		r = xioctl(fd, cmds[i].cmd, end);
		C_CHECK(r < 0, "%s size 0xffffffff: succeeded", cmds[i].name);
		/* a struct that is only 4 bytes long before the unmapped page */
		end = h->guard + 4096 - 4;
		memcpy(end, &cmds[i].size, 4);
		r = xioctl(fd, cmds[i].cmd, end);
		C_CHECK(r == -EFAULT, "%s 4 bytes before an unmapped page: %d, want -EFAULT",
			cmds[i].name, r);
		h->calls += 11;
	}
	/* unknown commands, and known numbers with other direction/size bits */
	{
		static const unsigned long bad[] = {
			_IO(ML_IOCTL_TYPE, ML_IOCTL_BASE - 1), _IO(ML_IOCTL_TYPE, ML_IOCTL_BASE + 10),
			_IO(ML_IOCTL_TYPE, 0xff), _IO(ML_IOCTL_TYPE, 0), _IO('x', ML_IOCTL_BASE),
			_IOWR(ML_IOCTL_TYPE, ML_IOCTL_CMD_QUERY_DEVICE, struct ml_query_device),
			_IOR(ML_IOCTL_TYPE, ML_IOCTL_CMD_ALLOC_PD, struct ml_alloc_pd),
			_IOW(ML_IOCTL_TYPE, ML_IOCTL_CMD_DESTROY, struct ml_destroy),
		};

		for (i = 0; i < (int)(sizeof(bad) / sizeof(bad[0])); i++) {
			memset(big, 0, 256);
			((uint32_t *)big)[0] = 256;
			r = xioctl(fd, bad[i], big);
			C_CHECK(r == -ENOTTY, "unknown ioctl 0x%lx: %d, want -ENOTTY", bad[i], r);
		}
	}
	/* reserved fields */
	{
		struct ml_alloc_pd pd = { .size = sizeof(pd), .reserved = 1 };
		struct ml_notify no = { .size = sizeof(no), .qp = 1, .reserved = 5 };
		struct ml_reg_mr mr = { .size = sizeof(mr), .pd = 1, .access = 1,
					.addr = (uintptr_t)h->buf, .length = 4096, .reserved = 1 };
		struct ml_connect_qp cq = { .size = sizeof(cq), .qp = 1, .remote_node = 1,
					    .remote_qpn = 1, .reserved0 = 1 };

		r = xioctl(fd, ML_IOCTL_ALLOC_PD, &pd);
		C_CHECK(r == -EINVAL, "ALLOC_PD reserved 1: %d, want -EINVAL", r);
		r = xioctl(fd, ML_IOCTL_NOTIFY, &no);
		C_CHECK(r == -EINVAL, "NOTIFY reserved 5: %d, want -EINVAL", r);
		r = xioctl(fd, ML_IOCTL_REG_MR, &mr);
		C_CHECK(r == -EINVAL, "REG_MR reserved 1: %d, want -EINVAL", r);
		r = xioctl(fd, ML_IOCTL_CONNECT_QP, &cq);
		C_CHECK(r == -EINVAL || r == -ENOENT, "CONNECT_QP reserved0 1: %d", r);
	}
}

/* Bad handles and bad values on real objects. */
static void ioctl_handles(struct hctx *h, int fd)
{
	struct ml_alloc_pd pd = { .size = sizeof(pd) };
	struct ml_create_cq cq = { .size = sizeof(cq), .entries = 8 };
	struct ml_reg_mr mr;
	struct ml_create_qp qp;
	struct ml_connect_qp con;
	struct ml_destroy d;
	struct ml_query_qp q;
	struct ml_notify no;
	int r, i;
	static const uint32_t badh[] = { 0, 0xffffffffu, 0x7fffffffu, 12345 };

	C_CHECK(xioctl(fd, ML_IOCTL_ALLOC_PD, &pd) == 0, "ALLOC_PD");
	C_CHECK(xioctl(fd, ML_IOCTL_CREATE_CQ, &cq) == 0, "CREATE_CQ");
	for (i = 0; i < 4; i++) {
		q = (struct ml_query_qp){ .size = sizeof(q), .qp = badh[i] };
		C_CHECK(xioctl(fd, ML_IOCTL_QUERY_QP, &q) < 0, "QUERY_QP handle %u", badh[i]);
		no = (struct ml_notify){ .size = sizeof(no), .qp = badh[i] };
		C_CHECK(xioctl(fd, ML_IOCTL_NOTIFY, &no) < 0, "NOTIFY handle %u", badh[i]);
		d = (struct ml_destroy){ .size = sizeof(d), .type = ML_OBJ_QP, .handle = badh[i] };
		C_CHECK(xioctl(fd, ML_IOCTL_DESTROY, &d) < 0, "DESTROY QP %u", badh[i]);
		con = (struct ml_connect_qp){ .size = sizeof(con), .qp = badh[i],
					      .remote_node = 0xb, .remote_qpn = 1 };
		C_CHECK(xioctl(fd, ML_IOCTL_CONNECT_QP, &con) < 0, "CONNECT_QP %u", badh[i]);
	}
	/* wrong types: the CQ's handle as a QP / PD, the PD's as a CQ */
	q = (struct ml_query_qp){ .size = sizeof(q), .qp = cq.out_handle };
	C_CHECK(xioctl(fd, ML_IOCTL_QUERY_QP, &q) < 0, "QUERY_QP with a CQ handle succeeded");
	no = (struct ml_notify){ .size = sizeof(no), .qp = pd.out_pd };
	C_CHECK(xioctl(fd, ML_IOCTL_NOTIFY, &no) < 0, "NOTIFY with a PD handle succeeded");
	d = (struct ml_destroy){ .size = sizeof(d), .type = ML_OBJ_MR, .handle = cq.out_handle };
	C_CHECK(xioctl(fd, ML_IOCTL_DESTROY, &d) < 0, "DESTROY MR with a CQ handle succeeded");
	for (i = 0; i < 3; i++) {
		static const uint32_t types[] = { 0, 5, 0xffffffffu };

		d = (struct ml_destroy){ .size = sizeof(d), .type = types[i], .handle = pd.out_pd };
		C_CHECK(xioctl(fd, ML_IOCTL_DESTROY, &d) < 0, "DESTROY type %u succeeded", types[i]);
	}
	/* MR registration values */
	{
		static const struct { uint64_t off, len; uint32_t access; } m[] = {
			{ 0, 0, 1 }, { 0, 4096, 0x80 }, { 0, 4096, 0xffffffffu },
			{ 0, 1ULL << 41, 1 }, { 0, ~0ULL, 1 }, { ~0ULL - 100, 4096, 1 },
		};

		for (i = 0; i < (int)(sizeof(m) / sizeof(m[0])); i++) {
			mr = (struct ml_reg_mr){ .size = sizeof(mr), .pd = pd.out_pd,
						 .access = m[i].access,
						 .addr = m[i].off == 0 ? (uintptr_t)h->buf : m[i].off,
						 .length = m[i].len };
			r = xioctl(fd, ML_IOCTL_REG_MR, &mr);
			C_CHECK(r < 0, "REG_MR case %d (len 0x%llx access 0x%x) succeeded", i,
				(unsigned long long)m[i].len, m[i].access);
		}
		mr = (struct ml_reg_mr){ .size = sizeof(mr), .pd = 0xdead, .access = 1,
					 .addr = (uintptr_t)h->buf, .length = 4096 };
		C_CHECK(xioctl(fd, ML_IOCTL_REG_MR, &mr) < 0, "REG_MR with a bad PD");
		mr.pd = cq.out_handle;
		r = xioctl(fd, ML_IOCTL_REG_MR, &mr);
		C_CHECK(r < 0 || cq.out_handle == pd.out_pd, "REG_MR with a CQ handle as PD");
		/* kernel address */
		mr = (struct ml_reg_mr){ .size = sizeof(mr), .pd = pd.out_pd, .access = 1,
					 .addr = 0xffff888000000000ULL, .length = 4096 };
		C_CHECK(xioctl(fd, ML_IOCTL_REG_MR, &mr) < 0, "REG_MR of a kernel address");
		/* the PROT_NONE page */
		mr.addr = (uintptr_t)h->guard + 4096;
		C_CHECK(xioctl(fd, ML_IOCTL_REG_MR, &mr) < 0, "REG_MR of a PROT_NONE page");
	}
	/* QP creation values */
	{
		static const struct { uint32_t sq, rq, ss, rs_, inl; } c[] = {
			{ 0x80000000u, 8, 1, 1, 0 }, { 8, 0xffffffffu, 1, 1, 0 },
			{ 8, 8, 5, 1, 0 }, { 8, 8, 1, 100, 0 }, { 8, 8, 1, 1, 65 },
			{ 8, 8, 0xffffffffu, 1, 0xffffffffu },
		};

		for (i = 0; i < (int)(sizeof(c) / sizeof(c[0])); i++) {
			qp = (struct ml_create_qp){ .size = sizeof(qp), .pd = pd.out_pd,
						    .send_cq = cq.out_handle,
						    .recv_cq = cq.out_handle, .sq_entries = c[i].sq,
						    .rq_entries = c[i].rq, .max_send_sge = c[i].ss,
						    .max_recv_sge = c[i].rs_, .max_inline = c[i].inl };
			r = xioctl(fd, ML_IOCTL_CREATE_QP, &qp);
			if (i >= 2)
				C_CHECK(r < 0, "CREATE_QP case %d succeeded", i);
		}
		qp = (struct ml_create_qp){ .size = sizeof(qp), .pd = cq.out_handle + 1000,
					    .send_cq = pd.out_pd + 1000, .recv_cq = 0,
					    .sq_entries = 8, .rq_entries = 8, .max_send_sge = 1,
					    .max_recv_sge = 1 };
		C_CHECK(xioctl(fd, ML_IOCTL_CREATE_QP, &qp) < 0, "CREATE_QP with bad handles");
		/* a real QP: bad connect values */
		qp = (struct ml_create_qp){ .size = sizeof(qp), .pd = pd.out_pd,
					    .send_cq = cq.out_handle, .recv_cq = cq.out_handle,
					    .sq_entries = 8, .rq_entries = 8, .max_send_sge = 1,
					    .max_recv_sge = 1 };
		C_CHECK(xioctl(fd, ML_IOCTL_CREATE_QP, &qp) == 0, "CREATE_QP");
		static const struct { uint32_t node; uint8_t retry, rnr; uint32_t tmo; } k[] = {
			{ 0, 1, 1, 0 }, { 0xffffffffu, 1, 1, 0 }, { 0xb, 16, 1, 0 },
			{ 0xb, 1, 255, 0 }, { 0x777777, 1, 1, 0 },
		};

		for (i = 0; i < (int)(sizeof(k) / sizeof(k[0])); i++) {
			con = (struct ml_connect_qp){ .size = sizeof(con), .qp = qp.out_handle,
						      .remote_node = k[i].node, .remote_qpn = 1,
						      .retry_cnt = k[i].retry, .rnr_retry = k[i].rnr,
						      .timeout_ms = k[i].tmo };
			r = xioctl(fd, ML_IOCTL_CONNECT_QP, &con);
			C_CHECK(r < 0, "CONNECT_QP case %d succeeded", i);
		}
		/* a doorbell on a QP that is not connected */
		no = (struct ml_notify){ .size = sizeof(no), .qp = qp.out_handle };
		(void)xioctl(fd, ML_IOCTL_NOTIFY, &no);
		/* destroy the CQ under the QP: busy */
		d = (struct ml_destroy){ .size = sizeof(d), .type = ML_OBJ_CQ, .handle = cq.out_handle };
		C_CHECK(xioctl(fd, ML_IOCTL_DESTROY, &d) < 0, "DESTROY of a CQ in use succeeded");
		d = (struct ml_destroy){ .size = sizeof(d), .type = ML_OBJ_QP, .handle = qp.out_handle };
		C_CHECK(xioctl(fd, ML_IOCTL_DESTROY, &d) == 0, "DESTROY QP");
		C_CHECK(xioctl(fd, ML_IOCTL_DESTROY, &d) < 0, "second DESTROY of a QP succeeded");
		q = (struct ml_query_qp){ .size = sizeof(q), .qp = qp.out_handle };
		C_CHECK(xioctl(fd, ML_IOCTL_QUERY_QP, &q) < 0, "QUERY_QP of a destroyed QP");
	}
	h->calls += 60;
}

static void ioctl_random(struct hctx *h, int fd, int iters)
{
	static uint8_t b[512] __attribute__((aligned(64)));

	for (int i = 0; i < iters; i++) {
		int c = (int)(rnd() % (NCMDS + 1));
		unsigned long cmd = c < NCMDS ? cmds[c].cmd :
				    _IO(ML_IOCTL_TYPE, ML_IOCTL_BASE + rnd() % 16);
		uint32_t size;

		rnd_bytes(b, sizeof(b));
		switch (rnd() % 6) {
		case 0: size = (uint32_t)rnd(); break;
		case 1: size = 8; break;
		case 2: size = c < NCMDS ? cmds[c].size : 64; break;
		case 3: size = c < NCMDS ? cmds[c].size - 1 : 0; break;
		case 4: size = sizeof(b); memset(b + 256, 0, 256); break;
		default: size = c < NCMDS ? cmds[c].size : 8; memset(b + 4, 0, 4); break;
		}
		memcpy(b, &size, 4);
		if (cmd == ML_IOCTL_REG_MR) {
			/* keep lengths small: the huge case is its own test */
			struct ml_reg_mr *m = (struct ml_reg_mr *)b;

			m->length &= 0xfffff;
			if (rnd() & 1)
				m->addr = (uintptr_t)h->buf + (rnd() % MiB);
		}
		if (cmd == ML_IOCTL_CREATE_QP || cmd == ML_IOCTL_CREATE_CQ) {
			/* keep rings small enough not to eat the guest's memory */
			uint32_t *w = (uint32_t *)b;

			w[5] &= 0xfff;
			w[4] &= 0xfff;
			w[2] &= 0xfff;
		}
		(void)xioctl(fd, cmd, b);
		h->calls++;
	}
}

/* ---- rings ---- */

static void ring_abuse(struct hctx *h)
{
	struct ml_pd *pd[2];
	struct ml_cq *cq[2];
	struct ml_qp *qp[2][2];
	struct ml_mr *mr[2];
	struct ml_device_info info[2];
	int s, i, r;

	for (s = 0; s < 2; s++) {
		C_OK(ml_device_query(h->dev[s], &info[s]));
		C_OK(ml_pd_alloc(h->dev[s], &pd[s]));
		C_OK(ml_cq_create(h->dev[s], 64, &cq[s]));
		C_OK(ml_mr_reg(pd[s], h->buf + s * 512 * 1024, 256 * 1024, ML_ACCESS_ALL, &mr[s]));
		for (i = 0; i < 2; i++) {
			struct ml_qp_init init = { .send_cq = cq[s], .sq_entries = 16,
						   .rq_entries = 16, .max_send_sge = 4,
						   .max_recv_sge = 4 };

			C_OK(ml_qp_create(pd[s], &init, &qp[s][i]));
		}
	}
	/* QP i of dev 0 <-> QP i of dev 1 */
	for (s = 0; s < 2; s++)
		for (i = 0; i < 2; i++) {
			struct ml_connect_opts o = { .timeout_ms = 20, .retry_cnt = 2,
						     .rnr_retry = 2, .rnr_timer_ms = 5 };

			r = ml_qp_connect(qp[s][i], info[!s].node_id, ml_qp_num(qp[!s][i]), &o);
			C_CHECK(r == 0, "connect: %s", ml_last_error());
		}

	/* 1. QP 0 of dev 0: garbage descriptors, published */
	{
		struct ml_qp *q = qp[0][0];

		rnd_bytes(q->sq.entries, (size_t)q->sq.size * sizeof(struct ml_send_wqe));
		for (i = 0; i < (int)q->sq.size; i += 3) {
			struct ml_send_wqe *w = (struct ml_send_wqe *)q->sq.entries + i;

			/* some nearly valid: real keys, random lengths and addresses */
			w->opcode = (uint8_t)(1 + rnd() % 5);
			w->num_sge = (uint8_t)(rnd() % 5);
			for (int k = 0; k < 4; k++) {
				w->sge[k].lkey = mr[0]->lkey;
				w->sge[k].addr = (uintptr_t)h->buf + rnd() % (600 * 1024) - 4096;
				w->sge[k].length = (uint32_t)(rnd() % 70000);
			}
			w->rkey = mr[1]->rkey;
			w->remote_addr = (uintptr_t)h->buf + 512 * 1024 + rnd() % (300 * 1024);
		}
		__atomic_store_n(&q->sq.hdr->producer, q->sq.size, __ATOMIC_RELEASE);
		(void)ml_qp_notify(q);
		usleep(20000);
		__atomic_store_n(&q->sq.hdr->producer, (uint32_t)rnd(), __ATOMIC_RELEASE);
		__atomic_store_n(&q->sq.hdr->consumer, (uint32_t)rnd(), __ATOMIC_RELEASE);
		q->sq.hdr->mask = (uint32_t)rnd();
		q->sq.hdr->entry_size = (uint32_t)rnd();
		q->sq.hdr->flags = (uint32_t)rnd();
		(void)ml_qp_notify(q);
		(void)ml_qp_notify(q);
	}
	/* 2. QP 1 of dev 1: garbage receive descriptors; QP 1 of dev 0 sends */
	{
		struct ml_qp *q = qp[1][1];

		rnd_bytes(q->rq.entries, (size_t)q->rq.size * sizeof(struct ml_recv_wqe));
		for (i = 0; i < (int)q->rq.size; i += 2) {
			struct ml_recv_wqe *w = (struct ml_recv_wqe *)q->rq.entries + i;

			w->num_sge = (uint32_t)(rnd() % 6);
			for (int k = 0; k < 4; k++) {
				w->sge[k].lkey = rnd() & 1 ? mr[1]->lkey : (uint32_t)rnd();
				w->sge[k].addr = (uintptr_t)h->buf + 512 * 1024 + rnd() % (300 * 1024);
				w->sge[k].length = (uint32_t)(rnd() & 1 ? rnd() % 9000 : rnd());
			}
		}
		__atomic_store_n(&q->rq.hdr->producer,
				 __atomic_load_n(&q->rq.hdr->consumer, __ATOMIC_ACQUIRE) + q->rq.size,
				 __ATOMIC_RELEASE);
		for (i = 0; i < 8; i++) {
			struct ml_sge g = { (uintptr_t)h->buf + i * 8192, 4000 + (uint32_t)i * 700,
					    mr[0]->lkey };
			struct ml_send_wr wr = { .wr_id = (uint64_t)i, .opcode = ML_WR_SEND,
						 .flags = ML_WR_F_SIGNALED, .sg_list = &g,
						 .num_sge = 1 };

			if (ml_post_send(qp[0][1], &wr))
				break;
		}
		usleep(50000);
		__atomic_store_n(&q->rq.hdr->producer, (uint32_t)rnd(), __ATOMIC_RELEASE);
		q->rq.hdr->mask = (uint32_t)rnd();
		for (i = 0; i < 4; i++) {
			struct ml_sge g = { (uintptr_t)h->buf, 100, mr[0]->lkey };
			struct ml_send_wr wr = { .wr_id = 100 + (uint64_t)i, .opcode = ML_WR_SEND,
						 .sg_list = &g, .num_sge = 1 };

			if (ml_post_send(qp[0][1], &wr))
				break;
		}
	}
	/* 3. CQ indices garbage while completions arrive */
	{
		/* the kernel ABI view of the ring the library maps */
		struct ml_ring_hdr *c = (struct ml_ring_hdr *)cq[0]->ring.hdr;

		__atomic_store_n(&c->consumer, (uint32_t)rnd(), __ATOMIC_RELEASE);
		__atomic_store_n(&c->producer, (uint32_t)rnd(), __ATOMIC_RELEASE);
		c->mask = (uint32_t)rnd();
		c->armed = (uint32_t)rnd();
		c->flags = (uint32_t)rnd();
		(void)ml_cq_wait(h->dev[0], 10);
		rnd_bytes(cq[1]->ring.entries, (size_t)cq[1]->ring.size * sizeof(struct ml_cqe));
	}
	usleep(30000);
	/* 4. the library may refuse to destroy some of it: whatever is left
	 * goes with the file */
	for (s = 0; s < 2; s++)
		for (i = 0; i < 2; i++)
			(void)ml_qp_destroy(qp[s][i]);
	h->calls += 40;
}

/* ---- mmap ---- */

static void mmap_abuse(struct hctx *h, int fd)
{
	struct ml_create_cq c = { .size = sizeof(c), .entries = 16 };
	struct ml_destroy d = { .size = sizeof(d), .type = ML_OBJ_CQ };
	uint64_t off, len;
	void *p;
	int i;

	C_CHECK(xioctl(fd, ML_IOCTL_CREATE_CQ, &c) == 0, "CREATE_CQ");
	off = c.out_mmap_offset;
	len = c.out_mmap_size;
	d.handle = c.out_handle;
	p = mmap(NULL, len + 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, (off_t)off);
	C_CHECK(p == MAP_FAILED, "mmap of a ring + 1 page succeeded");
	p = mmap(NULL, len - 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, (off_t)off);
	C_CHECK(p == MAP_FAILED, "mmap of a ring - 1 page succeeded");
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, (off_t)off);
	C_CHECK(p == MAP_FAILED, "MAP_PRIVATE of a ring succeeded");
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, (off_t)(off + 4096));
	C_CHECK(p == MAP_FAILED, "mmap at a ring offset + 1 page succeeded");
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, (off_t)(off + 1));
	C_CHECK(p == MAP_FAILED, "mmap at an unaligned offset succeeded");
	for (i = 0; i < 16; i++) {
		uint64_t o = (rnd() % (1ULL << 30)) * 4096;

		if (o == off)
			continue;
		p = mmap(NULL, 4096 * (1 + rnd() % 8), PROT_READ, MAP_SHARED, fd, (off_t)o);
		if (p != MAP_FAILED) {
			/* only a real ring offset of ours may work */
			munmap(p, 4096);
		}
	}
	p = mmap(NULL, 1ULL << 40, PROT_READ, MAP_SHARED | MAP_NORESERVE, fd, (off_t)off);
	C_CHECK(p == MAP_FAILED, "mmap of 1 TiB at a ring offset succeeded");
	p = mmap(NULL, len, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_SHARED, fd, (off_t)off);
	if (p != MAP_FAILED)
		munmap(p, len);
	/* a good mapping: grow, shrink, fork, destroy under it */
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, (off_t)off);
	C_CHECK(p != MAP_FAILED, "mmap of a ring: %s", strerror(errno));
	{
		void *q = mremap(p, len, len + 4096, MREMAP_MAYMOVE);

		C_CHECK(q == MAP_FAILED, "mremap grew a ring mapping");
	}
	(void)mprotect(p, 4096, PROT_READ);
	(void)mprotect(p, 4096, PROT_READ | PROT_WRITE);
	{
		pid_t pid = fork();

		if (pid == 0) {
			rnd_bytes(p, len);
			_exit(0);
		}
		if (pid > 0)
			waitpid(pid, NULL, 0);
	}
	C_CHECK(xioctl(fd, ML_IOCTL_DESTROY, &d) == 0, "DESTROY CQ");
	rnd_bytes(p, len);		/* still our pages */
	if (len > 8192)
		munmap((uint8_t *)p + 4096, 4096);	/* a hole in the middle */
	munmap(p, len);
	p = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, (off_t)off);
	C_CHECK(p == MAP_FAILED, "mmap of a destroyed ring succeeded");
	h->calls += 30;
}

/* One round in a fresh process: open as root, drop to nobody, abuse, exit
 * (or die by SIGKILL half way) with every object left to the release. */
static void hostile_round(struct hctx *h, int round)
{
	struct rlimit rl = { MiB, MiB };
	struct dp_node *n = h->n;
	int s, die = (int)(rnd() % 3) == 0;

	alarm(60);
	C_OK(ml_device_open(dp_env.dev[0], &h->dev[0]));
	C_OK(ml_device_open(dp_env.dev[1], &h->dev[1]));
	C_CHECK(setrlimit(RLIMIT_MEMLOCK, &rl) == 0, "setrlimit");
	if (geteuid() == 0)
		C_CHECK(setgid(65534) == 0 && setuid(65534) == 0, "setuid nobody");
	for (s = 0; s < 2; s++) {
		int fd = ml_device_fd(h->dev[s]);

		ioctl_contract(h, fd);
		ioctl_handles(h, fd);
		ioctl_random(h, fd, 300);
		mmap_abuse(h, fd);
	}
	ring_abuse(h);
	dp_sh_mem->v[n->slot][1] += h->calls;
	if (die && round > 0) {
		dp_sh_mem->v[n->slot][2]++;
		raise(SIGKILL);
	}
	_exit(0);	/* the files close with the process */
}

static void hostile_node(struct dp_node *n, void *arg)
{
	struct hctx h = { .n = n };
	uint64_t seed = *(const uint64_t *)arg + (uint64_t)n->slot;
	double t0 = dp_now(), deadline = t0 + 150;
	int rounds = 0;

	rs = seed ? seed : 1;
	h.guard = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	C_CHECK(h.guard != MAP_FAILED, "mmap");
	C_CHECK(mprotect(h.guard + 4096, 4096, PROT_NONE) == 0, "mprotect");
	h.buf = mmap(NULL, MiB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	C_CHECK(h.buf != MAP_FAILED, "mmap");
	memset(h.buf, 0x11, MiB);
	dp_log(n, "hostile, seed %llu; every round as uid 65534 in its own process",
	       (unsigned long long)seed);
	for (;;) {
		uint64_t kills = dp_sh_mem->v[n->slot][2];
		pid_t pid;
		int st;
		char c;

		rnd();
		fflush(NULL);
		pid = fork();
		C_CHECK(pid >= 0, "fork");
		if (pid == 0) {
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			hostile_round(&h, rounds);
		}
		C_CHECK(waitpid(pid, &st, 0) == pid, "waitpid");
		C_CHECK((WIFEXITED(st) && WEXITSTATUS(st) == 0) ||
			(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL &&
			 dp_sh_mem->v[n->slot][2] == kills + 1),
			"round %d: the hostile worker died: %s %d (%s)", rounds,
			WIFEXITED(st) ? "exit" : "signal",
			WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st),
			dp_sh_mem->msg[n->slot][0] ? dp_sh_mem->msg[n->slot] : "no message");
		rnd_bytes(&c, 1);
		rs += (uint64_t)rounds * 7919;
		rounds++;
		dp_sh_mem->progress[n->slot] = (uint64_t)rounds;
		if ((recv(n->parent, &c, 1, MSG_DONTWAIT) == 1 && rounds >= 2) ||
		    dp_now() > deadline)
			break;
	}
	dp_log(n, "%d rounds (%llu killed half way), %llu abusive calls in %.1f s", rounds,
	       (unsigned long long)dp_sh_mem->v[n->slot][2],
	       (unsigned long long)dp_sh_mem->v[n->slot][1], dp_now() - t0);
}

/* The healthy pair: three rounds of every operation, byte-exact. */
static void healthy_node(struct dp_node *n, void *arg)
{
	struct dp_setup s = { .buflen = 24 * MiB, .nqp = 2 };
	struct dp_x x[12];
	double t0;
	int k, round;

	(void)arg;
	dp_node_setup(n, &s);
	t0 = dp_now();
	/* at least 8 rounds and 8 s next to the hostile processes; A decides */
	for (round = 0; round < 60; round++) {
		if (n->side == DP_A) {
			char c = round >= 8 && dp_now() - t0 > 8 ? 's' : 'c';

			dp_send_byte(n->peer, c);
			if (c == 's')
				break;
		} else if (dp_recv_byte(n->peer, 60000) == 's') {
			break;
		}
		memset(x, 0, sizeof(x));
		for (k = 0; k < 10; k++) {
			x[k].op = 1 + k % 5;
			x[k].qp = k / 5;
			x[k].size = 100000 + 7919 * (uint64_t)k + (uint64_t)round;
			x[k].nsge_a = x[k].op == ML_WR_READ ? 1 : 1 + k % 4;
			x[k].nsge_b = 1 + (k + round) % 4;
			x[k].seed = (uint32_t)(9000 + round * 16 + k);
			x[k].imm = 0x40000000u | (uint32_t)k;
		}
		x[10] = (struct dp_x){ .op = ML_WR_WRITE, .qp = 0, .size = 8 * MiB + 1,
				       .nsge_a = 4, .seed = (uint32_t)(9100 + round) };
		x[11] = (struct dp_x){ .op = ML_WR_SEND, .qp = 1, .size = 4 * MiB + 3,
				       .nsge_a = 3, .nsge_b = 2, .seed = (uint32_t)(9200 + round) };
		dp_x_place(x, 12, DP_GUARD + 1 + (uint64_t)(round % 8), DP_GUARD + 2);
		dp_x_run(n, x, 12, 120000);
	}
	if (n->side == DP_A)
		dp_log(n, "healthy pair: %d rounds of 12 transfers (%.1f s), byte-exact", round,
		       dp_now() - t0);
}

START_TEST(test_hostile_next_to_healthy)
{
	const char *e = getenv("DP_SEED");
	uint64_t seed = e && *e ? strtoull(e, NULL, 0) : (uint64_t)time(NULL);
	struct dp_run r;
	int bad;

	fprintf(stderr, "  hostile seed %llu (DP_SEED=%llu reproduces)\n",
		(unsigned long long)seed, (unsigned long long)seed);
	dp_run_init(&r);
	dp_spawn(&r, 0, DP_A, healthy_node, NULL, 200);
	dp_spawn(&r, 1, DP_B, healthy_node, NULL, 200);
	dp_spawn(&r, 2, DP_A, hostile_node, &seed, 200);
	dp_spawn(&r, 3, DP_B, hostile_node, &seed, 200);
	bad = dp_wait_one(&r, 0, 200);
	bad += dp_wait_one(&r, 1, 10);
	/* H1 stops by itself, H2 is killed in the middle of whatever it does */
	if (!r.done[2])
		(void)write(r.parent_fd[2], "S", 1);
	dp_kill(&r, 3);
	dp_wait(&r, 60);
	fprintf(stderr, "  hostile rounds: %llu and %llu\n", (unsigned long long)r.sh->progress[2],
		(unsigned long long)r.sh->progress[3]);
	dp_assert_ok(&r, 1u << 3);
	(void)bad;
	dp_run_free(&r);
	dp_assert_counts_zero(DP_A, 5000);
	dp_assert_counts_zero(DP_B, 5000);
}
END_TEST

/* ---- a 1 TiB MR from a process allowed 64 KiB ---- */

static void huge_mr_node(struct dp_node *n, void *arg)
{
	struct rlimit rl = { 65536, 65536 };
	static const uint64_t lens[] = { 1ULL << 30, 1ULL << 36, (1ULL << 40) - 4096 };
	struct ml_alloc_pd pd = { .size = sizeof(pd) };
	uint8_t *buf;
	int fd;

	(void)arg;
	dp_node_open(n, NULL);
	fd = ml_device_fd(n->dev);
	C_CHECK(xioctl(fd, ML_IOCTL_ALLOC_PD, &pd) == 0, "ALLOC_PD");
	buf = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	C_CHECK(buf != MAP_FAILED, "mmap");
	C_CHECK(setrlimit(RLIMIT_MEMLOCK, &rl) == 0, "setrlimit");
	C_CHECK(setgid(65534) == 0 && setuid(65534) == 0, "setuid nobody");
	for (unsigned int i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		struct ml_reg_mr mr = { .size = sizeof(mr), .pd = pd.out_pd,
					.access = ML_ACCESS_LOCAL_WRITE,
					.addr = (uintptr_t)buf, .length = lens[i] };
		double t0 = dp_now();
		int r = xioctl(fd, ML_IOCTL_REG_MR, &mr);

		dp_log(n, "REG_MR of %llu bytes, RLIMIT_MEMLOCK 64 KiB: %d (%s) in %.3f s",
		       (unsigned long long)lens[i], r, r ? strerror(-r) : "registered",
		       dp_now() - t0);
		C_CHECK(r == -ENOMEM || r == -EFAULT, "REG_MR of %llu bytes over the limit: %d",
			(unsigned long long)lens[i], r);
	}
}

START_TEST(test_huge_mr_unprivileged)
{
	struct dp_run r;

	dp_run_init(&r);
	dp_spawn(&r, 0, DP_A, huge_mr_node, NULL, 60);
	dp_wait(&r, 70);
	dp_assert_ok(&r, 0);
	dp_run_free(&r);
	dp_assert_counts_zero(DP_A, 5000);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("dp_hostile");
	TCase *tc = tcase_create("hostile");

	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, test_hostile_next_to_healthy);
	suite_add_tcase(s, tc);
	/* its own case so that run-suite.sh can tell its kernel log apart */
	tc = tcase_create("huge_mr");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_huge_mr_unprivileged);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return dp_main(suite());
}
