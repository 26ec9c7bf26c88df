/* pool_test.c - the dns module's channel pool (checks/dns_pool.c), through
 * the module as a run uses it: its init makes the pool, checks borrow from
 * it, its fini frees it. Needs the DNS world of tests/net/dns.sh: dnsmasq
 * on 127.0.0.1:15353 (api.test.internal = 127.0.0.1), a second one on
 * 15354 (api.test.internal = 127.0.0.9), a silent UDP port on 15359 and one
 * on 15356 that answers the first 3 queries for a name (127.0.0.7). */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dns_pool.h"
#include "keys.h"
#include "module.h"
#include "node.h"

#define SERVER_A "127.0.0.1:15353"
#define SERVER_B "127.0.0.1:15354"

static const struct check_module *dns(void)
{
	const struct check_module *m = module_find("dns");
	assert_non_null(m);
	return m;
}

/* The module's parsed config for yaml (a flow map); must parse. */
static void *parse(const char *yaml)
{
	struct node_limits lim = node_limits_default();
	struct node *root = NULL;
	struct diags d;
	void *priv = NULL;
	diags_init(&d);
	assert_int_equal(node_load_string("t.yaml", yaml, strlen(yaml), &lim, &root, &d), 0);
	assert_int_equal(keys_validate(root, dns()->keys, "dns", &d), 0);
	assert_int_equal(dns()->parse(root, NULL, &priv, &d), 0);
	node_free(root);
	diags_release(&d);
	return priv;
}

/* Runs priv once with pool as the module state; the first answer's value
 * (malloc'd) or NULL when the check found none, and the error in *error
 * (malloc'd, NULL when none) when error is not NULL. */
static char *lookup(struct dns_pool *pool, void *priv, char **error)
{
	struct check_ctx *ctx = ctx_new_for_test(NULL, 10000, NULL, pool);
	struct check_out out;
	char *value = NULL;
	memset(&out, 0, sizeof(out));
	dns()->run(priv, ctx, &out);
	const char *v = json_string_value(json_array_get(json_object_get(out.facts, "values"), 0));
	if (v)
		value = xstrdup(v);
	if (error)
		*error = out.error ? xstrdup(out.error) : NULL;
	check_out_release(&out);
	ctx_free_for_test(ctx);
	return value;
}

static struct dns_pool *pool_new(void)
{
	struct diags d;
	void *state = NULL;
	diags_init(&d);
	assert_int_equal(dns()->init(NULL, &state, &d), 0);
	diags_release(&d);
	assert_non_null(state);
	return state;
}

static void expect_answer(struct dns_pool *pool, void *priv, const char *want)
{
	char *error = NULL;
	char *got = lookup(pool, priv, &error);
	if (!got || strcmp(got, want) != 0)
		fail_msg("wanted %s, got %s (%s)", want, got ? got : "nothing",
		         error ? error : "no error");
	free(got);
	free(error);
}

/* The check finds no answer and its error holds want. */
static void expect_no_answer(struct dns_pool *pool, void *priv, const char *want)
{
	char *error = NULL;
	char *got = lookup(pool, priv, &error);
	if (got || !error || !strstr(error, want))
		fail_msg("wanted no answer and '%s', got %s (%s)", want, got ? got : "nothing",
		         error ? error : "no error");
	free(got);
	free(error);
}

/* The pool has made `made` channels so far and holds `idle` of them. */
static void expect_pool(struct dns_pool *pool, size_t idle, size_t made)
{
	size_t i, m;
	dns_pool_stats(pool, &i, &m);
	assert_int_equal(m, made);
	assert_int_equal(i, idle);
}

/* One channel serves a server's checks one after another; another server,
 * another timeout or TCP each get their own, and each check its own
 * server's answer. */
static void test_reuse_per_server_and_options(void **st)
{
	(void)st;
	struct dns_pool *pool = pool_new();
	void *a = parse("{name: api.test.internal, server: \"" SERVER_A "\"}");
	void *b = parse("{name: api.test.internal, server: \"" SERVER_B "\"}");
	void *a_slow = parse("{name: api.test.internal, server: \"" SERVER_A "\", timeout: 3s}");
	void *a_tcp = parse("{name: api.test.internal, server: \"" SERVER_A "\", tcp: true}");
	/* More than DNS_POOL_PORT_USES, so the socket is renewed on the way. */
	for (int i = 0; i < 3 * DNS_POOL_PORT_USES; i++)
		expect_answer(pool, a, "127.0.0.1");
	expect_pool(pool, 1, 1);

	for (int i = 0; i < 5; i++) {
		expect_answer(pool, b, "127.0.0.9");
		expect_answer(pool, a, "127.0.0.1");
		expect_answer(pool, a_slow, "127.0.0.1");
		expect_answer(pool, a_tcp, "127.0.0.1");
	}
	expect_pool(pool, 4, 4);

	dns()->free(a);
	dns()->free(b);
	dns()->free(a_slow);
	dns()->free(a_tcp);
	dns()->fini(pool);
}

/* A channel whose query went unanswered is not lent again: the next check
 * of that server gets a new one, and the other servers' checks keep theirs. */
static void test_unanswered_channel_not_kept(void **st)
{
	(void)st;
	struct dns_pool *pool = pool_new();
	void *a = parse("{name: api.test.internal, server: \"" SERVER_A "\"}");
	void *silent = parse("{name: api.test.internal, server: \"127.0.0.1:15359\", "
	                     "timeout: 200ms, tries: 1}");
	void *stopping = parse("{name: pool-unit.test.internal, server: \"127.0.0.1:15356\", "
	                       "timeout: 300ms, tries: 1}");
	expect_answer(pool, a, "127.0.0.1");
	for (int i = 0; i < 2; i++) {
		expect_no_answer(pool, silent, "no answer from 127.0.0.1:15359");
		expect_answer(pool, a, "127.0.0.1");
	}
	expect_pool(pool, 1, 3); /* a's, and one per silent check */

	/* Answers 3 queries for this name, then none. */
	for (int i = 0; i < 3; i++)
		expect_answer(pool, stopping, "127.0.0.7");
	expect_pool(pool, 2, 4);
	for (int i = 0; i < 2; i++) {
		expect_no_answer(pool, stopping, "no answer from 127.0.0.1:15356 within 300ms");
		expect_answer(pool, a, "127.0.0.1");
	}
	/* The channel that served the 3 answers is gone after the first
	 * failure; the second failure had a new one, gone too. */
	expect_pool(pool, 1, 5);

	dns()->free(a);
	dns()->free(silent);
	dns()->free(stopping);
	dns()->fini(pool);
}

/* A UDP query whose reply is truncated is asked again over TCP by c-ares;
 * the channel, which would keep that connection open, is not kept. */
static void test_tcp_fallback_not_kept(void **st)
{
	(void)st;
	struct dns_pool *pool = pool_new();
	void *big = parse("{name: big.test.internal, type: TXT, server: \"" SERVER_A "\"}");
	for (int i = 1; i <= 2; i++) {
		char *error = NULL;
		char *got = lookup(pool, big, &error);
		if (!got || strncmp(got, "aaaa", 4) != 0)
			fail_msg("no big TXT record: %s", error ? error : "no error");
		free(got);
		free(error);
		expect_pool(pool, 0, (size_t)i);
	}
	dns()->free(big);
	dns()->fini(pool);
}

/* Many threads, two servers: every check gets its own server's answer and
 * the pool never holds more channels than checks ran at once. */
#define THREADS 8
#define ROUNDS 40

struct worker {
	struct dns_pool *pool;
	void *priv[2];
	int wrong; /* answers that were not the server's */
};

static void *work(void *arg)
{
	struct worker *w = arg;
	static const char *const want[2] = {"127.0.0.1", "127.0.0.9"};
	for (int i = 0; i < ROUNDS; i++) {
		char *got = lookup(w->pool, w->priv[i % 2], NULL);
		if (!got || strcmp(got, want[i % 2]) != 0)
			w->wrong++;
		free(got);
	}
	return NULL;
}

static void test_threads(void **st)
{
	(void)st;
	struct dns_pool *pool = pool_new();
	void *a = parse("{name: api.test.internal, server: \"" SERVER_A "\"}");
	void *b = parse("{name: api.test.internal, server: \"" SERVER_B "\"}");
	struct worker w[THREADS];
	pthread_t t[THREADS];
	size_t idle, made;

	for (int i = 0; i < THREADS; i++) {
		w[i] = (struct worker){.pool = pool, .priv = {a, b}};
		assert_int_equal(pthread_create(&t[i], NULL, work, &w[i]), 0);
	}
	for (int i = 0; i < THREADS; i++) {
		assert_int_equal(pthread_join(t[i], NULL), 0);
		assert_int_equal(w[i].wrong, 0);
	}
	dns_pool_stats(pool, &idle, &made);
	assert_true(made >= 2 && made <= 2 * THREADS);
	assert_int_equal(idle, made);

	dns()->free(a);
	dns()->free(b);
	dns()->fini(pool);
}

/* Without module state (a context made without the pool) a check makes and
 * destroys its own channel. */
static void test_without_pool(void **st)
{
	(void)st;
	void *a = parse("{name: api.test.internal, server: \"" SERVER_A "\"}");
	expect_answer(NULL, a, "127.0.0.1");
	dns()->free(a);
}

/* modules.dns takes no settings. */
static void test_no_settings(void **st)
{
	(void)st;
	struct node_limits lim = node_limits_default();
	struct node *root = NULL;
	struct diags d;
	void *state = NULL;
	diags_init(&d);
	assert_int_equal(node_load_string("t.yaml", "{cache: 10}", 11, &lim, &root, &d), 0);
	assert_int_equal(dns()->init(root, &state, &d), -1);
	assert_null(state);
	assert_true(d.n > 0);
	node_free(root);
	diags_release(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_reuse_per_server_and_options),
	    cmocka_unit_test(test_unanswered_channel_not_kept),
	    cmocka_unit_test(test_tcp_fallback_not_kept),
	    cmocka_unit_test(test_threads),
	    cmocka_unit_test(test_without_pool),
	    cmocka_unit_test(test_no_settings),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
