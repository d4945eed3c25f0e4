// SPDX-License-Identifier: MIT
/*
 * megalink: administer megalink devices and ports (as `ip`/`rdma link`).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <megalink/megalink.h>

#include "args.h"
#include "conf.h"
#include "show.h"
#include "snap.h"

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
"  megalink apply [--dry-run] [--prune | --iface IFNAME] [FILE|DIR ...]\n"
"        make the running state what megalink.conf(5) files describe\n"
"        (default /etc/megalink/*.conf)\n"
"  megalink show --config [DEV]\n"
"        the running state in the format of megalink.conf(5)\n"
"  megalink peer add DEV ADDR [local ADDR]\n"
"        send megalink frames to ADDR (IPv4 or IPv6, e.g. fd00::7) in UDP\n"
"        (routed, outside the broadcast domain); its HELLO reply makes it\n"
"        a neighbour.  local ADDR: the source address, same family\n"
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
"kernel refused (one line on stderr says why), 2 on a usage error,\n"
"3 on a configuration error (apply: FILE:LINE: message).\n"
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

/* ---- megalink.conf(5) ---- */

#define CONF_DEFAULT_DIR	"/etc/megalink"

static int ifflags(const char *ifname, short *flags, int set)
{
	struct ifreq ifr;
	int fd, r;

	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	r = ioctl(fd, SIOCGIFFLAGS, &ifr);
	if (!r && set) {
		ifr.ifr_flags |= IFF_UP;
		r = ioctl(fd, SIOCSIFFLAGS, &ifr);
	}
	if (r)
		r = -errno;
	else
		*flags = ifr.ifr_flags;
	close(fd);
	return r;
}

static int netdev_state(const char *ifname, void *arg)
{
	short flags;

	(void)arg;
	if (!if_nametoindex(ifname))
		return -1;
	if (ifflags(ifname, &flags, 0))
		return 1;	/* let the kernel say what is wrong */
	return (flags & IFF_UP) ? 1 : 0;
}

/* Carry out one action; names[] holds the name each config device got. */
static int run_action(struct ml_ctl *ctl, const struct conf_action *a,
		      char (*names)[ML_DEV_NAME_LEN])
{
	struct ml_dev_set_opts so;
	struct ml_bind_opts bo;
	struct ml_port_info p;
	short flags;
	int r;

	switch (a->type) {
	case CONF_ACT_SET:
		memset(&so, 0, sizeof(so));
		so.node_id = a->node_id;
		so.hello_ms = a->hello_ms;
		so.dead_ms = a->dead_ms;
		so.force = a->force;	/* CONF_SET_* are ML_OPT_* */
		return ml_ctl_dev_set(ctl, a->dev, &so);
	case CONF_ACT_BIND_NEW:
	case CONF_ACT_BIND:
		memset(&bo, 0, sizeof(bo));
		if (a->type == CONF_ACT_BIND) {
			bo.dev = a->cdev >= 0 && names[a->cdev][0] ? names[a->cdev] : a->dev;
		} else {
			bo.node_id = a->node_id;
			bo.hello_ms = a->hello_ms;
			bo.dead_ms = a->dead_ms;
			bo.force = a->force;
		}
		r = ml_ctl_bind(ctl, a->ifname, &bo, &p);
		if (r < 0)
			return r;
		if (a->cdev >= 0)
			memcpy(names[a->cdev], p.dev, ML_DEV_NAME_LEN);
		if (a->type == CONF_ACT_BIND_NEW && strcmp(p.dev, a->dev))
			printf("# dev %s was created as %s (the kernel chooses names; "
			       "a node-id identifies it)\n", a->dev, p.dev);
		return 0;
	case CONF_ACT_UNBIND:
		return ml_ctl_unbind(ctl, a->ifname);
	case CONF_ACT_UP:
		r = ifflags(a->ifname, &flags, 1);
		if (r < 0)
			fprintf(stderr, "megalink: apply: set link %s up: %s\n",
				a->ifname, strerror(-r));
		return r < 0 ? 1 : 0;
	case CONF_ACT_PEER_ADD:
	case CONF_ACT_PEER_DEL: {
		const char *dev = a->cdev >= 0 && names[a->cdev][0] ? names[a->cdev] : a->dev;

		if (a->type == CONF_ACT_PEER_DEL)
			return ml_ctl_peer_del(ctl, dev, a->addr);
		return ml_ctl_peer_add(ctl, dev, a->addr, a->local[0] ? a->local : NULL);
	}
	case CONF_ACT_NOTE:
		break;
	}
	return 0;
}

/* The running UDP peers of @dev (NULL: all) as conf_diff() compares them. */
static int running_peers(struct ml_ctl *ctl, const char *dev, struct conf_rpeer **out,
			 size_t *n)
{
	struct ml_peer_entry *pi = NULL;
	static const uint8_t zero[16];
	size_t i, np = 0;
	int r;

	*out = NULL;
	*n = 0;
	r = ml_ctl_peer_list(ctl, dev, &pi, &np);
	if (r < 0)
		return r;
	*out = calloc(np + 1, sizeof(**out));
	if (!*out) {
		free(pi);
		return -ENOMEM;
	}
	for (i = 0; i < np; i++) {
		struct conf_rpeer *c = &(*out)[i];

		snprintf(c->dev, sizeof(c->dev), "%s", pi[i].dev);
		inet_ntop(pi[i].family, pi[i].addr, c->addr, sizeof(c->addr));
		if (memcmp(pi[i].local, zero, sizeof(zero)))
			inet_ntop(pi[i].family, pi[i].local, c->local,
				  sizeof(c->local));
	}
	*n = np;
	free(pi);
	return 0;
}

static int do_apply(const struct admin_opts *a)
{
	char (*names)[ML_DEV_NAME_LEN] = NULL;
	struct conf_rpeer *rpeers = NULL;
	struct conf_diff_opts dopt;
	size_t nrpeers = 0;
	struct snap run = { 0 };
	struct conf_plan plan;
	size_t i;
	struct ml_ctl *ctl;
	struct conf c;
	int r, ret = 0;

	conf_init(&c);
	/* no /etc/megalink is an empty configuration; a named file must exist */
	if (!a->npaths && access(CONF_DEFAULT_DIR, F_OK) == 0)
		conf_parse_path(&c, CONF_DEFAULT_DIR);
	for (i = 0; i < (size_t)a->npaths; i++)
		conf_parse_path(&c, a->paths[i]);
	if (!c.nerrs)
		conf_finish(&c);
	if (c.nerrs) {
		for (i = 0; i < c.nerrs; i++)
			fprintf(stderr, "%s\n", c.errs[i]);
		fprintf(stderr, "megalink: apply: %zu error%s, nothing applied\n",
			c.nerrs, c.nerrs == 1 ? "" : "s");
		conf_free(&c);
		return 3;
	}

	r = ml_ctl_open(&ctl);
	if (r < 0) {
		fprintf(stderr, "megalink: %s\n", ml_last_error());
		conf_free(&c);
		return 1;
	}
	r = snap_take(ctl, NULL, SNAP_DEVS | SNAP_PORTS, &run);
	if (r < 0) {
		fprintf(stderr, "megalink: apply: %s\n", ml_last_error());
		ret = 1;
		goto out;
	}
	r = running_peers(ctl, NULL, &rpeers, &nrpeers);
	if (r < 0) {
		fprintf(stderr, "megalink: apply: peers: %s\n", ml_last_error());
		ret = 1;
		goto out;
	}
	memset(&dopt, 0, sizeof(dopt));
	dopt.peers = rpeers;
	dopt.npeers = nrpeers;
	dopt.prune = a->prune;
	dopt.iface = a->iface;
	dopt.netdev = netdev_state;
	if (conf_diff(&c, run.devs, run.ndevs, run.ports, run.nports, &dopt,
		      &plan) < 0) {
		fprintf(stderr, "megalink: apply: out of memory\n");
		ret = 1;
		goto out;
	}
	names = calloc(c.ndevs + 1, sizeof(*names));
	if (!names) {
		fprintf(stderr, "megalink: apply: out of memory\n");
		ret = 1;
		goto out_plan;
	}
	if (!conf_plan_changes(&plan) && !a->iface)
		printf("nothing to do\n");
	for (i = 0; i < plan.nacts; i++) {
		const struct conf_action *act = &plan.acts[i];

		conf_action_print(stdout, act);
		fflush(stdout);
		if (a->dry_run)
			continue;
		r = run_action(ctl, act, names);
		if (r == 1) {
			ret = 1;
			break;
		}
		if (r < 0) {
			fprintf(stderr, "megalink: apply: %s\n", ml_last_error());
			ret = 1;
			break;
		}
	}
	free(names);
out_plan:
	conf_plan_free(&plan);
out:
	free(rpeers);
	snap_free(&run);
	ml_ctl_close(ctl);
	conf_free(&c);
	return ret;
}

/* The running state of @dev (NULL: all) in the format of megalink.conf(5). */
static int do_show_config(struct ml_ctl *ctl, const char *dev)
{
	struct conf_rpeer *peers;
	size_t npeers;
	struct snap run;
	size_t i, j;
	int r;

	r = snap_take(ctl, dev, SNAP_DEVS | SNAP_PORTS, &run);
	if (r < 0)
		return r;
	r = running_peers(ctl, dev, &peers, &npeers);
	if (r < 0) {
		snap_free(&run);
		return r;
	}
	for (i = 0; i < run.ndevs; i++) {
		conf_print_dev(stdout, &run.devs[i]);
		for (j = 0; j < run.nports; j++)
			if (!strcmp(run.ports[j].dev, run.devs[i].name))
				conf_print_port(stdout, &run.ports[j]);
		for (j = 0; j < npeers; j++)
			if (!strcmp(peers[j].dev, run.devs[i].name))
				conf_print_peer(stdout, &peers[j]);
	}
	free(peers);
	snap_free(&run);
	return 0;
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
	if (a.cmd == ADM_APPLY)
		return do_apply(&a);
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
	case ADM_SHOW_CONFIG:
		r = do_show_config(ctl, a.dev);
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
