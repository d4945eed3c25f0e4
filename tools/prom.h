/* SPDX-License-Identifier: MIT */
/*
 * Prometheus text exposition format (version 0.0.4) of a snapshot:
 * megalink-stat --prometheus.  Pure formatting (unit-tested without a
 * kernel): the writer below and prom_write_snap().
 */
#ifndef MEGALINK_TOOLS_PROM_H
#define MEGALINK_TOOLS_PROM_H

#include <stdint.h>
#include <stdio.h>

#include "snap.h"

struct prom_label {
	const char *name;
	const char *value;
};

/*
 * The writer: # HELP and # TYPE once per family, when its first sample
 * comes (or prom_family() is called), and the samples of one family
 * together.  Families must not be interleaved: a family named again after
 * another one started gets no second HELP/TYPE (the caller's bug).
 */
struct prom {
	FILE *f;
	char family[128];	/* the one whose HELP/TYPE was written last */
};

void prom_init(struct prom *p, FILE *f);

/* # HELP / # TYPE of @name (type "counter", "gauge"), once. */
void prom_family(struct prom *p, const char *name, const char *type, const char *help);

/* One sample "name{l="v",...} value".  @nlabels may be 0. */
void prom_sample_u64(struct prom *p, const char *name, const struct prom_label *l,
		     size_t nlabels, uint64_t value);
/* A seconds value with nanosecond resolution, printed exactly. */
void prom_sample_time(struct prom *p, const char *name, const struct prom_label *l,
		      size_t nlabels, const struct timespec *ts);

/* A label value escaped: \ -> \\, " -> \", newline -> \n. */
void prom_escape_label(FILE *f, const char *s);
/* HELP text escaped: \ -> \\, newline -> \n. */
void prom_escape_help(FILE *f, const char *s);

/* Everything in @s: build info, scrape time, devices, ports, neighbours,
 * per-port counters, QPs. */
void prom_write_snap(FILE *f, const struct snap *s, const char *version,
		     const char *lib_version);

/* Write @len bytes to @path atomically: @path.tmp in the same directory,
 * fsync, rename over @path.  0 or a negative errno. */
int prom_write_file(const char *path, const char *buf, size_t len);

#endif
