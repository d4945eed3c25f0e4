/* SPDX-License-Identifier: MIT */
/*
 * libmegalink-coll: collective operations over megalink.
 *
 * A communicator joins `size` processes ("ranks"), each on a megalink node,
 * with one reliable connected QP per pair of ranks.  It is made from the
 * rank, the size and a rendezvous: the built-in TCP rendezvous (rank 0
 * listens on an address and port, as torch's MASTER_ADDR/MASTER_PORT) or an
 * exchange callback (an all-gather of one small blob per rank, e.g. over
 * torch's store).  The library exchanges node ids, QP numbers and buffer
 * keys itself.
 *
 * Conventions (as libmegalink): every call returns 0 or a negative errno;
 * after a failure ml_coll_last_error() returns a thread-local one-line
 * explanation that names the call and the bad argument or the peer.
 *
 * Operations are ordered: each rank must issue the same collectives in the
 * same order (as MPI and NCCL require).  A non-blocking operation
 * (ml_coll_*_start) returns a request; ml_coll_test() progresses it,
 * ml_coll_wait() blocks until it is done and frees it.  Requests complete
 * in issue order.  One communicator is used by one thread at a time, except
 * ml_coll_abort(), which any thread may call at any moment.
 *
 * Failures: a dead peer, a QP error or no progress within the timeout fail
 * the operation on every surviving rank with an error that names the peer
 * (rank and node id); the communicator is then broken: every later call
 * fails with the same error (destroy it).  See libmegalink-coll(3).
 *
 * Build: `pkg-config --cflags --libs megalink-coll`.
 */
#ifndef MEGALINK_COLL_H
#define MEGALINK_COLL_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define ML_COLL_VERSION_MAJOR	0
#define ML_COLL_MAX_RANKS	64

enum ml_coll_dtype {
	ML_COLL_INT8 = 0,
	ML_COLL_UINT8,
	ML_COLL_INT32,
	ML_COLL_INT64,
	ML_COLL_FLOAT16,
	ML_COLL_BFLOAT16,
	ML_COLL_FLOAT32,
	ML_COLL_FLOAT64,
	ML_COLL_DTYPE_COUNT
};

enum ml_coll_op {
	ML_COLL_SUM = 0,
	ML_COLL_PROD,
	ML_COLL_MIN,
	ML_COLL_MAX,
	ML_COLL_AVG,		/* sum / size (integers: truncated) */
	ML_COLL_OP_COUNT
};

enum ml_coll_algo {
	ML_COLL_ALGO_AUTO = 0,	/* by size: see ml_coll_config.small_max */
	ML_COLL_ALGO_RING,	/* pipelined ring */
	ML_COLL_ALGO_RD,	/* recursive doubling (all-reduce only) */
};

/*
 * Exchange callback: an all-gather of @len bytes per rank.  @mine is this
 * rank's blob; on success @all holds size * @len bytes, rank i's at
 * i * @len.  Called twice during ml_coll_comm_create() (the second time as
 * a barrier).  Returns 0 or a negative errno; @err (256 bytes) may receive
 * a message.
 */
typedef int (*ml_coll_exchange_fn)(void *ctx, const void *mine, void *all,
				   size_t len, char *err);

struct ml_coll_config {
	int rank;
	int size;			/* 1..ML_COLL_MAX_RANKS */
	/* Megalink device ("ml0"); NULL: $ML_COLL_DEVICE, else the first
	 * device with a port in the caller's network namespace. */
	const char *device;
	/* Rendezvous: @exchange if set, else TCP to @addr:@port (NULL/0:
	 * $MASTER_ADDR, $MASTER_PORT); rank 0 listens there. */
	ml_coll_exchange_fn exchange;
	void *exchange_ctx;
	const char *addr;
	uint16_t port;
	uint16_t reserved0;
	/* 0 = default (or the environment variable named) */
	/* An operation that makes no progress for this long fails naming the
	 * rank it waits for (a slow but live peer, e.g. one still computing). */
	uint32_t timeout_ms;		/* $ML_COLL_TIMEOUT_MS, 300000 */
	/* A dead peer (process killed, node gone, QP error) fails the
	 * operation on every rank within this bound (QP retry budget and
	 * liveness probes are derived from it). */
	uint32_t peer_timeout_ms;	/* $ML_COLL_PEER_TIMEOUT_MS, 10000 */
	uint32_t chunk_bytes;		/* $ML_COLL_CHUNK, 262144 */
	uint32_t slots;			/* $ML_COLL_SLOTS, 4 chunks in flight per peer */
	uint32_t small_max;		/* $ML_COLL_SMALL_MAX, 65536: RD up to this */
	uint32_t algo;			/* $ML_COLL_ALGO (auto|ring|rd) */
	/*
	 * Registration cache (see ml_coll_mem_release() below): user buffers
	 * of 64 KiB and more stay registered after a call, so that the next
	 * call on them (or on a part of them) sends straight from them with
	 * no copy and no new pin.  Off unless a limit is set here or in the
	 * environment: turning it on is the caller's promise that memory it
	 * passes stays mapped until ml_coll_mem_release() or destroy.
	 */
	uint32_t reg_cache_mib;		/* $ML_COLL_REG_CACHE_MIB, 0: off */
	uint32_t reg_cache_entries;	/* $ML_COLL_REG_CACHE_ENTRIES, 64 */
	uint32_t reserved[4];
};

struct ml_coll_comm;
struct ml_coll_req;

/* Fill @cfg with zeros and rank/size from $RANK/$WORLD_SIZE (-1/0 when unset). */
void ml_coll_config_init(struct ml_coll_config *cfg);

/* Collective over all ranks: blocks until every rank has joined or the
 * timeout (-ETIMEDOUT naming the ranks missing). */
int ml_coll_comm_create(const struct ml_coll_config *cfg, struct ml_coll_comm **out);
/* Releases every object of the communicator (local only; no message). */
void ml_coll_comm_destroy(struct ml_coll_comm *comm);

int ml_coll_comm_rank(const struct ml_coll_comm *comm);
int ml_coll_comm_size(const struct ml_coll_comm *comm);
uint32_t ml_coll_comm_node_id(const struct ml_coll_comm *comm, int rank);

/*
 * Abort: safe from any thread.  Operations in progress and later fail with
 * -ECANCELED; peers are told (best effort) so that theirs fail too.
 */
void ml_coll_abort(struct ml_coll_comm *comm);

/* 0 while usable, else the negative errno that broke it. */
int ml_coll_comm_error(const struct ml_coll_comm *comm);

/* Element size of a dtype (0 if unknown); names "int8" ... "float64",
 * "sum" ... "avg"; parse returns -EINVAL on unknown names. */
size_t ml_coll_dtype_size(unsigned int dtype);
const char *ml_coll_dtype_name(unsigned int dtype);
const char *ml_coll_op_name(unsigned int op);
int ml_coll_parse_dtype(const char *s, unsigned int *out);
int ml_coll_parse_op(const char *s, unsigned int *out);

const char *ml_coll_last_error(void);
const char *ml_coll_version(void);

/* ---- non-blocking operations: return 0 and *req, or a negative errno ---- */

/* recvbuf[i] = op over ranks of sendbuf[i], i < count.  sendbuf == recvbuf: in place. */
int ml_coll_allreduce_start(struct ml_coll_comm *comm, const void *sendbuf, void *recvbuf,
			    size_t count, unsigned int dtype, unsigned int op,
			    struct ml_coll_req **req);
/* sendbuf: size * recvcount elements; recvbuf: recvcount (the rank's block).
 * In place: recvbuf == sendbuf + rank * recvcount elements. */
int ml_coll_reduce_scatter_start(struct ml_coll_comm *comm, const void *sendbuf,
				 void *recvbuf, size_t recvcount, unsigned int dtype,
				 unsigned int op, struct ml_coll_req **req);
/* recvbuf: size * sendcount elements, rank i's block at i * sendcount.
 * In place: sendbuf == recvbuf + rank * sendcount elements. */
int ml_coll_allgather_start(struct ml_coll_comm *comm, const void *sendbuf, void *recvbuf,
			    size_t sendcount, unsigned int dtype, struct ml_coll_req **req);
/* buf of @root to everyone's buf. */
int ml_coll_broadcast_start(struct ml_coll_comm *comm, void *buf, size_t count,
			    unsigned int dtype, int root, struct ml_coll_req **req);
/* recvbuf significant only on @root (may be NULL elsewhere). */
int ml_coll_reduce_start(struct ml_coll_comm *comm, const void *sendbuf, void *recvbuf,
			 size_t count, unsigned int dtype, unsigned int op, int root,
			 struct ml_coll_req **req);
/* Block i of sendbuf (count elements) goes to rank i; block j of recvbuf
 * comes from rank j.  Out of place only. */
int ml_coll_alltoall_start(struct ml_coll_comm *comm, const void *sendbuf, void *recvbuf,
			   size_t count, unsigned int dtype, struct ml_coll_req **req);
int ml_coll_barrier_start(struct ml_coll_comm *comm, struct ml_coll_req **req);
/* Point to point, matched in order per pair of ranks, ordered with the
 * collectives of the communicator. */
int ml_coll_send_start(struct ml_coll_comm *comm, const void *buf, size_t count,
		       unsigned int dtype, int peer, struct ml_coll_req **req);
int ml_coll_recv_start(struct ml_coll_comm *comm, void *buf, size_t count,
		       unsigned int dtype, int peer, struct ml_coll_req **req);

/* 1: done (the request is still to be freed by wait or ml_coll_req_free),
 * 0: in progress, <0: failed. */
int ml_coll_test(struct ml_coll_req *req);
/* Block until done; frees the request.  Returns its result. */
int ml_coll_wait(struct ml_coll_req *req);
/* Free a request that is done or failed (-EBUSY while in progress). */
int ml_coll_req_free(struct ml_coll_req *req);

/* ---- blocking forms: _start + _wait ---- */
int ml_coll_allreduce(struct ml_coll_comm *comm, const void *sendbuf, void *recvbuf,
		      size_t count, unsigned int dtype, unsigned int op);
int ml_coll_reduce_scatter(struct ml_coll_comm *comm, const void *sendbuf, void *recvbuf,
			   size_t recvcount, unsigned int dtype, unsigned int op);
int ml_coll_allgather(struct ml_coll_comm *comm, const void *sendbuf, void *recvbuf,
		      size_t sendcount, unsigned int dtype);
int ml_coll_broadcast(struct ml_coll_comm *comm, void *buf, size_t count,
		      unsigned int dtype, int root);
int ml_coll_reduce(struct ml_coll_comm *comm, const void *sendbuf, void *recvbuf,
		   size_t count, unsigned int dtype, unsigned int op, int root);
int ml_coll_alltoall(struct ml_coll_comm *comm, const void *sendbuf, void *recvbuf,
		     size_t count, unsigned int dtype);
int ml_coll_barrier(struct ml_coll_comm *comm);
int ml_coll_send(struct ml_coll_comm *comm, const void *buf, size_t count,
		 unsigned int dtype, int peer);
int ml_coll_recv(struct ml_coll_comm *comm, void *buf, size_t count,
		 unsigned int dtype, int peer);

/*
 * The registration cache's rule about freed memory.  A registration pins
 * the pages that were mapped at the address when it was made; if the
 * caller frees a buffer (free() of a large block is munmap()) and a new
 * one is mapped at the same address, a cached registration would send
 * the old pages.  So, with the cache on, before memory that was passed to
 * a collective is freed or unmapped the caller releases it:
 * ml_coll_mem_release() drops every cached registration that overlaps
 * [addr, addr + len) (addr NULL and len 0: all of them).  Returns the
 * number dropped, or -EBUSY (nothing dropped) while an unfinished request
 * uses one of them.  Destroying the communicator drops them all.
 */
int ml_coll_mem_release(struct ml_coll_comm *comm, const void *addr, size_t len);

/* Statistics of a communicator (for tools and tests). */
struct ml_coll_stats {
	uint64_t ops;			/* operations completed */
	uint64_t bytes_sent;		/* payload bytes written to peers */
	uint64_t chunks_sent;
	uint64_t ring_ops;		/* all-reduces by algorithm */
	uint64_t rd_ops;
	uint64_t probes;		/* liveness probes written */
	/* registration cache: lookups of a user buffer found in the cache
	 * (also a part of a cached range) or not (then registered, unless it
	 * is larger than the limit or registration failed: then copied) */
	uint64_t reg_hits;
	uint64_t reg_misses;
	uint64_t reg_evictions;		/* dropped to stay within the limits (LRU) */
	uint64_t reg_releases;		/* dropped by ml_coll_mem_release() */
	uint64_t reg_entries;		/* cached now */
	uint64_t reg_bytes;		/* bytes registered by the cache now */
	uint64_t zc_chunks;		/* chunks sent from user memory (no copy) */
	uint64_t reserved[2];
};
int ml_coll_comm_stats(const struct ml_coll_comm *comm, struct ml_coll_stats *out);

#ifdef __cplusplus
}
#endif

#endif /* MEGALINK_COLL_H */
