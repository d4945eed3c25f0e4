// SPDX-License-Identifier: GPL-2.0
/*
 * ML_IOCTL_QUERY_DEVICE on /dev/megalink/mlN: one test per rule of the
 * size-first, extensible struct convention, and agreement with netlink.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "common.h"

#define QSZ ((uint32_t)sizeof(struct ml_query_device))

/* ns with a0 <-> a1; a0 is device "dev" (node_id), a1 its neighbour. */
struct env {
	char ns[32];
	struct nl nl;
	struct port_info p0, p1;
	uint32_t node_id;
	int fd;
	bool multi;
	struct port_info px;	/* second port of dev, when multi */
};

struct st_wait {
	struct nl *nl;
	const char *ifname;
};

static bool up_cond(void *arg)
{
	struct st_wait *w = arg;

	return ml_port_state(w->nl, w->ifname) == 1;
}

static int open_dev(const char *name)
{
	char p[128];
	uint64_t end = now_ms() + 5000;
	int fd;

	snprintf(p, sizeof(p), "/dev/megalink/%s", name);
	while ((fd = open(p, O_RDWR | O_CLOEXEC)) < 0 && errno == ENOENT &&
	       now_ms() < end)
		sleep_ms(50);
	ck_assert_msg(fd >= 0, "open %s: %s", p, strerror(errno));
	return fd;
}

static void env_setup(struct env *e, bool two_ports)
{
	struct ml_reply rep;
	struct st_wait w;

	memset(e, 0, sizeof(*e));
	ns_create(e->ns, "a");
	veth_create(e->ns, "a0", e->ns, "a1");
	nl_open_ok(&e->nl, e->ns);
	e->node_id = node_id_base() + 1;
	ml_bind_ok(&e->nl, BIND_OPTS(.ifname = "a0", .node_id = e->node_id,
				     .hello_ms = 100, .dead_ms = 1000), &e->p0);
	ml_bind_ok(&e->nl, BIND_OPTS(.ifname = "a1", .node_id = e->node_id + 1,
				     .hello_ms = 100, .dead_ms = 1000), &e->p1);
	ck_assert_int_eq(ml_dev_get(&e->nl, e->p0.dev_index, &rep), 0);
	e->multi = ma_u64(&rep.msgs[0], ML_A_CAPS) & ML_DEV_CAP_MULTI_PORT;
	reply_free(&rep);
	if (two_ports && e->multi) {
		veth_create(e->ns, "b0", e->ns, "b1");
		ml_bind_ok(&e->nl, BIND_OPTS(.ifname = "b0",
					     INTO(e->p0.dev_index)), &e->px);
	}
	w = (struct st_wait){ &e->nl, "a0" };
	ck_assert_msg(wait_until(up_cond, &w, 15000), "a0 never came up");
	e->fd = open_dev(e->p0.dev_name);
}

static void q_init(struct ml_query_device *q)
{
	memset(q, 0, sizeof(*q));
	q->size = QSZ;
}

static int query(int fd, void *arg)
{
	return ioctl(fd, ML_IOCTL_QUERY_DEVICE, arg) < 0 ? -errno : 0;
}

START_TEST(test_size_is_v1)
{
	/* The contract: the v1 struct is 80 bytes, ports entries 28. */
	ck_assert_uint_eq(sizeof(struct ml_query_device), 80);
	ck_assert_uint_eq(sizeof(struct ml_port_attr), 28);
}
END_TEST

static void check_port(const struct env *e, const struct ml_port_attr *pa,
		       const char *ifname)
{
	struct ml_reply rep;
	struct ml_msg *m;
	size_t ml;

	ck_assert_int_eq(ml_port_get((struct nl *)&e->nl, ifname, &rep), 0);
	ck_assert_int_eq(rep.n, 1);
	m = &rep.msgs[0];
	ck_assert_uint_eq(pa->port_index, ma_u32(m, ML_A_PORT_INDEX));
	ck_assert_uint_eq(pa->ifindex, ma_u32(m, ML_A_IFINDEX));
	ck_assert_uint_eq(pa->mtu, ma_u32(m, ML_A_MTU));
	ck_assert_uint_eq(pa->carrier, ma_u8(m, ML_A_CARRIER));
	ck_assert_uint_eq(pa->link_state, ma_u8(m, ML_A_LINK_STATE));
	ck_assert_msg(ma_bin(m, ML_A_MAC, &ml) && ml == 6 &&
		      !memcmp(pa->mac, ma_bin(m, ML_A_MAC, NULL), 6),
		      "ioctl mac differs from netlink for %s", ifname);
	ck_assert_uint_eq(pa->num_neigh, ma_u32(m, ML_A_NUM_NEIGH));
	ck_assert_uint_eq(pa->reserved, 0);
	reply_free(&rep);
}

START_TEST(test_query_ok)
{
	struct env e;
	struct ml_query_device q;
	struct ml_port_attr pa[ML_MAX_PORTS];
	struct ml_reply rep;
	struct ml_msg *m;

	env_setup(&e, false);
	q_init(&q);
	memset(pa, 0xAA, sizeof(pa));
	q.port_entries = ML_MAX_PORTS;
	q.port_entry_size = sizeof(pa[0]);
	q.ports = (uintptr_t)pa;
	ck_assert_int_eq(query(e.fd, &q), 0);

	ck_assert_int_eq(ml_dev_get(&e.nl, e.p0.dev_index, &rep), 0);
	m = &rep.msgs[0];
	ck_assert_uint_eq(q.size, QSZ);
	ck_assert_uint_eq(q.flags, 0);
	ck_assert_uint_eq(q.abi_version, ML_ABI_VERSION);
	ck_assert_uint_eq(q.node_id, e.node_id);
	ck_assert_uint_eq(q.node_id, ma_u32(m, ML_A_NODE_ID));
	ck_assert_uint_eq(q.caps, ma_u64(m, ML_A_CAPS));
	ck_assert_msg(q.caps & ML_DEV_CAP_QUERY_PORTS,
		      "caps 0x%llx lack ML_DEV_CAP_QUERY_PORTS",
		      (unsigned long long)q.caps);
	ck_assert_uint_eq(q.dev_index, e.p0.dev_index);
	ck_assert_uint_eq(q.num_ports, 1);
	ck_assert_uint_eq(q.num_ports, ma_u32(m, ML_A_NUM_PORTS));
	ck_assert_uint_eq(q.max_ports, ML_MAX_PORTS);
	ck_assert_uint_eq(q.ethertype, ma_u16(m, ML_A_ETHERTYPE));
	ck_assert_uint_eq(q.ethertype, ml_ethertype());
	ck_assert_msg(memchr(q.name, '\0', sizeof(q.name)), "name unterminated");
	ck_assert_str_eq(q.name, e.p0.dev_name);
	ck_assert_uint_eq(q.hello_ms, 100);
	ck_assert_uint_eq(q.dead_ms, 1000);
	/* In fields are left as given. */
	ck_assert_uint_eq(q.port_entries, ML_MAX_PORTS);
	ck_assert_uint_eq(q.port_entry_size, sizeof(pa[0]));
	reply_free(&rep);

	check_port(&e, &pa[0], "a0");
	ck_assert_uint_eq(pa[0].link_state, ML_LINK_UP);
	ck_assert_uint_eq(pa[0].carrier, 1);
	ck_assert_uint_eq(pa[0].num_neigh, 1);
	/* Entries past num_ports are not written. */
	for (size_t i = 0; i < sizeof(pa[1]); i++)
		ck_assert_msg(((uint8_t *)&pa[1])[i] == 0xAA,
			      "ports[1] byte %zu written", i);

	/* A DEV_SET shows in the next query. */
	{
		struct ml_req r;

		req_init(&r, &e.nl, ML_CMD_DEV_SET, false);
		req_u32(&r, ML_A_DEV_INDEX, e.p0.dev_index);
		req_u32(&r, ML_A_NODE_ID, e.node_id + 7);
		req_u32(&r, ML_A_HELLO_MS, 200);
		req_u32(&r, ML_A_DEAD_MS, 2000);
		ck_assert_int_eq(nl_do(&e.nl, &r, &rep), 0);
		reply_free(&rep);
	}
	q_init(&q);
	ck_assert_int_eq(query(e.fd, &q), 0);
	ck_assert_uint_eq(q.node_id, e.node_id + 7);
	ck_assert_uint_eq(q.hello_ms, 200);
	ck_assert_uint_eq(q.dead_ms, 2000);
	ck_assert_uint_eq(q.num_ports, 1);
	close(e.fd);
}
END_TEST

START_TEST(test_no_ports_array)
{
	struct env e;
	struct ml_query_device q;

	env_setup(&e, false);
	q_init(&q);
	/* port_entries 0: ports is not looked at, even if it is garbage. */
	q.port_entry_size = sizeof(struct ml_port_attr);
	q.ports = 8;
	ck_assert_int_eq(query(e.fd, &q), 0);
	ck_assert_uint_eq(q.num_ports, 1);
	ck_assert_uint_eq(q.node_id, e.node_id);
}
END_TEST

START_TEST(test_short_struct)
{
	struct env e;
	static const uint32_t sizes[] = { 0, 4, 8, 16, QSZ - 8, QSZ - 4, QSZ - 1 };
	union {
		struct ml_query_device q;
		char raw[256];
	} u;

	env_setup(&e, false);
	for (size_t i = 0; i < ARRAY_SIZE(sizes); i++) {
		int r;

		memset(&u, 0, sizeof(u));
		u.q.size = sizes[i];
		r = query(e.fd, &u);
		ck_assert_msg(r == -EINVAL, "size %u: got %d (%s), want EINVAL",
			      sizes[i], r, strerror(-r));
	}
}
END_TEST

START_TEST(test_long_struct_nonzero_tail)
{
	struct env e;
	union {
		struct ml_query_device q;
		char raw[QSZ + 64];
	} u;
	static const uint32_t at[] = { QSZ, QSZ + 7, QSZ + 63 };

	env_setup(&e, false);
	for (size_t i = 0; i < ARRAY_SIZE(at); i++) {
		int r;

		memset(&u, 0, sizeof(u));
		u.q.size = QSZ + 64;
		u.raw[at[i]] = 1;
		r = query(e.fd, &u);
		ck_assert_msg(r == -E2BIG, "non-zero byte at %u: got %d (%s), "
			      "want E2BIG", at[i], r, strerror(-r));
	}
}
END_TEST

START_TEST(test_long_struct_zero_tail)
{
	struct env e;
	union {
		struct ml_query_device q;
		char raw[QSZ + 64];
	} u;

	env_setup(&e, false);
	memset(&u, 0, sizeof(u));
	u.q.size = QSZ + 64;
	ck_assert_int_eq(query(e.fd, &u), 0);
	ck_assert_uint_eq(u.q.abi_version, ML_ABI_VERSION);
	ck_assert_uint_eq(u.q.node_id, e.node_id);
	ck_assert_str_eq(u.q.name, e.p0.dev_name);
	for (uint32_t i = QSZ; i < QSZ + 64; i++)
		ck_assert_msg(u.raw[i] == 0, "tail byte %u became %d", i,
			      u.raw[i]);
	/* A page-sized struct too. */
	{
		char *big = calloc(1, 4096);

		ck_assert(big);
		((struct ml_query_device *)big)->size = 4096;
		ck_assert_int_eq(query(e.fd, big), 0);
		ck_assert_uint_eq(((struct ml_query_device *)big)->node_id,
				  e.node_id);
		free(big);
	}
}
END_TEST

START_TEST(test_flags_nonzero)
{
	struct env e;
	struct ml_query_device q;
	static const uint32_t flags[] = { 1, 2, 0x80000000u, 0xffffffffu };

	env_setup(&e, false);
	for (size_t i = 0; i < ARRAY_SIZE(flags); i++) {
		int r;

		q_init(&q);
		q.flags = flags[i];
		r = query(e.fd, &q);
		ck_assert_msg(r == -EINVAL, "flags 0x%x: got %d (%s), want EINVAL",
			      flags[i], r, strerror(-r));
	}
}
END_TEST

START_TEST(test_unknown_ioctl)
{
	struct env e;
	struct ml_query_device q;
	static const unsigned long cmds[] = {
		/* Numbers past the table (which grows from ML_IOCTL_BASE). */
		_IO(ML_IOCTL_TYPE, 0xff),
		_IO(ML_IOCTL_TYPE, 0xfe),
		_IO(ML_IOCTL_TYPE, ML_IOCTL_BASE - 1),
		_IO(ML_IOCTL_TYPE, 0),
		_IOWR(ML_IOCTL_TYPE, ML_IOCTL_BASE, struct ml_query_device),
		_IO('T', 0x42),
	};

	env_setup(&e, false);
	for (size_t i = 0; i < ARRAY_SIZE(cmds); i++) {
		int r;

		q_init(&q);
		r = ioctl(e.fd, cmds[i], &q) < 0 ? -errno : 0;
		ck_assert_msg(r == -ENOTTY, "ioctl 0x%lx: got %d (%s), want "
			      "ENOTTY", cmds[i], r, strerror(-r));
	}
}
END_TEST

START_TEST(test_bad_pointers)
{
	struct env e;
	struct ml_query_device q;
	void *page;
	int r;

	env_setup(&e, false);
	page = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ck_assert(page != MAP_FAILED);
	ck_assert_int_eq(munmap(page, 4096), 0);

	/* The struct itself. */
	r = query(e.fd, NULL);
	ck_assert_msg(r == -EFAULT, "NULL arg: %d (%s)", r, strerror(-r));
	r = query(e.fd, page);
	ck_assert_msg(r == -EFAULT, "unmapped arg: %d (%s)", r, strerror(-r));

	/* The port array. */
	q_init(&q);
	q.port_entries = 1;
	q.port_entry_size = sizeof(struct ml_port_attr);
	q.ports = (uintptr_t)page;
	r = query(e.fd, &q);
	ck_assert_msg(r == -EFAULT, "unmapped ports: %d (%s)", r, strerror(-r));
	q_init(&q);
	q.port_entries = 1;
	q.port_entry_size = sizeof(struct ml_port_attr);
	q.ports = 0;
	r = query(e.fd, &q);
	/* NULL with entries > 0 may be refused as a bad combination. */
	ck_assert_msg(r == -EFAULT || r == -EINVAL, "NULL ports: %d (%s)", r,
		      strerror(-r));
	q_init(&q);
	q.port_entries = 1;
	q.port_entry_size = sizeof(struct ml_port_attr);
	q.ports = 0xffff800000000000ull;	/* kernel half */
	r = query(e.fd, &q);
	ck_assert_msg(r == -EFAULT, "kernel ports pointer: %d (%s)", r,
		      strerror(-r));
	/* Read-only memory is not writable for the kernel either. */
	page = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ck_assert(page != MAP_FAILED);
	q_init(&q);
	q.port_entries = 1;
	q.port_entry_size = sizeof(struct ml_port_attr);
	q.ports = (uintptr_t)page;
	r = query(e.fd, &q);
	ck_assert_msg(r == -EFAULT, "read-only ports: %d (%s)", r, strerror(-r));
	munmap(page, 4096);
}
END_TEST

START_TEST(test_entry_size_smaller)
{
	struct env e;
	struct ml_query_device q;
	uint8_t buf[64];
	const uint32_t esz = 8;	/* port_index + ifindex */
	uint32_t v[2];
	uint32_t n;

	env_setup(&e, true);
	n = e.multi ? 2 : 1;
	if (!e.multi)
		tpartial("test_entry_size_smaller", "no ML_DEV_CAP_MULTI_PORT: "
		      "stride of a second entry not checked");
	memset(buf, 0xAA, sizeof(buf));
	q_init(&q);
	q.port_entries = 4;
	q.port_entry_size = esz;
	q.ports = (uintptr_t)buf;
	ck_assert_int_eq(query(e.fd, &q), 0);
	ck_assert_uint_eq(q.num_ports, n);
	for (uint32_t i = 0; i < n; i++) {
		const struct port_info *pi = i == 0 ? &e.p0 : &e.px;

		memcpy(v, buf + i * esz, sizeof(v));
		ck_assert_uint_eq(v[0], pi->port_index);
		ck_assert_uint_eq(v[1], pi->ifindex);
	}
	for (size_t i = n * esz; i < sizeof(buf); i++)
		ck_assert_msg(buf[i] == 0xAA, "byte %zu past %u entries of %u "
			      "bytes was written", i, n, esz);
}
END_TEST

START_TEST(test_entry_size_larger)
{
	struct env e;
	struct ml_query_device q;
	const uint32_t esz = sizeof(struct ml_port_attr) + 12;
	uint8_t buf[5 * (sizeof(struct ml_port_attr) + 12)];
	struct ml_port_attr pa;
	uint32_t n;

	env_setup(&e, true);
	n = e.multi ? 2 : 1;
	memset(buf, 0xAA, sizeof(buf));
	q_init(&q);
	q.port_entries = 4;
	q.port_entry_size = esz;
	q.ports = (uintptr_t)buf;
	ck_assert_int_eq(query(e.fd, &q), 0);
	ck_assert_uint_eq(q.num_ports, n);
	for (uint32_t i = 0; i < n; i++) {
		const uint8_t *ent = buf + i * esz;

		memcpy(&pa, ent, sizeof(pa));
		check_port(&e, &pa, i == 0 ? "a0" : "b0");
		for (size_t k = sizeof(pa); k < esz; k++)
			ck_assert_msg(ent[k] == 0, "entry %u byte %zu (past the "
				      "known struct) is 0x%02x, want 0", i, k,
				      ent[k]);
	}
	for (size_t i = n * esz; i < sizeof(buf); i++)
		ck_assert_msg(buf[i] == 0xAA, "byte %zu past %u entries written",
			      i, n);
}
END_TEST

START_TEST(test_fewer_entries_than_ports)
{
	struct env e;
	struct ml_query_device q;
	struct ml_port_attr pa[2];

	env_setup(&e, true);
	if (!e.multi) {
		tskip("test_fewer_entries_than_ports",
		      "no ML_DEV_CAP_MULTI_PORT: a device has one port");
		return;
	}
	memset(pa, 0xAA, sizeof(pa));
	q_init(&q);
	q.port_entries = 1;
	q.port_entry_size = sizeof(pa[0]);
	q.ports = (uintptr_t)pa;
	ck_assert_int_eq(query(e.fd, &q), 0);
	ck_assert_uint_eq(q.num_ports, 2);
	ck_assert_uint_eq(pa[0].port_index, e.p0.port_index);
	for (size_t i = 0; i < sizeof(pa[1]); i++)
		ck_assert_msg(((uint8_t *)&pa[1])[i] == 0xAA,
			      "entry 1 written with port_entries 1");
}
END_TEST

START_TEST(test_two_devices_two_nodes)
{
	struct env e;
	int fd1;
	struct ml_query_device q0, q1;

	env_setup(&e, false);
	fd1 = open_dev(e.p1.dev_name);
	q_init(&q0);
	q_init(&q1);
	ck_assert_int_eq(query(e.fd, &q0), 0);
	ck_assert_int_eq(query(fd1, &q1), 0);
	ck_assert_uint_eq(q0.node_id, e.node_id);
	ck_assert_uint_eq(q1.node_id, e.node_id + 1);
	ck_assert_uint_ne(q0.dev_index, q1.dev_index);
	ck_assert_str_eq(q1.name, e.p1.dev_name);
	close(fd1);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("ioctl");
	TCase *tc = tcase_new("query_device", 90);

	tcase_add_test(tc, test_size_is_v1);
	tcase_add_test(tc, test_query_ok);
	tcase_add_test(tc, test_no_ports_array);
	tcase_add_test(tc, test_short_struct);
	tcase_add_test(tc, test_long_struct_nonzero_tail);
	tcase_add_test(tc, test_long_struct_zero_tail);
	tcase_add_test(tc, test_flags_nonzero);
	tcase_add_test(tc, test_unknown_ioctl);
	tcase_add_test(tc, test_bad_pointers);
	tcase_add_test(tc, test_entry_size_smaller);
	tcase_add_test(tc, test_entry_size_larger);
	tcase_add_test(tc, test_fewer_entries_than_ports);
	tcase_add_test(tc, test_two_devices_two_nodes);
	suite_add_tcase(s, tc);
	return run_suite(s, "ioctl");
}
