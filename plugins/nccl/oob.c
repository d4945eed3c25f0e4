// SPDX-License-Identifier: MIT
/*
 * oob.c: the TCP side channel of connection setup.
 *
 * A megalink RC QP only accepts frames from the (node, QP) it was
 * connected to, and megalink has no connection manager, so the listener
 * cannot learn the connector's QP number over the fabric.  As NCCL's own
 * IB transport does, connection setup exchanges it over TCP: the listen
 * handle carries the listener's node id, QP number, a nonce and a TCP
 * address; the connector sends its own node id and QP number back.  The
 * socket then stays open as a liveness channel: a peer process that dies
 * closes it, which fails pending requests instead of leaving them hanging.
 *
 * The address is chosen once, by NCCL's NCCL_SOCKET_IFNAME rules
 * ("eth", "^docker", "=eth0"), else the first interface that is up, not
 * loopback and has an IPv4 address, else loopback.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "plugin.h"

static struct sockaddr_storage oob_local;
static socklen_t oob_local_len;

/* One NCCL_SOCKET_IFNAME list entry against an interface name. */
static bool ifname_listed(const char *list, const char *name, bool *exclude)
{
	char buf[256], *save = NULL, *tok;
	bool exact = false;

	*exclude = false;
	if (list[0] == '^') {
		*exclude = true;
		list++;
	}
	if (list[0] == '=') {
		exact = true;
		list++;
	}
	snprintf(buf, sizeof(buf), "%s", list);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (exact ? !strcmp(tok, name) : !strncmp(tok, name, strlen(tok)))
			return true;
	}
	return false;
}

static bool ifname_ok(const char *list, const char *name)
{
	bool excl, hit;

	if (!list || !list[0])
		return true;
	hit = ifname_listed(list, name, &excl);
	return excl ? !hit : hit;
}

int mn_oob_init(char *ifname_out, size_t len)
{
	const char *list = getenv("NCCL_SOCKET_IFNAME");
	struct ifaddrs *ifs, *i, *pick = NULL, *lo = NULL;

	if (getifaddrs(&ifs))
		return -errno;
	for (i = ifs; i; i = i->ifa_next) {
		if (!i->ifa_addr || !(i->ifa_flags & IFF_UP))
			continue;
		if (i->ifa_addr->sa_family != AF_INET && i->ifa_addr->sa_family != AF_INET6)
			continue;
		if (i->ifa_addr->sa_family == AF_INET6) {
			const struct in6_addr *a =
				&((const struct sockaddr_in6 *)i->ifa_addr)->sin6_addr;

			if (IN6_IS_ADDR_LINKLOCAL(a))
				continue;	/* needs a scope id: not worth it */
		}
		if (!ifname_ok(list, i->ifa_name))
			continue;
		if (i->ifa_flags & IFF_LOOPBACK) {
			if (!lo)
				lo = i;
			continue;
		}
		/* IPv4 first, as NCCL does by default */
		if (!pick || (pick->ifa_addr->sa_family == AF_INET6 &&
			      i->ifa_addr->sa_family == AF_INET))
			pick = i;
	}
	if (!pick)
		pick = lo;
	if (!pick) {
		freeifaddrs(ifs);
		return -ENODEV;
	}
	oob_local_len = pick->ifa_addr->sa_family == AF_INET ? sizeof(struct sockaddr_in)
							     : sizeof(struct sockaddr_in6);
	memcpy(&oob_local, pick->ifa_addr, oob_local_len);
	snprintf(ifname_out, len, "%s", pick->ifa_name);
	freeifaddrs(ifs);
	return 0;
}

static int set_flags(int fd)
{
	int one = 1;

	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

int mn_oob_listen(struct mn_oob_addr *where)
{
	struct sockaddr_storage ss = oob_local;
	socklen_t sl = oob_local_len;
	int fd, err;

	if (!oob_local_len)
		return -ENODEV;
	((struct sockaddr_in *)&ss)->sin_port = 0;	/* same offset for v6 */
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&ss, sl) || listen(fd, 16) ||
	    getsockname(fd, (struct sockaddr *)&ss, &sl)) {
		err = -errno;
		close(fd);
		return err;
	}
	memset(where, 0, sizeof(*where));
	where->family = ss.ss_family;
	if (ss.ss_family == AF_INET) {
		where->port = ((struct sockaddr_in *)&ss)->sin_port;
		memcpy(where->addr, &((struct sockaddr_in *)&ss)->sin_addr, 4);
	} else {
		where->port = ((struct sockaddr_in6 *)&ss)->sin6_port;
		memcpy(where->addr, &((struct sockaddr_in6 *)&ss)->sin6_addr, 16);
	}
	return fd;
}

int mn_oob_connect(const struct mn_oob_addr *to)
{
	struct sockaddr_storage ss = { 0 };
	socklen_t sl;
	int fd, err;

	if (to->family == AF_INET) {
		struct sockaddr_in *s = (struct sockaddr_in *)&ss;

		s->sin_family = AF_INET;
		s->sin_port = to->port;
		memcpy(&s->sin_addr, to->addr, 4);
		sl = sizeof(*s);
	} else if (to->family == AF_INET6) {
		struct sockaddr_in6 *s = (struct sockaddr_in6 *)&ss;

		s->sin6_family = AF_INET6;
		s->sin6_port = to->port;
		memcpy(&s->sin6_addr, to->addr, 16);
		sl = sizeof(*s);
	} else {
		return -EAFNOSUPPORT;
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (set_flags(fd) < 0 ||
	    (connect(fd, (struct sockaddr *)&ss, sl) && errno != EINPROGRESS)) {
		err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

int mn_oob_connected(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLOUT };
	int err = 0;
	socklen_t el = sizeof(err);

	if (poll(&p, 1, 0) <= 0)
		return 0;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el))
		return -errno;
	return err ? -err : 1;
}

int mn_oob_io(int fd, void *buf, size_t len, size_t *off, int out)
{
	while (*off < len) {
		ssize_t n = out ? send(fd, (char *)buf + *off, len - *off, MSG_NOSIGNAL | MSG_DONTWAIT)
				: recv(fd, (char *)buf + *off, len - *off, MSG_DONTWAIT);

		if (n > 0) {
			*off += (size_t)n;
			continue;
		}
		if (n == 0)
			return -ECONNRESET;	/* EOF */
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return 0;
		if (errno != EINTR)
			return -errno;
	}
	return 1;
}

int mn_oob_peer_gone(int fd)
{
	char c;
	ssize_t n = recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);

	if (n == 0)
		return 1;
	return n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR;
}

const char *mn_oob_name(const struct mn_oob_addr *a, char *buf, size_t len)
{
	char ip[INET6_ADDRSTRLEN] = "?";

	inet_ntop(a->family, a->addr, ip, sizeof(ip));
	snprintf(buf, len, a->family == AF_INET6 ? "[%s]:%u" : "%s:%u", ip, ntohs(a->port));
	return buf;
}
