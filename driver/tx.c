// SPDX-License-Identifier: GPL-2.0
/*
 * Transmit: building megalink frames and handing them to the netdev.
 * No locks: callers hold a port that cannot go away under them (the
 * port's timer, which unbind shuts down before freeing the port).
 */
#include <linux/etherdevice.h>
#include <linux/netdevice.h>
#include <linux/skbuff.h>
#include <linux/string.h>

#include "device.h"
#include "port.h"
#include "wire.h"

/* Allocate a frame with room for the link-layer header in front. */
struct sk_buff *ml_tx_alloc(struct net_device *ndev, unsigned int len)
{
	struct sk_buff *skb;

	skb = alloc_skb(LL_RESERVED_SPACE(ndev) + len + ndev->needed_tailroom,
			GFP_ATOMIC);
	if (!skb)
		return NULL;
	skb_reserve(skb, LL_RESERVED_SPACE(ndev));
	skb_reset_network_header(skb);
	skb->dev = ndev;
	skb->protocol = htons(ml_ethertype);
	return skb;
}

/*
 * Add the Ethernet header and queue the frame; counts the outcome.
 * Return: 0, or -ENOBUFS when the netdev or its qdisc refused it.
 */
int ml_tx_frame(struct ml_port *port, struct sk_buff *skb, const u8 *dst_mac)
{
	unsigned int len = skb->len;
	int rc;

	if (dev_hard_header(skb, skb->dev, ml_ethertype, dst_mac, NULL,
			    len) < 0) {
		kfree_skb(skb);
		ml_stat_inc(port, ML_STAT_TX_ERRORS);
		return -ENOBUFS;
	}
	rc = dev_queue_xmit(skb);
	if (net_xmit_eval(rc)) {
		ml_stat_inc(port, ML_STAT_TX_ERRORS);
		return -ENOBUFS;
	}
	ml_stat_inc(port, ML_STAT_TX_FRAMES);
	ml_stat_add(port, ML_STAT_TX_BYTES, len);
	return 0;
}

/*
 * A HELLO from @port, counted in TX_HELLO; it advertises the netdev's MTU
 * less @mtu_less (the encapsulation's headers).  NULL without memory.
 */
struct sk_buff *ml_tx_hello_build(struct ml_port *port, u32 mtu_less)
{
	struct net_device *ndev = port->netdev;
	struct ml_dev *dev = port->dev;
	struct ml_wire_hello *h;
	struct sk_buff *skb;

	skb = ml_tx_alloc(ndev, sizeof(*h));
	if (!skb)
		return NULL;
	h = skb_put_zero(skb, sizeof(*h));
	h->hdr.version = ML_WIRE_VERSION;
	h->hdr.type = ML_WIRE_HELLO;
	h->hdr.len = htons(sizeof(*h));
	h->hdr.src_node = htonl(READ_ONCE(dev->node_id));
	h->hdr.dst_node = htonl(ML_WIRE_NODE_ALL);
	h->src_port = htons(port->index);
	h->caps = cpu_to_be64(ml_dev_caps(dev));
	h->dead_ms = htonl(READ_ONCE(dev->dead_ms));
	h->hello_ms = htonl(READ_ONCE(dev->hello_ms));
	strscpy(h->dev_name, dev->name, sizeof(h->dev_name));
	h->mtu = htonl(READ_ONCE(ndev->mtu) - mtu_less);
	ml_stat_inc(port, ML_STAT_TX_HELLO);
	return skb;
}

void ml_tx_hello(struct ml_port *port)
{
	struct sk_buff *skb = ml_tx_hello_build(port, 0);

	if (!skb) {
		ml_stat_inc(port, ML_STAT_TX_ERRORS);
		return;
	}
	ml_tx_frame(port, skb, port->netdev->broadcast);
}
