/* suite.c - the suite loader: a suite directory (or one YAML file) becomes a
 * validated plan (runner/suite.h).
 *
 * Everything is checked in one pass so that a user sees every problem at
 * once, each with its file:line:column, and nothing runs unless the whole
 * suite is sound. The work is done in two walks:
 *   1. the suite file, its includes (vars, defaults) and the variables;
 *   2. phases, steps and entries in suite order: each entry is shaped (id,
 *      module key, save: names) and built at once (references, expansion,
 *      common keys, the module's key table and parse hook, expectations),
 *      and its part of the YAML tree freed, so that the tree and the plan
 *      are never both whole. References to names saved by later entries
 *      are recorded and resolved after the walk.
 * A module's init() hook runs when the first entry using it is built.
 * This file holds the entry points and walk 1; runner/suite_entries.c walk
 * 2; runner/suite_values.c the key tables and the shared readers. */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "digest.h"
#include "escalation.h"
#include "prior.h"
#include "suite.h"
#include "when.h"

extern char **environ;

#include "suite_loader.h"

#define SECRET_FILE_MAX (1024 * 1024)

/* ---- walk 1: suite file, includes, variables, secrets --------------------- */

static void apply_layer(struct loader *L, const struct node *tree, const char *dir);

static void include_one(struct loader *L, const struct node *ref, const char *dir)
{
	const char *rel = ld_scalar(L, ref);
	char *path, *real, *incdir;
	struct node *t = NULL;
	struct buf chain;
	size_t i;

	if (!rel)
		return;
	path = ld_path_join(dir, rel);
	real = realpath(path, NULL);
	if (!real) {
		ld_err(L, ref, "include file '%s' cannot be opened: %s", rel, strerror(errno));
		goto out_path;
	}
	for (i = 0; i < L->depth; i++)
		if (strcmp(L->stack[i].real, real) == 0)
			break;
	if (i < L->depth) {
		buf_init(&chain, 0);
		for (; i < L->depth; i++)
			buf_addf(&chain, "%s -> ", L->stack[i].shown);
		buf_adds(&chain, rel);
		ld_err(L, ref, "include cycle: %s", buf_str(&chain));
		buf_release(&chain);
		goto out_real;
	}
	if (node_load_file(path, &L->o->limits, &t, L->d) < 0) {
		L->nerr++;
		goto out_real;
	}
	digest_note(&L->files, path);
	if (t->kind != NODE_MAP) {
		ld_err(L, t, "an include file holds a map (vars, defaults, include), not a %s",
		       node_kind_name(t));
		goto out_tree;
	}
	L->nerr += keys_validate(t, ld_include_keys, "include file", L->d);
	L->stack = ld_grow(L->stack, &L->astack, L->depth + 1, sizeof(*L->stack));
	L->stack[L->depth].real = real;
	L->stack[L->depth].shown = rel;
	L->depth++;
	incdir = path_dir(path);
	apply_layer(L, t, incdir);
	free(incdir);
	L->depth--;
out_tree:
	node_free(t);
out_real:
	free(real);
out_path:
	free(path);
}

/* Includes first (lower precedence), then this file's vars and defaults. */
static void apply_layer(struct loader *L, const struct node *tree, const char *dir)
{
	const struct node *inc = node_get(tree, "include");
	const struct node *vars = node_get(tree, "vars");
	const struct node *defs = node_get(tree, "defaults");
	size_t i;

	if (inc && inc->kind == NODE_SEQ) {
		for (i = 0; i < inc->n; i++)
			include_one(L, inc->items[i], dir);
	} else if (is_scalar(inc) && !node_is_null(inc)) {
		include_one(L, inc, dir);
	}
	if (vars && vars->kind == NODE_MAP) {
		for (i = 0; i < vars->n; i++) {
			const struct node *v = vars->pairs[i].value;
			const char *name = vars->pairs[i].key->str;
			if (!is_scalar(v))
				continue;
			vars_set(&L->p->vars, name, node_is_null(v) ? "" : v->str, "suite", 0);
			if (!strchr(v->str, '$'))
				continue;
			L->vars = ld_grow(L->vars, &L->avars, L->nvars + 1, sizeof(*L->vars));
			L->vars[L->nvars].value = node_copy(v);
			L->vars[L->nvars].name = xstrdup(name);
			L->nvars++;
		}
	}
	if (defs && defs->kind == NODE_MAP)
		ld_parse_defaults(L, defs);
}

/* Environment and command line variables, over the suite's. */
static void apply_outer_vars(struct loader *L)
{
	const struct load_opts *o = L->o;
	static const char prefix[] = "PHASEGATE_VAR_";
	size_t i;

	if (o->env_file && vars_load_env_file(&L->p->vars, o->env_file, L->d) < 0)
		L->nerr++;
	for (char **e = environ; e && *e; e++) {
		const char *eq;
		char *name;
		if (strncmp(*e, prefix, sizeof(prefix) - 1) != 0)
			continue;
		eq = strchr(*e, '=');
		if (!eq || eq == *e + sizeof(prefix) - 1)
			continue;
		name = xstrndup(*e + sizeof(prefix) - 1, (size_t)(eq - *e) - (sizeof(prefix) - 1));
		vars_set(&L->p->vars, name, eq + 1, "environment", 0);
		free(name);
	}
	for (i = 0; i < o->nvars; i++) {
		const char *eq = strchr(o->vars[i], '=');
		char *name;
		if (!eq || eq == o->vars[i]) {
			ld_err_pos(L, NULL, "--var '%s' is not name=value", o->vars[i]);
			continue;
		}
		name = xstrndup(o->vars[i], (size_t)(eq - o->vars[i]));
		vars_set(&L->p->vars, name, eq + 1, "command line", 0);
		free(name);
	}
}

/* Suite variables may refer to the environment and to other variables,
 * with their final values (--var included); cycles and expansion bombs are
 * refused (vars_resolve). */
static void expand_suite_vars(struct loader *L)
{
	struct var_def *defs = xcalloc(L->nvars + 1, sizeof(*defs));
	size_t n = 0;
	for (size_t i = 0; i < L->nvars; i++) {
		const struct var *v = vars_find(&L->p->vars, L->vars[i].name);
		if (!v || strcmp(v->origin, "suite") != 0)
			continue; /* overridden outside the suite */
		defs[n].name = L->vars[i].name;
		defs[n].value = L->vars[i].value;
		n++;
	}
	L->nerr += vars_resolve(&L->p->vars, defs, n, L->d);
	free(defs);
}

static void load_secret_value(struct loader *L, const char *name, const struct node *spec);

/* A secret that cannot be loaded is reported once, here; it stays declared
 * (unavailable), so that its uses do not each report it as undefined. */
static void load_secret(struct loader *L, const char *name, const struct node *spec)
{
	int before = L->nerr;
	load_secret_value(L, name, spec);
	if (L->nerr != before) {
		char *full = xasprintf("secrets.%s", name);
		vars_set(&L->p->vars, full, "", "secret", VAR_SECRET_UNAVAILABLE);
		free(full);
	}
}

static void load_secret_value(struct loader *L, const char *name, const struct node *spec)
{
	const struct node *env, *file, *from;
	char *value = NULL, *full;
	int problems, sources;

	if (!spec || spec->kind != NODE_MAP) {
		ld_err(L, spec, "secret '%s' must be a map: {env: VAR} or {file: path}", name);
		return;
	}
	problems = keys_validate(spec, ld_secret_keys, "secret", L->d);
	if (problems) {
		L->nerr += problems;
		return;
	}
	env = node_get(spec, "env");
	file = node_get(spec, "file");
	from = node_get(spec, "value-from-var");
	sources = !!env + !!file + !!from;
	if (sources != 1) {
		ld_err(L, spec, "secret '%s' needs exactly one source: env, file or value-from-var",
		       name);
		return;
	}
	if (env) {
		const char *v = getenv(env->str);
		if (!v || !*v) {
			ld_err(L, env, "secret '%s': environment variable '%s' is not set", name,
			       env->str);
			return;
		}
		value = xstrdup(v);
	} else if (file) {
		struct pg_err e;
		size_t len = 0;
		char *path = ld_path_join(L->p->dir, file->str);
		int rc = read_file_capped(path, SECRET_FILE_MAX, &value, &len, &e);
		free(path);
		if (rc < 0) {
			ld_err(L, file, "secret '%s': cannot read file '%s' (%s)", name, file->str,
			       e.msg);
			return;
		}
		if (strlen(value) != len) {
			ld_err(L, file, "secret '%s': file '%s' holds a NUL byte", name, file->str);
			free(value);
			return;
		}
		while (len && (value[len - 1] == '\n' || value[len - 1] == '\r'))
			value[--len] = 0;
		if (!len) {
			ld_err(L, file, "secret '%s': file '%s' is empty", name, file->str);
			free(value);
			return;
		}
	} else {
		const struct var *v = vars_find(&L->p->vars, from->str);
		if (!v) {
			ld_err(L, from, "secret '%s': variable '%s' is not defined", name,
			       from->str);
			return;
		}
		value = xstrdup(v->value);
	}
	if (mask_register(value) < 0) {
		ld_err(L, spec,
		       "secret '%s' is shorter than %d characters: too short to mask or to trust",
		       name, MASK_MIN_LEN);
		free(value);
		return;
	}
	/* under its full name, so that it never shadows a plain variable */
	full = xasprintf("secrets.%s", name);
	vars_set(&L->p->vars, full, value, "secret", 1);
	free(full);
	free(value);
}

static void load_secrets(struct loader *L, const struct node *secrets)
{
	if (!secrets || secrets->kind != NODE_MAP)
		return;
	for (size_t i = 0; i < secrets->n; i++)
		load_secret(L, secrets->pairs[i].key->str, secrets->pairs[i].value);
}

static void load_header(struct loader *L, const struct node *root)
{
	struct plan *p = L->p;
	const struct node *name = node_get(root, "name");

	if (is_scalar(name)) {
		const char *s = name->str;
		int ok = *s != 0;
		for (; *s; s++)
			if (!(islower((unsigned char)*s) || isdigit((unsigned char)*s) ||
			      *s == '.' || *s == '_' || *s == '-'))
				ok = 0;
		if (!ok)
			ld_err(L, name, "suite name '%s' may only hold a-z, 0-9, '.', '_' and '-'",
			       name->str);
		p->name = xstrdup(name->str);
	}
	p->title = ld_text(L, node_get(root, "title"));
	p->description = ld_text(L, node_get(root, "description"));
	p->version = ld_text(L, node_get(root, "version"));
	p->environment = ld_text(L, node_get(root, "environment"));
}

/* ---- entry points --------------------------------------------------------- */

void load_opts_init(struct load_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->limits = node_limits_default();
}

/* Finds the suite file: path itself, or suite.yaml (suite.yml) inside it. */
static char *locate(struct loader *L, const char *path)
{
	struct stat sb;
	char *file, *dir;
	size_t len;

	if (stat(path, &sb) < 0) {
		ld_err_pos(L, path, "cannot open suite: %s", strerror(errno));
		return NULL;
	}
	if (!S_ISDIR(sb.st_mode)) {
		L->p->dir = path_dir(path);
		return xstrdup(path);
	}
	dir = xstrdup(path);
	len = strlen(dir);
	while (len > 1 && dir[len - 1] == '/')
		dir[--len] = 0;
	L->p->dir = dir;
	file = xasprintf("%s/suite.yaml", dir);
	if (stat(file, &sb) == 0)
		return file;
	free(file);
	file = xasprintf("%s/suite.yml", dir);
	if (stat(file, &sb) == 0)
		return file;
	free(file);
	ld_err_pos(L, path, "a suite directory holds suite.yaml, and this one has none");
	return NULL;
}

/* Diagnostics are found walk by walk; a person reads them file by file (in
 * the order the files were first mentioned) and line by line. */
struct diag_key {
	size_t file_rank, index;
	const struct diag *g;
};

static int diag_key_cmp(const void *a, const void *b)
{
	const struct diag_key *x = a, *y = b;

	if (x->file_rank != y->file_rank)
		return x->file_rank < y->file_rank ? -1 : 1;
	if (x->g->line != y->g->line)
		return x->g->line < y->g->line ? -1 : 1;
	if (x->g->col != y->g->col)
		return x->g->col < y->g->col ? -1 : 1;
	return x->index < y->index ? -1 : x->index > y->index;
}

static void sort_diags(struct diags *d, size_t from)
{
	size_t n = d->n > from ? d->n - from : 0, i, j;
	struct diag_key *keys;
	struct diag *sorted;

	if (n < 2)
		return;
	keys = xcalloc(n, sizeof(*keys));
	for (i = 0; i < n; i++) {
		const struct diag *g = &d->v[from + i];
		keys[i].index = i;
		keys[i].g = g;
		keys[i].file_rank = i;
		for (j = 0; j < i; j++) {
			const char *f = d->v[from + j].file;
			if ((!f && !g->file) || (f && g->file && strcmp(f, g->file) == 0)) {
				keys[i].file_rank = keys[j].file_rank;
				break;
			}
		}
	}
	qsort(keys, n, sizeof(*keys), diag_key_cmp);
	sorted = xcalloc(n, sizeof(*sorted));
	for (i = 0; i < n; i++)
		sorted[i] = *keys[i].g;
	memcpy(&d->v[from], sorted, n * sizeof(*sorted));
	free(sorted);
	free(keys);
}

static void loader_release(struct loader *L)
{
	size_t i;

	node_free(L->root);
	for (i = 0; i < L->ntrees; i++)
		node_free(L->trees[i]);
	free(L->trees);
	free(L->ids);
	ld_map_release(&L->idmap);
	free(L->savers);
	ld_map_release(&L->savedmap);
	for (i = 0; i < L->nrefs; i++)
		free(L->refs[i].name);
	free(L->refs);
	for (i = 0; i < L->depth; i++)
		free(L->stack[i].real);
	free(L->stack);
	for (i = 0; i < L->nvars; i++) {
		free(L->vars[i].name);
		node_free(L->vars[i].value);
	}
	free(L->vars);
	free(L->used);
	free(L->init_failed);
	digest_release(&L->files);
}

int suite_load(struct plan *p, const char *path, const struct load_opts *o, struct diags *d)
{
	struct load_opts defaults;
	struct loader L;
	const struct node *phases;
	char *file = NULL;
	size_t i, first_diag = d->n;

	if (!o) {
		load_opts_init(&defaults);
		o = &defaults;
	}
	memset(p, 0, sizeof(*p));
	vars_init(&p->vars);
	memset(&L, 0, sizeof(L));
	L.p = p;
	L.o = o;
	L.d = d;
	p->path = xstrdup(path);
	/* every jq program of the suite compiles in one go at the end */
	expect_defer_begin();

	file = locate(&L, path);
	if (!file)
		goto out;
	if (node_load_file(file, &o->limits, &L.root, d) < 0) {
		L.nerr++;
		goto out;
	}
	digest_note(&L.files, file);
	if (L.root->kind != NODE_MAP) {
		ld_err(&L, L.root, "a suite file holds a map (name, phases, ...), not a %s",
		       node_kind_name(L.root));
		goto out;
	}
	L.nerr += keys_validate(L.root, ld_suite_keys, "suite", d);

	/* walk 1 */
	{
		char *real = realpath(file, NULL);
		const char *slash = strrchr(file, '/');
		L.stack = ld_grow(L.stack, &L.astack, 1, sizeof(*L.stack));
		L.stack[0].real = real ? real : xstrdup(file);
		L.stack[0].shown = slash ? slash + 1 : file;
		L.depth = 1;
		apply_layer(&L, L.root, p->dir);
	}
	apply_outer_vars(&L);
	expand_suite_vars(&L);
	load_secrets(&L, node_get(L.root, "secrets"));
	load_header(&L, L.root);

	/* walk 2: each entry is built where it is shaped, and its tree freed */
	L.modules = node_get(L.root, "modules");
	ld_modules_check(&L);
	phases = node_get(L.root, "phases");
	if (phases && phases->kind == NODE_SEQ && phases->n) {
		p->phases = xcalloc(phases->n, sizeof(*p->phases));
		p->nphases = phases->n;
		for (i = 0; i < phases->n; i++) {
			ld_phase_shape(&L, &p->phases[i], phases->items[i], i);
			node_seq_drop((struct node *)phases, i);
		}
	} else if (phases && phases->kind == NODE_SEQ) {
		ld_err(&L, phases, "the suite has no phases");
	}
	ld_approvals_shape(&L, node_get(L.root, "approvals"));
	ld_attestations_shape(&L, node_get(L.root, "attestations"));
	ld_protocol_shape(&L, L.root);
	ld_resolve_refs(&L);
	if (p->require_remedy)
		L.nerr += (int)remedies_missing(p, d);
	{
		struct pg_err e;
		if (!L.nerr && digest_compute(&L.files, p->digest, &e) < 0)
			ld_err(&L, L.root, "the suite digest: %s", e.msg);
	}

out:
	L.nerr += expect_defer_end(d);
	sort_diags(d, first_diag);
	loader_release(&L);
	free(file);
#ifdef __GLIBC__
	/* The trees are gone: hand their pages back before the run, so that
	 * the run's own memory does not stack on top of the loader's peak. */
	malloc_trim(0);
#endif
	if (L.nerr) {
		plan_release(p);
		return -1;
	}
	return 0;
}

static void check_release(struct plan_check *c)
{
	size_t i;

	if (c->priv && c->mod && c->mod->free)
		c->mod->free(c->priv);
	node_free(c->cfg);
	node_free(c->expect_cfg);
	when_release(c);
	if (c->expect)
		expect_free(c->expect);
	if (c->default_expect)
		expect_free(c->default_expect);
	free(c->id);
	free(c->name);
	free(c->description);
	free(c->severity);
	for (i = 0; i < c->ntags; i++)
		free(c->tags[i]);
	free(c->tags);
	free(c->remedy);
	for (i = 0; i < c->nsaves; i++) {
		free(c->saves[i].name);
		free(c->saves[i].program_text);
		if (c->saves[i].prog)
			jqprog_free(c->saves[i].prog);
	}
	free(c->saves);
	free(c->metric_name);
	free(c->metric_target);
}

static void checks_release(struct plan_check *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		check_release(&v[i]);
	free(v);
}

void plan_release(struct plan *p)
{
	size_t i, j;

	if (!p)
		return;
	for (i = 0; i < p->nphases; i++) {
		struct plan_phase *ph = &p->phases[i];
		for (j = 0; j < ph->nsteps; j++) {
			struct plan_step *st = &ph->steps[j];
			checks_release(st->actions, st->nactions);
			checks_release(st->checks, st->nchecks);
			checks_release(st->collectors, st->ncollectors);
			checks_release(st->rollbacks, st->nrollbacks);
			free(st->id);
			free(st->name);
			free(st->description);
			free(st->checkpoint_id);
			free(st->checkpoint_name);
		}
		free(ph->steps);
		free(ph->id);
		free(ph->name);
		free(ph->description);
	}
	free(p->phases);
	for (i = 0; i < p->napprovals; i++) {
		free(p->approvals[i].id);
		free(p->approvals[i].role);
	}
	free(p->approvals);
	free(p->allowed_signers);
	escalation_release(p);
	prior_release(p);
	/* Module states outlive the checks parsed against them. */
	for (i = 0; i < p->nstates; i++)
		if (p->states[i].mod->fini)
			p->states[i].mod->fini(p->states[i].state);
	free(p->states);
	vars_release(&p->vars);
	for (i = 0; i < p->saved.n; i++)
		free(p->saved.v[i]);
	free(p->saved.v);
	free(p->name);
	free(p->title);
	free(p->description);
	free(p->version);
	free(p->environment);
	free(p->dir);
	free(p->path);
	memset(p, 0, sizeof(*p));
}

void *plan_module_state(const struct plan *p, const struct check_module *mod)
{
	for (size_t i = 0; i < p->nstates; i++)
		if (p->states[i].mod == mod)
			return p->states[i].state;
	return NULL;
}
