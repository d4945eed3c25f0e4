/* SPDX-License-Identifier: ((GPL-2.0 WITH Linux-syscall-note) OR MIT) */
/*
 * Megalink user-space ABI: the generic netlink family (control plane) and
 * the character device ioctls (data plane).
 *
 * Shared verbatim by megalink.ko and libmegalink.  Rules (see
 * docs/uapi.md): structs are size-first and extensible, every field has an
 * explicit width, there is no implicit padding, reserved fields and unknown
 * flags must be zero, and ML_ABI_VERSION changes only on an incompatible
 * break.  New capabilities are announced by ML_DEV_CAP_* bits.
 */
#ifndef _UAPI_LINUX_MEGALINK_H
#define _UAPI_LINUX_MEGALINK_H

#include <linux/types.h>
#include <linux/ioctl.h>
#include <linux/megalink_verbs.h>

#define ML_ABI_VERSION		1

/* Default EtherType of megalink frames (IEEE 802 local experimental). */
#define ML_ETHERTYPE_DEFAULT	0x88B5

#define ML_MAX_PORTS		8	/* ports per device */
#define ML_MAX_PEERS		64	/* UDP peers per device */
#define ML_UDP_PORT_DEFAULT	4793	/* module parameter udp_port */
#define ML_MAX_DEVICES		256	/* ml0 .. ml255 */

/* Discovery timing limits, milliseconds. */
#define ML_HELLO_MS_MIN		10U
#define ML_HELLO_MS_MAX		60000U
#define ML_HELLO_MS_DEFAULT	1000U
#define ML_DEAD_MS_MIN		30U
#define ML_DEAD_MS_MAX		600000U
#define ML_DEAD_MS_DEFAULT	4000U

/* ------------------------------------------------------------------ */
/* Generic netlink family                                              */
/* ------------------------------------------------------------------ */

#define ML_GENL_NAME		"megalink"
#define ML_GENL_VERSION		1
#define ML_GENL_MCGRP_MONITOR	"monitor"

enum ml_cmd {
	ML_CMD_UNSPEC,
	ML_CMD_DEV_GET,		/* doit (DEV_INDEX or DEV_NAME) + dumpit */
	ML_CMD_DEV_SET,		/* admin: NODE_ID, HELLO_MS, DEAD_MS */
	ML_CMD_PORT_GET,	/* doit (DEV + PORT_INDEX, or IFINDEX) + dumpit */
	ML_CMD_PORT_BIND,	/* admin: IFINDEX or IFNAME [, DEV_*] [, NODE_ID] */
	ML_CMD_PORT_UNBIND,	/* admin: IFINDEX or IFNAME, or DEV + PORT_INDEX */
	ML_CMD_NEIGH_GET,	/* dumpit [DEV_INDEX] */
	ML_CMD_STATS_GET,	/* doit/dumpit: per-port counters */
	/* notifications, multicast to the "monitor" group */
	ML_CMD_DEV_NEW_NTF,
	ML_CMD_DEV_DEL_NTF,
	ML_CMD_PORT_UP_NTF,
	ML_CMD_PORT_DOWN_NTF,
	ML_CMD_NEIGH_FOUND_NTF,
	ML_CMD_NEIGH_LOST_NTF,
	ML_CMD_QP_GET,		/* dumpit [DEV_INDEX|DEV_NAME] */
	ML_CMD_QP_ERROR_NTF,	/* a QP entered the error state */
	ML_CMD_PEER_ADD,	/* admin: DEV_* + PEER_ADDR [, PEER_LOCAL] */
	ML_CMD_PEER_DEL,	/* admin: DEV_* + PEER_ADDR */
	ML_CMD_PEER_GET,	/* dumpit [DEV_INDEX|DEV_NAME] */
	ML_CMD_TOPO_GET,	/* dumpit [DEV_INDEX|DEV_NAME]: the fabric, per node */
	ML_CMD_TOPO_NTF,	/* topology change: TOPO_EVENT, TOPO_NODE_ID [, link] */

	__ML_CMD_MAX,
	ML_CMD_MAX = __ML_CMD_MAX - 1
};

enum ml_attr {
	ML_A_UNSPEC,
	ML_A_PAD,
	ML_A_DEV_INDEX,		/* u32 */
	ML_A_DEV_NAME,		/* string */
	ML_A_NODE_ID,		/* u32 */
	ML_A_HELLO_MS,		/* u32 */
	ML_A_DEAD_MS,		/* u32 */
	ML_A_CAPS,		/* u64, ML_DEV_CAP_* */
	ML_A_ABI_VERSION,	/* u32 */
	ML_A_ETHERTYPE,		/* u16 */
	ML_A_NUM_PORTS,		/* u32 */
	ML_A_PORT_INDEX,	/* u32 */
	ML_A_IFINDEX,		/* u32 */
	ML_A_IFNAME,		/* string */
	ML_A_MAC,		/* binary, ETH_ALEN */
	ML_A_MTU,		/* u32 */
	ML_A_CARRIER,		/* u8, 0 or 1 */
	ML_A_LINK_STATE,	/* u8, enum ml_link_state */
	ML_A_NUM_NEIGH,		/* u32 */
	ML_A_NEIGH_NODE_ID,	/* u32 */
	ML_A_NEIGH_PORT_INDEX,	/* u32 */
	ML_A_NEIGH_MAC,		/* binary, ETH_ALEN */
	ML_A_NEIGH_DEV_NAME,	/* string */
	ML_A_NEIGH_CAPS,	/* u64 */
	ML_A_NEIGH_AGE_MS,	/* u32, time since the last HELLO */
	ML_A_NEIGH_DEAD_MS,	/* u32, the dead interval the neighbour asked for */
	ML_A_STATS,		/* nest, enum ml_stat */
	ML_A_REASON,		/* u8, enum ml_link_reason (notifications) */
	/* data plane */
	ML_A_NUM_CTX,		/* u32, open files of the char device */
	ML_A_NUM_PDS,		/* u32, and so on: objects of the device */
	ML_A_NUM_MRS,		/* u32 */
	ML_A_NUM_CQS,		/* u32 */
	ML_A_NUM_QPS,		/* u32 */
	ML_A_PINNED_PAGES,	/* u64, pages pinned by its MRs */
	ML_A_QPN,		/* u32 */
	ML_A_QP_STATE,		/* u8, enum ml_qp_state */
	ML_A_QP_STATUS,		/* u8, enum ml_wc_status that caused the error */
	ML_A_REMOTE_NODE,	/* u32 */
	ML_A_REMOTE_QPN,	/* u32 */
	ML_A_SND_PSN,		/* u32 */
	ML_A_SND_UNA,		/* u32 */
	ML_A_RCV_PSN,		/* u32 */
	ML_A_OUTSTANDING,	/* u32, send WRs not completed */
	ML_A_RETRANSMITS,	/* u64 */
	ML_A_TIMEOUTS,		/* u64 */
	ML_A_RNR_NAKS,		/* u64 */
	ML_A_SEQ_NAKS,		/* u64 */
	ML_A_OWNER_PID,		/* u32, process that created the QP */
	ML_A_NEIGH_MTU,		/* u32, MTU the neighbour's port advertised */
	ML_A_PEER_ADDR,		/* u32, big endian: IPv4 address of a UDP peer */
	ML_A_PEER_LOCAL,	/* u32, big endian: local IPv4 address to send from */
	ML_A_NEIGH_ADDR,	/* u32, big endian: a UDP neighbour's IPv4 address */
	ML_A_UDP_PORT,		/* u16: the UDP port (module parameter udp_port) */
	ML_A_PEER_ADDR6,	/* binary, 16: IPv6 address of a UDP peer */
	ML_A_PEER_LOCAL6,	/* binary, 16: local IPv6 address to send from */
	ML_A_NEIGH_ADDR6,	/* binary, 16: a UDP neighbour's IPv6 address */
	/* topology (ML_CMD_TOPO_GET, ML_CMD_TOPO_NTF) */
	ML_A_TOPO_NODE_ID,	/* u32, the node whose record this is */
	ML_A_TOPO_SEQ,		/* u32, its sequence number */
	ML_A_TOPO_AGE_MS,	/* u32, since the record was stored */
	ML_A_TOPO_LIFETIME_MS,	/* u32, left before it ages out */
	ML_A_TOPO_FLAGS,	/* u32, ML_TOPO_F_* */
	ML_A_TOPO_LINK,		/* nest, enum ml_topo_link_attr; repeated */
	ML_A_TOPO_EVENT,	/* u8, enum ml_topo_event (ML_CMD_TOPO_NTF) */
	ML_A_TOPO_NUM_LINKS,	/* u32, links in the record */
	ML_A_NUM_PATHS,		/* u32, paths a QP has to its peer now */
	ML_A_FAILOVERS,		/* u64, times a QP moved packets off a lost path */
	ML_A_PATH,		/* nest, enum ml_path_attr; one per path of a QP */
	ML_A_CWND,		/* u32, a QP's congestion window, packets */
	ML_A_SSTHRESH,		/* u32, its slow-start threshold, packets */
	ML_A_REORDER_NAK,	/* u32, PSNs of reorder its responder waits out */

	__ML_A_MAX,
	ML_A_MAX = __ML_A_MAX - 1
};

/* ML_A_TOPO_FLAGS */
#define ML_TOPO_F_SELF		(1U << 0)	/* the dumping device's own record */
#define ML_TOPO_F_REACHABLE	(1U << 1)	/* reachable from it over the links */

/* Attributes of an ML_A_TOPO_LINK nest. */
enum ml_topo_link_attr {
	ML_A_TOPO_LINK_UNSPEC,
	ML_A_TOPO_LINK_NODE_ID,		/* u32, the neighbour node */
	ML_A_TOPO_LINK_LOCAL_PORT,	/* u32, port index on the record's node */
	ML_A_TOPO_LINK_REMOTE_PORT,	/* u32, port index on the neighbour */
	ML_A_TOPO_LINK_KIND,		/* u8, enum ml_topo_link_kind */
	ML_A_TOPO_LINK_STATE,		/* u8, enum ml_link_state */
	ML_A_TOPO_LINK_MTU,		/* u32 */

	__ML_A_TOPO_LINK_MAX,
	ML_A_TOPO_LINK_MAX = __ML_A_TOPO_LINK_MAX - 1
};

/* ML_A_TOPO_EVENT of ML_CMD_TOPO_NTF */
enum ml_topo_event {
	ML_TOPO_EV_NONE = 0,
	ML_TOPO_EV_NODE_JOIN = 1,	/* a node became reachable */
	ML_TOPO_EV_NODE_LEAVE = 2,	/* a node became unreachable or aged out */
	ML_TOPO_EV_LINK_UP = 3,		/* a record gained a link (ML_A_TOPO_LINK) */
	ML_TOPO_EV_LINK_DOWN = 4,	/* a record lost a link */
};

/* Attributes of an ML_A_PATH nest: one path of a QP (its QP dump). */
enum ml_path_attr {
	ML_PATH_A_UNSPEC,
	ML_PATH_A_PAD,
	ML_PATH_A_INDEX,	/* u32, the path's index in the QP's set */
	ML_PATH_A_PORT_INDEX,	/* u32, the local port */
	ML_PATH_A_IFNAME,	/* string, its netdev */
	ML_PATH_A_REMOTE_PORT,	/* u32, the neighbour's port index */
	ML_PATH_A_MAC,		/* binary, ETH_ALEN: the neighbour's MAC */
	ML_PATH_A_ADDR,		/* u32, big endian: a UDP neighbour's IPv4 address */
	ML_PATH_A_SRTT_US,	/* u32, smoothed round trip; 0: no sample yet */
	ML_PATH_A_LOSS,		/* u32, loss score that shrinks its bursts */
	ML_PATH_A_TX_PACKETS,	/* u64, data packets sent on the path */
	ML_PATH_A_TX_BYTES,	/* u64, their payload bytes */
	ML_PATH_A_RETRANSMITS,	/* u64, of those, packets sent again */
	ML_PATH_A_ADDR6,	/* binary, 16: a UDP/IPv6 neighbour's address */

	__ML_PATH_A_MAX,
	ML_PATH_A_MAX = __ML_PATH_A_MAX - 1
};

/* ------------------------------------------------------------------ */
/* Wire format (documented here for tools and tests that craft frames)  */
/* ------------------------------------------------------------------ */

/*
 * Every megalink frame is an Ethernet II frame of the megalink EtherType
 * whose payload starts with struct ml_wire_hdr, all fields big-endian.
 * @len counts from the start of the header to the end of the megalink
 * payload (Ethernet padding after it is ignored).
 */
#define ML_WIRE_VERSION		1
#define ML_WIRE_NODE_ALL	0xffffffffU

enum ml_wire_type {
	ML_WIRE_HELLO = 1,
	ML_WIRE_DATA = 2,
	ML_WIRE_ACK = 3,
	ML_WIRE_TOPO = 4,
};

struct ml_wire_hdr {
	__u8 version;
	__u8 type;
	__be16 len;
	__be32 src_node;
	__be32 dst_node;
};

/* HELLO: sent to the broadcast MAC and ML_WIRE_NODE_ALL every hello_ms. */
struct ml_wire_hello {
	struct ml_wire_hdr hdr;
	__be16 src_port;
	__be16 flags;		/* must be 0 */
	__be64 caps;
	__be32 dead_ms;		/* how long the receiver may wait for the next */
	__be32 hello_ms;	/* the sender's HELLO interval */
	char dev_name[ML_DEV_NAME_LEN];	/* NUL-terminated */
	/* From here on optional: a HELLO of ML_WIRE_HELLO_MIN_LEN lacks it. */
	__be32 mtu;		/* the sender port's netdev MTU; 0: not said */
	__be32 reserved;	/* sent 0, ignored */
};

/* The shortest valid HELLO (hdr.len): up to and including dev_name. */
#define ML_WIRE_HELLO_MIN_LEN	48

/*
 * Reliable-connection transport frames (ML_WIRE_DATA, ML_WIRE_ACK): a
 * megalink header addressed to the peer node, then the transport header.
 * @crc is the CRC32C (Castagnoli, as crc32c() in the kernel: seed ~0, no
 * final inversion) of the megalink and transport headers, with @crc set
 * to 0, followed by the payload.
 */
enum ml_wire_op {
	ML_OP_SEND = 1,
	ML_OP_WRITE = 2,
	ML_OP_READ_REQ = 3,
	ML_OP_READ_RESP = 4,
};

#define ML_PKT_F_FIRST		(1U << 0)	/* first packet of a message */
#define ML_PKT_F_LAST		(1U << 1)	/* last packet of a message */
#define ML_PKT_F_IMM		(1U << 2)	/* imm is valid (LAST only) */
#define ML_PKT_F_ACKREQ		(1U << 3)	/* acknowledge at once */
#define ML_PKT_F_RESENT		(1U << 4)	/* a retransmission (a hint) */

struct ml_wire_data {
	struct ml_wire_hdr hdr;		/* type ML_WIRE_DATA */
	__be32 dst_qpn;
	__be32 src_qpn;
	__be32 psn;			/* 24 bits used */
	__u8 op;			/* enum ml_wire_op */
	__u8 flags;			/* ML_PKT_F_* */
	__be16 reserved;
	__be32 imm;
	__be64 raddr;			/* WRITE, READ_REQ: target address */
	__be32 rkey;			/* WRITE, READ_REQ */
	__be32 msg_len;			/* whole message length (FIRST, READ_REQ) */
	__be32 crc;
	__be32 reserved2;
	/* payload follows */
};

enum ml_ack_syndrome {
	ML_ACK_OK = 0,
	ML_NAK_SEQ = 1,		/* psn is the one expected */
	ML_NAK_RNR = 2,		/* no receive posted; retry psn later */
	ML_NAK_ACCESS = 3,	/* remote access error at psn */
	ML_NAK_INVALID = 4,	/* invalid request at psn */
};

/* struct ml_wire_ack.flags */
#define ML_ACK_F_ECE		(1U << 0)	/* a DATA frame acked came CE-marked */

struct ml_wire_ack {
	struct ml_wire_hdr hdr;		/* type ML_WIRE_ACK */
	__be32 dst_qpn;
	__be32 src_qpn;
	__be32 psn;		/* ACK: all up to and including psn received */
	__u8 syndrome;		/* enum ml_ack_syndrome */
	__u8 flags;		/* ML_ACK_F_* */
	__u8 reserved[2];
	__be32 crc;
};

/*
 * TOPO: a node's link-state record, flooded to every node (docs/wire.md
 * section 7).  hdr.src_node is the sender (the origin or a node that
 * re-floods it), hdr.dst_node ML_WIRE_NODE_ALL, hdr.len exactly
 * sizeof(struct ml_wire_topo) + num_links * sizeof(struct ml_wire_topo_link).
 */
#define ML_TOPO_MAX_NODES	256	/* records a node stores */
#define ML_TOPO_MAX_LINKS	64	/* links per record */
#define ML_TOPO_LIFETIME_MAX_MS	600000U

enum ml_topo_link_kind {
	ML_TOPO_LINK_ETH = 0,
	ML_TOPO_LINK_UDP = 1,
};

struct ml_wire_topo {
	struct ml_wire_hdr hdr;		/* type ML_WIRE_TOPO */
	__be32 origin;			/* node id the record describes */
	__be32 seq;			/* serial: newer replaces older */
	__be32 lifetime_ms;		/* keep this long; 0: withdrawn */
	__be16 num_links;		/* 0..ML_TOPO_MAX_LINKS */
	__be16 flags;			/* must be 0 */
	/* struct ml_wire_topo_link links[num_links] */
};

struct ml_wire_topo_link {
	__be32 node;			/* neighbour node id */
	__u8 local_port;		/* origin's port index, < ML_MAX_PORTS */
	__u8 remote_port;		/* neighbour's port index */
	__u8 kind;			/* enum ml_topo_link_kind */
	__u8 state;			/* enum ml_link_state */
	__be32 mtu;			/* path MTU of the link */
};

/* ------------------------------------------------------------------ */
/* Character device: /dev/megalink/mlN                                  */
/* ------------------------------------------------------------------ */

/*
 * Every ioctl argument starts with __u32 size, the size of the struct as
 * user space knows it.  The kernel accepts any size from the documented
 * minimum up: a shorter struct than the kernel's is zero-extended, a
 * longer one must have a zero tail (else -E2BIG).  Output is written up to
 * the size user space gave.  Unknown flags and non-zero reserved fields are
 * -EINVAL, unknown commands -ENOTTY.
 */
#define ML_IOCTL_TYPE		0xB5
#define ML_IOCTL_BASE		0x80

enum {
	ML_IOCTL_CMD_QUERY_DEVICE = ML_IOCTL_BASE,
	ML_IOCTL_CMD_QUERY_LIMITS,
	ML_IOCTL_CMD_ALLOC_PD,
	ML_IOCTL_CMD_DESTROY,
	ML_IOCTL_CMD_REG_MR,
	ML_IOCTL_CMD_CREATE_CQ,
	ML_IOCTL_CMD_CREATE_QP,
	ML_IOCTL_CMD_CONNECT_QP,
	ML_IOCTL_CMD_QUERY_QP,
	ML_IOCTL_CMD_NOTIFY,
};

/**
 * struct ml_query_device - ML_IOCTL_QUERY_DEVICE
 * @size: sizeof(struct ml_query_device)
 * @flags: must be 0
 * @abi_version: out, ML_ABI_VERSION
 * @node_id: out
 * @caps: out, ML_DEV_CAP_*
 * @dev_index: out, N of mlN
 * @num_ports: out, ports bound now
 * @max_ports: out, ML_MAX_PORTS
 * @ethertype: out
 * @name: out, "mlN"
 * @port_entries: in, number of entries @ports has room for (0: none)
 * @port_entry_size: in, sizeof(struct ml_port_attr) as user space knows it
 * @ports: in, user pointer to @port_entries entries of @port_entry_size;
 *	the kernel fills min(@port_entries, @num_ports) of them
 * @hello_ms: out, HELLO interval
 * @dead_ms: out, dead interval
 */
struct ml_query_device {
	__u32 size;
	__u32 flags;
	__u32 abi_version;
	__u32 node_id;
	__aligned_u64 caps;
	__u32 dev_index;
	__u32 num_ports;
	__u32 max_ports;
	__u32 ethertype;
	char name[ML_DEV_NAME_LEN];
	__u32 port_entries;
	__u32 port_entry_size;
	__aligned_u64 ports;
	__u32 hello_ms;
	__u32 dead_ms;
};

#define ML_IOCTL_QUERY_DEVICE	_IO(ML_IOCTL_TYPE, ML_IOCTL_CMD_QUERY_DEVICE)
/* ------------------------------------------------------------------ */
/* Data plane: objects, rings and work requests (ABI 1, caps below)     */
/* ------------------------------------------------------------------ */

/* Object types of ML_IOCTL_DESTROY. */
enum ml_obj_type {
	ML_OBJ_PD = 1,
	ML_OBJ_MR = 2,
	ML_OBJ_CQ = 3,
	ML_OBJ_QP = 4,
};

/* Limits reported by ML_IOCTL_QUERY_LIMITS and enforced. */
struct ml_query_limits {
	__u32 size;
	__u32 flags;
	__u32 max_pd;		/* per open file */
	__u32 max_mr;
	__u32 max_cq;
	__u32 max_qp;
	__u32 max_cqe;		/* ring depth */
	__u32 max_sq_wr;
	__u32 max_rq_wr;
	__u32 max_sge;
	__u32 max_inline;
	__u32 max_qp_dev;	/* per device, all files */
	__aligned_u64 max_msg_size;
	__aligned_u64 max_mr_size;
};

struct ml_alloc_pd {
	__u32 size;
	__u32 flags;
	__u32 out_pd;
	__u32 reserved;
};

struct ml_destroy {
	__u32 size;
	__u32 flags;
	__u32 type;		/* enum ml_obj_type */
	__u32 handle;
};

struct ml_reg_mr {
	__u32 size;
	__u32 flags;
	__u32 pd;
	__u32 access;		/* ML_ACCESS_* */
	__aligned_u64 addr;	/* user virtual address, any alignment */
	__aligned_u64 length;	/* bytes, > 0 */
	__u32 out_handle;
	__u32 out_lkey;
	__u32 out_rkey;
	__u32 reserved;
};

struct ml_create_cq {
	__u32 size;
	__u32 flags;
	__u32 entries;		/* in: at least; out: actual (power of two) */
	__u32 out_handle;
	__aligned_u64 out_mmap_offset;
	__aligned_u64 out_mmap_size;
};

struct ml_create_qp {
	__u32 size;
	__u32 flags;
	__u32 pd;
	__u32 send_cq;
	__u32 recv_cq;
	__u32 sq_entries;	/* in: at least; out: actual */
	__u32 rq_entries;
	__u32 max_send_sge;	/* in, <= max_sge */
	__u32 max_recv_sge;
	__u32 max_inline;	/* in, <= max_inline */
	__u32 out_handle;
	__u32 out_qpn;		/* device-wide QP number, for the peer */
	__aligned_u64 out_sq_offset;
	__aligned_u64 out_sq_size;
	__aligned_u64 out_rq_offset;
	__aligned_u64 out_rq_size;
};

struct ml_connect_qp {
	__u32 size;
	__u32 flags;
	__u32 qp;
	__u32 remote_node;
	__u32 remote_qpn;
	__u32 timeout_ms;	/* 0: default; first retransmission timeout */
	__u8 retry_cnt;		/* 0: default (7); 1..15 */
	__u8 rnr_retry;		/* 0: default (7); 1..15 */
	__u16 reserved0;
	__u32 rnr_timer_ms;	/* 0: default */
};

struct ml_query_qp {
	__u32 size;
	__u32 flags;
	__u32 qp;
	__u32 state;		/* enum ml_qp_state */
	__u32 qpn;
	__u32 remote_node;
	__u32 remote_qpn;
	__u32 snd_psn;		/* next PSN to send */
	__u32 snd_una;		/* oldest unacknowledged PSN */
	__u32 rcv_psn;		/* next expected PSN */
	__aligned_u64 retransmits;
	__aligned_u64 timeouts;
	__u32 outstanding;	/* send WRs posted, not completed */
	__u32 status;		/* enum ml_wc_status that moved it to error */
};

/* Doorbell: new send work in the SQ ring of @qp. */
struct ml_notify {
	__u32 size;
	__u32 flags;
	__u32 qp;
	__u32 reserved;
};

#define ML_IOCTL_QUERY_LIMITS	_IO(ML_IOCTL_TYPE, ML_IOCTL_CMD_QUERY_LIMITS)
#define ML_IOCTL_ALLOC_PD	_IO(ML_IOCTL_TYPE, ML_IOCTL_CMD_ALLOC_PD)
#define ML_IOCTL_DESTROY	_IO(ML_IOCTL_TYPE, ML_IOCTL_CMD_DESTROY)
#define ML_IOCTL_REG_MR		_IO(ML_IOCTL_TYPE, ML_IOCTL_CMD_REG_MR)
#define ML_IOCTL_CREATE_CQ	_IO(ML_IOCTL_TYPE, ML_IOCTL_CMD_CREATE_CQ)
#define ML_IOCTL_CREATE_QP	_IO(ML_IOCTL_TYPE, ML_IOCTL_CMD_CREATE_QP)
#define ML_IOCTL_CONNECT_QP	_IO(ML_IOCTL_TYPE, ML_IOCTL_CMD_CONNECT_QP)
#define ML_IOCTL_QUERY_QP	_IO(ML_IOCTL_TYPE, ML_IOCTL_CMD_QUERY_QP)
#define ML_IOCTL_NOTIFY		_IO(ML_IOCTL_TYPE, ML_IOCTL_CMD_NOTIFY)

#endif /* _UAPI_LINUX_MEGALINK_H */
