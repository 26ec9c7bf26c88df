/* console.c - the live console view: a header, a line per phase and step,
 * one line per finished check (the failure message and remedy indented
 * under it), transient progress lines for waits on a TTY, and the verdict.
 * Colour and Unicode symbols only when the caller asks for colour; without
 * it the statuses are plain words (PASS, FAIL, ERROR, SKIP, PEND). Outside
 * text goes through report_clean_text() so that a server's response cannot
 * send escape sequences to the terminal. Called from one thread. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../runner/verdict.h"
#include "report.h"

#define C_RESET "\033[0m"
#define C_BOLD "\033[1m"
#define C_DIM "\033[2m"
#define C_RED "\033[31m"
#define C_GREEN "\033[32m"
#define C_YELLOW "\033[33m"
#define C_CYAN "\033[36m"

struct console {
	FILE *out;          /* not owned */
	int color;          /* ANSI colours and Unicode symbols */
	int tty;            /* progress lines may be drawn and erased */
	int verbose;        /* also what each check did, expected/seen, evidence */
	int progress_shown; /* a progress line is on screen and must be erased */
};

struct console *console_new(FILE *out, int color, int tty, int verbose)
{
	struct console *c = xcalloc(1, sizeof(*c));
	c->out = out;
	c->color = color;
	c->tty = tty;
	c->verbose = verbose;
	return c;
}

void console_free(struct console *c)
{
	free(c);
}

static const char *col(const struct console *c, const char *code)
{
	return c->color ? code : "";
}

/* Every normal line starts here: it erases a progress line first. */
static void line_start(struct console *c)
{
	if (c->progress_shown) {
		fputs("\r\033[K", c->out);
		c->progress_shown = 0;
	}
}

/* Outside text on one line (newlines become spaces). */
static void put_text(struct console *c, const char *s)
{
	char *t = report_clean_text(s);
	for (char *p = t; *p; p++)
		if (*p == '\n' || *p == '\t')
			*p = ' ';
	fputs(t, c->out);
	free(t);
}

/* Outside text that may span lines, each line indented. */
static void put_block(struct console *c, const char *indent, const char *label, const char *s)
{
	char *t = report_clean_text(s);
	char *p = t;
	int first = 1;
	do {
		char *nl = strchr(p, '\n');
		if (nl)
			*nl = 0;
		if (*p || first)
			fprintf(c->out, "%s%s%s\n", indent, first && label ? label : "", p);
		first = 0;
		p = nl ? nl + 1 : NULL;
	} while (p && *p);
	free(t);
}

static void status_mark(struct console *c, enum res_status s)
{
	static const char *const plain[] = {
	    [RS_PASS] = "PASS ",        [RS_FAIL] = "FAIL ",       [RS_ERROR] = "ERROR",
	    [RS_SKIP] = "SKIP ",        [RS_PENDING] = "PEND ",    [RS_NOT_SELECTED] = "NSEL ",
	    [RS_INTERRUPTED] = "INTR ", [RS_NOT_NEEDED] = "NONE ",
	};
	static const char *const fancy[] = {
	    [RS_PASS] = "✓",        [RS_FAIL] = "✗",       [RS_ERROR] = "!",
	    [RS_SKIP] = "-",        [RS_PENDING] = "?",    [RS_NOT_SELECTED] = "·",
	    [RS_INTERRUPTED] = "■", [RS_NOT_NEEDED] = "○",
	};
	static const char *const colours[] = {
	    [RS_PASS] = C_GREEN,         [RS_FAIL] = C_RED,       [RS_ERROR] = C_RED,
	    [RS_SKIP] = C_DIM,           [RS_PENDING] = C_YELLOW, [RS_NOT_SELECTED] = C_DIM,
	    [RS_INTERRUPTED] = C_YELLOW, [RS_NOT_NEEDED] = C_DIM,
	};
	if ((unsigned)s > RS_NOT_NEEDED)
		s = RS_ERROR;
	if (c->color)
		fprintf(c->out, "%s%s%s", colours[s], fancy[s], C_RESET);
	else
		fputs(plain[s], c->out);
}

/* The suite's identity and the earlier run this one relied on. */
static void console_trust(struct console *c, const struct run_result *r)
{
	if (r->suite_digest) {
		fputs("suite digest ", c->out);
		put_text(c, r->suite_digest);
		fputc('\n', c->out);
	}
	if (r->prior) {
		fputs("prior run ", c->out);
		put_text(c, r->prior->run_id ? r->prior->run_id : "?");
		fputs(" — environment ", c->out);
		put_text(c, r->prior->environment ? r->prior->environment : "?");
		fputs(", ", c->out);
		put_text(c, r->prior->verdict ? r->prior->verdict : "?");
		fputs(", finished ", c->out);
		put_text(c, r->prior->finished_at ? r->prior->finished_at : "?");
		fputc('\n', c->out);
	}
}

void console_run_start(struct console *c, const struct run_result *r)
{
	line_start(c);
	fprintf(c->out, "%sphasegate%s — suite ", col(c, C_BOLD), col(c, C_RESET));
	put_text(c, r->suite_name ? r->suite_name : "?");
	if (r->environment) {
		fputs(" — environment ", c->out);
		put_text(c, r->environment);
	}
	if (r->run_id) {
		fputs(" — run ", c->out);
		put_text(c, r->run_id);
	}
	fputc('\n', c->out);
	console_trust(c, r);
	if (r->dry_run)
		fputs("dry run: no action will change anything\n", c->out);
	if (r->keep_going)
		fprintf(c->out,
		        "%sWARNING: --keep-going overrides the failure protocol: the run "
		        "goes on after a failed gate%s\n",
		        col(c, C_YELLOW), col(c, C_RESET));
	fflush(c->out);
}

void console_phase_start(struct console *c, const struct res_phase *p)
{
	line_start(c);
	fprintf(c->out, "\n%s▶ Phase ", col(c, C_BOLD C_CYAN));
	put_text(c, p->id ? p->id : "?");
	if (p->name) {
		fputs(" — ", c->out);
		put_text(c, p->name);
	}
	fprintf(c->out, "%s\n", col(c, C_RESET));
	fflush(c->out);
}

void console_step_start(struct console *c, const struct res_step *s)
{
	line_start(c);
	fprintf(c->out, "  %sStep ", col(c, C_BOLD));
	put_text(c, s->id ? s->id : "?");
	if (s->name) {
		fputs(" — ", c->out);
		put_text(c, s->name);
	}
	fprintf(c->out, "%s\n", col(c, C_RESET));
	fflush(c->out);
}

static void put_duration(struct console *c, double s)
{
	if (!(s >= 0) || s > 1e9)
		s = 0;
	char *d = format_duration(llround(s * 1000.0));
	fprintf(c->out, "  %s(%s)%s", col(c, C_DIM), d, col(c, C_RESET));
	free(d);
}

static void put_evidence(struct console *c, const struct res_check *k)
{
	for (size_t i = 0; i < k->nevidence; i++) {
		fputs("        evidence: ", c->out);
		put_text(c, k->evidence[i].title ? k->evidence[i].title : "(untitled)");
		fputc('\n', c->out);
		if (k->evidence[i].text)
			put_block(c, "          ", NULL, k->evidence[i].text);
	}
}

void console_check(struct console *c, const struct res_check *k)
{
	line_start(c);
	if (k->kind == RK_COLLECTOR && k->status == RS_NOT_NEEDED) {
		fprintf(c->out, "    %snot collected%s ", col(c, C_DIM), col(c, C_RESET));
		put_text(c, k->id ? k->id : "?");
		fputs(" — ", c->out);
		put_text(c, k->message ? k->message : "not needed");
		fputc('\n', c->out);
		fflush(c->out);
		return;
	}
	if (k->kind == RK_COLLECTOR) {
		fprintf(c->out, "    %scollected%s ", col(c, C_DIM), col(c, C_RESET));
		put_text(c, k->id ? k->id : "?");
		if (k->describe) {
			fputs(": ", c->out);
			put_text(c, k->describe);
		}
		if (k->status != RS_PASS) {
			fprintf(c->out, " (%s", res_status_name(k->status));
			if (k->message) {
				fputs(": ", c->out);
				put_text(c, k->message);
			}
			fputc(')', c->out);
		}
		fputc('\n', c->out);
		if (c->verbose)
			put_evidence(c, k);
		fflush(c->out);
		return;
	}
	fputs("    ", c->out);
	status_mark(c, k->status);
	fputc(' ', c->out);
	if (k->kind == RK_ACTION)
		fputs("action ", c->out);
	else if (k->kind == RK_ROLLBACK)
		fprintf(c->out, "%srollback%s ", col(c, C_BOLD), col(c, C_RESET));
	if (k->destructive)
		fprintf(c->out, "%s[destructive]%s ", col(c, C_YELLOW), col(c, C_RESET));
	put_text(c, k->id ? k->id : "?");
	if (k->name && (!k->id || strcmp(k->name, k->id) != 0)) {
		fputs("  ", c->out);
		put_text(c, k->name);
	}
	if (k->status == RS_SKIP || k->status == RS_INTERRUPTED || k->status == RS_NOT_SELECTED ||
	    k->status == RS_NOT_NEEDED) {
		fputs(" — ", c->out);
		if (k->blocked_by) {
			fputs("blocked by gate ", c->out);
			put_text(c, k->blocked_by);
		} else {
			put_text(c, k->message ? k->message : "not run");
		}
	} else if (k->status == RS_PENDING) {
		fputs(" — pending attestation", c->out);
	} else {
		if (k->status == RS_PASS && k->attest_by) {
			fputs(" — attested by ", c->out);
			put_text(c, k->attest_by);
		}
		put_duration(c, k->duration_s);
		if (k->attempts > 1)
			fprintf(c->out, " after %d attempts", k->attempts);
	}
	if (k->insecure)
		fprintf(c->out, " %s[TLS not verified]%s", col(c, C_YELLOW), col(c, C_RESET));
	if (!k->gate && k->kind == RK_CHECK && (k->status == RS_FAIL || k->status == RS_ERROR))
		fputs(" (non-gating)", c->out);
	fputc('\n', c->out);
	if (c->verbose && k->describe)
		put_block(c, "        ", NULL, k->describe);
	if (k->status == RS_FAIL || k->status == RS_ERROR) {
		fputs(col(c, C_RED), c->out);
		put_block(c, "        ", NULL,
		          k->message ? k->message
		                     : (k->status == RS_FAIL ? "expectation not met"
		                                             : "the check could not run"));
		fputs(col(c, C_RESET), c->out);
		if (c->verbose && k->expected)
			put_block(c, "        ", "expected: ", k->expected);
		if (c->verbose && k->seen)
			put_block(c, "        ", "seen: ", k->seen);
		if (k->remedy)
			put_block(c, "        ", "remedy: ", k->remedy);
		if (c->verbose)
			put_evidence(c, k);
	}
	fflush(c->out);
}

void console_progress(struct console *c, const char *text)
{
	if (!c->tty)
		return;
	fputs("\r\033[K", c->out);
	put_text(c, text ? text : "");
	c->progress_shown = 1;
	fflush(c->out);
}

void console_run_end(struct console *c, const struct run_result *r)
{
	const char *v = report_verdict(r);
	const char *colour = !strcmp(v, "GO")                              ? C_GREEN
			     : !strcmp(v, "PENDING") || !strcmp(v, "PARTIAL") ? C_YELLOW
									       : C_RED;
	line_start(c);
	fprintf(c->out,
	        "\n%zu checks: %zu passed, %zu failed, %zu errors, %zu skipped, %zu pending",
	        r->total - r->not_selected, r->passed, r->failed, r->errors, r->skipped,
	        r->pending);
	if (r->interrupted_n)
		fprintf(c->out, ", %zu interrupted", r->interrupted_n);
	fprintf(c->out, "; %zu action%s ran", r->actions_run, r->actions_run == 1 ? "" : "s");
	if (r->actions_not_needed)
		fprintf(c->out, ", %zu not needed (when: false)", r->actions_not_needed);
	if (r->not_selected || r->actions_not_selected)
		fprintf(c->out, "; not selected: %zu checks, %zu actions", r->not_selected,
		        r->actions_not_selected);
	fputc('\n', c->out);
	fprintf(c->out, "%s%s", col(c, C_BOLD), col(c, colour));
	char *headline = verdict_headline(r);
	put_text(c, headline);
	free(headline);
	if (r->interrupted)
		fputs(" (interrupted)", c->out);
	fputs(" — ", c->out);
	put_text(c, r->reason ? r->reason : "");
	fputs(col(c, C_RESET), c->out);
	if (r->keep_going)
		fputs(" (protocol overridden by --keep-going)", c->out);
	fputc('\n', c->out);
	fflush(c->out);
}

void console_note(struct console *c, const char *text)
{
	line_start(c);
	put_text(c, text ? text : "");
	fputc('\n', c->out);
	fflush(c->out);
}

/* ---- the scheduler's observer ---- */

static void obs_run_start(void *ctx, const struct run_result *r)
{
	console_run_start(ctx, r);
}

static void obs_phase_start(void *ctx, const struct res_phase *p)
{
	console_phase_start(ctx, p);
}

static void obs_step_start(void *ctx, const struct res_step *s)
{
	console_step_start(ctx, s);
}

static void obs_entry_done(void *ctx, const struct res_check *k)
{
	console_check(ctx, k);
}

static void obs_progress(void *ctx, const char *text)
{
	console_progress(ctx, text);
}

static void obs_run_end(void *ctx, const struct run_result *r)
{
	console_run_end(ctx, r);
}

void console_observer(struct console *c, struct sched_observer *o)
{
	memset(o, 0, sizeof(*o));
	if (!c)
		return;
	o->ctx = c;
	o->run_start = obs_run_start;
	o->phase_start = obs_phase_start;
	o->step_start = obs_step_start;
	o->entry_done = obs_entry_done;
	o->progress = obs_progress;
	o->run_end = obs_run_end;
}
