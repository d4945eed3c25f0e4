// SPDX-License-Identifier: MIT
/*
 * dp_data: byte-exact data for every operation between two processes on
 * two nodes (netns A and B, a veth pair), 1 B .. 64 MiB including odd
 * sizes, unaligned buffers (the MR itself starts at an odd address, every
 * region at another odd offset), 1..4 SGEs on both sides, guard bytes
 * around every region, and 16 QPs carrying data at once.  run-suite.sh
 * runs it on a pair with MTU 1500 and on one with MTU 9000
 * (DP_EXPECT_MTU says which; the port must report it).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>

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

static Suite *suite(void)
{
	Suite *s = suite_create("dp_data");
	TCase *tc = tcase_create("sizes");

	tcase_set_timeout(tc, 300);
	tcase_add_loop_test(tc, test_sizes, 0, 5);
	tcase_add_test(tc, test_read_one_sge);
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
