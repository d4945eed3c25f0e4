// SPDX-License-Identifier: GPL-2.0
/*
 * Lifetimes: a netdev deleted while bound, a namespace deleted while bound,
 * the module unloaded while bound (and reloaded), a char device fd that
 * outlives its device, and module parameters (bind=, timers, ethertype).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common.h"

#define HELLO 100
#define DEAD 1000

struct path_wait {
	char path[256];
	bool exists;
};

static bool path_cond(void *arg)
{
	struct path_wait *w = arg;

	return (access(w->path, F_OK) == 0) == w->exists;
}

static void wait_path(bool exists, const char *fmt, const char *name)
{
	struct path_wait w = { .exists = exists };

	snprintf(w.path, sizeof(w.path), fmt, name);
	ck_assert_msg(wait_until(path_cond, &w, 10000), "%s still %s after 10 s",
		      w.path, exists ? "missing" : "present");
}

static bool multi_port(struct nl *nl, uint32_t dev)
{
	struct ml_reply rep;
	bool r;

	ck_assert_int_eq(ml_dev_get(nl, dev, &rep), 0);
	r = ma_u64(&rep.msgs[0], ML_A_CAPS) & ML_DEV_CAP_MULTI_PORT;
	reply_free(&rep);
	return r;
}

/* Collect notifications until idle; count of (cmd, dev name) matches. */
static int count_ntf(struct nl *mon, uint8_t cmd, const char *dev,
		     unsigned int idle_ms)
{
	struct ml_msg m;
	int n = 0;

	while (nl_recv_ntf(mon, &m, idle_ms) == 0) {
		tlog("monitor: %s dev %s ifname %s reason %u",
		     ml_cmd_name(m.cmd), ma_str(&m, ML_A_DEV_NAME),
		     ma_str(&m, ML_A_IFNAME), ma_u8(&m, ML_A_REASON));
		if (m.cmd == cmd && !strcmp(ma_str(&m, ML_A_DEV_NAME), dev))
			n++;
		msg_free(&m);
	}
	return n;
}

START_TEST(test_veth_deleted_while_bound)
{
	char ns[32];
	struct nl nl, mon;
	struct port_info a, b;
	struct ml_reply rep;

	ns_create(ns, "a");
	veth_create(ns, "a0", ns, "a1");
	nl_open_ok(&nl, ns);
	nl_open_ok(&mon, ns);
	ck_assert_int_eq(nl_join_monitor(&mon), 0);
	ml_bind_ok(&nl, BIND_OPTS(.ifname = "a0", .node_id = node_id_base() + 1,
				  .hello_ms = HELLO, .dead_ms = DEAD), &a);
	ml_bind_ok(&nl, BIND_OPTS(.ifname = "a1", .node_id = node_id_base() + 2,
				  .hello_ms = HELLO, .dead_ms = DEAD), &b);
	wait_path(true, "/dev/megalink/%s", a.dev_name);
	wait_path(true, "/sys/class/megalink/%s", a.dev_name);
	count_ntf(&mon, 0, "", 500);	/* drain DEV_NEW etc. */

	/* Deleting a0 deletes its peer a1 too: both devices go. */
	ck_assert_int_eq(link_del(ns, "a0"), 0);
	ck_assert_int_eq(ml_dump(&nl, ML_CMD_DEV_GET, -1, &rep), 0);
	ck_assert_msg(rep.n == 0, "%d devices left after the veth was deleted",
		      rep.n);
	reply_free(&rep);
	ck_assert_int_eq(ml_dump(&nl, ML_CMD_PORT_GET, -1, &rep), 0);
	ck_assert_int_eq(rep.n, 0);
	reply_free(&rep);
	ck_assert_int_eq(ml_dev_get(&nl, a.dev_index, &rep), -ENODEV);
	reply_free(&rep);
	wait_path(false, "/dev/megalink/%s", a.dev_name);
	wait_path(false, "/sys/class/megalink/%s", a.dev_name);
	wait_path(false, "/dev/megalink/%s", b.dev_name);
	{
		/* Both DEV_DEL_NTFs, one each. */
		struct ml_msg m;
		int da = 0, db = 0;

		while (nl_recv_ntf(&mon, &m, 1500) == 0) {
			tlog("monitor: %s dev %s", ml_cmd_name(m.cmd),
			     ma_str(&m, ML_A_DEV_NAME));
			if (m.cmd == ML_CMD_DEV_DEL_NTF) {
				da += !strcmp(ma_str(&m, ML_A_DEV_NAME), a.dev_name);
				db += !strcmp(ma_str(&m, ML_A_DEV_NAME), b.dev_name);
			}
			msg_free(&m);
		}
		ck_assert_msg(da == 1 && db == 1, "DEV_DEL_NTF: %d for %s, %d "
			      "for %s; want 1 each", da, a.dev_name, db,
			      b.dev_name);
	}
	/* A new veth of the same name binds fine. */
	veth_create(ns, "a0", ns, "a1");
	ml_bind_ok(&nl, BIND_OPTS(.ifname = "a0", .node_id = node_id_base() + 1),
		   NULL);
}
END_TEST

START_TEST(test_veth_deleted_one_of_two_ports)
{
	char ns[32];
	struct nl nl, mon;
	struct port_info a, a2, peer;
	struct ml_reply rep;
	int dels;

	ns_create(ns, "a");
	veth_create(ns, "a0", ns, "a1");
	veth_create(ns, "b0", ns, "b1");
	nl_open_ok(&nl, ns);
	nl_open_ok(&mon, ns);
	ml_bind_ok(&nl, BIND_OPTS(.ifname = "a0", .node_id = node_id_base() + 1,
				  .hello_ms = HELLO, .dead_ms = DEAD), &a);
	if (!multi_port(&nl, a.dev_index)) {
		tskip("test_veth_deleted_one_of_two_ports",
		      "no ML_DEV_CAP_MULTI_PORT");
		return;
	}
	ml_bind_ok(&nl, BIND_OPTS(.ifname = "b0", INTO(a.dev_index)), &a2);
	ml_bind_ok(&nl, BIND_OPTS(.ifname = "a1", .node_id = node_id_base() + 2,
				  .hello_ms = HELLO, .dead_ms = DEAD), &peer);
	ck_assert_int_eq(nl_join_monitor(&mon), 0);
	ck_assert_int_eq(link_del(ns, "b0"), 0);
	ck_assert_int_eq(ml_dev_get(&nl, a.dev_index, &rep), 0);
	ck_assert_uint_eq(ma_u32(&rep.msgs[0], ML_A_NUM_PORTS), 1);
	reply_free(&rep);
	ck_assert_int_eq(ml_dump(&nl, ML_CMD_PORT_GET, (int)a.dev_index, &rep), 0);
	ck_assert_int_eq(rep.n, 1);
	ck_assert_str_eq(ma_str(&rep.msgs[0], ML_A_IFNAME), "a0");
	reply_free(&rep);
	dels = count_ntf(&mon, ML_CMD_DEV_DEL_NTF, a.dev_name, 1000);
	ck_assert_msg(dels == 0, "DEV_DEL_NTF for %s though a port is left",
		      a.dev_name);
	wait_path(true, "/dev/megalink/%s", a.dev_name);
	/* The remaining port still works. */
	{
		uint64_t end = now_ms() + 15000;

		while (ml_port_state(&nl, "a0") != 1 && now_ms() < end)
			sleep_ms(100);
		ck_assert_int_eq(ml_port_state(&nl, "a0"), 1);
	}
}
END_TEST

START_TEST(test_port_moved_to_other_netns)
{
	char nsa[32], nsb[32];
	struct nl nla, nlb, mon;
	struct port_info a;
	struct ml_reply rep;
	int dels;

	ns_create(nsa, "a");
	ns_create(nsb, "b");
	veth_create(nsa, "a0", nsa, "a1");
	nl_open_ok(&nla, nsa);
	nl_open_ok(&nlb, nsb);
	nl_open_ok(&mon, nsa);
	ck_assert_int_eq(nl_join_monitor(&mon), 0);
	ml_bind_ok(&nla, BIND_OPTS(.ifname = "a0", .node_id = node_id_base() + 1,
				   .hello_ms = HELLO, .dead_ms = DEAD), &a);
	count_ntf(&mon, 0, "", 300);
	ck_assert_int_eq(link_move(nsa, "a0", nsb), 0);
	/* The port left with its netdev: its device (last port) is gone. */
	ck_assert_int_eq(ml_dump(&nla, ML_CMD_DEV_GET, -1, &rep), 0);
	ck_assert_msg(rep.n == 0, "%d devices in a after its only port moved "
		      "away", rep.n);
	reply_free(&rep);
	dels = count_ntf(&mon, ML_CMD_DEV_DEL_NTF, a.dev_name, 1000);
	ck_assert_int_eq(dels, 1);
	wait_path(false, "/sys/class/megalink/%s", a.dev_name);
	/* In b it is a plain netdev, which can be bound there. */
	ck_assert_int_eq(ml_dump(&nlb, ML_CMD_PORT_GET, -1, &rep), 0);
	ck_assert_int_eq(rep.n, 0);
	reply_free(&rep);
	ck_assert_int_eq(link_set_up(nsb, "a0", true), 0);
	ml_bind_ok(&nlb, BIND_OPTS(.ifname = "a0", .node_id = node_id_base() + 1),
		   NULL);
	ck_assert_int_eq(ml_dump(&nlb, ML_CMD_DEV_GET, -1, &rep), 0);
	ck_assert_int_eq(rep.n, 1);
	reply_free(&rep);
	ck_assert_int_eq(ml_dump(&nla, ML_CMD_DEV_GET, -1, &rep), 0);
	ck_assert_int_eq(rep.n, 0);
	reply_free(&rep);
}
END_TEST

START_TEST(test_netns_deleted_while_bound)
{
	char ns[32];
	struct nl nl;
	struct port_info a, b;

	ns_create(ns, "a");
	veth_create(ns, "a0", ns, "a1");
	nl_open_ok(&nl, ns);
	ml_bind_ok(&nl, BIND_OPTS(.ifname = "a0", .node_id = node_id_base() + 1,
				  .hello_ms = HELLO, .dead_ms = DEAD), &a);
	ml_bind_ok(&nl, BIND_OPTS(.ifname = "a1", .node_id = node_id_base() + 2,
				  .hello_ms = HELLO, .dead_ms = DEAD), &b);
	nl_close(&nl);
	/* No explicit link deletion: the namespace's cleanup does it. */
	ns_delete_only(ns);
	wait_path(false, "/sys/class/megalink/%s", a.dev_name);
	wait_path(false, "/sys/class/megalink/%s", b.dev_name);
	wait_path(false, "/dev/megalink/%s", a.dev_name);
	/* Nothing holds the module now. */
	ck_assert_msg(run("rmmod megalink") == 0, "rmmod after netns deletion");
	ck_assert_int_eq(ml_load(NULL), 0);
}
END_TEST

START_TEST(test_rmmod_while_bound)
{
	struct pod p;
	struct nl mon, nl;
	char dev0[ML_DEV_NAME_LEN];
	int r;

	pod_create(&p, 2, HELLO, DEAD);
	pod_wait_discovered(&p, 20000);
	snprintf(dev0, sizeof(dev0), "%s", p.nodes[0].dev_name);
	nl_open_ok(&mon, p.nodes[0].ns);
	ck_assert_int_eq(nl_join_monitor(&mon), 0);
	/* Netlink sockets (ours and the monitor) must not pin the module. */
	r = run("rmmod megalink");
	ck_assert_msg(r == 0, "rmmod megalink with bound ports exited %d", r);
	ck_assert_msg(!ml_loaded(), "/sys/module/megalink still there");
	wait_path(false, "/sys/class/megalink/%s", dev0);
	wait_path(false, "/dev/megalink/%s", dev0);
	wait_path(false, "%s", "/sys/class/megalink");
	r = nl_open_ns(&nl, p.nodes[0].ns);
	ck_assert_msg(r == -ENOENT, "genl family after rmmod: %d (%s)", r,
		      strerror(-r));
	nl_close(&nl);
	/*
	 * The netdevs are intact and usable.  Operstate follows carrier
	 * through the kernel's linkwatch, which may lag on a busy guest:
	 * allow it a few seconds.
	 */
	RUN("for i in $(seq 50); do ip -n %s link show m01 | grep -q 'state UP' && exit 0; sleep 0.1; done; exit 1",
	    p.nodes[0].ns);
	RUN("for i in $(seq 50); do ip -n %s link show m10 | grep -q 'state UP' && exit 0; sleep 0.1; done; exit 1",
	    p.nodes[1].ns);
	/* megalink frames no longer reach a handler: no crash on receive. */
	sleep_ms(500);

	ck_assert_int_eq(ml_load(NULL), 0);
	for (int i = 0; i < p.n; i++) {
		nl_close(&p.nodes[i].nl);
		nl_open_ok(&p.nodes[i].nl, p.nodes[i].ns);
		ml_bind_ok(&p.nodes[i].nl,
			   BIND_OPTS(.ifname = p.nodes[i].ports[0].ifname,
				     .node_id = p.nodes[i].node_id,
				     .hello_ms = HELLO, .dead_ms = DEAD),
			   NULL);
	}
	/* Device names may differ after a reload: re-learn them. */
	for (int i = 0; i < p.n; i++) {
		struct ml_reply rep;

		ck_assert_int_eq(ml_dump(&p.nodes[i].nl, ML_CMD_DEV_GET, -1,
					 &rep), 0);
		ck_assert_int_eq(rep.n, 1);
		p.nodes[i].dev_index = ma_u32(&rep.msgs[0], ML_A_DEV_INDEX);
		snprintf(p.nodes[i].dev_name, sizeof(p.nodes[i].dev_name),
			 "%s", ma_str(&rep.msgs[0], ML_A_DEV_NAME));
		reply_free(&rep);
	}
	pod_wait_discovered(&p, 20000);
	pod_destroy(&p);
}
END_TEST

START_TEST(test_reload_cycles)
{
	for (int i = 0; i < 3; i++) {
		char ns[32], tag[8];
		struct nl nl;

		snprintf(tag, sizeof(tag), "c%d", i);
		ns_create(ns, tag);
		veth_create(ns, "a0", ns, "a1");
		nl_open_ok(&nl, ns);
		ml_bind_ok(&nl, BIND_OPTS(.ifname = "a0",
					  .node_id = node_id_base() + 1), NULL);
		ml_bind_ok(&nl, BIND_OPTS(.ifname = "a1",
					  .node_id = node_id_base() + 2), NULL);
		nl_close(&nl);
		ck_assert_msg(run("rmmod megalink") == 0, "rmmod cycle %d", i);
		ck_assert_int_eq(ml_load(NULL), 0);
		ns_delete(ns);
	}
}
END_TEST

START_TEST(test_fd_outlives_device)
{
	char ns[32], path[64];
	struct nl nl;
	struct port_info a;
	struct ml_query_device q;
	int fd, r;

	ns_create(ns, "a");
	veth_create(ns, "a0", ns, "a1");
	nl_open_ok(&nl, ns);
	ml_bind_ok(&nl, BIND_OPTS(.ifname = "a0", .node_id = node_id_base() + 1),
		   &a);
	snprintf(path, sizeof(path), "/dev/megalink/%s", a.dev_name);
	wait_path(true, "%s", path);
	fd = open(path, O_RDWR | O_CLOEXEC);
	ck_assert_msg(fd >= 0, "open %s: %s", path, strerror(errno));
	ck_assert_int_eq(link_del(ns, "a0"), 0);
	wait_path(false, "/sys/class/megalink/%s", a.dev_name);
	memset(&q, 0, sizeof(q));
	q.size = sizeof(q);
	r = ioctl(fd, ML_IOCTL_QUERY_DEVICE, &q) < 0 ? -errno : 0;
	tlog("query on a removed device: %d (%s), num_ports %u", r,
	     strerror(-r), q.num_ports);
	ck_assert_msg(r < 0, "query on a removed device succeeded (num_ports "
		      "%u)", q.num_ports);
	/* An fd pins the module: rmmod is refused, and works after close. */
	r = run("rmmod megalink");
	tlog("rmmod with an open fd: exit %d", r);
	close(fd);
	if (r == 0)
		ck_assert_int_eq(ml_load(NULL), 0);
	ck_assert_msg(run("rmmod megalink") == 0, "rmmod after close");
	ck_assert_int_eq(ml_load(NULL), 0);
}
END_TEST

/*
 * Everything at once for a while: one process flaps the link, this one
 * unbinds and rebinds the peer, changes timers and dumps.  The state must
 * settle to the right thing, and the kernel log must stay clean (checked
 * by run-suite.sh; lockdep/KASAN in a debug kernel).
 */
START_TEST(test_churn)
{
	struct pod p;
	pid_t pid;
	int st;
	uint32_t peer;
	uint64_t end;

	pod_create(&p, 2, 50, 500);
	pod_wait_discovered(&p, 20000);
	peer = p.nodes[1].node_id;
	pid = fork();
	ck_assert(pid >= 0);
	if (pid == 0) {
		for (int i = 0; i < 40; i++) {
			link_set_up(p.nodes[0].ns, "m01", false);
			sleep_ms(10 + (i % 5) * 10);
			link_set_up(p.nodes[0].ns, "m01", true);
			sleep_ms(10 + (i % 7) * 10);
		}
		_exit(0);
	}
	for (int i = 0; i < 20; i++) {
		struct ml_reply rep;
		struct ml_req r;
		char ext[256];
		int err;

		err = ml_unbind_ifname(&p.nodes[1].nl, "m10");
		ck_assert_msg(err == 0, "churn unbind %d: %s", i, strerror(-err));
		err = ml_bind(&p.nodes[1].nl, BIND_OPTS(.ifname = "m10",
			      .node_id = peer, .hello_ms = 50, .dead_ms = 500),
			      NULL, ext, sizeof(ext));
		ck_assert_msg(err == 0, "churn bind %d: %s (%s)", i,
			      strerror(-err), ext);
		req_init(&r, &p.nodes[0].nl, ML_CMD_DEV_SET, false);
		req_u32(&r, ML_A_DEV_INDEX, p.nodes[0].dev_index);
		req_u32(&r, ML_A_HELLO_MS, i % 2 ? 50 : 70);
		ck_assert_int_eq(nl_do(&p.nodes[0].nl, &r, &rep), 0);
		reply_free(&rep);
		ck_assert_int_eq(ml_dump(&p.nodes[0].nl, ML_CMD_NEIGH_GET, -1,
					 &rep), 0);
		reply_free(&rep);
		ck_assert_int_eq(ml_dump(&p.nodes[0].nl, ML_CMD_STATS_GET, -1,
					 &rep), 0);
		reply_free(&rep);
		ck_assert_int_eq(ml_dump(&p.nodes[1].nl, ML_CMD_PORT_GET, -1,
					 &rep), 0);
		reply_free(&rep);
	}
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert_int_eq(link_set_up(p.nodes[0].ns, "m01", true), 0);
	/* Settles: one neighbour each way, both ports up. */
	end = now_ms() + 20000;
	while ((ml_port_state(&p.nodes[0].nl, "m01") != 1 ||
		ml_port_state(&p.nodes[1].nl, "m10") != 1 ||
		ml_neigh_count(&p.nodes[0].nl, "m01", 0) != 1 ||
		ml_neigh_count(&p.nodes[1].nl, "m10", 0) != 1) &&
	       now_ms() < end)
		sleep_ms(100);
	ck_assert_int_eq(ml_port_state(&p.nodes[0].nl, "m01"), 1);
	ck_assert_int_eq(ml_port_state(&p.nodes[1].nl, "m10"), 1);
	ck_assert_int_eq(ml_neigh_count(&p.nodes[0].nl, "m01", peer), 1);
	ck_assert_int_eq(ml_neigh_count(&p.nodes[0].nl, "m01", 0), 1);
	ck_assert_int_eq(ml_neigh_count(&p.nodes[1].nl, "m10",
					p.nodes[0].node_id), 1);
	pod_destroy(&p);
	/* And the module still unloads. */
	ck_assert_msg(run("rmmod megalink") == 0, "rmmod after churn");
	ck_assert_int_eq(ml_load(NULL), 0);
}
END_TEST

/* ---- module parameters -------------------------------------------------- */

START_TEST(test_param_bind)
{
	struct nl nl;
	struct ml_reply rep;
	uint32_t d0 = 0, d1 = 0, d2 = 0;
	int n0 = 0, n1 = 0, n2 = 0;
	char params[128];

	ns_enter(NULL);
	link_del(NULL, "mltbp0");
	link_del(NULL, "mltbp2");
	veth_create(NULL, "mltbp0", NULL, "mltbp1");
	veth_create(NULL, "mltbp2", NULL, "mltbp3");
	snprintf(params, sizeof(params), "bind=mltbp0,mltbp1+mltbp2");
	ml_reload(params);
	nl_open_ok(&nl, NULL);
	ck_assert_int_eq(ml_dump(&nl, ML_CMD_PORT_GET, -1, &rep), 0);
	for (int i = 0; i < rep.n; i++) {
		const char *ifn = ma_str(&rep.msgs[i], ML_A_IFNAME);
		uint32_t d = ma_u32(&rep.msgs[i], ML_A_DEV_INDEX);

		tlog("port %s in dev %s", ifn, ma_str(&rep.msgs[i], ML_A_DEV_NAME));
		if (!strcmp(ifn, "mltbp0"))
			n0++, d0 = d;
		if (!strcmp(ifn, "mltbp1"))
			n1++, d1 = d;
		if (!strcmp(ifn, "mltbp2"))
			n2++, d2 = d;
	}
	reply_free(&rep);
	ck_assert_msg(n0 == 1 && n1 == 1 && n2 == 1, "bind=%s bound mltbp0 %d, "
		      "mltbp1 %d, mltbp2 %d times", params, n0, n1, n2);
	ck_assert_msg(d0 != d1, "mltbp0 and mltbp1 share device %u", d0);
	ck_assert_msg(d1 == d2, "mltbp1+mltbp2 in devices %u and %u", d1, d2);
	ck_assert_int_eq(ml_dev_get(&nl, d1, &rep), 0);
	ck_assert_uint_eq(ma_u32(&rep.msgs[0], ML_A_NUM_PORTS), 2);
	reply_free(&rep);
	/* mltbp3 was not named: not a port. */
	ck_assert_int_ne(ml_port_get(&nl, "mltbp3", &rep), 0);
	reply_free(&rep);
	nl_close(&nl);
	/* Leave a plain module behind. */
	ck_assert_int_eq(link_del(NULL, "mltbp0"), 0);
	ck_assert_int_eq(link_del(NULL, "mltbp2"), 0);
	ml_reload(NULL);
}
END_TEST

START_TEST(test_param_timers_and_ethertype)
{
	char ns[32];
	struct nl nl;
	struct port_info a, b;
	struct ml_reply rep;
	uint64_t end;

	ml_reload("hello_ms=200 dead_ms=2400 ethertype=0x88b6");
	ck_assert_int_eq(ml_param_long("hello_ms", 0), 200);
	ck_assert_int_eq(ml_param_long("dead_ms", 0), 2400);
	ck_assert_int_eq(ml_param_long("ethertype", 0), 0x88b6);
	ns_create(ns, "a");
	veth_create(ns, "a0", ns, "a1");
	nl_open_ok(&nl, ns);
	ml_bind_ok(&nl, BIND_OPTS(.ifname = "a0", .node_id = node_id_base() + 1),
		   &a);
	ml_bind_ok(&nl, BIND_OPTS(.ifname = "a1", .node_id = node_id_base() + 2),
		   &b);
	ck_assert_int_eq(ml_dev_get(&nl, a.dev_index, &rep), 0);
	ck_assert_uint_eq(ma_u32(&rep.msgs[0], ML_A_HELLO_MS), 200);
	ck_assert_uint_eq(ma_u32(&rep.msgs[0], ML_A_DEAD_MS), 2400);
	ck_assert_uint_eq(ma_u16(&rep.msgs[0], ML_A_ETHERTYPE), 0x88b6);
	reply_free(&rep);
	end = now_ms() + 20000;
	while (ml_neigh_count(&nl, "a0", node_id_base() + 2) != 1 &&
	       now_ms() < end)
		sleep_ms(100);
	ck_assert_msg(ml_neigh_count(&nl, "a0", node_id_base() + 2) == 1,
		      "no discovery with ethertype 0x88b6");
	nl_close(&nl);
	ns_delete(ns);
	ml_reload(NULL);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("lifecycle");
	TCase *tc;

	tc = tcase_new("netdev", 120);
	tcase_add_test(tc, test_veth_deleted_while_bound);
	tcase_add_test(tc, test_veth_deleted_one_of_two_ports);
	tcase_add_test(tc, test_netns_deleted_while_bound);
	tcase_add_test(tc, test_port_moved_to_other_netns);
	tcase_add_test(tc, test_fd_outlives_device);
	suite_add_tcase(s, tc);

	tc = tcase_new("module", 180);
	tcase_add_test(tc, test_rmmod_while_bound);
	tcase_add_test(tc, test_reload_cycles);
	tcase_add_test(tc, test_churn);
	tcase_add_test(tc, test_param_bind);
	tcase_add_test(tc, test_param_timers_and_ethertype);
	suite_add_tcase(s, tc);
	return run_suite(s, "lifecycle");
}
