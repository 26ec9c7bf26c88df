/* proc.c - runs one command as argv with captured output and a deadline.
 *
 * The child leads its own process group so that a deadline or an interrupt
 * can kill everything the command started. Between fork() and exec() the
 * child only makes async-signal-safe calls (the runner is multithreaded):
 * everything it needs (resolved path, environment array) is prepared in the
 * parent first, and an exec failure travels back through a close-on-exec
 * pipe. stdin is a socket pair so that writing to a child that stopped
 * reading gives EPIPE instead of SIGPIPE. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "module.h"
#include "proc.h"

#include "mask.h"

extern char **environ;

#define PROC_DEFAULT_MAX_OUTPUT (1024 * 1024)
#define PROC_TICK_MS 100        /* how often ctx_cancelled() is polled */
#define PROC_KILL_GRACE_MS 500  /* SIGTERM -> SIGKILL */
#define PROC_DRAIN_MS 500       /* output still read after the command exited */

/* What the child reports when it cannot exec. */
enum proc_stage {
	STAGE_CWD = 1,
	STAGE_EXEC = 2,
	STAGE_STDIO = 3,
};
struct proc_failure {
	int stage;
	int err;
};

/* The environment for the child: a NULL-terminated array; strings are
 * borrowed from environ and spec->env_add, the array is malloc'd. */
static char **proc_build_env(const struct proc_spec *spec)
{
	size_t nenv = 0, nadd = 0, n = 0;
	if (!spec->clear_env)
		while (environ && environ[nenv])
			nenv++;
	while (spec->env_add && spec->env_add[nadd])
		nadd++;
	char **env = xcalloc(nenv + nadd + 2, sizeof(*env));
	if (spec->clear_env) {
		for (size_t i = 0; environ && environ[i]; i++)
			if (strncmp(environ[i], "PATH=", 5) == 0) {
				env[n++] = environ[i];
				break;
			}
	} else {
		for (size_t i = 0; i < nenv; i++)
			env[n++] = environ[i];
	}
	for (size_t i = 0; i < nadd; i++) {
		const char *add = spec->env_add[i];
		const char *eq = strchr(add, '=');
		size_t namelen = eq ? (size_t)(eq - add) : strlen(add);
		size_t j;
		for (j = 0; j < n; j++)
			if (strncmp(env[j], add, namelen) == 0 && env[j][namelen] == '=')
				break;
		env[j] = (char *)add;
		if (j == n)
			n++;
	}
	env[n] = NULL;
	return env;
}

static const char *proc_env_get(char *const *env, const char *name)
{
	size_t len = strlen(name);
	for (size_t i = 0; env[i]; i++)
		if (strncmp(env[i], name, len) == 0 && env[i][len] == '=')
			return env[i] + len + 1;
	return NULL;
}

/* Finds the file to execute. Returns a malloc'd path, or NULL with *err set
 * (ENOENT when nothing was found, EACCES when only non-executable files
 * were). PATH comes from the child's environment, else the default. */
static char *proc_resolve(const char *cmd, char *const *env, int *err)
{
	if (strchr(cmd, '/'))
		return xstrdup(cmd);
	*err = ENOENT;
	if (!*cmd)
		return NULL;
	const char *path = proc_env_get(env, "PATH");
	if (!path)
		path = "/usr/local/bin:/usr/bin:/bin";
	const char *p = path;
	for (;;) {
		const char *colon = strchr(p, ':');
		size_t len = colon ? (size_t)(colon - p) : strlen(p);
		char *cand = len ? xasprintf("%.*s/%s", (int)len, p, cmd) : xasprintf("./%s", cmd);
		struct stat st;
		if (stat(cand, &st) == 0 && S_ISREG(st.st_mode)) {
			if (access(cand, X_OK) == 0)
				return cand;
			*err = EACCES;
		}
		free(cand);
		if (!colon)
			break;
		p = colon + 1;
	}
	return NULL;
}

static int proc_set_flags(int fd)
{
	int fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return -1;
	return 0;
}

/* In the child: makes fd the descriptor target (without close-on-exec). */
static int proc_child_dup(int fd, int target)
{
	if (fd == target) {
		int fl = fcntl(fd, F_GETFD);
		return fl < 0 ? -1 : fcntl(fd, F_SETFD, fl & ~FD_CLOEXEC);
	}
	return dup2(fd, target) < 0 ? -1 : 0;
}

static void proc_child_fail(int errfd, int stage, int err)
{
	struct proc_failure f = {stage, err};
	ssize_t w = write(errfd, &f, sizeof(f));
	(void)w;
	_exit(127);
}

/* The child side: async-signal-safe calls only. */
static void proc_child(const char *file, const struct proc_spec *spec, char **env, int in_fd,
		       int out_fd, int err_fd, int errpipe)
{
	sigset_t none;
	struct sigaction dfl;

	setpgid(0, 0);
	/* Dispositions set to "ignore" and blocked signals survive exec: give
	 * the command a clean slate. */
	memset(&dfl, 0, sizeof(dfl));
	dfl.sa_handler = SIG_DFL;
	for (int s = 1; s < NSIG; s++)
		if (s != SIGKILL && s != SIGSTOP)
			sigaction(s, &dfl, NULL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);

	/* Order matters if a pipe landed on 0..2: move them above 2 first. */
	if (proc_child_dup(in_fd, 0) < 0 || proc_child_dup(out_fd, 1) < 0 ||
	    proc_child_dup(err_fd, 2) < 0)
		proc_child_fail(errpipe, STAGE_STDIO, errno);
#ifdef CLOSE_RANGE_CLOEXEC
	/* Descriptors another thread opened without O_CLOEXEC must not leak
	 * into the command (the failure pipe still closes only at exec). */
	close_range(3, ~0u, CLOSE_RANGE_CLOEXEC);
#endif
	if (spec->cwd && chdir(spec->cwd) < 0)
		proc_child_fail(errpipe, STAGE_CWD, errno);
	execve(file, (char *const *)spec->argv, env);
	proc_child_fail(errpipe, STAGE_EXEC, errno);
}

/* Reads what is available from *fd into b (beyond the cap it is read and
 * dropped, b->truncated says so). Closes and sets *fd = -1 at EOF/error.
 * Returns after at most 1 MiB so that a command writing without pause
 * cannot keep us from watching the deadline. */
static void proc_read(int *fd, struct buf *b)
{
	char chunk[65536];
	for (int round = 0; round < 16; round++) {
		ssize_t n = read(*fd, chunk, sizeof(chunk));
		if (n > 0) {
			if (!b->truncated)
				buf_add(b, chunk, (size_t)n);
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		close(*fd);
		*fd = -1;
		return;
	}
}

static void proc_close(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

static void proc_decode_status(int st, struct proc_result *r)
{
	if (WIFEXITED(st)) {
		r->exit_code = WEXITSTATUS(st);
	} else if (WIFSIGNALED(st)) {
		r->exit_code = -1;
		r->signal = WTERMSIG(st);
	}
}

int proc_run(const struct proc_spec *spec, struct check_ctx *ctx, struct proc_result *r,
	     struct pg_err *e)
{
	int rc = -1;
	int inpair[2] = {-1, -1}, outp[2] = {-1, -1}, errp[2] = {-1, -1}, failp[2] = {-1, -1};
	int devnull = -1;
	char **env = NULL;
	char *file = NULL;
	size_t cap = spec->max_output ? spec->max_output : PROC_DEFAULT_MAX_OUTPUT;
	pid_t pid = -1;
	int reaped = 0;

	memset(r, 0, sizeof(*r));
	r->exit_code = -1;
	buf_init(&r->out, cap);
	buf_init(&r->err, cap);
	double t0 = now_mono_s();

	if (!spec->argv || !spec->argv[0]) {
		pg_error(e, "no command given");
		goto out;
	}
	env = proc_build_env(spec);
	int rerr = 0;
	file = proc_resolve(spec->argv[0], env, &rerr);
	if (!file) {
		r->spawn_errno = rerr;
		if (rerr == EACCES)
			pg_error(e, "command '%s' found in PATH but not executable (permission denied)",
				 spec->argv[0]);
		else
			pg_error(e, "command not found: '%s' (searched PATH)", spec->argv[0]);
		goto out;
	}
	if (spec->cwd) {
		struct stat st;
		int cerr = 0;
		if (stat(spec->cwd, &st) < 0)
			cerr = errno;
		else if (!S_ISDIR(st.st_mode))
			cerr = ENOTDIR;
		if (cerr) {
			r->spawn_errno = cerr;
			pg_error(e, "working directory '%s' is not usable: %s", spec->cwd,
				 strerror(cerr));
			goto out;
		}
	}

	if (spec->stdin_data) {
		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, inpair) < 0) {
			pg_error(e, "socketpair: %s", strerror(errno));
			goto out;
		}
	} else {
		devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
		if (devnull < 0) {
			pg_error(e, "/dev/null: %s", strerror(errno));
			goto out;
		}
	}
	if (pipe2(outp, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0 ||
	    pipe2(failp, O_CLOEXEC) < 0) {
		pg_error(e, "pipe: %s", strerror(errno));
		goto out;
	}

	/* The deadline: the nearer of timeout_ms and the check's own. */
	long long deadline = -1;
	if (spec->timeout_ms > 0)
		deadline = now_mono_ms() + spec->timeout_ms;
	if (ctx) {
		long long d = now_mono_ms() + ctx_remaining_ms(ctx);
		if (deadline < 0 || d < deadline)
			deadline = d;
	}

	pid = fork();
	if (pid < 0) {
		pg_error(e, "cannot start '%s': fork: %s", spec->argv[0], strerror(errno));
		goto out;
	}
	if (pid == 0)
		proc_child(file, spec, env, spec->stdin_data ? inpair[1] : devnull, outp[1], errp[1],
			   failp[1]);
	/* Also from the parent, so that a kill at the deadline cannot race the
	 * child's own setpgid (EACCES after exec is harmless). */
	setpgid(pid, pid);

	proc_close(&inpair[1]);
	proc_close(&devnull);
	proc_close(&outp[1]);
	proc_close(&errp[1]);
	proc_close(&failp[1]);

	/* Did exec succeed? The pipe closes on exec (EOF) or carries a report. */
	struct proc_failure fail;
	ssize_t got;
	do
		got = read(failp[0], &fail, sizeof(fail));
	while (got < 0 && errno == EINTR);
	if (got == (ssize_t)sizeof(fail)) {
		int st;
		while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
			;
		reaped = 1;
		r->spawn_errno = fail.err;
		if (fail.stage == STAGE_CWD)
			pg_error(e, "cannot change to working directory '%s': %s", spec->cwd,
				 strerror(fail.err));
		else if (fail.stage == STAGE_STDIO)
			pg_error(e, "cannot set up the standard streams of '%s': %s", spec->argv[0],
				 strerror(fail.err));
		else if (fail.err == ENOENT)
			pg_error(e, "command not found: '%s'", file);
		else if (fail.err == EACCES)
			pg_error(e, "cannot run '%s': permission denied", file);
		else
			pg_error(e, "cannot run '%s': %s", file, strerror(fail.err));
		goto out;
	}

	int infd = inpair[0];
	size_t inoff = 0;
	if (infd >= 0 && spec->stdin_len == 0) {
		shutdown(infd, SHUT_WR);
		proc_close(&inpair[0]);
		infd = -1;
	}
	if (infd >= 0)
		proc_set_flags(infd);
	proc_set_flags(outp[0]);
	proc_set_flags(errp[0]);

	int term_sent = 0, kill_sent = 0;
	long long kill_at = -1;      /* when SIGKILL follows SIGTERM */
	long long drain_until = -1;  /* stop reading after the command exited */
	for (;;) {
		if (!reaped) {
			int st;
			pid_t w = waitpid(pid, &st, WNOHANG);
			if (w == pid) {
				reaped = 1;
				proc_decode_status(st, r);
			}
		}
		if (reaped && outp[0] < 0 && errp[0] < 0)
			break;
		long long now = now_mono_ms();
		if (reaped && drain_until < 0) {
			/* Something the command started may still hold the pipes:
			 * read a little longer, then stop. After a kill, wait out
			 * the grace period so that SIGKILL reaches the group. */
			drain_until = now + PROC_DRAIN_MS;
			if (term_sent && !kill_sent)
				drain_until = kill_at + PROC_TICK_MS;
			else if (kill_sent)
				drain_until = now + PROC_TICK_MS;
		}
		if (drain_until >= 0 && now >= drain_until)
			break;

		if (!term_sent && !reaped) {
			int cancel = ctx && ctx_cancelled(ctx);
			if (cancel || (deadline >= 0 && now >= deadline)) {
				if (cancel)
					r->cancelled = 1;
				else
					r->timed_out = 1;
				kill(-pid, SIGTERM);
				term_sent = 1;
				kill_at = now + PROC_KILL_GRACE_MS;
			}
		}
		if (term_sent && !kill_sent && now >= kill_at) {
			kill(-pid, SIGKILL);
			kill_sent = 1;
		}

		struct pollfd pfd[3];
		int np = 0;
		int iout = -1, ierr = -1, iin = -1;
		if (outp[0] >= 0) {
			iout = np;
			pfd[np++] = (struct pollfd){.fd = outp[0], .events = POLLIN};
		}
		if (errp[0] >= 0) {
			ierr = np;
			pfd[np++] = (struct pollfd){.fd = errp[0], .events = POLLIN};
		}
		if (infd >= 0) {
			iin = np;
			pfd[np++] = (struct pollfd){.fd = infd, .events = POLLOUT};
		}
		long long wait = PROC_TICK_MS;
		if (!term_sent && deadline >= 0 && deadline - now < wait)
			wait = deadline - now;
		if (term_sent && !kill_sent && kill_at - now < wait)
			wait = kill_at - now;
		if (drain_until >= 0 && drain_until - now < wait)
			wait = drain_until - now;
		if (!reaped && np == 0 && wait > 10)
			wait = 10; /* only the exit is awaited: poll waitpid often */
		if (wait < 0)
			wait = 0;
		int pr = poll(pfd, (nfds_t)np, (int)wait);
		if (pr < 0 && errno != EINTR) {
			pg_error(e, "poll: %s", strerror(errno));
			kill(-pid, SIGKILL);
			break;
		}
		if (pr <= 0)
			continue;
		if (iout >= 0 && pfd[iout].revents)
			proc_read(&outp[0], &r->out);
		if (ierr >= 0 && pfd[ierr].revents)
			proc_read(&errp[0], &r->err);
		if (iin >= 0 && pfd[iin].revents) {
			ssize_t n = send(infd, spec->stdin_data + inoff, spec->stdin_len - inoff,
					 MSG_NOSIGNAL | MSG_DONTWAIT);
			if (n > 0)
				inoff += (size_t)n;
			if ((n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) ||
			    inoff >= spec->stdin_len) {
				/* Done, or the command stopped reading: either way no more. */
				shutdown(infd, SHUT_WR);
				proc_close(&inpair[0]);
				infd = -1;
			}
		}
	}
	if (term_sent && !kill_sent)
		kill(-pid, SIGKILL); /* members that ignored SIGTERM */
	if (!reaped) {
		/* Only after poll failed: make sure the child does not outlive us. */
		int st;
		while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
			;
		reaped = 1;
		proc_decode_status(st, r);
	}
	rc = 0;

out:
	proc_close(&inpair[0]);
	proc_close(&inpair[1]);
	proc_close(&devnull);
	proc_close(&outp[0]);
	proc_close(&outp[1]);
	proc_close(&errp[0]);
	proc_close(&errp[1]);
	proc_close(&failp[0]);
	proc_close(&failp[1]);
	free(file);
	free(env);
	/* output cut at the cap may end inside a secret */
	mask_cut_buf(&r->out);
	mask_cut_buf(&r->err);
	r->duration_s = now_mono_s() - t0;
	return rc;
}

void proc_result_release(struct proc_result *r)
{
	buf_release(&r->out);
	buf_release(&r->err);
}
