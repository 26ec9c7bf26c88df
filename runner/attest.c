/* attest.c - reads the attestation file (--attest FILE) once and answers
 * "who signed off on <id>?" for manual checks, from any thread.
 *
 * Each file is parsed on first use and kept for the life of the process,
 * together with the error it gave (a malformed file keeps failing the same
 * way rather than being re-read by every check). */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "attest.h"
#include "node.h"

struct attest_entry {
	char *id, *by, *at, *note; /* owned; by may be NULL (not an attestation) */
};

struct attest_file {
	char *path;                   /* owned: as given */
	int failed;                   /* the file could not be read or is malformed */
	char *error;                  /* owned: the message when failed */
	struct attest_entry *v;       /* owned array */
	size_t n;
	struct attest_file *next;
};

static pthread_mutex_t attest_lock = PTHREAD_MUTEX_INITIALIZER;
static struct attest_file *attest_files; /* never freed: read once per process */

/* The scalar at key, copied; -1 with a diagnostic when it is not a scalar. */
static int attest_field(const struct node *entry, const char *key, char **out, struct diags *d)
{
	const struct node *v = node_get(entry, key);
	*out = NULL;
	if (!v || node_is_null(v))
		return 0;
	if (v->kind != NODE_SCALAR)
		return diag_at(d, v, "attestation field '%s' must be text, not a %s", key,
			       node_kind_name(v));
	*out = xstrdup(v->str);
	return 0;
}

static void attest_parse(struct attest_file *f)
{
	struct diags d;
	struct node *root = NULL;
	struct node_limits lim = node_limits_default();

	diags_init(&d);
	lim.max_file_bytes = 4 * 1024 * 1024;
	if (node_load_file(f->path, &lim, &root, &d) < 0)
		goto done;
	if (root->kind != NODE_MAP) {
		diag_at(&d, root, "an attestation file is a map of id: {by, at, note}, not a %s",
			node_kind_name(root));
		goto done;
	}
	f->v = xcalloc(root->n ? root->n : 1, sizeof(*f->v));
	for (size_t i = 0; i < root->n; i++) {
		const struct node *k = root->pairs[i].key, *v = root->pairs[i].value;
		if (v->kind != NODE_MAP) {
			diag_at(&d, v, "attestation '%s' must be a map {by, at, note}, not a %s",
				k->str, node_kind_name(v));
			continue;
		}
		for (size_t j = 0; j < v->n; j++) {
			const char *name = v->pairs[j].key->str;
			if (strcmp(name, "by") && strcmp(name, "at") && strcmp(name, "note"))
				diag_at(&d, v->pairs[j].key,
					"unknown attestation field '%s' (expected by, at, note)", name);
		}
		struct attest_entry *en = &f->v[f->n++];
		en->id = xstrdup(k->str);
		attest_field(v, "by", &en->by, &d);
		attest_field(v, "at", &en->at, &d);
		attest_field(v, "note", &en->note, &d);
	}
done:
	if (d.n > 0) {
		const struct diag *g = &d.v[0];
		f->failed = 1;
		if (g->line)
			f->error = xasprintf("%s:%u:%u: %s", g->file ? g->file : f->path, g->line,
					     g->col, g->msg);
		else
			f->error = xasprintf("%s: %s", g->file ? g->file : f->path, g->msg);
	}
	node_free(root);
	diags_release(&d);
}

int attest_lookup(const char *path, const char *id, struct attestation *a, struct pg_err *e)
{
	int rc = 0;
	struct attest_file *f;

	memset(a, 0, sizeof(*a));
	pthread_mutex_lock(&attest_lock);
	for (f = attest_files; f; f = f->next)
		if (strcmp(f->path, path) == 0)
			break;
	if (!f) {
		f = xcalloc(1, sizeof(*f));
		f->path = xstrdup(path);
		attest_parse(f);
		f->next = attest_files;
		attest_files = f;
	}
	if (f->failed) {
		rc = pg_error(e, "attestation file %s", f->error);
		goto unlock;
	}
	for (size_t i = 0; i < f->n; i++) {
		const struct attest_entry *en = &f->v[i];
		if (strcmp(en->id, id) != 0 || !en->by || !*en->by)
			continue;
		a->by = xstrdup(en->by);
		a->at = xstrdup(en->at);
		a->note = xstrdup(en->note);
		rc = 1;
		break;
	}
unlock:
	pthread_mutex_unlock(&attest_lock);
	return rc;
}

void attestation_release(struct attestation *a)
{
	free(a->by);
	free(a->at);
	free(a->note);
	memset(a, 0, sizeof(*a));
}
