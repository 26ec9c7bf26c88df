/* exec.c - the exec check module: runs a command as argv (a shell only when
 * the suite writes shell: "...") and reports its exit code, signal, output
 * and, when stdout is JSON, the parsed document. The deadline is the
 * check's own (timeout: on the check); the process group is killed there. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mask.h"
#include "module.h"
#include "proc.h"

#define EXEC_MAX_OUTPUT_LIMIT (64LL * 1024 * 1024)
#define EXEC_EVIDENCE_STREAM (16 * 1024) /* per stream, in out->evidence */

struct exec_cfg {
	char **argv;        /* owned, NULL-terminated */
	char **env;         /* owned, NULL-terminated "NAME=value" */
	char *cwd;          /* owned, may be NULL: relative to the suite */
	char *stdin_data;   /* owned, may be NULL */
	size_t max_output;  /* per stream, 0 = proc's default */
	int shell;          /* argv is /bin/sh -c TEXT */
};

static const struct key_spec exec_keys[] = {
	{"argv", KT_STRSEQ, 0, "the command and its arguments (no shell)"},
	{"shell", KT_STR, 0, "a command line run with /bin/sh -c (instead of argv)"},
	{"env", KT_STRMAP, 0, "environment variables added for the command"},
	{"cwd", KT_STR, 0, "working directory, relative to the suite"},
	{"stdin", KT_STR, 0, "text written to the command's standard input"},
	{"max_output", KT_INT, 0, "bytes kept per output stream (default 1 MiB)"},
	{NULL, KT_ANY, 0, NULL},
};

static void exec_free(void *priv)
{
	struct exec_cfg *c = priv;
	if (!c)
		return;
	for (size_t i = 0; c->argv && c->argv[i]; i++)
		free(c->argv[i]);
	for (size_t i = 0; c->env && c->env[i]; i++)
		free(c->env[i]);
	free(c->argv);
	free(c->env);
	free(c->cwd);
	free(c->stdin_data);
	free(c);
}

static int exec_parse(const struct node *cfg, void *state, void **priv, struct diags *d)
{
	struct exec_cfg *c = xcalloc(1, sizeof(*c));
	const struct node *argv = cfg_node(cfg, "argv");
	const struct node *shell = cfg_node(cfg, "shell");
	const struct node *env = cfg_node(cfg, "env");
	const struct node *maxo = cfg_node(cfg, "max_output");
	size_t before = d->n;

	if (argv && shell) {
		diag_at(d, shell, "exec takes argv or shell, not both");
	} else if (shell) {
		const char *text = cfg_str(cfg, "shell", "");
		if (!*text && !node_is_deferred(shell))
			diag_at(d, shell, "exec shell: is empty");
		c->shell = 1;
		c->argv = xcalloc(4, sizeof(*c->argv));
		c->argv[0] = xstrdup("/bin/sh");
		c->argv[1] = xstrdup("-c");
		c->argv[2] = xstrdup(text);
	} else if (argv) {
		size_t n = 0;
		const char **v = cfg_strv(cfg, "argv", &n);
		if (n == 0)
			diag_at(d, argv, "exec argv: is empty (give at least the command)");
		c->argv = xcalloc(n + 1, sizeof(*c->argv));
		for (size_t i = 0; i < n; i++)
			c->argv[i] = xstrdup(v[i]);
		free(v);
	} else {
		diag_at(d, cfg, "exec needs argv: [command, args...] or shell: \"command line\"");
	}

	if (env && env->kind == NODE_MAP) {
		c->env = xcalloc(env->n + 1, sizeof(*c->env));
		for (size_t i = 0; i < env->n; i++) {
			const struct node *k = env->pairs[i].key, *v = env->pairs[i].value;
			if (!*k->str || strchr(k->str, '='))
				diag_at(d, k, "exec env: '%s' is not a variable name", k->str);
			c->env[i] = xasprintf("%s=%s", k->str, v->kind == NODE_SCALAR ? v->str : "");
		}
	}
	c->cwd = xstrdup(cfg_str(cfg, "cwd", NULL));
	c->stdin_data = xstrdup(cfg_str(cfg, "stdin", NULL));
	if (maxo) {
		long long m = cfg_int(cfg, "max_output", 0);
		if (!node_is_deferred(maxo) && (m <= 0 || m > EXEC_MAX_OUTPUT_LIMIT))
			diag_at(d, maxo, "exec max_output: must be between 1 and %lld bytes",
				EXEC_MAX_OUTPUT_LIMIT);
		else
			c->max_output = (size_t)m;
	}
	if (d->n > before) {
		exec_free(c);
		return -1;
	}
	*priv = c;
	return 0;
}


static char *exec_cmdline(const struct exec_cfg *c)
{
	if (c->shell)
		return xasprintf("sh -c %s", c->argv[2]);
	struct buf b;
	buf_init(&b, 4096);
	for (size_t i = 0; c->argv[i]; i++) {
		const char *a = c->argv[i];
		if (i)
			buf_addc(&b, ' ');
		if (*a && !strpbrk(a, " \t\n'\"\\$`"))
			buf_adds(&b, a);
		else
			buf_addf(&b, "'%s'", a);
	}
	return buf_detach(&b);
}

static void exec_evidence_stream(struct buf *ev, const char *name, const struct buf *s)
{
	if (s->len == 0)
		return;
	buf_addf(ev, "--- %s ---\n", name);
	/* masked before it is cut, NULs shown (a NUL must not hide the rest) */
	int shortened = 0;
	char *t = mask_shown(s->data, s->len, s->truncated, EXEC_EVIDENCE_STREAM, &shortened);
	size_t n = strlen(t);
	buf_add(ev, t, n);
	if (n && t[n - 1] != '\n')
		buf_addc(ev, '\n');
	free(t);
	if (shortened || s->truncated)
		buf_adds(ev, "[... output cut ...]\n");
}

static void exec_run(void *priv, struct check_ctx *ctx, struct check_out *out)
{
	const struct exec_cfg *c = priv;
	struct proc_spec spec = {0};
	struct proc_result r;
	struct pg_err e;
	char *cwd = c->cwd ? ctx_path(ctx, c->cwd) : NULL;
	char *cmd = exec_cmdline(c);

	spec.argv = (const char *const *)c->argv;
	spec.env_add = (const char *const *)c->env;
	spec.cwd = cwd;
	spec.stdin_data = c->stdin_data;
	spec.stdin_len = c->stdin_data ? strlen(c->stdin_data) : 0;
	spec.max_output = c->max_output;
	spec.timeout_ms = 0; /* the check's deadline, through ctx */

	long long budget_ms = ctx_remaining_ms(ctx);
	if (proc_run(&spec, ctx, &r, &e) < 0) {
		out->forced = CHECK_ERROR;
		out->error = xasprintf("%s%s", e.msg,
				       r.spawn_errno == ENOENT && !strchr(c->argv[0], '/')
					       ? "; install it or give its full path in argv"
					       : "");
		out->facts = json_pack("{s:n,s:i,s:b,s:s}", "exit_code", "signal", 0, "timed_out", 0,
				       "error", e.msg);
		goto done;
	}

	json_t *f = json_object();
	json_object_set_new(f, "command", json_from_bytes(cmd, strlen(cmd)));
	json_object_set_new(f, "exit_code",
			    r.signal ? json_null() : json_integer(r.exit_code));
	json_object_set_new(f, "signal", json_integer(r.signal));
	json_object_set_new(f, "timed_out", json_boolean(r.timed_out));
	json_object_set_new(f, "stdout", json_from_bytes(buf_str(&r.out), r.out.len));
	json_object_set_new(f, "stderr", json_from_bytes(buf_str(&r.err), r.err.len));
	json_object_set_new(f, "stdout_truncated", json_boolean(r.out.truncated));
	json_object_set_new(f, "stderr_truncated", json_boolean(r.err.truncated));
	json_object_set_new(f, "duration", json_real(r.duration_s));
	if (r.out.len && !r.out.truncated) {
		json_error_t jerr;
		json_t *doc = json_load_bounded(r.out.data, r.out.len, JSON_MAX_VALUES, &jerr);
		if (doc)
			json_object_set_new(f, "json", doc);
	}
	out->facts = f;

	struct buf ev;
	buf_init(&ev, 4 * EXEC_EVIDENCE_STREAM);
	buf_addf(&ev, "$ %s\n", cmd);
	if (r.signal)
		buf_addf(&ev, "killed by signal %d%s\n", r.signal, r.timed_out ? " (timeout)" : "");
	else
		buf_addf(&ev, "exit code %d\n", r.exit_code);
	exec_evidence_stream(&ev, "stdout", &r.out);
	exec_evidence_stream(&ev, "stderr", &r.err);
	out->evidence = buf_detach(&ev);

	if (r.timed_out || r.cancelled) {
		char *dur = format_duration(r.cancelled ? (long long)(r.duration_s * 1000) : budget_ms);
		out->forced = CHECK_ERROR;
		if (r.cancelled)
			out->error = xasprintf("'%s' was stopped after %s: the run was interrupted",
					       cmd, dur);
		else
			out->error = xasprintf("'%s' did not finish within %s and was killed; raise "
					       "the check's timeout: or make the command faster",
					       cmd, dur);
		free(dur);
	}
done:
	proc_result_release(&r);
	free(cmd);
	free(cwd);
}

static char *exec_describe(void *priv)
{
	char *cmd = exec_cmdline(priv);
	char *s = xasprintf("run %s", cmd);
	free(cmd);
	return s;
}

/* "exited with code 2; stderr: <its last lines>" (module.h, summarize). */
static char *exec_summarize(const json_t *f)
{
	json_t *code = json_object_get(f, "exit_code");
	struct buf b;
	buf_init(&b, 0);
	if (json_is_true(json_object_get(f, "timed_out")))
		buf_adds(&b, "did not finish before its timeout and was killed");
	else if (json_integer_value(json_object_get(f, "signal")) > 0)
		buf_addf(&b, "was killed by signal %lld",
			 (long long)json_integer_value(json_object_get(f, "signal")));
	else if (json_is_integer(code))
		buf_addf(&b, "exited with code %lld", (long long)json_integer_value(code));
	else {
		buf_release(&b);
		return NULL;
	}
	/* the last three lines of stderr say why, far more often than the first */
	const char *err = json_string_value(json_object_get(f, "stderr"));
	size_t len = err ? strlen(err) : 0;
	while (len && (err[len - 1] == '\n' || err[len - 1] == '\r'))
		len--;
	size_t start = len;
	for (int lines = 0; start > 0 && lines < 3 && len - start < 300; start--)
		if (err[start - 1] == '\n' && ++lines == 3)
			break;
	if (len) {
		buf_adds(&b, "; stderr: ");
		for (size_t i = start; i < len; i++)
			buf_addc(&b, err[i] == '\n' ? ' ' : err[i]);
	}
	return buf_detach(&b);
}

const struct check_module check_exec = {
	.name = "exec",
	.summary = "run a command (argv, no shell unless asked); exit code, output, JSON output",
	.api_version = CHECK_API_VERSION,
	.flags = CHECK_F_READONLY,
	.keys = exec_keys,
	.default_expect = ".exit_code == 0",
	.parse = exec_parse,
	.run = exec_run,
	.summarize = exec_summarize,
	.describe = exec_describe,
	.free = exec_free,
};
