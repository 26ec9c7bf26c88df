/* test_proc.c - the process runner: exit codes, signals, captured and
 * capped output, stdin, environment, working directory, spawn errors, and
 * the deadline that kills the whole process group (including a grandchild
 * that keeps the pipes open or ignores SIGTERM). */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "module.h"
#include "proc.h"

static int run(const char *const *argv, struct proc_result *r, struct pg_err *e)
{
	struct proc_spec spec = {.argv = argv, .timeout_ms = 20000};
	return proc_run(&spec, NULL, r, e);
}

/* 1 while pid exists and is not a zombie. */
static int alive(pid_t pid)
{
	char path[64], buf[512];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return 0;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	const char *rp = strrchr(buf, ')');
	return rp && rp[1] == ' ' && rp[2] != 'Z' && rp[2] != 'X';
}

/* A process the group kill reached may need a moment to be reaped by init:
 * wait (boundedly) until it is gone. */
static int gone_eventually(pid_t pid)
{
	for (int i = 0; i < 200 && alive(pid); i++)
		usleep(10000);
	return !alive(pid);
}

static pid_t first_pid(const struct proc_result *r)
{
	long long v = 0;
	char *nl;
	char *copy = xstrdup(buf_str(&r->out));
	if ((nl = strchr(copy, '\n')) != NULL)
		*nl = 0;
	if (parse_ll(copy, &v) < 0)
		v = 0;
	free(copy);
	return (pid_t)v;
}

static void test_exit_codes(void **state)
{
	struct proc_result r;
	struct pg_err e;
	const char *ok[] = {"true", NULL};
	const char *three[] = {"sh", "-c", "exit 3", NULL};

	assert_int_equal(run(ok, &r, &e), 0);
	assert_int_equal(r.exit_code, 0);
	assert_int_equal(r.signal, 0);
	assert_false(r.timed_out);
	proc_result_release(&r);

	assert_int_equal(run(three, &r, &e), 0);
	assert_int_equal(r.exit_code, 3);
	proc_result_release(&r);
}

static void test_signal(void **state)
{
	struct proc_result r;
	struct pg_err e;
	const char *argv[] = {"sh", "-c", "kill -USR1 $$; sleep 5", NULL};

	assert_int_equal(run(argv, &r, &e), 0);
	assert_int_equal(r.exit_code, -1);
	assert_int_equal(r.signal, SIGUSR1);
	assert_false(r.timed_out);
	proc_result_release(&r);
}

static void test_stdout_stderr(void **state)
{
	struct proc_result r;
	struct pg_err e;
	const char *argv[] = {"sh", "-c", "echo out; echo err >&2; printf 'a\\0b'", NULL};

	assert_int_equal(run(argv, &r, &e), 0);
	assert_int_equal(r.out.len, 7);
	assert_memory_equal(r.out.data, "out\na\0b", 7);
	assert_string_equal(buf_str(&r.err), "err\n");
	assert_false(r.out.truncated);
	proc_result_release(&r);
}

static void test_output_cap(void **state)
{
	struct proc_result r;
	struct pg_err e;
	const char *argv[] = {"head", "-c", "300000", "/dev/zero", NULL};
	struct proc_spec spec = {.argv = argv, .max_output = 1000, .timeout_ms = 20000};

	assert_int_equal(proc_run(&spec, NULL, &r, &e), 0);
	/* The command was drained to the end (it exited normally) but only
	 * the cap was kept, and the result says so. */
	assert_int_equal(r.exit_code, 0);
	assert_int_equal(r.out.len, 1000);
	assert_true(r.out.truncated);
	assert_false(r.err.truncated);
	proc_result_release(&r);
}

static void test_endless_output(void **state)
{
	struct proc_result r;
	struct pg_err e;
	/* Output that never pauses must not keep us from the deadline. */
	const char *argv[] = {"yes", "phasegate", NULL};
	struct proc_spec spec = {.argv = argv, .max_output = 4096, .timeout_ms = 300};

	assert_int_equal(proc_run(&spec, NULL, &r, &e), 0);
	assert_true(r.timed_out);
	assert_int_equal(r.out.len, 4096);
	assert_true(r.out.truncated);
	assert_memory_equal(r.out.data, "phasegate\nphasegate\n", 20);
	proc_result_release(&r);
}

static void test_stdin(void **state)
{
	struct proc_result r;
	struct pg_err e;
	const char *cat[] = {"cat", NULL};
	struct proc_spec spec = {.argv = cat, .stdin_data = "hello\nworld", .stdin_len = 11,
				 .timeout_ms = 20000};

	assert_int_equal(proc_run(&spec, NULL, &r, &e), 0);
	assert_string_equal(buf_str(&r.out), "hello\nworld");
	proc_result_release(&r);

	/* More than any pipe buffer both ways: needs writing and reading to
	 * interleave. */
	size_t big = 3 * 1024 * 1024 + 7;
	char *data = xmalloc(big);
	for (size_t i = 0; i < big; i++)
		data[i] = (char)('a' + i % 26);
	spec.stdin_data = data;
	spec.stdin_len = big;
	spec.max_output = 4 * 1024 * 1024;
	assert_int_equal(proc_run(&spec, NULL, &r, &e), 0);
	assert_int_equal(r.out.len, big);
	assert_memory_equal(r.out.data, data, big);
	proc_result_release(&r);

	/* A command that does not read its input must not hang us. */
	const char *noread[] = {"true", NULL};
	spec.argv = noread;
	assert_int_equal(proc_run(&spec, NULL, &r, &e), 0);
	assert_int_equal(r.exit_code, 0);
	proc_result_release(&r);
	free(data);

	/* Without stdin_data the command reads /dev/null. */
	assert_int_equal(run(cat, &r, &e), 0);
	assert_int_equal(r.out.len, 0);
	proc_result_release(&r);
}

static void test_env(void **state)
{
	struct proc_result r;
	struct pg_err e;
	const char *argv[] = {"sh", "-c", "echo \"$PG_T1|$PG_T2|${PG_T3-unset}\"", NULL};
	const char *add[] = {"PG_T1=one", "PG_T2=two", "PG_T1=uno", NULL};
	struct proc_spec spec = {.argv = argv, .env_add = add, .timeout_ms = 20000};

	setenv("PG_T3", "inherited", 1);
	assert_int_equal(proc_run(&spec, NULL, &r, &e), 0);
	assert_string_equal(buf_str(&r.out), "uno|two|inherited\n");
	proc_result_release(&r);

	/* clear_env keeps PATH (sh is still found) and drops the rest. */
	spec.clear_env = 1;
	assert_int_equal(proc_run(&spec, NULL, &r, &e), 0);
	assert_string_equal(buf_str(&r.out), "uno|two|unset\n");
	proc_result_release(&r);
	unsetenv("PG_T3");
}

static void test_cwd(void **state)
{
	struct proc_result r;
	struct pg_err e;
	const char *argv[] = {"pwd", NULL};
	struct proc_spec spec = {.argv = argv, .cwd = "/", .timeout_ms = 20000};

	assert_int_equal(proc_run(&spec, NULL, &r, &e), 0);
	assert_string_equal(buf_str(&r.out), "/\n");
	proc_result_release(&r);

	spec.cwd = "no-such-dir-for-pg-test";
	assert_int_equal(proc_run(&spec, NULL, &r, &e), -1);
	assert_int_equal(r.spawn_errno, ENOENT);
	assert_non_null(strstr(e.msg, "no-such-dir-for-pg-test"));
	proc_result_release(&r);
}

static void test_no_fd_leak(void **state)
{
	struct proc_result r;
	struct pg_err e;
	/* Opened without O_CLOEXEC, as a careless library might. */
	int fd = open("/dev/null", O_RDONLY);
	assert_true(fd > 2);
	char *script = xasprintf("test -e /proc/self/fd/%d && echo leaked || echo closed", fd);
	const char *argv[] = {"sh", "-c", script, NULL};

	assert_int_equal(run(argv, &r, &e), 0);
	assert_string_equal(buf_str(&r.out), "closed\n");
	proc_result_release(&r);
	free(script);
	close(fd);
}

static void test_not_found(void **state)
{
	struct proc_result r;
	struct pg_err e;
	const char *argv[] = {"pg-no-such-command", "x", NULL};

	assert_int_equal(run(argv, &r, &e), -1);
	assert_int_equal(r.spawn_errno, ENOENT);
	assert_string_equal(e.msg, "command not found: 'pg-no-such-command' (searched PATH)");
	proc_result_release(&r);

	const char *abs[] = {"/no-such-dir/pg-cmd", NULL};
	assert_int_equal(run(abs, &r, &e), -1);
	assert_int_equal(r.spawn_errno, ENOENT);
	assert_non_null(strstr(e.msg, "/no-such-dir/pg-cmd"));
	proc_result_release(&r);
}

static void test_not_executable(void **state)
{
	struct proc_result r;
	struct pg_err e;
	const char *tmp = getenv("TMPDIR");
	char *path = xasprintf("%s/pg-proc-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	chmod(path, 0600);
	const char *argv[] = {path, NULL};

	/* Even root cannot execute a file without any x bit. */
	assert_int_equal(run(argv, &r, &e), -1);
	assert_int_equal(r.spawn_errno, EACCES);
	assert_non_null(strstr(e.msg, "permission denied"));
	proc_result_release(&r);
	unlink(path);
	free(path);
}

static void test_timeout_kills_group(void **state)
{
	struct proc_result r;
	struct pg_err e;
	const char *argv[] = {"sh", "-c", "sleep 100 & echo $!; sleep 100", NULL};
	struct proc_spec spec = {.argv = argv, .timeout_ms = 300};

	assert_int_equal(proc_run(&spec, NULL, &r, &e), 0);
	assert_true(r.timed_out);
	assert_false(r.cancelled);
	assert_int_equal(r.signal, SIGTERM);
	pid_t grandchild = first_pid(&r);
	assert_true(grandchild > 0);
	assert_true(gone_eventually(grandchild));
	proc_result_release(&r);
}

static void test_timeout_ignoring_term(void **state)
{
	struct proc_result r;
	struct pg_err e;
	/* The shell and what it starts ignore SIGTERM: only SIGKILL works. */
	const char *argv[] = {"sh", "-c", "trap '' TERM; sleep 100 & echo $!; sleep 100", NULL};
	struct proc_spec spec = {.argv = argv, .timeout_ms = 200};

	assert_int_equal(proc_run(&spec, NULL, &r, &e), 0);
	assert_true(r.timed_out);
	assert_int_equal(r.signal, SIGKILL);
	pid_t grandchild = first_pid(&r);
	assert_true(grandchild > 0);
	assert_true(gone_eventually(grandchild));
	proc_result_release(&r);
}

static void test_escaped_grandchild_does_not_hang(void **state)
{
	struct proc_result r;
	struct pg_err e;
	/* The grandchild leaves the group (setsid) and keeps stdout open: the
	 * group kill cannot reach it, yet proc_run must come back. */
	const char *argv[] = {"sh", "-c",
			      "setsid sh -c 'echo $$; exec sleep 100' & sleep 100", NULL};
	struct proc_spec spec = {.argv = argv, .timeout_ms = 300};

	assert_int_equal(proc_run(&spec, NULL, &r, &e), 0);
	assert_true(r.timed_out);
	pid_t escaped = first_pid(&r);
	assert_true(escaped > 0);
	assert_true(alive(escaped));
	kill(escaped, SIGKILL);
	proc_result_release(&r);
}

static void test_background_after_exit(void **state)
{
	struct proc_result r;
	struct pg_err e;
	/* The command exits at once but leaves a job holding stdout: we stop
	 * reading shortly after the exit instead of waiting for the job. */
	const char *argv[] = {"sh", "-c", "sleep 100 & echo $!; exit 4", NULL};
	struct proc_spec spec = {.argv = argv, .timeout_ms = 20000};

	assert_int_equal(proc_run(&spec, NULL, &r, &e), 0);
	assert_false(r.timed_out);
	assert_int_equal(r.exit_code, 4);
	pid_t job = first_pid(&r);
	assert_true(job > 0);
	kill(job, SIGKILL);
	proc_result_release(&r);
}

static void test_ctx_deadline(void **state)
{
	struct proc_result r;
	struct pg_err e;
	const char *argv[] = {"sleep", "100", NULL};
	struct proc_spec spec = {.argv = argv}; /* timeout 0: the context decides */
	struct check_ctx *ctx = ctx_new_for_test(NULL, 250, NULL, NULL);

	assert_int_equal(proc_run(&spec, ctx, &r, &e), 0);
	assert_true(r.timed_out);
	assert_int_equal(r.signal, SIGTERM);
	proc_result_release(&r);
	ctx_free_for_test(ctx);
}

struct par {
	int n;
	int ok;
};

static void *par_run(void *arg)
{
	struct par *p = arg;
	char script[64];
	snprintf(script, sizeof(script), "echo %d; exit %d", p->n, p->n);
	const char *argv[] = {"sh", "-c", script, NULL};
	struct proc_result r;
	struct pg_err e;
	char want[16];
	snprintf(want, sizeof(want), "%d\n", p->n);
	p->ok = 1;
	for (int i = 0; i < 20; i++) {
		if (run(argv, &r, &e) != 0 || r.exit_code != p->n ||
		    strcmp(buf_str(&r.out), want) != 0)
			p->ok = 0;
		proc_result_release(&r);
	}
	return NULL;
}

static void test_threads(void **state)
{
	pthread_t t[4];
	struct par p[4];
	for (int i = 0; i < 4; i++) {
		p[i].n = i + 1;
		assert_int_equal(pthread_create(&t[i], NULL, par_run, &p[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		assert_true(p[i].ok);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exit_codes),
		cmocka_unit_test(test_signal),
		cmocka_unit_test(test_stdout_stderr),
		cmocka_unit_test(test_output_cap),
		cmocka_unit_test(test_endless_output),
		cmocka_unit_test(test_stdin),
		cmocka_unit_test(test_env),
		cmocka_unit_test(test_cwd),
		cmocka_unit_test(test_no_fd_leak),
		cmocka_unit_test(test_not_found),
		cmocka_unit_test(test_not_executable),
		cmocka_unit_test(test_timeout_kills_group),
		cmocka_unit_test(test_timeout_ignoring_term),
		cmocka_unit_test(test_escaped_grandchild_does_not_hang),
		cmocka_unit_test(test_background_after_exit),
		cmocka_unit_test(test_ctx_deadline),
		cmocka_unit_test(test_threads),
	};
	/* scripts/tsan.sh skips what ThreadSanitizer cannot run (see there) */
	if (getenv("PG_TEST_SKIP"))
		cmocka_set_skip_filter(getenv("PG_TEST_SKIP"));
	return cmocka_run_group_tests(tests, NULL, NULL);
}
