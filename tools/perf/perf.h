/* SPDX-License-Identifier: MIT */
/*
 * megalink-perf: shared declarations of the engine and its backends.
 *
 * One engine (engine.c) runs every test over a backend (backend_*.c) that
 * looks like a small verbs provider: a per-process device context, per
 * worker a "group" (send CQ, receive CQ, one registered buffer, an event
 * fd), and QPs in it.  The engine never knows which transport it drives.
 */
#ifndef MEGALINK_PERF_H
#define MEGALINK_PERF_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define PROG		"megalink-perf"
#define MAX_QPS		1024
#define MAX_WORKERS	256
#define MAX_DEPTH	4096
/*
 * Without -t, a QP keeps at most this many bytes of messages outstanding
 * (and at least 2 messages): deep queues of large messages add nothing
 * to the bandwidth but minutes to the drain after -D's deadline.
 */
#define DEPTH_BYTES	(16ull << 20)
#define ALL_MIN		2
#define ALL_MAX		(8u << 20)

enum op { OP_WRITE, OP_SEND, OP_READ };
enum transport { TR_ML, TR_VERBS, TR_RAW, TR_MEMCPY };

/* The test settings.  The client's apply to both sides (sent over TCP). */
struct cfg {
	/* mode */
	uint32_t op;		/* enum op */
	uint32_t lat;		/* 1: latency, 0: bandwidth */
	uint32_t transport;	/* enum transport */
	/* sizes and length */
	uint64_t size;
	uint32_t all;
	uint64_t iters;
	uint64_t duration_ms;	/* 0: iters */
	/* scale */
	uint32_t qps, threads, procs;
	uint32_t depth, cq_mod, rx_depth;
	uint64_t depth_bytes;	/* default -t: at most this many bytes per QP */
	uint32_t event, bidir, inl, verify;
	uint32_t timeout_s;
};

/* Local-only options (each side its own). */
struct local {
	const char *dev;	/* ml device, verbs device or netdev */
	const char *host;	/* client: the server; NULL: server */
	uint16_t port;		/* TCP port of the out-of-band exchange */
	int ib_port;		/* verbs: -i */
	int gid_index;		/* verbs: -x; -1 auto */
	const char *peer_mac;	/* raw: --peer-mac */
	int json;
	int is_client;
	unsigned int set;	/* SET_* bits of options given here */
};

/* struct local.set */
#define SET_SIZE	(1U << 0)
#define SET_ITERS	(1U << 1)
#define SET_DUR		(1U << 2)
#define SET_DEPTH	(1U << 3)
#define SET_RX		(1U << 4)
#define SET_CQMOD	(1U << 5)
#define SET_SCALE	(1U << 6)
#define SET_XPORT	(1U << 7)
#define SET_GID		(1U << 8)

extern struct cfg cfg;
extern struct local loc;

/* What a QP tells its peer (network byte order on the wire: oob.c). */
struct wire_ep {
	uint32_t qpn;
	uint32_t node;		/* ml: node id; verbs: LID */
	uint32_t rkey;
	uint32_t psn;
	uint64_t addr;		/* this QP's buffer */
	uint64_t len;
	uint8_t gid[16];	/* verbs */
	uint8_t mac[8];		/* raw */
};

/* A completion as the engine sees it. */
struct be_wc {
	uint64_t wr_id;
	uint32_t byte_len;
	int ok;
	const char *status;	/* text when !ok */
};

struct group;
struct qp;

/* Per process: the device context. */
struct pctx {
	void *priv;
	char devname[64];	/* for the output */
	char detail[128];	/* header line: port, MTU, GID, ... */
	uint32_t mtu;		/* payload bytes per frame (raw: max size) */
};

/* Per worker: CQs, buffer, event fd.  Owned by the worker thread. */
struct group {
	struct pctx *pc;
	void *priv;
	uint8_t *buf;
	uint64_t buf_len;
	uint32_t nqps;
	uint64_t max_msg;	/* largest message of the run */
	uint32_t scq_entries, rcq_entries;
	uint32_t max_inline;	/* set by the backend */
};

struct qp {
	struct group *g;
	void *priv;
	uint32_t index;		/* global QP index 0..qps-1 */
	uint32_t local;		/* index within its group */
	uint8_t *buf;		/* its part of the group buffer */
	uint64_t buf_len;
	uint64_t slot;		/* bytes per slot */
	uint32_t nslots;
	struct wire_ep peer;
	/* engine state */
	uint64_t posted, completed;	/* send WRs */
	uint64_t recv_posted, recvd;
	uint64_t recv_base;		/* recvd at the start of the size */
	uint64_t sent_base;
	uint64_t msgs;			/* completed messages of this size */
};

struct backend {
	const char *name;	/* "megalink", "verbs", "raw" */
	unsigned int caps;	/* BE_* */
	int (*open)(struct pctx *pc);
	void (*close)(struct pctx *pc);
	int (*group_create)(struct group *g);
	void (*group_destroy)(struct group *g);
	int (*qp_create)(struct qp *q);
	void (*qp_info)(struct qp *q, struct wire_ep *out);
	int (*qp_connect)(struct qp *q);
	void (*qp_destroy)(struct qp *q);
	/* Queue a work request; doorbell() submits what was queued. */
	int (*post_send)(struct qp *q, enum op op, void *laddr, uint32_t len,
			 uint64_t raddr, int signaled, int inl, uint64_t wr_id);
	int (*doorbell)(struct qp *q);
	int (*post_recv)(struct qp *q, void *addr, uint32_t len, uint64_t wr_id);
	/* Non-blocking; which: 0 send CQ, 1 receive CQ.  Count or -errno. */
	int (*poll)(struct group *g, int which, struct be_wc *wc, int max);
	/* Events: fd for epoll, arm both CQs, consume the wakeup. */
	int (*event_fd)(struct group *g);
	int (*arm)(struct group *g);
	void (*ack)(struct group *g);
	/* One line on a stall: QP state and counters (may be NULL). */
	void (*diag)(struct qp *q, char *buf, size_t len);
};

#define BE_WRITE	(1U << 0)	/* RDMA WRITE (and memory polling) */
#define BE_READ		(1U << 1)
#define BE_BW		(1U << 2)	/* bandwidth modes */
#define BE_MULTI	(1U << 3)	/* more than one QP */

extern const struct backend be_ml, be_verbs, be_raw;
const struct backend *backend_of(uint32_t transport);

/* Errors.  be_err() records the detail of a failed backend call. */
void be_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
const char *be_last(void);
void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
void die_quiet(void) __attribute__((noreturn));	/* stop: another one failed */
void usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
extern volatile int *abort_flag;	/* shared with workers and children */

uint64_t now_ns(void);
const char *op_name(uint32_t op);
const char *mode_name(void);		/* "write_lat", ... */
const char *transport_name(uint32_t t);

/* oob.c: the TCP out-of-band channel. */
enum msg_type {
	M_CFG = 1, M_CFG_ACK, M_INFO, M_SYNC, M_START, M_READY, M_END, M_RESULT,
	M_DONE,
};
void oob_setup(void);
void oob_send(enum msg_type t, const void *data, size_t len);
/* Next message, which must be @want (or @alt when non-zero); returns the
 * type; *len its payload length, at most @cap bytes copied into @data. */
enum msg_type oob_recv(enum msg_type want, enum msg_type alt, void *data, size_t cap,
		       size_t *len);
void oob_close(void);
void oob_check_peer(void);
void wire_ep_hton(struct wire_ep *e);

/* stats.c */
struct lat_res {
	double min, median, avg, p99, p999, max;
};
void lat_compute(uint64_t *s, uint64_t n, double div, struct lat_res *out);

struct cpu_snap {
	double proc_s;		/* getrusage user+sys of this process (and waited children) */
	double guest_s;		/* /proc/stat: user+nice+system+irq+softirq, all CPUs */
	double guest_kernel_s;	/* /proc/stat: system+irq+softirq */
	int have_stat;
};
void cpu_snap(struct cpu_snap *s);

/* One result line (per size). */
struct result {
	uint64_t size;
	uint64_t iters;		/* lat: samples; bw: messages */
	double duration_s;
	struct lat_res lat;
	double mbps, gbps, mpps;
	uint64_t msgs, bytes;
	double qp_min_share, qp_max_share;
	double cpu_client_s, cpu_server_s;
	double guest_s, guest_kernel_s;
	int have_stat;
	int verify;		/* -1 not asked, 0 failed, 1 ok */
};
void out_header(struct pctx *pc);
void out_result(const struct result *r, const char *device);
void out_footer(void);

/* engine.c */
int engine_run(void);

/* backend_memcpy.c */
int memcpy_run(void);

#endif /* MEGALINK_PERF_H */
