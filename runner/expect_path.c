/* expect_path.c - the path language of expectations: "json.items[0].name",
 * 'metrics["up"]', "." parsed into segments and looked up in a module's facts
 * (see expect.h for the syntax). */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "expect_int.h"

void expect_path_release(struct path *p)
{
	for (size_t i = 0; i < p->n; i++)
		free(p->v[i].key);
	free(p->v);
	p->v = NULL;
	p->n = 0;
}

static void path_push(struct path *p, char *key, long long index, int has_index)
{
	p->v = xrealloc(p->v, (p->n + 1) * sizeof(*p->v));
	p->v[p->n].key = key;
	p->v[p->n].index = index;
	p->v[p->n].has_index = has_index;
	p->n++;
}

/* Reads the digits of an index (optionally negative) at s[*i]. */
static int path_read_index(const char *s, size_t *i, long long *out)
{
	int neg = 0;
	long long v = 0;
	size_t start;

	if (s[*i] == '-') {
		neg = 1;
		(*i)++;
	}
	start = *i;
	while (s[*i] >= '0' && s[*i] <= '9') {
		if (v > (LLONG_MAX - 9) / 10)
			return -1;
		v = v * 10 + (s[*i] - '0');
		(*i)++;
	}
	if (*i == start)
		return -1;
	*out = neg ? -v : v;
	return 0;
}

/* Parses "json.items[0].name", 'metrics["up"]', "." into p; on error fills
 * e with a sentence naming the path. */
int expect_path_parse(const char *s, struct path *p, struct pg_err *e)
{
	size_t i = 0;
	struct buf key;

	p->v = NULL;
	p->n = 0;
	if (!s || !*s)
		return pg_error(e, "empty path");
	if (strcmp(s, ".") == 0)
		return 0;
	if (s[0] == '.')
		i = 1; /* ".status" is read like "status", as jq users write it */
	if (!s[i] || s[i] == '.')
		goto empty_segment;
	while (s[i]) {
		if (s[i] == '[') {
			i++;
			if (s[i] == '"' || s[i] == '\'') {
				char q = s[i++];
				buf_init(&key, 0);
				while (s[i] && s[i] != q) {
					if (s[i] == '\\' && s[i + 1])
						i++;
					buf_addc(&key, s[i]);
					i++;
				}
				if (!s[i]) {
					buf_release(&key);
					expect_path_release(p);
					return pg_error(e, "bad path '%s': unterminated quoted key",
					                s);
				}
				i++;
				if (s[i] != ']') {
					buf_release(&key);
					expect_path_release(p);
					return pg_error(e,
					                "bad path '%s': unbalanced '[' (expected "
					                "']' after the quoted key)",
					                s);
				}
				i++;
				path_push(p, buf_detach(&key), 0, 0);
			} else {
				long long idx;
				if (path_read_index(s, &i, &idx) < 0) {
					expect_path_release(p);
					return pg_error(e,
					                "bad path '%s': expected an index or a "
					                "quoted key after '['",
					                s);
				}
				if (s[i] != ']') {
					expect_path_release(p);
					return pg_error(e, "bad path '%s': unbalanced '['", s);
				}
				i++;
				path_push(p, NULL, idx, 1);
			}
		} else if (s[i] == ']') {
			expect_path_release(p);
			return pg_error(e, "bad path '%s': unbalanced ']'", s);
		} else {
			size_t start = i;
			size_t j = start;
			long long idx = 0;
			int digits;

			while (s[i] && s[i] != '.' && s[i] != '[' && s[i] != ']')
				i++;
			if (s[i] == ']') {
				expect_path_release(p);
				return pg_error(e, "bad path '%s': unbalanced ']'", s);
			}
			digits = path_read_index(s, &j, &idx) == 0 && j == i && s[start] != '-';
			path_push(p, xstrndup(s + start, i - start), idx, digits);
		}
		if (s[i] == '.') {
			i++;
			if (!s[i] || s[i] == '.')
				goto empty_segment;
		} else if (s[i] && s[i] != '[') {
			expect_path_release(p);
			return pg_error(e, "bad path '%s': expected '.' or '[' after ']'", s);
		}
	}
	return 0;

empty_segment:
	expect_path_release(p);
	return pg_error(e, "bad path '%s': empty segment", s);
}

/* Borrowed value at p in root, NULL when absent. */
json_t *expect_path_lookup(json_t *root, const struct path *p)
{
	json_t *cur = root;

	for (size_t i = 0; i < p->n && cur; i++) {
		const struct path_seg *sg = &p->v[i];
		if (json_is_object(cur) && sg->key) {
			cur = json_object_get(cur, sg->key);
		} else if (json_is_array(cur) && sg->has_index) {
			long long size = (long long)json_array_size(cur);
			long long idx = sg->index < 0 ? sg->index + size : sg->index;
			cur = idx >= 0 && idx < size ? json_array_get(cur, (size_t)idx) : NULL;
		} else {
			cur = NULL;
		}
	}
	return cur;
}

json_t *expect_path_get(json_t *facts, const char *path)
{
	struct path p;
	struct pg_err e;
	json_t *v;

	if (!facts || expect_path_parse(path, &p, &e) < 0)
		return NULL;
	v = expect_path_lookup(facts, &p);
	expect_path_release(&p);
	return v;
}

int expect_path_valid(const char *path)
{
	struct path p;
	struct pg_err e;

	if (expect_path_parse(path, &p, &e) < 0)
		return -1;
	expect_path_release(&p);
	return 0;
}
