/* main.c - the phasegate command line: the only file that parses argv,
 * prints the verdict and calls exit().
 *
 * cli/ is the command layer, the composition root: it is the one place
 * that knows all three libraries and wires them together. The core
 * (runner/, with the modules in checks/) turns a suite into a result model
 * and names no writer; the writers (reports/) read the finished model; only
 * cli/ holds both, choosing the writers, giving the scheduler its console
 * observer, and publishing results (k8s_publish.c). Data flows one way:
 * argv -> cli -> core -> result model -> writers -> cli (verdict, exit code).
 * Its files: main.c (validate, list, run and the small commands),
 * cmd_sign.c (report, attest), cmd_fleet.c with fleet.c (fleet runs, merge,
 * collect), cli_table.c (what each command accepts), cli.h (what they
 * share). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "attest.h"
#include "cli.h"
#include "cli_table.h"
#include "escalation.h"
#include "health_cmd.h"
#include "http.h"
#include "prior.h"
#include "rbac.h"
#include "schema.h"
#include "verdict.h"
#include "when.h"

int usage_error(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "phasegate: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n(see 'phasegate --help')\n");
	va_end(ap);
	return EXIT_USAGE;
}

/* Options take their value as "--opt value" or "--opt=value". */
static int take_value(int argc, char **argv, int *i, const char *name, const char **out)
{
	const char *a = argv[*i];
	size_t len = strlen(name);
	if (strncmp(a, name, len) != 0)
		return 0;
	if (a[len] == '=') {
		*out = a + len + 1;
		return 1;
	}
	if (a[len] != 0)
		return 0;
	if (*i + 1 >= argc) {
		*out = NULL;
		return -1;
	}
	*out = argv[++*i];
	return 1;
}

void push(const char ***v, size_t *n, const char *s)
{
	*v = xrealloc(*v, (*n + 1) * sizeof(**v));
	(*v)[(*n)++] = s;
}

/* Adds each comma-separated piece of val to l (empty pieces are an error). */
static int push_list(struct cli *c, struct strlist *l, const char *opt, const char *val)
{
	const char *p = val;
	for (;;) {
		size_t len = strcspn(p, ",");
		if (!len)
			return usage_error("option '%s' needs a value (got '%s')", opt, val);
		char *piece = xstrndup(p, len);
		push(&c->owned, &c->nowned, piece);
		push(&l->v, &l->n, piece);
		if (!p[len])
			return 0;
		p += len + 1;
	}
}

static int parse_cli(int argc, char **argv, struct cli *c)
{
	memset(c, 0, sizeof(*c));
	c->jobs = 8;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *val = NULL;
		int r;
		const struct {
			const char *name;
			struct strlist *list;
		} lists[] = {
		    {"--phase", &c->phases},       {"--step", &c->steps},     {"--tag", &c->tags},
		    {"--skip-tag", &c->skip_tags}, {"--attest", &c->attests},
		};
		const struct {
			const char *name;
			const char **field;
		} strs[] = {
		    {"--env-file", &c->env_file},
		    {"--junit", &c->junit},
		    {"--markdown", &c->markdown},
		    {"--json", &c->json},
		    {"--out", &c->out_dir},
		    {"--plugins", &c->plugins},
		    {"--run-id", &c->run_id},
		    {"--from", &c->from},
		    {"--until", &c->until},
		    {"--allowed-signers", &c->allowed_signers},
		    {"--by", &c->by},
		    {"--note", &c->note},
		    {"--sign", &c->sign_key},
		    {"--html", &c->html},
		    {"--kubeconfig-dir", &c->kubeconfig_dir},
		    {"--publish", &c->publish},
		    {"--service-account", &c->service_account},
		    {"--prior", &c->prior},
		    {"--suite-digest", &c->suite_digest},
		    {"--for-suite", &c->for_suite},
		};
		int matched = 0;
		for (size_t k = 0; k < sizeof(lists) / sizeof(lists[0]) && !matched; k++) {
			r = take_value(argc, argv, &i, lists[k].name, &val);
			if (r < 0)
				return usage_error("option '%s' needs a value", lists[k].name);
			if (r > 0) {
				if (strcmp(lists[k].name, "--attest") == 0)
					push(&lists[k].list->v, &lists[k].list->n, val);
				else if (push_list(c, lists[k].list, lists[k].name, val) != 0)
					return EXIT_USAGE;
				matched = 1;
			}
		}
		for (size_t k = 0; k < sizeof(strs) / sizeof(strs[0]) && !matched; k++) {
			r = take_value(argc, argv, &i, strs[k].name, &val);
			if (r < 0)
				return usage_error("option '%s' needs a value", strs[k].name);
			if (r > 0) {
				*strs[k].field = val;
				matched = 1;
			}
		}
		if (matched)
			continue;
		if ((r = take_value(argc, argv, &i, "--var", &val)) != 0) {
			if (r < 0 || !strchr(val, '=') || val[0] == '=')
				return usage_error("option '--var' needs NAME=VALUE");
			push(&c->vars, &c->nvars, val);
			continue;
		}
		if ((r = take_value(argc, argv, &i, "--context", &val)) != 0) {
			if (r < 0 || !*val)
				return usage_error(
				    "option '--context' needs a kubeconfig context name");
			push(&c->contexts, &c->ncontexts, val);
			continue;
		}
		if ((r = take_value(argc, argv, &i, "--set", &val)) != 0) {
			const char *dot = r > 0 ? strchr(val, '.') : NULL;
			if (r < 0 || !dot || dot == val || !strchr(dot, '='))
				return usage_error("option '--set' needs MODULE.KEY=VALUE");
			push(&c->sets, &c->nsets, val);
			continue;
		}
		if ((r = take_value(argc, argv, &i, "--jobs", &val)) != 0) {
			long long n;
			if (r < 0 || parse_ll(val, &n) != 0 || n < 1)
				return usage_error(
				    "option '--jobs' needs a number from 1 to %d, got '%s'",
				    SCHED_JOBS_MAX, val ? val : "");
			if (n > SCHED_JOBS_MAX)
				return usage_error(
				    "option '--jobs' is at most %d, got %lld: each concurrent "
				    "check holds "
				    "a thread and connections, and %d keeps a run within the usual "
				    "1,024 open files (see docs/modules/http.md)",
				    SCHED_JOBS_MAX, n, SCHED_JOBS_MAX);
			c->jobs = (long)n;
			continue;
		}
		if ((r = take_value(argc, argv, &i, "--require", &val)) != 0) {
			if (r < 0 || strcmp(val, "go") != 0)
				return usage_error(
				    "option '--require' takes 'go' (exit 4 unless the "
				    "verdict is GO), got '%s'",
				    val ? val : "");
			c->require_go = 1;
			continue;
		}
		if ((r = take_value(argc, argv, &i, "--timeout", &val)) != 0) {
			if (r < 0 || parse_duration_ms(val, &c->timeout_ms) != 0 ||
			    c->timeout_ms <= 0)
				return usage_error("option '--timeout' needs a duration such as "
				                   "90s or 10m, got '%s'",
				                   val ? val : "");
			continue;
		}
		if (strcmp(a, "--dry-run") == 0)
			c->dry_run = 1;
		else if (strcmp(a, "--ids") == 0)
			c->ids = 1;
		else if (strcmp(a, "--keep-going") == 0)
			c->keep_going = 1;
		else if (strcmp(a, "--allow-destructive") == 0)
			c->allow_destructive = 1;
		else if (strcmp(a, "--strict") == 0)
			c->strict = 1;
		else if (strcmp(a, "--no-color") == 0)
			c->no_color = 1;
		else if (strcmp(a, "--verbose") == 0 || strcmp(a, "-v") == 0)
			c->verbose = 1;
		else if (strcmp(a, "--quiet") == 0 || strcmp(a, "-q") == 0)
			c->quiet = 1;
		else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0)
			c->command = "help";
		else if (strcmp(a, "--version") == 0)
			c->command = "version";
		else if (a[0] == '-' && a[1] != 0)
			return usage_error("unknown option '%s'", a);
		else if (!c->command)
			c->command = a;
		else
			push(&c->operands, &c->noperands, a);
	}
	/* merge takes many operands, attest two (FILE ID), the rest one */
	c->target = c->noperands ? c->operands[0] : NULL;
	size_t most = 1;
	if (c->command && strcmp(c->command, "attest") == 0)
		most = 2;
	else if (c->command && strcmp(c->command, "merge") == 0)
		most = (size_t)-1;
	if (most == 2 && c->noperands > 1)
		c->extra = c->operands[1];
	if (c->noperands > most)
		return usage_error("unexpected argument '%s'", c->operands[most]);
	return 0;
}

static void on_signal(int signo)
{
	sched_request_stop(signo);
}

static void install_signals(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

static int mkdir_p(const char *dir)
{
	char *p = xstrdup(dir);
	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = 0;
		if (mkdir(p, 0755) != 0 && errno != EEXIST) {
			free(p);
			return -1;
		}
		*s = '/';
	}
	int rc = (mkdir(p, 0755) != 0 && errno != EEXIST) ? -1 : 0;
	free(p);
	return rc;
}

/* Writes every report asked for, as one set (runner/outfile.h): all or
 * none of the files change. Returns 0 or EXIT_INTERNAL. */
int write_reports(const struct cli *c, const char *out_dir, const struct run_result *r,
                  struct console *con)
{
	char *junit = c->junit ? xstrdup(c->junit) : NULL;
	char *md = c->markdown ? xstrdup(c->markdown) : NULL;
	char *json = c->json ? xstrdup(c->json) : NULL;
	int rc = 0;
	if (out_dir) {
		if (mkdir_p(out_dir) != 0) {
			fprintf(stderr, "phasegate: cannot create '%s': %s\n", out_dir,
			        strerror(errno));
			rc = EXIT_INTERNAL;
			goto out;
		}
		if (!junit)
			junit = xasprintf("%s/junit.xml", out_dir);
		if (!md)
			md = xasprintf("%s/report.md", out_dir);
		if (!json)
			json = xasprintf("%s/results.json", out_dir);
	}
	struct {
		const char *path;
		outfile_emit_fn emit; /* streamed into the file (reports/report.h) */
		const char *what;
	} outs[] = {
	    {json, report_json_emit, "results"},
	    {junit, report_junit_emit, "JUnit"},
	    {md, report_markdown_emit, "go-live report"},
	    {c->html, report_html_emit, "HTML go-live report"},
	};
	struct outfile files[4];
	size_t n = 0;
	for (size_t i = 0; i < sizeof(outs) / sizeof(outs[0]); i++) {
		if (!outs[i].path)
			continue;
		files[n++] = (struct outfile){.path = outs[i].path, .emit = outs[i].emit, .arg = r};
	}
	struct pg_err e;
	if (n && outfile_write_set(files, n, &e) != 0) {
		fprintf(stderr, "phasegate: %s; no report was changed\n", e.msg);
		rc = EXIT_INTERNAL;
	}
	for (size_t i = 0; i < sizeof(outs) / sizeof(outs[0]) && rc == 0 && con; i++) {
		if (!outs[i].path)
			continue;
		char *note = xasprintf("%s: %s", outs[i].what, outs[i].path);
		console_note(con, note);
		free(note);
	}
out:
	free(junit);
	free(md);
	free(json);
	return rc;
}

static void selector_of(const struct cli *c, struct plan_selector *s)
{
	memset(s, 0, sizeof(*s));
	s->phases = (struct sel_list){c->phases.v, c->phases.n};
	s->steps = (struct sel_list){c->steps.v, c->steps.n};
	s->tags = (struct sel_list){c->tags.v, c->tags.n};
	s->skip_tags = (struct sel_list){c->skip_tags.v, c->skip_tags.n};
	s->from = c->from;
	s->until = c->until;
}

static void print_check_line(FILE *f, const struct plan_check *pc, const char *kind)
{
	char *d = NULL;
	if (pc->priv && pc->mod->describe)
		d = pc->mod->describe(pc->priv);
	char *dm = mask_dup(d ? d : pc->mod->name);
	char *nl = strchr(dm, '\n');
	if (nl) { /* one line per entry: a multi-line script shows its first line */
		char *first = xasprintf("%.*s …", (int)(nl - dm), dm);
		free(dm);
		dm = first;
	}
	char *name = mask_dup(pc->name);
	fprintf(f, "      %-6s %-28s %s%s\n", kind, pc->id, name,
	        pc->destructive ? "   [DESTRUCTIVE]" : "");
	char *cond = when_plan_text(pc);
	if (cond) {
		char *cm = mask_dup(cond);
		fprintf(f, "             %s\n", cm);
		free(cm);
		free(cond);
	}
	fprintf(f, "             %s", dm);
	if (kind[0] == 'c') {
		fprintf(f, " [%s", pc->gate ? "gate" : "non-gating");
		char *t = format_duration(pc->timeout_ms);
		fprintf(f, ", timeout %s", t);
		free(t);
		if (pc->max_attempts) {
			char *e = format_duration(pc->every_ms);
			fprintf(f, ", retry %d more times every %s", pc->max_attempts - 1, e);
			free(e);
		} else if (pc->eventually) {
			char *w = format_duration(pc->within_ms),
			     *e = format_duration(pc->every_ms);
			fprintf(f, ", eventually within %s every %s", w, e);
			free(w);
			free(e);
		}
		fprintf(f, "]");
	}
	fprintf(f, "\n");
	free(d);
	free(dm);
	free(name);
}

/* list --ids: "phase ID", "step ID" and "tag TAG" lines, each id once, in
 * suite order (what the shell completions offer for --phase, --step, --tag). */
static void print_ids(const struct plan *p)
{
	const char **tags = NULL;
	size_t ntags = 0;
	for (size_t i = 0; i < p->nphases; i++) {
		printf("phase %s\n", p->phases[i].id);
		for (size_t j = 0; j < p->phases[i].nsteps; j++) {
			const struct plan_step *s = &p->phases[i].steps[j];
			printf("step %s\n", s->id);
			for (size_t k = 0; k < s->nchecks + s->nactions; k++) {
				const struct plan_check *pc =
				    k < s->nchecks ? &s->checks[k] : &s->actions[k - s->nchecks];
				for (size_t t = 0; t < pc->ntags; t++) {
					size_t seen = 0;
					while (seen < ntags && strcmp(tags[seen], pc->tags[t]) != 0)
						seen++;
					if (seen == ntags)
						push(&tags, &ntags, pc->tags[t]);
				}
			}
		}
	}
	for (size_t t = 0; t < ntags; t++)
		printf("tag %s\n", tags[t]);
	free(tags);
}

/* --dry-run and list: the ordered plan, exactly what the selection runs. */
static void print_plan(const struct plan *p, int with_vars, int dry)
{
	FILE *f = stdout;
	fprintf(f, "suite %s", p->name);
	if (p->environment)
		fprintf(f, " (environment %s)", p->environment);
	fprintf(f, "\nsuite digest %s\n", p->digest);
	if (with_vars && p->vars.n) {
		fprintf(f, "variables:\n");
		for (size_t i = 0; i < p->vars.n; i++) {
			const struct var *v = &p->vars.v[i];
			char *val = v->secret ? xstrdup(MASK_TEXT) : mask_dup(v->value);
			fprintf(f, "  %s = %s   (%s)\n", v->name, val, v->origin ? v->origin : "");
			free(val);
		}
	}
	size_t gates = 0, skipped_steps = 0, destructive = 0;
	for (size_t i = 0; i < p->nphases; i++) {
		const struct plan_phase *ph = &p->phases[i];
		int shown = 0;
		for (size_t j = 0; j < ph->nsteps; j++) {
			const struct plan_step *s = &ph->steps[j];
			if (!plan_step_selected(s)) {
				skipped_steps++;
				continue;
			}
			if (!shown) {
				char *n = mask_dup(ph->name);
				fprintf(f, "phase %s: %s\n", ph->id, n);
				free(n);
				shown = 1;
			}
			char *sn = mask_dup(s->name);
			fprintf(f, "  step %s: %s\n", s->id, sn);
			free(sn);
			for (size_t k = 0; k < s->nactions; k++)
				if (s->actions[k].selected) {
					print_check_line(f, &s->actions[k],
					                 dry ? "would" : "action");
					destructive += s->actions[k].destructive;
				}
			char *cn = mask_dup(s->checkpoint_name);
			fprintf(f, "    gate %s: %s\n", s->checkpoint_id, cn);
			free(cn);
			gates++;
			for (size_t k = 0; k < s->nchecks; k++)
				if (s->checks[k].selected)
					print_check_line(f, &s->checks[k], "check");
			for (size_t k = 0; k < s->ncollectors; k++)
				if (s->collectors[k].selected)
					print_check_line(f, &s->collectors[k], "on-fail");
			for (size_t k = 0; k < s->nrollbacks; k++)
				if (s->rollbacks[k].selected) {
					print_check_line(f, &s->rollbacks[k], "rollbk");
					destructive += s->rollbacks[k].destructive;
				}
		}
	}
	if (p->napprovals) {
		fprintf(f, "approvals:\n");
		for (size_t i = 0; i < p->napprovals; i++) {
			char *role = mask_dup(p->approvals[i].role);
			fprintf(f, "  %-28s %s\n", p->approvals[i].id, role);
			free(role);
		}
	}
	if (skipped_steps)
		fprintf(f, "not selected: %zu step%s (a run of this selection is PARTIAL)\n",
		        skipped_steps, skipped_steps == 1 ? "" : "s");
	if (destructive)
		fprintf(f, "%zu destructive action%s (they run only with --allow-destructive)\n",
		        destructive, destructive == 1 ? "" : "s");
	fprintf(f, "%zu gate%s in order%s\n", gates, gates == 1 ? "" : "s",
	        dry ? "; dry run: nothing was run" : "");
}

int report_diags(const char *what, struct diags *d)
{
	diags_print(d, stderr);
	fprintf(stderr, "phasegate: %s: %zu problem%s found; nothing was run\n", what, d->n,
	        d->n == 1 ? "" : "s");
	diags_release(d);
	return EXIT_USAGE;
}

void add_id(const char ***ids, size_t *n, const char *id)
{
	if (id)
		push(ids, n, id);
}

/* Validates every --attest file against the plan: ids, fields, times,
 * signatures. Returns 0 or EXIT_USAGE (diagnostics printed). */
static int load_attestations(const struct cli *c, const struct plan *p)
{
	if (!c->attests.n)
		return 0;
	const char **ids = NULL;
	size_t nids = 0;
	const char **automated = NULL; /* checks whose result a machine decides */
	size_t nautomated = 0;
	for (size_t i = 0; i < p->nphases; i++)
		for (size_t j = 0; j < p->phases[i].nsteps; j++) {
			const struct plan_step *s = &p->phases[i].steps[j];
			for (size_t k = 0; k < s->nchecks; k++) {
				const struct plan_check *pc = &s->checks[k];
				add_id(&ids, &nids, pc->id);
				if (pc->mod && !(pc->mod->flags & CHECK_F_MANUAL))
					add_id(&automated, &nautomated, pc->id);
			}
		}
	for (size_t i = 0; i < p->napprovals; i++)
		add_id(&ids, &nids, p->approvals[i].id);
	struct attest_rules rules = {
	    .ids = ids,
	    .nids = nids,
	    .automated = automated,
	    .nautomated = nautomated,
	    .max_age_s = p->attest_max_age_ms / 1000,
	    .allowed_signers = c->allowed_signers ? c->allowed_signers : p->allowed_signers,
	    .suite_digest = p->digest,
	};
	struct diags d;
	diags_init(&d);
	int rc = attest_load(c->attests.v, c->attests.n, &rules, &d);
	free(ids);
	free(automated);
	if (rc != 0)
		return report_diags("--attest", &d);
	diags_release(&d);
	return 0;
}

/* Prints every selected destructive action or rollback to f; returns how
 * many there are. */
static size_t list_destructive(const struct plan *p, FILE *f)
{
	size_t n = 0;
	for (size_t i = 0; i < p->nphases; i++)
		for (size_t j = 0; j < p->phases[i].nsteps; j++) {
			const struct plan_step *s = &p->phases[i].steps[j];
			const struct {
				const struct plan_check *v;
				size_t n;
				const char *kind;
			} lists[] = {{s->actions, s->nactions, "action"},
			             {s->rollbacks, s->nrollbacks, "rollback"}};
			for (size_t l = 0; l < 2; l++)
				for (size_t k = 0; k < lists[l].n; k++) {
					const struct plan_check *pc = &lists[l].v[k];
					if (!pc->selected || !pc->destructive)
						continue;
					if (!n++)
						fprintf(f,
						        "destructive actions in the selection:\n");
					char *d = pc->priv && pc->mod->describe
					              ? pc->mod->describe(pc->priv)
					              : NULL;
					char *dm = mask_dup(d ? d : pc->mod->name);
					size_t cut = strlen(dm) > 100 ? 100 : strlen(dm);
					while (cut && ((unsigned char)dm[cut] & 0xC0) == 0x80)
						cut--; /* one line each, cut between characters */
					fprintf(f, "  step %s %s %s (%s:%u:%u): %.*s%s%s%s\n",
					        s->id, lists[l].kind, pc->id,
					        pc->pos.file ? pc->pos.file : "?", pc->pos.line,
					        pc->pos.col, (int)cut, dm, dm[cut] ? " …" : "",
					        pc->when ? " — only when " : "",
					        pc->when ? pc->when : "");
					free(d);
					free(dm);
				}
		}
	return n;
}

/* A run whose selection holds a destructive action needs
 * --allow-destructive; the refusal names every one. */
static int guard_destructive(const struct cli *c, const struct plan *p)
{
	if (c->allow_destructive)
		return 0;
	size_t n = list_destructive(p, stderr);
	if (!n)
		return 0;
	fprintf(stderr,
	        "phasegate: %zu destructive action%s selected; give --allow-destructive to run "
	        "them (or narrow the selection); nothing was run\n",
	        n, n == 1 ? " is" : "s are");
	return EXIT_USAGE;
}

/* The loader's options from the command line (--var, --env-file, --set). */
void load_opts_of(const struct cli *c, struct load_opts *lo)
{
	load_opts_init(lo);
	lo->vars = c->vars;
	lo->nvars = c->nvars;
	lo->env_file = c->env_file;
	lo->sets = c->sets;
	lo->nsets = c->nsets;
}

static int load(const struct cli *c, struct plan *p)
{
	if (!c->target)
		return usage_error(
		    "'%s' needs a suite (a directory with suite.yaml, or a YAML file)", c->command);
	struct load_opts lo;
	load_opts_of(c, &lo);
	struct diags d;
	diags_init(&d);
	memset(p, 0, sizeof(*p));
	int loaded = suite_load(p, c->target, &lo, &d) == 0; /* else p is released */
	int rc = loaded ? 0 : -1;
	if (loaded) { /* with no selector, everything is selected */
		struct plan_selector sel;
		selector_of(c, &sel);
		rc = plan_select(p, &sel, &d);
	}
	if (rc != 0 || d.n) {
		if (loaded)
			plan_release(p);
		return report_diags(c->target, &d);
	}
	diags_release(&d);
	rc = load_attestations(c, p);
	if (rc != 0)
		plan_release(p);
	return rc;
}

/* --prior: the earlier run a run in a required_for environment relies on.
 * Returns 0 (*out set when one was given) or EXIT_USAGE, nothing run. */
static int check_prior(const struct cli *c, const struct plan *p, struct res_prior **out)
{
	struct diags d;
	diags_init(&d);
	if (prior_check(p, c->prior, 0, out, &d) != 0)
		return report_diags("--prior", &d);
	diags_release(&d);
	return 0;
}

/* validate: every automated check without a remedy: is a warning, or an
 * error with --strict (require: {remedy: true} made it one at load time).
 * Returns 0 or EXIT_USAGE. */
static int check_remedies(const struct cli *c, const struct plan *p)
{
	struct diags d;
	diags_init(&d);
	size_t n = remedies_missing(p, &d);
	if (n && c->strict)
		return report_diags(c->target, &d);
	for (size_t i = 0; i < d.n; i++) {
		const struct diag *g = &d.v[i];
		fprintf(stderr, "%s:%u:%u: warning: %s\n", g->file ? g->file : "?", g->line, g->col,
		        g->msg);
	}
	if (n)
		fprintf(stderr,
		        "phasegate: %zu automated check%s no remedy: (an error with --strict or "
		        "require: {remedy: true})\n",
		        n, n == 1 ? " has" : "s have");
	diags_release(&d);
	return 0;
}

static int cmd_modules(void)
{
	size_t n;
	const struct check_module *const *all = module_all(&n);
	for (size_t i = 0; i < n; i++) {
		const struct check_module *m = all[i];
		printf("%-11s %s\n", m->name, m->summary ? m->summary : "");
		for (const struct key_spec *k = m->keys; k && k->name; k++)
			printf("            %-18s %s%s\n", k->name, k->doc ? k->doc : "",
			       (k->flags & KEY_REQUIRED) ? " (required)" : "");
	}
	return EXIT_PASS;
}

static int publish_results(const struct cli *c, const struct run_result *r, struct console *con);

static int cmd_run(const struct cli *c, struct plan *p, const struct res_prior *prior)
{
	int rc = guard_destructive(c, p);
	if (rc)
		return rc;
	int tty = isatty(STDOUT_FILENO);
	const char *nc = getenv("NO_COLOR");
	int color = tty && !c->no_color && !(nc && nc[0]);
	struct console *con = c->quiet ? NULL : console_new(stdout, color, tty, c->verbose);
	struct sched_observer obs;
	console_observer(con, &obs);

	const char **opts = NULL;
	size_t nopts = 0;
	char *attest_opt = c->attests.n ? xasprintf("attest=%s", c->attests.v[0]) : NULL;
	char *out_opt = c->out_dir ? xasprintf("out-dir=%s", c->out_dir) : NULL;
	if (attest_opt)
		push(&opts, &nopts, attest_opt);
	if (out_opt)
		push(&opts, &nopts, out_opt);
	push(&opts, &nopts, NULL);
	nopts--;

	struct plan_selector sel;
	selector_of(c, &sel);
	char *seltext = plan_selector_text(&sel);
	struct sched_opts so = {
	    .jobs = (int)c->jobs,
	    .global_timeout_ms = c->timeout_ms,
	    .keep_going = c->keep_going,
	    .options = opts,
	    .noptions = nopts,
	    .attest_files = c->attests.v,
	    .nattest_files = c->attests.n,
	    .selection = seltext,
	    .run_id = c->run_id,
	    .allow_destructive = c->allow_destructive,
	    .observer = con ? &obs : NULL,
	    .prior = prior,
	};
	struct run_result r;
	memset(&r, 0, sizeof(r));
	struct pg_err e;
	if (sched_run(p, &so, &r, &e) != 0) {
		fprintf(stderr, "phasegate: %s\n", e.msg);
		rc = EXIT_INTERNAL;
	} else {
		escalation_apply(p, &r);
		if (con && r.escalation) {
			char *note = escalation_text(r.escalation);
			console_note(con, note);
			free(note);
		}
		rc = verdict_exit_code(&r, c->require_go);
		if (rc == EXIT_NOT_GO && con) {
			char *note = xasprintf("--require go: the verdict is %s, not GO (exit 4)",
			                       r.verdict);
			console_note(con, note);
			free(note);
		}
		int wr = write_reports(c, c->out_dir, &r, con);
		if (wr && (rc < EXIT_INTERNAL || rc == EXIT_NOT_GO))
			rc = wr;
		if (c->publish && publish_results(c, &r, con) != 0)
			rc = EXIT_INTERNAL;
	}
	result_release(&r);
	if (con)
		console_free(con);
	free(seltext);
	free(attest_opt);
	free(out_opt);
	free(opts);
	return rc;
}

/* phasegate health [--customizations DIR] FILE...: 0 every file was read,
 * 2 a file could not be read or held something else than objects. */
static int cmd_health(int argc, char **argv)
{
	const char *dir = NULL;
	const char **files = xcalloc((size_t)argc + 1, sizeof(*files));
	size_t n = 0;
	int rc = EXIT_PASS;
	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--customizations") == 0 && i + 1 < argc)
			dir = argv[++i];
		else if (strncmp(argv[i], "--customizations=", 17) == 0)
			dir = argv[i] + 17;
		else if (argv[i][0] == '-' && argv[i][1] && strcmp(argv[i], "--") != 0)
			rc = usage_error("health: unknown option '%s' (--customizations DIR)",
			                 argv[i]);
		else if (strcmp(argv[i], "--") != 0)
			files[n++] = argv[i];
	}
	if (rc == EXIT_PASS && n == 0)
		rc = usage_error("health needs at least one YAML file");
	if (rc == EXIT_PASS) {
		struct diags d;
		diags_init(&d);
		if (health_cmd_run(dir, files, n, stdout, &d) != 0)
			rc = EXIT_USAGE;
		diags_print(&d, stderr);
		diags_release(&d);
	}
	free(files);
	return rc;
}

/* ---- results into and out of ConfigMaps (cli/k8s_publish.c) --------- */

/* The cluster to publish to or collect from: the k8s module's settings
 * given as --set k8s.KEY=VALUE (the member's own for a fleet). */
void k8s_opts_from_sets(const char *const *sets, size_t n, struct k8s_publish_opts *o)
{
	static const struct {
		const char *prefix;
		size_t off;
	} keys[] = {
	    {"k8s.kubeconfig=", offsetof(struct k8s_publish_opts, kubeconfig)},
	    {"k8s.context=", offsetof(struct k8s_publish_opts, context)},
	    {"k8s.service_account_dir=", offsetof(struct k8s_publish_opts, sa_dir)},
	};
	for (size_t i = 0; i < n; i++)
		for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++)
			if (strncmp(sets[i], keys[k].prefix, strlen(keys[k].prefix)) == 0)
				*(const char **)(void *)((char *)o + keys[k].off) =
				    sets[i] + strlen(keys[k].prefix);
}

static int publish_results(const struct cli *c, const struct run_result *r, struct console *con)
{
	struct k8s_publish_opts o = {.timeout_ms = 30000};
	k8s_opts_from_sets(c->sets, c->nsets, &o);
	char *ns = NULL, *name = NULL;
	struct pg_err e;
	if (k8s_publish_target(c->publish, &ns, &name, &e) != 0 ||
	    k8s_publish_results(&o, ns, name, r, &e) != 0) {
		fprintf(stderr, "phasegate: %s\n", e.msg);
		free(ns);
		free(name);
		return -1;
	}
	if (con) {
		char *note = xasprintf("published: configmap/%s/%s", ns, name);
		console_note(con, note);
		free(note);
	}
	free(ns);
	free(name);
	return 0;
}

/* rbac: the Roles the suite needs, bound to --service-account NS/NAME. */
static int cmd_rbac(const struct cli *c, const struct plan *p)
{
	const char *sa = c->service_account ? c->service_account : "phasegate/phasegate";
	const char *slash = strchr(sa, '/');
	if (!slash || slash == sa || !slash[1] || strchr(slash + 1, '/'))
		return usage_error("--service-account needs NAMESPACE/NAME, got '%s'", sa);
	char *sa_ns = xstrndup(sa, (size_t)(slash - sa));
	struct rbac_opts o = {.sa_namespace = sa_ns, .sa_name = slash + 1};
	char *pns = NULL, *pname = NULL;
	struct pg_err e;
	if (c->publish && k8s_publish_target(c->publish, &pns, &pname, &e) == 0) {
		o.publish_ns = pns;
		o.publish_name = pname;
	}
	char *y = rbac_render(p, &o);
	fputs(y, stdout);
	free(y);
	free(pns);
	free(pname);
	free(sa_ns);
	return EXIT_PASS;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	struct cli c;
	memset(&c, 0, sizeof(c));
	/* The command table (cli/cli_table.c) says which options exist and
	 * where they apply; parse_cli() then reads their values. */
	if (argc > 1 && strcmp(argv[1], "__complete") == 0)
		return cli_complete_main(argc - 1, argv + 1);
	const struct cli_command *cmd;
	int want_help;
	char msg[512];
	int rc = 0;
	if (cli_check(argc, argv, &cmd, &want_help, msg, sizeof(msg)) != 0) {
		rc = usage_error("%s", msg);
		goto done;
	}
	if (want_help) {
		cli_print_help(stdout, cmd);
		goto done;
	}
	if (argc > 1 && strcmp(argv[1], "health") == 0)
		return cmd_health(argc - 2, argv + 2);
	rc = parse_cli(argc, argv, &c);
	if (rc)
		goto done;
	if (!c.command || strcmp(c.command, "help") == 0) {
		const struct cli_command *about = c.target ? cli_command_find(c.target) : NULL;
		if (c.target && !about) {
			rc = usage_error("no command '%s' to help with", c.target);
			goto done;
		}
		cli_print_help(c.command ? stdout : stderr, about);
		rc = c.command ? EXIT_PASS : EXIT_USAGE;
		goto done;
	}
	if (c.publish) {
		char *ns, *name;
		struct pg_err e;
		if (k8s_publish_target(c.publish, &ns, &name, &e) != 0) {
			rc = usage_error("--publish: %s", e.msg);
			goto done;
		}
		free(ns);
		free(name);
	}
	if (strcmp(c.command, "version") == 0) {
		printf("phasegate %s\n", PHASEGATE_VERSION);
		goto done;
	}
	if (c.plugins) {
		struct pg_err e;
		if (module_load_plugins(c.plugins, &e) != 0) {
			fprintf(stderr, "phasegate: %s\n", e.msg);
			rc = EXIT_USAGE;
			goto done;
		}
	}
	if (strcmp(c.command, "modules") == 0) {
		rc = cmd_modules();
		goto done;
	}
	if (strcmp(c.command, "report") == 0) {
		rc = cmd_report(&c);
		goto done;
	}
	if (strcmp(c.command, "attest") == 0) {
		rc = cmd_attest(&c);
		goto done;
	}
	if (strcmp(c.command, "collect") == 0) {
		http_global_init();
		rc = cmd_collect(&c);
		http_global_cleanup();
		goto done;
	}
	if (strcmp(c.command, "merge") == 0) {
		rc = cmd_merge(&c);
		goto done;
	}
	if (strcmp(c.command, "schema") == 0) {
		char *sch = schema_render();
		fputs(sch, stdout);
		free(sch);
		goto done;
	}
	int is_run = strcmp(c.command, "run") == 0;
	int is_validate = strcmp(c.command, "validate") == 0;
	int is_list = strcmp(c.command, "list") == 0;
	int is_rbac = strcmp(c.command, "rbac") == 0;
	if (!is_run && !is_validate && !is_list && !is_rbac) {
		rc = usage_error(
		    "unknown command '%s' (run, validate, list, report, attest, modules)",
		    c.command);
		goto done;
	}
	http_global_init();
	http_set_concurrency((int)c.jobs);
	install_signals();
	struct plan p;
	struct res_prior *prior = NULL;
	rc = load(&c, &p);
	if (rc == 0 && (is_run || c.prior) && (rc = check_prior(&c, &p, &prior)) != 0)
		plan_release(&p);
	if (rc == 0) {
		if (is_validate && (rc = check_remedies(&c, &p)) != 0) {
			/* printed */
		} else if (is_validate) {
			size_t checks = 0, steps = 0;
			for (size_t i = 0; i < p.nphases; i++) {
				steps += p.phases[i].nsteps;
				for (size_t j = 0; j < p.phases[i].nsteps; j++)
					checks += p.phases[i].steps[j].nchecks +
					          p.phases[i].steps[j].nactions;
			}
			printf("%s: suite '%s' is valid: %zu phases, %zu steps, %zu checks and "
			       "actions%s\n",
			       c.target, p.name, p.nphases, steps, checks,
			       c.attests.n ? "; its attestations are valid" : "");
			printf("suite digest %s\n", p.digest);
			when_print_summary(&p, stdout);
			if (prior)
				printf("prior run %s (environment %s, finished %s) is valid\n",
				       prior->run_id ? prior->run_id : "?",
				       prior->environment ? prior->environment : "?",
				       prior->finished_at);
			list_destructive(&p, stdout);
		} else if (is_rbac) {
			rc = cmd_rbac(&c, &p);
		} else if (is_list && c.ids) {
			print_ids(&p);
		} else if (is_list || c.dry_run) {
			print_plan(&p, c.dry_run, c.dry_run);
		} else if (c.ncontexts || c.kubeconfig_dir) {
			rc = cmd_fleet_run(&c, argc, argv);
		} else {
			rc = cmd_run(&c, &p, prior);
		}
		res_prior_free(prior);
		plan_release(&p);
	}
	http_global_cleanup();
done:
	for (size_t i = 0; i < c.nowned; i++)
		free((char *)c.owned[i]);
	free(c.owned);
	free(c.phases.v);
	free(c.steps.v);
	free(c.tags.v);
	free(c.skip_tags.v);
	free(c.attests.v);
	free(c.vars);
	free(c.sets);
	free(c.contexts);
	free(c.operands);
	return rc;
}
