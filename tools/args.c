// SPDX-License-Identifier: MIT
/* Command-line parsing of megalink-stat and megalink. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <megalink/megalink.h>

#include "args.h"

int arg_matches(const char *arg, const char *word)
{
	size_t n = strlen(arg);

	if (!n || n > strlen(word))
		return -1;
	return strncmp(arg, word, n) == 0 ? 0 : -1;
}

static int fail(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

int parse_ms(const char *s, uint32_t *out)
{
	char buf[32];
	size_t n = strlen(s);

	if (n >= sizeof(buf))
		return -ERANGE;
	memcpy(buf, s, n + 1);
	if (n > 2 && strcmp(buf + n - 2, "ms") == 0)
		buf[n - 2] = '\0';
	return ml_parse_u32(buf, out);
}

/* Common options: -j -p -s -h -V and their long forms.  1 if @a is one,
 * 0 if it is not an option, -EINVAL for an unknown option. */
static int common_opt(const char *a, struct out_opts *out, int *help, int *version)
{
	if (a[0] != '-' || !a[1])
		return 0;
	if (!strcmp(a, "-j") || !strcmp(a, "--json") || !strcmp(a, "-json"))
		out->json = 1;
	else if (!strcmp(a, "-p") || !strcmp(a, "--pretty") || !strcmp(a, "-pretty"))
		out->pretty = 1;
	else if (!strcmp(a, "-s") || !strcmp(a, "--stats") || !strcmp(a, "-stats"))
		out->stats = 1;
	else if (!strcmp(a, "-h") || !strcmp(a, "--help") || !strcmp(a, "-help"))
		*help = 1;
	else if (!strcmp(a, "-V") || !strcmp(a, "--version") || !strcmp(a, "-Version"))
		*version = 1;
	else if (a[1] != '-' && strlen(a) > 2 && strspn(a + 1, "jps") == strlen(a + 1)) {
		/* bundled short options: -jp */
		for (a++; *a; a++) {
			if (*a == 'j')
				out->json = 1;
			else if (*a == 'p')
				out->pretty = 1;
			else
				out->stats = 1;
		}
	} else
		return -EINVAL;
	return 1;
}

/* Seconds: a decimal number from 0.1 to 3600. */
static int parse_seconds(const char *s, double *out)
{
	char *end;
	double v;

	if (!*s)
		return -EINVAL;
	errno = 0;
	v = strtod(s, &end);
	if (errno || *end || !isfinite(v) || v < 0.1 || v > 3600)
		return -EINVAL;
	*out = v;
	return 0;
}

int stat_parse_args(int argc, char **argv, struct stat_opts *o, char *err, size_t errlen)
{
	const char *pos[3];
	int npos = 0, i, r, module = 0, has_count = 0;

	memset(o, 0, sizeof(*o));
	o->interval = 1.0;
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "--module") || !strcmp(a, "-m")) {
			module = 1;
			continue;
		}
		if (!strcmp(a, "--prometheus")) {
			o->prometheus = 1;
			continue;
		}
		if (!strcmp(a, "-o") || !strcmp(a, "--output")) {
			if (i + 1 >= argc || !argv[i + 1][0])
				return fail(err, errlen, "%s needs a file name", a);
			o->outfile = argv[++i];
			continue;
		}
		if (!strcmp(a, "--watch") || !strncmp(a, "--watch=", 8)) {
			o->watch = 1;
			if (a[7] == '=' && parse_seconds(a + 8, &o->interval) < 0)
				return fail(err, errlen, "--watch=%s: must be seconds, "
					    "0.1 to 3600", a + 8);
			continue;
		}
		if (!strcmp(a, "--dot")) {
			o->dot = 1;
			continue;
		}
		if (!strcmp(a, "--png")) {
			if (i + 1 >= argc || !argv[i + 1][0])
				return fail(err, errlen, "--png needs a file name");
			o->png = argv[++i];
			continue;
		}
		if (!strcmp(a, "-c") || !strcmp(a, "--count")) {
			if (i + 1 >= argc)
				return fail(err, errlen, "%s needs a count", a);
			if (ml_parse_u32(argv[i + 1], &o->count) < 0 || !o->count)
				return fail(err, errlen, "%s %s: must be a count, 1 or more",
					    a, argv[i + 1]);
			i++;
			has_count = 1;
			continue;
		}
		r = common_opt(a, &o->out, &o->help, &o->version);
		if (r < 0)
			return fail(err, errlen, "unknown option \"%s\" (try --help)", a);
		if (r)
			continue;
		if (npos == 3)
			return fail(err, errlen, "unexpected argument \"%s\" (try --help)", a);
		pos[npos++] = a;
	}
	if (o->help || o->version)
		return 0;
	if (o->outfile && !o->prometheus)
		return fail(err, errlen, "-o FILE goes with --prometheus");
	if (has_count && !o->watch)
		return fail(err, errlen, "-c COUNT goes with --watch");
	if ((o->dot || o->png) &&
	    (!npos || arg_matches(pos[0], "topology") || o->prometheus || o->watch || module))
		return fail(err, errlen, "%s goes with the topo object", o->dot ? "--dot" : "--png");
	if (o->dot && o->png)
		return fail(err, errlen, "--dot and --png do not go together");
	if (o->prometheus && o->watch)
		return fail(err, errlen, "--prometheus and --watch do not go together");
	if (o->prometheus || o->watch) {
		const char *what = o->prometheus ? "--prometheus" : "--watch";

		if (module)
			return fail(err, errlen, "%s and --module do not go together", what);
		if (npos > 1)
			return fail(err, errlen, "%s takes at most a device (got \"%s\")",
				    what, pos[1]);
		if (npos) {
			if (pos[0][0] == '\0' || strlen(pos[0]) >= ML_DEV_NAME_LEN)
				return fail(err, errlen, "device name \"%s\" is invalid", pos[0]);
			o->dev = pos[0];
		}
		o->obj = OBJ_STATS;
		return 0;
	}
	if (module) {
		if (npos)
			return fail(err, errlen, "--module takes no object (got \"%s\")", pos[0]);
		o->obj = OBJ_MODULE;
		return 0;
	}
	if (!npos) {
		o->obj = OBJ_SUMMARY;
		return 0;
	}
	i = 0;
	if (!arg_matches(pos[0], "dev") || !arg_matches(pos[0], "device"))
		o->obj = OBJ_DEV;
	else if (!arg_matches(pos[0], "port"))
		o->obj = OBJ_PORT;
	else if (!arg_matches(pos[0], "neighbours") || !arg_matches(pos[0], "neighbors"))
		o->obj = OBJ_NEIGH;
	else if (!arg_matches(pos[0], "stats") || !arg_matches(pos[0], "statistics"))
		o->obj = OBJ_STATS;
	else if (!arg_matches(pos[0], "qp") || !arg_matches(pos[0], "qps"))
		o->obj = OBJ_QP;
	else if (!arg_matches(pos[0], "all"))
		o->obj = OBJ_ALL;
	else if (!arg_matches(pos[0], "monitor") || !arg_matches(pos[0], "watch"))
		o->obj = OBJ_MONITOR;
	else if (!arg_matches(pos[0], "topology"))
		o->obj = OBJ_TOPO;
	else
		return fail(err, errlen, "unknown object \"%s\" "
			    "(dev, port, neigh, stats, qp, topo, all, monitor)", pos[0]);
	i = 1;
	/* iproute2 habit: "dev show ml0" */
	if (i < npos && !arg_matches(pos[i], "show") && o->obj != OBJ_MONITOR)
		i++;
	if (i < npos) {
		if (o->obj == OBJ_MONITOR)
			return fail(err, errlen, "monitor takes no argument (got \"%s\")", pos[i]);
		if (strlen(pos[i]) >= ML_DEV_NAME_LEN)
			return fail(err, errlen, "device name \"%s\" is too long", pos[i]);
		o->dev = pos[i++];
	}
	if (i < npos)
		return fail(err, errlen, "unexpected argument \"%s\" (try --help)", pos[i]);
	return 0;
}

/* ---- megalink ---- */

static int kw_value(int argc, char **argv, int *i, const char **val, char *err, size_t errlen)
{
	if (*i + 1 >= argc)
		return fail(err, errlen, "\"%s\" needs a value", argv[*i]);
	*val = argv[++*i];
	return 0;
}

/* node-id / hello / dead keywords; 1 if consumed, 0 if not, <0 error. */
static int timing_kw(int argc, char **argv, int *i, struct admin_opts *o,
		     char *err, size_t errlen)
{
	const char *a = argv[*i], *v = NULL;

	if (!strcmp(a, "node-id") || !strcmp(a, "node") || !strcmp(a, "id")) {
		if (kw_value(argc, argv, i, &v, err, errlen))
			return -EINVAL;
		if (ml_parse_node_id(v, &o->node_id))
			return fail(err, errlen, "%s", ml_last_error());
		o->set |= ADM_SET_NODE_ID;
		return 1;
	}
	if (!strcmp(a, "hello") || !strcmp(a, "hello-ms")) {
		if (kw_value(argc, argv, i, &v, err, errlen))
			return -EINVAL;
		if (parse_ms(v, &o->hello_ms))
			return fail(err, errlen, "hello \"%s\": not a number of milliseconds", v);
		o->set |= ADM_SET_HELLO;
		return 1;
	}
	if (!strcmp(a, "dead") || !strcmp(a, "dead-ms")) {
		if (kw_value(argc, argv, i, &v, err, errlen))
			return -EINVAL;
		if (parse_ms(v, &o->dead_ms))
			return fail(err, errlen, "dead \"%s\": not a number of milliseconds", v);
		o->set |= ADM_SET_DEAD;
		return 1;
	}
	return 0;
}

static int check_dev_name(const char *d, char *err, size_t errlen)
{
	if (strlen(d) >= ML_DEV_NAME_LEN)
		return fail(err, errlen, "device name \"%s\" is too long", d);
	return 0;
}

int admin_parse_args(int argc, char **argv, struct admin_opts *o, char *err, size_t errlen)
{
	char *words[32];
	int n = 0, i, r;
	const char *obj, *verb;

	memset(o, 0, sizeof(*o));
	for (i = 1; i < argc; i++) {
		/* options only before the object, so values may start with '-' */
		if (n == 0) {
			r = common_opt(argv[i], &o->out, &o->help, &o->version);
			if (r < 0)
				return fail(err, errlen, "unknown option \"%s\" (try --help)", argv[i]);
			if (r)
				continue;
		}
		if (n == (int)(sizeof(words) / sizeof(words[0])))
			return fail(err, errlen, "too many arguments");
		words[n++] = argv[i];
	}
	if (o->help || o->version)
		return 0;
	if (!n)
		return fail(err, errlen, "missing object: port, dev, neigh, stats, qp, apply or show --config (try --help)");
	obj = words[0];
	verb = n > 1 ? words[1] : "show";
	if (n > 1 && (!strcmp(verb, "help") || !strcmp(verb, "--help") || !strcmp(verb, "-h"))) {
		o->help = 1;
		return 0;
	}

	if (!strcmp(obj, "apply")) {
		o->cmd = ADM_APPLY;
		for (i = 1; i < n; i++) {
			const char *w = words[i];

			if (!strcmp(w, "--dry-run") || !strcmp(w, "-n"))
				o->dry_run = 1;
			else if (!strcmp(w, "--prune"))
				o->prune = 1;
			else if (!strcmp(w, "--iface") || !strcmp(w, "-i")) {
				if (kw_value(n, words, &i, &o->iface, err, errlen))
					return -EINVAL;
				if (!o->iface[0] || strlen(o->iface) >= ML_LIB_IFNAMSIZ)
					return fail(err, errlen, "--iface \"%s\": not an interface name",
						    o->iface);
			} else if (!strncmp(w, "--iface=", 8) && w[8]) {
				o->iface = w + 8;
			} else if (!strcmp(w, "--help") || !strcmp(w, "-h")) {
				o->help = 1;
			} else if (w[0] == '-' && w[1]) {
				return fail(err, errlen, "apply: unknown option \"%s\" "
					    "(--dry-run, --prune, --iface IFNAME)", w);
			} else {
				if (o->npaths == ADM_MAX_PATHS)
					return fail(err, errlen, "apply: more than %d files", ADM_MAX_PATHS);
				o->paths[o->npaths++] = w;
			}
		}
		if (o->prune && o->iface)
			return fail(err, errlen, "apply: --prune and --iface exclude each other");
		return 0;
	}
	if (!strcmp(obj, "show")) {
		o->cmd = ADM_SHOW_CONFIG;
		for (i = 1; i < n; i++) {
			if (!strcmp(words[i], "--config") || !strcmp(words[i], "-c"))
				continue;
			if (o->dev)
				return fail(err, errlen, "show: unexpected argument \"%s\"", words[i]);
			o->dev = words[i];
			if (check_dev_name(o->dev, err, errlen))
				return -EINVAL;
		}
		for (i = 1; i < n; i++)
			if (!strcmp(words[i], "--config") || !strcmp(words[i], "-c"))
				return 0;
		return fail(err, errlen, "show: only \"show --config [DEV]\" "
			    "(for objects: dev show, port show, ...)");
	}
	if (!arg_matches(obj, "port")) {
		if (!arg_matches(verb, "bind") || !strcmp(verb, "add")) {
			o->cmd = ADM_PORT_BIND;
			if (n < 3)
				return fail(err, errlen, "port bind: missing IFNAME");
			o->ifname = words[2];
			for (i = 3; i < n; i++) {
				r = timing_kw(n, words, &i, o, err, errlen);
				if (r < 0)
					return r;
				if (r)
					continue;
				if (!strcmp(words[i], "dev")) {
					if (kw_value(n, words, &i, &o->dev, err, errlen) ||
					    check_dev_name(o->dev, err, errlen))
						return -EINVAL;
					continue;
				}
				return fail(err, errlen, "port bind: unknown keyword \"%s\" "
					    "(dev, node-id, hello, dead)", words[i]);
			}
			return 0;
		}
		if (!arg_matches(verb, "unbind") || !strcmp(verb, "del") ||
		    !strcmp(verb, "delete")) {
			o->cmd = ADM_PORT_UNBIND;
			if (n < 3)
				return fail(err, errlen, "port unbind: missing IFNAME or dev DEV port N");
			for (i = 2; i < n; i++) {
				if (!strcmp(words[i], "dev")) {
					if (kw_value(n, words, &i, &o->dev, err, errlen) ||
					    check_dev_name(o->dev, err, errlen))
						return -EINVAL;
				} else if (!strcmp(words[i], "port") || !strcmp(words[i], "index")) {
					const char *v = NULL;

					if (kw_value(n, words, &i, &v, err, errlen))
						return -EINVAL;
					if (ml_parse_u32(v, &o->port_index))
						return fail(err, errlen, "port \"%s\": not a number", v);
					o->has_port_index = 1;
				} else if (!o->ifname && i == 2) {
					o->ifname = words[i];
				} else {
					return fail(err, errlen, "port unbind: unexpected \"%s\"", words[i]);
				}
			}
			if (o->ifname && (o->dev || o->has_port_index))
				return fail(err, errlen, "port unbind: give IFNAME or dev DEV port N, not both");
			if (!o->ifname && !(o->dev && o->has_port_index))
				return fail(err, errlen, "port unbind: dev DEV needs port N");
			return 0;
		}
		if (!arg_matches(verb, "show") || !arg_matches(verb, "list")) {
			o->cmd = ADM_PORT_SHOW;
			goto show_dev;
		}
		return fail(err, errlen, "port: unknown command \"%s\" (bind, unbind, show)", verb);
	}

	if (!arg_matches(obj, "dev") || !arg_matches(obj, "device")) {
		if (!arg_matches(verb, "set")) {
			o->cmd = ADM_DEV_SET;
			if (n < 3)
				return fail(err, errlen, "dev set: missing DEV");
			o->dev = words[2];
			if (check_dev_name(o->dev, err, errlen))
				return -EINVAL;
			for (i = 3; i < n; i++) {
				r = timing_kw(n, words, &i, o, err, errlen);
				if (r < 0)
					return r;
				if (!r)
					return fail(err, errlen, "dev set: unknown keyword \"%s\" "
						    "(node-id, hello, dead)", words[i]);
			}
			if (!o->set)
				return fail(err, errlen, "dev set %s: nothing to set "
					    "(node-id, hello, dead)", o->dev);
			return 0;
		}
		if (!arg_matches(verb, "show") || !arg_matches(verb, "list")) {
			o->cmd = ADM_DEV_SHOW;
			goto show_dev;
		}
		return fail(err, errlen, "dev: unknown command \"%s\" (set, show)", verb);
	}

	if (!arg_matches(obj, "neighbours") || !arg_matches(obj, "neighbors")) {
		if (arg_matches(verb, "show") && arg_matches(verb, "list"))
			return fail(err, errlen, "neigh: unknown command \"%s\" (show)", verb);
		o->cmd = ADM_NEIGH_SHOW;
		goto show_dev;
	}
	if (!arg_matches(obj, "stats") || !arg_matches(obj, "statistics")) {
		if (arg_matches(verb, "show") && arg_matches(verb, "list"))
			return fail(err, errlen, "stats: unknown command \"%s\" (show)", verb);
		o->cmd = ADM_STATS_SHOW;
		goto show_dev;
	}
	if (!arg_matches(obj, "qp") || !arg_matches(obj, "qps")) {
		if (arg_matches(verb, "show") && arg_matches(verb, "list"))
			return fail(err, errlen, "qp: unknown command \"%s\" (show)", verb);
		o->cmd = ADM_QP_SHOW;
		goto show_dev;
	}
	if (!arg_matches(obj, "peer") || !arg_matches(obj, "peers")) {
		if (!strcmp(verb, "add") || !strcmp(verb, "del") ||
		    !strcmp(verb, "delete")) {
			o->cmd = verb[0] == 'a' ? ADM_PEER_ADD : ADM_PEER_DEL;
			if (n < 4)
				return fail(err, errlen, "peer %s: missing DEV ADDR", verb);
			o->dev = words[2];
			if (check_dev_name(o->dev, err, errlen))
				return -EINVAL;
			o->addr = words[3];
			for (i = 4; i < n; i++) {
				if (o->cmd == ADM_PEER_ADD && !strcmp(words[i], "local")) {
					if (kw_value(n, words, &i, &o->local, err, errlen))
						return -EINVAL;
					continue;
				}
				return fail(err, errlen, "peer %s: unexpected \"%s\"", verb, words[i]);
			}
			return 0;
		}
		if (arg_matches(verb, "show") && arg_matches(verb, "list"))
			return fail(err, errlen, "peer: unknown command \"%s\" (add, del, show)", verb);
		o->cmd = ADM_PEER_SHOW;
		goto show_dev;
	}
	return fail(err, errlen, "unknown object \"%s\" (port, dev, neigh, stats, qp, peer)", obj);

show_dev:
	for (i = 2; i < n; i++) {
		if (!strcmp(words[i], "dev") && i + 1 < n)
			i++;
		if (o->dev)
			return fail(err, errlen, "unexpected argument \"%s\"", words[i]);
		o->dev = words[i];
		if (check_dev_name(o->dev, err, errlen))
			return -EINVAL;
	}
	return 0;
}
