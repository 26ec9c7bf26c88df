/* suite_entries.c - the loader's walk 2: phases, steps and their entries
 * (checks, actions, collectors, rollbacks) in suite order. Each entry is
 * shaped (id, module key, save: names) and built at once (references to
 * saved values, expansion, common keys, the module's keys and parse hook,
 * expectations); its part of the YAML tree is freed right after. A module
 * is initialised when its first entry is built. References to names no
 * entry has saved yet are recorded and resolved after the walk. */
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

#include "suite_loader.h"

#define DEFAULT_TIMEOUT_MS 30000LL

/* Saved names are referenced as ${name}: letters, digits, '_' and '-'. */
static int save_name_valid(const char *s)
{
	if (!(isalpha((unsigned char)*s) || *s == '_'))
		return 0;
	for (s++; *s; s++)
		if (!(isalnum((unsigned char)*s) || *s == '_' || *s == '-'))
			return 0;
	return 1;
}

/* ---- module init ---------------------------------------------------------- */

/* Applies --set mod.key=value to settings (created when NULL). */
static struct node *apply_sets(struct loader *L, const struct check_module *mod,
                               struct node *settings)
{
	const struct load_opts *o = L->o;
	size_t i, nlen = strlen(mod->name);
	struct node_pos pos = {node_intern("--set"), 0, 0};

	for (i = 0; i < o->nsets; i++) {
		const char *s = o->sets[i], *eq = strchr(s, '=');
		char *key;
		if (strncmp(s, mod->name, nlen) != 0 || s[nlen] != '.' || !eq || eq <= s + nlen + 1)
			continue;
		if (!settings)
			settings = node_new_map(pos);
		if (settings->kind != NODE_MAP)
			return settings; /* reported by the caller */
		key = xstrndup(s + nlen + 1, (size_t)(eq - (s + nlen + 1)));
		node_map_put(settings, key, node_new_scalar(eq + 1, 1, pos));
		free(key);
	}
	return settings;
}

static void check_sets(struct loader *L)
{
	const struct load_opts *o = L->o;

	for (size_t i = 0; i < o->nsets; i++) {
		const char *s = o->sets[i], *dot = strchr(s, '.'), *eq = strchr(s, '=');
		char *mod;
		if (!dot || !eq || dot > eq || dot == s || eq == dot + 1) {
			ld_err_pos(L, NULL, "--set '%s' is not module.key=value", s);
			continue;
		}
		mod = xstrndup(s, (size_t)(dot - s));
		if (!module_find(mod))
			ld_err_pos(L, NULL, "--set '%s': there is no module '%s'", s, mod);
		free(mod);
	}
}

void ld_modules_check(struct loader *L)
{
	const struct node *modules = L->modules;

	if (modules && modules->kind == NODE_MAP) {
		for (size_t i = 0; i < modules->n; i++) {
			const struct node *k = modules->pairs[i].key;
			const struct node *v = modules->pairs[i].value;
			if (!module_find(k->str)) {
				const char *hint = ld_suggest_module(k->str);
				if (hint)
					ld_err(
					    L, k,
					    "unknown module '%s' in modules: (did you mean '%s'?)",
					    k->str, hint);
				else
					ld_err(L, k, "unknown module '%s' in modules:", k->str);
			} else if (!node_is_null(v) && v->kind != NODE_MAP) {
				ld_err(L, v, "modules.%s must be a map of settings, not a %s",
				       k->str, node_kind_name(v));
			}
		}
	}
	check_sets(L);
}

/* Runs mod's init() hook with its settings (modules: and --set); returns
 * 1 when it failed (its entries are then not parsed). */
static int init_module(struct loader *L, const struct check_module *mod)
{
	struct plan *p = L->p;
	const struct node *m = node_get(L->modules, mod->name);
	struct node *settings = NULL;
	void *state = NULL;
	int failed = 0;

	if (m && m->kind == NODE_MAP) {
		settings = node_copy(m);
		L->nerr += vars_expand_tree(&p->vars, NULL, settings, L->d);
	}
	settings = apply_sets(L, mod, settings);
	if (!mod->init) {
		node_free(settings);
		return 0;
	}
	if (settings && settings->kind != NODE_MAP) {
		failed = 1;
	} else if (mod->init(settings, &state, L->d) < 0) {
		L->nerr++;
		failed = 1;
	} else {
		p->states = ld_grow(p->states, &L->astates, p->nstates + 1, sizeof(*p->states));
		p->states[p->nstates].mod = mod;
		p->states[p->nstates].state = state;
		p->nstates++;
	}
	node_free(settings);
	return failed;
}

/* Notes that an entry uses mod; the first use initialises it. */
static void use_module(struct loader *L, const struct check_module *mod)
{
	for (size_t i = 0; i < L->nused; i++)
		if (L->used[i] == mod)
			return;
	L->used = ld_grow(L->used, &L->aused, L->nused + 1, sizeof(*L->used));
	L->init_failed =
	    ld_grow(L->init_failed, &L->afailed, L->nused + 1, sizeof(*L->init_failed));
	L->used[L->nused] = mod;
	L->init_failed[L->nused] = 0;
	L->nused++;
	L->init_failed[L->nused - 1] = init_module(L, mod);
}

static int init_failed(const struct loader *L, const struct check_module *mod)
{
	for (size_t i = 0; i < L->nused; i++)
		if (L->used[i] == mod)
			return L->init_failed[i];
	return 1;
}

/* ---- walk 3: each entry --------------------------------------------------- */

/* Finds the next ${name} reference in s ("$${" is a literal); sets *name and
 * *len and returns the text after it, or NULL when there is none. */
static const char *next_ref(const char *s, const char **name, size_t *len)
{
	while (*s) {
		if (s[0] == '$' && s[1] == '$' && s[2] == '{') {
			s += 3;
			continue;
		}
		if (s[0] == '$' && s[1] == '{') {
			const char *end = strchr(s + 2, '}');
			if (!end)
				return NULL;
			*name = s + 2;
			*len = (size_t)(end - (s + 2));
			return end + 1;
		}
		s++;
	}
	return NULL;
}

/* 1 when vars_expand() would call the reference undefined now: a valid
 * name that is no variable, environment variable or secret, and no name
 * (nor "name.field") saved by an entry built so far. A later entry may
 * still save it; ld_resolve_refs() decides. */
static int ref_unknown(const struct loader *L, const char *ref)
{
	size_t idx, len = strlen(ref);

	if (!len)
		return 0;
	for (const char *c = ref; *c; c++)
		if (!(isalnum((unsigned char)*c) || *c == '_' || *c == '.' || *c == '-'))
			return 0; /* vars_expand() reports it as it is */
	if ((len > 4 && memcmp(ref, "env.", 4) == 0) ||
	    (len > 8 && memcmp(ref, "secrets.", 8) == 0) || vars_find(&L->p->vars, ref) ||
	    ld_map_get(&L->savedmap, ref, &idx))
		return 0;
	for (const char *dot = strchr(ref, '.'); dot; dot = strchr(dot + 1, '.')) {
		char *head = xstrndup(ref, (size_t)(dot - ref));
		int saved = ld_map_get(&L->savedmap, head, &idx);
		free(head);
		if (saved)
			return 0;
	}
	return 1;
}

/* Records a reference for ld_resolve_refs() (ref is taken). */
static void record_ref(struct loader *L, char *ref, struct node_pos pos)
{
	L->refs = ld_grow(L->refs, &L->arefs, L->nrefs + 1, sizeof(*L->refs));
	L->refs[L->nrefs].name = ref;
	L->refs[L->nrefs].pos = pos;
	L->nrefs++;
}

void ld_resolve_refs(struct loader *L)
{
	const struct node_pos *last = NULL;

	for (size_t i = 0; i < L->nrefs; i++) {
		const struct ld_ref *r = &L->refs[i];
		struct node at = {0};
		size_t idx;

		at.pos = r->pos;
		if (ld_map_get(&L->savedmap, r->name, &idx)) {
			const struct ld_saver *sv = &L->savers[idx];
			ld_err(
			    L, &at, "variable '%s' is saved by check '%s' which runs later (%s:%u)",
			    r->name, sv->check_id, sv->pos.file ? sv->pos.file : "?", sv->pos.line);
		} else if (ref_unknown(L, r->name)) {
			/* as vars_expand() says it: the first such name of a text */
			if (last && last->file == r->pos.file && last->line == r->pos.line &&
			    last->col == r->pos.col)
				continue;
			ld_err(L, &at, "undefined variable '%.80s'", r->name);
			last = &r->pos;
		}
		/* else "${name.field}" of a name saved later: kept for run time */
	}
}

/* Checks the references in the scalars under n against save: names. Returns
 * 1 when some reference is a saved name (kept for run time) or may be one
 * (a name no entry has saved yet: recorded, when report is set). */
static int check_saved_refs(struct loader *L, const struct ld_entry *e, const struct node *n,
                            int report)
{
	const char *s, *name;
	size_t i, len, idx;
	int deferred = 0;

	if (!n)
		return 0;
	if (n->kind == NODE_SEQ) {
		for (i = 0; i < n->n; i++)
			deferred |= check_saved_refs(L, e, n->items[i], report);
		return deferred;
	}
	if (n->kind == NODE_MAP) {
		for (i = 0; i < n->n; i++)
			deferred |= check_saved_refs(L, e, n->pairs[i].value, report);
		return deferred;
	}
	for (s = n->str; s && (s = next_ref(s, &name, &len)) != NULL;) {
		char *ref = xstrndup(name, len);
		if (ld_map_get(&L->savedmap, ref, &idx) && !vars_find(&L->p->vars, ref)) {
			const struct ld_saver *sv = &L->savers[idx];
			deferred = 1;
			if (report && sv->order >= e->order)
				ld_err(
				    L, n,
				    "variable '%s' is saved by check '%s' which runs later (%s:%u)",
				    ref, sv->check_id, sv->pos.file ? sv->pos.file : "?",
				    sv->pos.line);
			else if (report && sv->group == e->group)
				ld_err(L, n,
				       "variable '%s' is saved by check '%s' in the same %s, whose "
				       "entries "
				       "run concurrently; save it in an earlier step (%s:%u)",
				       ref, sv->check_id,
				       e->pc->is_collector ? "on_failure list" : "checkpoint",
				       sv->pos.file ? sv->pos.file : "?", sv->pos.line);
		} else if (ref_unknown(L, ref)) {
			deferred = 1;
			if (report) {
				record_ref(L, ref, n->pos);
				ref = NULL;
			}
		}
		free(ref);
	}
	return deferred;
}

static void entry_tags(struct loader *L, struct plan_check *pc, const struct node *v)
{
	size_t i;

	if (is_scalar(v)) {
		if (node_is_null(v))
			return;
		pc->tags = xcalloc(1, sizeof(*pc->tags));
		pc->tags[0] = xstrdup(v->str);
		pc->ntags = 1;
		return;
	}
	if (v->kind != NODE_SEQ) {
		ld_err(L, v, "tags must be a list of words, not a %s", node_kind_name(v));
		return;
	}
	pc->tags = xcalloc(v->n ? v->n : 1, sizeof(*pc->tags));
	for (i = 0; i < v->n; i++) {
		const char *s = ld_scalar(L, v->items[i]);
		if (s)
			pc->tags[pc->ntags++] = xstrdup(s);
	}
}

static void entry_saves(struct loader *L, struct plan_check *pc, const struct node *v)
{
	size_t i;

	if (v->kind != NODE_MAP) {
		ld_err(L, v, "save must be a map {name: jq program}, not a %s", node_kind_name(v));
		return;
	}
	pc->saves = xcalloc(v->n ? v->n : 1, sizeof(*pc->saves));
	for (i = 0; i < v->n; i++) {
		const struct node *k = v->pairs[i].key, *prog = v->pairs[i].value;
		struct plan_save *s = &pc->saves[pc->nsaves];
		const char *text;

		if (!save_name_valid(k->str)) {
			ld_err(L, k,
			       "save name '%s' must start with a letter and hold only letters, "
			       "digits, '_' and '-'",
			       k->str);
			continue;
		}
		if (!(text = ld_scalar(L, prog)))
			continue;
		if (jqprog_compile_at(text, prog, &s->prog, L->d) < 0) {
			L->nerr++;
			continue;
		}
		s->name = xstrdup(k->str);
		s->program_text = xstrdup(text);
		pc->nsaves++;
	}
}

static void entry_metric(struct loader *L, struct plan_check *pc, const struct node *v)
{
	int problems = keys_validate(v, ld_metric_keys, "metric", L->d);

	if (problems) {
		L->nerr += problems;
		return;
	}
	pc->metric_name = xstrdup(node_get(v, "name")->str);
	if (is_scalar(node_get(v, "target")))
		pc->metric_target = xstrdup(node_get(v, "target")->str);
}

/* Common keys of x (the expanded entry), with defaults where absent. */
static void entry_common(struct loader *L, const struct ld_entry *e, const struct node *x)
{
	struct plan_check *pc = e->pc;
	const struct ld_defaults *df = &L->defs;
	const struct node *v;
	const char *sev = df->has_severity ? df->severity : "high";
	struct ld_ev ev = {0};
	int is_check = !pc->is_action && !pc->is_collector && !pc->is_rollback;

	if ((v = node_get(x, "name")) && !node_is_null(v) && ld_scalar(L, v))
		pc->name = xstrdup(v->str);
	if (!pc->name)
		pc->name = xstrdup(pc->id);
	if ((v = node_get(x, "description")) && !node_is_null(v) && ld_scalar(L, v))
		pc->description = xstrdup(v->str);
	if ((v = node_get(x, "remedy")) && !node_is_null(v) && ld_scalar(L, v))
		pc->remedy = xstrdup(v->str);

	pc->gate = df->has_gate ? df->gate : 1;
	if ((v = node_get(x, "gate")) && node_as_bool(v, &pc->gate, L->d) < 0)
		L->nerr++;
	if (pc->is_collector || pc->is_rollback)
		pc->gate = 0;
	if ((v = node_get(x, "destructive")) && node_as_bool(v, &pc->destructive, L->d) < 0)
		L->nerr++;

	if ((v = node_get(x, "severity")))
		ld_parse_severity(L, v, &sev);
	pc->severity = xstrdup(sev);

	pc->timeout_ms = df->has_timeout ? df->timeout_ms : DEFAULT_TIMEOUT_MS;
	if ((v = node_get(x, "timeout")))
		ld_parse_positive_duration(L, v, "timeout", &pc->timeout_ms);

	if ((v = node_get(x, "eventually")))
		ld_parse_eventually(L, v, &ev);
	else if ((v = node_get(x, "retry")))
		ld_parse_retry(L, v, &ev, &pc->max_attempts);
	else if (is_check && df->has_eventually)
		ev = df->ev;
	if (node_get(x, "eventually") && (v = node_get(x, "retry")))
		ld_err(L, v,
		       "give retry: (a number of attempts) or eventually: (a deadline), "
		       "not both");
	pc->eventually = ev.on;
	pc->within_ms = ev.within_ms;
	pc->every_ms = ev.every_ms;
	pc->max_every_ms = ev.max_every_ms;
	pc->backoff = ev.on ? ev.backoff : 1.0;

	if ((v = node_get(x, "tags")))
		entry_tags(L, pc, v);
	if ((v = node_get(x, "save")) && !node_is_null(v))
		entry_saves(L, pc, v);
	if ((v = node_get(x, "metric")) && !node_is_null(v))
		entry_metric(L, pc, v);
}

/* Gives every reference left in the scalars under n a placeholder value. */
static void probe_values(struct vars *ph, const struct node *n)
{
	const char *s, *name;
	size_t len;

	if (!n)
		return;
	if (n->kind == NODE_SEQ || n->kind == NODE_MAP) {
		for (size_t i = 0; i < n->n; i++)
			probe_values(ph, n->kind == NODE_SEQ ? n->items[i] : n->pairs[i].value);
		return;
	}
	for (s = n->str; s && (s = next_ref(s, &name, &len)) != NULL;) {
		char *ref = xstrndup(name, len);
		vars_set(ph, ref, "phasegate-probe", "probe", 0);
		free(ref);
	}
}

/* Whether a deferred config is destructive whatever the saved values turn
 * out to be: parsed once with a placeholder for each of them. A config
 * that does not parse that way is judged again at run time (the scheduler
 * refuses a destructive one without --allow-destructive). */
static int probe_destructive(struct loader *L, const struct check_module *mod,
                             const struct node *cfg)
{
	struct vars ph;
	struct diags d;
	struct node *c;
	void *priv = NULL;
	int destructive = 0;

	if (!mod->parse || !mod->destructive)
		return 0;
	vars_init(&ph);
	diags_init(&d);
	c = node_copy(cfg);
	probe_values(&ph, c);
	if (vars_expand_tree(&ph, NULL, c, &d) == 0 &&
	    mod->parse(c, plan_module_state(L->p, mod), &priv, &d) == 0 && priv)
		destructive = mod->destructive(priv) != 0;
	if (priv && mod->free)
		mod->free(priv);
	node_free(c);
	diags_release(&d);
	vars_release(&ph);
	return destructive;
}

/* The module config: key table, parse hook, the actions: rule. */
static void entry_module(struct loader *L, const struct ld_entry *e, const struct node *x,
                         int deferred)
{
	struct plan_check *pc = e->pc;
	const struct check_module *mod = pc->mod;
	const struct node *m = node_get(x, e->modkey->str);
	struct node *cfg;
	char *what;
	int ok = 1, world;

	cfg = node_is_null(m) ? node_new_map(m ? m->pos : e->modkey->pos) : node_copy(m);
	if (mod->keys) {
		what = xasprintf("%s %s", mod->name, e->kind);
		if (keys_validate(cfg, mod->keys, what, L->d) > 0) {
			L->nerr++;
			ok = 0;
		}
		free(what);
	}
	if (deferred) {
		/* The scheduler expands the saved values and parses the config
		 * just before the check runs. */
		pc->deferred = 1;
		if (ok && !init_failed(L, mod) && probe_destructive(L, mod, cfg))
			pc->destructive = 1;
	} else if (ok && !init_failed(L, mod) && mod->parse) {
		void *priv = NULL;
		if (mod->parse(cfg, plan_module_state(L->p, mod), &priv, L->d) < 0) {
			L->nerr++;
			if (priv && mod->free)
				mod->free(priv);
			priv = NULL;
		}
		pc->priv = priv;
	}
	/* A parsed config is the module's own now (parse copies what it
	 * keeps); only a deferred one is kept, to be parsed at run time. */
	if (deferred)
		pc->cfg = cfg;
	else
		node_free(cfg);

	if (pc->priv && mod->changes_world)
		world = mod->changes_world(pc->priv);
	else
		world = (mod->flags & CHECK_F_ACTION) != 0;
	if (pc->priv && mod->destructive && mod->destructive(pc->priv))
		pc->destructive = 1;
	if (!world && pc->destructive && !pc->is_action && !pc->is_rollback)
		ld_err(L, e->modkey,
		       "%s '%s' is destructive; put it under actions: or rollback:", e->kind,
		       pc->id);
	else if (world && !pc->is_action && !pc->is_rollback)
		ld_err(L, e->modkey,
		       "%s '%s': module '%s' changes the world; put it under actions:", e->kind,
		       pc->id, mod->name);
}

/* 1 when a scalar of the tree still holds a reference to a saved value. */
static int tree_deferred(const struct node *n)
{
	if (!n)
		return 0;
	if (n->kind == NODE_SCALAR)
		return node_is_deferred(n);
	for (size_t i = 0; i < n->n; i++)
		if (tree_deferred(n->kind == NODE_SEQ ? n->items[i] : n->pairs[i].value))
			return 1;
	return 0;
}

static void entry_expect(struct loader *L, const struct ld_entry *e, const struct node *x)
{
	struct plan_check *pc = e->pc;
	const struct node *v = node_get(x, "expect");

	if (v && !node_is_null(v) && expect_compile(v, &pc->expect, L->d) < 0) {
		L->nerr++;
		return;
	}
	if (v && tree_deferred(v))
		pc->expect_cfg = node_copy(v);
	if (pc->expect || !pc->mod)
		return;
	if (!pc->mod->default_expect) {
		ld_err(L, e->raw,
		       "%s '%s' has no expect: and module '%s' has no default expectation", e->kind,
		       pc->id, pc->mod->name);
		return;
	}
	{
		struct pg_err err;
		if (expect_compile_jq(pc->mod->default_expect, &pc->default_expect, &err) < 0)
			ld_err(L, e->raw, "module '%s' default expectation: %s", pc->mod->name,
			       err.msg);
	}
}

static void entry_build(struct loader *L, const struct ld_entry *e)
{
	struct deferred_names *saved = &L->p->saved;
	size_t nsaved = saved->n, first_ref = L->nrefs, i;
	struct node *x;
	int deferred;

	check_saved_refs(L, e, e->raw, 1);
	deferred = e->modkey ? check_saved_refs(L, e, node_get(e->raw, e->modkey->str), 0) : 0;
	/* names that later entries may save are kept for now, as saved ones
	 * are (borrowed from L->refs until the end of this function) */
	for (i = first_ref; i < L->nrefs; i++) {
		saved->v = ld_grow(saved->v, &saved->alloc, saved->n + 1, sizeof(*saved->v));
		saved->v[saved->n++] = L->refs[i].name;
	}
	x = node_copy(e->raw);
	L->nerr += vars_expand_tree(&L->p->vars, saved, x, L->d);
	saved->n = nsaved;
	entry_common(L, e, x);
	L->nerr +=
	    when_load(e->pc, node_get(e->raw, "when"), node_get(x, "when"),
	              !e->pc->is_action && !e->pc->is_collector && !e->pc->is_rollback, L->d);
	if (e->pc->mod)
		entry_module(L, e, x, deferred);
	entry_expect(L, e, x);
	node_free(x);
}

/* ---- walk 2: shape -------------------------------------------------------- */

static void note_saved_name(struct loader *L, const char *name, const struct plan_check *pc,
                            size_t order, size_t group)
{
	struct deferred_names *s = &L->p->saved;
	size_t i;

	if (ld_map_get(&L->savedmap, name, &i))
		return; /* an earlier entry saves it already */
	s->v = ld_grow(s->v, &s->alloc, s->n + 1, sizeof(*s->v));
	L->savers = ld_grow(L->savers, &L->asavers, s->n + 1, sizeof(*L->savers));
	s->v[s->n] = xstrdup(name);
	L->savers[s->n].check_id = pc->id;
	L->savers[s->n].pos = pc->pos;
	L->savers[s->n].order = order;
	L->savers[s->n].group = group;
	ld_map_put(&L->savedmap, s->v[s->n], s->n);
	s->n++;
}

static void entry_shape(struct loader *L, struct plan_check *pc, const struct node *n,
                        const char *kind, char *gen_id, size_t group)
{
	const struct node *modkey = NULL, *save;
	int unknown = 0;
	size_t i, order = L->nentries;

	pc->pos = n ? n->pos : (struct node_pos){0};
	pc->selected = 1; /* until plan_select() says otherwise */
	pc->is_action = strcmp(kind, "action") == 0;
	pc->is_collector = strcmp(kind, "collector") == 0;
	pc->is_rollback = strcmp(kind, "rollback") == 0;
	if (!n || n->kind != NODE_MAP) {
		ld_err(L, n, "a %s is a map with one module key, not a %s", kind,
		       node_kind_name(n));
		pc->id = gen_id;
		return;
	}
	pc->id = ld_take_id(L, n, gen_id);
	for (i = 0; i < n->n; i++) {
		const struct node *k = n->pairs[i].key;
		const struct check_module *mod;
		if (ld_is_common_key(k->str))
			continue;
		mod = module_find(k->str);
		if (!mod) {
			const char *hint = ld_suggest_entry_key(k->str);
			unknown = 1;
			if (hint)
				ld_err(L, k, "unknown key or module '%s' (did you mean '%s'?)",
				       k->str, hint);
			else
				ld_err(L, k, "unknown key or module '%s'", k->str);
		} else if (modkey) {
			ld_err(L, k, "%s has two module keys '%s' and '%s'", kind, modkey->str,
			       k->str);
		} else {
			modkey = k;
			pc->mod = mod;
		}
	}
	if (!modkey && !unknown) {
		char *names = ld_module_names();
		ld_err(L, n, "%s has no module key (one of: %s)", kind, names);
		free(names);
	}
	if (pc->mod)
		use_module(L, pc->mod);
	save = node_get(n, "save");
	if (save && save->kind == NODE_MAP)
		for (i = 0; i < save->n; i++)
			if (save_name_valid(save->pairs[i].key->str))
				note_saved_name(L, save->pairs[i].key->str, pc, order, group);
	L->nentries++;
	entry_build(L, &(struct ld_entry){.pc = pc,
	                                  .raw = n,
	                                  .modkey = modkey,
	                                  .order = order,
	                                  .group = group,
	                                  .kind = kind});
}

static void entries_shape(struct loader *L, const struct node *seq, const char *step_id,
                          const char *kind, char letter, struct plan_check **out, size_t *nout)
{
	struct plan_check *v = NULL;
	size_t i, alloc = 0;

	if (!seq || seq->kind != NODE_SEQ || !seq->n)
		return;
	/* actions run one after the other; checks (and collectors) together */
	if (letter != 'a' && letter != 'r')
		L->ngroups++;
	/* the array grows as the entries' trees are freed (entry_build),
	 * rather than being whole beside the whole tree */
	for (i = 0; i < seq->n; i++) {
		if (letter == 'a' || letter == 'r')
			L->ngroups++;
		v = ld_grow(v, &alloc, i + 1, sizeof(*v));
		memset(&v[i], 0, sizeof(*v));
		entry_shape(L, &v[i], seq->items[i], kind,
		            xasprintf("%s.%c%zu", step_id, letter, i + 1), L->ngroups);
		/* The entry as written is not read again: its memory goes
		 * back at once (the loader owns every tree it walks). */
		node_seq_drop((struct node *)seq, i);
	}
	*out = xrealloc(v, seq->n * sizeof(*v));
	*nout = seq->n;
}

static void step_shape(struct loader *L, struct plan_step *st, const struct node *n,
                       const char *phase_id, size_t index)
{
	const struct node *cp, *checks, *v;

	st->pos = n ? n->pos : (struct node_pos){0};
	if (!n || n->kind != NODE_MAP) {
		ld_err(L, n, "a step is a map (id, name, actions, checkpoint), not a %s",
		       node_kind_name(n));
		st->id = xasprintf("%s.%zu", phase_id, index + 1);
		return;
	}
	L->nerr += keys_validate(n, ld_step_keys, "step", L->d);
	st->id = ld_take_id(L, n, xasprintf("%s.%zu", phase_id, index + 1));
	st->name = ld_text(L, node_get(n, "name"));
	if (!st->name)
		st->name = xstrdup(st->id);
	st->description = ld_text(L, node_get(n, "description"));

	cp = node_get(n, "checkpoint");
	checks = node_get(n, "checks");
	if (cp && checks)
		ld_err(L, checks,
		       "step '%s' has both checkpoint: and checks:; put the checks under "
		       "checkpoint:",
		       st->id);
	if (cp && cp->kind == NODE_MAP) {
		L->nerr += keys_validate(cp, ld_checkpoint_keys, "checkpoint", L->d);
		st->checkpoint_id = ld_take_id(L, cp, xasprintf("checkpoint-%s", st->id));
		st->checkpoint_name = ld_text(L, node_get(cp, "name"));
		checks = node_get(cp, "checks");
	} else {
		struct node_pos pos = st->pos;
		st->checkpoint_id = xasprintf("checkpoint-%s", st->id);
		ld_register_id(L, st->checkpoint_id, pos, n);
	}
	if (!st->checkpoint_name)
		st->checkpoint_name = xasprintf("Verification checkpoint %s", st->id);

	entries_shape(L, node_get(n, "actions"), st->id, "action", 'a', &st->actions,
	              &st->nactions);
	entries_shape(L, checks, st->id, "check", 'c', &st->checks, &st->nchecks);
	v = node_get(n, "on_failure");
	entries_shape(L, v, st->id, "collector", 'f', &st->collectors, &st->ncollectors);
	v = node_get(n, "rollback");
	entries_shape(L, v, st->id, "rollback", 'r', &st->rollbacks, &st->nrollbacks);
}

/* A phase list item: a file name (loaded and kept) or an inline map. */
static const struct node *phase_node(struct loader *L, const struct node *item)
{
	struct node *t = NULL;
	char *path;
	struct stat sb;

	if (!is_scalar(item))
		return item;
	if (node_is_null(item)) {
		ld_err(L, item, "empty phase entry: give a phase file name or a phase map");
		return NULL;
	}
	path = ld_path_join(L->p->dir, item->str);
	errno = 0;
	if (stat(path, &sb) < 0 || !S_ISREG(sb.st_mode)) {
		ld_err(L, item, "phase file '%s' cannot be opened: %s", item->str,
		       errno ? strerror(errno) : "not a regular file");
		free(path);
		return NULL;
	}
	if (node_load_file(path, &L->o->limits, &t, L->d) < 0) {
		L->nerr++;
		free(path);
		return NULL;
	}
	digest_note(&L->files, path);
	free(path);
	L->trees = ld_grow(L->trees, &L->atrees, L->ntrees + 1, sizeof(*L->trees));
	L->trees[L->ntrees++] = t;
	return t;
}

void ld_phase_shape(struct loader *L, struct plan_phase *ph, const struct node *item, size_t index)
{
	const struct node *n = phase_node(L, item), *steps;
	size_t i;

	ph->pos = item ? item->pos : (struct node_pos){0};
	if (!n) {
		ph->id = xasprintf("phase-%zu", index + 1);
		return;
	}
	ph->pos = n->pos;
	if (n->kind != NODE_MAP) {
		ld_err(L, n, "a phase is a map (id, name, description, steps), not a %s",
		       node_kind_name(n));
		ph->id = xasprintf("phase-%zu", index + 1);
		return;
	}
	L->nerr += keys_validate(n, ld_phase_keys, "phase", L->d);
	ph->id = ld_take_id(L, n, xasprintf("phase-%zu", index + 1));
	ph->name = ld_text(L, node_get(n, "name"));
	if (!ph->name)
		ph->name = xstrdup(ph->id);
	ph->description = ld_text(L, node_get(n, "description"));
	steps = node_get(n, "steps");
	if (!steps || steps->kind != NODE_SEQ || !steps->n)
		return;
	ph->steps = xcalloc(steps->n, sizeof(*ph->steps));
	ph->nsteps = steps->n;
	for (i = 0; i < steps->n; i++) {
		step_shape(L, &ph->steps[i], steps->items[i], ph->id, i);
		/* a step's own nodes go with it: they would keep the blocks of
		 * its first entries (runner/nodemem.h) until the end */
		node_seq_drop((struct node *)steps, i);
	}
	if (n != item && L->ntrees && L->trees[L->ntrees - 1] == n)
		node_free(L->trees[--L->ntrees]); /* a phase file, read */
}

/* attestations: {max_age, allowed_signers} (paths relative to the suite). */
void ld_attestations_shape(struct loader *L, const struct node *n)
{
	const struct node *v;
	if (!n || n->kind != NODE_MAP)
		return;
	L->nerr += keys_validate(n, ld_attestations_keys, "attestations", L->d);
	if ((v = node_get(n, "max_age")))
		ld_parse_positive_duration(L, v, "attestations.max_age", &L->p->attest_max_age_ms);
	if ((v = node_get(n, "allowed_signers")) && ld_scalar(L, v)) {
		/* absolute: results.json keeps it for "report --attest" run elsewhere */
		char *rel = ld_path_join(L->p->dir, v->str), *abs = realpath(rel, NULL);
		char cwd[PATH_MAX];
		if (!abs && rel[0] != '/' && getcwd(cwd, sizeof(cwd)))
			abs = ld_path_join(cwd, rel);
		L->p->allowed_signers = abs ? abs : xstrdup(rel);
		free(rel);
	}
}

/* The failure protocol's keys: escalation:, require:, prior:. */
void ld_protocol_shape(struct loader *L, const struct node *root)
{
	const struct node *req = node_get(root, "require"), *v;
	L->nerr += escalation_load(L->p, node_get(root, "escalation"), L->d);
	L->nerr += prior_load(L->p, node_get(root, "prior"), L->d);
	int bad =
	    req && req->kind == NODE_MAP ? keys_validate(req, require_keys, "require", L->d) : 0;
	L->nerr += bad;
	if (!bad && (v = node_get(req, "remedy")) &&
	    node_as_bool(v, &L->p->require_remedy, L->d) < 0)
		L->nerr++;
}

void ld_approvals_shape(struct loader *L, const struct node *seq)
{
	struct plan *p = L->p;
	size_t i;

	if (!seq || seq->kind != NODE_SEQ || !seq->n)
		return;
	p->approvals = xcalloc(seq->n, sizeof(*p->approvals));
	p->napprovals = seq->n;
	for (i = 0; i < seq->n; i++) {
		const struct node *a = seq->items[i], *idn;
		int problems = keys_validate(a, ld_approval_keys, "approval", L->d);
		if (problems) {
			L->nerr += problems;
			continue;
		}
		idn = node_get(a, "id");
		if (!ld_id_valid(idn->str)) {
			ld_err(L, idn, "approval id '%s' must be non-empty and hold no spaces",
			       idn->str);
			continue;
		}
		p->approvals[i].id = xstrdup(idn->str);
		p->approvals[i].role = ld_text(L, node_get(a, "role"));
		ld_register_id(L, p->approvals[i].id, idn->pos, idn);
	}
}