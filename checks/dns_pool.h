/* dns_pool.h - c-ares channels kept between the dns checks of one run.
 *
 * Making a channel is most of a lookup's own cost (c-ares seeds its query
 * ids from /dev/urandom, allocates its query tables and, for the system
 * resolver, reads resolv.conf), so a check borrows a channel made for the
 * same server and options, and hands it back when its query ended with a
 * reply. c-ares 1.18 channels must not be used by two threads at once: a
 * channel is held by one check at a time, so the pool needs no thread
 * support in c-ares, and as many channels per key exist as checks of that
 * key run at once. The pool keeps at most DNS_POOL_MAX idle channels and
 * reuses none made more than DNS_POOL_MAX_AGE_S ago (the system resolver's
 * configuration is read again then).
 *
 * A UDP channel keeps its socket open between checks (c-ares' STAYOPEN),
 * which saves a socket, a connect and a close per query. The price is a
 * source port shared by the channel's queries, which makes an off-path
 * forger's guess easier: a socket serves at most DNS_POOL_PORT_USES
 * queries (the pool then sets the channel's server again, which closes it,
 * or destroys a system-resolver channel). A TCP channel closes its connection
 * after each query: a server may close an idle connection, and c-ares
 * would count that against the next query's tries. */
#ifndef PHASEGATE_DNS_POOL_H
#define PHASEGATE_DNS_POOL_H

#include <ares.h>

#include "util.h"

#define DNS_POOL_MAX 64
#define DNS_POOL_MAX_AGE_S 30.0
#define DNS_POOL_PORT_USES 16

/* What a channel is made for; a borrowed channel matches all of it. */
struct dns_chan_opts {
	const char *server_csv; /* borrowed; NULL = the system resolver */
	long long timeout_ms;   /* per try */
	int tries;
	int tcp;
};

/* A borrowed channel. */
struct dns_chan {
	ares_channel ch;
	double made_s; /* now_mono_s() when c-ares made it */
	unsigned uses; /* queries it served before this one */
};

struct dns_pool;

/* An empty pool; free with dns_pool_free once every channel is back. */
struct dns_pool *dns_pool_new(void);
/* Destroys the idle channels and the pool; NULL is fine. */
void dns_pool_free(struct dns_pool *p);

/* Fills *c with an idle channel made for o, or a new one. p may be NULL
 * (a channel of its own). The caller holds the channel alone until
 * dns_pool_give. Returns 0, or -1 with e saying why c-ares refused. */
int dns_pool_take(struct dns_pool *p, const struct dns_chan_opts *o, struct dns_chan *c,
                  struct pg_err *e);

/* Hands c's channel back: kept for the next check of the same options when
 * reuse is set (the channel has no query left and nothing of it may reach
 * the next one), else destroyed. Always takes ownership of the channel. */
void dns_pool_give(struct dns_pool *p, const struct dns_chan_opts *o, struct dns_chan *c,
                   int reuse);

/* Idle channels and channels made so far (for tests). */
void dns_pool_stats(struct dns_pool *p, size_t *idle, size_t *made);

#endif
