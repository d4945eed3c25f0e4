// SPDX-License-Identifier: MIT
/*
 * megalink-coll-perf: collective benchmark in nccl-tests' conventions.
 * Run one process per rank (RANK/WORLD_SIZE/MASTER_ADDR/MASTER_PORT or
 * -r/-s/-a/-p), e.g. on two nodes:
 *   RANK=0 WORLD_SIZE=2 MASTER_ADDR=10.78.0.1 MASTER_PORT=29500 megalink-coll-perf -b 4K -e 64M
 * Per size: bytes, count, type, op, root, time (us), algbw, busbw (GB/s),
 * #wrong (with -c 1).  busbw = algbw x factor: all-reduce 2(n-1)/n,
 * reduce-scatter, all-gather, all-to-all (n-1)/n, broadcast and reduce 1.
 * Sizes of reduce-scatter/all-gather/all-to-all are total bytes, as in
 * nccl-tests.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <megalink/coll.h>

static const char *const ops[] = { "all_reduce", "reduce_scatter", "all_gather", "broadcast",
				   "reduce", "alltoall" };

static void usage(FILE *f)
{
	fprintf(f,
"usage: megalink-coll-perf [options]\n"
"  -b, --minbytes N     smallest size (default 8; K, M, G suffixes)\n"
"  -e, --maxbytes N     largest size (default 64M)\n"
"  -f, --stepfactor N   multiply the size by N each step (default 2)\n"
"  -n, --iters N        timed iterations per size (default 20)\n"
"  -w, --warmup_iters N untimed iterations first (default 5)\n"
"  -o, --op OP          all_reduce (default), reduce_scatter, all_gather,\n"
"                       broadcast, reduce, alltoall\n"
"  -d, --datatype T     float32 (default), float16, bfloat16, float64, int8,\n"
"                       uint8, int32, int64\n"
"  -R, --redop OP       sum (default), prod, min, max, avg\n"
"  -c, --check 0|1      check results (default 1); #wrong counts bad elements\n"
"  -r, --rank N  -s, --size N  -a, --addr A  -p, --port P\n"
"                       rendezvous (default: RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT)\n"
"  -j, --json           one JSON document on stdout (rank 0)\n"
"  -h, --help\n");
}

static size_t parse_size(const char *s)
{
	char *end;
	double v = strtod(s, &end);

	switch (*end) {
	case 'K': case 'k': v *= 1024; break;
	case 'M': case 'm': v *= 1024 * 1024; break;
	case 'G': case 'g': v *= 1024.0 * 1024 * 1024; break;
	case 0: break;
	default: fprintf(stderr, "megalink-coll-perf: bad size \"%s\"\n", s); exit(2);
	}
	return (size_t)v;
}

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

/* Inputs: small integers, exact in every dtype; rank r, element i. */
static double val(int r, size_t i)
{
	return (double)((int)((i * 7 + (size_t)r * 3) % 5) - 2);
}

static void put(void *b, unsigned int t, size_t i, double v)
{
	float f = (float)v;
	uint32_t u;

	memcpy(&u, &f, 4);
	switch (t) {
	case ML_COLL_INT8: ((int8_t *)b)[i] = (int8_t)v; break;
	case ML_COLL_UINT8: ((uint8_t *)b)[i] = (uint8_t)(int)v; break;
	case ML_COLL_INT32: ((int32_t *)b)[i] = (int32_t)v; break;
	case ML_COLL_INT64: ((int64_t *)b)[i] = (int64_t)v; break;
	case ML_COLL_BFLOAT16: ((uint16_t *)b)[i] = (uint16_t)(u >> 16); break;
	case ML_COLL_FLOAT16: {	/* |v| <= 2048 integers */
		uint16_t h = 0, sgn = v < 0 ? 0x8000 : 0;
		int a = (int)(v < 0 ? -v : v), e = 0;

		if (a) {
			while ((a >> e) > 1)
				e++;
			h = (uint16_t)(((e + 15) << 10) | (((a << 10) >> e) & 0x3ff));
		}
		((uint16_t *)b)[i] = h | sgn;
		break;
	}
	case ML_COLL_FLOAT32: ((float *)b)[i] = f; break;
	default: ((double *)b)[i] = v;
	}
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "minbytes", 1, 0, 'b' }, { "maxbytes", 1, 0, 'e' }, { "stepfactor", 1, 0, 'f' },
		{ "iters", 1, 0, 'n' }, { "warmup_iters", 1, 0, 'w' }, { "op", 1, 0, 'o' },
		{ "datatype", 1, 0, 'd' }, { "redop", 1, 0, 'R' }, { "check", 1, 0, 'c' },
		{ "rank", 1, 0, 'r' }, { "size", 1, 0, 's' }, { "addr", 1, 0, 'a' },
		{ "port", 1, 0, 'p' }, { "json", 0, 0, 'j' }, { "help", 0, 0, 'h' }, { 0 }
	};
	size_t minb = 8, maxb = 64 << 20, factor = 2;
	int iters = 20, warm = 5, check = 1, json = 0, opt, op = 0, root = 0;
	unsigned int dtype = ML_COLL_FLOAT32, redop = ML_COLL_SUM;
	struct ml_coll_config cfg;
	struct ml_coll_comm *c;
	int first = 1;

	ml_coll_config_init(&cfg);
	while ((opt = getopt_long(argc, argv, "b:e:f:n:w:o:d:R:c:r:s:a:p:jh", lo, NULL)) != -1) {
		switch (opt) {
		case 'b': minb = parse_size(optarg); break;
		case 'e': maxb = parse_size(optarg); break;
		case 'f': factor = (size_t)atol(optarg); break;
		case 'n': iters = atoi(optarg); break;
		case 'w': warm = atoi(optarg); break;
		case 'o':
			for (op = 0; op < 6 && strcmp(optarg, ops[op]); op++)
				;
			if (op == 6) {
				fprintf(stderr, "megalink-coll-perf: unknown op \"%s\"\n", optarg);
				return 2;
			}
			break;
		case 'd':
			if (ml_coll_parse_dtype(optarg, &dtype)) {
				fprintf(stderr, "megalink-coll-perf: %s\n", ml_coll_last_error());
				return 2;
			}
			break;
		case 'R':
			if (ml_coll_parse_op(optarg, &redop)) {
				fprintf(stderr, "megalink-coll-perf: %s\n", ml_coll_last_error());
				return 2;
			}
			break;
		case 'c': check = atoi(optarg); break;
		case 'r': cfg.rank = atoi(optarg); break;
		case 's': cfg.size = atoi(optarg); break;
		case 'a': cfg.addr = optarg; break;
		case 'p': cfg.port = (uint16_t)atoi(optarg); break;
		case 'j': json = 1; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (factor < 2 || iters < 1 || warm < 0 || minb > maxb) {
		fprintf(stderr, "megalink-coll-perf: need -f >= 2, -n >= 1, -w >= 0, -b <= -e\n");
		return 2;
	}
	if (ml_coll_comm_create(&cfg, &c)) {
		fprintf(stderr, "megalink-coll-perf: %s\n", ml_coll_last_error());
		return 1;
	}
	int n = ml_coll_comm_size(c), me = ml_coll_comm_rank(c);
	size_t es = ml_coll_dtype_size(dtype);
	double bwf = op == 0 ? 2.0 * (n - 1) / n : op == 3 || op == 4 ? 1.0 : (double)(n - 1) / n;
	char *sb = malloc(maxb + 64), *rb = malloc(maxb + 64);

	if (!sb || !rb)
		return 1;
	if (me == 0) {
		if (json)
			printf("{\"op\":\"%s\",\"datatype\":\"%s\",\"redop\":\"%s\",\"nranks\":%d,"
			       "\"iters\":%d,\"warmup\":%d,\"results\":[", ops[op],
			       ml_coll_dtype_name(dtype), ml_coll_op_name(redop), n, iters, warm);
		else
			printf("# megalink-coll-perf: %d ranks, op %s, %s, %s\n"
			       "#%11s %12s %8s %6s %6s %10s %9s %9s %7s\n", n, ops[op],
			       ml_coll_dtype_name(dtype), ml_coll_op_name(redop), "size", "count",
			       "type", "redop", "root", "time(us)", "algbw", "busbw", "#wrong");
	}
	for (size_t bytes = minb; bytes <= maxb; bytes *= factor) {
		/* count per rank-block for the "total size" collectives */
		size_t total = bytes / es / (op == 1 || op == 2 || op == 5 ? (size_t)n : 1);
		size_t cnt = op == 1 || op == 2 || op == 5 ? total * (size_t)n : total;
		int r = 0;
		long wrong = 0;

		for (size_t i = 0; i < cnt; i++)
			put(sb, dtype, i, val(me, i));
		double t0 = 0;

		for (int it = 0; it < warm + iters && !r; it++) {
			if (it == warm) {
				ml_coll_barrier(c);
				t0 = now_us();
			}
			switch (op) {
			case 0: r = ml_coll_allreduce(c, sb, rb, total, dtype, redop); break;
			case 1: r = ml_coll_reduce_scatter(c, sb, rb, total, dtype, redop); break;
			case 2: r = ml_coll_allgather(c, sb, rb, total, dtype); break;
			case 3: r = ml_coll_broadcast(c, me == root ? sb : rb, total, dtype, root); break;
			case 4: r = ml_coll_reduce(c, sb, rb, total, dtype, redop, root); break;
			case 5: r = ml_coll_alltoall(c, sb, rb, total, dtype); break;
			}
		}
		double us = (now_us() - t0) / iters;

		if (r) {
			fprintf(stderr, "megalink-coll-perf: rank %d, %zu bytes: %s\n", me, bytes,
				ml_coll_last_error());
			ml_coll_comm_destroy(c);
			return 1;
		}
		if (check && (op == 0 || op == 2 || op == 3 || op == 1)) {
			/* element-wise expected values for sum (other redops: not checked) */
			char *want = malloc(cnt * es + 8);
			size_t outn = op == 1 ? total : op == 2 ? cnt : total;

			for (size_t i = 0; i < outn; i++) {
				double v = 0;

				if (op == 0 || op == 1) {
					size_t gi = op == 1 ? (size_t)me * total + i : i;

					for (int k = 0; k < n; k++)
						v += val(k, gi);
					if (redop != ML_COLL_SUM)
						continue;
				} else if (op == 2) {
					v = val((int)(i / total), i % total);
				} else {
					v = val(root, i);
				}
				put(want, dtype, i, v);
				if (memcmp(want + i * es, (op == 3 && me == root ? sb : rb) + i * es, es))
					wrong++;
			}
			free(want);
		}
		double algbw = bytes / us / 1e3;	/* GB/s */

		if (me == 0) {
			if (json)
				printf("%s{\"size\":%zu,\"count\":%zu,\"time_us\":%.2f,\"algbw\":%.4f,"
				       "\"busbw\":%.4f,\"wrong\":%ld}", first ? "" : ",", bytes, total,
				       us, algbw, algbw * bwf, check ? wrong : -1);
			else
				printf("%12zu %12zu %8s %6s %6d %10.1f %9.4f %9.4f %7ld\n", bytes, total,
				       ml_coll_dtype_name(dtype), ml_coll_op_name(redop), root, us,
				       algbw, algbw * bwf, check ? wrong : -1L);
			first = 0;
		}
		if (wrong)
			fprintf(stderr, "megalink-coll-perf: rank %d: %ld wrong elements at %zu bytes\n",
				me, wrong, bytes);
	}
	if (me == 0 && json)
		printf("]}\n");
	ml_coll_comm_destroy(c);
	free(sb);
	free(rb);
	return 0;
}
