// SPDX-License-Identifier: GPL-2.0
/*
 * Per-port counters: summing the per-CPU copies, and keeping them
 * monotonic across an unbind and a later bind of the same netdev.
 *
 * A scraper (megalink-stat --prometheus) names a port's counters by its
 * device and netdev names.  When a port goes (unbind, netdev deleted or
 * moved, last port of a device), its totals are kept in a small table
 * keyed by (network namespace cookie, device name, netdev name); a bind
 * that recreates the same pair starts from them instead of from zero.
 * The table holds at most ML_STATS_RETIRED_MAX entries, the oldest
 * forgotten first, and is emptied at module unload.
 *
 * Locking: the per-CPU counters need none (stats.h).  The retired table
 * and port->base are changed only under RTNL, like ports themselves;
 * port->base is written before the port is published, so readers need
 * nothing either.
 */
#include <linux/cpumask.h>
#include <linux/list.h>
#include <linux/rtnetlink.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "device.h"
#include "port.h"
#include "stats.h"

#define ML_STATS_RETIRED_MAX 256

struct ml_stats_retired {
	struct list_head list;		/* newest first */
	u64 net_cookie;
	char dev[ML_DEV_NAME_LEN];
	char ifname[IFNAMSIZ];
	u64 v[__ML_STAT_MAX];
};

static LIST_HEAD(ml_retired);		/* RTNL */
static unsigned int ml_nr_retired;	/* RTNL */

void ml_stats_read(const struct ml_port *port, u64 out[__ML_STAT_MAX])
{
	int cpu, i;

	memcpy(out, port->base, sizeof(port->base));
	for_each_possible_cpu(cpu) {
		const struct ml_pcpu_stats *s = per_cpu_ptr(port->stats, cpu);

		for (i = 0; i < __ML_STAT_MAX; i++)
			out[i] += READ_ONCE(s->v[i]);
	}
}

static struct ml_stats_retired *ml_stats_lookup(const struct ml_port *port)
{
	u64 cookie = dev_net(port->netdev)->net_cookie;
	struct ml_stats_retired *r;

	list_for_each_entry(r, &ml_retired, list)
		if (r->net_cookie == cookie &&
		    !strcmp(r->dev, port->dev->name) &&
		    !strcmp(r->ifname, port->netdev->name))
			return r;
	return NULL;
}

/**
 * ml_stats_adopt() - start a new port's counters where its name left off
 * @port: a port not yet visible to anyone else
 *
 * Called under RTNL.
 */
void ml_stats_adopt(struct ml_port *port)
{
	struct ml_stats_retired *r;

	ASSERT_RTNL();
	r = ml_stats_lookup(port);
	if (!r)
		return;
	memcpy(port->base, r->v, sizeof(port->base));
	list_del(&r->list);
	ml_nr_retired--;
	kfree(r);
}

/**
 * ml_stats_retire() - keep the totals of a port that is going away
 * @port: the port, already unreachable from the data path
 *
 * Called under RTNL.  Without memory the totals are lost: the next bind
 * of the name starts from zero, which a scraper sees as a counter reset.
 */
void ml_stats_retire(const struct ml_port *port)
{
	struct ml_stats_retired *r;

	ASSERT_RTNL();
	r = ml_stats_lookup(port);
	if (r) {
		list_del(&r->list);
	} else if (ml_nr_retired >= ML_STATS_RETIRED_MAX) {
		r = list_last_entry(&ml_retired, struct ml_stats_retired, list);
		list_del(&r->list);
	} else {
		r = kmalloc(sizeof(*r), GFP_KERNEL);
		if (!r)
			return;
		ml_nr_retired++;
	}
	r->net_cookie = dev_net(port->netdev)->net_cookie;
	strscpy(r->dev, port->dev->name, sizeof(r->dev));
	strscpy(r->ifname, port->netdev->name, sizeof(r->ifname));
	ml_stats_read(port, r->v);
	list_add(&r->list, &ml_retired);
}

/* Module unload: no port is left. */
void ml_stats_exit(void)
{
	struct ml_stats_retired *r, *tmp;

	rtnl_lock();
	list_for_each_entry_safe(r, tmp, &ml_retired, list) {
		list_del(&r->list);
		kfree(r);
	}
	ml_nr_retired = 0;
	rtnl_unlock();
}
