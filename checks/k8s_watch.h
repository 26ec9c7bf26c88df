/* k8s_watch.h - eventually: waits on Kubernetes objects through the watch
 * API instead of polling. One watch per collection (resource type,
 * namespace and selectors) is shared by every check waiting on it; a
 * thread of the run keeps it as client-go's reflector does: a list, a
 * watch from the list's resourceVersion, resumed from the last version
 * seen when a stream ends, a fresh list when the server says that version
 * expired (410 Gone, or an ERROR event with code 410). Where watching is
 * forbidden (403) or keeps failing, the waiting checks poll instead.
 *
 * A check's attempt reads what it reads (k8s_watch_note); between two
 * attempts the wait blocks until the object, or the list, differs from
 * what the attempt saw (k8s_watch_wait); the attempt after a change reads
 * the watch's copy instead of asking the server (k8s_watch_cached). The
 * attempt at the deadline asks the server again.
 *
 * Bounded: at most K8S_WATCH_MAX_COLLECTIONS watches at once, events of at
 * most K8S_WATCH_MAX_EVENT bytes, K8S_WATCH_MAX_OBJECTS objects a watch,
 * K8S_WATCH_MAX_FAILURES failures in a row and K8S_WATCH_MAX_STREAMS
 * requests a watch; past a bound the waiters poll. A watch nobody has
 * waited on for K8S_WATCH_LINGER_MS ends.
 *
 * Ownership: struct k8s_watches is made by k8s_watches_new and freed (its
 * threads stopped and joined) by k8s_watches_free, before the client it
 * borrows. A struct k8s_watch_sub lives in a check's parsed config, is
 * used by one check (whose attempts never overlap) and released with
 * k8s_watch_sub_release. */
#ifndef PHASEGATE_K8S_WATCH_H
#define PHASEGATE_K8S_WATCH_H

#include <jansson.h>

#include "k8s_api.h"
#include "module.h"

#define K8S_WATCH_MAX_COLLECTIONS 64
#define K8S_WATCH_MAX_EVENT (16u << 20)
#define K8S_WATCH_MAX_OBJECTS 200000
#define K8S_WATCH_MAX_FAILURES 5
#define K8S_WATCH_MAX_STREAMS 10000
#define K8S_WATCH_TIMEOUT_S 300 /* the server ends one watch request after this */
#define K8S_WATCH_LINGER_MS 30000

struct k8s_watches;
struct k8s_wcoll;

/* What one check's last attempt read. */
struct k8s_watch_sub {
	const struct k8s_res *res; /* borrowed (lives as long as the client); NULL = nothing */
	const char *ns;            /* borrowed (the check's or the client's); NULL = every one */
	const char *name;          /* borrowed (the check's); NULL = a list */
	char *query;               /* owned: a list's selector query, or NULL */
	char *seen;             /* owned: the resourceVersion seen ("" absent), a list's digest */
	struct k8s_wcoll *coll; /* borrowed: the watch of the last wait */
	int fresh;              /* the last wait saw a change: read the watch's copy */
};

struct k8s_watches *k8s_watches_new(struct k8s_client *cl);
void k8s_watches_free(struct k8s_watches *w);

/* Records what an attempt read: one object (name set; obj NULL when it
 * does not exist) or a list (name NULL, obj the items, query its
 * selectors or NULL). The strings given are borrowed until the next note
 * and must outlive the sub: the check's config, the client's. */
void k8s_watch_note(struct k8s_watch_sub *s, const struct k8s_res *res, const char *ns,
                    const char *name, const char *query, const json_t *obj);
/* The last attempt read nothing reliable (it failed): the next wait polls. */
void k8s_watch_forget(struct k8s_watch_sub *s);
void k8s_watch_sub_release(struct k8s_watch_sub *s);

/* Blocks until what the last attempt read differs in the watch's copy,
 * until deadline_ms (monotonic) or until the run is interrupted: 1 changed,
 * 0 deadline or interrupted, -1 at once when this check cannot wait by
 * watching (nothing noted, watching forbidden or failing, too many
 * watches): the caller polls. */
int k8s_watch_wait(struct k8s_watches *w, struct check_ctx *ctx, struct k8s_watch_sub *s,
                   long long deadline_ms);

/* After a wait that saw a change: 1 with *out a copy of what the attempt
 * reads from the watch (the object, NULL when absent; for a list, an array
 * of the items in the server's order), else 0: ask the server. Once per
 * wait. */
int k8s_watch_cached(struct k8s_watches *w, struct k8s_watch_sub *s, json_t **out);

/* The stream reader under a watch: splits a byte stream into JSON values
 * by their brackets (outside strings), whatever separates them (the API
 * server writes one a line; a proxy may join or split them) and hands
 * each complete value to on_value (1 from it stops the reader). Bounded:
 * a value longer than max bytes, or bytes between values that do not open
 * an object, stop it with error set. */
struct k8s_watch_reader {
	struct buf value; /* the value being read */
	int depth, in_str, esc;
	size_t max;
	int (*on_value)(void *arg, const char *text, size_t len);
	void *arg;
	char *error;  /* owned: why the reader stopped by itself, or NULL */
	int too_long; /* ... because a value was longer than max */
};
void k8s_watch_reader_init(struct k8s_watch_reader *r, size_t max,
                           int (*on_value)(void *arg, const char *text, size_t len), void *arg);
/* 0: read on; 1: stopped (by on_value, or with r->error). */
int k8s_watch_reader_feed(struct k8s_watch_reader *r, const char *data, size_t len);
void k8s_watch_reader_release(struct k8s_watch_reader *r);

#endif
