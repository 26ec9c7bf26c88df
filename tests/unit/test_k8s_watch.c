/* test_k8s_watch.c - the stream reader under k8s watches: watch events
 * are found whatever the bytes between them and wherever the stream is cut
 * (a proxy may join or split them), braces and quotes inside strings do
 * not end a value, and a stream that is not JSON objects, or a value
 * longer than the bound, stops the reader with a message. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "k8s_watch.h"

struct seen {
	char *v[16];
	size_t n;
	size_t stop_after; /* 0 = never */
};

static int collect(void *arg, const char *text, size_t len)
{
	struct seen *s = arg;
	if (s->n < 16)
		s->v[s->n++] = xstrndup(text, len);
	return s->stop_after && s->n >= s->stop_after;
}

static void seen_release(struct seen *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i]);
	memset(s, 0, sizeof(*s));
}

static const char *const events[] = {
    "{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"name\":\"a\",\"resourceVersion\":\"1\"}}}",
    "{\"type\":\"MODIFIED\",\"object\":{\"metadata\":{\"name\":\"b}\\\"{[\",\"labels\":{}},"
    "\"data\":{\"k\":\"\\\\\",\"l\":[1,{\"x\":\"]\"}]}}}",
    "{\"type\":\"BOOKMARK\",\"object\":{\"metadata\":{\"resourceVersion\":\"9\"}}}",
};

/* The three events, separated by sep, fed in pieces of step bytes. */
static void feed_all(const char *sep, size_t step)
{
	char *stream = xasprintf("%s%s%s%s%s%s", events[0], sep, events[1], sep, events[2], sep);
	struct seen s = {0};
	struct k8s_watch_reader r;
	k8s_watch_reader_init(&r, 1 << 20, collect, &s);
	size_t len = strlen(stream);
	for (size_t i = 0; i < len; i += step) {
		size_t n = len - i < step ? len - i : step;
		assert_int_equal(k8s_watch_reader_feed(&r, stream + i, n), 0);
	}
	assert_null(r.error);
	assert_int_equal(s.n, 3);
	for (size_t i = 0; i < 3; i++)
		assert_string_equal(s.v[i], events[i]);
	k8s_watch_reader_release(&r);
	seen_release(&s);
	free(stream);
}

static void test_separators_and_cuts(void **state)
{
	(void)state;
	const char *seps[] = {"\n", "", "\r\n", " \t\n\n"};
	for (size_t i = 0; i < sizeof(seps) / sizeof(seps[0]); i++)
		for (size_t step = 1; step <= 64; step++)
			feed_all(seps[i], step);
}

static void test_stop_by_callback(void **state)
{
	(void)state;
	struct seen s = {.stop_after = 1};
	struct k8s_watch_reader r;
	k8s_watch_reader_init(&r, 1 << 20, collect, &s);
	char *stream = xasprintf("%s\n%s\n", events[0], events[1]);
	assert_int_equal(k8s_watch_reader_feed(&r, stream, strlen(stream)), 1);
	assert_null(r.error);
	assert_int_equal(s.n, 1);
	free(stream);
	k8s_watch_reader_release(&r);
	seen_release(&s);
}

static void test_not_json_objects(void **state)
{
	(void)state;
	const char *bad[] = {"<html>proxy error</html>", "[1,2]", "\"text\"", "{}x"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct seen s = {0};
		struct k8s_watch_reader r;
		k8s_watch_reader_init(&r, 1 << 20, collect, &s);
		assert_int_equal(k8s_watch_reader_feed(&r, bad[i], strlen(bad[i])), 1);
		assert_non_null(r.error);
		assert_non_null(strstr(r.error, "not a sequence of JSON objects"));
		assert_int_equal(r.too_long, 0);
		/* once stopped, it stays stopped */
		assert_int_equal(k8s_watch_reader_feed(&r, events[0], strlen(events[0])), 1);
		k8s_watch_reader_release(&r);
		seen_release(&s);
	}
}

static void test_value_bound(void **state)
{
	(void)state;
	struct seen s = {0};
	struct k8s_watch_reader r;
	k8s_watch_reader_init(&r, 128, collect, &s);
	assert_int_equal(k8s_watch_reader_feed(&r, events[0], strlen(events[0])), 0);
	assert_int_equal(s.n, 1); /* 73 bytes: within the bound */
	/* an object that never closes is cut at the bound, not read forever */
	const char *open = "{\"type\":\"ADDED\",\"object\":{\"data\":\"";
	assert_int_equal(k8s_watch_reader_feed(&r, open, strlen(open)), 0);
	int stopped = 0;
	for (int i = 0; i < 100 && !stopped; i++)
		stopped = k8s_watch_reader_feed(&r, "xxxx", 4);
	assert_int_equal(stopped, 1);
	assert_int_equal(r.too_long, 1);
	assert_non_null(strstr(r.error, "longer than 128 bytes"));
	k8s_watch_reader_release(&r);
	seen_release(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_separators_and_cuts),
	    cmocka_unit_test(test_stop_by_callback),
	    cmocka_unit_test(test_not_json_objects),
	    cmocka_unit_test(test_value_bound),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
