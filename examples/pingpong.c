// SPDX-License-Identifier: MIT
/*
 * pingpong: the smallest complete libmegalink program.
 *
 *   server:  pingpong [-b] [-d ml0] [-p 18515] [-n 1000] [-s 64]
 *   client:  pingpong [-b] [-d ml0] [-p 18515] [-n 1000] [-s 64] SERVER_IP
 *
 * -b polls the CQ in a busy loop instead of sleeping in poll().
 *
 * 1. Both sides open the device, create a PD, a CQ and a QP, and register
 *    a small message buffer and a 64 MiB buffer.
 * 2. They swap {node id, QP number, 64 MiB buffer address and rkey} over a
 *    TCP connection (any side channel would do) and connect their QPs.
 * 3. Ping-pong: the client SENDs -s bytes, the server answers with a SEND
 *    of the same size, -n times; the client prints the median round trip.
 *    Small messages go inline (copied into the descriptor).
 * 4. The client RDMA-WRITEs 64 MiB of a pattern into the server's buffer,
 *    with an immediate value; the write consumes a receive at the server,
 *    whose completion tells the server that the data is there.  The server
 *    checks every byte and reports the result over TCP.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <megalink/megalink.h>

#define BIG_SIZE	(64u << 20)
#define WRITE_IMM	0x600dcafeu

static struct ml_device *dev;
static struct ml_cq *cq;
static struct ml_qp *qp;
static int busy;	/* -b: spin on the CQ instead of sleeping */

/* What the two sides tell each other, in network byte order. */
struct peer_info {
	uint32_t node_id;
	uint32_t qpn;
	uint32_t rkey;
	uint32_t pad;
	uint64_t addr;
};

static void die(const char *what, int err)
{
	if (err < 0)	/* a libmegalink call: its detail names the call */
		fprintf(stderr, "pingpong: %s\n", ml_last_error()[0] ?
			ml_last_error() : ml_strerror(err));
	else
		fprintf(stderr, "pingpong: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void check(int ret, const char *what)
{
	if (ret < 0)
		die(what, ret);
}

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

/* Wait for the next completion; sleep in poll() when there is none. */
static struct ml_cqe next_completion(void)
{
	struct ml_cqe wc = { 0 };	/* (GCC cannot see that poll fills it) */
	struct ml_qp_attr qa;
	int n;

	while ((n = ml_cq_poll(cq, &wc, 1)) == 0) {
		if (busy)
			continue;
		n = ml_cq_wait(dev, 60000);
		if (n == -ETIMEDOUT && ml_qp_query(qp, &qa) == 0)
			fprintf(stderr, "pingpong: no completion for 60 s; QP state %s, "
				"%u outstanding, %llu retransmits\n",
				ml_qp_state_name(qa.state), qa.outstanding,
				(unsigned long long)qa.retransmits);
		if (n < 0 && n != -EINTR)
			die("waiting for a completion", n);
	}
	check(n, "cq poll");
	if (wc.status != ML_WC_SUCCESS) {
		fprintf(stderr, "pingpong: %s completion of wr %llu failed: %s\n",
			ml_wc_opcode_name(wc.opcode), (unsigned long long)wc.wr_id,
			ml_wc_status_str(wc.status));
		exit(1);
	}
	return wc;
}

/* Wait for a completion of @opcode (others are sends we do not track). */
static struct ml_cqe wait_for(unsigned int opcode)
{
	struct ml_cqe wc;

	do
		wc = next_completion();
	while (wc.opcode != opcode);
	return wc;
}

/* The small MR holds the receive buffer, then the send buffer. */
static void post_recv(struct ml_mr *mr, uint32_t len)
{
	struct ml_sge sge = { (uintptr_t)mr->addr, len, mr->lkey };
	struct ml_recv_wr wr = { .wr_id = 1, .sg_list = &sge, .num_sge = len ? 1 : 0 };

	check(ml_post_recv(qp, &wr), "post recv");
}

static void post_send(struct ml_mr *mr, uint32_t len)
{
	struct ml_sge sge = { (uintptr_t)mr->addr + len, len, mr->lkey };
	struct ml_send_wr wr = {
		.wr_id = 2, .opcode = ML_WR_SEND, .flags = ML_WR_F_SIGNALED,
		.sg_list = &sge, .num_sge = 1,
	};

	if (len <= ML_MAX_INLINE)
		wr.flags |= ML_WR_F_INLINE;	/* copied into the descriptor */
	check(ml_post_send(qp, &wr), "post send");
}

/* ---- the TCP side channel ---- */

static void xfer(int fd, void *buf, size_t len, int out)
{
	char *p = buf;

	while (len) {
		ssize_t n = out ? write(fd, p, len) : read(fd, p, len);

		if (n <= 0)
			die(out ? "tcp write" : "tcp read (peer gone?)", 0);
		p += n;
		len -= (size_t)n;
	}
}

static int tcp_connect(const char *server, uint16_t port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
	int fd, one = 1;

	if (server[0] && inet_pton(AF_INET, server, &sa.sin_addr) != 1) {
		fprintf(stderr, "pingpong: %s is not an IPv4 address\n", server);
		exit(2);
	}
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0)
		die("socket", 0);
	if (!server[0]) {	/* server: listen, take one client */
		int lfd = fd;

		setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) || listen(lfd, 1))
			die("tcp listen", 0);
		fd = accept(lfd, NULL, NULL);
		if (fd < 0)
			die("tcp accept", 0);
		close(lfd);
		return fd;
	}
	for (int i = 0; connect(fd, (struct sockaddr *)&sa, sizeof(sa)); i++) {
		if (i == 50)	/* 5 s for the server to come up */
			die("tcp connect", 0);
		usleep(100000);
	}
	return fd;
}

static uint8_t pattern(uint32_t i)
{
	return (uint8_t)(i ^ (i >> 8) ^ (i >> 16) ^ (i >> 24));
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	const char *devname = "ml0", *server = NULL;
	unsigned int iters = 1000, size = 64, port = 18515;
	struct ml_device_info info;
	struct peer_info me, peer;
	struct ml_mr *small, *big;
	struct ml_pd *pd;
	uint8_t *bigbuf;
	char *smallbuf;
	int opt, fd, client;
	char ok = 'y';

	setvbuf(stdout, NULL, _IOLBF, 0);
	while ((opt = getopt(argc, argv, "bd:p:n:s:")) != -1) {
		switch (opt) {
		case 'b': busy = 1; break;
		case 'd': devname = optarg; break;
		case 'p': port = (unsigned int)atoi(optarg); break;
		case 'n': iters = (unsigned int)atoi(optarg); break;
		case 's': size = (unsigned int)atoi(optarg); break;
		default:
			fprintf(stderr, "usage: pingpong [-b] [-d DEV] [-p TCP_PORT] [-n ITERS] "
				"[-s BYTES] [SERVER_IPV4]\n");
			return 2;
		}
	}
	if (optind < argc)
		server = argv[optind];
	client = server != NULL;
	if (!iters || !size || size > 65536) {
		fprintf(stderr, "pingpong: -n must be > 0 and -s in 1..65536\n");
		return 2;
	}

	/* 1. Objects */
	check(ml_device_open(devname, &dev), "device open");
	check(ml_device_query(dev, &info), "device query");
	check(ml_pd_alloc(dev, &pd), "pd alloc");
	check(ml_cq_create(dev, 256, &cq), "cq create");
	struct ml_qp_init init = {
		.send_cq = cq, .sq_entries = 64, .rq_entries = 64,
		.max_inline = ML_MAX_INLINE,
	};
	check(ml_qp_create(pd, &init, &qp), "qp create");

	smallbuf = calloc(2, size);
	bigbuf = aligned_alloc(4096, BIG_SIZE);
	if (!smallbuf || !bigbuf)
		die("out of memory", 0);
	memset(bigbuf, 0, BIG_SIZE);
	check(ml_mr_reg(pd, smallbuf, 2 * size, ML_ACCESS_LOCAL_WRITE, &small), "mr reg");
	check(ml_mr_reg(pd, bigbuf, BIG_SIZE, ML_ACCESS_ALL, &big), "mr reg (64 MiB)");

	/* Receives may be posted before the QP is connected. */
	post_recv(small, size);

	/* 2. Exchange addresses and connect */
	me = (struct peer_info){
		.node_id = htonl(info.node_id), .qpn = htonl(ml_qp_num(qp)),
		.rkey = htonl(big->rkey), .addr = htobe64((uintptr_t)bigbuf),
	};
	fd = tcp_connect(server ? server : "", (uint16_t)port);
	xfer(fd, &me, sizeof(me), 1);
	xfer(fd, &peer, sizeof(peer), 0);
	printf("%s: node %u qpn %u <-> node %u qpn %u\n", client ? "client" : "server",
	       info.node_id, ml_qp_num(qp), ntohl(peer.node_id), ntohl(peer.qpn));
	check(ml_qp_connect(qp, ntohl(peer.node_id), ntohl(peer.qpn), NULL), "qp connect");
	xfer(fd, &ok, 1, 1);	/* both connected before anyone sends */
	xfer(fd, &ok, 1, 0);

	/* 3. Ping-pong: the client measures, the server echoes */
	double *rtt = calloc(iters, sizeof(*rtt));

	for (unsigned int i = 0; i < iters; i++) {
		double t0 = now_us();

		if (client)
			post_send(small, size);
		struct ml_cqe wc = wait_for(ML_WC_RECV);

		if (wc.byte_len != size)
			fprintf(stderr, "pingpong: got %u bytes, expected %u\n",
				wc.byte_len, size);
		post_recv(small, size);		/* before the peer can send again */
		if (client)
			rtt[i] = now_us() - t0;
		else
			post_send(small, size);
	}
	if (client) {
		qsort(rtt, iters, sizeof(*rtt), cmp_double);
		printf("ping-pong: %u x %u bytes, round trip median %.1f us "
		       "(min %.1f, p99 %.1f)\n", iters, size, rtt[iters / 2], rtt[0],
		       rtt[iters * 99 / 100]);
	}

	/* 4. 64 MiB RDMA WRITE with immediate, checked byte by byte */
	if (!client) {
		post_recv(big, 0);		/* the WRITE_IMM consumes it */
		xfer(fd, &ok, 1, 1);		/* "ready for the write" */
		struct ml_cqe wc = wait_for(ML_WC_RECV_IMM);
		size_t bad = 0;

		for (uint32_t i = 0; i < BIG_SIZE; i++)
			bad += bigbuf[i] != pattern(i);
		ok = !bad && wc.byte_len == BIG_SIZE && wc.imm == WRITE_IMM &&
		     (wc.flags & ML_WC_F_IMM) ? 'y' : 'n';
		printf("rdma write: %u bytes, imm 0x%x, %zu bytes differ: %s\n",
		       wc.byte_len, wc.imm, bad, ok == 'y' ? "OK" : "MISMATCH");
		xfer(fd, &ok, 1, 1);		/* the verdict */
		return ok == 'y' ? 0 : 1;
	}
	for (uint32_t i = 0; i < BIG_SIZE; i++)
		bigbuf[i] = pattern(i);
	xfer(fd, &ok, 1, 0);			/* the server posted its receive */

	struct ml_sge sge = { (uintptr_t)bigbuf, BIG_SIZE, big->lkey };
	struct ml_send_wr wr = {
		.wr_id = 3, .opcode = ML_WR_WRITE_IMM, .flags = ML_WR_F_SIGNALED,
		.sg_list = &sge, .num_sge = 1, .imm = WRITE_IMM,
		.remote_addr = be64toh(peer.addr), .rkey = ntohl(peer.rkey),
	};
	double t0 = now_us();

	check(ml_post_send(qp, &wr), "post rdma write");
	wait_for(ML_WC_WRITE);
	double us = now_us() - t0;

	printf("rdma write: 64 MiB in %.3f s, %.1f MB/s\n", us / 1e6, BIG_SIZE / us);
	xfer(fd, &ok, 1, 0);
	printf("rdma write: the server checked every byte: %s\n",
	       ok == 'y' ? "OK" : "MISMATCH");
	return ok == 'y' ? 0 : 1;
}
