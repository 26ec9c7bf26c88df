/* lua_health.h - Argo CD's health verdict with its Lua health checks: the
 * scripts Argo CD would run for a kind, found where Argo CD finds them (the
 * argocd-cm ConfigMap's resource.customizations keys, then a directory laid
 * out like Argo CD's resource_customizations/), run in the sandbox of
 * luasandbox.h; kinds without a script get the built-in rules of
 * kube_rules.h.
 *
 * Ownership: a struct lua_health is made by lua_health_new() and freed by
 * lua_health_free(). Once filled it may be shared by threads: lookups take
 * its lock. */
#ifndef PHASEGATE_LUA_HEALTH_H
#define PHASEGATE_LUA_HEALTH_H

#include <jansson.h>

#include "util.h"

struct lua_health;

/* dir (may be NULL: no directory) holds <group>/<Kind>/health.lua files;
 * "_" in a directory name stands for any text (_.crossplane.io/_ is every
 * kind of every *.crossplane.io group). Fails when dir is not a readable
 * directory. */
int lua_health_new(const char *dir, struct lua_health **out, struct pg_err *e);
void lua_health_free(struct lua_health *h);

/* Adds the scripts of an argocd-cm ConfigMap's data (an object of strings):
 * resource.customizations.health.<group_kind> and
 * resource.customizations.useOpenLibs.<group_kind> (group_kind: "Kind",
 * "group_Kind", globs such as "*.crossplane.io_*", "all"), and the older
 * resource.customizations key (YAML: "group/Kind": {health.lua: ...,
 * health.lua.useOpenLibs: bool}). The split keys win over the older key, as
 * in Argo CD; configured scripts win over the directory. Returns -1 with e
 * filled when a key cannot be read (nothing is added then). */
int lua_health_add_argocd_cm(struct lua_health *h, json_t *data, struct pg_err *e);

/* Argo CD's health of obj: the script's verdict when a script exists for
 * its kind (Unknown with the error when the script fails, runs too long,
 * uses too much memory or returns something that is not a health status),
 * else kube_health(). Returns the status (a static string); *message gets
 * the explanation (malloc'd, may be ""). *by_script (may be NULL) is set to
 * 1 when a script judged. h may be NULL (built-in rules only). */
const char *lua_health_of(struct lua_health *h, json_t *obj, char **message, int *by_script);

#endif
