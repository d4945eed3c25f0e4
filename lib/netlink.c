// SPDX-License-Identifier: MIT
/*
 * libmegalink: generic netlink plumbing (libnl-genl-3): the socket, family
 * resolution, request/reply transactions with extended-ack decoding, and
 * the attribute -> struct converters shared by ctl.c and monitor.c.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <linux/genetlink.h>
#include <netlink/netlink.h>
#include <netlink/genl/genl.h>
#include <netlink/genl/ctrl.h>

#include "internal.h"

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

int ml__nlerr_to_errno(int nlerr)
{
	if (nlerr < 0)
		nlerr = -nlerr;
	switch (nlerr) {
	case 0:				return 0;
	case NLE_INTR:			return -EINTR;
	case NLE_BAD_SOCK:		return -EBADF;
	case NLE_AGAIN:			return -EAGAIN;
	case NLE_NOMEM:			return -ENOMEM;
	case NLE_EXIST:			return -EEXIST;
	case NLE_INVAL:			return -EINVAL;
	case NLE_RANGE:			return -ERANGE;
	case NLE_MSGSIZE:		return -EMSGSIZE;
	case NLE_OPNOTSUPP:		return -EOPNOTSUPP;
	case NLE_AF_NOSUPPORT:		return -EAFNOSUPPORT;
	case NLE_OBJ_NOTFOUND:		return -ENOENT;
	case NLE_NOATTR:		return -ENOENT;
	case NLE_MISSING_ATTR:		return -EINVAL;
	case NLE_AF_MISMATCH:		return -EAFNOSUPPORT;
	case NLE_SEQ_MISMATCH:		return -EPROTO;
	case NLE_MSG_OVERFLOW:		return -EOVERFLOW;
	case NLE_MSG_TRUNC:		return -EMSGSIZE;
	case NLE_NOADDR:		return -EADDRNOTAVAIL;
	case NLE_SRCRT_NOSUPPORT:	return -EOPNOTSUPP;
	case NLE_MSG_TOOSHORT:		return -EPROTO;
	case NLE_MSGTYPE_NOSUPPORT:	return -EOPNOTSUPP;
	case NLE_OBJ_MISMATCH:		return -EINVAL;
	case NLE_NOCACHE:		return -ENOENT;
	case NLE_BUSY:			return -EBUSY;
	case NLE_PROTO_MISMATCH:	return -EPROTONOSUPPORT;
	case NLE_NOACCESS:		return -EACCES;
	case NLE_PERM:			return -EPERM;
	case NLE_PKTLOC_FILE:		return -ENOENT;
	case NLE_PARSE_ERR:		return -EPROTO;
	case NLE_NODEV:			return -ENODEV;
	case NLE_IMMUTABLE:		return -EPERM;
	case NLE_DUMP_INTR:		return -EINTR;
	case NLE_ATTRSIZE:		return -ERANGE;
	}
	return -EIO;
}

int ml__genl_socket(struct nl_sock **skp, struct nl_cb **cbp, const char *what)
{
	struct nl_sock *sk;
	struct nl_cb *cb;
	int one = 1, err;

	*skp = NULL;
	*cbp = NULL;
	sk = nl_socket_alloc();
	if (!sk)
		return ml__fail(-ENOMEM, "%s: out of memory", what);
	err = genl_connect(sk);
	if (err < 0) {
		err = ml__nlerr_to_errno(err);
		nl_socket_free(sk);
		return ml__fail(err, "%s: generic netlink socket: %s", what,
				ml_strerror(err));
	}
	/* Best effort: old kernels simply do not send the TLVs. */
	setsockopt(nl_socket_get_fd(sk), SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
	setsockopt(nl_socket_get_fd(sk), SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
	cb = nl_cb_alloc(NL_CB_DEFAULT);
	if (!cb) {
		nl_socket_free(sk);
		return ml__fail(-ENOMEM, "%s: out of memory", what);
	}
	*skp = sk;
	*cbp = cb;
	return 0;
}

/* ------------------------------------------------------------------ */

struct txn {
	int done;
	int err;
	int parse_err;
	struct ml_extack ex;
	const void *req;
	size_t req_len;
	int (*parse)(struct nlmsghdr *nlh, void *arg);
	void *arg;
};

static int on_valid(struct nl_msg *msg, void *arg)
{
	struct txn *t = arg;
	int r;

	if (t->parse && !t->parse_err) {
		r = t->parse(nlmsg_hdr(msg), t->arg);
		if (r < 0)
			t->parse_err = r;
	}
	return NL_OK;
}

static int on_finish(struct nl_msg *msg, void *arg)
{
	struct nlmsghdr *nlh = nlmsg_hdr(msg);
	struct txn *t = arg;
	struct ml_extack ex;

	t->done = 1;
	if (ml__extack_parse(nlh, nlh->nlmsg_len, t->req, t->req_len, &ex) == 0 &&
	    ex.error < 0) {
		t->ex = ex;
		t->err = ex.error;
	}
	return NL_STOP;
}

/* Skip replies to an earlier request this handle gave up on. */
static int on_seq_check(struct nl_msg *msg, void *arg)
{
	struct txn *t = arg;
	const struct nlmsghdr *req = t->req;

	if (req && nlmsg_hdr(msg)->nlmsg_seq != req->nlmsg_seq)
		return NL_SKIP;
	return NL_OK;
}

/* A dump that changed while it was read: keep going, as iproute2 does. */
static int on_dump_intr(struct nl_msg *msg, void *arg)
{
	(void)msg;
	(void)arg;
	return NL_OK;
}

static int on_ack(struct nl_msg *msg, void *arg)
{
	struct txn *t = arg;

	(void)msg;
	t->done = 1;
	return NL_STOP;
}

static int on_error(struct sockaddr_nl *nla, struct nlmsgerr *e, void *arg)
{
	struct nlmsghdr *nlh = (void *)((char *)e - NLMSG_HDRLEN);
	struct txn *t = arg;

	(void)nla;
	t->done = 1;
	t->err = e->error ? e->error : -EIO;
	if (ml__extack_parse(nlh, nlh->nlmsg_len, t->req, t->req_len, &t->ex) < 0) {
		memset(&t->ex, 0, sizeof(t->ex));
		t->ex.bad_attr = -1;
	}
	return NL_STOP;
}

int ml__transact(struct nl_sock *sk, struct nl_cb *cb, struct nl_msg *msg,
		 int (*parse)(struct nlmsghdr *nlh, void *arg), void *arg,
		 const char *what)
{
	struct txn t;
	int r;

	memset(&t, 0, sizeof(t));
	t.ex.bad_attr = -1;
	t.parse = parse;
	t.arg = arg;
	nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, on_valid, &t);
	nl_cb_set(cb, NL_CB_FINISH, NL_CB_CUSTOM, on_finish, &t);
	nl_cb_set(cb, NL_CB_ACK, NL_CB_CUSTOM, on_ack, &t);
	nl_cb_set(cb, NL_CB_SEQ_CHECK, NL_CB_CUSTOM, on_seq_check, &t);
	nl_cb_set(cb, NL_CB_DUMP_INTR, NL_CB_CUSTOM, on_dump_intr, &t);
	nl_cb_err(cb, NL_CB_CUSTOM, on_error, &t);

	r = nl_send_auto(sk, msg);
	if (r < 0) {
		nlmsg_free(msg);
		r = ml__nlerr_to_errno(r);
		return ml__fail(r, "%s: netlink send: %s", what, ml_strerror(r));
	}
	/* The request as sent, to map NLMSGERR_ATTR_OFFS to an attribute. */
	t.req = nlmsg_hdr(msg);
	t.req_len = nlmsg_hdr(msg)->nlmsg_len;

	while (!t.done) {
		r = nl_recvmsgs(sk, cb);
		if (r < 0 && !t.done) {
			nlmsg_free(msg);
			r = ml__nlerr_to_errno(r);
			return ml__fail(r, "%s: netlink receive: %s", what, ml_strerror(r));
		}
	}
	if (t.err) {
		ml__fail_extack(t.err, what, &t.ex);
		nlmsg_free(msg);
		return t.err;
	}
	nlmsg_free(msg);
	if (t.parse_err)
		return ml__fail(t.parse_err, "%s: reply: %s", what,
				ml_strerror(t.parse_err));
	return 0;
}

/* ------------------------------------------------------------------ */

struct fam_parse {
	struct ml_family *fam;
};

static int parse_family(struct nlmsghdr *nlh, void *arg)
{
	struct ml_family *fam = arg;
	struct nlattr *tb[CTRL_ATTR_MAX + 1];
	struct nlattr *grp;
	int rem;

	if (genlmsg_parse(nlh, 0, tb, CTRL_ATTR_MAX, NULL) < 0)
		return -EPROTO;
	if (tb[CTRL_ATTR_FAMILY_ID])
		fam->id = nla_get_u16(tb[CTRL_ATTR_FAMILY_ID]);
	if (tb[CTRL_ATTR_VERSION])
		fam->version = nla_get_u32(tb[CTRL_ATTR_VERSION]);
	if (!tb[CTRL_ATTR_MCAST_GROUPS])
		return 0;
	nla_for_each_nested(grp, tb[CTRL_ATTR_MCAST_GROUPS], rem) {
		struct nlattr *g[CTRL_ATTR_MCAST_GRP_MAX + 1];

		if (nla_parse_nested(g, CTRL_ATTR_MCAST_GRP_MAX, grp, NULL) < 0)
			continue;
		if (!g[CTRL_ATTR_MCAST_GRP_NAME] || !g[CTRL_ATTR_MCAST_GRP_ID])
			continue;
		if (strcmp(nla_get_string(g[CTRL_ATTR_MCAST_GRP_NAME]),
			   ML_GENL_MCGRP_MONITOR) == 0)
			fam->mcgrp_monitor = nla_get_u32(g[CTRL_ATTR_MCAST_GRP_ID]);
	}
	return 0;
}

int ml__resolve_family(struct nl_sock *sk, struct nl_cb *cb, struct ml_family *fam,
		       const char *what)
{
	struct nl_msg *msg;
	int err;

	memset(fam, 0, sizeof(*fam));
	msg = nlmsg_alloc();
	if (!msg)
		return ml__fail(-ENOMEM, "%s: out of memory", what);
	if (!genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, GENL_ID_CTRL, 0, 0,
			 CTRL_CMD_GETFAMILY, 1) ||
	    nla_put_string(msg, CTRL_ATTR_FAMILY_NAME, ML_GENL_NAME) < 0) {
		nlmsg_free(msg);
		return ml__fail(-ENOMEM, "%s: out of memory", what);
	}
	err = ml__transact(sk, cb, msg, parse_family, fam, what);
	if (err == -ENOENT)
		return ml__fail(-ENOENT, "%s: megalink module not loaded "
				"(no generic netlink family \"%s\")", what, ML_GENL_NAME);
	if (err < 0)
		return err;
	if (!fam->id)
		return ml__fail(-EPROTO, "%s: no id for family \"%s\"", what, ML_GENL_NAME);
	return 0;
}

/* ------------------------------------------------------------------ */

static uint32_t get_u32(struct nlattr *a)
{
	return a && nla_len(a) >= 4 ? nla_get_u32(a) : 0;
}

static uint16_t get_u16(struct nlattr *a)
{
	return a && nla_len(a) >= 2 ? nla_get_u16(a) : 0;
}

static uint8_t get_u8(struct nlattr *a)
{
	return a && nla_len(a) >= 1 ? nla_get_u8(a) : 0;
}

static uint64_t get_u64(struct nlattr *a)
{
	uint64_t v = 0;

	if (a && nla_len(a) >= 8)
		memcpy(&v, nla_data(a), 8);
	else if (a && nla_len(a) >= 4)
		v = nla_get_u32(a);
	return v;
}

static void get_str(struct nlattr *a, char *dst, size_t size)
{
	size_t n;

	dst[0] = '\0';
	if (!a)
		return;
	n = strnlen(nla_data(a), (size_t)nla_len(a));
	if (n >= size)
		n = size - 1;
	memcpy(dst, nla_data(a), n);
	dst[n] = '\0';
}

static void get_mac(struct nlattr *a, uint8_t *mac)
{
	if (a && nla_len(a) >= 6)
		memcpy(mac, nla_data(a), 6);
}

void ml__fill_dev(struct nlattr **tb, struct ml_dev_attr *d)
{
	get_str(tb[ML_A_DEV_NAME], d->name, sizeof(d->name));
	d->index = get_u32(tb[ML_A_DEV_INDEX]);
	d->node_id = get_u32(tb[ML_A_NODE_ID]);
	d->hello_ms = get_u32(tb[ML_A_HELLO_MS]);
	d->dead_ms = get_u32(tb[ML_A_DEAD_MS]);
	d->caps = get_u64(tb[ML_A_CAPS]);
	d->abi_version = get_u32(tb[ML_A_ABI_VERSION]);
	d->ethertype = get_u16(tb[ML_A_ETHERTYPE]);
	d->num_ports = get_u32(tb[ML_A_NUM_PORTS]);
	/* data-plane objects: all or nothing, so that the flag means something */
	if (tb[ML_A_NUM_CTX] || tb[ML_A_NUM_PDS] || tb[ML_A_NUM_MRS] ||
	    tb[ML_A_NUM_CQS] || tb[ML_A_NUM_QPS] || tb[ML_A_PINNED_PAGES]) {
		d->flags |= ML_DEV_ATTR_F_OBJECTS;
		d->num_ctx = get_u32(tb[ML_A_NUM_CTX]);
		d->num_pds = get_u32(tb[ML_A_NUM_PDS]);
		d->num_mrs = get_u32(tb[ML_A_NUM_MRS]);
		d->num_cqs = get_u32(tb[ML_A_NUM_CQS]);
		d->num_qps = get_u32(tb[ML_A_NUM_QPS]);
		d->pinned_pages = get_u64(tb[ML_A_PINNED_PAGES]);
	}
}

void ml__fill_qp(struct nlattr **tb, struct ml_qp_info *q)
{
	get_str(tb[ML_A_DEV_NAME], q->dev, sizeof(q->dev));
	q->dev_index = get_u32(tb[ML_A_DEV_INDEX]);
	q->qpn = get_u32(tb[ML_A_QPN]);
	q->state = get_u8(tb[ML_A_QP_STATE]);
	q->status = get_u8(tb[ML_A_QP_STATUS]);
	q->owner_pid = get_u32(tb[ML_A_OWNER_PID]);
	q->remote_node = get_u32(tb[ML_A_REMOTE_NODE]);
	q->remote_qpn = get_u32(tb[ML_A_REMOTE_QPN]);
	q->port_index = get_u32(tb[ML_A_PORT_INDEX]);
	q->snd_psn = get_u32(tb[ML_A_SND_PSN]);
	q->snd_una = get_u32(tb[ML_A_SND_UNA]);
	q->rcv_psn = get_u32(tb[ML_A_RCV_PSN]);
	q->outstanding = get_u32(tb[ML_A_OUTSTANDING]);
	q->retransmits = get_u64(tb[ML_A_RETRANSMITS]);
	q->timeouts = get_u64(tb[ML_A_TIMEOUTS]);
	q->rnr_naks = get_u64(tb[ML_A_RNR_NAKS]);
	q->seq_naks = get_u64(tb[ML_A_SEQ_NAKS]);
	q->num_paths = get_u32(tb[ML_A_NUM_PATHS]);
	q->failovers = get_u64(tb[ML_A_FAILOVERS]);
	q->reorder_nak = get_u32(tb[ML_A_REORDER_NAK]);
	q->cwnd = get_u32(tb[ML_A_CWND]);
	q->ssthresh = get_u32(tb[ML_A_SSTHRESH]);
}

/* One ML_A_PATH nest of a QP message into @p (dev and qpn from @tb). */
int ml__fill_path(struct nlattr **tb, struct nlattr *nest, struct ml_path_info *p)
{
	struct nlattr *pt[ML_PATH_A_MAX + 1];

	if (nla_parse_nested(pt, ML_PATH_A_MAX, nest, NULL) < 0)
		return -EPROTO;
	get_str(tb[ML_A_DEV_NAME], p->dev, sizeof(p->dev));
	p->dev_index = get_u32(tb[ML_A_DEV_INDEX]);
	p->qpn = get_u32(tb[ML_A_QPN]);
	p->path_index = get_u32(pt[ML_PATH_A_INDEX]);
	p->port_index = get_u32(pt[ML_PATH_A_PORT_INDEX]);
	get_str(pt[ML_PATH_A_IFNAME], p->ifname, sizeof(p->ifname));
	p->remote_port = get_u32(pt[ML_PATH_A_REMOTE_PORT]);
	get_mac(pt[ML_PATH_A_MAC], p->mac);
	p->addr = pt[ML_PATH_A_ADDR] ? nla_get_u32(pt[ML_PATH_A_ADDR]) : 0;
	if (pt[ML_PATH_A_ADDR6] && nla_len(pt[ML_PATH_A_ADDR6]) == 16) {
		memcpy(p->addr6, nla_data(pt[ML_PATH_A_ADDR6]), 16);
		p->family = AF_INET6;
	} else if (p->addr) {
		p->family = AF_INET;
	}
	p->srtt_us = get_u32(pt[ML_PATH_A_SRTT_US]);
	p->loss = get_u32(pt[ML_PATH_A_LOSS]);
	p->tx_packets = get_u64(pt[ML_PATH_A_TX_PACKETS]);
	p->tx_bytes = get_u64(pt[ML_PATH_A_TX_BYTES]);
	p->retransmits = get_u64(pt[ML_PATH_A_RETRANSMITS]);
	return 0;
}

void ml__fill_port(struct nlattr **tb, struct ml_port_info *p)
{
	get_str(tb[ML_A_DEV_NAME], p->dev, sizeof(p->dev));
	p->dev_index = get_u32(tb[ML_A_DEV_INDEX]);
	p->port_index = get_u32(tb[ML_A_PORT_INDEX]);
	p->ifindex = get_u32(tb[ML_A_IFINDEX]);
	get_str(tb[ML_A_IFNAME], p->ifname, sizeof(p->ifname));
	get_mac(tb[ML_A_MAC], p->mac);
	p->mtu = get_u32(tb[ML_A_MTU]);
	p->carrier = get_u8(tb[ML_A_CARRIER]);
	p->link_state = get_u8(tb[ML_A_LINK_STATE]);
	p->num_neigh = get_u32(tb[ML_A_NUM_NEIGH]);
}

void ml__fill_neigh(struct nlattr **tb, struct ml_neigh_info *n)
{
	get_str(tb[ML_A_DEV_NAME], n->dev, sizeof(n->dev));
	n->dev_index = get_u32(tb[ML_A_DEV_INDEX]);
	n->port_index = get_u32(tb[ML_A_PORT_INDEX]);
	n->ifindex = get_u32(tb[ML_A_IFINDEX]);
	get_str(tb[ML_A_IFNAME], n->ifname, sizeof(n->ifname));
	n->node_id = get_u32(tb[ML_A_NEIGH_NODE_ID]);
	n->remote_port = get_u32(tb[ML_A_NEIGH_PORT_INDEX]);
	get_str(tb[ML_A_NEIGH_DEV_NAME], n->remote_dev, sizeof(n->remote_dev));
	get_mac(tb[ML_A_NEIGH_MAC], n->mac);
	n->caps = get_u64(tb[ML_A_NEIGH_CAPS]);
	n->age_ms = get_u32(tb[ML_A_NEIGH_AGE_MS]);
	n->dead_ms = get_u32(tb[ML_A_NEIGH_DEAD_MS]);
	n->mtu = get_u32(tb[ML_A_NEIGH_MTU]);
	n->addr = tb[ML_A_NEIGH_ADDR] ? nla_get_u32(tb[ML_A_NEIGH_ADDR]) : 0;
	if (n->addr)
		n->family = AF_INET;
	if (tb[ML_A_NEIGH_ADDR6] && nla_len(tb[ML_A_NEIGH_ADDR6]) == 16) {
		memcpy(n->addr6, nla_data(tb[ML_A_NEIGH_ADDR6]), 16);
		n->family = AF_INET6;
	}
}

void ml__fill_peer(struct nlattr **tb, struct ml_peer_info *p)
{
	get_str(tb[ML_A_DEV_NAME], p->dev, sizeof(p->dev));
	p->dev_index = get_u32(tb[ML_A_DEV_INDEX]);
	p->addr = tb[ML_A_PEER_ADDR] ? nla_get_u32(tb[ML_A_PEER_ADDR]) : 0;
	p->local = tb[ML_A_PEER_LOCAL] ? nla_get_u32(tb[ML_A_PEER_LOCAL]) : 0;
	p->udp_port = tb[ML_A_UDP_PORT] ? nla_get_u16(tb[ML_A_UDP_PORT]) : 0;
}

void ml__fill_peer_entry(struct nlattr **tb, struct ml_peer_entry *p)
{
	get_str(tb[ML_A_DEV_NAME], p->dev, sizeof(p->dev));
	p->dev_index = get_u32(tb[ML_A_DEV_INDEX]);
	p->udp_port = tb[ML_A_UDP_PORT] ? nla_get_u16(tb[ML_A_UDP_PORT]) : 0;
	if (tb[ML_A_PEER_ADDR6] && nla_len(tb[ML_A_PEER_ADDR6]) == 16) {
		p->family = AF_INET6;
		memcpy(p->addr, nla_data(tb[ML_A_PEER_ADDR6]), 16);
		if (tb[ML_A_PEER_LOCAL6] && nla_len(tb[ML_A_PEER_LOCAL6]) == 16)
			memcpy(p->local, nla_data(tb[ML_A_PEER_LOCAL6]), 16);
	} else if (tb[ML_A_PEER_ADDR] && nla_len(tb[ML_A_PEER_ADDR]) >= 4) {
		p->family = AF_INET;
		memcpy(p->addr, nla_data(tb[ML_A_PEER_ADDR]), 4);
		if (tb[ML_A_PEER_LOCAL] && nla_len(tb[ML_A_PEER_LOCAL]) >= 4)
			memcpy(p->local, nla_data(tb[ML_A_PEER_LOCAL]), 4);
	}
}

void ml__fill_stats(struct nlattr **tb, struct ml_port_stats *s)
{
	struct nlattr *a;
	int rem;

	get_str(tb[ML_A_DEV_NAME], s->dev, sizeof(s->dev));
	s->dev_index = get_u32(tb[ML_A_DEV_INDEX]);
	s->port_index = get_u32(tb[ML_A_PORT_INDEX]);
	s->ifindex = get_u32(tb[ML_A_IFINDEX]);
	get_str(tb[ML_A_IFNAME], s->ifname, sizeof(s->ifname));
	if (!tb[ML_A_STATS])
		return;
	nla_for_each_nested(a, tb[ML_A_STATS], rem) {
		int type = nla_type(a);

		if (type <= ML_STAT_PAD || type >= ML_LIB_STATS_SLOTS || nla_len(a) < 8)
			continue;
		s->stats[type] = get_u64(a);
		s->present |= 1ULL << type;
	}
}

void ml__fill_topo_link(struct nlattr *nest, struct ml_topo_link_info *l)
{
	struct nlattr *tb[ML_A_TOPO_LINK_MAX + 1];

	memset(l, 0, sizeof(*l));
	if (nla_parse_nested(tb, ML_A_TOPO_LINK_MAX, nest, NULL) < 0)
		return;
	l->node_id = get_u32(tb[ML_A_TOPO_LINK_NODE_ID]);
	l->local_port = get_u32(tb[ML_A_TOPO_LINK_LOCAL_PORT]);
	l->remote_port = get_u32(tb[ML_A_TOPO_LINK_REMOTE_PORT]);
	l->kind = get_u8(tb[ML_A_TOPO_LINK_KIND]);
	l->state = get_u8(tb[ML_A_TOPO_LINK_STATE]);
	l->mtu = get_u32(tb[ML_A_TOPO_LINK_MTU]);
}

int ml__fill_topo(struct nlmsghdr *nlh, struct ml_topo_node_info *t)
{
	struct nlattr *tb[ML_A_MAX + 1];
	struct nlattr *a;
	int rem;

	if (genlmsg_parse(nlh, 0, tb, ML_A_MAX, NULL) < 0)
		return -EPROTO;
	get_str(tb[ML_A_DEV_NAME], t->dev, sizeof(t->dev));
	t->dev_index = get_u32(tb[ML_A_DEV_INDEX]);
	t->node_id = get_u32(tb[ML_A_TOPO_NODE_ID]);
	t->seq = get_u32(tb[ML_A_TOPO_SEQ]);
	t->age_ms = get_u32(tb[ML_A_TOPO_AGE_MS]);
	t->lifetime_ms = get_u32(tb[ML_A_TOPO_LIFETIME_MS]);
	t->flags = get_u32(tb[ML_A_TOPO_FLAGS]);
	/* The repeated link nests: walk the whole payload. */
	nla_for_each_attr(a, genlmsg_attrdata(nlmsg_data(nlh), 0),
			  genlmsg_attrlen(nlmsg_data(nlh), 0), rem) {
		if (nla_type(a) != ML_A_TOPO_LINK || t->num_links >= ML_LIB_TOPO_LINKS)
			continue;
		ml__fill_topo_link(a, &t->links[t->num_links++]);
	}
	return 0;
}
