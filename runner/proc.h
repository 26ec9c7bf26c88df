/* proc.h - running a command as argv (never through a shell unless the
 * argv says so), with environment, working directory, stdin text, output
 * caps and a deadline that kills the whole process group. Used by the exec
 * module, kubeconfig exec credential plugins and kubectl delegation. */
#ifndef PHASEGATE_PROC_H
#define PHASEGATE_PROC_H

#include <stddef.h>

#include "util.h"

struct check_ctx;

struct proc_spec {
	const char *const *argv;     /* argv[0] is looked up in PATH when it has no '/' */
	const char *const *env_add;  /* "NAME=value" added to (or replacing in) the environment */
	int clear_env;               /* start from an empty environment (PATH kept) */
	const char *cwd;
	const char *stdin_data;      /* NULL = /dev/null */
	size_t stdin_len;
	size_t max_output;           /* per stream; 0 = 1 MiB; more is cut (and said) */
	long long timeout_ms;        /* 0 = what remains of the context deadline */
};

struct proc_result {
	int exit_code;               /* -1 when killed by a signal or not started */
	int signal;                  /* terminating signal, 0 if none */
	int timed_out;               /* killed at the deadline */
	int cancelled;               /* killed because the run was interrupted */
	int spawn_errno;             /* exec failed: errno (ENOENT: not found) */
	struct buf out, err;
	double duration_s;
};

/* Runs the command to completion (ctx may be NULL: then only timeout_ms
 * bounds it). Returns 0 when the process ran (whatever its exit code), -1
 * with e filled when it could not be started. On the deadline the process
 * group gets SIGTERM, then SIGKILL after 500 ms. */
int proc_run(const struct proc_spec *spec, struct check_ctx *ctx, struct proc_result *r,
	     struct pg_err *e);
void proc_result_release(struct proc_result *r);

#endif
