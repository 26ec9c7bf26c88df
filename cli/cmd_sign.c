/* cmd_sign.c - sign-offs on the command line: "phasegate report" re-judges
 * a stored run with attestation files (nothing runs) and writes its
 * reports; "phasegate attest" writes an attestation, signed with
 * ssh-keygen -Y when asked, bound to a suite's digest. */
#include <stdlib.h>
#include <string.h>

#include "attest.h"
#include "cli.h"
#include "digest.h"
#include "proc.h"
#include "verdict.h"

/* Re-judges a stored run with the --attest files (nothing runs). Returns 0
 * or EXIT_USAGE (diagnostics printed). */
static int rejudge(const struct cli *c, struct run_result *r)
{
	const char **ids = NULL;
	size_t nids = 0;
	for (size_t i = 0; i < r->nphases; i++)
		for (size_t j = 0; j < r->phases[i].nsteps; j++)
			for (size_t k = 0; k < r->phases[i].steps[j].nchecks; k++)
				add_id(&ids, &nids, r->phases[i].steps[j].checks[k].id);
	for (size_t i = 0; i < r->napprovals; i++)
		add_id(&ids, &nids, r->approvals[i].id);
	/* the suite's own rules, stored at run time (older files: none) */
	struct attest_rules rules = {
	    .ids = ids,
	    .nids = nids,
	    .max_age_s = r->attest_max_age_s,
	    .allowed_signers = c->allowed_signers ? c->allowed_signers : r->allowed_signers,
	    .suite_digest = r->suite_digest,
	};
	struct diags d;
	diags_init(&d);
	attest_set_run(r->run_id);
	int bad = attest_load(c->attests.v, c->attests.n, &rules, &d);
	free(ids);
	if (bad)
		return report_diags("--attest", &d);
	diags_release(&d);
	size_t changed = attest_rejudge(r);
	for (size_t i = 0; i < c->attests.n; i++) {
		r->attest_files =
		    xrealloc(r->attest_files, (r->nattest_files + 1) * sizeof(char *));
		r->attest_files[r->nattest_files++] = xstrdup(c->attests.v[i]);
	}
	verdict_judge(r);
	printf("%s: %zu sign-off%s recorded; verdict %s — %s\n", c->target, changed,
	       changed == 1 ? "" : "s", r->verdict, r->reason);
	return 0;
}

/* report RESULTS [--attest FILE...]: render again; with attestations,
 * re-judge the stored run first (nothing is run) and rewrite every report
 * (beside RESULTS unless outputs are named). */
int cmd_report(const struct cli *c)
{
	if (!c->target)
		return usage_error("'report' needs a results JSON file");
	int named = c->junit || c->markdown || c->out_dir || c->json || c->html;
	if (!named && !c->attests.n)
		return usage_error(
		    "'report' needs at least one of --junit, --markdown, --json, --html, "
		    "--out, or --attest");
	struct run_result r;
	memset(&r, 0, sizeof(r));
	struct pg_err e;
	if (result_load_file(&r, c->target, &e) != 0) {
		fprintf(stderr, "phasegate: %s\n", e.msg);
		return EXIT_USAGE;
	}
	int rc = 0;
	struct cli out = *c;
	char *dir = NULL;
	if (c->attests.n) {
		rc = rejudge(c, &r);
		if (rc) {
			result_release(&r);
			return rc;
		}
		if (!named) { /* rewrite the run's own reports */
			dir = path_dir(c->target);
			out.json = c->target;
			out.out_dir = dir;
		}
		rc = verdict_exit_code(&r, c->require_go);
	}
	int wr = write_reports(&out, out.out_dir, &r, NULL);
	if (wr)
		rc = wr;
	free(dir);
	result_release(&r);
	return rc;
}

/* Appends a YAML double-quoted scalar (JSON string syntax is valid YAML). */
static void add_quoted(struct buf *b, const char *s)
{
	json_t *j = json_string(s);
	char *t = j ? json_dumps(j, JSON_ENCODE_ANY) : NULL;
	buf_adds(b, t ? t : "\"\"");
	free(t);
	json_decref(j);
}

/* Appends the ssh-keygen -Y signature of the entry as a block scalar.
 * Returns 0 or EXIT_USAGE. */
static int add_signature(struct buf *b, const struct cli *c, const char *at, const char *suite)
{
	struct pg_err e = {{0}};
	char *text = attest_signed_text(c->extra, c->by, at, c->note, c->run_id, suite);
	const char *argv[] = {"ssh-keygen", "-q", "-Y",        "sign", "-f",
	                      c->sign_key,  "-n", "phasegate", NULL};
	struct proc_spec ps = {.argv = argv,
	                       .stdin_data = text,
	                       .stdin_len = strlen(text),
	                       .timeout_ms = 30000,
	                       .max_output = 64 * 1024};
	struct proc_result pr;
	memset(&pr, 0, sizeof(pr));
	int rc = 0;
	if (proc_run(&ps, NULL, &pr, &e) != 0 || pr.exit_code != 0 || !pr.out.len) {
		fprintf(stderr, "phasegate: ssh-keygen -Y sign with %s failed: %s\n", c->sign_key,
		        pr.err.len ? buf_str(&pr.err) : e.msg);
		rc = EXIT_USAGE;
	} else {
		buf_adds(b, "  signature: |\n");
		const char *line = buf_str(&pr.out);
		while (*line) {
			size_t len = strcspn(line, "\n");
			buf_adds(b, "    ");
			buf_add(b, line, len);
			buf_addc(b, '\n');
			line += len + (line[len] ? 1 : 0);
		}
	}
	proc_result_release(&pr);
	free(text);
	return rc;
}

/* The digest a sign-off names: --suite-digest as given, or that of the suite
 * --for-suite loads (with --var, --env-file, --set). Returns 0 (hex empty
 * when neither was given) or EXIT_USAGE. */
static int attest_suite_digest(const struct cli *c, char hex[65])
{
	hex[0] = 0;
	if (c->suite_digest && c->for_suite)
		return usage_error("give --suite-digest or --for-suite, not both");
	if (c->suite_digest) {
		if (!digest_is_prefix(c->suite_digest))
			return usage_error("--suite-digest needs 12 to 64 lowercase hex digits (as "
			                   "'phasegate validate' shows), got '%s'",
			                   c->suite_digest);
		snprintf(hex, 65, "%s", c->suite_digest);
		return 0;
	}
	if (!c->for_suite)
		return 0;
	struct load_opts lo;
	load_opts_of(c, &lo);
	struct diags d;
	struct plan p;
	diags_init(&d);
	if (suite_load(&p, c->for_suite, &lo, &d) != 0)
		return report_diags(c->for_suite, &d);
	diags_release(&d);
	memcpy(hex, p.digest, 65);
	plan_release(&p);
	return 0;
}

/* attest FILE ID --by NAME [--note TEXT] [--run-id RUN] [--sign KEY]
 * [--suite-digest DIGEST | --for-suite SUITE]: adds one sign-off (at = now)
 * to FILE, which is created when absent. */
int cmd_attest(const struct cli *c)
{
	char suite[65];
	if (!c->target || !c->extra)
		return usage_error("'attest' needs a file and an id: phasegate attest FILE ID --by "
		                   "NAME [--note TEXT]");
	if (!c->by || !*c->by)
		return usage_error("'attest' needs --by NAME (who signs off)");
	int src = attest_suite_digest(c, suite);
	if (src)
		return src;
	char *old = NULL;
	size_t oldlen = 0;
	struct pg_err e;
	if (access(c->target, F_OK) == 0) {
		struct diags d;
		struct attest_rules keep = {.keep_signatures_unverified = 1};
		diags_init(&d);
		if (attest_load(&c->target, 1, &keep, &d) != 0)
			return report_diags(c->target, &d);
		diags_release(&d);
		struct attestation a;
		if (attest_lookup(c->target, c->extra, &a, &e) == 1) {
			attestation_release(&a);
			fprintf(stderr, "phasegate: %s already holds a sign-off for '%s'\n",
			        c->target, c->extra);
			return EXIT_USAGE;
		}
		if (read_file_capped(c->target, 4 * 1024 * 1024, &old, &oldlen, &e) != 0) {
			fprintf(stderr, "phasegate: %s\n", e.msg);
			return EXIT_USAGE;
		}
	}
	char *at = iso8601_now();
	struct buf b;
	buf_init(&b, 0);
	if (old) {
		buf_add(&b, old, oldlen);
		if (oldlen && old[oldlen - 1] != '\n')
			buf_addc(&b, '\n');
	}
	add_quoted(&b, c->extra);
	buf_adds(&b, ":\n  by: ");
	add_quoted(&b, c->by);
	buf_adds(&b, "\n  at: ");
	add_quoted(&b, at);
	if (c->note) {
		buf_adds(&b, "\n  note: ");
		add_quoted(&b, c->note);
	}
	if (c->run_id) {
		buf_adds(&b, "\n  run: ");
		add_quoted(&b, c->run_id);
	}
	if (suite[0]) {
		buf_adds(&b, "\n  suite: ");
		add_quoted(&b, suite);
	}
	buf_addc(&b, '\n');
	int rc = c->sign_key ? add_signature(&b, c, at, suite[0] ? suite : NULL) : 0;
	if (rc == 0 && write_file_atomic(c->target, buf_str(&b), b.len, &e) != 0) {
		fprintf(stderr, "phasegate: %s\n", e.msg);
		rc = EXIT_INTERNAL;
	}
	if (rc == 0)
		printf("%s: sign-off for '%s' by %s at %s recorded%s\n", c->target, c->extra, c->by,
		       at, c->sign_key ? " (signed)" : "");
	buf_release(&b);
	free(at);
	free(old);
	return rc;
}
