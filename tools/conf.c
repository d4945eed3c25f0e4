// SPDX-License-Identifier: MIT
/*
 * megalink.conf(5): parser and diff.
 *
 * A file is a list of lines; '#' starts a comment.  Two statements, with
 * the words of the command line:
 *
 *	dev NAME [node-id N] [hello MS] [dead MS]
 *	port IFNAME dev NAME [up]
 *	peer ADDR dev NAME [local ADDR]
 *
 * Files are read in the order given (a directory's *.conf in lexical
 * order); a later file may add devices and ports, or repeat a device to
 * add settings, but never contradict an earlier value.  Everything is
 * parsed and checked before anything is compared with the running state.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include "args.h"
#include "conf.h"

void conf_init(struct conf *c)
{
	memset(c, 0, sizeof(*c));
}

void conf_free(struct conf *c)
{
	size_t i;

	for (i = 0; i < c->nfiles; i++)
		free(c->files[i]);
	for (i = 0; i < c->nerrs; i++)
		free(c->errs[i]);
	free(c->files);
	free(c->errs);
	free(c->devs);
	free(c->ports);
	free(c->peers);
	memset(c, 0, sizeof(*c));
}

static void *grow(void *p, size_t n, size_t size)
{
	void *q = realloc(p, (n + 1) * size);

	if (!q) {
		perror("megalink");
		exit(1);
	}
	return q;
}

static void conf_err(struct conf *c, const struct conf_loc *l, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void conf_err(struct conf *c, const struct conf_loc *l, const char *fmt, ...)
{
	char msg[256], *s;
	va_list ap;

	if (c->nerrs > CONF_MAX_ERRORS)
		return;
	if (c->nerrs == CONF_MAX_ERRORS) {
		snprintf(msg, sizeof(msg), "too many errors");
	} else {
		va_start(ap, fmt);
		vsnprintf(msg, sizeof(msg), fmt, ap);
		va_end(ap);
	}
	if (asprintf(&s, "%s:%u: %s", l->file, l->line, msg) < 0) {
		perror("megalink");
		exit(1);
	}
	c->errs = grow(c->errs, c->nerrs, sizeof(*c->errs));
	c->errs[c->nerrs++] = s;
}

static const char *conf_file(struct conf *c, const char *file)
{
	char *s = strdup(file);

	if (!s) {
		perror("megalink");
		exit(1);
	}
	c->files = grow(c->files, c->nfiles, sizeof(*c->files));
	c->files[c->nfiles++] = s;
	return s;
}

/* Device names: what the kernel gives ("ml0") or any label of letters,
 * digits, '_', '-' and '.'. */
static int valid_dev_name(const char *s)
{
	size_t n = strlen(s);

	if (!n || n >= ML_DEV_NAME_LEN)
		return 0;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("_-.", *s))
			return 0;
	return 1;
}

/* As the kernel's dev_valid_name(). */
static int valid_ifname(const char *s)
{
	size_t n = strlen(s);

	if (!n || n >= ML_LIB_IFNAMSIZ || !strcmp(s, ".") || !strcmp(s, ".."))
		return 0;
	return strpbrk(s, "/:") == NULL;
}

static struct conf_dev *find_dev(struct conf *c, const char *name)
{
	size_t i;

	for (i = 0; i < c->ndevs; i++)
		if (!strcmp(c->devs[i].name, name))
			return &c->devs[i];
	return NULL;
}

/* One setting of a dev line, merged into @d; 0 or -1 (error reported). */
static int set_u32(struct conf *c, const struct conf_loc *l, struct conf_dev *d,
		   uint32_t bit, uint32_t *line_set, const char *key,
		   uint32_t v, uint32_t *field, struct conf_loc *floc)
{
	if (*line_set & bit) {
		conf_err(c, l, "dev %s: %s given twice", d->name, key);
		return -1;
	}
	*line_set |= bit;
	if ((d->set & bit) && *field != v) {
		if (bit == CONF_SET_NODE_ID)
			conf_err(c, l, "dev %s: node-id 0x%08x conflicts with node-id 0x%08x at %s:%u",
				 d->name, v, *field, floc->file, floc->line);
		else
			conf_err(c, l, "dev %s: %s %u conflicts with %s %u at %s:%u",
				 d->name, key, v, key, *field, floc->file, floc->line);
		return -1;
	}
	if (!(d->set & bit)) {
		d->set |= bit;
		*field = v;
		*floc = *l;
	}
	return 0;
}

static void parse_dev(struct conf *c, const struct conf_loc *l, char **w, int n)
{
	struct conf_dev *d, tmp;
	uint32_t line_set = 0, v;
	int i;

	if (n < 2) {
		conf_err(c, l, "dev: missing device name");
		return;
	}
	if (!valid_dev_name(w[1])) {
		conf_err(c, l, "dev \"%s\": invalid device name (at most %d letters, "
			 "digits, '_', '-' or '.')", w[1], ML_DEV_NAME_LEN - 1);
		return;
	}
	d = find_dev(c, w[1]);
	if (!d) {
		/* on a copy until the line is known to be good */
		memset(&tmp, 0, sizeof(tmp));
		strcpy(tmp.name, w[1]);
		tmp.loc = *l;
		d = &tmp;
	} else {
		tmp = *d;
		d = &tmp;
	}
	for (i = 2; i < n; i++) {
		const char *k = w[i], *val = i + 1 < n ? w[i + 1] : NULL;

		if (!strcmp(k, "node-id") || !strcmp(k, "hello") || !strcmp(k, "dead")) {
			if (!val) {
				conf_err(c, l, "dev %s: %s needs a value", d->name, k);
				return;
			}
			i++;
		}
		if (!strcmp(k, "node-id")) {
			if (ml_parse_u32(val, &v)) {
				conf_err(c, l, "dev %s: node-id \"%s\": not a number", d->name, val);
				return;
			}
			if (v < ML_NODE_ID_MIN || v > ML_NODE_ID_MAX) {
				conf_err(c, l, "dev %s: node-id %s out of range (1..0xfffffffe)",
					 d->name, val);
				return;
			}
			if (set_u32(c, l, d, CONF_SET_NODE_ID, &line_set, k, v,
				    &d->node_id, &d->node_loc))
				return;
		} else if (!strcmp(k, "hello")) {
			if (parse_ms(val, &v)) {
				conf_err(c, l, "dev %s: hello \"%s\": not a number of milliseconds",
					 d->name, val);
				return;
			}
			if (v < ML_HELLO_MS_MIN || v > ML_HELLO_MS_MAX) {
				conf_err(c, l, "dev %s: hello %u out of range (%u..%u ms)",
					 d->name, v, ML_HELLO_MS_MIN, ML_HELLO_MS_MAX);
				return;
			}
			if (set_u32(c, l, d, CONF_SET_HELLO, &line_set, k, v,
				    &d->hello_ms, &d->hello_loc))
				return;
		} else if (!strcmp(k, "dead")) {
			if (parse_ms(val, &v)) {
				conf_err(c, l, "dev %s: dead \"%s\": not a number of milliseconds",
					 d->name, val);
				return;
			}
			if (v < ML_DEAD_MS_MIN || v > ML_DEAD_MS_MAX) {
				conf_err(c, l, "dev %s: dead %u out of range (%u..%u ms)",
					 d->name, v, ML_DEAD_MS_MIN, ML_DEAD_MS_MAX);
				return;
			}
			if (set_u32(c, l, d, CONF_SET_DEAD, &line_set, k, v,
				    &d->dead_ms, &d->dead_loc))
				return;
		} else {
			conf_err(c, l, "dev %s: unknown key \"%s\" (node-id, hello, dead)",
				 d->name, k);
			return;
		}
	}
	if (!find_dev(c, tmp.name)) {
		c->devs = grow(c->devs, c->ndevs, sizeof(*c->devs));
		c->devs[c->ndevs++] = tmp;
	} else {
		*find_dev(c, tmp.name) = tmp;
	}
}

static void parse_port(struct conf *c, const struct conf_loc *l, char **w, int n)
{
	struct conf_port p;
	size_t j;
	int i;

	memset(&p, 0, sizeof(p));
	p.loc = *l;
	p.devi = -1;
	if (n < 2) {
		conf_err(c, l, "port: missing IFNAME");
		return;
	}
	if (!valid_ifname(w[1])) {
		conf_err(c, l, "port \"%s\": invalid interface name", w[1]);
		return;
	}
	strcpy(p.ifname, w[1]);
	for (i = 2; i < n; i++) {
		if (!strcmp(w[i], "dev")) {
			if (i + 1 >= n) {
				conf_err(c, l, "port %s: dev needs a value", p.ifname);
				return;
			}
			if (p.dev[0]) {
				conf_err(c, l, "port %s: dev given twice", p.ifname);
				return;
			}
			if (!valid_dev_name(w[++i])) {
				conf_err(c, l, "port %s: dev \"%s\": invalid device name",
					 p.ifname, w[i]);
				return;
			}
			strcpy(p.dev, w[i]);
		} else if (!strcmp(w[i], "up")) {
			p.up = 1;
		} else {
			conf_err(c, l, "port %s: unknown key \"%s\" (dev, up)", p.ifname, w[i]);
			return;
		}
	}
	if (!p.dev[0]) {
		conf_err(c, l, "port %s: missing dev NAME", p.ifname);
		return;
	}
	for (j = 0; j < c->nports; j++) {
		const struct conf_port *o = &c->ports[j];

		if (strcmp(o->ifname, p.ifname))
			continue;
		if (!strcmp(o->dev, p.dev))
			conf_err(c, l, "port %s: duplicate port (already at %s:%u)",
				 p.ifname, o->loc.file, o->loc.line);
		else
			conf_err(c, l, "port %s: in dev %s and in dev %s at %s:%u",
				 p.ifname, p.dev, o->dev, o->loc.file, o->loc.line);
		return;
	}
	c->ports = grow(c->ports, c->nports, sizeof(*c->ports));
	c->ports[c->nports++] = p;
}

int conf_addr_canon(const char *s, char *out)
{
	unsigned char b[sizeof(struct in6_addr)];

	if (inet_pton(AF_INET, s, b) == 1) {
		inet_ntop(AF_INET, b, out, CONF_ADDR_LEN);
		return AF_INET;
	}
	if (inet_pton(AF_INET6, s, b) == 1) {
		inet_ntop(AF_INET6, b, out, CONF_ADDR_LEN);
		return AF_INET6;
	}
	return 0;
}

/* NULL if the address @s (of family @fam) can be a peer's, else why not. */
static const char *peer_addr_problem(const char *s, int fam)
{
	unsigned char b[sizeof(struct in6_addr)];

	if (fam == AF_INET) {
		uint32_t a;

		inet_pton(AF_INET, s, b);
		memcpy(&a, b, 4);
		a = ntohl(a);
		if (!a || a == 0xffffffffu || (a >> 28) == 0xe)
			return "not a unicast IPv4 address";
		return NULL;
	}
	inet_pton(AF_INET6, s, b);
	if (IN6_IS_ADDR_UNSPECIFIED((struct in6_addr *)b) ||
	    IN6_IS_ADDR_MULTICAST((struct in6_addr *)b))
		return "not a unicast IPv6 address";
	if (IN6_IS_ADDR_V4MAPPED((struct in6_addr *)b))
		return "an IPv4-mapped IPv6 address (give the IPv4 address)";
	if (IN6_IS_ADDR_LINKLOCAL((struct in6_addr *)b))
		return "a link-local IPv6 address (peers are routed: use a global or ULA address)";
	return NULL;
}

static void parse_peer(struct conf *c, const struct conf_loc *l, char **w, int n)
{
	struct conf_peer p;
	const char *why;
	int fam, lfam;
	size_t j;
	int i;

	memset(&p, 0, sizeof(p));
	p.loc = *l;
	p.devi = -1;
	if (n < 2) {
		conf_err(c, l, "peer: missing ADDR");
		return;
	}
	fam = conf_addr_canon(w[1], p.addr);
	if (!fam) {
		conf_err(c, l, "peer \"%s\": not an IPv4 or IPv6 address", w[1]);
		return;
	}
	why = peer_addr_problem(w[1], fam);
	if (why) {
		conf_err(c, l, "peer %s: %s", w[1], why);
		return;
	}
	for (i = 2; i < n; i++) {
		if (!strcmp(w[i], "dev")) {
			if (i + 1 >= n) {
				conf_err(c, l, "peer %s: dev needs a value", p.addr);
				return;
			}
			if (p.dev[0]) {
				conf_err(c, l, "peer %s: dev given twice", p.addr);
				return;
			}
			if (!valid_dev_name(w[++i])) {
				conf_err(c, l, "peer %s: dev \"%s\": invalid device name",
					 p.addr, w[i]);
				return;
			}
			strcpy(p.dev, w[i]);
		} else if (!strcmp(w[i], "local")) {
			if (i + 1 >= n) {
				conf_err(c, l, "peer %s: local needs a value", p.addr);
				return;
			}
			if (p.local[0]) {
				conf_err(c, l, "peer %s: local given twice", p.addr);
				return;
			}
			lfam = conf_addr_canon(w[++i], p.local);
			if (!lfam) {
				conf_err(c, l, "peer %s: local \"%s\": not an IPv4 or IPv6 address",
					 p.addr, w[i]);
				return;
			}
			if (lfam != fam) {
				conf_err(c, l, "peer %s: local %s is not an %s address like the peer's",
					 p.addr, p.local, fam == AF_INET ? "IPv4" : "IPv6");
				return;
			}
			why = peer_addr_problem(w[i], lfam);
			if (why) {
				conf_err(c, l, "peer %s: local %s: %s", p.addr, p.local, why);
				return;
			}
		} else {
			conf_err(c, l, "peer %s: unknown key \"%s\" (dev, local)", p.addr, w[i]);
			return;
		}
	}
	if (!p.dev[0]) {
		conf_err(c, l, "peer %s: missing dev NAME", p.addr);
		return;
	}
	for (j = 0; j < c->npeers; j++) {
		const struct conf_peer *o = &c->peers[j];

		if (strcmp(o->addr, p.addr))
			continue;
		if (!strcmp(o->dev, p.dev))
			conf_err(c, l, "peer %s: duplicate peer (already at %s:%u)",
				 p.addr, o->loc.file, o->loc.line);
		else
			conf_err(c, l, "peer %s: in dev %s and in dev %s at %s:%u (a node's "
				 "UDP frames from one address go to one device)",
				 p.addr, p.dev, o->dev, o->loc.file, o->loc.line);
		return;
	}
	c->peers = grow(c->peers, c->npeers, sizeof(*c->peers));
	c->peers[c->npeers++] = p;
}

size_t conf_parse_text(struct conf *c, const char *file, const char *text)
{
	struct conf_loc l = { conf_file(c, file), 0 };
	const char *s = text;

	while (*s) {
		const char *eol = strchr(s, '\n');
		size_t len = eol ? (size_t)(eol - s) : strlen(s);
		char *line = strndup(s, len), *w[32], *p, *hash;
		int n = 0;

		if (!line) {
			perror("megalink");
			exit(1);
		}
		l.line++;
		hash = strchr(line, '#');
		if (hash)
			*hash = '\0';
		for (p = strtok(line, " \t\r\f\v"); p; p = strtok(NULL, " \t\r\f\v")) {
			if (n == (int)(sizeof(w) / sizeof(w[0]))) {
				conf_err(c, &l, "line too long (more than %d words)", n);
				n = -1;
				break;
			}
			w[n++] = p;
		}
		if (n > 0) {
			if (!strcmp(w[0], "dev"))
				parse_dev(c, &l, w, n);
			else if (!strcmp(w[0], "port"))
				parse_port(c, &l, w, n);
			else if (!strcmp(w[0], "peer"))
				parse_peer(c, &l, w, n);
			else
				conf_err(c, &l, "unknown statement \"%s\" (dev, port, peer)", w[0]);
		}
		free(line);
		s += len;
		if (*s == '\n')
			s++;
	}
	return c->nerrs;
}

static size_t parse_file(struct conf *c, const char *path)
{
	struct conf_loc l = { NULL, 0 };
	char *buf = NULL;
	size_t len = 0, n;
	FILE *f, *m;
	char chunk[4096];

	f = fopen(path, "r");
	if (!f) {
		l.file = conf_file(c, path);
		conf_err(c, &l, "%s", strerror(errno));
		return c->nerrs;
	}
	m = open_memstream(&buf, &len);
	if (!m) {
		perror("megalink");
		exit(1);
	}
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		fwrite(chunk, 1, n, m);
	fclose(f);
	fclose(m);
	if (strlen(buf) != len) {
		l.file = conf_file(c, path);
		conf_err(c, &l, "not a text file (NUL byte)");
	} else {
		conf_parse_text(c, path, buf);
	}
	free(buf);
	return c->nerrs;
}

static int conf_filter(const struct dirent *e)
{
	size_t n = strlen(e->d_name);

	return e->d_name[0] != '.' && n > 5 && !strcmp(e->d_name + n - 5, ".conf");
}

size_t conf_parse_path(struct conf *c, const char *path)
{
	struct dirent **ents;
	struct stat st;
	int n, i;

	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
		n = scandir(path, &ents, conf_filter, alphasort);
		if (n < 0) {
			struct conf_loc l = { conf_file(c, path), 0 };

			conf_err(c, &l, "%s", strerror(errno));
			return c->nerrs;
		}
		for (i = 0; i < n; i++) {
			char *p;

			if (asprintf(&p, "%s%s%s", path,
				     path[strlen(path) - 1] == '/' ? "" : "/",
				     ents[i]->d_name) < 0) {
				perror("megalink");
				exit(1);
			}
			parse_file(c, p);
			free(p);
			free(ents[i]);
		}
		free(ents);
		return c->nerrs;
	}
	return parse_file(c, path);
}

size_t conf_finish(struct conf *c)
{
	size_t i, j;

	for (i = 0; i < c->nports; i++) {
		struct conf_port *p = &c->ports[i];
		struct conf_dev *d = find_dev(c, p->dev);

		if (!d) {
			conf_err(c, &p->loc, "port %s: dev %s is not defined by any \"dev %s\" line",
				 p->ifname, p->dev, p->dev);
			continue;
		}
		p->devi = d - c->devs;
		if (++d->nports == ML_MAX_PORTS + 1)
			conf_err(c, &p->loc, "port %s: dev %s has more than %d ports",
				 p->ifname, d->name, ML_MAX_PORTS);
	}
	for (i = 0; i < c->npeers; i++) {
		struct conf_peer *p = &c->peers[i];
		struct conf_dev *d = find_dev(c, p->dev);

		if (!d) {
			conf_err(c, &p->loc, "peer %s: dev %s is not defined by any \"dev %s\" line",
				 p->addr, p->dev, p->dev);
			continue;
		}
		p->devi = d - c->devs;
		if (++d->npeers == ML_MAX_PEERS + 1)
			conf_err(c, &p->loc, "peer %s: dev %s has more than %d peers",
				 p->addr, d->name, ML_MAX_PEERS);
	}
	for (i = 0; i < c->ndevs; i++) {
		struct conf_dev *d = &c->devs[i];

		if ((d->set & CONF_SET_HELLO) && (d->set & CONF_SET_DEAD) &&
		    d->dead_ms < 2 * d->hello_ms)
			conf_err(c, &d->dead_loc, "dev %s: dead %u must be at least twice hello %u",
				 d->name, d->dead_ms, d->hello_ms);
		if (!(d->set & CONF_SET_NODE_ID))
			continue;
		for (j = 0; j < i; j++)
			if ((c->devs[j].set & CONF_SET_NODE_ID) &&
			    c->devs[j].node_id == d->node_id)
				conf_err(c, &d->node_loc,
					 "dev %s: node-id 0x%08x is also dev %s's (%s:%u)",
					 d->name, d->node_id, c->devs[j].name,
					 c->devs[j].node_loc.file, c->devs[j].node_loc.line);
	}
	return c->nerrs;
}

void conf_print_dev(FILE *f, const struct ml_dev_attr *d)
{
	fprintf(f, "dev %s node-id 0x%08x hello %u dead %u\n",
		d->name, d->node_id, d->hello_ms, d->dead_ms);
}

void conf_print_port(FILE *f, const struct ml_port_info *p)
{
	fprintf(f, "port %s dev %s\n", p->ifname, p->dev);
}

void conf_print_peer(FILE *f, const struct conf_rpeer *p)
{
	fprintf(f, "peer %s dev %s", p->addr, p->dev);
	if (p->local[0])
		fprintf(f, " local %s", p->local);
	fputc('\n', f);
}

/* ---- diff ---- */

static struct conf_action *add_act(struct conf_plan *plan, enum conf_act_type t,
				   int cdev, const char *dev, const char *ifname)
{
	struct conf_action *a;

	plan->acts = grow(plan->acts, plan->nacts, sizeof(*plan->acts));
	a = &plan->acts[plan->nacts++];
	memset(a, 0, sizeof(*a));
	a->type = t;
	a->cdev = cdev;
	if (dev)
		snprintf(a->dev, sizeof(a->dev), "%s", dev);
	if (ifname)
		snprintf(a->ifname, sizeof(a->ifname), "%s", ifname);
	return a;
}

static const struct ml_port_info *running_port(const struct ml_port_info *rp, size_t nrp,
					       const char *ifname)
{
	size_t i;

	for (i = 0; i < nrp; i++)
		if (!strcmp(rp[i].ifname, ifname))
			return &rp[i];
	return NULL;
}

static int running_dev(const struct ml_dev_attr *rd, size_t nrd, const char *name)
{
	size_t i;

	for (i = 0; i < nrd; i++)
		if (!strcmp(rd[i].name, name))
			return (int)i;
	return -1;
}

static int conf_has_port(const struct conf *c, const char *ifname)
{
	size_t i;

	for (i = 0; i < c->nports; i++)
		if (!strcmp(c->ports[i].ifname, ifname))
			return 1;
	return 0;
}

static void unbind_act(struct conf_plan *plan, const struct ml_dev_attr *rd, size_t nrd,
		       unsigned int *left, const struct ml_port_info *p)
{
	struct conf_action *a = add_act(plan, CONF_ACT_UNBIND, -1, p->dev, p->ifname);
	int j = running_dev(rd, nrd, p->dev);

	if (j >= 0 && left[j] && --left[j] == 0)
		a->last = 1;
}

/* The running peer @addr of device @dev, or NULL. */
static const struct conf_rpeer *running_peer(const struct conf_diff_opts *o, const char *dev,
					     const char *addr)
{
	size_t i;

	for (i = 0; i < o->npeers; i++)
		if (!strcmp(o->peers[i].dev, dev) && !strcmp(o->peers[i].addr, addr))
			return &o->peers[i];
	return NULL;
}

static int conf_has_peer(const struct conf *c, int devi, const char *addr)
{
	size_t i;

	for (i = 0; i < c->npeers; i++)
		if (c->peers[i].devi == devi && !strcmp(c->peers[i].addr, addr))
			return 1;
	return 0;
}

static void peer_act(struct conf_plan *plan, enum conf_act_type t, int cdev, const char *dev,
		     const char *addr, const char *local)
{
	struct conf_action *a = add_act(plan, t, cdev, dev, NULL);

	snprintf(a->addr, sizeof(a->addr), "%s", addr);
	if (local)
		snprintf(a->local, sizeof(a->local), "%s", local);
}

/*
 * Peers, once the ports are planned.  A device created by this plan gets all
 * its peers (a device's peers go with it); a running device that keeps a port
 * gets the missing ones, a peer whose local address differs is replaced, and
 * with --prune the peers the files do not name are removed.  With --iface
 * (a netdev appeared) only a device that the plan creates is concerned.  A
 * device with no port has no peers: said in a note.
 */
static void peer_diff(const struct conf *c, const struct ml_dev_attr *rd,
		      const struct conf_diff_opts *o, struct conf_plan *plan,
		      const int *match, const int *created, const unsigned int *left)
{
	const struct conf_rpeer *cur;
	struct conf_action *a;
	size_t i, j;

	for (i = 0; i < c->npeers; i++) {
		const struct conf_peer *p = &c->peers[i];
		int m = match[p->devi];

		if (created[p->devi]) {
			peer_act(plan, CONF_ACT_PEER_ADD, p->devi, c->devs[p->devi].name, p->addr,
				 p->local);
			continue;
		}
		if (o->iface)
			continue;
		if (m < 0 || !left[m]) {
			a = add_act(plan, CONF_ACT_NOTE, p->devi, p->dev, NULL);
			snprintf(a->note, sizeof(a->note),
				 "skip peer %s: dev %s has no port yet", p->addr, p->dev);
			continue;
		}
		cur = running_peer(o, rd[m].name, p->addr);
		if (cur && !strcmp(cur->local, p->local))
			continue;
		if (cur)
			peer_act(plan, CONF_ACT_PEER_DEL, p->devi, rd[m].name, p->addr, NULL);
		peer_act(plan, CONF_ACT_PEER_ADD, p->devi, rd[m].name, p->addr, p->local);
	}
	if (!o->prune || o->iface)
		return;
	for (j = 0; j < o->npeers; j++) {
		const struct conf_rpeer *r = &o->peers[j];
		int devi = -1;

		for (i = 0; i < c->ndevs; i++)
			if (match[i] >= 0 && !strcmp(rd[match[i]].name, r->dev))
				devi = (int)i;
		/* A device that loses its last port takes its peers along. */
		if (devi < 0 || created[devi] || !left[match[devi]])
			continue;
		if (!conf_has_peer(c, devi, r->addr))
			peer_act(plan, CONF_ACT_PEER_DEL, devi, r->dev, r->addr, NULL);
	}
}

int conf_diff(const struct conf *c, const struct ml_dev_attr *rd, size_t nrd,
	      const struct ml_port_info *rp, size_t nrp,
	      const struct conf_diff_opts *o, struct conf_plan *plan)
{
	int *match = calloc(c->ndevs + 1, sizeof(int));
	int *used = calloc(nrd + 1, sizeof(int));
	int *created = calloc(c->ndevs + 1, sizeof(int));
	unsigned int *left = calloc(nrd + 1, sizeof(unsigned int));
	size_t i, j;

	memset(plan, 0, sizeof(*plan));
	if (!match || !used || !created || !left) {
		free(match);
		free(used);
		free(created);
		free(left);
		return -ENOMEM;
	}
	/* A device is the running one with its node-id, else with its name. */
	for (i = 0; i < c->ndevs; i++) {
		match[i] = -1;
		if (!(c->devs[i].set & CONF_SET_NODE_ID))
			continue;
		for (j = 0; j < nrd; j++)
			if (rd[j].node_id == c->devs[i].node_id) {
				match[i] = (int)j;
				used[j] = 1;
				break;
			}
	}
	for (i = 0; i < c->ndevs; i++) {
		int r = running_dev(rd, nrd, c->devs[i].name);

		if (match[i] < 0 && r >= 0 && !used[r]) {
			match[i] = r;
			used[r] = 1;
		}
	}
	for (j = 0; j < nrp; j++) {
		int r = running_dev(rd, nrd, rp[j].dev);

		if (r >= 0)
			left[r]++;
	}

	/* Settings of devices that exist (all of them but for --iface). */
	for (i = 0; i < c->ndevs && !o->iface; i++) {
		const struct conf_dev *d = &c->devs[i];
		const struct ml_dev_attr *r;
		struct conf_action a;

		if (match[i] < 0)
			continue;
		r = &rd[match[i]];
		memset(&a, 0, sizeof(a));
		if ((d->set & CONF_SET_NODE_ID) && d->node_id != r->node_id)
			a.force |= CONF_SET_NODE_ID;
		if ((d->set & CONF_SET_HELLO) && d->hello_ms != r->hello_ms)
			a.force |= CONF_SET_HELLO;
		if ((d->set & CONF_SET_DEAD) && d->dead_ms != r->dead_ms)
			a.force |= CONF_SET_DEAD;
		if (!a.force)
			continue;
		a.type = CONF_ACT_SET;
		a.cdev = (int)i;
		strcpy(a.dev, r->name);
		a.node_id = d->node_id;
		a.hello_ms = d->hello_ms;
		a.dead_ms = d->dead_ms;
		a.old_node_id = r->node_id;
		a.old_hello_ms = r->hello_ms;
		a.old_dead_ms = r->dead_ms;
		*add_act(plan, CONF_ACT_SET, 0, NULL, NULL) = a;
	}

	/* Ports in the order of the files. */
	for (i = 0; i < c->nports; i++) {
		const struct conf_port *p = &c->ports[i];
		const struct conf_dev *d = &c->devs[p->devi];
		const struct ml_port_info *cur = running_port(rp, nrp, p->ifname);
		int m = match[p->devi], st;
		struct conf_action *a;

		if (o->iface && strcmp(o->iface, p->ifname))
			continue;
		if (cur && m >= 0 && !strcmp(cur->dev, rd[m].name))
			continue;
		if (!cur) {
			st = o->netdev ? o->netdev(p->ifname, o->arg) : 1;
			if (st < 0) {
				a = add_act(plan, CONF_ACT_NOTE, p->devi, d->name, p->ifname);
				snprintf(a->note, sizeof(a->note),
					 "skip port %s: no such network device", p->ifname);
				continue;
			}
			if (st == 0 && p->up)
				add_act(plan, CONF_ACT_UP, p->devi, NULL, p->ifname);
		} else {
			unbind_act(plan, rd, nrd, left, cur);
		}
		if (m >= 0 && !left[m])
			m = -1;		/* it went with its last port: create it again */
		if (m >= 0) {
			add_act(plan, CONF_ACT_BIND, p->devi, rd[m].name, p->ifname);
			left[m]++;
		} else if (created[p->devi]) {
			add_act(plan, CONF_ACT_BIND, p->devi, d->name, p->ifname);
		} else {
			a = add_act(plan, CONF_ACT_BIND_NEW, p->devi, d->name, p->ifname);
			a->force = d->set;
			a->node_id = d->node_id;
			a->hello_ms = d->hello_ms;
			a->dead_ms = d->dead_ms;
			created[p->devi] = 1;
		}
	}

	/* --prune: ports that the files do not name. */
	for (j = 0; j < nrp && o->prune && !o->iface; j++)
		if (!conf_has_port(c, rp[j].ifname))
			unbind_act(plan, rd, nrd, left, &rp[j]);

	peer_diff(c, rd, o, plan, match, created, left);

	free(match);
	free(used);
	free(created);
	free(left);
	return 0;
}

void conf_plan_free(struct conf_plan *plan)
{
	free(plan->acts);
	memset(plan, 0, sizeof(*plan));
}

size_t conf_plan_changes(const struct conf_plan *plan)
{
	size_t i, n = 0;

	for (i = 0; i < plan->nacts; i++)
		n += plan->acts[i].type != CONF_ACT_NOTE;
	return n;
}

static void print_settings(FILE *f, const struct conf_action *a)
{
	if (a->force & CONF_SET_NODE_ID)
		fprintf(f, " node-id 0x%08x", a->node_id);
	if (a->force & CONF_SET_HELLO)
		fprintf(f, " hello %u", a->hello_ms);
	if (a->force & CONF_SET_DEAD)
		fprintf(f, " dead %u", a->dead_ms);
}

void conf_action_print(FILE *f, const struct conf_action *a)
{
	switch (a->type) {
	case CONF_ACT_SET:
		fprintf(f, "~ set dev %s", a->dev);
		if (a->force & CONF_SET_NODE_ID)
			fprintf(f, " node-id 0x%08x -> 0x%08x", a->old_node_id, a->node_id);
		if (a->force & CONF_SET_HELLO)
			fprintf(f, " hello %u -> %u", a->old_hello_ms, a->hello_ms);
		if (a->force & CONF_SET_DEAD)
			fprintf(f, " dead %u -> %u", a->old_dead_ms, a->dead_ms);
		break;
	case CONF_ACT_BIND_NEW:
		fprintf(f, "+ bind port %s to new dev %s", a->ifname, a->dev);
		print_settings(f, a);
		break;
	case CONF_ACT_BIND:
		fprintf(f, "+ bind port %s to dev %s", a->ifname, a->dev);
		break;
	case CONF_ACT_UNBIND:
		fprintf(f, "- unbind port %s from dev %s", a->ifname, a->dev);
		if (a->last)
			fprintf(f, " (its last port: dev %s goes away)", a->dev);
		break;
	case CONF_ACT_UP:
		fprintf(f, "+ set link %s up", a->ifname);
		break;
	case CONF_ACT_NOTE:
		fprintf(f, "# %s", a->note);
		break;
	case CONF_ACT_PEER_ADD:
		fprintf(f, "+ add peer %s to dev %s", a->addr, a->dev);
		if (a->local[0])
			fprintf(f, " local %s", a->local);
		break;
	case CONF_ACT_PEER_DEL:
		fprintf(f, "- remove peer %s from dev %s", a->addr, a->dev);
		break;
	}
	fputc('\n', f);
}
