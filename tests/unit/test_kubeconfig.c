/* test_kubeconfig.c - checks/kubeconfig.c against kubectl's rules: the
 * KUBECONFIG merge order (first file wins for named entries and for
 * current-context), context and namespace overrides, every credential
 * kind (token, tokenFile, basic auth, client certificate files and data,
 * exec plugins with KUBERNETES_EXEC_INFO, caching until expiry and
 * refresh), the in-cluster service account, and error messages that name
 * the file and the key. Every file is written by the test into a fresh
 * temporary directory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "kubeconfig.h"
#include "util.h"
#include "vars.h"

static char tmpdir[256];

static char *tpath(const char *name)
{
	return xasprintf("%s/%s", tmpdir, name);
}

static void write_text(const char *name, const char *text, int mode)
{
	char *p = tpath(name);
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	chmod(p, (mode_t)mode);
	free(p);
}

static char *read_text(const char *name)
{
	char *p = tpath(name);
	char *data = NULL;
	size_t len;
	struct pg_err e;
	int rc = read_file_capped(p, 1 << 20, &data, &len, &e);
	free(p);
	return rc == 0 ? data : NULL;
}

static int setup(void **state)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/pg-kubeconfig-XXXXXX");
	assert_non_null(mkdtemp(tmpdir));
	unsetenv("KUBERNETES_SERVICE_HOST");
	unsetenv("KUBERNETES_SERVICE_PORT");
	unsetenv("POD_NAMESPACE");
	setenv("HOME", tmpdir, 1); /* no ~/.kube/config of the machine leaks in */
	return 0;
}

static int teardown(void **state)
{
	char *const argv[] = {"rm", "-rf", tmpdir, NULL};
	pid_t pid = fork();
	if (pid == 0) {
		execvp("rm", argv);
		_exit(127);
	}
	int st;
	waitpid(pid, &st, 0);
	return 0;
}

static void set_kubeconfig(const char *a, const char *b)
{
	char *pa = tpath(a);
	char *pb = b ? tpath(b) : NULL;
	char *list = pb ? xasprintf("%s:%s", pa, pb) : xstrdup(pa);
	setenv("KUBECONFIG", list, 1);
	free(list);
	free(pa);
	free(pb);
}

static const char file_a[] =
    "apiVersion: v1\n"
    "kind: Config\n"
    "current-context: ctx-a\n"
    "clusters:\n"
    "- name: one\n"
    "  cluster: {server: 'https://one.example:6443/', insecure-skip-tls-verify: true}\n"
    "users:\n"
    "- name: alice\n"
    "  user: {token: token-alice}\n"
    "contexts:\n"
    "- name: ctx-a\n"
    "  context: {cluster: one, user: alice, namespace: team-a}\n"
    "- name: shared\n"
    "  context: {cluster: one, user: alice}\n";

static const char file_b[] =
    "apiVersion: v1\n"
    "kind: Config\n"
    "current-context: ctx-b\n"
    "clusters:\n"
    "- name: one\n"
    "  cluster: {server: 'https://other.example:6443'}\n"
    "- name: two\n"
    "  cluster: {server: 'https://two.example:443', tls-server-name: api.two}\n"
    "users:\n"
    "- name: alice\n"
    "  user: {token: token-from-b}\n"
    "- name: bob\n"
    "  user: {username: bob, password: hunter2}\n"
    "contexts:\n"
    "- name: ctx-b\n"
    "  context: {cluster: two, user: bob}\n"
    "- name: shared\n"
    "  context: {cluster: two, user: bob, namespace: from-b}\n";

static void load_ok(struct kube_config *kc, const struct kube_config_opts *o)
{
	struct pg_err e;
	memset(&e, 0, sizeof(e));
	int rc = kube_config_load(kc, o, &e);
	if (rc != 0)
		fail_msg("kube_config_load failed: %s", e.msg);
}

static char *load_err(const struct kube_config_opts *o)
{
	struct kube_config kc;
	struct pg_err e;
	memset(&e, 0, sizeof(e));
	int rc = kube_config_load(&kc, o, &e);
	assert_int_equal(rc, -1);
	return xstrdup(e.msg);
}

static void test_merge_first_wins(void **state)
{
	write_text("a.yaml", file_a, 0600);
	write_text("b.yaml", file_b, 0600);
	set_kubeconfig("a.yaml", "b.yaml");
	struct kube_config_opts o = {0};
	struct kube_config kc;
	load_ok(&kc, &o);
	/* a's current-context, a's cluster "one" (not b's), a's user */
	assert_string_equal(kc.context_name, "ctx-a");
	assert_string_equal(kc.server, "https://one.example:6443");
	assert_string_equal(kc.token, "token-alice");
	assert_string_equal(kc.nspace, "team-a");
	assert_true(kc.insecure);
	assert_non_null(strstr(kc.origin, "a.yaml"));
	kube_config_release(&kc);

	/* the other order: b's current-context and b's definitions */
	set_kubeconfig("b.yaml", "a.yaml");
	load_ok(&kc, &o);
	assert_string_equal(kc.context_name, "ctx-b");
	assert_string_equal(kc.server, "https://two.example:443");
	assert_string_equal(kc.tls_server_name, "api.two");
	assert_string_equal(kc.username, "bob");
	assert_string_equal(kc.password, "hunter2");
	assert_null(kc.token);
	assert_string_equal(kc.nspace, "default");
	kube_config_release(&kc);

	/* a context defined in both files is taken whole from the first */
	o.context = "shared";
	set_kubeconfig("b.yaml", "a.yaml");
	load_ok(&kc, &o);
	assert_string_equal(kc.cluster_name, "two");
	assert_string_equal(kc.nspace, "from-b");
	kube_config_release(&kc);
	set_kubeconfig("a.yaml", "b.yaml");
	load_ok(&kc, &o);
	assert_string_equal(kc.cluster_name, "one");
	assert_string_equal(kc.server, "https://one.example:6443");
	/* a's "shared" has no namespace: default, not b's */
	assert_string_equal(kc.nspace, "default");
	kube_config_release(&kc);
}

static void test_missing_file_skipped(void **state)
{
	write_text("a.yaml", file_a, 0600);
	set_kubeconfig("does-not-exist.yaml", "a.yaml");
	struct kube_config_opts o = {0};
	struct kube_config kc;
	load_ok(&kc, &o);
	assert_string_equal(kc.context_name, "ctx-a");
	kube_config_release(&kc);
}

static void test_overrides(void **state)
{
	write_text("a.yaml", file_a, 0600);
	write_text("b.yaml", file_b, 0600);
	set_kubeconfig("a.yaml", "b.yaml");
	struct kube_config_opts o = {.context = "ctx-b", .nspace = "override"};
	struct kube_config kc;
	load_ok(&kc, &o);
	assert_string_equal(kc.context_name, "ctx-b");
	assert_string_equal(kc.user_name, "bob");
	assert_string_equal(kc.nspace, "override");
	kube_config_release(&kc);

	/* an explicit file is not merged with KUBECONFIG's */
	char *pb = tpath("b.yaml");
	struct kube_config_opts o2 = {.kubeconfig = pb};
	load_ok(&kc, &o2);
	assert_string_equal(kc.context_name, "ctx-b");
	assert_string_equal(kc.server, "https://two.example:443");
	kube_config_release(&kc);
	o2.context = "ctx-a"; /* only in a.yaml */
	char *msg = load_err(&o2);
	assert_non_null(strstr(msg, "context 'ctx-a' is not defined"));
	assert_non_null(strstr(msg, "b.yaml"));
	free(msg);
	free(pb);
}

static void test_token_file_and_certs(void **state)
{
	write_text("token", "first-token\n", 0600);
	write_text("client.crt", "-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----\n",
	           0600);
	write_text("c.yaml",
	           "current-context: c\n"
	           "clusters:\n"
	           "- name: k\n"
	           "  cluster:\n"
	           "    server: https://127.0.0.1:6443\n"
	           "    certificate-authority-data: LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCg==\n"
	           "users:\n"
	           "- name: tf\n"
	           "  user: {tokenFile: token}\n"
	           "- name: certs\n"
	           "  user: {client-certificate: client.crt, client-key: sub/client.key}\n"
	           "- name: data\n"
	           "  user:\n"
	           "    client-certificate-data: Y2VydA==\n"
	           "    client-key-data: a2V5\n"
	           "contexts:\n"
	           "- {name: c, context: {cluster: k, user: tf}}\n"
	           "- {name: certs, context: {cluster: k, user: certs}}\n"
	           "- {name: data, context: {cluster: k, user: data}}\n",
	           0600);
	set_kubeconfig("c.yaml", NULL);
	struct kube_config_opts o = {0};
	struct kube_config kc;
	load_ok(&kc, &o);
	assert_string_equal(kc.ca_pem, "-----BEGIN CERTIFICATE-----\n");
	/* tokenFile is relative to the kubeconfig and read on every use */
	char *tp = tpath("token");
	assert_string_equal(kc.token_file, tp);
	free(tp);
	char *bearer, *cert, *key;
	struct pg_err e;
	assert_int_equal(kube_credentials(&kc, NULL, 0, &bearer, &cert, &key, &e), 0);
	assert_string_equal(bearer, "first-token");
	free(bearer);
	write_text("token", "rotated-token", 0600);
	assert_int_equal(kube_credentials(&kc, NULL, 0, &bearer, &cert, &key, &e), 0);
	assert_string_equal(bearer, "rotated-token");
	assert_null(cert);
	free(bearer);
	assert_true(kube_config_can_refresh(&kc));
	kube_config_release(&kc);

	o.context = "certs";
	load_ok(&kc, &o);
	char *cp = tpath("client.crt"), *kp = tpath("sub/client.key");
	assert_string_equal(kc.cert_file, cp);
	assert_string_equal(kc.key_file, kp);
	free(cp);
	free(kp);
	assert_false(kube_config_can_refresh(&kc));
	kube_config_release(&kc);

	o.context = "data";
	load_ok(&kc, &o);
	assert_string_equal(kc.cert_pem, "cert");
	assert_string_equal(kc.key_pem, "key");
	assert_null(kc.cert_file);
	kube_config_release(&kc);
}

/* An exec credential plugin written by the test: it appends each call to
 * calls.log, saves KUBERNETES_EXEC_INFO and prints a token that expires
 * at $EXPIRY (or never when EXPIRY is empty). */
static const char plugin_sh[] =
    "#!/bin/sh\n"
    "echo \"call $1\" >> \"$LOGDIR/calls.log\"\n"
    "printf '%s' \"$KUBERNETES_EXEC_INFO\" > \"$LOGDIR/exec-info.json\"\n"
    "n=$(wc -l < \"$LOGDIR/calls.log\" | tr -d ' ')\n"
    "if [ -n \"$EXPIRY\" ]; then exp=\", \\\"expirationTimestamp\\\": \\\"$EXPIRY\\\"\"; fi\n"
    "printf '{\"apiVersion\": \"%s\", \"kind\": \"ExecCredential\", "
    "\"status\": {\"token\": \"exec-token-%s\"%s}}\\n' \"$API\" \"$n\" \"$exp\"\n";

static void write_exec_config(const char *api, const char *mode, const char *expiry,
                              int cluster_info)
{
	struct buf b;
	buf_init(&b, 0);
	buf_addf(&b,
	         "current-context: e\n"
	         "clusters:\n"
	         "- name: k\n"
	         "  cluster:\n"
	         "    server: https://10.0.0.1:6443\n"
	         "    certificate-authority-data: Y2E=\n"
	         "users:\n"
	         "- name: x\n"
	         "  user:\n"
	         "    exec:\n"
	         "      apiVersion: %s\n"
	         "      command: ./plugin.sh\n"
	         "      args: [first-arg]\n"
	         "      env:\n"
	         "      - {name: LOGDIR, value: '%s'}\n"
	         "      - {name: API, value: '%s'}\n"
	         "      - {name: EXPIRY, value: '%s'}\n"
	         "      provideClusterInfo: %s\n",
	         api, tmpdir, api, expiry, cluster_info ? "true" : "false");
	if (mode)
		buf_addf(&b, "      interactiveMode: %s\n", mode);
	buf_adds(&b, "contexts:\n- {name: e, context: {cluster: k, user: x}}\n");
	write_text("e.yaml", buf_str(&b), 0600);
	buf_release(&b);
	write_text("plugin.sh", plugin_sh, 0755);
	set_kubeconfig("e.yaml", NULL);
}

static int count_calls(void)
{
	char *log = read_text("calls.log");
	int n = 0;
	for (char *p = log; p && *p; p++)
		n += *p == '\n';
	free(log);
	return n;
}

static char *token_now(struct kube_config *kc, int refresh)
{
	char *bearer = NULL, *cert = NULL, *key = NULL;
	struct pg_err e;
	memset(&e, 0, sizeof(e));
	if (kube_credentials(kc, NULL, refresh, &bearer, &cert, &key, &e) != 0)
		fail_msg("kube_credentials: %s", e.msg);
	free(cert);
	free(key);
	return bearer;
}

static void test_exec_plugin_cached_until_expiry(void **state)
{
	/* expires in an hour: one run serves every request until a refresh */
	char stamp[64];
	time_t later = time(NULL) + 3600;
	struct tm tm;
	gmtime_r(&later, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", &tm);
	write_exec_config("client.authentication.k8s.io/v1", "Never", stamp, 1);
	struct kube_config_opts o = {0};
	struct kube_config kc;
	load_ok(&kc, &o);
	assert_true(kube_config_can_refresh(&kc));
	char *t = token_now(&kc, 0);
	assert_string_equal(t, "exec-token-1");
	free(t);
	t = token_now(&kc, 0);
	assert_string_equal(t, "exec-token-1");
	free(t);
	assert_int_equal(count_calls(), 1);

	/* what the plugin received */
	char *info = read_text("exec-info.json");
	assert_non_null(info);
	json_error_t je;
	json_t *j = json_loads(info, 0, &je);
	assert_non_null(j);
	assert_string_equal(json_string_value(json_object_get(j, "kind")), "ExecCredential");
	assert_string_equal(json_string_value(json_object_get(j, "apiVersion")),
	                    "client.authentication.k8s.io/v1");
	json_t *spec = json_object_get(j, "spec");
	assert_true(json_is_false(json_object_get(spec, "interactive")));
	/* provideClusterInfo: the cluster the credential is for */
	assert_string_equal(
	    json_string_value(json_object_get(json_object_get(spec, "cluster"), "server")),
	    "https://10.0.0.1:6443");
	json_decref(j);
	free(info);
	char *log = read_text("calls.log");
	assert_string_equal(log, "call first-arg\n");
	free(log);

	/* a 401 makes the caller refresh: the plugin runs again */
	t = token_now(&kc, 1);
	assert_string_equal(t, "exec-token-2");
	free(t);
	assert_int_equal(count_calls(), 2);
	kube_config_release(&kc);
}

static void test_exec_plugin_expired_runs_again(void **state)
{
	write_exec_config("client.authentication.k8s.io/v1beta1", NULL, "2020-01-01T00:00:00Z", 0);
	struct kube_config_opts o = {0};
	struct kube_config kc;
	load_ok(&kc, &o);
	char *t = token_now(&kc, 0);
	assert_string_equal(t, "exec-token-1");
	free(t);
	t = token_now(&kc, 0);
	assert_string_equal(t, "exec-token-2");
	free(t);
	assert_int_equal(count_calls(), 2);
	char *info = read_text("exec-info.json");
	assert_non_null(strstr(info, "client.authentication.k8s.io/v1beta1"));
	assert_null(strstr(info, "\"cluster\"")); /* provideClusterInfo: false */
	free(info);
	kube_config_release(&kc);
}

static void test_exec_plugin_errors(void **state)
{
	struct kube_config_opts o = {0};
	/* v1 requires interactiveMode */
	write_exec_config("client.authentication.k8s.io/v1", NULL, "", 0);
	char *msg = load_err(&o);
	assert_non_null(strstr(msg, "interactiveMode"));
	assert_non_null(strstr(msg, "e.yaml"));
	assert_non_null(strstr(msg, "user 'x'"));
	free(msg);
	/* a plugin that needs a terminal cannot serve a verification run */
	write_exec_config("client.authentication.k8s.io/v1", "Always", "", 0);
	msg = load_err(&o);
	assert_non_null(strstr(msg, "interactive"));
	free(msg);
	write_exec_config("client.authentication.k8s.io/v2", "Never", "", 0);
	msg = load_err(&o);
	assert_non_null(strstr(msg, "apiVersion"));
	free(msg);

	/* the plugin answers with the wrong apiVersion */
	write_exec_config("client.authentication.k8s.io/v1", "IfAvailable", "", 0);
	write_text("plugin.sh",
	           "#!/bin/sh\necho '{\"apiVersion\":\"client.authentication.k8s.io/v1beta1\","
	           "\"kind\":\"ExecCredential\",\"status\":{\"token\":\"t\"}}'\n",
	           0755);
	struct kube_config kc;
	load_ok(&kc, &o);
	char *bearer, *cert, *key;
	struct pg_err e;
	assert_int_equal(kube_credentials(&kc, NULL, 0, &bearer, &cert, &key, &e), -1);
	assert_non_null(strstr(e.msg, "expected ExecCredential client.authentication.k8s.io/v1"));
	/* ... or fails: its stderr is in the message */
	write_text("plugin.sh", "#!/bin/sh\necho 'login expired, run sso-login' >&2\nexit 3\n",
	           0755);
	assert_int_equal(kube_credentials(&kc, NULL, 0, &bearer, &cert, &key, &e), -1);
	assert_non_null(strstr(e.msg, "login expired"));
	kube_config_release(&kc);
}

static void test_in_cluster(void **state)
{
	char *sa = tpath("sa");
	mkdir(sa, 0700);
	write_text("sa/token", "sa-token\n", 0600);
	write_text("sa/ca.crt", "ca", 0600);
	write_text("sa/namespace", "argocd\n", 0600);
	setenv("KUBECONFIG", "", 1);
	struct kube_config_opts o = {.sa_dir = sa};

	/* no kubeconfig and no service environment: a clear error */
	char *msg = load_err(&o);
	assert_non_null(strstr(msg, "KUBERNETES_SERVICE_HOST"));
	free(msg);

	setenv("KUBERNETES_SERVICE_HOST", "10.96.0.1", 1);
	setenv("KUBERNETES_SERVICE_PORT", "443", 1);
	struct kube_config kc;
	load_ok(&kc, &o);
	assert_string_equal(kc.server, "https://10.96.0.1:443");
	assert_string_equal(kc.nspace, "argocd");
	assert_string_equal(kc.origin, "in-cluster service account");
	char *ca = tpath("sa/ca.crt");
	assert_string_equal(kc.ca_file, ca);
	free(ca);
	char *t = token_now(&kc, 0);
	assert_string_equal(t, "sa-token");
	free(t);
	/* projected tokens rotate: the file is read again */
	write_text("sa/token", "sa-token-2", 0600);
	t = token_now(&kc, 0);
	assert_string_equal(t, "sa-token-2");
	free(t);
	kube_config_release(&kc);

	/* IPv6 service address, namespace override */
	setenv("KUBERNETES_SERVICE_HOST", "fd00::1", 1);
	o.nspace = "other";
	load_ok(&kc, &o);
	assert_string_equal(kc.server, "https://[fd00::1]:443");
	assert_string_equal(kc.nspace, "other");
	kube_config_release(&kc);
	unsetenv("KUBERNETES_SERVICE_HOST");
	unsetenv("KUBERNETES_SERVICE_PORT");
	free(sa);
}

static void expect_error(const char *yaml, const char *part1, const char *part2)
{
	write_text("bad.yaml", yaml, 0600);
	set_kubeconfig("bad.yaml", NULL);
	struct kube_config_opts o = {0};
	char *msg = load_err(&o);
	if (!strstr(msg, part1) || (part2 && !strstr(msg, part2)) || !strstr(msg, "bad.yaml"))
		fail_msg("message '%s' lacks '%s' / '%s' / the file name", msg, part1,
		         part2 ? part2 : "");
	free(msg);
}

static void test_errors_name_file_and_key(void **state)
{
	expect_error("clusters: [\n", "line", NULL);
	expect_error("clusters: []\n", "no current-context", NULL);
	expect_error("current-context: x\ncontexts: []\n", "context 'x' is not defined", NULL);
	expect_error("current-context: x\ncontexts:\n- {name: x, context: {cluster: c, user: u}}\n",
	             "cluster 'c'", "not defined");
	expect_error("current-context: x\n"
	             "clusters:\n- {name: c, cluster: {insecure-skip-tls-verify: true}}\n"
	             "contexts:\n- {name: x, context: {cluster: c}}\n",
	             "cluster 'c' has no server", NULL);
	expect_error("current-context: x\n"
	             "clusters:\n- {name: c, cluster: {server: 'https://h', "
	             "certificate-authority-data: '@@@'}}\n"
	             "contexts:\n- {name: x, context: {cluster: c}}\n",
	             "certificate-authority-data", "base64");
	expect_error(
	    "current-context: x\n"
	    "clusters:\n- {name: c, cluster: {server: 'https://h', insecure-skip-tls-verify: "
	    "true, certificate-authority: ca.crt}}\n"
	    "contexts:\n- {name: x, context: {cluster: c}}\n",
	    "insecure", "cluster 'c'");
	expect_error("current-context: x\n"
	             "clusters:\n- {name: c, cluster: {server: 'https://h'}}\n"
	             "users:\n- {name: u, user: {client-certificate: a.crt}}\n"
	             "contexts:\n- {name: x, context: {cluster: c, user: u}}\n",
	             "user 'u'", "client-key");
	expect_error("current-context: x\n"
	             "clusters:\n- {name: c, cluster: {server: 'https://h'}}\n"
	             "users:\n- {name: u, user: {token: t, username: a, password: b}}\n"
	             "contexts:\n- {name: x, context: {cluster: c, user: u}}\n",
	             "more than one authentication method", "user 'u'");
	expect_error("current-context: x\n"
	             "clusters:\n- {name: c, cluster: {server: 'https://h'}}\n"
	             "users: []\n"
	             "contexts:\n- {name: x, context: {cluster: c, user: ghost}}\n",
	             "user 'ghost'", "not defined");
	expect_error("- just\n- a list\n", "not a map", NULL);

	/* an explicit file that does not exist */
	char *p = tpath("nope.yaml");
	struct kube_config_opts o = {.kubeconfig = p};
	char *msg = load_err(&o);
	assert_non_null(strstr(msg, "nope.yaml"));
	free(msg);
	free(p);
}

/* Issue 10 item 1: a tokenFile that is a FIFO (nobody writing) must not
 * hang in open(); it is refused as not a regular file. */
static void test_token_file_fifo_refused(void **state)
{
	char *fifo = tpath("token.fifo");
	assert_int_equal(mkfifo(fifo, 0600), 0);
	write_text("c.yaml",
	           "current-context: c\n"
	           "clusters:\n- {name: k, cluster: {server: 'https://127.0.0.1:6443'}}\n"
	           "users:\n- {name: tf, user: {tokenFile: token.fifo}}\n"
	           "contexts:\n- {name: c, context: {cluster: k, user: tf}}\n",
	           0600);
	set_kubeconfig("c.yaml", NULL);
	struct kube_config_opts o = {0};
	struct kube_config kc;
	load_ok(&kc, &o);
	char *bearer, *cert, *key;
	struct pg_err e;
	alarm(10); /* a hang fails the test instead of blocking ctest */
	assert_int_equal(kube_credentials(&kc, NULL, 0, &bearer, &cert, &key, &e), -1);
	alarm(0);
	assert_non_null(strstr(e.msg, "token.fifo"));
	assert_non_null(strstr(e.msg, "not a regular file"));
	kube_config_release(&kc);
	free(fifo);
}

/* Issue 10: -data fields are decoded as client-go does (standard Base64,
 * padding required); a corrupt one is an error naming the field. */
static void test_strict_base64(void **state)
{
	static const char *const bad[] = {
	    "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCg",    /* padding cut off */
	    "LS0tLS1CRUdJTiBDRVJU SUZJQ0FURS0tLS0tCg==", /* a space inside */
	    "LS0tLS1CRUdJTiBDRVJU_UZJQ0FURS0tLS0tCg==",  /* URL-safe alphabet */
	    "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCg=A",  /* data after padding */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *doc = xasprintf("current-context: c\n"
		                      "clusters:\n- {name: k, cluster: {server: 'https://h', "
		                      "certificate-authority-data: '%s'}}\n"
		                      "users:\n- {name: u, user: {token: abcdef}}\n"
		                      "contexts:\n- {name: c, context: {cluster: k, user: u}}\n",
		                      bad[i]);
		write_text("b.yaml", doc, 0600);
		free(doc);
		set_kubeconfig("b.yaml", NULL);
		struct kube_config_opts o = {0};
		char *msg = load_err(&o);
		assert_non_null(strstr(msg, "certificate-authority-data is not valid base64"));
		assert_non_null(strstr(msg, "cluster 'k'"));
		free(msg);
	}
	/* a line break inside the data (base64 -w76) is accepted; a corrupt
	 * key is named as the key */
	write_text(
	    "ok.yaml",
	    "current-context: c\n"
	    "clusters:\n- name: k\n  cluster:\n    server: 'https://h'\n"
	    "    certificate-authority-data: \"LS0tLS1CRUdJTiBDRVJU\\nSUZJQ0FURS0tLS0tCg==\"\n"
	    "users:\n- {name: u, user: {client-certificate-data: Y2VydA==, "
	    "client-key-data: '!!!!'}}\n"
	    "contexts:\n- {name: c, context: {cluster: k, user: u}}\n",
	    0600);
	set_kubeconfig("ok.yaml", NULL);
	struct kube_config_opts o = {0};
	char *msg = load_err(&o);
	assert_non_null(strstr(msg, "user 'u': client-key-data is not valid base64"));
	free(msg);
}

/* Issue 10 item 9: every credential is registered with the masker the
 * moment the kubeconfig (or the token file) is read. */
static void test_credentials_masked(void **state)
{
	mask_reset();
	write_text("tok", "file-token-0123456789\n", 0600);
	write_text(
	    "m.yaml",
	    "current-context: t\n"
	    "clusters:\n- {name: k, cluster: {server: 'https://h'}}\n"
	    "users:\n"
	    "- {name: t, user: {token: static-token-0123456789}}\n"
	    "- {name: b, user: {username: admin, password: basic-pass-0123}}\n"
	    "- {name: f, user: {tokenFile: tok}}\n"
	    "- name: k\n  user:\n    client-certificate-data: Y2VydA==\n"
	    "    client-key-data: LS0tLS1CRUdJTiBLRVktLS0tLQpzZWNyZXQta2V5LWxpbmUtQUJDREVGCg==\n"
	    "contexts:\n- {name: t, context: {cluster: k, user: t}}\n"
	    "- {name: b, context: {cluster: k, user: b}}\n"
	    "- {name: f, context: {cluster: k, user: f}}\n"
	    "- {name: k, context: {cluster: k, user: k}}\n",
	    0600);
	set_kubeconfig("m.yaml", NULL);
	static const char *const ctxs[] = {"t", "b", "f", "k"};
	for (size_t i = 0; i < 4; i++) {
		struct kube_config_opts o = {.context = ctxs[i]};
		struct kube_config kc;
		load_ok(&kc, &o);
		char *bearer, *cert, *key;
		struct pg_err e;
		assert_int_equal(kube_credentials(&kc, NULL, 0, &bearer, &cert, &key, &e), 0);
		free(bearer);
		free(cert);
		free(key);
		kube_config_release(&kc);
	}
	char *m =
	    mask_dup("403: Authorization: Bearer static-token-0123456789 / file-token-0123456789"
	             " / Basic YWRtaW46YmFzaWMtcGFzcy0wMTIz / basic-pass-0123 / "
	             "secret-key-line-ABCDEF");
	assert_null(strstr(m, "static-token"));
	assert_null(strstr(m, "file-token"));
	assert_null(strstr(m, "YWRtaW46YmFzaWMtcGFzcy0wMTIz"));
	assert_null(strstr(m, "basic-pass"));
	assert_null(strstr(m, "secret-key-line"));
	free(m);
	mask_reset();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_merge_first_wins, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_missing_file_skipped, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_overrides, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_token_file_and_certs, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_exec_plugin_cached_until_expiry, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_exec_plugin_expired_runs_again, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_exec_plugin_errors, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_in_cluster, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_errors_name_file_and_key, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_token_file_fifo_refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_strict_base64, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_credentials_masked, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
