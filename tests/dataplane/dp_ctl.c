// SPDX-License-Identifier: MIT
/*
 * dp_ctl: control-plane helper of run-suite.sh, in the caller's netns.
 *
 *   dp_ctl bind IFNAME NODE_ID     bind a port (new device); prints "mlN"
 *   dp_ctl wait DEV SECONDS        wait until DEV's first port is up
 *   dp_ctl counts DEV              object counts of DEV (DEV_GET)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dp.h"

int main(int argc, char **argv)
{
	struct ml_ctl *ctl;
	int r;

	if (argc < 3) {
		fprintf(stderr, "usage: dp_ctl bind IFNAME NODE_ID | wait DEV SECONDS | counts DEV\n");
		return 2;
	}
	r = ml_ctl_open(&ctl);
	if (r) {
		fprintf(stderr, "dp_ctl: %s\n", ml_last_error());
		return 1;
	}
	if (!strcmp(argv[1], "bind") && argc == 4) {
		struct ml_bind_opts o = { 0 };
		struct ml_port_info pi;

		if (ml_parse_node_id(argv[3], &o.node_id)) {
			fprintf(stderr, "dp_ctl: bad node id %s\n", argv[3]);
			return 2;
		}
		r = ml_ctl_bind(ctl, argv[2], &o, &pi);
		if (r) {
			fprintf(stderr, "dp_ctl: %s\n", ml_last_error());
			return 1;
		}
		printf("%s\n", pi.dev);
		return 0;
	}
	if (!strcmp(argv[1], "wait") && argc == 4) {
		int tenths = atoi(argv[3]) * 10;

		for (int i = 0; i < tenths; i++) {
			struct ml_port_info *pi = NULL;
			size_t n = 0;
			int up;

			r = ml_ctl_ports(ctl, argv[2], &pi, &n);
			up = r >= 0 && n >= 1 && pi[0].link_state == ML_LINK_UP;
			ml_free(pi);
			if (up)
				return 0;
			usleep(100000);
		}
		fprintf(stderr, "dp_ctl: %s: port not up after %s s\n", argv[2], argv[3]);
		return 1;
	}
	if (!strcmp(argv[1], "counts") && argc == 3) {
		struct dp_counts c;

		dp_env.dev[0] = argv[2];
		dp_env.ns[0] = NULL;
		if (dp_dev_counts(0, &c)) {
			fprintf(stderr, "dp_ctl: DEV_GET %s failed\n", argv[2]);
			return 1;
		}
		printf("%s ctx %u pds %u mrs %u cqs %u qps %u pinned-pages %llu\n", argv[2],
		       c.ctx, c.pds, c.mrs, c.cqs, c.qps, (unsigned long long)c.pinned);
		return c.ctx || c.pds || c.mrs || c.cqs || c.qps || c.pinned ? 3 : 0;
	}
	fprintf(stderr, "dp_ctl: bad arguments\n");
	return 2;
}
