/* k8s_backup.h - backups of namespaces as the k8s module writes and reads
 * them: which kinds a discovered backup takes, the backup's own manifest
 * (restore order, one SHA-256 per object file), a restore that applies
 * what the manifest lists (optionally into an isolated namespace), and a
 * comparison of every backed-up object with the live one.
 *
 * Ownership: returned arrays and JSON are the caller's; resources handed
 * out (const struct k8s_res *) live as long as the client; *err is
 * malloc'd. */
#ifndef PHASEGATE_K8S_BACKUP_H
#define PHASEGATE_K8S_BACKUP_H

#include <jansson.h>

#include "k8s_api.h"
#include "util.h"

/* The manifest a backup writes beside SHA256SUMS. */
#define K8S_BACKUP_MANIFEST "manifest.json"

/* Every namespaced kind the server serves that can be read back (get and
 * list), in its group's preferred version (or the only one served), minus
 * the kinds that are history or derived by the cluster: events, endpoints,
 * endpointslices, leases and the metrics API. Returns 0 with *out (a
 * malloc'd array of n pointers), or -1 with *err. */
int k8s_backup_kinds(struct k8s_client *cl, struct check_ctx *ctx, const struct k8s_res ***out,
                     size_t *n, char **err);

/* 1 when a discovered object is left out of a backup because the cluster
 * makes it again: it has a controlling owner (pods, ReplicaSets, Jobs of
 * CronJobs), it is a service-account token Secret, or the kube-root-ca.crt
 * ConfigMap every namespace receives. */
int k8s_backup_derived(const struct k8s_res *res, json_t *obj);

/* Removes what the server sets (status, uid, resourceVersion,
 * managedFields, creationTimestamp, generation, selfLink, kubectl's
 * last-applied annotation) so the object can be applied again. */
void k8s_backup_strip(json_t *obj);

/* Writes DIR/manifest.json: entries ({file, apiVersion, kind, namespace,
 * name, sha256}) sorted into restore order (namespaces, then what others
 * refer to, workloads, and custom resources such as Argo CD Applications
 * last), with the namespaces exported; appends its line to sums (the
 * SHA256SUMS text). Returns 0 or -1 with *err. */
int k8s_backup_write_manifest(const char *dir, json_t *entries, json_t *namespaces,
                              struct buf *sums, char **err);

struct k8s_backup_opts {
	const char *dir;       /* the backup (absolute or relative to the cwd) */
	const char *target_ns; /* restore into / compare in this namespace; NULL = as saved */
	int dry_run;           /* restore: dryRun=All */
	int scale_to_zero;     /* isolated restore: workloads get replicas 0 */
	int missing_only;      /* restore: only objects absent live (a rollback) */
	char **ignore;         /* compare: extra dotted paths left out; may be NULL */
};

/* restore: verifies every file against the manifest (and the manifest
 * against SHA256SUMS) before anything is sent, then server-side applies
 * the objects in manifest order (field manager phasegate, taking every
 * field the backup holds). With target_ns, only the objects of one
 * backed-up namespace are restored, into target_ns, without finalizers
 * (a copy must never hold the deletion of anything) and without
 * cluster-allocated fields (Service IPs and node ports); cluster-scoped
 * objects are left out. Returns the facts (ok, summary, applied, count,
 * skipped, target_namespace), or NULL with *err. */
json_t *k8s_backup_restore(struct k8s_client *cl, struct check_ctx *ctx,
                           const struct k8s_backup_opts *o, char **err);

/* compare: every object of the manifest (with target_ns: those of the
 * restored namespace, looked up there) read live and compared with the
 * backup after both are stripped the same way. Facts: count, matched,
 * missing (["Kind ns/name"]), different ([{object, paths}], paths only,
 * never values: Secrets stay unread in reports), ok, summary. NULL with
 * *err when the backup or the API cannot be read. */
json_t *k8s_backup_compare(struct k8s_client *cl, struct check_ctx *ctx,
                           const struct k8s_backup_opts *o, char **err);

#endif
