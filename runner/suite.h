/* suite.h - the suite loader and the validated plan it produces.
 *
 * A suite is a directory holding suite.yaml, or a single YAML file.
 *
 * suite.yaml:
 *   name: argocd-stabilization          (required; [a-z0-9._-])
 *   title: "Argo CD stabilisation"      description:  version:  environment:
 *   vars: {name: value}                 secrets: {name: {env: X} | {file: p}}
 *   defaults: {timeout: 30s, gate: true, severity: high,
 *              eventually: {within, every, backoff}}
 *   modules: {k8s: {...settings...}}    per-module settings (init hook)
 *   approvals: [{id: approve-dev, role: "Development Team Lead"}]
 *   attestations: {max_age: 7d, allowed_signers: signers}  rules for --attest
 *   escalation: {critical: {level, respond_within, contacts}, ...}  who to call
 *                                       when a gate of that severity fails
 *   require: {remedy: true}             every automated check needs a remedy
 *   prior: {environment: test, max_age: 7d, required_for: [production]}
 *                                       a GO run in that environment first
 *   phases: [phase-1.yaml, ...]         phase files, relative to the suite
 *                                       (or the phases themselves, inline)
 *   include: [common.yaml]              files whose vars/defaults merge in
 *
 * A phase (file or inline map): id, name, description, steps: [...]
 * A step: id, name, description, actions: [...], checkpoint: {id, name,
 *   checks: [...]} (or checks: directly), on_failure: [...], rollback: [...]
 *   (actions run, after the collectors, when the step's gate fails)
 * A check (or action, or collector): id (unique in the suite), name,
 *   <module>: {config}  (exactly one module key), expect: [...], gate,
 *   severity, tags, timeout, eventually: {within, every, backoff, max_every},
 *   retry: N | {attempts: N, every, backoff} (N more attempts; not with eventually),
 *   remedy, save: {name: jq}, metric: {name, target}, description,
 *   when: "${saved}" (actions, rollbacks, collectors: runs only when true).
 * Ids are generated from positions when absent ("2.1.c3"), but ids that are
 * written must be unique. */
#ifndef PHASEGATE_SUITE_H
#define PHASEGATE_SUITE_H

#include "expect.h"
#include "module.h"
#include "node.h"
#include "vars.h"

struct plan_save {
	char *name;             /* the variable it sets */
	char *program_text;     /* jq source, for plans and errors */
	struct jqprog *prog;
};

/* An entry's when: (actions, rollbacks, collectors; never checks). The
 * value, once expanded, must be exactly "true" or "false"; the loader
 * decides it when no value saved at run time is named. */
enum plan_when {
	PW_ALWAYS, /* no when: */
	PW_TRUE,   /* decided at load: runs */
	PW_FALSE,  /* decided at load: not needed, never runs */
	PW_AT_RUN, /* names saved values: decided just before the entry would run */
};

struct plan_check {
	char *id;
	char *name;             /* checklist text: what a person reads */
	char *description;
	const struct check_module *mod;
	struct node *cfg;       /* owned: the module's config map, expanded, kept only
	                           while deferred (NULL once parse() has the config) */
	void *priv;             /* module parse() result; NULL while deferred */
	int deferred;           /* cfg references saved values: expand + parse at run time */
	struct expect *expect;  /* NULL: module default_expect (compiled below) */
	struct node *expect_cfg;/* owned: the expect: node when it references values
	                           saved at run time; compiled again before each run */
	struct expect *default_expect; /* owned; from the module, when expect is NULL */
	int gate;               /* 1: failing stops the run */
	char *severity;         /* critical, high, medium, low, info */
	char **tags;
	size_t ntags;
	long long timeout_ms;   /* per attempt */
	int eventually;         /* poll until pass or within_ms */
	long long within_ms, every_ms, max_every_ms;
	double backoff;         /* every_ms multiplier per attempt (>= 1) */
	int max_attempts;       /* retry: stop after this many attempts (0 = only within_ms) */
	char *remedy;
	struct plan_save *saves;
	size_t nsaves;
	char *metric_name, *metric_target; /* success metric, for the go-live report */
	int is_action;          /* an actions: entry */
	int is_collector;       /* an on_failure: entry */
	int is_rollback;        /* a rollback: entry */
	int destructive;        /* deletes or replaces live objects: the module says so or
	                           the entry has destructive: true (needs --allow-destructive) */
	int selected;           /* chosen by the selection (set by plan_select, select.c) */
	char *when; /* when: as written ("${api_service_created}"); NULL = always runs */
	enum plan_when when_is; /* what the loader could decide about when: */
	struct node *when_cfg;  /* owned: the when: scalar expanded at load, still naming values
	                           saved at run time (PW_AT_RUN only); NULL otherwise */
	struct node_pos pos;
};

struct plan_step {
	char *id;
	char *name;
	char *description;
	char *checkpoint_id;    /* the gate's id ("checkpoint-2.1") */
	char *checkpoint_name;
	struct plan_check *actions;
	size_t nactions;
	struct plan_check *checks;
	size_t nchecks;
	struct plan_check *collectors; /* on_failure */
	size_t ncollectors;
	struct plan_check *rollbacks; /* rollback: run when the gate fails, after collectors */
	size_t nrollbacks;
	struct node_pos pos;
};

struct plan_phase {
	char *id;
	char *name;
	char *description;
	struct plan_step *steps;
	size_t nsteps;
	struct node_pos pos;
};

struct plan_approval {
	char *id;               /* attestation id */
	char *role;
};

/* escalation: one entry per severity named (runner/escalation.c). */
struct plan_escalation {
	const char *severity;   /* static: critical, high, medium, low, info */
	char *level;            /* "Level 3 - emergency" (vars expanded) */
	char *respond_within;   /* as written ("15m"), NULL when absent */
	char **contacts;        /* vars expanded; NULL-terminated */
	size_t ncontacts;
	struct node_pos pos;
};

/* prior: {environment, max_age, required_for} (runner/prior.c). */
struct plan_prior {
	int set;                /* the suite has a prior: rule */
	char *environment;      /* where the earlier GO run must have been */
	long long max_age_ms;   /* how old it may be */
	char **required_for;    /* environments that need it; NULL-terminated */
	size_t nrequired_for;
	struct node_pos pos;
};

/* critical, high, medium, low, info, NULL: the severities, most urgent first. */
extern const char *const plan_severities[];

struct module_state {
	const struct check_module *mod;
	void *state;
};

struct plan {
	char *name, *title, *description, *version, *environment;
	char *dir;              /* directory relative paths resolve against */
	char *path;             /* what was given */
	struct plan_phase *phases;
	size_t nphases;
	struct plan_approval *approvals;
	size_t napprovals;
	long long attest_max_age_ms; /* attestations: {max_age}; 0 = no limit */
	char *allowed_signers;  /* attestations: {allowed_signers}, resolved; NULL = none */
	char digest[65];        /* the suite digest: sha256 of its files (runner/digest.c) */
	struct plan_escalation *escalation; /* escalation:, in severity order */
	size_t nescalation;
	int require_remedy;     /* require: {remedy: true} */
	struct plan_prior prior;
	struct vars vars;       /* resolved variables and secrets */
	struct deferred_names saved; /* names set by save: */
	struct module_state *states; /* init()ed modules */
	size_t nstates;
};

struct load_opts {
	const char *const *vars;   /* "name=value" from --var */
	size_t nvars;
	const char *env_file;      /* --env-file */
	const char *const *sets;   /* "module.key=value" from --set */
	size_t nsets;
	struct node_limits limits;
};
void load_opts_init(struct load_opts *o);

/* The loader's key tables, for "phasegate schema": the suite file, a phase
 * file, an include file, and the keys every check/action/collector has
 * besides its module key. Static data; nothing to free. */
struct suite_key_tables {
	const struct key_spec *suite, *phase, *include, *entry;
};
void suite_key_tables(struct suite_key_tables *t);

/* Loads, expands and validates the whole suite; every problem goes to d.
 * Returns 0 with a ready plan, or -1 (plan released). */
int suite_load(struct plan *p, const char *path, const struct load_opts *o, struct diags *d);
void plan_release(struct plan *p);

/* Selection (runner/select.c, whose top comment is the rule). Each list
 * holds the values of one option, borrowed; empty lists select everything. */
struct sel_list {
	const char *const *v;
	size_t n;
};
struct plan_selector {
	struct sel_list phases, steps, tags, skip_tags;
	const char *from, *until; /* step ids or names; NULL = open end */
};
/* Sets plan_check.selected everywhere. Returns -1 with diagnostics when a
 * value matches nothing or nothing is left to run. */
int plan_select(struct plan *p, const struct plan_selector *s, struct diags *d);
/* "--phase 1,2 --skip-tag slow" (malloc'd), NULL when nothing was given. */
char *plan_selector_text(const struct plan_selector *s);
/* 1 when the step has a selected action or check. */
int plan_step_selected(const struct plan_step *st);

/* The module state made by init() for mod (NULL when none). */
void *plan_module_state(const struct plan *p, const struct check_module *mod);

#endif
