// SPDX-License-Identifier: MIT
/*
 * megalink-perf: command line, help, errors.  See megalink-perf(1).
 *
 *   server:  megalink-perf MODE [OPTIONS]
 *   client:  megalink-perf MODE [OPTIONS] SERVER
 *
 * MODE is write_lat, send_lat, read_lat, write_bw, send_bw or read_bw
 * (or -m write|send|read with -T lat|bw).  The transport is megalink
 * (-d DEV, the default), libibverbs (--verbs IBDEV), a raw AF_PACKET
 * ping-pong (--raw IFNAME) or a local memcpy (--memcpy).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "perf.h"

#ifndef ML_VERSION
#define ML_VERSION "0.0.0"
#endif

struct cfg cfg = {
	.transport = TR_ML,
	.timeout_s = 30,
	.qps = 1, .threads = 1, .procs = 1,
};
struct local loc = { .port = 18515, .ib_port = 1, .gid_index = -1 };

static volatile int abort_local;
volatile int *abort_flag = &abort_local;

/* ------------------------------------------------------------------ */
/* Errors                                                               */
/* ------------------------------------------------------------------ */

static __thread char be_detail[512];

void be_err(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(be_detail, sizeof(be_detail), fmt, ap);
	va_end(ap);
}

const char *be_last(void)
{
	return be_detail[0] ? be_detail : "unknown error";
}

void usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs(PROG ": ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs(" (try --help)\n", stderr);
	exit(2);
}

/*
 * The first failure of a process prints its line (one write, so that
 * threads do not interleave) and exits; every other thread that fails at
 * the same time, or stops because of it (die_quiet), waits on @dying for
 * the exit.  *abort_flag tells the other workers and processes.
 */
static pthread_mutex_t dying = PTHREAD_MUTEX_INITIALIZER;

void die(const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	int n;

	n = snprintf(buf, sizeof(buf), PROG " %s: ", loc.is_client ? "client" : "server");
	va_start(ap, fmt);
	n += vsnprintf(buf + n, sizeof(buf) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	if (n > (int)sizeof(buf) - 2)
		n = (int)sizeof(buf) - 2;
	buf[n++] = '\n';
	pthread_mutex_lock(&dying);
	fflush(stdout);
	if (write(2, buf, (size_t)n) < 0)
		n = 0;
	*abort_flag = 1;
	exit(1);
}

void die_quiet(void)
{
	pthread_mutex_lock(&dying);
	fflush(stdout);
	exit(1);
}

uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

const char *op_name(uint32_t op)
{
	return op == OP_WRITE ? "write" : op == OP_SEND ? "send" : "read";
}

const char *mode_name(void)
{
	static char buf[16];

	snprintf(buf, sizeof(buf), "%s_%s", op_name(cfg.op), cfg.lat ? "lat" : "bw");
	return buf;
}

const char *transport_name(uint32_t t)
{
	static const char *const n[] = { "megalink", "verbs", "raw", "memcpy" };

	return t < 4 ? n[t] : "?";
}

const struct backend *backend_of(uint32_t t)
{
	return t == TR_VERBS ? &be_verbs : t == TR_RAW ? &be_raw : &be_ml;
}

/* ------------------------------------------------------------------ */
/* Help                                                                 */
/* ------------------------------------------------------------------ */

static void usage(FILE *f)
{
	fputs(
"Usage: megalink-perf MODE [OPTIONS]            server\n"
"       megalink-perf MODE [OPTIONS] SERVER     client (SERVER: host or address)\n"
"       megalink-perf --memcpy [-s SIZE|-a] [-n N|-D SEC] [-j]   memcpy floor\n"
"\n"
"Latency, bandwidth and message rate in perftest's conventions, over\n"
"megalink, libibverbs (soft-RoCE) or a raw Ethernet socket, by one engine.\n"
"Start the server, then the client; they meet over TCP (-p); the client's\n"
"test settings apply to both sides.\n"
"\n"
"MODE: write_lat send_lat read_lat write_bw send_bw read_bw\n"
"      (or -m write|send|read -T lat|bw)\n"
"\n"
"Transport (one of):\n"
"  -d, --dev DEV        megalink device (ml0 or /dev/megalink/ml0); the default\n"
"                       transport; may be left out when there is one device\n"
"      --verbs IBDEV    libibverbs RC QPs on IBDEV (e.g. rxe0)\n"
"        -i, --ib-port N  its port (default 1)\n"
"        -x, --gid-index N  GID index (default: the RoCEv2 IPv4 GID)\n"
"      --raw IFNAME     AF_PACKET ping-pong of SIZE-byte frames (EtherType\n"
"                       0x88B6) on netdev IFNAME: the latency floor of the\n"
"                       link; *_lat modes only, SIZE <= the MTU\n"
"        --peer-mac MAC   the peer's MAC (default: its own report over TCP;\n"
"                       the server answers the frame's source)\n"
"      --memcpy         no peer: MB/s of memcpy() of SIZE bytes, one thread\n"
"\n"
"Test:\n"
"  -s, --size BYTES     message size, K/M/G suffixes (default 8 lat, 64K bw)\n"
"  -a, --all            sweep 2 B .. 8 MiB, powers of two\n"
"  -n, --iters N        iterations per size (per QP in bw; default 1000 lat,\n"
"                       5000 bw)\n"
"  -D, --duration SEC   run each size for SEC seconds instead\n"
"  -q, --qps N          bw: QPs, 1..1024 (default 1)\n"
"      --threads N      bw: worker threads per process sharing its device\n"
"                       context; the QPs are spread over them (default 1)\n"
"      --procs N        bw: forked processes, each with its own device\n"
"                       context and --threads threads (default 1)\n"
"  -t, --tx-depth N     bw: work requests outstanding per QP (default 128,\n"
"                       16 for read_bw, and at most 16 MiB of messages per\n"
"                       QP: 2 at 8 MiB; -t N is N at every size)\n"
"  -Q, --cq-mod N       bw: a completion every N work requests (default\n"
"                       depth/4)\n"
"  -r, --rx-depth N     send_*: receives posted per QP (default 16 lat, 2x\n"
"                       depth up to 512 bw)\n"
"  -b, --bidir          bw: both sides send at once (reports the sum)\n"
"  -e, --events         wait for completions with epoll on the completion fd\n"
"                       instead of busy polling (not write_lat: it polls memory)\n"
"  -I, --inline         inline sends (WRITE and SEND up to the QP's limit)\n"
"      --verify         check the data of every size (pattern per size)\n"
"\n"
"Other:\n"
"  -p, --port PORT      TCP port of the out-of-band exchange (default 18515)\n"
"      --timeout SEC    fail when nothing progresses for SEC s, or the peer\n"
"                       does not come (default 30)\n"
"  -j, --json           one JSON object per size on stdout, nothing else\n"
"  -h, --help           this help     -V, --version   version\n"
"\n"
"Latency is half the round trip (RTT/2), as perftest reports it; read_lat\n"
"is the whole READ round trip.  min/median/avg/p99/p99.9/max in us.\n"
"MB/s = 10^6 bytes/s; Mpps = 10^6 messages/s; from the first post to the\n"
"last completion over all QPs.  qp share = the smallest and the largest\n"
"fraction of the messages that one QP moved (fair: both 1/QPs).  CPU: getrusage\n"
"user+sys of each side's processes, and the whole guest's /proc/stat time.\n"
"\n"
"Exit status: 0 success, 1 failure (one line on stderr says why), 2 usage.\n"
"See megalink-perf(1).\n", f);
}

/* ------------------------------------------------------------------ */
/* Parsing                                                              */
/* ------------------------------------------------------------------ */

static char optspell[64];	/* how the current option was written */

static int parse_size(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;
	uint64_t mul = 1;

	if (!s[0] || s[0] == '-' || s[0] == '+')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s)
		return -EINVAL;
	if (*end) {
		if (strchr("kK", *end) && !end[1])
			mul = 1024;
		else if (strchr("mM", *end) && !end[1])
			mul = 1024 * 1024;
		else if (strchr("gG", *end) && !end[1])
			mul = 1024 * 1024 * 1024;
		else
			return -EINVAL;
	}
	if (v > UINT64_MAX / mul)
		return -ERANGE;
	*out = v * mul;
	return 0;
}

static uint64_t num(const char *s, uint64_t min, uint64_t max)
{
	char *end;
	unsigned long long v;

	errno = 0;
	if (!s[0] || s[0] == '-' || s[0] == '+')
		usage_error("%s %s: not a number", optspell, s);
	v = strtoull(s, &end, 0);
	if (errno || *end || end == s)
		usage_error("%s %s: not a number", optspell, s);
	if (v < min || v > max)
		usage_error("%s %s: must be %" PRIu64 "..%" PRIu64, optspell, s, min, max);
	return v;
}

enum {
	O_VERIFY = 0x100, O_TIMEOUT, O_VERBS, O_RAW, O_MEMCPY, O_THREADS, O_PROCS,
	O_PEERMAC,
};

static const struct option lopts[] = {
	{ "dev", required_argument, NULL, 'd' },
	{ "ib-dev", required_argument, NULL, 'd' },
	{ "verbs", required_argument, NULL, O_VERBS },
	{ "raw", required_argument, NULL, O_RAW },
	{ "memcpy", no_argument, NULL, O_MEMCPY },
	{ "peer-mac", required_argument, NULL, O_PEERMAC },
	{ "ib-port", required_argument, NULL, 'i' },
	{ "gid-index", required_argument, NULL, 'x' },
	{ "mode", required_argument, NULL, 'm' },
	{ "test", required_argument, NULL, 'T' },
	{ "port", required_argument, NULL, 'p' },
	{ "size", required_argument, NULL, 's' },
	{ "all", no_argument, NULL, 'a' },
	{ "iters", required_argument, NULL, 'n' },
	{ "duration", required_argument, NULL, 'D' },
	{ "qps", required_argument, NULL, 'q' },
	{ "qp", required_argument, NULL, 'q' },
	{ "threads", required_argument, NULL, O_THREADS },
	{ "procs", required_argument, NULL, O_PROCS },
	{ "tx-depth", required_argument, NULL, 't' },
	{ "cq-mod", required_argument, NULL, 'Q' },
	{ "rx-depth", required_argument, NULL, 'r' },
	{ "bidir", no_argument, NULL, 'b' },
	{ "bidirectional", no_argument, NULL, 'b' },
	{ "events", no_argument, NULL, 'e' },
	{ "inline", no_argument, NULL, 'I' },
	{ "json", no_argument, NULL, 'j' },
	{ "verify", no_argument, NULL, O_VERIFY },
	{ "timeout", required_argument, NULL, O_TIMEOUT },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

static int parse_mode(const char *s, int *op, int *lat)
{
	static const char *const ops[] = { "write", "send", "read" };
	size_t n;

	for (int i = 0; i < 3; i++) {
		n = strlen(ops[i]);
		if (strncmp(s, ops[i], n))
			continue;
		if (!strcmp(s + n, "_lat"))
			*lat = 1;
		else if (!strcmp(s + n, "_bw"))
			*lat = 0;
		else
			return -1;
		*op = i;
		return 0;
	}
	return -1;
}

static void set_transport(uint32_t t, const char *dev)
{
	if ((loc.set & SET_XPORT) && (cfg.transport != t || loc.dev != dev))
		usage_error("%s: only one of -d, --verbs, --raw and --memcpy", optspell);
	loc.set |= SET_XPORT;
	cfg.transport = t;
	loc.dev = dev;
}

static void parse_args(int argc, char **argv)
{
	int c, li, op = -1, lat = -1, mop = -1, mlat = -1;
	const char *pos[3];
	int npos = 0;
	double d;
	char *end;

	opterr = 0;
	for (;;) {
		li = -1;
		c = getopt_long(argc, argv, "-:d:i:x:m:T:p:s:an:D:q:t:Q:r:beIjhV", lopts, &li);
		if (c == -1)
			break;
		if (li >= 0)
			snprintf(optspell, sizeof(optspell), "--%s", lopts[li].name);
		else
			snprintf(optspell, sizeof(optspell), "-%c", c);
		switch (c) {
		case 1:
			if (npos == 2)
				usage_error("unexpected argument '%s' (MODE and SERVER already given)",
					    optarg);
			pos[npos++] = optarg;
			break;
		case 'd':
			if (!optarg[0])
				usage_error("-d: empty device name");
			set_transport(TR_ML, optarg);
			break;
		case O_VERBS:
			if (!optarg[0])
				usage_error("--verbs: empty device name");
			set_transport(TR_VERBS, optarg);
			break;
		case O_RAW:
			if (!optarg[0])
				usage_error("--raw: empty interface name");
			set_transport(TR_RAW, optarg);
			break;
		case O_MEMCPY:
			set_transport(TR_MEMCPY, NULL);
			break;
		case O_PEERMAC:
			loc.peer_mac = optarg;
			break;
		case 'i':
			loc.ib_port = (int)num(optarg, 1, 255);
			break;
		case 'x':
			loc.gid_index = (int)num(optarg, 0, 65535);
			loc.set |= SET_GID;
			break;
		case 'm':
			for (mop = 0; mop < 3 && strcmp(optarg, op_name((uint32_t)mop)); mop++)
				;
			if (mop == 3)
				usage_error("-m %s: must be write, send or read", optarg);
			break;
		case 'T':
			if (!strcmp(optarg, "lat"))
				mlat = 1;
			else if (!strcmp(optarg, "bw"))
				mlat = 0;
			else
				usage_error("-T %s: must be lat or bw", optarg);
			break;
		case 'p':
			loc.port = (uint16_t)num(optarg, 1, 65535);
			break;
		case 's':
			if (parse_size(optarg, &cfg.size) || !cfg.size || cfg.size > (1ull << 31))
				usage_error("%s %s: must be 1..2G bytes (N, NK, NM or NG)", optspell,
					    optarg);
			loc.set |= SET_SIZE;
			break;
		case 'a':
			cfg.all = 1;
			break;
		case 'n':
			cfg.iters = num(optarg, 1, 1000000000);
			loc.set |= SET_ITERS;
			break;
		case 'D':
			errno = 0;
			d = strtod(optarg, &end);
			if (errno || *end || end == optarg || !(d > 0) || d > 86400)
				usage_error("%s %s: must be seconds, 0..86400", optspell, optarg);
			cfg.duration_ms = (uint64_t)(d * 1000 + 0.5);
			if (!cfg.duration_ms)
				cfg.duration_ms = 1;
			loc.set |= SET_DUR;
			break;
		case 'q':
			cfg.qps = (uint32_t)num(optarg, 1, MAX_QPS);
			loc.set |= SET_SCALE;
			break;
		case O_THREADS:
			cfg.threads = (uint32_t)num(optarg, 1, 64);
			loc.set |= SET_SCALE;
			break;
		case O_PROCS:
			cfg.procs = (uint32_t)num(optarg, 1, 64);
			loc.set |= SET_SCALE;
			break;
		case 't':
			cfg.depth = (uint32_t)num(optarg, 1, MAX_DEPTH);
			loc.set |= SET_DEPTH;
			break;
		case 'Q':
			cfg.cq_mod = (uint32_t)num(optarg, 1, MAX_DEPTH);
			loc.set |= SET_CQMOD;
			break;
		case 'r':
			cfg.rx_depth = (uint32_t)num(optarg, 1, MAX_DEPTH);
			loc.set |= SET_RX;
			break;
		case 'b':
			cfg.bidir = 1;
			break;
		case 'e':
			cfg.event = 1;
			break;
		case 'I':
			cfg.inl = 1;
			break;
		case 'j':
			loc.json = 1;
			break;
		case O_VERIFY:
			cfg.verify = 1;
			break;
		case O_TIMEOUT:
			cfg.timeout_s = (uint32_t)num(optarg, 1, 86400);
			break;
		case 'h':
			usage(stdout);
			exit(0);
		case 'V':
			printf(PROG " %s\n", ML_VERSION);
			exit(0);
		case ':':
			usage_error("%s needs an argument", argv[optind - 1]);
		default:
			if (optopt)
				usage_error("unknown option -%c", optopt);
			usage_error("unknown option %s", argv[optind - 1]);
		}
	}

	/* MODE: the first positional word, unless -m/-T give it. */
	if (npos && parse_mode(pos[0], &op, &lat) == 0) {
		if (mop >= 0 || mlat >= 0)
			usage_error("MODE %s and -m/-T: give one of them", pos[0]);
		memmove(pos, pos + 1, sizeof(pos[0]) * (size_t)--npos);
	} else if (mop >= 0 || mlat >= 0) {
		op = mop >= 0 ? mop : OP_WRITE;
		lat = mlat >= 0 ? mlat : 0;
	} else if (cfg.transport == TR_MEMCPY) {
		op = OP_WRITE;
		lat = 0;
	} else if (npos) {
		usage_error("unknown MODE '%s' (write_lat, send_lat, read_lat, write_bw, "
			    "send_bw, read_bw)", pos[0]);
	} else {
		usage_error("no MODE given (write_lat, send_lat, read_lat, write_bw, send_bw, "
			    "read_bw)");
	}
	cfg.op = (uint32_t)op;
	cfg.lat = (uint32_t)lat;
	if (npos > 1)
		usage_error("unexpected argument '%s' after SERVER %s", pos[1], pos[0]);
	loc.host = npos ? pos[0] : NULL;
	loc.is_client = loc.host != NULL;
	if (cfg.transport == TR_MEMCPY) {
		if (loc.host)
			usage_error("--memcpy runs alone: no SERVER (%s)", loc.host);
		if (cfg.lat)
			usage_error("--memcpy measures bandwidth, not %s", mode_name());
		loc.is_client = 1;
	}

	/* Combinations. */
	if ((loc.set & SET_ITERS) && (loc.set & SET_DUR))
		usage_error("-n and -D exclude each other");
	if ((loc.set & SET_SIZE) && cfg.all)
		usage_error("-s and -a exclude each other");
	if ((loc.set & SET_GID || loc.ib_port != 1) && cfg.transport != TR_VERBS)
		usage_error("-x and -i are for --verbs");
	if (loc.peer_mac && cfg.transport != TR_RAW)
		usage_error("--peer-mac is for --raw");
	if (cfg.lat) {
		if (loc.set & SET_SCALE)
			usage_error("-q, --threads and --procs are for the bandwidth modes (%s "
				    "runs one QP, as perftest)", mode_name());
		if (loc.set & (SET_DEPTH | SET_CQMOD))
			usage_error("-t and -Q are for the bandwidth modes (%s is a ping-pong: "
				    "one message in flight)", mode_name());
		if (cfg.bidir)
			usage_error("-b is for the bandwidth modes");
		if (cfg.event && cfg.op == OP_WRITE && cfg.transport != TR_RAW)
			usage_error("-e: write_lat polls the buffer (a WRITE completes nothing "
				    "at the target); use send_lat or read_lat");
	}
	if ((loc.set & SET_RX) && cfg.op != OP_SEND)
		usage_error("-r is for send_lat and send_bw");
	if (cfg.inl && cfg.op == OP_READ)
		usage_error("-I: %s cannot be inline (a READ carries no data out)", mode_name());
	if (cfg.qps < cfg.threads * cfg.procs)
		usage_error("-q %u: fewer QPs than workers (--threads %u x --procs %u)", cfg.qps,
			    cfg.threads, cfg.procs);
	if (cfg.threads * cfg.procs > MAX_WORKERS)
		usage_error("--threads %u x --procs %u: at most %u workers", cfg.threads,
			    cfg.procs, MAX_WORKERS);
	if (cfg.transport == TR_RAW) {
		if (!cfg.lat)
			usage_error("--raw is a ping-pong: *_lat modes only, not %s", mode_name());
		if (cfg.op == OP_READ)
			usage_error("--raw: read_lat needs RDMA; use write_lat or send_lat");
		if (cfg.verify)
			usage_error("--raw: --verify is for RDMA transports");
		cfg.op = OP_SEND;	/* write_lat and send_lat: the same frame ping-pong */
	}
	if (cfg.transport == TR_MEMCPY && (loc.set & (SET_SCALE | SET_DEPTH | SET_CQMOD) ||
					   cfg.bidir || cfg.event || cfg.inl))
		usage_error("--memcpy takes only -s/-a, -n/-D, --verify and -j");

	/* Defaults that depend on the mode. */
	if (!(loc.set & SET_SIZE))
		cfg.size = cfg.lat ? 8 : 65536;
	if (!(loc.set & SET_ITERS))
		cfg.iters = cfg.lat ? 1000 : 5000;
	if (cfg.lat) {
		cfg.depth = 1;
		cfg.cq_mod = 1;
		if (!(loc.set & SET_RX))
			cfg.rx_depth = 16;
	} else {
		if (!(loc.set & SET_DEPTH)) {
			cfg.depth = cfg.op == OP_READ ? 16 : 128;
			cfg.depth_bytes = DEPTH_BYTES;
		}
		if (!(loc.set & SET_CQMOD))
			cfg.cq_mod = cfg.depth / 4 ? cfg.depth / 4 : 1;
		if (cfg.cq_mod > cfg.depth)
			usage_error("-Q %u: must not exceed the depth (-t %u)", cfg.cq_mod,
				    cfg.depth);
		if (!(loc.set & SET_RX))
			cfg.rx_depth = cfg.depth * 2 < 512 ? cfg.depth * 2 : 512;
	}
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGPIPE, SIG_IGN);
	parse_args(argc, argv);
	if (cfg.transport == TR_MEMCPY)
		return memcpy_run();
	return engine_run();
}
