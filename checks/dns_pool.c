/* dns_pool.c - c-ares channels kept between the dns checks of one run (see
 * dns_pool.h for why and the rules). */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "dns_pool.h"

/* One idle channel and what it was made for. */
struct dns_idle {
	ares_channel ch;
	char *server_csv; /* owned; NULL = the system resolver */
	long long timeout_ms;
	int tries;
	int tcp;
	double made_s; /* now_mono_s() when c-ares made it */
	unsigned uses;
};

struct dns_pool {
	pthread_mutex_t lock; /* guards everything below */
	struct dns_idle idle[DNS_POOL_MAX];
	size_t nidle;
	size_t made; /* channels made through the pool */
};

struct dns_pool *dns_pool_new(void)
{
	struct dns_pool *p = xcalloc(1, sizeof(*p));
	pthread_mutex_init(&p->lock, NULL);
	return p;
}

void dns_pool_free(struct dns_pool *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->nidle; i++) {
		ares_destroy(p->idle[i].ch);
		free(p->idle[i].server_csv);
	}
	pthread_mutex_destroy(&p->lock);
	free(p);
}

static int dns_idle_matches(const struct dns_idle *d, const struct dns_chan_opts *o)
{
	if (d->timeout_ms != o->timeout_ms || d->tries != o->tries || d->tcp != o->tcp)
		return 0;
	if (!d->server_csv || !o->server_csv)
		return d->server_csv == o->server_csv;
	return strcmp(d->server_csv, o->server_csv) == 0;
}

/* A new channel for o. Returns 0 or -1 with e filled. */
static int dns_chan_make(const struct dns_chan_opts *o, ares_channel *out, struct pg_err *e)
{
	struct ares_options opt;
	ares_channel ch = NULL;
	char lookups[] = "b";

	memset(&opt, 0, sizeof(opt));
	opt.timeout = (int)o->timeout_ms;
	opt.tries = o->tries;
	/* NOCHECKRESP: hand SERVFAIL/REFUSED replies to us as they are
	 * instead of treating the server as broken and timing out. STAYOPEN
	 * for UDP only (dns_pool.h). */
	opt.flags = ARES_FLAG_NOCHECKRESP | (o->tcp ? ARES_FLAG_USEVC : ARES_FLAG_STAYOPEN);
	int mask = ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES | ARES_OPT_FLAGS;
	if (o->server_csv) {
		/* With its server named, a query needs nothing of resolv.conf,
		 * nsswitch.conf or host.conf: a channel whose configuration is
		 * complete (servers, search domains, sort list, lookups, ndots)
		 * is made without reading them. The servers are set below. */
		opt.ndots = 1;
		opt.lookups = lookups;
		mask |= ARES_OPT_SERVERS | ARES_OPT_DOMAINS | ARES_OPT_SORTLIST | ARES_OPT_NDOTS |
		        ARES_OPT_LOOKUPS;
	}
	int st = ares_init_options(&ch, &opt, mask);
	if (st != ARES_SUCCESS)
		return pg_error(e, "cannot set up a DNS query (%s): is /etc/resolv.conf readable?",
		                ares_strerror(st));
	if (o->server_csv && (st = ares_set_servers_ports_csv(ch, o->server_csv)) != ARES_SUCCESS) {
		ares_destroy(ch);
		return pg_error(e, "cannot use the DNS server %s: %s", o->server_csv,
		                ares_strerror(st));
	}
	*out = ch;
	return 0;
}

int dns_pool_take(struct dns_pool *p, const struct dns_chan_opts *o, struct dns_chan *c,
                  struct pg_err *e)
{
	ares_channel stale[DNS_POOL_MAX];
	size_t nstale = 0;
	int found = 0;

	if (p) {
		double now = now_mono_s();
		pthread_mutex_lock(&p->lock);
		/* Newest first: the channel most recently given back. */
		for (size_t i = p->nidle; i-- > 0 && !found;) {
			struct dns_idle *d = &p->idle[i];
			if (!dns_idle_matches(d, o))
				continue;
			if (now - d->made_s <= DNS_POOL_MAX_AGE_S) {
				c->ch = d->ch;
				c->made_s = d->made_s;
				c->uses = d->uses;
				found = 1;
			} else {
				stale[nstale++] = d->ch;
			}
			free(d->server_csv);
			memmove(d, d + 1, (p->nidle - i - 1) * sizeof(*d));
			p->nidle--;
		}
		pthread_mutex_unlock(&p->lock);
		for (size_t i = 0; i < nstale; i++)
			ares_destroy(stale[i]);
	}
	/* A fresh socket, so a fresh source port, every DNS_POOL_PORT_USES
	 * queries: setting the servers of an idle channel closes its sockets. */
	if (found && o->server_csv && c->uses % DNS_POOL_PORT_USES == 0 &&
	    ares_set_servers_ports_csv(c->ch, o->server_csv) != ARES_SUCCESS) {
		ares_destroy(c->ch);
		found = 0;
	}
	if (found)
		return 0;
	if (dns_chan_make(o, &c->ch, e) < 0)
		return -1;
	c->made_s = now_mono_s();
	c->uses = 0;
	if (p) {
		pthread_mutex_lock(&p->lock);
		p->made++;
		pthread_mutex_unlock(&p->lock);
	}
	return 0;
}

void dns_pool_give(struct dns_pool *p, const struct dns_chan_opts *o, struct dns_chan *c, int reuse)
{
	ares_channel ch = c->ch;

	c->ch = NULL;
	if (p && reuse && (o->server_csv || c->uses + 1 < DNS_POOL_PORT_USES)) {
		pthread_mutex_lock(&p->lock);
		if (p->nidle < DNS_POOL_MAX) {
			struct dns_idle *d = &p->idle[p->nidle++];
			d->ch = ch;
			d->server_csv = o->server_csv ? xstrdup(o->server_csv) : NULL;
			d->timeout_ms = o->timeout_ms;
			d->tries = o->tries;
			d->tcp = o->tcp;
			d->made_s = c->made_s;
			d->uses = c->uses + 1;
			ch = NULL;
		}
		pthread_mutex_unlock(&p->lock);
	}
	if (ch)
		ares_destroy(ch);
}

void dns_pool_stats(struct dns_pool *p, size_t *idle, size_t *made)
{
	pthread_mutex_lock(&p->lock);
	*idle = p->nidle;
	*made = p->made;
	pthread_mutex_unlock(&p->lock);
}
