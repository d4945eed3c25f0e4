// SPDX-License-Identifier: MIT
/*
 * Backend: raw Ethernet frames on a netdev (AF_PACKET, SOCK_RAW,
 * EtherType 0x88B6, PACKET_QDISC_BYPASS), the latency floor of the link.
 * It looks like a verbs provider that can only SEND: a send goes out at
 * once and completes at once; a receive is a frame of our EtherType that
 * arrived on the netdev (copied into the posted buffer).  The peer's MAC
 * comes from --peer-mac or from its report over TCP; the server answers
 * the source of the frame it got.  One QP.  A frame is the Ethernet
 * header, a 16-bit payload length (short frames may be padded on the
 * way) and SIZE bytes: SIZE is at most the MTU - 2.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "perf.h"

#define RAW_ETHERTYPE	0x88B6
#define RING		256
#define HDR		16	/* Ethernet header + payload length */

struct r_pc {
	int ifindex;
	uint8_t mac[6];
	uint8_t peer[6];
	int have_peer;
};

struct r_grp {
	int fd;
	uint8_t frame[65536 + HDR];
	/* completions owed: sends (all complete at once), posted receives */
	uint64_t sdone[RING];
	unsigned int s_head, s_tail;
	struct { uint64_t id; void *addr; uint32_t len; } rq[RING];
	unsigned int r_head, r_tail;
};

static int parse_mac(const char *s, uint8_t *m)
{
	unsigned int v[6];
	char c;

	if (sscanf(s, "%x:%x:%x:%x:%x:%x%c", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &c) != 6)
		return -1;
	for (int i = 0; i < 6; i++) {
		if (v[i] > 255)
			return -1;
		m[i] = (uint8_t)v[i];
	}
	return 0;
}

static int r_open(struct pctx *pc)
{
	struct r_pc *r = calloc(1, sizeof(*r));
	struct ifreq ifr;
	int fd;

	if (!r)
		return -ENOMEM;
	if (strlen(loc.dev) >= IFNAMSIZ) {
		be_err("--raw %s: interface name too long", loc.dev);
		return -EINVAL;
	}
	r->ifindex = (int)if_nametoindex(loc.dev);
	if (!r->ifindex) {
		be_err("--raw %s: no such network interface", loc.dev);
		return -ENODEV;
	}
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", loc.dev);
	if (fd < 0 || ioctl(fd, SIOCGIFHWADDR, &ifr) || ioctl(fd, SIOCGIFMTU, &ifr)) {
		be_err("--raw %s: cannot read its MAC and MTU: %s", loc.dev, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -errno;
	}
	pc->mtu = (uint32_t)ifr.ifr_mtu - 2;
	ioctl(fd, SIOCGIFHWADDR, &ifr);
	memcpy(r->mac, ifr.ifr_hwaddr.sa_data, 6);
	close(fd);
	if (loc.peer_mac) {
		if (parse_mac(loc.peer_mac, r->peer)) {
			be_err("--peer-mac %s: not a MAC address (aa:bb:cc:dd:ee:ff)", loc.peer_mac);
			return -EINVAL;
		}
		r->have_peer = 1;
	}
	pc->priv = r;
	snprintf(pc->devname, sizeof(pc->devname), "%s", loc.dev);
	snprintf(pc->detail, sizeof(pc->detail),
		 "mac %02x:%02x:%02x:%02x:%02x:%02x mtu %u ethertype 0x%04x", r->mac[0], r->mac[1],
		 r->mac[2], r->mac[3], r->mac[4], r->mac[5], pc->mtu, RAW_ETHERTYPE);
	return 0;
}

static void r_close(struct pctx *pc)
{
	free(pc->priv);
	pc->priv = NULL;
}

static int r_group_create(struct group *g)
{
	struct r_pc *r = g->pc->priv;
	struct r_grp *x = calloc(1, sizeof(*x));
	struct sockaddr_ll sa = { .sll_family = AF_PACKET, .sll_protocol = htons(RAW_ETHERTYPE),
				  .sll_ifindex = r->ifindex };
	int one = 1;

	if (!x)
		return -ENOMEM;
	g->priv = x;
	x->fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(RAW_ETHERTYPE));
	if (x->fd < 0) {
		be_err("--raw: AF_PACKET socket: %s (needs CAP_NET_RAW)", strerror(errno));
		return -errno;
	}
	if (bind(x->fd, (struct sockaddr *)&sa, sizeof(sa))) {
		be_err("--raw %s: bind: %s", loc.dev, strerror(errno));
		return -errno;
	}
	setsockopt(x->fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof(one));
	g->max_inline = 0;
	return 0;
}

static void r_group_destroy(struct group *g)
{
	struct r_grp *x = g->priv;

	if (!x)
		return;
	if (x->fd >= 0)
		close(x->fd);
	free(x);
}

static int r_qp_create(struct qp *q)
{
	(void)q;
	return 0;
}

static void r_qp_info(struct qp *q, struct wire_ep *e)
{
	struct r_pc *r = q->g->pc->priv;

	memset(e, 0, sizeof(*e));
	e->len = q->buf_len;
	e->addr = (uintptr_t)q->buf;
	memcpy(e->mac, r->mac, 6);
}

static int r_qp_connect(struct qp *q)
{
	struct r_pc *r = q->g->pc->priv;

	if (!r->have_peer) {
		memcpy(r->peer, q->peer.mac, 6);
		r->have_peer = 1;
	}
	return 0;
}

static void r_qp_destroy(struct qp *q)
{
	(void)q;
}

static int r_post(struct qp *q, enum op op, void *laddr, uint32_t len, uint64_t raddr,
		  int sig, int inl, uint64_t wr_id)
{
	struct r_pc *r = q->g->pc->priv;
	struct r_grp *x = q->g->priv;
	struct ether_header *eh = (struct ether_header *)x->frame;
	ssize_t n;

	(void)raddr;
	(void)inl;
	if (op != OP_SEND) {
		be_err("--raw sends frames only");
		return -EINVAL;
	}
	if (len > sizeof(x->frame) - HDR) {
		be_err("--raw: %u bytes do not fit a frame", len);
		return -EMSGSIZE;
	}
	memcpy(eh->ether_dhost, r->peer, 6);
	memcpy(eh->ether_shost, r->mac, 6);
	eh->ether_type = htons(RAW_ETHERTYPE);
	x->frame[14] = (uint8_t)(len >> 8);
	x->frame[15] = (uint8_t)len;
	memcpy(x->frame + HDR, laddr, len);
	do
		n = send(x->fd, x->frame, len + HDR, 0);
	while (n < 0 && (errno == EINTR || errno == ENOBUFS || errno == EAGAIN));
	if (n != (ssize_t)len + HDR) {
		be_err("--raw %s: send of a %u-byte frame: %s", loc.dev, len + HDR,
		       n < 0 ? strerror(errno) : "short");
		return n < 0 ? -errno : -EIO;
	}
	if (sig) {
		if (x->s_head - x->s_tail == RING) {
			be_err("--raw: too many completions owed");
			return -ENOSPC;
		}
		x->sdone[x->s_head++ % RING] = wr_id;
	}
	return 0;
}

static int r_db(struct qp *q)
{
	(void)q;
	return 0;
}

static int r_recv(struct qp *q, void *addr, uint32_t len, uint64_t wr_id)
{
	struct r_grp *x = q->g->priv;

	if (x->r_head - x->r_tail == RING) {
		be_err("--raw: receive ring full");
		return -ENOSPC;
	}
	x->rq[x->r_head % RING].id = wr_id;
	x->rq[x->r_head % RING].addr = addr;
	x->rq[x->r_head % RING].len = len;
	x->r_head++;
	return 0;
}

static int r_poll(struct group *g, int which, struct be_wc *wc, int max)
{
	struct r_pc *r = g->pc->priv;
	struct r_grp *x = g->priv;
	int n = 0;

	if (!which) {
		while (n < max && x->s_tail != x->s_head) {
			wc[n] = (struct be_wc){ .wr_id = x->sdone[x->s_tail++ % RING], .ok = 1 };
			n++;
		}
		return n;
	}
	while (n < max && x->r_tail != x->r_head) {
		struct sockaddr_ll from;
		socklen_t fl = sizeof(from);
		ssize_t len = recvfrom(x->fd, x->frame, sizeof(x->frame), MSG_DONTWAIT,
				       (struct sockaddr *)&from, &fl);
		uint32_t pay;

		if (len < 0) {
			if (errno == EAGAIN || errno == EINTR)
				break;
			be_err("--raw %s: recv: %s", loc.dev, strerror(errno));
			return -errno;
		}
		if (from.sll_pkttype == PACKET_OUTGOING || len < HDR)
			continue;
		/* the server answers whoever pinged it */
		if (!loc.is_client && !loc.peer_mac)
			memcpy(r->peer, x->frame + 6, 6);
		pay = (uint32_t)x->frame[14] << 8 | x->frame[15];
		if (pay > (uint32_t)len - HDR || pay > x->rq[x->r_tail % RING].len) {
			be_err("--raw %s: a frame of %zd bytes says it carries %u", loc.dev, len, pay);
			return -EPROTO;
		}
		memcpy(x->rq[x->r_tail % RING].addr, x->frame + HDR, pay);
		wc[n] = (struct be_wc){ .wr_id = x->rq[x->r_tail % RING].id, .byte_len = pay,
					.ok = 1 };
		x->r_tail++;
		n++;
	}
	return n;
}

static int r_event_fd(struct group *g)
{
	return ((struct r_grp *)g->priv)->fd;
}

static int r_arm(struct group *g)
{
	(void)g;
	return 0;
}

static void r_ack(struct group *g)
{
	(void)g;
}

static void r_diag(struct qp *q, char *buf, size_t len)
{
	struct r_pc *r = q->g->pc->priv;

	snprintf(buf, len, "no frame of EtherType 0x%04x from %02x:%02x:%02x:%02x:%02x:%02x on %s "
		 "(a frame lost: raw frames are not retransmitted)", RAW_ETHERTYPE, r->peer[0],
		 r->peer[1], r->peer[2], r->peer[3], r->peer[4], r->peer[5], loc.dev);
}

const struct backend be_raw = {
	.name = "raw",
	.caps = 0,
	.open = r_open,
	.close = r_close,
	.group_create = r_group_create,
	.group_destroy = r_group_destroy,
	.qp_create = r_qp_create,
	.qp_info = r_qp_info,
	.qp_connect = r_qp_connect,
	.qp_destroy = r_qp_destroy,
	.post_send = r_post,
	.doorbell = r_db,
	.post_recv = r_recv,
	.poll = r_poll,
	.event_fd = r_event_fd,
	.arm = r_arm,
	.ack = r_ack,
	.diag = r_diag,
};
