// SPDX-License-Identifier: MIT
/*
 * Text and JSON output of megalink objects.
 *
 * Text follows iproute2's rdma/ip: one line per object, "key value" pairs,
 * the object named first ("port ml0/1 ifname eth1 state up ...").  JSON
 * keys are stable (see megalink-stat(8)).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "show.h"

void out_init(struct out *out, const struct out_opts *o, FILE *f)
{
	out->o = *o;
	out->f = f;
	jw_init(&out->jw, f, o->pretty);
}

void format_mac(char buf[18], const uint8_t m[6])
{
	snprintf(buf, 18, "%02x:%02x:%02x:%02x:%02x:%02x",
		 m[0], m[1], m[2], m[3], m[4], m[5]);
}

/* ---- JSON ---- */

void json_dev_fields(struct jw *w, const struct ml_dev_attr *d)
{
	jw_kstr(w, "dev", d->name);
	jw_kuint(w, "index", d->index);
	jw_kuint(w, "node_id", d->node_id);
	jw_kuint(w, "hello_ms", d->hello_ms);
	jw_kuint(w, "dead_ms", d->dead_ms);
	jw_kuint(w, "caps", d->caps);
	jw_kuint(w, "abi_version", d->abi_version);
	jw_kuint(w, "ethertype", d->ethertype);
	jw_kuint(w, "ports", d->num_ports);
	jw_kuint(w, "num_ctx", d->num_ctx);
	jw_kuint(w, "num_pds", d->num_pds);
	jw_kuint(w, "num_mrs", d->num_mrs);
	jw_kuint(w, "num_cqs", d->num_cqs);
	jw_kuint(w, "num_qps", d->num_qps);
	jw_kuint(w, "pinned_pages", d->pinned_pages);
}

void json_port_fields(struct jw *w, const struct ml_port_info *p)
{
	char mac[18];

	format_mac(mac, p->mac);
	jw_kstr(w, "dev", p->dev);
	jw_kuint(w, "port", p->port_index);
	jw_kstr(w, "ifname", p->ifname);
	jw_kuint(w, "ifindex", p->ifindex);
	jw_kstr(w, "state", p->link_state == ML_LINK_UP ? "up" : "down");
	jw_kbool(w, "carrier", p->carrier);
	jw_kuint(w, "mtu", p->mtu);
	jw_kstr(w, "mac", mac);
	jw_kuint(w, "neighbours", p->num_neigh);
}

void json_neigh_fields(struct jw *w, const struct ml_neigh_info *n)
{
	char mac[18];

	format_mac(mac, n->mac);
	jw_kstr(w, "dev", n->dev);
	jw_kuint(w, "port", n->port_index);
	jw_kstr(w, "ifname", n->ifname);
	jw_kuint(w, "node_id", n->node_id);
	jw_kstr(w, "remote_dev", n->remote_dev);
	jw_kuint(w, "remote_port", n->remote_port);
	jw_kstr(w, "mac", mac);
	jw_kuint(w, "age_ms", n->age_ms);
	jw_kuint(w, "dead_ms", n->dead_ms);
	jw_kuint(w, "mtu", n->mtu);
	jw_kuint(w, "caps", n->caps);
	if (n->family == AF_INET6) {
		char a[INET6_ADDRSTRLEN];

		jw_kstr(w, "addr", inet_ntop(AF_INET6, n->addr6, a, sizeof(a)));
		jw_kstr(w, "family", "inet6");
	} else if (n->addr) {
		char a[INET_ADDRSTRLEN];

		jw_kstr(w, "addr", inet_ntop(AF_INET, &n->addr, a, sizeof(a)));
		jw_kstr(w, "family", "inet");
	}
}

static void json_counters(struct jw *w, const struct ml_port_stats *s)
{
	unsigned int i;

	for (i = 0; i < ML_LIB_STATS_SLOTS; i++) {
		const char *name = ml_stat_name(i);

		if (name)
			jw_kuint(w, name, s->stats[i]);
	}
}

void json_stats_fields(struct jw *w, const struct ml_port_stats *s)
{
	jw_kstr(w, "dev", s->dev);
	jw_kuint(w, "port", s->port_index);
	jw_kstr(w, "ifname", s->ifname);
	json_counters(w, s);
}

const char *qp_state_upper(unsigned int state)
{
	switch (state) {
	case ML_QPS_RESET:	return "RESET";
	case ML_QPS_INIT:	return "INIT";
	case ML_QPS_RTR:	return "RTR";
	case ML_QPS_RTS:	return "RTS";
	case ML_QPS_ERROR:	return "ERROR";
	}
	return "UNKNOWN";
}

void json_qp_fields(struct jw *w, const struct ml_qp_info *q)
{
	jw_kstr(w, "dev", q->dev);
	jw_kuint(w, "qpn", q->qpn);
	jw_kstr(w, "state", qp_state_upper(q->state));
	/* why it is in error; null while it is not */
	jw_kstr(w, "status", q->state == ML_QPS_ERROR ? ml_wc_status_str(q->status) : NULL);
	jw_kuint(w, "pid", q->owner_pid);
	jw_kuint(w, "remote_node", q->remote_node);
	jw_kuint(w, "remote_qpn", q->remote_qpn);
	jw_kuint(w, "port", q->port_index);
	jw_kuint(w, "snd_psn", q->snd_psn);
	jw_kuint(w, "snd_una", q->snd_una);
	jw_kuint(w, "rcv_psn", q->rcv_psn);
	jw_kuint(w, "outstanding", q->outstanding);
	jw_kuint(w, "retransmits", q->retransmits);
	jw_kuint(w, "timeouts", q->timeouts);
	jw_kuint(w, "rnr_naks", q->rnr_naks);
	jw_kuint(w, "seq_naks", q->seq_naks);
	jw_kuint(w, "num_paths", q->num_paths);
	jw_kuint(w, "failovers", q->failovers);
	jw_kuint(w, "cwnd", q->cwnd);
	jw_kuint(w, "ssthresh", q->ssthresh);
	jw_kuint(w, "reorder_nak", q->reorder_nak);
}

static void json_path_fields(struct jw *w, const struct ml_path_info *p)
{
	char mac[18], a[INET6_ADDRSTRLEN];

	format_mac(mac, p->mac);
	jw_kuint(w, "path", p->path_index);
	jw_kuint(w, "port", p->port_index);
	jw_kstr(w, "ifname", p->ifname);
	jw_kuint(w, "remote_port", p->remote_port);
	jw_kstr(w, "mac", mac);
	if (p->family == AF_INET6)
		jw_kstr(w, "addr", inet_ntop(AF_INET6, p->addr6, a, sizeof(a)));
	else if (p->addr)
		jw_kstr(w, "addr", inet_ntop(AF_INET, &p->addr, a, sizeof(a)));
	jw_kuint(w, "srtt_us", p->srtt_us);
	jw_kuint(w, "loss", p->loss);
	jw_kuint(w, "tx_packets", p->tx_packets);
	jw_kuint(w, "tx_bytes", p->tx_bytes);
	jw_kuint(w, "retransmits", p->retransmits);
}

/* "  path 0 port ml0/1 ifname va1 remote-port 1 srtt 180us ..." */
static void text_path(FILE *f, const struct ml_path_info *p)
{
	char mac[18], a[INET6_ADDRSTRLEN];

	format_mac(mac, p->mac);
	fprintf(f, "    path %u port %s/%u ifname %s remote-port %u mac %s",
		p->path_index, p->dev, p->port_index,
		p->ifname[0] ? p->ifname : "?", p->remote_port, mac);
	if (p->family == AF_INET6)
		fprintf(f, " udp %s", inet_ntop(AF_INET6, p->addr6, a, sizeof(a)));
	else if (p->addr)
		fprintf(f, " udp %s", inet_ntop(AF_INET, &p->addr, a, sizeof(a)));
	fprintf(f, " srtt %uus loss %u tx-packets %" PRIu64 " tx-bytes %" PRIu64
		" retransmits %" PRIu64 "\n", p->srtt_us, p->loss, p->tx_packets,
		p->tx_bytes, p->retransmits);
}

/* ---- text ---- */

static void text_dev(FILE *f, const struct ml_dev_attr *d)
{
	fprintf(f, "dev %s index %u node-id 0x%08x ports %u hello %ums dead %ums "
		"caps 0x%" PRIx64 " abi %u ethertype 0x%04x",
		d->name, d->index, d->node_id, d->num_ports, d->hello_ms, d->dead_ms,
		d->caps, d->abi_version, d->ethertype);
}

static void text_port(FILE *f, const struct ml_port_info *p)
{
	char mac[18];

	format_mac(mac, p->mac);
	fprintf(f, "port %s/%u ifname %s ifindex %u state %s carrier %s mtu %u "
		"mac %s neighbours %u",
		p->dev, p->port_index, p->ifname, p->ifindex,
		p->link_state == ML_LINK_UP ? "up" : "down",
		p->carrier ? "on" : "off", p->mtu, mac, p->num_neigh);
}

static void text_neigh(FILE *f, const struct ml_neigh_info *n)
{
	char mac[18];

	format_mac(mac, n->mac);
	fprintf(f, "neigh %s/%u ifname %s node-id 0x%08x remote %s/%u mac %s "
		"age %ums dead %ums caps 0x%" PRIx64,
		n->dev, n->port_index, n->ifname, n->node_id,
		n->remote_dev[0] ? n->remote_dev : "?", n->remote_port, mac,
		n->age_ms, n->dead_ms, n->caps);
	if (n->mtu)
		fprintf(f, " mtu %u", n->mtu);
	else
		fprintf(f, " mtu ?");
	if (n->family == AF_INET6) {
		char a[INET6_ADDRSTRLEN];

		fprintf(f, " udp %s", inet_ntop(AF_INET6, n->addr6, a, sizeof(a)));
	} else if (n->addr) {
		char a[INET_ADDRSTRLEN];

		fprintf(f, " udp %s", inet_ntop(AF_INET, &n->addr, a, sizeof(a)));
	}
}

/*
 * A QP on one line: "qp ml0/17 state RTS peer node 0x00000002 qpn 5 port 0
 * ... pid 812", then " status <text>" (the rest of the line, it may hold
 * spaces) when the QP is in error.
 */
static void text_qp(FILE *f, const struct ml_qp_info *q)
{
	fprintf(f, "qp %s/%u state %s peer node 0x%08x qpn %u port %u "
		"snd-psn %u snd-una %u rcv-psn %u outstanding %u "
		"retransmits %" PRIu64 " timeouts %" PRIu64 " rnr-naks %" PRIu64
		" seq-naks %" PRIu64 " pid %u paths %u failovers %" PRIu64
		" cwnd %u ssthresh %u reorder-nak %u",
		q->dev, q->qpn, qp_state_upper(q->state), q->remote_node, q->remote_qpn,
		q->port_index, q->snd_psn, q->snd_una, q->rcv_psn, q->outstanding,
		q->retransmits, q->timeouts, q->rnr_naks, q->seq_naks, q->owner_pid,
		q->num_paths, q->failovers, q->cwnd, q->ssthresh, q->reorder_nak);
	if (q->state == ML_QPS_ERROR)
		fprintf(f, " status %s", ml_wc_status_str(q->status));
}

/*
 * Counters in text: one line per group, the group's name first, then
 * "name value" pairs.  Counters this table does not know (newer than the
 * tool, but named by the library) go to an "other" line.
 */
static const struct counter_group {
	const char *label;
	unsigned char stats[12];	/* enum ml_stat, 0-terminated */
} counter_groups[] = {
	{ "frames", { ML_STAT_TX_FRAMES, ML_STAT_TX_BYTES, ML_STAT_TX_ERRORS,
		      ML_STAT_RX_FRAMES, ML_STAT_RX_BYTES } },
	{ "discovery", { ML_STAT_TX_HELLO, ML_STAT_RX_HELLO, ML_STAT_NEIGH_FOUND,
			 ML_STAT_NEIGH_LOST, ML_STAT_LINK_UP, ML_STAT_LINK_DOWN } },
	{ "drops", { ML_STAT_DROP_SHORT, ML_STAT_DROP_VERSION, ML_STAT_DROP_TYPE,
		     ML_STAT_DROP_LENGTH, ML_STAT_DROP_MALFORMED, ML_STAT_DROP_LOOP,
		     ML_STAT_DROP_NEIGH_FULL, ML_STAT_DROP_NOMEM, ML_STAT_RX_NOT_MINE } },
	{ "transport", { ML_STAT_RX_DATA, ML_STAT_TX_ACK, ML_STAT_RX_ACK,
			 ML_STAT_TX_NAK, ML_STAT_RX_NAK, ML_STAT_RETRANSMITS,
			 ML_STAT_TIMEOUTS, ML_STAT_RNR_NAKS, ML_STAT_DROP_CRC,
			 ML_STAT_DROP_NO_QP, ML_STAT_DROP_SEQ,
			 ML_STAT_TX_ZEROCOPY } },
	{ "udp", { ML_STAT_RX_ECN_CE, ML_STAT_ECN_CWND_CUTS,
		   ML_STAT_DROP_UDP_MALFORMED, ML_STAT_DROP_UDP_UNKNOWN } },
	{ "topology", { ML_STAT_TX_TOPO, ML_STAT_RX_TOPO, ML_STAT_TOPO_STALE,
			ML_STAT_DROP_TOPO_MALFORMED, ML_STAT_DROP_TOPO_SPOOF,
			ML_STAT_DROP_TOPO_FULL } },
};

#define N_GROUPS (sizeof(counter_groups) / sizeof(counter_groups[0]))

static int counter_grouped(unsigned int stat)
{
	unsigned int g, i;

	for (g = 0; g < N_GROUPS; g++)
		for (i = 0; counter_groups[g].stats[i]; i++)
			if (counter_groups[g].stats[i] == stat)
				return 1;
	return 0;
}

static void text_counters(FILE *f, const struct ml_port_stats *s)
{
	unsigned int g, i, other = 0;

	for (g = 0; g < N_GROUPS; g++) {
		const struct counter_group *grp = &counter_groups[g];

		fprintf(f, "    %-9s", grp->label);
		for (i = 0; grp->stats[i]; i++)
			fprintf(f, " %s %" PRIu64, ml_stat_name(grp->stats[i]),
				s->stats[grp->stats[i]]);
		fputc('\n', f);
	}
	for (i = 0; i < ML_LIB_STATS_SLOTS; i++) {
		const char *name = ml_stat_name(i);

		if (!name || counter_grouped(i))
			continue;
		if (!other++)
			fprintf(f, "    %-9s", "other");
		fprintf(f, " %s %" PRIu64, name, s->stats[i]);
	}
	if (other)
		fputc('\n', f);
}

/* ---- objects ---- */

void print_dev(struct out *out, const struct ml_dev_attr *d)
{
	if (out->o.json) {
		jw_begin_object(&out->jw);
		json_dev_fields(&out->jw, d);
		jw_end_object(&out->jw);
		return;
	}
	text_dev(out->f, d);
	fputc('\n', out->f);
	if (d->flags & ML_DEV_ATTR_F_OBJECTS)
		fprintf(out->f, "    objects ctx %u pd %u mr %u cq %u qp %u pinned %" PRIu64 "\n",
			d->num_ctx, d->num_pds, d->num_mrs, d->num_cqs, d->num_qps,
			d->pinned_pages);
}

void print_port(struct out *out, const struct ml_port_info *p, const struct ml_port_stats *s)
{
	if (out->o.json) {
		jw_begin_object(&out->jw);
		json_port_fields(&out->jw, p);
		if (s) {
			jw_key(&out->jw, "stats");
			jw_begin_object(&out->jw);
			json_counters(&out->jw, s);
			jw_end_object(&out->jw);
		}
		jw_end_object(&out->jw);
		return;
	}
	text_port(out->f, p);
	fputc('\n', out->f);
	if (s)
		text_counters(out->f, s);
}

void print_neigh(struct out *out, const struct ml_neigh_info *n)
{
	if (out->o.json) {
		jw_begin_object(&out->jw);
		json_neigh_fields(&out->jw, n);
		jw_end_object(&out->jw);
		return;
	}
	text_neigh(out->f, n);
	fputc('\n', out->f);
}

void print_stats(struct out *out, const struct ml_port_stats *s)
{
	if (out->o.json) {
		jw_begin_object(&out->jw);
		json_stats_fields(&out->jw, s);
		jw_end_object(&out->jw);
		return;
	}
	fprintf(out->f, "stats %s/%u ifname %s\n", s->dev, s->port_index, s->ifname);
	text_counters(out->f, s);
}

void print_qp(struct out *out, const struct ml_qp_info *q)
{
	if (out->o.json) {
		jw_begin_object(&out->jw);
		json_qp_fields(&out->jw, q);
		jw_end_object(&out->jw);
		return;
	}
	text_qp(out->f, q);
	fputc('\n', out->f);
}

void print_event(struct out *out, const struct ml_event *ev)
{
	const char *name = ml_event_name(ev->type);
	int port_ev = ev->type == ML_EV_PORT_UP || ev->type == ML_EV_PORT_DOWN;
	int neigh_ev = ev->type == ML_EV_NEIGH_FOUND || ev->type == ML_EV_NEIGH_LOST;
	int qp_ev = ev->type == ML_EV_QP_ERROR;
	int topo_link = ev->type == ML_EV_TOPO_LINK_UP || ev->type == ML_EV_TOPO_LINK_DOWN;
	int topo_ev = topo_link || ev->type == ML_EV_TOPO_NODE_JOIN ||
		      ev->type == ML_EV_TOPO_NODE_LEAVE;

	if (topo_ev && out->o.json) {
		struct jw *w = &out->jw;

		jw_begin_object(w);
		jw_kstr(w, "event", name);
		jw_kstr(w, "dev", ev->dev.name);
		jw_kuint(w, "dev_index", ev->dev.index);
		jw_kuint(w, "node_id", topo_link ? ev->neigh.origin : ev->neigh.node_id);
		if (topo_link) {
			jw_kuint(w, "local_port", ev->neigh.origin_port);
			jw_kuint(w, "remote_node_id", ev->neigh.node_id);
			jw_kuint(w, "remote_port", ev->neigh.remote_port);
			jw_kstr(w, "kind", ml_topo_link_kind_name(ev->neigh.kind));
			jw_kuint(w, "mtu", ev->neigh.mtu);
		}
		jw_end_object(w);
		jw_end_line(w);
		return;
	}
	if (topo_ev) {
		fprintf(out->f, "%s dev %s node 0x%08x", name, ev->dev.name,
			topo_link ? ev->neigh.origin : ev->neigh.node_id);
		if (topo_link)
			fprintf(out->f, " port %u -> node 0x%08x port %u %s mtu %u",
				ev->neigh.origin_port, ev->neigh.node_id,
				ev->neigh.remote_port,
				ml_topo_link_kind_name(ev->neigh.kind), ev->neigh.mtu);
		fputc('\n', out->f);
		return;
	}
	if (out->o.json) {
		struct jw *w = &out->jw;

		jw_begin_object(w);
		jw_kstr(w, "event", name);
		if (port_ev)
			json_port_fields(w, &ev->port);
		else if (neigh_ev)
			json_neigh_fields(w, &ev->neigh);
		else if (qp_ev)
			json_qp_fields(w, &ev->qp);
		else
			json_dev_fields(w, &ev->dev);
		if (!qp_ev)	/* a QP error says why in "status" */
			jw_kstr(w, "reason", ml_reason_name(ev->reason));
		jw_end_object(w);
		jw_end_line(w);
		return;
	}
	fprintf(out->f, "%s ", name);
	if (port_ev)
		text_port(out->f, &ev->port);
	else if (neigh_ev)
		text_neigh(out->f, &ev->neigh);
	else if (qp_ev)
		text_qp(out->f, &ev->qp);
	else
		text_dev(out->f, &ev->dev);
	if (port_ev)
		fprintf(out->f, " reason %s", ml_reason_name(ev->reason));
	fputc('\n', out->f);
}

/* ---- fetch and show ---- */

static int list_devs(struct ml_ctl *ctl, struct out *out, const char *dev)
{
	struct ml_dev_attr *d = NULL, one;
	size_t n = 0, i;
	int err;

	if (dev) {
		err = ml_ctl_dev_get(ctl, dev, &one);
		if (err < 0)
			return err;
		print_dev(out, &one);
		return 0;
	}
	err = ml_ctl_devices(ctl, &d, &n);
	if (err < 0)
		return err;
	for (i = 0; i < n; i++)
		print_dev(out, &d[i]);
	ml_free(d);
	return 0;
}

static const struct ml_port_stats *find_stats(const struct ml_port_stats *s, size_t n,
					      const struct ml_port_info *p)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (s[i].dev_index == p->dev_index && s[i].port_index == p->port_index)
			return &s[i];
	return NULL;
}

static int list_ports(struct ml_ctl *ctl, struct out *out, const char *dev)
{
	struct ml_port_stats *s = NULL;
	struct ml_port_info *p = NULL;
	size_t n = 0, ns = 0, i;
	int err;

	err = ml_ctl_ports(ctl, dev, &p, &n);
	if (err < 0)
		return err;
	if (out->o.stats) {
		err = ml_ctl_stats(ctl, dev, &s, &ns);
		if (err < 0) {
			ml_free(p);
			return err;
		}
	}
	for (i = 0; i < n; i++) {
		const struct ml_port_stats *st = NULL;
		static const struct ml_port_stats zero;

		if (out->o.stats) {
			st = find_stats(s, ns, &p[i]);
			if (!st)
				st = &zero;
		}
		print_port(out, &p[i], st);
	}
	ml_free(p);
	ml_free(s);
	return 0;
}

static int list_neighs(struct ml_ctl *ctl, struct out *out, const char *dev)
{
	struct ml_neigh_info *nb = NULL;
	size_t n = 0, i;
	int err;

	err = ml_ctl_neighbours(ctl, dev, &nb, &n);
	if (err < 0)
		return err;
	for (i = 0; i < n; i++)
		print_neigh(out, &nb[i]);
	ml_free(nb);
	return 0;
}

static int list_stats(struct ml_ctl *ctl, struct out *out, const char *dev)
{
	struct ml_port_stats *s = NULL;
	size_t n = 0, i;
	int err;

	err = ml_ctl_stats(ctl, dev, &s, &n);
	if (err < 0)
		return err;
	for (i = 0; i < n; i++)
		print_stats(out, &s[i]);
	ml_free(s);
	return 0;
}

/* A QP and its paths: JSON "paths": [...] in the QP, text one line each. */
static void print_qp_paths(struct out *out, const struct ml_qp_info *q,
			   const struct ml_path_info *p, size_t np)
{
	size_t i;

	if (!out->o.json) {
		print_qp(out, q);
		for (i = 0; i < np; i++)
			if (p[i].dev_index == q->dev_index && p[i].qpn == q->qpn)
				text_path(out->f, &p[i]);
		return;
	}
	jw_begin_object(&out->jw);
	json_qp_fields(&out->jw, q);
	jw_key(&out->jw, "paths");
	jw_begin_array(&out->jw);
	for (i = 0; i < np; i++) {
		if (p[i].dev_index != q->dev_index || p[i].qpn != q->qpn)
			continue;
		jw_begin_object(&out->jw);
		json_path_fields(&out->jw, &p[i]);
		jw_end_object(&out->jw);
	}
	jw_end_array(&out->jw);
	jw_end_object(&out->jw);
}

static int list_qps(struct ml_ctl *ctl, struct out *out, const char *dev)
{
	struct ml_path_info *p = NULL;
	struct ml_qp_info *q = NULL;
	size_t n = 0, np = 0, i;
	int err;

	err = ml_ctl_qps(ctl, dev, &q, &n);
	if (err < 0)
		return err;
	/* A second dump: a QP made in between simply shows no paths. */
	if (ml_ctl_paths(ctl, dev, &p, &np) < 0) {
		p = NULL;
		np = 0;
	}
	for (i = 0; i < n; i++)
		print_qp_paths(out, &q[i], p, np);
	ml_free(p);
	ml_free(q);
	return 0;
}

/* In the summary: a kernel without ML_CMD_QP_GET simply has no QPs. */
static int list_qps_opt(struct ml_ctl *ctl, struct out *out, const char *dev)
{
	int err = list_qps(ctl, out, dev);

	return err == -EOPNOTSUPP ? 0 : err;
}

/*
 * JSON is built in memory and written only on success, so that a failure
 * never leaves half a document on stdout (only the error line on stderr).
 */
struct held {
	FILE *real;
	FILE *mem;
	char *buf;
	size_t len;
};

static int hold_begin(struct out *out, struct held *h)
{
	h->real = out->f;
	h->buf = NULL;
	h->len = 0;
	h->mem = open_memstream(&h->buf, &h->len);
	if (!h->mem)
		return -ENOMEM;
	out->f = out->jw.f = h->mem;
	return 0;
}

static void hold_end(struct out *out, struct held *h, int ok)
{
	fclose(h->mem);
	out->f = out->jw.f = h->real;
	if (ok && h->buf)
		fwrite(h->buf, 1, h->len, h->real);
	free(h->buf);
}

static int wrap_array(struct ml_ctl *ctl, struct out *out, const char *dev,
		      int (*list)(struct ml_ctl *, struct out *, const char *))
{
	struct held h;
	int err;

	if (!out->o.json)
		return list(ctl, out, dev);
	if (hold_begin(out, &h) < 0)
		return list(ctl, out, dev);
	jw_begin_array(&out->jw);
	err = list(ctl, out, dev);
	jw_end_array(&out->jw);
	jw_end_line(&out->jw);
	hold_end(out, &h, err == 0);
	return err;
}

int show_devs(struct ml_ctl *ctl, struct out *out, const char *dev)
{
	return wrap_array(ctl, out, dev, list_devs);
}

int show_ports(struct ml_ctl *ctl, struct out *out, const char *dev)
{
	return wrap_array(ctl, out, dev, list_ports);
}

int show_neighs(struct ml_ctl *ctl, struct out *out, const char *dev)
{
	return wrap_array(ctl, out, dev, list_neighs);
}

int show_stats(struct ml_ctl *ctl, struct out *out, const char *dev)
{
	return wrap_array(ctl, out, dev, list_stats);
}

int show_qps(struct ml_ctl *ctl, struct out *out, const char *dev)
{
	return wrap_array(ctl, out, dev, list_qps);
}

/*
 * "peer ml0 addr 10.0.2.1 [local 10.0.1.1] udp-port 4793" (or addr
 * fd00::7) or JSON, with "family": "inet" or "inet6".
 */
static int list_peers(struct ml_ctl *ctl, struct out *out, const char *dev)
{
	char a[INET6_ADDRSTRLEN], l[INET6_ADDRSTRLEN];
	static const uint8_t zero[16];
	struct ml_peer_entry *p = NULL;
	size_t n = 0, i;
	int err, local;

	err = ml_ctl_peer_list(ctl, dev, &p, &n);
	if (err < 0)
		return err;
	for (i = 0; i < n; i++) {
		inet_ntop(p[i].family, p[i].addr, a, sizeof(a));
		inet_ntop(p[i].family, p[i].local, l, sizeof(l));
		local = memcmp(p[i].local, zero, sizeof(zero)) != 0;
		if (out->o.json) {
			jw_begin_object(&out->jw);
			jw_kstr(&out->jw, "dev", p[i].dev);
			jw_kstr(&out->jw, "family",
				p[i].family == AF_INET6 ? "inet6" : "inet");
			jw_kstr(&out->jw, "addr", a);
			if (local)
				jw_kstr(&out->jw, "local", l);
			jw_kuint(&out->jw, "udp_port", p[i].udp_port);
			jw_end_object(&out->jw);
		} else {
			fprintf(out->f, "peer %s addr %s", p[i].dev, a);
			if (local)
				fprintf(out->f, " local %s", l);
			fprintf(out->f, " udp-port %u\n", p[i].udp_port);
		}
	}
	ml_free(p);
	return 0;
}

int show_peers(struct ml_ctl *ctl, struct out *out, const char *dev)
{
	return wrap_array(ctl, out, dev, list_peers);
}

int show_all(struct ml_ctl *ctl, struct out *out, const char *dev)
{
	static const struct {
		const char *key;
		int (*list)(struct ml_ctl *, struct out *, const char *);
	} sec[] = {
		{ "devices", list_devs },
		{ "ports", list_ports },
		{ "neighbours", list_neighs },
		{ "stats", list_stats },
		{ "qps", list_qps_opt },
	};
	struct out_opts saved = out->o;
	int err = 0, held = 0;
	unsigned int i;
	struct held h;

	/* the stats section already has the counters */
	out->o.stats = 0;
	if (out->o.json) {
		held = hold_begin(out, &h) == 0;
		jw_begin_object(&out->jw);
	}
	for (i = 0; i < sizeof(sec) / sizeof(sec[0]) && !err; i++) {
		if (out->o.json) {
			jw_key(&out->jw, sec[i].key);
			jw_begin_array(&out->jw);
		}
		err = sec[i].list(ctl, out, dev);
		if (out->o.json)
			jw_end_array(&out->jw);
	}
	if (out->o.json) {
		jw_end_object(&out->jw);
		jw_end_line(&out->jw);
		if (held)
			hold_end(out, &h, err == 0);
	}
	out->o = saved;
	return err;
}
