/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Per-port counters.  One array of u64 per CPU, indexed by enum ml_stat,
 * bumped with this_cpu ops (safe from any context, no lock) and summed on
 * read.  A reader on a 32-bit machine may see a torn value; that is the
 * accepted price of a lock-free data path.
 *
 * A port's counters start from port->base, the totals an earlier binding
 * of the same device and netdev names left (stats.c), so that they stay
 * monotonic across an unbind and a rebind.
 */
#ifndef _ML_STATS_H
#define _ML_STATS_H

#include <linux/percpu.h>
#include <linux/megalink.h>

struct ml_pcpu_stats {
	u64 v[__ML_STAT_MAX];
};

#define ml_stat_add(port, stat, n) this_cpu_add((port)->stats->v[stat], (n))
#define ml_stat_inc(port, stat) ml_stat_add(port, stat, 1)

struct ml_port;
void ml_stats_read(const struct ml_port *port, u64 out[__ML_STAT_MAX]);
void ml_stats_adopt(struct ml_port *port);
void ml_stats_retire(const struct ml_port *port);
void ml_stats_exit(void);

#endif /* _ML_STATS_H */
