/* junit.c - the JUnit XML report for CI, valid against the Jenkins xUnit
 * schema (junit-10.xsd): one <testsuite> per phase, one <testcase> per
 * check and per action. Collectors are not testcases: their output goes to
 * the system-out of the check whose failure they document. All outside text
 * passes through report_clean_text() so that no control character or
 * invalid UTF-8 can make the file unreadable. */
#include <libxml/parser.h>
#include <libxml/xmlwriter.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../runner/verdict.h"
#include "report.h"

static const char *or_default(const char *s, const char *dflt)
{
	return s && *s ? s : dflt;
}

struct jcount {
	size_t tests, failures, errors, skipped;
	double time;
};

static void count_phase(const struct res_phase *ph, struct jcount *c)
{
	for (size_t s = 0; s < ph->nsteps; s++) {
		const struct res_step *st = &ph->steps[s];
		for (size_t i = 0; i < st->nchecks; i++) {
			const struct res_check *k = &st->checks[i];
			if (k->kind == RK_COLLECTOR)
				continue;
			c->tests++;
			if (k->status == RS_FAIL)
				c->failures++;
			else if (k->status == RS_ERROR)
				c->errors++;
			else if (k->status != RS_PASS)
				c->skipped++;
		}
	}
}

/* Seconds with exactly three decimals, as SUREFIRE_TIME allows (no sign,
 * no exponent). */
static char *fmt_time(double s)
{
	if (!(s >= 0) || s > 1e12)
		s = 0;
	return xasprintf("%.3f", s);
}

static void attr(xmlTextWriterPtr w, const char *name, const char *value)
{
	char *v = report_clean_text(value);
	xmlTextWriterWriteAttribute(w, BAD_CAST name, BAD_CAST v);
	free(v);
}

static void attr_size(xmlTextWriterPtr w, const char *name, size_t n)
{
	char *v = xasprintf("%zu", n);
	xmlTextWriterWriteAttribute(w, BAD_CAST name, BAD_CAST v);
	free(v);
}

static void property(xmlTextWriterPtr w, const char *name, const char *value);

/* The failure protocol and the run's trust as properties: the suite
 * digest, a failed rollback (loud: it leads the headline), who to call
 * for the failed gate, the earlier run this one relied on. */
static void protocol_properties(xmlTextWriterPtr w, const struct run_result *r)
{
	if (r->suite_digest) /* absent in results files written before digests */
		property(w, "suite_digest", r->suite_digest);
	if (r->rollback_failed) {
		char *h = verdict_headline(r);
		property(w, "rollback_failed", r->rollback_failed);
		property(w, "headline", h);
		free(h);
	}
	if (r->escalation) {
		const struct res_escalation *e = r->escalation;
		struct buf c;
		buf_init(&c, 0);
		for (size_t i = 0; i < e->ncontacts; i++)
			buf_addf(&c, "%s%s", i ? ", " : "", e->contacts[i]);
		property(w, "escalation_level", e->level);
		property(w, "escalation_respond_within", e->respond_within);
		property(w, "escalation_contacts", buf_str(&c));
		buf_release(&c);
	}
	if (r->prior) {
		property(w, "prior_run_id", r->prior->run_id);
		property(w, "prior_environment", r->prior->environment);
		property(w, "prior_finished_at", r->prior->finished_at);
		property(w, "prior_suite_digest", r->prior->suite_digest);
	}
}

static void property(xmlTextWriterPtr w, const char *name, const char *value)
{
	xmlTextWriterStartElement(w, BAD_CAST "property");
	attr(w, "name", name);
	attr(w, "value", value ? value : "");
	xmlTextWriterEndElement(w);
}

/* Element whose content is outside text (may be empty). */
static void text_element(xmlTextWriterPtr w, const char *name, const char *text)
{
	char *v = report_clean_text(text);
	xmlTextWriterStartElement(w, BAD_CAST name);
	xmlTextWriterWriteString(w, BAD_CAST v);
	xmlTextWriterEndElement(w);
	free(v);
}

/* "2026-11-26T09:10:22Z" -> "2026-11-26T09:10:22": the xsd's timestamp is
 * ISO 8601 without a zone (always UTC here). */
static char *timestamp_no_zone(const char *iso)
{
	size_t n = strlen(iso);
	if (n && (iso[n - 1] == 'Z' || iso[n - 1] == 'z'))
		n--;
	else if (n > 6 && !strcmp(iso + n - 6, "+00:00"))
		n -= 6;
	return xstrndup(iso, n);
}

/* "2.1 server-replicas: Server runs 3 replicas"; actions and rollbacks say
 * so ("2.1 action apply-ha: ..."), destructive ones too. */
static char *testcase_name(const struct res_step *st, const struct res_check *k)
{
	const char *id = k->id ? k->id : "?";
	const char *kind = k->kind == RK_ACTION ? "action " : k->kind == RK_ROLLBACK ? "rollback " : "";
	const char *destr = k->destructive ? " [destructive]" : "";
	if (k->name && *k->name && strcmp(k->name, id) != 0)
		return xasprintf("%s %s%s: %s%s", or_default(st->id, "?"), kind, id, k->name, destr);
	return xasprintf("%s %s%s%s", or_default(st->id, "?"), kind, id, destr);
}

/* classname + name must be unique: a repeated name in one step (same id
 * written twice, or an action and a check sharing one) gets " (2)", ...
 * The names of one step are counted in a hash table of their FNV-1a
 * hashes (equal hashes are compared by name), so a step of n checks costs
 * n names, not n * n. */
struct name_slot {
	uint64_t hash;
	size_t idx;  /* the first check with this name; SIZE_MAX = empty */
	size_t seen; /* how many so far */
};

struct names {
	const struct res_step *st;
	struct name_slot *slot;
	size_t mask;
};

static uint64_t fnv1a(const char *s)
{
	uint64_t h = 1469598103934665603ull;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

static void names_init(struct names *nm, const struct res_step *st)
{
	size_t size = 16;
	while (size < 2 * st->nchecks)
		size *= 2;
	nm->st = st;
	nm->slot = xcalloc(size, sizeof(*nm->slot));
	nm->mask = size - 1;
	for (size_t i = 0; i < size; i++)
		nm->slot[i].idx = SIZE_MAX;
}

/* The unique name of check idx; call in order of idx. */
static char *unique_name(struct names *nm, size_t idx)
{
	char *name = testcase_name(nm->st, &nm->st->checks[idx]);
	uint64_t h = fnv1a(name);
	size_t i = (size_t)h & nm->mask;
	for (;; i = (i + 1) & nm->mask) {
		struct name_slot *sl = &nm->slot[i];
		if (sl->idx == SIZE_MAX) {
			*sl = (struct name_slot){h, idx, 1};
			return name;
		}
		if (sl->hash != h)
			continue;
		char *other = testcase_name(nm->st, &nm->st->checks[sl->idx]);
		int same = !strcmp(other, name);
		free(other);
		if (same)
			break;
	}
	char *n2 = xasprintf("%s (%zu)", name, ++nm->slot[i].seen);
	free(name);
	return n2;
}

static void add_evidence(struct buf *b, const struct res_evidence *ev, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		buf_addf(b, "--- evidence: %s ---\n", ev[i].title ? ev[i].title : "(untitled)");
		if (ev[i].text) {
			buf_adds(b, ev[i].text);
			if (*ev[i].text && ev[i].text[strlen(ev[i].text) - 1] != '\n')
				buf_addc(b, '\n');
		}
	}
}

static void add_collector(struct buf *b, const struct res_check *k)
{
	buf_addf(b, "--- collector %s%s%s: %s ---\n", k->id ? k->id : "?", k->name ? " " : "",
	         k->name ? k->name : "", res_status_name(k->status));
	if (k->describe)
		buf_addf(b, "%s\n", k->describe);
	if (k->message)
		buf_addf(b, "%s\n", k->message);
	add_evidence(b, k->evidence, k->nevidence);
}

static void collectors_of(struct buf *b, const struct res_step *st)
{
	for (size_t i = 0; i < st->nchecks; i++)
		if (st->checks[i].kind == RK_COLLECTOR)
			add_collector(b, &st->checks[i]);
}

static void write_outcome(xmlTextWriterPtr w, const struct run_result *r,
			  const struct res_check *k, const struct res_check *blocker)
{
	int blocking = blocker == k;
	const char *elem = NULL, *type = NULL;
	char *message = NULL;
	struct buf body;
	buf_init(&body, 0);
	switch (k->status) {
	case RS_PASS:
		return;
	case RS_FAIL:
		elem = "failure";
		type = "AssertionFailure";
		message = xstrdup(or_default(k->message, "expectation not met"));
		break;
	case RS_NOT_SELECTED:
		elem = "skipped";
		message = r->selection ? xasprintf("not selected (%s)", r->selection)
				       : xstrdup("not selected");
		break;
	case RS_INTERRUPTED:
		elem = "skipped";
		message = xstrdup(or_default(k->message, "interrupted"));
		break;
	case RS_ERROR:
		elem = "error";
		type = "CheckError";
		message = xstrdup(or_default(k->message, "the check could not run"));
		break;
	case RS_SKIP:
		elem = "skipped";
		if (k->blocked_by)
			message = xasprintf("blocked by gate %s", k->blocked_by);
		else
			message = xstrdup(or_default(k->message, "not run"));
		break;
	case RS_PENDING:
		elem = "skipped";
		message = xstrdup("pending attestation");
		break;
	case RS_NOT_NEEDED:
		elem = "skipped";
		message = xstrdup(or_default(k->message, "not needed: its when: is false"));
		break;
	}
	if (!elem)
		return; /* not a status this version knows */
	if (blocking) {
		char *m = xasprintf("BLOCKED THE RUN at gate %s: %s", or_default(r->blocking_gate, "?"),
				    message);
		free(message);
		message = m;
	}
	if (k->status == RS_FAIL || k->status == RS_ERROR) {
		if (k->expected)
			buf_addf(&body, "expected: %s\n", k->expected);
		if (k->seen)
			buf_addf(&body, "seen: %s\n", k->seen);
		if (k->remedy)
			buf_addf(&body, "remedy: %s\n", k->remedy);
	} else if (k->status == RS_SKIP && k->blocked_by && k->message &&
	           strcmp(k->message, message) != 0) {
		buf_addf(&body, "%s\n", k->message);
	}
	xmlTextWriterStartElement(w, BAD_CAST elem);
	attr(w, "message", message);
	if (type)
		attr(w, "type", type);
	if (body.len) {
		char *v = report_clean_text(body.data);
		xmlTextWriterWriteString(w, BAD_CAST v);
		free(v);
	}
	xmlTextWriterEndElement(w);
	free(message);
	buf_release(&body);
}

/* "argocd-stabilization / Phase 2 Core HA": suite and phase name, with
 * dots turned into middle dots, since Jenkins and GitLab split a
 * classname at its dots into a package tree. */
static char *junit_classname(const struct run_result *r, const struct res_phase *ph)
{
	const char *pname = or_default(ph->name, or_default(ph->id, "?"));
	char *raw = strcmp(pname, or_default(ph->id, "?")) == 0
			? xasprintf("%s / phase %s", or_default(r->suite_name, "suite"), pname)
			: xasprintf("%s / %s %s", or_default(r->suite_name, "suite"),
				    or_default(ph->id, "?"), pname);
	struct buf b;
	buf_init(&b, 0);
	for (const char *p = raw; *p; p++) {
		if (*p == '.')
			buf_adds(&b, "\xC2\xB7");
		else
			buf_addc(&b, *p);
	}
	free(raw);
	return buf_detach(&b);
}

/* documented: the check the step's collectors document (found once per
 * step); classname: the phase's. */
static void write_testcase(xmlTextWriterPtr w, const struct run_result *r, const char *classname,
                           struct names *nm, size_t idx, const struct res_check *blocker,
                           const struct res_check *documented)
{
	const struct res_step *st = nm->st;
	const struct res_check *k = &st->checks[idx];
	char *name = unique_name(nm, idx);
	char *time = fmt_time(k->duration_s);
	struct buf out;
	buf_init(&out, 0);

	xmlTextWriterStartElement(w, BAD_CAST "testcase");
	attr(w, "name", name);
	attr(w, "classname", classname);
	xmlTextWriterWriteAttribute(w, BAD_CAST "time", BAD_CAST time);
	write_outcome(w, r, k, blocker);

	if (k->kind == RK_ACTION)
		buf_adds(&out, "action (changes the world)\n");
	if (k->kind == RK_ROLLBACK)
		buf_adds(&out, k->status == RS_NOT_NEEDED
		                   ? "rollback action (its gate failed; its when: was false)\n"
		                   : "rollback action (ran because the gate failed)\n");
	if (k->destructive)
		buf_adds(&out, "DESTRUCTIVE: deletes or replaces live objects\n");
	if (k->seen && k->status == RS_PASS)
		buf_addf(&out, "seen: %s\n", k->seen);
	if (k->describe)
		buf_addf(&out, "%s\n", k->describe);
	if (k->module)
		buf_addf(&out, "module: %s\n", k->module);
	if (k->attempts > 1)
		buf_addf(&out, "attempts: %d\n", k->attempts);
	if (k->insecure)
		buf_adds(&out, "WARNING: TLS certificate verification was turned off for this "
		               "check (insecure)\n");
	if (k->attest_by)
		buf_addf(&out, "attested by %s%s%s%s%s\n", k->attest_by, k->attest_at ? " at " : "",
		         k->attest_at ? k->attest_at : "", k->attest_note ? ": " : "",
		         k->attest_note ? k->attest_note : "");
	if (k->file)
		buf_addf(&out, "defined at %s:%u:%u\n", k->file, k->line, k->col);
	add_evidence(&out, k->evidence, k->nevidence);
	if (documented == k)
		collectors_of(&out, st);
	if (out.len)
		text_element(w, "system-out", out.data);
	xmlTextWriterEndElement(w);

	buf_release(&out);
	free(time);
	free(name);
}

/* blocker: the check that stopped the run (found once per document). */
static void write_phase(xmlTextWriterPtr w, const struct run_result *r, size_t idx,
			const struct res_check *blocker)
{
	const struct res_phase *ph = &r->phases[idx];
	struct jcount c = {0};
	count_phase(ph, &c);
	char *name = xasprintf("%s %s", or_default(ph->id, "?"), or_default(ph->name, ""));
	char *time = fmt_time(ph->duration_s);
	const char *started = ph->started_at ? ph->started_at : r->started_at;
	struct buf out;
	buf_init(&out, 0);

	xmlTextWriterStartElement(w, BAD_CAST "testsuite");
	attr(w, "name", name);
	attr_size(w, "tests", c.tests);
	attr_size(w, "failures", c.failures);
	attr_size(w, "errors", c.errors);
	attr_size(w, "skipped", c.skipped);
	xmlTextWriterWriteAttribute(w, BAD_CAST "time", BAD_CAST time);
	if (started) {
		char *ts = timestamp_no_zone(started);
		attr(w, "timestamp", ts);
		free(ts);
	}
	if (r->hostname)
		attr(w, "hostname", r->hostname);
	attr_size(w, "id", idx);
	attr(w, "package", or_default(r->suite_name, "suite"));

	xmlTextWriterStartElement(w, BAD_CAST "properties");
	property(w, "suite", r->suite_name);
	property(w, "environment", r->environment);
	property(w, "run_id", r->run_id);
	property(w, "verdict", r->verdict);
	property(w, "reason", r->reason);
	if (r->keep_going)
		property(w, "keep_going", "true");
	if (r->interrupted) {
		char *sig = xasprintf("%d", r->interrupted);
		property(w, "interrupted", sig);
		free(sig);
	}
	if (r->dry_run)
		property(w, "dry_run", "true");
	if (r->timed_out)
		property(w, "timed_out", "true");
	if (r->selection)
		property(w, "selection", r->selection);
	protocol_properties(w, r);
	xmlTextWriterEndElement(w);

	char *classname = junit_classname(r, ph);
	for (size_t s = 0; s < ph->nsteps; s++) {
		const struct res_step *st = &ph->steps[s];
		const struct res_check *documented = report_documented_check(st);
		struct names nm;
		names_init(&nm, st);
		for (size_t i = 0; i < st->nchecks; i++)
			if (st->checks[i].kind != RK_COLLECTOR)
				write_testcase(w, r, classname, &nm, i, blocker, documented);
		free(nm.slot);
		/* collectors of a step where nothing failed have no check
		 * to hang on: keep them at the phase level */
		if (!documented)
			collectors_of(&out, st);
	}
	free(classname);
	if (r->keep_going)
		buf_adds(&out, "WARNING: --keep-going overrode the failure protocol: steps ran "
		               "after a failed gate\n");
	if (r->interrupted)
		buf_addf(&out, "WARNING: the run was interrupted by signal %d\n", r->interrupted);
	if (out.len)
		text_element(w, "system-out", out.data);
	xmlTextWriterEndElement(w);

	buf_release(&out);
	free(time);
	free(name);
}

/* libxml2's output goes straight to the stream, through its own small
 * buffer. */
static int to_stream(void *ctx, const char *data, int len)
{
	FILE *out = ctx;
	return fwrite(data, 1, (size_t)len, out) == (size_t)len ? len : -1;
}

static pthread_once_t xml_once = PTHREAD_ONCE_INIT;

int report_junit_emit(const void *arg, FILE *out, struct pg_err *e)
{
	const struct run_result *r = arg;
	/* writers of a set run in threads (runner/outfile.h); libxml2 must be
	 * set up once before two of them use it */
	pthread_once(&xml_once, xmlInitParser);
	xmlOutputBufferPtr ob = xmlOutputBufferCreateIO(to_stream, NULL, out, NULL);
	xmlTextWriterPtr w = ob ? xmlNewTextWriter(ob) : NULL;
	if (!w) {
		/* libxml2 only fails here when out of memory */
		abort();
	}
	struct jcount total = {0};
	for (size_t p = 0; p < r->nphases; p++)
		count_phase(&r->phases[p], &total);
	char *time = fmt_time(r->duration_s);

	xmlTextWriterSetIndent(w, 1);
	xmlTextWriterSetIndentString(w, BAD_CAST "  ");
	xmlTextWriterStartDocument(w, NULL, "UTF-8", NULL);
	xmlTextWriterStartElement(w, BAD_CAST "testsuites");
	attr(w, "name", or_default(r->suite_name, "phasegate"));
	attr_size(w, "tests", total.tests);
	attr_size(w, "failures", total.failures);
	attr_size(w, "errors", total.errors);
	/* no "skipped" here: junit-10.xsd does not allow it on <testsuites> */
	xmlTextWriterWriteAttribute(w, BAD_CAST "time", BAD_CAST time);
	const struct res_check *blocker = report_blocking_check(r);
	for (size_t p = 0; p < r->nphases && !ferror(out); p++)
		write_phase(w, r, p, blocker);
	xmlTextWriterEndElement(w);
	/* ending the document flushes; freeing the writer closes ob */
	int rc = xmlTextWriterEndDocument(w) < 0 ? -1 : 0;
	xmlFreeTextWriter(w);
	free(time);
	if (rc != 0 && !ferror(out))
		pg_error(e, "the JUnit report could not be written");
	return rc;
}

char *report_junit_render(const struct run_result *r)
{
	return report_render(report_junit_emit, r);
}

int report_junit_write(const struct run_result *r, const char *path, struct pg_err *e)
{
	return report_write(report_junit_emit, r, path, e);
}
