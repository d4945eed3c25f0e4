// SPDX-License-Identifier: MIT
/*
 * dp_regress: regression tests of defects found in the module, each driven
 * from user space (libmegalink, netlink, or wire frames forged on the
 * peer's veth end: dp_fake.h) and each failing on the module before its
 * fix:
 *
 *  - connect_vs_unbind: a connect that resolved its path through a port
 *    that is unbound (and bound again into the same slot) before the
 *    connect completes must fail or leave the QP in error, never RTS on a
 *    port that is gone (the module's fault_connect_delay_ms widens the
 *    window; the test skips loudly without it);
 *  - ring_entries_offset: every ring's header says where its entries are
 *    (the kernel's page size) and the library uses it;
 *  - memcg_accounting: a QP's send-queue array and an MR's page array are
 *    charged to the caller's memory cgroup;
 *  - pin_charge_mm: an MR registered by a forked child through its
 *    parent's file is charged to the child's pinned_vm, not the parent's;
 *  - send_first_in_progress: a SEND's FIRST packet while a received SEND
 *    is still in progress is NAK_INVALID, the receive completes in error;
 *  - owner_pid_ns: QP owner pids are shown in the reader's pid namespace;
 *  - zerocopy_truesize: a zero-copy frame's truesize counts whole pages;
 *  - stale_nak_seq: a NAK_SEQ for a PSN already acknowledged is dropped,
 *    no go-back-N, while one in flight still rewinds.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/megalink.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "dp_fake.h"
#include "dp_main.h"

/* ---- connect_vs_unbind ---- */

struct cu {
	char nsa[32], nsb[32], dev[ML_DEV_NAME_LEN];
	uint32_t node_a, node_b;
};

static int ns_enter_name(const char *name)
{
	char path[128];
	int fd, r;

	snprintf(path, sizeof(path), "/run/netns/%s", name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	r = setns(fd, CLONE_NEWNET) ? -errno : 0;
	close(fd);
	return r;
}

static struct ml_ctl *ctl_in(const char *ns)
{
	struct ml_ctl *ctl;

	ck_assert_int_eq(ns_enter_name(ns), 0);
	ck_assert_msg(ml_ctl_open(&ctl) == 0, "%s", ml_last_error());
	return ctl;
}

static void cu_bind(const char *ns, const char *ifname, const char *dev, uint32_t node,
		    char *out_dev)
{
	struct ml_bind_opts o = { .dev = dev, .node_id = node };
	struct ml_ctl *ctl = ctl_in(ns);
	struct ml_port_info pi;

	ck_assert_msg(ml_ctl_bind(ctl, ifname, &o, &pi) == 0, "bind %s: %s", ifname,
		      ml_last_error());
	if (out_dev)
		snprintf(out_dev, ML_DEV_NAME_LEN, "%s", pi.dev);
	ml_ctl_close(ctl);
}

/* Port 0 of c->dev sees node B as a live neighbour. */
static int cu_neigh_up(struct cu *c)
{
	struct ml_ctl *ctl = ctl_in(c->nsa);
	struct ml_neigh_info *nb = NULL;
	size_t n = 0;
	int ok = 0;

	if (ml_ctl_neighbours(ctl, c->dev, &nb, &n) >= 0)
		for (size_t i = 0; i < n; i++)
			ok |= nb[i].port_index == 0 && nb[i].node_id == c->node_b;
	ml_free(nb);
	ml_ctl_close(ctl);
	return ok;
}

/* Child: connect a new QP; reports {result, state, when it returned}. */
static void cu_child(struct cu *c, int out)
{
	struct ml_qp_init qi = { 0 };
	struct ml_device *dev;
	struct ml_qp_attr qa = { 0 };
	struct ml_pd *pd;
	struct ml_cq *cq;
	struct ml_qp *qp;
	double rep[3];
	char go = 's';

	if (ml_device_open(c->dev, &dev) || ml_pd_alloc(dev, &pd) || ml_cq_create(dev, 8, &cq))
		_exit(2);
	qi.send_cq = cq;
	if (ml_qp_create(pd, &qi, &qp))
		_exit(3);
	if (write(out, &go, 1) != 1)
		_exit(4);
	rep[0] = ml_qp_connect(qp, c->node_b, 77, NULL);
	rep[2] = dp_now();
	ml_qp_query(qp, &qa);
	rep[1] = qa.state;
	if (write(out, rep, sizeof(rep)) != sizeof(rep))
		_exit(5);
	ml_device_close(dev);
	_exit(0);
}

START_TEST(test_connect_vs_unbind)
{
	unsigned int delay = 1500;
	struct cu c = { 0 };
	double rep[3], t_rebound;
	int fds[2], attempt;
	pid_t pid;
	char go;

	if (access(DP_PARAM_DIR "fault_connect_delay_ms", W_OK)) {
		dp_skip("connect_vs_unbind",
			"the module has no fault_connect_delay_ms parameter to widen the race");
		return;
	}
	snprintf(c.nsa, sizeof(c.nsa), "rga%d", (int)getpid());
	snprintf(c.nsb, sizeof(c.nsb), "rgb%d", (int)getpid());
	c.node_a = 0x7000 + ((uint32_t)getpid() & 0xfff) * 2;
	c.node_b = c.node_a + 1;
	ck_assert_int_eq(dp_sh("ip netns add %s && ip netns add %s && "
			       "ip link add ra0 netns %s type veth peer name rb0 netns %s && "
			       "ip link add ra1 netns %s type veth peer name rb1 netns %s && "
			       "ip -n %s link set ra0 up && ip -n %s link set ra1 up && "
			       "ip -n %s link set rb0 up && ip -n %s link set rb1 up",
			       c.nsa, c.nsb, c.nsa, c.nsb, c.nsa, c.nsb, c.nsa, c.nsa, c.nsb,
			       c.nsb), 0);
	/* A has two ports, so that unbinding the first leaves the device. */
	cu_bind(c.nsa, "ra0", NULL, c.node_a, c.dev);
	cu_bind(c.nsa, "ra1", c.dev, 0, NULL);
	cu_bind(c.nsb, "rb0", NULL, c.node_b, NULL);
	for (int i = 0; i < 300 && !cu_neigh_up(&c); i++)
		usleep(50000);
	ck_assert_msg(cu_neigh_up(&c), "%s port 0 never saw node %u", c.dev, c.node_b);

	for (attempt = 0;; attempt++) {
		char ms[16];

		snprintf(ms, sizeof(ms), "%u", delay);
		ck_assert_int_eq(dp_write_str(DP_PARAM_DIR "fault_connect_delay_ms", ms), 0);
		ck_assert_int_eq(ns_enter_name(c.nsa), 0);
		ck_assert_int_eq(pipe(fds), 0);
		pid = fork();
		ck_assert(pid >= 0);
		if (pid == 0) {
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			cu_child(&c, fds[1]);
		}
		close(fds[1]);
		ck_assert_int_eq(read(fds[0], &go, 1), 1);
		usleep(delay * 1000 / 5);	/* the child is in connect now */
		{
			struct ml_ctl *ctl = ctl_in(c.nsa);

			ck_assert_msg(ml_ctl_unbind(ctl, "ra0") == 0, "unbind: %s",
				      ml_last_error());
			ml_ctl_close(ctl);
		}
		/* Into the same slot, port 0, with the same neighbour behind it. */
		cu_bind(c.nsa, "ra0", c.dev, 0, NULL);
		t_rebound = dp_now();
		ck_assert_int_eq(read(fds[0], rep, sizeof(rep)), (ssize_t)sizeof(rep));
		close(fds[0]);
		waitpid(pid, NULL, 0);
		dp_write_str(DP_PARAM_DIR "fault_connect_delay_ms", "0");
		if (rep[2] > t_rebound)
			break;
		/* The connect finished before the unbind did: no verdict. */
		ck_assert_msg(attempt < 3, "connect never outlasted the unbind");
		delay *= 2;
	}
	dp_sh("ip netns del %s; ip netns del %s", c.nsa, c.nsb);
	ck_assert_msg(rep[0] != 0 || rep[1] == ML_QPS_ERROR,
		      "connect through a port unbound meanwhile returned %d with the QP in %s: "
		      "it never sends (or sends through whatever is bound in the slot later)",
		      (int)rep[0], ml_qp_state_name((unsigned int)rep[1]));
	ck_assert_msg(rep[0] == -EHOSTUNREACH || rep[0] == 0, "connect returned %d",
		      (int)rep[0]);
}
END_TEST

/* ---- ring_entries_offset ---- */

static void check_ring(const struct ml_ring *r, const char *what)
{
	long page = sysconf(_SC_PAGESIZE);

	ck_assert_msg(r->hdr->entries_offset == (uint32_t)page,
		      "%s ring: header's entries_offset %u, the kernel's page is %ld", what,
		      r->hdr->entries_offset, page);
	ck_assert_msg((char *)r->entries - (char *)r->hdr == (ptrdiff_t)r->hdr->entries_offset,
		      "%s ring: library puts entries at %td, header says %u", what,
		      (char *)r->entries - (char *)r->hdr, r->hdr->entries_offset);
}

START_TEST(test_ring_entries_offset)
{
	struct dp_ep e;

	dp_ep_open(&e, 4096);
	check_ring(&e.cq->ring, "CQ");
	check_ring(&e.qp->sq, "send");
	check_ring(&e.qp->rq, "receive");
	dp_ep_close(&e);
}
END_TEST

/* ---- memcg_accounting ---- */

#define CG_ROOT "/sys/fs/cgroup"

/* A new memory cgroup under the cgroup2 root: 0, or why not (skip). */
static const char *cg_make(char *dir, size_t len)
{
	char ctl[320] = "";
	FILE *f;

	if (access(CG_ROOT "/cgroup.controllers", R_OK)) {
		mkdir(CG_ROOT, 0755);
		if (dp_sh("mount -t cgroup2 none " CG_ROOT " 2>/dev/null") != 0)
			return "no cgroup2 file system";
	}
	f = fopen(CG_ROOT "/cgroup.controllers", "r");
	if (!f || !fgets(ctl, sizeof(ctl), f) || !strstr(ctl, "memory")) {
		if (f)
			fclose(f);
		return "no memory controller in cgroup2";
	}
	fclose(f);
	dp_write_str(CG_ROOT "/cgroup.subtree_control", "+memory");
	snprintf(dir, len, CG_ROOT "/ml-regress-%d", (int)getpid());
	if (mkdir(dir, 0755) && errno != EEXIST)
		return "cannot make a cgroup";
	snprintf(ctl, sizeof(ctl), "%s/memory.current", dir);
	if (access(ctl, R_OK)) {
		rmdir(dir);
		return "memory controller not enabled for child cgroups";
	}
	return NULL;
}

static long cg_current(const char *dir)
{
	char p[300];

	snprintf(p, sizeof(p), "%s/memory.current", dir);
	return dp_read_long(p, -1);
}

#define CG_QPS		8
#define CG_SQ		4096
#define CG_MRS		32
#define CG_MR_LEN	(32u << 20)

/* In the cgroup: what QPs and MRs add to memory.current. */
static void cg_child(const char *dir, int out)
{
	struct ml_qp_init qi = { 0 };
	struct ml_qp *qp[CG_QPS];
	struct ml_mr *mr[CG_MRS];
	struct ml_device *dev;
	struct ml_pd *pd;
	struct ml_cq *cq;
	long v[4];
	char p[300];
	uint8_t *b;

	snprintf(p, sizeof(p), "%s/cgroup.procs", dir);
	if (dp_write_str(p, "0"))
		_exit(2);
	b = mmap(NULL, CG_MR_LEN, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (b == MAP_FAILED)
		_exit(3);
	memset(b, 1, CG_MR_LEN);
	if (ml_device_open(dp_env.dev[DP_A], &dev) || ml_pd_alloc(dev, &pd) ||
	    ml_cq_create(dev, 64, &cq))
		_exit(4);
	qi.send_cq = cq;
	qi.sq_entries = CG_SQ;
	qi.rq_entries = 1;
	v[0] = cg_current(dir);
	for (int i = 0; i < CG_QPS; i++)
		if (ml_qp_create(pd, &qi, &qp[i]))
			_exit(5);
	v[1] = cg_current(dir);
	v[2] = cg_current(dir);
	for (int i = 0; i < CG_MRS; i++)
		if (ml_mr_reg(pd, b, CG_MR_LEN, ML_ACCESS_LOCAL_WRITE, &mr[i]))
			_exit(6);
	v[3] = cg_current(dir);
	if (write(out, v, sizeof(v)) != sizeof(v))
		_exit(7);
	ml_device_close(dev);
	_exit(0);
}

START_TEST(test_memcg_accounting)
{
	/* Rings (charged already) plus at least 128 bytes per send WR. */
	const long rings = (long)CG_QPS * (4096 + CG_SQ * 128 + 4096 + 4096);
	const long swq = (long)CG_QPS * CG_SQ * 128;
	const long pages = (long)CG_MRS * (CG_MR_LEN / sysconf(_SC_PAGESIZE)) * 8;
	char dir[256];
	const char *why;
	int fds[2], st;
	long v[4];
	pid_t pid;

	dp_ns_enter(DP_A);
	why = cg_make(dir, sizeof(dir));
	if (why) {
		dp_skip("memcg_accounting", why);
		return;
	}
	ck_assert_int_eq(pipe(fds), 0);
	pid = fork();
	ck_assert(pid >= 0);
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		cg_child(dir, fds[1]);
	}
	close(fds[1]);
	st = (int)read(fds[0], v, sizeof(v));
	waitpid(pid, NULL, 0);
	for (int i = 0; i < 50 && rmdir(dir); i++)
		usleep(100000);
	ck_assert_msg(st == (int)sizeof(v), "the cgroup child failed");
	dp_log(NULL, "memcg: %d QPs of %d send WRs: +%ld bytes; %d MRs of %u MiB: +%ld bytes",
	       CG_QPS, CG_SQ, v[1] - v[0], CG_MRS, CG_MR_LEN >> 20, v[3] - v[2]);
	ck_assert_msg(v[1] - v[0] >= (rings + swq) * 95 / 100,
		      "%d QPs of %d send WRs charged %ld bytes to the memory cgroup, want at least "
		      "%ld (rings %ld + send-queue arrays %ld)", CG_QPS, CG_SQ, v[1] - v[0],
		      (rings + swq) * 95 / 100, rings, swq);
	ck_assert_msg(v[3] - v[2] >= pages * 90 / 100,
		      "%d MRs of %u MiB charged %ld bytes to the memory cgroup, want at least %ld "
		      "(their page arrays)", CG_MRS, CG_MR_LEN >> 20, v[3] - v[2], pages * 90 / 100);
}
END_TEST

/* ---- pin_charge_mm ---- */

/* "VmPin:" of /proc/PID/status in kB, or -1. */
static long vmpin_kb(pid_t pid)
{
	char path[64], line[256];
	long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmPin: %ld kB", &v) == 1)
			break;
	fclose(f);
	return v;
}

START_TEST(test_pin_charge_mm)
{
	const size_t len = 1 << 20;
	long parent_before, parent_during, child_kb;
	int p2c[2], c2p[2];
	struct dp_ep e;
	pid_t pid;
	char c;
	int st;

	dp_ep_open(&e, 4096);
	ck_assert_int_eq(pipe(p2c), 0);
	ck_assert_int_eq(pipe(c2p), 0);
	parent_before = vmpin_kb(getpid());
	pid = fork();
	ck_assert(pid >= 0);
	if (pid == 0) {
		uint8_t *b = mmap(NULL, len, PROT_READ | PROT_WRITE,
				  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		struct ml_mr *mr;
		long kb0, kb1;

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (b == MAP_FAILED)
			_exit(2);
		memset(b, 1, len);
		kb0 = vmpin_kb(getpid());
		/* The parent's file and PD, the child's memory. */
		if (ml_mr_reg(e.pd, b, len, ML_ACCESS_LOCAL_WRITE, &mr))
			_exit(3);
		kb1 = vmpin_kb(getpid());
		c = (char)(kb1 - kb0 >= (long)(len >> 10) ? 'y' : 'n');
		if (write(c2p[1], &c, 1) != 1 || read(p2c[0], &c, 1) != 1)
			_exit(4);
		if (ml_mr_dereg(mr) || vmpin_kb(getpid()) != kb0)
			_exit(5);
		_exit(0);
	}
	ck_assert_int_eq(read(c2p[0], &c, 1), 1);
	parent_during = vmpin_kb(getpid());
	child_kb = vmpin_kb(pid);
	ck_assert_int_eq(write(p2c[1], "x", 1), 1);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert_msg(c == 'y',
		      "the child's MR of %zu kB is not in the child's VmPin (%ld kB); the parent's "
		      "VmPin went from %ld to %ld kB", len >> 10, child_kb, parent_before,
		      parent_during);
	ck_assert_msg(parent_during == parent_before,
		      "the child's MR was charged to the parent: VmPin %ld -> %ld kB",
		      parent_before, parent_during);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0,
		      "child: exit %d (3: reg failed, 5: dereg did not uncharge)",
		      WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	dp_ep_close(&e);
}
END_TEST

/* ---- send_first_in_progress ---- */

START_TEST(test_send_first_in_progress)
{
	static uint8_t pl[1000];
	struct ml_sge g;
	struct ml_recv_wr rw = { .wr_id = 7, .sg_list = &g, .num_sge = 1 };
	struct ml_qp_attr qa;
	struct ml_cqe wc;
	struct dp_fake f;
	struct dp_ep e;
	int syn;

	dp_ep_open(&e, 65536);
	dp_fake_open(&f, &e);
	dp_ep_connect_fake(&e, &f, 2000);
	g = (struct ml_sge){ (uintptr_t)e.buf, 65536, e.mr->lkey };
	ck_assert_int_eq(ml_post_recv(e.qp, &rw), 0);
	memset(pl, 0x33, sizeof(pl));

	/* The first packet of a 3000-byte SEND: taken, acknowledged. */
	dp_fake_data(&f, 0, ML_OP_SEND, ML_PKT_F_FIRST | ML_PKT_F_ACKREQ, 3000, pl, 1000);
	syn = dp_fake_wait_ack(&f, 0, 5000);
	ck_assert_msg(syn == ML_ACK_OK, "first packet of a SEND: syndrome %d, want ACK", syn);
	/* Another message's FIRST before the first one's LAST. */
	dp_fake_data(&f, 1, ML_OP_SEND, ML_PKT_F_FIRST | ML_PKT_F_LAST | ML_PKT_F_ACKREQ, 100, pl,
		  100);
	syn = dp_fake_wait_ack(&f, 1, 5000);
	ck_assert_msg(syn == ML_NAK_INVALID,
		      "SEND FIRST while a SEND is being received: syndrome %d, want NAK_INVALID (%d)",
		      syn, ML_NAK_INVALID);
	ck_assert_msg(dp_ep_cqe(&e, &wc, 5000) == 0, "no completion of the receive in progress");
	ck_assert_msg(wc.wr_id == 7 && wc.status == ML_WC_REM_INV_REQ_ERR,
		      "receive completed with wr_id %llu status %u (%s), want %u",
		      (unsigned long long)wc.wr_id, wc.status, ml_wc_status_str(wc.status), ML_WC_REM_INV_REQ_ERR);
	ck_assert_int_eq(ml_qp_query(e.qp, &qa), 0);
	ck_assert_msg(qa.state == ML_QPS_ERROR, "QP state %s, want error",
		      ml_qp_state_name(qa.state));
	dp_ep_close(&e);
	close(f.fd);
}
END_TEST

/* ---- owner_pid_ns ---- */

/* owner_pid of QP @qpn on device A as the caller sees it; -1: no such QP. */
static long owner_of(uint32_t qpn)
{
	struct ml_qp_info *q = NULL;
	struct ml_ctl *ctl;
	size_t n = 0;
	long pid = -1;

	if (ml_ctl_open(&ctl))
		return -2;
	if (ml_ctl_qps(ctl, dp_env.dev[DP_A], &q, &n) >= 0)
		for (size_t i = 0; i < n; i++)
			if (q[i].qpn == qpn)
				pid = q[i].owner_pid;
	ml_free(q);
	ml_ctl_close(ctl);
	return pid;
}

/*
 * In a new pid namespace: fork its init, run @fn there; exit status.  The
 * init's pid as the caller's namespace numbers it goes to @pid_fd (>= 0).
 */
static int in_new_pidns(int (*fn)(void *), void *arg, int pid_fd)
{
	pid_t pid;
	int st;

	if (unshare(CLONE_NEWPID))
		return 100;
	pid = fork();
	if (pid < 0)
		return 101;
	if (pid == 0)
		_exit(fn(arg));
	if (pid_fd >= 0 && write(pid_fd, &pid, sizeof(pid)) != sizeof(pid))
		return 103;
	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st))
		return 102;
	return WEXITSTATUS(st);
}

struct owner_arg {
	int to_parent, from_parent;
	uint32_t qpn;
};

/* pid 1 of a new pid namespace: creates a QP and reads its owner. */
static int owner_inner(void *p)
{
	struct owner_arg *a = p;
	struct ml_qp_init qi = { 0 };
	struct ml_device *dev;
	struct ml_pd *pd;
	struct ml_cq *cq;
	struct ml_qp *qp;
	uint32_t msg[2];
	char c;

	if (ml_device_open(dp_env.dev[DP_A], &dev) || ml_pd_alloc(dev, &pd) ||
	    ml_cq_create(dev, 8, &cq))
		return 10;
	qi.send_cq = cq;
	if (ml_qp_create(pd, &qi, &qp))
		return 11;
	msg[0] = ml_qp_num(qp);
	msg[1] = (uint32_t)owner_of(ml_qp_num(qp));
	if (write(a->to_parent, msg, sizeof(msg)) != sizeof(msg) ||
	    read(a->from_parent, &c, 1) != 1)
		return 12;
	ml_device_close(dev);
	return 0;
}

/* In a sibling pid namespace: the owner is not visible. */
static int owner_sibling(void *p)
{
	const struct owner_arg *a = p;

	return owner_of(a->qpn) == 0 ? 0 : 20;
}

START_TEST(test_owner_pid_ns)
{
	int p2c[2], c2p[2], gp[2], st, r;
	struct owner_arg a = { 0 };
	pid_t mid, sib, global = 0;
	uint32_t msg[2];
	long outer;

	dp_ns_enter(DP_A);
	ck_assert_int_eq(pipe(p2c), 0);
	ck_assert_int_eq(pipe(c2p), 0);
	ck_assert_int_eq(pipe(gp), 0);
	a.to_parent = c2p[1];
	a.from_parent = p2c[0];
	mid = fork();
	ck_assert(mid >= 0);
	if (mid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		_exit(in_new_pidns(owner_inner, &a, gp[1]));
	}
	ck_assert_int_eq(read(gp[0], &global, sizeof(global)), (ssize_t)sizeof(global));
	ck_assert_int_eq(read(c2p[0], msg, sizeof(msg)), (ssize_t)sizeof(msg));
	a.qpn = msg[0];
	outer = owner_of(a.qpn);
	sib = fork();
	ck_assert(sib >= 0);
	if (sib == 0)
		_exit(in_new_pidns(owner_sibling, &a, -1));
	ck_assert_int_eq(waitpid(sib, &st, 0), sib);
	r = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
	ck_assert_int_eq(write(p2c[1], "x", 1), 1);
	ck_assert_int_eq(waitpid(mid, &st, 0), mid);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "owner process: exit %d",
		      WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	ck_assert_msg(msg[1] == 1,
		      "the QP's creator, pid 1 of its own pid namespace, reads owner pid %u",
		      msg[1]);
	ck_assert_msg(outer == global, "the initial namespace reads owner pid %ld, want %d",
		      outer, (int)global);
	ck_assert_msg(r == 0, "a sibling pid namespace sees the owner (status %d)", r);
}
END_TEST

/* ---- zerocopy_truesize ---- */

/* Rmem of the packet socket with inode @ino in /proc/self/net/packet. */
static long packet_rmem(ino_t ino)
{
	char line[512];
	FILE *f = fopen("/proc/self/net/packet", "r");
	long rmem = -1;

	ck_assert(f);
	while (fgets(line, sizeof(line), f)) {
		unsigned long long sk, inode;
		unsigned int ref, type, proto, ifi, r, user;
		long rm;

		if (sscanf(line, "%llx %u %u %x %u %u %ld %u %llu", &sk, &ref, &type, &proto, &ifi,
			   &r, &rm, &user, &inode) == 9 && inode == (unsigned long long)ino)
			rmem = rm;
	}
	fclose(f);
	return rmem;
}

START_TEST(test_zerocopy_truesize)
{
	long page = sysconf(_SC_PAGESIZE), rmem = -1;
	struct ml_sge g;
	struct ml_send_wr w = { .wr_id = 3, .opcode = ML_WR_WRITE, .sg_list = &g,
				.num_sge = 1, .remote_addr = 0x10000, .rkey = 0x100 };
	struct stat st;
	struct dp_fake f;
	struct dp_ep e;
	int cap;

	dp_ep_open(&e, 4 * (size_t)page);
	dp_fake_open(&f, &e);
	/* Only A's data frames (longer than 1000 bytes) are queued here. */
	cap = dp_raw_socket(f.etype, 1000);
	ck_assert_int_eq(fstat(cap, &st), 0);
	dp_ep_connect_fake(&e, &f, 2000);
	/* 1024 bytes across a page boundary: two page fragments. */
	g = (struct ml_sge){ (uintptr_t)e.buf + page - 512, 1024, e.mr->lkey };
	ck_assert_int_eq(ml_post_send(e.qp, &w), 0);
	for (int i = 0; i < 100 && rmem <= 0; i++) {
		usleep(20000);
		dp_ns_enter(DP_B);
		rmem = packet_rmem(st.st_ino);
		dp_ns_enter(DP_A);
	}
	ck_assert_msg(rmem > 0, "the data frame never reached %s", dp_env.ifname[DP_B]);
	{
		uint64_t s[ML_LIB_STATS_SLOTS];

		ck_assert_int_eq(dp_stats(DP_A, s), 0);
		if (!s[ML_STAT_TX_ZEROCOPY]) {
			dp_skip("zerocopy_truesize", "the frame was copied, not attached (no NETIF_F_SG?)");
			goto out;
		}
	}
	/* Every frame is 1024 bytes of payload in two pages (or retransmits of it). */
	ck_assert_msg(rmem >= 2 * page,
		      "a zero-copy frame holding two pages has truesize %ld (< %ld)", rmem,
		      2 * page);
out:
	close(cap);
	close(f.fd);
	dp_ep_close(&e);
}
END_TEST

/* ---- stale_nak_seq ---- */

/*
 * Data frames A sends within @ms in all (want > 0: or until @want of them
 * came): bit i of the result is PSN i seen (< 64).  A deadline for the
 * whole collection, not per frame: frames that are not A's data (acks,
 * PSNs from 64 on) must not keep it waiting.
 */
static uint64_t collect_psns(const struct dp_fake *f, int ms, int want)
{
	double end = dp_now() + ms / 1000.0;
	uint8_t buf[16384];
	const struct ml_wire_hdr *h;
	uint64_t seen = 0;
	int n = 0, other = 0, left;

	while ((want <= 0 || n < want) && (left = (int)((end - dp_now()) * 1000)) > 0 &&
	       (h = dp_fake_recv(f, buf, sizeof(buf), left))) {
		const struct ml_wire_data *d = (const void *)h;

		if (h->type != ML_WIRE_DATA || ntohl(d->psn) >= 64) {
			other++;
			continue;
		}
		seen |= 1ull << ntohl(d->psn);
		n++;
	}
	if (want > 0 && n < want)
		dp_log(NULL, "collect_psns: %d of %d data frames in %d ms (PSNs 0x%" PRIx64
		       ", %d other frames)", n, want, ms, seen, other);
	return seen;
}

START_TEST(test_stale_nak_seq)
{
	struct ml_sge g;
	struct ml_send_wr w = { .wr_id = 9, .opcode = ML_WR_WRITE, .flags = ML_WR_F_SIGNALED,
				.sg_list = &g, .num_sge = 1, .remote_addr = 0x10000,
				.rkey = 0x100 };
	struct ml_qp_attr qa;
	struct ml_cqe wc;
	uint64_t seen;
	struct dp_fake f;
	struct dp_ep e;
	int attempt;

	for (attempt = 0;; attempt++) {
		dp_ep_open(&e, 65536);
		dp_fake_open(&f, &e);
		/* A long timeout: nothing but a NAK may cause a resend here. */
		dp_ep_connect_fake(&e, &f, 2000);
		g = (struct ml_sge){ (uintptr_t)e.buf, 3000, e.mr->lkey };
		ck_assert_int_eq(ml_post_send(e.qp, &w), 0);
		/* 3000 bytes: three packets with MTU 1500, PSNs 0..2 at once. */
		seen = collect_psns(&f, 5000, 3);
		ck_assert_msg(seen == 7, "PSNs sent 0x%" PRIx64 ", want 0..2 (MTU %u)", seen,
			      e.mtu);
		dp_fake_ack(&f, 0, ML_ACK_OK);		/* snd_una 1 */
		dp_fake_ack(&f, 0, ML_NAK_SEQ);		/* late: 0 is acknowledged */
		seen = collect_psns(&f, 500, 0);
		ck_assert_int_eq(ml_qp_query(e.qp, &qa), 0);
		if (!qa.timeouts)
			break;
		/* The retransmission timer fired (a slow guest): no verdict. */
		dp_log(NULL, "stale_nak_seq: a timeout in the window, again");
		dp_ep_close(&e);
		close(f.fd);
		ck_assert_msg(attempt < 3, "the retransmission timer fires every time");
	}
	ck_assert_msg(!seen && !qa.retransmits,
		      "a NAK_SEQ for an acknowledged PSN made the QP resend (PSNs 0x%" PRIx64
		      ", %" PRIu64 " retransmits, snd_una %u)", seen, qa.retransmits, qa.snd_una);
	/* Control: a NAK_SEQ in flight (PSN 1 expected) is a go-back-N. */
	dp_fake_ack(&f, 1, ML_NAK_SEQ);
	seen = collect_psns(&f, 5000, 2);
	ck_assert_msg(seen == 6, "after NAK_SEQ 1: PSNs 0x%" PRIx64 " resent, want 1..2", seen);
	dp_fake_ack(&f, 2, ML_ACK_OK);
	ck_assert_msg(dp_ep_cqe(&e, &wc, 5000) == 0, "WRITE not completed");
	ck_assert_msg(wc.wr_id == 9 && wc.status == ML_WC_SUCCESS, "WRITE: status %u (%s)",
		      wc.status, ml_wc_status_str(wc.status));
	dp_ep_close(&e);
	close(f.fd);
}
END_TEST

/*
 * An RNR NAK starts a wait that only the QP's timer ends.  An ACK that then
 * acknowledged everything in flight cancelled that timer, and the QP never
 * sent again: the next WR stayed posted for ever (the stall fuzz-wire saw,
 * "snd_psn 71 snd_una 71 outstanding 2").  Reordered acks (two paths, a
 * late ack) make that sequence real.
 */
START_TEST(test_rnr_wait_survives_ack)
{
	struct ml_sge g;
	struct ml_send_wr w = { .wr_id = 1, .opcode = ML_WR_WRITE, .flags = ML_WR_F_SIGNALED,
				.sg_list = &g, .num_sge = 1, .remote_addr = 0x10000,
				.rkey = 0x100 };
	/* An RNR wait of 1 s: the two frames below arrive well inside it. */
	struct ml_connect_opts o = { .timeout_ms = 2000, .retry_cnt = 15, .rnr_retry = 7,
				     .rnr_timer_ms = 1000 };
	struct ml_qp_attr qa;
	struct ml_cqe wc;
	uint64_t seen;
	struct dp_fake f;
	struct dp_ep e;
	int attempt;

	for (attempt = 0;; attempt++) {
		dp_ep_open(&e, 65536);
		dp_fake_open(&f, &e);
		ck_assert_msg(ml_qp_connect(e.qp, f.node_b, DP_FAKE_QPN, &o) == 0,
			      "connect: %s", ml_last_error());
		g = (struct ml_sge){ (uintptr_t)e.buf, 100, e.mr->lkey };
		w.wr_id = 1;
		ck_assert_int_eq(ml_post_send(e.qp, &w), 0);
		seen = collect_psns(&f, 5000, 1);
		ck_assert_msg(seen == 1, "PSNs sent 0x%" PRIx64 ", want 0", seen);
		dp_fake_ack(&f, 0, ML_NAK_RNR);	/* wait rnr_timer_ms, then resend 0 */
		dp_fake_ack(&f, 0, ML_ACK_OK);	/* but 0 arrived after all */
		ck_assert_msg(dp_ep_cqe(&e, &wc, 5000) == 0, "first WRITE not completed");
		ck_assert_int_eq(ml_qp_query(e.qp, &qa), 0);
		if (!qa.timeouts)
			break;
		/*
		 * The retransmission timer fired before the fake answered (a
		 * slow guest: this process did not run for a whole timeout):
		 * no verdict, as in stale_nak_seq.
		 */
		dp_log(NULL, "rnr_wait_survives_ack: %llu timeouts before the fake "
		       "answered, again", (unsigned long long)qa.timeouts);
		dp_ep_close(&e);
		close(f.fd);
		ck_assert_msg(attempt < 3, "the retransmission timer fires every time");
	}
	ck_assert_msg(wc.wr_id == 1 && wc.status == ML_WC_SUCCESS,
		      "first WRITE: wr_id %llu status %u (%s); snd_psn %u snd_una %u, "
		      "%llu timeouts, %llu retransmits, state %s",
		      (unsigned long long)wc.wr_id, wc.status, ml_wc_status_str(wc.status), qa.snd_psn, qa.snd_una,
		      (unsigned long long)qa.timeouts, (unsigned long long)qa.retransmits,
		      ml_qp_state_name(qa.state));
	/* Nothing in flight now; the next WR must go out once the wait ends. */
	w.wr_id = 2;
	ck_assert_int_eq(ml_post_send(e.qp, &w), 0);
	seen = collect_psns(&f, 5000, 1);
	ck_assert_int_eq(ml_qp_query(e.qp, &qa), 0);
	ck_assert_msg(seen == 2, "after an RNR NAK and an ack of everything, the next WR was "
		      "not sent in 5 s (PSNs 0x%" PRIx64 ", snd_psn %u snd_una %u)", seen,
		      qa.snd_psn, qa.snd_una);
	dp_fake_ack(&f, 1, ML_ACK_OK);
	ck_assert_msg(dp_ep_cqe(&e, &wc, 5000) == 0, "second WRITE not completed");
	ck_assert_msg(wc.wr_id == 2 && wc.status == ML_WC_SUCCESS, "second WRITE: status %u (%s)",
		      wc.status, ml_wc_status_str(wc.status));
	dp_ep_close(&e);
	close(f.fd);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("dp_regress");
	TCase *tc = tcase_create("regress");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_connect_vs_unbind);
	tcase_add_test(tc, test_ring_entries_offset);
	tcase_add_test(tc, test_pin_charge_mm);
	tcase_add_test(tc, test_send_first_in_progress);
	tcase_add_test(tc, test_owner_pid_ns);
	tcase_add_test(tc, test_zerocopy_truesize);
	tcase_add_test(tc, test_stale_nak_seq);
	tcase_add_test(tc, test_rnr_wait_survives_ack);
	/*
	 * Last: when this test made the boot's first memory cgroup, in about
	 * half the boots the next two tests' forged peer then received none
	 * of A's frames for 35 s (their first attempts, each a new process)
	 * although they were on the wire.  The harness now makes a memory
	 * cgroup at boot (guest-init.sh); this order keeps any later test
	 * clear of it as well.
	 */
	tcase_add_test(tc, test_memcg_accounting);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return dp_main(suite());
}
