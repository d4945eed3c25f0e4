// SPDX-License-Identifier: MIT
/*
 * fuzz_wire: frames injected through AF_PACKET at live queue pairs
 * (fuzz-wire.sh builds the pod and runs this).
 *
 *   fuzz_wire run             the fuzzer (environment below)
 *   fuzz_wire bind IF NODE    bind IF as a new device, print its name
 *   fuzz_wire wait DEV S      wait until DEV's first port is up
 *
 * Three kinds of actors share one pod (two netns joined by a veth pair,
 * MTU 9000, each end its own device; tests/dataplane/dp.h):
 *
 *  - a HEALTHY pair of processes moves rounds of SEND, SEND_IMM, WRITE,
 *    WRITE_IMM and READ (tests/dataplane/dp.c's transfer engine: every
 *    byte and every guard byte checked) for the whole run.  It must
 *    succeed: the injector never forges a frame that would pass the CRC
 *    *and* match a healthy QP's (source node, source QP, destination QP);
 *    what healthy QPs do get is verbatim replays of captured frames (late
 *    duplicates, which a network may deliver), corrupted copies (CRC
 *    mismatch), misdirected copies (other QP numbers or nodes), HELLO
 *    games, and a flood of garbage on the same port and device;
 *  - a VICTIM pair runs epochs of 3 connected QPs with short retry
 *    budgets, moving WRITE/SEND/READ.  The injector forges frames for
 *    them with valid CRCs and PSNs near the ones the QP dump shows
 *    (ML_CMD_QP_GET), so they reach the protocol logic: DATA of every
 *    opcode and flag, ACKs and NAKs with wild PSNs, READ requests for
 *    wild addresses, rkeys (including the healthy pair's) and response
 *    sizes, READ responses, big frames (non-linear skbs), mutated copies
 *    of captured frames with the CRC fixed.  Such frames can legitimately
 *    break a victim QP (a forged NAK fails a WR; a forged ACK completes a
 *    WR whose data never arrived; a forged WRITE with a real rkey writes
 *    its bytes): there is no authentication on the wire.  What is
 *    required of victims: every posted WR completes (success or error)
 *    within a bound (no hang), exactly once, with a valid status, and a
 *    QP that failed shows error; the CQ never overflows;
 *  - the INJECTOR sniffs the link (AF_PACKET) and sends the frames.
 *
 * Also checked: forged WRITEs carrying a healthy MR's rkey, sent through
 * victim QPs (another PD), never reach the healthy MR (a canary area the
 * healthy transfers do not use is verified at the end); a CRC oracle (every frame the injector sent whose CRC is
 * wrong but which passes the checks before the CRC must be counted in
 * DROP_CRC on the receiving port, and no other frame may be: nobody else
 * on the link corrupts anything), healthy QPs stay in RTS in every QP
 * dump, QP dump invariants (state, snd_una not after snd_psn), the
 * object counts are zero at the end.  Kernel splats and leaks are the
 * script's and the harness's part.
 *
 * Environment: ML_SEED, ML_FUZZ_SECONDS (default 120), DP_NS_A/B,
 * DP_DEV_A/B, DP_IF_A/B (the pod).  Output: "CHECK ok: ..." /
 * "CHECK FAIL: ..." lines and per-kind counts.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/megalink.h>

#include "dp.h"

/* ------------------------------------------------------------------ */
/* Shared state                                                         */
/* ------------------------------------------------------------------ */

enum wkind {
	W_JUNK, W_HDR, W_HELLO, W_SPOOF, W_CRCBAD, W_CRCMUT, W_MUTOK, W_DATA, W_ACK,
	W_READ, W_RRESP, W_BIG, W_REPLAY, W_MISDIR, W_TOPO, W_NKINDS
};

static const char *wkind_name[W_NKINDS] = {
	"junk", "header", "hello", "hello-spoof", "crc-bad", "mutated-crc-bad",
	"mutated-crc-ok", "forged-data", "forged-ack-nak", "forged-read-req",
	"forged-read-resp", "big-forged", "replay", "misdirected", "topo",
};

#define VQP	3		/* victim QPs per epoch */
#define MAX_FAILS 24

struct pubpair {
	atomic_uint gen;	/* bumped when both halves are published */
	uint32_t node[2];
	uint32_t qpn[2][DP_MAXQP];
	int nqp;
	uint32_t rkey[2];
	uint64_t addr[2], len[2];
};

struct wshared {
	atomic_ullong count[W_NKINDS];
	atomic_ullong sent_to[2], send_err, guarded, crc_expect[2], too_big;
	atomic_int nfail;
	char fail[MAX_FAILS][600];
	struct pubpair healthy, victim;
	/* victim outcomes */
	atomic_ullong v_posted, v_done, v_status[16], v_recv_done, v_recv_status[16];
	atomic_ullong v_epochs, v_connect_retry, v_dead_qps;
	atomic_ullong dumps, dump_errs, sniffed, replay_pool;
	uint64_t h_rounds;
};

static struct wshared *sh;
static uint64_t g_seed;
static double g_deadline;
static unsigned int g_secs = 120;
static uint16_t g_ethertype = ML_ETHERTYPE_DEFAULT;

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void wfail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void wfail(const char *fmt, ...)
{
	int i = atomic_fetch_add(&sh->nfail, 1);
	char text[600];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (i < MAX_FAILS)
		snprintf(sh->fail[i], sizeof(sh->fail[i]), "%s", text);
	if (i < 100)
		fprintf(stderr, "fuzz-wire: FAIL: %s\n", text);
}

/* ---- random numbers ---- */

#include "rng.h"	/* struct rng, rnd(), rn(), pct() */

/* ---- CRC32C as docs/wire.md 4.4 defines it: ~0 in, no final xor ---- */

static uint32_t crc_tab[256];

static void crc_init(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;

		for (int k = 0; k < 8; k++)
			c = (c >> 1) ^ ((c & 1) ? 0x82F63B78u : 0);
		crc_tab[i] = c;
	}
}

static uint32_t crc_upd(uint32_t c, const uint8_t *p, size_t n)
{
	while (n--)
		c = (c >> 8) ^ crc_tab[(c ^ *p++) & 0xff];
	return c;
}

/* CRC of a DATA/ACK payload (from the megalink header), crc field as 0. */
static uint32_t wire_crc(const uint8_t *pl, size_t len, size_t crc_off)
{
	static const uint8_t zero[4];
	uint32_t c = 0xFFFFFFFFu;

	c = crc_upd(c, pl, crc_off);
	c = crc_upd(c, zero, 4);
	return crc_upd(c, pl + crc_off + 4, len - crc_off - 4);
}

static bool crc_selftest(void)
{
	static const uint8_t ack[32] = {
		0x01, 0x03, 0x00, 0x20, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x02,
		0x00, 0x00, 0x00, 0x05, 0x00, 0x00, 0x00, 0x07, 0x00, 0x00, 0x00, 0x0f,
		0x00, 0x00, 0x00, 0x00, 0xab, 0x03, 0x4c, 0x34,
	};

	return crc_upd(0xFFFFFFFFu, (const uint8_t *)"123456789", 9) == 0x1CF96D7Cu &&
	       wire_crc(ack, 32, 28) == 0xab034c34u;
}

/* ------------------------------------------------------------------ */
/* The healthy pair                                                     */
/* ------------------------------------------------------------------ */

static void publish(struct pubpair *p, struct dp_node *n)
{
	p->node[n->side] = n->node;
	p->nqp = n->nqp;
	for (int i = 0; i < n->nqp; i++)
		p->qpn[n->side][i] = n->me.qpn[i];
	p->rkey[n->side] = n->me.rkey;
	p->addr[n->side] = n->me.addr;
	p->len[n->side] = n->me.len;
}

/*
 * The last CANARY bytes of each healthy MR are never used by the healthy
 * transfers: the injector aims forged WRITEs there, with the healthy
 * rkey, through victim QPs (another PD).  They must stay untouched.
 */
#define CANARY		(512u << 10)
#define CANARY_BYTE	0xC5

static void healthy_fn(struct dp_node *n, void *arg)
{
	struct dp_setup s = { .buflen = 6u << 20, .nqp = 2 };
	struct rng r;
	int64_t bad;
	int round;

	(void)arg;
	/* the injector gets the CPU first: on a debug kernel it starves */
	if (nice(5) < 0)
		dp_log(n, "nice: %s", strerror(errno));
	dp_node_setup(n, &s);
	memset(n->buf + n->len - CANARY, CANARY_BYTE, CANARY);
	publish(&sh->healthy, n);
	dp_sync(n);
	if (n->side == DP_A)
		atomic_fetch_add(&sh->healthy.gen, 1);
	for (round = 0;; round++) {
		struct dp_x x[8];
		int nx, i;

		if (n->side == DP_A) {
			char c = now_s() < g_deadline ? 'C' : 'E';

			dp_send_byte(n->peer, c);
			if (c == 'E')
				break;
		} else if (dp_recv_byte(n->peer, 600000) == 'E') {
			break;
		}
		rng_init(&r, g_seed, 0x7000u + (unsigned int)round);
		nx = 1 + (int)rn(&r, 8);
		memset(x, 0, sizeof(x));
		for (i = 0; i < nx; i++) {
			static const int ops[] = { ML_WR_SEND, ML_WR_SEND_IMM, ML_WR_WRITE,
						   ML_WR_WRITE_IMM, ML_WR_READ };

			x[i].op = ops[rn(&r, 5)];
			x[i].qp = (int)rn(&r, 2);
			x[i].size = pct(&r, 25) ? 1 + rn(&r, 512 * 1024) : 1 + rn(&r, 20000);
			x[i].nsge_a = 1 + (int)rn(&r, 4);
			x[i].nsge_b = 1 + (int)rn(&r, 4);
			x[i].seed = (uint32_t)rnd(&r);
			x[i].imm = (uint32_t)rnd(&r);
		}
		dp_x_place(x, nx, 64 + rn(&r, 64), 64 + rn(&r, 64));
		C_CHECK(x[nx - 1].off_a + dp_x_span(&x[nx - 1], DP_A) < n->len - CANARY &&
			x[nx - 1].off_b + dp_x_span(&x[nx - 1], DP_B) < n->len - CANARY,
			"round %d reaches the canary", round);
		dp_x_run(n, x, nx, 90000);
		if (n->side == DP_A)
			sh->h_rounds++;
	}
	bad = dp_verify_fill(n->buf + n->len - CANARY, CANARY, CANARY_BYTE);
	C_CHECK(bad < 0, "the canary of the healthy MR (rkey 0x%x) was written at +%lld (0x%02x): "
		"a forged WRITE through another PD's QP reached it (seed 0x%016llx)",
		n->me.rkey, (long long)bad, n->buf[n->len - CANARY + bad],
		(unsigned long long)g_seed);
}

/* ------------------------------------------------------------------ */
/* The victim pair                                                      */
/* ------------------------------------------------------------------ */

#define V_BUF_A		(4u << 20)
#define V_BUF_B		(8u << 20)
#define V_RECVS		32		/* receives per QP on B */
#define V_RECV_LEN	65536u
#define V_TARGET	(6u << 20)	/* B: WRITE/READ area, after the receives */
#define V_HANG_S	45.0		/* a victim WR must complete within this */

static void victim_teardown(struct dp_node *n)
{
	for (int i = 0; i < n->nqp; i++)
		C_OK(ml_qp_destroy(n->qp[i]));
	C_OK(ml_mr_dereg(n->mr));
	C_OK(ml_cq_destroy(n->cq));
	C_OK(ml_pd_free(n->pd));
	ml_device_close(n->dev);
	munmap(n->buf - 3, n->len + 8192);
	n->dev = NULL;
}

struct vwr {
	int qp;
	uint32_t size;
	uint8_t op;
	bool done;
	double t;
};

static void victim_requester(struct dp_node *n, struct rng *r, double end)
{
	static struct vwr w[4096];
	bool live[VQP];
	int nw = 0, done = 0, i;

	for (i = 0; i < VQP; i++)
		live[i] = true;
	while (now_s() < end && nw < 4000) {
		int k = 1 + (int)rn(r, 6), any = 0;

		for (i = 0; i < VQP; i++)
			any |= live[i];
		if (!any)
			break;
		for (int j = 0; j < k; j++) {
			static const uint32_t ops[] = { ML_WR_SEND, ML_WR_SEND_IMM, ML_WR_WRITE,
							ML_WR_WRITE_IMM, ML_WR_READ };
			struct ml_sge g;
			struct ml_send_wr wr;
			uint32_t op = ops[rn(r, 5)], size;
			int q = (int)rn(r, VQP), rc;

			if (!live[q])
				continue;
			size = op == ML_WR_SEND || op == ML_WR_SEND_IMM ?
			       1 + rn(r, V_RECV_LEN) : 1 + rn(r, pct(r, 20) ? 1u << 20 : 40000);
			g.addr = (uintptr_t)n->buf + rn(r, V_BUF_A - size);
			g.length = size;
			g.lkey = n->mr->lkey;
			memset(&wr, 0, sizeof(wr));
			wr.wr_id = (uint64_t)nw;
			wr.opcode = op;
			wr.flags = ML_WR_F_SIGNALED;
			wr.sg_list = &g;
			wr.num_sge = 1;
			wr.imm = (uint32_t)rnd(r);
			wr.remote_addr = n->peerinfo.addr + V_TARGET +
					 rn(r, (uint32_t)(n->peerinfo.len - V_TARGET - size));
			wr.rkey = n->peerinfo.rkey;
			rc = ml_post_send(n->qp[q], &wr);
			if (rc == -EIO) {	/* the QP went to error meanwhile */
				live[q] = false;
				continue;
			}
			C_CHECK(rc == 0, "victim post: %d: %s", rc, ml_last_error());
			w[nw] = (struct vwr){ .qp = q, .size = size, .op = (uint8_t)op,
					       .t = now_s() };
			nw++;
			atomic_fetch_add(&sh->v_posted, 1);
		}
		/* every posted WR completes, once, in bounded time */
		while (done < nw) {
			struct ml_cqe wc[16];
			int got = ml_cq_poll(n->cq, wc, 16);

			C_CHECK(got >= 0, "victim A: cq poll: %d: %s", got, ml_last_error());
			for (int c = 0; c < got; c++) {
				uint64_t id = wc[c].wr_id;

				C_CHECK(id < (uint64_t)nw, "victim A: completion for wr_id %llu "
					"never posted (%d posted)", (unsigned long long)id, nw);
				C_CHECK(!w[id].done, "victim A: two completions for wr %llu",
					(unsigned long long)id);
				C_CHECK(wc[c].status <= ML_WC_CQ_OVERRUN_ERR,
					"victim A: status %u", wc[c].status);
				C_CHECK(wc[c].qpn == ml_qp_num(n->qp[w[id].qp]),
					"victim A: completion of wr %llu names QP %u, posted on %u",
					(unsigned long long)id, wc[c].qpn,
					ml_qp_num(n->qp[w[id].qp]));
				if (!wc[c].status && w[id].op == ML_WR_READ)
					C_CHECK(wc[c].byte_len == w[id].size,
						"victim A: READ of %u completed with byte_len %u",
						w[id].size, wc[c].byte_len);
				w[id].done = true;
				done++;
				atomic_fetch_add(&sh->v_done, 1);
				atomic_fetch_add(&sh->v_status[wc[c].status & 15], 1);
				if (wc[c].status && live[w[id].qp]) {
					live[w[id].qp] = false;
					atomic_fetch_add(&sh->v_dead_qps, 1);
				}
			}
			if (got)
				continue;
			for (i = 0; i < nw; i++) {
				struct ml_qp_attr qa;

				if (w[i].done || now_s() - w[i].t < V_HANG_S)
					continue;
				memset(&qa, 0, sizeof(qa));
				ml_qp_query(n->qp[w[i].qp], &qa);
				dp_fail(__FILE__, __LINE__, "victim WR %d (op %u, %u bytes, QP %u) "
					"did not complete in %.0f s: QP %s, snd_psn %u snd_una %u "
					"rcv_psn %u outstanding %u, %llu retransmits %llu timeouts "
					"(seed 0x%016llx)", i, w[i].op, w[i].size, qa.qpn, V_HANG_S,
					ml_qp_state_name(qa.state), qa.snd_psn, qa.snd_una,
					qa.rcv_psn, qa.outstanding,
					(unsigned long long)qa.retransmits,
					(unsigned long long)qa.timeouts,
					(unsigned long long)g_seed);
			}
			ml_cq_wait(n->dev, 20);
		}
	}
	/* a QP whose WR failed must say so */
	for (i = 0; i < VQP; i++) {
		struct ml_qp_attr qa;

		if (live[i])
			continue;
		C_OK(ml_qp_query(n->qp[i], &qa));
		C_CHECK(qa.state == ML_QPS_ERROR, "victim A: QP %u had a failed WR but is %s",
			qa.qpn, ml_qp_state_name(qa.state));
	}
}

static void victim_responder(struct dp_node *n)
{
	static bool posted[VQP][V_RECVS];
	bool live[VQP];
	int q, j;

	for (q = 0; q < VQP; q++) {
		live[q] = true;
		for (j = 0; j < V_RECVS; j++)
			posted[q][j] = false;
		for (j = 0; j < V_RECVS; j++) {
			struct ml_sge g = {
				.addr = (uintptr_t)n->buf + (uint64_t)q * (2u << 20) +
					(uint64_t)j * V_RECV_LEN,
				.length = V_RECV_LEN, .lkey = n->mr->lkey,
			};
			struct ml_recv_wr wr = {
				.wr_id = ((uint64_t)q << 16) | (uint64_t)j, .sg_list = &g,
				.num_sge = 1,
			};

			int rc = ml_post_recv(n->qp[q], &wr);

			if (rc == -EIO) {	/* a forged frame was faster */
				live[q] = false;
				break;
			}
			C_CHECK(rc == 0, "victim B: post recv: %d: %s", rc, ml_last_error());
			posted[q][j] = true;
		}
	}
	for (;;) {
		struct pollfd pf = { .fd = n->peer, .events = POLLIN };
		struct ml_cqe wc[16];
		int got = ml_cq_poll(n->cq, wc, 16);

		C_CHECK(got >= 0, "victim B: cq poll: %d: %s", got, ml_last_error());
		for (int c = 0; c < got; c++) {
			uint64_t id = wc[c].wr_id;

			q = (int)(id >> 16);
			j = (int)(id & 0xffff);
			C_CHECK(q < VQP && j < V_RECVS && posted[q][j],
				"victim B: completion for receive %llu that is not posted "
				"(status %u opcode %u)", (unsigned long long)id, wc[c].status,
				wc[c].opcode);
			C_CHECK(wc[c].status <= ML_WC_CQ_OVERRUN_ERR, "victim B: status %u",
				wc[c].status);
			if (!wc[c].status && wc[c].opcode == ML_WC_RECV)
				C_CHECK(wc[c].byte_len <= V_RECV_LEN,
					"victim B: RECV of %u bytes into %u", wc[c].byte_len,
					V_RECV_LEN);
			posted[q][j] = false;
			atomic_fetch_add(&sh->v_recv_done, 1);
			atomic_fetch_add(&sh->v_recv_status[wc[c].status & 15], 1);
			if (wc[c].status)
				live[q] = false;
			if (live[q]) {
				struct ml_sge g = {
					.addr = (uintptr_t)n->buf + (uint64_t)q * (2u << 20) +
						(uint64_t)j * V_RECV_LEN,
					.length = V_RECV_LEN, .lkey = n->mr->lkey,
				};
				struct ml_recv_wr wr = { .wr_id = id, .sg_list = &g, .num_sge = 1 };
				int rc = ml_post_recv(n->qp[q], &wr);

				if (rc == -EIO)
					live[q] = false;
				else
					C_CHECK(rc == 0, "victim B: repost: %d: %s", rc,
						ml_last_error());
				if (!rc)
					posted[q][j] = true;
			}
		}
		if (got)
			continue;
		if (poll(&pf, 1, 0) == 1) {
			C_CHECK(dp_recv_byte(n->peer, 1000) == 'X', "victim B: bad message");
			return;
		}
		ml_cq_wait(n->dev, 20);
	}
}

static void victim_fn(struct dp_node *n, void *arg)
{
	struct ml_connect_opts o = {
		.timeout_ms = 20, .retry_cnt = 4, .rnr_retry = 4, .rnr_timer_ms = 5,
	};
	struct dp_setup s = {
		.buflen = n->side == DP_A ? V_BUF_A : V_BUF_B, .nqp = VQP, .sq = 64, .rq = 64,
		.no_connect = 1,
	};
	struct rng r;

	(void)arg;
	if (nice(3) < 0)
		dp_log(n, "nice: %s", strerror(errno));
	rng_init(&r, g_seed, 0x9000u + (unsigned int)n->side);
	for (int epoch = 0;; epoch++) {
		if (n->side == DP_A) {
			char c = now_s() < g_deadline - 2 ? 'C' : 'E';

			dp_send_byte(n->peer, c);
			if (c == 'E')
				break;
		} else if (dp_recv_byte(n->peer, 600000) == 'E') {
			break;
		}
		dp_node_setup(n, &s);
		for (int i = 0; i < VQP; i++) {
			double until = now_s() + 20;
			int rc;

			/* a spoofed HELLO may hide the peer for a moment */
			while ((rc = ml_qp_connect(n->qp[i], n->peerinfo.node, n->peerinfo.qpn[i],
						   &o)) == -EHOSTUNREACH && now_s() < until) {
				atomic_fetch_add(&sh->v_connect_retry, 1);
				usleep(50000);
			}
			C_CHECK(rc == 0, "victim connect: %d: %s", rc, ml_last_error());
		}
		publish(&sh->victim, n);
		dp_sync(n);
		if (n->side == DP_A) {
			atomic_fetch_add(&sh->victim.gen, 1);
			atomic_fetch_add(&sh->v_epochs, 1);
			victim_requester(n, &r, now_s() + 2 + rn(&r, 6));
			dp_send_byte(n->peer, 'X');
		} else {
			victim_responder(n);
		}
		dp_sync(n);
		victim_teardown(n);
		dp_sync(n);
	}
}

/* ------------------------------------------------------------------ */
/* The injector                                                         */
/* ------------------------------------------------------------------ */

#define RING	384
#define FMAX	9100

struct cap {
	uint16_t len;
	uint8_t dir;		/* the side that sent it */
	uint8_t f[FMAX];
};

struct side {
	int tx;			/* AF_PACKET on this side's veth: frames go to the other side */
	int ifindex;
	uint8_t mac[6];
	struct ml_ctl *ctl;
	/* from the last QP dump */
	struct ml_qp_info *qps;
	size_t nqps;
};

struct inj {
	struct side s[2];
	int sniff;
	struct cap *ring;
	unsigned int nring, head;
	uint64_t seen[65536];	/* hashes of frames we injected */
	struct rng r;
	uint32_t mtu_payload;	/* bytes after the Ethernet header */
	uint32_t pmtu;
	uint64_t nsent;
};

/* Hash of a frame: its length and first 80 bytes (headers) are enough. */
static uint64_t fhash(const uint8_t *p, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ULL ^ n;
	size_t k = n < 80 ? n : 80;

	while (k--)
		h = (h ^ *p++) * 0x100000001b3ULL;
	return h | 1;
}

static int open_side(struct inj *in, int side)
{
	struct ifreq ifr;
	int one = 1, fd;

	if (dp_env.ns[side]) {
		char path[128];
		int nfd, r;

		snprintf(path, sizeof(path), "/run/netns/%s", dp_env.ns[side]);
		nfd = open(path, O_RDONLY | O_CLOEXEC);
		if (nfd < 0)
			return -errno;
		r = setns(nfd, CLONE_NEWNET);
		close(nfd);
		if (r)
			return -errno;
	}
	fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", dp_env.ifname[side]);
	if (ioctl(fd, SIOCGIFINDEX, &ifr))
		return -errno;
	in->s[side].ifindex = ifr.ifr_ifindex;
	if (ioctl(fd, SIOCGIFHWADDR, &ifr))
		return -errno;
	memcpy(in->s[side].mac, ifr.ifr_hwaddr.sa_data, 6);
	if (ioctl(fd, SIOCGIFMTU, &ifr))
		return -errno;
	in->mtu_payload = (uint32_t)ifr.ifr_mtu;
	/* bypass the qdisc: our frames do not show up on our own tap */
	setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof(one));
	in->s[side].tx = fd;
	if (ml_ctl_open(&in->s[side].ctl))
		return -ENOENT;
	if (side == DP_A) {
		struct sockaddr_ll sll = {
			.sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL),
			.sll_ifindex = in->s[side].ifindex,
		};
		int sz = 256 << 10;	/* recent frames only: the rest is dropped */

		in->sniff = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK,
				   htons(ETH_P_ALL));
		if (in->sniff < 0)
			return -errno;
		setsockopt(in->sniff, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
		if (bind(in->sniff, (struct sockaddr *)&sll, sizeof(sll)))
			return -errno;
	}
	return 0;
}

/* Captured frames: the link's real traffic, minus what we injected. */
static void sniff_drain(struct inj *in)
{
	static uint8_t buf[16384];

	for (int k = 0; k < 12; k++) {
		struct sockaddr_ll sll;
		socklen_t sl = sizeof(sll);
		ssize_t n = recvfrom(in->sniff, buf, sizeof(buf), 0, (struct sockaddr *)&sll, &sl);
		uint64_t h;
		struct cap *c;

		if (n < 0)
			return;
		if (n < 14 + 12 || n > FMAX || ntohs(*(uint16_t *)(buf + 12)) != g_ethertype)
			continue;
		if (buf[15] != ML_WIRE_DATA && buf[15] != ML_WIRE_ACK)
			continue;	/* HELLOs are not interesting to replay */
		h = fhash(buf, (size_t)n);
		if (in->seen[h & 0xffff] == h)
			continue;
		atomic_fetch_add(&sh->sniffed, 1);
		/* outgoing on A's veth: sent by A; anything else came from B */
		c = &in->ring[in->head % RING];
		c->len = (uint16_t)n;
		c->dir = sll.sll_pkttype == PACKET_OUTGOING ? DP_A : DP_B;
		memcpy(c->f, buf, (size_t)n);
		in->head++;
		if (in->nring < RING)
			in->nring++;
	}
}

static struct ml_qp_info *find_qp(struct side *s, uint32_t qpn)
{
	for (size_t i = 0; i < s->nqps; i++)
		if (s->qps[i].qpn == qpn)
			return &s->qps[i];
	return NULL;
}

static bool is_healthy_qpn(int side, uint32_t qpn)
{
	for (int i = 0; i < sh->healthy.nqp; i++)
		if (sh->healthy.qpn[side][i] == qpn)
			return true;
	return false;
}

/* QP dumps of both sides, and the invariants every dump must satisfy. */
static void refresh(struct inj *in)
{
	for (int side = 0; side < 2; side++) {
		struct side *s = &in->s[side];
		int r;

		ml_free(s->qps);
		s->qps = NULL;
		s->nqps = 0;
		r = ml_ctl_qps(s->ctl, dp_env.dev[side], &s->qps, &s->nqps);
		atomic_fetch_add(&sh->dumps, 1);
		if (r < 0) {
			atomic_fetch_add(&sh->dump_errs, 1);
			wfail("QP dump of %s: %s", dp_env.dev[side], ml_last_error());
			continue;
		}
		for (size_t i = 0; i < s->nqps; i++) {
			const struct ml_qp_info *q = &s->qps[i];

			if (q->state > ML_QPS_ERROR)
				wfail("QP dump: %s QP %u in state %u", q->dev, q->qpn, q->state);
			if (q->state == ML_QPS_RTS && (int32_t)(q->snd_psn - q->snd_una) < 0)
				wfail("QP dump: %s QP %u snd_una %u is after snd_psn %u", q->dev,
				      q->qpn, q->snd_una, q->snd_psn);
			if (q->outstanding > 4096)
				wfail("QP dump: %s QP %u has %u outstanding WRs", q->dev, q->qpn,
				      q->outstanding);
			if (atomic_load(&sh->healthy.gen) && is_healthy_qpn(side, q->qpn) &&
			    q->state != ML_QPS_RTS && now_s() < g_deadline)
				wfail("healthy QP %u of %s is %s (status %u): the injector broke "
				      "a QP it never forged a frame for (seed 0x%016llx)", q->qpn,
				      q->dev, ml_qp_state_name(q->state), q->status,
				      (unsigned long long)g_seed);
		}
	}
}

/* ---- frame building ---- */

static size_t eth(struct inj *in, uint8_t *f, int to)
{
	memcpy(f, in->s[to].mac, 6);
	memcpy(f + 6, in->s[1 - to].mac, 6);
	f[12] = (uint8_t)(g_ethertype >> 8);
	f[13] = (uint8_t)g_ethertype;
	return 14;
}

static void put_hdr(uint8_t *p, uint8_t type, uint16_t len, uint32_t src, uint32_t dst)
{
	struct ml_wire_hdr h = {
		.version = ML_WIRE_VERSION, .type = type, .len = htons(len),
		.src_node = htonl(src), .dst_node = htonl(dst),
	};

	memcpy(p, &h, sizeof(h));
}

static uint32_t psn_near(struct rng *r, uint32_t x)
{
	switch (rn(r, 10)) {
	case 0: case 1: case 2: case 3:
		return x;
	case 4: case 5: case 6:
		return x + rn(r, 7) - 3;
	case 7:
		return x + 100 - rn(r, 200);
	case 8:
		return x + 0x80000000u + rn(r, 3) - 1;
	default:
		return (uint32_t)rnd(r);
	}
}

/* A (victim) pair a_i <-> b_i, seen from @to: the QP that receives. */
struct target {
	int to;
	uint32_t src_node, dst_node, dst_qpn, src_qpn;
	struct ml_qp_info *rq;	/* the receiving QP's dump entry, or NULL */
	struct ml_qp_info *sq;	/* its peer's */
};

static bool pick_victim(struct inj *in, struct target *t, int to)
{
	struct pubpair *v = &sh->victim;
	int i;

	if (!atomic_load(&v->gen) || !v->nqp)
		return false;
	i = (int)rn(&in->r, (uint32_t)v->nqp);
	t->to = to;
	t->dst_node = v->node[to];
	t->src_node = v->node[1 - to];
	t->dst_qpn = v->qpn[to][i];
	t->src_qpn = v->qpn[1 - to][i];
	t->rq = find_qp(&in->s[to], t->dst_qpn);
	t->sq = find_qp(&in->s[1 - to], t->src_qpn);
	return true;
}

/* A raddr/rkey pair for a forged WRITE or READ_REQ to side @to. */
static void pick_remote(struct inj *in, int to, uint32_t plen, uint64_t *raddr, uint32_t *rkey)
{
	struct rng *r = &in->r;
	struct pubpair *p = pct(r, 25) && atomic_load(&sh->healthy.gen) ? &sh->healthy :
			    &sh->victim;
	uint64_t a = p->addr[to], l = p->len[to];

	*rkey = p->rkey[to];
	if (p == &sh->healthy && pct(r, 50)) {
		/* right into the healthy canary: must be refused (another PD) */
		*raddr = a + l - CANARY + rn(r, CANARY - (plen < CANARY ? plen : 0));
		return;
	}
	switch (rn(r, 9)) {
	case 0: case 1: case 2:
		*raddr = a + rn(r, (uint32_t)(l > plen ? l - plen : 1));
		break;
	case 3:
		*raddr = a - 1 - rn(r, 64);
		break;
	case 4:
		*raddr = a + l - plen + 1 + rn(r, 64);
		break;
	case 5:
		*raddr = a + l;
		break;
	case 6:
		*raddr = ~0ULL - rn(r, 4096);
		break;
	case 7:
		*raddr = rnd(r);
		*rkey = (uint32_t)rnd(r);
		break;
	default:
		*raddr = a + rn(r, (uint32_t)l);
		*rkey ^= 1u << rn(r, 32);
		break;
	}
}

/* DATA frame to @to: returns the frame length. */
static size_t mk_data(struct inj *in, uint8_t *f, const struct target *t, uint32_t psn,
		      uint8_t op, uint8_t flags, uint32_t imm, uint64_t raddr, uint32_t rkey,
		      uint32_t msg_len, uint32_t plen)
{
	size_t o = eth(in, f, t->to);
	uint8_t *p = f + o;
	struct ml_wire_data d;

	memset(&d, 0, sizeof(d));
	put_hdr(p, ML_WIRE_DATA, (uint16_t)(sizeof(d) + plen), t->src_node, t->dst_node);
	memcpy(&d.hdr, p, sizeof(d.hdr));
	d.dst_qpn = htonl(t->dst_qpn);
	d.src_qpn = htonl(t->src_qpn);
	d.psn = htonl(psn);
	d.op = op;
	d.flags = flags;
	d.imm = htonl(imm);
	d.raddr = htobe64(raddr);
	d.rkey = htonl(rkey);
	d.msg_len = htonl(msg_len);
	memcpy(p, &d, sizeof(d));
	for (uint32_t i = 0; i < plen; i += 8) {
		uint64_t v = rnd(&in->r);

		memcpy(p + sizeof(d) + i, &v, plen - i < 8 ? plen - i : 8);
	}
	d.crc = htonl(wire_crc(p, sizeof(d) + plen, offsetof(struct ml_wire_data, crc)));
	memcpy(p + offsetof(struct ml_wire_data, crc), &d.crc, 4);
	return o + sizeof(d) + plen;
}

static size_t mk_ack(struct inj *in, uint8_t *f, const struct target *t, uint32_t psn,
		     uint8_t syn)
{
	size_t o = eth(in, f, t->to);
	uint8_t *p = f + o;
	struct ml_wire_ack a;

	memset(&a, 0, sizeof(a));
	put_hdr(p, ML_WIRE_ACK, sizeof(a), t->src_node, t->dst_node);
	memcpy(&a.hdr, p, sizeof(a.hdr));
	a.dst_qpn = htonl(t->dst_qpn);
	a.src_qpn = htonl(t->src_qpn);
	a.psn = htonl(psn);
	a.syndrome = syn;
	memcpy(p, &a, sizeof(a));
	a.crc = htonl(wire_crc(p, sizeof(a), offsetof(struct ml_wire_ack, crc)));
	memcpy(p + offsetof(struct ml_wire_ack, crc), &a.crc, 4);
	return o + sizeof(a);
}

/* Recompute the CRC of a DATA/ACK frame in place (after mutations). */
static void fix_crc(uint8_t *f, size_t flen)
{
	uint8_t *p = f + 14;
	size_t len, hl, co;

	if (flen < 14 + 12)
		return;
	len = ntohs(*(uint16_t *)(p + 2));
	hl = p[1] == ML_WIRE_ACK ? sizeof(struct ml_wire_ack) : sizeof(struct ml_wire_data);
	co = p[1] == ML_WIRE_ACK ? offsetof(struct ml_wire_ack, crc) :
				   offsetof(struct ml_wire_data, crc);
	if (len < hl || len > flen - 14)
		return;
	{
		uint32_t c = htonl(wire_crc(p, len, co));

		memcpy(p + co, &c, 4);
	}
}

/*
 * What the receiver (node @rx) will do with the frame, as far as it
 * matters here: true when it fails exactly at the CRC check (docs/wire.md
 * 3 and 4.8: checks 1-6 and a pass, then the CRC).  @match: set when it
 * passes the CRC and names (source node, source QP, destination QP) of a
 * healthy QP of the receiver.
 */
static bool predict(const uint8_t *f, size_t flen, uint32_t rx, int to, bool *match)
{
	const uint8_t *p = f + 14;
	size_t plen = flen - 14, hl, co;
	uint32_t len, src, dst, dq, sq, c, want;

	*match = false;
	if (flen < 14 + 12 || p[0] != ML_WIRE_VERSION ||
	    f[12] != (uint8_t)(g_ethertype >> 8) || f[13] != (uint8_t)g_ethertype)
		return false;
	len = ntohs(*(const uint16_t *)(p + 2));
	if (len < 12 || len > plen)
		return false;
	memcpy(&src, p + 4, 4);
	memcpy(&dst, p + 8, 4);
	src = ntohl(src);
	dst = ntohl(dst);
	if (src == 0 || src == 0xffffffffu || src == rx)
		return false;
	if (dst != 0xffffffffu && dst != rx)
		return false;
	if (p[1] != ML_WIRE_DATA && p[1] != ML_WIRE_ACK)
		return false;
	hl = p[1] == ML_WIRE_ACK ? sizeof(struct ml_wire_ack) : sizeof(struct ml_wire_data);
	co = p[1] == ML_WIRE_ACK ? offsetof(struct ml_wire_ack, crc) :
				   offsetof(struct ml_wire_data, crc);
	if (len < hl)
		return false;
	memcpy(&c, p + co, 4);
	want = wire_crc(p, len, co);
	if (ntohl(c) != want)
		return true;
	memcpy(&dq, p + 12, 4);
	memcpy(&sq, p + 16, 4);
	dq = ntohl(dq);
	sq = ntohl(sq);
	for (int i = 0; i < sh->healthy.nqp; i++)
		if (dq == sh->healthy.qpn[to][i] && sq == sh->healthy.qpn[1 - to][i] &&
		    src == sh->healthy.node[1 - to])
			*match = true;
	return false;
}

/* Send @f (already addressed) to side @to; the guard refuses forgeries
 * against healthy QPs unless @verbatim (a replay of a captured frame). */
static void inject(struct inj *in, const uint8_t *f, size_t len, int to, bool verbatim,
		   enum wkind k)
{
	struct sockaddr_ll sll = {
		.sll_family = AF_PACKET, .sll_ifindex = in->s[1 - to].ifindex, .sll_halen = 6,
	};
	bool match, crcdrop = false;
	uint64_t h;

	if (len >= 14)
		crcdrop = predict(f, len, sh->healthy.node[to] ? sh->healthy.node[to] :
				  sh->victim.node[to], to, &match);
	else
		match = false;
	if (match && !verbatim) {
		atomic_fetch_add(&sh->guarded, 1);
		return;
	}
	if (len > 14 + in->mtu_payload) {
		atomic_fetch_add(&sh->too_big, 1);
		return;
	}
	memcpy(sll.sll_addr, f, 6);
	h = fhash(f, len);
	in->seen[h & 0xffff] = h;
	if (sendto(in->s[1 - to].tx, f, len, 0, (struct sockaddr *)&sll, sizeof(sll)) !=
	    (ssize_t)len) {
		atomic_fetch_add(&sh->send_err, 1);
		return;
	}
	atomic_fetch_add(&sh->count[k], 1);
	atomic_fetch_add(&sh->sent_to[to], 1);
	if (crcdrop)
		atomic_fetch_add(&sh->crc_expect[to], 1);
	in->nsent++;
}

/* ---- the kinds ---- */

static void k_junk(struct inj *in, uint8_t *f, int to)
{
	struct rng *r = &in->r;
	size_t o = eth(in, f, to), n = pct(r, 70) ? rn(r, 80) : rn(r, in->mtu_payload + 1);

	for (size_t i = 0; i < n; i++)
		f[o + i] = (uint8_t)rnd(r);
	if (n >= 1 && pct(r, 50))
		f[o] = ML_WIRE_VERSION;
	if (n >= 2 && pct(r, 50))
		f[o + 1] = (uint8_t)(1 + rn(r, 3));
	if (pct(r, 10))	/* not even our EtherType */
		f[13] ^= 1;
	inject(in, f, o + n, to, false, W_JUNK);
}

static void k_hdr(struct inj *in, uint8_t *f, int to)
{
	struct rng *r = &in->r;
	static const uint8_t vers[] = { 0, 1, 1, 1, 2, 255 };
	static const uint8_t types[] = { 0, 1, 2, 3, 4, 255 };
	uint32_t nodes[] = { 0, 0xffffffffu, sh->victim.node[to], sh->victim.node[1 - to],
			     (uint32_t)rnd(r), 0xfffffffeu };
	size_t o = eth(in, f, to), body = rn(r, 200), flen;
	uint16_t len;

	for (size_t i = 12; i < body + 12; i++)
		f[o + i] = (uint8_t)rnd(r);
	switch (rn(r, 5)) {
	case 0: len = (uint16_t)rn(r, 12); break;
	case 1: len = (uint16_t)(12 + body + 1 + rn(r, 100)); break;
	case 2: len = 0xffff; break;
	case 3: len = (uint16_t)(12 + rn(r, (uint32_t)body + 1)); break;
	default: len = (uint16_t)(12 + body); break;
	}
	put_hdr(f + o, types[rn(r, 6)], len, nodes[rn(r, 6)], nodes[rn(r, 6)]);
	f[o] = vers[rn(r, 6)];
	flen = o + 12 + body;
	if (pct(r, 20))
		flen = o + rn(r, 12);	/* truncated header */
	inject(in, f, flen, to, false, W_HDR);
}

static void k_hello(struct inj *in, uint8_t *f, int to, bool spoof)
{
	struct rng *r = &in->r;
	struct ml_wire_hello h;
	size_t o = eth(in, f, to), len = sizeof(h);
	static const uint32_t deads[] = { 30, 31, 100, 1000, 2000, 29, 600001, 0 };

	memset(f, 0xff, 6);	/* broadcast, as HELLOs are */
	if (pct(r, 20))
		memcpy(f, in->s[to].mac, 6);
	if (spoof) {
		memcpy(f + 6, in->s[1 - to].mac, 6);
	} else {
		/* a small pool of fake stations: the neighbour table never fills */
		f[6] = pct(r, 5) ? 0x01 : 0x02;
		f[7] = 0x00;
		f[8] = 0x5e;
		f[9] = 0x77;
		f[10] = 0x00;
		f[11] = (uint8_t)(pct(r, 3) ? rn(r, 80) : rn(r, 8));
		if (pct(r, 3))
			memset(f + 6, 0, 6);
	}
	memset(&h, 0, sizeof(h));
	put_hdr((uint8_t *)&h, ML_WIRE_HELLO, sizeof(h),
		spoof && pct(r, 50) ? sh->victim.node[1 - to] : 0x3000 + rn(r, 16),
		ML_WIRE_NODE_ALL);
	if (!spoof && pct(r, 5))
		h.hdr.src_node = htonl(sh->victim.node[1 - to]);	/* a second station */
	if (!spoof && pct(r, 3))
		h.hdr.src_node = htonl(sh->victim.node[to]);		/* our own: loop */
	h.src_port = htons(pct(r, 90) ? (uint16_t)rn(r, 2) : (uint16_t)rn(r, 20));
	h.flags = htons(pct(r, 95) ? 0 : (uint16_t)rnd(r));
	h.caps = htobe64(pct(r, 80) ? 7 : rnd(r));
	h.dead_ms = htonl(spoof ? 30 + rn(r, 200) : (pct(r, 90) ? 30 + rn(r, 1500) :
						   deads[rn(r, 8)]));
	h.hello_ms = htonl(pct(r, 90) ? 100 : (uint32_t)rnd(r));
	snprintf(h.dev_name, sizeof(h.dev_name), "ml%u", rn(r, 300));
	if (pct(r, 5))
		memset(h.dev_name, 'z', sizeof(h.dev_name));
	if (pct(r, 5))
		h.hdr.len = htons((uint16_t)rn(r, 60));
	if (pct(r, 5))
		len = rn(r, sizeof(h));
	else if (pct(r, 5))
		len = sizeof(h) + rn(r, 64);
	memcpy(f + o, &h, len < sizeof(h) ? len : sizeof(h));
	if (len > sizeof(h))
		memset(f + o + sizeof(h), 0xee, len - sizeof(h));
	inject(in, f, o + len, to, false, spoof ? W_SPOOF : W_HELLO);
}

/* A forged DATA frame at a victim QP of @to, PSN near what it expects. */
static void k_data(struct inj *in, uint8_t *f, int to, enum wkind k)
{
	struct rng *r = &in->r;
	struct target t;
	static const uint8_t ops[] = { ML_OP_SEND, ML_OP_WRITE, ML_OP_WRITE, ML_OP_SEND,
				       ML_OP_READ_REQ, 0, 5, 255 };
	uint32_t psn, plen, msg_len, rkey, imm;
	uint64_t raddr;
	uint8_t op, flags;
	size_t n;

	if (!pick_victim(in, &t, to))
		return;
	psn = psn_near(r, t.rq ? t.rq->rcv_psn : 0);
	op = k == W_READ ? ML_OP_READ_REQ : ops[rn(r, 8)];
	if (k == W_BIG)
		plen = in->pmtu - rn(r, 4096);
	else
		plen = pct(r, 50) ? rn(r, 300) : rn(r, in->pmtu + 65);
	if (op == ML_OP_READ_REQ && pct(r, 80))
		plen = 0;
	if (plen > in->mtu_payload - sizeof(struct ml_wire_data))
		plen = in->mtu_payload - (uint32_t)sizeof(struct ml_wire_data);
	flags = (uint8_t)(pct(r, 70) ? (ML_PKT_F_FIRST | ML_PKT_F_LAST) : rn(r, 16));
	if (pct(r, 30))
		flags |= ML_PKT_F_ACKREQ;
	if (pct(r, 15))
		flags |= ML_PKT_F_IMM;
	if (pct(r, 3))
		flags |= (uint8_t)(rnd(r) & 0xf0);
	pick_remote(in, to, plen, &raddr, &rkey);
	switch (rn(r, 6)) {
	case 0: msg_len = 0; break;
	case 1: msg_len = (uint32_t)rnd(r); break;
	case 2: msg_len = plen + rn(r, 100000); break;
	default: msg_len = plen; break;
	}
	if (op == ML_OP_READ_REQ) {
		static const uint32_t imms[] = { 0, 1, 63, 64, 65, 256, 1408, 8896, 8897,
						 0xffffffffu };

		imm = pct(r, 50) ? in->pmtu : imms[rn(r, 10)];
		msg_len = pct(r, 60) ? 1 + rn(r, 65536) : msg_len;
	} else {
		imm = (uint32_t)rnd(r);
	}
	n = mk_data(in, f, &t, psn, op, flags, imm, raddr, rkey, msg_len, plen);
	inject(in, f, n, to, false, k);
	/* sometimes the rest of the "message", in order */
	if (op != ML_OP_READ_REQ && pct(r, 10)) {
		for (int i = 1; i < 4; i++) {
			n = mk_data(in, f, &t, psn + (uint32_t)i, op,
				    i == 3 ? ML_PKT_F_LAST | ML_PKT_F_ACKREQ : 0, imm,
				    raddr + (uint64_t)i * plen, rkey, msg_len, plen);
			inject(in, f, n, to, false, k);
		}
	}
}

static void k_ack(struct inj *in, uint8_t *f, int to)
{
	struct rng *r = &in->r;
	struct target t;
	uint32_t base;
	uint8_t syn;
	size_t n;

	if (!pick_victim(in, &t, to))
		return;
	base = t.rq ? (pct(r, 50) ? t.rq->snd_una : t.rq->snd_psn) : 0;
	/* the fatal NAKs (ACCESS, INVALID) sparingly: victims live longer */
	switch (rn(r, 20)) {
	case 0: case 1: case 2: case 3: case 4: case 5: case 6: case 7:
		syn = ML_ACK_OK;
		break;
	case 8: case 9: case 10: case 11: case 12:
		syn = ML_NAK_SEQ;
		break;
	case 13: case 14: case 15:
		syn = ML_NAK_RNR;
		break;
	case 16:
		syn = (uint8_t)(ML_NAK_ACCESS + rn(r, 2));
		break;
	default:
		syn = (uint8_t)(pct(r, 50) ? 5 + rn(r, 3) : rnd(r));
		break;
	}
	n = mk_ack(in, f, &t, psn_near(r, base) - (syn == ML_ACK_OK), syn);
	/* the ECN echo (docs/wire.md 4.9), sometimes with a bit nobody defined */
	if (pct(r, 20)) {
		f[n - sizeof(struct ml_wire_ack) + offsetof(struct ml_wire_ack, flags)] =
			pct(r, 80) ? ML_ACK_F_ECE : (uint8_t)rnd(r);
		fix_crc(f, n);
	}
	inject(in, f, n, to, false, W_ACK);
}

/*
 * TOPO records (docs/wire.md 7): well-formed ones for a pool of fake
 * nodes (more than ML_TOPO_MAX_NODES of them, so the table fills), for
 * the receiver itself (a spoof) and for the other real node, and
 * malformed ones (lengths, link counts, ids, ports, kinds, lifetimes).
 * TOPO frames carry no CRC; they reach every device on the link.
 */
static void k_topo(struct inj *in, uint8_t *f, int to)
{
	struct rng *r = &in->r;
	size_t o = eth(in, f, to), len;
	struct ml_wire_topo t;
	uint32_t origin, nl, i;
	uint8_t *p = f + o;

	memset(f, 0xff, 6);		/* broadcast, as records are flooded */
	memset(&t, 0, sizeof(t));
	switch (rn(r, 10)) {
	case 0:
		origin = sh->victim.node[to];		/* the receiver: a spoof */
		break;
	case 1:
		origin = sh->victim.node[1 - to];	/* its neighbour */
		break;
	case 2:
		origin = pct(r, 50) ? 0 : ML_WIRE_NODE_ALL;
		break;
	default:
		origin = 0x6000 + rn(r, ML_TOPO_MAX_NODES + 64);
		break;
	}
	nl = pct(r, 90) ? rn(r, 8) : rn(r, ML_TOPO_MAX_LINKS + 8);
	len = sizeof(t) + nl * sizeof(struct ml_wire_topo_link);
	if (len + o > 14 + in->mtu_payload)
		nl = 0, len = sizeof(t);
	put_hdr((uint8_t *)&t, ML_WIRE_TOPO, (uint16_t)len,
		pct(r, 80) ? 0x6000 + rn(r, 32) : sh->victim.node[1 - to], ML_WIRE_NODE_ALL);
	t.origin = htonl(origin);
	t.seq = htonl(pct(r, 70) ? (uint32_t)rn(r, 1000) : (uint32_t)rnd(r));
	t.lifetime_ms = htonl(pct(r, 80) ? 1000 + rn(r, 20000) :
			      pct(r, 50) ? 0 : ML_TOPO_LIFETIME_MAX_MS + rn(r, 3));
	t.num_links = htons((uint16_t)nl);
	t.flags = htons(pct(r, 95) ? 0 : (uint16_t)rnd(r));
	memcpy(p, &t, sizeof(t));
	for (i = 0; i < nl; i++) {
		struct ml_wire_topo_link l = {
			.node = htonl(pct(r, 90) ? 0x6000 + rn(r, ML_TOPO_MAX_NODES + 64) :
				      (uint32_t)rnd(r)),
			.local_port = (uint8_t)(pct(r, 95) ? rn(r, 2) : rnd(r)),
			.remote_port = (uint8_t)(pct(r, 95) ? rn(r, 2) : rnd(r)),
			.kind = (uint8_t)(pct(r, 95) ? rn(r, 2) : rnd(r)),
			.state = (uint8_t)(pct(r, 95) ? rn(r, 2) : rnd(r)),
			.mtu = htonl(pct(r, 90) ? 9000 : (uint32_t)rnd(r)),
		};

		memcpy(p + sizeof(t) + i * sizeof(l), &l, sizeof(l));
	}
	/* a length that disagrees with num_links, or a frame cut short */
	if (pct(r, 10))
		*(uint16_t *)(p + 2) = htons((uint16_t)(len + (pct(r, 50) ? 12 : -1)));
	if (pct(r, 5))
		len = rn(r, (uint32_t)len);
	inject(in, f, o + len, to, false, W_TOPO);
}

static void k_rresp(struct inj *in, uint8_t *f, int to)
{
	struct rng *r = &in->r;
	struct target t;
	uint32_t plen;
	size_t n;

	if (!pick_victim(in, &t, to))
		return;
	plen = pct(r, 60) ? in->pmtu : rn(r, in->pmtu + 65);
	if (plen > in->mtu_payload - sizeof(struct ml_wire_data))
		plen = in->mtu_payload - (uint32_t)sizeof(struct ml_wire_data);
	n = mk_data(in, f, &t, psn_near(r, t.rq ? t.rq->snd_una : 0), ML_OP_READ_RESP,
		    (uint8_t)(pct(r, 50) ? ML_PKT_F_LAST : rn(r, 16)), 0, 0, 0, 0, plen);
	inject(in, f, n, to, false, W_RRESP);
}

/* A well-formed frame whose CRC is wrong: must be counted in DROP_CRC. */
static void k_crcbad(struct inj *in, uint8_t *f, int to)
{
	struct rng *r = &in->r;
	struct target t;
	size_t n;
	uint8_t *p = f + 14;
	size_t co;

	if (!pick_victim(in, &t, to))
		return;
	if (pct(r, 50)) {
		uint32_t plen = rn(r, in->pmtu);

		n = mk_data(in, f, &t, t.rq ? t.rq->rcv_psn : 0, ML_OP_WRITE,
			    ML_PKT_F_FIRST | ML_PKT_F_LAST, 0, sh->victim.addr[to],
			    sh->victim.rkey[to], plen, plen);
		co = offsetof(struct ml_wire_data, crc);
	} else {
		n = mk_ack(in, f, &t, t.rq ? t.rq->snd_psn : 0, (uint8_t)rn(r, 5));
		co = offsetof(struct ml_wire_ack, crc);
	}
	/* corrupt one bit anywhere in what the CRC covers, or the CRC itself */
	if (pct(r, 70)) {
		size_t at = rn(r, (uint32_t)(n - 14));

		if (at >= co && at < co + 4)
			at = co + 4 < n - 14 ? co + 4 : co - 1;
		/* keep the checks before the CRC passing: not the common header */
		if (at < 12)
			at = 12 + rn(r, (uint32_t)(co - 12));
		p[at] ^= (uint8_t)(1u << rn(r, 8));
	} else {
		p[co + rn(r, 4)] ^= (uint8_t)(1u << rn(r, 8));
	}
	inject(in, f, n, to, false, W_CRCBAD);
}

static struct cap *pick_cap(struct inj *in, bool victim_only)
{
	for (int tries = 0; tries < 16 && in->nring; tries++) {
		struct cap *c;
		unsigned int back;
		uint32_t dq;

		/* mostly recent frames, sometimes old ones */
		back = pct(&in->r, 70) ? rn(&in->r, in->nring < 32 ? in->nring : 32) :
					 rn(&in->r, in->nring);
		c = &in->ring[(in->head - 1 - back) % RING];
		if (!victim_only)
			return c;
		memcpy(&dq, c->f + 14 + 12, 4);
		if (!is_healthy_qpn(1 - c->dir, ntohl(dq)))
			return c;
	}
	return NULL;
}

static void k_replay(struct inj *in, uint8_t *f)
{
	struct cap *c = pick_cap(in, false);
	int n = pct(&in->r, 20) ? 2 + (int)rn(&in->r, 6) : 1;

	if (!c)
		return;
	atomic_store(&sh->replay_pool, in->nring);
	for (int i = 0; i < n && c; i++) {
		memcpy(f, c->f, c->len);
		inject(in, f, c->len, 1 - c->dir, true, W_REPLAY);
		c = &in->ring[(unsigned int)(c - in->ring + 1) % RING];
		if (c->len == 0)
			break;
	}
}

/* Mutate a captured frame, CRC fixed (ok) or not. */
static void k_mutate(struct inj *in, uint8_t *f, bool fixcrc)
{
	struct rng *r = &in->r;
	struct cap *c = pick_cap(in, fixcrc);
	size_t n;
	uint8_t *p = f + 14;
	int k, nm;

	if (!c)
		return;
	memcpy(f, c->f, c->len);
	n = c->len;
	nm = 1 + (int)rn(r, 3);
	for (k = 0; k < nm; k++) {
		uint32_t v;

		switch (rn(r, 10)) {
		case 0:		/* a bit anywhere in the headers */
			p[rn(r, n - 14 < 56 ? (uint32_t)(n - 14) : 56)] ^= (uint8_t)(1u << rn(r, 8));
			break;
		case 1:		/* psn +- a little */
			if (n >= 14 + 24) {
				memcpy(&v, p + 20, 4);
				v = htonl(ntohl(v) + rn(r, 9) - 4);
				memcpy(p + 20, &v, 4);
			}
			break;
		case 2:		/* op / syndrome */
			if (n >= 14 + 25)
				p[24] = (uint8_t)rn(r, 7);
			break;
		case 3:		/* flags */
			if (n >= 14 + 26)
				p[25] = (uint8_t)rnd(r);
			break;
		case 4:		/* raddr */
			if (n >= 14 + 40) {
				uint64_t a;

				memcpy(&a, p + 32, 8);
				a = htobe64(be64toh(a) + (pct(r, 50) ? rn(r, 1 << 20) :
							  rnd(r)));
				memcpy(p + 32, &a, 8);
			}
			break;
		case 5:		/* rkey, msg_len */
			if (n >= 14 + 48)
				p[40 + rn(r, 8)] ^= (uint8_t)rnd(r);
			break;
		case 6:		/* header len: shorter (padding) or longer (no such bytes) */
			v = ntohs(*(uint16_t *)(p + 2));
			v = pct(r, 50) ? v - rn(r, v < 64 ? v : 64) : v + rn(r, 64);
			*(uint16_t *)(p + 2) = htons((uint16_t)v);
			break;
		case 7:		/* the frame cut short */
			n -= rn(r, (uint32_t)(n - 14));
			break;
		case 8:		/* garbage after the payload */
			if (n + 64 < FMAX) {
				size_t add = rn(r, 64);

				for (size_t i = 0; i < add; i++)
					f[n + i] = (uint8_t)rnd(r);
				n += add;
			}
			break;
		default:	/* DATA <-> ACK */
			p[1] = p[1] == ML_WIRE_ACK ? ML_WIRE_DATA : ML_WIRE_ACK;
			break;
		}
	}
	if (fixcrc)
		fix_crc(f, n);
	inject(in, f, n, 1 - c->dir, false, fixcrc ? W_MUTOK : W_CRCMUT);
}

/* A captured frame sent to QP numbers or from nodes it was not for. */
static void k_misdir(struct inj *in, uint8_t *f)
{
	struct rng *r = &in->r;
	struct cap *c = pick_cap(in, false);
	uint8_t *p = f + 14;
	uint32_t v;

	if (!c || c->len < 14 + 32)
		return;
	memcpy(f, c->f, c->len);
	switch (rn(r, 5)) {
	case 0:
		v = htonl(pct(r, 50) ? 0 : (uint32_t)rnd(r) & 0xffffff);
		memcpy(p + 12, &v, 4);
		break;
	case 1:
		v = htonl(sh->victim.qpn[1 - c->dir][rn(r, VQP)]);
		memcpy(p + 12, &v, 4);
		break;
	case 2:
		memcpy(&v, p + 16, 4);
		v = htonl(ntohl(v) + 1 + rn(r, 5));
		memcpy(p + 16, &v, 4);
		break;
	case 3:
		v = htonl(0x4000 + rn(r, 100));
		memcpy(p + 4, &v, 4);
		break;
	default:
		v = htonl(ML_WIRE_NODE_ALL);
		memcpy(p + 8, &v, 4);
		break;
	}
	fix_crc(f, c->len);
	inject(in, f, c->len, 1 - c->dir, false, W_MISDIR);
}

static void injector(void)
{
	static struct inj in;
	static uint8_t f[FMAX + 128];
	int r, i;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	alarm((unsigned int)(g_deadline - now_s()) + 300);
	rng_init(&in.r, g_seed, 0xabcdef);
	in.ring = calloc(RING, sizeof(*in.ring));
	for (i = 0; i < 2; i++) {
		r = open_side(&in, i);
		if (r || !in.ring) {
			wfail("injector: cannot open %s/%s: %s", dp_env.ns[i], dp_env.ifname[i],
			      strerror(-r));
			_exit(1);
		}
	}
	/* the pod's MTU minus the DATA header, rounded down to 64 (docs/wire.md 4.5) */
	in.pmtu = (in.mtu_payload - (uint32_t)sizeof(struct ml_wire_data)) & ~63u;
	while (!atomic_load(&sh->healthy.gen) || !atomic_load(&sh->victim.gen)) {
		if (now_s() > g_deadline)
			_exit(0);
		usleep(20000);
	}
	double next_refresh = 0;

	for (uint64_t it = 0; now_s() < g_deadline; it++) {
		unsigned int p = rn(&in.r, 1000);
		int to = (int)rn(&in.r, 2);

		if (it % 4 == 0)
			sniff_drain(&in);
		if (now_s() > next_refresh) {
			refresh(&in);
			next_refresh = now_s() + 0.4;
		}
		if (p < 35)
			k_junk(&in, f, to);
		else if (p < 50)
			k_topo(&in, f, to);
		else if (p < 90)
			k_hdr(&in, f, to);
		else if (p < 130)
			k_hello(&in, f, to, false);
		else if (p < 135)
			k_hello(&in, f, to, true);
		else if (p < 200)
			k_crcbad(&in, f, to);
		else if (p < 250)
			k_mutate(&in, f, false);
		else if (p < 400)
			k_mutate(&in, f, true);
		else if (p < 580)
			k_data(&in, f, to, W_DATA);
		else if (p < 680)
			k_ack(&in, f, to);
		else if (p < 750)
			k_data(&in, f, to, W_READ);
		else if (p < 800)
			k_rresp(&in, f, to);
		else if (p < 830)
			k_data(&in, f, to, W_BIG);
		else if (p < 940)
			k_replay(&in, f);
		else
			k_misdir(&in, f);
		/* leave the (emulated) CPUs some room for the real traffic */
		if (it % 8 == 0)
			usleep(200 + rn(&in.r, 800));
	}
	refresh(&in);
	_exit(0);
}

/* ------------------------------------------------------------------ */
/* Parent                                                               */
/* ------------------------------------------------------------------ */

static uint64_t softnet_dropped(void)
{
	FILE *fp = fopen("/proc/net/softnet_stat", "r");
	unsigned int a, b;
	uint64_t sum = 0;
	char line[512];

	if (!fp)
		return 0;
	while (fgets(line, sizeof(line), fp))
		if (sscanf(line, "%x %x", &a, &b) == 2)
			sum += b;
	fclose(fp);
	return sum;
}

static uint64_t veth_drops(int side)
{
	char path[256];
	uint64_t sum = 0;
	FILE *fp;

	dp_ns_enter(side);
	for (int k = 0; k < 2; k++) {
		unsigned long long v = 0;

		snprintf(path, sizeof(path), "/sys/class/net/%s/statistics/%s",
			 dp_env.ifname[side], k ? "tx_dropped" : "rx_dropped");
		fp = fopen(path, "r");
		if (fp && fscanf(fp, "%llu", &v) == 1)
			sum += v;
		if (fp)
			fclose(fp);
	}
	dp_ns_leave();
	return sum;
}

static const char *stat_short(int s)
{
	const char *n = ml_stat_name((unsigned int)s);

	return n ? n : "?";
}

START_TEST(fuzz_run)
{
	uint64_t st0[2][ML_LIB_STATS_SLOTS], st1[2][ML_LIB_STATS_SLOTS];
	uint64_t drops0, drops1;
	struct dp_run hr, vr;
	pid_t inj;
	int i, side, fails, st, bad;

	ck_assert_msg(dp_stats(DP_A, st0[0]) == 0 && dp_stats(DP_B, st0[1]) == 0,
		      "STATS_GET of the pod failed");
	drops0 = softnet_dropped() + veth_drops(DP_A) + veth_drops(DP_B);
	g_deadline = now_s() + g_secs;

	dp_run_init(&hr);
	dp_spawn(&hr, 0, DP_A, healthy_fn, NULL, (int)g_secs + 600);
	dp_spawn(&hr, 1, DP_B, healthy_fn, NULL, (int)g_secs + 600);
	dp_run_init(&vr);
	dp_spawn(&vr, 0, DP_A, victim_fn, NULL, (int)g_secs + 600);
	dp_spawn(&vr, 1, DP_B, victim_fn, NULL, (int)g_secs + 600);
	fflush(NULL);
	inj = fork();
	ck_assert_int_ge(inj, 0);
	if (!inj)
		injector();

	if (waitpid(inj, &st, 0) != inj || !WIFEXITED(st) || WEXITSTATUS(st))
		wfail("the injector died (status 0x%x)", st);
	printf("injection done; waiting for the pairs to finish their rounds\n");
	bad = dp_wait(&vr, 600);
	for (i = 0; i < 2; i++)
		if (vr.sh->msg[i][0])
			printf("  victim: %s\n", vr.sh->msg[i]);
	if (bad)
		printf("CHECK FAIL: victim pair (%llu epochs): see above\n",
		       (unsigned long long)sh->v_epochs);
	else
		printf("CHECK ok: victim pair: every WR completed once, in bounded time "
		       "(%llu epochs, %llu WRs, %llu receive completions)\n",
		       (unsigned long long)sh->v_epochs, (unsigned long long)sh->v_done,
		       (unsigned long long)sh->v_recv_done);
	bad = dp_wait(&hr, 600);
	for (i = 0; i < 2; i++)
		if (hr.sh->msg[i][0])
			printf("  healthy: %s\n", hr.sh->msg[i]);
	if (bad)
		printf("CHECK FAIL: healthy pair (byte-checked) failed after %llu rounds\n",
		       (unsigned long long)sh->h_rounds);
	else if (sh->h_rounds < 3)
		printf("CHECK FAIL: healthy pair made only %llu rounds\n",
		       (unsigned long long)sh->h_rounds);
	else
		printf("CHECK ok: healthy pair byte exact through the injection (%llu rounds)\n",
		       (unsigned long long)sh->h_rounds);
	dp_run_free(&vr);
	dp_run_free(&hr);

	/* the CRC oracle */
	drops1 = softnet_dropped() + veth_drops(DP_A) + veth_drops(DP_B);
	ck_assert_msg(dp_stats(DP_A, st1[0]) == 0 && dp_stats(DP_B, st1[1]) == 0,
		      "STATS_GET of the pod failed");
	for (side = 0; side < 2; side++) {
		uint64_t got = st1[side][ML_STAT_DROP_CRC] - st0[side][ML_STAT_DROP_CRC];
		uint64_t want = sh->crc_expect[side], lost = drops1 - drops0;

		if (got > want)
			printf("note: %s counted %llu CRC drops, %llu more than the frames with "
			       "a bad CRC the injector sent it (zero-copy frames whose pages "
			       "changed after the CRC was computed: stale retransmissions, "
			       "READ responses of memory being written)\n",
			       dp_env.dev[side], (unsigned long long)got,
			       (unsigned long long)(got - want));
		if (got + lost < want)
			printf("CHECK FAIL: %s counted %llu CRC drops for %llu frames with a "
			       "bad CRC (%llu frames lost on the way): frames with a bad CRC "
			       "were accepted\n", dp_env.dev[side], (unsigned long long)got,
			       (unsigned long long)want, (unsigned long long)lost);
		else
			printf("CHECK ok: CRC oracle on %s: %llu frames with a bad CRC, %llu "
			       "counted (%llu lost on the way)\n", dp_env.dev[side],
			       (unsigned long long)want, (unsigned long long)got,
			       (unsigned long long)lost);
	}

	printf("injected frames per kind:\n");
	for (i = 0; i < W_NKINDS; i++)
		printf("  %-18s %llu\n", wkind_name[i], (unsigned long long)sh->count[i]);
	printf("sent to A %llu, to B %llu; refused by the guard %llu; too big %llu; send "
	       "errors %llu; sniffed %llu; QP dumps %llu\n",
	       (unsigned long long)sh->sent_to[0], (unsigned long long)sh->sent_to[1],
	       (unsigned long long)sh->guarded, (unsigned long long)sh->too_big,
	       (unsigned long long)sh->send_err, (unsigned long long)sh->sniffed,
	       (unsigned long long)sh->dumps);
	printf("victim send completions by status:");
	for (i = 0; i < 16; i++)
		if (sh->v_status[i])
			printf(" %s=%llu", ml_wc_status_str((unsigned int)i),
			       (unsigned long long)sh->v_status[i]);
	printf("\nvictim receive completions by status:");
	for (i = 0; i < 16; i++)
		if (sh->v_recv_status[i])
			printf(" %s=%llu", ml_wc_status_str((unsigned int)i),
			       (unsigned long long)sh->v_recv_status[i]);
	printf("\nvictim QPs that failed %llu; connect retries %llu\n",
	       (unsigned long long)sh->v_dead_qps, (unsigned long long)sh->v_connect_retry);
	for (side = 0; side < 2; side++) {
		printf("port counters of %s during the run:", dp_env.dev[side]);
		for (i = ML_STAT_TX_FRAMES; i <= ML_STAT_MAX; i++)
			if (st1[side][i] != st0[side][i])
				printf(" %s=%llu", stat_short(i),
				       (unsigned long long)(st1[side][i] - st0[side][i]));
		printf("\n");
	}

	/* the topology tables: bounded (the real neighbour's reachability reported) */
	for (side = 0; side < 2; side++) {
		struct ml_topo_node_info *tn = NULL;
		uint32_t other = sh->victim.node[1 - side];
		bool seen = false;
		struct ml_ctl *ctl = NULL;
		size_t nn = 0;
		int tr;

		dp_ns_enter(side);
		tr = ml_ctl_open(&ctl);
		dp_ns_leave();
		/*
		 * Forged HELLOs may have flapped the neighbour just before the
		 * end: give discovery a few seconds to find it again.
		 */
		for (int wait = 0; !tr && !seen && wait < 50; wait++) {
			if (wait)
				usleep(200000);
			ml_free(tn);
			tn = NULL;
			tr = ml_ctl_topology(ctl, dp_env.dev[side], &tn, &nn);
			for (size_t k = 0; tr >= 0 && k < nn; k++)
				if (tn[k].node_id == other &&
				    (tn[k].flags & ML_TOPO_NODE_REACHABLE))
					seen = true;
		}
		if (ctl)
			ml_ctl_close(ctl);
		if (tr < 0)
			printf("CHECK FAIL: topology of %s: %d: %s\n", dp_env.dev[side], tr,
			       ml_last_error());
		else if (nn > ML_TOPO_MAX_NODES)
			printf("CHECK FAIL: topology of %s after %llu forged records: %zu "
			       "records (at most %d)\n", dp_env.dev[side],
			       (unsigned long long)sh->count[W_TOPO], nn, ML_TOPO_MAX_NODES);
		else
			/*
			 * Reachability is reported, not required: records are
			 * not authenticated (docs/wire.md 7.5), and a forged
			 * record of the neighbour with a newer seq shadows its
			 * real one until it ages out.
			 */
			printf("CHECK ok: topology of %s after %llu forged records: %zu "
			       "records (at most %d); node 0x%x %s\n", dp_env.dev[side],
			       (unsigned long long)sh->count[W_TOPO], nn, ML_TOPO_MAX_NODES,
			       other, seen ? "reachable" :
			       "not reachable (a forged record of it shadows the real one)");
		ml_free(tn);
	}

	for (side = 0; side < 2; side++)
		dp_assert_counts_zero(side, 10000);
	printf("CHECK ok: object counts of both devices are zero\n");

	fails = atomic_load(&sh->nfail);
	for (i = 0; i < fails && i < MAX_FAILS; i++)
		printf("  failure %d: %s\n", i + 1, sh->fail[i]);
	if (fails)
		printf("CHECK FAIL: %d failures during the injection (seed=0x%016llx)\n", fails,
		       (unsigned long long)g_seed);
	else
		printf("CHECK ok: QP dumps consistent, healthy QPs in RTS throughout\n");
	{
		uint64_t total = 0;

		for (i = 0; i < W_NKINDS; i++)
			total += sh->count[i];
		if (total < 5ull * g_secs || !sh->count[W_DATA] || !sh->count[W_ACK] ||
		    !sh->count[W_REPLAY])
			printf("CHECK FAIL: only %llu frames injected in %u s (forged data %llu, "
			       "acks %llu, replays %llu)\n", (unsigned long long)total, g_secs,
			       (unsigned long long)sh->count[W_DATA],
			       (unsigned long long)sh->count[W_ACK],
			       (unsigned long long)sh->count[W_REPLAY]);
		else
			printf("CHECK ok: %llu frames injected\n", (unsigned long long)total);
	}
}
END_TEST

/* ------------------------------------------------------------------ */
/* Control subcommands and main                                         */
/* ------------------------------------------------------------------ */

static int ctl_main(int argc, char **argv)
{
	struct ml_ctl *ctl;

	if (ml_ctl_open(&ctl)) {
		fprintf(stderr, "fuzz_wire: %s\n", ml_last_error());
		return 1;
	}
	if (!strcmp(argv[1], "bind") && argc == 4) {
		struct ml_bind_opts o = { 0 };
		struct ml_port_info pi;

		if (ml_parse_node_id(argv[3], &o.node_id) || ml_ctl_bind(ctl, argv[2], &o, &pi)) {
			fprintf(stderr, "fuzz_wire: bind %s: %s\n", argv[2], ml_last_error());
			return 1;
		}
		printf("%s\n", pi.dev);
		return 0;
	}
	if (!strcmp(argv[1], "wait") && argc == 4) {
		for (int i = 0; i < atoi(argv[3]) * 10; i++) {
			struct ml_port_info *pi = NULL;
			size_t n = 0;
			int up = ml_ctl_ports(ctl, argv[2], &pi, &n) >= 0 && n >= 1 &&
				 pi[0].link_state == ML_LINK_UP;

			ml_free(pi);
			if (up)
				return 0;
			usleep(100000);
		}
		fprintf(stderr, "fuzz_wire: %s: port not up\n", argv[2]);
		return 1;
	}
	fprintf(stderr, "usage: fuzz_wire run | bind IF NODE | wait DEV S\n");
	return 2;
}

int main(int argc, char **argv)
{
	const char *e;
	Suite *su;
	TCase *tc;
	SRunner *sr;
	FILE *fp;

	if (argc >= 3)
		return ctl_main(argc, argv);
	if (argc != 2 || strcmp(argv[1], "run")) {
		fprintf(stderr, "usage: fuzz_wire run | bind IF NODE | wait DEV S\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	e = getenv("ML_SEED");
	g_seed = e && *e ? strtoull(e, NULL, 0) : splitmix((uint64_t)time(NULL) ^
							    ((uint64_t)getpid() << 32));
	e = getenv("ML_FUZZ_SECONDS");
	if (e && *e)
		g_secs = (unsigned int)strtoul(e, NULL, 0);
	fp = fopen("/sys/module/megalink/parameters/ethertype", "r");
	if (fp) {
		unsigned int v;

		if (fscanf(fp, "%i", &v) == 1)
			g_ethertype = (uint16_t)v;
		fclose(fp);
	}
	printf("seed=0x%016llx (ML_SEED reproduces the frame choices; timing still varies)\n",
	       (unsigned long long)g_seed);
	printf("injecting for %u s, EtherType 0x%04x\n", g_secs, g_ethertype);
	crc_init();
	if (!crc_selftest()) {
		printf("CHECK FAIL: CRC32C self-test against docs/wire.md 4.4 failed\n");
		return 1;
	}
	printf("CHECK ok: CRC32C matches the examples of docs/wire.md 4.4\n");
	dp_init();
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED)
		return 1;
	memset(sh, 0, sizeof(*sh));

	su = suite_create("fuzz_wire");
	tc = tcase_create("fuzz");
	tcase_set_timeout(tc, g_secs + 1800.0);
	tcase_add_test(tc, fuzz_run);
	suite_add_tcase(su, tc);
	sr = srunner_create(su);
	srunner_run_all(sr, CK_SILENT);
	if (srunner_ntests_failed(sr)) {
		TestResult **tr = srunner_failures(sr);

		printf("CHECK FAIL: the fuzz run itself failed: %s:%d: %s\n",
		       tr_lfile(tr[0]), tr_lno(tr[0]), tr_msg(tr[0]));
		free(tr);
	}
	srunner_free(sr);
	return 0;
}
