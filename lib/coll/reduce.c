// SPDX-License-Identifier: MIT
/*
 * Element-wise reductions.  Integers wrap (arithmetic in unsigned);
 * float16 and bfloat16 are computed in float and rounded to nearest even.
 */
#include <math.h>
#include <string.h>

#include "internal.h"

static inline float f16_to_f32(uint16_t h)
{
	uint32_t sign = (uint32_t)(h & 0x8000) << 16, exp = (h >> 10) & 0x1f, man = h & 0x3ff, u;
	float f;

	if (exp == 0x1f) {
		u = sign | 0x7f800000u | (man << 13);
	} else if (exp == 0) {
		f = ldexpf((float)man, -24);
		return sign ? -f : f;
	} else {
		u = sign | ((exp + 112) << 23) | (man << 13);
	}
	memcpy(&f, &u, 4);
	return f;
}

static inline uint16_t f32_to_f16(float f)
{
	uint32_t u, sign, man;
	int exp;

	memcpy(&u, &f, 4);
	sign = (u >> 16) & 0x8000;
	exp = (int)((u >> 23) & 0xff);
	man = u & 0x7fffff;
	if (exp == 0xff)
		return (uint16_t)(sign | 0x7c00 | (man ? 0x200 | (man >> 13) : 0));
	exp -= 127 - 15;
	if (exp >= 0x1f)
		return (uint16_t)(sign | 0x7c00);
	if (exp <= 0) {		/* subnormal or zero */
		if (exp < -10)
			return (uint16_t)sign;
		man |= 0x800000;
		uint32_t shift = (uint32_t)(14 - exp);
		uint32_t half = 1u << (shift - 1), rest = man & ((1u << shift) - 1);
		uint32_t r = man >> shift;

		if (rest > half || (rest == half && (r & 1)))
			r++;
		return (uint16_t)(sign | r);
	}
	uint32_t r = ((uint32_t)exp << 10) | (man >> 13), rest = man & 0x1fff;

	if (rest > 0x1000 || (rest == 0x1000 && (r & 1)))
		r++;		/* may carry into the exponent: still right */
	return (uint16_t)(sign | r);
}

static inline float bf16_to_f32(uint16_t h)
{
	uint32_t u = (uint32_t)h << 16;
	float f;

	memcpy(&f, &u, 4);
	return f;
}

static inline uint16_t f32_to_bf16(float f)
{
	uint32_t u;

	memcpy(&u, &f, 4);
	if ((u & 0x7fffffff) > 0x7f800000)
		return (uint16_t)((u >> 16) | 0x40);	/* quiet NaN */
	u += 0x7fff + ((u >> 16) & 1);
	return (uint16_t)(u >> 16);
}

#define MIN_(x, y) ((x) < (y) ? (x) : (y))
#define MAX_(x, y) ((x) > (y) ? (x) : (y))

/* Integers: T the type, U its unsigned twin. */
#define INT_LOOP(T, U)							\
	do {								\
		T *d = dst; const T *x = a, *y = b;			\
		switch (op) {						\
		case ML_COLL_SUM: case ML_COLL_AVG:			\
			for (size_t i = 0; i < n; i++)			\
				d[i] = (T)((U)x[i] + (U)y[i]);		\
			break;						\
		case ML_COLL_PROD:					\
			for (size_t i = 0; i < n; i++)			\
				d[i] = (T)((U)x[i] * (U)y[i]);		\
			break;						\
		case ML_COLL_MIN:					\
			for (size_t i = 0; i < n; i++)			\
				d[i] = MIN_(x[i], y[i]);		\
			break;						\
		default:						\
			for (size_t i = 0; i < n; i++)			\
				d[i] = MAX_(x[i], y[i]);		\
		}							\
	} while (0)

#define FLT_LOOP(T)							\
	do {								\
		T *d = dst; const T *x = a, *y = b;			\
		switch (op) {						\
		case ML_COLL_SUM: case ML_COLL_AVG:			\
			for (size_t i = 0; i < n; i++)			\
				d[i] = x[i] + y[i];			\
			break;						\
		case ML_COLL_PROD:					\
			for (size_t i = 0; i < n; i++)			\
				d[i] = x[i] * y[i];			\
			break;						\
		case ML_COLL_MIN:					\
			for (size_t i = 0; i < n; i++)			\
				d[i] = MIN_(x[i], y[i]);		\
			break;						\
		default:						\
			for (size_t i = 0; i < n; i++)			\
				d[i] = MAX_(x[i], y[i]);		\
		}							\
	} while (0)

static inline float op_f(float x, float y, unsigned int op)
{
	switch (op) {
	case ML_COLL_PROD: return x * y;
	case ML_COLL_MIN: return MIN_(x, y);
	case ML_COLL_MAX: return MAX_(x, y);
	default: return x + y;
	}
}

void mlc_reduce(void *dst, const void *a, const void *b, size_t n,
		unsigned int dtype, unsigned int op)
{
	switch (dtype) {
	case ML_COLL_INT8: INT_LOOP(int8_t, uint8_t); break;
	case ML_COLL_UINT8: INT_LOOP(uint8_t, uint8_t); break;
	case ML_COLL_INT32: INT_LOOP(int32_t, uint32_t); break;
	case ML_COLL_INT64: INT_LOOP(int64_t, uint64_t); break;
	case ML_COLL_FLOAT32: FLT_LOOP(float); break;
	case ML_COLL_FLOAT64: FLT_LOOP(double); break;
	case ML_COLL_FLOAT16: {
		uint16_t *d = dst;
		const uint16_t *x = a, *y = b;

		for (size_t i = 0; i < n; i++)
			d[i] = f32_to_f16(op_f(f16_to_f32(x[i]), f16_to_f32(y[i]), op));
		break;
	}
	case ML_COLL_BFLOAT16: {
		uint16_t *d = dst;
		const uint16_t *x = a, *y = b;

		for (size_t i = 0; i < n; i++)
			d[i] = f32_to_bf16(op_f(bf16_to_f32(x[i]), bf16_to_f32(y[i]), op));
		break;
	}
	}
}

void mlc_divide(void *buf, size_t n, unsigned int dtype, int by)
{
	switch (dtype) {
	case ML_COLL_INT8: { int8_t *p = buf; for (size_t i = 0; i < n; i++) p[i] = (int8_t)(p[i] / by); break; }
	case ML_COLL_UINT8: { uint8_t *p = buf; for (size_t i = 0; i < n; i++) p[i] = (uint8_t)(p[i] / by); break; }
	case ML_COLL_INT32: { int32_t *p = buf; for (size_t i = 0; i < n; i++) p[i] = p[i] / by; break; }
	case ML_COLL_INT64: { int64_t *p = buf; for (size_t i = 0; i < n; i++) p[i] = p[i] / by; break; }
	case ML_COLL_FLOAT32: { float *p = buf; for (size_t i = 0; i < n; i++) p[i] = p[i] / (float)by; break; }
	case ML_COLL_FLOAT64: { double *p = buf; for (size_t i = 0; i < n; i++) p[i] = p[i] / by; break; }
	case ML_COLL_FLOAT16: { uint16_t *p = buf; for (size_t i = 0; i < n; i++) p[i] = f32_to_f16(f16_to_f32(p[i]) / (float)by); break; }
	case ML_COLL_BFLOAT16: { uint16_t *p = buf; for (size_t i = 0; i < n; i++) p[i] = f32_to_bf16(bf16_to_f32(p[i]) / (float)by); break; }
	}
}
