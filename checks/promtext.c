/* promtext.c - the Prometheus text exposition format parser behind the
 * prometheus module's scrape (see promtext.h for what it accepts and the
 * facts it makes). It works line by line on the body as received, so a
 * problem is always reported with the line it is on. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "promtext.h"

/* A cursor over one line (without its line end). */
struct pt_line {
	const char *p, *end;
};

/* The state of one parse. */
struct pt_parse {
	json_t *metrics; /* borrowed from the facts object */
	json_t *families;
	json_t *series;
	long long samples;
	struct pg_err *e;
};

static int pt_is_name_start(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
}

static int pt_is_name_char(char c)
{
	return pt_is_name_start(c) || (c >= '0' && c <= '9');
}

static void pt_skip_blank(struct pt_line *l)
{
	while (l->p < l->end && (*l->p == ' ' || *l->p == '\t'))
		l->p++;
}

/* A metric name (colons allowed) or, with labels set, a label name. Returns
 * its length (0 when there is none at the cursor). */
static size_t pt_name(struct pt_line *l, int label)
{
	const char *s = l->p;
	if (s >= l->end || !pt_is_name_start(*s) || (label && *s == ':'))
		return 0;
	while (l->p < l->end && pt_is_name_char(*l->p) && !(label && *l->p == ':'))
		l->p++;
	return (size_t)(l->p - s);
}

/* The next blank-separated token; returns its length. */
static size_t pt_token(struct pt_line *l, const char **tok)
{
	pt_skip_blank(l);
	*tok = l->p;
	while (l->p < l->end && *l->p != ' ' && *l->p != '\t')
		l->p++;
	return (size_t)(l->p - *tok);
}

/* A short, printable excerpt of outside text for messages: at most 40
 * bytes, anything but printable ASCII shown as '?', written into out. */
static const char *pt_excerpt(char out[48], const char *s, size_t n)
{
	size_t i;
	if (n > 40)
		n = 40;
	for (i = 0; i < n; i++)
		out[i] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
	out[i] = 0;
	return out;
}

json_t *promtext_value_json(double v)
{
	if (isnan(v))
		return json_string("NaN");
	if (isinf(v))
		return json_string(v > 0 ? "+Inf" : "-Inf");
	/* Integral values stay integers in JSON so that "equals: 3" holds. */
	if (v >= -9007199254740992.0 && v <= 9007199254740992.0 && v == floor(v))
		return json_integer((json_int_t)v);
	return json_real(v);
}

/* Parses a float the way Prometheus does (Go's ParseFloat: NaN, Inf, +Inf,
 * -Inf, decimal and exponent forms). Returns 0 or -1. */
static int pt_float(const char *s, size_t n, double *out)
{
	char tmp[64];
	if (n == 0 || n >= sizeof(tmp))
		return -1;
	memcpy(tmp, s, n);
	tmp[n] = 0;
	char *end = NULL;
	errno = 0;
	double v = strtod(tmp, &end);
	if (end != tmp + n)
		return -1;
	/* strtod also reads hexadecimal floats; Go reads them too, but with a
	 * mandatory exponent. Accepting them is harmless. ERANGE gives +-Inf or
	 * 0, as Go does. */
	*out = v;
	return 0;
}

static int pt_int64(const char *s, size_t n, long long *out)
{
	char tmp[32];
	if (n == 0 || n >= sizeof(tmp))
		return -1;
	memcpy(tmp, s, n);
	tmp[n] = 0;
	return parse_ll(tmp, out);
}

/* Reads a quoted label value at the cursor (just after the opening quote)
 * into b, undoing the escapes. Returns 0 or -1 with e filled. */
static int pt_label_value(struct pt_line *l, struct buf *b, struct pg_err *e)
{
	char x[48];
	while (l->p < l->end) {
		char c = *l->p++;
		if (c == '"')
			return 0;
		if (c != '\\') {
			buf_addc(b, c);
			continue;
		}
		if (l->p >= l->end)
			break;
		c = *l->p++;
		if (c == 'n')
			buf_addc(b, '\n');
		else if (c == '\\' || c == '"')
			buf_addc(b, c);
		else
			return pg_error(e, "invalid escape sequence '\\%s' in a label value",
			                pt_excerpt(x, &c, 1));
	}
	return pg_error(e, "a label value is not closed with '\"'");
}

/* Parses "{name="value",...}" at the cursor (on the '{') into labels. */
static int pt_labels(struct pt_line *l, json_t *labels, struct pg_err *e)
{
	char x[48];
	struct buf val;
	int rc = -1;
	buf_init(&val, 0);
	l->p++; /* '{' */
	for (;;) {
		pt_skip_blank(l);
		if (l->p < l->end && *l->p == '}') {
			l->p++;
			rc = 0;
			break;
		}
		const char *name = l->p;
		size_t nlen = pt_name(l, 1);
		if (nlen == 0) {
			if (l->p >= l->end)
				pg_error(e, "the label set is not closed with '}'");
			else
				pg_error(e, "expected a label name, found '%s'",
				         pt_excerpt(x, l->p, 1));
			break;
		}
		char *key = xstrndup(name, nlen);
		pt_skip_blank(l);
		if (l->p >= l->end || *l->p != '=') {
			pg_error(e, "expected '=' after the label name '%s'", key);
			free(key);
			break;
		}
		l->p++;
		pt_skip_blank(l);
		if (l->p >= l->end || *l->p != '"') {
			pg_error(e, "expected a quoted value for the label '%s'", key);
			free(key);
			break;
		}
		l->p++;
		buf_release(&val);
		buf_init(&val, 0);
		if (pt_label_value(l, &val, e) < 0) {
			free(key);
			break;
		}
		if (json_object_get(labels, key)) {
			pg_error(e, "the label '%s' appears twice", key);
			free(key);
			break;
		}
		json_t *js = json_stringn(buf_str(&val), val.len);
		if (!js) {
			pg_error(e, "the value of the label '%s' is not valid UTF-8", key);
			free(key);
			break;
		}
		json_object_set_new(labels, key, js);
		free(key);
		pt_skip_blank(l);
		if (l->p < l->end && *l->p == ',') {
			l->p++;
			continue;
		}
		if (l->p < l->end && *l->p == '}')
			continue;
		if (l->p >= l->end)
			pg_error(e, "the label set is not closed with '}'");
		else
			pg_error(e, "expected ',' or '}' after a label value");
		break;
	}
	buf_release(&val);
	return rc;
}

static const char *const pt_types[] = {
    "counter", "gauge", "histogram", "summary",        "untyped",
    "unknown", "info",  "stateset",  "gaugehistogram", NULL,
};

/* The family entry for name, made on first use. */
static json_t *pt_family(struct pt_parse *ps, const char *name)
{
	json_t *f = json_object_get(ps->families, name);
	if (!f) {
		f = json_object();
		json_object_set_new(f, "type", json_string("untyped"));
		json_object_set_new(f, "help", json_string(""));
		json_object_set_new(ps->families, name, f);
	}
	return f;
}

/* "# HELP name text" / "# TYPE name type"; other comments are ignored. */
static int pt_comment(struct pt_parse *ps, struct pt_line *l)
{
	char x[48];
	l->p++; /* '#' */
	const char *kw;
	size_t kwlen = pt_token(l, &kw);
	int help = kwlen == 4 && memcmp(kw, "HELP", 4) == 0;
	int type = kwlen == 4 && memcmp(kw, "TYPE", 4) == 0;
	if (!help && !type)
		return 0;
	pt_skip_blank(l);
	const char *name = l->p;
	size_t nlen = pt_name(l, 0);
	if (nlen == 0)
		return pg_error(ps->e, "expected a metric name after '# %s'",
		                help ? "HELP" : "TYPE");
	if (l->p < l->end && *l->p != ' ' && *l->p != '\t')
		return pg_error(ps->e, "invalid character '%s' in the metric name",
		                pt_excerpt(x, l->p, 1));
	char *fname = xstrndup(name, nlen);
	int rc = 0;
	if (help) {
		if (l->p < l->end)
			l->p++; /* exactly one blank separates the name from the text */
		struct buf t;
		buf_init(&t, 0);
		while (l->p < l->end) {
			char c = *l->p++;
			if (c == '\\' && l->p < l->end && (*l->p == '\\' || *l->p == 'n')) {
				buf_addc(&t, *l->p == 'n' ? '\n' : '\\');
				l->p++;
			} else {
				buf_addc(&t, c);
			}
		}
		json_t *js = json_stringn(buf_str(&t), t.len);
		buf_release(&t);
		if (!js)
			rc = pg_error(ps->e, "the HELP text of '%s' is not valid UTF-8", fname);
		else
			json_object_set_new(pt_family(ps, fname), "help", js);
	} else {
		const char *ty;
		size_t tlen = pt_token(l, &ty);
		pt_skip_blank(l);
		size_t i;
		for (i = 0; pt_types[i]; i++)
			if (strlen(pt_types[i]) == tlen && memcmp(pt_types[i], ty, tlen) == 0)
				break;
		json_t *f = json_object_get(ps->families, fname);
		if (tlen == 0)
			rc = pg_error(ps->e, "expected a type after '# TYPE %s'", fname);
		else if (!pt_types[i] || l->p < l->end)
			rc = pg_error(ps->e,
			              "unknown metric type '%s' (counter, gauge, histogram, "
			              "summary or untyped)",
			              pt_excerpt(x, ty, (size_t)(l->end - ty)));
		else if (f && json_is_true(json_object_get(f, "typed")))
			rc = pg_error(ps->e, "a second TYPE line for '%s'", fname);
		else {
			f = pt_family(ps, fname);
			json_object_set_new(f, "type", json_string(pt_types[i]));
			json_object_set_new(f, "typed", json_true());
		}
	}
	free(fname);
	return rc;
}

/* name{labels} value [timestamp] */
static int pt_sample(struct pt_parse *ps, struct pt_line *l)
{
	char x[48];
	const char *name = l->p;
	size_t nlen = pt_name(l, 0);
	if (nlen == 0)
		return pg_error(ps->e, "expected a metric name, found '%s'",
		                pt_excerpt(x, l->p, 1));
	char *mname = xstrndup(name, nlen);
	json_t *labels = json_object();
	json_t *sample = NULL;
	int rc = -1;

	if (l->p < l->end && *l->p != ' ' && *l->p != '\t' && *l->p != '{') {
		pg_error(ps->e, "invalid character '%s' in the metric name",
		         pt_excerpt(x, l->p, 1));
		goto out;
	}
	pt_skip_blank(l);
	if (l->p < l->end && *l->p == '{' && pt_labels(l, labels, ps->e) < 0)
		goto out;
	const char *tok;
	size_t tlen = pt_token(l, &tok);
	double v;
	if (tlen == 0) {
		pg_error(ps->e, "expected a value after the metric name");
		goto out;
	}
	if (pt_float(tok, tlen, &v) < 0) {
		pg_error(ps->e, "invalid value '%s' for '%s'", pt_excerpt(x, tok, tlen), mname);
		goto out;
	}
	sample = json_object();
	json_object_set_new(sample, "name", json_string(mname));
	json_object_set(sample, "labels", labels);
	json_object_set_new(sample, "value", promtext_value_json(v));
	tlen = pt_token(l, &tok);
	if (tlen > 0) {
		long long ts;
		if (pt_int64(tok, tlen, &ts) < 0) {
			pg_error(ps->e, "invalid timestamp '%s' (milliseconds since the epoch)",
			         pt_excerpt(x, tok, tlen));
			goto out;
		}
		json_object_set_new(sample, "timestamp", json_integer(ts));
	}
	pt_skip_blank(l);
	if (l->p < l->end) {
		pg_error(ps->e, "unexpected text after the sample: '%s'",
		         pt_excerpt(x, l->p, (size_t)(l->end - l->p)));
		goto out;
	}

	json_t *list = json_object_get(ps->metrics, mname);
	if (!list) {
		list = json_array();
		json_object_set_new(ps->metrics, mname, list);
	}
	json_t *entry = json_deep_copy(sample);
	json_object_del(entry, "name");
	json_array_append_new(list, entry);
	json_array_append(ps->series, sample);
	ps->samples++;
	rc = 0;
out:
	json_decref(sample);
	json_decref(labels);
	free(mname);
	return rc;
}

int promtext_parse(const char *text, size_t len, const struct promtext_limits *lim, json_t **out,
                   unsigned *line, struct pg_err *e)
{
	size_t max_samples = lim && lim->max_samples ? lim->max_samples : PROMTEXT_MAX_SAMPLES;
	struct pt_parse ps = {
	    .metrics = json_object(),
	    .families = json_object(),
	    .series = json_array(),
	    .e = e,
	};
	const char *p = text, *end = text + len;
	unsigned lineno = 0;
	int rc = 0;

	*out = NULL;
	*line = 0;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = (size_t)((nl ? nl : end) - p);
		lineno++;
		if (n > 0 && p[n - 1] == '\r')
			n--;
		struct pt_line l = {p, p + n};
		if (memchr(p, '\0', n)) {
			rc = pg_error(e,
			              "the line contains a NUL byte (is this a metrics endpoint?)");
		} else {
			pt_skip_blank(&l);
			if (l.p == l.end)
				rc = 0;
			else if (*l.p == '#')
				rc = pt_comment(&ps, &l);
			else
				rc = pt_sample(&ps, &l);
		}
		if (rc == 0 && (size_t)ps.samples > max_samples)
			rc = pg_error(e,
			              "more than %zu samples: phasegate reads at most that many "
			              "(scrape an endpoint that exposes fewer)",
			              max_samples);
		if (rc == 0 && lineno % 4096 == 0 && lim && lim->keep_going &&
		    lim->keep_going(lim->arg, e) < 0)
			rc = -1;
		if (rc < 0) {
			*line = lineno;
			break;
		}
		p = nl ? nl + 1 : end;
	}

	if (rc == 0) {
		/* "typed" only served duplicate detection. */
		const char *k;
		json_t *f;
		json_object_foreach(ps.families, k, f) json_object_del(f, "typed");
		json_t *facts = json_object();
		json_object_set(facts, "metrics", ps.metrics);
		json_object_set(facts, "families", ps.families);
		json_object_set(facts, "series", ps.series);
		json_object_set_new(facts, "samples", json_integer(ps.samples));
		*out = facts;
	}
	json_decref(ps.metrics);
	json_decref(ps.families);
	json_decref(ps.series);
	return rc;
}
