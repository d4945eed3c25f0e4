// SPDX-License-Identifier: GPL-2.0
/*
 * Port lifetime: binding an Ethernet netdev to a megalink device,
 * unbinding it, and following the netdev through the netdevice notifier
 * (carrier and admin state, unregister, namespace moves).
 *
 * Locking: ports are bound and unbound under RTNL, which the netdevice
 * notifier already holds.  The receive path reaches a port through its
 * packet_type (under RCU); dev_remove_pack() waits for those readers, so
 * once a port is unlinked and its handler removed nothing else can see it.
 * Per-port state (neighbours, link state) is under port->lock (port.h).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/etherdevice.h>
#include <linux/if_arp.h>
#include <linux/rtnetlink.h>
#include <linux/slab.h>
#include <net/netlink.h>

#include "compat.h"
#include "device.h"
#include "discovery.h"
#include "netlink.h"
#include "path.h"
#include "port.h"
#include "qp.h"
#include "topo.h"
#include "wire.h"

/* The port bound to @netdev, or NULL (RTNL held). */
struct ml_port *ml_port_find(const struct net_device *netdev)
{
	struct ml_port *port;
	struct ml_dev *dev;
	unsigned long i;
	unsigned int j;

	ASSERT_RTNL();
	xa_for_each(&ml_devs, i, dev) {
		for (j = 0; j < ML_MAX_PORTS; j++) {
			port = ml_dev_port(dev, j);
			if (port && port->netdev == netdev)
				return port;
		}
	}
	return NULL;
}

bool ml_port_carrier_ok(const struct ml_port *port)
{
	return netif_running(port->netdev) && netif_carrier_ok(port->netdev);
}

/**
 * ml_port_update_link() - recompute the link state and report a change
 * @port: the port, with port->lock held
 * @reason: enum ml_link_reason for the notification; unbind and carrier
 *	loss take precedence over the caller's reason
 */
void ml_port_update_link(struct ml_port *port, u8 reason)
{
	bool carrier = ml_port_carrier_ok(port);
	bool up = !port->dying && carrier && port->num_neigh > 0;

	lockdep_assert_held(&port->lock);
	/* Neighbours came or went, or the link changed: QPs look again. */
	atomic_inc(&port->dev->path_gen);
	if (up == port->link_up)
		return;
	/* Whoever notices first, the cause is reported the same way. */
	if (port->dying)
		reason = ML_REASON_UNBIND;
	else if (!carrier)
		reason = ML_REASON_CARRIER;
	port->link_up = up;
	ml_stat_inc(port, up ? ML_STAT_LINK_UP : ML_STAT_LINK_DOWN);
	pr_debug("%s/%u: link %s\n", port->dev->name, port->index,
		 up ? "up" : "down");
	ml_nl_notify_port(port, up, reason);
	ml_topo_changed(port->dev, false);
}

static int ml_port_check_netdev(struct net_device *netdev,
				struct netlink_ext_ack *extack)
{
	if (netdev->type != ARPHRD_ETHER || netdev->addr_len != ETH_ALEN ||
	    (netdev->flags & IFF_LOOPBACK)) {
		ML_ERR_FMT(extack, "netdev is not an Ethernet device",
			   "%s is not an Ethernet device", netdev->name);
		return -EOPNOTSUPP;
	}
	if (!(netdev->flags & IFF_UP)) {
		ML_ERR_FMT(extack, "netdev is administratively down",
			   "%s is administratively down", netdev->name);
		return -ENETDOWN;
	}
	if (netdev->mtu < sizeof(struct ml_wire_hello)) {
		ML_ERR_FMT(extack, "netdev MTU is too small for megalink",
			   "MTU of %s is below %zu", netdev->name,
			   sizeof(struct ml_wire_hello));
		return -EINVAL;
	}
	if (ml_port_find(netdev)) {
		ML_ERR_FMT(extack, "netdev is already a megalink port",
			   "%s is already a megalink port", netdev->name);
		return -EBUSY;
	}
	return 0;
}

static struct ml_port *ml_port_alloc(struct ml_dev *dev, u32 index,
				     struct net_device *netdev)
{
	static u64 ml_port_next_id;	/* RTNL */
	struct ml_port *port;

	port = kzalloc(sizeof(*port), GFP_KERNEL);
	if (!port)
		return NULL;
	port->stats = alloc_percpu(struct ml_pcpu_stats);
	if (!port->stats) {
		kfree(port);
		return NULL;
	}
	port->dev = dev;
	port->index = index;
	port->id = ++ml_port_next_id;
	port->netdev = netdev;
	netdev_hold(netdev, &port->dev_tracker, GFP_KERNEL);
	spin_lock_init(&port->lock);
	INIT_LIST_HEAD(&port->neighs);
	ml_disc_port_init(port);
	port->pt.type = htons(ml_ethertype);
	port->pt.dev = netdev;
	port->pt.func = ml_rx;
	port->pt.af_packet_priv = port;
	ml_stats_adopt(port);
	return port;
}

static void ml_port_free(struct ml_port *port)
{
	netdev_put(port->netdev, &port->dev_tracker);
	free_percpu(port->stats);
	kfree(port);
}

/**
 * ml_port_bind() - bind @netdev as a port
 * @netdev: the Ethernet netdev
 * @dev: the device to add the port to, or NULL to create a new device
 * @node_id: node id for a new device (0: derive from the MAC)
 * @hello_ms: HELLO interval for a new device
 * @dead_ms: dead interval for a new device
 * @out: the new port
 * @extack: error message
 *
 * Called under RTNL.  Return: 0 or a negative errno, with @extack set.
 */
int ml_port_bind(struct net_device *netdev, struct ml_dev *dev, u32 node_id,
		 u32 hello_ms, u32 dead_ms, struct ml_port **out,
		 struct netlink_ext_ack *extack)
{
	bool new_dev = !dev;
	struct ml_port *port;
	struct ml_dev *other;
	unsigned int i;
	int err;

	ASSERT_RTNL();
	err = ml_port_check_netdev(netdev, extack);
	if (err)
		return err;

	if (new_dev) {
		if (!node_id)
			node_id = ml_dev_node_id_from_mac(netdev->dev_addr);
		if (node_id < ML_NODE_ID_MIN || node_id > ML_NODE_ID_MAX) {
			ML_ERR_FMT(extack,
				   "node id derived from the MAC is reserved; give one",
				   "node id derived from the MAC of %s is reserved; give one",
				   netdev->name);
			return -EINVAL;
		}
		other = ml_dev_by_node_id(node_id);
		if (other) {
			NL_SET_ERR_MSG(extack,
				       "node id is used by another megalink device");
			return -EEXIST;
		}
		dev = ml_dev_create(dev_net(netdev), node_id, hello_ms,
				    dead_ms, extack);
		if (IS_ERR(dev))
			return PTR_ERR(dev);
	} else if (!net_eq(ml_dev_net(dev), dev_net(netdev))) {
		NL_SET_ERR_MSG(extack, "netdev and device are in different network namespaces");
		return -EINVAL;
	}

	for (i = 0; i < ML_MAX_PORTS; i++)
		if (!rtnl_dereference(dev->ports[i]))
			break;
	if (i == ML_MAX_PORTS) {
		ML_ERR_FMT(extack, "megalink device has no free port slot",
			   "%s already has %u ports", dev->name, ML_MAX_PORTS);
		return -ENOSPC;
	}

	port = ml_port_alloc(dev, i, netdev);
	if (!port) {
		if (new_dev)
			ml_dev_destroy(dev);
		return -ENOMEM;
	}
	rcu_assign_pointer(dev->ports[i], port);
	dev->num_ports++;
	dev_add_pack(&port->pt);
	ml_disc_port_start(port);

	pr_info("%s: port %u is %s\n", dev->name, i, netdev->name);
	if (new_dev)
		ml_nl_notify_dev(dev, ML_CMD_DEV_NEW_NTF);
	*out = port;
	return 0;
}

/**
 * ml_port_unbind() - take a port out of its device and free it
 * @port: the port
 *
 * Called under RTNL.  The device stays, even without ports: the callers
 * decide (see ml_port_remove()).
 */
void ml_port_unbind(struct ml_port *port)
{
	struct ml_dev *dev = port->dev;

	ASSERT_RTNL();
	WRITE_ONCE(port->dying, true);
	RCU_INIT_POINTER(dev->ports[port->index], NULL);
	dev->num_ports--;
	/* Waits for the receive path and RCU readers of dev->ports. */
	dev_remove_pack(&port->pt);
	ml_disc_port_stop(port);
	ml_qp_port_gone(dev, port->index);

	spin_lock_bh(&port->lock);
	ml_disc_flush(port);
	ml_port_update_link(port, ML_REASON_UNBIND);
	spin_unlock_bh(&port->lock);

	pr_info("%s: port %u (%s) unbound\n", dev->name, port->index,
		port->netdev->name);
	ml_stats_retire(port);
	ml_port_free(port);
}

/* Unbind a port; a device left without ports goes with it. */
void ml_port_remove(struct ml_port *port)
{
	struct ml_dev *dev = port->dev;

	/* The last port: withdraw the device's record while it can. */
	if (dev->num_ports == 1)
		ml_topo_withdraw(dev);
	ml_port_unbind(port);
	if (!dev->num_ports)
		ml_dev_destroy(dev);
}

static void ml_port_carrier_changed(struct ml_port *port)
{
	bool ok = ml_port_carrier_ok(port);

	spin_lock_bh(&port->lock);
	if (!ok)
		ml_disc_flush(port);
	ml_port_update_link(port, ML_REASON_CARRIER);
	spin_unlock_bh(&port->lock);
	/* Their QPs move off a lost link now, not at their next timeout. */
	ml_path_changed(port->dev);
	/* Say hello at once when the link comes back. */
	if (ok)
		ml_disc_kick(port);
}

static int ml_netdev_event(struct notifier_block *nb, unsigned long event,
			   void *ptr)
{
	struct net_device *netdev = netdev_notifier_info_to_dev(ptr);
	struct ml_port *port;

	if (netdev->type != ARPHRD_ETHER)
		return NOTIFY_DONE;
	port = ml_port_find(netdev);
	if (!port)
		return NOTIFY_DONE;

	switch (event) {
	case NETDEV_UNREGISTER:
		/* Also sent when the netdev moves to another namespace. */
		ml_port_remove(port);
		break;
	case NETDEV_UP:
	case NETDEV_DOWN:
	case NETDEV_CHANGE:
		ml_port_carrier_changed(port);
		break;
	default:
		break;
	}
	return NOTIFY_DONE;
}

static struct notifier_block ml_netdev_notifier = {
	.notifier_call = ml_netdev_event,
};

int ml_port_notifier_init(void)
{
	return register_netdevice_notifier(&ml_netdev_notifier);
}

void ml_port_notifier_exit(void)
{
	unregister_netdevice_notifier(&ml_netdev_notifier);
}
