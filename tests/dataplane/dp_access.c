// SPDX-License-Identifier: MIT
/*
 * dp_access: protection between two processes on two nodes.
 *
 *  - remote WRITE/READ that the target must refuse (no remote-write
 *    access, rkey of another MR, one byte past the end or before the
 *    start, multi-packet writes whose last byte is out of range, an MR of
 *    another PD, address overflow): the requester gets
 *    ML_WC_REM_ACCESS_ERR and the target memory, including the bytes
 *    around each MR, is untouched byte by byte;
 *  - RLIMIT_MEMLOCK with CAP_IPC_LOCK dropped (root): cumulative charge
 *    across MRs and devices, -ENOMEM and a message naming the limit,
 *    uncharging on deregistration;
 *  - invalid work requests: stale lkey, lkey of another PD, SGE past the
 *    MR, READ into a read-only MR, receive into a read-only MR, too many
 *    SGEs and oversized totals (library -EINVAL), SGE lengths that wrap
 *    32 or 64 bits written raw into the rings: error completions, no oops.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/capability.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "dp_main.h"

#define TLEN	(512 * 1024)	/* B's target area */
#define MRLEN	(64 * 1024)
#define SEED_OLD 99
#define SEED_NEW 77

enum { MR_RW, MR_RO, MR_WO, MR_PD2, NMR };
static const uint64_t mr_off[NMR] = { 64, 128 * 1024 + 64, 256 * 1024 + 64, 384 * 1024 + 64 };

struct acase {
	const char *what;
	int op;
	int mr;			/* whose rkey */
	int addr_mr;		/* whose address */
	int64_t addr_off;	/* from that MR's start; INT64_MIN: absolute addr_abs */
	uint64_t addr_abs;
	uint32_t len;
	unsigned int want;	/* enum ml_wc_status */
	uint32_t rkey_override;	/* non-zero: use it */
};

static const struct acase acases[] = {
	{ "WRITE into an MR without remote-write access", ML_WR_WRITE, MR_RO, MR_RO, 0, 0, 64,
	  ML_WC_REM_ACCESS_ERR, 0 },
	{ "WRITE with the rkey of another MR (address in a read-only MR)", ML_WR_WRITE, MR_RW,
	  MR_RO, 100, 0, 64, ML_WC_REM_ACCESS_ERR, 0 },
	{ "WRITE with the rkey of another MR (address in a writable MR)", ML_WR_WRITE, MR_RW,
	  MR_WO, 8, 0, 64, ML_WC_REM_ACCESS_ERR, 0 },
	{ "WRITE of 1 byte just past the end", ML_WR_WRITE, MR_RW, MR_RW, MRLEN, 0, 1,
	  ML_WC_REM_ACCESS_ERR, 0 },
	{ "WRITE of 4096 bytes ending one byte past the end", ML_WR_WRITE, MR_RW, MR_RW,
	  MRLEN - 4095, 0, 4096, ML_WC_REM_ACCESS_ERR, 0 },
	{ "WRITE of 40000 bytes (several packets) ending one byte past the end", ML_WR_WRITE,
	  MR_RW, MR_RW, MRLEN - 39999, 0, 40000, ML_WC_REM_ACCESS_ERR, 0 },
	{ "WRITE of 64 bytes starting one byte before the start", ML_WR_WRITE, MR_RW, MR_RW,
	  -1, 0, 64, ML_WC_REM_ACCESS_ERR, 0 },
	{ "WRITE into an MR of another PD", ML_WR_WRITE, MR_PD2, MR_PD2, 0, 0, 64,
	  ML_WC_REM_ACCESS_ERR, 0 },
	{ "READ from an MR without remote-read access", ML_WR_READ, MR_WO, MR_WO, 0, 0, 64,
	  ML_WC_REM_ACCESS_ERR, 0 },
	{ "READ of 100 bytes ending one byte past the end", ML_WR_READ, MR_RW, MR_RW,
	  MRLEN - 99, 0, 100, ML_WC_REM_ACCESS_ERR, 0 },
	{ "WRITE_IMM into an MR without remote-write access", ML_WR_WRITE_IMM, MR_RO, MR_RO, 0,
	  0, 64, ML_WC_REM_ACCESS_ERR, 0 },
	{ "WRITE whose address + length wraps 64 bits", ML_WR_WRITE, MR_RW, MR_RW, INT64_MIN,
	  0xffffffffffffffc0ULL, 128, ML_WC_REM_ACCESS_ERR, 0 },
	{ "WRITE with rkey 0", ML_WR_WRITE, MR_RW, MR_RW, 0, 0, 64, ML_WC_REM_ACCESS_ERR,
	  0xffffffffu },
	/* positive controls: the whole writable MR, exactly */
	{ "WRITE of exactly the whole MR", ML_WR_WRITE, MR_RW, MR_RW, 0, 0, MRLEN,
	  ML_WC_SUCCESS, 0 },
	{ "READ of exactly the whole MR", ML_WR_READ, MR_RW, MR_RW, 0, 0, MRLEN,
	  ML_WC_SUCCESS, 0 },
};
#define NACASES ((int)(sizeof(acases) / sizeof(acases[0])))

static void remote_a(struct dp_node *n, void *arg)
{
	struct dp_setup s = { .buflen = 1 << 20, .nqp = 1, .sq = 8, .rq = 8 };
	struct dp_info aux;
	int c = *(const int *)arg;

	dp_node_setup(n, &s);
	memset(&aux, 0, sizeof(aux));
	dp_xchg(n, &aux, &aux, sizeof(aux));	/* B's MRs */
	if (acases[c].want == ML_WC_SUCCESS) {
		/* the positive controls run after one another on QP 0 */
		c = NACASES - 2;
	}
	for (; c < NACASES; c++) {
		const struct acase *t = &acases[c];
		uint64_t raddr = t->addr_off == INT64_MIN ? t->addr_abs :
				 aux.aux_addr[t->addr_mr] + (uint64_t)t->addr_off;
		uint32_t rkey = t->rkey_override == 0xffffffffu ? 0 :
				aux.aux_rkey[t->mr];
		struct ml_sge g = { (uintptr_t)n->buf + 4096 + 1, t->len, n->mr->lkey };
		struct ml_send_wr wr = {
			.wr_id = 100 + (uint64_t)c, .opcode = (uint32_t)t->op,
			.flags = ML_WR_F_SIGNALED, .sg_list = &g, .num_sge = 1,
			.remote_addr = raddr, .rkey = rkey, .imm = 0x1234,
		};
		struct ml_qp_attr qa;
		struct ml_cqe wc;
		int64_t bad;

		if (t->op == ML_WR_READ)
			memset(n->buf + 4096, DP_FILLER, MRLEN + 2);
		else
			dp_fill(n->buf + 4096 + 1, t->len, SEED_NEW, 0);
		dp_sync(n);	/* B is ready */
		C_OK(ml_post_send(n->qp[0], &wr));
		wc = dp_cqe(n, 30000);
		C_CHECK(wc.wr_id == wr.wr_id, "case %d: completion for wr %llu", c,
			(unsigned long long)wc.wr_id);
		C_CHECK(wc.status == t->want, "case %d (%s): completion status %s (%u), want %s",
			c, t->what, ml_wc_status_str(wc.status), wc.status,
			ml_wc_status_str(t->want));
		if (t->want != ML_WC_SUCCESS) {
			C_OK(ml_qp_query(n->qp[0], &qa));
			C_CHECK(qa.state == ML_QPS_ERROR && qa.status == t->want,
				"case %d: QP %s status %s after the error", c,
				ml_qp_state_name(qa.state), ml_wc_status_str(qa.status));
		}
		if (t->op == ML_WR_READ) {
			if (t->want == ML_WC_SUCCESS)
				bad = dp_verify(n->buf + 4096 + 1, t->len, SEED_NEW, 0);
			else
				bad = dp_verify_fill(n->buf + 4096, MRLEN + 2, DP_FILLER);
			C_CHECK(bad < 0, "case %d (%s): local READ buffer byte %lld wrong", c,
				t->what, (long long)bad);
		}
		dp_send_byte(n->peer, 'C');
		C_CHECK(dp_recv_byte(n->peer, 30000) == 'V', "B: bad verdict");
		if (t->want != ML_WC_SUCCESS)
			break;
	}
}

static void remote_b(struct dp_node *n, void *arg)
{
	struct dp_setup s = { .buflen = 1 << 20, .nqp = 1, .sq = 8, .rq = 8 };
	static const unsigned int access[NMR] = {
		ML_ACCESS_ALL, ML_ACCESS_LOCAL_WRITE | ML_ACCESS_REMOTE_READ,
		ML_ACCESS_LOCAL_WRITE | ML_ACCESS_REMOTE_WRITE, ML_ACCESS_ALL,
	};
	struct ml_mr *mr[NMR];
	struct ml_pd *pd2;
	struct dp_info aux, dummy;
	uint8_t *t;
	int c = *(const int *)arg, i, written = 0;

	dp_node_setup(n, &s);
	t = mmap(NULL, TLEN, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	C_CHECK(t != MAP_FAILED, "mmap");
	dp_fill(t, TLEN, SEED_OLD, 0);
	C_OK(ml_pd_alloc(n->dev, &pd2));
	memset(&aux, 0, sizeof(aux));
	for (i = 0; i < NMR; i++) {
		C_OK(ml_mr_reg(i == MR_PD2 ? pd2 : n->pd, t + mr_off[i], MRLEN, access[i], &mr[i]));
		aux.aux_addr[i] = (uintptr_t)(t + mr_off[i]);
		aux.aux_len[i] = MRLEN;
		aux.aux_rkey[i] = mr[i]->rkey;
	}
	dp_xchg(n, &aux, &dummy, sizeof(aux));
	if (acases[c].want == ML_WC_SUCCESS)
		c = NACASES - 2;
	for (; c < NACASES; c++) {
		const struct acase *x = &acases[c];
		struct ml_recv_wr rwr = { .wr_id = 500 + (uint64_t)c };
		struct ml_cqe wc;
		int64_t bad;
		uint64_t w0 = mr_off[MR_RW], w1 = mr_off[MR_RW] + MRLEN;

		if (x->op == ML_WR_WRITE_IMM)
			C_OK(ml_post_recv(n->qp[0], &rwr));
		dp_sync(n);
		C_CHECK(dp_recv_byte(n->peer, 60000) == 'C', "A: bad message");
		if (x->want == ML_WC_SUCCESS && x->op == ML_WR_WRITE)
			written = 1;
		/* every byte of the area: the MRs, the gaps, the bytes around them */
		if (!written) {
			bad = dp_verify(t, TLEN, SEED_OLD, 0);
		} else {
			bad = dp_verify(t, w0, SEED_OLD, 0);
			if (bad < 0) {
				bad = dp_verify(t + w0, MRLEN, SEED_NEW, 0);
				bad = bad < 0 ? bad : (int64_t)w0 + bad;
			}
			if (bad < 0) {
				bad = dp_verify(t + w1, TLEN - w1, SEED_OLD, w1);
				bad = bad < 0 ? bad : (int64_t)w1 + bad;
			}
		}
		if (bad >= 0) {
			int m = -1;

			for (i = 0; i < NMR; i++)
				if ((uint64_t)bad >= mr_off[i] && (uint64_t)bad < mr_off[i] + MRLEN)
					m = i;
			dp_fail(__FILE__, __LINE__, "case %d (%s): target byte at area offset "
				"%lld (%s%s, MR offset %lld) changed to 0x%02x (was 0x%02x)", c,
				x->what, (long long)bad, m < 0 ? "outside every MR" : "in MR ",
				m < 0 ? "" : (const char *[]){ "rw", "ro", "wo", "pd2" }[m],
				m < 0 ? (long long)bad - (long long)mr_off[MR_RW]
				      : (long long)bad - (long long)mr_off[m],
				t[bad], dp_pat_byte(SEED_OLD, (uint64_t)bad));
		}
		if (x->op == ML_WR_WRITE_IMM) {
			/* the refused WRITE_IMM must not complete the receive successfully */
			if (dp_next_cqe(n, n->cq, &wc, 200) == 0) {
				C_CHECK(wc.status != ML_WC_SUCCESS, "case %d: a refused WRITE_IMM "
					"completed a receive successfully (%u bytes)", c, wc.byte_len);
				dp_log(n, "case %d: the receive completed with %s", c,
				       ml_wc_status_str(wc.status));
			}
		}
		dp_send_byte(n->peer, 'V');
		if (x->want != ML_WC_SUCCESS)
			break;
	}
}

/* One case per test (a refused access puts the QP in error). */
START_TEST(test_remote_access)
{
	int c = _i;

	if (acases[c].want == ML_WC_SUCCESS && c != NACASES - 2)
		return;		/* the controls run together */
	fprintf(stderr, "  case %d: %s\n", c, acases[c].what);
	dp_pair(remote_a, remote_b, &c, 60);
}
END_TEST

/* ---- RLIMIT_MEMLOCK ---- */

static int drop_cap_ipc_lock(void)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];

	if (syscall(SYS_capget, &h, d))
		return -1;
	d[CAP_IPC_LOCK / 32].effective &= ~(1u << (CAP_IPC_LOCK % 32));
	d[CAP_IPC_LOCK / 32].permitted &= ~(1u << (CAP_IPC_LOCK % 32));
	d[CAP_IPC_LOCK / 32].inheritable &= ~(1u << (CAP_IPC_LOCK % 32));
	return (int)syscall(SYS_capset, &h, d);
}

static void expect_enomem(struct ml_pd *pd, void *p, size_t len, const char *what)
{
	struct ml_mr *mr;
	int r = ml_mr_reg(pd, p, len, ML_ACCESS_LOCAL_WRITE, &mr);

	ck_assert_msg(r == -ENOMEM, "%s: ml_mr_reg = %d (%s), want -ENOMEM", what, r,
		      r ? ml_last_error() : "registered");
	ck_assert_msg(strstr(ml_last_error(), "RLIMIT_MEMLOCK"),
		      "%s: library gap: ml_last_error() does not name the limit: \"%s\"", what,
		      ml_last_error());
}

START_TEST(test_memlock_cumulative)
{
	struct rlimit rl = { 1 << 20, 1 << 20 };	/* 256 pages */
	struct ml_device *da, *db;
	struct ml_pd *pa, *pb;
	struct ml_mr *m1, *m2, *m3, *m4, *mb1;
	struct dp_counts c;
	uint8_t *mem;
	long pg = sysconf(_SC_PAGESIZE);

	ck_assert_int_eq(pg, 4096);
	dp_ns_enter(DP_A);
	ck_assert_int_eq(ml_device_open(dp_env.dev[0], &da), 0);
	ck_assert_int_eq(ml_device_open(dp_env.dev[1], &db), 0);
	ck_assert_int_eq(ml_pd_alloc(da, &pa), 0);
	ck_assert_int_eq(ml_pd_alloc(db, &pb), 0);
	mem = mmap(NULL, 4 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ck_assert_ptr_ne(mem, MAP_FAILED);
	memset(mem, 1, 4 << 20);
	ck_assert_int_eq(setrlimit(RLIMIT_MEMLOCK, &rl), 0);
	if (drop_cap_ipc_lock()) {
		dp_skip("test_memlock_cumulative", "capset failed: cannot drop CAP_IPC_LOCK");
		return;
	}
	/* still root, without CAP_IPC_LOCK: 64 + 64 + 65 pages fit */
	ck_assert_msg(ml_mr_reg(pa, mem, 256 << 10, ML_ACCESS_LOCAL_WRITE, &m1) == 0, "%s",
		      ml_last_error());
	ck_assert_msg(ml_mr_reg(pa, mem + (1 << 20), 256 << 10, ML_ACCESS_LOCAL_WRITE, &m2) == 0,
		      "%s", ml_last_error());
	ck_assert_msg(ml_mr_reg(pa, mem + (2 << 20) + 1, 256 << 10, ML_ACCESS_LOCAL_WRITE,
				&m3) == 0, "unaligned 256 KiB (65 pages): %s", ml_last_error());
	ck_assert_int_eq(dp_dev_counts(DP_A, &c), 0);
	ck_assert_msg(c.pinned == 193 && c.mrs == 3, "pinned-pages %llu mrs %u, want 193 and 3",
		      (unsigned long long)c.pinned, c.mrs);
	/* 193 + 64 > 256 */
	expect_enomem(pa, mem + (3 << 20), 256 << 10, "4th MR over the limit");
	/* the failed registration charged nothing: 63 pages still fit */
	ck_assert_msg(ml_mr_reg(pb, mem + (3 << 20), 63 * 4096, ML_ACCESS_LOCAL_WRITE, &mb1) == 0,
		      "63 pages on the other device after a refused registration: %s",
		      ml_last_error());
	/* the charge is per process, not per device: 256 pinned now */
	expect_enomem(pb, mem + (3 << 20) + (512 << 10), 4096, "one more page on the other device");
	/* deregistration uncharges at once: 20 dereg + immediate reg cycles */
	{
		int fails = 0;
		char first[256] = "";

		ck_assert_int_eq(ml_mr_dereg(m1), 0);
		for (int i = 0; i < 20; i++) {
			while (ml_mr_reg(pb, mem, 256 << 10, ML_ACCESS_LOCAL_WRITE, &m4) != 0) {
				if (!fails++)
					snprintf(first, sizeof(first), "%s", ml_last_error());
				usleep(5000);
				ck_assert_msg(fails < 1000, "the charge of a deregistered MR "
					      "never went away: %s", first);
			}
			if (i < 19)
				ck_assert_int_eq(ml_mr_dereg(m4), 0);
		}
		ck_assert_msg(fails == 0, "ml_mr_dereg() returned before its pages were "
			      "uncharged: registering 64 pages right after deregistering 64 "
			      "failed: %d refused attempts, 5 ms apart, over 20 cycles: %s",
			      fails, first);
	}
	ck_assert_int_eq(ml_mr_dereg(m4), 0);
	ck_assert_int_eq(ml_mr_dereg(m2), 0);
	ck_assert_int_eq(ml_mr_dereg(m3), 0);
	ck_assert_int_eq(ml_mr_dereg(mb1), 0);
	ck_assert_int_eq(dp_dev_counts(DP_A, &c), 0);
	if (c.pinned || c.mrs) {
		uint64_t first = c.pinned;
		uint32_t mrs = c.mrs;
		double t0 = dp_now();

		while ((c.pinned || c.mrs) && dp_now() - t0 < 3) {
			usleep(5000);
			ck_assert_int_eq(dp_dev_counts(DP_A, &c), 0);
		}
		ck_abort_msg("right after every MR was deregistered DEV_GET says pinned-pages "
			     "%llu, mrs %u; %s", (unsigned long long)first, mrs,
			     c.pinned || c.mrs ? "still so 3 s later (leak)" :
			     "0 some ms later (deferred unpin/uncharge)");
	}
	ml_device_close(da);
	ml_device_close(db);
}
END_TEST

/* ---- invalid work requests ---- */

enum {
	W_STALE_LKEY, W_PD2_LKEY, W_SGE_PAST_END, W_READ_INTO_RO, W_WRAP32, W_WRAP64,
	W_4X_MAX, W_RECV_RO, W_RECV_WRAP32, W_RECV_NUM_SGE, NW
};
static const char *const wnames[NW] = {
	"SEND with the lkey of a deregistered MR", "SEND with the lkey of another PD's MR",
	"SEND whose SGE ends one byte past its MR", "READ into an MR without local write",
	"raw SEND: two SGEs of 2 GiB (32-bit total wraps to 0)",
	"raw SEND: SGE address + length wraps 64 bits",
	"raw SEND: four SGEs of 4 GiB - 1",
	"receive into an MR without local write",
	"raw receive: two SGEs of 2 GiB on a small MR (32-bit total wraps)",
	"raw receive: num_sge 5",
};

static void raw_send(struct ml_qp *qp, const struct ml_send_wqe *w)
{
	uint32_t t = qp->sq.local;

	((struct ml_send_wqe *)qp->sq.entries)[t & qp->sq.mask] = *w;
	qp->sq.local = t + 1;
	__atomic_store_n(&qp->sq.hdr->producer, t + 1, __ATOMIC_RELEASE);
	C_OK(ml_qp_notify(qp));
}

static void raw_recv(struct ml_qp *qp, const struct ml_recv_wqe *w)
{
	uint32_t t = qp->rq.local;

	((struct ml_recv_wqe *)qp->rq.entries)[t & qp->rq.mask] = *w;
	qp->rq.local = t + 1;
	__atomic_store_n(&qp->rq.hdr->producer, t + 1, __ATOMIC_RELEASE);
}

static void wr_a(struct dp_node *n, void *arg)
{
	struct dp_setup s = { .buflen = 1 << 20, .nqp = NW + 1, .sq = 8, .rq = 8 };
	struct ml_mr *stale, *ro, *other;
	struct ml_pd *pd2;
	uint32_t stale_key;
	int c, r;

	(void)arg;
	dp_node_setup(n, &s);
	/* library checks: the QP stays usable */
	{
		struct ml_sge g[5];
		struct ml_send_wr wr = { .wr_id = 1, .opcode = ML_WR_SEND, .sg_list = g,
					 .num_sge = 5 };
		struct ml_recv_wr rw = { .wr_id = 2, .sg_list = g, .num_sge = 5 };

		for (c = 0; c < 5; c++)
			g[c] = (struct ml_sge){ (uintptr_t)n->buf, 8, n->mr->lkey };
		r = ml_post_send(n->qp[NW], &wr);
		C_CHECK(r == -EINVAL, "send with 5 SGEs: %d, want -EINVAL", r);
		C_CHECK(strstr(ml_last_error(), "num_sge"), "5 SGEs: message \"%s\"",
			ml_last_error());
		r = ml_post_recv(n->qp[NW], &rw);
		C_CHECK(r == -EINVAL, "receive with 5 SGEs: %d, want -EINVAL", r);
		for (c = 0; c < 4; c++)
			g[c].length = 0xffffffffu;
		wr.num_sge = 4;
		r = ml_post_send(n->qp[NW], &wr);
		C_CHECK(r == -EINVAL, "send of 4 x (4 GiB - 1) bytes: %d, want -EINVAL", r);
		dp_log(n, "oversized send: %s", ml_last_error());
		C_CHECK(ml_sq_space(n->qp[NW]) == n->qp[NW]->sq.size,
			"a refused post used a send slot");
	}
	C_OK(ml_mr_reg(n->pd, n->buf + 8192, 4096, ML_ACCESS_LOCAL_WRITE, &stale));
	stale_key = stale->lkey;
	C_OK(ml_mr_dereg(stale));
	C_OK(ml_mr_reg(n->pd, n->buf + 65536, 8192, 0, &ro));
	C_OK(ml_pd_alloc(n->dev, &pd2));
	C_OK(ml_mr_reg(pd2, n->buf + 131072, 8192, ML_ACCESS_ALL, &other));

	for (c = 0; c < NW; c++) {
		struct ml_sge g = { (uintptr_t)n->buf + 1, 64, n->mr->lkey };
		struct ml_send_wr wr = { .wr_id = 10 + (uint64_t)c, .opcode = ML_WR_SEND,
					 .flags = ML_WR_F_SIGNALED, .sg_list = &g, .num_sge = 1 };
		struct ml_send_wqe w;
		struct ml_cqe wc;
		unsigned int want = ML_WC_LOC_PROT_ERR;
		int raw = 0;

		memset(&w, 0, sizeof(w));
		w.wr_id = 10 + (uint64_t)c;
		w.opcode = ML_WR_SEND;
		w.flags = ML_WR_F_SIGNALED;
		switch (c) {
		case W_STALE_LKEY: g.lkey = stale_key; break;
		case W_PD2_LKEY: g.addr = (uintptr_t)other->addr; g.lkey = other->lkey; break;
		case W_SGE_PAST_END:
			g.addr = (uintptr_t)ro->addr + 8192 - 63;
			g.lkey = ro->lkey;
			break;
		case W_READ_INTO_RO:
			memset(ro->addr, 0x3c, 8192);
			wr.opcode = ML_WR_READ;
			wr.remote_addr = n->peerinfo.addr;
			wr.rkey = n->peerinfo.rkey;
			g.addr = (uintptr_t)ro->addr;
			g.lkey = ro->lkey;
			break;
		case W_WRAP32:
			raw = 1;
			w.num_sge = 2;
			w.sge[0] = (struct ml_sge){ (uintptr_t)n->buf, 0x80000000u, n->mr->lkey };
			w.sge[1] = (struct ml_sge){ (uintptr_t)n->buf, 0x80000000u, n->mr->lkey };
			want = 0;
			break;
		case W_WRAP64:
			raw = 1;
			w.num_sge = 1;
			w.sge[0] = (struct ml_sge){ 0xfffffffffffff000ULL, 0x2000, n->mr->lkey };
			want = 0;
			break;
		case W_4X_MAX:
			raw = 1;
			w.num_sge = 4;
			for (int k = 0; k < 4; k++)
				w.sge[k] = (struct ml_sge){ (uintptr_t)n->buf, 0xffffffffu,
							    n->mr->lkey };
			want = 0;
			break;
		default:	/* receive-side cases: a good SEND of 64 / 4096 bytes */
			want = 0;
			g.length = c == W_RECV_WRAP32 ? 4096 : 64;
			break;
		}
		dp_sync(n);	/* B posted its receive */
		if (raw)
			raw_send(n->qp[c], &w);
		else
			C_OK(ml_post_send(n->qp[c], &wr));
		wc = dp_cqe(n, 30000);
		C_CHECK(wc.wr_id == 10 + (uint64_t)c, "case %d: completion for wr %llu", c,
			(unsigned long long)wc.wr_id);
		if (want)
			C_CHECK(wc.status == want, "case %d (%s): status %s, want %s", c, wnames[c],
				ml_wc_status_str(wc.status), ml_wc_status_str(want));
		else
			C_CHECK(wc.status != ML_WC_SUCCESS, "case %d (%s): completed successfully",
				c, wnames[c]);
		dp_log(n, "case %d (%s): %s", c, wnames[c], ml_wc_status_str(wc.status));
		if (c == W_READ_INTO_RO)
			C_CHECK(dp_verify_fill(ro->addr, 8192, 0x3c) < 0,
				"READ into a read-only MR changed it");
		dp_send_byte(n->peer, 'C');
		C_CHECK(dp_recv_byte(n->peer, 30000) == 'V', "B: bad verdict");
	}
}

static void wr_b(struct dp_node *n, void *arg)
{
	struct dp_setup s = { .buflen = 1 << 20, .nqp = NW + 1, .sq = 8, .rq = 8 };
	struct ml_mr *ro, *small;
	int c;

	(void)arg;
	dp_node_setup(n, &s);
	C_OK(ml_mr_reg(n->pd, n->buf + 65536, 8192, 0, &ro));
	C_OK(ml_mr_reg(n->pd, n->buf + 131072, 4096, ML_ACCESS_LOCAL_WRITE, &small));
	memset(n->buf + 65536, 0x3c, 8192);
	memset(n->buf + 131072 - 4096, 0x3c, 3 * 4096);
	for (c = 0; c < NW; c++) {
		struct ml_recv_wqe w;
		struct ml_cqe wc;
		int expect = 0;

		memset(&w, 0, sizeof(w));
		w.wr_id = 900 + (uint64_t)c;
		if (c == W_RECV_RO) {
			struct ml_sge g = { (uintptr_t)n->buf + 65536, 4096, ro->lkey };
			struct ml_recv_wr rw = { .wr_id = w.wr_id, .sg_list = &g, .num_sge = 1 };

			C_OK(ml_post_recv(n->qp[c], &rw));
			expect = 1;
		} else if (c == W_RECV_WRAP32) {
			w.num_sge = 2;
			w.sge[0] = (struct ml_sge){ (uintptr_t)small->addr, 0x80000000u, small->lkey };
			w.sge[1] = (struct ml_sge){ (uintptr_t)small->addr, 0x80000000u, small->lkey };
			raw_recv(n->qp[c], &w);
			expect = 1;
		} else if (c == W_RECV_NUM_SGE) {
			w.num_sge = 5;
			for (int k = 0; k < 4; k++)
				w.sge[k] = (struct ml_sge){ (uintptr_t)n->buf, 16, n->mr->lkey };
			raw_recv(n->qp[c], &w);
			expect = 1;
		} else {
			struct ml_sge g = { (uintptr_t)n->buf + 262144, 4096, n->mr->lkey };
			struct ml_recv_wr rw = { .wr_id = w.wr_id, .sg_list = &g, .num_sge = 1 };

			C_OK(ml_post_recv(n->qp[c], &rw));
		}
		dp_sync(n);
		C_CHECK(dp_recv_byte(n->peer, 60000) == 'C', "A: bad message");
		if (expect) {
			wc = dp_cqe(n, 10000);
			C_CHECK(wc.wr_id == w.wr_id, "case %d: receive completion wr %llu", c,
				(unsigned long long)wc.wr_id);
			if (c == W_RECV_RO)
				C_CHECK(wc.status == ML_WC_LOC_PROT_ERR, "case %d (%s): receive "
					"status %s, want %s", c, wnames[c],
					ml_wc_status_str(wc.status),
					ml_wc_status_str(ML_WC_LOC_PROT_ERR));
			else
				C_CHECK(wc.status != ML_WC_SUCCESS, "case %d (%s): receive "
					"succeeded", c, wnames[c]);
			dp_log(n, "case %d (%s): receive %s", c, wnames[c],
			       ml_wc_status_str(wc.status));
		} else if (dp_next_cqe(n, n->cq, &wc, 100) == 0) {
			C_CHECK(wc.status != ML_WC_SUCCESS, "case %d (%s): a receive completed "
				"successfully", c, wnames[c]);
		}
		C_CHECK(dp_verify_fill(n->buf + 65536, 8192, 0x3c) < 0,
			"case %d: the read-only MR was written", c);
		C_CHECK(dp_verify_fill(n->buf + 131072 - 4096, 4096, 0x3c) < 0 &&
			dp_verify_fill(n->buf + 131072 + 4096, 4096, 0x3c) < 0,
			"case %d: bytes around the small MR were written", c);
		dp_send_byte(n->peer, 'V');
	}
}

START_TEST(test_invalid_wrs)
{
	dp_pair(wr_a, wr_b, NULL, 120);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("dp_access");
	TCase *tc = tcase_create("access");

	tcase_set_timeout(tc, 150);
	tcase_add_loop_test(tc, test_remote_access, 0, NACASES - 1);
	tcase_add_test(tc, test_memlock_cumulative);
	tcase_add_test(tc, test_invalid_wrs);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return dp_main(suite());
}
