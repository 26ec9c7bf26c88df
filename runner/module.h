/* module.h - the interface every check module implements.
 *
 * A module is one file under checks/ exporting one const struct
 * check_module, listed in checks/registry.c (or, for an external module, a
 * shared object exporting "phasegate_module" found in a plugin directory).
 * The core never names a module: it finds one by the key a check uses.
 *
 * Life of a check: at load time the loader validates the check's config map
 * against the module's keys table, then calls parse() (every suite error is
 * found before anything runs). At run time the scheduler calls run() from a
 * worker thread, with a context that carries the deadline; run() fills
 * struct check_out with facts (one JSON document) and the expectation
 * engine judges them. A failed check is a result, never an error code. */
#ifndef PHASEGATE_MODULE_H
#define PHASEGATE_MODULE_H

#include <jansson.h>

#include "keys.h"
#include "node.h"
#include "util.h"

/* 2: struct key_spec gained sub and choices (the suite schema).
 * 3: struct check_module gained wait_change.
 * 4: struct node changed layout (56 bytes, short texts inside the node) and
 *    the config map given to parse() is freed once it returns. */
#define CHECK_API_VERSION 4

enum check_flags {
	CHECK_F_ACTION = 1u << 0,  /* changes the world: only in actions:, not run under --dry-run */
	CHECK_F_READONLY = 1u << 1,/* a read-only check; may be used in checkpoints and on_failure */
	CHECK_F_MANUAL = 1u << 2,  /* a person decides (a sign-off): not an automated check */
};

/* What run() reports besides facts. */
enum check_forced {
	CHECK_JUDGE = 0,  /* judge facts with the expectations (the usual case) */
	CHECK_ERROR,      /* could not observe: error (message in out->error) */
	CHECK_PENDING,    /* waits for a person (manual attestations) */
	CHECK_SKIP,       /* nothing to do (message in out->error says why) */
};

struct check_out {
	json_t *facts;           /* owned by out; set by run (may stay NULL on error) */
	enum check_forced forced;
	char *error;             /* owned; the message for ERROR/SKIP/PENDING: what
	                            happened and what a person can do about it */
	int insecure;            /* TLS verification was turned off for this check */
	int final;               /* waiting cannot change the outcome (a rollout past its
	                            progress deadline): eventually: stops polling */
	char *evidence;          /* owned, optional: text kept with the result when
	                            the check does not pass (command output, body) */
	char *attest_by, *attest_at, *attest_note; /* owned; manual attestations */
};

struct check_ctx;

/* Context functions, for run(). */
long long ctx_remaining_ms(const struct check_ctx *c); /* to the check deadline; >= 0 */
long long ctx_deadline_mono_ms(const struct check_ctx *c);
int ctx_cancelled(const struct check_ctx *c);          /* SIGINT/SIGTERM or global timeout */
/* For loops over outside data (a callback with sha256_fd's and
 * promtext_parse's shape): -1 with e saying why once the run is interrupted
 * or the check's deadline has passed, else 0. arg is the check_ctx (may be
 * NULL: never stops). */
static inline int ctx_keep_going(void *arg, struct pg_err *e)
{
	struct check_ctx *ctx = arg;
	if (ctx && ctx_cancelled(ctx))
		return pg_error(e, "the run was interrupted");
	if (ctx && ctx_remaining_ms(ctx) <= 0)
		return pg_error(e, "the check's deadline passed");
	return 0;
}
void *ctx_module_state(const struct check_ctx *c);     /* what init() made */
const char *ctx_suite_dir(const struct check_ctx *c);  /* for relative paths */
const char *ctx_option(const struct check_ctx *c, const char *name); /* run options: "attest",
                                                           "out-dir", module settings given on
                                                           the command line as --set mod.key=v */
const char *ctx_check_id(const struct check_ctx *c);
int ctx_dry_run(const struct check_ctx *c);
/* Resolves a path relative to the suite directory; malloc'd. */
char *ctx_path(const struct check_ctx *c, const char *path);

/* A free-standing context for unit tests and tools: suite_dir may be NULL
 * (current directory), timeout_ms bounds the deadline, options is a
 * NULL-terminated list of "name=value" run options (may be NULL), state is
 * what ctx_module_state() returns. */
struct check_ctx *ctx_new_for_test(const char *suite_dir, long long timeout_ms,
				   const char *const *options, void *state);
void ctx_free_for_test(struct check_ctx *c);

/* One Kubernetes API permission a parsed entry needs ("phasegate rbac").
 * Strings are borrowed for the duration of the emit call. */
struct check_perm {
	const char *group;    /* API group, "" for the core group */
	const char *resource; /* plural, with a subresource: "pods/log" */
	const char *verb;     /* get, list, watch, create, patch, delete... */
	const char *nspace;   /* NULL: cluster scope or every namespace (a ClusterRole);
	                         "" : the namespace the run uses by default */
	const char *name;     /* resourceNames restriction, or NULL */
	const char *note;     /* when set, not a rule but a remark printed as a comment
	                         (a permission that depends on run-time data) */
};

struct check_module {
	const char *name;        /* the key a check uses: "http", "k8s" */
	const char *summary;     /* one line */
	unsigned api_version;    /* CHECK_API_VERSION */
	unsigned flags;          /* enum check_flags */
	const struct key_spec *keys; /* keys of the config map; NULL = the module
	                                checks them itself in parse() */
	const char *default_expect;  /* jq program judged when a check has no
	                                expect:, e.g. ".exit_code == 0"; NULL means
	                                a check must say what it expects. When it
	                                fails and the facts hold a string
	                                "summary", that sentence is the message */

	/* Once per run, before parsing: settings is suite.yaml's
	 * modules.<name> map (NULL when absent), merged with --set values.
	 * Returns 0, or -1 with diagnostics. NULL hook = no state. */
	int (*init)(const struct node *settings, void **state, struct diags *d);
	void (*fini)(void *state);

	/* Config map (already key-validated and variable-expanded) -> private
	 * struct. Must not do I/O beyond reading local files named by the
	 * config. cfg is borrowed for the call only (the loader frees it when
	 * parse returns): priv copies every text it keeps. Returns 0, or -1
	 * with diagnostics at the offending nodes. */
	int (*parse)(const struct node *cfg, void *state, void **priv, struct diags *d);

	/* Runs once per attempt, from a worker thread; must return by the
	 * context deadline and soon after ctx_cancelled() turns true. */
	void (*run)(void *priv, struct check_ctx *ctx, struct check_out *out);

	/* One line saying what the check or action does, for --dry-run and
	 * list (malloc'd; NULL hook = the module name). Secrets are masked by
	 * the caller. */
	char *(*describe)(void *priv);

	/* 1 when this parsed config changes the world (k8s apply, delete...):
	 * such an entry may only stand under actions:, and --dry-run does not
	 * run it. NULL hook = the CHECK_F_ACTION flag decides. */
	int (*changes_world)(const void *priv);

	/* 1 when this parsed config deletes or replaces live objects (a
	 * deletion, a replace or forced apply, a restore over what exists):
	 * a run whose selection holds one needs --allow-destructive. NULL
	 * hook = never (a suite may still say destructive: true). */
	int (*destructive)(const void *priv);

	/* One sentence saying what the facts show, in words a person acts on:
	 * the cause when the default expectation fails ("connection refused by
	 * db:5432", "exited with code 2; stderr: ..."), the observed value when
	 * it passes. Malloc'd, or NULL when there is nothing to say. NULL hook:
	 * the facts' "summary" string, when they have one. */
	char *(*summarize)(const json_t *facts);

	void (*free)(void *priv);

	/* The Kubernetes permissions this parsed config needs, each passed to
	 * emit (for "phasegate rbac"). NULL hook = none. */
	void (*permissions)(const void *priv, void (*emit)(void *arg, const struct check_perm *p),
			    void *arg);

	/* Between two attempts of an eventually: wait: blocks until what this
	 * check reads may have changed since its last attempt, until
	 * deadline_ms (monotonic), or until the run is interrupted; the core
	 * then makes the next attempt (the one at the deadline too). ctx is the
	 * last attempt's (module state, cancellation); deadline_ms, not its
	 * deadline, bounds the wait. Returns 1 on a change, 0 at the deadline,
	 * -1 at once when it cannot tell for this check (the core then sleeps
	 * its every: interval). NULL hook = the core polls every: interval. */
	int (*wait_change)(void *priv, struct check_ctx *ctx, long long deadline_ms);
};

/* Registry (checks/registry.c). */
const struct check_module *module_find(const char *name);
const struct check_module *const *module_all(size_t *count);
/* Loads every *.so in dir exporting "phasegate_module"; 0 or -1. */
int module_load_plugins(const char *dir, struct pg_err *e);

void check_out_release(struct check_out *o);

#endif
