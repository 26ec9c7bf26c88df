/* manual.c - the manual check module: a checklist item or approval that a
 * person signs off on. It is satisfied by an entry in the attestation file
 * given with --attest; until then the check is pending, which blocks the
 * go-live verdict without failing the gate. */
#include <stdlib.h>
#include <string.h>

#include "attest.h"
#include "module.h"

struct manual_cfg {
	char *prompt;          /* owned, may be NULL: what the person is asked */
	int evidence_required; /* the attestation must carry a note */
};

static const struct key_spec manual_keys[] = {
	{"prompt", KT_STR, 0, "what the person signing off is asked to confirm"},
	{"evidence_required", KT_BOOL, 0, "the attestation must carry a note (the evidence)"},
	{NULL, KT_ANY, 0, NULL},
};

static int manual_parse(const struct node *cfg, void *state, void **priv, struct diags *d)
{
	struct manual_cfg *m = xcalloc(1, sizeof(*m));
	m->prompt = xstrdup(cfg_str(cfg, "prompt", NULL));
	m->evidence_required = cfg_bool(cfg, "evidence_required", 0);
	*priv = m;
	return 0;
}

static void manual_run(void *priv, struct check_ctx *ctx, struct check_out *out)
{
	const struct manual_cfg *m = priv;
	const char *id = ctx_check_id(ctx);
	const char *file = ctx_option(ctx, "attest");
	struct attestation a = {0};
	struct pg_err e;
	int found = 0;

	if (!id || !*id)
		id = "?";
	if (file)
		found = attest_lookup(file, id, &a, &e);
	if (found < 0) {
		/* A broken file is phasegate's input being wrong, not a sign-off
		 * still open: say where it is broken. */
		out->forced = CHECK_ERROR;
		out->error = xstrdup(e.msg);
		goto done;
	}
	out->facts = json_pack("{s:b}", "attested", 0);
	if (m->prompt)
		json_object_set_new(out->facts, "prompt", json_string(m->prompt));
	if (!found) {
		out->forced = CHECK_PENDING;
		out->error = xasprintf("awaiting attestation of '%s' (record it in the --attest file)",
				       id);
		goto done;
	}
	if (m->evidence_required && (!a.note || !*a.note)) {
		out->forced = CHECK_PENDING;
		out->error = xasprintf("attestation of '%s' by %s has no note, but evidence is "
				       "required (add a note saying what was checked)",
				       id, a.by);
		goto done;
	}
	json_object_set_new(out->facts, "attested", json_true());
	json_object_set_new(out->facts, "by", json_string(a.by));
	json_object_set_new(out->facts, "at", a.at ? json_string(a.at) : json_null());
	json_object_set_new(out->facts, "note", a.note ? json_string(a.note) : json_null());
	/* Ownership moves to out. */
	out->attest_by = a.by;
	out->attest_at = a.at;
	out->attest_note = a.note;
	memset(&a, 0, sizeof(a));
done:
	attestation_release(&a);
}

static char *manual_describe(void *priv)
{
	const struct manual_cfg *m = priv;
	if (m->prompt)
		return xasprintf("manual sign-off: %s", m->prompt);
	return xstrdup("manual sign-off");
}

static void manual_free(void *priv)
{
	struct manual_cfg *m = priv;
	if (!m)
		return;
	free(m->prompt);
	free(m);
}

/* "signed off by Jane Doe" (module.h, summarize). */
static char *manual_summarize(const json_t *f)
{
	const char *by = json_string_value(json_object_get(f, "by"));
	return by && json_is_true(json_object_get(f, "attested")) ? xasprintf("signed off by %s", by)
								   : NULL;
}

const struct check_module check_manual = {
	.name = "manual",
	.summary = "a sign-off by a person, satisfied by the --attest file",
	.api_version = CHECK_API_VERSION,
	.flags = CHECK_F_READONLY | CHECK_F_MANUAL,
	.keys = manual_keys,
	.default_expect = ".attested == true",
	.parse = manual_parse,
	.run = manual_run,
	.summarize = manual_summarize,
	.describe = manual_describe,
	.free = manual_free,
};
