// SPDX-License-Identifier: MIT
/*
 * dp_data: byte-exact data for every operation between two processes on
 * two nodes (netns A and B, a veth pair), 1 B .. 64 MiB including odd
 * sizes, unaligned buffers (the MR itself starts at an odd address, every
 * region at another odd offset), 1..4 SGEs on both sides, guard bytes
 * around every region, and 16 QPs carrying data at once.  run-suite.sh
 * runs it on a pair with MTU 1500 and on one with MTU 9000
 * (DP_EXPECT_MTU says which; the port must report it), and across an IP
 * router between two UDP/IPv4 peers (DP_ROUTED).  test_zerocopy
 * checks that large payloads leave as attached pages (tx_zerocopy grows)
 * while the veth does scatter-gather, and are copied, byte-exact all the
 * same, with scatter-gather turned off.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "dp_main.h"

#define MiB (1ULL << 20)

static const uint64_t sizes[] = { 1, 7, 4095, 4097, 65537, MiB + 13, 64 * MiB };
#define NSIZES (sizeof(sizes) / sizeof(sizes[0]))

static const int ops[] = { ML_WR_SEND, ML_WR_SEND_IMM, ML_WR_WRITE, ML_WR_WRITE_IMM,
			   ML_WR_READ };

static void check_mtu(struct dp_node *n)
{
	const char *want = getenv("DP_EXPECT_MTU");

	if (n->side == DP_A)
		dp_log(n, "port mtu %u (peer %u)", n->mtu, n->peerinfo.mtu);
	if (want && *want)
		C_CHECK(n->mtu == (uint32_t)atoi(want), "port mtu %u, want %s", n->mtu, want);
}

/* Every size of one operation, one at a time, then a pipelined batch of
 * small ones with every combination of SGE counts. */
static void sizes_node(struct dp_node *n, void *arg)
{
	int op = *(const int *)arg;
	struct dp_setup s = { .buflen = 64 * MiB + MiB, .nqp = 1 };
	struct dp_x xs[16];
	unsigned int k;

	dp_node_setup(n, &s);
	check_mtu(n);
	for (k = 0; k < NSIZES; k++) {
		struct dp_x x = {
			.op = op, .size = sizes[k], .nsge_a = 1 + (int)k % 4,
			.nsge_b = 1 + (int)(k + 2) % 4, .seed = (uint32_t)(op * 1000 + k),
			.imm = 0x51000000u | (uint32_t)(op << 8) | k,
		};
		double t0 = dp_now();

		dp_x_place(&x, 1, DP_GUARD + 1 + k, DP_GUARD + 2 + 2 * k);
		dp_x_run(n, &x, 1, 45000);
		if (n->side == DP_A && sizes[k] >= MiB)
			dp_log(n, "%s %llu bytes (%d/%d SGEs): %.2f s", dp_op_name(op),
			       (unsigned long long)sizes[k], x.nsge_a, x.nsge_b, dp_now() - t0);
	}
	for (k = 0; k < 16; k++) {
		memset(&xs[k], 0, sizeof(xs[k]));
		xs[k].op = op;
		xs[k].size = 1 + k * 1237 + (k & 1) * 9000;
		xs[k].nsge_a = 1 + (int)k % 4;
		xs[k].nsge_b = 1 + (int)(k / 4) % 4;
		xs[k].seed = (uint32_t)(op * 1000 + 100 + k);
		xs[k].imm = 0x52000000u | k;
	}
	dp_x_place(xs, 16, DP_GUARD + 5, DP_GUARD + 9);
	dp_x_run(n, xs, 16, 60000);
}

START_TEST(test_sizes)
{
	int op = ops[_i];
	char label[64];

	snprintf(label, sizeof(label), "%s, every size", dp_op_name(op));
	dp_pair_stats(sizes_node, sizes_node, &op, 240, label);
}
END_TEST

/* READ of every size into one local SGE (multi-SGE READ is above). */
static void read1_node(struct dp_node *n, void *arg)
{
	struct dp_setup s = { .buflen = 64 * MiB + MiB, .nqp = 1 };
	unsigned int k;

	(void)arg;
	dp_node_setup(n, &s);
	for (k = 0; k < NSIZES; k++) {
		struct dp_x x = { .op = ML_WR_READ, .size = sizes[k], .nsge_a = 1,
				  .seed = (uint32_t)(8000 + k) };

		dp_x_place(&x, 1, DP_GUARD + 3 + k, DP_GUARD + 4 + 2 * k);
		dp_x_run(n, &x, 1, 45000);
	}
}

START_TEST(test_read_one_sge)
{
	dp_pair_stats(read1_node, read1_node, NULL, 240, "READ, every size, one SGE");
}
END_TEST

/* 16 QPs, every one carrying two transfers of different operations, all
 * posted before anything is awaited; then 80 small ones (every op on
 * every QP). */
static void qp16_node(struct dp_node *n, void *arg)
{
	struct dp_setup s = { .buflen = 16 * MiB, .nqp = 16, .sq = 16, .rq = 16 };
	struct dp_x x[80];
	int i, j, k;

	(void)arg;
	dp_node_setup(n, &s);
	check_mtu(n);
	memset(x, 0, sizeof(x));
	for (i = 0, k = 0; i < 16; i++)
		for (j = 0; j < 2; j++, k++) {
			x[k].op = ops[(i + j) % 5];
			x[k].qp = i;
			x[k].size = (128 * 1024ULL << (i % 3)) + 13 * (uint64_t)i + 7 * (uint64_t)j + 1;
			x[k].nsge_a = 1 + (i + j) % 4;
			x[k].nsge_b = 1 + i % 4;
			x[k].seed = (uint32_t)(5000 + k);
			x[k].imm = 0xbeef0000u | (uint32_t)k;
		}
	dp_x_place(x, 32, DP_GUARD + 7, DP_GUARD + 11);
	dp_x_run(n, x, 32, 60000);

	memset(x, 0, sizeof(x));
	for (i = 0, k = 0; i < 16; i++)
		for (j = 0; j < 5; j++, k++) {
			x[k].op = ops[j];
			x[k].qp = i;
			x[k].size = 1 + (uint64_t)(k * 251) % 20000;
			x[k].nsge_a = 1 + k % 4;
			x[k].nsge_b = 1 + (k / 4) % 4;
			x[k].seed = (uint32_t)(6000 + k);
			x[k].imm = 0xfeed0000u | (uint32_t)k;
		}
	dp_x_place(x, 80, DP_GUARD + 1, DP_GUARD + 3);
	dp_x_run(n, x, 80, 60000);
}

START_TEST(test_16_qps)
{
	dp_pair_stats(qp16_node, qp16_node, NULL, 240, "16 QPs");
}
END_TEST

/* WRITE, READ and SEND of 1 MiB + 13 with 3 SGEs, unaligned. */
static void zc_node(struct dp_node *n, void *arg)
{
	struct dp_setup s = { .buflen = 8 * MiB, .nqp = 1 };
	struct dp_x x[3];
	int k;

	(void)arg;
	dp_node_setup(n, &s);
	memset(x, 0, sizeof(x));
	for (k = 0; k < 3; k++) {
		x[k].op = k == 0 ? ML_WR_WRITE : k == 1 ? ML_WR_READ : ML_WR_SEND;
		x[k].size = MiB + 13;
		x[k].nsge_a = 3;
		x[k].nsge_b = 2;
		x[k].seed = (uint32_t)(7700 + k);
	}
	dp_x_place(x, 3, DP_GUARD + 3, DP_GUARD + 6);
	dp_x_run(n, x, 3, 60000);
}

static uint64_t zc_count(int side)
{
	uint64_t st[ML_LIB_STATS_SLOTS];

	ck_assert_int_eq(dp_stats(side, st), 0);
	return st[ML_STAT_TX_ZEROCOPY];
}

static int set_sg(const char *onoff)
{
	int s, r = 0;

	for (s = 0; s < 2; s++)
		r |= dp_sh("ip netns exec %s ethtool -K %s sg %s >/dev/null 2>&1",
			   dp_env.ns[s], dp_env.ifname[s], onoff);
	return r;
}

START_TEST(test_zerocopy)
{
	uint64_t a0, b0, a1, b1;

	if (dp_sh("command -v ethtool >/dev/null") != 0) {
		dp_skip("zerocopy", "ethtool not installed: cannot switch scatter-gather");
		return;
	}
	ck_assert_msg(set_sg("on") == 0, "ethtool -K sg on failed");
	a0 = zc_count(DP_A);
	b0 = zc_count(DP_B);
	dp_pair_stats(zc_node, zc_node, NULL, 120, "zero copy, sg on");
	a1 = zc_count(DP_A);
	b1 = zc_count(DP_B);
	fprintf(stderr, "  sg on: tx_zerocopy A +%llu, B +%llu\n",
		(unsigned long long)(a1 - a0), (unsigned long long)(b1 - b0));
	/* A sends the WRITE and the SEND, B the READ responses. */
	ck_assert_msg(a1 - a0 >= 2 * (MiB / 9000) && b1 - b0 >= MiB / 9000,
		      "payload was copied although the veth does scatter-gather: "
		      "tx_zerocopy A +%llu, B +%llu", (unsigned long long)(a1 - a0),
		      (unsigned long long)(b1 - b0));

	ck_assert_msg(set_sg("off") == 0, "ethtool -K sg off failed");
	dp_pair_stats(zc_node, zc_node, NULL, 120, "zero copy, sg off");
	a0 = zc_count(DP_A);
	b0 = zc_count(DP_B);
	set_sg("on");
	ck_assert_msg(a0 == a1 && b0 == b1, "pages attached to a netdev without "
		      "scatter-gather: tx_zerocopy A +%llu, B +%llu",
		      (unsigned long long)(a0 - a1), (unsigned long long)(b0 - b1));
}
END_TEST

/*
 * The two ends of a link disagree about the MTU: B's is 1280.  The QPs
 * must use the smaller one (learnt from B's HELLOs), or A's large frames
 * would be dropped by B's netdev and every transfer would time out.
 */
/* The MTU A's neighbour table holds for B, its one neighbour (NEIGH_GET). */
static uint32_t neigh_mtu_of_b(void)
{
	struct ml_neigh_info *nb = NULL;
	struct ml_ctl *ctl;
	uint32_t mtu = 0;
	size_t n = 0;
	int r;

	dp_ns_enter(DP_A);
	r = ml_ctl_open(&ctl);
	dp_ns_leave();
	ck_assert_msg(r == 0, "ml_ctl_open: %s", strerror(-r));
	r = ml_ctl_neighbours(ctl, dp_env.dev[DP_A], &nb, &n);
	ck_assert_msg(r >= 0, "ml_ctl_neighbours: %s", strerror(-r));
	ck_assert_msg(n == 1, "%s has %zu neighbours, want B alone", dp_env.dev[DP_A], n);
	mtu = nb[0].mtu;
	ml_free(nb);
	ml_ctl_close(ctl);
	return mtu;
}

START_TEST(test_mtu_mismatch)
{
	const char *orig = getenv("DP_EXPECT_MTU");
	/* A UDP/IPv4 peer (DP_ROUTED) advertises its MTU less IPv4 + UDP. */
	uint32_t hdrs = getenv("DP_ROUTED") ? 28 : 0;

	ck_assert_msg(orig && *orig, "DP_EXPECT_MTU not set");
	ck_assert_uint_eq(neigh_mtu_of_b(), strtoul(orig, NULL, 10) - hdrs);
	ck_assert_int_eq(dp_sh("ip -n %s link set %s mtu 1280", dp_env.ns[DP_B],
			       dp_env.ifname[DP_B]), 0);
	usleep(600 * 1000);	/* a HELLO or two with the new MTU */
	/* What an operator chasing the mismatch sees (megalink-stat neigh). */
	ck_assert_uint_eq(neigh_mtu_of_b(), 1280 - hdrs);
	dp_pair_stats(zc_node, zc_node, NULL, 120, "B's MTU 1280");
	ck_assert_int_eq(dp_sh("ip -n %s link set %s mtu %s", dp_env.ns[DP_B],
			       dp_env.ifname[DP_B], orig), 0);
	usleep(600 * 1000);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("dp_data");
	TCase *tc = tcase_create("sizes");

	tcase_set_timeout(tc, 300);
	tcase_add_loop_test(tc, test_sizes, 0, 5);
	tcase_add_test(tc, test_read_one_sge);
	tcase_add_test(tc, test_zerocopy);
	tcase_add_test(tc, test_mtu_mismatch);
	suite_add_tcase(s, tc);
	tc = tcase_create("concurrency");
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, test_16_qps);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return dp_main(suite());
}
