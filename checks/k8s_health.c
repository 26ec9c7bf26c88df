/* k8s_health.c - the Lua health scripts of one k8s run (see k8s_health.h).
 * Argo CD reads its customizations from the argocd-cm ConfigMap in its own
 * namespace; a cluster without one (404) simply has none. A ConfigMap the
 * credentials may not read (403) leaves a note in the facts instead of
 * failing every health check of a read-only account. */
#include "k8s_health.h"

#include <stdlib.h>
#include <string.h>

void k8s_health_src_init(struct k8s_health_src *s, const char *dir, const char *argocd_ns)
{
	memset(s, 0, sizeof(*s));
	s->dir = dir && *dir ? xstrdup(dir) : NULL;
	s->argocd_ns = argocd_ns && *argocd_ns ? xstrdup(argocd_ns) : NULL;
	pthread_mutex_init(&s->lock, NULL);
}

void k8s_health_src_release(struct k8s_health_src *s)
{
	lua_health_free(s->h);
	free(s->dir);
	free(s->argocd_ns);
	free(s->error);
	free(s->note);
	pthread_mutex_destroy(&s->lock);
	memset(s, 0, sizeof(*s));
}

/* Adds argocd-cm's scripts to s->h; fills s->error or s->note. Returns -1
 * when the cluster did not answer (worth asking again), else 0. */
static int read_argocd_cm(struct k8s_health_src *s, struct k8s_client *c, struct check_ctx *ctx)
{
	int rc = 0;
	char *path = xasprintf("/api/v1/namespaces/%s/configmaps/argocd-cm", s->argocd_ns);
	char *what = xasprintf("GET configmaps %s/argocd-cm", s->argocd_ns);
	struct http_response rs;
	char *err = NULL;
	if (k8s_call(c, ctx, "GET", path, NULL, NULL, &rs, &err) != 0) {
		s->error = xasprintf("cannot read Argo CD's health customizations: %s", err);
		free(err);
		rc = -1;
		goto path;
	}
	if (rs.status == 403) {
		char *m = k8s_status_error(c, &rs, what);
		s->note = xasprintf("argocd-cm's health customizations were not used: %s", m);
		free(m);
	} else if (rs.status / 100 != 2 && rs.status != 404) {
		s->error = k8s_status_error(c, &rs, what);
	} else if (rs.status != 404) {
		json_t *cm = http_body_json(&rs);
		struct pg_err e;
		if (!cm)
			s->error = xasprintf("%s: the API server's answer is not JSON", what);
		else if (lua_health_add_argocd_cm(s->h, json_object_get(cm, "data"), &e) != 0)
			s->error = xasprintf("%s/argocd-cm: %s", s->argocd_ns, e.msg);
		json_decref(cm);
	}
	http_response_release(&rs);
path:
	free(what);
	free(path);
	return rc;
}

int k8s_health_src_get(struct k8s_health_src *s, struct k8s_client *c, struct check_ctx *ctx,
                       struct lua_health **out, const char **note, char **err)
{
	*out = NULL;
	*note = NULL;
	*err = NULL;
	pthread_mutex_lock(&s->lock);
	if (!s->loaded) {
		struct pg_err e;
		int transient = 0;
		if (lua_health_new(s->dir, &s->h, &e) != 0)
			s->error = xasprintf("modules.k8s.health_customizations: %s", e.msg);
		else if (s->argocd_ns)
			transient = read_argocd_cm(s, c, ctx) != 0;
		if (transient) {
			/* the next check asks the cluster again */
			*err = s->error;
			s->error = NULL;
			lua_health_free(s->h);
			s->h = NULL;
			pthread_mutex_unlock(&s->lock);
			return -1;
		}
		s->loaded = 1;
	}
	int rc = 0;
	if (s->error) {
		*err = xstrdup(s->error);
		rc = -1;
	} else {
		*out = s->h;
		*note = s->note;
	}
	pthread_mutex_unlock(&s->lock);
	return rc;
}
