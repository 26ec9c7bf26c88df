/* cmd_fleet.c - one suite over many clusters on the command line:
 * "phasegate run --context ..." / "--kubeconfig-dir" starts a child run per
 * cluster (cli/fleet.c) and judges the fleet; "merge" joins results
 * files into one; "collect" reads results published to ConfigMaps. */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "fleet.h"

/* ---- fleets (cli/fleet.c): one suite over many clusters ---------------- */

/* The run's own arguments for each cluster's child: argv without the fleet
 * options, --out and --require (each child writes OUT/<cluster>/; the
 * fleet verdict is what --require judges). */
static const char **fleet_child_args(int argc, char **argv, size_t *n)
{
	static const char *const drop[] = {"--context", "--kubeconfig-dir", "--out", "--require",
	                                   NULL};
	const char **v = NULL;
	*n = 0;
	for (int i = 1; i < argc; i++) {
		int dropped = 0;
		for (size_t k = 0; drop[k] && !dropped; k++) {
			size_t len = strlen(drop[k]);
			if (strncmp(argv[i], drop[k], len) != 0)
				continue;
			if (argv[i][len] == 0) {
				i++; /* and its value */
				dropped = 1;
			} else if (argv[i][len] == '=') {
				dropped = 1;
			}
		}
		if (!dropped)
			push(&v, n, argv[i]);
	}
	return v;
}

static int kubeconfig_file(const struct dirent *d)
{
	return d->d_name[0] != '.' &&
	       (d->d_type == DT_REG || d->d_type == DT_LNK || d->d_type == DT_UNKNOWN);
}

/* One member per --context, or per file of --kubeconfig-dir (named after
 * the file without its .yaml/.yml/.conf/.kubeconfig ending). The k8s
 * module's settings say which cluster a child talks to. */
static int fleet_members(const struct cli *c, struct fleet *f)
{
	if (c->ncontexts && c->kubeconfig_dir)
		return usage_error("give either --context or --kubeconfig-dir, not both");
	for (size_t i = 0; i < c->ncontexts; i++) {
		char *set = xasprintf("k8s.context=%s", c->contexts[i]);
		const char *extra[] = {"--set", set, NULL};
		fleet_add(f, c->contexts[i], extra);
		free(set);
	}
	if (c->kubeconfig_dir) {
		struct dirent **list = NULL;
		int n = scandir(c->kubeconfig_dir, &list, kubeconfig_file, alphasort);
		if (n < 0)
			return usage_error("cannot read --kubeconfig-dir '%s': %s",
			                   c->kubeconfig_dir, strerror(errno));
		for (int i = 0; i < n; i++) {
			char *label = xstrdup(list[i]->d_name);
			static const char *const ends[] = {".yaml", ".yml", ".conf", ".kubeconfig"};
			for (size_t k = 0; k < sizeof(ends) / sizeof(ends[0]); k++) {
				size_t ll = strlen(label), el = strlen(ends[k]);
				if (ll > el && strcmp(label + ll - el, ends[k]) == 0)
					label[ll - el] = 0;
			}
			char *set =
			    xasprintf("k8s.kubeconfig=%s/%s", c->kubeconfig_dir, list[i]->d_name);
			const char *extra[] = {"--set", set, NULL};
			if (f->n < 512)
				fleet_add(f, label, extra);
			free(set);
			free(label);
			free(list[i]);
		}
		free(list);
		if (!f->n)
			return usage_error("no kubeconfig files in '%s'", c->kubeconfig_dir);
	}
	return 0;
}

/* Prints one line per cluster and the fleet verdict; writes the fleet
 * report; returns the exit code. */
static int fleet_finish(const struct cli *c, const struct fleet *f)
{
	struct pg_err e;
	int rc = fleet_exit_code(f);
	if (fleet_write(f, c->out_dir, &e) != 0) {
		fprintf(stderr, "phasegate: %s\n", e.msg);
		rc = EXIT_INTERNAL;
	}
	for (size_t i = 0; i < f->n; i++) {
		const struct fleet_member *m = &f->m[i];
		char *label = mask_dup(m->cluster);
		printf("%-24s %-8s %s\n", label, fleet_member_verdict(m),
		       m->loaded ? (m->r.blocking_gate ? m->r.blocking_gate : "")
		                 : (m->error ? m->error : "no results"));
		free(label);
	}
	const char *v = fleet_verdict(f);
	printf("fleet verdict: %s (%zu clusters)\nfleet report: %s/fleet.md\n", v, f->n,
	       c->out_dir);
	if (c->require_go && rc < EXIT_INTERNAL && strcmp(v, "GO") != 0) {
		fprintf(stderr, "phasegate: --require go: the fleet verdict is %s\n", v);
		rc = EXIT_NOT_GO;
	}
	return rc;
}

static int fleet_needs_out(const struct cli *c, const char *what)
{
	if (!c->out_dir)
		return usage_error(
		    "%s needs --out DIR (a directory per cluster and the fleet report)", what);
	if (c->junit || c->markdown || c->json || c->html)
		return usage_error("%s writes its reports under --out DIR/<cluster>/; "
		                   "--junit, --markdown, --json and --html are for one run",
		                   what);
	return 0;
}

int cmd_fleet_run(const struct cli *c, int argc, char **argv)
{
	int rc = fleet_needs_out(c, "a fleet run (--context, --kubeconfig-dir)");
	if (rc)
		return rc;
	struct fleet f;
	fleet_init(&f);
	rc = fleet_members(c, &f);
	if (rc == 0) {
		char self[4096];
		ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
		if (n <= 0)
			snprintf(self, sizeof(self), "%s", argv[0]);
		else
			self[n] = 0;
		size_t nargs;
		const char **args = fleet_child_args(argc, argv, &nargs);
		struct pg_err e;
		long long t = c->timeout_ms ? c->timeout_ms + 60000 : 0;
		if (fleet_run(&f, self, args, nargs, c->out_dir, t, &e) != 0) {
			fprintf(stderr, "phasegate: %s\n", e.msg);
			rc = EXIT_INTERNAL;
		} else {
			rc = fleet_finish(c, &f);
		}
		free(args);
	}
	fleet_release(&f);
	return rc;
}

/* merge RESULTS.json… : NAME=PATH, or the cluster named after the results
 * file's directory (out/prod/results.json is "prod") or file name. */
int cmd_merge(const struct cli *c)
{
	int rc = fleet_needs_out(c, "merge");
	if (rc)
		return rc;
	if (!c->noperands)
		return usage_error(
		    "'merge' needs results files (RESULTS.json or NAME=RESULTS.json)");
	struct fleet f;
	fleet_init(&f);
	for (size_t i = 0; i < c->noperands && rc == 0; i++) {
		const char *arg = c->operands[i], *eq = strchr(arg, '=');
		char *label, *path;
		if (eq && eq > arg && !memchr(arg, '/', (size_t)(eq - arg))) {
			label = xstrndup(arg, (size_t)(eq - arg));
			path = xstrdup(eq + 1);
		} else {
			path = xstrdup(arg);
			char *d = xstrdup(arg), *slash = strrchr(d, '/');
			const char *base = slash ? slash + 1 : d;
			if (strcmp(base, "results.json") == 0 && slash) {
				*slash = 0;
				char *prev = strrchr(d, '/');
				label = xstrdup(prev ? prev + 1 : d);
			} else {
				label = xstrdup(base);
				char *dot = strrchr(label, '.');
				if (dot && dot != label)
					*dot = 0;
			}
			free(d);
		}
		struct fleet_member *m = fleet_add(&f, label, NULL);
		m->results = path;
		fleet_load(m);
		if (!m->loaded) {
			fprintf(stderr, "phasegate: %s\n", m->error);
			rc = EXIT_USAGE;
		}
		free(label);
	}
	struct pg_err e;
	for (size_t i = 0; i < f.n && rc == 0; i++)
		if (fleet_member_store(&f.m[i], c->out_dir, &e) != 0) {
			fprintf(stderr, "phasegate: %s\n", e.msg);
			rc = EXIT_INTERNAL;
		}
	if (rc == 0)
		rc = fleet_finish(c, &f);
	fleet_release(&f);
	return rc;
}

/* collect: each cluster's published results, into OUT/<cluster>/ and the
 * fleet report. */
int cmd_collect(const struct cli *c)
{
	int rc = fleet_needs_out(c, "collect");
	if (rc)
		return rc;
	if (!c->ncontexts && !c->kubeconfig_dir)
		return usage_error("'collect' needs the clusters: --context (repeatable) or "
		                   "--kubeconfig-dir");
	char *ns, *name;
	struct pg_err e;
	if (k8s_publish_target(c->from ? c->from : "configmap/phasegate/phasegate-results", &ns,
	                       &name, &e) != 0)
		return usage_error("--from: %s", e.msg);
	struct fleet f;
	fleet_init(&f);
	rc = fleet_members(c, &f);
	for (size_t i = 0; i < f.n && rc == 0; i++) {
		struct fleet_member *m = &f.m[i];
		struct k8s_publish_opts o = {.timeout_ms = c->timeout_ms ? c->timeout_ms : 30000};
		k8s_opts_from_sets(c->sets, c->nsets, &o);
		size_t nx = 0;
		while (m->extra[nx])
			nx++;
		k8s_opts_from_sets((const char *const *)m->extra, nx, &o);
		if (k8s_collect_results(&o, ns, name, &m->r, &e) != 0) {
			m->error = xstrdup(e.msg);
			continue;
		}
		m->loaded = 1;
		if (fleet_member_store(m, c->out_dir, &e) != 0) {
			fprintf(stderr, "phasegate: %s\n", e.msg);
			rc = EXIT_INTERNAL;
		}
	}
	if (rc == 0)
		rc = fleet_finish(c, &f);
	fleet_release(&f);
	free(ns);
	free(name);
	return rc;
}
