/* SPDX-License-Identifier: MIT */
/* megalink-stat topo: the fabric view (text, JSON, DOT, PNG). */
#ifndef MEGALINK_TOOLS_TOPO_H
#define MEGALINK_TOOLS_TOPO_H

#include <stdio.h>
#include <megalink/megalink.h>

#include "show.h"

enum topo_fmt {
	TOPO_TEXT,	/* text, or JSON with -j */
	TOPO_DOT,
	TOPO_PNG,
};

/* The records of every local device (or @dev) and the QPs that use links. */
struct topo_view {
	struct ml_topo_node_info *nodes;
	size_t nnodes;
	struct ml_qp_info *qps;
	size_t nqps;
};

int topo_fetch(struct ml_ctl *ctl, const char *dev, struct topo_view *v);
void topo_free(struct topo_view *v);
/* QPs (RTR or RTS) of the local device that use link @l of its own record. */
unsigned int topo_link_qps(const struct topo_view *v,
			   const struct ml_topo_node_info *t,
			   const struct ml_topo_link_info *l);
void topo_write_dot(FILE *f, const struct topo_view *v);
/* Pipe the DOT text to "dot -Tpng -o FILE"; -ENOENT when dot is missing. */
int topo_write_png(const struct topo_view *v, const char *file, char *err, size_t errlen);
/*
 * Fetch and print.  Negative errno: ml_last_error() explains; 1: failed,
 * already reported on stderr; 0: fine.
 */
int show_topo(struct ml_ctl *ctl, struct out *out, const char *dev,
	      enum topo_fmt fmt, const char *png);

#endif
