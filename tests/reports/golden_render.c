/* golden_render.c - writes every report of every test model into a
 * directory, for tests/reports/golden.py to compare byte for byte with the
 * recorded reports. "large" is one step of many checks (repeated names,
 * collectors, failures, pending attestations) so that the writers cross
 * their output buffers many times.
 *
 * usage: golden_render OUTDIR */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"
#include "report.h"
#include "verdict.h"

static void model_large(struct run_result *r)
{
	model_pending(r);
	struct res_phase *p = model_phase(r, "9", "Many checks", 12.5);
	struct res_step *s = model_step(p, "9.1", "One big checkpoint", "checkpoint-9.1");
	for (int i = 0; i < 700; i++) {
		char id[32], name[64];
		/* every third id repeats, so names repeat and get " (n)" */
		snprintf(id, sizeof(id), "svc-%d", i % 3 == 0 ? 0 : i);
		snprintf(name, sizeof(name), "Service %d answers", i % 3 == 0 ? 0 : i);
		enum res_status st = i % 10 == 5 ? RS_FAIL : i % 23 == 7 ? RS_ERROR : RS_PASS;
		struct res_check *k =
		    model_check(s, i % 50 == 1 ? RK_ACTION : RK_CHECK, id, name, st, 0.001 * i);
		free(k->module);
		k->module = xstrdup(i % 2 ? "http" : "file");
		k->describe = xstrdup("GET http://127.0.0.1:8080/health");
		k->seen = xstrdup(st == RS_PASS ? "200" : "503 <unavailable> & `down`");
		if (st != RS_PASS) {
			k->message = xstrdup("status 503 | expected 200");
			k->expected = xstrdup("200");
			k->remedy = xstrdup("restart *the* service");
			model_evidence(k, "body", "service unavailable\n```\nfence\n");
		}
		k->attempts = 1 + i % 4;
		k->gate = i % 7 == 0;
	}
	struct res_check *k = model_check(s, RK_COLLECTOR, "events", "Events", RS_PASS, 0.2);
	model_evidence(k, "events", "Warning BackOff pod/x\nNormal Pulled pod/y\n");
	verdict_judge(r);
}

static int write_all(const char *dir, const char *name, const struct run_result *r)
{
	struct {
		const char *ext;
		int (*write)(const struct run_result *, const char *, struct pg_err *);
	} w[] = {
	    {"junit.xml", report_junit_write},
	    {"report.md", report_markdown_write},
	    {"results.json", report_json_write},
	    {"report.html", report_html_write},
	};
	for (size_t i = 0; i < sizeof(w) / sizeof(w[0]); i++) {
		char *path = xasprintf("%s/%s.%s", dir, name, w[i].ext);
		struct pg_err e;
		int rc = w[i].write(r, path, &e);
		if (rc != 0)
			fprintf(stderr, "golden_render: %s\n", e.msg);
		free(path);
		if (rc != 0)
			return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: golden_render OUTDIR\n");
		return 2;
	}
	struct {
		const char *name;
		void (*build)(struct run_result *);
	} models[] = {
	    {"four-phase", model_four_phase},
	    {"pending", model_pending},
	    {"keep-going", model_keep_going},
	    {"hostile", model_hostile},
	    {"full", model_full},
	    {"large", model_large},
	};
	int rc = 0;
	for (size_t i = 0; i < sizeof(models) / sizeof(models[0]); i++) {
		struct run_result r;
		memset(&r, 0, sizeof(r));
		models[i].build(&r);
		if (write_all(argv[1], models[i].name, &r) != 0)
			rc = 1;
		result_release(&r);
	}
	return rc;
}
