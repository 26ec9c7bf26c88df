/* argocd.h - what the files of the argocd check module share: the
 * connection (argocd_conn.c), facts shaping (argocd_facts.c) and the
 * stream-based wait (argocd_wait.c); checks/argocd.c holds the descriptor,
 * keys, parse and dispatch. Not a public interface: nothing outside
 * checks/argocd*.c includes it.
 *
 * Ownership: struct argocd_conn is the module state (init/fini); a
 * struct argocd_run lives for one run() and borrows everything it points
 * to. Functions returning json_t * return a new reference. */
#ifndef PHASEGATE_ARGOCD_H
#define PHASEGATE_ARGOCD_H

#include <pthread.h>

#include <jansson.h>

#include "http.h"
#include "module.h"

/* The connection, resolved once per run from (first wins) the suite's
 * modules.argocd settings and --set argocd.KEY=VALUE, the environment
 * (ARGOCD_SERVER, ARGOCD_AUTH_TOKEN, ARGOCD_OPTS' --insecure,
 * --plaintext and --grpc-web-root-path), and the argocd CLI's config file
 * (ARGOCD_CONFIG or ~/.config/argocd/config: its current or the named
 * context, that context's server and user). */
struct argocd_conn {
	char *base;       /* owned: "https://host:port[/root]", no trailing slash; NULL on error */
	char *server;     /* owned: as configured, for messages */
	char *token;      /* owned, secret: bearer token (ARGOCD_AUTH_TOKEN, config, session) */
	char *token_from; /* owned: where the token came from, for messages */
	char *username;   /* owned: session login (with password) */
	char *password;   /* owned, secret */
	char *ca_file;    /* owned: CA bundle (PEM file) */
	char *ca_pem;     /* owned: CA from the config file's certificate-authority-data */
	char *context;    /* owned: the config file context used, or NULL */
	int insecure;     /* skip TLS verification */
	char *error;      /* owned: a configuration problem reported by every check */
	pthread_mutex_t lock; /* guards the session login below */
	int session_tried;    /* POST /api/v1/session was attempted */
	char *session_error;  /* owned: why the login failed */
};

/* Settings keys (modules.argocd / --set argocd.KEY=VALUE). */
extern const struct key_spec argocd_settings_keys[];

int argocd_conn_init(const struct node *settings, struct argocd_conn *cn, struct diags *d);
void argocd_conn_release(struct argocd_conn *cn);

/* One run of one check. */
struct argocd_run {
	struct argocd_conn *cn;
	struct check_ctx *ctx;
	struct check_out *out;
	long long requests; /* requests this check sent (facts of waits, for the bench) */
};

/* The result of one API call. */
struct argocd_reply {
	long status;       /* HTTP status, 0 when no response */
	json_t *body;      /* owned: the JSON body, or NULL */
	char *error;       /* owned: a message a person can act on when the call did not
	                      succeed (no response, or a status >= 400), else NULL */
	char *api_message; /* owned: Argo CD's own "message" of an error body, or NULL */
};
void argocd_reply_release(struct argocd_reply *rp);

/* Sends METHOD path (query included, already escaped) with an optional
 * JSON body; what names the request in messages ("get application
 * guestbook"). Logs in first when the connection has a username and no
 * token. Returns 0 for a 2xx reply, -1 otherwise (rp->error says why). */
int argocd_call(struct argocd_run *r, const char *method, const char *path, json_t *body,
                const char *what, struct argocd_reply *rp);

/* Streams GET path, handing each complete line to on_line (0 = read on,
 * 1 = stop). Returns 0 when the stream ended or on_line stopped it, -1
 * with rp->error when it could not be opened or broke off (rp->status
 * tells which: 0 = transport). */
int argocd_stream(struct argocd_run *r, const char *path, const char *what,
                  int (*on_line)(void *arg, const char *line, size_t len), void *arg,
                  struct argocd_reply *rp);

/* URL query escaping (malloc'd). */
char *argocd_escape(const char *s);

/* "did you mean" over the application names the server lists (NULL when
 * none is close); malloc'd. */
char *argocd_suggest_app(struct argocd_run *r, const char *name);

/* --- facts (argocd_facts.c) --- */

/* Application -> facts of app: health, sync, operation, resources... */
json_t *argocd_app_facts(json_t *app);
/* A one-line verdict of an application ("Healthy, Synced at 8d2c1e0"). */
char *argocd_app_line(json_t *app);
/* ok for an application: Healthy, Synced and no failed or running operation. */
int argocd_app_ok(json_t *app);
json_t *argocd_apps_facts(json_t *items);
json_t *argocd_tree_facts(json_t *tree);
json_t *argocd_managed_facts(json_t *managed);
json_t *argocd_repos_facts(json_t *items, const char *const *want, char **missing);
json_t *argocd_clusters_facts(json_t *items, const char *const *want, char **missing);
json_t *argocd_project_facts(json_t *proj);
json_t *argocd_events_facts(json_t *list);

/* Sets "ok" and "summary" (summary taken; NULL = none). */
void argocd_set_ok(json_t *f, int ok, char *summary);
/* Dotted member lookup: "status.health.status" -> string or def. */
const char *argocd_str(json_t *o, const char *path, const char *def);

/* --- load (argocd_load.c) --- */

#define ARGOCD_LOAD_MAX_CONCURRENCY 64 /* calls in flight at once */
#define ARGOCD_LOAD_MAX_ROUNDS 1000
#define ARGOCD_LOAD_MAX_CALLS 10000 /* applications x rounds */

struct argocd_load_spec {
	char **names;      /* borrowed, NULL-terminated: the applications */
	const char *mode;  /* borrowed: normal or hard */
	char **namespaces; /* borrowed, parallel to names: each one's namespace
	                      (appNamespace of its calls), entries may be NULL */
	int concurrency;   /* calls in flight at once, 1..ARGOCD_LOAD_MAX_CONCURRENCY */
	int rounds;        /* refreshes of each application, 1..ARGOCD_LOAD_MAX_ROUNDS */
};

/* concurrency: and rounds: of an argocd check (is_refresh: its operation
 * is refresh), within their limits; defaults 4 and 1. Diagnostics at the
 * offending node. */
void argocd_load_parse(const struct node *cfg, int is_refresh, int *concurrency, int *rounds,
                       struct diags *d);

/* Refreshes every application `rounds` times with up to `concurrency`
 * calls in flight; facts: apps, calls, completed, errors, error_ratio,
 * not_started, max_in_flight, latency {p50, p95, p99, max, mean} (seconds),
 * by_status, error_samples, started, ended (Unix seconds), duration_seconds,
 * window ("12s"), calls_per_second, ok (every call answered 2xx), summary.
 * Stops starting calls at the check's deadline. */
void argocd_refresh_load(struct argocd_run *r, const struct argocd_load_spec *s);

/* --- waits (argocd_wait.c) --- */

struct argocd_wait_spec {
	int health, sync, operation, suspended, degraded; /* argocd app wait's flags */
	char **names;                   /* borrowed, NULL-terminated; NULL = by selector/project */
	const char *selector, *project; /* borrowed, may be NULL */
	char **resources;    /* borrowed: GROUP:KIND:NAME, "!" excludes; NULL = the whole app */
	int op_must_succeed; /* an operation that ends Failed or Error ends the wait (after
	                        sync and rollback, as the CLI's sync checks the phase) */
};

/* Waits over one watch stream until every selected application meets the
 * spec, one of them fails fast (a resource turning Degraded under health),
 * or the check deadline passes. Facts: apps, ready, waiting, events,
 * connections, reconnects, ok, summary. */
void argocd_wait(struct argocd_run *r, const struct argocd_wait_spec *w);

#endif
