/* model.c - result models for the report and result tests (see model.h). */
#include <stdlib.h>
#include <string.h>

#include "model.h"
#include "../../runner/verdict.h"

/* Grows an array by one zeroed element and returns it. */
static void *grow(void **v, size_t *n, size_t size)
{
	*v = xrealloc(*v, (*n + 1) * size);
	char *el = (char *)*v + *n * size;
	memset(el, 0, size);
	(*n)++;
	return el;
}

struct res_phase *model_phase(struct run_result *r, const char *id, const char *name,
                              double duration_s)
{
	struct res_phase *p = grow((void **)&r->phases, &r->nphases, sizeof(*p));
	p->id = xstrdup(id);
	p->name = xstrdup(name);
	p->duration_s = duration_s;
	p->started_at = xstrdup("2026-11-26T09:10:22Z");
	return p;
}

struct res_step *model_step(struct res_phase *p, const char *id, const char *name,
                            const char *checkpoint_id)
{
	struct res_step *s = grow((void **)&p->steps, &p->nsteps, sizeof(*s));
	s->id = xstrdup(id);
	s->name = xstrdup(name);
	s->checkpoint_id = xstrdup(checkpoint_id);
	s->checkpoint_name = checkpoint_id ? xasprintf("Checkpoint %s", id) : NULL;
	return s;
}

struct res_check *model_check(struct res_step *s, enum res_kind kind, const char *id,
                              const char *name, enum res_status st, double duration_s)
{
	struct res_check *k = grow((void **)&s->checks, &s->nchecks, sizeof(*k));
	k->id = xstrdup(id);
	k->name = xstrdup(name);
	k->module = xstrdup(kind == RK_ACTION ? "k8s" : "http");
	k->kind = kind;
	k->gate = kind == RK_CHECK;
	k->status = st;
	k->duration_s = duration_s;
	k->attempts = st == RS_SKIP || st == RS_PENDING ? 0 : 1;
	if (st != RS_SKIP && st != RS_PENDING)
		k->started_at = xstrdup("2026-11-26T09:10:23Z");
	return k;
}

void model_evidence(struct res_check *k, const char *title, const char *text)
{
	struct res_evidence *e = grow((void **)&k->evidence, &k->nevidence, sizeof(*e));
	e->title = xstrdup(title);
	e->text = xstrdup(text);
}

void model_approval(struct run_result *r, const char *id, const char *role, const char *by,
                    const char *at, const char *note)
{
	struct res_approval *a = grow((void **)&r->approvals, &r->napprovals, sizeof(*a));
	a->id = xstrdup(id);
	a->role = xstrdup(role);
	a->attested = by != NULL;
	a->by = xstrdup(by);
	a->at = xstrdup(at);
	a->note = xstrdup(note);
}

void model_var(struct run_result *r, const char *name, const char *value, const char *origin)
{
	struct res_var *v = grow((void **)&r->vars, &r->nvars, sizeof(*v));
	v->name = xstrdup(name);
	v->value = xstrdup(value);
	v->origin = xstrdup(origin);
}

static void model_header(struct run_result *r, const char *verdict, int exit_code)
{
	memset(r, 0, sizeof(*r));
	r->schema_version = 1;
	r->tool_version = xstrdup("0.1.0");
	r->suite_name = xstrdup("argocd-stabilization");
	r->suite_title = xstrdup("Argo CD stabilization");
	r->suite_version = xstrdup("1.4");
	r->environment = xstrdup("production");
	r->run_id = xstrdup("run-20261126-0910");
	r->hostname = xstrdup("ci-runner-7");
	r->started_at = xstrdup("2026-11-26T09:10:22Z");
	r->finished_at = xstrdup("2026-11-26T09:12:52Z");
	r->duration_s = 150.25;
	r->verdict = xstrdup(verdict);
	r->exit_code = exit_code;
}

static void skip_blocked(struct res_check *k, const char *gate)
{
	k->blocked_by = xstrdup(gate);
	k->message = xasprintf("blocked by gate %s", gate);
}

void model_four_phase(struct run_result *r)
{
	model_header(r, "NO-GO", 1);
	r->blocking_gate = xstrdup("checkpoint-2.1");
	r->blocking_check = xstrdup("server-ready");

	struct res_phase *p = model_phase(r, "1", "Pre-flight", 12.5);
	struct res_step *s = model_step(p, "1.1", "Cluster access", "checkpoint-1.1");
	model_check(s, RK_ACTION, "label-ns", "Label the argocd namespace", RS_PASS, 0.2);
	model_check(s, RK_CHECK, "api-reachable", "API server reachable", RS_PASS, 0.12);
	model_check(s, RK_CHECK, "ns-exists", "argocd namespace exists", RS_PASS, 0.05);
	s = model_step(p, "1.2", "Baseline metrics", "checkpoint-1.2");
	struct res_check *k =
	    model_check(s, RK_CHECK, "sync-rate", "Sync success rate", RS_PASS, 1);
	k->metric_name = xstrdup("Sync success rate");
	k->metric_target = xstrdup(">= 99%");
	k->seen = xstrdup("99.7%");

	p = model_phase(r, "2", "Component Deployment", 95.125);
	s = model_step(p, "2.1", "ArgoCD Server HA Deployment", "checkpoint-2.1");
	model_check(s, RK_ACTION, "apply-ha", "Apply HA manifests", RS_PASS, 3.5);
	model_check(s, RK_CHECK, "server-replicas", "Server has 3 replicas", RS_PASS, 0.3);
	k = model_check(s, RK_CHECK, "server-ready", "All server pods ready", RS_FAIL, 60.0004);
	k->message = xstrdup("2 of 3 replicas ready");
	k->expected = xstrdup("status.readyReplicas == 3");
	k->seen = xstrdup("2");
	k->remedy = xstrdup("Check the pod events and the node resources");
	k->describe = xstrdup("GET /apis/apps/v1/namespaces/argocd/deployments/argocd-server");
	k->attempts = 12;
	k->severity = xstrdup("critical");
	k->file = xstrdup("phases/02-components.yaml");
	k->line = 41;
	k->col = 7;
	model_evidence(k, "deployment as seen", "readyReplicas: 2\nreplicas: 3\n");
	k = model_check(s, RK_CHECK, "server-latency", "Server answers quickly", RS_ERROR, 5);
	k->gate = 0;
	k->message = xstrdup("connection refused");
	k->insecure = 1;
	k = model_check(s, RK_COLLECTOR, "events", "Events in argocd", RS_PASS, 0.4);
	k->describe = xstrdup("events in argocd");
	model_evidence(k, "on_failure: events in argocd",
	               "Warning FailedScheduling pod/argocd-server-2 0/3 nodes available");
	s = model_step(p, "2.2", "Repo server", "checkpoint-2.2");
	k = model_check(s, RK_CHECK, "repo-ready", "Repo server ready", RS_SKIP, 0);
	skip_blocked(k, "checkpoint-2.1");

	p = model_phase(r, "3", "Networking", 0);
	s = model_step(p, "3.1", "Ingress", "checkpoint-3.1");
	k = model_check(s, RK_ACTION, "apply-ingress", "Apply ingress", RS_SKIP, 0);
	skip_blocked(k, "checkpoint-2.1");
	k = model_check(s, RK_CHECK, "ingress-200", "UI answers 200", RS_SKIP, 0);
	skip_blocked(k, "checkpoint-2.1");
	k = model_check(s, RK_CHECK, "dns-a", "DNS A record", RS_SKIP, 0);
	skip_blocked(k, "checkpoint-2.1");

	p = model_phase(r, "4", "Go-live", 0);
	s = model_step(p, "4.1", "Sign-off", "checkpoint-4.1");
	k = model_check(s, RK_CHECK, "team-trained", "Support team trained", RS_SKIP, 0);
	k->module = (free(k->module), xstrdup("manual"));
	skip_blocked(k, "checkpoint-2.1");
	k = model_check(s, RK_CHECK, "uptime", "Uptime", RS_SKIP, 0);
	k->metric_name = xstrdup("Uptime");
	k->metric_target = xstrdup("99.9%");
	skip_blocked(k, "checkpoint-2.1");

	model_approval(r, "approve-ops", "Operations lead", "Jane Doe", "2026-11-20", "ok");
	model_approval(r, "approve-sec", "Security", NULL, NULL, NULL);
	model_var(r, "namespace", "argocd", "suite");
	model_var(r, "token", "********", "env:ARGOCD_AUTH_TOKEN");
	verdict_judge(r); /* counts, verdict and reason as a run gives them */
}

void model_pending(struct run_result *r)
{
	model_header(r, "PENDING", 0);
	struct res_phase *p = model_phase(r, "8", "Go-live readiness", 2);
	struct res_step *s = model_step(p, "8.1", "Checklist", "checkpoint-8.1");
	model_check(s, RK_CHECK, "backup-ok", "Backup verified", RS_PASS, 0.5);
	model_check(s, RK_CHECK, "alerts", "25+ alert rules configured", RS_PASS, 0.25);
	struct res_check *k = model_check(s, RK_CHECK, "runbook", "Runbook reviewed", RS_PASS, 0);
	k->module = (free(k->module), xstrdup("manual"));
	k->attest_by = xstrdup("Sam Lee");
	k->attest_at = xstrdup("2026-11-25T16:00:00Z");
	k->attest_note = xstrdup("reviewed with on-call");
	k = model_check(s, RK_CHECK, "team-trained", "Support team trained", RS_PENDING, 0);
	k->module = (free(k->module), xstrdup("manual"));
	k = model_check(s, RK_CHECK, "dr-drill", "DR drill done", RS_PENDING, 0);
	k->module = (free(k->module), xstrdup("manual"));
	model_approval(r, "approve-ops", "Operations lead", "Jane Doe", "2026-11-20", "ok");
	model_approval(r, "approve-sec", "Security", NULL, NULL, NULL);
	model_approval(r, "approve-biz", "Product owner", NULL, NULL, NULL);
	verdict_judge(r); /* counts, verdict and reason as a run gives them */
}

void model_keep_going(struct run_result *r)
{
	model_header(r, "NO-GO", 1);
	r->keep_going = 1;
	r->blocking_gate = xstrdup("checkpoint-1.1");
	r->blocking_check = xstrdup("api-reachable");
	struct res_phase *p = model_phase(r, "1", "Pre-flight", 1);
	struct res_step *s = model_step(p, "1.1", "Cluster access", "checkpoint-1.1");
	struct res_check *k =
	    model_check(s, RK_CHECK, "api-reachable", "API reachable", RS_FAIL, 1);
	k->message = xstrdup("HTTP 503");
	p = model_phase(r, "2", "Component Deployment", 1);
	s = model_step(p, "2.1", "Server", "checkpoint-2.1");
	model_check(s, RK_CHECK, "server-ready", "Server ready", RS_PASS, 1);
	verdict_judge(r); /* counts, verdict and reason as a run gives them */
}

void model_trust(struct run_result *r, const char *level, const char *contact,
                 const char *prior_run)
{
	struct res_escalation *e = xcalloc(1, sizeof(*e));
	e->check = xstrdup("evil");
	e->severity = xstrdup("critical");
	e->level = xstrdup(level);
	e->respond_within = xstrdup("15m");
	e->contacts = xcalloc(3, sizeof(*e->contacts));
	e->contacts[e->ncontacts++] = xstrdup(contact);
	e->contacts[e->ncontacts++] = xstrdup("ops lead");
	r->escalation = e;
	struct res_prior pr = {.path = "test/results.json",
	                       .run_id = (char *)prior_run,
	                       .environment = "test",
	                       .finished_at = "2026-11-30T10:00:00Z",
	                       .suite_digest = "0123456789abcdef0123456789abcdef0123456789abcdef01234567"
	                                       "89abcdef",
	                       .verdict = "GO"};
	result_trust_header(r, pr.suite_digest, 7 * 86400, "/etc/phasegate/signers", &pr);
}

void model_hostile(struct run_result *r)
{
	model_header(r, "NO-GO", 1);
	free(r->suite_title);
	r->suite_title = xstrdup("Title " HOSTILE_IMG " & \"quotes\"");
	free(r->environment);
	r->environment = xstrdup("prod | " HOSTILE_LINK);
	r->blocking_gate = xstrdup("gate-" HOSTILE_HTML);
	r->blocking_check = xstrdup("evil");
	struct res_phase *p = model_phase(r, "1", "Phase " HOSTILE_HTML, 1);
	struct res_step *s =
	    model_step(p, "1.1", "Step *bold* _it_ " HOSTILE_LINK, "gate-" HOSTILE_HTML);
	struct res_check *k = model_check(s, RK_CHECK, "evil", "Name " HOSTILE_IMG, RS_FAIL, 1);
	k->message = xstrdup(HOSTILE_HEADING " " HOSTILE_CTRL " " HOSTILE_CDATA);
	k->expected = xstrdup(HOSTILE_CDATA);
	k->seen = xstrdup(HOSTILE_FENCE "\n" HOSTILE_BADUTF8);
	k->remedy = xstrdup(HOSTILE_HTML " " HOSTILE_LINK);
	k->describe = xstrdup(HOSTILE_CTRL);
	model_evidence(k, "log " HOSTILE_CTRL,
	               HOSTILE_BADUTF8 "\n" HOSTILE_CDATA "\n" HOSTILE_CTRL);
	k = model_check(s, RK_CHECK, "manual-evil", "Signed " HOSTILE_LINK, RS_PASS, 0);
	k->attest_by = xstrdup("Mallory " HOSTILE_HTML);
	k->attest_at = xstrdup("2026-11-26");
	k->attest_note = xstrdup("note | with pipe\nand newline " HOSTILE_BADUTF8);
	k = model_check(s, RK_CHECK, "metric-evil", "Metric", RS_FAIL, 0);
	k->message = xstrdup("");
	k->metric_name = xstrdup("m | " HOSTILE_IMG);
	k->metric_target = xstrdup("> 5 `code`");
	k->seen = xstrdup("3\n| x |");
	model_approval(r, "a1", "Role " HOSTILE_HTML, "By | " HOSTILE_LINK, "2026", "n\n# h");
	model_var(r, "password", "********", "secret");
	model_trust(r, "Level " HOSTILE_HTML, HOSTILE_LINK "\n# Injected heading",
	            "run " HOSTILE_IMG);
	verdict_judge(r); /* counts, verdict and reason as a run gives them */
}

void model_full(struct run_result *r)
{
	model_four_phase(r);
	r->interrupted = 15;
	r->dry_run = 1;
	r->timed_out = 1;
	r->keep_going = 1;
	r->selection = xstrdup("--phase 2");
	struct res_check *k = &r->phases[0].steps[0].checks[1];
	k->tags = xcalloc(2, sizeof(*k->tags));
	k->tags[0] = xstrdup("smoke");
	k->tags[1] = xstrdup("network");
	k->ntags = 2;
	k->severity = xstrdup("high");
	k->expected = xstrdup("200");
	k->seen = xstrdup("200");
	k->remedy = xstrdup("none");
	k->describe = xstrdup("GET https://api/healthz");
	model_evidence(k, "body", "ok");
	model_evidence(k, "headers", "a: b");
	k->insecure = 1;
	k->metric_name = xstrdup("m");
	k->metric_target = xstrdup("t");
	k->attest_by = xstrdup("by");
	k->attest_at = xstrdup("at");
	k->attest_note = xstrdup("note");
	k->blocked_by = xstrdup("none");
	k->file = xstrdup("suite.yaml");
	k->line = 4000000000u;
	k->col = 3;
	k->duration_s = 0.1 + 0.2; /* not exactly representable in decimal */
	model_trust(r, "Level 3 - emergency", "pager", "20261130T100000Z-abcdef");
	verdict_judge(r);
}
