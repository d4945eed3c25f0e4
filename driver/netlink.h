/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _ML_NETLINK_H
#define _ML_NETLINK_H

#include <linux/types.h>

struct ml_dev;
struct ml_port;
struct ml_neigh;
struct ml_qp;
struct ml_topo_link;

int ml_genl_init(void);
void ml_genl_exit(void);

/* Notifications to the "monitor" group; callable from any context. */
void ml_nl_notify_dev(struct ml_dev *dev, u8 cmd);
void ml_nl_notify_port(struct ml_port *port, bool up, u8 reason);
void ml_nl_notify_neigh(struct ml_port *port, const struct ml_neigh *n,
			bool found);
void ml_nl_notify_qp_error(struct ml_qp *qp);
void ml_nl_notify_topo(struct ml_dev *dev, u8 event, u32 node,
		       const struct ml_topo_link *link);

#endif /* _ML_NETLINK_H */
