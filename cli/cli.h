/* cli.h - what the command line's files share: the parsed command line,
 * the exit codes and the helpers every command uses. cli/main.c parses
 * argv and runs validate, list, run and the small commands; cli/cmd_sign.c
 * is report and attest (sign-offs); cli/cmd_fleet.c is fleet runs, merge
 * and collect. The command layer is the only one that includes the core
 * (runner/, checks/) and the writers (reports/) together. */
#ifndef PG_CLI_H
#define PG_CLI_H

#include <stddef.h>

#include "k8s_publish.h"
#include "report.h"
#include "result.h"
#include "suite.h"
#include "util.h"

enum exit_code {
	EXIT_PASS = 0,
	EXIT_GATE_FAILED = 1,
	EXIT_USAGE = 2,
	EXIT_INTERNAL = 3,
	EXIT_NOT_GO = 4,
};

struct strlist {
	const char **v;
	size_t n;
};

struct cli {
	const char *command;
	const char *target;
	const char *extra; /* attest: the id */
	struct strlist phases, steps, tags, skip_tags, attests;
	const char *from, *until;
	const char **vars;
	size_t nvars;
	const char **sets;
	size_t nsets;
	const char **owned; /* comma-split pieces (malloc'd) */
	size_t nowned;
	const char *env_file;
	const char *allowed_signers;
	const char *by, *note, *sign_key;
	const char *suite_digest, *for_suite; /* attest: the suite the sign-off is for */
	const char *prior;                    /* run: --prior RESULTS.json */
	const char *junit, *markdown, *json, *out_dir;
	const char *html;
	const char *plugins;
	const char *run_id;
	const char **contexts; /* fleet: --context (repeatable) */
	size_t ncontexts;
	const char *kubeconfig_dir;  /* fleet: one cluster per kubeconfig file */
	const char *publish;         /* configmap/NS/NAME */
	const char *service_account; /* rbac: NAMESPACE/NAME */
	const char **operands;       /* every operand after the command (merge takes many) */
	size_t noperands;
	int ids;
	int dry_run, keep_going, no_color, verbose, quiet, allow_destructive, require_go;
	int strict; /* validate --strict: remedy warnings are errors */
	long jobs;
	long long timeout_ms;
};

/* Prints "phasegate: MESSAGE" and the usage hint; returns EXIT_USAGE. */
int usage_error(const char *fmt, ...) PG_PRINTF(1, 2);
/* Appends s to the growing array *v of *n entries. */
void push(const char ***v, size_t *n, const char *s);
/* Adds id to *ids unless NULL. */
void add_id(const char ***ids, size_t *n, const char *id);
/* Prints d; EXIT_USAGE when it holds errors (what names the input), else 0. */
int report_diags(const char *what, struct diags *d);
/* The loader's options from the command line (variables, env file). */
void load_opts_of(const struct cli *c, struct load_opts *lo);
/* Writes every report the command line asks for; 0 or EXIT_INTERNAL. */
int write_reports(const struct cli *c, const char *out_dir, const struct run_result *r,
                  struct console *con);
/* --set key=value pairs into ConfigMap publishing options. */
void k8s_opts_from_sets(const char *const *sets, size_t n, struct k8s_publish_opts *o);

/* The commands of cli/cmd_sign.c and cli/cmd_fleet.c; each returns the exit code. */
int cmd_report(const struct cli *c);
int cmd_attest(const struct cli *c);
int cmd_fleet_run(const struct cli *c, int argc, char **argv);
int cmd_merge(const struct cli *c);
int cmd_collect(const struct cli *c);

#endif
