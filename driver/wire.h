/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Transmit and receive of megalink frames.  The wire format itself is part
 * of the uAPI (include/uapi/linux/megalink.h) so that tools and tests can
 * build frames.
 */
#ifndef _ML_WIRE_H
#define _ML_WIRE_H

#include <linux/types.h>

struct ml_port;

extern u16 ml_ethertype;

int ml_rx(struct sk_buff *skb, struct net_device *ndev,
	  struct packet_type *pt, struct net_device *orig_dev);
int ml_rx_frame(struct ml_port *port, struct sk_buff *skb, __be32 saddr);
struct sk_buff *ml_tx_alloc(struct net_device *ndev, unsigned int len);
struct sk_buff *ml_tx_hello_build(struct ml_port *port, u32 mtu_less);
void ml_tx_hello(struct ml_port *port);
int ml_tx_frame(struct ml_port *port, struct sk_buff *skb, const u8 *dst_mac);

#endif /* _ML_WIRE_H */
