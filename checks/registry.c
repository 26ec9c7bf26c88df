/* registry.c - the table of built-in check modules.
 *
 * To add a module: write checks/<name>.c exporting one
 * "const struct check_module check_<name>;" (see runner/module.h), add the
 * file to phasegate_core in CMakeLists.txt, declare it below and put it in
 * builtin[]. Nothing in runner/ changes. External modules are shared objects
 * exporting "phasegate_module", loaded with --plugins DIR. */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <dlfcn.h>
#include <pthread.h>
#include <string.h>

#include "module.h"

extern const struct check_module check_exec;
extern const struct check_module check_file;
extern const struct check_module check_tcp;
extern const struct check_module check_manual;
extern const struct check_module check_http;
extern const struct check_module check_dns;
extern const struct check_module check_prometheus;
extern const struct check_module check_k8s;
extern const struct check_module check_argocd;

static const struct check_module *const builtin[] = {
	&check_exec, &check_file, &check_tcp, &check_manual,
	&check_http, &check_dns, &check_prometheus, &check_k8s, &check_argocd,
};
#define NBUILTIN (sizeof(builtin) / sizeof(builtin[0]))

/* Built-ins first, then plugins; plugins cannot shadow a built-in name. */
static const struct check_module *all[NBUILTIN + 64];
static size_t nall;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void registry_init(void)
{
	for (size_t i = 0; i < NBUILTIN; i++)
		all[nall++] = builtin[i];
}

const struct check_module *module_find(const char *name)
{
	pthread_once(&once, registry_init);
	for (size_t i = 0; i < nall; i++)
		if (strcmp(all[i]->name, name) == 0)
			return all[i];
	return NULL;
}

const struct check_module *const *module_all(size_t *count)
{
	pthread_once(&once, registry_init);
	*count = nall;
	return all;
}

int module_load_plugins(const char *dir, struct pg_err *e)
{
	pthread_once(&once, registry_init);
	DIR *d = opendir(dir);
	if (!d)
		return pg_error(e, "cannot open plugin directory '%s': %s", dir, strerror(errno));
	struct dirent *de;
	int rc = 0;
	while ((de = readdir(d)) != NULL) {
		size_t len = strlen(de->d_name);
		if (len < 4 || strcmp(de->d_name + len - 3, ".so") != 0)
			continue;
		char *path = xasprintf("%s/%s", dir, de->d_name);
		void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
		if (!h) {
			rc = pg_error(e, "cannot load plugin '%s': %s", path, dlerror());
			free(path);
			break;
		}
		const struct check_module *m = dlsym(h, "phasegate_module");
		if (!m) {
			rc = pg_error(e, "plugin '%s' exports no 'phasegate_module'", path);
		} else if (m->api_version != CHECK_API_VERSION) {
			rc = pg_error(e, "plugin '%s' is built for module interface %u, this phasegate has %u",
				      path, m->api_version, CHECK_API_VERSION);
		} else if (!m->name || !m->run) {
			rc = pg_error(e, "plugin '%s' has no name or no run hook", path);
		} else if (module_find(m->name)) {
			rc = pg_error(e, "plugin '%s' defines module '%s', which already exists", path,
				      m->name);
		} else if (nall >= sizeof(all) / sizeof(all[0])) {
			rc = pg_error(e, "too many plugins (at most 64)");
		} else {
			all[nall++] = m;
			free(path);
			continue; /* keep the handle open for the life of the process */
		}
		dlclose(h);
		free(path);
		break;
	}
	closedir(d);
	return rc;
}
