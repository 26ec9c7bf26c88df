/* http_client_test.c - runner/http.c against the real nginx and the fault
 * server the net.http fixtures start (tests/net/nginx.sh, http_faults.sh):
 * responses, HTTP/2, TLS facts, client certificates, redirects, the body
 * cap, the message of every fault a person may meet, and the run's
 * connections: concurrent HTTP/2 requests multiplexed on one connection, an
 * HTTP/1.1 pool no larger than the concurrency, a timeout that spares its
 * siblings (nginx's /conn answers with the connection that carried it). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include "http.h"
#include "scheduler.h"

static char *pki; /* the fixtures' PKI directory */

static char *pki_file(const char *name)
{
	return xasprintf("%s/%s", pki, name);
}

static char *slurp(const char *path)
{
	char *data = NULL;
	size_t len = 0;
	struct pg_err e;
	assert_int_equal(read_file_capped(path, 1 << 20, &data, &len, &e), 0);
	return data;
}

/* Runs rq; expects no response and a message containing want. */
static void expect_error(const struct http_request *rq, const char *want)
{
	struct http_response rs;
	int rc = http_do(NULL, rq, &rs);
	if (rc != -1 || !rs.error || !strstr(rs.error, want))
		fail_msg("%s: rc %d, error '%s', wanted '%s'", rq->url, rc,
		         rs.error ? rs.error : "(none)", want);
	http_response_release(&rs);
}

static void test_plain_get(void **state)
{
	(void)state;
	struct http_request rq = {.url = "http://127.0.0.1:18080/health", .want_timings = 1};
	struct http_response rs;
	assert_int_equal(http_do(NULL, &rq, &rs), 0);
	assert_int_equal(rs.status, 200);
	assert_string_equal(rs.http_version, "1.1");
	assert_string_equal(json_string_value(json_object_get(rs.headers, "content-type")),
	                    "application/json");
	json_t *j = http_body_json(&rs);
	assert_non_null(j);
	assert_int_equal(json_integer_value(json_object_get(j, "replicas")), 3);
	json_decref(j);
	assert_non_null(rs.timings);
	assert_non_null(json_object_get(rs.timings, "first_byte"));
	assert_null(rs.tls);
	assert_null(rs.redirects);
	assert_null(rs.error);
	assert_string_equal(rs.effective_url, "http://127.0.0.1:18080/health");
	http_response_release(&rs);
}

/* nginx's count of accepted connections. */
static long long nginx_accepts(void)
{
	struct http_request rq = {.url = "http://127.0.0.1:18080/nginx_status"};
	struct http_response rs;
	assert_int_equal(http_do(NULL, &rq, &rs), 0);
	/* "Active connections: 1 \nserver accepts handled requests\n 5 5 9 \n..." */
	const char *p = strstr(buf_str(&rs.body), "requests\n");
	assert_non_null(p);
	long long accepts = strtoll(p + 9, NULL, 10);
	http_response_release(&rs);
	return accepts;
}

static void test_connections_are_reused(void **state)
{
	(void)state;
	long long before = nginx_accepts();
	for (int i = 0; i < 50; i++) {
		struct http_request rq = {.url = "http://127.0.0.1:18080/health"};
		struct http_response rs;
		assert_int_equal(http_do(NULL, &rq, &rs), 0);
		assert_int_equal(rs.status, 200);
		http_response_release(&rs);
	}
	/* 51 exchanges (with the status request) on the one connection. */
	assert_int_equal(nginx_accepts(), before);
}

/* --- the run's connections ------------------------------------------ */

/* One of many concurrent requests to nginx's /conn. */
struct conn_probe {
	pthread_barrier_t *start;
	const char *url;
	const char *ca;
	int http1_only;
	int rounds;         /* requests, one after the other */
	long long conn[16]; /* the connection number of each (nginx's $connection) */
	char version[8];    /* of the last */
	int tls_subject;    /* the last response had certificate facts */
	char error[256];    /* the first failure; empty when all passed */
};

static void *conn_probe_run(void *arg)
{
	struct conn_probe *p = arg;
	pthread_barrier_wait(p->start);
	for (int i = 0; i < p->rounds && i < 16; i++) {
		struct http_request rq = {.url = p->url,
		                          .http1_only = p->http1_only,
		                          .want_tls_info = p->ca != NULL,
		                          .tls.ca_file = p->ca};
		struct http_response rs;
		if (http_do(NULL, &rq, &rs) != 0 || rs.status != 200) {
			snprintf(p->error, sizeof(p->error), "%s: status %ld, %s", p->url,
			         rs.status, rs.error ? rs.error : "");
			http_response_release(&rs);
			return NULL;
		}
		json_t *j = http_body_json(&rs);
		p->conn[i] = json_integer_value(json_object_get(j, "connection"));
		json_decref(j);
		snprintf(p->version, sizeof(p->version), "%s", rs.http_version);
		p->tls_subject = rs.tls && json_string_value(json_object_get(rs.tls, "subject"));
		http_response_release(&rs);
	}
	return NULL;
}

/* Runs n probes at once (n <= 32); their connection numbers go to ids
 * (n * rounds of them). */
static void run_probes(int n, const char *url, const char *ca, int http1_only, int rounds,
                       long long *ids, struct conn_probe *out)
{
	pthread_barrier_t start;
	pthread_t th[32];
	struct conn_probe p[32];
	assert_true(n <= 32 && rounds <= 16);
	pthread_barrier_init(&start, NULL, (unsigned)n);
	for (int i = 0; i < n; i++) {
		p[i] = (struct conn_probe){.start = &start,
		                           .url = url,
		                           .ca = ca,
		                           .http1_only = http1_only,
		                           .rounds = rounds};
		assert_int_equal(pthread_create(&th[i], NULL, conn_probe_run, &p[i]), 0);
	}
	for (int i = 0; i < n; i++)
		pthread_join(th[i], NULL);
	pthread_barrier_destroy(&start);
	for (int i = 0; i < n; i++) {
		if (p[i].error[0])
			fail_msg("probe %d: %s", i, p[i].error);
		for (int r = 0; r < rounds; r++)
			ids[i * rounds + r] = p[i].conn[r];
		if (out)
			out[i] = p[i];
	}
}

static int distinct(const long long *v, int n)
{
	int d = 0;
	for (int i = 0; i < n; i++) {
		int seen = 0;
		for (int j = 0; j < i && !seen; j++)
			seen = v[j] == v[i];
		d += !seen;
	}
	return d;
}

/* 24 concurrent HTTP/2 requests to one origin travel on one connection,
 * and each still gets the certificate facts of that connection. */
static void test_h2_multiplexed_on_one_connection(void **state)
{
	(void)state;
	char *ca = pki_file("ca.crt");
	long long ids[24];
	struct conn_probe p[24];
	run_probes(24, "https://localhost:18443/conn", ca, 0, 1, ids, p);
	for (int i = 0; i < 24; i++) {
		assert_string_equal(p[i].version, "2");
		assert_true(p[i].tls_subject);
	}
	if (distinct(ids, 24) != 1)
		fail_msg("24 concurrent HTTP/2 requests used %d connections", distinct(ids, 24));
	free(ca);
}

/* HTTP/1.1 carries one request at a time: 6 concurrent clients making 5
 * requests each use at most 6 connections, and the next 6 clients (new
 * threads) find them in the run's pool instead of opening new ones. */
static void test_http1_pool_sized_to_concurrency(void **state)
{
	(void)state;
	long long ids[60];
	run_probes(6, "http://127.0.0.1:18080/conn", NULL, 0, 5, ids, NULL);
	run_probes(6, "http://127.0.0.1:18080/conn", NULL, 0, 5, ids + 30, NULL);
	if (distinct(ids, 60) > 6)
		fail_msg("6 concurrent HTTP/1.1 clients used %d connections", distinct(ids, 60));
	/* over TLS with HTTP/2 refused (these keep to their threads' own
	 * connections, out of the shared pool: see the next test) */
	char *ca = pki_file("ca.crt");
	struct conn_probe p[6];
	run_probes(6, "https://localhost:18443/conn", ca, 1, 5, ids, p);
	assert_string_equal(p[0].version, "1.1");
	if (distinct(ids, 30) > 6)
		fail_msg("6 concurrent HTTP/1.1 TLS clients used %d connections",
		         distinct(ids, 30));
	free(ca);
}

/* A request that may use HTTP/2 never gets a connection that was made for
 * one that refused it, also when both start at once: it speaks HTTP/2, and
 * says so. */
static void test_h2_not_served_by_http1_connection(void **state)
{
	(void)state;
	/* a CA path of its own (libcurl matches it as text): no connection
	 * made by an earlier test qualifies */
	char *ca = pki_file("./ca.crt");
	for (int i = 0; i < 10; i++) {
		pthread_barrier_t start;
		pthread_barrier_init(&start, NULL, 2);
		struct conn_probe one = {.start = &start,
		                         .url = "https://localhost:18443/conn",
		                         .ca = ca,
		                         .http1_only = 1,
		                         .rounds = 2};
		struct conn_probe two = one;
		two.http1_only = 0;
		pthread_t t;
		assert_int_equal(pthread_create(&t, NULL, conn_probe_run, &one), 0);
		conn_probe_run(&two);
		pthread_join(t, NULL);
		pthread_barrier_destroy(&start);
		if (one.error[0] || two.error[0])
			fail_msg("%s%s", one.error, two.error);
		assert_string_equal(one.version, "1.1");
		assert_string_equal(two.version, "2");
	}
	free(ca);
}

static void *slow_request(void *arg)
{
	struct http_response *rs = arg;
	char *ca = pki_file("ca.crt");
	/* 300 KiB at 20 KiB/s: cut by the timeout after 1.5s */
	struct http_request rq = {
	    .url = "https://localhost:18443/slow.bin", .timeout_ms = 1500, .tls.ca_file = ca};
	(void)http_do(NULL, &rq, rs);
	free(ca);
	return NULL;
}

/* A request that times out on a multiplexed connection ends its own
 * stream: the requests beside it complete, and the connection lives on. */
static void test_h2_timeout_spares_siblings(void **state)
{
	(void)state;
	char *ca = pki_file("ca.crt");
	long long before[1], during[8], after[1];
	run_probes(1, "https://localhost:18443/conn", ca, 0, 1, before, NULL);
	struct http_response slow;
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, slow_request, &slow), 0);
	usleep(300 * 1000);
	run_probes(8, "https://localhost:18443/conn", ca, 0, 1, during, NULL);
	pthread_join(t, NULL);
	assert_true(slow.timed_out);
	if (!strstr(slow.error, "was not complete within"))
		fail_msg("slow request: %s", slow.error);
	http_response_release(&slow);
	run_probes(1, "https://localhost:18443/conn", ca, 0, 1, after, NULL);
	for (int i = 0; i < 8; i++)
		assert_int_equal(during[i], before[0]);
	assert_int_equal(after[0], before[0]);
	free(ca);
}

static void test_repeated_headers_joined(void **state)
{
	(void)state;
	struct http_request rq = {.url = "http://127.0.0.1:18080/headers"};
	struct http_response rs;
	assert_int_equal(http_do(NULL, &rq, &rs), 0);
	assert_string_equal(json_string_value(json_object_get(rs.headers, "x-multi")), "one, two");
	assert_string_equal(json_string_value(json_object_get(rs.headers, "x-request-id")),
	                    "abc123");
	http_response_release(&rs);
}

static void test_https_h2_and_tls_facts(void **state)
{
	(void)state;
	char *ca = pki_file("ca.crt");
	struct http_request rq = {
	    .url = "https://localhost:18443/health", .tls = {.ca_file = ca}, .want_tls_info = 1};
	/* Twice: the second exchange reuses the connection (no handshake) and
	 * must still report the certificate. */
	for (int i = 0; i < 2; i++) {
		struct http_response rs;
		assert_int_equal(http_do(NULL, &rq, &rs), 0);
		assert_int_equal(rs.status, 200);
		assert_string_equal(rs.http_version, "2");
		assert_non_null(rs.tls);
		assert_true(json_is_true(json_object_get(rs.tls, "verified")));
		assert_string_equal(json_string_value(json_object_get(rs.tls, "subject")),
		                    "CN = localhost");
		assert_string_equal(json_string_value(json_object_get(rs.tls, "issuer")),
		                    "CN = phasegate test CA");
		json_t *sans = json_object_get(rs.tls, "sans");
		assert_int_equal(json_array_size(sans), 2);
		assert_string_equal(json_string_value(json_array_get(sans, 0)), "localhost");
		assert_string_equal(json_string_value(json_array_get(sans, 1)), "127.0.0.1");
		/* read through libcrypto's X509 API from the certificate itself */
		const char *serial = json_string_value(json_object_get(rs.tls, "serial"));
		assert_non_null(serial);
		assert_true(strlen(serial) > 0 &&
		            strspn(serial, "0123456789ABCDEF") == strlen(serial));
		const char *nb = json_string_value(json_object_get(rs.tls, "not_before"));
		const char *na = json_string_value(json_object_get(rs.tls, "not_after"));
		assert_true(nb && na && strlen(nb) == 20 && strcmp(nb, na) < 0);
		json_int_t days = json_integer_value(json_object_get(rs.tls, "days_left"));
		assert_true(days >= 28 && days <= 30);
		assert_non_null(json_object_get(rs.tls, "not_after"));
		http_response_release(&rs);
	}
	rq.http1_only = 1;
	struct http_response rs;
	assert_int_equal(http_do(NULL, &rq, &rs), 0);
	assert_string_equal(rs.http_version, "1.1");
	http_response_release(&rs);
	free(ca);
}

static void test_ca_as_pem_text(void **state)
{
	(void)state;
	char *path = pki_file("ca.crt");
	char *pem = slurp(path);
	struct http_request rq = {.url = "https://127.0.0.1:18443/health", .tls = {.ca_pem = pem}};
	struct http_response rs;
	assert_int_equal(http_do(NULL, &rq, &rs), 0);
	assert_int_equal(rs.status, 200);
	http_response_release(&rs);
	free(pem);
	free(path);
}

static void test_client_certificate(void **state)
{
	(void)state;
	char *ca = pki_file("ca.crt"), *cert = pki_file("client.crt"),
	     *key = pki_file("client.key");
	struct http_request rq = {.url = "https://localhost:18444/", .tls = {.ca_file = ca}};
	struct http_response rs;
	/* Without one nginx answers 400. */
	assert_int_equal(http_do(NULL, &rq, &rs), 0);
	assert_int_equal(rs.status, 400);
	http_response_release(&rs);

	rq.tls.cert_file = cert;
	rq.tls.key_file = key;
	assert_int_equal(http_do(NULL, &rq, &rs), 0);
	assert_int_equal(rs.status, 200);
	assert_non_null(strstr(buf_str(&rs.body), "\"verify\":\"SUCCESS\""));
	http_response_release(&rs);

	/* The same as PEM text (kubeconfig client-certificate-data). */
	char *cert_pem = slurp(cert), *key_pem = slurp(key);
	struct http_request rq2 = {
	    .url = "https://localhost:18444/",
	    .tls = {.ca_file = ca, .cert_pem = cert_pem, .key_pem = key_pem}};
	assert_int_equal(http_do(NULL, &rq2, &rs), 0);
	assert_int_equal(rs.status, 200);
	http_response_release(&rs);
	free(cert_pem);
	free(key_pem);
	free(ca);
	free(cert);
	free(key);
}

static void test_redirects(void **state)
{
	(void)state;
	struct http_request rq = {.url = "http://127.0.0.1:18080/redirect2", .max_redirects = 5};
	struct http_response rs;
	assert_int_equal(http_do(NULL, &rq, &rs), 0);
	assert_int_equal(rs.status, 200);
	assert_string_equal(rs.effective_url, "http://127.0.0.1:18080/health");
	assert_int_equal(json_array_size(rs.redirects), 2);
	json_t *first = json_array_get(rs.redirects, 0);
	assert_string_equal(json_string_value(json_object_get(first, "url")),
	                    "http://127.0.0.1:18080/redirect2");
	assert_int_equal(json_integer_value(json_object_get(first, "status")), 301);
	assert_int_equal(
	    json_integer_value(json_object_get(json_array_get(rs.redirects, 1), "status")), 302);
	http_response_release(&rs);

	/* Not following: the 301 itself is the response. */
	rq.max_redirects = 0;
	assert_int_equal(http_do(NULL, &rq, &rs), 0);
	assert_int_equal(rs.status, 301);
	assert_null(rs.redirects);
	http_response_release(&rs);

	/* A loop stops at the limit with the last 3xx. */
	struct http_request loop = {.url = "http://127.0.0.1:18080/loop", .max_redirects = 3};
	assert_int_equal(http_do(NULL, &loop, &rs), 0);
	assert_int_equal(rs.status, 302);
	assert_int_equal(json_array_size(rs.redirects), 3);
	http_response_release(&rs);
}

static void test_redirect_to_other_host_drops_credentials(void **state)
{
	(void)state;
	const char *headers[] = {"Authorization: Bearer s3cr3t-token", "X-Test: kept", NULL};
	struct http_request rq = {
	    .url = "http://127.0.0.1:18080/to-echo", .headers = headers, .max_redirects = 2};
	struct http_response rs;
	assert_int_equal(http_do(NULL, &rq, &rs), 0);
	assert_int_equal(rs.status, 200);
	assert_string_equal(rs.effective_url, "http://127.0.0.1:18093/echoed");
	assert_null(strstr(buf_str(&rs.body), "s3cr3t"));
	assert_non_null(strstr(buf_str(&rs.body), "\"x-test\": \"kept\""));
	http_response_release(&rs);
}

static void test_methods_and_bodies(void **state)
{
	(void)state;
	const char *headers[] = {"Content-Type: application/json", "Authorization: Basic dTpw",
	                         NULL};
	struct http_request rq = {.url = "http://127.0.0.1:18093/things",
	                          .method = "PUT",
	                          .headers = headers,
	                          .body = "{\"a\":1}",
	                          .body_len = 7};
	struct http_response rs;
	assert_int_equal(http_do(NULL, &rq, &rs), 0);
	json_t *j = http_body_json(&rs);
	assert_non_null(j);
	assert_string_equal(json_string_value(json_object_get(j, "method")), "PUT");
	assert_string_equal(json_string_value(json_object_get(j, "body")), "{\"a\":1}");
	json_t *h = json_object_get(j, "headers");
	assert_string_equal(json_string_value(json_object_get(h, "content-type")),
	                    "application/json");
	assert_null(json_object_get(h, "expect"));
	json_decref(j);
	http_response_release(&rs);

	/* A body without a method is a POST; HEAD reads no body. */
	struct http_request post = {
	    .url = "http://127.0.0.1:18093/p", .body = "x=1", .body_len = 3};
	assert_int_equal(http_do(NULL, &post, &rs), 0);
	j = http_body_json(&rs);
	assert_string_equal(json_string_value(json_object_get(j, "method")), "POST");
	json_decref(j);
	http_response_release(&rs);

	struct http_request head = {.url = "http://127.0.0.1:18080/health", .method = "HEAD"};
	assert_int_equal(http_do(NULL, &head, &rs), 0);
	assert_int_equal(rs.status, 200);
	assert_int_equal(rs.body.len, 0);
	http_response_release(&rs);
}

static void test_body_cap(void **state)
{
	(void)state;
	struct http_request rq = {.url = "http://127.0.0.1:18080/large.bin", .max_body = 1000};
	struct http_response rs;
	assert_int_equal(http_do(NULL, &rq, &rs), 0);
	assert_int_equal(rs.status, 200);
	assert_int_equal(rs.body.len, 1000);
	assert_true(rs.body_truncated);
	http_response_release(&rs);

	rq.max_body = 0; /* the default 8 MiB holds the 3 MiB body */
	assert_int_equal(http_do(NULL, &rq, &rs), 0);
	assert_int_equal(rs.body.len, 3145728);
	assert_false(rs.body_truncated);
	http_response_release(&rs);
}

static void test_5xx_is_a_response(void **state)
{
	(void)state;
	struct http_request rq = {.url = "http://127.0.0.1:18080/fail"};
	struct http_response rs;
	assert_int_equal(http_do(NULL, &rq, &rs), 0);
	assert_int_equal(rs.status, 503);
	assert_null(http_body_json(&rs));
	http_response_release(&rs);
}

static void test_faults(void **state)
{
	(void)state;
	struct http_request rq = {.url = "http://127.0.0.1:18099/health", .timeout_ms = 2000};
	expect_error(&rq, "connection refused by 127.0.0.1:18099 (nothing listens there?)");

	rq.url = "http://127.0.0.1:18090/never";
	rq.timeout_ms = 700;
	expect_error(&rq, "no response within 700ms from http://127.0.0.1:18090/never");

	rq.url = "http://127.0.0.1:18091/reset";
	rq.timeout_ms = 5000;
	expect_error(&rq, "connection reset while reading the body after 1234 bytes");

	rq.url = "http://127.0.0.1:18092/short";
	expect_error(&rq, "closed the connection before the body was complete (got 100 of 5000 "
	                  "bytes");

	rq.url = "http://127.0.0.1:18080/slow.bin";
	rq.timeout_ms = 800;
	expect_error(&rq, "was not complete within 800ms (status 200, got ");

	rq.url = "http://127.0.0.1:18094/";
	expect_error(&rq, "127.0.0.1:18094 did not answer in HTTP (is it the right port");

	rq.url = "http://no-such-host.invalid/";
	rq.timeout_ms = 5000;
	expect_error(&rq, "cannot resolve host 'no-such-host.invalid'");

	rq.url = "ftp://127.0.0.1/x";
	expect_error(&rq, "is not an http or https URL");
}

static void test_tls_faults(void **state)
{
	(void)state;
	char *ca = pki_file("ca.crt"), *other = pki_file("other-ca.crt");
	struct http_request rq = {
	    .url = "https://localhost:18445/", .tls = {.ca_file = ca}, .timeout_ms = 5000};
	expect_error(&rq, "TLS: the certificate of localhost:18445 has expired (not after "
	                  "2020-02-01T00:00:00Z)");

	rq.url = "https://localhost:18446/";
	expect_error(&rq, "TLS: the certificate of localhost:18446 is for 'other.test', not "
	                  "'localhost'");

	rq.url = "https://localhost:18443/health";
	rq.tls.ca_file = other;
	expect_error(&rq, "(issuer 'CN = phasegate test CA') is not signed by a trusted "
	                  "certificate authority; set tls.ca");

	/* No CA given: the system bundle does not know the test CA either. */
	rq.tls.ca_file = NULL;
	expect_error(&rq, "set tls.ca to the CA that signed the server certificate");

	/* server_name: connect to the address, verify as other.test. */
	struct http_request sn = {.url = "https://127.0.0.1:18446/",
	                          .tls = {.ca_file = ca, .server_name = "other.test"}};
	struct http_response rs;
	assert_int_equal(http_do(NULL, &sn, &rs), 0);
	assert_int_equal(rs.status, 200);
	http_response_release(&rs);

	/* insecure: the expired certificate is accepted, and the facts say it
	 * was not verified. */
	struct http_request in = {
	    .url = "https://localhost:18445/", .tls = {.insecure = 1}, .want_tls_info = 1};
	assert_int_equal(http_do(NULL, &in, &rs), 0);
	assert_int_equal(rs.status, 200);
	assert_true(json_is_false(json_object_get(rs.tls, "verified")));
	assert_true(json_integer_value(json_object_get(rs.tls, "days_left")) < 0);
	http_response_release(&rs);

	/* And a later verified request to that endpoint does not reuse the
	 * unverified connection. */
	rq.url = "https://localhost:18445/";
	rq.tls.ca_file = ca;
	expect_error(&rq, "has expired");
	free(ca);
	free(other);
}

static void test_context_deadline(void **state)
{
	(void)state;
	struct check_ctx *ctx = ctx_new_for_test(NULL, 600, NULL, NULL);
	struct http_request rq = {.url = "http://127.0.0.1:18090/never"};
	struct http_response rs;
	assert_int_equal(http_do(ctx, &rq, &rs), -1);
	assert_true(rs.timed_out);
	assert_non_null(strstr(rs.error, "no response within"));
	http_response_release(&rs);
	ctx_free_for_test(ctx);
}

static void test_tls_handshake_never_finishes(void **state)
{
	(void)state;
	/* The never-answering server accepts, reads, and stays silent: the
	 * ClientHello gets no reply. */
	struct http_request rq = {.url = "https://127.0.0.1:18090/", .timeout_ms = 700};
	expect_error(&rq, "the TLS handshake with 127.0.0.1:18090 did not finish within 700ms");
}

static void *stop_later(void *arg)
{
	(void)arg;
	usleep(300 * 1000);
	sched_request_stop(SIGINT);
	return NULL;
}

/* Last: once the run is asked to stop, it stays stopped. */
static void test_cancelled_on_stop_request(void **state)
{
	(void)state;
	struct check_ctx *ctx = ctx_new_for_test(NULL, 20000, NULL, NULL);
	struct http_request rq = {.url = "http://127.0.0.1:18090/never"};
	struct http_response rs;
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, stop_later, NULL), 0);
	long long t0 = now_mono_ms();
	assert_int_equal(http_do(ctx, &rq, &rs), -1);
	pthread_join(t, NULL);
	assert_non_null(strstr(rs.error, "stopped: the run was interrupted"));
	/* Well before the 20s deadline (libcurl calls back at least once a second). */
	assert_true(now_mono_ms() - t0 < 10000);
	http_response_release(&rs);
	ctx_free_for_test(ctx);
}

int main(void)
{
	const char *build = getenv("PG_BUILD_DIR");
	if (!build) {
		fprintf(stderr, "PG_BUILD_DIR is not set (run through ctest)\n");
		return 1;
	}
	pki = xasprintf("%s/net/nginx/pki", build);
	http_global_init();
	const struct CMUnitTest tests[] = {
	    /* first, while the pool holds no connection to nginx yet */
	    cmocka_unit_test(test_h2_multiplexed_on_one_connection),
	    cmocka_unit_test(test_http1_pool_sized_to_concurrency),
	    cmocka_unit_test(test_h2_timeout_spares_siblings),
	    cmocka_unit_test(test_h2_not_served_by_http1_connection),
	    cmocka_unit_test(test_plain_get),
	    cmocka_unit_test(test_connections_are_reused),
	    cmocka_unit_test(test_repeated_headers_joined),
	    cmocka_unit_test(test_https_h2_and_tls_facts),
	    cmocka_unit_test(test_ca_as_pem_text),
	    cmocka_unit_test(test_client_certificate),
	    cmocka_unit_test(test_redirects),
	    cmocka_unit_test(test_redirect_to_other_host_drops_credentials),
	    cmocka_unit_test(test_methods_and_bodies),
	    cmocka_unit_test(test_body_cap),
	    cmocka_unit_test(test_5xx_is_a_response),
	    cmocka_unit_test(test_faults),
	    cmocka_unit_test(test_tls_faults),
	    cmocka_unit_test(test_context_deadline),
	    cmocka_unit_test(test_tls_handshake_never_finishes),
	    cmocka_unit_test(test_cancelled_on_stop_request),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	http_global_cleanup();
	free(pki);
	return rc;
}
