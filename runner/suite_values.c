/* suite_values.c - the suite format and the loader's shared readers.
 *
 * The key tables are the one description of the suite format: the loader
 * validates with them and "phasegate schema" turns them into a JSON Schema.
 * Beside them: diagnostics, the small maps the loader indexes with, ids
 * (valid, unique, generated), and the values every entry and defaults: map
 * reads (severity, durations, eventually:, retry:). */
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

#include "suite_loader.h"

#define DEFAULT_EVERY_MS 2000LL

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

const struct key_spec ld_metric_keys[] = {
    {"name", KT_STR, KEY_REQUIRED, "success metric name"},
    {"target", KT_STR, 0, "target, as text"},
    {NULL, KT_ANY, 0, NULL},
};

/* Keys every check, action and collector may have besides its module key. */
const struct key_spec ld_entry_keys[] = {
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
    {"metric", KT_MAP, 0, "a success metric this check measures: {name, target}", ld_metric_keys},
    {"retry", KT_ANY, KEY_OR_TEXT, "more attempts: N or {attempts, every, backoff}", retry_keys},
    {"destructive", KT_BOOL, 0,
     "the action deletes or replaces something: runs only with --allow-destructive"},
    {"when", KT_STR, 0,
     "run only when this is true: \"${saved_value}\" or a boolean (actions, rollbacks, "
     "collectors; not checks)"},
    {NULL, KT_ANY, 0, NULL},
};
#define NCOMMON (sizeof(ld_entry_keys) / sizeof(ld_entry_keys[0]) - 1)

static const struct key_spec defaults_keys[] = {
    {"timeout", KT_DURATION, 0, "per-attempt timeout"},
    {"gate", KT_BOOL, 0, "failing stops the run"},
    {"severity", KT_STR, 0, "critical, high, medium, low or info", NULL, severities},
    {"eventually", KT_ANY, KEY_OR_TEXT, "poll until pass: {within, every, backoff, max_every}",
     eventually_keys},
    {NULL, KT_ANY, 0, NULL},
};

const struct key_spec ld_include_keys[] = {
    {"vars", KT_STRMAP, 0, "variables: {name: value}"},
    {"defaults", KT_MAP, 0, "defaults for checks", defaults_keys},
    {"include", KT_STR_OR_SEQ, 0, "further files to include"},
    {NULL, KT_ANY, 0, NULL},
};

const struct key_spec ld_checkpoint_keys[] = {
    {"id", KT_STR, 0, "checkpoint id"},
    {"name", KT_STR, 0, "checkpoint name"},
    {"description", KT_STR, 0, "what the checkpoint verifies"},
    {"checks", KT_SEQ, KEY_ENTRIES, "the checks", ld_entry_keys},
    {NULL, KT_ANY, 0, NULL},
};

const struct key_spec ld_step_keys[] = {
    {"id", KT_STR, 0, "step id"},
    {"name", KT_STR, 0, "step name"},
    {"description", KT_STR, 0, "what the step does"},
    {"actions", KT_SEQ, KEY_ENTRIES, "entries that change the world, run in order", ld_entry_keys},
    {"checkpoint", KT_MAP, 0, "the gate: {id, name, checks}", ld_checkpoint_keys},
    {"checks", KT_SEQ, KEY_ENTRIES, "the gate's checks (without a checkpoint: map)", ld_entry_keys},
    {"on_failure", KT_SEQ, KEY_ENTRIES, "evidence collectors run when the gate fails",
     ld_entry_keys},
    {"rollback", KT_SEQ, KEY_ENTRIES, "actions run when the gate fails, after the collectors",
     ld_entry_keys},
    {NULL, KT_ANY, 0, NULL},
};

const struct key_spec ld_phase_keys[] = {
    {"id", KT_STR, 0, "phase id"},
    {"name", KT_STR, 0, "phase name"},
    {"description", KT_STR, 0, "what the phase does"},
    {"steps", KT_SEQ, KEY_REQUIRED, "the steps, in order", ld_step_keys},
    {NULL, KT_ANY, 0, NULL},
};

const struct key_spec ld_approval_keys[] = {
    {"id", KT_STR, KEY_REQUIRED, "attestation id"},
    {"role", KT_STR, KEY_REQUIRED, "who signs"},
    {NULL, KT_ANY, 0, NULL},
};

const struct key_spec ld_secret_keys[] = {
    {"env", KT_STR, 0, "environment variable holding the secret"},
    {"file", KT_STR, 0, "file holding the secret (relative to the suite)"},
    {"value-from-var", KT_STR, 0, "a variable whose value is secret"},
    {NULL, KT_ANY, 0, NULL},
};

const struct key_spec ld_attestations_keys[] = {
    {"max_age", KT_DURATION, 0, "older sign-offs do not count (exit 2)"},
    {"allowed_signers", KT_STR, 0, "ssh allowed_signers file that verifies signed sign-offs"},
    {NULL, KT_ANY, 0, NULL},
};

const struct key_spec ld_suite_keys[] = {
    {"name", KT_STR, KEY_REQUIRED, "suite name ([a-z0-9._-])"},
    {"title", KT_STR, 0, "title for reports"},
    {"description", KT_STR, 0, "what the suite verifies"},
    {"version", KT_STR, 0, "version of the protocol"},
    {"environment", KT_STR, 0, "environment name (test, production)"},
    {"vars", KT_STRMAP, 0, "variables: {name: value}"},
    {"secrets", KT_MAP, KEY_EACH, "secrets: {name: {env: VAR} | {file: path}}", ld_secret_keys},
    {"defaults", KT_MAP, 0, "defaults for checks: timeout, gate, severity, eventually",
     defaults_keys},
    {"modules", KT_MAP, 0, "per-module settings"},
    {"approvals", KT_SEQ, 0, "required sign-offs: [{id, role}]", ld_approval_keys},
    {"attestations", KT_MAP, 0, "rules for --attest files: {max_age, allowed_signers}",
     ld_attestations_keys},
    {"escalation", KT_MAP, KEY_EACH,
     "who to call when a gate fails, per severity: {critical: {level, respond_within, "
     "contacts}}",
     escalation_entry_keys},
    {"require", KT_MAP, 0, "rules the suite holds itself to: {remedy: true}", require_keys},
    {"prior", KT_MAP, 0, "a GO run elsewhere first: {environment, max_age, required_for} (--prior)",
     prior_keys},
    {"phases", KT_SEQ, KEY_REQUIRED | KEY_OR_TEXT, "phase files or inline phases, in order",
     ld_phase_keys},
    {"include", KT_STR_OR_SEQ, 0, "files whose vars and defaults merge in"},
    {NULL, KT_ANY, 0, NULL},
};

void suite_key_tables(struct suite_key_tables *t)
{
	t->suite = ld_suite_keys;
	t->phase = ld_phase_keys;
	t->include = ld_include_keys;
	t->entry = ld_entry_keys;
}

/* ---- small helpers ------------------------------------------------------- */

void ld_err(struct loader *L, const struct node *at, const char *fmt, ...)
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

void ld_err_pos(struct loader *L, const char *file, const char *fmt, ...)
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
void *ld_grow(void *v, size_t *alloc, size_t need, size_t size)
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
int ld_map_get(const struct ld_map *m, const char *k, size_t *v)
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
void ld_map_put(struct ld_map *m, const char *k, size_t v)
{
	size_t i;

	if ((m->n + 1) * 2 > m->cap) {
		struct ld_map bigger = {0};
		bigger.cap = m->cap ? m->cap * 2 : 64;
		bigger.k = xcalloc(bigger.cap, sizeof(*bigger.k));
		bigger.v = xcalloc(bigger.cap, sizeof(*bigger.v));
		for (i = 0; i < m->cap; i++)
			if (m->k[i])
				ld_map_put(&bigger, m->k[i], m->v[i]);
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

void ld_map_release(struct ld_map *m)
{
	free(m->k);
	free(m->v);
	memset(m, 0, sizeof(*m));
}

/* The closest module name or common key to word, or NULL. */
const char *ld_suggest_entry_key(const char *word)
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
		dist = edit_distance(word, ld_entry_keys[i].name);
		if (dist < bestd && dist < strlen(word)) {
			bestd = dist;
			best = ld_entry_keys[i].name;
		}
	}
	return best;
}

const char *ld_suggest_module(const char *word)
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

char *ld_module_names(void)
{
	struct buf b;
	size_t i, n;
	const struct check_module *const *all = module_all(&n);

	buf_init(&b, 0);
	for (i = 0; i < n; i++)
		buf_addf(&b, "%s%s", i ? ", " : "", all[i]->name);
	return buf_detach(&b);
}

int ld_is_common_key(const char *k)
{
	for (size_t i = 0; i < NCOMMON; i++)
		if (strcmp(k, ld_entry_keys[i].name) == 0)
			return 1;
	return 0;
}

/* dir/rel, or rel when it is absolute. */
char *ld_path_join(const char *dir, const char *rel)
{
	if (rel[0] == '/' || !dir || !dir[0])
		return xstrdup(rel);
	return xasprintf("%s/%s", dir, rel);
}

/* Expands one scalar of suite text, or NULL when absent. */
char *ld_text(struct loader *L, const struct node *n)
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
const char *ld_scalar(struct loader *L, const struct node *n)
{
	const char *s = NULL;

	if (node_as_str(n, &s, L->d) < 0) {
		L->nerr++;
		return NULL;
	}
	return s;
}

/* Ids are names in reports and on the command line: no blanks, no controls. */
int ld_id_valid(const char *s)
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
void ld_register_id(struct loader *L, const char *id, struct node_pos pos, const struct node *at)
{
	size_t i;

	if (ld_map_get(&L->idmap, id, &i)) {
		const struct node_pos *f = &L->ids[i].pos;
		ld_err(L, at, "duplicate id '%s' (first defined at %s:%u:%u)", id,
		       f->file ? f->file : "?", f->line, f->col);
		return;
	}
	L->ids = ld_grow(L->ids, &L->aids, L->nids + 1, sizeof(*L->ids));
	L->ids[L->nids].id = id;
	L->ids[L->nids].pos = pos;
	ld_map_put(&L->idmap, id, L->nids);
	L->nids++;
}

/* The written id of a map (validated, registered) or a generated one.
 * Returns a malloc'd id. */
char *ld_take_id(struct loader *L, const struct node *map, char *generated)
{
	const struct node *idn = node_get(map, "id");
	char *id = generated;

	if (idn && !node_is_null(idn)) {
		const char *s = ld_scalar(L, idn);
		if (s && !ld_id_valid(s)) {
			ld_err(L, idn,
			       "id '%s' must be non-empty and hold no spaces or control characters",
			       s);
		} else if (s) {
			free(generated);
			id = xstrdup(s);
			ld_register_id(L, id, idn->pos, idn);
			return id;
		}
	}
	ld_register_id(L, id, map ? map->pos : (struct node_pos){0}, map);
	return id;
}

/* ---- defaults and common values ------------------------------------------ */

int ld_parse_severity(struct loader *L, const struct node *n, const char **out)
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
	ld_err(L, n, "severity must be one of critical, high, medium, low, info (not '%s')", s);
	return -1;
}

int ld_parse_positive_duration(struct loader *L, const struct node *n, const char *what,
                               long long *out)
{
	if (node_as_duration_ms(n, out, L->d) < 0) {
		L->nerr++;
		return -1;
	}
	if (*out <= 0) {
		ld_err(L, n, "%s must be greater than zero", what);
		return -1;
	}
	return 0;
}

/* eventually: {within, every, backoff, max_every}, a duration (within), or
 * false/null (off). */
int ld_parse_eventually(struct loader *L, const struct node *n, struct ld_ev *ev)
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
		if (ld_parse_positive_duration(L, n, "eventually", &ev->within_ms) < 0)
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
	if (ld_parse_positive_duration(L, node_get(n, "within"), "eventually.within",
	                               &ev->within_ms) < 0)
		problems++;
	ev->max_every_ms = ev->within_ms;
	if ((v = node_get(n, "every")) &&
	    ld_parse_positive_duration(L, v, "eventually.every", &ev->every_ms) < 0)
		problems++;
	if ((v = node_get(n, "max_every")) &&
	    ld_parse_positive_duration(L, v, "eventually.max_every", &ev->max_every_ms) < 0)
		problems++;
	if ((v = node_get(n, "backoff"))) {
		if (node_as_double(v, &ev->backoff, L->d) < 0) {
			L->nerr++;
			problems++;
		} else if (!(ev->backoff >= 1.0) || ev->backoff > 1000.0) {
			ld_err(L, v, "eventually.backoff must be between 1 and 1000");
			problems++;
		}
	}
	return problems ? -1 : 0;
}

/* retry: N or {attempts: N, every, backoff}: N more attempts after the
 * first, then the check's last result stands. Expressed as an eventually
 * bounded by a count instead of a deadline. */
int ld_parse_retry(struct loader *L, const struct node *n, struct ld_ev *ev, int *max_attempts)
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
		    ld_parse_positive_duration(L, v, "retry.every", &ev->every_ms) < 0)
			return -1;
		if ((v = node_get(n, "backoff"))) {
			if (node_as_double(v, &ev->backoff, L->d) < 0) {
				L->nerr++;
				return -1;
			}
			if (!(ev->backoff >= 1.0) || ev->backoff > 1000.0) {
				ld_err(L, v, "retry.backoff must be between 1 and 1000");
				return -1;
			}
		}
	}
	if (node_as_ll(count, &attempts, L->d) < 0) {
		L->nerr++;
		return -1;
	}
	if (attempts < 1 || attempts > 1000) {
		ld_err(L, count, "retry needs 1 to 1000 more attempts, not %lld", attempts);
		return -1;
	}
	ev->on = 1;
	ev->within_ms = 7 * 24 * 3600 * 1000LL; /* bounded by the count, not by time */
	ev->max_every_ms = ev->within_ms;
	*max_attempts = (int)attempts + 1;
	return 0;
}

/* Merges a defaults: map over what is known so far. */
void ld_parse_defaults(struct loader *L, const struct node *n)
{
	struct ld_defaults *df = &L->defs;
	const struct node *v;
	int problems = keys_validate(n, defaults_keys, "defaults", L->d);

	if (problems) {
		L->nerr += problems;
		return;
	}
	if ((v = node_get(n, "timeout")) &&
	    ld_parse_positive_duration(L, v, "defaults.timeout", &df->timeout_ms) == 0)
		df->has_timeout = 1;
	if ((v = node_get(n, "gate"))) {
		if (node_as_bool(v, &df->gate, L->d) == 0)
			df->has_gate = 1;
		else
			L->nerr++;
	}
	if ((v = node_get(n, "severity")) && ld_parse_severity(L, v, &df->severity) == 0)
		df->has_severity = 1;
	if ((v = node_get(n, "eventually")) && ld_parse_eventually(L, v, &df->ev) == 0)
		df->has_eventually = 1;
}
