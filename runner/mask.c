/* mask.c - the process-wide secrets masker: every registered credential,
 * in every encoding it can come back in, replaced by MASK_TEXT (mask.h). */
#include "mask.h"

#include <jansson.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

/* Base64 fragments shorter than this are not registered: five characters
 * carry 30 bits, so ordinary text matches one by chance only rarely. */
#define MASK_B64_MIN 5

struct secret {
	char *s; /* owned */
	size_t len;
};

static pthread_rwlock_t mask_lock = PTHREAD_RWLOCK_INITIALIZER;
static struct secret *secrets; /* longest first, so the longest form wins */
static size_t nsecrets, secrets_alloc;
static unsigned char starts[256]; /* 1 when some form starts with this byte */

/* Inserts one form in length order; the caller holds the write lock. */
static void insert_form(const char *s, size_t len)
{
	size_t i, at;

	if (len == 0)
		return;
	for (i = 0; i < nsecrets; i++) {
		if (secrets[i].len == len && memcmp(secrets[i].s, s, len) == 0)
			return;
	}
	if (nsecrets == secrets_alloc) {
		secrets_alloc = secrets_alloc ? secrets_alloc * 2 : 32;
		secrets = xrealloc(secrets, secrets_alloc * sizeof(*secrets));
	}
	for (at = 0; at < nsecrets && secrets[at].len >= len; at++)
		;
	memmove(&secrets[at + 1], &secrets[at], (nsecrets - at) * sizeof(*secrets));
	secrets[at].s = xstrndup(s, len);
	secrets[at].len = len;
	starts[(unsigned char)s[0]] = 1;
	nsecrets++;
}

/* The JSON string body of s (without quotes) as jansson writes it with
 * flags, or NULL when s is not UTF-8. */
static char *json_form(const char *s, size_t len, size_t flags)
{
	json_t *j = json_stringn(s, len);
	char *d, *body;

	if (!j)
		return NULL;
	d = json_dumps(j, JSON_ENCODE_ANY | flags);
	json_decref(j);
	if (!d)
		return NULL;
	body = xstrndup(d + 1, strlen(d) - 2);
	free(d);
	return body;
}

static void add_json_forms(const char *s, size_t len)
{
	static const size_t flags[] = {0, JSON_ENSURE_ASCII, JSON_ESCAPE_SLASH,
	                               JSON_ENSURE_ASCII | JSON_ESCAPE_SLASH};
	for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
		char *f = json_form(s, len, flags[i]);
		if (!f)
			return;
		insert_form(f, strlen(f));
		if (strstr(f, "\\u")) {
			/* jansson writes \u00FC; Python and Go write \u00fc */
			char *lower = xstrdup(f);
			for (char *p = strstr(lower, "\\u"); p; p = strstr(p + 2, "\\u"))
				for (int k = 2; k < 6 && p[k]; k++)
					if (p[k] >= 'A' && p[k] <= 'F')
						p[k] = (char)(p[k] - 'A' + 'a');
			insert_form(lower, strlen(lower));
			free(lower);
		}
		if (flags[i] == JSON_ENSURE_ASCII && strpbrk(f, "<>&")) {
			/* Go's encoding/json writes <, > and & as \u003c, \u003e, \u0026 */
			struct buf b;
			buf_init(&b, 0);
			for (const char *p = f; *p; p++) {
				if (*p == '<')
					buf_adds(&b, "\\u003c");
				else if (*p == '>')
					buf_adds(&b, "\\u003e");
				else if (*p == '&')
					buf_adds(&b, "\\u0026");
				else
					buf_addc(&b, *p);
			}
			insert_form(b.data, b.len);
			buf_release(&b);
		}
		free(f);
	}
}

static void add_url_forms(const char *s, size_t len)
{
	static const char *const hex[] = {"0123456789ABCDEF", "0123456789abcdef"};
	/* bit 0: lower-case hex; bit 1: form encoding (space as '+') */
	for (int variant = 0; variant < 4; variant++) {
		const char *h = hex[variant & 1];
		struct buf b;
		buf_init(&b, 0);
		for (size_t i = 0; i < len; i++) {
			unsigned char c = (unsigned char)s[i];
			if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
			    (c >= '0' && c <= '9') || strchr("-._~", c)) {
				buf_addc(&b, (char)c);
			} else if (c == ' ' && (variant & 2)) {
				buf_addc(&b, '+');
			} else {
				char e[3] = {'%', h[c >> 4], h[c & 15]};
				buf_add(&b, e, 3);
			}
		}
		insert_form(b.data, b.len);
		buf_release(&b);
	}
}

/* Registers a Base64 text and its URL-safe twin. */
static void insert_b64(const char *s, size_t len)
{
	char *u;

	if (len < MASK_B64_MIN)
		return;
	insert_form(s, len);
	u = xstrndup(s, len);
	for (char *p = u; *p; p++) {
		if (*p == '+')
			*p = '-';
		else if (*p == '/')
			*p = '_';
	}
	insert_form(u, len);
	free(u);
}

/* Base64 of s on its own (with and without padding), and the characters
 * that depend only on s when it sits at offset 0, 1 or 2 (mod 3) of a
 * longer encoded text. */
static void add_b64_forms(const char *s, size_t len)
{
	char *whole = base64_encode(s, len);
	insert_b64(whole, strlen(whole));
	insert_b64(whole, strcspn(whole, "="));
	free(whole);
	for (size_t k = 0; k < 3; k++) {
		char *in = xcalloc(1, len + k + 1);
		memcpy(in + k, s, len);
		char *enc = base64_encode(in, len + k);
		/* character j carries bits 6j..6j+5 of the stream; s holds
		 * bits 8k .. 8(k+len)-1 */
		size_t first = (8 * k + 5) / 6, end = 8 * (k + len) / 6;
		if (end > first)
			insert_b64(enc + first, end - first);
		free(enc);
		free(in);
	}
}

/* Every form of one value; the caller holds the write lock. */
static void add_forms(const char *s, size_t len)
{
	insert_form(s, len);
	add_json_forms(s, len);
	add_url_forms(s, len);
	add_b64_forms(s, len);
}

int mask_register(const char *secret)
{
	size_t len;

	if (!secret)
		return -1;
	len = strlen(secret);
	if (len < MASK_MIN_LEN)
		return -1;
	pthread_rwlock_wrlock(&mask_lock);
	add_forms(secret, len);
	if (memchr(secret, '\n', len)) {
		/* each line alone, as a multi-line key is often printed */
		const char *line = secret, *nl;
		for (; *line; line = nl ? nl + 1 : line + strlen(line)) {
			nl = strchr(line, '\n');
			size_t l = nl ? (size_t)(nl - line) : strlen(line);
			if (l && line[l - 1] == '\r')
				l--;
			if (l >= MASK_MIN_LEN && strncmp(line, "-----", 5) != 0)
				add_forms(line, l);
			if (!nl)
				break;
		}
	}
	pthread_rwlock_unlock(&mask_lock);
	return 0;
}

int mask_register_pair(const char *user, const char *password)
{
	if (mask_register(password) < 0)
		return -1;
	char *pair = xasprintf("%s:%s", user ? user : "", password);
	char *enc = base64_encode(pair, strlen(pair));
	pthread_rwlock_wrlock(&mask_lock);
	insert_b64(enc, strlen(enc));
	insert_b64(enc, strcspn(enc, "="));
	pthread_rwlock_unlock(&mask_lock);
	free(enc);
	free(pair);
	return 0;
}

void mask_add(const char *secret)
{
	(void)mask_register(secret);
}

/* The longest form starting at s, or NULL; caller holds a lock. */
static const struct secret *secret_at(const char *s, size_t left)
{
	if (!starts[(unsigned char)s[0]])
		return NULL;
	for (size_t i = 0; i < nsecrets; i++) {
		if (secrets[i].len <= left && secrets[i].s[0] == s[0] &&
		    memcmp(secrets[i].s, s, secrets[i].len) == 0)
			return &secrets[i];
	}
	return NULL;
}

/* 1 when the left bytes at s (to the end of the text) begin some form. */
static int secret_begins(const char *s, size_t left)
{
	if (!starts[(unsigned char)s[0]])
		return 0;
	for (size_t i = 0; i < nsecrets && secrets[i].len > left; i++) {
		if (memcmp(secrets[i].s, s, left) == 0)
			return 1;
	}
	return 0;
}

void mask_cut_buf(struct buf *b)
{
	size_t from = 0, keep;
	int found = 0;

	if (!b->truncated || !b->len)
		return;
	pthread_rwlock_rdlock(&mask_lock);
	if (nsecrets)
		from = b->len > secrets[0].len ? b->len - secrets[0].len : 0;
	for (; nsecrets && from < b->len && !found; from++)
		found = secret_begins(b->data + from, b->len - from);
	pthread_rwlock_unlock(&mask_lock);
	if (!found)
		return;
	keep = from - 1;
	/* the cap was reached already: make room for the mask text */
	b->len = keep;
	b->data[keep] = 0;
	size_t cap = b->cap;
	b->cap = 0;
	buf_adds(b, MASK_TEXT);
	b->cap = cap;
}

char *mask_dup_cut(const char *s, int cut)
{
	struct buf out;
	size_t i, len, start;

	if (!s)
		return NULL;
	pthread_rwlock_rdlock(&mask_lock);
	if (nsecrets == 0) {
		pthread_rwlock_unlock(&mask_lock);
		return xstrdup(s);
	}
	len = strlen(s);
	buf_init(&out, 0);
	buf_adds(&out, "");
	for (i = start = 0; i < len;) {
		const struct secret *m = secret_at(s + i, len - i);
		if (!m) {
			if (cut && len - i < secrets[0].len && secret_begins(s + i, len - i)) {
				/* the text was cut inside a secret */
				buf_add(&out, s + start, i - start);
				buf_adds(&out, MASK_TEXT);
				start = i = len;
				break;
			}
			i++;
			continue;
		}
		buf_add(&out, s + start, i - start);
		buf_adds(&out, MASK_TEXT);
		i += m->len;
		start = i;
	}
	buf_add(&out, s + start, len - start);
	pthread_rwlock_unlock(&mask_lock);
	return buf_detach(&out);
}

char *mask_dup(const char *s)
{
	return mask_dup_cut(s, 0);
}

char *mask_shown(const char *data, size_t len, int cut, size_t max, int *shortened)
{
	struct buf t;
	/* only what can be shown is worked on: max bytes, and the longest form
	 * beyond them so that a secret across the cut is still recognised */
	pthread_rwlock_rdlock(&mask_lock);
	size_t longest = nsecrets ? secrets[0].len : 0;
	pthread_rwlock_unlock(&mask_lock);
	if (max && len > max + longest + 4) {
		len = max + longest + 4;
		cut = 1;
	}
	buf_init(&t, 0);
	buf_adds(&t, "");
	for (size_t i = 0; i < len;) {
		size_t n = utf8_decode(data + i, len - i, NULL);
		if (n == 0) {
			buf_adds(&t, "\xef\xbf\xbd"); /* U+FFFD */
			i++;
		} else if (data[i] == 0) {
			buf_adds(&t, "\\0");
			i++;
		} else {
			buf_add(&t, data + i, n);
			i += n;
		}
	}
	char *m = mask_dup_cut(t.data, cut);
	buf_release(&t);
	size_t mlen = strlen(m);
	if (shortened)
		*shortened = 0;
	if (max && mlen > max) {
		size_t at = max;
		while (at > 0 && ((unsigned char)m[at] & 0xC0) == 0x80)
			at--;
		m[at] = 0;
		if (shortened)
			*shortened = 1;
	}
	return m;
}

int mask_contains_secret(const char *s)
{
	size_t i, len;
	int found = 0;

	if (!s)
		return 0;
	len = strlen(s);
	pthread_rwlock_rdlock(&mask_lock);
	for (i = 0; i < len && !found; i++)
		found = secret_at(s + i, len - i) != NULL;
	pthread_rwlock_unlock(&mask_lock);
	return found;
}

void mask_reset(void)
{
	pthread_rwlock_wrlock(&mask_lock);
	for (size_t i = 0; i < nsecrets; i++)
		free(secrets[i].s);
	free(secrets);
	secrets = NULL;
	nsecrets = secrets_alloc = 0;
	memset(starts, 0, sizeof(starts));
	pthread_rwlock_unlock(&mask_lock);
}
