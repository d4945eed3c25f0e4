/* SPDX-License-Identifier: MIT */
/*
 * Persistent configuration (megalink.conf(5)): the parser of
 * /etc/megalink/NAME.conf and the diff between the running state and the
 * configured one.  No kernel access here, so it is unit-tested on the host;
 * megalink.c reads the running state and carries out the plan.
 */
#ifndef MEGALINK_TOOLS_CONF_H
#define MEGALINK_TOOLS_CONF_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <linux/megalink.h>
#include <megalink/megalink.h>

#define CONF_SET_NODE_ID	(1U << 0)
#define CONF_SET_HELLO		(1U << 1)
#define CONF_SET_DEAD		(1U << 2)

#define CONF_MAX_ERRORS		20	/* then "too many errors" */
#define CONF_ADDR_LEN		46	/* INET6_ADDRSTRLEN */

struct conf_loc {
	const char *file;	/* owned by struct conf */
	unsigned int line;
};

struct conf_dev {
	char name[ML_DEV_NAME_LEN];
	uint32_t node_id, hello_ms, dead_ms;
	uint32_t set;			/* CONF_SET_* */
	struct conf_loc loc;		/* first "dev" line */
	struct conf_loc node_loc, hello_loc, dead_loc;
	unsigned int nports;
	unsigned int npeers;
};

struct conf_port {
	char ifname[ML_LIB_IFNAMSIZ];
	char dev[ML_DEV_NAME_LEN];
	int up;				/* bring the netdev up before binding */
	int devi;			/* index in conf.devs, after conf_finish() */
	struct conf_loc loc;
};

/* A UDP peer: "peer ADDR dev NAME [local ADDR]". */
struct conf_peer {
	char addr[CONF_ADDR_LEN];	/* in the canonical form inet_ntop() gives */
	char local[CONF_ADDR_LEN];	/* "": the route's source address */
	char dev[ML_DEV_NAME_LEN];
	int devi;			/* index in conf.devs, after conf_finish() */
	struct conf_loc loc;
};

/* A running peer as conf_diff() compares it (megalink.c fills these in
 * from ml_ctl_peers(), addresses in the canonical inet_ntop() form). */
struct conf_rpeer {
	char dev[ML_DEV_NAME_LEN];
	char addr[CONF_ADDR_LEN];
	char local[CONF_ADDR_LEN];	/* "": the route's */
};

struct conf {
	struct conf_dev *devs;
	size_t ndevs;
	struct conf_port *ports;
	size_t nports;
	struct conf_peer *peers;
	size_t npeers;
	char **files;
	size_t nfiles;
	char **errs;			/* "FILE:LINE: message" */
	size_t nerrs;
};

void conf_init(struct conf *c);
void conf_free(struct conf *c);

/* Parse @text as if read from @file.  Errors go to c->errs; returns the
 * number of errors so far. */
size_t conf_parse_text(struct conf *c, const char *file, const char *text);
/* A file, or a directory whose *.conf files are read in lexical order. */
size_t conf_parse_path(struct conf *c, const char *path);
/* Checks that need every file: port references, node-id uniqueness,
 * dead >= 2 * hello.  Returns the number of errors. */
size_t conf_finish(struct conf *c);

/* Print the state in the format of the files (megalink show --config). */
void conf_print_dev(FILE *f, const struct ml_dev_attr *d);
void conf_print_port(FILE *f, const struct ml_port_info *p);
void conf_print_peer(FILE *f, const struct conf_rpeer *p);
/* @s in canonical form into @out (CONF_ADDR_LEN bytes): the address family,
 * or 0 when @s is not an IPv4 or IPv6 address. */
int conf_addr_canon(const char *s, char *out);

/* ---- diff ---- */

enum conf_act_type {
	CONF_ACT_SET,		/* dev set dev [node-id] [hello] [dead] */
	CONF_ACT_BIND_NEW,	/* port bind ifname, creating config device cdev */
	CONF_ACT_BIND,		/* port bind ifname dev dev */
	CONF_ACT_UNBIND,	/* port unbind ifname (from dev) */
	CONF_ACT_UP,		/* ip link set ifname up */
	CONF_ACT_NOTE,		/* nothing to do, just say so (skipped port) */
	CONF_ACT_PEER_ADD,	/* peer add dev addr [local local] */
	CONF_ACT_PEER_DEL,	/* peer del dev addr */
};

struct conf_action {
	enum conf_act_type type;
	int cdev;			/* config device, -1 for none */
	char dev[ML_DEV_NAME_LEN];	/* running name (config name if new) */
	char ifname[ML_LIB_IFNAMSIZ];
	uint32_t force;			/* CONF_SET_* for SET and BIND_NEW */
	uint32_t node_id, hello_ms, dead_ms;
	uint32_t old_node_id, old_hello_ms, old_dead_ms;	/* SET */
	int last;			/* UNBIND: the device goes with it */
	char addr[CONF_ADDR_LEN];	/* PEER_* */
	char local[CONF_ADDR_LEN];	/* PEER_ADD; "": the route's */
	char note[96];
};

struct conf_plan {
	struct conf_action *acts;
	size_t nacts;
};

/* State of a netdev in this netns: -1 absent, 0 down, 1 up. */
typedef int (*conf_netdev_fn)(const char *ifname, void *arg);

struct conf_diff_opts {
	int prune;			/* unbind ports not in the config */
	const char *iface;		/* only this netdev (hotplug) */
	conf_netdev_fn netdev;		/* NULL: every netdev is up */
	void *arg;
	const struct conf_rpeer *peers;	/* the running UDP peers */
	size_t npeers;
};

int conf_diff(const struct conf *c, const struct ml_dev_attr *rd, size_t nrd,
	      const struct ml_port_info *rp, size_t nrp,
	      const struct conf_diff_opts *o, struct conf_plan *plan);
void conf_plan_free(struct conf_plan *plan);
/* One line: "+ bind port eth1 to dev ml0". */
void conf_action_print(FILE *f, const struct conf_action *a);
/* Actions that change something (not notes). */
size_t conf_plan_changes(const struct conf_plan *plan);

#endif
