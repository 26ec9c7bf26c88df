/* kube_proxy.h - which proxy a Kubernetes client request goes through, as
 * client-go decides it: the cluster's proxy-url when the kubeconfig sets
 * one (for every request, no exceptions), else Go's
 * http.ProxyFromEnvironment: HTTPS_PROXY/https_proxy for https URLs,
 * HTTP_PROXY/http_proxy for http (upper case first; HTTP_PROXY ignored
 * when REQUEST_METHOD is set, as in CGI), never for "localhost" or a
 * loopback address, and not for hosts NO_PROXY/no_proxy names: "*", IP
 * addresses and CIDR ranges (IPv4 and IPv6), domain names that match
 * themselves and their subdomains ("example.com"), subdomains only
 * (".example.com", "*.example.com"), each optionally with ":port".
 *
 * The answer is given in libcurl's terms: "" for a direct connection, and
 * socks5:// becomes socks5h:// because Go's SOCKS5 dialer lets the proxy
 * resolve host names. */
#ifndef PHASEGATE_KUBE_PROXY_H
#define PHASEGATE_KUBE_PROXY_H

#include "util.h"

/* The proxy environment, read by kube_proxy_env_read (or set by tests). */
struct kube_proxy_env {
	const char *https_proxy; /* HTTPS_PROXY, else https_proxy */
	const char *http_proxy;  /* HTTP_PROXY, else http_proxy */
	const char *no_proxy;    /* NO_PROXY, else no_proxy */
	int cgi;                 /* REQUEST_METHOD is set */
};

/* Fills env from the process environment (pointers into it). */
void kube_proxy_env_read(struct kube_proxy_env *env);

/* Checks a kubeconfig proxy-url: a URL whose scheme is http, https or
 * socks5 (client-go's accepted schemes). Returns 0 or -1 with e filled. */
int kube_proxy_url_check(const char *proxy_url, struct pg_err *e);

/* The proxy for url (malloc'd; "" = connect directly). configured is the
 * kubeconfig's proxy-url or NULL; env NULL = the process environment. */
char *kube_proxy_for(const char *url, const char *configured, const struct kube_proxy_env *env);

#endif
