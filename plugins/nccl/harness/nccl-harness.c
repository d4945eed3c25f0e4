// SPDX-License-Identifier: MIT
/*
 * nccl-harness: drives libnccl-net-megalink.so through NCCL's net plugin
 * ABI the way NCCL does, without a GPU.
 *
 *   nccl-harness [-n RANKS] [-N ns1,ns2,..] [-a 8..12] [-j] [-v] CASE...
 *   nccl-harness --expect-init-fail TEXT
 *
 * The plugin is found as NCCL finds it: NCCL_NET_PLUGIN=megalink (the
 * default here) -> dlopen("megalink"), then dlopen("libnccl-net-megalink.so")
 * through the loader's search path; then ncclNetPlugin_v12 .. _v8 is
 * looked up, newest first (-a forces one).  Each rank is a separate
 * process that enters its pod node (a network namespace, -N) before it
 * loads the plugin; handles travel between ranks over socketpairs, the
 * out-of-band channel NCCL's bootstrap would be.  Every case ends with
 * the plugin's object counts and the device's QP/CQ/MR counts (from the
 * megalink control plane) back at zero.  A rank that hangs is killed
 * after the case timeout and the case fails.
 *
 * Cases: sizes inflight grouped optional close hostile allreduce
 * kill-sender kill-receiver kill-idle-receiver (all: every case but the kill ones).
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <megalink/megalink.h>

#include "../nccl_net_abi.h"
#include "../plugin.h"

#define MAX_RANKS	8
#define KiB		1024UL
#define MiB		(1024UL * 1024UL)

static int nranks = 2, rank, abi_force, json, verbose;
static char *nodes[MAX_RANKS];
static int oob[MAX_RANKS][MAX_RANKS];	/* oob[rank][peer]: this rank's end */
static int case_timeout = 300;
static int report_fd = -1;

/* ------------------------------------------------------------------ */
/* Output                                                              */
/* ------------------------------------------------------------------ */

static int checks, failures;
static char last_warn[1024];

static void out(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void out(const char *fmt, ...)
{
	char buf[2048];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	fprintf(stdout, "[rank %d] %s\n", rank, buf);
	fflush(stdout);
	(void)n;
}

static void logger(ncclDebugLogLevel level, unsigned long flags, const char *file, int line,
		   const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	(void)flags;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (level == NCCL_LOG_WARN) {
		snprintf(last_warn, sizeof(last_warn), "%s", buf);
		if (verbose)
			out("NCCL WARN %s (%s:%d)", buf, file, line);
	} else if (verbose > 1) {
		out("NCCL INFO %s", buf);
	}
}

#define CHECK(cond, fmt, ...) do {					\
	checks++;							\
	if (!(cond)) {							\
		failures++;						\
		out("FAIL %s:%d: %s: " fmt, __FILE__, __LINE__, #cond, ##__VA_ARGS__); \
		if (last_warn[0])					\
			out("     last plugin warning: %s", last_warn);	\
	}								\
} while (0)

static const char *rname(ncclResult_t r)
{
	static const char *const n[] = { "ncclSuccess", "ncclUnhandledCudaError",
		"ncclSystemError", "ncclInternalError", "ncclInvalidArgument",
		"ncclInvalidUsage", "ncclRemoteError", "ncclInProgress" };

	return (unsigned)r < 8 ? n[r] : "unknown";
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	out("FATAL %s%s%s", buf, last_warn[0] ? "; last plugin warning: " : "", last_warn);
	exit(2);
}

/* ------------------------------------------------------------------ */
/* The plugin, behind one set of calls whatever its ABI version        */
/* ------------------------------------------------------------------ */

static void *lib;
static int ver;
static const ncclNet_v8_t *t8;
static const ncclNet_v9_t *t9;
static const ncclNet_v10_t *t10;
static const ncclNet_v11_t *t11;
static const ncclNet_v12_t *t12;
static void *ctx;			/* v11+ */
static int (*counts_fn)(struct mn_counts *);
static char libname[256];

/* NCCL's rules (src/plugin/plugin_open.cc): the name as given, then
 * libnccl-net-<name>.so unless it already is a path or a .so name. */
static void *open_plugin(const char *name)
{
	void *h;
	size_t l = strlen(name);

	snprintf(libname, sizeof(libname), "%s", name);
	h = dlopen(libname, RTLD_NOW | RTLD_LOCAL);
	if (h)
		return h;
	if (!strchr(name, '/') &&
	    (strncmp(name, "lib", 3) || l < 3 || strcmp(name + l - 3, ".so"))) {
		snprintf(libname, sizeof(libname), "libnccl-net-%s.so", name);
		h = dlopen(libname, RTLD_NOW | RTLD_LOCAL);
		if (!h)
			out("dlopen %s: %s", libname, dlerror());
	}
	return h;
}

static void load_plugin(void)
{
	const char *name = getenv("NCCL_NET_PLUGIN");
	char sym[32];

	lib = open_plugin(name && *name ? name : "megalink");
	if (!lib)
		die("cannot load the plugin (NCCL_NET_PLUGIN=%s)", name ? name : "megalink");
	for (int v = 12; v >= 8; v--) {
		void *t;

		if (abi_force && v != abi_force)
			continue;
		snprintf(sym, sizeof(sym), "ncclNetPlugin_v%d", v);
		t = dlsym(lib, sym);
		if (!t)
			continue;
		ver = v;
		t8 = v == 8 ? t : NULL;
		t9 = v == 9 ? t : NULL;
		t10 = v == 10 ? t : NULL;
		t11 = v == 11 ? t : NULL;
		t12 = v == 12 ? t : NULL;
		break;
	}
	if (!ver)
		die("%s has no ncclNetPlugin_v%s", libname, abi_force ? "<forced>" : "12..v8");
	counts_fn = (int (*)(struct mn_counts *))dlsym(lib, "megalink_nccl_counts");
}

#define CALL(fn, ...) (t12 ? t12->fn(__VA_ARGS__) : t11 ? t11->fn(__VA_ARGS__) :	\
		       t10 ? t10->fn(__VA_ARGS__) : t9 ? t9->fn(__VA_ARGS__) : t8->fn(__VA_ARGS__))

static const char *net_name(void)
{
	return t12 ? t12->name : t11 ? t11->name : t10 ? t10->name : t9 ? t9->name : t8->name;
}

static ncclResult_t n_init(void)
{
	if (ver >= 11) {
		ncclNetCommConfig_v11_t cfg = { NCCL_NET_TRAFFIC_CLASS_UNDEF };

		return t12 ? t12->init(&ctx, 0x1234, &cfg, logger, NULL)
			   : t11->init(&ctx, 0x1234, &cfg, logger, NULL);
	}
	if (ver == 10)
		return t10->init(logger, NULL);
	return ver == 9 ? t9->init(logger) : t8->init(logger);
}

struct props {
	char *name;
	int ptr, speed, max_recvs, max_comms, port, reg_global;
	uint64_t guid;
	size_t max_p2p;
};

static ncclResult_t n_props(int dev, struct props *p)
{
	ncclNetProperties_v12_t q12;
	ncclNetProperties_v11_t q11;
	ncclNetProperties_v9_t q9;
	ncclNetProperties_v8_t q8;
	ncclResult_t r;

#define FILL(q) do { p->name = q.name; p->ptr = q.ptrSupport; p->speed = q.speed;	\
	p->max_recvs = q.maxRecvs; p->max_comms = q.maxComms; p->port = q.port;		\
	p->guid = q.guid; p->reg_global = q.regIsGlobal; } while (0)
	memset(p, 0, sizeof(*p));
	switch (ver) {
	case 12: r = t12->getProperties(dev, &q12); FILL(q12); p->max_p2p = q12.maxP2pBytes;
		if (r == 0 && (q12.railId != NCCL_NET_ID_UNDEF || q12.vProps.ndevs != 1))
			out("note: v12 railId %d planeId %d vProps.ndevs %d", q12.railId,
			    q12.planeId, q12.vProps.ndevs);
		break;
	case 11: r = t11->getProperties(dev, &q11); FILL(q11); p->max_p2p = q11.maxP2pBytes; break;
	case 10: r = t10->getProperties(dev, &q9); FILL(q9); p->max_p2p = q9.maxP2pBytes; break;
	case 9: r = t9->getProperties(dev, &q9); FILL(q9); p->max_p2p = q9.maxP2pBytes; break;
	default: r = t8->getProperties(dev, &q8); FILL(q8); p->max_p2p = 0x7fffffff; break;
	}
	return r;
}

static ncclResult_t n_listen(int dev, void *h, void **lc)
{
	if (t12)
		return t12->listen(ctx, dev, h, lc);
	if (t11)
		return t11->listen(ctx, dev, h, lc);
	return t10 ? t10->listen(dev, h, lc) : t9 ? t9->listen(dev, h, lc) : t8->listen(dev, h, lc);
}

static ncclResult_t n_connect(int dev, void *h, void **sc)
{
	ncclNetDeviceHandle_v8_t *dc = NULL;
	ncclNetCommConfig_v10_t cfg = { NCCL_NET_TRAFFIC_CLASS_UNDEF };

	if (t12)
		return t12->connect(ctx, dev, h, sc, &dc);
	if (t11)
		return t11->connect(ctx, dev, h, sc, &dc);
	if (t10)
		return t10->connect(dev, &cfg, h, sc, &dc);
	return t9 ? t9->connect(dev, h, sc, &dc) : t8->connect(dev, h, sc, &dc);
}

static ncclResult_t n_accept(void *lc, void **rc)
{
	ncclNetDeviceHandle_v8_t *dc = NULL;

	return CALL(accept, lc, rc, &dc);
}

static ncclResult_t n_isend(void *sc, void *d, size_t size, int tag, void *mh, void **req)
{
	if (t12)
		return t12->isend(sc, d, size, tag, mh, NULL, req);
	if (t11)
		return t11->isend(sc, d, size, tag, mh, NULL, req);
	if (t10)
		return t10->isend(sc, d, size, tag, mh, NULL, req);
	return t9 ? t9->isend(sc, d, size, tag, mh, req) : t8->isend(sc, d, (int)size, tag, mh, req);
}

static ncclResult_t n_irecv(void *rc, int n, void **d, size_t *sizes, int *tags, void **mh,
			    void **req)
{
	int isz[16];

	if (t12)
		return t12->irecv(rc, n, d, sizes, tags, mh, NULL, req);
	if (t11)
		return t11->irecv(rc, n, d, sizes, tags, mh, NULL, req);
	if (t10)
		return t10->irecv(rc, n, d, sizes, tags, mh, NULL, req);
	if (t9)
		return t9->irecv(rc, n, d, sizes, tags, mh, req);
	for (int i = 0; sizes && i < n && i < 16; i++)
		isz[i] = (int)sizes[i];
	return t8->irecv(rc, n, d, sizes ? isz : NULL, tags, mh, req);
}

#define n_devices(p)		CALL(devices, p)
#define n_regmr(c, d, s, t, m)	CALL(regMr, c, d, s, t, m)
#define n_deregmr(c, m)		CALL(deregMr, c, m)
#define n_test(r, d, s)		CALL(test, r, d, s)
#define n_close_send(c)		CALL(closeSend, c)
#define n_close_recv(c)		CALL(closeRecv, c)
#define n_close_listen(c)	CALL(closeListen, c)
#define n_iflush(c, n, d, s, m, r) CALL(iflush, c, n, d, s, m, r)

/* ------------------------------------------------------------------ */
/* Out of band: socketpairs between the rank processes                 */
/* ------------------------------------------------------------------ */

static void oob_xfer(int peer, void *buf, size_t len, int send_it)
{
	char *p = buf;
	int fd = oob[rank][peer];

	while (len) {
		ssize_t n = send_it ? write(fd, p, len) : read(fd, p, len);

		if (n <= 0)
			die("out-of-band %s rank %d failed (peer gone?)", send_it ? "to" : "from", peer);
		p += n;
		len -= (size_t)n;
	}
}

static void barrier(void)
{
	char c = 'b';

	for (int p = 0; p < nranks; p++)
		if (p != rank)
			oob_xfer(p, &c, 1, 1);
	for (int p = 0; p < nranks; p++)
		if (p != rank)
			oob_xfer(p, &c, 1, 0);
}

/* ------------------------------------------------------------------ */
/* Ring connections: send to rank+1, receive from rank-1               */
/* ------------------------------------------------------------------ */

struct ring {
	void *sc, *rc;
	int next, prev;
	struct props props;
};

static int dev0 = 0;
static size_t sz_max = 64 * MiB;	/* -s: largest transfer of the sizes case */
static size_t ar_max = 64 * MiB;	/* -A: largest all-reduce */

static void ring_connect(struct ring *r, int close_listen_early)
{
	char mine[NCCL_NET_HANDLE_MAXSIZE], theirs[NCCL_NET_HANDLE_MAXSIZE];
	void *lc = NULL;
	ncclResult_t res;
	double t0 = now();
	int loops = 0;

	memset(r, 0, sizeof(*r));
	r->next = (rank + 1) % nranks;
	r->prev = (rank + nranks - 1) % nranks;
	res = n_props(dev0, &r->props);
	CHECK(res == ncclSuccess, "getProperties: %s", rname(res));
	res = n_listen(dev0, mine, &lc);
	if (res != ncclSuccess || !lc)
		die("listen: %s", rname(res));
	/* my listen handle goes to the rank that sends to me */
	if (r->next == r->prev) {	/* two ranks: swap */
		if (rank == 0) {
			oob_xfer(r->prev, mine, sizeof(mine), 1);
			oob_xfer(r->next, theirs, sizeof(theirs), 0);
		} else {
			oob_xfer(r->next, theirs, sizeof(theirs), 0);
			oob_xfer(r->prev, mine, sizeof(mine), 1);
		}
	} else {
		oob_xfer(r->prev, mine, sizeof(mine), 1);
		oob_xfer(r->next, theirs, sizeof(theirs), 0);
	}
	/* NCCL's proxy loop: connect and accept return NULL until ready */
	while (!r->sc || !r->rc) {
		if (!r->sc) {
			res = n_connect(dev0, theirs, &r->sc);
			if (res != ncclSuccess)
				die("connect to rank %d: %s", r->next, rname(res));
		}
		if (!r->rc) {
			res = n_accept(lc, &r->rc);
			if (res != ncclSuccess)
				die("accept from rank %d: %s", r->prev, rname(res));
			if (r->rc && close_listen_early) {
				CHECK(n_close_listen(lc) == ncclSuccess, "closeListen");
				lc = NULL;
			}
		}
		loops++;
		if (now() - t0 > 30)
			die("connect/accept not done after 30 s (%d polls)", loops);
	}
	if (lc)
		CHECK(n_close_listen(lc) == ncclSuccess, "closeListen");
	if (verbose)
		out("ring connected in %d polls, %.1f ms", loops, (now() - t0) * 1e3);
}

static void ring_close(struct ring *r, int recv_first)
{
	barrier();		/* as NCCL: no close while the peer may still use it */
	if (recv_first) {
		CHECK(n_close_recv(r->rc) == ncclSuccess, "closeRecv");
		CHECK(n_close_send(r->sc) == ncclSuccess, "closeSend");
	} else {
		CHECK(n_close_send(r->sc) == ncclSuccess, "closeSend");
		CHECK(n_close_recv(r->rc) == ncclSuccess, "closeRecv");
	}
	r->sc = r->rc = NULL;
}

/* Wait for a request; returns the final test() result. */
static ncclResult_t wait_req(void *req, int *sizes, double timeout)
{
	double t0 = now();
	int done = 0;
	ncclResult_t res;

	do {
		res = n_test(req, &done, sizes);
		if (res != ncclSuccess)
			return res;
		if (now() - t0 > timeout)
			die("request %p not complete after %.0f s", req, timeout);
	} while (!done);
	return ncclSuccess;
}

static void *post_send(void *sc, void *d, size_t size, int tag, void *mh)
{
	void *req = NULL;
	double t0 = now();
	ncclResult_t res;

	for (;;) {
		res = n_isend(sc, d, size, tag, mh, &req);
		if (res != ncclSuccess)
			die("isend %zu bytes tag %d: %s", size, tag, rname(res));
		if (req)
			return req;
		if (now() - t0 > 60)
			die("isend %zu bytes tag %d: no matching receive after 60 s", size, tag);
	}
}

static void *post_recv(void *rc, int n, void **d, size_t *sizes, int *tags, void **mh)
{
	void *req = NULL;
	double t0 = now();
	ncclResult_t res;

	for (;;) {
		res = n_irecv(rc, n, d, sizes, tags, mh, &req);
		if (res != ncclSuccess)
			die("irecv n=%d: %s", n, rname(res));
		if (req)
			return req;
		if (now() - t0 > 60)
			die("irecv n=%d: no request after 60 s", n);
	}
}

static uint8_t pat(uint32_t from, uint32_t seed, size_t i)
{
	uint64_t x = (i + 1) * 0x9e3779b97f4a7c15ULL ^ ((uint64_t)from << 40) ^ seed;

	return (uint8_t)(x >> 29 ^ x);
}

static void fill(uint8_t *b, size_t n, uint32_t from, uint32_t seed)
{
	for (size_t i = 0; i < n; i++)
		b[i] = pat(from, seed, i);
}

static size_t bad_bytes(const uint8_t *b, size_t n, uint32_t from, uint32_t seed)
{
	size_t bad = 0;

	for (size_t i = 0; i < n; i++)
		bad += b[i] != pat(from, seed, i);
	return bad;
}

static void *xmalloc(size_t n)
{
	void *p = aligned_alloc(4096, (n + 4095) & ~4095UL);

	if (!p)
		die("out of memory (%zu bytes)", n);
	return p;
}

static void *reg(void *comm, void *d, size_t n)
{
	void *mh = NULL;
	ncclResult_t res = n_regmr(comm, d, n, NCCL_PTR_HOST, &mh);

	if (res != ncclSuccess || !mh)
		die("regMr %zu bytes: %s", n, rname(res));
	return mh;
}

/* ------------------------------------------------------------------ */
/* Object counts                                                       */
/* ------------------------------------------------------------------ */

static struct ml_ctl *ctl;
static char devname_[ML_DEV_NAME_LEN];

static void check_counts(const char *when)
{
	struct mn_counts c = { 0 };
	struct ml_dev_attr a;

	if (!counts_fn) {
		out("ML-SKIP-NOTE: plugin has no megalink_nccl_counts: object counts not checked");
		return;
	}
	counts_fn(&c);
	CHECK(c.listen == 0 && c.send == 0 && c.recv == 0 && c.reg == 0 && c.req == 0 &&
	      c.cache == 0 && c.ctx == (ver >= 11 ? 1 : 0),
	      "%s: plugin objects left: listen %d send %d recv %d mhandles %d requests %d "
	      "cache %d ctx %d", when, c.listen, c.send, c.recv, c.reg, c.req, c.cache, c.ctx);
	if (ctl && ml_ctl_dev_get(ctl, devname_, &a) == 0 && (a.flags & ML_DEV_ATTR_F_OBJECTS)) {
		/* the plugin holds one file and one PD; nothing else may be left */
		CHECK(a.num_qps == 0 && a.num_cqs == 0 && a.num_mrs == 0 && a.num_pds == 1,
		      "%s: %s still has %u QPs, %u CQs, %u MRs, %u PDs", when, devname_, a.num_qps,
		      a.num_cqs, a.num_mrs, a.num_pds);
	}
}

/* ------------------------------------------------------------------ */
/* Cases                                                               */
/* ------------------------------------------------------------------ */

/* 0 B .. 64 MiB, each into a larger receive, with a canary after it. */
static void case_sizes(void)
{
	static const size_t sizes[] = { 0, 1, 7, 4095, 4096, 4097, 65536, MiB + 3,
					16 * MiB, 64 * MiB };
	const size_t slack = 512, maxsz = 64 * MiB + slack;
	uint8_t *sb = xmalloc(maxsz), *rb = xmalloc(maxsz);
	struct ring r;
	void *smh, *rmh;

	ring_connect(&r, 0);
	smh = reg(r.sc, sb, maxsz);
	rmh = reg(r.rc, rb, maxsz);
	for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		size_t sz = sizes[k], rsz = sz + slack;
		void *rd = rb;
		int tag = (int)k + 100, got = -1;
		void *rq, *sq;
		double t0 = now();

		if (sz > r.props.max_p2p || sz > sz_max)
			continue;
		fill(sb, sz, (uint32_t)rank, (uint32_t)k);
		memset(rb, 0xa5, rsz);
		rq = post_recv(r.rc, 1, &rd, &rsz, &tag, &rmh);
		sq = post_send(r.sc, sb, sz, tag, smh);
		CHECK(wait_req(sq, NULL, 120) == ncclSuccess, "send %zu", sz);
		CHECK(wait_req(rq, &got, 120) == ncclSuccess, "recv %zu", sz);
		CHECK(got == (int)sz, "recv of %zu bytes reported %d", sz, got);
		CHECK(bad_bytes(rb, sz, (uint32_t)r.prev, (uint32_t)k) == 0,
		      "%zu of %zu bytes differ", bad_bytes(rb, sz, (uint32_t)r.prev, (uint32_t)k), sz);
		CHECK(rb[sz] == 0xa5 && rb[rsz - 1] == 0xa5, "bytes after the %zu received were written", sz);
		if (verbose)
			out("sizes: %zu bytes OK (%.1f ms)", sz, (now() - t0) * 1e3);
	}
	CHECK(n_deregmr(r.sc, smh) == ncclSuccess, "deregMr");
	CHECK(n_deregmr(r.rc, rmh) == ncclSuccess, "deregMr");
	ring_close(&r, rank & 1);
	free(sb);
	free(rb);
}

static uint32_t rng_state = 12345;

static uint32_t rnd(void)
{
	rng_state = rng_state * 1103515245 + 12345;
	return rng_state >> 8;
}

static void shuffle(int *a, int n)
{
	for (int i = n - 1; i > 0; i--) {
		int j = (int)(rnd() % (uint32_t)(i + 1)), t = a[i];

		a[i] = a[j];
		a[j] = t;
	}
}

/*
 * NCCL_NET_MAX_REQUESTS receives and sends in flight, tested in random
 * order (completions out of order); matching is in posting order, so
 * receive i gets send i.  A 33rd receive is refused.
 */
static void case_inflight(void)
{
	enum { N = NCCL_NET_MAX_REQUESTS, SZ = 64 * 1024 };
	uint8_t *sb = xmalloc(N * SZ), *rb = xmalloc(N * SZ);
	void *sreq[N], *rreq[N];
	int order[2 * N], got[N];
	struct ring r;
	void *smh, *rmh;

	ring_connect(&r, 1);
	smh = reg(r.sc, sb, N * SZ);
	rmh = reg(r.rc, rb, N * SZ);
	memset(rb, 0, N * SZ);
	for (int i = 0; i < N; i++) {
		void *d = rb + (size_t)i * SZ;
		size_t sz = SZ;
		int tag = 7;			/* one tag: order alone matches */

		rreq[i] = post_recv(r.rc, 1, &d, &sz, &tag, &rmh);
	}
	{	/* a 33rd outstanding receive is refused, not queued */
		void *d = rb, *q = NULL;
		size_t sz = SZ;
		int tag = 7;
		ncclResult_t res = n_irecv(r.rc, 1, &d, &sz, &tag, &rmh, &q);

		CHECK(res != ncclSuccess && !q, "a 33rd irecv gave %s", rname(res));
	}
	for (int i = 0; i < N; i++) {
		size_t sz = (size_t)(i * 2011 + 1) % SZ;

		fill(sb + (size_t)i * SZ, sz, (uint32_t)rank, (uint32_t)i + 1000);
		sreq[i] = post_send(r.sc, sb + (size_t)i * SZ, sz, 7, smh);
	}
	for (int i = 0; i < 2 * N; i++)
		order[i] = i;
	shuffle(order, 2 * N);
	for (int pending = 2 * N; pending;) {
		for (int k = 0; k < 2 * N; k++) {
			int i = order[k], done = 0;
			void **q = i < N ? &sreq[i] : &rreq[i - N];
			ncclResult_t res;

			if (!*q)
				continue;
			res = n_test(*q, &done, i < N ? NULL : &got[i - N]);
			if (res != ncclSuccess)
				die("test: %s", rname(res));
			if (done) {
				*q = NULL;
				pending--;
			}
		}
	}
	for (int i = 0; i < N; i++) {
		size_t sz = (size_t)(i * 2011 + 1) % SZ;

		CHECK(got[i] == (int)sz, "receive %d got %d bytes, expected %zu", i, got[i], sz);
		CHECK(bad_bytes(rb + (size_t)i * SZ, sz, (uint32_t)r.prev, (uint32_t)i + 1000) == 0,
		      "receive %d: data of the wrong send", i);
	}
	CHECK(n_deregmr(r.sc, smh) == ncclSuccess, "deregMr");
	CHECK(n_deregmr(r.rc, rmh) == ncclSuccess, "deregMr");
	ring_close(&r, 0);
	free(sb);
	free(rb);
}

/*
 * Grouped receives: 32 irecvs of maxRecvs buffers each, distinct tags;
 * the sender posts each group's sends in a shuffled tag order (32 x
 * maxRecvs isends in flight on one send comm); every buffer must get the
 * send with its tag.
 */
static void case_grouped(void)
{
	enum { G = NCCL_NET_MAX_REQUESTS, SZ = 8192 };
	struct ring r;
	int m;
	uint8_t *sb, *rb;
	void *smh, *rmh, *rreq[G], **sreq;
	int got[G][MN_MAX_RECVS];

	ring_connect(&r, 0);
	m = r.props.max_recvs;
	CHECK(m >= 1 && m <= MN_MAX_RECVS, "maxRecvs %d", m);
	if (m < 2)
		out("ML-SKIP-NOTE: maxRecvs is %d: grouped receives need 2 or more", m);
	sb = xmalloc((size_t)G * m * SZ);
	rb = xmalloc((size_t)G * m * SZ);
	sreq = calloc((size_t)G * m, sizeof(void *));
	smh = reg(r.sc, sb, (size_t)G * m * SZ);
	rmh = reg(r.rc, rb, (size_t)G * m * SZ);
	memset(rb, 0, (size_t)G * m * SZ);
	for (int g = 0; g < G; g++) {
		void *d[MN_MAX_RECVS], *mh[MN_MAX_RECVS];
		size_t sz[MN_MAX_RECVS];
		int tags[MN_MAX_RECVS];

		for (int k = 0; k < m; k++) {
			d[k] = rb + ((size_t)g * m + k) * SZ;
			sz[k] = SZ;
			tags[k] = 1000 + k * 3;
			mh[k] = rmh;
		}
		rreq[g] = post_recv(r.rc, m, d, sz, tags, mh);
	}
	for (int g = 0; g < G; g++) {
		int ord[MN_MAX_RECVS];

		for (int k = 0; k < m; k++)
			ord[k] = k;
		shuffle(ord, m);
		for (int j = 0; j < m; j++) {
			int k = ord[j];
			size_t len = (size_t)((g * 131 + k * 977) % SZ);	/* 0 included */
			uint8_t *p = sb + ((size_t)g * m + k) * SZ;

			fill(p, len, (uint32_t)rank, (uint32_t)(g * 16 + k));
			sreq[g * m + k] = post_send(r.sc, p, len, 1000 + k * 3, smh);
		}
	}
	for (int pending = G + G * m; pending;) {
		for (int i = G * m - 1; i >= 0; i--) {	/* newest first: out of order */
			int done = 0;

			if (sreq[i] && n_test(sreq[i], &done, NULL) == ncclSuccess && done) {
				sreq[i] = NULL;
				pending--;
			}
		}
		for (int g = G - 1; g >= 0; g--) {
			int done = 0;
			ncclResult_t res;

			if (!rreq[g])
				continue;
			res = n_test(rreq[g], &done, got[g]);
			if (res != ncclSuccess)
				die("test grouped: %s", rname(res));
			if (done) {
				rreq[g] = NULL;
				pending--;
			}
		}
	}
	for (int g = 0; g < G; g++)
		for (int k = 0; k < m; k++) {
			size_t len = (size_t)((g * 131 + k * 977) % SZ);

			CHECK(got[g][k] == (int)len, "group %d buffer %d: %d bytes, expected %zu",
			      g, k, got[g][k], len);
			CHECK(bad_bytes(rb + ((size_t)g * m + k) * SZ, len, (uint32_t)r.prev,
					(uint32_t)(g * 16 + k)) == 0,
			      "group %d buffer %d (tag %d) holds the wrong data", g, k, 1000 + k * 3);
		}
	CHECK(n_deregmr(r.sc, smh) == ncclSuccess, "deregMr");
	CHECK(n_deregmr(r.rc, rmh) == ncclSuccess, "deregMr");
	ring_close(&r, 1);
	free(sreq);
	free(sb);
	free(rb);
}

/* The LL protocols' marker, and iflush of host memory. */
static void case_optional(void)
{
	enum { SZ = 4096 };
	uint8_t *sb = xmalloc(SZ), *rb = xmalloc(SZ);
	struct ring r;
	void *smh, *rmh, *rq, *sq, *fq = (void *)0x99;
	void *d = rb;
	size_t sz = SZ;
	int tag = 3, got = 0, isz = SZ;
	ncclResult_t res;

	ring_connect(&r, 0);
	smh = reg(r.sc, sb, SZ);
	rmh = reg(r.rc, rb, SZ);
	fill(sb, SZ, (uint32_t)rank, 77);
	rq = (void *)NCCL_NET_OPTIONAL_RECV_COMPLETION;
	res = n_irecv(r.rc, 1, &d, &sz, &tag, &rmh, &rq);
	CHECK(res == ncclSuccess, "irecv with the optional-completion marker: %s", rname(res));
	if (res == ncclSuccess && !rq)
		rq = post_recv(r.rc, 1, &d, &sz, &tag, &rmh);
	sq = post_send(r.sc, sb, SZ, tag, smh);
	CHECK(wait_req(sq, NULL, 60) == ncclSuccess, "send");
	CHECK(wait_req(rq, &got, 60) == ncclSuccess, "recv");
	CHECK(got == SZ && bad_bytes(rb, SZ, (uint32_t)r.prev, 77) == 0, "data");
	res = n_iflush(r.rc, 1, &d, &isz, &rmh, &fq);
	CHECK(res == ncclSuccess, "iflush: %s", rname(res));
	if (res == ncclSuccess && fq)
		CHECK(wait_req(fq, NULL, 10) == ncclSuccess, "iflush request");
	CHECK(n_deregmr(r.sc, smh) == ncclSuccess, "deregMr");
	CHECK(n_deregmr(r.rc, rmh) == ncclSuccess, "deregMr");
	ring_close(&r, 0);
	free(sb);
	free(rb);
}

/* Closes in either order, the listen comm before or after accept. */
static void case_close(void)
{
	for (int v = 0; v < 4; v++) {
		struct ring r;
		uint8_t b[64] = { 0 };
		void *smh, *rmh, *d = b + 32;
		size_t sz = 32;
		int tag = 1;

		ring_connect(&r, v & 1);
		smh = reg(r.sc, b, 32);
		rmh = reg(r.rc, b + 32, 32);
		void *rq = post_recv(r.rc, 1, &d, &sz, &tag, &rmh);
		void *sq = post_send(r.sc, b, 32, tag, smh);

		CHECK(wait_req(sq, NULL, 30) == ncclSuccess, "send");
		CHECK(wait_req(rq, NULL, 30) == ncclSuccess, "recv");
		/* deregister after or before closing the comm it was made on */
		if (v & 2) {
			CHECK(n_deregmr(r.sc, smh) == ncclSuccess, "deregMr");
			CHECK(n_deregmr(r.rc, rmh) == ncclSuccess, "deregMr");
			ring_close(&r, rank == 0 ? 1 : 0);
		} else {
			void *sc = r.sc, *rc = r.rc;

			barrier();
			/* dereg through the other comm: registrations are global */
			CHECK(n_deregmr(rc, smh) == ncclSuccess, "deregMr via the recv comm");
			CHECK(n_close_recv(rc) == ncclSuccess, "closeRecv");
			CHECK(n_deregmr(sc, rmh) == ncclSuccess, "deregMr via the send comm");
			CHECK(n_close_send(sc) == ncclSuccess, "closeSend");
		}
		check_counts("close variant");
	}
}

static int hostile_n;

#define EXPECT_ERR(call, ...) do {					\
	ncclResult_t res_ = (call);					\
	checks++;							\
	hostile_n++;							\
	if (res_ == ncclSuccess) {					\
		failures++;						\
		out("FAIL hostile %s: succeeded", #call);		\
	} else if (verbose) {						\
		out("ok hostile %s -> %s: %s", #call, rname(res_), last_warn); \
	}								\
	last_warn[0] = 0;						\
} while (0)

/* Hostile calls: every one answered with an error code, no crash. */
static void case_hostile(void)
{
	struct props p;
	struct ring r;
	int nd = 0, done = 0, stackvar = 0, sizes[8];
	char h[NCCL_NET_HANDLE_MAXSIZE];
	uint8_t *buf = xmalloc(8192);
	void *lc = NULL, *sc = NULL, *rc = NULL, *mh = NULL, *mh2 = NULL, *q = NULL;
	void *bogus = (void *)0xdead0001, *stack = &stackvar;
	void *d[9];
	size_t sz[9];
	int tags[9];

	EXPECT_ERR(n_devices(NULL));
	CHECK(n_devices(&nd) == ncclSuccess && nd >= 1, "devices");
	EXPECT_ERR(n_props(-1, &p));
	EXPECT_ERR(n_props(nd, &p));
	EXPECT_ERR(ver == 8 ? t8->getProperties(0, NULL) : ver == 12 ?
		   t12->getProperties(0, NULL) : ver == 11 ? t11->getProperties(0, NULL) :
		   ver == 10 ? t10->getProperties(0, NULL) : t9->getProperties(0, NULL));
	EXPECT_ERR(n_listen(0, NULL, &lc));
	EXPECT_ERR(n_listen(0, h, NULL));
	EXPECT_ERR(n_listen(nd + 3, h, &lc));
	memset(h, 0, sizeof(h));
	EXPECT_ERR(n_connect(0, h, &sc));	/* not a megalink handle */
	memset(h, 0x5a, sizeof(h));
	EXPECT_ERR(n_connect(0, h, &sc));
	EXPECT_ERR(n_connect(0, NULL, &sc));
	EXPECT_ERR(n_accept(NULL, &rc));
	EXPECT_ERR(n_accept(bogus, &rc));
	EXPECT_ERR(n_accept(stack, &rc));
	EXPECT_ERR(n_test(NULL, &done, NULL));
	EXPECT_ERR(n_test(bogus, &done, NULL));
	EXPECT_ERR(n_test(stack, &done, NULL));
	EXPECT_ERR(n_close_send(NULL));
	EXPECT_ERR(n_close_recv(bogus));
	EXPECT_ERR(n_close_listen(stack));
	EXPECT_ERR(n_regmr(NULL, buf, 64, NCCL_PTR_HOST, &mh));
	EXPECT_ERR(n_deregmr(bogus, bogus));
	if (ver >= 11) {
		EXPECT_ERR(t12 ? t12->listen(NULL, 0, h, &lc) : t11->listen(NULL, 0, h, &lc));
		EXPECT_ERR(t12 ? t12->finalize(bogus) : t11->finalize(bogus));
		EXPECT_ERR(t12 ? t12->setNetAttr(bogus, NULL) : t11->setNetAttr(bogus, NULL));
	}
	if (ver >= 9) {
		ncclNetVDeviceProps_v12_t vp = { .ndevs = 2, .devs = { 0, 0 } };
		int vd;

		EXPECT_ERR(t12 ? t12->makeVDevice(&vd, &vp) : t11 ? t11->makeVDevice(&vd, (void *)&vp) :
			   t10 ? t10->makeVDevice(&vd, (void *)&vp) : t9->makeVDevice(&vd, (void *)&vp));
	}

	ring_connect(&r, 0);
	r.rc = r.rc;
	EXPECT_ERR(n_regmr(r.sc, buf, 64, NCCL_PTR_CUDA, &mh));
	EXPECT_ERR(n_regmr(r.sc, buf, 64, NCCL_PTR_DMABUF, &mh));
	EXPECT_ERR(n_regmr(r.sc, NULL, 64, NCCL_PTR_HOST, &mh));
	EXPECT_ERR(n_regmr(r.sc, buf, 64, NCCL_PTR_HOST, NULL));
	EXPECT_ERR(CALL(regMrDmaBuf, r.sc, buf, 4096, NCCL_PTR_DMABUF, 0, 3, &mh));
	mh = reg(r.sc, buf, 4096);
	mh2 = reg(r.rc, buf + 4096, 4096);
	EXPECT_ERR(n_deregmr(r.sc, bogus));
	EXPECT_ERR(n_deregmr(r.sc, r.rc));	/* a comm is not a memory handle */
	/* sends: bad comm, NULL request, outside the registration, no mhandle */
	EXPECT_ERR(n_isend(bogus, buf, 64, 0, mh, &q));
	EXPECT_ERR(n_isend(r.rc, buf, 64, 0, mh, &q));	/* a recv comm */
	EXPECT_ERR(n_isend(r.sc, buf, 64, 0, mh, NULL));
	EXPECT_ERR(n_isend(r.sc, buf + 4000, 200, 0, mh, &q));
	EXPECT_ERR(n_isend(r.sc, buf, 64, 0, NULL, &q));
	EXPECT_ERR(n_isend(r.sc, buf, 64, 0, bogus, &q));
	EXPECT_ERR(n_isend(r.sc, NULL, 64, 0, mh, &q));
	if (ver == 8)
		EXPECT_ERR(t8->isend(r.sc, buf, -5, 0, mh, &q));
	for (int i = 0; i < 9; i++) {
		d[i] = buf + 4096;
		sz[i] = 64;
		tags[i] = i;
	}
	void *mhs[9] = { mh2, mh2, mh2, mh2, mh2, mh2, mh2, mh2, mh2 };
	EXPECT_ERR(n_irecv(r.rc, 0, d, sz, tags, mhs, &q));
	EXPECT_ERR(n_irecv(r.rc, -1, d, sz, tags, mhs, &q));
	EXPECT_ERR(n_irecv(r.rc, r.props.max_recvs + 1, d, sz, tags, mhs, &q));
	EXPECT_ERR(n_irecv(r.rc, 1, NULL, sz, tags, mhs, &q));
	EXPECT_ERR(n_irecv(r.rc, 1, d, NULL, tags, mhs, &q));
	EXPECT_ERR(n_irecv(r.rc, 1, d, sz, NULL, mhs, &q));
	EXPECT_ERR(n_irecv(r.rc, 1, d, sz, tags, NULL, &q));
	EXPECT_ERR(n_irecv(r.rc, 1, d, sz, tags, mhs, NULL));
	EXPECT_ERR(n_irecv(r.sc, 1, d, sz, tags, mhs, &q));	/* a send comm */
	sz[0] = 8192;						/* past the registration */
	EXPECT_ERR(n_irecv(r.rc, 1, d, sz, tags, mhs, &q));
	sz[0] = 64;
	EXPECT_ERR(n_iflush(bogus, 1, d, sizes, mhs, &q));
	EXPECT_ERR(n_iflush(r.rc, 1, d, sizes, mhs, NULL));
	EXPECT_ERR(n_test(r.sc, &done, NULL));			/* a comm is not a request */
	EXPECT_ERR(n_test(mh, &done, NULL));
	EXPECT_ERR(CALL(getDeviceMr, r.sc, mh, &q));
	EXPECT_ERR(CALL(irecvConsumed, r.rc, 1, bogus));
	/* a send bigger than the matching receive */
	{
		void *rq = post_recv(r.rc, 1, d, sz, tags, mhs), *sq = NULL;
		double t0 = now();
		ncclResult_t res = ncclSuccess;

		while (res == ncclSuccess && !sq && now() - t0 < 30)
			res = n_isend(r.sc, buf, 128, 0, mh, &sq);
		CHECK(res == ncclInvalidUsage && !sq, "isend of 128 bytes into a 64-byte receive: %s",
		      rname(res));
		hostile_n++;
		/* a request tested after its comm was closed */
		barrier();
		CHECK(n_close_recv(r.rc) == ncclSuccess, "closeRecv with a receive pending");
		EXPECT_ERR(n_test(rq, &done, NULL));
		EXPECT_ERR(n_close_recv(r.rc));			/* double close */
	}
	EXPECT_ERR(n_deregmr(r.rc, mh2));			/* its comm is closed */
	CHECK(n_deregmr(r.sc, mh2) == ncclSuccess, "deregMr via the live send comm");
	EXPECT_ERR(n_deregmr(r.sc, mh2));			/* double deregister */
	CHECK(n_deregmr(r.sc, mh) == ncclSuccess, "deregMr");
	barrier();
	CHECK(n_close_send(r.sc) == ncclSuccess, "closeSend");
	EXPECT_ERR(n_close_send(r.sc));
	EXPECT_ERR(n_isend(r.sc, buf, 0, 0, NULL, &q));		/* send on a closed comm */
	/* a listen comm closed twice, and accepted after close */
	CHECK(n_listen(0, h, &lc) == ncclSuccess, "listen");
	CHECK(n_close_listen(lc) == ncclSuccess, "closeListen");
	EXPECT_ERR(n_close_listen(lc));
	EXPECT_ERR(n_accept(lc, &rc));
	out("hostile: %d calls answered with an error code", hostile_n);
	free(buf);
}

/*
 * Ring all-reduce (sum of uint32, exact) as NCCL's proxy feeds the
 * network: each of the 2(N-1) steps moves one chunk, cut in slices; up
 * to NCCL_STEPS = 8 slices in flight per direction through a registered
 * staging FIFO on the receiving side, sent straight from the (registered)
 * user buffer.  Bandwidth in nccl-tests' units: algbw = bytes / time,
 * busbw = algbw * 2(N-1)/N.
 */
#define STEPS	8

static double allreduce(struct ring *r, size_t count, size_t slice, int check)
{
	size_t bytes = count * 4, chunk = (count + nranks - 1) / nranks;
	uint32_t *buf = xmalloc(bytes), *fifo = xmalloc(STEPS * slice);
	void *bmh = reg(r->sc, buf, bytes), *fmh = reg(r->rc, fifo, STEPS * slice);
	size_t nsl = (chunk * 4 + slice - 1) / slice;
	int nsteps = 2 * (nranks - 1);
	size_t total = (size_t)nsteps * nsl, sent = 0, sdone = 0, posted = 0, rdone = 0;
	void *sreq[STEPS] = { 0 }, *rreq[STEPS] = { 0 };
	int rready = 0, rgot = 0;	/* the oldest receive completed, not yet used */
	double t0, t;

	for (size_t i = 0; i < count; i++)
		buf[i] = (uint32_t)(rank + 1) * 1000003u + (uint32_t)i * 7u;
	barrier();
	t0 = now();
	/* op k: step k / nsl, slice k % nsl */
#define CHUNK_OF(step, send) ((size_t)((rank - (int)(step) - ((send) ? 0 : 1) + 2 * nranks * 4) % nranks))
#define AG_CHUNK(step, send) ((size_t)((rank - (int)(step) + ((send) ? 1 : 0) + 2 * nranks * 4) % nranks))
	while (rdone < total || sdone < total) {
		/* receives: keep STEPS posted */
		while (posted < total && posted - rdone < STEPS) {
			size_t k = posted, sl = k % nsl, st = k / nsl;
			size_t c = st < (size_t)(nranks - 1) ? CHUNK_OF(st, 0) : AG_CHUNK(st - (nranks - 1), 0);
			size_t off = c * chunk * 4 + sl * slice;
			size_t end = (c + 1) * chunk * 4 < bytes ? (c + 1) * chunk * 4 : bytes;
			size_t len = off < end ? (end - off < slice ? end - off : slice) : 0;
			void *d = (char *)fifo + (k % STEPS) * slice;
			int tag = 0;

			(void)len;
			size_t cap = slice;
			void *q = NULL;
			ncclResult_t res = n_irecv(r->rc, 1, &d, &cap, &tag, &fmh, &q);

			if (res != ncclSuccess)
				die("allreduce: irecv: %s", rname(res));
			if (!q)
				break;
			rreq[k % STEPS] = q;
			posted++;
		}
		/* the oldest receive: reduce or copy it into place */
		if (rdone < posted) {
			int done = rready;
			ncclResult_t res = rready ? ncclSuccess :
					   n_test(rreq[rdone % STEPS], &done, &rgot);

			if (res != ncclSuccess)
				die("allreduce: receive test: %s", rname(res));
			rready = done;
			if (done) {
				int got = rgot;

				size_t k = rdone, sl = k % nsl, st = k / nsl;
				int rs = st < (size_t)(nranks - 1);
				size_t c = rs ? CHUNK_OF(st, 0) : AG_CHUNK(st - (nranks - 1), 0);
				size_t off = c * chunk * 4 + sl * slice;
				uint32_t *dst = (uint32_t *)((char *)buf + off);
				const uint32_t *src = (const uint32_t *)((char *)fifo + (k % STEPS) * slice);

				if (!rs && sdone < (size_t)(nranks - 1) * nsl)
					goto sends;	/* our reduce-scatter sends still read it */
				if (rs)
					for (int i = 0; i < got / 4; i++)
						dst[i] += src[i];
				else
					memcpy(dst, src, (size_t)got);
				rreq[k % STEPS] = NULL;
				rready = 0;
				rdone++;
			}
		}
sends:
		/* sends: op k needs op k - nsl received (its data) */
		while (sent < total && sent - sdone < STEPS &&
		       (sent < nsl || rdone > sent - nsl)) {
			size_t k = sent, sl = k % nsl, st = k / nsl;
			size_t c = st < (size_t)(nranks - 1) ? CHUNK_OF(st, 1) : AG_CHUNK(st - (nranks - 1), 1);
			size_t off = c * chunk * 4 + sl * slice;
			size_t end = (c + 1) * chunk * 4 < bytes ? (c + 1) * chunk * 4 : bytes;
			size_t len = off < end ? (end - off < slice ? end - off : slice) : 0;

			void *q = NULL;
			ncclResult_t res = n_isend(r->sc, (char *)buf + (off < bytes ? off : 0), len, 0,
						   bmh, &q);

			if (res != ncclSuccess)
				die("allreduce: isend: %s", rname(res));
			if (!q)
				break;		/* no receive posted yet: as NCCL, try later */
			sreq[k % STEPS] = q;
			sent++;
		}
		if (sdone < sent) {
			int done = 0;
			ncclResult_t res = n_test(sreq[sdone % STEPS], &done, NULL);

			if (res != ncclSuccess)
				die("allreduce: send test: %s", rname(res));
			if (done) {
				sreq[sdone % STEPS] = NULL;
				sdone++;
			}
		}
	}
	t = now() - t0;
	barrier();
	if (check) {
		size_t bad = 0;

		for (size_t i = 0; i < count; i++) {
			uint32_t want = 0;

			for (int p = 0; p < nranks; p++)
				want += (uint32_t)(p + 1) * 1000003u + (uint32_t)i * 7u;
			bad += buf[i] != want;
		}
		CHECK(bad == 0, "all-reduce of %zu elements: %zu wrong", count, bad);
	}
	CHECK(n_deregmr(r->sc, bmh) == ncclSuccess, "deregMr");
	CHECK(n_deregmr(r->rc, fmh) == ncclSuccess, "deregMr");
	free(buf);
	free(fifo);
	return t;
}

static void case_allreduce(void)
{
	struct ring r;

	ring_connect(&r, 1);
	if (rank == 0 && !json)
		out("%12s %12s %10s %10s %10s", "size(B)", "count", "time(us)", "algbw(GB/s)",
		    "busbw(GB/s)");
	for (size_t bytes = 4096; bytes <= ar_max; bytes *= (bytes < MiB ? 16 : 4)) {
		size_t count = bytes / 4;
		double t = allreduce(&r, count, 512 * KiB, 1);
		double algbw = (double)bytes / t / 1e9, busbw = algbw * 2 * (nranks - 1) / nranks;

		if (rank == 0) {
			if (json)
				printf("{\"case\":\"allreduce\",\"ranks\":%d,\"abi\":%d,\"bytes\":%zu,"
				       "\"time_us\":%.1f,\"algbw_gbs\":%.4f,\"busbw_gbs\":%.4f}\n",
				       nranks, ver, bytes, t * 1e6, algbw, busbw);
			else
				out("%12zu %12zu %10.1f %10.4f %10.4f", bytes, count, t * 1e6, algbw, busbw);
		}
	}
	ring_close(&r, 0);
}

/*
 * A peer killed mid-transfer: the victim tells the parent it is sending
 * (or receiving) 64 MiB messages; the parent SIGKILLs it; the survivor's
 * pending requests must fail with ncclRemoteError or ncclSystemError
 * within 60 s, and its comms must still close.
 */
static void case_kill(int mode)
{
	int victim_sends = mode == 1, idle = mode == 2;
	const size_t SZ = 64 * MiB;
	uint8_t *b = xmalloc(SZ);
	struct ring r;
	void *smh, *rmh;
	int victim = 1, is_victim = rank == victim;
	/* with 2 ranks both directions link the same pair; with 3, rank 0
	 * sends to 1 and 1 to 2: the survivor is the victim's peer in the
	 * direction under test */
	int survivor = victim_sends ? (victim + 1) % nranks : (victim + nranks - 1) % nranks;

	ring_connect(&r, 1);
	smh = reg(r.sc, b, SZ);
	rmh = reg(r.rc, b, SZ);
	barrier();
	if (is_victim) {
		char c = 'K';

		if (write(report_fd, &c, 1) != 1)
			die("report");
		while (idle)	/* never posts a receive: the sender waits in isend */
			pause();
		for (;;) {	/* until killed */
			void *q;
			void *d = b;
			size_t sz = SZ;
			int tag = 0;

			if (victim_sends)
				q = post_send(r.sc, b, SZ, 0, smh);
			else
				q = post_recv(r.rc, 1, &d, &sz, &tag, &rmh);
			wait_req(q, NULL, 1e9);
		}
	}
	if (rank == survivor) {
		double t0 = now();
		ncclResult_t res = ncclSuccess;
		int n = 0;

		while (res == ncclSuccess && now() - t0 < 90) {
			void *q = NULL, *d = b;
			size_t sz = SZ;
			int tag = 0, done = 0;

			for (;;) {
				res = victim_sends ? n_irecv(r.rc, 1, &d, &sz, &tag, &rmh, &q)
						   : n_isend(r.sc, b, SZ, 0, smh, &q);
				if (res != ncclSuccess || q || now() - t0 > 90)
					break;
			}
			while (res == ncclSuccess && q && !done && now() - t0 < 90)
				res = n_test(q, &done, NULL);
			n++;
		}
		CHECK(res == ncclRemoteError || res == ncclSystemError,
		      "after the peer was killed: %s after %.1f s", rname(res), now() - t0);
		out("kill-%s: survivor got %s after %d transfers, %.1f s: %s",
		    idle ? "idle-receiver" : victim_sends ? "sender" : "receiver", rname(res), n,
		    now() - t0, last_warn);
	}
	/* everyone but the victim closes (the third rank's comms to the victim fail too) */
	CHECK(n_deregmr(r.sc, smh) == ncclSuccess, "deregMr");
	CHECK(n_deregmr(r.rc, rmh) == ncclSuccess, "deregMr");
	CHECK(n_close_send(r.sc) == ncclSuccess, "closeSend after the peer died");
	CHECK(n_close_recv(r.rc) == ncclSuccess, "closeRecv after the peer died");
	free(b);
}

/* ------------------------------------------------------------------ */
/* Rank processes                                                      */
/* ------------------------------------------------------------------ */

static void enter_node(const char *ns)
{
	char path[256];
	int fd;

	snprintf(path, sizeof(path), "/run/netns/%s", ns);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || setns(fd, CLONE_NEWNET))
		die("entering network namespace %s: %s", ns, strerror(errno));
	close(fd);
}

static void rank_setup(void)
{
	ncclResult_t res;
	struct props p;
	int nd = 0;

	if (nodes[rank])
		enter_node(nodes[rank]);
	load_plugin();
	res = n_init();
	if (res != ncclSuccess)
		die("init (v%d): %s", ver, rname(res));
	res = n_devices(&nd);
	CHECK(res == ncclSuccess && nd >= 1, "devices: %s, %d", rname(res), nd);
	if (nd < 1)
		die("no device");
	res = n_props(dev0, &p);
	CHECK(res == ncclSuccess, "getProperties: %s", rname(res));
	CHECK(p.name && p.name[0], "name");
	CHECK(p.ptr == NCCL_PTR_HOST, "ptrSupport %d", p.ptr);
	CHECK(p.speed > 0 && p.max_recvs >= 1 && p.max_comms >= 1 && p.reg_global == 1,
	      "speed %d maxRecvs %d maxComms %d regIsGlobal %d", p.speed, p.max_recvs,
	      p.max_comms, p.reg_global);
	snprintf(devname_, sizeof(devname_), "%s", p.name ? p.name : "");
	if (ml_ctl_open(&ctl) < 0)
		out("ML-SKIP-NOTE: no megalink control handle (%s): device object counts not checked",
		    ml_last_error());
	if (rank == 0)
		out("plugin %s: %s v%d, %d device(s); dev 0: %s guid 0x%llx speed %d Mb/s port %d "
		    "maxRecvs %d maxComms %d", libname, net_name(), ver, nd, p.name,
		    (unsigned long long)p.guid, p.speed, p.port, p.max_recvs, p.max_comms);
	check_counts("after init");
}

struct tcase {
	const char *name;
	void (*fn)(void);
};

static void kill_sender(void) { case_kill(1); }
static void kill_receiver(void) { case_kill(0); }
static void kill_idle(void) { case_kill(2); }

static const struct tcase cases[] = {
	{ "sizes", case_sizes },
	{ "inflight", case_inflight },
	{ "grouped", case_grouped },
	{ "optional", case_optional },
	{ "close", case_close },
	{ "hostile", case_hostile },
	{ "allreduce", case_allreduce },
	{ "kill-sender", kill_sender },
	{ "kill-receiver", kill_receiver },
	{ "kill-idle-receiver", kill_idle },
};

static const struct tcase *find_case(const char *n)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (!strcmp(cases[i].name, n))
			return &cases[i];
	return NULL;
}

/* Child: run the cases; write one result byte per case to the parent. */
static int rank_main(char **names, int ncases)
{
	rank_setup();
	for (int i = 0; i < ncases; i++) {
		const struct tcase *c = find_case(names[i]);
		int before = failures;
		char res;

		c->fn();
		if (strncmp(c->name, "kill", 4))
			check_counts(c->name);
		else if (rank != 1)
			check_counts(c->name);
		res = failures == before ? 'P' : 'F';
		if (write(report_fd, &res, 1) != 1)
			return 2;
	}
	if (ver >= 11) {
		ncclResult_t res = t12 ? t12->finalize(ctx) : t11->finalize(ctx);

		CHECK(res == ncclSuccess, "finalize: %s", rname(res));
	}
	if (verbose)
		out("%d checks, %d failed", checks, failures);
	return failures ? 1 : 0;
}

/* Parent: fork the ranks, collect per-case results, kill on hang. */
static int run_cases(char **names, int ncases)
{
	int rep[MAX_RANKS][2];
	pid_t pid[MAX_RANKS];
	int pass = 0, fail = 0, kill_case = ncases == 1 && !strncmp(names[0], "kill", 4);
	char res[MAX_RANKS][32];
	int got[MAX_RANKS] = { 0 };
	int sv[2];
	double t0 = now();

	for (int a = 0; a < nranks; a++)
		for (int b = a + 1; b < nranks; b++) {
			if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
				die("socketpair");
			oob[a][b] = sv[0];
			oob[b][a] = sv[1];
		}
	fflush(stdout);
	for (int r = 0; r < nranks; r++) {
		if (pipe2(rep[r], O_CLOEXEC))
			die("pipe");
		pid[r] = fork();
		if (pid[r] == 0) {
			rank = r;
			report_fd = rep[r][1];
			_exit(rank_main(names, ncases));
		}
		close(rep[r][1]);
	}
	rank = -1;
	for (int a = 0; a < nranks; a++)
		for (int b = 0; b < nranks; b++)
			if (a != b)
				close(oob[a][b]);
	/* results: one byte per case per rank ('K' from a kill victim) */
	for (;;) {
		struct pollfd p[MAX_RANKS];
		int open_fds = 0, n;

		for (int r = 0; r < nranks; r++) {
			p[r].fd = rep[r][0];
			p[r].events = POLLIN;
			open_fds += rep[r][0] >= 0;
		}
		if (!open_fds)
			break;
		n = poll(p, (nfds_t)nranks, 1000);
		if (n < 0 && errno != EINTR)
			die("poll");
		for (int r = 0; r < nranks; r++) {
			char c;

			if (rep[r][0] < 0 || !(p[r].revents & (POLLIN | POLLHUP)))
				continue;
			if (read(rep[r][0], &c, 1) != 1) {
				close(rep[r][0]);
				rep[r][0] = -1;
				continue;
			}
			if (c == 'K') {		/* the victim is mid-transfer: kill it */
				usleep(300000);
				kill(pid[r], SIGKILL);
				res[r][got[r]++] = 'P';
				continue;
			}
			if (got[r] < 32)
				res[r][got[r]++] = c;
		}
		if (now() - t0 > case_timeout * (double)ncases) {
			printf("nccl-harness: timeout after %.0f s: killing the ranks (a hang)\n",
			       now() - t0);
			for (int r = 0; r < nranks; r++)
				kill(pid[r], SIGKILL);
			break;
		}
	}
	int rc = 0;

	for (int r = 0; r < nranks; r++) {
		int st = 0;

		waitpid(pid[r], &st, 0);
		if (kill_case && r == 1)
			continue;	/* the victim */
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
			printf("nccl-harness: rank %d %s %d\n", r, WIFEXITED(st) ? "exited with" :
			       "killed by signal", WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
			rc = 1;
		}
	}
	for (int i = 0; i < ncases; i++) {
		bool ok = true;

		for (int r = 0; r < nranks; r++)
			ok &= i < got[r] && res[r][i] == 'P';
		if (ok)
			pass++;
		else
			fail++;
		printf("%s %d - %s (%d ranks, ABI %s%.0d)\n", ok ? "ok" : "not ok", i + 1, names[i],
		       nranks, abi_force ? "v" : "newest", abi_force);
		if (json)
			printf("{\"case\":\"%s\",\"ranks\":%d,\"result\":\"%s\"}\n", names[i], nranks,
			       ok ? "pass" : "fail");
	}
	printf("nccl-harness: %d passed, %d failed (%d ranks, %.1f s)\n", pass, fail, nranks,
	       now() - t0);
	return fail || rc ? 1 : 0;
}

/* init must fail, and its warning must say why. */
static int expect_init_fail(const char *text)
{
	ncclResult_t res;

	rank = 0;
	load_plugin();
	res = n_init();
	printf("nccl-harness: init (v%d) -> %s; warning: %s\n", ver, rname(res), last_warn);
	if (res == ncclSuccess) {
		printf("not ok - init succeeded, expected a failure naming \"%s\"\n", text);
		return 1;
	}
	if (!strstr(last_warn, text)) {
		printf("not ok - init failed but its warning does not say \"%s\"\n", text);
		return 1;
	}
	printf("ok - init failed with \"%s\"\n", text);
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f,
"usage: nccl-harness [-n RANKS] [-N NS1,NS2,...] [-a ABI] [-s MAX] [-A MAX] [-t SECONDS]\n"
"                    [-j] [-v] CASE...\n"
"       nccl-harness --expect-init-fail TEXT [-a ABI]\n"
"\n"
"Drives libnccl-net-megalink.so through NCCL's net plugin ABI as NCCL does.\n"
"  -n RANKS      rank processes (2..%d, default 2), rank r sends to r+1\n"
"  -N NS,...     network namespace (pod node) of each rank (/run/netns/NS)\n"
"  -a ABI        use ncclNetPlugin_vABI (8..12; default: the newest found)\n"
"  -s MAXBYTES   largest transfer of the sizes case (default 64 MiB)\n"
"  -A MAXBYTES   largest all-reduce (default 64 MiB)\n"
"  -t SECONDS    time limit per case before the ranks are killed (300)\n"
"  -j            JSON lines for results and bandwidth\n"
"  -v            show the plugin's warnings and progress (-vv: its INFO lines)\n"
"Cases: all (= sizes inflight grouped optional close hostile allreduce),\n"
"       kill-sender, kill-receiver, kill-idle-receiver (a receiver that never\n"
"       posts: the sender waits in isend), one per run\n"
"The plugin is loaded by NCCL's rules from NCCL_NET_PLUGIN (default megalink).\n"
"Output: one 'ok N - CASE' / 'not ok N - CASE' line per case and a summary\n"
"'nccl-harness: P passed, F failed'; exit status 0 when all passed.\n", MAX_RANKS);
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "expect-init-fail", required_argument, NULL, 'E' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	char *names[32], *expect = NULL;
	int ncases = 0, opt;

	setvbuf(stdout, NULL, _IOLBF, 0);
	while ((opt = getopt_long(argc, argv, "n:N:a:s:A:t:jvh", lo, NULL)) != -1) {
		switch (opt) {
		case 'n': nranks = atoi(optarg); break;
		case 'N': {
			char *s = strdup(optarg), *save = NULL;
			int i = 0;

			for (char *t = strtok_r(s, ",", &save); t && i < MAX_RANKS;
			     t = strtok_r(NULL, ",", &save))
				nodes[i++] = t;
			break;
		}
		case 'a': abi_force = atoi(optarg); break;
		case 's': sz_max = strtoul(optarg, NULL, 0); break;
		case 'A': ar_max = strtoul(optarg, NULL, 0); break;
		case 't': case_timeout = atoi(optarg); break;
		case 'j': json = 1; break;
		case 'v': verbose++; break;
		case 'E': expect = optarg; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (abi_force && (abi_force < 8 || abi_force > 12)) {
		fprintf(stderr, "nccl-harness: -a %d: the plugin exports ABI 8..12\n", abi_force);
		return 2;
	}
	if (expect)
		return expect_init_fail(expect);
	if (nranks < 2 || nranks > MAX_RANKS) {
		fprintf(stderr, "nccl-harness: -n %d: 2..%d ranks\n", nranks, MAX_RANKS);
		return 2;
	}
	for (int i = optind; i < argc; i++) {
		if (!strcmp(argv[i], "all")) {
			for (int k = 0; k < 7; k++)
				names[ncases++] = (char *)cases[k].name;
			continue;
		}
		if (!find_case(argv[i]) || ncases >= 30) {
			fprintf(stderr, "nccl-harness: unknown case '%s'\n", argv[i]);
			usage(stderr);
			return 2;
		}
		names[ncases++] = argv[i];
	}
	if (!ncases) {
		usage(stderr);
		return 2;
	}
	for (int i = 0; i < ncases; i++)
		if (!strncmp(names[i], "kill", 4) && ncases > 1) {
			fprintf(stderr, "nccl-harness: %s must run on its own\n", names[i]);
			return 2;
		}
	return run_cases(names, ncases);
}
