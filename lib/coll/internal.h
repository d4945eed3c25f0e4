/* SPDX-License-Identifier: MIT */
/*
 * libmegalink-coll internals.  Built only on <megalink/megalink.h>.
 *
 * Wire protocol between two ranks (one RC QP per pair):
 *  - data: chunk n of the stream from A to B is copied by A into its send
 *    slot n % slots and RDMA-WRITten with immediate into B's receive slot
 *    n % slots for A (B's staging MR); the immediate says IMM_DATA and n's
 *    low bits.  B reduces or copies the slot into the destination, then
 *    returns a credit: an 8-byte WRITE with immediate IMM_CREDIT carrying
 *    the number of chunks consumed.  A writes chunk n only when
 *    n - credits < slots and its local slot's previous WRITE completed.
 *  - abort: an IMM_ABORT WRITE of the reason text into the peer's
 *    control MR; the peer fails its operation with that text.
 *  - probe: while a rank waits, it writes 8 bytes (no immediate) to every
 *    peer's control MR every probe interval; a peer whose process died
 *    no longer answers and the QP fails with "retry exceeded", naming it.
 * Every message with an immediate consumes one zero-SGE receive, reposted
 * at once.
 *
 * Zero copy (registration cache on, regcache.c): a chunk whose source lies
 * in a cached registration of the user's buffer is written from there
 * instead of through the send slot.  Its bytes must not change until the
 * WRITE completes (a retransmission reads them again), so a receive never
 * lands on a byte range that a zero-copy WRITE still reads (do_recv), and
 * a request finishes (its copies, AVG's division, the caller's turn) only
 * when no zero-copy WRITE is in flight.  Slot numbering is unchanged: the
 * receiver cannot tell the two apart.
 */
#ifndef ML_COLL_INTERNAL_H
#define ML_COLL_INTERNAL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <megalink/megalink.h>
#include <megalink/coll.h>

#define MLC_EXPORT __attribute__((visibility("default")))

#define IMM_TYPE_SHIFT	28
#define IMM_DATA	1u
#define IMM_CREDIT	2u
#define IMM_ABORT	3u
#define IMM_VAL_MASK	((1u << IMM_TYPE_SHIFT) - 1)

#define WR_DATA		1u
#define WR_CREDIT	2u
#define WR_PROBE	3u
#define WR_ABORT	4u
#define WR_RECV		5u
#define WR_DATA_ZC	6u	/* a data chunk sent from a user MR */
#define WR_ID(type, peer)	(((uint64_t)(peer) << 8) | (type))

#define MSG_LEN		256	/* abort reason text */
#define RQ_DEPTH	128
#define SQ_DEPTH	128

/* The control MR of a rank. */
struct ctrl_area {
	uint64_t credit_in[ML_COLL_MAX_RANKS];	/* written by peer i (credits) */
	uint64_t probe_in[ML_COLL_MAX_RANKS];	/* written by peer i (probes) */
	char abort_in[ML_COLL_MAX_RANKS][MSG_LEN];
	/* our outgoing words (sources of the WRITEs) */
	uint64_t credit_out[ML_COLL_MAX_RANKS];
	uint64_t probe_out;
	char abort_out[MSG_LEN];
};

/* What one rank publishes at the rendezvous (little endian host order). */
struct rank_blob {
	uint32_t magic;
	uint32_t version;
	uint32_t rank;
	uint32_t size;
	uint32_t node_id;
	uint32_t chunk;
	uint32_t slots;
	uint32_t ctrl_rkey;
	uint32_t stage_rkey;
	uint32_t pad;
	uint64_t ctrl_addr;
	uint64_t stage_addr;
	uint32_t qpn[ML_COLL_MAX_RANKS];	/* our QP to rank i */
};
#define BLOB_MAGIC	0x4d4c4343u	/* "MLCC" */
#define BLOB_VERSION	1u

struct peer {
	struct ml_qp *qp;
	uint32_t node_id;
	uint32_t qpn;			/* ours */
	/* their buffers */
	uint64_t stage_addr;		/* their staging slots for us */
	uint32_t stage_rkey;
	uint64_t ctrl_addr;
	uint32_t ctrl_rkey;
	/* send stream */
	uint64_t tx_posted;		/* chunks written */
	uint64_t tx_done;		/* their local completions */
	uint64_t tx_credit;		/* chunks the peer consumed */
	/* receive stream */
	uint64_t rx_arrived;		/* data immediates seen */
	uint64_t rx_consumed;		/* chunks processed */
	uint32_t rx_len[32];		/* byte_len per slot (slots <= 32) */
	/* zero-copy chunks in flight, by send slot: the user bytes they read */
	const char *zc_src[32];
	uint32_t zc_len[32];
	bool probe_busy;
	bool credit_busy;		/* a credit write is in flight */
	uint64_t credit_pending;	/* latest count to send */
	uint32_t sq_used;
};

/* One step of a schedule: send a byte range to one peer while receiving
 * one from another.  rop: how a received chunk lands. */
enum { RX_COPY = 0, RX_REDUCE = 1 };
struct step {
	int send_peer;			/* -1: none */
	const char *send_buf;
	size_t send_len;
	int recv_peer;			/* -1: none */
	char *recv_dst;
	const char *recv_src;		/* RX_REDUCE: the local operand */
	size_t recv_len;
	uint8_t rop;
	uint8_t in_first;		/* reduce: dst = in op local (else local op in) */
	uint8_t fwd;			/* send chunk c only after chunk c was received */
	uint8_t send_first;		/* process recv chunk c only after send chunk c posted */
	/* progress */
	size_t sent, recvd;
};

/* A cached registration (regcache.c). */
struct reg_entry {
	struct reg_entry *prev, *next;	/* most recently used first */
	const char *addr;
	size_t len;
	struct ml_mr *mr;
	uint32_t busy;			/* unfinished requests using it */
};

/* A user buffer of a request that may be sent from in place. */
struct ureg {
	const char *addr;
	size_t len;
	struct reg_entry *e;		/* held while the request is unfinished */
};
#define REQ_UREGS	2

enum req_kind { RK_ALLREDUCE, RK_RS, RK_AG, RK_BCAST, RK_REDUCE, RK_A2A,
		RK_BARRIER, RK_SEND, RK_RECV };

struct ml_coll_req {
	struct ml_coll_comm *comm;
	struct ml_coll_req *next;	/* comm's queue */
	int kind;
	int status;			/* 1 done, 0 running, <0 error */
	bool queued;
	unsigned int dtype, op;
	size_t esize;
	struct step *steps;
	int nsteps, cur;
	/* applied when all steps are done */
	char *avg_buf;
	size_t avg_count;
	char *scratch;			/* owned */
	char *pre_dst;			/* copy when the request starts */
	const char *pre_src;
	size_t pre_len;
	char *copy_dst;			/* final copy scratch -> user */
	const char *copy_src;
	size_t copy_len;
	uint64_t last_progress_ns;
	struct ureg ureg[REQ_UREGS];
	char err[256];
};

struct ml_coll_comm {
	int rank, size;
	uint32_t timeout_ms, peer_timeout_ms, chunk, slots, small_max, algo, probe_ms;
	struct ml_device *dev;
	struct ml_pd *pd;
	struct ml_cq *cq;
	char *stage;			/* size * slots * chunk: receive slots */
	char *sendbuf;			/* size * slots * chunk: send slots */
	struct ctrl_area *ctrl;
	struct ml_mr *stage_mr, *send_mr, *ctrl_mr;
	struct peer peers[ML_COLL_MAX_RANKS];
	struct ml_coll_req *head, *tail;
	atomic_int aborted;		/* set by ml_coll_abort() */
	int error;			/* sticky */
	char errmsg[256];
	uint64_t last_probe_ns;
	/* registration cache (regcache.c) */
	struct reg_entry *reg_head, *reg_tail;
	size_t reg_max_bytes;		/* 0: the cache is off */
	uint32_t reg_max_entries;
	uint32_t zc_inflight;		/* zero-copy WRITEs not completed */
	struct ml_coll_stats stats;
};

/* error.c */
int mlc_fail(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
uint64_t mlc_now_ns(void);
uint32_t mlc_env_u32(const char *name, uint32_t dflt);

/* reduce.c: dst[i] = a[i] op b[i] */
void mlc_reduce(void *dst, const void *a, const void *b, size_t n,
		unsigned int dtype, unsigned int op);
void mlc_divide(void *buf, size_t n, unsigned int dtype, int by);

/* rendezvous.c */
int mlc_tcp_exchange(const char *addr, uint16_t port, int rank, int size,
		     uint32_t timeout_ms, const void *mine, void *all, size_t len,
		     char *err);

/* engine.c */
int mlc_req_progress(struct ml_coll_req *req);
int mlc_comm_break(struct ml_coll_comm *comm, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void mlc_send_abort(struct ml_coll_comm *comm);
int mlc_poll(struct ml_coll_comm *comm);
int mlc_wait_event(struct ml_coll_comm *comm, struct ml_coll_req *req);

/* regcache.c */
#define REG_MIN		(64u << 10)	/* smaller buffers always go through the slots */
void mlc_reg_acquire(struct ml_coll_req *req);
void mlc_reg_put(struct ml_coll_req *req);
void mlc_reg_destroy(struct ml_coll_comm *comm);
const struct ml_mr *mlc_reg_find(const struct ml_coll_req *req, const char *p, size_t len);

#endif
