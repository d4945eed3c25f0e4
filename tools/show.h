/* SPDX-License-Identifier: MIT */
/* Text and JSON output of megalink objects, shared by the tools. */
#ifndef MEGALINK_TOOLS_SHOW_H
#define MEGALINK_TOOLS_SHOW_H

#include <stdio.h>
#include <megalink/megalink.h>

#include "args.h"
#include "json.h"

struct out {
	struct out_opts o;
	struct jw jw;
	FILE *f;
};

void out_init(struct out *out, const struct out_opts *o, FILE *f);

/* "aa:bb:cc:dd:ee:ff" */
void format_mac(char buf[18], const uint8_t mac[6]);

/* JSON members of each object (inside an already open object). */
void json_dev_fields(struct jw *w, const struct ml_dev_attr *d);
void json_port_fields(struct jw *w, const struct ml_port_info *p);
void json_neigh_fields(struct jw *w, const struct ml_neigh_info *n);
void json_stats_fields(struct jw *w, const struct ml_port_stats *s);
void json_qp_fields(struct jw *w, const struct ml_qp_info *q);

/* "RESET", "INIT", "RTR", "RTS", "ERROR" ("UNKNOWN" otherwise). */
const char *qp_state_upper(unsigned int state);

/* One object: a JSON object (caller has an array open) or one text line. */
void print_dev(struct out *out, const struct ml_dev_attr *d);
void print_port(struct out *out, const struct ml_port_info *p, const struct ml_port_stats *s);
void print_neigh(struct out *out, const struct ml_neigh_info *n);
void print_stats(struct out *out, const struct ml_port_stats *s);
void print_qp(struct out *out, const struct ml_qp_info *q);
void print_event(struct out *out, const struct ml_event *ev);

/* Fetch and print.  0 or a negative errno (ml_last_error() explains). */
int show_devs(struct ml_ctl *ctl, struct out *out, const char *dev);
int show_ports(struct ml_ctl *ctl, struct out *out, const char *dev);
int show_neighs(struct ml_ctl *ctl, struct out *out, const char *dev);
int show_stats(struct ml_ctl *ctl, struct out *out, const char *dev);
int show_qps(struct ml_ctl *ctl, struct out *out, const char *dev);
int show_peers(struct ml_ctl *ctl, struct out *out, const char *dev);
/* Everything: JSON {"devices":[],"ports":[],"neighbours":[],"stats":[],
 * "qps":[]}, text: the five sections. */
int show_all(struct ml_ctl *ctl, struct out *out, const char *dev);

#endif
