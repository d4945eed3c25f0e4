/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Shared helpers of the in-guest megalink tests: network namespaces, the
 * module, raw generic netlink with extended-ack capture, a monitor
 * subscriber, pods of nodes and polling waits.
 *
 * Every helper that can fail in a way a test cares about either returns a
 * negative errno or fails the running Check test with a message naming
 * what went wrong.  Tests run with CK_FORK=yes: each test is its own
 * process, so setns() in a test never leaks into the next one.
 */
#ifndef ML_TEST_COMMON_H
#define ML_TEST_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/netlink.h>
#include <linux/megalink.h>
#include <check.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* ---- logging, commands -------------------------------------------- */

void tlog(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Loud skip: prints "ML-SKIP: <test>: <why>"; run-suite.sh counts these. */
void tskip(const char *test, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* A test that ran but left a part out: "ML-PARTIAL-SKIP: <test>: <why>". */
void tpartial(const char *test, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Run a shell command, return its exit status (or -1).  Output to stderr. */
int run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Run a command that must succeed: fails the test otherwise. */
#define RUN(...) ck_assert_msg(run(__VA_ARGS__) == 0, "command failed: see log")
/* Run a command, capture its stdout (malloc'ed, NUL-terminated). */
int run_capture(char **out, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Ensure a kernel module (veth, sch_netem, af_packet) is there. */
bool have_kmod(const char *name);

/* Paths: repository root, output dir. */
const char *repo_dir(void);
const char *out_dir(void);

/* Milliseconds of CLOCK_MONOTONIC. */
uint64_t now_ms(void);
void sleep_ms(unsigned int ms);

/*
 * Poll cond(arg) every 50 ms until it is true or timeout_ms passed.
 * Returns true if the condition became true.
 */
bool wait_until(bool (*cond)(void *arg), void *arg, unsigned int timeout_ms);

/* ---- the module ------------------------------------------------------ */

bool ml_loaded(void);
/* Load (params may be NULL); returns the loader's exit status. */
int ml_load(const char *params);
int ml_unload(void);
/* Load if not loaded: fails the test if that does not work. */
void ml_ensure_loaded(void);
/* Unload if loaded, then load with params: a clean module. */
void ml_reload(const char *params);
/* /sys/module/megalink/parameters/NAME as an integer, or dflt. */
long ml_param_long(const char *name, long dflt);
uint16_t ml_ethertype(void);

/* ---- network namespaces ------------------------------------------------ */

/* Test namespaces are named "mlt<pid>-<tag>". */
#define NS_PREFIX "mlt"
/* Create a namespace (lo up); name written to out (>= 32 bytes). */
void ns_create(char *out, const char *tag);
void ns_delete(const char *name);
/* Remove the namespace's name only, as `ip netns del` does. */
void ns_delete_only(const char *name);
/* Link admin state and deletion in ns (NULL: current); 0 or -errno. */
int link_set_up(const char *ns, const char *ifname, bool up);
int link_del(const char *ns, const char *ifname);
/* Move a link from ns to to_ns (NULL: our initial namespace). */
int link_move(const char *ns, const char *ifname, const char *to_ns);
/* Delete every test namespace left over (links first, synchronously). */
void ns_cleanup_all(void);
/* Enter a namespace (NULL: the initial one of this process). */
void ns_enter(const char *name);
/* Create a veth pair: a in ns_a, b in ns_b (NULL: current), both up. */
void veth_create(const char *ns_a, const char *a, const char *ns_b,
		 const char *b);
int if_index_in(const char *ns, const char *ifname);
void if_mac_in(const char *ns, const char *ifname, uint8_t mac[6]);

/* ---- generic netlink ------------------------------------------------- */

struct nl {
	int fd;
	uint32_t seq;
	uint16_t family;	/* 0 if "megalink" is not registered */
	uint32_t mcgrp;		/* monitor group id */
	uint8_t version;
	size_t rcvlen;		/* recv() buffer size, 0: 64 KiB */
	unsigned int rounds;	/* datagrams with family messages (nl_do) */
};

/* Open with a small receive buffer: the kernel sizes dump messages by
 * the reader's buffer, so dumps need several rounds (cursor resume). */
int nl_open_small(struct nl *nl, const char *ns, size_t rcvlen);

/* Open a generic netlink socket in the current namespace and resolve the
 * megalink family; returns 0 or -errno (-ENOENT: no family). */
int nl_open(struct nl *nl);
/* Same, in namespace ns (restores the current namespace). */
int nl_open_ns(struct nl *nl, const char *ns);
/* Open in ns and fail the test if megalink is not there. */
void nl_open_ok(struct nl *nl, const char *ns);
void nl_close(struct nl *nl);
/* Resolve a genl family: returns id or -errno. */
int genl_family(struct nl *nl, const char *name, uint32_t *mcgrp_monitor);

struct ml_req {
	union {
		struct nlmsghdr nh;
		char buf[4096];
	};
};

void req_init(struct ml_req *r, const struct nl *nl, uint8_t cmd, bool dump);
void req_put(struct ml_req *r, uint16_t type, const void *data, size_t len);
void req_u8(struct ml_req *r, uint16_t type, uint8_t v);
void req_u16(struct ml_req *r, uint16_t type, uint16_t v);
void req_u32(struct ml_req *r, uint16_t type, uint32_t v);
void req_u64(struct ml_req *r, uint16_t type, uint64_t v);
void req_str(struct ml_req *r, uint16_t type, const char *s);

/* One received megalink message, attributes indexed. */
struct ml_msg {
	uint8_t cmd;
	unsigned char *data;
	size_t len;
	struct nlattr *tb[ML_A_MAX + 1];
	struct nlattr *st[ML_STAT_MAX + 1];	/* ML_A_STATS nest */
};

struct ml_reply {
	int err;		/* 0 or -errno */
	char extack[512];	/* NLMSGERR_ATTR_MSG, "" if none */
	int miss_type;		/* NLMSGERR_ATTR_MISS_TYPE or -1 */
	int n;
	struct ml_msg *msgs;
};

void msg_parse(struct ml_msg *m, const void *genl_hdr, size_t len);
bool ma_has(const struct ml_msg *m, int attr);
uint8_t ma_u8(const struct ml_msg *m, int attr);
uint16_t ma_u16(const struct ml_msg *m, int attr);
uint32_t ma_u32(const struct ml_msg *m, int attr);
uint64_t ma_u64(const struct ml_msg *m, int attr);
const char *ma_str(const struct ml_msg *m, int attr);	/* "" if absent */
const uint8_t *ma_bin(const struct ml_msg *m, int attr, size_t *len);
uint64_t ma_stat(const struct ml_msg *m, int stat);

/* Send r, collect replies until the ack / NLMSG_DONE.  Returns rep->err. */
int nl_do(struct nl *nl, struct ml_req *r, struct ml_reply *rep);
void reply_free(struct ml_reply *rep);

/* Receive one notification within timeout_ms: 0, -ETIMEDOUT or -errno. */
int nl_recv_ntf(struct nl *nl, struct ml_msg *m, unsigned int timeout_ms);
void msg_free(struct ml_msg *m);
int nl_join_monitor(struct nl *nl);

const char *ml_cmd_name(int cmd);

/* ---- megalink helpers ------------------------------------------------ */

struct bind_opts {
	const char *ifname;	/* or ifindex */
	uint32_t ifindex;
	bool to_dev;		/* add to dev_index, else a new device */
	uint32_t dev_index;
	uint32_t node_id;	/* 0: omit */
	uint32_t hello_ms;	/* 0: omit */
	uint32_t dead_ms;	/* 0: omit */
};
#define BIND_OPTS(...) ((struct bind_opts){ __VA_ARGS__ })
#define INTO(d) .to_dev = true, .dev_index = (d)

struct port_info {
	uint32_t dev_index;
	char dev_name[ML_DEV_NAME_LEN];
	uint32_t port_index;
	uint32_t ifindex;
};

/* PORT_BIND; returns 0 or -errno; fills pi (may be NULL) and extack. */
int ml_bind(struct nl *nl, struct bind_opts o, struct port_info *pi,
	    char *extack, size_t extack_len);
/* Bind that must work. */
void ml_bind_ok(struct nl *nl, struct bind_opts o, struct port_info *pi);
int ml_unbind_ifname(struct nl *nl, const char *ifname);
/* DEV_GET doit by index into rep; returns rep->err. */
int ml_dev_get(struct nl *nl, uint32_t dev_index, struct ml_reply *rep);
/* Dump (cmd) with optional dev filter (dev_index < 0: none). */
int ml_dump(struct nl *nl, uint8_t cmd, int dev_index, struct ml_reply *rep);
/* PORT_GET / STATS_GET doit by ifname. */
int ml_port_get(struct nl *nl, const char *ifname, struct ml_reply *rep);
int ml_stats_get(struct nl *nl, const char *ifname, struct ml_reply *rep);
/* Link state of a port by ifname: 1 up, 0 down, -errno. */
int ml_port_state(struct nl *nl, const char *ifname);
/* Number of neighbours seen on ifname with node id (0 = any). */
int ml_neigh_count(struct nl *nl, const char *ifname, uint32_t node_id);

/* Unique node id base for this test process. */
uint32_t node_id_base(void);

/* ---- pods ------------------------------------------------------------ */

#define POD_MAX_NODES 4

struct pod_port {
	char ifname[16];
	uint32_t ifindex;
	uint32_t port_index;
	uint8_t mac[6];
	int peer;		/* node at the other end, -1 for a bridge */
};

struct pod_node {
	char ns[32];
	struct nl nl;
	char dev_name[ML_DEV_NAME_LEN];
	uint32_t dev_index;
	uint32_t node_id;
	int nports;
	struct pod_port ports[POD_MAX_NODES];
};

struct pod {
	int n;
	bool bridge;		/* one port per node on a bridge */
	uint32_t hello_ms, dead_ms;
	struct pod_node nodes[POD_MAX_NODES];
};

/*
 * Full mesh of n nodes: namespace per node, veth "m<i><j>" in node i to
 * "m<j><i>" in node j, each node one device with n-1 ports (or, without
 * ML_DEV_CAP_MULTI_PORT, one port on a bridge "br0" of its veths).
 */
void pod_create(struct pod *p, int n, uint32_t hello_ms, uint32_t dead_ms);
void pod_destroy(struct pod *p);
/* Port of node i that leads to node j. */
struct pod_port *pod_port_to(struct pod *p, int i, int j);
/* Every node sees every other node on the right port (netlink). */
bool pod_fully_discovered(struct pod *p, char *why, size_t whylen);
void pod_wait_discovered(struct pod *p, unsigned int timeout_ms);

/* ---- minimal JSON (megalink-stat -j) ---------------------------------- */

#define JSON_MAX_KEYS 24
struct json_obj {
	int nkeys;
	char key[JSON_MAX_KEYS][32];
	char val[JSON_MAX_KEYS][128];	/* strings unquoted, else raw text */
};

/* Parse a top-level array of flat objects (nested values kept raw).
 * Returns the number of objects or -1 on a syntax error. */
int json_parse_array(const char *s, struct json_obj *objs, int max);
const char *json_get(const struct json_obj *o, const char *key);

/* Path of tools/megalink-stat, quoted for run(), or NULL when not built. */
const char *stat_tool(void);

/* ---- Check glue ------------------------------------------------------- */

/* Checked fixtures: module loaded + leftovers removed. */
void fx_setup(void);
void fx_teardown(void);
/* A suite runner main(): runs s, cleans up, returns exit status. */
int run_suite(Suite *s, const char *name);
TCase *tcase_new(const char *name, int timeout_s);

#endif
