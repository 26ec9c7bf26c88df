/* http.c - the HTTP client plumbing shared by every module that talks HTTP
 * (see http.h). Exchanges travel on the transport thread's one multi handle
 * (transport.c): one connection pool for the run, sized to --jobs, and
 * HTTP/2 multiplexing, so concurrent requests to one HTTP/2 origin share one
 * connection. One CURLSH holds the DNS cache and the TLS session cache,
 * guarded by one mutex per kind of shared data (the share interface's
 * locks); connections are not in it, since libcurl cannot share a
 * connection cache between threads that run transfers at once. Each worker
 * thread keeps one easy handle that it prepares and submits (reset before
 * each exchange). Streams (on_body) and exchanges whose body cap passes
 * HTTP_SHARED_MAX_BODY run on their own thread's handle instead: they last
 * long or may work long, and must never hold up the other transfers; so do
 * HTTPS exchanges that refuse HTTP/2 (see hop_run). Redirects are followed
 * here, hop by hop, so each hop is recorded and credentials are not carried
 * to another host. Failures are turned into messages that say what happened
 * and what to try (http_errors.c); http_int.h lists the other files. */
#include <ctype.h>
#include <curl/curl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http_int.h"
#include "transport.h"
#include "vars.h"

#ifndef PHASEGATE_VERSION
#define PHASEGATE_VERSION "dev"
#endif

#define HTTP_DEFAULT_MAX_BODY (8u * 1024 * 1024)
#define HTTP_DEFAULT_TIMEOUT_MS 30000LL /* no context and no timeout given */
#define HTTP_MAX_CONNECT_MS 10000LL
#define HTTP_STREAM_CONNECTS 4L /* a thread's own connections, for streams */
/* The largest body cap of an exchange on the transport thread: the work one
 * transfer does there (inflating a compressed body, copying it) is bounded
 * by its cap, and so is the delay it can cause the transfers beside it.
 * Exchanges allowed more (bulk downloads) run on their own thread. */
#define HTTP_SHARED_MAX_BODY (64u * 1024 * 1024)

/* --- the shared state ---------------------------------------------------- */

static CURLSH *http_share; /* owned; NULL before init */
static pthread_mutex_t http_locks[CURL_LOCK_DATA_LAST];
static pthread_once_t http_once = PTHREAD_ONCE_INIT;
static int http_ready; /* init ran and cleanup did not */

/* Certificate facts seen per endpoint. A reused connection (or a resumed
 * TLS session) performs no handshake and so reports no certificate: the
 * facts from the handshake that opened it are kept here by endpoint. */
struct tls_seen {
	char *key;    /* owned: "host:port sni" */
	json_t *info; /* owned: the leaf certificate facts */
	struct tls_seen *next;
};
static struct tls_seen *tls_seen_list;
static pthread_mutex_t tls_seen_lock = PTHREAD_MUTEX_INITIALIZER;

static void http_lock(CURL *h, curl_lock_data data, curl_lock_access access, void *user)
{
	(void)h;
	(void)access;
	(void)user;
	pthread_mutex_lock(&http_locks[data]);
}

static void http_unlock(CURL *h, curl_lock_data data, void *user)
{
	(void)h;
	(void)user;
	pthread_mutex_unlock(&http_locks[data]);
}

/* Each thread's easy handle, cleaned up when the thread ends. */
static pthread_key_t http_easy_key;

static void http_easy_free(void *c)
{
	curl_easy_cleanup(c);
}

/* The calling thread's easy handle, reset to libcurl's defaults (its
 * connections stay open for reuse); NULL when libcurl cannot make one. */
static CURL *http_easy(void)
{
	CURL *c = pthread_getspecific(http_easy_key);
	if (c) {
		curl_easy_reset(c);
		return c;
	}
	c = curl_easy_init();
	if (c)
		pthread_setspecific(http_easy_key, c);
	return c;
}

static void http_init_once(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
	pthread_key_create(&http_easy_key, http_easy_free);
	for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
		pthread_mutex_init(&http_locks[i], NULL);
	http_share = curl_share_init();
	if (!http_share) {
		fprintf(stderr, "phasegate: libcurl cannot create a share handle\n");
		abort();
	}
	curl_share_setopt(http_share, CURLSHOPT_LOCKFUNC, http_lock);
	curl_share_setopt(http_share, CURLSHOPT_UNLOCKFUNC, http_unlock);
	curl_share_setopt(http_share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
	curl_share_setopt(http_share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
	http_ready = 1;
}

void http_global_init(void)
{
	pthread_once(&http_once, http_init_once);
}

void http_set_concurrency(int jobs)
{
	transport_set_concurrency(jobs);
}

void http_global_cleanup(void)
{
	if (!http_ready)
		return;
	http_ready = 0;
	/* the calling thread's handle; worker threads freed theirs on exit */
	CURL *c = pthread_getspecific(http_easy_key);
	if (c) {
		pthread_setspecific(http_easy_key, NULL);
		curl_easy_cleanup(c);
	}
	transport_shutdown(); /* before the share its transfers use */
	curl_share_cleanup(http_share);
	http_share = NULL;
	pthread_mutex_lock(&tls_seen_lock);
	while (tls_seen_list) {
		struct tls_seen *t = tls_seen_list;
		tls_seen_list = t->next;
		free(t->key);
		json_decref(t->info);
		free(t);
	}
	pthread_mutex_unlock(&tls_seen_lock);
	curl_global_cleanup();
}

static void tls_seen_put(const char *key, json_t *info)
{
	pthread_mutex_lock(&tls_seen_lock);
	struct tls_seen *t;
	for (t = tls_seen_list; t; t = t->next)
		if (strcmp(t->key, key) == 0)
			break;
	if (!t) {
		t = xcalloc(1, sizeof(*t));
		t->key = xstrdup(key);
		t->next = tls_seen_list;
		tls_seen_list = t;
	}
	json_decref(t->info);
	t->info = json_deep_copy(info);
	pthread_mutex_unlock(&tls_seen_lock);
}

/* A copy of what was seen for key (new reference), or NULL. */
static json_t *tls_seen_get(const char *key)
{
	json_t *info = NULL;
	pthread_mutex_lock(&tls_seen_lock);
	for (struct tls_seen *t = tls_seen_list; t; t = t->next)
		if (strcmp(t->key, key) == 0) {
			info = json_deep_copy(t->info);
			break;
		}
	pthread_mutex_unlock(&tls_seen_lock);
	return info;
}

/* --- URLs ---------------------------------------------------------------- */

void http_url_parts_release(struct url_parts *u)
{
	curl_free(u->scheme);
	curl_free(u->host);
	curl_free(u->port);
	free(u->display);
	memset(u, 0, sizeof(*u));
}

/* Fills u from url; on a URL libcurl cannot parse, display is the URL and
 * the other parts stay NULL. */
void http_url_parts_get(const char *url, struct url_parts *u)
{
	memset(u, 0, sizeof(*u));
	CURLU *h = curl_url();
	if (curl_url_set(h, CURLUPART_URL, url, 0) != CURLUE_OK) {
		u->display = xstrdup(url);
		goto out_url;
	}
	curl_url_get(h, CURLUPART_SCHEME, &u->scheme, 0);
	curl_url_get(h, CURLUPART_HOST, &u->host, 0);
	curl_url_get(h, CURLUPART_PORT, &u->port, CURLU_DEFAULT_PORT);
	curl_url_set(h, CURLUPART_USER, NULL, 0);
	curl_url_set(h, CURLUPART_PASSWORD, NULL, 0);
	char *clean = NULL;
	if (curl_url_get(h, CURLUPART_URL, &clean, 0) == CURLUE_OK) {
		u->display = xstrdup(clean);
		curl_free(clean);
	} else {
		u->display = xstrdup(url);
	}
out_url:
	curl_url_cleanup(h);
}

/* "host:port" for messages (malloc'd). */
char *http_url_endpoint(const struct url_parts *u)
{
	if (!u->host)
		return xstrdup(u->display);
	return xasprintf("%s:%s", u->host, u->port ? u->port : "?");
}

/* --- one exchange -------------------------------------------------------- */

static size_t hop_write(char *data, size_t size, size_t n, void *user)
{
	struct hop *h = user;
	size_t len = size * n;
	if (h->on_body) {
		long status = 0;
		curl_easy_getinfo(h->easy, CURLINFO_RESPONSE_CODE, &status);
		if (status >= 200 && status < 300) {
			if (h->on_body(h->on_body_arg, data, len) == 0)
				return len;
			h->stopped = 1;
			return 0;
		}
	}
	size_t room = h->max_body - h->rs->body.len;
	/* One compressed read can inflate to megabytes handed over here in
	 * pieces, between which libcurl checks no timeout: check it here. */
	if (h->ctx && ctx_cancelled(h->ctx)) {
		h->cancelled = 1;
		return 0;
	}
	if (now_mono_ms() > h->deadline_ms) {
		h->late = 1;
		return 0;
	}
	if (len > room) {
		buf_add(&h->rs->body, data, room);
		h->capped = 1;
		return 0; /* stop reading: the cap is what the check asked for */
	}
	buf_add(&h->rs->body, data, len);
	return len;
}

static size_t hop_header(char *data, size_t size, size_t n, void *user)
{
	struct hop *h = user;
	size_t len = size * n;
	if (len >= 5 && strncmp(data, "HTTP/", 5) == 0) {
		/* A new response head (after a 100 Continue, say): start afresh. */
		json_object_clear(h->rs->headers);
		if (h->want_leaf && !h->leaf)
			h->leaf = http_cert_conn_json(h->easy);
		return len;
	}
	const char *colon = memchr(data, ':', len);
	if (!colon || colon == data)
		return len;
	size_t nlen = (size_t)(colon - data);
	char *name = xstrndup(data, nlen);
	for (char *p = name; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	const char *v = colon + 1, *end = data + len;
	while (v < end && (*v == ' ' || *v == '\t'))
		v++;
	while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' ' || end[-1] == '\t'))
		end--;
	/* Credentials never become facts, even when a server echoes them. */
	if (strcmp(name, "authorization") == 0 || strcmp(name, "proxy-authorization") == 0)
		goto out_name;
	json_t *old = json_object_get(h->rs->headers, name);
	if (old && json_is_string(old)) {
		char *joined = xasprintf("%s, %.*s", json_string_value(old), (int)(end - v), v);
		json_object_set_new(h->rs->headers, name, json_string(joined));
		free(joined);
	} else {
		json_t *s = json_stringn(v, (size_t)(end - v));
		if (!s) /* not UTF-8: keep the header, replace the text */
			s = json_string("(not UTF-8)");
		json_object_set_new(h->rs->headers, name, s);
	}
out_name:
	free(name);
	return len;
}

static int hop_progress(void *user, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                        curl_off_t ulnow)
{
	(void)dltotal;
	(void)dlnow;
	(void)ultotal;
	(void)ulnow;
	struct hop *h = user;
	if (h->ctx && ctx_cancelled(h->ctx)) {
		h->cancelled = 1;
		return 1;
	}
	if (h->on_body && h->on_idle && h->on_idle(h->on_body_arg)) {
		h->stopped = 1;
		return 1;
	}
	return 0;
}

static int header_is(const char *line, const char *name)
{
	size_t n = strlen(name);
	return strncasecmp(line, name, n) == 0 && line[n] == ':';
}

struct hop_info {
	char *redirect_url; /* owned: Location resolved, or NULL */
	double total_s;
};

static void set_timings(CURL *c, struct http_response *rs, double before_s)
{
	curl_off_t dns = 0, conn = 0, tls = 0, first = 0, total = 0;
	curl_easy_getinfo(c, CURLINFO_NAMELOOKUP_TIME_T, &dns);
	curl_easy_getinfo(c, CURLINFO_CONNECT_TIME_T, &conn);
	curl_easy_getinfo(c, CURLINFO_APPCONNECT_TIME_T, &tls);
	curl_easy_getinfo(c, CURLINFO_STARTTRANSFER_TIME_T, &first);
	curl_easy_getinfo(c, CURLINFO_TOTAL_TIME_T, &total);
	json_decref(rs->timings);
	rs->timings = json_object();
	json_object_set_new(rs->timings, "dns", json_real((double)dns / 1e6));
	json_object_set_new(rs->timings, "connect", json_real((double)conn / 1e6));
	json_object_set_new(rs->timings, "tls", json_real((double)tls / 1e6));
	json_object_set_new(rs->timings, "first_byte", json_real((double)first / 1e6));
	json_object_set_new(rs->timings, "total", json_real(before_s + (double)total / 1e6));
	if (before_s > 0)
		json_object_set_new(rs->timings, "last_hop", json_real((double)total / 1e6));
}

static const char *http_version_name(long v)
{
	switch (v) {
	case CURL_HTTP_VERSION_1_0:
		return "1.0";
	case CURL_HTTP_VERSION_1_1:
		return "1.1";
	case CURL_HTTP_VERSION_2_0:
		return "2";
	case CURL_HTTP_VERSION_3:
		return "3";
	default:
		return "unknown";
	}
}

/* Runs one request. Returns 0 with a response in rs, or -1 with rs->error. */
static int hop_run(struct check_ctx *ctx, const struct hop_in *in, struct http_response *rs,
                   struct hop_info *info)
{
	const struct http_request *rq = in->rq;
	int rc = -1;
	char errbuf[CURL_ERROR_SIZE] = "";
	struct curl_slist *headers = NULL, *connect_to = NULL;
	char *connect_to_s = NULL, *tls_key = NULL;
	struct url_parts u;
	http_url_parts_get(in->url, &u);
	struct hop h = {
	    .rs = rs,
	    .ctx = ctx,
	    .max_body = rq->max_body ? rq->max_body : HTTP_DEFAULT_MAX_BODY,
	    .deadline_ms = in->deadline_ms,
	};
	buf_release(&rs->body);
	buf_init(&rs->body, 0);
	json_object_clear(rs->headers);
	rs->status = 0;
	rs->body_truncated = 0;

	CURL *c = http_easy();
	h.easy = c;
	h.on_body = rq->on_body;
	h.on_body_arg = rq->on_body_arg;
	h.want_leaf = rq->want_tls_info;
	h.on_idle = rq->on_idle;
	if (!c) {
		rs->error = xstrdup("libcurl cannot create a transfer (out of memory?)");
		goto out_url;
	}
	long long left = in->deadline_ms - now_mono_ms();
	if (left <= 0) {
		char *b = format_duration(in->budget_ms);
		rs->error =
		    xasprintf("no time left for the request to %s (deadline %s)", u.display, b);
		free(b);
		rs->timed_out = 1;
		goto out_easy;
	}
	long long conn_ms =
	    rq->connect_timeout_ms > 0 ? rq->connect_timeout_ms : HTTP_MAX_CONNECT_MS;
	if (conn_ms > left)
		conn_ms = left;
	h.connect_ms = conn_ms;

	curl_easy_setopt(c, CURLOPT_URL, in->url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_SHARE, http_share);
	curl_easy_setopt(c, CURLOPT_MAXCONNECTS, HTTP_STREAM_CONNECTS);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)left);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)conn_ms);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, hop_write);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &h);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, hop_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, &h);
	curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, hop_progress);
	curl_easy_setopt(c, CURLOPT_XFERINFODATA, &h);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "phasegate/" PHASEGATE_VERSION);
	curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "");
	curl_easy_setopt(c, CURLOPT_HTTP_VERSION,
	                 rq->http1_only ? (long)CURL_HTTP_VERSION_1_1
	                                : (long)CURL_HTTP_VERSION_2TLS);
	if (rq->proxy) {
		curl_easy_setopt(c, CURLOPT_PROXY, rq->proxy);
		curl_easy_setopt(c, CURLOPT_NOPROXY, ""); /* the caller's choice is final */
	}

	/* Method and body. */
	const char *method = in->method;
	if (!method)
		method = in->body ? "POST" : "GET";
	if (strcasecmp(method, "HEAD") == 0) {
		curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
	} else {
		if (in->body) {
			curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)in->body_len);
			curl_easy_setopt(c, CURLOPT_POSTFIELDS, in->body);
		}
		if (strcmp(method, in->body ? "POST" : "GET") != 0)
			curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	}

	/* Headers; a redirect to another host loses the credentials. */
	int have_host = 0;
	for (const char *const *p = rq->headers; p && *p; p++) {
		if (in->drop_auth &&
		    (header_is(*p, "Authorization") || header_is(*p, "Proxy-Authorization") ||
		     header_is(*p, "Cookie")))
			continue;
		if (header_is(*p, "Host"))
			have_host = 1;
		headers = curl_slist_append(headers, *p);
	}
	if (in->body)
		headers = curl_slist_append(headers, "Expect:");

	/* TLS. server_name: connect to the URL's host but speak TLS (SNI and
	 * verification) as server_name, keeping the Host header. */
	int https = u.scheme && strcmp(u.scheme, "https") == 0;
	const char *url_for_curl = in->url;
	CURLU *cu = NULL;
	char *renamed = NULL;
	if (https && rq->tls.server_name && u.host && strcmp(rq->tls.server_name, u.host) != 0) {
		cu = curl_url();
		curl_url_set(cu, CURLUPART_URL, in->url, 0);
		curl_url_set(cu, CURLUPART_HOST, rq->tls.server_name, 0);
		if (curl_url_get(cu, CURLUPART_URL, &renamed, 0) == CURLUE_OK) {
			url_for_curl = renamed;
			connect_to_s =
			    xasprintf("%s:%s:%s:%s", rq->tls.server_name, u.port, u.host, u.port);
			connect_to = curl_slist_append(NULL, connect_to_s);
			curl_easy_setopt(c, CURLOPT_URL, url_for_curl);
			curl_easy_setopt(c, CURLOPT_CONNECT_TO, connect_to);
			if (!have_host) {
				char *hh = xasprintf("Host: %s:%s", u.host, u.port);
				headers = curl_slist_append(headers, hh);
				free(hh);
			}
		}
	}
	if (headers)
		curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
	if (https) {
		const struct http_tls *t = &rq->tls;
		curl_easy_setopt(c, CURLOPT_CERTINFO, 1L);
		if (t->ca_file || t->ca_pem) {
			/* the CA given is the only one trusted (client-go's rule):
			 * libcurl's default directory and bundle stay active beside
			 * a CA file or blob unless cleared */
			curl_easy_setopt(c, CURLOPT_CAPATH, NULL);
			curl_easy_setopt(c, CURLOPT_CAINFO, NULL);
		}
		if (t->ca_file)
			curl_easy_setopt(c, CURLOPT_CAINFO, t->ca_file);
		if (t->ca_pem) {
			struct curl_blob b = {(void *)t->ca_pem, strlen(t->ca_pem), CURL_BLOB_COPY};
			curl_easy_setopt(c, CURLOPT_CAINFO_BLOB, &b);
		}
		if (t->cert_file)
			curl_easy_setopt(c, CURLOPT_SSLCERT, t->cert_file);
		if (t->cert_pem) {
			struct curl_blob b = {(void *)t->cert_pem, strlen(t->cert_pem),
			                      CURL_BLOB_COPY};
			curl_easy_setopt(c, CURLOPT_SSLCERT_BLOB, &b);
			curl_easy_setopt(c, CURLOPT_SSLCERTTYPE, "PEM");
		}
		if (t->key_file)
			curl_easy_setopt(c, CURLOPT_SSLKEY, t->key_file);
		if (t->key_pem) {
			struct curl_blob b = {(void *)t->key_pem, strlen(t->key_pem),
			                      CURL_BLOB_COPY};
			curl_easy_setopt(c, CURLOPT_SSLKEY_BLOB, &b);
			curl_easy_setopt(c, CURLOPT_SSLKEYTYPE, "PEM");
		}
		if (t->insecure) {
			curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
			curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
		}
	}

	/* Streams and bulk downloads keep to this thread, and so does HTTPS
	 * that refuses HTTP/2: its HTTP/1.1 connections stay out of the shared
	 * pool, so a request that may use HTTP/2 never meets one (its
	 * http_version fact says what the server offers). Every other exchange
	 * shares the run's pool on the transport thread. */
	CURLcode code;
	if (rq->on_body || h.max_body > HTTP_SHARED_MAX_BODY || (https && rq->http1_only)) {
		code = curl_easy_perform(c);
	} else {
		if (!rq->http1_only) /* wait for a connection that can multiplex */
			curl_easy_setopt(c, CURLOPT_PIPEWAIT, 1L);
		code = transport_perform(c);
	}
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &rs->status);
	if (rq->want_timings)
		set_timings(c, rs, info->total_s);
	curl_off_t total = 0;
	curl_easy_getinfo(c, CURLINFO_TOTAL_TIME_T, &total);
	info->total_s += (double)total / 1e6;

	if (code == CURLE_WRITE_ERROR && h.late)
		code = CURLE_OPERATION_TIMEDOUT;
	else if (code == CURLE_WRITE_ERROR && h.cancelled)
		code = CURLE_ABORTED_BY_CALLBACK;
	if (code == CURLE_WRITE_ERROR && h.capped) {
		code = CURLE_OK;
		rs->body_truncated = 1;
		rs->body.truncated = 1;
		mask_cut_buf(&rs->body); /* the cut may fall inside a secret */
	}
	if ((code == CURLE_WRITE_ERROR || code == CURLE_ABORTED_BY_CALLBACK) && h.stopped &&
	    !h.cancelled) {
		code = CURLE_OK;
		rs->stopped = 1;
	}
	if (code != CURLE_OK) {
		rs->curl_code = (int)code;
		rs->timed_out = code == CURLE_OPERATION_TIMEDOUT;
		rs->error = http_hop_error_message(c, code, in, &u, connect_to_s, &h, errbuf);
		goto out_perform;
	}
	rs->curl_code = 0;

	long ver = 0;
	curl_easy_getinfo(c, CURLINFO_HTTP_VERSION, &ver);
	free(rs->http_version);
	rs->http_version = xstrdup(http_version_name(ver));
	char *loc = NULL;
	if (curl_easy_getinfo(c, CURLINFO_REDIRECT_URL, &loc) == CURLE_OK && loc) {
		if (url_for_curl != in->url && u.host && rq->tls.server_name) {
			/* Location was resolved against the renamed URL: name the real host. */
			CURLU *lu = curl_url();
			char *fixed = NULL;
			if (curl_url_set(lu, CURLUPART_URL, loc, 0) == CURLUE_OK) {
				char *lhost = NULL;
				curl_url_get(lu, CURLUPART_HOST, &lhost, 0);
				if (lhost && strcmp(lhost, rq->tls.server_name) == 0)
					curl_url_set(lu, CURLUPART_HOST, u.host, 0);
				curl_free(lhost);
				curl_url_get(lu, CURLUPART_URL, &fixed, 0);
			}
			info->redirect_url = xstrdup(fixed ? fixed : loc);
			curl_free(fixed);
			curl_url_cleanup(lu);
		} else {
			info->redirect_url = xstrdup(loc);
		}
	}

	if (https && rq->want_tls_info) {
		tls_key = xasprintf("%s:%s %s", u.host ? u.host : "", u.port ? u.port : "",
		                    rq->tls.server_name ? rq->tls.server_name : "");
		/* The connection's own certificate; else what its handshake
		 * reported; else what an earlier handshake with the endpoint saw. */
		json_t *leaf = h.leaf;
		h.leaf = NULL;
		struct curl_certinfo *ci = NULL;
		if (!leaf && curl_easy_getinfo(c, CURLINFO_CERTINFO, &ci) == CURLE_OK && ci &&
		    ci->num_of_certs > 0)
			leaf = http_cert_leaf_json(ci->certinfo[0]);
		if (leaf)
			tls_seen_put(tls_key, leaf);
		else
			leaf = tls_seen_get(tls_key);
		if (!leaf)
			leaf = json_object();
		json_object_set_new(leaf, "verified", json_boolean(!rq->tls.insecure));
		json_decref(rs->tls);
		rs->tls = leaf;
	} else if (https) {
		/* Keep the endpoint's certificate for a later check that wants it. */
		struct curl_certinfo *ci = NULL;
		if (curl_easy_getinfo(c, CURLINFO_CERTINFO, &ci) == CURLE_OK && ci &&
		    ci->num_of_certs > 0) {
			tls_key = xasprintf("%s:%s %s", u.host ? u.host : "", u.port ? u.port : "",
			                    rq->tls.server_name ? rq->tls.server_name : "");
			json_t *leaf = http_cert_leaf_json(ci->certinfo[0]);
			tls_seen_put(tls_key, leaf);
			json_decref(leaf);
		}
	}
	rc = 0;

out_perform:
	curl_free(renamed);
	curl_url_cleanup(cu);
out_easy:
	/* the handle stays with the thread; what it points to is freed here */
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, NULL);
	curl_easy_setopt(c, CURLOPT_CONNECT_TO, NULL);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, NULL);
out_url:
	json_decref(h.leaf);
	curl_slist_free_all(headers);
	curl_slist_free_all(connect_to);
	free(connect_to_s);
	free(tls_key);
	http_url_parts_release(&u);
	return rc;
}

static int is_redirect(long status)
{
	return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

/* 1 when two URLs name the same scheme, host and port. */
static int same_origin(const char *a, const char *b)
{
	struct url_parts ua, ub;
	http_url_parts_get(a, &ua);
	http_url_parts_get(b, &ub);
	int same = ua.host && ub.host && ua.scheme && ub.scheme && ua.port && ub.port &&
	           strcasecmp(ua.host, ub.host) == 0 && strcmp(ua.scheme, ub.scheme) == 0 &&
	           strcmp(ua.port, ub.port) == 0;
	http_url_parts_release(&ua);
	http_url_parts_release(&ub);
	return same;
}

int http_url_secret(const char *url)
{
	CURLU *u = curl_url();
	char *user = NULL, *pass = NULL;
	int rc = 0;

	if (!u || !url)
		goto out;
	if (curl_url_set(u, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME) != CURLUE_OK)
		goto out;
	curl_url_get(u, CURLUPART_USER, &user, CURLU_URLDECODE);
	curl_url_get(u, CURLUPART_PASSWORD, &pass, CURLU_URLDECODE);
	if (pass && *pass)
		rc = mask_register_pair(user ? user : "", pass);
out:
	curl_free(user);
	curl_free(pass);
	curl_url_cleanup(u);
	return rc;
}

int http_do(struct check_ctx *ctx, const struct http_request *rq, struct http_response *rs)
{
	http_global_init();
	/* a URL known only now (saved values, redirects of other modules)
	 * still has its password masked before anything is printed */
	(void)http_url_secret(rq->url);
	memset(rs, 0, sizeof(*rs));
	buf_init(&rs->body, 0);
	rs->headers = json_object();
	if (rq->max_redirects > 0)
		rs->redirects = json_array();

	long long budget = rq->timeout_ms > 0 ? rq->timeout_ms : 0;
	if (ctx) {
		long long rem = ctx_remaining_ms(ctx);
		if (!budget || rem < budget)
			budget = rem;
	} else if (!budget) {
		budget = HTTP_DEFAULT_TIMEOUT_MS;
	}
	struct hop_in in = {
	    .rq = rq,
	    .url = rq->url,
	    .method = rq->method,
	    .body = rq->body,
	    .body_len = rq->body ? rq->body_len : 0,
	    .deadline_ms = now_mono_ms() + budget,
	    .budget_ms = budget,
	};
	struct hop_info info = {0};
	char *url = xstrdup(rq->url);
	int rc;
	for (long hop = 0;; hop++) {
		in.url = url;
		free(info.redirect_url);
		info.redirect_url = NULL;
		rc = hop_run(ctx, &in, rs, &info);
		if (rc)
			break;
		if (rq->max_redirects <= 0 || !is_redirect(rs->status) || !info.redirect_url ||
		    hop >= rq->max_redirects)
			break;
		struct url_parts u;
		http_url_parts_get(url, &u);
		json_t *step = json_object();
		json_object_set_new(step, "url", json_string(u.display));
		json_object_set_new(step, "status", json_integer(rs->status));
		json_array_append_new(rs->redirects, step);
		http_url_parts_release(&u);
		/* What browsers and curl do: 303 always, and 301/302 after a POST,
		 * continue with a GET without the body. */
		const char *m = in.method ? in.method : (in.body ? "POST" : "GET");
		if (rs->status == 303 ||
		    ((rs->status == 301 || rs->status == 302) && strcasecmp(m, "POST") == 0)) {
			if (strcasecmp(m, "HEAD") != 0)
				in.method = "GET";
			in.body = NULL;
			in.body_len = 0;
		}
		if (!same_origin(rq->url, info.redirect_url))
			in.drop_auth = 1;
		free(url);
		url = info.redirect_url;
		info.redirect_url = NULL;
	}
	free(info.redirect_url);
	if (rc == 0) {
		struct url_parts u;
		http_url_parts_get(url, &u);
		rs->effective_url = u.display;
		u.display = NULL;
		http_url_parts_release(&u);
	}
	free(url);
	return rc;
}

void http_response_release(struct http_response *rs)
{
	free(rs->http_version);
	buf_release(&rs->body);
	json_decref(rs->headers);
	json_decref(rs->redirects);
	json_decref(rs->tls);
	json_decref(rs->timings);
	free(rs->effective_url);
	free(rs->error);
	memset(rs, 0, sizeof(*rs));
}

json_t *http_body_json(const struct http_response *rs)
{
	if (!rs->body.len)
		return NULL;
	json_error_t err;
	return json_load_bounded(rs->body.data, rs->body.len, JSON_MAX_VALUES, &err);
}
