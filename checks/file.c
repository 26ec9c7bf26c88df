/* file.c - the file check module: does a file (or a glob) exist, what are
 * its size, mode, owner, age and SHA-256, does it parse as YAML or JSON,
 * and do the files listed in a sha256sum-style manifest still match (backup
 * integrity). An absent file is a fact (exists=false), not an error. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <pwd.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "module.h"

#define FILE_MANIFEST_MAX (16 * 1024 * 1024)
#define FILE_JSON_MAX (64 * 1024 * 1024)
#define FILE_EXTRA_MAX 10000 /* files walked when looking for extras */

/* ---- SHA-256 ---------------------------------------------------------- */

/* Hashes a file; 0, or -1 with the reason in e. Stops when the run is
 * interrupted or the deadline passes. */
static int file_sha256(const char *path, struct check_ctx *ctx, char hex[65], struct pg_err *e)
{
	struct pg_err he;
	int fd = open_regular(path, e);
	if (fd < 0)
		return -1;
	int rc = sha256_fd(fd, ctx_keep_going, ctx, hex, &he);
	close(fd);
	if (rc < 0)
		pg_error(e, "hashing '%s' stopped: %s", path, he.msg);
	return rc;
}

/* ---- configuration ------------------------------------------------------ */

enum file_parse { PARSE_NONE, PARSE_YAML, PARSE_JSON };

struct file_cfg {
	char *path;            /* owned: as written (relative to the suite) */
	int want_exists;       /* exists: (default true) */
	int sha256;            /* compute the SHA-256 */
	char *sha256_expect;   /* owned, may be NULL: lowercase hex to compare */
	enum file_parse parse;
	int manifest;          /* path is a sha256sum-style manifest to verify */
	int manifest_extra;    /* also list files beside the manifest it does not name */
};

static const struct key_spec file_keys[] = {
	{"path", KT_STR, KEY_REQUIRED, "file, directory or glob, relative to the suite"},
	{"exists", KT_BOOL, 0, "whether the file should exist (default true)"},
	{"sha256", KT_STR, 0, "true to compute the SHA-256, or the expected hex digest"},
	{"parse", KT_STR, 0, "yaml or json: parse the file into facts.content"},
	{"manifest", KT_BOOL, 0, "path is a sha256sum manifest: verify every file it lists"},
	{"manifest_extra", KT_BOOL, 0, "with manifest: files it does not list are an error"},
	{NULL, KT_ANY, 0, NULL},
};

static void file_free(void *priv)
{
	struct file_cfg *c = priv;
	if (!c)
		return;
	free(c->path);
	free(c->sha256_expect);
	free(c);
}

static int file_is_hex64(const char *s)
{
	size_t i;
	for (i = 0; s[i]; i++)
		if (!strchr("0123456789abcdefABCDEF", s[i]))
			return 0;
	return i == 64;
}

static int file_parse_cfg(const struct node *cfg, void *state, void **priv, struct diags *d)
{
	struct file_cfg *c = xcalloc(1, sizeof(*c));
	const struct node *sha = cfg_node(cfg, "sha256");
	const struct node *parse = cfg_node(cfg, "parse");
	const struct node *path = cfg_node(cfg, "path");
	size_t before = d->n;

	c->path = xstrdup(cfg_str(cfg, "path", ""));
	if (path && !node_is_deferred(path) && !*c->path)
		diag_at(d, path, "file path: is empty");
	c->want_exists = cfg_bool(cfg, "exists", 1);
	if (sha && !node_is_deferred(sha)) {
		const char *v = cfg_str(cfg, "sha256", "");
		if (sha->plain && (strcmp(v, "true") == 0 || strcmp(v, "false") == 0)) {
			c->sha256 = strcmp(v, "true") == 0;
		} else if (file_is_hex64(v)) {
			c->sha256 = 1;
			c->sha256_expect = xstrdup(v);
			for (char *p = c->sha256_expect; *p; p++)
				if (*p >= 'A' && *p <= 'F')
					*p = (char)(*p - 'A' + 'a');
		} else {
			diag_at(d, sha, "file sha256: must be true, false or 64 hex digits");
		}
	}
	if (parse && !node_is_deferred(parse)) {
		const char *v = cfg_str(cfg, "parse", "");
		if (strcmp(v, "yaml") == 0)
			c->parse = PARSE_YAML;
		else if (strcmp(v, "json") == 0)
			c->parse = PARSE_JSON;
		else
			diag_at(d, parse, "file parse: must be yaml or json, not '%s'", v);
	}
	c->manifest = cfg_bool(cfg, "manifest", 0);
	c->manifest_extra = cfg_bool(cfg, "manifest_extra", 0);
	if (c->manifest_extra && !c->manifest)
		diag_at(d, cfg_node(cfg, "manifest_extra"), "file manifest_extra: needs manifest: true");
	if (d->n > before) {
		file_free(c);
		return -1;
	}
	*priv = c;
	return 0;
}

/* ---- facts -------------------------------------------------------------- */

static json_t *file_str(const char *s)
{
	json_t *j = json_string(s);
	return j ? j : json_string("(not UTF-8)");
}

static const char *file_type(mode_t m)
{
	if (S_ISREG(m))
		return "file";
	if (S_ISDIR(m))
		return "dir";
	if (S_ISLNK(m))
		return "link";
	if (S_ISFIFO(m))
		return "fifo";
	if (S_ISSOCK(m))
		return "socket";
	return "device";
}

static void file_stat_facts(const char *path, json_t *f)
{
	struct stat lst, st;
	if (lstat(path, &lst) < 0)
		return;
	json_object_set_new(f, "type", json_string(file_type(lst.st_mode)));
	if (S_ISLNK(lst.st_mode)) {
		char target[4096];
		ssize_t n = readlink(path, target, sizeof(target) - 1);
		if (n >= 0) {
			target[n] = 0;
			json_object_set_new(f, "link_target", file_str(target));
		}
		if (stat(path, &st) < 0) {
			json_object_set_new(f, "dangling", json_true());
			st = lst;
		}
	} else {
		st = lst;
	}
	char mode[8];
	snprintf(mode, sizeof(mode), "%04o", (unsigned)(st.st_mode & 07777));
	json_object_set_new(f, "size", json_integer((json_int_t)st.st_size));
	json_object_set_new(f, "mode", json_string(mode));
	json_object_set_new(f, "uid", json_integer((json_int_t)st.st_uid));
	json_object_set_new(f, "gid", json_integer((json_int_t)st.st_gid));
	struct passwd pw, *pwp = NULL;
	char pwbuf[4096];
	if (getpwuid_r(st.st_uid, &pw, pwbuf, sizeof(pwbuf), &pwp) == 0 && pwp)
		json_object_set_new(f, "owner", file_str(pw.pw_name));
	double mtime = (double)st.st_mtim.tv_sec + st.st_mtim.tv_nsec / 1e9;
	char *iso = iso8601_at(mtime);
	json_object_set_new(f, "mtime", json_string(iso));
	free(iso);
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	double age = (double)now.tv_sec + now.tv_nsec / 1e9 - mtime;
	json_object_set_new(f, "age", json_integer((json_int_t)(age < 0 ? 0 : age)));
}

static void file_parse_content(const struct file_cfg *c, const char *path, json_t *f)
{
	if (c->parse == PARSE_YAML) {
		struct diags d;
		struct node *root = NULL;
		struct node_limits lim = node_limits_default();
		diags_init(&d);
		if (node_load_file(path, &lim, &root, &d) == 0) {
			json_t *doc = node_to_json(root);
			json_object_set_new(f, "content", doc ? doc : json_null());
			json_object_set_new(f, "parse_error", json_null());
		} else {
			const struct diag *g = d.n ? &d.v[0] : NULL;
			char *msg = !g ? xstrdup("not valid YAML")
				    : g->line ? xasprintf("%u:%u: %s", g->line, g->col, g->msg)
					      : xstrdup(g->msg);
			json_object_set_new(f, "parse_error", file_str(msg));
			free(msg);
		}
		node_free(root);
		diags_release(&d);
	} else if (c->parse == PARSE_JSON) {
		json_error_t err;
		char *data = NULL;
		size_t len = 0;
		struct pg_err e;
		if (read_file_capped(path, FILE_JSON_MAX, &data, &len, &e) < 0) {
			json_object_set_new(f, "parse_error", file_str(e.msg));
			return;
		}
		json_t *doc = json_load_bounded(data, len, JSON_MAX_VALUES, &err);
		if (doc) {
			json_object_set_new(f, "content", doc);
			json_object_set_new(f, "parse_error", json_null());
		} else {
			char *msg = xasprintf("%d:%d: %s", err.line, err.column, err.text);
			json_object_set_new(f, "parse_error", file_str(msg));
			free(msg);
		}
		free(data);
	}
}

/* ---- manifest ------------------------------------------------------------ */

static int file_str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Lists regular files under dir (relative names, "sub/x") into v, looking
 * at no more than FILE_EXTRA_MAX * 10 entries in all (*visits counts them). */
static void file_walk(const char *dir, const char *rel, char ***v, size_t *n, size_t *alloc,
                      size_t *visits)
{
	DIR *dh = opendir(dir);
	struct dirent *de;
	if (!dh)
		return;
	/* *visits bounds the walk in entries of any kind (a tree of empty
	 * directories too), not only in files found */
	while ((de = readdir(dh)) != NULL && *n < FILE_EXTRA_MAX &&
	       (*visits)++ < FILE_EXTRA_MAX * 10) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		char *full = xasprintf("%s/%s", dir, de->d_name);
		char *name = *rel ? xasprintf("%s/%s", rel, de->d_name) : xstrdup(de->d_name);
		struct stat st;
		if (lstat(full, &st) == 0 && S_ISDIR(st.st_mode)) {
			file_walk(full, name, v, n, alloc, visits);
			free(name);
		} else if (lstat(full, &st) == 0 && S_ISREG(st.st_mode)) {
			if (*n == *alloc) {
				*alloc = *alloc ? 2 * *alloc : 64;
				*v = xrealloc(*v, *alloc * sizeof(**v));
			}
			(*v)[(*n)++] = name;
		} else {
			free(name);
		}
		free(full);
	}
	closedir(dh);
}

/* Verifies a manifest; adds facts.manifest and explains problems in ev.
 * Returns -1 (e filled) only when the run was interrupted. */
static int file_manifest(const struct file_cfg *c, const char *path, struct check_ctx *ctx,
			 json_t *f, struct buf *ev, struct pg_err *e)
{
	int rc = 0;
	char *data = NULL, *dir = NULL;
	size_t len = 0;
	char **listed = NULL;
	size_t nlisted = 0;
	json_t *m = json_object(), *mism = json_array(), *missing = json_array(),
	       *malformed = json_array();
	long long entries = 0;

	json_object_set_new(f, "manifest", m);
	if (read_file_capped(path, FILE_MANIFEST_MAX, &data, &len, e) < 0) {
		json_object_set_new(m, "error", file_str(e->msg));
		json_object_set_new(m, "ok", json_false());
		buf_addf(ev, "%s\n", e->msg);
		goto done;
	}
	const char *slash = strrchr(path, '/');
	dir = slash ? xstrndup(path, (size_t)(slash - path)) : xstrdup(".");
	if (!*dir) {
		free(dir);
		dir = xstrdup("/");
	}
	listed = xcalloc(len / 66 + 2, sizeof(*listed));

	unsigned lineno = 0;
	for (char *p = data; p < data + len;) {
		char *nl = memchr(p, '\n', (size_t)(data + len - p));
		char *end = nl ? nl : data + len;
		char *next = nl ? nl + 1 : data + len;
		lineno++;
		/* a manifest may list hundreds of thousands of files */
		if (ctx_keep_going(ctx, e) < 0) {
			rc = -1;
			goto done;
		}
		if (end > p && end[-1] == '\r')
			end--;
		*end = 0;
		if (!*p || *p == '#') {
			p = next;
			continue;
		}
		/* "<64 hex><space><space or *><name>" as sha256sum writes it */
		int ok = end - p > 66 && (p[64] == ' ') && (p[65] == ' ' || p[65] == '*');
		if (ok) {
			char save = p[64];
			p[64] = 0;
			ok = file_is_hex64(p);
			p[64] = save;
		}
		if (!ok) {
			json_array_append_new(malformed, json_integer(lineno));
			buf_addf(ev, "%s:%u: not a '<sha256>  <file>' line\n", path, lineno);
			p = next;
			continue;
		}
		char expect[65];
		memcpy(expect, p, 64);
		expect[64] = 0;
		for (int i = 0; i < 64; i++)
			if (expect[i] >= 'A' && expect[i] <= 'F')
				expect[i] = (char)(expect[i] - 'A' + 'a');
		const char *name = p + 66;
		entries++;
		listed[nlisted++] = xstrdup(name);
		char *full = name[0] == '/' ? xstrdup(name) : xasprintf("%s/%s", dir, name);
		char hex[65];
		struct pg_err he;
		struct stat st;
		if (stat(full, &st) < 0 && (errno == ENOENT || errno == ENOTDIR)) {
			json_array_append_new(missing, file_str(name));
			buf_addf(ev, "missing: %s\n", name);
		} else if (file_sha256(full, ctx, hex, &he) < 0) {
			if (ctx && (ctx_cancelled(ctx) || ctx_remaining_ms(ctx) <= 0)) {
				rc = pg_error(e, "%s", he.msg);
				free(full);
				goto done;
			}
			json_array_append_new(mism, file_str(name));
			buf_addf(ev, "unreadable: %s (%s)\n", name, he.msg);
		} else if (strcmp(hex, expect) != 0) {
			json_array_append_new(mism, file_str(name));
			buf_addf(ev, "mismatch: %s: manifest says %s, file has %s\n", name, expect,
				 hex);
		}
		free(full);
		p = next;
	}

	int extra_bad = 0;
	if (c->manifest_extra) {
		char **found = NULL;
		size_t nfound = 0, alloc = 0;
		json_t *extra = json_array();
		const char *base = slash ? slash + 1 : path;
		size_t visits = 0;
		file_walk(dir, "", &found, &nfound, &alloc, &visits);
		qsort(found, nfound, sizeof(*found), file_str_cmp);
		qsort(listed, nlisted, sizeof(*listed), file_str_cmp);
		for (size_t i = 0; i < nfound; i++) {
			const char *nm = found[i];
			int known = strcmp(nm, base) == 0;
			const char *lk = nm;
			if (!known && bsearch(&lk, listed, nlisted, sizeof(*listed), file_str_cmp))
				known = 1;
			if (!known) {
				/* names written "./x" in the manifest */
				char *dotted = xasprintf("./%s", nm);
				const char *dk = dotted;
				known = bsearch(&dk, listed, nlisted, sizeof(*listed), file_str_cmp) != NULL;
				free(dotted);
			}
			if (!known) {
				json_array_append_new(extra, file_str(nm));
				buf_addf(ev, "not in the manifest: %s\n", nm);
				extra_bad = 1;
			}
			free(found[i]);
		}
		free(found);
		json_object_set_new(m, "extra", extra);
	}
	json_object_set_new(m, "entries", json_integer(entries));
	json_object_set_new(m, "ok", json_boolean(entries > 0 && !json_array_size(mism) &&
						  !json_array_size(missing) &&
						  !json_array_size(malformed) && !extra_bad));
	if (entries == 0)
		buf_addf(ev, "%s lists no files\n", path);
done:
	json_object_set_new(m, "mismatched", mism);
	json_object_set_new(m, "missing", missing);
	json_object_set_new(m, "malformed_lines", malformed);
	if (!json_object_get(m, "entries"))
		json_object_set_new(m, "entries", json_integer(entries));
	for (size_t i = 0; i < nlisted; i++)
		free(listed[i]);
	free(listed);
	free(data);
	free(dir);
	return rc;
}

/* ---- run ---------------------------------------------------------------- */

static int file_has_glob(const char *s)
{
	return strpbrk(s, "*?[") != NULL;
}

/* 1 when path names a file that exists (links followed), 0 when nothing is
 * there (*why says what), -1 with e when phasegate cannot tell: a directory
 * it may not search, a symbolic link loop. An answer it cannot be sure of is
 * never reported as absent. */
static int file_presence(const char *path, const char **why, struct pg_err *e)
{
	struct stat st, lst;
	if (stat(path, &st) == 0)
		return 1;
	int err = errno;
	if (err == ENOENT || err == ENOTDIR) {
		int link = lstat(path, &lst) == 0 && S_ISLNK(lst.st_mode);
		*why = link ? "is a dangling symbolic link" : "does not exist";
		return 0;
	}
	if (err == ELOOP)
		return pg_error(e, "cannot tell whether '%s' exists: a loop of symbolic links",
		                path);
	return pg_error(e, "cannot tell whether '%s' exists: %s", path, strerror(err));
}

/* glob's errfunc: remember the first directory that could not be read. */
static __thread char *file_glob_failed;
static int file_glob_err(const char *epath, int eerrno)
{
	if (!file_glob_failed)
		file_glob_failed = xasprintf("cannot search '%s': %s", epath, strerror(eerrno));
	return 1; /* stop: a partial list could hide the file */
}

static void file_run(void *priv, struct check_ctx *ctx, struct check_out *out)
{
	const struct file_cfg *c = priv;
	char *path = ctx_path(ctx, c->path);
	char *target = NULL;
	json_t *f = json_object();
	struct buf ev;
	struct pg_err e;
	glob_t g;
	int globbed = 0;
	const char *why = "does not exist";

	buf_init(&ev, 64 * 1024);
	json_object_set_new(f, "path", file_str(path));
	json_object_set_new(f, "want_exists", json_boolean(c->want_exists));
	if (file_has_glob(c->path)) {
		json_t *matches = json_array();
		memset(&g, 0, sizeof(g));
		globbed = 1;
		file_glob_failed = NULL;
		int grc = glob(path, GLOB_ERR, file_glob_err, &g);
		if (grc == GLOB_ABORTED || file_glob_failed) {
			out->forced = CHECK_ERROR;
			out->error = file_glob_failed ? file_glob_failed
			                              : xasprintf("cannot search for '%s'", path);
			file_glob_failed = NULL;
			json_decref(matches);
			goto done;
		}
		for (size_t i = 0; grc == 0 && i < g.gl_pathc; i++) {
			int there = file_presence(g.gl_pathv[i], &why, &e);
			if (there < 0) {
				out->forced = CHECK_ERROR;
				out->error = xstrdup(e.msg);
				json_decref(matches);
				goto done;
			}
			if (!there)
				continue; /* a dangling link is no file */
			json_array_append_new(matches, file_str(g.gl_pathv[i]));
			if (!target)
				target = xstrdup(g.gl_pathv[i]);
		}
		json_object_set_new(f, "count", json_integer((json_int_t)json_array_size(matches)));
		json_object_set_new(f, "matches", matches);
	} else {
		int there = file_presence(path, &why, &e);
		if (there < 0) {
			out->forced = CHECK_ERROR;
			out->error = xstrdup(e.msg);
			goto done;
		}
		if (there)
			target = xstrdup(path);
		else if (strcmp(why, "does not exist") != 0)
			file_stat_facts(path, f); /* what the link points to */
		json_object_set_new(f, "count", json_integer(target ? 1 : 0));
	}
	json_object_set_new(f, "exists", json_boolean(target != NULL));
	if (!target) {
		if (c->want_exists)
			buf_addf(&ev, "%s: %s\n", path, globbed ? "no file matches" : why);
		if (c->manifest)
			json_object_set_new(f, "manifest", json_null());
		goto done;
	}
	file_stat_facts(target, f);
	struct stat tst;
	if (c->sha256 && (stat(target, &tst) < 0 || !S_ISREG(tst.st_mode))) {
		/* a digest was asked for: no digest is an error, never a pass */
		out->forced = CHECK_ERROR;
		out->error = xasprintf("sha256: '%s' is not a regular file", target);
		goto done;
	} else if (c->sha256) {
		char hex[65];
		if (file_sha256(target, ctx, hex, &e) == 0) {
			json_object_set_new(f, "sha256", json_string(hex));
			if (c->sha256_expect) {
				int same = strcmp(hex, c->sha256_expect) == 0;
				json_object_set_new(f, "sha256_ok", json_boolean(same));
				if (!same)
					buf_addf(&ev, "%s: sha256 is %s, expected %s\n", target, hex,
						 c->sha256_expect);
			}
		} else {
			out->forced = CHECK_ERROR;
			out->error = xstrdup(e.msg);
			goto done;
		}
	}
	if (c->parse != PARSE_NONE || c->manifest) {
		/* a file phasegate cannot read is an error, not content that
		 * failed to parse */
		int fd = open_regular(target, &e);
		if (fd < 0) {
			out->forced = CHECK_ERROR;
			out->error = xstrdup(e.msg);
			goto done;
		}
		close(fd);
	}
	if (c->parse != PARSE_NONE) {
		file_parse_content(c, target, f);
		json_t *pe = json_object_get(f, "parse_error");
		if (json_is_string(pe))
			buf_addf(&ev, "%s:%s\n", target, json_string_value(pe));
	}
	if (c->manifest && file_manifest(c, target, ctx, f, &ev, &e) < 0) {
		out->forced = CHECK_ERROR;
		out->error = xstrdup(e.msg);
	}
done:
	out->facts = f;
	if (ev.len)
		out->evidence = buf_detach(&ev);
	buf_release(&ev);
	if (globbed)
		globfree(&g);
	free(target);
	free(path);
}

static char *file_describe(void *priv)
{
	const struct file_cfg *c = priv;
	return xasprintf("%s %s%s%s%s", c->manifest ? "verify manifest" : "check file", c->path,
			 c->sha256 ? " (sha256)" : "",
			 c->parse == PARSE_YAML ? " (parse yaml)" : c->parse == PARSE_JSON ? " (parse json)" : "",
			 c->want_exists ? "" : " is absent");
}

/* "no such file: /backup/x" (module.h, summarize). */
static char *file_summarize(const json_t *f)
{
	const char *path = json_string_value(json_object_get(f, "path"));
	int exists = json_is_true(json_object_get(f, "exists"));
	int want = json_is_true(json_object_get(f, "want_exists"));
	json_t *m = json_object_get(f, "manifest");
	if (!path)
		return NULL;
	if (!exists)
		return want ? xasprintf("no such file: %s", path)
			    : xasprintf("%s does not exist, as expected", path);
	if (!want)
		return xasprintf("%s exists, but it must not", path);
	if (json_is_object(m) && !json_is_true(json_object_get(m, "ok"))) {
		const char *err = json_string_value(json_object_get(m, "error"));
		if (err)
			return xasprintf("manifest %s: %s", path, err);
		return xasprintf("manifest %s: %zu file(s) differ, %zu missing", path,
				 json_array_size(json_object_get(m, "mismatched")),
				 json_array_size(json_object_get(m, "missing")));
	}
	json_t *size = json_object_get(f, "size");
	if (json_is_integer(size))
		return xasprintf("%s exists (%lld bytes)", path, (long long)json_integer_value(size));
	return xasprintf("%s exists", path);
}

const struct check_module check_file = {
	.name = "file",
	.summary = "file existence, size, mode, age, sha256, YAML/JSON parse, manifest, glob count",
	.api_version = CHECK_API_VERSION,
	.flags = CHECK_F_READONLY,
	.keys = file_keys,
	.default_expect = ".exists == .want_exists and (.manifest == null or .manifest.ok == true)"
			  " and (.parse_error == null) and (.sha256_ok == null or .sha256_ok == true)",
	.parse = file_parse_cfg,
	.run = file_run,
	.summarize = file_summarize,
	.describe = file_describe,
	.free = file_free,
};
