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

#define ML_ABI_VERSION		1

/* Default EtherType of megalink frames (IEEE 802 local experimental). */
#define ML_ETHERTYPE_DEFAULT	0x88B5

#define ML_DEV_NAME_LEN		16	/* "ml%d", NUL-terminated */
#define ML_MAX_PORTS		8	/* ports per device */

/* Node ids 0 and 0xffffffff are reserved (unset / broadcast). */
#define ML_NODE_ID_MIN		1U
#define ML_NODE_ID_MAX		0xfffffffeU

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

	__ML_A_MAX,
	ML_A_MAX = __ML_A_MAX - 1
};

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

/* Device capabilities (ML_A_CAPS, struct ml_query_device.caps). */
#define ML_DEV_CAP_MULTI_PORT	(1ULL << 0)	/* PORT_BIND to an existing device */
#define ML_DEV_CAP_QUERY_PORTS	(1ULL << 1)	/* query_device returns ports */

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

#endif /* _UAPI_LINUX_MEGALINK_H */
