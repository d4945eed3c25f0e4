// SPDX-License-Identifier: MIT
/*
 * megalink-stat: devices, ports, neighbours (the pod topology as this node
 * sees it), counters, events and module facts.  iproute2 conventions.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <megalink/megalink.h>

#include "args.h"
#include "module.h"
#include "show.h"

#ifndef ML_VERSION
#define ML_VERSION "0.0.0"
#endif

static void usage(FILE *f)
{
	fputs(
"Usage: megalink-stat [OPTIONS] [OBJECT [DEV]]\n"
"       megalink-stat [OPTIONS] monitor\n"
"       megalink-stat [OPTIONS] --module\n"
"\n"
"OBJECT := { dev | port | neigh | stats | qp | all }  (no OBJECT: summary of all)\n"
"  dev      devices: index, node id, timers, capabilities, port count, and\n"
"           data-plane objects (contexts, PDs, MRs, CQs, QPs, pinned pages)\n"
"  port     ports: netdev, link state, carrier, MTU, MAC, neighbour count\n"
"  neigh    neighbours: the pod topology as this node sees it\n"
"  stats    per-port counters: frames, discovery (HELLOs), drops by reason,\n"
"           reliable transport (data, ACK/NAK, retransmits, timeouts, drops)\n"
"  qp       queue pairs: state, peer, PSNs, outstanding work, retransmits,\n"
"           timeouts, NAKs, owner pid, and why an errored QP failed\n"
"  all      everything (JSON: one object with the five arrays)\n"
"  monitor  print events (port up/down, neighbour found/lost, device\n"
"           new/del, QP error) as they arrive, until interrupted; alias: watch\n"
"DEV      only this device (e.g. ml0)\n"
"\n"
"OPTIONS:\n"
"  -j, --json      JSON output (monitor: one object per line)\n"
"  -p, --pretty    indented JSON\n"
"  -s, --stats     with port: add the counters of each port;\n"
"                  with --module: parameter descriptions\n"
"  -m, --module    module facts: state, version, refcount, holders, parameters\n"
"  -h, --help      this help\n"
"  -V, --version   version\n"
"\n"
"Examples: megalink-stat;  megalink-stat -j neigh;  megalink-stat port ml0;\n"
"          megalink-stat qp ml0;  megalink-stat -j monitor;  megalink-stat --module\n"
"See megalink-stat(8).\n", f);
}

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int run_monitor(struct out *out)
{
	struct sigaction sa;
	struct ml_monitor *mon;
	struct ml_event ev;
	struct pollfd pfd;
	int err;

	err = ml_monitor_open(&mon);
	if (err < 0)
		return err;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;	/* no SA_RESTART: poll() returns EINTR */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	setvbuf(stdout, NULL, _IOLBF, 0);

	pfd.fd = ml_monitor_fd(mon);
	pfd.events = POLLIN;
	while (!stop) {
		err = ml_monitor_read(mon, &ev);
		if (err == 0) {
			print_event(out, &ev);
			continue;
		}
		if (err == -ENOBUFS) {
			fprintf(stderr, "megalink-stat: %s\n", ml_last_error());
			continue;
		}
		if (err != -EAGAIN)
			break;
		err = 0;
		if (poll(&pfd, 1, -1) < 0 && errno != EINTR) {
			err = -errno;
			fprintf(stderr, "megalink-stat: monitor: poll: %s\n", ml_strerror(err));
			ml_monitor_close(mon);
			return 1;
		}
	}
	ml_monitor_close(mon);
	return err < 0 && err != -EAGAIN ? err : 0;
}

int main(int argc, char **argv)
{
	struct stat_opts o;
	struct ml_ctl *ctl;
	struct out out;
	char err[256];
	int r;

	if (stat_parse_args(argc, argv, &o, err, sizeof(err)) < 0) {
		fprintf(stderr, "megalink-stat: %s\n", err);
		return 2;
	}
	if (o.help) {
		usage(stdout);
		return 0;
	}
	if (o.version) {
		printf("megalink-stat %s (libmegalink %s)\n", ML_VERSION, ml_version());
		return 0;
	}
	out_init(&out, &o.out, stdout);

	if (o.obj == OBJ_MODULE)
		return show_module(&out, "megalink") < 0 ? 1 : 0;
	if (o.obj == OBJ_MONITOR) {
		r = run_monitor(&out);
		if (r < 0) {
			fprintf(stderr, "megalink-stat: %s\n", ml_last_error());
			return 1;
		}
		return 0;
	}

	r = ml_ctl_open(&ctl);
	if (r < 0) {
		fprintf(stderr, "megalink-stat: %s\n", ml_last_error());
		return 1;
	}
	switch (o.obj) {
	case OBJ_DEV:
		r = show_devs(ctl, &out, o.dev);
		break;
	case OBJ_PORT:
		r = show_ports(ctl, &out, o.dev);
		break;
	case OBJ_NEIGH:
		r = show_neighs(ctl, &out, o.dev);
		break;
	case OBJ_STATS:
		r = show_stats(ctl, &out, o.dev);
		break;
	case OBJ_QP:
		r = show_qps(ctl, &out, o.dev);
		break;
	default:
		r = show_all(ctl, &out, o.dev);
		break;
	}
	ml_ctl_close(ctl);
	if (fflush(stdout) != 0 && !r) {
		fprintf(stderr, "megalink-stat: write error\n");
		return 1;
	}
	if (r < 0) {
		fprintf(stderr, "megalink-stat: %s\n", ml_last_error());
		return 1;
	}
	return 0;
}
