/* k8s_backup.c - the backup side of the k8s module (k8s_backup.h): the
 * kinds a discovered backup takes, its own manifest in restore order, the
 * restore that follows that manifest (verified first, optionally into an
 * isolated namespace) and the object-by-object comparison of a backup with
 * what is live. The export itself (listing and writing files) stays in
 * k8s.c, which calls these. */
#include <stdlib.h>
#include <string.h>

#include "k8s_backup.h"
#include "k8s_yaml.h"
#include "module.h"

#define BACKUP_MAX_OBJECTS 100000              /* entries a manifest may list */
#define BACKUP_FILE_MAX (16 * 1024 * 1024)     /* one object file */
#define BACKUP_MANIFEST_MAX (64 * 1024 * 1024) /* the manifest itself */
#define DIFF_PATHS_MAX 20                      /* differing paths kept per object */

/* ---- which kinds ------------------------------------------------------ */

/* History and state the cluster derives: never restored. */
static int derived_kind(const struct k8s_res *r)
{
	static const char *const plurals[] = {"events", "endpoints", "endpointslices", "leases",
	                                      NULL};
	if (strcmp(r->group, "metrics.k8s.io") == 0 || strcmp(r->group, "events.k8s.io") == 0)
		return 1;
	for (size_t i = 0; plurals[i]; i++)
		if (strcmp(r->plural, plurals[i]) == 0)
			return 1;
	return 0;
}

int k8s_backup_kinds(struct k8s_client *cl, struct check_ctx *ctx, const struct k8s_res ***out,
                     size_t *n, char **err)
{
	const struct k8s_res *probe;
	/* makes sure discovery ran; the namespaces type is always served */
	if (k8s_resolve(cl, ctx, "namespaces", NULL, &probe, err) != 0)
		return -1;
	pthread_mutex_lock(&cl->lock);
	const struct k8s_res **v = xcalloc(cl->nres + 1, sizeof(*v));
	size_t k = 0;
	for (size_t i = 0; i < cl->nres; i++) {
		const struct k8s_res *r = cl->res[i];
		if (!r->namespaced || !r->listable || derived_kind(r))
			continue;
		size_t j = 0;
		while (j < k && !(strcmp(v[j]->group, r->group) == 0 &&
		                  strcmp(v[j]->plural, r->plural) == 0))
			j++;
		if (j == k)
			v[k++] = r;
		else if (r->preferred && !v[j]->preferred)
			v[j] = r; /* the group's preferred version wins */
	}
	pthread_mutex_unlock(&cl->lock);
	*out = v;
	*n = k;
	return 0;
}

int k8s_backup_derived(const struct k8s_res *res, json_t *obj)
{
	json_t *meta = json_object_get(obj, "metadata");
	size_t i;
	json_t *ref;
	json_array_foreach(json_object_get(meta, "ownerReferences"), i, ref)
	{
		if (json_is_true(json_object_get(ref, "controller")))
			return 1;
	}
	if (!*res->group && strcmp(res->plural, "secrets") == 0) {
		const char *type = json_string_value(json_object_get(obj, "type"));
		return type && strcmp(type, "kubernetes.io/service-account-token") == 0;
	}
	if (!*res->group && strcmp(res->plural, "configmaps") == 0) {
		const char *name = json_string_value(json_object_get(meta, "name"));
		return name && strcmp(name, "kube-root-ca.crt") == 0;
	}
	return 0;
}

void k8s_backup_strip(json_t *o)
{
	json_t *meta = json_object_get(o, "metadata");
	static const char *const drop[] = {"managedFields",     "resourceVersion", "uid",
	                                   "creationTimestamp", "generation",      "selfLink"};
	for (size_t i = 0; i < sizeof(drop) / sizeof(drop[0]); i++)
		json_object_del(meta, drop[i]);
	json_t *ann = json_object_get(meta, "annotations");
	json_object_del(ann, "kubectl.kubernetes.io/last-applied-configuration");
	if (json_is_object(ann) && json_object_size(ann) == 0)
		json_object_del(meta, "annotations");
	json_object_del(o, "status");
}

/* ---- the manifest ----------------------------------------------------- */

/* Restore order: what others refer to first (Helm's install order, in
 * short), workloads after their configuration, and custom resources (Argo
 * CD's AppProjects before Applications and ApplicationSets) last, so a
 * controller that starts finds everything it reads. */
static int kind_rank(const char *kind)
{
	static const char *const order[] = {"Namespace",
	                                    "NetworkPolicy",
	                                    "ResourceQuota",
	                                    "LimitRange",
	                                    "PodDisruptionBudget",
	                                    "ServiceAccount",
	                                    "Secret",
	                                    "ConfigMap",
	                                    "PersistentVolumeClaim",
	                                    "CustomResourceDefinition",
	                                    "ClusterRole",
	                                    "ClusterRoleBinding",
	                                    "Role",
	                                    "RoleBinding",
	                                    "Service",
	                                    "DaemonSet",
	                                    "Pod",
	                                    "ReplicaSet",
	                                    "Deployment",
	                                    "HorizontalPodAutoscaler",
	                                    "StatefulSet",
	                                    "Job",
	                                    "CronJob",
	                                    "IngressClass",
	                                    "Ingress",
	                                    "AppProject",
	                                    NULL};
	for (int i = 0; order[i]; i++)
		if (kind && strcmp(kind, order[i]) == 0)
			return i;
	return 100; /* other custom resources: Applications, ApplicationSets, ... */
}

static int entry_cmp(const void *a, const void *b)
{
	json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
	int rx = kind_rank(json_string_value(json_object_get(x, "kind")));
	int ry = kind_rank(json_string_value(json_object_get(y, "kind")));
	if (rx != ry)
		return rx < ry ? -1 : 1;
	return strcmp(json_string_value(json_object_get(x, "file")),
	              json_string_value(json_object_get(y, "file")));
}

int k8s_backup_write_manifest(const char *dir, json_t *entries, json_t *namespaces,
                              struct buf *sums, char **err)
{
	size_t n = json_array_size(entries);
	json_t **v = xcalloc(n + 1, sizeof(*v));
	for (size_t i = 0; i < n; i++)
		v[i] = json_array_get(entries, i);
	qsort(v, n, sizeof(*v), entry_cmp);
	json_t *objs = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append(objs, v[i]);
	free(v);
	json_t *m = json_pack("{s:s, s:O, s:I, s:o}", "format", "phasegate-backup/1", "namespaces",
	                      namespaces, "count", (json_int_t)n, "objects", objs);
	char *text = json_dumps(m, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
	json_decref(m);
	size_t len = strlen(text);
	char *path = xasprintf("%s/%s", dir, K8S_BACKUP_MANIFEST);
	struct pg_err pe;
	int rc = write_file_atomic(path, text, len, &pe);
	if (rc != 0) {
		*err = xstrdup(pe.msg);
	} else {
		char hex[65];
		sha256_hex(text, len, hex);
		buf_addf(sums, "%s  %s\n", hex, K8S_BACKUP_MANIFEST);
	}
	free(path);
	free(text);
	return rc;
}

/* ---- reading a backup back -------------------------------------------- */

static int safe_rel(const char *p)
{
	if (!p || !*p || *p == '/')
		return 0;
	for (const char *s = p; *s;) {
		const char *e = strchr(s, '/');
		size_t len = e ? (size_t)(e - s) : strlen(s);
		if (len == 0 || (len == 1 && s[0] == '.') || (len == 2 && !strncmp(s, "..", 2)))
			return 0;
		s += len + (e ? 1 : 0);
	}
	return 1;
}

/* The manifest's digest as SHA256SUMS lists it (NULL when it is absent). */
static char *sums_digest(const char *dir, char **err)
{
	char *path = xasprintf("%s/SHA256SUMS", dir), *data = NULL, *hex = NULL;
	size_t len = 0;
	struct pg_err pe;
	if (read_file_capped(path, BACKUP_MANIFEST_MAX, &data, &len, &pe) != 0) {
		*err = xasprintf("the backup has no readable SHA256SUMS: %s", pe.msg);
		free(path);
		return NULL;
	}
	const char *want = "  " K8S_BACKUP_MANIFEST "\n";
	for (size_t pos = 0; pos + 64 + strlen(want) <= len;) {
		const char *eol = memchr(data + pos, '\n', len - pos);
		size_t l = eol ? (size_t)(eol - (data + pos)) + 1 : len - pos;
		if (l == 64 + strlen(want) && memcmp(data + pos + 64, want, strlen(want)) == 0) {
			hex = xstrndup(data + pos, 64);
			break;
		}
		pos += l;
	}
	if (!hex)
		*err = xasprintf("%s does not list %s: the backup was not written by an export "
		                 "that keeps a manifest",
		                 path, K8S_BACKUP_MANIFEST);
	free(data);
	free(path);
	return hex;
}

/* Loads every object the manifest lists, each file checked against its
 * digest, before anything is sent. Returns an array of {entry, object}
 * pairs as [entry, object] arrays, or NULL with *err. */
static json_t *load_backup(const char *dir, char **err)
{
	char *want = sums_digest(dir, err);
	if (!want)
		return NULL;
	char *mpath = xasprintf("%s/%s", dir, K8S_BACKUP_MANIFEST), *data = NULL;
	size_t len = 0;
	struct pg_err pe;
	json_t *out = NULL, *m = NULL;
	if (read_file_capped(mpath, BACKUP_MANIFEST_MAX, &data, &len, &pe) != 0) {
		*err = xstrdup(pe.msg);
		goto done;
	}
	char hex[65];
	sha256_hex(data, len, hex);
	if (strcmp(hex, want) != 0) {
		*err = xasprintf("%s changed after the export (its SHA-256 is not the one in "
		                 "SHA256SUMS): refusing to restore from it",
		                 mpath);
		goto done;
	}
	json_error_t je;
	m = json_load_bounded(data, len, JSON_MAX_VALUES, &je);
	json_t *objs = json_object_get(m, "objects");
	if (!json_is_array(objs) || json_array_size(objs) > BACKUP_MAX_OBJECTS) {
		*err = xasprintf("%s is not a backup manifest (an 'objects' list of at most %d)",
		                 mpath, BACKUP_MAX_OBJECTS);
		goto done;
	}
	out = json_array();
	size_t i;
	json_t *e;
	json_array_foreach(objs, i, e)
	{
		const char *rel = json_string_value(json_object_get(e, "file"));
		const char *sum = json_string_value(json_object_get(e, "sha256"));
		if (!safe_rel(rel) || !sum) {
			*err = xasprintf("%s: entry %zu has no safe relative file or no sha256",
			                 mpath, i + 1);
			goto fail;
		}
		char *p = xasprintf("%s/%s", dir, rel), *text = NULL;
		size_t tl = 0;
		if (read_file_capped(p, BACKUP_FILE_MAX, &text, &tl, &pe) != 0) {
			*err = xasprintf("backup file missing or unreadable: %s", pe.msg);
			free(p);
			goto fail;
		}
		sha256_hex(text, tl, hex);
		json_t *docs = json_array();
		int rc =
		    strcmp(hex, sum) != 0 ? 1 : k8s_load_manifests_text(p, text, tl, docs, err);
		if (rc == 1)
			*err =
			    xasprintf("%s changed after the export (SHA-256 %.12s…, the manifest "
			              "says %.12s…): refusing to restore from a changed backup",
			              p, hex, sum);
		else if (rc == 0 && json_array_size(docs) != 1) {
			*err = xasprintf("%s holds %zu objects, the manifest one", p,
			                 json_array_size(docs));
			rc = -1;
		}
		free(text);
		free(p);
		if (rc != 0) {
			json_decref(docs);
			goto fail;
		}
		json_array_append_new(out, json_pack("[O,O]", e, json_array_get(docs, 0)));
		json_decref(docs);
	}
	goto done;
fail:
	json_decref(out);
	out = NULL;
done:
	if (m)
		json_decref(m);
	free(data);
	free(mpath);
	free(want);
	return out;
}

/* What a copy in another namespace must not carry: finalizers (a copy's
 * deletion must never cascade to what the original manages), addresses
 * the cluster allocated to the original (Service IPs, node ports). */
static void for_isolated(json_t *o, const char *ns, int scale_to_zero)
{
	json_t *meta = json_object_get(o, "metadata");
	json_object_set_new(meta, "namespace", json_string(ns));
	json_object_del(meta, "finalizers");
	const char *kind = json_string_value(json_object_get(o, "kind"));
	json_t *spec = json_object_get(o, "spec");
	if (kind && strcmp(kind, "Service") == 0) {
		json_object_del(spec, "clusterIP");
		json_object_del(spec, "clusterIPs");
		json_object_del(spec, "healthCheckNodePort");
		size_t i;
		json_t *p;
		json_array_foreach(json_object_get(spec, "ports"), i, p)
		    json_object_del(p, "nodePort");
	}
	if (scale_to_zero && kind &&
	    (strcmp(kind, "Deployment") == 0 || strcmp(kind, "StatefulSet") == 0))
		json_object_set_new(spec, "replicas", json_integer(0));
}

static char *label(json_t *o)
{
	json_t *meta = json_object_get(o, "metadata");
	const char *ns = json_string_value(json_object_get(meta, "namespace"));
	return xasprintf("%s %s%s%s", json_string_value(json_object_get(o, "kind")), ns ? ns : "",
	                 ns ? "/" : "", json_string_value(json_object_get(meta, "name")));
}

/* The objects a restore or comparison covers: with a target namespace,
 * those of the one backed-up namespace (the backup must hold exactly one);
 * the rest are counted in *skipped. Returns 0 or -1 with *err. */
static int select_objects(json_t *pairs, const char *target, json_t **sel, size_t *skipped,
                          char **err)
{
	const char *src = NULL;
	*sel = json_array();
	*skipped = 0;
	size_t i;
	json_t *pr;
	json_array_foreach(pairs, i, pr)
	{
		json_t *o = json_array_get(pr, 1);
		const char *ns =
		    json_string_value(json_object_get(json_object_get(o, "metadata"), "namespace"));
		if (target && (!ns || !*ns)) {
			(*skipped)++;
			continue;
		}
		if (target && src && strcmp(src, ns) != 0) {
			*err = xasprintf("the backup holds the namespaces %s and %s: an isolated "
			                 "restore takes a backup of one namespace",
			                 src, ns);
			json_decref(*sel);
			*sel = NULL;
			return -1;
		}
		if (target)
			src = ns;
		json_array_append(*sel, o);
	}
	return 0;
}

/* 1 when the object exists, 0 when it does not, -1 with *err. */
static int exists(struct k8s_client *cl, struct check_ctx *ctx, const struct k8s_res *res,
                  const char *ns, const char *name, char **err)
{
	char *path = k8s_path(res, ns, name, NULL);
	struct http_response rs;
	int rc = k8s_call(cl, ctx, "GET", path, NULL, NULL, &rs, err);
	free(path);
	if (rc != 0)
		return -1;
	if (rs.status == 404) {
		rc = 0;
	} else if (rs.status / 100 == 2) {
		rc = 1;
	} else {
		char *w = xasprintf("GET %s/%s", res->plural, name);
		*err = k8s_status_error(cl, &rs, w);
		free(w);
		rc = -1;
	}
	http_response_release(&rs);
	return rc;
}

json_t *k8s_backup_restore(struct k8s_client *cl, struct check_ctx *ctx,
                           const struct k8s_backup_opts *o, char **err)
{
	json_t *pairs = load_backup(o->dir, err);
	if (!pairs)
		return NULL;
	json_t *sel = NULL, *done = json_array(), *facts = NULL;
	size_t skipped = 0, present = 0;
	if (select_objects(pairs, o->target_ns, &sel, &skipped, err) != 0)
		goto out;
	if (o->target_ns) { /* the isolated namespace itself comes first */
		json_t *ns = json_pack("{s:s, s:s, s:{s:s, s:{s:s}}}", "apiVersion", "v1", "kind",
		                       "Namespace", "metadata", "name", o->target_ns, "labels",
		                       "app.kubernetes.io/managed-by", "phasegate");
		json_array_insert_new(sel, 0, ns);
	}
	size_t i;
	json_t *obj;
	json_array_foreach(sel, i, obj)
	{
		if (ctx_cancelled(ctx) || ctx_remaining_ms(ctx) <= 0) {
			*err = xasprintf("the restore stopped at the check's deadline after %zu of "
			                 "%zu objects (raise timeout:)",
			                 i, json_array_size(sel));
			goto out;
		}
		json_t *body = json_deep_copy(obj);
		json_t *meta = json_object_get(body, "metadata");
		const char *kind = json_string_value(json_object_get(body, "kind"));
		if (o->target_ns && strcmp(kind, "Namespace") != 0)
			for_isolated(body, o->target_ns, o->scale_to_zero);
		else if (kind && strcmp(kind, "Service") == 0) {
			/* the old address may still be held: let the cluster allocate */
			json_object_del(json_object_get(body, "spec"), "clusterIP");
			json_object_del(json_object_get(body, "spec"), "clusterIPs");
		}
		const struct k8s_res *res;
		const char *av = json_string_value(json_object_get(body, "apiVersion"));
		const char *name = json_string_value(json_object_get(meta, "name"));
		const char *ns = json_string_value(json_object_get(meta, "namespace"));
		if (k8s_resolve(cl, ctx, kind, av, &res, err) != 0) {
			json_decref(body);
			goto out;
		}
		if (o->missing_only) {
			int there = exists(cl, ctx, res, res->namespaced ? ns : NULL, name, err);
			if (there < 0) {
				json_decref(body);
				goto out;
			}
			if (there) {
				present++;
				json_decref(body);
				continue;
			}
		}
		char *q = xasprintf("fieldManager=phasegate&force=true%s",
		                    o->dry_run ? "&dryRun=All" : "");
		char *path = k8s_path(res, res->namespaced ? ns : NULL, name, q);
		char *text = json_dumps(body, JSON_COMPACT);
		char *what = label(body);
		struct http_response rs;
		int rc = k8s_call(cl, ctx, "PATCH", path, "application/apply-patch+yaml", text, &rs,
		                  err);
		if (rc == 0) {
			if (rs.status / 100 != 2) {
				char *w = xasprintf("restore %s", what);
				*err = k8s_status_error(cl, &rs, w);
				free(w);
				rc = -1;
			}
			http_response_release(&rs);
		}
		free(text);
		free(path);
		free(q);
		json_decref(body);
		if (rc != 0) {
			free(what);
			goto out;
		}
		json_array_append_new(done, json_string(what));
		free(what);
	}
	size_t n = json_array_size(done);
	facts = json_object();
	json_object_set_new(facts, "ok", json_true());
	char *sum =
	    xasprintf("%zu objects restored from %s%s%s%s%s", n, o->dir,
	              o->missing_only ? " (only those absent live)" : "",
	              o->target_ns ? " into the isolated namespace " : "",
	              o->target_ns ? o->target_ns : "", o->dry_run ? " (server dry run)" : "");
	json_object_set_new(facts, "summary", json_string(sum));
	free(sum);
	json_object_set_new(facts, "count", json_integer((json_int_t)n));
	json_object_set_new(facts, "applied", done);
	done = NULL;
	json_object_set_new(facts, "skipped", json_integer((json_int_t)skipped));
	json_object_set_new(facts, "present", json_integer((json_int_t)present));
	json_object_set_new(facts, "target_namespace",
	                    o->target_ns ? json_string(o->target_ns) : json_null());
	json_object_set_new(facts, "dry_run", json_boolean(o->dry_run));
out:
	if (done)
		json_decref(done);
	if (sel)
		json_decref(sel);
	json_decref(pairs);
	return facts;
}

/* ---- comparing ---------------------------------------------------------- */

/* Deletes a dotted path (a.b.c; a key holding dots is written in
 * brackets: metadata.annotations["deployment.kubernetes.io/revision"]). */
static void del_path(json_t *o, const char *path)
{
	json_t *cur = o;
	const char *s = path;
	char *key = NULL;
	while (cur && *s) {
		free(key);
		if (*s == '[' && s[1] == '"') {
			const char *e = strstr(s + 2, "\"]");
			if (!e)
				break;
			key = xstrndup(s + 2, (size_t)(e - s - 2));
			s = e + 2;
		} else {
			size_t l = strcspn(s, ".[");
			key = xstrndup(s, l);
			s += l;
		}
		if (*s == '.')
			s++;
		if (!*s) {
			if (json_is_object(cur)) {
				json_object_del(cur, key);
			} else if (json_is_array(cur) && strcmp(key, "*") == 0) {
				json_array_clear(cur);
			}
			break;
		}
		if (json_is_array(cur) && strcmp(key, "*") == 0) {
			/* every item: the rest of the path in each */
			size_t i;
			json_t *it;
			json_array_foreach(cur, i, it) del_path(it, s);
			break;
		}
		cur = json_object_get(cur, key);
	}
	free(key);
}

/* Both sides as the comparison sees them. */
static void normalize(json_t *o, const struct k8s_backup_opts *opt)
{
	k8s_backup_strip(o);
	const char *kind = json_string_value(json_object_get(o, "kind"));
	/* set by controllers and the API server, never by the owner */
	del_path(o, "metadata.annotations[\"deployment.kubernetes.io/revision\"]");
	if (kind && strcmp(kind, "Service") == 0) {
		del_path(o, "spec.clusterIP");
		del_path(o, "spec.clusterIPs");
		if (opt->target_ns) {
			del_path(o, "spec.healthCheckNodePort");
			del_path(o, "spec.ports.*.nodePort");
		}
	}
	if (opt->target_ns) {
		del_path(o, "metadata.namespace");
		del_path(o, "metadata.finalizers");
		if (opt->scale_to_zero && kind &&
		    (strcmp(kind, "Deployment") == 0 || strcmp(kind, "StatefulSet") == 0))
			del_path(o, "spec.replicas");
	}
	for (size_t i = 0; opt->ignore && opt->ignore[i]; i++)
		del_path(o, opt->ignore[i]);
	json_t *ann = json_object_get(json_object_get(o, "metadata"), "annotations");
	if (json_is_object(ann) && json_object_size(ann) == 0)
		json_object_del(json_object_get(o, "metadata"), "annotations");
}

static void diff(json_t *a, json_t *b, const char *at, json_t *paths)
{
	if (json_array_size(paths) >= DIFF_PATHS_MAX || json_equal(a, b))
		return;
	if (json_is_object(a) && json_is_object(b)) {
		const char *k;
		json_t *v;
		json_object_foreach(a, k, v)
		{
			char *p = *at ? xasprintf("%s.%s", at, k) : xstrdup(k);
			diff(v, json_object_get(b, k), p, paths);
			free(p);
		}
		json_object_foreach(b, k, v)
		{
			if (!json_object_get(a, k)) {
				char *p = *at ? xasprintf("%s.%s", at, k) : xstrdup(k);
				diff(NULL, v, p, paths);
				free(p);
			}
		}
		return;
	}
	const char *what = !a ? " (only live)" : !b ? " (missing live)" : "";
	char *p = xasprintf("%s%s", at, what);
	json_array_append_new(paths, json_string(p));
	free(p);
}

json_t *k8s_backup_compare(struct k8s_client *cl, struct check_ctx *ctx,
                           const struct k8s_backup_opts *o, char **err)
{
	json_t *pairs = load_backup(o->dir, err);
	if (!pairs)
		return NULL;
	json_t *sel = NULL, *facts = NULL;
	json_t *missing = json_array(), *different = json_array();
	size_t skipped = 0, matched = 0;
	if (select_objects(pairs, o->target_ns, &sel, &skipped, err) != 0)
		goto out;
	size_t i;
	json_t *want;
	json_array_foreach(sel, i, want)
	{
		if (ctx_cancelled(ctx) || ctx_remaining_ms(ctx) <= 0) {
			*err =
			    xasprintf("the comparison stopped at the check's deadline after %zu of "
			              "%zu objects (raise timeout:)",
			              i, json_array_size(sel));
			goto out;
		}
		json_t *meta = json_object_get(want, "metadata");
		const char *kind = json_string_value(json_object_get(want, "kind"));
		const char *av = json_string_value(json_object_get(want, "apiVersion"));
		const char *name = json_string_value(json_object_get(meta, "name"));
		const char *ns = o->target_ns
		                     ? o->target_ns
		                     : json_string_value(json_object_get(meta, "namespace"));
		const struct k8s_res *res;
		if (k8s_resolve(cl, ctx, kind, av, &res, err) != 0)
			goto out;
		char *path = k8s_path(res, res->namespaced ? ns : NULL, name, NULL);
		struct http_response rs;
		int rc = k8s_call(cl, ctx, "GET", path, NULL, NULL, &rs, err);
		free(path);
		if (rc != 0)
			goto out;
		char *l = label(want);
		json_t *live = NULL;
		if (rs.status == 404) {
			json_array_append_new(missing, json_string(l));
		} else if (rs.status / 100 != 2 || !(live = http_body_json(&rs))) {
			char *w = xasprintf("GET %s", l);
			*err = rs.status / 100 != 2 ? k8s_status_error(cl, &rs, w)
			                            : k8s_not_json(&rs, w, "JSON");
			free(w);
			free(l);
			http_response_release(&rs);
			goto out;
		}
		http_response_release(&rs);
		if (live) {
			json_t *a = json_deep_copy(want);
			normalize(a, o);
			normalize(live, o);
			json_t *paths = json_array();
			diff(a, live, "", paths);
			if (json_array_size(paths))
				json_array_append_new(different, json_pack("{s:s, s:o}", "object",
				                                           l, "paths", paths));
			else {
				json_decref(paths);
				matched++;
			}
			json_decref(a);
			json_decref(live);
		}
		free(l);
	}
	size_t n = json_array_size(sel), nm = json_array_size(missing),
	       nd = json_array_size(different);
	int ok = n > 0 && nm == 0 && nd == 0;
	char *sum =
	    n == 0 ? xasprintf("the backup %s holds nothing to compare", o->dir)
	    : ok   ? xasprintf("all %zu objects of the backup match the live ones%s%s", n,
                             o->target_ns ? " in " : "", o->target_ns ? o->target_ns : "")
	           : xasprintf("%zu of %zu objects of the backup differ from the live ones: %zu "
	                         "missing%s%s%s, %zu different%s%s%s",
	                       nm + nd, n, nm, nm ? " (first: " : "",
                             nm ? json_string_value(json_array_get(missing, 0)) : "", nm ? ")" : "",
	                       nd, nd ? " (first: " : "",
                             nd ? json_string_value(
	                                json_object_get(json_array_get(different, 0), "object"))
	                          : "",
                             nd ? ")" : "");
	facts = json_object();
	json_object_set_new(facts, "ok", json_boolean(ok));
	json_object_set_new(facts, "summary", json_string(sum));
	free(sum);
	json_object_set_new(facts, "count", json_integer((json_int_t)n));
	json_object_set_new(facts, "matched", json_integer((json_int_t)matched));
	json_object_set_new(facts, "missing", missing);
	json_object_set_new(facts, "different", different);
	missing = different = NULL;
	json_object_set_new(facts, "skipped", json_integer((json_int_t)skipped));
	json_object_set_new(facts, "target_namespace",
	                    o->target_ns ? json_string(o->target_ns) : json_null());
out:
	if (missing)
		json_decref(missing);
	if (different)
		json_decref(different);
	if (sel)
		json_decref(sel);
	json_decref(pairs);
	return facts;
}
