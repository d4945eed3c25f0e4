// SPDX-License-Identifier: MIT
/*
 * libmegalink: control plane over the "megalink" generic netlink family.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netlink/netlink.h>
#include <netlink/genl/genl.h>

#include "internal.h"

struct ml_ctl {
	struct nl_sock *sk;
	struct nl_cb *cb;
	struct ml_family fam;
};

ML_EXPORT int ml_ctl_open(struct ml_ctl **out)
{
	struct ml_ctl *ctl;
	int err;

	if (!out)
		return ml__fail(-EINVAL, "ctl open: out pointer is NULL");
	*out = NULL;
	ctl = calloc(1, sizeof(*ctl));
	if (!ctl)
		return ml__fail(-ENOMEM, "ctl open: out of memory");
	err = ml__genl_socket(&ctl->sk, &ctl->cb, "ctl open");
	if (err < 0) {
		free(ctl);
		return err;
	}
	err = ml__resolve_family(ctl->sk, ctl->cb, &ctl->fam, "ctl open");
	if (err < 0) {
		ml_ctl_close(ctl);
		return err;
	}
	*out = ctl;
	return 0;
}

ML_EXPORT void ml_ctl_close(struct ml_ctl *ctl)
{
	if (!ctl)
		return;
	nl_cb_put(ctl->cb);
	nl_socket_free(ctl->sk);
	free(ctl);
}

ML_EXPORT uint32_t ml_ctl_family_version(const struct ml_ctl *ctl)
{
	return ctl ? ctl->fam.version : 0;
}

static struct nl_msg *req_new(struct ml_ctl *ctl, uint8_t cmd, int flags)
{
	struct nl_msg *msg = nlmsg_alloc();

	if (!msg)
		return NULL;
	if (!genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, ctl->fam.id, 0, flags,
			 cmd, ML_GENL_VERSION)) {
		nlmsg_free(msg);
		return NULL;
	}
	return msg;
}

/* ---- dumps ---- */

struct collect {
	struct ml_vec v;
	int (*fill)(struct nlattr **tb, void *obj);
};

static int collect_one(struct nlmsghdr *nlh, void *arg)
{
	struct nlattr *tb[ML_A_MAX + 1];
	struct collect *c = arg;
	void *slot;

	if (genlmsg_parse(nlh, 0, tb, ML_A_MAX, NULL) < 0)
		return -EPROTO;
	slot = ml__vec_push(&c->v);
	if (!slot)
		return -ENOMEM;
	return c->fill(tb, slot);
}

static int fill_dev(struct nlattr **tb, void *o)   { ml__fill_dev(tb, o);   return 0; }
static int fill_port(struct nlattr **tb, void *o)  { ml__fill_port(tb, o);  return 0; }
static int fill_neigh(struct nlattr **tb, void *o) { ml__fill_neigh(tb, o); return 0; }
static int fill_stats(struct nlattr **tb, void *o) { ml__fill_stats(tb, o); return 0; }
static int fill_qp(struct nlattr **tb, void *o)    { ml__fill_qp(tb, o);    return 0; }
static int fill_peer(struct nlattr **tb, void *o)  { ml__fill_peer(tb, o);  return 0; }
static int fill_peer_entry(struct nlattr **tb, void *o) { ml__fill_peer_entry(tb, o); return 0; }

static int dump(struct ml_ctl *ctl, uint8_t cmd, const char *dev, size_t elem,
		int (*fill)(struct nlattr **, void *), void **out, size_t *n,
		const char *what)
{
	struct collect c = { .v = { .elem = elem }, .fill = fill };
	char desc[96];
	struct nl_msg *msg;
	int err;

	snprintf(desc, sizeof(desc), "%s%s%s", what, dev ? " " : "", dev ? dev : "");
	if (!ctl || !out || !n)
		return ml__fail(-EINVAL, "%s: NULL %s", desc, ctl ? "output pointer" : "handle");
	*out = NULL;
	*n = 0;
	msg = req_new(ctl, cmd, NLM_F_DUMP);
	if (!msg || (dev && nla_put_string(msg, ML_A_DEV_NAME, dev) < 0)) {
		nlmsg_free(msg);
		return ml__fail(-ENOMEM, "%s: out of memory", desc);
	}
	err = ml__transact(ctl->sk, ctl->cb, msg, collect_one, &c, desc);
	if (err < 0) {
		free(c.v.data);
		return err;
	}
	*out = c.v.data;
	*n = c.v.n;
	return (int)c.v.n;
}

ML_EXPORT int ml_ctl_devices(struct ml_ctl *ctl, struct ml_dev_attr **out, size_t *n)
{
	return dump(ctl, ML_CMD_DEV_GET, NULL, sizeof(**out), fill_dev,
		    (void **)out, n, "dev show");
}

ML_EXPORT int ml_ctl_ports(struct ml_ctl *ctl, const char *dev,
			   struct ml_port_info **out, size_t *n)
{
	return dump(ctl, ML_CMD_PORT_GET, dev, sizeof(**out), fill_port,
		    (void **)out, n, "port show");
}

ML_EXPORT int ml_ctl_neighbours(struct ml_ctl *ctl, const char *dev,
				struct ml_neigh_info **out, size_t *n)
{
	return dump(ctl, ML_CMD_NEIGH_GET, dev, sizeof(**out), fill_neigh,
		    (void **)out, n, "neigh show");
}

ML_EXPORT int ml_ctl_stats(struct ml_ctl *ctl, const char *dev,
			   struct ml_port_stats **out, size_t *n)
{
	return dump(ctl, ML_CMD_STATS_GET, dev, sizeof(**out), fill_stats,
		    (void **)out, n, "stats show");
}

ML_EXPORT int ml_ctl_qps(struct ml_ctl *ctl, const char *dev,
			 struct ml_qp_info **out, size_t *n)
{
	return dump(ctl, ML_CMD_QP_GET, dev, sizeof(**out), fill_qp,
		    (void **)out, n, "qp show");
}

/* Every ML_A_PATH nest of every QP message: one entry each. */
static int collect_paths(struct nlmsghdr *nlh, void *arg)
{
	struct nlattr *tb[ML_A_MAX + 1], *a;
	struct collect *c = arg;
	struct genlmsghdr *g = nlmsg_data(nlh);
	void *slot;
	int rem, err;

	if (genlmsg_parse(nlh, 0, tb, ML_A_MAX, NULL) < 0)
		return -EPROTO;
	nla_for_each_attr(a, genlmsg_attrdata(g, 0), genlmsg_attrlen(g, 0), rem) {
		if (nla_type(a) != ML_A_PATH)
			continue;
		slot = ml__vec_push(&c->v);
		if (!slot)
			return -ENOMEM;
		err = ml__fill_path(tb, a, slot);
		if (err)
			return err;
	}
	return 0;
}

ML_EXPORT int ml_ctl_paths(struct ml_ctl *ctl, const char *dev,
			   struct ml_path_info **out, size_t *n)
{
	struct collect c = { .v = { .elem = sizeof(**out) } };
	char desc[96];
	struct nl_msg *msg;
	int err;

	snprintf(desc, sizeof(desc), "qp paths%s%s", dev ? " " : "", dev ? dev : "");
	if (!ctl || !out || !n)
		return ml__fail(-EINVAL, "%s: NULL %s", desc, ctl ? "output pointer" : "handle");
	*out = NULL;
	*n = 0;
	msg = req_new(ctl, ML_CMD_QP_GET, NLM_F_DUMP);
	if (!msg || (dev && nla_put_string(msg, ML_A_DEV_NAME, dev) < 0)) {
		nlmsg_free(msg);
		return ml__fail(-ENOMEM, "%s: out of memory", desc);
	}
	err = ml__transact(ctl->sk, ctl->cb, msg, collect_paths, &c, desc);
	if (err < 0) {
		free(c.v.data);
		return err;
	}
	*out = c.v.data;
	*n = c.v.n;
	return (int)c.v.n;
}

/* ---- single objects ---- */

struct one {
	int got;
	int (*fill)(struct nlattr **tb, void *obj);
	void *obj;
};

static int take_one(struct nlmsghdr *nlh, void *arg)
{
	struct nlattr *tb[ML_A_MAX + 1];
	struct one *o = arg;

	if (o->got++ || !o->obj)
		return 0;
	if (genlmsg_parse(nlh, 0, tb, ML_A_MAX, NULL) < 0)
		return -EPROTO;
	return o->fill(tb, o->obj);
}

static int doit(struct ml_ctl *ctl, struct nl_msg *msg, int (*fill)(struct nlattr **, void *),
		void *obj, const char *desc)
{
	struct one o = { .fill = fill, .obj = obj };

	return ml__transact(ctl->sk, ctl->cb, msg, take_one, &o, desc);
}

static int get_by(struct ml_ctl *ctl, uint8_t cmd, int attr, const char *name,
		  int (*fill)(struct nlattr **, void *), void *out, size_t size,
		  const char *what)
{
	struct nl_msg *msg;
	char desc[96];

	snprintf(desc, sizeof(desc), "%s %s", what, name ? name : "(null)");
	if (!ctl || !name || !out)
		return ml__fail(-EINVAL, "%s: NULL %s", desc,
				!ctl ? "handle" : !name ? "name" : "output pointer");
	memset(out, 0, size);
	msg = req_new(ctl, cmd, 0);
	if (!msg || nla_put_string(msg, attr, name) < 0) {
		nlmsg_free(msg);
		return ml__fail(-ENOMEM, "%s: out of memory", desc);
	}
	return doit(ctl, msg, fill, out, desc);
}

ML_EXPORT int ml_ctl_dev_get(struct ml_ctl *ctl, const char *dev, struct ml_dev_attr *out)
{
	return get_by(ctl, ML_CMD_DEV_GET, ML_A_DEV_NAME, dev, fill_dev, out,
		      sizeof(*out), "dev show");
}

ML_EXPORT int ml_ctl_port_get(struct ml_ctl *ctl, const char *ifname,
			      struct ml_port_info *out)
{
	return get_by(ctl, ML_CMD_PORT_GET, ML_A_IFNAME, ifname, fill_port, out,
		      sizeof(*out), "port show");
}

ML_EXPORT int ml_ctl_port_stats(struct ml_ctl *ctl, const char *ifname,
				struct ml_port_stats *out)
{
	return get_by(ctl, ML_CMD_STATS_GET, ML_A_IFNAME, ifname, fill_stats, out,
		      sizeof(*out), "stats show");
}

/* ---- admin ---- */

static int put_opt(struct nl_msg *msg, int attr, uint32_t v, uint32_t force, uint32_t bit)
{
	if (!v && !(force & bit))
		return 0;
	return nla_put_u32(msg, attr, v);
}

static int bind_common(struct ml_ctl *ctl, const char *ifname, uint32_t ifindex,
		       const struct ml_bind_opts *opts, struct ml_port_info *out)
{
	struct nl_msg *msg;
	char desc[96];
	int err = 0;

	if (ifname)
		snprintf(desc, sizeof(desc), "port bind %s", ifname);
	else
		snprintf(desc, sizeof(desc), "port bind ifindex %u", ifindex);
	if (!ctl)
		return ml__fail(-EINVAL, "%s: NULL handle", desc);
	if (out) {
		memset(out, 0, sizeof(*out));
		if (ifname)
			snprintf(out->ifname, sizeof(out->ifname), "%s", ifname);
		out->ifindex = ifindex;
	}
	msg = req_new(ctl, ML_CMD_PORT_BIND, 0);
	if (!msg)
		return ml__fail(-ENOMEM, "%s: out of memory", desc);
	if (ifname)
		err |= nla_put_string(msg, ML_A_IFNAME, ifname);
	else
		err |= nla_put_u32(msg, ML_A_IFINDEX, ifindex);
	if (opts) {
		if (opts->dev)
			err |= nla_put_string(msg, ML_A_DEV_NAME, opts->dev);
		err |= put_opt(msg, ML_A_NODE_ID, opts->node_id, opts->force, ML_OPT_NODE_ID);
		err |= put_opt(msg, ML_A_HELLO_MS, opts->hello_ms, opts->force, ML_OPT_HELLO_MS);
		err |= put_opt(msg, ML_A_DEAD_MS, opts->dead_ms, opts->force, ML_OPT_DEAD_MS);
	}
	if (err) {
		nlmsg_free(msg);
		return ml__fail(-ENOMEM, "%s: out of memory", desc);
	}
	return doit(ctl, msg, fill_port, out, desc);
}

ML_EXPORT int ml_ctl_bind(struct ml_ctl *ctl, const char *ifname,
			  const struct ml_bind_opts *opts, struct ml_port_info *out)
{
	if (!ifname)
		return ml__fail(-EINVAL, "port bind: NULL interface name");
	return bind_common(ctl, ifname, 0, opts, out);
}

ML_EXPORT int ml_ctl_bind_ifindex(struct ml_ctl *ctl, uint32_t ifindex,
				  const struct ml_bind_opts *opts, struct ml_port_info *out)
{
	return bind_common(ctl, NULL, ifindex, opts, out);
}

ML_EXPORT int ml_ctl_unbind(struct ml_ctl *ctl, const char *ifname)
{
	struct nl_msg *msg;
	char desc[96];

	snprintf(desc, sizeof(desc), "port unbind %s", ifname ? ifname : "(null)");
	if (!ctl || !ifname)
		return ml__fail(-EINVAL, "%s: NULL %s", desc, ctl ? "interface name" : "handle");
	msg = req_new(ctl, ML_CMD_PORT_UNBIND, 0);
	if (!msg || nla_put_string(msg, ML_A_IFNAME, ifname) < 0) {
		nlmsg_free(msg);
		return ml__fail(-ENOMEM, "%s: out of memory", desc);
	}
	return ml__transact(ctl->sk, ctl->cb, msg, NULL, NULL, desc);
}

ML_EXPORT int ml_ctl_unbind_port(struct ml_ctl *ctl, const char *dev, uint32_t port_index)
{
	struct nl_msg *msg;
	char desc[96];

	snprintf(desc, sizeof(desc), "port unbind %s port %u", dev ? dev : "(null)",
		 port_index);
	if (!ctl || !dev)
		return ml__fail(-EINVAL, "%s: NULL %s", desc, ctl ? "device name" : "handle");
	msg = req_new(ctl, ML_CMD_PORT_UNBIND, 0);
	if (!msg || nla_put_string(msg, ML_A_DEV_NAME, dev) < 0 ||
	    nla_put_u32(msg, ML_A_PORT_INDEX, port_index) < 0) {
		nlmsg_free(msg);
		return ml__fail(-ENOMEM, "%s: out of memory", desc);
	}
	return ml__transact(ctl->sk, ctl->cb, msg, NULL, NULL, desc);
}

ML_EXPORT int ml_ctl_dev_set(struct ml_ctl *ctl, const char *dev,
			     const struct ml_dev_set_opts *opts)
{
	struct nl_msg *msg;
	char desc[96];
	int err = 0;

	snprintf(desc, sizeof(desc), "dev set %s", dev ? dev : "(null)");
	if (!ctl || !dev || !opts)
		return ml__fail(-EINVAL, "%s: NULL %s", desc,
				!ctl ? "handle" : !dev ? "device name" : "options");
	msg = req_new(ctl, ML_CMD_DEV_SET, 0);
	if (!msg)
		return ml__fail(-ENOMEM, "%s: out of memory", desc);
	err |= nla_put_string(msg, ML_A_DEV_NAME, dev);
	err |= put_opt(msg, ML_A_NODE_ID, opts->node_id, opts->force, ML_OPT_NODE_ID);
	err |= put_opt(msg, ML_A_HELLO_MS, opts->hello_ms, opts->force, ML_OPT_HELLO_MS);
	err |= put_opt(msg, ML_A_DEAD_MS, opts->dead_ms, opts->force, ML_OPT_DEAD_MS);
	if (err) {
		nlmsg_free(msg);
		return ml__fail(-ENOMEM, "%s: out of memory", desc);
	}
	return ml__transact(ctl->sk, ctl->cb, msg, NULL, NULL, desc);
}

/* ---- UDP peers ---- */

static int peer_req(struct ml_ctl *ctl, uint8_t cmd, const char *dev,
		    const char *addr, const char *local)
{
	unsigned char a[16], l[16];
	int fam, attr_a, attr_l, alen;
	struct nl_msg *msg;
	char desc[96];

	snprintf(desc, sizeof(desc), "peer %s %s %s",
		 cmd == ML_CMD_PEER_ADD ? "add" : "del", dev ? dev : "(null)",
		 addr ? addr : "(null)");
	if (!ctl || !dev || !addr)
		return ml__fail(-EINVAL, "%s: NULL %s", desc,
				!ctl ? "handle" : !dev ? "device name" : "address");
	/* Either family; the kernel judges the address (unicast, ...). */
	fam = strchr(addr, ':') ? AF_INET6 : AF_INET;
	if (inet_pton(fam, addr, a) != 1)
		return ml__fail(-EINVAL, "%s: not an IPv4 or IPv6 address", desc);
	if (local && inet_pton(fam, local, l) != 1)
		return ml__fail(-EINVAL, "%s: local %s: not an %s address",
				desc, local, fam == AF_INET ? "IPv4" : "IPv6");
	attr_a = fam == AF_INET ? ML_A_PEER_ADDR : ML_A_PEER_ADDR6;
	attr_l = fam == AF_INET ? ML_A_PEER_LOCAL : ML_A_PEER_LOCAL6;
	alen = fam == AF_INET ? 4 : 16;
	msg = req_new(ctl, cmd, 0);
	if (!msg || nla_put_string(msg, ML_A_DEV_NAME, dev) < 0 ||
	    nla_put(msg, attr_a, alen, a) < 0 ||
	    (local && nla_put(msg, attr_l, alen, l) < 0)) {
		nlmsg_free(msg);
		return ml__fail(-ENOMEM, "%s: out of memory", desc);
	}
	return ml__transact(ctl->sk, ctl->cb, msg, NULL, NULL, desc);
}

ML_EXPORT int ml_ctl_peer_add(struct ml_ctl *ctl, const char *dev,
			      const char *addr, const char *local)
{
	return peer_req(ctl, ML_CMD_PEER_ADD, dev, addr, local);
}

ML_EXPORT int ml_ctl_peer_del(struct ml_ctl *ctl, const char *dev,
			      const char *addr)
{
	return peer_req(ctl, ML_CMD_PEER_DEL, dev, addr, NULL);
}

ML_EXPORT int ml_ctl_peers(struct ml_ctl *ctl, const char *dev,
			   struct ml_peer_info **out, size_t *n)
{
	size_t i, k = 0;
	int err;

	err = dump(ctl, ML_CMD_PEER_GET, dev, sizeof(**out), fill_peer,
		   (void **)out, n, "peer show");
	if (err <= 0)
		return err;
	/* IPv6 peers came without peer-addr: leave them out. */
	for (i = 0; i < *n; i++)
		if ((*out)[i].addr)
			(*out)[k++] = (*out)[i];
	*n = k;
	if (!k) {
		free(*out);
		*out = NULL;
	}
	return (int)k;
}

ML_EXPORT int ml_ctl_peer_list(struct ml_ctl *ctl, const char *dev,
			       struct ml_peer_entry **out, size_t *n)
{
	return dump(ctl, ML_CMD_PEER_GET, dev, sizeof(**out), fill_peer_entry,
		    (void **)out, n, "peer show");
}

/* ---- topology ---- */

static int collect_topo(struct nlmsghdr *nlh, void *arg)
{
	struct ml_vec *v = arg;
	struct ml_topo_node_info *t = ml__vec_push(v);

	if (!t)
		return -ENOMEM;
	return ml__fill_topo(nlh, t);
}

ML_EXPORT int ml_ctl_topology(struct ml_ctl *ctl, const char *dev,
			      struct ml_topo_node_info **out, size_t *n)
{
	struct ml_vec v = { .elem = sizeof(**out) };
	struct nl_msg *msg;
	char desc[96];
	int err;

	snprintf(desc, sizeof(desc), "topo show%s%s", dev ? " " : "", dev ? dev : "");
	if (!ctl || !out || !n)
		return ml__fail(-EINVAL, "%s: NULL %s", desc, ctl ? "output pointer" : "handle");
	*out = NULL;
	*n = 0;
	msg = req_new(ctl, ML_CMD_TOPO_GET, NLM_F_DUMP);
	if (!msg || (dev && nla_put_string(msg, ML_A_DEV_NAME, dev) < 0)) {
		nlmsg_free(msg);
		return ml__fail(-ENOMEM, "%s: out of memory", desc);
	}
	err = ml__transact(ctl->sk, ctl->cb, msg, collect_topo, &v, desc);
	if (err < 0) {
		free(v.data);
		return err;
	}
	*out = v.data;
	*n = v.n;
	return (int)v.n;
}
