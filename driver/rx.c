// SPDX-License-Identifier: GPL-2.0
/*
 * Receive: every frame of the megalink EtherType on a bound netdev comes
 * here (softirq, under RCU).  The common header is validated, then the
 * frame goes to the handler of its type.  Every frame that is not accepted
 * is counted under the reason it was dropped for.
 *
 * No locks here; the port is alive while its packet_type is registered.
 */
#include <linux/etherdevice.h>
#include <linux/netdevice.h>
#include <linux/skbuff.h>

#include "device.h"
#include "discovery.h"
#include "port.h"
#include "qp.h"
#include "topo.h"
#include "wire.h"

static int ml_rx_check(struct ml_port *port, struct sk_buff *skb,
		       const struct in6_addr *saddr)
{
	const struct ml_wire_hdr *hdr;
	u32 src, dst, own, len;

	if (!pskb_may_pull(skb, sizeof(*hdr)))
		return ML_STAT_DROP_SHORT;
	hdr = (const struct ml_wire_hdr *)skb->data;
	if (hdr->version != ML_WIRE_VERSION)
		return ML_STAT_DROP_VERSION;
	len = ntohs(hdr->len);
	if (len < sizeof(*hdr) || len > skb->len)
		return ML_STAT_DROP_LENGTH;
	src = ntohl(hdr->src_node);
	dst = ntohl(hdr->dst_node);
	own = READ_ONCE(port->dev->node_id);
	if (src < ML_NODE_ID_MIN || src > ML_NODE_ID_MAX)
		return ML_STAT_DROP_MALFORMED;
	if (src == own)
		return ML_STAT_DROP_LOOP;
	if (dst != ML_WIRE_NODE_ALL && dst != own)
		return ML_STAT_RX_NOT_MINE;

	switch (hdr->type) {
	case ML_WIRE_HELLO:
		return ml_disc_rx_hello(port, skb, saddr);
	case ML_WIRE_DATA:
	case ML_WIRE_ACK:
		return ml_qp_rx(port, skb);
	case ML_WIRE_TOPO:
		return ml_topo_rx(port, skb, saddr);
	default:
		return ML_STAT_DROP_TYPE;
	}
}

/*
 * The checks and the handler of a frame of @port, from the Ethernet
 * receive below (@saddr NULL) or from UDP (@saddr, @ce: marked
 * congestion experienced; udp.c); @skb is consumed.
 */
int ml_rx_frame(struct ml_port *port, struct sk_buff *skb,
		const struct in6_addr *saddr, bool ce)
{
	unsigned int len;
	int reason;

	skb = skb_share_check(skb, GFP_ATOMIC);
	if (!skb) {
		ml_stat_inc(port, ML_STAT_DROP_NOMEM);
		return NET_RX_DROP;
	}
	ML_RX_CB(skb)->ce = ce;
	if (ce)
		ml_stat_inc(port, ML_STAT_RX_ECN_CE);
	len = skb->len;
	reason = ml_rx_check(port, skb, saddr);
	if (reason) {
		ml_stat_inc(port, reason);
		kfree_skb(skb);
		return NET_RX_DROP;
	}
	ml_stat_inc(port, ML_STAT_RX_FRAMES);
	ml_stat_add(port, ML_STAT_RX_BYTES, len);
	consume_skb(skb);
	return NET_RX_SUCCESS;
}

int ml_rx(struct sk_buff *skb, struct net_device *ndev,
	  struct packet_type *pt, struct net_device *orig_dev)
{
	struct ml_port *port = pt->af_packet_priv;

	if (skb->pkt_type == PACKET_OTHERHOST ||
	    skb->pkt_type == PACKET_LOOPBACK) {
		kfree_skb(skb);
		return NET_RX_DROP;
	}
	return ml_rx_frame(port, skb, NULL, false);
}
