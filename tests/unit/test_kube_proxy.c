/* test_kube_proxy.c - the Kubernetes client's proxy choice against Go's
 * http.ProxyFromEnvironment rules (golang.org/x/net/http/httpproxy):
 * kubeconfig proxy-url first, upper-case variables, no proxy for
 * localhost and loopback, NO_PROXY with "*", IPs, CIDRs, domains,
 * subdomain-only entries and ports; and the oidc JWT exp reader. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "kube_oidc.h"
#include "kube_proxy.h"

static const char *PX = "http://proxy.corp:3128";

/* The proxy chosen for url under NO_PROXY no (https proxy PX). */
static char *choose(const char *url, const char *no)
{
	struct kube_proxy_env env = {
	    .https_proxy = PX, .http_proxy = "http://plain:8080", .no_proxy = no};
	return kube_proxy_for(url, NULL, &env);
}

static void expect_proxy(const char *url, const char *no, const char *want)
{
	char *got = choose(url, no);
	if (strcmp(got, want) != 0)
		fail_msg("%s with NO_PROXY=%s: got '%s', expected '%s'", url, no ? no : "(unset)",
		         got, want);
	free(got);
}

static void test_scheme_and_loopback(void **state)
{
	(void)state;
	expect_proxy("https://api.example.com:6443", NULL, PX);
	expect_proxy("http://api.example.com", NULL, "http://plain:8080");
	/* never proxied from the environment: localhost and loopback */
	expect_proxy("https://localhost:6443", NULL, "");
	expect_proxy("https://127.0.0.1:6443", NULL, "");
	expect_proxy("https://127.9.9.9:6443", NULL, "");
	expect_proxy("https://[::1]:6443", NULL, "");
	/* a name under .localhost is not "localhost": Go proxies it */
	expect_proxy("https://kubesim.localhost:6443", NULL, PX);
	/* an unknown scheme has no proxy variable */
	expect_proxy("ftp://api.example.com", NULL, "");
}

static void test_no_proxy_rules(void **state)
{
	(void)state;
	expect_proxy("https://api.example.com", "*", "");
	expect_proxy("https://api.example.com", "example.com", "");
	expect_proxy("https://example.com", "example.com", "");
	expect_proxy("https://notexample.com", "example.com", PX);
	expect_proxy("https://example.com", ".example.com", PX); /* subdomains only */
	expect_proxy("https://a.example.com", ".example.com", "");
	expect_proxy("https://a.example.com", "*.example.com", "");
	expect_proxy("https://example.com", "*.example.com", PX);
	expect_proxy("https://API.Example.COM", " other.org , EXAMPLE.com ", "");
	/* ports: the URL's default port counts */
	expect_proxy("https://api.example.com", "api.example.com:443", "");
	expect_proxy("https://api.example.com:6443", "api.example.com:443", PX);
	expect_proxy("https://api.example.com:6443", "api.example.com:6443", "");
	/* IP addresses and CIDR ranges apply to IP literals only */
	expect_proxy("https://10.1.2.3:6443", "10.0.0.0/8", "");
	expect_proxy("https://11.1.2.3:6443", "10.0.0.0/8", PX);
	expect_proxy("https://10.1.2.3:6443", "10.1.2.3", "");
	expect_proxy("https://10.1.2.3:6443", "10.1.2.3:443", PX);
	expect_proxy("https://10.1.2.3:6443", "10.1.2.3:6443", "");
	expect_proxy("https://api.example.com", "10.0.0.0/8", PX);
	expect_proxy("https://[fd00::5]:6443", "fd00::/8", "");
	expect_proxy("https://[fe80::5]:6443", "fd00::/8", PX);
	expect_proxy("https://[fd00::5]:6443", "[fd00::5]:6443", "");
	expect_proxy("https://10.1.2.3:6443", "10.0.0.0/33", PX); /* not a range */
	expect_proxy("https://10.1.2.3:6443", ",,", PX);
}

static void test_configured_and_forms(void **state)
{
	(void)state;
	struct kube_proxy_env env = {.https_proxy = PX, .no_proxy = "*"};
	/* the kubeconfig's proxy-url is used for every request */
	char *p = kube_proxy_for("https://127.0.0.1:6443", "http://u:p@px:1", &env);
	assert_string_equal(p, "http://u:p@px:1");
	free(p);
	/* Go's SOCKS5 dialer lets the proxy resolve names */
	p = kube_proxy_for("https://api.example.com", "socks5://px:1080", &env);
	assert_string_equal(p, "socks5h://px:1080");
	free(p);
	/* a proxy without a scheme is http:// (Go's parseProxy) */
	env.no_proxy = NULL;
	env.https_proxy = "proxy.corp:3128";
	p = kube_proxy_for("https://api.example.com", NULL, &env);
	assert_string_equal(p, "http://proxy.corp:3128");
	free(p);
	/* HTTP_PROXY is ignored under CGI (REQUEST_METHOD set) */
	env.http_proxy = "http://plain:8080";
	env.cgi = 1;
	p = kube_proxy_for("http://api.example.com", NULL, &env);
	assert_string_equal(p, "");
	free(p);
	struct pg_err e;
	assert_int_equal(kube_proxy_url_check("socks5://px:1080", &e), 0);
	assert_int_equal(kube_proxy_url_check("HTTPS://px", &e), 0);
	assert_int_equal(kube_proxy_url_check("socks4://px:1080", &e), -1);
	assert_non_null(strstr(e.msg, "http://, https:// or socks5://"));
	assert_int_equal(kube_proxy_url_check("px:3128", &e), -1);
}

static void test_jwt_exp(void **state)
{
	(void)state;
	/* {"alg":"none"} . {"sub":"a","exp":1600000000} . sig */
	assert_true(
	    kube_jwt_exp("eyJhbGciOiJub25lIn0.eyJzdWIiOiJhIiwiZXhwIjoxNjAwMDAwMDAwfQ.c2ln") ==
	    1600000000.0);
	/* {"sub":"a"}: no exp */
	assert_true(kube_jwt_exp("eyJhbGciOiJub25lIn0.eyJzdWIiOiJhIn0.c2ln") == 0);
	assert_true(kube_jwt_exp("kubesim-admin-token-0001") < 0);
	assert_true(kube_jwt_exp("a.b.c.d") < 0);
	assert_true(kube_jwt_exp("a.!!!.c") < 0);
	assert_true(kube_jwt_exp("eyJhIjoxfQ.WzFd.c2ln") < 0); /* claims are an array */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_scheme_and_loopback),
	    cmocka_unit_test(test_no_proxy_rules),
	    cmocka_unit_test(test_configured_and_forms),
	    cmocka_unit_test(test_jwt_exp),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
