// SPDX-License-Identifier: MIT
/* The forged peer of the data-plane suite: dp_fake.h. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <check.h>

#include "dp.h"
#include "dp_fake.h"

long dp_read_long(const char *path, long dflt)
{
	FILE *f = fopen(path, "r");
	long v;

	if (!f)
		return dflt;
	if (fscanf(f, "%li", &v) != 1)
		v = dflt;
	fclose(f);
	return v;
}

int dp_write_str(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, s, strlen(s));
	close(fd);
	return n == (ssize_t)strlen(s) ? 0 : -EIO;
}

uint32_t dp_crc32c(uint32_t c, const void *p, size_t n)
{
	const uint8_t *b = p;

	while (n--) {
		c ^= *b++;
		for (int k = 0; k < 8; k++)
			c = (c >> 1) ^ ((c & 1) ? 0x82F63B78u : 0);
	}
	return c;
}

/* ---- a node A endpoint built with libmegalink ---- */


void dp_ep_open(struct dp_ep *e, size_t len)
{
	struct ml_device_info info;
	struct ml_qp_init qi = { 0 };

	memset(e, 0, sizeof(*e));
	dp_ns_enter(DP_A);
	ck_assert_msg(ml_device_open(dp_env.dev[DP_A], &e->dev) == 0, "open %s: %s",
		      dp_env.dev[DP_A], ml_last_error());
	ck_assert_int_eq(ml_device_query(e->dev, &info), 0);
	e->node = info.node_id;
	e->mtu = info.ports_filled ? info.ports[0].mtu : 1500;
	ck_assert_int_eq(ml_pd_alloc(e->dev, &e->pd), 0);
	ck_assert_int_eq(ml_cq_create(e->dev, 64, &e->cq), 0);
	qi.send_cq = e->cq;
	qi.sq_entries = 16;
	qi.rq_entries = 16;
	ck_assert_msg(ml_qp_create(e->pd, &qi, &e->qp) == 0, "%s", ml_last_error());
	e->len = len;
	e->buf = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ck_assert(e->buf != MAP_FAILED);
	memset(e->buf, 0x5a, len);
	ck_assert_msg(ml_mr_reg(e->pd, e->buf, len, ML_ACCESS_LOCAL_WRITE, &e->mr) == 0, "%s",
		      ml_last_error());
}

void dp_ep_close(struct dp_ep *e)
{
	ml_device_close(e->dev);	/* the kernel destroys what is left */
	munmap(e->buf, e->len);
}

/* Next completion within @ms: 0 or -ETIMEDOUT. */
int dp_ep_cqe(struct dp_ep *e, struct ml_cqe *wc, int ms)
{
	double end = dp_now() + ms / 1000.0;

	while (dp_now() < end) {
		if (ml_cq_poll(e->cq, wc, 1) == 1)
			return 0;
		usleep(2000);
	}
	return -ETIMEDOUT;
}

/* ---- the forged peer: a raw socket on B's veth end ---- */


static void dp_if_mac(const char *ifname, uint8_t mac[6])
{
	struct ifreq ifr = { 0 };
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	ck_assert(s >= 0);
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	ck_assert_msg(ioctl(s, SIOCGIFHWADDR, &ifr) == 0, "SIOCGIFHWADDR %s", ifname);
	memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
	close(s);
}

/* A raw socket in B's netns on B's veth; @filter_min: only frames longer. */
int dp_raw_socket(uint16_t etype, unsigned int filter_min)
{
	struct sockaddr_ll sll = { 0 };
	int fd;

	dp_ns_enter(DP_B);
	fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(etype));
	ck_assert_msg(fd >= 0, "AF_PACKET socket: %s", strerror(errno));
	if (filter_min) {
		struct sock_filter code[] = {
			BPF_STMT(BPF_LD | BPF_W | BPF_LEN, 0),
			BPF_JUMP(BPF_JMP | BPF_JGT | BPF_K, filter_min, 0, 1),
			BPF_STMT(BPF_RET | BPF_K, 0x40000),
			BPF_STMT(BPF_RET | BPF_K, 0),
		};
		struct sock_fprog prog = { .len = 4, .filter = code };

		ck_assert_int_eq(setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog,
					    sizeof(prog)), 0);
	}
	sll.sll_family = AF_PACKET;
	sll.sll_protocol = htons(etype);
	sll.sll_ifindex = (int)if_nametoindex(dp_env.ifname[DP_B]);
	ck_assert_msg(sll.sll_ifindex > 0, "no %s in %s", dp_env.ifname[DP_B], dp_env.ns[DP_B]);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sll, sizeof(sll)), 0);
	dp_ns_enter(DP_A);
	return fd;
}

void dp_fake_open(struct dp_fake *f, const struct dp_ep *e)
{
	struct ml_device *db;
	struct ml_device_info info;

	memset(f, 0, sizeof(*f));
	f->etype = (uint16_t)dp_read_long(DP_PARAM_DIR "ethertype", 0x88B5);
	f->fd = dp_raw_socket(f->etype, 0);
	dp_ns_enter(DP_B);
	dp_if_mac(dp_env.ifname[DP_B], f->mac_b);
	ck_assert_int_eq(ml_device_open(dp_env.dev[DP_B], &db), 0);
	ck_assert_int_eq(ml_device_query(db, &info), 0);
	f->node_b = info.node_id;
	ml_device_close(db);
	dp_ns_enter(DP_A);
	dp_if_mac(dp_env.ifname[DP_A], f->mac_a);
	f->node_a = e->node;
	f->qpn_a = ml_qp_num(e->qp);
}

static void dp_fake_hdr(const struct dp_fake *f, uint8_t *frame, uint8_t type, size_t len)
{
	struct ether_header *eh = (struct ether_header *)frame;
	struct ml_wire_hdr *h = (struct ml_wire_hdr *)(eh + 1);

	memcpy(eh->ether_dhost, f->mac_a, 6);
	memcpy(eh->ether_shost, f->mac_b, 6);
	eh->ether_type = htons(f->etype);
	h->version = ML_WIRE_VERSION;
	h->type = type;
	h->len = htons((uint16_t)len);
	h->src_node = htonl(f->node_b);
	h->dst_node = htonl(f->node_a);
}

static void dp_fake_xmit(const struct dp_fake *f, const uint8_t *frame, size_t len)
{
	ssize_t n = send(f->fd, frame, len < 60 ? 60 : len, 0);

	ck_assert_msg(n == (ssize_t)(len < 60 ? 60 : len), "send: %s", strerror(errno));
}

void dp_fake_data(const struct dp_fake *f, uint32_t psn, uint8_t op, uint8_t flags,
		      uint32_t msg_len, const void *pl, size_t plen)
{
	uint8_t frame[2048] = { 0 };
	struct ml_wire_data *d = (struct ml_wire_data *)(frame + sizeof(struct ether_header));
	uint32_t crc;

	ck_assert(plen <= sizeof(frame) - sizeof(struct ether_header) - sizeof(*d));
	dp_fake_hdr(f, frame, ML_WIRE_DATA, sizeof(*d) + plen);
	d->dst_qpn = htonl(f->qpn_a);
	d->src_qpn = htonl(DP_FAKE_QPN);
	d->psn = htonl(psn);
	d->op = op;
	d->flags = flags;
	d->msg_len = htonl(msg_len);
	memcpy(d + 1, pl, plen);
	crc = dp_crc32c(~0u, d, sizeof(*d));
	crc = dp_crc32c(crc, d + 1, plen);
	d->crc = htonl(crc);
	dp_fake_xmit(f, frame, sizeof(struct ether_header) + sizeof(*d) + plen);
}

void dp_fake_ack(const struct dp_fake *f, uint32_t psn, uint8_t syndrome)
{
	uint8_t frame[64] = { 0 };
	struct ml_wire_ack *a = (struct ml_wire_ack *)(frame + sizeof(struct ether_header));

	dp_fake_hdr(f, frame, ML_WIRE_ACK, sizeof(*a));
	a->dst_qpn = htonl(f->qpn_a);
	a->src_qpn = htonl(DP_FAKE_QPN);
	a->psn = htonl(psn);
	a->syndrome = syndrome;
	a->crc = htonl(dp_crc32c(~0u, a, sizeof(*a)));
	dp_fake_xmit(f, frame, sizeof(struct ether_header) + sizeof(*a));
}

/*
 * The next DATA or ACK frame from A's QP to the fake QP within @ms: its
 * megalink header (in @buf), or NULL.  HELLOs and our own frames are
 * skipped.
 */
const struct ml_wire_hdr *dp_fake_recv(const struct dp_fake *f, uint8_t *buf, size_t len,
					   int ms)
{
	double end = dp_now() + ms / 1000.0;

	for (;;) {
		struct sockaddr_ll from;
		socklen_t fl = sizeof(from);
		struct pollfd p = { .fd = f->fd, .events = POLLIN };
		const struct ml_wire_hdr *h;
		int left = (int)((end - dp_now()) * 1000);
		ssize_t n;

		if (left <= 0 || poll(&p, 1, left) <= 0)
			return NULL;
		n = recvfrom(f->fd, buf, len, 0, (struct sockaddr *)&from, &fl);
		if (n < (ssize_t)(sizeof(struct ether_header) + sizeof(struct ml_wire_ack)) ||
		    from.sll_pkttype == PACKET_OUTGOING)
			continue;
		h = (const struct ml_wire_hdr *)(buf + sizeof(struct ether_header));
		if (h->type == ML_WIRE_ACK) {
			const struct ml_wire_ack *a = (const void *)h;

			if (ntohl(a->dst_qpn) == DP_FAKE_QPN && ntohl(a->src_qpn) == f->qpn_a)
				return h;
		} else if (h->type == ML_WIRE_DATA &&
			   n >= (ssize_t)(sizeof(struct ether_header) +
					  sizeof(struct ml_wire_data))) {
			const struct ml_wire_data *d = (const void *)h;

			if (ntohl(d->dst_qpn) == DP_FAKE_QPN && ntohl(d->src_qpn) == f->qpn_a)
				return h;
		}
	}
}

/* The ack A sends for @psn (after its data frames): its syndrome, or -1. */
int dp_fake_wait_ack(const struct dp_fake *f, uint32_t psn, int ms)
{
	uint8_t buf[16384];
	const struct ml_wire_hdr *h;

	while ((h = dp_fake_recv(f, buf, sizeof(buf), ms))) {
		const struct ml_wire_ack *a = (const void *)h;

		if (h->type == ML_WIRE_ACK && ntohl(a->psn) == psn)
			return a->syndrome;
	}
	return -1;
}

void dp_ep_connect_fake(struct dp_ep *e, const struct dp_fake *f, uint32_t timeout_ms)
{
	struct ml_connect_opts o = { .timeout_ms = timeout_ms, .retry_cnt = 15, .rnr_retry = 7 };

	ck_assert_msg(ml_qp_connect(e->qp, f->node_b, DP_FAKE_QPN, &o) == 0, "connect: %s",
		      ml_last_error());
}
