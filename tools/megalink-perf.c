// SPDX-License-Identifier: MIT
/*
 * megalink-perf: latency and bandwidth of megalink queue pairs, in the
 * manner of perftest's ib_write_lat / ib_write_bw / ib_send_lat / ... but
 * one binary for every test.
 *
 *   server:  megalink-perf -d DEV [OPTIONS] MODE
 *   client:  megalink-perf -d DEV [OPTIONS] MODE SERVER_ADDR
 *
 * The two sides meet over TCP (port 18515), the client sends its settings
 * (they apply to both sides), both exchange node id, QP number, buffer
 * address, rkey and size, connect their QPs with ml_qp_connect() and run
 * one test per message size:
 *
 *  - *_lat: ping-pong.  write_lat: each side RDMA-WRITEs its message into
 *    the peer's buffer and spins on the last byte of its own buffer until
 *    the peer's message has arrived (as ib_write_lat); send_lat: SEND and
 *    RECV; read_lat: the client READs from the server.  The client times
 *    each round trip with CLOCK_MONOTONIC and reports half of it as the
 *    one-way latency, as perftest does (READ: the whole round trip, also
 *    as perftest).
 *  - *_bw: the client keeps -t work requests outstanding, asks for a
 *    completion every -Q of them, counts completions, and reports MB/s
 *    (10^6 bytes), Gbit/s and messages/s from its first post to its last
 *    completion.  Nothing is checked unless --verify.
 *
 * Exit status: 0, 1 when the test failed (libmegalink or the peer
 * failed, no progress, --verify found a difference), 2 on a usage error.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <net/if.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <megalink/megalink.h>

#ifndef ML_VERSION
#define ML_VERSION "0.0.0"
#endif

#define PROG		"megalink-perf"
#define DEF_PORT	18515
#define DEF_LAT_ITERS	1000
#define DEF_BW_ITERS	5000
#define DEF_LAT_SIZE	8
#define DEF_BW_SIZE	65536
#define DEF_TX_DEPTH	128
#define DEF_READ_DEPTH	16	/* READs a responder queues (docs/uapi.md) */
#define DEF_LAT_RX	16
#define DEF_BW_RX	512
#define MAX_DEPTH	4096	/* ML_MAX_WR of the driver */
#define DEF_TIMEOUT	30
#define ALL_MIN		2
#define ALL_MAX		(8u << 20)
#define BW_BUF_CAP	(32u << 20)	/* bw buffer: slots up to this size */
#define LAT_SQ		64

/* ------------------------------------------------------------------ */
/* Modes and options                                                    */
/* ------------------------------------------------------------------ */

enum op { OP_WRITE, OP_SEND, OP_READ };

struct mode {
	const char *name;
	enum op op;
	int lat;
	const char *title;
};

static const struct mode modes[] = {
	{ "write_lat", OP_WRITE, 1, "RDMA WRITE latency (ping-pong)" },
	{ "write_bw", OP_WRITE, 0, "RDMA WRITE bandwidth" },
	{ "send_lat", OP_SEND, 1, "SEND latency (ping-pong)" },
	{ "send_bw", OP_SEND, 0, "SEND bandwidth" },
	{ "read_lat", OP_READ, 1, "RDMA READ latency" },
	{ "read_bw", OP_READ, 0, "RDMA READ bandwidth" },
};
#define NMODES	(sizeof(modes) / sizeof(modes[0]))

/* What was given on the command line (for the server's note). */
#define SET_SIZE	(1U << 0)
#define SET_ITERS	(1U << 1)
#define SET_DUR		(1U << 2)
#define SET_TX		(1U << 3)
#define SET_RX		(1U << 4)
#define SET_CQMOD	(1U << 5)
#define SET_ALL		(1U << 6)
#define SET_INLINE	(1U << 7)
#define SET_VERIFY	(1U << 8)

struct opts {
	const char *dev;
	const char *server;	/* NULL: this is the server */
	uint16_t port;
	const struct mode *mode;
	uint64_t size;
	uint64_t iters;
	uint64_t duration_ms;	/* 0: run -n iterations */
	uint32_t tx_depth;
	uint32_t rx_depth;
	uint32_t cq_mod;
	int all;
	int inl;
	int json;
	int verify;
	unsigned int timeout_s;
	unsigned int set;	/* SET_* */
};

static struct opts o = {
	.port = DEF_PORT,
	.timeout_s = DEF_TIMEOUT,
};

static int is_client;

/* ------------------------------------------------------------------ */
/* Errors                                                               */
/* ------------------------------------------------------------------ */

static void usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die_ml(const char *what, int err) __attribute__((noreturn));

static void usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs(PROG ": ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs(" (try --help)\n", stderr);
	exit(2);
}

static void die(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fprintf(stderr, PROG " %s: ", is_client ? "client" : "server");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

/* A libmegalink call failed: its detail names the call and the argument. */
static void die_ml(const char *what, int err)
{
	const char *d = ml_last_error();

	die("%s: %s", what, d && d[0] ? d : ml_strerror(err));
}

static void check(int ret, const char *what)
{
	if (ret < 0)
		die_ml(what, ret);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* ------------------------------------------------------------------ */
/* Command line                                                         */
/* ------------------------------------------------------------------ */

static void usage(FILE *f)
{
	fputs(
"Usage: megalink-perf -d DEV [OPTIONS] MODE                 (server)\n"
"       megalink-perf -d DEV [OPTIONS] MODE SERVER_ADDR     (client)\n"
"\n"
"Latency and bandwidth between two megalink nodes, as perftest's ib_*_lat\n"
"and ib_*_bw.  Start the server, then the client with the server's IPv4\n"
"address or host name (a TCP side channel exchanges QP numbers and keys).\n"
"The client's test settings apply to both sides.\n"
"\n"
"MODE: write_lat  write_bw  send_lat  send_bw  read_lat  read_bw\n"
"\n"
"Options:\n"
"  -d, --dev DEV        megalink device (ml0, or /dev/megalink/ml0); may be\n"
"                       left out when the system has exactly one\n"
"  -p, --port PORT      TCP port of the side channel (default 18515)\n"
"  -s, --size BYTES     message size; K, M, G suffixes (x1024, x1024^2, ...);\n"
"                       default 8 for *_lat, 65536 for *_bw\n"
"  -a, --all            every size from 2 to 8M, powers of two\n"
"  -n, --iters N        iterations per size (default 1000 lat, 5000 bw)\n"
"  -D, --duration SEC   run each size for SEC seconds instead of -n\n"
"  -t, --tx-depth N     bw: work requests outstanding (default 128; 16 for\n"
"                       read_bw: a responder queues 16 READs)\n"
"  -Q, --cq-mod N       bw: ask for a completion every N work requests\n"
"                       (default tx-depth / 4, at most tx-depth)\n"
"  -r, --rx-depth N     send_*: receives kept posted (default 16 lat, 512 bw)\n"
"  -I, --inline         send messages of up to 64 bytes inline (WRITE, SEND)\n"
"      --verify         bw: check the data pattern after each size\n"
"  -j, --json           one JSON object per size on stdout, nothing else\n"
"      --timeout SEC    give up when nothing progresses for SEC seconds\n"
"                       (default 30; the client also waits that long for\n"
"                       the server to listen)\n"
"  -h, --help           this help      -V, --version   version\n"
"\n"
"Latency: the client times each round trip with CLOCK_MONOTONIC and reports\n"
"HALF OF IT (RTT/2) as the one-way latency, as perftest does; read_lat\n"
"reports the whole READ round trip, as ib_read_lat does.  Columns: min,\n"
"median, mean, p99, p99.9, max in microseconds (nearest-rank percentiles).\n"
"Bandwidth: MB/s = 10^6 bytes/s, Gbit/s = 10^9 bit/s, from the first post\n"
"to the last completion.\n"
"\n"
"Exit status: 0 success, 1 failure (one line on stderr says why), 2 usage.\n"
"See megalink-perf(1).\n", f);
}

/* BYTES with an optional K, M or G suffix (powers of 1024). */
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
		if ((*end == 'k' || *end == 'K') && !end[1])
			mul = 1024;
		else if ((*end == 'm' || *end == 'M') && !end[1])
			mul = 1024 * 1024;
		else if ((*end == 'g' || *end == 'G') && !end[1])
			mul = 1024 * 1024 * 1024;
		else
			return -EINVAL;
	}
	if (v > UINT64_MAX / mul)
		return -ERANGE;
	*out = v * mul;
	return 0;
}

static uint64_t parse_num(const char *opt, const char *s, uint64_t min, uint64_t max)
{
	char *end;
	unsigned long long v;

	errno = 0;
	if (!s[0] || s[0] == '-' || s[0] == '+')
		usage_error("option %s: '%s' is not a number", opt, s);
	v = strtoull(s, &end, 0);
	if (errno || *end || end == s)
		usage_error("option %s: '%s' is not a number", opt, s);
	if (v < min || v > max)
		usage_error("option %s: %s is out of range %" PRIu64 "..%" PRIu64,
			    opt, s, min, max);
	return v;
}

enum { OPT_VERIFY = 0x100, OPT_TIMEOUT };

static const struct option long_opts[] = {
	{ "dev", required_argument, NULL, 'd' },
	{ "ib-dev", required_argument, NULL, 'd' },	/* perftest's name */
	{ "port", required_argument, NULL, 'p' },
	{ "size", required_argument, NULL, 's' },
	{ "all", no_argument, NULL, 'a' },
	{ "iters", required_argument, NULL, 'n' },
	{ "duration", required_argument, NULL, 'D' },
	{ "tx-depth", required_argument, NULL, 't' },
	{ "cq-mod", required_argument, NULL, 'Q' },
	{ "rx-depth", required_argument, NULL, 'r' },
	{ "inline", no_argument, NULL, 'I' },
	{ "json", no_argument, NULL, 'j' },
	{ "verify", no_argument, NULL, OPT_VERIFY },
	{ "timeout", required_argument, NULL, OPT_TIMEOUT },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

/* The spelling of the option that getopt_long() just handled. */
static const char *opt_name(char *buf, size_t len, int c, int longind, char **argv)
{
	(void)argv;
	if (longind >= 0)
		snprintf(buf, len, "--%s", long_opts[longind].name);
	else
		snprintf(buf, len, "-%c", c);
	return buf;
}

static void parse_args(int argc, char **argv)
{
	int c, longind;
	char name[64];
	double d;
	char *end;

	opterr = 0;
	for (;;) {
		longind = -1;
		c = getopt_long(argc, argv, ":d:p:s:an:D:t:Q:r:IjhV", long_opts, &longind);
		if (c == -1)
			break;
		switch (c) {
		case 'd':
			if (!optarg[0])
				usage_error("option -d: empty device name");
			o.dev = optarg;
			break;
		case 'p':
			o.port = (uint16_t)parse_num(opt_name(name, sizeof(name), c, longind, argv),
						     optarg, 1, 65535);
			break;
		case 's':
			if (parse_size(optarg, &o.size) || !o.size || o.size > (1ull << 31))
				usage_error("option %s: bad size '%s' (1..2G; N, NK, NM or NG)",
					    opt_name(name, sizeof(name), c, longind, argv), optarg);
			o.set |= SET_SIZE;
			break;
		case 'a':
			o.all = 1;
			o.set |= SET_ALL;
			break;
		case 'n':
			o.iters = parse_num(opt_name(name, sizeof(name), c, longind, argv),
					    optarg, 1, 1000000000);
			o.set |= SET_ITERS;
			break;
		case 'D':
			errno = 0;
			d = strtod(optarg, &end);
			if (errno || *end || end == optarg || !(d > 0) || d > 86400)
				usage_error("option %s: bad duration '%s' (seconds, 0..86400)",
					    opt_name(name, sizeof(name), c, longind, argv), optarg);
			o.duration_ms = (uint64_t)(d * 1000 + 0.5);
			if (!o.duration_ms)
				o.duration_ms = 1;
			o.set |= SET_DUR;
			break;
		case 't':
			o.tx_depth = (uint32_t)parse_num(opt_name(name, sizeof(name), c, longind, argv),
							 optarg, 1, MAX_DEPTH);
			o.set |= SET_TX;
			break;
		case 'Q':
			o.cq_mod = (uint32_t)parse_num(opt_name(name, sizeof(name), c, longind, argv),
						       optarg, 1, MAX_DEPTH);
			o.set |= SET_CQMOD;
			break;
		case 'r':
			o.rx_depth = (uint32_t)parse_num(opt_name(name, sizeof(name), c, longind, argv),
							 optarg, 1, MAX_DEPTH);
			o.set |= SET_RX;
			break;
		case 'I':
			o.inl = 1;
			o.set |= SET_INLINE;
			break;
		case 'j':
			o.json = 1;
			break;
		case OPT_VERIFY:
			o.verify = 1;
			o.set |= SET_VERIFY;
			break;
		case OPT_TIMEOUT:
			o.timeout_s = (unsigned int)parse_num("--timeout", optarg, 1, 86400);
			break;
		case 'h':
			usage(stdout);
			exit(0);
		case 'V':
			printf(PROG " %s (libmegalink %s)\n", ML_VERSION, ml_version());
			exit(0);
		case ':':
			if (!strncmp(argv[optind - 1], "--", 2))
				usage_error("option %s needs an argument", argv[optind - 1]);
			usage_error("option -%c needs an argument", optopt);
		default:
			if (optopt)
				usage_error("unknown option -%c", optopt);
			usage_error("unknown option %s", argv[optind - 1]);
		}
	}
	if (optind >= argc)
		usage_error("no MODE given (write_lat, write_bw, send_lat, send_bw, read_lat, read_bw)");
	for (size_t i = 0; i < NMODES; i++)
		if (!strcmp(argv[optind], modes[i].name))
			o.mode = &modes[i];
	if (!o.mode)
		usage_error("unknown MODE '%s' (write_lat, write_bw, send_lat, send_bw, "
			    "read_lat, read_bw)", argv[optind]);
	optind++;
	if (optind < argc)
		o.server = argv[optind++];
	if (optind < argc)
		usage_error("unexpected argument '%s' after SERVER_ADDR", argv[optind]);
	is_client = o.server != NULL;

	if ((o.set & SET_ITERS) && (o.set & SET_DUR))
		usage_error("options -n and -D exclude each other");
	if ((o.set & SET_SIZE) && o.all)
		usage_error("options -s and -a exclude each other");
	if (o.verify && o.mode->lat)
		usage_error("option --verify is for the bandwidth modes, not %s", o.mode->name);
	if (o.inl && o.mode->op == OP_READ)
		usage_error("option -I: %s cannot be inline (READ carries no data out)",
			    o.mode->name);
	if ((o.set & (SET_TX | SET_CQMOD)) && o.mode->lat)
		usage_error("options -t and -Q are for the bandwidth modes (%s is a "
			    "ping-pong: one message in flight)", o.mode->name);
	if ((o.set & SET_RX) && o.mode->op != OP_SEND)
		usage_error("option -r is for send_lat and send_bw");

	/* Defaults that depend on the mode. */
	if (!(o.set & SET_SIZE))
		o.size = o.mode->lat ? DEF_LAT_SIZE : DEF_BW_SIZE;
	if (!(o.set & SET_ITERS))
		o.iters = o.mode->lat ? DEF_LAT_ITERS : DEF_BW_ITERS;
	if (o.mode->lat) {
		o.tx_depth = 1;
		o.cq_mod = 1;
	} else {
		if (!(o.set & SET_TX))
			o.tx_depth = o.mode->op == OP_READ ? DEF_READ_DEPTH : DEF_TX_DEPTH;
		if (!(o.set & SET_CQMOD))
			o.cq_mod = o.tx_depth / 4 ? o.tx_depth / 4 : 1;
		if (o.cq_mod > o.tx_depth)
			usage_error("option -Q %u: must not exceed the tx depth (-t %u)",
				    o.cq_mod, o.tx_depth);
	}
	if (!(o.set & SET_RX))
		o.rx_depth = o.mode->lat ? DEF_LAT_RX : DEF_BW_RX;
}

/* ------------------------------------------------------------------ */
/* The TCP side channel                                                 */
/* ------------------------------------------------------------------ */

#define MSG_MAGIC	0x4d4c5046u	/* "MLPF" */
#define PROTO_VERSION	1
#define MSG_WORDS	12

enum msg_type {
	M_CFG = 1,	/* client: its settings */
	M_CFG_ACK,	/* server: 0 or a mode mismatch */
	M_INFO,		/* both: node, qpn, addr, rkey, length */
	M_SYNC,		/* both: connected */
	M_START,	/* client: next size */
	M_READY,	/* server: ready for it */
	M_END,		/* client: done, count */
	M_RESULT,	/* server: its verdict */
	M_REPORT,	/* client: the numbers, for the server's output */
	M_DONE,		/* client: no more sizes */
};

static const char *msg_name(unsigned int t)
{
	static const char *const n[] = {
		"?", "config", "config-ack", "info", "sync", "start", "ready", "end",
		"result", "report", "done",
	};

	return t < sizeof(n) / sizeof(n[0]) ? n[t] : "?";
}

static int tcp_fd = -1;

static void tcp_write(const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t n = write(tcp_fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			die("TCP side channel: write: %s (peer gone?)", strerror(errno));
		p += n;
		len -= (size_t)n;
	}
}

static void tcp_read(void *buf, size_t len)
{
	char *p = buf;

	while (len) {
		ssize_t n = read(tcp_fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n == 0)
			die("TCP side channel: the peer closed the connection (it failed or exited)");
		if (n < 0)
			die("TCP side channel: read: %s", strerror(errno));
		p += n;
		len -= (size_t)n;
	}
}

static void msg_send(enum msg_type t, const uint64_t *v, int n)
{
	uint64_t w[MSG_WORDS] = { 0 };

	w[0] = htobe64((uint64_t)MSG_MAGIC << 32 | t);
	for (int i = 0; i < n && i < MSG_WORDS - 1; i++)
		w[i + 1] = htobe64(v[i]);
	tcp_write(w, sizeof(w));
}

/* Next message; it must be of type @want (or @alt, when not 0). */
static enum msg_type msg_recv(enum msg_type want, enum msg_type alt, uint64_t *v)
{
	uint64_t w[MSG_WORDS];
	uint64_t h;
	unsigned int t;

	tcp_read(w, sizeof(w));
	h = be64toh(w[0]);
	t = (unsigned int)(h & 0xffffffffu);
	if ((h >> 32) != MSG_MAGIC)
		die("TCP side channel: not a megalink-perf peer (bad magic 0x%08x)",
		    (unsigned int)(h >> 32));
	if (t != want && (!alt || t != alt))
		die("TCP side channel: expected a '%s' message, got '%s' (%u)",
		    msg_name(want), msg_name(t), t);
	for (int i = 0; i < MSG_WORDS - 1; i++)
		v[i] = be64toh(w[i + 1]);
	return (enum msg_type)t;
}

/* Is a message waiting?  (Also true at EOF: the read then says so.) */
static int msg_pending(void)
{
	struct pollfd p = { .fd = tcp_fd, .events = POLLIN };

	return poll(&p, 1, 0) > 0;
}

static void tcp_setup(void)
{
	int one = 1, fd;

	if (!is_client) {
		struct sockaddr_in6 sa = { .sin6_family = AF_INET6, .sin6_port = htons(o.port),
					   .sin6_addr = IN6ADDR_ANY_INIT };
		struct sockaddr_in sa4 = { .sin_family = AF_INET, .sin_port = htons(o.port) };
		int lfd, zero = 0;

		/* Dual-stack where IPv6 exists, IPv4 otherwise. */
		lfd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (lfd >= 0) {
			setsockopt(lfd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
			setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
			if (bind(lfd, (struct sockaddr *)&sa, sizeof(sa))) {
				close(lfd);
				lfd = -1;
			}
		}
		if (lfd < 0) {
			lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
			if (lfd < 0)
				die("TCP socket: %s", strerror(errno));
			setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
			if (bind(lfd, (struct sockaddr *)&sa4, sizeof(sa4)))
				die("TCP port %u: bind: %s", o.port, strerror(errno));
		}
		if (listen(lfd, 1))
			die("TCP port %u: listen: %s", o.port, strerror(errno));
		if (!o.json)
			printf("waiting for a client on TCP port %u ...\n", o.port);
		do
			fd = accept(lfd, NULL, NULL);
		while (fd < 0 && errno == EINTR);
		if (fd < 0)
			die("TCP port %u: accept: %s", o.port, strerror(errno));
		close(lfd);
	} else {
		struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM };
		struct addrinfo *res = NULL, *ai;
		char port[8];
		uint64_t deadline = now_ns() + (uint64_t)o.timeout_s * 1000000000ull;
		int r, err = 0;

		snprintf(port, sizeof(port), "%u", o.port);
		r = getaddrinfo(o.server, port, &hints, &res);
		if (r)
			die("server address '%s': %s", o.server, gai_strerror(r));
		for (fd = -1; fd < 0;) {
			for (ai = res; ai && fd < 0; ai = ai->ai_next) {
				fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
					    ai->ai_protocol);
				if (fd < 0) {
					err = errno;
					continue;
				}
				if (connect(fd, ai->ai_addr, ai->ai_addrlen)) {
					err = errno;
					close(fd);
					fd = -1;
				}
			}
			if (fd >= 0)
				break;
			/* The server may not listen yet: retry until --timeout. */
			if (now_ns() > deadline)
				die("cannot connect to %s port %u: %s (is the server running?)",
				    o.server, o.port, strerror(err));
			usleep(100000);
		}
		freeaddrinfo(res);
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	tcp_fd = fd;
}

/* ------------------------------------------------------------------ */
/* Resources                                                            */
/* ------------------------------------------------------------------ */

struct peer {
	uint32_t node_id;
	uint32_t qpn;
	uint32_t rkey;
	uint64_t addr;
	uint64_t len;
};

static struct {
	struct ml_device *dev;
	struct ml_device_info info;
	struct ml_limits lim;
	struct ml_pd *pd;
	struct ml_cq *scq, *rcq;
	struct ml_qp *qp;
	struct ml_mr *mr;
	uint8_t *buf;
	uint64_t buf_len;
	uint64_t max_size;	/* largest message */
	uint64_t stride;	/* bw: bytes per slot; lat: the half of buf */
	uint32_t nslots;	/* bw: slots */
	uint32_t sq_size;	/* WRs the SQ can hold */
	uint32_t max_inline;
	struct peer peer;

	/* send side, all sizes: WRs posted and completed (in order) */
	uint64_t posted;
	uint64_t completed;
	/* receive side, all sizes */
	uint64_t recv_posted;
	uint64_t recv_done;
} r;

static uint32_t pow2_at_least(uint32_t v)
{
	uint32_t p = 1;

	while (p < v)
		p <<= 1;
	return p;
}

static void pick_device(void)
{
	char (*names)[ML_DEV_NAME_LEN] = NULL;
	size_t n = 0;
	int ret;

	if (o.dev)
		return;
	ret = ml_list_devices(&names, &n);
	if (ret < 0)
		die_ml("listing devices", ret);
	if (n == 0)
		die("no megalink device (is the module loaded and a port bound?); use -d DEV");
	if (n > 1) {
		ml_free(names);
		usage_error("several megalink devices exist: choose one with -d DEV");
	}
	o.dev = strdup(names[0]);
	ml_free(names);
}

/* Before the side channel: a wrong -d fails at once, not after a client came. */
static void open_device(void)
{
	check(ml_device_open(o.dev, &r.dev), "opening the device");
	check(ml_device_query(r.dev, &r.info), "querying the device");
	check(ml_query_limits(r.dev, &r.lim), "querying the limits");
	if (r.info.num_ports == 0)
		die("device %s has no port bound", ml_device_name(r.dev));
}

static void setup(void)
{
	struct ml_qp_init qi;
	uint64_t len, page = (uint64_t)sysconf(_SC_PAGESIZE);
	uint32_t sq, rq;

	if (r.lim.max_msg_size && r.max_size > r.lim.max_msg_size)
		die("size %" PRIu64 " exceeds the device's largest message (%" PRIu64 ")",
		    r.max_size, (uint64_t)r.lim.max_msg_size);
	check(ml_pd_alloc(r.dev, &r.pd), "allocating a PD");

	sq = o.mode->lat ? LAT_SQ : pow2_at_least(o.tx_depth);
	if (r.lim.max_sq_wr && sq > r.lim.max_sq_wr)
		die("tx depth %u exceeds the device's send queue limit %u", o.tx_depth,
		    r.lim.max_sq_wr);
	rq = o.mode->op == OP_SEND ? pow2_at_least(o.rx_depth) : 1;
	if (r.lim.max_rq_wr && rq > r.lim.max_rq_wr)
		die("rx depth %u exceeds the device's receive queue limit %u", o.rx_depth,
		    r.lim.max_rq_wr);
	check(ml_cq_create(r.dev, sq, &r.scq), "creating the send CQ");
	check(ml_cq_create(r.dev, rq, &r.rcq), "creating the receive CQ");

	memset(&qi, 0, sizeof(qi));
	qi.send_cq = r.scq;
	qi.recv_cq = r.rcq;
	qi.sq_entries = sq;
	qi.rq_entries = rq;
	if (o.inl)
		qi.max_inline = r.lim.max_inline && r.lim.max_inline < ML_MAX_INLINE ?
				r.lim.max_inline : ML_MAX_INLINE;
	check(ml_qp_create(r.pd, &qi, &r.qp), "creating the QP");
	r.sq_size = r.qp->sq.size;
	r.max_inline = r.qp->max_inline;

	/*
	 * Buffer.  lat: [incoming | outgoing], max_size each (the peer writes
	 * or sends into the first half, the last byte of which is polled).
	 * bw: nslots slots of max_size; WR g uses slot g % nslots on both
	 * sides, so a slot always carries the same part of the pattern.
	 */
	if (o.mode->lat) {
		r.stride = r.max_size;
		r.nslots = 2;
	} else {
		uint32_t depth = o.tx_depth;
		uint64_t fit = BW_BUF_CAP / r.max_size;

		if (o.mode->op == OP_SEND && o.rx_depth > depth)
			depth = o.rx_depth;
		r.stride = r.max_size;
		r.nslots = fit < depth ? (uint32_t)fit : depth;
		if (!r.nslots)
			r.nslots = 1;
	}
	len = r.stride * r.nslots;
	r.buf_len = len;
	len = (len + page - 1) / page * page;
	r.buf = aligned_alloc(page, len);
	if (!r.buf)
		die("out of memory for a %" PRIu64 "-byte buffer", len);
	memset(r.buf, 0, len);
	check(ml_mr_reg(r.pd, r.buf, r.buf_len, ML_ACCESS_ALL, &r.mr),
	      "registering the buffer");
}

static void teardown(void)
{
	check(ml_qp_destroy(r.qp), "destroying the QP");
	check(ml_cq_destroy(r.scq), "destroying the send CQ");
	check(ml_cq_destroy(r.rcq), "destroying the receive CQ");
	check(ml_mr_dereg(r.mr), "deregistering the buffer");
	check(ml_pd_free(r.pd), "freeing the PD");
	ml_device_close(r.dev);
	free(r.buf);
}

/* ------------------------------------------------------------------ */
/* Progress watchdog and completions                                    */
/* ------------------------------------------------------------------ */

struct watch {
	uint64_t last;		/* last progress seen at a tick */
	uint64_t last_tcp;	/* server: last look at the side channel */
	uint32_t spins;
	int progress;
	const char *what;
};

static void watch_init(struct watch *w, const char *what)
{
	w->last = w->last_tcp = now_ns();
	w->spins = 0;
	w->progress = 0;
	w->what = what;
}

static void __attribute__((noreturn)) die_stall(const struct watch *w)
{
	struct ml_qp_attr a;

	if (ml_qp_query(r.qp, &a) == 0)
		die("no progress for %u s while waiting for %s (QP %u %s, %u WRs outstanding, "
		    "snd_psn %u snd_una %u rcv_psn %u, %" PRIu64 " retransmits, %" PRIu64
		    " timeouts%s%s)", o.timeout_s, w->what, a.qpn, ml_qp_state_name(a.state),
		    a.outstanding, a.snd_psn, a.snd_una, a.rcv_psn, (uint64_t)a.retransmits,
		    (uint64_t)a.timeouts, a.state == ML_QPS_ERROR ? ", status " : "",
		    a.state == ML_QPS_ERROR ? ml_wc_status_str(a.status) : "");
	die("no progress for %u s while waiting for %s (QP query failed: %s)", o.timeout_s,
	    w->what, ml_last_error());
}

/*
 * Call in every spin.  Every 256 spins: the clock; dies when nothing
 * progressed for --timeout.  Returns 1 (server only) when a message
 * arrived on the side channel (looked at once a millisecond).
 */
static inline int watch_tick(struct watch *w)
{
	uint64_t t;

	if (++w->spins & 255)
		return 0;
	t = now_ns();
	if (w->progress) {
		w->progress = 0;
		w->last = t;
	} else if (t - w->last > (uint64_t)o.timeout_s * 1000000000ull) {
		die_stall(w);
	}
	if (!is_client && t - w->last_tcp > 1000000) {
		w->last_tcp = t;
		return msg_pending();
	}
	return 0;
}

static void __attribute__((noreturn)) die_wc(const struct ml_cqe *wc)
{
	die("%s completion of work request %" PRIu64 " failed: %s", ml_wc_opcode_name(wc->opcode),
	    (uint64_t)wc->wr_id, ml_wc_status_str(wc->status));
}

/* Reap send completions (no wait); WR ids are r.posted numbers. */
static inline int reap_send(void)
{
	struct ml_cqe wc[32];
	int n = ml_cq_poll(r.scq, wc, 32);

	if (n < 0)
		die_ml("polling the send CQ", n);
	for (int i = 0; i < n; i++) {
		if (wc[i].status != ML_WC_SUCCESS)
			die_wc(&wc[i]);
		r.completed = wc[i].wr_id + 1;
	}
	return n;
}

/* Wait until every posted send WR has completed. */
static void drain_send(void)
{
	struct watch w;

	watch_init(&w, "the last send completions");
	while (r.completed < r.posted) {
		if (reap_send())
			w.progress = 1;
		watch_tick(&w);
	}
}

static inline void post_one(uint32_t opcode, uint64_t laddr, uint32_t len, uint64_t raddr,
			    int signaled, int inl)
{
	struct ml_sge sge = { .addr = laddr, .length = len, .lkey = r.mr->lkey };
	struct ml_send_wr wr = {
		.wr_id = r.posted,
		.opcode = opcode,
		.flags = (signaled ? ML_WR_F_SIGNALED : 0) | (inl ? ML_WR_F_INLINE : 0),
		.sg_list = &sge,
		.num_sge = 1,
	};
	int ret;

	if (opcode != ML_WR_SEND) {
		wr.remote_addr = raddr;
		wr.rkey = r.peer.rkey;
	}
	ret = ml_post_send_nodb(r.qp, &wr);
	if (ret < 0)
		die_ml("posting a work request", ret);
	r.posted++;
}

static void doorbell(void)
{
	int ret = ml_qp_doorbell(r.qp);

	if (ret < 0)
		die_ml("ringing the doorbell", ret);
}

/* One receive of @len bytes at @addr; wr_id = receive number. */
static inline void post_recv_at(uint64_t addr, uint64_t len)
{
	struct ml_sge sge = { .addr = addr, .length = (uint32_t)len, .lkey = r.mr->lkey };
	struct ml_recv_wr wr = { .wr_id = r.recv_posted, .sg_list = &sge, .num_sge = 1 };
	int ret = ml_post_recv(r.qp, &wr);

	if (ret < 0)
		die_ml("posting a receive", ret);
	r.recv_posted++;
}

/* The receive buffer of receive number @j. */
static inline uint64_t recv_addr(uint64_t j)
{
	if (o.mode->lat)
		return (uintptr_t)r.buf;		/* the incoming half */
	return (uintptr_t)r.buf + (j % r.nslots) * r.stride;
}

static inline void post_recv_next(void)
{
	post_recv_at(recv_addr(r.recv_posted), r.stride);
}

/*
 * Reap receive completions (no wait): checks status and length, reposts
 * each one.  Returns the number reaped.
 */
static inline int reap_recv(uint64_t size)
{
	struct ml_cqe wc[32];
	int n = ml_cq_poll(r.rcq, wc, 32);

	if (n < 0)
		die_ml("polling the receive CQ", n);
	for (int i = 0; i < n; i++) {
		if (wc[i].status != ML_WC_SUCCESS)
			die_wc(&wc[i]);
		if (wc[i].byte_len != size)
			die("received %u bytes, expected %" PRIu64, wc[i].byte_len, size);
		r.recv_done++;
		post_recv_next();
	}
	return n;
}

/* ------------------------------------------------------------------ */
/* Data pattern (--verify)                                              */
/* ------------------------------------------------------------------ */

static inline uint8_t pattern(uint64_t off, uint64_t size)
{
	uint64_t x = (off + 1) * 0x9E3779B97F4A7C15ull ^ size * 0xBF58476D1CE4E5B9ull;

	return (uint8_t)(x >> 56);
}

static void fill_pattern(uint64_t size)
{
	for (uint64_t off = 0; off < r.buf_len; off++)
		r.buf[off] = pattern(off, size);
}

struct verdict {
	uint64_t ok;
	uint64_t checked;	/* bytes */
	uint64_t bad_off;
	uint64_t got;
	uint64_t want;
};

/*
 * Check the slots of the last min(count, nslots) messages of this size
 * (global numbers first .. first + count - 1): each holds @size bytes of
 * the pattern.
 */
static struct verdict verify_slots(uint64_t first, uint64_t count, uint64_t size)
{
	struct verdict v = { .ok = 1 };
	uint64_t n = count < r.nslots ? count : r.nslots;

	for (uint64_t m = 0; m < n; m++) {
		uint64_t g = first + count - 1 - m;
		uint64_t base = (g % r.nslots) * r.stride;

		for (uint64_t k = 0; k < size; k++) {
			uint8_t want = pattern(base + k, size);

			if (r.buf[base + k] != want) {
				v.ok = 0;
				v.bad_off = base + k;
				v.got = r.buf[base + k];
				v.want = want;
				return v;
			}
		}
		v.checked += size;
	}
	return v;
}

/* ------------------------------------------------------------------ */
/* Results                                                              */
/* ------------------------------------------------------------------ */

struct result {
	uint64_t size;
	uint64_t iters;
	/* lat, microseconds */
	double min, median, mean, p99, p999, max;
	/* bw */
	double seconds, mbps, gbps, msgps;
	int verified;		/* -1: not asked; 0 failed; 1 ok */
};

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

/* Nearest-rank percentile of sorted @s (n > 0). */
static uint64_t pct(const uint64_t *s, uint64_t n, double p)
{
	uint64_t rank = (uint64_t)ceil(p * (double)n);

	if (rank < 1)
		rank = 1;
	if (rank > n)
		rank = n;
	return s[rank - 1];
}

static void lat_stats(struct result *res, uint64_t *s, uint64_t n, double div)
{
	double sum = 0;

	qsort(s, n, sizeof(*s), cmp_u64);
	for (uint64_t i = 0; i < n; i++)
		sum += (double)s[i];
	res->iters = n;
	res->min = s[0] / div / 1e3;
	res->max = s[n - 1] / div / 1e3;
	res->median = pct(s, n, 0.5) / div / 1e3;
	res->p99 = pct(s, n, 0.99) / div / 1e3;
	res->p999 = pct(s, n, 0.999) / div / 1e3;
	res->mean = sum / (double)n / div / 1e3;
}

static const char *line =
	"---------------------------------------------------------------------------------------\n";

static void print_header(void)
{
	const struct ml_port_attr *p = &r.info.ports[0];
	const char *ifn = r.info.port_ifname[0][0] ? r.info.port_ifname[0] : "?";

	if (o.json)
		return;
	printf("%s", line);
	printf(" megalink-perf %s: %s (%s side)\n", o.mode->name, o.mode->title,
	       is_client ? "client" : "server");
	printf(" device %s node 0x%x qpn %u (port %s, mtu %u) <-> node 0x%x qpn %u\n",
	       ml_device_name(r.dev), r.info.node_id, ml_qp_num(r.qp), ifn, p->mtu,
	       r.peer.node_id, r.peer.qpn);
	if (o.duration_ms)
		printf(" duration %.3f s per size", o.duration_ms / 1e3);
	else
		printf(" iterations %" PRIu64 " per size", o.iters);
	if (o.mode->lat)
		printf(" | one message in flight");
	else
		printf(" | tx depth %u | completion every %u", o.tx_depth, o.cq_mod);
	if (o.mode->op == OP_SEND)
		printf(" | rx depth %u", o.rx_depth);
	printf("\n inline %s | verify %s | clock CLOCK_MONOTONIC\n",
	       o.inl ? (r.max_inline ? "up to 64 bytes" : "off (the QP has none)") : "off",
	       o.verify ? "on" : "off");
	if (o.mode->lat && o.mode->op != OP_READ)
		printf(" latency = HALF of the measured round trip (RTT/2), as perftest reports it\n");
	else if (o.mode->lat)
		printf(" latency = the whole READ round trip (not halved), as ib_read_lat reports it\n");
	else
		printf(" MB/s = 10^6 bytes/s, Gbit/s = 10^9 bit/s, first post to last completion\n");
	printf("%s", line);
	if (o.mode->lat)
		printf(" %8s %11s %10s %10s %10s %10s %10s %10s\n", "#bytes", "#iterations",
		       "min[us]", "median[us]", "mean[us]", "p99[us]", "p99.9[us]", "max[us]");
	else
		printf(" %8s %11s %10s %12s %11s %13s%s\n", "#bytes", "#iterations", "seconds",
		       "BW[MB/s]", "BW[Gbit/s]", "MsgRate[1/s]", o.verify ? "  verify" : "");
}

static void print_result(const struct result *res)
{
	const char *lat_type = o.mode->op == OP_READ ? "rtt" : "rtt/2";

	if (o.json) {
		printf("{\"mode\":\"%s\",\"size\":%" PRIu64 ",\"iterations\":%" PRIu64,
		       o.mode->name, res->size, res->iters);
		if (o.mode->lat)
			printf(",\"unit\":\"us\",\"latency\":\"%s\",\"min\":%.3f,\"median\":%.3f,"
			       "\"p99\":%.3f,\"p999\":%.3f,\"max\":%.3f,\"mean\":%.3f",
			       lat_type, res->min, res->median, res->p99, res->p999, res->max,
			       res->mean);
		else
			printf(",\"seconds\":%.6f,\"MB/s\":%.3f,\"Gbit/s\":%.4f,\"msg/s\":%.1f,"
			       "\"tx_depth\":%u,\"cq_mod\":%u", res->seconds, res->mbps, res->gbps,
			       res->msgps, o.tx_depth, o.cq_mod);
		if (res->verified >= 0)
			printf(",\"verify\":%s", res->verified ? "true" : "false");
		printf(",\"inline\":%s,\"device\":\"%s\",\"node\":%u,\"peer_node\":%u}\n",
		       o.inl && r.max_inline && res->size <= r.max_inline &&
		       o.mode->op != OP_READ ? "true" : "false",
		       ml_device_name(r.dev), r.info.node_id, r.peer.node_id);
		return;
	}
	if (o.mode->lat)
		printf(" %8" PRIu64 " %11" PRIu64 " %10.2f %10.2f %10.2f %10.2f %10.2f %10.2f\n",
		       res->size, res->iters, res->min, res->median, res->mean, res->p99,
		       res->p999, res->max);
	else
		printf(" %8" PRIu64 " %11" PRIu64 " %10.3f %12.2f %11.4f %13.0f%s\n", res->size,
		       res->iters, res->seconds, res->mbps, res->gbps, res->msgps,
		       res->verified < 0 ? "" : res->verified ? "  OK" : "  FAILED");
}

/* The result travels to the server as doubles' bit patterns. */
static uint64_t dbits(double d)
{
	uint64_t u;

	memcpy(&u, &d, sizeof(u));
	return u;
}

static double bitsd(uint64_t u)
{
	double d;

	memcpy(&d, &u, sizeof(d));
	return d;
}

static void send_report(const struct result *res)
{
	uint64_t v[11] = {
		res->iters, (uint64_t)(int64_t)res->verified,
		o.mode->lat ? dbits(res->min) : dbits(res->seconds),
		o.mode->lat ? dbits(res->median) : dbits(res->mbps),
		o.mode->lat ? dbits(res->mean) : dbits(res->gbps),
		o.mode->lat ? dbits(res->p99) : dbits(res->msgps),
		dbits(res->p999), dbits(res->max),
	};

	msg_send(M_REPORT, v, 8);
}

static void recv_report(struct result *res)
{
	uint64_t v[MSG_WORDS];

	msg_recv(M_REPORT, 0, v);
	res->iters = v[0];
	res->verified = (int)(int64_t)v[1];
	if (o.mode->lat) {
		res->min = bitsd(v[2]);
		res->median = bitsd(v[3]);
		res->mean = bitsd(v[4]);
		res->p99 = bitsd(v[5]);
		res->p999 = bitsd(v[6]);
		res->max = bitsd(v[7]);
	} else {
		res->seconds = bitsd(v[2]);
		res->mbps = bitsd(v[3]);
		res->gbps = bitsd(v[4]);
		res->msgps = bitsd(v[5]);
	}
}

/* ------------------------------------------------------------------ */
/* Latency                                                              */
/* ------------------------------------------------------------------ */

/* Sample storage, growing in -D mode. */
static uint64_t *samples;
static uint64_t samples_cap;

static void sample_put(uint64_t i, uint64_t v)
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

static inline int use_inline(uint64_t size)
{
	return o.inl && o.mode->op != OP_READ && size <= r.max_inline;
}

/* Make room in the SQ: every WR of a ping-pong is signaled. */
static inline void sq_room(struct watch *w)
{
	while (r.posted - r.completed >= r.sq_size) {
		if (reap_send())
			w->progress = 1;
		watch_tick(w);
	}
}

/* The last byte of the incoming half, written by the kernel on arrival. */
static inline uint8_t last_in(uint64_t size)
{
	return __atomic_load_n(r.buf + size - 1, __ATOMIC_ACQUIRE);
}

/*
 * write_lat, both sides.  The client writes first; each side then waits
 * for the peer's message (its last byte becomes the message number) and
 * answers.  The server stops when the client's END arrives.  Returns the
 * number of round trips.
 */
static uint64_t write_pingpong(uint64_t size, uint64_t iters, uint64_t end_ns)
{
	uint8_t *out_last = r.buf + r.stride + size - 1;
	uint64_t out = (uintptr_t)r.buf + r.stride;
	int inl = use_inline(size);
	struct watch w;
	uint64_t i;

	watch_init(&w, is_client ? "the server's RDMA WRITE" : "the client's RDMA WRITE");
	for (i = 0;; i++) {
		uint8_t val = (uint8_t)(i + 1);
		uint64_t t0 = 0;

		if (is_client) {
			if (end_ns ? now_ns() >= end_ns : i == iters)
				break;
			t0 = now_ns();
			*out_last = val;
			sq_room(&w);
			post_one(ML_WR_WRITE, out, (uint32_t)size, r.peer.addr, 1, inl);
			doorbell();
		}
		while (last_in(size) != val) {
			reap_send();
			if (watch_tick(&w))
				return i;	/* server: END */
		}
		w.progress = 1;
		if (is_client) {
			sample_put(i, now_ns() - t0);
		} else {
			*out_last = val;
			sq_room(&w);
			post_one(ML_WR_WRITE, out, (uint32_t)size, r.peer.addr, 1, inl);
			doorbell();
		}
	}
	return i;
}

/* send_lat, both sides, as write_pingpong() with SEND and RECV. */
static uint64_t send_pingpong(uint64_t size, uint64_t iters, uint64_t end_ns)
{
	uint64_t out = (uintptr_t)r.buf + r.stride;
	int inl = use_inline(size);
	struct watch w;
	uint64_t i;

	watch_init(&w, is_client ? "the server's SEND" : "the client's SEND");
	for (i = 0;; i++) {
		uint64_t t0 = 0, want = r.recv_done + 1;

		if (is_client) {
			if (end_ns ? now_ns() >= end_ns : i == iters)
				break;
			t0 = now_ns();
			sq_room(&w);
			post_one(ML_WR_SEND, out, (uint32_t)size, 0, 1, inl);
			doorbell();
		}
		while (r.recv_done < want) {
			reap_recv(size);
			reap_send();
			if (watch_tick(&w))
				return i;
		}
		w.progress = 1;
		if (is_client) {
			sample_put(i, now_ns() - t0);
		} else {
			sq_room(&w);
			post_one(ML_WR_SEND, out, (uint32_t)size, 0, 1, inl);
			doorbell();
		}
	}
	return i;
}

/* read_lat, client: one READ at a time of the server's outgoing half. */
static uint64_t read_lat_client(uint64_t size, uint64_t iters, uint64_t end_ns)
{
	struct watch w;
	uint64_t i;

	watch_init(&w, "a READ completion");
	for (i = 0; end_ns ? now_ns() < end_ns : i < iters; i++) {
		uint64_t t0 = now_ns();

		post_one(ML_WR_READ, (uintptr_t)r.buf, (uint32_t)size, r.peer.addr + r.stride, 1, 0);
		doorbell();
		while (r.completed < r.posted) {
			reap_send();
			watch_tick(&w);
		}
		sample_put(i, now_ns() - t0);
		w.progress = 1;
	}
	return i;
}

/* ------------------------------------------------------------------ */
/* Bandwidth                                                            */
/* ------------------------------------------------------------------ */

/*
 * Client: keep tx_depth WRs outstanding, signal every cq_mod-th and the
 * last; WR g uses slot g % nslots here and at the peer.  Returns the
 * number of WRs; *ns the time from the first post to the last completion.
 */
static uint64_t bw_client(uint64_t size, uint64_t iters, uint64_t end_ns, uint64_t *ns)
{
	uint32_t opcode = o.mode->op == OP_WRITE ? ML_WR_WRITE :
			  o.mode->op == OP_SEND ? ML_WR_SEND : ML_WR_READ;
	uint64_t n = 0, t0;
	int inl = use_inline(size), stop = 0;
	const char *what = o.mode->op == OP_WRITE ? "RDMA WRITE completions" :
			   o.mode->op == OP_SEND ? "SEND completions" : "READ completions";
	struct watch w;

	watch_init(&w, what);
	t0 = now_ns();
	for (;;) {
		int batch = 0;

		while (!stop && r.posted - r.completed < o.tx_depth) {
			uint64_t g = r.posted, slot = (g % r.nslots) * r.stride;
			int last;

			if (end_ns)
				last = (n & 7) == 7 ? now_ns() >= end_ns : 0;
			else
				last = n + 1 == iters;
			post_one(opcode, (uintptr_t)r.buf + slot, (uint32_t)size,
				 r.peer.addr + slot, last || (n + 1) % o.cq_mod == 0, inl);
			n++;
			if (last)
				stop = 1;
			if (++batch == 64)
				break;
		}
		if (batch)
			doorbell();
		if (reap_send())
			w.progress = 1;
		if (stop && r.completed == r.posted)
			break;
		watch_tick(&w);
	}
	*ns = now_ns() - t0;
	return n;
}

/*
 * Server of send_bw: take the client's messages, reposting each receive at
 * once, until its END has come (*v: count, number of its first SEND) and
 * that many messages have arrived.
 */
static void send_bw_server(uint64_t size, uint64_t *v)
{
	uint64_t first = r.recv_done;
	struct watch w;

	watch_init(&w, "the client's SENDs");
	for (;;) {
		if (reap_recv(size))
			w.progress = 1;
		if (watch_tick(&w))
			break;
	}
	msg_recv(M_END, 0, v);
	if (v[1] != first)
		die("the client's first SEND is number %" PRIu64 ", this side expected %" PRIu64,
		    v[1], first);
	while (r.recv_done < first + v[0]) {
		if (reap_recv(size))
			w.progress = 1;
		watch_tick(&w);
	}
}

/* ------------------------------------------------------------------ */
/* One size                                                             */
/* ------------------------------------------------------------------ */

static int client_size(uint64_t size)
{
	uint64_t v[MSG_WORDS], n, ns = 0, first_send;
	uint64_t end_ns = 0;
	struct result res = { .size = size, .verified = -1 };

	/* Prepare the data: the pattern at the sender of the data. */
	if (o.verify && o.mode->op != OP_READ)
		fill_pattern(size);
	else if (o.verify)
		memset(r.buf, 0, r.buf_len);
	if (o.mode->lat)
		memset(r.buf, 0, r.stride);	/* the incoming half */

	msg_send(M_START, (uint64_t[]){ size }, 1);
	msg_recv(M_READY, 0, v);

	first_send = r.posted;
	if (o.duration_ms)
		end_ns = now_ns() + o.duration_ms * 1000000ull;
	if (o.mode->lat) {
		if (o.mode->op == OP_WRITE)
			n = write_pingpong(size, o.iters, end_ns);
		else if (o.mode->op == OP_SEND)
			n = send_pingpong(size, o.iters, end_ns);
		else
			n = read_lat_client(size, o.iters, end_ns);
		drain_send();
	} else {
		n = bw_client(size, o.iters, end_ns, &ns);
	}

	msg_send(M_END, (uint64_t[]){ n, first_send }, 2);
	msg_recv(M_RESULT, 0, v);
	if (v[0] != 1) {
		res.verified = 0;
		fprintf(stderr, PROG " client: verify (server side), size %" PRIu64
			": byte %" PRIu64 " of the server's buffer is 0x%02x, expected 0x%02x\n",
			size, v[2], (unsigned int)v[3], (unsigned int)v[4]);
	} else if (v[1]) {
		res.verified = 1;	/* the server checked v[1] bytes */
	}
	if (o.verify && o.mode->op == OP_READ) {
		struct verdict vd = verify_slots(first_send, n, size);

		res.verified = (int)vd.ok;
		if (!vd.ok)
			fprintf(stderr, PROG " client: verify, size %" PRIu64 ": byte %" PRIu64
				" of the READ data is 0x%02x, expected 0x%02x\n", size, vd.bad_off,
				(unsigned int)vd.got, (unsigned int)vd.want);
	}

	if (o.mode->lat) {
		if (!n)
			die("no iteration ran in %.3f s", o.duration_ms / 1e3);
		lat_stats(&res, samples, n, o.mode->op == OP_READ ? 1.0 : 2.0);
	} else {
		double s = ns / 1e9;

		res.iters = n;
		res.seconds = s;
		res.mbps = (double)n * (double)size / s / 1e6;
		res.gbps = (double)n * (double)size * 8 / s / 1e9;
		res.msgps = (double)n / s;
	}
	send_report(&res);
	print_result(&res);
	return res.verified == 0 ? -1 : 0;
}

static int server_size(uint64_t size)
{
	uint64_t v[MSG_WORDS], n = 0, first, count;
	struct verdict vd = { .ok = 1 };
	struct result res = { .size = size, .verified = -1 };

	if (o.verify && o.mode->op == OP_READ)
		fill_pattern(size);
	else if (o.verify)
		memset(r.buf, 0, r.buf_len);
	if (o.mode->lat)
		memset(r.buf, 0, r.stride);
	msg_send(M_READY, NULL, 0);

	if (o.mode->lat && o.mode->op == OP_WRITE)
		n = write_pingpong(size, 0, 0);
	else if (o.mode->lat && o.mode->op == OP_SEND)
		n = send_pingpong(size, 0, 0);
	if (!o.mode->lat && o.mode->op == OP_SEND)
		send_bw_server(size, v);	/* reads the END */
	else
		msg_recv(M_END, 0, v);
	count = v[0];
	first = v[1];
	if (o.mode->lat && o.mode->op != OP_READ && n != count)
		die("the client counted %" PRIu64 " round trips, this side %" PRIu64, count, n);
	drain_send();
	if (o.verify && o.mode->op != OP_READ) {
		vd = verify_slots(first, count, size);
		if (!vd.ok)
			fprintf(stderr, PROG " server: verify, size %" PRIu64 ": byte %" PRIu64
				" of the buffer is 0x%02x, expected 0x%02x\n", size, vd.bad_off,
				(unsigned int)vd.got, (unsigned int)vd.want);
	}
	msg_send(M_RESULT, (uint64_t[]){ vd.ok, vd.checked, vd.bad_off, vd.got, vd.want }, 5);
	recv_report(&res);
	print_result(&res);
	return vd.ok && res.verified != 0 ? 0 : -1;
}

/* ------------------------------------------------------------------ */
/* main                                                                 */
/* ------------------------------------------------------------------ */

#define CF_ALL		(1U << 0)
#define CF_VERIFY	(1U << 1)
#define CF_INLINE	(1U << 2)

static void exchange_config(void)
{
	uint64_t v[MSG_WORDS];
	struct opts mine = o;
	char note[256] = "";

	if (is_client) {
		uint64_t c[] = {
			PROTO_VERSION, (uint64_t)(o.mode - modes),
			(o.all ? CF_ALL : 0) | (o.verify ? CF_VERIFY : 0) | (o.inl ? CF_INLINE : 0),
			o.size, o.iters, o.duration_ms, o.tx_depth, o.cq_mod, o.rx_depth,
		};

		msg_send(M_CFG, c, 9);
		msg_recv(M_CFG_ACK, 0, v);
		if (v[0] == 1)
			die("the server runs %s, this client asked for %s: start both with "
			    "the same MODE", v[1] < NMODES ? modes[v[1]].name : "?", o.mode->name);
		if (v[0])
			die("the server refused the settings (protocol version %" PRIu64 ")", v[1]);
		return;
	}
	msg_recv(M_CFG, 0, v);
	if (v[0] != PROTO_VERSION) {
		msg_send(M_CFG_ACK, (uint64_t[]){ 2, PROTO_VERSION }, 2);
		die("the client speaks protocol %" PRIu64 ", this server %u", v[0], PROTO_VERSION);
	}
	if (v[1] >= NMODES || &modes[v[1]] != o.mode) {
		msg_send(M_CFG_ACK, (uint64_t[]){ 1, (uint64_t)(o.mode - modes) }, 2);
		die("the client asked for %s, this server runs %s: start both with the same MODE",
		    v[1] < NMODES ? modes[v[1]].name : "?", o.mode->name);
	}
	o.all = !!(v[2] & CF_ALL);
	o.verify = !!(v[2] & CF_VERIFY);
	o.inl = !!(v[2] & CF_INLINE);
	o.size = v[3];
	o.iters = v[4];
	o.duration_ms = v[5];
	o.tx_depth = (uint32_t)v[6];
	o.cq_mod = (uint32_t)v[7];
	o.rx_depth = (uint32_t)v[8];
	if (!o.size || o.size > (1ull << 31) || !o.tx_depth || o.tx_depth > MAX_DEPTH ||
	    !o.cq_mod || !o.rx_depth || o.rx_depth > MAX_DEPTH) {
		msg_send(M_CFG_ACK, (uint64_t[]){ 2, PROTO_VERSION }, 2);
		die("the client sent impossible settings");
	}
	msg_send(M_CFG_ACK, (uint64_t[]){ 0, 0 }, 2);

	/* Options given here that the client's settings override. */
#define DIFF(bit, cond, name)							\
	do {									\
		if ((mine.set & (bit)) && (cond))				\
			snprintf(note + strlen(note), sizeof(note) - strlen(note),	\
				 "%s%s", note[0] ? ", " : "", name);		\
	} while (0)
	DIFF(SET_SIZE, mine.size != o.size || o.all, "-s");
	DIFF(SET_ALL, !o.all, "-a");
	DIFF(SET_ITERS, mine.iters != o.iters || o.duration_ms, "-n");
	DIFF(SET_DUR, mine.duration_ms != o.duration_ms, "-D");
	DIFF(SET_TX, mine.tx_depth != o.tx_depth, "-t");
	DIFF(SET_CQMOD, mine.cq_mod != o.cq_mod, "-Q");
	DIFF(SET_RX, mine.rx_depth != o.rx_depth, "-r");
	DIFF(SET_INLINE, !o.inl, "-I");
	DIFF(SET_VERIFY, !o.verify, "--verify");
#undef DIFF
	if (note[0])
		fprintf(stderr, PROG " server: note: the client's test settings apply, "
			"not this side's %s\n", note);
}

static void exchange_info(void)
{
	uint64_t v[MSG_WORDS];
	uint64_t mine[] = {
		r.info.node_id, ml_qp_num(r.qp), r.mr->rkey, (uintptr_t)r.buf, r.buf_len,
	};

	msg_send(M_INFO, mine, 5);
	msg_recv(M_INFO, 0, v);
	r.peer.node_id = (uint32_t)v[0];
	r.peer.qpn = (uint32_t)v[1];
	r.peer.rkey = (uint32_t)v[2];
	r.peer.addr = v[3];
	r.peer.len = v[4];
	if (r.peer.len != r.buf_len)
		die("the peer's buffer is %" PRIu64 " bytes, this side's %" PRIu64
		    " (different megalink-perf versions?)", r.peer.len, r.buf_len);
	if (r.peer.node_id == r.info.node_id)
		die("the peer has this device's node id 0x%x: both sides use the same "
		    "device?", r.peer.node_id);
}

int main(int argc, char **argv)
{
	struct ml_connect_opts co;
	uint64_t v[MSG_WORDS];
	int failed = 0, nsizes = 0;

	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGPIPE, SIG_IGN);
	parse_args(argc, argv);
	pick_device();
	open_device();

	tcp_setup();
	exchange_config();
	r.max_size = o.all ? ALL_MAX : o.size;

	setup();
	/* Receives may be posted before the QP is connected. */
	if (o.mode->op == OP_SEND && (o.mode->lat || !is_client))
		for (uint32_t i = 0; i < o.rx_depth; i++)
			post_recv_next();
	exchange_info();

	memset(&co, 0, sizeof(co));
	co.rnr_retry = 15;		/* a busy receiver is not an error here */
	co.rnr_timer_ms = 1;
	check(ml_qp_connect(r.qp, r.peer.node_id, r.peer.qpn, &co), "connecting the QP");
	msg_send(M_SYNC, NULL, 0);	/* both connected before anything is sent */
	msg_recv(M_SYNC, 0, v);
	print_header();

	if (is_client) {
		for (uint64_t s = o.all ? ALL_MIN : o.size; s <= (o.all ? ALL_MAX : o.size); s *= 2) {
			if (client_size(s))
				failed = 1;
			nsizes++;
		}
		msg_send(M_DONE, NULL, 0);
	} else {
		while (msg_recv(M_START, M_DONE, v) == M_START) {
			if (v[0] > r.max_size || !v[0])
				die("the client asked for size %" PRIu64 ", the buffers hold %" PRIu64,
				    v[0], r.max_size);
			if (server_size(v[0]))
				failed = 1;
			nsizes++;
		}
	}
	if (!o.json)
		printf("%s", line);
	teardown();
	close(tcp_fd);
	free(samples);
	if (failed)
		die("--verify found a difference");
	return 0;
}
