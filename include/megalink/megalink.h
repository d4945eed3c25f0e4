/* SPDX-License-Identifier: MIT */
/*
 * libmegalink: user-space library for megalink devices.
 *
 * Conventions (as liburing):
 *  - every call returns 0 (or a positive count) on success and a negative
 *    errno on failure; nothing sets errno as its result;
 *  - after a failure, ml_last_error() returns a thread-local, one-line
 *    explanation that names the call, the argument and, when the kernel
 *    sent one, its extended-ack message and the offending attribute, e.g.
 *    "port bind lo: Device is not an Ethernet device (attribute ifindex)";
 *  - there is no global state apart from that detail text: separate
 *    handles may be used from separate threads at the same time, one handle
 *    must not be used by two threads at once;
 *  - arrays returned through an "out" pointer are allocated with malloc():
 *    release them with ml_free() (or free()).
 *
 * Build: `pkg-config --cflags --libs megalink`.  This header is all an
 * application needs.  Of the kernel ABI it includes only
 * <linux/megalink_verbs.h>, the values and types the library's API shares
 * with it (status codes, opcodes, flags, struct ml_sge, struct ml_cqe,
 * struct ml_port_attr, enum ml_stat, the ring layouts); the rest of the
 * kernel ABI, <linux/megalink.h> (ioctl numbers and structs, netlink
 * attributes, frame formats), is for the library and for tests of the
 * kernel interface.  The installed ABI headers live in
 * $(includedir)/megalink/uapi/linux/ and megalink.pc adds that directory
 * to the include path (it never overwrites a distribution's
 * /usr/include/linux).  In the source tree use -Iinclude -Iinclude/uapi.
 */
#ifndef MEGALINK_MEGALINK_H
#define MEGALINK_MEGALINK_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Status codes, opcodes, flags, limits, counters, struct ml_sge, struct
 * ml_cqe, struct ml_port_attr and the ring layouts the inline calls below
 * use: the part of the kernel ABI that is also this library's API.
 */
#include <linux/megalink_verbs.h>

#define ML_LIB_VERSION_MAJOR	1
#define ML_LIB_IFNAMSIZ		16	/* IFNAMSIZ */
#define ML_LIB_STATS_SLOTS	64	/* room for enum ml_stat, > ML_STAT_MAX */
#define ML_LIB_INFO_PORTS	8	/* ports returned by ml_device_query() */

/* ------------------------------------------------------------------ */
/* Errors and helpers                                                  */
/* ------------------------------------------------------------------ */

/* Short text for an errno value (positive or negative). Never NULL. */
const char *ml_strerror(int err);

/*
 * Detail of the last failure of a libmegalink call in the calling thread.
 * Never NULL ("" when nothing failed yet).  Valid until the next failing
 * call in the same thread.
 */
const char *ml_last_error(void);

/* Library version string ("0.1.0"). */
const char *ml_version(void);

/* free() for memory returned by the library. */
void ml_free(void *p);

/* "tx_frames", "drop_short", ... for an enum ml_stat value; NULL for
 * UNSPEC, PAD and values this library does not know. */
const char *ml_stat_name(unsigned int stat);

/* Netlink attribute name ("dev-name", "ifindex", ...) or NULL. */
const char *ml_attr_name(unsigned int attr);

/* "up"/"down" for enum ml_link_state; "none", "carrier", "neigh",
 * "unbind" for enum ml_link_reason.  Unknown values give "unknown". */
const char *ml_link_state_name(unsigned int state);
const char *ml_reason_name(unsigned int reason);

/*
 * Parse a node id: decimal or 0x-prefixed hexadecimal, within
 * ML_NODE_ID_MIN..ML_NODE_ID_MAX.  -EINVAL on syntax, -ERANGE on range.
 */
int ml_parse_node_id(const char *s, uint32_t *out);

/* Parse an unsigned 32-bit decimal (or 0x hex) number.  -EINVAL/-ERANGE. */
int ml_parse_u32(const char *s, uint32_t *out);

/* ------------------------------------------------------------------ */
/* Object descriptions (filled by the library)                         */
/* ------------------------------------------------------------------ */

/* A device (ML_CMD_DEV_GET). */
struct ml_dev_attr {
	char name[ML_DEV_NAME_LEN];
	uint32_t index;
	uint32_t node_id;
	uint32_t hello_ms;
	uint32_t dead_ms;
	uint64_t caps;			/* ML_DEV_CAP_* */
	uint32_t abi_version;
	uint16_t ethertype;
	uint16_t flags;			/* ML_DEV_ATTR_F_* (MEGALINK_1.2; was reserved0) */
	uint32_t num_ports;
	/*
	 * MEGALINK_1.2: the device's data-plane objects, in what were
	 * reserved1 and reserved[0..2]: offsets of the fields above and the
	 * size of the struct (88 bytes) are unchanged, and a program built
	 * against 1.1 (which never read the reserved fields) still works.
	 * Zero when the kernel does not report them (ML_DEV_ATTR_F_OBJECTS
	 * clear).
	 */
	uint32_t num_ctx;		/* open files of /dev/megalink/<name> */
	uint32_t num_pds;
	uint32_t num_mrs;
	uint32_t num_cqs;
	uint32_t num_qps;
	uint64_t pinned_pages;		/* pages pinned by its MRs */
	uint64_t reserved[1];
};

/* struct ml_dev_attr.flags */
#define ML_DEV_ATTR_F_OBJECTS	(1U << 0)	/* num_ctx..pinned_pages are valid */

/* A port (ML_CMD_PORT_GET, PORT_BIND reply, PORT_UP/DOWN events). */
struct ml_port_info {
	char dev[ML_DEV_NAME_LEN];
	uint32_t dev_index;
	uint32_t port_index;
	uint32_t ifindex;
	char ifname[ML_LIB_IFNAMSIZ];
	uint8_t mac[6];
	uint8_t carrier;		/* 0 or 1 */
	uint8_t link_state;		/* enum ml_link_state */
	uint32_t mtu;
	uint32_t num_neigh;
	uint64_t reserved[4];
};

/* A neighbour seen on a port (ML_CMD_NEIGH_GET, NEIGH_* events). */
struct ml_neigh_info {
	char dev[ML_DEV_NAME_LEN];
	uint32_t dev_index;
	uint32_t port_index;
	uint32_t ifindex;
	char ifname[ML_LIB_IFNAMSIZ];
	uint32_t node_id;		/* the neighbour's node id */
	uint32_t remote_port;		/* its port index */
	char remote_dev[ML_DEV_NAME_LEN];	/* its device name */
	uint8_t mac[6];			/* its MAC */
	uint16_t origin_port;		/* topology events; was reserved0 */
	uint64_t caps;			/* its ML_DEV_CAP_* */
	uint32_t age_ms;		/* since its last HELLO */
	uint32_t dead_ms;		/* dead interval it asked for */
	uint32_t mtu;			/* its port's MTU; 0: not advertised */
	/*
	 * A UDP neighbour's IPv4 address, network byte order (MEGALINK_1.3;
	 * @mac is then zero); 0: an Ethernet neighbour.  Was reserved.
	 */
	uint32_t addr;
	/*
	 * MEGALINK_1.4, was reserved: @family is 0 for an Ethernet neighbour,
	 * AF_INET for a UDP/IPv4 one (@addr), AF_INET6 for a UDP/IPv6 one,
	 * whose address is @addr6 (@addr is then 0).
	 *
	 * MEGALINK_1.4, topology events (ML_EV_TOPO_*), in what was
	 * reserved: the record's node (@origin) and, for a link, its port
	 * (@origin_port, in what was reserved0), the link's kind (enum
	 * ml_topo_link_kind: 0 ethernet, 1 udp) and state; @node_id and
	 * @remote_port are then the link's other end, @mtu its MTU.  Zero in
	 * other events.
	 */
	uint8_t addr6[16];
	uint8_t family;
	uint8_t kind;
	uint8_t state;
	uint8_t reserved1;
	uint32_t origin;
};

/* Counters of one port (ML_CMD_STATS_GET). */
struct ml_port_stats {
	char dev[ML_DEV_NAME_LEN];
	uint32_t dev_index;
	uint32_t port_index;
	uint32_t ifindex;
	char ifname[ML_LIB_IFNAMSIZ];
	uint32_t reserved0;
	uint64_t present;		/* bit i set: stats[i] came from the kernel */
	uint64_t stats[ML_LIB_STATS_SLOTS];	/* indexed by enum ml_stat */
};

/* ------------------------------------------------------------------ */
/* Data plane: the character device /dev/megalink/mlN                  */
/* ------------------------------------------------------------------ */

struct ml_device;

/* Result of ML_IOCTL_QUERY_DEVICE. */
struct ml_device_info {
	char name[ML_DEV_NAME_LEN];
	uint32_t dev_index;
	uint32_t abi_version;
	uint32_t node_id;
	uint32_t num_ports;		/* ports bound now */
	uint64_t caps;
	uint32_t max_ports;
	uint32_t ethertype;
	uint32_t hello_ms;
	uint32_t dead_ms;
	uint32_t ports_filled;		/* entries valid in ports[] */
	uint32_t reserved0;
	struct ml_port_attr ports[ML_LIB_INFO_PORTS];
	/* if_indextoname() of ports[i].ifindex in the caller's netns, or "" */
	char port_ifname[ML_LIB_INFO_PORTS][ML_LIB_IFNAMSIZ];
};

/*
 * Open a device by name ("ml0" -> /dev/megalink/ml0) or by path (anything
 * containing '/').  -ENOENT if it does not exist.
 */
int ml_device_open(const char *name, struct ml_device **out);
void ml_device_close(struct ml_device *dev);
int ml_device_fd(const struct ml_device *dev);
const char *ml_device_name(const struct ml_device *dev);

/* ML_IOCTL_QUERY_DEVICE including the port array. */
int ml_device_query(struct ml_device *dev, struct ml_device_info *info);

/*
 * Names of the megalink devices on this system, from /sys/class/megalink
 * (all network namespaces), sorted by index.  *names is malloc()ed.
 * Returns the count (also stored in *n); 0 when the module is not loaded.
 */
int ml_list_devices(char (**names)[ML_DEV_NAME_LEN], size_t *n);

/* ------------------------------------------------------------------ */
/* Control plane: generic netlink family "megalink"                    */
/* ------------------------------------------------------------------ */

struct ml_ctl;

/*
 * Open a control handle in the caller's network namespace.  -ENOENT with
 * "megalink module not loaded" when the family is not registered.
 */
int ml_ctl_open(struct ml_ctl **out);
void ml_ctl_close(struct ml_ctl *ctl);

/* The family's version as the kernel reports it. */
uint32_t ml_ctl_family_version(const struct ml_ctl *ctl);

/* Dumps.  dev may be NULL (all devices) or a device name ("ml0").
 * Return the count (also in *n); *out is malloc()ed (NULL when 0). */
int ml_ctl_devices(struct ml_ctl *ctl, struct ml_dev_attr **out, size_t *n);
int ml_ctl_ports(struct ml_ctl *ctl, const char *dev,
		 struct ml_port_info **out, size_t *n);
int ml_ctl_neighbours(struct ml_ctl *ctl, const char *dev,
		      struct ml_neigh_info **out, size_t *n);
int ml_ctl_stats(struct ml_ctl *ctl, const char *dev,
		 struct ml_port_stats **out, size_t *n);

/* Single objects (doit).  -ENODEV: no such device; -ENOENT: not a port. */
int ml_ctl_dev_get(struct ml_ctl *ctl, const char *dev, struct ml_dev_attr *out);
int ml_ctl_port_get(struct ml_ctl *ctl, const char *ifname,
		    struct ml_port_info *out);
int ml_ctl_port_stats(struct ml_ctl *ctl, const char *ifname,
		      struct ml_port_stats *out);

/*
 * UDP peers (MEGALINK_1.3): megalink frames in UDP over IPv4 to nodes
 * outside the broadcast domain.  A peer is added to a device by address;
 * it is sent HELLOs in UDP, and its answer makes it a neighbour (listed by
 * ml_ctl_neighbours() with ml_neigh_info.addr set) that QPs connect to.
 */
struct ml_peer_info {
	char dev[ML_DEV_NAME_LEN];
	uint32_t dev_index;
	uint32_t addr;		/* the peer's IPv4 address, network byte order */
	uint32_t local;		/* source address to send from; 0: the route's */
	uint16_t udp_port;	/* the UDP port (module parameter udp_port) */
	uint16_t reserved0;
	uint64_t reserved[2];
};

/**
 * ml_ctl_peer_add() - add a UDP peer to a device (CAP_NET_ADMIN)
 * @dev: device name ("ml0")
 * @addr: the peer's IPv4 address, dotted quad, or (since MEGALINK_1.4) its
 *	IPv6 address
 * @local: source address of the same family, or NULL for the route's
 *
 * Return: 0, or -errno: -EINVAL (not a unicast address), -ENODEV (no
 * such device), -EEXIST (already a peer), -ENOSPC (64 peers), -EPERM.
 */
int ml_ctl_peer_add(struct ml_ctl *ctl, const char *dev, const char *addr,
		    const char *local);

/**
 * ml_ctl_peer_del() - remove a UDP peer and its neighbour (CAP_NET_ADMIN)
 * Return: 0, or -errno: -ENOENT when @addr is not a peer of @dev.
 */
int ml_ctl_peer_del(struct ml_ctl *ctl, const char *dev, const char *addr);

/**
 * ml_ctl_peers() - list the UDP/IPv4 peers of @dev (NULL: every device)
 * IPv6 peers, which struct ml_peer_info cannot hold, are left out: see
 * ml_ctl_peer_list().
 * Return: the count (also in *@n; *@out is malloc()ed, free() it), or -errno.
 */
int ml_ctl_peers(struct ml_ctl *ctl, const char *dev,
		 struct ml_peer_info **out, size_t *n);

/*
 * A UDP peer of either family (MEGALINK_1.4).  ml_ctl_peer_add() and
 * ml_ctl_peer_del() take IPv6 addresses ("fd00::7") as well since 1.4.
 */
struct ml_peer_entry {
	char dev[ML_DEV_NAME_LEN];
	uint32_t dev_index;
	uint16_t family;	/* AF_INET or AF_INET6 */
	uint16_t udp_port;	/* the UDP port (module parameter udp_port) */
	/*
	 * Network byte order, as inet_ntop(@family, ...) takes them: 4
	 * bytes used for AF_INET, the rest zero.  @local all zero: the
	 * route's source address.
	 */
	uint8_t addr[16];
	uint8_t local[16];
	uint64_t reserved[2];
};

/**
 * ml_ctl_peer_list() - list the UDP peers, IPv4 and IPv6, of @dev (NULL:
 * every device)
 * Return: the count (also in *@n; *@out is malloc()ed, free() it), or -errno.
 */
int ml_ctl_peer_list(struct ml_ctl *ctl, const char *dev,
		     struct ml_peer_entry **out, size_t *n);

/*
 * Options of ml_ctl_bind() and ml_ctl_dev_set().  A numeric field is sent
 * when it is non-zero or when its ML_OPT_* bit is set in @force (so a
 * test can send 0 on purpose).  Everything zero = kernel defaults.
 */
#define ML_OPT_NODE_ID	(1U << 0)
#define ML_OPT_HELLO_MS	(1U << 1)
#define ML_OPT_DEAD_MS	(1U << 2)

struct ml_bind_opts {
	const char *dev;	/* join this device; NULL: create a new one */
	uint32_t node_id;	/* new device only */
	uint32_t hello_ms;
	uint32_t dead_ms;
	uint32_t force;		/* ML_OPT_* */
	uint64_t reserved[2];
};

struct ml_dev_set_opts {
	uint32_t node_id;
	uint32_t hello_ms;
	uint32_t dead_ms;
	uint32_t force;		/* ML_OPT_* */
	uint64_t reserved[2];
};

/* Bind netdev @ifname as a port (CAP_NET_ADMIN).  opts may be NULL; out
 * (may be NULL) receives the new port as the kernel describes it. */
int ml_ctl_bind(struct ml_ctl *ctl, const char *ifname,
		const struct ml_bind_opts *opts, struct ml_port_info *out);
/* Same by ifindex. */
int ml_ctl_bind_ifindex(struct ml_ctl *ctl, uint32_t ifindex,
			const struct ml_bind_opts *opts, struct ml_port_info *out);
int ml_ctl_unbind(struct ml_ctl *ctl, const char *ifname);
int ml_ctl_unbind_port(struct ml_ctl *ctl, const char *dev, uint32_t port_index);
int ml_ctl_dev_set(struct ml_ctl *ctl, const char *dev,
		   const struct ml_dev_set_opts *opts);

/* ---- MEGALINK_1.2 ---- */

/* A queue pair of a device (ML_CMD_QP_GET dump, ML_EV_QP_ERROR event). */
struct ml_qp_info {
	char dev[ML_DEV_NAME_LEN];
	uint32_t dev_index;
	uint32_t qpn;			/* device-wide QP number */
	uint32_t state;			/* enum ml_qp_state */
	uint32_t status;		/* enum ml_wc_status that moved it to ERROR */
	uint32_t owner_pid;		/* process that created it */
	uint32_t remote_node;		/* peer node id (0: not connected) */
	uint32_t remote_qpn;		/* peer QP number */
	uint32_t port_index;		/* local port it sends on */
	uint32_t snd_psn;		/* next PSN to send */
	uint32_t snd_una;		/* oldest unacknowledged PSN */
	uint32_t rcv_psn;		/* next expected PSN */
	uint32_t outstanding;		/* send WRs posted, not completed */
	uint64_t retransmits;
	uint64_t timeouts;		/* retransmission timer expiries */
	uint64_t rnr_naks;		/* receiver-not-ready NAKs */
	uint64_t seq_naks;		/* sequence NAKs */
	/*
	 * MEGALINK_1.4 (were reserved[0..1], zero from older kernels):
	 * paths to the peer now, and failovers (packets in flight moved off
	 * a lost path).  port_index is then the primary path's port.
	 */
	uint32_t num_paths;
	/*
	 * Were reserved0 and reserved[0] (zero from a module without them,
	 * which sends no ML_A_CWND): the PSNs of reorder the QP's responder waits out before
	 * it NAKs a gap (adapted, docs/wire.md 4.6), and the requester's
	 * congestion window and slow-start threshold, in packets.
	 */
	uint32_t reorder_nak;
	uint64_t failovers;
	uint32_t cwnd;
	uint32_t ssthresh;
	uint64_t reserved[1];
};

/*
 * All QPs of the caller's network namespace, or of device @dev (NULL:
 * all devices), ordered by device index and QP number.  Returns the count
 * (also in *n); *out is malloc()ed (NULL when 0).  -EOPNOTSUPP from a
 * kernel without ML_CMD_QP_GET.
 */
int ml_ctl_qps(struct ml_ctl *ctl, const char *dev, struct ml_qp_info **out, size_t *n);

/* ---- MEGALINK_1.4: the fabric topology ---- */

#define ML_LIB_TOPO_LINKS	64	/* ML_TOPO_MAX_LINKS: links per record */

/* One link of a node's topology record. */
struct ml_topo_link_info {
	uint32_t node_id;		/* the node at the other end */
	uint32_t local_port;		/* port index on the record's node */
	uint32_t remote_port;		/* port index on the other end */
	uint8_t kind;			/* 0 ethernet, 1 udp (ml_topo_link_kind_name()) */
	uint8_t state;			/* enum ml_link_state */
	uint16_t reserved0;
	uint32_t mtu;			/* the link's MTU */
	uint32_t reserved1;
};

/* struct ml_topo_node_info.flags */
#define ML_TOPO_NODE_SELF	(1U << 0)	/* the device's own record */
#define ML_TOPO_NODE_REACHABLE	(1U << 1)	/* reachable from it over up links */

/* A node of the fabric as device @dev sees it (ML_CMD_TOPO_GET). */
struct ml_topo_node_info {
	char dev[ML_DEV_NAME_LEN];	/* the local device whose view this is */
	uint32_t dev_index;
	uint32_t node_id;		/* the node the record describes */
	uint32_t seq;			/* the record's sequence number */
	uint32_t age_ms;		/* since this version was received */
	uint32_t lifetime_ms;		/* left before it ages out */
	uint32_t flags;			/* ML_TOPO_NODE_* */
	uint32_t num_links;		/* entries of @links */
	uint32_t reserved0;
	struct ml_topo_link_info links[ML_LIB_TOPO_LINKS];
	uint64_t reserved[4];
};

/*
 * The whole fabric as each device of the caller's network namespace (or
 * only @dev) sees it: one entry per node record, ordered by device index
 * and node id; every node that floods its record, not only neighbours.
 * Returns the count (also in *n); *out is malloc()ed (NULL when 0).
 * -EOPNOTSUPP from a kernel without ML_CMD_TOPO_GET.
 */
int ml_ctl_topology(struct ml_ctl *ctl, const char *dev,
		    struct ml_topo_node_info **out, size_t *n);

/* "ethernet", "udp"; "unknown" otherwise. */
const char *ml_topo_link_kind_name(unsigned int kind);
/* ---- MEGALINK_1.4 ---- */

/*
 * One path of a connected QP: a local port and the neighbour behind it
 * that is the QP's peer.  A QP stripes its packets over its paths and
 * moves them to the others when one is lost.
 */
struct ml_path_info {
	char dev[ML_DEV_NAME_LEN];
	uint32_t dev_index;
	uint32_t qpn;			/* the QP */
	uint32_t path_index;		/* in the QP's set; 0 is the primary */
	uint32_t port_index;		/* local port */
	char ifname[16];		/* its netdev ("" if gone meanwhile) */
	uint32_t remote_port;		/* the neighbour's port index */
	uint8_t mac[6];			/* the neighbour's MAC (0 for UDP) */
	uint16_t reserved0;
	uint32_t addr;			/* UDP/IPv4 neighbour, network order, else 0 */
	uint32_t srtt_us;		/* smoothed RTT; 0: no sample yet */
	uint32_t loss;			/* loss score (halves the bursts) */
	uint8_t family;			/* 0 Ethernet, AF_INET (@addr), AF_INET6 (@addr6) */
	uint8_t reserved1[3];
	uint64_t tx_packets;		/* data packets sent on the path */
	uint64_t tx_bytes;		/* their payload bytes */
	uint64_t retransmits;		/* of those, resent */
	uint8_t addr6[16];		/* UDP/IPv6 neighbour */
	uint64_t reserved[2];
};

/*
 * The paths of every QP of @dev (NULL: all devices), ordered by device,
 * QP number and path index.  Returns the count (also in *n); *out is
 * malloc()ed (NULL when 0).  A kernel without multi-path reports none.
 */
int ml_ctl_paths(struct ml_ctl *ctl, const char *dev, struct ml_path_info **out, size_t *n);

/* ------------------------------------------------------------------ */
/* Events: the "monitor" multicast group                               */
/* ------------------------------------------------------------------ */

struct ml_monitor;

enum ml_event_type {
	ML_EV_NONE = 0,
	ML_EV_DEV_NEW,
	ML_EV_DEV_DEL,
	ML_EV_PORT_UP,
	ML_EV_PORT_DOWN,
	ML_EV_NEIGH_FOUND,
	ML_EV_NEIGH_LOST,
	ML_EV_QP_ERROR,			/* MEGALINK_1.2: a QP entered ERROR */
	/* MEGALINK_1.4: the fabric as ev->dev sees it; details in ev->neigh */
	ML_EV_TOPO_NODE_JOIN,		/* node neigh.node_id became reachable */
	ML_EV_TOPO_NODE_LEAVE,		/* ... unreachable, withdrawn or aged out */
	ML_EV_TOPO_LINK_UP,		/* node neigh.origin reports a new link */
	ML_EV_TOPO_LINK_DOWN,		/* ... no longer reports that link */
};

struct ml_event {
	uint32_t type;			/* enum ml_event_type */
	uint32_t reason;		/* enum ml_link_reason (port events) */
	uint32_t cmd;			/* the netlink command it came from */
	uint32_t reserved0;
	struct ml_dev_attr dev;		/* DEV_*: the device; others: name/index */
	struct ml_port_info port;	/* PORT_*: the port; NEIGH_*: the local port */
	struct ml_neigh_info neigh;	/* NEIGH_* */
	/*
	 * QP_ERROR: the QP, its state and counters at the moment of the
	 * error (dev and port also carry its device and port index).
	 * Added in MEGALINK_1.2 at the end: sizeof(struct ml_event) grew.
	 */
	struct ml_qp_info qp;
};

/* "dev_new", "dev_del", "port_up", "port_down", "neigh_found",
 * "neigh_lost", "qp_error", "topo_node_join", "topo_node_leave",
 * "topo_link_up", "topo_link_down"; "unknown" otherwise. */
const char *ml_event_name(unsigned int type);

/* Subscribe to the monitor group in the caller's netns.  The socket is
 * non-blocking: put ml_monitor_fd() in poll()/epoll. */
int ml_monitor_open(struct ml_monitor **out);
int ml_monitor_fd(const struct ml_monitor *mon);
/*
 * Next event: 0 and *ev filled, -EAGAIN when none is pending, -ENOBUFS
 * when the kernel dropped events (socket overrun: re-read state).
 */
int ml_monitor_read(struct ml_monitor *mon, struct ml_event *ev);
/* As ml_monitor_read(), waiting up to timeout_ms (-1: forever);
 * -ETIMEDOUT when nothing came. */
int ml_monitor_wait(struct ml_monitor *mon, struct ml_event *ev, int timeout_ms);
void ml_monitor_close(struct ml_monitor *mon);

/* ------------------------------------------------------------------ */
/* Data plane: PD, MR, CQ, QP and work requests (MEGALINK_1.1)          */
/* ------------------------------------------------------------------ */

/*
 * The verbs model without its ceremony: open a device, allocate a PD,
 * register MRs, create CQs, create a QP and connect it to (peer node id,
 * peer QP number) in one call, post work requests, poll completions.
 *
 * Rings are shared with the kernel by mmap().  The hot calls below
 * (ml_post_send*, ml_post_recv, ml_cq_poll, ml_cq_peek/advance, ml_cq_arm)
 * are static inline: they write descriptors into the mapped rings and read
 * completions from them with acquire/release ordering, with no function
 * call into the library and no system call; the only system call on the
 * data path is the doorbell (ML_IOCTL_NOTIFY), one per batch of sends.
 * Receives need no doorbell.
 *
 * Threads (as verbs users expect):
 *  - one QP is posted to by one thread at a time (the send queue and the
 *    receive queue may be posted to by two different threads);
 *  - one CQ is polled by one thread at a time; other threads may post to
 *    the QPs that complete on it meanwhile;
 *  - setup and teardown calls (alloc/reg/create/destroy, ml_cq_wait) are
 *    safe to call from any thread, but an object must not be destroyed
 *    while another thread uses it.
 *
 * Lifetime: objects belong to their device.  Destroy QPs before the CQs
 * and PD they use, MRs before their PD (-EBUSY otherwise).
 * ml_device_close() releases whatever is left (the kernel destroys the
 * objects when the file is released), after which every pointer to those
 * objects is invalid.  Once the device is removed (its last port
 * unbound), calls fail with -ENODEV, QPs are in error, and destroying
 * objects still succeeds.
 *
 * fork(): a child shares the rings with its parent but not the library's
 * view of them; it must not post or poll on the parent's objects, only
 * ml_device_close() them.  The parent's MRs stay valid.
 */

/*
 * Where the entries of a ring start in its mapping on kernels that do not
 * say (struct ml_ring_hdr.entries_offset 0): right only with 4 KiB pages.
 * The library uses the offset the kernel gives; so must anyone mapping
 * rings by hand.
 */
#define ML_RING_ENTRIES_OFFSET	4096u

/* Per-file limits (ML_IOCTL_QUERY_LIMITS). */
struct ml_limits {
	uint32_t max_pd;
	uint32_t max_mr;
	uint32_t max_cq;
	uint32_t max_qp;
	uint32_t max_cqe;		/* CQ depth */
	uint32_t max_sq_wr;
	uint32_t max_rq_wr;
	uint32_t max_sge;		/* ML_MAX_SGE */
	uint32_t max_inline;		/* ML_MAX_INLINE */
	uint32_t max_qp_dev;		/* QPs per device, all files */
	uint64_t max_msg_size;
	uint64_t max_mr_size;
	uint64_t reserved[4];
};

int ml_query_limits(struct ml_device *dev, struct ml_limits *out);

/* Protection domain (opaque). */
struct ml_pd;

int ml_pd_alloc(struct ml_device *dev, struct ml_pd **out);
/* -EBUSY (and the PD stays valid) while MRs or QPs use it. */
int ml_pd_free(struct ml_pd *pd);

/* Memory region.  All fields are read-only for the caller. */
struct ml_mr {
	void *addr;
	uint64_t length;
	uint32_t lkey;			/* for local SGEs */
	uint32_t rkey;			/* for the peer's WRITE/READ */
	uint32_t access;		/* ML_ACCESS_* */
	uint32_t handle;		/* kernel handle */
	struct ml_pd *pd;
};

/*
 * Pin and register [addr, addr + length), any alignment, length > 0.
 * access: ML_ACCESS_* (local read is implied).  -ENOMEM when the pinned
 * total would exceed RLIMIT_MEMLOCK (without CAP_IPC_LOCK).
 */
int ml_mr_reg(struct ml_pd *pd, void *addr, size_t length, unsigned int access,
	      struct ml_mr **out);
int ml_mr_dereg(struct ml_mr *mr);

static inline uint32_t ml_mr_lkey(const struct ml_mr *mr)
{
	return mr->lkey;
}

static inline uint32_t ml_mr_rkey(const struct ml_mr *mr)
{
	return mr->rkey;
}

/*
 * One mapped ring.  Library-private state, public only so that the inline
 * calls can reach it: do not write it.  @local is the index this side
 * owns (producer of a SQ/RQ, consumer of a CQ); @cached is the last value
 * read of the index the kernel owns (the SQ/RQ consumer).  Indices run
 * freely over 32 bits; the slot of index i is i & mask.
 */
struct ml_ring {
	struct ml_ring_hdr *hdr;
	void *entries;			/* (char *)hdr + hdr->entries_offset */
	uint32_t mask;			/* size - 1 */
	uint32_t size;			/* entries, a power of two */
	uint32_t local;
	uint32_t cached;
	size_t map_size;
};

/* Completion queue.  Fields are library-private (see struct ml_ring). */
struct ml_cq {
	struct ml_ring ring;
	struct ml_device *dev;
	uint32_t handle;
	uint32_t entries;		/* as created (power of two) */
};

/*
 * entries: at least this many completions (rounded up to a power of two,
 * at most ml_limits.max_cqe).  Size a CQ for every work request that can
 * be outstanding on the QPs that use it.
 */
int ml_cq_create(struct ml_device *dev, uint32_t entries, struct ml_cq **out);
/* -EBUSY (and the CQ stays valid) while a QP uses it. */
int ml_cq_destroy(struct ml_cq *cq);

/* QP attributes at creation.  Zero fields take the defaults shown. */
struct ml_qp_init {
	struct ml_cq *send_cq;		/* required */
	struct ml_cq *recv_cq;		/* NULL: send_cq */
	uint32_t sq_entries;		/* 0: 128; rounded up to a power of two */
	uint32_t rq_entries;		/* 0: 128 */
	uint32_t max_send_sge;		/* 0: 1; at most ML_MAX_SGE */
	uint32_t max_recv_sge;		/* 0: 1 */
	uint32_t max_inline;		/* 0: no inline sends; at most ML_MAX_INLINE */
	uint32_t reserved0;
	uint64_t reserved[4];
};

/* Reliable-connected queue pair.  Fields are library-private. */
struct ml_qp {
	struct ml_ring sq;		/* struct ml_send_wqe slots */
	struct ml_ring rq;		/* struct ml_recv_wqe slots */
	uint32_t sq_notified;		/* sq.local at the last doorbell */
	uint32_t qpn;			/* device-wide QP number */
	uint32_t handle;
	uint32_t state;			/* enum ml_qp_state, as the library set it */
	uint32_t max_send_sge;
	uint32_t max_recv_sge;
	uint32_t max_inline;
	uint32_t reserved0;
	uint64_t max_msg_size;
	struct ml_device *dev;
	struct ml_pd *pd;
	struct ml_cq *send_cq;
	struct ml_cq *recv_cq;
};

int ml_qp_create(struct ml_pd *pd, const struct ml_qp_init *attr, struct ml_qp **out);
int ml_qp_destroy(struct ml_qp *qp);

/* The QP number the peer needs for its ml_qp_connect(). */
static inline uint32_t ml_qp_num(const struct ml_qp *qp)
{
	return qp->qpn;
}

/* Transport options of ml_qp_connect(); zero fields take kernel defaults. */
struct ml_connect_opts {
	uint32_t timeout_ms;		/* first retransmission timeout */
	uint8_t retry_cnt;		/* 1..15 (default 7) */
	uint8_t rnr_retry;		/* 1..15 (default 7) */
	uint16_t reserved0;
	uint32_t rnr_timer_ms;		/* wait after a receiver-not-ready NAK */
	uint32_t reserved1;
	uint64_t reserved[2];
};

/*
 * Connect @qp to QP @remote_qpn of node @remote_node and make it ready to
 * send (RESET/INIT -> RTS in one call).  opts may be NULL.
 * -EHOSTUNREACH: no port of the device has @remote_node as a live
 * neighbour.
 */
int ml_qp_connect(struct ml_qp *qp, uint32_t remote_node, uint32_t remote_qpn,
		  const struct ml_connect_opts *opts);

/* What the kernel knows about a QP (ML_IOCTL_QUERY_QP). */
struct ml_qp_attr {
	uint32_t state;			/* enum ml_qp_state */
	uint32_t qpn;
	uint32_t remote_node;
	uint32_t remote_qpn;
	uint32_t snd_psn;		/* next PSN to send */
	uint32_t snd_una;		/* oldest unacknowledged PSN */
	uint32_t rcv_psn;		/* next expected PSN */
	uint32_t outstanding;		/* send WRs posted, not completed */
	uint32_t status;		/* enum ml_wc_status that caused ERROR */
	uint32_t reserved0;
	uint64_t retransmits;
	uint64_t timeouts;
	uint64_t reserved[4];
};

int ml_qp_query(struct ml_qp *qp, struct ml_qp_attr *out);

/* "reset", "init", "rtr", "rts", "error"; "unknown" otherwise. */
const char *ml_qp_state_name(unsigned int state);
/* "success", "local length error", ... for enum ml_wc_status. */
const char *ml_wc_status_str(unsigned int status);
/* "send", "write", "read", "recv", "recv_imm" for enum ml_wc_opcode. */
const char *ml_wc_opcode_name(unsigned int opcode);

/* A send work request. */
struct ml_send_wr {
	uint64_t wr_id;			/* returned in the completion */
	uint32_t opcode;		/* enum ml_wr_opcode */
	uint32_t flags;			/* ML_WR_F_SIGNALED, ML_WR_F_INLINE */
	const struct ml_sge *sg_list;	/* local buffers: {addr, length, lkey} */
	uint32_t num_sge;		/* 0..max_send_sge */
	uint32_t imm;			/* SEND_IMM, WRITE_IMM (host order) */
	uint64_t remote_addr;		/* WRITE*, READ */
	uint32_t rkey;			/* WRITE*, READ */
	uint32_t reserved;
};

/* A receive work request. */
struct ml_recv_wr {
	uint64_t wr_id;
	const struct ml_sge *sg_list;
	uint32_t num_sge;		/* 0..max_recv_sge (0: WRITE_IMM only) */
	uint32_t reserved;
};

/* The doorbell itself; ml_qp_doorbell() skips it when nothing is new. */
int ml_qp_notify(struct ml_qp *qp);

/* Cold path of the inline calls: records why a post failed. */
enum {
	ML__PE_NULL = 1,	/* a NULL argument */
	ML__PE_NOTCONN,		/* send before ml_qp_connect() */
	ML__PE_QP_ERROR,	/* the kernel put the QP in error */
	ML__PE_OPCODE,		/* a = opcode */
	ML__PE_FLAGS,		/* a = flags */
	ML__PE_NUM_SGE,		/* a = num_sge, b = limit */
	ML__PE_SG_LIST,		/* num_sge > 0, sg_list NULL */
	ML__PE_INLINE_LEN,	/* a = length, b = limit */
	ML__PE_INLINE_OP,	/* a = opcode */
	ML__PE_MSG_SIZE,	/* a = length, b = limit */
	ML__PE_FULL,		/* a = entries */
	ML__PE_REQ_RECV = 0x100	/* or'ed in: a receive */
};
int ml__post_fail(const struct ml_qp *qp, int code, uint64_t a, uint64_t b);
/* Cold path of ml_cq_poll(): overflow (avail 0) or an impossible index. */
int ml__cq_fail(const struct ml_cq *cq, uint32_t avail);

#define ml__unlikely(x)	__builtin_expect(!!(x), 0)

static inline uint32_t ml__load_acquire(const uint32_t *p)
{
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

static inline void ml__store_release(uint32_t *p, uint32_t v)
{
	__atomic_store_n(p, v, __ATOMIC_RELEASE);
}

/* Free SQ slots (0 when full). */
static inline uint32_t ml_sq_space(struct ml_qp *qp)
{
	uint32_t used = qp->sq.local - qp->sq.cached;

	if (used >= qp->sq.size) {
		qp->sq.cached = ml__load_acquire(&qp->sq.hdr->consumer);
		used = qp->sq.local - qp->sq.cached;
		if (used >= qp->sq.size)
			return 0;
	}
	return qp->sq.size - used;
}

/* Free RQ slots (0 when full). */
static inline uint32_t ml_rq_space(struct ml_qp *qp)
{
	uint32_t used = qp->rq.local - qp->rq.cached;

	if (used >= qp->rq.size) {
		qp->rq.cached = ml__load_acquire(&qp->rq.hdr->consumer);
		used = qp->rq.local - qp->rq.cached;
		if (used >= qp->rq.size)
			return 0;
	}
	return qp->rq.size - used;
}

/*
 * Write one send work request into the SQ without ringing the doorbell:
 * post a batch this way, then call ml_qp_doorbell() once.  The SGE list is
 * copied, so it (and, with ML_WR_F_INLINE, the data) may be reused at
 * once; without INLINE the buffers must stay untouched until completion.
 * ML_WR_F_INLINE copies the bytes the SGEs point at into the descriptor
 * (lkey ignored; total at most the QP's max_inline; not for READ).
 * Returns 0, or -ENOTCONN (not connected), -EIO (QP in error), -ENOSPC
 * (send queue full: poll the send CQ), -EINVAL (bad argument; see
 * ml_last_error()).
 */
static inline int ml_post_send_nodb(struct ml_qp *qp, const struct ml_send_wr *wr)
{
	struct ml_send_wqe *wqe;
	uint64_t total = 0;
	uint32_t i, n, tail;

	if (ml__unlikely(!qp || !wr))
		return ml__post_fail(qp, ML__PE_NULL, 0, 0);
	if (ml__unlikely(qp->state != ML_QPS_RTS))
		return ml__post_fail(qp, ML__PE_NOTCONN, 0, 0);
	if (ml__unlikely(__atomic_load_n(&qp->sq.hdr->flags, __ATOMIC_RELAXED) &
			 ML_RING_F_ERROR))
		return ml__post_fail(qp, ML__PE_QP_ERROR, 0, 0);
	if (ml__unlikely(wr->opcode < ML_WR_SEND || wr->opcode > ML_WR_READ))
		return ml__post_fail(qp, ML__PE_OPCODE, wr->opcode, 0);
	if (ml__unlikely(wr->flags & ~(uint32_t)(ML_WR_F_SIGNALED | ML_WR_F_INLINE)))
		return ml__post_fail(qp, ML__PE_FLAGS, wr->flags, 0);
	n = wr->num_sge;
	if (ml__unlikely(n > qp->max_send_sge))
		return ml__post_fail(qp, ML__PE_NUM_SGE, n, qp->max_send_sge);
	if (ml__unlikely(n && !wr->sg_list))
		return ml__post_fail(qp, ML__PE_SG_LIST, 0, 0);
	for (i = 0; i < n; i++)
		total += wr->sg_list[i].length;
	if (wr->flags & ML_WR_F_INLINE) {
		if (ml__unlikely(wr->opcode == ML_WR_READ))
			return ml__post_fail(qp, ML__PE_INLINE_OP, wr->opcode, 0);
		if (ml__unlikely(total > qp->max_inline))
			return ml__post_fail(qp, ML__PE_INLINE_LEN, total, qp->max_inline);
	} else if (ml__unlikely(total > qp->max_msg_size)) {
		return ml__post_fail(qp, ML__PE_MSG_SIZE, total, qp->max_msg_size);
	}
	if (ml__unlikely(!ml_sq_space(qp)))
		return ml__post_fail(qp, ML__PE_FULL, qp->sq.size, 0);

	tail = qp->sq.local;
	wqe = (struct ml_send_wqe *)qp->sq.entries + (tail & qp->sq.mask);
	__builtin_memset(wqe, 0, sizeof(*wqe));
	wqe->wr_id = wr->wr_id;
	wqe->opcode = (uint8_t)wr->opcode;
	wqe->flags = (uint16_t)wr->flags;
	if (wr->opcode == ML_WR_SEND_IMM || wr->opcode == ML_WR_WRITE_IMM)
		wqe->imm = wr->imm;
	if (wr->opcode >= ML_WR_WRITE) {
		wqe->remote_addr = wr->remote_addr;
		wqe->rkey = wr->rkey;
	}
	if (wr->flags & ML_WR_F_INLINE) {
		uint32_t off = 0;

		for (i = 0; i < n; i++) {
			__builtin_memcpy(wqe->inline_data + off,
					 (const void *)(uintptr_t)wr->sg_list[i].addr,
					 wr->sg_list[i].length);
			off += wr->sg_list[i].length;
		}
		wqe->inline_len = off;
	} else {
		wqe->num_sge = (uint8_t)n;
		for (i = 0; i < n; i++)
			wqe->sge[i] = wr->sg_list[i];
	}
	qp->sq.local = tail + 1;
	ml__store_release(&qp->sq.hdr->producer, tail + 1);
	return 0;
}

/* Ring the doorbell if anything was posted since the last one. */
static inline int ml_qp_doorbell(struct ml_qp *qp)
{
	if (qp->sq.local == qp->sq_notified)
		return 0;
	return ml_qp_notify(qp);
}

/*
 * ml_post_send_nodb() + ml_qp_doorbell().  If the doorbell fails the work
 * request stays queued; the next doorbell submits it.
 */
static inline int ml_post_send(struct ml_qp *qp, const struct ml_send_wr *wr)
{
	int ret = ml_post_send_nodb(qp, wr);

	return ret ? ret : ml_qp_doorbell(qp);
}

/*
 * Write one receive work request into the RQ (no doorbell needed; allowed
 * before ml_qp_connect()).  Returns 0, -EIO (QP in error), -ENOSPC
 * (receive queue full) or -EINVAL.
 */
static inline int ml_post_recv(struct ml_qp *qp, const struct ml_recv_wr *wr)
{
	struct ml_recv_wqe *wqe;
	uint32_t i, n, tail;

	if (ml__unlikely(!qp || !wr))
		return ml__post_fail(qp, ML__PE_REQ_RECV | ML__PE_NULL, 0, 0);
	if (ml__unlikely(__atomic_load_n(&qp->rq.hdr->flags, __ATOMIC_RELAXED) &
			 ML_RING_F_ERROR))
		return ml__post_fail(qp, ML__PE_REQ_RECV | ML__PE_QP_ERROR, 0, 0);
	n = wr->num_sge;
	if (ml__unlikely(n > qp->max_recv_sge))
		return ml__post_fail(qp, ML__PE_REQ_RECV | ML__PE_NUM_SGE, n,
				     qp->max_recv_sge);
	if (ml__unlikely(n && !wr->sg_list))
		return ml__post_fail(qp, ML__PE_REQ_RECV | ML__PE_SG_LIST, 0, 0);
	if (ml__unlikely(!ml_rq_space(qp)))
		return ml__post_fail(qp, ML__PE_REQ_RECV | ML__PE_FULL, qp->rq.size, 0);

	tail = qp->rq.local;
	wqe = (struct ml_recv_wqe *)qp->rq.entries + (tail & qp->rq.mask);
	__builtin_memset(wqe, 0, sizeof(*wqe));
	wqe->wr_id = wr->wr_id;
	wqe->num_sge = n;
	for (i = 0; i < n; i++)
		wqe->sge[i] = wr->sg_list[i];
	qp->rq.local = tail + 1;
	ml__store_release(&qp->rq.hdr->producer, tail + 1);
	return 0;
}

/* Completions waiting in @cq (no syscall). */
static inline int ml_cq_ready(const struct ml_cq *cq)
{
	uint32_t avail = ml__load_acquire(&cq->ring.hdr->producer) - cq->ring.local;

	if (ml__unlikely(avail > cq->ring.size))
		return ml__cq_fail(cq, avail);
	return (int)avail;
}

/*
 * Copy up to @max completions into @wc and consume them.  Returns the
 * number copied (0: none), -EOVERFLOW once the CQ is drained if the kernel
 * had to drop completions because it was full (size CQs for all the work
 * that can be outstanding), or -EIO if the ring is corrupt.  No syscall.
 */
static inline int ml_cq_poll(struct ml_cq *cq, struct ml_cqe *wc, int max)
{
	const struct ml_cqe *cqes = (const struct ml_cqe *)cq->ring.entries;
	uint32_t head = cq->ring.local;
	int avail = ml_cq_ready(cq), i;

	if (ml__unlikely(avail == 0 &&
			 (__atomic_load_n(&cq->ring.hdr->flags, __ATOMIC_RELAXED) &
			  ML_RING_F_ERROR)))
		return ml__cq_fail(cq, 0);
	if (avail <= 0 || max <= 0)
		return avail < 0 ? avail : 0;
	if (avail > max)
		avail = max;
	for (i = 0; i < avail; i++)
		wc[i] = cqes[(head + (uint32_t)i) & cq->ring.mask];
	cq->ring.local = head + (uint32_t)avail;
	ml__store_release(&cq->ring.hdr->consumer, cq->ring.local);
	return avail;
}

/* Zero-copy variant: the oldest completion in place, or NULL. */
static inline const struct ml_cqe *ml_cq_peek(const struct ml_cq *cq)
{
	if (ml_cq_ready(cq) <= 0)
		return NULL;
	return (const struct ml_cqe *)cq->ring.entries + (cq->ring.local & cq->ring.mask);
}

/* Consume @n completions obtained with ml_cq_peek(). */
static inline void ml_cq_advance(struct ml_cq *cq, uint32_t n)
{
	cq->ring.local += n;
	ml__store_release(&cq->ring.hdr->consumer, cq->ring.local);
}

/*
 * Ask for a wakeup of the device fd (poll()/epoll EPOLLIN) when the next
 * completion arrives.  A store and a full barrier, no syscall.  Returns
 * the number of completions already waiting: if it is not 0, poll the CQ
 * instead of sleeping (they arrived before the arm took effect and may
 * not wake anyone).  Each wakeup disarms the CQ: arm again before the
 * next sleep.
 */
static inline int ml_cq_arm(struct ml_cq *cq)
{
	__atomic_store_n(&cq->ring.hdr->armed, 1, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return ml_cq_ready(cq);
}

/*
 * Arm every CQ of @dev and wait until one has completions: 1 when a CQ of
 * the device has completions, -ETIMEDOUT after @timeout_ms (-1: forever),
 * -EINTR on a signal.  For epoll, use ml_device_fd() and ml_cq_arm().
 */
int ml_cq_wait(struct ml_device *dev, int timeout_ms);

#ifdef __cplusplus
}
#endif

#endif /* MEGALINK_MEGALINK_H */
