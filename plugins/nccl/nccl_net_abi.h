/* SPDX-License-Identifier: MIT */
/*
 * nccl_net_abi.h: our declaration of NCCL's external network plugin ABI,
 * versions 8 to 12, as NCCL publishes it (ext-net documentation and the
 * plugins/net/example headers of the NCCL sources).  NCCL is not needed to
 * build the plugin: this header is all it sees of NCCL.
 *
 * NCCL dlopen()s the plugin and looks up `ncclNetPlugin_v<N>` from the
 * newest version it knows down to the oldest; each symbol is a table of
 * function pointers (ncclNet_v<N>_t) whose first member is the name.
 * Layouts are C struct layouts on LP64 Linux; nccl_net_abi_check.c pins
 * every offset and size with static_assert so that an edit that moves a
 * field fails the build.
 *
 * Version history as far as it concerns us:
 *  v8   int sizes; regMrDmaBuf; getDeviceMr/irecvConsumed (device offload)
 *  v9   size_t sizes in isend/irecv; forceFlush; virtual devices
 *       (vProps, makeVDevice); maxP2pBytes/maxCollBytes
 *  v10  init() takes a profiler callback; connect() a per-connection
 *       config (traffic class); isend/irecv a profiler handle
 *  v11  init() returns a per-communicator context (listen/connect take
 *       it); finalize(), setNetAttr(); maxMultiRequestSize
 *  v12  railId/planeId in the properties; 8 devices per virtual NIC
 */
#ifndef MEGALINK_NCCL_NET_ABI_H
#define MEGALINK_NCCL_NET_ABI_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ncclResult_t: NCCL's status codes (nccl.h). */
typedef enum {
	ncclSuccess = 0,
	ncclUnhandledCudaError = 1,
	ncclSystemError = 2,		/* a system call or the OS failed */
	ncclInternalError = 3,		/* a bug in NCCL or the plugin */
	ncclInvalidArgument = 4,	/* a bad argument */
	ncclInvalidUsage = 5,		/* a call the API does not allow here */
	ncclRemoteError = 6,		/* the peer or the network failed */
	ncclInProgress = 7,
	ncclNumResults = 8
} ncclResult_t;

/* Logger levels and subsystems. */
typedef enum {
	NCCL_LOG_NONE = 0,
	NCCL_LOG_VERSION = 1,
	NCCL_LOG_WARN = 2,
	NCCL_LOG_INFO = 3,
	NCCL_LOG_ABORT = 4,
	NCCL_LOG_TRACE = 5
} ncclDebugLogLevel;

#define NCCL_INIT	0x1UL
#define NCCL_NET	0x10UL
#define NCCL_ENV	0x80UL
#define NCCL_REG	0x2000UL

typedef void (*ncclDebugLogger_t)(ncclDebugLogLevel level, unsigned long flags,
				  const char *file, int line, const char *fmt, ...);

/* v10+: the profiler callback NCCL passes to init (we never call it). */
typedef ncclResult_t (*ncclProfilerCallback_t)(void **eHandle, int type, void *phandle,
					       int64_t pluginId, void *extData);

/* Constants of the ABI. */
#define NCCL_NET_HANDLE_MAXSIZE		128	/* bytes of a listen handle */
#define NCCL_NET_MAX_REQUESTS		32	/* outstanding requests per comm */
#define NCCL_NET_OPTIONAL_RECV_COMPLETION 0x1	/* *request on entry to irecv */
#define NCCL_PTR_HOST			0x1
#define NCCL_PTR_CUDA			0x2
#define NCCL_PTR_DMABUF			0x4
#define NCCL_NET_MAX_DEVS_PER_NIC	4	/* v9..v11 */
#define NCCL_NET_MAX_DEVS_PER_NIC_V12	8
#define NCCL_NET_TRAFFIC_CLASS_UNDEF	(-1)
#define NCCL_NET_ID_UNDEF		(-1)
#define NCCL_NET_DEVICE_INVALID_VERSION	0x0
#define NCCL_MAX_NET_SIZE_BYTES		(1ULL << 40)	/* 1 TiB */

typedef enum { NCCL_NET_DEVICE_HOST = 0, NCCL_NET_DEVICE_UNPACK = 1 } ncclNetDeviceType;

/* Device-offload handle (same layout v7..v12); host plugins never fill it. */
typedef struct {
	ncclNetDeviceType netDeviceType;
	int netDeviceVersion;
	void *handle;
	size_t size;
	int needsProxyProgress;
} ncclNetDeviceHandle_v8_t;
typedef ncclNetDeviceHandle_v8_t ncclNetDeviceHandle_v9_t;
typedef ncclNetDeviceHandle_v8_t ncclNetDeviceHandle_v10_t;
typedef ncclNetDeviceHandle_v8_t ncclNetDeviceHandle_v11_t;
typedef ncclNetDeviceHandle_v8_t ncclNetDeviceHandle_v12_t;

/* ---- properties of one device ---- */

typedef struct {
	char *name;
	char *pciPath;
	uint64_t guid;
	int ptrSupport;			/* NCCL_PTR_* */
	int regIsGlobal;
	int speed;			/* Mb/s */
	int port;
	float latency;			/* us */
	int maxComms;
	int maxRecvs;			/* receives grouped in one irecv */
	ncclNetDeviceType netDeviceType;
	int netDeviceVersion;
} ncclNetProperties_v8_t;

typedef struct {
	int ndevs;
	int devs[NCCL_NET_MAX_DEVS_PER_NIC];
} ncclNetVDeviceProps_v9_t;
typedef ncclNetVDeviceProps_v9_t ncclNetVDeviceProps_v10_t;
typedef ncclNetVDeviceProps_v9_t ncclNetVDeviceProps_v11_t;

typedef struct {
	int ndevs;
	int devs[NCCL_NET_MAX_DEVS_PER_NIC_V12];
} ncclNetVDeviceProps_v12_t;

/* v9 and v10 share one layout. */
typedef struct {
	char *name;
	char *pciPath;
	uint64_t guid;
	int ptrSupport;
	int regIsGlobal;
	int forceFlush;			/* NCCL must iflush every receive */
	int speed;
	int port;
	float latency;
	int maxComms;
	int maxRecvs;
	ncclNetDeviceType netDeviceType;
	int netDeviceVersion;
	ncclNetVDeviceProps_v9_t vProps;
	size_t maxP2pBytes;
	size_t maxCollBytes;
} ncclNetProperties_v9_t;
typedef ncclNetProperties_v9_t ncclNetProperties_v10_t;

typedef struct {
	char *name;
	char *pciPath;
	uint64_t guid;
	int ptrSupport;
	int regIsGlobal;
	int forceFlush;
	int speed;
	int port;
	float latency;
	int maxComms;
	int maxRecvs;
	ncclNetDeviceType netDeviceType;
	int netDeviceVersion;
	ncclNetVDeviceProps_v11_t vProps;
	size_t maxP2pBytes;
	size_t maxCollBytes;
	int maxMultiRequestSize;
} ncclNetProperties_v11_t;

typedef struct {
	char *name;
	char *pciPath;
	uint64_t guid;
	int ptrSupport;
	int regIsGlobal;
	int forceFlush;
	int speed;
	int port;
	float latency;
	int maxComms;
	int maxRecvs;
	ncclNetDeviceType netDeviceType;
	int netDeviceVersion;
	ncclNetVDeviceProps_v12_t vProps;
	size_t maxP2pBytes;
	size_t maxCollBytes;
	int maxMultiRequestSize;
	int16_t railId;
	int16_t planeId;
} ncclNetProperties_v12_t;

/* ---- per-connection config (v10+) and attributes (v11+) ---- */

typedef struct {
	int trafficClass;		/* NCCL_NET_TRAFFIC_CLASS_UNDEF or a plugin value */
} ncclNetCommConfig_v10_t;
typedef ncclNetCommConfig_v10_t ncclNetCommConfig_v11_t;
typedef ncclNetCommConfig_v10_t ncclNetCommConfig_v12_t;

typedef struct {
	int32_t maxConcurrentPeers;
	int32_t minConcurrentPeers;
	int32_t maxFlowsPerPeer;
	int32_t minFlowsPerPeer;
} ncclNetCommAttr_v11_t;

typedef struct {
	ncclNetCommAttr_v11_t sendCommAttr;
	ncclNetCommAttr_v11_t recvCommAttr;
	uint32_t op;
	uint32_t algo;
	uint32_t proto;
} ncclNetAttr_v11_t;
typedef ncclNetAttr_v11_t ncclNetAttr_v12_t;

/* ---- the function tables ---- */

typedef struct {
	const char *name;
	ncclResult_t (*init)(ncclDebugLogger_t logFunction);
	ncclResult_t (*devices)(int *ndev);
	ncclResult_t (*getProperties)(int dev, ncclNetProperties_v8_t *props);
	ncclResult_t (*listen)(int dev, void *handle, void **listenComm);
	ncclResult_t (*connect)(int dev, void *handle, void **sendComm,
				ncclNetDeviceHandle_v8_t **sendDevComm);
	ncclResult_t (*accept)(void *listenComm, void **recvComm,
			       ncclNetDeviceHandle_v8_t **recvDevComm);
	ncclResult_t (*regMr)(void *comm, void *data, size_t size, int type, void **mhandle);
	ncclResult_t (*regMrDmaBuf)(void *comm, void *data, size_t size, int type,
				    uint64_t offset, int fd, void **mhandle);
	ncclResult_t (*deregMr)(void *comm, void *mhandle);
	ncclResult_t (*isend)(void *sendComm, void *data, int size, int tag,
			      void *mhandle, void **request);
	ncclResult_t (*irecv)(void *recvComm, int n, void **data, int *sizes, int *tags,
			      void **mhandles, void **request);
	ncclResult_t (*iflush)(void *recvComm, int n, void **data, int *sizes,
			       void **mhandles, void **request);
	ncclResult_t (*test)(void *request, int *done, int *sizes);
	ncclResult_t (*closeSend)(void *sendComm);
	ncclResult_t (*closeRecv)(void *recvComm);
	ncclResult_t (*closeListen)(void *listenComm);
	ncclResult_t (*getDeviceMr)(void *comm, void *mhandle, void **dptr_mhandle);
	ncclResult_t (*irecvConsumed)(void *recvComm, int n, void *request);
} ncclNet_v8_t;

typedef struct {
	const char *name;
	ncclResult_t (*init)(ncclDebugLogger_t logFunction);
	ncclResult_t (*devices)(int *ndev);
	ncclResult_t (*getProperties)(int dev, ncclNetProperties_v9_t *props);
	ncclResult_t (*listen)(int dev, void *handle, void **listenComm);
	ncclResult_t (*connect)(int dev, void *handle, void **sendComm,
				ncclNetDeviceHandle_v9_t **sendDevComm);
	ncclResult_t (*accept)(void *listenComm, void **recvComm,
			       ncclNetDeviceHandle_v9_t **recvDevComm);
	ncclResult_t (*regMr)(void *comm, void *data, size_t size, int type, void **mhandle);
	ncclResult_t (*regMrDmaBuf)(void *comm, void *data, size_t size, int type,
				    uint64_t offset, int fd, void **mhandle);
	ncclResult_t (*deregMr)(void *comm, void *mhandle);
	ncclResult_t (*isend)(void *sendComm, void *data, size_t size, int tag,
			      void *mhandle, void **request);
	ncclResult_t (*irecv)(void *recvComm, int n, void **data, size_t *sizes, int *tags,
			      void **mhandles, void **request);
	ncclResult_t (*iflush)(void *recvComm, int n, void **data, int *sizes,
			       void **mhandles, void **request);
	ncclResult_t (*test)(void *request, int *done, int *sizes);
	ncclResult_t (*closeSend)(void *sendComm);
	ncclResult_t (*closeRecv)(void *recvComm);
	ncclResult_t (*closeListen)(void *listenComm);
	ncclResult_t (*getDeviceMr)(void *comm, void *mhandle, void **dptr_mhandle);
	ncclResult_t (*irecvConsumed)(void *recvComm, int n, void *request);
	ncclResult_t (*makeVDevice)(int *d, ncclNetVDeviceProps_v9_t *props);
} ncclNet_v9_t;

typedef struct {
	const char *name;
	ncclResult_t (*init)(ncclDebugLogger_t logFunction, ncclProfilerCallback_t profFunction);
	ncclResult_t (*devices)(int *ndev);
	ncclResult_t (*getProperties)(int dev, ncclNetProperties_v10_t *props);
	ncclResult_t (*listen)(int dev, void *handle, void **listenComm);
	ncclResult_t (*connect)(int dev, ncclNetCommConfig_v10_t *config, void *handle,
				void **sendComm, ncclNetDeviceHandle_v10_t **sendDevComm);
	ncclResult_t (*accept)(void *listenComm, void **recvComm,
			       ncclNetDeviceHandle_v10_t **recvDevComm);
	ncclResult_t (*regMr)(void *comm, void *data, size_t size, int type, void **mhandle);
	ncclResult_t (*regMrDmaBuf)(void *comm, void *data, size_t size, int type,
				    uint64_t offset, int fd, void **mhandle);
	ncclResult_t (*deregMr)(void *comm, void *mhandle);
	ncclResult_t (*isend)(void *sendComm, void *data, size_t size, int tag,
			      void *mhandle, void *phandle, void **request);
	ncclResult_t (*irecv)(void *recvComm, int n, void **data, size_t *sizes, int *tags,
			      void **mhandles, void **phandles, void **request);
	ncclResult_t (*iflush)(void *recvComm, int n, void **data, int *sizes,
			       void **mhandles, void **request);
	ncclResult_t (*test)(void *request, int *done, int *sizes);
	ncclResult_t (*closeSend)(void *sendComm);
	ncclResult_t (*closeRecv)(void *recvComm);
	ncclResult_t (*closeListen)(void *listenComm);
	ncclResult_t (*getDeviceMr)(void *comm, void *mhandle, void **dptr_mhandle);
	ncclResult_t (*irecvConsumed)(void *recvComm, int n, void *request);
	ncclResult_t (*makeVDevice)(int *d, ncclNetVDeviceProps_v10_t *props);
} ncclNet_v10_t;

/* v11 and v12 differ only in their property and vdevice structs. */
#define NCCL_NET_TABLE_V11(V)							\
	const char *name;							\
	ncclResult_t (*init)(void **ctx, uint64_t commId,			\
			     ncclNetCommConfig_##V##_t *config,			\
			     ncclDebugLogger_t logFunction,			\
			     ncclProfilerCallback_t profFunction);		\
	ncclResult_t (*devices)(int *ndev);					\
	ncclResult_t (*getProperties)(int dev, ncclNetProperties_##V##_t *props); \
	ncclResult_t (*listen)(void *ctx, int dev, void *handle, void **listenComm); \
	ncclResult_t (*connect)(void *ctx, int dev, void *handle, void **sendComm, \
				ncclNetDeviceHandle_##V##_t **sendDevComm);	\
	ncclResult_t (*accept)(void *listenComm, void **recvComm,		\
			       ncclNetDeviceHandle_##V##_t **recvDevComm);	\
	ncclResult_t (*regMr)(void *comm, void *data, size_t size, int type,	\
			      void **mhandle);					\
	ncclResult_t (*regMrDmaBuf)(void *comm, void *data, size_t size, int type, \
				    uint64_t offset, int fd, void **mhandle);	\
	ncclResult_t (*deregMr)(void *comm, void *mhandle);			\
	ncclResult_t (*isend)(void *sendComm, void *data, size_t size, int tag,	\
			      void *mhandle, void *phandle, void **request);	\
	ncclResult_t (*irecv)(void *recvComm, int n, void **data, size_t *sizes, \
			      int *tags, void **mhandles, void **phandles,	\
			      void **request);					\
	ncclResult_t (*iflush)(void *recvComm, int n, void **data, int *sizes,	\
			       void **mhandles, void **request);		\
	ncclResult_t (*test)(void *request, int *done, int *sizes);		\
	ncclResult_t (*closeSend)(void *sendComm);				\
	ncclResult_t (*closeRecv)(void *recvComm);				\
	ncclResult_t (*closeListen)(void *listenComm);				\
	ncclResult_t (*getDeviceMr)(void *comm, void *mhandle, void **dptr_mhandle); \
	ncclResult_t (*irecvConsumed)(void *recvComm, int n, void *request);	\
	ncclResult_t (*makeVDevice)(int *d, ncclNetVDeviceProps_##V##_t *props); \
	ncclResult_t (*finalize)(void *ctx);					\
	ncclResult_t (*setNetAttr)(void *ctx, ncclNetAttr_##V##_t *netAttr)

typedef struct { NCCL_NET_TABLE_V11(v11); } ncclNet_v11_t;
typedef struct { NCCL_NET_TABLE_V11(v12); } ncclNet_v12_t;

#ifdef __cplusplus
}
#endif

#endif /* MEGALINK_NCCL_NET_ABI_H */
