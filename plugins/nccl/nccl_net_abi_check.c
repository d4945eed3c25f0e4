// SPDX-License-Identifier: MIT
/*
 * Compile-time check of nccl_net_abi.h against the published layouts
 * (LP64 Linux: pointers and size_t 8 bytes, int and float 4, enums 4).
 * The numbers below were worked out by hand from the ABI, field by field;
 * a change to the header that moves anything fails the build here.
 * No code: this file only has to compile.
 */
#include <assert.h>
#include <stddef.h>

#include "nccl_net_abi.h"

#define AT(type, field, off) \
	static_assert(offsetof(type, field) == (off), #type "." #field " at " #off)
#define SIZE(type, sz) static_assert(sizeof(type) == (sz), "sizeof " #type " == " #sz)

static_assert(sizeof(void *) == 8 && sizeof(size_t) == 8, "LP64 only");
static_assert(sizeof(ncclResult_t) == 4 && sizeof(ncclNetDeviceType) == 4, "enums are int");
static_assert(ncclRemoteError == 6 && ncclSystemError == 2 && ncclInvalidArgument == 4 &&
	      ncclInvalidUsage == 5 && ncclInternalError == 3, "ncclResult_t values");

SIZE(ncclNetDeviceHandle_v8_t, 32);
AT(ncclNetDeviceHandle_v8_t, handle, 8);
AT(ncclNetDeviceHandle_v8_t, size, 16);
AT(ncclNetDeviceHandle_v8_t, needsProxyProgress, 24);

/* v8 properties */
AT(ncclNetProperties_v8_t, guid, 16);
AT(ncclNetProperties_v8_t, ptrSupport, 24);
AT(ncclNetProperties_v8_t, speed, 32);
AT(ncclNetProperties_v8_t, latency, 40);
AT(ncclNetProperties_v8_t, maxRecvs, 48);
AT(ncclNetProperties_v8_t, netDeviceVersion, 56);
SIZE(ncclNetProperties_v8_t, 64);

/* v9 = v10 properties: forceFlush shifts speed.. by 4, vProps is 20 bytes */
SIZE(ncclNetVDeviceProps_v9_t, 20);
AT(ncclNetProperties_v9_t, forceFlush, 32);
AT(ncclNetProperties_v9_t, speed, 36);
AT(ncclNetProperties_v9_t, latency, 44);
AT(ncclNetProperties_v9_t, maxRecvs, 52);
AT(ncclNetProperties_v9_t, netDeviceVersion, 60);
AT(ncclNetProperties_v9_t, vProps, 64);
AT(ncclNetProperties_v9_t, maxP2pBytes, 88);
AT(ncclNetProperties_v9_t, maxCollBytes, 96);
SIZE(ncclNetProperties_v9_t, 104);

/* v11 */
AT(ncclNetProperties_v11_t, vProps, 64);
AT(ncclNetProperties_v11_t, maxP2pBytes, 88);
AT(ncclNetProperties_v11_t, maxMultiRequestSize, 104);
SIZE(ncclNetProperties_v11_t, 112);

/* v12: vProps of 8 devices is 36 bytes, pushing the size_t fields to 104 */
SIZE(ncclNetVDeviceProps_v12_t, 36);
AT(ncclNetProperties_v12_t, vProps, 64);
AT(ncclNetProperties_v12_t, maxP2pBytes, 104);
AT(ncclNetProperties_v12_t, maxCollBytes, 112);
AT(ncclNetProperties_v12_t, maxMultiRequestSize, 120);
AT(ncclNetProperties_v12_t, railId, 124);
AT(ncclNetProperties_v12_t, planeId, 126);
SIZE(ncclNetProperties_v12_t, 128);

SIZE(ncclNetCommConfig_v10_t, 4);
SIZE(ncclNetCommAttr_v11_t, 16);
AT(ncclNetAttr_v11_t, op, 32);
SIZE(ncclNetAttr_v11_t, 44);

/* Tables: the name, then one pointer per entry, in ABI order. */
#define SLOT(type, field, n) AT(type, field, 8 * (n))

SLOT(ncclNet_v8_t, init, 1);
SLOT(ncclNet_v8_t, listen, 4);
SLOT(ncclNet_v8_t, regMr, 7);
SLOT(ncclNet_v8_t, isend, 10);
SLOT(ncclNet_v8_t, test, 13);
SLOT(ncclNet_v8_t, closeListen, 16);
SLOT(ncclNet_v8_t, irecvConsumed, 18);
SIZE(ncclNet_v8_t, 8 * 19);

SLOT(ncclNet_v9_t, isend, 10);
SLOT(ncclNet_v9_t, makeVDevice, 19);
SIZE(ncclNet_v9_t, 8 * 20);

SLOT(ncclNet_v10_t, connect, 5);
SLOT(ncclNet_v10_t, irecv, 11);
SLOT(ncclNet_v10_t, makeVDevice, 19);
SIZE(ncclNet_v10_t, 8 * 20);

SLOT(ncclNet_v11_t, listen, 4);
SLOT(ncclNet_v11_t, makeVDevice, 19);
SLOT(ncclNet_v11_t, finalize, 20);
SLOT(ncclNet_v11_t, setNetAttr, 21);
SIZE(ncclNet_v11_t, 8 * 22);

SLOT(ncclNet_v12_t, getProperties, 3);
SLOT(ncclNet_v12_t, setNetAttr, 21);
SIZE(ncclNet_v12_t, 8 * 22);
