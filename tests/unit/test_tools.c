// SPDX-License-Identifier: MIT
/*
 * Host unit tests of the tools' pure logic: the JSON writer (escaping and
 * structure), command-line parsing of megalink-stat and megalink, the
 * exact JSON keys of each object, and megalink.conf(5): the parser (good
 * files, each error with its line) and the diff against a running state.
 */
#define _GNU_SOURCE
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <megalink/megalink.h>
#include "../../tools/args.h"
#include "../../tools/conf.h"
#include "../../tools/json.h"
#include "../../tools/show.h"
#include "../../tools/prom.h"
#include "../../tools/snap.h"
#include "../../tools/watch.h"
#include "../../tools/topo.h"
#include <stdint.h>
#include <unistd.h>

/* Capture output written to a FILE. */
struct cap {
	char *buf;
	size_t len;
	FILE *f;
};

static void cap_open(struct cap *c)
{
	c->buf = NULL;
	c->len = 0;
	c->f = open_memstream(&c->buf, &c->len);
	ck_assert_ptr_nonnull(c->f);
}

static const char *cap_str(struct cap *c)
{
	fflush(c->f);
	return c->buf;
}

static void cap_close(struct cap *c)
{
	fclose(c->f);
	free(c->buf);
}

static void check_escape(const char *in, const char *want)
{
	struct cap c;

	cap_open(&c);
	json_write_string(c.f, in);
	ck_assert_str_eq(cap_str(&c), want);
	cap_close(&c);
}

START_TEST(test_json_escape)
{
	check_escape("", "\"\"");
	check_escape("ml0", "\"ml0\"");
	check_escape("a\"b", "\"a\\\"b\"");
	check_escape("a\\b", "\"a\\\\b\"");
	check_escape("/", "\"/\"");
	check_escape("\n\r\t\b\f", "\"\\n\\r\\t\\b\\f\"");
	check_escape("\x01\x1f\x7f", "\"\\u0001\\u001f\\u007f\"");
	check_escape("caf\xc3\xa9", "\"caf\xc3\xa9\"");		/* valid UTF-8 kept */
	check_escape("\xe2\x82\xac", "\"\xe2\x82\xac\"");		/* euro sign */
	check_escape("\xf0\x9f\x98\x80", "\"\xf0\x9f\x98\x80\"");	/* 4-byte */
	check_escape("a\xffz", "\"a\\u00ffz\"");			/* invalid byte */
	check_escape("\xc3(", "\"\\u00c3(\"");			/* truncated sequence */
	check_escape("\xc0\xaf", "\"\\u00c0\\u00af\"");		/* overlong */
	check_escape("\xed\xa0\x80", "\"\\u00ed\\u00a0\\u0080\"");	/* surrogate */
	check_escape("\xe2\x82", "\"\\u00e2\\u0082\"");		/* cut at the end */
}
END_TEST

START_TEST(test_json_structure)
{
	struct cap c;
	struct jw w;

	cap_open(&c);
	jw_init(&w, c.f, 0);
	jw_begin_object(&w);
	jw_kstr(&w, "a", "x");
	jw_kuint(&w, "b", 18446744073709551615ULL);
	jw_key(&w, "c");
	jw_begin_array(&w);
	jw_bool(&w, 1);
	jw_bool(&w, 0);
	jw_null(&w);
	jw_int(&w, -5);
	jw_begin_object(&w);
	jw_end_object(&w);
	jw_begin_array(&w);
	jw_end_array(&w);
	jw_end_array(&w);
	jw_kstr(&w, "d", NULL);
	jw_end_object(&w);
	jw_end_line(&w);
	ck_assert_str_eq(cap_str(&c),
		"{\"a\":\"x\",\"b\":18446744073709551615,\"c\":[true,false,null,-5,{},[]],\"d\":null}\n");
	cap_close(&c);
}
END_TEST

START_TEST(test_json_pretty)
{
	struct cap c;
	struct jw w;

	cap_open(&c);
	jw_init(&w, c.f, 1);
	jw_begin_array(&w);
	jw_begin_object(&w);
	jw_kuint(&w, "n", 1);
	jw_key(&w, "e");
	jw_begin_array(&w);
	jw_end_array(&w);
	jw_end_object(&w);
	jw_end_array(&w);
	jw_end_line(&w);
	ck_assert_str_eq(cap_str(&c),
		"[\n    {\n        \"n\": 1,\n        \"e\": []\n    }\n]\n");
	cap_close(&c);
}
END_TEST

START_TEST(test_json_many_elements)
{
	struct cap c;
	struct jw w;
	int i, commas = 0;
	const char *p;

	cap_open(&c);
	jw_init(&w, c.f, 0);
	jw_begin_array(&w);
	for (i = 0; i < 1000; i++)
		jw_uint(&w, 1);
	jw_end_array(&w);
	for (p = cap_str(&c); *p; p++)
		commas += *p == ',';
	ck_assert_int_eq(commas, 999);
	cap_close(&c);
}
END_TEST

/* ---- object JSON keys (the stable contract of megalink-stat -j) ---- */

static struct out mkout(struct cap *c, int json)
{
	struct out_opts o = { .json = json };
	struct out out;

	out_init(&out, &o, c->f);
	return out;
}

START_TEST(test_json_dev_keys)
{
	struct ml_dev_attr d = { .name = "ml0", .index = 0, .node_id = 0x10,
				 .hello_ms = 1000, .dead_ms = 4000, .caps = 3,
				 .abi_version = 1, .ethertype = 0x88b5, .num_ports = 2 };
	struct cap c;
	struct out out;

	cap_open(&c);
	out = mkout(&c, 1);
	print_dev(&out, &d);
	ck_assert_str_eq(cap_str(&c),
		"{\"dev\":\"ml0\",\"index\":0,\"node_id\":16,\"hello_ms\":1000,"
		"\"dead_ms\":4000,\"caps\":3,\"abi_version\":1,\"ethertype\":34997,"
		"\"ports\":2,\"num_ctx\":0,\"num_pds\":0,\"num_mrs\":0,\"num_cqs\":0,"
		"\"num_qps\":0,\"pinned_pages\":0}");
	cap_close(&c);

	/* no object counts from the kernel: no objects line */
	cap_open(&c);
	out = mkout(&c, 0);
	print_dev(&out, &d);
	ck_assert_str_eq(cap_str(&c),
		"dev ml0 index 0 node-id 0x00000010 ports 2 hello 1000ms dead 4000ms "
		"caps 0x3 abi 1 ethertype 0x88b5\n");
	cap_close(&c);
}
END_TEST

START_TEST(test_dev_objects)
{
	struct ml_dev_attr d = { .name = "ml1", .index = 1, .node_id = 2,
				 .hello_ms = 100, .dead_ms = 400, .caps = 7,
				 .abi_version = 1, .ethertype = 0x88b5, .num_ports = 1,
				 .flags = ML_DEV_ATTR_F_OBJECTS, .num_ctx = 2,
				 .num_pds = 3, .num_mrs = 4, .num_cqs = 5, .num_qps = 6,
				 .pinned_pages = 16385 };
	struct cap c;
	struct out out;

	cap_open(&c);
	out = mkout(&c, 1);
	print_dev(&out, &d);
	ck_assert_ptr_nonnull(strstr(cap_str(&c),
		"\"ports\":1,\"num_ctx\":2,\"num_pds\":3,\"num_mrs\":4,\"num_cqs\":5,"
		"\"num_qps\":6,\"pinned_pages\":16385}"));
	cap_close(&c);

	cap_open(&c);
	out = mkout(&c, 0);
	print_dev(&out, &d);
	ck_assert_str_eq(cap_str(&c),
		"dev ml1 index 1 node-id 0x00000002 ports 1 hello 100ms dead 400ms "
		"caps 0x7 abi 1 ethertype 0x88b5\n"
		"    objects ctx 2 pd 3 mr 4 cq 5 qp 6 pinned 16385\n");
	cap_close(&c);
}
END_TEST

static struct ml_qp_info sample_qp(void)
{
	struct ml_qp_info q = { .dev = "ml0", .dev_index = 0, .qpn = 17,
				.state = ML_QPS_RTS, .status = ML_WC_SUCCESS,
				.owner_pid = 812, .remote_node = 2, .remote_qpn = 5,
				.port_index = 1, .snd_psn = 1001, .snd_una = 999,
				.rcv_psn = 40, .outstanding = 2, .retransmits = 3,
				.timeouts = 1, .rnr_naks = 4, .seq_naks = 5,
				.num_paths = 2, .failovers = 6, .cwnd = 64,
				.ssthresh = 128, .reorder_nak = 48 };
	return q;
}

START_TEST(test_qp_text)
{
	struct ml_qp_info q = sample_qp();
	struct cap c;
	struct out out;

	cap_open(&c);
	out = mkout(&c, 0);
	print_qp(&out, &q);
	ck_assert_str_eq(cap_str(&c),
		"qp ml0/17 state RTS peer node 0x00000002 qpn 5 port 1 snd-psn 1001 "
		"snd-una 999 rcv-psn 40 outstanding 2 retransmits 3 timeouts 1 "
		"rnr-naks 4 seq-naks 5 pid 812 paths 2 failovers 6 cwnd 64 ssthresh 128 reorder-nak 48\n");
	cap_close(&c);

	q.state = ML_QPS_ERROR;
	q.status = ML_WC_RETRY_EXC_ERR;
	cap_open(&c);
	out = mkout(&c, 0);
	print_qp(&out, &q);
	ck_assert_str_eq(cap_str(&c),
		"qp ml0/17 state ERROR peer node 0x00000002 qpn 5 port 1 snd-psn 1001 "
		"snd-una 999 rcv-psn 40 outstanding 2 retransmits 3 timeouts 1 "
		"rnr-naks 4 seq-naks 5 pid 812 paths 2 failovers 6 cwnd 64 ssthresh 128 reorder-nak 48 "
		"status retry count exceeded\n");
	cap_close(&c);
}
END_TEST

START_TEST(test_qp_json)
{
	struct ml_qp_info q = sample_qp();
	struct cap c;
	struct out out;

	cap_open(&c);
	out = mkout(&c, 1);
	print_qp(&out, &q);
	ck_assert_str_eq(cap_str(&c),
		"{\"dev\":\"ml0\",\"qpn\":17,\"state\":\"RTS\",\"status\":null,"
		"\"pid\":812,\"remote_node\":2,\"remote_qpn\":5,\"port\":1,"
		"\"snd_psn\":1001,\"snd_una\":999,\"rcv_psn\":40,\"outstanding\":2,"
		"\"retransmits\":3,\"timeouts\":1,\"rnr_naks\":4,\"seq_naks\":5,"
		"\"num_paths\":2,\"failovers\":6,\"cwnd\":64,\"ssthresh\":128,\"reorder_nak\":48}");
	cap_close(&c);

	q.state = ML_QPS_ERROR;
	q.status = ML_WC_RNR_RETRY_EXC_ERR;
	cap_open(&c);
	out = mkout(&c, 1);
	print_qp(&out, &q);
	ck_assert_ptr_nonnull(strstr(cap_str(&c),
		"\"state\":\"ERROR\",\"status\":\"RNR retry count exceeded\","));
	cap_close(&c);

	ck_assert_str_eq(qp_state_upper(ML_QPS_RESET), "RESET");
	ck_assert_str_eq(qp_state_upper(ML_QPS_INIT), "INIT");
	ck_assert_str_eq(qp_state_upper(ML_QPS_RTR), "RTR");
	ck_assert_str_eq(qp_state_upper(ML_QPS_RTS), "RTS");
	ck_assert_str_eq(qp_state_upper(ML_QPS_ERROR), "ERROR");
	ck_assert_str_eq(qp_state_upper(99), "UNKNOWN");
}
END_TEST

START_TEST(test_stats_text_groups)
{
	struct ml_port_stats s = { .dev = "ml0", .port_index = 1, .ifname = "eth1" };
	struct cap c;
	struct out out;
	const char *t;
	unsigned int i;
	char key[64];

	for (i = 0; i < ML_LIB_STATS_SLOTS; i++)
		s.stats[i] = 100 + i;
	cap_open(&c);
	out = mkout(&c, 0);
	print_stats(&out, &s);
	t = cap_str(&c);
	ck_assert_ptr_nonnull(strstr(t, "stats ml0/1 ifname eth1\n"
		"    frames    tx_frames 102 tx_bytes 103 tx_errors 104 rx_frames 105 rx_bytes 106\n"
		"    discovery tx_hello 107 rx_hello 108 "));
	ck_assert_ptr_nonnull(strstr(t, "\n    drops     drop_short 113 "));
	ck_assert_ptr_nonnull(strstr(t, " rx_not_mine 121\n"
		"    transport rx_data 122 tx_ack 123 rx_ack 124 tx_nak 125 rx_nak 126 "
		"retransmits 127 timeouts 128 rnr_naks 129 drop_crc 130 drop_no_qp 131 "
		"drop_seq 132 tx_zerocopy 133\n"));
	/* every counter the library names appears exactly once */
	for (i = 0; i < ML_LIB_STATS_SLOTS; i++) {
		const char *name = ml_stat_name(i), *hit;

		if (!name)
			continue;
		snprintf(key, sizeof(key), " %s %u", name, 100 + i);
		hit = strstr(t, key);
		ck_assert_msg(hit != NULL, "missing %s", key);
		ck_assert_msg(strstr(hit + 1, key) == NULL, "twice: %s", key);
	}
	/* everything known is grouped: no "other" line */
	ck_assert_ptr_null(strstr(t, "other"));
	cap_close(&c);
}
END_TEST

START_TEST(test_json_port_keys)
{
	struct ml_port_info p = { .dev = "ml1", .port_index = 2, .ifname = "ve\"th",
				  .ifindex = 7, .mac = { 0x02, 0, 0, 0, 0, 0xab },
				  .carrier = 1, .link_state = ML_LINK_UP, .mtu = 9000,
				  .num_neigh = 1 };
	struct cap c;
	struct out out;

	cap_open(&c);
	out = mkout(&c, 1);
	print_port(&out, &p, NULL);
	ck_assert_str_eq(cap_str(&c),
		"{\"dev\":\"ml1\",\"port\":2,\"ifname\":\"ve\\\"th\",\"ifindex\":7,"
		"\"state\":\"up\",\"carrier\":true,\"mtu\":9000,"
		"\"mac\":\"02:00:00:00:00:ab\",\"neighbours\":1}");
	cap_close(&c);

	p.link_state = ML_LINK_DOWN;
	p.carrier = 0;
	cap_open(&c);
	out = mkout(&c, 0);
	print_port(&out, &p, NULL);
	ck_assert_str_eq(cap_str(&c),
		"port ml1/2 ifname ve\"th ifindex 7 state down carrier off mtu 9000 "
		"mac 02:00:00:00:00:ab neighbours 1\n");
	cap_close(&c);
}
END_TEST

START_TEST(test_json_neigh_keys)
{
	struct ml_neigh_info n = { .dev = "ml0", .port_index = 0, .ifname = "eth0",
				   .node_id = 2, .remote_dev = "ml3", .remote_port = 1,
				   .mac = { 1, 2, 3, 4, 5, 6 }, .age_ms = 120,
				   .dead_ms = 4000, .mtu = 9000, .caps = 1 };
	struct cap c;
	struct out out;

	cap_open(&c);
	out = mkout(&c, 1);
	print_neigh(&out, &n);
	ck_assert_str_eq(cap_str(&c),
		"{\"dev\":\"ml0\",\"port\":0,\"ifname\":\"eth0\",\"node_id\":2,"
		"\"remote_dev\":\"ml3\",\"remote_port\":1,\"mac\":\"01:02:03:04:05:06\","
		"\"age_ms\":120,\"dead_ms\":4000,\"mtu\":9000,\"caps\":1}");
	cap_close(&c);
	/* Text: the MTU last, "?" when the neighbour did not advertise one. */
	n.mtu = 0;
	cap_open(&c);
	out = mkout(&c, 0);
	print_neigh(&out, &n);
	ck_assert_str_eq(cap_str(&c),
		"neigh ml0/0 ifname eth0 node-id 0x00000002 remote ml3/1 "
		"mac 01:02:03:04:05:06 age 120ms dead 4000ms caps 0x1 mtu ?\n");
	cap_close(&c);
}
END_TEST

START_TEST(test_json_stats_keys)
{
	struct ml_port_stats s = { .dev = "ml0", .port_index = 1, .ifname = "eth1" };
	struct cap c;
	struct out out;
	unsigned int i;
	char key[64];

	s.stats[ML_STAT_TX_FRAMES] = 5;
	s.stats[ML_STAT_DROP_LOOP] = 9;
	cap_open(&c);
	out = mkout(&c, 1);
	print_stats(&out, &s);
	ck_assert_ptr_nonnull(strstr(cap_str(&c),
		"{\"dev\":\"ml0\",\"port\":1,\"ifname\":\"eth1\",\"tx_frames\":5,"));
	ck_assert_ptr_nonnull(strstr(cap_str(&c), "\"drop_loop\":9"));
	for (i = ML_STAT_TX_FRAMES; i <= ML_STAT_MAX; i++) {
		snprintf(key, sizeof(key), "\"%s\":", ml_stat_name(i));
		ck_assert_msg(strstr(cap_str(&c), key) != NULL, "missing %s", key);
	}
	cap_close(&c);
}
END_TEST

START_TEST(test_json_event)
{
	struct ml_event ev;
	struct cap c;
	struct out out;

	memset(&ev, 0, sizeof(ev));
	ev.type = ML_EV_PORT_DOWN;
	ev.reason = ML_REASON_CARRIER;
	strcpy(ev.port.dev, "ml0");
	strcpy(ev.port.ifname, "eth0");
	cap_open(&c);
	out = mkout(&c, 1);
	print_event(&out, &ev);
	ck_assert_str_eq(cap_str(&c),
		"{\"event\":\"port_down\",\"dev\":\"ml0\",\"port\":0,\"ifname\":\"eth0\","
		"\"ifindex\":0,\"state\":\"down\",\"carrier\":false,\"mtu\":0,"
		"\"mac\":\"00:00:00:00:00:00\",\"neighbours\":0,\"reason\":\"carrier\"}\n");
	cap_close(&c);

	memset(&ev, 0, sizeof(ev));
	ev.type = ML_EV_NEIGH_FOUND;
	strcpy(ev.neigh.dev, "ml0");
	ev.neigh.node_id = 0x22;
	cap_open(&c);
	out = mkout(&c, 0);
	print_event(&out, &ev);
	ck_assert_ptr_nonnull(strstr(cap_str(&c), "neigh_found neigh ml0/0 "));
	ck_assert_ptr_nonnull(strstr(cap_str(&c), "node-id 0x00000022"));
	cap_close(&c);
}
END_TEST

START_TEST(test_json_event_qp_error)
{
	struct ml_event ev;
	struct cap c;
	struct out out;

	memset(&ev, 0, sizeof(ev));
	ev.type = ML_EV_QP_ERROR;
	ev.qp = sample_qp();
	ev.qp.state = ML_QPS_ERROR;
	ev.qp.status = ML_WC_RETRY_EXC_ERR;
	cap_open(&c);
	out = mkout(&c, 1);
	print_event(&out, &ev);
	ck_assert_str_eq(cap_str(&c),
		"{\"event\":\"qp_error\",\"dev\":\"ml0\",\"qpn\":17,\"state\":\"ERROR\","
		"\"status\":\"retry count exceeded\",\"pid\":812,\"remote_node\":2,"
		"\"remote_qpn\":5,\"port\":1,\"snd_psn\":1001,\"snd_una\":999,"
		"\"rcv_psn\":40,\"outstanding\":2,\"retransmits\":3,\"timeouts\":1,"
		"\"rnr_naks\":4,\"seq_naks\":5,\"num_paths\":2,\"failovers\":6,\"cwnd\":64,\"ssthresh\":128,\"reorder_nak\":48}\n");
	cap_close(&c);

	cap_open(&c);
	out = mkout(&c, 0);
	print_event(&out, &ev);
	ck_assert_str_eq(cap_str(&c),
		"qp_error qp ml0/17 state ERROR peer node 0x00000002 qpn 5 port 1 "
		"snd-psn 1001 snd-una 999 rcv-psn 40 outstanding 2 retransmits 3 "
		"timeouts 1 rnr-naks 4 seq-naks 5 pid 812 paths 2 failovers 6 cwnd 64 "
		"ssthresh 128 reorder-nak 48 status retry count exceeded\n");
	cap_close(&c);
}
END_TEST

/* ---- megalink-stat arguments ---- */

#define ARGV(...) ((char *[]){ "megalink-stat", __VA_ARGS__, NULL })
#define ARGC(...) ((int)(sizeof((char *[]){ "x", __VA_ARGS__ }) / sizeof(char *)))
#define STAT(o, ...) stat_parse_args(ARGC(__VA_ARGS__), ARGV(__VA_ARGS__), o, err, sizeof(err))
#define ADMIN(o, ...) admin_parse_args(ARGC(__VA_ARGS__), ARGV(__VA_ARGS__), o, err, sizeof(err))

START_TEST(test_stat_args)
{
	struct stat_opts o;
	char err[256];
	char *none[] = { "megalink-stat", NULL };

	ck_assert_int_eq(stat_parse_args(1, none, &o, err, sizeof(err)), 0);
	ck_assert_int_eq(o.obj, OBJ_SUMMARY);
	ck_assert_ptr_null(o.dev);

	ck_assert_int_eq(STAT(&o, "-j", "neigh"), 0);
	ck_assert_int_eq(o.out.json, 1);
	ck_assert_int_eq(o.obj, OBJ_NEIGH);

	ck_assert_int_eq(STAT(&o, "-jp", "port", "ml0"), 0);
	ck_assert(o.out.json && o.out.pretty);
	ck_assert_int_eq(o.obj, OBJ_PORT);
	ck_assert_str_eq(o.dev, "ml0");

	ck_assert_int_eq(STAT(&o, "dev", "show", "ml1"), 0);
	ck_assert_int_eq(o.obj, OBJ_DEV);
	ck_assert_str_eq(o.dev, "ml1");

	ck_assert_int_eq(STAT(&o, "d"), 0);
	ck_assert_int_eq(o.obj, OBJ_DEV);
	ck_assert_int_eq(STAT(&o, "neighbours"), 0);
	ck_assert_int_eq(o.obj, OBJ_NEIGH);
	ck_assert_int_eq(STAT(&o, "neighbors"), 0);
	ck_assert_int_eq(STAT(&o, "stats", "-s"), 0);
	ck_assert_int_eq(o.obj, OBJ_STATS);
	ck_assert_int_eq(o.out.stats, 1);
	ck_assert_int_eq(STAT(&o, "qp"), 0);
	ck_assert_int_eq(o.obj, OBJ_QP);
	ck_assert_ptr_null(o.dev);
	ck_assert_int_eq(STAT(&o, "-j", "qp", "show", "ml1"), 0);
	ck_assert_int_eq(o.obj, OBJ_QP);
	ck_assert_str_eq(o.dev, "ml1");
	ck_assert_int_eq(STAT(&o, "q", "ml0"), 0);
	ck_assert_int_eq(o.obj, OBJ_QP);
	ck_assert_int_eq(STAT(&o, "qps"), 0);
	ck_assert_int_eq(o.obj, OBJ_QP);
	ck_assert_int_eq(STAT(&o, "all", "ml0"), 0);
	ck_assert_int_eq(o.obj, OBJ_ALL);
	ck_assert_int_eq(STAT(&o, "monitor"), 0);
	ck_assert_int_eq(o.obj, OBJ_MONITOR);
	ck_assert_int_eq(STAT(&o, "watch", "-j"), 0);
	ck_assert_int_eq(o.obj, OBJ_MONITOR);
	ck_assert_int_eq(STAT(&o, "--module"), 0);
	ck_assert_int_eq(o.obj, OBJ_MODULE);
	ck_assert_int_eq(STAT(&o, "--help"), 0);
	ck_assert_int_eq(o.help, 1);
	ck_assert_int_eq(STAT(&o, "-V"), 0);
	ck_assert_int_eq(o.version, 1);

	ck_assert_int_eq(STAT(&o, "bogus"), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "unknown object \"bogus\""));
	ck_assert_int_eq(STAT(&o, "--frobnicate"), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "--frobnicate"));
	ck_assert_int_eq(STAT(&o, "dev", "ml0", "extra"), -EINVAL);
	ck_assert_int_eq(STAT(&o, "monitor", "ml0"), -EINVAL);
	ck_assert_int_eq(STAT(&o, "--module", "dev"), -EINVAL);
	ck_assert_int_eq(STAT(&o, "port", "a-device-name-too-long"), -EINVAL);
}
END_TEST

START_TEST(test_admin_args_bind)
{
	struct admin_opts o;
	char err[256];

	ck_assert_int_eq(ADMIN(&o, "port", "bind", "veth0"), 0);
	ck_assert_int_eq(o.cmd, ADM_PORT_BIND);
	ck_assert_str_eq(o.ifname, "veth0");
	ck_assert_ptr_null(o.dev);
	ck_assert_uint_eq(o.set, 0);

	ck_assert_int_eq(ADMIN(&o, "-j", "port", "bind", "veth0", "dev", "ml0",
			       "node-id", "0x10", "hello", "100ms", "dead", "400"), 0);
	ck_assert_int_eq(o.out.json, 1);
	ck_assert_str_eq(o.dev, "ml0");
	ck_assert_uint_eq(o.node_id, 0x10);
	ck_assert_uint_eq(o.hello_ms, 100);
	ck_assert_uint_eq(o.dead_ms, 400);
	ck_assert_uint_eq(o.set, ADM_SET_NODE_ID | ADM_SET_HELLO | ADM_SET_DEAD);

	ck_assert_int_eq(ADMIN(&o, "port", "bind"), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "missing IFNAME"));
	ck_assert_int_eq(ADMIN(&o, "port", "bind", "veth0", "node-id", "0"), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "out of range"));
	ck_assert_int_eq(ADMIN(&o, "port", "bind", "veth0", "node-id", "banana"), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "node id \"banana\""));
	ck_assert_int_eq(ADMIN(&o, "port", "bind", "veth0", "node-id"), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "needs a value"));
	ck_assert_int_eq(ADMIN(&o, "port", "bind", "veth0", "hello", "fast"), -EINVAL);
	ck_assert_int_eq(ADMIN(&o, "port", "bind", "veth0", "colour", "red"), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "unknown keyword \"colour\""));
}
END_TEST

START_TEST(test_admin_args_other)
{
	struct admin_opts o;
	char err[256];

	ck_assert_int_eq(ADMIN(&o, "port", "unbind", "veth0"), 0);
	ck_assert_int_eq(o.cmd, ADM_PORT_UNBIND);
	ck_assert_str_eq(o.ifname, "veth0");
	ck_assert_int_eq(ADMIN(&o, "port", "unbind", "dev", "ml0", "port", "3"), 0);
	ck_assert_ptr_null(o.ifname);
	ck_assert_str_eq(o.dev, "ml0");
	ck_assert_int_eq(o.has_port_index, 1);
	ck_assert_uint_eq(o.port_index, 3);
	ck_assert_int_eq(ADMIN(&o, "port", "unbind"), -EINVAL);
	ck_assert_int_eq(ADMIN(&o, "port", "unbind", "dev", "ml0"), -EINVAL);

	ck_assert_int_eq(ADMIN(&o, "dev", "set", "ml0", "node-id", "42"), 0);
	ck_assert_int_eq(o.cmd, ADM_DEV_SET);
	ck_assert_str_eq(o.dev, "ml0");
	ck_assert_uint_eq(o.node_id, 42);
	ck_assert_uint_eq(o.set, ADM_SET_NODE_ID);
	ck_assert_int_eq(ADMIN(&o, "dev", "set", "ml0", "hello", "0"), 0);
	ck_assert_uint_eq(o.set, ADM_SET_HELLO);	/* explicit 0 goes to the kernel */
	ck_assert_int_eq(ADMIN(&o, "dev", "set", "ml0"), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "nothing to set"));
	ck_assert_int_eq(ADMIN(&o, "dev", "set"), -EINVAL);

	ck_assert_int_eq(ADMIN(&o, "dev", "show"), 0);
	ck_assert_int_eq(o.cmd, ADM_DEV_SHOW);
	ck_assert_ptr_null(o.dev);
	ck_assert_int_eq(ADMIN(&o, "dev"), 0);
	ck_assert_int_eq(o.cmd, ADM_DEV_SHOW);
	ck_assert_int_eq(ADMIN(&o, "dev", "show", "ml2"), 0);
	ck_assert_str_eq(o.dev, "ml2");
	ck_assert_int_eq(ADMIN(&o, "port", "show", "dev", "ml2"), 0);
	ck_assert_int_eq(o.cmd, ADM_PORT_SHOW);
	ck_assert_str_eq(o.dev, "ml2");
	ck_assert_int_eq(ADMIN(&o, "neigh"), 0);
	ck_assert_int_eq(o.cmd, ADM_NEIGH_SHOW);
	ck_assert_int_eq(ADMIN(&o, "stats", "show", "ml0"), 0);
	ck_assert_int_eq(o.cmd, ADM_STATS_SHOW);
	ck_assert_int_eq(ADMIN(&o, "qp", "show", "ml0"), 0);
	ck_assert_int_eq(o.cmd, ADM_QP_SHOW);
	ck_assert_str_eq(o.dev, "ml0");
	ck_assert_int_eq(ADMIN(&o, "-j", "qp"), 0);
	ck_assert_int_eq(o.cmd, ADM_QP_SHOW);
	ck_assert_ptr_null(o.dev);
	ck_assert_int_eq(ADMIN(&o, "qp", "destroy", "5"), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "qp: unknown command"));

	ck_assert_int_eq(ADMIN(&o, "dev", "frob"), -EINVAL);
	ck_assert_int_eq(ADMIN(&o, "widget"), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "unknown object"));
	ck_assert_int_eq(ADMIN(&o, "--help"), 0);
	ck_assert_int_eq(o.help, 1);
	ck_assert_int_eq(ADMIN(&o, "port", "help"), 0);
	ck_assert_int_eq(o.help, 1);
	{
		char *none[] = { "megalink", NULL };

		ck_assert_int_eq(admin_parse_args(1, none, &o, err, sizeof(err)), -EINVAL);
	}
}
END_TEST

START_TEST(test_admin_args_apply)
{
	struct admin_opts o;
	char err[256];

	ck_assert_int_eq(ADMIN(&o, "apply"), 0);
	ck_assert_int_eq(o.cmd, ADM_APPLY);
	ck_assert_int_eq(o.npaths, 0);
	ck_assert_int_eq(ADMIN(&o, "apply", "--dry-run", "--prune", "a.conf", "/etc/x"), 0);
	ck_assert_int_eq(o.dry_run, 1);
	ck_assert_int_eq(o.prune, 1);
	ck_assert_int_eq(o.npaths, 2);
	ck_assert_str_eq(o.paths[1], "/etc/x");
	ck_assert_int_eq(ADMIN(&o, "apply", "--iface", "eth1"), 0);
	ck_assert_str_eq(o.iface, "eth1");
	ck_assert_int_eq(ADMIN(&o, "apply", "--iface=eth2", "-n"), 0);
	ck_assert_str_eq(o.iface, "eth2");
	ck_assert_int_eq(o.dry_run, 1);
	ck_assert_int_eq(ADMIN(&o, "apply", "--iface"), -EINVAL);
	ck_assert_int_eq(ADMIN(&o, "apply", "--force"), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "--force"));
	ck_assert_int_eq(ADMIN(&o, "apply", "--prune", "--iface", "eth1"), -EINVAL);
	ck_assert_int_eq(ADMIN(&o, "show", "--config"), 0);
	ck_assert_int_eq(o.cmd, ADM_SHOW_CONFIG);
	ck_assert_ptr_null(o.dev);
	ck_assert_int_eq(ADMIN(&o, "show", "--config", "ml1"), 0);
	ck_assert_str_eq(o.dev, "ml1");
	ck_assert_int_eq(ADMIN(&o, "show"), -EINVAL);
	ck_assert_int_eq(ADMIN(&o, "show", "--config", "ml1", "ml2"), -EINVAL);
}
END_TEST

START_TEST(test_parse_ms)
{
	uint32_t v;

	ck_assert_int_eq(parse_ms("100", &v), 0);
	ck_assert_uint_eq(v, 100);
	ck_assert_int_eq(parse_ms("250ms", &v), 0);
	ck_assert_uint_eq(v, 250);
	ck_assert_int_eq(parse_ms("ms", &v), -EINVAL);
	ck_assert_int_eq(parse_ms("1s", &v), -EINVAL);
	ck_assert_int_eq(arg_matches("neigh", "neighbours"), 0);
	ck_assert_int_eq(arg_matches("", "dev"), -1);
	ck_assert_int_eq(arg_matches("devices", "dev"), -1);
}
END_TEST

/* ---- megalink.conf(5) ---- */

static size_t conf_text(struct conf *c, const char *text)
{
	conf_init(c);
	if (conf_parse_text(c, "t.conf", text))
		return c->nerrs;
	return conf_finish(c);
}

/* @text has exactly one error, on @line, containing @msg. */
static void conf_bad(const char *text, unsigned int line, const char *msg)
{
	struct conf c;
	char want[64];

	ck_assert_uint_eq(conf_text(&c, text), 1);
	snprintf(want, sizeof(want), "t.conf:%u: ", line);
	ck_assert_msg(!strncmp(c.errs[0], want, strlen(want)) && strstr(c.errs[0], msg),
		      "got \"%s\", want \"%s...%s\"", c.errs[0], want, msg);
	conf_free(&c);
}

START_TEST(test_conf_good)
{
	struct conf c;

	ck_assert_uint_eq(conf_text(&c,
		"# fabric of node a\n"
		"\n"
		"dev ml0 node-id 0xa hello 100ms dead 400   # comment\n"
		"\tport eth1 dev ml0\n"
		"port eth2 dev ml0 up\r\n"
		"dev ml1\n"
		"dev ml1 hello 200\n"
		"dev ml1 hello 200 node-id 11\n"
		"port eth3 dev ml1"), 0);
	ck_assert_uint_eq(c.ndevs, 2);
	ck_assert_str_eq(c.devs[0].name, "ml0");
	ck_assert_uint_eq(c.devs[0].set, CONF_SET_NODE_ID | CONF_SET_HELLO | CONF_SET_DEAD);
	ck_assert_uint_eq(c.devs[0].node_id, 0xa);
	ck_assert_uint_eq(c.devs[0].hello_ms, 100);
	ck_assert_uint_eq(c.devs[0].dead_ms, 400);
	ck_assert_uint_eq(c.devs[0].loc.line, 3);
	ck_assert_uint_eq(c.devs[1].set, CONF_SET_NODE_ID | CONF_SET_HELLO);
	ck_assert_uint_eq(c.devs[1].node_id, 11);
	ck_assert_uint_eq(c.devs[1].hello_loc.line, 7);
	ck_assert_uint_eq(c.nports, 3);
	ck_assert_str_eq(c.ports[1].ifname, "eth2");
	ck_assert_int_eq(c.ports[1].up, 1);
	ck_assert_int_eq(c.ports[0].up, 0);
	ck_assert_int_eq(c.ports[2].devi, 1);
	ck_assert_uint_eq(c.devs[0].nports, 2);
	conf_free(&c);

	/* empty and comment-only files are fine */
	ck_assert_uint_eq(conf_text(&c, ""), 0);
	conf_free(&c);
	ck_assert_uint_eq(conf_text(&c, "# nothing\n   \n\t# more\n"), 0);
	ck_assert_uint_eq(c.ndevs + c.nports, 0);
	conf_free(&c);
}
END_TEST

START_TEST(test_conf_files)
{
	char dir[] = "/tmp/ml-conf-test.XXXXXX", p[128];
	struct conf c;
	FILE *f;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	/* lexical order: 20 adds a port to the device 10 defines */
	snprintf(p, sizeof(p), "%s/20-b.conf", dir);
	f = fopen(p, "w");
	fputs("port eth2 dev ml0\ndev ml0 helo 5\n", f);
	fclose(f);
	snprintf(p, sizeof(p), "%s/10-a.conf", dir);
	f = fopen(p, "w");
	fputs("dev ml0 node-id 1\nport eth1 dev ml0\n", f);
	fclose(f);
	snprintf(p, sizeof(p), "%s/notes.txt", dir);
	f = fopen(p, "w");
	fputs("garbage\n", f);
	fclose(f);

	conf_init(&c);
	ck_assert_uint_eq(conf_parse_path(&c, dir), 1);
	snprintf(p, sizeof(p), "%s/20-b.conf:2: dev ml0: unknown key \"helo\"", dir);
	ck_assert_msg(!strncmp(c.errs[0], p, strlen(p)), "%s", c.errs[0]);
	ck_assert_uint_eq(c.nports, 2);
	ck_assert_str_eq(c.ports[0].ifname, "eth1");
	conf_free(&c);

	snprintf(p, sizeof(p), "%s/20-b.conf", dir);
	f = fopen(p, "w");
	fputs("port eth2 dev ml0\n", f);
	fclose(f);
	conf_init(&c);
	ck_assert_uint_eq(conf_parse_path(&c, dir), 0);
	ck_assert_uint_eq(conf_finish(&c), 0);
	ck_assert_uint_eq(c.devs[0].nports, 2);
	conf_free(&c);

	conf_init(&c);
	snprintf(p, sizeof(p), "%s/missing.conf", dir);
	ck_assert_uint_eq(conf_parse_path(&c, p), 1);
	ck_assert_ptr_nonnull(strstr(c.errs[0], "missing.conf:0: No such file"));
	conf_free(&c);

	snprintf(p, sizeof(p), "rm -rf %s", dir);
	ck_assert_int_eq(system(p), 0);
}
END_TEST

START_TEST(test_conf_errors)
{
	/* syntax: each error class names its field and line */
	conf_bad("frob ml0\n", 1, "unknown statement \"frob\"");
	conf_bad("\ndev\n", 2, "dev: missing device name");
	conf_bad("dev ml/0\n", 1, "dev \"ml/0\": invalid device name");
	conf_bad("dev ml0123456789abcdef\n", 1, "invalid device name");
	conf_bad("dev ml0 helo 100\n", 1, "unknown key \"helo\"");
	conf_bad("dev ml0\ndev ml0 hello\n", 2, "hello needs a value");
	conf_bad("dev ml0 hello fast\n", 1, "hello \"fast\": not a number");
	conf_bad("dev ml0 dead 1s\n", 1, "dead \"1s\": not a number");
	conf_bad("dev ml0 node-id 0xg\n", 1, "node-id \"0xg\": not a number");
	conf_bad("dev ml0 node-id 99999999999\n", 1, "node-id \"99999999999\": not a number");
	/* ranges */
	conf_bad("dev ml0 hello 5\n", 1, "hello 5 out of range (10..60000 ms)");
	conf_bad("dev ml0 hello 60001\n", 1, "hello 60001 out of range");
	conf_bad("dev ml0 dead 29\n", 1, "dead 29 out of range (30..600000 ms)");
	conf_bad("dev ml0 node-id 0\n", 1, "node-id 0 out of range");
	conf_bad("dev ml0 node-id 0xffffffff\n", 1, "node-id 0xffffffff out of range");
	/* repeated and conflicting settings */
	conf_bad("dev ml0 hello 100 hello 100\n", 1, "hello given twice");
	conf_bad("dev ml0 hello 100\n#\ndev ml0 hello 200\n", 3,
		 "hello 200 conflicts with hello 100 at t.conf:1");
	conf_bad("dev ml0 node-id 1\ndev ml0 node-id 2\n", 2,
		 "node-id 0x00000002 conflicts with node-id 0x00000001 at t.conf:1");
	/* ports */
	conf_bad("dev ml0\nport\n", 2, "port: missing IFNAME");
	conf_bad("dev ml0\nport eth1\n", 2, "port eth1: missing dev NAME");
	conf_bad("dev ml0\nport eth1 dev\n", 2, "port eth1: dev needs a value");
	conf_bad("dev ml0\nport eth1 dev ml0 mtu 9000\n", 2, "unknown key \"mtu\"");
	conf_bad("dev ml0\nport eth1 dev ml0 dev ml0\n", 2, "dev given twice");
	conf_bad("dev ml0\nport eth:1 dev ml0\n", 2, "port \"eth:1\": invalid interface name");
	conf_bad("dev ml0\nport abcdefghijklmnop dev ml0\n", 2, "invalid interface name");
	conf_bad("dev ml0\nport eth1 dev ml0\nport eth1 dev ml0\n", 3,
		 "port eth1: duplicate port (already at t.conf:2)");
	conf_bad("dev ml0\ndev ml1\nport eth1 dev ml0\nport eth1 dev ml1\n", 4,
		 "port eth1: in dev ml1 and in dev ml0 at t.conf:3");
	/* semantic checks, after every file */
	conf_bad("port eth1 dev ml7\n", 1, "port eth1: dev ml7 is not defined");
	conf_bad("dev ml0 hello 100\ndev ml0 dead 150\n", 2,
		 "dev ml0: dead 150 must be at least twice hello 100");
	conf_bad("dev ml0 node-id 5\ndev ml1 node-id 5\n", 2,
		 "dev ml1: node-id 0x00000005 is also dev ml0's (t.conf:1)");
	conf_bad("dev ml0\nport e0 dev ml0\nport e1 dev ml0\nport e2 dev ml0\n"
		 "port e3 dev ml0\nport e4 dev ml0\nport e5 dev ml0\nport e6 dev ml0\n"
		 "port e7 dev ml0\nport e8 dev ml0\n", 10, "dev ml0 has more than 8 ports");
	/* peers */
	conf_bad("dev ml0\npeer\n", 2, "peer: missing ADDR");
	conf_bad("dev ml0\npeer 10.0.0.300 dev ml0\n", 2,
		 "peer \"10.0.0.300\": not an IPv4 or IPv6 address");
	conf_bad("dev ml0\npeer pod-b dev ml0\n", 2, "not an IPv4 or IPv6 address");
	conf_bad("dev ml0\npeer 10.0.0.1\n", 2, "peer 10.0.0.1: missing dev NAME");
	conf_bad("dev ml0\npeer 224.0.0.5 dev ml0\n", 2, "peer 224.0.0.5: not a unicast IPv4");
	conf_bad("dev ml0\npeer 0.0.0.0 dev ml0\n", 2, "not a unicast IPv4 address");
	conf_bad("dev ml0\npeer 255.255.255.255 dev ml0\n", 2, "not a unicast IPv4 address");
	conf_bad("dev ml0\npeer ff02::1 dev ml0\n", 2, "peer ff02::1: not a unicast IPv6");
	conf_bad("dev ml0\npeer :: dev ml0\n", 2, "not a unicast IPv6 address");
	conf_bad("dev ml0\npeer ::ffff:10.0.0.1 dev ml0\n", 2, "an IPv4-mapped IPv6 address");
	conf_bad("dev ml0\npeer fe80::1 dev ml0\n", 2, "a link-local IPv6 address");
	conf_bad("dev ml0\npeer 10.0.0.1 dev ml0 local\n", 2, "peer 10.0.0.1: local needs a value");
	conf_bad("dev ml0\npeer 10.0.0.1 dev ml0 local fd00::1\n", 2,
		 "peer 10.0.0.1: local fd00::1 is not an IPv4 address like the peer's");
	conf_bad("dev ml0\npeer 10.0.0.1 dev ml0 local 10.0.0.2 local 10.0.0.2\n", 2,
		 "local given twice");
	conf_bad("dev ml0\npeer 10.0.0.1 dev ml0 local 224.1.1.1\n", 2,
		 "peer 10.0.0.1: local 224.1.1.1: not a unicast IPv4 address");
	conf_bad("dev ml0\npeer 10.0.0.1 dev ml0 port 4793\n", 2,
		 "peer 10.0.0.1: unknown key \"port\" (dev, local)");
	conf_bad("dev ml0\npeer fd00:0::7 dev ml0\npeer fd00::7 dev ml0\n", 3,
		 "peer fd00::7: duplicate peer (already at t.conf:2)");
	conf_bad("dev ml0\ndev ml1\npeer 10.0.0.1 dev ml0\npeer 10.0.0.1 dev ml1\n", 4,
		 "peer 10.0.0.1: in dev ml1 and in dev ml0 at t.conf:3");
	conf_bad("peer 10.0.0.1 dev ml7\n", 1, "peer 10.0.0.1: dev ml7 is not defined");
	{
		char many[4096] = "dev ml0\n";
		int k;

		for (k = 1; k <= ML_MAX_PEERS + 1; k++)
			snprintf(many + strlen(many), sizeof(many) - strlen(many),
				 "peer 10.1.0.%d dev ml0\n", k);
		conf_bad(many, ML_MAX_PEERS + 2, "dev ml0 has more than 64 peers");
	}
}
END_TEST

START_TEST(test_conf_errors_several)
{
	struct conf c;
	int i;
	char big[2048] = "";

	/* every bad line is reported, and nothing of a bad line is kept */
	conf_init(&c);
	ck_assert_uint_eq(conf_parse_text(&c, "t.conf",
		"dev ml0 hello 100\n"
		"dev ml0 dead 400 helo 3\n"
		"bogus\n"
		"port eth1 dev ml0 x\n"), 3);
	ck_assert_ptr_nonnull(strstr(c.errs[0], "t.conf:2: "));
	ck_assert_ptr_nonnull(strstr(c.errs[1], "t.conf:3: "));
	ck_assert_ptr_nonnull(strstr(c.errs[2], "t.conf:4: "));
	ck_assert_uint_eq(c.devs[0].set, CONF_SET_HELLO);
	ck_assert_uint_eq(c.nports, 0);
	conf_free(&c);

	for (i = 0; i < 40; i++)
		strcat(big, "x\n");
	conf_init(&c);
	ck_assert_uint_eq(conf_parse_text(&c, "t.conf", big), CONF_MAX_ERRORS + 1);
	ck_assert_ptr_nonnull(strstr(c.errs[CONF_MAX_ERRORS], "too many errors"));
	conf_free(&c);
}
END_TEST

static void mkdev(struct ml_dev_attr *d, const char *name, uint32_t node, uint32_t hello,
		  uint32_t dead)
{
	memset(d, 0, sizeof(*d));
	strcpy(d->name, name);
	d->node_id = node;
	d->hello_ms = hello;
	d->dead_ms = dead;
}

static void mkport(struct ml_port_info *p, const char *ifname, const char *dev)
{
	memset(p, 0, sizeof(*p));
	strcpy(p->ifname, ifname);
	strcpy(p->dev, dev);
}

static const char *plan_text(struct cap *cp, const struct conf_plan *plan)
{
	size_t i;

	cap_open(cp);
	for (i = 0; i < plan->nacts; i++)
		conf_action_print(cp->f, &plan->acts[i]);
	return cap_str(cp);
}

static int fake_netdev(const char *ifname, void *arg)
{
	(void)arg;
	if (!strcmp(ifname, "gone"))
		return -1;
	return strcmp(ifname, "down") ? 1 : 0;
}

START_TEST(test_conf_diff)
{
	const char *text =
		"dev ml0 node-id 0xa hello 100 dead 400\n"
		"port eth1 dev ml0\n"
		"port eth2 dev ml0\n"
		"dev ml1 node-id 0xb\n"
		"port down dev ml1 up\n"
		"port gone dev ml1\n";
	struct conf_diff_opts o = { .netdev = fake_netdev };
	struct ml_dev_attr rd[3];
	struct ml_port_info rp[4];
	struct conf_plan plan;
	struct conf c;
	struct cap cp;

	ck_assert_uint_eq(conf_text(&c, text), 0);

	/* nothing running: create both devices */
	ck_assert_int_eq(conf_diff(&c, rd, 0, rp, 0, &o, &plan), 0);
	ck_assert_str_eq(plan_text(&cp, &plan),
		"+ bind port eth1 to new dev ml0 node-id 0x0000000a hello 100 dead 400\n"
		"+ bind port eth2 to dev ml0\n"
		"+ set link down up\n"
		"+ bind port down to new dev ml1 node-id 0x0000000b\n"
		"# skip port gone: no such network device\n");
	ck_assert_uint_eq(conf_plan_changes(&plan), 4);
	ck_assert_int_eq(plan.acts[1].cdev, 0);
	cap_close(&cp);
	conf_plan_free(&plan);

	/* as configured: nothing to do (but the note) */
	mkdev(&rd[0], "ml0", 0xa, 100, 400);
	mkdev(&rd[1], "ml4", 0xb, 1000, 4000);	/* found by node id */
	mkport(&rp[0], "eth1", "ml0");
	mkport(&rp[1], "eth2", "ml0");
	mkport(&rp[2], "down", "ml4");
	ck_assert_int_eq(conf_diff(&c, rd, 2, rp, 3, &o, &plan), 0);
	ck_assert_uint_eq(conf_plan_changes(&plan), 0);
	ck_assert_uint_eq(plan.nacts, 1);
	conf_plan_free(&plan);

	/* a changed setting, a port in the wrong device, an extra port */
	rd[0].hello_ms = 200;
	rd[0].node_id = 0xc;
	mkdev(&rd[2], "ml2", 0x22, 1000, 4000);
	mkport(&rp[1], "eth2", "ml2");
	mkport(&rp[3], "extra", "ml0");
	ck_assert_int_eq(conf_diff(&c, rd, 3, rp, 4, &o, &plan), 0);
	ck_assert_str_eq(plan_text(&cp, &plan),
		"~ set dev ml0 node-id 0x0000000c -> 0x0000000a hello 200 -> 100\n"
		"- unbind port eth2 from dev ml2 (its last port: dev ml2 goes away)\n"
		"+ bind port eth2 to dev ml0\n"
		"# skip port gone: no such network device\n");
	cap_close(&cp);
	conf_plan_free(&plan);

	/* --prune also removes the extra port */
	o.prune = 1;
	ck_assert_int_eq(conf_diff(&c, rd, 3, rp, 4, &o, &plan), 0);
	ck_assert_uint_eq(plan.nacts, 5);
	plan_text(&cp, &plan);
	ck_assert_ptr_nonnull(strstr(cp.buf, "- unbind port extra from dev ml0\n"));
	cap_close(&cp);
	conf_plan_free(&plan);

	/* --iface: only that port, no settings; quiet for a netdev not named */
	o.prune = 0;
	o.iface = "eth2";
	ck_assert_int_eq(conf_diff(&c, rd, 3, rp, 4, &o, &plan), 0);
	ck_assert_str_eq(plan_text(&cp, &plan),
		"- unbind port eth2 from dev ml2 (its last port: dev ml2 goes away)\n"
		"+ bind port eth2 to dev ml0\n");
	cap_close(&cp);
	conf_plan_free(&plan);
	o.iface = "eth9";
	ck_assert_int_eq(conf_diff(&c, rd, 3, rp, 4, &o, &plan), 0);
	ck_assert_uint_eq(plan.nacts, 0);
	conf_plan_free(&plan);
	conf_free(&c);
}
END_TEST

static void mkrpeer(struct conf_rpeer *p, const char *dev, const char *addr, const char *local)
{
	memset(p, 0, sizeof(*p));
	strcpy(p->dev, dev);
	strcpy(p->addr, addr);
	strcpy(p->local, local ? local : "");
}

START_TEST(test_conf_diff_peers)
{
	const char *text =
		"dev pa node-id 0xa\n"
		"port eth1 dev pa\n"
		"peer 10.2.0.7 dev pa\n"
		"peer fd00:0:0::9 dev pa local fd00::1\n"
		"dev pb node-id 0xb\n"
		"port gone dev pb\n"
		"peer 10.3.0.1 dev pb\n";
	struct conf_diff_opts o = { .netdev = fake_netdev };
	struct conf_rpeer rq[3];
	struct ml_dev_attr rd[1];
	struct ml_port_info rp[1];
	struct conf_plan plan;
	struct conf c;
	struct cap cp;

	ck_assert_uint_eq(conf_text(&c, text), 0);
	ck_assert_str_eq(c.peers[1].addr, "fd00::9");	/* canonical form */

	/* nothing running: the peers follow the device's creation */
	ck_assert_int_eq(conf_diff(&c, rd, 0, rp, 0, &o, &plan), 0);
	ck_assert_str_eq(plan_text(&cp, &plan),
		"+ bind port eth1 to new dev pa node-id 0x0000000a\n"
		"# skip port gone: no such network device\n"
		"+ add peer 10.2.0.7 to dev pa\n"
		"+ add peer fd00::9 to dev pa local fd00::1\n"
		"# skip peer 10.3.0.1: dev pb has no port yet\n");
	ck_assert_int_eq(plan.acts[2].cdev, 0);		/* named as apply created it */
	cap_close(&cp);
	conf_plan_free(&plan);

	/* as configured: nothing to do */
	mkdev(&rd[0], "ml3", 0xa, 1000, 4000);
	mkport(&rp[0], "eth1", "ml3");
	mkrpeer(&rq[0], "ml3", "10.2.0.7", NULL);
	mkrpeer(&rq[1], "ml3", "fd00::9", "fd00::1");
	o.peers = rq;
	o.npeers = 2;
	ck_assert_int_eq(conf_diff(&c, rd, 1, rp, 1, &o, &plan), 0);
	ck_assert_uint_eq(conf_plan_changes(&plan), 0);
	conf_plan_free(&plan);

	/* a changed local address is replaced; an extra peer stays without --prune */
	mkrpeer(&rq[1], "ml3", "fd00::9", NULL);
	mkrpeer(&rq[2], "ml3", "192.0.2.1", NULL);
	o.npeers = 3;
	ck_assert_int_eq(conf_diff(&c, rd, 1, rp, 1, &o, &plan), 0);
	ck_assert_str_eq(plan_text(&cp, &plan),
		"# skip port gone: no such network device\n"
		"- remove peer fd00::9 from dev ml3\n"
		"+ add peer fd00::9 to dev ml3 local fd00::1\n"
		"# skip peer 10.3.0.1: dev pb has no port yet\n");
	cap_close(&cp);
	conf_plan_free(&plan);

	/* --prune removes it */
	o.prune = 1;
	ck_assert_int_eq(conf_diff(&c, rd, 1, rp, 1, &o, &plan), 0);
	plan_text(&cp, &plan);
	ck_assert_ptr_nonnull(strstr(cp.buf, "- remove peer 192.0.2.1 from dev ml3\n"));
	ck_assert_uint_eq(conf_plan_changes(&plan), 3);
	cap_close(&cp);
	conf_plan_free(&plan);

	/* --iface of a running device's port: the boot-time apply did its peers */
	o.prune = 0;
	o.iface = "eth1";
	ck_assert_int_eq(conf_diff(&c, rd, 1, rp, 1, &o, &plan), 0);
	ck_assert_uint_eq(plan.nacts, 0);
	conf_plan_free(&plan);
	/* ... but a device the hotplug creates gets its peers */
	ck_assert_int_eq(conf_diff(&c, rd, 0, rp, 0, &o, &plan), 0);
	ck_assert_str_eq(plan_text(&cp, &plan),
		"+ bind port eth1 to new dev pa node-id 0x0000000a\n"
		"+ add peer 10.2.0.7 to dev pa\n"
		"+ add peer fd00::9 to dev pa local fd00::1\n");
	cap_close(&cp);
	conf_plan_free(&plan);

	/* show --config prints what apply reads back */
	cap_open(&cp);
	conf_print_peer(cp.f, &rq[0]);
	mkrpeer(&rq[1], "ml3", "fd00::9", "fd00::1");
	conf_print_peer(cp.f, &rq[1]);
	ck_assert_str_eq(cap_str(&cp), "peer 10.2.0.7 dev ml3\npeer fd00::9 dev ml3 local fd00::1\n");
	cap_close(&cp);
	conf_free(&c);
}
END_TEST

START_TEST(test_conf_round_trip)
{
	struct conf_diff_opts o = { .prune = 1 };
	struct ml_dev_attr rd[2];
	struct ml_port_info rp[3];
	struct conf_plan plan;
	struct conf c;
	struct cap cp;

	mkdev(&rd[0], "ml0", 0xa, 100, 400);
	mkdev(&rd[1], "ml3", 0xfffffffe, 60000, 600000);
	mkport(&rp[0], "eth1", "ml0");
	mkport(&rp[1], "veth-x.1", "ml3");
	mkport(&rp[2], "eth2", "ml0");
	cap_open(&cp);
	conf_print_dev(cp.f, &rd[0]);
	conf_print_port(cp.f, &rp[0]);
	conf_print_port(cp.f, &rp[2]);
	conf_print_dev(cp.f, &rd[1]);
	conf_print_port(cp.f, &rp[1]);
	ck_assert_str_eq(cap_str(&cp),
		"dev ml0 node-id 0x0000000a hello 100 dead 400\n"
		"port eth1 dev ml0\n"
		"port eth2 dev ml0\n"
		"dev ml3 node-id 0xfffffffe hello 60000 dead 600000\n"
		"port veth-x.1 dev ml3\n");
	ck_assert_uint_eq(conf_text(&c, cp.buf), 0);
	ck_assert_int_eq(conf_diff(&c, rd, 2, rp, 3, &o, &plan), 0);
	ck_assert_uint_eq(plan.nacts, 0);
	conf_plan_free(&plan);
	conf_free(&c);
	cap_close(&cp);
}
END_TEST

/* ---- Prometheus exposition ---- */

/* Occurrences of @needle in @hay. */
static int count_of(const char *hay, const char *needle)
{
	int n = 0;

	for (; (hay = strstr(hay, needle)); hay += strlen(needle))
		n++;
	return n;
}

START_TEST(test_prom_escape)
{
	struct cap c;
	struct prom p;
	struct prom_label l[] = { { "ifname", "a\\b\"c\nd" } };

	cap_open(&c);
	prom_escape_label(c.f, "x\\y\"z\n");
	ck_assert_str_eq(cap_str(&c), "x\\\\y\\\"z\\n");
	cap_close(&c);

	cap_open(&c);
	prom_escape_help(c.f, "a \"q\" \\ b\nc");
	ck_assert_str_eq(cap_str(&c), "a \"q\" \\\\ b\\nc");
	cap_close(&c);

	cap_open(&c);
	prom_init(&p, c.f);
	prom_sample_u64(&p, "megalink_x", l, 1, 7);
	ck_assert_str_eq(cap_str(&c), "megalink_x{ifname=\"a\\\\b\\\"c\\nd\"} 7\n");
	cap_close(&c);
}
END_TEST

START_TEST(test_prom_u64_max)
{
	struct cap c;
	struct prom p;

	cap_open(&c);
	prom_init(&p, c.f);
	prom_family(&p, "megalink_big_total", "counter", "Big.");
	prom_sample_u64(&p, "megalink_big_total", NULL, 0, UINT64_MAX);
	prom_sample_u64(&p, "megalink_big_total", NULL, 0, (1ULL << 53) + 1);
	ck_assert_str_eq(cap_str(&c),
		"# HELP megalink_big_total Big.\n"
		"# TYPE megalink_big_total counter\n"
		"megalink_big_total 18446744073709551615\n"
		"megalink_big_total 9007199254740993\n");
	cap_close(&c);
}
END_TEST

START_TEST(test_prom_family_once)
{
	struct cap c;
	struct prom p;

	cap_open(&c);
	prom_init(&p, c.f);
	prom_family(&p, "megalink_a", "gauge", "A.");
	prom_family(&p, "megalink_a", "gauge", "A.");
	prom_sample_u64(&p, "megalink_a", NULL, 0, 1);
	prom_family(&p, "megalink_b_total", "counter", "B.");
	ck_assert_int_eq(count_of(cap_str(&c), "# HELP megalink_a "), 1);
	ck_assert_int_eq(count_of(cap_str(&c), "# TYPE megalink_a gauge\n"), 1);
	ck_assert_int_eq(count_of(cap_str(&c), "# TYPE megalink_b_total counter\n"), 1);
	cap_close(&c);
}
END_TEST

/* A made-up snapshot: two devices, a port each, a neighbour, a QP. */
static void fake_snap(struct snap *s, uint64_t tx)
{
	static struct ml_dev_attr d[2];
	static struct ml_port_info p[2];
	static struct ml_neigh_info n[1];
	static struct ml_port_stats st[2];
	static struct ml_qp_info q[1];
	unsigned int i;

	memset(s, 0, sizeof(*s));
	memset(d, 0, sizeof(d));
	memset(p, 0, sizeof(p));
	memset(n, 0, sizeof(n));
	memset(st, 0, sizeof(st));
	memset(q, 0, sizeof(q));
	for (i = 0; i < 2; i++) {
		snprintf(d[i].name, sizeof(d[i].name), "ml%u", i);
		d[i].index = i;
		d[i].node_id = 0xa + i;
		d[i].num_ports = 1;
		d[i].flags = i ? ML_DEV_ATTR_F_OBJECTS : 0;
		snprintf(p[i].dev, sizeof(p[i].dev), "ml%u", i);
		p[i].dev_index = i;
		p[i].port_index = 0;
		p[i].ifindex = 10 + i;
		snprintf(p[i].ifname, sizeof(p[i].ifname), i ? "v\"b" : "va");
		p[i].link_state = ML_LINK_UP;
		p[i].carrier = 1;
		st[i] = (struct ml_port_stats){ .dev_index = i, .ifindex = 10 + i };
		snprintf(st[i].dev, sizeof(st[i].dev), "ml%u", i);
		snprintf(st[i].ifname, sizeof(st[i].ifname), "%s", p[i].ifname);
		st[i].stats[ML_STAT_TX_FRAMES] = tx;
		st[i].stats[ML_STAT_TX_BYTES] = UINT64_MAX;
	}
	snprintf(n[0].dev, sizeof(n[0].dev), "ml0");
	n[0].node_id = 0xb;
	snprintf(q[0].dev, sizeof(q[0].dev), "ml1");
	q[0].qpn = 5;
	q[0].state = ML_QPS_RTS;
	q[0].retransmits = 3;
	s->devs = d;
	s->ndevs = 2;
	s->ports = p;
	s->nports = 2;
	s->neighs = n;
	s->nneighs = 1;
	s->stats = st;
	s->nstats = 2;
	s->qps = q;
	s->nqps = 1;
	s->have_qps = 1;
	s->real.tv_sec = 1700000000;
	s->real.tv_nsec = 5;
}

START_TEST(test_prom_snapshot)
{
	struct snap s;
	struct cap c;
	const char *out, *line;
	int help, type;

	fake_snap(&s, 42);
	cap_open(&c);
	prom_write_snap(c.f, &s, "1.2.3", "1.0");
	out = cap_str(&c);
	ck_assert_ptr_nonnull(strstr(out, "megalink_build_info{version=\"1.2.3\",libmegalink=\"1.0\"} 1\n"));
	ck_assert_ptr_nonnull(strstr(out, "megalink_scrape_timestamp_seconds 1700000000.000000005\n"));
	ck_assert_ptr_nonnull(strstr(out, "megalink_port_tx_frames_total{device=\"ml0\",port=\"0\",ifname=\"va\"} 42\n"));
	ck_assert_ptr_nonnull(strstr(out, "megalink_port_tx_bytes_total{device=\"ml1\",port=\"0\",ifname=\"v\\\"b\"} 18446744073709551615\n"));
	ck_assert_ptr_nonnull(strstr(out, "megalink_port_up{device=\"ml0\",port=\"0\",ifname=\"va\"} 1\n"));
	ck_assert_ptr_nonnull(strstr(out, "megalink_neighbour_alive{device=\"ml0\",port=\"0\",ifname=\"\",neighbour=\"0x0000000b\",mac=\"00:00:00:00:00:00\"} 1\n"));
	ck_assert_ptr_nonnull(strstr(out, "megalink_qp_retransmits_total{device=\"ml1\",qp=\"5\"} 3\n"));
	ck_assert_ptr_nonnull(strstr(out, "megalink_device_info{device=\"ml0\",index=\"0\",node_id=\"0x0000000a\""));
	/* the object counts only where the kernel reported them */
	ck_assert_ptr_null(strstr(out, "megalink_device_queue_pairs{device=\"ml0\"}"));
	ck_assert_ptr_nonnull(strstr(out, "megalink_device_queue_pairs{device=\"ml1\"} 0\n"));
	/* every sample's family has exactly one HELP and one TYPE, before it */
	for (line = out; *line; line = strchr(line, '\n') + 1) {
		char name[128], pat[160];
		size_t k = strcspn(line, "{ ");

		if (line[0] != '#') {
			ck_assert_uint_lt(k, sizeof(name));
			memcpy(name, line, k);
			name[k] = '\0';
			snprintf(pat, sizeof(pat), "# HELP %s ", name);
			help = count_of(out, pat);
			snprintf(pat, sizeof(pat), "# TYPE %s ", name);
			type = count_of(out, pat);
			ck_assert_msg(help == 1 && type == 1, "%s: %d HELP, %d TYPE", name, help, type);
			ck_assert(strstr(out, pat) < line);
		}
	}
	cap_close(&c);
}
END_TEST

START_TEST(test_prom_write_file)
{
	char dir[] = "/tmp/ml-prom-XXXXXX", path[64], tmp[72], buf[16] = "";
	FILE *f;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/m.prom", dir);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	ck_assert_int_eq(prom_write_file(path, "a 1\n", 4), 0);
	ck_assert_int_eq(access(tmp, F_OK), -1);
	f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	ck_assert_ptr_nonnull(fgets(buf, sizeof(buf), f));
	fclose(f);
	ck_assert_str_eq(buf, "a 1\n");
	unlink(path);
	rmdir(dir);
	snprintf(path, sizeof(path), "%s/m.prom", dir);	/* the directory is gone */
	ck_assert_int_eq(prom_write_file(path, "a 1\n", 4), -ENOENT);
}
END_TEST

/* ---- --watch ---- */

START_TEST(test_watch_rate)
{
	double r;

	ck_assert_int_eq(watch_rate(100, 300, 2.0, &r), 0);
	ck_assert(r == 100.0);
	ck_assert_int_eq(watch_rate(5, 5, 1.0, &r), 0);
	ck_assert(r == 0.0);
	ck_assert_int_eq(watch_rate(0, UINT64_MAX, 1.0, &r), 0);
	ck_assert(r > 1.8e19);
	/* backwards: a reset, never a huge wrapped rate */
	ck_assert_int_eq(watch_rate(1000, 7, 1.0, &r), 1);
	ck_assert(r == 0.0);
	ck_assert_int_eq(watch_rate(1, 2, 0.0, &r), 0);
	ck_assert(r == 0.0);
}
END_TEST

START_TEST(test_watch_report)
{
	struct snap a, b;
	struct ml_port_stats sa[2];
	struct cap c;
	const char *out;

	fake_snap(&a, 100);
	memcpy(sa, a.stats, sizeof(sa));
	a.stats = sa;
	a.mono.tv_sec = 10;
	fake_snap(&b, 350);
	b.mono.tv_sec = 12;
	b.mono.tv_nsec = 500000000;
	b.stats[1].stats[ML_STAT_TX_FRAMES] = 30;	/* ml1 rebound: back to 30 */

	cap_open(&c);
	watch_report(c.f, WATCH_LINES, &a, &b);
	out = cap_str(&c);
	ck_assert_ptr_nonnull(strstr(out, "rates ml0/0 ifname va interval 2.50 tx_frames 100.0 tx_bytes 0.0"));
	ck_assert_ptr_nonnull(strstr(out, "rates ml1/0 ifname v\"b interval 2.50 tx_frames reset:30 "));
	cap_close(&c);

	cap_open(&c);
	watch_report(c.f, WATCH_JSON, &a, &b);
	out = cap_str(&c);
	ck_assert_ptr_nonnull(strstr(out, "{\"dev\":\"ml0\",\"port\":0,\"ifname\":\"va\",\"interval\":2.500,\"rates\":{\"tx_frames\":100.000,"));
	ck_assert_ptr_nonnull(strstr(out, "\"resets\":{}}\n"));
	ck_assert_ptr_nonnull(strstr(out, "\"resets\":{\"tx_frames\":30}}\n"));
	cap_close(&c);

	/* a port that was not there before: everything is a reset */
	b.stats[0].ifindex = 99;
	cap_open(&c);
	watch_report(c.f, WATCH_LINES, &a, &b);
	ck_assert_ptr_nonnull(strstr(cap_str(&c), "rates ml0/0 ifname va interval 2.50 tx_frames reset:350 "));
	cap_close(&c);
}
END_TEST

START_TEST(test_stat_args_metrics)
{
	struct stat_opts o;
	char err[256];
	char *a1[] = { "megalink-stat", "--prometheus", "-o", "/x/m.prom", "ml0", NULL };
	char *a2[] = { "megalink-stat", "-j", "--watch=0.5", "-c", "3", NULL };
	char *a3[] = { "megalink-stat", "--watch", NULL };
	char *b1[] = { "megalink-stat", "-o", "f", NULL };
	char *b2[] = { "megalink-stat", "--watch=0", NULL };
	char *b3[] = { "megalink-stat", "--watch", "-c", "x", NULL };
	char *b4[] = { "megalink-stat", "--prometheus", "--watch", NULL };
	char *b5[] = { "megalink-stat", "--prometheus", "ml0", "ml1", NULL };
	char *b6[] = { "megalink-stat", "-c", "2", NULL };
	char *b7[] = { "megalink-stat", "--prometheus", "-o", NULL };

	ck_assert_int_eq(stat_parse_args(5, a1, &o, err, sizeof(err)), 0);
	ck_assert(o.prometheus);
	ck_assert_str_eq(o.outfile, "/x/m.prom");
	ck_assert_str_eq(o.dev, "ml0");
	ck_assert_int_eq(stat_parse_args(5, a2, &o, err, sizeof(err)), 0);
	ck_assert(o.watch && o.out.json);
	ck_assert(o.interval == 0.5);
	ck_assert_uint_eq(o.count, 3);
	ck_assert_ptr_null(o.dev);
	ck_assert_int_eq(stat_parse_args(2, a3, &o, err, sizeof(err)), 0);
	ck_assert(o.interval == 1.0);
	ck_assert_uint_eq(o.count, 0);
	ck_assert_int_eq(stat_parse_args(3, b1, &o, err, sizeof(err)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "--prometheus"));
	ck_assert_int_eq(stat_parse_args(2, b2, &o, err, sizeof(err)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "--watch=0"));
	ck_assert_int_eq(stat_parse_args(4, b3, &o, err, sizeof(err)), -EINVAL);
	ck_assert_int_eq(stat_parse_args(3, b4, &o, err, sizeof(err)), -EINVAL);
	ck_assert_int_eq(stat_parse_args(4, b5, &o, err, sizeof(err)), -EINVAL);
	ck_assert_int_eq(stat_parse_args(3, b6, &o, err, sizeof(err)), -EINVAL);
	ck_assert_int_eq(stat_parse_args(3, b7, &o, err, sizeof(err)), -EINVAL);
}
END_TEST

START_TEST(test_stat_args_topo)
{
	struct stat_opts o;
	char err[256];

	ck_assert_int_eq(STAT(&o, "-j", "topo"), 0);
	ck_assert_int_eq(o.obj, OBJ_TOPO);
	ck_assert(o.out.json && !o.dot && !o.png);
	ck_assert_int_eq(STAT(&o, "--dot", "topology", "ml2"), 0);
	ck_assert_int_eq(o.obj, OBJ_TOPO);
	ck_assert(o.dot);
	ck_assert_str_eq(o.dev, "ml2");
	ck_assert_int_eq(STAT(&o, "--png", "/tmp/p.png", "topo"), 0);
	ck_assert_str_eq(o.png, "/tmp/p.png");
	ck_assert_int_eq(STAT(&o, "--dot", "neigh"), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "topo"));
	ck_assert_int_eq(STAT(&o, "--png"), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "file name"));
	ck_assert_int_eq(STAT(&o, "--dot", "--png", "x", "topo"), -EINVAL);
	ck_assert_int_eq(STAT(&o, "--dot"), -EINVAL);
}
END_TEST

/* Two nodes of ml0's view, a link both report, one QP on it. */
static void topo_sample(struct topo_view *v, struct ml_topo_node_info n[3],
			struct ml_qp_info *q)
{
	memset(n, 0, 3 * sizeof(*n));
	memset(q, 0, sizeof(*q));
	snprintf(n[0].dev, sizeof(n[0].dev), "ml0");
	n[0].node_id = 1;
	n[0].flags = ML_TOPO_NODE_SELF | ML_TOPO_NODE_REACHABLE;
	n[0].num_links = 1;
	n[0].links[0] = (struct ml_topo_link_info){ .node_id = 2, .local_port = 0,
		.remote_port = 3, .kind = 0, .state = ML_LINK_UP, .mtu = 1500 };
	snprintf(n[1].dev, sizeof(n[1].dev), "ml0");
	n[1].node_id = 2;
	n[1].flags = ML_TOPO_NODE_REACHABLE;
	n[1].num_links = 2;
	n[1].links[0] = (struct ml_topo_link_info){ .node_id = 1, .local_port = 3,
		.remote_port = 0, .kind = 0, .state = ML_LINK_UP, .mtu = 1500 };
	n[1].links[1] = (struct ml_topo_link_info){ .node_id = 9, .local_port = 1,
		.remote_port = 0, .kind = 1, .state = ML_LINK_UP, .mtu = 1472 };
	snprintf(n[2].dev, sizeof(n[2].dev), "ml0");
	n[2].node_id = 7;		/* left: unreachable */
	q->remote_node = 2;
	q->port_index = 0;
	q->state = ML_QPS_RTS;
	v->nodes = n;
	v->nnodes = 3;
	v->qps = q;
	v->nqps = 1;
}

START_TEST(test_topo_dot)
{
	struct ml_topo_node_info n[3];
	struct topo_view v;
	struct ml_qp_info q;
	struct cap c;
	const char *t;

	topo_sample(&v, n, &q);
	ck_assert_uint_eq(topo_link_qps(&v, &n[0], &n[0].links[0]), 1);
	ck_assert_uint_eq(topo_link_qps(&v, &n[1], &n[1].links[0]), 0);
	cap_open(&c);
	topo_write_dot(c.f, &v);
	t = cap_str(&c);
	ck_assert_ptr_nonnull(strstr(t, "graph megalink {\n"));
	ck_assert_ptr_nonnull(strstr(t, "subgraph \"cluster_0\""));
	/* the link both ends report: drawn once, in use */
	ck_assert_ptr_nonnull(strstr(t, "\"0:00000001\" -- \"0:00000002\" [label=\"0-3 ethernet in use\", color=red"));
	ck_assert_ptr_null(strstr(t, "\"0:00000002\" -- \"0:00000001\""));
	/* a link to a node without a record: dashed, the node drawn dotted */
	ck_assert_ptr_nonnull(strstr(t, "\"0:00000009\" [label=\"0x00000009\\n(no record)\""));
	ck_assert_ptr_nonnull(strstr(t, "\"0:00000002\" -- \"0:00000009\" [label=\"1-0 udp\", style=dashed]"));
	ck_assert_ptr_nonnull(strstr(t, "\"0:00000007\" [label=\"0x00000007\", style=dashed, color=gray]"));
	ck_assert_int_eq(t[strlen(t) - 2], '}');
	cap_close(&c);
}
END_TEST

START_TEST(test_topo_png_without_dot)
{
	struct ml_topo_node_info n[3];
	const char *path = getenv("PATH");
	char *saved = path ? strdup(path) : NULL;
	struct topo_view v;
	struct ml_qp_info q;
	char err[256];

	topo_sample(&v, n, &q);
	setenv("PATH", "/nonexistent", 1);
	ck_assert_int_eq(topo_write_png(&v, "/tmp/never.png", err, sizeof(err)), -ENOENT);
	ck_assert_ptr_nonnull(strstr(err, "Graphviz"));
	if (saved)
		setenv("PATH", saved, 1);
	free(saved);
}
END_TEST

static Suite *tools_suite(void)
{
	Suite *s = suite_create("tools");
	TCase *tc;

	tc = tcase_create("json");
	tcase_add_test(tc, test_json_escape);
	tcase_add_test(tc, test_json_structure);
	tcase_add_test(tc, test_json_pretty);
	tcase_add_test(tc, test_json_many_elements);
	tcase_add_test(tc, test_json_dev_keys);
	tcase_add_test(tc, test_json_port_keys);
	tcase_add_test(tc, test_json_neigh_keys);
	tcase_add_test(tc, test_json_stats_keys);
	tcase_add_test(tc, test_json_event);
	tcase_add_test(tc, test_json_event_qp_error);
	tcase_add_test(tc, test_dev_objects);
	tcase_add_test(tc, test_qp_text);
	tcase_add_test(tc, test_qp_json);
	tcase_add_test(tc, test_stats_text_groups);
	suite_add_tcase(s, tc);

	tc = tcase_create("args");
	tcase_add_test(tc, test_stat_args);
	tcase_add_test(tc, test_admin_args_bind);
	tcase_add_test(tc, test_admin_args_other);
	tcase_add_test(tc, test_parse_ms);
	tcase_add_test(tc, test_stat_args_metrics);
	suite_add_tcase(s, tc);

	tc = tcase_create("topo");
	tcase_add_test(tc, test_stat_args_topo);
	tcase_add_test(tc, test_topo_dot);
	tcase_add_test(tc, test_topo_png_without_dot);
	suite_add_tcase(s, tc);

	tc = tcase_create("metrics");
	tcase_add_test(tc, test_prom_escape);
	tcase_add_test(tc, test_prom_u64_max);
	tcase_add_test(tc, test_prom_family_once);
	tcase_add_test(tc, test_prom_snapshot);
	tcase_add_test(tc, test_prom_write_file);
	tcase_add_test(tc, test_watch_rate);
	tcase_add_test(tc, test_watch_report);
	suite_add_tcase(s, tc);

	tc = tcase_create("conf");
	tcase_add_test(tc, test_conf_good);
	tcase_add_test(tc, test_conf_files);
	tcase_add_test(tc, test_conf_errors);
	tcase_add_test(tc, test_conf_errors_several);
	tcase_add_test(tc, test_conf_diff);
	tcase_add_test(tc, test_conf_diff_peers);
	tcase_add_test(tc, test_conf_round_trip);
	tcase_add_test(tc, test_admin_args_apply);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(tools_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
