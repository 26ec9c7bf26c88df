/* k8s_logs.h - reading one container's log the way a verification needs
 * it: from the end (the newest lines are what a "no ERROR lines" check is
 * about), bounded in lines and bytes, saying when older lines were left
 * out, and telling a container that has not started yet (the server's 400
 * "is waiting to start") apart from a failure.
 *
 * Ownership: k8s_pod_log fills a struct k8s_log that the caller releases
 * with k8s_log_release. */
#ifndef PHASEGATE_K8S_LOGS_H
#define PHASEGATE_K8S_LOGS_H

#include "k8s_api.h"

/* Lines asked for when a check sets no tail: the newest this many. */
#define K8S_LOG_TAIL_DEFAULT 100000

struct k8s_log {
	struct buf text;   /* the log read: whole lines, the newest part when partial */
	long long lines;   /* lines in text */
	int partial;       /* older lines exist that were not read */
	char *waiting;     /* malloc'd: why the container has no log yet, or NULL */
};

/* GETs the log of container (NULL = the server's default) of pod in ns,
 * with tailLines = tail (< 0: K8S_LOG_TAIL_DEFAULT, and partial is set
 * when that many lines came back) and sinceSeconds = since_s (0 = none).
 * When the answer is cut at the client's size limit the request is made
 * again for fewer of the newest lines (at most three times), so the
 * newest lines are always the ones read. Returns 0 (out filled, maybe
 * only out->waiting), or -1 with *err. */
int k8s_pod_log(struct k8s_client *c, struct check_ctx *ctx, const struct k8s_res *pods,
                const char *ns, const char *pod, const char *container, long long tail,
                long long since_s, struct k8s_log *out, char **err);
void k8s_log_release(struct k8s_log *l);

#endif
