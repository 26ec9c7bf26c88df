/* kube_proxy.c - the proxy choice of the Kubernetes client: kubeconfig
 * proxy-url, else the environment with Go's NO_PROXY rules (see
 * kube_proxy.h). Pure: it reads the environment and decides, nothing
 * else. */
#include "kube_proxy.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* An address in IPv6 form (IPv4 as ::ffff:a.b.c.d), as Go compares them. */
struct ip16 {
	unsigned char a[16];
};

static int parse_ip(const char *s, struct ip16 *ip)
{
	struct in_addr v4;
	memset(ip, 0, sizeof(*ip));
	if (inet_pton(AF_INET, s, &v4) == 1) {
		ip->a[10] = ip->a[11] = 0xff;
		memcpy(ip->a + 12, &v4, 4);
		return 4;
	}
	if (inet_pton(AF_INET6, s, ip->a) == 1)
		return 6;
	return 0;
}

static int is_v4mapped(const struct ip16 *ip)
{
	static const unsigned char pre[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	return memcmp(ip->a, pre, 12) == 0;
}

static int is_loopback(const struct ip16 *ip)
{
	static const unsigned char one[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
	return (is_v4mapped(ip) && ip->a[12] == 127) || memcmp(ip->a, one, 16) == 0;
}

/* a within net/bits (bits counted in the family of the entry). */
static int cidr_contains(const struct ip16 *net, int fam, long bits, const struct ip16 *a)
{
	if ((fam == 4) != is_v4mapped(a))
		return 0;
	long total = fam == 4 ? bits + 96 : bits;
	for (long i = 0; i < total; i++) {
		unsigned char m = (unsigned char)(0x80 >> (i % 8));
		if ((net->a[i / 8] & m) != (a->a[i / 8] & m))
			return 0;
	}
	return 1;
}

/* Go's net.SplitHostPort, loosely: "[v6]:port", "host:port" with one
 * colon; anything else is a host alone. *host and *port are malloc'd. */
static void split_host_port(const char *p, char **host, char **port)
{
	const char *colon = strchr(p, ':');
	if (p[0] == '[') {
		const char *end = strchr(p, ']');
		if (end && (end[1] == 0 || end[1] == ':')) {
			*host = xstrndup(p + 1, (size_t)(end - p - 1));
			*port = xstrdup(end[1] == ':' ? end + 2 : "");
			return;
		}
	} else if (colon && !strchr(colon + 1, ':')) {
		*host = xstrndup(p, (size_t)(colon - p));
		*port = xstrdup(colon + 1);
		return;
	}
	*host = xstrdup(p);
	*port = xstrdup("");
}

static int ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* One NO_PROXY entry (lower-cased, trimmed) against host (lower-cased,
 * no brackets), its port, and its address when host is an IP literal. */
static int entry_matches(const char *p, const char *host, const char *port, const struct ip16 *ip)
{
	const char *slash = strchr(p, '/');
	if (slash) {
		char *addr = xstrndup(p, (size_t)(slash - p));
		struct ip16 net;
		int fam = parse_ip(addr, &net);
		free(addr);
		long long bits;
		if (!fam || parse_ll(slash + 1, &bits) != 0 || bits < 0 ||
		    bits > (fam == 4 ? 32 : 128))
			return 0; /* not a CIDR range: it names no host either */
		return ip && cidr_contains(&net, fam, (long)bits, ip);
	}
	char *ph, *pp;
	split_host_port(p, &ph, &pp);
	int hit = 0;
	struct ip16 eip;
	if (parse_ip(ph, &eip)) {
		hit = ip && memcmp(eip.a, ip->a, 16) == 0 && (!*pp || strcmp(pp, port) == 0);
	} else if (*ph) {
		/* "*.x" and ".x": subdomains only; "x": x and its subdomains */
		const char *d = ph[0] == '*' && ph[1] == '.' ? ph + 1 : ph;
		char *dotted = d[0] == '.' ? xstrdup(d) : xasprintf(".%s", d);
		int self = d[0] != '.';
		hit = (ends_with(host, dotted) || (self && strcmp(host, dotted + 1) == 0)) &&
		      (!*pp || strcmp(pp, port) == 0);
		free(dotted);
	}
	free(ph);
	free(pp);
	return hit;
}

/* Go's useProxy: 0 when the host must be reached directly. */
static int use_proxy(const char *host, const char *port, const char *no_proxy)
{
	if (strcmp(host, "localhost") == 0)
		return 0;
	struct ip16 ip;
	int is_ip = parse_ip(host, &ip) != 0;
	if (is_ip && is_loopback(&ip))
		return 0;
	if (!no_proxy)
		return 1;
	int use = 1;
	char *list = xstrdup(no_proxy);
	for (char *p = list; p && use;) {
		char *comma = strchr(p, ',');
		if (comma)
			*comma = 0;
		while (isspace((unsigned char)*p))
			p++;
		size_t n = strlen(p);
		while (n && isspace((unsigned char)p[n - 1]))
			p[--n] = 0;
		for (char *q = p; *q; q++)
			*q = (char)tolower((unsigned char)*q);
		if (strcmp(p, "*") == 0)
			use = 0;
		else if (*p && entry_matches(p, host, port, is_ip ? &ip : NULL))
			use = 0;
		p = comma ? comma + 1 : NULL;
	}
	free(list);
	return use;
}

/* A proxy as libcurl takes it: http:// when no scheme is written (Go's
 * parseProxy), socks5h:// for socks5:// (names resolved by the proxy). */
static char *curl_form(const char *proxy)
{
	if (!strstr(proxy, "://"))
		return xasprintf("http://%s", proxy);
	if (strncasecmp(proxy, "socks5://", 9) == 0)
		return xasprintf("socks5h://%s", proxy + 9);
	return xstrdup(proxy);
}

void kube_proxy_env_read(struct kube_proxy_env *env)
{
	const char *v;
	memset(env, 0, sizeof(*env));
	env->https_proxy = (v = getenv("HTTPS_PROXY")) && *v ? v : getenv("https_proxy");
	env->http_proxy = (v = getenv("HTTP_PROXY")) && *v ? v : getenv("http_proxy");
	env->no_proxy = (v = getenv("NO_PROXY")) && *v ? v : getenv("no_proxy");
	env->cgi = getenv("REQUEST_METHOD") != NULL;
}

int kube_proxy_url_check(const char *proxy_url, struct pg_err *e)
{
	const char *ok[] = {"http://", "https://", "socks5://"};
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		if (strncasecmp(proxy_url, ok[i], strlen(ok[i])) == 0 && proxy_url[strlen(ok[i])])
			return 0;
	return pg_error(e, "proxy-url '%s' must be an http://, https:// or socks5:// URL",
	                proxy_url);
}

char *kube_proxy_for(const char *url, const char *configured, const struct kube_proxy_env *env)
{
	if (configured && *configured)
		return curl_form(configured);
	struct kube_proxy_env own;
	if (!env) {
		kube_proxy_env_read(&own);
		env = &own;
	}
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL, *port = NULL, *out = NULL;
	if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) != CURLUE_OK)
		goto direct;
	const char *proxy = NULL;
	if (strcmp(scheme, "https") == 0)
		proxy = env->https_proxy;
	else if (strcmp(scheme, "http") == 0 && !env->cgi)
		proxy = env->http_proxy;
	if (!proxy || !*proxy)
		goto direct;
	char *h = host;
	size_t n = strlen(h);
	if (n >= 2 && h[0] == '[' && h[n - 1] == ']') {
		h[n - 1] = 0;
		h++;
	}
	for (char *q = h; *q; q++)
		*q = (char)tolower((unsigned char)*q);
	if (use_proxy(h, port, env->no_proxy))
		out = curl_form(proxy);
direct:
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	curl_url_cleanup(u);
	return out ? out : xstrdup("");
}
