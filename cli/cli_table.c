/* cli_table.c - phasegate's commands and options as one table (see
 * cli_table.h): help texts, did-you-mean hints, the rule that an option a
 * command does not use is an error, and the lists the shell completions
 * read. */
#include <stdarg.h>
#include <string.h>

#include "cli_table.h"
#include "util.h"

static const struct cli_option options[] = {
    {"--phase", NULL, "ID", "select phases (repeat or comma-separate)", "phase"},
    {"--step", NULL, "ID", "select steps (repeat or comma-separate)", "step"},
    {"--tag", NULL, "TAG", "select the checks carrying a tag (repeatable)", "tag"},
    {"--skip-tag", NULL, "TAG", "leave out the checks and actions carrying a tag", "tag"},
    {"--until", NULL, "STEP", "select up to and including this step", "step"},
    {"--allow-destructive", NULL, NULL, "run deletions, replacements and restores", NULL},
    {"--allowed-signers", NULL, "FILE", "ssh allowed_signers that verify signed sign-offs",
     "file"},
    {"--by", NULL, "NAME", "attest: who signs off", "none"},
    {"--note", NULL, "TEXT", "attest: a note kept with the sign-off", "none"},
    {"--sign", NULL, "KEY", "attest: sign the entry with this ssh key (ssh-keygen -Y)", "file"},
    {"--suite-digest", NULL, "DIGEST", "attest: the sign-off is for this suite digest only",
     "none"},
    {"--for-suite", NULL, "SUITE", "attest: the sign-off is for this suite only (its digest)",
     "file"},
    {"--prior", NULL, "RESULTS.json",
     "the earlier GO run a production run relies on (suite prior: rule)", "file"},
    {"--strict", NULL, NULL, "validate: an automated check without a remedy is an error", NULL},
    {"--customizations", NULL, "DIR", "health: a resource_customizations/ directory", "dir"},
    {"--var", NULL, "NAME=VALUE", "set a variable (repeatable)", "none"},
    {"--env-file", NULL, "FILE", "read variables from a NAME=VALUE file", "file"},
    {"--set", NULL, "MODULE.KEY=VALUE", "a module setting (repeatable)", "none"},
    {"--attest", NULL, "FILE", "sign-offs for manual checks and approvals (repeatable)", "file"},
    {"--dry-run", NULL, NULL, "print the plan with variables resolved; run nothing", NULL},
    {"--jobs", NULL, "N", "concurrent checks per checkpoint (1-256, default 8)", "none"},
    {"--timeout", NULL, "DURATION", "deadline for the whole run (90s, 10m)", "none"},
    {"--keep-going", NULL, NULL, "do not stop at failed gates (diagnosis only)", NULL},
    {"--require", NULL, "VERDICT", "exit 4 unless the verdict is this one (go)", "verdict"},
    {"--plugins", NULL, "DIR", "load external check modules from DIR", "dir"},
    {"--run-id", NULL, "ID", "the run's id in reports (default: time and random)", "none"},
    {"--junit", NULL, "FILE", "write the JUnit XML report", "file"},
    {"--markdown", NULL, "FILE", "write the Markdown go-live report", "file"},
    {"--json", NULL, "FILE", "write the results JSON", "file"},
    {"--html", NULL, "FILE", "write the HTML go-live report (one printable file)", "file"},
    {"--out", NULL, "DIR", "junit.xml, report.md and results.json in DIR", "dir"},
    {"--context", NULL, "NAME", "a cluster by kubeconfig context; repeat for a fleet", "context"},
    {"--kubeconfig-dir", NULL, "DIR", "a fleet: one cluster per kubeconfig file in DIR", "dir"},
    {"--publish", NULL, "configmap/NS/NAME", "also write the results into a ConfigMap", "none"},
    {"--from", NULL, "STEP|TARGET",
     "run, list: resume at this step; collect: configmap/NS/NAME in-cluster runs published",
     "step"},
    {"--service-account", NULL, "NS/NAME", "the ServiceAccount the Roles are bound to", "none"},
    {"--ids", NULL, NULL, "print phase, step and tag ids, one per line", NULL},
    {"--no-color", NULL, NULL, "no colour on the console (also: NO_COLOR=1)", NULL},
    {"--verbose", "-v", NULL, "print every check's details", NULL},
    {"--quiet", "-q", NULL, "print nothing but errors", NULL},
    {"--help", "-h", NULL, "this command's usage", NULL},
    {"--version", NULL, NULL, "print phasegate's version", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static const char *const run_opts[] = {
    "--phase",      "--step",    "--tag",     "--var",     "--env-file",
    "--set",        "--attest",  "--dry-run", "--jobs",    "--timeout",
    "--keep-going", "--require", "--plugins", "--run-id",  "--junit",
    "--markdown",   "--json",    "--html",    "--out",     "--no-color",
    "--verbose",    "--quiet",   "--help",    "--context", "--kubeconfig-dir",
    "--publish",    "--skip-tag", "--from",  "--until",   "--allow-destructive",
    "--allowed-signers", "--prior", NULL,
};
static const char *const rbac_opts[] = {
    "--var", "--env-file", "--set", "--plugins", "--service-account", "--publish", "--help", NULL};
static const char *const merge_opts[] = {"--out", "--require", "--help", NULL};
static const char *const collect_opts[] = {"--context", "--kubeconfig-dir", "--from", "--out",
                                           "--require", "--help",           NULL};
static const char *const validate_opts[] = {
    "--phase", "--step",   "--tag",    "--skip-tag", "--from", "--until", "--var",
    "--env-file", "--set", "--plugins", "--attest", "--allowed-signers", "--prior", "--strict",
    "--help", NULL,
};
static const char *const list_opts[] = {
    "--phase", "--step",    "--tag", "--skip-tag", "--from", "--until", "--var",
    "--env-file", "--set",  "--plugins", "--ids", "--help", NULL,
};
static const char *const report_opts[] = {
    "--junit", "--markdown", "--json", "--html", "--out", "--attest", "--allowed-signers",
    "--require", "--help", NULL,
};
static const char *const attest_opts[] = {"--by",         "--note",      "--run-id", "--sign",
                                          "--suite-digest", "--for-suite", "--var",
                                          "--env-file",   "--set",       "--help",   NULL};
static const char *const health_opts[] = {"--customizations", "--help", NULL};
static const char *const plugin_opts[] = {"--plugins", "--help", NULL};
static const char *const help_opts[] = {"--help", NULL};

static const struct cli_command commands[] = {
    {"run", "SUITE", "run a suite: phases in order, stop at the first failed gate",
     "Loads and validates the whole suite, then runs its phases, steps and checkpoints in "
     "order. A failed gate stops the run; the step's on_failure collectors document it. "
     "Exit 0 when every gate passed, 1 when a gate failed, 4 with --require go when the "
     "verdict is not GO. With --context repeated or --kubeconfig-dir, runs once per cluster "
     "at the same time, each under OUT/<cluster>/, and writes the fleet report OUT/fleet.md "
     "(the fleet verdict is the worst). --publish configmap/NS/NAME also stores results.json "
     "and report.md in that ConfigMap (for in-cluster runs).",
     run_opts},
    {"validate", "SUITE", "load and check the whole suite; run nothing",
     "Reports every problem with file:line:column and exits 2, or says the suite is valid "
     "and prints its digest. Automated checks without a remedy: are warnings (errors with "
     "--strict or the suite's require: {remedy: true}).",
     validate_opts},
    {"list", "SUITE", "print phases, steps, gates and checks in order",
     "With --ids, prints one 'phase ID', 'step ID' or 'tag TAG' line per id (for shell "
     "completion and scripts).",
     list_opts},
    {"report", "RESULTS.json", "render reports again from a results JSON file",
     "With --attest, re-judges the run's pending checks and approvals against the sign-offs "
     "(nothing runs again) and rewrites the run's reports with the new verdict.",
     report_opts},
    {"attest", "FILE ID", "record a sign-off for ID in FILE (at = now)",
     "Needs --by NAME; --note TEXT, --run-id RUN (the sign-off then counts only for that run), "
     "--suite-digest DIGEST or --for-suite SUITE (it then counts only for that suite; "
     "elsewhere it is exit 2) and --sign KEY (an ssh-keygen -Y signature, namespace "
     "phasegate) are optional.",
     attest_opts},
    {"health", "FILE...", "Argo CD's health of every object in YAML files (JSON lines)",
     "Uses Argo CD's Lua health checks from --customizations DIR (laid out like Argo CD's "
     "resource_customizations/) where one exists for the kind, else the built-in rules.",
     health_opts},
    {"rbac", "SUITE", "print the least-privilege Role/ClusterRole the suite needs",
     "Derived from the plan: the verbs, resources and namespaces of every k8s check and "
     "action, bound to --service-account NS/NAME (default phasegate/phasegate); with "
     "--publish, also the right to write the results ConfigMap.",
     rbac_opts},
    {"merge", "RESULTS.json...", "build the fleet report from results made elsewhere",
     "Each operand is a results file (from --out or --json), named after its directory "
     "(out/prod/results.json is 'prod') or given as NAME=PATH. Writes OUT/<cluster>/ and "
     "OUT/fleet.md and fleet.json; the fleet verdict is the worst of the clusters'.",
     merge_opts},
    {"collect", "", "read the results in-cluster runs published, and build the fleet report",
     "Reads the ConfigMap named by --from (default configmap/phasegate/phasegate-results) "
     "from every cluster given by --context or --kubeconfig-dir, writes OUT/<cluster>/ and "
     "the fleet report OUT/fleet.md.",
     collect_opts},
    {"modules", "", "list the check modules and their keys", NULL, plugin_opts},
    {"schema", "", "print the JSON Schema of suite files (for editors)",
     "Generated from the loader's key tables and every module's keys; see "
     "phasegate-suite(5) for the yaml-language-server modeline.",
     plugin_opts},
    {"help", "[COMMAND]", "print the usage of phasegate or of one command", NULL, help_opts},
    {"version", "", "print phasegate's version", NULL, help_opts},
    {NULL, NULL, NULL, NULL, NULL},
};

const struct cli_command *cli_commands(void)
{
	return commands;
}

const struct cli_option *cli_options(void)
{
	return options;
}

const struct cli_command *cli_command_find(const char *name)
{
	for (const struct cli_command *c = commands; name && c->name; c++)
		if (strcmp(c->name, name) == 0)
			return c;
	return NULL;
}

const struct cli_option *cli_option_find(const char *name)
{
	for (const struct cli_option *o = options; name && o->name; o++)
		if (strcmp(o->name, name) == 0 || (o->alias && strcmp(o->alias, name) == 0))
			return o;
	return NULL;
}

int cli_option_applies(const struct cli_command *c, const struct cli_option *o)
{
	if (!c || strcmp(o->name, "--help") == 0 || strcmp(o->name, "--version") == 0)
		return 1;
	for (const char *const *n = c->options; *n; n++)
		if (strcmp(*n, o->name) == 0)
			return 1;
	return 0;
}

/* The nearest of names (a NULL-terminated walk through a table with a name
 * field at stride bytes), within 2 edits and fewer edits than the word is
 * long; NULL when none is. */
static const char *nearest(const char *word, const void *table, size_t stride)
{
	const char *best = NULL;
	size_t bestd = 3;
	for (const char *p = table;; p += stride) {
		const char *name = *(const char *const *)(const void *)p;
		if (!name)
			break;
		size_t d = edit_distance(word, name);
		if (d < bestd && d < strlen(word)) {
			bestd = d;
			best = name;
		}
	}
	return best;
}

static int fail(char *msg, size_t n, const char *fmt, ...) PG_PRINTF(3, 4);
static int fail(char *msg, size_t n, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, n, fmt, ap);
	va_end(ap);
	return -1;
}

/* The commands an option applies to, for the message. */
static void applies_to(const struct cli_option *o, char *out, size_t n)
{
	size_t len = 0;
	out[0] = 0;
	for (const struct cli_command *c = commands; c->name && len < n; c++) {
		if (!cli_option_applies(c, o) || strcmp(c->name, "help") == 0 ||
		    strcmp(c->name, "version") == 0)
			continue;
		int w = snprintf(out + len, n - len, "%s%s", len ? ", " : "", c->name);
		if (w < 0)
			break;
		len += (size_t)w;
	}
}

int cli_check(int argc, char **argv, const struct cli_command **command, int *help, char *msg,
              size_t n)
{
	const struct cli_option *given[64];
	size_t ngiven = 0;
	*command = NULL;
	*help = 0;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (a[0] != '-' || a[1] == 0) {
			if (*command)
				continue; /* an operand; main.c counts them */
			*command = cli_command_find(a);
			if (!*command) {
				const char *hint = nearest(a, commands, sizeof(commands[0]));
				if (hint)
					return fail(msg, n,
					            "unknown command '%s' (did you mean '%s'?)", a,
					            hint);
				return fail(msg, n, "unknown command '%s' (see 'phasegate help')",
				            a);
			}
			continue;
		}
		const char *eq = strchr(a, '=');
		char name[64];
		size_t len = eq ? (size_t)(eq - a) : strlen(a);
		if (len >= sizeof(name))
			len = sizeof(name) - 1;
		memcpy(name, a, len);
		name[len] = 0;
		const struct cli_option *o = cli_option_find(name);
		if (!o) {
			const char *hint = nearest(name, options, sizeof(options[0]));
			if (hint)
				return fail(msg, n, "unknown option '%s' (did you mean '%s'?)",
				            name, hint);
			return fail(msg, n, "unknown option '%s'", name);
		}
		if (!o->arg && eq)
			return fail(msg, n, "option '%s' takes no value", o->name);
		if (o->arg && !eq) {
			if (i + 1 >= argc)
				return fail(msg, n, "option '%s' needs a value (%s)", o->name,
				            o->arg);
			i++; /* its value, even when it starts with '-' */
		}
		if (strcmp(o->name, "--help") == 0)
			*help = 1;
		if (ngiven < sizeof(given) / sizeof(given[0]))
			given[ngiven++] = o;
	}
	/* "phasegate --version" alone is the version command */
	for (size_t k = 0; k < ngiven; k++) {
		char where[256];
		if (cli_option_applies(*command, given[k]))
			continue;
		applies_to(given[k], where, sizeof(where));
		return fail(msg, n, "option '%s' does not apply to '%s' (it applies to: %s)",
		            given[k]->name, (*command)->name, where[0] ? where : "no command");
	}
	return 0;
}

static void print_options(FILE *f, const struct cli_command *c)
{
	for (const char *const *n = c->options; *n; n++) {
		const struct cli_option *o = cli_option_find(*n);
		char left[48];
		snprintf(left, sizeof(left), "%s%s%s%s%s", o->alias ? o->alias : "",
		         o->alias ? ", " : "", o->name, o->arg ? " " : "", o->arg ? o->arg : "");
		fprintf(f, "  %-26s %s\n", left, o->help);
	}
}

void cli_print_help(FILE *f, const struct cli_command *c)
{
	if (c) {
		fprintf(f, "usage: phasegate %s%s%s [options]\n\n%s.\n", c->name,
		        c->args[0] ? " " : "", c->args, c->summary);
		if (c->detail)
			fprintf(f, "%s\n", c->detail);
		fprintf(f, "\noptions:\n");
		print_options(f, c);
		fprintf(
		    f,
		    "\nSee phasegate(1) for the exit codes and phasegate-suite(5) for suites.\n");
		return;
	}
	fprintf(f, "usage: phasegate <command> [options]\n\ncommands:\n");
	for (const struct cli_command *k = commands; k->name; k++) {
		char left[40];
		snprintf(left, sizeof(left), "%s %s", k->name, k->args);
		fprintf(f, "  %-22s %s\n", left, k->summary);
	}
	fprintf(f,
	        "\n'phasegate help COMMAND' or 'phasegate COMMAND --help' shows a command's "
	        "options.\n\n"
	        "verdicts:   GO, NO-GO, PENDING (a sign-off is open), PARTIAL (part of the suite ran)\n"
	        "exit codes: 0 GO, PENDING or PARTIAL; 1 NO-GO (a gate failed or --timeout passed);\n"
	        "            2 the suite, an attestation, a --prior run or the command line is wrong\n"
	        "              (nothing ran);\n"
	        "            3 internal or environment error (e.g. a report could not be written);\n"
	        "            4 --require go and the verdict is not GO; 130/143 interrupted\n");
}

void cli_print_commands(FILE *f)
{
	for (const struct cli_command *c = commands; c->name; c++)
		fprintf(f, "%s\t%s\n", c->name, c->summary);
}

void cli_print_flags(FILE *f, const struct cli_command *c)
{
	for (const char *const *n = c->options; *n; n++) {
		const struct cli_option *o = cli_option_find(*n);
		fprintf(f, "%s\t%s\t%s\n", o->name,
		        o->arg ? (o->complete ? o->complete : "none") : "-", o->help);
		if (o->alias)
			fprintf(f, "%s\t-\t%s\n", o->alias, o->help);
	}
}

int cli_complete_main(int argc, char **argv)
{
	if (argc == 2 && strcmp(argv[1], "commands") == 0) {
		cli_print_commands(stdout);
		return 0;
	}
	if (argc == 3 && strcmp(argv[1], "flags") == 0) {
		const struct cli_command *c = cli_command_find(argv[2]);
		if (!c)
			return 2;
		cli_print_flags(stdout, c);
		return 0;
	}
	fprintf(stderr, "usage: phasegate __complete commands | flags COMMAND\n");
	return 2;
}
