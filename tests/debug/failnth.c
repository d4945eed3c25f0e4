// SPDX-License-Identifier: MIT
/*
 * failnth: the fault-injection walk of the megalink debug lane (issue 4,
 * "Error paths walked").  Run by tests/debug/failnth.sh inside the debug
 * kernel guest, which builds the topology first:
 *
 *   netns fna: veth fva (and fva2)  <->  netns fnb: veth fvb (and fvb2)
 *
 * For every netlink command and every ioctl / open / mmap / close of the
 * char device that allocates, the Nth allocation of the call is made to
 * fail (/proc/thread-self/fail-nth) for N = 1, 2, ... until a call runs to
 * its end without the fault firing.  After every attempt:
 *   - a failed call must fail with a sensible errno (ENOMEM, ENOBUFS) and
 *     leave no trace: the devices, ports and per-device object counts
 *     (netlink DEV_GET) and the process's pinned pages (VmPin) are what they
 *     were before the call;
 *   - a call that succeeded although the fault fired (the allocation was
 *     optional) must have made a complete, usable object;
 *   - the same call without injection then works and its object is usable;
 *     destroying it brings every count back.
 * One netlink rule: when the reply or the ack of a command is lost
 * (recv() fails with ENOBUFS, the socket's error) the command may have
 * taken effect; that is netlink's contract and is only counted.  Any
 * error carried in the command's own answer means "nothing happened".
 *
 * fail-nth cannot reach the transmit path: the doorbell only queues the
 * QP's work item, which allocates the packets in a kworker.  That path is
 * walked with the failslab attribute instead (probability 100, times K, a
 * stack-trace filter that requires megalink's .text so that only
 * allocations made by megalink code, in any context, fail): for K = 1..
 * ML_FAILNTH_TX_MAX the first K such allocations after a batch of SEND,
 * WRITE, WRITE_IMM and READ is posted fail; every work request must then
 * complete (successfully, after retransmission, with correct data; or
 * with an error status), none may be lost.  A random phase follows (3 %
 * of megalink's allocations fail for ML_FAILNTH_TX_SECONDS).
 *
 * The fail-nth walks use no stack filter: the allocations of the generic
 * paths (netlink skbs, struct file, VMAs, page tables, vmalloc internals)
 * are error paths of the same calls and every one of them must fail
 * cleanly too; the walks stay short (tens of steps) without a filter.
 *
 * No stack filter for fail-nth, but one for the transmit path: failslab
 * with a probability fires in every context of the whole guest, so there
 * the filter (megalink's .text, from the .ko's section sizes and
 * /sys/module/megalink/sections) is what keeps the faults on megalink.
 *
 * Environment: ML_SEED (64-bit seed of the data patterns), ML_FAILNTH_CAP
 * (largest N, 2000), ML_FAILNTH_SECONDS (wall-clock budget, 900),
 * ML_FAILNTH_TX_MAX (12), ML_FAILNTH_TX_SECONDS (8), ML_FAILNTH_ONLY
 * (substring: only the walks whose name contains it), ML_FAILNTH_DRYRUN=1
 * (no fault injection: every walk is one plain call; for kernels without
 * fail-nth, to debug this program), ML_FAILNTH_NOWARN=1 (do not inject
 * inside vmalloc: for a module whose vmalloc calls lack __GFP_NOWARN,
 * whose failures print warn_alloc() call traces that the harness counts
 * as splats; the rings have had it since they moved off vmalloc_user()),
 * ML_FAILNTH_TX_POKE=1 (ring the doorbells
 * again every 0.5 s while waiting for completions: hides the stalled-QP
 * bug so that the rest of the transmit path can be walked).  Both are
 * work-arounds for bugs written up in /work/notes/bugs-failnth.md and are
 * off by default.
 * Output: one line per walk, then "failnth-summary: P F".
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <linux/megalink.h>

#define PAGE		4096UL
#define NS_A		0
#define NS_B		1

static const char *ns_name[2] = { "fna", "fnb" };
static const char *if_a = "fva", *if_a2 = "fva2", *if_b = "fvb";
static const uint32_t node_a = 0xfa, node_b = 0xfb;

static int g_pass, g_fail;
static unsigned int g_cap = 2000;
static bool g_dry;
static const char *g_only;
static uint64_t g_seed;
static int kmsg_fd = -1;

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static const char *ename(int e)
{
	const char *n = strerrorname_np(e);

	return n ? n : "E?";
}

static void kmsg(const char *fmt, ...)
{
	char b[256];
	va_list ap;
	int n;

	if (kmsg_fd < 0)
		return;
	va_start(ap, fmt);
	n = vsnprintf(b, sizeof(b), fmt, ap);
	va_end(ap);
	if (n > 0 && write(kmsg_fd, b, strnlen(b, sizeof(b))) < 0)
		kmsg_fd = -1;
}

static void result(bool ok, const char *fmt, ...)
{
	va_list ap;

	printf("failnth: %s: ", ok ? "PASS" : "FAIL");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	if (ok)
		g_pass++;
	else
		g_fail++;
}

/* ------------------------------------------------------------------ */
/* fail-nth                                                            */
/* ------------------------------------------------------------------ */

static int fn_fd = -1;

/* From here the Nth fault-injectable allocation of this thread fails. */
static void fn_arm(unsigned int n)
{
	char b[16];
	int l;

	if (g_dry)
		return;
	l = snprintf(b, sizeof(b), "%u", n);
	if (pwrite(fn_fd, b, l, 0) != l) {
		printf("failnth: *** cannot write fail-nth: %s\n", strerror(errno));
		exit(1);
	}
}

/* Disarm; true if the fault fired (fail-nth read back as 0). */
static bool fn_disarm(void)
{
	char b[16] = "";
	ssize_t r;

	if (g_dry)
		return false;
	r = pread(fn_fd, b, sizeof(b) - 1, 0);
	if (pwrite(fn_fd, "0", 1, 0) != 1 || r <= 0) {
		printf("failnth: *** cannot read/reset fail-nth: %s\n", strerror(errno));
		exit(1);
	}
	return strtoul(b, NULL, 10) == 0;
}

/* ------------------------------------------------------------------ */
/* Walk bookkeeping                                                     */
/* ------------------------------------------------------------------ */

struct walk {
	char name[96];
	unsigned int n;		/* attempts made */
	unsigned int injected;	/* fault fired, call failed */
	unsigned int absorbed;	/* fault fired, call succeeded anyway */
	unsigned int lost_ack;	/* netlink: effect applied, answer lost */
	int errs[12];
	unsigned int nerrs;
	unsigned int bad;
	double t0;
};

/* ML_FAILNTH_ONLY: comma-separated substrings of walk names. */
static bool walk_selected(const char *name)
{
	char buf[256], *tok, *save = NULL;

	if (!g_only || !*g_only)
		return true;
	snprintf(buf, sizeof(buf), "%s", g_only);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
		if (strstr(name, tok))
			return true;
	return false;
}

static void walk_begin(struct walk *w, const char *name)
{
	memset(w, 0, sizeof(*w));
	snprintf(w->name, sizeof(w->name), "%s", name);
	w->t0 = now_s();
	kmsg("failnth: walk %s\n", name);
	fflush(stdout);
}

static void walk_errno(struct walk *w, int e)
{
	for (unsigned int i = 0; i < w->nerrs; i++)
		if (w->errs[i] == e)
			return;
	if (w->nerrs < sizeof(w->errs) / sizeof(w->errs[0]))
		w->errs[w->nerrs++] = e;
}

static void __attribute__((format(printf, 2, 3))) walk_bad(struct walk *w, const char *fmt, ...)
{
	va_list ap;

	w->bad++;
	if (w->bad > 10)
		return;
	printf("failnth: %s: N=%u: *** ", w->name, w->n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

static void walk_end(struct walk *w)
{
	char es[160] = "";
	size_t o = 0;

	for (unsigned int i = 0; i < w->nerrs && o < sizeof(es) - 16; i++)
		o += snprintf(es + o, sizeof(es) - o, "%s%s", i ? "," : "", ename(w->errs[i]));
	printf("failnth: %s: walked N=1..%u, %u injected failures, errnos {%s}", w->name, w->n,
	       w->injected, es);
	if (w->absorbed)
		printf(", %u absorbed", w->absorbed);
	if (w->lost_ack)
		printf(", %u lost acks", w->lost_ack);
	printf(" (%.1f s)\n", now_s() - w->t0);
	result(!w->bad, "%s%s", w->name, w->bad ? " (see above)" : "");
	fflush(stdout);
}

/* Errors an allocation failure may sensibly turn into. */
static bool errno_ok(int e)
{
	return e == ENOMEM || e == ENOBUFS;
}

/* ------------------------------------------------------------------ */
/* Namespaces                                                           */
/* ------------------------------------------------------------------ */

static int ns_fd[2], ns_orig = -1;

static int ns_open(void)
{
	char p[64];

	ns_orig = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	for (int s = 0; s < 2; s++) {
		snprintf(p, sizeof(p), "/var/run/netns/%s", ns_name[s]);
		ns_fd[s] = open(p, O_RDONLY | O_CLOEXEC);
		if (ns_fd[s] < 0) {
			printf("failnth: *** %s: %s (failnth.sh creates it)\n", p, strerror(errno));
			return -1;
		}
	}
	return ns_orig < 0 ? -1 : 0;
}

/* ------------------------------------------------------------------ */
/* Raw generic netlink                                                  */
/* ------------------------------------------------------------------ */

static uint16_t g_fam;
static uint32_t g_mcgrp;
static uint32_t g_seq = 1;

struct nlreq {
	struct nlmsghdr n;
	struct genlmsghdr g;
	char a[1024];
};

#define RX_MAX		(8u << 20)
#define RX_DGRAMS	4096
static char rxbuf[RX_MAX] __attribute__((aligned(8)));

/* The outcome of one request/answer exchange. */
struct nlx {
	int send_err;		/* errno of send() */
	int nl_err;		/* error carried in NLMSG_ERROR / NLMSG_DONE */
	int recv_err;		/* errno of recv() (ENOBUFS: an answer was lost) */
	bool done;		/* the exchange ended normally */
	unsigned int nmsg;	/* answers of the command (not acks) */
	unsigned int ndg;
	size_t off[RX_DGRAMS], len[RX_DGRAMS];
};
static struct nlx g_x;

static int nlx_err(const struct nlx *x)
{
	if (x->send_err)
		return x->send_err;
	if (x->nl_err)
		return x->nl_err;
	if (!x->done)
		return x->recv_err ? x->recv_err : EPROTO;
	return 0;
}

static int nl_sock(int side)
{
	int s, one = 1, big = 4 << 20;
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	struct timeval tv = { .tv_sec = 10 };

	if (side >= 0 && setns(ns_fd[side], CLONE_NEWNET))
		return -errno;
	s = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC);
	if (side >= 0 && setns(ns_orig, CLONE_NEWNET)) {
		printf("failnth: *** setns back: %s\n", strerror(errno));
		exit(1);
	}
	if (s < 0)
		return -errno;
	if (bind(s, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(s);
		return -errno;
	}
	setsockopt(s, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
	setsockopt(s, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
	setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(s, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof(big));
	return s;
}

static void req_init(struct nlreq *r, uint16_t type, uint8_t cmd, uint16_t flags)
{
	memset(r, 0, sizeof(*r));
	r->n.nlmsg_len = NLMSG_LENGTH(GENL_HDRLEN);
	r->n.nlmsg_type = type;
	r->n.nlmsg_flags = NLM_F_REQUEST | flags;
	r->g.cmd = cmd;
	r->g.version = ML_GENL_VERSION;
}

static void req_put(struct nlreq *r, uint16_t type, const void *d, size_t len)
{
	struct nlattr *na = (void *)((char *)r + NLMSG_ALIGN(r->n.nlmsg_len));

	na->nla_type = type;
	na->nla_len = NLA_HDRLEN + len;
	memcpy((char *)na + NLA_HDRLEN, d, len);
	r->n.nlmsg_len = NLMSG_ALIGN(r->n.nlmsg_len) + NLA_ALIGN(na->nla_len);
}

static void req_u32(struct nlreq *r, uint16_t type, uint32_t v)
{
	req_put(r, type, &v, sizeof(v));
}

static void req_str(struct nlreq *r, uint16_t type, const char *s)
{
	req_put(r, type, s, strlen(s) + 1);
}

/*
 * Send @r and receive every answer into rxbuf.  No allocation and no
 * system call but send() and recv(): this runs with fail-nth armed.
 */
static void nl_xact(int s, struct nlreq *r, struct nlx *x)
{
	bool dump = r->n.nlmsg_flags & NLM_F_DUMP;
	size_t used = 0;

	x->send_err = x->nl_err = x->recv_err = 0;
	x->done = false;
	x->nmsg = x->ndg = 0;
	r->n.nlmsg_seq = ++g_seq;
	if (!dump)
		r->n.nlmsg_flags |= NLM_F_ACK;
	if (send(s, r, r->n.nlmsg_len, 0) < 0) {
		x->send_err = errno;
		return;
	}
	while (!x->done) {
		struct nlmsghdr *h;
		ssize_t n;
		int left;

		if (RX_MAX - used < 65536 || x->ndg == RX_DGRAMS) {
			x->recv_err = EOVERFLOW;
			return;
		}
		n = recv(s, rxbuf + used, 65536, 0);
		if (n < 0) {
			x->recv_err = errno;
			return;
		}
		x->off[x->ndg] = used;
		x->len[x->ndg++] = n;
		left = n;
		for (h = (void *)(rxbuf + used); NLMSG_OK(h, left); h = NLMSG_NEXT(h, left)) {
			if (h->nlmsg_seq != r->n.nlmsg_seq)
				continue;
			if (h->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e = NLMSG_DATA(h);

				x->nl_err = -e->error;
				x->done = true;
			} else if (h->nlmsg_type == NLMSG_DONE) {
				if (h->nlmsg_len >= NLMSG_LENGTH(sizeof(int)))
					x->nl_err = -*(int *)NLMSG_DATA(h);
				x->done = true;
			} else {
				x->nmsg++;
			}
		}
		used += (n + 7) & ~7UL;
	}
}

/* Iterate the answers of the last exchange (type == family only). */
#define NLX_FOR_EACH(x, h, i, left)						\
	for (i = 0; i < (x)->ndg; i++)						\
		for (left = (x)->len[i], h = (void *)(rxbuf + (x)->off[i]);	\
		     NLMSG_OK(h, left); h = NLMSG_NEXT(h, left))		\
			if (h->nlmsg_type == g_fam)

static void nl_parse(const struct nlmsghdr *h, const struct nlattr **tb, int max)
{
	const struct nlattr *a = (const void *)((const char *)NLMSG_DATA(h) + GENL_HDRLEN);
	int left = h->nlmsg_len - NLMSG_LENGTH(GENL_HDRLEN);

	memset(tb, 0, sizeof(*tb) * (max + 1));
	while (left >= (int)NLA_HDRLEN && a->nla_len >= NLA_HDRLEN && a->nla_len <= left) {
		int t = a->nla_type & NLA_TYPE_MASK;

		if (t <= max)
			tb[t] = a;
		left -= NLA_ALIGN(a->nla_len);
		a = (const void *)((const char *)a + NLA_ALIGN(a->nla_len));
	}
}

static uint32_t na_u32(const struct nlattr *a)
{
	uint32_t v;

	if (!a)
		return 0xffffffffu;
	memcpy(&v, (const char *)a + NLA_HDRLEN, sizeof(v));
	return v;
}

static uint64_t na_u64(const struct nlattr *a)
{
	uint64_t v;

	if (!a)
		return ~0ULL;
	memcpy(&v, (const char *)a + NLA_HDRLEN, sizeof(v));
	return v;
}

static const char *na_str(const struct nlattr *a)
{
	return a ? (const char *)a + NLA_HDRLEN : "";
}

/* One plain (uninjected) exchange on a fresh socket: 0 or errno. */
static int nl_plain(int side, struct nlreq *r)
{
	int s = nl_sock(side), e;

	if (s < 0)
		return -s;
	nl_xact(s, r, &g_x);
	e = nlx_err(&g_x);
	close(s);
	return e;
}

static int nl_resolve_family(void)
{
	struct nlreq r;
	const struct nlmsghdr *h;
	unsigned int i;
	int left, e;

	req_init(&r, GENL_ID_CTRL, CTRL_CMD_GETFAMILY, 0);
	r.g.version = 1;
	req_str(&r, CTRL_ATTR_FAMILY_NAME, ML_GENL_NAME);
	e = nl_plain(-1, &r);
	if (e)
		return -e;
	for (i = 0; i < g_x.ndg; i++)
		for (left = g_x.len[i], h = (void *)(rxbuf + g_x.off[i]); NLMSG_OK(h, left);
		     h = NLMSG_NEXT(h, left)) {
			const struct nlattr *tb[CTRL_ATTR_MAX + 1];
			const struct nlattr *g, *gi;
			int gl;

			if (h->nlmsg_type != GENL_ID_CTRL)
				continue;
			nl_parse(h, tb, CTRL_ATTR_MAX);
			if (tb[CTRL_ATTR_FAMILY_ID])
				memcpy(&g_fam, (const char *)tb[CTRL_ATTR_FAMILY_ID] + NLA_HDRLEN, 2);
			g = tb[CTRL_ATTR_MCAST_GROUPS];
			if (!g)
				continue;
			gl = g->nla_len - NLA_HDRLEN;
			for (gi = (const void *)((const char *)g + NLA_HDRLEN); gl >= (int)NLA_HDRLEN;
			     gl -= NLA_ALIGN(gi->nla_len),
			     gi = (const void *)((const char *)gi + NLA_ALIGN(gi->nla_len))) {
				const struct nlattr *f = (const void *)((const char *)gi + NLA_HDRLEN);
				int fl = gi->nla_len - NLA_HDRLEN;
				uint32_t id = 0;
				const char *name = "";

				if (gi->nla_len < NLA_HDRLEN)
					break;
				for (; fl >= (int)NLA_HDRLEN && f->nla_len >= NLA_HDRLEN;
				     fl -= NLA_ALIGN(f->nla_len),
				     f = (const void *)((const char *)f + NLA_ALIGN(f->nla_len))) {
					if (f->nla_type == CTRL_ATTR_MCAST_GRP_ID)
						id = na_u32(f);
					if (f->nla_type == CTRL_ATTR_MCAST_GRP_NAME)
						name = na_str(f);
				}
				if (!strcmp(name, ML_GENL_MCGRP_MONITOR))
					g_mcgrp = id;
			}
		}
	return g_fam ? 0 : -ENOENT;
}

/* ------------------------------------------------------------------ */
/* State snapshots                                                      */
/* ------------------------------------------------------------------ */

struct mldev {
	uint32_t index;
	char name[ML_DEV_NAME_LEN];
	uint32_t node, hello, dead, nports;
	uint32_t ctx, pds, mrs, cqs, qps;
	uint64_t pinned;
};

struct mlport {
	uint32_t dev, port, ifindex;
	char ifname[16];
	uint8_t link;
};

struct snap {
	int nclass;		/* entries of /sys/class/megalink (every netns) */
	int ndev, nport;
	struct mldev dev[8];
	struct mlport port[16];
};

static void dev_from_msg(const struct nlmsghdr *h, struct mldev *d)
{
	const struct nlattr *tb[ML_A_MAX + 1];

	nl_parse(h, tb, ML_A_MAX);
	memset(d, 0, sizeof(*d));
	d->index = na_u32(tb[ML_A_DEV_INDEX]);
	snprintf(d->name, sizeof(d->name), "%s", na_str(tb[ML_A_DEV_NAME]));
	d->node = na_u32(tb[ML_A_NODE_ID]);
	d->hello = na_u32(tb[ML_A_HELLO_MS]);
	d->dead = na_u32(tb[ML_A_DEAD_MS]);
	d->nports = na_u32(tb[ML_A_NUM_PORTS]);
	d->ctx = na_u32(tb[ML_A_NUM_CTX]);
	d->pds = na_u32(tb[ML_A_NUM_PDS]);
	d->mrs = na_u32(tb[ML_A_NUM_MRS]);
	d->cqs = na_u32(tb[ML_A_NUM_CQS]);
	d->qps = na_u32(tb[ML_A_NUM_QPS]);
	d->pinned = na_u64(tb[ML_A_PINNED_PAGES]);
}

static void port_from_msg(const struct nlmsghdr *h, struct mlport *p)
{
	const struct nlattr *tb[ML_A_MAX + 1];

	nl_parse(h, tb, ML_A_MAX);
	memset(p, 0, sizeof(*p));
	p->dev = na_u32(tb[ML_A_DEV_INDEX]);
	p->port = na_u32(tb[ML_A_PORT_INDEX]);
	p->ifindex = na_u32(tb[ML_A_IFINDEX]);
	snprintf(p->ifname, sizeof(p->ifname), "%s", na_str(tb[ML_A_IFNAME]));
	p->link = tb[ML_A_LINK_STATE] ? *((const uint8_t *)tb[ML_A_LINK_STATE] + NLA_HDRLEN) : 0xff;
}

static int snap_side(int side, struct snap *s)
{
	const struct nlmsghdr *h;
	struct nlreq r;
	unsigned int i;
	int left, e;

	memset(s, 0, sizeof(*s));
	req_init(&r, g_fam, ML_CMD_DEV_GET, NLM_F_DUMP);
	e = nl_plain(side, &r);
	if (e)
		return -e;
	NLX_FOR_EACH(&g_x, h, i, left)
		if (s->ndev < 8)
			dev_from_msg(h, &s->dev[s->ndev++]);
	req_init(&r, g_fam, ML_CMD_PORT_GET, NLM_F_DUMP);
	e = nl_plain(side, &r);
	if (e)
		return -e;
	NLX_FOR_EACH(&g_x, h, i, left)
		if (s->nport < 16)
			port_from_msg(h, &s->port[s->nport++]);
	return 0;
}

/* Sides the snapshots read (a walk in fna cannot change fnb). */
static unsigned int g_sides = 3;

static int class_count(void)
{
	struct dirent *de;
	DIR *d = opendir("/sys/class/megalink");
	int n = 0;

	if (!d)
		return -1;
	while ((de = readdir(d)))
		n += de->d_name[0] != '.';
	closedir(d);
	return n;
}

static int snap_all(struct snap s[2])
{
	int e = 0;

	memset(s, 0, 2 * sizeof(*s));
	s[0].nclass = class_count();
	for (int side = 0; side < 2 && !e; side++)
		if (g_sides & (1u << side))
			e = snap_side(side, &s[side]);
	return e;
}

/* Compare; the difference, if any, is described in @why. */
static bool snap_eq(const struct snap *a, const struct snap *b, char *why, size_t wl)
{
	if (a[0].nclass != b[0].nclass) {
		snprintf(why, wl, "%d entries in /sys/class/megalink, expected %d", a[0].nclass,
			 b[0].nclass);
		return false;
	}
	for (int side = 0; side < 2; side++) {
		const struct snap *x = &a[side], *y = &b[side];

		if (x->ndev != y->ndev || x->nport != y->nport) {
			snprintf(why, wl, "%s: %d devices %d ports, expected %d devices %d ports",
				 ns_name[side], x->ndev, x->nport, y->ndev, y->nport);
			return false;
		}
		for (int i = 0; i < x->ndev; i++) {
			const struct mldev *p = &x->dev[i], *q = &y->dev[i];

			if (p->index != q->index || strcmp(p->name, q->name) || p->node != q->node ||
			    p->hello != q->hello || p->dead != q->dead || p->nports != q->nports ||
			    p->ctx != q->ctx || p->pds != q->pds || p->mrs != q->mrs ||
			    p->cqs != q->cqs || p->qps != q->qps || p->pinned != q->pinned) {
				snprintf(why, wl,
					 "%s: %s node %#x hello %u dead %u ports %u ctx %u pds %u mrs %u "
					 "cqs %u qps %u pinned %" PRIu64 ", expected %s node %#x hello %u "
					 "dead %u ports %u ctx %u pds %u mrs %u cqs %u qps %u pinned %" PRIu64,
					 ns_name[side], p->name, p->node, p->hello, p->dead, p->nports,
					 p->ctx, p->pds, p->mrs, p->cqs, p->qps, p->pinned, q->name,
					 q->node, q->hello, q->dead, q->nports, q->ctx, q->pds, q->mrs,
					 q->cqs, q->qps, q->pinned);
				return false;
			}
		}
		for (int i = 0; i < x->nport; i++) {
			const struct mlport *p = &x->port[i], *q = &y->port[i];

			if (p->dev != q->dev || p->port != q->port || strcmp(p->ifname, q->ifname)) {
				snprintf(why, wl, "%s: port %u/%u %s, expected %u/%u %s", ns_name[side],
					 p->dev, p->port, p->ifname, q->dev, q->port, q->ifname);
				return false;
			}
		}
	}
	return true;
}

static const struct mldev *snap_dev(const struct snap *s, int side, int i)
{
	return i < s[side].ndev ? &s[side].dev[i] : NULL;
}

/* Name of the (first) device of @side, "" if none. */
static char dev_name[2][ML_DEV_NAME_LEN];

static int refresh_names(void)
{
	struct snap s[2];
	int e = snap_all(s);

	if (e)
		return e;
	for (int side = 0; side < 2; side++) {
		const struct mldev *d = snap_dev(s, side, 0);

		snprintf(dev_name[side], sizeof(dev_name[side]), "%s", d ? d->name : "");
	}
	return 0;
}

/* Monitor sockets: make the notification paths run (and drain them). */
static int mon_fd[2] = { -1, -1 };

static void mon_open(void)
{
	for (int side = 0; side < 2; side++) {
		int s = nl_sock(side);

		if (s < 0)
			continue;
		if (setsockopt(s, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &g_mcgrp,
			       sizeof(g_mcgrp)) < 0) {
			close(s);
			continue;
		}
		mon_fd[side] = s;
	}
}

static void mon_drain(void)
{
	static char b[65536];

	for (int side = 0; side < 2; side++)
		if (mon_fd[side] >= 0)
			while (recv(mon_fd[side], b, sizeof(b), MSG_DONTWAIT) > 0 ||
			       errno == ENOBUFS)
				;
}

/* ------------------------------------------------------------------ */
/* Netlink commands used as set-up and undo steps                       */
/* ------------------------------------------------------------------ */

static int nl_bind(int side, const char *ifname, const char *dev, uint32_t node)
{
	struct nlreq r;

	req_init(&r, g_fam, ML_CMD_PORT_BIND, 0);
	req_str(&r, ML_A_IFNAME, ifname);
	if (dev) {
		req_str(&r, ML_A_DEV_NAME, dev);
	} else {
		req_u32(&r, ML_A_NODE_ID, node);
		req_u32(&r, ML_A_HELLO_MS, 100);
		req_u32(&r, ML_A_DEAD_MS, 1000);
	}
	return nl_plain(side, &r);
}

static int nl_unbind(int side, const char *ifname)
{
	struct nlreq r;

	req_init(&r, g_fam, ML_CMD_PORT_UNBIND, 0);
	req_str(&r, ML_A_IFNAME, ifname);
	return nl_plain(side, &r);
}

static int nl_dev_set(int side, const char *dev, uint32_t hello, uint32_t dead)
{
	struct nlreq r;

	req_init(&r, g_fam, ML_CMD_DEV_SET, 0);
	req_str(&r, ML_A_DEV_NAME, dev);
	req_u32(&r, ML_A_HELLO_MS, hello);
	req_u32(&r, ML_A_DEAD_MS, dead);
	return nl_plain(side, &r);
}

/* Wait until the first port of each side's device is up. */
static int wait_link_up(int timeout_ms)
{
	double end = now_s() + timeout_ms / 1000.0;

	for (;;) {
		struct snap s[2];
		int up = 0;

		if (snap_all(s) == 0)
			for (int side = 0; side < 2; side++)
				up += s[side].nport >= 1 && s[side].port[0].link == ML_LINK_UP;
		if (up == 2)
			return 0;
		if (now_s() > end)
			return -ETIMEDOUT;
		usleep(50000);
	}
}

static int dev_get(int side, const char *name, struct mldev *d)
{
	const struct nlmsghdr *h;
	struct nlreq r;
	unsigned int i;
	int left, e;

	req_init(&r, g_fam, ML_CMD_DEV_GET, 0);
	req_str(&r, ML_A_DEV_NAME, name);
	e = nl_plain(side, &r);
	if (e)
		return -e;
	NLX_FOR_EACH(&g_x, h, i, left) {
		dev_from_msg(h, d);
		return 0;
	}
	return -ENOENT;
}

/* ------------------------------------------------------------------ */
/* Netlink walks                                                        */
/* ------------------------------------------------------------------ */

struct nlw {
	const char *name;
	int side;
	void (*build)(struct nlreq *r);
	int (*undo)(void);		/* restore the state before the call; NULL: read-only */
	unsigned int min_msgs;		/* answers a successful call must bring */
};

/* One exchange on a fresh socket, with fail-nth = @n (0: none). */
static unsigned int nlw_nmsg;	/* answers of the last nlw_call() */

static int nlw_call(const struct nlw *w, unsigned int n, bool *fired, int *where)
{
	struct nlreq r;
	int s;

	w->build(&r);
	s = nl_sock(w->side);
	if (s < 0)
		return -s;
	mon_drain();
	if (n)
		fn_arm(n);
	nl_xact(s, &r, &g_x);
	*fired = n ? fn_disarm() : false;
	close(s);
	*where = g_x.send_err ? 0 : g_x.nl_err ? 1 : 2;
	nlw_nmsg = g_x.nmsg;
	return nlx_err(&g_x);
}

static void nl_walk(const struct nlw *w)
{
	static const char *wname[] = { "send", "answer", "recv" };
	struct snap base[2], eff[2], now[2];
	struct walk wk;
	char why[512];
	bool fired;
	int e, where;

	if (!walk_selected(w->name))
		return;
	walk_begin(&wk, w->name);
	g_sides = 1u << w->side;
	if (snap_all(base)) {
		walk_bad(&wk, "cannot read the state");
		goto out;
	}
	/* Reference: the call without injection, its effect, and the undo. */
	e = nlw_call(w, 0, &fired, &where);
	if (e || nlw_nmsg < w->min_msgs) {
		walk_bad(&wk, "the call fails without injection: %s, %u answers", ename(e), nlw_nmsg);
		goto out;
	}
	if (snap_all(eff)) {
		walk_bad(&wk, "cannot read the state");
		goto out;
	}
	if (w->undo) {
		if ((e = w->undo()) || snap_all(now) || !snap_eq(now, base, why, sizeof(why))) {
			walk_bad(&wk, "undo does not restore the state (%s): %s", ename(e), why);
			goto out;
		}
	} else if (!snap_eq(eff, base, why, sizeof(why))) {
		walk_bad(&wk, "a read-only call changed the state: %s", why);
		goto out;
	}

	for (wk.n = 1; wk.n <= g_cap; wk.n++) {
		bool isb, ise;

		e = nlw_call(w, wk.n, &fired, &where);
		if (snap_all(now)) {
			walk_bad(&wk, "cannot read the state");
			break;
		}
		isb = snap_eq(now, base, why, sizeof(why));
		ise = snap_eq(now, eff, why, sizeof(why));
		if (!e) {
			if (nlw_nmsg < w->min_msgs)
				walk_bad(&wk, "succeeded with %u answers, expected %u", nlw_nmsg,
					 w->min_msgs);
			if (!ise)
				walk_bad(&wk, "succeeded but the state is not the call's result: %s",
					 why);
			if (fired)
				wk.absorbed++;
			if (w->undo && ((e = w->undo()) || snap_all(now) ||
					!snap_eq(now, base, why, sizeof(why)))) {
				walk_bad(&wk, "undo failed (%s): %s", ename(e), why);
				break;
			}
			if (!fired)
				break;
			continue;
		}
		if (!fired) {
			walk_bad(&wk, "failed with %s at %s although no fault was injected",
				 ename(e), wname[where]);
			break;
		}
		wk.injected++;
		walk_errno(&wk, e);
		if (!errno_ok(e))
			walk_bad(&wk, "unexpected errno %s (at %s)", ename(e), wname[where]);
		if (ise && !isb) {
			if (where == 2 && e == ENOBUFS)
				wk.lost_ack++;
			else
				walk_bad(&wk, "half-made: the command failed with %s (in its %s) "
					 "but took effect", ename(e), wname[where]);
			if (w->undo && ((e = w->undo()) || snap_all(now) ||
					!snap_eq(now, base, why, sizeof(why)))) {
				walk_bad(&wk, "undo failed (%s): %s", ename(e), why);
				break;
			}
		} else if (!isb) {
			snap_eq(now, base, why, sizeof(why));
			walk_bad(&wk, "after failing with %s the state is neither before nor after: %s",
				 ename(e), why);
			break;
		}
		/* The same call without injection works. */
		e = nlw_call(w, 0, &fired, &where);
		if (e || nlw_nmsg < w->min_msgs) {
			walk_bad(&wk, "the next call without injection fails: %s, %u answers",
				 ename(e), nlw_nmsg);
			break;
		}
		if (snap_all(now) || !snap_eq(now, eff, why, sizeof(why))) {
			walk_bad(&wk, "the next call's state is wrong: %s", why);
			break;
		}
		if (w->undo && ((e = w->undo()) || snap_all(now) ||
				!snap_eq(now, base, why, sizeof(why)))) {
			walk_bad(&wk, "undo failed (%s): %s", ename(e), why);
			break;
		}
	}
	if (wk.n > g_cap)
		walk_bad(&wk, "still failing at the cap N=%u", g_cap);
out:
	g_sides = 3;
	walk_end(&wk);
}

/* Builders.  Device names are looked up when the request is built. */
static void b_bind_a(struct nlreq *r)
{
	req_init(r, g_fam, ML_CMD_PORT_BIND, 0);
	req_str(r, ML_A_IFNAME, if_a);
	req_u32(r, ML_A_NODE_ID, node_a);
	req_u32(r, ML_A_HELLO_MS, 100);
	req_u32(r, ML_A_DEAD_MS, 1000);
}

static int u_bind_a(void)
{
	return nl_unbind(NS_A, if_a);
}

static void b_bind_a2(struct nlreq *r)
{
	req_init(r, g_fam, ML_CMD_PORT_BIND, 0);
	req_str(r, ML_A_IFNAME, if_a2);
	req_str(r, ML_A_DEV_NAME, dev_name[NS_A]);
}

static int u_bind_a2(void)
{
	return nl_unbind(NS_A, if_a2);
}

static void b_unbind_a2(struct nlreq *r)
{
	req_init(r, g_fam, ML_CMD_PORT_UNBIND, 0);
	req_str(r, ML_A_DEV_NAME, dev_name[NS_A]);
	req_u32(r, ML_A_PORT_INDEX, 1);
}

static int u_unbind_a2(void)
{
	return nl_bind(NS_A, if_a2, dev_name[NS_A], 0);
}

static void b_unbind_a(struct nlreq *r)
{
	req_init(r, g_fam, ML_CMD_PORT_UNBIND, 0);
	req_str(r, ML_A_IFNAME, if_a);
}

static int u_unbind_a(void)
{
	return nl_bind(NS_A, if_a, NULL, node_a);
}

static void b_dev_set(struct nlreq *r)
{
	req_init(r, g_fam, ML_CMD_DEV_SET, 0);
	req_str(r, ML_A_DEV_NAME, dev_name[NS_A]);
	req_u32(r, ML_A_HELLO_MS, 200);
	req_u32(r, ML_A_DEAD_MS, 2000);
}

static int u_dev_set(void)
{
	return nl_dev_set(NS_A, dev_name[NS_A], 100, 1000);
}

static void b_dev_get(struct nlreq *r)
{
	req_init(r, g_fam, ML_CMD_DEV_GET, 0);
	req_str(r, ML_A_DEV_NAME, dev_name[NS_A]);
}

static void b_dev_dump(struct nlreq *r)
{
	req_init(r, g_fam, ML_CMD_DEV_GET, NLM_F_DUMP);
}

static void b_port_get(struct nlreq *r)
{
	req_init(r, g_fam, ML_CMD_PORT_GET, 0);
	req_str(r, ML_A_IFNAME, if_a);
}

static void b_port_dump(struct nlreq *r)
{
	req_init(r, g_fam, ML_CMD_PORT_GET, NLM_F_DUMP);
	req_str(r, ML_A_DEV_NAME, dev_name[NS_A]);
}

static void b_neigh_dump(struct nlreq *r)
{
	req_init(r, g_fam, ML_CMD_NEIGH_GET, NLM_F_DUMP);
}

static void b_neigh_dump_dev(struct nlreq *r)
{
	req_init(r, g_fam, ML_CMD_NEIGH_GET, NLM_F_DUMP);
	req_str(r, ML_A_DEV_NAME, dev_name[NS_A]);
}

static void b_stats_get(struct nlreq *r)
{
	req_init(r, g_fam, ML_CMD_STATS_GET, 0);
	req_str(r, ML_A_IFNAME, if_a);
}

static void b_stats_dump(struct nlreq *r)
{
	req_init(r, g_fam, ML_CMD_STATS_GET, NLM_F_DUMP);
}

static void b_qp_dump(struct nlreq *r)
{
	req_init(r, g_fam, ML_CMD_QP_GET, NLM_F_DUMP);
	req_str(r, ML_A_DEV_NAME, dev_name[NS_A]);
}

/* ------------------------------------------------------------------ */
/* Char device helpers                                                  */
/* ------------------------------------------------------------------ */

static int xio(int fd, unsigned long cmd, void *arg)
{
	return ioctl(fd, cmd, arg) ? -errno : 0;
}

static int dev_open(int side)
{
	char p[64];
	int fd;

	snprintf(p, sizeof(p), "/dev/megalink/%s", dev_name[side]);
	fd = open(p, O_RDWR | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

static int pd_alloc(int fd, uint32_t *h)
{
	struct ml_alloc_pd a = { .size = sizeof(a) };
	int r = xio(fd, ML_IOCTL_ALLOC_PD, &a);

	if (!r)
		*h = a.out_pd;
	return r;
}

static int obj_destroy(int fd, uint32_t type, uint32_t h)
{
	struct ml_destroy d = { .size = sizeof(d), .type = type, .handle = h };

	return xio(fd, ML_IOCTL_DESTROY, &d);
}

static void mr_prep(struct ml_reg_mr *m, uint32_t pd, const void *addr, uint64_t len)
{
	memset(m, 0, sizeof(*m));
	m->size = sizeof(*m);
	m->pd = pd;
	m->access = ML_ACCESS_ALL;
	m->addr = (uintptr_t)addr;
	m->length = len;
}

static void cq_prep(struct ml_create_cq *c, uint32_t entries)
{
	memset(c, 0, sizeof(*c));
	c->size = sizeof(*c);
	c->entries = entries;
}

static void qp_prep(struct ml_create_qp *c, uint32_t pd, uint32_t cq, uint32_t sq, uint32_t rq)
{
	memset(c, 0, sizeof(*c));
	c->size = sizeof(*c);
	c->pd = pd;
	c->send_cq = cq;
	c->recv_cq = cq;
	c->sq_entries = sq;
	c->rq_entries = rq;
	c->max_send_sge = ML_MAX_SGE;
	c->max_recv_sge = ML_MAX_SGE;
	c->max_inline = ML_MAX_INLINE;
}

static int qp_connect(int fd, uint32_t qp, uint32_t node, uint32_t rqpn, uint32_t tmo)
{
	struct ml_connect_qp c = {
		.size = sizeof(c), .qp = qp, .remote_node = node, .remote_qpn = rqpn,
		.timeout_ms = tmo,
	};

	return xio(fd, ML_IOCTL_CONNECT_QP, &c);
}

static int qp_query(int fd, uint32_t qp, struct ml_query_qp *q)
{
	memset(q, 0, sizeof(*q));
	q->size = sizeof(*q);
	q->qp = qp;
	return xio(fd, ML_IOCTL_QUERY_QP, q);
}

static int qp_notify(int fd, uint32_t qp)
{
	struct ml_notify n = { .size = sizeof(n), .qp = qp };

	return xio(fd, ML_IOCTL_NOTIFY, &n);
}

struct ring {
	void *base;
	size_t size;
	struct ml_ring_hdr *hdr;
	uint8_t *ent;
	uint32_t mask, esz;
};

static int ring_map(int fd, uint64_t off, uint64_t size, struct ring *r)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, off);

	if (p == MAP_FAILED)
		return -errno;
	r->base = p;
	r->size = size;
	r->hdr = p;
	r->ent = (uint8_t *)p + PAGE;
	r->mask = r->hdr->mask;
	r->esz = r->hdr->entry_size;
	return 0;
}

static void ring_unmap(struct ring *r)
{
	if (r->base)
		munmap(r->base, r->size);
	memset(r, 0, sizeof(*r));
}

/* Object counts of @side's device plus this process's pinned pages. */
struct cnt {
	int64_t v[7];	/* ctx pds mrs cqs qps pinned vmpin */
};

static int64_t vm_pin_kb(void)
{
	char line[256];
	int64_t kb = -1;
	FILE *f = fopen("/proc/self/status", "re");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmPin: %" SCNd64, &kb) == 1)
			break;
	fclose(f);
	return kb;
}

static int cnt_get(int side, struct cnt *c)
{
	struct mldev d;
	int e = dev_get(side, dev_name[side], &d);

	if (e)
		return e;
	c->v[0] = d.ctx;
	c->v[1] = d.pds;
	c->v[2] = d.mrs;
	c->v[3] = d.cqs;
	c->v[4] = d.qps;
	c->v[5] = d.pinned;
	c->v[6] = vm_pin_kb();
	return 0;
}

static const char *cnt_names[7] = { "ctx", "pds", "mrs", "cqs", "qps", "pinned", "VmPin" };

/* a == b + delta?  Describes the first difference in @why. */
static bool cnt_eq(const struct cnt *a, const struct cnt *b, const struct cnt *delta, char *why,
		   size_t wl)
{
	for (int i = 0; i < 7; i++) {
		int64_t want = b->v[i] + (delta ? delta->v[i] : 0);

		if (a->v[i] != want) {
			snprintf(why, wl, "%s is %" PRId64 ", expected %" PRId64, cnt_names[i],
				 a->v[i], want);
			return false;
		}
	}
	return true;
}

/* ------------------------------------------------------------------ */
/* Char device walks                                                    */
/* ------------------------------------------------------------------ */

/*
 * A walked call.  @pre and @post run around every attempt without
 * injection (objects the call needs); @call runs armed and records what it
 * made in the walk's state; @use checks that object; @undo destroys it.
 */
struct iow {
	const char *name;
	int (*pre)(void);
	int (*call)(void);
	int (*use)(char *why, size_t wl);
	int (*undo)(void);
	int (*post)(void);
};

/* State shared by the walks: the file and the objects they need. */
static struct {
	int fd;			/* the walks' open file */
	uint32_t pd, cq, qp;	/* prerequisites on fd */
	struct ml_create_cq cqa;
	struct ml_create_qp qpa;
	/* the call's argument and result */
	union {
		struct ml_alloc_pd pd;
		struct ml_reg_mr mr;
		struct ml_create_cq cq;
		struct ml_create_qp qp;
		struct ml_query_device qd;
		struct ml_query_limits ql;
		struct ml_query_qp qq;
		struct ml_connect_qp cn;
		struct ml_notify nt;
		struct ml_destroy ds;
	} a;
	int newfd;
	void *map;
	size_t maplen;
	uint64_t mapoff;
	uint8_t *mrbuf;
	size_t mrlen;
	uint32_t cq_entries, sq, rq;
	uint32_t peer_qpn;	/* a QP on B to connect to */
	int peer_fd;
	uint32_t peer_pd, peer_cq, peer_qp;
	struct ml_port_attr ports[ML_MAX_PORTS];
} S;

static int io_walk_call(unsigned int n, int (*call)(void), bool *fired)
{
	int e;

	if (n)
		fn_arm(n);
	e = call();
	*fired = n ? fn_disarm() : false;
	return e;
}

static void io_walk(const struct iow *w)
{
	struct cnt base, eff, now, delta;
	struct walk wk;
	char why[256];
	bool fired, redo_fired;
	int e;

	if (!walk_selected(w->name))
		return;
	walk_begin(&wk, w->name);
	/* Reference run: learn what the call changes. */
	if (w->pre && (e = w->pre())) {
		walk_bad(&wk, "set-up fails: %s", ename(-e));
		goto out;
	}
	if (cnt_get(NS_A, &base)) {
		walk_bad(&wk, "cannot read the counts");
		goto out;
	}
	e = io_walk_call(0, w->call, &fired);
	if (e) {
		walk_bad(&wk, "the call fails without injection: %s", ename(-e));
		goto out;
	}
	cnt_get(NS_A, &eff);
	for (int i = 0; i < 7; i++)
		delta.v[i] = eff.v[i] - base.v[i];
	if (w->use && w->use(why, sizeof(why)))
		walk_bad(&wk, "the object made without injection is not usable: %s", why);
	if (w->undo && (e = w->undo()))
		walk_bad(&wk, "destroying it fails: %s", ename(-e));
	if (w->post && (e = w->post()))
		walk_bad(&wk, "clean-up fails: %s", ename(-e));
	/* With pre/post the counts are checked against the state after pre(). */
	if (!w->post && (cnt_get(NS_A, &now) || !cnt_eq(&now, &base, NULL, why, sizeof(why))))
		walk_bad(&wk, "counts not back after destroying the object: %s", why);
	if (wk.bad)
		goto out;

	for (wk.n = 1; wk.n <= g_cap; wk.n++) {
		if (w->pre && (e = w->pre())) {
			walk_bad(&wk, "set-up fails: %s", ename(-e));
			break;
		}
		if (cnt_get(NS_A, &base)) {
			walk_bad(&wk, "cannot read the counts");
			break;
		}
		e = io_walk_call(wk.n, w->call, &fired);
		if (cnt_get(NS_A, &now)) {
			walk_bad(&wk, "cannot read the counts");
			break;
		}
		if (!e) {
			if (!cnt_eq(&now, &base, &delta, why, sizeof(why)))
				walk_bad(&wk, "succeeded%s but the counts are wrong: %s",
					 fired ? " (fault absorbed)" : "", why);
			if (w->use && w->use(why, sizeof(why)))
				walk_bad(&wk, "succeeded%s but the object is not usable: %s",
					 fired ? " (fault absorbed)" : "", why);
			if (fired)
				wk.absorbed++;
		} else {
			if (!fired) {
				walk_bad(&wk, "failed with %s although no fault was injected",
					 ename(-e));
				break;
			}
			wk.injected++;
			walk_errno(&wk, -e);
			if (!errno_ok(-e))
				walk_bad(&wk, "unexpected errno %s", ename(-e));
			if (!cnt_eq(&now, &base, NULL, why, sizeof(why)))
				walk_bad(&wk, "failed with %s but left something behind: %s",
					 ename(-e), why);
			/* The same call without injection works. */
			e = io_walk_call(0, w->call, &redo_fired);
			if (e) {
				walk_bad(&wk, "the next call without injection fails: %s",
					 ename(-e));
				if (w->post)
					w->post();
				break;
			}
			cnt_get(NS_A, &now);
			if (!cnt_eq(&now, &base, &delta, why, sizeof(why)))
				walk_bad(&wk, "the next call's counts are wrong: %s", why);
			if (w->use && w->use(why, sizeof(why)))
				walk_bad(&wk, "the next call's object is not usable: %s", why);
		}
		if (w->undo && (e = w->undo()))
			walk_bad(&wk, "destroying the object fails: %s", ename(-e));
		if (w->post && (e = w->post()))
			walk_bad(&wk, "clean-up fails: %s", ename(-e));
		if (!w->post) {
			cnt_get(NS_A, &now);
			if (!cnt_eq(&now, &base, NULL, why, sizeof(why)))
				walk_bad(&wk, "counts not back after destroying the object: %s", why);
		}
		if (!fired || wk.bad > 10)
			break;
	}
	if (wk.n > g_cap)
		walk_bad(&wk, "still failing at the cap N=%u", g_cap);
out:
	walk_end(&wk);
}

/* open / close of the char device */
static int c_open(void)
{
	int fd = dev_open(NS_A);

	S.newfd = fd;
	return fd < 0 ? fd : 0;
}

static int use_open(char *why, size_t wl)
{
	uint32_t pd;
	int e = pd_alloc(S.newfd, &pd);

	if (e) {
		snprintf(why, wl, "ALLOC_PD on the new file: %s", ename(-e));
		return -1;
	}
	return 0;	/* the PD goes with the file */
}

static int u_close_new(void)
{
	int e = close(S.newfd) ? -errno : 0;

	S.newfd = -1;
	return e;
}

/* close: a file full of objects */
static int pre_close(void)
{
	struct ml_create_cq c;
	struct ml_create_qp q;
	struct ml_reg_mr m;
	uint32_t pd;
	int fd = dev_open(NS_A), e;

	if (fd < 0)
		return fd;
	S.newfd = fd;
	if ((e = pd_alloc(fd, &pd)))
		return e;
	mr_prep(&m, pd, S.mrbuf + 3, 3 * PAGE);
	if ((e = xio(fd, ML_IOCTL_REG_MR, &m)))
		return e;
	cq_prep(&c, 64);
	if ((e = xio(fd, ML_IOCTL_CREATE_CQ, &c)))
		return e;
	qp_prep(&q, pd, c.out_handle, 16, 16);
	if ((e = xio(fd, ML_IOCTL_CREATE_QP, &q)))
		return e;
	return 0;
}

static int c_close(void)
{
	int e = close(S.newfd) ? -errno : 0;

	S.newfd = -1;
	return e;
}

/* query device / limits */
static int c_query_device(void)
{
	memset(&S.a.qd, 0, sizeof(S.a.qd));
	S.a.qd.size = sizeof(S.a.qd);
	S.a.qd.port_entries = ML_MAX_PORTS;
	S.a.qd.port_entry_size = sizeof(struct ml_port_attr);
	S.a.qd.ports = (uintptr_t)S.ports;
	return xio(S.fd, ML_IOCTL_QUERY_DEVICE, &S.a.qd);
}

static int use_query_device(char *why, size_t wl)
{
	if (S.a.qd.abi_version != ML_ABI_VERSION || S.a.qd.num_ports < 1 ||
	    strcmp(S.a.qd.name, dev_name[NS_A])) {
		snprintf(why, wl, "abi %u ports %u name %s", S.a.qd.abi_version, S.a.qd.num_ports,
			 S.a.qd.name);
		return -1;
	}
	return 0;
}

static int c_query_limits(void)
{
	memset(&S.a.ql, 0, sizeof(S.a.ql));
	S.a.ql.size = sizeof(S.a.ql);
	return xio(S.fd, ML_IOCTL_QUERY_LIMITS, &S.a.ql);
}

/* PD */
static int c_alloc_pd(void)
{
	memset(&S.a.pd, 0, sizeof(S.a.pd));
	S.a.pd.size = sizeof(S.a.pd);
	return xio(S.fd, ML_IOCTL_ALLOC_PD, &S.a.pd);
}

static int use_pd(char *why, size_t wl)
{
	struct ml_reg_mr m;
	int e;

	mr_prep(&m, S.a.pd.out_pd, S.mrbuf, PAGE);
	e = xio(S.fd, ML_IOCTL_REG_MR, &m);
	if (!e)
		e = obj_destroy(S.fd, ML_OBJ_MR, m.out_handle);
	if (e)
		snprintf(why, wl, "an MR on the new PD: %s", ename(-e));
	return e;
}

static int u_pd(void)
{
	return obj_destroy(S.fd, ML_OBJ_PD, S.a.pd.out_pd);
}

/* MR */
static int c_reg_mr(void)
{
	mr_prep(&S.a.mr, S.pd, S.mrbuf + (S.mrlen > PAGE ? 17 : 0), S.mrlen);
	return xio(S.fd, ML_IOCTL_REG_MR, &S.a.mr);
}

static int use_mr(char *why, size_t wl)
{
	if (!S.a.mr.out_handle || !S.a.mr.out_lkey || S.a.mr.out_lkey != S.a.mr.out_rkey) {
		snprintf(why, wl, "handle %u lkey %#x rkey %#x", S.a.mr.out_handle,
			 S.a.mr.out_lkey, S.a.mr.out_rkey);
		return -1;
	}
	return 0;
}

static int u_mr(void)
{
	return obj_destroy(S.fd, ML_OBJ_MR, S.a.mr.out_handle);
}

/* CQ */
static int c_create_cq(void)
{
	cq_prep(&S.a.cq, S.cq_entries);
	return xio(S.fd, ML_IOCTL_CREATE_CQ, &S.a.cq);
}

static int check_ring(int fd, uint64_t off, uint64_t size, uint32_t entries, uint32_t esz,
		      char *why, size_t wl)
{
	struct ring r = { 0 };
	int e = ring_map(fd, off, size, &r);

	if (e) {
		snprintf(why, wl, "mmap of the ring: %s", ename(-e));
		return -1;
	}
	if (r.mask != entries - 1 || r.esz != esz || r.hdr->producer || r.hdr->consumer) {
		snprintf(why, wl, "ring header: mask %u entry_size %u prod %u cons %u", r.mask,
			 r.esz, r.hdr->producer, r.hdr->consumer);
		ring_unmap(&r);
		return -1;
	}
	ring_unmap(&r);
	return 0;
}

static int use_cq(char *why, size_t wl)
{
	if (S.a.cq.entries < S.cq_entries)
		return snprintf(why, wl, "entries %u", S.a.cq.entries), -1;
	return check_ring(S.fd, S.a.cq.out_mmap_offset, S.a.cq.out_mmap_size, S.a.cq.entries,
			  sizeof(struct ml_cqe), why, wl);
}

static int u_cq(void)
{
	return obj_destroy(S.fd, ML_OBJ_CQ, S.a.cq.out_handle);
}

/* QP */
static int c_create_qp(void)
{
	qp_prep(&S.a.qp, S.pd, S.cq, S.sq, S.rq);
	return xio(S.fd, ML_IOCTL_CREATE_QP, &S.a.qp);
}

static int use_qp(char *why, size_t wl)
{
	struct ml_query_qp q;
	int e = qp_query(S.fd, S.a.qp.out_handle, &q);

	if (e || q.state != ML_QPS_INIT || q.qpn != S.a.qp.out_qpn) {
		snprintf(why, wl, "QUERY_QP: %s, state %u qpn %u", ename(-e), q.state, q.qpn);
		return -1;
	}
	if (check_ring(S.fd, S.a.qp.out_sq_offset, S.a.qp.out_sq_size, S.a.qp.sq_entries,
		       sizeof(struct ml_send_wqe), why, wl))
		return -1;
	return check_ring(S.fd, S.a.qp.out_rq_offset, S.a.qp.out_rq_size, S.a.qp.rq_entries,
			  sizeof(struct ml_recv_wqe), why, wl);
}

static int u_qp(void)
{
	return obj_destroy(S.fd, ML_OBJ_QP, S.a.qp.out_handle);
}

/* mmap of a ring */
static int c_mmap(void)
{
	void *p = mmap(NULL, S.maplen, PROT_READ | PROT_WRITE, MAP_SHARED, S.fd, S.mapoff);

	if (p == MAP_FAILED) {
		S.map = NULL;
		return -errno;
	}
	S.map = p;
	return 0;
}

static int use_mmap(char *why, size_t wl)
{
	const struct ml_ring_hdr *h = S.map;

	if (h->mask + 1 == 0 || (h->mask & (h->mask + 1)) || !h->entry_size) {
		snprintf(why, wl, "ring header mask %u entry_size %u", h->mask, h->entry_size);
		return -1;
	}
	return 0;
}

static int u_mmap(void)
{
	int e = munmap(S.map, S.maplen) ? -errno : 0;

	S.map = NULL;
	return e;
}

/* connect: a fresh QP each time */
static int pre_connect(void)
{
	qp_prep(&S.qpa, S.pd, S.cq, 16, 16);
	return xio(S.fd, ML_IOCTL_CREATE_QP, &S.qpa);
}

static int c_connect(void)
{
	memset(&S.a.cn, 0, sizeof(S.a.cn));
	S.a.cn.size = sizeof(S.a.cn);
	S.a.cn.qp = S.qpa.out_handle;
	S.a.cn.remote_node = node_b;
	S.a.cn.remote_qpn = S.peer_qpn;
	return xio(S.fd, ML_IOCTL_CONNECT_QP, &S.a.cn);
}

static int use_connect(char *why, size_t wl)
{
	struct ml_query_qp q;
	int e = qp_query(S.fd, S.qpa.out_handle, &q);

	if (e || q.state != ML_QPS_RTS || q.remote_node != node_b || q.remote_qpn != S.peer_qpn) {
		snprintf(why, wl, "QUERY_QP: %s, state %u remote %#x/%u", ename(-e), q.state,
			 q.remote_node, q.remote_qpn);
		return -1;
	}
	return 0;
}

static int post_connect(void)
{
	return obj_destroy(S.fd, ML_OBJ_QP, S.qpa.out_handle);
}

static int c_query_qp(void)
{
	memset(&S.a.qq, 0, sizeof(S.a.qq));
	S.a.qq.size = sizeof(S.a.qq);
	S.a.qq.qp = S.qp;
	return xio(S.fd, ML_IOCTL_QUERY_QP, &S.a.qq);
}

static int c_notify(void)
{
	memset(&S.a.nt, 0, sizeof(S.a.nt));
	S.a.nt.size = sizeof(S.a.nt);
	S.a.nt.qp = S.qp;
	return xio(S.fd, ML_IOCTL_NOTIFY, &S.a.nt);
}

/* destroy: of each object type, made fresh each time */
static uint32_t dtype;

static int pre_destroy(void)
{
	memset(&S.a.ds, 0, sizeof(S.a.ds));
	S.a.ds.size = sizeof(S.a.ds);
	S.a.ds.type = dtype;
	switch (dtype) {
	case ML_OBJ_PD:
		return pd_alloc(S.fd, &S.a.ds.handle);
	case ML_OBJ_MR: {
		struct ml_reg_mr m;
		int e;

		mr_prep(&m, S.pd, S.mrbuf, 8 * PAGE);
		e = xio(S.fd, ML_IOCTL_REG_MR, &m);
		S.a.ds.handle = m.out_handle;
		return e;
	}
	case ML_OBJ_CQ: {
		struct ml_create_cq c;
		int e;

		cq_prep(&c, 256);
		e = xio(S.fd, ML_IOCTL_CREATE_CQ, &c);
		S.a.ds.handle = c.out_handle;
		return e;
	}
	default: {
		struct ml_create_qp q;
		int e;

		qp_prep(&q, S.pd, S.cq, 64, 64);
		e = xio(S.fd, ML_IOCTL_CREATE_QP, &q);
		if (!e)
			e = qp_connect(S.fd, q.out_handle, node_b, S.peer_qpn, 0);
		S.a.ds.handle = q.out_handle;
		return e;
	}
	}
}

static int c_destroy(void)
{
	return xio(S.fd, ML_IOCTL_DESTROY, &S.a.ds);
}

static int post_nothing(void)
{
	return 0;
}

/* ------------------------------------------------------------------ */
/* Transmit path: failslab with a stack filter                          */
/* ------------------------------------------------------------------ */

#define DBG "/sys/kernel/debug"

static int fa_set(const char *attr, const char *knob, const char *fmt, ...)
{
	char p[128], v[64];
	va_list ap;
	int fd, l;

	snprintf(p, sizeof(p), DBG "/%s/%s", attr, knob);
	va_start(ap, fmt);
	l = vsnprintf(v, sizeof(v), fmt, ap);
	va_end(ap);
	fd = open(p, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (write(fd, v, l) != l) {
		l = -errno;
		close(fd);
		return l;
	}
	close(fd);
	return 0;
}

static long fa_get(const char *attr, const char *knob)
{
	char p[128], v[64] = "";
	int fd;
	ssize_t n;

	snprintf(p, sizeof(p), DBG "/%s/%s", attr, knob);
	fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return LONG_MIN;
	n = read(fd, v, sizeof(v) - 1);
	close(fd);
	return n > 0 ? strtol(v, NULL, 0) : LONG_MIN;
}

static const char *fa_attrs[2] = { "failslab", "fail_page_alloc" };

/* Settings of the fail-nth walks: every allocation counts. */
static int fa_setup_walks(void)
{
	int e = 0;

	for (int i = 0; i < 2; i++) {
		e |= fa_set(fa_attrs[i], "probability", "0");
		e |= fa_set(fa_attrs[i], "interval", "1");
		e |= fa_set(fa_attrs[i], "times", "-1");
		e |= fa_set(fa_attrs[i], "space", "0");
		e |= fa_set(fa_attrs[i], "verbose", "0");
		e |= fa_set(fa_attrs[i], "task-filter", "N");
		e |= fa_set(fa_attrs[i], "ignore-gfp-wait", "N");
		e |= fa_set(fa_attrs[i], "require-start", "0");
		e |= fa_set(fa_attrs[i], "require-end", "%lu", ~0UL);
		e |= fa_set(fa_attrs[i], "reject-start", "0");
		e |= fa_set(fa_attrs[i], "reject-end", "0");
		e |= fa_set(fa_attrs[i], "stacktrace-depth", "32");
	}
	e |= fa_set("fail_page_alloc", "ignore-gfp-highmem", "N");
	e |= fa_set("fail_page_alloc", "min-order", "0");
	e |= fa_set("failslab", "cache-filter", "N");
	return e;
}

/* Back to the kernel's defaults for the parts that follow. */
static void fa_restore(void)
{
	for (int i = 0; i < 2; i++) {
		fa_set(fa_attrs[i], "probability", "0");
		fa_set(fa_attrs[i], "times", "1");
		fa_set(fa_attrs[i], "verbose", "2");
		fa_set(fa_attrs[i], "ignore-gfp-wait", "Y");
		fa_set(fa_attrs[i], "require-start", "0");
		fa_set(fa_attrs[i], "require-end", "%lu", ~0UL);
		fa_set(fa_attrs[i], "reject-start", "0");
		fa_set(fa_attrs[i], "reject-end", "0");
	}
	fa_set("fail_page_alloc", "ignore-gfp-highmem", "Y");
	fa_set("fail_page_alloc", "min-order", "1");
}

/* [start, end) of a kernel function, from /proc/kallsyms. */
static int ksym_range(const char *name, unsigned long *start, unsigned long *end)
{
	char line[512], sym[256], t;
	unsigned long a, prev = 0;
	bool found = false;
	FILE *f = fopen("/proc/kallsyms", "re");

	if (!f)
		return -errno;
	/* kallsyms is sorted by address for the core kernel. */
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%lx %c %255s", &a, &t, sym) != 3)
			continue;
		if (found && a > prev) {
			*end = a;
			fclose(f);
			return 0;
		}
		if (!found && !strcmp(sym, name) && a) {
			found = true;
			prev = a;
			*start = a;
		}
	}
	fclose(f);
	return -ENOENT;
}

/* Megalink's text: the hull of its executable sections (not .init). */
static int module_text(unsigned long *start, unsigned long *end)
{
	const char *ko = getenv("ML_KO");
	unsigned long lo = ~0UL, hi = 0;
	Elf64_Ehdr eh;
	Elf64_Shdr *sh = NULL;
	char *names = NULL;
	int fd = ko ? open(ko, O_RDONLY | O_CLOEXEC) : -1, r = -ENOENT;

	if (fd < 0)
		return -ENOENT;
	if (pread(fd, &eh, sizeof(eh), 0) != sizeof(eh) || memcmp(eh.e_ident, ELFMAG, SELFMAG) ||
	    eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_shentsize != sizeof(Elf64_Shdr))
		goto out;
	sh = calloc(eh.e_shnum, sizeof(*sh));
	if (!sh || pread(fd, sh, eh.e_shnum * sizeof(*sh), eh.e_shoff) !=
			   (ssize_t)(eh.e_shnum * sizeof(*sh)))
		goto out;
	names = malloc(sh[eh.e_shstrndx].sh_size + 1);
	if (!names || pread(fd, names, sh[eh.e_shstrndx].sh_size,
			    sh[eh.e_shstrndx].sh_offset) != (ssize_t)sh[eh.e_shstrndx].sh_size)
		goto out;
	names[sh[eh.e_shstrndx].sh_size] = 0;
	for (int i = 0; i < eh.e_shnum; i++) {
		const char *n = names + sh[i].sh_name;
		char p[256], v[64] = "";
		unsigned long a;
		int sfd;

		if (!(sh[i].sh_flags & SHF_EXECINSTR) || !(sh[i].sh_flags & SHF_ALLOC) ||
		    !sh[i].sh_size || !strncmp(n, ".init", 5))
			continue;
		snprintf(p, sizeof(p), "/sys/module/megalink/sections/%s", n);
		sfd = open(p, O_RDONLY | O_CLOEXEC);
		if (sfd < 0)
			continue;
		if (read(sfd, v, sizeof(v) - 1) > 0) {
			a = strtoul(v, NULL, 16);
			if (a && a < lo)
				lo = a;
			if (a && a + sh[i].sh_size > hi)
				hi = a + sh[i].sh_size;
		}
		close(sfd);
	}
	if (lo < hi) {
		*start = lo;
		*end = hi;
		r = 0;
	}
out:
	free(sh);
	free(names);
	close(fd);
	return r;
}

/* A node of the transfer test: its own file, PD, CQ, MR and one QP. */
struct tnode {
	int fd;
	uint32_t pd, cqh, mrh, key, qph, qpn;
	struct ring cq, sq, rq;
	uint32_t cq_cons, sq_prod, rq_prod;
	uint8_t *buf;
	size_t len;
};

static void tqp_destroy(struct tnode *t)
{
	ring_unmap(&t->sq);
	ring_unmap(&t->rq);
	if (t->qph)
		obj_destroy(t->fd, ML_OBJ_QP, t->qph);
	t->qph = 0;
}

static int tqp_create(struct tnode *t)
{
	struct ml_create_qp q;
	int e;

	qp_prep(&q, t->pd, t->cqh, 64, 64);
	if ((e = xio(t->fd, ML_IOCTL_CREATE_QP, &q)))
		return e;
	t->qph = q.out_handle;
	t->qpn = q.out_qpn;
	t->sq_prod = t->rq_prod = 0;
	if ((e = ring_map(t->fd, q.out_sq_offset, q.out_sq_size, &t->sq)) ||
	    (e = ring_map(t->fd, q.out_rq_offset, q.out_rq_size, &t->rq)))
		return e;
	return 0;
}

static int tnode_open(struct tnode *t, int side, size_t len)
{
	struct ml_create_cq c;
	struct ml_reg_mr m;
	int e;

	memset(t, 0, sizeof(*t));
	t->fd = dev_open(side);
	if (t->fd < 0)
		return t->fd;
	t->len = len;
	t->buf = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE,
		      -1, 0);
	if (t->buf == MAP_FAILED)
		return -errno;
	if ((e = pd_alloc(t->fd, &t->pd)))
		return e;
	mr_prep(&m, t->pd, t->buf, len);
	if ((e = xio(t->fd, ML_IOCTL_REG_MR, &m)))
		return e;
	t->mrh = m.out_handle;
	t->key = m.out_lkey;
	cq_prep(&c, 256);
	if ((e = xio(t->fd, ML_IOCTL_CREATE_CQ, &c)))
		return e;
	t->cqh = c.out_handle;
	t->cq_cons = 0;
	return ring_map(t->fd, c.out_mmap_offset, c.out_mmap_size, &t->cq);
}

static void tnode_close(struct tnode *t)
{
	ring_unmap(&t->cq);
	ring_unmap(&t->sq);
	ring_unmap(&t->rq);
	if (t->fd >= 0)
		close(t->fd);
	if (t->buf && t->buf != MAP_FAILED)
		munmap(t->buf, t->len);
	memset(t, 0, sizeof(*t));
	t->fd = -1;
}

static void post_send(struct tnode *t, uint64_t wr_id, uint8_t op, size_t off, size_t len,
		      uint64_t raddr, uint32_t rkey, uint32_t imm)
{
	struct ml_send_wqe *w = (void *)(t->sq.ent + (size_t)(t->sq_prod & t->sq.mask) * t->sq.esz);

	memset(w, 0, sizeof(*w));
	w->wr_id = wr_id;
	w->opcode = op;
	w->num_sge = 1;
	w->flags = ML_WR_F_SIGNALED;
	w->imm = imm;
	w->remote_addr = raddr;
	w->rkey = rkey;
	w->sge[0].addr = (uintptr_t)(t->buf + off);
	w->sge[0].length = len;
	w->sge[0].lkey = t->key;
	__atomic_store_n(&t->sq.hdr->producer, ++t->sq_prod, __ATOMIC_RELEASE);
}

static void post_recv(struct tnode *t, uint64_t wr_id, size_t off, size_t len)
{
	struct ml_recv_wqe *w = (void *)(t->rq.ent + (size_t)(t->rq_prod & t->rq.mask) * t->rq.esz);

	memset(w, 0, sizeof(*w));
	w->wr_id = wr_id;
	w->num_sge = len ? 1 : 0;
	w->sge[0].addr = (uintptr_t)(t->buf + off);
	w->sge[0].length = len;
	w->sge[0].lkey = t->key;
	__atomic_store_n(&t->rq.hdr->producer, ++t->rq_prod, __ATOMIC_RELEASE);
}

static int poll_cq(struct tnode *t, struct ml_cqe *out)
{
	uint32_t prod = __atomic_load_n(&t->cq.hdr->producer, __ATOMIC_ACQUIRE);

	if (prod == t->cq_cons)
		return 0;
	memcpy(out, t->cq.ent + (size_t)(t->cq_cons & t->cq.mask) * t->cq.esz, sizeof(*out));
	__atomic_store_n(&t->cq.hdr->consumer, ++t->cq_cons, __ATOMIC_RELEASE);
	return 1;
}

static uint8_t pat(uint64_t seed, uint64_t i)
{
	uint64_t x = seed ^ (i * 0x9e3779b97f4a7c15ULL);

	x ^= x >> 29;
	x *= 0xbf58476d1ce4e5b9ULL;
	return (uint8_t)(x >> 32);
}

static void fill(uint8_t *p, size_t len, uint64_t seed)
{
	for (size_t i = 0; i < len; i++)
		p[i] = pat(seed, i);
}

static int64_t verify(const uint8_t *p, size_t len, uint64_t seed)
{
	for (size_t i = 0; i < len; i++)
		if (p[i] != pat(seed, i))
			return i;
	return -1;
}

static bool g_tx_poke;

#define XL	6000		/* bytes per transfer: 5 packets at MTU 1500 */

/*
 * One batch A -> B: SEND, WRITE, WRITE_IMM, READ; waits for every
 * completion.  Returns 0 if every WR completed (statuses in @st), -1 if a
 * completion is missing (lost).  *@all_ok: every status is success and
 * the data arrived intact.
 */
static int tx_batch(struct tnode *a, struct tnode *b, uint64_t seed, bool (*during)(void),
		    int timeout_ms, bool *all_ok, char *why, size_t wl)
{
	static const uint8_t ops[4] = { ML_WR_SEND, ML_WR_WRITE, ML_WR_WRITE_IMM, ML_WR_READ };
	struct ml_cqe wc;
	int sa[4] = { -1, -1, -1, -1 }, rb[2] = { -1, -1 }, got_a = 0, got_b = 0;
	double end, next_poke;

	*all_ok = false;
	memset(b->buf, 0, 4 * XL);
	memset(a->buf + 3 * XL, 0, XL);
	for (int k = 0; k < 3; k++)
		fill(a->buf + k * XL, XL, seed + k);
	fill(b->buf + 3 * XL, XL, seed + 3);
	post_recv(b, 100, 0, XL);
	post_recv(b, 101, 0, 0);
	for (int k = 0; k < 4; k++)
		post_send(a, k, ops[k], k * XL, XL, (uintptr_t)(b->buf + k * XL), b->key,
			  0x1000 + k);
	if (qp_notify(b->fd, b->qph) || qp_notify(a->fd, a->qph)) {
		snprintf(why, wl, "doorbell failed: %s", strerror(errno));
		return -1;
	}
	end = now_s() + timeout_ms / 1000.0;
	next_poke = now_s() + 0.5;
	while ((got_a < 4 || got_b < 2) && now_s() < end) {
		bool any = false;

		if (during && during())
			during = NULL;
		while (poll_cq(a, &wc)) {
			any = true;
			if (wc.wr_id < 4 && sa[wc.wr_id] < 0) {
				sa[wc.wr_id] = wc.status;
				got_a++;
			}
		}
		while (poll_cq(b, &wc)) {
			any = true;
			if (wc.wr_id >= 100 && wc.wr_id < 102 && rb[wc.wr_id - 100] < 0) {
				rb[wc.wr_id - 100] = wc.status;
				got_b++;
			}
		}
		/* ML_FAILNTH_TX_POKE=1: ring again, to look past a stuck QP. */
		if (g_tx_poke && now_s() > next_poke) {
			qp_notify(a->fd, a->qph);
			qp_notify(b->fd, b->qph);
			next_poke = now_s() + 0.5;
		}
		/* B's receives complete only if A's SEND / WRITE_IMM did. */
		if (got_a == 4 && got_b >= (sa[0] == 0) + (sa[2] == 0))
			break;
		if (!any)
			usleep(2000);
	}
	if (got_a < 4) {
		struct ml_query_qp q;

		qp_query(a->fd, a->qph, &q);
		snprintf(why, wl,
			 "LOST COMPLETIONS: %d of 4 send WRs completed after %d ms (SEND %d WRITE %d "
			 "WRITE_IMM %d READ %d); QP state %u snd_psn %u snd_una %u outstanding %u "
			 "retransmits %llu timeouts %llu", got_a, timeout_ms, sa[0], sa[1], sa[2],
			 sa[3], q.state, q.snd_psn, q.snd_una, q.outstanding,
			 (unsigned long long)q.retransmits, (unsigned long long)q.timeouts);
		return -1;
	}
	if (got_b < (sa[0] == 0) + (sa[2] == 0)) {
		snprintf(why, wl, "LOST RECEIVE COMPLETION at B: SEND %d WRITE_IMM %d, recv %d %d",
			 sa[0], sa[2], rb[0], rb[1]);
		return -1;
	}
	if (sa[0] || sa[1] || sa[2] || sa[3] || rb[0] || rb[1]) {
		snprintf(why, wl, "error completions: SEND %d WRITE %d WRITE_IMM %d READ %d, recv %d %d",
			 sa[0], sa[1], sa[2], sa[3], rb[0], rb[1]);
		return 0;
	}
	for (int k = 0; k < 3; k++) {
		int64_t d = verify(b->buf + k * XL, XL, seed + k);

		if (d >= 0) {
			snprintf(why, wl, "DATA CORRUPTED: transfer %d byte %" PRId64, k, d);
			return -1;
		}
	}
	if (verify(a->buf + 3 * XL, XL, seed + 3) >= 0) {
		snprintf(why, wl, "DATA CORRUPTED: READ");
		return -1;
	}
	*all_ok = true;
	snprintf(why, wl, "all 6 completions successful, data intact");
	return 0;
}

/* Why a connect failed: both sides' ports and neighbours, as netlink says. */
static void tx_diag(const char *when)
{
	for (int side = 0; side < 2; side++) {
		const struct nlmsghdr *h;
		struct nlreq r;
		unsigned int i;
		int left;

		req_init(&r, g_fam, ML_CMD_PORT_GET, NLM_F_DUMP);
		if (nl_plain(side, &r) == 0)
			NLX_FOR_EACH(&g_x, h, i, left) {
				const struct nlattr *tb[ML_A_MAX + 1];

				nl_parse(h, tb, ML_A_MAX);
				printf("failnth: %s: %s port %s link %u carrier %u neighbours %u\n", when,
				       ns_name[side], na_str(tb[ML_A_IFNAME]),
				       tb[ML_A_LINK_STATE] ?
				       *((const uint8_t *)tb[ML_A_LINK_STATE] + NLA_HDRLEN) : 9,
				       tb[ML_A_CARRIER] ?
				       *((const uint8_t *)tb[ML_A_CARRIER] + NLA_HDRLEN) : 9,
				       na_u32(tb[ML_A_NUM_NEIGH]));
			}
		req_init(&r, g_fam, ML_CMD_NEIGH_GET, NLM_F_DUMP);
		if (nl_plain(side, &r) == 0)
			NLX_FOR_EACH(&g_x, h, i, left) {
				const struct nlattr *tb[ML_A_MAX + 1];

				nl_parse(h, tb, ML_A_MAX);
				printf("failnth: %s: %s neighbour node %#x age %u ms dead %u ms\n", when,
				       ns_name[side], na_u32(tb[ML_A_NEIGH_NODE_ID]),
				       na_u32(tb[ML_A_NEIGH_AGE_MS]), na_u32(tb[ML_A_NEIGH_DEAD_MS]));
			}
		req_init(&r, g_fam, ML_CMD_STATS_GET, NLM_F_DUMP);
		if (nl_plain(side, &r) == 0)
			NLX_FOR_EACH(&g_x, h, i, left) {
				const struct nlattr *tb[ML_A_MAX + 1], *st[ML_STAT_MAX + 1];

				nl_parse(h, tb, ML_A_MAX);
				if (!tb[ML_A_STATS])
					continue;
				memset(st, 0, sizeof(st));
				for (const struct nlattr *a = (const void *)((const char *)tb[ML_A_STATS] +
									      NLA_HDRLEN);
				     (const char *)a < (const char *)tb[ML_A_STATS] +
						       tb[ML_A_STATS]->nla_len &&
				     a->nla_len >= NLA_HDRLEN;
				     a = (const void *)((const char *)a + NLA_ALIGN(a->nla_len)))
					if (a->nla_type <= ML_STAT_MAX)
						st[a->nla_type] = a;
				printf("failnth: %s: %s tx_hello %" PRIu64 " rx_hello %" PRIu64
				       " neigh_found %" PRIu64 " neigh_lost %" PRIu64 " link_up %" PRIu64
				       " link_down %" PRIu64 " drop_nomem %" PRIu64 " tx_errors %" PRIu64
				       "\n", when, ns_name[side], na_u64(st[ML_STAT_TX_HELLO]),
				       na_u64(st[ML_STAT_RX_HELLO]), na_u64(st[ML_STAT_NEIGH_FOUND]),
				       na_u64(st[ML_STAT_NEIGH_LOST]), na_u64(st[ML_STAT_LINK_UP]),
				       na_u64(st[ML_STAT_LINK_DOWN]), na_u64(st[ML_STAT_DROP_NOMEM]),
				       na_u64(st[ML_STAT_TX_ERRORS]));
			}
	}
}

static int tx_connect(struct tnode *a, struct tnode *b)
{
	int e;

	tqp_destroy(a);
	tqp_destroy(b);
	if ((e = tqp_create(a)) || (e = tqp_create(b)))
		return e;
	if ((e = qp_connect(a->fd, a->qph, node_b, b->qpn, 50)) ||
	    (e = qp_connect(b->fd, b->qph, node_a, a->qpn, 50))) {
		if (e == -EHOSTUNREACH)
			tx_diag("connect: EHOSTUNREACH");
		return e;
	}
	return 0;
}

static unsigned long g_tx_k;
static double g_tx_stop;

/* Polled while the batch runs: once the K faults are used (or 3 s), stop. */
static bool tx_wait_times(void)
{
	if (now_s() < g_tx_stop && fa_get("failslab", "times") > 0)
		return false;
	fa_set("failslab", "probability", "0");
	return true;
}

static void tx_walk(void)
{
	unsigned long ts = 0, te = 0;
	unsigned int kmax = 12, secs = 8, lost = 0;
	struct tnode a = { .fd = -1 }, b = { .fd = -1 };
	char why[512];
	bool ok;
	int e;

	if (!walk_selected("tx"))
		return;
	if (getenv("ML_FAILNTH_TX_MAX"))
		kmax = strtoul(getenv("ML_FAILNTH_TX_MAX"), NULL, 0);
	g_tx_poke = getenv("ML_FAILNTH_TX_POKE") && !strcmp(getenv("ML_FAILNTH_TX_POKE"), "1");
	if (g_tx_poke)
		printf("failnth: tx: ML_FAILNTH_TX_POKE=1: doorbells rung every 0.5 s while waiting "
		       "(hides the stuck-QP bug, see /work/notes/bugs-failnth.md)\n");
	if (getenv("ML_FAILNTH_TX_SECONDS"))
		secs = strtoul(getenv("ML_FAILNTH_TX_SECONDS"), NULL, 0);
	kmsg("failnth: walk tx\n");
	if (!g_dry && module_text(&ts, &te)) {
		result(false, "tx: cannot find megalink's text (ML_KO, /sys/module/megalink/sections)");
		return;
	}
	if (!g_dry)
		printf("failnth: tx: megalink text %#lx-%#lx (%lu bytes): failslab requires it on "
		       "the stack\n", ts, te, te - ts);
	/* Few HELLOs during the walk, so that the faults hit the data path. */
	nl_dev_set(NS_A, dev_name[NS_A], 5000, 30000);
	nl_dev_set(NS_B, dev_name[NS_B], 5000, 30000);
	usleep(300000);
	if ((e = tnode_open(&a, NS_A, 1 << 20)) || (e = tnode_open(&b, NS_B, 1 << 20)) ||
	    (e = tx_connect(&a, &b))) {
		result(false, "tx: set-up: %s", ename(-e));
		goto out;
	}
	/* The first batch without faults: the reference. */
	e = tx_batch(&a, &b, g_seed, NULL, 20000, &ok, why, sizeof(why));
	result(!e && ok, "tx: reference batch without faults: %s", why);
	if (g_dry) {
		printf("ML-SKIP-NOTE: failnth: transmit-path walk needs fault injection (dry run)\n");
		goto out;
	}

	for (int i = 0; i < 2; i++) {
		fa_set(fa_attrs[i], "require-start", "%lu", ts);
		fa_set(fa_attrs[i], "require-end", "%lu", te);
		fa_set(fa_attrs[i], "interval", "1");
	}
	for (g_tx_k = 1; g_tx_k <= kmax; g_tx_k++) {
		long left;

		if ((e = tx_connect(&a, &b))) {
			result(false, "tx K=%lu: set-up: %s", g_tx_k, ename(-e));
			break;
		}
		kmsg("failnth: tx K=%lu\n", g_tx_k);
		fa_set("failslab", "times", "%lu", g_tx_k);
		fa_set("failslab", "probability", "100");
		g_tx_stop = now_s() + 3.0;
		e = tx_batch(&a, &b, g_seed + g_tx_k * 16, tx_wait_times, 15000, &ok, why,
			     sizeof(why));
		left = fa_get("failslab", "times");
		fa_set("failslab", "probability", "0");
		fa_set("failslab", "times", "-1");
		result(!e, "tx K=%lu: %ld megalink allocations failed; %s", g_tx_k,
		       (long)g_tx_k - (left < 0 ? 0 : left), why);
		if (e && ++lost >= 3) {
			printf("failnth: tx: stopping the K walk after 3 failed rounds\n");
			break;
		}
	}

	/* Random phase: 3 % of megalink's allocations fail, both nodes. */
	{
		double end = now_s() + secs;
		unsigned int rounds = 0, good = 0, errs = 0, bad = 0;

		kmsg("failnth: tx random\n");
		for (int i = 0; i < 2; i++)
			fa_set(fa_attrs[i], "times", "-1");
		while (now_s() < end) {
			/* QPs are made without faults; the batch runs with them. */
			for (int i = 0; i < 2; i++)
				fa_set(fa_attrs[i], "probability", "0");
			if ((e = tx_connect(&a, &b))) {
				bad++;
				printf("failnth: tx random: set-up: %s\n", ename(-e));
				break;
			}
			for (int i = 0; i < 2; i++)
				fa_set(fa_attrs[i], "probability", "3");
			e = tx_batch(&a, &b, g_seed + 1000 + rounds, NULL, 15000, &ok, why,
				     sizeof(why));
			rounds++;
			if (e) {
				bad++;
				printf("failnth: tx random round %u: %s\n", rounds, why);
			} else if (ok) {
				good++;
			} else {
				errs++;
			}
		}
		for (int i = 0; i < 2; i++)
			fa_set(fa_attrs[i], "probability", "0");
		result(!bad && rounds, "tx random (3%% for %u s): %u batches, %u clean, %u with error "
		       "completions, %u lost/corrupt", secs, rounds, good, errs, bad);
	}
	/* And the path works again without faults. */
	if ((e = tx_connect(&a, &b))) {
		result(false, "tx after: set-up: %s", ename(-e));
	} else {
		e = tx_batch(&a, &b, g_seed + 7, NULL, 20000, &ok, why, sizeof(why));
		result(!e && ok, "tx after the faults: %s", why);
	}
out:
	for (int i = 0; i < 2 && !g_dry; i++) {
		fa_set(fa_attrs[i], "probability", "0");
		fa_set(fa_attrs[i], "times", "-1");
		fa_set(fa_attrs[i], "require-start", "0");
		fa_set(fa_attrs[i], "require-end", "%lu", ~0UL);
	}
	tnode_close(&a);
	tnode_close(&b);
	nl_dev_set(NS_A, dev_name[NS_A], 100, 1000);
	nl_dev_set(NS_B, dev_name[NS_B], 100, 1000);
}

/* ------------------------------------------------------------------ */
/* Main                                                                 */
/* ------------------------------------------------------------------ */

static void on_alarm(int sig)
{
	static const char m[] = "failnth: *** wall-clock budget exceeded (ML_FAILNTH_SECONDS)\n"
				"failnth-summary: 0 1\n";

	(void)sig;
	if (write(1, m, sizeof(m) - 1) < 0)
		_exit(1);
	_exit(1);
}

/* Touch stack pages now so that no page fault happens while armed. */
static void __attribute__((noinline)) prefault_stack(void)
{
	volatile char big[512 * 1024];

	for (size_t i = 0; i < sizeof(big); i += PAGE)
		big[i] = 0;
}

static void netlink_walks(void)
{
	static const struct nlw w_bind = { "netlink PORT_BIND new device", NS_A, b_bind_a,
					   u_bind_a, 1 };
	static const struct nlw w_bind2 = { "netlink PORT_BIND to an existing device", NS_A,
					    b_bind_a2, u_bind_a2, 1 };
	static const struct nlw w_unbind2 = { "netlink PORT_UNBIND dev+port-index", NS_A,
					      b_unbind_a2, u_unbind_a2, 0 };
	static const struct nlw w_unbind = { "netlink PORT_UNBIND last port (device goes)", NS_A,
					     b_unbind_a, u_unbind_a, 0 };
	static const struct nlw reads[] = {
		{ "netlink DEV_SET", NS_A, b_dev_set, u_dev_set, 0 },
		{ "netlink DEV_GET doit", NS_A, b_dev_get, NULL, 1 },
		{ "netlink DEV_GET dump", NS_A, b_dev_dump, NULL, 1 },
		{ "netlink PORT_GET doit", NS_A, b_port_get, NULL, 1 },
		{ "netlink PORT_GET dump (device filter)", NS_A, b_port_dump, NULL, 1 },
		{ "netlink NEIGH_GET dump", NS_A, b_neigh_dump, NULL, 1 },
		{ "netlink NEIGH_GET dump (device filter)", NS_A, b_neigh_dump_dev, NULL, 1 },
		{ "netlink STATS_GET doit", NS_A, b_stats_get, NULL, 1 },
		{ "netlink STATS_GET dump", NS_A, b_stats_dump, NULL, 1 },
	};
	int e;

	nl_walk(&w_bind);
	if ((e = nl_bind(NS_A, if_a, NULL, node_a)) || (e = refresh_names())) {
		result(false, "set-up: bind %s: %s", if_a, ename(e));
		return;
	}
	if ((e = wait_link_up(20000)))
		result(false, "set-up: the link does not come up: %s", ename(-e));
	nl_walk(&w_bind2);
	if ((e = nl_bind(NS_A, if_a2, dev_name[NS_A], 0))) {
		result(false, "set-up: bind %s to %s: %s", if_a2, dev_name[NS_A], ename(e));
		return;
	}
	nl_walk(&w_unbind2);
	if ((e = nl_unbind(NS_A, if_a2))) {
		result(false, "set-up: unbind %s: %s", if_a2, ename(e));
		return;
	}
	nl_walk(&w_unbind);
	if ((e = refresh_names()) || (e = -wait_link_up(20000)))
		result(false, "set-up: the link does not come up again: %s", ename(e));
	for (size_t i = 0; i < sizeof(reads) / sizeof(reads[0]); i++)
		nl_walk(&reads[i]);
}

static void chardev_walks(void)
{
	char name[96];
	uint32_t sizes[][2] = { { 1, 1 }, { 64, 64 }, { 4096, 4096 } };
	uint32_t cqs[] = { 1, 1024, 65536 };
	size_t mrs[] = { PAGE, 1 << 20, 64 << 20 };
	struct ml_create_cq c;
	struct ml_create_qp q;
	struct iow w;
	int e;

	S.fd = dev_open(NS_A);
	S.peer_fd = dev_open(NS_B);
	S.mrlen = 64 << 20;
	S.mrbuf = mmap(NULL, S.mrlen + PAGE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (S.fd < 0 || S.peer_fd < 0 || S.mrbuf == MAP_FAILED) {
		result(false, "set-up: open %s/%s: %s", dev_name[NS_A], dev_name[NS_B],
		       ename(-(S.fd < 0 ? S.fd : S.peer_fd)));
		return;
	}
	/* Prerequisites: a PD, a CQ, a QP on A; a QP on B to connect to. */
	cq_prep(&c, 1024);
	if ((e = pd_alloc(S.fd, &S.pd)) || (e = xio(S.fd, ML_IOCTL_CREATE_CQ, &c))) {
		result(false, "set-up: PD/CQ: %s", ename(-e));
		return;
	}
	S.cq = c.out_handle;
	S.cqa = c;
	qp_prep(&q, S.pd, S.cq, 64, 64);
	if ((e = xio(S.fd, ML_IOCTL_CREATE_QP, &q))) {
		result(false, "set-up: QP: %s", ename(-e));
		return;
	}
	S.qp = q.out_handle;
	S.qpa = q;
	cq_prep(&c, 64);
	if ((e = pd_alloc(S.peer_fd, &S.peer_pd)) || (e = xio(S.peer_fd, ML_IOCTL_CREATE_CQ, &c))) {
		result(false, "set-up: peer PD/CQ: %s", ename(-e));
		return;
	}
	S.peer_cq = c.out_handle;
	qp_prep(&q, S.peer_pd, S.peer_cq, 16, 16);
	if ((e = xio(S.peer_fd, ML_IOCTL_CREATE_QP, &q))) {
		result(false, "set-up: peer QP: %s", ename(-e));
		return;
	}
	S.peer_qp = q.out_handle;
	S.peer_qpn = q.out_qpn;

	w = (struct iow){ "open /dev/megalink", NULL, c_open, use_open, u_close_new, NULL };
	io_walk(&w);
	w = (struct iow){ "ioctl QUERY_DEVICE", NULL, c_query_device, use_query_device, NULL, NULL };
	io_walk(&w);
	w = (struct iow){ "ioctl QUERY_LIMITS", NULL, c_query_limits, NULL, NULL, NULL };
	io_walk(&w);
	w = (struct iow){ "ioctl ALLOC_PD", NULL, c_alloc_pd, use_pd, u_pd, NULL };
	io_walk(&w);
	for (size_t i = 0; i < sizeof(mrs) / sizeof(mrs[0]); i++) {
		snprintf(name, sizeof(name), "ioctl REG_MR %zu KiB%s", mrs[i] >> 10,
			 mrs[i] > PAGE ? " (unaligned)" : "");
		S.mrlen = mrs[i];
		w = (struct iow){ name, NULL, c_reg_mr, use_mr, u_mr, NULL };
		io_walk(&w);
	}
	for (size_t i = 0; i < sizeof(cqs) / sizeof(cqs[0]); i++) {
		snprintf(name, sizeof(name), "ioctl CREATE_CQ %u entries", cqs[i]);
		S.cq_entries = cqs[i];
		w = (struct iow){ name, NULL, c_create_cq, use_cq, u_cq, NULL };
		io_walk(&w);
	}
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		snprintf(name, sizeof(name), "ioctl CREATE_QP sq %u rq %u", sizes[i][0], sizes[i][1]);
		S.sq = sizes[i][0];
		S.rq = sizes[i][1];
		w = (struct iow){ name, NULL, c_create_qp, use_qp, u_qp, NULL };
		io_walk(&w);
	}
	S.maplen = S.cqa.out_mmap_size;
	S.mapoff = S.cqa.out_mmap_offset;
	w = (struct iow){ "mmap CQ ring (1024 entries)", NULL, c_mmap, use_mmap, u_mmap, NULL };
	io_walk(&w);
	S.maplen = S.qpa.out_sq_size;
	S.mapoff = S.qpa.out_sq_offset;
	w = (struct iow){ "mmap SQ ring (64 entries)", NULL, c_mmap, use_mmap, u_mmap, NULL };
	io_walk(&w);
	S.maplen = S.qpa.out_rq_size;
	S.mapoff = S.qpa.out_rq_offset;
	w = (struct iow){ "mmap RQ ring (64 entries)", NULL, c_mmap, use_mmap, u_mmap, NULL };
	io_walk(&w);
	w = (struct iow){ "ioctl CONNECT_QP", pre_connect, c_connect, use_connect, NULL,
			  post_connect };
	io_walk(&w);
	if ((e = qp_connect(S.fd, S.qp, node_b, S.peer_qpn, 0)))
		result(false, "set-up: connect the walks' QP: %s", ename(-e));
	w = (struct iow){ "ioctl QUERY_QP", NULL, c_query_qp, NULL, NULL, NULL };
	io_walk(&w);
	w = (struct iow){ "ioctl NOTIFY (doorbell, nothing posted)", NULL, c_notify, NULL, NULL,
			  NULL };
	io_walk(&w);
	for (dtype = ML_OBJ_PD; dtype <= ML_OBJ_QP; dtype++) {
		static const char *tn[] = { "", "PD", "MR", "CQ", "QP (connected)" };

		snprintf(name, sizeof(name), "ioctl DESTROY %s", tn[dtype]);
		w = (struct iow){ name, pre_destroy, c_destroy, NULL, NULL, post_nothing };
		io_walk(&w);
	}
	w = (struct iow){ "close (file with PD, MR, CQ, QP)", pre_close, c_close, NULL, NULL,
			  post_nothing };
	io_walk(&w);
}

/* QP dump with enough QPs for several dump skbs (resumed dumps). */
static void qp_dump_walk(void)
{
	static const struct nlw w = { "netlink QP_GET dump (80 QPs, resumed)", NS_A, b_qp_dump,
				      NULL, 80 };
	struct ml_create_qp q;
	int fd, e = 0;
	uint32_t pd;
	struct ml_create_cq c;

	if (!walk_selected(w.name))
		return;
	fd = dev_open(NS_A);
	cq_prep(&c, 16);
	if (fd < 0 || (e = pd_alloc(fd, &pd)) || (e = xio(fd, ML_IOCTL_CREATE_CQ, &c))) {
		result(false, "set-up of the QP dump: %s", ename(fd < 0 ? -fd : -e));
		return;
	}
	for (int i = 0; i < 80 && !e; i++) {
		qp_prep(&q, pd, c.out_handle, 1, 1);
		e = xio(fd, ML_IOCTL_CREATE_QP, &q);
	}
	if (e)
		result(false, "set-up of the QP dump: CREATE_QP: %s", ename(-e));
	else
		nl_walk(&w);
	close(fd);
}

int main(void)
{
	char *env;
	int e;

	setvbuf(stdout, NULL, _IOLBF, 0);
	env = getenv("ML_SEED");
	if (env)
		g_seed = strtoull(env, NULL, 0);
	else
		g_seed = ((uint64_t)time(NULL) << 32) ^ (uint64_t)getpid() * 0x9e3779b97f4a7c15ULL;
	printf("seed=%#" PRIx64 "\n", g_seed);
	if ((env = getenv("ML_FAILNTH_CAP")))
		g_cap = strtoul(env, NULL, 0);
	g_only = getenv("ML_FAILNTH_ONLY");
	g_dry = getenv("ML_FAILNTH_DRYRUN") && !strcmp(getenv("ML_FAILNTH_DRYRUN"), "1");
	signal(SIGALRM, on_alarm);
	alarm((env = getenv("ML_FAILNTH_SECONDS")) ? strtoul(env, NULL, 0) : 900);
	kmsg_fd = open("/dev/kmsg", O_WRONLY | O_CLOEXEC);

	fn_fd = open("/proc/thread-self/fail-nth", O_RDWR | O_CLOEXEC);
	if (fn_fd < 0 && !g_dry) {
		printf("ML-SKIP-NOTE: failnth: /proc/thread-self/fail-nth: %s: this kernel has no "
		       "fault injection (CONFIG_FAULT_INJECTION, FAILSLAB, FAIL_PAGE_ALLOC, "
		       "FAULT_INJECTION_DEBUG_FS); run on --kernel debug\n", strerror(errno));
		printf("failnth-summary: 0 1\n");
		return 1;
	}
	if (g_dry) {
		printf("ML-SKIP-NOTE: failnth: ML_FAILNTH_DRYRUN=1: no fault is injected, every walk "
		       "is a single plain call\n");
	} else if (fa_setup_walks()) {
		printf("ML-SKIP-NOTE: failnth: cannot configure %s/failslab and fail_page_alloc "
		       "(debugfs mounted?)\n", DBG);
		printf("failnth-summary: 0 1\n");
		return 1;
	}
	if (!g_dry && getenv("ML_FAILNTH_NOWARN") && !strcmp(getenv("ML_FAILNTH_NOWARN"), "1")) {
		unsigned long s = 0, t = 0;

		if (ksym_range("__vmalloc_node_range_noprof", &s, &t) == 0) {
			for (int i = 0; i < 2; i++) {
				fa_set(fa_attrs[i], "reject-start", "%lu", s);
				fa_set(fa_attrs[i], "reject-end", "%lu", t);
			}
			printf("failnth: ML_FAILNTH_NOWARN=1: no fault inside vmalloc (%#lx-%#lx)\n",
			       s, t);
		}
	}

	if (ns_open() || nl_resolve_family()) {
		printf("failnth: *** set-up: netns or the megalink netlink family missing\n");
		printf("failnth-summary: %d %d\n", g_pass, g_fail + 1);
		fa_restore();
		return 1;
	}
	prefault_stack();
	memset(rxbuf, 0, sizeof(rxbuf));
	if (mlockall(MCL_CURRENT | MCL_FUTURE))
		printf("failnth: mlockall: %s (page faults may be injected)\n", strerror(errno));
	mon_open();

	if ((e = nl_bind(NS_B, if_b, NULL, node_b))) {
		printf("failnth: *** set-up: bind %s: %s\n", if_b, ename(e));
		printf("failnth-summary: %d %d\n", g_pass, g_fail + 1);
		fa_restore();
		return 1;
	}
	netlink_walks();
	if (refresh_names() || !dev_name[NS_A][0] || !dev_name[NS_B][0]) {
		result(false, "set-up: devices missing after the netlink walks");
	} else if (wait_link_up(20000)) {
		result(false, "set-up: links not up after the netlink walks");
	} else {
		chardev_walks();
		if (S.fd >= 0)
			close(S.fd);
		if (S.peer_fd >= 0)
			close(S.peer_fd);
		S.fd = S.peer_fd = -1;
		qp_dump_walk();
		tx_walk();
	}

	/* Everything closed: every count back to zero. */
	{
		struct snap s[2];

		usleep(200000);
		if (snap_all(s) == 0) {
			bool zero = true;

			for (int side = 0; side < 2; side++)
				for (int i = 0; i < s[side].ndev; i++) {
					const struct mldev *d = &s[side].dev[i];

					if (d->ctx || d->pds || d->mrs || d->cqs || d->qps || d->pinned) {
						zero = false;
						printf("failnth: %s: ctx %u pds %u mrs %u cqs %u qps %u "
						       "pinned %" PRIu64 "\n", d->name, d->ctx, d->pds,
						       d->mrs, d->cqs, d->qps, d->pinned);
					}
				}
			result(zero, "object counts back to zero at the end");
		} else {
			result(false, "cannot read the counts at the end");
		}
	}
	nl_unbind(NS_A, if_a);
	nl_unbind(NS_A, if_a2);
	nl_unbind(NS_B, if_b);
	if (!g_dry)
		fa_restore();
	printf("failnth-summary: %d %d\n", g_pass, g_fail);
	return g_fail ? 1 : 0;
}
