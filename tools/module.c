// SPDX-License-Identifier: MIT
/*
 * Module facts for megalink-stat --module: state, version, srcversion,
 * refcount, holders (libkmod), parameters with their current values
 * (/sys/module/NAME/parameters) and descriptions (modinfo, when the module
 * file is known to modules.dep).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <libkmod.h>

#include "module.h"

struct param {
	char name[64];
	char value[256];
	char desc[256];
	int has_value;
};

static int read_line(const char *path, char *buf, size_t size)
{
	FILE *f = fopen(path, "re");
	size_t n;

	buf[0] = '\0';
	if (!f)
		return -errno;
	if (!fgets(buf, (int)size, f)) {
		fclose(f);
		return -EIO;
	}
	fclose(f);
	n = strlen(buf);
	while (n && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = '\0';
	return 0;
}

static struct param *param_find(struct param *p, size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!strcmp(p[i].name, name))
			return &p[i];
	return NULL;
}

static int cmp_param(const void *a, const void *b)
{
	return strcmp(((const struct param *)a)->name, ((const struct param *)b)->name);
}

int show_module(struct out *out, const char *name)
{
	char version[128] = "", srcversion[128] = "", path[512], state[32] = "";
	char file_srcversion[128] = "";
	struct kmod_list *info = NULL, *holders = NULL, *l;
	struct kmod_module *mod = NULL;
	struct kmod_ctx *ctx;
	struct param params[64];
	size_t nparams = 0, i;
	const char *file = NULL;
	long refcnt = -1, size = -1;
	int loaded = 0, err, initstate, file_stale = 0;
	DIR *d;

	ctx = kmod_new(NULL, NULL);
	if (!ctx) {
		fprintf(stderr, "megalink-stat: module %s: libkmod initialisation failed\n", name);
		return -ENOMEM;
	}
	err = kmod_module_new_from_name(ctx, name, &mod);
	if (err < 0) {
		kmod_unref(ctx);
		fprintf(stderr, "megalink-stat: module %s: %s\n", name, ml_strerror(err));
		return err;
	}

	initstate = kmod_module_get_initstate(mod);
	if (initstate >= 0) {
		loaded = initstate == KMOD_MODULE_LIVE || initstate == KMOD_MODULE_COMING ||
			 initstate == KMOD_MODULE_GOING;
		snprintf(state, sizeof(state), "%s", kmod_module_initstate_str(initstate));
		refcnt = kmod_module_get_refcnt(mod);
		size = kmod_module_get_size(mod);
		holders = kmod_module_get_holders(mod);
	}
	file = kmod_module_get_path(mod);

	snprintf(path, sizeof(path), "/sys/module/%s/version", name);
	read_line(path, version, sizeof(version));
	snprintf(path, sizeof(path), "/sys/module/%s/srcversion", name);
	read_line(path, srcversion, sizeof(srcversion));

	/* modinfo of the file, if libkmod can find one */
	if (kmod_module_get_info(mod, &info) >= 0) {
		kmod_list_foreach(l, info) {
			const char *k = kmod_module_info_get_key(l);
			const char *v = kmod_module_info_get_value(l);

			if (!k || !v)
				continue;
			if (!strcmp(k, "version") && !version[0])
				snprintf(version, sizeof(version), "%s", v);
			else if (!strcmp(k, "srcversion"))
				snprintf(file_srcversion, sizeof(file_srcversion), "%s", v);
			else if (!strcmp(k, "parm") && nparams < 64) {
				const char *colon = strchr(v, ':');
				struct param *p;
				char pname[64];
				size_t len = colon ? (size_t)(colon - v) : strlen(v);

				if (len >= sizeof(pname))
					continue;
				memcpy(pname, v, len);
				pname[len] = '\0';
				p = param_find(params, nparams, pname);
				if (!p) {
					p = &params[nparams++];
					memset(p, 0, sizeof(*p));
					snprintf(p->name, sizeof(p->name), "%s", pname);
				}
				if (colon)
					snprintf(p->desc, sizeof(p->desc), "%s", colon + 1);
			}
		}
	}

	/* The file modprobe would load may be another build than the loaded one. */
	if (!srcversion[0])
		snprintf(srcversion, sizeof(srcversion), "%s", file_srcversion);
	file_stale = loaded && file && file_srcversion[0] && strcmp(file_srcversion, srcversion);
	if (file_stale)
		for (i = 0; i < nparams; i++)
			params[i].desc[0] = '\0';

	/* current values */
	snprintf(path, sizeof(path), "/sys/module/%s/parameters", name);
	d = opendir(path);
	if (d) {
		struct dirent *de;

		while ((de = readdir(d))) {
			struct param *p;
			char ppath[1024];

			if (de->d_name[0] == '.' || strlen(de->d_name) >= sizeof(p->name))
				continue;
			p = param_find(params, nparams, de->d_name);
			if (!p) {
				if (nparams == 64)
					continue;
				p = &params[nparams++];
				memset(p, 0, sizeof(*p));
				memcpy(p->name, de->d_name, strlen(de->d_name) + 1);
			}
			snprintf(ppath, sizeof(ppath), "%s/%s", path, de->d_name);
			if (read_line(ppath, p->value, sizeof(p->value)) == 0)
				p->has_value = 1;
		}
		closedir(d);
	}
	qsort(params, nparams, sizeof(params[0]), cmp_param);

	if (out->o.json) {
		struct jw *w = &out->jw;

		jw_begin_object(w);
		jw_kstr(w, "module", name);
		jw_kbool(w, "loaded", loaded);
		jw_kstr(w, "state", state[0] ? state : "not loaded");
		jw_kstr(w, "version", version[0] ? version : NULL);
		jw_kstr(w, "srcversion", srcversion[0] ? srcversion : NULL);
		jw_key(w, "refcount");
		if (refcnt >= 0)
			jw_uint(w, (uint64_t)refcnt);
		else
			jw_null(w);
		jw_key(w, "size");
		if (size >= 0)
			jw_uint(w, (uint64_t)size);
		else
			jw_null(w);
		jw_kstr(w, "path", file);
		jw_kbool(w, "path_is_loaded", file && !file_stale && loaded);
		jw_key(w, "holders");
		jw_begin_array(w);
		kmod_list_foreach(l, holders) {
			struct kmod_module *h = kmod_module_get_module(l);

			jw_string(w, kmod_module_get_name(h));
			kmod_module_unref(h);
		}
		jw_end_array(w);
		jw_key(w, "parameters");
		jw_begin_object(w);
		for (i = 0; i < nparams; i++) {
			jw_key(w, params[i].name);
			jw_begin_object(w);
			jw_key(w, "value");
			jw_string(w, params[i].has_value ? params[i].value : NULL);
			if (params[i].desc[0])
				jw_kstr(w, "description", params[i].desc);
			jw_end_object(w);
		}
		jw_end_object(w);
		jw_end_object(w);
		jw_end_line(w);
	} else {
		FILE *f = out->f;

		fprintf(f, "module %s state %s", name, state[0] ? state : "not-loaded");
		if (version[0])
			fprintf(f, " version %s", version);
		if (srcversion[0])
			fprintf(f, " srcversion %s", srcversion);
		if (refcnt >= 0)
			fprintf(f, " refcount %ld", refcnt);
		if (size >= 0)
			fprintf(f, " size %ld", size);
		fputc('\n', f);
		if (file)
			fprintf(f, "    path %s%s\n", file,
				file_stale ? " (another build than the loaded module)" : "");
		if (loaded) {
			fputs("    holders", f);
			if (!holders)
				fputs(" none", f);
			kmod_list_foreach(l, holders) {
				struct kmod_module *h = kmod_module_get_module(l);

				fprintf(f, " %s", kmod_module_get_name(h));
				kmod_module_unref(h);
			}
			fputc('\n', f);
		}
		for (i = 0; i < nparams; i++) {
			fprintf(f, "    param %s %s", params[i].name,
				params[i].has_value ? (params[i].value[0] ? params[i].value : "\"\"")
						    : "-");
			if (params[i].desc[0] && out->o.stats)
				fprintf(f, "    # %s", params[i].desc);
			fputc('\n', f);
		}
	}

	kmod_module_unref_list(holders);
	kmod_module_info_free_list(info);
	kmod_module_unref(mod);
	kmod_unref(ctx);
	return 0;
}
