/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _ML_QP_H
#define _ML_QP_H

#include <linux/if_ether.h>
#include <linux/spinlock.h>
#include <linux/timer.h>
#include <linux/workqueue.h>
#include "ctx.h"
#include "path.h"

struct ml_cq;
struct ml_mr;
struct ml_pd;
struct ml_port;
struct pid;
struct sk_buff;

#define ML_QPN_MAX		((1U << 24) - 1)
#define ML_WINDOW		512	/* most packets in flight per QP */
#define ML_READ_WINDOW		128	/* most responses one READ_REQ asks */
#define ML_CWND_INIT		32	/* congestion window at connect */
#define ML_CWND_MIN		4
#define ML_ACK_EVERY		16	/* request an ack this often */
#define ML_REORDER_NAK		32	/* a gap this old is a loss, not a reorder: */
#define ML_REORDER_MAX		96	/* ... at first; at most this, adapted */
#define ML_MAX_RD		16	/* read responses queued per QP */
#define ML_TX_BUDGET		64	/* packets per run of the tx work */
#define ML_DEF_TIMEOUT_MS	100
#define ML_MAX_TIMEOUT_MS	2000
#define ML_DEF_RETRY		7
#define ML_DEF_RNR_TIMER_MS	10

/* A send work request as the kernel keeps it until it completes. */
struct ml_swqe {
	struct ml_send_wqe wqe;		/* validated copy */
	struct ml_mr *mr[ML_MAX_SGE];	/* referenced, one per SGE */
	u64 len;			/* message bytes */
	u32 first_psn;
	u32 npkts;			/* PSNs the message takes */
	u32 rd_recv;			/* READ: responses placed */
	u8 op;				/* enum ml_wire_op */
};

/* A READ request being answered. */
struct ml_rresp {
	struct ml_mr *mr;
	u64 addr;
	u32 len;
	u32 pmtu;
	u32 psn;			/* of the next response packet */
	u32 left;			/* response packets still to send */
};

/**
 * struct ml_qp - a reliable connected queue pair
 *
 * Locking: @lock protects everything below it, and is taken from process
 * context (ioctls, the tx work), the retransmission timer and the receive
 * path (softirq): always spin_lock_bh().  Lock order: qp->lock, then a
 * CQ's lock.  The fields above it are set at creation or under @lock at
 * connect and read-only afterwards.
 *
 * @tx_lock serialises the transmitters (the tx work, and a doorbell that
 * transmits in the caller's context), so that the frames of one QP reach
 * the netdev in the order they were built.  Lock order: qp->tx_lock, then
 * qp->lock.  Nothing takes tx_lock with qp->lock held.
 */
struct ml_qp {
	struct ml_uobj uobj;
	struct ml_ctx *ctx;
	struct ml_dev *dev;
	struct ml_pd *pd;
	struct ml_cq *scq, *rcq;
	struct ml_ring *sq, *rq;
	u32 qpn;
	struct pid *owner;		/* creating process; put at destroy */
	u32 sq_size, rq_size;
	u32 max_send_sge, max_recv_sge, max_inline;
	struct work_struct tx_work;
	struct timer_list timer;
	struct rcu_head rcu;
	spinlock_t tx_lock;	/* one transmitter at a time; see qp_tx.c */

	spinlock_t lock;	/* see above */
	u8 state;			/* enum ml_qp_state */
	u8 status;			/* enum ml_wc_status, once in error */
	bool dying;
	/* connection */
	u32 remote_node, remote_qpn;
	struct ml_paths paths;		/* to remote_node; path.c */
	struct in6_addr udp_saddr;	/* its source address, ::: the route's */
	u32 udp_flow;			/* hashed into the UDP source port */
	u32 pmtu;			/* payload bytes per packet */
	u32 timeout_ms, rnr_timer_ms;
	u8 retry_cnt, rnr_retry;
	u8 retries, rnr_retries;
	u32 rto_ms;			/* current, with backoff */
	bool rnr_wait;
	bool tx_blocked;		/* the netdev refused a frame: retry soon */
	unsigned long blocked_since;	/* first refusal since an ack; 0: none */
	bool cq_overrun;		/* a completion was lost: error soon */
	u32 cwnd, cwnd_acc;		/* congestion window, packets */
	u32 ssthresh;			/* below it the window doubles per RTT */
	bool ecn_wait;			/* an ECN cut is recent: see ml_qp_ecn_echo() */
	u32 ecn_high;			/* snd_max at that cut */
	/* requester */
	struct ml_swqe *swq;
	u32 sq_cons;			/* our copy of the SQ consumer */
	u32 swq_head, swq_send, swq_tail;
	u32 send_off;			/* packet index within swq_send */
	u32 psn_next;			/* first PSN of the next new WQE */
	u32 snd_nxt, snd_una;
	u32 snd_max;			/* highest PSN sent + 1 */
	u32 ackreq_end;			/* last PSN sent asking an ack, + 1 */
	bool rd_gap;			/* fast retransmit done for a gap */
	/* responder */
	u32 rq_cons;
	u32 rcv_nxt;
	u32 ooo_drop;			/* highest PSN + 1 dropped ahead of rcv_nxt */
	DECLARE_BITMAP(ooo, ML_WINDOW);	/* WRITE PSNs placed ahead, psn % ML_WINDOW */
	bool nak_sent;
	bool nak_reorder;		/* a NAK for a reorder gap at nak_psn is out */
	bool nak_watch;			/* ... and a retransmission filled it */
	u32 nak_psn;
	u32 reorder_nak;		/* gap NAKed, ML_REORDER_NAK..ML_REORDER_MAX */
	bool ooo_off;			/* a fatal NAK went out: place nothing ahead */
	bool recv_active;
	u8 resp_error;			/* ML_WC_* of a local receive error */
	struct ml_recv_wqe rwqe;
	struct ml_mr *rmr[ML_MAX_SGE];
	u64 recv_len, recv_off;
	u32 unacked;
	bool ce_pending;		/* a CE-marked DATA arrived: ECE in the next ACK */
	struct ml_rresp rresp[ML_MAX_RD];
	u32 rresp_head, rresp_tail;
	/* counters */
	u64 retransmits, timeouts, rnr_naks, seq_naks, crc_drops, dups;
};

static inline bool ml_psn_before(u32 a, u32 b)
{
	return (s32)(a - b) < 0;
}

int ml_qp_create(struct ml_ctx *ctx, struct ml_create_qp *attr,
		 struct ml_pd *pd, struct ml_cq *scq, struct ml_cq *rcq,
		 struct ml_qp **out);
void ml_qp_destroy(struct ml_qp *qp);
int ml_qp_connect(struct ml_qp *qp, const struct ml_connect_qp *c);
void ml_qp_query(struct ml_qp *qp, struct ml_query_qp *q);
void ml_qp_doorbell(struct ml_qp *qp);
void ml_qp_error(struct ml_qp *qp, u8 status);
void ml_qp_kick(struct ml_qp *qp);
void ml_qp_stat(struct ml_qp *qp, int stat);
void ml_qp_dev_gone(struct ml_dev *dev);
void ml_qp_port_gone(struct ml_dev *dev, u32 port_index);
void ml_qp_complete_send(struct ml_qp *qp, struct ml_swqe *s, u8 status);
void ml_qp_post_cqe(struct ml_qp *qp, struct ml_cq *cq,
		    const struct ml_cqe *cqe);
void ml_qp_put_swqe(struct ml_swqe *s);
int ml_qp_init(void);
void ml_qp_exit(void);

/* qp_tx.c */
void ml_qp_tx_work(struct work_struct *work);
void ml_qp_tx_now(struct ml_qp *qp);
extern bool ml_tx_inline;
void ml_qp_timer(struct timer_list *t);
void ml_qp_rewind(struct ml_qp *qp, u32 psn);
void ml_qp_cwnd_grow(struct ml_qp *qp, u32 acked);
void ml_qp_cwnd_loss(struct ml_qp *qp);
bool ml_qp_ecn_echo(struct ml_qp *qp, u32 acked);
void ml_qp_send_ack(struct ml_qp *qp, struct ml_port *via, u32 psn,
		     u8 syndrome, u8 flags);
u32 ml_wire_crc(const void *hdr, size_t hlen, const struct sk_buff *skb,
		int off, size_t len);

/* qp_rx.c */
int ml_qp_rx(struct ml_port *port, struct sk_buff *skb);

#endif /* _ML_QP_H */
