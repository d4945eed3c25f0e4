// SPDX-License-Identifier: MIT
/*
 * stress: the workers of the megalink concurrency stress (stress.sh runs
 * them inside the debug-kernel guest, several at once, while its chaos
 * loop flaps links, changes MTUs, deletes and re-creates netdevs, unbinds
 * and binds ports and tries to unload the module).
 *
 *   stress churn   TAG NS IFNAME SECONDS SEED THREADS
 *	threads of one process creating and destroying PD/MR/CQ/QP on one
 *	device handle and a CQ shared by their QPs (polled by its own
 *	thread); QPs connected to a neighbour's non-existent QP so that work
 *	requests stay in flight while MRs are deregistered, QPs destroyed,
 *	the device closed; forked children killed with work in flight or
 *	closing their fd under a thread that posts and polls.
 *   stress traffic TAG NS_A IF_A NS_B IF_B SECONDS SEED strict|lenient
 *	two processes, one per node, in sessions (open, connect, rounds of
 *	SEND/WRITE/READ with every byte and guard checked, tear down).
 *	strict: every completion must succeed (a stable link); lenient:
 *	flush / retry-exceeded completions end the session and a new one
 *	starts.  Never allowed: a completion that does not come (a hang),
 *	a successful completion whose bytes are wrong, a write outside the
 *	target range.
 *   stress dump    TAG NS[,NS...] SECONDS SEED
 *	netlink dumps and doit queries, device open+query, the monitor
 *	group, in each namespace in turn, tolerating objects that vanish
 *	and the module being reloaded.
 *   stress ctl devof NS IFNAME | linkup NS IFNAME |
 *	      bind NS IFNAME NODE|- DEV|- [HELLO_MS DEAD_MS] |
 *	      counts NS DEV | caps NS DEV
 *	control-plane helpers for stress.sh (NS "-": the current one).
 *   stress repro-mr NS IFNAME
 *	deregister an MR under a WRITE in flight, then destroy the QP
 *	(the reproducer of a bug found by the churn).
 *   stress repro-refused NS IFNAME BREAK-CMD MEND-CMD
 *	a WRITE on a QP whose frames the netdev then refuses must complete with
 *	RETRY_EXC in bounded time (the reproducer of a hang found by the
 *	traffic workers after MTU changes).
 *
 * Each worker prints "stress-<mode> TAG: name=count ..." at its end and
 * every failure as a line "STRESS-FAIL TAG: ..."; exit status 0 only
 * without failures.  Every wait is bounded: a work request without a
 * completion is reported as a hang, and an alarm ends a worker that
 * outlives its time by far.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "dp.h"

/* ------------------------------------------------------------------ */
/* common                                                              */
/* ------------------------------------------------------------------ */

static const char *tag = "?";
static const char *mode = "?";
static int nfail;
static pthread_mutex_t out_lock = PTHREAD_MUTEX_INITIALIZER;

#define MAX_FAIL_LINES 40

static void failf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void failf(const char *fmt, ...)
{
	char text[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	n = __atomic_add_fetch(&nfail, 1, __ATOMIC_SEQ_CST);
	if (n > MAX_FAIL_LINES)
		return;
	pthread_mutex_lock(&out_lock);
	printf("STRESS-FAIL %s: %s%s\n", tag, text,
	       n == MAX_FAIL_LINES ? " (further failures not printed)" : "");
	fflush(stdout);
	pthread_mutex_unlock(&out_lock);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void msleep(unsigned int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* splitmix64: one 64-bit state per thread */
static uint64_t rnd(uint64_t *s)
{
	uint64_t z = (*s += 0x9E3779B97F4A7C15ULL);

	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
	return z ^ (z >> 31);
}

static uint32_t rndn(uint64_t *s, uint32_t n)
{
	return n ? (uint32_t)(rnd(s) % n) : 0;
}

/* 1..max, biased to small values (log-uniform). */
static uint32_t rnd_size(uint64_t *s, uint32_t max)
{
	uint32_t bits = 0, v;

	while ((1u << bits) < max && bits < 31)
		bits++;
	v = (uint32_t)(rnd(s) & ((1ull << (rndn(s, bits) + 1)) - 1));
	if (v == 0)
		v = 1;
	return v > max ? max : v;
}

static uint64_t hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	while (*s)
		h = (h ^ (uint8_t)*s++) * 1099511628211ULL;
	return h;
}

static int ns_enter(const char *ns)
{
	char path[128];
	int fd, r;

	if (!ns || !strcmp(ns, "-"))
		return 0;
	snprintf(path, sizeof(path), "/run/netns/%s", ns);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	r = setns(fd, CLONE_NEWNET) ? -errno : 0;
	close(fd);
	return r;
}

/* Counters: one table per process, updated atomically by its threads. */
enum {
	C_EPOCHS, C_DEV_OPEN, C_DEV_WAIT, C_NODEV,
	C_PD, C_MR, C_CQ, C_QP, C_QP_SHARED, C_CONNECT, C_UNREACH, C_EMSGSIZE,
	C_POST, C_POST_ERR, C_EBUSY_OK, C_INFLIGHT_DESTROY, C_MR_DEREG_INFLIGHT,
	C_WAIT_ERR_CQE, C_OWN_CLOSE, C_FORK_KILL, C_FORK_CLOSE, C_SHARED_POLL,
	C_QUERY, C_SESSIONS, C_SESS_SETUP_FAIL, C_ROUNDS, C_SEND, C_WRITE,
	C_READ, C_SEND_IMM, C_WRITE_IMM, C_OP_ERR, C_BYTES, C_SESS_ERR_END,
	C_CLOSE_DIRECT, C_DUMP_DEV, C_DUMP_PORT, C_DUMP_NEIGH, C_DUMP_STATS,
	C_DUMP_QP, C_DOIT, C_EVENTS, C_ENOBUFS, C_NOMOD, C_VANISHED,
	C_MAX
};

static const char *const cname[C_MAX] = {
	[C_EPOCHS] = "epochs", [C_DEV_OPEN] = "dev_open",
	[C_DEV_WAIT] = "dev_wait", [C_NODEV] = "enodev",
	[C_PD] = "pd", [C_MR] = "mr", [C_CQ] = "cq", [C_QP] = "qp",
	[C_QP_SHARED] = "qp_shared_cq", [C_CONNECT] = "connect",
	[C_UNREACH] = "ehostunreach", [C_EMSGSIZE] = "emsgsize",
	[C_POST] = "post", [C_POST_ERR] = "post_refused",
	[C_EBUSY_OK] = "ebusy_checks", [C_INFLIGHT_DESTROY] = "destroy_inflight",
	[C_MR_DEREG_INFLIGHT] = "mr_dereg_inflight",
	[C_WAIT_ERR_CQE] = "error_cqes", [C_OWN_CLOSE] = "close_with_objects",
	[C_FORK_KILL] = "fork_kill", [C_FORK_CLOSE] = "fork_fd_close",
	[C_SHARED_POLL] = "shared_cq_cqes", [C_QUERY] = "query",
	[C_SESSIONS] = "sessions", [C_SESS_SETUP_FAIL] = "setup_retries",
	[C_ROUNDS] = "rounds", [C_SEND] = "send", [C_WRITE] = "write",
	[C_READ] = "read", [C_SEND_IMM] = "send_imm", [C_WRITE_IMM] = "write_imm",
	[C_OP_ERR] = "op_errors", [C_BYTES] = "bytes_checked",
	[C_SESS_ERR_END] = "sessions_ended_by_error",
	[C_CLOSE_DIRECT] = "close_direct",
	[C_DUMP_DEV] = "dump_dev", [C_DUMP_PORT] = "dump_port",
	[C_DUMP_NEIGH] = "dump_neigh", [C_DUMP_STATS] = "dump_stats",
	[C_DUMP_QP] = "dump_qp", [C_DOIT] = "doit", [C_EVENTS] = "events",
	[C_ENOBUFS] = "enobufs", [C_NOMOD] = "module_absent",
	[C_VANISHED] = "vanished",
};

static uint64_t *cnt;	/* shared page: children of traffic add to it */

static void inc(int c, uint64_t n)
{
	__atomic_fetch_add(&cnt[c], n, __ATOMIC_RELAXED);
}

static void print_counts(void)
{
	char line[2048];
	size_t off = 0;
	int i;

	off += (size_t)snprintf(line + off, sizeof(line) - off, "stress-%s %s:", mode, tag);
	for (i = 0; i < C_MAX; i++) {
		if (!cnt[i])
			continue;
		off += (size_t)snprintf(line + off, sizeof(line) - off, " %s=%" PRIu64,
					cname[i], cnt[i]);
		if (off >= sizeof(line) - 64)
			break;
	}
	snprintf(line + off, sizeof(line) - off, " failures=%d", nfail);
	printf("%s\n", line);
	fflush(stdout);
}

static int alarm_s;

static void on_alarm(int sig)
{
	char m[160];
	int n;

	(void)sig;
	n = snprintf(m, sizeof(m),
		     "STRESS-FAIL %s: hang: worker still running %d s after its start\n",
		     tag, alarm_s);
	if (write(1, m, (size_t)n) < 0)
		_exit(4);
	_exit(4);
}

static void arm_alarm(int seconds)
{
	alarm_s = seconds;
	signal(SIGALRM, on_alarm);
	alarm((unsigned int)seconds);
}

/* The device whose port is @ifname in the current netns. */
static int dev_of(const char *ifname, char name[ML_DEV_NAME_LEN])
{
	struct ml_port_info pi;
	struct ml_ctl *ctl;
	int r;

	r = ml_ctl_open(&ctl);
	if (r)
		return r;
	r = ml_ctl_port_get(ctl, ifname, &pi);
	ml_ctl_close(ctl);
	if (r)
		return r;
	memcpy(name, pi.dev, ML_DEV_NAME_LEN);
	name[ML_DEV_NAME_LEN - 1] = 0;
	return 0;
}

/*
 * Up to @n completions of @cq within @timeout_ms: the number got, or a
 * negative errno from the poll.  With @dev, sleeps in ml_cq_wait() (the
 * CQ is the device handle's only one); without, polls every 5 ms.
 */
static int wait_cqes(struct ml_device *dev, struct ml_cq *cq, struct ml_cqe *wc, int n,
		     int timeout_ms)
{
	double end = now() + timeout_ms / 1000.0;
	int got = 0, r;

	while (got < n) {
		r = ml_cq_poll(cq, wc + got, n - got);
		if (r < 0)
			return r;
		got += r;
		if (got >= n)
			break;
		if (now() > end)
			return got;
		if (dev)
			(void)ml_cq_wait(dev, 100);
		else
			msleep(5);
	}
	return got;
}

/* ------------------------------------------------------------------ */
/* churn                                                               */
/* ------------------------------------------------------------------ */

#define CH_BUF (512u << 10)
#define CH_SHARED_CQE 4096
#define CH_MAX_NEIGH 8

struct churn {
	struct ml_device *dev;
	struct ml_cq *scq;
	uint32_t node;
	uint32_t neigh[CH_MAX_NEIGH];
	int nneigh;
	volatile int stop;
	double epoch_end;
	const char *devname;
	int avoid_mr_inflight;
};

struct cthr {
	struct churn *c;
	uint64_t rng;
	int id;
	uint8_t *buf;
	pthread_t th;
};

/*
 * Judge a return value: 0 ok; -ENODEV stops the epoch (the device went
 * away); the errnos in @ok are tolerated; anything else is a failure.
 * Returns r.
 */
static int judge(struct churn *c, int r, const char *what, const int *ok)
{
	if (r >= 0)
		return r;
	if (r == -ENODEV) {
		c->stop = 1;
		inc(C_NODEV, 1);
		return r;
	}
	for (; ok && *ok; ok++)
		if (r == *ok)
			return r;
	failf("churn %s %s: %d (%s): %s", c->devname, what, r, ml_strerror(r),
	      ml_last_error());
	return r;
}

static const int ok_connect[] = { -EHOSTUNREACH, -EMSGSIZE, 0 };
static const int ok_post[] = { -EIO, -ENOSPC, 0 };

static void count_connect(int r)
{
	if (r == 0)
		inc(C_CONNECT, 1);
	else if (r == -EHOSTUNREACH)
		inc(C_UNREACH, 1);
	else if (r == -EMSGSIZE)
		inc(C_EMSGSIZE, 1);
}

/* PD with several MRs over overlapping, unaligned pieces of the buffer. */
static void act_pd_mr(struct cthr *t)
{
	struct churn *c = t->c;
	struct ml_mr *mr[6];
	struct ml_pd *pd;
	int n = 1 + (int)rndn(&t->rng, 6), i, k = 0, r;

	if (judge(c, ml_pd_alloc(c->dev, &pd), "pd alloc", NULL))
		return;
	inc(C_PD, 1);
	for (i = 0; i < n; i++) {
		uint32_t off = rndn(&t->rng, CH_BUF - 1);
		uint32_t len = 1 + rndn(&t->rng, CH_BUF - off);
		unsigned int acc = rndn(&t->rng, 2) ? ML_ACCESS_ALL : ML_ACCESS_LOCAL_WRITE;

		r = judge(c, ml_mr_reg(pd, t->buf + off, len, acc, &mr[k]), "mr reg", NULL);
		if (r)
			break;
		inc(C_MR, 1);
		k++;
	}
	if (k) {
		r = ml_pd_free(pd);
		if (r == -EBUSY)
			inc(C_EBUSY_OK, 1);
		else if (r == -ENODEV || (r == 0 && c->stop))
			c->stop = 1;
		else
			failf("churn %s: pd free with %d MRs = %d, expected -EBUSY", c->devname,
			      k, r);
		if (r == 0)
			return;	/* the library freed it: the MRs died with the device */
	}
	for (i = 0; i < k; i++)
		judge(c, ml_mr_dereg(mr[i]), "mr dereg", NULL);
	judge(c, ml_pd_free(pd), "pd free", NULL);
}

/* Private CQ, a QP on it (recv CQ maybe the shared one), EBUSY checks. */
static void act_cq_qp(struct cthr *t)
{
	struct churn *c = t->c;
	struct ml_qp_init qi;
	struct ml_qp_attr qa;
	struct ml_cq *cq;
	struct ml_pd *pd;
	struct ml_qp *qp;
	int r;

	if (judge(c, ml_cq_create(c->dev, 1 + rndn(&t->rng, 1024), &cq), "cq create", NULL))
		return;
	inc(C_CQ, 1);
	if (judge(c, ml_pd_alloc(c->dev, &pd), "pd alloc", NULL))
		goto out_cq;
	inc(C_PD, 1);
	memset(&qi, 0, sizeof(qi));
	qi.send_cq = cq;
	qi.recv_cq = rndn(&t->rng, 2) ? c->scq : NULL;
	qi.sq_entries = 1 + rndn(&t->rng, 256);
	qi.rq_entries = 1 + rndn(&t->rng, 256);
	qi.max_send_sge = rndn(&t->rng, ML_MAX_SGE + 1);
	qi.max_recv_sge = rndn(&t->rng, ML_MAX_SGE + 1);
	qi.max_inline = rndn(&t->rng, ML_MAX_INLINE + 1);
	if (judge(c, ml_qp_create(pd, &qi, &qp), "qp create", NULL))
		goto out_pd;
	inc(C_QP, 1);
	if (qi.recv_cq)
		inc(C_QP_SHARED, 1);
	r = ml_cq_destroy(cq);
	if (r == -EBUSY)
		inc(C_EBUSY_OK, 1);
	else if (r == -ENODEV)
		c->stop = 1;
	else if (r == 0 && !c->stop)
		failf("churn %s: cq destroy under a QP = %d, expected -EBUSY", c->devname, r);
	if (r == 0)
		return;	/* device gone: everything freed by the library */
	r = ml_qp_query(qp, &qa);
	if (!judge(c, r, "qp query", NULL)) {
		inc(C_QUERY, 1);
		if (qa.state != ML_QPS_INIT && qa.state != ML_QPS_ERROR)
			failf("churn %s: fresh QP %u in state %u", c->devname, qp->qpn, qa.state);
	}
	judge(c, ml_qp_destroy(qp), "qp destroy", NULL);
out_pd:
	judge(c, ml_pd_free(pd), "pd free", NULL);
out_cq:
	judge(c, ml_cq_destroy(cq), "cq destroy", NULL);
}

/* Post @k signaled WRs of random kinds over @mr; returns how many went in. */
static int post_some(struct cthr *t, struct ml_qp *qp, struct ml_mr *mr, int k, int recvs)
{
	static const uint32_t ops[] = { ML_WR_SEND, ML_WR_SEND_IMM, ML_WR_WRITE,
					ML_WR_WRITE_IMM, ML_WR_READ };
	int i, n = 0, r;

	for (i = 0; i < recvs; i++) {
		struct ml_sge g = { (uintptr_t)mr->addr, (uint32_t)mr->length, mr->lkey };
		struct ml_recv_wr rw = { .wr_id = 1000 + i, .sg_list = &g, .num_sge = 1 };

		r = ml_post_recv(qp, &rw);
		if (r)
			break;
	}
	for (i = 0; i < k; i++) {
		uint32_t len = rnd_size(&t->rng, (uint32_t)mr->length);
		struct ml_sge g = { (uintptr_t)mr->addr, len, mr->lkey };
		struct ml_send_wr w = {
			.wr_id = (uint64_t)i, .opcode = ops[rndn(&t->rng, 5)],
			.flags = ML_WR_F_SIGNALED, .sg_list = &g, .num_sge = 1,
			.imm = 7, .remote_addr = 0x10000, .rkey = 0x1234,
		};

		r = ml_post_send(qp, &w);
		if (r) {
			if (judge(t->c, r, "post send", ok_post))
				inc(C_POST_ERR, 1);
			break;
		}
		inc(C_POST, 1);
		n++;
	}
	return n;
}

/*
 * A QP connected to a neighbour's QP number that does not exist: its
 * work requests stay in flight (the peer drops every frame) until the
 * retry budget runs out.  End it in one of several ways while they are.
 */
static void act_inflight(struct cthr *t)
{
	struct churn *c = t->c;
	int shared = rndn(&t->rng, 3) == 0, how, k, n, recvs, r, got, i;
	struct ml_connect_opts co;
	struct ml_cqe wc[64];
	struct ml_qp_init qi;
	struct ml_cq *cq = NULL;
	struct ml_pd *pd;
	struct ml_mr *mr;
	struct ml_qp *qp;
	uint32_t off, len;

	if (!c->nneigh)
		return;
	/* 0 destroy QP in flight, 1 dereg MR in flight then destroy QP,
	 * 2 dereg MR in flight then let the retries run out, 3 run out */
	how = shared ? (int)rndn(&t->rng, 2) : (int)rndn(&t->rng, 4);
	if (c->avoid_mr_inflight && (how == 1 || how == 2))
		how = how == 1 ? 0 : 3;
	if (!shared) {
		if (judge(c, ml_cq_create(c->dev, 64, &cq), "cq create", NULL))
			return;
		inc(C_CQ, 1);
	}
	if (judge(c, ml_pd_alloc(c->dev, &pd), "pd alloc", NULL))
		goto out_cq;
	inc(C_PD, 1);
	off = rndn(&t->rng, CH_BUF / 2);
	len = 1 + rndn(&t->rng, CH_BUF / 2);
	if (judge(c, ml_mr_reg(pd, t->buf + off, len, ML_ACCESS_ALL, &mr), "mr reg", NULL))
		goto out_pd;
	inc(C_MR, 1);
	memset(&qi, 0, sizeof(qi));
	qi.send_cq = shared ? c->scq : cq;
	qi.sq_entries = 16;
	qi.rq_entries = 16;
	if (judge(c, ml_qp_create(pd, &qi, &qp), "qp create", NULL))
		goto out_mr;
	inc(C_QP, 1);
	if (shared)
		inc(C_QP_SHARED, 1);
	memset(&co, 0, sizeof(co));
	co.timeout_ms = 10 + rndn(&t->rng, 150);
	co.retry_cnt = (uint8_t)(1 + rndn(&t->rng, 4));
	co.rnr_retry = (uint8_t)(1 + rndn(&t->rng, 3));
	r = ml_qp_connect(qp, c->neigh[rndn(&t->rng, (uint32_t)c->nneigh)],
			  0xE00000 + rndn(&t->rng, 0x10000), &co);
	count_connect(r);
	if (judge(c, r, "qp connect", ok_connect))
		goto out_qp;
	k = 1 + (int)rndn(&t->rng, 8);
	recvs = (int)rndn(&t->rng, 4);
	n = post_some(t, qp, mr, k, recvs);
	msleep(rndn(&t->rng, 40));
	if (how == 1 || how == 2) {
		r = ml_mr_dereg(mr);
		if (judge(c, r, "mr dereg in flight", NULL))
			goto out_qp;
		inc(C_MR_DEREG_INFLIGHT, 1);
		mr = NULL;
	}
	if (how >= 2 && n > 0) {
		/* every send WR completes in error; the receives are flushed */
		got = wait_cqes(NULL, cq, wc, n + recvs, 20000);
		if (got < 0) {
			judge(c, got, "cq poll", NULL);
		} else if (got < n) {
			struct ml_qp_attr qa = { 0 };

			ml_qp_query(qp, &qa);
			failf("churn %s: hang: %d of %d WRs completed in 20 s (qp %u state %u "
			      "outstanding %u timeouts %" PRIu64 ")", c->devname, got, n,
			      qp->qpn, qa.state, qa.outstanding, qa.timeouts);
		}
		for (i = 0; i < got; i++) {
			inc(C_WAIT_ERR_CQE, 1);
			/* the kernel takes a WR after its MR went: a local
			 * protection error then (how 2) */
			if (wc[i].status != ML_WC_RETRY_EXC_ERR &&
			    wc[i].status != ML_WC_WR_FLUSH_ERR &&
			    wc[i].status != ML_WC_RNR_RETRY_EXC_ERR &&
			    !(how == 2 && wc[i].status == ML_WC_LOC_PROT_ERR))
				failf("churn %s: WR %" PRIu64 " to a missing QP completed "
				      "with %s", c->devname, (uint64_t)wc[i].wr_id,
				      ml_wc_status_str(wc[i].status));
		}
	} else {
		inc(C_INFLIGHT_DESTROY, 1);
	}
out_qp:
	judge(c, ml_qp_destroy(qp), "qp destroy", NULL);
out_mr:
	if (mr)
		judge(c, ml_mr_dereg(mr), "mr dereg", NULL);
out_pd:
	judge(c, ml_pd_free(pd), "pd free", NULL);
out_cq:
	if (cq)
		judge(c, ml_cq_destroy(cq), "cq destroy", NULL);
}

static void act_query(struct cthr *t)
{
	struct churn *c = t->c;
	struct ml_device_info di;
	struct ml_limits lim;

	if (!judge(c, ml_device_query(c->dev, &di), "device query", NULL))
		inc(C_QUERY, 1);
	if (!judge(c, ml_query_limits(c->dev, &lim), "query limits", NULL))
		inc(C_QUERY, 1);
}

static void act_unreach(struct cthr *t)
{
	struct churn *c = t->c;
	struct ml_qp_init qi = { 0 };
	struct ml_cq *cq;
	struct ml_pd *pd;
	struct ml_qp *qp;
	int r;

	if (judge(c, ml_cq_create(c->dev, 8, &cq), "cq create", NULL))
		return;
	if (judge(c, ml_pd_alloc(c->dev, &pd), "pd alloc", NULL))
		goto out_cq;
	qi.send_cq = cq;
	if (judge(c, ml_qp_create(pd, &qi, &qp), "qp create", NULL))
		goto out_pd;
	inc(C_QP, 1);
	r = ml_qp_connect(qp, 0x0BADBAD0 + rndn(&t->rng, 16), 1 + rndn(&t->rng, 1000), NULL);
	if (r == -EHOSTUNREACH)
		inc(C_UNREACH, 1);
	else if (r != -ENODEV)
		failf("churn %s: connect to an absent node = %d, expected -EHOSTUNREACH",
		      c->devname, r);
	else
		c->stop = 1;
	judge(c, ml_qp_destroy(qp), "qp destroy", NULL);
out_pd:
	judge(c, ml_pd_free(pd), "pd free", NULL);
out_cq:
	judge(c, ml_cq_destroy(cq), "cq destroy", NULL);
}

/* Objects in flight on a second handle, then close it with all of them. */
static void act_own_close(struct cthr *t)
{
	struct churn *c = t->c;
	struct ml_device *d;
	struct ml_qp_init qi = { 0 };
	struct ml_cq *cq;
	struct ml_pd *pd;
	struct ml_mr *mr;
	struct ml_qp *qp;
	int r;

	r = ml_device_open(c->devname, &d);
	if (r == -ENOENT || r == -ENODEV || r == -ENXIO) {
		c->stop = 1;
		return;
	}
	if (judge(c, r, "device open", NULL))
		return;
	inc(C_DEV_OPEN, 1);
	if (ml_cq_create(d, 32, &cq) || ml_pd_alloc(d, &pd))
		goto out;
	if (ml_mr_reg(pd, t->buf + rndn(&t->rng, 4096), 65536, ML_ACCESS_ALL, &mr))
		goto out;
	qi.send_cq = cq;
	if (ml_qp_create(pd, &qi, &qp))
		goto out;
	if (c->nneigh && rndn(&t->rng, 2)) {
		struct ml_connect_opts co = { .timeout_ms = 20, .retry_cnt = 2 };

		r = ml_qp_connect(qp, c->neigh[0], 0xF00000 + rndn(&t->rng, 4096), &co);
		count_connect(r);
		if (!r)
			post_some(t, qp, mr, 1 + (int)rndn(&t->rng, 6), (int)rndn(&t->rng, 3));
		msleep(rndn(&t->rng, 30));
	}
out:
	ml_device_close(d);
	inc(C_OWN_CLOSE, 1);
}

/* In a forked child: a thread that posts, rings and polls forever. */
struct fk {
	struct ml_qp *qp;
	struct ml_cq *cq;
	struct ml_mr *mr;
	struct ml_device *dev;
	uint64_t rng;
};

static void *fk_poster(void *arg)
{
	struct fk *f = arg;
	struct cthr t = { .rng = f->rng };
	struct ml_cqe wc[16];

	for (;;) {
		(void)ml_cq_poll(f->cq, wc, 16);
		if (ml_sq_space(f->qp) && f->qp->state == ML_QPS_RTS &&
		    !(f->qp->sq.hdr->flags & ML_RING_F_ERROR)) {
			uint32_t len = rnd_size(&t.rng, (uint32_t)f->mr->length);
			struct ml_sge g = { (uintptr_t)f->mr->addr, len, f->mr->lkey };
			struct ml_send_wr w = {
				.wr_id = 1, .opcode = ML_WR_WRITE, .flags = ML_WR_F_SIGNALED,
				.sg_list = &g, .num_sge = 1, .remote_addr = 0x1000,
				.rkey = 0x77,
			};

			(void)ml_post_send_nodb(f->qp, &w);
		}
		(void)ml_qp_notify(f->qp);	/* EBADF once the fd is closed */
		if (ml_cq_wait(f->dev, 1) < 0)
			msleep(1);
	}
	return NULL;
}

static void fk_child(struct churn *c, uint8_t *buf, uint64_t seed, int close_fd)
{
	struct ml_connect_opts co = { .timeout_ms = 20, .retry_cnt = 3 };
	struct ml_qp_init qi = { 0 };
	struct fk f = { .rng = seed };
	struct ml_pd *pd;
	pthread_t th;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	alarm(30);
	if (ml_device_open(c->devname, &f.dev))
		_exit(0);
	if (ml_cq_create(f.dev, 256, &f.cq) || ml_pd_alloc(f.dev, &pd) ||
	    ml_mr_reg(pd, buf + 5, 200000, ML_ACCESS_ALL, &f.mr))
		_exit(0);
	qi.send_cq = f.cq;
	qi.sq_entries = 32;
	if (ml_qp_create(pd, &qi, &f.qp))
		_exit(0);
	if (c->nneigh &&
	    ml_qp_connect(f.qp, c->neigh[rnd(&f.rng) % (uint64_t)c->nneigh],
			  0xD00000 + (uint32_t)(rnd(&f.rng) % 4096), &co))
		_exit(0);
	if (pthread_create(&th, NULL, fk_poster, &f))
		_exit(0);
	if (close_fd) {
		msleep((unsigned int)(rnd(&f.rng) % 60));
		/* the file lives on in the ring mappings until exit */
		close(ml_device_fd(f.dev));
		msleep((unsigned int)(rnd(&f.rng) % 20));
		_exit(0);
	}
	for (;;)
		(void)ml_cq_wait(f.dev, 100);
}

static void act_fork(struct cthr *t)
{
	struct churn *c = t->c;
	int close_fd = (int)rndn(&t->rng, 2), st;
	uint64_t seed = rnd(&t->rng);
	double end;
	pid_t pid;

	fflush(stdout);
	pid = fork();
	if (pid < 0) {
		failf("churn: fork: %s", strerror(errno));
		return;
	}
	if (pid == 0)
		fk_child(c, t->buf, seed, close_fd);
	if (!close_fd) {
		msleep(5 + rndn(&t->rng, 150));
		kill(pid, SIGKILL);
	}
	end = now() + 20;
	for (;;) {
		pid_t w = waitpid(pid, &st, WNOHANG);

		if (w == pid)
			break;
		if (now() > end) {
			failf("churn %s: hang: a child (pid %d) did not exit 20 s after %s",
			      c->devname, (int)pid, close_fd ? "closing its fd" : "SIGKILL");
			kill(pid, SIGKILL);
			return;
		}
		msleep(5);
	}
	inc(close_fd ? C_FORK_CLOSE : C_FORK_KILL, 1);
}

static void *churn_thread(void *arg)
{
	struct cthr *t = arg;
	struct churn *c = t->c;

	while (!c->stop && now() < c->epoch_end) {
		uint32_t a = rndn(&t->rng, 100);

		msleep(rndn(&t->rng, 10));

		if (a < 18)
			act_pd_mr(t);
		else if (a < 36)
			act_cq_qp(t);
		else if (a < 70)
			act_inflight(t);
		else if (a < 76)
			act_query(t);
		else if (a < 80)
			act_unreach(t);
		else if (a < 90)
			act_own_close(t);
		else
			act_fork(t);
	}
	return NULL;
}

struct poller {
	struct churn *c;
	volatile int stop;
};

static void *shared_poller(void *arg)
{
	struct poller *p = arg;
	struct ml_cqe wc[64];
	int r;

	while (!p->stop) {
		r = ml_cq_poll(p->c->scq, wc, 64);
		if (r > 0) {
			inc(C_SHARED_POLL, (uint64_t)r);
			for (int i = 0; i < r; i++)
				/* LOC_PROT: a WR the kernel took after its MR was
				 * deregistered (act_inflight how 1) */
				if (wc[i].status != ML_WC_RETRY_EXC_ERR &&
				    wc[i].status != ML_WC_WR_FLUSH_ERR &&
				    wc[i].status != ML_WC_RNR_RETRY_EXC_ERR &&
				    wc[i].status != ML_WC_LOC_PROT_ERR)
					failf("churn %s: shared CQ: completion of qp %u with %s",
					      p->c->devname, wc[i].qpn,
					      ml_wc_status_str(wc[i].status));
			continue;
		}
		if (r < 0) {
			failf("churn %s: shared CQ poll: %d: %s", p->c->devname, r,
			      ml_last_error());
			msleep(50);
			continue;
		}
		r = ml_cq_wait(p->c->dev, 20);
		if (r == -ENODEV) {
			p->c->stop = 1;
			msleep(10);
		}
	}
	return NULL;
}

static int neighbours(const char *dev, uint32_t *out, int max)
{
	struct ml_neigh_info *ni = NULL;
	struct ml_ctl *ctl;
	size_t n = 0, i;
	int k = 0;

	if (ml_ctl_open(&ctl))
		return 0;
	if (ml_ctl_neighbours(ctl, dev, &ni, &n) >= 0)
		for (i = 0; i < n && k < max; i++)
			out[k++] = ni[i].node_id;
	ml_free(ni);
	ml_ctl_close(ctl);
	return k;
}

static int run_churn(char **av)
{
	const char *ns = av[0], *ifname = av[1];
	double seconds = atof(av[2]), deadline;
	uint64_t seed = strtoull(av[3], NULL, 0), rng;
	int nthr = atoi(av[4]), i, r;
	char name[ML_DEV_NAME_LEN];
	struct cthr *t;
	struct churn c;

	if (nthr < 1 || nthr > 32)
		nthr = 4;
	r = ns_enter(ns);
	if (r) {
		failf("setns %s: %s", ns, strerror(-r));
		return 1;
	}
	arm_alarm((int)seconds + 180);
	rng = seed ^ hash_str(tag);
	deadline = now() + seconds;
	t = calloc((size_t)nthr, sizeof(*t));
	for (i = 0; i < nthr; i++) {
		t[i].buf = mmap(NULL, CH_BUF + 8192, PROT_READ | PROT_WRITE,
				MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (t[i].buf == MAP_FAILED) {
			failf("mmap: %s", strerror(errno));
			return 1;
		}
		memset(t[i].buf, 0x5A, CH_BUF + 8192);
	}
	memset(&c, 0, sizeof(c));
	c.avoid_mr_inflight = getenv("ML_STRESS_AVOID_MR_INFLIGHT") &&
			      atoi(getenv("ML_STRESS_AVOID_MR_INFLIGHT"));
	while (now() < deadline) {
		struct poller p = { .c = &c };
		pthread_t pth;

		r = dev_of(ifname, name);
		if (!r)
			r = ml_device_open(name, &c.dev);
		if (r) {
			inc(C_DEV_WAIT, 1);
			msleep(50 + rndn(&rng, 100));
			continue;
		}
		inc(C_DEV_OPEN, 1);
		inc(C_EPOCHS, 1);
		c.devname = name;
		c.stop = 0;
		c.nneigh = neighbours(name, c.neigh, CH_MAX_NEIGH);
		c.epoch_end = now() + 1 + rndn(&rng, 6);
		if (c.epoch_end > deadline)
			c.epoch_end = deadline;
		r = ml_cq_create(c.dev, CH_SHARED_CQE, &c.scq);
		if (r) {
			if (r != -ENODEV)
				failf("churn %s: shared cq create: %d: %s", name, r,
				      ml_last_error());
			ml_device_close(c.dev);
			continue;
		}
		pthread_create(&pth, NULL, shared_poller, &p);
		for (i = 0; i < nthr; i++) {
			t[i].c = &c;
			t[i].id = i;
			t[i].rng = rnd(&rng);
			pthread_create(&t[i].th, NULL, churn_thread, &t[i]);
		}
		for (i = 0; i < nthr; i++)
			pthread_join(t[i].th, NULL);
		p.stop = 1;
		pthread_join(pth, NULL);
		if (rndn(&rng, 2)) {
			r = ml_cq_destroy(c.scq);
			if (r)
				failf("churn %s: shared CQ destroy after its QPs: %d: %s", name,
				      r, ml_last_error());
		} else {
			inc(C_CLOSE_DIRECT, 1);
		}
		ml_device_close(c.dev);
		c.dev = NULL;
	}
	print_counts();
	return nfail ? 1 : 0;
}

/* ------------------------------------------------------------------ */
/* traffic                                                             */
/* ------------------------------------------------------------------ */

#define TR_MAXOPS	8
#define TR_GUARD	16
#define TR_FILL		0xA5

enum { M_SETUP = 1, M_END, M_CONN, M_PLAN, M_READY, M_ABORT, M_RESULT, M_VERIFIED };

struct top {
	uint32_t op;		/* ML_WR_* */
	uint32_t size;
	uint64_t loff, roff;	/* requester's / responder's buffer offsets */
	uint32_t seed;
	uint32_t nsge;		/* requester side SGEs (1..2) */
	uint32_t rsge;		/* responder receive SGEs (1..2) */
	uint32_t slack;		/* receive buffer bigger than the message */
	uint32_t imm;
	uint32_t inl;		/* ML_WR_F_INLINE */
	int32_t status;		/* result at the requester: ML_WC_*, or -1 not posted */
	uint32_t byte_len;
};

struct tmsg {
	uint32_t kind;
	int32_t val;
	uint32_t node, qpn, rkey, n;
	uint64_t addr, len;
	struct top ops[TR_MAXOPS];
};

struct tside {
	int side;		/* 0: A, 1: B */
	int sock;
	int strict;
	const char *ns, *ifname;
	char devname[ML_DEV_NAME_LEN];
	uint64_t rng;
	double deadline;
	struct ml_device *dev;
	struct ml_pd *pd;
	struct ml_cq *cq;
	struct ml_qp *qp;
	struct ml_mr *mr;
	uint8_t *buf;
	size_t len;
	uint32_t node;
	uint32_t mtu;
	struct tmsg peer;
	int cqe_ms;		/* bound for one completion */
};

static int tsend(struct tside *s, const struct tmsg *m)
{
	ssize_t r;

	do
		r = send(s->sock, m, sizeof(*m), MSG_NOSIGNAL);
	while (r < 0 && errno == EINTR);
	return r == (ssize_t)sizeof(*m) ? 0 : -1;
}

/* Next message within @ms; -1 when the peer died or was silent. */
static int trecv(struct tside *s, struct tmsg *m, int ms)
{
	struct pollfd p = { .fd = s->sock, .events = POLLIN };
	ssize_t r;
	int pr;

	do
		pr = poll(&p, 1, ms);
	while (pr < 0 && errno == EINTR);
	if (pr != 1)
		return -1;
	do
		r = recv(s->sock, m, sizeof(*m), 0);
	while (r < 0 && errno == EINTR);
	return r == (ssize_t)sizeof(*m) ? 0 : -1;
}

static void tfree(struct tside *s, int direct)
{
	if (!s->dev)
		return;
	if (direct) {
		inc(C_CLOSE_DIRECT, 1);
	} else {
		int r = 0;

		if (s->qp)
			r |= ml_qp_destroy(s->qp);
		if (s->mr)
			r |= ml_mr_dereg(s->mr);
		if (s->cq)
			r |= ml_cq_destroy(s->cq);
		if (s->pd)
			r |= ml_pd_free(s->pd);
		if (r)
			failf("traffic %s: teardown: %s", s->devname, ml_last_error());
	}
	ml_device_close(s->dev);
	s->dev = NULL;
	s->qp = NULL;
	s->mr = NULL;
	s->cq = NULL;
	s->pd = NULL;
}

/* Open the device and build the objects; 0 or a negative errno. */
static int tsetup(struct tside *s)
{
	struct ml_device_info di;
	struct ml_qp_init qi;
	int r;

	r = dev_of(s->ifname, s->devname);
	if (r)
		return r;
	r = ml_device_open(s->devname, &s->dev);
	if (r)
		return r;
	if ((r = ml_device_query(s->dev, &di)) ||
	    (r = ml_pd_alloc(s->dev, &s->pd)) ||
	    (r = ml_cq_create(s->dev, 512, &s->cq)))
		goto fail;
	s->node = di.node_id;
	s->mtu = di.ports_filled ? di.ports[0].mtu : 0;
	memset(&qi, 0, sizeof(qi));
	qi.send_cq = s->cq;
	qi.sq_entries = 64;
	qi.rq_entries = 64;
	qi.max_send_sge = 2;
	qi.max_recv_sge = 2;
	qi.max_inline = ML_MAX_INLINE;
	if ((r = ml_qp_create(s->pd, &qi, &s->qp)) ||
	    (r = ml_mr_reg(s->pd, s->buf, s->len, ML_ACCESS_ALL, &s->mr)))
		goto fail;
	return 0;
fail:
	if (r != -ENODEV)
		failf("traffic %s: setup: %s", s->devname, ml_last_error());
	tfree(s, 1);
	return r;
}

static int status_ok_lenient(int st)
{
	return st == ML_WC_SUCCESS || st == ML_WC_WR_FLUSH_ERR ||
	       st == ML_WC_RETRY_EXC_ERR || st == ML_WC_RNR_RETRY_EXC_ERR;
}

/* The requester builds the plan of a round. */
static int tplan(struct tside *s, struct tmsg *m)
{
	static const uint32_t ops[] = { ML_WR_SEND, ML_WR_WRITE, ML_WR_READ, ML_WR_SEND_IMM,
					ML_WR_WRITE_IMM };
	uint64_t lcur = TR_GUARD, rcur = TR_GUARD;
	uint32_t maxsz = s->strict ? 128 * 1024 : 64 * 1024;
	int n = 1 + (int)rndn(&s->rng, TR_MAXOPS), i, k = 0;

	memset(m, 0, sizeof(*m));
	m->kind = M_PLAN;
	for (i = 0; i < n; i++) {
		struct top *o = &m->ops[k];
		uint32_t sz = rnd_size(&s->rng, maxsz);

		o->op = ops[rndn(&s->rng, 5)];
		o->size = sz;
		o->seed = (uint32_t)rnd(&s->rng);
		o->nsge = sz >= 2 && rndn(&s->rng, 2) ? 2 : 1;
		o->rsge = sz >= 2 && rndn(&s->rng, 2) ? 2 : 1;
		o->slack = rndn(&s->rng, 2) ? rndn(&s->rng, 64) : 0;
		o->imm = (uint32_t)rnd(&s->rng);
		o->inl = o->op != ML_WR_READ && sz <= ML_MAX_INLINE && rndn(&s->rng, 2);
		if (o->inl)
			o->nsge = 1;
		o->loff = lcur + rndn(&s->rng, 64);
		o->roff = rcur + rndn(&s->rng, 64);
		if (o->loff + sz + o->slack + 2 * TR_GUARD > s->len ||
		    o->roff + sz + o->slack + 2 * TR_GUARD > s->peer.len)
			break;
		lcur = o->loff + sz + o->slack + TR_GUARD;
		rcur = o->roff + sz + o->slack + TR_GUARD;
		o->status = -1;
		k++;
	}
	m->n = (uint32_t)k;
	return k;
}

static int has_recv(uint32_t op)
{
	return op == ML_WR_SEND || op == ML_WR_SEND_IMM || op == ML_WR_WRITE_IMM;
}

/* Split [off, off+size) into @n SGEs. */
static uint32_t mk_sges(struct tside *s, struct ml_sge *g, uint32_t n, uint64_t off,
			uint32_t size)
{
	uint32_t first = n == 2 ? size / 3 + 1 : size;

	if (first > size)
		first = size;
	g[0].addr = (uintptr_t)(s->buf + off);
	g[0].length = first;
	g[0].lkey = s->mr->lkey;
	if (n == 1 || first == size)
		return 1;
	g[1].addr = (uintptr_t)(s->buf + off + first);
	g[1].length = size - first;
	g[1].lkey = s->mr->lkey;
	return 2;
}

static void check_guards(struct tside *s, uint64_t off, uint64_t len, const char *what,
			 const struct top *o)
{
	int64_t d;

	d = dp_verify_fill(s->buf + off - TR_GUARD, TR_GUARD, TR_FILL);
	if (d < 0)
		d = dp_verify_fill(s->buf + off + len, TR_GUARD, TR_FILL);
	if (d >= 0)
		failf("traffic %s: CORRUPTION: %s %u B (status %d): guard byte written",
		      s->devname, what, o->size, o->status);
}

/* Requester side of one round: 1 to go on, 0 to end the session. */
static int treq(struct tside *s)
{
	struct tmsg m, r;
	struct ml_cqe wc[TR_MAXOPS];
	int n, i, posted = 0, got, bad = 0;
	struct ml_qp_attr qa;

	n = tplan(s, &m);
	if (tsend(s, &m))
		return -1;
	if (trecv(s, &r, 120000)) {
		failf("traffic %s: hang: peer silent 120 s after a plan", s->devname);
		return -1;
	}
	if (r.kind != M_READY)
		return 0;
	for (i = 0; i < n; i++) {
		struct top *o = &m.ops[i];
		struct ml_send_wr w;
		struct ml_sge g[2];

		memset(s->buf + o->loff - TR_GUARD, TR_FILL, o->size + 2 * TR_GUARD);
		if (o->op != ML_WR_READ)
			dp_fill(s->buf + o->loff, o->size, o->seed, 0);
		memset(&w, 0, sizeof(w));
		w.wr_id = (uint64_t)i;
		w.opcode = o->op;
		w.flags = ML_WR_F_SIGNALED | (o->inl ? ML_WR_F_INLINE : 0);
		w.num_sge = mk_sges(s, g, o->nsge, o->loff, o->size);
		w.sg_list = g;
		w.imm = o->imm;
		w.remote_addr = s->peer.addr + o->roff;
		w.rkey = s->peer.rkey;
		if (ml_post_send_nodb(s->qp, &w)) {
			if (s->strict)
				failf("traffic %s: post %s: %s", s->devname, dp_op_name((int)o->op),
				      ml_last_error());
			break;
		}
		posted++;
	}
	if (posted)
		(void)ml_qp_doorbell(s->qp);
	got = 0;
	while (got < posted) {
		int k = wait_cqes(s->dev, s->cq, wc, 1, s->cqe_ms);

		if (k < 0) {
			failf("traffic %s: cq poll: %d: %s", s->devname, k, ml_last_error());
			break;
		}
		if (k == 0) {
			memset(&qa, 0, sizeof(qa));
			ml_qp_query(s->qp, &qa);
			failf("traffic %s: hang: %d of %d WRs completed, none for %d ms "
			      "(qp %u state %s outstanding %u snd_una %u snd_psn %u "
			      "retransmits %" PRIu64 " timeouts %" PRIu64 ")", s->devname, got,
			      posted, s->cqe_ms, s->qp->qpn, ml_qp_state_name(qa.state),
			      qa.outstanding, qa.snd_una, qa.snd_psn, qa.retransmits,
			      qa.timeouts);
			break;
		}
		if (wc[0].wr_id >= (uint64_t)n) {
			failf("traffic %s: completion with unknown wr_id %" PRIu64, s->devname,
			      (uint64_t)wc[0].wr_id);
			break;
		}
		if (wc[0].wr_id != (uint64_t)got)
			failf("traffic %s: completion of WR %" PRIu64 " while %d was due",
			      s->devname, (uint64_t)wc[0].wr_id, got);
		m.ops[wc[0].wr_id].status = wc[0].status;
		m.ops[wc[0].wr_id].byte_len = wc[0].byte_len;
		got++;
	}
	for (i = 0; i < n; i++) {
		struct top *o = &m.ops[i];

		if (o->status == ML_WC_SUCCESS) {
			inc(o->op == ML_WR_SEND ? C_SEND : o->op == ML_WR_WRITE ? C_WRITE :
			    o->op == ML_WR_READ ? C_READ : o->op == ML_WR_SEND_IMM ? C_SEND_IMM :
			    C_WRITE_IMM, 1);
			if (o->op == ML_WR_READ) {
				int64_t d = dp_verify(s->buf + o->loff, o->size, o->seed, 0);

				if (d >= 0) {
					failf("traffic %s: CORRUPTION: READ %u B: byte %" PRId64
					      " differs", s->devname, o->size, d);
					bad++;
				}
				inc(C_BYTES, o->size);
			}
			if (o->byte_len != o->size)
				failf("traffic %s: %s of %u B completed with byte_len %u",
				      s->devname, dp_op_name((int)o->op), o->size, o->byte_len);
		} else if (o->status >= 0) {
			inc(C_OP_ERR, 1);
			if (s->strict || !status_ok_lenient(o->status))
				failf("traffic %s: %s %u B failed: %s%s", s->devname,
				      dp_op_name((int)o->op), o->size,
				      ml_wc_status_str((unsigned int)o->status),
				      s->strict ? " (strict pair: a stable link)" : "");
		}
		if (o->op == ML_WR_READ && o->status >= 0)
			check_guards(s, o->loff, o->size, "READ target", o);
	}
	m.kind = M_RESULT;
	m.val = got == posted && posted == n;
	for (i = 0; i < n; i++)
		if (m.ops[i].status != ML_WC_SUCCESS)
			m.val = 0;
	if (tsend(s, &m))
		return -1;
	if (trecv(s, &r, 120000)) {
		failf("traffic %s: hang: peer silent 120 s after a result", s->devname);
		return -1;
	}
	inc(C_ROUNDS, 1);
	return m.val && r.kind == M_VERIFIED && r.val == 0 && got == posted ? 1 : 0;
}

/* Responder side of a round; @m is the plan.  1 go on, 0 end, -1 dead. */
static int tresp(struct tside *s, struct tmsg *m)
{
	struct ml_cqe wc;
	struct tmsg r;
	int i, n = (int)m->n, nrecv = 0, bad = 0, k, qerr = 0;
	int recv_idx[TR_MAXOPS];

	for (i = 0; i < n; i++) {
		struct top *o = &m->ops[i];

		memset(s->buf + o->roff - TR_GUARD, TR_FILL, o->size + o->slack + 2 * TR_GUARD);
		if (o->op == ML_WR_READ)
			dp_fill(s->buf + o->roff, o->size, o->seed, 0);
	}
	for (i = 0; i < n && !qerr; i++) {
		struct top *o = &m->ops[i];
		struct ml_recv_wr w;
		struct ml_sge g[2];

		if (!has_recv(o->op))
			continue;
		memset(&w, 0, sizeof(w));
		w.wr_id = (uint64_t)i;
		if (o->op == ML_WR_WRITE_IMM) {
			w.num_sge = 0;
		} else {
			w.num_sge = mk_sges(s, g, o->rsge, o->roff, o->size + o->slack);
			w.sg_list = g;
		}
		if (ml_post_recv(s->qp, &w)) {
			if (s->strict)
				failf("traffic %s: post recv: %s", s->devname, ml_last_error());
			qerr = 1;
			break;
		}
		recv_idx[nrecv++] = i;
	}
	memset(&r, 0, sizeof(r));
	r.kind = qerr ? M_ABORT : M_READY;
	if (tsend(s, &r))
		return -1;
	if (qerr)
		return 0;
	if (trecv(s, &r, 300000)) {
		failf("traffic %s: hang: peer silent 300 s during a round", s->devname);
		return -1;
	}
	if (r.kind != M_RESULT)
		return -1;
	/* receives complete in the order they were posted */
	for (k = 0; k < nrecv; k++) {
		struct top *o = &r.ops[recv_idx[k]];
		int ms = o->status == ML_WC_SUCCESS ? 20000 : 0;
		int g = wait_cqes(s->dev, s->cq, &wc, 1, ms);

		if (g < 0) {
			failf("traffic %s: cq poll: %d", s->devname, g);
			bad++;
			break;
		}
		if (g == 0) {
			if (o->status == ML_WC_SUCCESS) {
				failf("traffic %s: hang: %s %u B succeeded at the requester, "
				      "no receive completion here in 20 s", s->devname,
				      dp_op_name((int)o->op), o->size);
				bad++;
			}
			break;
		}
		if (wc.wr_id != (uint64_t)recv_idx[k]) {
			failf("traffic %s: receive completion %" PRIu64 " while %d was due "
			      "(status %s)", s->devname, (uint64_t)wc.wr_id, recv_idx[k],
			      ml_wc_status_str(wc.status));
			bad++;
			break;
		}
		if (wc.status != ML_WC_SUCCESS) {
			inc(C_OP_ERR, 1);
			if (s->strict || !status_ok_lenient(wc.status) ||
			    o->status == ML_WC_SUCCESS)
				failf("traffic %s: receive of %s %u B: %s (requester: %d)",
				      s->devname, dp_op_name((int)o->op), o->size,
				      ml_wc_status_str(wc.status), o->status);
			break;
		}
		if (wc.byte_len != o->size ||
		    ((o->op == ML_WR_SEND_IMM || o->op == ML_WR_WRITE_IMM) &&
		     (!(wc.flags & ML_WC_F_IMM) || wc.imm != o->imm))) {
			failf("traffic %s: CORRUPTION: receive of %s %u B: byte_len %u imm "
			      "0x%x flags 0x%x (want imm 0x%x)", s->devname,
			      dp_op_name((int)o->op), o->size, wc.byte_len, wc.imm, wc.flags,
			      o->imm);
			bad++;
		}
		if (o->op != ML_WR_WRITE_IMM) {
			int64_t d = dp_verify(s->buf + o->roff, o->size, o->seed, 0);

			if (d >= 0) {
				failf("traffic %s: CORRUPTION: received %s %u B: byte %" PRId64
				      " differs", s->devname, dp_op_name((int)o->op), o->size,
				      d);
				bad++;
			}
			if (dp_verify_fill(s->buf + o->roff + o->size, o->slack, TR_FILL) >= 0) {
				failf("traffic %s: CORRUPTION: receive of %u B wrote past the "
				      "message", s->devname, o->size);
				bad++;
			}
			inc(C_BYTES, o->size);
		}
	}
	for (i = 0; i < n; i++) {
		struct top *o = &r.ops[i];

		if ((o->op == ML_WR_WRITE || o->op == ML_WR_WRITE_IMM) &&
		    o->status == ML_WC_SUCCESS) {
			int64_t d = dp_verify(s->buf + o->roff, o->size, o->seed, 0);

			if (d >= 0) {
				failf("traffic %s: CORRUPTION: WRITE %u B acknowledged, byte %"
				      PRId64 " differs", s->devname, o->size, d);
				bad++;
			}
			inc(C_BYTES, o->size);
		}
		if (o->op != ML_WR_READ)
			check_guards(s, o->roff, o->size + o->slack, dp_op_name((int)o->op), o);
	}
	memset(&m->ops, 0, sizeof(m->ops));
	m->kind = M_VERIFIED;
	m->val = bad;
	if (tsend(s, m))
		return -1;
	return r.val && !bad ? 1 : 0;
}

/* One side of a traffic pair; returns when the time is up or the peer died. */
static void tside_run(struct tside *s)
{
	struct ml_connect_opts co;
	struct tmsg me, m;
	int r, round;

	for (;;) {
		/* A decides whether there is another session. */
		memset(&me, 0, sizeof(me));
		if (s->side == 0 && now() > s->deadline) {
			me.kind = M_END;
			tsend(s, &me);
			return;
		}
		r = tsetup(s);
		me.kind = M_SETUP;
		me.val = r;
		if (!r) {
			me.node = s->node;
			me.qpn = ml_qp_num(s->qp);
			me.rkey = s->mr->rkey;
			me.addr = (uintptr_t)s->buf;
			me.len = s->len;
		}
		if (s->side == 0) {
			if (tsend(s, &me) || trecv(s, &s->peer, 120000))
				goto dead;
		} else {
			if (trecv(s, &s->peer, 120000))
				goto dead;
			if (s->peer.kind == M_END) {
				tfree(s, 0);
				return;
			}
			if (tsend(s, &me))
				goto dead;
		}
		if (r || s->peer.val) {
			inc(C_SESS_SETUP_FAIL, 1);
			tfree(s, rndn(&s->rng, 2));
			msleep(50 + rndn(&s->rng, 200));
			continue;
		}
		memset(&co, 0, sizeof(co));
		if (s->strict) {
			co.timeout_ms = 200;
			co.retry_cnt = 15;
			co.rnr_retry = 15;
		} else {
			co.timeout_ms = 20 + rndn(&s->rng, 60);
			co.retry_cnt = (uint8_t)(2 + rndn(&s->rng, 3));
			co.rnr_retry = 3;
			co.rnr_timer_ms = 5;
		}
		r = ml_qp_connect(s->qp, s->peer.node, s->peer.qpn, &co);
		count_connect(r);
		/*
		 * Even a stable link may lose its neighbour for a moment when
		 * the guest is starved (HELLOs late): a new session then.
		 */
		if (r && r != -EHOSTUNREACH && (s->strict || (r != -EMSGSIZE && r != -ENODEV)))
			failf("traffic %s: connect to node 0x%x qp %u: %s", s->devname,
			      s->peer.node, s->peer.qpn, ml_last_error());
		memset(&me, 0, sizeof(me));
		me.kind = M_CONN;
		me.val = r;
		if (tsend(s, &me) || trecv(s, &m, 120000))
			goto dead;
		if (r || m.val) {
			inc(C_SESS_SETUP_FAIL, 1);
			tfree(s, rndn(&s->rng, 2));
			msleep(50 + rndn(&s->rng, 200));
			continue;
		}
		inc(C_SESSIONS, 1);
		/* rounds: the requester alternates; it also says when to stop */
		for (round = 0;; round++) {
			int req = (round & 1) == s->side;
			int max_rounds = 4 + (int)rndn(&s->rng, 30);

			/*
			 * Leave the (emulated) CPUs some room for the chaos:
			 * the data path runs in softirq and a high-priority
			 * work queue, which nice does not hold back.
			 */
			msleep(10 + rndn(&s->rng, 60));
			if (req) {
				if (now() > s->deadline || round >= max_rounds) {
					memset(&me, 0, sizeof(me));
					me.kind = M_END;
					if (tsend(s, &me))
						goto dead;
					r = 0;
				} else {
					r = treq(s);
					if (r == 0)
						inc(C_SESS_ERR_END, 1);
				}
			} else {
				if (trecv(s, &m, 300000)) {
					failf("traffic %s: hang: peer silent 300 s between rounds",
					      s->devname);
					goto dead;
				}
				if (m.kind != M_PLAN)
					r = 0;
				else
					r = tresp(s, &m);
			}
			if (r < 0)
				goto dead;
			if (r == 0)
				break;
		}
		/* both sides leave the session here; sync before freeing */
		memset(&me, 0, sizeof(me));
		me.kind = M_END;
		if (tsend(s, &me) || trecv(s, &m, 120000))
			goto dead;
		tfree(s, rndn(&s->rng, 3) == 0);
	}
dead:
	failf("traffic %s: the other side of the pair vanished or hung", s->devname);
	tfree(s, 1);
}

static int run_traffic(char **av)
{
	const char *ns[2] = { av[0], av[2] }, *ifn[2] = { av[1], av[3] };
	double seconds = atof(av[4]);
	uint64_t seed = strtoull(av[5], NULL, 0);
	int strict = !strcmp(av[6], "strict"), sv[2], i, st, bad = 0;
	pid_t pid[2];

	if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv)) {
		failf("socketpair: %s", strerror(errno));
		return 1;
	}
	arm_alarm((int)seconds + 420);
	for (i = 0; i < 2; i++) {
		fflush(stdout);
		pid[i] = fork();
		if (pid[i] == 0) {
			struct tside s;
			int r;

			prctl(PR_SET_PDEATHSIG, SIGKILL);
			memset(&s, 0, sizeof(s));
			s.side = i;
			s.sock = sv[i];
			close(sv[!i]);
			s.strict = strict;
			s.ns = ns[i];
			s.ifname = ifn[i];
			s.rng = seed ^ hash_str(tag) ^ (uint64_t)(i + 1) * 0x1234567ULL;
			s.deadline = now() + seconds;
			s.cqe_ms = strict ? 60000 : 30000;
			s.len = strict ? 1u << 20 : 512u << 10;
			s.buf = mmap(NULL, s.len + 4096, PROT_READ | PROT_WRITE,
				     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
			if (s.buf == MAP_FAILED)
				_exit(2);
			s.buf += 1 + i;	/* unaligned MRs */
			snprintf(s.devname, sizeof(s.devname), "%s", ifn[i]);
			r = ns_enter(ns[i]);
			if (r) {
				failf("setns %s: %s", ns[i], strerror(-r));
				_exit(1);
			}
			tside_run(&s);
			_exit(nfail ? 1 : 0);
		}
	}
	close(sv[0]);
	close(sv[1]);
	for (i = 0; i < 2; i++) {
		if (waitpid(pid[i], &st, 0) != pid[i] || !WIFEXITED(st) || WEXITSTATUS(st)) {
			bad++;
			if (WIFSIGNALED(st))
				failf("traffic side %c killed by signal %d", 'A' + i, WTERMSIG(st));
		}
	}
	nfail += bad;
	print_counts();
	return nfail ? 1 : 0;
}

/* ------------------------------------------------------------------ */
/* dump                                                                */
/* ------------------------------------------------------------------ */

static int dump_ok(int r, const char *what, const char *ns)
{
	if (r >= 0)
		return 1;
	if (r == -ENODEV || r == -ENOENT || r == -ENXIO) {
		inc(r == -ENOENT && strstr(ml_last_error(), "not loaded") ? C_NOMOD : C_VANISHED,
		    1);
		return 0;
	}
	failf("dump %s in %s: %d (%s): %s", what, ns, r, ml_strerror(r), ml_last_error());
	return 0;
}

static int run_dump(char **av)
{
	char *list = strdup(av[0]), *save = NULL, *p;
	double seconds = atof(av[1]), deadline;
	uint64_t rng = strtoull(av[2], NULL, 0) ^ hash_str(tag);
	const char *nss[16];
	struct ml_monitor *mon[16] = { 0 };
	int nns = 0, i, orig;

	for (p = strtok_r(list, ",", &save); p && nns < 16; p = strtok_r(NULL, ",", &save))
		nss[nns++] = p;
	orig = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	arm_alarm((int)seconds + 180);
	deadline = now() + seconds;
	while (now() < deadline) {
		for (i = 0; i < nns && now() < deadline; i++) {
			struct ml_dev_attr *da = NULL;
			struct ml_port_info *pi = NULL;
			struct ml_neigh_info *ni = NULL;
			struct ml_port_stats *ps = NULL;
			struct ml_qp_info *qi = NULL;
			struct ml_ctl *ctl;
			struct ml_event ev;
			size_t n, k;
			int r;

			if (setns(orig, CLONE_NEWNET) || ns_enter(nss[i])) {
				inc(C_VANISHED, 1);
				continue;
			}
			if (!mon[i]) {
				if (ml_monitor_open(&mon[i]))
					mon[i] = NULL;
			}
			while (mon[i]) {
				r = ml_monitor_read(mon[i], &ev);
				if (r == -EAGAIN)
					break;
				if (r == -ENOBUFS) {
					inc(C_ENOBUFS, 1);
					continue;
				}
				if (r) {
					/* the family went away (module reload): subscribe again */
					ml_monitor_close(mon[i]);
					mon[i] = NULL;
					break;
				}
				inc(C_EVENTS, 1);
			}
			/* after a reload the old subscription hears nothing: renew now and then */
			if (mon[i] && rndn(&rng, 20) == 0) {
				ml_monitor_close(mon[i]);
				mon[i] = NULL;
			}
			r = ml_ctl_open(&ctl);
			if (!dump_ok(r, "ctl open", nss[i]))
				continue;
			n = 0;
			if (dump_ok(ml_ctl_devices(ctl, &da, &n), "dev dump", nss[i]))
				inc(C_DUMP_DEV, 1);
			if (dump_ok(ml_ctl_ports(ctl, NULL, &pi, &n), "port dump", nss[i]))
				inc(C_DUMP_PORT, 1);
			for (k = 0; pi && k < n; k++) {
				struct ml_port_info one;
				struct ml_port_stats st;

				if (dump_ok(ml_ctl_port_get(ctl, pi[k].ifname, &one), "port get",
					    nss[i]))
					inc(C_DOIT, 1);
				if (dump_ok(ml_ctl_port_stats(ctl, pi[k].ifname, &st), "stats get",
					    nss[i]))
					inc(C_DOIT, 1);
			}
			if (dump_ok(ml_ctl_neighbours(ctl, NULL, &ni, &n), "neigh dump", nss[i]))
				inc(C_DUMP_NEIGH, 1);
			if (dump_ok(ml_ctl_stats(ctl, NULL, &ps, &n), "stats dump", nss[i]))
				inc(C_DUMP_STATS, 1);
			if (dump_ok(ml_ctl_qps(ctl, NULL, &qi, &n), "qp dump", nss[i]))
				inc(C_DUMP_QP, 1);
			n = 0;
			ml_free(da);
			da = NULL;
			if (ml_ctl_devices(ctl, &da, &n) >= 0) {
				for (k = 0; k < n; k++) {
					struct ml_dev_attr one;
					struct ml_device *d;
					struct ml_device_info info;

					if (dump_ok(ml_ctl_dev_get(ctl, da[k].name, &one), "dev get",
						    nss[i]))
						inc(C_DOIT, 1);
					r = ml_device_open(da[k].name, &d);
					if (!dump_ok(r, "device open", nss[i]))
						continue;
					if (dump_ok(ml_device_query(d, &info), "device query",
						    nss[i]))
						inc(C_QUERY, 1);
					ml_device_close(d);
				}
			}
			ml_free(da);
			ml_free(pi);
			ml_free(ni);
			ml_free(ps);
			ml_free(qi);
			ml_ctl_close(ctl);
		}
		msleep(rndn(&rng, 30));
	}
	for (i = 0; i < nns; i++)
		if (mon[i])
			ml_monitor_close(mon[i]);
	print_counts();
	free(list);
	return nfail ? 1 : 0;
}

/*
 * repro-mr NS IFNAME: the smallest case of "an MR deregistered while a
 * work request that uses it is in flight, then the QP destroyed": the
 * last reference of the MR is dropped by ml_qp_destroy() under qp->lock.
 */
static int run_repro_mr(char **av)
{
	struct ml_connect_opts co = { .timeout_ms = 500, .retry_cnt = 7 };
	char name[ML_DEV_NAME_LEN];
	struct ml_qp_init qi = { 0 };
	struct ml_device *dev;
	uint32_t neigh[1];
	struct ml_cq *cq;
	struct ml_pd *pd;
	struct ml_mr *mr;
	struct ml_qp *qp;
	uint8_t *buf;
	int r, i;

	if (ns_enter(av[0]) || dev_of(av[1], name) || ml_device_open(name, &dev)) {
		fprintf(stderr, "repro-mr: no device for %s in %s: %s\n", av[1], av[0],
			ml_last_error());
		return 2;
	}
	if (neighbours(name, neigh, 1) < 1) {
		fprintf(stderr, "repro-mr: %s has no neighbour\n", name);
		return 2;
	}
	buf = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	memset(buf, 1, 1 << 20);
	for (i = 0; i < 4; i++) {
		struct ml_sge g;
		struct ml_send_wr w = {
			.opcode = ML_WR_WRITE, .flags = ML_WR_F_SIGNALED, .sg_list = &g,
			.num_sge = 1, .remote_addr = 0x1000, .rkey = 0x77,
		};

		if (ml_cq_create(dev, 16, &cq) || ml_pd_alloc(dev, &pd) ||
		    ml_mr_reg(pd, buf, 1 << 20, ML_ACCESS_ALL, &mr))
			goto err;
		qi.send_cq = cq;
		if (ml_qp_create(pd, &qi, &qp) ||
		    ml_qp_connect(qp, neigh[0], 0xE12345, &co))
			goto err;
		g = (struct ml_sge){ (uintptr_t)buf, 65536, mr->lkey };
		if (ml_post_send(qp, &w))
			goto err;
		msleep(50);		/* the kernel has taken the WR: it holds the MR */
		r = ml_mr_dereg(mr);	/* succeeds: the WR keeps the pages */
		printf("repro-mr %s: WRITE in flight to node 0x%x, MR deregistered (%d), "
		       "destroying the QP\n", name, neigh[0], r);
		if (ml_qp_destroy(qp) || ml_pd_free(pd) || ml_cq_destroy(cq))
			goto err;
	}
	ml_device_close(dev);
	printf("repro-mr: done\n");
	return 0;
err:
	fprintf(stderr, "repro-mr: %s\n", ml_last_error());
	return 1;
}

/*
 * repro-refused NS IFNAME BREAK MEND: a connected QP whose netdev refuses
 * every frame (shell command BREAK runs after the connect: e.g. the peer
 * veth's MTU made smaller than the QP's packets, so that veth_xmit()
 * drops them with NET_XMIT_DROP) must still complete its work requests,
 * in error, once the retry budget is spent: within (timeout 50 ms, 3
 * retries, backoff) a few seconds; 30 s is a hang.  MEND runs before
 * returning.  Exit 0 ok, 1 hang or wrong status, 2 set-up trouble.
 */
static int run_repro_refused(char **av)
{
	struct ml_connect_opts co = { .timeout_ms = 50, .retry_cnt = 3 };
	char name[ML_DEV_NAME_LEN];
	struct ml_qp_init qi = { 0 };
	struct ml_device *dev;
	struct ml_qp_attr qa;
	struct ml_cqe wc[4];
	uint32_t neigh[1];
	struct ml_cq *cq;
	struct ml_pd *pd;
	struct ml_mr *mr;
	struct ml_qp *qp;
	struct ml_sge g;
	struct ml_send_wr w = {
		.opcode = ML_WR_WRITE, .flags = ML_WR_F_SIGNALED, .sg_list = &g,
		.num_sge = 1, .remote_addr = 0x1000, .rkey = 0x77,
	};
	uint8_t *buf;
	double t0;
	int got, ret = 0;

	if (ns_enter(av[0]) || dev_of(av[1], name) || ml_device_open(name, &dev)) {
		fprintf(stderr, "repro-refused: no device for %s in %s: %s\n", av[1], av[0],
			ml_last_error());
		return 2;
	}
	if (neighbours(name, neigh, 1) < 1) {
		fprintf(stderr, "repro-refused: %s has no neighbour\n", name);
		return 2;
	}
	buf = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	memset(buf, 1, 1 << 20);
	if (ml_cq_create(dev, 16, &cq) || ml_pd_alloc(dev, &pd) ||
	    ml_mr_reg(pd, buf, 1 << 20, ML_ACCESS_ALL, &mr))
		goto err;
	qi.send_cq = cq;
	if (ml_qp_create(pd, &qi, &qp) || ml_qp_connect(qp, neigh[0], 0xE54321, &co))
		goto err;
	if (system(av[2])) {
		fprintf(stderr, "repro-refused: %s failed\n", av[2]);
		return 2;
	}
	g = (struct ml_sge){ (uintptr_t)buf, 65536, mr->lkey };
	t0 = now();
	if (ml_post_send(qp, &w))
		goto err;
	got = wait_cqes(NULL, cq, wc, 1, 30000);
	memset(&qa, 0, sizeof(qa));
	ml_qp_query(qp, &qa);
	if (got != 1) {
		printf("repro-refused %s: HANG: no completion in 30 s for a WRITE whose netdev "
		       "refuses every frame (qp %u state %s outstanding %u retransmits %" PRIu64
		       " timeouts %" PRIu64 ")\n", name, qp->qpn, ml_qp_state_name(qa.state),
		       qa.outstanding, qa.retransmits, qa.timeouts);
		ret = 1;
	} else {
		printf("repro-refused %s: completed in %.1f s with %s (retransmits %" PRIu64
		       " timeouts %" PRIu64 ")\n", name, now() - t0,
		       ml_wc_status_str(wc[0].status), qa.retransmits, qa.timeouts);
		if (wc[0].status != ML_WC_RETRY_EXC_ERR)
			ret = 1;
	}
	if (system(av[3]))
		ret = 2;
	ml_device_close(dev);
	return ret;
err:
	fprintf(stderr, "repro-refused: %s\n", ml_last_error());
	return 2;
}

/* ------------------------------------------------------------------ */
/* ctl                                                                 */
/* ------------------------------------------------------------------ */

static int run_ctl(int ac, char **av)
{
	struct ml_ctl *ctl;
	int r;

	if (ac < 3)
		return 2;
	r = ns_enter(av[1]);
	if (r) {
		fprintf(stderr, "stress ctl: setns %s: %s\n", av[1], strerror(-r));
		return 1;
	}
	r = ml_ctl_open(&ctl);
	if (r) {
		fprintf(stderr, "stress ctl: %s\n", ml_last_error());
		return 1;
	}
	if (!strcmp(av[0], "devof")) {
		struct ml_port_info pi;

		r = ml_ctl_port_get(ctl, av[2], &pi);
		if (r) {
			fprintf(stderr, "stress ctl: %s\n", ml_last_error());
			return 1;
		}
		printf("%s\n", pi.dev);
		return 0;
	}
	if (!strcmp(av[0], "linkup")) {
		struct ml_port_info pi;

		r = ml_ctl_port_get(ctl, av[2], &pi);
		return r == 0 && pi.link_state == ML_LINK_UP ? 0 : 1;
	}
	if (!strcmp(av[0], "bind") && ac >= 5) {
		struct ml_bind_opts o = { 0 };
		struct ml_port_info pi;

		if (strcmp(av[3], "-") && ml_parse_node_id(av[3], &o.node_id))
			return 2;
		if (strcmp(av[4], "-"))
			o.dev = av[4];
		if (ac >= 7) {
			o.hello_ms = (uint32_t)atoi(av[5]);
			o.dead_ms = (uint32_t)atoi(av[6]);
		}
		r = ml_ctl_bind(ctl, av[2], &o, &pi);
		if (r) {
			fprintf(stderr, "stress ctl: %s\n", ml_last_error());
			return 1;
		}
		printf("%s\n", pi.dev);
		return 0;
	}
	if (!strcmp(av[0], "counts") || !strcmp(av[0], "caps")) {
		struct ml_dev_attr a;

		r = ml_ctl_dev_get(ctl, av[2], &a);
		if (r) {
			fprintf(stderr, "stress ctl: %s\n", ml_last_error());
			return 1;
		}
		if (!strcmp(av[0], "caps")) {
			printf("0x%" PRIx64 "\n", a.caps);
			return 0;
		}
		printf("%s ctx %u pds %u mrs %u cqs %u qps %u pinned-pages %" PRIu64 "\n",
		       av[2], a.num_ctx, a.num_pds, a.num_mrs, a.num_cqs, a.num_qps,
		       a.pinned_pages);
		if (!(a.flags & ML_DEV_ATTR_F_OBJECTS))
			return 4;
		return a.num_ctx || a.num_pds || a.num_mrs || a.num_cqs || a.num_qps ||
		       a.pinned_pages ? 3 : 0;
	}
	return 2;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	cnt = mmap(NULL, sizeof(uint64_t) * C_MAX, PROT_READ | PROT_WRITE,
		   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (cnt == MAP_FAILED)
		return 2;
	if (argc >= 2 && !strcmp(argv[1], "ctl"))
		return run_ctl(argc - 2, argv + 2);
	if (argc == 4 && !strcmp(argv[1], "repro-mr"))
		return run_repro_mr(argv + 2);
	if (argc == 6 && !strcmp(argv[1], "repro-refused"))
		return run_repro_refused(argv + 2);
	if (argc < 3)
		goto usage;
	mode = argv[1];
	tag = argv[2];
	dp_pat_init();
	signal(SIGPIPE, SIG_IGN);
	if (!strcmp(mode, "churn") && argc == 8)
		return run_churn(argv + 3);
	if (!strcmp(mode, "traffic") && argc == 10)
		return run_traffic(argv + 3);
	if (!strcmp(mode, "dump") && argc == 6)
		return run_dump(argv + 3);
usage:
	fprintf(stderr,
		"usage: stress churn TAG NS IFNAME SECONDS SEED THREADS\n"
		"       stress traffic TAG NS_A IF_A NS_B IF_B SECONDS SEED strict|lenient\n"
		"       stress dump TAG NS[,NS...] SECONDS SEED\n"
		"       stress ctl devof|linkup|bind|counts|caps NS ...\n"
		"       stress repro-mr NS IFNAME\n"
		"       stress repro-refused NS IFNAME BREAK-CMD MEND-CMD\n");
	return 2;
}
