/* promtext.h - a parser for the Prometheus text exposition format (0.0.4),
 * used by the prometheus module's scrape: it turns a /metrics body into facts
 * that jq can filter by metric name and labels.
 *
 * Accepted: comments, # HELP and # TYPE lines (HELP escapes \\ and \n), the
 * types counter, gauge, histogram, summary, untyped (and OpenMetrics' unknown,
 * info, stateset, gaugehistogram), samples with labels (escapes \\ \" \n, a
 * trailing comma), values as floats including NaN, +Inf and -Inf, optional
 * millisecond timestamps, blank lines, CRLF line ends.
 *
 * Facts made (one JSON object):
 *   metrics:  {"<sample name>": [{labels: {...}, value, timestamp?}]}
 *             histograms and summaries keep their _bucket/_sum/_count
 *             samples under those names, with le/quantile labels
 *   families: {"<name>": {type, help}}   from the TYPE and HELP lines
 *   series:   [{name, labels, value, timestamp?}] every sample, in order
 *   samples:  the number of samples
 * Values that JSON cannot hold (NaN, +Inf, -Inf) are the strings "NaN",
 * "+Inf" and "-Inf". */
#ifndef PHASEGATE_PROMTEXT_H
#define PHASEGATE_PROMTEXT_H

#include <jansson.h>
#include <stddef.h>

#include "util.h"

/* Bounds on one parse: at most max_samples samples (0 = PROMTEXT_MAX_SAMPLES;
 * each becomes two small JSON objects, so two million samples in 8 MB of
 * text would take gigabytes), and keep_going (may be NULL), called every
 * 4096 lines, returns -1 with its e filled to stop (a deadline, an
 * interrupted run). */
#define PROMTEXT_MAX_SAMPLES 200000
struct promtext_limits {
	size_t max_samples;
	int (*keep_going)(void *arg, struct pg_err *e);
	void *arg;
};

/* Parses text[0..len) within lim (NULL = the defaults). Returns 0 and sets
 * *out (a new reference the caller releases with json_decref), or -1 with
 * *line set to the 1-based line of the first problem and e holding what is
 * wrong with it (without the line number), e.g. "expected a value after the
 * metric name". */
int promtext_parse(const char *text, size_t len, const struct promtext_limits *lim, json_t **out,
                   unsigned *line, struct pg_err *e);

/* A float value as facts hold it: a number, or "NaN" / "+Inf" / "-Inf". */
json_t *promtext_value_json(double v);

#endif
