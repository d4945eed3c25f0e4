// SPDX-License-Identifier: MIT
/*
 * Backend: libibverbs RC QPs (soft-RoCE rdma_rxe, or any RDMA device).
 * Per process: the device context and a PD; per group: a completion
 * channel (-e), a send CQ, a receive CQ on that channel, one MR over the
 * group's buffer.  RoCE addressing: the GID of -x, or by default the
 * first RoCEv2 GID that carries an IPv4 address.  Work requests queued by
 * post_send() are chained and handed to ibv_post_send() at the doorbell,
 * as megalink batches its doorbell.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <infiniband/verbs.h>

#include "perf.h"

#define BATCH	64

struct v_pc {
	struct ibv_context *ctx;
	struct ibv_pd *pd;
	struct ibv_port_attr port;
	struct ibv_device_attr attr;
	union ibv_gid gid;
	int gid_index;
};

struct v_grp {
	struct ibv_comp_channel *ch;
	struct ibv_cq *scq, *rcq;
	struct ibv_mr *mr;
};

struct v_qp {
	struct ibv_qp *qp;
	uint32_t psn;
	int n;
	struct ibv_send_wr wr[BATCH];
	struct ibv_sge sge[BATCH];
};

static int fail(const char *what, int err)
{
	if (err > 0)
		err = -err;
	if (!err)
		err = -EIO;
	be_err("%s: %s", what, strerror(-err));
	return err;
}

/* The RoCEv2 GID with an IPv4-mapped address (::ffff:a.b.c.d). */
static int pick_gid(struct v_pc *v, const char *dev)
{
	for (int i = 0; i < v->port.gid_tbl_len; i++) {
		struct ibv_gid_entry e;

		if (ibv_query_gid_ex(v->ctx, (uint8_t)loc.ib_port, (uint32_t)i, &e, 0))
			continue;
		if (e.gid_type != IBV_GID_TYPE_ROCE_V2)
			continue;
		if (memcmp(e.gid.raw, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12))
			continue;
		return i;
	}
	be_err("--verbs %s: port %d has no RoCEv2 GID with an IPv4 address (is an address "
	       "on its netdev?); choose one with -x", dev, loc.ib_port);
	return -ENOENT;
}

static int v_open(struct pctx *pc)
{
	struct ibv_device **list;
	struct v_pc *v = calloc(1, sizeof(*v));
	int n, found = -1;
	char gid[INET6_ADDRSTRLEN];

	if (!v)
		return -ENOMEM;
	list = ibv_get_device_list(&n);
	if (!list)
		return fail("--verbs: ibv_get_device_list", errno);
	for (int i = 0; i < n; i++)
		if (!strcmp(ibv_get_device_name(list[i]), loc.dev))
			found = i;
	if (found < 0) {
		char names[256] = "";

		for (int i = 0; i < n; i++)
			snprintf(names + strlen(names), sizeof(names) - strlen(names), "%s%s",
				 i ? ", " : "", ibv_get_device_name(list[i]));
		ibv_free_device_list(list);
		be_err("--verbs %s: no such RDMA device (there are: %s)", loc.dev,
		       n ? names : "none");
		return -ENODEV;
	}
	v->ctx = ibv_open_device(list[found]);
	ibv_free_device_list(list);
	if (!v->ctx)
		return fail("--verbs: ibv_open_device", errno);
	if (ibv_query_device(v->ctx, &v->attr))
		return fail("ibv_query_device", errno);
	if (ibv_query_port(v->ctx, (uint8_t)loc.ib_port, &v->port)) {
		be_err("-i %d: %s has no such port", loc.ib_port, loc.dev);
		return -EINVAL;
	}
	if (v->port.state != IBV_PORT_ACTIVE) {
		be_err("--verbs %s: port %d is not active (state %s)", loc.dev, loc.ib_port,
		       ibv_port_state_str(v->port.state));
		return -ENETDOWN;
	}
	v->gid_index = loc.gid_index >= 0 ? loc.gid_index : pick_gid(v, loc.dev);
	if (v->gid_index < 0)
		return v->gid_index;
	if (v->gid_index >= v->port.gid_tbl_len ||
	    ibv_query_gid(v->ctx, (uint8_t)loc.ib_port, v->gid_index, &v->gid)) {
		be_err("-x %d: no such GID on %s port %d (table of %d)", v->gid_index, loc.dev,
		       loc.ib_port, v->port.gid_tbl_len);
		return -EINVAL;
	}
	v->pd = ibv_alloc_pd(v->ctx);
	if (!v->pd)
		return fail("ibv_alloc_pd", errno);
	pc->priv = v;
	snprintf(pc->devname, sizeof(pc->devname), "%s", loc.dev);
	inet_ntop(AF_INET6, v->gid.raw, gid, sizeof(gid));
	snprintf(pc->detail, sizeof(pc->detail), "port %d gid %d %s mtu %d", loc.ib_port,
		 v->gid_index, gid, 128 << v->port.active_mtu);
	srand48((long)now_ns() ^ getpid());
	return 0;
}

static void v_close(struct pctx *pc)
{
	struct v_pc *v = pc->priv;

	if (!v)
		return;
	ibv_dealloc_pd(v->pd);
	ibv_close_device(v->ctx);
	free(v);
	pc->priv = NULL;
}

static int v_group_create(struct group *g)
{
	struct v_pc *v = g->pc->priv;
	struct v_grp *x = calloc(1, sizeof(*x));

	if (!x)
		return -ENOMEM;
	g->priv = x;
	if (g->max_msg > v->port.max_msg_sz) {
		be_err("size %" PRIu64 ": larger than %s's largest message (%u)", g->max_msg,
		       loc.dev, v->port.max_msg_sz);
		return -EINVAL;
	}
	if ((int)g->scq_entries > v->attr.max_cqe || (int)g->rcq_entries > v->attr.max_cqe) {
		be_err("%u QPs in one worker need CQs of %u and %u entries, %s allows %d: lower "
		       "-q, -t or -r, or add --threads", g->nqps, g->scq_entries, g->rcq_entries,
		       loc.dev, v->attr.max_cqe);
		return -EINVAL;
	}
	if (cfg.event) {
		x->ch = ibv_create_comp_channel(v->ctx);
		if (!x->ch)
			return fail("ibv_create_comp_channel", errno);
		fcntl(x->ch->fd, F_SETFL, fcntl(x->ch->fd, F_GETFL) | O_NONBLOCK);
	}
	x->scq = ibv_create_cq(v->ctx, (int)g->scq_entries, NULL, x->ch, 0);
	if (!x->scq)
		return fail("creating the send CQ (ibv_create_cq)", errno);
	x->rcq = ibv_create_cq(v->ctx, (int)g->rcq_entries, NULL, x->ch, 0);
	if (!x->rcq)
		return fail("creating the receive CQ (ibv_create_cq)", errno);
	x->mr = ibv_reg_mr(v->pd, g->buf, g->buf_len, IBV_ACCESS_LOCAL_WRITE |
			   IBV_ACCESS_REMOTE_WRITE | IBV_ACCESS_REMOTE_READ);
	if (!x->mr)
		return fail("registering the buffer (ibv_reg_mr)", errno);
	g->max_inline = cfg.inl ? 64 : 0;
	return 0;
}

static void v_group_destroy(struct group *g)
{
	struct v_grp *x = g->priv;

	if (!x)
		return;
	if (x->mr)
		ibv_dereg_mr(x->mr);
	if (x->scq)
		ibv_destroy_cq(x->scq);
	if (x->rcq)
		ibv_destroy_cq(x->rcq);
	if (x->ch)
		ibv_destroy_comp_channel(x->ch);
	free(x);
}

static int rd_atomic(struct v_pc *v)
{
	return v->attr.max_qp_rd_atom < 16 ? v->attr.max_qp_rd_atom : 16;
}

static int v_qp_create(struct qp *q)
{
	struct v_pc *v = q->g->pc->priv;
	struct v_grp *x = q->g->priv;
	struct v_qp *p = calloc(1, sizeof(*p));
	struct ibv_qp_init_attr ia;
	struct ibv_qp_attr a;

	if (!p)
		return -ENOMEM;
	q->priv = p;
	memset(&ia, 0, sizeof(ia));
	ia.send_cq = x->scq;
	ia.recv_cq = x->rcq;
	ia.qp_type = IBV_QPT_RC;
	ia.cap.max_send_wr = cfg.lat ? 64 : cfg.depth;
	ia.cap.max_recv_wr = cfg.op == OP_SEND ? cfg.rx_depth : 1;
	ia.cap.max_send_sge = 1;
	ia.cap.max_recv_sge = 1;
	ia.cap.max_inline_data = q->g->max_inline;
	p->qp = ibv_create_qp(v->pd, &ia);
	if (!p->qp)
		return fail("ibv_create_qp", errno);
	if (ia.cap.max_inline_data < q->g->max_inline)
		q->g->max_inline = ia.cap.max_inline_data;
	memset(&a, 0, sizeof(a));
	a.qp_state = IBV_QPS_INIT;
	a.pkey_index = 0;
	a.port_num = (uint8_t)loc.ib_port;
	a.qp_access_flags = IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_WRITE |
			    IBV_ACCESS_REMOTE_READ;
	if (ibv_modify_qp(p->qp, &a, IBV_QP_STATE | IBV_QP_PKEY_INDEX | IBV_QP_PORT |
			  IBV_QP_ACCESS_FLAGS))
		return fail("QP to INIT (ibv_modify_qp)", errno);
	p->psn = (uint32_t)lrand48() & 0xffffff;
	return 0;
}

static void v_qp_info(struct qp *q, struct wire_ep *e)
{
	struct v_pc *v = q->g->pc->priv;
	struct v_grp *x = q->g->priv;
	struct v_qp *p = q->priv;

	memset(e, 0, sizeof(*e));
	e->qpn = p->qp->qp_num;
	e->node = v->port.lid;
	e->rkey = x->mr->rkey;
	e->psn = p->psn;
	e->addr = (uintptr_t)q->buf;
	e->len = q->buf_len;
	memcpy(e->gid, v->gid.raw, 16);
}

static int v_qp_connect(struct qp *q)
{
	struct v_pc *v = q->g->pc->priv;
	struct v_qp *p = q->priv;
	struct ibv_qp_attr a;

	memset(&a, 0, sizeof(a));
	a.qp_state = IBV_QPS_RTR;
	a.path_mtu = v->port.active_mtu;
	a.dest_qp_num = q->peer.qpn;
	a.rq_psn = q->peer.psn;
	a.max_dest_rd_atomic = (uint8_t)rd_atomic(v);
	a.min_rnr_timer = 1;	/* 0.01 ms */
	a.ah_attr.is_global = 1;
	memcpy(a.ah_attr.grh.dgid.raw, q->peer.gid, 16);
	a.ah_attr.grh.sgid_index = (uint8_t)v->gid_index;
	a.ah_attr.grh.hop_limit = 64;
	a.ah_attr.dlid = (uint16_t)q->peer.node;
	a.ah_attr.port_num = (uint8_t)loc.ib_port;
	if (ibv_modify_qp(p->qp, &a, IBV_QP_STATE | IBV_QP_AV | IBV_QP_PATH_MTU |
			  IBV_QP_DEST_QPN | IBV_QP_RQ_PSN | IBV_QP_MAX_DEST_RD_ATOMIC |
			  IBV_QP_MIN_RNR_TIMER))
		return fail("QP to RTR (ibv_modify_qp)", errno);
	memset(&a, 0, sizeof(a));
	a.qp_state = IBV_QPS_RTS;
	a.timeout = 14;
	a.retry_cnt = 7;
	a.rnr_retry = 7;	/* infinite */
	a.sq_psn = p->psn;
	a.max_rd_atomic = (uint8_t)rd_atomic(v);
	if (ibv_modify_qp(p->qp, &a, IBV_QP_STATE | IBV_QP_TIMEOUT | IBV_QP_RETRY_CNT |
			  IBV_QP_RNR_RETRY | IBV_QP_SQ_PSN | IBV_QP_MAX_QP_RD_ATOMIC))
		return fail("QP to RTS (ibv_modify_qp)", errno);
	return 0;
}

static void v_qp_destroy(struct qp *q)
{
	struct v_qp *p = q->priv;

	if (!p)
		return;
	if (p->qp)
		ibv_destroy_qp(p->qp);
	free(p);
}

static int v_db(struct qp *q)
{
	struct v_qp *p = q->priv;
	struct ibv_send_wr *bad = NULL;
	int ret;

	if (!p->n)
		return 0;
	ret = ibv_post_send(p->qp, p->wr, &bad);
	p->n = 0;
	return ret ? fail("ibv_post_send", ret) : 0;
}

static int v_post(struct qp *q, enum op op, void *laddr, uint32_t len, uint64_t raddr,
		  int sig, int inl, uint64_t wr_id)
{
	struct v_grp *x = q->g->priv;
	struct v_qp *p = q->priv;
	struct ibv_send_wr *wr;
	int ret;

	if (p->n == BATCH && (ret = v_db(q)) < 0)
		return ret;
	wr = &p->wr[p->n];
	p->sge[p->n] = (struct ibv_sge){ .addr = (uintptr_t)laddr, .length = len,
					 .lkey = x->mr->lkey };
	memset(wr, 0, sizeof(*wr));
	wr->wr_id = wr_id;
	wr->sg_list = &p->sge[p->n];
	wr->num_sge = 1;
	wr->opcode = op == OP_WRITE ? IBV_WR_RDMA_WRITE : op == OP_SEND ? IBV_WR_SEND :
		     IBV_WR_RDMA_READ;
	wr->send_flags = (sig ? IBV_SEND_SIGNALED : 0) | (inl ? IBV_SEND_INLINE : 0);
	if (op != OP_SEND) {
		wr->wr.rdma.remote_addr = raddr;
		wr->wr.rdma.rkey = q->peer.rkey;
	}
	if (p->n)
		p->wr[p->n - 1].next = wr;
	p->n++;
	return 0;
}

static int v_recv(struct qp *q, void *addr, uint32_t len, uint64_t wr_id)
{
	struct v_grp *x = q->g->priv;
	struct v_qp *p = q->priv;
	struct ibv_sge sge = { .addr = (uintptr_t)addr, .length = len, .lkey = x->mr->lkey };
	struct ibv_recv_wr wr = { .wr_id = wr_id, .sg_list = &sge, .num_sge = 1 }, *bad;
	int ret = ibv_post_recv(p->qp, &wr, &bad);

	return ret ? fail("ibv_post_recv", ret) : 0;
}

static int v_poll(struct group *g, int which, struct be_wc *wc, int max)
{
	struct v_grp *x = g->priv;
	struct ibv_wc c[32];
	int n;

	if (max > 32)
		max = 32;
	n = ibv_poll_cq(which ? x->rcq : x->scq, max, c);
	if (n < 0)
		return fail(which ? "polling the receive CQ" : "polling the send CQ", -EIO);
	for (int i = 0; i < n; i++) {
		wc[i].wr_id = c[i].wr_id;
		wc[i].byte_len = c[i].byte_len;
		wc[i].ok = c[i].status == IBV_WC_SUCCESS;
		wc[i].status = ibv_wc_status_str(c[i].status);
	}
	return n;
}

static int v_event_fd(struct group *g)
{
	return ((struct v_grp *)g->priv)->ch->fd;
}

static int v_arm(struct group *g)
{
	struct v_grp *x = g->priv;

	if (ibv_req_notify_cq(x->scq, 0) || ibv_req_notify_cq(x->rcq, 0))
		return fail("ibv_req_notify_cq", errno);
	return 0;
}

static void v_ack(struct group *g)
{
	struct v_grp *x = g->priv;
	struct ibv_cq *cq;
	void *ctx;

	while (ibv_get_cq_event(x->ch, &cq, &ctx) == 0)
		ibv_ack_cq_events(cq, 1);
}

static const char *qps_name(enum ibv_qp_state s)
{
	static const char *const n[] = { "reset", "init", "rtr", "rts", "sqd", "sqe", "error" };

	return (unsigned int)s < 7 ? n[s] : "unknown";
}

static void v_diag(struct qp *q, char *buf, size_t len)
{
	struct v_qp *p = q->priv;
	struct ibv_qp_attr a;
	struct ibv_qp_init_attr ia;

	if (ibv_query_qp(p->qp, &a, IBV_QP_STATE, &ia)) {
		snprintf(buf, len, "QP %u: ibv_query_qp failed", q->index);
		return;
	}
	snprintf(buf, len, "QP %u (qpn %u) %s, %" PRIu64 " WRs outstanding", q->index,
		 p->qp->qp_num, qps_name(a.qp_state), q->posted - q->completed);
}

const struct backend be_verbs = {
	.name = "verbs",
	.caps = BE_WRITE | BE_READ | BE_BW | BE_MULTI,
	.open = v_open,
	.close = v_close,
	.group_create = v_group_create,
	.group_destroy = v_group_destroy,
	.qp_create = v_qp_create,
	.qp_info = v_qp_info,
	.qp_connect = v_qp_connect,
	.qp_destroy = v_qp_destroy,
	.post_send = v_post,
	.doorbell = v_db,
	.post_recv = v_recv,
	.poll = v_poll,
	.event_fd = v_event_fd,
	.arm = v_arm,
	.ack = v_ack,
	.diag = v_diag,
};
