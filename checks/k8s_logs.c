/* k8s_logs.c - one container's log, read from the end and bounded (see
 * k8s_logs.h). The rules are kubectl's and the kubelet's: tailLines
 * selects the newest lines, a container still waiting answers 400 "is
 * waiting to start". */
#include "k8s_logs.h"

#include <stdlib.h>
#include <string.h>

static long long count_lines(const char *p, size_t n)
{
	long long k = 0;
	for (const char *e = p + n; p < e; p++)
		k += *p == '\n';
	return k;
}

/* One GET of the log with tailLines = tail_req. */
static int get_log(struct k8s_client *c, struct check_ctx *ctx, const struct k8s_res *pods,
                   const char *ns, const char *pod, const char *container, long long tail_req,
                   long long since_s, struct http_response *rs, char **err)
{
	struct buf q;
	buf_init(&q, 0);
	if (container) {
		char *e = k8s_qesc(container);
		buf_addf(&q, "container=%s&", e);
		free(e);
	}
	buf_addf(&q, "tailLines=%lld", tail_req);
	if (since_s > 0)
		buf_addf(&q, "&sinceSeconds=%lld", since_s);
	char *base = k8s_path(pods, ns, pod, NULL);
	char *path = xasprintf("%s/log?%s", base, buf_str(&q));
	free(base);
	buf_release(&q);
	int rc = k8s_call(c, ctx, "GET", path, NULL, NULL, rs, err);
	free(path);
	return rc;
}

int k8s_pod_log(struct k8s_client *c, struct check_ctx *ctx, const struct k8s_res *pods,
                const char *ns, const char *pod, const char *container, long long tail,
                long long since_s, struct k8s_log *out, char **err)
{
	memset(out, 0, sizeof(*out));
	buf_init(&out->text, 0);
	*err = NULL;
	long long want = tail >= 0 ? tail : K8S_LOG_TAIL_DEFAULT;
	struct http_response rs;
	for (int attempt = 0;; attempt++) {
		if (get_log(c, ctx, pods, ns, pod, container, want, since_s, &rs, err) != 0)
			return -1;
		if (rs.status == 400 && strstr(buf_str(&rs.body), "is waiting to start")) {
			char *w = xasprintf("GET logs of pod %s", pod);
			out->waiting = k8s_status_error(c, &rs, w);
			free(w);
			http_response_release(&rs);
			return 0;
		}
		if (rs.status / 100 != 2) {
			char *w = xasprintf("GET logs of pod %s", pod);
			*err = k8s_status_error(c, &rs, w);
			free(w);
			http_response_release(&rs);
			return -1;
		}
		if (!rs.body_truncated || attempt == 3)
			break;
		/* cut at the size limit: that is the oldest part of the tail.
		 * Ask again for fewer lines so the newest ones arrive whole. */
		long long got = count_lines(buf_str(&rs.body), rs.body.len);
		http_response_release(&rs);
		want = got > 2 ? got * 9 / 10 : 1;
		out->partial = 1;
	}
	size_t len = rs.body.len;
	if (rs.body_truncated) { /* still cut: keep whole lines only */
		while (len && buf_str(&rs.body)[len - 1] != '\n')
			len--;
		out->partial = 1;
	}
	buf_add(&out->text, buf_str(&rs.body), len);
	http_response_release(&rs);
	out->lines = count_lines(buf_str(&out->text), out->text.len);
	if (out->text.len && buf_str(&out->text)[out->text.len - 1] != '\n')
		out->lines++;
	if (tail < 0 && out->lines >= want)
		out->partial = 1; /* as many lines as asked for: older ones exist */
	return 0;
}

void k8s_log_release(struct k8s_log *l)
{
	buf_release(&l->text);
	free(l->waiting);
	memset(l, 0, sizeof(*l));
}
