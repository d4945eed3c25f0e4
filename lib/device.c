// SPDX-License-Identifier: MIT
/*
 * libmegalink: the data-plane character device /dev/megalink/mlN.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "internal.h"

#define ML_DEV_DIR	"/dev/megalink"
#define ML_CLASS_DIR	"/sys/class/megalink"

ML_EXPORT int ml_device_open(const char *name, struct ml_device **out)
{
	struct ml_device *dev;
	const char *base;
	int err;

	if (!out)
		return ml__fail(-EINVAL, "device open: out pointer is NULL");
	*out = NULL;
	if (!name || !name[0])
		return ml__fail(-EINVAL, "device open: empty device name");

	if (strchr(name, '/')) {
		if (strlen(name) >= sizeof(dev->path))
			return ml__fail(-ENAMETOOLONG, "device open %s: path too long", name);
		base = strrchr(name, '/') + 1;
	} else {
		if (strlen(name) >= ML_DEV_NAME_LEN)
			return ml__fail(-EINVAL,
					"device open %s: name longer than %d characters",
					name, ML_DEV_NAME_LEN - 1);
		base = name;
	}

	dev = calloc(1, sizeof(*dev));
	if (!dev)
		return ml__fail(-ENOMEM, "device open %s: out of memory", name);
	if (base == name)
		snprintf(dev->path, sizeof(dev->path), ML_DEV_DIR "/%s", name);
	else
		snprintf(dev->path, sizeof(dev->path), "%s", name);
	snprintf(dev->name, sizeof(dev->name), "%s", base);

	pthread_mutex_init(&dev->lock, NULL);
	dev->objs.prev = dev->objs.next = &dev->objs;
	dev->fd = open(dev->path, O_RDWR | O_CLOEXEC);
	if (dev->fd < 0) {
		err = -errno;
		if (err == -ENOENT && access(ML_CLASS_DIR, F_OK) != 0)
			ml__fail(err, "device open %s: %s does not exist "
				 "(megalink module not loaded)", name, dev->path);
		else if (err == -ENOENT)
			ml__fail(err, "device open %s: %s does not exist "
				 "(no such megalink device)", name, dev->path);
		else
			ml__fail(err, "device open %s: %s: %s", name, dev->path,
				 ml_strerror(err));
		pthread_mutex_destroy(&dev->lock);
		free(dev);
		return err;
	}
	*out = dev;
	return 0;
}

ML_EXPORT void ml_device_close(struct ml_device *dev)
{
	if (!dev)
		return;
	ml__verbs_release_all(dev);
	close(dev->fd);
	pthread_mutex_destroy(&dev->lock);
	free(dev);
}

ML_EXPORT int ml_device_fd(const struct ml_device *dev)
{
	return dev ? dev->fd : -EBADF;
}

ML_EXPORT const char *ml_device_name(const struct ml_device *dev)
{
	return dev ? dev->name : "";
}

ML_EXPORT int ml_device_query(struct ml_device *dev, struct ml_device_info *info)
{
	struct ml_port_attr ports[ML_LIB_INFO_PORTS];
	struct ml_query_device q;
	unsigned int i;
	int err;

	if (!dev || !info)
		return ml__fail(-EINVAL, "device query: NULL %s", dev ? "info" : "device");

	memset(&q, 0, sizeof(q));
	memset(ports, 0, sizeof(ports));
	q.size = sizeof(q);
	q.port_entries = ML_LIB_INFO_PORTS;
	q.port_entry_size = sizeof(struct ml_port_attr);
	q.ports = (uintptr_t)ports;

	if (ioctl(dev->fd, ML_IOCTL_QUERY_DEVICE, &q) < 0) {
		err = -errno;
		return ml__fail(err, "device query %s: ML_IOCTL_QUERY_DEVICE: %s",
				dev->name, ml_strerror(err));
	}

	memset(info, 0, sizeof(*info));
	memcpy(info->name, q.name, sizeof(info->name));
	info->name[sizeof(info->name) - 1] = '\0';
	info->dev_index = q.dev_index;
	info->abi_version = q.abi_version;
	info->node_id = q.node_id;
	info->num_ports = q.num_ports;
	info->caps = q.caps;
	info->max_ports = q.max_ports;
	info->ethertype = q.ethertype;
	info->hello_ms = q.hello_ms;
	info->dead_ms = q.dead_ms;
	info->ports_filled = q.num_ports < ML_LIB_INFO_PORTS ? q.num_ports
							     : ML_LIB_INFO_PORTS;
	for (i = 0; i < info->ports_filled; i++) {
		char buf[IF_NAMESIZE];

		info->ports[i] = ports[i];
		if (ports[i].ifindex && if_indextoname(ports[i].ifindex, buf))
			snprintf(info->port_ifname[i], ML_LIB_IFNAMSIZ, "%s", buf);
	}
	return 0;
}

static int name_index(const char *s)
{
	return atoi(s + 2);
}

static int cmp_names(const void *a, const void *b)
{
	return name_index(a) - name_index(b);
}

ML_EXPORT int ml_list_devices(char (**names)[ML_DEV_NAME_LEN], size_t *n)
{
	struct ml_vec v = { .elem = ML_DEV_NAME_LEN };
	struct dirent *de;
	DIR *d;

	if (!names || !n)
		return ml__fail(-EINVAL, "list devices: NULL output pointer");
	*names = NULL;
	*n = 0;
	d = opendir(ML_CLASS_DIR);
	if (!d) {
		if (errno == ENOENT)
			return 0;	/* module not loaded: no devices */
		return ml__fail(-errno, "list devices: %s: %s", ML_CLASS_DIR,
				ml_strerror(errno));
	}
	while ((de = readdir(d))) {
		char *slot;

		if (strncmp(de->d_name, "ml", 2) != 0 ||
		    strlen(de->d_name) >= ML_DEV_NAME_LEN)
			continue;
		slot = ml__vec_push(&v);
		if (!slot) {
			closedir(d);
			free(v.data);
			return ml__fail(-ENOMEM, "list devices: out of memory");
		}
		strcpy(slot, de->d_name);
	}
	closedir(d);
	if (v.n)
		qsort(v.data, v.n, v.elem, cmp_names);
	*names = v.data;
	*n = v.n;
	return (int)v.n;
}
