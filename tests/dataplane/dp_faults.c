// SPDX-License-Identifier: MIT
/*
 * dp_faults: every operation, byte-exact, through netem on one or both
 * veth ends: loss 1% / 5% / 20%, reordering, duplication, corruption,
 * delay with jitter, and all of them at once.  The port counters
 * (STATS_GET through ml_ctl_stats) must show that the faults were real:
 * retransmissions under loss, out-of-sequence drops under reordering and
 * duplication, CRC drops under corruption.
 *
 * Needs sch_netem and tc (run-suite.sh sets DP_HAVE_NETEM); skips loudly
 * otherwise.  READs use one local SGE here: multi-SGE READ is dp_data's.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>

#include "dp_main.h"

#define MiB (1ULL << 20)

enum { CHK_NONE, CHK_RETRANS, CHK_SEQ, CHK_CRC };

struct fault {
	const char *name;
	const char *netem[2];	/* on A's / B's veth end, NULL: none */
	uint64_t total;		/* bytes moved A -> B (READs: B -> A) */
	int chk;
};

static const struct fault faults[] = {
	{ "loss 1% both ends", { "loss 1%", "loss 1%" }, 8 * MiB, CHK_RETRANS },
	{ "loss 5% both ends", { "loss 5%", "loss 5%" }, 4 * MiB, CHK_RETRANS },
	{ "loss 20% on the requester's end", { "loss 20%", NULL }, 2 * MiB, CHK_RETRANS },
	{ "loss 20% on the responder's end", { NULL, "loss 20%" }, 2 * MiB, CHK_RETRANS },
	{ "reordering", { "delay 2ms reorder 25% 50%", NULL }, 4 * MiB, CHK_SEQ },
	{ "reordering both ends", { "delay 2ms reorder 25% 50%", "delay 2ms reorder 25% 50%" },
	  2 * MiB, CHK_SEQ },
	{ "duplication 5% both ends", { "duplicate 5%", "duplicate 5%" }, 4 * MiB, CHK_SEQ },
	{ "corruption 1% both ends", { "corrupt 1%", "corrupt 1%" }, 8 * MiB, CHK_CRC },
	{ "delay 5ms jitter 2ms both ends", { "delay 5ms 2ms", "delay 5ms 2ms" }, 4 * MiB,
	  CHK_NONE },
	{ "everything at once", { "loss 3% duplicate 3% corrupt 1% delay 1ms 1ms",
				  "loss 3% duplicate 3% corrupt 1% delay 1ms reorder 25% 50%" },
	  4 * MiB, CHK_RETRANS },
};
#define NFAULTS ((int)(sizeof(faults) / sizeof(faults[0])))

static const int ops[] = { ML_WR_SEND, ML_WR_SEND_IMM, ML_WR_WRITE, ML_WR_WRITE_IMM,
			   ML_WR_READ };

static void fault_node(struct dp_node *n, void *arg)
{
	const struct fault *f = arg;
	struct ml_connect_opts o = { .timeout_ms = 100, .retry_cnt = 15, .rnr_retry = 15 };
	struct dp_setup s = { .buflen = f->total + 2 * MiB, .nqp = 2, .opts = &o };
	struct dp_x x[10];
	int k;

	dp_node_setup(n, &s);
	memset(x, 0, sizeof(x));
	for (k = 0; k < 10; k++) {
		x[k].op = ops[k % 5];
		x[k].qp = k / 5;
		x[k].size = f->total / 10 + 13 * (uint64_t)k + 1;
		/* keep READs short here (their recovery under loss has its
		 * own test, test_read_under_loss) */
		if (x[k].op == ML_WR_READ && x[k].size > 64 * 1024)
			x[k].size = 64 * 1024 + 13 * (uint64_t)k + 1;
		x[k].nsge_a = x[k].op == ML_WR_READ ? 1 : 1 + k % 4;
		x[k].nsge_b = 1 + (k + 1) % 4;
		x[k].seed = (uint32_t)(7000 + 16 * (f - faults) + k);
		x[k].imm = 0xfa000000u | (uint32_t)k;
	}
	dp_x_place(x, 10, DP_GUARD + 1, DP_GUARD + 2);
	dp_x_run(n, x, 10, 60000);
}

static void clear_qdiscs(void)
{
	for (int s = 0; s < 2; s++)
		dp_sh("tc -n %s qdisc del dev %s root 2>/dev/null", dp_env.ns[s], dp_env.ifname[s]);
}

START_TEST(test_fault)
{
	const struct fault *f = &faults[_i];
	uint64_t st0[2][ML_LIB_STATS_SLOTS], st1[2][ML_LIB_STATS_SLOTS], d[ML_LIB_STATS_SLOTS];
	const char *have = getenv("DP_HAVE_NETEM");
	struct dp_run r;
	char test[128];
	double t0;
	int s, k;

	snprintf(test, sizeof(test), "test_fault:%d (%s)", _i, f->name);
	if (have && !strcmp(have, "0")) {
		dp_skip(test, "sch_netem or tc not available");
		return;
	}
	clear_qdiscs();
	for (s = 0; s < 2; s++) {
		if (!f->netem[s])
			continue;
		k = dp_sh("tc -n %s qdisc replace dev %s root netem %s", dp_env.ns[s],
			  dp_env.ifname[s], f->netem[s]);
		if (k != 0 && s == 0 && _i == 0) {
			dp_skip(test, "tc qdisc ... netem failed");
			return;
		}
		ck_assert_msg(k == 0, "tc qdisc replace dev %s root netem %s: exit %d",
			      dp_env.ifname[s], f->netem[s], k);
	}
	for (s = 0; s < 2; s++)
		ck_assert_int_eq(dp_stats(s, st0[s]), 0);
	t0 = dp_now();
	dp_run_init(&r);
	dp_spawn(&r, 0, DP_A, fault_node, (void *)f, 200);
	dp_spawn(&r, 1, DP_B, fault_node, (void *)f, 200);
	dp_wait(&r, 210);
	for (s = 0; s < 2; s++)
		ck_assert_int_eq(dp_stats(s, st1[s]), 0);
	clear_qdiscs();
	for (k = 0; k < ML_LIB_STATS_SLOTS; k++)
		d[k] = st1[0][k] - st0[0][k] + st1[1][k] - st0[1][k];
	fprintf(stderr, "  %s: %.1f s; retransmits %llu timeouts %llu drop_seq %llu "
		"drop_crc %llu tx_nak %llu rnr_naks %llu rx_data %llu tx_frames %llu "
		"drop_malformed %llu drop_no_qp %llu\n", f->name, dp_now() - t0,
		(unsigned long long)d[ML_STAT_RETRANSMITS], (unsigned long long)d[ML_STAT_TIMEOUTS],
		(unsigned long long)d[ML_STAT_DROP_SEQ], (unsigned long long)d[ML_STAT_DROP_CRC],
		(unsigned long long)d[ML_STAT_TX_NAK], (unsigned long long)d[ML_STAT_RNR_NAKS],
		(unsigned long long)d[ML_STAT_RX_DATA], (unsigned long long)d[ML_STAT_TX_FRAMES],
		(unsigned long long)d[ML_STAT_DROP_MALFORMED],
		(unsigned long long)d[ML_STAT_DROP_NO_QP]);
	dp_assert_ok(&r, 0);
	dp_run_free(&r);
	ck_assert_msg(d[ML_STAT_RX_DATA] > 0, "%s: rx_data did not move", f->name);
	switch (f->chk) {
	case CHK_RETRANS:
		ck_assert_msg(d[ML_STAT_RETRANSMITS] > 0, "%s: no retransmission counted",
			      f->name);
		break;
	case CHK_SEQ:
		ck_assert_msg(d[ML_STAT_DROP_SEQ] > 0, "%s: no out-of-sequence drop counted",
			      f->name);
		break;
	case CHK_CRC:
		ck_assert_msg(d[ML_STAT_DROP_CRC] > 0, "%s: no CRC drop counted", f->name);
		ck_assert_msg(d[ML_STAT_RETRANSMITS] > 0, "%s: CRC drops but no retransmission",
			      f->name);
		break;
	}
}
END_TEST

/* 16 READs of 256 KiB + odd with 2% of the responder's frames lost. */
static void read_node(struct dp_node *n, void *arg)
{
	struct ml_connect_opts o = { .timeout_ms = 50, .retry_cnt = 15, .rnr_retry = 15 };
	struct dp_setup s = { .buflen = 8 * MiB, .opts = &o };
	struct dp_x x[16];
	int k;

	(void)arg;
	dp_node_setup(n, &s);
	memset(x, 0, sizeof(x));
	for (k = 0; k < 16; k++) {
		x[k].op = ML_WR_READ;
		x[k].size = 256 * 1024 + 13 * (uint64_t)k + 1;
		x[k].nsge_a = 1;
		x[k].seed = (uint32_t)(7500 + k);
	}
	dp_x_place(x, 16, DP_GUARD + 1, DP_GUARD + 2);
	dp_x_run(n, x, 16, 60000);
}

START_TEST(test_read_under_loss)
{
	uint64_t st0[ML_LIB_STATS_SLOTS], st1[ML_LIB_STATS_SLOTS];
	const char *have = getenv("DP_HAVE_NETEM");
	struct dp_run r;
	double t0;

	if (have && !strcmp(have, "0")) {
		dp_skip("test_read_under_loss", "sch_netem or tc not available");
		return;
	}
	clear_qdiscs();
	ck_assert_int_eq(dp_sh("tc -n %s qdisc replace dev %s root netem loss 2%%",
			       dp_env.ns[1], dp_env.ifname[1]), 0);
	ck_assert_int_eq(dp_stats(0, st0), 0);
	t0 = dp_now();
	dp_run_init(&r);
	dp_spawn(&r, 0, DP_A, read_node, NULL, 200);
	dp_spawn(&r, 1, DP_B, read_node, NULL, 200);
	dp_wait(&r, 210);
	ck_assert_int_eq(dp_stats(0, st1), 0);
	clear_qdiscs();
	fprintf(stderr, "  16 READs of 256 KiB, 2%% loss on the responder's end: %.1f s; "
		"requester: retransmits %llu timeouts %llu drop_seq %llu\n", dp_now() - t0,
		(unsigned long long)(st1[ML_STAT_RETRANSMITS] - st0[ML_STAT_RETRANSMITS]),
		(unsigned long long)(st1[ML_STAT_TIMEOUTS] - st0[ML_STAT_TIMEOUTS]),
		(unsigned long long)(st1[ML_STAT_DROP_SEQ] - st0[ML_STAT_DROP_SEQ]));
	dp_assert_ok(&r, 0);
	dp_run_free(&r);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("dp_faults");
	TCase *tc = tcase_create("netem");

	tcase_set_timeout(tc, 240);
	tcase_add_loop_test(tc, test_fault, 0, NFAULTS);
	tcase_add_test(tc, test_read_under_loss);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return dp_main(suite());
}
