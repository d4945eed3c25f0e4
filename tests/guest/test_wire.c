// SPDX-License-Identifier: GPL-2.0
/*
 * Malformed megalink frames injected through a raw AF_PACKET socket on the
 * peer's veth end: each bumps exactly its ML_STAT_DROP_* (or RX_NOT_MINE)
 * counter on the receiving port, and the link stays up.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common.h"

#define HELLO 100
#define DEAD 1000

enum fcase {
	F_EMPTY,		/* Ethernet header only */
	F_SHORT8,		/* 8 bytes of header */
	F_SHORT11,		/* 11 bytes */
	F_VERSION0,
	F_VERSION2,
	F_TYPE0,
	F_TYPE99,
	F_LEN_BIG,		/* hdr.len = frame + 1 */
	F_LEN_HUGE,		/* hdr.len = 0xffff */
	F_LEN_SMALL,		/* hdr.len = 11 */
	F_BODY_SHORT,		/* HELLO with a 10-byte body */
	F_FLAGS,
	F_NAME_UNTERM,
	F_SRC0,
	F_SRC_ALL,
	F_LOOP,
	F_NOT_MINE,
	F_VALID_PADDED,		/* valid, new node, padding after hdr.len */
	F_NCASES
};

static const struct {
	const char *name;
	int stat;		/* counter that must grow by exactly 1 */
} cases[F_NCASES] = {
	[F_EMPTY] = { "no payload", ML_STAT_DROP_SHORT },
	[F_SHORT8] = { "8-byte header", ML_STAT_DROP_SHORT },
	[F_SHORT11] = { "11-byte header", ML_STAT_DROP_SHORT },
	[F_VERSION0] = { "version 0", ML_STAT_DROP_VERSION },
	[F_VERSION2] = { "version 2", ML_STAT_DROP_VERSION },
	[F_TYPE0] = { "type 0", ML_STAT_DROP_TYPE },
	[F_TYPE99] = { "type 99", ML_STAT_DROP_TYPE },
	[F_LEN_BIG] = { "hdr.len one past the frame", ML_STAT_DROP_LENGTH },
	[F_LEN_HUGE] = { "hdr.len 0xffff", ML_STAT_DROP_LENGTH },
	[F_LEN_SMALL] = { "hdr.len 11", ML_STAT_DROP_LENGTH },
	[F_BODY_SHORT] = { "HELLO body of 10 bytes", ML_STAT_DROP_MALFORMED },
	[F_FLAGS] = { "HELLO flags 0x8000", ML_STAT_DROP_MALFORMED },
	[F_NAME_UNTERM] = { "HELLO dev_name unterminated", ML_STAT_DROP_MALFORMED },
	[F_SRC0] = { "HELLO src_node 0", ML_STAT_DROP_MALFORMED },
	[F_SRC_ALL] = { "HELLO src_node 0xffffffff", ML_STAT_DROP_MALFORMED },
	[F_LOOP] = { "HELLO with our own node id", ML_STAT_DROP_LOOP },
	[F_NOT_MINE] = { "HELLO for another dst_node", ML_STAT_RX_NOT_MINE },
	[F_VALID_PADDED] = { "valid padded HELLO from a new node", -1 },
};

static const int counted[] = {
	ML_STAT_DROP_SHORT, ML_STAT_DROP_VERSION, ML_STAT_DROP_TYPE,
	ML_STAT_DROP_LENGTH, ML_STAT_DROP_MALFORMED, ML_STAT_DROP_LOOP,
	ML_STAT_DROP_NEIGH_FULL, ML_STAT_DROP_NOMEM, ML_STAT_RX_NOT_MINE,
};

static const char *stat_name(int s)
{
	switch (s) {
	case ML_STAT_DROP_SHORT: return "DROP_SHORT";
	case ML_STAT_DROP_VERSION: return "DROP_VERSION";
	case ML_STAT_DROP_TYPE: return "DROP_TYPE";
	case ML_STAT_DROP_LENGTH: return "DROP_LENGTH";
	case ML_STAT_DROP_MALFORMED: return "DROP_MALFORMED";
	case ML_STAT_DROP_LOOP: return "DROP_LOOP";
	case ML_STAT_DROP_NEIGH_FULL: return "DROP_NEIGH_FULL";
	case ML_STAT_DROP_NOMEM: return "DROP_NOMEM";
	case ML_STAT_RX_NOT_MINE: return "RX_NOT_MINE";
	default: return "?";
	}
}

struct snap {
	uint64_t v[ML_STAT_MAX + 1];
};

static void snapshot(struct nl *nl, const char *ifname, struct snap *s)
{
	struct ml_reply rep;

	memset(s, 0, sizeof(*s));
	ck_assert_msg(ml_stats_get(nl, ifname, &rep) == 0 && rep.n == 1,
		      "STATS_GET %s: %s (%s)", ifname, strerror(-rep.err),
		      rep.extack);
	for (int i = 0; i <= ML_STAT_MAX; i++)
		s->v[i] = ma_stat(&rep.msgs[0], i);
	reply_free(&rep);
}

/*
 * Build frame `c` from node `src` (our peer) to the receiver (node id
 * `rx_node`).  Returns the frame length.
 */
static size_t build(enum fcase c, uint8_t *buf, const uint8_t src_mac[6],
		    uint16_t ethertype, uint32_t src, uint32_t rx_node,
		    uint32_t fake_node)
{
	struct ether_header *eh = (struct ether_header *)buf;
	struct ml_wire_hello *h = (struct ml_wire_hello *)(buf + sizeof(*eh));
	size_t plen = sizeof(*h);

	memset(buf, 0, 128);
	memset(eh->ether_dhost, 0xff, 6);
	memcpy(eh->ether_shost, src_mac, 6);
	eh->ether_type = htons(ethertype);
	h->hdr.version = ML_WIRE_VERSION;
	h->hdr.type = ML_WIRE_HELLO;
	h->hdr.src_node = htonl(src);
	h->hdr.dst_node = htonl(ML_WIRE_NODE_ALL);
	h->src_port = htons(0);
	h->flags = 0;
	h->caps = 0;
	h->dead_ms = htonl(DEAD);
	h->hello_ms = htonl(HELLO);
	snprintf(h->dev_name, sizeof(h->dev_name), "mlfake");

	switch (c) {
	case F_EMPTY:
		plen = 0;
		break;
	case F_SHORT8:
		plen = 8;
		break;
	case F_SHORT11:
		plen = 11;
		break;
	case F_VERSION0:
		h->hdr.version = 0;
		break;
	case F_VERSION2:
		h->hdr.version = 2;
		break;
	case F_TYPE0:
		h->hdr.type = 0;
		plen = sizeof(h->hdr);
		break;
	case F_TYPE99:
		h->hdr.type = 99;
		plen = sizeof(h->hdr) + 4;
		break;
	case F_LEN_BIG:
		h->hdr.len = htons(sizeof(*h) + 1);
		return sizeof(*eh) + plen;
	case F_LEN_HUGE:
		h->hdr.len = htons(0xffff);
		return sizeof(*eh) + plen;
	case F_LEN_SMALL:
		h->hdr.len = htons(11);
		return sizeof(*eh) + plen;
	case F_BODY_SHORT:
		plen = sizeof(h->hdr) + 10;
		break;
	case F_FLAGS:
		h->flags = htons(0x8000);
		break;
	case F_NAME_UNTERM:
		memset(h->dev_name, 'x', sizeof(h->dev_name));
		break;
	case F_SRC0:
		h->hdr.src_node = 0;
		break;
	case F_SRC_ALL:
		h->hdr.src_node = htonl(0xffffffffu);
		break;
	case F_LOOP:
		h->hdr.src_node = htonl(rx_node);
		break;
	case F_NOT_MINE:
		h->hdr.dst_node = htonl(rx_node + 100);
		break;
	case F_VALID_PADDED:
		/* Another station: neighbours are known by their MAC. */
		memcpy(eh->ether_shost, "\x02\x00\x5e\x10\x20\x30", 6);
		h->hdr.src_node = htonl(fake_node);
		h->dead_ms = htonl(5000);
		h->hdr.len = htons(sizeof(*h));
		/* 16 bytes of padding the receiver must ignore. */
		memset((uint8_t *)h + sizeof(*h), 0xee, 16);
		return sizeof(*eh) + sizeof(*h) + 16;
	case F_NCASES:
		break;
	}
	h->hdr.len = htons((uint16_t)plen);
	return sizeof(*eh) + plen;
}

static void inject(const char *ns, const char *ifname, const uint8_t *frame,
		   size_t len)
{
	struct sockaddr_ll sll;
	int fd, ifindex = if_index_in(ns, ifname);
	ssize_t n;

	ck_assert(ifindex > 0);
	ns_enter(ns);
	fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	ns_enter(NULL);
	ck_assert_msg(fd >= 0, "AF_PACKET socket: %s", strerror(errno));
	memset(&sll, 0, sizeof(sll));
	sll.sll_family = AF_PACKET;
	sll.sll_ifindex = ifindex;
	sll.sll_halen = 6;
	memcpy(sll.sll_addr, frame, 6);
	n = sendto(fd, frame, len, 0, (struct sockaddr *)&sll, sizeof(sll));
	ck_assert_msg(n == (ssize_t)len, "sendto %zu bytes on %s: %zd (%s)",
		      len, ifname, n, strerror(errno));
	close(fd);
}

struct cw {
	struct nl *nl;
	int stat;
	uint64_t want;
	uint32_t fake;
};

static bool counter_cond(void *arg)
{
	struct cw *w = arg;
	struct snap s;

	if (w->stat < 0)
		return ml_neigh_count(w->nl, "m01", w->fake) == 1;
	snapshot(w->nl, "m01", &s);
	return s.v[w->stat] >= w->want;
}

START_TEST(test_malformed)
{
	enum fcase c = (enum fcase)_i;
	struct pod p;
	struct snap before, after;
	uint8_t frame[256];
	size_t len;
	uint16_t et = ml_ethertype();
	struct cw w;
	char bad[1024] = "";

	if (!have_kmod("af_packet") && access("/proc/net/packet", F_OK)) {
		tskip(cases[c].name, "AF_PACKET not available");
		return;
	}
	tlog("case %d: %s", c, cases[c].name);
	pod_create(&p, 2, HELLO, DEAD);
	pod_wait_discovered(&p, 20000);
	snapshot(&p.nodes[0].nl, "m01", &before);

	len = build(c, frame, p.nodes[1].ports[0].mac, et, p.nodes[1].node_id,
		    p.nodes[0].node_id, p.nodes[1].node_id + 5);
	inject(p.nodes[1].ns, "m10", frame, len);

	w = (struct cw){ &p.nodes[0].nl, cases[c].stat,
			 cases[c].stat >= 0 ? before.v[cases[c].stat] + 1 : 0,
			 p.nodes[1].node_id + 5 };
	ck_assert_msg(wait_until(counter_cond, &w, 5000),
		      "%s: %s never grew (still %llu)", cases[c].name,
		      cases[c].stat >= 0 ? stat_name(cases[c].stat) :
		      "neighbour table",
		      cases[c].stat >= 0 ?
		      (unsigned long long)before.v[cases[c].stat] : 0ULL);
	sleep_ms(300);
	snapshot(&p.nodes[0].nl, "m01", &after);
	for (size_t i = 0; i < ARRAY_SIZE(counted); i++) {
		int s = counted[i];
		uint64_t d = after.v[s] - before.v[s];
		uint64_t want = s == cases[c].stat ? 1 : 0;

		if (d != want)
			snprintf(bad + strlen(bad), sizeof(bad) - strlen(bad),
				 " %s+%llu(want +%llu)", stat_name(s),
				 (unsigned long long)d, (unsigned long long)want);
	}
	ck_assert_msg(!bad[0], "%s: counters moved:%s", cases[c].name, bad);
	/* The real link is unharmed. */
	ck_assert_int_eq(ml_port_state(&p.nodes[0].nl, "m01"), 1);
	ck_assert_int_eq(ml_neigh_count(&p.nodes[0].nl, "m01",
					p.nodes[1].node_id), 1);
	if (c == F_VALID_PADDED) {
		struct ml_reply rep;
		bool seen = false;

		ck_assert_int_eq(ml_dump(&p.nodes[0].nl, ML_CMD_NEIGH_GET, -1,
					 &rep), 0);
		for (int i = 0; i < rep.n; i++)
			if (ma_u32(&rep.msgs[i], ML_A_NEIGH_NODE_ID) ==
			    p.nodes[1].node_id + 5) {
				seen = true;
				ck_assert_str_eq(ma_str(&rep.msgs[i],
						ML_A_NEIGH_DEV_NAME), "mlfake");
				ck_assert_uint_eq(ma_u32(&rep.msgs[i],
						ML_A_NEIGH_DEAD_MS), 5000);
			}
		reply_free(&rep);
		ck_assert_msg(seen, "padded HELLO's node not a neighbour");
		/* It sends no more HELLOs: lost within its dead interval. */
		{
			uint64_t end = now_ms() + 30000;

			while (ml_neigh_count(&p.nodes[0].nl, "m01",
					      p.nodes[1].node_id + 5) != 0 &&
			       now_ms() < end)
				sleep_ms(100);
			ck_assert_int_eq(ml_neigh_count(&p.nodes[0].nl, "m01",
							p.nodes[1].node_id + 5), 0);
		}
		ck_assert_int_eq(ml_port_state(&p.nodes[0].nl, "m01"), 1);
	}
	pod_destroy(&p);
}
END_TEST

/* A burst of every bad frame: no oops, counters add up, link stays. */
START_TEST(test_burst)
{
	struct pod p;
	struct snap before, after;
	uint8_t frame[256];
	uint16_t et = ml_ethertype();
	const int rounds = 50;
	uint64_t total = 0;

	pod_create(&p, 2, HELLO, DEAD);
	pod_wait_discovered(&p, 20000);
	snapshot(&p.nodes[0].nl, "m01", &before);
	for (int r = 0; r < rounds; r++)
		for (int c = 0; c < F_VALID_PADDED; c++) {
			size_t len = build((enum fcase)c, frame,
					   p.nodes[1].ports[0].mac, et,
					   p.nodes[1].node_id,
					   p.nodes[0].node_id, 0);

			inject(p.nodes[1].ns, "m10", frame, len);
		}
	sleep_ms(1000);
	snapshot(&p.nodes[0].nl, "m01", &after);
	for (size_t i = 0; i < ARRAY_SIZE(counted); i++)
		total += after.v[counted[i]] - before.v[counted[i]];
	ck_assert_msg(total == (uint64_t)rounds * F_VALID_PADDED,
		      "drop counters grew by %llu, want %d",
		      (unsigned long long)total, rounds * F_VALID_PADDED);
	ck_assert_int_eq(ml_port_state(&p.nodes[0].nl, "m01"), 1);
	ck_assert_int_eq(ml_neigh_count(&p.nodes[0].nl, "m01",
					p.nodes[1].node_id), 1);
	pod_destroy(&p);
}
END_TEST

/* More neighbours than the table holds: the rest count DROP_NEIGH_FULL,
 * the real neighbour stays, and the fakes expire. */
START_TEST(test_neigh_table_full)
{
	struct pod p;
	struct snap before, after;
	uint8_t frame[256];
	uint16_t et = ml_ethertype();
	const int fakes = 150;
	uint32_t fbase = node_id_base() + 1000;
	uint64_t found, full, end, lost0, lost1;
	int k;

	pod_create(&p, 2, HELLO, DEAD);
	pod_wait_discovered(&p, 20000);
	snapshot(&p.nodes[0].nl, "m01", &before);
	for (int i = 0; i < fakes; i++) {
		size_t len = build(F_VALID_PADDED, frame, p.nodes[1].ports[0].mac,
				   et, 0, p.nodes[0].node_id, fbase + i);

		frame[10] = (uint8_t)(i >> 8);
		frame[11] = (uint8_t)i;
		inject(p.nodes[1].ns, "m10", frame, len);
	}
	end = now_ms() + 10000;
	do {
		sleep_ms(200);
		snapshot(&p.nodes[0].nl, "m01", &after);
		found = after.v[ML_STAT_NEIGH_FOUND] - before.v[ML_STAT_NEIGH_FOUND];
		full = after.v[ML_STAT_DROP_NEIGH_FULL] -
		       before.v[ML_STAT_DROP_NEIGH_FULL];
	} while (found + full < (uint64_t)fakes && now_ms() < end);
	/*
	 * On a slow kernel the first fakes can expire (they ask for 5 s)
	 * before the last are in: the table holds the real neighbour plus
	 * the fakes found and not yet lost, counted on both sides of the read.
	 */
	lost0 = after.v[ML_STAT_NEIGH_LOST] - before.v[ML_STAT_NEIGH_LOST];
	k = ml_neigh_count(&p.nodes[0].nl, "m01", 0);
	snapshot(&p.nodes[0].nl, "m01", &after);
	lost1 = after.v[ML_STAT_NEIGH_LOST] - before.v[ML_STAT_NEIGH_LOST];
	tlog("%d fake neighbours: %llu found, %llu table full, %llu..%llu expired, "
	     "%d in the table", fakes, (unsigned long long)found,
	     (unsigned long long)full, (unsigned long long)lost0,
	     (unsigned long long)lost1, k);
	ck_assert_msg(found + full == (uint64_t)fakes, "found %llu + full %llu "
		      "!= %d HELLOs from new stations", (unsigned long long)found,
		      (unsigned long long)full, fakes);
	ck_assert_msg(full > 0, "no table limit hit with %d neighbours", fakes + 1);
	ck_assert_msg((uint64_t)k >= 1 + found - lost1 && (uint64_t)k <= 1 + found - lost0,
		      "%d in the table, want 1 + %llu found - %llu..%llu lost", k,
		      (unsigned long long)found, (unsigned long long)lost0,
		      (unsigned long long)lost1);
	ck_assert_int_eq(ml_neigh_count(&p.nodes[0].nl, "m01",
					p.nodes[1].node_id), 1);
	ck_assert_int_eq(ml_port_state(&p.nodes[0].nl, "m01"), 1);
	/* The fakes asked for 5 s and send nothing more. */
	end = now_ms() + 40000;
	while (ml_neigh_count(&p.nodes[0].nl, "m01", 0) != 1 && now_ms() < end)
		sleep_ms(250);
	ck_assert_int_eq(ml_neigh_count(&p.nodes[0].nl, "m01", 0), 1);
	ck_assert_int_eq(ml_neigh_count(&p.nodes[0].nl, "m01",
					p.nodes[1].node_id), 1);
	ck_assert_int_eq(ml_port_state(&p.nodes[0].nl, "m01"), 1);
	pod_destroy(&p);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("wire");
	TCase *tc = tcase_new("malformed", 90);

	tcase_add_loop_test(tc, test_malformed, 0, F_NCASES);
	tcase_add_test(tc, test_burst);
	tcase_add_test(tc, test_neigh_table_full);
	suite_add_tcase(s, tc);
	return run_suite(s, "wire");
}
