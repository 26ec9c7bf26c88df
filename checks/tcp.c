/* tcp.c - the tcp check module: can host:port be reached? Resolves the name
 * (A and AAAA), tries each address with a non-blocking connect bounded by
 * the check's deadline, optionally sends a line and reads a banner. A
 * refused or unanswered connection is an observation (the check fails with
 * connected=false); only an interrupted run is an error. */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <unistd.h>

#include "module.h"

#define TCP_TICK_MS 100           /* how often ctx_cancelled() is polled */
#define TCP_READ_MAX (64 * 1024)
#define TCP_READ_TIMEOUT_MS 2000

struct tcp_cfg {
	char *host;            /* owned */
	char *port;            /* owned: digits (or a service name) */
	char *send;            /* owned, may be NULL */
	size_t read_bytes;     /* 0: no banner read */
	long long read_timeout_ms;
};

static const struct key_spec tcp_keys[] = {
	{"host", KT_STR, KEY_REQUIRED, "host name or address"},
	{"port", KT_INT, KEY_REQUIRED, "TCP port (1-65535)"},
	{"send", KT_STR, 0, "text sent once connected"},
	{"read_bytes", KT_INT, 0, "read a banner/answer of up to this many bytes"},
	{"read_timeout", KT_DURATION, 0, "how long to wait for the banner (default 2s)"},
	{NULL, KT_ANY, 0, NULL},
};

static void tcp_free(void *priv)
{
	struct tcp_cfg *c = priv;
	if (!c)
		return;
	free(c->host);
	free(c->port);
	free(c->send);
	free(c);
}

static int tcp_parse(const struct node *cfg, void *state, void **priv, struct diags *d)
{
	struct tcp_cfg *c = xcalloc(1, sizeof(*c));
	const struct node *port = cfg_node(cfg, "port");
	const struct node *rb = cfg_node(cfg, "read_bytes");
	const struct node *host = cfg_node(cfg, "host");
	size_t before = d->n;

	c->host = xstrdup(cfg_str(cfg, "host", ""));
	if (host && !node_is_deferred(host) && !*c->host)
		diag_at(d, host, "tcp host: is empty");
	long long p = cfg_int(cfg, "port", 0);
	if (port && !node_is_deferred(port) && (p < 1 || p > 65535))
		diag_at(d, port, "tcp port: must be between 1 and 65535, not %lld", p);
	c->port = xasprintf("%lld", p);
	c->send = xstrdup(cfg_str(cfg, "send", NULL));
	long long n = cfg_int(cfg, "read_bytes", 0);
	if (rb && !node_is_deferred(rb) && (n < 0 || n > TCP_READ_MAX))
		diag_at(d, rb, "tcp read_bytes: must be between 0 and %d", TCP_READ_MAX);
	else
		c->read_bytes = (size_t)n;
	c->read_timeout_ms = cfg_duration_ms(cfg, "read_timeout", TCP_READ_TIMEOUT_MS);
	if (d->n > before) {
		tcp_free(c);
		return -1;
	}
	*priv = c;
	return 0;
}

/* The banner as facts: "banner" is the text when it is valid UTF-8 (null
 * for a binary protocol), "banner_hex" always holds the bytes. */
static void tcp_banner_facts(json_t *facts, const char *data, size_t len)
{
	static const char digits[] = "0123456789abcdef";
	char *hex = xmalloc(2 * len + 1);
	for (size_t i = 0; i < len; i++) {
		hex[2 * i] = digits[(unsigned char)data[i] >> 4];
		hex[2 * i + 1] = digits[(unsigned char)data[i] & 15];
	}
	hex[2 * len] = 0;
	json_t *text = json_stringn(data, len);
	json_object_set_new(facts, "banner", text ? text : json_null());
	json_object_set_new(facts, "banner_hex", json_string(hex));
	free(hex);
}

static char *tcp_addr_text(const struct sockaddr *sa)
{
	char host[INET6_ADDRSTRLEN] = "?";
	int port = 0;
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
		inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
		port = ntohs(in->sin_port);
		return xasprintf("%s:%d", host, port);
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
		inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
		port = ntohs(in6->sin6_port);
	}
	return xasprintf("[%s]:%d", host, port);
}

/* Waits until fd is ready for events or until the deadline (monotonic ms)
 * or cancellation. Returns 1 ready, 0 deadline, -1 cancelled. */
static int tcp_wait(int fd, short events, long long deadline, struct check_ctx *ctx)
{
	for (;;) {
		if (ctx_cancelled(ctx))
			return -1;
		long long left = deadline - now_mono_ms();
		if (left <= 0)
			return 0;
		struct pollfd p = {.fd = fd, .events = events};
		int r = poll(&p, 1, (int)(left < TCP_TICK_MS ? left : TCP_TICK_MS));
		if (r > 0)
			return 1;
		if (r < 0 && errno != EINTR)
			return 1; /* let the next call report the error */
	}
}

static const char *tcp_errtext(int err)
{
	switch (err) {
	case ECONNREFUSED:
		return "connection refused";
	case ECONNRESET:
		return "connection reset";
	case EHOSTUNREACH:
		return "host unreachable";
	case ENETUNREACH:
		return "network unreachable";
	case ETIMEDOUT:
		return "connection timed out";
	default:
		return strerror(err);
	}
}

/* Connects to one address. Returns the socket, or -1 with *msg set
 * (malloc'd); *cancelled is set when the run was interrupted. */
static int tcp_connect_one(const struct addrinfo *ai, long long deadline, struct check_ctx *ctx,
			   char **msg, int *cancelled, long long t0)
{
	int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
			ai->ai_protocol);
	if (fd < 0) {
		*msg = xasprintf("socket: %s", strerror(errno));
		return -1;
	}
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
		return fd;
	if (errno != EINPROGRESS) {
		*msg = xstrdup(tcp_errtext(errno));
		close(fd);
		return -1;
	}
	int w = tcp_wait(fd, POLLOUT, deadline, ctx);
	if (w <= 0) {
		if (w < 0)
			*cancelled = 1;
		char *dur = format_duration(now_mono_ms() - t0);
		*msg = w < 0 ? xstrdup("interrupted") : xasprintf("no answer within %s", dur);
		free(dur);
		close(fd);
		return -1;
	}
	int err = 0;
	socklen_t len = sizeof(err);
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		err = errno;
	if (err) {
		*msg = xstrdup(tcp_errtext(err));
		close(fd);
		return -1;
	}
	return fd;
}

/* Sends the text and reads up to read_bytes; adds "banner" to facts. */
static void tcp_talk(const struct tcp_cfg *c, int fd, struct check_ctx *ctx, json_t *facts,
		     struct buf *note)
{
	long long deadline = now_mono_ms() + c->read_timeout_ms;
	long long ctxdl = now_mono_ms() + ctx_remaining_ms(ctx);
	if (ctxdl < deadline)
		deadline = ctxdl;
	if (c->send) {
		size_t off = 0, len = strlen(c->send);
		while (off < len) {
			ssize_t n = send(fd, c->send + off, len - off, MSG_NOSIGNAL);
			if (n > 0) {
				off += (size_t)n;
				continue;
			}
			if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) &&
			    tcp_wait(fd, POLLOUT, deadline, ctx) > 0)
				continue;
			buf_addf(note, "sending failed after %zu of %zu bytes: %s\n", off, len,
				 n < 0 ? tcp_errtext(errno) : "no progress");
			json_object_set_new(facts, "sent", json_false());
			return;
		}
		json_object_set_new(facts, "sent", json_true());
	}
	if (!c->read_bytes)
		return;
	char *data = xmalloc(c->read_bytes);
	size_t got = 0;
	int closed = 0;
	while (got < c->read_bytes) {
		ssize_t n = recv(fd, data + got, c->read_bytes - got, 0);
		if (n > 0) {
			got += (size_t)n;
			continue; /* take what is already there */
		}
		if (n == 0) {
			closed = 1;
			break;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK) {
			buf_addf(note, "reading failed: %s\n", tcp_errtext(errno));
			break;
		}
		if (got > 0)
			break; /* a banner arrived; do not wait for more */
		if (tcp_wait(fd, POLLIN, deadline, ctx) <= 0) {
			buf_addf(note, "no data received within the read timeout\n");
			break;
		}
	}
	tcp_banner_facts(facts, data, got);
	json_object_set_new(facts, "peer_closed", json_boolean(closed));
	free(data);
}

/* A name lookup that may outlive its caller: glibc's resolver thread
 * writes into it until it is done, so it lives on the heap. */
struct tcp_lookup {
	struct gaicb cb;
	struct addrinfo hints;
	char *host, *port;        /* owned */
};

static void tcp_lookup_free(struct tcp_lookup *l)
{
	if (l->cb.ar_result)
		freeaddrinfo(l->cb.ar_result);
	free(l->host);
	free(l->port);
	free(l);
}

/* Resolves host and port (A and AAAA) within the deadline. Returns 0 with
 * *res set (caller frees with freeaddrinfo), EAI_AGAIN at the deadline,
 * EAI_CANCELED when the run was interrupted, or another EAI_ code. */
static int tcp_resolve(const struct tcp_cfg *c, long long deadline, struct check_ctx *ctx,
		       struct addrinfo **res)
{
	struct tcp_lookup *l = xcalloc(1, sizeof(*l));
	struct gaicb *list[1] = {&l->cb};
	int rc;

	l->hints.ai_family = AF_UNSPEC;
	l->hints.ai_socktype = SOCK_STREAM;
	l->host = xstrdup(c->host);
	l->port = xstrdup(c->port);
	l->cb.ar_name = l->host;
	l->cb.ar_service = l->port;
	l->cb.ar_request = &l->hints;
	rc = getaddrinfo_a(GAI_NOWAIT, list, 1, NULL);
	if (rc != 0) {
		tcp_lookup_free(l);
		return rc;
	}
	for (;;) {
		rc = gai_error(&l->cb);
		if (rc != EAI_INPROGRESS)
			break;
		int stop = ctx_cancelled(ctx);
		long long left = deadline - now_mono_ms();
		if (stop || left <= 0) {
			rc = stop ? EAI_CANCELED : EAI_AGAIN;
			if (gai_cancel(&l->cb) == EAI_NOTCANCELED)
				return rc; /* still running: l stays with the resolver */
			break;
		}
		if (left > TCP_TICK_MS)
			left = TCP_TICK_MS;
		struct timespec ts = {.tv_sec = left / 1000, .tv_nsec = (left % 1000) * 1000000L};
		gai_suspend((const struct gaicb *const *)list, 1, &ts);
	}
	if (rc == 0) {
		*res = l->cb.ar_result;
		l->cb.ar_result = NULL;
	}
	tcp_lookup_free(l);
	return rc;
}

static void tcp_run(void *priv, struct check_ctx *ctx, struct check_out *out)
{
	const struct tcp_cfg *c = priv;
	struct addrinfo *res = NULL;
	json_t *facts = json_object();
	json_t *addrs = json_array();
	char *last_err = NULL, *address = NULL;
	int cancelled = 0, fd = -1;
	struct buf note;

	buf_init(&note, 8192);
	long long t0 = now_mono_ms();
	long long deadline = t0 + ctx_remaining_ms(ctx);
	int g = tcp_resolve(c, deadline, ctx, &res);
	if (g != 0) {
		if (g == EAI_CANCELED)
			cancelled = 1;
		char *dur = format_duration(now_mono_ms() - t0);
		last_err = g == EAI_AGAIN && now_mono_ms() >= deadline
				   ? xasprintf("cannot resolve '%s': no answer within %s", c->host, dur)
				   : xasprintf("cannot resolve '%s': %s", c->host, gai_strerror(g));
		free(dur);
		goto report;
	}
	for (const struct addrinfo *ai = res; ai; ai = ai->ai_next) {
		char *a = tcp_addr_text(ai->ai_addr);
		json_array_append_new(addrs, json_string(a));
		free(a);
	}
	for (const struct addrinfo *ai = res; ai && fd < 0 && !cancelled; ai = ai->ai_next) {
		char *msg = NULL;
		long long ta = now_mono_ms();
		free(address);
		address = tcp_addr_text(ai->ai_addr);
		fd = tcp_connect_one(ai, deadline, ctx, &msg, &cancelled, t0);
		if (fd >= 0) {
			json_object_set_new(facts, "latency_ms", json_integer(now_mono_ms() - ta));
		} else {
			buf_addf(&note, "%s: %s\n", address, msg);
			free(last_err);
			last_err = msg;
		}
	}

report:
	json_object_set_new(facts, "connected", json_boolean(fd >= 0));
	json_object_set_new(facts, "host", json_string(c->host));
	json_object_set_new(facts, "port", json_integer(strtol(c->port, NULL, 10)));
	json_object_set_new(facts, "address", address ? json_string(address) : json_null());
	json_object_set_new(facts, "addresses", addrs);
	json_object_set_new(facts, "error",
			    fd >= 0 ? json_null() : json_string(last_err ? last_err : "no address"));
	if (fd >= 0) {
		tcp_talk(c, fd, ctx, facts, &note);
		close(fd);
	} else {
		json_object_set_new(facts, "latency_ms", json_null());
	}
	if (cancelled) {
		out->forced = CHECK_ERROR;
		out->error = xasprintf("connecting to %s:%s was interrupted", c->host, c->port);
	}
	if (fd < 0 && !cancelled)
		buf_addf(&note, "cannot connect to %s port %s: %s\n", c->host, c->port,
			 last_err ? last_err : "no address");
	if (note.len)
		out->evidence = buf_detach(&note);
	out->facts = facts;
	buf_release(&note);
	free(last_err);
	free(address);
	if (res)
		freeaddrinfo(res);
}

static char *tcp_describe(void *priv)
{
	const struct tcp_cfg *c = priv;
	return xasprintf("connect to %s port %s", c->host, c->port);
}

/* "connection refused by db:5432" (module.h, summarize). */
static char *tcp_summarize(const json_t *f)
{
	const char *host = json_string_value(json_object_get(f, "host"));
	long long port = json_integer_value(json_object_get(f, "port"));
	const char *err = json_string_value(json_object_get(f, "error"));
	if (!host)
		return NULL;
	if (json_is_true(json_object_get(f, "connected"))) {
		json_t *ms = json_object_get(f, "latency_ms");
		return json_is_integer(ms) ? xasprintf("connected to %s:%lld in %lld ms", host, port,
						       (long long)json_integer_value(ms))
					   : xasprintf("connected to %s:%lld", host, port);
	}
	if (err && strstr(err, "refused"))
		return xasprintf("connection refused by %s:%lld", host, port);
	return xasprintf("could not connect to %s:%lld: %s", host, port, err ? err : "no address");
}

const struct check_module check_tcp = {
	.name = "tcp",
	.summary = "connect to host:port within the deadline; optional send and banner",
	.api_version = CHECK_API_VERSION,
	.flags = CHECK_F_READONLY,
	.keys = tcp_keys,
	.default_expect = ".connected == true",
	.parse = tcp_parse,
	.run = tcp_run,
	.summarize = tcp_summarize,
	.describe = tcp_describe,
	.free = tcp_free,
};
