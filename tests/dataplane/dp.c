// SPDX-License-Identifier: MIT
/*
 * Common code of the megalink data-plane suite: see dp.h.
 */
#define _GNU_SOURCE
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
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

#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>
#include <netlink/netlink.h>

#include "dp.h"

struct dp_env dp_env;
struct dp_shared *dp_sh_mem;
static int orig_ns = -1;
static int my_slot = -1;
static char where[256] = "start";
static int alarm_s;

static const char *env_or(const char *name, const char *def)
{
	const char *v = getenv(name);

	return v && *v ? v : def;
}

void dp_init(void)
{
	dp_env.ns[0] = env_or("DP_NS_A", "dpa");
	dp_env.ns[1] = env_or("DP_NS_B", "dpb");
	dp_env.dev[0] = env_or("DP_DEV_A", "ml0");
	dp_env.dev[1] = env_or("DP_DEV_B", "ml1");
	dp_env.ifname[0] = env_or("DP_IF_A", "va");
	dp_env.ifname[1] = env_or("DP_IF_B", "vb");
	orig_ns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	setvbuf(stdout, NULL, _IOLBF, 0);
	dp_pat_init();
}

static int ns_enter(const char *name)
{
	char path[128];
	int fd, r;

	snprintf(path, sizeof(path), "/run/netns/%s", name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	r = setns(fd, CLONE_NEWNET);
	r = r ? -errno : 0;
	close(fd);
	return r;
}

void dp_ns_enter(int side)
{
	int r = ns_enter(dp_env.ns[side]);

	if (r && my_slot >= 0)
		dp_fail(__FILE__, __LINE__, "setns %s: %s", dp_env.ns[side], strerror(-r));
	ck_assert_msg(r == 0, "setns %s: %s", dp_env.ns[side], strerror(-r));
}

void dp_ns_leave(void)
{
	if (orig_ns >= 0)
		ck_assert_int_eq(setns(orig_ns, CLONE_NEWNET), 0);
}

int dp_sh(const char *fmt, ...)
{
	char cmd[1024];
	va_list ap;
	int r;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	fflush(NULL);
	r = system(cmd);
	if (r == -1 || !WIFEXITED(r))
		return -1;
	return WEXITSTATUS(r);
}

double dp_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

void dp_skip(const char *test, const char *why)
{
	printf("ML-SKIP: %s: %s\n", test, why);
	fprintf(stderr, "ML-SKIP: %s: %s\n", test, why);
}

/* ------------------------------------------------------------------ */
/* child side                                                          */
/* ------------------------------------------------------------------ */

static const char *slot_name(int slot)
{
	static const char *names[DP_SLOTS] = { "A", "B", "H1", "H2" };

	return slot >= 0 && slot < DP_SLOTS ? names[slot] : "?";
}

void dp_fail(const char *file, int line, const char *fmt, ...)
{
	char text[1800];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (dp_sh_mem && my_slot >= 0)
		snprintf(dp_sh_mem->msg[my_slot], sizeof(dp_sh_mem->msg[0]),
			 "node %s: %s:%d: %s", slot_name(my_slot), file, line, text);
	fprintf(stderr, "node %s: FAIL %s:%d: %s\n", slot_name(my_slot), file, line, text);
	_exit(1);
}

void dp_log(const struct dp_node *n, const char *fmt, ...)
{
	char text[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	fprintf(stderr, "  [%s] %s\n", slot_name(n ? n->slot : my_slot), text);
}

static void set_where(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void set_where(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(where, sizeof(where), fmt, ap);
	va_end(ap);
}

static void on_alarm(int sig)
{
	(void)sig;
	if (dp_sh_mem && my_slot >= 0)
		snprintf(dp_sh_mem->msg[my_slot], sizeof(dp_sh_mem->msg[0]),
			 "node %s: timed out after %d s in: %s", slot_name(my_slot),
			 alarm_s, where);
	_exit(3);
}

void dp_send_byte(int fd, char c)
{
	ssize_t r;

	do
		r = write(fd, &c, 1);
	while (r < 0 && errno == EINTR);
	C_CHECK(r == 1, "message to %s: %s", fd >= 0 ? "peer" : "nobody",
		r < 0 ? strerror(errno) : "short write");
}

char dp_recv_byte(int fd, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	char c;
	ssize_t r;
	int pr;

	do
		pr = poll(&p, 1, timeout_ms);
	while (pr < 0 && errno == EINTR);
	C_CHECK(pr == 1, "no message within %d ms (%s)", timeout_ms, where);
	do
		r = read(fd, &c, 1);
	while (r < 0 && errno == EINTR);
	C_CHECK(r == 1, "the other process vanished (%s)", where);
	return c;
}

void dp_sync(struct dp_node *n)
{
	dp_send_byte(n->peer, 'S');
	C_CHECK(dp_recv_byte(n->peer, 120000) == 'S', "sync: unexpected message");
}

void dp_xchg(struct dp_node *n, const void *mine, void *theirs, size_t len)
{
	struct pollfd p = { .fd = n->peer, .events = POLLIN };
	ssize_t r;

	r = write(n->peer, mine, len);
	C_CHECK(r == (ssize_t)len, "exchange: write %zd", r);
	C_CHECK(poll(&p, 1, 60000) == 1, "exchange: the peer sent nothing in 60 s");
	r = read(n->peer, theirs, len);
	C_CHECK(r == (ssize_t)len, "exchange: the peer vanished (read %zd)", r);
}

void dp_node_open(struct dp_node *n, const char *dev)
{
	struct ml_device_info info;

	if (!dev)
		dev = dp_env.dev[n->side];
	C_OK(ml_device_open(dev, &n->dev));
	C_OK(ml_device_query(n->dev, &info));
	C_CHECK(info.caps & ML_DEV_CAP_DATA_PLANE, "%s lacks ML_DEV_CAP_DATA_PLANE", dev);
	n->node = info.node_id;
	n->mtu = info.ports_filled ? info.ports[0].mtu : 0;
	C_OK(ml_query_limits(n->dev, &n->lim));
}

void dp_node_setup(struct dp_node *n, const struct dp_setup *s)
{
	uint32_t sq = s->sq ? s->sq : 128, rq = s->rq ? s->rq : 128, cqe;
	int nqp = s->nqp ? s->nqp : 1, i;
	uint8_t *base;

	set_where("setup");
	dp_node_open(n, NULL);
	C_OK(ml_pd_alloc(n->dev, &n->pd));
	cqe = s->cqe ? s->cqe : (uint32_t)nqp * (sq + rq);
	if (cqe > n->lim.max_cqe)
		cqe = n->lim.max_cqe;
	C_OK(ml_cq_create(n->dev, cqe, &n->cq));
	C_CHECK(nqp <= DP_MAXQP, "too many QPs");
	for (i = 0; i < nqp; i++) {
		struct ml_qp_init init = {
			.send_cq = n->cq, .sq_entries = sq, .rq_entries = rq,
			.max_send_sge = ML_MAX_SGE, .max_recv_sge = ML_MAX_SGE,
			.max_inline = ML_MAX_INLINE,
		};

		C_OK(ml_qp_create(n->pd, &init, &n->qp[i]));
	}
	n->nqp = nqp;
	n->len = s->buflen;
	base = mmap(NULL, s->buflen + 8192, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	C_CHECK(base != MAP_FAILED, "mmap %zu: %s", s->buflen, strerror(errno));
	n->buf = base + 3;	/* the MR itself starts at an odd address */
	C_OK(ml_mr_reg(n->pd, n->buf, n->len, ML_ACCESS_ALL, &n->mr));

	memset(&n->me, 0, sizeof(n->me));
	n->me.node = n->node;
	n->me.nqp = (uint32_t)nqp;
	n->me.rkey = n->mr->rkey;
	n->me.mtu = n->mtu;
	n->me.addr = (uintptr_t)n->buf;
	n->me.len = n->len;
	for (i = 0; i < nqp; i++)
		n->me.qpn[i] = ml_qp_num(n->qp[i]);
	set_where("exchange");
	dp_xchg(n, &n->me, &n->peerinfo, sizeof(n->me));
	C_CHECK(n->peerinfo.nqp == n->me.nqp, "QP count differs");
	if (s->no_connect)
		return;
	set_where("connect");
	for (i = 0; i < nqp; i++)
		C_OK(ml_qp_connect(n->qp[i], n->peerinfo.node, n->peerinfo.qpn[i], s->opts));
	dp_sync(n);
	set_where("connected");
}

int dp_next_cqe(struct dp_node *n, struct ml_cq *cq, struct ml_cqe *wc, int timeout_ms)
{
	double deadline = dp_now() + timeout_ms / 1000.0;
	int r;

	for (;;) {
		r = ml_cq_poll(cq, wc, 1);
		if (r == 1)
			return 0;
		C_CHECK(r == 0, "cq poll: %d: %s", r, ml_last_error());
		if (dp_now() > deadline)
			return -ETIMEDOUT;
		r = ml_cq_wait(n->dev, 50);
		C_CHECK(r == 1 || r == -ETIMEDOUT || r == -EINTR, "cq wait: %d: %s", r,
			ml_last_error());
	}
}

struct ml_cqe dp_cqe(struct dp_node *n, int timeout_ms)
{
	struct ml_cqe wc;

	C_CHECK(dp_next_cqe(n, n->cq, &wc, timeout_ms) == 0,
		"no completion within %d ms (%s)", timeout_ms, where);
	return wc;
}

/* ------------------------------------------------------------------ */
/* patterns                                                            */
/* ------------------------------------------------------------------ */

/* Not a power of two, larger than any segment: a misplaced segment shows. */
#define DP_PAT_LEN	(4u * 1024 * 1024 + 4099)
static uint8_t *pat;

void dp_pat_init(void)
{
	uint64_t x = 0x9E3779B97F4A7C15ULL;
	uint32_t i;

	if (pat)
		return;
	pat = malloc(2 * (size_t)DP_PAT_LEN);
	if (!pat)
		abort();
	for (i = 0; i + 8 <= DP_PAT_LEN; i += 8) {
		x ^= x >> 12;
		x ^= x << 25;
		x ^= x >> 27;
		uint64_t v = x * 0x2545F4914F6CDD1DULL;

		memcpy(pat + i, &v, 8);
	}
	for (; i < DP_PAT_LEN; i++)
		pat[i] = (uint8_t)(i * 37);
	memcpy(pat + DP_PAT_LEN, pat, DP_PAT_LEN);
}

static uint64_t pat_start(uint32_t seed, uint64_t off)
{
	return ((uint64_t)seed * 2654435761ULL + off) % DP_PAT_LEN;
}

uint8_t dp_pat_byte(uint32_t seed, uint64_t off)
{
	return pat[pat_start(seed, off)];
}

void dp_fill(void *dst, size_t len, uint32_t seed, uint64_t off)
{
	uint8_t *d = dst;

	while (len) {
		size_t chunk = len < DP_PAT_LEN ? len : DP_PAT_LEN;

		memcpy(d, pat + pat_start(seed, off), chunk);
		d += chunk;
		off += chunk;
		len -= chunk;
	}
}

int64_t dp_verify(const void *src, size_t len, uint32_t seed, uint64_t off)
{
	const uint8_t *s = src;
	size_t done = 0;

	while (done < len) {
		size_t chunk = len - done < DP_PAT_LEN ? len - done : DP_PAT_LEN;
		const uint8_t *p = pat + pat_start(seed, off + done);

		if (memcmp(s + done, p, chunk)) {
			for (size_t i = 0; i < chunk; i++)
				if (s[done + i] != p[i])
					return (int64_t)(done + i);
		}
		done += chunk;
	}
	return -1;
}

int64_t dp_verify_fill(const void *src, size_t len, uint8_t c)
{
	const uint8_t *s = src;

	for (size_t i = 0; i < len; i++)
		if (s[i] != c)
			return (int64_t)i;
	return -1;
}

/* ------------------------------------------------------------------ */
/* transfers                                                           */
/* ------------------------------------------------------------------ */

const char *dp_op_name(int op)
{
	switch (op) {
	case ML_WR_SEND: return "SEND";
	case ML_WR_SEND_IMM: return "SEND_IMM";
	case ML_WR_WRITE: return "WRITE";
	case ML_WR_WRITE_IMM: return "WRITE_IMM";
	case ML_WR_READ: return "READ";
	}
	return "?";
}

static int x_pieces(const struct dp_x *x, int side)
{
	int n;

	if (side == DP_A)
		n = x->nsge_a;
	else
		n = (x->op == ML_WR_SEND || x->op == ML_WR_SEND_IMM) ? x->nsge_b : 1;
	if (n < 1)
		n = 1;
	if ((uint64_t)n > x->size)
		n = (int)x->size;
	return n ? n : 1;
}

/* Piece j of a side: offset in the buffer and length. */
static void x_piece(const struct dp_x *x, int side, int j, uint64_t *off, uint64_t *len)
{
	int n = x_pieces(x, side), k;
	uint64_t o = (side == DP_A ? x->off_a : x->off_b) + DP_GUARD;

	for (k = 0; k < j; k++)
		o += x->size / n + ((uint64_t)k < x->size % n) + 5 + 3 * k;
	*off = o;
	*len = x->size / n + ((uint64_t)j < x->size % n);
}

uint64_t dp_x_span(const struct dp_x *x, int side)
{
	uint64_t off, len;
	int n = x_pieces(x, side);

	x_piece(x, side, n - 1, &off, &len);
	return off + len + DP_GUARD - (side == DP_A ? x->off_a : x->off_b);
}

void dp_x_place(struct dp_x *x, int n, uint64_t a, uint64_t b)
{
	for (int i = 0; i < n; i++) {
		x[i].off_a = a;
		x[i].off_b = b;
		a += dp_x_span(&x[i], DP_A) + 1 + i % 7;
		b += dp_x_span(&x[i], DP_B) + 3 + i % 5;
	}
}

static int x_recv_op(int op)
{
	return op == ML_WR_SEND || op == ML_WR_SEND_IMM || op == ML_WR_WRITE_IMM;
}

static unsigned int x_wc_opcode(int op)
{
	switch (op) {
	case ML_WR_SEND:
	case ML_WR_SEND_IMM: return ML_WC_SEND;
	case ML_WR_WRITE:
	case ML_WR_WRITE_IMM: return ML_WC_WRITE;
	default: return ML_WC_READ;
	}
}

/* Check the pieces (pattern) and everything around them (filler) of a side. */
static void x_verify(struct dp_node *n, const struct dp_x *x, int i, int side, int want_data)
{
	uint64_t start = side == DP_A ? x->off_a : x->off_b, prev = start, logical = 0;
	int np = x_pieces(x, side), j;
	int64_t bad;

	C_CHECK(start + dp_x_span(x, side) <= n->len, "transfer %d does not fit", i);
	for (j = 0; j < np; j++) {
		uint64_t off, len;

		x_piece(x, side, j, &off, &len);
		bad = dp_verify_fill(n->buf + prev, off - prev, DP_FILLER);
		C_CHECK(bad < 0, "%s #%d size %llu: guard byte %lld before piece %d of %d "
			"was overwritten (0x%02x)", dp_op_name(x->op), i,
			(unsigned long long)x->size, (long long)bad, j, np,
			n->buf[prev + bad]);
		if (want_data) {
			bad = dp_verify(n->buf + off, len, x->seed, logical);
			C_CHECK(bad < 0, "%s #%d size %llu (%d+%d SGEs, mtu %u): byte %llu of the "
				"message (piece %d, +%lld) is 0x%02x, want 0x%02x",
				dp_op_name(x->op), i, (unsigned long long)x->size,
				x_pieces(x, DP_A), x_pieces(x, DP_B), n->mtu,
				(unsigned long long)(logical + bad), j, (long long)bad,
				n->buf[off + bad], dp_pat_byte(x->seed, logical + bad));
		}
		logical += len;
		prev = off + len;
	}
	bad = dp_verify_fill(n->buf + prev, DP_GUARD, DP_FILLER);
	C_CHECK(bad < 0, "%s #%d size %llu: guard byte %lld after the region was "
		"overwritten (0x%02x)", dp_op_name(x->op), i, (unsigned long long)x->size,
		(long long)bad, n->buf[prev + bad]);
}

static void x_prepare(struct dp_node *n, const struct dp_x *x, int side, int fill)
{
	uint64_t start = side == DP_A ? x->off_a : x->off_b, logical = 0;
	int np = x_pieces(x, side), j;

	C_CHECK(start + dp_x_span(x, side) <= n->len, "transfer does not fit the buffer");
	memset(n->buf + start, DP_FILLER, dp_x_span(x, side));
	if (!fill)
		return;
	for (j = 0; j < np; j++) {
		uint64_t off, len;

		x_piece(x, side, j, &off, &len);
		dp_fill(n->buf + off, len, x->seed, logical);
		logical += len;
	}
}

static void x_sges(struct dp_node *n, const struct dp_x *x, int side, struct ml_sge *g)
{
	int np = x_pieces(x, side), j;

	for (j = 0; j < np; j++) {
		uint64_t off, len;

		x_piece(x, side, j, &off, &len);
		g[j].addr = (uintptr_t)(n->buf + off);
		g[j].length = (uint32_t)len;
		g[j].lkey = n->mr->lkey;
	}
}

static void x_check_send_wc(struct dp_node *n, const struct dp_x *x, int nx,
			    const struct ml_cqe *wc, uint8_t *seen)
{
	struct ml_qp_attr qa;

	C_CHECK(wc->wr_id < (uint64_t)nx, "completion with unknown wr_id %llu",
		(unsigned long long)wc->wr_id);
	const struct dp_x *t = &x[wc->wr_id];

	C_CHECK(!seen[wc->wr_id], "two completions for wr %llu", (unsigned long long)wc->wr_id);
	seen[wc->wr_id] = 1;
	memset(&qa, 0, sizeof(qa));
	if (wc->status != ML_WC_SUCCESS)
		ml_qp_query(n->qp[t->qp], &qa);
	C_CHECK(wc->status == ML_WC_SUCCESS, "%s #%llu size %llu (%d SGEs) completed with %s "
		"(%u); QP %s, snd_psn %u snd_una %u rcv_psn %u, %llu retransmits, %llu timeouts",
		dp_op_name(t->op), (unsigned long long)wc->wr_id,
		(unsigned long long)t->size, t->nsge_a, ml_wc_status_str(wc->status), wc->status,
		ml_qp_state_name(qa.state), qa.snd_psn, qa.snd_una, qa.rcv_psn,
		(unsigned long long)qa.retransmits, (unsigned long long)qa.timeouts);
	C_CHECK(wc->opcode == x_wc_opcode(t->op), "%s #%llu: completion opcode %s",
		dp_op_name(t->op), (unsigned long long)wc->wr_id, ml_wc_opcode_name(wc->opcode));
	if (t->op == ML_WR_READ)
		C_CHECK(wc->byte_len == t->size, "READ #%llu: byte_len %u, want %llu",
			(unsigned long long)wc->wr_id, wc->byte_len, (unsigned long long)t->size);
}

/*
 * A number that changes whenever a PSN of one of the node's QPs moves.  A
 * long transfer on a slow kernel (64 MiB READs under KASAN on a loaded
 * machine take over a minute) is not a hang while it moves: the waits below
 * fail only after timeout_ms with neither a completion nor a moved PSN.
 */
static uint64_t x_progress(struct dp_node *n)
{
	uint64_t sum = 0;

	for (int q = 0; q < n->nqp; q++) {
		struct ml_qp_attr qa;

		memset(&qa, 0, sizeof(qa));
		if (ml_qp_query(n->qp[q], &qa) == 0)
			sum = sum * 1000003 + qa.snd_una + 7ULL * qa.rcv_psn +
			      13ULL * qa.snd_psn;
	}
	return sum;
}

static void x_run_a(struct dp_node *n, const struct dp_x *x, int nx, int timeout_ms)
{
	uint8_t seen[DP_MAXX] = { 0 };
	int i, got = 0;

	for (i = 0; i < nx; i++)
		x_prepare(n, &x[i], DP_A, x[i].op != ML_WR_READ);
	set_where("A: waiting for B to prepare %d transfers", nx);
	dp_sync(n);
	for (i = 0; i < nx; i++) {
		struct ml_sge g[ML_MAX_SGE];
		struct ml_qp *qp = n->qp[x[i].qp];
		struct ml_send_wr wr = {
			.wr_id = (uint64_t)i, .opcode = (uint32_t)x[i].op,
			.flags = ML_WR_F_SIGNALED, .sg_list = g,
			.num_sge = (uint32_t)x_pieces(&x[i], DP_A), .imm = x[i].imm,
			.remote_addr = n->peerinfo.addr + x[i].off_b + DP_GUARD,
			.rkey = n->peerinfo.rkey,
		};
		int r;

		x_sges(n, &x[i], DP_A, g);
		while ((r = ml_post_send_nodb(qp, &wr)) == -ENOSPC) {
			struct ml_cqe wc;

			for (int q = 0; q < n->nqp; q++)
				C_OK(ml_qp_doorbell(n->qp[q]));
			set_where("A: SQ full at transfer %d, %d completions", i, got);
			wc = dp_cqe(n, timeout_ms);
			x_check_send_wc(n, x, nx, &wc, seen);
			got++;
		}
		C_CHECK(r == 0, "post %s #%d size %llu: %d: %s", dp_op_name(x[i].op), i,
			(unsigned long long)x[i].size, r, ml_last_error());
	}
	for (i = 0; i < n->nqp; i++)
		C_OK(ml_qp_doorbell(n->qp[i]));
	while (got < nx) {
		uint64_t prog = x_progress(n);
		struct ml_cqe wc;

		set_where("A: %d of %d send completions (first size %llu, %s)", got, nx,
			  (unsigned long long)x[0].size, dp_op_name(x[0].op));
		while (dp_next_cqe(n, n->cq, &wc, timeout_ms)) {
			uint64_t now = x_progress(n);
			char miss[1024];
			size_t len = 0;

			if (now != prog) {
				prog = now;
				continue;
			}
			miss[0] = 0;
			for (i = 0; i < nx && len < sizeof(miss) - 200; i++) {
				struct ml_qp_attr qa;

				if (seen[i])
					continue;
				memset(&qa, 0, sizeof(qa));
				ml_qp_query(n->qp[x[i].qp], &qa);
				len += (size_t)snprintf(miss + len, sizeof(miss) - len,
					"%s%s #%d %llu B on QP %d (%s, %u outstanding, snd_psn %u "
					"snd_una %u, %llu retransmits, %llu timeouts)",
					len ? "; " : "", dp_op_name(x[i].op), i,
					(unsigned long long)x[i].size, x[i].qp,
					ml_qp_state_name(qa.state), qa.outstanding, qa.snd_psn,
					qa.snd_una, (unsigned long long)qa.retransmits,
					(unsigned long long)qa.timeouts);
			}
			dp_fail(__FILE__, __LINE__, "A: %d of %d transfers completed, no "
				"completion and no PSN moved for %d ms; missing: %s", got, nx,
				timeout_ms, miss);
		}
		x_check_send_wc(n, x, nx, &wc, seen);
		got++;
	}
	for (i = 0; i < nx; i++)
		x_verify(n, &x[i], i, DP_A, 1);
	dp_send_byte(n->peer, 'D');
	set_where("A: waiting for B's verdict");
	C_CHECK(dp_recv_byte(n->peer, timeout_ms + 60000) == 'V', "B: bad verdict");
}

static void x_run_b(struct dp_node *n, const struct dp_x *x, int nx, int timeout_ms)
{
	uint8_t seen[DP_MAXX] = { 0 };
	int i, want = 0, got = 0;

	for (i = 0; i < nx; i++) {
		struct ml_sge g[ML_MAX_SGE];
		struct ml_recv_wr wr = { .wr_id = (uint64_t)i, .sg_list = g };
		int r;

		x_prepare(n, &x[i], DP_B, x[i].op == ML_WR_READ);
		if (!x_recv_op(x[i].op))
			continue;
		if (x[i].op != ML_WR_WRITE_IMM) {
			x_sges(n, &x[i], DP_B, g);
			wr.num_sge = (uint32_t)x_pieces(&x[i], DP_B);
		}
		r = ml_post_recv(n->qp[x[i].qp], &wr);
		C_CHECK(r == 0, "post recv #%d: %d: %s", i, r, ml_last_error());
		want++;
	}
	set_where("B: waiting for A");
	dp_sync(n);
	set_where("B: waiting for A to finish %d transfers", nx);
	for (uint64_t prog = x_progress(n);;) {
		struct pollfd p = { .fd = n->peer, .events = POLLIN };
		int pr = poll(&p, 1, timeout_ms + 60000);
		uint64_t now;

		if (pr == 1)
			break;
		if (pr < 0 && errno == EINTR)
			continue;
		now = x_progress(n);
		C_CHECK(now != prog, "no word from A and no PSN moved for %d ms (%s)",
			timeout_ms + 60000, where);
		prog = now;
	}
	C_CHECK(dp_recv_byte(n->peer, 1000) == 'D', "A: bad message");
	while (got < want) {
		struct ml_cqe wc;
		const struct dp_x *t;

		set_where("B: %d of %d receive completions", got, want);
		wc = dp_cqe(n, timeout_ms);
		C_CHECK(wc.wr_id < (uint64_t)nx && !seen[wc.wr_id],
			"receive completion with bad/duplicate wr_id %llu",
			(unsigned long long)wc.wr_id);
		seen[wc.wr_id] = 1;
		t = &x[wc.wr_id];
		C_CHECK(wc.status == ML_WC_SUCCESS, "receive of %s #%llu size %llu: %s",
			dp_op_name(t->op), (unsigned long long)wc.wr_id,
			(unsigned long long)t->size, ml_wc_status_str(wc.status));
		C_CHECK(wc.opcode == (t->op == ML_WR_SEND ? ML_WC_RECV : ML_WC_RECV_IMM),
			"receive of %s #%llu: opcode %s", dp_op_name(t->op),
			(unsigned long long)wc.wr_id, ml_wc_opcode_name(wc.opcode));
		C_CHECK(wc.byte_len == t->size, "receive of %s #%llu: byte_len %u, want %llu",
			dp_op_name(t->op), (unsigned long long)wc.wr_id, wc.byte_len,
			(unsigned long long)t->size);
		if (t->op != ML_WR_SEND)
			C_CHECK((wc.flags & ML_WC_F_IMM) && wc.imm == t->imm,
				"receive of %s #%llu: imm 0x%x flags 0x%x, want 0x%x",
				dp_op_name(t->op), (unsigned long long)wc.wr_id, wc.imm,
				wc.flags, t->imm);
		else
			C_CHECK(!(wc.flags & ML_WC_F_IMM), "SEND #%llu: IMM flag set",
				(unsigned long long)wc.wr_id);
		C_CHECK(wc.qpn == ml_qp_num(n->qp[t->qp]) &&
			wc.src_qpn == n->peerinfo.qpn[t->qp],
			"receive #%llu: qpn %u src_qpn %u, want %u %u",
			(unsigned long long)wc.wr_id, wc.qpn, wc.src_qpn,
			ml_qp_num(n->qp[t->qp]), n->peerinfo.qpn[t->qp]);
		got++;
	}
	for (i = 0; i < nx; i++)
		x_verify(n, &x[i], i, DP_B, 1);
	dp_send_byte(n->peer, 'V');
}

void dp_x_run(struct dp_node *n, const struct dp_x *x, int nx, int timeout_ms)
{
	C_CHECK(nx > 0 && nx <= DP_MAXX, "bad batch size %d", nx);
	if (n->side == DP_A)
		x_run_a(n, x, nx, timeout_ms);
	else
		x_run_b(n, x, nx, timeout_ms);
}

/* ------------------------------------------------------------------ */
/* parent side: children                                               */
/* ------------------------------------------------------------------ */

void dp_run_init(struct dp_run *r)
{
	memset(r, 0, sizeof(*r));
	r->sh = mmap(NULL, sizeof(*r->sh), PROT_READ | PROT_WRITE,
		     MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ck_assert_ptr_ne(r->sh, MAP_FAILED);
	memset(r->sh, 0, sizeof(*r->sh));
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, r->peer_fd), 0);
	for (int i = 0; i < DP_SLOTS; i++)
		r->parent_fd[i] = -1;
}

void dp_spawn(struct dp_run *r, int slot, int side, dp_fn fn, void *arg, int timeout_s)
{
	int pf[2];
	pid_t ppid = getpid(), pid;

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pf), 0);
	fflush(NULL);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct dp_node n;

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != ppid)
			_exit(9);
		my_slot = slot;
		dp_sh_mem = r->sh;
		alarm_s = timeout_s;
		signal(SIGALRM, on_alarm);
		alarm((unsigned int)timeout_s);
		close(pf[0]);
		for (int i = 0; i < DP_SLOTS; i++)
			if (r->parent_fd[i] >= 0)
				close(r->parent_fd[i]);
		for (int i = 0; i < 2; i++)
			if (r->peer_fd[i] >= 0 && i != slot) {
				close(r->peer_fd[i]);
				r->peer_fd[i] = -1;
			}
		memset(&n, 0, sizeof(n));
		n.slot = slot;
		n.side = side;
		n.peer = slot < 2 ? r->peer_fd[slot] : -1;
		n.parent = pf[1];
		dp_ns_enter(side);
		fn(&n, arg);
		_exit(0);
	}
	close(pf[1]);
	r->pid[slot] = pid;
	r->parent_fd[slot] = pf[0];
	r->done[slot] = 0;
	if (slot + 1 > r->n)
		r->n = slot + 1;
	if (slot < 2 && r->peer_fd[slot] >= 0) {
		close(r->peer_fd[slot]);
		r->peer_fd[slot] = -1;
	}
}

static int reap(struct dp_run *r, int slot, double deadline)
{
	int st;

	if (!r->pid[slot] || r->done[slot])
		return 0;
	for (;;) {
		pid_t p = waitpid(r->pid[slot], &st, WNOHANG);

		if (p == r->pid[slot]) {
			r->status[slot] = st;
			r->done[slot] = 1;
			return 0;
		}
		if (dp_now() > deadline)
			return -1;
		usleep(20000);
	}
}

int dp_wait_one(struct dp_run *r, int slot, int timeout_s)
{
	if (reap(r, slot, dp_now() + timeout_s)) {
		kill(r->pid[slot], SIGKILL);
		waitpid(r->pid[slot], &r->status[slot], 0);
		r->done[slot] = 1;
		snprintf(r->sh->msg[slot], sizeof(r->sh->msg[0]),
			 "node %s: still running after %d s: killed", slot_name(slot), timeout_s);
		return 1;
	}
	return !(WIFEXITED(r->status[slot]) && WEXITSTATUS(r->status[slot]) == 0);
}

int dp_wait(struct dp_run *r, int timeout_s)
{
	double deadline = dp_now() + timeout_s;
	int bad = 0;

	for (int i = 0; i < r->n; i++) {
		double left = deadline - dp_now();

		bad += dp_wait_one(r, i, left > 1 ? (int)left : 1);
	}
	return bad;
}

void dp_kill(struct dp_run *r, int slot)
{
	if (r->pid[slot] && !r->done[slot])
		kill(r->pid[slot], SIGKILL);
}

void dp_assert_ok(struct dp_run *r, unsigned int killed_mask)
{
	char msg[4096] = "";
	size_t len = 0;

	for (int i = 0; i < r->n; i++) {
		int st = r->status[i];

		if (!r->pid[i])
			continue;
		if (killed_mask & (1u << i))
			continue;
		if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
			continue;
		if (r->sh->msg[i][0])
			len += (size_t)snprintf(msg + len, sizeof(msg) - len, "%s%s",
						len ? " | " : "", r->sh->msg[i]);
		else if (WIFSIGNALED(st))
			len += (size_t)snprintf(msg + len, sizeof(msg) - len,
						"%snode %s killed by signal %d (%s)",
						len ? " | " : "", slot_name(i), WTERMSIG(st),
						strsignal(WTERMSIG(st)));
		else
			len += (size_t)snprintf(msg + len, sizeof(msg) - len,
						"%snode %s exited %d", len ? " | " : "",
						slot_name(i), WEXITSTATUS(st));
		if (len >= sizeof(msg))
			break;
	}
	ck_assert_msg(msg[0] == 0, "%s", msg);
}

void dp_run_free(struct dp_run *r)
{
	for (int i = 0; i < DP_SLOTS; i++) {
		if (r->pid[i] && !r->done[i]) {
			kill(r->pid[i], SIGKILL);
			waitpid(r->pid[i], NULL, 0);
			r->done[i] = 1;
		}
		if (r->parent_fd[i] >= 0)
			close(r->parent_fd[i]);
		r->parent_fd[i] = -1;
	}
	for (int i = 0; i < 2; i++)
		if (r->peer_fd[i] >= 0)
			close(r->peer_fd[i]);
	munmap(r->sh, sizeof(*r->sh));
}

void dp_pair(dp_fn fa, dp_fn fb, void *arg, int timeout_s)
{
	struct dp_run r;

	dp_run_init(&r);
	dp_spawn(&r, 0, DP_A, fa, arg, timeout_s);
	dp_spawn(&r, 1, DP_B, fb, arg, timeout_s);
	dp_wait(&r, timeout_s + 10);
	dp_assert_ok(&r, 0);
	dp_run_free(&r);
}

void dp_pair_stats(dp_fn fa, dp_fn fb, void *arg, int timeout_s, const char *label)
{
	uint64_t a0[ML_LIB_STATS_SLOTS], b0[ML_LIB_STATS_SLOTS];
	uint64_t a1[ML_LIB_STATS_SLOTS], b1[ML_LIB_STATS_SLOTS];
	struct dp_run r;
	double t0 = dp_now();
	int ok;

	ok = !dp_stats(DP_A, a0) && !dp_stats(DP_B, b0);
	dp_run_init(&r);
	dp_spawn(&r, 0, DP_A, fa, arg, timeout_s);
	dp_spawn(&r, 1, DP_B, fb, arg, timeout_s);
	dp_wait(&r, timeout_s + 10);
	if (ok && !dp_stats(DP_A, a1) && !dp_stats(DP_B, b1)) {
#define D(x, s) (unsigned long long)(x##1[s] - x##0[s])
		fprintf(stderr, "  %s: %.1f s; A: tx_frames %llu retransmits %llu timeouts %llu "
			"drop_seq %llu tx_errors %llu | B: tx_frames %llu retransmits %llu "
			"timeouts %llu drop_seq %llu tx_errors %llu\n", label, dp_now() - t0,
			D(a, ML_STAT_TX_FRAMES), D(a, ML_STAT_RETRANSMITS), D(a, ML_STAT_TIMEOUTS),
			D(a, ML_STAT_DROP_SEQ), D(a, ML_STAT_TX_ERRORS), D(b, ML_STAT_TX_FRAMES),
			D(b, ML_STAT_RETRANSMITS), D(b, ML_STAT_TIMEOUTS), D(b, ML_STAT_DROP_SEQ),
			D(b, ML_STAT_TX_ERRORS));
#undef D
	}
	dp_assert_ok(&r, 0);
	dp_run_free(&r);
}

/* ------------------------------------------------------------------ */
/* parent side: control plane                                          */
/* ------------------------------------------------------------------ */

static int counts_cb(struct nl_msg *msg, void *arg)
{
	struct dp_counts *c = arg;
	struct nlattr *tb[ML_A_MAX + 1];

	if (genlmsg_parse(nlmsg_hdr(msg), 0, tb, ML_A_MAX, NULL) < 0)
		return NL_SKIP;
	c->ctx = tb[ML_A_NUM_CTX] ? nla_get_u32(tb[ML_A_NUM_CTX]) : 0xffffffffu;
	c->pds = tb[ML_A_NUM_PDS] ? nla_get_u32(tb[ML_A_NUM_PDS]) : 0xffffffffu;
	c->mrs = tb[ML_A_NUM_MRS] ? nla_get_u32(tb[ML_A_NUM_MRS]) : 0xffffffffu;
	c->cqs = tb[ML_A_NUM_CQS] ? nla_get_u32(tb[ML_A_NUM_CQS]) : 0xffffffffu;
	c->qps = tb[ML_A_NUM_QPS] ? nla_get_u32(tb[ML_A_NUM_QPS]) : 0xffffffffu;
	c->pinned = tb[ML_A_PINNED_PAGES] ? nla_get_u64(tb[ML_A_PINNED_PAGES]) : ~0ULL;
	return NL_OK;
}

int dp_dev_counts(int side, struct dp_counts *c)
{
	struct nl_sock *sk;
	struct nl_msg *m;
	int fam, r;

	memset(c, 0xff, sizeof(*c));
	if (dp_env.ns[side])
		dp_ns_enter(side);
	sk = nl_socket_alloc();
	r = sk ? genl_connect(sk) : -NLE_NOMEM;
	if (dp_env.ns[side])
		dp_ns_leave();
	if (r < 0)
		goto out;
	fam = genl_ctrl_resolve(sk, ML_GENL_NAME);
	if (fam < 0) {
		r = fam;
		goto out;
	}
	m = nlmsg_alloc();
	if (!m || !genlmsg_put(m, NL_AUTO_PORT, NL_AUTO_SEQ, fam, 0, 0, ML_CMD_DEV_GET,
			       ML_GENL_VERSION) ||
	    nla_put_string(m, ML_A_DEV_NAME, dp_env.dev[side]) < 0) {
		nlmsg_free(m);
		r = -NLE_NOMEM;
		goto out;
	}
	nl_socket_modify_cb(sk, NL_CB_VALID, NL_CB_CUSTOM, counts_cb, c);
	r = nl_send_auto(sk, m);
	nlmsg_free(m);
	if (r >= 0)
		r = nl_recvmsgs_default(sk);
out:
	if (sk)
		nl_socket_free(sk);
	return r < 0 ? -ENODEV : 0;
}

void dp_assert_counts_zero(int side, int timeout_ms)
{
	double deadline = dp_now() + timeout_ms / 1000.0;
	struct dp_counts c;
	int r;

	for (;;) {
		r = dp_dev_counts(side, &c);
		ck_assert_msg(r == 0, "DEV_GET %s failed: %d", dp_env.dev[side], r);
		if (!c.ctx && !c.pds && !c.mrs && !c.cqs && !c.qps && !c.pinned)
			return;
		if (dp_now() > deadline)
			break;
		usleep(50000);
	}
	ck_abort_msg("%s: objects left %d ms after every process exited: ctx %u pds %u "
		     "mrs %u cqs %u qps %u pinned-pages %llu", dp_env.dev[side], timeout_ms,
		     c.ctx, c.pds, c.mrs, c.cqs, c.qps, (unsigned long long)c.pinned);
}

int dp_stats(int side, uint64_t st[ML_LIB_STATS_SLOTS])
{
	struct ml_port_stats *ps = NULL;
	struct ml_ctl *ctl;
	size_t n = 0;
	int r;

	memset(st, 0, sizeof(uint64_t) * ML_LIB_STATS_SLOTS);
	dp_ns_enter(side);
	r = ml_ctl_open(&ctl);
	dp_ns_leave();
	if (r)
		return r;
	r = ml_ctl_stats(ctl, dp_env.dev[side], &ps, &n);
	if (r >= 0)
		for (size_t i = 0; i < n; i++)
			for (int k = 0; k < ML_LIB_STATS_SLOTS; k++)
				st[k] += ps[i].stats[k];
	ml_free(ps);
	ml_ctl_close(ctl);
	return r < 0 ? r : 0;
}

int dp_wait_neigh(int timeout_ms)
{
	double deadline = dp_now() + timeout_ms / 1000.0;
	struct ml_ctl *ctl[2];
	int ok = 0;

	for (int s = 0; s < 2; s++) {
		dp_ns_enter(s);
		if (ml_ctl_open(&ctl[s])) {
			dp_ns_leave();
			return -ENOENT;
		}
		dp_ns_leave();
	}
	while (!ok) {
		ok = 1;
		for (int s = 0; s < 2; s++) {
			struct ml_port_info *pi = NULL;
			size_t n = 0;

			if (ml_ctl_ports(ctl[s], dp_env.dev[s], &pi, &n) < 0 || n < 1 ||
			    pi[0].link_state != ML_LINK_UP)
				ok = 0;
			ml_free(pi);
		}
		if (!ok) {
			if (dp_now() > deadline)
				break;
			usleep(50000);
		}
	}
	ml_ctl_close(ctl[0]);
	ml_ctl_close(ctl[1]);
	return ok ? 0 : -ETIMEDOUT;
}
