// SPDX-License-Identifier: MIT
/*
 * libmegalink: events from the "monitor" multicast group.
 *
 * The socket is read with plain recv() rather than nl_recvmsgs() so that
 * ENOBUFS (lost events) reaches the caller as such.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <linux/genetlink.h>
#include <netlink/netlink.h>
#include <netlink/genl/genl.h>

#include "internal.h"

#define ML_MON_BUF	(64 * 1024)

struct ml_monitor {
	struct nl_sock *sk;
	struct nl_cb *cb;
	struct ml_family fam;
	struct ml_vec q;	/* struct ml_event, pending */
	size_t head;
	char *buf;
};

ML_EXPORT int ml_monitor_open(struct ml_monitor **out)
{
	struct ml_monitor *mon;
	int err;

	if (!out)
		return ml__fail(-EINVAL, "monitor open: out pointer is NULL");
	*out = NULL;
	mon = calloc(1, sizeof(*mon));
	if (!mon)
		return ml__fail(-ENOMEM, "monitor open: out of memory");
	mon->q.elem = sizeof(struct ml_event);
	mon->buf = malloc(ML_MON_BUF);
	if (!mon->buf) {
		free(mon);
		return ml__fail(-ENOMEM, "monitor open: out of memory");
	}
	err = ml__genl_socket(&mon->sk, &mon->cb, "monitor open");
	if (err < 0)
		goto fail;
	err = ml__resolve_family(mon->sk, mon->cb, &mon->fam, "monitor open");
	if (err < 0)
		goto fail;
	if (!mon->fam.mcgrp_monitor) {
		err = ml__fail(-ENOENT, "monitor open: family \"%s\" has no \"%s\" group",
			       ML_GENL_NAME, ML_GENL_MCGRP_MONITOR);
		goto fail;
	}
	nl_socket_disable_seq_check(mon->sk);
	err = nl_socket_add_membership(mon->sk, (int)mon->fam.mcgrp_monitor);
	if (err < 0) {
		err = ml__nlerr_to_errno(err);
		ml__fail(err, "monitor open: join group \"%s\": %s",
			 ML_GENL_MCGRP_MONITOR, ml_strerror(err));
		goto fail;
	}
	nl_socket_set_buffer_size(mon->sk, 1 << 20, 0);
	err = nl_socket_set_nonblocking(mon->sk);
	if (err < 0) {
		err = ml__nlerr_to_errno(err);
		ml__fail(err, "monitor open: non-blocking: %s", ml_strerror(err));
		goto fail;
	}
	*out = mon;
	return 0;
fail:
	ml_monitor_close(mon);
	return err;
}

ML_EXPORT void ml_monitor_close(struct ml_monitor *mon)
{
	if (!mon)
		return;
	if (mon->cb)
		nl_cb_put(mon->cb);
	if (mon->sk)
		nl_socket_free(mon->sk);
	free(mon->q.data);
	free(mon->buf);
	free(mon);
}

ML_EXPORT int ml_monitor_fd(const struct ml_monitor *mon)
{
	return mon ? nl_socket_get_fd(mon->sk) : -EBADF;
}

static uint32_t event_type(uint8_t cmd)
{
	switch (cmd) {
	case ML_CMD_DEV_NEW_NTF:	return ML_EV_DEV_NEW;
	case ML_CMD_DEV_DEL_NTF:	return ML_EV_DEV_DEL;
	case ML_CMD_PORT_UP_NTF:	return ML_EV_PORT_UP;
	case ML_CMD_PORT_DOWN_NTF:	return ML_EV_PORT_DOWN;
	case ML_CMD_NEIGH_FOUND_NTF:	return ML_EV_NEIGH_FOUND;
	case ML_CMD_NEIGH_LOST_NTF:	return ML_EV_NEIGH_LOST;
	case ML_CMD_QP_ERROR_NTF:	return ML_EV_QP_ERROR;
	case ML_CMD_TOPO_NTF:		return ML_EV_TOPO_NODE_JOIN; /* refined below */
	}
	return ML_EV_NONE;
}

/* ML_CMD_TOPO_NTF: the event kind, the node and the link, into ev->neigh. */
static void fill_topo_event(struct nlattr **tb, struct ml_event *ev)
{
	struct ml_topo_link_info l;
	uint8_t kind = tb[ML_A_TOPO_EVENT] && nla_len(tb[ML_A_TOPO_EVENT]) >= 1 ?
		       nla_get_u8(tb[ML_A_TOPO_EVENT]) : 0;
	uint32_t node = tb[ML_A_TOPO_NODE_ID] && nla_len(tb[ML_A_TOPO_NODE_ID]) >= 4 ?
			nla_get_u32(tb[ML_A_TOPO_NODE_ID]) : 0;

	memset(&ev->port, 0, sizeof(ev->port));
	snprintf(ev->port.dev, sizeof(ev->port.dev), "%s", ev->dev.name);
	ev->port.dev_index = ev->dev.index;
	memset(&ev->neigh, 0, sizeof(ev->neigh));
	snprintf(ev->neigh.dev, sizeof(ev->neigh.dev), "%s", ev->dev.name);
	ev->neigh.dev_index = ev->dev.index;
	ev->neigh.origin = node;
	ev->neigh.node_id = node;
	switch (kind) {
	case ML_TOPO_EV_NODE_JOIN:	ev->type = ML_EV_TOPO_NODE_JOIN; break;
	case ML_TOPO_EV_NODE_LEAVE:	ev->type = ML_EV_TOPO_NODE_LEAVE; break;
	case ML_TOPO_EV_LINK_UP:	ev->type = ML_EV_TOPO_LINK_UP; break;
	case ML_TOPO_EV_LINK_DOWN:	ev->type = ML_EV_TOPO_LINK_DOWN; break;
	default:			ev->type = ML_EV_NONE; break;
	}
	if (tb[ML_A_TOPO_LINK]) {
		ml__fill_topo_link(tb[ML_A_TOPO_LINK], &l);
		ev->neigh.node_id = l.node_id;
		ev->neigh.remote_port = l.remote_port;
		ev->neigh.origin_port = (uint16_t)l.local_port;
		ev->neigh.kind = l.kind;
		ev->neigh.state = l.state;
		ev->neigh.mtu = l.mtu;
	}
}

static int queue_msg(struct ml_monitor *mon, struct nlmsghdr *nlh)
{
	struct nlattr *tb[ML_A_MAX + 1];
	struct genlmsghdr *gh;
	struct ml_event *ev;
	uint32_t type;

	if (nlh->nlmsg_type != mon->fam.id ||
	    nlh->nlmsg_len < NLMSG_HDRLEN + GENL_HDRLEN)
		return 0;
	gh = nlmsg_data(nlh);
	type = event_type(gh->cmd);
	if (type == ML_EV_NONE)
		return 0;
	if (genlmsg_parse(nlh, 0, tb, ML_A_MAX, NULL) < 0)
		return 0;
	/* A topology event of a kind this library does not know: skip it. */
	if (gh->cmd == ML_CMD_TOPO_NTF &&
	    (!tb[ML_A_TOPO_EVENT] || nla_len(tb[ML_A_TOPO_EVENT]) < 1 ||
	     nla_get_u8(tb[ML_A_TOPO_EVENT]) < ML_TOPO_EV_NODE_JOIN ||
	     nla_get_u8(tb[ML_A_TOPO_EVENT]) > ML_TOPO_EV_LINK_DOWN))
		return 0;
	ev = ml__vec_push(&mon->q);
	if (!ev)
		return -ENOMEM;
	ev->type = type;
	ev->cmd = gh->cmd;
	ev->reason = tb[ML_A_REASON] && nla_len(tb[ML_A_REASON]) >= 1 ?
		     nla_get_u8(tb[ML_A_REASON]) : 0;
	ml__fill_dev(tb, &ev->dev);
	ml__fill_port(tb, &ev->port);
	if (type == ML_EV_NEIGH_FOUND || type == ML_EV_NEIGH_LOST)
		ml__fill_neigh(tb, &ev->neigh);
	if (type == ML_EV_QP_ERROR)
		ml__fill_qp(tb, &ev->qp);
	if (gh->cmd == ML_CMD_TOPO_NTF)
		fill_topo_event(tb, ev);
	return 0;
}

/* One recv(): queue what it held.  0, -EAGAIN or another -errno. */
static int fill_queue(struct ml_monitor *mon)
{
	struct nlmsghdr *nlh;
	ssize_t len;
	int rem, err;

	len = recv(nl_socket_get_fd(mon->sk), mon->buf, ML_MON_BUF, MSG_DONTWAIT);
	if (len < 0) {
		err = -errno;
		if (err == -EAGAIN || err == -EWOULDBLOCK || err == -EINTR)
			return -EAGAIN;
		if (err == -ENOBUFS)
			return ml__fail(err, "monitor read: events were lost "
					"(receive buffer overrun); re-read the state");
		return ml__fail(err, "monitor read: %s", ml_strerror(err));
	}
	rem = (int)len;
	for (nlh = (struct nlmsghdr *)mon->buf; nlmsg_ok(nlh, rem);
	     nlh = nlmsg_next(nlh, &rem)) {
		err = queue_msg(mon, nlh);
		if (err < 0)
			return ml__fail(err, "monitor read: out of memory");
	}
	return 0;
}

ML_EXPORT int ml_monitor_read(struct ml_monitor *mon, struct ml_event *ev)
{
	int err;

	if (!mon || !ev)
		return ml__fail(-EINVAL, "monitor read: NULL %s", mon ? "event" : "handle");
	while (mon->head == mon->q.n) {
		mon->head = mon->q.n = 0;
		err = fill_queue(mon);
		if (err < 0)
			return err;
	}
	*ev = ((struct ml_event *)mon->q.data)[mon->head++];
	return 0;
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

ML_EXPORT int ml_monitor_wait(struct ml_monitor *mon, struct ml_event *ev, int timeout_ms)
{
	long long deadline = timeout_ms >= 0 ? now_ms() + timeout_ms : 0;
	struct pollfd pfd;
	int err, wait;

	for (;;) {
		err = ml_monitor_read(mon, ev);
		if (err != -EAGAIN)
			return err;
		wait = -1;
		if (timeout_ms >= 0) {
			long long left = deadline - now_ms();

			if (left <= 0)
				return ml__fail(-ETIMEDOUT, "monitor wait: no event in %d ms",
						timeout_ms);
			wait = (int)left;
		}
		pfd.fd = nl_socket_get_fd(mon->sk);
		pfd.events = POLLIN;
		if (poll(&pfd, 1, wait) < 0 && errno != EINTR)
			return ml__fail(-errno, "monitor wait: poll: %s", ml_strerror(errno));
	}
}
