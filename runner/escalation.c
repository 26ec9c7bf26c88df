/* escalation.c - escalation: levels per severity and the remedy rule
 * (runner/escalation.h). */
#include <stdlib.h>
#include <string.h>

#include "escalation.h"
#include "verdict.h"

const struct key_spec escalation_entry_keys[] = {
    {"level", KT_STR, KEY_REQUIRED, "escalation level (\"Level 3 - emergency\")"},
    {"respond_within", KT_DURATION, 0, "how soon someone must respond (15m)"},
    {"contacts", KT_STR_OR_SEQ, 0, "who to call: text or a list (suite vars expand)"},
    {NULL, KT_ANY, 0, NULL},
};

const struct key_spec require_keys[] = {
    {"remedy", KT_BOOL, 0, "every automated check needs a remedy: (else exit 2)"},
    {NULL, KT_ANY, 0, NULL},
};

static char *expand(const struct plan *p, const struct node *n, int *problems, struct diags *d)
{
	char *s;
	if (!n || n->kind != NODE_SCALAR || node_is_null(n))
		return NULL;
	s = vars_expand(&p->vars, NULL, n->str, n, d);
	if (!s)
		(*problems)++;
	return s;
}

static void add_contact(struct plan_escalation *e, char *s)
{
	if (!s)
		return;
	e->contacts = xrealloc(e->contacts, (e->ncontacts + 2) * sizeof(*e->contacts));
	e->contacts[e->ncontacts++] = s;
	e->contacts[e->ncontacts] = NULL;
}

static int severity_index(const char *s)
{
	for (int i = 0; plan_severities[i]; i++)
		if (strcmp(s, plan_severities[i]) == 0)
			return i;
	return -1;
}

int escalation_load(struct plan *p, const struct node *map, struct diags *d)
{
	int problems = 0;
	if (!map || node_is_null(map))
		return 0;
	if (map->kind != NODE_MAP) {
		diag_at(d, map,
		        "escalation is a map from severity to {level, respond_within, "
		        "contacts}, not a %s",
		        node_kind_name(map));
		return 1;
	}
	p->escalation = xcalloc(map->n + 1, sizeof(*p->escalation));
	/* kept in severity order, so reports list the most urgent first */
	for (int sev = 0; plan_severities[sev]; sev++)
		for (size_t i = 0; i < map->n; i++) {
			const struct node *k = map->pairs[i].key, *v = map->pairs[i].value;
			if (strcmp(k->str, plan_severities[sev]) != 0)
				continue;
			int bad = keys_validate(v, escalation_entry_keys, "escalation level", d);
			problems += bad;
			if (bad)
				continue;
			struct plan_escalation *e = &p->escalation[p->nescalation++];
			e->severity = plan_severities[sev];
			e->pos = k->pos;
			e->level = expand(p, node_get(v, "level"), &problems, d);
			const struct node *rw = node_get(v, "respond_within");
			if (rw && !node_is_null(rw))
				e->respond_within = xstrdup(rw->str);
			const struct node *c = node_get(v, "contacts");
			if (c && c->kind == NODE_SEQ)
				for (size_t j = 0; j < c->n; j++)
					add_contact(e, expand(p, c->items[j], &problems, d));
			else
				add_contact(e, expand(p, c, &problems, d));
		}
	for (size_t i = 0; i < map->n; i++) {
		const struct node *k = map->pairs[i].key;
		if (severity_index(k->str) >= 0)
			continue;
		const char *hint = NULL;
		for (int s = 0; plan_severities[s]; s++)
			if (edit_distance(k->str, plan_severities[s]) <= 2)
				hint = plan_severities[s];
		if (hint)
			diag_at(d, k, "escalation: unknown severity '%s' (did you mean '%s'?)",
			        k->str, hint);
		else
			diag_at(
			    d, k,
			    "escalation: unknown severity '%s' (expected critical, high, medium, "
			    "low or info)",
			    k->str);
		problems++;
	}
	return problems;
}

void escalation_release(struct plan *p)
{
	for (size_t i = 0; i < p->nescalation; i++) {
		struct plan_escalation *e = &p->escalation[i];
		free(e->level);
		free(e->respond_within);
		for (size_t j = 0; j < e->ncontacts; j++)
			free(e->contacts[j]);
		free(e->contacts);
	}
	free(p->escalation);
	p->escalation = NULL;
	p->nescalation = 0;
}

const struct plan_escalation *escalation_for(const struct plan *p, const char *severity)
{
	for (size_t i = 0; severity && i < p->nescalation; i++)
		if (strcmp(p->escalation[i].severity, severity) == 0)
			return &p->escalation[i];
	return NULL;
}

void escalation_apply(const struct plan *p, struct run_result *r)
{
	const struct res_check *bad = verdict_first_failure(r);
	const struct plan_escalation *e = bad ? escalation_for(p, bad->severity) : NULL;
	res_escalation_free(r->escalation);
	r->escalation = NULL;
	if (!e)
		return;
	struct res_escalation *x = xcalloc(1, sizeof(*x));
	x->severity = xstrdup(e->severity);
	x->check = xstrdup(bad->id ? bad->id : "");
	x->level = e->level ? xstrdup(e->level) : NULL;
	x->respond_within = e->respond_within ? xstrdup(e->respond_within) : NULL;
	x->contacts = xcalloc(e->ncontacts + 1, sizeof(*x->contacts));
	for (size_t i = 0; i < e->ncontacts; i++)
		x->contacts[i] = xstrdup(e->contacts[i]);
	x->ncontacts = e->ncontacts;
	r->escalation = x;
}

static size_t missing_in(const struct plan_check *v, size_t n, struct diags *d)
{
	size_t count = 0;
	for (size_t i = 0; i < n; i++) {
		const struct plan_check *c = &v[i];
		if (c->remedy && *c->remedy)
			continue;
		if (c->mod && (c->mod->flags & CHECK_F_MANUAL))
			continue;
		diag_pos(d, c->pos.file, c->pos.line, c->pos.col,
		         "check '%s' has no remedy: (what to run or do when it fails)", c->id);
		count++;
	}
	return count;
}

size_t remedies_missing(const struct plan *p, struct diags *d)
{
	size_t n = 0;
	for (size_t i = 0; i < p->nphases; i++)
		for (size_t j = 0; j < p->phases[i].nsteps; j++) {
			const struct plan_step *st = &p->phases[i].steps[j];
			n += missing_in(st->checks, st->nchecks, d);
		}
	return n;
}
