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
 * Build: `pkg-config --cflags --libs megalink`.  The kernel ABI header is
 * included as <linux/megalink.h>; the installed copy lives in
 * $(includedir)/megalink/uapi/linux/megalink.h and megalink.pc adds that
 * directory to the include path (it never overwrites a distribution's
 * /usr/include/linux).  In the source tree use -Iinclude -Iinclude/uapi.
 */
#ifndef MEGALINK_MEGALINK_H
#define MEGALINK_MEGALINK_H

#include <stddef.h>
#include <stdint.h>
#include <linux/megalink.h>

#ifdef __cplusplus
extern "C" {
#endif

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
	uint16_t reserved0;
	uint32_t num_ports;
	uint32_t reserved1;
	uint64_t reserved[4];
};

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
	uint16_t reserved0;
	uint64_t caps;			/* its ML_DEV_CAP_* */
	uint32_t age_ms;		/* since its last HELLO */
	uint32_t dead_ms;		/* dead interval it asked for */
	uint64_t reserved[4];
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
};

struct ml_event {
	uint32_t type;			/* enum ml_event_type */
	uint32_t reason;		/* enum ml_link_reason (port events) */
	uint32_t cmd;			/* the netlink command it came from */
	uint32_t reserved0;
	struct ml_dev_attr dev;		/* DEV_*: the device; others: name/index */
	struct ml_port_info port;	/* PORT_*: the port; NEIGH_*: the local port */
	struct ml_neigh_info neigh;	/* NEIGH_* */
};

/* "dev_new", "dev_del", "port_up", "port_down", "neigh_found",
 * "neigh_lost"; "unknown" otherwise. */
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

#ifdef __cplusplus
}
#endif

#endif /* MEGALINK_MEGALINK_H */
