// SPDX-License-Identifier: MIT
/*
 * The engine: one code path for every transport.
 *
 * Roles.  The main process of each side is the coordinator: it talks to
 * the peer over TCP (oob.c) and drives the workers through a shared
 * mapping (struct shared, MAP_SHARED before any fork).  Workers are
 * --threads threads in each of --procs processes (with --procs 1 the
 * threads run in the coordinator's process, which then also holds the
 * device context); worker w owns QPs [w*q/W, (w+1)*q/W), one group (send
 * CQ, receive CQ, one registered buffer) and, with -e, one epoll set.
 *
 * Per size the coordinator publishes the size and bumps sh->gen; every
 * worker runs its part and increments sh->n_sent when its own sending is
 * over, then sh->n_done when its receiving and checking are over.  All
 * counters are cumulative (gen * W after gen sizes), so nothing is reset
 * between sizes.  Between n_sent and n_done the coordinators exchange the
 * per-QP message counts (M_END): a receiver of SENDs knows how many to
 * wait for, a --verify knows which slots hold data, a ping-pong responder
 * knows when the client stopped.
 *
 * Buffers.  Each QP has [in | out], each nslots slots of the largest
 * size: messages go from the sender's out to the receiver's in (READ:
 * the target's out to the initiator's in), message m of a size uses slot
 * m % nslots.  --verify fills out with pattern(qp, offset, size) and
 * checks the in slots that were written.
 *
 * Never hang: a worker that sees no completion for --timeout seconds
 * while it waits for one dies with the QP's state; the coordinator polls
 * its TCP socket in 100 ms steps and watches its children; a dead peer
 * closes the TCP connection.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <time.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <limits.h>
#include <linux/futex.h>
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "perf.h"

#define WORKER_BUF_CAP	(16ull << 20)	/* bytes of buffer per worker, at most */
#define POST_BATCH	64
#define QP_SHIFT	40
#define SEQ_MASK	((1ull << QP_SHIFT) - 1)

extern unsigned int oob_limit_s;

struct wstat {
	uint64_t t_start, t_end;	/* first post, last completion (ns) */
	uint64_t msgs;
	double cpu_s;			/* process CPU over the size (thread 0 only) */
	int verify;			/* -1, 0, 1 */
	char verr[200];
};

struct shared {
	int abort;		/* read through abort_flag (volatile) */
	uint32_t gen, quit;
	uint64_t size;
	uint64_t end_ns;
	uint32_t n_setup, peer_ready, n_connected, n_sent, n_done, n_exit;
	uint32_t exp_ready;
	struct wstat w[MAX_WORKERS];
	struct wire_ep local[MAX_QPS], peer[MAX_QPS];
	uint64_t sent[MAX_QPS];		/* this side's messages per QP, this size */
	uint64_t expected[MAX_QPS];	/* the peer's */
	char pc_name[64], pc_detail[128];
	uint32_t max_inline;
};

static struct shared *sh;
static const struct backend *be;
static uint32_t nworkers;
static uint64_t max_size;
static pid_t children[64];
static uint32_t nchildren;
static uint64_t *samples;	/* latency: worker 0, in the coordinator's process */
static uint64_t samples_cap;

/* Per worker, private. */
struct worker {
	uint32_t id;
	struct pctx *pc;
	struct group g;
	struct qp *qps;
	uint32_t first, nqps;
	int ep;			/* epoll, -e */
	int armed, progress;
	uint64_t last_progress;
	uint32_t spins;
	const char *what;	/* what it waits for, for the stall message */
};

static inline uint32_t ld(const uint32_t *p)
{
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

/*
 * The counters and flags of struct shared are futex words (shared across
 * fork: FUTEX_WAIT without _PRIVATE), so that nobody polls them: a waker
 * on the vCPU of a spinning worker or of the softirq work would distort
 * the very latency being measured.
 */
static void fwake(uint32_t *p)
{
	syscall(SYS_futex, p, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
}

static void fwait(const uint32_t *p, uint32_t cur, int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

	syscall(SYS_futex, p, FUTEX_WAIT, cur, &ts, NULL, 0);
}

static inline void inc(uint32_t *p)
{
	__atomic_add_fetch(p, 1, __ATOMIC_ACQ_REL);
	fwake(p);
}

static inline void publish(uint32_t *p, uint32_t v)
{
	__atomic_store_n(p, v, __ATOMIC_RELEASE);
	fwake(p);
}

/* ------------------------------------------------------------------ */
/* Health: the coordinator's idle hook, the workers' waits             */
/* ------------------------------------------------------------------ */

void engine_idle(void)
{
	int st;

	if (sh && *abort_flag)
		die_quiet();	/* a worker of this process failed and said why */
	for (uint32_t i = 0; i < nchildren; i++) {
		pid_t p = children[i] > 0 ? waitpid(children[i], &st, WNOHANG) : 0;

		if (p == children[i] && p > 0) {
			children[i] = -1;
			if (!WIFEXITED(st) || WEXITSTATUS(st) || !sh->quit)
				die("worker process %d %s %d", (int)p,
				    WIFEXITED(st) ? "exited with status" : "was killed by signal",
				    WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
		}
	}
}

/*
 * Coordinator: wait until *p >= v (workers make progress on their own),
 * watching the children and, until the last size is over, the peer.
 */
static int peer_may_close;

static void coord_wait(uint32_t *p, uint32_t v)
{
	uint32_t cur;

	while ((cur = ld(p)) < v) {
		engine_idle();
		if (!peer_may_close)
			oob_check_peer();
		fwait(p, cur, 50);
	}
}

/* Worker: wait until *p >= v, or the run is aborted. */
static void worker_wait(const uint32_t *p, uint32_t v)
{
	uint32_t cur;

	while ((cur = ld(p)) < v) {
		if (*abort_flag)
			die_quiet();
		fwait(p, cur, 100);
	}
}

static void __attribute__((noreturn)) die_stall(struct worker *w)
{
	char diag[400] = "";

	for (uint32_t i = 0; i < w->nqps && be->diag; i++) {
		struct qp *q = &w->qps[i];

		if (q->posted != q->completed || i + 1 == w->nqps) {
			be->diag(q, diag, sizeof(diag));
			break;
		}
	}
	die("no progress for %u s (--timeout) while waiting for %s%s%s", cfg.timeout_s, w->what,
	    diag[0] ? ": " : "", diag);
}

/*
 * Called in every round of a wait loop.  @progressed: something completed.
 * Busy polling: a clock read every 256 idle rounds for the watchdog.
 * Events (-e): the first idle round arms the CQs (the caller polls once
 * more, so nothing that came before the arm is missed), the second sleeps
 * in epoll_wait() for at most 100 ms.
 */
static void idle(struct worker *w, int progressed, int use_events)
{
	uint64_t t;

	if (progressed) {
		w->progress = 1;
		w->armed = 0;
		return;
	}
	if (use_events) {
		struct epoll_event ev;
		int n;

		if (!w->armed) {
			if (be->arm(&w->g) < 0)
				die("arming the CQs: %s", be_last());
			w->armed = 1;
			return;
		}
		n = epoll_wait(w->ep, &ev, 1, 100);
		if (n < 0 && errno != EINTR)
			die("epoll_wait on the completion fd: %s", strerror(errno));
		if (n > 0)
			be->ack(&w->g);
		w->armed = 0;
	} else if (++w->spins & 255) {
		return;
	}
	t = now_ns();
	if (w->progress) {
		w->progress = 0;
		w->last_progress = t;
	} else if (t - w->last_progress > cfg.timeout_s * 1000000000ull) {
		die_stall(w);
	}
	if (*abort_flag)
		die_quiet();
}

static void watch_start(struct worker *w, const char *what)
{
	w->last_progress = now_ns();
	w->spins = 0;
	w->progress = 0;
	w->armed = 0;
	w->what = what;
}

/* ------------------------------------------------------------------ */
/* Buffers and the data pattern                                         */
/* ------------------------------------------------------------------ */

static inline uint8_t pattern(uint32_t qp, uint64_t off, uint64_t size)
{
	uint64_t x = (off + 1) * 0x9E3779B97F4A7C15ull ^ size * 0xBF58476D1CE4E5B9ull ^
		     (uint64_t)(qp + 1) * 0x94D049BB133111EBull;

	return (uint8_t)(x >> 56);
}

static inline uint8_t *in_slot(struct qp *q, uint64_t m)
{
	return q->buf + (m % q->nslots) * q->slot;
}

static inline uint8_t *out_slot(struct qp *q, uint64_t m)
{
	return q->buf + (q->nslots + m % q->nslots) * q->slot;
}

static inline uint64_t peer_in(struct qp *q, uint64_t m)
{
	return q->peer.addr + (m % q->nslots) * q->slot;
}

static inline uint64_t peer_out(struct qp *q, uint64_t m)
{
	return q->peer.addr + (q->nslots + m % q->nslots) * q->slot;
}

/* Does this side send data of op in this run?  (READ: data comes back.) */
static int initiator(void)
{
	return loc.is_client || cfg.bidir;
}

static void prepare(struct worker *w, uint64_t size)
{
	for (uint32_t i = 0; i < w->nqps; i++) {
		struct qp *q = &w->qps[i];
		uint64_t n = q->nslots;

		if (cfg.lat)
			memset(q->buf, 0, q->slot * 2);
		if (!cfg.verify)
			continue;
		/* out: the pattern, if this side's out is read or sent */
		if (cfg.op == OP_READ ? !loc.is_client || cfg.bidir : cfg.lat || initiator())
			for (uint64_t s = 0; s < n; s++) {
				uint8_t *p = out_slot(q, s);

				for (uint64_t k = 0; k < size; k++)
					p[k] = pattern(q->index, k, size);
			}
		for (uint64_t s = 0; s < n; s++)
			memset(in_slot(q, s), 0, size);
	}
}

/*
 * Check the in slots of @count messages of @size on @q (the first was
 * message number @first of its kind: receives are numbered across sizes).
 * Latency modes leave out the last byte (the ping-pong counter).
 */
static int check_in(struct worker *w, struct qp *q, uint64_t first, uint64_t count,
		    uint64_t size)
{
	uint64_t n = count < q->nslots ? count : q->nslots, len = size;

	if (cfg.lat && cfg.op != OP_READ)
		len = size - 1;
	for (uint64_t m = 0; m < n; m++) {
		uint8_t *p = in_slot(q, first + count - 1 - m);

		for (uint64_t k = 0; k < len; k++)
			if (p[k] != pattern(q->index, k, size)) {
				snprintf(sh->w[w->id].verr, sizeof(sh->w[w->id].verr),
					 "QP %u, size %" PRIu64 ": byte %" PRIu64 " of a message is "
					 "0x%02x, expected 0x%02x", q->index, size, k, p[k],
					 pattern(q->index, k, size));
				return 0;
			}
	}
	return 1;
}

/* ------------------------------------------------------------------ */
/* Posting and reaping                                                  */
/* ------------------------------------------------------------------ */

static inline void post(struct qp *q, enum op op, void *l, uint32_t len, uint64_t r,
			int sig, int inl)
{
	uint64_t id = (uint64_t)q->local << QP_SHIFT | (q->posted & SEQ_MASK);

	if (be->post_send(q, op, l, len, r, sig, inl, id) < 0)
		die("posting a %s of %u bytes on QP %u: %s", op_name(op), len, q->index,
		    be_last());
	q->posted++;
}

static inline void ring(struct qp *q)
{
	if (be->doorbell(q) < 0)
		die("doorbell of QP %u: %s", q->index, be_last());
}

static inline void post_recv(struct qp *q)
{
	uint64_t id = (uint64_t)q->local << QP_SHIFT | (q->recv_posted & SEQ_MASK);

	if (be->post_recv(q, in_slot(q, q->recv_posted), (uint32_t)q->slot, id) < 0)
		die("posting a receive on QP %u: %s", q->index, be_last());
	q->recv_posted++;
}

/* Send completions: each covers every WR of its QP up to it. */
static int reap_send(struct worker *w)
{
	struct be_wc wc[32];
	int n = be->poll(&w->g, 0, wc, 32);

	if (n < 0)
		die("polling the send CQ: %s", be_last());
	for (int i = 0; i < n; i++) {
		struct qp *q = &w->qps[wc[i].wr_id >> QP_SHIFT];
		uint64_t seq = wc[i].wr_id & SEQ_MASK;

		if (!wc[i].ok)
			die("QP %u: a send work request failed: %s", q->index, wc[i].status);
		q->completed = seq + 1;	/* in order: it covers all before it */
	}
	return n;
}

/* Receive completions: check the length, repost. */
static int reap_recv(struct worker *w, uint64_t size)
{
	struct be_wc wc[32];
	int n = be->poll(&w->g, 1, wc, 32);

	if (n < 0)
		die("polling the receive CQ: %s", be_last());
	for (int i = 0; i < n; i++) {
		struct qp *q = &w->qps[wc[i].wr_id >> QP_SHIFT];

		if (!wc[i].ok)
			die("QP %u: a receive failed: %s", q->index, wc[i].status);
		if (wc[i].byte_len != size)
			die("QP %u: received %u bytes, expected %" PRIu64, q->index,
			    wc[i].byte_len, size);
		q->recvd++;
		post_recv(q);
	}
	return n;
}

/* Reap until the CQ is empty (at most 64 rounds). */
static int reap_all(struct worker *w, int recv, uint64_t size)
{
	int n, total = 0, rounds = 0;

	do {
		n = recv ? reap_recv(w, size) : reap_send(w);
		total += n;
	} while (n == 32 && ++rounds < 64);
	return total;
}

static void drain_send(struct worker *w)
{
	watch_start(w, "the last send completions");
	for (;;) {
		int busy = 0;

		for (uint32_t i = 0; i < w->nqps; i++)
			busy |= w->qps[i].completed != w->qps[i].posted;
		if (!busy)
			return;
		idle(w, reap_send(w) > 0, cfg.event);
	}
}

/* ------------------------------------------------------------------ */
/* Latency: one QP, ping-pong                                           */
/* ------------------------------------------------------------------ */

static void sample(uint64_t i, uint64_t v)
{
	if (i >= samples_cap) {
		uint64_t cap = samples_cap ? samples_cap * 2 : 4096;
		uint64_t *p = realloc(samples, cap * sizeof(*p));

		if (!p)
			die("out of memory for %" PRIu64 " samples", cap);
		samples = p;
		samples_cap = cap;
	}
	samples[i] = v;
}

/* Room for one more signaled WR. */
static void sq_room(struct worker *w, struct qp *q)
{
	while (q->posted - q->completed >= 16)
		idle(w, reap_send(w) > 0, cfg.event);
}

/* Has the peer's END come and this side answered everything? */
static int responder_done(struct qp *q, uint64_t i)
{
	return ld(&sh->exp_ready) == sh->gen && i >= sh->expected[q->index];
}

static uint64_t lat_write(struct worker *w, struct qp *q, uint64_t size)
{
	uint8_t *in_last = in_slot(q, 0) + size - 1, *out = out_slot(q, 0);
	int inl = cfg.inl && size <= w->g.max_inline;
	uint64_t i;

	watch_start(w, loc.is_client ? "the server's RDMA WRITE" : "the client's RDMA WRITE");
	for (i = 0;; i++) {
		uint8_t val = (uint8_t)(i + 1);
		uint64_t t0 = 0;

		if (loc.is_client) {
			if (sh->end_ns ? now_ns() >= sh->end_ns : i == cfg.iters)
				break;
			t0 = now_ns();
			out[size - 1] = val;
			sq_room(w, q);
			post(q, OP_WRITE, out, (uint32_t)size, peer_in(q, 0), 1, inl);
			ring(q);
		}
		while (__atomic_load_n(in_last, __ATOMIC_ACQUIRE) != val) {
			reap_send(w);
			if (!loc.is_client && responder_done(q, i))
				return i;
			idle(w, 0, 0);
		}
		idle(w, 1, 0);
		if (loc.is_client) {
			sample(i, now_ns() - t0);
		} else {
			out[size - 1] = val;
			sq_room(w, q);
			post(q, OP_WRITE, out, (uint32_t)size, peer_in(q, 0), 1, inl);
			ring(q);
		}
	}
	return i;
}

static uint64_t lat_send(struct worker *w, struct qp *q, uint64_t size)
{
	uint8_t *out = out_slot(q, 0);
	int inl = cfg.inl && size <= w->g.max_inline;
	uint64_t i;

	watch_start(w, loc.is_client ? "the server's SEND" : "the client's SEND");
	for (i = 0;; i++) {
		uint64_t t0 = 0, want = q->recvd + 1;

		if (loc.is_client) {
			if (sh->end_ns ? now_ns() >= sh->end_ns : i == cfg.iters)
				break;
			t0 = now_ns();
			sq_room(w, q);
			post(q, OP_SEND, out, (uint32_t)size, 0, 1, inl);
			ring(q);
		}
		while (q->recvd < want) {
			int n = reap_recv(w, size);

			reap_send(w);
			if (!n && !loc.is_client && responder_done(q, i))
				return i;
			idle(w, n > 0, cfg.event);
		}
		if (loc.is_client) {
			sample(i, now_ns() - t0);
		} else {
			sq_room(w, q);
			post(q, OP_SEND, out, (uint32_t)size, 0, 1, inl);
			ring(q);
		}
	}
	return i;
}

static uint64_t lat_read(struct worker *w, struct qp *q, uint64_t size)
{
	uint64_t i;

	watch_start(w, "a READ completion");
	for (i = 0; sh->end_ns ? now_ns() < sh->end_ns : i < cfg.iters; i++) {
		uint64_t t0 = now_ns();

		post(q, OP_READ, in_slot(q, 0), (uint32_t)size, peer_out(q, 0), 1, 0);
		ring(q);
		while (q->completed < q->posted)
			idle(w, reap_send(w) > 0, cfg.event);
		sample(i, now_ns() - t0);
	}
	return i;
}

/* ------------------------------------------------------------------ */
/* Bandwidth                                                            */
/* ------------------------------------------------------------------ */

/*
 * Keep depth WRs outstanding on each QP, a completion every cq_mod and on
 * the last; with -D, once the time is up, every QP whose last WR was not
 * signaled posts one more that is.  Also reaps receives when this side
 * receives SENDs too (-b).
 */
static void bw_initiator(struct worker *w, uint64_t size)
{
	struct wstat *st = &sh->w[w->id];
	int inl = cfg.inl && size <= w->g.max_inline, recv = cfg.op == OP_SEND && cfg.bidir;
	uint64_t *last_sig = calloc(w->nqps, sizeof(*last_sig));
	uint32_t depth = cfg.depth, cq_mod = cfg.cq_mod;
	int stop = 0;
	uint32_t rounds = 0;

	if (!last_sig)
		die("out of memory");
	if (cfg.depth_bytes && depth > cfg.depth_bytes / size) {
		depth = cfg.depth_bytes / size > 2 ? (uint32_t)(cfg.depth_bytes / size) : 2;
		if (cq_mod > depth / 4)
			cq_mod = depth / 4 ? depth / 4 : 1;
	}
	for (uint32_t i = 0; i < w->nqps; i++)
		last_sig[i] = w->qps[i].posted;
	watch_start(w, cfg.op == OP_WRITE ? "RDMA WRITE completions" :
		    cfg.op == OP_SEND ? "SEND completions" : "READ completions");
	st->t_start = now_ns();
	for (;;) {
		int busy = 0, got;

		if (sh->end_ns && !stop && (++rounds & 7) == 0 && now_ns() >= sh->end_ns)
			stop = 1;
		for (uint32_t i = 0; i < w->nqps; i++) {
			struct qp *q = &w->qps[i];
			int batch = 0;

			while (q->posted - q->completed < depth && batch < POST_BATCH) {
				uint64_t m = q->posted - q->sent_base;
				int last, sig;

				if (stop || (!sh->end_ns && m == cfg.iters)) {
					/* the last WR must be signaled, or it never completes */
					if (last_sig[i] == q->posted)
						break;
					last = 1;
				} else {
					last = !sh->end_ns && m + 1 == cfg.iters;
				}
				sig = last || (m + 1) % cq_mod == 0;
				if (cfg.op == OP_READ)
					post(q, OP_READ, in_slot(q, m), (uint32_t)size, peer_out(q, m),
					     sig, 0);
				else
					post(q, cfg.op, out_slot(q, m), (uint32_t)size,
					     cfg.op == OP_WRITE ? peer_in(q, m) : 0, sig, inl);
				if (sig)
					last_sig[i] = q->posted;
				batch++;
			}
			if (batch)
				ring(q);
			busy |= q->posted != q->completed || last_sig[i] != q->posted ||
				(!stop && (sh->end_ns || q->posted - q->sent_base < cfg.iters));
		}
		got = reap_all(w, 0, size);
		if (got)
			st->t_end = now_ns();
		if (recv)	/* all of them: a receiver that lags gets RNR NAKs */
			got += reap_all(w, 1, size);
		if (!busy)
			break;
		idle(w, got > 0, cfg.event);
	}
	if (!st->t_end)
		st->t_end = now_ns();
	free(last_sig);
}

/* Receive SENDs until the peer's count for every QP has arrived. */
static void bw_receiver(struct worker *w, uint64_t size)
{
	watch_start(w, "the peer's SENDs");
	for (;;) {
		int n = reap_all(w, 1, size), busy = 0;

		if (ld(&sh->exp_ready) == sh->gen) {
			for (uint32_t i = 0; i < w->nqps; i++) {
				struct qp *q = &w->qps[i];

				busy |= q->recvd - q->recv_base < sh->expected[q->index];
			}
			if (!busy)
				return;
		}
		idle(w, n > 0, cfg.event);
	}
}

/* ------------------------------------------------------------------ */
/* Worker                                                               */
/* ------------------------------------------------------------------ */

static double proc_cpu(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec +
	       ru.ru_stime.tv_usec / 1e6;
}

static void run_size(struct worker *w, uint64_t size)
{
	struct wstat *st = &sh->w[w->id];
	int cpu_owner = w->id % cfg.threads == 0;
	double c0 = cpu_owner ? proc_cpu() : 0;
	uint32_t gen = sh->gen;

	st->t_start = st->t_end = 0;
	st->msgs = 0;
	st->verify = cfg.verify ? 1 : -1;
	st->verr[0] = 0;
	for (uint32_t i = 0; i < w->nqps; i++) {
		w->qps[i].sent_base = w->qps[i].posted;
		w->qps[i].recv_base = w->qps[i].recvd;
	}
	prepare(w, size);
	/* every worker of both sides has prepared before anything moves */
	inc(&sh->n_connected);
	worker_wait(&sh->peer_ready, gen + 1);

	if (cfg.lat) {
		struct qp *q = &w->qps[0];
		uint64_t n = 0;

		if (!loc.is_client)
			inc(&sh->n_sent);	/* a responder has nothing of its own to finish */
		st->t_start = now_ns();
		if (cfg.op == OP_WRITE)
			n = lat_write(w, q, size);
		else if (cfg.op == OP_SEND)
			n = lat_send(w, q, size);
		else if (loc.is_client)
			n = lat_read(w, q, size);
		st->t_end = now_ns();
		drain_send(w);
		st->msgs = n;
		sh->sent[q->index] = n;
		if (loc.is_client)
			inc(&sh->n_sent);
		worker_wait(&sh->exp_ready, gen);
		if (cfg.verify && (cfg.op == OP_READ ? loc.is_client : 1))
			st->verify = check_in(w, q, cfg.op == OP_SEND ? q->recvd - 1 : 0, 1, size);
	} else {
		if (initiator()) {
			bw_initiator(w, size);
			for (uint32_t i = 0; i < w->nqps; i++) {
				struct qp *q = &w->qps[i];

				sh->sent[q->index] = q->posted - q->sent_base;
				st->msgs += q->posted - q->sent_base;
			}
		} else {
			for (uint32_t i = 0; i < w->nqps; i++)
				sh->sent[w->qps[i].index] = 0;
		}
		inc(&sh->n_sent);
		if (cfg.op == OP_SEND && (!loc.is_client || cfg.bidir)) {
			bw_receiver(w, size);
		} else {
			worker_wait(&sh->exp_ready, gen);	/* a passive target */
		}
		for (uint32_t i = 0; cfg.verify && i < w->nqps && st->verify == 1; i++) {
			struct qp *q = &w->qps[i];

			if (cfg.op == OP_READ && initiator())
				st->verify = check_in(w, q, 0, q->posted - q->sent_base, size);
			else if (cfg.op == OP_WRITE && (!loc.is_client || cfg.bidir))
				st->verify = check_in(w, q, 0, sh->expected[q->index], size);
			else if (cfg.op == OP_SEND && (!loc.is_client || cfg.bidir))
				st->verify = check_in(w, q, q->recv_base,
						      q->recvd - q->recv_base, size);
		}
	}
	if (cpu_owner)
		st->cpu_s = proc_cpu() - c0;
	inc(&sh->n_done);
}

static void worker_setup(struct worker *w)
{
	uint32_t q0 = (uint32_t)((uint64_t)w->id * cfg.qps / nworkers);
	uint32_t q1 = (uint32_t)((uint64_t)(w->id + 1) * cfg.qps / nworkers);
	uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE), per, nslots, len;

	w->first = q0;
	w->nqps = q1 - q0;
	w->qps = calloc(w->nqps, sizeof(*w->qps));
	if (!w->qps)
		die("out of memory for %u QPs", w->nqps);
	if (cfg.lat) {
		nslots = 1;
	} else {
		uint64_t want = cfg.op == OP_SEND ? cfg.rx_depth : cfg.depth;

		nslots = WORKER_BUF_CAP / (w->nqps * 2 * max_size);
		if (nslots > want)
			nslots = want;
		if (!nslots)
			nslots = 1;
	}
	per = (2 * nslots * max_size + 63) & ~63ull;
	len = (per * w->nqps + page - 1) / page * page;
	w->g.pc = w->pc;
	w->g.nqps = w->nqps;
	w->g.max_msg = max_size;
	w->g.buf_len = len;
	w->g.buf = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (w->g.buf == MAP_FAILED)
		die("out of memory for a %" PRIu64 "-byte buffer", len);
	/* send CQ: the signaled WRs that can be outstanding */
	/* (+ 5: bw_initiator's smaller default depth and cq_mod at a large size) */
	w->g.scq_entries = w->nqps * ((cfg.depth + cfg.cq_mod - 1) / cfg.cq_mod + 1 +
				      (cfg.depth_bytes ? 5 : 0));
	if (cfg.lat)
		w->g.scq_entries = 64;
	w->g.rcq_entries = cfg.op == OP_SEND ? w->nqps * cfg.rx_depth : 1;
	if (be->group_create(&w->g) < 0)
		die("%s", be_last());
	if (cfg.event) {
		struct epoll_event ev = { .events = EPOLLIN | EPOLLET };

		w->ep = epoll_create1(EPOLL_CLOEXEC);
		if (w->ep < 0 || epoll_ctl(w->ep, EPOLL_CTL_ADD, be->event_fd(&w->g), &ev))
			die("epoll on the completion fd: %s", strerror(errno));
	}
	for (uint32_t i = 0; i < w->nqps; i++) {
		struct qp *q = &w->qps[i];

		q->g = &w->g;
		q->index = q0 + i;
		q->local = i;
		q->buf = w->g.buf + per * i;
		q->buf_len = 2 * nslots * max_size;
		q->slot = max_size;
		q->nslots = (uint32_t)nslots;
		if (be->qp_create(q) < 0)
			die("QP %u: %s", q->index, be_last());
		if (cfg.op == OP_SEND)
			for (uint32_t k = 0; k < cfg.rx_depth; k++)
				post_recv(q);
		be->qp_info(q, &sh->local[q->index]);
	}
	if (w->id == 0) {
		snprintf(sh->pc_name, sizeof(sh->pc_name), "%s", w->pc->devname);
		snprintf(sh->pc_detail, sizeof(sh->pc_detail), "%s", w->pc->detail);
		sh->max_inline = w->g.max_inline;
	}
}

static void worker_connect(struct worker *w)
{
	for (uint32_t i = 0; i < w->nqps; i++) {
		struct qp *q = &w->qps[i];

		q->peer = sh->peer[q->index];
		if (be->qp_connect(q) < 0)
			die("connecting QP %u: %s", q->index, be_last());
	}
}

static void worker_teardown(struct worker *w)
{
	for (uint32_t i = 0; i < w->nqps; i++)
		be->qp_destroy(&w->qps[i]);
	be->group_destroy(&w->g);
	if (cfg.event)
		close(w->ep);
	munmap(w->g.buf, w->g.buf_len);
	free(w->qps);
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	uint32_t gen = 0;

	worker_setup(w);
	inc(&sh->n_setup);
	worker_wait(&sh->peer_ready, 1);
	worker_connect(w);
	inc(&sh->n_connected);
	for (;;) {
		/* next size, or quit */
		uint32_t cur;

		while ((cur = ld(&sh->gen)) == gen && !ld(&sh->quit)) {
			if (*abort_flag)
				die_quiet();
			fwait(&sh->gen, cur, 100);
		}
		if (ld(&sh->quit))
			break;
		gen = sh->gen;
		run_size(w, sh->size);
	}
	worker_teardown(w);
	inc(&sh->n_exit);
	return NULL;
}

/* The workers of one process: threads, the first in the calling thread. */
static void run_workers(struct pctx *pc, uint32_t first)
{
	pthread_t tid[64];
	struct worker *ws = calloc(cfg.threads, sizeof(*ws));

	if (!ws)
		die("out of memory");
	for (uint32_t t = 0; t < cfg.threads; t++) {
		ws[t].id = first + t;
		ws[t].pc = pc;
		if (t && pthread_create(&tid[t], NULL, worker_main, &ws[t]))
			die("cannot create worker thread %u", t);
	}
	worker_main(&ws[0]);
	for (uint32_t t = 1; t < cfg.threads; t++)
		pthread_join(tid[t], NULL);
	free(ws);
}

static void *workers_thread(void *arg)
{
	run_workers(arg, 0);
	return NULL;
}

/* ------------------------------------------------------------------ */
/* Coordinator                                                          */
/* ------------------------------------------------------------------ */

static void exchange_cfg(void)
{
	uint64_t v[24] = { 0 };
	size_t len;
	uint32_t mine = cfg.transport;

	if (loc.is_client) {
		uint64_t c[] = { 2, cfg.op, cfg.lat, cfg.transport, cfg.size, cfg.all, cfg.iters,
				 cfg.duration_ms, cfg.qps, cfg.threads, cfg.procs, cfg.depth,
				 cfg.cq_mod, cfg.rx_depth, cfg.event, cfg.bidir, cfg.inl,
				 cfg.verify, cfg.timeout_s, cfg.depth_bytes };
		size_t n = sizeof(c) / sizeof(c[0]);
		char why[200];

		for (size_t i = 0; i < n; i++)
			v[i] = htobe64(c[i]);
		oob_send(M_CFG, v, n * 8);
		oob_recv(M_CFG_ACK, 0, why, sizeof(why) - 1, &len);
		why[len] = 0;
		if (why[0])
			die("the server refused: %s", why);
		return;
	}
	oob_recv(M_CFG, 0, v, sizeof(v), &len);
	for (size_t i = 0; i < 24; i++)
		v[i] = be64toh(v[i]);
	if (len < 19 * 8 || v[0] != 2) {
		oob_send(M_CFG_ACK, "protocol mismatch", 17);
		die("the client speaks another megalink-perf protocol");
	}
	if (v[3] != mine || v[1] != cfg.op || v[2] != cfg.lat) {
		char why[200];

		snprintf(why, sizeof(why), "the client runs %s_%s over %s, this server %s over %s: "
			 "start both with the same MODE and transport", op_name((uint32_t)v[1]),
			 v[2] ? "lat" : "bw", transport_name((uint32_t)v[3]), mode_name(),
			 transport_name(mine));
		oob_send(M_CFG_ACK, why, strlen(why));
		die("%s", why);
	}
	cfg.size = v[4];
	cfg.all = (uint32_t)v[5];
	cfg.iters = v[6];
	cfg.duration_ms = v[7];
	cfg.qps = (uint32_t)v[8];
	cfg.threads = (uint32_t)v[9];
	cfg.procs = (uint32_t)v[10];
	cfg.depth = (uint32_t)v[11];
	cfg.cq_mod = (uint32_t)v[12];
	cfg.rx_depth = (uint32_t)v[13];
	cfg.event = (uint32_t)v[14];
	cfg.bidir = (uint32_t)v[15];
	cfg.inl = (uint32_t)v[16];
	cfg.verify = (uint32_t)v[17];
	cfg.timeout_s = (uint32_t)v[18];
	cfg.depth_bytes = len >= 20 * 8 ? v[19] : 0;	/* older clients: -t as given */
	if (!cfg.size || cfg.size > (1ull << 31) || !cfg.qps || cfg.qps > MAX_QPS ||
	    !cfg.threads || !cfg.procs || cfg.threads > 64 || cfg.procs > 64 ||
	    cfg.threads * cfg.procs > cfg.qps || !cfg.depth || cfg.depth > MAX_DEPTH ||
	    !cfg.cq_mod || !cfg.rx_depth || cfg.rx_depth > MAX_DEPTH || !cfg.timeout_s) {
		oob_send(M_CFG_ACK, "impossible settings", 19);
		die("the client sent impossible settings");
	}
	oob_send(M_CFG_ACK, "", 0);
}

static void spawn(struct pctx *pc)
{
	pthread_t t;

	if (cfg.procs == 1) {
		if (pthread_create(&t, NULL, workers_thread, pc))
			die("cannot create the worker thread");
		pthread_detach(t);
		return;
	}
	for (uint32_t p = 0; p < cfg.procs; p++) {
		pid_t pid = fork();

		if (pid < 0)
			die("fork: %s", strerror(errno));
		if (pid == 0) {
			struct pctx mine = { 0 };

			nchildren = 0;
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			oob_close();
			if (be->open(&mine) < 0)
				die("process %u: %s", p, be_last());
			run_workers(&mine, p * cfg.threads);
			be->close(&mine);
			_exit(0);
		}
		children[nchildren++] = pid;
	}
}

/* Both directions' per-QP counts; returns the peer's into sh->expected. */
static void exchange_counts(void)
{
	uint64_t *v = malloc(cfg.qps * 8);
	size_t len;

	if (!v)
		die("out of memory");
	for (uint32_t i = 0; i < cfg.qps; i++)
		v[i] = htobe64(sh->sent[i]);
	oob_send(M_END, v, cfg.qps * 8);
	oob_recv(M_END, 0, v, cfg.qps * 8, &len);
	if (len != cfg.qps * 8)
		die("the peer reported %zu QPs, this side has %u", len / 8, cfg.qps);
	for (uint32_t i = 0; i < cfg.qps; i++)
		sh->expected[i] = be64toh(v[i]);
	free(v);
}

/* This side's part of a result, as the peer needs it. */
struct part {
	uint64_t t_start, t_end, msgs, verify;
	double cpu_s;
	char verr[200];
};

static void local_part(struct part *p)
{
	memset(p, 0, sizeof(*p));
	p->t_start = UINT64_MAX;
	p->verify = cfg.verify ? 1 : (uint64_t)-1;
	for (uint32_t i = 0; i < nworkers; i++) {
		struct wstat *st = &sh->w[i];

		if (st->t_start && st->t_start < p->t_start)
			p->t_start = st->t_start;
		if (st->t_end > p->t_end)
			p->t_end = st->t_end;
		p->msgs += st->msgs;
		p->cpu_s += st->cpu_s;
		if (st->verify == 0 && p->verify) {
			p->verify = 0;
			snprintf(p->verr, sizeof(p->verr), "%s", st->verr);
		}
	}
	if (p->t_start == UINT64_MAX)
		p->t_start = p->t_end = 0;
}

static void part_swap(struct part *p)
{
	uint64_t c;

	p->t_start = htobe64(p->t_start);
	p->t_end = htobe64(p->t_end);
	p->msgs = htobe64(p->msgs);
	p->verify = htobe64(p->verify);
	memcpy(&c, &p->cpu_s, 8);
	c = htobe64(c);
	memcpy(&p->cpu_s, &c, 8);
}

static int one_size(uint64_t size, struct result *res)
{
	struct cpu_snap c0, c1;
	struct part me, peer;
	uint32_t gen = sh->gen + 1;
	size_t len;

	memset(res, 0, sizeof(*res));
	res->size = size;
	sh->size = size;
	cpu_snap(&c0);
	publish(&sh->gen, gen);
	/* all workers prepared their buffers (n_connected counts on) */
	coord_wait(&sh->n_connected, nworkers * (gen + 1));
	oob_send(M_SYNC, NULL, 0);
	oob_recv(M_SYNC, 0, NULL, 0, NULL);
	sh->end_ns = cfg.duration_ms ? now_ns() + cfg.duration_ms * 1000000ull : 0;
	publish(&sh->peer_ready, gen + 1);

	coord_wait(&sh->n_sent, nworkers * gen);
	exchange_counts();
	publish(&sh->exp_ready, gen);
	coord_wait(&sh->n_done, nworkers * gen);
	cpu_snap(&c1);

	local_part(&me);
	peer = me;
	part_swap(&peer);
	oob_send(M_RESULT, &peer, sizeof(peer));
	oob_recv(M_RESULT, 0, &peer, sizeof(peer), &len);
	part_swap(&peer);
	peer.verr[sizeof(peer.verr) - 1] = 0;

	struct part *cl = loc.is_client ? &me : &peer, *sv = loc.is_client ? &peer : &me;

	res->cpu_client_s = cl->cpu_s;
	res->cpu_server_s = sv->cpu_s;
	res->guest_s = c1.guest_s - c0.guest_s;
	res->guest_kernel_s = c1.guest_kernel_s - c0.guest_kernel_s;
	res->have_stat = c0.have_stat && c1.have_stat;
	res->verify = -1;
	if (cfg.verify)
		res->verify = me.verify == 1 && peer.verify == 1;
	if (me.verify == 0)
		fprintf(stderr, PROG " %s: --verify: %s\n", loc.is_client ? "client" : "server",
			me.verr);
	if (peer.verify == 0)
		fprintf(stderr, PROG " %s: --verify (the %s's buffer): %s\n",
			loc.is_client ? "client" : "server", loc.is_client ? "server" : "client",
			peer.verr);

	if (cfg.lat) {
		uint64_t n = loc.is_client ? me.msgs : peer.msgs;

		res->iters = n;
		res->msgs = n;
		res->bytes = n * size * (cfg.op == OP_READ ? 1 : 2);
		res->duration_s = (cl->t_end - cl->t_start) / 1e9;
		if (loc.is_client) {
			if (!n)
				die("no iteration ran in %.3f s", cfg.duration_ms / 1e3);
			lat_compute(samples, n, cfg.op == OP_READ ? 1.0 : 2.0, &res->lat);
		}
		return 0;
	}
	/* bandwidth: the client's sends, plus the server's with -b */
	uint64_t t0 = cl->t_start, t1 = cl->t_end, qmin = UINT64_MAX, qmax = 0;

	if (cfg.bidir) {
		if (sv->t_start && sv->t_start < t0)
			t0 = sv->t_start;
		if (sv->t_end > t1)
			t1 = sv->t_end;
	}
	for (uint32_t i = 0; i < cfg.qps; i++) {
		uint64_t m = loc.is_client ? sh->sent[i] : sh->expected[i];

		if (cfg.bidir)
			m = sh->sent[i] + sh->expected[i];
		if (m < qmin)
			qmin = m;
		if (m > qmax)
			qmax = m;
		res->msgs += m;
	}
	res->iters = res->msgs;
	res->bytes = res->msgs * size;
	res->duration_s = (t1 - t0) / 1e9;
	if (res->duration_s > 0) {
		res->mbps = res->bytes / res->duration_s / 1e6;
		res->gbps = res->bytes * 8 / res->duration_s / 1e9;
		res->mpps = res->msgs / res->duration_s / 1e6;
	}
	res->qp_min_share = res->msgs ? (double)qmin / res->msgs : 0;
	res->qp_max_share = res->msgs ? (double)qmax / res->msgs : 0;
	return 0;
}

/*
 * The latency result lives with the client; the server prints what the
 * client sends it (the same numbers, for the server's log).
 */
static void share_result(struct result *r)
{
	uint64_t v[8];
	size_t len;

	if (!cfg.lat)
		return;
	if (loc.is_client) {
		memcpy(v, &r->lat, sizeof(r->lat));
		for (int i = 0; i < 6; i++)
			v[i] = htobe64(v[i]);
		oob_send(M_RESULT, v, 6 * 8);
	} else {
		oob_recv(M_RESULT, 0, v, sizeof(v), &len);
		for (int i = 0; i < 6; i++)
			v[i] = be64toh(v[i]);
		memcpy(&r->lat, v, sizeof(r->lat));
	}
}

int engine_run(void)
{
	struct pctx pc = { 0 };
	size_t len;
	int failed = 0;

	be = backend_of(cfg.transport);
	/* a bad device fails at once, before any peer comes */
	if (be->open(&pc) < 0)
		die("%s", be_last());
	oob_limit_s = cfg.timeout_s;
	oob_setup();
	exchange_cfg();
	oob_limit_s = 0;

	if (cfg.qps > 1 && !(be->caps & BE_MULTI))
		die("%s runs one QP only", transport_name(cfg.transport));
	if (!cfg.lat && !(be->caps & BE_BW))
		die("%s: no bandwidth modes", transport_name(cfg.transport));
	max_size = cfg.all ? ALL_MAX : cfg.size;
	if (pc.mtu && max_size > pc.mtu) {
		if (!cfg.all)
			die("-s %" PRIu64 ": larger than the %u bytes a frame of %s carries",
			    cfg.size, pc.mtu, pc.devname);
		max_size = pc.mtu;
	}
	nworkers = cfg.threads * cfg.procs;
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED)
		die("out of memory for the shared state");
	memset(sh, 0, sizeof(*sh));
	abort_flag = &sh->abort;

	if (cfg.procs > 1)
		be->close(&pc);		/* each process opens its own */
	spawn(&pc);
	coord_wait(&sh->n_setup, nworkers);

	/* endpoints: all QPs, in index order */
	{
		struct wire_ep *v = malloc(cfg.qps * sizeof(*v));

		if (!v)
			die("out of memory");
		for (uint32_t i = 0; i < cfg.qps; i++) {
			v[i] = sh->local[i];
			wire_ep_hton(&v[i]);
		}
		oob_limit_s = cfg.timeout_s;
		oob_send(M_INFO, v, cfg.qps * sizeof(*v));
		oob_recv(M_INFO, 0, v, cfg.qps * sizeof(*v), &len);
		if (len != cfg.qps * sizeof(*v))
			die("the peer sent %zu endpoints, this side needs %u", len / sizeof(*v),
			    cfg.qps);
		for (uint32_t i = 0; i < cfg.qps; i++) {
			wire_ep_hton(&v[i]);
			sh->peer[i] = v[i];
			if (v[i].len != sh->local[i].len)
				die("QP %u: the peer's buffer is %" PRIu64 " bytes, this side's %"
				    PRIu64 " (a different megalink-perf?)", i, v[i].len,
				    sh->local[i].len);
		}
		free(v);
	}
	if (cfg.transport == TR_ML && sh->peer[0].node == sh->local[0].node)
		die("the peer has this device's node id 0x%x: both sides use the same device?",
		    sh->peer[0].node);
	publish(&sh->peer_ready, 1);
	coord_wait(&sh->n_connected, nworkers);
	oob_send(M_SYNC, NULL, 0);
	oob_recv(M_SYNC, 0, NULL, 0, NULL);
	oob_limit_s = 0;

	snprintf(pc.devname, sizeof(pc.devname), "%s", sh->pc_name);
	snprintf(pc.detail, sizeof(pc.detail), "%s", sh->pc_detail);
	out_header(&pc);
	if (loc.is_client) {
		for (uint64_t s = cfg.all ? ALL_MIN : cfg.size; s <= max_size; s *= 2) {
			uint64_t v = htobe64(s);
			struct result r;

			oob_send(M_START, &v, 8);
			oob_recv(M_READY, 0, NULL, 0, NULL);
			one_size(s, &r);
			share_result(&r);
			out_result(&r, pc.devname);
			if (r.verify == 0)
				failed = 1;
		}
		oob_send(M_DONE, NULL, 0);
	} else {
		uint64_t v;

		while (oob_recv(M_START, M_DONE, &v, 8, &len) == M_START) {
			struct result r;

			v = be64toh(v);
			if (!v || v > max_size)
				die("the client asked for size %" PRIu64 ", the buffers hold %" PRIu64,
				    v, max_size);
			oob_send(M_READY, NULL, 0);
			one_size(v, &r);
			share_result(&r);
			out_result(&r, pc.devname);
			if (r.verify == 0)
				failed = 1;
		}
	}
	out_footer();

	peer_may_close = 1;
	__atomic_store_n(&sh->quit, 1, __ATOMIC_RELEASE);
	fwake(&sh->gen);
	coord_wait(&sh->n_exit, nworkers);
	for (uint32_t i = 0; i < nchildren; i++) {
		int st;

		if (children[i] > 0 && waitpid(children[i], &st, 0) == children[i] &&
		    (!WIFEXITED(st) || WEXITSTATUS(st)))
			failed = 1;
	}
	if (cfg.procs == 1)
		be->close(&pc);
	oob_close();
	free(samples);
	if (failed)
		die("--verify found a difference");
	return 0;
}
