// SPDX-License-Identifier: MIT
/*
 * fuzz_netlink: random and malformed requests to the generic netlink
 * family "megalink" over raw netlink sockets, from several processes and
 * threads, privileged and not, while ports are bound, unbound and flapped
 * and a byte-checked pair of processes moves data on the pod
 * (fuzz-netlink.sh builds everything and runs this).
 *
 *   fuzz_netlink run            the fuzzer (environment below)
 *   fuzz_netlink bind IF NODE   bind IF as a new device, print its name
 *   fuzz_netlink wait DEV S     wait until DEV's first port is up
 *   fuzz_netlink counts DEV     object counts of DEV are all zero?
 *
 * Environment of "run": ML_SEED (64-bit seed, printed), ML_FUZZ_SECONDS
 * (default 120), FN_SANDBOX ("ns:if,if,...;ns:if,..." the privileged
 * sandboxes whose netdevs may be bound, unbound, flapped, deleted),
 * DP_NS_A/B, DP_DEV_A/B, DP_IF_A/B (the pod, see tests/dataplane/dp.h),
 * FN_NODE_A/B (the pod's node ids).
 *
 * What is checked: every well-formed request that asks for an ack gets
 * exactly one answer in bounded time, with an errno from the documented
 * set; unprivileged admin commands never succeed and fail with EPERM (or
 * a policy error found before the command runs); every reply, dump
 * message, extended ack and event is well formed (lengths, attribute
 * sizes, value ranges); dumps end; the pod's devices are untouched (other
 * namespaces, no privilege) and its traffic stays byte exact; QP pairs
 * made on the sandboxes' devices while their ports come and go complete
 * every WR in bounded time; at the end every namespace's dumps are
 * consistent.  Kernel splats are the harness's business (dmesg), hangs
 * are caught by alarms.
 *
 * Processes: per sandbox, a privileged fuzzer (3 threads + the monitor
 * of the event group), one that opens its sockets as root and then drops
 * to uid 65534 (2 threads), a link churner (up/down, delete/re-create)
 * and a QP churner; in each pod namespace an unprivileged fuzzer (one
 * drops before opening its sockets, one after); one in the initial
 * namespace; the pod's byte-checked pair.
 *
 * Output: "CHECK ok: ..." / "CHECK FAIL: ..." lines (the script counts
 * them) and per-kind iteration counts.
 */
#define _GNU_SOURCE
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/megalink.h>

#include "dp.h"

#ifndef NETLINK_EXT_ACK
#define NETLINK_EXT_ACK 11
#endif
#ifndef NETLINK_GET_STRICT_CHK
#define NETLINK_GET_STRICT_CHK 12
#endif
#ifndef NLM_F_ACK_TLVS
#define NLM_F_ACK_TLVS 0x200
#endif

/* ------------------------------------------------------------------ */
/* Shared state: counters and failures, in a MAP_SHARED page           */
/* ------------------------------------------------------------------ */

enum kind {
	K_DOIT, K_DUMP, K_BATCH, K_BADHDR, K_TRUNC, K_NOACK, K_ORACLE,
	K_BIND, K_UNBIND, K_DEVSET, K_SOCKGAME, K_ABANDON, K_FLAP, K_DELLINK,
	K_EVENT, K_MCJOIN, K_UNPRIV_ADMIN, K_TRAFFIC, K_QPCHURN, K_QPCHURN_OK, K_NKINDS
};

static const char *kind_name[K_NKINDS] = {
	"doit", "dump", "batch", "bad-nlmsg-header", "truncated-attrs",
	"no-ack", "oracle", "bind", "unbind", "dev-set", "socket-games",
	"abandoned-dump", "link-flap", "link-delete", "events", "mcast-join",
	"unpriv-admin", "traffic-rounds", "sandbox-qp-pairs", "sandbox-qp-connected",
};

#define MAX_FAILS 24

struct shared {
	atomic_ullong count[K_NKINDS];
	atomic_ullong errs[160];	/* errno histogram of answers */
	atomic_int nfail;
	char fail[MAX_FAILS][512];
	atomic_int stop;
};

static struct shared *sh;
static uint64_t g_seed;
static double g_deadline;
static uint16_t fam_id;
static uint32_t mcgrp_id;

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void nfail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void nfail(const char *fmt, ...)
{
	int i = atomic_fetch_add(&sh->nfail, 1);
	char text[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (i < MAX_FAILS)
		snprintf(sh->fail[i], sizeof(sh->fail[i]), "%s", text);
	if (i < 200)
		fprintf(stderr, "fuzz-netlink: FAIL: %s\n", text);
}

static void count(enum kind k)
{
	atomic_fetch_add(&sh->count[k], 1);
}

/* ------------------------------------------------------------------ */
/* Random numbers: xorshift64*, one state per thread                    */
/* ------------------------------------------------------------------ */

#include "rng.h"	/* struct rng, rnd(), rn(), pct() */

/* ------------------------------------------------------------------ */
/* Namespaces and privileges                                           */
/* ------------------------------------------------------------------ */

static int orig_ns_fd = -1;

/* Back to the netns the program started in. */
static void ns_back(void)
{
	if (orig_ns_fd >= 0 && setns(orig_ns_fd, CLONE_NEWNET))
		fprintf(stderr, "fuzz-netlink: setns back: %s\n", strerror(errno));
}

static int ns_enter_name(const char *name)
{
	char path[128];
	int fd, r;

	if (!name || !*name || !strcmp(name, "-"))
		return 0;
	snprintf(path, sizeof(path), "/run/netns/%s", name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	r = setns(fd, CLONE_NEWNET) ? -errno : 0;
	close(fd);
	return r;
}

static int drop_privs(void)
{
	if (setgroups(0, NULL) && errno != EPERM)
		return -errno;
	if (setresgid(65534, 65534, 65534) || setresuid(65534, 65534, 65534))
		return -errno;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Raw netlink                                                          */
/* ------------------------------------------------------------------ */

static int nl_sock(int proto)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, proto);

	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		close(fd);
		return -errno;
	}
	return fd;
}

static int nl_sendbuf(int fd, const void *buf, size_t len)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	ssize_t n = sendto(fd, buf, len, 0, (struct sockaddr *)&sa, sizeof(sa));

	return n < 0 ? -errno : (int)n;
}

struct msgbuf {
	uint8_t b[16384];
	size_t len;
};

static struct nlmsghdr *mb_nlh(struct msgbuf *m, size_t at)
{
	return (struct nlmsghdr *)(m->b + at);
}

/* Start a message at the end of @m; returns its offset. */
static size_t mb_start(struct msgbuf *m, uint16_t type, uint16_t flags, uint32_t seq,
		       uint8_t cmd, uint8_t version)
{
	size_t at = m->len;
	struct nlmsghdr *h = mb_nlh(m, at);
	struct genlmsghdr *g = (struct genlmsghdr *)(h + 1);

	memset(h, 0, NLMSG_HDRLEN + GENL_HDRLEN);
	h->nlmsg_type = type;
	h->nlmsg_flags = flags;
	h->nlmsg_seq = seq;
	g->cmd = cmd;
	g->version = version;
	m->len += NLMSG_HDRLEN + GENL_HDRLEN;
	return at;
}

static void mb_end(struct msgbuf *m, size_t at)
{
	mb_nlh(m, at)->nlmsg_len = (uint32_t)(m->len - at);
}

/* An attribute with exactly @len payload bytes and a declared nla_len. */
static bool mb_attr_raw(struct msgbuf *m, uint16_t type, uint16_t nla_len,
			const void *data, size_t len)
{
	struct nlattr *a = (struct nlattr *)(m->b + m->len);

	if (m->len + NLA_HDRLEN + NLA_ALIGN(len) > sizeof(m->b) - 64)
		return false;
	a->nla_type = type;
	a->nla_len = nla_len;
	if (len)
		memcpy(a + 1, data, len);
	memset((uint8_t *)(a + 1) + len, 0, NLA_ALIGN(len) - len);
	m->len += NLA_HDRLEN + NLA_ALIGN(len);
	return true;
}

static bool mb_attr(struct msgbuf *m, uint16_t type, const void *data, size_t len)
{
	return mb_attr_raw(m, type, (uint16_t)(NLA_HDRLEN + len), data, len);
}

static size_t mb_nest_start(struct msgbuf *m, uint16_t type)
{
	size_t at = m->len;

	mb_attr_raw(m, type, NLA_HDRLEN, NULL, 0);
	return at;
}

static void mb_nest_end(struct msgbuf *m, size_t at)
{
	((struct nlattr *)(m->b + at))->nla_len = (uint16_t)(m->len - at);
}

/* ---- answers ---- */

struct answer {
	int got_ack;		/* an NLMSG_ERROR for our seq */
	int err;		/* its error (<= 0) */
	int got_done;
	int nmsgs;		/* replies (not ack/done) for our seq */
	int overrun;		/* ENOBUFS from recv */
	char extack[200];
	uint8_t cmds[8];	/* commands of the first replies */
};

static const char *cmd_name(unsigned int c)
{
	static const char *n[] = {
		"UNSPEC", "DEV_GET", "DEV_SET", "PORT_GET", "PORT_BIND",
		"PORT_UNBIND", "NEIGH_GET", "STATS_GET", "DEV_NEW_NTF",
		"DEV_DEL_NTF", "PORT_UP_NTF", "PORT_DOWN_NTF", "NEIGH_FOUND_NTF",
		"NEIGH_LOST_NTF", "QP_GET", "QP_ERROR_NTF", "PEER_ADD", "PEER_DEL",
		"PEER_GET", "TOPO_GET", "TOPO_NTF",
	};

	return c < sizeof(n) / sizeof(n[0]) ? n[c] : "?";
}

enum vk { V_ANY, V_U8, V_U16, V_U32, V_U64, V_STR, V_MAC, V_NEST, V_IN6, V_NESTED };

static enum vk attr_kind(unsigned int t)
{
	switch (t) {
	case ML_A_PAD: return V_ANY;
	case ML_A_DEV_NAME: case ML_A_IFNAME: case ML_A_NEIGH_DEV_NAME: return V_STR;
	case ML_A_CAPS: case ML_A_NEIGH_CAPS: case ML_A_PINNED_PAGES:
	case ML_A_RETRANSMITS: case ML_A_TIMEOUTS: case ML_A_RNR_NAKS:
	case ML_A_SEQ_NAKS: case ML_A_FAILOVERS: return V_U64;
	case ML_A_ETHERTYPE: case ML_A_UDP_PORT: return V_U16;
	case ML_A_CARRIER: case ML_A_LINK_STATE: case ML_A_REASON:
	case ML_A_QP_STATE: case ML_A_QP_STATUS: case ML_A_TOPO_EVENT: return V_U8;
	case ML_A_MAC: case ML_A_NEIGH_MAC: return V_MAC;
	case ML_A_STATS: return V_NEST;
	case ML_A_PEER_ADDR6: case ML_A_PEER_LOCAL6: case ML_A_NEIGH_ADDR6: return V_IN6;
	case ML_A_TOPO_LINK: case ML_A_PATH: return V_NESTED;
	default: return V_U32;
	}
}

/*
 * Validate one message the kernel sent (reply, dump entry or event):
 * returns NULL or what is wrong.  @buf/@len: the genl payload after the
 * generic header.
 */
static const char *check_attrs(unsigned int cmd, const uint8_t *p, size_t len, char *why,
			       size_t wl)
{
	size_t off = 0;
	int seen_dev = 0;

	while (off + NLA_HDRLEN <= len) {
		const struct nlattr *a = (const struct nlattr *)(p + off);
		unsigned int t = a->nla_type & NLA_TYPE_MASK;
		size_t al = a->nla_len, pl;
		const uint8_t *d = (const uint8_t *)(a + 1);

		if (al < NLA_HDRLEN || off + al > len) {
			snprintf(why, wl, "%s: attribute at %zu has nla_len %zu (message %zu)",
				 cmd_name(cmd), off, al, len);
			return why;
		}
		pl = al - NLA_HDRLEN;
		if (t == 0 || t > ML_A_MAX) {
			snprintf(why, wl, "%s: unknown attribute type %u", cmd_name(cmd), t);
			return why;
		}
		switch (attr_kind(t)) {
		case V_ANY:
			break;
		case V_U8:
			if (pl != 1)
				goto badlen;
			if ((t == ML_A_CARRIER || t == ML_A_LINK_STATE) && d[0] > 1)
				goto badval;
			if (t == ML_A_QP_STATE && d[0] > ML_QPS_ERROR)
				goto badval;
			if (t == ML_A_REASON && d[0] > ML_REASON_UNBIND)
				goto badval;
			break;
		case V_U16:
			if (pl != 2)
				goto badlen;
			break;
		case V_U32:
			if (pl != 4)
				goto badlen;
			if (t == ML_A_PORT_INDEX || t == ML_A_NEIGH_PORT_INDEX) {
				uint32_t v;

				memcpy(&v, d, 4);
				if (v >= ML_MAX_PORTS)
					goto badval;
			}
			break;
		case V_U64:
			if (pl != 8)
				goto badlen;
			break;
		case V_MAC:
			if (pl != 6)
				goto badlen;
			break;
		case V_IN6:
			if (pl != 16)
				goto badlen;
			break;
		case V_NESTED: {	/* topo-link, path: well-formed attributes */
			size_t o2 = 0;

			while (o2 + NLA_HDRLEN <= pl) {
				const struct nlattr *s = (const struct nlattr *)(d + o2);

				if (s->nla_len < NLA_HDRLEN || o2 + s->nla_len > pl ||
				    !(s->nla_type & NLA_TYPE_MASK)) {
					snprintf(why, wl, "%s: attribute %u: bad nested type %u "
						 "len %u", cmd_name(cmd), t,
						 s->nla_type & NLA_TYPE_MASK, s->nla_len);
					return why;
				}
				o2 += NLA_ALIGN(s->nla_len);
			}
			if (o2 != pl && NLA_ALIGN(pl) != o2)
				goto badlen;
			break;
		}
		case V_STR:
			if (!pl || pl > 16 || !memchr(d, 0, pl))
				goto badlen;
			if (t == ML_A_DEV_NAME) {
				seen_dev = 1;
				if (strncmp((const char *)d, "ml", 2))
					goto badval;
			}
			break;
		case V_NEST: {
			size_t o2 = 0;

			while (o2 + NLA_HDRLEN <= pl) {
				const struct nlattr *s = (const struct nlattr *)(d + o2);
				unsigned int st = s->nla_type & NLA_TYPE_MASK;

				if (s->nla_len < NLA_HDRLEN || o2 + s->nla_len > pl ||
				    st == 0 || st > ML_STAT_MAX ||
				    (st != ML_STAT_PAD && s->nla_len != NLA_HDRLEN + 8)) {
					snprintf(why, wl, "%s: bad stats entry type %u len %u",
						 cmd_name(cmd), st, s->nla_len);
					return why;
				}
				o2 += NLA_ALIGN(s->nla_len);
			}
			break;
		}
		}
		off += NLA_ALIGN(al);
		continue;
badlen:
		snprintf(why, wl, "%s: attribute %u has %zu payload bytes", cmd_name(cmd), t, pl);
		return why;
badval:
		snprintf(why, wl, "%s: attribute %u has an out-of-range value", cmd_name(cmd), t);
		return why;
	}
	if (off != len && NLA_ALIGN(len) != off) {
		snprintf(why, wl, "%s: %zu stray bytes after the attributes", cmd_name(cmd),
			 len - off);
		return why;
	}
	if (!seen_dev && cmd != 0) {
		snprintf(why, wl, "%s: message without dev-name", cmd_name(cmd));
		return why;
	}
	return NULL;
}

/* Structural check of a kernel message of our family; returns its cmd. */
static int check_family_msg(const struct nlmsghdr *h, const char *what)
{
	const struct genlmsghdr *g = NLMSG_DATA(h);
	char why[256];

	if (h->nlmsg_len < NLMSG_HDRLEN + GENL_HDRLEN) {
		nfail("%s: message of %u bytes", what, h->nlmsg_len);
		return -1;
	}
	if (g->cmd == 0 || g->cmd > ML_CMD_MAX) {
		nfail("%s: reply with command %u", what, g->cmd);
		return -1;
	}
	if (check_attrs(g->cmd, (const uint8_t *)(g + 1),
			h->nlmsg_len - NLMSG_HDRLEN - GENL_HDRLEN, why, sizeof(why))) {
		nfail("%s: %s", what, why);
		return -1;
	}
	return g->cmd;
}

/* The extended ack TLVs after an error; checks them, copies the message. */
static void parse_extack(const struct nlmsghdr *h, struct answer *an)
{
	const struct nlmsgerr *e = NLMSG_DATA(h);
	size_t off, len;
	const uint8_t *p;

	if (!(h->nlmsg_flags & NLM_F_ACK_TLVS))
		return;
	off = NLMSG_HDRLEN + sizeof(*e);
	if (!(h->nlmsg_flags & NLM_F_CAPPED))
		off += NLMSG_ALIGN(e->msg.nlmsg_len) - NLMSG_HDRLEN;
	else
		off += 0;
	if (off > h->nlmsg_len) {
		nfail("extack: error message of %u bytes, TLVs start at %zu", h->nlmsg_len, off);
		return;
	}
	p = (const uint8_t *)h + off;
	len = h->nlmsg_len - off;
	for (off = 0; off + NLA_HDRLEN <= len;) {
		const struct nlattr *a = (const struct nlattr *)(p + off);

		if (a->nla_len < NLA_HDRLEN || off + a->nla_len > len) {
			nfail("extack: TLV with nla_len %u at %zu of %zu", a->nla_len, off, len);
			return;
		}
		if (a->nla_type == NLMSGERR_ATTR_MSG) {
			size_t pl = a->nla_len - NLA_HDRLEN;

			if (!pl || !memchr(a + 1, 0, pl))
				nfail("extack: message not NUL-terminated");
			else
				snprintf(an->extack, sizeof(an->extack), "%s",
					 (const char *)(a + 1));
		}
		off += NLA_ALIGN(a->nla_len);
	}
}

/*
 * Read what the kernel sends for @seq until it is finished (ack, done,
 * or error), or @timeout_ms passes without it.  Returns 0 when finished,
 * -ETIMEDOUT otherwise.  Messages of other seqs are checked and ignored.
 */
static int nl_collect(int fd, uint32_t seq, bool dump, int timeout_ms, struct answer *an)
{
	static __thread uint8_t buf[65536];
	double end = now_s() + timeout_ms / 1000.0;

	memset(an, 0, sizeof(*an));
	for (;;) {
		struct pollfd pf = { .fd = fd, .events = POLLIN };
		int left = (int)((end - now_s()) * 1000);
		ssize_t n;
		struct nlmsghdr *h;
		size_t rem;

		if (left < 0)
			return -ETIMEDOUT;
		if (poll(&pf, 1, left) <= 0)
			continue;
		n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			if (errno == ENOBUFS) {
				an->overrun = 1;
				return 0;
			}
			nfail("recv: %s", strerror(errno));
			return -EIO;
		}
		rem = (size_t)n;
		for (h = (struct nlmsghdr *)buf; NLMSG_OK(h, rem); h = NLMSG_NEXT(h, rem)) {
			if (h->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e = NLMSG_DATA(h);

				if (h->nlmsg_len < NLMSG_HDRLEN + sizeof(*e)) {
					nfail("short NLMSG_ERROR (%u bytes)", h->nlmsg_len);
					continue;
				}
				if (h->nlmsg_seq != seq)
					continue;
				if (e->error > 0 || e->error < -4095)
					nfail("NLMSG_ERROR with error %d", e->error);
				an->got_ack = 1;
				an->err = e->error;
				parse_extack(h, an);
				if (!dump || e->error)
					return 0;
				continue;
			}
			if (h->nlmsg_type == NLMSG_DONE) {
				if (h->nlmsg_seq != seq)
					continue;
				an->got_done = 1;
				if (h->nlmsg_len >= NLMSG_HDRLEN + sizeof(int)) {
					int e;

					memcpy(&e, NLMSG_DATA(h), sizeof(e));
					an->err = e;
					if (e > 0)
						nfail("NLMSG_DONE with error %d", e);
				}
				return 0;
			}
			if (h->nlmsg_type == fam_id) {
				int c = check_family_msg(h, "reply");

				if (h->nlmsg_seq == seq) {
					if (an->nmsgs < 8)
						an->cmds[an->nmsgs] = (uint8_t)(c < 0 ? 0 : c);
					an->nmsgs++;
				}
				continue;
			}
			if (h->nlmsg_type == NLMSG_NOOP || h->nlmsg_type == NLMSG_OVERRUN)
				continue;
			if (h->nlmsg_type == GENL_ID_CTRL)
				continue;	/* answers to requests aimed at nlctrl */
			nfail("message of unexpected type %u (seq %u)", h->nlmsg_type,
			     h->nlmsg_seq);
		}
		if (rem)
			nfail("recv: %zu trailing bytes that are not a message", rem);
	}
}

/* Resolve the family id and the monitor group (CTRL_CMD_GETFAMILY). */
static int resolve_family(void)
{
	struct msgbuf *m = calloc(1, sizeof(*m));
	uint8_t buf[8192];
	size_t at;
	ssize_t n;
	int fd = nl_sock(NETLINK_GENERIC), r = -ENOENT;
	struct nlmsghdr *h;

	if (fd < 0 || !m)
		return fd < 0 ? fd : -ENOMEM;
	at = mb_start(m, GENL_ID_CTRL, NLM_F_REQUEST, 1, CTRL_CMD_GETFAMILY, 1);
	mb_attr(m, CTRL_ATTR_FAMILY_NAME, ML_GENL_NAME, sizeof(ML_GENL_NAME));
	mb_end(m, at);
	if (nl_sendbuf(fd, m->b, m->len) < 0)
		goto out;
	n = recv(fd, buf, sizeof(buf), 0);
	h = (struct nlmsghdr *)buf;
	if (n < (ssize_t)NLMSG_HDRLEN || h->nlmsg_type != GENL_ID_CTRL)
		goto out;
	{
		uint8_t *p = (uint8_t *)NLMSG_DATA(h) + GENL_HDRLEN;
		size_t len = h->nlmsg_len - NLMSG_HDRLEN - GENL_HDRLEN, off = 0;

		while (off + NLA_HDRLEN <= len) {
			struct nlattr *a = (struct nlattr *)(p + off);

			if (a->nla_len < NLA_HDRLEN)
				break;
			if (a->nla_type == CTRL_ATTR_FAMILY_ID) {
				memcpy(&fam_id, a + 1, 2);
				r = 0;
			} else if ((a->nla_type & NLA_TYPE_MASK) == CTRL_ATTR_MCAST_GROUPS) {
				uint8_t *q = (uint8_t *)(a + 1);
				size_t ql = a->nla_len - NLA_HDRLEN, qo = 0;

				while (qo + NLA_HDRLEN <= ql) {
					struct nlattr *g = (struct nlattr *)(q + qo);
					uint8_t *gp = (uint8_t *)(g + 1);
					size_t gl = g->nla_len - NLA_HDRLEN, go = 0;
					uint32_t id = 0;
					int mine = 0;

					if (g->nla_len < NLA_HDRLEN)
						break;
					while (go + NLA_HDRLEN <= gl) {
						struct nlattr *x = (struct nlattr *)(gp + go);

						if (x->nla_len < NLA_HDRLEN)
							break;
						if (x->nla_type == CTRL_ATTR_MCAST_GRP_ID)
							memcpy(&id, x + 1, 4);
						if (x->nla_type == CTRL_ATTR_MCAST_GRP_NAME &&
						    !strcmp((char *)(x + 1), ML_GENL_MCGRP_MONITOR))
							mine = 1;
						go += NLA_ALIGN(x->nla_len);
					}
					if (mine)
						mcgrp_id = id;
					qo += NLA_ALIGN(g->nla_len);
				}
			}
			off += NLA_ALIGN(a->nla_len);
		}
	}
out:
	close(fd);
	free(m);
	return r;
}

/* ------------------------------------------------------------------ */
/* Fuzz inputs                                                          */
/* ------------------------------------------------------------------ */

#define MAX_NAMES 16

struct world {
	const char *ns;			/* netns of this worker ("-": initial) */
	char ifs[MAX_NAMES][IFNAMSIZ];	/* netdevs it may name */
	int nifs;
	int ifindex[MAX_NAMES];
	bool sandbox;			/* privileged: may bind/unbind these */
};

static const uint32_t u32_vals[] = {
	0, 1, 2, 3, 7, 8, 9, 10, 11, 29, 30, 31, 59, 60, 100, 255, 256, 257,
	1000, 4000, 59999, 60000, 60001, 599999, 600000, 600001, 65535, 65536,
	0x7fffffff, 0x80000000, 0xfffffffd, 0xfffffffe, 0xffffffff,
};

static uint32_t pick_u32(struct rng *r, const struct world *w, unsigned int t)
{
	switch (rn(r, 6)) {
	case 0:
		return (uint32_t)rnd(r);
	case 1:
		if (t == ML_A_IFINDEX && w->nifs)
			return (uint32_t)w->ifindex[rn(r, (uint32_t)w->nifs)];
		return rn(r, 300);
	case 2:
		return rn(r, 12);
	default:
		return u32_vals[rn(r, sizeof(u32_vals) / sizeof(u32_vals[0]))];
	}
}

static void pick_str(struct rng *r, const struct world *w, unsigned int t, char *s,
		     size_t *len)
{
	static const char *odd[] = {
		"", "lo", "ml", "ml0", "ml1", "ml2", "ml3", "ml255", "ml256", "mlx",
		"ml00", "eth0", "nonexistent", "fuzz", "%s%n", "ml-1",
	};
	size_t n;

	switch (rn(r, 8)) {
	case 0: case 1:
		if (w->nifs && (t == ML_A_IFNAME || pct(r, 30))) {
			snprintf(s, 64, "%s", w->ifs[rn(r, (uint32_t)w->nifs)]);
			break;
		}
		snprintf(s, 64, "ml%u", rn(r, 8));
		break;
	case 2:
		snprintf(s, 64, "ml%u", rn(r, 8));
		break;
	case 3:
		snprintf(s, 64, "%s", odd[rn(r, sizeof(odd) / sizeof(odd[0]))]);
		break;
	case 4:		/* exactly at and over the limits: 15, 16, 17 chars */
		n = 14 + rn(r, 4);
		memset(s, 'a' + (int)rn(r, 26), n);
		s[n] = 0;
		break;
	case 5:		/* very long */
		n = 17 + rn(r, 280);
		memset(s, 'x', n);
		s[n] = 0;
		break;
	case 6:		/* not NUL-terminated: caller sends *len bytes */
		n = 1 + rn(r, 16);
		memset(s, 'm', n);
		s[0] = 'm';
		s[1 % n] = 'l';
		*len = n;
		return;
	default:	/* embedded NUL */
		memcpy(s, "ml0\0junk", 9);
		*len = 9;
		return;
	}
	*len = strlen(s) + 1;
}

/* One random attribute of type @t, well-formed or not. */
static void put_attr(struct rng *r, struct msgbuf *m, const struct world *w, unsigned int t,
		     int depth, bool clean)
{
	uint8_t data[512];
	size_t len = 0;
	uint16_t type = (uint16_t)t;
	uint32_t v32;
	uint64_t v64;

	switch (attr_kind(t)) {
	case V_STR: {
		char s[400];

		if (clean) {
			if (t == ML_A_IFNAME && w->nifs)
				snprintf(s, sizeof(s), "%s", w->ifs[rn(r, (uint32_t)w->nifs)]);
			else
				snprintf(s, sizeof(s), "ml%u", rn(r, 8));
			len = strlen(s) + 1;
		} else {
			pick_str(r, w, t, s, &len);
		}
		memcpy(data, s, len);
		break;
	}
	case V_U8:
		data[0] = (uint8_t)rn(r, 4);
		len = 1;
		break;
	case V_U16:
		v32 = pct(r, 50) ? ML_ETHERTYPE_DEFAULT : (uint32_t)rnd(r);
		memcpy(data, &v32, 2);
		len = 2;
		break;
	case V_U64:
		v64 = pct(r, 50) ? rnd(r) : rn(r, 4);
		memcpy(data, &v64, 8);
		len = 8;
		break;
	case V_MAC:
		v64 = rnd(r);
		memcpy(data, &v64, 6);
		len = 6;
		break;
	case V_NEST:
		if (depth < 3) {
			size_t at = mb_nest_start(m, (uint16_t)(t | (pct(r, 70) ? NLA_F_NESTED : 0)));
			unsigned int k, n = rn(r, 5);

			for (k = 0; k < n; k++)
				put_attr(r, m, w, rn(r, ML_STAT_MAX + 3), depth + 1, false);
			mb_nest_end(m, at);
			return;
		}
		len = 0;
		break;
	default:
		v32 = pick_u32(r, w, t);
		if (clean && t == ML_A_DEV_INDEX)
			v32 = rn(r, 8);
		else if (clean && t == ML_A_PORT_INDEX)
			v32 = rn(r, 3);
		else if (clean && t == ML_A_IFINDEX && w->nifs)
			v32 = (uint32_t)w->ifindex[rn(r, (uint32_t)w->nifs)];
		memcpy(data, &v32, 4);
		len = 4;
		break;
	}
	if (clean) {
		mb_attr(m, type, data, len);
		return;
	}
	/* Wrong sizes, random payloads, flag bits. */
	if (pct(r, 12)) {
		static const size_t lens[] = { 0, 1, 2, 3, 5, 6, 7, 8, 9, 12, 16, 17, 64, 300 };

		size_t nl = lens[rn(r, sizeof(lens) / sizeof(lens[0]))];

		for (size_t i = len; i < nl; i++)
			data[i] = (uint8_t)rnd(r);
		len = nl;
	}
	if (pct(r, 4))
		type |= NLA_F_NESTED;
	if (pct(r, 3))
		type |= NLA_F_NET_BYTEORDER;
	if (depth < 3 && pct(r, 3)) {
		/* A nest where a scalar belongs, holding random attributes. */
		size_t at = mb_nest_start(m, (uint16_t)(t | NLA_F_NESTED));

		put_attr(r, m, w, 1 + rn(r, ML_A_MAX + 2), depth + 1, false);
		mb_nest_end(m, at);
		return;
	}
	if (pct(r, 2)) {
		/* nla_len lies: shorter than the header or past the message */
		uint16_t lie = pct(r, 50) ? (uint16_t)rn(r, NLA_HDRLEN) :
			       (uint16_t)(NLA_HDRLEN + len + 4 + rn(r, 2000));

		mb_attr_raw(m, type, lie, data, len);
		return;
	}
	mb_attr(m, type, data, len);
}

/* The attribute types a command looks at, to bias the choice. */
static unsigned int pick_type(struct rng *r, unsigned int cmd, bool clean)
{
	static const unsigned int sel_dev[] = { ML_A_DEV_INDEX, ML_A_DEV_NAME };
	static const unsigned int sel_port[] = { ML_A_DEV_INDEX, ML_A_DEV_NAME, ML_A_PORT_INDEX,
						 ML_A_IFINDEX, ML_A_IFNAME };
	static const unsigned int bind[] = { ML_A_DEV_INDEX, ML_A_DEV_NAME, ML_A_NODE_ID,
					     ML_A_HELLO_MS, ML_A_DEAD_MS, ML_A_IFINDEX,
					     ML_A_IFNAME };
	static const unsigned int set[] = { ML_A_DEV_INDEX, ML_A_DEV_NAME, ML_A_NODE_ID,
					    ML_A_HELLO_MS, ML_A_DEAD_MS };

	if (!clean && pct(r, 15))
		return rn(r, 100) < 90 ? rn(r, ML_A_MAX + 4) : (uint16_t)rnd(r) & NLA_TYPE_MASK;
	switch (cmd) {
	case ML_CMD_DEV_GET: case ML_CMD_NEIGH_GET: case ML_CMD_QP_GET:
		return sel_dev[rn(r, 2)];
	case ML_CMD_PORT_GET: case ML_CMD_STATS_GET: case ML_CMD_PORT_UNBIND:
		return sel_port[rn(r, 5)];
	case ML_CMD_PORT_BIND:
		return bind[rn(r, 7)];
	case ML_CMD_DEV_SET:
		return set[rn(r, 5)];
	default:
		return rn(r, ML_A_MAX + 2);
	}
}

static bool is_admin(unsigned int cmd)
{
	return cmd == ML_CMD_DEV_SET || cmd == ML_CMD_PORT_BIND || cmd == ML_CMD_PORT_UNBIND;
}

static bool has_doit(unsigned int cmd)
{
	return cmd == ML_CMD_DEV_GET || cmd == ML_CMD_DEV_SET || cmd == ML_CMD_PORT_GET ||
	       cmd == ML_CMD_PORT_BIND || cmd == ML_CMD_PORT_UNBIND || cmd == ML_CMD_STATS_GET ||
	       cmd == ML_CMD_PEER_ADD || cmd == ML_CMD_PEER_DEL;
}

static bool has_dump(unsigned int cmd)
{
	return cmd == ML_CMD_DEV_GET || cmd == ML_CMD_PORT_GET || cmd == ML_CMD_NEIGH_GET ||
	       cmd == ML_CMD_STATS_GET || cmd == ML_CMD_QP_GET || cmd == ML_CMD_PEER_GET ||
	       cmd == ML_CMD_TOPO_GET;
}

/* Errnos the family may answer with (docs/uapi.md), plus netlink's own. */
static bool errno_ok(int e)
{
	switch (e) {
	case 0: case EINVAL: case ERANGE: case ENODEV: case ENOENT: case EOPNOTSUPP:
	case EPERM: case EBUSY: case ENOSPC: case EEXIST: case ENETDOWN: case EMSGSIZE:
		return true;
	}
	return false;
}

/* ------------------------------------------------------------------ */
/* Workers                                                              */
/* ------------------------------------------------------------------ */

struct worker {
	struct world w;
	bool priv;		/* expected to hold CAP_NET_ADMIN */
	bool drop_after;	/* privileges dropped after opening the socket */
	int id;
};

struct wsock {
	int fd;
	uint32_t seq;
	bool ext_ack, strict;
};

static void ws_open(struct wsock *s, struct rng *r)
{
	int one = 1;

	if (s->fd >= 0)
		close(s->fd);
	s->fd = nl_sock(NETLINK_GENERIC);
	if (s->fd < 0) {
		nfail("netlink socket: %s", strerror(-s->fd));
		return;
	}
	s->ext_ack = pct(r, 80);
	s->strict = pct(r, 30);
	if (s->ext_ack)
		setsockopt(s->fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
	if (pct(r, 30))
		setsockopt(s->fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
	if (s->strict)
		setsockopt(s->fd, SOL_NETLINK, NETLINK_GET_STRICT_CHK, &one, sizeof(one));
	if (pct(r, 10)) {
		int sz = 2048 + (int)rn(r, 8192);

		setsockopt(s->fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	}
}

static void describe(char *out, size_t ol, const struct msgbuf *m, size_t at)
{
	const struct nlmsghdr *h = (const struct nlmsghdr *)(m->b + at);
	size_t i, n = h->nlmsg_len < 96 ? h->nlmsg_len : 96, o;

	o = (size_t)snprintf(out, ol, "flags 0x%x len %u:", h->nlmsg_flags, h->nlmsg_len);
	for (i = NLMSG_HDRLEN; i < n && o + 4 < ol; i++)
		o += (size_t)snprintf(out + o, ol - o, " %02x", m->b[at + i]);
}

/* Judge the answer to one single, well-formed request. */
static void judge(const struct worker *wk, unsigned int cmd, bool dump, bool acked,
		  const struct answer *an, int rc, const struct msgbuf *m, size_t at)
{
	char d[400];
	int e = -an->err;

	if (an->overrun)
		return;
	describe(d, sizeof(d), m, at);
	if (rc == -ETIMEDOUT) {
		if (acked || dump)
			nfail("%s %s%s: no answer in 10 s (%s)", wk->priv ? "priv" : "unpriv",
			     cmd_name(cmd), dump ? " dump" : "", d);
		return;
	}
	if (rc)
		return;
	sh->errs[e >= 0 && e < 160 ? e : 159]++;
	if (!errno_ok(e))
		nfail("%s %s%s: errno %d (%s) is not one the family documents (%s) [%s]",
		     wk->priv ? "priv" : "unpriv", cmd_name(cmd), dump ? " dump" : "", e,
		     strerror(e), d, an->extack);
	if (dump && !an->err && !an->got_done)
		nfail("%s dump: ended without NLMSG_DONE (%s)", cmd_name(cmd), d);
	if (is_admin(cmd) && !dump && !wk->priv) {
		count(K_UNPRIV_ADMIN);
		if (!e)
			nfail("unprivileged %s SUCCEEDED (%s)", cmd_name(cmd), d);
		else if (e != EPERM && e != EINVAL && e != ERANGE && e != EOPNOTSUPP)
			nfail("unprivileged %s: errno %s, want EPERM (or a policy error) (%s) [%s]",
			     cmd_name(cmd), strerror(e), d, an->extack);
	}
	if (!e && !dump && has_doit(cmd) && an->nmsgs > 1)
		nfail("%s: %d replies to one doit (%s)", cmd_name(cmd), an->nmsgs, d);
	if (!e && !dump && (cmd == ML_CMD_DEV_GET || cmd == ML_CMD_PORT_GET ||
			    cmd == ML_CMD_STATS_GET || cmd == ML_CMD_PORT_BIND) &&
	    acked && an->nmsgs != 1)
		nfail("%s succeeded with %d replies (%s)", cmd_name(cmd), an->nmsgs, d);
	if (!e && !dump && (cmd == ML_CMD_DEV_SET || cmd == ML_CMD_PORT_UNBIND) && an->nmsgs)
		nfail("%s succeeded with %d replies, want none (%s)", cmd_name(cmd), an->nmsgs, d);
}

/* A random request: command, header, attributes. */
static size_t build_random(struct rng *r, const struct worker *wk, struct msgbuf *m,
			   uint32_t seq, unsigned int *cmdp, uint16_t *flagsp)
{
	unsigned int cmd, n, k;
	uint16_t flags = NLM_F_REQUEST;
	uint8_t ver = ML_GENL_VERSION;
	size_t at;

	static const uint8_t op_cmds[] = { ML_CMD_DEV_GET, ML_CMD_DEV_SET, ML_CMD_PORT_GET,
					   ML_CMD_PORT_BIND, ML_CMD_PORT_UNBIND, ML_CMD_NEIGH_GET,
					   ML_CMD_STATS_GET, ML_CMD_QP_GET };
	bool clean = pct(r, 40);

	if (pct(r, 75))
		cmd = op_cmds[rn(r, sizeof(op_cmds))];
	else if (pct(r, 80))
		cmd = 1 + rn(r, ML_CMD_MAX);
	else
		cmd = pct(r, 50) ? rn(r, ML_CMD_MAX + 4) : (uint8_t)rnd(r);
	if (pct(r, 85))
		flags |= NLM_F_ACK;
	if (pct(r, 35))
		flags |= NLM_F_DUMP;
	else if (pct(r, 3))
		flags |= pct(r, 50) ? NLM_F_ROOT : NLM_F_MATCH;
	if (clean && (flags & NLM_F_DUMP) == NLM_F_DUMP && !has_dump(cmd))
		flags &= (uint16_t)~NLM_F_DUMP;
	if (pct(r, 3))
		flags |= NLM_F_ECHO;
	if (!clean && pct(r, 3))
		flags |= (uint16_t)(rnd(r) & 0xfe00);
	if (!clean && pct(r, 5))
		ver = (uint8_t)rn(r, 4);
	at = mb_start(m, fam_id, flags, seq, (uint8_t)cmd, ver);
	if (pct(r, 3))
		((struct genlmsghdr *)NLMSG_DATA(mb_nlh(m, at)))->reserved = (uint16_t)rnd(r);
	n = rn(r, clean ? 4 : 6);
	if (!clean && pct(r, 10))
		n += rn(r, 20);
	for (k = 0; k < n; k++) {
		unsigned int t = pick_type(r, cmd, clean);

		put_attr(r, m, &wk->w, t, 0, clean);
		if (pct(r, clean ? 2 : 8))	/* the same attribute again */
			put_attr(r, m, &wk->w, t, 0, clean);
	}
	mb_end(m, at);
	*cmdp = cmd;
	*flagsp = flags;
	return at;
}

/* One request with a random body; answer judged. */
static void do_random(struct rng *r, const struct worker *wk, struct wsock *s, struct msgbuf *m)
{
	unsigned int cmd;
	uint16_t flags;
	size_t at;
	bool dump, acked;
	struct answer an;
	int rc, trunc = 0;

	m->len = 0;
	at = build_random(r, wk, m, ++s->seq, &cmd, &flags);
	if (pct(r, 5) && m->len - at > NLMSG_HDRLEN + GENL_HDRLEN + 2) {
		/* cut inside the attributes, message length adjusted */
		size_t cut = NLMSG_HDRLEN + GENL_HDRLEN +
			     rn(r, (uint32_t)(m->len - at - NLMSG_HDRLEN - GENL_HDRLEN));

		m->len = at + cut;
		mb_end(m, at);
		trunc = 1;
		count(K_TRUNC);
	}
	dump = (flags & NLM_F_DUMP) == NLM_F_DUMP;
	acked = flags & NLM_F_ACK;
	if (nl_sendbuf(s->fd, m->b, m->len) < 0) {
		if (errno != ENOBUFS)
			nfail("send: %s", strerror(errno));
		return;
	}
	count(dump ? K_DUMP : (acked ? K_DOIT : K_NOACK));
	rc = nl_collect(s->fd, s->seq, dump, acked || dump ? 10000 : 300, &an);
	/* Without an ack, a successful doit may answer nothing at all. */
	if (!acked && !dump && rc == -ETIMEDOUT)
		return;
	if (cmd > ML_CMD_MAX || !(has_doit(cmd) || has_dump(cmd)))
		if (!rc && !an.overrun && an.err != -EOPNOTSUPP && an.err != -EINVAL &&
		    an.err != -EPERM)
			nfail("command %u answered with %d, want EOPNOTSUPP", cmd, an.err);
	(void)trunc;
	judge(wk, cmd, dump, acked, &an, rc, m, at);
}

/* Several messages in one datagram, the last one maybe cut; drained. */
static void do_batch(struct rng *r, const struct worker *wk, struct wsock *s, struct msgbuf *m)
{
	unsigned int cmd, k, n = 2 + rn(r, 4);
	uint16_t flags;
	uint32_t first = s->seq + 1;
	struct answer an;
	size_t at = 0;

	m->len = 0;
	for (k = 0; k < n && m->len < 12000; k++) {
		m->len = NLMSG_ALIGN(m->len);
		at = build_random(r, wk, m, ++s->seq, &cmd, &flags);
		/* one dump per datagram at most: a second one is EBUSY */
		if ((flags & NLM_F_DUMP) == NLM_F_DUMP && k) {
			struct nlmsghdr *h = mb_nlh(m, at);

			h->nlmsg_flags &= (uint16_t)~NLM_F_DUMP;
		}
	}
	if (pct(r, 30))
		m->len -= rn(r, (uint32_t)(m->len - at));
	count(K_BATCH);
	if (nl_sendbuf(s->fd, m->b, m->len) < 0)
		return;
	/* drain: whatever comes within a moment */
	for (k = 0; k < n; k++)
		if (nl_collect(s->fd, first + k, true, 200, &an) == -ETIMEDOUT)
			break;
	ws_open(s, r);	/* leftovers of the batch must not confuse the next seq */
}

/* Broken netlink headers: lengths that lie, types that are not ours. */
static void do_badhdr(struct rng *r, const struct worker *wk, struct wsock *s, struct msgbuf *m)
{
	unsigned int cmd;
	uint16_t flags;
	struct answer an;
	size_t at;
	struct nlmsghdr *h;

	m->len = 0;
	at = build_random(r, wk, m, ++s->seq, &cmd, &flags);
	h = mb_nlh(m, at);
	switch (rn(r, 6)) {
	case 0:
		h->nlmsg_len = (uint32_t)rn(r, NLMSG_HDRLEN + GENL_HDRLEN);
		break;
	case 1:
		h->nlmsg_len += 1 + rn(r, 3000);
		break;
	case 2:
		m->len = at + rn(r, NLMSG_HDRLEN + GENL_HDRLEN);	/* short datagram */
		break;
	case 3:
		h->nlmsg_type = (uint16_t)(pct(r, 50) ? fam_id + 1 + rn(r, 3) : rnd(r));
		break;
	case 4:
		h->nlmsg_flags &= (uint16_t)~NLM_F_REQUEST;
		break;
	default:
		h->nlmsg_len = NLMSG_HDRLEN + rn(r, GENL_HDRLEN);	/* no full genl header */
		m->len = at + h->nlmsg_len;
		break;
	}
	count(K_BADHDR);
	if (nl_sendbuf(s->fd, m->b, m->len) < 0)
		return;
	nl_collect(s->fd, s->seq, true, 200, &an);
	ws_open(s, r);
}

/* Start a dump and walk away: read part or nothing, then close. */
static void do_abandon(struct rng *r, struct wsock *s, struct msgbuf *m)
{
	static const uint8_t cmds[] = { ML_CMD_DEV_GET, ML_CMD_PORT_GET, ML_CMD_NEIGH_GET,
					ML_CMD_STATS_GET, ML_CMD_QP_GET };
	uint8_t buf[512];
	size_t at;
	int sz = 2048;

	setsockopt(s->fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	m->len = 0;
	at = mb_start(m, fam_id, NLM_F_REQUEST | NLM_F_DUMP, ++s->seq, cmds[rn(r, 5)], 1);
	mb_end(m, at);
	if (nl_sendbuf(s->fd, m->b, m->len) >= 0 && pct(r, 50)) {
		usleep(rn(r, 3000));
		recv(s->fd, buf, sizeof(buf), MSG_DONTWAIT | MSG_TRUNC);
	}
	count(K_ABANDON);
	ws_open(s, r);
}

/* ---- requests with a known right answer ---- */

struct seen_dev {
	uint32_t index;
	char name[16];
};

/* Send a prepared single request, collect, return the error (or 1: none). */
static int talk(struct wsock *s, struct msgbuf *m, bool dump, struct answer *an)
{
	if (nl_sendbuf(s->fd, m->b, m->len) < 0)
		return 1;
	if (nl_collect(s->fd, s->seq, dump, 10000, an)) {
		nfail("%s: no answer in 10 s", dump ? "dump" : "request");
		return 1;
	}
	if (an->overrun)
		return 1;
	return an->err;
}

/* Dump devices, then ask each by index and by name. */
static void do_oracle(struct rng *r, const struct worker *wk, struct wsock *s, struct msgbuf *m)
{
	static __thread uint8_t buf[65536];
	struct seen_dev devs[32];
	int ndev = 0, e, i;
	struct answer an;
	size_t at;
	ssize_t n;
	double end;

	count(K_ORACLE);
	m->len = 0;
	at = mb_start(m, fam_id, NLM_F_REQUEST | NLM_F_DUMP | NLM_F_ACK, ++s->seq,
		      ML_CMD_DEV_GET, 1);
	mb_end(m, at);
	if (nl_sendbuf(s->fd, m->b, m->len) < 0)
		return;
	end = now_s() + 10;
	for (;;) {
		struct pollfd pf = { .fd = s->fd, .events = POLLIN };
		struct nlmsghdr *h;
		size_t rem;
		bool done = false;

		if (now_s() > end) {
			nfail("DEV_GET dump: no NLMSG_DONE in 10 s");
			ws_open(s, r);
			return;
		}
		if (poll(&pf, 1, 200) <= 0)
			continue;
		n = recv(s->fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n < 0) {
			if (errno == ENOBUFS) {
				ws_open(s, r);
				return;
			}
			continue;
		}
		rem = (size_t)n;
		for (h = (struct nlmsghdr *)buf; NLMSG_OK(h, rem); h = NLMSG_NEXT(h, rem)) {
			if (h->nlmsg_seq != s->seq)
				continue;
			if (h->nlmsg_type == NLMSG_DONE || h->nlmsg_type == NLMSG_ERROR) {
				done = true;
				break;
			}
			if (h->nlmsg_type != fam_id || check_family_msg(h, "DEV_GET dump") < 0)
				continue;
			{
				struct genlmsghdr *g = NLMSG_DATA(h);
				uint8_t *p = (uint8_t *)(g + 1);
				size_t len = h->nlmsg_len - NLMSG_HDRLEN - GENL_HDRLEN, off = 0;
				struct seen_dev sd = { .index = ~0u };

				while (off + NLA_HDRLEN <= len) {
					struct nlattr *a = (struct nlattr *)(p + off);

					if (a->nla_type == ML_A_DEV_INDEX)
						memcpy(&sd.index, a + 1, 4);
					if (a->nla_type == ML_A_DEV_NAME)
						snprintf(sd.name, sizeof(sd.name), "%s",
							 (char *)(a + 1));
					off += NLA_ALIGN(a->nla_len);
				}
				if (ndev < 32)
					devs[ndev++] = sd;
			}
		}
		if (done)
			break;
	}
	for (i = 0; i < ndev; i++) {
		if (devs[i].index >= ML_MAX_DEVICES || strncmp(devs[i].name, "ml", 2))
			nfail("DEV_GET dump: device index %u name '%s'", devs[i].index, devs[i].name);
		m->len = 0;
		at = mb_start(m, fam_id, NLM_F_REQUEST | NLM_F_ACK, ++s->seq, ML_CMD_DEV_GET, 1);
		if (pct(r, 50))
			mb_attr(m, ML_A_DEV_INDEX, &devs[i].index, 4);
		else
			mb_attr(m, ML_A_DEV_NAME, devs[i].name, strlen(devs[i].name) + 1);
		mb_end(m, at);
		e = talk(s, m, false, &an);
		if (e == 1)
			continue;
		/* the device may have gone meanwhile (a sandbox unbind) */
		if (e && !(e == -ENODEV && wk->w.sandbox))
			nfail("DEV_GET of dumped device %s (%u): %s [%s]", devs[i].name,
			     devs[i].index, strerror(-e), an.extack);
		if (!e && an.nmsgs != 1)
			nfail("DEV_GET of %s: %d replies", devs[i].name, an.nmsgs);
	}
	/* a port query for each netdev we know: port or ENOENT */
	for (i = 0; i < wk->w.nifs; i++) {
		m->len = 0;
		at = mb_start(m, fam_id, NLM_F_REQUEST | NLM_F_ACK, ++s->seq,
			      pct(r, 50) ? ML_CMD_PORT_GET : ML_CMD_STATS_GET, 1);
		mb_attr(m, ML_A_IFNAME, wk->w.ifs[i], strlen(wk->w.ifs[i]) + 1);
		mb_end(m, at);
		e = talk(s, m, false, &an);
		if (e == 1)
			continue;
		if (e && e != -ENOENT && !(e == -ENODEV && wk->w.sandbox))
			nfail("PORT_GET/STATS_GET ifname %s: %s [%s]", wk->w.ifs[i],
			     strerror(-e), an.extack);
	}
}

/* Privileged, valid: bind, unbind, dev-set on the sandbox's netdevs. */
static void do_admin(struct rng *r, const struct worker *wk, struct wsock *s, struct msgbuf *m)
{
	struct answer an;
	uint32_t v;
	size_t at;
	int e;
	const char *ifn;
	char dev[16];

	if (!wk->w.nifs)
		return;
	ifn = wk->w.ifs[rn(r, (uint32_t)wk->w.nifs)];
	snprintf(dev, sizeof(dev), "ml%u", rn(r, 12));
	m->len = 0;
	switch (rn(r, 3)) {
	case 0:
		count(K_BIND);
		at = mb_start(m, fam_id, NLM_F_REQUEST | NLM_F_ACK, ++s->seq, ML_CMD_PORT_BIND, 1);
		mb_attr(m, ML_A_IFNAME, ifn, strlen(ifn) + 1);
		if (pct(r, 30)) {
			mb_attr(m, ML_A_DEV_NAME, dev, strlen(dev) + 1);
		} else {
			if (pct(r, 60)) {
				v = 0x100 + rn(r, 64);
				mb_attr(m, ML_A_NODE_ID, &v, 4);
			}
			if (pct(r, 50)) {
				v = 20 + rn(r, 400);
				mb_attr(m, ML_A_HELLO_MS, &v, 4);
				v = v * 2 + rn(r, 2000);
				mb_attr(m, ML_A_DEAD_MS, &v, 4);
			}
		}
		mb_end(m, at);
		e = talk(s, m, false, &an);
		if (e != 1 && e && e != -EBUSY && e != -EEXIST && e != -ENODEV &&
		    e != -ENETDOWN && e != -ENOSPC && e != -EOPNOTSUPP)
			nfail("PORT_BIND %s%s%s: %s [%s]", ifn, m->len > 60 ? " dev " : "",
			     m->len > 60 ? dev : "", strerror(-e), an.extack);
		if (!e && an.nmsgs != 1)
			nfail("PORT_BIND %s: %d replies", ifn, an.nmsgs);
		break;
	case 1:
		count(K_UNBIND);
		at = mb_start(m, fam_id, NLM_F_REQUEST | NLM_F_ACK, ++s->seq, ML_CMD_PORT_UNBIND,
			      1);
		if (pct(r, 70)) {
			mb_attr(m, ML_A_IFNAME, ifn, strlen(ifn) + 1);
		} else {
			v = rn(r, 3);
			mb_attr(m, ML_A_DEV_NAME, dev, strlen(dev) + 1);
			mb_attr(m, ML_A_PORT_INDEX, &v, 4);
		}
		mb_end(m, at);
		e = talk(s, m, false, &an);
		if (e != 1 && e && e != -ENOENT && e != -ENODEV)
			nfail("PORT_UNBIND %s: %s [%s]", ifn, strerror(-e), an.extack);
		break;
	default:
		count(K_DEVSET);
		at = mb_start(m, fam_id, NLM_F_REQUEST | NLM_F_ACK, ++s->seq, ML_CMD_DEV_SET, 1);
		mb_attr(m, ML_A_DEV_NAME, dev, strlen(dev) + 1);
		if (pct(r, 50)) {
			v = 0x100 + rn(r, 64);
			mb_attr(m, ML_A_NODE_ID, &v, 4);
		}
		v = 20 + rn(r, 400);
		mb_attr(m, ML_A_HELLO_MS, &v, 4);
		v = v * 2 + rn(r, 2000);
		mb_attr(m, ML_A_DEAD_MS, &v, 4);
		mb_end(m, at);
		e = talk(s, m, false, &an);
		if (e != 1 && e && e != -ENODEV && e != -EEXIST)
			nfail("DEV_SET %s: %s [%s]", dev, strerror(-e), an.extack);
		break;
	}
}

/* drop_after workers: threads open their socket, then wait for the drop */
static atomic_int opened, dropped;

struct thr {
	struct worker *wk;
	int idx;
	pthread_t t;
};

static void *fuzz_thread(void *arg)
{
	struct thr *th = arg;
	struct worker *wk = th->wk;
	struct msgbuf *m = malloc(sizeof(*m));
	struct wsock s = { .fd = -1, .seq = (uint32_t)th->idx << 24 };
	struct rng r;

	if (!m)
		return NULL;
	rng_init(&r, g_seed, (uint64_t)wk->id * 64 + (uint64_t)th->idx);
	ws_open(&s, &r);
	if (wk->drop_after) {
		atomic_fetch_add(&opened, 1);
		while (!atomic_load(&dropped))
			usleep(1000);
	}
	while (now_s() < g_deadline && !atomic_load(&sh->stop) && s.fd >= 0) {
		unsigned int p = rn(&r, 1000);

		if (p < 700)
			do_random(&r, wk, &s, m);
		else if (p < 770)
			do_batch(&r, wk, &s, m);
		else if (p < 820)
			do_badhdr(&r, wk, &s, m);
		else if (p < 850)
			do_abandon(&r, &s, m);
		else if (p < 880) {
			count(K_SOCKGAME);
			ws_open(&s, &r);
		} else if (p < 920)
			do_oracle(&r, wk, &s, m);
		else if (wk->priv && wk->w.sandbox)
			do_admin(&r, wk, &s, m);
		else
			do_random(&r, wk, &s, m);
	}
	if (s.fd >= 0)
		close(s.fd);
	free(m);
	return NULL;
}

/* ---- monitor: events must be well formed; joins and leaves ---- */

static void *monitor_thread(void *arg)
{
	struct worker *wk = arg;
	static __thread uint8_t buf[65536];
	struct rng r;
	int fd = nl_sock(NETLINK_GENERIC), lazy = nl_sock(NETLINK_GENERIC);
	int g = (int)mcgrp_id;

	rng_init(&r, g_seed, 0x1000u + (unsigned int)wk->id);
	if (fd < 0 || setsockopt(fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &g, sizeof(g))) {
		nfail("monitor: join group %d: %s", g, strerror(errno));
		return NULL;
	}
	/* a member that never reads: its queue overflows */
	if (lazy >= 0)
		setsockopt(lazy, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &g, sizeof(g));
	while (now_s() < g_deadline && !atomic_load(&sh->stop)) {
		struct pollfd pf = { .fd = fd, .events = POLLIN };
		ssize_t n;
		size_t rem;
		struct nlmsghdr *h;

		if (pct(&r, 2) && lazy >= 0) {
			int op = pct(&r, 50) ? NETLINK_DROP_MEMBERSHIP : NETLINK_ADD_MEMBERSHIP;

			setsockopt(lazy, SOL_NETLINK, op, &g, sizeof(g));
			count(K_MCJOIN);
		}
		if (poll(&pf, 1, 100) <= 0)
			continue;
		n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n < 0)
			continue;	/* ENOBUFS: events were lost, fine */
		rem = (size_t)n;
		for (h = (struct nlmsghdr *)buf; NLMSG_OK(h, rem); h = NLMSG_NEXT(h, rem)) {
			int c;

			if (h->nlmsg_type != fam_id) {
				nfail("monitor: message of type %u", h->nlmsg_type);
				continue;
			}
			c = check_family_msg(h, "event");
			if (c >= 0 && c != ML_CMD_DEV_NEW_NTF && c != ML_CMD_DEV_DEL_NTF &&
			    c != ML_CMD_PORT_UP_NTF && c != ML_CMD_PORT_DOWN_NTF &&
			    c != ML_CMD_NEIGH_FOUND_NTF && c != ML_CMD_NEIGH_LOST_NTF &&
			    c != ML_CMD_QP_ERROR_NTF && c != ML_CMD_TOPO_NTF)
				nfail("monitor: event with command %s", cmd_name((unsigned int)c));
			count(K_EVENT);
		}
	}
	close(fd);
	if (lazy >= 0)
		close(lazy);
	return NULL;
}

/* ---- sandbox churn: link up/down, delete and re-create veths ---- */

static int rtnl_setlink(int fd, int ifindex, bool up)
{
	struct {
		struct nlmsghdr h;
		struct ifinfomsg i;
	} req = {
		.h = { .nlmsg_len = sizeof(req), .nlmsg_type = RTM_NEWLINK,
		       .nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK, .nlmsg_seq = 1 },
		.i = { .ifi_family = AF_UNSPEC, .ifi_index = ifindex,
		       .ifi_flags = up ? IFF_UP : 0, .ifi_change = IFF_UP },
	};
	uint8_t buf[1024];

	if (nl_sendbuf(fd, &req, sizeof(req)) < 0)
		return -errno;
	return recv(fd, buf, sizeof(buf), 0) < 0 ? -errno : 0;
}

static void churn(struct worker *wk)
{
	struct rng r;
	int fd = nl_sock(NETLINK_ROUTE);
	double next_del = now_s() + 3;

	rng_init(&r, g_seed, 0x2000u + (unsigned int)wk->id);
	while (now_s() < g_deadline && !atomic_load(&sh->stop) && fd >= 0) {
		int i = (int)rn(&r, (uint32_t)wk->w.nifs);
		int ix = (int)if_nametoindex(wk->w.ifs[i]);

		if (ix > 0) {
			rtnl_setlink(fd, ix, pct(&r, 60));
			count(K_FLAP);
		}
		if (now_s() > next_del && wk->w.nifs >= 2) {
			/* the last pair of the sandbox: gone and back */
			char cmd[256];
			const char *a = wk->w.ifs[wk->w.nifs - 2], *b = wk->w.ifs[wk->w.nifs - 1];

			snprintf(cmd, sizeof(cmd),
				 "ip link del %s 2>/dev/null; ip link add %s type veth peer name %s"
				 " && ip link set %s up && ip link set %s up", a, a, b, a, b);
			if (system(cmd) != 0)
				nfail("sandbox %s: cannot re-create %s/%s", wk->w.ns, a, b);
			count(K_DELLINK);
			next_del = now_s() + 2 + rn(&r, 3);
		}
		usleep(50000 + rn(&r, 250000));
	}
	/* leave every sandbox link up */
	for (int i = 0; fd >= 0 && i < wk->w.nifs; i++) {
		int ix = (int)if_nametoindex(wk->w.ifs[i]);

		if (ix > 0)
			rtnl_setlink(fd, ix, true);
	}
	if (fd >= 0)
		close(fd);
}

/*
 * QPs on the sandbox's devices while the fuzzers bind, unbind, re-set and
 * flap them: a pair of QPs between two neighbouring sandbox devices moves
 * a few WRITEs and READs; every WR must complete (any status) in bounded
 * time, whatever happens to the ports and devices underneath.
 */
struct cside {
	struct ml_device *dev;
	struct ml_pd *pd;
	struct ml_cq *cq;
	struct ml_qp *qp;
	struct ml_mr *mr;
	uint8_t *buf;
};

#define CH_BUF (256u << 10)

static void cside_free(struct cside *c)
{
	if (c->qp)
		ml_qp_destroy(c->qp);
	if (c->mr)
		ml_mr_dereg(c->mr);
	if (c->cq)
		ml_cq_destroy(c->cq);
	if (c->pd)
		ml_pd_free(c->pd);
	if (c->dev)
		ml_device_close(c->dev);
	free(c->buf);
	memset(c, 0, sizeof(*c));
}

static int cside_open(struct cside *c, const char *name)
{
	struct ml_qp_init qi = { .sq_entries = 16, .rq_entries = 16 };

	memset(c, 0, sizeof(*c));
	c->buf = aligned_alloc(4096, CH_BUF);
	if (!c->buf || ml_device_open(name, &c->dev) || ml_pd_alloc(c->dev, &c->pd) ||
	    ml_cq_create(c->dev, 64, &c->cq))
		return -1;
	qi.send_cq = c->cq;
	memset(c->buf, 0x5a, CH_BUF);
	if (ml_qp_create(c->pd, &qi, &c->qp) ||
	    ml_mr_reg(c->pd, c->buf, CH_BUF, ML_ACCESS_ALL, &c->mr))
		return -1;
	return 0;
}

static void qp_churn(struct worker *wk)
{
	struct ml_connect_opts o = { .timeout_ms = 10, .retry_cnt = 3, .rnr_retry = 3 };
	struct ml_ctl *ctl;
	struct rng r;

	rng_init(&r, g_seed, 0x3000u + (unsigned int)wk->id);
	if (ml_ctl_open(&ctl)) {
		nfail("qp churn: %s", ml_last_error());
		return;
	}
	while (now_s() < g_deadline - 5 && !atomic_load(&sh->stop)) {
		struct ml_neigh_info *nb = NULL;
		struct cside a, b;
		size_t n = 0;
		int i, k, posted = 0, done = 0;
		double t0;

		if (ml_ctl_neighbours(ctl, NULL, &nb, &n) < 0 || !n) {
			ml_free(nb);
			usleep(100000);
			continue;
		}
		i = (int)rn(&r, (uint32_t)n);
		count(K_QPCHURN);
		if (cside_open(&a, nb[i].dev) || cside_open(&b, nb[i].remote_dev) ||
		    ml_qp_connect(a.qp, nb[i].node_id, ml_qp_num(b.qp), &o)) {
			ml_free(nb);
			cside_free(&a);
			cside_free(&b);
			usleep(20000);
			continue;
		}
		{
			struct ml_device_info di;

			if (ml_device_query(a.dev, &di) ||
			    ml_qp_connect(b.qp, di.node_id, ml_qp_num(a.qp), &o)) {
				ml_free(nb);
				cside_free(&a);
				cside_free(&b);
				continue;
			}
		}
		ml_free(nb);
		count(K_QPCHURN_OK);
		for (k = 0; k < 6; k++) {
			uint32_t len = 1 + rn(&r, CH_BUF / 2);
			struct ml_sge g = { .addr = (uintptr_t)a.buf, .length = len,
					    .lkey = a.mr->lkey };
			struct ml_send_wr wr = {
				.wr_id = (uint64_t)k, .opcode = pct(&r, 50) ? ML_WR_WRITE : ML_WR_READ,
				.flags = ML_WR_F_SIGNALED, .sg_list = &g, .num_sge = 1,
				.remote_addr = (uintptr_t)b.buf + CH_BUF / 2, .rkey = b.mr->rkey,
			};

			if (ml_post_send(a.qp, &wr))
				break;
			posted++;
		}
		t0 = now_s();
		while (done < posted) {
			struct ml_cqe wc[8];
			int got = ml_cq_poll(a.cq, wc, 8);

			if (got < 0) {
				nfail("qp churn: cq poll: %s", ml_last_error());
				break;
			}
			done += got;
			for (k = 0; k < got; k++)
				if (wc[k].status > ML_WC_CQ_OVERRUN_ERR || wc[k].wr_id >= (uint64_t)posted)
					nfail("qp churn: completion status %u wr_id %llu",
					      wc[k].status, (unsigned long long)wc[k].wr_id);
			if (got)
				continue;
			if (now_s() - t0 > 30) {
				struct ml_qp_attr qa;

				memset(&qa, 0, sizeof(qa));
				ml_qp_query(a.qp, &qa);
				nfail("qp churn: %d of %d WRs on %s QP %u not completed in 30 s "
				      "(QP %s, snd_psn %u snd_una %u, %llu timeouts)", posted - done,
				      posted, ml_device_name(a.dev), ml_qp_num(a.qp),
				      ml_qp_state_name(qa.state), qa.snd_psn, qa.snd_una,
				      (unsigned long long)qa.timeouts);
				break;
			}
			ml_cq_wait(a.dev, 50);
		}
		cside_free(&a);
		cside_free(&b);
	}
	ml_ctl_close(ctl);
}

/* ------------------------------------------------------------------ */
/* Processes                                                            */
/* ------------------------------------------------------------------ */

enum role { R_FUZZ, R_CHURN, R_QPCHURN };

static void load_ifindexes(struct world *w)
{
	for (int i = 0; i < w->nifs; i++)
		w->ifindex[i] = (int)if_nametoindex(w->ifs[i]);
}

static pid_t spawn_worker(struct worker *wk, enum role role, int nthreads, bool monitor)
{
	pid_t pid;

	fflush(NULL);
	pid = fork();
	if (pid)
		return pid;
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	alarm((unsigned int)(g_deadline - now_s()) + 120);
	if (ns_enter_name(wk->w.ns)) {
		nfail("worker %d: cannot enter netns %s", wk->id, wk->w.ns);
		_exit(1);
	}
	load_ifindexes(&wk->w);
	if (role == R_CHURN) {
		churn(wk);
		_exit(0);
	}
	if (role == R_QPCHURN) {
		qp_churn(wk);
		_exit(0);
	}
	if (!wk->priv && !wk->drop_after && drop_privs()) {
		nfail("worker %d: setresuid: %s", wk->id, strerror(errno));
		_exit(1);
	}
	{
		struct thr th[8];
		pthread_t mt;
		int i;

		if (nthreads > 8)
			nthreads = 8;
		/*
		 * drop_after: the sockets are opened as root by the threads'
		 * first ws_open(); privileges go once every thread has one.
		 */
		for (i = 0; i < nthreads; i++) {
			th[i].wk = wk;
			th[i].idx = i;
			pthread_create(&th[i].t, NULL, fuzz_thread, &th[i]);
		}
		if (monitor)
			pthread_create(&mt, NULL, monitor_thread, wk);
		if (wk->drop_after) {
			while (atomic_load(&opened) < nthreads)
				usleep(1000);
			if (drop_privs())
				nfail("worker %d: setresuid: %s", wk->id, strerror(errno));
			atomic_store(&dropped, 1);
		}
		for (i = 0; i < nthreads; i++)
			pthread_join(th[i].t, NULL);
		if (monitor)
			pthread_join(mt, NULL);
	}
	_exit(0);
}

/* ---- the pod's traffic: a byte-checked pair (tests/dataplane/dp.c) ---- */

struct traffic_arg {
	uint64_t seed;
	double deadline;
};

static void traffic_fn(struct dp_node *n, void *arg)
{
	const struct traffic_arg *ta = arg;
	struct dp_setup s = { .buflen = 4u << 20, .nqp = 3 };
	struct rng r;
	int round;

	dp_node_setup(n, &s);
	for (round = 0;; round++) {
		struct dp_x x[8];
		int nx, i;

		if (n->side == DP_A) {
			char c = now_s() < ta->deadline ? 'C' : 'E';

			dp_send_byte(n->peer, c);
			if (c == 'E')
				break;
		} else if (dp_recv_byte(n->peer, 300000) == 'E') {
			break;
		}
		rng_init(&r, ta->seed, 0x5000u + (unsigned int)round);
		nx = 1 + (int)rn(&r, 6);
		memset(x, 0, sizeof(x));
		for (i = 0; i < nx; i++) {
			static const int ops[] = { ML_WR_SEND, ML_WR_SEND_IMM, ML_WR_WRITE,
						   ML_WR_WRITE_IMM, ML_WR_READ };

			x[i].op = ops[rn(&r, 5)];
			x[i].qp = (int)rn(&r, 3);
			x[i].size = pct(&r, 20) ? 1 + rn(&r, 256 * 1024) : 1 + rn(&r, 9000);
			x[i].nsge_a = 1 + (int)rn(&r, 4);
			x[i].nsge_b = 1 + (int)rn(&r, 4);
			x[i].seed = (uint32_t)rnd(&r);
			x[i].imm = (uint32_t)rnd(&r);
		}
		dp_x_place(x, nx, 64 + rn(&r, 64), 64 + rn(&r, 64));
		dp_x_run(n, x, nx, 60000);
		if (n->side == DP_A)
			dp_sh_mem->progress[0]++;
	}
}

/* ------------------------------------------------------------------ */
/* Final consistency of one namespace                                   */
/* ------------------------------------------------------------------ */

/* Every port the PORT dump lists exists in this netns under that name,
 * and every device's num-ports matches the ports listed for it. */
static void final_check(const char *ns)
{
	static uint8_t buf[65536];
	struct msgbuf *m = calloc(1, sizeof(*m));
	int fd, cmd;
	uint32_t nports[ML_MAX_DEVICES] = { 0 }, listed[ML_MAX_DEVICES] = { 0 };
	bool present[ML_MAX_DEVICES] = { 0 };
	char bad[256] = "";

	ns_back();
	if (!m || ns_enter_name(ns)) {
		nfail("final check: cannot enter %s", ns);
		free(m);
		return;
	}
	fd = nl_sock(NETLINK_GENERIC);
	for (cmd = ML_CMD_DEV_GET; fd >= 0 && cmd <= ML_CMD_PORT_GET; cmd += 2) {
		size_t at;
		bool done = false;
		double end = now_s() + 10;

		m->len = 0;
		at = mb_start(m, fam_id, NLM_F_REQUEST | NLM_F_DUMP, 77, (uint8_t)cmd, 1);
		mb_end(m, at);
		nl_sendbuf(fd, m->b, m->len);
		while (!done && now_s() < end) {
			ssize_t n = recv(fd, buf, sizeof(buf), 0);
			struct nlmsghdr *h;
			size_t rem;

			if (n < 0)
				break;
			rem = (size_t)n;
			for (h = (struct nlmsghdr *)buf; NLMSG_OK(h, rem); h = NLMSG_NEXT(h, rem)) {
				uint8_t *p;
				size_t len, off = 0;
				uint32_t idx = ~0u, np = 0, ifindex = 0;
				char ifname[IFNAMSIZ] = "";

				if (h->nlmsg_type == NLMSG_DONE || h->nlmsg_type == NLMSG_ERROR) {
					done = true;
					break;
				}
				if (check_family_msg(h, "final dump") < 0)
					continue;
				p = (uint8_t *)NLMSG_DATA(h) + GENL_HDRLEN;
				len = h->nlmsg_len - NLMSG_HDRLEN - GENL_HDRLEN;
				while (off + NLA_HDRLEN <= len) {
					struct nlattr *a = (struct nlattr *)(p + off);

					if (a->nla_type == ML_A_DEV_INDEX)
						memcpy(&idx, a + 1, 4);
					else if (a->nla_type == ML_A_NUM_PORTS)
						memcpy(&np, a + 1, 4);
					else if (a->nla_type == ML_A_IFINDEX)
						memcpy(&ifindex, a + 1, 4);
					else if (a->nla_type == ML_A_IFNAME)
						snprintf(ifname, sizeof(ifname), "%s",
							 (char *)(a + 1));
					off += NLA_ALIGN(a->nla_len);
				}
				if (idx >= ML_MAX_DEVICES) {
					nfail("final %s: dump entry without a device index", ns);
					continue;
				}
				if (cmd == ML_CMD_DEV_GET) {
					present[idx] = true;
					nports[idx] = np;
				} else {
					listed[idx]++;
					if (if_nametoindex(ifname) != ifindex)
						snprintf(bad, sizeof(bad),
							 "port %s (ifindex %u) of ml%u is not a netdev of %s",
							 ifname, ifindex, idx, ns);
				}
			}
		}
		if (!done)
			nfail("final %s: %s dump did not end", ns, cmd_name((unsigned int)cmd));
	}
	for (int i = 0; i < ML_MAX_DEVICES; i++)
		if ((present[i] && nports[i] != listed[i]) || (!present[i] && listed[i]))
			snprintf(bad, sizeof(bad), "ml%d: num-ports %u, %u ports listed%s", i,
				 nports[i], listed[i], present[i] ? "" : " (no such device)");
	if (bad[0])
		printf("CHECK FAIL: final consistency of netns %s: %s\n", ns, bad);
	else
		printf("CHECK ok: final consistency of netns %s\n", ns);
	if (fd >= 0)
		close(fd);
	free(m);
	ns_back();
}

/* ------------------------------------------------------------------ */
/* Small control commands for the script                                */
/* ------------------------------------------------------------------ */

static int ctl_main(int argc, char **argv)
{
	struct ml_ctl *ctl;

	if (ml_ctl_open(&ctl)) {
		fprintf(stderr, "fuzz_netlink: %s\n", ml_last_error());
		return 1;
	}
	if (!strcmp(argv[1], "bind") && argc == 4) {
		struct ml_bind_opts o = { 0 };
		struct ml_port_info pi;

		if (ml_parse_node_id(argv[3], &o.node_id) || ml_ctl_bind(ctl, argv[2], &o, &pi)) {
			fprintf(stderr, "fuzz_netlink: bind %s: %s\n", argv[2], ml_last_error());
			return 1;
		}
		printf("%s\n", pi.dev);
		return 0;
	}
	if (!strcmp(argv[1], "wait") && argc == 4) {
		for (int i = 0; i < atoi(argv[3]) * 10; i++) {
			struct ml_port_info *pi = NULL;
			size_t n = 0;
			int up = ml_ctl_ports(ctl, argv[2], &pi, &n) >= 0 && n >= 1 &&
				 pi[0].link_state == ML_LINK_UP;

			ml_free(pi);
			if (up)
				return 0;
			usleep(100000);
		}
		fprintf(stderr, "fuzz_netlink: %s: port not up\n", argv[2]);
		return 1;
	}
	if (!strcmp(argv[1], "counts") && argc == 3) {
		struct ml_dev_attr a;

		for (int i = 0; i < 100; i++) {
			if (ml_ctl_dev_get(ctl, argv[2], &a)) {
				fprintf(stderr, "fuzz_netlink: DEV_GET %s: %s\n", argv[2],
					ml_last_error());
				return 1;
			}
			if (!(a.flags & ML_DEV_ATTR_F_OBJECTS) ||
			    !(a.num_ctx | a.num_pds | a.num_mrs | a.num_cqs | a.num_qps |
			      a.pinned_pages))
				break;
			usleep(100000);
		}
		printf("%s: ctx %u pds %u mrs %u cqs %u qps %u pinned-pages %llu\n", argv[2],
		       a.num_ctx, a.num_pds, a.num_mrs, a.num_cqs, a.num_qps,
		       (unsigned long long)a.pinned_pages);
		return a.num_ctx | a.num_pds | a.num_mrs | a.num_cqs | a.num_qps |
		       a.pinned_pages ? 3 : 0;
	}
	fprintf(stderr, "usage: fuzz_netlink run | bind IF NODE | wait DEV S | counts DEV\n");
	return 2;
}

/* ------------------------------------------------------------------ */
/* main                                                                 */
/* ------------------------------------------------------------------ */

static int parse_sandboxes(struct worker *sb, int max)
{
	static char spec[1024];
	const char *e = getenv("FN_SANDBOX");
	char *save = NULL, *part;
	int n = 0;

	snprintf(spec, sizeof(spec), "%s", e ? e : "");
	for (part = strtok_r(spec, ";", &save); part && n < max;
	     part = strtok_r(NULL, ";", &save)) {
		char *colon = strchr(part, ':'), *s2 = NULL, *ifn;

		if (!colon)
			continue;
		*colon = 0;
		memset(&sb[n], 0, sizeof(sb[n]));
		sb[n].w.ns = part;
		for (ifn = strtok_r(colon + 1, ",", &s2); ifn && sb[n].w.nifs < MAX_NAMES;
		     ifn = strtok_r(NULL, ",", &s2))
			snprintf(sb[n].w.ifs[sb[n].w.nifs++], IFNAMSIZ, "%s", ifn);
		sb[n].w.sandbox = true;
		n++;
	}
	return n;
}

static void pod_world(struct world *w, int side)
{
	memset(w, 0, sizeof(*w));
	w->ns = dp_env.ns[side];
	snprintf(w->ifs[0], IFNAMSIZ, "%s", dp_env.ifname[side]);
	snprintf(w->ifs[1], IFNAMSIZ, "lo");
	w->nifs = 2;
}

/* The pod's devices must be exactly as the script made them. */
static void check_pod(int side, uint32_t want_node)
{
	struct ml_ctl *ctl;
	struct ml_dev_attr a;
	struct ml_port_info *pi = NULL;
	size_t n = 0;
	int r;

	ns_enter_name(dp_env.ns[side]);
	r = ml_ctl_open(&ctl);
	ns_back();
	if (r) {
		printf("CHECK FAIL: pod %s: netlink: %s\n", dp_env.dev[side], ml_last_error());
		return;
	}
	r = ml_ctl_dev_get(ctl, dp_env.dev[side], &a);
	if (!r)
		r = ml_ctl_ports(ctl, dp_env.dev[side], &pi, &n) < 0;
	if (r || a.node_id != want_node || n != 1 || strcmp(pi[0].ifname, dp_env.ifname[side]) ||
	    a.hello_ms != 100 || a.dead_ms != 1000)
		printf("CHECK FAIL: pod device %s changed by unprivileged/other-netns fuzzing: "
		       "%s node 0x%x (want 0x%x) hello %u dead %u ports %zu\n",
		       dp_env.dev[side], r ? ml_last_error() : "", r ? 0 : a.node_id, want_node,
		       r ? 0 : a.hello_ms, r ? 0 : a.dead_ms, n);
	else
		printf("CHECK ok: pod device %s untouched (node 0x%x, port %s)\n",
		       dp_env.dev[side], a.node_id, pi[0].ifname);
	ml_free(pi);
	ml_ctl_close(ctl);
}

static unsigned int g_secs = 120;

/* The run itself, inside a Check test: dp.c's helpers report through Check. */
START_TEST(fuzz_run)
{
	struct worker sb[4], pod[2], init_w;
	struct dp_run tr;
	struct traffic_arg ta;
	pid_t pids[32];
	int np = 0, nsb, i, fails;
	unsigned int secs = g_secs;
	uint32_t node[2];

	node[0] = (uint32_t)strtoul(getenv("FN_NODE_A") ? getenv("FN_NODE_A") : "0", NULL, 0);
	node[1] = (uint32_t)strtoul(getenv("FN_NODE_B") ? getenv("FN_NODE_B") : "0", NULL, 0);

	if (resolve_family()) {
		printf("CHECK FAIL: family %s not found\n", ML_GENL_NAME);
		return;
	}
	printf("family %s id %u, monitor group %u\n", ML_GENL_NAME, fam_id, mcgrp_id);
	g_deadline = now_s() + secs;

	/* the pod's byte-checked traffic, for the whole run */
	ta.seed = g_seed;
	ta.deadline = g_deadline;
	dp_run_init(&tr);
	dp_spawn(&tr, 0, DP_A, traffic_fn, &ta, (int)secs + 400);
	dp_spawn(&tr, 1, DP_B, traffic_fn, &ta, (int)secs + 400);

	nsb = parse_sandboxes(sb, 4);
	for (i = 0; i < nsb; i++) {
		/* privileged fuzzers + admin churn, a dropped-after one, link churn */
		sb[i].priv = true;
		sb[i].id = 10 + i;
		pids[np++] = spawn_worker(&sb[i], R_FUZZ, 3, i == 0);
		{
			struct worker d = sb[i];

			d.priv = false;
			d.drop_after = true;
			d.id = 20 + i;
			pids[np++] = spawn_worker(&d, R_FUZZ, 2, false);
		}
		{
			struct worker c = sb[i];

			c.id = 30 + i;
			pids[np++] = spawn_worker(&c, R_CHURN, 0, false);
			c.id = 60 + i;
			pids[np++] = spawn_worker(&c, R_QPCHURN, 0, false);
		}
	}
	for (i = 0; i < 2; i++) {
		pod_world(&pod[i].w, i);
		pod[i].priv = false;
		pod[i].drop_after = i == 1;
		pod[i].id = 40 + i;
		pids[np++] = spawn_worker(&pod[i], R_FUZZ, 2, i == 0);
	}
	memset(&init_w, 0, sizeof(init_w));
	init_w.w.ns = "-";
	snprintf(init_w.w.ifs[0], IFNAMSIZ, "lo");
	init_w.w.nifs = 1;
	init_w.id = 50;
	pids[np++] = spawn_worker(&init_w, R_FUZZ, 1, false);

	for (i = 0; i < np; i++) {
		int st;

		if (waitpid(pids[i], &st, 0) == pids[i] && !(WIFEXITED(st) && !WEXITSTATUS(st)))
			nfail("worker process %d %s %d", (int)pids[i],
			     WIFSIGNALED(st) ? "killed by signal" : "exited",
			     WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
	}
	printf("fuzzers done; waiting for the pod's traffic to finish its round\n");
	{
		int bad = dp_wait(&tr, 400);

		sh->count[K_TRAFFIC] = tr.sh->progress[0];
		if (bad) {
			for (i = 0; i < 2; i++)
				if (tr.sh->msg[i][0])
					printf("  traffic: %s\n", tr.sh->msg[i]);
			printf("CHECK FAIL: pod traffic (byte-checked, %llu rounds) failed\n",
			       (unsigned long long)tr.sh->progress[0]);
		} else if (tr.sh->progress[0] < 3) {
			printf("CHECK FAIL: pod traffic made only %llu rounds\n",
			       (unsigned long long)tr.sh->progress[0]);
		} else {
			printf("CHECK ok: pod traffic byte exact during the fuzzing (%llu rounds)\n",
			       (unsigned long long)tr.sh->progress[0]);
		}
		dp_run_free(&tr);
	}

	check_pod(DP_A, node[0]);
	check_pod(DP_B, node[1]);
	for (i = 0; i < nsb; i++)
		final_check(sb[i].w.ns);
	final_check(dp_env.ns[0]);
	final_check(dp_env.ns[1]);
	final_check("-");

	printf("iterations per kind:\n");
	for (i = 0; i < K_NKINDS; i++)
		printf("  %-18s %llu\n", kind_name[i], (unsigned long long)sh->count[i]);
	printf("answers by errno:");
	for (i = 0; i < 160; i++)
		if (sh->errs[i])
			printf(" %s=%llu", i ? strerrorname_np(i) : "0",
			       (unsigned long long)sh->errs[i]);
	printf("\n");
	fails = atomic_load(&sh->nfail);
	for (i = 0; i < fails && i < MAX_FAILS; i++)
		printf("  failure %d: %s\n", i + 1, sh->fail[i]);
	if (fails)
		printf("CHECK FAIL: %d fuzzing failures (first ones above; seed=0x%016llx)\n", fails,
		       (unsigned long long)g_seed);
	else
		printf("CHECK ok: every answer well formed and as documented\n");
	if (sh->count[K_DOIT] + sh->count[K_DUMP] < 100)
		printf("CHECK FAIL: only %llu requests were made\n",
		       (unsigned long long)(sh->count[K_DOIT] + sh->count[K_DUMP]));
	else
		printf("CHECK ok: %llu requests judged\n",
		       (unsigned long long)(sh->count[K_DOIT] + sh->count[K_DUMP]));
}
END_TEST

int main(int argc, char **argv)
{
	const char *e;
	Suite *su;
	TCase *tc;
	SRunner *sr;

	if (argc >= 3)
		return ctl_main(argc, argv);
	if (argc != 2 || strcmp(argv[1], "run")) {
		fprintf(stderr, "usage: fuzz_netlink run | bind IF NODE | wait DEV S | counts DEV\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	orig_ns_fd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	e = getenv("ML_SEED");
	g_seed = e && *e ? strtoull(e, NULL, 0) : splitmix((uint64_t)time(NULL) ^
							    ((uint64_t)getpid() << 32));
	e = getenv("ML_FUZZ_SECONDS");
	if (e && *e)
		g_secs = (unsigned int)strtoul(e, NULL, 0);
	printf("seed=0x%016llx (ML_SEED reproduces the inputs; thread timing still varies)\n",
	       (unsigned long long)g_seed);
	printf("fuzzing for %u s\n", g_secs);
	dp_init();
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED)
		return 1;
	memset(sh, 0, sizeof(*sh));

	su = suite_create("fuzz_netlink");
	tc = tcase_create("fuzz");
	tcase_set_timeout(tc, g_secs + 1500.0);
	tcase_add_test(tc, fuzz_run);
	suite_add_tcase(su, tc);
	sr = srunner_create(su);
	srunner_run_all(sr, CK_SILENT);
	if (srunner_ntests_failed(sr)) {
		TestResult **tr = srunner_failures(sr);

		printf("CHECK FAIL: the fuzz run itself failed: %s:%d: %s\n",
		       tr_lfile(tr[0]), tr_lno(tr[0]), tr_msg(tr[0]));
		free(tr);
	}
	srunner_free(sr);
	return 0;
}
