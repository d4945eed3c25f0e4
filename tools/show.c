// SPDX-License-Identifier: MIT
/*
 * Text and JSON output of megalink objects.
 *
 * Text follows iproute2's rdma/ip: one line per object, "key value" pairs,
 * the object named first ("port ml0/1 ifname eth1 state up ...").  JSON
 * keys are stable (see megalink-stat(8)).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "show.h"

void out_init(struct out *out, const struct out_opts *o, FILE *f)
{
	out->o = *o;
	out->f = f;
	jw_init(&out->jw, f, o->pretty);
}

void format_mac(char buf[18], const uint8_t m[6])
{
	snprintf(buf, 18, "%02x:%02x:%02x:%02x:%02x:%02x",
		 m[0], m[1], m[2], m[3], m[4], m[5]);
}

/* ---- JSON ---- */

void json_dev_fields(struct jw *w, const struct ml_dev_attr *d)
{
	jw_kstr(w, "dev", d->name);
	jw_kuint(w, "index", d->index);
	jw_kuint(w, "node_id", d->node_id);
	jw_kuint(w, "hello_ms", d->hello_ms);
	jw_kuint(w, "dead_ms", d->dead_ms);
	jw_kuint(w, "caps", d->caps);
	jw_kuint(w, "abi_version", d->abi_version);
	jw_kuint(w, "ethertype", d->ethertype);
	jw_kuint(w, "ports", d->num_ports);
}

void json_port_fields(struct jw *w, const struct ml_port_info *p)
{
	char mac[18];

	format_mac(mac, p->mac);
	jw_kstr(w, "dev", p->dev);
	jw_kuint(w, "port", p->port_index);
	jw_kstr(w, "ifname", p->ifname);
	jw_kuint(w, "ifindex", p->ifindex);
	jw_kstr(w, "state", p->link_state == ML_LINK_UP ? "up" : "down");
	jw_kbool(w, "carrier", p->carrier);
	jw_kuint(w, "mtu", p->mtu);
	jw_kstr(w, "mac", mac);
	jw_kuint(w, "neighbours", p->num_neigh);
}

void json_neigh_fields(struct jw *w, const struct ml_neigh_info *n)
{
	char mac[18];

	format_mac(mac, n->mac);
	jw_kstr(w, "dev", n->dev);
	jw_kuint(w, "port", n->port_index);
	jw_kstr(w, "ifname", n->ifname);
	jw_kuint(w, "node_id", n->node_id);
	jw_kstr(w, "remote_dev", n->remote_dev);
	jw_kuint(w, "remote_port", n->remote_port);
	jw_kstr(w, "mac", mac);
	jw_kuint(w, "age_ms", n->age_ms);
	jw_kuint(w, "dead_ms", n->dead_ms);
	jw_kuint(w, "caps", n->caps);
}

static void json_counters(struct jw *w, const struct ml_port_stats *s)
{
	unsigned int i;

	for (i = 0; i < ML_LIB_STATS_SLOTS; i++) {
		const char *name = ml_stat_name(i);

		if (name)
			jw_kuint(w, name, s->stats[i]);
	}
}

void json_stats_fields(struct jw *w, const struct ml_port_stats *s)
{
	jw_kstr(w, "dev", s->dev);
	jw_kuint(w, "port", s->port_index);
	jw_kstr(w, "ifname", s->ifname);
	json_counters(w, s);
}

/* ---- text ---- */

static void text_dev(FILE *f, const struct ml_dev_attr *d)
{
	fprintf(f, "dev %s index %u node-id 0x%08x ports %u hello %ums dead %ums "
		"caps 0x%" PRIx64 " abi %u ethertype 0x%04x",
		d->name, d->index, d->node_id, d->num_ports, d->hello_ms, d->dead_ms,
		d->caps, d->abi_version, d->ethertype);
}

static void text_port(FILE *f, const struct ml_port_info *p)
{
	char mac[18];

	format_mac(mac, p->mac);
	fprintf(f, "port %s/%u ifname %s ifindex %u state %s carrier %s mtu %u "
		"mac %s neighbours %u",
		p->dev, p->port_index, p->ifname, p->ifindex,
		p->link_state == ML_LINK_UP ? "up" : "down",
		p->carrier ? "on" : "off", p->mtu, mac, p->num_neigh);
}

static void text_neigh(FILE *f, const struct ml_neigh_info *n)
{
	char mac[18];

	format_mac(mac, n->mac);
	fprintf(f, "neigh %s/%u ifname %s node-id 0x%08x remote %s/%u mac %s "
		"age %ums dead %ums caps 0x%" PRIx64,
		n->dev, n->port_index, n->ifname, n->node_id,
		n->remote_dev[0] ? n->remote_dev : "?", n->remote_port, mac,
		n->age_ms, n->dead_ms, n->caps);
}

static void text_counters(FILE *f, const struct ml_port_stats *s)
{
	unsigned int i, col = 0;

	for (i = 0; i < ML_LIB_STATS_SLOTS; i++) {
		const char *name = ml_stat_name(i);

		if (!name)
			continue;
		if (col % 6 == 0)
			fputs(col ? "\n    " : "    ", f);
		else
			fputc(' ', f);
		fprintf(f, "%s %" PRIu64, name, s->stats[i]);
		col++;
	}
	fputc('\n', f);
}

/* ---- objects ---- */

void print_dev(struct out *out, const struct ml_dev_attr *d)
{
	if (out->o.json) {
		jw_begin_object(&out->jw);
		json_dev_fields(&out->jw, d);
		jw_end_object(&out->jw);
		return;
	}
	text_dev(out->f, d);
	fputc('\n', out->f);
}

void print_port(struct out *out, const struct ml_port_info *p, const struct ml_port_stats *s)
{
	if (out->o.json) {
		jw_begin_object(&out->jw);
		json_port_fields(&out->jw, p);
		if (s) {
			jw_key(&out->jw, "stats");
			jw_begin_object(&out->jw);
			json_counters(&out->jw, s);
			jw_end_object(&out->jw);
		}
		jw_end_object(&out->jw);
		return;
	}
	text_port(out->f, p);
	fputc('\n', out->f);
	if (s)
		text_counters(out->f, s);
}

void print_neigh(struct out *out, const struct ml_neigh_info *n)
{
	if (out->o.json) {
		jw_begin_object(&out->jw);
		json_neigh_fields(&out->jw, n);
		jw_end_object(&out->jw);
		return;
	}
	text_neigh(out->f, n);
	fputc('\n', out->f);
}

void print_stats(struct out *out, const struct ml_port_stats *s)
{
	if (out->o.json) {
		jw_begin_object(&out->jw);
		json_stats_fields(&out->jw, s);
		jw_end_object(&out->jw);
		return;
	}
	fprintf(out->f, "stats %s/%u ifname %s\n", s->dev, s->port_index, s->ifname);
	text_counters(out->f, s);
}

void print_event(struct out *out, const struct ml_event *ev)
{
	const char *name = ml_event_name(ev->type);
	int port_ev = ev->type == ML_EV_PORT_UP || ev->type == ML_EV_PORT_DOWN;
	int neigh_ev = ev->type == ML_EV_NEIGH_FOUND || ev->type == ML_EV_NEIGH_LOST;

	if (out->o.json) {
		struct jw *w = &out->jw;

		jw_begin_object(w);
		jw_kstr(w, "event", name);
		if (port_ev)
			json_port_fields(w, &ev->port);
		else if (neigh_ev)
			json_neigh_fields(w, &ev->neigh);
		else
			json_dev_fields(w, &ev->dev);
		jw_kstr(w, "reason", ml_reason_name(ev->reason));
		jw_end_object(w);
		jw_end_line(w);
		return;
	}
	fprintf(out->f, "%s ", name);
	if (port_ev)
		text_port(out->f, &ev->port);
	else if (neigh_ev)
		text_neigh(out->f, &ev->neigh);
	else
		text_dev(out->f, &ev->dev);
	if (port_ev)
		fprintf(out->f, " reason %s", ml_reason_name(ev->reason));
	fputc('\n', out->f);
}

/* ---- fetch and show ---- */

static int list_devs(struct ml_ctl *ctl, struct out *out, const char *dev)
{
	struct ml_dev_attr *d = NULL, one;
	size_t n = 0, i;
	int err;

	if (dev) {
		err = ml_ctl_dev_get(ctl, dev, &one);
		if (err < 0)
			return err;
		print_dev(out, &one);
		return 0;
	}
	err = ml_ctl_devices(ctl, &d, &n);
	if (err < 0)
		return err;
	for (i = 0; i < n; i++)
		print_dev(out, &d[i]);
	ml_free(d);
	return 0;
}

static const struct ml_port_stats *find_stats(const struct ml_port_stats *s, size_t n,
					      const struct ml_port_info *p)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (s[i].dev_index == p->dev_index && s[i].port_index == p->port_index)
			return &s[i];
	return NULL;
}

static int list_ports(struct ml_ctl *ctl, struct out *out, const char *dev)
{
	struct ml_port_stats *s = NULL;
	struct ml_port_info *p = NULL;
	size_t n = 0, ns = 0, i;
	int err;

	err = ml_ctl_ports(ctl, dev, &p, &n);
	if (err < 0)
		return err;
	if (out->o.stats) {
		err = ml_ctl_stats(ctl, dev, &s, &ns);
		if (err < 0) {
			ml_free(p);
			return err;
		}
	}
	for (i = 0; i < n; i++) {
		const struct ml_port_stats *st = NULL;
		static const struct ml_port_stats zero;

		if (out->o.stats) {
			st = find_stats(s, ns, &p[i]);
			if (!st)
				st = &zero;
		}
		print_port(out, &p[i], st);
	}
	ml_free(p);
	ml_free(s);
	return 0;
}

static int list_neighs(struct ml_ctl *ctl, struct out *out, const char *dev)
{
	struct ml_neigh_info *nb = NULL;
	size_t n = 0, i;
	int err;

	err = ml_ctl_neighbours(ctl, dev, &nb, &n);
	if (err < 0)
		return err;
	for (i = 0; i < n; i++)
		print_neigh(out, &nb[i]);
	ml_free(nb);
	return 0;
}

static int list_stats(struct ml_ctl *ctl, struct out *out, const char *dev)
{
	struct ml_port_stats *s = NULL;
	size_t n = 0, i;
	int err;

	err = ml_ctl_stats(ctl, dev, &s, &n);
	if (err < 0)
		return err;
	for (i = 0; i < n; i++)
		print_stats(out, &s[i]);
	ml_free(s);
	return 0;
}

/*
 * JSON is built in memory and written only on success, so that a failure
 * never leaves half a document on stdout (only the error line on stderr).
 */
struct held {
	FILE *real;
	FILE *mem;
	char *buf;
	size_t len;
};

static int hold_begin(struct out *out, struct held *h)
{
	h->real = out->f;
	h->buf = NULL;
	h->len = 0;
	h->mem = open_memstream(&h->buf, &h->len);
	if (!h->mem)
		return -ENOMEM;
	out->f = out->jw.f = h->mem;
	return 0;
}

static void hold_end(struct out *out, struct held *h, int ok)
{
	fclose(h->mem);
	out->f = out->jw.f = h->real;
	if (ok && h->buf)
		fwrite(h->buf, 1, h->len, h->real);
	free(h->buf);
}

static int wrap_array(struct ml_ctl *ctl, struct out *out, const char *dev,
		      int (*list)(struct ml_ctl *, struct out *, const char *))
{
	struct held h;
	int err;

	if (!out->o.json)
		return list(ctl, out, dev);
	if (hold_begin(out, &h) < 0)
		return list(ctl, out, dev);
	jw_begin_array(&out->jw);
	err = list(ctl, out, dev);
	jw_end_array(&out->jw);
	jw_end_line(&out->jw);
	hold_end(out, &h, err == 0);
	return err;
}

int show_devs(struct ml_ctl *ctl, struct out *out, const char *dev)
{
	return wrap_array(ctl, out, dev, list_devs);
}

int show_ports(struct ml_ctl *ctl, struct out *out, const char *dev)
{
	return wrap_array(ctl, out, dev, list_ports);
}

int show_neighs(struct ml_ctl *ctl, struct out *out, const char *dev)
{
	return wrap_array(ctl, out, dev, list_neighs);
}

int show_stats(struct ml_ctl *ctl, struct out *out, const char *dev)
{
	return wrap_array(ctl, out, dev, list_stats);
}

int show_all(struct ml_ctl *ctl, struct out *out, const char *dev)
{
	static const struct {
		const char *key;
		int (*list)(struct ml_ctl *, struct out *, const char *);
	} sec[] = {
		{ "devices", list_devs },
		{ "ports", list_ports },
		{ "neighbours", list_neighs },
		{ "stats", list_stats },
	};
	struct out_opts saved = out->o;
	int err = 0, held = 0;
	unsigned int i;
	struct held h;

	/* the stats section already has the counters */
	out->o.stats = 0;
	if (out->o.json) {
		held = hold_begin(out, &h) == 0;
		jw_begin_object(&out->jw);
	}
	for (i = 0; i < sizeof(sec) / sizeof(sec[0]) && !err; i++) {
		if (out->o.json) {
			jw_key(&out->jw, sec[i].key);
			jw_begin_array(&out->jw);
		}
		err = sec[i].list(ctl, out, dev);
		if (out->o.json)
			jw_end_array(&out->jw);
	}
	if (out->o.json) {
		jw_end_object(&out->jw);
		jw_end_line(&out->jw);
		if (held)
			hold_end(out, &h, err == 0);
	}
	out->o = saved;
	return err;
}
