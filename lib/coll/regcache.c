// SPDX-License-Identifier: MIT
/*
 * The registration cache: user buffers of 64 KiB and more that a request
 * sends from stay registered (pinned, one MR each) after it, so that the
 * next request on the same buffer, or on a part of it, finds its lkey
 * without a new registration, and the engine writes chunks straight from
 * the user's memory (engine.c, "zero copy" in internal.h).
 *
 * One cache per communicator, off unless reg_cache_mib (or
 * $ML_COLL_REG_CACHE_MIB) is set: a list in use order (most recent
 * first), bounded in bytes and entries; beyond either limit the least
 * recently used entries that no unfinished request holds are
 * deregistered.  A lookup hits when one entry covers the whole range; a
 * range that only overlaps entries gets an entry of its own (the old ones
 * age out).  A range larger than the byte limit, or one that libmegalink
 * cannot register (RLIMIT_MEMLOCK), is not cached: the request copies
 * through the send slots as it does with the cache off.
 *
 * Freed memory: a registration keeps the pages that were mapped when it
 * was made.  The cache cannot see free() or munmap(), so the caller's
 * side of the contract (coll.h) is ml_coll_mem_release() before memory
 * it passed is freed or unmapped.  Nothing the peers write lands in user
 * memory through these MRs (they are registered for local reads only):
 * a broken promise sends stale bytes, it never lets a peer write into
 * memory the caller no longer owns.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>

#include "internal.h"

static void unlink_entry(struct ml_coll_comm *c, struct reg_entry *e)
{
	if (e->prev)
		e->prev->next = e->next;
	else
		c->reg_head = e->next;
	if (e->next)
		e->next->prev = e->prev;
	else
		c->reg_tail = e->prev;
	e->prev = e->next = NULL;
}

static void push_front(struct ml_coll_comm *c, struct reg_entry *e)
{
	e->prev = NULL;
	e->next = c->reg_head;
	if (c->reg_head)
		c->reg_head->prev = e;
	else
		c->reg_tail = e;
	c->reg_head = e;
}

static void drop(struct ml_coll_comm *c, struct reg_entry *e)
{
	unlink_entry(c, e);
	c->stats.reg_entries--;
	c->stats.reg_bytes -= e->len;
	ml_mr_dereg(e->mr);
	free(e);
}

/* Evict idle entries, least recently used first, until @bytes more bytes
 * and @entries more entries fit (every idle one when @all). */
static void evict(struct ml_coll_comm *c, size_t bytes, uint32_t entries, bool all)
{
	struct reg_entry *e = c->reg_tail, *prev;

	for (; e; e = prev) {
		prev = e->prev;
		if (!all && c->stats.reg_bytes + bytes <= c->reg_max_bytes &&
		    c->stats.reg_entries + entries <= c->reg_max_entries)
			return;
		if (e->busy)
			continue;
		drop(c, e);
		c->stats.reg_evictions++;
	}
}

static struct reg_entry *lookup(struct ml_coll_comm *c, const char *addr, size_t len)
{
	struct reg_entry *e;
	int r;

	for (e = c->reg_head; e; e = e->next) {
		if (addr >= e->addr && len <= e->len && (size_t)(addr - e->addr) <= e->len - len) {
			c->stats.reg_hits++;
			if (e != c->reg_head) {
				unlink_entry(c, e);
				push_front(c, e);
			}
			return e;
		}
	}
	c->stats.reg_misses++;
	if (len > c->reg_max_bytes)
		return NULL;
	e = calloc(1, sizeof(*e));
	if (!e)
		return NULL;
	evict(c, len, 1, false);
	r = ml_mr_reg(c->pd, (void *)addr, len, 0, &e->mr);
	if (r == -ENOMEM && c->reg_head) {	/* RLIMIT_MEMLOCK: make room */
		evict(c, 0, 0, true);
		r = ml_mr_reg(c->pd, (void *)addr, len, 0, &e->mr);
	}
	if (r) {
		free(e);
		return NULL;
	}
	e->addr = addr;
	e->len = len;
	push_front(c, e);
	c->stats.reg_entries++;
	c->stats.reg_bytes += len;
	/* over a limit when every other entry is busy: mlc_reg_put() shrinks it */
	return e;
}

/* When @req starts: a cached registration for each of its user buffers. */
void mlc_reg_acquire(struct ml_coll_req *req)
{
	struct ml_coll_comm *c = req->comm;

	if (!c->reg_max_bytes || !c->pd)
		return;
	for (int i = 0; i < REQ_UREGS; i++) {
		struct ureg *u = &req->ureg[i];

		if (!u->addr || u->len < REG_MIN || u->e)
			continue;
		u->e = lookup(c, u->addr, u->len);
		if (u->e)
			u->e->busy++;
	}
}

/* When @req is finished, failed or freed. */
void mlc_reg_put(struct ml_coll_req *req)
{
	for (int i = 0; i < REQ_UREGS; i++) {
		if (req->ureg[i].e) {
			req->ureg[i].e->busy--;
			req->ureg[i].e = NULL;
		}
	}
	if (req->comm->reg_max_bytes)
		evict(req->comm, 0, 0, false);
}

/* The MR of @req's that covers [p, p + len), if any. */
const struct ml_mr *mlc_reg_find(const struct ml_coll_req *req, const char *p, size_t len)
{
	for (int i = 0; i < REQ_UREGS; i++) {
		const struct reg_entry *e = req->ureg[i].e;

		if (e && p >= e->addr && len <= e->len && (size_t)(p - e->addr) <= e->len - len)
			return e->mr;
	}
	return NULL;
}

void mlc_reg_destroy(struct ml_coll_comm *c)
{
	while (c->reg_head)
		drop(c, c->reg_head);
}

MLC_EXPORT int ml_coll_mem_release(struct ml_coll_comm *c, const void *addr, size_t len)
{
	const char *a = addr;
	struct reg_entry *e, *next;
	bool all = !addr && !len;
	int n = 0;

	if (!c)
		return mlc_fail(-EINVAL, "mem release: comm is NULL");
	if (!all && (!addr || (uintptr_t)a + len < (uintptr_t)a))
		return mlc_fail(-EINVAL, "mem release: %s", !addr ?
				"addr is NULL (addr NULL and len 0 release everything)" :
				"addr + len overflows");
	for (e = c->reg_head; e; e = e->next) {
		if (!all && (e->addr >= a + len || a >= e->addr + e->len))
			continue;
		if (e->busy)
			return mlc_fail(-EBUSY, "mem release: [%p, +%zu) is in use by %u "
					"unfinished request(s): wait for them first",
					(const void *)e->addr, e->len, e->busy);
	}
	for (e = c->reg_head; e; e = next) {
		next = e->next;
		if (!all && (e->addr >= a + len || a >= e->addr + e->len))
			continue;
		drop(c, e);
		c->stats.reg_releases++;
		n++;
	}
	return n;
}
