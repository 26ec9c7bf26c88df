/* html.c - the go-live report as one self-contained, printable HTML page:
 * the same content as the Markdown report, in the approver's order (verdict,
 * why it is not GO, open sign-offs, what did not run, the phase table, the
 * checklist, then the run facts and the sign-off table).
 *
 * The page carries no script and no external asset: a Content-Security-Policy
 * meta forbids scripts, objects, frames and every fetch, and only the inline
 * style block is allowed. Every piece of outside text goes through h_text,
 * which escapes the five HTML metacharacters after report_clean_text made it
 * valid UTF-8 without control characters, so suite or world text can never
 * become markup. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../runner/verdict.h"
#include "report.h"

static const char html_style[] =
    "body{font:15px/1.45 system-ui,-apple-system,'Segoe UI',sans-serif;margin:0 auto;"
    "max-width:60rem;padding:1rem 1.5rem;color:#111;background:#fff}"
    "h1{margin:.2rem 0 .4rem;font-size:2rem}"
    ".verdict{padding:1rem 1.2rem;border-radius:6px;border:3px solid #555}"
    ".v-go{background:#e6f4ea;border-color:#1e7d32}"
    ".v-nogo{background:#fdecea;border-color:#b3261e}"
    ".v-pending{background:#fff4e5;border-color:#b26a00}"
    ".warn{border-left:5px solid #b3261e;background:#fff8f7;padding:.4rem .8rem;margin:.6rem 0}"
    "table{border-collapse:collapse;margin:.5rem 0 1rem;width:100%}"
    "th,td{border:1px solid #bbb;padding:.25rem .5rem;text-align:left;vertical-align:top}"
    "th{background:#f2f2f2}td.n{text-align:right}"
    "pre{white-space:pre-wrap;word-break:break-word;background:#f6f6f6;border:1px solid #ddd;"
    "padding:.5rem;font-size:13px}"
    "ul.checklist{list-style:none;padding-left:.5rem}"
    ".s-pass{color:#1e7d32}.s-fail,.s-error{color:#b3261e;font-weight:600}"
    ".s-skip{color:#666}.s-pending{color:#b26a00;font-weight:600}"
    "footer{margin-top:2rem;color:#666;font-size:12px}"
    "@media print{body{max-width:none;padding:0;font-size:11pt}"
    ".verdict,.warn,th{-webkit-print-color-adjust:exact;print-color-adjust:exact}"
    "h2,h3{break-after:avoid}tr,pre,li{break-inside:avoid}}";

/* Outside text, escaped for element content and attribute values. */
static void h_text(struct buf *b, const char *s)
{
	char *clean = report_clean_text(s);
	for (const char *p = clean; *p; p++) {
		switch (*p) {
		case '<':
			buf_adds(b, "&lt;");
			break;
		case '>':
			buf_adds(b, "&gt;");
			break;
		case '&':
			buf_adds(b, "&amp;");
			break;
		case '"':
			buf_adds(b, "&quot;");
			break;
		case '\'':
			buf_adds(b, "&#39;");
			break;
		default:
			buf_addc(b, *p);
		}
	}
	free(clean);
}

static void h_text_or(struct buf *b, const char *s, const char *none)
{
	if (s && *s)
		h_text(b, s);
	else
		buf_adds(b, none);
}

static void h_pre(struct buf *b, const char *s)
{
	buf_adds(b, "<pre>");
	h_text(b, s ? s : "");
	buf_adds(b, "</pre>\n");
}

static const char *status_word(enum res_status s)
{
	switch (s) {
	case RS_PASS:
		return "PASS";
	case RS_FAIL:
		return "FAIL";
	case RS_ERROR:
		return "ERROR";
	case RS_SKIP:
		return "SKIPPED";
	case RS_PENDING:
		return "PENDING";
	case RS_NOT_SELECTED:
		return "NOT SELECTED";
	case RS_INTERRUPTED:
		return "INTERRUPTED";
	case RS_NOT_NEEDED:
		return "NOT NEEDED";
	}
	return "UNKNOWN";
}

static void status_span(struct buf *b, enum res_status s)
{
	buf_addf(b, "<span class=\"s-%s\">%s</span>", res_status_name(s), status_word(s));
}

static const char *check_label(const struct res_check *k)
{
	return k->name && *k->name ? k->name : (k->id ? k->id : "?");
}

static void add_duration(struct buf *b, double s)
{
	if (!(s >= 0) || s > 1e9)
		s = 0;
	char *d = format_duration(llround(s * 1000.0));
	buf_adds(b, d);
	free(d);
}

/* Calls fn for every check of the run in suite order. */
typedef void (*visit_fn)(struct buf *b, const struct res_phase *ph, const struct res_step *st,
                         const struct res_check *k, size_t *n);

static size_t visit(struct buf *b, const struct run_result *r, visit_fn fn)
{
	size_t n = 0;
	for (size_t p = 0; p < r->nphases; p++)
		for (size_t s = 0; s < r->phases[p].nsteps; s++)
			for (size_t i = 0; i < r->phases[p].steps[s].nchecks; i++)
				fn(b, &r->phases[p], &r->phases[p].steps[s],
				   &r->phases[p].steps[s].checks[i], &n);
	return n;
}

static void write_verdict(struct buf *b, const struct run_result *r)
{
	const char *v = report_verdict(r);
	const char *cls = !strcmp(v, "GO")        ? "v-go"
	                  : !strcmp(v, "PENDING") ? "v-pending"
	                                          : "v-nogo";
	buf_addf(b, "<section class=\"verdict %s\" id=\"verdict\">\n<h1>Go-live verdict: ", cls);
	char *headline = verdict_headline(r);
	h_text(b, headline);
	free(headline);
	buf_adds(b, "</h1>\n<p>");
	if (!strcmp(v, "GO")) {
		buf_addf(b, "Every gate passed: %zu of %zu checks passed and no sign-off is open.",
		         r->passed, r->total);
	} else if (!strcmp(v, "PENDING")) {
		size_t n = report_open_signoffs(r);
		buf_addf(b,
		         "Every gate passed, but %zu sign-off%s %s open: the go-live waits for %s.",
		         n, n == 1 ? "" : "s", n == 1 ? "is" : "are", n == 1 ? "it" : "them");
	} else if (r->blocking_gate) {
		const struct res_check *k = report_blocking_check(r);
		buf_adds(b, "Gate <strong>");
		h_text(b, r->blocking_gate);
		buf_adds(b, "</strong> failed");
		if (k) {
			buf_adds(b, ": check <strong>");
			h_text(b, k->id);
			buf_adds(b, "</strong> (");
			h_text(b, check_label(k));
			buf_adds(b, ") ");
			buf_adds(b, k->status == RS_ERROR ? "could not run" : "failed");
			if (k->message && *k->message) {
				buf_adds(b, " — ");
				h_text(b, k->message);
			}
		}
		buf_adds(b, r->keep_going
		                ? ". The run went on only because --keep-going overrode "
		                  "the failure protocol."
		                : ". Nothing after it ran (failure protocol: stop, document, "
		                  "analyze, fix, re-test).");
	} else if (r->interrupted) {
		buf_addf(b, "The run was interrupted (signal %d) before every gate was verified.",
		         r->interrupted);
	} else if (r->timed_out) {
		buf_adds(b, "The global timeout passed before every gate was verified.");
	} else {
		buf_addf(b, "%zu check%s failed and %zu could not run.", r->failed,
		         r->failed == 1 ? "" : "s", r->errors);
	}
	buf_adds(b, "</p>\n<p>Suite <strong>");
	h_text_or(b, r->suite_name, "?");
	buf_adds(b, "</strong>");
	if (r->environment && *r->environment) {
		buf_adds(b, ", environment <strong>");
		h_text(b, r->environment);
		buf_adds(b, "</strong>");
	}
	buf_addf(b, " — %zu checks: %zu passed, %zu failed, %zu errors, %zu skipped, %zu pending",
	         r->total, r->passed, r->failed, r->errors, r->skipped, r->pending);
	buf_adds(b, "</p>\n</section>\n");
}

static void warn(struct buf *b, const char *html)
{
	buf_adds(b, "<p class=\"warn\">");
	buf_adds(b, html);
	buf_adds(b, "</p>\n");
}

static void write_warnings(struct buf *b, const struct run_result *r)
{
	if (r->keep_going)
		warn(b,
		     "<strong>WARNING: the failure protocol was overridden.</strong> This run "
		     "used --keep-going: steps and phases ran after a failed gate, for diagnosis "
		     "only. Results after the first failed gate are not a basis for go-live.");
	if (r->interrupted) {
		char *t = xasprintf("<strong>WARNING: interrupted.</strong> The run was stopped by "
		                    "signal %d; the results are incomplete.",
		                    r->interrupted);
		warn(b, t);
		free(t);
	}
	if (r->timed_out)
		warn(b, "<strong>WARNING: timed out.</strong> The global --timeout passed; the "
		        "results are incomplete.");
	if (r->dry_run)
		warn(b, "<strong>Dry run.</strong> No action changed anything; actions are "
		        "reported as skipped.");
}

/* The failure protocol and the run's trust: a failed rollback, who to call
 * for the failed gate, the suite digest and the earlier run relied on. */
static void write_protocol(struct buf *b, const struct run_result *r)
{
	if (r->rollback_failed) {
		buf_adds(b, "<p class=\"warn\"><strong>ROLLBACK FAILED — manual recovery "
		            "needed.</strong> The rollback of step <strong>");
		h_text(b, r->rollback_failed);
		buf_adds(b, "</strong> did not complete: what its actions changed may be half "
		            "undone. Recover by hand before anything else.</p>\n");
	}
	if (r->escalation) {
		const struct res_escalation *e = r->escalation;
		buf_adds(b, "<p class=\"escalation\"><strong>Escalate</strong> (severity ");
		h_text_or(b, e->severity, "?");
		buf_adds(b, " of check ");
		h_text_or(b, e->check, "?");
		buf_adds(b, "): <strong>");
		h_text_or(b, e->level, "—");
		buf_adds(b, "</strong>");
		if (e->respond_within) {
			buf_adds(b, " — respond within <strong>");
			h_text(b, e->respond_within);
			buf_adds(b, "</strong>");
		}
		buf_adds(b, " — contacts: ");
		for (size_t i = 0; i < e->ncontacts; i++) {
			if (i)
				buf_adds(b, ", ");
			h_text(b, e->contacts[i]);
		}
		if (!e->ncontacts)
			buf_adds(b, "none named");
		buf_adds(b, "</p>\n");
	}
	buf_adds(b, "<p>Suite digest <code>");
	h_text_or(b, r->suite_digest, "—");
	buf_adds(b, "</code>");
	if (r->prior) {
		buf_adds(b, "; prior run <strong>");
		h_text_or(b, r->prior->run_id, "?");
		buf_adds(b, "</strong> in environment ");
		h_text_or(b, r->prior->environment, "?");
		buf_adds(b, ", ");
		h_text_or(b, r->prior->verdict, "?");
		buf_adds(b, ", finished ");
		h_text_or(b, r->prior->finished_at, "?");
		buf_adds(b, " (suite digest <code>");
		h_text_or(b, r->prior->suite_digest, "?");
		buf_adds(b, "</code>)");
	}
	buf_adds(b, "</p>\n");
}

static void write_evidence(struct buf *b, const struct res_evidence *ev, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		buf_adds(b, "<p><strong>Evidence: ");
		h_text_or(b, ev[i].title, "untitled");
		buf_adds(b, "</strong></p>\n");
		h_pre(b, ev[i].text);
	}
}

static void li_field(struct buf *b, const char *name, const char *value, const char *none)
{
	buf_addf(b, "<li><strong>%s:</strong> ", name);
	h_text_or(b, value, none);
	buf_adds(b, "</li>\n");
}

static void write_failure(struct buf *b, const struct res_phase *ph, const struct res_step *st,
                          const struct res_check *k, size_t *n)
{
	if (!report_is_failure(k))
		return;
	if (!(*n)++)
		buf_adds(b, "<h2 id=\"failures\">Failures</h2>\n");
	buf_addf(b, "<h3>%s: ", k->status == RS_FAIL ? "FAILED" : "ERROR");
	h_text_or(b, k->id, "?");
	if (k->name && *k->name) {
		buf_adds(b, " — ");
		h_text(b, k->name);
	}
	buf_adds(b, "</h3>\n<ul>\n<li><strong>Where:</strong> phase ");
	h_text_or(b, ph->id, "?");
	buf_adds(b, ", step ");
	h_text_or(b, st->id, "?");
	if (k->file) {
		buf_adds(b, ", ");
		h_text(b, k->file);
		buf_addf(b, ":%u:%u", k->line, k->col);
	}
	buf_adds(b, "</li>\n<li><strong>Kind:</strong> ");
	buf_adds(b, k->kind == RK_ACTION
	                ? "action"
	                : (k->gate ? "mandatory check (gate)" : "non-gating check"));
	if (k->severity) {
		buf_adds(b, ", severity ");
		h_text(b, k->severity);
	}
	if (k->module) {
		buf_adds(b, ", module ");
		h_text(b, k->module);
	}
	buf_adds(b, "</li>\n");
	li_field(b, "Message", k->message,
	         k->status == RS_FAIL ? "expectation not met" : "the check could not run");
	if (k->describe)
		li_field(b, "Did", k->describe, "");
	if (k->attempts > 1)
		buf_addf(b, "<li><strong>Attempts:</strong> %d</li>\n", k->attempts);
	li_field(b, "Remedy", k->remedy, "none written in the suite");
	buf_adds(b, "</ul>\n");
	if (k->expected) {
		buf_adds(b, "<p><strong>Expected</strong></p>\n");
		h_pre(b, k->expected);
	}
	if (k->seen) {
		buf_adds(b, "<p><strong>Seen</strong></p>\n");
		h_pre(b, k->seen);
	}
	write_evidence(b, k->evidence, k->nevidence);
	if (report_documented_check(st) != k)
		return;
	for (size_t i = 0; i < st->nchecks; i++) {
		const struct res_check *c = &st->checks[i];
		if (c->kind != RK_COLLECTOR)
			continue;
		if (c->status == RS_NOT_NEEDED) {
			buf_adds(b, "<p><strong>Not collected: ");
			h_text_or(b, c->id, "?");
			buf_adds(b, "</strong> — ");
			h_text_or(b, c->message, "not needed");
			buf_adds(b, "</p>\n");
			continue;
		}
		buf_adds(b, "<p><strong>Collected: ");
		h_text_or(b, c->id, "?");
		if (c->describe) {
			buf_adds(b, " — ");
			h_text(b, c->describe);
		}
		buf_adds(b, "</strong></p>\n");
		if (c->status != RS_PASS) {
			buf_addf(b, "<p>Collector %s: ", res_status_name(c->status));
			h_text_or(b, c->message, "no message");
			buf_adds(b, "</p>\n");
		}
		write_evidence(b, c->evidence, c->nevidence);
	}
}

static void write_insecure(struct buf *b, const struct res_phase *ph, const struct res_step *st,
                           const struct res_check *k, size_t *n)
{
	if (!k->insecure)
		return;
	if (!(*n)++)
		buf_adds(b,
		         "<h2 id=\"tls\">TLS warnings</h2>\n<p class=\"warn\"><strong>WARNING:"
		         "</strong> TLS certificate verification was turned off by the suite for "
		         "these checks; their results do not prove the server's identity.</p>\n"
		         "<ul>\n");
	buf_adds(b, "<li>");
	h_text_or(b, k->id, "?");
	buf_adds(b, " — ");
	h_text(b, check_label(k));
	buf_adds(b, "</li>\n");
}

static void where(struct buf *b, const struct res_phase *ph, const struct res_step *st,
                  const struct res_check *k)
{
	buf_adds(b, " (");
	h_text_or(b, k->id, "?");
	buf_adds(b, ", phase ");
	h_text_or(b, ph->id, "?");
	buf_adds(b, ", step ");
	h_text_or(b, st->id, "?");
	buf_adds(b, ")");
}

static void write_open_item(struct buf *b, const struct res_phase *ph, const struct res_step *st,
                            const struct res_check *k, size_t *n)
{
	if (k->status != RS_PENDING)
		return;
	if (!(*n)++)
		buf_adds(b, "<ul class=\"checklist\">\n");
	buf_adds(b, "<li>☐ ");
	h_text(b, check_label(k));
	where(b, ph, st, k);
	buf_adds(b, "</li>\n");
}

static void write_not_run_item(struct buf *b, const struct res_phase *ph, const struct res_step *st,
                               const struct res_check *k, size_t *n)
{
	if (k->status != RS_SKIP || k->kind == RK_COLLECTOR)
		return;
	if (!(*n)++)
		buf_adds(b, "<h2 id=\"not-run\">Not run</h2>\n<ul>\n");
	buf_adds(b, "<li>");
	if (k->kind == RK_ACTION)
		buf_adds(b, "action: ");
	h_text(b, check_label(k));
	where(b, ph, st, k);
	buf_adds(b, " — ");
	if (k->blocked_by) {
		buf_adds(b, "blocked by gate ");
		h_text(b, k->blocked_by);
	} else {
		h_text_or(b, k->message, "not run");
	}
	buf_adds(b, "</li>\n");
}

struct h_count {
	size_t n[RS_NOT_NEEDED + 1]; /* by status: every status has its place */
};

static void count_phase(const struct res_phase *ph, struct h_count *c)
{
	for (size_t s = 0; s < ph->nsteps; s++)
		for (size_t i = 0; i < ph->steps[s].nchecks; i++)
			if (ph->steps[s].checks[i].kind == RK_CHECK)
				c->n[ph->steps[s].checks[i].status]++;
}

static void phase_title(struct buf *b, const struct res_phase *ph)
{
	h_text_or(b, ph->id, "?");
	if (ph->name && *ph->name) {
		buf_adds(b, " — ");
		h_text(b, ph->name);
	}
}

static void write_phase_table(struct buf *b, const struct run_result *r)
{
	buf_adds(b, "<h2 id=\"phases\">Phases</h2>\n<table>\n<tr><th>Phase</th><th>Status</th>"
	            "<th>Passed</th><th>Failed</th><th>Errors</th><th>Skipped</th>"
	            "<th>Pending</th><th>Duration</th></tr>\n");
	for (size_t p = 0; p < r->nphases; p++) {
		const struct res_phase *ph = &r->phases[p];
		struct h_count c = {{0}};
		count_phase(ph, &c);
		buf_adds(b, "<tr><td>");
		phase_title(b, ph);
		buf_adds(b, "</td><td>");
		status_span(b, ph->status);
		buf_addf(b,
		         "</td><td class=\"n\">%zu</td><td class=\"n\">%zu</td><td class=\"n\">%zu"
		         "</td><td class=\"n\">%zu</td><td class=\"n\">%zu</td><td class=\"n\">",
		         c.n[RS_PASS], c.n[RS_FAIL], c.n[RS_ERROR], c.n[RS_SKIP], c.n[RS_PENDING]);
		add_duration(b, ph->duration_s);
		buf_adds(b, "</td></tr>\n");
	}
	buf_adds(b, "</table>\n");
}

static void checklist_item(struct buf *b, const struct res_check *k)
{
	buf_adds(b, k->status == RS_PASS ? "<li>☑ " : "<li>☐ ");
	if (k->kind == RK_ACTION)
		buf_adds(b, "action: ");
	h_text(b, check_label(k));
	buf_adds(b, " — ");
	status_span(b, k->status);
	switch (k->status) {
	case RS_PASS:
		if (k->attest_by) {
			buf_adds(b, " attested by ");
			h_text(b, k->attest_by);
			if (k->attest_at) {
				buf_adds(b, " at ");
				h_text(b, k->attest_at);
			}
			if (k->attest_note) {
				buf_adds(b, ": ");
				h_text(b, k->attest_note);
			}
		}
		break;
	case RS_FAIL:
	case RS_ERROR:
		buf_adds(b, ": ");
		h_text_or(b, k->message,
		          k->status == RS_FAIL ? "expectation not met" : "the check could not run");
		if (!k->gate && k->kind == RK_CHECK)
			buf_adds(b, " (non-gating)");
		break;
	case RS_SKIP:
		buf_adds(b, ": ");
		if (k->blocked_by) {
			buf_adds(b, "blocked by gate ");
			h_text(b, k->blocked_by);
		} else {
			h_text_or(b, k->message, "not run");
		}
		break;
	case RS_PENDING:
		buf_adds(b, ": pending attestation");
		break;
	case RS_NOT_SELECTED:
		buf_adds(b, ": not selected");
		break;
	case RS_INTERRUPTED:
		buf_adds(b, ": ");
		h_text_or(b, k->message, "interrupted");
		break;
	case RS_NOT_NEEDED:
		buf_adds(b, ": ");
		h_text_or(b, k->message, "not needed: its when: is false");
		break;
	}
	if (k->insecure)
		buf_adds(b, " — <strong>TLS not verified</strong>");
	buf_adds(b, "</li>\n");
}

static void write_checklist(struct buf *b, const struct run_result *r)
{
	buf_adds(b, "<h2 id=\"checklist\">Checklist</h2>\n");
	for (size_t p = 0; p < r->nphases; p++) {
		const struct res_phase *ph = &r->phases[p];
		buf_adds(b, "<h3>Phase ");
		phase_title(b, ph);
		buf_adds(b, " (");
		status_span(b, ph->status);
		buf_adds(b, ")</h3>\n");
		for (size_t s = 0; s < ph->nsteps; s++) {
			const struct res_step *st = &ph->steps[s];
			buf_adds(b, "<h4>Step ");
			h_text_or(b, st->id, "?");
			if (st->name && *st->name) {
				buf_adds(b, " — ");
				h_text(b, st->name);
			}
			buf_adds(b, " (");
			status_span(b, st->status);
			buf_adds(b, ")</h4>\n");
			if (st->checkpoint_id || st->checkpoint_name) {
				buf_adds(b, "<p>Checkpoint ");
				h_text_or(b, st->checkpoint_id, "");
				if (st->checkpoint_name) {
					buf_adds(b, " — ");
					h_text(b, st->checkpoint_name);
				}
				buf_adds(b, "</p>\n");
			}
			size_t items = 0;
			for (size_t i = 0; i < st->nchecks; i++) {
				if (st->checks[i].kind == RK_COLLECTOR)
					continue;
				if (!items++)
					buf_adds(b, "<ul class=\"checklist\">\n");
				checklist_item(b, &st->checks[i]);
			}
			buf_adds(b, items ? "</ul>\n" : "<p>No checks.</p>\n");
		}
	}
}

static void write_metric(struct buf *b, const struct res_phase *ph, const struct res_step *st,
                         const struct res_check *k, size_t *n)
{
	if (!k->metric_name)
		return;
	if (!(*n)++)
		buf_adds(b, "<h2 id=\"metrics\">Success metrics</h2>\n<table>\n<tr><th>Metric</th>"
		            "<th>Target</th><th>Seen</th><th>Met</th></tr>\n");
	buf_adds(b, "<tr><td>");
	h_text(b, k->metric_name);
	buf_adds(b, "</td><td>");
	h_text_or(b, k->metric_target, "—");
	buf_adds(b, "</td><td>");
	h_text_or(b, k->seen, k->status == RS_PASS ? "as expected" : "—");
	buf_adds(b, "</td><td>");
	buf_adds(b, k->status == RS_PASS      ? "yes"
	            : k->status == RS_FAIL    ? "<strong>no</strong>"
	            : k->status == RS_ERROR   ? "unknown (error)"
	            : k->status == RS_PENDING ? "pending"
	                                      : "not measured");
	buf_adds(b, "</td></tr>\n");
}

static void fact(struct buf *b, const char *name, const char *value, const char *none)
{
	buf_addf(b, "<tr><th>%s</th><td>", name);
	h_text_or(b, value, none);
	buf_adds(b, "</td></tr>\n");
}

static void write_facts(struct buf *b, const struct run_result *r)
{
	buf_adds(b, "<h2 id=\"run\">Run</h2>\n<table>\n<tr><th>Suite</th><td>");
	h_text_or(b, r->suite_name, "—");
	if (r->suite_title && *r->suite_title) {
		buf_adds(b, " — ");
		h_text(b, r->suite_title);
	}
	buf_adds(b, "</td></tr>\n");
	fact(b, "Suite version", r->suite_version, "—");
	fact(b, "Environment", r->environment, "—");
	fact(b, "Run ID", r->run_id, "—");
	fact(b, "Host", r->hostname, "—");
	fact(b, "Started", r->started_at, "—");
	fact(b, "Finished", r->finished_at, "—");
	buf_adds(b, "<tr><th>Duration</th><td>");
	add_duration(b, r->duration_s);
	buf_adds(b, "</td></tr>\n");
	fact(b, "phasegate version", r->tool_version, "—");
	fact(b, "Selection", r->selection, "whole suite");
	buf_addf(b, "<tr><th>Exit code</th><td>%d</td></tr>\n", r->exit_code);
	if (r->keep_going)
		buf_adds(b, "<tr><th>Failure protocol</th><td><strong>overridden by --keep-going"
		            "</strong></td></tr>\n");
	if (r->dry_run)
		buf_adds(b, "<tr><th>Mode</th><td>dry run</td></tr>\n");
	if (r->interrupted)
		buf_addf(b, "<tr><th>Interrupted</th><td>signal %d</td></tr>\n", r->interrupted);
	buf_adds(b, "</table>\n");
}

static void write_signoff(struct buf *b, const struct run_result *r)
{
	buf_adds(b, "<h2 id=\"sign-off\">Sign-off</h2>\n");
	if (!r->napprovals) {
		buf_adds(b, "<p>The suite requires no approvals.</p>\n");
		return;
	}
	buf_adds(b, "<table>\n<tr><th>Role</th><th>Name</th><th>Date</th><th>Status</th>"
	            "<th>Note</th></tr>\n");
	for (size_t i = 0; i < r->napprovals; i++) {
		const struct res_approval *a = &r->approvals[i];
		buf_adds(b, "<tr><td>");
		h_text_or(b, a->role, a->id ? a->id : "—");
		buf_adds(b, "</td><td>");
		h_text_or(b, a->attested ? a->by : NULL, "");
		buf_adds(b, "</td><td>");
		h_text_or(b, a->attested ? a->at : NULL, "");
		buf_adds(b, a->attested ? "</td><td>signed</td><td>"
		                        : "</td><td><strong>open</strong></td><td>");
		h_text_or(b, a->attested ? a->note : NULL, "");
		buf_adds(b, "</td></tr>\n");
	}
	buf_adds(b, "</table>\n");
}

int report_html_emit(const void *arg, FILE *out, struct pg_err *e)
{
	const struct run_result *r = arg;
	struct buf b;
	buf_init(&b, 0);
	b.sink = out;
	buf_adds(&b, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
	             "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
	             "script-src 'none'; object-src 'none'; frame-src 'none'; form-action 'none'; "
	             "base-uri 'none'; style-src 'unsafe-inline'\">\n"
	             "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
	             "<meta name=\"generator\" content=\"phasegate\">\n<title>Go-live verdict: ");
	char *headline = verdict_headline(r);
	h_text(&b, headline);
	free(headline);
	buf_adds(&b, " — ");
	h_text_or(&b, r->suite_name, "phasegate");
	buf_adds(&b, "</title>\n<style>");
	buf_adds(&b, html_style);
	buf_adds(&b, "</style>\n</head>\n<body>\n");
	write_verdict(&b, r);
	write_warnings(&b, r);
	write_protocol(&b, r);
	visit(&b, r, write_failure);
	buf_adds(&b, "<h2 id=\"open\">Open attestations</h2>\n");
	buf_adds(&b, visit(&b, r, write_open_item) ? "</ul>\n" : "<p>None.</p>\n");
	if (visit(&b, r, write_not_run_item))
		buf_adds(&b, "</ul>\n");
	write_phase_table(&b, r);
	write_checklist(&b, r);
	if (visit(&b, r, write_insecure))
		buf_adds(&b, "</ul>\n");
	if (visit(&b, r, write_metric))
		buf_adds(&b, "</table>\n");
	write_facts(&b, r);
	write_signoff(&b, r);
	buf_adds(&b, "<footer>Generated by phasegate ");
	h_text_or(&b, r->tool_version, "(unknown version)");
	buf_adds(&b, ".</footer>\n</body>\n</html>\n");
	int rc = buf_flush(&b);
	buf_release(&b);
	(void)e; /* nothing here can fail but the stream, which out shows */
	return rc;
}

char *report_html_render(const struct run_result *r)
{
	return report_render(report_html_emit, r);
}

int report_html_write(const struct run_result *r, const char *path, struct pg_err *e)
{
	return report_write(report_html_emit, r, path, e);
}
