/* attest.c - loads the --attest files once, validates every entry (fields,
 * times, known ids, signatures) before anything runs, and answers "who
 * signed off on <id>?" for manual checks, approvals and re-judged runs. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "attest.h"
#include "digest.h"
#include "node.h"
#include "proc.h"
#include "vars.h"

#define ATTEST_FILE_MAX (4 * 1024 * 1024)
#define ATTEST_MAX_ENTRIES 10000
#define ATTEST_CLOCK_SKEW_S 300 /* an "at" this far ahead still counts as now */

struct attest_entry {
	char *id, *by, *at, *note, *run, *suite; /* owned */
	char *signed_by;                         /* owned: verified principal, or NULL */
};

struct attest_set {
	struct attest_entry *v; /* owned array */
	size_t n;
	char *run_id;    /* owned: the current run, for entries naming one */
	char *lazy_path; /* owned: read on first lookup of this path (no validation
	                    installed it); NULL for a validated set */
	int validated;   /* attest_load() installed it: every lookup uses it */
};

static pthread_mutex_t attest_lock = PTHREAD_MUTEX_INITIALIZER;
static struct attest_set *installed; /* the validated set; replaced by attest_load */

static void set_free(struct attest_set *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++) {
		struct attest_entry *e = &s->v[i];
		free(e->id);
		free(e->by);
		free(e->at);
		free(e->note);
		free(e->run);
		free(e->suite);
		free(e->signed_by);
	}
	free(s->v);
	free(s->run_id);
	free(s->lazy_path);
	free(s);
}

static int two_digits(const char *s, int *out)
{
	if (s[0] < '0' || s[0] > '9' || s[1] < '0' || s[1] > '9')
		return -1;
	*out = (s[0] - '0') * 10 + (s[1] - '0');
	return 0;
}

int attest_parse_time(const char *s, time_t *out)
{
	int y1, y2, mo, d, h, mi, se, oh = 0, om = 0, sign = 0;
	if (!s || strlen(s) < 20 || two_digits(s, &y1) || two_digits(s + 2, &y2) || s[4] != '-' ||
	    two_digits(s + 5, &mo) || s[7] != '-' || two_digits(s + 8, &d) ||
	    (s[10] != 'T' && s[10] != 't' && s[10] != ' ') || two_digits(s + 11, &h) ||
	    s[13] != ':' || two_digits(s + 14, &mi) || s[16] != ':' || two_digits(s + 17, &se))
		return -1;
	const char *p = s + 19;
	if (*p == '.') {
		p++;
		if (*p < '0' || *p > '9')
			return -1;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	if ((*p == 'Z' || *p == 'z') && p[1] == 0) {
		sign = 0;
	} else if ((*p == '+' || *p == '-') && strlen(p) == 6 && !two_digits(p + 1, &oh) &&
	           p[3] == ':' && !two_digits(p + 4, &om)) {
		sign = *p == '+' ? 1 : -1;
	} else {
		return -1;
	}
	static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	int year = y1 * 100 + y2;
	if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || h > 23 || mi > 59 || se > 60 ||
	    oh > 23 || om > 59)
		return -1;
	int leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
	if (mo == 2 && d == 29 && !leap)
		return -1;
	struct tm tm = {.tm_year = year - 1900,
	                .tm_mon = mo - 1,
	                .tm_mday = d,
	                .tm_hour = h,
	                .tm_min = mi,
	                .tm_sec = se > 59 ? 59 : se};
	time_t t = timegm(&tm);
	*out = t - (time_t)sign * (oh * 3600 + om * 60);
	return 0;
}

char *attest_signed_text(const char *id, const char *by, const char *at, const char *note,
                         const char *run, const char *suite)
{
	return xasprintf("phasegate attestation v1\nid: %s\nby: %s\nat: %s\nnote: %s\nrun: "
	                 "%s\n%s%s%s",
	                 id ? id : "", by ? by : "", at ? at : "", note ? note : "", run ? run : "",
	                 suite ? "suite: " : "", suite ? suite : "", suite ? "\n" : "");
}

/* A temporary file holding text, for ssh-keygen's -s; malloc'd path. */
static char *temp_with(const char *text, struct pg_err *e)
{
	const char *dir = getenv("TMPDIR");
	char *path = xasprintf("%s/phasegate-sig.XXXXXX", dir && *dir ? dir : "/tmp");
	int fd = mkstemp(path);
	if (fd < 0) {
		pg_error(e, "cannot create a temporary file for the signature: %s",
		         strerror(errno));
		free(path);
		return NULL;
	}
	size_t len = strlen(text), off = 0;
	while (off < len) {
		ssize_t w = write(fd, text + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			pg_error(e, "cannot write the signature to a temporary file: %s",
			         strerror(errno));
			close(fd);
			unlink(path);
			free(path);
			return NULL;
		}
		off += (size_t)w;
	}
	close(fd);
	return path;
}

/* Verifies signature over text against allowed_signers with ssh-keygen
 * (namespace "phasegate"). Returns 0 with *principal set, or -1 with e. */
static int verify_signature(const char *signature, const char *text, const char *allowed_signers,
                            char **principal, struct pg_err *e)
{
	*principal = NULL;
	char *sig = temp_with(signature, e);
	if (!sig)
		return -1;
	int rc = -1;
	struct proc_result pr;
	memset(&pr, 0, sizeof(pr));
	const char *find[] = {"ssh-keygen", "-Y", "find-principals", "-s",
	                      sig,          "-f", allowed_signers,   NULL};
	struct proc_spec ps = {.argv = find, .timeout_ms = 10000, .max_output = 64 * 1024};
	if (proc_run(&ps, NULL, &pr, e) != 0)
		goto out;
	if (pr.exit_code != 0) {
		pg_error(e, "its signer is not in %s", allowed_signers);
		goto out;
	}
	char *who = xstrdup(buf_str(&pr.out));
	who[strcspn(who, "\r\n")] = 0; /* the first principal */
	proc_result_release(&pr);
	const char *verify[] = {"ssh-keygen",    "-Y", "verify", "-f",
	                        allowed_signers, "-I", who,      "-n",
	                        "phasegate",     "-s", sig,      NULL};
	struct proc_spec vs = {.argv = verify,
	                       .stdin_data = text,
	                       .stdin_len = strlen(text),
	                       .timeout_ms = 10000,
	                       .max_output = 64 * 1024};
	if (!*who || proc_run(&vs, NULL, &pr, e) != 0) {
		if (!*who)
			pg_error(e, "its signer is not in %s", allowed_signers);
		free(who);
		goto out;
	}
	if (pr.exit_code != 0) {
		pg_error(e,
		         "the signature does not match the entry (was it changed after signing?)");
		free(who);
		goto out;
	}
	*principal = who;
	rc = 0;
out:
	proc_result_release(&pr);
	unlink(sig);
	free(sig);
	return rc;
}

static const char *const entry_keys[] = {"by", "at", "note", "run", "suite", "signature"};

/* The scalar text at key (NULL when absent); a diagnostic when not text. */
static char *field(const struct node *entry, const char *key, struct diags *d)
{
	const struct node *v = node_get(entry, key);
	if (!v || node_is_null(v))
		return NULL;
	if (v->kind != NODE_SCALAR) {
		diag_at(d, v, "attestation field '%s' must be text, not a %s", key,
		        node_kind_name(v));
		return NULL;
	}
	return xstrdup(v->str);
}

static const char *closest_id(const struct attest_rules *r, const char *id)
{
	const char *best = NULL;
	size_t bestd = 4;
	for (size_t i = 0; i < r->nids; i++) {
		size_t dd = edit_distance(id, r->ids[i]);
		if (dd < bestd) {
			bestd = dd;
			best = r->ids[i];
		}
	}
	return best;
}

static int in_list(const char *const *ids, size_t n, const char *id)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(ids[i], id) == 0)
			return 1;
	return 0;
}

static int known_id(const struct attest_rules *r, const char *id)
{
	return in_list(r->ids, r->nids, id);
}

static void check_time(const struct node *entry, const struct attest_entry *en,
                       const struct attest_rules *r, time_t now, struct diags *d)
{
	const struct node *at = node_get(entry, "at");
	time_t t;
	if (!en->at) {
		if (!at || node_is_null(at))
			diag_at(d, entry,
			        "attestation '%s' has no 'at' (when it was signed, e.g. "
			        "\"2026-11-20T10:00:00Z\")",
			        en->id);
		return;
	}
	if (attest_parse_time(en->at, &t) != 0) {
		diag_at(d, at,
		        "attestation '%s': 'at' is \"%s\", not an RFC 3339 time such as "
		        "\"2026-11-20T10:00:00Z\"",
		        en->id, en->at);
		return;
	}
	if (t > now + ATTEST_CLOCK_SKEW_S) {
		diag_at(d, at, "attestation '%s': 'at' (%s) is in the future", en->id, en->at);
		return;
	}
	if (r->max_age_s > 0 && now - t > r->max_age_s) {
		char *age = format_duration(r->max_age_s * 1000);
		diag_at(d, at,
		        "attestation '%s' is too old: signed at %s, the suite accepts sign-offs "
		        "of at most %s (attestations: {max_age})",
		        en->id, en->at, age);
		free(age);
	}
}

/* suite: DIGEST names the suite a sign-off is for: the whole digest or a
 * prefix of at least 12 hex digits; given to another suite it is an error. */
static void check_suite(const struct node *entry, const struct attest_entry *en,
                        const struct attest_rules *r, struct diags *d)
{
	const struct node *at = node_get(entry, "suite");
	if (!en->suite)
		return;
	if (!digest_is_prefix(en->suite))
		diag_at(d, at,
		        "attestation '%s': 'suite' is \"%s\", not a suite digest (12 to 64 "
		        "lowercase hex digits, as 'phasegate validate' shows)",
		        en->id, en->suite);
	else if (r->suite_digest && strncmp(r->suite_digest, en->suite, strlen(en->suite)) != 0)
		diag_at(d, at,
		        "attestation '%s' is for another suite: it names suite digest %s, this "
		        "suite's digest is %s",
		        en->id, en->suite, r->suite_digest);
	else if (!r->suite_digest && !r->keep_signatures_unverified)
		diag_at(d, at,
		        "attestation '%s' names suite digest %s, but the run it is checked "
		        "against does not record its suite digest",
		        en->id, en->suite);
}

static void load_one(struct attest_set *s, const char *path, const struct attest_rules *r,
                     time_t now, struct diags *d)
{
	struct node *root = NULL;
	struct node_limits lim = node_limits_default();
	lim.max_file_bytes = ATTEST_FILE_MAX;
	if (node_load_file(path, &lim, &root, d) < 0)
		return;
	if (root->kind != NODE_MAP) {
		diag_at(d, root, "an attestation file is a map of id: {by, at, note}, not a %s",
		        node_kind_name(root));
		goto out;
	}
	if (root->n > ATTEST_MAX_ENTRIES) {
		diag_at(d, root, "an attestation file holds at most %d entries",
		        ATTEST_MAX_ENTRIES);
		goto out;
	}
	s->v = xrealloc(s->v, (s->n + root->n + 1) * sizeof(*s->v));
	for (size_t i = 0; i < root->n; i++) {
		const struct node *k = root->pairs[i].key, *v = root->pairs[i].value;
		if (v->kind != NODE_MAP) {
			diag_at(d, v, "attestation '%s' must be a map {by, at, note}, not a %s",
			        k->str, node_kind_name(v));
			continue;
		}
		int bad_key = 0;
		for (size_t j = 0; j < v->n; j++) {
			const char *name = v->pairs[j].key->str;
			size_t e;
			for (e = 0; e < sizeof(entry_keys) / sizeof(entry_keys[0]); e++)
				if (strcmp(name, entry_keys[e]) == 0)
					break;
			if (e == sizeof(entry_keys) / sizeof(entry_keys[0])) {
				diag_at(
				    d, v->pairs[j].key,
				    "unknown attestation field '%s' (expected by, at, note, run, "
				    "suite, signature)",
				    name);
				bad_key = 1;
			}
		}
		if (in_list(r->automated, r->nautomated, k->str)) {
			diag_at(d, k,
			        "attestation for '%s', an automated check: its result comes from "
			        "the run, and only manual checks and approvals take sign-offs",
			        k->str);
			continue;
		}
		if (r->nids && !known_id(r, k->str)) {
			const char *hint = closest_id(r, k->str);
			if (hint)
				diag_at(d, k,
				        "attestation for unknown id '%s' (did you mean '%s'?)",
				        k->str, hint);
			else
				diag_at(d, k,
				        "attestation for unknown id '%s': no check or approval of "
				        "the suite has it",
				        k->str);
			continue;
		}
		for (size_t j = 0; j < s->n; j++)
			if (strcmp(s->v[j].id, k->str) == 0) {
				diag_at(d, k,
				        "attestation '%s' is given twice (also in an earlier "
				        "--attest file or above)",
				        k->str);
				bad_key = 1;
				break;
			}
		if (bad_key)
			continue;
		struct attest_entry *en = &s->v[s->n++];
		memset(en, 0, sizeof(*en));
		en->id = xstrdup(k->str);
		en->by = field(v, "by", d);
		en->at = field(v, "at", d);
		en->note = field(v, "note", d);
		en->run = field(v, "run", d);
		en->suite = field(v, "suite", d);
		if (!en->by || !*en->by)
			diag_at(d, v, "attestation '%s' has no 'by' (who signed off)", en->id);
		check_time(v, en, r, now, d);
		check_suite(v, en, r, d);
		char *sig = field(v, "signature", d);
		if (sig && !r->keep_signatures_unverified) {
			struct pg_err e;
			char *text = attest_signed_text(en->id, en->by, en->at, en->note, en->run,
			                                en->suite);
			if (!r->allowed_signers)
				diag_at(
				    d, node_get(v, "signature"),
				    "attestation '%s' is signed, but no allowed_signers file was "
				    "given to verify it (--allowed-signers FILE, or attestations: "
				    "{allowed_signers: FILE})",
				    en->id);
			else if (verify_signature(sig, text, r->allowed_signers, &en->signed_by,
			                          &e) != 0)
				diag_at(d, node_get(v, "signature"),
				        "attestation '%s': bad signature: %s", en->id, e.msg);
			free(text);
		}
		free(sig);
	}
out:
	node_free(root);
}

static int load_set(const char *const *files, size_t n, const struct attest_rules *rules,
                    const char *lazy_path, struct diags *d)
{
	static const struct attest_rules none = {0};
	const struct attest_rules *r = rules ? rules : &none;
	time_t now = r->now ? r->now : time(NULL);
	struct attest_set *s = xcalloc(1, sizeof(*s));
	size_t before = d->n;
	for (size_t i = 0; i < n; i++)
		load_one(s, files[i], r, now, d);
	if (d->n > before) {
		set_free(s);
		return -1;
	}
	pthread_mutex_lock(&attest_lock);
	if (installed && installed->run_id)
		s->run_id = xstrdup(installed->run_id);
	s->lazy_path = xstrdup(lazy_path);
	s->validated = !lazy_path;
	set_free(installed);
	installed = s;
	pthread_mutex_unlock(&attest_lock);
	return 0;
}

int attest_load(const char *const *files, size_t n, const struct attest_rules *rules,
                struct diags *d)
{
	return load_set(files, n, rules, NULL, d);
}

void attest_set_run(const char *run_id)
{
	pthread_mutex_lock(&attest_lock);
	if (!installed)
		installed = xcalloc(1, sizeof(*installed));
	free(installed->run_id);
	installed->run_id = xstrdup(run_id);
	pthread_mutex_unlock(&attest_lock);
}

/* The entry for id that counts for the current run; under attest_lock. */
static const struct attest_entry *find(const char *id)
{
	if (!installed)
		return NULL;
	for (size_t i = 0; i < installed->n; i++) {
		const struct attest_entry *en = &installed->v[i];
		if (strcmp(en->id, id) != 0 || !en->by || !*en->by)
			continue;
		if (en->run && (!installed->run_id || strcmp(en->run, installed->run_id) != 0))
			return NULL; /* signed off for another run */
		return en;
	}
	return NULL;
}

int attest_lookup(const char *path, const char *id, struct attestation *a, struct pg_err *e)
{
	memset(a, 0, sizeof(*a));
	pthread_mutex_lock(&attest_lock);
	int have = installed && (installed->validated || (installed->lazy_path && path &&
	                                                  !strcmp(installed->lazy_path, path)));
	pthread_mutex_unlock(&attest_lock);
	if (!have && path) {
		/* no validated set (a tool or a test): read the file as given */
		struct diags d;
		diags_init(&d);
		if (load_set(&path, 1, NULL, path, &d) != 0) {
			const struct diag *g = &d.v[0];
			pg_error(e, "attestation file %s:%u:%u: %s", g->file ? g->file : path,
			         g->line, g->col, g->msg);
			diags_release(&d);
			return -1;
		}
		diags_release(&d);
	}
	pthread_mutex_lock(&attest_lock);
	const struct attest_entry *en = find(id);
	if (en) {
		a->by = xstrdup(en->by);
		a->at = xstrdup(en->at);
		a->note = xstrdup(en->note);
		a->signed_by = xstrdup(en->signed_by);
	}
	pthread_mutex_unlock(&attest_lock);
	return en ? 1 : 0;
}

void attestation_release(struct attestation *a)
{
	free(a->by);
	free(a->at);
	free(a->note);
	free(a->signed_by);
	memset(a, 0, sizeof(*a));
}

static void take(char **dst, const char *src)
{
	free(*dst);
	*dst = mask_dup(src);
}

void attest_judge_approvals(struct run_result *r)
{
	pthread_mutex_lock(&attest_lock);
	for (size_t i = 0; i < r->napprovals; i++) {
		struct res_approval *ap = &r->approvals[i];
		const struct attest_entry *en = ap->attested ? NULL : find(ap->id);
		if (!en)
			continue;
		ap->attested = 1;
		take(&ap->by, en->by);
		take(&ap->at, en->at);
		take(&ap->note, en->note);
		take(&ap->signed_by, en->signed_by);
	}
	pthread_mutex_unlock(&attest_lock);
}

size_t attest_rejudge(struct run_result *r)
{
	size_t changed = 0;
	pthread_mutex_lock(&attest_lock);
	for (size_t p = 0; p < r->nphases; p++)
		for (size_t s = 0; s < r->phases[p].nsteps; s++) {
			struct res_step *st = &r->phases[p].steps[s];
			for (size_t c = 0; c < st->nchecks; c++) {
				struct res_check *k = &st->checks[c];
				const struct attest_entry *en =
				    k->status == RS_PENDING ? find(k->id) : NULL;
				if (!en)
					continue;
				k->status = RS_PASS;
				free(k->message);
				k->message = NULL;
				take(&k->attest_by, en->by);
				take(&k->attest_at, en->at);
				take(&k->attest_note, en->note);
				take(&k->seen, en->signed_by ? en->signed_by : en->by);
				changed++;
			}
		}
	size_t open = 0;
	for (size_t i = 0; i < r->napprovals; i++)
		open += !r->approvals[i].attested;
	pthread_mutex_unlock(&attest_lock);
	attest_judge_approvals(r);
	for (size_t i = 0; i < r->napprovals; i++)
		open -= !r->approvals[i].attested;
	return changed + open;
}
