/* SPDX-License-Identifier: MIT */
/*
 * libmegalink internals shared by the library's files (never installed).
 * Functions named ml__* are internal; unit tests link libmegalink.a and may
 * call them.
 */
#ifndef MEGALINK_LIB_INTERNAL_H
#define MEGALINK_LIB_INTERNAL_H

#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/netlink.h>
#include <linux/megalink.h>	/* the kernel ABI: only the library sees it */
#include <megalink/megalink.h>

#define ML_EXPORT __attribute__((visibility("default")))

#ifndef NLMSGERR_ATTR_MISS_TYPE
#define NLMSGERR_ATTR_MISS_TYPE 5
#endif
#ifndef NLMSGERR_ATTR_MISS_NEST
#define NLMSGERR_ATTR_MISS_NEST 6
#endif
#ifndef NLM_F_ACK_TLVS
#define NLM_F_ACK_TLVS 0x200
#endif
#ifndef NLM_F_CAPPED
#define NLM_F_CAPPED 0x100
#endif

/* What the kernel said in an NLMSG_ERROR or NLMSG_DONE message. */
struct ml_extack {
	int error;		/* negative errno, 0 for an ACK */
	char msg[256];		/* NLMSGERR_ATTR_MSG, or "" */
	int has_offs;
	uint32_t offs;		/* NLMSGERR_ATTR_OFFS */
	int has_miss_type;
	uint32_t miss_type;	/* NLMSGERR_ATTR_MISS_TYPE */
	int bad_attr;		/* attribute type at offs in the request, or -1 */
};

/*
 * Parse an NLMSG_ERROR (or NLMSG_DONE) message of @len bytes.  If @req
 * (the request as sent, @req_len bytes, a generic netlink message) is
 * given, NLMSGERR_ATTR_OFFS is resolved to an attribute type.
 * Returns 0, or -EINVAL when the message is malformed.
 */
int ml__extack_parse(const struct nlmsghdr *nlh, size_t len,
		     const void *req, size_t req_len, struct ml_extack *ex);

/* Attribute type of the top-level attribute of a generic netlink request
 * that contains byte offset @offs (from the start of the nlmsghdr), or -1. */
int ml__attr_at_offset(const void *req, size_t req_len, uint32_t offs);

/* Set the thread-local detail: "<what>: <text>". Returns err. */
int ml__fail(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Set it from an extack: "<what>: <msg or strerror>[ (attribute x)]". */
int ml__fail_extack(int err, const char *what, const struct ml_extack *ex);
/* Format the extack detail into buf (used by ml__fail_extack, tested). */
void ml__format_extack(char *buf, size_t size, int err, const char *what,
		       const struct ml_extack *ex);
void ml__clear_error(void);

/* Growing array of fixed-size elements. */
struct ml_vec {
	void *data;
	size_t n, cap, elem;
};
void *ml__vec_push(struct ml_vec *v);	/* zeroed slot or NULL */

/* libnl error (NLE_*) to a negative errno. */
int ml__nlerr_to_errno(int nlerr);

/* ---- data plane (device.c, verbs.c) ---- */

/* Intrusive list of the data-plane objects of a device. */
struct ml_obj {
	struct ml_obj *prev, *next;
	int type;		/* enum ml_obj_type */
};

struct ml_device {
	int fd;
	char name[ML_DEV_NAME_LEN];
	char path[128];
	pthread_mutex_t lock;	/* objs, limits */
	struct ml_obj objs;	/* list head */
	int have_limits;
	struct ml_limits limits;
};

/* Release every object still on the device's list (ml_device_close). */
void ml__verbs_release_all(struct ml_device *dev);

#endif

/* ---- netlink plumbing shared by ctl.c and monitor.c ---- */
struct nl_sock;
struct nl_cb;
struct nl_msg;
struct nlattr;

/* Family facts from CTRL_CMD_GETFAMILY. */
struct ml_family {
	int id;
	uint32_t version;
	uint32_t mcgrp_monitor;	/* 0: group not found */
};

/* A generic netlink socket with extended acks on and a private callback set. */
int ml__genl_socket(struct nl_sock **sk, struct nl_cb **cb, const char *what);
/* Resolve the "megalink" family (-ENOENT: module not loaded). */
int ml__resolve_family(struct nl_sock *sk, struct nl_cb *cb, struct ml_family *fam,
		       const char *what);
/*
 * Send @msg (consumed) and receive until ACK, DONE or an error; each reply
 * message goes to @parse.  Errors become the thread-local detail "<what>:
 * ...", including the kernel's extack.
 */
int ml__transact(struct nl_sock *sk, struct nl_cb *cb, struct nl_msg *msg,
		 int (*parse)(struct nlmsghdr *nlh, void *arg), void *arg,
		 const char *what);

/* Fill library structs from a parsed attribute table (tb[ML_A_MAX + 1]). */
void ml__fill_dev(struct nlattr **tb, struct ml_dev_attr *d);
void ml__fill_port(struct nlattr **tb, struct ml_port_info *p);
void ml__fill_neigh(struct nlattr **tb, struct ml_neigh_info *n);
void ml__fill_stats(struct nlattr **tb, struct ml_port_stats *s);
void ml__fill_qp(struct nlattr **tb, struct ml_qp_info *q);
int ml__fill_path(struct nlattr **tb, struct nlattr *nest, struct ml_path_info *p);
void ml__fill_peer(struct nlattr **tb, struct ml_peer_info *p);
void ml__fill_peer_entry(struct nlattr **tb, struct ml_peer_entry *p);
/* A topology record from its message (the ML_A_TOPO_LINK nests repeat). */
int ml__fill_topo(struct nlmsghdr *nlh, struct ml_topo_node_info *t);
/* One ML_A_TOPO_LINK nest. */
void ml__fill_topo_link(struct nlattr *nest, struct ml_topo_link_info *l);
