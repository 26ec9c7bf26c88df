/* expect.c - the expectation engine: compiles a check's expect: list (paths,
 * operators, PCRE2 regexes, jq programs) at load time, so that every mistake
 * is a suite error with a position, and judges a module's facts against it,
 * producing the sentence a person reads in the reports.
 *
 * Typing rule for literal values (documented for suite writers): a plain
 * YAML scalar is typed with the YAML 1.2 core schema (200 is a number, true a
 * boolean), a quoted one is a string. Equality is deep JSON equality in which
 * an integer and a real compare numerically (3 == 3.0) but a number never
 * equals a string (200 != "200"). The ordering operators (ge/gt/le/lt) are
 * more lenient: a string holding a number is read as that number.
 *
 * libjq (1.6) keeps global state and is not reliably thread-safe, so every
 * libjq call (init, compile, start/next, teardown, jv parse/dump) runs under
 * one process-wide mutex; jansson and PCRE2 matching run outside it. */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jq.h>
#include <jv.h>
#include <pcre2.h>

#include "expect.h"
#include "util.h"
#include "vars.h"

#define EXPECT_SEEN_MAX 200        /* bytes of a value shown in a message */
#define EXPECT_PROG_SHOWN 80       /* bytes of a jq program quoted in text */
#define EXPECT_MATCH_LIMIT 5000000 /* PCRE2 match() calls per judgement */
#define EXPECT_DEPTH_LIMIT 1000000 /* PCRE2 backtracking depth */
#define EXPECT_ELLIPSIS "\xe2\x80\xa6"

/* Put before every jq program: facts may hold secrets, and jq's stderr
 * builtin would print them unmasked; env and $ENV would reach the whole
 * process environment, not only the variables a suite declares. Suites read
 * the environment through ${env.NAME} instead. */
#define EXPECT_JQ_GUARD "def stderr: .; def debug: .; def env: {}; {} as $ENV | "

/* Serialises every libjq call in the process. */
static pthread_mutex_t expect_jq_lock = PTHREAD_MUTEX_INITIALIZER;

/* ---- paths ---------------------------------------------------------- */

struct path_seg {
	char *key;       /* owned; NULL for an [n] index */
	long long index; /* [n] (negative counts from the end), or the value
	                    of a key made of digits, usable on arrays */
	int has_index;   /* index is meaningful */
};

struct path {
	struct path_seg *v; /* owned array; n == 0 is the whole document */
	size_t n;
};

static void path_release(struct path *p)
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
static int path_parse(const char *s, struct path *p, struct pg_err *e)
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
					path_release(p);
					return pg_error(e, "bad path '%s': unterminated quoted key",
					                s);
				}
				i++;
				if (s[i] != ']') {
					buf_release(&key);
					path_release(p);
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
					path_release(p);
					return pg_error(e,
					                "bad path '%s': expected an index or a "
					                "quoted key after '['",
					                s);
				}
				if (s[i] != ']') {
					path_release(p);
					return pg_error(e, "bad path '%s': unbalanced '['", s);
				}
				i++;
				path_push(p, NULL, idx, 1);
			}
		} else if (s[i] == ']') {
			path_release(p);
			return pg_error(e, "bad path '%s': unbalanced ']'", s);
		} else {
			size_t start = i;
			size_t j = start;
			long long idx = 0;
			int digits;

			while (s[i] && s[i] != '.' && s[i] != '[' && s[i] != ']')
				i++;
			if (s[i] == ']') {
				path_release(p);
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
			path_release(p);
			return pg_error(e, "bad path '%s': expected '.' or '[' after ']'", s);
		}
	}
	return 0;

empty_segment:
	path_release(p);
	return pg_error(e, "bad path '%s': empty segment", s);
}

/* Borrowed value at p in root, NULL when absent. */
static json_t *path_lookup(json_t *root, const struct path *p)
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

	if (!facts || path_parse(path, &p, &e) < 0)
		return NULL;
	v = path_lookup(facts, &p);
	path_release(&p);
	return v;
}

int expect_path_valid(const char *path)
{
	struct path p;
	struct pg_err e;

	if (path_parse(path, &p, &e) < 0)
		return -1;
	path_release(&p);
	return 0;
}

/* ---- text helpers --------------------------------------------------- */

/* Compact JSON text of any value (owned). */
static char *json_text(const json_t *v)
{
	char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
	char *out;

	if (!s)
		return xstrdup("null");
	out = xstrdup(s);
	free(s);
	return out;
}

/* Takes s (owned) and returns it cut to max bytes at a UTF-8 boundary with
 * an ellipsis when it was longer. */
static char *trim_text(char *s, size_t max)
{
	size_t len = strlen(s);
	size_t cut = max;
	char *out;

	if (len <= max)
		return s;
	while (cut > 0 && ((unsigned char)s[cut] & 0xC0) == 0x80)
		cut--;
	out = xasprintf("%.*s" EXPECT_ELLIPSIS, (int)cut, s);
	free(s);
	return out;
}

/* Masks first, then trims, so a cut can never leave part of a secret. */
static char *masked_trimmed(const char *s, size_t max)
{
	return trim_text(mask_dup(s), max);
}

/* A jq program as quoted in one line of text: runs of white space (a YAML
 * block spreads programs over lines) become one space. */
static char *shown_program(const char *prog)
{
	struct buf b;
	int space = 0;

	buf_init(&b, 0);
	for (const char *p = prog; *p; p++) {
		if (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r') {
			space = 1;
			continue;
		}
		if (space && b.len > 0)
			buf_addc(&b, ' ');
		space = 0;
		buf_addc(&b, *p);
	}
	return trim_text(buf_detach(&b), EXPECT_PROG_SHOWN);
}


/* The closest word of a NULL-terminated list, or NULL when none is near. */
static const char *did_you_mean(const char *word, const char *const *words)
{
	const char *best = NULL;
	size_t best_d = SIZE_MAX;

	for (size_t i = 0; words[i]; i++) {
		size_t dist = edit_distance(word, words[i]);
		if (dist < best_d) {
			best_d = dist;
			best = words[i];
		}
	}
	if (best && best_d <= 2 && best_d < strlen(best) && best_d < strlen(word))
		return best;
	return NULL;
}

/* ---- numbers -------------------------------------------------------- */

struct num {
	int is_int;
	long long i;
	double d; /* always set */
};

static int num_from_text(const char *s, struct num *out)
{
	char *end;
	long long ll;
	double d;

	/* no white space around, no hex, inf or nan: only what a person reads
	 * as a number */
	if (!s || !*s || strpbrk(s, " \t\n\r\vxXiInN"))
		return -1;
	errno = 0;
	ll = strtoll(s, &end, 10);
	if (errno == 0 && *end == '\0') {
		out->is_int = 1;
		out->i = ll;
		out->d = (double)ll;
		return 0;
	}
	errno = 0;
	d = strtod(s, &end);
	if (errno != 0 || *end != '\0' || !isfinite(d))
		return -1;
	out->is_int = 0;
	out->i = 0;
	out->d = d;
	return 0;
}

/* A fact as a number: JSON numbers, and strings that hold one. */
static int num_from_json(const json_t *v, struct num *out)
{
	if (json_is_integer(v)) {
		out->is_int = 1;
		out->i = json_integer_value(v);
		out->d = (double)out->i;
		return 0;
	}
	if (json_is_real(v)) {
		out->is_int = 0;
		out->i = 0;
		out->d = json_real_value(v);
		return 0;
	}
	if (json_is_string(v))
		return num_from_text(json_string_value(v), out);
	return -1;
}

/* <0, 0, >0 like strcmp. */
static int num_cmp(const struct num *a, const struct num *b)
{
	if (a->is_int && b->is_int)
		return (a->i > b->i) - (a->i < b->i);
	return (a->d > b->d) - (a->d < b->d);
}

/* The shortest text that reads back as the same number: 0.9 as a person
 * wrote it, not 0.90000000000000002. */
static char *num_text(const struct num *n)
{
	if (n->is_int)
		return xasprintf("%lld", n->i);
	for (int prec = 1; prec < 17; prec++) {
		char *t = xasprintf("%.*g", prec, n->d);
		if (strtod(t, NULL) == n->d)
			return t;
		free(t);
	}
	return xasprintf("%.17g", n->d);
}

/* Deep equality; integer and real compare numerically. */
static int json_same(const json_t *a, const json_t *b)
{
	if (json_is_number(a) && json_is_number(b)) {
		struct num x, y;
		num_from_json(a, &x);
		num_from_json(b, &y);
		return num_cmp(&x, &y) == 0;
	}
	if (json_typeof(a) != json_typeof(b))
		return 0;
	switch (json_typeof(a)) {
	case JSON_STRING: {
		size_t len = json_string_length(a);
		return len == json_string_length(b) &&
		       memcmp(json_string_value(a), json_string_value(b), len) == 0;
	}
	case JSON_ARRAY:
		if (json_array_size(a) != json_array_size(b))
			return 0;
		for (size_t i = 0; i < json_array_size(a); i++)
			if (!json_same(json_array_get(a, i), json_array_get(b, i)))
				return 0;
		return 1;
	case JSON_OBJECT: {
		const char *k;
		json_t *va;
		if (json_object_size(a) != json_object_size(b))
			return 0;
		json_object_foreach((json_t *)a, k, va)
		{
			json_t *vb = json_object_get(b, k);
			if (!vb || !json_same(va, vb))
				return 0;
		}
		return 1;
	}
	default:
		return 1; /* true, false, null: the type is the value */
	}
}

/* ---- jq ------------------------------------------------------------- */

/* Compiling a jq program costs libjq 1.6 about 12 ms whatever its size,
 * because every jq_compile parses jq's own builtins again. A suite of
 * thousands of checks would spend minutes there. So while a suite loads
 * (expect_defer_begin .. expect_defer_end) programs are only collected, and
 * then compiled together: one jq program defines each of them as a function
 * and a dispatch on an index picks one at run time, which costs one compile
 * for the whole suite. When that batch does not compile, it is split in two
 * and each half tried again, so a bad program is found in O(log n) compiles
 * and reported alone, at its own position, with its own message. Identical
 * programs share one function. Outside a deferred load (tests, run time)
 * programs compile at once as before. */

#define JQ_BATCH_MAX 512

struct jq_batch {
	jq_state *jq; /* owned; used under expect_jq_lock only */
	size_t refs;  /* jqprogs using it */
	int dispatch; /* input is [function index, facts] */
};

struct jqprog {
	char *program;          /* owned: the source text */
	struct jq_batch *batch; /* shared; NULL while pending or when it failed */
	size_t index;           /* which function of the batch */
	int pending;            /* collected, not compiled yet */
	char *error;            /* owned: why it does not compile (deferred mode) */
	struct node_pos pos;    /* where it was written, for a deferred error */
	int has_pos;
};

/* Pending programs of the deferred load; under expect_jq_lock. */
static struct jqprog **jq_pending;
static size_t jq_npending, jq_apending;
static int jq_deferring;

static void jq_collect_error(void *data, jv msg)
{
	struct buf *b = data;

	/* keep the first message; jq adds "jq: N compile errors" after it */
	if (b->len == 0 && jv_get_kind(msg) == JV_KIND_STRING)
		buf_adds(b, jv_string_value(msg));
	jv_free(msg);
}

static void jq_ignore_error(void *data, jv msg)
{
	jv_free(msg);
}

/* Turns jq's "jq: error: syntax error, ... (Unix shell quoting issues?) at
 * <top-level>, line 1:\n<program>" into "syntax error, ...". */
static char *jq_tidy_error(const char *raw, const char *program)
{
	const char *s = raw;
	const char *cut, *at;
	long line = 0;
	char *msg;

	if (!*s)
		return xstrdup("compile error");
	if (strncmp(s, "jq: error: ", 11) == 0)
		s += 11;
	else if (strncmp(s, "jq: ", 4) == 0)
		s += 4;
	at = strstr(s, " at <top-level>, line ");
	if (at)
		line = strtol(at + 22, NULL, 10);
	cut = strstr(s, " (Unix shell quoting issues?)");
	if (!cut)
		cut = at;
	if (!cut)
		cut = strchr(s, '\n');
	msg = cut ? xstrndup(s, (size_t)(cut - s)) : xstrdup(s);
	if (line > 0 && strchr(program, '\n')) {
		char *with_line = xasprintf("%s (line %ld of the program)", msg, line);
		free(msg);
		msg = with_line;
	}
	return msg;
}

/* Compiles text into a new jq state; NULL with *why set when it fails.
 * Call under expect_jq_lock. */
static jq_state *jq_compile_text(const char *text, const char *program_for_msg, char **why)
{
	struct buf errs;
	buf_init(&errs, 4096);
	jq_state *jq = jq_init();
	if (!jq) {
		*why = xstrdup("cannot start jq");
		return NULL;
	}
	jq_set_error_cb(jq, jq_collect_error, &errs);
	int ok = jq_compile(jq, text);
	/* errs lives on this stack frame: never let jq reach it later */
	jq_set_error_cb(jq, jq_ignore_error, NULL);
	if (!ok) {
		jq_teardown(&jq);
		*why = jq_tidy_error(buf_str(&errs), program_for_msg);
	}
	buf_release(&errs);
	return jq;
}

static char *bad_program_message(const char *program, const char *why)
{
	char *shown = shown_program(program);
	char *m = xasprintf("bad jq program '%s': %s", shown, why);
	free(shown);
	return m;
}

/* A single program, compiled alone as function 0 of its own batch. Under
 * expect_jq_lock. */
static void jq_compile_alone(struct jqprog *p)
{
	/* on one line, so that jq's line numbers stay the program's own */
	char *guarded = xasprintf("%s%s", EXPECT_JQ_GUARD, p->program);
	char *why = NULL;
	jq_state *jq = jq_compile_text(guarded, p->program, &why);
	free(guarded);
	p->pending = 0;
	if (!jq) {
		p->error = bad_program_message(p->program, why);
		free(why);
		return;
	}
	p->batch = xcalloc(1, sizeof(*p->batch));
	p->batch->jq = jq;
	p->batch->refs = 1;
	p->index = 0;
	p->error = NULL;
}

static int cmp_prog_text(const void *a, const void *b)
{
	const struct jqprog *x = *(struct jqprog *const *)a, *y = *(struct jqprog *const *)b;
	return strcmp(x->program, y->program);
}

/* The dispatch over programs texts[lo, hi): a balanced tree of
 * comparisons with each program inline at a leaf. (Named functions would
 * be simpler, but jq binds definitions in time quadratic in their number.)
 * The newline keeps a trailing comment from eating the parenthesis. */
static void jq_dispatch(struct buf *b, const char **texts, size_t lo, size_t hi)
{
	if (hi - lo == 1) {
		buf_addf(b, "(%s%s\n)", EXPECT_JQ_GUARD, texts[lo]);
		return;
	}
	size_t mid = lo + (hi - lo) / 2;
	buf_addf(b, "(if $__pgi < %zu then ", mid);
	jq_dispatch(b, texts, lo, mid);
	buf_adds(b, " else ");
	jq_dispatch(b, texts, mid, hi);
	buf_adds(b, " end)");
}

/* Compiles progs[0..n) (sorted by text) together; splits on failure.
 * Under expect_jq_lock. */
static void jq_compile_group(struct jqprog **progs, size_t n)
{
	if (n == 0)
		return;
	/* distinct texts: runs of equal programs share a function */
	size_t distinct = 1;
	for (size_t i = 1; i < n; i++)
		distinct += strcmp(progs[i]->program, progs[i - 1]->program) != 0;
	if (distinct == 1) {
		jq_compile_alone(progs[0]);
		for (size_t i = 1; i < n; i++) {
			progs[i]->pending = 0;
			if (progs[0]->batch) {
				progs[i]->batch = progs[0]->batch;
				progs[i]->batch->refs++;
				progs[i]->index = 0;
			} else {
				progs[i]->error = xstrdup(progs[0]->error);
			}
		}
		return;
	}
	struct buf text;
	buf_init(&text, 0);
	const char **texts = xcalloc(distinct, sizeof(*texts));
	size_t fn = 0;
	for (size_t i = 0; i < n; i++)
		if (i == 0 || strcmp(progs[i]->program, progs[i - 1]->program) != 0)
			texts[fn++] = progs[i]->program;
	buf_adds(&text, ".[0] as $__pgi | .[1] | ");
	jq_dispatch(&text, texts, 0, fn);
	free(texts);
	char *why = NULL;
	jq_state *jq = jq_compile_text(buf_str(&text), "", &why);
	buf_release(&text);
	if (jq) {
		struct jq_batch *batch = xcalloc(1, sizeof(*batch));
		batch->jq = jq;
		batch->dispatch = 1;
		fn = 0;
		for (size_t i = 0; i < n; i++) {
			if (i > 0 && strcmp(progs[i]->program, progs[i - 1]->program) != 0)
				fn++;
			progs[i]->batch = batch;
			progs[i]->index = fn;
			progs[i]->pending = 0;
			batch->refs++;
		}
		return;
	}
	free(why);
	/* split between distinct texts, never inside a run of equal ones */
	size_t half = n / 2;
	while (half > 0 && strcmp(progs[half]->program, progs[half - 1]->program) == 0)
		half--;
	if (half == 0) {
		half = n / 2;
		while (half < n && strcmp(progs[half]->program, progs[half - 1]->program) == 0)
			half++;
	}
	jq_compile_group(progs, half);
	jq_compile_group(progs + half, n - half);
}

/* Compiles the programs of list (which keeps its order). Under
 * expect_jq_lock. */
static void jq_flush_locked_list(struct jqprog **list, size_t n)
{
	if (!n)
		return;
	struct jqprog **sorted = xmalloc(n * sizeof(*sorted));
	memcpy(sorted, list, n * sizeof(*sorted));
	qsort(sorted, n, sizeof(*sorted), cmp_prog_text);
	/* jq's compile time grows faster than the program: batches of at most
	 * JQ_BATCH_MAX distinct programs keep it near linear */
	size_t start = 0, distinct = 0;
	for (size_t i = 0; i <= n; i++) {
		int new_text = i < n && (i == start || strcmp(sorted[i]->program, sorted[i - 1]->program) != 0);
		if (i == n || (new_text && distinct == JQ_BATCH_MAX)) {
			jq_compile_group(sorted + start, i - start);
			start = i;
			distinct = 0;
		}
		if (i < n && (i == start || new_text))
			distinct++;
	}
	free(sorted);
}

void expect_defer_begin(void)
{
	pthread_mutex_lock(&expect_jq_lock);
	jq_deferring = 1;
	pthread_mutex_unlock(&expect_jq_lock);
}

int expect_defer_end(struct diags *d)
{
	pthread_mutex_lock(&expect_jq_lock);
	struct jqprog **list = jq_pending;
	size_t n = jq_npending;
	jq_pending = NULL;
	jq_npending = jq_apending = 0;
	jq_flush_locked_list(list, n);
	jq_deferring = 0;
	pthread_mutex_unlock(&expect_jq_lock);
	int bad = 0;
	/* report in the order the programs were written */
	for (size_t i = 0; i < n; i++) {
		struct jqprog *p = list[i];
		if (!p->error)
			continue;
		bad++;
		if (p->has_pos)
			diag_pos(d, p->pos.file, p->pos.line, p->pos.col, "%s", p->error);
		else
			diag_pos(d, NULL, 0, 0, "%s", p->error);
	}
	free(list);
	return bad;
}

/* Registers or compiles; see jqprog_compile_at. */
static struct jqprog *jq_new(const char *program, const struct node *at)
{
	struct jqprog *p = xcalloc(1, sizeof(*p));
	p->program = xstrdup(program);
	if (at) {
		p->pos = at->pos;
		p->has_pos = 1;
	}
	pthread_mutex_lock(&expect_jq_lock);
	if (jq_deferring) {
		p->pending = 1;
		if (jq_npending == jq_apending) {
			jq_apending = jq_apending ? jq_apending * 2 : 64;
			jq_pending = xrealloc(jq_pending, jq_apending * sizeof(*jq_pending));
		}
		jq_pending[jq_npending++] = p;
	} else {
		jq_compile_alone(p);
	}
	pthread_mutex_unlock(&expect_jq_lock);
	return p;
}

int jqprog_compile_at(const char *program, const struct node *at, struct jqprog **out,
		      struct diags *d)
{
	*out = NULL;
	if (!program || !*program)
		return diag_at(d, at, "empty jq program");
	struct jqprog *p = jq_new(program, at);
	if (p->error) {
		diag_at(d, at, "%s", p->error);
		jqprog_free(p);
		return -1;
	}
	*out = p;
	return 0;
}

int jqprog_compile(const char *program, struct jqprog **out, struct pg_err *e)
{
	*out = NULL;
	if (!program || !*program)
		return pg_error(e, "empty jq program");
	struct jqprog *p = jq_new(program, NULL);
	if (p->error) {
		pg_error(e, "%s", p->error);
		jqprog_free(p);
		return -1;
	}
	*out = p;
	return 0;
}

void jqprog_free(struct jqprog *p)
{
	if (!p)
		return;
	pthread_mutex_lock(&expect_jq_lock);
	if (p->pending) {
		for (size_t i = 0; i < jq_npending; i++)
			if (jq_pending[i] == p) {
				jq_pending[i] = jq_pending[--jq_npending];
				break;
			}
	}
	if (p->batch && --p->batch->refs == 0) {
		jq_teardown(&p->batch->jq);
		free(p->batch);
	}
	pthread_mutex_unlock(&expect_jq_lock);
	free(p->error);
	free(p->program);
	free(p);
}

enum jq_outcome {
	JQ_OUTPUT,    /* *out holds the first output */
	JQ_NO_OUTPUT, /* the program gave nothing */
	JQ_FAILED,    /* *err holds jq's error */
};

/* The facts as a jq value, built directly: going through JSON text would
 * cost a copy several times the size of the facts (a NUL is six bytes as
 * "\u0000"). jq 1.6 keeps numbers as doubles, as its parser would. */
static jv jv_from_json(json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT: {
		jv o = jv_object();
		const char *k;
		json_t *x;
		json_object_foreach(v, k, x)
		{
			o = jv_object_set(o,
			                  jv_string_sized(k, (int)json_object_iter_key_len(
			                                         json_object_key_to_iter(k))),
			                  jv_from_json(x));
		}
		return o;
	}
	case JSON_ARRAY: {
		jv a = jv_array_sized((int)json_array_size(v));
		size_t i;
		json_t *x;
		json_array_foreach(v, i, x)
		{
			a = jv_array_append(a, jv_from_json(x));
		}
		return a;
	}
	case JSON_STRING:
		return jv_string_sized(json_string_value(v), (int)json_string_length(v));
	case JSON_INTEGER:
		return jv_number((double)json_integer_value(v));
	case JSON_REAL:
		return jv_number(json_real_value(v));
	case JSON_TRUE:
		return jv_true();
	case JSON_FALSE:
		return jv_false();
	case JSON_NULL:
		break;
	}
	return jv_null();
}

/* Runs p on input and keeps its first output. *out and *err are owned by
 * the caller. */
static enum jq_outcome jq_run_first(struct jqprog *p, json_t *input, json_t **out, char **err)
{
	char *out_text = NULL;
	enum jq_outcome res;
	json_error_t jerr;

	*out = NULL;
	*err = NULL;
	pthread_mutex_lock(&expect_jq_lock);
	if (p->pending) { /* used before its deferred load ended: compile it now */
		for (size_t i = 0; i < jq_npending; i++)
			if (jq_pending[i] == p) {
				jq_pending[i] = jq_pending[--jq_npending];
				break;
			}
		jq_compile_alone(p);
	}
	if (!p->batch) {
		*err = xstrdup(p->error ? p->error : "the jq program did not compile");
		res = JQ_FAILED;
		goto unlock;
	}
	jv in = jv_from_json(input);
	if (p->batch->dispatch)
		in = jv_array_append(jv_array_append(jv_array(), jv_number((double)p->index)), in);
	jq_state *jq = p->batch->jq;
	jq_start(jq, in, 0);
	jv r = jq_next(jq);
	if (jv_is_valid(r)) {
		jv s = jv_dump_string(r, 0);
		out_text = xstrdup(jv_string_value(s));
		jv_free(s);
		res = JQ_OUTPUT;
	} else if (jv_invalid_has_msg(jv_copy(r))) {
		jv m = jv_invalid_get_msg(r);
		if (jv_get_kind(m) == JV_KIND_STRING) {
			*err = xstrdup(jv_string_value(m));
			jv_free(m);
		} else {
			jv s = jv_dump_string(m, 0);
			*err = xstrdup(jv_string_value(s));
			jv_free(s);
		}
		res = JQ_FAILED;
	} else {
		jv_free(r);
		res = JQ_NO_OUTPUT;
	}
unlock:
	pthread_mutex_unlock(&expect_jq_lock);
	/* jq quotes values cut short ("string (\"s3cr3t-t0k...) and ..."), and
	 * a cut secret escapes the masker: withhold such text */
	if (*err && strstr(*err, "...")) {
		char *in_text = json_dumps(input, JSON_COMPACT | JSON_ENCODE_ANY);
		if (!in_text || mask_contains_secret(in_text)) {
			free(*err);
			*err = xstrdup("jq error withheld: it quotes part of a value, and the "
			               "input holds a secret");
		}
		free(in_text);
	}
	if (out_text) {
		*out = json_loads(out_text, JSON_DECODE_ANY, &jerr);
		free(out_text);
		if (!*out) {
			*err = xasprintf("jq output is not JSON: %s", jerr.text);
			res = JQ_FAILED;
		}
	}
	return res;
}

json_t *jqprog_first(struct jqprog *p, json_t *input, struct pg_err *e)
{
	json_t *out = NULL;
	char *err = NULL;
	char *shown = NULL;
	char *m = NULL;

	switch (jq_run_first(p, input, &out, &err)) {
	case JQ_OUTPUT:
		break;
	case JQ_NO_OUTPUT:
		shown = shown_program(p->program);
		pg_error(e, "jq program '%s' gave no output", shown);
		break;
	case JQ_FAILED:
	default:
		shown = shown_program(p->program);
		m = masked_trimmed(err, EXPECT_SEEN_MAX);
		pg_error(e, "jq program '%s' failed: %s", shown, m);
		break;
	}
	free(shown);
	free(m);
	free(err);
	return out;
}

/* ---- compiled expectations ------------------------------------------ */

enum op_kind {
	OP_EQUALS,
	OP_NOT,
	OP_MATCHES,
	OP_CONTAINS,
	OP_IN,
	OP_EXISTS,
	OP_COUNT,
	OP_LENGTH,
	OP_GE,
	OP_GT,
	OP_LE,
	OP_LT,
	OP__COUNT,
};

/* Index = enum op_kind; NULL-terminated for did_you_mean. */
static const char *const op_words[] = {
    "equals", "not", "matches", "contains", "in", "exists", "count",
    "length", "ge",  "gt",      "le",       "lt", NULL,
};
/* Every key an item may hold. */
static const char *const item_words[] = {
    "path",   "jq",    "message", "equals", "not", "matches", "contains", "in",
    "exists", "count", "length",  "ge",     "gt",  "le",      "lt",       NULL,
};
static const char *const bound_words[] = {"ge", "gt", "le", "lt", NULL};

enum cmp {
	CMP_EQ,
	CMP_GE,
	CMP_GT,
	CMP_LE,
	CMP_LT,
};
static const char *const cmp_sym[] = {"==", ">=", ">", "<=", "<"};

struct bound {
	enum cmp cmp;
	struct num n;
};

struct op {
	enum op_kind kind;
	json_t *arg;       /* owned: equals/not/contains/in value */
	char *arg_text;    /* owned: the argument as shown in messages */
	pcre2_code *re;    /* owned: matches */
	int want;          /* exists: true or false */
	struct bound *b;   /* owned: OP_BOUNDS slots for count/length/ge/gt/le/lt
	                      (op_bounds), all of which must hold; NULL for the
	                      other operators, which are most of a suite's */
	size_t nb;
};
#define OP_BOUNDS 4 /* ge, gt, le, lt */

static struct bound *op_bounds(struct op *op)
{
	if (!op->b)
		op->b = xcalloc(OP_BOUNDS, sizeof(*op->b));
	return op->b;
}

struct item {
	struct node_pos pos; /* where the item was written */
	char *path_text;     /* owned; NULL for a jq item without path: */
	struct path path;    /* compiled path_text */
	struct jqprog *jq;   /* owned; NULL without jq: */
	char *message;       /* owned; NULL = the generated sentence */
	struct op *ops;      /* owned array */
	size_t nops;
};

struct expect {
	struct item *items; /* owned array */
	size_t n, alloc;
	pcre2_match_context *mctx; /* owned: the match limits; NULL until a
	                              regex is compiled. Read-only once
	                              compiled, so shared by threads. */
};

static void op_release(struct op *op)
{
	json_decref(op->arg);
	free(op->arg_text);
	pcre2_code_free(op->re);
	free(op->b);
}

static void item_release(struct item *it)
{
	free(it->path_text);
	path_release(&it->path);
	jqprog_free(it->jq);
	free(it->message);
	for (size_t i = 0; i < it->nops; i++)
		op_release(&it->ops[i]);
	free(it->ops);
}

void expect_free(struct expect *e)
{
	if (!e)
		return;
	for (size_t i = 0; i < e->n; i++)
		item_release(&e->items[i]);
	free(e->items);
	pcre2_match_context_free(e->mctx);
	free(e);
}

size_t expect_count(const struct expect *e)
{
	return e ? e->n : 0;
}

static struct item *expect_new_item(struct expect *x, struct node_pos pos)
{
	struct item *it;

	if (x->n == x->alloc) {
		x->alloc = x->alloc ? 2 * x->alloc : 4;
		x->items = xrealloc(x->items, x->alloc * sizeof(*x->items));
	}
	it = &x->items[x->n++];
	memset(it, 0, sizeof(*it));
	it->pos = pos;
	return it;
}

static struct op *item_new_op(struct item *it, enum op_kind kind)
{
	struct op *op;

	it->ops = xrealloc(it->ops, (it->nops + 1) * sizeof(*it->ops));
	op = &it->ops[it->nops++];
	memset(op, 0, sizeof(*op));
	op->kind = kind;
	return op;
}

static int op_lookup(const char *word)
{
	for (int i = 0; i < OP__COUNT; i++)
		if (strcmp(word, op_words[i]) == 0)
			return i;
	return -1;
}

static int is_item_word(const char *word)
{
	for (size_t i = 0; item_words[i]; i++)
		if (strcmp(word, item_words[i]) == 0)
			return 1;
	return 0;
}

/* A bound's number, from a scalar (a quoted number is accepted too). */
static int compile_num(const struct node *v, const char *what, int want_int, struct num *out,
                       struct diags *d)
{
	if (!v || v->kind != NODE_SCALAR || num_from_text(v->str, out) < 0)
		return diag_at(d, v, "'%s' needs a number, saw %s%s%s", what,
		               v && v->kind == NODE_SCALAR ? "'" : "a ",
		               v && v->kind == NODE_SCALAR ? v->str : node_kind_name(v),
		               v && v->kind == NODE_SCALAR ? "'" : "");
	if (want_int && (!out->is_int || out->i < 0))
		return diag_at(d, v, "'%s' needs a whole number of at least 0, saw '%s'", what,
		               v->str);
	return 0;
}

static char *bounds_text(const struct op *op)
{
	struct buf b;

	buf_init(&b, 0);
	for (size_t i = 0; i < op->nb; i++) {
		char *n = num_text(&op->b[i].n);
		buf_addf(&b, "%s%s %s", i ? " and " : "", cmp_sym[op->b[i].cmp], n);
		free(n);
	}
	return buf_detach(&b);
}

/* count: 3 | count: {ge: 2, le: 5} */
static int compile_count(struct op *op, const struct node *v, const char *what, struct diags *d)
{
	int bad = 0;

	if (v && v->kind == NODE_MAP) {
		if (v->n == 0)
			return diag_at(d, v, "'%s' needs a number or a map of ge/gt/le/lt", what);
		for (size_t i = 0; i < v->n; i++) {
			const char *k = v->pairs[i].key->str;
			int c = -1;
			for (int j = 0; bound_words[j]; j++)
				if (strcmp(k, bound_words[j]) == 0)
					c = j;
			if (c < 0) {
				const char *hint = did_you_mean(k, bound_words);
				if (hint)
					diag_at(d, v->pairs[i].key,
					        "unknown key '%s' in '%s' (did you mean '%s'?)", k,
					        what, hint);
				else
					diag_at(d, v->pairs[i].key,
					        "unknown key '%s' in '%s'; use ge, gt, le or lt", k,
					        what);
				bad = 1;
				continue;
			}
			if (op->nb == OP_BOUNDS ||
			    compile_num(v->pairs[i].value, k, 1, &op_bounds(op)[op->nb].n, d) < 0) {
				bad = 1;
				continue;
			}
			op->b[op->nb].cmp = (enum cmp)(CMP_GE + c);
			op->nb++;
		}
		return bad ? -1 : 0;
	}
	if (compile_num(v, what, 1, &op_bounds(op)[0].n, d) < 0)
		return -1;
	op->b[0].cmp = CMP_EQ;
	op->nb = 1;
	return 0;
}

static int compile_regex(struct expect *x, struct op *op, const struct node *v, struct diags *d)
{
	int errcode;
	PCRE2_SIZE erroff;
	uint32_t opts = PCRE2_UTF;

	if (!v || v->kind != NODE_SCALAR)
		return diag_at(d, v, "'matches' needs a regular expression, saw a %s",
		               node_kind_name(v));
#ifdef PCRE2_MATCH_INVALID_UTF
	opts |= PCRE2_MATCH_INVALID_UTF;
#endif
	op->re = pcre2_compile((PCRE2_SPTR)v->str, v->len, opts, &errcode, &erroff, NULL);
	if (!op->re) {
		PCRE2_UCHAR why[256];
		pcre2_get_error_message(errcode, why, sizeof(why));
		return diag_at(d, v, "bad regex '%s': %s at offset %zu", v->str, (const char *)why,
		               (size_t)erroff);
	}
	if (!x->mctx) {
		x->mctx = pcre2_match_context_create(NULL);
		if (!x->mctx) {
			fprintf(stderr, "phasegate: out of memory\n");
			abort();
		}
		pcre2_set_match_limit(x->mctx, EXPECT_MATCH_LIMIT);
		pcre2_set_depth_limit(x->mctx, EXPECT_DEPTH_LIMIT);
	}
	op->arg_text = trim_text(xasprintf("/%s/", v->str), EXPECT_SEEN_MAX);
	return 0;
}

static int compile_op(struct expect *x, struct item *it, enum op_kind kind, const struct node *v,
                      struct diags *d)
{
	struct op *op = item_new_op(it, kind);
	const char *word = op_words[kind];

	switch (kind) {
	case OP_EQUALS:
	case OP_NOT:
	case OP_CONTAINS:
		op->arg = node_to_json(v);
		break;
	case OP_IN:
		if (!v || v->kind != NODE_SEQ)
			return diag_at(d, v, "'in' needs a list of values, saw a %s",
			               node_kind_name(v));
		op->arg = node_to_json(v);
		break;
	case OP_MATCHES:
		return compile_regex(x, op, v, d);
	case OP_EXISTS:
		return node_as_bool(v, &op->want, d);
	case OP_COUNT:
	case OP_LENGTH:
		return compile_count(op, v, word, d);
	case OP_GE:
	case OP_GT:
	case OP_LE:
	case OP_LT:
		if (compile_num(v, word, 0, &op_bounds(op)[0].n, d) < 0)
			return -1;
		op->b[0].cmp = (enum cmp)(CMP_GE + (kind - OP_GE));
		op->nb = 1;
		return 0;
	default:
		return -1;
	}
	if (!op->arg)
		return diag_at(d, v, "'%s' has a value that cannot be read", word);
	op->arg_text = trim_text(json_text(op->arg), EXPECT_SEEN_MAX);
	return 0;
}

/* A map whose keys are all operator words: "json.items: {count: 3}". */
static int is_operator_map(const struct node *v)
{
	if (!v || v->kind != NODE_MAP || v->n == 0)
		return 0;
	for (size_t i = 0; i < v->n; i++)
		if (op_lookup(v->pairs[i].key->str) < 0)
			return 0;
	return 1;
}

static int item_set_path(struct item *it, const struct node *at, const char *path, struct diags *d)
{
	struct pg_err e;

	if (path_parse(path, &it->path, &e) < 0)
		return diag_at(d, at, "%s", e.msg);
	it->path_text = xstrdup(path);
	return 0;
}

/* "status: 200" or "json.items: {count: 3}" as one item. */
static int compile_shorthand(struct expect *x, const struct node *key, const struct node *value,
                             const struct node *message, struct diags *d)
{
	struct item *it = expect_new_item(x, key->pos);
	int bad = 0;

	if (message && message->kind == NODE_SCALAR)
		it->message = xstrdup(message->str);
	if (item_set_path(it, key, key->str, d) < 0)
		bad = 1;
	if (is_operator_map(value)) {
		for (size_t i = 0; i < value->n; i++)
			if (compile_op(x, it, (enum op_kind)op_lookup(value->pairs[i].key->str),
			               value->pairs[i].value, d) < 0)
				bad = 1;
	} else if (compile_op(x, it, OP_EQUALS, value, d) < 0) {
		bad = 1;
	}
	return bad ? -1 : 0;
}

static void diag_unknown_key(struct diags *d, const struct node *key)
{
	const char *hint = did_you_mean(key->str, item_words);

	if (hint)
		diag_at(d, key, "unknown key '%s' in expectation (did you mean '%s'?)", key->str,
		        hint);
	else
		diag_at(
		    d, key,
		    "unknown key '%s' in expectation; known keys: path, jq, message, equals, not, "
		    "matches, contains, in, exists, count, length, ge, gt, le, lt",
		    key->str);
}

static int compile_item(struct expect *x, const struct node *n, struct diags *d)
{
	const struct node *path = NULL, *jq = NULL, *message = NULL, *unknown = NULL;
	size_t nops = 0, nunknown = 0;
	struct item *it;
	int bad = 0;

	if (!n || n->kind != NODE_MAP)
		return diag_at(d, n,
		               "an expectation must be a map such as 'status: 200' or "
		               "'{path: ..., equals: ...}', saw a %s",
		               node_kind_name(n));
	for (size_t i = 0; i < n->n; i++) {
		const char *k = n->pairs[i].key->str;
		if (strcmp(k, "path") == 0)
			path = n->pairs[i].value;
		else if (strcmp(k, "jq") == 0)
			jq = n->pairs[i].value;
		else if (strcmp(k, "message") == 0)
			message = n->pairs[i].value;
		else if (op_lookup(k) >= 0)
			nops++;
		else if (nunknown++ == 0)
			unknown = n->pairs[i].key;
	}
	if (message && message->kind != NODE_SCALAR) {
		diag_at(d, message, "'message' needs text, saw a %s", node_kind_name(message));
		bad = 1;
	}

	if (!path && !jq && nops == 0) {
		if (nunknown == 1) {
			const struct node *value = NULL;
			for (size_t i = 0; i < n->n; i++)
				if (n->pairs[i].key == unknown)
					value = n->pairs[i].value;
			return compile_shorthand(x, unknown, value, bad ? NULL : message, d) < 0 ||
			               bad
			           ? -1
			           : 0;
		}
		if (nunknown == 0)
			return diag_at(d, n,
			               "an expectation needs a path, a jq program or a shorthand "
			               "such as 'status: 200'");
		/* several keys: a typo of path:/jq: or several shorthands in one item */
		for (size_t i = 0; i < n->n; i++) {
			const struct node *k = n->pairs[i].key;
			if (!is_item_word(k->str) && did_you_mean(k->str, item_words)) {
				diag_unknown_key(d, k);
				bad = 1;
			}
		}
		if (!bad)
			diag_at(d, n,
			        "an expectation with several keys needs 'path:' or 'jq:'; write "
			        "one item per path, e.g. '- status: 200'");
		return -1;
	}

	for (size_t i = 0; i < n->n; i++) {
		const struct node *k = n->pairs[i].key;
		if (!is_item_word(k->str)) {
			diag_unknown_key(d, k);
			bad = 1;
		}
	}
	if (bad)
		return -1;
	if (!path && !jq)
		return diag_at(d, n, "operators need 'path:' (or 'jq:') to say what they judge");
	if (path && !jq && nops == 0)
		return diag_at(
		    d, n, "expectation on path '%s' has no operator (equals, matches, count, ...)",
		    path->kind == NODE_SCALAR ? path->str : "?");

	it = expect_new_item(x, n->pos);
	if (message)
		it->message = xstrdup(message->str);
	if (path) {
		if (path->kind != NODE_SCALAR) {
			diag_at(d, path, "'path' needs text, saw a %s", node_kind_name(path));
			bad = 1;
		} else if (item_set_path(it, path, path->str, d) < 0) {
			bad = 1;
		}
	}
	if (jq) {
		if (jq->kind != NODE_SCALAR) {
			diag_at(d, jq, "'jq' needs a program, saw a %s", node_kind_name(jq));
			bad = 1;
		} else if (jqprog_compile_at(jq->str, jq, &it->jq, d) < 0) {
			bad = 1;
		}
	}
	for (size_t i = 0; i < n->n; i++) {
		int kind = op_lookup(n->pairs[i].key->str);
		if (kind >= 0 && compile_op(x, it, (enum op_kind)kind, n->pairs[i].value, d) < 0)
			bad = 1;
	}
	return bad ? -1 : 0;
}

int expect_compile(const struct node *n, struct expect **out, struct diags *d)
{
	struct expect *x;
	int bad = 0;

	*out = NULL;
	if (!n || node_is_null(n))
		return 0;
	if (n->kind == NODE_SCALAR)
		return diag_at(
		    d, n, "'expect' needs a list of expectations or a map of shorthands, saw a %s",
		    node_kind_name(n));
	x = xcalloc(1, sizeof(*x));
	if (n->kind == NODE_SEQ) {
		for (size_t i = 0; i < n->n; i++)
			if (compile_item(x, n->items[i], d) < 0)
				bad = 1;
	} else if (node_get(n, "path") || node_get(n, "jq")) {
		/* one explicit item written without the list dash */
		bad = compile_item(x, n, d) < 0;
	} else {
		for (size_t i = 0; i < n->n; i++) {
			const struct node *k = n->pairs[i].key;
			if (strcmp(k->str, "message") == 0 || op_lookup(k->str) >= 0) {
				diag_at(d, k,
				        "'%s' in an expect: map needs 'path:'; write expect: as a "
				        "list of items",
				        k->str);
				bad = 1;
			} else if (compile_shorthand(x, k, n->pairs[i].value, NULL, d) < 0) {
				bad = 1;
			}
		}
	}
	if (bad) {
		expect_free(x);
		return -1;
	}
	if (x->n == 0) {
		expect_free(x);
		return 0;
	}
	if (x->n < x->alloc) { /* kept for the whole run: no spare slots */
		x->items = xrealloc(x->items, x->n * sizeof(*x->items));
		x->alloc = x->n;
	}
	*out = x;
	return 0;
}

int expect_compile_jq(const char *program, struct expect **out, struct pg_err *e)
{
	struct expect *x;
	struct jqprog *p;
	struct node_pos nopos = {NULL, 0, 0};

	*out = NULL;
	if (jqprog_compile(program, &p, e) < 0)
		return -1;
	x = xcalloc(1, sizeof(*x));
	expect_new_item(x, nopos)->jq = p;
	*out = x;
	return 0;
}

/* ---- judging -------------------------------------------------------- */

/* What is being judged, as named in messages: "status", "jq '...'". */
static char *subject_name(const struct item *it)
{
	char *prog, *name;

	if (!it->jq)
		return xstrdup(it->path.n == 0 ? "the facts" : it->path_text);
	prog = shown_program(it->jq->program);
	if (it->path_text)
		name =
		    xasprintf("jq '%s' on %s", prog, it->path.n == 0 ? "the facts" : it->path_text);
	else
		name = xasprintf("jq '%s'", prog);
	free(prog);
	return name;
}

/* Fills v for a failure. expected: the expectation ("status == 200").
 * first: the opening of the message when it is not "expected <expected>"
 * (NULL otherwise). seen: the value seen as text. tail: the end of the
 * message when it is not "saw <seen>" (NULL otherwise). All borrowed. */
static void verdict_fail(struct expect_verdict *v, const struct item *it, const char *expected,
                         const char *first, const char *seen, const char *tail)
{
	char *exp_m = mask_dup(expected);
	char *seen_m = masked_trimmed(seen, EXPECT_SEEN_MAX);
	char *tail_m = tail ? masked_trimmed(tail, EXPECT_SEEN_MAX + 64) : NULL;
	char *head, *msg;

	if (it->message)
		head = xstrdup(it->message);
	else if (first)
		head = xasprintf("expected %s", first);
	else
		head = xasprintf("expected %s", exp_m);
	if (tail_m)
		msg = xasprintf("%s, %s", head, tail_m);
	else
		msg = xasprintf("%s, saw %s", head, seen_m);
	v->pass = 0;
	v->message = mask_dup(msg);
	v->expected = exp_m;
	v->seen = seen_m;
	free(head);
	free(msg);
	free(tail_m);
}

/* Number of elements (arrays, objects), characters (strings), 0 for null;
 * -1 for a number or boolean. */
static long long value_size(const json_t *v)
{
	if (json_is_array(v))
		return (long long)json_array_size(v);
	if (json_is_object(v))
		return (long long)json_object_size(v);
	if (json_is_null(v))
		return 0;
	if (json_is_string(v)) {
		const unsigned char *s = (const unsigned char *)json_string_value(v);
		size_t len = json_string_length(v);
		long long chars = 0;
		for (size_t i = 0; i < len; i++)
			if ((s[i] & 0xC0) != 0x80)
				chars++;
		return chars;
	}
	return -1;
}

static int bounds_hold(const struct op *op, const struct num *n)
{
	for (size_t i = 0; i < op->nb; i++) {
		int c = num_cmp(n, &op->b[i].n);
		int ok = 0;
		switch (op->b[i].cmp) {
		case CMP_EQ:
			ok = c == 0;
			break;
		case CMP_GE:
			ok = c >= 0;
			break;
		case CMP_GT:
			ok = c > 0;
			break;
		case CMP_LE:
			ok = c <= 0;
			break;
		case CMP_LT:
			ok = c < 0;
			break;
		}
		if (!ok)
			return 0;
	}
	return 1;
}

/* 1 matched, 0 not, -1 with *why set (owned) when PCRE2 gave up. */
static int regex_match(const struct expect *x, const struct op *op, const json_t *val, char **why)
{
	char *owned = NULL;
	const char *s;
	size_t len;
	pcre2_match_data *md;
	int rc;

	if (json_is_string(val)) {
		s = json_string_value(val);
		len = json_string_length(val);
	} else {
		owned = json_text(val);
		s = owned;
		len = strlen(owned);
	}
	md = pcre2_match_data_create_from_pattern(op->re, NULL);
	if (!md) {
		fprintf(stderr, "phasegate: out of memory\n");
		abort();
	}
	rc = pcre2_match(op->re, (PCRE2_SPTR)s, len, 0, 0, md, x->mctx);
	pcre2_match_data_free(md);
	free(owned);
	if (rc >= 0)
		return 1;
	if (rc == PCRE2_ERROR_NOMATCH)
		return 0;
	{
		PCRE2_UCHAR msg[256];
		pcre2_get_error_message(rc, msg, sizeof(msg));
		*why = xstrdup((const char *)msg);
	}
	return -1;
}

/* The needle's text for substring and key tests. */
static char *needle_text(const json_t *n)
{
	return json_is_string(n) ? xstrdup(json_string_value(n)) : json_text(n);
}

static int contains_one(const json_t *hay, const json_t *needle)
{
	if (json_is_array(hay)) {
		for (size_t i = 0; i < json_array_size(hay); i++)
			if (json_same(json_array_get(hay, i), needle))
				return 1;
		return 0;
	}
	{
		char *nt = needle_text(needle);
		int found;
		if (json_is_object(hay)) {
			found = json_object_get(hay, nt) != NULL;
		} else {
			char *ht =
			    json_is_string(hay) ? xstrdup(json_string_value(hay)) : json_text(hay);
			found = strstr(ht, nt) != NULL;
			free(ht);
		}
		free(nt);
		return found;
	}
}

/* A list argument means every element must be contained. */
static int contains_all(const json_t *hay, const json_t *arg)
{
	if (!json_is_array(arg))
		return contains_one(hay, arg);
	for (size_t i = 0; i < json_array_size(arg); i++)
		if (!contains_one(hay, json_array_get(arg, i)))
			return 0;
	return 1;
}

/* Judges one operator on val (NULL when absent); 0 holds, -1 failed with
 * v filled. */
static int judge_op(const struct expect *x, const struct item *it, const struct op *op,
                    const char *name, json_t *val, struct expect_verdict *v)
{
	char *expected = NULL, *seen = NULL, *first = NULL, *tail = NULL;
	int ok = 0;

	switch (op->kind) {
	case OP_EQUALS:
		expected = xasprintf("%s == %s", name, op->arg_text);
		ok = val && json_same(val, op->arg);
		break;
	case OP_NOT:
		expected = xasprintf("%s != %s", name, op->arg_text);
		ok = val && !json_same(val, op->arg);
		break;
	case OP_MATCHES: {
		int m;
		expected = xasprintf("%s to match %s", name, op->arg_text);
		if (!val)
			break;
		m = regex_match(x, op, val, &tail);
		if (m < 0) {
			char *why = tail;
			tail = xasprintf("but the regex could not be evaluated (%s)", why);
			free(why);
		}
		ok = m == 1;
		break;
	}
	case OP_CONTAINS:
		expected = xasprintf("%s to contain %s", name, op->arg_text);
		ok = val && contains_all(val, op->arg);
		break;
	case OP_IN:
		expected = xasprintf("%s to be one of %s", name, op->arg_text);
		if (val)
			for (size_t i = 0; i < json_array_size(op->arg) && !ok; i++)
				ok = json_same(val, json_array_get(op->arg, i));
		break;
	case OP_EXISTS:
		expected = xasprintf(op->want ? "%s to exist" : "%s to be absent", name);
		ok = op->want ? val != NULL : val == NULL;
		if (!op->want)
			goto done; /* absent is the pass; a present value is shown */
		break;
	case OP_COUNT:
	case OP_LENGTH: {
		char *bt = bounds_text(op);
		long long size = val ? value_size(val) : -1;
		expected = xasprintf("%s %s %s", name, op_words[op->kind], bt);
		free(bt);
		if (!val)
			break;
		if (size < 0) {
			first = xasprintf("a list, map or string at %s", name);
			break;
		}
		{
			struct num n = {1, size, (double)size};
			ok = bounds_hold(op, &n);
			seen = xasprintf("%lld", size);
		}
		break;
	}
	case OP_GE:
	case OP_GT:
	case OP_LE:
	case OP_LT: {
		struct num n;
		char *bt = bounds_text(op);
		expected = xasprintf("%s %s", name, bt);
		free(bt);
		if (!val)
			break;
		if (num_from_json(val, &n) < 0) {
			first = xasprintf("a number at %s", name);
			break;
		}
		ok = bounds_hold(op, &n);
		break;
	}
	default:
		break;
	}
	if (!val && !tail)
		tail = xstrdup("but it is absent");
done:
	if (!ok) {
		if (!seen)
			seen = val ? json_text(val) : xstrdup("(absent)");
		verdict_fail(v, it, expected, first, seen, tail);
	}
	free(expected);
	free(seen);
	free(first);
	free(tail);
	return ok ? 0 : -1;
}

static int judge_item(const struct expect *x, const struct item *it, json_t *facts,
                      struct expect_verdict *v)
{
	char *name = subject_name(it);
	json_t *val = it->path_text ? path_lookup(facts, &it->path) : facts;
	json_t *jq_out = NULL;
	int rc = 0;

	if (it->jq) {
		char *err = NULL;
		enum jq_outcome o;
		char *expected = it->nops ? NULL : xasprintf("%s to be true", name);

		if (!val) {
			if (!expected)
				expected = xasprintf("%s to give a value", name);
			verdict_fail(v, it, expected, NULL, "(absent)", "but its input is absent");
			free(expected);
			rc = -1;
			goto out;
		}
		o = jq_run_first(it->jq, val, &jq_out, &err);
		if (o != JQ_OUTPUT) {
			char *tail = o == JQ_FAILED ? xasprintf("but it failed: %s", err)
			                            : xstrdup("but it gave no output");
			if (!expected)
				expected = xasprintf("%s to give a value", name);
			verdict_fail(v, it, expected, NULL, o == JQ_FAILED ? err : "(no output)",
			             tail);
			free(tail);
			free(err);
			free(expected);
			rc = -1;
			goto out;
		}
		if (!it->nops) {
			if (!json_is_true(jq_out)) {
				char *seen = json_text(jq_out);
				verdict_fail(v, it, expected, NULL, seen, NULL);
				free(seen);
				rc = -1;
			}
			free(expected);
			goto out;
		}
		val = jq_out;
	}
	for (size_t i = 0; i < it->nops && rc == 0; i++)
		rc = judge_op(x, it, &it->ops[i], name, val, v);
	if (!v->observed && val) {
		/* what was measured, kept for reports also when it passed; a real
		 * as its shortest exact text */
		struct num n = {.is_int = 0, .d = json_is_real(val) ? json_real_value(val) : 0};
		char *t = json_is_real(val) ? num_text(&n) : json_text(val);
		v->observed = masked_trimmed(t, EXPECT_SEEN_MAX);
		free(t);
	}
out:
	json_decref(jq_out);
	free(name);
	return rc;
}

void expect_judge(const struct expect *e, json_t *facts, struct expect_verdict *v)
{
	memset(v, 0, sizeof(*v));
	v->pass = 1;
	if (!e)
		return;
	for (size_t i = 0; i < e->n; i++)
		if (judge_item(e, &e->items[i], facts, v) < 0)
			return;
}

void expect_verdict_release(struct expect_verdict *v)
{
	free(v->message);
	free(v->expected);
	free(v->seen);
	free(v->observed);
	memset(v, 0, sizeof(*v));
	v->pass = 1;
}
