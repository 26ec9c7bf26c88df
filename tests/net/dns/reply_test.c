/* reply_test.c - unit tests of the dns module's reply parsing: hand-built
 * DNS replies (compressed names, every record type the module decodes,
 * error rcodes, cut-short and malformed data) turned into facts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "util.h"

int dns_reply_facts(const unsigned char *abuf, int alen, int qtype, json_t *facts,
                    struct pg_err *e);

/* A reply under construction. */
struct msg {
	unsigned char b[512];
	size_t n;
};

static void put(struct msg *m, const void *p, size_t n)
{
	assert_true(m->n + n <= sizeof(m->b));
	memcpy(m->b + m->n, p, n);
	m->n += n;
}

static void put16(struct msg *m, unsigned v)
{
	unsigned char x[2] = {(unsigned char)(v >> 8), (unsigned char)v};
	put(m, x, 2);
}

static void put32(struct msg *m, unsigned long v)
{
	put16(m, (unsigned)(v >> 16) & 0xffff);
	put16(m, (unsigned)v & 0xffff);
}

/* "a.b" as labels, ending with the root label. */
static void putname(struct msg *m, const char *name)
{
	while (*name) {
		const char *dot = strchr(name, '.');
		size_t n = dot ? (size_t)(dot - name) : strlen(name);
		unsigned char len = (unsigned char)n;
		put(m, &len, 1);
		put(m, name, n);
		name += n + (dot ? 1 : 0);
	}
	put(m, "", 1);
}

/* A pointer to an earlier name (compression). */
static void putptr(struct msg *m, unsigned off)
{
	put16(m, 0xc000 | off);
}

/* Header + one question for qname/qtype; the question name sits at 12. */
static void start(struct msg *m, unsigned flags, unsigned ancount, const char *qname,
                  unsigned qtype)
{
	m->n = 0;
	put16(m, 0x1234);
	put16(m, flags);
	put16(m, 1);
	put16(m, ancount);
	put16(m, 0);
	put16(m, 0);
	putname(m, qname);
	put16(m, qtype);
	put16(m, 1);
}

/* Starts a record owned by the name at offset 12; returns where RDLENGTH
 * goes so that end_rr() can fill it in. */
static size_t rr(struct msg *m, unsigned type, unsigned long ttl)
{
	putptr(m, 12);
	put16(m, type);
	put16(m, 1);
	put32(m, ttl);
	put16(m, 0);
	return m->n;
}

static void end_rr(struct msg *m, size_t at)
{
	size_t len = m->n - at;
	m->b[at - 2] = (unsigned char)(len >> 8);
	m->b[at - 1] = (unsigned char)len;
}

static json_t *facts_of(struct msg *m, int qtype)
{
	json_t *f = json_object();
	struct pg_err e = {{0}};
	if (dns_reply_facts(m->b, (int)m->n, qtype, f, &e) != 0)
		fail_msg("unexpected error: %s", e.msg);
	return f;
}

static const char *str_at(json_t *f, const char *key, size_t i, const char *field)
{
	json_t *v = json_array_get(json_object_get(f, key), i);
	if (field)
		v = json_object_get(v, field);
	assert_non_null(v);
	return json_string_value(v);
}

#define QR_AA 0x8400u /* response, authoritative, NOERROR */

static void test_a_with_cname(void **state)
{
	struct msg m;
	start(&m, QR_AA, 3, "alias.test.internal", 1);
	size_t at = rr(&m, 5, 300); /* CNAME -> api.test.internal, compressed */
	size_t target = m.n;
	put(&m,
	    "\x03"
	    "api",
	    4);
	putptr(&m, 12 + 6); /* "test.internal" inside the question name */
	end_rr(&m, at);
	/* The A records are owned by the CNAME target. */
	putptr(&m, (unsigned)target);
	put16(&m, 1);
	put16(&m, 1);
	put32(&m, 60);
	put16(&m, 4);
	put(&m, "\x7f\x00\x00\x01", 4);
	putptr(&m, (unsigned)target);
	put16(&m, 1);
	put16(&m, 1);
	put32(&m, 4294967295UL);
	put16(&m, 4);
	put(&m, "\x0a\x00\x00\x02", 4);

	json_t *f = facts_of(&m, 1);
	assert_string_equal(json_string_value(json_object_get(f, "rcode")), "NOERROR");
	assert_true(json_is_true(json_object_get(f, "authoritative")));
	assert_true(json_is_false(json_object_get(f, "truncated")));
	assert_int_equal(json_integer_value(json_object_get(f, "count")), 2);
	assert_int_equal(json_array_size(json_object_get(f, "answers")), 3);
	assert_string_equal(str_at(f, "answers", 0, "type"), "CNAME");
	assert_string_equal(str_at(f, "answers", 0, "value"), "api.test.internal");
	assert_string_equal(str_at(f, "answers", 1, "name"), "api.test.internal");
	assert_int_equal(json_integer_value(json_object_get(
	                     json_array_get(json_object_get(f, "answers"), 1), "ttl")),
	                 60);
	assert_int_equal(json_integer_value(json_object_get(
	                     json_array_get(json_object_get(f, "answers"), 2), "ttl")),
	                 4294967295LL);
	assert_string_equal(str_at(f, "values", 0, NULL), "127.0.0.1");
	assert_string_equal(str_at(f, "values", 1, NULL), "10.0.0.2");
	json_decref(f);
}

static void test_aaaa_mx_srv_txt_ns_ptr(void **state)
{
	struct msg m;
	start(&m, QR_AA, 1, "api.test.internal", 28);
	size_t at = rr(&m, 28, 5);
	put(&m, "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x01", 16);
	end_rr(&m, at);
	json_t *f = facts_of(&m, 28);
	assert_string_equal(str_at(f, "values", 0, NULL), "2001:db8::1");
	json_decref(f);

	start(&m, QR_AA, 1, "test.internal", 15);
	at = rr(&m, 15, 300);
	put16(&m, 10);
	put(&m,
	    "\x04"
	    "mail",
	    5);
	putptr(&m, 12);
	end_rr(&m, at);
	f = facts_of(&m, 15);
	json_t *a = json_array_get(json_object_get(f, "answers"), 0);
	assert_int_equal(json_integer_value(json_object_get(a, "preference")), 10);
	assert_string_equal(json_string_value(json_object_get(a, "exchange")),
	                    "mail.test.internal");
	assert_string_equal(str_at(f, "values", 0, NULL), "10 mail.test.internal");
	json_decref(f);

	start(&m, QR_AA, 1, "_https._tcp.test.internal", 33);
	at = rr(&m, 33, 300);
	put16(&m, 1);
	put16(&m, 5);
	put16(&m, 18443);
	putname(&m, "api.test.internal");
	end_rr(&m, at);
	f = facts_of(&m, 33);
	a = json_array_get(json_object_get(f, "answers"), 0);
	assert_int_equal(json_integer_value(json_object_get(a, "priority")), 1);
	assert_int_equal(json_integer_value(json_object_get(a, "weight")), 5);
	assert_int_equal(json_integer_value(json_object_get(a, "port")), 18443);
	assert_string_equal(json_string_value(json_object_get(a, "target")), "api.test.internal");
	assert_string_equal(str_at(f, "values", 0, NULL), "1 5 18443 api.test.internal");
	json_decref(f);

	/* TXT: several character-strings, a byte outside printable ASCII. */
	start(&m, QR_AA, 1, "txt.test.internal", 16);
	at = rr(&m, 16, 300);
	put(&m,
	    "\x07v=feas1\x03"
	    "a\x01z\x00",
	    13); /* three strings, the last empty */
	end_rr(&m, at);
	f = facts_of(&m, 16);
	a = json_array_get(json_object_get(f, "answers"), 0);
	assert_string_equal(json_string_value(json_array_get(json_object_get(a, "strings"), 0)),
	                    "v=feas1");
	assert_string_equal(json_string_value(json_array_get(json_object_get(a, "strings"), 1)),
	                    "a\\001z");
	assert_string_equal(str_at(f, "values", 0, NULL), "v=feas1a\\001z");
	assert_string_equal(json_string_value(json_array_get(json_object_get(a, "strings"), 2)),
	                    "");
	json_decref(f);

	start(&m, QR_AA, 1, "test.internal", 2);
	at = rr(&m, 2, 300);
	put(&m,
	    "\x03"
	    "ns1",
	    4);
	putptr(&m, 12);
	end_rr(&m, at);
	f = facts_of(&m, 2);
	assert_string_equal(str_at(f, "values", 0, NULL), "ns1.test.internal");
	json_decref(f);

	start(&m, QR_AA, 1, "1.0.0.127.in-addr.arpa", 12);
	at = rr(&m, 12, 300);
	putname(&m, "api.test.internal");
	end_rr(&m, at);
	f = facts_of(&m, 12);
	assert_string_equal(str_at(f, "values", 0, NULL), "api.test.internal");
	assert_string_equal(str_at(f, "answers", 0, "type"), "PTR");
	json_decref(f);
}

static void test_rcodes(void **state)
{
	static const struct {
		unsigned rcode;
		const char *name;
	} cases[] = {
	    {0, "NOERROR"}, {2, "SERVFAIL"}, {3, "NXDOMAIN"}, {5, "REFUSED"}, {14, "RCODE14"}};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct msg m;
		start(&m, 0x8200u | cases[i].rcode, 0, "nope.test.internal", 1);
		json_t *f = facts_of(&m, 1);
		assert_string_equal(json_string_value(json_object_get(f, "rcode")), cases[i].name);
		assert_int_equal(json_integer_value(json_object_get(f, "count")), 0);
		assert_true(json_is_false(json_object_get(f, "authoritative")));
		assert_true(json_is_true(json_object_get(f, "truncated")));
		json_decref(f);
	}
}

static void test_unknown_type(void **state)
{
	struct msg m;
	start(&m, QR_AA, 1, "x.test", 1);
	size_t at = rr(&m, 99, 1);
	put(&m, "abc", 3);
	end_rr(&m, at);
	json_t *f = facts_of(&m, 1);
	assert_string_equal(str_at(f, "answers", 0, "type"), "TYPE99");
	assert_string_equal(str_at(f, "answers", 0, "value"), "\\# 3");
	assert_int_equal(json_integer_value(json_object_get(f, "count")), 0);
	json_decref(f);
}

static void expect_bad(struct msg *m, int qtype, const char *part)
{
	json_t *f = json_object();
	struct pg_err e = {{0}};
	assert_int_equal(dns_reply_facts(m->b, (int)m->n, qtype, f, &e), -1);
	if (!strstr(e.msg, part))
		fail_msg("message '%s' lacks '%s'", e.msg, part);
	json_decref(f);
}

static void test_malformed(void **state)
{
	struct msg m;
	m.n = 5;
	memset(m.b, 0, sizeof(m.b));
	expect_bad(&m, 1, "too short");

	start(&m, QR_AA, 1, "a.test", 1);
	m.n -= 2; /* question cut */
	expect_bad(&m, 1, "question section is cut short");

	start(&m, QR_AA, 1, "a.test", 1);
	size_t at = rr(&m, 1, 1);
	put(&m, "\x7f\x00", 2); /* an A record of 2 bytes */
	end_rr(&m, at);
	expect_bad(&m, 1, "answer 1 of the reply (A) has malformed data");

	start(&m, QR_AA, 2, "a.test", 1); /* says 2 answers, has 1 */
	at = rr(&m, 1, 1);
	put(&m, "\x7f\x00\x00\x01", 4);
	end_rr(&m, at);
	expect_bad(&m, 1, "answer 2 of the reply has a malformed name");

	start(&m, QR_AA, 1, "a.test", 1);
	at = rr(&m, 1, 1);
	put(&m, "\x7f\x00\x00\x01", 4);
	end_rr(&m, at);
	m.b[at - 1] = 40; /* RDLENGTH past the end */
	expect_bad(&m, 1, "answer 1 of the reply is cut short");

	start(&m, QR_AA, 1, "a.test", 5);
	at = rr(&m, 5, 1);
	putptr(&m, 400); /* a pointer outside the message */
	end_rr(&m, at);
	expect_bad(&m, 5, "(CNAME) has malformed data");

	start(&m, QR_AA, 1, "a.test", 16);
	at = rr(&m, 16, 1);
	put(&m, "\x09short", 6); /* a character-string longer than the data */
	end_rr(&m, at);
	expect_bad(&m, 16, "(TXT) has malformed data");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_a_with_cname), cmocka_unit_test(test_aaaa_mx_srv_txt_ns_ptr),
	    cmocka_unit_test(test_rcodes),       cmocka_unit_test(test_unknown_type),
	    cmocka_unit_test(test_malformed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
