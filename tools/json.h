/* SPDX-License-Identifier: MIT */
/* A small streaming JSON writer for the megalink tools. */
#ifndef MEGALINK_TOOLS_JSON_H
#define MEGALINK_TOOLS_JSON_H

#include <stdint.h>
#include <stdio.h>

#define JW_MAX_DEPTH 16

struct jw {
	FILE *f;
	int pretty;
	int depth;
	int after_key;
	unsigned int count[JW_MAX_DEPTH];	/* elements written at each level */
};

void jw_init(struct jw *w, FILE *f, int pretty);
void jw_begin_object(struct jw *w);
void jw_end_object(struct jw *w);
void jw_begin_array(struct jw *w);
void jw_end_array(struct jw *w);
void jw_key(struct jw *w, const char *key);
void jw_string(struct jw *w, const char *s);	/* NULL writes null */
void jw_uint(struct jw *w, uint64_t v);
void jw_int(struct jw *w, int64_t v);
void jw_double(struct jw *w, double v);	/* 3 decimals; null if not finite */
void jw_bool(struct jw *w, int v);
void jw_null(struct jw *w);
/* Ends a top-level value with a newline. */
void jw_end_line(struct jw *w);

static inline void jw_kstr(struct jw *w, const char *k, const char *v)
{
	jw_key(w, k);
	jw_string(w, v);
}

static inline void jw_kuint(struct jw *w, const char *k, uint64_t v)
{
	jw_key(w, k);
	jw_uint(w, v);
}

static inline void jw_kdouble(struct jw *w, const char *k, double v)
{
	jw_key(w, k);
	jw_double(w, v);
}

static inline void jw_kbool(struct jw *w, const char *k, int v)
{
	jw_key(w, k);
	jw_bool(w, v);
}

/* Write s as a quoted JSON string: ", \ and control characters escaped,
 * bytes that are not valid UTF-8 written as \u00XX (read as Latin-1). */
void json_write_string(FILE *f, const char *s);

#endif
