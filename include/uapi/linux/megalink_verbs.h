/* SPDX-License-Identifier: ((GPL-2.0 WITH Linux-syscall-note) OR MIT) */
/*
 * Megalink user-space ABI, the part libmegalink's public API shares with
 * it: status codes, opcodes, flags and limits, the counters, and the
 * layouts of the rings that user space maps (entries, completions, ring
 * headers).  <megalink/megalink.h> includes this header and nothing else
 * of the kernel ABI; <linux/megalink.h> (netlink family, ioctls, frames)
 * includes it too.  Rules: those of <linux/megalink.h> (docs/uapi.md).
 */
#ifndef _UAPI_LINUX_MEGALINK_VERBS_H
#define _UAPI_LINUX_MEGALINK_VERBS_H

#include <linux/types.h>

#define ML_DEV_NAME_LEN		16	/* "ml%d", NUL-terminated */

/* Node ids 0 and 0xffffffff are reserved (unset / broadcast). */
#define ML_NODE_ID_MIN		1U
#define ML_NODE_ID_MAX		0xfffffffeU

/* Device capabilities (ML_A_CAPS, struct ml_query_device.caps). */
#define ML_DEV_CAP_MULTI_PORT	(1ULL << 0)	/* PORT_BIND to an existing device */
#define ML_DEV_CAP_QUERY_PORTS	(1ULL << 1)	/* query_device returns ports */
#define ML_DEV_CAP_DATA_PLANE	(1ULL << 2)	/* PD, MR, CQ, RC QP ioctls */

/* MR access flags. Local read is always allowed. */
#define ML_ACCESS_LOCAL_WRITE	(1U << 0)
#define ML_ACCESS_REMOTE_WRITE	(1U << 1)
#define ML_ACCESS_REMOTE_READ	(1U << 2)
#define ML_ACCESS_ALL		(ML_ACCESS_LOCAL_WRITE | ML_ACCESS_REMOTE_WRITE | \
				 ML_ACCESS_REMOTE_READ)

/* Work request flags (struct ml_send_wqe.flags) and limits. */
#define ML_WR_F_SIGNALED	(1U << 0)	/* completion even on success */
#define ML_WR_F_INLINE		(1U << 1)	/* data in inline_data */

#define ML_MAX_SGE		4
#define ML_MAX_INLINE		64

/* struct ml_cqe.flags */
#define ML_WC_F_IMM		(1U << 0)

/* Attributes of the ML_A_STATS nest: all u64. */
enum ml_stat {
	ML_STAT_UNSPEC,
	ML_STAT_PAD,
	ML_STAT_TX_FRAMES,
	ML_STAT_TX_BYTES,
	ML_STAT_TX_ERRORS,	/* dropped by dev_queue_xmit or no memory */
	ML_STAT_RX_FRAMES,	/* valid frames accepted */
	ML_STAT_RX_BYTES,
	ML_STAT_TX_HELLO,
	ML_STAT_RX_HELLO,
	ML_STAT_NEIGH_FOUND,
	ML_STAT_NEIGH_LOST,
	ML_STAT_LINK_UP,
	ML_STAT_LINK_DOWN,
	ML_STAT_DROP_SHORT,	/* shorter than the megalink header */
	ML_STAT_DROP_VERSION,	/* unknown protocol version */
	ML_STAT_DROP_TYPE,	/* unknown frame type */
	ML_STAT_DROP_LENGTH,	/* header length disagrees with the frame */
	ML_STAT_DROP_MALFORMED,	/* body invalid for its type */
	ML_STAT_DROP_LOOP,	/* our own node id came back */
	ML_STAT_DROP_NEIGH_FULL,	/* neighbour table full */
	ML_STAT_DROP_NOMEM,
	ML_STAT_RX_NOT_MINE,	/* valid, addressed to another node: ignored */
	/* reliable transport */
	ML_STAT_RX_DATA,	/* data frames that passed the CRC */
	ML_STAT_TX_ACK,
	ML_STAT_RX_ACK,
	ML_STAT_TX_NAK,		/* NAKs sent: sequence, RNR, access, invalid */
	ML_STAT_RX_NAK,
	ML_STAT_RETRANSMITS,	/* packets sent again */
	ML_STAT_TIMEOUTS,	/* retransmission timer expiries */
	ML_STAT_RNR_NAKS,	/* receiver-not-ready NAKs sent */
	ML_STAT_DROP_CRC,	/* CRC32C mismatch: corrupted on the way */
	ML_STAT_DROP_NO_QP,	/* no such QP, or not connected to the sender */
	ML_STAT_DROP_SEQ,	/* out of sequence or duplicate */
	ML_STAT_TX_ZEROCOPY,	/* data frames sent with the payload attached, not copied */
	ML_STAT_RX_ECN_CE,	/* UDP datagrams received marked ECN CE */
	ML_STAT_ECN_CWND_CUTS,	/* send windows halved for an ECN echo (ACK ECE) */
	ML_STAT_DROP_UDP_MALFORMED,	/* UDP datagram too short for a megalink header */
	ML_STAT_DROP_UDP_UNKNOWN,	/* UDP datagram from no configured peer */
	/* topology flooding (docs/wire.md section 7) */
	ML_STAT_TX_TOPO,	/* topology records sent (own and re-flooded) */
	ML_STAT_RX_TOPO,	/* valid topology records received */
	ML_STAT_TOPO_STALE,	/* valid records not newer than the stored one: ignored */
	ML_STAT_DROP_TOPO_MALFORMED,	/* bad length, too many links, bad ids */
	ML_STAT_DROP_TOPO_SPOOF,	/* claims to be ours with a newer seq */
	ML_STAT_DROP_TOPO_FULL,	/* node table full (ML_TOPO_MAX_NODES) */

	__ML_STAT_MAX,
	ML_STAT_MAX = __ML_STAT_MAX - 1
};

enum ml_link_state {
	ML_LINK_DOWN = 0,
	ML_LINK_UP = 1,
};

/* Why a port went down (ML_A_REASON in ML_CMD_PORT_DOWN_NTF). */
enum ml_link_reason {
	ML_REASON_NONE = 0,
	ML_REASON_CARRIER = 1,	/* netdev carrier or admin state changed */
	ML_REASON_NEIGH = 2,	/* neighbour found or lost */
	ML_REASON_UNBIND = 3,	/* port unbound or netdev gone */
};

/* One port, as returned by ML_IOCTL_QUERY_DEVICE. */
struct ml_port_attr {
	__u32 port_index;
	__u32 ifindex;
	__u32 mtu;
	__u8 link_state;	/* enum ml_link_state */
	__u8 carrier;
	__u8 mac[6];
	__u32 num_neigh;
	__u32 reserved;
};

enum ml_qp_state {
	ML_QPS_RESET = 0,
	ML_QPS_INIT = 1,
	ML_QPS_RTR = 2,
	ML_QPS_RTS = 3,
	ML_QPS_ERROR = 4,
};

/* Work requests. */
enum ml_wr_opcode {
	ML_WR_SEND = 1,
	ML_WR_SEND_IMM = 2,
	ML_WR_WRITE = 3,
	ML_WR_WRITE_IMM = 4,
	ML_WR_READ = 5,
};

struct ml_sge {
	__aligned_u64 addr;
	__u32 length;
	__u32 lkey;
};

enum ml_wc_status {
	ML_WC_SUCCESS = 0,
	ML_WC_LOC_LEN_ERR = 1,		/* receive buffer too small */
	ML_WC_LOC_PROT_ERR = 2,		/* bad lkey / local access */
	ML_WC_WR_FLUSH_ERR = 3,		/* flushed: QP in error */
	ML_WC_REM_ACCESS_ERR = 4,	/* peer refused rkey/range/access */
	ML_WC_REM_INV_REQ_ERR = 5,
	ML_WC_RETRY_EXC_ERR = 6,	/* peer silent past the retry budget */
	ML_WC_RNR_RETRY_EXC_ERR = 7,	/* peer had no receive posted */
	ML_WC_BAD_WR = 8,		/* malformed work request */
	ML_WC_REM_OP_ERR = 9,		/* reserved: never produced, not reused */
	ML_WC_CQ_OVERRUN_ERR = 10,	/* a CQ of the QP was full: QP status only */
};

enum ml_wc_opcode {
	ML_WC_SEND = 1,
	ML_WC_WRITE = 2,
	ML_WC_READ = 3,
	ML_WC_RECV = 4,
	ML_WC_RECV_IMM = 5,	/* SEND with immediate, or WRITE with imm */
};

#define ML_WC_F_IMM		(1U << 0)

/* CQ entry: 32 bytes. */
struct ml_cqe {
	__aligned_u64 wr_id;
	__u8 status;		/* enum ml_wc_status */
	__u8 opcode;		/* enum ml_wc_opcode */
	__u16 flags;		/* ML_WC_F_* */
	__u32 byte_len;
	__u32 imm;
	__u32 qpn;		/* local QP number */
	__u32 src_qpn;
	__u32 reserved;
};

/* Every ring starts with this header page: indices in own cache lines. */
struct ml_ring_hdr {
	__u32 producer;
	__u32 pad0[15];
	__u32 consumer;
	__u32 pad1[15];
	__u32 mask;		/* entries - 1 */
	__u32 entry_size;
	__u32 armed;		/* CQ: user writes 1 to ask for a wakeup */
	__u32 flags;		/* kernel: ML_RING_F_* */
	/*
	 * Kernel, at creation: byte offset of entry 0 from the start of the
	 * mapping (the kernel's page size).  0 from kernels before it was
	 * exported: the entries are then at 4096, which was right only
	 * with 4 KiB pages.
	 */
	__u32 entries_offset;
	__u32 pad2[11];
};
/* QP rings: the QP is in error.  CQ ring: a completion was lost to overflow. */
#define ML_RING_F_ERROR		(1U << 0)

/* SQ entry: 128 bytes. */
struct ml_send_wqe {
	__aligned_u64 wr_id;
	__u8 opcode;		/* enum ml_wr_opcode */
	__u8 num_sge;
	__u16 flags;		/* ML_WR_F_* */
	__u32 imm;		/* host order; big-endian on the wire */
	__aligned_u64 remote_addr;
	__u32 rkey;
	__u32 inline_len;
	union {
		struct ml_sge sge[ML_MAX_SGE];
		__u8 inline_data[ML_MAX_INLINE];
	};
	__u8 reserved[32];
};

/* RQ entry: 80 bytes. */
struct ml_recv_wqe {
	__aligned_u64 wr_id;
	__u32 num_sge;
	__u32 reserved;
	struct ml_sge sge[ML_MAX_SGE];
};

#endif /* _UAPI_LINUX_MEGALINK_VERBS_H */
