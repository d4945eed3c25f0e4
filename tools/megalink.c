// SPDX-License-Identifier: MIT
/*
 * megalink: administer megalink devices and ports (as `ip`/`rdma link`).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <megalink/megalink.h>

#include "args.h"
#include "show.h"

#ifndef ML_VERSION
#define ML_VERSION "0.0.0"
#endif

static void usage(FILE *f)
{
	fputs(
"Usage: megalink [OPTIONS] OBJECT COMMAND [ARGS]\n"
"\n"
"  megalink port bind IFNAME [dev DEV] [node-id N] [hello MS] [dead MS]\n"
"        bind Ethernet netdev IFNAME as a port; without dev DEV a new device\n"
"        is created (node-id only applies to a new device)\n"
"  megalink port unbind { IFNAME | dev DEV port N }\n"
"  megalink port show [DEV]\n"
"  megalink dev set DEV [node-id N] [hello MS] [dead MS]\n"
"  megalink dev show [DEV]\n"
"  megalink neigh show [DEV]\n"
"  megalink stats show [DEV]\n"
"  megalink qp show [DEV]\n"
"  megalink peer add DEV ADDR [local ADDR]\n"
"        send megalink frames to IPv4 ADDR in UDP (routed, outside the\n"
"        broadcast domain); its HELLO reply makes it a neighbour\n"
"  megalink peer del DEV ADDR\n"
"  megalink peer show [DEV]\n"
"\n"
"  N   node id, decimal or 0x hex, 1..0xfffffffe\n"
"  MS  milliseconds (hello 10..60000, dead 30..600000, dead >= 2 * hello)\n"
"\n"
"OPTIONS (before OBJECT):\n"
"  -j, --json      JSON output     -p, --pretty    indented JSON\n"
"  -s, --stats     port show: add counters\n"
"  -h, --help      this help       -V, --version   version\n"
"\n"
"Changing state needs CAP_NET_ADMIN.  Exit status 0 on success, 1 when the\n"
"kernel refused (one line on stderr says why), 2 on a usage error.\n"
"See megalink(8).\n", f);
}

static int do_bind(struct ml_ctl *ctl, const struct admin_opts *a, struct out *out)
{
	struct ml_bind_opts bo;
	struct ml_port_info p;
	int err;

	memset(&bo, 0, sizeof(bo));
	bo.dev = a->dev;
	bo.node_id = a->node_id;
	bo.hello_ms = a->hello_ms;
	bo.dead_ms = a->dead_ms;
	if (a->set & ADM_SET_HELLO)
		bo.force |= ML_OPT_HELLO_MS;
	if (a->set & ADM_SET_DEAD)
		bo.force |= ML_OPT_DEAD_MS;
	if (a->set & ADM_SET_NODE_ID)
		bo.force |= ML_OPT_NODE_ID;
	err = ml_ctl_bind(ctl, a->ifname, &bo, &p);
	if (err < 0)
		return err;
	if (out->o.json) {
		jw_begin_array(&out->jw);
		print_port(out, &p, NULL);
		jw_end_array(&out->jw);
		jw_end_line(&out->jw);
	} else {
		print_port(out, &p, NULL);
	}
	return 0;
}

static int do_dev_set(struct ml_ctl *ctl, const struct admin_opts *a)
{
	struct ml_dev_set_opts so;

	memset(&so, 0, sizeof(so));
	so.node_id = a->node_id;
	so.hello_ms = a->hello_ms;
	so.dead_ms = a->dead_ms;
	if (a->set & ADM_SET_NODE_ID)
		so.force |= ML_OPT_NODE_ID;
	if (a->set & ADM_SET_HELLO)
		so.force |= ML_OPT_HELLO_MS;
	if (a->set & ADM_SET_DEAD)
		so.force |= ML_OPT_DEAD_MS;
	return ml_ctl_dev_set(ctl, a->dev, &so);
}

int main(int argc, char **argv)
{
	struct admin_opts a;
	struct ml_ctl *ctl;
	struct out out;
	char err[256];
	int r;

	if (admin_parse_args(argc, argv, &a, err, sizeof(err)) < 0) {
		fprintf(stderr, "megalink: %s\n", err);
		return 2;
	}
	if (a.help) {
		usage(stdout);
		return 0;
	}
	if (a.version) {
		printf("megalink %s (libmegalink %s)\n", ML_VERSION, ml_version());
		return 0;
	}
	out_init(&out, &a.out, stdout);

	r = ml_ctl_open(&ctl);
	if (r < 0) {
		fprintf(stderr, "megalink: %s\n", ml_last_error());
		return 1;
	}
	switch (a.cmd) {
	case ADM_PORT_BIND:
		r = do_bind(ctl, &a, &out);
		break;
	case ADM_PORT_UNBIND:
		r = a.ifname ? ml_ctl_unbind(ctl, a.ifname)
			     : ml_ctl_unbind_port(ctl, a.dev, a.port_index);
		break;
	case ADM_DEV_SET:
		r = do_dev_set(ctl, &a);
		break;
	case ADM_DEV_SHOW:
		r = show_devs(ctl, &out, a.dev);
		break;
	case ADM_PORT_SHOW:
		r = show_ports(ctl, &out, a.dev);
		break;
	case ADM_NEIGH_SHOW:
		r = show_neighs(ctl, &out, a.dev);
		break;
	case ADM_STATS_SHOW:
		r = show_stats(ctl, &out, a.dev);
		break;
	case ADM_QP_SHOW:
		r = show_qps(ctl, &out, a.dev);
		break;
	case ADM_PEER_ADD:
		r = ml_ctl_peer_add(ctl, a.dev, a.addr, a.local);
		break;
	case ADM_PEER_DEL:
		r = ml_ctl_peer_del(ctl, a.dev, a.addr);
		break;
	case ADM_PEER_SHOW:
		r = show_peers(ctl, &out, a.dev);
		break;
	default:
		r = -EINVAL;
		break;
	}
	ml_ctl_close(ctl);
	fflush(stdout);
	if (r < 0) {
		fprintf(stderr, "megalink: %s\n", ml_last_error());
		return 1;
	}
	return 0;
}
