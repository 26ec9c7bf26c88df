/* http.h - the HTTP client plumbing that every module talking HTTP shares
 * (http, prometheus, k8s, argocd): one connection pool for the whole run,
 * sized to --jobs, on one transport thread (runner/transport.h), so checks
 * reuse connections across the run and concurrent requests to an HTTP/2
 * origin share one connection; a DNS cache and TLS session cache shared by
 * every handle (a CURLSH with locks); HTTP/2 when the server offers it over
 * TLS; deadlines from the check context; cancellation on SIGINT/SIGTERM;
 * TLS verified unless the request says insecure.
 *
 * Secrets: headers given here are never copied into the response, facts or
 * messages by this layer. */
#ifndef PHASEGATE_HTTP_H
#define PHASEGATE_HTTP_H

#include <jansson.h>
#include <stddef.h>

#include "module.h"
#include "util.h"

struct http_tls {
	const char *ca_file;      /* PEM bundle file */
	const char *ca_pem;       /* PEM text (e.g. kubeconfig certificate-authority-data, decoded) */
	const char *cert_file, *key_file;   /* client certificate and key files */
	const char *cert_pem, *key_pem;     /* ... or as PEM text */
	const char *server_name;  /* verify the certificate against this name (tls-server-name) */
	int insecure;             /* skip verification (reports mark it) */
};

struct http_request {
	const char *method;       /* NULL = GET (or POST when body is set) */
	const char *url;
	const char *const *headers; /* "Name: value", NULL-terminated; may be NULL */
	const char *body;         /* may be NULL */
	size_t body_len;
	struct http_tls tls;
	long max_redirects;       /* 0 = do not follow */
	long long connect_timeout_ms; /* 0 = min(10s, remaining) */
	long long timeout_ms;     /* 0 = what remains of the check deadline */
	size_t max_body;          /* 0 = 8 MiB; more is cut and body_truncated set */
	const char *proxy;        /* NULL = libcurl's environment handling; else exactly
	                             this proxy ("" = none), NO_PROXY not consulted */
	int want_tls_info;        /* fill tls (certificate chain info) */
	int want_timings;
	int http1_only;           /* 1 = never HTTP/2 (default: HTTP/2 over TLS when offered) */
	/* Streaming (watch streams): when set, the pieces of a 2xx body are
	 * handed to on_body as they arrive instead of being kept in rs->body
	 * (other statuses are kept as usual, for the error message). on_body
	 * returns 0 to read on, 1 to stop: the exchange then ends without an
	 * error and rs->stopped is set. */
	int (*on_body)(void *arg, const char *data, size_t len);
	void *on_body_arg;
	/* With on_body: called with on_body_arg about once a second while the
	 * stream is quiet (libcurl's progress callback); 1 stops the exchange
	 * as on_body's 1 does, so a watch nobody waits on can end. May be NULL. */
	int (*on_idle)(void *arg);
};

struct http_response {
	long status;              /* 0 when no response */
	char *http_version;       /* "1.1", "2" */
	struct buf body;
	int body_truncated;
	json_t *headers;          /* object: lower-cased name -> string (repeated names joined by ", ") */
	json_t *redirects;        /* array of {url, status} for each hop followed, or NULL */
	json_t *tls;              /* {verified, subject, issuer, sans[], not_after, days_left} or NULL */
	json_t *timings;          /* {dns, connect, tls, first_byte, total} seconds, or NULL */
	char *effective_url;
	int curl_code;            /* CURLE_*; 0 on a completed exchange */
	long proxy_status;        /* a proxy's refusal of CONNECT (407, 403...), else 0 */
	char *error;              /* a message a person can act on, NULL on success */
	int timed_out;
	int stopped;              /* on_body asked to stop reading */
};

/* The auth: and tls: maps that every module talking HTTP accepts, checked
 * and read in one place so they mean the same everywhere. */
extern const struct key_spec http_auth_keys[];  /* bearer, basic: {username, password} */
extern const struct key_spec http_tls_keys[];   /* ca, cert, key, server_name, insecure */

struct http_tls_opts {
	char *ca, *cert, *key;   /* owned, may be NULL: PEM files as written */
	char *server_name;       /* owned, may be NULL */
	int insecure;
};

/* auth: {bearer: TOKEN} or {basic: {username, password}} becomes an
 * "Authorization: ..." header in *header (malloc'd). The credentials (and
 * the encoded basic pair) are registered with the masker even when a suite
 * writes them as text. what names the module in messages ("http").
 * Returns 0, or -1 with diagnostics. */
int http_opts_auth(const struct node *auth, const char *what, char **header, struct diags *d);
/* tls: map -> o (released with http_tls_opts_release). 0 or -1. */
int http_opts_tls(const struct node *tls, const char *what, struct http_tls_opts *o,
		  struct diags *d);
void http_tls_opts_release(struct http_tls_opts *o);

/* Registers the password of a URL's user:password@ part with the masker
 * (mask_register_pair). Returns -1 when it is too short to be masked (a
 * suite error), 0 otherwise (also when the URL has none or does not parse).
 * Modules call it when they parse a URL; http_do() calls it again. */
int http_url_secret(const char *url);

/* Once per process (before threads start) and at exit. */
void http_global_init(void);
void http_global_cleanup(void);

/* Sizes the run's connection pool to this many concurrent checks (--jobs):
 * two connections kept per job, at least 16 (runner/transport.h). Before
 * the first exchange. */
void http_set_concurrency(int jobs);

/* Performs one exchange. Returns 0 when a response was received (any
 * status), -1 with rs->error set when none was (refused, timeout, TLS, DNS,
 * reset, cancelled). */
int http_do(struct check_ctx *ctx, const struct http_request *rq, struct http_response *rs);
void http_response_release(struct http_response *rs);

/* Parses rs->body as JSON (NULL when it is not JSON). */
json_t *http_body_json(const struct http_response *rs);

#endif
