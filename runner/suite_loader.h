/* suite_loader.h - what the suite loader's files share (runner/suite.c,
 * suite_values.c, suite_entries.c); not for use outside the loader.
 *
 * struct loader is the state of one suite_load() call: the plan being
 * filled, the diagnostics, and indexes (ids, saved names, entries) that
 * borrow their strings from the plan. Every function here reports through
 * ld_err() (which counts the problem in L->nerr) and never fails otherwise. */
#ifndef PHASEGATE_SUITE_LOADER_H
#define PHASEGATE_SUITE_LOADER_H

#include <stddef.h>

#include "digest.h"
#include "suite.h"

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

/* One check, action or collector while it is built (walk 2). */
struct ld_entry {
	struct plan_check *pc;
	const struct node *raw;    /* borrowed: the entry's map as written */
	const struct node *modkey; /* borrowed: the module key, NULL when none */
	size_t order;              /* position in suite order */
	size_t group;              /* entries that may run at the same time share one:
	                              a checkpoint's checks, a step's collectors */
	const char *kind;          /* "check", "action", "collector" */
};

/* A reference to a name that is neither a variable nor saved by an entry
 * built so far: saved by a later entry (an error: it runs later) or by
 * none (undefined). Resolved once every entry is built (ld_resolve_refs). */
struct ld_ref {
	char *name;          /* owned: as written, "rev" or "rev.field" */
	struct node_pos pos; /* the scalar that holds it */
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
	size_t nentries; /* entries built so far: the next one's order */
	size_t ngroups;
	struct ld_ref *refs; /* references waiting for the names saved later */
	size_t nrefs, arefs;
	struct ld_frame *stack;
	size_t depth, astack;
	struct ld_var *vars; /* suite variables holding references */
	size_t nvars, avars;
	const struct node *modules;       /* borrowed: the suite's modules: map */
	const struct check_module **used; /* modules in use, first use first */
	int *init_failed;                 /* parallel to used */
	size_t nused, aused, afailed, astates;
	struct digest_files files; /* read so far, in load order (the suite digest) */
};

/* The key tables (runner/suite_values.c); NULL-name terminated. */
extern const struct key_spec ld_suite_keys[], ld_include_keys[], ld_secret_keys[], ld_phase_keys[],
    ld_step_keys[], ld_checkpoint_keys[], ld_entry_keys[], ld_metric_keys[], ld_approval_keys[],
    ld_attestations_keys[];

/* ---- helpers (runner/suite_values.c) ---- */
void ld_err(struct loader *L, const struct node *at, const char *fmt, ...) PG_PRINTF(3, 4);
void ld_err_pos(struct loader *L, const char *file, const char *fmt, ...) PG_PRINTF(3, 4);
/* Makes room for need elements in *v (of size each); returns the array. */
void *ld_grow(void *v, size_t *alloc, size_t need, size_t size);
int ld_map_get(const struct ld_map *m, const char *k, size_t *v);
void ld_map_put(struct ld_map *m, const char *k, size_t v);
void ld_map_release(struct ld_map *m);
const char *ld_suggest_entry_key(const char *word);
const char *ld_suggest_module(const char *word);
char *ld_module_names(void); /* malloc'd "a, b, c" */
int ld_is_common_key(const char *k);
char *ld_path_join(const char *dir, const char *rel); /* malloc'd */
static inline int is_scalar(const struct node *n)
{
	return n && n->kind == NODE_SCALAR;
}
char *ld_text(struct loader *L, const struct node *n);         /* malloc'd or NULL */
const char *ld_scalar(struct loader *L, const struct node *n); /* borrowed or NULL */
int ld_id_valid(const char *s);
void ld_register_id(struct loader *L, const char *id, struct node_pos pos, const struct node *at);
char *ld_take_id(struct loader *L, const struct node *map, char *generated);
int ld_parse_severity(struct loader *L, const struct node *n, const char **out);
int ld_parse_positive_duration(struct loader *L, const struct node *n, const char *what,
                               long long *out);
int ld_parse_eventually(struct loader *L, const struct node *n, struct ld_ev *ev);
int ld_parse_retry(struct loader *L, const struct node *n, struct ld_ev *ev, int *max_attempts);
void ld_parse_defaults(struct loader *L, const struct node *n);

/* ---- phases, steps, entries (runner/suite_entries.c) ---- */
void ld_phase_shape(struct loader *L, struct plan_phase *ph, const struct node *item, size_t index);
void ld_approvals_shape(struct loader *L, const struct node *seq);
void ld_attestations_shape(struct loader *L, const struct node *n);
void ld_protocol_shape(struct loader *L, const struct node *root);
/* Checks modules: and --set before the walk; each module is initialised
 * when the first entry using it is built. */
void ld_modules_check(struct loader *L);
/* Reports the references recorded in L->refs (after the last entry). */
void ld_resolve_refs(struct loader *L);

#endif
