// SPDX-License-Identifier: MIT
/*
 * Statistics and output: latency percentiles (nearest rank), CPU time
 * (getrusage and /proc/stat), the perftest-like table and the JSON lines.
 */
#define _GNU_SOURCE
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "perf.h"

#ifndef ML_VERSION
#define ML_VERSION "0.0.0"
#endif

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

static uint64_t pct(const uint64_t *s, uint64_t n, double p)
{
	uint64_t rank = (uint64_t)ceil(p * (double)n);

	if (rank < 1)
		rank = 1;
	if (rank > n)
		rank = n;
	return s[rank - 1];
}

/* @s: n samples in ns (sorted here); div 2 for RTT/2; results in us. */
void lat_compute(uint64_t *s, uint64_t n, double div, struct lat_res *o)
{
	double sum = 0, k = div * 1e3;

	qsort(s, n, sizeof(*s), cmp_u64);
	for (uint64_t i = 0; i < n; i++)
		sum += (double)s[i];
	o->min = s[0] / k;
	o->max = s[n - 1] / k;
	o->median = pct(s, n, 0.5) / k;
	o->p99 = pct(s, n, 0.99) / k;
	o->p999 = pct(s, n, 0.999) / k;
	o->avg = sum / (double)n / k;
}

void cpu_snap(struct cpu_snap *s)
{
	struct rusage ru, rc;
	unsigned long long v[8] = { 0 };
	double hz = (double)sysconf(_SC_CLK_TCK);
	FILE *f;

	getrusage(RUSAGE_SELF, &ru);
	getrusage(RUSAGE_CHILDREN, &rc);
	s->proc_s = ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec +
		    ru.ru_stime.tv_usec / 1e6 + rc.ru_utime.tv_sec + rc.ru_utime.tv_usec / 1e6 +
		    rc.ru_stime.tv_sec + rc.ru_stime.tv_usec / 1e6;
	s->have_stat = 0;
	f = fopen("/proc/stat", "r");
	if (!f)
		return;
	/* cpu  user nice system idle iowait irq softirq steal */
	if (fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2],
		   &v[3], &v[4], &v[5], &v[6], &v[7]) == 8 && hz > 0) {
		s->guest_s = (double)(v[0] + v[1] + v[2] + v[5] + v[6]) / hz;
		s->guest_kernel_s = (double)(v[2] + v[5] + v[6]) / hz;
		s->have_stat = 1;
	}
	fclose(f);
}

/* ------------------------------------------------------------------ */
/* Output                                                               */
/* ------------------------------------------------------------------ */

static const char *line =
	"------------------------------------------------------------------------------------------\n";

void out_header(struct pctx *pc)
{
	if (loc.json)
		return;
	printf("%s", line);
	printf(" megalink-perf %s over %s%s (%s side)\n", mode_name(),
	       transport_name(cfg.transport),
	       cfg.transport == TR_RAW ? ": AF_PACKET frame ping-pong" : "",
	       loc.is_client ? "client" : "server");
	if (pc)
		printf(" device %s%s%s\n", pc->devname, pc->detail[0] ? " | " : "", pc->detail);
	if (cfg.duration_ms)
		printf(" duration %.3f s per size", cfg.duration_ms / 1e3);
	else
		printf(" %" PRIu64 " iterations per size%s", cfg.iters, cfg.lat ? "" : " and QP");
	if (!cfg.lat && cfg.transport != TR_MEMCPY)
		printf(" | QPs %u threads %u procs %u | depth %u cq-mod %u%s", cfg.qps,
		       cfg.threads, cfg.procs, cfg.depth, cfg.cq_mod, cfg.bidir ? " | bidir" : "");
	if (cfg.op == OP_SEND)
		printf(" | rx depth %u", cfg.rx_depth);
	if (cfg.transport == TR_MEMCPY)
		printf("\n memcpy() of SIZE bytes between two buffers, one thread | verify %s\n",
		       cfg.verify ? "on" : "off");
	else
		printf("\n completions %s | inline %s | verify %s\n",
	       cfg.event ? "by event (epoll)" : "busy polling", cfg.inl ? "on" : "off",
	       cfg.verify ? "on" : "off");
	if (cfg.lat && cfg.op != OP_READ)
		printf(" latency = HALF of the round trip (RTT/2), as perftest\n");
	else if (cfg.lat)
		printf(" latency = the whole READ round trip, as ib_read_lat\n");
	else
		printf(" MB/s = 10^6 B/s, Mpps = 10^6 msg/s; qp share: min/max fraction per QP\n");
	printf("%s", line);
	if (cfg.lat)
		printf(" %8s %10s %9s %9s %9s %9s %9s %9s %8s\n", "#bytes", "#iters", "min[us]",
		       "med[us]", "avg[us]", "p99[us]", "p99.9[us]", "max[us]", "cpu[s]");
	else
		printf(" %8s %10s %9s %10s %9s %9s %13s %8s%s\n", "#bytes", "#msgs", "sec",
		       "BW[MB/s]", "Gbit/s", "Mpps", "qp share", "cpu[s]",
		       cfg.verify ? " verify" : "");
}

static void jnum(const char *k, double v, int last)
{
	if (isfinite(v))
		printf("\"%s\":%.6g%s", k, v, last ? "" : ",");
	else
		printf("\"%s\":null%s", k, last ? "" : ",");
}

static void jstr(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			printf("\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			printf("\\u%04x", *s);
		else
			putchar(*s);
	}
	putchar('"');
}

void out_result(const struct result *r, const char *device)
{
	double gb = (double)r->bytes / 1e9;
	double cpu = r->cpu_client_s + r->cpu_server_s;

	if (!loc.json) {
		if (cfg.lat)
			printf(" %8" PRIu64 " %10" PRIu64 " %9.2f %9.2f %9.2f %9.2f %9.2f %9.2f %8.2f\n",
			       r->size, r->iters, r->lat.min, r->lat.median, r->lat.avg,
			       r->lat.p99, r->lat.p999, r->lat.max, cpu);
		else
			printf(" %8" PRIu64 " %10" PRIu64 " %9.3f %10.2f %9.3f %9.4f %6.3f/%-6.3f %8.2f%s\n",
			       r->size, r->msgs, r->duration_s, r->mbps, r->gbps, r->mpps,
			       r->qp_min_share, r->qp_max_share, cpu,
			       r->verify < 0 ? "" : r->verify ? " OK" : " FAILED");
		return;
	}
	printf("{\"tool\":\"megalink-perf\",\"version\":\"%s\",\"transport\":\"%s\",\"device\":",
	       ML_VERSION, transport_name(cfg.transport));
	jstr(device ? device : "");
	printf(",\"mode\":\"%s\",\"size\":%" PRIu64 ",\"iters\":%" PRIu64 ",", mode_name(),
	       r->size, r->iters);
	jnum("duration_s", r->duration_s, 0);
	printf("\"qps\":%u,\"threads\":%u,\"procs\":%u,\"depth\":%u,\"cq_mod\":%u,"
	       "\"event\":%s,\"bidir\":%s,\"inline\":%s,", cfg.qps, cfg.threads, cfg.procs,
	       cfg.depth, cfg.cq_mod, cfg.event ? "true" : "false", cfg.bidir ? "true" : "false",
	       cfg.inl ? "true" : "false");
	if (cfg.lat) {
		printf("\"latency\":\"%s\",\"lat_us\":{", cfg.op == OP_READ ? "rtt" : "rtt/2");
		jnum("min", r->lat.min, 0);
		jnum("median", r->lat.median, 0);
		jnum("avg", r->lat.avg, 0);
		jnum("p99", r->lat.p99, 0);
		jnum("p999", r->lat.p999, 0);
		jnum("max", r->lat.max, 1);
		printf("},");
	} else {
		printf("\"bw\":{");
		jnum("MBps", r->mbps, 0);
		jnum("Gbps", r->gbps, 0);
		jnum("Mpps", r->mpps, 0);
		printf("\"msgs\":%" PRIu64 ",\"bytes\":%" PRIu64 ",", r->msgs, r->bytes);
		jnum("qp_min_share", r->qp_min_share, 0);
		jnum("qp_max_share", r->qp_max_share, 1);
		printf("},");
	}
	printf("\"cpu\":{");
	jnum("client_s", r->cpu_client_s, 0);
	jnum("server_s", r->cpu_server_s, 0);
	jnum("client_s_per_GB", gb > 0 ? r->cpu_client_s / gb : NAN, 0);
	jnum("server_s_per_GB", gb > 0 ? r->cpu_server_s / gb : NAN, 0);
	if (r->have_stat) {
		jnum("guest_s", r->guest_s, 0);
		jnum("guest_kernel_s", r->guest_kernel_s, 0);
		jnum("guest_s_per_GB", gb > 0 ? r->guest_s / gb : NAN, 0);
		jnum("guest_kernel_s_per_GB", gb > 0 ? r->guest_kernel_s / gb : NAN, 0);
	}
	printf("\"source\":\"getrusage(client,server); /proc/stat(guest)\"},");
	printf("\"verify\":%s}\n", r->verify < 0 ? "null" : r->verify ? "true" : "false");
}

void out_footer(void)
{
	if (!loc.json)
		printf("%s", line);
}
