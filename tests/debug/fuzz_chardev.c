// SPDX-License-Identifier: MIT
/*
 * fuzz_chardev: the char-device fuzzer of the debug lane (issue 4).
 *
 * Topology: the pod of tests/dataplane (two netns joined by a veth pair,
 * each end the only port of a megalink device; DP_NS_A/B, DP_DEV_A/B,
 * DP_IF_A/B as dp.c reads them), built by tests/debug/fuzz-chardev.sh.
 *
 * Beside the fuzzers, a healthy pair of processes (one per node, dp.c's
 * dp_node_setup/dp_x_run: 2 QPs, one MR over a 2 MiB buffer) moves batches
 * of WRITE, WRITE_IMM, SEND, SEND_IMM and READ for the whole run.  Every
 * batch is checked byte by byte (dp_x_run: data and guards, every
 * completion SUCCESS); after each batch the regions are reset and the
 * whole registered buffer of both nodes must be the filler byte, so that
 * a stray remote write anywhere in it is seen.  After the fuzzers are
 * gone the pair runs at least one more batch, then both QPs must still be
 * in RTS with no error status.
 *
 * K fuzzer processes (ML_FUZZ_PROCS, default 4, alternately in node A's
 * and node B's netns), each with ML_FUZZ_THREADS threads (default 4) that
 * share a table of file descriptors of /dev/megalink/mlN (both nodes'
 * devices: the node is not namespaced), of the objects created on them
 * and of the rings mapped.  Every thread loops over random operations:
 *  - ioctl: a valid struct of a random ML_IOCTL_* built from live objects,
 *    often mutated (bit flips; size 0/1/odd/short/longer with a zero or a
 *    non-zero tail/0xffffffff; flags and reserved fields non-zero; handles
 *    of other objects, types and fds; boundary values; random bytes),
 *    placed anywhere up to an unmapped guard page.  The kernel's answer is
 *    checked against docs/uapi.md: an invalid struct must fail, the errno
 *    must be one documented for the command, a failed call must not write
 *    the struct, a successful one must fill it consistently and never
 *    write past the kernel's struct size;
 *  - random command numbers in and around the megalink range (ENOTTY),
 *    bad argument pointers (NULL, unmapped, kernel, straddling the guard,
 *    read-only memory);
 *  - mmap of rings with the right and wrong offsets, lengths, MAP_PRIVATE,
 *    PROT_*; munmap (partial), mremap (grow must fail), mprotect, madvise;
 *  - garbage in mapped rings: producer/consumer/armed/flags/mask, random
 *    and half-valid WQEs (random lkeys, rkeys of the healthy MRs, lengths,
 *    SGE counts, opcodes, inline lengths), then the doorbell;
 *  - connected QPs: to the other node's healthy QP numbers or random ones
 *    (short retry budgets), and to each other through a rendezvous table
 *    in shared memory so that fuzzer QP pairs really carry traffic, valid
 *    and not, including WRITE/READ with the healthy pair's rkeys;
 *  - MRs over odd memory (unmapped after registration, rings, read-only,
 *    PROT_NONE, memfd truncated while pinned, /dev/zero, wrapping and
 *    kernel ranges);
 *  - lifetimes: a WR over an MR posted on a QP (often a fresh one with a
 *    long retry budget), the MR destroyed while the WR holds it, then the
 *    QP destroyed, errored by a bad WQE, or left to close()/SIGKILL; the PD
 *    of a live QP must refuse DESTROY;
 *  - close/reopen/dup/dup2 of fds while other threads use them, poll()
 *    with armed CQs, read/write/lseek/fcntl, fork() children that scribble
 *    and exit or kill themselves.
 * Faults of the fuzzer's own memory (rings unmapped by another thread) are
 * caught with sigsetjmp.  Processes end by _exit() mid-operation or
 * orderly, and the parent SIGKILLs them at random moments and starts new
 * ones.  Slots 2, 3 (6, 7, ...) drop every capability and run with
 * RLIMIT_MEMLOCK 2 MiB; slots 0, 1 (4, 5, ...) stay root (with
 * CAP_IPC_LOCK).  Even slots live in node A's netns, odd ones in B's.
 *
 * Results: per-operation counts, ioctl result histogram, completion
 * statuses seen by fuzzers; then the checks: healthy transfer, kernel
 * answers (anomalies printed with the struct), object counts of both
 * devices back to 0 (DEV_GET) once every process is gone.  Last line
 * "fuzz_chardev: N passed, N failed".
 *
 * Environment: ML_FUZZ_SECONDS (120), ML_SEED (64-bit, decimal or 0x;
 * printed as seed=0x...), ML_FUZZ_PROCS (4), ML_FUZZ_THREADS (4),
 * ML_FUZZ_KILL_MS (mean interval between SIGKILLs, 3000; 0: none),
 * ML_FUZZ_VERBOSE (1: print every spawn), ML_FUZZ_AVOID_KNOWN (1: stay
 * away from the bugs of /work/notes/bugs-fuzz-chardev.md; off by default).
 * "fuzz_chardev repro" lists the reproducers of those bugs, "fuzz_chardev
 * repro NAME" runs one (node A's netns, same environment).  The seed
 * fixes every random choice of every thread; the interleaving of threads
 * and processes is the scheduler's, so a seed reproduces the operation
 * mix, not the exact race.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <malloc.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "dp.h"

#define MAXPROC		16
#define MAXTHR		16
#define RVN		32		/* rendezvous slots per node */
#define NFD		6		/* fds per fuzzer process */
#define NOBJ		160		/* objects remembered per process */
#define NMAP		48		/* ring mappings per process */
#define MRBUF		(1u << 20)	/* registered buffer per process */
#define HBUF		(2u << 20)	/* healthy pair's buffer */
#define NANOM		24		/* anomaly messages kept */
#define PG		4096u

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#define LD(p)		__atomic_load_n(p, __ATOMIC_ACQUIRE)
#define ST(p, v)	__atomic_store_n(p, v, __ATOMIC_RELEASE)
#define INC(p)		__atomic_fetch_add(p, 1, __ATOMIC_RELAXED)
#define ADD(p, v)	__atomic_fetch_add(p, v, __ATOMIC_RELAXED)

/* ------------------------------------------------------------------ */
/* operation kinds                                                     */
/* ------------------------------------------------------------------ */

enum {
	K_IOCTL, K_RANDCMD, K_BADPTR, K_CREATE, K_DESTROY, K_MMAP, K_MUNMAP,
	K_RING, K_POST, K_CONNECT, K_RDV, K_CLOSE, K_POLL, K_FORK, K_MRODD,
	K_CQDRAIN, K_MISC, K_INUSE, NKIND
};

static const char *const kind_name[NKIND] = {
	[K_IOCTL] = "ioctl (valid/mutated struct)",
	[K_RANDCMD] = "ioctl (random command number)",
	[K_BADPTR] = "ioctl (bad argument pointer)",
	[K_CREATE] = "create object (valid)",
	[K_DESTROY] = "destroy object",
	[K_MMAP] = "mmap ring (right/wrong args)",
	[K_MUNMAP] = "munmap/mremap/mprotect/madvise",
	[K_RING] = "garbage in mapped ring + doorbell",
	[K_POST] = "post WRs on connected QP",
	[K_CONNECT] = "connect QP (healthy/random QPN)",
	[K_RDV] = "rendezvous: fuzzer QP pairs",
	[K_CLOSE] = "close/reopen/dup fd under use",
	[K_POLL] = "poll with armed CQ",
	[K_FORK] = "fork child scribbling",
	[K_MRODD] = "REG_MR over odd memory",
	[K_CQDRAIN] = "drain CQ rings",
	[K_MISC] = "read/write/lseek/fcntl/mmap fd",
	[K_INUSE] = "destroy objects in use by WRs",
};

static const unsigned int kind_weight[NKIND] = {
	[K_IOCTL] = 26, [K_RANDCMD] = 3, [K_BADPTR] = 3, [K_CREATE] = 10,
	[K_DESTROY] = 4, [K_MMAP] = 7, [K_MUNMAP] = 3, [K_RING] = 9,
	[K_POST] = 12, [K_CONNECT] = 3, [K_RDV] = 6, [K_CLOSE] = 2,
	[K_POLL] = 2, [K_FORK] = 1, [K_MRODD] = 3, [K_CQDRAIN] = 5,
	[K_MISC] = 1, [K_INUSE] = 3,
};

/* ------------------------------------------------------------------ */
/* the ioctls                                                          */
/* ------------------------------------------------------------------ */

enum {
	I_QDEV, I_QLIM, I_PD, I_DESTROY, I_MR, I_CQ, I_QP, I_CONNECT, I_QQP,
	I_NOTIFY, NIOC
};

static const struct {
	unsigned long cmd;
	uint32_t ksz;
	const char *name;
} ioc[NIOC] = {
	[I_QDEV] = { ML_IOCTL_QUERY_DEVICE, sizeof(struct ml_query_device), "QUERY_DEVICE" },
	[I_QLIM] = { ML_IOCTL_QUERY_LIMITS, sizeof(struct ml_query_limits), "QUERY_LIMITS" },
	[I_PD] = { ML_IOCTL_ALLOC_PD, sizeof(struct ml_alloc_pd), "ALLOC_PD" },
	[I_DESTROY] = { ML_IOCTL_DESTROY, sizeof(struct ml_destroy), "DESTROY" },
	[I_MR] = { ML_IOCTL_REG_MR, sizeof(struct ml_reg_mr), "REG_MR" },
	[I_CQ] = { ML_IOCTL_CREATE_CQ, sizeof(struct ml_create_cq), "CREATE_CQ" },
	[I_QP] = { ML_IOCTL_CREATE_QP, sizeof(struct ml_create_qp), "CREATE_QP" },
	[I_CONNECT] = { ML_IOCTL_CONNECT_QP, sizeof(struct ml_connect_qp), "CONNECT_QP" },
	[I_QQP] = { ML_IOCTL_QUERY_QP, sizeof(struct ml_query_qp), "QUERY_QP" },
	[I_NOTIFY] = { ML_IOCTL_NOTIFY, sizeof(struct ml_notify), "NOTIFY" },
};

union ioc_buf {
	struct ml_query_device qd;
	struct ml_query_limits ql;
	struct ml_alloc_pd pd;
	struct ml_destroy d;
	struct ml_reg_mr mr;
	struct ml_create_cq cq;
	struct ml_create_qp qp;
	struct ml_connect_qp c;
	struct ml_query_qp qq;
	struct ml_notify n;
	uint8_t b[128];
	uint32_t w[32];
};

/* ------------------------------------------------------------------ */
/* memory shared by every process                                      */
/* ------------------------------------------------------------------ */

struct hinfo {
	uint32_t node, rkey;
	uint64_t addr, len;
	uint32_t qpn[2];
};

/* A rendezvous slot: state 0 free, 1 busy, 2 published, 3 claimed. */
struct rv {
	uint32_t state;
	uint32_t owner;		/* pid of the publisher */
	uint32_t qpn, pqpn;	/* publisher's QP, claimer's QP */
	uint32_t rkey, prkey;
	uint64_t addr, len, paddr, plen;
	uint64_t t_ms;
};

struct shm {
	int fuzz_stop, healthy_stop;
	uint32_t node[2];
	struct hinfo h[2];
	int h_ready[2];
	uint64_t h_batches, h_wrs, h_bytes, h_after_stop;
	uint64_t cnt[MAXPROC][NKIND], okc[MAXPROC][NKIND], usec[MAXPROC][NKIND];
	uint64_t ioc_ok[NIOC], ioc_err[NIOC][134];
	uint64_t wc[16];
	uint64_t faults, forks, exits_abrupt, exits_clean, spawns, kills;
	uint32_t nanom;
	char amsg[NANOM][640];
	struct rv rv[2][RVN];
};

static struct shm *S;

/* ------------------------------------------------------------------ */
/* per-process state of a fuzzer                                       */
/* ------------------------------------------------------------------ */

enum { FK_NONE, FK_ML, FK_OTHER };

struct fdent {
	int fd;
	int kind;
	int side;		/* FK_ML: device of node A or B */
	unsigned int seq;	/* odd while being changed */
};

enum { RK_CQ, RK_SQ, RK_RQ };

struct obj {
	int used;
	int fdi;
	unsigned int seq;	/* of the fd when created */
	uint32_t type, handle;
	uint32_t pd;		/* MR, QP */
	uint32_t key, access;	/* MR */
	uint64_t addr, len;	/* MR */
	uint64_t off[2], msz[2];	/* CQ: [0]; QP: SQ, RQ */
	uint32_t ent[2];
	uint32_t qpn, sge_s, sge_r, inl;
	int connected, published;
	uint32_t rnode, rqpn, prkey;
	uint64_t paddr, plen;
};

struct mapent {
	int used;
	uint8_t *p;
	size_t len;
	int kind;		/* RK_* */
	uint32_t entries;
	int fdi;
	unsigned int seq;
	uint32_t handle;	/* the CQ or QP */
	uint32_t local;		/* our producer (SQ, RQ) / consumer (CQ) */
};

struct thr {
	uint64_t rs;
	int id;
	pthread_t pt;
	uint8_t *arg;		/* 2 pages rw + 1 guard */
	uint8_t *ports;		/* 9 pages rw + 1 guard */
	uint8_t *ro;		/* read-only view of ro_rw */
	uint8_t *ro_rw;
	sigjmp_buf jb;
};

static struct {
	int slot, side, nthr;
	uint64_t seed;
	int capable, avoid_known;
	uint32_t node[2];
	const char *dev[2];
	pthread_mutex_t lk;
	struct fdent fd[NFD];
	struct obj obj[NOBJ];
	struct mapent map[NMAP];
	uint8_t *mrbuf;
	volatile int stop;
	struct thr thr[MAXTHR];
} F;

static __thread struct thr *T;
static __thread volatile sig_atomic_t risky;

/* ------------------------------------------------------------------ */
/* random numbers                                                      */
/* ------------------------------------------------------------------ */

static uint64_t splitmix(uint64_t *s)
{
	uint64_t z = (*s += 0x9E3779B97F4A7C15ULL);

	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
	return z ^ (z >> 31);
}

static uint64_t rnd(void)
{
	return splitmix(&T->rs);
}

static uint32_t rn(uint32_t n)
{
	return n ? (uint32_t)(rnd() % n) : 0;
}

static int chance(unsigned int pct)
{
	return rn(100) < pct;
}

static void rnd_bytes(void *p, size_t n)
{
	uint8_t *b = p;

	while (n >= 8) {
		uint64_t v = rnd();

		memcpy(b, &v, 8);
		b += 8;
		n -= 8;
	}
	while (n--)
		*b++ = (uint8_t)rnd();
}

static uint32_t interesting32(void)
{
	static const uint32_t v[] = {
		0, 1, 2, 3, 4, 5, 7, 8, 15, 16, 31, 32, 63, 64, 65, 127, 128,
		255, 256, 1023, 1024, 4095, 4096, 4097, 65535, 65536, 65537,
		0x7fff, 0x8000, 0xffffff, 0x1000000, 0x7fffffff, 0x80000000,
		0xfffffffe, 0xffffffff, 2000, 2001, 16, 17,
	};

	if (chance(15))
		return (uint32_t)rnd();
	return v[rn(ARRAY_SIZE(v))];
}

static uint64_t interesting64(void)
{
	static const uint64_t v[] = {
		0, 1, 4095, 4096, 1ULL << 31, (1ULL << 31) + 1, 1ULL << 32,
		(1ULL << 40) - 1, 1ULL << 40, (1ULL << 40) + 1, 1ULL << 47,
		0x7ffffffff000ULL, 0x800000000000ULL, 0xffff888000000000ULL,
		0xffffffff81000000ULL, ~0ULL, ~0ULL - 4095, 1ULL << 63,
	};

	if (chance(15))
		return rnd();
	return v[rn(ARRAY_SIZE(v))];
}

/* ------------------------------------------------------------------ */
/* reporting                                                           */
/* ------------------------------------------------------------------ */

static void anomaly(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void anomaly(const char *fmt, ...)
{
	char text[600];
	uint32_t i;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	i = __atomic_fetch_add(&S->nanom, 1, __ATOMIC_RELAXED);
	if (i < NANOM)
		snprintf(S->amsg[i], sizeof(S->amsg[i]), "[slot %d seed 0x%016llx thr %d] %s",
			 F.slot, (unsigned long long)F.seed, T ? T->id : -1, text);
	if (i < 200)
		fprintf(stderr, "fuzz_chardev: ANOMALY [slot %d seed 0x%016llx thr %d] %s\n",
			F.slot, (unsigned long long)F.seed, T ? T->id : -1, text);
}

static void hexdump(char *out, size_t outlen, const void *p, size_t n)
{
	const uint8_t *b = p;
	size_t o = 0;

	out[0] = 0;
	for (size_t i = 0; i < n && o + 3 < outlen; i++)
		o += (size_t)snprintf(out + o, outlen - o, "%02x", b[i]);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static uint64_t now_ms(void)
{
	return (uint64_t)(now_s() * 1000);
}

/* ------------------------------------------------------------------ */
/* faults in our own memory                                            */
/* ------------------------------------------------------------------ */

static void on_fault(int sig, siginfo_t *si, void *uc)
{
	(void)si;
	(void)uc;
	if (risky && T) {
		risky = 0;
		siglongjmp(T->jb, 1);
	}
	signal(sig, SIG_DFL);	/* a fault of the fuzzer itself: crash */
}

/*
 * Accesses to memory that another thread may unmap at any moment (rings,
 * scratch): a SIGSEGV/SIGBUS inside is counted and the access skipped.
 * Small non-inlined helpers, so that no caller's variable lives across
 * sigsetjmp().
 */
static __attribute__((noinline)) int safe_copy(void *dst, const void *src, size_t n)
{
	if (sigsetjmp(T->jb, 1)) {
		INC(&S->faults);
		return -1;
	}
	risky = 1;
	memcpy(dst, src, n);
	risky = 0;
	return 0;
}

static __attribute__((noinline)) uint32_t safe_ld(const void *p)
{
	if (sigsetjmp(T->jb, 1)) {
		INC(&S->faults);
		return 0;
	}
	risky = 1;
	uint32_t v = __atomic_load_n((const uint32_t *)p, __ATOMIC_ACQUIRE);

	risky = 0;
	return v;
}

static __attribute__((noinline)) void safe_st(void *p, uint32_t v)
{
	if (sigsetjmp(T->jb, 1)) {
		INC(&S->faults);
		return;
	}
	risky = 1;
	__atomic_store_n((uint32_t *)p, v, __ATOMIC_SEQ_CST);
	risky = 0;
}

static __attribute__((noinline)) void safe_garbage(void *p, size_t n)
{
	uint8_t b[1024];

	if (n > sizeof(b))
		n = sizeof(b);
	rnd_bytes(b, n);
	safe_copy(p, b, n);
}

#define HDR(p, f)	((void *)&((struct ml_ring_hdr *)(p))->f)

/* ------------------------------------------------------------------ */
/* tables                                                              */
/* ------------------------------------------------------------------ */

/* Snapshot of fd slot @i: -1 if it is being changed or closed. */
static int fd_get(int i, struct fdent *out)
{
	unsigned int s = LD(&F.fd[i].seq);

	if (s & 1)
		return -1;
	out->fd = LD(&F.fd[i].fd);
	out->kind = LD(&F.fd[i].kind);
	out->side = LD(&F.fd[i].side);
	out->seq = s;
	if (LD(&F.fd[i].seq) != s || out->kind == FK_NONE)
		return -1;
	return 0;
}

static int fd_same(int i, unsigned int seq)
{
	return LD(&F.fd[i].seq) == seq;
}

/* A random usable fd slot, preferring megalink ones. */
static int pick_fd(struct fdent *e)
{
	for (int tries = 0; tries < 8; tries++) {
		int i = (int)rn(NFD);

		if (fd_get(i, e))
			continue;
		if (e->kind != FK_ML && tries < 6 && chance(80))
			continue;
		return i;
	}
	return -1;
}

/* A random live object of @type (any if 0); copied to @o. */
static int pick_obj(uint32_t type, int fdi, struct obj *o)
{
	int same[NOBJ], any[NOBJ], ns = 0, na = 0, k;

	pthread_mutex_lock(&F.lk);
	for (int i = 0; i < NOBJ; i++) {
		struct obj *x = &F.obj[i];

		if (!x->used || (type && x->type != type))
			continue;
		any[na++] = i;
		if (fdi >= 0 && x->fdi == fdi && fd_same(x->fdi, x->seq))
			same[ns++] = i;
	}
	if (!na) {
		pthread_mutex_unlock(&F.lk);
		return -1;
	}
	k = ns && chance(85) ? same[rn((uint32_t)ns)] : any[rn((uint32_t)na)];
	*o = F.obj[k];
	pthread_mutex_unlock(&F.lk);
	return k;
}

static void obj_add(const struct obj *o)
{
	pthread_mutex_lock(&F.lk);
	for (int i = 0; i < NOBJ; i++) {
		if (!F.obj[i].used) {
			F.obj[i] = *o;
			F.obj[i].used = 1;
			break;
		}
	}
	pthread_mutex_unlock(&F.lk);
}

static int obj_count(void)
{
	int n = 0;

	pthread_mutex_lock(&F.lk);
	for (int i = 0; i < NOBJ; i++)
		n += F.obj[i].used;
	pthread_mutex_unlock(&F.lk);
	return n;
}

static void obj_forget(int fdi, unsigned int seq, uint32_t type, uint32_t handle)
{
	pthread_mutex_lock(&F.lk);
	for (int i = 0; i < NOBJ; i++) {
		struct obj *x = &F.obj[i];

		if (x->used && x->fdi == fdi && x->seq == seq && x->type == type &&
		    x->handle == handle)
			x->used = 0;
	}
	pthread_mutex_unlock(&F.lk);
}

/* Apply @fn to the live object (fdi, seq, type, handle) under the lock. */
static int obj_update(int fdi, unsigned int seq, uint32_t type, uint32_t handle,
		      void (*fn)(struct obj *, const void *), const void *arg)
{
	int found = 0;

	pthread_mutex_lock(&F.lk);
	for (int i = 0; i < NOBJ; i++) {
		struct obj *x = &F.obj[i];

		if (x->used && x->fdi == fdi && x->seq == seq && x->type == type &&
		    x->handle == handle) {
			fn(x, arg);
			found = 1;
		}
	}
	pthread_mutex_unlock(&F.lk);
	return found;
}

static int pick_map(int kind, struct mapent *m)
{
	int idx[NMAP], n = 0;

	pthread_mutex_lock(&F.lk);
	for (int i = 0; i < NMAP; i++)
		if (F.map[i].used && (kind < 0 || F.map[i].kind == kind))
			idx[n++] = i;
	if (!n) {
		pthread_mutex_unlock(&F.lk);
		return -1;
	}
	int k = idx[rn((uint32_t)n)];

	*m = F.map[k];
	pthread_mutex_unlock(&F.lk);
	return k;
}

/* The mapping of ring @kind of object (fdi, seq, handle), if any. */
static int find_map(int fdi, unsigned int seq, uint32_t handle, int kind, struct mapent *m)
{
	int r = -1;

	pthread_mutex_lock(&F.lk);
	for (int i = 0; i < NMAP; i++) {
		struct mapent *x = &F.map[i];

		if (x->used && x->fdi == fdi && x->seq == seq && x->handle == handle &&
		    x->kind == kind) {
			*m = *x;
			r = i;
			break;
		}
	}
	pthread_mutex_unlock(&F.lk);
	return r;
}

static void map_set_local(int i, const struct mapent *m, uint32_t local)
{
	pthread_mutex_lock(&F.lk);
	if (F.map[i].used && F.map[i].p == m->p)
		F.map[i].local = local;
	pthread_mutex_unlock(&F.lk);
}

/* Remember a mapping; when the table is full, unmap a random old one. */
static void map_add(const struct mapent *m)
{
	int i;

	pthread_mutex_lock(&F.lk);
	for (i = 0; i < NMAP; i++)
		if (!F.map[i].used)
			break;
	if (i == NMAP) {
		i = (int)rn(NMAP);
		munmap(F.map[i].p, F.map[i].len);
	}
	F.map[i] = *m;
	F.map[i].used = 1;
	pthread_mutex_unlock(&F.lk);
}

/* ------------------------------------------------------------------ */
/* raw ioctl with checks                                               */
/* ------------------------------------------------------------------ */

static int errno_ok(int k, int e)
{
	switch (e) {
	case EINVAL: case E2BIG: case EFAULT: case ENODEV: case ENOMEM:
		return 1;
	}
	switch (k) {
	case I_PD: case I_CQ:
		return e == EMFILE;
	case I_DESTROY:
		return e == ENOENT || e == EBUSY;
	case I_MR:
		return e == ENOENT || e == EINTR || e == EMFILE || e == EBUSY;
	case I_QP:	/* ENOSPC: max_qp_dev (6.2); 6.3 still says EBUSY */
		return e == ENOENT || e == EMFILE || e == EBUSY || e == ENOSPC;
	case I_CONNECT:
		return e == ENOENT || e == EHOSTUNREACH || e == EMSGSIZE || e == EISCONN;
	case I_QQP: case I_NOTIFY:
		return e == ENOENT;
	}
	return 0;
}

static int pow2(uint32_t x)
{
	return x && !(x & (x - 1));
}

/* Why the struct @u (input, size @usize) must be refused, or NULL. */
static const char *invalid_why(int k, const union ioc_buf *u, uint32_t usize, int tailnz)
{
	uint32_t ksz = ioc[k].ksz;

	if (usize < ksz)
		return "size below the minimum";
	if (usize > ksz && tailnz)
		return "non-zero tail past the kernel's struct";
	if (u->w[1])
		return "flags not 0";
	switch (k) {
	case I_QDEV:
		if (u->qd.port_entries && (!u->qd.port_entry_size || u->qd.port_entry_size > 4096 ||
					   !u->qd.ports))
			return "bad port array triple";
		break;
	case I_PD:
		if (u->pd.reserved)
			return "reserved not 0";
		break;
	case I_DESTROY:
		if (u->d.type < ML_OBJ_PD || u->d.type > ML_OBJ_QP)
			return "type not 1..4";
		break;
	case I_MR:
		if (u->mr.reserved)
			return "reserved not 0";
		if (u->mr.access & ~ML_ACCESS_ALL)
			return "unknown access bits";
		if (!u->mr.length || u->mr.length > (1ULL << 40))
			return "length 0 or > 2^40";
		if ((u->mr.access & ML_ACCESS_REMOTE_WRITE) &&
		    !(u->mr.access & ML_ACCESS_LOCAL_WRITE))
			return "REMOTE_WRITE without LOCAL_WRITE";
		break;
	case I_CQ:
		if (!u->cq.entries || u->cq.entries > 65536)
			return "entries 0 or > 65536";
		break;
	case I_QP:
		if (!u->qp.sq_entries || u->qp.sq_entries > 4096 || !u->qp.rq_entries ||
		    u->qp.rq_entries > 4096)
			return "depth 0 or > 4096";
		if (u->qp.max_send_sge > 4 || u->qp.max_recv_sge > 4)
			return "SGE count > 4";
		if (u->qp.max_inline > 64)
			return "max_inline > 64";
		break;
	case I_CONNECT:
		if (u->c.reserved0)
			return "reserved0 not 0";
		if (u->c.retry_cnt > 15 || u->c.rnr_retry > 15)
			return "retry count > 15";
		if (u->c.timeout_ms > 2000 || u->c.rnr_timer_ms > 2000)
			return "timeout > 2000";
		if (!u->c.remote_qpn || u->c.remote_qpn > 0xffffff)
			return "remote_qpn 0 or > 2^24-1";
		if (!u->c.remote_node || u->c.remote_node == 0xffffffff)
			return "reserved node id";
		break;
	case I_NOTIFY:
		if (u->n.reserved)
			return "reserved not 0";
		break;
	}
	return NULL;
}

/* Output of a successful call that contradicts docs/uapi.md, or NULL. */
static const char *bad_output(int k, const union ioc_buf *in, const union ioc_buf *out,
			      uint32_t usize, int side)
{
	static __thread char why[160];

	if (k == I_QDEV || k == I_QLIM || k == I_QQP) {
		if (out->w[0] != ioc[k].ksz)
			return "query: size not the kernel's struct size";
	} else if (out->w[0] != usize) {
		return "size not kept";
	}
	switch (k) {
	case I_QDEV:
		if (out->qd.abi_version != ML_ABI_VERSION || out->qd.max_ports != ML_MAX_PORTS ||
		    out->qd.num_ports != 1 || out->qd.node_id != F.node[side] ||
		    out->qd.port_entries != in->qd.port_entries ||
		    out->qd.port_entry_size != in->qd.port_entry_size ||
		    out->qd.ports != in->qd.ports || !(out->qd.caps & ML_DEV_CAP_DATA_PLANE) ||
		    strncmp(out->qd.name, "ml", 2) || !memchr(out->qd.name, 0, 16)) {
			snprintf(why, sizeof(why), "QUERY_DEVICE output: abi %u ports %u/%u node 0x%x "
				 "(want 0x%x) caps 0x%llx", out->qd.abi_version, out->qd.num_ports,
				 out->qd.max_ports, out->qd.node_id, F.node[side],
				 (unsigned long long)out->qd.caps);
			return why;
		}
		break;
	case I_QLIM:
		if (out->ql.max_pd != 64 || out->ql.max_mr != 4096 || out->ql.max_cq != 256 ||
		    out->ql.max_qp != 1024 || out->ql.max_cqe != 65536 ||
		    out->ql.max_sq_wr != 4096 || out->ql.max_rq_wr != 4096 ||
		    out->ql.max_sge != ML_MAX_SGE || out->ql.max_inline != ML_MAX_INLINE ||
		    out->ql.max_msg_size != 1ULL << 31 || out->ql.max_mr_size != 1ULL << 40)
			return "QUERY_LIMITS output differs from docs/uapi.md 6.2";
		break;
	case I_MR:
		if (out->mr.out_lkey != out->mr.out_rkey || !out->mr.out_handle)
			return "REG_MR: lkey != rkey or handle 0";
		break;
	case I_CQ:
		if (!pow2(out->cq.entries) || out->cq.entries < in->cq.entries ||
		    out->cq.entries >= 2 * in->cq.entries + (in->cq.entries == 1) ||
		    out->cq.out_mmap_offset % PG ||
		    out->cq.out_mmap_size != PG + (((uint64_t)out->cq.entries * 32 + PG - 1) & ~(uint64_t)(PG - 1)))
			return "CREATE_CQ: entries/offset/size inconsistent";
		break;
	case I_QP:
		if (!pow2(out->qp.sq_entries) || out->qp.sq_entries < in->qp.sq_entries ||
		    !pow2(out->qp.rq_entries) || out->qp.rq_entries < in->qp.rq_entries ||
		    !out->qp.out_qpn || out->qp.out_qpn > 0xffffff ||
		    out->qp.out_sq_offset % PG || out->qp.out_rq_offset % PG ||
		    out->qp.out_sq_size != PG + (((uint64_t)out->qp.sq_entries * 128 + PG - 1) & ~(uint64_t)(PG - 1)) ||
		    out->qp.out_rq_size != PG + (((uint64_t)out->qp.rq_entries * 80 + PG - 1) & ~(uint64_t)(PG - 1)))
			return "CREATE_QP: entries/qpn/offsets/sizes inconsistent";
		break;
	case I_QQP:
		if (out->qq.qp != in->qq.qp || out->qq.state > ML_QPS_ERROR ||
		    (out->qq.status && out->qq.state != ML_QPS_ERROR) || !out->qq.qpn)
			return "QUERY_QP output inconsistent";
		break;
	}
	return NULL;
}

static void rec_connected(struct obj *o, const void *arg)
{
	const struct ml_connect_qp *c = arg;

	o->connected = 1;
	o->rnode = c->remote_node;
	o->rqpn = c->remote_qpn;
}

/* Remember what a successful call created or destroyed. */
static void record(int k, int fdi, unsigned int seq, const union ioc_buf *in,
		   const union ioc_buf *out, int fd)
{
	struct obj o;

	memset(&o, 0, sizeof(o));
	o.fdi = fdi;
	o.seq = seq;
	switch (k) {
	case I_PD:
		o.type = ML_OBJ_PD;
		o.handle = out->pd.out_pd;
		break;
	case I_MR:
		o.type = ML_OBJ_MR;
		o.handle = out->mr.out_handle;
		o.pd = in->mr.pd;
		o.key = out->mr.out_lkey;
		o.access = in->mr.access;
		o.addr = in->mr.addr;
		o.len = in->mr.length;
		break;
	case I_CQ:
		o.type = ML_OBJ_CQ;
		o.handle = out->cq.out_handle;
		o.off[0] = out->cq.out_mmap_offset;
		o.msz[0] = out->cq.out_mmap_size;
		o.ent[0] = out->cq.entries;
		break;
	case I_QP:
		o.type = ML_OBJ_QP;
		o.handle = out->qp.out_handle;
		o.pd = in->qp.pd;
		o.qpn = out->qp.out_qpn;
		o.off[0] = out->qp.out_sq_offset;
		o.msz[0] = out->qp.out_sq_size;
		o.off[1] = out->qp.out_rq_offset;
		o.msz[1] = out->qp.out_rq_size;
		o.ent[0] = out->qp.sq_entries;
		o.ent[1] = out->qp.rq_entries;
		o.sge_s = in->qp.max_send_sge;
		o.sge_r = in->qp.max_recv_sge;
		o.inl = in->qp.max_inline;
		break;
	case I_DESTROY:
		obj_forget(fdi, seq, in->d.type, in->d.handle);
		return;
	case I_CONNECT:
		obj_update(fdi, seq, ML_OBJ_QP, in->c.qp, rec_connected, &in->c);
		return;
	default:
		return;
	}
	if (obj_count() < NOBJ - 8) {
		obj_add(&o);
		return;
	}
	/* Table full: do not keep it (memory is bounded). */
	struct ml_destroy d = { sizeof(d), 0, o.type, o.handle };

	ioctl(fd, ML_IOCTL_DESTROY, &d);
}

/*
 * Issue ioctl @k with struct @u (whose size field says how much the kernel
 * reads) on fd slot @fdi.  @usize bytes are placed before the guard page
 * of the thread's argument area; @tailpos (< usize, >= ksz) gets a
 * non-zero byte if >= 0.  Returns 0 or -errno; the kernel's output is in
 * @out.
 */
static int do_ioctl(int k, int fdi, const struct fdent *e, union ioc_buf *u, int tailpos,
		    union ioc_buf *out, int allow_overlap)
{
	uint32_t ksz = ioc[k].ksz, usize = u->w[0];
	size_t avail = 2 * PG, pos;
	uint8_t *a = T->arg;
	int r, err, tailnz = 0;
	const char *why;

	if ((uint64_t)usize + 8 <= avail && chance(70))
		pos = rn((uint32_t)(avail - usize + 1));
	else
		pos = avail - ksz - rn(64 < avail - ksz ? 64 : 1);
	if (pos + ksz > avail)
		pos = avail - ksz;
	if (chance(80))
		pos &= ~(size_t)7;
	memset(a, 0, avail);
	memcpy(a + pos, u, ksz);
	if (tailpos >= (int)ksz && (uint32_t)tailpos < usize && pos + (size_t)tailpos < avail) {
		a[pos + (size_t)tailpos] = (uint8_t)(1 + rn(255));
		tailnz = 1;
	}
	r = ioctl(e->fd, ioc[k].cmd, a + pos);
	err = r < 0 ? errno : 0;
	memcpy(out, a + pos, ksz);

	if (e->kind != FK_ML || !fd_same(fdi, e->seq))
		return r < 0 ? -err : 0;
	if (r == 0)
		INC(&S->ioc_ok[k]);
	else
		INC(&S->ioc_err[k][err < 134 ? err : 0]);

	why = invalid_why(k, u, usize, tailnz);
	if (r == 0 && why) {
		char hx[300];

		hexdump(hx, sizeof(hx), u, ksz);
		anomaly("%s accepted an invalid struct (%s): size %u, struct %s", ioc[k].name, why,
			usize, hx);
	} else if (r < 0 && !errno_ok(k, err)) {
		char hx[300];

		hexdump(hx, sizeof(hx), u, ksz);
		anomaly("%s failed with %s (%d), not a documented errno; size %u struct %s",
			ioc[k].name, strerror(err), err, usize, hx);
	} else if (r < 0 && err != EFAULT && !allow_overlap && memcmp(out, u, ksz)) {
		anomaly("%s failed with %s but wrote into the struct", ioc[k].name, strerror(err));
	} else if (r == 0) {
		const char *bad = bad_output(k, u, out, usize, e->side);

		if (bad && !allow_overlap)
			anomaly("%s: %s (size %u)", ioc[k].name, bad, usize);
		for (size_t i = pos + ksz; !allow_overlap && i < pos + usize && i < avail; i++) {
			if (a[i]) {
				anomaly("%s (size %u) wrote past the kernel's struct at +%zu",
					ioc[k].name, usize, i - pos);
				break;
			}
		}
		record(k, fdi, e->seq, u, out, e->fd);
	}
	return r < 0 ? -err : 0;
}

/* ------------------------------------------------------------------ */
/* building valid structs                                              */
/* ------------------------------------------------------------------ */

static uint32_t handle_of(uint32_t type, int fdi)
{
	struct obj o;

	if (pick_obj(type, fdi, &o) < 0)
		return chance(50) ? 1 + rn(8) : interesting32();
	return o.handle;
}

/* A port-array pointer for QUERY_DEVICE: mostly fine, sometimes not. */
static uint64_t ports_ptr(uint32_t entries, uint32_t esz, int *overlap)
{
	uint64_t need = (uint64_t)entries * esz;
	struct mapent m;

	switch (rn(20)) {
	case 0:
		return 0;
	case 1:
		return (uintptr_t)T->ro;
	case 2:
		if (pick_map(-1, &m) >= 0)
			return (uintptr_t)m.p;
		return 0;
	case 3:	/* runs into the guard page */
		if (need && need < 9 * PG)
			return (uintptr_t)T->ports + 9 * PG - need + rn((uint32_t)(esz < 64 ? esz : 64));
		return (uintptr_t)T->ports + 9 * PG - 16;
	case 4:
		*overlap = 1;
		return (uintptr_t)T->arg;
	case 5:
		return interesting64();
	default:
		return (uintptr_t)T->ports + rn(64);
	}
}

/* An address/length pair for REG_MR: mostly inside the process buffer. */
static void mr_range(uint64_t *addr, uint64_t *len)
{
	switch (rn(20)) {
	case 0:		/* unmapped */
		*addr = 0x100000000ULL + ((uint64_t)rn(1 << 20) << 12);
		*len = 1 + rn(1 << 16);
		return;
	case 1:		/* wraps or reaches past the user address space */
		*addr = interesting64();
		*len = interesting64();
		break;
	case 2:		/* whole buffer and beyond */
		*addr = (uintptr_t)F.mrbuf;
		*len = MRBUF + rn(3) * PG;
		break;
	case 3:		/* a ring mapping */
	{
		struct mapent m;

		if (pick_map(-1, &m) >= 0) {
			*addr = (uintptr_t)m.p + rn((uint32_t)m.len);
			*len = 1 + rn((uint32_t)m.len);
			return;
		}
	}
		/* fall through */
	default:
		*addr = (uintptr_t)F.mrbuf + rn(MRBUF - 1);
		*len = 1 + rn(chance(80) ? 16384 : MRBUF);
		if (*addr + *len > (uintptr_t)F.mrbuf + MRBUF)
			*len = (uintptr_t)F.mrbuf + MRBUF - *addr;
		return;
	}
	/* Root fuzzers: no multi-GiB page arrays (see fuzz-chardev notes). */
	if (F.capable && *len > (1ULL << 32) && *len < (1ULL << 40))
		*len = 1 + (*len & 0xffffffff);
}

static void build_valid(int k, int fdi, union ioc_buf *u, int *overlap)
{
	struct obj o;

	memset(u, 0, sizeof(*u));
	u->w[0] = ioc[k].ksz;
	switch (k) {
	case I_QDEV:
		u->qd.port_entries = chance(20) ? 0 : rn(10);
		u->qd.port_entry_size = chance(75) ? sizeof(struct ml_port_attr) :
					chance(50) ? 1 + rn(64) : 1 + rn(4096);
		u->qd.ports = ports_ptr(u->qd.port_entries, u->qd.port_entry_size, overlap);
		break;
	case I_PD:
	case I_QLIM:
		break;
	case I_DESTROY:
		if (pick_obj(0, fdi, &o) >= 0 && chance(85)) {
			u->d.type = o.type;
			u->d.handle = o.handle;
		} else {
			u->d.type = 1 + rn(4);
			u->d.handle = 1 + rn(64);
		}
		break;
	case I_MR:
		u->mr.pd = handle_of(ML_OBJ_PD, fdi);
		u->mr.access = rn(8);
		if ((u->mr.access & ML_ACCESS_REMOTE_WRITE) && chance(90))
			u->mr.access |= ML_ACCESS_LOCAL_WRITE;
	{
		uint64_t ad, ln;

		mr_range(&ad, &ln);
		u->mr.addr = ad;
		u->mr.length = ln;
	}
		break;
	case I_CQ:
		u->cq.entries = chance(90) ? 1 + rn(256) : chance(50) ? 1 + rn(65536) : 65536;
		break;
	case I_QP:
		u->qp.pd = handle_of(ML_OBJ_PD, fdi);
		u->qp.send_cq = handle_of(ML_OBJ_CQ, fdi);
		u->qp.recv_cq = chance(50) ? u->qp.send_cq : handle_of(ML_OBJ_CQ, fdi);
		u->qp.sq_entries = chance(95) ? 1 + rn(128) : 1 + rn(4096);
		u->qp.rq_entries = chance(95) ? 1 + rn(128) : 1 + rn(4096);
		u->qp.max_send_sge = rn(5);
		u->qp.max_recv_sge = rn(5);
		u->qp.max_inline = rn(65);
		break;
	case I_CONNECT:
	{
		int peer = 1;

		if (pick_obj(ML_OBJ_QP, fdi, &o) >= 0) {
			u->c.qp = o.handle;
			peer = 1 - LD(&F.fd[o.fdi].side);
		} else {
			u->c.qp = 1 + rn(64);
		}
		switch (rn(10)) {
		case 0: u->c.remote_node = F.node[1 - peer]; break;	/* ourselves */
		case 1: u->c.remote_node = 1 + rn(0xfffffffe); break;
		default: u->c.remote_node = F.node[peer]; break;
		}
		switch (rn(10)) {
		case 0: case 1: case 2:
			u->c.remote_qpn = S->h[peer].qpn[rn(2)];
			break;
		case 3: case 4:
			u->c.remote_qpn = S->rv[peer][rn(RVN)].qpn;
			break;
		default:
			u->c.remote_qpn = 1 + rn(0xffffff);
		}
		if (!u->c.remote_qpn)
			u->c.remote_qpn = 1 + rn(100);
		if (chance(30)) {
			/* long budgets: WRs stay outstanding while MRs go away */
			u->c.timeout_ms = 500 + rn(1501);
			u->c.retry_cnt = (uint8_t)(7 + rn(9));
		} else {
			u->c.timeout_ms = 1 + rn(50);
			u->c.retry_cnt = (uint8_t)(1 + rn(3));
		}
		u->c.rnr_retry = (uint8_t)(1 + rn(3));
		u->c.rnr_timer_ms = 1 + rn(20);
		break;
	}
	case I_QQP:
		u->qq.qp = handle_of(ML_OBJ_QP, fdi);
		break;
	case I_NOTIFY:
		u->n.qp = handle_of(ML_OBJ_QP, fdi);
		break;
	}
}

/* Offsets of fields that name other objects, per ioctl. */
static int handle_field(int k)
{
	static const int f[NIOC][3] = {
		[I_DESTROY] = { 12, 12, 8 }, [I_MR] = { 8, 8, 8 },
		[I_QP] = { 8, 12, 16 }, [I_CONNECT] = { 8, 16, 12 },
		[I_QQP] = { 8, 8, 8 }, [I_NOTIFY] = { 8, 8, 8 },
	};

	return f[k][rn(3)];
}

static int reserved_field(int k, int *width)
{
	*width = 4;
	switch (k) {
	case I_PD: return 12;
	case I_MR: return 44;
	case I_CONNECT: *width = 2; return 26;
	case I_NOTIFY: return 12;
	}
	return -1;
}

/* Mutate @u in place; returns the tail position to make non-zero or -1. */
static int mutate(int k, union ioc_buf *u)
{
	uint32_t ksz = ioc[k].ksz;
	int tailpos = -1, n = 1 + (int)rn(3), off, w;
	struct obj o;

	while (n--) {
		switch (rn(9)) {
		case 0:	/* bit flips */
			for (int i = 1 + (int)rn(3); i; i--) {
				off = 4 + (int)rn(ksz - 4);
				u->b[off] ^= (uint8_t)(1u << rn(8));
			}
			break;
		case 1:	/* size */
		{
			static const int32_t d[] = { -1, -4, -8, 1, 3, 7, 8, 16, 64, 4000 };
			uint32_t s;

			switch (rn(8)) {
			case 0: s = rn(2) ? 0 : 1; break;
			case 1: s = 4; break;
			case 2: s = 0xffffffff; break;
			case 3: s = 0x80000000u + rn(16); break;
			case 4: s = (uint32_t)rnd(); break;
			default: s = (uint32_t)((int32_t)ksz + d[rn(ARRAY_SIZE(d))]); break;
			}
			u->w[0] = s;
			if (s > ksz && chance(50))
				tailpos = (int)(ksz + rn(s - ksz < 8192 ? s - ksz : 8192));
			break;
		}
		case 2:	/* flags */
			u->w[1] = chance(50) ? 1u << rn(32) : (uint32_t)rnd();
			break;
		case 3:	/* reserved */
			off = reserved_field(k, &w);
			if (off >= 0) {
				uint32_t v = 1u << rn(w * 8);

				memcpy(u->b + off, &v, (size_t)w);
			} else {
				u->w[1] = 1;
			}
			break;
		case 4:	/* a handle of another object, type or fd */
			off = handle_field(k);
			if (off && off + 4 <= (int)ksz) {
				uint32_t h = pick_obj(0, -1, &o) >= 0 && chance(70) ? o.handle :
					     interesting32();

				memcpy(u->b + off, &h, 4);
			}
			break;
		case 5:	/* boundary u32 */
		{
			uint32_t v = interesting32();

			off = 4 * (1 + (int)rn(ksz / 4 - 1));
			memcpy(u->b + off, &v, 4);
			break;
		}
		case 6:	/* boundary u64 */
		{
			uint64_t v = interesting64();

			off = 8 * (int)rn(ksz / 8);
			if (off == 0)
				off = 8;
			if (off + 8 <= (int)ksz)
				memcpy(u->b + off, &v, 8);
			break;
		}
		case 7:	/* random bytes */
			rnd_bytes(u->b + 4, ksz - 4);
			break;
		case 8:	/* destroy type */
			if (k == I_DESTROY)
				u->d.type = interesting32();
			break;
		}
	}
	return tailpos;
}

/* ------------------------------------------------------------------ */
/* operations                                                          */
/* ------------------------------------------------------------------ */

static int op_ioctl(int mut_pct, int kforce)
{
	int k = kforce >= 0 ? kforce : (int)rn(NIOC), fdi, tail = -1, overlap = 0;
	union ioc_buf u, out;
	struct fdent e;

	fdi = pick_fd(&e);
	if (fdi < 0)
		return 0;
	build_valid(k, fdi, &u, &overlap);
	if (chance((unsigned int)mut_pct))
		tail = mutate(k, &u);
	return do_ioctl(k, fdi, &e, &u, tail, &out, overlap) == 0;
}

static int op_create(void)
{
	struct obj o;
	int k, fdi;
	struct fdent e;

	fdi = pick_fd(&e);
	if (fdi < 0 || e.kind != FK_ML)
		return 0;
	if (obj_count() > NOBJ - 16) {
		/* make room instead */
		return op_ioctl(0, I_DESTROY);
	}
	if (pick_obj(ML_OBJ_PD, fdi, &o) < 0 || o.fdi != fdi)
		k = I_PD;
	else if (pick_obj(ML_OBJ_CQ, fdi, &o) < 0 || o.fdi != fdi)
		k = I_CQ;
	else {
		switch (rn(10)) {
		case 0: k = I_PD; break;
		case 1: case 2: k = I_CQ; break;
		case 3: case 4: case 5: case 6: k = I_QP; break;
		default: k = I_MR; break;
		}
	}
	union ioc_buf u, out;
	int overlap = 0;

	build_valid(k, fdi, &u, &overlap);
	return do_ioctl(k, fdi, &e, &u, -1, &out, overlap) == 0;
}

static int op_randcmd(void)
{
	static const unsigned int types[] = { ML_IOCTL_TYPE, ML_IOCTL_TYPE - 1, ML_IOCTL_TYPE + 1 };
	unsigned int type = types[rn(3)], nr, dir, size;
	unsigned long cmd;
	struct fdent e;
	int fdi, r, err, valid = 0;

	fdi = pick_fd(&e);
	if (fdi < 0)
		return 0;
	nr = chance(70) ? 0x70 + rn(0x40) : rn(256);
	dir = chance(50) ? _IOC_NONE : rn(4);
	size = chance(50) ? 0 : rn(1u << 14);
	cmd = _IOC(dir, type, nr, size);
	if (chance(5))
		cmd |= (unsigned long)rnd() << 32;	/* upper bits are dropped */
	for (int k = 0; k < NIOC; k++)
		if ((unsigned int)cmd == ioc[k].cmd)
			valid = 1;
	rnd_bytes(T->arg, 256);
	memset(T->arg, 0, 4);
	r = ioctl(e.fd, cmd, T->arg + rn(64));
	err = r < 0 ? errno : 0;
	if (!valid && e.kind == FK_ML && fd_same(fdi, e.seq) && err != ENOTTY)
		anomaly("ioctl command 0x%lx (type 0x%x nr 0x%x dir %u size %u): %s, want ENOTTY",
			cmd, type, nr, dir, size, r ? strerror(err) : "success");
	return r == 0;
}

static int op_badptr(void)
{
	int k = (int)rn(NIOC), fdi, overlap = 0, r, err, must_fault = 1;
	union ioc_buf u;
	struct fdent e;
	void *p;

	fdi = pick_fd(&e);
	if (fdi < 0)
		return 0;
	build_valid(k, fdi, &u, &overlap);
	switch (rn(6)) {
	case 0: p = NULL; break;
	case 1: p = (void *)1; break;
	case 2: p = T->arg + 2 * PG; break;				/* guard */
	case 3: p = (void *)0xffffffff81000000ULL; break;		/* kernel */
	case 4:	/* size field straddles the guard */
		memcpy(T->arg + 2 * PG - 2, &u, 2);
		p = T->arg + 2 * PG - 2;
		break;
	default:	/* read-only: read fine, write-back faults */
		memcpy(T->ro_rw, &u, ioc[k].ksz);
		p = T->ro;
		must_fault = 0;
		break;
	}
	r = ioctl(e.fd, ioc[k].cmd, p);
	err = r < 0 ? errno : 0;
	if (e.kind == FK_ML && fd_same(fdi, e.seq)) {
		if (must_fault && err != EFAULT)
			anomaly("%s with argument %p: %s, want EFAULT", ioc[k].name, p,
				r ? strerror(err) : "success");
		if (!must_fault && r == 0)
			anomaly("%s with a read-only struct succeeded (output not written)",
				ioc[k].name);
		if (!must_fault && r < 0 && !errno_ok(k, err))
			anomaly("%s with a read-only struct: %s", ioc[k].name, strerror(err));
	}
	return r == 0;
}

static int op_destroy(void)
{
	return op_ioctl(chance(15) ? 100 : 0, I_DESTROY);
}

static int op_connect(void)
{
	return op_ioctl(chance(10) ? 100 : 0, I_CONNECT);
}

/* mmap a ring of a random object with right or wrong arguments. */
static int op_mmap(void)
{
	struct obj o;
	struct fdent e;
	uint64_t off, len;
	int ring, prot = PROT_READ | PROT_WRITE, flags = MAP_SHARED, correct = 1, exact;
	void *p;

	if (pick_obj(chance(40) ? ML_OBJ_CQ : ML_OBJ_QP, -1, &o) < 0)
		return 0;
	if (fd_get(o.fdi, &e) || e.seq != o.seq)
		return 0;
	ring = o.type == ML_OBJ_QP ? (int)rn(2) : 0;
	off = o.off[ring];
	len = o.msz[ring];
	if (chance(35)) {
		switch (rn(9)) {
		case 0: len -= PG; break;
		case 1: len += PG; break;
		case 2: len = 1 + rn(3 * PG); break;
		case 3: off += PG; correct = 0; break;
		case 4: off = off >= PG ? off - PG : 0; correct = off == o.off[ring]; break;
		case 5: off = ((uint64_t)rn(1 << 20)) << 12; correct = off == o.off[ring]; break;
		case 6: flags = MAP_PRIVATE; correct = 0; break;
		case 7: prot = PROT_READ; break;
		case 8: prot = chance(50) ? PROT_NONE : PROT_READ | PROT_WRITE | PROT_EXEC; break;
		}
	}
	/* mmap() rounds the length up to whole pages before the driver sees it */
	exact = ((len + PG - 1) & ~(uint64_t)(PG - 1)) == o.msz[ring];
	p = mmap(NULL, (size_t)len, prot, flags, e.fd, (off_t)off);
	if (p == MAP_FAILED)
		return 0;
	if (fd_same(o.fdi, o.seq) && e.kind == FK_ML &&
	    ((!exact && len) || flags == MAP_PRIVATE)) {
		anomaly("mmap of ring %d of %s %u with %s (len %llu, ring size %llu, off 0x%llx) "
			"succeeded", ring, o.type == ML_OBJ_QP ? "QP" : "CQ", o.handle,
			flags == MAP_PRIVATE ? "MAP_PRIVATE" : "a wrong length",
			(unsigned long long)len, (unsigned long long)o.msz[ring],
			(unsigned long long)off);
	}
	if (!correct || !exact || prot != (PROT_READ | PROT_WRITE)) {
		munmap(p, (size_t)len);
		return 1;
	}
	{
		int kind = o.type == ML_OBJ_CQ ? RK_CQ : ring == 0 ? RK_SQ : RK_RQ;
		struct mapent m = {
			.p = p, .len = (size_t)len, .kind = kind, .entries = o.ent[ring],
			.fdi = o.fdi, .seq = o.seq, .handle = o.handle,
		};

		m.local = safe_ld(kind == RK_CQ ? HDR(p, consumer) : HDR(p, producer));
		map_add(&m);
	}
	return 1;
}

static int op_munmap(void)
{
	struct mapent m;
	int i = pick_map(-1, &m), r = 0, op = (int)rn(8);
	struct mapent *x;
	void *q = MAP_FAILED;

	if (i < 0)
		return 0;
	if (op == 4 || op == 5) {
		/* protection and advice: the mapping stays where it is */
		static const int adv[] = { MADV_DONTNEED, MADV_DONTFORK, MADV_DOFORK,
					   MADV_COLD, MADV_PAGEOUT, MADV_WILLNEED,
					   MADV_REMOVE, MADV_WIPEONFORK, MADV_HUGEPAGE,
					   MADV_MERGEABLE };

		if (op == 4)
			return mprotect(m.p, m.len, chance(50) ? PROT_READ :
					PROT_READ | PROT_WRITE) == 0;
		return madvise(m.p, m.len, adv[rn(ARRAY_SIZE(adv))]) == 0;
	}
	if (op == 6)	/* a placeholder of our own to move it onto */
		q = mmap(NULL, m.len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	/* Address-space changes under the lock, so that no range is unmapped twice. */
	pthread_mutex_lock(&F.lk);
	x = &F.map[i];
	if (!x->used || x->p != m.p || x->len != m.len)
		goto out;
	switch (op) {
	case 0: case 1:	/* unmap it */
		x->used = 0;
		r = munmap(m.p, m.len) == 0;
		break;
	case 2:	/* partial unmap of the entries: the header stays */
		if (m.len > PG) {
			x->len -= PG;
			r = munmap(m.p + m.len - PG, PG) == 0;
		}
		break;
	case 3:	/* grow: VM_DONTEXPAND must refuse */
	{
		void *g = mremap(m.p, m.len, m.len + PG, MREMAP_MAYMOVE);

		if (g != MAP_FAILED) {
			anomaly("mremap grew a ring mapping (%zu -> %zu bytes)", m.len, m.len + PG);
			x->used = 0;
			munmap(g, m.len + PG);
		}
		break;
	}
	case 6:	/* move */
		if (q != MAP_FAILED &&
		    mremap(m.p, m.len, m.len, MREMAP_MAYMOVE | MREMAP_FIXED, q) != MAP_FAILED) {
			x->p = q;
			q = MAP_FAILED;
			r = 1;
		}
		break;
	case 7:	/* shrink to the header */
		if (m.len > PG && mremap(m.p, m.len, PG, 0) != MAP_FAILED) {
			x->len = PG;
			r = 1;
		}
		break;
	}
out:
	pthread_mutex_unlock(&F.lk);
	if (q != MAP_FAILED)
		munmap(q, m.len);
	return r;
}

/*
 * A key and range for an SGE.  @sane: an MR of the QP's PD on the same fd
 * (with LOCAL_WRITE if @need_lw) and a range inside it, when there is one.
 * Otherwise anything: other PDs' and fds' MRs, the healthy MR of the
 * QP's device, random keys, ranges one past the MR, huge lengths.
 */
static uint32_t pick_key(const struct obj *qp, uint64_t *addr, uint32_t *len, int need_lw,
			 int sane)
{
	struct obj m;
	int side = LD(&F.fd[qp->fdi].side), found = 0;

	if (sane) {
		for (int tries = 0; tries < 6 && !found; tries++)
			found = pick_obj(ML_OBJ_MR, qp->fdi, &m) >= 0 && m.fdi == qp->fdi &&
				m.seq == qp->seq && m.pd == qp->pd && m.len &&
				m.len < (1ULL << 32) &&
				(!need_lw || (m.access & ML_ACCESS_LOCAL_WRITE));
		if (found) {
			uint64_t off = rnd() % m.len, room = m.len - off;

			*addr = m.addr + off;
			*len = (uint32_t)(1 + rnd() % (room < 8192 ? room : 8192));
			return m.key;
		}
	}
	switch (rn(10)) {
	case 0:
		*addr = S->h[side].addr + rn(4096);
		*len = 1 + rn(4096);
		return S->h[side].rkey;
	case 1:
		*addr = (uintptr_t)F.mrbuf + rn(MRBUF);
		*len = 1 + rn(4096);
		return (uint32_t)rnd();
	default:
		if (pick_obj(ML_OBJ_MR, qp->fdi, &m) < 0 || !m.len) {
			*addr = (uintptr_t)F.mrbuf;
			*len = 1 + rn(256);
			return (uint32_t)rnd();
		}
		uint64_t off = rnd() % m.len, room = m.len - off;

		*addr = m.addr + off;
		*len = (uint32_t)(1 + rnd() % (room < 8192 ? room : 8192));
		if (chance(5))
			*len += 1 + rn(64);		/* past the end of the MR */
		if (chance(3))
			*len = interesting32();
		return m.key;
	}
}

/* A send WQE; @sane: valid opcode/flags/counts and keys when possible. */
static void gen_swqe(struct ml_send_wqe *w, const struct obj *qp, int sane)
{
	int side = LD(&F.fd[qp->fdi].side), peer = 1 - side;
	uint64_t total = 0;

	memset(w, 0, sizeof(*w));
	if (!sane && chance(30)) {
		rnd_bytes(w, sizeof(*w));
		return;
	}
	w->wr_id = rnd();
	w->opcode = (uint8_t)(sane || chance(85) ? 1 + rn(5) : rnd());
	w->flags = ML_WR_F_SIGNALED;
	if (chance(15) && w->opcode != ML_WR_READ && (!sane || qp->inl))
		w->flags |= ML_WR_F_INLINE;
	if (!sane && chance(15))
		w->flags = (uint16_t)rnd();
	w->imm = (uint32_t)rnd();
	if (w->flags & ML_WR_F_INLINE) {
		w->inline_len = sane ? rn(qp->inl + 1) : chance(80) ? rn(65) : interesting32();
		rnd_bytes(w->inline_data, sizeof(w->inline_data));
		total = w->inline_len;
	} else {
		w->num_sge = (uint8_t)(sane || chance(85) ? rn(qp->sge_s + 1) : rnd());
		for (int i = 0; i < ML_MAX_SGE; i++) {
			uint64_t a;
			uint32_t l;

			w->sge[i].lkey = pick_key(qp, &a, &l, w->opcode == ML_WR_READ, sane);
			w->sge[i].addr = a;
			w->sge[i].length = !sane && chance(5) ? 0 : l;
			if (i < w->num_sge)
				total += w->sge[i].length;
		}
	}
	switch (sane ? 9 : rn(10)) {
	case 0: case 1:	/* the healthy MR of the other node */
		w->rkey = S->h[peer].rkey;
		w->remote_addr = S->h[peer].addr + rn((uint32_t)S->h[peer].len);
		break;
	case 2:
		w->rkey = (uint32_t)rnd();
		w->remote_addr = interesting64();
		break;
	default:	/* the MR the rendezvous partner published */
		w->rkey = qp->prkey;
		w->remote_addr = qp->paddr;
		if (qp->plen > total)
			w->remote_addr += rnd() % (qp->plen - total + 1);
		if (!sane && chance(10))
			w->remote_addr += qp->plen;
		break;
	}
}

static void gen_rwqe(struct ml_recv_wqe *w, const struct obj *qp, int sane)
{
	memset(w, 0, sizeof(*w));
	if (!sane && chance(30)) {
		rnd_bytes(w, sizeof(*w));
		return;
	}
	w->wr_id = rnd();
	w->num_sge = sane || chance(85) ? rn(qp->sge_r + 1) : interesting32();
	for (int i = 0; i < ML_MAX_SGE; i++) {
		uint64_t a;
		uint32_t l;

		w->sge[i].lkey = pick_key(qp, &a, &l, 1, sane);
		w->sge[i].addr = a;
		w->sge[i].length = l;
	}
}

static void ring_notify(const struct obj *qp)
{
	union ioc_buf u, out;
	struct fdent e;
	int overlap = 0;

	if (fd_get(qp->fdi, &e) || e.seq != qp->seq)
		return;
	build_valid(I_NOTIFY, qp->fdi, &u, &overlap);
	u.n.qp = qp->handle;
	do_ioctl(I_NOTIFY, qp->fdi, &e, &u, -1, &out, 0);
}

/* The QP object a mapping belongs to. */
static int map_qp(const struct mapent *m, struct obj *o)
{
	int r = -1;

	pthread_mutex_lock(&F.lk);
	for (int i = 0; i < NOBJ; i++) {
		struct obj *x = &F.obj[i];

		if (x->used && x->type == ML_OBJ_QP && x->fdi == m->fdi && x->seq == m->seq &&
		    x->handle == m->handle) {
			*o = *x;
			r = i;
			break;
		}
	}
	pthread_mutex_unlock(&F.lk);
	return r;
}

/* Garbage into a mapped ring, then the doorbell. */
static int op_ring(void)
{
	struct mapent m;
	struct obj qp;
	int have_qp;

	if (pick_map(-1, &m) < 0)
		return 0;
	have_qp = m.kind != RK_CQ && map_qp(&m, &qp) >= 0;
	if (!have_qp) {
		memset(&qp, 0, sizeof(qp));
		qp.fdi = m.fdi;
		qp.seq = m.seq;
		qp.handle = m.handle;
		qp.sge_s = qp.sge_r = 4;
		qp.inl = 64;
	}
	switch (m.kind) {
	case RK_CQ:
		switch (rn(6)) {
		case 0: safe_st(HDR(m.p, consumer), (uint32_t)rnd()); break;
		case 1: safe_st(HDR(m.p, consumer),
				safe_ld(HDR(m.p, producer)) - rn(m.entries * 2 + 1)); break;
		case 2: safe_st(HDR(m.p, armed), chance(50) ? 1 : (uint32_t)rnd()); break;
		case 3: safe_st(HDR(m.p, mask), (uint32_t)rnd());
			safe_st(HDR(m.p, flags), (uint32_t)rnd());
			safe_st(HDR(m.p, entry_size), (uint32_t)rnd()); break;
		case 4: safe_st(HDR(m.p, producer), (uint32_t)rnd()); break;
		case 5: safe_garbage(m.p + PG + rn((uint32_t)(m.len > PG ? m.len - PG : 1)), 64); break;
		}
		return 1;
	case RK_SQ:
	case RK_RQ:
	{
		uint32_t ent = m.entries ? m.entries : 1, prod = 0, nw = 1 + rn(8);
		size_t esz = m.kind == RK_SQ ? 128 : 80;
		uint8_t *slots = m.p + PG;
		int sane = chance(50);

		prod = safe_ld(HDR(m.p, producer));
		for (uint32_t i = 0; i < nw; i++) {
			union {
				struct ml_send_wqe s;
				struct ml_recv_wqe r;
			} w;
			size_t at = ((prod + i) & (ent - 1)) * esz;

			if (m.kind == RK_SQ)
				gen_swqe(&w.s, &qp, sane);
			else
				gen_rwqe(&w.r, &qp, sane);
			if (at + esz <= m.len - PG)
				safe_copy(slots + at, &w, esz);
		}
		switch (rn(8)) {
		case 0: prod += ent + 1 + rn(1000); break;	/* far ahead */
		case 1: prod -= 1 + rn(4); break;		/* backwards */
		case 2: prod = (uint32_t)rnd(); break;
		case 3: safe_st(HDR(m.p, consumer), (uint32_t)rnd()); prod += nw; break;
		case 4: safe_st(HDR(m.p, mask), (uint32_t)rnd());
			safe_st(HDR(m.p, entry_size), (uint32_t)rnd());
			prod += nw; break;
		default: prod += nw; break;
		}
		safe_st(HDR(m.p, producer), prod);
		if (m.kind == RK_SQ || chance(30))
			ring_notify(&qp);
		return 1;
	}
	}
	return 0;
}

/* Post WRs on a connected QP, mostly well-formed, through its rings. */
static int op_post(void)
{
	struct obj qp;
	struct mapent sq, rq;
	int si, ri, posted = 0;

	if (pick_obj(ML_OBJ_QP, -1, &qp) < 0)
		return 0;
	if (!qp.connected && chance(70))
		return 0;
	si = find_map(qp.fdi, qp.seq, qp.handle, RK_SQ, &sq);
	ri = find_map(qp.fdi, qp.seq, qp.handle, RK_RQ, &rq);
	if (si < 0 || ri < 0) {
		/* map both rings now */
		struct fdent e;

		if (fd_get(qp.fdi, &e) || e.seq != qp.seq)
			return 0;
		for (int r = 0; r < 2; r++) {
			struct mapent x;
			void *p;

			if (find_map(qp.fdi, qp.seq, qp.handle, r ? RK_RQ : RK_SQ, &x) >= 0)
				continue;
			p = mmap(NULL, qp.msz[r], PROT_READ | PROT_WRITE, MAP_SHARED, e.fd,
				 (off_t)qp.off[r]);
			if (p == MAP_FAILED)
				return 0;
			x = (struct mapent){ .p = p, .len = qp.msz[r], .kind = r ? RK_RQ : RK_SQ,
					     .entries = qp.ent[r], .fdi = qp.fdi, .seq = qp.seq,
					     .handle = qp.handle };
			x.local = safe_ld(HDR(p, producer));
			map_add(&x);
		}
		return 1;
	}
	/* receives first, so that the peer's SENDs find them */
	for (uint32_t i = 0, n = rn(5); i < n; i++) {
		uint32_t cons = safe_ld(HDR(rq.p, consumer)), prod = rq.local;
		struct ml_recv_wqe w;

		if (prod - cons >= rq.entries)
			break;
		gen_rwqe(&w, &qp, chance(85));
		if (safe_copy(rq.p + PG + (size_t)(prod & (rq.entries - 1)) * 80, &w, 80))
			break;
		safe_st(HDR(rq.p, producer), prod + 1);
		rq.local = prod + 1;
	}
	map_set_local(ri, &rq, rq.local);
	for (uint32_t i = 0, n = 1 + rn(6); i < n; i++) {
		uint32_t cons = safe_ld(HDR(sq.p, consumer)), prod = sq.local;
		struct ml_send_wqe w;

		if (prod - cons >= sq.entries)
			break;
		gen_swqe(&w, &qp, chance(85));
		if (safe_copy(sq.p + PG + (size_t)(prod & (sq.entries - 1)) * 128, &w, 128))
			break;
		safe_st(HDR(sq.p, producer), prod + 1);
		sq.local = prod + 1;
		posted++;
	}
	map_set_local(si, &sq, sq.local);
	if (posted)
		ring_notify(&qp);
	return posted > 0;
}

/* DESTROY (type, handle) of @qp's file; returns 0 or -errno. */
static int destroy_of(const struct obj *qp, uint32_t type, uint32_t handle)
{
	union ioc_buf u, out;
	struct fdent e;

	if (fd_get(qp->fdi, &e) || e.seq != qp->seq)
		return -EBADF;
	memset(&u, 0, sizeof(u));
	u.d = (struct ml_destroy){ .size = sizeof(u.d), .type = type, .handle = handle };
	return do_ioctl(I_DESTROY, qp->fdi, &e, &u, -1, &out, 0);
}

/* The live object (type, handle) of fd slot @fdi as the table has it. */
static int obj_find(int fdi, unsigned int seq, uint32_t type, uint32_t handle, struct obj *o)
{
	int r = -1;

	pthread_mutex_lock(&F.lk);
	for (int i = 0; i < NOBJ; i++) {
		struct obj *x = &F.obj[i];

		if (x->used && x->fdi == fdi && x->seq == seq && x->type == type &&
		    x->handle == handle) {
			*o = *x;
			r = i;
			break;
		}
	}
	pthread_mutex_unlock(&F.lk);
	return r;
}

/*
 * A fresh scene for op_inuse(): on one fd, a QP (1 send SGE) and an MR of
 * one PD, its SQ mapped, connected to the other node with a QP number
 * nobody has and a long retry budget, so that its WRs stay outstanding.
 */
static int inuse_scene(struct obj *qp, struct obj *mr, struct mapent *sq, int *si)
{
	union ioc_buf u, out;
	struct fdent e;
	struct obj pd, cq;
	int fdi = pick_fd(&e), overlap = 0;
	void *p;

	if (fdi < 0 || e.kind != FK_ML)
		return -1;
	if (pick_obj(ML_OBJ_PD, fdi, &pd) < 0 || pd.fdi != fdi || pd.seq != e.seq ||
	    pick_obj(ML_OBJ_CQ, fdi, &cq) < 0 || cq.fdi != fdi || cq.seq != e.seq)
		return -1;
	build_valid(I_QP, fdi, &u, &overlap);
	u.qp.pd = pd.handle;
	u.qp.send_cq = u.qp.recv_cq = cq.handle;
	u.qp.sq_entries = u.qp.rq_entries = 8;
	u.qp.max_send_sge = 1 + rn(4);
	if (do_ioctl(I_QP, fdi, &e, &u, -1, &out, 0) ||
	    obj_find(fdi, e.seq, ML_OBJ_QP, out.qp.out_handle, qp) < 0)
		return -1;
	build_valid(I_MR, fdi, &u, &overlap);
	u.mr.pd = pd.handle;
	u.mr.access = ML_ACCESS_LOCAL_WRITE;
	u.mr.addr = (uintptr_t)F.mrbuf + rn(MRBUF / 2);
	u.mr.length = 1 + rn(65536);
	if (do_ioctl(I_MR, fdi, &e, &u, -1, &out, 0) ||
	    obj_find(fdi, e.seq, ML_OBJ_MR, out.mr.out_handle, mr) < 0)
		return -1;
	p = mmap(NULL, qp->msz[0], PROT_READ | PROT_WRITE, MAP_SHARED, e.fd, (off_t)qp->off[0]);
	if (p == MAP_FAILED)
		return -1;
	*sq = (struct mapent){ .p = p, .len = qp->msz[0], .kind = RK_SQ, .entries = qp->ent[0],
			       .fdi = fdi, .seq = e.seq, .handle = qp->handle };
	map_add(sq);
	*si = find_map(fdi, e.seq, qp->handle, RK_SQ, sq);
	build_valid(I_CONNECT, fdi, &u, &overlap);
	u.c.qp = qp->handle;
	u.c.remote_node = F.node[1 - e.side];
	u.c.remote_qpn = 0xf00000 + rn(0xfffff);
	u.c.timeout_ms = 1000 + rn(1001);
	u.c.retry_cnt = 15;
	if (*si < 0 || do_ioctl(I_CONNECT, fdi, &e, &u, -1, &out, 0))
		return -1;
	qp->connected = 1;
	return 0;
}

/*
 * Lifetimes: a WR that uses an MR is posted on a QP, then the MR is
 * destroyed while the WR may still be in flight (allowed: the WR keeps
 * it), then the QP is destroyed, moved to error by a bad WQE, or left for
 * close() and SIGKILL.  The PD and CQs of a live QP must refuse DESTROY.
 */
static int op_inuse(void)
{
	struct obj qp, mr;
	struct mapent sq;
	int si, found = 0, r;

	if (chance(50)) {
		if (inuse_scene(&qp, &mr, &sq, &si))
			return 0;
	} else {
		/* a connected QP whose WRs can carry an SGE */
		for (int tries = 0; tries < 8 && !found; tries++)
			found = pick_obj(ML_OBJ_QP, -1, &qp) >= 0 && qp.connected && qp.sge_s;
		if (!found && pick_obj(ML_OBJ_QP, -1, &qp) < 0)
			return 0;
		found = 0;
		for (int tries = 0; tries < 6 && !found; tries++)
			found = pick_obj(ML_OBJ_MR, qp.fdi, &mr) >= 0 && mr.fdi == qp.fdi &&
				mr.seq == qp.seq && mr.pd == qp.pd && mr.len &&
				mr.len < (1ULL << 32);
		si = find_map(qp.fdi, qp.seq, qp.handle, RK_SQ, &sq);
		if (!found || si < 0)
			return op_post();	/* maps the rings, posts: next time */
	}

	/* the PD and the CQs are in use: EBUSY */
	if (chance(20)) {
		uint32_t t = chance(50) ? ML_OBJ_PD : ML_OBJ_CQ;
		uint32_t h = t == ML_OBJ_PD ? qp.pd : (uint32_t)0;

		if (t == ML_OBJ_CQ) {
			struct obj cq;

			if (pick_obj(ML_OBJ_CQ, qp.fdi, &cq) < 0)
				return 0;
			h = cq.handle;	/* maybe not this QP's: any answer but success is fine */
			r = destroy_of(&qp, t, h);
			return r == 0;
		}
		r = destroy_of(&qp, t, h);
		if (r == 0 && fd_same(qp.fdi, qp.seq)) {
			/* unless another thread destroyed the QP meanwhile */
			struct ml_query_qp q = { .size = sizeof(q), .qp = qp.handle };
			struct fdent e;

			if (!fd_get(qp.fdi, &e) && e.seq == qp.seq &&
			    !ioctl(e.fd, ML_IOCTL_QUERY_QP, &q) && q.qpn == qp.qpn)
				anomaly("DESTROY of PD %u succeeded while QP %u (handle %u) "
					"uses it", h, qp.qpn, qp.handle);
		}
		return r == 0;
	}

	/* one WR over the MR */
	uint32_t cons = safe_ld(HDR(sq.p, consumer)), prod = sq.local;
	struct ml_send_wqe w;

	if (prod - cons < sq.entries) {
		memset(&w, 0, sizeof(w));
		w.wr_id = rnd();
		w.opcode = (uint8_t)(chance(50) ? ML_WR_WRITE : ML_WR_SEND);
		w.flags = ML_WR_F_SIGNALED;
		w.num_sge = qp.sge_s ? 1 : 0;
		w.sge[0].lkey = mr.key;
		w.sge[0].addr = mr.addr;
		w.sge[0].length = (uint32_t)(mr.len < 65536 ? mr.len : 65536);
		w.rkey = qp.prkey ? qp.prkey : (uint32_t)rnd();
		w.remote_addr = qp.paddr;
		if (!safe_copy(sq.p + PG + (size_t)(prod & (sq.entries - 1)) * 128, &w, 128)) {
			safe_st(HDR(sq.p, producer), prod + 1);
			map_set_local(si, &sq, prod + 1);
			ring_notify(&qp);
		}
	}
	/* mostly: until the kernel has taken the WR (it then holds the MR) */
	for (int i = 0, n = chance(80) ? 30 : (int)rn(3); i < n; i++) {
		struct ml_query_qp q = { .size = sizeof(q), .qp = qp.handle };
		struct fdent e;

		if (fd_get(qp.fdi, &e) || e.seq != qp.seq ||
		    ioctl(e.fd, ML_IOCTL_QUERY_QP, &q) || q.outstanding || q.state != ML_QPS_RTS)
			break;
		usleep(5000);
	}
	if (F.avoid_known) {
		/* BUG-1 of bugs-fuzz-chardev.md: the QP goes first */
		destroy_of(&qp, ML_OBJ_QP, qp.handle);
	}
	r = destroy_of(&qp, ML_OBJ_MR, mr.handle);
	if (r && r != -ENOENT && r != -EBADF && fd_same(qp.fdi, qp.seq))
		anomaly("DESTROY of MR %u (in use by a WR) failed: %s; MRs can always be destroyed",
			mr.handle, strerror(-r));
	switch (rn(4)) {
	case 0:
		destroy_of(&qp, ML_OBJ_QP, qp.handle);
		break;
	case 1:
		memset(&w, 0, sizeof(w));
		w.opcode = 0x77;
		prod = sq.local + 1;
		if (!safe_copy(sq.p + PG + (size_t)(prod & (sq.entries - 1)) * 128, &w, 128)) {
			safe_st(HDR(sq.p, producer), prod + 1);
			map_set_local(si, &sq, prod + 1);
			ring_notify(&qp);
		}
		break;
	default:	/* left for close() or SIGKILL */
		break;
	}
	return r == 0;
}

static int op_cqdrain(void)
{
	struct mapent m;
	int i = pick_map(RK_CQ, &m), n = 0;

	if (i < 0)
		return 0;
	uint32_t prod = safe_ld(HDR(m.p, producer)), cons = m.local;
	uint32_t ent = m.entries ? m.entries : 1;

	if (prod - cons > ent)
		cons = prod - ent;
	for (; cons != prod && n < 64; cons++, n++) {
		struct ml_cqe c = { 0 };

		if (safe_copy(&c, m.p + PG + (size_t)(cons & (ent - 1)) * 32, 32))
			break;
		INC(&S->wc[c.status < 15 ? c.status : 15]);
	}
	safe_st(HDR(m.p, consumer), cons);
	if (chance(30))
		safe_st(HDR(m.p, armed), 1);
	map_set_local(i, &m, cons);
	return n > 0;
}

static void rec_published(struct obj *o, const void *arg)
{
	(void)arg;
	o->published = 1;
}

static void rec_peer(struct obj *o, const void *arg)
{
	const struct rv *r = arg;

	o->prkey = r->prkey;
	o->paddr = r->paddr;
	o->plen = r->plen;
}

static int rv_connect(const struct obj *qp, uint32_t node, uint32_t qpn)
{
	union ioc_buf u, out;
	struct fdent e;
	int overlap = 0;

	if (fd_get(qp->fdi, &e) || e.seq != qp->seq)
		return -1;
	build_valid(I_CONNECT, qp->fdi, &u, &overlap);
	u.c.qp = qp->handle;
	u.c.remote_node = node;
	u.c.remote_qpn = qpn;
	u.c.timeout_ms = 20 + rn(200);
	u.c.retry_cnt = (uint8_t)(2 + rn(6));
	u.c.rnr_retry = (uint8_t)(2 + rn(6));
	u.c.rnr_timer_ms = 1 + rn(20);
	return do_ioctl(I_CONNECT, qp->fdi, &e, &u, -1, &out, 0);
}

/* Rendezvous: publish an unconnected QP, claim another's, finish a claim. */
static int op_rdv(void)
{
	struct obj qp, mr;
	uint64_t t = now_ms();
	int side;

	/* sweep stale slots */
	for (int s = 0; s < 2; s++) {
		for (int i = 0; i < RVN; i++) {
			struct rv *r = &S->rv[s][i];
			uint32_t st = LD(&r->state);

			if (st && t - LD(&r->t_ms) > 5000 &&
			    __atomic_compare_exchange_n(&r->state, &st, 0, 0, __ATOMIC_ACQ_REL,
							__ATOMIC_RELAXED))
				continue;
		}
	}
	/* finish our claimed slots */
	for (int s = 0; s < 2; s++) {
		for (int i = 0; i < RVN; i++) {
			struct rv *r = &S->rv[s][i];
			uint32_t st = 3;

			if (LD(&r->owner) != (uint32_t)getpid() || LD(&r->state) != 3)
				continue;
			if (!__atomic_compare_exchange_n(&r->state, &st, 1, 0, __ATOMIC_ACQ_REL,
							 __ATOMIC_RELAXED))
				continue;
			struct rv copy = *r;

			ST(&r->state, 0);
			pthread_mutex_lock(&F.lk);
			int found = -1;

			for (int k = 0; k < NOBJ; k++)
				if (F.obj[k].used && F.obj[k].type == ML_OBJ_QP &&
				    F.obj[k].qpn == copy.qpn &&
				    LD(&F.fd[F.obj[k].fdi].side) == s && !F.obj[k].connected)
					found = k;
			if (found >= 0)
				qp = F.obj[found];
			pthread_mutex_unlock(&F.lk);
			if (found < 0)
				continue;
			obj_update(qp.fdi, qp.seq, ML_OBJ_QP, qp.handle, rec_peer, &copy);
			return rv_connect(&qp, F.node[1 - s], copy.pqpn) == 0;
		}
	}
	if (pick_obj(ML_OBJ_QP, -1, &qp) < 0 || qp.connected || qp.published)
		return 0;
	side = LD(&F.fd[qp.fdi].side);
	memset(&mr, 0, sizeof(mr));
	for (int tries = 0; tries < 4; tries++)
		if (pick_obj(ML_OBJ_MR, qp.fdi, &mr) >= 0 && mr.pd == qp.pd && mr.fdi == qp.fdi)
			break;
	if (mr.pd != qp.pd || mr.fdi != qp.fdi)
		mr.key = (uint32_t)rnd();

	if (chance(50)) {
		/* claim a published QP of the other node */
		for (int i = 0; i < RVN; i++) {
			struct rv *r = &S->rv[1 - side][rn(RVN)];
			uint32_t st = 2;

			if (LD(&r->state) != 2)
				continue;
			if (!__atomic_compare_exchange_n(&r->state, &st, 1, 0, __ATOMIC_ACQ_REL,
							 __ATOMIC_RELAXED))
				continue;
			struct rv copy = *r;

			r->pqpn = qp.qpn;
			r->prkey = mr.key;
			r->paddr = mr.addr;
			r->plen = mr.len;
			ST(&r->t_ms, t);
			ST(&r->state, 3);
			obj_update(qp.fdi, qp.seq, ML_OBJ_QP, qp.handle, rec_peer,
				   &(struct rv){ .prkey = copy.rkey, .paddr = copy.addr,
						 .plen = copy.len });
			return rv_connect(&qp, F.node[1 - side], copy.qpn) == 0;
		}
		return 0;
	}
	/* publish */
	for (int i = 0; i < RVN; i++) {
		struct rv *r = &S->rv[side][i];
		uint32_t st = 0;

		if (!__atomic_compare_exchange_n(&r->state, &st, 1, 0, __ATOMIC_ACQ_REL,
						 __ATOMIC_RELAXED))
			continue;
		r->owner = (uint32_t)getpid();
		r->qpn = qp.qpn;
		r->rkey = mr.key;
		r->addr = mr.addr;
		r->len = mr.len;
		ST(&r->t_ms, t);
		ST(&r->state, 2);
		obj_update(qp.fdi, qp.seq, ML_OBJ_QP, qp.handle, rec_published, NULL);
		return 1;
	}
	return 0;
}

/* Close an fd while other threads use it; reopen, dup or dup2 over it. */
static int op_close(void)
{
	int i = (int)rn(NFD), nfd = -1, kind = FK_NONE, side = 0, old;
	unsigned int s;

	pthread_mutex_lock(&F.lk);
	s = F.fd[i].seq;
	ST(&F.fd[i].seq, s + 1);
	old = F.fd[i].fd;
	if (F.fd[i].kind != FK_NONE && chance(15)) {
		/* dup2 /dev/null over it: same number, other file */
		int dn = open("/dev/null", O_RDWR | O_CLOEXEC);

		if (dn >= 0) {
			dup3(dn, old, O_CLOEXEC);
			close(dn);
			nfd = old;
			kind = FK_OTHER;
		}
	} else {
		if (F.fd[i].kind != FK_NONE)
			close(old);
		switch (rn(10)) {
		case 0:
			nfd = open("/dev/null", O_RDWR | O_CLOEXEC);
			kind = FK_OTHER;
			break;
		case 1: case 2:	/* dup another megalink fd: one file, two slots */
		{
			int j = (int)rn(NFD);

			if (F.fd[j].kind == FK_ML && j != i) {
				nfd = fcntl(F.fd[j].fd, F_DUPFD_CLOEXEC, 0);
				kind = FK_ML;
				side = F.fd[j].side;
			}
			break;
		}
		case 3:
			break;	/* stays closed for a while */
		default:
		{
			char path[64];

			side = (int)rn(2);
			snprintf(path, sizeof(path), "/dev/megalink/%s", F.dev[side]);
			nfd = open(path, (chance(90) ? O_RDWR : O_RDONLY) | O_CLOEXEC);
			kind = FK_ML;
			break;
		}
		}
	}
	if (nfd < 0)
		kind = FK_NONE;
	ST(&F.fd[i].fd, nfd);
	ST(&F.fd[i].kind, kind);
	ST(&F.fd[i].side, side);
	/* objects of the old file are gone with it (or live on unnamed) */
	for (int k = 0; k < NOBJ; k++)
		if (F.obj[k].used && F.obj[k].fdi == i)
			F.obj[k].used = 0;
	ST(&F.fd[i].seq, s + 2);
	pthread_mutex_unlock(&F.lk);
	return nfd >= 0;
}

static int op_poll(void)
{
	struct mapent m;
	struct pollfd p[2];
	struct fdent e;
	int n = 0, fdi;

	if (pick_map(RK_CQ, &m) >= 0)
		safe_st(HDR(m.p, armed), 1);
	for (int i = 0; i < 2; i++) {
		fdi = pick_fd(&e);
		if (fdi < 0)
			continue;
		p[n].fd = e.fd;
		p[n].events = POLLIN | POLLOUT | POLLPRI;
		n++;
	}
	if (n && chance(30)) {
		/* epoll: the fd may be closed by another thread while registered */
		struct epoll_event ev = { .events = EPOLLIN | EPOLLET }, out[4];
		int ep = epoll_create1(EPOLL_CLOEXEC), r = 0;

		if (ep < 0)
			return 0;
		for (int i = 0; i < n; i++)
			epoll_ctl(ep, EPOLL_CTL_ADD, p[i].fd, &ev);
		r = epoll_wait(ep, out, 4, (int)rn(20)) >= 0;
		close(ep);
		return r;
	}
	return n && poll(p, (nfds_t)n, (int)rn(20)) >= 0;
}

static int op_misc(void)
{
	struct fdent e;
	char b[64];
	int fdi = pick_fd(&e), r = 0;
	void *p;

	if (fdi < 0)
		return 0;
	switch (rn(8)) {
	case 0: r = read(e.fd, b, sizeof(b)) >= 0; break;
	case 1: r = write(e.fd, b, sizeof(b)) >= 0; break;
	case 2: r = lseek(e.fd, (off_t)rnd(), SEEK_SET) >= 0; break;
	case 3:
	{
		struct stat st;

		r = fstat(e.fd, &st) == 0;
		break;
	}
	case 4:
		r = fcntl(e.fd, F_SETFL, (int)(rnd() & (O_NONBLOCK | O_ASYNC | O_APPEND))) == 0;
		break;
	case 5:
	{
		int on = (int)rn(2);

		r = ioctl(e.fd, chance(50) ? FIONBIO : FIOASYNC, &on) == 0;
		break;
	}
	case 6:	/* mmap at a random page offset */
		p = mmap(NULL, PG * (1 + rn(4)), PROT_READ | PROT_WRITE, MAP_SHARED, e.fd,
			 (off_t)((uint64_t)rn(4096) << 12));
		if (p != MAP_FAILED) {
			r = 1;
			munmap(p, PG);
		}
		break;
	case 7:
		r = fsync(e.fd) == 0;
		break;
	}
	return r;
}

/* REG_MR over odd memory. */
static int op_mrodd(void)
{
	union ioc_buf u, out;
	struct fdent e;
	int fdi = pick_fd(&e), overlap = 0, r, must_fail = 0;
	void *scratch = NULL;
	size_t slen = 0;
	int memfd = -1;
	const char *what = "?";

	if (fdi < 0 || e.kind != FK_ML)
		return 0;
	build_valid(I_MR, fdi, &u, &overlap);
	switch (rn(8)) {
	case 0:	/* unmapped right after registration */
	case 1:
		slen = PG * (1 + rn(16));
		scratch = mmap(NULL, slen, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (scratch == MAP_FAILED)
			return 0;
		memset(scratch, 0x5a, slen);
		u.mr.addr = (uintptr_t)scratch + rn(PG);
		u.mr.length = slen - (u.mr.addr - (uintptr_t)scratch);
		what = "anon, unmapped after";
		break;
	case 2:	/* read-only view */
		u.mr.addr = (uintptr_t)T->ro + rn(PG / 2);
		u.mr.length = 1 + rn(PG / 2);
		u.mr.access = chance(50) ? 0 : ML_ACCESS_LOCAL_WRITE;
		must_fail = u.mr.access != 0;
		what = "read-only";
		break;
	case 3:	/* PROT_NONE guard */
		u.mr.addr = (uintptr_t)T->arg + 2 * PG + rn(PG);
		u.mr.length = 1 + rn(PG);
		must_fail = 1;
		what = "PROT_NONE";
		break;
	case 4:	/* memfd, truncated while pinned */
		memfd = (int)syscall(SYS_memfd_create, "fzmr", 1u /* MFD_CLOEXEC */);
		if (memfd < 0 || ftruncate(memfd, 16 * PG))
			goto out;
		slen = 16 * PG;
		scratch = mmap(NULL, slen, PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0);
		if (scratch == MAP_FAILED) {
			scratch = NULL;
			goto out;
		}
		memset(scratch, 1, slen);
		u.mr.addr = (uintptr_t)scratch;
		u.mr.length = slen;
		what = "memfd";
		break;
	case 5:	/* /dev/zero private */
	{
		int z = open("/dev/zero", O_RDWR | O_CLOEXEC);

		if (z < 0)
			return 0;
		slen = 8 * PG;
		scratch = mmap(NULL, slen, PROT_READ | PROT_WRITE, MAP_PRIVATE, z, 0);
		close(z);
		if (scratch == MAP_FAILED)
			return 0;
		u.mr.addr = (uintptr_t)scratch;
		u.mr.length = slen;
		what = "/dev/zero";
		break;
	}
	case 6:	/* a ring */
	{
		struct mapent m;

		if (pick_map(-1, &m) < 0)
			return 0;
		u.mr.addr = (uintptr_t)m.p;
		u.mr.length = m.len;
		what = "ring";
		break;
	}
	case 7:	/* around the end of the user address space */
		u.mr.addr = 0x7ffffffff000ULL - rn(4) * PG + rn(PG);
		u.mr.length = 1 + rn(4 * PG);
		must_fail = 1;
		what = "top of user space";
		break;
	}
	r = do_ioctl(I_MR, fdi, &e, &u, -1, &out, overlap);
	if (r == 0 && must_fail && fd_same(fdi, e.seq))
		anomaly("REG_MR over %s memory (addr 0x%llx len %llu access %u) succeeded", what,
			(unsigned long long)u.mr.addr, (unsigned long long)u.mr.length,
			u.mr.access);
out:
	if (memfd >= 0) {
		if (ftruncate(memfd, chance(50) ? 0 : PG)) {
			/* nothing */
		}
		close(memfd);
	}
	if (scratch)
		munmap(scratch, slen);
	return 1;
}

/*
 * fork(): the child (no locks, no malloc) scribbles on the inherited rings,
 * issues raw ioctls on the inherited fds, closes some, and exits or kills
 * itself.  The parent waits 0.2 to 1.2 s, then SIGKILLs it.
 */
static int op_fork(void)
{
	struct fdent fds[NFD];
	struct mapent maps[NMAP];
	struct obj ob[4];
	int nob = 0;
	pid_t pid;
	int st;

	for (int i = 0; i < NFD; i++)
		if (fd_get(i, &fds[i]))
			fds[i].kind = FK_NONE;
	/* a few real handles: the child must not take the lock */
	for (int i = 0; i < 4; i++)
		if (pick_obj(i == 0 ? ML_OBJ_PD : i == 1 ? ML_OBJ_MR : ML_OBJ_QP, -1, &ob[nob]) >= 0)
			nob++;
	pthread_mutex_lock(&F.lk);
	memcpy(maps, F.map, sizeof(maps));
	pthread_mutex_unlock(&F.lk);
	INC(&S->forks);
	pid = fork();
	if (pid < 0)
		return 0;
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		alarm(3);
		for (int it = 0, n = 3 + (int)rn(20); it < n; it++) {
			int i = (int)rn(NFD);
			struct mapent *m = &maps[rn(NMAP)];

			struct obj *o = nob ? &ob[rn((uint32_t)nob)] : NULL;
			union ioc_buf u;

			switch (rn(8)) {
			case 6:	/* real objects, used from another mm */
				if (!o || fds[o->fdi].kind != FK_ML)
					break;
				memset(&u, 0, sizeof(u));
				if (o->type == ML_OBJ_PD) {
					/* pins the child's own (copied) pages */
					u.mr = (struct ml_reg_mr){ .size = sizeof(u.mr), .pd = o->handle,
						.access = ML_ACCESS_ALL, .addr = (uintptr_t)F.mrbuf +
						rn(MRBUF / 2), .length = 1 + rn(MRBUF / 2) };
					ioctl(fds[o->fdi].fd, ML_IOCTL_REG_MR, &u);
				} else if (o->type == ML_OBJ_QP) {
					u.n = (struct ml_notify){ .size = sizeof(u.n), .qp = o->handle };
					ioctl(fds[o->fdi].fd, ML_IOCTL_NOTIFY, &u);
				} else {
					u.d = (struct ml_destroy){ .size = sizeof(u.d), .type = o->type,
						.handle = o->handle };
					ioctl(fds[o->fdi].fd, ML_IOCTL_DESTROY, &u);
				}
				break;
			case 7:	/* write into the copied buffer that MRs of the parent cover */
				F.mrbuf[rn(MRBUF)] ^= 0xff;
				break;
			case 0: case 1:
				if (fds[i].kind != FK_NONE) {
					int k = (int)rn(NIOC);

					rnd_bytes(T->arg, 128);
					T->arg[0] = (uint8_t)ioc[k].ksz;
					memset(T->arg + 1, 0, 3);
					ioctl(fds[i].fd, ioc[k].cmd, T->arg);
				}
				break;
			case 2:
				if (m->used)
					safe_garbage(m->p, 256);
				break;
			case 3:
				if (m->used && m->len > PG)
					safe_garbage(m->p + PG, m->len - PG);
				break;
			case 4:
				if (fds[i].kind != FK_NONE && chance(30))
					close(fds[i].fd);
				break;
			case 5:
				if (m->used && chance(20))
					munmap(m->p, m->len);
				break;
			}
		}
		if (chance(30))
			kill(getpid(), SIGKILL);
		_exit(0);
	}
	for (int i = 0, n = 20 + (int)rn(100); i < n; i++) {
		if (waitpid(pid, &st, WNOHANG) == pid)
			return 1;
		usleep(10000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
	return 1;
}

/* ------------------------------------------------------------------ */
/* fuzzer process                                                      */
/* ------------------------------------------------------------------ */

static int pick_kind(void)
{
	static unsigned int total;
	unsigned int x;

	if (!total)
		for (int i = 0; i < NKIND; i++)
			total += kind_weight[i];
	x = rn(total);
	for (int i = 0; i < NKIND; i++) {
		if (x < kind_weight[i])
			return i;
		x -= kind_weight[i];
	}
	return K_IOCTL;
}

static void *fz_thread(void *arg)
{
	T = arg;
	while (!F.stop && !LD(&S->fuzz_stop)) {
		int k = pick_kind(), ok = 0;
		double t0 = now_s();

		switch (k) {
		case K_IOCTL: ok = op_ioctl(65, -1); break;
		case K_RANDCMD: ok = op_randcmd(); break;
		case K_BADPTR: ok = op_badptr(); break;
		case K_CREATE: ok = op_create(); break;
		case K_DESTROY: ok = op_destroy(); break;
		case K_MMAP: ok = op_mmap(); break;
		case K_MUNMAP: ok = op_munmap(); break;
		case K_RING: ok = op_ring(); break;
		case K_POST: ok = op_post(); break;
		case K_CONNECT: ok = op_connect(); break;
		case K_RDV: ok = op_rdv(); break;
		case K_CLOSE: ok = op_close(); break;
		case K_POLL: ok = op_poll(); break;
		case K_FORK: ok = op_fork(); break;
		case K_MRODD: ok = op_mrodd(); break;
		case K_CQDRAIN: ok = op_cqdrain(); break;
		case K_MISC: ok = op_misc(); break;
		case K_INUSE: ok = op_inuse(); break;
		}
		INC(&S->cnt[F.slot][k]);
		ADD(&S->usec[F.slot][k], (uint64_t)((now_s() - t0) * 1e6));
		if (ok)
			INC(&S->okc[F.slot][k]);
	}
	return NULL;
}

static int ns_enter(const char *name)
{
	char path[128];
	int fd, r;

	snprintf(path, sizeof(path), "/run/netns/%s", name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	r = setns(fd, CLONE_NEWNET);
	close(fd);
	return r;
}

static void drop_all_caps(void)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];

	memset(d, 0, sizeof(d));
	if (syscall(SYS_capset, &h, d))
		fprintf(stderr, "fuzz_chardev: capset: %s\n", strerror(errno));
}

static void *xmap(size_t len, int prot)
{
	void *p = mmap(NULL, len, prot, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED) {
		fprintf(stderr, "fuzz_chardev: mmap %zu: %s\n", len, strerror(errno));
		_exit(2);
	}
	return p;
}

static void fz_main(int slot, int side, uint64_t seed, int nthr, double lifetime)
{
	struct sigaction sa;
	struct thr main_thr = { .id = -1 };
	pthread_attr_t at;

	setpgid(0, 0);
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	memset(&F, 0, sizeof(F));
	F.slot = slot;
	F.side = side;
	F.seed = seed;
	F.nthr = nthr;
	F.node[0] = S->node[0];
	F.node[1] = S->node[1];
	F.dev[0] = dp_env.dev[0];
	F.dev[1] = dp_env.dev[1];
	pthread_mutex_init(&F.lk, NULL);
	main_thr.rs = seed;
	T = &main_thr;
	if (ns_enter(dp_env.ns[side]))
		fprintf(stderr, "fuzz_chardev: setns %s: %s\n", dp_env.ns[side], strerror(errno));
	if (nice(5) < 0) {
		/* ignore */
	}
	mallopt(M_ARENA_MAX, 1);
	F.capable = !((slot >> 1) & 1);
	F.avoid_known = getenv("ML_FUZZ_AVOID_KNOWN") && !strcmp(getenv("ML_FUZZ_AVOID_KNOWN"), "1");
	if (!F.capable) {
		struct rlimit rl = { 2u << 20, 2u << 20 };

		setrlimit(RLIMIT_MEMLOCK, &rl);
		drop_all_caps();
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_fault;
	sa.sa_flags = SA_SIGINFO | SA_NODEFER;
	sigaction(SIGSEGV, &sa, NULL);
	sigaction(SIGBUS, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGIO, SIG_IGN);
	signal(SIGURG, SIG_IGN);

	F.mrbuf = xmap(MRBUF, PROT_READ | PROT_WRITE);
	memset(F.mrbuf, 0x33, MRBUF);
	for (int i = 0; i < NFD; i++) {
		char path[64];
		int s = i == 2 ? 1 - side : side;

		F.fd[i].fd = -1;
		if (i >= 4)
			continue;
		snprintf(path, sizeof(path), "/dev/megalink/%s", F.dev[s]);
		F.fd[i].fd = open(path, O_RDWR | O_CLOEXEC);
		if (F.fd[i].fd >= 0) {
			F.fd[i].kind = FK_ML;
			F.fd[i].side = s;
		}
	}
	pthread_attr_init(&at);
	pthread_attr_setstacksize(&at, 256 << 10);
	for (int i = 0; i < nthr; i++) {
		struct thr *t = &F.thr[i];
		int mfd;

		t->id = i;
		t->rs = seed ^ ((uint64_t)(i + 1) * 0xD1B54A32D192ED03ULL);
		splitmix(&t->rs);
		t->arg = xmap(3 * PG, PROT_READ | PROT_WRITE);
		mprotect(t->arg + 2 * PG, PG, PROT_NONE);
		t->ports = xmap(10 * PG, PROT_READ | PROT_WRITE);
		mprotect(t->ports + 9 * PG, PG, PROT_NONE);
		mfd = (int)syscall(SYS_memfd_create, "fzro", 1u);
		if (mfd < 0 || ftruncate(mfd, PG)) {
			fprintf(stderr, "fuzz_chardev: memfd: %s\n", strerror(errno));
			_exit(2);
		}
		t->ro_rw = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
		t->ro = mmap(NULL, PG, PROT_READ, MAP_SHARED, mfd, 0);
		close(mfd);
		if (t->ro_rw == MAP_FAILED || t->ro == MAP_FAILED)
			_exit(2);
		if (pthread_create(&t->pt, &at, fz_thread, t)) {
			fprintf(stderr, "fuzz_chardev: pthread_create failed\n");
			_exit(2);
		}
	}
	for (double end = now_s() + lifetime; now_s() < end && !LD(&S->fuzz_stop);)
		usleep(20000);
	if (LD(&S->fuzz_stop) || chance(50)) {
		INC(&S->exits_abrupt);
		_exit(0);	/* every thread dies wherever it is */
	}
	F.stop = 1;
	for (int i = 0; i < nthr; i++)
		pthread_join(F.thr[i].pt, NULL);
	for (int i = 0; i < NFD; i++)
		if (F.fd[i].kind != FK_NONE)
			close(F.fd[i].fd);
	INC(&S->exits_clean);
	_exit(0);
}

/* ------------------------------------------------------------------ */
/* healthy pair                                                        */
/* ------------------------------------------------------------------ */

static uint64_t healthy_seed;

static void healthy(struct dp_node *n, void *arg)
{
	struct dp_setup s = { .buflen = HBUF, .nqp = 2, .sq = 64, .rq = 64 };
	uint64_t rs = healthy_seed;
	int post = 0;

	(void)arg;
	dp_node_setup(n, &s);
	memset(n->buf, DP_FILLER, n->len);
	S->h[n->side] = (struct hinfo){
		.node = n->node, .rkey = n->mr->rkey, .addr = (uintptr_t)n->buf, .len = n->len,
		.qpn = { ml_qp_num(n->qp[0]), ml_qp_num(n->qp[1]) },
	};
	ST(&S->h_ready[n->side], 1);
	dp_sync(n);
	for (uint64_t b = 0;; b++) {
		struct dp_x x[24];
		uint64_t bytes = 0;
		int nx;
		char c;

		if (n->side == DP_A) {
			if (LD(&S->healthy_stop))
				post++;
			c = post > 1 ? 'Q' : 'C';
			dp_send_byte(n->peer, c);
		} else {
			c = dp_recv_byte(n->peer, 600000);
		}
		if (c == 'Q')
			break;
		C_CHECK(c == 'C', "healthy: bad message %d", c);
		/* the same batch on both sides */
		nx = 1 + (int)(splitmix(&rs) % 16);
		memset(x, 0, sizeof(x));
		for (int i = 0; i < nx; i++) {
			uint64_t r = splitmix(&rs), sz;

			switch (r % 100) {
			case 0: case 1: case 2: sz = 0; break;
			default:
				if (r % 100 < 40)
					sz = 1 + (r >> 8) % 256;
				else if (r % 100 < 80)
					sz = 1 + (r >> 8) % 16384;
				else if (r % 100 < 95)
					sz = 1 + (r >> 8) % 131072;
				else
					sz = 1 + (r >> 8) % 262144;
			}
			x[i].op = 1 + (int)((r >> 40) % 5);
			x[i].qp = (int)((r >> 44) & 1);
			x[i].size = sz;
			x[i].nsge_a = 1 + (int)((r >> 46) % 4);
			x[i].nsge_b = 1 + (int)((r >> 50) % 4);
			x[i].seed = (uint32_t)splitmix(&rs);
			x[i].imm = (uint32_t)(r >> 12);
		}
		for (;;) {
			dp_x_place(x, nx, 0, 0);
			if (x[nx - 1].off_a + dp_x_span(&x[nx - 1], DP_A) <= n->len &&
			    x[nx - 1].off_b + dp_x_span(&x[nx - 1], DP_B) <= n->len)
				break;
			nx--;
		}
		dp_x_run(n, x, nx, 120000);
		/* reset the regions; then every byte of the MR must be filler */
		for (int i = 0; i < nx; i++) {
			uint64_t o = n->side == DP_A ? x[i].off_a : x[i].off_b;

			memset(n->buf + o, DP_FILLER, dp_x_span(&x[i], n->side));
			bytes += x[i].size;
		}
		int64_t bad = dp_verify_fill(n->buf, n->len, DP_FILLER);

		C_CHECK(bad < 0, "healthy buffer of node %c: byte %lld (of %zu) is 0x%02x after "
			"batch %llu: a write outside the batch's regions", n->side ? 'B' : 'A',
			(long long)bad, n->len, n->buf[bad], (unsigned long long)b);
		if (n->side == DP_A) {
			INC(&S->h_batches);
			ADD(&S->h_wrs, (uint64_t)nx);
			ADD(&S->h_bytes, bytes);
			if (post)
				INC(&S->h_after_stop);
		}
	}
	for (int i = 0; i < n->nqp; i++) {
		struct ml_qp_attr qa;

		C_OK(ml_qp_query(n->qp[i], &qa));
		C_CHECK(qa.state == ML_QPS_RTS && qa.status == 0,
			"healthy QP %d of node %c: state %s status %s at the end", i,
			n->side ? 'B' : 'A', ml_qp_state_name(qa.state), ml_wc_status_str(qa.status));
	}
}

/* ------------------------------------------------------------------ */
/* master                                                              */
/* ------------------------------------------------------------------ */

/*
 * One healthy node: its own process in its node's netns, talking to the
 * other node's over @sock.  dp.c's C_CHECK failures print the reason and
 * _exit(1).
 */
static pid_t healthy_spawn(int side, int sock, int other, unsigned int timeout_s)
{
	pid_t pid;

	fflush(NULL);
	pid = fork();
	if (pid)
		return pid;
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	alarm(timeout_s);
	close(other);
	if (ns_enter(dp_env.ns[side])) {
		fprintf(stderr, "healthy %c: setns %s: %s\n", 'A' + side, dp_env.ns[side],
			strerror(errno));
		_exit(1);
	}
	struct dp_node n = { .slot = side, .side = side, .peer = sock, .parent = -1 };

	healthy(&n, NULL);
	_exit(0);
}

/* Object counts of device @side (DEV_GET through a socket of its netns). */
static int dev_counts(struct ml_ctl *ctl, int side, struct ml_dev_attr *a)
{
	memset(a, 0xff, sizeof(*a));
	if (!ctl || ml_ctl_dev_get(ctl, dp_env.dev[side], a))
		return -1;
	return a->flags & ML_DEV_ATTR_F_OBJECTS ? 0 : -1;
}

static int counts_zero(const struct ml_dev_attr *a)
{
	return !a->num_ctx && !a->num_pds && !a->num_mrs && !a->num_cqs && !a->num_qps &&
	       !a->pinned_pages;
}

/* ------------------------------------------------------------------ */
/* reproducers of bugs found (fuzz_chardev repro NAME)                 */
/* ------------------------------------------------------------------ */

/*
 * mr-put-*: a send WR holds the only other reference to an MR when the MR
 * is deregistered (allowed: "work already holding it finishes"); the WR
 * then ends in process context under qp->lock (spin_lock_bh), and
 * ml_mr_release() sees in_task() and unpins right there:
 * unpin_user_pages_dirty_lock() -> folio_lock() -> might_sleep().  With
 * CONFIG_DEBUG_ATOMIC_SLEEP: "BUG: sleeping function called from invalid
 * context".  The variants end the WR by destroying the QP, by closing the
 * file, and by a bad WR that makes the tx work flush it.
 */
static int repro_mr_put(const char *how)
{
	struct ml_device *dev;
	struct ml_pd *pd;
	struct ml_cq *cq;
	struct ml_qp *qp;
	struct ml_mr *mr;
	struct ml_qp_attr qa;
	struct ml_connect_opts co = { .timeout_ms = 2000, .retry_cnt = 15 };
	struct ml_qp_init qi = { .sq_entries = 8, .rq_entries = 8, .max_send_sge = 1 };
	uint8_t *buf;
	int r;

	buf = mmap(NULL, 16 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (buf == MAP_FAILED)
		return 1;
	memset(buf, 0x11, 16 * PG);
#define RQ(call) do { r = (call); if (r) { printf("repro %s: %s: %s\n", how, #call, \
					      ml_last_error()); return 1; } } while (0)
	RQ(ml_device_open(dp_env.dev[0], &dev));
	RQ(ml_pd_alloc(dev, &pd));
	RQ(ml_cq_create(dev, 64, &cq));
	qi.send_cq = cq;
	RQ(ml_qp_create(pd, &qi, &qp));
	RQ(ml_mr_reg(pd, buf, 16 * PG, ML_ACCESS_LOCAL_WRITE, &mr));
	/* a QP number nobody has: every packet is dropped, the WR stays outstanding */
	RQ(ml_qp_connect(qp, S->node[1], 0xfffff0, &co));
	struct ml_sge g = { (uintptr_t)buf, 8 * PG, mr->lkey };
	struct ml_send_wr wr = { .wr_id = 1, .opcode = ML_WR_WRITE, .flags = ML_WR_F_SIGNALED,
				 .sg_list = &g, .num_sge = 1, .remote_addr = 0x1000,
				 .rkey = 0x100 };

	RQ(ml_post_send(qp, &wr));
	for (int i = 0; i < 200; i++) {
		RQ(ml_qp_query(qp, &qa));
		if (qa.outstanding == 1)
			break;
		usleep(10000);
	}
	if (qa.outstanding != 1) {
		printf("repro %s: the WR was not taken (outstanding %u)\n", how, qa.outstanding);
		return 1;
	}
	printf("repro %s: WRITE outstanding on QP %u with MR 0x%x; deregistering the MR\n", how,
	       ml_qp_num(qp), mr->lkey);
	RQ(ml_mr_dereg(mr));
	if (!strcmp(how, "mr-put-destroy-qp")) {
		printf("repro %s: destroying the QP (last MR reference under qp->lock)\n", how);
		RQ(ml_qp_destroy(qp));
	} else if (!strcmp(how, "mr-put-close")) {
		printf("repro %s: closing the file (last MR reference under qp->lock)\n", how);
		ml_device_close(dev);
		return 0;
	} else {
		struct ml_send_wqe *w = (struct ml_send_wqe *)qp->sq.entries +
					(qp->sq.local & qp->sq.mask);

		printf("repro %s: a bad WQE: the tx work moves the QP to error and flushes "
		       "the WRITE (last MR reference under qp->lock)\n", how);
		memset(w, 0, sizeof(*w));
		w->opcode = 0x77;
		qp->sq.local++;
		__atomic_store_n(&qp->sq.hdr->producer, qp->sq.local, __ATOMIC_RELEASE);
		RQ(ml_qp_notify(qp));
		for (int i = 0; i < 200; i++) {
			RQ(ml_qp_query(qp, &qa));
			if (qa.state == ML_QPS_ERROR)
				break;
			usleep(10000);
		}
		printf("repro %s: QP state %s, status %s\n", how, ml_qp_state_name(qa.state),
		       ml_wc_status_str(qa.status));
	}
#undef RQ
	ml_device_close(dev);
	return 0;
}

/*
 * create-destroy-race: ALLOC_PD, REG_MR and CREATE_CQ fill their output
 * from the new object after dropping ctx->lock; a second thread that
 * destroys the (predictable: lowest free) handle in between frees it
 * first.  KASAN: slab-use-after-free in ml_ioctl_create_cq() (found by
 * the fuzzer, seed 0xfec8bb588a6ed0ce).  Runs 10 s of racing threads.
 */
static int race_fd;
static volatile int race_stop;
static uint8_t *race_buf;

static void *race_creator(void *arg)
{
	uint32_t pd = (uint32_t)(uintptr_t)arg;

	for (unsigned int i = 0; !race_stop; i++) {
		union ioc_buf u;

		memset(&u, 0, sizeof(u));
		switch (i % 3) {
		case 0:
			u.pd.size = sizeof(u.pd);
			ioctl(race_fd, ML_IOCTL_ALLOC_PD, &u);
			break;
		case 1:
			u.mr = (struct ml_reg_mr){ .size = sizeof(u.mr), .pd = pd,
				.access = ML_ACCESS_LOCAL_WRITE, .addr = (uintptr_t)race_buf,
				.length = PG };
			ioctl(race_fd, ML_IOCTL_REG_MR, &u);
			break;
		default:
			u.cq = (struct ml_create_cq){ .size = sizeof(u.cq), .entries = 1 };
			ioctl(race_fd, ML_IOCTL_CREATE_CQ, &u);
			break;
		}
	}
	return NULL;
}

static void *race_destroyer(void *arg)
{
	uint32_t keep = (uint32_t)(uintptr_t)arg;

	while (!race_stop) {
		for (uint32_t h = 1; h < 12; h++) {
			for (uint32_t t = ML_OBJ_PD; t <= ML_OBJ_CQ; t++) {
				struct ml_destroy d = { sizeof(d), 0, t, h };

				if (h != keep || t != ML_OBJ_PD)
					ioctl(race_fd, ML_IOCTL_DESTROY, &d);
			}
		}
	}
	return NULL;
}

static int repro_race(const char *how)
{
	struct ml_alloc_pd a = { .size = sizeof(a) };
	pthread_t th[4];
	char path[64];

	snprintf(path, sizeof(path), "/dev/megalink/%s", dp_env.dev[0]);
	race_fd = open(path, O_RDWR | O_CLOEXEC);
	race_buf = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (race_fd < 0 || race_buf == MAP_FAILED || ioctl(race_fd, ML_IOCTL_ALLOC_PD, &a)) {
		printf("repro %s: setup: %s\n", how, strerror(errno));
		return 1;
	}
	memset(race_buf, 1, PG);
	printf("repro %s: 2 threads create PDs, MRs and CQs, 2 destroy handles 1..11, "
	       "for 10 s\n", how);
	for (int i = 0; i < 4; i++)
		pthread_create(&th[i], NULL, i < 2 ? race_creator : race_destroyer,
			       (void *)(uintptr_t)a.out_pd);
	sleep(10);
	race_stop = 1;
	for (int i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	close(race_fd);
	return 0;
}

static const char *const repros[] = {
	"mr-put-destroy-qp", "mr-put-close", "mr-put-qp-error", "create-destroy-race",
};

/* Run reproducer @name in node A's netns; 0 if its steps all worked. */
static int repro(const char *name)
{
	pid_t pid;
	int st, known = 0;

	for (size_t i = 0; i < ARRAY_SIZE(repros); i++)
		known |= !strcmp(name, repros[i]);
	if (!known) {
		printf("fuzz_chardev: unknown reproducer %s\n", name);
		return 2;
	}
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		alarm(60);
		if (ns_enter(dp_env.ns[0])) {
			perror("setns");
			_exit(1);
		}
		_exit(!strcmp(name, "create-destroy-race") ? repro_race(name) :
		      repro_mr_put(name));
	}
	if (pid < 0 || waitpid(pid, &st, 0) != pid)
		return 1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 1;
}

static uint64_t env_u64(const char *name, uint64_t def)
{
	const char *v = getenv(name);

	return v && *v ? strtoull(v, NULL, 0) : def;
}

struct fzproc {
	pid_t pid;
	int side;
	uint64_t seed;
};

static int passed, failed;

static void check(int ok, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void check(int ok, const char *fmt, ...)
{
	va_list ap;

	printf("%s: ", ok ? "ok" : "FAIL");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	if (ok)
		passed++;
	else
		failed++;
}

static const char *errname(int e)
{
	static char b[16];

	switch (e) {
	case EINVAL: return "EINVAL";
	case E2BIG: return "E2BIG";
	case EFAULT: return "EFAULT";
	case ENODEV: return "ENODEV";
	case ENOMEM: return "ENOMEM";
	case ENOENT: return "ENOENT";
	case EBUSY: return "EBUSY";
	case EMFILE: return "EMFILE";
	case EINTR: return "EINTR";
	case EHOSTUNREACH: return "EHOSTUNREACH";
	case EMSGSIZE: return "EMSGSIZE";
	case EISCONN: return "EISCONN";
	case ENOTTY: return "ENOTTY";
	case ENOSPC: return "ENOSPC";
	case EBADF: return "EBADF";
	}
	snprintf(b, sizeof(b), "errno%d", e);
	return b;
}

int main(int argc, char **argv)
{
	uint64_t seed, mrs, seconds, kill_ms;
	int nproc, nthr, verbose;
	struct fzproc fz[MAXPROC];
	pid_t pgids[4096];
	int npg = 0, spawn_no = 0, crashes = 0;
	pid_t hpid[2];
	int hdone[2] = { 0, 0 }, hst[2] = { 0, 0 }, sp[2], orig_ns;
	struct ml_ctl *ctl[2] = { NULL, NULL };
	struct thr mt = { .id = -2 };
	double t0, deadline;

	dp_init();
	if (argc >= 2 && !strcmp(argv[1], "repro")) {
		int rc = 0;

		S = mmap(NULL, sizeof(*S), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
		if (S == MAP_FAILED)
			return 1;
		memset(S, 0, sizeof(*S));
		for (int s = 0; s < 2; s++) {
			struct ml_device *d;
			struct ml_device_info info;

			if (ml_device_open(dp_env.dev[s], &d) || ml_device_query(d, &info)) {
				printf("fuzz_chardev: cannot open %s: %s\n", dp_env.dev[s],
				       ml_last_error());
				return 1;
			}
			S->node[s] = info.node_id;
			ml_device_close(d);
		}
		if (argc == 2) {
			for (size_t i = 0; i < ARRAY_SIZE(repros); i++)
				printf("%s\n", repros[i]);
			return 0;
		}
		for (int i = 2; i < argc; i++)
			rc |= repro(argv[i]);
		return rc;
	}
	seconds = env_u64("ML_FUZZ_SECONDS", 120);
	nproc = (int)env_u64("ML_FUZZ_PROCS", 4);
	nthr = (int)env_u64("ML_FUZZ_THREADS", 4);
	kill_ms = env_u64("ML_FUZZ_KILL_MS", 3000);
	verbose = (int)env_u64("ML_FUZZ_VERBOSE", 0);
	if (nproc < 1)
		nproc = 1;
	if (nproc > MAXPROC)
		nproc = MAXPROC;
	if (nthr < 1)
		nthr = 1;
	if (nthr > MAXTHR)
		nthr = MAXTHR;
	if (getenv("ML_SEED") && *getenv("ML_SEED")) {
		seed = strtoull(getenv("ML_SEED"), NULL, 0);
	} else {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		seed = (uint64_t)ts.tv_nsec * 0x9E3779B97F4A7C15ULL ^ (uint64_t)ts.tv_sec ^
		       ((uint64_t)getpid() << 32);
	}
	printf("seed=0x%016llx\n", (unsigned long long)seed);
	printf("fuzz_chardev: %llu s, %d fuzzer processes x %d threads, SIGKILL every ~%llu ms, "
	       "devices %s (%s) and %s (%s)\n", (unsigned long long)seconds, nproc, nthr,
	       (unsigned long long)kill_ms, dp_env.dev[0], dp_env.ns[0], dp_env.dev[1],
	       dp_env.ns[1]);
	mrs = seed;
	mt.rs = splitmix(&mrs);
	T = &mt;
	healthy_seed = splitmix(&mrs);
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	signal(SIGPIPE, SIG_IGN);
	alarm((unsigned int)(seconds + 900));

	S = mmap(NULL, sizeof(*S), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (S == MAP_FAILED) {
		perror("mmap");
		return 1;
	}
	memset(S, 0, sizeof(*S));
	for (int s = 0; s < 2; s++) {
		struct ml_device *d;
		struct ml_device_info info;

		if (ml_device_open(dp_env.dev[s], &d) || ml_device_query(d, &info)) {
			printf("fuzz_chardev: cannot open %s: %s\n", dp_env.dev[s], ml_last_error());
			printf("fuzz_chardev: 0 passed, 1 failed\n");
			return 1;
		}
		S->node[s] = info.node_id;
		ml_device_close(d);
	}
	F.node[0] = S->node[0];
	F.node[1] = S->node[1];

	/* the healthy pair */
	/* control sockets in both netns, for the object counts at the end */
	orig_ns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	for (int s = 0; s < 2; s++) {
		if (ns_enter(dp_env.ns[s]) || ml_ctl_open(&ctl[s]))
			printf("fuzz_chardev: control socket in %s: %s\n", dp_env.ns[s],
			       ml_last_error());
		if (orig_ns >= 0 && setns(orig_ns, CLONE_NEWNET))
			perror("setns back");
	}

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp)) {
		perror("socketpair");
		return 1;
	}
	hpid[0] = healthy_spawn(DP_A, sp[0], sp[1], (unsigned int)seconds + 800);
	hpid[1] = healthy_spawn(DP_B, sp[1], sp[0], (unsigned int)seconds + 800);
	close(sp[0]);
	close(sp[1]);
	for (int i = 0; i < 1200 && !(LD(&S->h_ready[0]) && LD(&S->h_ready[1])); i++) {
		if (waitpid(-1, NULL, WNOHANG) > 0)
			break;
		usleep(50000);
	}
	if (!(LD(&S->h_ready[0]) && LD(&S->h_ready[1]))) {
		kill(hpid[0], SIGKILL);
		kill(hpid[1], SIGKILL);
		printf("fuzz_chardev: the healthy pair did not start (see above)\n");
		printf("fuzz_chardev: 0 passed, 1 failed\n");
		return 1;
	}
	printf("healthy pair: node 0x%x QPs %u,%u <-> node 0x%x QPs %u,%u\n", S->h[0].node,
	       S->h[0].qpn[0], S->h[0].qpn[1], S->h[1].node, S->h[1].qpn[0], S->h[1].qpn[1]);

	/* fuzzers */
	t0 = now_s();
	deadline = t0 + (double)seconds;
	memset(fz, 0, sizeof(fz));
	int healthy_dead = 0;
	double next_report = t0 + 10;
	double next_kill = kill_ms ? t0 + (double)(rn((uint32_t)kill_ms * 2) + 1) / 1000 : 1e30;

	for (;;) {
		double t = now_s();

		for (int i = 0; i < nproc; i++) {
			int st;

			if (fz[i].pid > 0 && waitpid(fz[i].pid, &st, WNOHANG) == fz[i].pid) {
				if ((WIFSIGNALED(st) && WTERMSIG(st) != SIGKILL) ||
				    (WIFEXITED(st) && WEXITSTATUS(st))) {
					printf("fuzz_chardev: fuzzer slot %d (seed 0x%016llx) %s %d\n",
					       i, (unsigned long long)fz[i].seed,
					       WIFSIGNALED(st) ? "died of signal" : "exited",
					       WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
					crashes++;
				}
				fz[i].pid = 0;
			}
			if (fz[i].pid == 0 && t < deadline - 1) {
				uint64_t fs = splitmix(&mrs);
				double life = 2 + (double)rn(25);
				pid_t pid;

				fflush(NULL);
				pid = fork();
				if (pid == 0) {
					alarm((unsigned int)(seconds + 60));
					fz_main(i, i & 1, fs, nthr, life);
				}
				if (pid > 0) {
					fz[i] = (struct fzproc){ pid, i & 1, fs };
					setpgid(pid, pid);
					if (npg < (int)ARRAY_SIZE(pgids))
						pgids[npg++] = pid;
					INC(&S->spawns);
					spawn_no++;
					if (verbose)
						printf("spawn #%d: slot %d node %c seed 0x%016llx life %.0f s\n",
						       spawn_no, i, 'A' + (i & 1), (unsigned long long)fs,
						       life);
				}
			}
		}
		if (t >= next_kill) {
			int i = (int)rn((uint32_t)nproc);

			if (fz[i].pid > 0) {
				kill(-fz[i].pid, SIGKILL);
				kill(fz[i].pid, SIGKILL);
				INC(&S->kills);
			}
			next_kill = t + (double)(rn((uint32_t)kill_ms * 2) + 1) / 1000;
		}
		/* reap orphans (fork children of killed fuzzers) */
		for (int g = 0; g < npg; g++) {
			int alive = 0;

			for (int i = 0; i < nproc; i++)
				alive |= fz[i].pid == pgids[g];
			if (!alive)
				while (waitpid(-pgids[g], NULL, WNOHANG) > 0)
					;
		}
		for (int s = 0; s < 2; s++) {
			int st;

			if (!hdone[s] && waitpid(hpid[s], &st, WNOHANG) == hpid[s]) {
				hdone[s] = 1;
				hst[s] = st;
				healthy_dead = 1;
			}
		}
		if (healthy_dead || t >= deadline)
			break;
		if (t >= next_report) {
			uint64_t ops = 0;

			for (int i = 0; i < MAXPROC; i++)
				for (int k = 0; k < NKIND; k++)
					ops += LD(&S->cnt[i][k]);
			printf("  %4.0f s: %llu fuzzer operations, %llu healthy batches, %llu spawned, "
			       "%llu killed\n", t - t0, (unsigned long long)ops,
			       (unsigned long long)LD(&S->h_batches),
			       (unsigned long long)LD(&S->spawns), (unsigned long long)LD(&S->kills));
			next_report = t + 10;
		}
		usleep(50000);
	}
	ST(&S->fuzz_stop, 1);
	for (int i = 0; i < nproc; i++)
		if (fz[i].pid > 0) {
			kill(-fz[i].pid, SIGKILL);
			kill(fz[i].pid, SIGKILL);
			waitpid(fz[i].pid, NULL, 0);
		}
	for (int g = 0; g < npg; g++) {
		kill(-pgids[g], SIGKILL);
		while (waitpid(-pgids[g], NULL, 0) > 0)
			;
	}
	printf("fuzzers stopped after %.1f s (%llu spawned, %llu SIGKILLed)\n", now_s() - t0,
	       (unsigned long long)S->spawns, (unsigned long long)S->kills);

	/* the healthy pair runs at least one more batch, then stops */
	ST(&S->healthy_stop, 1);
	int bad = 0;

	for (int s = 0; s < 2; s++) {
		for (int i = 0; !hdone[s] && i < 6000; i++) {
			if (waitpid(hpid[s], &hst[s], WNOHANG) == hpid[s])
				hdone[s] = 1;
			else
				usleep(100000);
		}
		if (!hdone[s]) {
			kill(hpid[s], SIGKILL);
			waitpid(hpid[s], &hst[s], 0);
		}
	}
	{
		char msg[256] = "";

		for (int s = 0; s < 2; s++) {
			int st = hst[s];

			if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
				continue;
			bad++;
			snprintf(msg + strlen(msg), sizeof(msg) - strlen(msg),
				 "; healthy %c %s %d (its reason is printed above)", 'A' + s,
				 WIFSIGNALED(st) ? "killed by signal" : "exited",
				 WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
		}
		check(!bad && LD(&S->h_after_stop) >= 1,
		      "healthy transfer beside the fuzzers: %llu batches, %llu WRs, %llu bytes, "
		      "every byte and completion checked, %llu batch(es) after the fuzzers%s",
		      (unsigned long long)S->h_batches, (unsigned long long)S->h_wrs,
		      (unsigned long long)S->h_bytes, (unsigned long long)S->h_after_stop, msg);
	}

	/* what the fuzzers did */
	printf("\noperations: iterations, succeeded, mean time\n");
	uint64_t total = 0;

	for (int k = 0; k < NKIND; k++) {
		uint64_t c = 0, o = 0, us = 0;

		for (int i = 0; i < MAXPROC; i++) {
			c += S->cnt[i][k];
			o += S->okc[i][k];
			us += S->usec[i][k];
		}
		total += c;
		printf("  %-36s %10llu %10llu %8.2f ms\n", kind_name[k], (unsigned long long)c,
		       (unsigned long long)o, c ? (double)us / (double)c / 1000 : 0.0);
	}
	printf("  %-36s %10llu\n", "total", (unsigned long long)total);
	printf("ioctl results on live megalink fds:\n");
	for (int k = 0; k < NIOC; k++) {
		char line[512];
		size_t l = 0;

		l += (size_t)snprintf(line, sizeof(line), "  %-13s ok %llu", ioc[k].name,
				      (unsigned long long)S->ioc_ok[k]);
		for (int e = 0; e < 134 && l < sizeof(line) - 40; e++)
			if (S->ioc_err[k][e])
				l += (size_t)snprintf(line + l, sizeof(line) - l, ", %s %llu",
						      errname(e),
						      (unsigned long long)S->ioc_err[k][e]);
		printf("%s\n", line);
	}
	printf("completions read by fuzzers, by status (garbage they wrote included):");
	for (int i = 0; i < 16; i++)
		if (S->wc[i])
			printf(" %d%s=%llu", i, i == 15 ? "+" : "", (unsigned long long)S->wc[i]);
	printf("\nown faults caught %llu, forks %llu, exits abrupt %llu / orderly %llu\n\n",
	       (unsigned long long)S->faults, (unsigned long long)S->forks,
	       (unsigned long long)S->exits_abrupt, (unsigned long long)S->exits_clean);

	uint32_t na = LD(&S->nanom);

	for (uint32_t i = 0; i < na && i < NANOM; i++)
		printf("  anomaly %u: %s\n", i + 1, S->amsg[i]);
	check(na == 0, "kernel answers as documented (docs/uapi.md): %u anomalies", na);
	check(total > 0 && !crashes, "fuzzers ran: %llu operations, %d fuzzer process(es) crashed",
	      (unsigned long long)total, crashes);

	/* every object gone once every process is */
	for (int s = 0; s < 2; s++) {
		struct ml_dev_attr c;
		int r = -1;

		for (int i = 0; i < 300; i++) {
			r = dev_counts(ctl[s], s, &c);
			if (!r && counts_zero(&c))
				break;
			usleep(100000);
		}
		check(!r && counts_zero(&c),
		      "%s: object counts back to 0: ctx %u pds %u mrs %u cqs %u qps %u "
		      "pinned-pages %llu", dp_env.dev[s], c.num_ctx, c.num_pds, c.num_mrs,
		      c.num_cqs, c.num_qps, (unsigned long long)c.pinned_pages);
		ml_ctl_close(ctl[s]);
	}
	printf("seed=0x%016llx\n", (unsigned long long)seed);
	printf("fuzz_chardev: %d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
