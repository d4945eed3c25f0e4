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
#include <time.h>
#include <unistd.h>

#include <megalink/megalink.h>

#include "args.h"
#include "module.h"
#include "prom.h"
#include "show.h"
#include "snap.h"
#include "topo.h"
#include "watch.h"

#ifndef ML_VERSION
#define ML_VERSION "0.0.0"
#endif

static void usage(FILE *f)
{
	fputs(
"Usage: megalink-stat [OPTIONS] [OBJECT [DEV]]\n"
"       megalink-stat [OPTIONS] monitor\n"
"       megalink-stat [OPTIONS] --module\n"
"       megalink-stat --prometheus [-o FILE] [DEV]\n"
"       megalink-stat [-j] --watch[=SECONDS] [-c COUNT] [DEV]\n"
"       megalink-stat [-j | --dot | --png FILE] topo [DEV]\n"
"\n"
"OBJECT := { dev | port | neigh | stats | qp | topo | all }  (no OBJECT: summary of all)\n"
"  dev      devices: index, node id, timers, capabilities, port count, and\n"
"           data-plane objects (contexts, PDs, MRs, CQs, QPs, pinned pages)\n"
"  port     ports: netdev, link state, carrier, MTU, MAC, neighbour count\n"
"  neigh    neighbours: the nodes this node hears directly (topo: all)\n"
"  stats    per-port counters: frames, discovery (HELLOs), drops by reason,\n"
"           reliable transport (data, ACK/NAK, retransmits, timeouts, drops)\n"
"  qp       queue pairs: state, peer, PSNs, outstanding work, retransmits,\n"
"           timeouts, NAKs, owner pid, and why an errored QP failed\n"
"  topo     the whole fabric as each device sees it (link-state records\n"
"           flooded by every node): nodes, their links (port, kind, state,\n"
"           MTU), seq, age, reachability; links of this node used by live\n"
"           QPs are marked in use\n"
"  all      everything (JSON: one object with the five arrays)\n"
"  monitor  print events (port up/down, neighbour found/lost, device\n"
"           new/del, QP error, topology node join/leave and link up/down)\n"
"           as they arrive, until interrupted; alias: watch\n"
"DEV      only this device (e.g. ml0)\n"
"\n"
"OPTIONS:\n"
"  -j, --json      JSON output (monitor: one object per line)\n"
"  -p, --pretty    indented JSON\n"
"  -s, --stats     with port: add the counters of each port;\n"
"                  with --module: parameter descriptions\n"
"  -m, --module    module facts: state, version, refcount, holders, parameters\n"
"  --prometheus    every counter and state in the Prometheus text format\n"
"                  (0.0.4): metrics megalink_*, counters *_total\n"
"  -o, --output FILE  with --prometheus: write FILE atomically (FILE.tmp,\n"
"                  fsync, rename), for node_exporter's textfile collector\n"
"  --watch[=SECONDS]  per-second rates of the port counters every SECONDS\n"
"                  (default 1; 0.1 to 3600): a table on a terminal, one line\n"
"                  per port otherwise, JSON lines with -j; a counter that\n"
"                  went backwards (port rebound) shows as reset:NEW\n"
"  -c, --count N   with --watch: stop after N reports\n"
"  --dot           with topo: the fabric as a Graphviz DOT graph\n"
"  --png FILE      with topo: draw it into FILE with Graphviz dot (an error\n"
"                  if dot is not installed)\n"
"  -h, --help      this help\n"
"  -V, --version   version\n"
"\n"
"Examples: megalink-stat;  megalink-stat -j neigh;  megalink-stat port ml0;\n"
"          megalink-stat qp ml0;  megalink-stat -j monitor;  megalink-stat --module\n"
"          megalink-stat --prometheus -o /var/lib/node_exporter/megalink.prom\n"
"          megalink-stat --watch=2 -c 5 ml0\n"
"          megalink-stat -j topo;  megalink-stat --png pod.png topo\n"
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

static int run_prometheus(struct ml_ctl *ctl, const struct stat_opts *o)
{
	struct snap s;
	char *buf = NULL;
	size_t len = 0;
	FILE *mem;
	int err;

	err = snap_take(ctl, o->dev, SNAP_ALL, &s);
	if (err < 0)
		return err;
	/* built in memory: a failure never leaves half an exposition */
	mem = open_memstream(&buf, &len);
	if (!mem) {
		snap_free(&s);
		return -ENOMEM;
	}
	prom_write_snap(mem, &s, ML_VERSION, ml_version());
	snap_free(&s);
	if (fclose(mem) != 0) {
		free(buf);
		return -ENOMEM;
	}
	if (o->outfile) {
		err = prom_write_file(o->outfile, buf, len);
		if (err < 0)
			fprintf(stderr, "megalink-stat: %s: %s\n", o->outfile, ml_strerror(err));
	} else if (fwrite(buf, 1, len, stdout) != len) {
		fprintf(stderr, "megalink-stat: write error\n");
		err = -EIO;
	}
	free(buf);
	return err < 0 ? 1 : 0;
}

static int run_watch(struct ml_ctl *ctl, const struct stat_opts *o)
{
	enum watch_mode mode = o->out.json ? WATCH_JSON :
			       isatty(STDOUT_FILENO) ? WATCH_TABLE : WATCH_LINES;
	struct snap prev, cur;
	struct sigaction sa;
	struct timespec ts;
	uint32_t done = 0;
	int err;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	err = snap_take(ctl, o->dev, SNAP_STATS, &prev);
	if (err < 0) {
		fprintf(stderr, "megalink-stat: %s\n", ml_last_error());
		return 1;
	}
	ts.tv_sec = (time_t)o->interval;
	ts.tv_nsec = (long)((o->interval - (double)ts.tv_sec) * 1e9);
	while (!stop && (!o->count || done < o->count)) {
		if (nanosleep(&ts, NULL) < 0 && stop)
			break;
		err = snap_take(ctl, o->dev, SNAP_STATS, &cur);
		if (err < 0) {
			fprintf(stderr, "megalink-stat: %s\n", ml_last_error());
			snap_free(&prev);
			return 1;
		}
		watch_report(stdout, mode, &prev, &cur);
		if (ferror(stdout)) {
			fprintf(stderr, "megalink-stat: write error\n");
			snap_free(&cur);
			snap_free(&prev);
			return 1;
		}
		snap_free(&prev);
		prev = cur;
		done++;
	}
	snap_free(&prev);
	return 0;
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
	if (o.prometheus || o.watch) {
		r = o.prometheus ? run_prometheus(ctl, &o) : run_watch(ctl, &o);
		if (r < 0) {
			fprintf(stderr, "megalink-stat: %s\n", ml_last_error());
			r = 1;
		}
		ml_ctl_close(ctl);
		return r;
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
	case OBJ_TOPO:
		r = show_topo(ctl, &out, o.dev,
			      o.png ? TOPO_PNG : o.dot ? TOPO_DOT : TOPO_TEXT, o.png);
		if (r > 0) {
			ml_ctl_close(ctl);
			return 1;
		}
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
