/* http_errors.c - why an HTTP exchange failed, in words a person can act
 * on: "connection refused by HOST:PORT", a certificate that has expired or
 * is for other names (fetched again without verification to say so), a
 * response cut short after N bytes, a proxy that refused the tunnel. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "http_int.h"

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
			leaf = http_cert_leaf_json(ci->certinfo[0]);
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
	char *ep = http_url_endpoint(u);
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
char *http_hop_error_message(CURL *c, CURLcode code, const struct hop_in *in,
                             const struct url_parts *u, const char *connect_to, const struct hop *h,
                             const char *errbuf)
{
	char *ep = http_url_endpoint(u);
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
			msg = xasprintf(
			    "cannot connect to the proxy %s for %s: %s", in->rq->proxy, ep,
			    oserr == ECONNREFUSED ? "connection refused (nothing listens there?)"
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
			leaf = http_cert_leaf_json(ci->certinfo[0]);
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
