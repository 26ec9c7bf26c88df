/* test_vars.c - unit tests of variables, env files, "${...}" expansion and
 * the secrets masker (runner/vars.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "keys.h"
#include "util.h"
#include "vars.h"

static void test_set_find(void **state)
{
	struct vars vs;
	const struct var *v;

	vars_init(&vs);
	vars_set(&vs, "a", "1", "suite", 0);
	vars_set(&vs, "b", "2", "suite", 0);
	vars_set(&vs, "a", "3", "command line", 0);
	v = vars_find(&vs, "a");
	assert_non_null(v);
	assert_string_equal(v->value, "3");
	assert_string_equal(v->origin, "command line");
	assert_int_equal(vs.n, 2);
	assert_null(vars_find(&vs, "c"));
	assert_null(vars_find(NULL, "a"));
	vars_release(&vs);
	assert_int_equal(vs.n, 0);
}

/* Precedence is the order of vars_set calls: later sources replace. */
static void test_precedence(void **state)
{
	struct vars vs;

	vars_init(&vs);
	vars_set(&vs, "ns", "suite-ns", "suite", 0);
	vars_set(&vs, "ns", "file-ns", "env-file", 0);
	vars_set(&vs, "ns", "env-ns", "environment", 0);
	assert_string_equal(vars_find(&vs, "ns")->value, "env-ns");
	vars_set(&vs, "ns", "cli-ns", "command line", 0);
	assert_string_equal(vars_find(&vs, "ns")->value, "cli-ns");
	assert_string_equal(vars_find(&vs, "ns")->origin, "command line");
	vars_release(&vs);
}

static char *write_temp(const char *content)
{
	const char *t = getenv("TMPDIR");
	char *p = xasprintf("%s/pgvars.XXXXXX", t && *t ? t : "/tmp");
	int fd = mkstemp(p);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, content, strlen(content)), (ssize_t)strlen(content));
	close(fd);
	return p;
}

static void test_env_file(void **state)
{
	char *path = write_temp("# a comment\n\nexport A=1\nB = two words  # trailing\n"
	                        "C='single # kept'\nD=\"dq\\n\\\"x\\\"\"\nE=\nF=a#b\r\n  G=g\n");
	struct vars vs;
	struct diags d;

	vars_init(&vs);
	diags_init(&d);
	assert_int_equal(vars_load_env_file(&vs, path, &d), 0);
	assert_int_equal(d.n, 0);
	assert_string_equal(vars_find(&vs, "A")->value, "1");
	assert_string_equal(vars_find(&vs, "A")->origin, "env-file");
	assert_string_equal(vars_find(&vs, "B")->value, "two words");
	assert_string_equal(vars_find(&vs, "C")->value, "single # kept");
	assert_string_equal(vars_find(&vs, "D")->value, "dq\n\"x\"");
	assert_string_equal(vars_find(&vs, "E")->value, "");
	assert_string_equal(vars_find(&vs, "F")->value, "a#b");
	assert_string_equal(vars_find(&vs, "G")->value, "g");
	assert_int_equal(vs.n, 7);
	vars_release(&vs);
	diags_release(&d);
	unlink(path);
	free(path);
}

static void test_env_file_errors(void **state)
{
	char *path = write_temp("OK=1\nnot a line\nQ='open\n=x\n");
	struct vars vs;
	struct diags d;

	vars_init(&vs);
	diags_init(&d);
	assert_int_equal(vars_load_env_file(&vs, path, &d), -1);
	assert_int_equal(d.n, 3);
	assert_string_equal(d.v[0].msg, "expected NAME=VALUE");
	assert_int_equal(d.v[0].line, 2);
	assert_int_equal(d.v[0].col, 5);
	assert_string_equal(d.v[1].msg, "unterminated quote in the value of 'Q'");
	assert_int_equal(d.v[1].line, 3);
	assert_non_null(strstr(d.v[2].msg, "expected NAME=VALUE"));
	assert_int_equal(d.v[2].line, 4);
	assert_string_equal(vars_find(&vs, "OK")->value, "1");
	unlink(path);
	/* a missing file */
	assert_int_equal(vars_load_env_file(&vs, path, &d), -1);
	assert_non_null(strstr(d.v[3].msg, "env file: cannot read '"));
	vars_release(&vs);
	diags_release(&d);
	free(path);
}

/* A tree position for diagnostics. */
static struct node *at(unsigned line, unsigned col)
{
	struct node_pos p = {"s.yaml", line, col};
	return node_new_scalar("", 0, p);
}

/* A scalar node holding text, at line:col of s.yaml. */
static struct node *text_at(const char *text, unsigned line, unsigned col)
{
	struct node_pos p = {"s.yaml", line, col};
	return node_new_scalar(text, strlen(text), p);
}

/* Suite variables referring to others: final values whatever the order,
 * cycles named from where they start, growth refused. */
static void test_resolve(void **state)
{
	struct vars vs;
	struct diags d;
	struct node *n[4] = {text_at("${b}-x", 1, 4), text_at("${c}", 2, 4), text_at("z", 3, 4),
	                     text_at("$${a} ${a}", 4, 4)};
	struct var_def defs[4] = {{"a", n[0]}, {"b", n[1]}, {"c", n[2]}, {"lit", n[3]}};

	vars_init(&vs);
	diags_init(&d);
	for (int i = 0; i < 4; i++)
		vars_set(&vs, defs[i].name, n[i]->str, "suite", 0);
	assert_int_equal(vars_resolve(&vs, defs, 4, &d), 0);
	assert_string_equal(vars_find(&vs, "a")->value, "z-x"); /* b resolved first */
	assert_string_equal(vars_find(&vs, "lit")->value, "${a} z-x");
	vars_release(&vs);

	/* a -> b -> a */
	vars_init(&vs);
	struct node *c1 = text_at("${b}", 7, 6), *c2 = text_at("x${a}", 8, 6);
	struct var_def cyc[2] = {{"a", c1}, {"b", c2}};
	vars_set(&vs, "a", c1->str, "suite", 0);
	vars_set(&vs, "b", c2->str, "suite", 0);
	assert_int_equal(vars_resolve(&vs, cyc, 2, &d), 1);
	assert_int_equal(d.v[0].line, 7);
	assert_non_null(strstr(d.v[0].msg, "a -> b -> a"));
	vars_release(&vs);
	diags_release(&d);

	/* ten times ten times ...: refused at the first value past 1 MiB */
	struct node *b[8];
	struct var_def bomb[8];
	char *names[8];
	vars_init(&vs);
	diags_init(&d);
	b[0] = text_at("abcdefgh", 10, 1);
	for (int i = 1; i < 8; i++) {
		struct buf t;
		buf_init(&t, 0);
		for (int k = 0; k < 10; k++)
			buf_addf(&t, "${v%d}", i - 1);
		b[i] = text_at(buf_str(&t), 10 + (unsigned)i, 1);
		buf_release(&t);
	}
	for (int i = 0; i < 8; i++) {
		names[i] = xasprintf("v%d", i);
		bomb[i].name = names[i];
		bomb[i].value = b[i];
		vars_set(&vs, names[i], b[i]->str, "suite", 0);
	}
	assert_true(vars_resolve(&vs, bomb, 8, &d) >= 1);
	assert_int_equal(d.v[0].line, 16); /* v6: 8 * 10^6 bytes */
	assert_non_null(strstr(d.v[0].msg, "more than 1 MiB"));
	assert_true(strlen(vars_find(&vs, "v5")->value) == 800000);
	for (int i = 0; i < 8; i++) {
		free(names[i]);
		node_free(b[i]);
	}
	vars_release(&vs);
	diags_release(&d);
	for (int i = 0; i < 4; i++)
		node_free(n[i]);
	node_free(c1);
	node_free(c2);
}

static void test_expand(void **state)
{
	struct vars vs;
	struct diags d;
	struct node *pos = at(4, 9);
	char *s;

	vars_init(&vs);
	diags_init(&d);
	vars_set(&vs, "ns", "argocd", "suite", 0);
	vars_set(&vs, "tricky", "${ns} and $${x}", "suite", 0);
	vars_set(&vs, "token", "s3cr3t-value", "secret", 1);
	setenv("PG_TEST_VARS_HOME", "/home/x", 1);
	unsetenv("PG_TEST_VARS_UNSET");

	s = vars_expand(&vs, NULL, "ns=${ns}, home=${env.PG_TEST_VARS_HOME}", pos, &d);
	assert_string_equal(s, "ns=argocd, home=/home/x");
	free(s);
	s = vars_expand(&vs, NULL, "Bearer ${secrets.token}", pos, &d);
	assert_string_equal(s, "Bearer s3cr3t-value");
	free(s);
	s = vars_expand(&vs, NULL, "cost: $5, $$, $${ns}, end$", pos, &d);
	assert_string_equal(s, "cost: $5, $$, ${ns}, end$");
	free(s);
	/* no recursive expansion: a value holding "${" stays as it is */
	s = vars_expand(&vs, NULL, "[${tricky}]", pos, &d);
	assert_string_equal(s, "[${ns} and $${x}]");
	free(s);
	assert_int_equal(d.n, 0);

	assert_null(vars_expand(&vs, NULL, "x ${nope} y", pos, &d));
	assert_string_equal(d.v[0].msg, "undefined variable 'nope'");
	assert_int_equal(d.v[0].line, 4);
	assert_int_equal(d.v[0].col, 9);
	assert_null(vars_expand(&vs, NULL, "${env.PG_TEST_VARS_UNSET}", pos, &d));
	assert_string_equal(d.v[1].msg, "environment variable 'PG_TEST_VARS_UNSET' is not set");
	assert_null(vars_expand(&vs, NULL, "${secrets.ns}", pos, &d));
	assert_string_equal(d.v[2].msg, "undefined secret 'ns'");
	assert_null(vars_expand(&vs, NULL, "${ns", pos, &d));
	assert_string_equal(d.v[3].msg, "unterminated reference '${ns' (missing '}')");
	assert_null(vars_expand(&vs, NULL, "${}", pos, &d));
	assert_string_equal(d.v[4].msg, "empty reference '${}'");
	assert_null(vars_expand(&vs, NULL, "${a b}", pos, &d));
	assert_string_equal(d.v[5].msg, "invalid variable name 'a b' in a reference");
	/* without a diagnostics list the failure is still reported */
	assert_null(vars_expand(&vs, NULL, "${nope}", pos, NULL));
	assert_int_equal(d.n, 6);
	assert_null(vars_expand(&vs, NULL, NULL, pos, &d));

	vars_release(&vs);
	diags_release(&d);
	node_free(pos);
	mask_reset();
}

static void test_deferred(void **state)
{
	struct vars vs;
	struct diags d;
	struct deferred_names dn = {0};
	char *names[] = {"rev", "saved"};
	char *s, *again;

	dn.v = names;
	dn.n = 2;
	vars_init(&vs);
	diags_init(&d);
	vars_set(&vs, "app", "guestbook", "suite", 0);
	vars_set(&vs, "odd", "a${b", "suite", 0);
	s = vars_expand(&vs, &dn, "${app} at ${rev} ${rev.id} ${odd} $${lit}", NULL, &d);
	assert_int_equal(d.n, 0);
	/* references kept verbatim; literal "${" escaped so a second pass at
	 * run time gives them back unchanged */
	assert_string_equal(s, "guestbook at ${rev} ${rev.id} a$${b $${lit}");
	assert_true(vars_has_ref(s));
	vars_set(&vs, "rev", "42", "saved", 0);
	vars_set(&vs, "rev.id", "7", "saved", 0);
	again = vars_expand(&vs, NULL, s, NULL, &d);
	assert_string_equal(again, "guestbook at 42 7 a${b ${lit}");
	free(again);
	free(s);
	/* a name that is not deferred is still an error */
	assert_null(vars_expand(&vs, &dn, "${revision}", NULL, &d));
	assert_string_equal(d.v[0].msg, "undefined variable 'revision'");
	vars_release(&vs);
	diags_release(&d);
}

static void test_has_ref(void **state)
{
	assert_true(vars_has_ref("${a}"));
	assert_true(vars_has_ref("x $${a} ${b}"));
	assert_false(vars_has_ref("x $${a}"));
	assert_false(vars_has_ref("$5 {a}"));
	assert_false(vars_has_ref(NULL));
	assert_false(vars_has_ref(""));
}

static void test_expand_tree(void **state)
{
	struct vars vs;
	struct diags d;
	struct node *n = NULL;
	const char *text = "${k}: ${v}\nlist: [\"${v}\", '${missing}', plain]\nm:\n  x: ${other}\n";

	vars_init(&vs);
	diags_init(&d);
	vars_set(&vs, "k", "K", "suite", 0);
	vars_set(&vs, "v", "V", "suite", 0);
	assert_int_equal(node_load_string("t.yaml", text, strlen(text), NULL, &n, &d), 0);
	assert_int_equal(vars_expand_tree(&vs, NULL, n, &d), 2);
	/* keys are untouched */
	assert_string_equal(n->pairs[0].key->str, "${k}");
	assert_string_equal(n->pairs[0].value->str, "V");
	assert_int_equal(n->pairs[0].value->len, 1);
	assert_string_equal(node_get(n, "list")->items[0]->str, "V");
	assert_string_equal(node_get(n, "list")->items[1]->str, "${missing}");
	assert_string_equal(d.v[0].msg, "undefined variable 'missing'");
	assert_int_equal(d.v[0].line, 2);
	assert_int_equal(d.v[0].col, 16);
	assert_string_equal(d.v[1].msg, "undefined variable 'other'");
	assert_int_equal(d.v[1].line, 4);
	assert_int_equal(d.v[1].col, 6);
	node_free(n);
	vars_release(&vs);
	diags_release(&d);
}

/* The load-time / run-time pair: a check whose config waits for a saved
 * value is expanded at load time (references to saved names kept), then
 * again when it runs. Literal "${" text must survive both passes. */
static void test_expand_twice(void **state)
{
	struct vars vs;
	struct diags d;
	struct deferred_names dn = {0};
	char *names[] = {"rev"};
	struct node *n = NULL, *copy;
	const char *text = "url: http://h/${rev}\nscript: echo $${HOME}\nmix: ${ns} $${x} ${rev}\n"
	                   "ns: ${ns}\n";

	dn.v = names;
	dn.n = 1;
	vars_init(&vs);
	diags_init(&d);
	vars_set(&vs, "ns", "argocd", "suite", 0);
	assert_int_equal(node_load_string("t.yaml", text, strlen(text), NULL, &n, &d), 0);
	assert_false(node_is_deferred(node_get(n, "script"))); /* raw: "$${" is escaped */
	assert_int_equal(vars_expand_tree(&vs, &dn, n, &d), 0);
	assert_string_equal(node_get(n, "url")->str, "http://h/${rev}");
	assert_true(node_is_deferred(node_get(n, "url")));
	/* fully expanded text holding a literal "${" is not deferred */
	assert_string_equal(node_get(n, "script")->str, "echo ${HOME}");
	assert_false(node_is_deferred(node_get(n, "script")));
	assert_string_equal(cfg_str(n, "script", NULL), "echo ${HOME}");
	assert_string_equal(node_get(n, "mix")->str, "argocd $${x} ${rev}");
	assert_true(node_is_deferred(node_get(n, "mix")));
	assert_string_equal(cfg_str(n, "ns", NULL), "argocd");
	/* run time: the saved value is known */
	copy = node_copy(n);
	vars_set(&vs, "rev", "abc123", "saved", 0);
	assert_int_equal(vars_expand_tree(&vs, NULL, copy, &d), 0);
	assert_string_equal(node_get(copy, "url")->str, "http://h/abc123");
	assert_string_equal(node_get(copy, "script")->str, "echo ${HOME}");
	assert_string_equal(node_get(copy, "mix")->str, "argocd ${x} abc123");
	assert_false(node_is_deferred(node_get(copy, "mix")));
	assert_false(node_is_deferred(node_get(copy, "url")));
	assert_int_equal(d.n, 0);
	node_free(copy);
	node_free(n);
	vars_release(&vs);
	diags_release(&d);
}

static void test_mask(void **state)
{
	char *s;

	mask_reset();
	s = mask_dup("nothing to hide");
	assert_string_equal(s, "nothing to hide");
	free(s);
	mask_add("hunter2");
	mask_add("hunter2-long"); /* longer secrets win */
	mask_add("ab");           /* too short: ignored */
	mask_add(NULL);
	s = mask_dup("pw=hunter2-long; old=hunter2; ab");
	assert_string_equal(s, "pw=" MASK_TEXT "; old=" MASK_TEXT "; ab");
	free(s);
	/* the base64 form, padded or not ("hunter2" -> aHVudGVyMg==) */
	s = mask_dup("Authorization: Basic aHVudGVyMg== / aHVudGVyMg");
	assert_string_equal(s, "Authorization: Basic " MASK_TEXT " / " MASK_TEXT);
	free(s);
	assert_true(mask_contains_secret("xx hunter2 yy"));
	assert_false(mask_contains_secret("hunter"));
	assert_false(mask_contains_secret(NULL));
	assert_null(mask_dup(NULL));
	s = mask_dup("hunter2hunter2");
	assert_string_equal(s, MASK_TEXT MASK_TEXT);
	free(s);
	mask_reset();
	s = mask_dup("hunter2");
	assert_string_equal(s, "hunter2");
	free(s);
}

static void test_secret_var_masked(void **state)
{
	struct vars vs;
	char *s;

	mask_reset();
	vars_init(&vs);
	vars_set(&vs, "pw", "topsecret", "secret", 1);
	s = mask_dup("login with topsecret");
	assert_string_equal(s, "login with " MASK_TEXT);
	free(s);
	vars_release(&vs);
	mask_reset();
}

static void *mask_reader(void *arg)
{
	int i, *ok = arg;

	for (i = 0; i < 2000; i++) {
		char *s = mask_dup("a secret-one b secret-two c");
		if (strcmp(s, "a " MASK_TEXT " b " MASK_TEXT " c") != 0)
			*ok = 0;
		free(s);
	}
	return NULL;
}

static void test_mask_threads(void **state)
{
	pthread_t t[4];
	int ok[4] = {1, 1, 1, 1}, i;

	mask_reset();
	mask_add("secret-one");
	mask_add("secret-two");
	for (i = 0; i < 4; i++)
		assert_int_equal(pthread_create(&t[i], NULL, mask_reader, &ok[i]), 0);
	for (i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		assert_true(ok[i]);
	}
	mask_reset();
}

static void test_masked_in_messages(void **state)
{
	struct node *n = NULL;
	struct diags d;
	long long ll;
	const char *text = "port: hunter2\n";

	mask_reset();
	mask_add("hunter2");
	diags_init(&d);
	assert_int_equal(node_load_string("t.yaml", text, strlen(text), NULL, &n, &d), 0);
	assert_int_equal(node_as_ll(node_get(n, "port"), &ll, &d), -1);
	assert_string_equal(d.v[0].msg, "expected an integer, got '" MASK_TEXT "'");
	node_free(n);
	diags_release(&d);
	mask_reset();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_set_find),     cmocka_unit_test(test_precedence),
	    cmocka_unit_test(test_env_file),     cmocka_unit_test(test_env_file_errors),
	    cmocka_unit_test(test_resolve),      cmocka_unit_test(test_expand),
	    cmocka_unit_test(test_deferred),     cmocka_unit_test(test_has_ref),
	    cmocka_unit_test(test_expand_tree),  cmocka_unit_test(test_expand_twice),
	    cmocka_unit_test(test_mask),         cmocka_unit_test(test_secret_var_masked),
	    cmocka_unit_test(test_mask_threads), cmocka_unit_test(test_masked_in_messages),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
