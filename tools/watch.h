/* SPDX-License-Identifier: MIT */
/*
 * megalink-stat --watch: per-second rates of the per-port counters, from
 * two snapshots taken with the monotonic clock.  Formatting and the rate
 * arithmetic are pure (unit-tested without a kernel).
 */
#ifndef MEGALINK_TOOLS_WATCH_H
#define MEGALINK_TOOLS_WATCH_H

#include <stdint.h>
#include <stdio.h>

#include "snap.h"

enum watch_mode {
	WATCH_LINES,	/* one plain line per port and interval (not a TTY) */
	WATCH_TABLE,	/* top-style: the screen redrawn each interval (a TTY) */
	WATCH_JSON,	/* one JSON object per port and interval (-j) */
};

/*
 * The rate of a counter that went from @prev to @cur in @secs seconds.
 * 0 and *rate set; 1 when the counter went backwards (the port was rebound
 * and its counters started again): no rate, the new value is @cur.
 * A non-positive @secs gives a rate of 0.
 */
int watch_rate(uint64_t prev, uint64_t cur, double secs, double *rate);

/* One report: the rates from @prev to @cur of every port of @cur (a port
 * missing from @prev, or bound to another netdev, shows as a reset). */
void watch_report(FILE *f, enum watch_mode mode, const struct snap *prev,
		  const struct snap *cur);

#endif
