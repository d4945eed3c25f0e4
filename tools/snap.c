// SPDX-License-Identifier: MIT
/* A snapshot of the megalink objects (see snap.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "snap.h"

int snap_take(struct ml_ctl *ctl, const char *dev, unsigned int what, struct snap *s)
{
	int err = 0;

	memset(s, 0, sizeof(*s));
	if (what & SNAP_DEVS) {
		if (dev) {
			s->devs = calloc(1, sizeof(*s->devs));
			if (!s->devs)
				return -ENOMEM;
			err = ml_ctl_dev_get(ctl, dev, s->devs);
			s->ndevs = err < 0 ? 0 : 1;
		} else {
			err = ml_ctl_devices(ctl, &s->devs, &s->ndevs);
		}
		if (err < 0)
			goto fail;
	}
	if (what & SNAP_PORTS) {
		err = ml_ctl_ports(ctl, dev, &s->ports, &s->nports);
		if (err < 0)
			goto fail;
	}
	if (what & SNAP_NEIGHS) {
		err = ml_ctl_neighbours(ctl, dev, &s->neighs, &s->nneighs);
		if (err < 0)
			goto fail;
	}
	if (what & SNAP_STATS) {
		err = ml_ctl_stats(ctl, dev, &s->stats, &s->nstats);
		if (err < 0)
			goto fail;
	}
	if (what & SNAP_QPS) {
		err = ml_ctl_qps(ctl, dev, &s->qps, &s->nqps);
		if (err == -EOPNOTSUPP) {
			s->qps = NULL;
			s->nqps = 0;
		} else if (err < 0) {
			goto fail;
		} else {
			s->have_qps = 1;
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &s->mono);
	clock_gettime(CLOCK_REALTIME, &s->real);
	return 0;
fail:
	snap_free(s);
	return err;
}

void snap_free(struct snap *s)
{
	ml_free(s->devs);
	ml_free(s->ports);
	ml_free(s->neighs);
	ml_free(s->stats);
	ml_free(s->qps);
	memset(s, 0, sizeof(*s));
}

double snap_elapsed(const struct snap *a, const struct snap *b)
{
	return (double)(b->mono.tv_sec - a->mono.tv_sec) +
	       (double)(b->mono.tv_nsec - a->mono.tv_nsec) / 1e9;
}
