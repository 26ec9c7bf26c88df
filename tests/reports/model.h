/* model.h - result models built in C for the report and result tests: the
 * runs a user meets (a gate failing in phase 2, a run waiting for sign-offs,
 * a --keep-going run) and one full of hostile outside text. Each fills a
 * zeroed run_result the caller releases with result_release(). */
#ifndef PHASEGATE_TEST_MODEL_H
#define PHASEGATE_TEST_MODEL_H

#include "result.h"

/* Builders: each appends to its parent and returns the new element (valid
 * until the next append to the same parent). Strings are copied. */
struct res_phase *model_phase(struct run_result *r, const char *id, const char *name,
                              double duration_s);
struct res_step *model_step(struct res_phase *p, const char *id, const char *name,
                            const char *checkpoint_id);
struct res_check *model_check(struct res_step *s, enum res_kind kind, const char *id,
                              const char *name, enum res_status st, double duration_s);
void model_evidence(struct res_check *k, const char *title, const char *text);
void model_approval(struct run_result *r, const char *id, const char *role, const char *by,
                    const char *at, const char *note);
void model_var(struct run_result *r, const char *name, const char *value, const char *origin);

/* A 4-phase run: checkpoint-2.1 fails on "server-ready" (with evidence, a
 * collector and a remedy), the rest of phase 2 and phases 3-4 are skipped
 * "blocked by gate checkpoint-2.1". Totals: 11 checks, 4 passed, 1 failed,
 * 1 error (non-gating), 5 skipped; 3 actions; 14 JUnit testcases. */
void model_four_phase(struct run_result *r);
/* Every gate passed; 2 manual checks pending, 1 attested; 3 approvals of
 * which 1 signed. */
void model_pending(struct run_result *r);
/* A gate failed in phase 1 but --keep-going ran phase 2 anyway. */
void model_keep_going(struct run_result *r);
/* Outside text with control characters, invalid UTF-8, "]]>", Markdown and
 * HTML injection, long backtick runs, in every field a writer shows. */
void model_hostile(struct run_result *r);
#define HOSTILE_HTML "<script>alert(1)</script>"
#define HOSTILE_LINK "[click](javascript:alert(1))"
#define HOSTILE_IMG "<img src=x onerror=alert(1)>"
#define HOSTILE_CTRL "bell\a esc\033[31mred\033[0m nul-free\x01\x7f end"
#define HOSTILE_BADUTF8 "bad \xff\xfe \xc3\x28 \xed\xa0\x80 \xef\xbf\xbe end"
#define HOSTILE_CDATA "]]> <![CDATA[ x ]]>"
#define HOSTILE_FENCE "before\n````\nescaped?\n````\nafter"
#define HOSTILE_HEADING "ok\n# Injected heading\n- [x] forged item\n| a | b |"
/* Every field of every struct set (for the JSON round trip). */
void model_full(struct run_result *r);
/* The trust fields: suite digest, attestation rules, who to call (level,
 * contacts) for check "evil", a prior run with the given id. */
void model_trust(struct run_result *r, const char *level, const char *contact,
                 const char *prior_run);

#endif
