// SPDX-License-Identifier: GPL-2.0
/*
 * The character device: /dev/megalink/mlN, one per megalink device, the
 * data-plane entry point.  An open file holds a reference to its device;
 * once the device is unregistered every call on the file fails with
 * -ENODEV, and the memory goes with the last close.
 *
 * ioctls follow Documentation/driver-api/ioctl.rst and the iommufd model:
 * one table that records each command's struct and minimum size; every
 * struct starts with its u32 size and is read with copy_struct_from_user().
 *
 * Locking: none of its own.  Device state is read under RCU (ports) or
 * with READ_ONCE (scalars); see device.h.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/cdev.h>
#include <linux/compat.h>
#include <linux/device.h>
#include <linux/fs.h>
#include <linux/poll.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "chardev.h"
#include "compat.h"
#include "cq.h"
#include "ctx.h"
#include "device.h"
#include "port.h"
#include "verbs.h"
#include "wire.h"

static dev_t ml_devt;
static struct cdev ml_cdev;
static struct class *ml_class;

static char *ml_devnode(ML_DEVNODE_CONST struct device *d, umode_t *mode)
{
	return kasprintf(GFP_KERNEL, "megalink/%s", dev_name(d));
}

/* Largest entry size accepted for struct ml_port_attr arrays. */
#define ML_MAX_ENTRY_SIZE 4096

static void ml_fill_port_attr(const struct ml_port *port,
			      struct ml_port_attr *a)
{
	const struct net_device *nd = port->netdev;

	memset(a, 0, sizeof(*a));
	a->port_index = port->index;
	a->ifindex = nd->ifindex;
	a->mtu = READ_ONCE(nd->mtu);
	a->link_state = READ_ONCE(port->link_up) ? ML_LINK_UP : ML_LINK_DOWN;
	a->carrier = ml_port_carrier_ok(port);
	memcpy(a->mac, nd->dev_addr, ETH_ALEN);
	a->num_neigh = READ_ONCE(port->num_neigh);
}

static int ml_ioctl_query_device(struct ml_ctx *ctx, void *arg)
{
	struct ml_dev *dev = ctx->dev;
	struct ml_query_device *q = arg;
	struct ml_port_attr attrs[ML_MAX_PORTS];
	u32 entries = q->port_entries, esz = q->port_entry_size;
	u64 uptr = q->ports;
	unsigned int n = 0, i;
	struct ml_port *port;

	if (q->flags)
		return -EINVAL;
	if (entries && (esz == 0 || esz > ML_MAX_ENTRY_SIZE || !uptr))
		return -EINVAL;

	rcu_read_lock();
	for (i = 0; i < ML_MAX_PORTS; i++) {
		port = rcu_dereference(dev->ports[i]);
		if (port)
			ml_fill_port_attr(port, &attrs[n++]);
	}
	rcu_read_unlock();

	for (i = 0; i < min(n, entries); i++) {
		void __user *dst = u64_to_user_ptr(uptr + (u64)i * esz);

		if (copy_to_user(dst, &attrs[i], min_t(u32, esz, sizeof(attrs[i]))))
			return -EFAULT;
		if (esz > sizeof(attrs[i]) &&
		    clear_user(dst + sizeof(attrs[i]), esz - sizeof(attrs[i])))
			return -EFAULT;
	}

	/* Output: everything but the caller's inputs is rebuilt from zero. */
	memset(q, 0, sizeof(*q));
	q->size = sizeof(*q);
	q->port_entries = entries;
	q->port_entry_size = esz;
	q->ports = uptr;
	q->abi_version = ML_ABI_VERSION;
	q->node_id = READ_ONCE(dev->node_id);
	q->caps = ml_dev_caps(dev);
	q->dev_index = dev->index;
	q->num_ports = n;
	q->max_ports = ML_MAX_PORTS;
	q->ethertype = ml_ethertype;
	strscpy(q->name, dev->name, sizeof(q->name));
	q->hello_ms = READ_ONCE(dev->hello_ms);
	q->dead_ms = READ_ONCE(dev->dead_ms);
	return 0;
}

union ml_ioctl_buf {
	struct ml_query_device query_device;
	struct ml_query_limits query_limits;
	struct ml_alloc_pd alloc_pd;
	struct ml_destroy destroy;
	struct ml_reg_mr reg_mr;
	struct ml_create_cq create_cq;
	struct ml_create_qp create_qp;
	struct ml_connect_qp connect_qp;
	struct ml_query_qp query_qp;
	struct ml_notify notify;
};

struct ml_ioctl_op {
	unsigned int size;
	unsigned int min_size;
	unsigned int cmd;
	int (*fn)(struct ml_ctx *ctx, void *arg);
};

#define ML_IOCTL_OP(_cmd, _fn, _struct, _last)				\
	[_IOC_NR(_cmd) - ML_IOCTL_BASE] = {				\
		.size = sizeof(_struct),				\
		.min_size = offsetofend(_struct, _last),		\
		.cmd = _cmd,						\
		.fn = _fn,						\
	}

static const struct ml_ioctl_op ml_ioctl_ops[] = {
	ML_IOCTL_OP(ML_IOCTL_QUERY_DEVICE, ml_ioctl_query_device,
		    struct ml_query_device, dead_ms),
	ML_IOCTL_OP(ML_IOCTL_QUERY_LIMITS, ml_ioctl_query_limits,
		    struct ml_query_limits, max_mr_size),
	ML_IOCTL_OP(ML_IOCTL_ALLOC_PD, ml_ioctl_alloc_pd,
		    struct ml_alloc_pd, reserved),
	ML_IOCTL_OP(ML_IOCTL_DESTROY, ml_ioctl_destroy,
		    struct ml_destroy, handle),
	ML_IOCTL_OP(ML_IOCTL_REG_MR, ml_ioctl_reg_mr,
		    struct ml_reg_mr, reserved),
	ML_IOCTL_OP(ML_IOCTL_CREATE_CQ, ml_ioctl_create_cq,
		    struct ml_create_cq, out_mmap_size),
	ML_IOCTL_OP(ML_IOCTL_CREATE_QP, ml_ioctl_create_qp,
		    struct ml_create_qp, out_rq_size),
	ML_IOCTL_OP(ML_IOCTL_CONNECT_QP, ml_ioctl_connect_qp,
		    struct ml_connect_qp, rnr_timer_ms),
	ML_IOCTL_OP(ML_IOCTL_QUERY_QP, ml_ioctl_query_qp,
		    struct ml_query_qp, status),
	ML_IOCTL_OP(ML_IOCTL_NOTIFY, ml_ioctl_notify,
		    struct ml_notify, reserved),
};

static long ml_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct ml_ctx *ctx = file->private_data;
	void __user *uarg = (void __user *)arg;
	const struct ml_ioctl_op *op;
	union ml_ioctl_buf buf;
	unsigned int nr = _IOC_NR(cmd);
	u32 usize;
	int err;

	if (_IOC_TYPE(cmd) != ML_IOCTL_TYPE || nr < ML_IOCTL_BASE ||
	    nr - ML_IOCTL_BASE >= ARRAY_SIZE(ml_ioctl_ops))
		return -ENOTTY;
	op = &ml_ioctl_ops[nr - ML_IOCTL_BASE];
	if (op->cmd != cmd)
		return -ENOTTY;
	if (READ_ONCE(ctx->dev->dead))
		return -ENODEV;

	if (get_user(usize, (u32 __user *)uarg))
		return -EFAULT;
	if (usize < op->min_size)
		return -EINVAL;
	err = copy_struct_from_user(&buf, op->size, uarg, usize);
	if (err)
		return err;

	err = op->fn(ctx, &buf);
	if (err)
		return err;
	/* A longer user struct had a zero tail; it stays zero. */
	if (copy_to_user(uarg, &buf, min_t(u32, usize, op->size)))
		return -EFAULT;
	return 0;
}

static int ml_open(struct inode *inode, struct file *file)
{
	struct ml_dev *dev = ml_dev_get_by_minor(iminor(inode));
	struct ml_ctx *ctx;

	if (!dev)
		return -ENODEV;
	ctx = ml_ctx_create(dev);
	if (!ctx) {
		ml_dev_put(dev);
		return -ENOMEM;
	}
	file->private_data = ctx;
	return nonseekable_open(inode, file);
}

static int ml_release(struct inode *inode, struct file *file)
{
	struct ml_ctx *ctx = file->private_data;
	struct ml_dev *dev = ctx->dev;

	ml_ctx_destroy(ctx);
	ml_dev_put(dev);
	return 0;
}

static int ml_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct ml_ctx *ctx = file->private_data;

	if (READ_ONCE(ctx->dev->dead))
		return -ENODEV;
	return ml_ctx_mmap(ctx, vma);
}

/* Readable while any CQ of the file holds completions. */
static __poll_t ml_poll(struct file *file, poll_table *wait)
{
	struct ml_ctx *ctx = file->private_data;
	__poll_t mask = 0;

	poll_wait(file, &ctx->poll_wq, wait);
	if (ml_ctx_cqs_ready(ctx))
		mask |= EPOLLIN | EPOLLRDNORM;
	if (READ_ONCE(ctx->dev->dead))
		mask |= EPOLLHUP | EPOLLERR;
	return mask;
}

static const struct file_operations ml_fops = {
	.owner = THIS_MODULE,
	.open = ml_open,
	.release = ml_release,
	.unlocked_ioctl = ml_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.mmap = ml_mmap,
	.poll = ml_poll,
};

int ml_chardev_add(struct ml_dev *dev)
{
	struct device *d;

	d = device_create(ml_class, NULL, MKDEV(MAJOR(ml_devt), dev->index),
			  dev, "%s", dev->name);
	return PTR_ERR_OR_ZERO(d);
}

void ml_chardev_del(struct ml_dev *dev)
{
	device_destroy(ml_class, MKDEV(MAJOR(ml_devt), dev->index));
}

int __init ml_chardev_init(void)
{
	int err;

	err = alloc_chrdev_region(&ml_devt, 0, ML_MAX_DEVS, "megalink");
	if (err)
		return err;
	cdev_init(&ml_cdev, &ml_fops);
	ml_cdev.owner = THIS_MODULE;
	err = cdev_add(&ml_cdev, ml_devt, ML_MAX_DEVS);
	if (err)
		goto err_region;
	ml_class = ml_class_create("megalink");
	if (IS_ERR(ml_class)) {
		err = PTR_ERR(ml_class);
		goto err_cdev;
	}
	ml_class->devnode = ml_devnode;
	return 0;

err_cdev:
	cdev_del(&ml_cdev);
err_region:
	unregister_chrdev_region(ml_devt, ML_MAX_DEVS);
	return err;
}

void ml_chardev_exit(void)
{
	class_destroy(ml_class);
	cdev_del(&ml_cdev);
	unregister_chrdev_region(ml_devt, ML_MAX_DEVS);
}
