// SPDX-License-Identifier: MIT
/*
 * The out-of-band channel: one TCP connection between server and client
 * (the server listens on -p, the client connects, retrying for --timeout
 * while the server is not up yet).  Messages are a 12-byte header (magic,
 * type, payload length; big endian) and a payload.  Waiting for a message
 * never blocks for good: it polls in 100 ms steps, calls engine_idle()
 * (which dies when a worker died), and gives up after oob_limit_s when
 * that is set.  TCP keepalive notices a peer host that went away.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "perf.h"

#define MAGIC	0x4d4c5032u	/* "MLP2" */

static int fd = -1;
unsigned int oob_limit_s;	/* 0: wait as long as the workers live */
void engine_idle(void);

static const char *msg_name(unsigned int t)
{
	static const char *const n[] = {
		"?", "config", "config-ack", "info", "sync", "start", "ready", "end",
		"result", "done",
	};

	return t < sizeof(n) / sizeof(n[0]) ? n[t] : "?";
}

static void wr(const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			die("TCP exchange: write: %s (the peer is gone?)", strerror(errno));
		p += n;
		len -= (size_t)n;
	}
}

static void rd(void *buf, size_t len)
{
	char *p = buf;
	uint64_t start = now_ns();

	while (len) {
		struct pollfd pf = { .fd = fd, .events = POLLIN };
		ssize_t n;
		int r = poll(&pf, 1, 100);

		if (r < 0 && errno != EINTR)
			die("TCP exchange: poll: %s", strerror(errno));
		if (r <= 0) {
			engine_idle();
			if (oob_limit_s && now_ns() - start > oob_limit_s * 1000000000ull)
				die("the peer sent nothing for %u s (--timeout): is it stuck?",
				    oob_limit_s);
			continue;
		}
		n = read(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n == 0)
			die("TCP exchange: the peer closed the connection (it failed or exited; "
			    "see its error)");
		if (n < 0)
			die("TCP exchange: read: %s", strerror(errno));
		p += n;
		len -= (size_t)n;
	}
}

void oob_send(enum msg_type t, const void *data, size_t len)
{
	uint32_t h[3] = { htonl(MAGIC), htonl(t), htonl((uint32_t)len) };

	wr(h, sizeof(h));
	if (len)
		wr(data, len);
}

enum msg_type oob_recv(enum msg_type want, enum msg_type alt, void *data, size_t cap,
		       size_t *lenp)
{
	uint32_t h[3], t, len;
	char sink[256];

	rd(h, sizeof(h));
	if (ntohl(h[0]) != MAGIC)
		die("TCP exchange: not a megalink-perf peer of this version (magic 0x%08x)",
		    ntohl(h[0]));
	t = ntohl(h[1]);
	len = ntohl(h[2]);
	if (t != want && (!alt || t != alt))
		die("TCP exchange: expected a '%s' message, got '%s' (%u)", msg_name(want),
		    msg_name(t), t);
	if (len > (64u << 20))
		die("TCP exchange: a %u-byte message?", len);
	if (len <= cap) {
		if (len)
			rd(data, len);
	} else {
		die("TCP exchange: '%s' message of %u bytes, at most %zu expected", msg_name(t),
		    len, cap);
		(void)sink;
	}
	if (lenp)
		*lenp = len;
	return (enum msg_type)t;
}

static void tune(int s)
{
	int one = 1, idle = (int)cfg.timeout_s, intvl = 1, cnt = 3;

	setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	setsockopt(s, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
	setsockopt(s, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
	setsockopt(s, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof(intvl));
	setsockopt(s, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt));
}

static void listen_accept(void)
{
	struct sockaddr_in6 sa = { .sin6_family = AF_INET6, .sin6_port = htons(loc.port),
				   .sin6_addr = IN6ADDR_ANY_INIT };
	struct sockaddr_in sa4 = { .sin_family = AF_INET, .sin_port = htons(loc.port) };
	int one = 1, zero = 0, lfd;

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
			die("-p %u: bind: %s", loc.port, strerror(errno));
	}
	if (listen(lfd, 1))
		die("-p %u: listen: %s", loc.port, strerror(errno));
	if (!loc.json)
		printf("waiting for a client on TCP port %u ...\n", loc.port);
	do
		fd = accept(lfd, NULL, NULL);
	while (fd < 0 && errno == EINTR);
	if (fd < 0)
		die("-p %u: accept: %s", loc.port, strerror(errno));
	close(lfd);
}

static void connect_server(void)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM };
	struct addrinfo *res = NULL, *ai;
	uint64_t deadline = now_ns() + cfg.timeout_s * 1000000000ull;
	char port[8];
	int r, err = 0;

	snprintf(port, sizeof(port), "%u", loc.port);
	r = getaddrinfo(loc.host, port, &hints, &res);
	if (r)
		die("SERVER %s: %s", loc.host, gai_strerror(r));
	for (fd = -1; fd < 0;) {
		for (ai = res; ai && fd < 0; ai = ai->ai_next) {
			fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
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
		if (now_ns() > deadline)
			die("cannot connect to %s port %u for %u s: %s (is the server running?)",
			    loc.host, loc.port, cfg.timeout_s, strerror(err));
		usleep(100000);
	}
	freeaddrinfo(res);
}

void oob_setup(void)
{
	if (loc.is_client)
		connect_server();
	else
		listen_accept();
	tune(fd);
}

/* During a run: dies if the peer closed the connection (it died). */
void oob_check_peer(void)
{
	struct pollfd pf = { .fd = fd, .events = POLLIN | POLLRDHUP };
	char c;

	if (fd < 0 || poll(&pf, 1, 0) <= 0)
		return;
	if (pf.revents & (POLLHUP | POLLERR | POLLRDHUP) ||
	    recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT) == 0)
		die("the peer closed the TCP connection during the run (it failed or was killed; "
		    "see its error)");
}

void oob_close(void)
{
	if (fd >= 0)
		close(fd);
	fd = -1;
}

void wire_ep_hton(struct wire_ep *e)
{
	e->qpn = htonl(e->qpn);
	e->node = htonl(e->node);
	e->rkey = htonl(e->rkey);
	e->psn = htonl(e->psn);
	e->addr = htobe64(e->addr);
	e->len = htobe64(e->len);
}
