/* json.c - the JSON report (the whole result model, see
 * docs/results-json.md), and the small helpers every writer shares: making
 * outside text safe to show, and finding the check that stopped the run. */
#include <stdlib.h>
#include <string.h>

#include "report.h"
#include "../runner/verdict.h"

#define REPLACEMENT "\xEF\xBF\xBD" /* U+FFFD */


char *report_clean_text(const char *s)
{
	struct buf b;
	buf_init(&b, 0);
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	while (*p) {
		/* printable ASCII, tabs and newlines, the bulk of any report,
		 * are copied a run at a time */
		const unsigned char *q = p;
		while ((*q >= 0x20 && *q < 0x7F) || *q == '\t' || *q == '\n')
			q++;
		if (q > p) {
			buf_add(&b, p, (size_t)(q - p));
			p = q;
			continue;
		}
		unsigned cp = 0;
		size_t n = utf8_decode(p, 4, &cp); /* a NUL ends any sequence */
		if (n == 0) {
			buf_adds(&b, REPLACEMENT);
			p++;
			continue;
		}
		if (cp == '\r') {
			/* CRLF becomes LF; a lone CR would let text overwrite a
			 * console line */
		} else if (cp == '\t' || cp == '\n') {
			buf_addc(&b, (char)cp);
		} else if (cp < 0x20 || (cp >= 0x7F && cp <= 0x9F) || cp == 0xFFFE ||
		           cp == 0xFFFF) {
			/* terminal escapes, NULs, and what XML 1.0 forbids */
			buf_adds(&b, REPLACEMENT);
		} else {
			buf_add(&b, p, n);
		}
		p += n;
	}
	return buf_detach(&b);
}

const struct res_check *report_blocking_check(const struct run_result *r)
{
	if (!r->blocking_check)
		return NULL;
	const struct res_check *first = NULL;
	for (size_t p = 0; p < r->nphases; p++) {
		const struct res_phase *ph = &r->phases[p];
		for (size_t s = 0; s < ph->nsteps; s++) {
			const struct res_step *st = &ph->steps[s];
			int in_gate =
			    r->blocking_gate &&
			    ((st->checkpoint_id && !strcmp(st->checkpoint_id, r->blocking_gate)) ||
			     (st->id && !strcmp(st->id, r->blocking_gate)));
			for (size_t c = 0; c < st->nchecks; c++) {
				const struct res_check *k = &st->checks[c];
				if (k->kind == RK_COLLECTOR || !k->id ||
				    strcmp(k->id, r->blocking_check) != 0)
					continue;
				if (in_gate)
					return k;
				if (!first)
					first = k;
			}
		}
	}
	return first;
}

int report_is_failure(const struct res_check *k)
{
	return k->kind != RK_COLLECTOR && (k->status == RS_FAIL || k->status == RS_ERROR);
}

const struct res_check *report_documented_check(const struct res_step *st)
{
	const struct res_check *any = NULL;
	for (size_t i = 0; i < st->nchecks; i++) {
		const struct res_check *k = &st->checks[i];
		if (!report_is_failure(k))
			continue;
		if (k->gate)
			return k;
		if (!any)
			any = k;
	}
	return any;
}

size_t report_open_signoffs(const struct run_result *r)
{
	return verdict_open_signoffs(r);
}

const char *report_verdict(const struct run_result *r)
{
	return r->verdict && *r->verdict ? r->verdict : "NO-GO";
}

/* ---- streaming the JSON report ----
 * The report is the text json_dumps(result_to_json(r), JSON_INDENT(2))
 * would give, written a part at a time: the run, each phase and each step
 * are dumped shallow (their children array empty) and walked member by
 * member; every check is dumped whole by jansson and indented to its depth.
 * Only one check's JSON exists at a time. Indentation is jansson's: a
 * newline and two spaces per level before every member and before the
 * closing bracket; empty arrays and objects stay "[]" and "{}". */

#define JSON_FLAGS (JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY)

static void indent(FILE *out, size_t depth)
{
	static const char spaces[] = "                                ";
	fputc_unlocked('\n', out);
	for (size_t n = 2 * depth; n;) {
		size_t k = n < sizeof(spaces) - 1 ? n : sizeof(spaces) - 1;
		fwrite_unlocked(spaces, 1, k, out);
		n -= k;
	}
}

/* A value at depth: jansson's text with every line break indented further
 * (string values carry no raw line break, so every one is structure),
 * passed on as jansson produces it. */
struct nested {
	FILE *out;
	size_t depth;
};

static int put_nested(const char *text, size_t len, void *arg)
{
	const struct nested *n = arg;
	const char *end = text + len;
	while (text < end) {
		const char *nl = memchr(text, '\n', (size_t)(end - text));
		size_t run = nl ? (size_t)(nl - text) : (size_t)(end - text);
		if (run && fwrite_unlocked(text, 1, run, n->out) != run)
			return -1;
		if (!nl)
			break;
		indent(n->out, n->depth);
		text = nl + 1;
	}
	return 0;
}

static int dump_value(FILE *out, json_t *v, size_t depth)
{
	struct nested n = {out, depth};
	return json_dump_callback(v, put_nested, &n, JSON_FLAGS);
}

/* Streams the children of a part (fill): the phases of the run, the steps
 * of a phase, the checks of a step. */
typedef int (*fill_fn)(FILE *out, const void *part, size_t depth);

/* A shallow object at depth whose member children_key is an empty array
 * that fill streams into; n is how many children fill will write. */
static int stream_object(FILE *out, json_t *o, size_t depth, const char *children_key, size_t n,
                         fill_fn fill, const void *part)
{
	if (!o)
		return -1;
	int rc = 0;
	const char *key;
	json_t *v;
	size_t i = 0, members = json_object_size(o);
	fputc('{', out);
	json_object_foreach(o, key, v)
	{
		indent(out, depth + 1);
		fprintf(out, "\"%s\": ", key); /* our own keys: plain ASCII */
		if (!strcmp(key, children_key) && n) {
			fputc('[', out);
			if (fill(out, part, depth + 2) != 0)
				rc = -1;
			indent(out, depth + 1);
			fputc(']', out);
		} else if (dump_value(out, v, depth + 1) != 0) {
			rc = -1;
		}
		if (++i < members)
			fputc(',', out);
		if (rc != 0 || ferror(out))
			break;
	}
	if (members)
		indent(out, depth);
	fputc('}', out);
	json_decref(o);
	return rc;
}

static int fill_checks(FILE *out, const void *part, size_t depth)
{
	const struct res_step *st = part;
	for (size_t i = 0; i < st->nchecks; i++) {
		indent(out, depth);
		json_t *k = result_check_to_json(&st->checks[i]);
		int rc = k ? dump_value(out, k, depth) : -1;
		json_decref(k);
		if (rc != 0 || ferror(out))
			return -1;
		if (i + 1 < st->nchecks)
			fputc(',', out);
	}
	return 0;
}

static int fill_steps(FILE *out, const void *part, size_t depth)
{
	const struct res_phase *ph = part;
	for (size_t i = 0; i < ph->nsteps; i++) {
		const struct res_step *st = &ph->steps[i];
		indent(out, depth);
		if (stream_object(out, result_step_to_json(st, 0), depth, "checks", st->nchecks,
		                  fill_checks, st) != 0)
			return -1;
		if (i + 1 < ph->nsteps)
			fputc(',', out);
	}
	return 0;
}

static int fill_phases(FILE *out, const void *part, size_t depth)
{
	const struct run_result *r = part;
	for (size_t i = 0; i < r->nphases; i++) {
		const struct res_phase *ph = &r->phases[i];
		indent(out, depth);
		if (stream_object(out, result_phase_to_json(ph, 0), depth, "steps", ph->nsteps,
		                  fill_steps, ph) != 0)
			return -1;
		if (i + 1 < r->nphases)
			fputc(',', out);
	}
	return 0;
}

int report_json_emit(const void *arg, FILE *out, struct pg_err *e)
{
	const struct run_result *r = arg;
	if (stream_object(out, result_run_to_json(r, 0), 0, "phases", r->nphases, fill_phases, r) !=
	    0) {
		if (!ferror(out))
			pg_error(e, "the results could not be encoded as JSON");
		return -1;
	}
	fputc('\n', out);
	return 0;
}

char *report_json_render(const struct run_result *r)
{
	return report_render(report_json_emit, r);
}

int report_json_write(const struct run_result *r, const char *path, struct pg_err *e)
{
	return report_write(report_json_emit, r, path, e);
}

/* ---- every writer: to memory, to one file ---- */

char *report_render(outfile_emit_fn emit, const struct run_result *r)
{
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);
	if (!out)
		abort(); /* only when out of memory */
	int rc = emit(r, out, &(struct pg_err){{0}});
	if (fclose(out) != 0)
		rc = -1;
	if (rc != 0) {
		free(text);
		return NULL;
	}
	return text;
}

int report_write(outfile_emit_fn emit, const struct run_result *r, const char *path,
                 struct pg_err *e)
{
	struct outfile f = {.path = path, .emit = emit, .arg = r};
	return outfile_write_set(&f, 1, e);
}
