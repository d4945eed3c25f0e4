// SPDX-License-Identifier: GPL-2.0
/*
 * megalink.ko: the Megalink pod fabric.  Module init and exit, and the
 * load-time parameters.  Everything else is configured over netlink.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/if_ether.h>
#include <linux/module.h>
#include <linux/netdevice.h>
#include <linux/rtnetlink.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "chardev.h"
#include "device.h"
#include "mr.h"
#include "qp.h"
#include "udp.h"
#include "netlink.h"
#include "port.h"
#include "wire.h"

u16 ml_ethertype = ML_ETHERTYPE_DEFAULT;
module_param_named(ethertype, ml_ethertype, ushort, 0444);
MODULE_PARM_DESC(ethertype, "EtherType of megalink frames (default 0x88B5)");

unsigned int ml_default_hello_ms = ML_HELLO_MS_DEFAULT;
module_param_named(hello_ms, ml_default_hello_ms, uint, 0444);
MODULE_PARM_DESC(hello_ms, "HELLO interval of new devices, ms (default 1000)");

unsigned int ml_default_dead_ms = ML_DEAD_MS_DEFAULT;
module_param_named(dead_ms, ml_default_dead_ms, uint, 0444);
MODULE_PARM_DESC(dead_ms, "dead interval of new devices, ms (default 4000)");

static char *ml_bind_param = "";
module_param_named(bind, ml_bind_param, charp, 0444);
MODULE_PARM_DESC(bind,
		 "netdevs to bind at load, in init_net: \"eth0,eth1\" makes two devices, \"eth0+eth1\" one device with two ports");

/* Bind "if1+if2+..." as one device; RTNL held. */
static void ml_bind_one(char *spec)
{
	struct ml_dev *dev = NULL;
	struct net_device *nd;
	struct ml_port *port;
	char *ifname;
	int err;

	ASSERT_RTNL();
	while ((ifname = strsep(&spec, "+"))) {
		if (!*ifname)
			continue;
		nd = __dev_get_by_name(&init_net, ifname);
		if (!nd) {
			pr_warn("bind=%s: no such network device\n", ifname);
			continue;
		}
		err = ml_port_bind(nd, dev, 0, ml_default_hello_ms,
				   ml_default_dead_ms, &port, NULL);
		if (err) {
			pr_warn("bind=%s: error %d\n", ifname, err);
			continue;
		}
		dev = port->dev;
	}
}

static void ml_bind_at_load(void)
{
	char *buf, *cur, *spec;

	if (!ml_bind_param || !*ml_bind_param)
		return;
	buf = kstrdup(ml_bind_param, GFP_KERNEL);
	if (!buf)
		return;
	cur = buf;
	rtnl_lock();
	while ((spec = strsep(&cur, ",")))
		ml_bind_one(spec);
	rtnl_unlock();
	kfree(buf);
}

static int ml_check_params(void)
{
	if (ml_ethertype < ETH_P_802_3_MIN) {
		pr_err("ethertype 0x%04x is a length, not an EtherType\n",
		       ml_ethertype);
		return -EINVAL;
	}
	if (ml_default_hello_ms < ML_HELLO_MS_MIN ||
	    ml_default_hello_ms > ML_HELLO_MS_MAX) {
		pr_err("hello_ms must be %u..%u\n", ML_HELLO_MS_MIN,
		       ML_HELLO_MS_MAX);
		return -EINVAL;
	}
	if (ml_default_dead_ms < 2 * ml_default_hello_ms ||
	    ml_default_dead_ms < ML_DEAD_MS_MIN ||
	    ml_default_dead_ms > ML_DEAD_MS_MAX) {
		pr_err("dead_ms must be at least twice hello_ms, and %u..%u\n",
		       ML_DEAD_MS_MIN, ML_DEAD_MS_MAX);
		return -EINVAL;
	}
	return 0;
}

static int __init ml_init(void)
{
	int err;

	err = ml_check_params();
	if (err)
		return err;
	err = ml_mr_init();
	if (err)
		return err;
	err = ml_qp_init();
	if (err)
		goto err_mr;
	err = ml_chardev_init();
	if (err)
		goto err_qp;
	err = ml_udp_init();
	if (err)
		goto err_chardev;
	err = ml_port_notifier_init();
	if (err)
		goto err_udp;
	err = ml_genl_init();
	if (err)
		goto err_notifier;
	ml_bind_at_load();
	pr_info("version %s loaded, EtherType 0x%04x\n", ML_VERSION,
		ml_ethertype);
	return 0;

err_notifier:
	ml_port_notifier_exit();
err_udp:
	ml_udp_exit();
err_chardev:
	ml_chardev_exit();
err_qp:
	ml_qp_exit();
err_mr:
	ml_mr_exit();
	return err;
}

static void __exit ml_exit(void)
{
	/* Devices first, so that their last notifications still go out. */
	ml_dev_destroy_all();
	ml_stats_exit();
	ml_genl_exit();
	ml_port_notifier_exit();
	/* After the devices, whose peers held the sockets. */
	ml_udp_exit();
	ml_chardev_exit();
	ml_qp_exit();
	ml_mr_exit();
	/* Devices, QPs and MRs are freed by kfree_rcu(). */
	rcu_barrier();
	pr_info("unloaded\n");
}

module_init(ml_init);
module_exit(ml_exit);
MODULE_LICENSE("GPL");
MODULE_AUTHOR("Megalink developers");
MODULE_DESCRIPTION("Megalink pod fabric: RDMA-style transport over Ethernet");
MODULE_VERSION(ML_VERSION);
