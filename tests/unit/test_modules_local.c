/* test_modules_local.c - the local check modules (exec, file, tcp, manual):
 * their config errors with positions, the facts they report, and how their
 * default expectations judge those facts. Configs go through the same key
 * validation the loader applies before a module's parse hook. */
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <arpa/inet.h>
#include <unistd.h>

#include <cmocka.h>

#include "expect.h"
#include "keys.h"
#include "module.h"
#include "node.h"
#include "proc.h"

/* ---- helpers ------------------------------------------------------------ */

static char *tmpdir; /* one scratch directory for the whole test binary */

static char *tpath(const char *name)
{
	return xasprintf("%s/%s", tmpdir, name);
}

static void write_text(const char *name, const char *text)
{
	char *p = tpath(name);
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	free(p);
}

/* Validates and parses yaml as the config of module name. Returns what
 * parse returned (or -1 when key validation failed); d keeps diagnostics. */
static int parse_cfg(const char *name, const char *yaml, void **priv, struct diags *d)
{
	const struct check_module *m = module_find(name);
	struct node_limits lim = node_limits_default();
	struct node *root = NULL;
	assert_non_null(m);
	*priv = NULL;
	if (node_load_string("suite.yaml", yaml, strlen(yaml), &lim, &root, d) < 0)
		fail_msg("test YAML does not load: %s", yaml);
	int rc = -1;
	if (keys_validate(root, m->keys, name, d) == 0)
		rc = m->parse(root, NULL, priv, d);
	node_free(root);
	return rc;
}

/* Parses (which must succeed), runs once with a test context in tmpdir, and
 * fills out. */
static void run_cfg(const char *name, const char *yaml, const char *const *options,
		    long long timeout_ms, struct check_out *out)
{
	const struct check_module *m = module_find(name);
	struct diags d;
	void *priv = NULL;
	diags_init(&d);
	if (parse_cfg(name, yaml, &priv, &d) != 0) {
		diags_print(&d, stderr);
		fail_msg("config does not parse: %s", yaml);
	}
	diags_release(&d);
	struct check_ctx *ctx = ctx_new_for_test(tmpdir, timeout_ms, options, NULL);
	memset(out, 0, sizeof(*out));
	m->run(priv, ctx, out);
	ctx_free_for_test(ctx);
	m->free(priv);
}

/* Judges facts with the module's default expectation. */
static int default_passes(const char *name, json_t *facts)
{
	const struct check_module *m = module_find(name);
	struct expect *ex = NULL;
	struct expect_verdict v = {0};
	struct pg_err e;
	assert_int_equal(expect_compile_jq(m->default_expect, &ex, &e), 0);
	expect_judge(ex, facts, &v);
	int pass = v.pass;
	expect_verdict_release(&v);
	expect_free(ex);
	return pass;
}

/* Expects parsing to fail with a diagnostic at line:col containing text. */
static void expect_parse_error(const char *name, const char *yaml, unsigned line, unsigned col,
			       const char *text)
{
	struct diags d;
	void *priv = NULL;
	diags_init(&d);
	assert_int_equal(parse_cfg(name, yaml, &priv, &d), -1);
	assert_null(priv);
	assert_true(d.n >= 1);
	if (d.v[0].line != line || d.v[0].col != col || !strstr(d.v[0].msg, text)) {
		diags_print(&d, stderr);
		fail_msg("expected %u:%u '%s'", line, col, text);
	}
	diags_release(&d);
}

static const char *fstr(json_t *facts, const char *path)
{
	json_t *v = expect_path_get(facts, path);
	if (!json_is_string(v))
		fail_msg("facts.%s is not a string", path);
	return json_string_value(v);
}

static long long fint(json_t *facts, const char *path)
{
	json_t *v = expect_path_get(facts, path);
	if (!json_is_integer(v))
		fail_msg("facts.%s is not an integer", path);
	return json_integer_value(v);
}

static int fbool(json_t *facts, const char *path)
{
	json_t *v = expect_path_get(facts, path);
	if (!json_is_boolean(v))
		fail_msg("facts.%s is not a boolean", path);
	return json_is_true(v);
}

/* ---- exec --------------------------------------------------------------- */

static void test_exec_parse_errors(void **state)
{
	expect_parse_error("exec", "cwd: x\n", 1, 1, "needs argv");
	expect_parse_error("exec", "argv: []\n", 1, 7, "is empty");
	expect_parse_error("exec", "argv: [ls]\nshell: ls\n", 2, 8, "not both");
	expect_parse_error("exec", "argv: [ls]\nmax_output: 0\n", 2, 13, "max_output");
	expect_parse_error("exec", "argv: [ls]\nenv: {\"A=B\": x}\n", 2, 7, "not a variable name");
	expect_parse_error("exec", "argv: ls\n", 1, 7, "list");
	expect_parse_error("exec", "argv: [ls]\nshel: x\n", 2, 1, "shel");
}

static void test_exec_facts(void **state)
{
	struct check_out out;
	run_cfg("exec", "argv: [sh, -c, 'echo \"{\\\"a\\\": [1, 2]}\"; echo warn >&2']\n", NULL,
		10000, &out);
	assert_int_equal(out.forced, CHECK_JUDGE);
	assert_int_equal(fint(out.facts, "exit_code"), 0);
	assert_int_equal(fint(out.facts, "signal"), 0);
	assert_false(fbool(out.facts, "timed_out"));
	assert_string_equal(fstr(out.facts, "stderr"), "warn\n");
	assert_int_equal(fint(out.facts, "json.a[1]"), 2);
	assert_true(json_is_real(json_object_get(out.facts, "duration")));
	assert_true(default_passes("exec", out.facts));
	check_out_release(&out);

	/* Not JSON: no json fact. A non-zero exit fails the default. */
	run_cfg("exec", "argv: [sh, -c, 'echo nope; exit 3']\n", NULL, 10000, &out);
	assert_int_equal(out.forced, CHECK_JUDGE);
	assert_int_equal(fint(out.facts, "exit_code"), 3);
	assert_null(json_object_get(out.facts, "json"));
	assert_false(default_passes("exec", out.facts));
	assert_non_null(out.evidence);
	assert_non_null(strstr(out.evidence, "exit code 3"));
	assert_non_null(strstr(out.evidence, "nope"));
	check_out_release(&out);
}

static void test_exec_shell_env_cwd_stdin(void **state)
{
	struct check_out out;
	char *sub = tpath("execdir");
	mkdir(sub, 0755);
	free(sub);
	run_cfg("exec",
		"shell: 'read line; echo \"$line|$PG_X|$((1+2))\"; basename \"$(pwd)\"'\n"
		"env: {PG_X: from-env}\n"
		"cwd: execdir\n"
		"stdin: \"hello\\n\"\n",
		NULL, 10000, &out);
	assert_int_equal(out.forced, CHECK_JUDGE);
	assert_string_equal(fstr(out.facts, "stdout"), "hello|from-env|3\nexecdir\n");
	check_out_release(&out);

	/* Without shell:, shell syntax is just an argument. */
	run_cfg("exec", "argv: [echo, '$HOME && x']\n", NULL, 10000, &out);
	assert_string_equal(fstr(out.facts, "stdout"), "$HOME && x\n");
	check_out_release(&out);
}

static void test_exec_output_cap_and_binary(void **state)
{
	struct check_out out;
	run_cfg("exec", "argv: [head, -c, '5000', /dev/zero]\nmax_output: 100\n", NULL, 10000, &out);
	assert_true(fbool(out.facts, "stdout_truncated"));
	assert_int_equal(json_string_length(json_object_get(out.facts, "stdout")), 100);
	check_out_release(&out);

	/* Invalid UTF-8 still gives valid facts (U+FFFD in place). */
	run_cfg("exec", "argv: [printf, 'a\\377b']\n", NULL, 10000, &out);
	assert_string_equal(fstr(out.facts, "stdout"), "a\xef\xbf\xbd" "b");
	check_out_release(&out);
}

static void test_exec_errors(void **state)
{
	struct check_out out;
	run_cfg("exec", "argv: [pg-no-such-tool, get, pods]\n", NULL, 10000, &out);
	assert_int_equal(out.forced, CHECK_ERROR);
	assert_non_null(strstr(out.error, "command not found: 'pg-no-such-tool' (searched PATH)"));
	check_out_release(&out);

	/* The check's deadline kills the command: an error, with the output
	 * so far kept as evidence. */
	run_cfg("exec", "shell: 'echo started; sleep 100'\n", NULL, 300, &out);
	assert_int_equal(out.forced, CHECK_ERROR);
	assert_non_null(strstr(out.error, "did not finish within"));
	assert_true(fbool(out.facts, "timed_out"));
	assert_non_null(strstr(out.evidence, "started"));
	check_out_release(&out);
}

/* ---- file --------------------------------------------------------------- */

static void test_file_parse_errors(void **state)
{
	expect_parse_error("file", "exists: true\n", 1, 1, "path");
	expect_parse_error("file", "path: x\nsha256: abc\n", 2, 9, "64 hex digits");
	expect_parse_error("file", "path: x\nparse: toml\n", 2, 8, "yaml or json");
	expect_parse_error("file", "path: x\nmanifest_extra: true\n", 2, 17, "needs manifest");
	expect_parse_error("file", "path: \"\"\n", 1, 7, "empty");
}

static void test_file_sha256_vectors(void **state)
{
	struct check_out out;
	/* FIPS 180-4 examples, plus the one-block/two-block padding edges. */
	write_text("abc.txt", "abc");
	write_text("empty.txt", "");
	write_text("two.txt", "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq");
	run_cfg("file", "path: abc.txt\nsha256: true\n", NULL, 10000, &out);
	assert_string_equal(fstr(out.facts, "sha256"),
			    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	check_out_release(&out);
	run_cfg("file", "path: empty.txt\nsha256: true\n", NULL, 10000, &out);
	assert_string_equal(fstr(out.facts, "sha256"),
			    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	check_out_release(&out);
	run_cfg("file", "path: two.txt\nsha256: true\n", NULL, 10000, &out);
	assert_string_equal(fstr(out.facts, "sha256"),
			    "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
	check_out_release(&out);

	char *p = tpath("million.txt");
	FILE *f = fopen(p, "w");
	for (int i = 0; i < 1000000; i++)
		fputc('a', f);
	fclose(f);
	free(p);
	run_cfg("file",
		"path: million.txt\n"
		"sha256: CDC76E5C9914FB9281A1C7E284D73E67F1809A48A497200E046D39CCC7112CD0\n",
		NULL, 10000, &out);
	assert_string_equal(fstr(out.facts, "sha256"),
			    "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
	assert_true(fbool(out.facts, "sha256_ok"));
	assert_true(default_passes("file", out.facts));
	check_out_release(&out);

	run_cfg("file",
		"path: abc.txt\n"
		"sha256: cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0\n",
		NULL, 10000, &out);
	assert_false(fbool(out.facts, "sha256_ok"));
	assert_false(default_passes("file", out.facts));
	assert_non_null(strstr(out.evidence, "expected cdc76e5c"));
	check_out_release(&out);
}

static void test_file_stat_facts(void **state)
{
	struct check_out out;
	write_text("conf.yaml", "a: 1\nb: [x, y]\n");
	char *p = tpath("conf.yaml");
	chmod(p, 0640);
	char *l = tpath("conf.link");
	unlink(l);
	assert_int_equal(symlink("conf.yaml", l), 0);
	run_cfg("file", "path: conf.yaml\n", NULL, 10000, &out);
	assert_true(fbool(out.facts, "exists"));
	assert_string_equal(fstr(out.facts, "type"), "file");
	assert_int_equal(fint(out.facts, "size"), 15);
	assert_string_equal(fstr(out.facts, "mode"), "0640");
	assert_int_equal(fint(out.facts, "uid"), (long long)getuid());
	assert_true(fint(out.facts, "age") >= 0);
	assert_string_equal(fstr(out.facts, "path"), p);
	assert_true(default_passes("file", out.facts));
	check_out_release(&out);

	run_cfg("file", "path: conf.link\n", NULL, 10000, &out);
	assert_string_equal(fstr(out.facts, "type"), "link");
	assert_string_equal(fstr(out.facts, "link_target"), "conf.yaml");
	assert_int_equal(fint(out.facts, "size"), 15); /* of the target */
	check_out_release(&out);

	run_cfg("file", "path: .\n", NULL, 10000, &out);
	assert_string_equal(fstr(out.facts, "type"), "dir");
	check_out_release(&out);
	free(p);
	free(l);
}

static void test_file_absent(void **state)
{
	struct check_out out;
	run_cfg("file", "path: not-there.txt\n", NULL, 10000, &out);
	assert_int_equal(out.forced, CHECK_JUDGE); /* an observation, not an error */
	assert_false(fbool(out.facts, "exists"));
	assert_false(default_passes("file", out.facts));
	assert_non_null(strstr(out.evidence, "does not exist"));
	check_out_release(&out);

	run_cfg("file", "path: not-there.txt\nexists: false\n", NULL, 10000, &out);
	assert_false(fbool(out.facts, "exists"));
	assert_true(default_passes("file", out.facts));
	check_out_release(&out);

	run_cfg("file", "path: abc.txt\nexists: false\n", NULL, 10000, &out);
	assert_false(default_passes("file", out.facts));
	check_out_release(&out);
}

static void test_file_glob(void **state)
{
	struct check_out out;
	char *d = tpath("globdir");
	mkdir(d, 0755);
	free(d);
	write_text("globdir/b.bak", "2");
	write_text("globdir/a.bak", "1");
	write_text("globdir/c.txt", "3");
	run_cfg("file", "path: 'globdir/*.bak'\n", NULL, 10000, &out);
	assert_true(fbool(out.facts, "exists"));
	assert_int_equal(fint(out.facts, "count"), 2);
	const char *first = fstr(out.facts, "matches[0]");
	assert_non_null(strstr(first, "globdir/a.bak")); /* sorted */
	check_out_release(&out);

	run_cfg("file", "path: 'globdir/*.none'\n", NULL, 10000, &out);
	assert_false(fbool(out.facts, "exists"));
	assert_int_equal(fint(out.facts, "count"), 0);
	check_out_release(&out);
}

static void test_file_parse_content(void **state)
{
	struct check_out out;
	write_text("good.yaml", "replicas: 3\nname: argocd-server\n");
	write_text("bad.yaml", "a: 1\nb: [unclosed\n");
	write_text("good.json", "{\"items\": [1, 2, 3]}");
	write_text("bad.json", "{\n  \"a\": 1,\n  oops\n}");

	run_cfg("file", "path: good.yaml\nparse: yaml\n", NULL, 10000, &out);
	assert_int_equal(fint(out.facts, "content.replicas"), 3);
	assert_true(json_is_null(json_object_get(out.facts, "parse_error")));
	assert_true(default_passes("file", out.facts));
	check_out_release(&out);

	run_cfg("file", "path: bad.yaml\nparse: yaml\n", NULL, 10000, &out);
	assert_int_equal(out.forced, CHECK_JUDGE);
	const char *pe = fstr(out.facts, "parse_error");
	assert_true(strncmp(pe, "2:", 2) == 0 || strncmp(pe, "3:", 2) == 0);
	assert_false(default_passes("file", out.facts));
	check_out_release(&out);

	run_cfg("file", "path: good.json\nparse: json\n", NULL, 10000, &out);
	assert_int_equal(fint(out.facts, "content.items[2]"), 3);
	check_out_release(&out);

	run_cfg("file", "path: bad.json\nparse: json\n", NULL, 10000, &out);
	pe = fstr(out.facts, "parse_error");
	assert_true(strncmp(pe, "3:", 2) == 0);
	assert_false(default_passes("file", out.facts));
	check_out_release(&out);
}

static void test_file_manifest(void **state)
{
	struct check_out out;
	char *d = tpath("backup");
	mkdir(d, 0755);
	free(d);
	d = tpath("backup/apps");
	mkdir(d, 0755);
	free(d);
	write_text("backup/abc.yaml", "abc");
	write_text("backup/apps/empty.yaml", "");
	write_text("backup/SHA256SUMS",
		   "# made by sha256sum\n"
		   "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad  abc.yaml\n"
		   "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855 *apps/empty.yaml\n");
	run_cfg("file", "path: backup/SHA256SUMS\nmanifest: true\n", NULL, 10000, &out);
	assert_int_equal(fint(out.facts, "manifest.entries"), 2);
	assert_true(fbool(out.facts, "manifest.ok"));
	assert_int_equal(json_array_size(expect_path_get(out.facts, "manifest.mismatched")), 0);
	assert_true(default_passes("file", out.facts));
	check_out_release(&out);

	/* One changed file, one gone, one line that is not a manifest line. */
	write_text("backup/SHA256SUMS2",
		   "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855  abc.yaml\n"
		   "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855  gone.yaml\n"
		   "garbage line\n"
		   "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855  apps/empty.yaml\n");
	run_cfg("file", "path: backup/SHA256SUMS2\nmanifest: true\n", NULL, 10000, &out);
	assert_int_equal(fint(out.facts, "manifest.entries"), 3);
	assert_false(fbool(out.facts, "manifest.ok"));
	assert_string_equal(fstr(out.facts, "manifest.mismatched[0]"), "abc.yaml");
	assert_string_equal(fstr(out.facts, "manifest.missing[0]"), "gone.yaml");
	assert_int_equal(fint(out.facts, "manifest.malformed_lines[0]"), 3);
	assert_false(default_passes("file", out.facts));
	assert_non_null(strstr(out.evidence, "mismatch: abc.yaml"));
	check_out_release(&out);

	/* Files beside the manifest that it does not list. */
	run_cfg("file", "path: backup/SHA256SUMS\nmanifest: true\nmanifest_extra: true\n", NULL,
		10000, &out);
	assert_false(fbool(out.facts, "manifest.ok"));
	assert_string_equal(fstr(out.facts, "manifest.extra[0]"), "SHA256SUMS2");
	assert_int_equal(json_array_size(expect_path_get(out.facts, "manifest.extra")), 1);
	check_out_release(&out);
}

/* Hostile local files: a FIFO named as a manifest, a file to parse or an
 * http body_file must be refused at once (a blocking open() would ignore
 * every deadline); a path that cannot be examined is an error, never
 * "absent"; a dangling link is no file; a digest that cannot be computed is
 * an error, never a pass. */
static void test_file_hostile(void **state)
{
	struct check_out out;
	char *fifo = tpath("hostile.fifo");
	unlink(fifo);
	assert_int_equal(mkfifo(fifo, 0600), 0);

	run_cfg("file", "path: hostile.fifo\nmanifest: true\n", NULL, 2000, &out);
	assert_int_equal(out.forced, CHECK_ERROR);
	assert_non_null(strstr(out.error, "is a FIFO, not a regular file"));
	check_out_release(&out);
	run_cfg("file", "path: hostile.fifo\nparse: json\n", NULL, 2000, &out);
	assert_int_equal(out.forced, CHECK_ERROR);
	check_out_release(&out);
	run_cfg("file", "path: hostile.fifo\nsha256: true\n", NULL, 2000, &out);
	assert_int_equal(out.forced, CHECK_ERROR);
	assert_non_null(strstr(out.error, "not a regular file"));
	check_out_release(&out);
	run_cfg("http", "url: http://127.0.0.1:9/\nbody_file: hostile.fifo\n", NULL, 2000, &out);
	assert_int_equal(out.forced, CHECK_ERROR);
	assert_non_null(strstr(out.error, "FIFO"));
	check_out_release(&out);

	/* a directory has no digest */
	run_cfg("file", "path: .\nsha256: true\n", NULL, 2000, &out);
	assert_int_equal(out.forced, CHECK_ERROR);
	check_out_release(&out);

	/* a dangling link names no file; a loop cannot be answered */
	char *dl = tpath("dangling.link"), *l1 = tpath("loop1"), *l2 = tpath("loop2");
	unlink(dl);
	unlink(l1);
	unlink(l2);
	assert_int_equal(symlink("no-such-target", dl), 0);
	assert_int_equal(symlink("loop2", l1), 0);
	assert_int_equal(symlink("loop1", l2), 0);
	run_cfg("file", "path: dangling.link\n", NULL, 2000, &out);
	assert_int_equal(out.forced, CHECK_JUDGE);
	assert_false(fbool(out.facts, "exists"));
	assert_true(fbool(out.facts, "dangling"));
	assert_non_null(strstr(out.evidence, "dangling symbolic link"));
	assert_false(default_passes("file", out.facts));
	check_out_release(&out);
	run_cfg("file", "path: dangling.link\nsha256: true\n", NULL, 2000, &out);
	assert_false(fbool(out.facts, "exists"));
	assert_false(default_passes("file", out.facts));
	check_out_release(&out);
	run_cfg("file", "path: loop1\nexists: false\n", NULL, 2000, &out);
	assert_int_equal(out.forced, CHECK_ERROR);
	assert_non_null(strstr(out.error, "loop of symbolic links"));
	check_out_release(&out);

	unlink(fifo);
	unlink(dl);
	unlink(l1);
	unlink(l2);
	free(fifo);
	free(dl);
	free(l1);
	free(l2);
}

/* As a user who may not enter a directory, a file inside it is "cannot
 * tell", not absent, and an unreadable file to parse is an error. Runs in
 * a child as nobody when the tests run as root. */
static void test_file_unsearchable(void **state)
{
	char *dir = tpath("locked"), *inner = tpath("locked/secret.txt"), *unread = tpath("unread.json");
	mkdir(dir, 0700);
	write_text("locked/secret.txt", "x");
	write_text("unread.json", "{}");
	chmod(unread, 0);
	chmod(dir, 0);
	/* the scratch directory must be searchable by the child */
	chmod(tmpdir, 0755);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if (geteuid() == 0 && (setgid(65534) != 0 || setuid(65534) != 0))
			_exit(3);
		struct check_out out;
		run_cfg("file", "path: locked/secret.txt\nexists: false\n", NULL, 2000, &out);
		if (out.forced != CHECK_ERROR || !strstr(out.error, "cannot tell whether"))
			_exit(4);
		check_out_release(&out);
		run_cfg("file", "path: 'locked/*.txt'\nexists: false\n", NULL, 2000, &out);
		if (out.forced != CHECK_ERROR)
			_exit(5);
		check_out_release(&out);
		run_cfg("file", "path: unread.json\nparse: json\n", NULL, 2000, &out);
		if (out.forced != CHECK_ERROR || !strstr(out.error, "Permission denied"))
			_exit(6);
		check_out_release(&out);
		_exit(0);
	}
	int st = 0;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	chmod(dir, 0700);
	chmod(unread, 0600);
	unlink(inner);
	rmdir(dir);
	unlink(unread);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	free(dir);
	free(inner);
	free(unread);
}

/* ---- tcp ---------------------------------------------------------------- */

struct server {
	int fd;
	int port;
	char got[64];   /* what the client sent */
	const char *banner;
};

static void server_open(struct server *s, int backlog)
{
	struct sockaddr_in a = {.sin_family = AF_INET};
	socklen_t len = sizeof(a);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	s->fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(s->fd >= 0);
	assert_int_equal(bind(s->fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(s->fd, backlog), 0);
	assert_int_equal(getsockname(s->fd, (struct sockaddr *)&a, &len), 0);
	s->port = ntohs(a.sin_port);
}

static void *server_talk(void *arg)
{
	struct server *s = arg;
	int c = accept(s->fd, NULL, NULL);
	if (c < 0)
		return NULL;
	if (s->banner) {
		ssize_t w = write(c, s->banner, strlen(s->banner));
		(void)w;
	}
	ssize_t n = read(c, s->got, sizeof(s->got) - 1);
	if (n > 0)
		s->got[n] = 0;
	close(c);
	return NULL;
}

static void test_tcp_parse_errors(void **state)
{
	expect_parse_error("tcp", "host: localhost\n", 1, 1, "port");
	expect_parse_error("tcp", "host: localhost\nport: 70000\n", 2, 7, "between 1 and 65535");
	expect_parse_error("tcp", "host: localhost\nport: 80\nread_bytes: -1\n", 3, 13,
			   "read_bytes");
	expect_parse_error("tcp", "host: localhost\nport: http\n", 2, 7, "port");
}

static void test_tcp_connect_and_banner(void **state)
{
	struct server s = {.banner = "SSH-2.0-pg\r\n"};
	pthread_t t;
	struct check_out out;
	server_open(&s, 4);
	assert_int_equal(pthread_create(&t, NULL, server_talk, &s), 0);
	char *cfg = xasprintf("host: 127.0.0.1\nport: %d\nsend: \"ping\\n\"\nread_bytes: 64\n",
			      s.port);
	run_cfg("tcp", cfg, NULL, 5000, &out);
	pthread_join(t, NULL);
	assert_int_equal(out.forced, CHECK_JUDGE);
	assert_true(fbool(out.facts, "connected"));
	char *addr = xasprintf("127.0.0.1:%d", s.port);
	assert_string_equal(fstr(out.facts, "address"), addr);
	assert_true(fint(out.facts, "latency_ms") >= 0);
	assert_true(json_is_null(json_object_get(out.facts, "error")));
	assert_string_equal(fstr(out.facts, "banner"), "SSH-2.0-pg\r\n");
	assert_string_equal(fstr(out.facts, "banner_hex"), "5353482d322e302d70670d0a");
	assert_string_equal(s.got, "ping\n");
	assert_true(default_passes("tcp", out.facts));
	check_out_release(&out);
	free(addr);
	free(cfg);
	close(s.fd);
}

static void test_tcp_refused(void **state)
{
	struct check_out out;
	/* A port that was just free: bound, read back, closed. */
	struct sockaddr_in a = {.sin_family = AF_INET};
	socklen_t len = sizeof(a);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	close(fd);
	char *cfg = xasprintf("host: 127.0.0.1\nport: %d\n", ntohs(a.sin_port));
	run_cfg("tcp", cfg, NULL, 5000, &out);
	/* The check observed the world: a failure, not an error. */
	assert_int_equal(out.forced, CHECK_JUDGE);
	assert_false(fbool(out.facts, "connected"));
	assert_string_equal(fstr(out.facts, "error"), "connection refused");
	assert_false(default_passes("tcp", out.facts));
	assert_non_null(strstr(out.evidence, "connection refused"));
	check_out_release(&out);
	free(cfg);
}

static void test_tcp_names(void **state)
{
	struct server s = {0};
	pthread_t t;
	struct check_out out;
	server_open(&s, 4);
	assert_int_equal(pthread_create(&t, NULL, server_talk, &s), 0);
	char *cfg = xasprintf("host: localhost\nport: %d\n", s.port);
	run_cfg("tcp", cfg, NULL, 5000, &out);
	/* localhost may also resolve to ::1, which refuses: the next address
	 * is tried. Unblock the server in case nothing connected. */
	if (!fbool(out.facts, "connected")) {
		int c = socket(AF_INET, SOCK_STREAM, 0);
		struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)s.port)};
		a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		assert_int_equal(connect(c, (struct sockaddr *)&a, sizeof(a)), 0);
		close(c);
	}
	pthread_join(t, NULL);
	assert_true(fbool(out.facts, "connected"));
	assert_true(json_array_size(json_object_get(out.facts, "addresses")) >= 1);
	check_out_release(&out);
	free(cfg);
	close(s.fd);

	/* A name that cannot exist: whether the resolver answers NXDOMAIN or
	 * not at all, the check fails (within its deadline) and says why. */
	run_cfg("tcp", "host: pg-test-no-such-host.invalid\nport: 80\n", NULL, 1500, &out);
	assert_int_equal(out.forced, CHECK_JUDGE);
	assert_false(fbool(out.facts, "connected"));
	assert_non_null(strstr(fstr(out.facts, "error"),
			       "cannot resolve 'pg-test-no-such-host.invalid'"));
	check_out_release(&out);
}

static void test_tcp_no_answer(void **state)
{
	/* A listener that never accepts, with its queue filled: further SYNs
	 * are dropped, so the connect gets no answer until the deadline. */
	struct server s = {0};
	struct check_out out;
	int fill[8];
	int nfill = 0;
	server_open(&s, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)s.port)};
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	for (nfill = 0; nfill < 3; nfill++) {
		fill[nfill] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
		assert_true(fill[nfill] >= 0);
		int c = connect(fill[nfill], (struct sockaddr *)&a, sizeof(a));
		assert_true(c == 0 || errno == EINPROGRESS);
	}
	char *cfg = xasprintf("host: 127.0.0.1\nport: %d\n", s.port);
	run_cfg("tcp", cfg, NULL, 400, &out);
	if (fbool(out.facts, "connected")) {
		/* The kernel took one more than expected: nothing to assert. */
		check_out_release(&out);
		free(cfg);
		for (int i = 0; i < nfill; i++)
			close(fill[i]);
		close(s.fd);
		skip();
	}
	assert_int_equal(out.forced, CHECK_JUDGE);
	assert_non_null(strstr(fstr(out.facts, "error"), "no answer within"));
	assert_false(default_passes("tcp", out.facts));
	check_out_release(&out);
	free(cfg);
	for (int i = 0; i < nfill; i++)
		close(fill[i]);
	close(s.fd);
}

/* ---- manual ------------------------------------------------------------- */

/* The test context's check id is "test". */
static void test_manual_pending_without_file(void **state)
{
	struct check_out out;
	run_cfg("manual", "prompt: Support team trained\n", NULL, 5000, &out);
	assert_int_equal(out.forced, CHECK_PENDING);
	assert_string_equal(out.error,
			    "awaiting attestation of 'test' (record it in the --attest file)");
	assert_false(fbool(out.facts, "attested"));
	check_out_release(&out);
}

static void test_manual_attested(void **state)
{
	struct check_out out;
	write_text("attest-ok.yaml",
		   "other: {by: Someone, at: \"2026-11-20T09:00:00Z\"}\n"
		   "test: {by: \"Jane Doe\", at: \"2026-11-20T10:00:00Z\", note: trained on 11-19}\n");
	char *opt = xasprintf("attest=%s/attest-ok.yaml", tmpdir);
	const char *opts[] = {opt, NULL};
	run_cfg("manual", "prompt: Support team trained\nevidence_required: true\n", opts, 5000,
		&out);
	assert_int_equal(out.forced, CHECK_JUDGE);
	assert_true(fbool(out.facts, "attested"));
	assert_string_equal(fstr(out.facts, "by"), "Jane Doe");
	assert_string_equal(fstr(out.facts, "at"), "2026-11-20T10:00:00Z");
	assert_string_equal(out.attest_by, "Jane Doe");
	assert_string_equal(out.attest_note, "trained on 11-19");
	assert_true(default_passes("manual", out.facts));
	check_out_release(&out);
	free(opt);
}

static void test_manual_not_attested(void **state)
{
	struct check_out out;
	/* Listed without "by" is a broken file, not a sign-off; not listed:
	 * still pending. */
	write_text("attest-nobody.yaml", "test: {note: will do, at: \"2026-11-20T09:00:00Z\"}\n");
	char *opt = xasprintf("attest=%s/attest-nobody.yaml", tmpdir);
	const char *opts[] = {opt, NULL};
	run_cfg("manual", "prompt: x\n", opts, 5000, &out);
	assert_int_equal(out.forced, CHECK_ERROR);
	assert_non_null(strstr(out.error, "has no 'by'"));
	check_out_release(&out);
	free(opt);
	write_text("attest-other.yaml", "other: {by: A, at: \"2026-11-20T09:00:00Z\"}\n");
	opt = xasprintf("attest=%s/attest-other.yaml", tmpdir);
	opts[0] = opt;
	run_cfg("manual", "prompt: x\n", opts, 5000, &out);
	assert_int_equal(out.forced, CHECK_PENDING);
	check_out_release(&out);
	free(opt);

	/* Evidence required but the attestation carries no note. */
	write_text("attest-nonote.json",
		   "{\"test\": {\"by\": \"Jane\", \"at\": \"2026-11-20T09:00:00Z\"}}");
	opt = xasprintf("attest=%s/attest-nonote.json", tmpdir);
	opts[0] = opt;
	run_cfg("manual", "evidence_required: true\n", opts, 5000, &out);
	assert_int_equal(out.forced, CHECK_PENDING);
	assert_non_null(strstr(out.error, "evidence is required"));
	check_out_release(&out);
	free(opt);
}

static void test_manual_malformed_file(void **state)
{
	struct check_out out;
	write_text("attest-bad.yaml", "fine: {by: A, at: \"2026-11-20T09:00:00Z\"}\ntest: [by, Jane]\n");
	char *opt = xasprintf("attest=%s/attest-bad.yaml", tmpdir);
	const char *opts[] = {opt, NULL};
	run_cfg("manual", "prompt: x\n", opts, 5000, &out);
	assert_int_equal(out.forced, CHECK_ERROR);
	char *where = xasprintf("attest-bad.yaml:2:7:");
	assert_non_null(strstr(out.error, where));
	check_out_release(&out);
	free(where);
	free(opt);

	write_text("attest-junk.yaml", "test: {by: A\n");
	opt = xasprintf("attest=%s/attest-junk.yaml", tmpdir);
	opts[0] = opt;
	run_cfg("manual", "prompt: x\n", opts, 5000, &out);
	assert_int_equal(out.forced, CHECK_ERROR);
	assert_non_null(strstr(out.error, "attest-junk.yaml:"));
	check_out_release(&out);
	free(opt);

	opt = xasprintf("attest=%s/attest-missing.yaml", tmpdir);
	opts[0] = opt;
	run_cfg("manual", "prompt: x\n", opts, 5000, &out);
	assert_int_equal(out.forced, CHECK_ERROR);
	assert_non_null(strstr(out.error, "attest-missing.yaml"));
	check_out_release(&out);
	free(opt);
}

/* ---- describe ---------------------------------------------------------- */

static void check_describe(const char *name, const char *yaml, const char *want)
{
	const struct check_module *m = module_find(name);
	struct diags d;
	void *priv = NULL;
	diags_init(&d);
	assert_int_equal(parse_cfg(name, yaml, &priv, &d), 0);
	char *s = m->describe(priv);
	assert_string_equal(s, want);
	free(s);
	m->free(priv);
	diags_release(&d);
}

static void test_describe(void **state)
{
	check_describe("exec", "argv: [kubectl, get, pods, -l, 'app=argocd server']\n",
		       "run kubectl get pods -l 'app=argocd server'");
	check_describe("exec", "shell: 'ls | wc -l'\n", "run sh -c ls | wc -l");
	check_describe("tcp", "host: argocd.example\nport: 443\n",
		       "connect to argocd.example port 443");
	check_describe("file", "path: backup/SHA256SUMS\nmanifest: true\n",
		       "verify manifest backup/SHA256SUMS");
	check_describe("file", "path: x.yaml\nparse: yaml\nexists: true\n",
		       "check file x.yaml (parse yaml)");
	check_describe("manual", "prompt: Support team trained\n",
		       "manual sign-off: Support team trained");
}

/* ---- setup -------------------------------------------------------------- */

/* Removes the scratch directory (through the runner under test). */
static int rm_rf(const char *dir)
{
	const char *argv[] = {"rm", "-rf", "--", dir, NULL};
	struct proc_spec spec = {.argv = argv, .timeout_ms = 20000};
	struct proc_result r;
	struct pg_err e;
	int rc = proc_run(&spec, NULL, &r, &e);
	if (rc == 0 && r.exit_code != 0)
		rc = -1;
	proc_result_release(&r);
	return rc;
}

static int setup(void **state)
{
	const char *base = getenv("TMPDIR");
	tmpdir = xasprintf("%s/pg-modules-XXXXXX", base && *base ? base : "/tmp");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
	rm_rf(tmpdir);
	free(tmpdir);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exec_parse_errors),
		cmocka_unit_test(test_exec_facts),
		cmocka_unit_test(test_exec_shell_env_cwd_stdin),
		cmocka_unit_test(test_exec_output_cap_and_binary),
		cmocka_unit_test(test_exec_errors),
		cmocka_unit_test(test_file_parse_errors),
		cmocka_unit_test(test_file_sha256_vectors),
		cmocka_unit_test(test_file_stat_facts),
		cmocka_unit_test(test_file_absent),
		cmocka_unit_test(test_file_glob),
		cmocka_unit_test(test_file_parse_content),
		cmocka_unit_test(test_file_manifest),
		cmocka_unit_test(test_file_hostile),
		cmocka_unit_test(test_file_unsearchable),
		cmocka_unit_test(test_tcp_parse_errors),
		cmocka_unit_test(test_tcp_connect_and_banner),
		cmocka_unit_test(test_tcp_refused),
		cmocka_unit_test(test_tcp_names),
		cmocka_unit_test(test_tcp_no_answer),
		cmocka_unit_test(test_manual_pending_without_file),
		cmocka_unit_test(test_manual_attested),
		cmocka_unit_test(test_manual_not_attested),
		cmocka_unit_test(test_manual_malformed_file),
		cmocka_unit_test(test_describe),
	};
	/* scripts/tsan.sh skips what ThreadSanitizer cannot run (see there) */
	if (getenv("PG_TEST_SKIP"))
		cmocka_set_skip_filter(getenv("PG_TEST_SKIP"));
	return cmocka_run_group_tests(tests, setup, teardown);
}
