/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The few kernel API differences between the kernels megalink supports
 * (Debian's 6.1 and 6.12).  Everything version-dependent lives here.
 */
#ifndef _ML_COMPAT_H
#define _ML_COMPAT_H

#include <linux/version.h>
#include <linux/device/class.h>
#include <linux/mm.h>
#include <net/genetlink.h>

/* 6.2 made the devtmpfs devnode callback take a const device. */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 2, 0)
#define ML_DEVNODE_CONST const
#else
#define ML_DEVNODE_CONST
#endif

/* 6.4 dropped the owner argument of class_create(). */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 4, 0)
#define ml_class_create(name) class_create(name)
#else
#define ml_class_create(name) class_create(THIS_MODULE, name)
#endif

/* 6.2 moved the parsed dump attributes into a struct genl_info. */
static inline struct nlattr **ml_dump_attrs(struct netlink_callback *cb)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 2, 0)
	return genl_info_dump(cb)->attrs;
#else
	return genl_dumpit_info(cb)->attrs;
#endif
}

/* 6.3 made vma->vm_flags read-only outside of helpers. */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 3, 0)
#define ml_vm_flags_set(vma, flags) vm_flags_set(vma, flags)
#else
#define ml_vm_flags_set(vma, flags) ((vma)->vm_flags |= (flags))
#endif

/*
 * 6.3 added formatted extack messages.  Older kernels get the plain
 * message, which must make sense on its own.
 */
#ifdef NL_SET_ERR_MSG_FMT
#define ML_ERR_FMT(extack, plain, fmt, ...) \
	NL_SET_ERR_MSG_FMT(extack, fmt, ##__VA_ARGS__)
#else
#define ML_ERR_FMT(extack, plain, fmt, ...) NL_SET_ERR_MSG(extack, plain)
#endif

#endif /* _ML_COMPAT_H */
