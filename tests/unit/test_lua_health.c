/* test_lua_health.c - the Lua sandbox (limits, what a script cannot reach,
 * JSON <-> Lua conversion as Argo CD does it), the goto rewrite, and where
 * scripts come from (argocd-cm keys, a customizations directory, wildcards,
 * precedence). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
/* cmocka needs the headers above first */
#include <cmocka.h>

#include <ftw.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lua_health.h"
#include "luagoto.h"
#include "luasandbox.h"

static long long run_ms = 300; /* the time limit of run() */

/* Runs script on obj (JSON text) with small limits; returns the verdict
 * "Status|message" or "ERR|message" (malloc'd). */
static char *run(const char *script, const char *objtext, enum luasb_libs libs)
{
	json_t *obj = objtext ? json_loads(objtext, 0, NULL) : NULL;
	struct luasb_limits lim = luasb_limits_default();
	lim.max_ms = run_ms;
	lim.max_bytes = 8u << 20;
	json_t *r = NULL;
	const char *rtype = NULL;
	struct pg_err e;
	char *out;
	if (luasb_run(script, strlen(script), "=health.lua", obj, libs, &lim, &r, &rtype, &e) !=
	    0) {
		out = xasprintf("ERR|%s", e.msg);
	} else {
		char *j = r ? json_dumps(r, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY) : NULL;
		out = xasprintf("%s|%s", rtype, j ? j : "");
		free(j);
	}
	json_decref(r);
	json_decref(obj);
	return out;
}

static void expect_run(const char *script, const char *obj, const char *want)
{
	char *got = run(script, obj, LUASB_LIBS_OPEN);
	if (strcmp(got, want) != 0)
		fail_msg("script:\n%s\nwant %s\n got %s", script, want, got);
	free(got);
}

static void expect_error_has(const char *script, enum luasb_libs libs, const char *part)
{
	char *got = run(script, NULL, libs);
	if (strncmp(got, "ERR|", 4) != 0 || !strstr(got, part))
		fail_msg("script:\n%s\nwant an error with '%s'\n got %s", script, part, got);
	free(got);
}

static void test_limits(void **state)
{
	(void)state;
	expect_error_has("while true do end", LUASB_LIBS_OPEN, "the script ran");
	/* an error caught by pcall does not let the script go on */
	expect_error_has("while true do pcall(function() while true do end end) end "
	                 "return {status='Healthy'}",
	                 LUASB_LIBS_OPEN, "the script ran");
	expect_error_has("local co = coroutine.wrap(function() while true do end end) co()",
	                 LUASB_LIBS_OPEN, "the script ran");
	/* memory, with time enough to reach the cap even in a slow build */
	run_ms = 20000;
	expect_error_has("local t = {} local s = 'x' while true do s = s .. s t[#t + 1] = s end",
	                 LUASB_LIBS_OPEN, "MiB of memory");
	expect_error_has("local ok = pcall(string.rep, 'x', 1e9) return {status = 'Healthy'}",
	                 LUASB_LIBS_OPEN, "MiB of memory");
	expect_error_has("local t = {} for i = 1, 1e8 do t[i] = {i} end", LUASB_LIBS_OPEN,
	                 "MiB of memory");
	run_ms = 300;
	/* a pattern match backtracking inside C, where no hook runs, is
	 * stopped by killing the interpreter's process */
	expect_error_has("local s = string.rep('a', 5000) return {n = string.find(s, "
	                 "'.-.-.-.-.-.-b')}",
	                 LUASB_LIBS_OPEN, "the script was still running after 1300 ms of CPU time");
	/* a limit reached in a run does not carry over to the next one (the
	 * killed worker is replaced), nor does a stopped worker */
	expect_run("return {status = 'Healthy'}", NULL, "table|{\"status\":\"Healthy\"}");
	luasb_shutdown();
	/* the worker started now keeps no copy of a pipe open in phasegate:
	 * once phasegate closes the write end, the reader sees the end */
	int p[2];
	assert_int_equal(pipe(p), 0);
	expect_run("return {status = 'Healthy'}", NULL, "table|{\"status\":\"Healthy\"}");
	close(p[1]);
	struct pollfd pf = {.fd = p[0], .events = POLLIN};
	assert_int_equal(poll(&pf, 1, 5000), 1);
	char c;
	assert_int_equal(read(p[0], &c, 1), 0);
	close(p[0]);
}

static void test_nothing_outside(void **state)
{
	(void)state;
	expect_error_has("os.execute('touch /tmp/pg-lua-escape')", LUASB_LIBS_OPEN,
	                 "attempt to call field 'execute'");
	expect_error_has("os.exit(1)", LUASB_LIBS_OPEN, "attempt to call field 'exit'");
	expect_error_has("os.getenv('HOME')", LUASB_LIBS_OPEN, "attempt to call field 'getenv'");
	expect_error_has("os.remove('/tmp/x')", LUASB_LIBS_OPEN, "attempt to call field 'remove'");
	expect_error_has("io.open('/etc/passwd')", LUASB_LIBS_OPEN, "attempt to index global 'io'");
	expect_error_has("require('io')", LUASB_LIBS_OPEN, "module 'io' not found");
	expect_error_has("require('socket')", LUASB_LIBS_OPEN, "module 'socket' not found");
	expect_error_has("dofile('/etc/passwd')", LUASB_LIBS_OPEN,
	                 "attempt to call global 'dofile'");
	expect_error_has("loadfile('/etc/passwd')", LUASB_LIBS_OPEN,
	                 "attempt to call global 'loadfile'");
	expect_error_has("loadstring('return 1')()", LUASB_LIBS_OPEN,
	                 "attempt to call global 'loadstring'");
	expect_error_has("load(function() return nil end)", LUASB_LIBS_OPEN,
	                 "attempt to call global 'load'");
	expect_error_has("debug.getinfo(1)", LUASB_LIBS_OPEN, "attempt to index global 'debug'");
	expect_error_has("package.loadlib('libc.so.6', 'system')", LUASB_LIBS_OPEN,
	                 "attempt to index global 'package'");
	expect_error_has("string.dump(print)", LUASB_LIBS_OPEN, "attempt to call field 'dump'");
	/* without useOpenLibs a configured script has no string or math library */
	expect_error_has("return {status = string.format('%s', 'Healthy')}", LUASB_LIBS_BASE,
	                 "attempt to index global 'string'");
	expect_error_has("return {status = math.floor(1)}", LUASB_LIBS_BASE,
	                 "attempt to index global 'math'");
	/* precompiled chunks never reach the loader */
	expect_error_has("\033Lua\x51", LUASB_LIBS_OPEN, "precompiled");
	/* what scripts may use */
	expect_run(
	    "local os2 = require('os') return {t = type(os2.time()), d = type(os.date('!%Y'))}",
	    NULL, "table|{\"d\":\"string\",\"t\":\"number\"}");
	expect_run("print('to nowhere') return {n = table.getn({1, 2})}", NULL, "table|{\"n\":2}");
	char *got = run("return {s = tostring(#'abc')}", NULL, LUASB_LIBS_BASE);
	assert_string_equal(got, "table|{\"s\":\"3\"}");
	free(got);
}

static void test_errors(void **state)
{
	(void)state;
	expect_error_has("error('boom')", LUASB_LIBS_OPEN, "health.lua:1: boom");
	expect_error_has("local x = nil\nreturn x.y", LUASB_LIBS_OPEN,
	                 "health.lua:2: attempt to index local 'x'");
	expect_error_has("error({})", LUASB_LIBS_OPEN, "error object is a table value");
	expect_error_has("return {", LUASB_LIBS_OPEN, "health.lua:1:");
}

static void test_json_both_ways(void **state)
{
	(void)state;
	const char *obj = "{\"a\":null,\"b\":[1,null,3],\"n\":2.5,\"i\":7,\"t\":true,"
	                  "\"s\":\"x\",\"e\":{},\"ea\":[]}";
	/* null members are absent, null items are left out of arrays */
	expect_run("return {a = obj.a == nil, nb = #obj.b, b2 = obj.b[2], n = obj.n, i = obj.i,"
	           " t = obj.t, s = obj.s, e = next(obj.e) == nil, ea = #obj.ea}",
	           obj,
	           "table|{\"a\":true,\"b2\":3,\"e\":true,\"ea\":0,\"i\":7,\"n\":2.5,\"nb\":2,"
	           "\"s\":\"x\",\"t\":true}");
	/* an empty table is an empty array; keys 1..n an array */
	expect_run("return {}", NULL, "table|[]");
	expect_run("return {1, 'a', {x = 1}}", NULL, "table|[1,\"a\",{\"x\":1}]");
	expect_run("return 'text'", NULL, "string|\"text\"");
	expect_run("return", NULL, "nil|");
	expect_run("return {status = 'Healthy'}, 3", NULL, "number|3");
	expect_run("return obj", NULL, "nil|");
	expect_error_has("return {[1] = 1, [3] = 3}", LUASB_LIBS_OPEN, "sparse array");
	expect_error_has("return {1, x = 2}", LUASB_LIBS_OPEN, "mixed or invalid key types");
	expect_error_has("return {[true] = 1}", LUASB_LIBS_OPEN, "mixed or invalid key types");
	expect_error_has("local t = {} t.self = t return t", LUASB_LIBS_OPEN, "recursively nested");
	expect_error_has("return {f = print}", LUASB_LIBS_OPEN, "cannot encode function to JSON");
	expect_error_has("return {x = 0/0}", LUASB_LIBS_OPEN, "unsupported value: NaN");
}

static char *rewrite(const char *src)
{
	char *out = NULL;
	size_t n = 0;
	struct pg_err e;
	if (luagoto_rewrite(src, strlen(src), &out, &n, &e) != 0)
		return xasprintf("ERR %s", e.msg);
	return out ? out : xstrdup(src);
}

static void test_goto(void **state)
{
	(void)state;
	/* continue, with a break of the same loop and one of an inner loop */
	const char *cont = "local out = {}\n"
	                   "for i = 1, 10 do\n"
	                   "  if i % 2 == 0 then goto continue end\n"
	                   "  for j = 1, 3 do if j == 2 then break end end\n"
	                   "  if i > 7 then break end\n"
	                   "  table.insert(out, i)\n"
	                   "  ::continue::\n"
	                   "end\n"
	                   "return {message = table.concat(out, ',')}\n";
	expect_run(cont, NULL, "table|{\"message\":\"1,3,5,7\"}");
	/* the rewrite keeps every line where it was */
	char *r = rewrite(cont);
	size_t lines = 0;
	for (const char *p = r; *p; p++)
		lines += *p == '\n';
	assert_int_equal(lines, 9);
	free(r);
	/* a label ending an if inside a while loop (Argo CD's HTTPRoute shape) */
	expect_run("local i, n = 0, 0\n"
	           "while i < 6 do\n"
	           "  i = i + 1\n"
	           "  if i ~= 100 then\n"
	           "    if i % 3 == 0 then goto continue end\n"
	           "    if i == 5 then break end\n"
	           "    n = n + i\n"
	           "    ::continue::\n"
	           "  end\n"
	           "end\n"
	           "return {n = n, i = i}\n",
	           NULL, "table|{\"i\":5,\"n\":7}");
	/* words inside strings and comments are not code */
	expect_run("local s = 'goto x' -- goto y\nlocal t = [[::z::]]\nreturn {s = s, t = t}", NULL,
	           "table|{\"s\":\"goto x\",\"t\":\"::z::\"}");
	/* other shapes are refused with the line */
	r = rewrite("::top::\nlocal i = 1\ngoto top\n");
	assert_non_null(strstr(r, "ERR line 3: goto top"));
	free(r);
	r = rewrite("for i = 1, 2 do\n  for j = 1, 2 do goto continue end\n  ::continue::\nend\n");
	assert_non_null(strstr(r, "ERR line 2: goto continue"));
	free(r);
	r = rewrite("local x = 1\nreturn x\n");
	assert_string_equal(r, "local x = 1\nreturn x\n");
	free(r);
}

/* ---- where scripts come from ------------------------------------------ */

static char tmpdir[] = "/tmp/pg-lua-health-XXXXXX";

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void write_script(const char *rel, const char *text)
{
	char *path = xasprintf("%s/%s", tmpdir, rel);
	for (char *p = path + strlen(tmpdir) + 1; *p; p++)
		if (*p == '/') {
			*p = 0;
			mkdir(path, 0755);
			*p = '/';
		}
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	free(path);
}

static const char *verdict(struct lua_health *h, const char *objtext, char **msg)
{
	json_t *obj = json_loads(objtext, 0, NULL);
	assert_non_null(obj);
	const char *s = lua_health_of(h, obj, msg, NULL);
	json_decref(obj);
	return s;
}

static void expect_verdict(struct lua_health *h, const char *obj, const char *status,
                           const char *message)
{
	char *msg = NULL;
	const char *s = verdict(h, obj, &msg);
	if (strcmp(s, status) != 0 || strcmp(msg, message) != 0)
		fail_msg("%s: want %s '%s', got %s '%s'", obj, status, message, s, msg);
	free(msg);
}

#define WIDGET                                                                                     \
	"{\"apiVersion\":\"example.com/v1\",\"kind\":\"Widget\",\"metadata\":{\"name\":\"w\"}}"
#define GADGET "{\"apiVersion\":\"x.example.com/v1\",\"kind\":\"Gadget\"}"
#define CMAP "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"data\":{\"k\":\"v\"}}"

static void test_lookup(void **state)
{
	(void)state;
	assert_non_null(mkdtemp(tmpdir));
	write_script("example.com/Widget/health.lua",
	             "return {status = 'Degraded', message = 'dir ' .. obj.metadata.name}");
	write_script("_.example.com/_/health.lua",
	             "return {status = 'Suspended', message = 'wild'}");
	write_script("ConfigMap/health.lua",
	             "return {status = 'Progressing', message = obj.data.k}");
	write_script("bad.example.com/Loop/health.lua", "while true do end");
	write_script("bad.example.com/Status/health.lua", "return {status = 'Fine'}");
	write_script("bad.example.com/Nil/health.lua", "local x = 1");
	write_script("bad.example.com/Empty/health.lua", "return {}");
	write_script("bad.example.com/Number/health.lua", "return {status = 1}");

	struct lua_health *h = NULL;
	struct pg_err e;
	assert_int_equal(lua_health_new("/nonexistent/dir", &h, &e), -1);
	assert_non_null(strstr(e.msg, "does not exist"));
	assert_int_equal(lua_health_new(tmpdir, &h, &e), 0);

	/* the directory: exact group/Kind, then "_" wildcards; core kinds by Kind */
	expect_verdict(h, WIDGET, "Degraded", "dir w");
	expect_verdict(h, GADGET, "Suspended", "wild");
	expect_verdict(h, CMAP, "Progressing", "v");
	/* no script: the built-in rules */
	expect_verdict(h, "{\"apiVersion\":\"other.io/v1\",\"kind\":\"Thing\"}", "Healthy", "");
	expect_verdict(h,
	               "{\"apiVersion\":\"v1\",\"kind\":\"PersistentVolumeClaim\","
	               "\"status\":{\"phase\":\"Pending\"}}",
	               "Progressing", "");
	/* names that are not Kubernetes names never become paths */
	expect_verdict(h, "{\"apiVersion\":\"v1\",\"kind\":\"../example.com/Widget\"}", "Healthy",
	               "");
	/* scripts that fail give Unknown with the reason */
	expect_verdict(h, "{\"apiVersion\":\"bad.example.com/v1\",\"kind\":\"Status\"}", "Unknown",
	               "Lua returned an invalid health status");
	expect_verdict(h, "{\"apiVersion\":\"bad.example.com/v1\",\"kind\":\"Nil\"}", "Unknown",
	               "expect table output from Lua script, not nil");
	expect_verdict(h, "{\"apiVersion\":\"bad.example.com/v1\",\"kind\":\"Empty\"}", "Unknown",
	               "Lua returned an invalid health status");
	char *msg = NULL;
	assert_string_equal(
	    verdict(h, "{\"apiVersion\":\"bad.example.com/v1\",\"kind\":\"Number\"}", &msg),
	    "Unknown");
	assert_non_null(strstr(msg, "not a string"));
	free(msg);
	int by = 0;
	json_t *o =
	    json_loads("{\"apiVersion\":\"bad.example.com/v1\",\"kind\":\"Loop\"}", 0, NULL);
	assert_string_equal(lua_health_of(h, o, &msg, &by), "Unknown");
	assert_int_equal(by, 1);
	assert_non_null(strstr(msg, "the script ran"));
	free(msg);
	json_decref(o);

	/* argocd-cm: exact key, then a glob, then the directory; the split
	 * keys win over the older resource.customizations key */
	json_t *cm = json_pack(
	    "{s:s, s:s, s:s, s:s, s:s}", "resource.customizations.health.example.com_Widget",
	    "return {status = 'Healthy', message = 'cm'}",
	    "resource.customizations.health.*.example.com_*",
	    "return {status = 'Missing', message = 'cm glob'}",
	    "resource.customizations.health.ConfigMap",
	    "return {status = 'Healthy', message = string.upper(obj.data.k)}",
	    "resource.customizations.useOpenLibs.ConfigMap", "true", "resource.customizations",
	    "example.com/Widget:\n  health.lua: |\n    return {status = 'Degraded'}\n"
	    "apps.example.com/Tool:\n  health.lua: |\n    return {status = 'Healthy', message = "
	    "string.lower('X')}\n");
	assert_int_equal(lua_health_add_argocd_cm(h, cm, &e), 0);
	json_decref(cm);
	expect_verdict(h, WIDGET, "Healthy", "cm");
	expect_verdict(h, GADGET, "Missing", "cm glob");
	expect_verdict(h, CMAP, "Healthy", "V");
	/* a configured script without useOpenLibs has no string library */
	msg = NULL;
	assert_string_equal(
	    verdict(h, "{\"apiVersion\":\"apps.example.com/v1\",\"kind\":\"Tool\"}", &msg),
	    "Unknown");
	assert_non_null(strstr(msg, "attempt to index global 'string'"));
	free(msg);

	cm = json_pack("{s:s}", "resource.customizations.useOpenLibs.ConfigMap", "maybe");
	assert_int_equal(lua_health_add_argocd_cm(h, cm, &e), -1);
	assert_non_null(strstr(e.msg, "must be true or false"));
	json_decref(cm);
	cm = json_pack("{s:s}", "resource.customizations.health.a_b_c", "return {}");
	assert_int_equal(lua_health_add_argocd_cm(h, cm, &e), -1);
	assert_non_null(strstr(e.msg, "group_Kind"));
	json_decref(cm);
	cm = json_pack("{s:s}", "resource.customizations", "a: [unclosed");
	assert_int_equal(lua_health_add_argocd_cm(h, cm, &e), -1);
	assert_non_null(strstr(e.msg, "not valid YAML"));
	json_decref(cm);
	lua_health_free(h);

	nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_limits), cmocka_unit_test(test_nothing_outside),
	    cmocka_unit_test(test_errors), cmocka_unit_test(test_json_both_ways),
	    cmocka_unit_test(test_goto),   cmocka_unit_test(test_lookup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
