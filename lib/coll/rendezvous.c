// SPDX-License-Identifier: MIT
/*
 * Built-in TCP rendezvous: rank 0 listens on the port (all addresses),
 * every other rank connects to addr:port (retrying until the deadline) and
 * sends {rank, size, len, blob}; rank 0 answers each with the table of all
 * blobs.  One connection per rank serves every round of the exchange.
 */
#define _GNU_SOURCE
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

#include "internal.h"

struct hello {
	uint32_t magic, rank, size, len;
};

static int wait_fd(int fd, short ev, uint64_t deadline)
{
	for (;;) {
		uint64_t now = mlc_now_ns();
		struct pollfd p = { .fd = fd, .events = ev };
		int r;

		if (now >= deadline)
			return -ETIMEDOUT;
		r = poll(&p, 1, (int)((deadline - now) / 1000000 + 1));
		if (r > 0)
			return 0;
		if (r < 0 && errno != EINTR)
			return -errno;
	}
}

static int xfer(int fd, void *buf, size_t len, int out, uint64_t deadline)
{
	char *p = buf;

	while (len) {
		int r = wait_fd(fd, out ? POLLOUT : POLLIN, deadline);
		ssize_t n;

		if (r)
			return r;
		n = out ? send(fd, p, len, MSG_NOSIGNAL) : recv(fd, p, len, 0);
		if (n == 0)
			return -ECONNRESET;
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

struct tcp_rdv {
	int rank, size;
	int fd;				/* ranks > 0: to rank 0 */
	int fds[ML_COLL_MAX_RANKS];	/* rank 0: from rank i */
};

static int rdv_open(struct tcp_rdv *t, const char *addr, uint16_t port, int rank,
		    int size, uint64_t deadline, char *err)
{
	char portstr[16];
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *ai = NULL;
	int one = 1, r;

	t->rank = rank;
	t->size = size;
	t->fd = -1;
	for (int i = 0; i < size; i++)
		t->fds[i] = -1;
	snprintf(portstr, sizeof(portstr), "%u", port);
	if (rank == 0) {
		struct sockaddr_in6 sa = { .sin6_family = AF_INET6, .sin6_port = htons(port),
					   .sin6_addr = IN6ADDR_ANY_INIT };
		int lfd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
		int got = 0;

		if (lfd < 0) {
			struct sockaddr_in s4 = { .sin_family = AF_INET, .sin_port = htons(port) };

			lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
			if (lfd < 0)
				return snprintf(err, 256, "socket: %s", strerror(errno)), -errno;
			setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
			r = bind(lfd, (struct sockaddr *)&s4, sizeof(s4));
		} else {
			setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
			r = bind(lfd, (struct sockaddr *)&sa, sizeof(sa));
		}
		if (r || listen(lfd, ML_COLL_MAX_RANKS)) {
			r = -errno;
			snprintf(err, 256, "rendezvous: rank 0 cannot listen on port %u: %s",
				 port, strerror(errno));
			close(lfd);
			return r;
		}
		while (got < size - 1) {
			struct hello h;
			int fd;

			r = wait_fd(lfd, POLLIN, deadline);
			if (r) {
				char missing[200] = "";
				size_t o = 0;

				for (int i = 1; i < size && o < sizeof(missing) - 8; i++)
					if (t->fds[i] < 0)
						o += (size_t)snprintf(missing + o, sizeof(missing) - o,
								      " %d", i);
				snprintf(err, 256, "rendezvous: timed out waiting for rank(s)%s "
					 "on port %u", missing, port);
				close(lfd);
				return r;
			}
			fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
			if (fd < 0)
				continue;
			setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
			if (xfer(fd, &h, sizeof(h), 0, deadline) || h.magic != BLOB_MAGIC) {
				close(fd);
				continue;
			}
			if (h.size != (uint32_t)size || h.rank == 0 || h.rank >= (uint32_t)size ||
			    t->fds[h.rank] >= 0) {
				snprintf(err, 256, "rendezvous: a peer says it is rank %u of %u, "
					 "rank 0 expected ranks 1..%d of %d%s", h.rank, h.size,
					 size - 1, size,
					 h.rank < (uint32_t)size && h.rank && t->fds[h.rank] >= 0 ?
					 " (that rank joined twice)" : "");
				close(fd);
				close(lfd);
				return -EINVAL;
			}
			t->fds[h.rank] = fd;
			got++;
		}
		close(lfd);
		return 0;
	}
	r = getaddrinfo(addr, portstr, &hints, &ai);
	if (r) {
		snprintf(err, 256, "rendezvous: cannot resolve address \"%s\": %s", addr,
			 gai_strerror(r));
		return -EINVAL;
	}
	for (;;) {
		struct addrinfo *a;

		for (a = ai; a; a = a->ai_next) {
			int fd = socket(a->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);

			if (fd < 0)
				continue;
			if (connect(fd, a->ai_addr, a->ai_addrlen) == 0) {
				struct hello h = { BLOB_MAGIC, (uint32_t)rank, (uint32_t)size, 0 };

				setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
				t->fd = fd;
				r = xfer(fd, &h, sizeof(h), 1, deadline);
				freeaddrinfo(ai);
				if (r)
					snprintf(err, 256, "rendezvous: rank 0 at %s:%u: %s", addr,
						 port, strerror(-r));
				return r;
			}
			close(fd);
		}
		if (mlc_now_ns() >= deadline) {
			freeaddrinfo(ai);
			snprintf(err, 256, "rendezvous: rank 0 never answered at %s:%u "
				 "(MASTER_ADDR/MASTER_PORT)", addr, port);
			return -ETIMEDOUT;
		}
		usleep(50000);
	}
}

static int rdv_round(struct tcp_rdv *t, const void *mine, void *all, size_t len,
		     uint64_t deadline, char *err)
{
	int r;

	if (t->rank) {
		r = xfer(t->fd, (void *)mine, len, 1, deadline);
		if (!r)
			r = xfer(t->fd, all, len * (size_t)t->size, 0, deadline);
		if (r)
			snprintf(err, 256, "rendezvous: exchange with rank 0: %s", strerror(-r));
		return r;
	}
	memcpy(all, mine, len);
	for (int i = 1; i < t->size; i++) {
		r = xfer(t->fds[i], (char *)all + (size_t)i * len, len, 0, deadline);
		if (r) {
			snprintf(err, 256, "rendezvous: rank %d: %s", i, strerror(-r));
			return r;
		}
	}
	for (int i = 1; i < t->size; i++) {
		r = xfer(t->fds[i], all, len * (size_t)t->size, 1, deadline);
		if (r) {
			snprintf(err, 256, "rendezvous: rank %d: %s", i, strerror(-r));
			return r;
		}
	}
	return 0;
}

static void rdv_close(struct tcp_rdv *t)
{
	if (t->fd >= 0)
		close(t->fd);
	for (int i = 0; i < t->size; i++)
		if (t->fds[i] >= 0)
			close(t->fds[i]);
}

/* Two rounds: the blobs, then a barrier of one word (everyone connected). */
int mlc_tcp_exchange(const char *addr, uint16_t port, int rank, int size,
		     uint32_t timeout_ms, const void *mine, void *all, size_t len,
		     char *err)
{
	struct tcp_rdv t;
	uint64_t deadline = mlc_now_ns() + (uint64_t)timeout_ms * 1000000;
	int r = rdv_open(&t, addr, port, rank, size, deadline, err);

	if (!r)
		r = rdv_round(&t, mine, all, len, deadline, err);
	rdv_close(&t);
	return r;
}
