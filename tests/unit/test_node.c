/* test_node.c - unit tests of the YAML loader (runner/node.c): positions,
 * every limit, every error message, the core schema in node_to_json, and
 * the scalar readers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <fcntl.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "node.h"
#include "util.h"

/* Loads text; expects success. */
static struct node *load_ok(const char *text)
{
	struct diags d;
	struct node *n = NULL;

	diags_init(&d);
	if (node_load_string("t.yaml", text, strlen(text), NULL, &n, &d) != 0) {
		diags_print(&d, stderr);
		fail_msg("unexpected load failure");
	}
	assert_int_equal(d.n, 0);
	diags_release(&d);
	return n;
}

/* Loads text (len bytes) with limits; expects failure whose first message
 * contains frag at line:col (0:0 = do not check). */
static void load_bad_n(const char *text, size_t len, const struct node_limits *lim,
                       const char *frag, unsigned line, unsigned col)
{
	struct diags d;
	struct node *n = (struct node *)0x1;

	diags_init(&d);
	assert_int_equal(node_load_string("t.yaml", text, len, lim, &n, &d), -1);
	assert_null(n);
	assert_true(d.n >= 1);
	if (!strstr(d.v[0].msg, frag))
		fail_msg("message '%s' lacks '%s'", d.v[0].msg, frag);
	if (line) {
		assert_int_equal(d.v[0].line, line);
		assert_int_equal(d.v[0].col, col);
	}
	diags_release(&d);
}

static void load_bad(const char *text, const char *frag, unsigned line, unsigned col)
{
	load_bad_n(text, strlen(text), NULL, frag, line, col);
}

static void load_bad_lim(const char *text, const struct node_limits *lim, const char *frag,
                         unsigned line, unsigned col)
{
	load_bad_n(text, strlen(text), lim, frag, line, col);
}

static void test_positions(void **state)
{
	struct node *r = load_ok("# comment\nname: demo\nlist:\n  - one\n  - {k: 'v'}\n");
	const struct node *list, *m;

	assert_int_equal(r->kind, NODE_MAP);
	assert_string_equal(r->pos.file, "t.yaml");
	assert_int_equal(r->pos.line, 2);
	assert_int_equal(r->pos.col, 1);
	assert_int_equal(r->n, 2);
	assert_int_equal(r->pairs[0].key->pos.line, 2);
	assert_int_equal(r->pairs[0].value->pos.col, 7);
	assert_string_equal(r->pairs[0].value->str, "demo");
	list = node_get(r, "list");
	assert_non_null(list);
	assert_int_equal(list->kind, NODE_SEQ);
	assert_int_equal(list->n, 2);
	assert_int_equal(list->items[0]->pos.line, 4);
	assert_int_equal(list->items[0]->pos.col, 5);
	m = list->items[1];
	assert_int_equal(m->kind, NODE_MAP);
	assert_int_equal(m->pos.line, 5);
	assert_int_equal(m->pos.col, 5);
	assert_int_equal(node_get(m, "k")->pos.col, 9);
	assert_false(node_get(m, "k")->plain);
	assert_true(list->items[0]->plain);
	assert_null(node_get(r, "absent"));
	assert_null(node_get(list, "one"));
	node_free(r);
}

static void test_pos_utf8_columns(void **state)
{
	/* columns count characters, not bytes */
	struct node *r = load_ok("\xc3\xa9t\xc3\xa9: x\n");
	assert_int_equal(r->pairs[0].value->pos.col, 6);
	node_free(r);
}

static void test_many_items(void **state)
{
	struct buf b;
	struct node *r;
	int i;

	buf_init(&b, 0);
	for (i = 0; i < 1000; i++)
		buf_addf(&b, "k%d: %d\n", i, i);
	r = load_ok(buf_str(&b));
	assert_int_equal(r->n, 1000);
	assert_string_equal(node_get(r, "k999")->str, "999");
	assert_int_equal(node_get(r, "k999")->pos.line, 1000);
	node_free(r);
	buf_release(&b);
}

static void test_syntax_error(void **state)
{
	load_bad("a: [1, 2\nb: 3\n", "YAML syntax error", 0, 0);
	load_bad("a: b: c\n", "mapping values are not allowed", 1, 5);
	load_bad("key: \"unterminated\n", "YAML syntax error", 0, 0);
}

static void test_tabs(void **state)
{
	load_bad("a:\n\tb: 1\n", "tab characters are not allowed for indentation", 2, 1);
}

static void test_invalid_utf8(void **state)
{
	load_bad("a: b\nc: \xff\xfe\n", "invalid UTF-8", 2, 4);
	load_bad("a: \xc3\n", "invalid UTF-8", 1, 4);
	load_bad("a: \xed\xa0\x80\n", "invalid UTF-8", 1, 4); /* a surrogate */
	load_bad("a: \xc0\xaf\n", "invalid UTF-8", 1, 4);     /* overlong */
}

static void test_nul_and_binary(void **state)
{
	static const char nul[] = "a: 1\nb: x\0y\n";
	static const char ctl[] = "a: \x01\x02\x03\n";

	load_bad_n(nul, sizeof(nul) - 1, NULL, "NUL bytes are not allowed", 2, 5);
	load_bad_n(ctl, sizeof(ctl) - 1, NULL, "binary data", 0, 0);
	load_bad("a: \"x\\0y\"\n", "NUL character", 1, 4);
}

static void test_empty(void **state)
{
	load_bad("", "file is empty", 0, 0);
	load_bad("# only a comment\n\n", "file is empty", 0, 0);
	load_bad_n(NULL, 0, NULL, "file is empty", 0, 0);
}

static void test_two_documents(void **state)
{
	load_bad("a: 1\n---\nb: 2\n", "more than one YAML document", 2, 1);
}

static void test_duplicate_keys(void **state)
{
	struct diags d;
	struct node *n;
	const char *text = "a: 1\nb: 2\nc:\n  x: 1\n  x: 2\na: 3\n";

	diags_init(&d);
	assert_int_equal(node_load_string("t.yaml", text, strlen(text), NULL, &n, &d), -1);
	/* the inner map closes first */
	assert_int_equal(d.n, 1);
	assert_string_equal(d.v[0].msg, "duplicate key 'x' (first at line 4)");
	assert_int_equal(d.v[0].line, 5);
	assert_int_equal(d.v[0].col, 3);
	diags_release(&d);
	load_bad("a: 1\nb: 2\na: 3\n", "duplicate key 'a' (first at line 1)", 3, 1);
	/* quoting does not make a key different */
	load_bad("a: 1\n'a': 3\n", "duplicate key 'a'", 2, 1);
}

static void test_non_scalar_key(void **state)
{
	load_bad("? [a, b]\n: 1\n", "a key must be text, not a list", 1, 3);
	load_bad("{x: 1}: 2\n", "a key must be text, not a map", 1, 1);
}

static void test_merge_key(void **state)
{
	load_bad("base: &b {x: 1}\nother:\n  <<: *b\n", "merge keys", 3, 3);
}

static void test_aliases(void **state)
{
	struct node *r = load_ok("base: &b\n  x: 1\n  y: [a, b]\ncopy: *b\ns: &s hello\nt: *s\n");
	const struct node *c = node_get(r, "copy");

	assert_int_equal(c->kind, NODE_MAP);
	assert_string_equal(node_get(c, "x")->str, "1");
	assert_int_equal(node_get(c, "y")->n, 2);
	/* a deep copy, not shared */
	assert_ptr_not_equal(c, node_get(r, "base"));
	assert_string_equal(node_get(r, "t")->str, "hello");
	node_free(r);
	load_bad("a: *nothing\n", "undefined alias '*nothing'", 1, 4);
	/* an alias to its own enclosing anchor would be a cycle */
	load_bad("a: &x [1, *x]\n", "undefined alias '*x'", 1, 11);
}

static void test_many_anchors(void **state)
{
	struct buf b;
	struct node *r;
	int i;

	/* enough anchors to rehash several times; a redefined anchor gives the
	 * latest value */
	buf_init(&b, 0);
	for (i = 0; i < 500; i++)
		buf_addf(&b, "k%d: &a%d v%d\n", i, i, i);
	buf_adds(&b, "r1: *a0\nr2: *a499\nr3: *a250\nx: &a7 again\nr4: *a7\n");
	r = load_ok(buf_str(&b));
	assert_string_equal(node_get(r, "r1")->str, "v0");
	assert_string_equal(node_get(r, "r2")->str, "v499");
	assert_string_equal(node_get(r, "r3")->str, "v250");
	assert_string_equal(node_get(r, "r4")->str, "again");
	node_free(r);
	buf_release(&b);
}

static void test_str_tag(void **state)
{
	struct node *r = load_ok("a: !!str 123\nb: 123\nc: !custom 5\n");
	json_t *j = node_to_json(r);

	assert_false(node_get(r, "a")->plain);
	assert_true(node_get(r, "b")->plain);
	assert_true(json_is_string(json_object_get(j, "a")));
	assert_true(json_is_integer(json_object_get(j, "b")));
	assert_true(json_is_integer(json_object_get(j, "c")));
	json_decref(j);
	node_free(r);
}

static void test_alias_bomb(void **state)
{
	const char *bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
	                   "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
	                   "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
	                   "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
	                   "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\n"
	                   "f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n"
	                   "g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f, *f]\n"
	                   "h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g, *g]\n"
	                   "i: &i [*h, *h, *h, *h, *h, *h, *h, *h, *h, *h]\n";
	struct node_limits lim = node_limits_default();

	load_bad(bomb, "aliases expand to too many nodes", 0, 0);
	/* the budget is exact: 3 copies of 2 nodes fit in 6 but not in 5 */
	lim.max_alias_nodes = 6;
	{
		struct diags d;
		struct node *n;
		const char *t = "a: &a [x]\nb: [*a, *a, *a]\n";
		diags_init(&d);
		assert_int_equal(node_load_string("t", t, strlen(t), &lim, &n, &d), 0);
		node_free(n);
		lim.max_alias_nodes = 5;
		assert_int_equal(node_load_string("t", t, strlen(t), &lim, &n, &d), -1);
		assert_non_null(strstr(d.v[0].msg, "limit is 5"));
		assert_int_equal(d.v[0].line, 2);
		assert_int_equal(d.v[0].col, 13);
		diags_release(&d);
	}
}

static void test_depth(void **state)
{
	struct node_limits lim = node_limits_default();
	size_t depth = 10000, i;
	char *text = xmalloc(2 * depth + 2);

	for (i = 0; i < depth; i++) {
		text[i] = '[';
		text[depth + i] = ']';
	}
	text[2 * depth] = '\n';
	text[2 * depth + 1] = 0;
	load_bad(text, "nesting is too deep (the limit is 64 levels)", 1, 65);
	free(text);
	lim.max_depth = 3;
	load_bad_lim("a: {b: [{c: 1}]}\n", &lim, "nesting is too deep (the limit is 3 levels)", 1,
	             9);
	/* a copy by alias counts its height where it lands */
	load_bad_lim("a: &a {b: {c: 1}}\nd: {e: *a}\n", &lim, "nesting is too deep", 2, 8);
	{
		struct node *n;
		struct diags d;
		lim.max_depth = 3;
		diags_init(&d);
		assert_int_equal(node_load_string("t", "a: {b: {c: 1}}\n", 15, &lim, &n, &d), 0);
		node_free(n);
		diags_release(&d);
	}
}

static void test_max_nodes(void **state)
{
	struct node_limits lim = node_limits_default();
	struct diags d;
	struct node *n;

	lim.max_nodes = 5; /* the map and six scalars make 7 */
	load_bad_lim("a: 1\nb: 2\nc: 3\n", &lim, "too many nodes in one file (the limit is 5)", 3,
	             1);
	lim.max_nodes = 7;
	diags_init(&d);
	assert_int_equal(node_load_string("t", "a: 1\nb: 2\nc: 3\n", 15, &lim, &n, &d), 0);
	node_free(n);
	diags_release(&d);
}

static void test_max_bytes(void **state)
{
	struct node_limits lim = node_limits_default();

	lim.max_file_bytes = 10;
	load_bad_lim("a: 1234567890\n", &lim, "too large", 0, 0);
}

static char *temp_dir(void)
{
	const char *t = getenv("TMPDIR");
	char *p = xasprintf("%s/pgnode.XXXXXX", t && *t ? t : "/tmp");

	assert_non_null(mkdtemp(p));
	return p;
}

static void test_files(void **state)
{
	char *dir = temp_dir(), *big, *ok, *missing;
	struct diags d;
	struct node *n = NULL;
	int fd;

	diags_init(&d);
	/* a directory */
	assert_int_equal(node_load_file(dir, NULL, &n, &d), -1);
	assert_non_null(strstr(d.v[0].msg, "is a directory"));
	/* a missing file */
	missing = xasprintf("%s/none.yaml", dir);
	assert_int_equal(node_load_file(missing, NULL, &n, &d), -1);
	assert_non_null(strstr(d.v[1].msg, "cannot read '"));
	assert_non_null(strstr(d.v[1].msg, "No such file or directory"));
	/* a sparse 100 MB file: refused from its size */
	big = xasprintf("%s/big.yaml", dir);
	fd = open(big, O_CREAT | O_WRONLY | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, 100L * 1024 * 1024), 0);
	close(fd);
	assert_int_equal(node_load_file(big, NULL, &n, &d), -1);
	assert_non_null(strstr(d.v[2].msg, "too large"));
	assert_null(n);
	/* a good file keeps its path in positions */
	ok = xasprintf("%s/ok.yaml", dir);
	assert_int_equal(write_file_atomic(ok, "x:\n  y: z\n", 10, &(struct pg_err){{0}}), 0);
	assert_int_equal(node_load_file(ok, NULL, &n, &d), 0);
	assert_string_equal(n->pos.file, ok);
	assert_int_equal(node_get(n, "x")->pos.line, 2);
	assert_int_equal(node_get(n, "x")->pos.col, 3);
	node_free(n);
	assert_int_equal(d.n, 3);
	unlink(ok);
	unlink(big);
	rmdir(dir);
	free(ok);
	free(big);
	free(missing);
	free(dir);
	diags_release(&d);
}

static void expect_json(const char *yaml, const char *json)
{
	struct node *r = load_ok(yaml);
	json_t *j = node_to_json(r);
	char *s = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);

	if (strcmp(s, json) != 0)
		fail_msg("%s -> %s, wanted %s", yaml, s, json);
	free(s);
	json_decref(j);
	node_free(r);
}

static void test_to_json(void **state)
{
	expect_json("[~, null, NULL, '']", "[null,null,null,\"\"]");
	expect_json("a:\nb: ''\n", "{\"a\":null,\"b\":\"\"}");
	expect_json("[true, false, True, FALSE, 'true', yes, no, on]",
	            "[true,false,true,false,\"true\",\"yes\",\"no\",\"on\"]");
	expect_json("[1, -2, +3, 0x1f, 0o17, '7', 012, 0x]", "[1,-2,3,31,15,\"7\",12,\"0x\"]");
	expect_json("[1.5, -0.25, 1e3, .5, 2.]", "[1.5,-0.25,1000.0,0.5,2.0]");
	expect_json("[.inf, -.Inf, .nan, .NaN]", "[\".inf\",\"-.Inf\",\".nan\",\".NaN\"]");
	expect_json("[9223372036854775807, -9223372036854775808]",
	            "[9223372036854775807,-9223372036854775808]");
	expect_json("[99999999999999999999]", "[1e20]");
	expect_json("a: {b: [x, \"1\"]}\nc: 1:2\n", "{\"a\":{\"b\":[\"x\",\"1\"]},\"c\":\"1:2\"}");
	expect_json("'x'", "\"x\"");
}

static void test_to_json_bad_utf8(void **state)
{
	struct node_pos p = {"t", 1, 1};
	struct node *n = node_new_scalar("a\xff"
	                                 "b",
	                                 0, p);
	json_t *j = node_to_json(n);

	assert_non_null(j);
	assert_string_equal(json_string_value(j), "a\xef\xbf\xbd"
	                                          "b");
	json_decref(j);
	node_free(n);
	j = node_to_json(NULL);
	assert_true(json_is_null(j));
	json_decref(j);
}

static void reader_fail(const char *yaml, int which, const char *msg)
{
	struct node *r = load_ok(yaml);
	struct diags d;
	int b;
	long long ll;
	double dv;
	const char *s;
	int rc = 0;

	diags_init(&d);
	switch (which) {
	case 0:
		rc = node_as_bool(r, &b, &d);
		break;
	case 1:
		rc = node_as_ll(r, &ll, &d);
		break;
	case 2:
		rc = node_as_double(r, &dv, &d);
		break;
	case 3:
		rc = node_as_duration_ms(r, &ll, &d);
		break;
	case 4:
		rc = node_as_str(r, &s, &d);
		break;
	}
	assert_int_equal(rc, -1);
	assert_int_equal(d.n, 1);
	assert_string_equal(d.v[0].msg, msg);
	assert_int_equal(d.v[0].line, r->pos.line);
	diags_release(&d);
	node_free(r);
}

static void test_readers(void **state)
{
	struct node *r = load_ok("b: true\nf: False\ni: -42\nh: 0x10\nd: 2.5\nt: 1m30s\nn: 5\n"
	                         "s: text\nq: \"12\"\n");
	struct diags d;
	int b = -1;
	long long ll = 0;
	double dv = 0;
	const char *s = NULL;

	diags_init(&d);
	assert_int_equal(node_as_bool(node_get(r, "b"), &b, &d), 0);
	assert_int_equal(b, 1);
	assert_int_equal(node_as_bool(node_get(r, "f"), &b, &d), 0);
	assert_int_equal(b, 0);
	assert_int_equal(node_as_ll(node_get(r, "i"), &ll, &d), 0);
	assert_int_equal(ll, -42);
	assert_int_equal(node_as_ll(node_get(r, "h"), &ll, &d), 0);
	assert_int_equal(ll, 16);
	assert_int_equal(node_as_ll(node_get(r, "q"), &ll, &d), 0);
	assert_int_equal(ll, 12);
	assert_int_equal(node_as_double(node_get(r, "d"), &dv, &d), 0);
	assert_true(dv == 2.5);
	assert_int_equal(node_as_double(node_get(r, "i"), &dv, &d), 0);
	assert_true(dv == -42.0);
	assert_int_equal(node_as_duration_ms(node_get(r, "t"), &ll, &d), 0);
	assert_int_equal(ll, 90000);
	assert_int_equal(node_as_duration_ms(node_get(r, "n"), &ll, &d), 0);
	assert_int_equal(ll, 5000);
	assert_int_equal(node_as_str(node_get(r, "s"), &s, &d), 0);
	assert_string_equal(s, "text");
	assert_int_equal(d.n, 0);
	diags_release(&d);
	node_free(r);

	reader_fail("yes", 0, "expected a boolean (true or false), got 'yes'");
	reader_fail("[1]", 0, "expected a boolean (true or false), got a list");
	reader_fail("3.5", 1, "expected an integer, got '3.5'");
	reader_fail("99999999999999999999", 1, "integer '99999999999999999999' is out of range");
	reader_fail("{a: 1}", 2, "expected a number, got a map");
	reader_fail("abc", 3, "expected a duration such as 30s, 500ms or 2m, got 'abc'");
	reader_fail("~", 3, "expected a duration such as 30s, 500ms or 2m, got an empty value");
	reader_fail("[a]", 4, "expected text, got a list");
}

static void test_kind_names(void **state)
{
	struct node *r = load_ok("[x, 1, 1.5, true, ~, [], {}, '1']");
	const char *want[] = {"string", "integer", "number", "boolean",
	                      "null",   "list",    "map",    "string"};
	size_t i;

	for (i = 0; i < 8; i++)
		assert_string_equal(node_kind_name(r->items[i]), want[i]);
	assert_string_equal(node_kind_name(NULL), "nothing");
	assert_true(node_is_null(NULL));
	assert_true(node_is_null(r->items[4]));
	assert_false(node_is_null(r->items[0]));
	node_free(r);
}

static void test_build_and_copy(void **state)
{
	struct node_pos p = {"built.yaml", 3, 4};
	struct node *m = node_new_map(p), *s = node_new_seq(p), *c;
	int i;

	for (i = 0; i < 100; i++) {
		char num[16];
		snprintf(num, sizeof(num), "%d", i);
		node_seq_push(s, node_new_scalar(num, 1, p));
	}
	node_map_put(m, "list", s);
	node_map_put(m, "name", node_new_scalar("first", 0, p));
	node_map_put(m, "name", node_new_scalar("second", 0, p)); /* replaces */
	assert_int_equal(m->n, 2);
	assert_string_equal(node_get(m, "name")->str, "second");
	assert_string_equal(m->pairs[0].key->pos.file, "built.yaml");
	c = node_copy(m);
	node_free(m);
	assert_int_equal(c->n, 2);
	assert_int_equal(node_get(c, "list")->n, 100);
	assert_string_equal(node_get(c, "list")->items[99]->str, "99");
	assert_int_equal(node_get(c, "list")->items[99]->pos.line, 3);
	assert_false(node_get(c, "name")->plain);
	/* more items after a copy still grow the array correctly */
	node_seq_push((struct node *)node_get(c, "list"), node_new_scalar("x", 1, p));
	assert_int_equal(node_get(c, "list")->n, 101);
	node_free(c);
	assert_null(node_copy(NULL));
	assert_ptr_equal(node_intern("same"), node_intern("same"));
}

/* A loaded tree lives in the parse's own blocks (runner/nodemem.c); every
 * change made to it afterwards (a new text, more pairs or items, items
 * dropped, copies) moves what it touches to malloc and frees the rest
 * where it lives. The sanitizer build checks every piece. */
static void test_loaded_tree_changes(void **state)
{
	struct node_pos p = {"built.yaml", 1, 1};
	struct buf b;
	struct node *t, *m, *list, *c;
	size_t i;

	buf_init(&b, 0);
	buf_adds(&b, "name: a text long enough to live outside the node\nmap: {k: v}\nlist:\n");
	for (i = 0; i < 40000; i++) /* an items array past the block's piece limit */
		buf_addf(&b, "  - item number %zu, long enough\n", i);
	t = load_ok(buf_str(&b));
	buf_release(&b);
	node_set_str((struct node *)node_get(t, "name"), xstrdup("short"));
	assert_string_equal(node_get(t, "name")->str, "short");
	node_set_str((struct node *)node_get(t, "name"),
	             xstrdup("a new long text, from malloc now"));
	m = (struct node *)node_get(t, "map");
	for (i = 0; i < 20; i++) {
		char key[16];
		snprintf(key, sizeof(key), "k%zu", i);
		node_map_put(m, key, node_new_scalar("added", 1, p));
	}
	assert_int_equal(m->n, 21); /* k and k0..k19 */
	assert_string_equal(node_get(m, "k19")->str, "added");
	list = (struct node *)node_get(t, "list");
	assert_int_equal(list->n, 40000);
	for (i = 0; i < 40000; i += 2)
		node_seq_drop(list, i);
	node_seq_drop(list, 40000); /* out of range: nothing */
	assert_null(list->items[0]);
	assert_string_equal(list->items[39999]->str, "item number 39999, long enough");
	node_seq_push(list, node_new_scalar("pushed", 1, p));
	c = node_copy(t);
	node_free(t);
	assert_string_equal(node_get(c, "name")->str, "a new long text, from malloc now");
	assert_int_equal(node_get(c, "list")->n, 40001);
	assert_string_equal(node_get(c, "list")->items[1]->str, "item number 1, long enough");
	node_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_positions),      cmocka_unit_test(test_pos_utf8_columns),
	    cmocka_unit_test(test_many_items),     cmocka_unit_test(test_syntax_error),
	    cmocka_unit_test(test_tabs),           cmocka_unit_test(test_invalid_utf8),
	    cmocka_unit_test(test_nul_and_binary), cmocka_unit_test(test_empty),
	    cmocka_unit_test(test_two_documents),  cmocka_unit_test(test_duplicate_keys),
	    cmocka_unit_test(test_non_scalar_key), cmocka_unit_test(test_merge_key),
	    cmocka_unit_test(test_aliases),        cmocka_unit_test(test_many_anchors),
	    cmocka_unit_test(test_str_tag),        cmocka_unit_test(test_alias_bomb),
	    cmocka_unit_test(test_depth),          cmocka_unit_test(test_max_nodes),
	    cmocka_unit_test(test_max_bytes),      cmocka_unit_test(test_files),
	    cmocka_unit_test(test_to_json),        cmocka_unit_test(test_to_json_bad_utf8),
	    cmocka_unit_test(test_readers),        cmocka_unit_test(test_kind_names),
	    cmocka_unit_test(test_build_and_copy), cmocka_unit_test(test_loaded_tree_changes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
