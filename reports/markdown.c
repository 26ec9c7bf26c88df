/* markdown.c - the go-live report for approvers, answer first: the verdict
 * and why, the failure that stopped the run (expected, seen, remedy,
 * evidence trimmed for people), what is still open (sign-offs, exact
 * counts), what did not run, the phase table, the run facts, success
 * metrics, the checklist with a distinct mark per outcome, and the
 * sign-off table.
 *
 * Every piece of text that comes from a suite or from the world is escaped
 * (md_text) so that it cannot add markup, links or HTML; multi-line text
 * goes into fenced code blocks whose fence is longer than any backtick run
 * inside (md_code), and only at the top level, never inside a list. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"

/* Inline text: one line, every markup character neutralised. < > & become
 * entities (a backslash does not stop every renderer's HTML); punctuation
 * that makes emphasis, code, links, tables, strike-through or math gets a
 * backslash. Characters that mean something only at the start of a line
 * (# - + . !) are left alone: md_text never starts a line, since every
 * caller puts a prefix first and newlines become spaces; with [ escaped,
 * ( ) and ! cannot form a link or an image. So ids like checkpoint-2.1 stay
 * readable in the raw file. */
static void md_text(struct buf *b, const char *s)
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
		case '\n':
		case '\t':
			buf_addc(b, ' ');
			break;
		case '\\':
		case '`':
		case '*':
		case '_':
		case '[':
		case ']':
		case '|':
		case '~':
		case '$':
			buf_addc(b, '\\');
			buf_addc(b, *p);
			break;
		default:
			buf_addc(b, *p);
		}
	}
	free(clean);
}

/* Text, or a dash when there is none (table cells must not be empty). */
static void md_text_or(struct buf *b, const char *s, const char *none)
{
	if (s && *s)
		md_text(b, s);
	else
		buf_adds(b, none);
}

/* A fenced code block at the top level. The fence is one backtick longer
 * than the longest run inside, so no line of the text can close it. */
static void md_code(struct buf *b, const char *s)
{
	char *clean = report_clean_text(s);
	size_t run = 0, longest = 0;
	for (const char *p = clean; *p; p++) {
		run = *p == '`' ? run + 1 : 0;
		if (run > longest)
			longest = run;
	}
	size_t fence = longest >= 3 ? longest + 1 : 3;
	for (size_t i = 0; i < fence; i++)
		buf_addc(b, '`');
	buf_adds(b, "text\n");
	buf_adds(b, clean);
	if (!*clean || clean[strlen(clean) - 1] != '\n')
		buf_addc(b, '\n');
	for (size_t i = 0; i < fence; i++)
		buf_addc(b, '`');
	buf_adds(b, "\n\n");
	free(clean);
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

/* Counts over the checks (not actions or collectors) of one phase. */
struct md_count {
	size_t passed, failed, errors, skipped, pending, not_selected;
};

static void count_phase(const struct res_phase *ph, struct md_count *c)
{
	for (size_t s = 0; s < ph->nsteps; s++) {
		for (size_t i = 0; i < ph->steps[s].nchecks; i++) {
			const struct res_check *k = &ph->steps[s].checks[i];
			if (k->kind != RK_CHECK)
				continue;
			switch (k->status) {
			case RS_PASS:
				c->passed++;
				break;
			case RS_FAIL:
				c->failed++;
				break;
			case RS_ERROR:
				c->errors++;
				break;
			case RS_SKIP:
			case RS_INTERRUPTED:
				c->skipped++;
				break;
			case RS_PENDING:
				c->pending++;
				break;
			case RS_NOT_SELECTED:
				c->not_selected++;
				break;
			case RS_NOT_NEEDED: /* never a check's: a check has no when: */
				break;
			}
		}
	}
}

static void write_verdict(struct buf *b, const struct run_result *r)
{
	const char *v = report_verdict(r);
	buf_adds(b, "# Go-live verdict: ");
	if (!strcmp(v, "GO") || !strcmp(v, "NO-GO") || !strcmp(v, "PENDING") ||
	    !strcmp(v, "PARTIAL"))
		buf_adds(b, v); /* kept greppable: "NO-GO", not "NO\\-GO" */
	else
		md_text(b, v);
	if (r->rollback_failed) {
		buf_adds(b, " — rollback of step ");
		md_text(b, r->rollback_failed);
		buf_adds(b, " FAILED: manual recovery needed");
	}
	if (r->interrupted)
		buf_adds(b, " (interrupted)");
	buf_adds(b, "\n\n**Why:** ");
	if (r->reason && *r->reason)
		md_text(b, r->reason);
	else
		buf_adds(b, "no reason was recorded (a results file from an older phasegate)");
	buf_adds(b, "\n\n");
	if (r->blocking_gate && !r->interrupted)
		buf_adds(b, r->keep_going
		                ? "The run went on only because --keep-going overrode the failure "
		                  "protocol.\n\n"
		                : "Nothing after the failed gate ran (failure protocol: stop, "
		                  "document, analyze, fix, re-test).\n\n");
}

static void write_warnings(struct buf *b, const struct run_result *r)
{
	if (r->keep_going)
		buf_adds(
		    b,
		    "> **WARNING: the failure protocol was overridden.** This run used "
		    "--keep-going: steps and phases ran after a failed gate, for diagnosis "
		    "only. Results after the first failed gate are not a basis for go-live.\n\n");
	if (r->interrupted)
		buf_addf(b,
		         "> **WARNING: interrupted.** The run was stopped by signal %d; the "
		         "results are incomplete.\n\n",
		         r->interrupted);
	if (r->timed_out)
		buf_adds(b, "> **WARNING: timed out.** The global --timeout passed; the results "
		            "are incomplete.\n\n");
	if (r->dry_run)
		buf_adds(b, "> **Dry run.** No action changed anything; actions are reported as "
		            "skipped.\n\n");
}

/* The failure protocol and the run's trust: a failed rollback, who to call
 * for the failed gate, the earlier run this one relied on. */
static void write_protocol(struct buf *b, const struct run_result *r)
{
	if (r->rollback_failed) {
		buf_adds(b, "> **ROLLBACK FAILED — manual recovery needed.** The rollback of step ");
		md_text(b, r->rollback_failed);
		buf_adds(b, " did not complete: what its actions changed may be half undone. "
		            "Recover by hand before anything else (see the failed rollback "
		            "below).\n\n");
	}
	if (r->escalation) {
		const struct res_escalation *e = r->escalation;
		buf_adds(b, "**Escalate** (severity ");
		md_text_or(b, e->severity, "?");
		buf_adds(b, " of check ");
		md_text_or(b, e->check, "?");
		buf_adds(b, "): ");
		md_text_or(b, e->level, "—");
		if (e->respond_within) {
			buf_adds(b, " — respond within ");
			md_text(b, e->respond_within);
		}
		buf_adds(b, " — contacts: ");
		for (size_t i = 0; i < e->ncontacts; i++) {
			if (i)
				buf_adds(b, ", ");
			md_text(b, e->contacts[i]);
		}
		if (!e->ncontacts)
			buf_adds(b, "none named");
		buf_adds(b, "\n\n");
	}
	if (r->prior) {
		buf_adds(b, "**Prior run:** ");
		md_text_or(b, r->prior->run_id, "?");
		buf_adds(b, " in environment ");
		md_text_or(b, r->prior->environment, "?");
		buf_adds(b, ", ");
		md_text_or(b, r->prior->verdict, "?");
		buf_adds(b, ", finished ");
		md_text_or(b, r->prior->finished_at, "?");
		buf_adds(b, " (suite digest ");
		md_text_or(b, r->prior->suite_digest, "?");
		buf_adds(b, ")\n\n");
	}
}

static void fact(struct buf *b, const char *name, const char *value, const char *none)
{
	buf_addf(b, "| %s | ", name);
	md_text_or(b, value, none);
	buf_adds(b, " |\n");
}

/* "id — name", or the id alone when there is no name. */
static void md_titled(struct buf *b, const char *id, const char *name, const char *none)
{
	md_text_or(b, id, none);
	if (name && *name) {
		buf_adds(b, " — ");
		md_text(b, name);
	}
}

static void write_facts(struct buf *b, const struct run_result *r)
{
	buf_adds(b, "## Run\n\n| Fact | Value |\n|---|---|\n");
	buf_adds(b, "| Suite | ");
	md_titled(b, r->suite_name, r->suite_title, "—");
	buf_adds(b, " |\n");
	fact(b, "Suite version", r->suite_version, "—");
	fact(b, "Suite digest", r->suite_digest, "—");
	fact(b, "Environment", r->environment, "—");
	fact(b, "Run ID", r->run_id, "—");
	fact(b, "Host", r->hostname, "—");
	fact(b, "Started", r->started_at, "—");
	fact(b, "Finished", r->finished_at, "—");
	buf_adds(b, "| Duration | ");
	add_duration(b, r->duration_s);
	buf_adds(b, " |\n");
	fact(b, "phasegate version", r->tool_version, "—");
	fact(b, "Selection", r->selection, "whole suite");
	buf_addf(b,
	         "| Checks | %zu total: %zu passed, %zu failed, %zu errors, %zu skipped, "
	         "%zu pending, %zu interrupted, %zu not selected |\n",
	         r->total, r->passed, r->failed, r->errors, r->skipped, r->pending,
	         r->interrupted_n, r->not_selected);
	buf_addf(b, "| Actions | %zu ran, %zu not selected", r->actions_run,
	         r->actions_not_selected);
	if (r->actions_not_needed)
		buf_addf(b, ", %zu not needed (when: false)", r->actions_not_needed);
	buf_adds(b, " |\n");
	if (r->allow_destructive)
		buf_adds(b, "| Destructive actions | **allowed (--allow-destructive)** |\n");
	buf_addf(b, "| Exit code | %d |\n", r->exit_code);
	if (r->keep_going)
		buf_adds(b, "| Failure protocol | **overridden by --keep-going** |\n");
	if (r->dry_run)
		buf_adds(b, "| Mode | dry run |\n");
	if (r->interrupted)
		buf_addf(b, "| Interrupted | signal %d |\n", r->interrupted);
	buf_adds(b, "\n");
}

static void phase_title(struct buf *b, const struct res_phase *ph)
{
	md_titled(b, ph->id, ph->name, "?");
}

static void write_phase_table(struct buf *b, const struct run_result *r)
{
	buf_adds(b, "## Phases\n\n| Phase | Status | Passed | Failed | Errors | Skipped | Pending "
	            "| Not selected | Duration |\n|---|---|---:|---:|---:|---:|---:|---:|---:|\n");
	for (size_t p = 0; p < r->nphases; p++) {
		const struct res_phase *ph = &r->phases[p];
		struct md_count c = {0};
		count_phase(ph, &c);
		buf_adds(b, "| ");
		phase_title(b, ph);
		buf_addf(b, " | %s | %zu | %zu | %zu | %zu | %zu | %zu | ", status_word(ph->status),
		         c.passed, c.failed, c.errors, c.skipped, c.pending, c.not_selected);
		add_duration(b, ph->duration_s);
		buf_adds(b, " |\n");
	}
	buf_adds(b, "\n");
}

/* The mark that starts a checklist line: each outcome its own, so that a
 * failed, blocked, pending or unselected item never looks like another. */
static const char *item_mark(const struct res_check *k)
{
	switch (k->status) {
	case RS_PASS:
		return "- [x] ✅ ";
	case RS_FAIL:
		return "- [ ] ❌ **FAILED:** ";
	case RS_ERROR:
		return "- [ ] ❗ **ERROR:** ";
	case RS_SKIP:
		return k->blocked_by ? "- [ ] ⛔ " : "- [ ] ⏭️ ";
	case RS_PENDING:
		return "- [ ] ⏳ ";
	case RS_NOT_SELECTED:
		return "- [ ] ➖ ";
	case RS_INTERRUPTED:
		return "- [ ] ⏹️ ";
	case RS_NOT_NEEDED:
		return "- [ ] ⚪ ";
	}
	return "- [ ] ";
}

static void checklist_item(struct buf *b, const struct res_check *k)
{
	buf_adds(b, item_mark(k));
	if (k->destructive)
		buf_adds(b, "⚠️ **DESTRUCTIVE** ");
	if (k->kind == RK_ACTION)
		buf_adds(b, "action: ");
	else if (k->kind == RK_ROLLBACK)
		buf_adds(b, "rollback: ");
	md_text(b, check_label(k));
	switch (k->status) {
	case RS_PASS:
		if (k->attest_by) {
			buf_adds(b, " — attested by ");
			md_text(b, k->attest_by);
			if (k->attest_at) {
				buf_adds(b, " at ");
				md_text(b, k->attest_at);
			}
			if (k->attest_note) {
				buf_adds(b, ": ");
				md_text(b, k->attest_note);
			}
		} else if (k->seen && *k->seen) {
			buf_adds(b, " — seen: ");
			md_text(b, k->seen);
		}
		break;
	case RS_FAIL:
	case RS_ERROR:
		buf_adds(b, " — ");
		md_text_or(b, k->message,
		           k->status == RS_FAIL ? "expectation not met"
		                                : "the check could not run");
		if (!k->gate && k->kind == RK_CHECK)
			buf_adds(b, " (non-gating)");
		break;
	case RS_SKIP:
		buf_adds(b, " — skipped: ");
		if (k->blocked_by) {
			buf_adds(b, "blocked by gate ");
			md_text(b, k->blocked_by);
		} else {
			md_text_or(b, k->message, "not run");
		}
		break;
	case RS_INTERRUPTED:
		buf_adds(b, " — ");
		md_text_or(b, k->message, "interrupted");
		break;
	case RS_PENDING:
		buf_adds(b, " — pending attestation");
		break;
	case RS_NOT_SELECTED:
		buf_adds(b, " — not selected");
		break;
	case RS_NOT_NEEDED:
		buf_adds(b, " — ");
		md_text_or(b, k->message, "not needed: its when: is false");
		break;
	}
	if (k->insecure)
		buf_adds(b, " — **TLS not verified**");
	buf_adds(b, "\n");
}

static void write_checklist(struct buf *b, const struct run_result *r)
{
	buf_adds(b, "## Checklist\n\n");
	for (size_t p = 0; p < r->nphases; p++) {
		const struct res_phase *ph = &r->phases[p];
		buf_adds(b, "### Phase ");
		phase_title(b, ph);
		buf_addf(b, " (%s)\n\n", status_word(ph->status));
		for (size_t s = 0; s < ph->nsteps; s++) {
			const struct res_step *st = &ph->steps[s];
			buf_adds(b, "#### Step ");
			md_text_or(b, st->id, "?");
			if (st->name && *st->name) {
				buf_adds(b, " — ");
				md_text(b, st->name);
			}
			buf_addf(b, " (%s)\n\n", status_word(st->status));
			if (st->checkpoint_id || st->checkpoint_name) {
				buf_adds(b, "Checkpoint ");
				md_text_or(b, st->checkpoint_id, "");
				if (st->checkpoint_name) {
					buf_adds(b, " — ");
					md_text(b, st->checkpoint_name);
				}
				buf_adds(b, "\n\n");
			}
			size_t items = 0;
			for (size_t i = 0; i < st->nchecks; i++) {
				if (st->checks[i].kind == RK_COLLECTOR)
					continue;
				checklist_item(b, &st->checks[i]);
				items++;
			}
			buf_adds(b, items ? "\n" : "No checks.\n\n");
		}
	}
}

#define EVIDENCE_LINES 40
#define EVIDENCE_BYTES 4000

/* Bookkeeping a person never reads: server-side apply records and the
 * copy kubectl keeps of the last applied object. */
static void strip_noise(json_t *v, int depth)
{
	if (depth > 64)
		return;
	if (json_is_object(v)) {
		json_object_del(v, "managedFields");
		json_t *ann = json_object_get(v, "annotations");
		if (json_is_object(ann))
			json_object_del(ann, "kubectl.kubernetes.io/last-applied-configuration");
		const char *k;
		json_t *x;
		json_object_foreach(v, k, x)
			strip_noise(x, depth + 1);
	} else if (json_is_array(v)) {
		size_t i;
		json_t *x;
		json_array_foreach(v, i, x)
			strip_noise(x, depth + 1);
	}
}

/* Evidence for people: noise fields dropped from JSON, then cut to a
 * screenful; the whole text stays in results.json. Malloc'd. */
static char *evidence_for_people(const char *text)
{
	json_t *j = json_loads(text, JSON_DECODE_ANY, NULL);
	char *t = NULL;
	if (j && (json_is_object(j) || json_is_array(j))) {
		strip_noise(j, 0);
		t = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	}
	json_decref(j);
	if (!t)
		t = xstrdup(text);
	size_t lines = 0, cut = 0, len = strlen(t);
	for (size_t i = 0; i < len; i++) {
		if (t[i] == '\n' && ++lines == EVIDENCE_LINES) {
			cut = i + 1;
			break;
		}
	}
	if (!cut && len > EVIDENCE_BYTES)
		cut = EVIDENCE_BYTES;
	while (cut && cut < len && ((unsigned char)t[cut] & 0xC0) == 0x80)
		cut--; /* not inside a UTF-8 sequence */
	if (cut && cut < len) {
		size_t more = 0;
		for (size_t i = cut; i < len; i++)
			more += t[i] == '\n';
		char *c = xasprintf("%.*s\n… %zu more line%s, %zu bytes (the whole text is in "
				    "results.json)\n",
				    (int)cut, t, more, more == 1 ? "" : "s", len - cut);
		free(t);
		t = c;
	}
	return t;
}

static void write_evidence(struct buf *b, const struct res_evidence *ev, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		buf_adds(b, "**Evidence: ");
		md_text_or(b, ev[i].title, "untitled");
		buf_adds(b, "**\n\n");
		char *t = evidence_for_people(ev[i].text ? ev[i].text : "");
		md_code(b, t);
		free(t);
	}
}

static void write_failure(struct buf *b, const struct res_phase *ph, const struct res_step *st,
                          const struct res_check *k)
{
	buf_addf(b, "### %s: ", k->status == RS_FAIL ? "FAILED" : "ERROR");
	md_text_or(b, k->id, "?");
	if (k->name && *k->name) {
		buf_adds(b, " — ");
		md_text(b, k->name);
	}
	buf_adds(b, "\n\n- **Where:** phase ");
	md_text_or(b, ph->id, "?");
	buf_adds(b, ", step ");
	md_text_or(b, st->id, "?");
	if (k->file) {
		buf_adds(b, ", ");
		md_text(b, k->file);
		buf_addf(b, ":%u:%u", k->line, k->col);
	}
	buf_adds(b, "\n- **Kind:** ");
	buf_adds(b, k->kind == RK_ACTION
	                ? "action"
	                : (k->gate ? "mandatory check (gate)" : "non-gating check"));
	if (k->severity) {
		buf_adds(b, ", severity ");
		md_text(b, k->severity);
	}
	if (k->module) {
		buf_adds(b, ", module ");
		md_text(b, k->module);
	}
	buf_adds(b, "\n- **Message:** ");
	md_text_or(b, k->message,
	           k->status == RS_FAIL ? "expectation not met" : "the check could not run");
	if (k->describe) {
		buf_adds(b, "\n- **Did:** ");
		md_text(b, k->describe);
	}
	if (k->attempts > 1)
		buf_addf(b, "\n- **Attempts:** %d", k->attempts);
	buf_adds(b, "\n- **Remedy:** ");
	md_text_or(b, k->remedy, "none written in the suite");
	buf_adds(b, "\n\n");
	if (k->expected) {
		buf_adds(b, "**Expected**\n\n");
		md_code(b, k->expected);
	}
	/* a module's own sentence is already the message */
	int repeats = !k->expected && k->seen && k->message &&
		      strncmp(k->message, k->seen, strlen(k->seen)) == 0;
	if (k->seen && !repeats) {
		buf_adds(b, "**Seen**\n\n");
		md_code(b, k->seen);
	}
	write_evidence(b, k->evidence, k->nevidence);
	if (report_documented_check(st) != k)
		return;
	for (size_t i = 0; i < st->nchecks; i++) {
		const struct res_check *c = &st->checks[i];
		if (c->kind != RK_COLLECTOR)
			continue;
		if (c->status == RS_NOT_NEEDED) {
			buf_adds(b, "**Not collected: ");
			md_text_or(b, c->id, "?");
			buf_adds(b, "** — ");
			md_text_or(b, c->message, "not needed");
			buf_adds(b, "\n\n");
			continue;
		}
		buf_adds(b, "**Collected: ");
		md_text_or(b, c->id, "?");
		if (c->describe) {
			buf_adds(b, " — ");
			md_text(b, c->describe);
		}
		buf_adds(b, "**\n\n");
		if (c->status != RS_PASS) {
			buf_adds(b, "Collector ");
			buf_adds(b, res_status_name(c->status));
			buf_adds(b, ": ");
			md_text_or(b, c->message, "no message");
			buf_adds(b, "\n\n");
		}
		write_evidence(b, c->evidence, c->nevidence);
	}
}

/* The check that stopped the run first, then every other failure. */
static void write_failures(struct buf *b, const struct run_result *r)
{
	const struct res_check *blocking = report_blocking_check(r);
	size_t n = 0;
	for (int pass = 0; pass < 2; pass++)
		for (size_t p = 0; p < r->nphases; p++) {
			const struct res_phase *ph = &r->phases[p];
			for (size_t s = 0; s < ph->nsteps; s++) {
				const struct res_step *st = &ph->steps[s];
				for (size_t i = 0; i < st->nchecks; i++) {
					const struct res_check *k = &st->checks[i];
					if (!report_is_failure(k) || (pass == 0) != (k == blocking))
						continue;
					if (!n++)
						buf_adds(b, "## Failures\n\n");
					if (k == blocking)
						buf_adds(b, "This check stopped the run.\n\n");
					write_failure(b, ph, st, k);
				}
			}
		}
}

static void write_insecure(struct buf *b, const struct run_result *r)
{
	size_t n = 0;
	for (size_t p = 0; p < r->nphases; p++) {
		const struct res_phase *ph = &r->phases[p];
		for (size_t s = 0; s < ph->nsteps; s++) {
			for (size_t i = 0; i < ph->steps[s].nchecks; i++) {
				const struct res_check *k = &ph->steps[s].checks[i];
				if (!k->insecure)
					continue;
				if (!n++)
					buf_adds(
					    b, "## TLS warnings\n\n> **WARNING:** TLS certificate "
					       "verification was turned off by the suite for "
					       "these checks; their results do not prove the "
					       "server's identity.\n\n");
				buf_adds(b, "- ");
				md_text_or(b, k->id, "?");
				buf_adds(b, " — ");
				md_text(b, check_label(k));
				buf_adds(b, "\n");
			}
		}
	}
	if (n)
		buf_adds(b, "\n");
}

static void write_metrics(struct buf *b, const struct run_result *r)
{
	size_t n = 0;
	for (size_t p = 0; p < r->nphases; p++) {
		const struct res_phase *ph = &r->phases[p];
		for (size_t s = 0; s < ph->nsteps; s++) {
			for (size_t i = 0; i < ph->steps[s].nchecks; i++) {
				const struct res_check *k = &ph->steps[s].checks[i];
				if (!k->metric_name)
					continue;
				if (!n++)
					buf_adds(b,
					         "## Success metrics\n\n| Metric | Target | Seen | "
					         "Met |\n|---|---|---|---|\n");
				buf_adds(b, "| ");
				md_text(b, k->metric_name);
				buf_adds(b, " | ");
				md_text_or(b, k->metric_target, "—");
				buf_adds(b, " | ");
				md_text_or(b, k->seen, "—");
				buf_adds(b, " | ");
				buf_adds(b, k->status == RS_PASS      ? "yes"
				            : k->status == RS_FAIL    ? "**no**"
				            : k->status == RS_ERROR   ? "unknown (error)"
				            : k->status == RS_PENDING ? "pending"
				            : k->status == RS_NOT_SELECTED ? "not selected"
				                                      : "not measured");
				buf_adds(b, " |\n");
			}
		}
	}
	if (n)
		buf_adds(b, "\n");
}

static int is_manual(const struct res_check *k)
{
	return k->kind == RK_CHECK && k->module && strcmp(k->module, "manual") == 0;
}

/* What the go-live still waits for: pending checks and unsigned approvals
 * (exactly the open sign-offs that make a run PENDING), and the manual
 * checks the run never reached. */
static void write_open(struct buf *b, const struct run_result *r)
{
	size_t approvals = 0, unreached = 0;
	for (size_t i = 0; i < r->napprovals; i++)
		approvals += !r->approvals[i].attested;
	buf_addf(b, "## Open sign-offs\n\n%zu open: %zu manual check%s pending, %zu approval%s "
		    "unsigned.\n\n",
		 r->pending + approvals, r->pending, r->pending == 1 ? "" : "s", approvals,
		 approvals == 1 ? "" : "s");
	for (int pass = 0; pass < 2; pass++) {
		for (size_t p = 0; p < r->nphases; p++) {
			const struct res_phase *ph = &r->phases[p];
			for (size_t s = 0; s < ph->nsteps; s++) {
				const struct res_step *st = &ph->steps[s];
				for (size_t i = 0; i < st->nchecks; i++) {
					const struct res_check *k = &st->checks[i];
					int pending = k->status == RS_PENDING;
					int not_reached = is_manual(k) && (k->status == RS_SKIP ||
									   k->status == RS_INTERRUPTED ||
									   k->status == RS_NOT_SELECTED);
					if (pass == 0 ? !pending : !not_reached)
						continue;
					unreached += pass;
					if (pass == 1 && unreached == 1)
						buf_adds(b, "Not reached by this run (they will be open "
							    "once it is):\n\n");
					buf_adds(b, pass == 0 ? "- [ ] ⏳ " : "- [ ] ");
					md_text(b, check_label(k));
					buf_adds(b, " (");
					md_text_or(b, k->id, "?");
					buf_adds(b, ", phase ");
					md_text_or(b, ph->id, "?");
					buf_adds(b, ", step ");
					md_text_or(b, st->id, "?");
					buf_adds(b, ")\n");
				}
			}
		}
		if (pass == 0)
			for (size_t i = 0; i < r->napprovals; i++) {
				const struct res_approval *a = &r->approvals[i];
				if (a->attested)
					continue;
				buf_adds(b, "- [ ] ⏳ approval: ");
				md_text_or(b, a->role, a->id ? a->id : "?");
				buf_adds(b, " (");
				md_text_or(b, a->id, "?");
				buf_adds(b, ")\n");
			}
		if (pass == 0 || unreached)
			buf_adds(b, "\n");
	}
}

/* Steps that did not run in full, one line each, with why. */
static void write_not_run(struct buf *b, const struct run_result *r)
{
	size_t lines = 0;
	for (size_t p = 0; p < r->nphases; p++) {
		const struct res_phase *ph = &r->phases[p];
		if (ph->status == RS_NOT_SELECTED) {
			if (!lines++)
				buf_adds(b, "## Not run\n\n");
			buf_adds(b, "- ➖ phase ");
			phase_title(b, ph);
			buf_addf(b, ": not selected (%zu step%s)\n", ph->nsteps,
				 ph->nsteps == 1 ? "" : "s");
			continue;
		}
		for (size_t s = 0; s < ph->nsteps; s++) {
			const struct res_step *st = &ph->steps[s];
			size_t blocked = 0, nsel = 0, intr = 0, other = 0;
			const char *gate = NULL;
			for (size_t i = 0; i < st->nchecks; i++) {
				const struct res_check *k = &st->checks[i];
				if (k->kind == RK_COLLECTOR)
					continue;
				if (k->status == RS_NOT_SELECTED)
					nsel++;
				else if (k->status == RS_INTERRUPTED)
					intr++;
				else if (k->status == RS_SKIP && k->blocked_by) {
					blocked++;
					gate = k->blocked_by;
				} else if (k->status == RS_SKIP)
					other++;
			}
			if (!blocked && !nsel && !intr && !other)
				continue;
			if (!lines++)
				buf_adds(b, "## Not run\n\n");
			buf_adds(b, "- step ");
			md_titled(b, st->id, st->name, "?");
			buf_adds(b, ":");
			if (blocked) {
				buf_addf(b, " ⛔ %zu blocked by gate ", blocked);
				md_text(b, gate);
			}
			if (intr)
				buf_addf(b, " ⏹️ %zu interrupted", intr);
			if (nsel)
				buf_addf(b, " ➖ %zu not selected", nsel);
			if (other)
				buf_addf(b, " ⏭️ %zu skipped", other);
			buf_adds(b, "\n");
		}
	}
	if (lines)
		buf_adds(b, "\n");
}

static void write_signoff(struct buf *b, const struct run_result *r)
{
	buf_adds(b, "## Sign-off\n\n");
	if (!r->napprovals) {
		buf_adds(b, "The suite requires no approvals.\n\n");
		return;
	}
	buf_adds(b, "| Role | Name | Date | Status | Note | Signature |\n|---|---|---|---|---|---|\n");
	for (size_t i = 0; i < r->napprovals; i++) {
		const struct res_approval *a = &r->approvals[i];
		buf_adds(b, "| ");
		md_text_or(b, a->role, a->id ? a->id : "—");
		buf_adds(b, " | ");
		md_text_or(b, a->attested ? a->by : NULL, " ");
		buf_adds(b, " | ");
		md_text_or(b, a->attested ? a->at : NULL, " ");
		buf_adds(b, a->attested ? " | signed | " : " | **open** | ");
		md_text_or(b, a->attested ? a->note : NULL, " ");
		buf_adds(b, " | ");
		if (a->attested && a->signed_by) {
			buf_adds(b, "signed by ");
			md_text(b, a->signed_by);
		} else {
			buf_adds(b, a->attested ? "unsigned" : " ");
		}
		buf_adds(b, " |\n");
	}
	buf_adds(b, "\n");
}

int report_markdown_emit(const void *arg, FILE *out, struct pg_err *e)
{
	const struct run_result *r = arg;
	struct buf b;
	buf_init(&b, 0);
	b.sink = out;
	write_verdict(&b, r);
	write_warnings(&b, r);
	write_protocol(&b, r);
	write_failures(&b, r);
	write_open(&b, r);
	write_not_run(&b, r);
	write_phase_table(&b, r);
	write_facts(&b, r);
	write_insecure(&b, r);
	write_metrics(&b, r);
	write_checklist(&b, r);
	write_signoff(&b, r);
	buf_adds(&b, "---\n\nGenerated by phasegate ");
	md_text_or(&b, r->tool_version, "(unknown version)");
	buf_adds(&b, ".\n");
	int rc = buf_flush(&b);
	buf_release(&b);
	(void)e; /* nothing here can fail but the stream, which out shows */
	return rc;
}

char *report_markdown_render(const struct run_result *r)
{
	return report_render(report_markdown_emit, r);
}

int report_markdown_write(const struct run_result *r, const char *path, struct pg_err *e)
{
	return report_write(report_markdown_emit, r, path, e);
}

/* For other Markdown writers (the fleet report): the same escaping. */
void report_md_text(struct buf *b, const char *s)
{
	md_text(b, s);
}
