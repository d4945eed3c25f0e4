/* SPDX-License-Identifier: MIT */
/*
 * A peer forged on the wire, for tests of the transport's reaction to
 * frames a real peer would not send (tests/dataplane).
 *
 * Node A gets a real endpoint built with libmegalink (struct dp_ep: PD,
 * CQ, one QP, an MR), connected to QP number DP_FAKE_QPN of node B, which
 * B's device does not have (B drops what A sends it).  struct dp_fake is
 * a raw AF_PACKET socket on B's veth end that reads A's frames to that QP
 * and answers with DATA and ACK frames of its own, CRC32C and all.
 */
#ifndef DP_FAKE_H
#define DP_FAKE_H

#include <stddef.h>
#include <stdint.h>

#include <linux/megalink.h>
#include <megalink/megalink.h>

#define DP_FAKE_QPN	0x00abcdu	/* B's device has no such QP */
#define DP_PARAM_DIR	"/sys/module/megalink/parameters/"

/* An integer read from a file (sysfs, cgroup), or @dflt. */
long dp_read_long(const char *path, long dflt);
/* Write @s to an existing file: 0 or -errno. */
int dp_write_str(const char *path, const char *s);
/* CRC32C as the wire uses it (seed ~0, no final inversion). */
uint32_t dp_crc32c(uint32_t crc, const void *p, size_t n);

struct dp_ep {
	struct ml_device *dev;
	struct ml_pd *pd;
	struct ml_cq *cq;
	struct ml_qp *qp;
	struct ml_mr *mr;
	uint8_t *buf;
	size_t len;
	uint32_t node;
	uint32_t mtu;
};

/* Open A's device (entering A's netns) and build PD, CQ, QP, an MR of @len. */
void dp_ep_open(struct dp_ep *e, size_t len);
void dp_ep_close(struct dp_ep *e);
/* Next completion within @ms: 0 or -ETIMEDOUT. */
int dp_ep_cqe(struct dp_ep *e, struct ml_cqe *wc, int ms);

struct dp_fake {
	int fd;
	uint16_t etype;
	uint8_t mac_b[6], mac_a[6];
	uint32_t node_b, node_a;
	uint32_t qpn_a;
};

/* A raw socket on B's veth end; @filter_min: only frames longer than it. */
int dp_raw_socket(uint16_t etype, unsigned int filter_min);
/* The peer of @e: addresses, node ids, a raw socket. */
void dp_fake_open(struct dp_fake *f, const struct dp_ep *e);
void dp_fake_data(const struct dp_fake *f, uint32_t psn, uint8_t op, uint8_t flags,
		  uint32_t msg_len, const void *pl, size_t plen);
void dp_fake_ack(const struct dp_fake *f, uint32_t psn, uint8_t syndrome);
/* The next DATA or ACK frame of A's QP to the fake QP within @ms, or NULL. */
const struct ml_wire_hdr *dp_fake_recv(const struct dp_fake *f, uint8_t *buf, size_t len,
				       int ms);
/* The syndrome of A's next ack for @psn within @ms, or -1. */
int dp_fake_wait_ack(const struct dp_fake *f, uint32_t psn, int ms);
/* Connect @e's QP to the fake QP (retry_cnt 15). */
void dp_ep_connect_fake(struct dp_ep *e, const struct dp_fake *f, uint32_t timeout_ms);

#endif /* DP_FAKE_H */
