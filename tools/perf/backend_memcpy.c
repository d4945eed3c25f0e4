// SPDX-License-Identifier: MIT
/*
 * --memcpy: the copy floor.  MB/s of memcpy() of SIZE bytes between two
 * buffers, one thread, no peer; the same result lines as a bw run
 * (msgs = copies).  Without -n or -D each size copies about 256 MiB.
 */
#define _GNU_SOURCE
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "perf.h"

int memcpy_run(void)
{
	uint64_t max = cfg.all ? ALL_MAX : cfg.size, len = (max + 4095) & ~4095ull;
	uint8_t *src = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uint8_t *dst = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	int failed = 0;

	if (src == MAP_FAILED || dst == MAP_FAILED)
		die("out of memory for two %" PRIu64 "-byte buffers", len);
	for (uint64_t i = 0; i < len; i++)
		src[i] = (uint8_t)(i * 131 + 7);
	memset(dst, 0, len);
	out_header(NULL);
	for (uint64_t s = cfg.all ? ALL_MIN : cfg.size; s <= max; s *= 2) {
		uint64_t n = 0, iters = cfg.iters, t0, t1, end = 0;
		struct cpu_snap c0, c1;
		struct result r;

		if (!(loc.set & (SET_ITERS | SET_DUR))) {
			iters = (256ull << 20) / s;
			iters = iters < 10 ? 10 : iters > 1000000 ? 1000000 : iters;
		}
		memset(&r, 0, sizeof(r));
		cpu_snap(&c0);
		t0 = now_ns();
		if (cfg.duration_ms)
			end = t0 + cfg.duration_ms * 1000000ull;
		for (;;) {
			memcpy(dst, src, s);
			__asm__ volatile("" : : "r"(dst) : "memory");
			n++;
			if (end ? (n & 15) == 0 && now_ns() >= end : n == iters)
				break;
		}
		t1 = now_ns();
		cpu_snap(&c1);
		r.size = s;
		r.iters = r.msgs = n;
		r.bytes = n * s;
		r.duration_s = (t1 - t0) / 1e9;
		r.mbps = r.bytes / r.duration_s / 1e6;
		r.gbps = r.bytes * 8 / r.duration_s / 1e9;
		r.mpps = n / r.duration_s / 1e6;
		r.qp_min_share = r.qp_max_share = 1;
		r.cpu_client_s = c1.proc_s - c0.proc_s;
		r.guest_s = c1.guest_s - c0.guest_s;
		r.guest_kernel_s = c1.guest_kernel_s - c0.guest_kernel_s;
		r.have_stat = c0.have_stat && c1.have_stat;
		r.verify = -1;
		if (cfg.verify) {
			r.verify = !memcmp(dst, src, s);
			failed |= !r.verify;
		}
		out_result(&r, "memcpy");
	}
	out_footer();
	munmap(src, len);
	munmap(dst, len);
	if (failed)
		die("--verify: the copy differs");
	return 0;
}
