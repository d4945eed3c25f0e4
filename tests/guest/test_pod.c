// SPDX-License-Identifier: GPL-2.0
/*
 * A pod of nodes in one kernel: discovery seen through raw netlink,
 * libmegalink and `megalink-stat -j`; link down/up seen by megalink-stat
 * and by a monitor subscriber; loss (netem) and the dead interval.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common.h"
#ifdef HAVE_LIBMEGALINK
#include <megalink/megalink.h>
#endif

#define HELLO 100
#define DEAD 1000
/* Generous: TCG guests on a shared 2-core host stall at times. */
#define DISCOVER_MS 20000
#define CHANGE_MS 15000

static void fmt_mac(char out[18], const uint8_t m[6])
{
	snprintf(out, 18, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2],
		 m[3], m[4], m[5]);
}

/* ---- discovery through netlink ------------------------------------------ */

START_TEST(test_discovery_netlink)
{
	struct pod p;

	pod_create(&p, 3, HELLO, DEAD);
	pod_wait_discovered(&p, DISCOVER_MS);
	for (int i = 0; i < p.n; i++) {
		struct pod_node *n = &p.nodes[i];
		struct ml_reply rep;

		ck_assert_int_eq(ml_dev_get(&n->nl, n->dev_index, &rep), 0);
		ck_assert_uint_eq(ma_u32(&rep.msgs[0], ML_A_NUM_PORTS),
				  (uint32_t)n->nports);
		reply_free(&rep);
		for (int k = 0; k < n->nports; k++) {
			struct pod_port *pp = &n->ports[k];

			ck_assert_int_eq(ml_port_get(&n->nl, pp->ifname, &rep), 0);
			ck_assert_msg(ma_u8(&rep.msgs[0], ML_A_LINK_STATE) ==
				      ML_LINK_UP, "node %d %s not up", i,
				      pp->ifname);
			ck_assert_uint_eq(ma_u32(&rep.msgs[0], ML_A_NUM_NEIGH),
					  p.bridge ? 2 : 1);
			reply_free(&rep);
		}
		/* The neighbour reports the dead interval its peer asked
		 * for and the peer's capabilities. */
		ck_assert_int_eq(ml_dump(&n->nl, ML_CMD_NEIGH_GET, -1, &rep), 0);
		for (int k = 0; k < rep.n; k++) {
			ck_assert_uint_eq(ma_u32(&rep.msgs[k], ML_A_NEIGH_DEAD_MS),
					  DEAD);
			ck_assert_msg(ma_has(&rep.msgs[k], ML_A_NEIGH_CAPS) &&
				      ma_has(&rep.msgs[k], ML_A_NEIGH_AGE_MS),
				      "neighbour without CAPS/AGE_MS");
		}
		reply_free(&rep);
	}
	pod_destroy(&p);
}
END_TEST

/* ---- discovery through megalink-stat -j neigh ---------------------------- */

static int stat_json(const char *ns, const char *what, struct json_obj *objs,
		     int max)
{
	char *out = NULL;
	int n, st;

	st = run_capture(&out, "ip netns exec %s %s -j %s", ns, stat_tool(), what);
	ck_assert_msg(st == 0, "megalink-stat -j %s in %s exited %d", what, ns,
		      st);
	n = json_parse_array(out, objs, max);
	ck_assert_msg(n >= 0, "megalink-stat -j %s: not a JSON array of "
		      "objects: %.300s", what, out);
	free(out);
	return n;
}

static bool stat_discovered(struct pod *p, char *why, size_t wl)
{
	for (int i = 0; i < p->n; i++) {
		struct pod_node *n = &p->nodes[i];
		struct json_obj o[8];
		int k = stat_json(n->ns, "neigh", o, 8);

		if (k != p->n - 1) {
			snprintf(why, wl, "node %d: %d neighbours in JSON", i, k);
			return false;
		}
		for (int j = 0; j < p->n; j++) {
			struct pod_port *mine, *theirs;
			char id[16], mac[18], port[16], rport[16];
			bool found = false;

			if (j == i)
				continue;
			mine = pod_port_to(p, i, j);
			theirs = pod_port_to(p, j, i);
			snprintf(id, sizeof(id), "%u", p->nodes[j].node_id);
			snprintf(port, sizeof(port), "%u", mine->port_index);
			snprintf(rport, sizeof(rport), "%u", theirs->port_index);
			fmt_mac(mac, theirs->mac);
			for (int x = 0; x < k; x++) {
				const char *v;
				const char *keys[] = { "dev", "port", "ifname",
					"node_id", "remote_dev", "remote_port",
					"mac", "age_ms", "dead_ms", "mtu",
					"caps" };

				for (size_t y = 0; y < ARRAY_SIZE(keys); y++)
					ck_assert_msg(json_get(&o[x], keys[y]),
						      "megalink-stat -j neigh: "
						      "no key \"%s\"", keys[y]);
				v = json_get(&o[x], "node_id");
				if (strcmp(v, id))
					continue;
				found = true;
				if (strcmp(json_get(&o[x], "dev"), n->dev_name) ||
				    strcmp(json_get(&o[x], "ifname"), mine->ifname) ||
				    strcmp(json_get(&o[x], "port"), port) ||
				    strcmp(json_get(&o[x], "remote_dev"),
					   p->nodes[j].dev_name) ||
				    strcmp(json_get(&o[x], "remote_port"), rport) ||
				    (!p->bridge && strcasecmp(json_get(&o[x], "mac"), mac)) ||
				    strcmp(json_get(&o[x], "dead_ms"), "1000") ||
				    strcmp(json_get(&o[x], "mtu"), "1500")) {
					snprintf(why, wl, "node %d neighbour %s: "
						 "dev %s ifname %s port %s "
						 "remote %s/%s mac %s dead %s mtu %s; "
						 "want %s %s %s %s/%s %s 1000 1500",
						 i, id, json_get(&o[x], "dev"),
						 json_get(&o[x], "ifname"),
						 json_get(&o[x], "port"),
						 json_get(&o[x], "remote_dev"),
						 json_get(&o[x], "remote_port"),
						 json_get(&o[x], "mac"),
						 json_get(&o[x], "dead_ms"),
						 json_get(&o[x], "mtu"),
						 n->dev_name, mine->ifname, port,
						 p->nodes[j].dev_name, rport, mac);
					return false;
				}
			}
			if (!found) {
				snprintf(why, wl, "node %d: no node_id %s in "
					 "megalink-stat output", i, id);
				return false;
			}
		}
	}
	return true;
}

struct sw {
	struct pod *p;
	char why[512];
};

static bool stat_cond(void *arg)
{
	struct sw *w = arg;

	return stat_discovered(w->p, w->why, sizeof(w->why));
}

START_TEST(test_discovery_stat_tool)
{
	struct pod p;
	struct sw w = { .p = &p };

	if (!stat_tool()) {
		tskip("test_discovery_stat_tool", "%s/tools/megalink-stat not "
		      "built (make tools)", repo_dir());
		return;
	}
	pod_create(&p, 3, HELLO, DEAD);
	pod_wait_discovered(&p, DISCOVER_MS);
	ck_assert_msg(wait_until(stat_cond, &w, 5000),
		      "megalink-stat disagrees: %s", w.why);
	pod_destroy(&p);
}
END_TEST

/* ---- discovery through libmegalink ---------------------------------------- */

#ifdef HAVE_LIBMEGALINK
static bool lib_discovered(struct pod *p, char *why, size_t wl)
{
	for (int i = 0; i < p->n; i++) {
		struct pod_node *n = &p->nodes[i];
		struct ml_ctl *ctl;
		struct ml_neigh_info *nb = NULL;
		size_t cnt = 0;
		int r;

		ns_enter(n->ns);
		r = ml_ctl_open(&ctl);
		ns_enter(NULL);
		ck_assert_msg(r == 0, "ml_ctl_open in %s: %s (%s)", n->ns,
			      ml_strerror(r), ml_last_error());
		r = ml_ctl_neighbours(ctl, NULL, &nb, &cnt);
		ck_assert_msg(r >= 0, "ml_ctl_neighbours: %s (%s)",
			      ml_strerror(r), ml_last_error());
		if (cnt != (size_t)p->n - 1) {
			snprintf(why, wl, "node %d: library lists %zu neighbours",
				 i, cnt);
			ml_free(nb);
			ml_ctl_close(ctl);
			return false;
		}
		for (int j = 0; j < p->n; j++) {
			struct pod_port *mine, *theirs;
			bool found = false;

			if (j == i)
				continue;
			mine = pod_port_to(p, i, j);
			theirs = pod_port_to(p, j, i);
			for (size_t x = 0; x < cnt; x++) {
				if (nb[x].node_id != p->nodes[j].node_id)
					continue;
				found = true;
				ck_assert_str_eq(nb[x].dev, n->dev_name);
				ck_assert_uint_eq(nb[x].dev_index, n->dev_index);
				ck_assert_str_eq(nb[x].ifname, mine->ifname);
				ck_assert_uint_eq(nb[x].port_index, mine->port_index);
				ck_assert_str_eq(nb[x].remote_dev, p->nodes[j].dev_name);
				ck_assert_uint_eq(nb[x].remote_port, theirs->port_index);
				if (!p->bridge)
					ck_assert(!memcmp(nb[x].mac, theirs->mac, 6));
				ck_assert_uint_eq(nb[x].dead_ms, DEAD);
			}
			if (!found) {
				snprintf(why, wl, "node %d: library does not "
					 "list node %u", i, p->nodes[j].node_id);
				ml_free(nb);
				ml_ctl_close(ctl);
				return false;
			}
		}
		ml_free(nb);
		/* Ports: all up. */
		{
			struct ml_port_info *pi = NULL;

			r = ml_ctl_ports(ctl, n->dev_name, &pi, &cnt);
			ck_assert_msg(r >= 0, "ml_ctl_ports: %s", ml_last_error());
			ck_assert_uint_eq(cnt, (size_t)n->nports);
			for (size_t x = 0; x < cnt; x++)
				ck_assert_msg(pi[x].link_state == ML_LINK_UP,
					      "library: node %d %s down", i,
					      pi[x].ifname);
			ml_free(pi);
		}
		ml_ctl_close(ctl);
	}
	return true;
}
#endif

START_TEST(test_discovery_library)
{
#ifdef HAVE_LIBMEGALINK
	struct pod p;
	char why[256] = "";

	pod_create(&p, 3, HELLO, DEAD);
	pod_wait_discovered(&p, DISCOVER_MS);
	ck_assert_msg(lib_discovered(&p, why, sizeof(why)), "libmegalink: %s",
		      why);
	pod_destroy(&p);
#else
	tskip("test_discovery_library", "built without libmegalink "
	      "(lib/libmegalink.a missing at build time: make lib, then "
	      "make -C tests/guest)");
#endif
}
END_TEST

/* ---- link down and up ----------------------------------------------------- */

struct ev {
	uint8_t cmd;
	char ifname[16];
	char dev[ML_DEV_NAME_LEN];
	uint32_t neigh;
	uint8_t reason;
	int link_state;		/* -1: absent */
	bool has_port_index;
};

static int drain(struct nl *mon, struct ev *evs, int n, int max,
		 unsigned int idle_ms)
{
	struct ml_msg m;

	while (n < max && nl_recv_ntf(mon, &m, idle_ms) == 0) {
		struct ev *e = &evs[n++];

		e->cmd = m.cmd;
		snprintf(e->ifname, sizeof(e->ifname), "%s",
			 ma_str(&m, ML_A_IFNAME));
		e->neigh = ma_u32(&m, ML_A_NEIGH_NODE_ID);
		e->reason = ma_u8(&m, ML_A_REASON);
		snprintf(e->dev, sizeof(e->dev), "%s", ma_str(&m, ML_A_DEV_NAME));
		e->link_state = ma_has(&m, ML_A_LINK_STATE) ?
				ma_u8(&m, ML_A_LINK_STATE) : -1;
		e->has_port_index = ma_has(&m, ML_A_PORT_INDEX);
		tlog("monitor #%d: %s %s dev %s neigh %u reason %u", n - 1,
		     ml_cmd_name(m.cmd), e->ifname, ma_str(&m, ML_A_DEV_NAME),
		     e->neigh, e->reason);
		msg_free(&m);
	}
	return n;
}

static int find_ev(const struct ev *evs, int n, int from, uint8_t cmd,
		   const char *ifname, uint32_t neigh)
{
	for (int i = from < 0 ? 0 : from; i < n; i++)
		if (evs[i].cmd == cmd && !strcmp(evs[i].ifname, ifname) &&
		    (!neigh || evs[i].neigh == neigh))
			return i;
	return -1;
}

struct pw {
	struct nl *nl;
	const char *ns;
	const char *ifname;
	int want;	/* link state */
	int neigh_want;	/* -1: don't care */
	uint32_t neigh_id;
};

static bool port_cond(void *arg)
{
	struct pw *w = arg;

	if (ml_port_state(w->nl, w->ifname) != w->want)
		return false;
	if (w->neigh_want >= 0 &&
	    ml_neigh_count(w->nl, w->ifname, w->neigh_id) != w->neigh_want)
		return false;
	return true;
}

static void wait_port(struct nl *nl, const char *ifname, int want,
		      int neigh_want, uint32_t neigh_id, const char *what)
{
	struct pw w = { nl, NULL, ifname, want, neigh_want, neigh_id };

	ck_assert_msg(wait_until(port_cond, &w, CHANGE_MS),
		      "%s: %s not %s (neighbour %u count %d) within %d ms "
		      "(state %d, count %d)", what, ifname, want ? "up" : "down",
		      neigh_id, neigh_want, CHANGE_MS,
		      ml_port_state(nl, ifname),
		      ml_neigh_count(nl, ifname, neigh_id));
}

/* megalink-stat -j port: state of ifname, or NULL. */
static bool stat_port_state(const char *ns, const char *ifname, char *state,
			    size_t sl)
{
	struct json_obj o[8];
	int k = stat_json(ns, "port", o, 8);

	for (int i = 0; i < k; i++)
		if (json_get(&o[i], "ifname") &&
		    !strcmp(json_get(&o[i], "ifname"), ifname)) {
			const char *s = json_get(&o[i], "state");

			snprintf(state, sl, "%s", s ? s : "<no state key>");
			return true;
		}
	return false;
}

START_TEST(test_link_down_up)
{
	struct pod p;
	struct nl mon;
	struct ev evs[256];
	int n = 0, d, u, l, f;
	char st[32];
	uint32_t peer;

	/* Without multi-port devices the 3-node pod sits on bridges, whose
	 * carrier does not follow one veth: use two nodes then. */
	pod_create(&p, 3, HELLO, DEAD);
	if (p.bridge) {
		pod_destroy(&p);
		pod_create(&p, 2, HELLO, DEAD);
	}
	pod_wait_discovered(&p, DISCOVER_MS);
	peer = p.nodes[1].node_id;
	nl_open_ok(&mon, p.nodes[0].ns);
	ck_assert_int_eq(nl_join_monitor(&mon), 0);
	if (stat_tool()) {
		ck_assert_msg(stat_port_state(p.nodes[0].ns, "m01", st, sizeof(st)),
			      "megalink-stat -j port lacks m01");
		ck_assert_str_eq(st, "up");
	} else {
		tpartial("test_link_down_up", "tools/megalink-stat not built: "
		      "checked through netlink only");
	}

	ck_assert_int_eq(link_set_up(p.nodes[0].ns, "m01", false), 0);
	wait_port(&p.nodes[0].nl, "m01", 0, 0, peer, "after link down");
	/* The peer's carrier went with it. */
	wait_port(&p.nodes[1].nl, "m10", 0, -1, 0, "peer after link down");
	if (stat_tool()) {
		ck_assert(stat_port_state(p.nodes[0].ns, "m01", st, sizeof(st)));
		ck_assert_msg(!strcmp(st, "down"), "megalink-stat: m01 state %s "
			      "after link down", st);
	}
	n = drain(&mon, evs, n, 256, 300);

	ck_assert_int_eq(link_set_up(p.nodes[0].ns, "m01", true), 0);
	wait_port(&p.nodes[0].nl, "m01", 1, 1, peer, "after link up");
	pod_wait_discovered(&p, DISCOVER_MS);
	if (stat_tool()) {
		ck_assert(stat_port_state(p.nodes[0].ns, "m01", st, sizeof(st)));
		ck_assert_msg(!strcmp(st, "up"), "megalink-stat: m01 state %s "
			      "after link up", st);
	}
	n = drain(&mon, evs, n, 256, 1000);

	d = find_ev(evs, n, 0, ML_CMD_PORT_DOWN_NTF, "m01", 0);
	l = find_ev(evs, n, 0, ML_CMD_NEIGH_LOST_NTF, "m01", peer);
	u = find_ev(evs, n, d, ML_CMD_PORT_UP_NTF, "m01", 0);
	f = find_ev(evs, n, l, ML_CMD_NEIGH_FOUND_NTF, "m01", peer);
	ck_assert_msg(d >= 0, "no PORT_DOWN_NTF for m01");
	ck_assert_msg(l >= 0, "no NEIGH_LOST_NTF for node %u on m01", peer);
	ck_assert_msg(u > d, "no PORT_UP_NTF for m01 after its PORT_DOWN_NTF");
	ck_assert_msg(f > l, "no NEIGH_FOUND_NTF after NEIGH_LOST_NTF");
	ck_assert_msg(u > l, "PORT_UP_NTF (#%d) before NEIGH_LOST_NTF (#%d)", u, l);
	ck_assert_msg(evs[d].reason == ML_REASON_CARRIER,
		      "PORT_DOWN_NTF reason %u, want ML_REASON_CARRIER",
		      evs[d].reason);
	/* Notifications carry the PORT_GET attributes. */
	ck_assert_int_eq(evs[d].link_state, ML_LINK_DOWN);
	ck_assert_int_eq(evs[u].link_state, ML_LINK_UP);
	ck_assert_str_eq(evs[d].dev, p.nodes[0].dev_name);
	ck_assert_str_eq(evs[l].dev, p.nodes[0].dev_name);
	ck_assert(evs[d].has_port_index && evs[u].has_port_index &&
		  evs[l].has_port_index && evs[f].has_port_index);
	/* Exactly one down and one up for m01. */
	ck_assert_int_eq(find_ev(evs, n, d + 1, ML_CMD_PORT_DOWN_NTF, "m01", 0), -1);
	ck_assert_int_eq(find_ev(evs, n, u + 1, ML_CMD_PORT_UP_NTF, "m01", 0), -1);
	/* The other port of node 0 never went down. */
	if (p.n == 3)
		ck_assert_msg(find_ev(evs, n, 0, ML_CMD_PORT_DOWN_NTF, "m02", 0) < 0,
			      "m02 went down with m01");
	pod_destroy(&p);
}
END_TEST

/* ---- loss and the dead interval -------------------------------------- */

static uint64_t stat_of(struct nl *nl, const char *ifname, int stat)
{
	struct ml_reply rep;
	uint64_t v;

	ck_assert_msg(ml_stats_get(nl, ifname, &rep) == 0 && rep.n == 1,
		      "STATS_GET %s: %s (%s)", ifname, strerror(-rep.err),
		      rep.extack);
	ck_assert_msg(rep.msgs[0].tb[ML_A_STATS], "STATS_GET without ML_A_STATS");
	v = ma_stat(&rep.msgs[0], stat);
	reply_free(&rep);
	return v;
}

START_TEST(test_netem_loss_keeps_links)
{
	struct pod p;
	struct nl mon0, mon1;
	struct ev evs[256];
	int n = 0;
	uint64_t down0, down1, lost0, lost1, tx1, rx0;

	if (!have_kmod("sch_netem")) {
		tskip("test_netem_loss_keeps_links", "sch_netem not available");
		return;
	}
	pod_create(&p, 2, HELLO, DEAD);
	pod_wait_discovered(&p, DISCOVER_MS);
	nl_open_ok(&mon0, p.nodes[0].ns);
	nl_open_ok(&mon1, p.nodes[1].ns);
	ck_assert_int_eq(nl_join_monitor(&mon0), 0);
	ck_assert_int_eq(nl_join_monitor(&mon1), 0);
	down0 = stat_of(&p.nodes[0].nl, "m01", ML_STAT_LINK_DOWN);
	down1 = stat_of(&p.nodes[1].nl, "m10", ML_STAT_LINK_DOWN);
	lost0 = stat_of(&p.nodes[0].nl, "m01", ML_STAT_NEIGH_LOST);
	lost1 = stat_of(&p.nodes[1].nl, "m10", ML_STAT_NEIGH_LOST);
	tx1 = stat_of(&p.nodes[1].nl, "m10", ML_STAT_TX_HELLO);
	rx0 = stat_of(&p.nodes[0].nl, "m01", ML_STAT_RX_HELLO);

	RUN("tc -n %s qdisc add dev m01 root netem loss 30%%",
	    p.nodes[0].ns);
	RUN("tc -n %s qdisc add dev m10 root netem loss 30%%",
	    p.nodes[1].ns);
	for (int i = 0; i < 40; i++) {	/* 8 s, 80 HELLO intervals */
		sleep_ms(200);
		ck_assert_msg(ml_port_state(&p.nodes[0].nl, "m01") == 1,
			      "m01 down under 30%% loss after %d ms", i * 200);
		ck_assert_msg(ml_port_state(&p.nodes[1].nl, "m10") == 1,
			      "m10 down under 30%% loss after %d ms", i * 200);
	}
	tx1 = stat_of(&p.nodes[1].nl, "m10", ML_STAT_TX_HELLO) - tx1;
	rx0 = stat_of(&p.nodes[0].nl, "m01", ML_STAT_RX_HELLO) - rx0;
	run("tc -n %s -s qdisc show dev m10", p.nodes[1].ns);
	tlog("node 1 sent %llu HELLOs, node 0 received %llu",
	     (unsigned long long)tx1, (unsigned long long)rx0);
	ck_assert_msg(tx1 > 10, "node 1 sent only %llu HELLOs in 8 s",
		      (unsigned long long)tx1);
	ck_assert_msg(rx0 < tx1, "netem lost nothing (%llu of %llu arrived)",
		      (unsigned long long)rx0, (unsigned long long)tx1);
	ck_assert_msg(rx0 > 0, "no HELLO arrived at all");
	ck_assert_uint_eq(stat_of(&p.nodes[0].nl, "m01", ML_STAT_LINK_DOWN), down0);
	ck_assert_uint_eq(stat_of(&p.nodes[1].nl, "m10", ML_STAT_LINK_DOWN), down1);
	ck_assert_uint_eq(stat_of(&p.nodes[0].nl, "m01", ML_STAT_NEIGH_LOST), lost0);
	ck_assert_uint_eq(stat_of(&p.nodes[1].nl, "m10", ML_STAT_NEIGH_LOST), lost1);
	n = drain(&mon0, evs, 0, 256, 200);
	n = drain(&mon1, evs, n, 256, 200);
	for (int i = 0; i < n; i++)
		ck_assert_msg(evs[i].cmd != ML_CMD_PORT_DOWN_NTF &&
			      evs[i].cmd != ML_CMD_NEIGH_LOST_NTF,
			      "%s on %s under 30%% loss", ml_cmd_name(evs[i].cmd),
			      evs[i].ifname);

	/* Now 100% from node 1: node 0 hears nothing for a dead interval. */
	RUN("tc -n %s qdisc change dev m10 root netem loss 100%%",
	    p.nodes[1].ns);
	wait_port(&p.nodes[0].nl, "m01", 0, 0, p.nodes[1].node_id,
		  "100% loss from node 1");
	/* Carrier is still up: it was the neighbour that died. */
	{
		struct ml_reply rep;

		ck_assert_int_eq(ml_port_get(&p.nodes[0].nl, "m01", &rep), 0);
		ck_assert_uint_eq(ma_u8(&rep.msgs[0], ML_A_CARRIER), 1);
		reply_free(&rep);
	}
	ck_assert_uint_eq(stat_of(&p.nodes[0].nl, "m01", ML_STAT_NEIGH_LOST),
			  lost0 + 1);
	ck_assert_uint_eq(stat_of(&p.nodes[0].nl, "m01", ML_STAT_LINK_DOWN),
			  down0 + 1);
	n = drain(&mon0, evs, 0, 256, 300);
	{
		int l = find_ev(evs, n, 0, ML_CMD_NEIGH_LOST_NTF, "m01",
				p.nodes[1].node_id);
		int d = find_ev(evs, n, 0, ML_CMD_PORT_DOWN_NTF, "m01", 0);

		ck_assert_msg(l >= 0, "no NEIGH_LOST_NTF on m01");
		ck_assert_msg(d >= 0, "no PORT_DOWN_NTF on m01");
		ck_assert_msg(evs[d].reason == ML_REASON_NEIGH,
			      "PORT_DOWN_NTF reason %u, want ML_REASON_NEIGH",
			      evs[d].reason);
	}
	/* Loss removed: back up. */
	RUN("tc -n %s qdisc del dev m10 root", p.nodes[1].ns);
	wait_port(&p.nodes[0].nl, "m01", 1, 1, p.nodes[1].node_id,
		  "loss removed");
	pod_destroy(&p);
}
END_TEST

START_TEST(test_dead_interval_peer_unbound)
{
	struct pod p;
	struct nl mon, mon1;
	struct ev evs[64];
	int n, l, d;
	uint32_t peer;

	pod_create(&p, 2, HELLO, DEAD);
	pod_wait_discovered(&p, DISCOVER_MS);
	peer = p.nodes[1].node_id;
	nl_open_ok(&mon, p.nodes[0].ns);
	ck_assert_int_eq(nl_join_monitor(&mon), 0);
	nl_open_ok(&mon1, p.nodes[1].ns);
	ck_assert_int_eq(nl_join_monitor(&mon1), 0);
	/* The peer stops sending HELLOs; carrier stays up. */
	ck_assert_int_eq(ml_unbind_ifname(&p.nodes[1].nl, "m10"), 0);
	/* The unbound port, which was up, went down for UNBIND. */
	n = drain(&mon1, evs, 0, 64, 1000);
	d = find_ev(evs, n, 0, ML_CMD_PORT_DOWN_NTF, "m10", 0);
	ck_assert_msg(d >= 0, "no PORT_DOWN_NTF for the unbound m10");
	ck_assert_msg(evs[d].reason == ML_REASON_UNBIND, "PORT_DOWN_NTF reason "
		      "%u for an unbound port, want ML_REASON_UNBIND",
		      evs[d].reason);
	/* It was the device's last port: the device went too. */
	ck_assert_msg(find_ev(evs, n, 0, ML_CMD_DEV_DEL_NTF, "", 0) >= 0,
		      "no DEV_DEL_NTF after unbinding the last port");
	wait_port(&p.nodes[0].nl, "m01", 0, 0, peer, "peer unbound");
	n = drain(&mon, evs, 0, 64, 300);
	l = find_ev(evs, n, 0, ML_CMD_NEIGH_LOST_NTF, "m01", peer);
	d = find_ev(evs, n, 0, ML_CMD_PORT_DOWN_NTF, "m01", 0);
	ck_assert_msg(l >= 0, "no NEIGH_LOST_NTF");
	ck_assert_msg(d >= 0, "no PORT_DOWN_NTF");
	ck_assert_uint_eq(evs[d].reason, ML_REASON_NEIGH);
	/* Bound again: found again. */
	ml_bind_ok(&p.nodes[1].nl, BIND_OPTS(.ifname = "m10", .node_id = peer,
					     .hello_ms = HELLO, .dead_ms = DEAD),
		   NULL);
	wait_port(&p.nodes[0].nl, "m01", 1, 1, peer, "peer bound again");
	n = drain(&mon, evs, 0, 64, 300);
	ck_assert_msg(find_ev(evs, n, 0, ML_CMD_NEIGH_FOUND_NTF, "m01", peer) >= 0,
		      "no NEIGH_FOUND_NTF");
	ck_assert_msg(find_ev(evs, n, 0, ML_CMD_PORT_UP_NTF, "m01", 0) >= 0,
		      "no PORT_UP_NTF");
	pod_destroy(&p);
}
END_TEST

START_TEST(test_stats_count_hellos)
{
	struct pod p;
	uint64_t tx, rx;

	pod_create(&p, 2, HELLO, DEAD);
	pod_wait_discovered(&p, DISCOVER_MS);
	tx = stat_of(&p.nodes[0].nl, "m01", ML_STAT_TX_HELLO);
	rx = stat_of(&p.nodes[1].nl, "m10", ML_STAT_RX_HELLO);
	sleep_ms(2000);
	ck_assert_msg(stat_of(&p.nodes[0].nl, "m01", ML_STAT_TX_HELLO) > tx,
		      "TX_HELLO did not grow");
	ck_assert_msg(stat_of(&p.nodes[1].nl, "m10", ML_STAT_RX_HELLO) > rx,
		      "RX_HELLO did not grow");
	ck_assert_msg(stat_of(&p.nodes[0].nl, "m01", ML_STAT_TX_FRAMES) >=
		      stat_of(&p.nodes[0].nl, "m01", ML_STAT_TX_HELLO),
		      "TX_FRAMES < TX_HELLO");
	ck_assert_msg(stat_of(&p.nodes[0].nl, "m01", ML_STAT_TX_BYTES) >=
		      48 * stat_of(&p.nodes[0].nl, "m01", ML_STAT_TX_HELLO),
		      "TX_BYTES < 48 * TX_HELLO");
	ck_assert_uint_ge(stat_of(&p.nodes[0].nl, "m01", ML_STAT_NEIGH_FOUND), 1);
	ck_assert_uint_ge(stat_of(&p.nodes[0].nl, "m01", ML_STAT_LINK_UP), 1);
	pod_destroy(&p);
}
END_TEST

/*
 * Counters survive an unbind and a rebind of the same netdev into a
 * device of the same name (the names a scraper labels them with): once
 * with the device staying (node 0 keeps its other port) and once with
 * the device destroyed and created again.
 */
START_TEST(test_stats_monotonic_across_rebind)
{
	static const int stats[] = { ML_STAT_TX_FRAMES, ML_STAT_TX_BYTES,
				     ML_STAT_TX_HELLO, ML_STAT_RX_HELLO,
				     ML_STAT_LINK_UP, ML_STAT_NEIGH_FOUND };
	uint64_t before[ARRAY_SIZE(stats)];
	struct pod_node *n0;
	struct port_info pi;
	struct pod p;
	unsigned int i;

	pod_create(&p, 3, HELLO, DEAD);
	if (p.bridge) {
		tskip("test_stats_monotonic_across_rebind",
		      "no multi-port devices: nothing to rebind into");
		pod_destroy(&p);
		return;
	}
	pod_wait_discovered(&p, DISCOVER_MS);
	n0 = &p.nodes[0];

	/* 1: unbind m01, the device stays (m02), bind m01 back into it. */
	for (i = 0; i < ARRAY_SIZE(stats); i++)
		before[i] = stat_of(&n0->nl, "m01", stats[i]);
	ck_assert_int_eq(ml_unbind_ifname(&n0->nl, "m01"), 0);
	ml_bind_ok(&n0->nl, BIND_OPTS(.ifname = "m01", INTO(n0->dev_index)), &pi);
	ck_assert_str_eq(pi.dev_name, n0->dev_name);
	for (i = 0; i < ARRAY_SIZE(stats); i++)
		ck_assert_msg(stat_of(&n0->nl, "m01", stats[i]) >= before[i],
			      "stat %d went back from %llu to %llu on rebind",
			      stats[i], (unsigned long long)before[i],
			      (unsigned long long)stat_of(&n0->nl, "m01", stats[i]));
	/* The unbind's link-down is counted too. */
	ck_assert_uint_ge(stat_of(&n0->nl, "m01", ML_STAT_LINK_DOWN), 1);

	/* 2: unbind both ports: the device goes; bind m01 as a new device.
	 * Let a few HELLOs go out first so that a restart would show. */
	sleep_ms(1500);
	for (i = 0; i < ARRAY_SIZE(stats); i++)
		before[i] = stat_of(&n0->nl, "m01", stats[i]);
	ck_assert_int_eq(ml_unbind_ifname(&n0->nl, "m01"), 0);
	ck_assert_int_eq(ml_unbind_ifname(&n0->nl, "m02"), 0);
	ml_bind_ok(&n0->nl, BIND_OPTS(.ifname = "m01", .node_id = n0->node_id,
				      .hello_ms = HELLO, .dead_ms = DEAD), &pi);
	if (!strcmp(pi.dev_name, n0->dev_name)) {
		for (i = 0; i < ARRAY_SIZE(stats); i++)
			ck_assert_msg(stat_of(&n0->nl, "m01", stats[i]) >= before[i],
				      "stat %d of a recreated %s restarted",
				      stats[i], pi.dev_name);
	} else {
		/* Another name is another series: it starts afresh. */
		tlog("recreated device is %s, not %s", pi.dev_name, n0->dev_name);
		ck_assert_uint_lt(stat_of(&n0->nl, "m01", ML_STAT_TX_HELLO),
				  before[2]);
	}
	pod_destroy(&p);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("pod");
	TCase *tc;

	tc = tcase_new("discovery", 180);
	tcase_add_test(tc, test_discovery_netlink);
	tcase_add_test(tc, test_discovery_stat_tool);
	tcase_add_test(tc, test_discovery_library);
	tcase_add_test(tc, test_stats_count_hellos);
	tcase_add_test(tc, test_stats_monotonic_across_rebind);
	suite_add_tcase(s, tc);

	tc = tcase_new("link", 240);
	tcase_add_test(tc, test_link_down_up);
	tcase_add_test(tc, test_dead_interval_peer_unbound);
	tcase_add_test(tc, test_netem_loss_keeps_links);
	suite_add_tcase(s, tc);
	return run_suite(s, "pod");
}
