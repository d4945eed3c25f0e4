// SPDX-License-Identifier: GPL-2.0
/*
 * xfer: one side of a two-kernel transfer test.  Each side runs in its own
 * QEMU guest; the guests share no kernel, only a QEMU socket network
 * (their megalink link) and the host's file system, through which they
 * meet: each writes its node id, QP number and buffer to its own output
 * directory and reads the peer's from the other guest's.
 *
 *   xfer ROLE(a|b) DEV MYDIR PEERDIR SIZE...
 *
 * For each SIZE: a SENDs SIZE bytes to b and b SENDs to a; a RDMA WRITEs
 * a pattern into b's buffer and READs it back; b checks what was written.
 * Every byte is checked.  Exit status 0 when all is well.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <megalink/megalink.h>

static const char *role, *mydir, *peerdir;

static void fail(const char *what, int err)
{
	fprintf(stderr, "xfer %s: %s: %s\n", role, what,
		err < 0 && ml_last_error()[0] ? ml_last_error() : strerror(errno));
	exit(1);
}

static void put(const char *name, const char *fmt, unsigned long long a,
		unsigned long long b, unsigned long long c)
{
	char p[512], t[520];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", mydir, name);
	snprintf(t, sizeof(t), "%s.tmp", p);
	f = fopen(t, "w");
	if (!f)
		fail(t, 0);
	fprintf(f, fmt, a, b, c);
	fclose(f);
	if (rename(t, p))
		fail(p, 0);
}

static void get(const char *name, unsigned long long *a,
		unsigned long long *b, unsigned long long *c)
{
	time_t t0 = time(NULL);
	char p[512];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", peerdir, name);
	while (!(f = fopen(p, "r"))) {
		if (time(NULL) - t0 > 120) {
			fprintf(stderr, "xfer %s: no %s from the peer\n", role, p);
			exit(1);
		}
		usleep(20000);
	}
	if (fscanf(f, "%llu %llu %llu", a, b, c) != 3) {
		fprintf(stderr, "xfer %s: bad %s\n", role, p);
		exit(1);
	}
	fclose(f);
}

static struct ml_cqe wait_cqe(struct ml_cq *cq)
{
	time_t t0 = time(NULL);
	struct ml_cqe c;

	for (;;) {
		int n = ml_cq_poll(cq, &c, 1);

		if (n < 0)
			fail("poll", n);
		if (n == 1)
			return c;
		if (time(NULL) - t0 > 120) {
			fprintf(stderr, "xfer %s: no completion in 120 s\n", role);
			exit(1);
		}
		usleep(200);
	}
}

static unsigned char pat(size_t i, int seed)
{
	return (unsigned char)(i * 31 + (i >> 11) + seed);
}

int main(int argc, char **argv)
{
	unsigned long long pnode, pqpn, prkey, paddr, x, y;
	struct ml_device_info info;
	struct ml_qp_init qi = { 0 };
	struct ml_device *dev;
	struct ml_pd *pd;
	struct ml_mr *mr;
	struct ml_cq *cq;
	struct ml_qp *qp;
	unsigned char *buf, *src, *dst;
	size_t max = 0, sz;
	int i, err, a, seed;
	char step[32];

	if (argc < 6) {
		fprintf(stderr, "usage: xfer a|b DEV MYDIR PEERDIR SIZE...\n");
		return 2;
	}
	role = argv[1];
	mydir = argv[3];
	peerdir = argv[4];
	a = !strcmp(role, "a");
	for (i = 5; i < argc; i++)
		if (strtoull(argv[i], NULL, 0) > max)
			max = strtoull(argv[i], NULL, 0);

	if ((err = ml_device_open(argv[2], &dev)) < 0 ||
	    (err = ml_device_query(dev, &info)) < 0 ||
	    (err = ml_pd_alloc(dev, &pd)) < 0)
		fail("setup", err);
	buf = aligned_alloc(4096, 2 * max + 8192);
	if (!buf)
		fail("memory", 0);
	memset(buf, 0, 2 * max + 8192);
	src = buf + 3;			/* unaligned on purpose */
	dst = buf + max + 4096 + 5;
	err = ml_mr_reg(pd, buf, 2 * max + 8192, ML_ACCESS_ALL, &mr);
	if (err < 0)
		fail("mr", err);
	if ((err = ml_cq_create(dev, 256, &cq)) < 0)
		fail("cq", err);
	qi.send_cq = cq;
	qi.recv_cq = cq;
	qi.sq_entries = 64;
	qi.rq_entries = 64;
	qi.max_send_sge = 1;
	qi.max_recv_sge = 1;
	if ((err = ml_qp_create(pd, &qi, &qp)) < 0)
		fail("qp", err);

	put("me", "%llu %llu %llu\n", info.node_id, ml_qp_num(qp),
	    ml_mr_rkey(mr));
	put("buf", "%llu %llu %llu\n", (uintptr_t)dst, 0, 0);
	get("me", &pnode, &pqpn, &prkey);
	get("buf", &paddr, &x, &y);
	printf("xfer %s: node 0x%08x qpn %u -> peer node 0x%08llx qpn %llu\n",
	       role, info.node_id, ml_qp_num(qp), pnode, pqpn);
	err = ml_qp_connect(qp, pnode, pqpn, NULL);
	if (err < 0)
		fail("connect", err);

	for (i = 5; i < argc; i++) {
		struct timespec t0, t1;
		struct ml_sge sge;
		struct ml_send_wr wr;
		struct ml_recv_wr rr;
		struct ml_cqe c;
		int done = 0;
		size_t k;
		double ms;

		sz = strtoull(argv[i], NULL, 0);
		seed = i * 2 + a;
		for (k = 0; k < sz; k++)
			src[k] = pat(k, seed);
		memset(dst, 0, sz);
		sge = (struct ml_sge){ (uintptr_t)dst, sz, ml_mr_lkey(mr) };
		rr = (struct ml_recv_wr){ .wr_id = 1, .sg_list = &sge, .num_sge = 1 };
		if ((err = ml_post_recv(qp, &rr)) < 0)
			fail("post recv", err);
		/*
		 * Both receives are posted before either side sends.  One file
		 * per step, never replaced: a guest that reads a file the other
		 * guest renames over can spin for ever in Debian 6.12's 9p/netfs
		 * read retry (seen: netfs_retry_reads, state R, for 10 minutes).
		 */
		snprintf(step, sizeof(step), "ready.%d", i);
		put(step, "%llu %llu %llu\n", i, 0, 0);
		get(step, &x, &y, &y);
		if ((int)x != i)
			fail("ready: wrong step", 0);

		clock_gettime(CLOCK_MONOTONIC, &t0);
		sge = (struct ml_sge){ (uintptr_t)src, sz, ml_mr_lkey(mr) };
		wr = (struct ml_send_wr){ .wr_id = 2, .opcode = ML_WR_SEND,
			.flags = ML_WR_F_SIGNALED, .sg_list = &sge, .num_sge = 1 };
		if ((err = ml_post_send(qp, &wr)) < 0)
			fail("post send", err);
		while (done != 3) {
			c = wait_cqe(cq);
			if (c.status) {
				fprintf(stderr, "xfer %s: size %zu: completion %s\n",
					role, sz, ml_wc_status_str(c.status));
				return 1;
			}
			done |= c.wr_id == 1 ? 1 : 2;
		}
		clock_gettime(CLOCK_MONOTONIC, &t1);
		ms = (t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6;
		for (k = 0; k < sz; k++)
			if (dst[k] != pat(k, seed ^ 1)) {
				fprintf(stderr, "xfer %s: SEND %zu B: byte %zu differs\n",
					role, sz, k);
				return 1;
			}
		printf("xfer %s: SEND/RECV %zu B byte-exact (%.1f ms)\n", role, sz, ms);

		if (a) {
			sge = (struct ml_sge){ (uintptr_t)src, sz, ml_mr_lkey(mr) };
			wr = (struct ml_send_wr){ .wr_id = 3, .opcode = ML_WR_WRITE,
				.flags = ML_WR_F_SIGNALED, .sg_list = &sge,
				.num_sge = 1, .remote_addr = paddr, .rkey = prkey };
			if ((err = ml_post_send(qp, &wr)) < 0)
				fail("post write", err);
			c = wait_cqe(cq);
			if (c.status) {
				fprintf(stderr, "xfer a: WRITE %zu: %s\n", sz,
					ml_wc_status_str(c.status));
				return 1;
			}
			memset(dst, 0, sz);
			sge = (struct ml_sge){ (uintptr_t)dst, sz, ml_mr_lkey(mr) };
			wr = (struct ml_send_wr){ .wr_id = 4, .opcode = ML_WR_READ,
				.flags = ML_WR_F_SIGNALED, .sg_list = &sge,
				.num_sge = 1, .remote_addr = paddr, .rkey = prkey };
			if ((err = ml_post_send(qp, &wr)) < 0)
				fail("post read", err);
			c = wait_cqe(cq);
			if (c.status || memcmp(dst, src, sz)) {
				fprintf(stderr, "xfer a: READ %zu B: %s\n", sz,
					c.status ? ml_wc_status_str(c.status) :
					"data differs");
				return 1;
			}
			printf("xfer a: WRITE + READ back %zu B byte-exact\n", sz);
			snprintf(step, sizeof(step), "written.%d", i);
			put(step, "%llu %llu %llu\n", i, 0, 0);
		} else {
			snprintf(step, sizeof(step), "written.%d", i);
			get(step, &x, &y, &y);
			if ((int)x != i)
				fail("written: wrong step", 0);
			for (k = 0; k < sz; k++)
				if (dst[k] != pat(k, seed ^ 1)) {
					fprintf(stderr, "xfer b: WRITE %zu B: byte %zu differs\n",
						sz, k);
					return 1;
				}
			printf("xfer b: RDMA WRITE %zu B from the other kernel byte-exact\n", sz);
		}
	}
	put("finished", "%llu %llu %llu\n", 1, 0, 0);
	get("finished", &x, &y, &y);
	printf("xfer %s: OK\n", role);
	ml_device_close(dev);
	return 0;
}
