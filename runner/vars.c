/* vars.c - suite variables, env files, "${...}" expansion and the
 * process-wide secrets masker that keeps secret values out of every output. */
#include "vars.h"

#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* ---- the variable table ------------------------------------------------- */

void vars_init(struct vars *vs)
{
	memset(vs, 0, sizeof(*vs));
}

void vars_release(struct vars *vs)
{
	size_t i;

	for (i = 0; i < vs->n; i++) {
		free(vs->v[i].name);
		free(vs->v[i].value);
	}
	free(vs->v);
	vars_init(vs);
}

static struct var *vars_lookup(const struct vars *vs, const char *name)
{
	size_t i;

	for (i = 0; i < vs->n; i++) {
		if (strcmp(vs->v[i].name, name) == 0)
			return &vs->v[i];
	}
	return NULL;
}

void vars_set(struct vars *vs, const char *name, const char *value, const char *origin, int secret)
{
	struct var *v = vars_lookup(vs, name);
	char *copy = xstrdup(value ? value : "");

	if (secret > 0)
		mask_add(copy);
	if (v) {
		free(v->value);
		v->value = copy;
		v->origin = origin;
		v->secret = secret;
		return;
	}
	if (vs->n == vs->alloc) {
		vs->alloc = vs->alloc ? vs->alloc * 2 : 16;
		vs->v = xrealloc(vs->v, vs->alloc * sizeof(*vs->v));
	}
	v = &vs->v[vs->n++];
	v->name = xstrdup(name);
	v->value = copy;
	v->origin = origin;
	v->secret = secret;
}

const struct var *vars_find(const struct vars *vs, const char *name)
{
	return vs ? vars_lookup(vs, name) : NULL;
}

/* ---- env files ---------------------------------------------------------- */

static int is_name_start(int c)
{
	return isalpha(c) || c == '_';
}

static int is_name_char(int c)
{
	return isalnum(c) || c == '_' || c == '.' || c == '-';
}

/* Parses one line (without its newline) into vs. */
static int env_line(struct vars *vs, const char *path, unsigned lineno, char *line, struct diags *d)
{
	char *p = line, *name, *end;
	struct buf val;
	int rc = -1;

	while (*p == ' ' || *p == '\t')
		p++;
	if (*p == 0 || *p == '#')
		return 0;
	if (strncmp(p, "export", 6) == 0 && (p[6] == ' ' || p[6] == '\t')) {
		p += 6;
		while (*p == ' ' || *p == '\t')
			p++;
	}
	name = p;
	if (!is_name_start((unsigned char)*p))
		return diag_pos(d, path, lineno, (unsigned)(p - line) + 1,
		                "expected NAME=VALUE (a name starts with a letter or '_')");
	while (is_name_char((unsigned char)*p))
		p++;
	end = p;
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p != '=')
		return diag_pos(d, path, lineno, (unsigned)(p - line) + 1, "expected NAME=VALUE");
	*end = 0;
	p++;
	while (*p == ' ' || *p == '\t')
		p++;
	buf_init(&val, 0);
	buf_adds(&val, "");
	if (*p == '\'' || *p == '"') {
		char q = *p++;
		for (; *p && *p != q; p++) {
			if (q == '"' && *p == '\\' && p[1]) {
				p++;
				switch (*p) {
				case 'n':
					buf_addc(&val, '\n');
					break;
				case 't':
					buf_addc(&val, '\t');
					break;
				case 'r':
					buf_addc(&val, '\r');
					break;
				default:
					buf_addc(&val, *p);
					break;
				}
				continue;
			}
			buf_addc(&val, *p);
		}
		if (*p != q) {
			diag_pos(d, path, lineno, (unsigned)(name - line) + 1,
			         "unterminated quote in the value of '%s'", name);
			goto val;
		}
		p++;
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p && *p != '#') {
			diag_pos(d, path, lineno, (unsigned)(p - line) + 1,
			         "unexpected text after the quoted value of '%s'", name);
			goto val;
		}
	} else {
		char *v = p, *e;
		/* " #" starts a comment in an unquoted value */
		for (e = p; *e; e++) {
			if (*e == '#' && e > v && (e[-1] == ' ' || e[-1] == '\t'))
				break;
		}
		while (e > v && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
			e--;
		buf_add(&val, v, (size_t)(e - v));
	}
	vars_set(vs, name, buf_str(&val), "env-file", 0);
	rc = 0;
val:
	buf_release(&val);
	return rc;
}

int vars_load_env_file(struct vars *vs, const char *path, struct diags *d)
{
	struct pg_err e;
	char *data = NULL, *line, *nl;
	size_t len = 0;
	unsigned lineno = 0;
	int rc = 0;

	if (read_file_capped(path, 1024 * 1024, &data, &len, &e) < 0)
		return diag_pos(d, NULL, 0, 0, "env file: %s", e.msg);
	if (memchr(data, 0, len)) {
		rc = diag_pos(d, path, 0, 0, "env file contains NUL bytes");
		goto data;
	}
	for (line = data; line && *line; line = nl) {
		nl = strchr(line, '\n');
		if (nl)
			*nl++ = 0;
		lineno++;
		if (nl == NULL || *line) {
			size_t l = strlen(line);
			if (l && line[l - 1] == '\r')
				line[l - 1] = 0;
		}
		if (env_line(vs, path, lineno, line, d) < 0)
			rc = -1;
	}
data:
	free(data);
	return rc;
}

/* ---- expansion ---------------------------------------------------------- */

int vars_has_ref(const char *s)
{
	size_t i;

	if (!s)
		return 0;
	for (i = 0; s[i]; i++) {
		if (s[i] == '$' && s[i + 1] == '$' && s[i + 2] == '{') {
			i += 2;
			continue;
		}
		if (s[i] == '$' && s[i + 1] == '{')
			return 1;
	}
	return 0;
}

static int is_deferred(const struct deferred_names *dn, const char *name, size_t len)
{
	size_t i, l;

	for (i = 0; dn && i < dn->n; i++) {
		l = strlen(dn->v[i]);
		/* "${rev}" and "${rev.field}" both wait for the saved value */
		if (l <= len && memcmp(dn->v[i], name, l) == 0 && (l == len || name[l] == '.'))
			return 1;
	}
	return 0;
}

/* Adds literal text; when escape is set, every "${" is written as "$${" so
 * a later run-time expansion gives back the same text. */
static void add_literal(struct buf *b, const char *s, size_t len, int escape)
{
	size_t i;

	if (!escape) {
		buf_add(b, s, len);
		return;
	}
	for (i = 0; i < len; i++) {
		if (s[i] == '$' && i + 1 < len && s[i + 1] == '{')
			buf_addc(b, '$');
		buf_addc(b, s[i]);
	}
}

enum ref_problem { RP_UNTERMINATED, RP_EMPTY, RP_BADNAME, RP_NOENV, RP_NOSECRET, RP_UNDEFINED };

/* Adds a diagnostic about a reference (when d is set); returns -1. */
static int ref_error(struct diags *d, const struct node *pos, enum ref_problem what,
                     const char *name, size_t len)
{
	char *n;

	if (!d)
		return -1;
	n = xstrndup(name, len > 80 ? 80 : len);
	switch (what) {
	case RP_UNTERMINATED:
		diag_at(d, pos, "unterminated reference '${%s' (missing '}')", n);
		break;
	case RP_EMPTY:
		diag_at(d, pos, "empty reference '${}'");
		break;
	case RP_BADNAME:
		diag_at(d, pos, "invalid variable name '%s' in a reference", n);
		break;
	case RP_NOENV:
		diag_at(d, pos, "environment variable '%s' is not set", n);
		break;
	case RP_NOSECRET:
		diag_at(d, pos, "undefined secret '%s'", n);
		break;
	case RP_UNDEFINED:
		diag_at(d, pos, "undefined variable '%s'", n);
		break;
	}
	free(n);
	return -1;
}

/* One pass of expansion. *kept counts references left for run time. */
static int expand_pass(const struct vars *vs, const struct deferred_names *deferred, const char *s,
                       const struct node *pos, struct diags *d, int escape, struct buf *out,
                       int *kept)
{
	size_t i = 0, start, nlen;
	const char *name;
	const struct var *v;
	char *tmp;

	*kept = 0;
	while (s[i] && !out->truncated) {
		if (s[i] == '$' && s[i + 1] == '$' && s[i + 2] == '{') {
			add_literal(out, "${", 2, escape);
			i += 3;
			continue;
		}
		if (!(s[i] == '$' && s[i + 1] == '{')) {
			start = i;
			while (s[i] && !(s[i] == '$' && (s[i + 1] == '{' || s[i + 1] == '$')))
				i++;
			if (i == start)
				i++; /* a lone "$$" not followed by "{" */
			add_literal(out, s + start, i - start, escape);
			continue;
		}
		name = s + i + 2;
		for (nlen = 0; name[nlen] && name[nlen] != '}'; nlen++)
			;
		if (!name[nlen])
			return ref_error(d, pos, RP_UNTERMINATED, name, nlen);
		if (nlen == 0)
			return ref_error(d, pos, RP_EMPTY, "", 0);
		for (start = 0; start < nlen; start++) {
			if (!is_name_char((unsigned char)name[start]))
				return ref_error(d, pos, RP_BADNAME, name, nlen);
		}
		i += 2 + nlen + 1;
		if (nlen > 4 && memcmp(name, "env.", 4) == 0) {
			const char *val;
			tmp = xstrndup(name + 4, nlen - 4);
			val = getenv(tmp);
			if (!val) {
				ref_error(d, pos, RP_NOENV, tmp, strlen(tmp));
				free(tmp);
				return -1;
			}
			free(tmp);
			add_literal(out, val, strlen(val), escape);
			continue;
		}
		if (nlen > 8 && memcmp(name, "secrets.", 8) == 0) {
			tmp = xstrndup(name, nlen);
			v = vars_find(vs, tmp); /* stored under its full name */
			if (!v || !v->secret)
				v = vars_find(vs, tmp + 8);
			if (v && v->secret == VAR_SECRET_UNAVAILABLE) {
				free(tmp); /* reported where it is declared */
				return -1;
			}
			if (!v || !v->secret) {
				ref_error(d, pos, RP_NOSECRET, tmp + 8, strlen(tmp + 8));
				free(tmp);
				return -1;
			}
			free(tmp);
			add_literal(out, v->value, strlen(v->value), escape);
			continue;
		}
		tmp = xstrndup(name, nlen);
		v = vars_find(vs, tmp);
		free(tmp);
		if (v) {
			/* the value is added as text: a "${" inside it is not expanded */
			add_literal(out, v->value, strlen(v->value), escape);
			continue;
		}
		if (is_deferred(deferred, name, nlen)) {
			buf_add(out, name - 2, nlen + 3);
			(*kept)++;
			continue;
		}
		return ref_error(d, pos, RP_UNDEFINED, name, nlen);
	}
	return 0;
}

/* vars_expand(), also saying whether references were kept for run time. */
static char *expand(const struct vars *vs, const struct deferred_names *deferred, const char *s,
                    const struct node *pos, struct diags *d, int *kept)
{
	struct buf out;

	*kept = 0;
	if (!s)
		return NULL;
	if (!strchr(s, '$'))
		return xstrdup(s);
	buf_init(&out, VARS_MAX_VALUE + 1);
	if (expand_pass(vs, deferred, s, pos, d, 0, &out, kept) < 0)
		goto fail;
	if (*kept) {
		/* references stay for run time: the text must stay in escaped form
		 * so that expanding it again expands only those references */
		buf_release(&out);
		buf_init(&out, VARS_MAX_VALUE + 1);
		if (expand_pass(vs, deferred, s, pos, d, 1, &out, kept) < 0)
			goto fail;
	}
	if (out.truncated || out.len > VARS_MAX_VALUE) {
		if (d)
			diag_at(d, pos,
			        "this text expands to more than %d MiB (variables that "
			        "repeat other variables multiply in size)",
			        VARS_MAX_VALUE >> 20);
		goto fail;
	}
	size_t in = strlen(s);
	if (out.len > in) {
		struct vars *w = (struct vars *)vs; /* only the counter changes */
		if (w->grown + (out.len - in) > VARS_MAX_GROWTH) {
			if (d)
				diag_at(d, pos,
				        "expanding variables adds more than %d MiB of text "
				        "to the suite in all",
				        VARS_MAX_GROWTH >> 20);
			goto fail;
		}
		w->grown += out.len - in;
	}
	return buf_detach(&out);
fail:
	buf_release(&out);
	return NULL;
}

char *vars_expand(const struct vars *vs, const struct deferred_names *deferred, const char *s,
                  const struct node *pos, struct diags *d)
{
	int kept;

	return expand(vs, deferred, s, pos, d, &kept);
}

/* Recursion follows the tree, whose depth the loader bounds. */
int vars_expand_tree(const struct vars *vs, const struct deferred_names *deferred, struct node *n,
                     struct diags *d)
{
	int problems = 0, kept;
	size_t i;
	char *s;

	if (!n)
		return 0;
	switch (n->kind) {
	case NODE_SCALAR:
		/* text already expanded at load time is in escaped form only
		 * when it kept references; fully expanded text is final */
		if (n->expanded == 1 || !n->str || !memchr(n->str, '$', n->len)) {
			if (!n->expanded)
				n->expanded = 1;
			return 0;
		}
		s = expand(vs, deferred, n->str, n, d, &kept);
		if (!s)
			return 1;
		node_set_str(n, s);
		n->expanded = kept ? 2 : 1;
		return 0;
	case NODE_SEQ:
		for (i = 0; i < n->n; i++)
			problems += vars_expand_tree(vs, deferred, n->items[i], d);
		return problems;
	case NODE_MAP:
		for (i = 0; i < n->n; i++)
			problems += vars_expand_tree(vs, deferred, n->pairs[i].value, d);
		return problems;
	}
	return problems;
}

/* ---- suite variables that refer to others -------------------------------- */

enum { DEF_TODO, DEF_BUSY, DEF_DONE, DEF_FAILED };

struct resolver {
	struct vars *vs;
	const struct var_def *defs;
	size_t n;
	unsigned char *state; /* DEF_* per def */
	size_t *chain;        /* the defs being resolved, outermost first */
	size_t depth;
	struct diags *d;
	int problems;
};

/* The last def of a name: a later layer (the suite over its includes)
 * overrides an earlier one. */
static long def_index(const struct resolver *R, const char *name, size_t len)
{
	for (size_t i = R->n; i-- > 0;) {
		if (strlen(R->defs[i].name) == len && memcmp(R->defs[i].name, name, len) == 0)
			return (long)i;
	}
	return -1;
}

static int resolve_def(struct resolver *R, size_t i);

/* Resolves the defs that text refers to, before text is expanded. */
static int resolve_refs(struct resolver *R, const char *text)
{
	for (const char *p = text; (p = strchr(p, '$')) != NULL;) {
		if (p[1] == '$') {
			p += 2; /* "$$" is a literal '$' ("$${" a literal "${") */
			continue;
		}
		if (p[1] != '{') {
			p++;
			continue;
		}
		const char *name = p + 2, *end = strchr(name, '}');
		if (!end)
			return 0; /* the expansion reports it */
		long j = def_index(R, name, (size_t)(end - name));
		if (j >= 0 && resolve_def(R, (size_t)j) < 0)
			return -1;
		p = end + 1;
	}
	return 0;
}

static int resolve_def(struct resolver *R, size_t i)
{
	const struct var_def *def = &R->defs[i];

	if (R->state[i] == DEF_DONE)
		return 0;
	if (R->state[i] == DEF_FAILED)
		return -1;
	if (R->state[i] == DEF_BUSY) {
		/* a cycle: name it from where it starts */
		struct buf b;
		size_t k = 0;
		buf_init(&b, 4096);
		while (k < R->depth && R->chain[k] != i)
			k++;
		for (size_t m = k; m < R->depth; m++)
			buf_addf(&b, "%s -> ", R->defs[R->chain[m]].name);
		buf_adds(&b, def->name);
		diag_at(R->d, R->defs[R->chain[k]].value,
		        "variable '%s' refers to itself through other variables: %s",
		        R->defs[R->chain[k]].name, buf_str(&b));
		buf_release(&b);
		R->problems++;
		return -1;
	}
	if (R->depth >= VARS_MAX_DEPTH) {
		diag_at(R->d, def->value,
		        "variable '%s': variables refer to variables more than %d "
		        "levels deep",
		        def->name, VARS_MAX_DEPTH);
		R->problems++;
		R->state[i] = DEF_FAILED;
		return -1;
	}
	R->state[i] = DEF_BUSY;
	R->chain[R->depth++] = i;
	int rc = resolve_refs(R, def->value->str);
	char *s = NULL;
	if (rc == 0) {
		s = vars_expand(R->vs, NULL, def->value->str, def->value, R->d);
		if (!s) {
			R->problems++;
			rc = -1;
		}
	}
	R->depth--;
	if (rc < 0) {
		R->state[i] = DEF_FAILED;
		return -1;
	}
	const struct var *v = vars_find(R->vs, def->name);
	vars_set(R->vs, def->name, s, v ? v->origin : "suite", v ? v->secret : 0);
	free(s);
	R->state[i] = DEF_DONE;
	return 0;
}

int vars_resolve(struct vars *vs, const struct var_def *defs, size_t n, struct diags *d)
{
	struct resolver R = {.vs = vs, .defs = defs, .n = n, .d = d};

	R.state = xcalloc(n + 1, 1);
	R.chain = xcalloc(VARS_MAX_DEPTH + 1, sizeof(*R.chain));
	for (size_t i = 0; i < n; i++) {
		const char *name = defs[i].name;
		if (def_index(&R, name, strlen(name)) == (long)i)
			(void)resolve_def(&R, i);
	}
	free(R.state);
	free(R.chain);
	return R.problems;
}
