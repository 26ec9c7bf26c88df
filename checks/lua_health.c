/* lua_health.c - which Lua health script Argo CD runs for an object, and
 * what its answer means (see lua_health.h). The lookup follows Argo CD's
 * util/lua GetHealthScript: a configured script for the exact group/Kind,
 * then a configured glob that matches it, then the script shipped for the
 * exact group/Kind, then a shipped wildcard directory ("_" for any text). */
#include "lua_health.h"

#include <dirent.h>
#include <fnmatch.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "kube_rules.h"
#include "luasandbox.h"
#include "node.h"

#define SCRIPT_MAX (1u << 20) /* bytes of one health.lua */
#define DIR_ENTRIES_MAX 10000 /* group directories looked at */
#define CACHE_MAX 4096        /* kinds whose directory lookup is remembered */

struct lua_health {
	char *dir;            /* owned, may be NULL */
	json_t *overrides;    /* "group/Kind" or glob -> {"health": str, "open": bool} */
	json_t *wild;         /* array of [glob, "dir/name"]: the shipped wildcard
	                         directories, sorted */
	json_t *cache;        /* "group/Kind" -> script text or null (none): the
	                         directory lookups made so far */
	pthread_mutex_t lock; /* guards cache */
	struct luasb_limits lim;
};

/* Group and kind come from the object: only names Kubernetes allows may
 * become a path. */
static int name_ok(const char *s, int allow_empty)
{
	if (!*s)
		return allow_empty;
	if (s[0] == '.')
		return 0;
	for (const char *p = s; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '.' || *p == '-'))
			return 0;
	return 1;
}

/* "_" in a shipped directory name is a wildcard: "_.crossplane.io" -> "*.crossplane.io". */
static char *wild_glob(const char *name)
{
	char *g = xstrdup(name);
	for (char *p = g; *p; p++)
		if (*p == '_')
			*p = '*';
	return g;
}

static int is_dir(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static int cmp_wild(const void *a, const void *b)
{
	const char *x = json_string_value(json_array_get(*(json_t *const *)a, 0));
	const char *y = json_string_value(json_array_get(*(json_t *const *)b, 0));
	return strcmp(x, y);
}

/* Finds the wildcard directories: groups named with "_" (every kind dir in
 * them) and "_" kind directories in any group. */
static int scan_wild(struct lua_health *h, struct pg_err *e)
{
	DIR *d = opendir(h->dir);
	if (!d)
		return pg_error(e, "cannot read the health customizations directory '%s'", h->dir);
	struct dirent *de;
	size_t seen = 0;
	while ((de = readdir(d)) != NULL && seen++ < DIR_ENTRIES_MAX) {
		const char *g = de->d_name;
		if (g[0] == '.')
			continue;
		char *gpath = xasprintf("%s/%s", h->dir, g);
		if (!is_dir(gpath)) {
			free(gpath);
			continue;
		}
		DIR *kd = strchr(g, '_') ? opendir(gpath) : NULL;
		struct dirent *ke;
		size_t kseen = 0;
		while (kd && (ke = readdir(kd)) != NULL && kseen++ < DIR_ENTRIES_MAX) {
			if (ke->d_name[0] == '.' || strcmp(ke->d_name, "_") == 0)
				continue;
			char *kg = xasprintf("%s/%s", g, ke->d_name);
			char *glob = wild_glob(kg);
			json_array_append_new(h->wild, json_pack("[s,s]", glob, kg));
			free(glob);
			free(kg);
		}
		if (kd)
			closedir(kd);
		char *any = xasprintf("%s/_", gpath);
		if (is_dir(any)) {
			char *kg = xasprintf("%s/_", g);
			char *glob = wild_glob(kg);
			json_array_append_new(h->wild, json_pack("[s,s]", glob, kg));
			free(glob);
			free(kg);
		}
		free(any);
		free(gpath);
	}
	closedir(d);
	/* most specific first would need a rule Argo CD does not have; a
	 * fixed order at least makes the choice repeatable */
	size_t n = json_array_size(h->wild);
	json_t **v = xcalloc(n ? n : 1, sizeof(*v));
	for (size_t i = 0; i < n; i++)
		v[i] = json_incref(json_array_get(h->wild, i));
	qsort(v, n, sizeof(*v), cmp_wild);
	json_array_clear(h->wild);
	for (size_t i = 0; i < n; i++)
		json_array_append_new(h->wild, v[i]);
	free(v);
	return 0;
}

int lua_health_new(const char *dir, struct lua_health **out, struct pg_err *e)
{
	*out = NULL;
	if (dir && !is_dir(dir))
		return pg_error(e,
		                "the health customizations directory '%s' does not exist or is "
		                "not a directory",
		                dir);
	struct lua_health *h = xcalloc(1, sizeof(*h));
	h->dir = xstrdup(dir);
	h->overrides = json_object();
	h->wild = json_array();
	h->cache = json_object();
	h->lim = luasb_limits_default();
	pthread_mutex_init(&h->lock, NULL);
	if (h->dir && scan_wild(h, e) != 0) {
		lua_health_free(h);
		return -1;
	}
	*out = h;
	return 0;
}

void lua_health_free(struct lua_health *h)
{
	if (!h)
		return;
	free(h->dir);
	json_decref(h->overrides);
	json_decref(h->wild);
	json_decref(h->cache);
	pthread_mutex_destroy(&h->lock);
	free(h);
}

/* ---- argocd-cm -------------------------------------------------------- */

/* The override entry for key, made when missing (borrowed). */
static json_t *override_entry(json_t *ov, const char *key)
{
	json_t *o = json_object_get(ov, key);
	if (!o) {
		o = json_object();
		json_object_set_new(ov, key, o);
	}
	return o;
}

/* Go's strconv.ParseBool. */
static int parse_go_bool(const char *s, int *out)
{
	static const char *const t[] = {"1", "t", "T", "TRUE", "true", "True"};
	static const char *const f[] = {"0", "f", "F", "FALSE", "false", "False"};
	for (size_t i = 0; i < 6; i++) {
		if (strcmp(s, t[i]) == 0)
			return *out = 1, 0;
		if (strcmp(s, f[i]) == 0)
			return *out = 0, 0;
	}
	return -1;
}

/* "group_Kind" -> "group/Kind", "Kind" stays, "all" -> every kind. */
static char *override_key(const char *gk)
{
	if (strcmp(gk, "all") == 0)
		return xstrdup("*/*");
	const char *us = strchr(gk, '_');
	if (!us)
		return *gk ? xstrdup(gk) : NULL;
	if (strchr(us + 1, '_'))
		return NULL;
	return xasprintf("%.*s/%s", (int)(us - gk), gk, us + 1);
}

static int add_old_key(json_t *ov, const char *cmkey, const char *text, struct pg_err *e)
{
	struct diags d;
	struct node *tree = NULL;
	struct node_limits lim = node_limits_default();
	diags_init(&d);
	if (node_load_string(cmkey, text, strlen(text), &lim, &tree, &d) != 0) {
		pg_error(e, "argocd-cm %s is not valid YAML: line %u: %s", cmkey,
		         d.n ? d.v[0].line : 0, d.n ? d.v[0].msg : "cannot be parsed");
		diags_release(&d);
		return -1;
	}
	diags_release(&d);
	int rc = 0;
	if (tree->kind != NODE_MAP) {
		rc = pg_error(e, "argocd-cm %s must map group/Kind to settings", cmkey);
		goto tree;
	}
	for (size_t i = 0; i < tree->n; i++) {
		const struct node *v = tree->pairs[i].value;
		const struct node *lua = node_get(v, "health.lua");
		const struct node *open = node_get(v, "health.lua.useOpenLibs");
		if (lua && lua->kind != NODE_SCALAR) {
			rc = pg_error(e, "argocd-cm %s: %s: health.lua must be text (line %u)",
			              cmkey, tree->pairs[i].key->str, lua->pos.line);
			goto tree;
		}
		int ob = 0;
		if (open && (open->kind != NODE_SCALAR || parse_go_bool(open->str, &ob) != 0)) {
			rc = pg_error(e,
			              "argocd-cm %s: %s: health.lua.useOpenLibs must be true or "
			              "false (line %u)",
			              cmkey, tree->pairs[i].key->str, open->pos.line);
			goto tree;
		}
		json_t *o = override_entry(ov, tree->pairs[i].key->str);
		if (lua)
			json_object_set_new(o, "health", json_stringn(lua->str, lua->len));
		if (open)
			json_object_set_new(o, "open", json_boolean(ob));
	}
tree:
	node_free(tree);
	return rc;
}

int lua_health_add_argocd_cm(struct lua_health *h, json_t *data, struct pg_err *e)
{
	static const char prefix[] = "resource.customizations";
	json_t *ov = json_object();
	const char *k;
	json_t *v;
	int rc = 0;
	const char *old = json_string_value(json_object_get(data, prefix));
	if (old && add_old_key(ov, prefix, old, e) != 0) {
		rc = -1;
		goto ov;
	}
	json_object_foreach(data, k, v)
	{
		/* resource.customizations.<type>.<group_kind> */
		if (strncmp(k, prefix, sizeof(prefix) - 1) != 0 || k[sizeof(prefix) - 1] != '.')
			continue;
		const char *type = k + sizeof(prefix);
		const char *dot = strchr(type, '.');
		const char *s = json_string_value(v);
		if (!dot || !s)
			continue;
		int is_health = (size_t)(dot - type) == 6 && strncmp(type, "health", 6) == 0;
		int is_open = (size_t)(dot - type) == 11 && strncmp(type, "useOpenLibs", 11) == 0;
		if (!is_health && !is_open)
			continue;
		char *key = override_key(dot + 1);
		if (!key) {
			rc = pg_error(e,
			              "argocd-cm key '%s': the group and kind must be written "
			              "group_Kind or Kind",
			              k);
			goto ov;
		}
		json_t *o = override_entry(ov, key);
		int ob = 0;
		if (is_health) {
			json_object_set(o, "health", v);
		} else if (parse_go_bool(s, &ob) == 0) {
			json_object_set_new(o, "open", json_boolean(ob));
		} else {
			free(key);
			rc =
			    pg_error(e, "argocd-cm key '%s' must be true or false, not '%s'", k, s);
			goto ov;
		}
		free(key);
	}
	json_object_update(h->overrides, ov);
ov:
	json_decref(ov);
	return rc;
}

/* ---- lookup ------------------------------------------------------------ */

/* A configured script: the exact key, else the first glob (in name order)
 * that matches and has a script. */
static json_t *find_override(const struct lua_health *h, const char *key)
{
	json_t *o = json_object_get(h->overrides, key);
	if (json_string_value(json_object_get(o, "health")) &&
	    *json_string_value(json_object_get(o, "health")))
		return o;
	const char *best = NULL;
	json_t *found = NULL;
	const char *k;
	json_t *v;
	json_object_foreach(h->overrides, k, v)
	{
		const char *s = json_string_value(json_object_get(v, "health"));
		if (!s || !*s || !strpbrk(k, "*?["))
			continue;
		if (fnmatch(k, key, 0) == 0 && (!best || strcmp(k, best) < 0)) {
			best = k;
			found = v;
		}
	}
	return found;
}

/* The shipped script for key (new reference, or NULL), read once. */
static json_t *find_shipped(struct lua_health *h, const char *key)
{
	if (!h->dir)
		return NULL;
	pthread_mutex_lock(&h->lock);
	json_t *c = json_object_get(h->cache, key);
	if (c) {
		json_incref(c);
		pthread_mutex_unlock(&h->lock);
		if (json_is_null(c)) {
			json_decref(c);
			return NULL;
		}
		return c;
	}
	pthread_mutex_unlock(&h->lock);

	char *path = xasprintf("%s/%s/health.lua", h->dir, key);
	char *data = NULL;
	size_t len = 0;
	struct pg_err e;
	json_t *found = NULL;
	if (read_file_capped(path, SCRIPT_MAX, &data, &len, &e) == 0) {
		found = json_stringn(data, len);
	} else {
		for (size_t i = 0; i < json_array_size(h->wild) && !found; i++) {
			json_t *w = json_array_get(h->wild, i);
			if (fnmatch(json_string_value(json_array_get(w, 0)), key, 0) != 0)
				continue;
			free(path);
			path = xasprintf("%s/%s/health.lua", h->dir,
			                 json_string_value(json_array_get(w, 1)));
			free(data);
			data = NULL;
			if (read_file_capped(path, SCRIPT_MAX, &data, &len, &e) == 0)
				found = json_stringn(data, len);
		}
	}
	free(data);
	free(path);
	pthread_mutex_lock(&h->lock);
	if (json_object_size(h->cache) < CACHE_MAX)
		json_object_set(h->cache, key, found ? found : json_null());
	pthread_mutex_unlock(&h->lock);
	return found;
}

/* ---- the verdict ------------------------------------------------------- */

static const char *const statuses[] = {"Healthy",   "Progressing", "Degraded",
                                       "Suspended", "Missing",     "Unknown"};

static const char *unknown(char **message, char *why)
{
	*message = why;
	return "Unknown";
}

/* What Argo CD makes of the value a health script returned. */
static const char *read_verdict(json_t *r, const char *rtype, char **message)
{
	if (strcmp(rtype, "table") != 0)
		return unknown(message,
		               xasprintf("expect table output from Lua script, not %s", rtype));
	if (json_is_array(r))
		return unknown(message, xstrdup("Lua returned an invalid health status"));
	json_t *st = json_object_get(r, "status");
	json_t *msg = json_object_get(r, "message");
	if (st && !json_is_string(st) && !json_is_null(st))
		return unknown(message, xstrdup("json: cannot unmarshal the status field: it is "
		                                "not a string"));
	if (msg && !json_is_string(msg) && !json_is_null(msg))
		return unknown(message, xstrdup("json: cannot unmarshal the message field: it is "
		                                "not a string"));
	const char *s = json_string_value(st);
	for (size_t i = 0; s && i < sizeof(statuses) / sizeof(statuses[0]); i++)
		if (strcmp(s, statuses[i]) == 0) {
			*message = xstrdup(json_string_value(msg) ? json_string_value(msg) : "");
			return statuses[i];
		}
	return unknown(message, xstrdup("Lua returned an invalid health status"));
}

const char *lua_health_of(struct lua_health *h, json_t *obj, char **message, int *by_script)
{
	if (by_script)
		*by_script = 0;
	const char *api = json_string_value(json_object_get(obj, "apiVersion"));
	const char *kind = json_string_value(json_object_get(obj, "kind"));
	if (!h || !json_is_object(obj) || !api || !kind)
		return kube_health(obj, message);
	const char *slash = strchr(api, '/');
	char *group = slash ? xstrndup(api, (size_t)(slash - api)) : xstrdup("");
	char *key = *group ? xasprintf("%s/%s", group, kind) : xstrdup(kind);
	json_t *script = NULL;
	int open = 1; /* shipped scripts always get the open libraries */
	json_t *o = find_override(h, key);
	if (o) {
		script = json_incref(json_object_get(o, "health"));
		open = json_is_true(json_object_get(o, "open"));
	} else if (name_ok(group, 1) && name_ok(kind, 0)) {
		script = find_shipped(h, key);
	}
	const char *status;
	if (!script) {
		status = kube_health(obj, message);
	} else {
		json_t *r = NULL;
		const char *rtype = "nil";
		struct pg_err e;
		if (by_script)
			*by_script = 1;
		if (luasb_run(json_string_value(script), json_string_length(script), "=health.lua",
		              obj, open ? LUASB_LIBS_OPEN : LUASB_LIBS_BASE, &h->lim, &r, &rtype,
		              &e) != 0)
			status = unknown(message, xstrdup(e.msg));
		else
			status = read_verdict(r, rtype, message);
		json_decref(r);
		json_decref(script);
	}
	free(key);
	free(group);
	return status;
}
