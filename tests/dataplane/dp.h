/* SPDX-License-Identifier: MIT */
/*
 * Common code of the megalink data-plane suite (tests/dataplane).
 *
 * Topology (run-suite.sh builds it): two network namespaces (DP_NS_A,
 * DP_NS_B), a veth pair (DP_IF_A in A, DP_IF_B in B), each end bound as
 * the only port of a megalink device (DP_DEV_A, DP_DEV_B).  A Check test
 * (the parent) forks one process per node; each child enters its node's
 * namespace with setns(), opens its device, and talks to the other node's
 * process over a socketpair the parent made (QP numbers, addresses, rkeys,
 * "ready"/"done" barriers).  Children never call ck_assert: they report a
 * failure in a shared page (C_CHECK) and _exit(1); the parent turns that
 * into the Check failure message.  Every child has an alarm() and dies
 * with its parent (PR_SET_PDEATHSIG), so nothing outlives a timeout.
 */
#ifndef DP_H
#define DP_H

#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include <megalink/megalink.h>
#include <linux/megalink.h>	/* tests of the kernel ABI use it directly */

#define DP_MAXQP	16
#define DP_MAXX		128	/* transfers in one batch */
#define DP_SLOTS	4	/* children of one test */
#define DP_GUARD	16	/* guard bytes around every region */
#define DP_FILLER	0xA5

#define DP_A		0
#define DP_B		1

/* ---- environment (DP_NS_A/B, DP_DEV_A/B, DP_IF_A/B) ---- */

struct dp_env {
	const char *ns[2];
	const char *dev[2];
	const char *ifname[2];
};
extern struct dp_env dp_env;

/* Read the environment, remember the original netns; call first in main. */
void dp_init(void);
/* Parent side: enter a node's netns / go back. */
void dp_ns_enter(int side);
void dp_ns_leave(void);
/* Run a shell command (printf style); returns its exit status or -1. */
int dp_sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
double dp_now(void);
/* Print a loud skip line (run-suite.sh counts them). */
void dp_skip(const char *test, const char *why);

/* ---- child side ---- */

struct dp_info {
	uint32_t node;
	uint32_t nqp;
	uint32_t rkey;
	uint32_t mtu;
	uint64_t addr;
	uint64_t len;
	uint32_t qpn[DP_MAXQP];
	uint64_t aux_addr[8];
	uint64_t aux_len[8];
	uint32_t aux_rkey[8];
};

struct dp_node {
	int slot;
	int side;
	int peer;		/* socket to the other node's process, or -1 */
	int parent;		/* socket to the parent */
	struct ml_device *dev;
	uint32_t node;
	uint32_t mtu;
	struct ml_limits lim;
	struct ml_pd *pd;
	struct ml_cq *cq;
	struct ml_qp *qp[DP_MAXQP];
	int nqp;
	uint8_t *buf;		/* odd address: base of the MR */
	size_t len;
	struct ml_mr *mr;
	struct dp_info me, peerinfo;
};

struct dp_setup {
	size_t buflen;		/* MR over the whole buffer, ML_ACCESS_ALL */
	int nqp;		/* 0: 1 */
	uint32_t sq, rq;	/* 0: 128 */
	uint32_t cqe;		/* 0: enough for all QPs */
	const struct ml_connect_opts *opts;
	int no_connect;		/* create, exchange, but do not connect */
};

void dp_fail(const char *file, int line, const char *fmt, ...)
	__attribute__((noreturn, format(printf, 3, 4)));
#define C_CHECK(cond, ...) \
	do { if (!(cond)) dp_fail(__FILE__, __LINE__, __VA_ARGS__); } while (0)
#define C_OK(call) \
	do { int r_ = (call); \
	     C_CHECK(r_ == 0, "%s = %d: %s", #call, r_, ml_last_error()); } while (0)
/* Informational line from a child (stderr, prefixed with the node). */
void dp_log(const struct dp_node *n, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Open the node's device and build PD, CQ, QPs, buffer + MR; exchange
 * dp_info with the peer and connect QP i to the peer's QP i. */
void dp_node_setup(struct dp_node *n, const struct dp_setup *s);
/* Open only the device (dev may be NULL: this node's). */
void dp_node_open(struct dp_node *n, const char *dev);

/* Peer messaging: one byte at a time, fails the child if the peer died. */
void dp_send_byte(int fd, char c);
char dp_recv_byte(int fd, int timeout_ms);
void dp_sync(struct dp_node *n);	/* barrier with the peer */
void dp_xchg(struct dp_node *n, const void *mine, void *theirs, size_t len);

/* Next completion on @cq within @timeout_ms: 0, or -ETIMEDOUT. */
int dp_next_cqe(struct dp_node *n, struct ml_cq *cq, struct ml_cqe *wc, int timeout_ms);
/* Like dp_next_cqe but fails the child on timeout. */
struct ml_cqe dp_cqe(struct dp_node *n, int timeout_ms);

/* ---- data patterns ---- */

void dp_pat_init(void);
void dp_fill(void *dst, size_t len, uint32_t seed, uint64_t logical_off);
/* -1 when equal, else the index of the first differing byte. */
int64_t dp_verify(const void *src, size_t len, uint32_t seed, uint64_t logical_off);
/* -1 when every byte is @c, else the first index that is not. */
int64_t dp_verify_fill(const void *src, size_t len, uint8_t c);
uint8_t dp_pat_byte(uint32_t seed, uint64_t logical_off);

/* ---- transfers ---- */

struct dp_x {
	int op;			/* ML_WR_* */
	int qp;			/* QP index */
	uint64_t size;
	int nsge_a;		/* SGEs on the requester (A) */
	int nsge_b;		/* SGEs of the receive at B (SEND*) */
	uint64_t off_a;		/* span start in A's / B's buffer (>= DP_GUARD) */
	uint64_t off_b;
	uint32_t seed;
	uint32_t imm;
};

/* Bytes a transfer's region occupies on a side, guards included. */
uint64_t dp_x_span(const struct dp_x *x, int side);
/* Lay out @n transfers back to back from offset @start on both sides. */
void dp_x_place(struct dp_x *x, int n, uint64_t start_a, uint64_t start_b);
const char *dp_op_name(int op);
/*
 * Run a batch of transfers A -> B concurrently (every WR posted before any
 * completion is awaited), check every byte and every guard.  Both nodes
 * call it with the same list.  @timeout_ms bounds each wait.
 */
void dp_x_run(struct dp_node *n, const struct dp_x *x, int nx, int timeout_ms);

/* ---- parent side: children ---- */

typedef void (*dp_fn)(struct dp_node *n, void *arg);

struct dp_shared {
	char msg[DP_SLOTS][2048];
	volatile uint64_t progress[DP_SLOTS];
	volatile double t[DP_SLOTS][4];
	volatile uint64_t v[DP_SLOTS][8];
};

struct dp_run {
	int n;
	pid_t pid[DP_SLOTS];
	int status[DP_SLOTS];
	int done[DP_SLOTS];
	int parent_fd[DP_SLOTS];
	struct dp_shared *sh;
	int peer_fd[2];		/* socketpair slots 0 <-> 1 */
};

extern struct dp_shared *dp_sh_mem;	/* in children: the shared page */

void dp_run_init(struct dp_run *r);
/* Start child @slot for netns @side; slots 0 and 1 share the peer pair. */
void dp_spawn(struct dp_run *r, int slot, int side, dp_fn fn, void *arg, int timeout_s);
/* Wait for every child up to @timeout_s (then SIGKILL): number not ok. */
int dp_wait(struct dp_run *r, int timeout_s);
int dp_wait_one(struct dp_run *r, int slot, int timeout_s);
void dp_kill(struct dp_run *r, int slot);
/* ck_assert that every child exited 0 (@allow_killed: slots killed by us ok). */
void dp_assert_ok(struct dp_run *r, unsigned int killed_mask);
void dp_run_free(struct dp_run *r);
/* Spawn fnA on A and fnB on B, wait, assert. */
void dp_pair(dp_fn fa, dp_fn fb, void *arg, int timeout_s);
/* The same, printing both ports' transport counters for the run. */
void dp_pair_stats(dp_fn fa, dp_fn fb, void *arg, int timeout_s, const char *label);

/* ---- parent side: control plane ---- */

struct dp_counts {
	uint32_t ctx, pds, mrs, cqs, qps;
	uint64_t pinned;
};
/* DEV_GET of @side's device (raw generic netlink): 0 or negative errno. */
int dp_dev_counts(int side, struct dp_counts *c);
/* Wait up to @timeout_ms until every count is 0; ck_assert otherwise. */
void dp_assert_counts_zero(int side, int timeout_ms);
/* STATS_GET of @side's port: 0 or negative errno. */
int dp_stats(int side, uint64_t st[ML_LIB_STATS_SLOTS]);
/* Wait up to @timeout_ms until each side sees the other as a neighbour. */
int dp_wait_neigh(int timeout_ms);

#endif /* DP_H */
