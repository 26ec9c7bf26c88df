/* suite.c - the suite loader: a suite directory (or one YAML file) becomes a
 * validated plan (runner/suite.h).
 *
 * Everything is checked in one pass so that a user sees every problem at
 * once, each with its file:line:column, and nothing runs unless the whole
 * suite is sound. The work is done in three walks:
 *   1. the suite file, its includes (vars, defaults) and the variables;
 *   2. the shape of phases, steps and entries: ids, module keys, save: names;
 *   3. each entry in suite order: references, expansion, common keys, the
 *      module's key table and parse hook, expectations.
 * Module init() hooks run between walks 2 and 3, once per module in use. */
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

#define DEFAULT_TIMEOUT_MS 30000LL
#define DEFAULT_EVERY_MS 2000LL
#define SECRET_FILE_MAX (1024 * 1024)

/* ---- key tables ----------------------------------------------------------
 * The one description of the suite format: the loader validates with these
 * tables, and "phasegate schema" turns them (with every module's keys) into
 * a JSON Schema. Inner tables come first so outer ones can point at them. */

const char *const plan_severities[] = {"critical", "high", "medium", "low", "info", NULL};
#define severities plan_severities
#define NSEVERITIES 5

static const struct key_spec eventually_keys[] = {
	{"within", KT_DURATION, KEY_REQUIRED, "deadline for the check to pass"},
	{"every", KT_DURATION, 0, "first interval between attempts (2s)"},
	{"backoff", KT_NUM, 0, "interval multiplier per attempt (>= 1)"},
	{"max_every", KT_DURATION, 0, "longest interval (within)"},
	{NULL, KT_ANY, 0, NULL},
};

static const struct key_spec retry_keys[] = {
	{"attempts", KT_INT, KEY_REQUIRED, "how many more attempts after the first (1-1000)"},
	{"every", KT_DURATION, 0, "first interval between attempts (1s)"},
	{"backoff", KT_NUM, 0, "interval multiplier per attempt (>= 1)"},
	{NULL, KT_ANY, 0, NULL},
};

static const struct key_spec metric_keys[] = {
	{"name", KT_STR, KEY_REQUIRED, "success metric name"},
	{"target", KT_STR, 0, "target, as text"},
	{NULL, KT_ANY, 0, NULL},
};

/* Keys every check, action and collector may have besides its module key. */
static const struct key_spec entry_keys[] = {
	{"id", KT_STR, 0, "entry id (default: STEP.cN, STEP.aN, STEP.fN)"},
	{"name", KT_STR, 0, "what the entry verifies or does"},
	{"description", KT_STR, 0, "longer explanation"},
	{"expect", KT_ANY, 0, "expectations on the facts: a list of items, or a map of shorthands"},
	{"gate", KT_BOOL, 0, "failing stops the run (default true)"},
	{"severity", KT_STR, 0, "critical, high, medium, low or info", NULL, severities},
	{"tags", KT_STR_OR_SEQ, 0, "words to select with --tag"},
	{"timeout", KT_DURATION, 0, "per-attempt timeout"},
	{"eventually", KT_ANY, KEY_OR_TEXT,
	 "poll until pass: a duration, false, or {within, every, backoff, max_every}", eventually_keys},
	{"remedy", KT_STR, 0, "what to do when it fails"},
	{"save", KT_STRMAP, 0, "values for later entries: {name: jq program over the facts}"},
	{"metric", KT_MAP, 0, "a success metric this check measures: {name, target}", metric_keys},
	{"retry", KT_ANY, KEY_OR_TEXT, "more attempts: N or {attempts, every, backoff}", retry_keys},
	{"destructive", KT_BOOL, 0, "the action deletes or replaces something: runs only with --allow-destructive"},
	{"when", KT_STR, 0, "run only when this is true: \"${saved_value}\" or a boolean (actions, rollbacks, collectors; not checks)"},
	{NULL, KT_ANY, 0, NULL},
};
#define NCOMMON (sizeof(entry_keys) / sizeof(entry_keys[0]) - 1)

static const struct key_spec defaults_keys[] = {
	{"timeout", KT_DURATION, 0, "per-attempt timeout"},
	{"gate", KT_BOOL, 0, "failing stops the run"},
	{"severity", KT_STR, 0, "critical, high, medium, low or info", NULL, severities},
	{"eventually", KT_ANY, KEY_OR_TEXT, "poll until pass: {within, every, backoff, max_every}",
	 eventually_keys},
	{NULL, KT_ANY, 0, NULL},
};

static const struct key_spec include_keys[] = {
	{"vars", KT_STRMAP, 0, "variables: {name: value}"},
	{"defaults", KT_MAP, 0, "defaults for checks", defaults_keys},
	{"include", KT_STR_OR_SEQ, 0, "further files to include"},
	{NULL, KT_ANY, 0, NULL},
};

static const struct key_spec checkpoint_keys[] = {
	{"id", KT_STR, 0, "checkpoint id"},
	{"name", KT_STR, 0, "checkpoint name"},
	{"description", KT_STR, 0, "what the checkpoint verifies"},
	{"checks", KT_SEQ, KEY_ENTRIES, "the checks", entry_keys},
	{NULL, KT_ANY, 0, NULL},
};

static const struct key_spec step_keys[] = {
	{"id", KT_STR, 0, "step id"},
	{"name", KT_STR, 0, "step name"},
	{"description", KT_STR, 0, "what the step does"},
	{"actions", KT_SEQ, KEY_ENTRIES, "entries that change the world, run in order", entry_keys},
	{"checkpoint", KT_MAP, 0, "the gate: {id, name, checks}", checkpoint_keys},
	{"checks", KT_SEQ, KEY_ENTRIES, "the gate's checks (without a checkpoint: map)", entry_keys},
	{"on_failure", KT_SEQ, KEY_ENTRIES, "evidence collectors run when the gate fails",
	 entry_keys},
	{"rollback", KT_SEQ, KEY_ENTRIES, "actions run when the gate fails, after the collectors",
	 entry_keys},
	{NULL, KT_ANY, 0, NULL},
};

static const struct key_spec phase_keys[] = {
	{"id", KT_STR, 0, "phase id"},
	{"name", KT_STR, 0, "phase name"},
	{"description", KT_STR, 0, "what the phase does"},
	{"steps", KT_SEQ, KEY_REQUIRED, "the steps, in order", step_keys},
	{NULL, KT_ANY, 0, NULL},
};

static const struct key_spec approval_keys[] = {
	{"id", KT_STR, KEY_REQUIRED, "attestation id"},
	{"role", KT_STR, KEY_REQUIRED, "who signs"},
	{NULL, KT_ANY, 0, NULL},
};

static const struct key_spec secret_keys[] = {
	{"env", KT_STR, 0, "environment variable holding the secret"},
	{"file", KT_STR, 0, "file holding the secret (relative to the suite)"},
	{"value-from-var", KT_STR, 0, "a variable whose value is secret"},
	{NULL, KT_ANY, 0, NULL},
};

static const struct key_spec attestations_keys[] = {
	{"max_age", KT_DURATION, 0, "older sign-offs do not count (exit 2)"},
	{"allowed_signers", KT_STR, 0, "ssh allowed_signers file that verifies signed sign-offs"},
	{NULL, KT_ANY, 0, NULL},
};

static const struct key_spec suite_keys[] = {
	{"name", KT_STR, KEY_REQUIRED, "suite name ([a-z0-9._-])"},
	{"title", KT_STR, 0, "title for reports"},
	{"description", KT_STR, 0, "what the suite verifies"},
	{"version", KT_STR, 0, "version of the protocol"},
	{"environment", KT_STR, 0, "environment name (test, production)"},
	{"vars", KT_STRMAP, 0, "variables: {name: value}"},
	{"secrets", KT_MAP, KEY_EACH, "secrets: {name: {env: VAR} | {file: path}}", secret_keys},
	{"defaults", KT_MAP, 0, "defaults for checks: timeout, gate, severity, eventually",
	 defaults_keys},
	{"modules", KT_MAP, 0, "per-module settings"},
	{"approvals", KT_SEQ, 0, "required sign-offs: [{id, role}]", approval_keys},
	{"attestations", KT_MAP, 0, "rules for --attest files: {max_age, allowed_signers}",
	 attestations_keys},
	{"escalation", KT_MAP, KEY_EACH,
	 "who to call when a gate fails, per severity: {critical: {level, respond_within, "
	 "contacts}}",
	 escalation_entry_keys},
	{"require", KT_MAP, 0, "rules the suite holds itself to: {remedy: true}", require_keys},
	{"prior", KT_MAP, 0,
	 "a GO run elsewhere first: {environment, max_age, required_for} (--prior)", prior_keys},
	{"phases", KT_SEQ, KEY_REQUIRED | KEY_OR_TEXT, "phase files or inline phases, in order",
	 phase_keys},
	{"include", KT_STR_OR_SEQ, 0, "files whose vars and defaults merge in"},
	{NULL, KT_ANY, 0, NULL},
};

void suite_key_tables(struct suite_key_tables *t)
{
	t->suite = suite_keys;
	t->phase = phase_keys;
	t->include = include_keys;
	t->entry = entry_keys;
}

/* ---- loader state -------------------------------------------------------- */

/* A string -> index hash map; keys are borrowed. */
struct ld_map {
	const char **k;
	size_t *v;
	size_t cap, n;
};

struct ld_ev {
	int on;
	long long within_ms, every_ms, max_every_ms;
	double backoff;
};

/* Defaults from defaults: (includes first, the suite file last). */
struct ld_defaults {
	int has_timeout, has_gate, has_severity, has_eventually;
	long long timeout_ms;
	int gate;
	const char *severity; /* static, from severities[] */
	struct ld_ev ev;
};

/* An id seen so far, for uniqueness. */
struct ld_id {
	const char *id; /* borrowed from the plan */
	struct node_pos pos;
};

/* The earliest entry that saves a name. */
struct ld_saver {
	const char *check_id; /* borrowed from the plan */
	struct node_pos pos;
	size_t order;
	size_t group;
};

/* One check, action or collector, between walks 2 and 3. */
struct ld_entry {
	struct plan_check *pc;
	const struct node *raw;    /* borrowed: the entry's map as written */
	const struct node *modkey; /* borrowed: the module key, NULL when none */
	size_t order;              /* position in suite order */
	size_t group;              /* entries that may run at the same time share one:
	                              a checkpoint's checks, a step's collectors */
	const char *kind;          /* "check", "action", "collector" */
};

/* An include file being read, for cycle detection. */
struct ld_frame {
	char *real;        /* owned: realpath */
	const char *shown; /* borrowed: the name as written */
};

/* A variable from a vars: map, expanded once every layer is known. */
struct ld_var {
	char *name;         /* owned */
	struct node *value; /* owned copy: include trees are freed early */
};

struct loader {
	struct plan *p;
	const struct load_opts *o;
	struct diags *d;
	int nerr; /* problems found (diags may be capped) */
	struct ld_defaults defs;
	struct node *root;   /* owned: the suite file's tree, freed at the end */
	struct node **trees; /* owned: phase files, freed at the end */
	size_t ntrees, atrees;
	struct ld_id *ids;
	size_t nids, aids;
	struct ld_map idmap;
	struct ld_saver *savers; /* parallel to p->saved.v */
	size_t asavers;
	struct ld_map savedmap;
	struct ld_entry *entries;
	size_t nentries, aentries;
	size_t ngroups;
	struct ld_frame *stack;
	size_t depth, astack;
	struct ld_var *vars; /* suite variables holding references */
	size_t nvars, avars;
	const struct check_module **used; /* modules in use, first use first */
	int *init_failed;
	size_t nused, aused;
	struct digest_files files; /* read so far, in load order (the suite digest) */
};

/* ---- small helpers ------------------------------------------------------- */

static void lerr(struct loader *L, const struct node *at, const char *fmt, ...) PG_PRINTF(3, 4);
static void lerr(struct loader *L, const struct node *at, const char *fmt, ...)
{
	va_list ap;
	char *msg;

	va_start(ap, fmt);
	msg = xvasprintf(fmt, ap);
	va_end(ap);
	diag_at(L->d, at, "%s", msg);
	free(msg);
	L->nerr++;
}

static void lerr_pos(struct loader *L, const char *file, const char *fmt, ...) PG_PRINTF(3, 4);
static void lerr_pos(struct loader *L, const char *file, const char *fmt, ...)
{
	va_list ap;
	char *msg;

	va_start(ap, fmt);
	msg = xvasprintf(fmt, ap);
	va_end(ap);
	diag_pos(L->d, file, 0, 0, "%s", msg);
	free(msg);
	L->nerr++;
}

/* Makes room for need elements in *v. */
static void *grow(void *v, size_t *alloc, size_t need, size_t size)
{
	size_t n;

	if (need <= *alloc)
		return v;
	n = *alloc ? *alloc : 8;
	while (n < need)
		n *= 2;
	*alloc = n;
	return xrealloc(v, n * size);
}

static uint64_t hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ULL;
	}
	return h;
}

/* Returns 1 and sets *v when k is in m. */
static int map_get(const struct ld_map *m, const char *k, size_t *v)
{
	size_t i;

	if (!m->cap)
		return 0;
	for (i = hash_str(k) & (m->cap - 1); m->k[i]; i = (i + 1) & (m->cap - 1)) {
		if (strcmp(m->k[i], k) == 0) {
			*v = m->v[i];
			return 1;
		}
	}
	return 0;
}

/* Inserts k (borrowed), which must not be present yet. */
static void map_put(struct ld_map *m, const char *k, size_t v)
{
	size_t i;

	if ((m->n + 1) * 2 > m->cap) {
		struct ld_map bigger = {0};
		bigger.cap = m->cap ? m->cap * 2 : 64;
		bigger.k = xcalloc(bigger.cap, sizeof(*bigger.k));
		bigger.v = xcalloc(bigger.cap, sizeof(*bigger.v));
		for (i = 0; i < m->cap; i++)
			if (m->k[i])
				map_put(&bigger, m->k[i], m->v[i]);
		free(m->k);
		free(m->v);
		*m = bigger;
	}
	for (i = hash_str(k) & (m->cap - 1); m->k[i]; i = (i + 1) & (m->cap - 1))
		;
	m->k[i] = k;
	m->v[i] = v;
	m->n++;
}

static void map_release(struct ld_map *m)
{
	free(m->k);
	free(m->v);
	memset(m, 0, sizeof(*m));
}


/* The closest module name or common key to word, or NULL. */
static const char *suggest_entry_key(const char *word)
{
	const char *best = NULL;
	size_t bestd = 3, i, n, dist;
	const struct check_module *const *all = module_all(&n);

	for (i = 0; i < n; i++) {
		dist = edit_distance(word, all[i]->name);
		if (dist < bestd && dist < strlen(word)) {
			bestd = dist;
			best = all[i]->name;
		}
	}
	for (i = 0; i < NCOMMON; i++) {
		dist = edit_distance(word, entry_keys[i].name);
		if (dist < bestd && dist < strlen(word)) {
			bestd = dist;
			best = entry_keys[i].name;
		}
	}
	return best;
}

static const char *suggest_module(const char *word)
{
	const char *best = NULL;
	size_t bestd = 3, i, n, dist;
	const struct check_module *const *all = module_all(&n);

	for (i = 0; i < n; i++) {
		dist = edit_distance(word, all[i]->name);
		if (dist < bestd && dist < strlen(word)) {
			bestd = dist;
			best = all[i]->name;
		}
	}
	return best;
}

static char *module_names(void)
{
	struct buf b;
	size_t i, n;
	const struct check_module *const *all = module_all(&n);

	buf_init(&b, 0);
	for (i = 0; i < n; i++)
		buf_addf(&b, "%s%s", i ? ", " : "", all[i]->name);
	return buf_detach(&b);
}

static int is_common_key(const char *k)
{
	for (size_t i = 0; i < NCOMMON; i++)
		if (strcmp(k, entry_keys[i].name) == 0)
			return 1;
	return 0;
}

/* dir/rel, or rel when it is absolute. */
static char *path_join(const char *dir, const char *rel)
{
	if (rel[0] == '/' || !dir || !dir[0])
		return xstrdup(rel);
	return xasprintf("%s/%s", dir, rel);
}


static int is_scalar(const struct node *n)
{
	return n && n->kind == NODE_SCALAR;
}

/* Expands one scalar of suite text, or NULL when absent. */
static char *ld_text(struct loader *L, const struct node *n)
{
	char *s;

	if (!is_scalar(n) || node_is_null(n))
		return NULL;
	s = vars_expand(&L->p->vars, &L->p->saved, n->str, n, L->d);
	if (!s)
		L->nerr++;
	return s;
}

/* Reads a scalar that keys_validate() has not typed; NULL after a diagnostic. */
static const char *ld_scalar(struct loader *L, const struct node *n)
{
	const char *s = NULL;

	if (node_as_str(n, &s, L->d) < 0) {
		L->nerr++;
		return NULL;
	}
	return s;
}

/* Ids are names in reports and on the command line: no blanks, no controls. */
static int id_valid(const char *s)
{
	if (!*s)
		return 0;
	for (; *s; s++)
		if (isspace((unsigned char)*s) || iscntrl((unsigned char)*s))
			return 0;
	return 1;
}

/* Registers an id (borrowed) for uniqueness; at is where a duplicate is
 * reported. */
static void register_id(struct loader *L, const char *id, struct node_pos pos,
			const struct node *at)
{
	size_t i;

	if (map_get(&L->idmap, id, &i)) {
		const struct node_pos *f = &L->ids[i].pos;
		lerr(L, at, "duplicate id '%s' (first defined at %s:%u:%u)", id,
		     f->file ? f->file : "?", f->line, f->col);
		return;
	}
	L->ids = grow(L->ids, &L->aids, L->nids + 1, sizeof(*L->ids));
	L->ids[L->nids].id = id;
	L->ids[L->nids].pos = pos;
	map_put(&L->idmap, id, L->nids);
	L->nids++;
}

/* The written id of a map (validated, registered) or a generated one.
 * Returns a malloc'd id. */
static char *take_id(struct loader *L, const struct node *map, char *generated)
{
	const struct node *idn = node_get(map, "id");
	char *id = generated;

	if (idn && !node_is_null(idn)) {
		const char *s = ld_scalar(L, idn);
		if (s && !id_valid(s)) {
			lerr(L, idn, "id '%s' must be non-empty and hold no spaces or control characters",
			     s);
		} else if (s) {
			free(generated);
			id = xstrdup(s);
			register_id(L, id, idn->pos, idn);
			return id;
		}
	}
	register_id(L, id, map ? map->pos : (struct node_pos){0}, map);
	return id;
}

/* ---- defaults and common values ------------------------------------------ */

static int parse_severity(struct loader *L, const struct node *n, const char **out)
{
	const char *s = ld_scalar(L, n);

	if (!s)
		return -1;
	for (size_t i = 0; i < NSEVERITIES; i++) {
		if (strcmp(s, severities[i]) == 0) {
			*out = severities[i];
			return 0;
		}
	}
	lerr(L, n, "severity must be one of critical, high, medium, low, info (not '%s')", s);
	return -1;
}

static int parse_positive_duration(struct loader *L, const struct node *n, const char *what,
				   long long *out)
{
	if (node_as_duration_ms(n, out, L->d) < 0) {
		L->nerr++;
		return -1;
	}
	if (*out <= 0) {
		lerr(L, n, "%s must be greater than zero", what);
		return -1;
	}
	return 0;
}

/* eventually: {within, every, backoff, max_every}, a duration (within), or
 * false/null (off). */
static int parse_eventually(struct loader *L, const struct node *n, struct ld_ev *ev)
{
	const struct node *v;
	int problems;

	memset(ev, 0, sizeof(*ev));
	if (node_is_null(n) || (is_scalar(n) && n->plain && strcmp(n->str, "false") == 0))
		return 0;
	ev->on = 1;
	ev->every_ms = DEFAULT_EVERY_MS;
	ev->backoff = 1.0;
	if (is_scalar(n)) {
		if (parse_positive_duration(L, n, "eventually", &ev->within_ms) < 0)
			return -1;
		ev->max_every_ms = ev->within_ms;
		return 0;
	}
	problems = keys_validate(n, eventually_keys, "eventually", L->d);
	if (problems) {
		L->nerr += problems;
		return -1;
	}
	problems = 0;
	if (parse_positive_duration(L, node_get(n, "within"), "eventually.within",
				    &ev->within_ms) < 0)
		problems++;
	ev->max_every_ms = ev->within_ms;
	if ((v = node_get(n, "every")) &&
	    parse_positive_duration(L, v, "eventually.every", &ev->every_ms) < 0)
		problems++;
	if ((v = node_get(n, "max_every")) &&
	    parse_positive_duration(L, v, "eventually.max_every", &ev->max_every_ms) < 0)
		problems++;
	if ((v = node_get(n, "backoff"))) {
		if (node_as_double(v, &ev->backoff, L->d) < 0) {
			L->nerr++;
			problems++;
		} else if (!(ev->backoff >= 1.0) || ev->backoff > 1000.0) {
			lerr(L, v, "eventually.backoff must be between 1 and 1000");
			problems++;
		}
	}
	return problems ? -1 : 0;
}

/* retry: N or {attempts: N, every, backoff}: N more attempts after the
 * first, then the check's last result stands. Expressed as an eventually
 * bounded by a count instead of a deadline. */
static int parse_retry(struct loader *L, const struct node *n, struct ld_ev *ev,
		       int *max_attempts)
{
	const struct node *count = n, *v;
	long long attempts = 0;

	memset(ev, 0, sizeof(*ev));
	ev->every_ms = 1000;
	ev->backoff = 1.0;
	if (!is_scalar(n)) {
		int problems = keys_validate(n, retry_keys, "retry", L->d);
		if (problems) {
			L->nerr += problems;
			return -1;
		}
		count = node_get(n, "attempts");
		if ((v = node_get(n, "every")) &&
		    parse_positive_duration(L, v, "retry.every", &ev->every_ms) < 0)
			return -1;
		if ((v = node_get(n, "backoff"))) {
			if (node_as_double(v, &ev->backoff, L->d) < 0) {
				L->nerr++;
				return -1;
			}
			if (!(ev->backoff >= 1.0) || ev->backoff > 1000.0) {
				lerr(L, v, "retry.backoff must be between 1 and 1000");
				return -1;
			}
		}
	}
	if (node_as_ll(count, &attempts, L->d) < 0) {
		L->nerr++;
		return -1;
	}
	if (attempts < 1 || attempts > 1000) {
		lerr(L, count, "retry needs 1 to 1000 more attempts, not %lld", attempts);
		return -1;
	}
	ev->on = 1;
	ev->within_ms = 7 * 24 * 3600 * 1000LL; /* bounded by the count, not by time */
	ev->max_every_ms = ev->within_ms;
	*max_attempts = (int)attempts + 1;
	return 0;
}

/* Merges a defaults: map over what is known so far. */
static void parse_defaults(struct loader *L, const struct node *n)
{
	struct ld_defaults *df = &L->defs;
	const struct node *v;
	int problems = keys_validate(n, defaults_keys, "defaults", L->d);

	if (problems) {
		L->nerr += problems;
		return;
	}
	if ((v = node_get(n, "timeout")) &&
	    parse_positive_duration(L, v, "defaults.timeout", &df->timeout_ms) == 0)
		df->has_timeout = 1;
	if ((v = node_get(n, "gate"))) {
		if (node_as_bool(v, &df->gate, L->d) == 0)
			df->has_gate = 1;
		else
			L->nerr++;
	}
	if ((v = node_get(n, "severity")) && parse_severity(L, v, &df->severity) == 0)
		df->has_severity = 1;
	if ((v = node_get(n, "eventually")) && parse_eventually(L, v, &df->ev) == 0)
		df->has_eventually = 1;
}

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
	path = path_join(dir, rel);
	real = realpath(path, NULL);
	if (!real) {
		lerr(L, ref, "include file '%s' cannot be opened: %s", rel, strerror(errno));
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
		lerr(L, ref, "include cycle: %s", buf_str(&chain));
		buf_release(&chain);
		goto out_real;
	}
	if (node_load_file(path, &L->o->limits, &t, L->d) < 0) {
		L->nerr++;
		goto out_real;
	}
	digest_note(&L->files, path);
	if (t->kind != NODE_MAP) {
		lerr(L, t, "an include file holds a map (vars, defaults, include), not a %s",
		     node_kind_name(t));
		goto out_tree;
	}
	L->nerr += keys_validate(t, include_keys, "include file", L->d);
	L->stack = grow(L->stack, &L->astack, L->depth + 1, sizeof(*L->stack));
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
			L->vars = grow(L->vars, &L->avars, L->nvars + 1, sizeof(*L->vars));
			L->vars[L->nvars].value = node_copy(v);
			L->vars[L->nvars].name = xstrdup(name);
			L->nvars++;
		}
	}
	if (defs && defs->kind == NODE_MAP)
		parse_defaults(L, defs);
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
			lerr_pos(L, NULL, "--var '%s' is not name=value", o->vars[i]);
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
		lerr(L, spec, "secret '%s' must be a map: {env: VAR} or {file: path}", name);
		return;
	}
	problems = keys_validate(spec, secret_keys, "secret", L->d);
	if (problems) {
		L->nerr += problems;
		return;
	}
	env = node_get(spec, "env");
	file = node_get(spec, "file");
	from = node_get(spec, "value-from-var");
	sources = !!env + !!file + !!from;
	if (sources != 1) {
		lerr(L, spec, "secret '%s' needs exactly one source: env, file or value-from-var",
		     name);
		return;
	}
	if (env) {
		const char *v = getenv(env->str);
		if (!v || !*v) {
			lerr(L, env, "secret '%s': environment variable '%s' is not set", name,
			     env->str);
			return;
		}
		value = xstrdup(v);
	} else if (file) {
		struct pg_err e;
		size_t len = 0;
		char *path = path_join(L->p->dir, file->str);
		int rc = read_file_capped(path, SECRET_FILE_MAX, &value, &len, &e);
		free(path);
		if (rc < 0) {
			lerr(L, file, "secret '%s': cannot read file '%s' (%s)", name, file->str,
			     e.msg);
			return;
		}
		if (strlen(value) != len) {
			lerr(L, file, "secret '%s': file '%s' holds a NUL byte", name, file->str);
			free(value);
			return;
		}
		while (len && (value[len - 1] == '\n' || value[len - 1] == '\r'))
			value[--len] = 0;
		if (!len) {
			lerr(L, file, "secret '%s': file '%s' is empty", name, file->str);
			free(value);
			return;
		}
	} else {
		const struct var *v = vars_find(&L->p->vars, from->str);
		if (!v) {
			lerr(L, from, "secret '%s': variable '%s' is not defined", name, from->str);
			return;
		}
		value = xstrdup(v->value);
	}
	if (mask_register(value) < 0) {
		lerr(L, spec,
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
			if (!(islower((unsigned char)*s) || isdigit((unsigned char)*s) || *s == '.' ||
			      *s == '_' || *s == '-'))
				ok = 0;
		if (!ok)
			lerr(L, name, "suite name '%s' may only hold a-z, 0-9, '.', '_' and '-'",
			     name->str);
		p->name = xstrdup(name->str);
	}
	p->title = ld_text(L, node_get(root, "title"));
	p->description = ld_text(L, node_get(root, "description"));
	p->version = ld_text(L, node_get(root, "version"));
	p->environment = ld_text(L, node_get(root, "environment"));
}

/* ---- walk 2: shape -------------------------------------------------------- */

static void use_module(struct loader *L, const struct check_module *mod)
{
	for (size_t i = 0; i < L->nused; i++)
		if (L->used[i] == mod)
			return;
	L->used = grow(L->used, &L->aused, L->nused + 1, sizeof(*L->used));
	L->nused++;
	L->used[L->nused - 1] = mod;
}

static void note_saved_name(struct loader *L, const char *name, const struct plan_check *pc,
			    size_t order, size_t group)
{
	struct deferred_names *s = &L->p->saved;
	size_t i;

	if (map_get(&L->savedmap, name, &i))
		return; /* an earlier entry saves it already */
	s->v = grow(s->v, &s->alloc, s->n + 1, sizeof(*s->v));
	L->savers = grow(L->savers, &L->asavers, s->n + 1, sizeof(*L->savers));
	s->v[s->n] = xstrdup(name);
	L->savers[s->n].check_id = pc->id;
	L->savers[s->n].pos = pc->pos;
	L->savers[s->n].order = order;
	L->savers[s->n].group = group;
	map_put(&L->savedmap, s->v[s->n], s->n);
	s->n++;
}

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
		lerr(L, n, "a %s is a map with one module key, not a %s", kind, node_kind_name(n));
		pc->id = gen_id;
		return;
	}
	pc->id = take_id(L, n, gen_id);
	for (i = 0; i < n->n; i++) {
		const struct node *k = n->pairs[i].key;
		const struct check_module *mod;
		if (is_common_key(k->str))
			continue;
		mod = module_find(k->str);
		if (!mod) {
			const char *hint = suggest_entry_key(k->str);
			unknown = 1;
			if (hint)
				lerr(L, k, "unknown key or module '%s' (did you mean '%s'?)", k->str,
				     hint);
			else
				lerr(L, k, "unknown key or module '%s'", k->str);
		} else if (modkey) {
			lerr(L, k, "%s has two module keys '%s' and '%s'", kind, modkey->str, k->str);
		} else {
			modkey = k;
			pc->mod = mod;
		}
	}
	if (!modkey && !unknown) {
		char *names = module_names();
		lerr(L, n, "%s has no module key (one of: %s)", kind, names);
		free(names);
	}
	if (pc->mod)
		use_module(L, pc->mod);
	save = node_get(n, "save");
	if (save && save->kind == NODE_MAP)
		for (i = 0; i < save->n; i++)
			if (save_name_valid(save->pairs[i].key->str))
				note_saved_name(L, save->pairs[i].key->str, pc, order, group);
	L->entries = grow(L->entries, &L->aentries, L->nentries + 1, sizeof(*L->entries));
	L->entries[L->nentries].pc = pc;
	L->entries[L->nentries].raw = n;
	L->entries[L->nentries].modkey = modkey;
	L->entries[L->nentries].order = order;
	L->entries[L->nentries].group = group;
	L->entries[L->nentries].kind = kind;
	L->nentries++;
}

static void entries_shape(struct loader *L, const struct node *seq, const char *step_id,
			  const char *kind, char letter, struct plan_check **out, size_t *nout)
{
	size_t i;

	if (!seq || seq->kind != NODE_SEQ || !seq->n)
		return;
	*out = xcalloc(seq->n, sizeof(**out));
	*nout = seq->n;
	/* actions run one after the other; checks (and collectors) together */
	if (letter != 'a' && letter != 'r')
		L->ngroups++;
	for (i = 0; i < seq->n; i++) {
		if (letter == 'a' || letter == 'r')
			L->ngroups++;
		entry_shape(L, &(*out)[i], seq->items[i], kind,
			    xasprintf("%s.%c%zu", step_id, letter, i + 1), L->ngroups);
	}
}

static void step_shape(struct loader *L, struct plan_step *st, const struct node *n,
		       const char *phase_id, size_t index)
{
	const struct node *cp, *checks, *v;

	st->pos = n ? n->pos : (struct node_pos){0};
	if (!n || n->kind != NODE_MAP) {
		lerr(L, n, "a step is a map (id, name, actions, checkpoint), not a %s",
		     node_kind_name(n));
		st->id = xasprintf("%s.%zu", phase_id, index + 1);
		return;
	}
	L->nerr += keys_validate(n, step_keys, "step", L->d);
	st->id = take_id(L, n, xasprintf("%s.%zu", phase_id, index + 1));
	st->name = ld_text(L, node_get(n, "name"));
	if (!st->name)
		st->name = xstrdup(st->id);
	st->description = ld_text(L, node_get(n, "description"));

	cp = node_get(n, "checkpoint");
	checks = node_get(n, "checks");
	if (cp && checks)
		lerr(L, checks, "step '%s' has both checkpoint: and checks:; put the checks under "
				"checkpoint:",
		     st->id);
	if (cp && cp->kind == NODE_MAP) {
		L->nerr += keys_validate(cp, checkpoint_keys, "checkpoint", L->d);
		st->checkpoint_id = take_id(L, cp, xasprintf("checkpoint-%s", st->id));
		st->checkpoint_name = ld_text(L, node_get(cp, "name"));
		checks = node_get(cp, "checks");
	} else {
		struct node_pos pos = st->pos;
		st->checkpoint_id = xasprintf("checkpoint-%s", st->id);
		register_id(L, st->checkpoint_id, pos, n);
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
		lerr(L, item, "empty phase entry: give a phase file name or a phase map");
		return NULL;
	}
	path = path_join(L->p->dir, item->str);
	errno = 0;
	if (stat(path, &sb) < 0 || !S_ISREG(sb.st_mode)) {
		lerr(L, item, "phase file '%s' cannot be opened: %s", item->str,
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
	L->trees = grow(L->trees, &L->atrees, L->ntrees + 1, sizeof(*L->trees));
	L->trees[L->ntrees++] = t;
	return t;
}

static void phase_shape(struct loader *L, struct plan_phase *ph, const struct node *item,
			size_t index)
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
		lerr(L, n, "a phase is a map (id, name, description, steps), not a %s",
		     node_kind_name(n));
		ph->id = xasprintf("phase-%zu", index + 1);
		return;
	}
	L->nerr += keys_validate(n, phase_keys, "phase", L->d);
	ph->id = take_id(L, n, xasprintf("phase-%zu", index + 1));
	ph->name = ld_text(L, node_get(n, "name"));
	if (!ph->name)
		ph->name = xstrdup(ph->id);
	ph->description = ld_text(L, node_get(n, "description"));
	steps = node_get(n, "steps");
	if (!steps || steps->kind != NODE_SEQ || !steps->n)
		return;
	ph->steps = xcalloc(steps->n, sizeof(*ph->steps));
	ph->nsteps = steps->n;
	for (i = 0; i < steps->n; i++)
		step_shape(L, &ph->steps[i], steps->items[i], ph->id, i);
}

/* attestations: {max_age, allowed_signers} (paths relative to the suite). */
static void attestations_shape(struct loader *L, const struct node *n)
{
	const struct node *v;
	if (!n || n->kind != NODE_MAP)
		return;
	L->nerr += keys_validate(n, attestations_keys, "attestations", L->d);
	if ((v = node_get(n, "max_age")))
		parse_positive_duration(L, v, "attestations.max_age", &L->p->attest_max_age_ms);
	if ((v = node_get(n, "allowed_signers")) && ld_scalar(L, v)) {
		/* absolute: results.json keeps it for "report --attest" run elsewhere */
		char *rel = path_join(L->p->dir, v->str), *abs = realpath(rel, NULL);
		char cwd[PATH_MAX];
		if (!abs && rel[0] != '/' && getcwd(cwd, sizeof(cwd)))
			abs = path_join(cwd, rel);
		L->p->allowed_signers = abs ? abs : xstrdup(rel);
		free(rel);
	}
}

/* The failure protocol's keys: escalation:, require:, prior:. */
static void protocol_shape(struct loader *L, const struct node *root)
{
	const struct node *req = node_get(root, "require"), *v;
	L->nerr += escalation_load(L->p, node_get(root, "escalation"), L->d);
	L->nerr += prior_load(L->p, node_get(root, "prior"), L->d);
	int bad = req && req->kind == NODE_MAP ? keys_validate(req, require_keys, "require", L->d) : 0;
	L->nerr += bad;
	if (!bad && (v = node_get(req, "remedy")) && node_as_bool(v, &L->p->require_remedy, L->d) < 0)
		L->nerr++;
}

static void approvals_shape(struct loader *L, const struct node *seq)
{
	struct plan *p = L->p;
	size_t i;

	if (!seq || seq->kind != NODE_SEQ || !seq->n)
		return;
	p->approvals = xcalloc(seq->n, sizeof(*p->approvals));
	p->napprovals = seq->n;
	for (i = 0; i < seq->n; i++) {
		const struct node *a = seq->items[i], *idn;
		int problems = keys_validate(a, approval_keys, "approval", L->d);
		if (problems) {
			L->nerr += problems;
			continue;
		}
		idn = node_get(a, "id");
		if (!id_valid(idn->str)) {
			lerr(L, idn, "approval id '%s' must be non-empty and hold no spaces",
			     idn->str);
			continue;
		}
		p->approvals[i].id = xstrdup(idn->str);
		p->approvals[i].role = ld_text(L, node_get(a, "role"));
		register_id(L, p->approvals[i].id, idn->pos, idn);
	}
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
			lerr_pos(L, NULL, "--set '%s' is not module.key=value", s);
			continue;
		}
		mod = xstrndup(s, (size_t)(dot - s));
		if (!module_find(mod))
			lerr_pos(L, NULL, "--set '%s': there is no module '%s'", s, mod);
		free(mod);
	}
}

static void init_modules(struct loader *L, const struct node *modules)
{
	struct plan *p = L->p;
	size_t i;

	if (modules && modules->kind == NODE_MAP) {
		for (i = 0; i < modules->n; i++) {
			const struct node *k = modules->pairs[i].key;
			const struct node *v = modules->pairs[i].value;
			if (!module_find(k->str)) {
				const char *hint = suggest_module(k->str);
				if (hint)
					lerr(L, k, "unknown module '%s' in modules: (did you mean '%s'?)",
					     k->str, hint);
				else
					lerr(L, k, "unknown module '%s' in modules:", k->str);
			} else if (!node_is_null(v) && v->kind != NODE_MAP) {
				lerr(L, v, "modules.%s must be a map of settings, not a %s", k->str,
				     node_kind_name(v));
			}
		}
	}
	check_sets(L);
	L->init_failed = xcalloc(L->nused ? L->nused : 1, sizeof(*L->init_failed));
	if (L->nused)
		p->states = xcalloc(L->nused, sizeof(*p->states));
	for (i = 0; i < L->nused; i++) {
		const struct check_module *mod = L->used[i];
		const struct node *m = node_get(modules, mod->name);
		struct node *settings = NULL;
		void *state = NULL;

		if (m && m->kind == NODE_MAP) {
			settings = node_copy(m);
			L->nerr += vars_expand_tree(&p->vars, NULL, settings, L->d);
		}
		settings = apply_sets(L, mod, settings);
		if (!mod->init) {
			node_free(settings);
			continue;
		}
		if (settings && settings->kind != NODE_MAP) {
			L->init_failed[i] = 1;
		} else if (mod->init(settings, &state, L->d) < 0) {
			L->nerr++;
			L->init_failed[i] = 1;
		} else {
			p->states[p->nstates].mod = mod;
			p->states[p->nstates].state = state;
			p->nstates++;
		}
		node_free(settings);
	}
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

/* Checks the references in the scalars under n against save: names. Returns
 * 1 when some reference is a saved name (kept for run time). */
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
		if (map_get(&L->savedmap, ref, &idx) && !vars_find(&L->p->vars, ref)) {
			const struct ld_saver *sv = &L->savers[idx];
			deferred = 1;
			if (report && sv->order >= e->order)
				lerr(L, n, "variable '%s' is saved by check '%s' which runs later (%s:%u)",
				     ref, sv->check_id, sv->pos.file ? sv->pos.file : "?",
				     sv->pos.line);
			else if (report && sv->group == e->group)
				lerr(L, n,
				     "variable '%s' is saved by check '%s' in the same %s, whose entries "
				     "run concurrently; save it in an earlier step (%s:%u)",
				     ref, sv->check_id, e->pc->is_collector ? "on_failure list" : "checkpoint",
				     sv->pos.file ? sv->pos.file : "?", sv->pos.line);
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
		lerr(L, v, "tags must be a list of words, not a %s", node_kind_name(v));
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
		lerr(L, v, "save must be a map {name: jq program}, not a %s", node_kind_name(v));
		return;
	}
	pc->saves = xcalloc(v->n ? v->n : 1, sizeof(*pc->saves));
	for (i = 0; i < v->n; i++) {
		const struct node *k = v->pairs[i].key, *prog = v->pairs[i].value;
		struct plan_save *s = &pc->saves[pc->nsaves];
		const char *text;

		if (!save_name_valid(k->str)) {
			lerr(L, k, "save name '%s' must start with a letter and hold only letters, "
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
	int problems = keys_validate(v, metric_keys, "metric", L->d);

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
		parse_severity(L, v, &sev);
	pc->severity = xstrdup(sev);

	pc->timeout_ms = df->has_timeout ? df->timeout_ms : DEFAULT_TIMEOUT_MS;
	if ((v = node_get(x, "timeout")))
		parse_positive_duration(L, v, "timeout", &pc->timeout_ms);

	if ((v = node_get(x, "eventually")))
		parse_eventually(L, v, &ev);
	else if ((v = node_get(x, "retry")))
		parse_retry(L, v, &ev, &pc->max_attempts);
	else if (is_check && df->has_eventually)
		ev = df->ev;
	if (node_get(x, "eventually") && (v = node_get(x, "retry")))
		lerr(L, v, "give retry: (a number of attempts) or eventually: (a deadline), "
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
		lerr(L, e->modkey, "%s '%s' is destructive; put it under actions: or rollback:",
		     e->kind, pc->id);
	else if (world && !pc->is_action && !pc->is_rollback)
		lerr(L, e->modkey, "%s '%s': module '%s' changes the world; put it under actions:",
		     e->kind, pc->id, mod->name);
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
		lerr(L, e->raw, "%s '%s' has no expect: and module '%s' has no default expectation",
		     e->kind, pc->id, pc->mod->name);
		return;
	}
	{
		struct pg_err err;
		if (expect_compile_jq(pc->mod->default_expect, &pc->default_expect, &err) < 0)
			lerr(L, e->raw, "module '%s' default expectation: %s", pc->mod->name,
			     err.msg);
	}
}

static void entry_build(struct loader *L, const struct ld_entry *e)
{
	struct node *x;
	int deferred;

	check_saved_refs(L, e, e->raw, 1);
	deferred = e->modkey ? check_saved_refs(L, e, node_get(e->raw, e->modkey->str), 0) : 0;
	x = node_copy(e->raw);
	L->nerr += vars_expand_tree(&L->p->vars, &L->p->saved, x, L->d);
	entry_common(L, e, x);
	L->nerr +=
	    when_load(e->pc, node_get(e->raw, "when"), node_get(x, "when"),
	              !e->pc->is_action && !e->pc->is_collector && !e->pc->is_rollback, L->d);
	if (e->pc->mod)
		entry_module(L, e, x, deferred);
	entry_expect(L, e, x);
	node_free(x);
	/* The entry as written is not read again: give its memory to the
	 * entries still to be built (the loader owns every tree it walks). */
	node_clear((struct node *)e->raw);
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
		lerr_pos(L, path, "cannot open suite: %s", strerror(errno));
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
	lerr_pos(L, path, "a suite directory holds suite.yaml, and this one has none");
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
	map_release(&L->idmap);
	free(L->savers);
	map_release(&L->savedmap);
	free(L->entries);
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
		lerr(&L, L.root, "a suite file holds a map (name, phases, ...), not a %s",
		     node_kind_name(L.root));
		goto out;
	}
	L.nerr += keys_validate(L.root, suite_keys, "suite", d);

	/* walk 1 */
	{
		char *real = realpath(file, NULL);
		const char *slash = strrchr(file, '/');
		L.stack = grow(L.stack, &L.astack, 1, sizeof(*L.stack));
		L.stack[0].real = real ? real : xstrdup(file);
		L.stack[0].shown = slash ? slash + 1 : file;
		L.depth = 1;
		apply_layer(&L, L.root, p->dir);
	}
	apply_outer_vars(&L);
	expand_suite_vars(&L);
	load_secrets(&L, node_get(L.root, "secrets"));
	load_header(&L, L.root);

	/* walk 2 */
	phases = node_get(L.root, "phases");
	if (phases && phases->kind == NODE_SEQ && phases->n) {
		p->phases = xcalloc(phases->n, sizeof(*p->phases));
		p->nphases = phases->n;
		for (i = 0; i < phases->n; i++)
			phase_shape(&L, &p->phases[i], phases->items[i], i);
	} else if (phases && phases->kind == NODE_SEQ) {
		lerr(&L, phases, "the suite has no phases");
	}
	approvals_shape(&L, node_get(L.root, "approvals"));
	attestations_shape(&L, node_get(L.root, "attestations"));
	protocol_shape(&L, L.root);

	init_modules(&L, node_get(L.root, "modules"));

	/* walk 3 */
	for (i = 0; i < L.nentries; i++)
		entry_build(&L, &L.entries[i]);
	if (p->require_remedy)
		L.nerr += (int)remedies_missing(p, d);
	{
		struct pg_err e;
		if (!L.nerr && digest_compute(&L.files, p->digest, &e) < 0)
			lerr(&L, L.root, "the suite digest: %s", e.msg);
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
