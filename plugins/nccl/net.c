// SPDX-License-Identifier: MIT
/*
 * net.c: libnccl-net-megalink.so, NCCL's external network plugin over
 * libmegalink (its public API only).
 *
 * Objects and the handles NCCL holds
 *   Every object NCCL gets back (listen/send/recv comm, memory handle,
 *   request, v11 context) is an entry of one handle table; the pointer
 *   NCCL holds encodes (generation, index) and is never dereferenced, so a
 *   stale, double-closed or made-up handle is answered with
 *   ncclInvalidArgument and a log line, never a crash.
 *
 * Devices
 *   One NCCL device per megalink device of this network namespace with a
 *   live port.  All comms of a device share one open file and PD (so a
 *   registration serves every comm: regIsGlobal); each comm has its own
 *   RC QP and CQ.
 *
 * Data path (receiver-driven, as NCCL's IB transport)
 *   irecv SENDs a clear-to-send message (CTS: address, size, rkey, tag
 *   of each of its n buffers) to the sender.  isend takes the oldest CTS,
 *   picks the buffer whose tag matches, RDMA-WRITEs the data into it and
 *   SENDs an 8-byte FIN with an immediate (CTS slot, buffer) that tells
 *   the receiver the size.  Until the CTS is there isend returns a NULL
 *   request, as the ABI allows, so a sender never overruns a receiver.
 *   Requests complete on the sender when the FIN is acknowledged (every
 *   write before it was too), on the receiver when every FIN arrived.
 *
 * Errors
 *   An error completion puts the comm in error: every pending and later
 *   test() returns ncclRemoteError (peer silent, peer refused) or
 *   ncclSystemError (a local fault), with the reason logged once.  The
 *   TCP socket of connection setup stays open; a pending request whose
 *   peer closed it fails with ncclRemoteError instead of waiting forever.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include <megalink/megalink.h>

#include "plugin.h"

#define MN_MAX_DEVS	16
#define MN_SLOTS	NCCL_NET_MAX_REQUESTS	/* CTS slots = irecvs in flight */
#define MN_MAGIC	0x4b4e4c4du		/* "MLNK" */
#define MN_VERSION	1
#define MN_PAGE		4096UL

/* ------------------------------------------------------------------ */
/* Logging and knobs                                                   */
/* ------------------------------------------------------------------ */

static ncclDebugLogger_t g_logger;

void mn_log(ncclDebugLogLevel level, unsigned long flags, const char *file, int line,
	    const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (g_logger)
		g_logger(level, flags, file, line, "NET/Megalink: %s", msg);
	else if (level == NCCL_LOG_WARN || getenv("NCCL_MEGALINK_DEBUG"))
		fprintf(stderr, "NET/Megalink: %s\n", msg);
}

static long env_long(const char *name, long def, long lo, long hi)
{
	const char *s = getenv(name);
	char *end;
	long v;

	if (!s || !*s)
		return def;
	errno = 0;
	v = strtol(s, &end, 0);
	if (errno || *end || v < lo || v > hi) {
		MN_WARN("%s=%s is not a number in %ld..%ld; using %ld", name, s, lo, hi, def);
		return def;
	}
	MN_INFO(NCCL_INIT | NCCL_ENV, "%s set to %ld", name, v);
	return v;
}

static struct {
	int max_recvs;		/* NCCL_MEGALINK_MAX_RECVS */
	int timeout_ms;		/* NCCL_MEGALINK_TIMEOUT_MS */
	int retry_cnt;		/* NCCL_MEGALINK_RETRY_CNT */
	int rnr_retry;		/* NCCL_MEGALINK_RNR_RETRY */
	int speed;		/* NCCL_MEGALINK_SPEED (Mb/s, 0: from the port) */
	int check_ms;		/* NCCL_MEGALINK_PEER_CHECK_MS */
	int mr_cache;		/* NCCL_MEGALINK_MR_CACHE */
	char devices[256];	/* NCCL_MEGALINK_DEVICES */
	char oob_if[64];		/* interface of the TCP side channel */
} knob;

static void read_knobs(void)
{
	const char *s = getenv("NCCL_MEGALINK_DEVICES");

	knob.max_recvs = (int)env_long("NCCL_MEGALINK_MAX_RECVS", MN_MAX_RECVS, 1, MN_MAX_RECVS);
	knob.timeout_ms = (int)env_long("NCCL_MEGALINK_TIMEOUT_MS", 0, 0, 60000);
	knob.retry_cnt = (int)env_long("NCCL_MEGALINK_RETRY_CNT", 0, 0, 15);
	knob.rnr_retry = (int)env_long("NCCL_MEGALINK_RNR_RETRY", 0, 0, 15);
	knob.speed = (int)env_long("NCCL_MEGALINK_SPEED", 0, 0, INT_MAX);
	knob.check_ms = (int)env_long("NCCL_MEGALINK_PEER_CHECK_MS", 100, 1, 60000);
	knob.mr_cache = (int)env_long("NCCL_MEGALINK_MR_CACHE", 1, 0, 1);
	snprintf(knob.devices, sizeof(knob.devices), "%s", s ? s : "");
}

/* ------------------------------------------------------------------ */
/* The handle table                                                    */
/* ------------------------------------------------------------------ */

enum { T_FREE, T_LISTEN, T_SEND, T_RECV, T_REG, T_REQ, T_CTX, T_N };
static const char *const t_name[T_N] = {
	"free", "listen comm", "send comm", "recv comm", "memory handle", "request", "context"
};

struct slot {
	uint32_t gen;
	uint8_t type;
	void *obj;
};

static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static struct slot *g_tab;
static uint32_t g_tab_len, g_tab_cap;
static uint32_t *g_free;
static uint32_t g_nfree;
static int g_count[T_N];

#define H_IDX_BITS	24

static void *h_new(int type, void *obj)
{
	uint32_t idx;
	void *h = NULL;

	pthread_mutex_lock(&g_lock);
	if (g_nfree) {
		idx = g_free[--g_nfree];
	} else {
		if (g_tab_len == g_tab_cap) {
			uint32_t cap = g_tab_cap ? 2 * g_tab_cap : 256;
			struct slot *t;
			uint32_t *f;

			if (cap >= (1U << H_IDX_BITS) - 1)
				goto out;
			t = realloc(g_tab, cap * sizeof(*t));
			if (!t)
				goto out;
			g_tab = t;
			f = realloc(g_free, cap * sizeof(*f));
			if (!f)
				goto out;
			g_free = f;
			memset(g_tab + g_tab_cap, 0, (cap - g_tab_cap) * sizeof(*t));
			g_tab_cap = cap;
		}
		idx = g_tab_len++;
	}
	if (++g_tab[idx].gen == 0)
		g_tab[idx].gen = 1;
	g_tab[idx].type = (uint8_t)type;
	g_tab[idx].obj = obj;
	g_count[type]++;
	h = (void *)(((uintptr_t)g_tab[idx].gen << H_IDX_BITS) | (idx + 1));
out:
	pthread_mutex_unlock(&g_lock);
	return h;
}

static struct slot *h_slot(const void *h)
{
	uintptr_t v = (uintptr_t)h;
	uint32_t idx = (uint32_t)(v & ((1U << H_IDX_BITS) - 1));
	uint64_t gen = v >> H_IDX_BITS;

	if (!idx || idx > g_tab_len || gen > UINT32_MAX)
		return NULL;
	if (g_tab[idx - 1].gen != gen || g_tab[idx - 1].type == T_FREE)
		return NULL;
	return &g_tab[idx - 1];
}

/* The object behind handle h if it is a live object of @type, else NULL
 * (with a log line naming the call and what was wrong). */
static void *h_get_(const void *h, int type, const char *call)
{
	struct slot *s;
	void *obj = NULL;
	int got = -1;

	pthread_mutex_lock(&g_lock);
	s = h_slot(h);
	if (s) {
		got = s->type;
		if (s->type == type)
			obj = s->obj;
	}
	pthread_mutex_unlock(&g_lock);
	if (!obj) {
		if (!h)
			MN_WARN("%s: NULL %s", call, t_name[type]);
		else if (got >= 0)
			MN_WARN("%s: handle %p is a %s, not a %s", call, h, t_name[got], t_name[type]);
		else
			MN_WARN("%s: %p is not a live %s (closed, completed or never returned "
				"by this plugin)", call, h, t_name[type]);
	}
	return obj;
}
#define h_get(h, type) h_get_((h), (type), __func__ + 3)

static void h_del(void *h)
{
	struct slot *s;

	pthread_mutex_lock(&g_lock);
	s = h_slot(h);
	if (s) {
		g_count[s->type]--;
		s->type = T_FREE;
		s->obj = NULL;
		g_free[g_nfree++] = (uint32_t)(s - g_tab);
	}
	pthread_mutex_unlock(&g_lock);
}

/* ------------------------------------------------------------------ */
/* Devices and the registration cache                                  */
/* ------------------------------------------------------------------ */

struct cache_ent {
	uintptr_t start, end;		/* page-aligned */
	struct ml_mr *mr;
	int refs;
	struct cache_ent *next;
};

struct mn_dev {
	char name[ML_DEV_NAME_LEN];
	struct ml_device *dev;
	struct ml_pd *pd;
	struct ml_device_info info;
	struct ml_limits lim;
	uint32_t port_index;		/* first live port */
	char ifname[ML_LIB_IFNAMSIZ];
	char *pci_path;			/* realpath of the port's PCI device, or NULL */
	int speed;			/* Mb/s */
	pthread_mutex_t mr_lock;
	struct cache_ent *cache;
	int cache_n;
};

static struct mn_dev g_devs[MN_MAX_DEVS];
static int g_ndev;
static int g_inited;			/* 1: init succeeded */

static bool dev_selected(const char *name)
{
	char buf[256], *save = NULL, *tok;

	if (!knob.devices[0])
		return true;
	snprintf(buf, sizeof(buf), "%s", knob.devices);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
		if (!strcmp(tok, name))
			return true;
	return false;
}

static int port_speed(const char *ifname)
{
	char path[128];
	FILE *f;
	int v = -1;

	snprintf(path, sizeof(path), "/sys/class/net/%s/speed", ifname);
	f = fopen(path, "r");
	if (f) {
		if (fscanf(f, "%d", &v) != 1)
			v = -1;
		fclose(f);
	}
	return v;
}

static char *port_pci_path(const char *ifname)
{
	char path[128], *real;

	snprintf(path, sizeof(path), "/sys/class/net/%s/device", ifname);
	real = realpath(path, NULL);
	if (real && !strstr(real, "/pci")) {	/* virtual: no PCI path to give */
		free(real);
		real = NULL;
	}
	return real;
}

static void devs_close(void)
{
	for (int i = 0; i < g_ndev; i++) {
		struct mn_dev *d = &g_devs[i];

		while (d->cache) {	/* registrations NCCL never released */
			struct cache_ent *e = d->cache;

			d->cache = e->next;
			ml_mr_dereg(e->mr);
			free(e);
		}
		if (d->pd)
			ml_pd_free(d->pd);
		if (d->dev)
			ml_device_close(d->dev);
		free(d->pci_path);
		pthread_mutex_destroy(&d->mr_lock);
		memset(d, 0, sizeof(*d));
	}
	g_ndev = 0;
}

/*
 * Find the devices.  Fails, with one line that says which case it is and
 * what to do, when the plugin cannot serve: no silent fallback.
 */
static ncclResult_t devs_open(void)
{
	char (*names)[ML_DEV_NAME_LEN] = NULL;
	struct ml_dev_attr *attrs = NULL;
	char why[768] = "";
	size_t n = 0, nall = 0, wl = 0;
	struct ml_ctl *ctl;
	int ret, denied = 0;

	ret = ml_ctl_open(&ctl);
	if (ret == -ENOENT) {
		MN_WARN("init: the megalink kernel module is not loaded (%s): load it with "
			"`modprobe megalink` (installed by DKMS: make dkms-install)", ml_last_error());
		return ncclSystemError;
	}
	if (ret < 0) {
		MN_WARN("init: cannot reach the megalink control plane: %s", ml_last_error());
		return ncclSystemError;
	}
	/* the devices of this network namespace (the control plane filters) */
	ret = ml_ctl_devices(ctl, &attrs, &n);
	ml_ctl_close(ctl);
	if (ret < 0) {
		MN_WARN("init: listing megalink devices failed: %s", ml_last_error());
		return ncclSystemError;
	}
	names = calloc(n ? n : 1, sizeof(*names));
	if (!names) {
		ml_free(attrs);
		return ncclSystemError;
	}
	for (size_t i = 0; i < n; i++)
		memcpy(names[i], attrs[i].name, ML_DEV_NAME_LEN);
	ml_free(attrs);
	if (n == 0) {	/* none here: is there any at all (another netns)? */
		char (*all)[ML_DEV_NAME_LEN] = NULL;

		if (ml_list_devices(&all, &nall) < 0)
			nall = 0;
		ml_free(all);
	}
	for (size_t i = 0; i < n && g_ndev < MN_MAX_DEVS; i++) {
		struct mn_dev *d = &g_devs[g_ndev];
		int live = -1;

		if (!dev_selected(names[i]))
			continue;
		ret = ml_device_open(names[i], &d->dev);
		if (ret == -EACCES || ret == -EPERM) {
			denied++;
			wl += (size_t)snprintf(why + wl, wl < sizeof(why) ? sizeof(why) - wl : 0,
					       " %s: permission denied (%s);", names[i], ml_last_error());
			continue;
		}
		if (ret < 0) {
			wl += (size_t)snprintf(why + wl, wl < sizeof(why) ? sizeof(why) - wl : 0,
					       " %s: %s;", names[i], ml_last_error());
			continue;
		}
		if (ml_device_query(d->dev, &d->info) < 0 || ml_query_limits(d->dev, &d->lim) < 0 ||
		    !(d->info.caps & ML_DEV_CAP_DATA_PLANE)) {
			wl += (size_t)snprintf(why + wl, wl < sizeof(why) ? sizeof(why) - wl : 0,
					       " %s: no data plane;", names[i]);
			ml_device_close(d->dev);
			d->dev = NULL;
			continue;
		}
		/* A port of ours: its netdev is in this netns and the link is up. */
		for (uint32_t p = 0; p < d->info.ports_filled && p < ML_LIB_INFO_PORTS; p++) {
			if (!d->info.port_ifname[p][0])
				continue;
			if (d->info.ports[p].link_state == ML_LINK_UP) {
				live = (int)p;
				break;
			}
		}
		if (live < 0) {
			/* another netns's device is not worth a word; ours with no link is */
			bool ours = false;

			for (uint32_t p = 0; p < d->info.ports_filled && p < ML_LIB_INFO_PORTS; p++)
				ours |= d->info.port_ifname[p][0] != 0;
			if (ours)
				wl += (size_t)snprintf(why + wl, wl < sizeof(why) ? sizeof(why) - wl : 0,
						       " %s: no port with a live link (carrier and a "
						       "neighbour);", names[i]);
			ml_device_close(d->dev);
			d->dev = NULL;
			continue;
		}
		ret = ml_pd_alloc(d->dev, &d->pd);
		if (ret < 0) {
			wl += (size_t)snprintf(why + wl, wl < sizeof(why) ? sizeof(why) - wl : 0,
					       " %s: %s;", names[i], ml_last_error());
			ml_device_close(d->dev);
			d->dev = NULL;
			continue;
		}
		snprintf(d->name, sizeof(d->name), "%s", names[i]);
		d->port_index = d->info.ports[live].port_index;
		memcpy(d->ifname, d->info.port_ifname[live], sizeof(d->ifname));
		d->ifname[sizeof(d->ifname) - 1] = 0;
		d->pci_path = port_pci_path(d->ifname);
		d->speed = knob.speed ? knob.speed : port_speed(d->ifname);
		if (d->speed <= 0)
			d->speed = 10000;	/* veth/virtio report none: say 10 Gb/s */
		pthread_mutex_init(&d->mr_lock, NULL);
		MN_INFO(NCCL_INIT | NCCL_NET, "NET/Megalink: device %d: %s node 0x%x port %u (%s), "
			"%d Mb/s", g_ndev, d->name, d->info.node_id, d->port_index, d->ifname, d->speed);
		g_ndev++;
	}
	ml_free(names);
	if (g_ndev)
		return ncclSuccess;
	if (n == 0 && nall)
		MN_WARN("init: no megalink device in this network namespace (%zu in others): bind "
			"a port of this namespace with `megalink port bind IFNAME node-id N`", nall);
	else if (n == 0)
		MN_WARN("init: the megalink module is loaded but has no device: bind a port with "
			"`megalink port bind IFNAME node-id N`");
	else if (denied)
		MN_WARN("init: no usable megalink device:%s grant access to /dev/megalink/* "
			"(udev rule or group) or run as a user that may open them", why);
	else
		MN_WARN("init: no megalink device with a live port in this network namespace%s%s%s",
			why[0] ? ":" : "", why, knob.devices[0] ? " (NCCL_MEGALINK_DEVICES limits the "
			"search)" : "");
	return ncclSystemError;
}

ncclResult_t mn_init(ncclDebugLogger_t logger)
{
	ncclResult_t r = ncclSuccess;
	static pthread_mutex_t init_lock = PTHREAD_MUTEX_INITIALIZER;

	pthread_mutex_lock(&init_lock);
	if (logger)
		g_logger = logger;
	if (!g_inited) {
		read_knobs();
		r = devs_open();
		if (r == ncclSuccess && mn_oob_init(knob.oob_if, sizeof(knob.oob_if)) < 0) {
			MN_WARN("init: no interface for connection setup over TCP%s%s",
				getenv("NCCL_SOCKET_IFNAME") ? ": nothing matches NCCL_SOCKET_IFNAME=" : "",
				getenv("NCCL_SOCKET_IFNAME") ? getenv("NCCL_SOCKET_IFNAME") : "");
			devs_close();
			r = ncclSystemError;
		}
		if (r == ncclSuccess) {
			g_inited = 1;
			MN_INFO(NCCL_INIT | NCCL_NET, "NET/Megalink: libmegalink %s, %d device(s), "
				"connection setup over %s", ml_version(), g_ndev, knob.oob_if);
		}
	}
	pthread_mutex_unlock(&init_lock);
	return r;
}

struct mn_ctx {
	uint64_t comm_id;
	int traffic_class;
};

ncclResult_t mn_init_ctx(void **ctx, uint64_t comm_id, const ncclNetCommConfig_v11_t *cfg,
			 ncclDebugLogger_t logger)
{
	struct mn_ctx *c;
	ncclResult_t r;

	if (!ctx) {
		mn_log(NCCL_LOG_WARN, NCCL_INIT, __FILE__, __LINE__, "init: NULL ctx pointer");
		return ncclInvalidArgument;
	}
	*ctx = NULL;
	r = mn_init(logger);
	if (r != ncclSuccess)
		return r;
	c = calloc(1, sizeof(*c));
	if (!c)
		return ncclSystemError;
	c->comm_id = comm_id;
	c->traffic_class = cfg ? cfg->trafficClass : NCCL_NET_TRAFFIC_CLASS_UNDEF;
	*ctx = h_new(T_CTX, c);
	if (!*ctx) {
		free(c);
		return ncclSystemError;
	}
	return ncclSuccess;
}

ncclResult_t mn_finalize(void *ctx)
{
	struct mn_ctx *c = h_get(ctx, T_CTX);

	if (!c)
		return ncclInvalidArgument;
	h_del(ctx);
	free(c);
	return ncclSuccess;
}

static bool inited(const char *call)
{
	if (!g_inited)
		MN_WARN("%s: called before a successful init", call);
	return g_inited;
}

static struct mn_dev *dev_get(int dev, const char *call)
{
	if (!inited(call))
		return NULL;
	if (dev < 0 || dev >= g_ndev) {
		MN_WARN("%s: device %d does not exist (%d device(s))", call, dev, g_ndev);
		return NULL;
	}
	return &g_devs[dev];
}

ncclResult_t mn_devices(int *ndev)
{
	if (!ndev) {
		MN_WARN("devices: NULL ndev");
		return ncclInvalidArgument;
	}
	if (!inited("devices"))
		return ncclInvalidUsage;
	*ndev = g_ndev;
	return ncclSuccess;
}

ncclResult_t mn_get_properties(int dev, ncclNetProperties_v12_t *p)
{
	struct mn_dev *d = dev_get(dev, "getProperties");
	uint64_t max_bytes;

	if (!d)
		return g_inited ? ncclInvalidArgument : ncclInvalidUsage;
	if (!p) {
		MN_WARN("getProperties: NULL props");
		return ncclInvalidArgument;
	}
	memset(p, 0, sizeof(*p));
	p->name = d->name;
	p->pciPath = d->pci_path;
	/* unique per adapter in the pod: node id and device index */
	p->guid = ((uint64_t)d->info.node_id << 32) | d->info.dev_index;
	p->ptrSupport = NCCL_PTR_HOST;
	p->regIsGlobal = 1;
	p->forceFlush = 0;
	p->speed = d->speed;
	p->port = (int)d->port_index;
	p->latency = 0;
	p->maxComms = (int)d->lim.max_qp;
	p->maxRecvs = knob.max_recvs;
	p->netDeviceType = NCCL_NET_DEVICE_HOST;
	p->netDeviceVersion = NCCL_NET_DEVICE_INVALID_VERSION;
	p->vProps.ndevs = 1;
	p->vProps.devs[0] = dev;
	max_bytes = d->lim.max_mr_size ? d->lim.max_mr_size : NCCL_MAX_NET_SIZE_BYTES;
	if (max_bytes > NCCL_MAX_NET_SIZE_BYTES)
		max_bytes = NCCL_MAX_NET_SIZE_BYTES;
	p->maxP2pBytes = max_bytes;
	p->maxCollBytes = max_bytes;
	p->maxMultiRequestSize = 1;
	p->railId = NCCL_NET_ID_UNDEF;
	p->planeId = NCCL_NET_ID_UNDEF;
	return ncclSuccess;
}

ncclResult_t mn_make_vdevice(int *d, int ndevs, const int *devs)
{
	if (!d || !devs) {
		MN_WARN("makeVDevice: NULL %s", d ? "props" : "d");
		return ncclInvalidArgument;
	}
	if (ndevs != 1 || devs[0] < 0 || devs[0] >= g_ndev) {
		MN_WARN("makeVDevice: merging %d devices into one virtual NIC is not supported "
			"(set NCCL_NET_MERGE_LEVEL=LOC)", ndevs);
		return ncclInvalidUsage;
	}
	*d = devs[0];
	return ncclSuccess;
}

ncclResult_t mn_set_net_attr(void *ctx, const ncclNetAttr_v11_t *attr)
{
	if (!h_get(ctx, T_CTX))
		return ncclInvalidArgument;
	if (!attr) {
		MN_WARN("setNetAttr: NULL netAttr");
		return ncclInvalidArgument;
	}
	return ncclSuccess;	/* hints only: one QP per comm serves them all */
}

/* ---- memory registration ---- */

struct mn_reg {
	struct mn_dev *d;
	struct cache_ent *ent;		/* NULL for size 0 */
	uintptr_t addr;
	size_t size;
};

static ncclResult_t reg_new(struct mn_dev *d, void *data, size_t size, void **mhandle)
{
	uintptr_t start = (uintptr_t)data & ~(MN_PAGE - 1);
	uintptr_t end = ((uintptr_t)data + size + MN_PAGE - 1) & ~(MN_PAGE - 1);
	struct cache_ent *e = NULL;
	struct mn_reg *r;
	int ret;

	r = calloc(1, sizeof(*r));
	if (!r)
		return ncclSystemError;
	r->d = d;
	r->addr = (uintptr_t)data;
	r->size = size;
	if (size) {
		pthread_mutex_lock(&d->mr_lock);
		if (knob.mr_cache)
			for (e = d->cache; e; e = e->next)
				if (e->start <= start && end <= e->end)
					break;
		if (e) {
			e->refs++;
		} else {
			e = calloc(1, sizeof(*e));
			ret = e ? ml_mr_reg(d->pd, (void *)start, end - start, ML_ACCESS_ALL, &e->mr)
				: -ENOMEM;
			if (ret < 0) {
				pthread_mutex_unlock(&d->mr_lock);
				MN_WARN("regMr: registering %zu bytes at %p on %s failed: %s%s", size,
					data, d->name, e ? ml_last_error() : "out of memory",
					ret == -ENOMEM ? " (RLIMIT_MEMLOCK: raise `ulimit -l`)" : "");
				free(e);
				free(r);
				return ncclSystemError;
			}
			e->start = start;
			e->end = end;
			e->refs = 1;
			e->next = d->cache;
			d->cache = e;
			d->cache_n++;
		}
		pthread_mutex_unlock(&d->mr_lock);
	}
	r->ent = e;
	*mhandle = h_new(T_REG, r);
	if (!*mhandle) {
		free(r);
		return ncclSystemError;
	}
	return ncclSuccess;
}

static void reg_put(struct mn_reg *r)
{
	struct mn_dev *d = r->d;
	struct cache_ent **pp;

	if (r->ent) {
		pthread_mutex_lock(&d->mr_lock);
		if (--r->ent->refs == 0) {
			for (pp = &d->cache; *pp; pp = &(*pp)->next)
				if (*pp == r->ent) {
					*pp = r->ent->next;
					break;
				}
			d->cache_n--;
			ml_mr_dereg(r->ent->mr);
			free(r->ent);
		}
		pthread_mutex_unlock(&d->mr_lock);
	}
	free(r);
}

/* ------------------------------------------------------------------ */
/* Comms                                                               */
/* ------------------------------------------------------------------ */

/* Wire formats (both ends of a pod are little-endian x86-64/arm64 hosts). */
struct mn_handle {			/* the listen handle, <= 128 bytes */
	uint32_t magic;
	uint16_t version;
	uint16_t max_recvs;
	uint32_t node_id;		/* listener's megalink node */
	uint32_t qpn;			/* listener's QP */
	uint64_t nonce;
	struct mn_oob_addr oob;		/* listener's TCP address */
	uint32_t reserved[3];
	uint64_t stage;			/* connector's own progress (not sent) */
};
_Static_assert(sizeof(struct mn_handle) <= NCCL_NET_HANDLE_MAXSIZE, "handle too big");

struct mn_hello {			/* connector -> listener; the reply is the same */
	uint32_t magic;
	uint16_t version;
	uint16_t reserved0;
	uint32_t node_id;
	uint32_t qpn;
	uint64_t nonce;
};

struct mn_cts_elem {
	uint64_t addr;
	uint64_t size;
	uint32_t rkey;
	int32_t tag;
};

struct mn_cts {
	uint32_t seq;
	uint32_t n;
	struct mn_cts_elem e[MN_MAX_RECVS];
};

#define CTS_RECV_WQES	64		/* sender: landing slots for CTS */
#define FIN_RECV_WQES	512		/* receiver: one per buffer in flight, and spare */
#define FIN_IMM(slot, elem)	(((uint32_t)(slot) << 8) | (uint32_t)(elem))

/* wr_id of our work requests */
#define WR_KIND_SHIFT	56
enum { WR_CTS = 1, WR_FIN = 2, WR_DATA = 3, WR_RX = 4 };
#define WR(kind, v)	(((uint64_t)(kind) << WR_KIND_SHIFT) | (uint64_t)(v))

struct mn_req {
	struct mn_comm *c;
	void *handle;
	int in_use;
	int slot;			/* recv: CTS slot */
	int n;
	int pending;			/* completions still to come */
	size_t size[MN_MAX_RECVS];	/* recv: sizes received; send: size sent */
};

struct cts_state {
	int valid;
	struct mn_cts cts;
	uint8_t used[MN_MAX_RECVS];
	int nused;
};

struct mn_comm {
	int type;			/* T_SEND or T_RECV */
	void *handle;
	struct mn_dev *d;
	struct ml_cq *cq;
	struct ml_qp *qp;
	int fd;				/* TCP: setup, then liveness */
	uint32_t peer_node, peer_qpn;
	ncclResult_t error;		/* sticky */
	uint64_t next_check_ns;

	/* control buffers: CTS slots (send: landing; recv: outgoing) + FINs */
	void *ctl;
	size_t ctl_len;
	struct ml_mr *ctl_mr;

	struct mn_req *reqs;
	int nreqs;
	int *freeq;
	int nfree;

	/* send side */
	struct cts_state cts[MN_SLOTS];
	uint32_t cts_rx;		/* CTS messages received */
	uint32_t cts_cur;		/* the CTS being consumed */

	/* recv side */
	struct mn_req *slot_req[MN_SLOTS];
	uint8_t cts_busy[MN_SLOTS];	/* its CTS SEND not completed yet */
	uint32_t recv_seq;

	/* connection setup */
	int stage;
	size_t off;
	struct mn_hello hello, reply;
};

struct mn_listen {
	struct mn_dev *d;
	void *handle;
	int lfd;
	uint64_t nonce;
	struct mn_comm *rc;		/* the recv comm being set up */
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static struct mn_cts *cts_slot(struct mn_comm *c, uint32_t i)
{
	return (struct mn_cts *)c->ctl + i;
}

static uint64_t *fin_slot(struct mn_comm *c, uint32_t i)
{
	return (uint64_t *)((struct mn_cts *)c->ctl + MN_SLOTS) + i;
}

static int post_rx(struct mn_comm *c, uint32_t i)
{
	struct ml_sge sge;
	struct ml_recv_wr wr = { .wr_id = WR(WR_RX, i), .sg_list = &sge, .num_sge = 1 };

	if (c->type == T_SEND)
		sge = (struct ml_sge){ (uintptr_t)((struct mn_cts *)c->ctl + MN_SLOTS + i),
				       sizeof(struct mn_cts), c->ctl_mr->lkey };
	else
		sge = (struct ml_sge){ (uintptr_t)fin_slot(c, i), sizeof(uint64_t),
				       c->ctl_mr->lkey };
	return ml_post_recv(c->qp, &wr);
}

static void comm_free(struct mn_comm *c)
{
	if (!c)
		return;
	for (int i = 0; i < c->nreqs; i++)
		if (c->reqs[i].in_use)
			h_del(c->reqs[i].handle);
	if (c->qp)
		ml_qp_destroy(c->qp);
	if (c->ctl_mr)
		ml_mr_dereg(c->ctl_mr);
	if (c->cq)
		ml_cq_destroy(c->cq);
	if (c->fd >= 0)
		close(c->fd);
	free(c->ctl);
	free(c->reqs);
	free(c->freeq);
	free(c);
}

/* QP, CQ, control buffers and request pool of a new comm. */
static struct mn_comm *comm_new(struct mn_dev *d, int type, const char *call)
{
	struct mn_comm *c = calloc(1, sizeof(*c));
	uint32_t rx = type == T_SEND ? CTS_RECV_WQES : FIN_RECV_WQES;
	uint32_t sq = type == T_SEND ? 1024 : 2 * MN_SLOTS;
	int ret;

	if (!c)
		goto oom;
	c->type = type;
	c->d = d;
	c->fd = -1;
	c->nreqs = type == T_SEND ? MN_SLOTS * knob.max_recvs : MN_SLOTS;
	c->reqs = calloc((size_t)c->nreqs, sizeof(*c->reqs));
	c->freeq = calloc((size_t)c->nreqs, sizeof(int));
	/* recv: MN_SLOTS outgoing CTS + FIN slots; send: MN_SLOTS unused + landing */
	c->ctl_len = sizeof(struct mn_cts) * (MN_SLOTS + (type == T_SEND ? rx : 0)) +
		     (type == T_RECV ? rx * sizeof(uint64_t) : 0);
	c->ctl = aligned_alloc(MN_PAGE, (c->ctl_len + MN_PAGE - 1) & ~(MN_PAGE - 1));
	if (!c->reqs || !c->freeq || !c->ctl)
		goto oom;
	memset(c->ctl, 0, c->ctl_len);
	for (int i = 0; i < c->nreqs; i++)
		c->freeq[c->nfree++] = c->nreqs - 1 - i;
	ret = ml_cq_create(d->dev, sq + rx, &c->cq);
	if (ret == 0)
		ret = ml_mr_reg(d->pd, c->ctl, c->ctl_len, ML_ACCESS_LOCAL_WRITE, &c->ctl_mr);
	if (ret == 0) {
		struct ml_qp_init qi = {
			.send_cq = c->cq, .sq_entries = sq, .rq_entries = rx,
			.max_inline = ML_MAX_INLINE,
		};

		ret = ml_qp_create(d->pd, &qi, &c->qp);
	}
	for (uint32_t i = 0; ret == 0 && i < rx; i++)
		ret = post_rx(c, i);
	if (ret < 0) {
		MN_WARN("%s: setting up a %s on %s failed: %s", call, t_name[type], d->name,
			ml_last_error());
		comm_free(c);
		return NULL;
	}
	return c;
oom:
	MN_WARN("%s: out of memory", call);
	comm_free(c);
	return NULL;
}

static ncclResult_t qp_connect(struct mn_comm *c, uint32_t node, uint32_t qpn, const char *call)
{
	struct ml_connect_opts o = {
		.timeout_ms = (uint32_t)knob.timeout_ms, .retry_cnt = (uint8_t)knob.retry_cnt,
		.rnr_retry = (uint8_t)knob.rnr_retry,
	};
	int ret = ml_qp_connect(c->qp, node, qpn, &o);

	if (ret < 0) {
		MN_WARN("%s: connecting to node 0x%x QP %u over %s failed: %s%s", call, node, qpn,
			c->d->name, ml_last_error(), ret == -EHOSTUNREACH ?
			" (the node is not a live neighbour of any port: megalink-stat neigh)" : "");
		return ret == -EHOSTUNREACH ? ncclRemoteError : ncclSystemError;
	}
	c->peer_node = node;
	c->peer_qpn = qpn;
	return ncclSuccess;
}

static uint64_t new_nonce(void)
{
	uint64_t v = 0;

	if (getrandom(&v, sizeof(v), GRND_NONBLOCK) != sizeof(v))
		v = now_ns() ^ ((uint64_t)getpid() << 32);
	return v | 1;
}

ncclResult_t mn_listen(void *ctx, int dev, void *handle, void **listen_comm)
{
	struct mn_dev *d;
	struct mn_listen *l;
	struct mn_handle *h = handle;
	struct mn_oob_addr where;

	if (ctx && !h_get(ctx, T_CTX))
		return ncclInvalidArgument;
	if (!handle || !listen_comm) {
		MN_WARN("listen: NULL %s", handle ? "listenComm" : "handle");
		return ncclInvalidArgument;
	}
	*listen_comm = NULL;
	d = dev_get(dev, "listen");
	if (!d)
		return g_inited ? ncclInvalidArgument : ncclInvalidUsage;
	l = calloc(1, sizeof(*l));
	if (!l)
		return ncclSystemError;
	l->d = d;
	l->nonce = new_nonce();
	l->lfd = mn_oob_listen(&where);
	if (l->lfd < 0) {
		MN_WARN("listen: TCP listen on %s failed: %s", knob.oob_if, strerror(-l->lfd));
		free(l);
		return ncclSystemError;
	}
	l->rc = comm_new(d, T_RECV, "listen");
	if (!l->rc) {
		close(l->lfd);
		free(l);
		return ncclSystemError;
	}
	memset(h, 0, NCCL_NET_HANDLE_MAXSIZE);
	h->magic = MN_MAGIC;
	h->version = MN_VERSION;
	h->max_recvs = (uint16_t)knob.max_recvs;
	h->node_id = d->info.node_id;
	h->qpn = ml_qp_num(l->rc->qp);
	h->nonce = l->nonce;
	h->oob = where;
	l->handle = h_new(T_LISTEN, l);
	if (!l->handle) {
		comm_free(l->rc);
		close(l->lfd);
		free(l);
		return ncclSystemError;
	}
	*listen_comm = l->handle;
	return ncclSuccess;
}

static void comm_publish(struct mn_comm *c, void **out)
{
	c->stage = 0;
	*out = c->handle;
}

ncclResult_t mn_connect(void *ctx, int dev, const ncclNetCommConfig_v10_t *cfg,
			void *handle, void **send_comm, ncclNetDeviceHandle_v8_t **dev_comm)
{
	struct mn_handle *h = handle;
	struct mn_comm *c;
	struct mn_dev *d;
	char where[64];
	ncclResult_t r;
	int ret;

	(void)cfg;
	if (ctx && !h_get(ctx, T_CTX))
		return ncclInvalidArgument;
	if (!handle || !send_comm) {
		MN_WARN("connect: NULL %s", handle ? "sendComm" : "handle");
		return ncclInvalidArgument;
	}
	*send_comm = NULL;
	if (dev_comm)
		*dev_comm = NULL;	/* no device offload */
	d = dev_get(dev, "connect");
	if (!d)
		return g_inited ? ncclInvalidArgument : ncclInvalidUsage;
	if (h->magic != MN_MAGIC || h->version != MN_VERSION) {
		MN_WARN("connect: the handle is not a megalink listen handle (magic 0x%x version %u; "
			"is the peer using another net plugin?)", h->magic, h->version);
		return ncclInvalidArgument;
	}
	if (!h->stage) {			/* first call: build the comm */
		c = comm_new(d, T_SEND, "connect");
		if (!c)
			return ncclSystemError;
		r = qp_connect(c, h->node_id, h->qpn, "connect");
		if (r != ncclSuccess) {
			comm_free(c);
			return r;
		}
		c->fd = mn_oob_connect(&h->oob);
		if (c->fd < 0) {
			MN_WARN("connect: TCP connect to %s failed: %s",
				mn_oob_name(&h->oob, where, sizeof(where)), strerror(-c->fd));
			comm_free(c);
			return ncclSystemError;
		}
		c->hello = (struct mn_hello){ .magic = MN_MAGIC, .version = MN_VERSION,
					      .node_id = d->info.node_id,
					      .qpn = ml_qp_num(c->qp), .nonce = h->nonce };
		c->stage = 1;
		c->handle = h_new(T_SEND, c);
		if (!c->handle) {
			comm_free(c);
			return ncclSystemError;
		}
		h->stage = (uint64_t)(uintptr_t)c->handle;
	}
	c = h_get((void *)(uintptr_t)h->stage, T_SEND);
	if (!c || c->stage == 0) {
		MN_WARN("connect: the handle's connection was already returned or closed");
		return ncclInvalidUsage;
	}
	ret = 0;
	if (c->stage == 1) {
		ret = mn_oob_connected(c->fd);
		if (ret > 0) {
			c->stage = 2;
			c->off = 0;
		}
	}
	if (c->stage == 2) {
		ret = mn_oob_io(c->fd, &c->hello, sizeof(c->hello), &c->off, 1);
		if (ret > 0) {
			c->stage = 3;
			c->off = 0;
		}
	}
	if (c->stage == 3) {
		ret = mn_oob_io(c->fd, &c->reply, sizeof(c->reply), &c->off, 0);
		if (ret > 0) {
			if (c->reply.magic != MN_MAGIC || c->reply.nonce != h->nonce ||
			    c->reply.node_id != h->node_id || c->reply.qpn != h->qpn) {
				MN_WARN("connect: node 0x%x answered with a reply that does not match "
					"the handle", h->node_id);
				ret = -EPROTO;
			} else {
				h->stage = 0;
				comm_publish(c, send_comm);
				MN_INFO(NCCL_NET, "NET/Megalink: connected %s QP %u -> node 0x%x QP %u",
					d->name, ml_qp_num(c->qp), c->peer_node, c->peer_qpn);
				return ncclSuccess;
			}
		}
	}
	if (ret < 0) {
		MN_WARN("connect: connection setup with node 0x%x via %s failed: %s", h->node_id,
			mn_oob_name(&h->oob, where, sizeof(where)), strerror(-ret));
		h_del(c->handle);
		comm_free(c);
		h->stage = 0;
		return ncclRemoteError;
	}
	return ncclSuccess;			/* not yet: call again */
}

ncclResult_t mn_accept(void *listen_comm, void **recv_comm, ncclNetDeviceHandle_v8_t **dev_comm)
{
	struct mn_listen *l = h_get(listen_comm, T_LISTEN);
	struct mn_comm *c;
	ncclResult_t r;
	int ret = 0;

	if (!l)
		return ncclInvalidArgument;
	if (!recv_comm) {
		MN_WARN("accept: NULL recvComm");
		return ncclInvalidArgument;
	}
	*recv_comm = NULL;
	if (dev_comm)
		*dev_comm = NULL;
	c = l->rc;
	if (!c) {
		MN_WARN("accept: listen comm %p already accepted its connection", listen_comm);
		return ncclInvalidUsage;
	}
	if (c->stage == 0) {
		c->fd = accept4(l->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (c->fd < 0) {
			c->fd = -1;
			if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
				return ncclSuccess;
			MN_WARN("accept: TCP accept failed: %s", strerror(errno));
			return ncclSystemError;
		}
		c->stage = 1;
		c->off = 0;
	}
	if (c->stage == 1) {
		ret = mn_oob_io(c->fd, &c->hello, sizeof(c->hello), &c->off, 0);
		if (ret > 0) {
			if (c->hello.magic != MN_MAGIC || c->hello.version != MN_VERSION ||
			    c->hello.nonce != l->nonce) {
				/* not for this listen (stale or foreign): wait for the right one */
				MN_WARN("accept: dropped a connection that did not carry this listen "
					"handle's nonce");
				close(c->fd);
				c->fd = -1;
				c->stage = 0;
				return ncclSuccess;
			}
			r = qp_connect(c, c->hello.node_id, c->hello.qpn, "accept");
			if (r != ncclSuccess)
				return r;
			c->reply = (struct mn_hello){ .magic = MN_MAGIC, .version = MN_VERSION,
						      .node_id = l->d->info.node_id,
						      .qpn = ml_qp_num(c->qp), .nonce = l->nonce };
			c->stage = 2;
			c->off = 0;
		}
	}
	if (c->stage == 2) {
		ret = mn_oob_io(c->fd, &c->reply, sizeof(c->reply), &c->off, 1);
		if (ret > 0) {
			c->handle = h_new(T_RECV, c);
			if (!c->handle)
				return ncclSystemError;
			l->rc = NULL;
			comm_publish(c, recv_comm);
			MN_INFO(NCCL_NET, "NET/Megalink: accepted %s QP %u <- node 0x%x QP %u",
				l->d->name, ml_qp_num(c->qp), c->peer_node, c->peer_qpn);
			return ncclSuccess;
		}
	}
	if (ret < 0) {
		MN_WARN("accept: connection setup failed: %s", strerror(-ret));
		/* start over with a fresh QP: this one may be connected already */
		comm_free(c);
		l->rc = NULL;
		return ncclRemoteError;
	}
	return ncclSuccess;
}

ncclResult_t mn_close_listen(void *listen_comm)
{
	struct mn_listen *l = h_get(listen_comm, T_LISTEN);

	if (!l)
		return ncclInvalidArgument;
	h_del(listen_comm);
	comm_free(l->rc);
	close(l->lfd);
	free(l);
	return ncclSuccess;
}

static struct mn_comm *any_comm(void *comm, const char *call)
{
	struct slot *s;
	void *obj = NULL;

	pthread_mutex_lock(&g_lock);
	s = h_slot(comm);
	if (s && (s->type == T_SEND || s->type == T_RECV))
		obj = s->obj;
	pthread_mutex_unlock(&g_lock);
	if (!obj)
		MN_WARN("%s: %p is not a live send or recv comm", call, comm);
	return obj;
}

ncclResult_t mn_reg_mr(void *comm, void *data, size_t size, int type, void **mhandle)
{
	struct mn_comm *c = any_comm(comm, "regMr");

	if (!c)
		return ncclInvalidArgument;
	if (!mhandle || (!data && size)) {
		MN_WARN("regMr: NULL %s", mhandle ? "data" : "mhandle");
		return ncclInvalidArgument;
	}
	*mhandle = NULL;
	if (type != NCCL_PTR_HOST) {
		MN_WARN("regMr: pointer type %d (%s) is not supported: megalink serves host memory "
			"only (ptrSupport = NCCL_PTR_HOST)", type,
			type == NCCL_PTR_CUDA ? "NCCL_PTR_CUDA" : type == NCCL_PTR_DMABUF ?
			"NCCL_PTR_DMABUF" : "unknown");
		return ncclInvalidArgument;
	}
	return reg_new(c->d, data, size, mhandle);
}

ncclResult_t mn_reg_mr_dmabuf(void *comm, void *data, size_t size, int type, uint64_t offset,
			      int fd, void **mhandle)
{
	(void)data; (void)size; (void)type; (void)offset; (void)fd;
	if (!any_comm(comm, "regMrDmaBuf"))
		return ncclInvalidArgument;
	if (mhandle)
		*mhandle = NULL;
	MN_WARN("regMrDmaBuf: DMA-BUF registration is not supported: megalink ports are Ethernet "
		"netdevs without peer-to-peer DMA; ptrSupport is NCCL_PTR_HOST only");
	return ncclInvalidUsage;
}

ncclResult_t mn_dereg_mr(void *comm, void *mhandle)
{
	struct mn_reg *r;

	if (!any_comm(comm, "deregMr"))
		return ncclInvalidArgument;
	r = h_get(mhandle, T_REG);
	if (!r)
		return ncclInvalidArgument;
	h_del(mhandle);
	reg_put(r);
	return ncclSuccess;
}

/* ---- progress ---- */

static ncclResult_t status_result(unsigned int st)
{
	switch (st) {
	case ML_WC_RETRY_EXC_ERR:
	case ML_WC_RNR_RETRY_EXC_ERR:
	case ML_WC_REM_ACCESS_ERR:
	case ML_WC_REM_INV_REQ_ERR:
	case ML_WC_REM_OP_ERR:
		return ncclRemoteError;
	default:
		return ncclSystemError;
	}
}

static ncclResult_t comm_fail(struct mn_comm *c, ncclResult_t r, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static ncclResult_t comm_fail(struct mn_comm *c, ncclResult_t r, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (c->error)
		return c->error;	/* the first reason is the one that matters */
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	c->error = r;
	MN_WARN("%s %s QP %u <-> node 0x%x QP %u: %s; every pending and later request of "
		"this comm fails (%s)", t_name[c->type], c->d->name, ml_qp_num(c->qp), c->peer_node,
		c->peer_qpn, msg, r == ncclRemoteError ? "ncclRemoteError" : "ncclSystemError");
	return r;
}

static void req_done_one(struct mn_req *q)
{
	if (q && q->in_use && q->pending > 0)
		q->pending--;
}

static ncclResult_t progress(struct mn_comm *c)
{
	struct ml_cqe wc[32];
	int n;

	if (c->error)
		return c->error;
	while ((n = ml_cq_poll(c->cq, wc, 32)) > 0) {
		for (int i = 0; i < n; i++) {
			unsigned int kind = (unsigned int)(wc[i].wr_id >> WR_KIND_SHIFT);
			uint32_t v = (uint32_t)wc[i].wr_id;

			if (wc[i].status != ML_WC_SUCCESS) {
				if (wc[i].status == ML_WC_WR_FLUSH_ERR && c->error)
					continue;
				return comm_fail(c, status_result(wc[i].status),
						 "%s completion failed: %s",
						 kind == WR_CTS ? "clear-to-send" : kind == WR_FIN ?
						 "send" : kind == WR_RX ? "receive" : "write",
						 ml_wc_status_str(wc[i].status));
			}
			if (c->type == T_SEND && kind == WR_RX) {	/* a CTS arrived */
				struct mn_cts *m = (struct mn_cts *)c->ctl + MN_SLOTS + v;
				struct cts_state *s = &c->cts[c->cts_rx % MN_SLOTS];

				if (m->seq != c->cts_rx || m->n < 1 || m->n > MN_MAX_RECVS || s->valid)
					return comm_fail(c, ncclRemoteError,
							 "malformed clear-to-send (seq %u, expected %u, "
							 "n %u)", m->seq, c->cts_rx, m->n);
				s->cts = *m;
				memset(s->used, 0, sizeof(s->used));
				s->nused = 0;
				s->valid = 1;
				c->cts_rx++;
				if (post_rx(c, v) < 0)
					return comm_fail(c, ncclSystemError, "reposting a receive: %s",
							 ml_last_error());
			} else if (c->type == T_SEND && kind == WR_FIN) {
				if (v < (uint32_t)c->nreqs)
					req_done_one(&c->reqs[v]);
			} else if (c->type == T_RECV && kind == WR_CTS) {
				if (v < MN_SLOTS)
					c->cts_busy[v] = 0;
			} else if (c->type == T_RECV && kind == WR_RX) {	/* a FIN */
				uint32_t slot = wc[i].imm >> 8, elem = wc[i].imm & 0xff;
				struct mn_req *q = slot < MN_SLOTS ? c->slot_req[slot] : NULL;

				if (!(wc[i].flags & ML_WC_F_IMM) || !q || elem >= (uint32_t)q->n)
					return comm_fail(c, ncclRemoteError,
							 "unexpected message (imm 0x%x)", wc[i].imm);
				q->size[elem] = (size_t)*fin_slot(c, v);
				req_done_one(q);
				if (q->pending == 0)
					c->slot_req[slot] = NULL;
				if (post_rx(c, v) < 0)
					return comm_fail(c, ncclSystemError, "reposting a receive: %s",
							 ml_last_error());
			}
		}
	}
	if (n < 0)
		return comm_fail(c, ncclSystemError, "polling the CQ: %s", ml_last_error());
	return ncclSuccess;
}

static struct mn_req *req_get(struct mn_comm *c)
{
	struct mn_req *q;
	int i;

	if (!c->nfree)
		return NULL;
	i = c->freeq[--c->nfree];
	q = &c->reqs[i];
	memset(q, 0, sizeof(*q));
	q->c = c;
	q->handle = h_new(T_REQ, q);
	if (!q->handle) {
		c->freeq[c->nfree++] = i;
		return NULL;
	}
	q->in_use = 1;
	return q;
}

static void req_put(struct mn_req *q)
{
	struct mn_comm *c = q->c;

	h_del(q->handle);
	q->in_use = 0;
	c->freeq[c->nfree++] = (int)(q - c->reqs);
}

/* @mhandle covers [data, data + size) on @c's device. */
static bool reg_covers(struct mn_comm *c, void *mhandle, const void *data, size_t size,
		       const char *call, struct mn_reg **out)
{
	struct mn_reg *r;

	*out = NULL;
	if (!size)
		return true;
	if (!data) {
		MN_WARN("%s: NULL data with size %zu", call, size);
		return false;
	}
	r = h_get_(mhandle, T_REG, call);
	if (!r)
		return false;
	if (r->d != c->d || (uintptr_t)data < r->addr ||
	    (uintptr_t)data + size > r->addr + r->size) {
		MN_WARN("%s: [%p, +%zu) is outside memory handle %p ([%p, +%zu) on %s)", call, data,
			size, mhandle, (void *)r->addr, r->size, r->d->name);
		return false;
	}
	*out = r;
	return true;
}

/*
 * Every so often (NCCL_MEGALINK_PEER_CHECK_MS) while a caller waits, see
 * whether the peer closed the TCP connection: its process died or closed
 * the comm.  A sender waiting for a receive that never comes, or a
 * receiver waiting for data, fails instead of spinning forever.
 */
static ncclResult_t check_peer(struct mn_comm *c)
{
	uint64_t t = now_ns();

	if (c->error)
		return c->error;
	if (t < c->next_check_ns)
		return ncclSuccess;
	c->next_check_ns = t + (uint64_t)knob.check_ms * 1000000ULL;
	if (mn_oob_peer_gone(c->fd))
		return comm_fail(c, ncclRemoteError, "the peer closed its connection or its "
				 "process died while this side waited for it");
	return ncclSuccess;
}

ncclResult_t mn_isend(void *send_comm, void *data, size_t size, int tag, void *mhandle,
		      void **request)
{
	struct mn_comm *c = h_get(send_comm, T_SEND);
	struct cts_state *s;
	struct mn_cts_elem *e;
	struct mn_reg *r;
	struct mn_req *q;
	uint64_t fin = size, max = 0;
	uint32_t chunks, i;
	ncclResult_t res;
	int elem = -1, ret = 0;

	if (!c)
		return ncclInvalidArgument;
	if (!request) {
		MN_WARN("isend: NULL request");
		return ncclInvalidArgument;
	}
	*request = NULL;
	if (c->stage) {
		MN_WARN("isend: send comm %p is still connecting (connect has not returned it)",
			send_comm);
		return ncclInvalidUsage;
	}
	if (!reg_covers(c, mhandle, data, size, "isend", &r))
		return ncclInvalidArgument;
	res = progress(c);
	if (res != ncclSuccess)
		return res;
	s = &c->cts[c->cts_cur % MN_SLOTS];
	if (!s->valid)
		return check_peer(c);		/* no receive posted yet: call again */
	for (i = 0; i < s->cts.n; i++)
		if (!s->used[i] && s->cts.e[i].tag == tag) {
			elem = (int)i;
			break;
		}
	if (elem < 0)
		return check_peer(c);		/* the receive has no (free) buffer with this tag */
	e = &s->cts.e[elem];
	if (size > e->size) {
		MN_WARN("isend: %zu bytes with tag %d are more than the matching receive of node 0x%x "
			"posted (%llu bytes): sizes of the two ranks disagree", size, tag,
			c->peer_node, (unsigned long long)e->size);
		return ncclInvalidUsage;
	}
	max = c->qp->max_msg_size ? c->qp->max_msg_size : (1ULL << 31);
	chunks = size ? (uint32_t)((size + max - 1) / max) : 0;
	if (ml_sq_space(c->qp) < chunks + 1)
		return check_peer(c);		/* send queue full: call again */
	q = req_get(c);
	if (!q) {
		MN_WARN("isend: more than %d requests outstanding on one send comm", c->nreqs);
		return ncclInvalidUsage;
	}
	q->n = 1;
	q->size[0] = size;
	q->pending = 1;
	for (i = 0; i < chunks && ret == 0; i++) {
		uint64_t off = (uint64_t)i * max, len = size - off < max ? size - off : max;
		struct ml_sge sge = { (uintptr_t)data + off, (uint32_t)len, r->ent->mr->lkey };
		struct ml_send_wr wr = {
			.wr_id = WR(WR_DATA, q - c->reqs), .opcode = ML_WR_WRITE,
			.sg_list = &sge, .num_sge = 1,
			.remote_addr = e->addr + off, .rkey = e->rkey,
		};

		ret = ml_post_send_nodb(c->qp, &wr);
	}
	if (ret == 0) {
		struct ml_sge sge = { (uintptr_t)&fin, sizeof(fin), 0 };
		struct ml_send_wr wr = {
			.wr_id = WR(WR_FIN, q - c->reqs), .opcode = ML_WR_SEND_IMM,
			.flags = ML_WR_F_SIGNALED | ML_WR_F_INLINE, .sg_list = &sge, .num_sge = 1,
			.imm = FIN_IMM(c->cts_cur % MN_SLOTS, elem),
		};

		ret = ml_post_send_nodb(c->qp, &wr);
	}
	if (ret == 0)
		ret = ml_qp_doorbell(c->qp);
	if (ret < 0) {
		req_put(q);
		return comm_fail(c, ret == -EIO ? ncclRemoteError : ncclSystemError,
				 "posting a send: %s", ml_last_error());
	}
	s->used[elem] = 1;
	if (++s->nused == (int)s->cts.n) {
		s->valid = 0;
		c->cts_cur++;
	}
	*request = q->handle;
	return ncclSuccess;
}

ncclResult_t mn_irecv(void *recv_comm, int n, void **data, const size_t *sizes,
		      const int *tags, void **mhandles, void **request)
{
	struct mn_comm *c = h_get(recv_comm, T_RECV);
	struct mn_reg *r[MN_MAX_RECVS];
	struct mn_cts *m;
	struct mn_req *q;
	uint32_t slot;
	ncclResult_t res;
	int ret;

	if (!c)
		return ncclInvalidArgument;
	if (!request || !data || !sizes || !tags || !mhandles) {
		MN_WARN("irecv: NULL %s", !request ? "request" : !data ? "data" : !sizes ? "sizes" :
			!tags ? "tags" : "mhandles");
		return ncclInvalidArgument;
	}
	/* *request == NCCL_NET_OPTIONAL_RECV_COMPLETION on entry: we complete anyway */
	*request = NULL;
	if (n < 1 || n > knob.max_recvs) {
		MN_WARN("irecv: n = %d receives in one group; this device takes 1..%d (maxRecvs)",
			n, knob.max_recvs);
		return ncclInvalidArgument;
	}
	for (int i = 0; i < n; i++)
		if (!reg_covers(c, mhandles[i], data[i], sizes[i], "irecv", &r[i]))
			return ncclInvalidArgument;
	res = progress(c);
	if (res != ncclSuccess)
		return res;
	slot = c->recv_seq % MN_SLOTS;
	if (c->slot_req[slot]) {
		MN_WARN("irecv: more than %d receives outstanding on one recv comm",
			NCCL_NET_MAX_REQUESTS);
		return ncclInvalidUsage;
	}
	if (c->cts_busy[slot] || !ml_sq_space(c->qp))
		return check_peer(c);		/* the slot's previous CTS is still in flight */
	q = req_get(c);
	if (!q) {
		MN_WARN("irecv: more than %d receives outstanding on one recv comm", c->nreqs);
		return ncclInvalidUsage;
	}
	m = cts_slot(c, slot);
	m->seq = c->recv_seq;
	m->n = (uint32_t)n;
	for (int i = 0; i < n; i++) {
		m->e[i] = (struct mn_cts_elem){
			.addr = (uintptr_t)data[i], .size = sizes[i],
			.rkey = r[i] ? r[i]->ent->mr->rkey : 0, .tag = tags[i],
		};
	}
	q->n = n;
	q->slot = (int)slot;
	q->pending = n;
	{
		struct ml_sge sge = { (uintptr_t)m, (uint32_t)(8 + n * sizeof(struct mn_cts_elem)),
				      c->ctl_mr->lkey };
		struct ml_send_wr wr = {
			.wr_id = WR(WR_CTS, slot), .opcode = ML_WR_SEND,
			.flags = ML_WR_F_SIGNALED, .sg_list = &sge, .num_sge = 1,
		};

		if (sge.length <= ML_MAX_INLINE)
			wr.flags |= ML_WR_F_INLINE;
		ret = ml_post_send(c->qp, &wr);
	}
	if (ret < 0) {
		req_put(q);
		return comm_fail(c, ret == -EIO ? ncclRemoteError : ncclSystemError,
				 "posting a clear-to-send: %s", ml_last_error());
	}
	c->cts_busy[slot] = 1;
	c->slot_req[slot] = q;
	c->recv_seq++;
	*request = q->handle;
	return ncclSuccess;
}

ncclResult_t mn_iflush(void *recv_comm, int n, void **data, int *sizes, void **mhandles,
		       void **request)
{
	struct mn_comm *c = h_get(recv_comm, T_RECV);

	if (!c)
		return ncclInvalidArgument;
	if (!request || (n > 0 && (!data || !sizes || !mhandles))) {
		MN_WARN("iflush: NULL %s", !request ? "request" : "data, sizes or mhandles");
		return ncclInvalidArgument;
	}
	/*
	 * Host memory: the kernel copied the data into the buffer before it
	 * posted the completion that test() acquired, so it is visible to
	 * every CPU already.  Nothing to flush: a NULL request says so.
	 */
	*request = NULL;
	return ncclSuccess;
}

ncclResult_t mn_test(void *request, int *done, int *sizes)
{
	struct mn_req *q = h_get(request, T_REQ);
	struct mn_comm *c;
	ncclResult_t r;

	if (!q)
		return ncclInvalidArgument;
	if (!done) {
		MN_WARN("test: NULL done");
		return ncclInvalidArgument;
	}
	*done = 0;
	c = q->c;
	r = progress(c);
	if (q->pending == 0) {
		*done = 1;
		if (sizes)
			for (int i = 0; i < q->n; i++)
				sizes[i] = q->size[i] > INT_MAX ? INT_MAX : (int)q->size[i];
		req_put(q);
		return ncclSuccess;
	}
	if (r != ncclSuccess)
		return r;
	return check_peer(c);
}

static ncclResult_t close_comm(void *h, int type)
{
	struct mn_comm *c = h_get_(h, type, type == T_SEND ? "closeSend" : "closeRecv");

	if (!c)
		return ncclInvalidArgument;
	h_del(h);
	comm_free(c);
	return ncclSuccess;
}

ncclResult_t mn_close_send(void *send_comm)
{
	return close_comm(send_comm, T_SEND);
}

ncclResult_t mn_close_recv(void *recv_comm)
{
	return close_comm(recv_comm, T_RECV);
}

ncclResult_t mn_get_device_mr(void *comm, void *mhandle, void **dptr)
{
	(void)comm; (void)mhandle; (void)dptr;
	MN_WARN("getDeviceMr: no device offload (netDeviceType is NCCL_NET_DEVICE_HOST)");
	return ncclInvalidUsage;
}

ncclResult_t mn_irecv_consumed(void *recv_comm, int n, void *request)
{
	(void)recv_comm; (void)n; (void)request;
	MN_WARN("irecvConsumed: no device offload (netDeviceType is NCCL_NET_DEVICE_HOST)");
	return ncclInvalidUsage;
}

int megalink_nccl_counts(struct mn_counts *out)
{
	if (!out)
		return -1;
	pthread_mutex_lock(&g_lock);
	out->listen = g_count[T_LISTEN];
	out->send = g_count[T_SEND];
	out->recv = g_count[T_RECV];
	out->reg = g_count[T_REG];
	out->req = g_count[T_REQ];
	out->ctx = g_count[T_CTX];
	pthread_mutex_unlock(&g_lock);
	out->cache = 0;
	for (int i = 0; i < g_ndev; i++) {
		pthread_mutex_lock(&g_devs[i].mr_lock);
		out->cache += g_devs[i].cache_n;
		pthread_mutex_unlock(&g_devs[i].mr_lock);
	}
	return 0;
}

__attribute__((destructor)) static void mn_fini(void)
{
	if (g_inited)
		devs_close();
	g_inited = 0;
}
