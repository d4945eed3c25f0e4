// SPDX-License-Identifier: MIT
/*
 * megalink-coll-perf: bandwidth and latency of libmegalink-coll's
 * collectives, in nccl-tests' conventions (-b/-e/-f sweep, -n, -w, -o, -d,
 * -c; algbw, busbw, #wrong).  Start one process per rank (one per megalink
 * node); they meet through the communicator's TCP rendezvous.  See
 * megalink-coll-perf(1).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <megalink/coll.h>

enum coll { C_ALLREDUCE, C_RS, C_AG, C_BCAST, C_REDUCE, C_A2A, C_COUNT };
static const char *const coll_names[C_COUNT] = {
	"allreduce", "reduce_scatter", "allgather", "broadcast", "reduce", "alltoall",
};

static void usage(FILE *f)
{
	fprintf(f,
"usage: megalink-coll-perf [options]\n"
"Sweeps message sizes over one collective of libmegalink-coll and prints, per\n"
"size, the time, algbw, busbw (nccl-tests' formulas) and the wrong-element\n"
"count, out of place and in place.  Run one process per rank.\n"
"\n"
"  -C, --coll NAME      allreduce (default), reduce_scatter, allgather,\n"
"                       broadcast, reduce, alltoall\n"
"  -b, --minbytes N     smallest size (K, M, G suffixes; default 8)\n"
"  -e, --maxbytes N     largest size (default 32M)\n"
"  -f, --stepfactor F   multiply the size by F each step (default 2)\n"
"  -n, --iters N        timed iterations per size (default 20)\n"
"  -w, --warmup_iters N untimed iterations first (default 5)\n"
"  -o, --op OP          sum (default), prod, min, max, avg\n"
"  -d, --datatype T     float32 (default), float64, float16, bfloat16,\n"
"                       int8, uint8, int32, int64\n"
"  -c, --check 0|1      check every result element (default 1)\n"
"  -R, --root R         root of broadcast and reduce (default 0)\n"
"  -r, --rank R         this process's rank (default $RANK)\n"
"  -s, --size N         number of ranks (default $WORLD_SIZE)\n"
"  -a, --addr A         rendezvous address (rank 0's; default $MASTER_ADDR)\n"
"  -p, --port P         rendezvous port (default $MASTER_PORT)\n"
"  -D, --device NAME    megalink device (default: the one with a port here)\n"
"  -j, --json           one JSON document on stdout instead of the table\n"
"  -h, --help\n"
"\n"
"Size is the per-rank buffer in bytes as nccl-tests counts it: allreduce,\n"
"broadcast, reduce: count elements; reduce_scatter, allgather, alltoall: the\n"
"whole buffer of size ranks x count elements.  busbw = algbw x factor:\n"
"allreduce 2(n-1)/n; reduce_scatter, allgather, alltoall (n-1)/n; broadcast,\n"
"reduce 1.  Only rank 0 prints.  Exit status: 0, 1 when an element was wrong,\n"
"2 on a usage error, 3 when a collective failed.\n");
}

static int parse_size(const char *s, size_t *out)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || end == s || v < 0)
		return -1;
	switch (*end) {
	case 'k': case 'K': v *= 1024; end++; break;
	case 'm': case 'M': v *= 1024 * 1024; end++; break;
	case 'g': case 'G': v *= 1024.0 * 1024 * 1024; end++; break;
	}
	if (*end == 'B' || *end == 'b')
		end++;
	if (*end || v > (double)SIZE_MAX / 2)
		return -1;
	*out = (size_t)v;
	return 0;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* ---- element access (small integers are exact in every dtype) ---- */
static uint16_t f32_to_half(float f)
{
	uint32_t x;
	memcpy(&x, &f, 4);
	uint32_t sign = (x >> 16) & 0x8000;
	int exp = (int)((x >> 23) & 0xff) - 127 + 15;
	uint32_t man = x & 0x7fffff;
	if (f == 0)
		return sign;
	if (exp <= 0 || exp >= 31)	/* not needed for our inputs */
		return sign | 0x7c00;
	return sign | (exp << 10) | (man >> 13);
}

static float half_to_f32(uint16_t h)
{
	uint32_t sign = (h & 0x8000u) << 16, exp = (h >> 10) & 0x1f, man = h & 0x3ff, x;
	if (exp == 0) {
		float f = ldexpf((float)man, -24);
		return sign ? -f : f;
	}
	if (exp == 31)
		x = sign | 0x7f800000u | (man << 13);
	else
		x = sign | ((exp - 15 + 127) << 23) | (man << 13);
	float f;
	memcpy(&f, &x, 4);
	return f;
}

static void put(void *buf, size_t i, unsigned dt, double v)
{
	float f = (float)v;
	uint32_t x;
	switch (dt) {
	case ML_COLL_INT8: ((int8_t *)buf)[i] = (int8_t)v; break;
	case ML_COLL_UINT8: ((uint8_t *)buf)[i] = (uint8_t)v; break;
	case ML_COLL_INT32: ((int32_t *)buf)[i] = (int32_t)v; break;
	case ML_COLL_INT64: ((int64_t *)buf)[i] = (int64_t)v; break;
	case ML_COLL_FLOAT16: ((uint16_t *)buf)[i] = f32_to_half(f); break;
	case ML_COLL_BFLOAT16: memcpy(&x, &f, 4); ((uint16_t *)buf)[i] = x >> 16; break;
	case ML_COLL_FLOAT32: ((float *)buf)[i] = f; break;
	case ML_COLL_FLOAT64: ((double *)buf)[i] = v; break;
	}
}

static double get(const void *buf, size_t i, unsigned dt)
{
	uint32_t x;
	float f;
	switch (dt) {
	case ML_COLL_INT8: return ((const int8_t *)buf)[i];
	case ML_COLL_UINT8: return ((const uint8_t *)buf)[i];
	case ML_COLL_INT32: return ((const int32_t *)buf)[i];
	case ML_COLL_INT64: return (double)((const int64_t *)buf)[i];
	case ML_COLL_FLOAT16: return half_to_f32(((const uint16_t *)buf)[i]);
	case ML_COLL_BFLOAT16:
		x = (uint32_t)((const uint16_t *)buf)[i] << 16;
		memcpy(&f, &x, 4);
		return f;
	case ML_COLL_FLOAT32: return ((const float *)buf)[i];
	default: return ((const double *)buf)[i];
	}
}

static bool is_float(unsigned dt)
{
	return dt >= ML_COLL_FLOAT16;
}

/* Input element i of rank r (1..4; 1..2 for prod so that products stay small). */
static double input(int r, size_t i, unsigned op)
{
	return op == ML_COLL_PROD ? 1 + (double)((r + i) % 2) : 1 + (double)((r * 3 + i) % 4);
}

static double reduced(int n, size_t i, unsigned op, unsigned dt)
{
	double acc = input(0, i, op);
	for (int r = 1; r < n; r++) {
		double v = input(r, i, op);
		switch (op) {
		case ML_COLL_SUM: case ML_COLL_AVG: acc += v; break;
		case ML_COLL_PROD: acc *= v; break;
		case ML_COLL_MIN: acc = v < acc ? v : acc; break;
		case ML_COLL_MAX: acc = v > acc ? v : acc; break;
		}
	}
	if (op == ML_COLL_AVG)
		acc = is_float(dt) ? acc / n : trunc(acc / n);
	return acc;
}

static bool same(double got, double want, unsigned dt)
{
	if (!is_float(dt))
		return got == want;
	double tol = dt == ML_COLL_FLOAT16 ? 1e-3 : dt == ML_COLL_BFLOAT16 ? 8e-3 :
		     dt == ML_COLL_FLOAT32 ? 1e-6 : 1e-12;
	return fabs(got - want) <= tol * fabs(want);
}

struct ctx {
	struct ml_coll_comm *comm;
	int rank, n, root;
	enum coll coll;
	unsigned dt, op;
	size_t es;
	char *send, *recv;
};

/* per-rank element counts: @count is what the call takes */
static int run_once(struct ctx *c, size_t count, bool inplace)
{
	char *s = c->send, *r = c->recv;
	switch (c->coll) {
	case C_ALLREDUCE:
		return ml_coll_allreduce(c->comm, inplace ? r : s, r, count, c->dt, c->op);
	case C_RS:
		if (inplace)
			return ml_coll_reduce_scatter(c->comm, r, r + c->rank * count * c->es, count, c->dt, c->op);
		return ml_coll_reduce_scatter(c->comm, s, r, count, c->dt, c->op);
	case C_AG:
		if (inplace)
			return ml_coll_allgather(c->comm, r + c->rank * count * c->es, r, count, c->dt);
		return ml_coll_allgather(c->comm, s, r, count, c->dt);
	case C_BCAST:
		if (!inplace && c->rank == c->root)
			memcpy(r, s, count * c->es);
		return ml_coll_broadcast(c->comm, r, count, c->dt, c->root);
	case C_REDUCE:
		return ml_coll_reduce(c->comm, inplace ? r : s, r, count, c->dt, c->op, c->root);
	case C_A2A:
		return ml_coll_alltoall(c->comm, s, r, count, c->dt);
	default:
		return -EINVAL;
	}
}

/* Fill the buffers for one check run. */
static void fill(struct ctx *c, size_t count, bool inplace)
{
	size_t total = (c->coll == C_RS || c->coll == C_AG || c->coll == C_A2A) ? count * c->n : count;
	char *in = inplace ? c->recv : c->send;
	switch (c->coll) {
	case C_AG:
		for (size_t i = 0; i < count; i++)
			put(inplace ? c->recv + c->rank * count * c->es : c->send, i, c->dt,
			    input(c->rank, i, c->op));
		return;
	case C_BCAST:
		for (size_t i = 0; i < count; i++)
			put(c->rank == c->root ? (inplace ? c->recv : c->send) : c->recv, i, c->dt,
			    c->rank == c->root ? input(c->root, i, c->op) : 0);
		return;
	case C_A2A:
		/* block j goes to rank j: value encodes (sender, element) */
		for (size_t i = 0; i < total; i++)
			put(c->send, i, c->dt, input(c->rank, i, c->op));
		return;
	default:
		for (size_t i = 0; i < total; i++)
			put(in, i, c->dt, input(c->rank, i, c->op));
	}
}

static long long verify(struct ctx *c, size_t count, bool inplace)
{
	long long wrong = 0;
	switch (c->coll) {
	case C_ALLREDUCE:
		for (size_t i = 0; i < count; i++)
			wrong += !same(get(c->recv, i, c->dt), reduced(c->n, i, c->op, c->dt), c->dt);
		break;
	case C_REDUCE:
		if (c->rank == c->root)
			for (size_t i = 0; i < count; i++)
				wrong += !same(get(c->recv, i, c->dt), reduced(c->n, i, c->op, c->dt), c->dt);
		break;
	case C_RS:
		for (size_t i = 0; i < count; i++)
			wrong += !same(get(inplace ? c->recv + c->rank * count * c->es : c->recv, i, c->dt),
				       reduced(c->n, c->rank * count + i, c->op, c->dt), c->dt);
		break;
	case C_AG:
		for (int j = 0; j < c->n; j++)
			for (size_t i = 0; i < count; i++)
				wrong += !same(get(c->recv, j * count + i, c->dt), input(j, i, c->op), c->dt);
		break;
	case C_BCAST:
		for (size_t i = 0; i < count; i++)
			wrong += !same(get(c->recv, i, c->dt), input(c->root, i, c->op), c->dt);
		break;
	case C_A2A:
		for (int j = 0; j < c->n; j++)
			for (size_t i = 0; i < count; i++)
				wrong += !same(get(c->recv, j * count + i, c->dt),
					       input(j, c->rank * count + i, c->op), c->dt);
		break;
	default:
		break;
	}
	return wrong;
}

static int die_coll(struct ctx *c, const char *what, int r)
{
	fprintf(stderr, "megalink-coll-perf: rank %d: %s: %s (%s)\n", c->rank, what,
		ml_coll_last_error(), strerror(-r));
	return 3;
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{"coll", 1, 0, 'C'}, {"minbytes", 1, 0, 'b'}, {"maxbytes", 1, 0, 'e'},
		{"stepfactor", 1, 0, 'f'}, {"iters", 1, 0, 'n'}, {"warmup_iters", 1, 0, 'w'},
		{"op", 1, 0, 'o'}, {"datatype", 1, 0, 'd'}, {"check", 1, 0, 'c'},
		{"root", 1, 0, 'R'}, {"rank", 1, 0, 'r'}, {"size", 1, 0, 's'},
		{"addr", 1, 0, 'a'}, {"port", 1, 0, 'p'}, {"device", 1, 0, 'D'},
		{"json", 0, 0, 'j'}, {"help", 0, 0, 'h'}, {0, 0, 0, 0},
	};
	struct ml_coll_config cfg;
	struct ctx c = {.coll = C_ALLREDUCE, .dt = ML_COLL_FLOAT32, .op = ML_COLL_SUM};
	size_t minb = 8, maxb = 32u << 20;
	double factor = 2;
	long iters = 20, warm = 5, check = 1;
	int json = 0, o;
	char *end;

	ml_coll_config_init(&cfg);
	while ((o = getopt_long(argc, argv, "C:b:e:f:n:w:o:d:c:R:r:s:a:p:D:jh", lo, NULL)) != -1) {
		switch (o) {
		case 'C':
			for (c.coll = 0; c.coll < C_COUNT && strcmp(optarg, coll_names[c.coll]); c.coll++)
				;
			if (c.coll == C_COUNT) {
				fprintf(stderr, "megalink-coll-perf: --coll: unknown collective '%s'\n", optarg);
				return 2;
			}
			break;
		case 'b': case 'e':
			if (parse_size(optarg, o == 'b' ? &minb : &maxb)) {
				fprintf(stderr, "megalink-coll-perf: -%c: bad size '%s'\n", o, optarg);
				return 2;
			}
			break;
		case 'f':
			factor = strtod(optarg, &end);
			if (*end || !(factor > 1)) {
				fprintf(stderr, "megalink-coll-perf: -f: the step factor must be > 1, not '%s'\n", optarg);
				return 2;
			}
			break;
		case 'n': case 'w': case 'c': case 'R': case 'r': case 's': case 'p': {
			long v = strtol(optarg, &end, 10);
			if (*end || end == optarg || v < 0 || (o == 'n' && v < 1) || (o == 'p' && v > 65535)) {
				fprintf(stderr, "megalink-coll-perf: -%c: bad value '%s'\n", o, optarg);
				return 2;
			}
			if (o == 'n') iters = v;
			if (o == 'w') warm = v;
			if (o == 'c') check = v;
			if (o == 'R') c.root = (int)v;
			if (o == 'r') cfg.rank = (int)v;
			if (o == 's') cfg.size = (int)v;
			if (o == 'p') cfg.port = (uint16_t)v;
			break;
		}
		case 'o':
			if (ml_coll_parse_op(optarg, &c.op)) {
				fprintf(stderr, "megalink-coll-perf: -o: %s\n", ml_coll_last_error());
				return 2;
			}
			break;
		case 'd':
			if (ml_coll_parse_dtype(optarg, &c.dt)) {
				fprintf(stderr, "megalink-coll-perf: -d: %s\n", ml_coll_last_error());
				return 2;
			}
			break;
		case 'a': cfg.addr = optarg; break;
		case 'D': cfg.device = optarg; break;
		case 'j': json = 1; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "megalink-coll-perf: unexpected argument '%s' (see --help)\n", argv[optind]);
		return 2;
	}
	if (cfg.rank < 0 || cfg.size < 1) {
		fprintf(stderr, "megalink-coll-perf: rank and size unknown: give -r/-s or set RANK and WORLD_SIZE\n");
		return 2;
	}
	if (minb > maxb) {
		fprintf(stderr, "megalink-coll-perf: -b %zu is larger than -e %zu\n", minb, maxb);
		return 2;
	}
	int r = ml_coll_comm_create(&cfg, &c.comm);
	if (r) {
		fprintf(stderr, "megalink-coll-perf: rank %d: %s\n", cfg.rank, ml_coll_last_error());
		return 3;
	}
	c.rank = cfg.rank;
	c.n = cfg.size;
	c.es = ml_coll_dtype_size(c.dt);
	if (c.root >= c.n) {
		fprintf(stderr, "megalink-coll-perf: -R %d: the root must be below the size %d\n", c.root, c.n);
		ml_coll_comm_destroy(c.comm);
		return 2;
	}
	bool blocked = c.coll == C_RS || c.coll == C_AG || c.coll == C_A2A;
	double bw_factor = c.coll == C_ALLREDUCE ? 2.0 * (c.n - 1) / c.n :
			   blocked ? (double)(c.n - 1) / c.n : 1.0;
	size_t bufmax = maxb + (size_t)c.n * c.es + 64;
	c.send = aligned_alloc(4096, (bufmax + 4095) & ~(size_t)4095);
	c.recv = aligned_alloc(4096, (bufmax + 4095) & ~(size_t)4095);
	if (!c.send || !c.recv) {
		fprintf(stderr, "megalink-coll-perf: out of memory for 2 x %zu bytes\n", bufmax);
		return 3;
	}
	memset(c.send, 0, bufmax);
	memset(c.recv, 0, bufmax);
	bool root_op = c.coll == C_BCAST || c.coll == C_REDUCE;
	const char *opname = (c.coll == C_ALLREDUCE || c.coll == C_RS || c.coll == C_REDUCE) ?
			     ml_coll_op_name(c.op) : "none";
	if (c.rank == 0) {
		if (json)
			printf("{\"tool\":\"megalink-coll-perf\",\"version\":\"%s\",\"collective\":\"%s\","
			       "\"ranks\":%d,\"datatype\":\"%s\",\"op\":\"%s\",\"root\":%d,\"iters\":%ld,"
			       "\"warmup\":%ld,\"check\":%ld,\"busbw_factor\":%.6f,\"results\":[",
			       ml_coll_version(), coll_names[c.coll], c.n, ml_coll_dtype_name(c.dt), opname,
			       root_op ? c.root : -1, iters, warm, check, bw_factor);
		else {
			printf("# megalink-coll-perf %s: %s, %d ranks, %s, op %s, %ld iters, %ld warm-up, check %ld\n",
			       ml_coll_version(), coll_names[c.coll], c.n, ml_coll_dtype_name(c.dt), opname,
			       iters, warm, check);
			printf("#%11s %12s %8s %6s %6s   %9s %7s %7s %6s   %9s %7s %7s %6s\n", "", "", "", "", "",
			       "out-of-place", "", "", "", "in-place", "", "", "");
			printf("#%11s %12s %8s %6s %6s   %9s %7s %7s %6s   %9s %7s %7s %6s\n", "size", "count", "type",
			       "redop", "root", "time", "algbw", "busbw", "#wrong", "time", "algbw", "busbw", "#wrong");
			printf("#%11s %12s %8s %6s %6s   %9s %7s %7s %6s   %9s %7s %7s %6s\n", "(B)", "(elements)", "",
			       "", "", "(us)", "(GB/s)", "(GB/s)", "", "(us)", "(GB/s)", "(GB/s)", "");
		}
		fflush(stdout);
	}
	long long wrong_total = 0;
	int first = 1;
	for (double sz = (double)minb; sz <= (double)maxb * 1.0000001; sz = sz * factor > sz + 1 ? sz * factor : sz + 1) {
		size_t size = (size_t)sz;
		size_t count = size / c.es;
		if (blocked)
			count /= (size_t)c.n;
		size_t bytes = (blocked ? count * c.n : count) * c.es;
		double t_us[2], algbw[2], busbw[2];
		long long wrong[2] = {0, 0};
		for (int ip = 0; ip < 2; ip++) {
			if (ip && c.coll == C_A2A) {
				t_us[1] = algbw[1] = busbw[1] = -1;
				wrong[1] = -1;
				continue;
			}
			for (long i = 0; i < warm; i++)
				if ((r = run_once(&c, count, ip)))
					return die_coll(&c, "warm-up", r);
			if ((r = ml_coll_barrier(c.comm)))
				return die_coll(&c, "barrier", r);
			double t0 = now_s();
			for (long i = 0; i < iters; i++)
				if ((r = run_once(&c, count, ip)))
					return die_coll(&c, coll_names[c.coll], r);
			double t = (now_s() - t0) / iters;
			/* the slowest rank's time, as nccl-tests */
			if ((r = ml_coll_allreduce(c.comm, &t, &t, 1, ML_COLL_FLOAT64, ML_COLL_MAX)))
				return die_coll(&c, "time all-reduce", r);
			if (check) {
				fill(&c, count, ip);
				if ((r = run_once(&c, count, ip)))
					return die_coll(&c, "check run", r);
				long long w = verify(&c, count, ip);
				if ((r = ml_coll_allreduce(c.comm, &w, &w, 1, ML_COLL_INT64, ML_COLL_SUM)))
					return die_coll(&c, "wrong-count all-reduce", r);
				wrong[ip] = w;
				wrong_total += w;
			} else {
				wrong[ip] = -1;
			}
			t_us[ip] = t * 1e6;
			algbw[ip] = t > 0 ? bytes / t / 1e9 : 0;
			busbw[ip] = algbw[ip] * bw_factor;
		}
		if (c.rank == 0) {
			if (json) {
				printf("%s{\"size\":%zu,\"count\":%zu,\"type\":\"%s\",\"redop\":\"%s\",\"root\":%d,"
				       "\"out_of_place\":{\"time_us\":%.3f,\"algbw_gbs\":%.6f,\"busbw_gbs\":%.6f,\"wrong\":%lld}",
				       first ? "" : ",", bytes, count, ml_coll_dtype_name(c.dt), opname,
				       root_op ? c.root : -1, t_us[0], algbw[0], busbw[0], wrong[0]);
				if (c.coll != C_A2A)
					printf(",\"in_place\":{\"time_us\":%.3f,\"algbw_gbs\":%.6f,\"busbw_gbs\":%.6f,\"wrong\":%lld}",
					       t_us[1], algbw[1], busbw[1], wrong[1]);
				printf("}");
			} else {
				char w0[24], w1[24];
				snprintf(w0, sizeof(w0), wrong[0] < 0 ? "N/A" : "%lld", wrong[0]);
				snprintf(w1, sizeof(w1), wrong[1] < 0 ? "N/A" : "%lld", wrong[1]);
				printf(" %11zu %12zu %8s %6s %6d   %9.1f %7.3f %7.3f %6s", bytes, count,
				       ml_coll_dtype_name(c.dt), opname, root_op ? c.root : -1,
				       t_us[0], algbw[0], busbw[0], w0);
				if (c.coll == C_A2A)
					printf("   %9s %7s %7s %6s\n", "N/A", "N/A", "N/A", "N/A");
				else
					printf("   %9.1f %7.3f %7.3f %6s\n", t_us[1], algbw[1], busbw[1], w1);
			}
			fflush(stdout);
		}
		first = 0;
		if (sz >= (double)maxb)
			break;
	}
	if (c.rank == 0) {
		if (json)
			printf("],\"wrong_total\":%lld}\n", check ? wrong_total : -1);
		else
			printf("# out of bounds values : %lld %s\n", wrong_total, wrong_total ? "FAILED" : "OK");
	}
	ml_coll_comm_destroy(c.comm);
	free(c.send);
	free(c.recv);
	return wrong_total ? 1 : 0;
}
