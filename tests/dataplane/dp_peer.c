// SPDX-License-Identifier: MIT
/*
 * dp_peer: the peer vanishes.
 *
 *  - the peer's netdev goes down (idle, and in the middle of a stream of
 *    large WRITEs) past the retry budget: the requester gets
 *    ML_WC_RETRY_EXC_ERR for the WR in flight and ML_WC_WR_FLUSH_ERR for
 *    every later one, in a bounded time, the QP is in error and further
 *    posts fail; the link comes back afterwards;
 *  - kill -9 of the target process mid-transfer: the survivor's QP errors
 *    in a bounded time; kill -9 of the requester (WRITEs and SENDs in
 *    flight) and of both: once every process is gone the device object
 *    counts (DEV_GET NUM_CTX/PDS/MRS/CQS/QPS, pinned pages) are 0, and a
 *    new pair of processes works on the same devices.
 *    run-suite.sh then unloads the module.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <sys/socket.h>
#include <string.h>
#include <unistd.h>

#include "dp_main.h"

#define MiB (1u << 20)

static const struct ml_connect_opts fast_fail = { .timeout_ms = 50, .retry_cnt = 3 };

static char parent_recv(struct dp_run *r, int slot, int timeout_ms)
{
	char c = 0;
	double deadline = dp_now() + timeout_ms / 1000.0;

	while (dp_now() < deadline) {
		ssize_t n = recv(r->parent_fd[slot], &c, 1, MSG_DONTWAIT);

		if (n == 1)
			return c;
		if (n == 0)
			break;
		usleep(10000);
	}
	return 0;
}

static void parent_send(struct dp_run *r, int slot, char c)
{
	ck_assert_int_eq(write(r->parent_fd[slot], &c, 1), 1);
}

static void warmup(struct dp_node *n)
{
	struct dp_x x = { .op = ML_WR_SEND, .size = 4097, .nsge_a = 2, .nsge_b = 1, .seed = 1 };

	dp_x_place(&x, 1, DP_GUARD + 1, DP_GUARD + 1);
	dp_x_run(n, &x, 1, 30000);
}

/* Post a signaled WR of one SGE from our buffer. */
static void post(struct dp_node *n, uint64_t id, int op, uint64_t off, uint32_t len,
		 uint64_t roff)
{
	struct ml_sge g = { (uintptr_t)n->buf + off, len, n->mr->lkey };
	struct ml_send_wr wr = {
		.wr_id = id, .opcode = (uint32_t)op, .flags = ML_WR_F_SIGNALED, .sg_list = &g,
		.num_sge = 1, .remote_addr = n->peerinfo.addr + roff, .rkey = n->peerinfo.rkey,
	};

	C_OK(ml_post_send(n->qp[0], &wr));
}

/*
 * Collect @nwr completions (wr_id 1..nwr, in order): successes first,
 * then exactly one ML_WC_RETRY_EXC_ERR, then flushes.  Returns the number
 * of successes.
 */
static int expect_retry_then_flush(struct dp_node *n, int nwr, double t0)
{
	int i, ok = 0, err = 0;
	struct ml_qp_attr qa;

	for (i = 1; i <= nwr; i++) {
		struct ml_cqe wc = dp_cqe(n, 60000);

		C_CHECK(wc.wr_id == (uint64_t)i, "completion for wr %llu, want %d",
			(unsigned long long)wc.wr_id, i);
		if (wc.status == ML_WC_SUCCESS) {
			C_CHECK(!err, "wr %d succeeded after the error", i);
			ok++;
			continue;
		}
		if (!err) {
			C_CHECK(wc.status == ML_WC_RETRY_EXC_ERR, "first error: wr %d %s, want %s",
				i, ml_wc_status_str(wc.status),
				ml_wc_status_str(ML_WC_RETRY_EXC_ERR));
			dp_sh_mem->t[n->slot][0] = dp_now() - t0;
			dp_log(n, "wr %d: %s after %.2f s", i, ml_wc_status_str(wc.status),
			       dp_now() - t0);
			err = 1;
		} else {
			C_CHECK(wc.status == ML_WC_WR_FLUSH_ERR, "wr %d after the error: %s, want %s",
				i, ml_wc_status_str(wc.status),
				ml_wc_status_str(ML_WC_WR_FLUSH_ERR));
		}
	}
	C_CHECK(err, "no error: every WR completed although the link was down");
	C_OK(ml_qp_query(n->qp[0], &qa));
	C_CHECK(qa.state == ML_QPS_ERROR && qa.status == ML_WC_RETRY_EXC_ERR,
		"QP %s status %s after the retries", ml_qp_state_name(qa.state),
		ml_wc_status_str(qa.status));
	C_CHECK(qa.outstanding == 0, "%u WRs still outstanding", qa.outstanding);
	{
		struct ml_send_wr wr = { .opcode = ML_WR_SEND };
		int r = ml_post_send(n->qp[0], &wr);

		C_CHECK(r == -EIO, "post on the errored QP: %d, want -EIO", r);
	}
	return ok;
}

struct down_arg {
	int mid;		/* 0: link down first; 1: during a stream */
};

static void down_a(struct dp_node *n, void *arg)
{
	const struct down_arg *a = arg;
	struct dp_setup s = { .buflen = 16 * MiB + MiB, .opts = &fast_fail };
	double t0;
	int i, ok;

	dp_node_setup(n, &s);
	warmup(n);
	if (!a->mid) {
		dp_send_byte(n->parent, 'R');
		C_CHECK(dp_recv_byte(n->parent, 30000) == 'G', "parent: bad message");
		t0 = dp_now();
		post(n, 1, ML_WR_WRITE, 4096, 65536, 4096);
		post(n, 2, ML_WR_SEND, 4096, 100, 0);
		post(n, 3, ML_WR_READ, 8 * MiB, 4096, 4096);
		ok = expect_retry_then_flush(n, 3, t0);
		C_CHECK(ok == 0, "%d WRs succeeded with the link down", ok);
	} else {
		t0 = dp_now();
		for (i = 1; i <= 8; i++)
			post(n, (uint64_t)i, ML_WR_WRITE, 1, 16 * MiB, 1);
		dp_send_byte(n->parent, 'P');
		ok = expect_retry_then_flush(n, 8, t0);
		dp_log(n, "%d of 8 WRITEs of 16 MiB completed before the link went down", ok);
	}
	dp_sh_mem->v[n->slot][0] = (uint64_t)ok;
	dp_send_byte(n->peer, 'X');
}

static void down_b(struct dp_node *n, void *arg)
{
	struct dp_setup s = { .buflen = 16 * MiB + MiB, .opts = &fast_fail };
	struct ml_sge g;
	struct ml_recv_wr rw = { .wr_id = 7, .sg_list = &g, .num_sge = 1 };

	(void)arg;
	dp_node_setup(n, &s);
	warmup(n);
	g = (struct ml_sge){ (uintptr_t)n->buf, 4096, n->mr->lkey };
	C_OK(ml_post_recv(n->qp[0], &rw));
	C_CHECK(dp_recv_byte(n->peer, 150000) == 'X', "A: bad message");
}

static void run_down(int mid)
{
	struct down_arg a = { .mid = mid };
	struct dp_run r;
	char c;
	int down;

	dp_run_init(&r);
	dp_spawn(&r, 0, DP_A, down_a, &a, 150);
	dp_spawn(&r, 1, DP_B, down_b, &a, 150);
	c = parent_recv(&r, 0, 60000);
	if (c == (mid ? 'P' : 'R')) {
		if (mid)
			usleep(50000);
		down = dp_sh("ip -n %s link set %s down", dp_env.ns[1], dp_env.ifname[1]);
		if (!mid)
			parent_send(&r, 0, 'G');
	} else {
		down = -1;
	}
	dp_wait(&r, 160);
	dp_sh("ip -n %s link set %s up", dp_env.ns[1], dp_env.ifname[1]);
	/*
	 * Setting a netdev down flushes the IPv4 routes through it: a
	 * routed (UDP) peer is reachable again once its route is back, as
	 * the system's network configuration would put it back.
	 */
	if (getenv("DP_ROUTE_B"))
		dp_sh("ip -n %s route replace %s", dp_env.ns[1], getenv("DP_ROUTE_B"));
	dp_assert_ok(&r, 0);
	ck_assert_msg(down == 0, "could not set %s down", dp_env.ifname[1]);
	ck_assert_msg(r.sh->t[0][0] < 30.0, "the error took %.1f s", r.sh->t[0][0]);
	if (mid)
		ck_assert_msg(r.sh->v[0][0] < 8, "every WRITE finished before the link went down: "
			      "not a mid-transfer test");
	dp_run_free(&r);
	ck_assert_msg(dp_wait_neigh(20000) == 0, "the link did not come back up in 20 s");
	dp_assert_counts_zero(DP_A, 5000);
	dp_assert_counts_zero(DP_B, 5000);
}

START_TEST(test_netdev_down_idle)
{
	run_down(0);
}
END_TEST

START_TEST(test_netdev_down_mid_transfer)
{
	run_down(1);
}
END_TEST

/* ---- kill -9 ---- */

/* A requester streaming WRITEs and SENDs until its QP errors. */
static void stream_a(struct dp_node *n, void *arg)
{
	struct dp_setup s = { .buflen = 8 * MiB, .opts = &fast_fail, .sq = 32 };
	int kill_me = *(const int *)arg == 1;
	uint64_t posted = 0, done = 0, okc = 0;
	double deadline;
	int err = 0;

	dp_node_setup(n, &s);
	deadline = dp_now() + 90;
	while (dp_now() < deadline) {
		struct ml_cqe wc;

		while (!err && posted - done < 16) {
			posted++;
			if (posted % 2)
				post(n, posted, ML_WR_WRITE, (posted % 4) * MiB, MiB, (posted % 4) * MiB);
			else
				post(n, posted, ML_WR_SEND, 7 * MiB, 4096, 0);
		}
		if (kill_me && posted >= 32) {
			dp_send_byte(n->parent, 'P');
			pause();
		}
		if (dp_next_cqe(n, n->cq, &wc, 1000))
			continue;
		done++;
		if (wc.status == ML_WC_SUCCESS) {
			C_CHECK(!err, "wr %llu succeeded after the error",
				(unsigned long long)wc.wr_id);
			okc++;
		} else if (!err) {
			err = 1;
			dp_sh_mem->t[n->slot][0] = dp_now();
			dp_log(n, "after %llu good WRs: wr %llu %s", (unsigned long long)okc,
			       (unsigned long long)wc.wr_id, ml_wc_status_str(wc.status));
			C_CHECK(wc.status == ML_WC_RETRY_EXC_ERR ||
				wc.status == ML_WC_REM_INV_REQ_ERR ||
				wc.status == ML_WC_REM_ACCESS_ERR,
				"first error %s", ml_wc_status_str(wc.status));
		} else {
			C_CHECK(wc.status == ML_WC_WR_FLUSH_ERR, "wr %llu after the error: %s",
				(unsigned long long)wc.wr_id, ml_wc_status_str(wc.status));
		}
		if (err && done == posted)
			break;
	}
	C_CHECK(err, "no error within 90 s after the peer was killed (%llu good WRs)",
		(unsigned long long)okc);
	{
		struct ml_qp_attr qa;

		C_OK(ml_qp_query(n->qp[0], &qa));
		C_CHECK(qa.state == ML_QPS_ERROR, "QP %s", ml_qp_state_name(qa.state));
	}
}

/* A target reposting receives; tells the parent once data flows. */
static void stream_b(struct dp_node *n, void *arg)
{
	struct dp_setup s = { .buflen = 8 * MiB, .opts = &fast_fail, .rq = 64 };
	int i, got = 0;

	(void)arg;
	dp_node_setup(n, &s);
	for (i = 0; i < 64; i++) {
		struct ml_sge g = { (uintptr_t)n->buf + 7 * MiB, 4096, n->mr->lkey };
		struct ml_recv_wr rw = { .wr_id = (uint64_t)i, .sg_list = &g, .num_sge = 1 };

		C_OK(ml_post_recv(n->qp[0], &rw));
	}
	for (;;) {
		struct ml_cqe wc;

		if (dp_next_cqe(n, n->cq, &wc, 1000)) {
			if (recv(n->parent, &(char){ 0 }, 1, MSG_DONTWAIT) == 1)
				return;
			continue;
		}
		C_CHECK(wc.status == ML_WC_SUCCESS, "receive: %s", ml_wc_status_str(wc.status));
		{
			struct ml_sge g = { (uintptr_t)n->buf + 7 * MiB, 4096, n->mr->lkey };
			struct ml_recv_wr rw = { .wr_id = wc.wr_id, .sg_list = &g, .num_sge = 1 };

			C_OK(ml_post_recv(n->qp[0], &rw));
		}
		if (++got == 5)
			dp_send_byte(n->parent, 'P');
	}
}

static void again_node(struct dp_node *n, void *arg)
{
	struct dp_setup s = { .buflen = 4 * MiB };
	struct dp_x x[2] = {
		{ .op = ML_WR_WRITE, .size = MiB + 13, .nsge_a = 3, .seed = 42 },
		{ .op = ML_WR_SEND_IMM, .size = 65537, .nsge_a = 2, .nsge_b = 4, .seed = 43,
		  .imm = 9 },
	};

	(void)arg;
	dp_node_setup(n, &s);
	dp_x_place(x, 2, DP_GUARD + 1, DP_GUARD + 2);
	dp_x_run(n, x, 2, 30000);
}

START_TEST(test_kill_target)
{
	struct dp_run r;
	int mode = 0;
	double tkill;

	dp_run_init(&r);
	dp_spawn(&r, 0, DP_A, stream_a, &mode, 150);
	dp_spawn(&r, 1, DP_B, stream_b, &mode, 150);
	ck_assert_msg(parent_recv(&r, 1, 60000) == 'P', "B received nothing in 60 s: %s",
		      r.sh->msg[1]);
	usleep(100000);
	tkill = dp_now();
	dp_kill(&r, 1);
	dp_wait(&r, 150);
	dp_assert_ok(&r, 1u << 1);
	ck_assert_msg(r.sh->t[0][0] - tkill < 30.0, "the survivor's QP erred %.1f s after the kill",
		      r.sh->t[0][0] - tkill);
	fprintf(stderr, "  survivor's first error %.2f s after kill -9\n", r.sh->t[0][0] - tkill);
	dp_run_free(&r);
	dp_assert_counts_zero(DP_A, 5000);
	dp_assert_counts_zero(DP_B, 5000);
	dp_pair(again_node, again_node, NULL, 60);
}
END_TEST

START_TEST(test_kill_requester)
{
	struct dp_run r;
	int mode = 1;

	dp_run_init(&r);
	dp_spawn(&r, 0, DP_A, stream_a, &mode, 150);
	dp_spawn(&r, 1, DP_B, stream_b, &mode, 150);
	ck_assert_msg(parent_recv(&r, 0, 60000) == 'P', "A did not start: %s", r.sh->msg[0]);
	usleep(50000);
	dp_kill(&r, 0);		/* WRITEs of 1 MiB and SENDs in flight */
	usleep(500000);
	parent_send(&r, 1, 'E');
	dp_wait(&r, 60);
	dp_assert_ok(&r, 1u << 0);
	dp_run_free(&r);
	dp_assert_counts_zero(DP_A, 5000);
	dp_assert_counts_zero(DP_B, 5000);
	dp_pair(again_node, again_node, NULL, 60);
}
END_TEST

START_TEST(test_kill_both)
{
	struct dp_run r;
	int mode = 0;

	dp_run_init(&r);
	dp_spawn(&r, 0, DP_A, stream_a, &mode, 150);
	dp_spawn(&r, 1, DP_B, stream_b, &mode, 150);
	ck_assert_msg(parent_recv(&r, 1, 60000) == 'P', "B received nothing in 60 s: %s",
		      r.sh->msg[1]);
	dp_kill(&r, 0);
	dp_kill(&r, 1);
	dp_wait(&r, 30);
	dp_assert_ok(&r, 3);
	dp_run_free(&r);
	dp_assert_counts_zero(DP_A, 5000);
	dp_assert_counts_zero(DP_B, 5000);
	dp_pair(again_node, again_node, NULL, 60);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("dp_peer");
	TCase *tc = tcase_create("link");

	tcase_set_timeout(tc, 200);
	tcase_add_test(tc, test_netdev_down_idle);
	tcase_add_test(tc, test_netdev_down_mid_transfer);
	suite_add_tcase(s, tc);
	tc = tcase_create("kill");
	tcase_set_timeout(tc, 200);
	tcase_add_test(tc, test_kill_target);
	tcase_add_test(tc, test_kill_requester);
	tcase_add_test(tc, test_kill_both);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return dp_main(suite());
}
