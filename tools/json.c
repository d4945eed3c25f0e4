// SPDX-License-Identifier: MIT
/* A small streaming JSON writer for the megalink tools. */
#include <inttypes.h>
#include <math.h>
#include <string.h>

#include "json.h"

/* Length of the valid UTF-8 sequence at p (1..4), or 0 if invalid. */
static int utf8_len(const unsigned char *p)
{
	unsigned int c = p[0], cp;
	int n, i;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		n = 2;
		cp = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 3;
		cp = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4;
		cp = c & 0x07;
	} else {
		return 0;
	}
	for (i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

void json_write_string(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	fputc('"', f);
	while (*p) {
		int n;

		switch (*p) {
		case '"':  fputs("\\\"", f); p++; continue;
		case '\\': fputs("\\\\", f); p++; continue;
		case '\b': fputs("\\b", f); p++; continue;
		case '\f': fputs("\\f", f); p++; continue;
		case '\n': fputs("\\n", f); p++; continue;
		case '\r': fputs("\\r", f); p++; continue;
		case '\t': fputs("\\t", f); p++; continue;
		}
		if (*p < 0x20 || *p == 0x7f) {
			fprintf(f, "\\u%04x", *p);
			p++;
			continue;
		}
		n = utf8_len(p);
		if (!n) {
			fprintf(f, "\\u%04x", *p);
			p++;
			continue;
		}
		fwrite(p, 1, (size_t)n, f);
		p += n;
	}
	fputc('"', f);
}

void jw_init(struct jw *w, FILE *f, int pretty)
{
	memset(w, 0, sizeof(*w));
	w->f = f;
	w->pretty = pretty;
}

static void indent(struct jw *w)
{
	int i;

	fputc('\n', w->f);
	for (i = 0; i < w->depth; i++)
		fputs("    ", w->f);
}

/* Separator and indentation before a value or a key. */
static void prelude(struct jw *w)
{
	if (w->after_key) {
		w->after_key = 0;
		return;
	}
	if (w->depth == 0)
		return;
	if (w->count[w->depth]++)
		fputc(',', w->f);
	if (w->pretty)
		indent(w);
}

static void open_(struct jw *w, char c)
{
	prelude(w);
	fputc(c, w->f);
	if (w->depth < JW_MAX_DEPTH - 1)
		w->depth++;
	w->count[w->depth] = 0;
}

static void close_(struct jw *w, char c)
{
	unsigned int had = w->count[w->depth];

	if (w->depth > 0)
		w->depth--;
	if (w->pretty && had)
		indent(w);
	fputc(c, w->f);
}

void jw_begin_object(struct jw *w) { open_(w, '{'); }
void jw_end_object(struct jw *w)   { close_(w, '}'); }
void jw_begin_array(struct jw *w)  { open_(w, '['); }
void jw_end_array(struct jw *w)    { close_(w, ']'); }

void jw_key(struct jw *w, const char *key)
{
	prelude(w);
	json_write_string(w->f, key);
	fputs(w->pretty ? ": " : ":", w->f);
	w->after_key = 1;
}

void jw_string(struct jw *w, const char *s)
{
	prelude(w);
	if (s)
		json_write_string(w->f, s);
	else
		fputs("null", w->f);
}

void jw_uint(struct jw *w, uint64_t v)
{
	prelude(w);
	fprintf(w->f, "%" PRIu64, v);
}

void jw_double(struct jw *w, double v)
{
	prelude(w);
	if (isfinite(v))
		fprintf(w->f, "%.3f", v);
	else
		fputs("null", w->f);
}

void jw_int(struct jw *w, int64_t v)
{
	prelude(w);
	fprintf(w->f, "%" PRId64, v);
}

void jw_bool(struct jw *w, int v)
{
	prelude(w);
	fputs(v ? "true" : "false", w->f);
}

void jw_null(struct jw *w)
{
	prelude(w);
	fputs("null", w->f);
}

void jw_end_line(struct jw *w)
{
	fputc('\n', w->f);
}
