// SPDX-License-Identifier: MIT
/*
 * megalink-stat topo: the whole fabric as each local device sees it (the
 * flooded topology records), as text, JSON, Graphviz DOT or a PNG drawn
 * by Graphviz's dot.  Links of this node that carry live QPs are marked
 * "in use".
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "topo.h"

/* QPs of device @dev_index connected to @node over local port @port. */
static unsigned int qps_on(const struct topo_view *v, uint32_t dev_index,
			   uint32_t port, uint32_t node)
{
	unsigned int c = 0;
	size_t i;

	for (i = 0; i < v->nqps; i++) {
		const struct ml_qp_info *q = &v->qps[i];

		if (q->dev_index == dev_index && q->port_index == port &&
		    q->remote_node == node &&
		    (q->state == ML_QPS_RTR || q->state == ML_QPS_RTS))
			c++;
	}
	return c;
}

unsigned int topo_link_qps(const struct topo_view *v,
			   const struct ml_topo_node_info *t,
			   const struct ml_topo_link_info *l)
{
	if (!(t->flags & ML_TOPO_NODE_SELF))
		return 0;
	return qps_on(v, t->dev_index, l->local_port, l->node_id);
}

int topo_fetch(struct ml_ctl *ctl, const char *dev, struct topo_view *v)
{
	int err;

	memset(v, 0, sizeof(*v));
	err = ml_ctl_topology(ctl, dev, &v->nodes, &v->nnodes);
	if (err < 0)
		return err;
	/* QPs only mark links: a kernel without the QP dump still draws. */
	if (ml_ctl_qps(ctl, dev, &v->qps, &v->nqps) < 0) {
		v->qps = NULL;
		v->nqps = 0;
	}
	return 0;
}

void topo_free(struct topo_view *v)
{
	ml_free(v->nodes);
	ml_free(v->qps);
	memset(v, 0, sizeof(*v));
}

static void text_view(FILE *f, const struct topo_view *v)
{
	uint32_t cur = UINT32_MAX;
	size_t i, j, nreach = 0, nview = 0;

	for (i = 0; i < v->nnodes; i++) {
		const struct ml_topo_node_info *t = &v->nodes[i];

		if (t->dev_index != cur) {
			cur = t->dev_index;
			nview = nreach = 0;
			for (j = i; j < v->nnodes && v->nodes[j].dev_index == cur; j++) {
				nview++;
				nreach += !!(v->nodes[j].flags & ML_TOPO_NODE_REACHABLE);
			}
			fprintf(f, "%s: %zu nodes, %zu reachable\n", t->dev, nview, nreach);
		}
		fprintf(f, "  node 0x%08x%s%s seq %u age %ums lifetime %ums links %u\n",
			t->node_id, t->flags & ML_TOPO_NODE_SELF ? " self" : "",
			t->flags & ML_TOPO_NODE_REACHABLE ? "" : " unreachable",
			t->seq, t->age_ms, t->lifetime_ms, t->num_links);
		for (j = 0; j < t->num_links; j++) {
			const struct ml_topo_link_info *l = &t->links[j];
			unsigned int q = topo_link_qps(v, t, l);

			fprintf(f, "    port %u -> node 0x%08x port %u %s %s mtu %u",
				l->local_port, l->node_id, l->remote_port,
				ml_topo_link_kind_name(l->kind),
				ml_link_state_name(l->state), l->mtu);
			if (q)
				fprintf(f, " in-use qps %u", q);
			fputc('\n', f);
		}
	}
}

static void json_view(struct jw *w, const struct topo_view *v)
{
	size_t i, j;

	jw_begin_array(w);
	for (i = 0; i < v->nnodes; i++) {
		const struct ml_topo_node_info *t = &v->nodes[i];

		jw_begin_object(w);
		jw_kstr(w, "dev", t->dev);
		jw_kuint(w, "dev_index", t->dev_index);
		jw_kuint(w, "node_id", t->node_id);
		jw_kbool(w, "self", !!(t->flags & ML_TOPO_NODE_SELF));
		jw_kbool(w, "reachable", !!(t->flags & ML_TOPO_NODE_REACHABLE));
		jw_kuint(w, "seq", t->seq);
		jw_kuint(w, "age_ms", t->age_ms);
		jw_kuint(w, "lifetime_ms", t->lifetime_ms);
		jw_key(w, "links");
		jw_begin_array(w);
		for (j = 0; j < t->num_links; j++) {
			const struct ml_topo_link_info *l = &t->links[j];
			unsigned int q = topo_link_qps(v, t, l);

			jw_begin_object(w);
			jw_kuint(w, "node_id", l->node_id);
			jw_kuint(w, "local_port", l->local_port);
			jw_kuint(w, "remote_port", l->remote_port);
			jw_kstr(w, "kind", ml_topo_link_kind_name(l->kind));
			jw_kstr(w, "state", ml_link_state_name(l->state));
			jw_kuint(w, "mtu", l->mtu);
			jw_kbool(w, "in_use", q > 0);
			jw_kuint(w, "qps", q);
			jw_end_object(w);
		}
		jw_end_array(w);
		jw_end_object(w);
	}
	jw_end_array(w);
	jw_end_line(w);
}

static const struct ml_topo_node_info *find_node(const struct topo_view *v,
						 uint32_t dev_index, uint32_t id)
{
	size_t i;

	for (i = 0; i < v->nnodes; i++)
		if (v->nodes[i].dev_index == dev_index && v->nodes[i].node_id == id)
			return &v->nodes[i];
	return NULL;
}

/* The reverse of @l (from node @from) in @to's record, or NULL. */
static const struct ml_topo_link_info *reverse(const struct ml_topo_node_info *to,
					       uint32_t from,
					       const struct ml_topo_link_info *l)
{
	uint32_t j;

	if (!to)
		return NULL;
	for (j = 0; j < to->num_links; j++)
		if (to->links[j].node_id == from &&
		    to->links[j].local_port == l->remote_port &&
		    to->links[j].remote_port == l->local_port &&
		    to->links[j].kind == l->kind)
			return &to->links[j];
	return NULL;
}

void topo_write_dot(FILE *f, const struct topo_view *v)
{
	uint32_t cur = UINT32_MAX;
	size_t i, j;

	fputs("graph megalink {\n"
	      "\tgraph [overlap=false];\n"
	      "\tnode [shape=box, fontname=\"monospace\"];\n", f);
	for (i = 0; i < v->nnodes; i++) {
		const struct ml_topo_node_info *t = &v->nodes[i];

		if (t->dev_index != cur) {
			if (cur != UINT32_MAX)
				fputs("\t}\n", f);
			cur = t->dev_index;
			fprintf(f, "\tsubgraph \"cluster_%u\" {\n"
				"\t\tlabel=\"view of %s\";\n", cur, t->dev);
		}
		fprintf(f, "\t\t\"%u:%08x\" [label=\"0x%08x%s\"%s%s];\n",
			cur, t->node_id, t->node_id,
			t->flags & ML_TOPO_NODE_SELF ? "\\n(self)" : "",
			t->flags & ML_TOPO_NODE_SELF ? ", style=bold" : "",
			t->flags & ML_TOPO_NODE_REACHABLE ? "" :
			", style=dashed, color=gray");
	}
	/* Edges: a link both ends report is drawn once, from the lower id. */
	for (i = 0; i < v->nnodes; i++) {
		const struct ml_topo_node_info *t = &v->nodes[i];

		for (j = 0; j < t->num_links; j++) {
			const struct ml_topo_link_info *l = &t->links[j];
			const struct ml_topo_node_info *o = find_node(v, t->dev_index, l->node_id);
			const struct ml_topo_link_info *r = reverse(o, t->node_id, l);
			unsigned int q = topo_link_qps(v, t, l);

			if (r && t->node_id > l->node_id)
				continue;
			if (r && o)
				q += topo_link_qps(v, o, r);
			if (!o) {
				/* The other end has no record (yet): draw it anyway. */
				fprintf(f, "\t\t\"%u:%08x\" [label=\"0x%08x\\n(no record)\", "
					"style=dotted];\n", t->dev_index, l->node_id, l->node_id);
			}
			fprintf(f, "\t\t\"%u:%08x\" -- \"%u:%08x\" [label=\"%u-%u %s%s\"%s%s];\n",
				t->dev_index, t->node_id, t->dev_index, l->node_id,
				l->local_port, l->remote_port,
				ml_topo_link_kind_name(l->kind),
				q ? " in use" : "",
				l->state == ML_LINK_UP && r ? "" : ", style=dashed",
				q ? ", color=red, penwidth=2" : "");
		}
	}
	if (cur != UINT32_MAX)
		fputs("\t}\n", f);
	fputs("}\n", f);
}

/* Is @prog an executable in $PATH? */
static int in_path(const char *prog)
{
	const char *path = getenv("PATH");
	char buf[4096];
	const char *p, *e;

	if (!path || !*path)
		path = "/usr/bin:/bin";
	for (p = path; *p; p = *e ? e + 1 : e) {
		e = strchr(p, ':');
		if (!e)
			e = p + strlen(p);
		if (snprintf(buf, sizeof(buf), "%.*s/%s", (int)(e - p),
			     e == p ? "." : p, prog) < (int)sizeof(buf) &&
		    access(buf, X_OK) == 0)
			return 1;
	}
	return 0;
}

int topo_write_png(const struct topo_view *v, const char *file, char *err, size_t errlen)
{
	int fds[2], status;
	pid_t pid;
	FILE *f;

	if (!in_path("dot")) {
		snprintf(err, errlen, "--png needs Graphviz: \"dot\" is not in PATH "
			 "(install graphviz, or use --dot and draw elsewhere)");
		return -ENOENT;
	}
	if (pipe(fds) < 0) {
		snprintf(err, errlen, "--png: pipe: %s", strerror(errno));
		return -errno;
	}
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		snprintf(err, errlen, "--png: fork: %s", strerror(errno));
		close(fds[0]);
		close(fds[1]);
		return -EAGAIN;
	}
	if (!pid) {
		dup2(fds[0], STDIN_FILENO);
		close(fds[0]);
		close(fds[1]);
		execlp("dot", "dot", "-Tpng", "-o", file, (char *)NULL);
		_exit(127);
	}
	close(fds[0]);
	f = fdopen(fds[1], "w");
	if (!f) {
		close(fds[1]);
		waitpid(pid, &status, 0);
		snprintf(err, errlen, "--png: out of memory");
		return -ENOMEM;
	}
	topo_write_dot(f, v);
	fclose(f);
	if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status)) {
		snprintf(err, errlen, "--png: dot -Tpng -o %s failed (exit status %d)",
			 file, WIFEXITED(status) ? WEXITSTATUS(status) : -1);
		return -EIO;
	}
	return 0;
}

int show_topo(struct ml_ctl *ctl, struct out *out, const char *dev,
	      enum topo_fmt fmt, const char *png)
{
	struct topo_view v;
	char err[512];
	int r;

	r = topo_fetch(ctl, dev, &v);
	if (r < 0)
		return r;
	switch (fmt) {
	case TOPO_DOT:
		topo_write_dot(out->f, &v);
		break;
	case TOPO_PNG:
		r = topo_write_png(&v, png, err, sizeof(err));
		if (r < 0)
			fprintf(stderr, "megalink-stat: %s\n", err);
		break;
	default:
		if (out->o.json)
			json_view(&out->jw, &v);
		else
			text_view(out->f, &v);
		break;
	}
	topo_free(&v);
	return r < 0 ? 1 : 0;
}
