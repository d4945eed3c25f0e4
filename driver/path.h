/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Multi-path: the set of paths (local port, neighbour) a connected QP has
 * to its remote node, and the striping of its packets across them.
 */
#ifndef _ML_PATH_H
#define _ML_PATH_H

#include <linux/if_ether.h>
#include <linux/in6.h>
#include <linux/types.h>

struct ml_dev;
struct ml_port;
struct ml_qp;
struct sk_buff;

#define ML_MAX_PATHS	4	/* paths per QP */
#define ML_PATH_BURST	16	/* packets per path turn, at full weight */
#define ML_PATH_NONE	0xff

/**
 * struct ml_path - one way to the QP's remote node
 * @port_index: local port slot
 * @port_id: the port instance (port->id) the path goes through
 * @dmac: the neighbour's MAC (Ethernet path)
 * @udp: a UDP path, to @daddr
 * @daddr: the neighbour's address (IPv4 v4-mapped, or IPv6) on a UDP path
 * @remote_port: the neighbour's port index, as its HELLO said
 * @pmtu: payload bytes a packet may carry on this path
 * @srtt_us: smoothed round trip, from acks; 0: no sample yet
 * @rtt_psn: PSN whose ack ends the running RTT sample (@rtt_on)
 * @rtt_start: ktime (ns) the sampled packet left
 * @rtt_on: a sample is running
 * @loss: loss score: +1 per loss blamed on the path, halved per sample
 * @suspend_until: jiffies; a path blamed for a timeout sits out until then
 * @tx_pkts: data packets sent on the path (retransmissions included)
 * @tx_bytes: their payload bytes
 * @retransmits: of @tx_pkts, those that were resent
 *
 * Everything is under qp->lock; the addressing fields (@port_index to
 * @pmtu) change only when qp->tx_lock is held as well (ml_path_refresh()),
 * so a transmitter holding tx_lock may read them without qp->lock.
 */
struct ml_path {
	u32 port_index;
	u64 port_id;
	u8 dmac[ETH_ALEN];
	bool udp;
	struct in6_addr daddr;
	u32 remote_port;
	u32 pmtu;
	u32 srtt_us;
	u32 rtt_psn;
	u64 rtt_start;
	bool rtt_on;
	u32 loss;
	unsigned long suspend_until;
	u64 tx_pkts, tx_bytes, retransmits;
};

/**
 * struct ml_paths - a QP's paths
 * @p: the paths, @num of them; p[0] is the primary (counters, the QP
 *	dump's port)
 * @num: live paths
 * @gen: dev->path_gen the set was resolved for
 * @cur: path of the current burst
 * @credit: packets left in its burst
 * @failovers: times packets in flight were moved off a lost path
 * @psn_path: the path that last carried PSN n, at n % ML_PATH_PSNS
 */
#define ML_PATH_PSNS	512	/* >= ML_WINDOW, a power of two */
struct ml_paths {
	struct ml_path p[ML_MAX_PATHS];
	u8 num;
	u8 cur;
	u32 gen;
	u32 credit;
	u64 failovers;
	u8 psn_path[ML_PATH_PSNS];
};

int ml_path_resolve(struct ml_dev *dev, u32 node, u32 min_pmtu,
		    struct ml_path *out, const struct ml_paths *cur);
bool ml_path_stale(struct ml_qp *qp);
void ml_path_refresh(struct ml_qp *qp);
void ml_path_install(struct ml_qp *qp, const struct ml_path *np, int n,
		     u32 gen);
struct ml_port *ml_path_port(struct ml_qp *qp, unsigned int i);
int ml_path_next(struct ml_qp *qp, u32 mask);
void ml_path_sent(struct ml_qp *qp, unsigned int i, u32 psn, u32 plen,
		  bool resent);
void ml_path_acked(struct ml_qp *qp, u32 psn);
void ml_path_loss(struct ml_qp *qp, u32 psn, bool timeout);
void ml_path_rtt_reset(struct ml_qp *qp);
void ml_path_changed(struct ml_dev *dev);

#endif /* _ML_PATH_H */
