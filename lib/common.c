// SPDX-License-Identifier: MIT
/*
 * libmegalink: error reporting, name tables, parsing helpers and the
 * extended-ack parser.  No netlink socket is used here, so all of it is
 * unit-testable on a host without the module.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/netlink.h>
#include <linux/genetlink.h>

#include "internal.h"

#ifndef ML_VERSION
#define ML_VERSION "0.0.0"
#endif

/* The only state that outlives a call: the detail of the last failure. */
static __thread char ml_errbuf[512];

ML_EXPORT const char *ml_last_error(void)
{
	return ml_errbuf;
}

ML_EXPORT const char *ml_version(void)
{
	return ML_VERSION;
}

ML_EXPORT void ml_free(void *p)
{
	free(p);
}

void ml__clear_error(void)
{
	ml_errbuf[0] = '\0';
}

ML_EXPORT const char *ml_strerror(int err)
{
	const char *s;

	if (err < 0)
		err = -err;
	if (err == 0)
		return "Success";
	s = strerrordesc_np(err);
	return s ? s : "Unknown error";
}

int ml__fail(int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(ml_errbuf, sizeof(ml_errbuf), fmt, ap);
	va_end(ap);
	return err;
}

void ml__format_extack(char *buf, size_t size, int err, const char *what,
		       const struct ml_extack *ex)
{
	const char *name;
	size_t off;
	int r;

	r = snprintf(buf, size, "%s: %s", what,
		     ex && ex->msg[0] ? ex->msg : ml_strerror(err));
	if (r < 0 || (size_t)r >= size || !ex)
		return;
	off = (size_t)r;
	if (ex->bad_attr >= 0) {
		name = ml_attr_name((unsigned int)ex->bad_attr);
		if (name)
			snprintf(buf + off, size - off, " (attribute %s)", name);
		else
			snprintf(buf + off, size - off, " (attribute %d)", ex->bad_attr);
	} else if (ex->has_miss_type) {
		name = ml_attr_name(ex->miss_type);
		if (name)
			snprintf(buf + off, size - off, " (missing attribute %s)", name);
		else
			snprintf(buf + off, size - off, " (missing attribute %u)",
				 ex->miss_type);
	}
}

int ml__fail_extack(int err, const char *what, const struct ml_extack *ex)
{
	ml__format_extack(ml_errbuf, sizeof(ml_errbuf), err, what, ex);
	return err;
}

/* ------------------------------------------------------------------ */

static const char *const stat_names[] = {
	[ML_STAT_TX_FRAMES]		= "tx_frames",
	[ML_STAT_TX_BYTES]		= "tx_bytes",
	[ML_STAT_TX_ERRORS]		= "tx_errors",
	[ML_STAT_RX_FRAMES]		= "rx_frames",
	[ML_STAT_RX_BYTES]		= "rx_bytes",
	[ML_STAT_TX_HELLO]		= "tx_hello",
	[ML_STAT_RX_HELLO]		= "rx_hello",
	[ML_STAT_NEIGH_FOUND]		= "neigh_found",
	[ML_STAT_NEIGH_LOST]		= "neigh_lost",
	[ML_STAT_LINK_UP]		= "link_up",
	[ML_STAT_LINK_DOWN]		= "link_down",
	[ML_STAT_DROP_SHORT]		= "drop_short",
	[ML_STAT_DROP_VERSION]		= "drop_version",
	[ML_STAT_DROP_TYPE]		= "drop_type",
	[ML_STAT_DROP_LENGTH]		= "drop_length",
	[ML_STAT_DROP_MALFORMED]	= "drop_malformed",
	[ML_STAT_DROP_LOOP]		= "drop_loop",
	[ML_STAT_DROP_NEIGH_FULL]	= "drop_neigh_full",
	[ML_STAT_DROP_NOMEM]		= "drop_nomem",
	[ML_STAT_RX_NOT_MINE]		= "rx_not_mine",
	[ML_STAT_RX_DATA]		= "rx_data",
	[ML_STAT_TX_ACK]		= "tx_ack",
	[ML_STAT_RX_ACK]		= "rx_ack",
	[ML_STAT_TX_NAK]		= "tx_nak",
	[ML_STAT_RX_NAK]		= "rx_nak",
	[ML_STAT_RETRANSMITS]		= "retransmits",
	[ML_STAT_TIMEOUTS]		= "timeouts",
	[ML_STAT_RNR_NAKS]		= "rnr_naks",
	[ML_STAT_DROP_CRC]		= "drop_crc",
	[ML_STAT_DROP_NO_QP]		= "drop_no_qp",
	[ML_STAT_DROP_SEQ]		= "drop_seq",
	[ML_STAT_TX_ZEROCOPY]		= "tx_zerocopy",
	[ML_STAT_RX_ECN_CE]		= "rx_ecn_ce",
	[ML_STAT_ECN_CWND_CUTS]		= "ecn_cwnd_cuts",
	[ML_STAT_DROP_UDP_MALFORMED]	= "drop_udp_malformed",
	[ML_STAT_DROP_UDP_UNKNOWN]	= "drop_udp_unknown",
	[ML_STAT_TX_TOPO]		= "tx_topo",
	[ML_STAT_RX_TOPO]		= "rx_topo",
	[ML_STAT_TOPO_STALE]		= "topo_stale",
	[ML_STAT_DROP_TOPO_MALFORMED]	= "drop_topo_malformed",
	[ML_STAT_DROP_TOPO_SPOOF]	= "drop_topo_spoof",
	[ML_STAT_DROP_TOPO_FULL]	= "drop_topo_full",
};

_Static_assert(sizeof(stat_names) / sizeof(stat_names[0]) == ML_STAT_MAX + 1,
	       "stat_names must name every enum ml_stat value");
_Static_assert(ML_STAT_MAX < ML_LIB_STATS_SLOTS, "ML_LIB_STATS_SLOTS too small");

ML_EXPORT const char *ml_stat_name(unsigned int stat)
{
	if (stat >= sizeof(stat_names) / sizeof(stat_names[0]))
		return NULL;
	return stat_names[stat];
}

static const char *const attr_names[] = {
	[ML_A_PAD]		= "pad",
	[ML_A_DEV_INDEX]	= "dev-index",
	[ML_A_DEV_NAME]		= "dev-name",
	[ML_A_NODE_ID]		= "node-id",
	[ML_A_HELLO_MS]		= "hello-ms",
	[ML_A_DEAD_MS]		= "dead-ms",
	[ML_A_CAPS]		= "caps",
	[ML_A_ABI_VERSION]	= "abi-version",
	[ML_A_ETHERTYPE]	= "ethertype",
	[ML_A_NUM_PORTS]	= "num-ports",
	[ML_A_PORT_INDEX]	= "port-index",
	[ML_A_IFINDEX]		= "ifindex",
	[ML_A_IFNAME]		= "ifname",
	[ML_A_MAC]		= "mac",
	[ML_A_MTU]		= "mtu",
	[ML_A_CARRIER]		= "carrier",
	[ML_A_LINK_STATE]	= "link-state",
	[ML_A_NUM_NEIGH]	= "num-neigh",
	[ML_A_NEIGH_NODE_ID]	= "neigh-node-id",
	[ML_A_NEIGH_PORT_INDEX]	= "neigh-port-index",
	[ML_A_NEIGH_MAC]	= "neigh-mac",
	[ML_A_NEIGH_DEV_NAME]	= "neigh-dev-name",
	[ML_A_NEIGH_CAPS]	= "neigh-caps",
	[ML_A_NEIGH_AGE_MS]	= "neigh-age-ms",
	[ML_A_NEIGH_DEAD_MS]	= "neigh-dead-ms",
	[ML_A_STATS]		= "stats",
	[ML_A_REASON]		= "reason",
	[ML_A_NUM_CTX]		= "num-ctx",
	[ML_A_NUM_PDS]		= "num-pds",
	[ML_A_NUM_MRS]		= "num-mrs",
	[ML_A_NUM_CQS]		= "num-cqs",
	[ML_A_NUM_QPS]		= "num-qps",
	[ML_A_PINNED_PAGES]	= "pinned-pages",
	[ML_A_QPN]		= "qpn",
	[ML_A_QP_STATE]		= "qp-state",
	[ML_A_QP_STATUS]	= "qp-status",
	[ML_A_REMOTE_NODE]	= "remote-node",
	[ML_A_REMOTE_QPN]	= "remote-qpn",
	[ML_A_SND_PSN]		= "snd-psn",
	[ML_A_SND_UNA]		= "snd-una",
	[ML_A_RCV_PSN]		= "rcv-psn",
	[ML_A_OUTSTANDING]	= "outstanding",
	[ML_A_RETRANSMITS]	= "retransmits",
	[ML_A_TIMEOUTS]		= "timeouts",
	[ML_A_RNR_NAKS]		= "rnr-naks",
	[ML_A_SEQ_NAKS]		= "seq-naks",
	[ML_A_OWNER_PID]	= "owner-pid",
	[ML_A_NEIGH_MTU]	= "neigh-mtu",
	[ML_A_PEER_ADDR]	= "peer-addr",
	[ML_A_PEER_LOCAL]	= "peer-local",
	[ML_A_NEIGH_ADDR]	= "neigh-addr",
	[ML_A_UDP_PORT]		= "udp-port",
	[ML_A_PEER_ADDR6]	= "peer-addr6",
	[ML_A_PEER_LOCAL6]	= "peer-local6",
	[ML_A_NEIGH_ADDR6]	= "neigh-addr6",
	[ML_A_TOPO_NODE_ID]	= "topo-node-id",
	[ML_A_TOPO_SEQ]		= "topo-seq",
	[ML_A_TOPO_AGE_MS]	= "topo-age-ms",
	[ML_A_TOPO_LIFETIME_MS]	= "topo-lifetime-ms",
	[ML_A_TOPO_FLAGS]	= "topo-flags",
	[ML_A_TOPO_LINK]	= "topo-link",
	[ML_A_TOPO_EVENT]	= "topo-event",
	[ML_A_TOPO_NUM_LINKS]	= "topo-num-links",
	[ML_A_NUM_PATHS]	= "num-paths",
	[ML_A_FAILOVERS]	= "failovers",
	[ML_A_PATH]		= "path",
	[ML_A_CWND]		= "cwnd",
	[ML_A_SSTHRESH]		= "ssthresh",
	[ML_A_REORDER_NAK]	= "reorder-nak",
};

_Static_assert(sizeof(attr_names) / sizeof(attr_names[0]) == ML_A_MAX + 1,
	       "attr_names must name every enum ml_attr value");

ML_EXPORT const char *ml_attr_name(unsigned int attr)
{
	if (attr >= sizeof(attr_names) / sizeof(attr_names[0]))
		return NULL;
	return attr_names[attr];
}

ML_EXPORT const char *ml_link_state_name(unsigned int state)
{
	switch (state) {
	case ML_LINK_DOWN:	return "down";
	case ML_LINK_UP:	return "up";
	}
	return "unknown";
}

ML_EXPORT const char *ml_reason_name(unsigned int reason)
{
	switch (reason) {
	case ML_REASON_NONE:	return "none";
	case ML_REASON_CARRIER:	return "carrier";
	case ML_REASON_NEIGH:	return "neigh";
	case ML_REASON_UNBIND:	return "unbind";
	}
	return "unknown";
}

ML_EXPORT const char *ml_event_name(unsigned int type)
{
	switch (type) {
	case ML_EV_DEV_NEW:	return "dev_new";
	case ML_EV_DEV_DEL:	return "dev_del";
	case ML_EV_PORT_UP:	return "port_up";
	case ML_EV_PORT_DOWN:	return "port_down";
	case ML_EV_NEIGH_FOUND:	return "neigh_found";
	case ML_EV_NEIGH_LOST:	return "neigh_lost";
	case ML_EV_QP_ERROR:	return "qp_error";
	case ML_EV_TOPO_NODE_JOIN:	return "topo_node_join";
	case ML_EV_TOPO_NODE_LEAVE:	return "topo_node_leave";
	case ML_EV_TOPO_LINK_UP:	return "topo_link_up";
	case ML_EV_TOPO_LINK_DOWN:	return "topo_link_down";
	}
	return "unknown";
}

ML_EXPORT const char *ml_topo_link_kind_name(unsigned int kind)
{
	switch (kind) {
	case ML_TOPO_LINK_ETH:	return "ethernet";
	case ML_TOPO_LINK_UDP:	return "udp";
	}
	return "unknown";
}

/* ------------------------------------------------------------------ */

ML_EXPORT int ml_parse_u32(const char *s, uint32_t *out)
{
	unsigned long long v = 0;
	int base = 10, digits = 0;
	const char *p = s;

	if (!s || !out)
		return ml__fail(-EINVAL, "parse number: no string");
	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
		base = 16;
		p += 2;
	}
	for (; *p; p++) {
		int d;

		if (*p >= '0' && *p <= '9')
			d = *p - '0';
		else if (base == 16 && *p >= 'a' && *p <= 'f')
			d = *p - 'a' + 10;
		else if (base == 16 && *p >= 'A' && *p <= 'F')
			d = *p - 'A' + 10;
		else
			return ml__fail(-EINVAL, "\"%s\" is not a number (decimal or 0x hex)", s);
		v = v * base + d;
		if (v > UINT32_MAX)
			return ml__fail(-ERANGE, "\"%s\" is larger than 32 bits", s);
		digits++;
	}
	if (!digits)
		return ml__fail(-EINVAL, "\"%s\" is not a number (decimal or 0x hex)", s);
	*out = (uint32_t)v;
	return 0;
}

ML_EXPORT int ml_parse_node_id(const char *s, uint32_t *out)
{
	uint32_t v;
	int err;

	err = ml_parse_u32(s, &v);
	if (err == -EINVAL)
		return ml__fail(err, "node id \"%s\": not a number (decimal or 0x hex)",
				s ? s : "");
	if (err == -ERANGE || (!err && (v < ML_NODE_ID_MIN || v > ML_NODE_ID_MAX)))
		return ml__fail(-ERANGE, "node id \"%s\": out of range 0x%08x..0x%08x",
				s, ML_NODE_ID_MIN, ML_NODE_ID_MAX);
	*out = v;
	return 0;
}

/* ------------------------------------------------------------------ */

void *ml__vec_push(struct ml_vec *v)
{
	void *slot;

	if (v->n == v->cap) {
		size_t cap = v->cap ? v->cap * 2 : 8;
		void *d = realloc(v->data, cap * v->elem);

		if (!d)
			return NULL;
		v->data = d;
		v->cap = cap;
	}
	slot = (char *)v->data + v->n * v->elem;
	memset(slot, 0, v->elem);
	v->n++;
	return slot;
}

/* ------------------------------------------------------------------ */

int ml__attr_at_offset(const void *req, size_t req_len, uint32_t offs)
{
	const char *base = req;
	size_t pos = NLMSG_HDRLEN + GENL_HDRLEN;

	if (!req || req_len < pos || offs < pos || offs >= req_len)
		return -1;
	while (pos + NLA_HDRLEN <= req_len) {
		const struct nlattr *nla = (const void *)(base + pos);
		size_t alen = nla->nla_len;

		if (alen < NLA_HDRLEN || pos + alen > req_len)
			return -1;
		if (offs >= pos && offs < pos + NLA_ALIGN(alen))
			return nla->nla_type & NLA_TYPE_MASK;
		pos += NLA_ALIGN(alen);
	}
	return -1;
}

int ml__extack_parse(const struct nlmsghdr *nlh, size_t len,
		     const void *req, size_t req_len, struct ml_extack *ex)
{
	const char *base = (const char *)nlh;
	size_t pos, end;

	memset(ex, 0, sizeof(*ex));
	ex->bad_attr = -1;
	if (len < NLMSG_HDRLEN || nlh->nlmsg_len < NLMSG_HDRLEN ||
	    nlh->nlmsg_len > len)
		return -EINVAL;
	end = nlh->nlmsg_len;

	if (nlh->nlmsg_type == NLMSG_ERROR) {
		const struct nlmsgerr *e = (const void *)(base + NLMSG_HDRLEN);

		if (end < NLMSG_HDRLEN + sizeof(*e))
			return -EINVAL;
		ex->error = e->error;
		pos = NLMSG_HDRLEN + sizeof(*e);
		if (!(nlh->nlmsg_flags & NLM_F_CAPPED)) {
			if (e->msg.nlmsg_len < NLMSG_HDRLEN)
				return -EINVAL;
			pos += e->msg.nlmsg_len - NLMSG_HDRLEN;
		}
	} else if (nlh->nlmsg_type == NLMSG_DONE) {
		int v = 0;

		if (end >= NLMSG_HDRLEN + sizeof(int))
			memcpy(&v, base + NLMSG_HDRLEN, sizeof(v));
		ex->error = v;
		pos = NLMSG_HDRLEN + sizeof(int);
	} else {
		return -EINVAL;
	}
	pos = NLMSG_ALIGN(pos);

	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS))
		return 0;

	while (pos + NLA_HDRLEN <= end) {
		const struct nlattr *nla = (const void *)(base + pos);
		const char *data = base + pos + NLA_HDRLEN;
		size_t alen = nla->nla_len, dlen;

		if (alen < NLA_HDRLEN || pos + alen > end)
			return -EINVAL;
		dlen = alen - NLA_HDRLEN;
		switch (nla->nla_type & NLA_TYPE_MASK) {
		case NLMSGERR_ATTR_MSG: {
			size_t n = strnlen(data, dlen);

			if (n >= sizeof(ex->msg))
				n = sizeof(ex->msg) - 1;
			memcpy(ex->msg, data, n);
			ex->msg[n] = '\0';
			break;
		}
		case NLMSGERR_ATTR_OFFS:
			if (dlen >= 4) {
				memcpy(&ex->offs, data, 4);
				ex->has_offs = 1;
			}
			break;
		case NLMSGERR_ATTR_MISS_TYPE:
			if (dlen >= 4) {
				memcpy(&ex->miss_type, data, 4);
				ex->has_miss_type = 1;
			}
			break;
		default:
			break;
		}
		pos += NLA_ALIGN(alen);
	}
	if (ex->has_offs)
		ex->bad_attr = ml__attr_at_offset(req, req_len, ex->offs);
	return 0;
}
