/* test_mask.c - the secrets masker in every encoding a secret comes back in
 * (runner/mask.c), and the single implementations in runner/util.c that
 * hardening relies on: strict Base64, SHA-256 through libcrypto, and
 * open_regular() refusing FIFOs and devices without blocking. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "mask.h"
#include "util.h"

/* Masks text and expects no trace of secret's visible part. */
static void expect_masked(const char *text, const char *want)
{
	char *s = mask_dup(text);
	if (strcmp(s, want) != 0)
		fail_msg("mask_dup(\"%s\")\n  gave \"%s\"\n  want \"%s\"", text, s, want);
	free(s);
}

static void test_refuses_short(void **state)
{
	mask_reset();
	assert_int_equal(mask_register("abc"), -1);
	assert_int_equal(mask_register(""), -1);
	assert_int_equal(mask_register(NULL), -1);
	assert_int_equal(mask_register_pair("u", "xy"), -1);
	expect_masked("abc xy", "abc xy");
	assert_int_equal(mask_register("abcd"), 0);
	expect_masked("abcd!", MASK_TEXT "!");
	mask_reset();
}

static void test_json_escaped(void **state)
{
	mask_reset();
	assert_int_equal(mask_register("pa\"ss\\word"), 0);
	assert_int_equal(mask_register("Z\xc3\xbcrich-42"), 0);
	assert_int_equal(mask_register("<a&b>/c"), 0);
	/* as jansson, Python and Go would write them inside a JSON string */
	expect_masked("{\"p\":\"pa\\\"ss\\\\word\"}", "{\"p\":\"" MASK_TEXT "\"}");
	expect_masked("{\"city\":\"Z\\u00fcrich-42\"}", "{\"city\":\"" MASK_TEXT "\"}");
	expect_masked("\"Z\xc3\xbcrich-42\"", "\"" MASK_TEXT "\"");
	expect_masked("x=\\u003ca\\u0026b\\u003e/c", "x=" MASK_TEXT);
	expect_masked("x=<a&b>\\/c", "x=" MASK_TEXT);
	mask_reset();
}

static void test_url_encoded(void **state)
{
	mask_reset();
	assert_int_equal(mask_register("p@ss w/rd:%"), 0);
	expect_masked("https://u:p%40ss%20w%2Frd%3A%25@host/", "https://u:" MASK_TEXT "@host/");
	expect_masked("pw=p%40ss+w%2frd%3a%25&x=1", "pw=" MASK_TEXT "&x=1");
	mask_reset();
}

static void test_base64(void **state)
{
	mask_reset();
	assert_int_equal(mask_register_pair("alice", "s3cr3t-pw"), 0);
	char *pair = base64_encode("alice:s3cr3t-pw", 15);
	char *hdr = xasprintf("Authorization: Basic %s", pair);
	expect_masked(hdr, "Authorization: Basic " MASK_TEXT);
	free(hdr);
	free(pair);
	/* another user with the same password: the password's Base64 at its
	 * offset inside the pair is still recognised */
	for (int k = 0; k < 3; k++) {
		char *plain = xasprintf("%.*sbob:s3cr3t-pw and more", k, "xx");
		char *enc = base64_encode(plain, strlen(plain));
		char *m = mask_dup(enc);
		if (strcmp(m, enc) == 0)
			fail_msg("offset %d: '%s' was not masked", k, enc);
		free(m);
		free(enc);
		free(plain);
	}
	/* URL-safe alphabet, no padding */
	mask_register("~~>>~~>>");
	char *b = base64_encode("~~>>~~>>", 8);
	for (char *p = b; *p; p++)
		*p = *p == '/' ? '_' : *p == '+' ? '-' : *p;
	b[strcspn(b, "=")] = 0;
	char *t = xasprintf("token=%s;", b);
	expect_masked(t, "token=" MASK_TEXT ";");
	free(t);
	free(b);
	mask_reset();
}

static void test_multiline(void **state)
{
	mask_reset();
	const char *pem = "-----BEGIN PRIVATE KEY-----\n"
	                  "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC\r\n"
	                  "BKcwggSjAgEAAoIBAQC7VJTUt9Us8cKj\n"
	                  "-----END PRIVATE KEY-----\n";
	assert_int_equal(mask_register(pem), 0);
	expect_masked("line: BKcwggSjAgEAAoIBAQC7VJTUt9Us8cKj.", "line: " MASK_TEXT ".");
	expect_masked("MIIEvQIBADANBgkqhkiG9w0BAQEFAASC", MASK_TEXT);
	/* the armour is not secret */
	expect_masked("-----BEGIN PRIVATE KEY-----", "-----BEGIN PRIVATE KEY-----");
	mask_reset();
}

static void test_cut(void **state)
{
	mask_reset();
	assert_int_equal(mask_register("correct-horse-battery"), 0);
	/* evidence cut inside the secret: its first characters must not show */
	char *s = mask_dup_cut("password is correct-hor", 1);
	assert_string_equal(s, "password is " MASK_TEXT);
	free(s);
	s = mask_dup_cut("password is correct-hor", 0);
	assert_string_equal(s, "password is correct-hor");
	free(s);
	s = mask_dup_cut("correct-horse-battery correct-", 1);
	assert_string_equal(s, MASK_TEXT " " MASK_TEXT);
	free(s);
	mask_reset();
}

static void test_base64_strict(void **state)
{
	size_t n = 0;
	char *s = base64_decode("aGVsbG8=", &n);
	assert_non_null(s);
	assert_int_equal(n, 5);
	assert_memory_equal(s, "hello", 5);
	free(s);
	s = base64_decode("aGVs\nbG8h\r\n", &n); /* wrapped lines are fine */
	assert_non_null(s);
	assert_string_equal(s, "hello!");
	free(s);
	s = base64_decode("", &n);
	assert_non_null(s);
	assert_int_equal(n, 0);
	free(s);
	/* corrupt: another alphabet, missing or misplaced padding, junk */
	static const char *const bad[] = {"aGVsbG8",      "aGVsbG8==", "aGV=sbG8", "aGVsbG8=x",
	                                  "aGVs bG8h",    "aGVs-G8_",  "a===",     "@@@@",
	                                  "aGVsbG8=====", "aG"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		s = base64_decode(bad[i], &n);
		if (s)
			fail_msg("'%s' was accepted as Base64", bad[i]);
	}
}

static void test_sha256(void **state)
{
	char hex[65];
	sha256_hex("", 0, hex);
	assert_string_equal(hex,
	                    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	sha256_hex("abc", 3, hex);
	assert_string_equal(hex,
	                    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	char path[] = "/tmp/pg-sha-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	const char *two = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
	assert_int_equal(write(fd, two, strlen(two)), (ssize_t)strlen(two));
	lseek(fd, 0, SEEK_SET);
	struct pg_err e;
	assert_int_equal(sha256_fd(fd, NULL, NULL, hex, &e), 0);
	assert_string_equal(hex,
	                    "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
	close(fd);
	unlink(path);
}

static void test_open_regular(void **state)
{
	char dir[] = "/tmp/pg-open-XXXXXX";
	assert_non_null(mkdtemp(dir));
	char *fifo = xasprintf("%s/fifo", dir);
	char *file = xasprintf("%s/file", dir);
	assert_int_equal(mkfifo(fifo, 0600), 0);
	FILE *f = fopen(file, "w");
	fputs("data", f);
	fclose(f);
	struct pg_err e;
	char *data = NULL;
	size_t len = 0;
	/* a FIFO with no writer: refused at once, never waited on */
	assert_int_equal(open_regular(fifo, &e), -1);
	assert_non_null(strstr(e.msg, "is a FIFO, not a regular file"));
	assert_int_equal(read_file_capped(fifo, 100, &data, &len, &e), -1);
	assert_int_equal(open_regular("/dev/zero", &e), -1);
	assert_non_null(strstr(e.msg, "character device"));
	assert_int_equal(open_regular(dir, &e), -1);
	assert_non_null(strstr(e.msg, "directory"));
	int fd = open_regular(file, &e);
	assert_true(fd >= 0);
	assert_false(fcntl(fd, F_GETFL) & O_NONBLOCK);
	close(fd);
	assert_int_equal(read_file_capped(file, 100, &data, &len, &e), 0);
	assert_string_equal(data, "data");
	free(data);
	unlink(fifo);
	unlink(file);
	rmdir(dir);
	free(fifo);
	free(file);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_refuses_short), cmocka_unit_test(test_json_escaped),
	    cmocka_unit_test(test_url_encoded),   cmocka_unit_test(test_base64),
	    cmocka_unit_test(test_multiline),     cmocka_unit_test(test_cut),
	    cmocka_unit_test(test_base64_strict), cmocka_unit_test(test_sha256),
	    cmocka_unit_test(test_open_regular),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
