// SPDX-License-Identifier: MIT
/*
 * megalink-stat --watch: counter rates.
 *
 * Text shows the counters most worth watching (frames and bytes both
 * ways, retransmits, timeouts, NAKs, and all drops summed); JSON has every
 * counter the library names.  A counter that went backwards (a port
 * unbound and bound again starts from zero) is not a rate: text shows
 * "reset:<new value>", JSON puts it in "resets" with its new value and
 * leaves it out of "rates".
 */
#include <inttypes.h>
#include <string.h>

#include "json.h"
#include "watch.h"

int watch_rate(uint64_t prev, uint64_t cur, double secs, double *rate)
{
	if (cur < prev) {
		*rate = 0;
		return 1;
	}
	*rate = secs > 0 ? (double)(cur - prev) / secs : 0;
	return 0;
}

/* The columns of text: a counter, or the sum of the drop_* counters. */
static const struct column {
	const char *head;
	int stat;		/* enum ml_stat; -1: all drops */
} columns[] = {
	{ "tx_frames/s", ML_STAT_TX_FRAMES },
	{ "tx_bytes/s", ML_STAT_TX_BYTES },
	{ "rx_frames/s", ML_STAT_RX_FRAMES },
	{ "rx_bytes/s", ML_STAT_RX_BYTES },
	{ "retrans/s", ML_STAT_RETRANSMITS },
	{ "timeouts/s", ML_STAT_TIMEOUTS },
	{ "naks/s", ML_STAT_RX_NAK },
	{ "drops/s", -1 },
};

#define NCOL (sizeof(columns) / sizeof(columns[0]))

static uint64_t drops(const struct ml_port_stats *s)
{
	uint64_t sum = 0;
	unsigned int i;

	for (i = 0; i < ML_LIB_STATS_SLOTS; i++) {
		const char *name = ml_stat_name(i);

		if (name && !strncmp(name, "drop_", 5))
			sum += s->stats[i];
	}
	return sum;
}

static uint64_t col_value(const struct ml_port_stats *s, const struct column *c)
{
	return c->stat < 0 ? drops(s) : s->stats[c->stat];
}

static const struct ml_port_stats *find_port(const struct snap *s,
					     const struct ml_port_stats *p)
{
	size_t i;

	if (!s)
		return NULL;
	for (i = 0; i < s->nstats; i++)
		if (s->stats[i].dev_index == p->dev_index &&
		    s->stats[i].port_index == p->port_index &&
		    s->stats[i].ifindex == p->ifindex)
			return &s->stats[i];
	return NULL;
}

/* "12.5" or "reset:42" in @buf. */
static void cell(char *buf, size_t len, const struct ml_port_stats *old,
		 uint64_t prev, uint64_t cur, double secs)
{
	double r;

	if (!old || watch_rate(prev, cur, secs, &r))
		snprintf(buf, len, "reset:%" PRIu64, cur);
	else
		snprintf(buf, len, "%.1f", r);
}

static void report_json(FILE *f, const struct snap *prev, const struct snap *cur, double secs)
{
	size_t i;

	for (i = 0; i < cur->nstats; i++) {
		const struct ml_port_stats *s = &cur->stats[i], *o = find_port(prev, s);
		struct jw w;
		unsigned int c, nres = 0;
		double r;

		jw_init(&w, f, 0);
		jw_begin_object(&w);
		jw_kstr(&w, "dev", s->dev);
		jw_kuint(&w, "port", s->port_index);
		jw_kstr(&w, "ifname", s->ifname);
		jw_kdouble(&w, "interval", secs);
		jw_key(&w, "rates");
		jw_begin_object(&w);
		for (c = 0; c < ML_LIB_STATS_SLOTS; c++) {
			const char *name = ml_stat_name(c);

			if (!name)
				continue;
			if (o && !watch_rate(o->stats[c], s->stats[c], secs, &r))
				jw_kdouble(&w, name, r);
			else
				nres++;
		}
		jw_end_object(&w);
		jw_key(&w, "resets");
		jw_begin_object(&w);
		for (c = 0; c < ML_LIB_STATS_SLOTS && nres; c++) {
			const char *name = ml_stat_name(c);

			if (name && (!o || watch_rate(o->stats[c], s->stats[c], secs, &r)))
				jw_kuint(&w, name, s->stats[c]);
		}
		jw_end_object(&w);
		jw_end_object(&w);
		jw_end_line(&w);
	}
}

void watch_report(FILE *f, enum watch_mode mode, const struct snap *prev,
		  const struct snap *cur)
{
	double secs = prev ? snap_elapsed(prev, cur) : 0;
	char buf[40], name[48];
	unsigned int c;
	size_t i;

	if (mode == WATCH_JSON) {
		report_json(f, prev, cur, secs);
		return;
	}
	if (mode == WATCH_TABLE) {
		fputs("\033[H\033[2J", f);	/* home, clear */
		fprintf(f, "megalink-stat --watch: per-second rates over %.2f s "
			"(reset:N = counter restarted, now N)\n\n", secs);
		fprintf(f, "%-12s %-16s", "PORT", "IFNAME");
		for (c = 0; c < NCOL; c++)
			fprintf(f, " %14s", columns[c].head);
		fputc('\n', f);
	}
	for (i = 0; i < cur->nstats; i++) {
		const struct ml_port_stats *s = &cur->stats[i], *o = find_port(prev, s);

		snprintf(name, sizeof(name), "%s/%u", s->dev, s->port_index);
		if (mode == WATCH_TABLE)
			fprintf(f, "%-12s %-16s", name, s->ifname);
		else
			fprintf(f, "rates %s ifname %s interval %.2f", name, s->ifname, secs);
		for (c = 0; c < NCOL; c++) {
			uint64_t nv = col_value(s, &columns[c]);

			cell(buf, sizeof(buf), o, o ? col_value(o, &columns[c]) : 0, nv, secs);
			if (mode == WATCH_TABLE)
				fprintf(f, " %14s", buf);
			else
				fprintf(f, " %.*s %s", (int)(strlen(columns[c].head) - 2),
					columns[c].head, buf);
		}
		fputc('\n', f);
	}
	if (mode == WATCH_TABLE && !cur->nstats)
		fputs("(no ports)\n", f);
	fflush(f);
}
