// SPDX-License-Identifier: GPL-2.0
/* Per-port counters: summing the per-CPU copies.  No locks (stats.h). */
#include <linux/cpumask.h>
#include <linux/string.h>

#include "port.h"
#include "stats.h"

void ml_stats_read(const struct ml_port *port, u64 out[__ML_STAT_MAX])
{
	int cpu, i;

	memset(out, 0, sizeof(u64) * __ML_STAT_MAX);
	for_each_possible_cpu(cpu) {
		const struct ml_pcpu_stats *s = per_cpu_ptr(port->stats, cpu);

		for (i = 0; i < __ML_STAT_MAX; i++)
			out[i] += READ_ONCE(s->v[i]);
	}
}
