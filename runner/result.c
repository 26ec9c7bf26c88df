/* result.c - the result model: status names, totals and step/phase status,
 * release, and the JSON form (schema_version 1, documented field by field
 * in docs/results-json.md) written by the JSON report and read back by
 * "phasegate report". Every field of struct run_result is carried, so a
 * round trip through JSON is lossless. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "result.h"

#define RESULT_SCHEMA_VERSION 1
#define RESULT_FILE_MAX ((size_t)256 * 1024 * 1024)

static const char *const status_names[] = {
    [RS_PASS] = "pass", [RS_FAIL] = "fail",       [RS_ERROR] = "error",
    [RS_SKIP] = "skip", [RS_PENDING] = "pending", [RS_NOT_SELECTED] = "not_selected",
    [RS_INTERRUPTED] = "interrupted", [RS_NOT_NEEDED] = "not_needed",
};

static const char *const kind_names[] = {
    [RK_CHECK] = "check",
    [RK_ACTION] = "action",
    [RK_COLLECTOR] = "collector",
    [RK_ROLLBACK] = "rollback",
};

const char *res_status_name(enum res_status s)
{
	if ((unsigned)s >= sizeof(status_names) / sizeof(status_names[0]))
		return "unknown";
	return status_names[s];
}

int res_status_parse(const char *s, enum res_status *out)
{
	if (!s)
		return -1;
	for (size_t i = 0; i < sizeof(status_names) / sizeof(status_names[0]); i++) {
		if (strcmp(s, status_names[i]) == 0) {
			*out = (enum res_status)i;
			return 0;
		}
	}
	return -1;
}

static int kind_parse(const char *s, enum res_kind *out)
{
	for (size_t i = 0; i < sizeof(kind_names) / sizeof(kind_names[0]); i++) {
		if (strcmp(s, kind_names[i]) == 0) {
			*out = (enum res_kind)i;
			return 0;
		}
	}
	return -1;
}

/* ---- release ---- */

static void check_release(struct res_check *k)
{
	free(k->id);
	free(k->name);
	free(k->module);
	free(k->severity);
	for (size_t i = 0; i < k->ntags; i++)
		free(k->tags[i]);
	free(k->tags);
	free(k->message);
	free(k->expected);
	free(k->seen);
	free(k->remedy);
	free(k->describe);
	for (size_t i = 0; i < k->nevidence; i++) {
		free(k->evidence[i].title);
		free(k->evidence[i].text);
	}
	free(k->evidence);
	free(k->started_at);
	free(k->metric_name);
	free(k->metric_target);
	free(k->attest_by);
	free(k->attest_at);
	free(k->attest_note);
	free(k->blocked_by);
	free(k->file);
}

static void step_release(struct res_step *s)
{
	free(s->id);
	free(s->name);
	free(s->checkpoint_id);
	free(s->checkpoint_name);
	for (size_t i = 0; i < s->nchecks; i++)
		check_release(&s->checks[i]);
	free(s->checks);
}

static void phase_release(struct res_phase *p)
{
	free(p->id);
	free(p->name);
	free(p->started_at);
	for (size_t i = 0; i < p->nsteps; i++)
		step_release(&p->steps[i]);
	free(p->steps);
}

void result_release(struct run_result *r)
{
	if (!r)
		return;
	free(r->tool_version);
	free(r->suite_name);
	free(r->suite_title);
	free(r->suite_version);
	free(r->environment);
	free(r->run_id);
	free(r->hostname);
	free(r->started_at);
	free(r->finished_at);
	free(r->verdict);
	free(r->reason);
	for (size_t i = 0; i < r->nattest_files; i++)
		free(r->attest_files[i]);
	free(r->attest_files);
	free(r->blocking_gate);
	free(r->blocking_check);
	free(r->selection);
	for (size_t i = 0; i < r->nphases; i++)
		phase_release(&r->phases[i]);
	free(r->phases);
	for (size_t i = 0; i < r->napprovals; i++) {
		struct res_approval *a = &r->approvals[i];
		free(a->id);
		free(a->role);
		free(a->by);
		free(a->at);
		free(a->note);
		free(a->signed_by);
	}
	free(r->approvals);
	for (size_t i = 0; i < r->nvars; i++) {
		free(r->vars[i].name);
		free(r->vars[i].value);
		free(r->vars[i].origin);
	}
	free(r->vars);
	free(r->suite_digest);
	free(r->allowed_signers);
	res_escalation_free(r->escalation);
	res_prior_free(r->prior);
	free(r->rollback_failed);
	memset(r, 0, sizeof(*r));
}

void res_escalation_free(struct res_escalation *x)
{
	if (!x)
		return;
	free(x->check);
	free(x->severity);
	free(x->level);
	free(x->respond_within);
	for (size_t i = 0; i < x->ncontacts; i++)
		free(x->contacts[i]);
	free(x->contacts);
	free(x);
}

static char *dup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

void result_trust_header(struct run_result *r, const char *digest, long long attest_max_age_s,
                         const char *allowed_signers, const struct res_prior *prior)
{
	r->suite_digest = digest && *digest ? xstrdup(digest) : NULL;
	r->has_attest_rules = 1;
	r->attest_max_age_s = attest_max_age_s;
	r->allowed_signers = dup_or_null(allowed_signers);
	if (prior) {
		struct res_prior *x = r->prior = xcalloc(1, sizeof(*x));
		x->path = dup_or_null(prior->path);
		x->run_id = dup_or_null(prior->run_id);
		x->environment = dup_or_null(prior->environment);
		x->finished_at = dup_or_null(prior->finished_at);
		x->suite_digest = dup_or_null(prior->suite_digest);
		x->verdict = dup_or_null(prior->verdict);
	}
}

void res_prior_free(struct res_prior *x)
{
	if (!x)
		return;
	free(x->path);
	free(x->run_id);
	free(x->environment);
	free(x->finished_at);
	free(x->suite_digest);
	free(x->verdict);
	free(x);
}

/* ---- totals ---- */

/* How bad a status is when folding checks into a step and steps into a
 * phase: error > fail > interrupted > pending > skip > pass > not selected
 * (a step where nothing was selected is "not selected"). */
static int status_rank(enum res_status s)
{
	switch (s) {
	case RS_ERROR:
		return 6;
	case RS_FAIL:
		return 5;
	case RS_INTERRUPTED:
		return 4;
	case RS_PENDING:
		return 3;
	case RS_SKIP:
		return 2;
	case RS_PASS:
	case RS_NOT_NEEDED: /* a false when: holds nothing back */
		return 1;
	case RS_NOT_SELECTED:
		break;
	}
	return 0;
}

static enum res_status worse(enum res_status a, enum res_status b)
{
	return status_rank(b) > status_rank(a) ? b : a;
}

static void count_check(struct run_result *r, const struct res_check *k)
{
	if (k->kind == RK_ACTION || k->kind == RK_ROLLBACK) {
		if (k->status == RS_NOT_SELECTED)
			r->actions_not_selected++;
		else if (k->status == RS_NOT_NEEDED)
			r->actions_not_needed++;
		else if (k->status != RS_SKIP && k->status != RS_INTERRUPTED)
			r->actions_run++;
		return;
	}
	r->total++;
	size_t *by_status[] = {
	    [RS_PASS] = &r->passed,
	    [RS_FAIL] = &r->failed,
	    [RS_ERROR] = &r->errors,
	    [RS_SKIP] = &r->skipped,
	    [RS_PENDING] = &r->pending,
	    [RS_NOT_SELECTED] = &r->not_selected,
	    [RS_INTERRUPTED] = &r->interrupted_n,
	};
	if ((unsigned)k->status < sizeof(by_status) / sizeof(by_status[0]))
		(*by_status[k->status])++;
}

void result_count(struct run_result *r)
{
	r->total = r->passed = r->failed = r->errors = r->skipped = r->pending = 0;
	r->not_selected = r->interrupted_n = r->actions_run = r->actions_not_selected = 0;
	r->actions_not_needed = 0;
	for (size_t p = 0; p < r->nphases; p++) {
		struct res_phase *ph = &r->phases[p];
		enum res_status pst = RS_NOT_SELECTED;
		for (size_t s = 0; s < ph->nsteps; s++) {
			struct res_step *st = &ph->steps[s];
			enum res_status sst = RS_NOT_SELECTED;
			size_t entries = 0;
			for (size_t c = 0; c < st->nchecks; c++) {
				struct res_check *k = &st->checks[c];
				/* collectors are evidence and rollbacks repair: neither is
				 * the step's verdict */
				if (k->kind == RK_COLLECTOR)
					continue;
				if (k->kind != RK_ROLLBACK) {
					sst = worse(sst, k->status == RS_NOT_NEEDED ? RS_PASS
					                                            : k->status);
					entries++;
				}
				count_check(r, k);
			}
			if (!entries)
				sst = RS_PASS; /* a step with nothing in it holds nothing back */
			st->status = sst;
			pst = worse(pst, sst);
		}
		ph->status = pst;
	}
}

/* ---- to JSON ---- */

static json_t *jstr(const char *s)
{
	return s ? json_string(s) : json_null();
}

/* json_string() refuses invalid UTF-8; outside text may contain it. Bytes
 * that are not UTF-8 are kept as U+FFFD rather than dropping the field. */
static json_t *jtext(const char *s)
{
	return s ? json_from_bytes(s, strlen(s)) : json_null();
}

/* json_real() refuses NaN and infinities, which JSON cannot carry. */
static json_t *jnum(double d)
{
	return json_real(isfinite(d) ? d : 0.0);
}

static void set(json_t *o, const char *key, json_t *v)
{
	json_object_set_new(o, key, v);
}

json_t *result_check_to_json(const struct res_check *k)
{
	json_t *o = json_object();
	set(o, "id", jtext(k->id));
	set(o, "name", jtext(k->name));
	set(o, "module", jtext(k->module));
	set(o, "kind", json_string(kind_names[k->kind <= RK_ROLLBACK ? k->kind : RK_CHECK]));
	set(o, "gate", json_boolean(k->gate));
	set(o, "severity", jtext(k->severity));
	json_t *tags = json_array();
	for (size_t i = 0; i < k->ntags; i++)
		json_array_append_new(tags, jtext(k->tags[i]));
	set(o, "tags", tags);
	set(o, "status", json_string(res_status_name(k->status)));
	set(o, "message", jtext(k->message));
	set(o, "expected", jtext(k->expected));
	set(o, "seen", jtext(k->seen));
	set(o, "remedy", jtext(k->remedy));
	set(o, "describe", jtext(k->describe));
	json_t *ev = json_array();
	for (size_t i = 0; i < k->nevidence; i++) {
		json_t *e = json_object();
		set(e, "title", jtext(k->evidence[i].title));
		set(e, "text", jtext(k->evidence[i].text));
		json_array_append_new(ev, e);
	}
	set(o, "evidence", ev);
	set(o, "attempts", json_integer(k->attempts));
	set(o, "duration_s", jnum(k->duration_s));
	set(o, "started_at", jstr(k->started_at));
	set(o, "insecure", json_boolean(k->insecure));
	set(o, "metric_name", jtext(k->metric_name));
	set(o, "metric_target", jtext(k->metric_target));
	set(o, "attest_by", jtext(k->attest_by));
	set(o, "attest_at", jtext(k->attest_at));
	set(o, "attest_note", jtext(k->attest_note));
	set(o, "blocked_by", jtext(k->blocked_by));
	set(o, "destructive", json_boolean(k->destructive));
	set(o, "timed_out", json_boolean(k->timed_out));
	set(o, "file", jtext(k->file));
	set(o, "line", json_integer(k->line));
	set(o, "col", json_integer(k->col));
	return o;
}

json_t *result_step_to_json(const struct res_step *s, int with_checks)
{
	json_t *o = json_object();
	set(o, "id", jtext(s->id));
	set(o, "name", jtext(s->name));
	set(o, "checkpoint_id", jtext(s->checkpoint_id));
	set(o, "checkpoint_name", jtext(s->checkpoint_name));
	set(o, "status", json_string(res_status_name(s->status)));
	json_t *a = json_array();
	for (size_t i = 0; with_checks && i < s->nchecks; i++)
		json_array_append_new(a, result_check_to_json(&s->checks[i]));
	set(o, "checks", a);
	return o;
}

json_t *result_phase_to_json(const struct res_phase *p, int with_steps)
{
	json_t *o = json_object();
	set(o, "id", jtext(p->id));
	set(o, "name", jtext(p->name));
	set(o, "status", json_string(res_status_name(p->status)));
	set(o, "duration_s", jnum(p->duration_s));
	set(o, "started_at", jstr(p->started_at));
	json_t *a = json_array();
	for (size_t i = 0; with_steps && i < p->nsteps; i++)
		json_array_append_new(a, result_step_to_json(&p->steps[i], 1));
	set(o, "steps", a);
	return o;
}

/* The trust fields: the suite's identity and attestation rules (so that
 * "report --attest" judges with them), who to call, the prior run. */
static void trust_to_json(json_t *o, const struct run_result *r)
{
	set(o, "suite_digest", jtext(r->suite_digest));
	set(o, "rollback_failed", jtext(r->rollback_failed));
	set(o, "attestation_rules", json_null());
	set(o, "escalation", json_null());
	set(o, "prior", json_null());
	if (r->has_attest_rules) {
		json_t *x = json_object();
		set(x, "max_age_s", json_integer((json_int_t)r->attest_max_age_s));
		set(x, "allowed_signers", jtext(r->allowed_signers));
		set(o, "attestation_rules", x);
	}
	if (r->escalation) {
		const struct res_escalation *e = r->escalation;
		json_t *x = json_object(), *c = json_array();
		set(x, "check", jtext(e->check));
		set(x, "severity", jtext(e->severity));
		set(x, "level", jtext(e->level));
		set(x, "respond_within", jtext(e->respond_within));
		for (size_t i = 0; i < e->ncontacts; i++)
			json_array_append_new(c, jtext(e->contacts[i]));
		set(x, "contacts", c);
		set(o, "escalation", x);
	}
	if (r->prior) {
		const struct res_prior *p = r->prior;
		json_t *x = json_object();
		set(x, "path", jtext(p->path));
		set(x, "run_id", jtext(p->run_id));
		set(x, "environment", jtext(p->environment));
		set(x, "finished_at", jtext(p->finished_at));
		set(x, "suite_digest", jtext(p->suite_digest));
		set(x, "verdict", jtext(p->verdict));
		set(o, "prior", x);
	}
}

json_t *result_to_json(const struct run_result *r)
{
	return result_run_to_json(r, 1);
}

json_t *result_run_to_json(const struct run_result *r, int with_phases)
{
	json_t *o = json_object();
	set(o, "schema_version", json_integer(RESULT_SCHEMA_VERSION));
	set(o, "tool_version", jtext(r->tool_version));
	set(o, "suite_name", jtext(r->suite_name));
	set(o, "suite_title", jtext(r->suite_title));
	set(o, "suite_version", jtext(r->suite_version));
	set(o, "environment", jtext(r->environment));
	set(o, "run_id", jtext(r->run_id));
	set(o, "hostname", jtext(r->hostname));
	set(o, "started_at", jstr(r->started_at));
	set(o, "finished_at", jstr(r->finished_at));
	set(o, "duration_s", jnum(r->duration_s));
	set(o, "verdict", jtext(r->verdict));
	set(o, "reason", jtext(r->reason));
	set(o, "exit_code", json_integer(r->exit_code));
	set(o, "interrupted", json_integer(r->interrupted));
	set(o, "keep_going", json_boolean(r->keep_going));
	set(o, "dry_run", json_boolean(r->dry_run));
	set(o, "timed_out", json_boolean(r->timed_out));
	set(o, "blocking_gate", jtext(r->blocking_gate));
	set(o, "blocking_check", jtext(r->blocking_check));
	set(o, "selection", jtext(r->selection));
	set(o, "allow_destructive", json_boolean(r->allow_destructive));
	json_t *af = json_array();
	for (size_t i = 0; i < r->nattest_files; i++)
		json_array_append_new(af, jtext(r->attest_files[i]));
	set(o, "attest_files", af);
	json_t *t = json_object();
	set(t, "total", json_integer((json_int_t)r->total));
	set(t, "passed", json_integer((json_int_t)r->passed));
	set(t, "failed", json_integer((json_int_t)r->failed));
	set(t, "errors", json_integer((json_int_t)r->errors));
	set(t, "skipped", json_integer((json_int_t)r->skipped));
	set(t, "pending", json_integer((json_int_t)r->pending));
	set(t, "not_selected", json_integer((json_int_t)r->not_selected));
	set(t, "interrupted", json_integer((json_int_t)r->interrupted_n));
	set(t, "actions_run", json_integer((json_int_t)r->actions_run));
	set(t, "actions_not_selected", json_integer((json_int_t)r->actions_not_selected));
	if (r->actions_not_needed) /* only when some when: was false: older files stay as they were */
		set(t, "actions_not_needed", json_integer((json_int_t)r->actions_not_needed));
	set(o, "totals", t);
	json_t *a = json_array();
	for (size_t i = 0; with_phases && i < r->nphases; i++)
		json_array_append_new(a, result_phase_to_json(&r->phases[i], 1));
	set(o, "phases", a);
	a = json_array();
	for (size_t i = 0; i < r->napprovals; i++) {
		const struct res_approval *ap = &r->approvals[i];
		json_t *x = json_object();
		set(x, "id", jtext(ap->id));
		set(x, "role", jtext(ap->role));
		set(x, "attested", json_boolean(ap->attested));
		set(x, "by", jtext(ap->by));
		set(x, "at", jtext(ap->at));
		set(x, "note", jtext(ap->note));
		set(x, "signed_by", jtext(ap->signed_by));
		json_array_append_new(a, x);
	}
	set(o, "approvals", a);
	a = json_array();
	for (size_t i = 0; i < r->nvars; i++) {
		json_t *x = json_object();
		set(x, "name", jtext(r->vars[i].name));
		set(x, "value", jtext(r->vars[i].value));
		set(x, "origin", jtext(r->vars[i].origin));
		json_array_append_new(a, x);
	}
	set(o, "vars", a);
	trust_to_json(o, r);
	return o;
}

/* ---- from JSON ----
 * A reader walks the document carrying the path of the object it is in
 * ("phases[1].steps[0]") so that every error names the offending field. */

struct jrd {
	struct pg_err *e;
	int failed; /* first error already reported */
};

static int jrd_fail(struct jrd *rd, const char *path, const char *key, const char *what)
{
	if (!rd->failed)
		pg_error(rd->e, "results JSON: %s%s%s: %s", path, *path ? "." : "", key, what);
	rd->failed = 1;
	return -1;
}

/* Optional or required string; JSON null and a missing key give NULL. */
static int rd_str(struct jrd *rd, json_t *o, const char *path, const char *key, int required,
                  char **out)
{
	json_t *v = json_object_get(o, key);
	if (!v || json_is_null(v)) {
		if (required)
			return jrd_fail(rd, path, key, "missing required field");
		return 0;
	}
	if (!json_is_string(v))
		return jrd_fail(rd, path, key, "must be a string");
	*out = xstrndup(json_string_value(v), json_string_length(v));
	return 0;
}

static int rd_bool(struct jrd *rd, json_t *o, const char *path, const char *key, int *out)
{
	json_t *v = json_object_get(o, key);
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_boolean(v))
		return jrd_fail(rd, path, key, "must be true or false");
	*out = json_is_true(v);
	return 0;
}

static int rd_int(struct jrd *rd, json_t *o, const char *path, const char *key, long long min,
                  long long max, long long *out)
{
	json_t *v = json_object_get(o, key);
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_integer(v))
		return jrd_fail(rd, path, key, "must be an integer");
	json_int_t x = json_integer_value(v);
	if (x < min || x > max)
		return jrd_fail(rd, path, key, "out of range");
	*out = x;
	return 0;
}

static int rd_num(struct jrd *rd, json_t *o, const char *path, const char *key, double *out)
{
	json_t *v = json_object_get(o, key);
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_number(v))
		return jrd_fail(rd, path, key, "must be a number");
	*out = json_number_value(v);
	return 0;
}

static int rd_status(struct jrd *rd, json_t *o, const char *path, enum res_status *out)
{
	char *s = NULL;
	if (rd_str(rd, o, path, "status", 1, &s) < 0)
		return -1;
	int rc = res_status_parse(s, out);
	free(s);
	if (rc < 0)
		return jrd_fail(rd, path, "status",
		                "must be one of pass, fail, error, skip, pending, not_selected, "
		                "interrupted, not_needed");
	return 0;
}

/* Returns the array at key (NULL when absent and optional); *n its size. */
static json_t *rd_array(struct jrd *rd, json_t *o, const char *path, const char *key, int required,
                        size_t *n)
{
	json_t *v = json_object_get(o, key);
	*n = 0;
	if (!v || json_is_null(v)) {
		if (required)
			jrd_fail(rd, path, key, "missing required field");
		return NULL;
	}
	if (!json_is_array(v)) {
		jrd_fail(rd, path, key, "must be an array");
		return NULL;
	}
	*n = json_array_size(v);
	return v;
}

static int want_object(struct jrd *rd, json_t *v, const char *path)
{
	if (json_is_object(v))
		return 0;
	if (!rd->failed)
		pg_error(rd->e, "results JSON: %s: must be an object", path);
	rd->failed = 1;
	return -1;
}

static void check_from_json(struct jrd *rd, json_t *o, const char *path, struct res_check *k)
{
	if (want_object(rd, o, path) < 0)
		return;
	char *kind = NULL;
	long long v;
	rd_str(rd, o, path, "id", 1, &k->id);
	rd_str(rd, o, path, "name", 0, &k->name);
	rd_str(rd, o, path, "module", 0, &k->module);
	if (rd_str(rd, o, path, "kind", 1, &kind) == 0 && kind_parse(kind, &k->kind) < 0)
		jrd_fail(rd, path, "kind", "must be one of check, action, collector, rollback");
	free(kind);
	rd_bool(rd, o, path, "gate", &k->gate);
	rd_str(rd, o, path, "severity", 0, &k->severity);
	size_t n;
	json_t *a = rd_array(rd, o, path, "tags", 0, &n);
	if (a) {
		k->tags = xcalloc(n ? n : 1, sizeof(*k->tags));
		for (size_t i = 0; i < n; i++) {
			json_t *t = json_array_get(a, i);
			if (!json_is_string(t)) {
				jrd_fail(rd, path, "tags", "must be an array of strings");
				break;
			}
			k->tags[k->ntags++] = xstrdup(json_string_value(t));
		}
	}
	if (rd_status(rd, o, path, &k->status) == 0 && k->status == RS_NOT_NEEDED &&
	    k->kind == RK_CHECK)
		jrd_fail(
		    rd, path, "status",
		    "not_needed is for actions, rollbacks and collectors (a check has no when:)");
	rd_str(rd, o, path, "message", 0, &k->message);
	rd_str(rd, o, path, "expected", 0, &k->expected);
	rd_str(rd, o, path, "seen", 0, &k->seen);
	rd_str(rd, o, path, "remedy", 0, &k->remedy);
	rd_str(rd, o, path, "describe", 0, &k->describe);
	a = rd_array(rd, o, path, "evidence", 0, &n);
	if (a) {
		k->evidence = xcalloc(n ? n : 1, sizeof(*k->evidence));
		for (size_t i = 0; i < n && !rd->failed; i++) {
			char *sub = xasprintf("%s.evidence[%zu]", path, i);
			json_t *x = json_array_get(a, i);
			if (want_object(rd, x, sub) == 0) {
				struct res_evidence *ev = &k->evidence[k->nevidence++];
				rd_str(rd, x, sub, "title", 0, &ev->title);
				rd_str(rd, x, sub, "text", 0, &ev->text);
			}
			free(sub);
		}
	}
	v = k->attempts;
	rd_int(rd, o, path, "attempts", 0, 1000000000, &v);
	k->attempts = (int)v;
	rd_num(rd, o, path, "duration_s", &k->duration_s);
	rd_str(rd, o, path, "started_at", 0, &k->started_at);
	rd_bool(rd, o, path, "insecure", &k->insecure);
	rd_str(rd, o, path, "metric_name", 0, &k->metric_name);
	rd_str(rd, o, path, "metric_target", 0, &k->metric_target);
	rd_str(rd, o, path, "attest_by", 0, &k->attest_by);
	rd_str(rd, o, path, "attest_at", 0, &k->attest_at);
	rd_str(rd, o, path, "attest_note", 0, &k->attest_note);
	rd_str(rd, o, path, "blocked_by", 0, &k->blocked_by);
	rd_bool(rd, o, path, "destructive", &k->destructive);
	rd_bool(rd, o, path, "timed_out", &k->timed_out);
	rd_str(rd, o, path, "file", 0, &k->file);
	v = k->line;
	rd_int(rd, o, path, "line", 0, 4294967295LL, &v);
	k->line = (unsigned)v;
	v = k->col;
	rd_int(rd, o, path, "col", 0, 4294967295LL, &v);
	k->col = (unsigned)v;
}

static void step_from_json(struct jrd *rd, json_t *o, const char *path, struct res_step *s)
{
	if (want_object(rd, o, path) < 0)
		return;
	rd_str(rd, o, path, "id", 1, &s->id);
	rd_str(rd, o, path, "name", 0, &s->name);
	rd_str(rd, o, path, "checkpoint_id", 0, &s->checkpoint_id);
	rd_str(rd, o, path, "checkpoint_name", 0, &s->checkpoint_name);
	rd_status(rd, o, path, &s->status);
	size_t n;
	json_t *a = rd_array(rd, o, path, "checks", 1, &n);
	if (!a)
		return;
	s->checks = xcalloc(n ? n : 1, sizeof(*s->checks));
	for (size_t i = 0; i < n && !rd->failed; i++) {
		char *sub = xasprintf("%s.checks[%zu]", path, i);
		check_from_json(rd, json_array_get(a, i), sub, &s->checks[s->nchecks++]);
		free(sub);
	}
}

static void phase_from_json(struct jrd *rd, json_t *o, const char *path, struct res_phase *p)
{
	if (want_object(rd, o, path) < 0)
		return;
	rd_str(rd, o, path, "id", 1, &p->id);
	rd_str(rd, o, path, "name", 0, &p->name);
	rd_status(rd, o, path, &p->status);
	rd_num(rd, o, path, "duration_s", &p->duration_s);
	rd_str(rd, o, path, "started_at", 0, &p->started_at);
	size_t n;
	json_t *a = rd_array(rd, o, path, "steps", 1, &n);
	if (!a)
		return;
	p->steps = xcalloc(n ? n : 1, sizeof(*p->steps));
	for (size_t i = 0; i < n && !rd->failed; i++) {
		char *sub = xasprintf("%s.steps[%zu]", path, i);
		step_from_json(rd, json_array_get(a, i), sub, &p->steps[p->nsteps++]);
		free(sub);
	}
}

static void totals_from_json(struct jrd *rd, json_t *o, struct run_result *r)
{
	json_t *t = json_object_get(o, "totals");
	if (!t || json_is_null(t)) {
		result_count(r); /* older writers: derive them */
		return;
	}
	if (want_object(rd, t, "totals") < 0)
		return;
	const char *keys[] = {"total",
	                      "passed",
	                      "failed",
	                      "errors",
	                      "skipped",
	                      "pending",
	                      "not_selected",
	                      "interrupted",
	                      "actions_run",
	                      "actions_not_selected",
	                      "actions_not_needed"};
	size_t *dst[] = {&r->total,
	                 &r->passed,
	                 &r->failed,
	                 &r->errors,
	                 &r->skipped,
	                 &r->pending,
	                 &r->not_selected,
	                 &r->interrupted_n,
	                 &r->actions_run,
	                 &r->actions_not_selected,
	                 &r->actions_not_needed};
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		long long v = 0;
		rd_int(rd, t, "totals", keys[i], 0, 1LL << 40, &v);
		*dst[i] = (size_t)v;
	}
}

static void trust_from_json(struct jrd *rd, json_t *j, struct run_result *r)
{
	json_t *x;
	size_t n;
	rd_str(rd, j, "", "suite_digest", 0, &r->suite_digest);
	rd_str(rd, j, "", "rollback_failed", 0, &r->rollback_failed);
	if ((x = json_object_get(j, "attestation_rules")) && !json_is_null(x) &&
	    want_object(rd, x, "attestation_rules") == 0) {
		r->has_attest_rules = 1;
		rd_int(rd, x, "attestation_rules", "max_age_s", 0, (long long)1 << 40,
		       &r->attest_max_age_s);
		rd_str(rd, x, "attestation_rules", "allowed_signers", 0, &r->allowed_signers);
	}
	if ((x = json_object_get(j, "escalation")) && !json_is_null(x) &&
	    want_object(rd, x, "escalation") == 0) {
		struct res_escalation *e = r->escalation = xcalloc(1, sizeof(*e));
		rd_str(rd, x, "escalation", "check", 0, &e->check);
		rd_str(rd, x, "escalation", "severity", 0, &e->severity);
		rd_str(rd, x, "escalation", "level", 0, &e->level);
		rd_str(rd, x, "escalation", "respond_within", 0, &e->respond_within);
		json_t *a = rd_array(rd, x, "escalation", "contacts", 0, &n);
		e->contacts = xcalloc(n + 1, sizeof(*e->contacts));
		for (size_t i = 0; a && i < n; i++) {
			json_t *c = json_array_get(a, i);
			if (!json_is_string(c)) {
				jrd_fail(rd, "escalation", "contacts", "must be an array of strings");
				break;
			}
			e->contacts[e->ncontacts++] = xstrdup(json_string_value(c));
		}
	}
	if ((x = json_object_get(j, "prior")) && !json_is_null(x) &&
	    want_object(rd, x, "prior") == 0) {
		struct res_prior *p = r->prior = xcalloc(1, sizeof(*p));
		rd_str(rd, x, "prior", "path", 0, &p->path);
		rd_str(rd, x, "prior", "run_id", 0, &p->run_id);
		rd_str(rd, x, "prior", "environment", 0, &p->environment);
		rd_str(rd, x, "prior", "finished_at", 0, &p->finished_at);
		rd_str(rd, x, "prior", "suite_digest", 0, &p->suite_digest);
		rd_str(rd, x, "prior", "verdict", 0, &p->verdict);
	}
}

int result_from_json(struct run_result *r, json_t *j, struct pg_err *e)
{
	struct jrd rd = {.e = e};
	memset(r, 0, sizeof(*r));
	if (!json_is_object(j))
		return pg_error(e, "results JSON: the document must be an object");
	json_t *sv = json_object_get(j, "schema_version");
	if (!sv)
		return pg_error(e, "results JSON: schema_version: missing required field "
		                   "(is this a phasegate results file?)");
	if (!json_is_integer(sv) || json_integer_value(sv) != RESULT_SCHEMA_VERSION)
		return pg_error(e,
		                "results JSON: schema_version is %s, this phasegate reads "
		                "version %d",
		                json_is_integer(sv) ? "not supported" : "not an integer",
		                RESULT_SCHEMA_VERSION);
	r->schema_version = RESULT_SCHEMA_VERSION;
	long long v;
	rd_str(&rd, j, "", "tool_version", 0, &r->tool_version);
	rd_str(&rd, j, "", "suite_name", 1, &r->suite_name);
	rd_str(&rd, j, "", "suite_title", 0, &r->suite_title);
	rd_str(&rd, j, "", "suite_version", 0, &r->suite_version);
	rd_str(&rd, j, "", "environment", 0, &r->environment);
	rd_str(&rd, j, "", "run_id", 0, &r->run_id);
	rd_str(&rd, j, "", "hostname", 0, &r->hostname);
	rd_str(&rd, j, "", "started_at", 0, &r->started_at);
	rd_str(&rd, j, "", "finished_at", 0, &r->finished_at);
	rd_num(&rd, j, "", "duration_s", &r->duration_s);
	rd_str(&rd, j, "", "verdict", 1, &r->verdict);
	rd_str(&rd, j, "", "reason", 0, &r->reason);
	v = 0;
	rd_int(&rd, j, "", "exit_code", 0, 255, &v);
	r->exit_code = (int)v;
	v = 0;
	rd_int(&rd, j, "", "interrupted", 0, 255, &v);
	r->interrupted = (int)v;
	rd_bool(&rd, j, "", "keep_going", &r->keep_going);
	rd_bool(&rd, j, "", "dry_run", &r->dry_run);
	rd_bool(&rd, j, "", "timed_out", &r->timed_out);
	rd_str(&rd, j, "", "blocking_gate", 0, &r->blocking_gate);
	rd_str(&rd, j, "", "blocking_check", 0, &r->blocking_check);
	rd_str(&rd, j, "", "selection", 0, &r->selection);
	rd_bool(&rd, j, "", "allow_destructive", &r->allow_destructive);

	size_t n;
	json_t *a = rd_array(&rd, j, "", "phases", 1, &n);
	if (a) {
		r->phases = xcalloc(n ? n : 1, sizeof(*r->phases));
		for (size_t i = 0; i < n && !rd.failed; i++) {
			char *sub = xasprintf("phases[%zu]", i);
			phase_from_json(&rd, json_array_get(a, i), sub, &r->phases[r->nphases++]);
			free(sub);
		}
	}
	a = rd_array(&rd, j, "", "approvals", 0, &n);
	if (a) {
		r->approvals = xcalloc(n ? n : 1, sizeof(*r->approvals));
		for (size_t i = 0; i < n && !rd.failed; i++) {
			char *sub = xasprintf("approvals[%zu]", i);
			json_t *x = json_array_get(a, i);
			if (want_object(&rd, x, sub) == 0) {
				struct res_approval *ap = &r->approvals[r->napprovals++];
				rd_str(&rd, x, sub, "id", 1, &ap->id);
				rd_str(&rd, x, sub, "role", 0, &ap->role);
				rd_bool(&rd, x, sub, "attested", &ap->attested);
				rd_str(&rd, x, sub, "by", 0, &ap->by);
				rd_str(&rd, x, sub, "at", 0, &ap->at);
				rd_str(&rd, x, sub, "note", 0, &ap->note);
				rd_str(&rd, x, sub, "signed_by", 0, &ap->signed_by);
			}
			free(sub);
		}
	}
	a = rd_array(&rd, j, "", "attest_files", 0, &n);
	if (a) {
		r->attest_files = xcalloc(n ? n : 1, sizeof(*r->attest_files));
		for (size_t i = 0; i < n && !rd.failed; i++) {
			json_t *x = json_array_get(a, i);
			if (!json_is_string(x))
				jrd_fail(&rd, "", "attest_files", "must be an array of strings");
			else
				r->attest_files[r->nattest_files++] = xstrdup(json_string_value(x));
		}
	}
	a = rd_array(&rd, j, "", "vars", 0, &n);
	if (a) {
		r->vars = xcalloc(n ? n : 1, sizeof(*r->vars));
		for (size_t i = 0; i < n && !rd.failed; i++) {
			char *sub = xasprintf("vars[%zu]", i);
			json_t *x = json_array_get(a, i);
			if (want_object(&rd, x, sub) == 0) {
				struct res_var *rv = &r->vars[r->nvars++];
				rd_str(&rd, x, sub, "name", 1, &rv->name);
				rd_str(&rd, x, sub, "value", 0, &rv->value);
				rd_str(&rd, x, sub, "origin", 0, &rv->origin);
			}
			free(sub);
		}
	}
	if (!rd.failed)
		totals_from_json(&rd, j, r);
	if (!rd.failed)
		trust_from_json(&rd, j, r);
	if (rd.failed) {
		result_release(r);
		return -1;
	}
	return 0;
}

int result_load_file(struct run_result *r, const char *path, struct pg_err *e)
{
	char *data = NULL;
	size_t len = 0;
	json_error_t je;
	int rc = -1;
	memset(r, 0, sizeof(*r));
	if (read_file_capped(path, RESULT_FILE_MAX, &data, &len, e) < 0)
		return -1;
	json_t *j = json_loadb(data, len, 0, &je);
	if (!j) {
		pg_error(e, "%s:%d:%d: not valid JSON: %s", path, je.line, je.column, je.text);
		goto out_data;
	}
	struct pg_err inner;
	if (result_from_json(r, j, &inner) < 0) {
		pg_error(e, "%s: %s", path, inner.msg);
		goto out_json;
	}
	rc = 0;
out_json:
	json_decref(j);
out_data:
	free(data);
	return rc;
}
