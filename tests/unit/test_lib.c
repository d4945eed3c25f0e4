// SPDX-License-Identifier: MIT
/*
 * Host unit tests of libmegalink logic that needs no kernel module:
 * errors, name tables, number parsing, extended-ack parsing, and the
 * behaviour of the entry points when the module is absent.
 */
#define _GNU_SOURCE
#include <check.h>
#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>

#include <netlink/netlink.h>
#include <netlink/genl/genl.h>

#include <megalink/megalink.h>
#include "../../lib/internal.h"

static int module_loaded(void)
{
	return access("/sys/module/megalink", F_OK) == 0;
}

/* ---- errors ---- */

START_TEST(test_strerror)
{
	ck_assert_str_eq(ml_strerror(-ENOENT), "No such file or directory");
	ck_assert_str_eq(ml_strerror(ENOENT), "No such file or directory");
	ck_assert_str_eq(ml_strerror(-EOPNOTSUPP), "Operation not supported");
	ck_assert_str_eq(ml_strerror(0), "Success");
	ck_assert_ptr_nonnull(ml_strerror(-99999));
	ck_assert_ptr_nonnull(ml_strerror(-2147483647));
}
END_TEST

START_TEST(test_version)
{
	ck_assert_str_eq(ml_version(), ML_VERSION);
}
END_TEST

/* ---- name tables ---- */

START_TEST(test_stat_names_complete)
{
	unsigned int i, j;

	ck_assert_ptr_null(ml_stat_name(ML_STAT_UNSPEC));
	ck_assert_ptr_null(ml_stat_name(ML_STAT_PAD));
	ck_assert_ptr_null(ml_stat_name(ML_STAT_MAX + 1));
	ck_assert_ptr_null(ml_stat_name(1000));
	for (i = ML_STAT_TX_FRAMES; i <= ML_STAT_MAX; i++) {
		const char *n = ml_stat_name(i);
		const char *c;

		ck_assert_msg(n != NULL, "stat %u has no name", i);
		ck_assert_msg(n[0] != '\0', "stat %u has an empty name", i);
		for (c = n; *c; c++)
			ck_assert_msg(islower((unsigned char)*c) || *c == '_',
				      "stat name \"%s\" not [a-z_]", n);
		for (j = ML_STAT_TX_FRAMES; j < i; j++)
			ck_assert_msg(strcmp(n, ml_stat_name(j)) != 0,
				      "stat name \"%s\" used twice", n);
	}
	ck_assert_str_eq(ml_stat_name(ML_STAT_TX_FRAMES), "tx_frames");
	ck_assert_str_eq(ml_stat_name(ML_STAT_DROP_SHORT), "drop_short");
	ck_assert_str_eq(ml_stat_name(ML_STAT_RX_NOT_MINE), "rx_not_mine");
	ck_assert_str_eq(ml_stat_name(ML_STAT_DROP_NEIGH_FULL), "drop_neigh_full");
}
END_TEST

START_TEST(test_attr_names_complete)
{
	unsigned int i;

	ck_assert_ptr_null(ml_attr_name(ML_A_UNSPEC));
	ck_assert_ptr_null(ml_attr_name(ML_A_MAX + 1));
	for (i = ML_A_PAD; i <= ML_A_MAX; i++)
		ck_assert_msg(ml_attr_name(i) != NULL, "attr %u has no name", i);
	ck_assert_str_eq(ml_attr_name(ML_A_IFINDEX), "ifindex");
	ck_assert_str_eq(ml_attr_name(ML_A_DEV_NAME), "dev-name");
	ck_assert_str_eq(ml_attr_name(ML_A_REASON), "reason");
}
END_TEST

START_TEST(test_other_names)
{
	ck_assert_str_eq(ml_event_name(ML_EV_DEV_NEW), "dev_new");
	ck_assert_str_eq(ml_event_name(ML_EV_DEV_DEL), "dev_del");
	ck_assert_str_eq(ml_event_name(ML_EV_PORT_UP), "port_up");
	ck_assert_str_eq(ml_event_name(ML_EV_PORT_DOWN), "port_down");
	ck_assert_str_eq(ml_event_name(ML_EV_NEIGH_FOUND), "neigh_found");
	ck_assert_str_eq(ml_event_name(ML_EV_NEIGH_LOST), "neigh_lost");
	ck_assert_str_eq(ml_event_name(ML_EV_QP_ERROR), "qp_error");
	ck_assert_str_eq(ml_event_name(77), "unknown");
	ck_assert_str_eq(ml_reason_name(ML_REASON_NONE), "none");
	ck_assert_str_eq(ml_reason_name(ML_REASON_CARRIER), "carrier");
	ck_assert_str_eq(ml_reason_name(ML_REASON_NEIGH), "neigh");
	ck_assert_str_eq(ml_reason_name(ML_REASON_UNBIND), "unbind");
	ck_assert_str_eq(ml_reason_name(9), "unknown");
	ck_assert_str_eq(ml_link_state_name(ML_LINK_UP), "up");
	ck_assert_str_eq(ml_link_state_name(ML_LINK_DOWN), "down");
}
END_TEST

/* ---- number parsing ---- */

START_TEST(test_node_id_ok)
{
	uint32_t v;

	ck_assert_int_eq(ml_parse_node_id("1", &v), 0);
	ck_assert_uint_eq(v, 1);
	ck_assert_int_eq(ml_parse_node_id("0x1", &v), 0);
	ck_assert_uint_eq(v, 1);
	ck_assert_int_eq(ml_parse_node_id("0xDeadBeef", &v), 0);
	ck_assert_uint_eq(v, 0xdeadbeef);
	ck_assert_int_eq(ml_parse_node_id("0XFFFFFFFE", &v), 0);
	ck_assert_uint_eq(v, 0xfffffffe);
	ck_assert_int_eq(ml_parse_node_id("4294967294", &v), 0);
	ck_assert_uint_eq(v, 4294967294u);
	ck_assert_int_eq(ml_parse_node_id("010", &v), 0);	/* decimal, not octal */
	ck_assert_uint_eq(v, 10);
}
END_TEST

START_TEST(test_node_id_bad)
{
	static const char *const inval[] = { "", "abc", "0x", "12a", "-1", " 1", "1 ",
					     "+1", "0x1g", "1.5" };
	static const char *const range[] = { "0", "0x0", "0xffffffff", "4294967295",
					     "4294967296", "0x100000000",
					     "99999999999999999999999" };
	uint32_t v = 7;
	unsigned int i;

	for (i = 0; i < sizeof(inval) / sizeof(inval[0]); i++) {
		ck_assert_msg(ml_parse_node_id(inval[i], &v) == -EINVAL, "\"%s\"", inval[i]);
		ck_assert_ptr_nonnull(strstr(ml_last_error(), "node id"));
	}
	for (i = 0; i < sizeof(range) / sizeof(range[0]); i++) {
		ck_assert_msg(ml_parse_node_id(range[i], &v) == -ERANGE, "\"%s\"", range[i]);
		ck_assert_ptr_nonnull(strstr(ml_last_error(), "out of range"));
	}
	ck_assert_uint_eq(v, 7);	/* untouched on failure */
	ck_assert_int_eq(ml_parse_node_id(NULL, &v), -EINVAL);
}
END_TEST

START_TEST(test_parse_u32)
{
	uint32_t v;

	ck_assert_int_eq(ml_parse_u32("0", &v), 0);
	ck_assert_uint_eq(v, 0);
	ck_assert_int_eq(ml_parse_u32("4294967295", &v), 0);
	ck_assert_uint_eq(v, 4294967295u);
	ck_assert_int_eq(ml_parse_u32("0xffffffff", &v), 0);
	ck_assert_int_eq(ml_parse_u32("4294967296", &v), -ERANGE);
	ck_assert_int_eq(ml_parse_u32("", &v), -EINVAL);
	ck_assert_int_eq(ml_parse_u32("1k", &v), -EINVAL);
}
END_TEST

/* ---- extended ack ---- */

/* A request as the library would send it: nlmsghdr, genlmsghdr, attrs. */
struct req_buf {
	size_t len;
	unsigned char b[256];
};

static void req_init(struct req_buf *r)
{
	struct nlmsghdr *nlh = (void *)r->b;
	struct genlmsghdr *g = (void *)(r->b + NLMSG_HDRLEN);

	memset(r, 0, sizeof(*r));
	nlh->nlmsg_type = 0x20;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	nlh->nlmsg_seq = 42;
	g->cmd = ML_CMD_PORT_BIND;
	g->version = ML_GENL_VERSION;
	r->len = NLMSG_HDRLEN + GENL_HDRLEN;
	nlh->nlmsg_len = (uint32_t)r->len;
}

/* Append an attribute; returns its offset. */
static size_t put_attr(unsigned char *base, size_t *len, uint16_t type,
		       const void *data, size_t dlen)
{
	struct nlattr *a = (void *)(base + *len);
	size_t off = *len;

	a->nla_type = type;
	a->nla_len = (uint16_t)(NLA_HDRLEN + dlen);
	memcpy(base + off + NLA_HDRLEN, data, dlen);
	memset(base + off + NLA_HDRLEN + dlen, 0, NLA_ALIGN(dlen) - dlen);
	*len += NLA_ALIGN(NLA_HDRLEN + dlen);
	return off;
}

static size_t req_put(struct req_buf *r, uint16_t type, const void *d, size_t n)
{
	size_t off = put_attr(r->b, &r->len, type, d, n);

	((struct nlmsghdr *)r->b)->nlmsg_len = (uint32_t)r->len;
	return off;
}

/* Build the kernel's NLMSG_ERROR reply for @req. */
static size_t make_err(unsigned char *out, const struct req_buf *req, int error,
		       int capped, const char *msg, int offs, int miss_type)
{
	struct nlmsghdr *nlh = (void *)out;
	struct nlmsgerr *e = (void *)(out + NLMSG_HDRLEN);
	size_t len = NLMSG_HDRLEN + sizeof(*e);

	memset(out, 0, 1024);
	nlh->nlmsg_type = NLMSG_ERROR;
	nlh->nlmsg_flags = NLM_F_ACK_TLVS | (capped ? NLM_F_CAPPED : 0);
	e->error = error;
	memcpy(&e->msg, req->b, sizeof(struct nlmsghdr));
	if (!capped) {
		memcpy(out + len, req->b + NLMSG_HDRLEN, req->len - NLMSG_HDRLEN);
		len += req->len - NLMSG_HDRLEN;
	}
	len = NLMSG_ALIGN(len);
	if (msg)
		put_attr(out, &len, NLMSGERR_ATTR_MSG, msg, strlen(msg) + 1);
	if (offs >= 0) {
		uint32_t o = (uint32_t)offs;

		put_attr(out, &len, NLMSGERR_ATTR_OFFS, &o, 4);
	}
	if (miss_type >= 0) {
		uint32_t t = (uint32_t)miss_type;

		put_attr(out, &len, NLMSGERR_ATTR_MISS_TYPE, &t, 4);
	}
	nlh->nlmsg_len = (uint32_t)len;
	return len;
}

START_TEST(test_extack_capped_offs)
{
	unsigned char buf[1024];
	struct ml_extack ex;
	struct req_buf req;
	char text[512];
	size_t off, len;
	uint32_t ifindex = 1;

	req_init(&req);
	req_put(&req, ML_A_IFNAME, "lo", 3);
	off = req_put(&req, ML_A_IFINDEX, &ifindex, 4);
	len = make_err(buf, &req, -EOPNOTSUPP, 1, "Device is not an Ethernet device",
		       (int)off, -1);

	ck_assert_int_eq(ml__extack_parse((void *)buf, len, req.b, req.len, &ex), 0);
	ck_assert_int_eq(ex.error, -EOPNOTSUPP);
	ck_assert_str_eq(ex.msg, "Device is not an Ethernet device");
	ck_assert_int_eq(ex.has_offs, 1);
	ck_assert_uint_eq(ex.offs, off);
	ck_assert_int_eq(ex.bad_attr, ML_A_IFINDEX);

	ml__format_extack(text, sizeof(text), ex.error, "port bind lo", &ex);
	ck_assert_str_eq(text, "port bind lo: Device is not an Ethernet device (attribute ifindex)");

	/* the thread-local detail gets the same text */
	ck_assert_int_eq(ml__fail_extack(-EOPNOTSUPP, "port bind lo", &ex), -EOPNOTSUPP);
	ck_assert_str_eq(ml_last_error(), text);
}
END_TEST

START_TEST(test_extack_uncapped)
{
	unsigned char buf[1024];
	struct ml_extack ex;
	struct req_buf req;
	uint32_t hello = 5;
	size_t off, len;

	req_init(&req);
	req_put(&req, ML_A_IFNAME, "veth0", 6);
	off = req_put(&req, ML_A_HELLO_MS, &hello, 4);
	/* offset points inside the attribute payload: still that attribute */
	len = make_err(buf, &req, -ERANGE, 0, "Value out of range", (int)off + 4, -1);
	ck_assert_int_eq(ml__extack_parse((void *)buf, len, req.b, req.len, &ex), 0);
	ck_assert_int_eq(ex.error, -ERANGE);
	ck_assert_str_eq(ex.msg, "Value out of range");
	ck_assert_int_eq(ex.bad_attr, ML_A_HELLO_MS);
}
END_TEST

START_TEST(test_extack_missing)
{
	unsigned char buf[1024];
	struct ml_extack ex;
	struct req_buf req;
	char text[512];
	size_t len;

	req_init(&req);
	len = make_err(buf, &req, -EINVAL, 1, "missing attribute", -1, ML_A_IFNAME);
	ck_assert_int_eq(ml__extack_parse((void *)buf, len, req.b, req.len, &ex), 0);
	ck_assert_int_eq(ex.has_miss_type, 1);
	ck_assert_uint_eq(ex.miss_type, ML_A_IFNAME);
	ck_assert_int_eq(ex.bad_attr, -1);
	ml__format_extack(text, sizeof(text), ex.error, "port bind", &ex);
	ck_assert_str_eq(text, "port bind: missing attribute (missing attribute ifname)");
}
END_TEST

START_TEST(test_extack_no_msg)
{
	unsigned char buf[1024];
	struct ml_extack ex;
	struct req_buf req;
	char text[512];
	size_t len;

	req_init(&req);
	len = make_err(buf, &req, -ENODEV, 1, NULL, -1, -1);
	ck_assert_int_eq(ml__extack_parse((void *)buf, len, req.b, req.len, &ex), 0);
	ck_assert_str_eq(ex.msg, "");
	ml__format_extack(text, sizeof(text), ex.error, "dev show ml9", &ex);
	ck_assert_str_eq(text, "dev show ml9: No such device");

	/* no NLM_F_ACK_TLVS: TLVs are not looked at */
	len = make_err(buf, &req, -ENODEV, 1, "ignored", -1, -1);
	((struct nlmsghdr *)buf)->nlmsg_flags &= ~NLM_F_ACK_TLVS;
	ck_assert_int_eq(ml__extack_parse((void *)buf, len, req.b, req.len, &ex), 0);
	ck_assert_str_eq(ex.msg, "");
	ck_assert_int_eq(ex.error, -ENODEV);
}
END_TEST

START_TEST(test_extack_unknown_attr_and_no_request)
{
	unsigned char buf[1024];
	struct ml_extack ex;
	struct req_buf req;
	char text[512];
	uint32_t x = 1;
	size_t off, len;

	req_init(&req);
	off = req_put(&req, 200, &x, 4);	/* a type this library does not know */
	len = make_err(buf, &req, -EINVAL, 1, "Unknown attribute type", (int)off, -1);
	ck_assert_int_eq(ml__extack_parse((void *)buf, len, req.b, req.len, &ex), 0);
	ck_assert_int_eq(ex.bad_attr, 200);
	ml__format_extack(text, sizeof(text), ex.error, "x", &ex);
	ck_assert_str_eq(text, "x: Unknown attribute type (attribute 200)");

	/* without the request the offset cannot be resolved */
	ck_assert_int_eq(ml__extack_parse((void *)buf, len, NULL, 0, &ex), 0);
	ck_assert_int_eq(ex.has_offs, 1);
	ck_assert_int_eq(ex.bad_attr, -1);
}
END_TEST

START_TEST(test_extack_done)
{
	unsigned char buf[256];
	struct nlmsghdr *nlh = (void *)buf;
	struct ml_extack ex;
	size_t len = NLMSG_HDRLEN;
	int err = -ENODEV;

	memset(buf, 0, sizeof(buf));
	nlh->nlmsg_type = NLMSG_DONE;
	nlh->nlmsg_flags = NLM_F_MULTI | NLM_F_ACK_TLVS;
	memcpy(buf + len, &err, 4);
	len += 4;
	put_attr(buf, &len, NLMSGERR_ATTR_MSG, "no such device", 15);
	nlh->nlmsg_len = (uint32_t)len;
	ck_assert_int_eq(ml__extack_parse(nlh, len, NULL, 0, &ex), 0);
	ck_assert_int_eq(ex.error, -ENODEV);
	ck_assert_str_eq(ex.msg, "no such device");

	/* a plain DONE with 0 */
	nlh->nlmsg_flags = NLM_F_MULTI;
	err = 0;
	memcpy(buf + NLMSG_HDRLEN, &err, 4);
	nlh->nlmsg_len = NLMSG_HDRLEN + 4;
	ck_assert_int_eq(ml__extack_parse(nlh, NLMSG_HDRLEN + 4, NULL, 0, &ex), 0);
	ck_assert_int_eq(ex.error, 0);
}
END_TEST

START_TEST(test_extack_malformed)
{
	unsigned char buf[1024];
	struct ml_extack ex;
	struct req_buf req;
	struct nlattr *a;
	size_t len;

	req_init(&req);
	len = make_err(buf, &req, -EINVAL, 1, "abc", -1, -1);
	/* attribute claims more bytes than the message has */
	a = (void *)(buf + NLMSG_HDRLEN + sizeof(struct nlmsgerr));
	a->nla_len = 200;
	ck_assert_int_eq(ml__extack_parse((void *)buf, len, NULL, 0, &ex), -EINVAL);
	/* attribute length below its header */
	a->nla_len = 2;
	ck_assert_int_eq(ml__extack_parse((void *)buf, len, NULL, 0, &ex), -EINVAL);
	/* message shorter than nlmsgerr */
	ck_assert_int_eq(ml__extack_parse((void *)buf, NLMSG_HDRLEN + 2, NULL, 0, &ex), -EINVAL);
	((struct nlmsghdr *)buf)->nlmsg_len = NLMSG_HDRLEN + 2;
	ck_assert_int_eq(ml__extack_parse((void *)buf, len, NULL, 0, &ex), -EINVAL);
	/* nlmsg_len larger than the buffer */
	((struct nlmsghdr *)buf)->nlmsg_len = (uint32_t)len + 100;
	ck_assert_int_eq(ml__extack_parse((void *)buf, len, NULL, 0, &ex), -EINVAL);
	/* not an error message */
	((struct nlmsghdr *)buf)->nlmsg_len = (uint32_t)len;
	((struct nlmsghdr *)buf)->nlmsg_type = 0x20;
	ck_assert_int_eq(ml__extack_parse((void *)buf, len, NULL, 0, &ex), -EINVAL);
}
END_TEST

START_TEST(test_extack_unterminated_msg)
{
	unsigned char buf[1024];
	struct ml_extack ex;
	struct req_buf req;
	size_t len;
	char big[600];

	req_init(&req);
	memset(big, 'x', sizeof(big));
	big[sizeof(big) - 1] = '\0';
	len = make_err(buf, &req, -EINVAL, 1, big, -1, -1);
	ck_assert_int_eq(ml__extack_parse((void *)buf, len, NULL, 0, &ex), 0);
	ck_assert_uint_eq(strlen(ex.msg), sizeof(ex.msg) - 1);
}
END_TEST

START_TEST(test_attr_at_offset)
{
	struct req_buf req;
	uint32_t v = 1;
	size_t a, b;

	req_init(&req);
	a = req_put(&req, ML_A_DEV_NAME, "ml0", 4);
	b = req_put(&req, ML_A_NODE_ID, &v, 4);
	ck_assert_int_eq(ml__attr_at_offset(req.b, req.len, (uint32_t)a), ML_A_DEV_NAME);
	ck_assert_int_eq(ml__attr_at_offset(req.b, req.len, (uint32_t)b), ML_A_NODE_ID);
	ck_assert_int_eq(ml__attr_at_offset(req.b, req.len, (uint32_t)b + 7), ML_A_NODE_ID);
	ck_assert_int_eq(ml__attr_at_offset(req.b, req.len, 0), -1);	/* header */
	ck_assert_int_eq(ml__attr_at_offset(req.b, req.len, (uint32_t)req.len), -1);
	ck_assert_int_eq(ml__attr_at_offset(NULL, 0, (uint32_t)a), -1);
}
END_TEST

/* ---- entry points without the module ---- */

START_TEST(test_device_open_missing)
{
	struct ml_device *dev = (void *)1;
	int err;

	err = ml_device_open("ml97", &dev);
	ck_assert_int_eq(err, -ENOENT);
	ck_assert_ptr_null(dev);
	ck_assert_ptr_nonnull(strstr(ml_last_error(), "ml97"));
	ck_assert_ptr_nonnull(strstr(ml_last_error(), "/dev/megalink/ml97"));
	ck_assert_ptr_nonnull(strstr(ml_last_error(), "does not exist"));
	if (!module_loaded())
		ck_assert_ptr_nonnull(strstr(ml_last_error(), "module not loaded"));

	ck_assert_int_eq(ml_device_open("", &dev), -EINVAL);
	ck_assert_int_eq(ml_device_open(NULL, &dev), -EINVAL);
	ck_assert_int_eq(ml_device_open("ml0", NULL), -EINVAL);
	ck_assert_int_eq(ml_device_open("a-name-that-is-far-too-long", &dev), -EINVAL);
	ck_assert_ptr_nonnull(strstr(ml_last_error(), "longer than 15"));
	ck_assert_int_eq(ml_device_open("/nonexistent/dir/ml0", &dev), -ENOENT);
	ck_assert_int_eq(ml_device_fd(NULL), -EBADF);
	ml_device_close(NULL);
}
END_TEST

START_TEST(test_device_query_args)
{
	struct ml_device_info info;

	ck_assert_int_eq(ml_device_query(NULL, &info), -EINVAL);
	ck_assert_ptr_nonnull(strstr(ml_last_error(), "device query"));
}
END_TEST

START_TEST(test_ctl_open_no_module)
{
	struct ml_ctl *ctl = (void *)1;
	int err = ml_ctl_open(&ctl);

	if (module_loaded()) {
		ck_assert_int_eq(err, 0);
		ck_assert_uint_ge(ml_ctl_family_version(ctl), 1);
		ml_ctl_close(ctl);
		return;
	}
	ck_assert_int_eq(err, -ENOENT);
	ck_assert_ptr_null(ctl);
	ck_assert_str_eq(ml_last_error(),
			 "ctl open: megalink module not loaded (no generic netlink family \"megalink\")");
	ck_assert_int_eq(ml_ctl_open(NULL), -EINVAL);
	ml_ctl_close(NULL);
}
END_TEST

START_TEST(test_monitor_open_no_module)
{
	struct ml_monitor *mon = (void *)1;
	struct ml_event ev;
	int err = ml_monitor_open(&mon);

	if (module_loaded()) {
		ck_assert_int_eq(err, 0);
		ck_assert_int_ge(ml_monitor_fd(mon), 0);
		ml_monitor_close(mon);
		return;
	}
	ck_assert_int_eq(err, -ENOENT);
	ck_assert_ptr_null(mon);
	ck_assert_ptr_nonnull(strstr(ml_last_error(), "megalink module not loaded"));
	ck_assert_int_eq(ml_monitor_read(NULL, &ev), -EINVAL);
}
END_TEST

START_TEST(test_null_handles)
{
	struct ml_dev_attr *d;
	struct ml_port_info p;
	size_t n;

	ck_assert_int_eq(ml_ctl_devices(NULL, &d, &n), -EINVAL);
	ck_assert_int_eq(ml_ctl_port_get(NULL, "eth0", &p), -EINVAL);
	ck_assert_int_eq(ml_ctl_bind(NULL, "eth0", NULL, NULL), -EINVAL);
	ck_assert_int_eq(ml_ctl_unbind(NULL, "eth0"), -EINVAL);
	ck_assert_int_eq(ml_ctl_dev_set(NULL, "ml0", NULL), -EINVAL);
	ck_assert_ptr_nonnull(strstr(ml_last_error(), "dev set ml0"));
	{
		struct ml_qp_info *q = (void *)1;

		ck_assert_int_eq(ml_ctl_qps(NULL, NULL, &q, &n), -EINVAL);
		ck_assert_ptr_nonnull(strstr(ml_last_error(), "qp show"));
		ck_assert_int_eq(ml_ctl_qps(NULL, "ml0", &q, &n), -EINVAL);
		ck_assert_ptr_nonnull(strstr(ml_last_error(), "qp show ml0"));
	}
}
END_TEST

START_TEST(test_list_devices)
{
	char (*names)[ML_DEV_NAME_LEN] = NULL;
	size_t n = 99;
	int r = ml_list_devices(&names, &n);

	ck_assert_int_ge(r, 0);
	ck_assert_uint_eq((size_t)r, n);
	if (access("/sys/class/megalink", F_OK) != 0) {
		ck_assert_int_eq(r, 0);
		ck_assert_ptr_null(names);
	}
	ml_free(names);
	ck_assert_int_eq(ml_list_devices(NULL, &n), -EINVAL);
}
END_TEST

/* ---- thread-local detail ---- */

static void *other_thread(void *arg)
{
	char *seen = arg;

	strcpy(seen, ml_last_error());
	ml_parse_node_id("0", &(uint32_t){ 0 });
	return NULL;
}

START_TEST(test_last_error_thread_local)
{
	char seen[512] = "unset";
	pthread_t t;
	char mine[512];

	ml_parse_node_id("zzz", &(uint32_t){ 0 });
	strcpy(mine, ml_last_error());
	ck_assert_ptr_nonnull(strstr(mine, "zzz"));
	ck_assert_int_eq(pthread_create(&t, NULL, other_thread, seen), 0);
	pthread_join(t, NULL);
	ck_assert_str_eq(seen, "");		/* a new thread starts clean */
	ck_assert_str_eq(ml_last_error(), mine);	/* its failure did not touch ours */
}
END_TEST

START_TEST(test_vec)
{
	struct ml_vec v = { .elem = sizeof(uint64_t) };
	unsigned int i;

	for (i = 0; i < 1000; i++) {
		uint64_t *slot = ml__vec_push(&v);

		ck_assert_ptr_nonnull(slot);
		ck_assert_uint_eq(*slot, 0);
		*slot = i;
	}
	ck_assert_uint_eq(v.n, 1000);
	for (i = 0; i < 1000; i++)
		ck_assert_uint_eq(((uint64_t *)v.data)[i], i);
	free(v.data);
}
END_TEST

START_TEST(test_struct_sizes)
{
	/* the library must be able to hold every counter the header defines */
	ck_assert_int_lt(ML_STAT_MAX, ML_LIB_STATS_SLOTS);
	ck_assert_int_ge(ML_LIB_INFO_PORTS, ML_MAX_PORTS);
	ck_assert_uint_eq(sizeof(struct ml_query_device), 80);

	/* MEGALINK_1.2 put the object counts into ml_dev_attr's reserved
	 * space: the layout of the 1.0 fields and the size must not move */
	ck_assert_uint_eq(sizeof(struct ml_dev_attr), 88);
	ck_assert_uint_eq(offsetof(struct ml_dev_attr, caps), 32);
	ck_assert_uint_eq(offsetof(struct ml_dev_attr, abi_version), 40);
	ck_assert_uint_eq(offsetof(struct ml_dev_attr, ethertype), 44);
	ck_assert_uint_eq(offsetof(struct ml_dev_attr, flags), 46);
	ck_assert_uint_eq(offsetof(struct ml_dev_attr, num_ports), 48);
	ck_assert_uint_eq(offsetof(struct ml_dev_attr, num_ctx), 52);
	ck_assert_uint_eq(offsetof(struct ml_dev_attr, pinned_pages), 72);
	/* struct ml_event grew by its qp member (at the end) in 1.2 */
	ck_assert_uint_eq(offsetof(struct ml_event, qp),
			  offsetof(struct ml_event, neigh) + sizeof(struct ml_neigh_info));
	ck_assert_uint_eq(sizeof(struct ml_qp_info) % 8, 0);
}
END_TEST


/* ---- attribute -> struct conversion ---- */

static struct nl_msg *ntf(uint8_t cmd)
{
	struct nl_msg *msg = nlmsg_alloc();

	ck_assert_ptr_nonnull(msg);
	ck_assert_ptr_nonnull(genlmsg_put(msg, 0, 0, 0x20, 0, 0, cmd, ML_GENL_VERSION));
	return msg;
}

static void parse(struct nl_msg *msg, struct nlattr **tb)
{
	ck_assert_int_eq(genlmsg_parse(nlmsg_hdr(msg), 0, tb, ML_A_MAX, NULL), 0);
}

START_TEST(test_fill_port)
{
	static const uint8_t mac[6] = { 2, 0, 0, 0, 0, 9 };
	struct nlattr *tb[ML_A_MAX + 1];
	struct ml_port_info p;
	struct nl_msg *msg = ntf(ML_CMD_PORT_GET);

	nla_put_u32(msg, ML_A_DEV_INDEX, 3);
	nla_put_string(msg, ML_A_DEV_NAME, "ml3");
	nla_put_u32(msg, ML_A_PORT_INDEX, 5);
	nla_put_u32(msg, ML_A_IFINDEX, 12);
	nla_put_string(msg, ML_A_IFNAME, "a-very-long-interface-name");	/* truncated */
	nla_put(msg, ML_A_MAC, 6, mac);
	nla_put_u32(msg, ML_A_MTU, 9000);
	nla_put_u8(msg, ML_A_CARRIER, 1);
	nla_put_u8(msg, ML_A_LINK_STATE, ML_LINK_UP);
	nla_put_u32(msg, ML_A_NUM_NEIGH, 2);
	parse(msg, tb);
	memset(&p, 0, sizeof(p));
	ml__fill_port(tb, &p);
	ck_assert_str_eq(p.dev, "ml3");
	ck_assert_uint_eq(p.dev_index, 3);
	ck_assert_uint_eq(p.port_index, 5);
	ck_assert_uint_eq(p.ifindex, 12);
	ck_assert_str_eq(p.ifname, "a-very-long-int");
	ck_assert_mem_eq(p.mac, mac, 6);
	ck_assert_uint_eq(p.mtu, 9000);
	ck_assert_uint_eq(p.carrier, 1);
	ck_assert_uint_eq(p.link_state, ML_LINK_UP);
	ck_assert_uint_eq(p.num_neigh, 2);
	nlmsg_free(msg);
}
END_TEST

START_TEST(test_fill_short_attrs)
{
	struct nlattr *tb[ML_A_MAX + 1];
	struct ml_neigh_info n;
	struct ml_dev_attr d;
	struct nl_msg *msg = ntf(ML_CMD_NEIGH_GET);
	uint8_t two[2] = { 1, 2 };

	/* attributes too short for their type are ignored, not over-read */
	nla_put(msg, ML_A_NEIGH_NODE_ID, 2, two);
	nla_put(msg, ML_A_NEIGH_MAC, 2, two);
	nla_put(msg, ML_A_NEIGH_CAPS, 2, two);
	nla_put(msg, ML_A_NEIGH_DEV_NAME, 2, "ab");	/* not NUL-terminated */
	nla_put_u32(msg, ML_A_NEIGH_AGE_MS, 77);
	parse(msg, tb);
	memset(&n, 0, sizeof(n));
	ml__fill_neigh(tb, &n);
	ck_assert_uint_eq(n.node_id, 0);
	ck_assert_uint_eq(n.caps, 0);
	ck_assert_str_eq(n.remote_dev, "ab");
	ck_assert_uint_eq(n.age_ms, 77);
	ck_assert_uint_eq(n.mac[0] | n.mac[1], 0);

	memset(&d, 0, sizeof(d));
	ml__fill_dev(tb, &d);		/* no device attributes at all */
	ck_assert_str_eq(d.name, "");
	nlmsg_free(msg);
}
END_TEST

START_TEST(test_fill_peer_and_neigh6)
{
	static const uint8_t a6[16] = { 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7 };
	static const uint8_t l6[16] = { 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 };
	static const uint8_t v4[4] = { 10, 2, 0, 7 }, zero[16];
	struct nlattr *tb[ML_A_MAX + 1];
	struct ml_peer_entry e;
	struct ml_peer_info pi;
	struct ml_neigh_info n;
	struct nl_msg *msg = ntf(ML_CMD_PEER_GET);

	nla_put_string(msg, ML_A_DEV_NAME, "ml1");
	nla_put_u32(msg, ML_A_DEV_INDEX, 1);
	nla_put(msg, ML_A_PEER_ADDR6, 16, a6);
	nla_put(msg, ML_A_PEER_LOCAL6, 16, l6);
	nla_put_u16(msg, ML_A_UDP_PORT, 4793);
	parse(msg, tb);
	memset(&e, 0, sizeof(e));
	ml__fill_peer_entry(tb, &e);
	ck_assert_str_eq(e.dev, "ml1");
	ck_assert_uint_eq(e.family, AF_INET6);
	ck_assert_mem_eq(e.addr, a6, 16);
	ck_assert_mem_eq(e.local, l6, 16);
	ck_assert_uint_eq(e.udp_port, 4793);
	/* the old struct cannot hold it: no address */
	memset(&pi, 0, sizeof(pi));
	ml__fill_peer(tb, &pi);
	ck_assert_uint_eq(pi.addr, 0);
	nlmsg_free(msg);

	msg = ntf(ML_CMD_PEER_GET);
	nla_put(msg, ML_A_PEER_ADDR, 4, v4);
	nla_put(msg, ML_A_PEER_ADDR6, 15, a6);		/* wrong length: ignored */
	parse(msg, tb);
	memset(&e, 0, sizeof(e));
	ml__fill_peer_entry(tb, &e);
	ck_assert_uint_eq(e.family, AF_INET);
	ck_assert_mem_eq(e.addr, v4, 4);
	ck_assert_mem_eq(e.addr + 4, zero, 12);
	ck_assert_mem_eq(e.local, zero, 16);
	nlmsg_free(msg);

	msg = ntf(ML_CMD_NEIGH_GET);
	nla_put(msg, ML_A_NEIGH_ADDR6, 16, a6);
	parse(msg, tb);
	memset(&n, 0, sizeof(n));
	ml__fill_neigh(tb, &n);
	ck_assert_uint_eq(n.family, AF_INET6);
	ck_assert_mem_eq(n.addr6, a6, 16);
	ck_assert_uint_eq(n.addr, 0);
	nlmsg_free(msg);
}
END_TEST

START_TEST(test_fill_dev_and_stats)
{
	struct nlattr *tb[ML_A_MAX + 1], *nest;
	struct ml_port_stats s;
	struct ml_dev_attr d;
	struct nl_msg *msg = ntf(ML_CMD_DEV_GET);

	nla_put_string(msg, ML_A_DEV_NAME, "ml0");
	nla_put_u32(msg, ML_A_NODE_ID, 0xdeadbeef);
	nla_put_u64(msg, ML_A_CAPS, ML_DEV_CAP_MULTI_PORT | ML_DEV_CAP_QUERY_PORTS);
	nla_put_u16(msg, ML_A_ETHERTYPE, 0x88b5);
	nla_put_u32(msg, ML_A_NUM_PORTS, 4);
	nest = nla_nest_start(msg, ML_A_STATS);
	nla_put_u64(msg, ML_STAT_TX_FRAMES, 1000000000000ULL);
	nla_put_u64(msg, ML_STAT_PAD, 5);			/* ignored */
	nla_put_u64(msg, ML_STAT_RX_NOT_MINE, 7);
	nla_put_u64(msg, 63, 9);				/* future counter */
	nla_put_u32(msg, ML_STAT_DROP_LOOP, 1);			/* too short: ignored */
	nla_nest_end(msg, nest);
	parse(msg, tb);
	memset(&d, 0, sizeof(d));
	ml__fill_dev(tb, &d);
	ck_assert_str_eq(d.name, "ml0");
	ck_assert_uint_eq(d.node_id, 0xdeadbeef);
	ck_assert_uint_eq(d.caps, 3);
	ck_assert_uint_eq(d.ethertype, 0x88b5);
	ck_assert_uint_eq(d.num_ports, 4);

	memset(&s, 0, sizeof(s));
	ml__fill_stats(tb, &s);
	ck_assert_uint_eq(s.stats[ML_STAT_TX_FRAMES], 1000000000000ULL);
	ck_assert_uint_eq(s.stats[ML_STAT_RX_NOT_MINE], 7);
	ck_assert_uint_eq(s.stats[63], 9);
	ck_assert_uint_eq(s.stats[ML_STAT_PAD], 0);
	ck_assert_uint_eq(s.stats[ML_STAT_DROP_LOOP], 0);
	ck_assert_uint_eq(s.present, (1ULL << ML_STAT_TX_FRAMES) |
			  (1ULL << ML_STAT_RX_NOT_MINE) | (1ULL << 63));
	nlmsg_free(msg);
}
END_TEST

START_TEST(test_fill_dev_objects)
{
	struct nlattr *tb[ML_A_MAX + 1];
	struct ml_dev_attr d;
	struct nl_msg *msg = ntf(ML_CMD_DEV_GET);

	nla_put_string(msg, ML_A_DEV_NAME, "ml2");
	nla_put_u32(msg, ML_A_NUM_PORTS, 1);
	nla_put_u32(msg, ML_A_NUM_CTX, 2);
	nla_put_u32(msg, ML_A_NUM_PDS, 3);
	nla_put_u32(msg, ML_A_NUM_MRS, 4);
	nla_put_u32(msg, ML_A_NUM_CQS, 5);
	nla_put_u32(msg, ML_A_NUM_QPS, 6);
	nla_put_u64(msg, ML_A_PINNED_PAGES, 1ULL << 33);
	parse(msg, tb);
	memset(&d, 0, sizeof(d));
	ml__fill_dev(tb, &d);
	ck_assert_uint_eq(d.flags, ML_DEV_ATTR_F_OBJECTS);
	ck_assert_uint_eq(d.num_ports, 1);
	ck_assert_uint_eq(d.num_ctx, 2);
	ck_assert_uint_eq(d.num_pds, 3);
	ck_assert_uint_eq(d.num_mrs, 4);
	ck_assert_uint_eq(d.num_cqs, 5);
	ck_assert_uint_eq(d.num_qps, 6);
	ck_assert_uint_eq(d.pinned_pages, 1ULL << 33);
	ck_assert_uint_eq(d.reserved[0], 0);
	nlmsg_free(msg);

	/* an older kernel: no counts, no flag */
	msg = ntf(ML_CMD_DEV_GET);
	nla_put_string(msg, ML_A_DEV_NAME, "ml2");
	nla_put_u32(msg, ML_A_NUM_PORTS, 1);
	parse(msg, tb);
	memset(&d, 0, sizeof(d));
	ml__fill_dev(tb, &d);
	ck_assert_uint_eq(d.flags, 0);
	ck_assert_uint_eq(d.num_qps, 0);
	ck_assert_uint_eq(d.pinned_pages, 0);
	nlmsg_free(msg);
}
END_TEST

START_TEST(test_fill_qp)
{
	struct nlattr *tb[ML_A_MAX + 1];
	struct ml_qp_info q;
	struct nl_msg *msg = ntf(ML_CMD_QP_ERROR_NTF);

	nla_put_u32(msg, ML_A_DEV_INDEX, 4);
	nla_put_string(msg, ML_A_DEV_NAME, "ml4");
	nla_put_u32(msg, ML_A_QPN, 17);
	nla_put_u8(msg, ML_A_QP_STATE, ML_QPS_ERROR);
	nla_put_u8(msg, ML_A_QP_STATUS, ML_WC_RETRY_EXC_ERR);
	nla_put_u32(msg, ML_A_OWNER_PID, 4242);
	nla_put_u32(msg, ML_A_REMOTE_NODE, 0xb);
	nla_put_u32(msg, ML_A_REMOTE_QPN, 5);
	nla_put_u32(msg, ML_A_PORT_INDEX, 1);
	nla_put_u32(msg, ML_A_SND_PSN, 0xffffff);
	nla_put_u32(msg, ML_A_SND_UNA, 0xfffff0);
	nla_put_u32(msg, ML_A_RCV_PSN, 77);
	nla_put_u32(msg, ML_A_OUTSTANDING, 3);
	nla_put_u64(msg, ML_A_RETRANSMITS, 1ULL << 40);
	nla_put_u64(msg, ML_A_TIMEOUTS, 8);
	nla_put_u64(msg, ML_A_RNR_NAKS, 9);
	nla_put_u64(msg, ML_A_SEQ_NAKS, 10);
	nla_put_u32(msg, ML_A_CWND, 77);
	nla_put_u32(msg, ML_A_SSTHRESH, 256);
	nla_put_u32(msg, ML_A_REORDER_NAK, 40);
	parse(msg, tb);
	memset(&q, 0xff, sizeof(q));
	memset(&q, 0, offsetof(struct ml_qp_info, reserved));
	ml__fill_qp(tb, &q);
	ck_assert_str_eq(q.dev, "ml4");
	ck_assert_uint_eq(q.dev_index, 4);
	ck_assert_uint_eq(q.qpn, 17);
	ck_assert_uint_eq(q.state, ML_QPS_ERROR);
	ck_assert_uint_eq(q.status, ML_WC_RETRY_EXC_ERR);
	ck_assert_uint_eq(q.owner_pid, 4242);
	ck_assert_uint_eq(q.remote_node, 0xb);
	ck_assert_uint_eq(q.remote_qpn, 5);
	ck_assert_uint_eq(q.port_index, 1);
	ck_assert_uint_eq(q.snd_psn, 0xffffff);
	ck_assert_uint_eq(q.snd_una, 0xfffff0);
	ck_assert_uint_eq(q.rcv_psn, 77);
	ck_assert_uint_eq(q.outstanding, 3);
	ck_assert_uint_eq(q.retransmits, 1ULL << 40);
	ck_assert_uint_eq(q.timeouts, 8);
	ck_assert_uint_eq(q.rnr_naks, 9);
	ck_assert_uint_eq(q.seq_naks, 10);
	ck_assert_uint_eq(q.cwnd, 77);
	ck_assert_uint_eq(q.ssthresh, 256);
	ck_assert_uint_eq(q.reorder_nak, 40);
	ck_assert_uint_eq(q.reserved[0], UINT64_MAX);	/* not written */
	nlmsg_free(msg);

	/* short or missing attributes read as 0, never over-read */
	msg = ntf(ML_CMD_QP_GET);
	nla_put(msg, ML_A_QPN, 2, "ab");
	nla_put(msg, ML_A_RETRANSMITS, 2, "ab");
	parse(msg, tb);
	memset(&q, 0, sizeof(q));
	ml__fill_qp(tb, &q);
	ck_assert_uint_eq(q.qpn, 0);
	ck_assert_uint_eq(q.retransmits, 0);
	ck_assert_str_eq(q.dev, "");
	nlmsg_free(msg);
}
END_TEST

static Suite *lib_suite(void)
{
	Suite *s = suite_create("libmegalink");
	TCase *tc;

	tc = tcase_create("errors");
	tcase_add_test(tc, test_strerror);
	tcase_add_test(tc, test_version);
	tcase_add_test(tc, test_last_error_thread_local);
	suite_add_tcase(s, tc);

	tc = tcase_create("names");
	tcase_add_test(tc, test_stat_names_complete);
	tcase_add_test(tc, test_attr_names_complete);
	tcase_add_test(tc, test_other_names);
	tcase_add_test(tc, test_struct_sizes);
	suite_add_tcase(s, tc);

	tc = tcase_create("parse");
	tcase_add_test(tc, test_node_id_ok);
	tcase_add_test(tc, test_node_id_bad);
	tcase_add_test(tc, test_parse_u32);
	tcase_add_test(tc, test_vec);
	suite_add_tcase(s, tc);

	tc = tcase_create("extack");
	tcase_add_test(tc, test_extack_capped_offs);
	tcase_add_test(tc, test_extack_uncapped);
	tcase_add_test(tc, test_extack_missing);
	tcase_add_test(tc, test_extack_no_msg);
	tcase_add_test(tc, test_extack_unknown_attr_and_no_request);
	tcase_add_test(tc, test_extack_done);
	tcase_add_test(tc, test_extack_malformed);
	tcase_add_test(tc, test_extack_unterminated_msg);
	tcase_add_test(tc, test_attr_at_offset);
	suite_add_tcase(s, tc);

	tc = tcase_create("fill");
	tcase_add_test(tc, test_fill_port);
	tcase_add_test(tc, test_fill_short_attrs);
	tcase_add_test(tc, test_fill_peer_and_neigh6);
	tcase_add_test(tc, test_fill_dev_and_stats);
	tcase_add_test(tc, test_fill_dev_objects);
	tcase_add_test(tc, test_fill_qp);
	suite_add_tcase(s, tc);

	tc = tcase_create("no-module");
	tcase_add_test(tc, test_device_open_missing);
	tcase_add_test(tc, test_device_query_args);
	tcase_add_test(tc, test_ctl_open_no_module);
	tcase_add_test(tc, test_monitor_open_no_module);
	tcase_add_test(tc, test_null_handles);
	tcase_add_test(tc, test_list_devices);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(lib_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
