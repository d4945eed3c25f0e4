// SPDX-License-Identifier: MIT
/*
 * coll_check: the libmegalink-coll suite, run as root inside a harness
 * guest by run-suite.sh.  The parent forks one process per rank; rank i
 * enters network namespace PREFIX<i> (a megalink node) and joins the
 * communicator through the built-in TCP rendezvous (rank 0 at ADDR).
 *
 *   coll_check matrix  -n RANKS [-p PORT]   every op x dtype x count, checked
 *   coll_check overlap -n RANKS             non-blocking requests and compute
 *   coll_check kill    -n RANKS             rank 1 SIGKILLed mid all-reduce
 *   coll_check abort   -n RANKS             ml_coll_abort() from another thread
 *   coll_check regcache -n RANKS            the registration cache: hits, limits,
 *                                           release, a buffer mapped again at the
 *                                           same address, every op from user memory
 *   coll_check args                         bad arguments (no peers needed)
 *
 * Each mode prints one line per failed check and ends with
 * "coll_check MODE n=N: X checks, Y failed".  Exit 0 only if Y is 0.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <megalink/megalink.h>
#include <megalink/coll.h>

static int nranks = 2, port = 29500, me = -1;
static const char *ns_prefix = "mlc", *addr = "10.78.0.1";
static long checks, failures;
static int verbose;
static uint32_t join_reg_mib, join_reg_entries;	/* regcache mode */

static void failf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void failf(const char *fmt, ...)
{
	va_list ap;

	failures++;
	if (failures > 40)
		return;
	printf("FAIL rank %d: ", me);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
}

static void check(int cond, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void check(int cond, const char *fmt, ...)
{
	va_list ap;
	char buf[512];

	checks++;
	if (cond)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	failf("%s", buf);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int enter_ns(int rank)
{
	char path[128];
	int fd;

	snprintf(path, sizeof(path), "/var/run/netns/%s%d", ns_prefix, rank);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || setns(fd, CLONE_NEWNET)) {
		printf("FAIL rank %d: cannot enter %s: %s\n", rank, path, strerror(errno));
		return -1;
	}
	close(fd);
	return 0;
}

static struct ml_coll_comm *join(int rank, int size)
{
	struct ml_coll_config cfg;
	struct ml_coll_comm *c;
	int r;

	ml_coll_config_init(&cfg);
	cfg.rank = rank;
	cfg.size = size;
	cfg.addr = addr;
	cfg.port = (uint16_t)port;
	cfg.reg_cache_mib = join_reg_mib;
	cfg.reg_cache_entries = join_reg_entries;
	r = ml_coll_comm_create(&cfg, &c);
	if (r) {
		failf("comm create: %s", ml_coll_last_error());
		return NULL;
	}
	return c;
}

/* ---- reference values ---- */

static float h2f(uint16_t h)
{
	uint32_t s = (uint32_t)(h & 0x8000) << 16, e = (h >> 10) & 0x1f, m = h & 0x3ff, u;
	float f;

	if (e == 0)
		return (s ? -1.f : 1.f) * ldexpf((float)m, -24);
	u = e == 0x1f ? s | 0x7f800000u | (m << 13) : s | ((e + 112) << 23) | (m << 13);
	memcpy(&f, &u, 4);
	return f;
}

/* float -> half for values that are exact in half (test inputs only). */
static uint16_t f2h_exact(float f)
{
	uint16_t sign = f < 0 ? 0x8000 : 0;
	int e;
	float m;

	if (f == 0)
		return sign;
	m = frexpf(fabsf(f), &e);	/* |f| = m * 2^e, m in [0.5, 1) */
	e -= 1;				/* |f| = (2m) * 2^e, 2m in [1, 2) */
	if (e < -14)			/* subnormal */
		return (uint16_t)(sign | (uint16_t)lrintf(ldexpf(fabsf(f), 24)));
	return (uint16_t)(sign | (uint16_t)((e + 15) << 10) |
			  (uint16_t)lrintf((2 * m - 1) * 1024));
}

static float b2f(uint16_t b)
{
	uint32_t u = (uint32_t)b << 16;
	float f;

	memcpy(&f, &u, 4);
	return f;
}

static uint16_t f2b_exact(float f)
{
	uint32_t u;

	memcpy(&u, &f, 4);
	return (uint16_t)(u >> 16);
}

/* Small integers: every op exact in every dtype (|sum| <= 4*7, |prod| <= 16). */
static int val(int rank, size_t i, unsigned int op, int salt)
{
	uint32_t x = (uint32_t)(rank * 7919 + (int)i * 104729 + salt * 31) * 2654435761u;

	if (op == ML_COLL_PROD)
		return (int)((x >> 7) % 3) - 1 == 0 ? 2 : (int)((x >> 7) % 3) - 1;	/* -1, 2, 1 */
	return (int)((x >> 9) % 15) - 7;
}

static void put(void *buf, unsigned int dt, size_t i, double v)
{
	switch (dt) {
	case ML_COLL_INT8: ((int8_t *)buf)[i] = (int8_t)v; break;
	case ML_COLL_UINT8: ((uint8_t *)buf)[i] = (uint8_t)(int)v; break;
	case ML_COLL_INT32: ((int32_t *)buf)[i] = (int32_t)v; break;
	case ML_COLL_INT64: ((int64_t *)buf)[i] = (int64_t)v; break;
	case ML_COLL_FLOAT16: ((uint16_t *)buf)[i] = f2h_exact((float)v); break;
	case ML_COLL_BFLOAT16: ((uint16_t *)buf)[i] = f2b_exact((float)v); break;
	case ML_COLL_FLOAT32: ((float *)buf)[i] = (float)v; break;
	case ML_COLL_FLOAT64: ((double *)buf)[i] = v; break;
	}
}

static double get(const void *buf, unsigned int dt, size_t i)
{
	switch (dt) {
	case ML_COLL_INT8: return ((const int8_t *)buf)[i];
	case ML_COLL_UINT8: return ((const uint8_t *)buf)[i];
	case ML_COLL_INT32: return ((const int32_t *)buf)[i];
	case ML_COLL_INT64: return (double)((const int64_t *)buf)[i];
	case ML_COLL_FLOAT16: return h2f(((const uint16_t *)buf)[i]);
	case ML_COLL_BFLOAT16: return b2f(((const uint16_t *)buf)[i]);
	case ML_COLL_FLOAT32: return ((const float *)buf)[i];
	default: return ((const double *)buf)[i];
	}
}

static int is_int(unsigned int dt)
{
	return dt <= ML_COLL_INT64;
}

/* The input value of @rank at @i as stored in dtype @dt (uint8 wraps). */
static double input(int rank, size_t i, unsigned int dt, unsigned int op, int salt)
{
	char tmp[8];

	put(tmp, dt, 0, val(rank, i, op, salt));
	return get(tmp, dt, 0);
}

/* Expected reduction of element i over ranks 0..n-1 (integers wrap like dt). */
static double expect(size_t i, unsigned int dt, unsigned int op, int n, int salt)
{
	double acc = input(0, i, dt, op, salt);
	char tmp[8];

	for (int r = 1; r < n; r++) {
		double v = input(r, i, dt, op, salt);

		switch (op) {
		case ML_COLL_PROD: acc *= v; break;
		case ML_COLL_MIN: acc = fmin(acc, v); break;
		case ML_COLL_MAX: acc = fmax(acc, v); break;
		default: acc += v;
		}
		put(tmp, dt, 0, acc);	/* wrap as the dtype does */
		acc = get(tmp, dt, 0);
	}
	if (op == ML_COLL_AVG) {
		if (is_int(dt)) {
			put(tmp, dt, 0, acc);
			acc = get(tmp, dt, 0);
			acc = trunc(acc / n);
		} else {
			acc = (float)acc / (float)n;
		}
	}
	return acc;
}

static int close_enough(double got, double want, unsigned int dt, unsigned int op)
{
	if (got == want)
		return 1;
	if (op != ML_COLL_AVG || is_int(dt))
		return 0;
	/* avg of floats: one rounding of the quotient in the dtype */
	double tol = dt == ML_COLL_FLOAT16 ? 1e-3 : dt == ML_COLL_BFLOAT16 ? 8e-3 : 1e-6;

	return fabs(got - want) <= tol * fmax(1.0, fabs(want));
}

static void fill(void *buf, int rank, size_t count, unsigned int dt, unsigned int op, int salt)
{
	for (size_t i = 0; i < count; i++)
		put(buf, dt, i, val(rank, i, op, salt));
}

static const size_t counts[] = { 0, 1, 13, 1001, 40009 };
#define NCOUNTS (sizeof(counts) / sizeof(counts[0]))

/* ---- the matrix ---- */

static int verify(const char *what, const void *buf, size_t off, size_t count, unsigned int dt,
		  unsigned int op, int salt, int reduced, int src_rank)
{
	for (size_t i = 0; i < count; i++) {
		double want = reduced ? expect(off + i, dt, op, nranks, salt) :
				input(src_rank, off + i, dt, op, salt);
		double got = get(buf, dt, i);

		if (!close_enough(got, want, dt, op)) {
			check(0, "%s %s %s count %zu: element %zu is %g, expected %g", what,
			      ml_coll_dtype_name(dt), ml_coll_op_name(op), count, off + i, got, want);
			return 0;
		}
	}
	checks++;
	return 1;
}

static void matrix(struct ml_coll_comm *c)
{
	int n = nranks, salt = 0;

	for (unsigned int dt = 0; dt < ML_COLL_DTYPE_COUNT; dt++) {
		size_t es = ml_coll_dtype_size(dt);

		for (size_t ci = 0; ci < NCOUNTS; ci++) {
			size_t cnt = counts[ci];
			char *a = malloc((cnt + 1) * es * (size_t)n + 64);
			char *b = malloc((cnt + 1) * es * (size_t)n + 64);
			int r;

			if (verbose)
				printf("rank %d: %s count %zu\n", me, ml_coll_dtype_name(dt), cnt);
			for (unsigned int op = 0; op < ML_COLL_OP_COUNT; op++) {
				salt++;
				/* all-reduce, out of place then in place */
				fill(a, me, cnt, dt, op, salt);
				r = ml_coll_allreduce(c, a, b, cnt, dt, op);
				check(!r, "all-reduce %zu: %s", cnt, ml_coll_last_error());
				verify("all-reduce", b, 0, cnt, dt, op, salt, 1, 0);
				r = ml_coll_allreduce(c, a, a, cnt, dt, op);
				check(!r, "all-reduce in place %zu: %s", cnt, ml_coll_last_error());
				verify("all-reduce in place", a, 0, cnt, dt, op, salt, 1, 0);
				/* reduce-scatter: block j holds elements j*cnt.. */
				fill(a, me, cnt * (size_t)n, dt, op, salt);
				r = ml_coll_reduce_scatter(c, a, b, cnt, dt, op);
				check(!r, "reduce-scatter %zu: %s", cnt, ml_coll_last_error());
				verify("reduce-scatter", b, (size_t)me * cnt, cnt, dt, op, salt, 1, 0);
				/* reduce to the last rank, in place at the root */
				fill(a, me, cnt, dt, op, salt);
				r = ml_coll_reduce(c, a, me == n - 1 ? a : NULL, cnt, dt, op, n - 1);
				check(!r, "reduce %zu: %s", cnt, ml_coll_last_error());
				if (me == n - 1)
					verify("reduce", a, 0, cnt, dt, op, salt, 1, 0);
			}
			/* data movement: op-independent */
			salt++;
			fill(a, me, cnt, dt, ML_COLL_SUM, salt);
			r = ml_coll_allgather(c, a, b, cnt, dt);
			check(!r, "all-gather %zu: %s", cnt, ml_coll_last_error());
			for (int j = 0; j < n; j++)
				verify("all-gather", b + (size_t)j * cnt * es, 0, cnt, dt, 0, salt, 0, j);
			fill(a, me, cnt, dt, ML_COLL_SUM, salt);
			r = ml_coll_broadcast(c, a, cnt, dt, n / 2);
			check(!r, "broadcast %zu: %s", cnt, ml_coll_last_error());
			verify("broadcast", a, 0, cnt, dt, 0, salt, 0, n / 2);
			/* all-to-all: block j of rank r is input(r, j*cnt + i) */
			fill(a, me, cnt * (size_t)n, dt, ML_COLL_SUM, salt);
			r = ml_coll_alltoall(c, a, b, cnt, dt);
			check(!r, "all-to-all %zu: %s", cnt, ml_coll_last_error());
			for (int j = 0; j < n; j++)
				verify("all-to-all", b + (size_t)j * cnt * es, (size_t)me * cnt, cnt, dt,
				       0, salt, 0, j);
			/* send/recv around the ring */
			if (n > 1) {
				struct ml_coll_req *rs, *rr;

				fill(a, me, cnt, dt, ML_COLL_SUM, salt);
				r = ml_coll_send_start(c, a, cnt, dt, (me + 1) % n, &rs);
				check(!r, "send %zu: %s", cnt, ml_coll_last_error());
				r = ml_coll_recv_start(c, b, cnt, dt, (me + n - 1) % n, &rr);
				check(!r, "recv %zu: %s", cnt, ml_coll_last_error());
				check(!ml_coll_wait(rs), "send wait: %s", ml_coll_last_error());
				check(!ml_coll_wait(rr), "recv wait: %s", ml_coll_last_error());
				verify("send/recv", b, 0, cnt, dt, 0, salt, 0, (me + n - 1) % n);
			}
			free(a);
			free(b);
		}
	}
	check(!ml_coll_barrier(c), "barrier: %s", ml_coll_last_error());
}

/* Random float32 sums against the documented reduction order, bitwise. */
static float rnd(int rank, size_t i)
{
	uint64_t x = ((uint64_t)rank << 32 | i) * 0x9e3779b97f4a7c15ull;

	x ^= x >> 29;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 32;
	return (float)((double)(x & 0xffffff) / 0x1000000 - 0.5) * 1000.f;
}

static void float_order(struct ml_coll_comm *c)
{
	const size_t cnts[] = { 7, 40009 };
	int n = nranks;

	for (size_t k = 0; k < 2; k++) {
		size_t cnt = cnts[k];
		float *a = malloc(cnt * 4), *want = malloc(cnt * 4);
		size_t base = cnt / (size_t)n, rem = cnt % (size_t)n;
		int p2 = 1;

		while (p2 * 2 <= n)
			p2 *= 2;
		for (size_t i = 0; i < cnt; i++)
			a[i] = rnd(me, i);
		check(!ml_coll_allreduce(c, a, a, cnt, ML_COLL_FLOAT32, ML_COLL_SUM),
		      "float all-reduce: %s", ml_coll_last_error());
		for (size_t i = 0; i < cnt; i++) {
			float acc;

			if (cnt * 4 <= 4096 || cnt < (size_t)n) {	/* recursive doubling */
				float v[ML_COLL_MAX_RANKS];

				for (int r = 0; r < n; r++)
					v[r] = rnd(r, i);
				for (int r = p2; r < n; r++)
					v[r - p2] = v[r - p2] + v[r];
				for (int m = 1; m < p2; m <<= 1)
					for (int r = 0; r < p2; r++)
						if (!(r & m) && r < (r ^ m)) {
							float s = v[r] + v[r ^ m];

							v[r] = s;
							v[r ^ m] = s;
						}
				acc = v[0];
			} else {	/* ring: block s from rank s onwards */
				size_t s = i < rem * (base + 1) ? i / (base + 1) :
					   rem + (i - rem * (base + 1)) / base;

				acc = rnd((int)s, i);
				for (int j = 1; j < n; j++)
					acc = acc + rnd((int)((s + (size_t)j) % (size_t)n), i);
			}
			want[i] = acc;
		}
		check(!memcmp(a, want, cnt * 4), "float32 sum of %zu random values differs from "
		      "the documented reduction order", cnt);
		free(a);
		free(want);
	}
}

/* ---- non-blocking overlap ---- */

static void overlap(struct ml_coll_comm *c)
{
	enum { NREQ = 6, CNT = 30011 };
	struct ml_coll_req *req[NREQ];
	int32_t *buf[NREQ];
	volatile double sink = 0;
	long polls = 0;

	for (int k = 0; k < NREQ; k++) {
		buf[k] = malloc(CNT * 4);
		for (int i = 0; i < CNT; i++)
			buf[k][i] = me + k + i;
		check(!ml_coll_allreduce_start(c, buf[k], buf[k], CNT, ML_COLL_INT32, ML_COLL_SUM,
					       &req[k]), "start %d: %s", k, ml_coll_last_error());
	}
	/* "compute" while the requests move, testing the last one */
	for (;;) {
		int t = ml_coll_test(req[NREQ - 1]);

		if (t < 0) {
			check(0, "test: %s", ml_coll_last_error());
			break;
		}
		if (t == 1)
			break;
		for (int i = 0; i < 20000; i++)
			sink += i * 0.5;
		polls++;
	}
	for (int k = 0; k < NREQ; k++) {
		int t = ml_coll_test(req[k]);

		check(t == 1, "request %d not done when a later one is (%d)", k, t);
		check(!ml_coll_wait(req[k]), "wait %d: %s", k, ml_coll_last_error());
		int ok = 1;

		for (int i = 0; i < CNT && ok; i++)
			ok = buf[k][i] == nranks * (k + i) + nranks * (nranks - 1) / 2;
		check(ok, "non-blocking all-reduce %d: wrong result", k);
		free(buf[k]);
	}
	check(ml_coll_req_free(NULL) == 0, "req_free(NULL)");
	printf("rank %d: overlap: %ld compute slices while 6 all-reduces ran\n", me, polls);
}

/* ---- the registration cache ---- */

static struct ml_coll_stats st_now(struct ml_coll_comm *c)
{
	struct ml_coll_stats s;

	memset(&s, 0, sizeof(s));
	check(!ml_coll_comm_stats(c, &s), "stats: %s", ml_coll_last_error());
	return s;
}

/* An anonymous mapping of @bytes, at @at if given (MAP_FIXED_NOREPLACE). */
static int32_t *map_at(size_t bytes, void *at)
{
	void *p = mmap(at, bytes, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | (at ? MAP_FIXED_NOREPLACE : 0), -1, 0);

	if (p == MAP_FAILED) {
		check(0, "mmap %zu bytes%s: %s", bytes, at ? " at the old address" : "",
		      strerror(errno));
		return NULL;
	}
	return p;
}

/* rank r's element i of round @salt, and the sum over ranks */
static int32_t rv(int r, size_t i, int salt)
{
	return (int32_t)(r * 7 + (int)(i % 1000003) + salt * 13);
}

static int32_t rsum(size_t i, int salt)
{
	int32_t t = 0;

	for (int r = 0; r < nranks; r++)
		t += rv(r, i, salt);
	return t;
}

/* in-place int32 sum all-reduce of a[off .. off + cnt), checked exactly */
static int ar_check(struct ml_coll_comm *c, int32_t *a, size_t off, size_t cnt, int salt,
		    const char *what)
{
	for (size_t i = 0; i < cnt; i++)
		a[off + i] = rv(me, off + i, salt);
	if (ml_coll_allreduce(c, a + off, a + off, cnt, ML_COLL_INT32, ML_COLL_SUM)) {
		check(0, "%s: all-reduce: %s", what, ml_coll_last_error());
		return 0;
	}
	for (size_t i = 0; i < cnt; i++) {
		if (a[off + i] != rsum(off + i, salt)) {
			check(0, "%s: element %zu is %d, expected %d", what, off + i, a[off + i],
			      rsum(off + i, salt));
			return 0;
		}
	}
	checks++;
	return 1;
}

#define ULL(x) ((unsigned long long)(x))

/*
 * Run with reg_cache_mib 2 and reg_cache_entries 3 (main): large buffers
 * are sent from user memory; repeated calls hit; a sub-range hits; limits
 * evict; release drops, and a buffer mapped again at the same address
 * gives exact results (were the old registration kept, the old pages
 * would be sent: the test would see the previous round's sums).
 */
static void regcache(struct ml_coll_comm *c)
{
	const size_t MB = 1 << 20, CNT = MB / 4;
	struct ml_coll_stats s0, s1;
	struct ml_coll_req *req;
	int32_t *a, *b, *x[3], *y, *big, *in, *out;
	int salt = 1, r;

	/* 1. the same 1 MiB buffer four times: one miss, three hits, zero copy */
	a = map_at(MB, NULL);
	if (!a)
		return;
	s0 = st_now(c);
	for (int k = 0; k < 4; k++)
		ar_check(c, a, 0, CNT, salt++, "repeated");
	s1 = st_now(c);
	check(s1.reg_misses - s0.reg_misses == 1 && s1.reg_hits - s0.reg_hits == 3,
	      "4 all-reduces on one buffer: %llu misses, %llu hits (1 and 3 expected)",
	      ULL(s1.reg_misses - s0.reg_misses), ULL(s1.reg_hits - s0.reg_hits));
	check(s1.reg_entries == 1 && s1.reg_bytes == MB, "cached: %llu entries, %llu bytes",
	      ULL(s1.reg_entries), ULL(s1.reg_bytes));
	check(s1.zc_chunks > s0.zc_chunks, "no chunk was sent from user memory");

	/* 2. a part of it: a hit, no new entry */
	s0 = s1;
	ar_check(c, a, 16384, CNT / 2, salt++, "sub-range");
	s1 = st_now(c);
	check(s1.reg_hits == s0.reg_hits + 1 && s1.reg_misses == s0.reg_misses &&
	      s1.reg_entries == 1, "sub-range: hits %+lld, misses %+lld, %llu entries",
	      (long long)(s1.reg_hits - s0.reg_hits), (long long)(s1.reg_misses - s0.reg_misses),
	      ULL(s1.reg_entries));

	/* 3. release while a request uses it: -EBUSY; after it: dropped */
	for (size_t i = 0; i < CNT; i++)
		a[i] = rv(me, i, salt);
	r = ml_coll_allreduce_start(c, a, a, CNT, ML_COLL_INT32, ML_COLL_SUM, &req);
	check(!r, "start: %s", ml_coll_last_error());
	if (!r) {
		r = ml_coll_mem_release(c, a, 4096);
		/*
		 * A rank whose part is done may have finished already (its
		 * last chunks went out, only the wait is left): then the
		 * release is allowed and drops the entry.
		 */
		check(r == -EBUSY || (r == 1 && ml_coll_test(req) == 1),
		      "release of a buffer in use returned %d, not -EBUSY", r);
		check(!ml_coll_wait(req), "wait: %s", ml_coll_last_error());
		for (size_t i = 0; i < CNT; i++) {
			if (a[i] != rsum(i, salt)) {
				check(0, "non-blocking: element %zu is %d", i, a[i]);
				break;
			}
		}
	}
	salt++;
	{
		/* dropped above already (this rank had finished): nothing left to drop */
		int want = r == 1 ? 0 : 1;

		s0 = st_now(c);
		r = ml_coll_mem_release(c, (char *)a + 8192, 100);	/* any overlap drops it */
		s1 = st_now(c);
		check(r == want && s1.reg_entries == 0 && s1.reg_bytes == 0 &&
		      s1.reg_releases == s0.reg_releases + (uint64_t)want,
		      "release returned %d (%d expected), %llu entries left", r, want,
		      ULL(s1.reg_entries));
	}

	/* 4. freed and mapped again at the same address, new contents: exact */
	munmap(a, MB);
	b = map_at(MB, a);
	if (b) {
		check(b == a, "the new mapping is not at the old address");
		s0 = st_now(c);
		ar_check(c, b, 0, CNT, salt++, "remapped at the same address");
		s1 = st_now(c);
		check(s1.reg_misses == s0.reg_misses + 1, "remapped buffer: not a miss");
		check(ml_coll_mem_release(c, b, MB) == 1, "release after remap: %s",
		      ml_coll_last_error());
		munmap(b, MB);
	}

	/* 5. the entry limit (3): a fourth buffer evicts the oldest */
	for (int k = 0; k < 3; k++)
		x[k] = map_at(MB / 4, NULL);
	y = map_at(MB / 4, NULL);
	if (x[0] && x[1] && x[2] && y) {
		s0 = st_now(c);
		for (int k = 0; k < 3; k++)
			ar_check(c, x[k], 0, CNT / 4, salt++, "entry limit");
		ar_check(c, y, 0, CNT / 4, salt++, "entry limit (4th buffer)");
		ar_check(c, x[0], 0, CNT / 4, salt++, "entry limit (evicted buffer)");
		s1 = st_now(c);
		check(s1.reg_evictions - s0.reg_evictions == 2 && s1.reg_entries == 3 &&
		      s1.reg_misses - s0.reg_misses == 5,
		      "entry limit 3: %llu evictions (2 expected), %llu entries, %llu misses (5)",
		      ULL(s1.reg_evictions - s0.reg_evictions), ULL(s1.reg_entries),
		      ULL(s1.reg_misses - s0.reg_misses));
	}
	r = ml_coll_mem_release(c, NULL, 0);
	check(r == 3, "release of everything: %d (3 expected) %s", r, r < 0 ? ml_coll_last_error() : "");

	/* 6. the byte limit (2 MiB): a 3 MiB buffer is not cached; two halves
	 * of 1.5 MiB do not fit together */
	big = map_at(3 * MB, NULL);
	if (big) {
		s0 = st_now(c);
		ar_check(c, big, 0, 3 * CNT, salt++, "larger than the cache");
		ar_check(c, big, 0, 3 * CNT / 2, salt++, "1.5 MiB");
		ar_check(c, big, 3 * CNT / 2, 3 * CNT / 2, salt++, "the other 1.5 MiB");
		s1 = st_now(c);
		check(s1.reg_misses - s0.reg_misses == 3 && s1.reg_evictions - s0.reg_evictions == 1 &&
		      s1.reg_entries == 1 && s1.reg_bytes <= 2 * MB,
		      "byte limit: %llu misses (3), %llu evictions (1), %llu entries, %llu bytes",
		      ULL(s1.reg_misses - s0.reg_misses), ULL(s1.reg_evictions - s0.reg_evictions),
		      ULL(s1.reg_entries), ULL(s1.reg_bytes));
		check(ml_coll_mem_release(c, big, 3 * MB) == 1, "release big: %s",
		      ml_coll_last_error());
		munmap(big, 3 * MB);
	}

	/* 7. every collective that sends from user memory, twice, exact */
	in = map_at(MB, NULL);
	out = map_at(MB * (size_t)nranks, NULL);
	size_t blk = CNT / 4;	/* all-gather: per-rank block; all-to-all: whole buffer */
	size_t a2a = blk / (size_t)nranks;

	for (int round = 0; round < 2 && in && out; round++) {
		int ok;

		s0 = st_now(c);
		for (size_t i = 0; i < blk; i++)
			in[i] = rv(me, i, salt);
		check(!ml_coll_allgather(c, in, out, blk, ML_COLL_INT32), "all-gather: %s",
		      ml_coll_last_error());
		ok = 1;
		for (int j = 0; j < nranks && ok; j++)
			for (size_t i = 0; i < blk && ok; i++)
				ok = out[(size_t)j * blk + i] == rv(j, i, salt);
		check(ok, "all-gather from user memory: wrong result (round %d)", round);

		for (size_t i = 0; i < CNT; i++)
			in[i] = me == 1 ? rv(9, i, salt) : -1;
		check(!ml_coll_broadcast(c, in, CNT, ML_COLL_INT32, 1), "broadcast: %s",
		      ml_coll_last_error());
		ok = 1;
		for (size_t i = 0; i < CNT && ok; i++)
			ok = in[i] == rv(9, i, salt);
		check(ok, "broadcast from user memory: wrong result (round %d)", round);

		for (size_t i = 0; i < CNT; i++)
			in[i] = rv(me, i, salt);
		check(!ml_coll_reduce(c, in, out, CNT, ML_COLL_INT32, ML_COLL_SUM, 0), "reduce: %s",
		      ml_coll_last_error());
		ok = 1;
		for (size_t i = 0; i < CNT && ok && me == 0; i++)
			ok = out[i] == rsum(i, salt);
		check(ok, "reduce from user memory: wrong result (round %d)", round);

		/* all-to-all: block j of out goes to rank j */
		for (size_t i = 0; i < a2a * (size_t)nranks; i++)
			out[i] = rv(me, i, salt);
		check(!ml_coll_alltoall(c, out, in, a2a, ML_COLL_INT32), "all-to-all: %s",
		      ml_coll_last_error());
		ok = 1;
		for (int j = 0; j < nranks && ok; j++)
			for (size_t i = 0; i < a2a && ok; i++)
				ok = in[(size_t)j * a2a + i] == rv(j, (size_t)me * a2a + i, salt);
		check(ok, "all-to-all from user memory: wrong result (round %d)", round);

		if (me < 2) {
			for (size_t i = 0; i < CNT; i++)
				in[i] = me == 0 ? rv(5, i, salt) : 0;
			r = me == 0 ? ml_coll_send(c, in, CNT, ML_COLL_INT32, 1) :
				      ml_coll_recv(c, in, CNT, ML_COLL_INT32, 0);
			check(!r, "send/recv: %s", ml_coll_last_error());
			ok = 1;
			for (size_t i = 0; i < CNT && ok; i++)
				ok = in[i] == rv(5, i, salt);
			check(ok, "send/recv from user memory: wrong result (round %d)", round);
		}
		check(!ml_coll_barrier(c), "barrier: %s", ml_coll_last_error());
		s1 = st_now(c);
		if (round == 1)
			check(s1.reg_hits > s0.reg_hits && s1.reg_misses == s0.reg_misses,
			      "second round of every op: %llu hits, %llu misses (0 expected)",
			      ULL(s1.reg_hits - s0.reg_hits), ULL(s1.reg_misses - s0.reg_misses));
		salt++;
	}
	s1 = st_now(c);
	printf("rank %d: regcache: %llu hits, %llu misses, %llu evictions, %llu releases, "
	       "%llu zero-copy chunks\n", me, ULL(s1.reg_hits), ULL(s1.reg_misses),
	       ULL(s1.reg_evictions), ULL(s1.reg_releases), ULL(s1.zc_chunks));
	/* bad arguments */
	check(ml_coll_mem_release(NULL, in, 1) == -EINVAL, "release with comm NULL");
	check(ml_coll_mem_release(c, NULL, 10) == -EINVAL, "release of NULL, 10 bytes");
	check(ml_coll_mem_release(c, (void *)-4096l, 8192) == -EINVAL, "release that wraps");
	check(ml_coll_mem_release(c, NULL, 0) >= 0, "final release: %s", ml_coll_last_error());
	check(st_now(c).reg_entries == 0, "entries left after releasing everything");
	/* destroy (main) drops what is cached: leave one entry to it */
	if (in)
		ar_check(c, in, 0, CNT, salt++, "before destroy");
	check(st_now(c).reg_entries == 1, "the last all-reduce left no entry for destroy");
	/* the caller's side of the contract: destroy (main) before munmap */
}

/* Object counts of this node's device: all zero after destroy. */
static void counts_zero(const char *when)
{
	struct ml_ctl *ctl;
	struct ml_dev_attr *d;
	size_t n;

	if (ml_ctl_open(&ctl)) {
		check(0, "ml_ctl_open: %s", ml_last_error());
		return;
	}
	if (ml_ctl_devices(ctl, &d, &n) < 0) {
		check(0, "ml_ctl_devices: %s", ml_last_error());
	} else {
		for (size_t i = 0; i < n; i++)
			check(!(d[i].num_qps | d[i].num_mrs | d[i].num_cqs | d[i].num_pds |
				d[i].num_ctx | d[i].pinned_pages),
			      "%s: device %s still has ctx %u pd %u mr %u cq %u qp %u pinned %llu",
			      when, d[i].name, d[i].num_ctx, d[i].num_pds, d[i].num_mrs,
			      d[i].num_cqs, d[i].num_qps, (unsigned long long)d[i].pinned_pages);
		ml_free(d);
	}
	ml_ctl_close(ctl);
}

/* ---- failures ---- */

static void kill_mode(struct ml_coll_comm *c, int *pipe_fd)
{
	/* Everyone loops on a big all-reduce; the parent kills rank 1. */
	size_t cnt = 400000;
	float *a = calloc(cnt, 4);
	double t0 = 0;
	int r = 0;
	char go = 1;

	if (write(pipe_fd[1], &go, 1) != 1)
		_exit(3);
	for (int it = 0; it < 100000 && !r; it++) {
		t0 = now_s();
		r = ml_coll_allreduce(c, a, a, cnt, ML_COLL_FLOAT32, ML_COLL_SUM);
	}
	double dt = now_s() - t0;
	const char *msg = ml_coll_last_error();

	printf("rank %d: all-reduce failed after %.2f s: %s\n", me, dt, msg);
	check(r < 0, "all-reduce never failed");
	check(strstr(msg, "rank 1 ") != NULL, "the error does not name rank 1: %s", msg);
	check(dt < 10.0 + 5.0, "failure took %.1f s, bound 10 s (+5 s slack)", dt);
	r = ml_coll_allreduce(c, a, a, 4, ML_COLL_FLOAT32, ML_COLL_SUM);
	check(r < 0 && strstr(ml_coll_last_error(), "broken"), "a broken communicator "
	      "accepted an operation: %d %s", r, ml_coll_last_error());
	free(a);
	ml_coll_comm_destroy(c);
	counts_zero("after the peer died");
}

static struct ml_coll_comm *abort_comm;
static void *aborter(void *arg)
{
	(void)arg;
	usleep(300000);
	ml_coll_abort(abort_comm);
	return NULL;
}

static void abort_mode(struct ml_coll_comm *c)
{
	pthread_t t;
	int32_t x = 1;
	int r;
	double t0 = now_s();

	abort_comm = c;
	if (me == 0) {
		/* rank 0 never calls the collective: the others wait, rank 0 aborts */
		pthread_create(&t, NULL, aborter, NULL);
		pthread_join(t, NULL);
		r = ml_coll_barrier(c);
		check(r == -ECANCELED, "barrier after abort: %d %s", r, ml_coll_last_error());
	} else {
		r = ml_coll_allreduce(c, &x, &x, 1, ML_COLL_INT32, ML_COLL_SUM);
		printf("rank %d: after %.2f s: %s\n", me, now_s() - t0, ml_coll_last_error());
		check(r < 0 && strstr(ml_coll_last_error(), "rank 0"),
		      "peer of an aborted rank: %d %s", r, ml_coll_last_error());
	}
	ml_coll_comm_destroy(c);
	counts_zero("after abort");
}

/* ---- bad arguments (one rank) ---- */

static void args_mode(void)
{
	struct ml_coll_config cfg;
	struct ml_coll_comm *c = NULL;
	struct ml_coll_req *req;
	int32_t x[4] = { 0 };
	int r;

#define EXPECT_ERR(call, err, needle)						\
	do {									\
		r = (call);							\
		check(r == (err) && strstr(ml_coll_last_error(), needle),	\
		      "%s: got %d \"%s\", expected %d naming \"%s\"", #call, r,	\
		      ml_coll_last_error(), err, needle);			\
	} while (0)

	ml_coll_config_init(&cfg);
	cfg.rank = 2;
	cfg.size = 2;
	EXPECT_ERR(ml_coll_comm_create(&cfg, &c), -EINVAL, "rank 2");
	cfg.rank = 0;
	cfg.size = 0;
	EXPECT_ERR(ml_coll_comm_create(&cfg, &c), -EINVAL, "size 0");
	cfg.size = ML_COLL_MAX_RANKS + 1;
	EXPECT_ERR(ml_coll_comm_create(&cfg, &c), -EINVAL, "size 65");
	EXPECT_ERR(ml_coll_comm_create(NULL, &c), -EINVAL, "cfg");
	cfg.size = 1;
	cfg.chunk_bytes = 100;
	EXPECT_ERR(ml_coll_comm_create(&cfg, &c), -EINVAL, "chunk_bytes");
	cfg.chunk_bytes = 0;
	r = ml_coll_comm_create(&cfg, &c);
	check(!r, "size-1 communicator: %s", ml_coll_last_error());
	if (r)
		return;
	EXPECT_ERR(ml_coll_allreduce(c, NULL, x, 4, ML_COLL_INT32, ML_COLL_SUM), -EINVAL, "sendbuf");
	EXPECT_ERR(ml_coll_allreduce(c, x, NULL, 4, ML_COLL_INT32, ML_COLL_SUM), -EINVAL, "recvbuf");
	EXPECT_ERR(ml_coll_allreduce(c, x, x, 4, 99, ML_COLL_SUM), -EINVAL, "dtype 99");
	EXPECT_ERR(ml_coll_allreduce(c, x, x, 4, ML_COLL_INT32, 17), -EINVAL, "op 17");
	EXPECT_ERR(ml_coll_allreduce(c, x, x, SIZE_MAX / 2, ML_COLL_INT32, ML_COLL_SUM),
		   -EOVERFLOW, "count");
	EXPECT_ERR(ml_coll_reduce_scatter(c, x, x, SIZE_MAX / 3, ML_COLL_INT64, ML_COLL_SUM),
		   -EOVERFLOW, "overflows");
	EXPECT_ERR(ml_coll_broadcast(c, x, 4, ML_COLL_INT32, 1), -EINVAL, "root 1");
	EXPECT_ERR(ml_coll_reduce(c, x, x, 4, ML_COLL_INT32, ML_COLL_SUM, -1), -EINVAL, "root -1");
	EXPECT_ERR(ml_coll_send(c, x, 4, ML_COLL_INT32, 0), -EINVAL, "peer 0");
	EXPECT_ERR(ml_coll_recv(c, x, 4, ML_COLL_INT32, 5), -EINVAL, "peer 5");
	EXPECT_ERR(ml_coll_allreduce_start(c, x, x, 4, ML_COLL_INT32, ML_COLL_SUM, NULL),
		   -EINVAL, "req");
	EXPECT_ERR(ml_coll_allreduce(NULL, x, x, 4, ML_COLL_INT32, ML_COLL_SUM), -EINVAL, "comm");
	EXPECT_ERR(ml_coll_wait(NULL), -EINVAL, "req");
	unsigned int v;

	EXPECT_ERR(ml_coll_parse_dtype("float128", &v), -EINVAL, "float128");
	EXPECT_ERR(ml_coll_parse_op("xor", &v), -EINVAL, "xor");
	check(ml_coll_parse_dtype("bf16", &v) == 0 && v == ML_COLL_BFLOAT16, "parse bf16");
	/* count 0 with NULL buffers is fine */
	check(!ml_coll_allreduce(c, NULL, NULL, 0, ML_COLL_INT32, ML_COLL_SUM), "count 0: %s",
	      ml_coll_last_error());
	x[0] = 5;
	check(!ml_coll_allreduce(c, x, x + 1, 1, ML_COLL_INT32, ML_COLL_AVG) && x[1] == 5,
	      "size-1 all-reduce");
	/* a request is done at once on one rank; freeing it twice is the caller's bug */
	check(!ml_coll_barrier_start(c, &req) && ml_coll_test(req) == 1 &&
	      ml_coll_req_free(req) == 0, "size-1 barrier request");
	ml_coll_abort(c);
	EXPECT_ERR(ml_coll_barrier(c), -ECANCELED, "aborted");
	ml_coll_comm_destroy(c);
	/* no rendezvous */
	ml_coll_config_init(&cfg);
	cfg.rank = 0;
	cfg.size = 2;
	unsetenv("MASTER_ADDR");
	unsetenv("MASTER_PORT");
	EXPECT_ERR(ml_coll_comm_create(&cfg, &c), -EINVAL, "MASTER_ADDR");
	/* nobody at the rendezvous: bounded */
	cfg.rank = 1;
	cfg.addr = "127.0.0.1";
	cfg.port = 9;
	cfg.timeout_ms = 1000;
	double t0 = now_s();

	r = ml_coll_comm_create(&cfg, &c);
	check(r < 0 && now_s() - t0 < 10, "rendezvous with nobody: %d after %.1f s: %s", r,
	      now_s() - t0, ml_coll_last_error());
	printf("rank 1 alone: %s\n", ml_coll_last_error());
}

/* A second, mismatched call: rank 0 all-reduces 1001 int32, the others 1000. */
static void mismatch(struct ml_coll_comm *c)
{
	int32_t *a = calloc(2048, 4);
	int r = ml_coll_allreduce(c, a, a, me == 0 ? 1001 : 1000, ML_COLL_INT32, ML_COLL_SUM);

	printf("rank %d: mismatched counts: %d %s\n", me, r, r ? ml_coll_last_error() : "");
	check(r < 0, "mismatched counts across ranks were not detected");
	free(a);
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "";
	int opt, pfd[2];
	pid_t pids[ML_COLL_MAX_RANKS];
	long tot_checks = 0, tot_fail = 0;
	double t0 = now_s();

	setvbuf(stdout, NULL, _IOLBF, 0);
	optind = 2;
	while ((opt = getopt(argc, argv, "vn:p:a:s:")) != -1) {
		switch (opt) {
		case 'v': verbose = 1; break;
		case 'n': nranks = atoi(optarg); break;
		case 'p': port = atoi(optarg); break;
		case 'a': addr = optarg; break;
		case 's': ns_prefix = optarg; break;
		default: return 2;
		}
	}
	if (!strcmp(mode, "args")) {
		me = 0;
		args_mode();
		printf("coll_check args: %ld checks, %ld failed\n", checks, failures);
		return failures ? 1 : 0;
	}
	if (strcmp(mode, "matrix") && strcmp(mode, "overlap") && strcmp(mode, "kill") &&
	    strcmp(mode, "abort") && strcmp(mode, "mismatch") && strcmp(mode, "regcache")) {
		fprintf(stderr, "usage: coll_check matrix|overlap|kill|abort|mismatch|regcache|args "
			"[-n RANKS] [-p PORT] [-a ADDR] [-s NETNS_PREFIX]\n");
		return 2;
	}
	if (nranks < 1 || nranks > 8)
		return 2;
	if (!strcmp(mode, "regcache")) {
		if (nranks < 2) {
			fprintf(stderr, "coll_check regcache: needs -n 2 or more\n");
			return 2;
		}
		join_reg_mib = 2;
		join_reg_entries = 3;
	}
	if (pipe(pfd))
		return 1;
	int res[2];

	if (pipe(res))
		return 1;
	for (int r = 0; r < nranks; r++) {
		pids[r] = fork();
		if (pids[r] == 0) {
			struct ml_coll_comm *c;

			prctl(PR_SET_PDEATHSIG, SIGKILL);
			alarm(600);
			me = r;
			if (enter_ns(r))
				_exit(1);
			c = join(r, nranks);
			if (c) {
				if (!strcmp(mode, "matrix")) {
					matrix(c);
					float_order(c);
				} else if (!strcmp(mode, "overlap")) {
					overlap(c);
				} else if (!strcmp(mode, "kill")) {
					kill_mode(c, pfd);
					c = NULL;
				} else if (!strcmp(mode, "abort")) {
					abort_mode(c);
					c = NULL;
				} else if (!strcmp(mode, "regcache")) {
					regcache(c);
				} else {
					mismatch(c);
				}
				if (c) {
					ml_coll_comm_destroy(c);
					counts_zero("after destroy");
				}
			}
			long out[2] = { checks, failures };

			if (write(res[1], out, sizeof(out)) != sizeof(out))
				_exit(3);
			_exit(failures ? 1 : 0);
		}
	}
	if (!strcmp(mode, "kill")) {
		char go;

		for (int r = 0; r < nranks; r++)
			if (read(pfd[0], &go, 1) != 1)
				break;
		usleep(1500000);	/* mid-way through the all-reduces */
		printf("coll_check: killing rank 1 (pid %d)\n", (int)pids[1]);
		kill(pids[1], SIGKILL);
	}
	int bad_exit = 0;

	for (int r = 0; r < nranks; r++) {
		int st;

		waitpid(pids[r], &st, 0);
		if (!strcmp(mode, "kill") && r == 1)
			continue;
		if (!WIFEXITED(st) || WEXITSTATUS(st) > 1) {
			printf("FAIL: rank %d died (status 0x%x)\n", r, st);
			bad_exit++;
		}
		long out[2];

		if (read(res[0], out, sizeof(out)) == sizeof(out)) {
			tot_checks += out[0];
			tot_fail += out[1];
		}
	}
	tot_fail += bad_exit;
	printf("coll_check %s n=%d: %ld checks, %ld failed (%.1f s)\n", mode, nranks, tot_checks,
	       tot_fail, now_s() - t0);
	return tot_fail ? 1 : 0;
}
