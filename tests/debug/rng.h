/* SPDX-License-Identifier: MIT */
/*
 * Random numbers for the fuzzers of the debug lane: xorshift64*, one
 * state per thread, seeded through splitmix64 from (seed, stream) so that
 * a run is reproduced from its printed seed.
 */
#ifndef ML_TESTS_DEBUG_RNG_H
#define ML_TESTS_DEBUG_RNG_H

#include <stdbool.h>
#include <stdint.h>

struct rng {
	uint64_t s;
};

static inline uint64_t splitmix(uint64_t x)
{
	x += 0x9E3779B97F4A7C15ULL;
	x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
	x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
	return x ^ (x >> 31);
}

static inline void rng_init(struct rng *r, uint64_t seed, uint64_t stream)
{
	r->s = splitmix(seed ^ splitmix(stream + 1)) | 1;
}

static inline uint64_t rnd(struct rng *r)
{
	r->s ^= r->s >> 12;
	r->s ^= r->s << 25;
	r->s ^= r->s >> 27;
	return r->s * 0x2545F4914F6CDD1DULL;
}

/* Uniform-enough in [0, n); 0 for n == 0. */
static inline uint32_t rn(struct rng *r, uint32_t n)
{
	return n ? (uint32_t)(rnd(r) % n) : 0;
}

/* True with probability p percent. */
static inline bool pct(struct rng *r, unsigned int p)
{
	return rn(r, 100) < p;
}

#endif /* ML_TESTS_DEBUG_RNG_H */
