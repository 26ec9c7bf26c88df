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
 * HTTPS exchanges that refuse HTTP/2 (see hop_run). Redirects are followed here, hop by hop, so each hop is
 * recorded and credentials are not carried to another host. Failures are
 * turned into messages that say what happened and what to try. */
#include <arpa/inet.h>
#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/bn.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "http.h"
#include "keys.h"
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

/* The parts of a URL this file needs; strings owned. */
struct url_parts {
	char *scheme, *host, *port;
	char *display; /* the URL without user:password@ */
};

static void url_parts_release(struct url_parts *u)
{
	curl_free(u->scheme);
	curl_free(u->host);
	curl_free(u->port);
	free(u->display);
	memset(u, 0, sizeof(*u));
}

/* Fills u from url; on a URL libcurl cannot parse, display is the URL and
 * the other parts stay NULL. */
static void url_parts_get(const char *url, struct url_parts *u)
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
static char *url_endpoint(const struct url_parts *u)
{
	if (!u->host)
		return xstrdup(u->display);
	return xasprintf("%s:%s", u->host, u->port ? u->port : "?");
}

/* --- certificates -------------------------------------------------------- */

static char *cert_time_iso(time_t t)
{
	struct tm tm;
	char b[32];
	gmtime_r(&t, &tm);
	strftime(b, sizeof(b), "%Y-%m-%dT%H:%M:%SZ", &tm);
	return xstrdup(b);
}

/* An X509 name as OpenSSL's one-line form ("CN = localhost"). */
static json_t *cert_name(const X509_NAME *name)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *p = NULL;
	json_t *j;
	X509_NAME_print_ex(b, name, 0, XN_FLAG_ONELINE & ~ASN1_STRFLGS_ESC_MSB);
	long n = BIO_get_mem_data(b, &p);
	j = json_stringn(p ? p : "", n > 0 ? (size_t)n : 0);
	BIO_free(b);
	return j ? j : json_string("(not UTF-8)");
}

/* The DNS names and IP addresses of the subjectAltName extension. */
static json_t *cert_sans(X509 *x)
{
	json_t *a = json_array();
	GENERAL_NAMES *names = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
	for (int i = 0; names && i < sk_GENERAL_NAME_num(names); i++) {
		const GENERAL_NAME *g = sk_GENERAL_NAME_value(names, i);
		if (g->type == GEN_DNS) {
			const unsigned char *d = ASN1_STRING_get0_data(g->d.dNSName);
			json_t *v =
			    json_stringn((const char *)d, (size_t)ASN1_STRING_length(g->d.dNSName));
			if (v)
				json_array_append_new(a, v);
		} else if (g->type == GEN_IPADD) {
			char text[INET6_ADDRSTRLEN];
			int len = ASN1_STRING_length(g->d.iPAddress);
			const unsigned char *d = ASN1_STRING_get0_data(g->d.iPAddress);
			if ((len == 4 || len == 16) &&
			    inet_ntop(len == 4 ? AF_INET : AF_INET6, d, text, sizeof(text)))
				json_array_append_new(a, json_string(text));
		}
	}
	GENERAL_NAMES_free(names);
	return a;
}

/* A certificate time as ISO 8601 in o[key], and its epoch in *t. */
static int cert_time(json_t *o, const char *key, const ASN1_TIME *at, time_t *t)
{
	struct tm tm;
	if (!at || ASN1_TIME_to_tm(at, &tm) != 1)
		return -1;
	*t = timegm(&tm);
	char *iso = cert_time_iso(*t);
	json_object_set_new(o, key, json_string(iso));
	free(iso);
	return 0;
}

/* A certificate as facts (new reference), through libcrypto's X509 API
 * rather than from the TLS backend's printed text. x may be NULL. */
static json_t *cert_x509_json(X509 *x)
{
	json_t *o = json_object();
	if (!x) {
		json_object_set_new(o, "sans", json_array());
		return o;
	}
	json_object_set_new(o, "subject", cert_name(X509_get_subject_name(x)));
	json_object_set_new(o, "issuer", cert_name(X509_get_issuer_name(x)));
	json_object_set_new(o, "sans", cert_sans(x));
	BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
	char *hex = bn ? BN_bn2hex(bn) : NULL;
	if (hex)
		json_object_set_new(o, "serial", json_string(hex));
	OPENSSL_free(hex);
	BN_free(bn);
	time_t t;
	cert_time(o, "not_before", X509_get0_notBefore(x), &t);
	if (cert_time(o, "not_after", X509_get0_notAfter(x), &t) == 0) {
		double left = difftime(t, time(NULL)) / 86400.0;
		long long days = (long long)left;
		if (left < 0 && (double)days != left)
			days--; /* floor: an hour past expiry is day -1 */
		json_object_set_new(o, "days_left", json_integer(days));
	}
	return o;
}

/* The leaf certificate of a certinfo list as facts (new reference): read
 * from the PEM libcurl gives ("Cert:"). */
static json_t *cert_leaf_json(const struct curl_slist *s)
{
	X509 *x = NULL;
	for (; s && !x; s = s->next) {
		if (strncmp(s->data, "Cert:", 5) == 0) {
			BIO *b = BIO_new_mem_buf(s->data + 5, -1);
			x = PEM_read_bio_X509(b, NULL, NULL, NULL);
			BIO_free(b);
		}
	}
	json_t *o = cert_x509_json(x);
	X509_free(x);
	return o;
}

/* The leaf certificate of the connection a transfer runs on, as facts (new
 * reference), or NULL. Unlike certinfo this also answers on a reused or
 * multiplexed connection: the peer certificate stays with the TLS session.
 * Only while the transfer holds its connection (from a callback). */
static json_t *cert_conn_json(CURL *c)
{
	struct curl_tlssessioninfo *ti = NULL;
	if (curl_easy_getinfo(c, CURLINFO_TLS_SSL_PTR, &ti) != CURLE_OK || !ti ||
	    ti->backend != CURLSSLBACKEND_OPENSSL || !ti->internals)
		return NULL;
	X509 *x = SSL_get1_peer_certificate(ti->internals);
	if (!x)
		return NULL;
	json_t *o = cert_x509_json(x);
	X509_free(x);
	return o;
}

/* --- one exchange -------------------------------------------------------- */

/* What the callbacks of one hop share. */
struct hop {
	struct http_response *rs; /* body and headers go here */
	struct check_ctx *ctx;    /* for cancellation; may be NULL */
	size_t max_body;
	int capped; /* the body reached max_body: the rest was refused */
	int cancelled;
	long long deadline_ms; /* monotonic: the write callback stops here too */
	int late;              /* stopped by the write callback at the deadline */
	long long connect_ms; /* the connect timeout used */
	CURL *easy;           /* for the status, when streaming */
	int (*on_body)(void *arg, const char *data, size_t len);
	int (*on_idle)(void *arg);
	void *on_body_arg;
	int want_leaf;        /* take the certificate from the connection */
	json_t *leaf;         /* owned: ... taken at the first response head */
	int stopped;          /* on_body or on_idle asked to stop */
};

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
			h->leaf = cert_conn_json(h->easy);
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

/* The certificate of a server whose verification failed, fetched again
 * without verification on a fresh connection (never shared), for the
 * message. NULL when it cannot be had. */
static json_t *tls_probe(const struct hop_in *in, const char *connect_to)
{
	json_t *leaf = NULL;
	CURL *c = curl_easy_init();
	if (!c)
		return NULL;
	struct curl_slist *ct = connect_to ? curl_slist_append(NULL, connect_to) : NULL;
	long long left = in->deadline_ms - now_mono_ms();
	if (left <= 0)
		goto out_probe;
	if (left > 3000)
		left = 3000;
	curl_easy_setopt(c, CURLOPT_URL, in->url);
	curl_easy_setopt(c, CURLOPT_CONNECT_ONLY, 1L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
	curl_easy_setopt(c, CURLOPT_CERTINFO, 1L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)left);
	if (ct)
		curl_easy_setopt(c, CURLOPT_CONNECT_TO, ct);
	if (in->rq->proxy) {
		curl_easy_setopt(c, CURLOPT_PROXY, in->rq->proxy);
		curl_easy_setopt(c, CURLOPT_NOPROXY, ""); /* the caller's choice is final */
	}
	if (curl_easy_perform(c) == CURLE_OK) {
		struct curl_certinfo *ci = NULL;
		if (curl_easy_getinfo(c, CURLINFO_CERTINFO, &ci) == CURLE_OK && ci &&
		    ci->num_of_certs > 0)
			leaf = cert_leaf_json(ci->certinfo[0]);
	}
out_probe:
	curl_slist_free_all(ct);
	curl_easy_cleanup(c);
	return leaf;
}

static const char *jstr(json_t *o, const char *key, const char *def)
{
	const char *s = json_string_value(json_object_get(o, key));
	return s ? s : def;
}

/* Names of a certificate for messages: "'a', 'b'" (malloc'd). */
static char *cert_names(json_t *leaf)
{
	struct buf b;
	buf_init(&b, 512);
	json_t *sans = json_object_get(leaf, "sans");
	for (size_t i = 0; i < json_array_size(sans); i++)
		buf_addf(&b, "%s'%s'", i ? ", " : "", json_string_value(json_array_get(sans, i)));
	if (!b.len)
		buf_addf(&b, "'%s'", jstr(leaf, "subject", "?"));
	return buf_detach(&b);
}

/* The message for a TLS verification failure. */
static char *tls_failure_message(const struct hop_in *in, const struct url_parts *u,
                                 const char *connect_to, long verify, const char *errbuf,
                                 json_t *leaf_seen)
{
	char *ep = url_endpoint(u);
	char *msg = NULL;
	json_t *leaf = leaf_seen ? json_incref(leaf_seen) : tls_probe(in, connect_to);
	const char *want = in->rq->tls.server_name ? in->rq->tls.server_name : u->host;
	switch (verify) {
	case 10: /* X509_V_ERR_CERT_HAS_EXPIRED */
		msg = xasprintf("TLS: the certificate of %s has expired (not after %s); the server "
		                "needs a renewed certificate",
		                ep, jstr(leaf, "not_after", "unknown"));
		break;
	case 9: /* X509_V_ERR_CERT_NOT_YET_VALID */
		msg =
		    xasprintf("TLS: the certificate of %s is not valid yet (not before %s); check "
		              "the clocks of both machines",
		              ep, jstr(leaf, "not_before", "unknown"));
		break;
	case 2:  /* unable to get issuer certificate */
	case 18: /* self-signed leaf */
	case 19: /* self-signed certificate in chain */
	case 20: /* unable to get local issuer certificate */
	case 21: /* unable to verify the first certificate */
		msg =
		    xasprintf("TLS: the certificate of %s (issuer '%s') is not signed by a trusted "
		              "certificate authority; set tls.ca to the CA that signed the server "
		              "certificate",
		              ep, jstr(leaf, "issuer", "unknown"));
		break;
	case 0:
	case 1: /* libcurl's own host name check failed after a valid chain */
		if (strstr(errbuf, "subject name") || strstr(errbuf, "host name")) {
			char *names = leaf ? cert_names(leaf) : xstrdup("other names");
			msg = xasprintf(
			    "TLS: the certificate of %s is for %s, not '%s'; connect by one "
			    "of those names or set tls.server_name",
			    ep, names, want ? want : "?");
			free(names);
			break;
		}
		/* fall through */
	default:
		msg = xasprintf("TLS: the certificate of %s was not accepted: %s", ep, errbuf);
		break;
	}
	json_decref(leaf);
	free(ep);
	return msg;
}

/* A time for messages. Budgets come from the check's deadline a moment
 * after it was set: 999ms reads better as the 1s the suite wrote. */
static long long shown_ms(long long ms)
{
	return ms >= 500 ? (ms + 50) / 100 * 100 : ms;
}

/* Turns a failed transfer into a message a person can act on. */
static char *hop_error_message(CURL *c, CURLcode code, const struct hop_in *in,
                               const struct url_parts *u, const char *connect_to,
                               const struct hop *h, const char *errbuf)
{
	char *ep = url_endpoint(u);
	char *msg = NULL;
	char *budget = format_duration(shown_ms(in->budget_ms));
	long oserr = 0;
	curl_easy_getinfo(c, CURLINFO_OS_ERRNO, &oserr);
	curl_off_t conn_t = 0, app_t = 0, pre_t = 0, clen = -1;
	curl_easy_getinfo(c, CURLINFO_CONNECT_TIME_T, &conn_t);
	curl_easy_getinfo(c, CURLINFO_PRETRANSFER_TIME_T, &pre_t);
	long local_port = 0; /* a TCP connection was made (libcurl counts TLS in connect time) */
	curl_easy_getinfo(c, CURLINFO_LOCAL_PORT, &local_port);
	curl_easy_getinfo(c, CURLINFO_APPCONNECT_TIME_T, &app_t);
	curl_easy_getinfo(c, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &clen);
	long status = 0;
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	int https = u->scheme && strcmp(u->scheme, "https") == 0;
	size_t got = h->rs->body.len;

	switch (code) {
	case CURLE_COULDNT_RESOLVE_HOST:
		msg = xasprintf("cannot resolve host '%s' (check the name, or the DNS server this "
		                "machine uses)",
		                u->host ? u->host : u->display);
		break;
	case CURLE_COULDNT_RESOLVE_PROXY:
		msg = xasprintf("cannot resolve the proxy host: %s", errbuf);
		break;
	case CURLE_COULDNT_CONNECT:
		if (in->rq->proxy && *in->rq->proxy)
			msg = xasprintf("cannot connect to the proxy %s for %s: %s", in->rq->proxy,
			                ep, oserr == ECONNREFUSED ? "connection refused (nothing listens there?)"
			                                           : errbuf);
		else if (oserr == ECONNREFUSED)
			msg = xasprintf("connection refused by %s (nothing listens there?)", ep);
		else if (oserr == ENETUNREACH || oserr == EHOSTUNREACH)
			msg = xasprintf(
			    "%s is unreachable from here (no route: check the address and "
			    "the network)",
			    ep);
		else
			msg = xasprintf("cannot connect to %s: %s", ep, errbuf);
		break;
	case CURLE_OPERATION_TIMEDOUT:
		/* A reused connection reports no connect time: judge by what
		 * happened last (a status, a request sent, a connection made). */
		if (status != 0)
			msg = xasprintf(
			    "the response from %s was not complete within %s (status %ld, "
			    "got %zu bytes of the body)",
			    u->display, budget, status, got);
		else if (pre_t > 0)
			msg = xasprintf("no response within %s from %s (the server accepted the "
			                "connection but did not answer)",
			                budget, u->display);
		else if (conn_t == 0 && local_port == 0) {
			char *cb = format_duration(shown_ms(
			    h->connect_ms < in->budget_ms ? h->connect_ms : in->budget_ms));
			msg = xasprintf("no connection to %s within %s (a firewall may drop the "
			                "packets, or the host is down)",
			                ep, cb);
			free(cb);
		} else if (https && app_t == 0)
			msg = xasprintf("the TLS handshake with %s did not finish within %s", ep,
			                budget);
		else
			msg = xasprintf("no response within %s from %s", budget, u->display);
		break;
	case CURLE_PEER_FAILED_VERIFICATION: {
		long verify = 0;
		curl_easy_getinfo(c, CURLINFO_SSL_VERIFYRESULT, &verify);
		json_t *leaf = NULL;
		struct curl_certinfo *ci = NULL;
		if (curl_easy_getinfo(c, CURLINFO_CERTINFO, &ci) == CURLE_OK && ci &&
		    ci->num_of_certs > 0)
			leaf = cert_leaf_json(ci->certinfo[0]);
		msg = tls_failure_message(in, u, connect_to, verify, errbuf, leaf);
		json_decref(leaf);
		break;
	}
	case CURLE_SSL_CONNECT_ERROR:
		msg = xasprintf("the TLS handshake with %s failed: %s (is it a TLS port? does it "
		                "want a client certificate?)",
		                ep, errbuf);
		break;
	case CURLE_SSL_CERTPROBLEM:
		msg = xasprintf("TLS: cannot use the client certificate: %s (check tls.cert and "
		                "tls.key)",
		                errbuf);
		break;
	case CURLE_SSL_CACERT_BADFILE:
		msg = xasprintf("TLS: cannot read the CA certificates: %s (check tls.ca)", errbuf);
		break;
	case CURLE_RECV_ERROR:
	case CURLE_SEND_ERROR:
		curl_easy_getinfo(c, CURLINFO_HTTP_CONNECTCODE, &h->rs->proxy_status);
		if (h->rs->proxy_status >= 300)
			msg = xasprintf("the proxy refused the tunnel to %s with HTTP %ld%s", ep,
			                h->rs->proxy_status,
			                h->rs->proxy_status == 407
			                    ? " (Proxy Authentication Required: check the user and "
			                      "password of the proxy URL)"
			                    : "");
		else if (oserr == ECONNRESET && status == 0)
			msg = xasprintf("connection reset by %s before any response", ep);
		else if (oserr == ECONNRESET)
			msg = xasprintf(
			    "connection reset while reading the body after %zu bytes (from "
			    "%s)",
			    got, u->display);
		else
			msg = xasprintf("error talking to %s: %s", ep, errbuf);
		break;
	case CURLE_GOT_NOTHING:
		msg = xasprintf("%s closed the connection without sending a response", ep);
		break;
	case CURLE_PARTIAL_FILE:
		if (clen >= 0)
			msg = xasprintf(
			    "the server closed the connection before the body was complete "
			    "(got %zu of %lld bytes from %s)",
			    got, (long long)clen, u->display);
		else
			msg = xasprintf(
			    "the server closed the connection before the body was complete "
			    "(got %zu bytes from %s)",
			    got, u->display);
		break;
	case CURLE_ABORTED_BY_CALLBACK:
		msg = xasprintf("stopped: the run was interrupted or its time ran out (request to "
		                "%s)",
		                u->display);
		break;
	case CURLE_UNSUPPORTED_PROTOCOL:
	case CURLE_WEIRD_SERVER_REPLY:
		if (code == CURLE_WEIRD_SERVER_REPLY || strstr(errbuf, "HTTP/0.9"))
			msg =
			    xasprintf("%s did not answer in HTTP (is it the right port, or does it "
			              "want https?)",
			              ep);
		else if (u->scheme && (strcmp(u->scheme, "http") == 0 || https))
			/* the URL was fine: the answer was not (a status code that is
			 * not three digits, a broken status line) */
			msg = xasprintf("%s sent an answer that is not valid HTTP: %s", ep,
			                errbuf[0] ? errbuf : curl_easy_strerror(code));
		else
			msg = xasprintf("'%s' is not an http or https URL", u->display);
		break;
	case CURLE_OUT_OF_MEMORY:
		/* libcurl also says this when it refuses a header line past its
		 * 100 KB limit (or a head past 300 KB) */
		if (status == 0 || got == 0)
			msg = xasprintf("the response head from %s is larger than libcurl accepts "
			                "(100 KB a header line, 300 KB in all)%s%s",
			                u->display, errbuf[0] ? ": " : "", errbuf);
		else
			msg = xasprintf("out of memory while reading the response from %s",
			                u->display);
		break;
	case CURLE_URL_MALFORMAT:
		msg = xasprintf("malformed URL '%s'", u->display);
		break;
	default:
		msg = xasprintf("request to %s failed: %s", u->display,
		                errbuf[0] ? errbuf : curl_easy_strerror(code));
		break;
	}
	free(budget);
	free(ep);
	return msg;
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
	url_parts_get(in->url, &u);
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
		rs->error = hop_error_message(c, code, in, &u, connect_to_s, &h, errbuf);
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
			leaf = cert_leaf_json(ci->certinfo[0]);
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
			json_t *leaf = cert_leaf_json(ci->certinfo[0]);
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
	url_parts_release(&u);
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
	url_parts_get(a, &ua);
	url_parts_get(b, &ub);
	int same = ua.host && ub.host && ua.scheme && ub.scheme && ua.port && ub.port &&
	           strcasecmp(ua.host, ub.host) == 0 && strcmp(ua.scheme, ub.scheme) == 0 &&
	           strcmp(ua.port, ub.port) == 0;
	url_parts_release(&ua);
	url_parts_release(&ub);
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
		url_parts_get(url, &u);
		json_t *step = json_object();
		json_object_set_new(step, "url", json_string(u.display));
		json_object_set_new(step, "status", json_integer(rs->status));
		json_array_append_new(rs->redirects, step);
		url_parts_release(&u);
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
		url_parts_get(url, &u);
		rs->effective_url = u.display;
		u.display = NULL;
		url_parts_release(&u);
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

/* ---- the auth: and tls: options shared by modules ---- */

const struct key_spec http_auth_keys[] = {
	{"bearer", KT_STR, 0, "a token sent as Authorization: Bearer (use ${secrets.name})"},
	{"basic", KT_MAP, 0, "{username, password} sent as Authorization: Basic"},
	{NULL, KT_ANY, 0, NULL},
};

static const struct key_spec http_basic_keys[] = {
	{"username", KT_STR, KEY_REQUIRED, "user name"},
	{"password", KT_STR, KEY_REQUIRED, "password (use ${secrets.name})"},
	{NULL, KT_ANY, 0, NULL},
};

const struct key_spec http_tls_keys[] = {
	{"ca", KT_STR, 0, "PEM file of the CA(s) to trust instead of the system bundle"},
	{"cert", KT_STR, 0, "client certificate (PEM file)"},
	{"key", KT_STR, 0, "client key (PEM file)"},
	{"server_name", KT_STR, 0, "name to verify the certificate against (and send as SNI)"},
	{"insecure", KT_BOOL, 0, "skip certificate verification (the reports say so)"},
	{NULL, KT_ANY, 0, NULL},
};

int http_opts_auth(const struct node *auth, const char *what, char **header, struct diags *d)
{
	*header = NULL;
	char *label = xasprintf("%s auth", what);
	int rc = -1;
	if (keys_validate(auth, http_auth_keys, label, d))
		goto out;
	const struct node *bearer = cfg_node(auth, "bearer");
	const struct node *basic = cfg_node(auth, "basic");
	if (!!bearer == !!basic) {
		diag_at(d, auth, "%s: give exactly one of bearer: or basic:", label);
		goto out;
	}
	if (bearer) {
		const char *tok = cfg_str(auth, "bearer", "");
		if (strpbrk(tok, "\r\n")) {
			diag_at(d, bearer, "%s bearer: the token holds a line break", label);
			goto out;
		}
		if (mask_register(tok) < 0) {
			diag_at(d, bearer, "%s bearer: the token is shorter than %d characters",
			        label, MASK_MIN_LEN);
			goto out;
		}
		*header = xasprintf("Authorization: Bearer %s", tok);
		rc = 0;
		goto out;
	}
	char *blabel = xasprintf("%s basic", label);
	int bad = keys_validate(basic, http_basic_keys, blabel, d);
	free(blabel);
	if (bad)
		goto out;
	const char *user = cfg_str(basic, "username", "");
	const char *pass = cfg_str(basic, "password", "");
	if (strchr(user, ':')) {
		diag_at(d, cfg_node(basic, "username"), "%s basic: the username holds a ':'", label);
		goto out;
	}
	if (mask_register_pair(user, pass) < 0) {
		diag_at(d, cfg_node(basic, "password") ? cfg_node(basic, "password") : basic,
		        "%s basic: the password is shorter than %d characters", label,
		        MASK_MIN_LEN);
		goto out;
	}
	char *pair = xasprintf("%s:%s", user, pass);
	char *enc = base64_encode(pair, strlen(pair));
	*header = xasprintf("Authorization: Basic %s", enc);
	free(enc);
	free(pair);
	rc = 0;
out:
	free(label);
	return rc;
}

int http_opts_tls(const struct node *tls, const char *what, struct http_tls_opts *o,
		  struct diags *d)
{
	memset(o, 0, sizeof(*o));
	char *label = xasprintf("%s tls", what);
	int rc = keys_validate(tls, http_tls_keys, label, d) ? -1 : 0;
	if (rc == 0) {
		o->ca = xstrdup(cfg_str(tls, "ca", NULL));
		o->cert = xstrdup(cfg_str(tls, "cert", NULL));
		o->key = xstrdup(cfg_str(tls, "key", NULL));
		o->server_name = xstrdup(cfg_str(tls, "server_name", NULL));
		o->insecure = cfg_bool(tls, "insecure", 0);
		if (!!cfg_node(tls, "cert") != !!cfg_node(tls, "key"))
			rc = diag_at(d, tls, "%s: cert and key go together (give both)", label);
	}
	free(label);
	if (rc)
		http_tls_opts_release(o);
	return rc;
}

void http_tls_opts_release(struct http_tls_opts *o)
{
	free(o->ca);
	free(o->cert);
	free(o->key);
	free(o->server_name);
	memset(o, 0, sizeof(*o));
}
