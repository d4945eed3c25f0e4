// SPDX-License-Identifier: GPL-2.0
/*
 * The generic netlink family "megalink": attribute validation (missing,
 * wrongly typed, out of range: errno and extack message), privileges,
 * binding errors, unbind, DEV_SET, filtered dumps and namespace isolation.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common.h"

/* One namespace, veth a0 <-> a1, a0 bound as a new device. */
struct env {
	char ns[32];
	struct nl nl;
	struct port_info p0;
	uint32_t node_id;
};

static void env_setup(struct env *e)
{
	ns_create(e->ns, "a");
	veth_create(e->ns, "a0", e->ns, "a1");
	nl_open_ok(&e->nl, e->ns);
	e->node_id = node_id_base() + 1;
	ml_bind_ok(&e->nl, BIND_OPTS(.ifname = "a0", .node_id = e->node_id,
				     .hello_ms = 100, .dead_ms = 1000), &e->p0);
}

#define EXPECT_ERR(rep, e, what)                                              \
	do {                                                                  \
		ck_assert_msg((rep).err == -(e), "%s: got %d (%s), want -%s", \
			      what, (rep).err, strerror(-(rep).err), #e);     \
		ck_assert_msg((rep).extack[0], "%s: %s without extack message",\
			      what, #e);                                       \
	} while (0)

/* ---- table-driven validation ------------------------------------------ */

enum ak { A_END, A_U8, A_U16, A_U32, A_U64, A_STR, A_DEV, A_DEVNAME, A_DEV8,
	  A_FREEDEV };

struct aspec {
	uint16_t type;
	enum ak kind;
	uint64_t v;
	const char *s;
};

struct pcase {
	const char *what;
	uint8_t cmd;
	bool dump;
	struct aspec a[4];
	int e1, e2;	/* accepted errnos (e2 0: only e1) */
};

#define LONGSTR "this-name-is-much-too-long-for-any-field-0123456789"

static void build(struct ml_req *r, const struct env *e, const struct pcase *c)
{
	req_init(r, &e->nl, c->cmd, c->dump);
	for (int i = 0; i < 4 && c->a[i].kind != A_END; i++) {
		const struct aspec *a = &c->a[i];

		switch (a->kind) {
		case A_U8:
			req_u8(r, a->type, (uint8_t)a->v);
			break;
		case A_U16:
			req_u16(r, a->type, (uint16_t)a->v);
			break;
		case A_U32:
			req_u32(r, a->type, (uint32_t)a->v);
			break;
		case A_U64:
			req_u64(r, a->type, a->v);
			break;
		case A_STR:
			req_str(r, a->type, a->s);
			break;
		case A_DEV:
			req_u32(r, ML_A_DEV_INDEX, e->p0.dev_index);
			break;
		case A_DEVNAME:
			req_str(r, ML_A_DEV_NAME, e->p0.dev_name);
			break;
		case A_DEV8:
			req_u8(r, ML_A_DEV_INDEX, (uint8_t)e->p0.dev_index);
			break;
		case A_FREEDEV:
			/* The only device is ours: the next index is free. */
			req_u32(r, ML_A_DEV_INDEX, e->p0.dev_index + 1);
			break;
		case A_END:
			break;
		}
	}
}

static void run_cases(const struct pcase *cases, size_t n, const char *kind)
{
	struct env e;
	char fails[4096] = "";
	size_t used = 0;
	int nfail = 0;

	env_setup(&e);
	for (size_t i = 0; i < n; i++) {
		const struct pcase *c = &cases[i];
		struct ml_req r;
		struct ml_reply rep;
		bool ok;

		build(&r, &e, c);
		nl_do(&e.nl, &r, &rep);
		ok = (rep.err == -c->e1 || (c->e2 && rep.err == -c->e2)) &&
		     rep.extack[0];
		tlog("%s %-50s -> %d (%s) extack \"%s\"%s", kind, c->what,
		     rep.err, strerror(-rep.err), rep.extack,
		     ok ? "" : "   <-- WRONG");
		if (!ok) {
			nfail++;
			used += snprintf(fails + used,
					 used < sizeof(fails) ? sizeof(fails) - used : 0,
					 "\n  %s: got %d (%s) extack \"%s\", want -%d%s%.0d",
					 c->what, rep.err, strerror(-rep.err),
					 rep.extack, c->e1, c->e2 ? " or -" : "",
					 c->e2);
			if (used >= sizeof(fails))
				used = sizeof(fails) - 1;
		}
		reply_free(&rep);
	}
	ck_assert_msg(nfail == 0, "%d of %zu %s cases wrong (errno or empty "
		      "extack):%s", nfail, n, kind, fails);
}

#define U8(t, x) { t, A_U8, x, NULL }
#define U16(t, x) { t, A_U16, x, NULL }
#define U32(t, x) { t, A_U32, x, NULL }
#define U64(t, x) { t, A_U64, x, NULL }
#define STR(t, x) { t, A_STR, 0, x }
#define DEV { 0, A_DEV, 0, NULL }
#define DEVNAME { 0, A_DEVNAME, 0, NULL }
#define DEV8 { 0, A_DEV8, 0, NULL }
#define FREEDEV { 0, A_FREEDEV, 0, NULL }

START_TEST(test_missing_attrs)
{
	static const struct pcase c[] = {
		{ "DEV_GET doit without DEV_*", ML_CMD_DEV_GET, false, { { 0 } }, EINVAL, 0 },
		{ "DEV_SET without DEV_*", ML_CMD_DEV_SET, false,
		  { U32(ML_A_HELLO_MS, 200) }, EINVAL, 0 },
		{ "PORT_GET doit without selector", ML_CMD_PORT_GET, false, { { 0 } }, EINVAL, 0 },
		{ "PORT_GET doit DEV_INDEX without PORT_INDEX", ML_CMD_PORT_GET, false,
		  { DEV }, EINVAL, 0 },
		{ "PORT_GET doit PORT_INDEX without DEV_*", ML_CMD_PORT_GET, false,
		  { U32(ML_A_PORT_INDEX, 0) }, EINVAL, 0 },
		{ "PORT_BIND without IFINDEX/IFNAME", ML_CMD_PORT_BIND, false,
		  { U32(ML_A_HELLO_MS, 100) }, EINVAL, 0 },
		{ "PORT_BIND with nothing", ML_CMD_PORT_BIND, false, { { 0 } }, EINVAL, 0 },
		{ "PORT_UNBIND with nothing", ML_CMD_PORT_UNBIND, false, { { 0 } }, EINVAL, 0 },
		{ "PORT_UNBIND DEV_INDEX without PORT_INDEX", ML_CMD_PORT_UNBIND, false,
		  { DEV }, EINVAL, 0 },
		{ "STATS_GET doit without selector", ML_CMD_STATS_GET, false, { { 0 } }, EINVAL, 0 },
	};

	run_cases(c, ARRAY_SIZE(c), "missing");
}
END_TEST

START_TEST(test_wrong_types)
{
	static const struct pcase c[] = {
		{ "DEV_GET DEV_INDEX as u8", ML_CMD_DEV_GET, false, { DEV8 }, EINVAL, ERANGE },
		{ "DEV_GET DEV_INDEX as u64", ML_CMD_DEV_GET, false,
		  { U64(ML_A_DEV_INDEX, 0) }, EINVAL, ERANGE },
		{ "DEV_GET DEV_NAME too long", ML_CMD_DEV_GET, false,
		  { STR(ML_A_DEV_NAME, LONGSTR) }, EINVAL, ERANGE },
		{ "DEV_GET unknown attribute type", ML_CMD_DEV_GET, false,
		  { DEV, U32(ML_A_MAX + 1, 1) }, EINVAL, ERANGE },
		{ "DEV_SET NODE_ID as u8", ML_CMD_DEV_SET, false,
		  { DEV, U8(ML_A_NODE_ID, 7) }, EINVAL, ERANGE },
		{ "DEV_SET HELLO_MS as u16", ML_CMD_DEV_SET, false,
		  { DEV, U16(ML_A_HELLO_MS, 200) }, EINVAL, ERANGE },
		{ "DEV_SET DEV_INDEX as u8", ML_CMD_DEV_SET, false,
		  { DEV8, U32(ML_A_HELLO_MS, 200) }, EINVAL, ERANGE },
		{ "PORT_GET IFINDEX as u8", ML_CMD_PORT_GET, false,
		  { U8(ML_A_IFINDEX, 2) }, EINVAL, ERANGE },
		{ "PORT_GET IFNAME too long", ML_CMD_PORT_GET, false,
		  { STR(ML_A_IFNAME, LONGSTR) }, EINVAL, ERANGE },
		{ "PORT_BIND IFINDEX as u8", ML_CMD_PORT_BIND, false,
		  { U8(ML_A_IFINDEX, 3) }, EINVAL, ERANGE },
		{ "PORT_BIND IFNAME too long", ML_CMD_PORT_BIND, false,
		  { STR(ML_A_IFNAME, LONGSTR) }, EINVAL, ERANGE },
		{ "PORT_BIND NODE_ID as u8", ML_CMD_PORT_BIND, false,
		  { STR(ML_A_IFNAME, "a1"), U8(ML_A_NODE_ID, 9) }, EINVAL, ERANGE },
		{ "PORT_BIND DEAD_MS as u16", ML_CMD_PORT_BIND, false,
		  { STR(ML_A_IFNAME, "a1"), U16(ML_A_DEAD_MS, 4000) }, EINVAL, ERANGE },
		{ "PORT_BIND DEV_NAME too long", ML_CMD_PORT_BIND, false,
		  { STR(ML_A_IFNAME, "a1"), STR(ML_A_DEV_NAME, LONGSTR) }, EINVAL, ERANGE },
		{ "PORT_UNBIND IFINDEX as u8", ML_CMD_PORT_UNBIND, false,
		  { U8(ML_A_IFINDEX, 2) }, EINVAL, ERANGE },
		{ "PORT_UNBIND IFNAME too long", ML_CMD_PORT_UNBIND, false,
		  { STR(ML_A_IFNAME, LONGSTR) }, EINVAL, ERANGE },
		{ "STATS_GET IFINDEX as u8", ML_CMD_STATS_GET, false,
		  { U8(ML_A_IFINDEX, 2) }, EINVAL, ERANGE },
		{ "DEV_GET dump DEV_INDEX as u8", ML_CMD_DEV_GET, true,
		  { DEV8 }, EINVAL, ERANGE },
		{ "PORT_GET dump DEV_INDEX as u8", ML_CMD_PORT_GET, true,
		  { DEV8 }, EINVAL, ERANGE },
		{ "NEIGH_GET dump DEV_INDEX as u8", ML_CMD_NEIGH_GET, true,
		  { DEV8 }, EINVAL, ERANGE },
		{ "STATS_GET dump DEV_INDEX as u8", ML_CMD_STATS_GET, true,
		  { DEV8 }, EINVAL, ERANGE },
	};

	run_cases(c, ARRAY_SIZE(c), "type");
}
END_TEST

START_TEST(test_out_of_range)
{
	static const struct pcase c[] = {
		{ "PORT_BIND HELLO_MS below min", ML_CMD_PORT_BIND, false,
		  { STR(ML_A_IFNAME, "a1"), U32(ML_A_HELLO_MS, ML_HELLO_MS_MIN - 1) }, ERANGE, EINVAL },
		{ "PORT_BIND HELLO_MS above max", ML_CMD_PORT_BIND, false,
		  { STR(ML_A_IFNAME, "a1"), U32(ML_A_HELLO_MS, ML_HELLO_MS_MAX + 1) }, ERANGE, EINVAL },
		{ "PORT_BIND HELLO_MS 0", ML_CMD_PORT_BIND, false,
		  { STR(ML_A_IFNAME, "a1"), U32(ML_A_HELLO_MS, 0) }, ERANGE, EINVAL },
		{ "PORT_BIND DEAD_MS below min", ML_CMD_PORT_BIND, false,
		  { STR(ML_A_IFNAME, "a1"), U32(ML_A_DEAD_MS, ML_DEAD_MS_MIN - 1) }, ERANGE, EINVAL },
		{ "PORT_BIND DEAD_MS above max", ML_CMD_PORT_BIND, false,
		  { STR(ML_A_IFNAME, "a1"), U32(ML_A_DEAD_MS, ML_DEAD_MS_MAX + 1) }, ERANGE, EINVAL },
		{ "PORT_BIND NODE_ID 0", ML_CMD_PORT_BIND, false,
		  { STR(ML_A_IFNAME, "a1"), U32(ML_A_NODE_ID, 0) }, ERANGE, EINVAL },
		{ "PORT_BIND NODE_ID 0xffffffff", ML_CMD_PORT_BIND, false,
		  { STR(ML_A_IFNAME, "a1"), U32(ML_A_NODE_ID, 0xffffffffu) }, ERANGE, EINVAL },
		{ "PORT_BIND DEAD_MS < 2*HELLO_MS", ML_CMD_PORT_BIND, false,
		  { STR(ML_A_IFNAME, "a1"), U32(ML_A_HELLO_MS, 100), U32(ML_A_DEAD_MS, 150) }, EINVAL, 0 },
		{ "DEV_SET HELLO_MS below min", ML_CMD_DEV_SET, false,
		  { DEV, U32(ML_A_HELLO_MS, ML_HELLO_MS_MIN - 1) }, ERANGE, EINVAL },
		{ "DEV_SET HELLO_MS above max", ML_CMD_DEV_SET, false,
		  { DEV, U32(ML_A_HELLO_MS, ML_HELLO_MS_MAX + 1) }, ERANGE, EINVAL },
		{ "DEV_SET DEAD_MS below min", ML_CMD_DEV_SET, false,
		  { DEV, U32(ML_A_DEAD_MS, ML_DEAD_MS_MIN - 1) }, ERANGE, EINVAL },
		{ "DEV_SET DEAD_MS above max", ML_CMD_DEV_SET, false,
		  { DEV, U32(ML_A_DEAD_MS, ML_DEAD_MS_MAX + 1) }, ERANGE, EINVAL },
		{ "DEV_SET NODE_ID 0", ML_CMD_DEV_SET, false,
		  { DEV, U32(ML_A_NODE_ID, 0) }, ERANGE, EINVAL },
		{ "DEV_SET NODE_ID 0xffffffff", ML_CMD_DEV_SET, false,
		  { DEV, U32(ML_A_NODE_ID, 0xffffffffu) }, ERANGE, EINVAL },
		{ "DEV_SET DEAD_MS < 2*HELLO_MS", ML_CMD_DEV_SET, false,
		  { DEV, U32(ML_A_HELLO_MS, 1000), U32(ML_A_DEAD_MS, 1500) }, EINVAL, 0 },
	};

	run_cases(c, ARRAY_SIZE(c), "range");
}
END_TEST

START_TEST(test_unknown_device)
{
	static const struct pcase c[] = {
		{ "DEV_GET DEV_INDEX unused", ML_CMD_DEV_GET, false,
		  { FREEDEV }, ENODEV, 0 },
		{ "DEV_GET DEV_INDEX 9999 (may be beyond the policy)",
		  ML_CMD_DEV_GET, false, { U32(ML_A_DEV_INDEX, 9999) }, ENODEV, ERANGE },
		{ "DEV_GET DEV_NAME ml9999", ML_CMD_DEV_GET, false,
		  { STR(ML_A_DEV_NAME, "ml9999") }, ENODEV, 0 },
		{ "DEV_SET DEV_INDEX unused", ML_CMD_DEV_SET, false,
		  { FREEDEV, U32(ML_A_HELLO_MS, 200) }, ENODEV, 0 },
		{ "PORT_BIND into DEV_INDEX unused", ML_CMD_PORT_BIND, false,
		  { STR(ML_A_IFNAME, "a1"), FREEDEV }, ENODEV, 0 },
		{ "PORT_GET DEV_INDEX unused PORT_INDEX 0", ML_CMD_PORT_GET, false,
		  { FREEDEV, U32(ML_A_PORT_INDEX, 0) }, ENODEV, 0 },
		{ "STATS_GET DEV_NAME ml9999 PORT_INDEX 0", ML_CMD_STATS_GET, false,
		  { STR(ML_A_DEV_NAME, "ml9999"), U32(ML_A_PORT_INDEX, 0) }, ENODEV, 0 },
		{ "PORT_UNBIND DEV_INDEX unused PORT_INDEX 0", ML_CMD_PORT_UNBIND, false,
		  { FREEDEV, U32(ML_A_PORT_INDEX, 0) }, ENODEV, 0 },
		{ "PORT_BIND IFNAME nosuch0", ML_CMD_PORT_BIND, false,
		  { STR(ML_A_IFNAME, "nosuch0") }, ENODEV, 0 },
		{ "PORT_BIND IFINDEX 99999", ML_CMD_PORT_BIND, false,
		  { U32(ML_A_IFINDEX, 99999) }, ENODEV, 0 },
		{ "PORT_UNBIND IFNAME nosuch0", ML_CMD_PORT_UNBIND, false,
		  { STR(ML_A_IFNAME, "nosuch0") }, ENODEV, 0 },
		{ "PORT_UNBIND IFNAME a1 (not a port)", ML_CMD_PORT_UNBIND, false,
		  { STR(ML_A_IFNAME, "a1") }, ENOENT, 0 },
		{ "PORT_UNBIND DEV + PORT_INDEX 7 (no such port)", ML_CMD_PORT_UNBIND, false,
		  { DEV, U32(ML_A_PORT_INDEX, 7) }, ENOENT, 0 },
	};

	run_cases(c, ARRAY_SIZE(c), "unknown");
}
END_TEST

/* ---- PORT_BIND errors --------------------------------------------------- */

static void bind_expect(struct env *e, struct bind_opts o, int err,
			const char *what)
{
	char ext[512] = "";
	int r = ml_bind(&e->nl, o, NULL, ext, sizeof(ext));

	tlog("%s -> %d (%s) extack \"%s\"", what, r, strerror(-r), ext);
	ck_assert_msg(r == -err, "%s: got %d (%s), want %d (%s)", what, r,
		      strerror(-r), -err, strerror(err));
	ck_assert_msg(ext[0], "%s: no extack message", what);
}

START_TEST(test_bind_lo)
{
	struct env e;

	env_setup(&e);
	bind_expect(&e, BIND_OPTS(.ifname = "lo"), EOPNOTSUPP, "bind lo");
}
END_TEST

START_TEST(test_bind_down)
{
	struct env e;

	env_setup(&e);
	ck_assert_int_eq(link_set_up(e.ns, "a1", false), 0);
	bind_expect(&e, BIND_OPTS(.ifname = "a1"), ENETDOWN, "bind admin-down a1");
}
END_TEST

START_TEST(test_bind_twice)
{
	struct env e;

	env_setup(&e);
	bind_expect(&e, BIND_OPTS(.ifname = "a0"), EBUSY, "bind a0 again");
	bind_expect(&e, BIND_OPTS(.ifindex = e.p0.ifindex), EBUSY,
		    "bind a0 again by ifindex");
	bind_expect(&e, BIND_OPTS(.ifname = "a0", INTO(e.p0.dev_index)),
		    EBUSY, "bind a0 again into its own device");
}
END_TEST

START_TEST(test_bind_missing)
{
	struct env e;

	env_setup(&e);
	bind_expect(&e, BIND_OPTS(.ifname = "nosuch0"), ENODEV, "bind nosuch0");
	bind_expect(&e, BIND_OPTS(.ifindex = 99999), ENODEV, "bind ifindex 99999");
}
END_TEST

START_TEST(test_bind_node_id_taken)
{
	struct env e;

	env_setup(&e);
	bind_expect(&e, BIND_OPTS(.ifname = "a1", .node_id = e.node_id), EEXIST,
		    "bind a1 with a0's node id");
}
END_TEST

START_TEST(test_bind_full)
{
	struct env e;
	struct ml_reply rep;
	bool multi;
	char name[16];

	env_setup(&e);
	ck_assert_int_eq(ml_dev_get(&e.nl, e.p0.dev_index, &rep), 0);
	ck_assert_int_eq(rep.n, 1);
	multi = ma_u64(&rep.msgs[0], ML_A_CAPS) & ML_DEV_CAP_MULTI_PORT;
	reply_free(&rep);
	if (!multi) {
		tskip("test_bind_full", "device lacks ML_DEV_CAP_MULTI_PORT");
		return;
	}
	/* a0 is port 0; add ML_MAX_PORTS - 1 more, then one too many. */
	for (int i = 1; i <= ML_MAX_PORTS; i++) {
		char peer[16];
		struct port_info pi;

		snprintf(name, sizeof(name), "f%d", i);
		snprintf(peer, sizeof(peer), "g%d", i);
		veth_create(e.ns, name, e.ns, peer);
		if (i < ML_MAX_PORTS) {
			ml_bind_ok(&e.nl, BIND_OPTS(.ifname = name, INTO(e.p0.dev_index)), &pi);
			ck_assert_uint_eq(pi.dev_index, e.p0.dev_index);
		}
	}
	bind_expect(&e, BIND_OPTS(.ifname = name, INTO(e.p0.dev_index)),
		    ENOSPC, "bind a 9th port");
	ck_assert_int_eq(ml_dev_get(&e.nl, e.p0.dev_index, &rep), 0);
	ck_assert_uint_eq(ma_u32(&rep.msgs[0], ML_A_NUM_PORTS), ML_MAX_PORTS);
	reply_free(&rep);
}
END_TEST

/* ---- privileges ------------------------------------------------------- */

struct unpriv_ctx {
	const char *ns;
	uint32_t dev_index;
	char dev_name[ML_DEV_NAME_LEN];
};

/* Runs fn as uid/gid 65534 with no capabilities, in ns; returns its
 * report ("" if all went as expected). */
static void run_unpriv(const struct unpriv_ctx *c,
		       void (*fn)(const struct unpriv_ctx *, char *, size_t),
		       char *out, size_t outlen)
{
	int pfd[2];
	pid_t pid;
	ssize_t n;
	int st;

	ck_assert(pipe(pfd) == 0);
	pid = fork();
	ck_assert(pid >= 0);
	if (pid == 0) {
		char buf[4096] = "";
		gid_t none[1] = { 65534 };

		close(pfd[0]);
		ns_enter(c->ns);
		if (setgroups(1, none) || setresgid(65534, 65534, 65534) ||
		    setresuid(65534, 65534, 65534)) {
			snprintf(buf, sizeof(buf), "dropping privileges: %s",
				 strerror(errno));
		} else {
			fn(c, buf, sizeof(buf));
		}
		if (write(pfd[1], buf, strlen(buf)) < 0)
			_exit(2);
		_exit(0);
	}
	close(pfd[1]);
	n = read(pfd[0], out, outlen - 1);
	out[n > 0 ? n : 0] = '\0';
	close(pfd[0]);
	waitpid(pid, &st, 0);
	ck_assert_msg(WIFEXITED(st), "unprivileged child died (status %d)", st);
}

#define APPEND(buf, len, ...)                                                 \
	snprintf((buf) + strlen(buf), (len) - strlen(buf), __VA_ARGS__)

static void unpriv_admin(const struct unpriv_ctx *c, char *out, size_t len)
{
	struct nl nl;
	struct ml_req r;
	struct ml_reply rep;
	int err = nl_open(&nl);
	static const struct {
		const char *what;
		uint8_t cmd;
	} ops[] = {
		{ "PORT_BIND a1", ML_CMD_PORT_BIND },
		{ "PORT_UNBIND a0", ML_CMD_PORT_UNBIND },
		{ "DEV_SET hello 200", ML_CMD_DEV_SET },
	};

	if (err) {
		APPEND(out, len, "nl_open as nobody: %s", strerror(-err));
		return;
	}
	for (size_t i = 0; i < ARRAY_SIZE(ops); i++) {
		req_init(&r, &nl, ops[i].cmd, false);
		switch (ops[i].cmd) {
		case ML_CMD_PORT_BIND:
			req_str(&r, ML_A_IFNAME, "a1");
			break;
		case ML_CMD_PORT_UNBIND:
			req_str(&r, ML_A_IFNAME, "a0");
			break;
		case ML_CMD_DEV_SET:
			req_u32(&r, ML_A_DEV_INDEX, c->dev_index);
			req_u32(&r, ML_A_HELLO_MS, 200);
			break;
		}
		nl_do(&nl, &r, &rep);
		fprintf(stderr, "unprivileged %s -> %d (%s) extack \"%s\"\n",
			ops[i].what, rep.err, strerror(-rep.err), rep.extack);
		if (rep.err != -EPERM)
			APPEND(out, len, "\n  %s: got %d (%s), want EPERM",
			       ops[i].what, rep.err, strerror(-rep.err));
		else if (!strstr(rep.extack, "CAP_NET_ADMIN"))
			APPEND(out, len, "\n  %s: EPERM but extack \"%s\" does"
			       " not name CAP_NET_ADMIN", ops[i].what,
			       rep.extack);
		reply_free(&rep);
	}
	nl_close(&nl);
}

START_TEST(test_admin_needs_cap)
{
	struct env e;
	struct unpriv_ctx c;
	char out[4096];
	struct ml_reply rep;

	env_setup(&e);
	c.ns = e.ns;
	c.dev_index = e.p0.dev_index;
	snprintf(c.dev_name, sizeof(c.dev_name), "%s", e.p0.dev_name);
	run_unpriv(&c, unpriv_admin, out, sizeof(out));
	ck_assert_msg(!out[0], "admin commands as uid 65534:%s", out);
	/* And nothing changed. */
	ck_assert_int_eq(ml_dev_get(&e.nl, e.p0.dev_index, &rep), 0);
	ck_assert_uint_eq(ma_u32(&rep.msgs[0], ML_A_HELLO_MS), 100);
	ck_assert_uint_eq(ma_u32(&rep.msgs[0], ML_A_NUM_PORTS), 1);
	reply_free(&rep);
	ck_assert_int_eq(ml_dump(&e.nl, ML_CMD_PORT_GET, -1, &rep), 0);
	ck_assert_int_eq(rep.n, 1);
	ck_assert_str_eq(ma_str(&rep.msgs[0], ML_A_IFNAME), "a0");
	reply_free(&rep);
}
END_TEST

static void unpriv_reads(const struct unpriv_ctx *c, char *out, size_t len)
{
	struct nl nl;
	struct ml_reply rep;
	struct ml_req r;
	int err = nl_open(&nl);
	static const uint8_t dumps[] = { ML_CMD_DEV_GET, ML_CMD_PORT_GET,
					 ML_CMD_NEIGH_GET, ML_CMD_STATS_GET };

	if (err) {
		APPEND(out, len, "nl_open as nobody: %s", strerror(-err));
		return;
	}
	for (size_t i = 0; i < ARRAY_SIZE(dumps); i++) {
		err = ml_dump(&nl, dumps[i], -1, &rep);
		fprintf(stderr, "unprivileged %s dump -> %d, %d messages\n",
			ml_cmd_name(dumps[i]), err, rep.n);
		if (err)
			APPEND(out, len, "\n  %s dump: %s (%s)",
			       ml_cmd_name(dumps[i]), strerror(-err), rep.extack);
		else if (rep.n < 1 && dumps[i] != ML_CMD_NEIGH_GET)
			APPEND(out, len, "\n  %s dump: empty",
			       ml_cmd_name(dumps[i]));
		reply_free(&rep);
	}
	err = ml_dev_get(&nl, c->dev_index, &rep);
	if (err || rep.n != 1 || strcmp(ma_str(&rep.msgs[0], ML_A_DEV_NAME),
					c->dev_name))
		APPEND(out, len, "\n  DEV_GET doit: %s n=%d", strerror(-err),
		       rep.n);
	reply_free(&rep);
	req_init(&r, &nl, ML_CMD_PORT_GET, false);
	req_str(&r, ML_A_IFNAME, "a0");
	if (nl_do(&nl, &r, &rep) || rep.n != 1)
		APPEND(out, len, "\n  PORT_GET doit a0: %s n=%d",
		       strerror(-rep.err), rep.n);
	reply_free(&rep);
	req_init(&r, &nl, ML_CMD_STATS_GET, false);
	req_str(&r, ML_A_IFNAME, "a0");
	if (nl_do(&nl, &r, &rep) || rep.n != 1)
		APPEND(out, len, "\n  STATS_GET doit a0: %s n=%d",
		       strerror(-rep.err), rep.n);
	reply_free(&rep);
	nl_close(&nl);
}

START_TEST(test_reads_unprivileged)
{
	struct env e;
	struct unpriv_ctx c;
	char out[4096];

	env_setup(&e);
	c.ns = e.ns;
	c.dev_index = e.p0.dev_index;
	snprintf(c.dev_name, sizeof(c.dev_name), "%s", e.p0.dev_name);
	run_unpriv(&c, unpriv_reads, out, sizeof(out));
	ck_assert_msg(!out[0], "reads as uid 65534 failed:%s", out);
}
END_TEST

/* ---- semantics ------------------------------------------------------ */

START_TEST(test_bind_reply_and_dev_get)
{
	char ns[32];
	struct nl nl, mon;
	struct port_info pi;
	struct ml_reply rep;
	struct ml_msg *m;
	struct ml_msg ntf;
	uint32_t node = node_id_base() + 3;
	bool seen_new = false;
	uint8_t mac[6];
	size_t ml;

	ns_create(ns, "a");
	veth_create(ns, "a0", ns, "a1");
	nl_open_ok(&nl, ns);
	nl_open_ok(&mon, ns);
	ck_assert_int_eq(nl_join_monitor(&mon), 0);
	ml_bind_ok(&nl, BIND_OPTS(.ifname = "a0", .node_id = node,
				  .hello_ms = 150, .dead_ms = 2000), &pi);
	ck_assert_msg(!strncmp(pi.dev_name, "ml", 2), "dev name \"%s\"",
		      pi.dev_name);
	ck_assert_uint_eq(pi.port_index, 0);
	ck_assert_int_eq((int)pi.ifindex, if_index_in(ns, "a0"));

	ck_assert_int_eq(ml_dev_get(&nl, pi.dev_index, &rep), 0);
	ck_assert_int_eq(rep.n, 1);
	m = &rep.msgs[0];
	ck_assert_uint_eq(ma_u32(m, ML_A_DEV_INDEX), pi.dev_index);
	ck_assert_str_eq(ma_str(m, ML_A_DEV_NAME), pi.dev_name);
	ck_assert_uint_eq(ma_u32(m, ML_A_NODE_ID), node);
	ck_assert_uint_eq(ma_u32(m, ML_A_HELLO_MS), 150);
	ck_assert_uint_eq(ma_u32(m, ML_A_DEAD_MS), 2000);
	ck_assert_uint_eq(ma_u32(m, ML_A_ABI_VERSION), ML_ABI_VERSION);
	ck_assert_uint_eq(ma_u16(m, ML_A_ETHERTYPE), ml_ethertype());
	ck_assert_uint_eq(ma_u32(m, ML_A_NUM_PORTS), 1);
	ck_assert_msg(ma_has(m, ML_A_CAPS), "DEV_GET without CAPS");
	reply_free(&rep);

	/* By name too. */
	{
		struct ml_req r;

		req_init(&r, &nl, ML_CMD_DEV_GET, false);
		req_str(&r, ML_A_DEV_NAME, pi.dev_name);
		ck_assert_int_eq(nl_do(&nl, &r, &rep), 0);
		ck_assert_int_eq(rep.n, 1);
		ck_assert_uint_eq(ma_u32(&rep.msgs[0], ML_A_DEV_INDEX),
				  pi.dev_index);
		reply_free(&rep);
	}

	/* PORT_GET doit by each selector. */
	if_mac_in(ns, "a0", mac);
	for (int sel = 0; sel < 4; sel++) {
		struct ml_req r;

		req_init(&r, &nl, ML_CMD_PORT_GET, false);
		if (sel == 0)
			req_str(&r, ML_A_IFNAME, "a0");
		else if (sel == 1)
			req_u32(&r, ML_A_IFINDEX, pi.ifindex);
		else if (sel == 2)
			req_u32(&r, ML_A_DEV_INDEX, pi.dev_index);
		else
			req_str(&r, ML_A_DEV_NAME, pi.dev_name);
		if (sel >= 2)
			req_u32(&r, ML_A_PORT_INDEX, pi.port_index);
		ck_assert_msg(nl_do(&nl, &r, &rep) == 0,
			      "PORT_GET selector %d: %s (%s)", sel,
			      strerror(-rep.err), rep.extack);
		ck_assert_int_eq(rep.n, 1);
		m = &rep.msgs[0];
		ck_assert_str_eq(ma_str(m, ML_A_IFNAME), "a0");
		ck_assert_uint_eq(ma_u32(m, ML_A_IFINDEX), pi.ifindex);
		ck_assert_uint_eq(ma_u32(m, ML_A_DEV_INDEX), pi.dev_index);
		ck_assert_str_eq(ma_str(m, ML_A_DEV_NAME), pi.dev_name);
		ck_assert_uint_eq(ma_u32(m, ML_A_PORT_INDEX), pi.port_index);
		ck_assert_msg(ma_bin(m, ML_A_MAC, &ml) && ml == 6 &&
			      !memcmp(ma_bin(m, ML_A_MAC, NULL), mac, 6),
			      "PORT_GET MAC wrong");
		ck_assert_uint_eq(ma_u32(m, ML_A_MTU), 1500);
		ck_assert_uint_eq(ma_u8(m, ML_A_CARRIER), 1);
		ck_assert_msg(ma_has(m, ML_A_LINK_STATE), "no LINK_STATE");
		ck_assert_msg(ma_has(m, ML_A_NUM_NEIGH), "no NUM_NEIGH");
		reply_free(&rep);
	}

	/* A lone port (a1 is not bound) has no neighbour: link down. */
	ck_assert_int_eq(ml_port_state(&nl, "a0"), 0);

	/* DEV_NEW_NTF reached the monitor. */
	while (nl_recv_ntf(&mon, &ntf, 3000) == 0) {
		tlog("monitor: %s %s", ml_cmd_name(ntf.cmd),
		     ma_str(&ntf, ML_A_DEV_NAME));
		if (ntf.cmd == ML_CMD_DEV_NEW_NTF &&
		    !strcmp(ma_str(&ntf, ML_A_DEV_NAME), pi.dev_name)) {
			seen_new = true;
			ck_assert_uint_eq(ma_u32(&ntf, ML_A_NODE_ID), node);
		}
		msg_free(&ntf);
		if (seen_new)
			break;
	}
	ck_assert_msg(seen_new, "no DEV_NEW_NTF for %s", pi.dev_name);
}
END_TEST

START_TEST(test_bind_defaults)
{
	struct env e;
	struct port_info pi;
	struct ml_reply rep;
	long h = ml_param_long("hello_ms", ML_HELLO_MS_DEFAULT);
	long d = ml_param_long("dead_ms", ML_DEAD_MS_DEFAULT);

	env_setup(&e);
	ml_bind_ok(&e.nl, BIND_OPTS(.ifname = "a1"), &pi);
	ck_assert_uint_ne(pi.dev_index, e.p0.dev_index);
	ck_assert_int_eq(ml_dev_get(&e.nl, pi.dev_index, &rep), 0);
	ck_assert_uint_eq(ma_u32(&rep.msgs[0], ML_A_HELLO_MS), (uint32_t)h);
	ck_assert_uint_eq(ma_u32(&rep.msgs[0], ML_A_DEAD_MS), (uint32_t)d);
	/* Some valid node id was chosen, not the other device's. */
	ck_assert_uint_ne(ma_u32(&rep.msgs[0], ML_A_NODE_ID), 0);
	ck_assert_uint_ne(ma_u32(&rep.msgs[0], ML_A_NODE_ID), 0xffffffffu);
	ck_assert_uint_ne(ma_u32(&rep.msgs[0], ML_A_NODE_ID), e.node_id);
	reply_free(&rep);
}
END_TEST

START_TEST(test_unbind)
{
	struct env e;
	struct nl mon;
	struct ml_reply rep;
	struct ml_req r;
	struct ml_msg ntf;
	bool multi, seen_del = false;

	env_setup(&e);
	nl_open_ok(&mon, e.ns);
	ck_assert_int_eq(nl_join_monitor(&mon), 0);
	ck_assert_int_eq(ml_dev_get(&e.nl, e.p0.dev_index, &rep), 0);
	multi = ma_u64(&rep.msgs[0], ML_A_CAPS) & ML_DEV_CAP_MULTI_PORT;
	reply_free(&rep);
	if (multi) {
		struct port_info p1;

		ml_bind_ok(&e.nl, BIND_OPTS(.ifname = "a1", INTO(e.p0.dev_index)), &p1);
		ck_assert_uint_eq(p1.dev_index, e.p0.dev_index);
		ck_assert_uint_ne(p1.port_index, e.p0.port_index);
		/* Unbind a1 by DEV_INDEX + PORT_INDEX: device stays. */
		req_init(&r, &e.nl, ML_CMD_PORT_UNBIND, false);
		req_u32(&r, ML_A_DEV_INDEX, e.p0.dev_index);
		req_u32(&r, ML_A_PORT_INDEX, p1.port_index);
		ck_assert_msg(nl_do(&e.nl, &r, &rep) == 0, "unbind by index: %s"
			      " (%s)", strerror(-rep.err), rep.extack);
		reply_free(&rep);
		ck_assert_int_eq(ml_dev_get(&e.nl, e.p0.dev_index, &rep), 0);
		ck_assert_uint_eq(ma_u32(&rep.msgs[0], ML_A_NUM_PORTS), 1);
		reply_free(&rep);
		ck_assert_int_eq(ml_unbind_ifname(&e.nl, "a1"), -ENOENT);
	} else {
		tpartial("test_unbind", "no ML_DEV_CAP_MULTI_PORT: two-port part"
		      " not run");
	}
	/* Last port by IFNAME: the device goes. */
	ck_assert_int_eq(ml_unbind_ifname(&e.nl, "a0"), 0);
	ck_assert_int_eq(ml_dev_get(&e.nl, e.p0.dev_index, &rep), -ENODEV);
	reply_free(&rep);
	ck_assert_int_eq(ml_dump(&e.nl, ML_CMD_DEV_GET, -1, &rep), 0);
	ck_assert_int_eq(rep.n, 0);
	reply_free(&rep);
	ck_assert_int_eq(ml_unbind_ifname(&e.nl, "a0"), -ENOENT);
	while (!seen_del && nl_recv_ntf(&mon, &ntf, 3000) == 0) {
		tlog("monitor: %s %s", ml_cmd_name(ntf.cmd),
		     ma_str(&ntf, ML_A_DEV_NAME));
		if (ntf.cmd == ML_CMD_DEV_DEL_NTF &&
		    !strcmp(ma_str(&ntf, ML_A_DEV_NAME), e.p0.dev_name))
			seen_del = true;
		msg_free(&ntf);
	}
	ck_assert_msg(seen_del, "no DEV_DEL_NTF for %s", e.p0.dev_name);
	/* The netdev is free again: it can be bound anew. */
	ml_bind_ok(&e.nl, BIND_OPTS(.ifname = "a0", .node_id = e.node_id), NULL);
}
END_TEST

START_TEST(test_dev_set)
{
	struct env e;
	struct ml_req r;
	struct ml_reply rep;
	uint32_t nid = node_id_base() + 9;

	env_setup(&e);
	req_init(&r, &e.nl, ML_CMD_DEV_SET, false);
	req_u32(&r, ML_A_DEV_INDEX, e.p0.dev_index);
	req_u32(&r, ML_A_NODE_ID, nid);
	req_u32(&r, ML_A_HELLO_MS, 250);
	req_u32(&r, ML_A_DEAD_MS, 3000);
	ck_assert_msg(nl_do(&e.nl, &r, &rep) == 0, "DEV_SET: %s (%s)",
		      strerror(-rep.err), rep.extack);
	reply_free(&rep);
	ck_assert_int_eq(ml_dev_get(&e.nl, e.p0.dev_index, &rep), 0);
	ck_assert_uint_eq(ma_u32(&rep.msgs[0], ML_A_NODE_ID), nid);
	ck_assert_uint_eq(ma_u32(&rep.msgs[0], ML_A_HELLO_MS), 250);
	ck_assert_uint_eq(ma_u32(&rep.msgs[0], ML_A_DEAD_MS), 3000);
	reply_free(&rep);

	/* By DEV_NAME, one attribute only: the others stay. */
	req_init(&r, &e.nl, ML_CMD_DEV_SET, false);
	req_str(&r, ML_A_DEV_NAME, e.p0.dev_name);
	req_u32(&r, ML_A_HELLO_MS, 300);
	ck_assert_msg(nl_do(&e.nl, &r, &rep) == 0, "DEV_SET by name: %s (%s)",
		      strerror(-rep.err), rep.extack);
	reply_free(&rep);
	ck_assert_int_eq(ml_dev_get(&e.nl, e.p0.dev_index, &rep), 0);
	ck_assert_uint_eq(ma_u32(&rep.msgs[0], ML_A_NODE_ID), nid);
	ck_assert_uint_eq(ma_u32(&rep.msgs[0], ML_A_HELLO_MS), 300);
	ck_assert_uint_eq(ma_u32(&rep.msgs[0], ML_A_DEAD_MS), 3000);
	reply_free(&rep);

	/* A rejected DEV_SET changes nothing. */
	req_init(&r, &e.nl, ML_CMD_DEV_SET, false);
	req_u32(&r, ML_A_DEV_INDEX, e.p0.dev_index);
	req_u32(&r, ML_A_NODE_ID, nid + 1);
	req_u32(&r, ML_A_HELLO_MS, 1000);
	req_u32(&r, ML_A_DEAD_MS, 1500);
	ck_assert_int_eq(nl_do(&e.nl, &r, &rep), -EINVAL);
	reply_free(&rep);
	ck_assert_int_eq(ml_dev_get(&e.nl, e.p0.dev_index, &rep), 0);
	ck_assert_uint_eq(ma_u32(&rep.msgs[0], ML_A_NODE_ID), nid);
	ck_assert_uint_eq(ma_u32(&rep.msgs[0], ML_A_HELLO_MS), 300);
	reply_free(&rep);
}
END_TEST

struct neigh_wait {
	struct nl *nl;
	const char *ifname;
	uint32_t node_id;
	int want;		/* count wanted */
	uint32_t dead_ms;	/* 0: any */
};

static bool neigh_cond(void *arg)
{
	struct neigh_wait *w = arg;
	struct ml_reply rep;
	int n = 0;

	if (ml_dump(w->nl, ML_CMD_NEIGH_GET, -1, &rep) == 0)
		for (int i = 0; i < rep.n; i++) {
			struct ml_msg *m = &rep.msgs[i];

			if (ma_u32(m, ML_A_NEIGH_NODE_ID) == w->node_id &&
			    !strcmp(ma_str(m, ML_A_IFNAME), w->ifname) &&
			    (!w->dead_ms ||
			     ma_u32(m, ML_A_NEIGH_DEAD_MS) == w->dead_ms))
				n++;
		}
	reply_free(&rep);
	return n == w->want;
}

START_TEST(test_dev_set_seen_by_neighbour)
{
	struct pod p;
	struct ml_req r;
	struct ml_reply rep;
	uint32_t nid = node_id_base() + 11;
	struct neigh_wait w;

	pod_create(&p, 2, 100, 1000);
	pod_wait_discovered(&p, 15000);
	req_init(&r, &p.nodes[0].nl, ML_CMD_DEV_SET, false);
	req_u32(&r, ML_A_DEV_INDEX, p.nodes[0].dev_index);
	req_u32(&r, ML_A_NODE_ID, nid);
	req_u32(&r, ML_A_DEAD_MS, 1500);
	ck_assert_msg(nl_do(&p.nodes[0].nl, &r, &rep) == 0, "DEV_SET: %s (%s)",
		      strerror(-rep.err), rep.extack);
	reply_free(&rep);
	w = (struct neigh_wait){ &p.nodes[1].nl, "m10", nid, 1, 1500 };
	ck_assert_msg(wait_until(neigh_cond, &w, 10000),
		      "node 1 never saw node 0's new id %u with dead 1500", nid);
	w = (struct neigh_wait){ &p.nodes[1].nl, "m10", p.nodes[0].node_id, 0, 0 };
	ck_assert_msg(wait_until(neigh_cond, &w, 15000),
		      "node 1 still sees node 0's old id %u",
		      p.nodes[0].node_id);
	ck_assert_int_eq(ml_port_state(&p.nodes[1].nl, "m10"), 1);
	pod_destroy(&p);
}
END_TEST

static int count_dev(struct ml_reply *rep, uint32_t dev)
{
	int n = 0;

	for (int i = 0; i < rep->n; i++)
		if (ma_u32(&rep->msgs[i], ML_A_DEV_INDEX) == dev)
			n++;
	return n;
}

START_TEST(test_dump_filters)
{
	char ns[32];
	struct nl nl;
	struct port_info x, x2, y, y2;
	uint32_t base = node_id_base();
	struct ml_reply rep;
	struct neigh_wait w;

	ns_create(ns, "a");
	veth_create(ns, "x0", ns, "x1");
	veth_create(ns, "y0", ns, "y1");
	nl_open_ok(&nl, ns);
	ml_bind_ok(&nl, BIND_OPTS(.ifname = "x0", .node_id = base + 1,
				  .hello_ms = 100, .dead_ms = 1000), &x);
	ml_bind_ok(&nl, BIND_OPTS(.ifname = "x1", .node_id = base + 2,
				  .hello_ms = 100, .dead_ms = 1000), &x2);
	ml_bind_ok(&nl, BIND_OPTS(.ifname = "y0", .node_id = base + 3,
				  .hello_ms = 100, .dead_ms = 1000), &y);
	ml_bind_ok(&nl, BIND_OPTS(.ifname = "y1", .node_id = base + 4,
				  .hello_ms = 100, .dead_ms = 1000), &y2);

	ck_assert_int_eq(ml_dump(&nl, ML_CMD_DEV_GET, -1, &rep), 0);
	ck_assert_int_eq(rep.n, 4);
	reply_free(&rep);

	w = (struct neigh_wait){ &nl, "x0", base + 2, 1, 0 };
	ck_assert_msg(wait_until(neigh_cond, &w, 15000), "x0 never saw x1");
	w = (struct neigh_wait){ &nl, "y0", base + 4, 1, 0 };
	ck_assert_msg(wait_until(neigh_cond, &w, 15000), "y0 never saw y1");
	w = (struct neigh_wait){ &nl, "x1", base + 1, 1, 0 };
	ck_assert_msg(wait_until(neigh_cond, &w, 15000), "x1 never saw x0");
	w = (struct neigh_wait){ &nl, "y1", base + 3, 1, 0 };
	ck_assert_msg(wait_until(neigh_cond, &w, 15000), "y1 never saw y0");

	ck_assert_int_eq(ml_dump(&nl, ML_CMD_PORT_GET, -1, &rep), 0);
	ck_assert_int_eq(rep.n, 4);
	reply_free(&rep);
	ck_assert_int_eq(ml_dump(&nl, ML_CMD_PORT_GET, (int)y.dev_index, &rep), 0);
	ck_assert_int_eq(rep.n, 1);
	ck_assert_str_eq(ma_str(&rep.msgs[0], ML_A_IFNAME), "y0");
	reply_free(&rep);

	ck_assert_int_eq(ml_dump(&nl, ML_CMD_NEIGH_GET, -1, &rep), 0);
	ck_assert_int_eq(rep.n, 4);
	reply_free(&rep);
	ck_assert_int_eq(ml_dump(&nl, ML_CMD_NEIGH_GET, (int)x.dev_index, &rep), 0);
	ck_assert_int_eq(rep.n, 1);
	ck_assert_int_eq(count_dev(&rep, x.dev_index), 1);
	ck_assert_uint_eq(ma_u32(&rep.msgs[0], ML_A_NEIGH_NODE_ID), base + 2);
	ck_assert_str_eq(ma_str(&rep.msgs[0], ML_A_NEIGH_DEV_NAME), x2.dev_name);
	reply_free(&rep);

	ck_assert_int_eq(ml_dump(&nl, ML_CMD_STATS_GET, -1, &rep), 0);
	ck_assert_int_eq(rep.n, 4);
	reply_free(&rep);
	ck_assert_int_eq(ml_dump(&nl, ML_CMD_STATS_GET, (int)y2.dev_index, &rep), 0);
	ck_assert_int_eq(rep.n, 1);
	ck_assert_str_eq(ma_str(&rep.msgs[0], ML_A_IFNAME), "y1");
	ck_assert_msg(ma_stat(&rep.msgs[0], ML_STAT_TX_HELLO) > 0,
		      "y1 sent no HELLO per STATS");
	ck_assert_msg(ma_stat(&rep.msgs[0], ML_STAT_RX_HELLO) > 0,
		      "y1 received no HELLO per STATS");
	reply_free(&rep);

	/* Filter by DEV_NAME. */
	{
		struct ml_req r;

		req_init(&r, &nl, ML_CMD_PORT_GET, true);
		req_str(&r, ML_A_DEV_NAME, x2.dev_name);
		ck_assert_int_eq(nl_do(&nl, &r, &rep), 0);
		ck_assert_int_eq(rep.n, 1);
		ck_assert_str_eq(ma_str(&rep.msgs[0], ML_A_IFNAME), "x1");
		reply_free(&rep);
	}
}
END_TEST

/* Dumps larger than one reader's buffer resume where they stopped: every
 * object exactly once. */
START_TEST(test_dump_resume)
{
	char ns[32];
	struct nl nl, small;
	enum { pairs = 32 };	/* 64 devices: > 4 KiB in every dump */
	uint32_t base = node_id_base();
	static const uint8_t cmds[] = { ML_CMD_DEV_GET, ML_CMD_PORT_GET,
					ML_CMD_STATS_GET, ML_CMD_NEIGH_GET };
	uint64_t end;

	ns_create(ns, "a");
	nl_open_ok(&nl, ns);
	for (int i = 0; i < pairs; i++) {
		char a[16], b[16];

		snprintf(a, sizeof(a), "d%da", i);
		snprintf(b, sizeof(b), "d%db", i);
		veth_create(ns, a, ns, b);
		ml_bind_ok(&nl, BIND_OPTS(.ifname = a, .node_id = base + 2 * i + 1,
					  .hello_ms = 500, .dead_ms = 5000), NULL);
		ml_bind_ok(&nl, BIND_OPTS(.ifname = b, .node_id = base + 2 * i + 2,
					  .hello_ms = 500, .dead_ms = 5000), NULL);
	}
	/* Every device sees its peer. */
	end = now_ms() + 30000;
	for (;;) {
		struct ml_reply rep;
		int n;

		ck_assert_int_eq(ml_dump(&nl, ML_CMD_NEIGH_GET, -1, &rep), 0);
		n = rep.n;
		reply_free(&rep);
		if (n == 2 * pairs)
			break;
		ck_assert_msg(now_ms() < end, "%d of %d neighbours after 30 s",
			      n, 2 * pairs);
		sleep_ms(200);
	}
	ck_assert_int_eq(nl_open_small(&small, ns, 4096), 0);
	for (size_t c = 0; c < ARRAY_SIZE(cmds); c++) {
		struct ml_reply rep;
		bool seen[2 * pairs] = { false };

		small.rounds = 0;
		ck_assert_msg(ml_dump(&small, cmds[c], -1, &rep) == 0,
			      "%s dump: %s (%s)", ml_cmd_name(cmds[c]),
			      strerror(-rep.err), rep.extack);
		tlog("%s dump: %d messages in %u rounds", ml_cmd_name(cmds[c]),
		     rep.n, small.rounds);
		ck_assert_msg(rep.n == 2 * pairs, "%s dump: %d messages, want %d",
			      ml_cmd_name(cmds[c]), rep.n, 2 * pairs);
		for (int i = 0; i < rep.n; i++) {
			const char *ifn = ma_str(&rep.msgs[i], ML_A_IFNAME);
			int k = -1;
			char ab = 0;

			if (cmds[c] == ML_CMD_DEV_GET) {
				k = (int)(ma_u32(&rep.msgs[i], ML_A_NODE_ID) - base - 1);
			} else if (sscanf(ifn, "d%d%c", &k, &ab) == 2) {
				k = 2 * k + (ab == 'b');
			}
			ck_assert_msg(k >= 0 && k < 2 * pairs, "%s dump: stray "
				      "message (ifname \"%s\")",
				      ml_cmd_name(cmds[c]), ifn);
			ck_assert_msg(!seen[k], "%s dump: object %d twice",
				      ml_cmd_name(cmds[c]), k);
			seen[k] = true;
		}
		ck_assert_msg(small.rounds > 1, "%s dump fit in one datagram: "
			      "resume not exercised", ml_cmd_name(cmds[c]));
		reply_free(&rep);
	}
	nl_close(&small);
}
END_TEST

START_TEST(test_netns_isolation)
{
	struct env e;
	char nsb[32];
	struct nl nlb, monb;
	struct ml_reply rep;
	struct ml_req r;
	struct ml_msg ntf;
	int got;

	ns_create(nsb, "b");
	veth_create(nsb, "b0", nsb, "b1");
	nl_open_ok(&nlb, nsb);
	nl_open_ok(&monb, nsb);
	ck_assert_int_eq(nl_join_monitor(&monb), 0);
	env_setup(&e);

	ck_assert_int_eq(ml_dump(&nlb, ML_CMD_DEV_GET, -1, &rep), 0);
	ck_assert_msg(rep.n == 0, "namespace b sees %d devices of a", rep.n);
	reply_free(&rep);
	ck_assert_int_eq(ml_dump(&nlb, ML_CMD_PORT_GET, -1, &rep), 0);
	ck_assert_int_eq(rep.n, 0);
	reply_free(&rep);
	ck_assert_int_eq(ml_dump(&nlb, ML_CMD_STATS_GET, -1, &rep), 0);
	ck_assert_int_eq(rep.n, 0);
	reply_free(&rep);
	ck_assert_int_eq(ml_dev_get(&nlb, e.p0.dev_index, &rep), -ENODEV);
	reply_free(&rep);
	req_init(&r, &nlb, ML_CMD_DEV_GET, false);
	req_str(&r, ML_A_DEV_NAME, e.p0.dev_name);
	ck_assert_int_eq(nl_do(&nlb, &r, &rep), -ENODEV);
	reply_free(&rep);
	req_init(&r, &nlb, ML_CMD_DEV_SET, false);
	req_u32(&r, ML_A_DEV_INDEX, e.p0.dev_index);
	req_u32(&r, ML_A_HELLO_MS, 500);
	ck_assert_int_eq(nl_do(&nlb, &r, &rep), -ENODEV);
	reply_free(&rep);
	{
		char ext[256];

		got = ml_bind(&nlb, BIND_OPTS(.ifname = "b0", INTO(e.p0.dev_index)), NULL, ext,
			      sizeof(ext));
		ck_assert_msg(got == -ENODEV, "bind in b into a's device: %d (%s)",
			      got, ext);
	}
	/* a's DEV_NEW_NTF did not reach b's monitor. */
	got = nl_recv_ntf(&monb, &ntf, 1000);
	if (got == 0) {
		ck_abort_msg("monitor in namespace b got %s of %s",
			     ml_cmd_name(ntf.cmd), ma_str(&ntf, ML_A_DEV_NAME));
	}
	/* And b's own device is independent of a's. */
	ml_bind_ok(&nlb, BIND_OPTS(.ifname = "b0", .node_id = e.node_id + 1), NULL);
	ck_assert_int_eq(ml_dump(&nlb, ML_CMD_DEV_GET, -1, &rep), 0);
	ck_assert_int_eq(rep.n, 1);
	reply_free(&rep);
	ck_assert_int_eq(ml_dump(&e.nl, ML_CMD_DEV_GET, -1, &rep), 0);
	ck_assert_int_eq(rep.n, 1);
	ck_assert_uint_eq(ma_u32(&rep.msgs[0], ML_A_DEV_INDEX), e.p0.dev_index);
	reply_free(&rep);
}
END_TEST

START_TEST(test_family)
{
	struct nl nl;

	nl_open_ok(&nl, NULL);
	ck_assert_uint_ne(nl.family, 0);
	ck_assert_msg(nl.mcgrp != 0, "no multicast group \"" ML_GENL_MCGRP_MONITOR "\"");
	ck_assert_uint_eq(nl.version, ML_GENL_VERSION);
	/* NEIGH_GET is dump-only: a doit is refused, never crashes. */
	{
		struct ml_req r;
		struct ml_reply rep;

		req_init(&r, &nl, ML_CMD_NEIGH_GET, false);
		ck_assert_int_ne(nl_do(&nl, &r, &rep), 0);
		reply_free(&rep);
		/* Notification commands are not requests. */
		req_init(&r, &nl, ML_CMD_DEV_NEW_NTF, false);
		ck_assert_int_ne(nl_do(&nl, &r, &rep), 0);
		reply_free(&rep);
	}
}
END_TEST

int main(void)
{
	Suite *s = suite_create("netlink");
	TCase *tc;

	tc = tcase_new("validation", 120);
	tcase_add_test(tc, test_family);
	tcase_add_test(tc, test_missing_attrs);
	tcase_add_test(tc, test_wrong_types);
	tcase_add_test(tc, test_out_of_range);
	tcase_add_test(tc, test_unknown_device);
	suite_add_tcase(s, tc);

	tc = tcase_new("bind", 120);
	tcase_add_test(tc, test_bind_lo);
	tcase_add_test(tc, test_bind_down);
	tcase_add_test(tc, test_bind_twice);
	tcase_add_test(tc, test_bind_missing);
	tcase_add_test(tc, test_bind_node_id_taken);
	tcase_add_test(tc, test_bind_full);
	tcase_add_test(tc, test_bind_reply_and_dev_get);
	tcase_add_test(tc, test_bind_defaults);
	tcase_add_test(tc, test_unbind);
	suite_add_tcase(s, tc);

	tc = tcase_new("privilege", 120);
	tcase_add_test(tc, test_admin_needs_cap);
	tcase_add_test(tc, test_reads_unprivileged);
	suite_add_tcase(s, tc);

	tc = tcase_new("state", 180);
	tcase_add_test(tc, test_dev_set);
	tcase_add_test(tc, test_dev_set_seen_by_neighbour);
	tcase_add_test(tc, test_dump_filters);
	tcase_add_test(tc, test_netns_isolation);
	tcase_add_test(tc, test_dump_resume);
	suite_add_tcase(s, tc);

	return run_suite(s, "netlink");
}
