/* http_int.h - what the files of the HTTP client share, and nothing outside
 * them includes. The client is split by concern:
 *   http.c         the exchange: shared libcurl state, one hop, redirects;
 *   http_cert.c    a server's certificate as facts (libcrypto's X509 API);
 *   http_errors.c  why an exchange failed, in words a person can act on;
 *   http_opts.c    the auth: and tls: keys every HTTP module accepts. */
#ifndef PHASEGATE_HTTP_INT_H
#define PHASEGATE_HTTP_INT_H

#include <curl/curl.h>
#include <jansson.h>

#include "http.h"

/* ---- URLs (http.c) ---- */

/* The parts of a URL the exchange and its messages need; strings owned. */
struct url_parts {
	char *scheme, *host, *port;
	char *display; /* the URL without user:password@ */
};

/* Fills u from url; on a URL libcurl cannot parse, display is the URL and
 * the other parts stay NULL. Released with http_url_parts_release. */
void http_url_parts_get(const char *url, struct url_parts *u);
void http_url_parts_release(struct url_parts *u);
/* "host:port" for messages (malloc'd). */
char *http_url_endpoint(const struct url_parts *u);

/* ---- one hop (http.c runs it, http_errors.c explains its failure) ---- */

/* What the callbacks of one hop share. */
struct hop {
	struct http_response *rs; /* body and headers go here */
	struct check_ctx *ctx;    /* for cancellation; may be NULL */
	size_t max_body;
	int capped; /* the body reached max_body: the rest was refused */
	int cancelled;
	long long deadline_ms; /* monotonic: the write callback stops here too */
	int late;              /* stopped by the write callback at the deadline */
	long long connect_ms;  /* the connect timeout used */
	CURL *easy;            /* for the status, when streaming */
	int (*on_body)(void *arg, const char *data, size_t len);
	int (*on_idle)(void *arg);
	void *on_body_arg;
	int want_leaf; /* take the certificate from the connection */
	json_t *leaf;  /* owned: ... taken at the first response head */
	int stopped;   /* on_body or on_idle asked to stop */
};

/* One request of the exchange (the first, or a redirect hop). */
struct hop_in {
	const struct http_request *rq;
	const char *url;
	const char *method; /* NULL: GET, or POST with a body */
	const char *body;
	size_t body_len;
	int drop_auth;         /* a redirect left the original host */
	long long deadline_ms; /* monotonic */
	long long budget_ms;   /* the whole exchange's time, for messages */
};

/* Turns a failed transfer into a message a person can act on (malloc'd).
 * connect_to: the CONNECT_TO entry the hop used, or NULL. */
char *http_hop_error_message(CURL *c, CURLcode code, const struct hop_in *in,
                             const struct url_parts *u, const char *connect_to, const struct hop *h,
                             const char *errbuf);

/* ---- certificates (http_cert.c), as facts: new references ---- */

/* The leaf certificate of a certinfo list, read from the PEM libcurl gives. */
json_t *http_cert_leaf_json(const struct curl_slist *s);
/* The leaf certificate of the connection a transfer runs on, or NULL; only
 * while the transfer holds its connection (from a callback). */
json_t *http_cert_conn_json(CURL *c);

#endif
