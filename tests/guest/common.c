// SPDX-License-Identifier: GPL-2.0
/*
 * Shared helpers of the in-guest megalink tests.  See common.h.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <dirent.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <linux/genetlink.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>

#include "common.h"

/* ---- logging, commands -------------------------------------------- */

void tlog(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "[%d] ", (int)getpid());
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

void tskip(const char *test, const char *fmt, ...)
{
	va_list ap;
	char buf[512];

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	/* One line on stdout: run-suite.sh counts these markers. */
	fflush(stderr);
	printf("ML-SKIP: %s: %s\n", test, buf);
	fflush(stdout);
}

void tpartial(const char *test, const char *fmt, ...)
{
	va_list ap;
	char buf[512];

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	fflush(stderr);
	printf("ML-PARTIAL-SKIP: %s: %s\n", test, buf);
	fflush(stdout);
}

static int vrun(char **out, const char *fmt, va_list ap)
{
	char cmd[2048];
	int st;

	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	fprintf(stderr, "[%d] + %s\n", (int)getpid(), cmd);
	fflush(stderr);
	fflush(stdout);
	if (out) {
		FILE *f = popen(cmd, "r");
		size_t cap = 4096, len = 0, k;
		char *b;

		*out = NULL;
		if (!f)
			return -1;
		b = malloc(cap);
		if (!b) {
			pclose(f);
			return -1;
		}
		while ((k = fread(b + len, 1, cap - len - 1, f)) > 0) {
			len += k;
			if (cap - len < 1024) {
				char *nb = realloc(b, cap * 2);

				if (!nb)
					break;
				b = nb;
				cap *= 2;
			}
		}
		b[len] = '\0';
		*out = b;
		st = pclose(f);
	} else {
		/* Command output goes to our stderr, never to the TAP/Check
		 * stdout stream. */
		char full[2200];

		snprintf(full, sizeof(full), "{ %s ; } 1>&2", cmd);
		st = system(full);
	}
	if (st == -1 || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

int run(const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vrun(NULL, fmt, ap);
	va_end(ap);
	return r;
}

int run_capture(char **out, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vrun(out, fmt, ap);
	va_end(ap);
	return r;
}

bool have_kmod(const char *name)
{
	char p[256];

	snprintf(p, sizeof(p), "/sys/module/%s", name);
	if (access(p, F_OK) == 0)
		return true;
	if (run("modprobe %s", name) == 0)
		return true;
	return access(p, F_OK) == 0;
}

const char *repo_dir(void)
{
	const char *r = getenv("ML_REPO");

	return r && *r ? r : ".";
}

const char *out_dir(void)
{
	const char *r = getenv("ML_OUT");

	return r && *r ? r : "/tmp";
}

uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void sleep_ms(unsigned int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

bool wait_until(bool (*cond)(void *arg), void *arg, unsigned int timeout_ms)
{
	uint64_t end = now_ms() + timeout_ms;

	for (;;) {
		if (cond(arg))
			return true;
		if (now_ms() >= end)
			return false;
		sleep_ms(50);
	}
}

/* ---- the module ------------------------------------------------------ */

bool ml_loaded(void)
{
	return access("/sys/module/megalink", F_OK) == 0;
}

/*
 * @path single-quoted for sh (the repository may live below a directory
 * whose name has spaces or quotes).  Writes into @buf of @len bytes.
 */
static const char *sh_quote(char *buf, size_t len, const char *path)
{
	size_t o = 0;

	if (len < 3)
		return "''";
	buf[o++] = '\'';
	for (; *path && o + 5 < len; path++) {
		if (*path == '\'') {
			memcpy(buf + o, "'\\''", 4);
			o += 4;
		} else {
			buf[o++] = *path;
		}
	}
	buf[o++] = '\'';
	buf[o] = '\0';
	return buf;
}

/* A harness helper script, quoted for run(). */
static const char *helper(const char *name)
{
	static char q[2][1100];
	static int k;
	char p[1024];

	/* The harness's helpers win; ours follow the same rules. */
	snprintf(p, sizeof(p), "%s/tests/harness/%s", repo_dir(), name);
	if (access(p, X_OK) != 0)
		snprintf(p, sizeof(p), "%s/tests/guest/%s", repo_dir(), name);
	return sh_quote(q[k++ & 1], sizeof(q[0]), p);
}

int ml_load(const char *params)
{
	return run("%s %s", helper("ml-load.sh"), params ? params : "");
}

int ml_unload(void)
{
	return run("%s", helper("ml-unload.sh"));
}

void ml_ensure_loaded(void)
{
	if (ml_loaded())
		return;
	ck_assert_msg(ml_load(NULL) == 0, "loading megalink failed");
	ck_assert_msg(ml_loaded(), "megalink not in /sys/module after load");
}

void ml_reload(const char *params)
{
	if (ml_loaded())
		ck_assert_msg(ml_unload() == 0, "unloading megalink failed");
	ck_assert_msg(ml_load(params) == 0, "loading megalink (%s) failed",
		      params ? params : "");
	ck_assert_msg(ml_loaded(), "megalink not in /sys/module after load");
}

long ml_param_long(const char *name, long dflt)
{
	char p[256], buf[64];
	FILE *f;
	long v = dflt;

	snprintf(p, sizeof(p), "/sys/module/megalink/parameters/%s", name);
	f = fopen(p, "r");
	if (!f)
		return dflt;
	if (fgets(buf, sizeof(buf), f))
		v = strtol(buf, NULL, 0);
	fclose(f);
	return v;
}

uint16_t ml_ethertype(void)
{
	return (uint16_t)ml_param_long("ethertype", ML_ETHERTYPE_DEFAULT);
}

/* ---- network namespaces ------------------------------------------------ */

/*
 * Namespaces and links are made with system calls and rtnetlink, not by
 * running ip(8): under TCG every exec costs a noticeable fraction of a
 * second.  A namespace is named like `ip netns add` names it (a bind mount
 * of the namespace file at /run/netns/NAME), so `ip -n NAME` and
 * `ip netns exec NAME` work on it too.
 */
#define NETNS_DIR "/run/netns"

static int orig_netns = -1;

static void ns_init_orig(void)
{
	if (orig_netns < 0)
		orig_netns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
}

/* Enter ns (NULL: our original namespace); returns 0 or -errno. */
static int ns_switch(const char *name)
{
	char p[256];
	int fd, r = 0;

	ns_init_orig();
	if (!name)
		return setns(orig_netns, CLONE_NEWNET) ? -errno : 0;
	snprintf(p, sizeof(p), NETNS_DIR "/%s", name);
	fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (setns(fd, CLONE_NEWNET))
		r = -errno;
	close(fd);
	return r;
}

void ns_enter(const char *name)
{
	int r = ns_switch(name);

	if (r)
		ck_abort_msg("setns %s: %s", name ? name : "(initial)",
			     strerror(-r));
}

struct rtreq {
	union {
		struct {
			struct nlmsghdr nh;
			struct ifinfomsg ifi;
		};
		char buf[1024];
	};
};

static struct rtattr *rta_put_(struct rtreq *r, unsigned short type,
			       const void *data, size_t len)
{
	struct nlmsghdr *nh = &r->nh;
	struct rtattr *a = (struct rtattr *)(r->buf + NLMSG_ALIGN(nh->nlmsg_len));

	a->rta_type = type;
	a->rta_len = (unsigned short)RTA_LENGTH(len);
	if (len)
		memcpy(RTA_DATA(a), data, len);
	nh->nlmsg_len = NLMSG_ALIGN(nh->nlmsg_len) + RTA_ALIGN(a->rta_len);
	return a;
}

static void rta_end(struct rtreq *r, struct rtattr *nest)
{
	nest->rta_len = (unsigned short)(r->buf + r->nh.nlmsg_len - (char *)nest);
}

/* rtnetlink socket in ns (NULL: ours). */
static int rtnl_open(const char *ns)
{
	int fd, r;

	if (ns && (r = ns_switch(ns)))
		return r;
	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	r = fd < 0 ? -errno : fd;
	if (ns)
		ns_switch(NULL);
	return r;
}

/* Send a request with NLM_F_ACK; returns the ack's error. */
static int rtnl_talk(int fd, struct nlmsghdr *nh)
{
	static uint32_t seq;
	char buf[8192];
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };

	nh->nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
	nh->nlmsg_seq = ++seq;
	if (sendto(fd, nh, nh->nlmsg_len, 0, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return -errno;
	for (;;) {
		int len = recv(fd, buf, sizeof(buf), 0);
		struct nlmsghdr *h;

		if (len < 0)
			return -errno;
		for (h = (struct nlmsghdr *)buf; NLMSG_OK(h, (unsigned)len);
		     h = NLMSG_NEXT(h, len))
			if (h->nlmsg_seq == seq && h->nlmsg_type == NLMSG_ERROR)
				return ((struct nlmsgerr *)NLMSG_DATA(h))->error;
	}
}

static void rt_init(struct rtreq *r, uint16_t type, uint16_t flags)
{
	memset(r, 0, sizeof(*r));
	r->nh.nlmsg_len = NLMSG_LENGTH(sizeof(struct ifinfomsg));
	r->nh.nlmsg_type = type;
	r->nh.nlmsg_flags = flags;
	r->ifi.ifi_family = AF_UNSPEC;
}

int link_set_up(const char *ns, const char *ifname, bool up)
{
	struct rtreq r;
	int fd = rtnl_open(ns), err;

	if (fd < 0)
		return fd;
	rt_init(&r, RTM_NEWLINK, 0);
	r.ifi.ifi_change = IFF_UP;
	r.ifi.ifi_flags = up ? IFF_UP : 0;
	rta_put_(&r, IFLA_IFNAME, ifname, strlen(ifname) + 1);
	err = rtnl_talk(fd, &r.nh);
	close(fd);
	return err;
}

int link_del(const char *ns, const char *ifname)
{
	struct rtreq r;
	int fd = rtnl_open(ns), err;

	if (fd < 0)
		return fd;
	rt_init(&r, RTM_DELLINK, 0);
	rta_put_(&r, IFLA_IFNAME, ifname, strlen(ifname) + 1);
	err = rtnl_talk(fd, &r.nh);
	close(fd);
	return err;
}

static int ns_fd(const char *ns);

int link_move(const char *ns, const char *ifname, const char *to_ns)
{
	struct rtreq r;
	int fd = rtnl_open(ns), tfd = ns_fd(to_ns), err;

	if (fd < 0 || tfd < 0) {
		err = fd < 0 ? fd : -errno;
		goto out;
	}
	rt_init(&r, RTM_NEWLINK, 0);
	rta_put_(&r, IFLA_IFNAME, ifname, strlen(ifname) + 1);
	rta_put_(&r, IFLA_NET_NS_FD, &tfd, sizeof(tfd));
	err = rtnl_talk(fd, &r.nh);
out:
	if (fd >= 0)
		close(fd);
	if (tfd >= 0)
		close(tfd);
	return err;
}

/* Names of the links of ns (NULL: ours), "\0"-separated into buf. */
static int link_names(const char *ns, char *buf, size_t len)
{
	struct rtreq r;
	char rb[32768];
	int fd = rtnl_open(ns), n = 0;
	size_t used = 0;

	if (fd < 0)
		return fd;
	rt_init(&r, RTM_GETLINK, NLM_F_REQUEST | NLM_F_DUMP);
	if (send(fd, &r, r.nh.nlmsg_len, 0) < 0) {
		close(fd);
		return -errno;
	}
	for (;;) {
		int l = recv(fd, rb, sizeof(rb), 0);
		struct nlmsghdr *h;

		if (l <= 0)
			break;
		for (h = (struct nlmsghdr *)rb; NLMSG_OK(h, (unsigned)l);
		     h = NLMSG_NEXT(h, l)) {
			struct ifinfomsg *ifi = NLMSG_DATA(h);
			struct rtattr *a;
			int al;

			if (h->nlmsg_type == NLMSG_DONE ||
			    h->nlmsg_type == NLMSG_ERROR) {
				close(fd);
				return n;
			}
			al = (int)IFLA_PAYLOAD(h);
			for (a = IFLA_RTA(ifi); RTA_OK(a, al); a = RTA_NEXT(a, al))
				if (a->rta_type == IFLA_IFNAME) {
					size_t k = strlen(RTA_DATA(a)) + 1;

					if (used + k < len) {
						memcpy(buf + used, RTA_DATA(a), k);
						used += k;
						n++;
					}
				}
		}
	}
	close(fd);
	return n;
}

void ns_create(char *out, const char *tag)
{
	char path[256];
	int fd, err;

	snprintf(out, 32, NS_PREFIX "%d-%s", (int)getpid(), tag);
	snprintf(path, sizeof(path), NETNS_DIR "/%s", out);
	ns_init_orig();
	mkdir(NETNS_DIR, 0755);
	fd = open(path, O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0);
	ck_assert_msg(fd >= 0, "create %s: %s", path, strerror(errno));
	close(fd);
	ck_assert_msg(unshare(CLONE_NEWNET) == 0, "unshare: %s", strerror(errno));
	err = mount("/proc/self/ns/net", path, "none", MS_BIND, NULL) ? -errno : 0;
	ns_switch(NULL);
	ck_assert_msg(!err, "bind mount %s: %s", path, strerror(-err));
	err = link_set_up(out, "lo", true);
	ck_assert_msg(!err, "lo up in %s: %s", out, strerror(-err));
	tlog("netns %s", out);
}

/* Delete a namespace; with its links first (synchronously: a namespace
 * itself is destroyed later by a worker, and its ports with it). */
static void ns_delete_opt(const char *name, bool links_first)
{
	char path[256];
	char names[4096];
	int n;

	if (links_first) {
		n = link_names(name, names, sizeof(names));
		for (char *p = names; n > 0; n--, p += strlen(p) + 1)
			if (strcmp(p, "lo"))
				link_del(name, p);	/* peers go with their veth */
	}
	snprintf(path, sizeof(path), NETNS_DIR "/%s", name);
	umount2(path, MNT_DETACH);
	unlink(path);
}

void ns_delete(const char *name)
{
	ns_delete_opt(name, true);
}

void ns_delete_only(const char *name)
{
	ns_delete_opt(name, false);
}

void ns_cleanup_all(void)
{
	DIR *d;
	struct dirent *de;
	char names[8192];
	int n;

	if (ns_switch(NULL))
		return;
	d = opendir(NETNS_DIR);
	if (d) {
		while ((de = readdir(d)))
			if (!strncmp(de->d_name, NS_PREFIX, strlen(NS_PREFIX)))
				ns_delete(de->d_name);
		closedir(d);
	}
	/* Test links in the initial namespace (bind= tests). */
	n = link_names(NULL, names, sizeof(names));
	for (char *p = names; n > 0; n--, p += strlen(p) + 1)
		if (!strncmp(p, NS_PREFIX, strlen(NS_PREFIX)))
			link_del(NULL, p);
}

static int ns_fd(const char *ns)
{
	char p[256];

	if (!ns) {
		ns_init_orig();
		return dup(orig_netns);
	}
	snprintf(p, sizeof(p), NETNS_DIR "/%s", ns);
	return open(p, O_RDONLY | O_CLOEXEC);
}

void veth_create(const char *ns_a, const char *a, const char *ns_b,
		 const char *b)
{
	struct rtreq r;
	struct rtattr *li, *data, *peer;
	struct ifinfomsg pifi = { .ifi_family = AF_UNSPEC };
	int fa = ns_fd(ns_a), fb = ns_fd(ns_b), fd, err;

	ck_assert_msg(fa >= 0 && fb >= 0, "netns %s/%s: %s", ns_a ? ns_a : "-",
		      ns_b ? ns_b : "-", strerror(errno));
	rt_init(&r, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
	rta_put_(&r, IFLA_IFNAME, a, strlen(a) + 1);
	rta_put_(&r, IFLA_NET_NS_FD, &fa, sizeof(fa));
	li = rta_put_(&r, IFLA_LINKINFO, NULL, 0);
	rta_put_(&r, IFLA_INFO_KIND, "veth", 5);
	data = rta_put_(&r, IFLA_INFO_DATA, NULL, 0);
	peer = rta_put_(&r, VETH_INFO_PEER, &pifi, sizeof(pifi));
	rta_put_(&r, IFLA_IFNAME, b, strlen(b) + 1);
	rta_put_(&r, IFLA_NET_NS_FD, &fb, sizeof(fb));
	rta_end(&r, peer);
	rta_end(&r, data);
	rta_end(&r, li);
	fd = rtnl_open(NULL);
	ck_assert_msg(fd >= 0, "rtnetlink: %s", strerror(-fd));
	err = rtnl_talk(fd, &r.nh);
	close(fd);
	close(fa);
	close(fb);
	ck_assert_msg(!err, "veth %s/%s: %s", a, b, strerror(-err));
	err = link_set_up(ns_a, a, true);
	ck_assert_msg(!err, "%s up: %s", a, strerror(-err));
	err = link_set_up(ns_b, b, true);
	ck_assert_msg(!err, "%s up: %s", b, strerror(-err));
}

int if_index_in(const char *ns, const char *ifname)
{
	int v;

	if (ns && ns_switch(ns))
		return -1;
	v = (int)if_nametoindex(ifname);
	if (ns)
		ns_switch(NULL);
	return v > 0 ? v : -1;
}

void if_mac_in(const char *ns, const char *ifname, uint8_t mac[6])
{
	struct ifreq ifr;
	int fd, r;

	if (ns)
		ns_enter(ns);
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	r = fd >= 0 ? ioctl(fd, SIOCGIFHWADDR, &ifr) : -1;
	if (fd >= 0)
		close(fd);
	if (ns)
		ns_switch(NULL);
	ck_assert_msg(r == 0, "SIOCGIFHWADDR %s: %s", ifname, strerror(errno));
	memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
}

static void ns_push(const char *ns)
{
	if (ns)
		ns_enter(ns);
}

static void ns_pop(const char *ns)
{
	if (ns)
		ns_switch(NULL);
}

/* ---- generic netlink ------------------------------------------------- */

static struct nlattr *nla_next_(struct nlattr *a, int *rem)
{
	int l = NLA_ALIGN(a->nla_len);

	*rem -= l;
	return (struct nlattr *)((char *)a + l);
}

static bool nla_ok_(const struct nlattr *a, int rem)
{
	return rem >= (int)sizeof(*a) && a->nla_len >= sizeof(*a) &&
	       a->nla_len <= rem;
}

#define nla_for_each(pos, head, len, rem)                                     \
	for (pos = (struct nlattr *)(head), rem = (int)(len);                  \
	     nla_ok_(pos, rem); pos = nla_next_(pos, &rem))

static void *nla_data_(const struct nlattr *a)
{
	return (char *)a + NLA_HDRLEN;
}

static int nla_plen(const struct nlattr *a)
{
	return a->nla_len - NLA_HDRLEN;
}

static int nl_socket(void)
{
	int fd, one = 1;
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	int rcv = 1 << 20;

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = -errno;

		close(fd);
		return e;
	}
	setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
	setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv));
	return fd;
}

int genl_family(struct nl *nl, const char *name, uint32_t *mcgrp_monitor)
{
	struct {
		struct nlmsghdr nh;
		struct genlmsghdr g;
		char attrs[64];
	} req;
	char buf[16384];
	size_t blen = nl->rcvlen && nl->rcvlen < sizeof(buf) ? nl->rcvlen : sizeof(buf);
	struct nlattr *a;
	int len, rem, id = -ENOENT;
	size_t nlen = strlen(name) + 1;
	struct nlattr *na;

	memset(&req, 0, sizeof(req));
	req.nh.nlmsg_type = GENL_ID_CTRL;
	req.nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	req.nh.nlmsg_seq = ++nl->seq;
	req.g.cmd = CTRL_CMD_GETFAMILY;
	req.g.version = 1;
	na = (struct nlattr *)req.attrs;
	na->nla_type = CTRL_ATTR_FAMILY_NAME;
	na->nla_len = NLA_HDRLEN + nlen;
	memcpy(nla_data_(na), name, nlen);
	req.nh.nlmsg_len = NLMSG_LENGTH(GENL_HDRLEN) + NLA_ALIGN(na->nla_len);
	if (send(nl->fd, &req, req.nh.nlmsg_len, 0) < 0)
		return -errno;
	for (;;) {
		struct nlmsghdr *nh;

		len = recv(nl->fd, buf, blen, 0);
		if (len < 0)
			return -errno;
		for (nh = (struct nlmsghdr *)buf; NLMSG_OK(nh, (unsigned)len);
		     nh = NLMSG_NEXT(nh, len)) {
			if (nh->nlmsg_seq != nl->seq)
				continue;
			if (nh->nlmsg_type == NLMSG_ERROR) {
				struct nlmsgerr *e = NLMSG_DATA(nh);

				return e->error ? e->error : id;
			}
			if (nh->nlmsg_type != GENL_ID_CTRL)
				continue;
			nla_for_each(a, (char *)NLMSG_DATA(nh) + GENL_HDRLEN,
				     nh->nlmsg_len - NLMSG_LENGTH(GENL_HDRLEN),
				     rem) {
				int t = a->nla_type & NLA_TYPE_MASK;

				if (t == CTRL_ATTR_FAMILY_ID)
					id = *(uint16_t *)nla_data_(a);
				if (t == CTRL_ATTR_VERSION)
					nl->version = *(uint32_t *)nla_data_(a);
				if (t == CTRL_ATTR_MCAST_GROUPS &&
				    mcgrp_monitor) {
					struct nlattr *g, *ga;
					int r2, r3;

					nla_for_each(g, nla_data_(a),
						     nla_plen(a), r2) {
						const char *gn = NULL;
						uint32_t gid = 0;

						nla_for_each(ga, nla_data_(g),
							     nla_plen(g), r3) {
							int tt = ga->nla_type &
								 NLA_TYPE_MASK;
							if (tt == CTRL_ATTR_MCAST_GRP_NAME)
								gn = nla_data_(ga);
							if (tt == CTRL_ATTR_MCAST_GRP_ID)
								gid = *(uint32_t *)nla_data_(ga);
						}
						if (gn && !strcmp(gn,
							ML_GENL_MCGRP_MONITOR))
							*mcgrp_monitor = gid;
					}
				}
			}
		}
	}
}

int nl_open(struct nl *nl)
{
	int id;

	memset(nl, 0, sizeof(*nl));
	nl->fd = nl_socket();
	if (nl->fd < 0)
		return nl->fd;
	nl->seq = (uint32_t)time(NULL);
	id = genl_family(nl, ML_GENL_NAME, &nl->mcgrp);
	if (id < 0)
		return id;
	nl->family = (uint16_t)id;
	return 0;
}

int nl_open_ns(struct nl *nl, const char *ns)
{
	int r;

	ns_push(ns);
	r = nl_open(nl);
	ns_pop(ns);
	return r;
}

int nl_open_small(struct nl *nl, const char *ns, size_t rcvlen)
{
	int r, fd;

	ns_push(ns);
	memset(nl, 0, sizeof(*nl));
	fd = nl_socket();
	ns_pop(ns);
	if (fd < 0)
		return fd;
	nl->fd = fd;
	nl->rcvlen = rcvlen;
	nl->seq = (uint32_t)time(NULL);
	r = genl_family(nl, ML_GENL_NAME, &nl->mcgrp);
	if (r < 0)
		return r;
	nl->family = (uint16_t)r;
	return 0;
}

void nl_open_ok(struct nl *nl, const char *ns)
{
	int r = nl_open_ns(nl, ns);

	ck_assert_msg(r == 0, "genl family " ML_GENL_NAME " in %s: %s",
		      ns ? ns : "init ns", strerror(-r));
}

void nl_close(struct nl *nl)
{
	if (nl->fd >= 0)
		close(nl->fd);
	nl->fd = -1;
}

void req_init(struct ml_req *r, const struct nl *nl, uint8_t cmd, bool dump)
{
	struct genlmsghdr *g;

	memset(r, 0, sizeof(*r));
	r->nh.nlmsg_type = nl->family;
	r->nh.nlmsg_flags = NLM_F_REQUEST | (dump ? NLM_F_DUMP : NLM_F_ACK);
	r->nh.nlmsg_len = NLMSG_LENGTH(GENL_HDRLEN);
	g = NLMSG_DATA(&r->nh);
	g->cmd = cmd;
	g->version = ML_GENL_VERSION;
}

void req_put(struct ml_req *r, uint16_t type, const void *data, size_t len)
{
	struct nlattr *a = (struct nlattr *)(r->buf + NLMSG_ALIGN(r->nh.nlmsg_len));

	ck_assert(NLMSG_ALIGN(r->nh.nlmsg_len) + NLA_HDRLEN + NLA_ALIGN(len) <=
		  sizeof(r->buf));
	a->nla_type = type;
	a->nla_len = (uint16_t)(NLA_HDRLEN + len);
	if (len)
		memcpy(nla_data_(a), data, len);
	memset((char *)nla_data_(a) + len, 0, NLA_ALIGN(len) - len);
	r->nh.nlmsg_len = NLMSG_ALIGN(r->nh.nlmsg_len) + NLA_ALIGN(a->nla_len);
}

void req_u8(struct ml_req *r, uint16_t type, uint8_t v)
{
	req_put(r, type, &v, 1);
}

void req_u16(struct ml_req *r, uint16_t type, uint16_t v)
{
	req_put(r, type, &v, 2);
}

void req_u32(struct ml_req *r, uint16_t type, uint32_t v)
{
	req_put(r, type, &v, 4);
}

void req_u64(struct ml_req *r, uint16_t type, uint64_t v)
{
	req_put(r, type, &v, 8);
}

void req_str(struct ml_req *r, uint16_t type, const char *s)
{
	req_put(r, type, s, strlen(s) + 1);
}

void msg_parse(struct ml_msg *m, const void *genl_hdr, size_t len)
{
	const struct genlmsghdr *g = genl_hdr;
	struct nlattr *a;
	int rem;

	memset(m, 0, sizeof(*m));
	m->data = malloc(len ? len : 1);
	ck_assert(m->data);
	memcpy(m->data, genl_hdr, len);
	m->len = len;
	m->cmd = g->cmd;
	if (len < GENL_HDRLEN)
		return;
	nla_for_each(a, m->data + GENL_HDRLEN, len - GENL_HDRLEN, rem) {
		int t = a->nla_type & NLA_TYPE_MASK;

		if (t <= ML_A_MAX)
			m->tb[t] = a;
	}
	if (m->tb[ML_A_STATS]) {
		struct nlattr *s;
		int r2;

		nla_for_each(s, nla_data_(m->tb[ML_A_STATS]),
			     nla_plen(m->tb[ML_A_STATS]), r2) {
			int t = s->nla_type & NLA_TYPE_MASK;

			if (t <= ML_STAT_MAX)
				m->st[t] = s;
		}
	}
}

void msg_free(struct ml_msg *m)
{
	free(m->data);
	m->data = NULL;
}

bool ma_has(const struct ml_msg *m, int attr)
{
	return attr >= 0 && attr <= ML_A_MAX && m->tb[attr];
}

static uint64_t ma_uint(const struct nlattr *a)
{
	if (!a)
		return 0;
	switch (nla_plen(a)) {
	case 1:
		return *(uint8_t *)nla_data_(a);
	case 2:
		return *(uint16_t *)nla_data_(a);
	case 4:
		return *(uint32_t *)nla_data_(a);
	case 8: {
		uint64_t v;

		memcpy(&v, nla_data_(a), 8);
		return v;
	}
	default:
		return 0;
	}
}

uint8_t ma_u8(const struct ml_msg *m, int attr)
{
	return (uint8_t)ma_uint(m->tb[attr]);
}

uint16_t ma_u16(const struct ml_msg *m, int attr)
{
	return (uint16_t)ma_uint(m->tb[attr]);
}

uint32_t ma_u32(const struct ml_msg *m, int attr)
{
	return (uint32_t)ma_uint(m->tb[attr]);
}

uint64_t ma_u64(const struct ml_msg *m, int attr)
{
	return ma_uint(m->tb[attr]);
}

const char *ma_str(const struct ml_msg *m, int attr)
{
	const struct nlattr *a = m->tb[attr];

	if (!a || nla_plen(a) < 1)
		return "";
	/* Only trust NUL-terminated strings. */
	if (((char *)nla_data_(a))[nla_plen(a) - 1] != '\0')
		return "<unterminated>";
	return nla_data_(a);
}

const uint8_t *ma_bin(const struct ml_msg *m, int attr, size_t *len)
{
	const struct nlattr *a = m->tb[attr];

	if (!a) {
		if (len)
			*len = 0;
		return NULL;
	}
	if (len)
		*len = nla_plen(a);
	return nla_data_(a);
}

uint64_t ma_stat(const struct ml_msg *m, int stat)
{
	return ma_uint(m->st[stat]);
}

static void parse_err(struct nlmsghdr *nh, struct ml_reply *rep, int error,
		      size_t off)
{
	struct nlattr *a;
	int rem;

	rep->err = error;
	if (!(nh->nlmsg_flags & NLM_F_ACK_TLVS))
		return;
	if (off > nh->nlmsg_len - NLMSG_HDRLEN)
		return;
	nla_for_each(a, (char *)NLMSG_DATA(nh) + off,
		     nh->nlmsg_len - NLMSG_HDRLEN - off, rem) {
		int t = a->nla_type & NLA_TYPE_MASK;

		if (t == NLMSGERR_ATTR_MSG && nla_plen(a) > 0) {
			snprintf(rep->extack, sizeof(rep->extack), "%.*s",
				 nla_plen(a), (char *)nla_data_(a));
		}
		if (t == NLMSGERR_ATTR_MISS_TYPE && nla_plen(a) == 4)
			rep->miss_type = *(uint32_t *)nla_data_(a);
	}
}

int nl_do(struct nl *nl, struct ml_req *r, struct ml_reply *rep)
{
	static char buf[65536];
	size_t blen = nl->rcvlen && nl->rcvlen < sizeof(buf) ? nl->rcvlen : sizeof(buf);
	bool dump = r->nh.nlmsg_flags & NLM_F_DUMP;
	int cap = 0, before;

	memset(rep, 0, sizeof(*rep));
	rep->miss_type = -1;
	r->nh.nlmsg_seq = ++nl->seq;
	if (send(nl->fd, r->buf, r->nh.nlmsg_len, 0) < 0) {
		rep->err = -errno;
		return rep->err;
	}
	for (;;) {
		struct nlmsghdr *nh;
		struct pollfd pfd = { .fd = nl->fd, .events = POLLIN };
		int len;

		if (poll(&pfd, 1, 10000) <= 0) {
			rep->err = -ETIMEDOUT;
			snprintf(rep->extack, sizeof(rep->extack),
				 "<test: no netlink answer within 10 s>");
			return rep->err;
		}
		len = recv(nl->fd, buf, blen, MSG_TRUNC);
		if (len < 0) {
			rep->err = -errno;
			return rep->err;
		}
		if ((size_t)len > blen) {
			rep->err = -EMSGSIZE;
			snprintf(rep->extack, sizeof(rep->extack),
				 "<test: netlink message of %d bytes truncated "
				 "to %zu>", len, blen);
			return rep->err;
		}
		before = rep->n;
		for (nh = (struct nlmsghdr *)buf; NLMSG_OK(nh, (unsigned)len);
		     nh = NLMSG_NEXT(nh, len)) {
			if (nh->nlmsg_seq != nl->seq)
				continue;
			if (nh->nlmsg_type == NLMSG_ERROR) {
				struct nlmsgerr *e = NLMSG_DATA(nh);
				size_t off = sizeof(*e);

				/* Without NLM_F_CAPPED the request follows. */
				if (!(nh->nlmsg_flags & NLM_F_CAPPED))
					off += e->msg.nlmsg_len - NLMSG_HDRLEN;
				parse_err(nh, rep, e->error, off);
				return rep->err;
			}
			if (nh->nlmsg_type == NLMSG_DONE) {
				int e = 0;

				if (nh->nlmsg_len >= NLMSG_LENGTH(sizeof(int)))
					e = *(int *)NLMSG_DATA(nh);
				parse_err(nh, rep, e, sizeof(int));
				return rep->err;
			}
			if (nh->nlmsg_type != nl->family)
				continue;
			if (rep->n == cap) {
				cap = cap ? cap * 2 : 8;
				rep->msgs = realloc(rep->msgs,
						    cap * sizeof(*rep->msgs));
				ck_assert(rep->msgs);
			}
			msg_parse(&rep->msgs[rep->n++], NLMSG_DATA(nh),
				  nh->nlmsg_len - NLMSG_HDRLEN);
			if (rep->n == before + 1)
				nl->rounds++;
			if (!dump && !(nh->nlmsg_flags & NLM_F_MULTI) &&
			    !(r->nh.nlmsg_flags & NLM_F_ACK))
				return 0;
		}
	}
}

void reply_free(struct ml_reply *rep)
{
	for (int i = 0; i < rep->n; i++)
		msg_free(&rep->msgs[i]);
	free(rep->msgs);
	rep->msgs = NULL;
	rep->n = 0;
}

int nl_join_monitor(struct nl *nl)
{
	if (!nl->mcgrp)
		return -ENOENT;
	if (setsockopt(nl->fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &nl->mcgrp,
		       sizeof(nl->mcgrp)) < 0)
		return -errno;
	return 0;
}

int nl_recv_ntf(struct nl *nl, struct ml_msg *m, unsigned int timeout_ms)
{
	static char buf[65536];
	static int blen, boff;
	static int bfd = -1;
	uint64_t end = now_ms() + timeout_ms;

	/* A datagram may carry several messages: keep the rest. */
	if (bfd != nl->fd) {
		blen = 0;
		boff = 0;
		bfd = nl->fd;
	}
	for (;;) {
		while (boff < blen) {
			struct nlmsghdr *nh = (struct nlmsghdr *)(buf + boff);
			int left = blen - boff;

			if (!NLMSG_OK(nh, (unsigned)left)) {
				blen = boff = 0;
				break;
			}
			boff += NLMSG_ALIGN(nh->nlmsg_len);
			if (nh->nlmsg_type != nl->family || nh->nlmsg_seq)
				continue;
			msg_parse(m, NLMSG_DATA(nh),
				  nh->nlmsg_len - NLMSG_HDRLEN);
			return 0;
		}
		{
			struct pollfd pfd = { .fd = nl->fd, .events = POLLIN };
			int64_t left = (int64_t)end - (int64_t)now_ms();
			int len;

			if (left <= 0)
				return -ETIMEDOUT;
			if (poll(&pfd, 1, (int)left) <= 0)
				return -ETIMEDOUT;
			len = recv(nl->fd, buf, sizeof(buf), MSG_DONTWAIT);
			if (len < 0) {
				if (errno == EAGAIN)
					continue;
				return -errno;
			}
			blen = len;
			boff = 0;
		}
	}
}

const char *ml_cmd_name(int cmd)
{
	static const char *const n[] = {
		[ML_CMD_UNSPEC] = "UNSPEC",
		[ML_CMD_DEV_GET] = "DEV_GET",
		[ML_CMD_DEV_SET] = "DEV_SET",
		[ML_CMD_PORT_GET] = "PORT_GET",
		[ML_CMD_PORT_BIND] = "PORT_BIND",
		[ML_CMD_PORT_UNBIND] = "PORT_UNBIND",
		[ML_CMD_NEIGH_GET] = "NEIGH_GET",
		[ML_CMD_STATS_GET] = "STATS_GET",
		[ML_CMD_DEV_NEW_NTF] = "DEV_NEW_NTF",
		[ML_CMD_DEV_DEL_NTF] = "DEV_DEL_NTF",
		[ML_CMD_PORT_UP_NTF] = "PORT_UP_NTF",
		[ML_CMD_PORT_DOWN_NTF] = "PORT_DOWN_NTF",
		[ML_CMD_NEIGH_FOUND_NTF] = "NEIGH_FOUND_NTF",
		[ML_CMD_NEIGH_LOST_NTF] = "NEIGH_LOST_NTF",
	};

	if (cmd < 0 || cmd >= (int)ARRAY_SIZE(n) || !n[cmd])
		return "?";
	return n[cmd];
}

/* ---- megalink helpers ------------------------------------------------ */

int ml_bind(struct nl *nl, struct bind_opts o, struct port_info *pi,
	    char *extack, size_t extack_len)
{
	struct ml_req r;
	struct ml_reply rep;
	int err;

	req_init(&r, nl, ML_CMD_PORT_BIND, false);
	if (o.ifname)
		req_str(&r, ML_A_IFNAME, o.ifname);
	if (o.ifindex)
		req_u32(&r, ML_A_IFINDEX, o.ifindex);
	if (o.to_dev)
		req_u32(&r, ML_A_DEV_INDEX, o.dev_index);
	if (o.node_id)
		req_u32(&r, ML_A_NODE_ID, o.node_id);
	if (o.hello_ms)
		req_u32(&r, ML_A_HELLO_MS, o.hello_ms);
	if (o.dead_ms)
		req_u32(&r, ML_A_DEAD_MS, o.dead_ms);
	err = nl_do(nl, &r, &rep);
	if (extack && extack_len)
		snprintf(extack, extack_len, "%s", rep.extack);
	if (!err && pi) {
		memset(pi, 0, sizeof(*pi));
		if (rep.n < 1) {
			err = -EBADMSG;
			if (extack && extack_len)
				snprintf(extack, extack_len,
					 "<test: PORT_BIND gave no reply message>");
		} else {
			struct ml_msg *m = &rep.msgs[0];

			pi->dev_index = ma_u32(m, ML_A_DEV_INDEX);
			snprintf(pi->dev_name, sizeof(pi->dev_name), "%s",
				 ma_str(m, ML_A_DEV_NAME));
			pi->port_index = ma_u32(m, ML_A_PORT_INDEX);
			pi->ifindex = ma_u32(m, ML_A_IFINDEX);
			if (!ma_has(m, ML_A_DEV_INDEX) ||
			    !ma_has(m, ML_A_DEV_NAME) ||
			    !ma_has(m, ML_A_PORT_INDEX)) {
				err = -EBADMSG;
				if (extack && extack_len)
					snprintf(extack, extack_len,
						 "<test: PORT_BIND reply lacks "
						 "DEV_INDEX/DEV_NAME/PORT_INDEX>");
			}
		}
	}
	reply_free(&rep);
	return err;
}

void ml_bind_ok(struct nl *nl, struct bind_opts o, struct port_info *pi)
{
	char ext[512];
	int err = ml_bind(nl, o, pi, ext, sizeof(ext));

	ck_assert_msg(err == 0, "PORT_BIND %s (dev %d, node %u): %s (%s)",
		      o.ifname ? o.ifname : "?",
		      o.to_dev ? (int)o.dev_index : -1, o.node_id,
		      strerror(-err), ext);
}

int ml_unbind_ifname(struct nl *nl, const char *ifname)
{
	struct ml_req r;
	struct ml_reply rep;
	int err;

	req_init(&r, nl, ML_CMD_PORT_UNBIND, false);
	req_str(&r, ML_A_IFNAME, ifname);
	err = nl_do(nl, &r, &rep);
	reply_free(&rep);
	return err;
}

int ml_dev_get(struct nl *nl, uint32_t dev_index, struct ml_reply *rep)
{
	struct ml_req r;

	req_init(&r, nl, ML_CMD_DEV_GET, false);
	req_u32(&r, ML_A_DEV_INDEX, dev_index);
	return nl_do(nl, &r, rep);
}

int ml_dump(struct nl *nl, uint8_t cmd, int dev_index, struct ml_reply *rep)
{
	struct ml_req r;

	req_init(&r, nl, cmd, true);
	if (dev_index >= 0)
		req_u32(&r, ML_A_DEV_INDEX, (uint32_t)dev_index);
	return nl_do(nl, &r, rep);
}

int ml_port_get(struct nl *nl, const char *ifname, struct ml_reply *rep)
{
	struct ml_req r;

	req_init(&r, nl, ML_CMD_PORT_GET, false);
	req_str(&r, ML_A_IFNAME, ifname);
	return nl_do(nl, &r, rep);
}

int ml_stats_get(struct nl *nl, const char *ifname, struct ml_reply *rep)
{
	struct ml_req r;

	req_init(&r, nl, ML_CMD_STATS_GET, false);
	req_str(&r, ML_A_IFNAME, ifname);
	return nl_do(nl, &r, rep);
}

int ml_port_state(struct nl *nl, const char *ifname)
{
	struct ml_reply rep;
	int r = ml_port_get(nl, ifname, &rep);

	if (!r) {
		if (rep.n < 1 || !ma_has(&rep.msgs[0], ML_A_LINK_STATE))
			r = -EBADMSG;
		else
			r = ma_u8(&rep.msgs[0], ML_A_LINK_STATE) == ML_LINK_UP;
	}
	reply_free(&rep);
	return r;
}

int ml_neigh_count(struct nl *nl, const char *ifname, uint32_t node_id)
{
	struct ml_reply rep;
	int n = 0;
	int r = ml_dump(nl, ML_CMD_NEIGH_GET, -1, &rep);

	if (r) {
		reply_free(&rep);
		return r;
	}
	for (int i = 0; i < rep.n; i++) {
		struct ml_msg *m = &rep.msgs[i];

		if (ifname && strcmp(ma_str(m, ML_A_IFNAME), ifname))
			continue;
		if (node_id && ma_u32(m, ML_A_NEIGH_NODE_ID) != node_id)
			continue;
		n++;
	}
	reply_free(&rep);
	return n;
}

uint32_t node_id_base(void)
{
	/* Distinct per test process so that a device left behind by a
	 * failed test (or a namespace still being destroyed) never makes a
	 * later bind fail with EEXIST. */
	return 0x10000u + ((uint32_t)getpid() % 100000u) * 128u;
}

/* ---- pods ------------------------------------------------------------ */

struct pod_port *pod_port_to(struct pod *p, int i, int j)
{
	struct pod_node *n = &p->nodes[i];

	if (p->bridge)
		return &n->ports[0];
	for (int k = 0; k < n->nports; k++)
		if (n->ports[k].peer == j)
			return &n->ports[k];
	ck_abort_msg("no port from node %d to %d", i, j);
	return NULL;
}

static void pod_build(struct pod *p, bool bridge)
{
	uint32_t base = node_id_base();
	char tag[8];

	p->bridge = bridge;
	for (int i = 0; i < p->n; i++) {
		struct pod_node *n = &p->nodes[i];

		snprintf(tag, sizeof(tag), "n%u", (unsigned char)i);
		ns_create(n->ns, tag);
		n->node_id = base + (uint32_t)i + 1;
		n->nports = 0;
		n->nl.fd = -1;
	}
	for (int i = 0; i < p->n; i++)
		for (int j = i + 1; j < p->n; j++) {
			char a[16], b[16];

			snprintf(a, sizeof(a), "m%u%u", (unsigned char)i,
				 (unsigned char)j);
			snprintf(b, sizeof(b), "m%u%u", (unsigned char)j,
				 (unsigned char)i);
			veth_create(p->nodes[i].ns, a, p->nodes[j].ns, b);
		}
	for (int i = 0; i < p->n; i++) {
		struct pod_node *n = &p->nodes[i];

		if (bridge) {
			struct pod_port *pp = &n->ports[n->nports++];

			RUN("ip -n %s link add br0 type bridge", n->ns);
			for (int j = 0; j < p->n; j++)
				if (j != i)
					RUN("ip -n %s link set m%d%d master br0",
					    n->ns, i, j);
			RUN("ip -n %s link set br0 up", n->ns);
			snprintf(pp->ifname, sizeof(pp->ifname), "br0");
			pp->peer = -1;
		} else {
			for (int j = 0; j < p->n; j++) {
				struct pod_port *pp;

				if (j == i)
					continue;
				pp = &n->ports[n->nports++];
				snprintf(pp->ifname, sizeof(pp->ifname),
					 "m%u%u", (unsigned char)i,
					 (unsigned char)j);
				pp->peer = j;
			}
		}
		for (int k = 0; k < n->nports; k++) {
			struct pod_port *pp = &n->ports[k];

			pp->ifindex = (uint32_t)if_index_in(n->ns, pp->ifname);
			if_mac_in(n->ns, pp->ifname, pp->mac);
		}
	}
}

static bool dev_has_cap(struct nl *nl, uint32_t dev_index, uint64_t cap)
{
	struct ml_reply rep;
	bool r = false;

	if (ml_dev_get(nl, dev_index, &rep) == 0 && rep.n > 0)
		r = (ma_u64(&rep.msgs[0], ML_A_CAPS) & cap) == cap;
	reply_free(&rep);
	return r;
}

static void pod_bind(struct pod *p)
{
	for (int i = 0; i < p->n; i++) {
		struct pod_node *n = &p->nodes[i];
		struct port_info pi;

		nl_open_ok(&n->nl, n->ns);
		for (int k = 0; k < n->nports; k++) {
			struct bind_opts o = BIND_OPTS(.ifname = n->ports[k].ifname);

			if (k == 0) {
				o.node_id = n->node_id;
				o.hello_ms = p->hello_ms;
				o.dead_ms = p->dead_ms;
			} else {
				o.to_dev = true;
				o.dev_index = n->dev_index;
			}
			ml_bind_ok(&n->nl, o, &pi);
			if (k == 0) {
				n->dev_index = pi.dev_index;
				snprintf(n->dev_name, sizeof(n->dev_name), "%s",
					 pi.dev_name);
			} else {
				ck_assert_msg(pi.dev_index == n->dev_index,
					      "bind to dev %u put %s into dev %u",
					      n->dev_index, n->ports[k].ifname,
					      pi.dev_index);
			}
			n->ports[k].port_index = pi.port_index;
		}
	}
}

void pod_create(struct pod *p, int n, uint32_t hello_ms, uint32_t dead_ms)
{
	bool multi;

	ck_assert(n >= 2 && n <= POD_MAX_NODES);
	memset(p, 0, sizeof(*p));
	p->n = n;
	p->hello_ms = hello_ms;
	p->dead_ms = dead_ms;
	ck_assert_msg(have_kmod("veth"), "veth module not available");
	if (n == 2) {
		/* One port per node either way. */
		pod_build(p, false);
		pod_bind(p);
		return;
	}
	/* Probe ML_DEV_CAP_MULTI_PORT on a scratch device. */
	{
		char ns[32];
		struct nl nl;
		struct port_info pi;

		ns_create(ns, "probe");
		veth_create(ns, "pa", ns, "pb");
		nl_open_ok(&nl, ns);
		ml_bind_ok(&nl, BIND_OPTS(.ifname = "pa", .node_id =
					  node_id_base() + 15), &pi);
		multi = dev_has_cap(&nl, pi.dev_index, ML_DEV_CAP_MULTI_PORT);
		nl_close(&nl);
		ns_delete(ns);
	}
	if (!multi)
		tlog("NOTE: device lacks ML_DEV_CAP_MULTI_PORT: pod on bridges");
	pod_build(p, !multi);
	pod_bind(p);
}

void pod_destroy(struct pod *p)
{
	ns_enter(NULL);
	for (int i = 0; i < p->n; i++) {
		nl_close(&p->nodes[i].nl);
		if (p->nodes[i].ns[0])
			ns_delete(p->nodes[i].ns);
	}
	p->n = 0;
}

bool pod_fully_discovered(struct pod *p, char *why, size_t whylen)
{
	for (int i = 0; i < p->n; i++) {
		struct pod_node *n = &p->nodes[i];
		struct ml_reply rep;
		int err = ml_dump(&n->nl, ML_CMD_NEIGH_GET, -1, &rep);

		if (err) {
			snprintf(why, whylen, "node %d NEIGH_GET dump: %s (%s)",
				 i, strerror(-err), rep.extack);
			reply_free(&rep);
			return false;
		}
		if (rep.n != p->n - 1) {
			snprintf(why, whylen, "node %d (%s) sees %d neighbours,"
				 " expected %d", i, n->dev_name, rep.n, p->n - 1);
			reply_free(&rep);
			return false;
		}
		for (int j = 0; j < p->n; j++) {
			struct pod_node *o = &p->nodes[j];
			struct pod_port *mine, *theirs;
			bool found = false;

			if (j == i)
				continue;
			mine = pod_port_to(p, i, j);
			theirs = pod_port_to(p, j, i);
			for (int k = 0; k < rep.n; k++) {
				struct ml_msg *m = &rep.msgs[k];
				size_t ml;
				const uint8_t *mac;

				if (ma_u32(m, ML_A_NEIGH_NODE_ID) != o->node_id)
					continue;
				found = true;
				mac = ma_bin(m, ML_A_NEIGH_MAC, &ml);
				if (strcmp(ma_str(m, ML_A_IFNAME), mine->ifname) ||
				    ma_u32(m, ML_A_PORT_INDEX) != mine->port_index ||
				    ma_u32(m, ML_A_DEV_INDEX) != n->dev_index ||
				    strcmp(ma_str(m, ML_A_NEIGH_DEV_NAME),
					   o->dev_name) ||
				    ma_u32(m, ML_A_NEIGH_PORT_INDEX) !=
					    theirs->port_index ||
				    !mac || ml != 6 ||
				    (!p->bridge && memcmp(mac, theirs->mac, 6))) {
					snprintf(why, whylen,
						 "node %d: neighbour %u on %s"
						 " port %u dev %u (expected %s"
						 " port %u dev %u), remote dev"
						 " %s port %u (expected %s port"
						 " %u), mac %s", i, o->node_id,
						 ma_str(m, ML_A_IFNAME),
						 ma_u32(m, ML_A_PORT_INDEX),
						 ma_u32(m, ML_A_DEV_INDEX),
						 mine->ifname, mine->port_index,
						 n->dev_index,
						 ma_str(m, ML_A_NEIGH_DEV_NAME),
						 ma_u32(m, ML_A_NEIGH_PORT_INDEX),
						 o->dev_name, theirs->port_index,
						 mac && ml == 6 ? "present" :
						 "missing/bad");
					reply_free(&rep);
					return false;
				}
			}
			if (!found) {
				snprintf(why, whylen, "node %d does not see"
					 " node %d (id %u)", i, j, o->node_id);
				reply_free(&rep);
				return false;
			}
		}
		reply_free(&rep);
	}
	return true;
}

struct pod_wait {
	struct pod *p;
	char why[512];
};

static bool pod_cond(void *arg)
{
	struct pod_wait *w = arg;

	return pod_fully_discovered(w->p, w->why, sizeof(w->why));
}

void pod_wait_discovered(struct pod *p, unsigned int timeout_ms)
{
	struct pod_wait w = { .p = p };

	ck_assert_msg(wait_until(pod_cond, &w, timeout_ms),
		      "pod not discovered within %u ms: %s", timeout_ms, w.why);
}

/* ---- minimal JSON ------------------------------------------------------- */

static const char *jws(const char *s)
{
	while (*s == ' ' || *s == '\n' || *s == '\t' || *s == '\r')
		s++;
	return s;
}

/* Parse a JSON string at s (on '"'), copy unescaped into out. */
static const char *jstr(const char *s, char *out, size_t outlen)
{
	size_t k = 0;

	if (*s != '"')
		return NULL;
	s++;
	while (*s && *s != '"') {
		char c = *s++;

		if (c == '\\') {
			c = *s++;
			if (!c)
				return NULL;
			if (c == 'n')
				c = '\n';
			else if (c == 't')
				c = '\t';
			else if (c == 'u') {
				/* Keep it simple: non-ASCII as '?'. */
				for (int i = 0; i < 4 && *s; i++)
					s++;
				c = '?';
			}
		}
		if (k + 1 < outlen)
			out[k++] = c;
	}
	if (*s != '"')
		return NULL;
	out[k] = '\0';
	return s + 1;
}

/* Skip any JSON value, copying its raw text. */
static const char *jval(const char *s, char *out, size_t outlen)
{
	const char *start = s;
	int depth = 0;
	size_t n;

	s = jws(s);
	start = s;
	if (*s == '"')
		return jstr(s, out, outlen);
	for (; *s; s++) {
		if (*s == '"') {
			char tmp[2];

			s = jstr(s, tmp, sizeof(tmp));
			if (!s)
				return NULL;
			s--;
			continue;
		}
		if (*s == '[' || *s == '{')
			depth++;
		else if (*s == ']' || *s == '}') {
			if (depth == 0)
				break;
			depth--;
			if (depth == 0) {
				s++;
				break;
			}
		} else if (*s == ',' && depth == 0)
			break;
	}
	n = (size_t)(s - start);
	while (n && (start[n - 1] == ' ' || start[n - 1] == '\n'))
		n--;
	snprintf(out, outlen, "%.*s", (int)n, start);
	return s;
}

int json_parse_array(const char *s, struct json_obj *objs, int max)
{
	int n = 0;

	s = jws(s);
	if (*s != '[')
		return -1;
	s = jws(s + 1);
	if (*s == ']')
		return 0;
	for (;;) {
		struct json_obj dummy, *o = n < max ? &objs[n] : &dummy;

		memset(o, 0, sizeof(*o));
		s = jws(s);
		if (*s != '{')
			return -1;
		s = jws(s + 1);
		while (*s != '}') {
			char key[32];
			int k = o->nkeys < JSON_MAX_KEYS ? o->nkeys : -1;
			char val[128];

			s = jstr(s, key, sizeof(key));
			if (!s)
				return -1;
			s = jws(s);
			if (*s != ':')
				return -1;
			s = jval(s + 1, val, sizeof(val));
			if (!s)
				return -1;
			if (k >= 0) {
				snprintf(o->key[k], sizeof(o->key[k]), "%s", key);
				snprintf(o->val[k], sizeof(o->val[k]), "%s", val);
				o->nkeys++;
			}
			s = jws(s);
			if (*s == ',')
				s = jws(s + 1);
			else if (*s != '}')
				return -1;
		}
		n++;
		s = jws(s + 1);
		if (*s == ',') {
			s++;
			continue;
		}
		if (*s == ']')
			return n < max ? n : max;
		return -1;
	}
}

const char *json_get(const struct json_obj *o, const char *key)
{
	for (int i = 0; i < o->nkeys; i++)
		if (!strcmp(o->key[i], key))
			return o->val[i];
	return NULL;
}

const char *stat_tool(void)
{
	static char q[1100];
	char p[1024];

	snprintf(p, sizeof(p), "%s/tools/megalink-stat", repo_dir());
	if (access(p, X_OK) == 0)
		return sh_quote(q, sizeof(q), p);
	return NULL;
}

/* ---- Check glue ------------------------------------------------------- */

void fx_setup(void)
{
	ns_cleanup_all();
	ml_ensure_loaded();
}

void fx_teardown(void)
{
	ns_cleanup_all();
}

TCase *tcase_new(const char *name, int timeout_s)
{
	TCase *tc = tcase_create(name);

	tcase_add_checked_fixture(tc, fx_setup, fx_teardown);
	tcase_set_timeout(tc, timeout_s);
	return tc;
}

int run_suite(Suite *s, const char *name)
{
	SRunner *sr = srunner_create(s);
	int failed;
	char log[1024];

	/* Forking is what keeps a setns() or a crash inside one test. */
	srunner_set_fork_status(sr, CK_FORK);
	snprintf(log, sizeof(log), "%s/%s.log", out_dir(), name);
	if (getenv("ML_OUT"))
		srunner_set_log(sr, log);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	/* A test killed by its timeout never ran its teardown. */
	ns_cleanup_all();
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
