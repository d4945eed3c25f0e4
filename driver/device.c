// SPDX-License-Identifier: GPL-2.0
/*
 * Megalink device lifetime: creation when the first port is bound,
 * destruction with the last port (or at module unload), lookup, node ids.
 *
 * Locking: see device.h.  Devices are created and destroyed under RTNL.
 * The struct itself is reference counted: the xarray holds one reference,
 * every open file of the char device another; the memory goes an RCU
 * grace period after the last put, so RCU lookups in ml_devs are safe.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/etherdevice.h>
#include <linux/rtnetlink.h>
#include <linux/slab.h>
#include <net/netlink.h>

#include "chardev.h"
#include "device.h"
#include "discovery.h"
#include "netlink.h"
#include "port.h"
#include "udp.h"
#include "qp.h"
#include "topo.h"

DEFINE_XARRAY_ALLOC(ml_devs);

/* Set under RTNL at module unload: no device may be created after it. */
static bool ml_devs_closed;

static void ml_dev_release(struct kref *ref)
{
	struct ml_dev *dev = container_of(ref, struct ml_dev, ref);

	kfree_rcu(dev, rcu);
}

void ml_dev_put(struct ml_dev *dev)
{
	kref_put(&dev->ref, ml_dev_release);
}

/* Char device open(): a counted reference to a live device, or NULL. */
struct ml_dev *ml_dev_get_by_minor(unsigned int minor)
{
	struct ml_dev *dev;

	rcu_read_lock();
	dev = xa_load(&ml_devs, minor);
	if (dev && (READ_ONCE(dev->dead) || !kref_get_unless_zero(&dev->ref)))
		dev = NULL;
	rcu_read_unlock();
	return dev;
}

/*
 * Find a device of @net by index or name (RTNL held).  @index is used
 * when @name is NULL.
 */
struct ml_dev *ml_dev_find(struct net *net, u32 index, const char *name)
{
	struct ml_dev *dev;
	unsigned long i;

	ASSERT_RTNL();
	if (!name) {
		dev = xa_load(&ml_devs, index);
		return dev && net_eq(ml_dev_net(dev), net) ? dev : NULL;
	}
	xa_for_each(&ml_devs, i, dev)
		if (net_eq(ml_dev_net(dev), net) && !strcmp(dev->name, name))
			return dev;
	return NULL;
}

/* Node ids are unique across the whole kernel (RTNL held). */
struct ml_dev *ml_dev_by_node_id(u32 node_id)
{
	struct ml_dev *dev;
	unsigned long i;

	ASSERT_RTNL();
	xa_for_each(&ml_devs, i, dev)
		if (dev->node_id == node_id)
			return dev;
	return NULL;
}

/* The default node id: the low 32 bits of the first port's MAC. */
u32 ml_dev_node_id_from_mac(const u8 *mac)
{
	return get_unaligned_be32(mac + 2);
}

u64 ml_dev_caps(const struct ml_dev *dev)
{
	return ML_DEV_CAP_MULTI_PORT | ML_DEV_CAP_QUERY_PORTS |
	       ML_DEV_CAP_DATA_PLANE;
}

/**
 * ml_dev_create() - allocate and register a device without ports
 * @net: network namespace the device belongs to
 * @node_id: node id, already validated and checked unique
 * @hello_ms: HELLO interval
 * @dead_ms: dead interval
 * @extack: for the error message
 *
 * Called under RTNL.  The caller binds the first port immediately and
 * destroys the device if that fails.
 *
 * Return: the device or an ERR_PTR().
 */
struct ml_dev *ml_dev_create(struct net *net, u32 node_id, u32 hello_ms,
			     u32 dead_ms, struct netlink_ext_ack *extack)
{
	struct ml_dev *dev;
	u32 index;
	int err;

	ASSERT_RTNL();
	if (ml_devs_closed) {
		NL_SET_ERR_MSG(extack, "megalink is being unloaded");
		return ERR_PTR(-ENODEV);
	}
	dev = kzalloc(sizeof(*dev), GFP_KERNEL);
	if (!dev)
		return ERR_PTR(-ENOMEM);
	kref_init(&dev->ref);
	xa_init_flags(&dev->mrs, XA_FLAGS_ALLOC1);
	xa_init_flags(&dev->qps, XA_FLAGS_ALLOC1);
	write_pnet(&dev->net, net);
	INIT_LIST_HEAD(&dev->peers);
	dev->node_id = node_id;
	dev->hello_ms = hello_ms;
	dev->dead_ms = dead_ms;

	/* Reserve the index now, publish the pointer once fully set up. */
	err = xa_alloc(&ml_devs, &index, NULL, XA_LIMIT(0, ML_MAX_DEVS - 1),
		       GFP_KERNEL);
	if (err) {
		NL_SET_ERR_MSG(extack, "too many megalink devices");
		kfree(dev);
		return ERR_PTR(err == -EBUSY ? -ENOSPC : err);
	}
	dev->index = index;
	snprintf(dev->name, sizeof(dev->name), "ml%u", index);

	err = ml_chardev_add(dev);
	if (err) {
		NL_SET_ERR_MSG(extack, "cannot create the character device");
		xa_erase(&ml_devs, index);
		kfree(dev);
		return ERR_PTR(err);
	}
	ml_topo_init(dev);
	xa_store(&ml_devs, index, dev, GFP_KERNEL);
	pr_info("%s: created, node id 0x%08x\n", dev->name, node_id);
	return dev;
}

/**
 * ml_dev_destroy() - unbind every port and unregister the device
 * @dev: the device
 *
 * Called under RTNL.  Open files keep the memory alive but see -ENODEV.
 */
void ml_dev_destroy(struct ml_dev *dev)
{
	struct ml_port *port;
	unsigned int i;

	ASSERT_RTNL();
	WRITE_ONCE(dev->dead, true);
	ml_topo_withdraw(dev);
	ml_peer_flush(dev);
	for (i = 0; i < ML_MAX_PORTS; i++) {
		port = ml_dev_port(dev, i);
		if (port)
			ml_port_unbind(port);
	}
	ml_topo_stop(dev);
	ml_qp_dev_gone(dev);
	xa_erase(&ml_devs, dev->index);
	ml_chardev_del(dev);
	ml_nl_notify_dev(dev, ML_CMD_DEV_DEL_NTF);
	pr_info("%s: destroyed\n", dev->name);
	ml_dev_put(dev);
}

/* Module unload: destroy every device and refuse new ones. */
void ml_dev_destroy_all(void)
{
	struct ml_dev *dev;
	unsigned long i;

	rtnl_lock();
	ml_devs_closed = true;
	xa_for_each(&ml_devs, i, dev)
		ml_dev_destroy(dev);
	rtnl_unlock();
}

/*
 * Apply new settings (RTNL held; 0 means unchanged) and let every port
 * announce them at once.
 */
void ml_dev_set_timing(struct ml_dev *dev, u32 node_id, u32 hello_ms,
		       u32 dead_ms)
{
	struct ml_port *port;
	unsigned int i;

	ASSERT_RTNL();
	if (node_id)
		WRITE_ONCE(dev->node_id, node_id);
	if (hello_ms)
		WRITE_ONCE(dev->hello_ms, hello_ms);
	if (dead_ms)
		WRITE_ONCE(dev->dead_ms, dead_ms);
	for (i = 0; i < ML_MAX_PORTS; i++) {
		port = ml_dev_port(dev, i);
		if (port)
			ml_disc_kick(port);
	}
	ml_topo_changed(dev, false);
}
