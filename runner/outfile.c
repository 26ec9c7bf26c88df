/* outfile.c - safe output files (the rule is in outfile.h): mkstemp
 * temporaries in the target directory, pass-through for devices and FIFOs,
 * sets written all together, stale temporaries of dead processes removed.
 * Content is a buffer or streamed by an emitter straight into the file;
 * the temporaries of a set are written in parallel. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "outfile.h"

enum out_mode {
	OUT_REPLACE, /* temporary + rename */
	OUT_THROUGH, /* device, FIFO or "-": written in place */
};

struct pending {
	enum out_mode mode;
	char *tmp;  /* owned: the temporary (OUT_REPLACE) */
	int fd;     /* OUT_THROUGH: open descriptor; -1 when none */
	int own_fd; /* the descriptor was opened here */
};

static const char *base_of(const char *path)
{
	const char *slash = strrchr(path, '/');
	return slash ? slash + 1 : path;
}

static int write_all(int fd, const char *data, size_t len)
{
	size_t off = 0;
	while (off < len) {
		ssize_t w = write(fd, data + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == EAGAIN) {
			usleep(1000); /* a full pipe opened non-blocking */
			continue;
		}
		if (w <= 0)
			return -1;
		off += (size_t)w;
	}
	return 0;
}

/* Writes f's content to fd: its data, or what its emitter streams through
 * a stdio stream on a duplicate of fd (fd itself stays open). */
static int put(const struct outfile *f, int fd, struct pg_err *e)
{
	if (!f->emit) {
		if (write_all(fd, f->data, f->len) != 0)
			return pg_error(e, "cannot write '%s': %s", f->path, strerror(errno));
		return 0;
	}
	int dfd = dup(fd);
	FILE *out = dfd >= 0 ? fdopen(dfd, "w") : NULL;
	if (!out) {
		int err = errno;
		if (dfd >= 0)
			close(dfd);
		return pg_error(e, "cannot write '%s': %s", f->path, strerror(err));
	}
	struct pg_err ce = {{0}};
	int made = f->emit(f->arg, out, &ce);
	int io = fflush(out) != 0 || ferror(out);
	int err = errno;
	if (fclose(out) != 0 && !io) {
		io = 1;
		err = errno;
	}
	if (io)
		return pg_error(e, "cannot write '%s': %s", f->path, strerror(err));
	if (made != 0)
		return pg_error(e, "cannot write '%s': %s", f->path,
		                ce.msg[0] ? ce.msg : "its content could not be made");
	return 0;
}

/* Decides how path is written and prepares it. */
static int prepare(const struct outfile *f, struct pending *pd, struct pg_err *e)
{
	struct stat lst, st;
	memset(pd, 0, sizeof(*pd));
	pd->fd = -1;
	if (strcmp(f->path, "-") == 0) {
		pd->mode = OUT_THROUGH;
		pd->fd = STDOUT_FILENO;
		return 0;
	}
	if (lstat(f->path, &lst) == 0) {
		int through = 0;
		if (S_ISREG(lst.st_mode)) {
			through = 0;
		} else if (S_ISCHR(lst.st_mode) || S_ISFIFO(lst.st_mode)) {
			through = 1;
		} else if (S_ISLNK(lst.st_mode) && stat(f->path, &st) == 0 &&
		           (S_ISCHR(st.st_mode) || S_ISFIFO(st.st_mode))) {
			through = 1; /* /dev/stdout -> /proc/self/fd/1 -> a pipe or tty */
		} else if (S_ISLNK(lst.st_mode)) {
			return pg_error(
			    e,
			    "cannot write '%s': it is a symbolic link, and phasegate does "
			    "not write reports through links (remove it or name the real "
			    "file)",
			    f->path);
		} else {
			return pg_error(e, "cannot write '%s': it is a %s, not a regular file",
			                f->path,
			                S_ISDIR(lst.st_mode) ? "directory" : "special file");
		}
		if (through) {
			pd->mode = OUT_THROUGH;
			pd->fd = open(f->path, O_WRONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
			if (pd->fd < 0)
				return pg_error(e, "cannot write '%s': %s", f->path,
				                errno == ENXIO ? "a FIFO with no reader"
				                               : strerror(errno));
			pd->own_fd = 1;
			/* non-blocking only so that opening a FIFO without a
			 * reader fails instead of hanging; writes may block */
			int fl = fcntl(pd->fd, F_GETFL);
			if (fl >= 0)
				fcntl(pd->fd, F_SETFL, fl & ~O_NONBLOCK);
			return 0;
		}
	} else if (errno != ENOENT) {
		return pg_error(e, "cannot write '%s': %s", f->path, strerror(errno));
	}
	char *dir = path_dir(f->path);
	pd->mode = OUT_REPLACE;
	pd->tmp = xasprintf("%s/.%s.%ld.tmp.XXXXXX", dir, base_of(f->path), (long)getpid());
	free(dir);
	int fd = mkstemp(pd->tmp);
	if (fd < 0) {
		pg_error(e, "cannot write '%s': %s", f->path, strerror(errno));
		free(pd->tmp);
		pd->tmp = NULL;
		return -1;
	}
	int rc = 0;
	if (fchmod(fd, 0644) != 0)
		rc = pg_error(e, "cannot write '%s': %s", f->path, strerror(errno));
	if (rc == 0)
		rc = put(f, fd, e);
	if (rc == 0 && fsync(fd) != 0 && errno != EINVAL)
		rc = pg_error(e, "cannot write '%s': %s", f->path, strerror(errno));
	if (close(fd) != 0 && rc == 0)
		rc = pg_error(e, "cannot write '%s': %s", f->path, strerror(errno));
	return rc;
}

static void discard(struct pending *pd)
{
	if (pd->tmp) {
		unlink(pd->tmp);
		free(pd->tmp);
		pd->tmp = NULL;
	}
	if (pd->own_fd && pd->fd >= 0)
		close(pd->fd);
	pd->fd = -1;
}

/* 1 when name is a temporary of ours (".<x>.<pid>.tmp.XXXXXX" or the older
 * "<x>.tmp.<pid>") whose process is gone. */
static int stale_temp(const char *name)
{
	const char *t = strstr(name, ".tmp.");
	if (!t)
		return 0;
	long pid = 0;
	if (name[0] == '.') {
		/* the pid sits between the last '.' before ".tmp." and it */
		const char *q = t;
		while (q > name && q[-1] >= '0' && q[-1] <= '9')
			q--;
		if (q == t || q == name || q[-1] != '.' || strlen(t + 5) != 6)
			return 0;
		for (const char *r = q; r < t; r++)
			pid = pid * 10 + (*r - '0');
	} else {
		const char *r = t + 5;
		if (!*r || strstr(r, ".tmp."))
			return 0;
		for (; *r; r++) {
			if (*r < '0' || *r > '9' || pid > 100000000)
				return 0;
			pid = pid * 10 + (*r - '0');
		}
	}
	if (pid <= 0 || pid == (long)getpid())
		return 0;
	return kill((pid_t)pid, 0) != 0 && errno == ESRCH;
}

/* Removes stale temporaries for the targets' names in their directory. */
static void sweep(const char *path)
{
	char *dir = path_dir(path);
	const char *base = base_of(path);
	size_t blen = strlen(base);
	DIR *d = opendir(dir);
	if (!d) {
		free(dir);
		return;
	}
	struct dirent *de;
	size_t seen = 0;
	while ((de = readdir(d)) != NULL && seen++ < 100000) {
		const char *n = de->d_name;
		int ours = (n[0] == '.' && strncmp(n + 1, base, blen) == 0 && n[1 + blen] == '.') ||
		           (strncmp(n, base, blen) == 0 && strncmp(n + blen, ".tmp.", 5) == 0);
		if (!ours || !stale_temp(n))
			continue;
		char *full = xasprintf("%s/%s", dir, n);
		struct stat st;
		if (lstat(full, &st) == 0 && S_ISREG(st.st_mode))
			unlink(full);
		free(full);
	}
	closedir(d);
	free(dir);
}

/* One file of a set being prepared, in a thread of its own. */
struct job {
	const struct outfile *f;
	struct pending *pd;
	struct pg_err err;
	int rc;
	pthread_t tid;
	int started;
};

static void *prepare_job(void *arg)
{
	struct job *j = arg;
	j->rc = prepare(j->f, j->pd, &j->err);
	return NULL;
}

/* Prepares every file of the set at the same time (writers only read
 * what they write out, and each file takes as long as its writer, so a set
 * costs its slowest member, not the sum); a thread that cannot start runs
 * its file here. The first failure in set order is reported. */
static int prepare_all(const struct outfile *files, struct pending *pd, size_t n, struct pg_err *e)
{
	struct job *jobs = xcalloc(n ? n : 1, sizeof(*jobs));
	int rc = 0;
	for (size_t i = 0; i < n; i++) {
		jobs[i] = (struct job){.f = &files[i], .pd = &pd[i]};
		jobs[i].started =
		    n > 1 && pthread_create(&jobs[i].tid, NULL, prepare_job, &jobs[i]) == 0;
		if (!jobs[i].started)
			prepare_job(&jobs[i]);
	}
	for (size_t i = 0; i < n; i++) {
		if (jobs[i].started)
			pthread_join(jobs[i].tid, NULL);
		if (jobs[i].rc != 0 && rc == 0) {
			*e = jobs[i].err;
			rc = -1;
		}
	}
	free(jobs);
	return rc;
}

int outfile_write_set(const struct outfile *files, size_t n, struct pg_err *e)
{
	struct pending *pd = xcalloc(n ? n : 1, sizeof(*pd));
	int rc = 0;
	size_t i;
	for (i = 0; i < n; i++)
		pd[i].fd = -1;
	rc = prepare_all(files, pd, n, e);
	if (rc == 0) {
		fflush(stdout); /* "-" comes after what was printed */
		for (i = 0; i < n && rc == 0; i++)
			if (pd[i].mode == OUT_THROUGH)
				rc = put(&files[i], pd[i].fd, e);
	}
	if (rc == 0) {
		for (i = 0; i < n && rc == 0; i++) {
			if (pd[i].mode != OUT_REPLACE)
				continue;
			if (rename(pd[i].tmp, files[i].path) != 0) {
				rc = pg_error(e, "cannot write '%s': %s", files[i].path,
				              strerror(errno));
				break;
			}
			free(pd[i].tmp);
			pd[i].tmp = NULL;
		}
	}
	for (i = 0; i < n; i++)
		discard(&pd[i]);
	if (rc == 0)
		for (i = 0; i < n; i++)
			if (pd[i].mode == OUT_REPLACE)
				sweep(files[i].path);
	free(pd);
	return rc;
}
