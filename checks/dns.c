/* dns.c - the dns check module: one DNS query (A, AAAA, CNAME, TXT, SRV, NS,
 * MX, PTR) against the system resolver or a given server, through c-ares.
 *
 * Facts: {name, type, server, transport, rcode, authoritative, truncated,
 * answers: [{name, type, ttl, value, ...}], values: [...], count,
 * latency_ms, explain?}. values holds the answers of the queried type in
 * the form `dig +short` prints them; count is their number. NXDOMAIN,
 * SERVFAIL and REFUSED are facts (the default expectation fails on them)
 * with a sentence in explain; a query nobody answers is an error.
 *
 * A check borrows a c-ares channel from the run's pool (dns_pool.h: one
 * check at a time per channel, reused by the next check of the same server
 * and options) and drives it with poll() until the answer, the c-ares
 * timeout, the check deadline or cancellation. */
#include <ares.h>
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "dns_pool.h"
#include "module.h"

#define DNS_DEFAULT_TIMEOUT_MS 2000
#define DNS_DEFAULT_TRIES 2

/* The parsed config of one check. */
struct dns_cfg {
	char *name;           /* owned: the name as written */
	char *qname;          /* owned: the name queried (PTR: the reverse name) */
	int qtype;            /* ns_t_a, ... */
	const char *type;     /* static: "A", ... */
	char *server;         /* owned: "host:port" as shown, NULL = system resolver */
	char *server_csv;     /* owned: the form ares_set_servers_ports_csv takes */
	long long timeout_ms; /* per try */
	int tries;
	int tcp;
};

static const struct {
	const char *name;
	int type;
} dns_types[] = {
    {"A", ns_t_a},     {"AAAA", ns_t_aaaa}, {"CNAME", ns_t_cname},
    {"TXT", ns_t_txt}, {"SRV", ns_t_srv},   {"NS", ns_t_ns},
    {"MX", ns_t_mx},   {"PTR", ns_t_ptr},   {"SOA", ns_t_soa},
};
#define DNS_NTYPES (sizeof(dns_types) / sizeof(dns_types[0]))

static const struct key_spec dns_keys[] = {
    {"name", KT_STR, KEY_REQUIRED, "the name to look up (for PTR also an IP address)"},
    {"type", KT_STR, 0, "A (default), AAAA, CNAME, TXT, SRV, NS, MX, PTR or SOA"},
    {"server", KT_STR, 0,
     "host:port of the DNS server (an IP address); default: the system resolver"},
    {"timeout", KT_DURATION, 0, "time to wait for an answer, per try (default 2s)"},
    {"tries", KT_INT, 0, "how many times to send the query (default 2)"},
    {"tcp", KT_BOOL, 0, "query over TCP instead of UDP (default false)"},
    {NULL, 0, 0, NULL},
};

static const char *dns_type_name(int type, char tmp[16])
{
	for (size_t i = 0; i < DNS_NTYPES; i++)
		if (dns_types[i].type == type)
			return dns_types[i].name;
	snprintf(tmp, 16, "TYPE%d", type);
	return tmp;
}

static const char *dns_rcode_name(int rcode, char tmp[16])
{
	static const char *const names[] = {
	    "NOERROR",  "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP",  "REFUSED",
	    "YXDOMAIN", "YXRRSET", "NXRRSET",  "NOTAUTH",  "NOTZONE",
	};
	if (rcode >= 0 && rcode < (int)(sizeof(names) / sizeof(names[0])))
		return names[rcode];
	snprintf(tmp, 16, "RCODE%d", rcode);
	return tmp;
}

/* The reverse-lookup name for an IP address, or NULL when s is not one. */
static char *dns_reverse_name(const char *s)
{
	unsigned char a[16];
	if (inet_pton(AF_INET, s, a) == 1)
		return xasprintf("%u.%u.%u.%u.in-addr.arpa", a[3], a[2], a[1], a[0]);
	if (inet_pton(AF_INET6, s, a) != 1)
		return NULL;
	static const char hex[] = "0123456789abcdef";
	struct buf b;
	buf_init(&b, 0);
	for (int i = 15; i >= 0; i--) {
		char nib[4] = {hex[a[i] & 0xf], '.', hex[a[i] >> 4], '.'};
		buf_add(&b, nib, sizeof(nib));
	}
	buf_adds(&b, "ip6.arpa");
	return buf_detach(&b);
}

/* "1.2.3.4", "1.2.3.4:5353", "[::1]:5353", "::1" -> "host:port" for display
 * and the CSV form c-ares takes. Returns 0 or -1 with a message in e. */
static int dns_parse_server(const char *s, char **shown, char **csv, struct pg_err *e)
{
	char host[64];
	long long port = 53;
	const char *colon = strrchr(s, ':');
	const char *hs = s;
	size_t hlen;
	unsigned char addr[16];
	int v6 = 0;

	if (s[0] == '[') {
		const char *close = strchr(s, ']');
		if (!close)
			return pg_error(e, "'%s' is not host:port ('[' without ']')", s);
		hs = s + 1;
		hlen = (size_t)(close - hs);
		if (close[1] == ':') {
			if (parse_ll(close + 2, &port) < 0)
				return pg_error(e, "'%s': the port is not a number", s);
		} else if (close[1] != 0) {
			return pg_error(e, "'%s' is not host:port", s);
		}
		v6 = 1;
	} else if (colon && strchr(s, ':') == colon) {
		hlen = (size_t)(colon - s);
		if (parse_ll(colon + 1, &port) < 0)
			return pg_error(e, "'%s': the port is not a number", s);
	} else {
		hlen = strlen(s); /* no port, or a bare IPv6 address */
		v6 = colon != NULL;
	}
	if (port < 1 || port > 65535)
		return pg_error(e, "'%s': the port must be between 1 and 65535", s);
	if (hlen == 0 || hlen >= sizeof(host))
		return pg_error(e, "'%s' has no valid host", s);
	memcpy(host, hs, hlen);
	host[hlen] = 0;
	if (inet_pton(v6 ? AF_INET6 : AF_INET, host, addr) != 1)
		return pg_error(e,
		                "'%s' is not an IP address: give the DNS server as an IPv4 or "
		                "[IPv6] address with an optional :port",
		                host);
	if (v6) {
		*shown = xasprintf("[%s]:%lld", host, port);
		*csv = xstrdup(*shown);
	} else {
		*shown = xasprintf("%s:%lld", host, port);
		*csv = xstrdup(*shown);
	}
	return 0;
}

static void dns_free(void *priv)
{
	struct dns_cfg *c = priv;
	if (!c)
		return;
	free(c->name);
	free(c->qname);
	free(c->server);
	free(c->server_csv);
	free(c);
}

static int dns_parse(const struct node *cfg, void *state, void **priv, struct diags *d)
{
	struct dns_cfg *c = xcalloc(1, sizeof(*c));
	const char *type = cfg_str(cfg, "type", "A");
	const char *server = cfg_str(cfg, "server", NULL);
	size_t i;
	int rc = 0;

	c->name = xstrdup(cfg_str(cfg, "name", ""));
	for (i = 0; i < DNS_NTYPES; i++)
		if (strcasecmp(type, dns_types[i].name) == 0)
			break;
	if (i == DNS_NTYPES) {
		rc = diag_at(
		    d, cfg_node(cfg, "type"),
		    "unknown DNS record type '%s' (A, AAAA, CNAME, TXT, SRV, NS, MX, PTR or SOA)",
		    type);
	} else {
		c->qtype = dns_types[i].type;
		c->type = dns_types[i].name;
	}
	if (c->name[0] == 0 && !node_is_deferred(cfg_node(cfg, "name")))
		rc = diag_at(d, cfg_node(cfg, "name"), "the name to look up is empty");
	if (c->qtype == ns_t_ptr)
		c->qname = dns_reverse_name(c->name);
	if (!c->qname)
		c->qname = xstrdup(c->name);
	if (server && !node_is_deferred(cfg_node(cfg, "server"))) {
		struct pg_err e;
		if (dns_parse_server(server, &c->server, &c->server_csv, &e) < 0)
			rc = diag_at(d, cfg_node(cfg, "server"), "%s", e.msg);
	}
	c->timeout_ms = cfg_duration_ms(cfg, "timeout", DNS_DEFAULT_TIMEOUT_MS);
	if (c->timeout_ms <= 0)
		rc = diag_at(d, cfg_node(cfg, "timeout"), "the timeout must be more than 0");
	long long tries = cfg_int(cfg, "tries", DNS_DEFAULT_TRIES);
	if (tries < 1 || tries > 10)
		rc = diag_at(d, cfg_node(cfg, "tries"), "tries must be between 1 and 10");
	c->tries = (int)tries;
	c->tcp = cfg_bool(cfg, "tcp", 0);
	if (rc < 0) {
		dns_free(c);
		return -1;
	}
	*priv = c;
	return 0;
}

static char *dns_describe(void *priv)
{
	const struct dns_cfg *c = priv;
	return xasprintf("dns %s %s @%s%s", c->type, c->name,
	                 c->server ? c->server : "system resolver", c->tcp ? " over TCP" : "");
}

/* Character-string data as dig shows it: printable ASCII kept, other bytes
 * as \DDD, so the text is always valid UTF-8 for the facts. */
static void dns_add_text(struct buf *b, const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (p[i] >= 0x20 && p[i] < 0x7f)
			buf_addc(b, (char)p[i]);
		else
			buf_addf(b, "\\%03u", p[i]);
	}
}

/* Expands a (possibly compressed) name at p; returns the text (malloc'd) and
 * its encoded length in *enclen, or NULL when the reply is malformed. */
static char *dns_name_at(const unsigned char *p, const unsigned char *abuf, int alen, long *enclen)
{
	char *s = NULL;
	if (ares_expand_name(p, abuf, alen, &s, enclen) != ARES_SUCCESS)
		return NULL;
	/* The root name expands to "": show it as "." as dig does. */
	char *out = xstrdup(s[0] ? s : ".");
	ares_free_string(s);
	return out;
}

/* Decodes the RDATA of one record into ans (value and the type's fields).
 * Returns 0 or -1 when the data is malformed. */
static int dns_rdata(int type, const unsigned char *p, size_t rdlen, const unsigned char *abuf,
                     int alen, json_t *ans)
{
	char tmp[INET6_ADDRSTRLEN];
	long enclen;
	char *name;
	struct buf b;

	switch (type) {
	case ns_t_a:
	case ns_t_aaaa:
		if (rdlen != (type == ns_t_a ? 4u : 16u))
			return -1;
		inet_ntop(type == ns_t_a ? AF_INET : AF_INET6, p, tmp, sizeof(tmp));
		json_object_set_new(ans, "value", json_string(tmp));
		return 0;
	case ns_t_cname:
	case ns_t_ns:
	case ns_t_ptr:
		name = dns_name_at(p, abuf, alen, &enclen);
		if (!name)
			return -1;
		json_object_set_new(ans, "value", json_string(name));
		free(name);
		return 0;
	case ns_t_mx:
		if (rdlen < 3)
			return -1;
		name = dns_name_at(p + 2, abuf, alen, &enclen);
		if (!name)
			return -1;
		json_object_set_new(ans, "preference", json_integer((p[0] << 8) | p[1]));
		json_object_set_new(ans, "exchange", json_string(name));
		{
			char *v = xasprintf("%d %s", (p[0] << 8) | p[1], name);
			json_object_set_new(ans, "value", json_string(v));
			free(v);
		}
		free(name);
		return 0;
	case ns_t_srv:
		if (rdlen < 7)
			return -1;
		name = dns_name_at(p + 6, abuf, alen, &enclen);
		if (!name)
			return -1;
		{
			int prio = (p[0] << 8) | p[1], weight = (p[2] << 8) | p[3],
			    port = (p[4] << 8) | p[5];
			json_object_set_new(ans, "priority", json_integer(prio));
			json_object_set_new(ans, "weight", json_integer(weight));
			json_object_set_new(ans, "port", json_integer(port));
			json_object_set_new(ans, "target", json_string(name));
			char *v = xasprintf("%d %d %d %s", prio, weight, port, name);
			json_object_set_new(ans, "value", json_string(v));
			free(v);
		}
		free(name);
		return 0;
	case ns_t_txt: {
		json_t *strings = json_array();
		size_t i = 0;
		buf_init(&b, 0);
		while (i < rdlen) {
			size_t n = p[i++];
			if (i + n > rdlen) {
				buf_release(&b);
				json_decref(strings);
				return -1;
			}
			struct buf one;
			buf_init(&one, 0);
			dns_add_text(&one, p + i, n);
			json_array_append_new(strings, json_string(buf_str(&one)));
			buf_add(&b, one.data ? one.data : "", one.len);
			buf_release(&one);
			i += n;
		}
		json_object_set_new(ans, "value", json_string(buf_str(&b)));
		json_object_set_new(ans, "strings", strings);
		buf_release(&b);
		return 0;
	}
	case ns_t_soa: {
		long len2;
		char *mname = dns_name_at(p, abuf, alen, &enclen);
		if (!mname)
			return -1;
		char *rname =
		    (size_t)enclen < rdlen ? dns_name_at(p + enclen, abuf, alen, &len2) : NULL;
		if (!rname || (size_t)(enclen + len2 + 20) > rdlen) {
			free(mname);
			free(rname);
			return -1;
		}
		const unsigned char *q = p + enclen + len2;
		unsigned long v[5];
		for (int i = 0; i < 5; i++)
			v[i] = ((unsigned long)q[4 * i] << 24) |
			       ((unsigned long)q[4 * i + 1] << 16) |
			       ((unsigned long)q[4 * i + 2] << 8) | q[4 * i + 3];
		json_object_set_new(ans, "mname", json_string(mname));
		json_object_set_new(ans, "rname", json_string(rname));
		json_object_set_new(ans, "serial", json_integer((json_int_t)v[0]));
		char *s = xasprintf("%s %s %lu %lu %lu %lu %lu", mname, rname, v[0], v[1], v[2],
		                    v[3], v[4]);
		json_object_set_new(ans, "value", json_string(s));
		free(s);
		free(mname);
		free(rname);
		return 0;
	}
	default:
		buf_init(&b, 0);
		buf_addf(&b, "\\# %zu", rdlen);
		json_object_set_new(ans, "value", json_string(buf_str(&b)));
		buf_release(&b);
		return 0;
	}
}

/* Exported for tests/net/dns/reply_test.c: fills facts with rcode,
 * authoritative, truncated, answers, values and count from a raw DNS reply
 * to a query of type qtype. Returns 0, or -1 with e filled when the reply is
 * malformed. */
int dns_reply_facts(const unsigned char *abuf, int alen, int qtype, json_t *facts,
                    struct pg_err *e);
int dns_reply_facts(const unsigned char *abuf, int alen, int qtype, json_t *facts, struct pg_err *e)
{
	char tmp[16];
	const unsigned char *p, *end;
	json_t *answers = NULL, *values = NULL;
	int rc = -1;

	if (alen < NS_HFIXEDSZ)
		return pg_error(e, "the reply is too short to be DNS (%d bytes)", alen);
	end = abuf + alen;
	int rcode = abuf[3] & 0x0f;
	unsigned qd = (abuf[4] << 8) | abuf[5], an = (abuf[6] << 8) | abuf[7];
	p = abuf + NS_HFIXEDSZ;
	for (unsigned i = 0; i < qd; i++) {
		char *s = NULL;
		long enclen;
		if (ares_expand_name(p, abuf, alen, &s, &enclen) != ARES_SUCCESS)
			return pg_error(e, "the reply's question section is malformed");
		ares_free_string(s);
		p += enclen;
		if (end - p < NS_QFIXEDSZ)
			return pg_error(e, "the reply's question section is cut short");
		p += NS_QFIXEDSZ;
	}

	answers = json_array();
	values = json_array();
	for (unsigned i = 0; i < an; i++) {
		long enclen;
		char *rrname = dns_name_at(p, abuf, alen, &enclen);
		if (!rrname) {
			pg_error(e, "answer %u of the reply has a malformed name", i + 1);
			goto out;
		}
		p += enclen;
		if (end - p < NS_RRFIXEDSZ) {
			free(rrname);
			pg_error(e, "answer %u of the reply is cut short", i + 1);
			goto out;
		}
		int type = (p[0] << 8) | p[1];
		unsigned long ttl = ((unsigned long)p[4] << 24) | ((unsigned long)p[5] << 16) |
		                    ((unsigned long)p[6] << 8) | p[7];
		size_t rdlen = (size_t)((p[8] << 8) | p[9]);
		p += NS_RRFIXEDSZ;
		if ((size_t)(end - p) < rdlen) {
			free(rrname);
			pg_error(e, "answer %u of the reply is cut short", i + 1);
			goto out;
		}
		json_t *ans = json_object();
		json_object_set_new(ans, "name", json_string(rrname));
		json_object_set_new(ans, "type", json_string(dns_type_name(type, tmp)));
		json_object_set_new(ans, "ttl", json_integer((json_int_t)ttl));
		free(rrname);
		if (dns_rdata(type, p, rdlen, abuf, alen, ans) < 0) {
			json_decref(ans);
			pg_error(e, "answer %u of the reply (%s) has malformed data", i + 1,
			         dns_type_name(type, tmp));
			goto out;
		}
		if (type == qtype)
			json_array_append(values, json_object_get(ans, "value"));
		json_array_append_new(answers, ans);
		p += rdlen;
	}
	json_object_set_new(facts, "rcode", json_string(dns_rcode_name(rcode, tmp)));
	json_object_set_new(facts, "authoritative", json_boolean(abuf[2] & 0x04));
	json_object_set_new(facts, "truncated", json_boolean(abuf[2] & 0x02));
	json_object_set_new(facts, "count", json_integer((json_int_t)json_array_size(values)));
	json_object_set(facts, "answers", answers);
	json_object_set(facts, "values", values);
	rc = 0;
out:
	json_decref(answers);
	json_decref(values);
	return rc;
}

/* One sentence for an answer that is not a plain success, or NULL. */
static char *dns_explain(const char *rcode, long long count, const char *type)
{
	if (strcmp(rcode, "NXDOMAIN") == 0)
		return xstrdup("the name does not exist (NXDOMAIN)");
	if (strcmp(rcode, "REFUSED") == 0)
		return xstrdup("the server refused to answer for this zone (REFUSED): it is not "
		               "authoritative and does not recurse for you");
	if (strcmp(rcode, "SERVFAIL") == 0)
		return xstrdup(
		    "the server failed to answer (SERVFAIL): the zone or an upstream server "
		    "is broken or unreachable, or DNSSEC validation failed");
	if (strcmp(rcode, "NOERROR") != 0)
		return xasprintf("the server answered with the error %s", rcode);
	if (count == 0)
		return xasprintf("the name exists but has no %s record (NODATA)", type);
	return NULL;
}

/* What the c-ares callback hands back to run(). */
struct dns_query {
	int done;
	int status; /* ARES_* */
	int timeouts;
	unsigned char *abuf; /* owned copy of the reply, or NULL */
	int alen;
	double end_s;
	long received; /* datagrams or reads that brought bytes (any bytes) */
	int streams;   /* TCP connections opened (a UDP query retried over TCP) */
};

/* c-ares' socket calls, as the system makes them, counting what arrives
 * (a server that answers only with bytes c-ares cannot take as the reply,
 * garbage or a reply to another question, is told from a silent one) and
 * the TCP connections a UDP channel opens (dns_run then does not keep it). */
static ares_socket_t dns_socket(int domain, int type, int protocol, void *user)
{
	struct dns_query *q = user;
	if (q && type == SOCK_STREAM)
		q->streams++;
	/* non-blocking, as c-ares makes its own sockets: it does not configure
	 * one it is handed */
	return socket(domain, type | SOCK_CLOEXEC | SOCK_NONBLOCK, protocol);
}

static int dns_close(ares_socket_t fd, void *user)
{
	(void)user;
	return close(fd);
}

static int dns_connect(ares_socket_t fd, const struct sockaddr *sa, ares_socklen_t len, void *user)
{
	(void)user;
	return connect(fd, sa, len);
}

static ares_ssize_t dns_recvfrom(ares_socket_t fd, void *buf, size_t len, int flags,
                                 struct sockaddr *from, ares_socklen_t *fromlen, void *user)
{
	struct dns_query *q = user; /* NULL while the channel is idle */
	/* Once the reply is in, c-ares would read on until the socket is
	 * empty: that costs a call per query, and what else came (a stray
	 * duplicate) is the next query's to drop by its id. */
	if (q && q->done) {
		errno = EAGAIN;
		return -1;
	}
	ssize_t n = recvfrom(fd, buf, len, flags, from, fromlen);
	if (n > 0 && q)
		q->received++;
	return n;
}

static ares_ssize_t dns_sendv(ares_socket_t fd, const struct iovec *iov, int n, void *user)
{
	(void)user;
	return writev(fd, iov, n);
}

static const struct ares_socket_functions dns_socket_calls = {
    .asocket = dns_socket,
    .aclose = dns_close,
    .aconnect = dns_connect,
    .arecvfrom = dns_recvfrom,
    .asendv = dns_sendv,
};

static void dns_callback(void *arg, int status, int timeouts, unsigned char *abuf, int alen)
{
	struct dns_query *q = arg;
	q->done = 1;
	q->status = status;
	q->timeouts = timeouts;
	q->end_s = now_mono_s();
	if (abuf && alen > 0) {
		q->abuf = xmalloc((size_t)alen);
		memcpy(q->abuf, abuf, (size_t)alen);
		q->alen = alen;
	}
}

static pthread_once_t dns_once = PTHREAD_ONCE_INIT;
static int dns_lib_status;

static void dns_lib_init(void)
{
	dns_lib_status = ares_library_init(ARES_LIB_INIT_ALL);
}

/* Drives the channel until the query is done, the deadline passes or the
 * run is cancelled (then the query is cancelled: the callback still runs). */
static void dns_wait(ares_channel ch, struct dns_query *q, struct check_ctx *ctx, int *deadline)
{
	while (!q->done) {
		long long rem = ctx_remaining_ms(ctx);
		if (ctx_cancelled(ctx) || rem <= 0) {
			*deadline = rem <= 0;
			ares_cancel(ch);
			break;
		}
		ares_socket_t socks[ARES_GETSOCK_MAXNUM];
		struct pollfd pfd[ARES_GETSOCK_MAXNUM];
		/* The bits are read as unsigned: ARES_GETSOCK_WRITABLE shifts
		 * a signed 1 into the sign bit. */
		unsigned bits = (unsigned)ares_getsock(ch, socks, ARES_GETSOCK_MAXNUM);
		nfds_t n = 0;
		for (unsigned i = 0; i < ARES_GETSOCK_MAXNUM; i++) {
			short ev = 0;
			if (bits & (1u << i))
				ev |= POLLIN;
			if (bits & (1u << (i + ARES_GETSOCK_MAXNUM)))
				ev |= POLLOUT;
			if (!ev)
				continue;
			pfd[n].fd = socks[i];
			pfd[n].events = ev;
			pfd[n].revents = 0;
			n++;
		}
		/* Wake at the next c-ares timeout, and at least every 100 ms
		 * to notice cancellation. */
		struct timeval maxtv = {0, (rem < 100 ? rem : 100) * 1000}, tv;
		struct timeval *tvp = ares_timeout(ch, &maxtv, &tv);
		int wait_ms = (int)(tvp->tv_sec * 1000 + tvp->tv_usec / 1000);
		int r = poll(pfd, n, wait_ms);
		if (r <= 0) {
			ares_process_fd(ch, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
			continue;
		}
		for (nfds_t i = 0; i < n && !q->done; i++) {
			if (!pfd[i].revents)
				continue;
			ares_socket_t rfd = (pfd[i].revents & (POLLIN | POLLERR | POLLHUP))
			                        ? pfd[i].fd
			                        : ARES_SOCKET_BAD;
			ares_socket_t wfd =
			    (pfd[i].revents & (POLLOUT | POLLERR)) ? pfd[i].fd : ARES_SOCKET_BAD;
			ares_process_fd(ch, rfd, wfd);
		}
	}
}

/* The run's channel pool (module state): made before the suite's checks
 * are parsed, freed after the last has run. */
static int dns_init(const struct node *settings, void **state, struct diags *d)
{
	static const struct key_spec none[] = {{NULL, 0, 0, NULL}};
	if (settings && keys_validate(settings, none, "modules.dns", d) > 0)
		return -1;
	*state = dns_pool_new();
	return 0;
}

static void dns_fini(void *state)
{
	dns_pool_free(state);
}

static void dns_run(void *priv, struct check_ctx *ctx, struct check_out *out)
{
	const struct dns_cfg *c = priv;
	const char *where = c->server ? c->server : "the system resolver";
	struct dns_pool *pool = ctx_module_state(ctx);
	const struct dns_chan_opts copts = {
	    .server_csv = c->server_csv,
	    .timeout_ms = c->timeout_ms,
	    .tries = c->tries,
	    .tcp = c->tcp,
	};
	struct dns_query q = {0};
	struct dns_chan chan = {0};
	ares_channel ch = NULL;
	struct pg_err err;
	int deadline = 0;
	char *timeout_text = NULL;

	pthread_once(&dns_once, dns_lib_init);
	if (dns_lib_status != ARES_SUCCESS) {
		out->forced = CHECK_ERROR;
		out->error =
		    xasprintf("cannot initialise c-ares: %s", ares_strerror(dns_lib_status));
		return;
	}
	if (dns_pool_take(pool, &copts, &chan, &err) < 0) {
		out->forced = CHECK_ERROR;
		out->error = xstrdup(err.msg);
		return;
	}
	ch = chan.ch;
	ares_set_socket_functions(ch, &dns_socket_calls, &q);

	double start = now_mono_s();
	ares_query(ch, c->qname, ns_c_in, c->qtype, dns_callback, &q);
	dns_wait(ch, &q, ctx, &deadline);
	if (!q.done) /* cannot happen: ares_cancel runs the callback */
		q.status = ARES_ECANCELLED;

	if (!q.abuf) {
		out->forced = CHECK_ERROR;
		switch (q.status) {
		case ARES_ETIMEOUT:
			/* c-ares doubles the wait on each retry to one server: say
			 * how long we really waited. */
			timeout_text = format_duration(
			    ((long long)((q.end_s - start) * 1000) + 50) / 100 * 100);
			if (q.received)
				out->error = xasprintf(
				    "%s sent %ld %s within %s, but no DNS reply to this query "
				    "(malformed data, or replies to other questions): is it a DNS "
				    "server?",
				    where, q.received, q.received == 1 ? "answer" : "answers",
				    timeout_text);
			else
				out->error = xasprintf(
				    "no answer from %s within %s (%d %s): is a DNS server "
				    "listening there?",
				    where, timeout_text, c->tries, c->tries == 1 ? "try" : "tries");
			break;
		case ARES_ECONNREFUSED:
			out->error =
			    xasprintf("nothing listens at %s (connection refused%s): is the DNS "
			              "server running, and is the port right?",
			              where, c->tcp ? " over TCP" : "");
			break;
		case ARES_EBADNAME:
			out->error = xasprintf("'%s' is not a valid DNS name", c->qname);
			break;
		case ARES_ECANCELLED:
		case ARES_EDESTRUCTION:
			out->error =
			    deadline
			        ? xasprintf("no answer from %s before the check's deadline", where)
			        : xstrdup("cancelled");
			break;
		default:
			out->error =
			    xasprintf("the query to %s failed: %s", where, ares_strerror(q.status));
			break;
		}
		goto out;
	}

	json_t *facts = json_object();
	struct pg_err e;
	json_object_set_new(facts, "name", json_string(c->name));
	if (strcmp(c->name, c->qname) != 0)
		json_object_set_new(facts, "query", json_string(c->qname));
	json_object_set_new(facts, "type", json_string(c->type));
	json_object_set_new(facts, "server", json_string(c->server ? c->server : "system"));
	json_object_set_new(facts, "transport", json_string(c->tcp ? "tcp" : "udp"));
	/* Microsecond resolution is plenty and keeps the JSON short. */
	json_object_set_new(facts, "latency_ms", json_real(floor((q.end_s - start) * 1e6) / 1e3));
	if (dns_reply_facts(q.abuf, q.alen, c->qtype, facts, &e) < 0) {
		out->forced = CHECK_ERROR;
		out->error = xasprintf("%s sent a malformed reply: %s", where, e.msg);
		out->facts = facts;
		goto out;
	}
	char *why = dns_explain(json_string_value(json_object_get(facts, "rcode")),
	                        json_integer_value(json_object_get(facts, "count")), c->type);
	if (why) {
		/* Kept with the result when the check does not pass. */
		json_object_set_new(facts, "explain", json_string(why));
		out->evidence = xasprintf("%s %s from %s: %s", c->type, c->qname, where, why);
		free(why);
	}
	out->facts = facts;
out:
	/* Only a channel whose one query was answered at the first try goes
	 * back: after a timeout, a cancellation or an error a late reply or a
	 * socket error could reach the next check's query. Nor does a UDP
	 * channel whose truncated reply made c-ares ask again over TCP: it
	 * would keep that connection open (STAYOPEN) for a server to close. */
	ares_set_socket_functions(ch, &dns_socket_calls, NULL);
	dns_pool_give(pool, &copts, &chan,
	              q.abuf != NULL && q.timeouts == 0 && (c->tcp || q.streams == 0));
	free(timeout_text);
	free(q.abuf);
}

/* "A argocd.example.org: the name does not exist (NXDOMAIN)" (module.h,
 * summarize). */
static char *dns_summarize(const json_t *f)
{
	const char *name = json_string_value(json_object_get(f, "name"));
	const char *type = json_string_value(json_object_get(f, "type"));
	const char *rcode = json_string_value(json_object_get(f, "rcode"));
	const char *why = json_string_value(json_object_get(f, "explain"));
	if (!name || !rcode)
		return NULL;
	if (why)
		return xasprintf("%s %s: %s", type ? type : "", name, why);
	return xasprintf("%s %s: %s, %lld answer(s)", type ? type : "", name, rcode,
	                 (long long)json_integer_value(json_object_get(f, "count")));
}

const struct check_module check_dns = {
    .name = "dns",
    .summary = "a DNS query (A, AAAA, CNAME, TXT, SRV, NS, MX, PTR) against a given server or the "
               "system resolver",
    .api_version = CHECK_API_VERSION,
    .flags = CHECK_F_READONLY,
    .keys = dns_keys,
    .default_expect = ".rcode == \"NOERROR\" and .count > 0",
    .init = dns_init,
    .fini = dns_fini,
    .parse = dns_parse,
    .run = dns_run,
    .summarize = dns_summarize,
    .describe = dns_describe,
    .free = dns_free,
};
