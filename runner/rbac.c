/* rbac.c - least-privilege RBAC from a plan (see rbac.h). Permissions are
 * collected from every entry of the suite (all phases, whatever the
 * selection: a Job runs the whole suite), merged per namespace, group,
 * resource and name, and written as Role + RoleBinding per namespace and
 * one ClusterRole + ClusterRoleBinding for cluster-scoped and
 * all-namespaces access. */
#include <stdlib.h>
#include <string.h>

#include "module.h"
#include "rbac.h"

static const char *const verb_order[] = {"get",    "list",  "watch",  "create",
                                         "update", "patch", "delete", "deletecollection"};
#define NVERBS (sizeof(verb_order) / sizeof(verb_order[0]))

struct rule {
	char *ns; /* NULL = cluster */
	char *group, *resource, *name;
	unsigned verbs; /* bit i = verb_order[i] */
};

struct collect {
	struct rule *r;
	size_t n;
	char **notes;
	size_t nnotes;
	const char *default_ns;
	const char *entry; /* the entry being asked, for notes */
};

static int same(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static void add_note(struct collect *c, char *note)
{
	for (size_t i = 0; i < c->nnotes; i++)
		if (strcmp(c->notes[i], note) == 0) {
			free(note);
			return;
		}
	c->notes = xrealloc(c->notes, (c->nnotes + 1) * sizeof(*c->notes));
	c->notes[c->nnotes++] = note;
}

static void on_perm(void *arg, const struct check_perm *p)
{
	struct collect *c = arg;
	if (p->note) {
		add_note(c, xasprintf("%s: %s", c->entry, p->note));
		return;
	}
	unsigned bit = 0;
	for (size_t i = 0; i < NVERBS; i++)
		if (strcmp(p->verb, verb_order[i]) == 0)
			bit = 1u << i;
	if (!bit) {
		add_note(c, xasprintf("%s: verb '%s' on %s", c->entry, p->verb, p->resource));
		return;
	}
	const char *ns = p->nspace ? (*p->nspace ? p->nspace : c->default_ns) : NULL;
	for (size_t i = 0; i < c->n; i++) {
		struct rule *r = &c->r[i];
		if (same(r->ns, ns) && same(r->group, p->group) && same(r->resource, p->resource) &&
		    same(r->name, p->name)) {
			r->verbs |= bit;
			return;
		}
	}
	c->r = xrealloc(c->r, (c->n + 1) * sizeof(*c->r));
	c->r[c->n++] = (struct rule){xstrdup(ns), xstrdup(p->group ? p->group : ""),
	                             xstrdup(p->resource), xstrdup(p->name), bit};
}

static void ask(struct collect *c, const struct plan_check *pc)
{
	c->entry = pc->id;
	if (!pc->mod->permissions)
		return;
	if (!pc->priv) {
		add_note(c,
		         xasprintf("%s: configured at run time from saved values; its permissions "
		                   "are not derived",
		                   pc->id));
		return;
	}
	pc->mod->permissions(pc->priv, on_perm, c);
}

/* Outside text as a YAML scalar: a JSON string is valid YAML. */
static void scalar(struct buf *b, const char *s)
{
	json_t *j = json_string(s ? s : "");
	char *t = j ? json_dumps(j, JSON_ENCODE_ANY) : NULL;
	buf_adds(b, t ? t : "\"\"");
	free(t);
	json_decref(j);
}

static int rule_cmp(const void *a, const void *b)
{
	const struct rule *x = a, *y = b;
	int c = strcmp(x->group, y->group);
	if (!c)
		c = strcmp(x->resource, y->resource);
	if (!c)
		c = strcmp(x->name ? x->name : "", y->name ? y->name : "");
	return c;
}

/* Rules with the same group, resource and verbs over named objects become
 * one rule listing the names. */
static void write_rules(struct buf *b, struct rule *rules, size_t n)
{
	qsort(rules, n, sizeof(*rules), rule_cmp);
	buf_adds(b, "rules:\n");
	for (size_t i = 0; i < n; i++) {
		if (rules[i].verbs == 0)
			continue; /* folded into an earlier rule */
		buf_adds(b, "- apiGroups: [");
		scalar(b, rules[i].group);
		buf_adds(b, "]\n  resources: [");
		scalar(b, rules[i].resource);
		buf_adds(b, "]\n");
		if (rules[i].name) {
			buf_adds(b, "  resourceNames: [");
			scalar(b, rules[i].name);
			for (size_t k = i + 1; k < n; k++) {
				if (!rules[k].name || rules[k].verbs != rules[i].verbs ||
				    strcmp(rules[k].group, rules[i].group) != 0 ||
				    strcmp(rules[k].resource, rules[i].resource) != 0)
					continue;
				buf_adds(b, ", ");
				scalar(b, rules[k].name);
				rules[k].verbs = 0;
			}
			buf_adds(b, "]\n");
		}
		buf_adds(b, "  verbs: [");
		for (size_t v = 0, k = 0; v < NVERBS; v++)
			if (rules[i].verbs & (1u << v))
				buf_addf(b, "%s%s", k++ ? ", " : "", verb_order[v]);
		buf_adds(b, "]\n");
	}
}

static void write_role(struct buf *b, const char *kind, const char *name, const char *ns,
                       struct rule *rules, size_t n, const struct rbac_opts *o)
{
	buf_addf(b, "---\napiVersion: rbac.authorization.k8s.io/v1\nkind: %s\nmetadata:\n  name: ",
	         kind);
	scalar(b, name);
	if (ns) {
		buf_adds(b, "\n  namespace: ");
		scalar(b, ns);
	}
	buf_adds(b, "\n  labels: {app.kubernetes.io/managed-by: phasegate}\n");
	write_rules(b, rules, n);
	buf_addf(b,
	         "---\napiVersion: rbac.authorization.k8s.io/v1\nkind: %sBinding\nmetadata:\n"
	         "  name: ",
	         kind);
	scalar(b, name);
	if (ns) {
		buf_adds(b, "\n  namespace: ");
		scalar(b, ns);
	}
	buf_adds(b, "\n  labels: {app.kubernetes.io/managed-by: phasegate}\nsubjects:\n"
	            "- kind: ServiceAccount\n  name: ");
	scalar(b, o->sa_name);
	buf_adds(b, "\n  namespace: ");
	scalar(b, o->sa_namespace);
	buf_addf(b,
	         "\nroleRef:\n  apiGroup: rbac.authorization.k8s.io\n  kind: %s\n  name: ", kind);
	scalar(b, name);
	buf_adds(b, "\n");
}

char *rbac_render(const struct plan *p, const struct rbac_opts *o)
{
	struct collect c = {.default_ns = o->sa_namespace};
	for (size_t i = 0; i < p->nphases; i++)
		for (size_t j = 0; j < p->phases[i].nsteps; j++) {
			const struct plan_step *s = &p->phases[i].steps[j];
			for (size_t k = 0; k < s->nactions; k++)
				ask(&c, &s->actions[k]);
			for (size_t k = 0; k < s->nchecks; k++)
				ask(&c, &s->checks[k]);
			for (size_t k = 0; k < s->ncollectors; k++)
				ask(&c, &s->collectors[k]);
		}
	if (o->publish_ns) {
		/* server-side apply of the results ConfigMap */
		struct check_perm get = {"",  "configmaps", "get", o->publish_ns, o->publish_name,
		                         NULL};
		struct check_perm patch = get, create = get;
		patch.verb = "patch";
		create.verb = "create";
		create.name = NULL; /* create cannot be restricted by name */
		c.entry = "--publish";
		on_perm(&c, &get);
		on_perm(&c, &patch);
		on_perm(&c, &create);
	}
	/* a DNS label from the suite name */
	char *name = xasprintf("phasegate-%s", p->name ? p->name : "suite");
	for (char *q = name; *q; q++)
		if (*q == '_' || *q == '.')
			*q = '-';
		else if (*q >= 'A' && *q <= 'Z')
			*q = (char)(*q - 'A' + 'a');
	if (strlen(name) > 63)
		name[63] = 0;

	struct buf b;
	buf_init(&b, 0);
	buf_adds(&b, "# Least-privilege RBAC for suite ");
	scalar(&b, p->name);
	buf_adds(&b, ", derived from its checks and actions by 'phasegate rbac'.\n# Bound to the "
	             "ServiceAccount ");
	scalar(&b, o->sa_namespace);
	buf_adds(&b, "/");
	scalar(&b, o->sa_name);
	buf_adds(&b, ".\n");
	for (size_t i = 0; i < c.nnotes; i++) {
		buf_adds(&b, "# NOTE ");
		for (const char *q = c.notes[i]; *q; q++)
			buf_addc(&b, *q == '\n' ? ' ' : *q);
		buf_adds(&b, "\n");
	}
	/* namespaces in first-seen order, then the cluster */
	for (size_t i = 0; i < c.n; i++) {
		if (!c.r[i].ns)
			continue;
		int first = 1;
		for (size_t k = 0; k < i; k++)
			if (same(c.r[k].ns, c.r[i].ns))
				first = 0;
		if (!first)
			continue;
		struct rule *sel = xcalloc(c.n, sizeof(*sel));
		size_t n = 0;
		for (size_t k = i; k < c.n; k++)
			if (same(c.r[k].ns, c.r[i].ns))
				sel[n++] = c.r[k];
		write_role(&b, "Role", name, c.r[i].ns, sel, n, o);
		free(sel);
	}
	struct rule *cl = xcalloc(c.n ? c.n : 1, sizeof(*cl));
	size_t ncl = 0;
	for (size_t k = 0; k < c.n; k++)
		if (!c.r[k].ns)
			cl[ncl++] = c.r[k];
	if (ncl)
		write_role(&b, "ClusterRole", name, NULL, cl, ncl, o);
	free(cl);
	if (!c.n)
		buf_adds(&b, "# The suite needs no Kubernetes permissions.\n");
	for (size_t i = 0; i < c.n; i++) {
		free(c.r[i].ns);
		free(c.r[i].group);
		free(c.r[i].resource);
		free(c.r[i].name);
	}
	for (size_t i = 0; i < c.nnotes; i++)
		free(c.notes[i]);
	free(c.notes);
	free(c.r);
	free(name);
	return buf_detach(&b);
}
