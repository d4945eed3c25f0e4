// SPDX-License-Identifier: MIT
/*
 * tables.c: the exported ncclNetPlugin_v8 .. _v12 tables.  One
 * implementation (net.c) serves them all; what differs between versions
 * (int or size_t sizes, the property layout, contexts, profiler handles)
 * is converted here and nowhere else.
 */
#include <limits.h>
#include <string.h>

#include "plugin.h"

#define PLUGIN_NAME "Megalink"

/* ---- properties: the v12 layout copied into older ones ---- */

#define COPY_COMMON(dst, src) do {					\
	(dst)->name = (src).name;					\
	(dst)->pciPath = (src).pciPath;					\
	(dst)->guid = (src).guid;					\
	(dst)->ptrSupport = (src).ptrSupport;				\
	(dst)->regIsGlobal = (src).regIsGlobal;				\
	(dst)->speed = (src).speed;					\
	(dst)->port = (src).port;					\
	(dst)->latency = (src).latency;					\
	(dst)->maxComms = (src).maxComms;				\
	(dst)->maxRecvs = (src).maxRecvs;				\
	(dst)->netDeviceType = (src).netDeviceType;			\
	(dst)->netDeviceVersion = (src).netDeviceVersion;		\
} while (0)

#define COPY_V9(dst, src) do {						\
	COPY_COMMON(dst, src);						\
	(dst)->forceFlush = (src).forceFlush;				\
	(dst)->vProps.ndevs = (src).vProps.ndevs;			\
	memcpy((dst)->vProps.devs, (src).vProps.devs, sizeof((dst)->vProps.devs)); \
	(dst)->maxP2pBytes = (src).maxP2pBytes;				\
	(dst)->maxCollBytes = (src).maxCollBytes;			\
} while (0)

static ncclResult_t props_v8(int dev, ncclNetProperties_v8_t *p)
{
	ncclNetProperties_v12_t all;
	ncclResult_t r;

	if (!p)
		return mn_get_properties(dev, NULL);
	r = mn_get_properties(dev, &all);
	if (r == ncclSuccess) {
		memset(p, 0, sizeof(*p));
		COPY_COMMON(p, all);
	}
	return r;
}

static ncclResult_t props_v9(int dev, ncclNetProperties_v9_t *p)
{
	ncclNetProperties_v12_t all;
	ncclResult_t r;

	if (!p)
		return mn_get_properties(dev, NULL);
	r = mn_get_properties(dev, &all);
	if (r == ncclSuccess) {
		memset(p, 0, sizeof(*p));
		COPY_V9(p, all);
	}
	return r;
}

static ncclResult_t props_v11(int dev, ncclNetProperties_v11_t *p)
{
	ncclNetProperties_v12_t all;
	ncclResult_t r;

	if (!p)
		return mn_get_properties(dev, NULL);
	r = mn_get_properties(dev, &all);
	if (r == ncclSuccess) {
		memset(p, 0, sizeof(*p));
		COPY_V9(p, all);
		p->maxMultiRequestSize = all.maxMultiRequestSize;
	}
	return r;
}

/* ---- v8: int sizes ---- */

static ncclResult_t isend_v8(void *comm, void *data, int size, int tag, void *mh, void **req)
{
	if (size < 0) {
		mn_log(NCCL_LOG_WARN, NCCL_NET, __FILE__, __LINE__,
		       "NET/Megalink: isend: negative size %d", size);
		return ncclInvalidArgument;
	}
	return mn_isend(comm, data, (size_t)size, tag, mh, req);
}

static ncclResult_t irecv_v8(void *comm, int n, void **data, int *sizes, int *tags, void **mh,
			     void **req)
{
	size_t s[MN_MAX_RECVS];

	if (sizes && n > 0 && n <= MN_MAX_RECVS) {
		for (int i = 0; i < n; i++) {
			if (sizes[i] < 0) {
				mn_log(NCCL_LOG_WARN, NCCL_NET, __FILE__, __LINE__,
				       "NET/Megalink: irecv: negative size %d of receive %d", sizes[i], i);
				return ncclInvalidArgument;
			}
			s[i] = (size_t)sizes[i];
		}
	}
	return mn_irecv(comm, n, data, sizes ? s : NULL, tags, mh, req);
}

/* ---- init and connect variants ---- */

static ncclResult_t init_v8(ncclDebugLogger_t logger)
{
	return mn_init(logger);
}

static ncclResult_t init_v10(ncclDebugLogger_t logger, ncclProfilerCallback_t prof)
{
	(void)prof;			/* we report no profiler events */
	return mn_init(logger);
}

static ncclResult_t init_v11(void **ctx, uint64_t comm_id, ncclNetCommConfig_v11_t *cfg,
			     ncclDebugLogger_t logger, ncclProfilerCallback_t prof)
{
	(void)prof;
	return mn_init_ctx(ctx, comm_id, cfg, logger);
}

static ncclResult_t listen_v8(int dev, void *handle, void **lc)
{
	return mn_listen(NULL, dev, handle, lc);
}

static ncclResult_t connect_v8(int dev, void *handle, void **sc, ncclNetDeviceHandle_v8_t **dc)
{
	return mn_connect(NULL, dev, NULL, handle, sc, dc);
}

static ncclResult_t connect_v10(int dev, ncclNetCommConfig_v10_t *cfg, void *handle, void **sc,
				ncclNetDeviceHandle_v10_t **dc)
{
	return mn_connect(NULL, dev, cfg, handle, sc, dc);
}

static ncclResult_t connect_v11(void *ctx, int dev, void *handle, void **sc,
				ncclNetDeviceHandle_v11_t **dc)
{
	if (!ctx) {
		mn_log(NCCL_LOG_WARN, NCCL_NET, __FILE__, __LINE__, "NET/Megalink: connect: NULL ctx");
		return ncclInvalidArgument;
	}
	return mn_connect(ctx, dev, NULL, handle, sc, dc);
}

static ncclResult_t listen_v11(void *ctx, int dev, void *handle, void **lc)
{
	if (!ctx) {
		mn_log(NCCL_LOG_WARN, NCCL_NET, __FILE__, __LINE__, "NET/Megalink: listen: NULL ctx");
		return ncclInvalidArgument;
	}
	return mn_listen(ctx, dev, handle, lc);
}

/* ---- v10+: profiler handles are accepted and ignored ---- */

static ncclResult_t isend_v10(void *comm, void *data, size_t size, int tag, void *mh,
			      void *phandle, void **req)
{
	(void)phandle;
	return mn_isend(comm, data, size, tag, mh, req);
}

static ncclResult_t irecv_v9(void *comm, int n, void **data, size_t *sizes, int *tags,
			     void **mh, void **req)
{
	return mn_irecv(comm, n, data, sizes, tags, mh, req);
}

static ncclResult_t irecv_v10(void *comm, int n, void **data, size_t *sizes, int *tags,
			      void **mh, void **phandles, void **req)
{
	(void)phandles;
	return mn_irecv(comm, n, data, sizes, tags, mh, req);
}

static ncclResult_t vdev_v9(int *d, ncclNetVDeviceProps_v9_t *p)
{
	if (!p)
		return mn_make_vdevice(d, 0, NULL);
	return mn_make_vdevice(d, p->ndevs, p->devs);
}

static ncclResult_t vdev_v12(int *d, ncclNetVDeviceProps_v12_t *p)
{
	if (!p)
		return mn_make_vdevice(d, 0, NULL);
	return mn_make_vdevice(d, p->ndevs, p->devs);
}

static ncclResult_t set_attr_v11(void *ctx, ncclNetAttr_v11_t *a)
{
	return mn_set_net_attr(ctx, a);
}

static ncclResult_t accept_v8(void *lc, void **rc, ncclNetDeviceHandle_v8_t **dc)
{
	return mn_accept(lc, rc, dc);
}

#define COMMON_TAIL							\
	.regMr = mn_reg_mr,						\
	.regMrDmaBuf = mn_reg_mr_dmabuf,				\
	.deregMr = mn_dereg_mr,						\
	.iflush = mn_iflush,						\
	.test = mn_test,						\
	.closeSend = mn_close_send,					\
	.closeRecv = mn_close_recv,					\
	.closeListen = mn_close_listen,					\
	.getDeviceMr = mn_get_device_mr,				\
	.irecvConsumed = mn_irecv_consumed

MN_VISIBLE const ncclNet_v8_t ncclNetPlugin_v8 = {
	.name = PLUGIN_NAME,
	.init = init_v8,
	.devices = mn_devices,
	.getProperties = props_v8,
	.listen = listen_v8,
	.connect = connect_v8,
	.accept = accept_v8,
	.isend = isend_v8,
	.irecv = irecv_v8,
	COMMON_TAIL,
};

MN_VISIBLE const ncclNet_v9_t ncclNetPlugin_v9 = {
	.name = PLUGIN_NAME,
	.init = init_v8,
	.devices = mn_devices,
	.getProperties = props_v9,
	.listen = listen_v8,
	.connect = connect_v8,
	.accept = accept_v8,
	.isend = mn_isend,
	.irecv = irecv_v9,
	.makeVDevice = vdev_v9,
	COMMON_TAIL,
};

MN_VISIBLE const ncclNet_v10_t ncclNetPlugin_v10 = {
	.name = PLUGIN_NAME,
	.init = init_v10,
	.devices = mn_devices,
	.getProperties = props_v9,
	.listen = listen_v8,
	.connect = connect_v10,
	.accept = accept_v8,
	.isend = isend_v10,
	.irecv = irecv_v10,
	.makeVDevice = vdev_v9,
	COMMON_TAIL,
};

MN_VISIBLE const ncclNet_v11_t ncclNetPlugin_v11 = {
	.name = PLUGIN_NAME,
	.init = init_v11,
	.devices = mn_devices,
	.getProperties = props_v11,
	.listen = listen_v11,
	.connect = connect_v11,
	.accept = accept_v8,
	.isend = isend_v10,
	.irecv = irecv_v10,
	.makeVDevice = vdev_v9,
	.finalize = mn_finalize,
	.setNetAttr = set_attr_v11,
	COMMON_TAIL,
};

MN_VISIBLE const ncclNet_v12_t ncclNetPlugin_v12 = {
	.name = PLUGIN_NAME,
	.init = init_v11,
	.devices = mn_devices,
	.getProperties = mn_get_properties,
	.listen = listen_v11,
	.connect = connect_v11,
	.accept = accept_v8,
	.isend = isend_v10,
	.irecv = irecv_v10,
	.makeVDevice = vdev_v12,
	.finalize = mn_finalize,
	.setNetAttr = set_attr_v11,
	COMMON_TAIL,
};
