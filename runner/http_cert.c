/* http_cert.c - a server's certificate as facts (subject, issuer, names,
 * serial, validity, days left), read with libcrypto's X509 API rather than
 * from the TLS backend's printed text: from the PEM libcurl hands over, or
 * from the TLS session of the connection a transfer runs on. */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/bn.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "http_int.h"

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
json_t *http_cert_leaf_json(const struct curl_slist *s)
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
json_t *http_cert_conn_json(CURL *c)
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
