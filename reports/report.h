/* report.h - the report writers. Each reads a finished result model and
 * nothing else, and writes its file atomically (temporary file + rename).
 * The console writer is the exception that runs live: it is one
 * implementation of the scheduler's observer (struct sched_observer), which
 * the command layer (cli/) hands to the scheduler; the core never calls a
 * writer itself. */
#ifndef PHASEGATE_REPORT_H
#define PHASEGATE_REPORT_H

#include <stdio.h>

#include "../runner/outfile.h"
#include "../runner/result.h"
#include "../runner/scheduler.h"
#include "../runner/util.h"

int report_junit_write(const struct run_result *r, const char *path, struct pg_err *e);
int report_markdown_write(const struct run_result *r, const char *path, struct pg_err *e);
int report_json_write(const struct run_result *r, const char *path, struct pg_err *e);
/* reports/html.c: one self-contained, printable page; no script, no external asset. */
int report_html_write(const struct run_result *r, const char *path, struct pg_err *e);
/* In-memory renderings (malloc'd), for tests and for writers that embed a
 * report. */
char *report_junit_render(const struct run_result *r);
char *report_markdown_render(const struct run_result *r);
char *report_json_render(const struct run_result *r); /* NULL when not encodable */
char *report_html_render(const struct run_result *r);
/* The writers as streams (outfile_emit_fn; arg is the const struct
 * run_result *): each writes its report to out in one pass, holding no more
 * than one check's text at a time, so that its memory does not grow with
 * the number of checks (for sets of reports, runner/outfile.h). */
int report_junit_emit(const void *r, FILE *out, struct pg_err *e);
int report_markdown_emit(const void *r, FILE *out, struct pg_err *e);
int report_json_emit(const void *r, FILE *out, struct pg_err *e);
int report_html_emit(const void *r, FILE *out, struct pg_err *e);
/* What every writer's _render and _write do with its emitter: the report
 * in memory (NULL when it cannot be made), or written to path atomically. */
char *report_render(outfile_emit_fn emit, const struct run_result *r);
int report_write(outfile_emit_fn emit, const struct run_result *r, const char *path,
                 struct pg_err *e);
/* Outside text as one line of inline Markdown that cannot add markup
 * (reports/markdown.c's escaping, for the fleet report). */
void report_md_text(struct buf *b, const char *s);

/* The console. Colour only when color is set (the caller decides: a TTY and
 * no NO_COLOR and no --no-color); live progress lines only when tty is set. */
struct console;
struct console *console_new(FILE *out, int color, int tty, int verbose);
void console_free(struct console *c);
void console_run_start(struct console *c, const struct run_result *r);
void console_phase_start(struct console *c, const struct res_phase *p);
void console_step_start(struct console *c, const struct res_step *s);
/* A check, action or collector has finished (called in suite order). */
void console_check(struct console *c, const struct res_check *k);
/* A transient line about a wait in progress ("waiting for argocd-server
 * rollout: attempt 4, 12s of 5m"); overwritten by the next line; no-op
 * unless tty. */
void console_progress(struct console *c, const char *text);
void console_run_end(struct console *c, const struct run_result *r);
/* Where reports were written, printed after the verdict. */
void console_note(struct console *c, const char *text);
/* Fills o so that the scheduler reports progress to c (NULL c: no hooks). */
void console_observer(struct console *c, struct sched_observer *o);

/* Helpers the writers share (reports/json.c). report_clean_text returns a
 * malloc'd copy of outside text that is valid UTF-8 and holds no control
 * characters but tab and newline (invalid bytes and other controls become
 * U+FFFD, CR is dropped); NULL gives "". report_blocking_check returns the
 * check named by r->blocking_check (inside the r->blocking_gate step when
 * that is set), or NULL. report_verdict is r->verdict (runner/verdict.c
 * judged it; "NO-GO" when a file lacks one); report_open_signoffs counts
 * pending checks plus unattested approvals. report_is_failure: a check or
 * action that failed or errored. report_documented_check: the check whose
 * failure a step's on_failure collectors document (the first failed
 * mandatory check, else the first failed one), or NULL. */
char *report_clean_text(const char *s);
const struct res_check *report_blocking_check(const struct run_result *r);
const char *report_verdict(const struct run_result *r);
size_t report_open_signoffs(const struct run_result *r);
int report_is_failure(const struct res_check *k);
const struct res_check *report_documented_check(const struct res_step *s);

#endif
