// SPDX-License-Identifier: MIT
/*
 * Backend: megalink, through libmegalink's public API only
 * (<megalink/megalink.h>).  Per process: the device, its PD; per group: a
 * send CQ, a receive CQ, one MR over the group's buffer; the event fd is
 * the device fd (readable while any CQ of the file holds completions:
 * the engine uses it edge-triggered).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <megalink/megalink.h>

#include "perf.h"

struct ml_pc {
	struct ml_device *dev;
	struct ml_device_info info;
	struct ml_limits lim;
	struct ml_pd *pd;
};

struct ml_grp {
	struct ml_cq *scq, *rcq;
	struct ml_mr *mr;
};

static int fail(const char *what, int err)
{
	const char *d = ml_last_error();

	be_err("%s: %s", what, d && d[0] ? d : ml_strerror(err));
	return err < 0 ? err : -EIO;
}

static uint32_t pow2(uint32_t v)
{
	uint32_t p = 1;

	while (p < v)
		p <<= 1;
	return p;
}

static int ml_open(struct pctx *pc)
{
	struct ml_pc *m = calloc(1, sizeof(*m));
	const char *name = loc.dev;
	char (*names)[ML_DEV_NAME_LEN] = NULL;
	size_t n = 0;
	int ret;

	if (!m)
		return -ENOMEM;
	if (!name) {
		ret = ml_list_devices(&names, &n);
		if (ret < 0)
			return fail("listing megalink devices", ret);
		if (n != 1) {
			ml_free(names);
			be_err(n ? "%zu megalink devices: choose one with -d DEV" :
			       "no megalink device (module loaded? a port bound?): use -d DEV", n);
			return -ENODEV;
		}
		ret = ml_device_open(names[0], &m->dev);
		ml_free(names);
	} else {
		ret = ml_device_open(name, &m->dev);
	}
	if (ret < 0)
		return fail("-d: opening the device", ret);
	ret = ml_device_query(m->dev, &m->info);
	if (ret < 0)
		return fail("querying the device", ret);
	ret = ml_query_limits(m->dev, &m->lim);
	if (ret < 0)
		return fail("querying the limits", ret);
	if (m->info.num_ports == 0) {
		be_err("device %s has no port bound", ml_device_name(m->dev));
		return -ENODEV;
	}
	ret = ml_pd_alloc(m->dev, &m->pd);
	if (ret < 0)
		return fail("allocating a PD", ret);
	pc->priv = m;
	snprintf(pc->devname, sizeof(pc->devname), "%s", ml_device_name(m->dev));
	snprintf(pc->detail, sizeof(pc->detail), "node 0x%x port %s mtu %u",
		 m->info.node_id, m->info.port_ifname[0][0] ? m->info.port_ifname[0] : "?",
		 m->info.ports[0].mtu);
	return 0;
}

static void ml_close(struct pctx *pc)
{
	struct ml_pc *m = pc->priv;

	if (!m)
		return;
	ml_pd_free(m->pd);
	ml_device_close(m->dev);
	free(m);
	pc->priv = NULL;
}

static int ml_group_create(struct group *g)
{
	struct ml_pc *m = g->pc->priv;
	struct ml_grp *x = calloc(1, sizeof(*x));
	int ret;

	if (!x)
		return -ENOMEM;
	g->priv = x;
	if (m->lim.max_msg_size && g->max_msg > m->lim.max_msg_size) {
		be_err("size %" PRIu64 ": larger than the device's largest message (%" PRIu64 ")",
		       g->max_msg, (uint64_t)m->lim.max_msg_size);
		return -EINVAL;
	}
	if (m->lim.max_cqe && (g->scq_entries > m->lim.max_cqe || g->rcq_entries > m->lim.max_cqe)) {
		be_err("%u QPs in one worker need CQs of %u and %u entries, the device allows "
		       "%u: lower -q, -t or -r, or add --threads", g->nqps, g->scq_entries,
		       g->rcq_entries, m->lim.max_cqe);
		return -EINVAL;
	}
	ret = ml_cq_create(m->dev, g->scq_entries, &x->scq);
	if (ret < 0)
		return fail("creating the send CQ", ret);
	ret = ml_cq_create(m->dev, g->rcq_entries, &x->rcq);
	if (ret < 0)
		return fail("creating the receive CQ", ret);
	ret = ml_mr_reg(m->pd, g->buf, g->buf_len, ML_ACCESS_ALL, &x->mr);
	if (ret < 0)
		return fail("registering the buffer", ret);
	g->max_inline = 0;
	if (cfg.inl)
		g->max_inline = m->lim.max_inline && m->lim.max_inline < ML_MAX_INLINE ?
				m->lim.max_inline : ML_MAX_INLINE;
	return 0;
}

static void ml_group_destroy(struct group *g)
{
	struct ml_grp *x = g->priv;

	if (!x)
		return;
	if (x->mr)
		ml_mr_dereg(x->mr);
	if (x->scq)
		ml_cq_destroy(x->scq);
	if (x->rcq)
		ml_cq_destroy(x->rcq);
	free(x);
}

static int ml_qp_create_(struct qp *q)
{
	struct ml_pc *m = q->g->pc->priv;
	struct ml_grp *x = q->g->priv;
	struct ml_qp_init qi;
	struct ml_qp *qp;
	uint32_t sq = pow2(cfg.lat ? 64 : cfg.depth);
	uint32_t rq = cfg.op == OP_SEND ? pow2(cfg.rx_depth) : 1;
	int ret;

	if (m->lim.max_sq_wr && sq > m->lim.max_sq_wr) {
		be_err("-t %u: the device's send queues hold at most %u", cfg.depth,
		       m->lim.max_sq_wr);
		return -EINVAL;
	}
	if (m->lim.max_rq_wr && rq > m->lim.max_rq_wr) {
		be_err("-r %u: the device's receive queues hold at most %u", cfg.rx_depth,
		       m->lim.max_rq_wr);
		return -EINVAL;
	}
	memset(&qi, 0, sizeof(qi));
	qi.send_cq = x->scq;
	qi.recv_cq = x->rcq;
	qi.sq_entries = sq;
	qi.rq_entries = rq;
	qi.max_inline = q->g->max_inline;
	ret = ml_qp_create(m->pd, &qi, &qp);
	if (ret < 0)
		return fail("creating the QP", ret);
	q->priv = qp;
	return 0;
}

static void ml_qp_info(struct qp *q, struct wire_ep *e)
{
	struct ml_pc *m = q->g->pc->priv;
	struct ml_grp *x = q->g->priv;

	memset(e, 0, sizeof(*e));
	e->qpn = ml_qp_num(q->priv);
	e->node = m->info.node_id;
	e->rkey = ml_mr_rkey(x->mr);
	e->addr = (uintptr_t)q->buf;
	e->len = q->buf_len;
}

static int ml_qp_connect_(struct qp *q)
{
	struct ml_connect_opts co;
	int ret;

	memset(&co, 0, sizeof(co));
	co.rnr_retry = 15;	/* a busy receiver is not an error here */
	co.rnr_timer_ms = 1;
	ret = ml_qp_connect(q->priv, q->peer.node, q->peer.qpn, &co);
	return ret < 0 ? fail("ml_qp_connect", ret) : 0;
}

static void ml_qp_destroy_(struct qp *q)
{
	if (q->priv)
		ml_qp_destroy(q->priv);
}

static int ml_post(struct qp *q, enum op op, void *laddr, uint32_t len, uint64_t raddr,
		   int sig, int inl, uint64_t wr_id)
{
	struct ml_grp *x = q->g->priv;
	struct ml_sge sge = { .addr = (uintptr_t)laddr, .length = len, .lkey = ml_mr_lkey(x->mr) };
	struct ml_send_wr wr = {
		.wr_id = wr_id,
		.opcode = op == OP_WRITE ? ML_WR_WRITE : op == OP_SEND ? ML_WR_SEND : ML_WR_READ,
		.flags = (sig ? ML_WR_F_SIGNALED : 0) | (inl ? ML_WR_F_INLINE : 0),
		.sg_list = &sge,
		.num_sge = 1,
	};
	int ret;

	if (op != OP_SEND) {
		wr.remote_addr = raddr;
		wr.rkey = q->peer.rkey;
	}
	ret = ml_post_send_nodb(q->priv, &wr);
	return ret < 0 ? fail("ml_post_send", ret) : 0;
}

static int ml_db(struct qp *q)
{
	int ret = ml_qp_doorbell(q->priv);

	return ret < 0 ? fail("ml_qp_doorbell", ret) : 0;
}

static int ml_recv(struct qp *q, void *addr, uint32_t len, uint64_t wr_id)
{
	struct ml_grp *x = q->g->priv;
	struct ml_sge sge = { .addr = (uintptr_t)addr, .length = len, .lkey = ml_mr_lkey(x->mr) };
	struct ml_recv_wr wr = { .wr_id = wr_id, .sg_list = &sge, .num_sge = 1 };
	int ret = ml_post_recv(q->priv, &wr);

	return ret < 0 ? fail("ml_post_recv", ret) : 0;
}

static int ml_poll_(struct group *g, int which, struct be_wc *wc, int max)
{
	struct ml_grp *x = g->priv;
	struct ml_cqe c[32];
	int n;

	if (max > 32)
		max = 32;
	n = ml_cq_poll(which ? x->rcq : x->scq, c, max);
	if (n < 0)
		return fail(which ? "polling the receive CQ" : "polling the send CQ", n);
	for (int i = 0; i < n; i++) {
		wc[i].wr_id = c[i].wr_id;
		wc[i].byte_len = c[i].byte_len;
		wc[i].ok = c[i].status == ML_WC_SUCCESS;
		wc[i].status = ml_wc_status_str(c[i].status);
	}
	return n;
}

static int ml_event_fd(struct group *g)
{
	return ml_device_fd(((struct ml_pc *)g->pc->priv)->dev);
}

static int ml_arm(struct group *g)
{
	struct ml_grp *x = g->priv;
	int a = ml_cq_arm(x->scq), b = ml_cq_arm(x->rcq);

	if (a < 0)
		return fail("arming the send CQ", a);
	if (b < 0)
		return fail("arming the receive CQ", b);
	return a + b;
}

static void ml_ack(struct group *g)
{
	(void)g;	/* a wakeup disarms; nothing to consume */
}

static void ml_diag(struct qp *q, char *buf, size_t len)
{
	struct ml_qp_attr a;

	if (ml_qp_query(q->priv, &a)) {
		snprintf(buf, len, "QP %u: query failed: %s", q->index, ml_last_error());
		return;
	}
	snprintf(buf, len, "QP %u (qpn %u) %s%s%s, %u WRs outstanding, snd_psn %u snd_una %u "
		 "rcv_psn %u, %" PRIu64 " retransmits, %" PRIu64 " timeouts", q->index, a.qpn,
		 ml_qp_state_name(a.state), a.state == ML_QPS_ERROR ? " status " : "",
		 a.state == ML_QPS_ERROR ? ml_wc_status_str(a.status) : "", a.outstanding,
		 a.snd_psn, a.snd_una, a.rcv_psn, (uint64_t)a.retransmits, (uint64_t)a.timeouts);
}

const struct backend be_ml = {
	.name = "megalink",
	.caps = BE_WRITE | BE_READ | BE_BW | BE_MULTI,
	.open = ml_open,
	.close = ml_close,
	.group_create = ml_group_create,
	.group_destroy = ml_group_destroy,
	.qp_create = ml_qp_create_,
	.qp_info = ml_qp_info,
	.qp_connect = ml_qp_connect_,
	.qp_destroy = ml_qp_destroy_,
	.post_send = ml_post,
	.doorbell = ml_db,
	.post_recv = ml_recv,
	.poll = ml_poll_,
	.event_fd = ml_event_fd,
	.arm = ml_arm,
	.ack = ml_ack,
	.diag = ml_diag,
};
