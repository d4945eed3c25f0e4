/* SPDX-License-Identifier: MIT */
/*
 * One snapshot of everything megalink-stat can show: devices, ports,
 * neighbours, per-port counters and queue pairs, with the clocks they were
 * read at.  The exposition (prom.c) and the rates (watch.c) format
 * snapshots; they never fetch anything themselves, so the unit tests feed
 * them made-up ones.
 */
#ifndef MEGALINK_TOOLS_SNAP_H
#define MEGALINK_TOOLS_SNAP_H

#include <stddef.h>
#include <time.h>
#include <megalink/megalink.h>

struct snap {
	struct ml_dev_attr *devs;
	size_t ndevs;
	struct ml_port_info *ports;
	size_t nports;
	struct ml_neigh_info *neighs;
	size_t nneighs;
	struct ml_port_stats *stats;
	size_t nstats;
	struct ml_qp_info *qps;
	size_t nqps;
	int have_qps;			/* 0: the kernel has no ML_CMD_QP_GET */
	struct timespec mono;		/* CLOCK_MONOTONIC after the last read */
	struct timespec real;		/* CLOCK_REALTIME, same moment */
};

#define SNAP_DEVS	(1U << 0)
#define SNAP_PORTS	(1U << 1)
#define SNAP_NEIGHS	(1U << 2)
#define SNAP_STATS	(1U << 3)
#define SNAP_QPS	(1U << 4)
#define SNAP_ALL	0x1fU

/* Fetch the parts in @what of device @dev (NULL: all).  0 or a negative
 * errno (ml_last_error() explains); on failure @s is left empty. */
int snap_take(struct ml_ctl *ctl, const char *dev, unsigned int what, struct snap *s);
void snap_free(struct snap *s);

/* Seconds from @a to @b (monotonic). */
double snap_elapsed(const struct snap *a, const struct snap *b);

#endif
