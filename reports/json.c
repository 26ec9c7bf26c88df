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

char *report_json_render(const struct run_result *r)
{
	json_t *j = result_to_json(r);
	char *text = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(j);
	if (!text)
		return NULL;
	char *out = xasprintf("%s\n", text);
	free(text);
	return out;
}

int report_json_write(const struct run_result *r, const char *path, struct pg_err *e)
{
	char *text = report_json_render(r);
	if (!text)
		return pg_error(e, "cannot write '%s': the results could not be encoded as JSON",
		                path);
	int rc = write_file_atomic(path, text, strlen(text), e);
	free(text);
	return rc;
}
