/* k8s_write.c - the k8s module's actions: server-side apply, patch and
 * annotate, delete (waiting for the object to go), export of namespaces
 * to a backup directory, restore and compare of a backup, and exec through
 * kubectl (checks/k8s_ops.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "k8s_backup.h"
#include "k8s_ops.h"
#include "k8s_yaml.h"
#include "proc.h"

/* ---- actions ------------------------------------------------------------ */

/* Splits a multi-document YAML text at "---" lines into JSON objects
 * (List kinds are expanded). Returns 0 or -1 with *err. */

void k8s_op_apply(struct k8s_run *r)
{
	struct k8s_cfg *c = r->c;
	json_t *objs = json_array();
	json_t *done = json_array();
	char *err = NULL;
	for (size_t i = 0; c->files[i]; i++) {
		char *p = ctx_path(r->ctx, c->files[i]);
		int rc = k8s_load_manifests(p, objs, &err);
		free(p);
		if (rc != 0) {
			k8s_fail(r, err);
			goto out;
		}
	}
	size_t i;
	json_t *o;
	json_array_foreach(objs, i, o)
	{
		const char *av = json_string_value(json_object_get(o, "apiVersion"));
		const char *kind = json_string_value(json_object_get(o, "kind"));
		json_t *meta = json_object_get(o, "metadata");
		const char *name = json_string_value(json_object_get(meta, "name"));
		const char *ons = json_string_value(json_object_get(meta, "namespace"));
		if (!av || !kind || !name) {
			k8s_fail(r, xasprintf("manifest object %zu has no apiVersion, kind or "
			                      "metadata.name",
			                      i + 1));
			goto out;
		}
		if (k8s_target(r, kind, av) != 0)
			goto out;
		const char *ns =
		    r->res->namespaced ? (ons && *ons ? ons : k8s_default_ns(r)) : NULL;
		char *q = xasprintf("fieldManager=phasegate%s%s", c->force ? "&force=true" : "",
		                    c->dry_run ? "&dryRun=All" : "");
		char *path = k8s_path(r->res, ns, name, q);
		free(q);
		char *what = k8s_what("APPLY", r->res, ns, name);
		json_t *ans =
		    k8s_send_json(r, "PATCH", path, "application/apply-patch+yaml", o, what);
		free(what);
		free(path);
		if (!ans)
			goto out;
		json_decref(ans);
		json_array_append_new(done, json_pack("{s:s, s:s, s:s?}", "kind", kind, "name",
		                                      name, "namespace", ns));
	}
	json_t *f = json_object();
	size_t n = json_array_size(done);
	json_object_set_new(f, "applied", done);
	done = NULL;
	json_object_set_new(f, "count", json_integer((json_int_t)n));
	json_object_set_new(f, "dry_run", json_boolean(c->dry_run));
	k8s_set_summary(f, 1,
	                xasprintf("%zu object%s applied%s", n, n == 1 ? "" : "s",
	                          c->dry_run ? " (server dry run)" : ""));
	r->out->facts = f;
out:
	json_decref(objs);
	if (done)
		json_decref(done);
}

void k8s_op_patch(struct k8s_run *r)
{
	struct k8s_cfg *c = r->c;
	if (k8s_target(r, c->type, c->api_version) != 0)
		return;
	const char *ctype = "application/merge-patch+json";
	if (c->op == OP_PATCH && strcmp(c->ptype, "json") == 0)
		ctype = "application/json-patch+json";
	else if (c->op == OP_PATCH && strcmp(c->ptype, "strategic") == 0)
		ctype = "application/strategic-merge-patch+json";
	char *q = xasprintf("fieldManager=phasegate%s", c->dry_run ? "&dryRun=All" : "");
	char *path = k8s_path(r->res, r->ns, c->name, q);
	free(q);
	char *what = k8s_what("PATCH", r->res, r->ns, c->name);
	json_t *ans = k8s_send_json(r, "PATCH", path, ctype, c->body, what);
	free(what);
	free(path);
	if (!ans)
		return;
	json_t *f = json_object();
	k8s_facts_ident(f, r->res, r->ns, c->name);
	json_object_set_new(f, "object", ans);
	char *l = k8s_label_of(r->res, r->ns, c->name);
	k8s_set_summary(f, 1, xasprintf("%s %s", l, c->op == OP_PATCH ? "patched" : "annotated"));
	free(l);
	r->out->facts = f;
}

void k8s_op_delete(struct k8s_run *r)
{
	struct k8s_cfg *c = r->c;
	if (k8s_target(r, c->type, c->api_version) != 0)
		return;
	char *path = k8s_path(r->res, r->ns, c->name, c->dry_run ? "dryRun=All" : NULL);
	char *what = k8s_what("DELETE", r->res, r->ns, c->name);
	char *label = k8s_label_of(r->res, r->ns, c->name);
	json_t *body = json_pack("{s:s, s:s, s:s}", "apiVersion", "v1", "kind", "DeleteOptions",
	                         "propagationPolicy", "Background");
	char *text = json_dumps(body, JSON_COMPACT);
	json_decref(body);
	struct http_response rs;
	char *err = NULL, *uid = NULL;
	int existed = 1;
	if (k8s_call(r->cl, r->ctx, "DELETE", path, "application/json", text, &rs, &err) != 0) {
		k8s_fail(r, err);
		goto out;
	}
	if (rs.status == 404 && c->ignore_missing) {
		existed = 0;
	} else if (rs.status / 100 != 2) {
		k8s_fail(r, k8s_status_error(r->cl, &rs, what));
		http_response_release(&rs);
		goto out;
	} else {
		/* the uid of what was deleted: the object, or a Status's details */
		json_t *ans = http_body_json(&rs);
		const char *u =
		    json_string_value(json_object_get(json_object_get(ans, "metadata"), "uid"));
		if (!u)
			u = json_string_value(
			    json_object_get(json_object_get(ans, "details"), "uid"));
		uid = u ? xstrdup(u) : NULL;
		if (ans)
			json_decref(ans);
	}
	http_response_release(&rs);
	int gone = !existed, recreated = 0;
	if (existed && c->wait && !c->dry_run) {
		long long pause = 100;
		for (;;) {
			json_t *obj;
			if (k8s_get_object(r, r->res, r->ns, c->name, &obj) != 0)
				goto out;
			/* as kubectl delete --wait: an object of the same name with
			 * another uid (a StatefulSet pod, Argo CD's self-heal) means
			 * the deleted one is gone */
			const char *now_uid = json_string_value(
			    json_object_get(json_object_get(obj, "metadata"), "uid"));
			if (obj && uid && now_uid && strcmp(uid, now_uid) != 0)
				recreated = 1;
			if (obj)
				json_decref(obj);
			if (!obj || recreated) {
				gone = 1;
				break;
			}
			if (ctx_cancelled(r->ctx) || ctx_remaining_ms(r->ctx) < pause + 50) {
				k8s_fail(
				    r, xasprintf("%s was deleted but is still there at the check's "
				                 "deadline (finalizers? raise timeout:)",
				                 label));
				goto out;
			}
			struct timespec ts = {pause / 1000, (pause % 1000) * 1000000L};
			nanosleep(&ts, NULL);
			if (pause < 1000)
				pause *= 2;
		}
	}
	json_t *f = json_object();
	k8s_facts_ident(f, r->res, r->ns, c->name);
	json_object_set_new(f, "existed", json_boolean(existed));
	json_object_set_new(f, "gone", json_boolean(gone));
	json_object_set_new(f, "recreated", json_boolean(recreated));
	json_object_set_new(f, "dry_run", json_boolean(c->dry_run));
	k8s_set_summary(f, 1,
	                existed ? xasprintf("%s deleted%s", label,
	                                    recreated ? " and gone (recreated with a new uid)"
	                                    : gone    ? " and gone"
	                                              : "")
	                        : xasprintf("%s was already absent", label));
	r->out->facts = f;
out:
	free(uid);
	free(text);
	free(label);
	free(what);
	free(path);
}

/* ---- export ---------------------------------------------------------- */

/* Creates path and its parents, new ones with mode 0700: a backup holds
 * Secrets. */
static int mkdirs(const char *path, char **err)
{
	char *p = xstrdup(path);
	int rc = 0;
	for (char *s = p + 1;; s++) {
		if (*s == '/' || *s == 0) {
			char save = *s;
			*s = 0;
			if (mkdir(p, 0700) != 0 && errno != EEXIST) {
				*err = xasprintf("cannot create directory '%s': %s", p,
				                 strerror(errno));
				rc = -1;
				break;
			}
			*s = save;
			if (!save)
				break;
		}
	}
	free(p);
	return rc;
}

static int str_in(const char *const *v, const char *s)
{
	for (size_t i = 0; v && v[i]; i++)
		if (s && strcmp(v[i], s) == 0)
			return 1;
	return 0;
}

static int safe_component(const char *s)
{
	return s && *s && strcmp(s, ".") != 0 && strcmp(s, "..") != 0 && !strchr(s, '/');
}

void k8s_op_export(struct k8s_run *r)
{
	struct k8s_cfg *c = r->c;
	char *dir = ctx_path(r->ctx, c->dir);
	struct buf sums;
	buf_init(&sums, 0);
	json_t *files = json_array();
	json_t *entries = json_array(); /* the manifest's lines */
	size_t nk = 0, nall = 0;
	const struct k8s_res **kinds = NULL, **all = NULL;
	json_t *counts = json_object();
	char *err = NULL;
	const char *def_ns[2] = {NULL, NULL};
	if (!c->namespaces)
		def_ns[0] = k8s_default_ns(r);
	const char *const *nsl_all = c->namespaces ? (const char *const *)c->namespaces : def_ns;
	if (mkdirs(dir, &err) != 0) {
		k8s_fail(r, err);
		goto out;
	}
	/* the kinds named, "*" standing for every kind discovery finds in a
	 * namespace (and the namespaces themselves, so a restore makes them) */
	for (size_t k = 0; c->kinds[k]; k++) {
		const struct k8s_res *res;
		if (strcmp(c->kinds[k], "*") == 0) {
			if (!all && k8s_backup_kinds(r->cl, r->ctx, &all, &nall, &err) != 0) {
				k8s_fail(r, err);
				goto out;
			}
			kinds = xrealloc(kinds, (nk + nall + 2) * sizeof(*kinds));
			for (size_t i = 0; i < nall; i++)
				kinds[nk++] = all[i];
			if (k8s_resolve(r->cl, r->ctx, "namespaces", NULL, &res, &err) != 0) {
				k8s_fail(r, err);
				goto out;
			}
			kinds[nk++] = res;
			continue;
		}
		if (k8s_resolve(r->cl, r->ctx, c->kinds[k], NULL, &res, &err) != 0) {
			k8s_fail(r, err);
			goto out;
		}
		kinds = xrealloc(kinds, (nk + 1) * sizeof(*kinds));
		kinds[nk++] = res;
	}
	for (size_t k = 0; k < nk; k++) {
		const struct k8s_res *res = kinds[k];
		int discovered = 0;
		for (size_t i = 0; i < nall && !discovered; i++)
			discovered = all[i] == res;
		int dup = 0; /* named twice, or named and discovered */
		for (size_t i = 0; i < k && !dup; i++)
			dup = kinds[i] == res;
		if (dup)
			continue;
		char *kdir = xstrdup(res->kind);
		for (char *p = kdir; *p; p++)
			*p = (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
		size_t nns = 0;
		const char *const *nsl =
		    c->namespaces ? (const char *const *)c->namespaces : def_ns;
		while (nsl[nns])
			nns++;
		json_int_t kcount = 0;
		for (size_t n = 0; n < (res->namespaced ? nns : 1); n++) {
			const char *ns = res->namespaced ? nsl[n] : NULL;
			json_t *items = k8s_list_of(r, res, ns, c->selector, NULL);
			if (!items) {
				free(kdir);
				goto out;
			}
			size_t i;
			json_t *o;
			json_array_foreach(items, i, o)
			{
				const char *name = k8s_pod_name(o);
				const char *dns = ns ? ns : "_cluster";
				if (discovered && k8s_backup_derived(res, o))
					continue; /* its controller makes it again */
				if (!*res->group && strcmp(res->plural, "namespaces") == 0 &&
				    !str_in(nsl, name))
					continue; /* only the namespaces exported */
				if (!safe_component(name) || !safe_component(dns)) {
					k8s_fail(
					    r, xasprintf("refusing to export an object named '%s'",
					                 name));
					json_decref(items);
					free(kdir);
					goto out;
				}
				if (!json_object_get(o, "apiVersion")) {
					char *av = *res->group ? xasprintf("%s/%s", res->group,
					                                   res->version)
					                       : xstrdup(res->version);
					json_object_set_new(o, "apiVersion", json_string(av));
					free(av);
				}
				if (!json_object_get(o, "kind"))
					json_object_set_new(o, "kind", json_string(res->kind));
				k8s_backup_strip(o);
				struct buf y;
				buf_init(&y, 0);
				k8s_yaml(&y, o);
				char *rel = xasprintf("%s/%s/%s.yaml", dns, kdir, name);
				char *sub = xasprintf("%s/%s/%s", dir, dns, kdir);
				char *full = xasprintf("%s/%s", dir, rel);
				struct pg_err pe;
				int rc = mkdirs(sub, &err);
				/* the namespace and kind directories are the backup's
				 * own: 0700 even when an earlier export made them */
				char *nsdir = xasprintf("%s/%s", dir, dns);
				if (rc == 0 && (chmod(nsdir, 0700) != 0 || chmod(sub, 0700) != 0)) {
					err = xasprintf("cannot restrict '%s': %s", sub,
					                strerror(errno));
					rc = -1;
				}
				free(nsdir);
				if (rc == 0 &&
				    write_file_atomic(full, buf_str(&y), y.len, &pe) != 0) {
					err = xstrdup(pe.msg);
					rc = -1;
				}
				if (rc == 0 && strcmp(res->kind, "Secret") == 0 && !*res->group &&
				    chmod(full, 0600) != 0) {
					err = xasprintf("cannot restrict '%s': %s", full,
					                strerror(errno));
					rc = -1;
				}
				if (rc == 0) {
					char hex[65];
					sha256_hex(buf_str(&y), y.len, hex);
					buf_addf(&sums, "%s  %s\n", hex, rel);
					json_array_append_new(files, json_string(rel));
					json_array_append_new(
					    entries, json_pack("{s:s, s:O, s:s, s:s?, s:s, s:s}",
					                       "file", rel, "apiVersion",
					                       json_object_get(o, "apiVersion"),
					                       "kind", res->kind, "namespace", ns,
					                       "name", name, "sha256", hex));
					kcount++;
				}
				free(full);
				free(sub);
				free(rel);
				buf_release(&y);
				if (rc != 0) {
					k8s_fail(r, err);
					json_decref(items);
					free(kdir);
					goto out;
				}
			}
			json_decref(items);
		}
		json_object_set_new(counts, res->plural, json_integer(kcount));
		free(kdir);
	}
	json_t *nsj = json_array();
	for (size_t n = 0; nsl_all[n]; n++)
		json_array_append_new(nsj, json_string(nsl_all[n]));
	int mrc = k8s_backup_write_manifest(dir, entries, nsj, &sums, &err);
	json_decref(nsj);
	if (mrc != 0) {
		k8s_fail(r, err);
		goto out;
	}
	char *mpath = xasprintf("%s/SHA256SUMS", dir);
	struct pg_err pe;
	if (write_file_atomic(mpath, buf_str(&sums), sums.len, &pe) != 0) {
		k8s_fail(r, xstrdup(pe.msg));
		free(mpath);
		goto out;
	}
	json_t *f = json_object();
	size_t n = json_array_size(files);
	json_object_set_new(f, "dir", json_string(dir));
	json_object_set_new(f, "manifest", json_string(mpath));
	json_object_set_new(f, "count", json_integer((json_int_t)n));
	json_object_set_new(f, "kinds", counts);
	counts = NULL;
	json_object_set_new(f, "files", files);
	files = NULL;
	k8s_set_summary(f, n > 0,
	                n ? xasprintf("%zu objects exported to %s", n, dir)
	                  : xasprintf("nothing to export: no objects of the listed kinds"));
	free(mpath);
	r->out->facts = f;
out:
	if (files)
		json_decref(files);
	if (counts)
		json_decref(counts);
	json_decref(entries);
	free(kinds);
	free(all);
	buf_release(&sums);
	free(dir);
}

/* restore and compare (checks/k8s_backup.c) */
void k8s_op_backup(struct k8s_run *r)
{
	struct k8s_cfg *c = r->c;
	char *dir = ctx_path(r->ctx, c->dir), *err = NULL;
	struct k8s_backup_opts o = {.dir = dir,
	                            .target_ns =
	                                c->target_ns && *c->target_ns ? c->target_ns : NULL,
	                            .dry_run = c->dry_run,
	                            .scale_to_zero = c->scale_to_zero,
	                            .missing_only = c->missing_only,
	                            .ignore = c->ignore};
	json_t *f = c->op == OP_RESTORE ? k8s_backup_restore(r->cl, r->ctx, &o, &err)
	                                : k8s_backup_compare(r->cl, r->ctx, &o, &err);
	if (f)
		r->out->facts = f;
	else
		k8s_fail(r, err);
	free(dir);
}

void k8s_op_exec(struct k8s_run *r)
{
	struct k8s_cfg *c = r->c;
	struct k8s_state *st = c->st;
	const char *argv[64 + 16];
	size_t n = 0;
	char *target = xasprintf("%s/%s", c->type, c->name);
	/* a path names a binary relative to the suite; a bare name is looked up in PATH */
	char *kubectl =
	    strchr(c->kubectl, '/') ? ctx_path(r->ctx, c->kubectl) : xstrdup(c->kubectl);
	argv[n++] = kubectl;
	if (st && st->kubeconfig) {
		argv[n++] = "--kubeconfig";
		argv[n++] = st->kubeconfig;
	}
	if (st && st->context) {
		argv[n++] = "--context";
		argv[n++] = st->context;
	}
	argv[n++] = "-n";
	argv[n++] = k8s_default_ns(r);
	argv[n++] = "exec";
	argv[n++] = target;
	if (c->container) {
		argv[n++] = "-c";
		argv[n++] = c->container;
	}
	argv[n++] = "--";
	for (size_t i = 0; c->command[i] && n < 64 + 14; i++)
		argv[n++] = c->command[i];
	argv[n] = NULL;
	struct proc_spec spec = {.argv = argv};
	struct proc_result pr;
	memset(&pr, 0, sizeof(pr));
	struct pg_err e;
	if (proc_run(&spec, r->ctx, &pr, &e) != 0) {
		if (pr.spawn_errno == ENOENT || strstr(e.msg, "not found") ||
		    strstr(e.msg, "No such file"))
			k8s_fail(r, xasprintf(
			                "k8s exec needs the kubectl binary on PATH (%s: not found)",
			                c->kubectl));
		else
			k8s_fail(r, xasprintf("k8s exec cannot run %s: %s", c->kubectl, e.msg));
		goto out;
	}
	if (pr.spawn_errno == ENOENT) {
		k8s_fail(r, xasprintf("k8s exec needs the kubectl binary on PATH (%s: not found)",
		                      c->kubectl));
		goto out;
	}
	if (pr.timed_out) {
		k8s_fail(r,
		         xasprintf("kubectl exec in %s did not finish before the check's deadline",
		                   target));
		goto out;
	}
	json_t *f = json_object();
	json_object_set_new(f, "exit_code", json_integer(pr.exit_code));
	json_object_set_new(f, "stdout", json_string(buf_str(&pr.out)));
	json_object_set_new(f, "stderr", json_string(buf_str(&pr.err)));
	k8s_set_summary(f, pr.exit_code == 0,
	                pr.exit_code == 0 ? xasprintf("command ran in %s", target)
	                                  : xasprintf("command in %s exited with %d: %.200s",
	                                              target, pr.exit_code, buf_str(&pr.err)));
	if (pr.exit_code != 0)
		r->out->evidence = xasprintf("%s%s", buf_str(&pr.out), buf_str(&pr.err));
	r->out->facts = f;
out:
	proc_result_release(&pr);
	free(kubectl);
	free(target);
}
