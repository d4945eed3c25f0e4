// SPDX-License-Identifier: MIT
/* Thread-local error text, names of dtypes and ops, environment knobs. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"

static __thread char last_error[512];

int mlc_fail(int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(last_error, sizeof(last_error), fmt, ap);
	va_end(ap);
	return err;
}

MLC_EXPORT const char *ml_coll_last_error(void)
{
	return last_error;
}

MLC_EXPORT const char *ml_coll_version(void)
{
	return ML_COLL_VERSION_STR;
}

uint64_t mlc_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint32_t mlc_env_u32(const char *name, uint32_t dflt)
{
	const char *s = getenv(name);
	char *end;
	unsigned long v;

	if (!s || !*s)
		return dflt;
	errno = 0;
	v = strtoul(s, &end, 0);
	if (errno || *end || v > UINT32_MAX) {
		fprintf(stderr, "megalink-coll: ignoring %s=%s (not a 32-bit number)\n", name, s);
		return dflt;
	}
	return (uint32_t)v;
}

static const char *const dtype_names[ML_COLL_DTYPE_COUNT] = {
	"int8", "uint8", "int32", "int64", "float16", "bfloat16", "float32", "float64",
};
static const size_t dtype_sizes[ML_COLL_DTYPE_COUNT] = { 1, 1, 4, 8, 2, 2, 4, 8 };
static const char *const op_names[ML_COLL_OP_COUNT] = { "sum", "prod", "min", "max", "avg" };

MLC_EXPORT size_t ml_coll_dtype_size(unsigned int dtype)
{
	return dtype < ML_COLL_DTYPE_COUNT ? dtype_sizes[dtype] : 0;
}

MLC_EXPORT const char *ml_coll_dtype_name(unsigned int dtype)
{
	return dtype < ML_COLL_DTYPE_COUNT ? dtype_names[dtype] : "unknown";
}

MLC_EXPORT const char *ml_coll_op_name(unsigned int op)
{
	return op < ML_COLL_OP_COUNT ? op_names[op] : "unknown";
}

MLC_EXPORT int ml_coll_parse_dtype(const char *s, unsigned int *out)
{
	static const struct { const char *n; unsigned int v; } alias[] = {
		{ "half", ML_COLL_FLOAT16 }, { "fp16", ML_COLL_FLOAT16 },
		{ "bf16", ML_COLL_BFLOAT16 }, { "float", ML_COLL_FLOAT32 },
		{ "fp32", ML_COLL_FLOAT32 }, { "double", ML_COLL_FLOAT64 },
		{ "fp64", ML_COLL_FLOAT64 }, { "int", ML_COLL_INT32 },
		{ "char", ML_COLL_INT8 },
	};

	if (!s || !out)
		return mlc_fail(-EINVAL, "parse dtype: %s is NULL", s ? "out" : "s");
	for (unsigned int i = 0; i < ML_COLL_DTYPE_COUNT; i++)
		if (!strcmp(s, dtype_names[i]))
			return *out = i, 0;
	for (size_t i = 0; i < sizeof(alias) / sizeof(alias[0]); i++)
		if (!strcmp(s, alias[i].n))
			return *out = alias[i].v, 0;
	return mlc_fail(-EINVAL, "unknown dtype \"%s\" (int8 uint8 int32 int64 float16 "
			"bfloat16 float32 float64)", s);
}

MLC_EXPORT int ml_coll_parse_op(const char *s, unsigned int *out)
{
	if (!s || !out)
		return mlc_fail(-EINVAL, "parse op: %s is NULL", s ? "out" : "s");
	for (unsigned int i = 0; i < ML_COLL_OP_COUNT; i++)
		if (!strcmp(s, op_names[i]))
			return *out = i, 0;
	return mlc_fail(-EINVAL, "unknown reduction op \"%s\" (sum prod min max avg)", s);
}
