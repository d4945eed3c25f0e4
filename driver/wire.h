/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Transmit and receive of megalink frames.  The wire format itself is part
 * of the uAPI (include/uapi/linux/megalink.h) so that tools and tests can
 * build frames.
 */
#ifndef _ML_WIRE_H
#define _ML_WIRE_H

#include <linux/types.h>

struct in6_addr;
struct ml_port;

/*
 * What the receive path knows of a frame besides its bytes, in skb->cb
 * from ml_rx_frame() on: @ce, it came in a UDP datagram marked ECN CE.
 */
struct ml_rx_cb {
	bool ce;
};

#define ML_RX_CB(skb) ((struct ml_rx_cb *)(skb)->cb)

extern u16 ml_ethertype;

int ml_rx(struct sk_buff *skb, struct net_device *ndev,
	  struct packet_type *pt, struct net_device *orig_dev);
int ml_rx_frame(struct ml_port *port, struct sk_buff *skb,
		const struct in6_addr *saddr, bool ce);
struct sk_buff *ml_tx_alloc(struct net_device *ndev, unsigned int len);
struct sk_buff *ml_tx_hello_build(struct ml_port *port, u32 mtu_less);
void ml_tx_hello(struct ml_port *port);
int ml_tx_frame(struct ml_port *port, struct sk_buff *skb, const u8 *dst_mac);

#endif /* _ML_WIRE_H */
