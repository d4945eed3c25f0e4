/* SPDX-License-Identifier: MIT */
/*
 * Internal interface of libnccl-net-megalink.so.  One implementation
 * (net.c, oob.c) serves every ABI version; tables.c adapts the versioned
 * signatures to it.
 */
#ifndef MEGALINK_NCCL_PLUGIN_H
#define MEGALINK_NCCL_PLUGIN_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "nccl_net_abi.h"

#define MN_MAX_RECVS	8	/* upper bound of NCCL_MEGALINK_MAX_RECVS */
#define MN_VISIBLE	__attribute__((visibility("default")))

/* Logging through NCCL's logger (stderr before init or without one). */
void mn_log(ncclDebugLogLevel level, unsigned long flags, const char *file, int line,
	    const char *fmt, ...) __attribute__((format(printf, 5, 6)));
#define MN_WARN(...) mn_log(NCCL_LOG_WARN, NCCL_ALL_SUBSYS, __FILE__, __LINE__, __VA_ARGS__)
#define MN_INFO(fl, ...) mn_log(NCCL_LOG_INFO, (fl), __FILE__, __LINE__, __VA_ARGS__)
#define NCCL_ALL_SUBSYS (~0UL)

/* The generic entry points (size_t sizes; ctx may be NULL before v11). */
ncclResult_t mn_init(ncclDebugLogger_t logger);
ncclResult_t mn_init_ctx(void **ctx, uint64_t comm_id, const ncclNetCommConfig_v11_t *cfg,
			 ncclDebugLogger_t logger);
ncclResult_t mn_finalize(void *ctx);
ncclResult_t mn_devices(int *ndev);

/* Properties in the newest layout; tables.c copies into older ones. */
ncclResult_t mn_get_properties(int dev, ncclNetProperties_v12_t *props);
ncclResult_t mn_listen(void *ctx, int dev, void *handle, void **listen_comm);
ncclResult_t mn_connect(void *ctx, int dev, const ncclNetCommConfig_v10_t *cfg,
			void *handle, void **send_comm, ncclNetDeviceHandle_v8_t **dev_comm);
ncclResult_t mn_accept(void *listen_comm, void **recv_comm, ncclNetDeviceHandle_v8_t **dev_comm);
ncclResult_t mn_reg_mr(void *comm, void *data, size_t size, int type, void **mhandle);
ncclResult_t mn_reg_mr_dmabuf(void *comm, void *data, size_t size, int type,
			      uint64_t offset, int fd, void **mhandle);
ncclResult_t mn_dereg_mr(void *comm, void *mhandle);
ncclResult_t mn_isend(void *send_comm, void *data, size_t size, int tag, void *mhandle,
		      void **request);
ncclResult_t mn_irecv(void *recv_comm, int n, void **data, const size_t *sizes,
		      const int *tags, void **mhandles, void **request);
ncclResult_t mn_iflush(void *recv_comm, int n, void **data, int *sizes, void **mhandles,
		       void **request);
ncclResult_t mn_test(void *request, int *done, int *sizes);
ncclResult_t mn_close_send(void *send_comm);
ncclResult_t mn_close_recv(void *recv_comm);
ncclResult_t mn_close_listen(void *listen_comm);
ncclResult_t mn_get_device_mr(void *comm, void *mhandle, void **dptr);
ncclResult_t mn_irecv_consumed(void *recv_comm, int n, void *request);
ncclResult_t mn_make_vdevice(int *d, int ndevs, const int *devs);
ncclResult_t mn_set_net_attr(void *ctx, const ncclNetAttr_v11_t *attr);

/* ---- out-of-band connection setup (oob.c): TCP, as NCCL's own IB
 * transport does, because megalink has no connection manager ---- */

struct mn_oob_addr {
	uint16_t family;		/* AF_INET, AF_INET6 */
	uint16_t port;			/* network order */
	uint8_t addr[16];
};

/* Chooses the address to listen on (NCCL_SOCKET_IFNAME rules). */
int mn_oob_init(char *ifname_out, size_t len);
/* Listening socket on the chosen address; fills *where. */
int mn_oob_listen(struct mn_oob_addr *where);
/* Non-blocking connect; returns the fd or -errno. */
int mn_oob_connect(const struct mn_oob_addr *to);
/* 1 once the non-blocking connect finished, 0 still pending, -errno. */
int mn_oob_connected(int fd);
/* Move bytes without blocking: 1 all done, 0 not yet, -errno on error/EOF. */
int mn_oob_io(int fd, void *buf, size_t len, size_t *off, int out);
/* 1 if the peer closed the socket (or it broke), 0 otherwise. */
int mn_oob_peer_gone(int fd);
const char *mn_oob_name(const struct mn_oob_addr *a, char *buf, size_t len);

/* ---- diagnostics for the harness (not part of NCCL's ABI) ---- */

struct mn_counts {
	int listen, send, recv;		/* live comms */
	int reg, req, ctx;		/* mhandles, requests, v11 contexts */
	int cache;			/* MR cache entries (pinned regions) */
};
MN_VISIBLE int megalink_nccl_counts(struct mn_counts *out);

#endif
