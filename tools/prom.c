// SPDX-License-Identifier: MIT
/*
 * megalink-stat --prometheus: the Prometheus text exposition format,
 * version 0.0.4 (what node_exporter's textfile collector reads).
 *
 * Every family gets # HELP and # TYPE once, its samples follow together.
 * Names start with megalink_, counters end in _total, states are gauges
 * (0/1) and the facts that are not numbers are info gauges ("..._info{...}
 * 1").  Values are printed as integers: a u64 counter is exact up to
 * 18446744073709551615, no float on the way.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "prom.h"
#include "show.h"

void prom_init(struct prom *p, FILE *f)
{
	p->f = f;
	p->family[0] = '\0';
}

void prom_escape_label(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\')
			fputs("\\\\", f);
		else if (*s == '"')
			fputs("\\\"", f);
		else if (*s == '\n')
			fputs("\\n", f);
		else
			fputc(*s, f);
	}
}

void prom_escape_help(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\')
			fputs("\\\\", f);
		else if (*s == '\n')
			fputs("\\n", f);
		else
			fputc(*s, f);
	}
}

void prom_family(struct prom *p, const char *name, const char *type, const char *help)
{
	if (!strcmp(p->family, name))
		return;
	snprintf(p->family, sizeof(p->family), "%s", name);
	fprintf(p->f, "# HELP %s ", name);
	prom_escape_help(p->f, help);
	fprintf(p->f, "\n# TYPE %s %s\n", name, type);
}

static void labels(FILE *f, const struct prom_label *l, size_t n)
{
	size_t i;

	if (!n)
		return;
	fputc('{', f);
	for (i = 0; i < n; i++) {
		fprintf(f, "%s%s=\"", i ? "," : "", l[i].name);
		prom_escape_label(f, l[i].value ? l[i].value : "");
		fputc('"', f);
	}
	fputc('}', f);
}

void prom_sample_u64(struct prom *p, const char *name, const struct prom_label *l,
		     size_t nlabels, uint64_t value)
{
	fputs(name, p->f);
	labels(p->f, l, nlabels);
	fprintf(p->f, " %" PRIu64 "\n", value);
}

void prom_sample_time(struct prom *p, const char *name, const struct prom_label *l,
		      size_t nlabels, const struct timespec *ts)
{
	fputs(name, p->f);
	labels(p->f, l, nlabels);
	fprintf(p->f, " %lld.%09ld\n", (long long)ts->tv_sec, (long)ts->tv_nsec);
}

/* ---- the snapshot ---- */

#define NL(a) (sizeof(a) / sizeof((a)[0]))

struct dev_field {
	const char *name, *help;
	size_t off;
	int u64;
	int objects;	/* only with ML_DEV_ATTR_F_OBJECTS */
};

#define DF(n, h, f, o) { "megalink_device_" n, h, offsetof(struct ml_dev_attr, f), \
	sizeof(((struct ml_dev_attr *)0)->f) == 8, o }
static const struct dev_field dev_fields[] = {
	DF("ports", "Ports bound to the device.", num_ports, 0),
	DF("hello_interval_milliseconds", "Interval between two HELLOs the device sends.",
	   hello_ms, 0),
	DF("dead_interval_milliseconds", "Silence after which a neighbour is lost.",
	   dead_ms, 0),
	DF("contexts", "Open files of /dev/megalink/<device>.", num_ctx, 1),
	DF("protection_domains", "Protection domains of the device.", num_pds, 1),
	DF("memory_regions", "Memory regions of the device.", num_mrs, 1),
	DF("completion_queues", "Completion queues of the device.", num_cqs, 1),
	DF("queue_pairs", "Queue pairs of the device.", num_qps, 1),
	DF("pinned_pages", "Pages pinned by the memory regions of the device.",
	   pinned_pages, 1),
};

static uint64_t field(const void *obj, size_t off, int u64)
{
	const char *p = (const char *)obj + off;
	uint64_t v64;
	uint32_t v32;

	if (u64) {
		memcpy(&v64, p, 8);
		return v64;
	}
	memcpy(&v32, p, 4);
	return v32;
}

static void write_devs(struct prom *p, const struct snap *s)
{
	char idx[16], node[16], abi[16], et[16], caps[24];
	size_t i, k;

	prom_family(p, "megalink_device_info", "gauge",
		    "Facts of a megalink device (always 1).");
	for (i = 0; i < s->ndevs; i++) {
		const struct ml_dev_attr *d = &s->devs[i];
		struct prom_label l[] = {
			{ "device", d->name }, { "index", idx }, { "node_id", node },
			{ "abi_version", abi }, { "ethertype", et }, { "caps", caps },
		};

		snprintf(idx, sizeof(idx), "%u", d->index);
		snprintf(node, sizeof(node), "0x%08x", d->node_id);
		snprintf(abi, sizeof(abi), "%u", d->abi_version);
		snprintf(et, sizeof(et), "0x%04x", d->ethertype);
		snprintf(caps, sizeof(caps), "0x%" PRIx64, d->caps);
		prom_sample_u64(p, "megalink_device_info", l, NL(l), 1);
	}
	for (k = 0; k < NL(dev_fields); k++) {
		const struct dev_field *df = &dev_fields[k];

		prom_family(p, df->name, "gauge", df->help);
		for (i = 0; i < s->ndevs; i++) {
			const struct ml_dev_attr *d = &s->devs[i];
			struct prom_label l[] = { { "device", d->name } };

			if (df->objects && !(d->flags & ML_DEV_ATTR_F_OBJECTS))
				continue;
			prom_sample_u64(p, df->name, l, NL(l), field(d, df->off, df->u64));
		}
	}
}

static void write_ports(struct prom *p, const struct snap *s)
{
	static const struct {
		const char *name, *help;
	} g[] = {
		{ "megalink_port_up", "1 when the port's link is up (carrier and a neighbour)." },
		{ "megalink_port_carrier", "1 when the port's netdev has carrier." },
		{ "megalink_port_mtu_bytes", "MTU of the port's netdev." },
		{ "megalink_port_neighbours", "Neighbours known on the port." },
	};
	char port[16], ifindex[16], mac[18];
	size_t i, k;

	prom_family(p, "megalink_port_info", "gauge", "Facts of a megalink port (always 1).");
	for (i = 0; i < s->nports; i++) {
		const struct ml_port_info *pi = &s->ports[i];
		struct prom_label l[] = {
			{ "device", pi->dev }, { "port", port }, { "ifname", pi->ifname },
			{ "ifindex", ifindex }, { "mac", mac },
		};

		snprintf(port, sizeof(port), "%u", pi->port_index);
		snprintf(ifindex, sizeof(ifindex), "%u", pi->ifindex);
		format_mac(mac, pi->mac);
		prom_sample_u64(p, "megalink_port_info", l, NL(l), 1);
	}
	for (k = 0; k < NL(g); k++) {
		prom_family(p, g[k].name, "gauge", g[k].help);
		for (i = 0; i < s->nports; i++) {
			const struct ml_port_info *pi = &s->ports[i];
			struct prom_label l[] = {
				{ "device", pi->dev }, { "port", port }, { "ifname", pi->ifname },
			};
			uint64_t v = k == 0 ? pi->link_state == ML_LINK_UP :
				     k == 1 ? pi->carrier != 0 :
				     k == 2 ? pi->mtu : pi->num_neigh;

			snprintf(port, sizeof(port), "%u", pi->port_index);
			prom_sample_u64(p, g[k].name, l, NL(l), v);
		}
	}
}

static void write_neighs(struct prom *p, const struct snap *s)
{
	static const struct {
		const char *name, *help;
	} g[] = {
		{ "megalink_neighbour_alive", "1 while the neighbour is known (HELLOs within its dead interval)." },
		{ "megalink_neighbour_age_milliseconds", "Time since the neighbour's last HELLO." },
		{ "megalink_neighbour_dead_interval_milliseconds", "Dead interval the neighbour asked for." },
		{ "megalink_neighbour_mtu_bytes", "MTU the neighbour advertised (0: not advertised)." },
	};
	char port[16], node[16], mac[18], rport[16], caps[24];
	size_t i, k;

	prom_family(p, "megalink_neighbour_info", "gauge",
		    "Facts of a neighbour seen on a port (always 1).");
	for (i = 0; i < s->nneighs; i++) {
		const struct ml_neigh_info *n = &s->neighs[i];
		struct prom_label l[] = {
			{ "device", n->dev }, { "port", port }, { "ifname", n->ifname },
			{ "neighbour", node }, { "mac", mac },
			{ "remote_device", n->remote_dev }, { "remote_port", rport },
			{ "caps", caps },
		};

		snprintf(port, sizeof(port), "%u", n->port_index);
		snprintf(node, sizeof(node), "0x%08x", n->node_id);
		snprintf(rport, sizeof(rport), "%u", n->remote_port);
		snprintf(caps, sizeof(caps), "0x%" PRIx64, n->caps);
		format_mac(mac, n->mac);
		prom_sample_u64(p, "megalink_neighbour_info", l, NL(l), 1);
	}
	for (k = 0; k < NL(g); k++) {
		prom_family(p, g[k].name, "gauge", g[k].help);
		for (i = 0; i < s->nneighs; i++) {
			const struct ml_neigh_info *n = &s->neighs[i];
			struct prom_label l[] = {
				{ "device", n->dev }, { "port", port }, { "ifname", n->ifname },
				{ "neighbour", node }, { "mac", mac },
			};
			uint64_t v = k == 0 ? 1 : k == 1 ? n->age_ms :
				     k == 2 ? n->dead_ms : n->mtu;

			snprintf(port, sizeof(port), "%u", n->port_index);
			snprintf(node, sizeof(node), "0x%08x", n->node_id);
			format_mac(mac, n->mac);
			prom_sample_u64(p, g[k].name, l, NL(l), v);
		}
	}
}

/* megalink_port_<counter>_total; 0 if the library's name does not make a
 * metric name ([a-z0-9_]). */
static int counter_metric(char *buf, size_t len, const char *stat)
{
	if (strspn(stat, "abcdefghijklmnopqrstuvwxyz0123456789_") != strlen(stat))
		return 0;
	return snprintf(buf, len, "megalink_port_%s_total", stat) < (int)len;
}

static void write_counters(struct prom *p, const struct snap *s)
{
	char name[128], help[160], port[16];
	unsigned int c;
	size_t i;

	for (c = 0; c < ML_LIB_STATS_SLOTS; c++) {
		const char *stat = ml_stat_name(c);

		if (!stat || !counter_metric(name, sizeof(name), stat))
			continue;
		snprintf(help, sizeof(help), "Port counter %s (megalink-stat stats).", stat);
		prom_family(p, name, "counter", help);
		for (i = 0; i < s->nstats; i++) {
			const struct ml_port_stats *st = &s->stats[i];
			struct prom_label l[] = {
				{ "device", st->dev }, { "port", port }, { "ifname", st->ifname },
			};

			snprintf(port, sizeof(port), "%u", st->port_index);
			prom_sample_u64(p, name, l, NL(l), st->stats[c]);
		}
	}
}

struct qp_field {
	const char *name, *type, *help;
	size_t off;
	int u64;
};

#define QF(n, t, h, f) { "megalink_qp_" n, t, h, offsetof(struct ml_qp_info, f), \
	sizeof(((struct ml_qp_info *)0)->f) == 8 }
static const struct qp_field qp_fields[] = {
	QF("send_psn", "gauge", "Next PSN the QP sends.", snd_psn),
	QF("send_unacked_psn", "gauge", "Oldest unacknowledged PSN of the QP.", snd_una),
	QF("receive_psn", "gauge", "Next PSN the QP expects.", rcv_psn),
	QF("outstanding", "gauge", "Send work requests posted and not completed.", outstanding),
	QF("retransmits_total", "counter", "Retransmissions of the QP.", retransmits),
	QF("timeouts_total", "counter", "Retransmission timer expiries of the QP.", timeouts),
	QF("rnr_naks_total", "counter", "Receiver-not-ready NAKs of the QP.", rnr_naks),
	QF("seq_naks_total", "counter", "Sequence NAKs of the QP.", seq_naks),
	QF("congestion_window_packets", "gauge", "Congestion window of the QP.", cwnd),
	QF("slow_start_threshold_packets", "gauge", "Slow-start threshold of the QP.",
	   ssthresh),
	QF("reorder_window_psns", "gauge",
	   "PSNs of reorder the QP's responder waits out before it NAKs a gap.", reorder_nak),
};

static void write_qps(struct prom *p, const struct snap *s)
{
	char qpn[16], port[16], node[16], rqpn[16], pid[16];
	size_t i, k;

	prom_family(p, "megalink_qp_info", "gauge",
		    "Facts of a queue pair (always 1); status: why an errored QP failed.");
	for (i = 0; i < s->nqps; i++) {
		const struct ml_qp_info *q = &s->qps[i];
		struct prom_label l[] = {
			{ "device", q->dev }, { "qp", qpn }, { "state", qp_state_upper(q->state) },
			{ "status", q->state == ML_QPS_ERROR ? ml_wc_status_str(q->status) : "" },
			{ "port", port }, { "remote_node", node }, { "remote_qp", rqpn },
			{ "pid", pid },
		};

		snprintf(qpn, sizeof(qpn), "%u", q->qpn);
		snprintf(port, sizeof(port), "%u", q->port_index);
		snprintf(node, sizeof(node), "0x%08x", q->remote_node);
		snprintf(rqpn, sizeof(rqpn), "%u", q->remote_qpn);
		snprintf(pid, sizeof(pid), "%u", q->owner_pid);
		prom_sample_u64(p, "megalink_qp_info", l, NL(l), 1);
	}
	for (k = 0; k < NL(qp_fields); k++) {
		const struct qp_field *qf = &qp_fields[k];

		prom_family(p, qf->name, qf->type, qf->help);
		for (i = 0; i < s->nqps; i++) {
			const struct ml_qp_info *q = &s->qps[i];
			struct prom_label l[] = { { "device", q->dev }, { "qp", qpn } };

			snprintf(qpn, sizeof(qpn), "%u", q->qpn);
			prom_sample_u64(p, qf->name, l, NL(l), field(q, qf->off, qf->u64));
		}
	}
}

void prom_write_snap(FILE *f, const struct snap *s, const char *version,
		     const char *lib_version)
{
	struct prom_label b[] = { { "version", version }, { "libmegalink", lib_version } };
	struct prom p;

	prom_init(&p, f);
	prom_family(&p, "megalink_build_info", "gauge",
		    "Versions of megalink-stat and libmegalink (always 1).");
	prom_sample_u64(&p, "megalink_build_info", b, NL(b), 1);
	prom_family(&p, "megalink_scrape_timestamp_seconds", "gauge",
		    "When megalink-stat read the counters (Unix time).");
	prom_sample_time(&p, "megalink_scrape_timestamp_seconds", NULL, 0, &s->real);
	write_devs(&p, s);
	write_ports(&p, s);
	write_neighs(&p, s);
	write_counters(&p, s);
	write_qps(&p, s);
}

int prom_write_file(const char *path, const char *buf, size_t len)
{
	size_t n = strlen(path), done = 0;
	char *tmp = malloc(n + 5);
	int fd, err = 0;

	if (!tmp)
		return -ENOMEM;
	memcpy(tmp, path, n);
	memcpy(tmp + n, ".tmp", 5);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		err = -errno;
		free(tmp);
		return err;
	}
	while (done < len) {
		ssize_t w = write(fd, buf + done, len - done);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			err = -errno;
			break;
		}
		done += (size_t)w;
	}
	if (!err && fsync(fd) < 0)
		err = -errno;
	if (close(fd) < 0 && !err)
		err = -errno;
	if (!err && rename(tmp, path) < 0)
		err = -errno;
	if (err)
		unlink(tmp);
	free(tmp);
	return err;
}
