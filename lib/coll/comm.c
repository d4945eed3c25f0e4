// SPDX-License-Identifier: MIT
/*
 * Communicator lifetime: the device, one PD, one CQ, the staging and
 * control MRs, one QP per peer; the rendezvous; teardown.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

#define DEF_TIMEOUT_MS		300000
#define DEF_PEER_TIMEOUT_MS	10000
#define DEF_CHUNK		(256u << 10)
#define DEF_SLOTS		4
#define DEF_SMALL_MAX		(64u << 10)
#define QP_RTO_MS		100
#define DEF_REG_ENTRIES		64

MLC_EXPORT void ml_coll_config_init(struct ml_coll_config *cfg)
{
	const char *r = getenv("RANK"), *s = getenv("WORLD_SIZE");

	if (!cfg)
		return;
	memset(cfg, 0, sizeof(*cfg));
	cfg->rank = r && *r ? atoi(r) : -1;
	cfg->size = s && *s ? atoi(s) : 0;
}

/*
 * The first device of the caller's network namespace (the control
 * family's dump is per namespace; /sys/class/megalink lists them all).
 */
static int open_device(const char *name, struct ml_device **out)
{
	struct ml_dev_attr *devs = NULL;
	struct ml_ctl *ctl;
	size_t n = 0;
	int r;

	if (!name)
		name = getenv("ML_COLL_DEVICE");
	if (name && *name) {
		r = ml_device_open(name, out);
		if (r)
			return mlc_fail(r, "communicator: device %s: %s", name, ml_last_error());
		return 0;
	}
	r = ml_ctl_open(&ctl);
	if (!r) {
		r = ml_ctl_devices(ctl, &devs, &n);
		ml_ctl_close(ctl);
	}
	if (r < 0)
		return mlc_fail(r, "communicator: listing megalink devices: %s", ml_last_error());
	for (size_t i = 0; i < n; i++) {
		if (!devs[i].num_ports)
			continue;
		r = ml_device_open(devs[i].name, out);
		if (r)
			r = mlc_fail(r, "communicator: device %s: %s", devs[i].name,
				     ml_last_error());
		ml_free(devs);
		return r;
	}
	ml_free(devs);
	return mlc_fail(-ENODEV, "communicator: no megalink device with a port in this network "
			"namespace (bind one with `megalink port bind IFNAME`, or set "
			"ML_COLL_DEVICE / config.device)");
}

/* Every libmegalink destructor takes NULL, as free() does. */
static void comm_free(struct ml_coll_comm *c)
{
	mlc_reg_destroy(c);
	for (int i = 0; i < c->size; i++)
		ml_qp_destroy(c->peers[i].qp);
	ml_mr_dereg(c->stage_mr);
	ml_mr_dereg(c->send_mr);
	ml_mr_dereg(c->ctrl_mr);
	ml_cq_destroy(c->cq);
	ml_pd_free(c->pd);
	ml_device_close(c->dev);
	free(c->stage);
	free(c->sendbuf);
	free(c->ctrl);
	free(c);
}

static int setup_objects(struct ml_coll_comm *c)
{
	size_t area = (size_t)c->size * c->slots * c->chunk;
	int r;

	r = ml_pd_alloc(c->dev, &c->pd);
	if (!r)
		r = ml_cq_create(c->dev, (uint32_t)(c->size * (SQ_DEPTH + RQ_DEPTH) + 64), &c->cq);
	if (r)
		return mlc_fail(r, "communicator: %s", ml_last_error());
	c->stage = aligned_alloc(4096, area);
	c->sendbuf = aligned_alloc(4096, area);
	c->ctrl = aligned_alloc(4096, (sizeof(struct ctrl_area) + 4095) & ~(size_t)4095);
	if (!c->stage || !c->sendbuf || !c->ctrl)
		return mlc_fail(-ENOMEM, "communicator: out of memory (%zu bytes of staging)",
				2 * area);
	memset(c->ctrl, 0, sizeof(*c->ctrl));
	r = ml_mr_reg(c->pd, c->stage, area, ML_ACCESS_LOCAL_WRITE | ML_ACCESS_REMOTE_WRITE,
		      &c->stage_mr);
	if (!r)
		r = ml_mr_reg(c->pd, c->sendbuf, area, ML_ACCESS_LOCAL_WRITE, &c->send_mr);
	if (!r)
		r = ml_mr_reg(c->pd, c->ctrl, sizeof(*c->ctrl),
			      ML_ACCESS_LOCAL_WRITE | ML_ACCESS_REMOTE_WRITE, &c->ctrl_mr);
	if (r)
		return mlc_fail(r, "communicator: registering %zu bytes of staging: %s",
				2 * area, ml_last_error());
	for (int i = 0; i < c->size; i++) {
		struct ml_qp_init init = {
			.send_cq = c->cq, .sq_entries = SQ_DEPTH, .rq_entries = RQ_DEPTH,
			.max_inline = ML_MAX_INLINE,
		};

		if (i == c->rank)
			continue;
		r = ml_qp_create(c->pd, &init, &c->peers[i].qp);
		if (r)
			return mlc_fail(r, "communicator: QP for rank %d: %s", i, ml_last_error());
		c->peers[i].qpn = ml_qp_num(c->peers[i].qp);
		for (int k = 0; k < RQ_DEPTH; k++) {
			struct ml_recv_wr wr = { .wr_id = WR_ID(WR_RECV, i) };

			r = ml_post_recv(c->peers[i].qp, &wr);
			if (r)
				return mlc_fail(r, "communicator: receive for rank %d: %s", i,
						ml_last_error());
		}
	}
	return 0;
}

static int exchange(struct ml_coll_comm *c, const struct ml_coll_config *cfg, const void *mine,
		    void *all, size_t len)
{
	char err[256] = "";
	int r;

	if (cfg->exchange) {
		r = cfg->exchange(cfg->exchange_ctx, mine, all, len, err);
		if (r)
			return mlc_fail(r < 0 ? r : -EIO, "communicator: exchange callback failed: %s",
					err[0] ? err : strerror(r < 0 ? -r : EIO));
		return 0;
	}
	const char *addr = cfg->addr ? cfg->addr : getenv("MASTER_ADDR");
	uint32_t port = cfg->port;

	if (!port)
		port = mlc_env_u32("MASTER_PORT", 0);
	if (!addr || !*addr || !port || port > 65535)
		return mlc_fail(-EINVAL, "communicator: no rendezvous: set config.exchange, or "
				"config.addr/port, or MASTER_ADDR and MASTER_PORT (%s)",
				!addr || !*addr ? "address missing" : "port missing or not 1..65535");
	r = mlc_tcp_exchange(addr, (uint16_t)port, c->rank, c->size, c->timeout_ms < 120000 ?
			     c->timeout_ms : 120000, mine, all, len, err);
	if (r)
		return mlc_fail(r, "communicator (rank %d of %d): %s", c->rank, c->size, err);
	return 0;
}

static int connect_all(struct ml_coll_comm *c, const struct rank_blob *blobs)
{
	/* Retransmission budget: RTO 100 ms doubling, retries within half the bound. */
	uint8_t retry = 1;

	while (retry < 15 && QP_RTO_MS * ((1ull << (retry + 2)) - 1) <= c->peer_timeout_ms / 2)
		retry++;
	for (int i = 0; i < c->size; i++) {
		const struct rank_blob *b = &blobs[i];
		struct ml_connect_opts o = { .timeout_ms = QP_RTO_MS, .retry_cnt = retry,
					     .rnr_retry = 7 };
		struct peer *p = &c->peers[i];
		int r;

		if (b->magic != BLOB_MAGIC || b->version != BLOB_VERSION)
			return mlc_fail(-EPROTO, "communicator: rank %d sent no valid address "
					"(magic 0x%x version %u): another program on this rendezvous?",
					i, b->magic, b->version);
		if (b->rank != (uint32_t)i || b->size != (uint32_t)c->size)
			return mlc_fail(-EINVAL, "communicator: the process at position %d says it "
					"is rank %u of %u; this rank is %d of %d (rank/size differ "
					"across processes)", i, b->rank, b->size, c->rank, c->size);
		if (b->chunk != c->chunk || b->slots != c->slots)
			return mlc_fail(-EINVAL, "communicator: rank %d uses chunk %u x %u slots, "
					"this rank %u x %u (ML_COLL_CHUNK/ML_COLL_SLOTS must match)",
					i, b->chunk, b->slots, c->chunk, c->slots);
		p->node_id = b->node_id;
		if (i == c->rank)
			continue;
		p->stage_addr = b->stage_addr;
		p->stage_rkey = b->stage_rkey;
		p->ctrl_addr = b->ctrl_addr;
		p->ctrl_rkey = b->ctrl_rkey;
		r = ml_qp_connect(p->qp, b->node_id, b->qpn[c->rank], &o);
		if (r)
			return mlc_fail(r, "communicator: connecting to rank %d (node 0x%x): %s", i,
					b->node_id, ml_last_error());
	}
	return 0;
}

MLC_EXPORT int ml_coll_comm_create(const struct ml_coll_config *cfg, struct ml_coll_comm **out)
{
	struct ml_device_info info;
	struct ml_coll_comm *c;
	struct rank_blob mine, *all = NULL;
	int r;

	if (!out)
		return mlc_fail(-EINVAL, "communicator: out is NULL");
	*out = NULL;
	if (!cfg)
		return mlc_fail(-EINVAL, "communicator: cfg is NULL");
	if (cfg->size < 1 || cfg->size > ML_COLL_MAX_RANKS)
		return mlc_fail(-EINVAL, "communicator: size %d is not in 1..%d", cfg->size,
				ML_COLL_MAX_RANKS);
	if (cfg->rank < 0 || cfg->rank >= cfg->size)
		return mlc_fail(-EINVAL, "communicator: rank %d is not in 0..%d (size %d)",
				cfg->rank, cfg->size - 1, cfg->size);
	c = calloc(1, sizeof(*c));
	if (!c)
		return mlc_fail(-ENOMEM, "communicator: out of memory");
	c->rank = cfg->rank;
	c->size = cfg->size;
	c->timeout_ms = cfg->timeout_ms ?: mlc_env_u32("ML_COLL_TIMEOUT_MS", DEF_TIMEOUT_MS);
	c->peer_timeout_ms = cfg->peer_timeout_ms ?:
		mlc_env_u32("ML_COLL_PEER_TIMEOUT_MS", DEF_PEER_TIMEOUT_MS);
	c->chunk = cfg->chunk_bytes ?: mlc_env_u32("ML_COLL_CHUNK", DEF_CHUNK);
	c->slots = cfg->slots ?: mlc_env_u32("ML_COLL_SLOTS", DEF_SLOTS);
	c->small_max = cfg->small_max ?: mlc_env_u32("ML_COLL_SMALL_MAX", DEF_SMALL_MAX);
	c->algo = cfg->algo;
	if (!c->algo && getenv("ML_COLL_ALGO")) {
		const char *a = getenv("ML_COLL_ALGO");

		if (!strcmp(a, "ring"))
			c->algo = ML_COLL_ALGO_RING;
		else if (!strcmp(a, "rd"))
			c->algo = ML_COLL_ALGO_RD;
		else if (strcmp(a, "auto") && *a) {
			free(c);
			return mlc_fail(-EINVAL, "communicator: ML_COLL_ALGO=%s is not auto, ring "
					"or rd", a);
		}
	}
	if (c->algo > ML_COLL_ALGO_RD || c->chunk < 64 || c->chunk > (64u << 20) ||
	    c->chunk % 64 || c->slots < 1 || c->slots > 32 || c->timeout_ms < 100 ||
	    c->peer_timeout_ms < 500) {
		r = mlc_fail(-EINVAL, "communicator: bad setting: %s",
			     c->algo > ML_COLL_ALGO_RD ? "algo is not auto/ring/rd" :
			     c->chunk < 64 || c->chunk > (64u << 20) || c->chunk % 64 ?
			     "chunk_bytes must be a multiple of 64 in 64..64 MiB" :
			     c->slots < 1 || c->slots > 32 ? "slots must be 1..32" :
			     c->timeout_ms < 100 ? "timeout_ms must be >= 100" :
			     "peer_timeout_ms must be >= 500");
		free(c);
		return r;
	}
	{
		uint32_t mib = cfg->reg_cache_mib ?: mlc_env_u32("ML_COLL_REG_CACHE_MIB", 0);
		uint32_t ent = cfg->reg_cache_entries ?:
			mlc_env_u32("ML_COLL_REG_CACHE_ENTRIES", DEF_REG_ENTRIES);

		if (mib > (1u << 20) || ent < 1 || ent > 65536) {
			free(c);
			return mlc_fail(-EINVAL, "communicator: bad setting: %s",
					mib > (1u << 20) ? "reg_cache_mib (ML_COLL_REG_CACHE_MIB) "
					"must be 0..1048576" : "reg_cache_entries "
					"(ML_COLL_REG_CACHE_ENTRIES) must be 1..65536");
		}
		c->reg_max_bytes = (size_t)mib << 20;
		c->reg_max_entries = ent;
	}
	c->probe_ms = c->peer_timeout_ms / 5;
	atomic_init(&c->aborted, 0);
	if (c->size == 1) {
		*out = c;
		return 0;
	}
	if (!cfg->exchange) {
		const char *a = cfg->addr ? cfg->addr : getenv("MASTER_ADDR");
		uint32_t pt = cfg->port ? cfg->port : mlc_env_u32("MASTER_PORT", 0);

		if (!a || !*a || !pt || pt > 65535) {
			free(c);
			return mlc_fail(-EINVAL, "communicator: no rendezvous: set config.exchange, "
					"or config.addr/port, or MASTER_ADDR and MASTER_PORT (%s)",
					!a || !*a ? "address missing" :
					"port missing or not 1..65535");
		}
	}
	r = open_device(cfg->device, &c->dev);
	if (!r) {
		r = ml_device_query(c->dev, &info);
		if (r)
			r = mlc_fail(r, "communicator: %s", ml_last_error());
	}
	if (!r)
		r = setup_objects(c);
	if (r)
		goto fail;
	memset(&mine, 0, sizeof(mine));
	mine.magic = BLOB_MAGIC;
	mine.version = BLOB_VERSION;
	mine.rank = (uint32_t)c->rank;
	mine.size = (uint32_t)c->size;
	mine.node_id = info.node_id;
	mine.chunk = c->chunk;
	mine.slots = c->slots;
	mine.ctrl_addr = (uintptr_t)c->ctrl;
	mine.ctrl_rkey = c->ctrl_mr->rkey;
	mine.stage_addr = (uintptr_t)c->stage;
	mine.stage_rkey = c->stage_mr->rkey;
	for (int i = 0; i < c->size; i++)
		mine.qpn[i] = c->peers[i].qp ? c->peers[i].qpn : 0;
	all = calloc((size_t)c->size, sizeof(*all));
	if (!all) {
		r = mlc_fail(-ENOMEM, "communicator: out of memory");
		goto fail;
	}
	r = exchange(c, cfg, &mine, all, sizeof(mine));
	if (!r)
		r = connect_all(c, all);
	if (!r) {	/* barrier: every QP connected before anyone writes */
		r = exchange(c, cfg, &mine, all, sizeof(mine));
	}
	free(all);
	if (r)
		goto fail;
	*out = c;
	return 0;
fail:
	comm_free(c);
	return r;
}

/* Let our last writes (credits, data, aborts) leave before the QPs go:
 * at most 2 s, also after an error (the abort notices). */
static void drain(struct ml_coll_comm *c)
{
	uint64_t deadline = mlc_now_ns() + 2000000000ull;

	for (;;) {
		int busy = 0;

		for (int i = 0; i < c->size; i++)
			busy |= c->peers[i].qp && c->peers[i].sq_used;
		if (!busy || mlc_now_ns() > deadline)
			return;
		if (mlc_poll(c) <= 0)
			ml_cq_wait(c->dev, 10);
	}
}

MLC_EXPORT void ml_coll_comm_destroy(struct ml_coll_comm *c)
{
	if (!c)
		return;
	if (c->dev)
		drain(c);
	while (c->head) {
		struct ml_coll_req *r = c->head;

		c->head = r->next;
		free(r->steps);
		free(r->scratch);
		free(r);
	}
	comm_free(c);
}

MLC_EXPORT void ml_coll_abort(struct ml_coll_comm *c)
{
	if (c)
		atomic_store(&c->aborted, 1);
}

MLC_EXPORT int ml_coll_comm_error(const struct ml_coll_comm *c)
{
	return c ? c->error : -EINVAL;
}

MLC_EXPORT int ml_coll_comm_rank(const struct ml_coll_comm *c)
{
	return c ? c->rank : -1;
}

MLC_EXPORT int ml_coll_comm_size(const struct ml_coll_comm *c)
{
	return c ? c->size : -1;
}

MLC_EXPORT uint32_t ml_coll_comm_node_id(const struct ml_coll_comm *c, int rank)
{
	return c && rank >= 0 && rank < c->size ? c->peers[rank].node_id : 0;
}

MLC_EXPORT int ml_coll_comm_stats(const struct ml_coll_comm *c, struct ml_coll_stats *out)
{
	if (!c || !out)
		return mlc_fail(-EINVAL, "stats: %s is NULL", c ? "out" : "comm");
	*out = c->stats;
	return 0;
}
