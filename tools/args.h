/* SPDX-License-Identifier: MIT */
/* Command-line parsing of megalink-stat and megalink (unit-tested). */
#ifndef MEGALINK_TOOLS_ARGS_H
#define MEGALINK_TOOLS_ARGS_H

#include <stddef.h>
#include <stdint.h>

/* Output options common to both tools. */
struct out_opts {
	int json;	/* -j */
	int pretty;	/* -p */
	int stats;	/* -s: counters with ports */
};

enum stat_obj {
	OBJ_SUMMARY,	/* no object: everything, text sections */
	OBJ_DEV,
	OBJ_PORT,
	OBJ_NEIGH,
	OBJ_STATS,
	OBJ_QP,		/* queue pairs */
	OBJ_ALL,
	OBJ_MONITOR,
	OBJ_MODULE,
	OBJ_TOPO,	/* the whole fabric (flooded topology records) */
};

struct stat_opts {
	struct out_opts out;
	int help;
	int version;
	enum stat_obj obj;
	const char *dev;	/* NULL: all */
	int prometheus;		/* --prometheus: text exposition format */
	const char *outfile;	/* -o FILE (with --prometheus): written atomically */
	int watch;		/* --watch[=SECONDS]: counter rates */
	double interval;	/* seconds between two snapshots (default 1) */
	uint32_t count;		/* -c COUNT: reports, 0: until interrupted */
	int dot;		/* --dot (topo): Graphviz DOT */
	const char *png;	/* --png FILE (topo): drawn by Graphviz dot */
};

enum admin_cmd {
	ADM_NONE,
	ADM_PORT_BIND,
	ADM_PORT_UNBIND,
	ADM_PORT_SHOW,
	ADM_DEV_SET,
	ADM_DEV_SHOW,
	ADM_NEIGH_SHOW,
	ADM_STATS_SHOW,
	ADM_QP_SHOW,
	ADM_APPLY,		/* megalink.conf(5) */
	ADM_SHOW_CONFIG,
	ADM_PEER_ADD,
	ADM_PEER_DEL,
	ADM_PEER_SHOW,
};

#define ADM_MAX_PATHS	16

#define ADM_SET_NODE_ID	(1U << 0)
#define ADM_SET_HELLO	(1U << 1)
#define ADM_SET_DEAD	(1U << 2)

struct admin_opts {
	struct out_opts out;
	int help;
	int version;
	enum admin_cmd cmd;
	const char *ifname;
	const char *dev;
	const char *addr;	/* peer add/del */
	const char *local;	/* peer add ... local ADDR */
	int has_port_index;
	uint32_t port_index;
	uint32_t node_id;
	uint32_t hello_ms;
	uint32_t dead_ms;
	uint32_t set;		/* ADM_SET_* */
	/* apply */
	int dry_run;
	int prune;
	const char *iface;
	const char *paths[ADM_MAX_PATHS];
	int npaths;		/* 0: /etc/megalink */
};

/* "-j"-style word prefix match, as iproute2's matches(): 0 if @arg is a
 * non-empty prefix of @word. */
int arg_matches(const char *arg, const char *word);

/* Milliseconds: decimal or 0x hex, optional "ms" suffix. */
int parse_ms(const char *s, uint32_t *out);

/* Both return 0, or -EINVAL with one line of explanation in err. */
int stat_parse_args(int argc, char **argv, struct stat_opts *o, char *err, size_t errlen);
int admin_parse_args(int argc, char **argv, struct admin_opts *o, char *err, size_t errlen);

#endif
