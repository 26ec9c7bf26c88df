/* expect_jq.c - jq programs for expectations, save: and filters: compiled
 * with libjq, in batches while a suite loads (one compile for many programs,
 * a bad one found by halving and reported at its own position), and run on a
 * check's facts.
 *
 * libjq (1.6) keeps global state and is not reliably thread-safe, so every
 * libjq call (init, compile, start/next, teardown, jv parse/dump) runs under
 * one process-wide mutex; jansson runs outside it. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <jq.h>
#include <jv.h>

#include "expect_int.h"
#include "vars.h"

/* Put before every jq program: facts may hold secrets, and jq's stderr
 * builtin would print them unmasked; env and $ENV would reach the whole
 * process environment, not only the variables a suite declares. Suites read
 * the environment through ${env.NAME} instead. */
#define EXPECT_JQ_GUARD "def stderr: .; def debug: .; def env: {}; {} as $ENV | "

/* Serialises every libjq call in the process. */
static pthread_mutex_t expect_jq_lock = PTHREAD_MUTEX_INITIALIZER;

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
	char *shown = expect_shown_program(program);
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
		int new_text = i < n && (i == start ||
		                         strcmp(sorted[i]->program, sorted[i - 1]->program) != 0);
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
enum jq_outcome expect_jq_run_first(struct jqprog *p, json_t *input, json_t **out, char **err)
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

	switch (expect_jq_run_first(p, input, &out, &err)) {
	case JQ_OUTPUT:
		break;
	case JQ_NO_OUTPUT:
		shown = expect_shown_program(p->program);
		pg_error(e, "jq program '%s' gave no output", shown);
		break;
	case JQ_FAILED:
	default:
		shown = expect_shown_program(p->program);
		m = expect_masked_trimmed(err, EXPECT_SEEN_MAX);
		pg_error(e, "jq program '%s' failed: %s", shown, m);
		break;
	}
	free(shown);
	free(m);
	free(err);
	return out;
}

const char *jqprog_text(const struct jqprog *p)
{
	return p->program;
}
