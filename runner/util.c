/* util.c - allocation, the capped buffer, errors and diagnostics,
 * durations, clocks and atomic file writes shared by the whole runner. */
#include "util.h"
#include "outfile.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "node.h"

static void oom(size_t n)
{
	fprintf(stderr, "phasegate: out of memory (asked for %zu bytes)\n", n);
	abort();
}

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		oom(n);
	return p;
}

void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);
	if (!p)
		oom(n * size);
	return p;
}

void *xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);
	if (!q)
		oom(n);
	return q;
}

char *xstrdup(const char *s)
{
	if (!s)
		return NULL;
	return xstrndup(s, strlen(s));
}

char *xstrndup(const char *s, size_t n)
{
	if (!s)
		return NULL;
	char *p = xmalloc(n + 1);
	memcpy(p, s, n);
	p[n] = 0;
	return p;
}

char *xvasprintf(const char *fmt, va_list ap)
{
	va_list ap2;
	va_copy(ap2, ap);
	int n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0)
		n = 0;
	char *p = xmalloc((size_t)n + 1);
	vsnprintf(p, (size_t)n + 1, fmt, ap);
	return p;
}

char *xasprintf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *p = xvasprintf(fmt, ap);
	va_end(ap);
	return p;
}

void buf_init(struct buf *b, size_t cap)
{
	memset(b, 0, sizeof(*b));
	b->cap = cap;
}

void buf_reserve(struct buf *b, size_t n)
{
	if (b->len + n + 1 <= b->alloc)
		return;
	b->data = xrealloc(b->data, b->len + n + 1);
	b->alloc = b->len + n + 1;
}

int buf_add(struct buf *b, const void *data, size_t len)
{
	int rc = 0;
	if (b->cap && b->len + len > b->cap) {
		len = b->cap > b->len ? b->cap - b->len : 0;
		b->truncated = 1;
		rc = -1;
	}
	if (b->len + len + 1 > b->alloc) {
		size_t want = b->alloc ? b->alloc : 64;
		while (want < b->len + len + 1)
			want *= 2;
		b->data = xrealloc(b->data, want);
		b->alloc = want;
	}
	if (len)
		memcpy(b->data + b->len, data, len);
	b->len += len;
	b->data[b->len] = 0;
	if (b->sink && b->len >= 65536 && buf_flush(b) != 0)
		rc = -1;
	return rc;
}

int buf_flush(struct buf *b)
{
	if (!b->sink || !b->len)
		return b->sink && ferror(b->sink) ? -1 : 0;
	size_t n = fwrite(b->data, 1, b->len, b->sink);
	int rc = n == b->len ? 0 : -1;
	b->len = 0;
	b->data[0] = 0;
	return rc;
}

int buf_adds(struct buf *b, const char *s)
{
	return buf_add(b, s, strlen(s));
}

int buf_addc(struct buf *b, char c)
{
	return buf_add(b, &c, 1);
}

int buf_addf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *s = xvasprintf(fmt, ap);
	va_end(ap);
	int rc = buf_adds(b, s);
	free(s);
	return rc;
}

char *buf_detach(struct buf *b)
{
	char *p = b->data ? b->data : xstrdup("");
	size_t cap = b->cap;
	buf_init(b, cap);
	return p;
}

void buf_release(struct buf *b)
{
	free(b->data);
	buf_init(b, b->cap);
}

const char *buf_str(const struct buf *b)
{
	return b->data ? b->data : "";
}

int pg_error(struct pg_err *e, const char *fmt, ...)
{
	if (e) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
		va_end(ap);
	}
	return -1;
}

void diags_init(struct diags *d)
{
	memset(d, 0, sizeof(*d));
}

void diags_release(struct diags *d)
{
	for (size_t i = 0; i < d->n; i++) {
		free(d->v[i].file);
		free(d->v[i].msg);
	}
	free(d->v);
	diags_init(d);
}

static int diag_vadd(struct diags *d, const char *file, unsigned line, unsigned col,
		     const char *fmt, va_list ap) PG_PRINTF(5, 0);
static int diag_vadd(struct diags *d, const char *file, unsigned line, unsigned col,
		     const char *fmt, va_list ap)
{
	size_t max = d->max ? d->max : 1000;
	if (d->n >= max)
		return -1;
	if (d->n == d->alloc) {
		d->alloc = d->alloc ? d->alloc * 2 : 8;
		d->v = xrealloc(d->v, d->alloc * sizeof(*d->v));
	}
	struct diag *g = &d->v[d->n++];
	g->file = xstrdup(file);
	g->line = line;
	g->col = col;
	g->msg = xvasprintf(fmt, ap);
	return -1;
}

int diag_at(struct diags *d, const struct node *n, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	if (n)
		diag_vadd(d, n->pos.file, n->pos.line, n->pos.col, fmt, ap);
	else
		diag_vadd(d, NULL, 0, 0, fmt, ap);
	va_end(ap);
	return -1;
}

int diag_pos(struct diags *d, const char *file, unsigned line, unsigned col, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	diag_vadd(d, file, line, col, fmt, ap);
	va_end(ap);
	return -1;
}

void diags_print(const struct diags *d, FILE *f)
{
	for (size_t i = 0; i < d->n; i++) {
		const struct diag *g = &d->v[i];
		if (g->file && g->line)
			fprintf(f, "%s:%u:%u: error: %s\n", g->file, g->line, g->col ? g->col : 1,
				g->msg);
		else if (g->file)
			fprintf(f, "%s: error: %s\n", g->file, g->msg);
		else
			fprintf(f, "error: %s\n", g->msg);
	}
	size_t max = d->max ? d->max : 1000;
	if (d->n >= max)
		fprintf(f, "(stopped after %zu errors)\n", d->n);
}

int parse_duration_ms(const char *s, long long *ms)
{
	if (!s)
		return -1;
	while (*s == ' ')
		s++;
	if (!*s)
		return -1;
	double total = 0;
	int parts = 0;
	const char *p = s;
	while (*p) {
		char *end;
		errno = 0;
		if (!((*p >= '0' && *p <= '9') || *p == '.'))
			return -1;
		double v = strtod(p, &end);
		if (end == p || errno || !isfinite(v) || v < 0)
			return -1;
		p = end;
		double mult;
		if (*p == 0) {
			if (parts)
				return -1; /* "1m30" is ambiguous */
			mult = 1000; /* a bare number is seconds */
		} else if (strncmp(p, "ms", 2) == 0) {
			mult = 1;
			p += 2;
		} else if (*p == 's') {
			mult = 1000;
			p++;
		} else if (*p == 'm') {
			mult = 60000;
			p++;
		} else if (*p == 'h') {
			mult = 3600000;
			p++;
		} else if (*p == 'd') {
			mult = 86400000;
			p++;
		} else {
			return -1;
		}
		total += v * mult;
		parts++;
		if (total > 1e15)
			return -1;
	}
	*ms = (long long)(total + 0.5);
	return 0;
}

char *format_duration(long long ms)
{
	if (ms < 1000)
		return xasprintf("%lldms", ms);
	struct buf b;
	buf_init(&b, 0);
	long long h = ms / 3600000, m = (ms / 60000) % 60, s = (ms / 1000) % 60, r = ms % 1000;
	if (h)
		buf_addf(&b, "%lldh", h);
	if (m)
		buf_addf(&b, "%lldm", m);
	if (s || r) {
		if (r)
			buf_addf(&b, "%lld.%03llds", s, r);
		else
			buf_addf(&b, "%llds", s);
	}
	return buf_detach(&b);
}

long long now_mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

double now_mono_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

char *iso8601_at(double epoch_s)
{
	time_t t = (time_t)epoch_s;
	struct tm tm;
	gmtime_r(&t, &tm);
	char out[32];
	strftime(out, sizeof(out), "%Y-%m-%dT%H:%M:%SZ", &tm);
	return xstrdup(out);
}

char *iso8601_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return iso8601_at((double)ts.tv_sec);
}

/* Edit distance between two short names (insert, delete, substitute, and
 * swapping two neighbours), capped: names longer than 64 bytes never match. */
size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i, j;
	size_t d[65][65];

	if (la > 64 || lb > 64)
		return (size_t)-1;
	for (i = 0; i <= la; i++)
		d[i][0] = i;
	for (j = 0; j <= lb; j++)
		d[0][j] = j;
	for (i = 1; i <= la; i++) {
		for (j = 1; j <= lb; j++) {
			size_t best = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
			if (d[i - 1][j] + 1 < best)
				best = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < best)
				best = d[i][j - 1] + 1;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
			    d[i - 2][j - 2] + 1 < best)
				best = d[i - 2][j - 2] + 1;
			d[i][j] = best;
		}
	}
	return d[la][lb];
}

char *path_dir(const char *path)
{
	const char *slash = strrchr(path, '/');
	if (!slash)
		return xstrdup(".");
	if (slash == path)
		return xstrdup("/");
	return xstrndup(path, (size_t)(slash - path));
}

size_t utf8_decode(const void *p, size_t n, unsigned *cp)
{
	const unsigned char *s = p;
	size_t len;
	unsigned v, min;
	if (n == 0)
		return 0;
	if (s[0] < 0x80) {
		len = 1, v = s[0], min = 0;
	} else if (s[0] >= 0xC2 && s[0] <= 0xDF) {
		len = 2, v = s[0] & 0x1Fu, min = 0x80;
	} else if (s[0] >= 0xE0 && s[0] <= 0xEF) {
		len = 3, v = s[0] & 0x0Fu, min = 0x800;
	} else if (s[0] >= 0xF0 && s[0] <= 0xF4) {
		len = 4, v = s[0] & 0x07u, min = 0x10000;
	} else {
		return 0;
	}
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		v = (v << 6) | (s[i] & 0x3Fu);
	}
	if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
		return 0;
	if (cp)
		*cp = v;
	return len;
}

json_t *json_from_bytes(const char *s, size_t len)
{
	if (!s)
		s = "";
	json_t *j = json_stringn(s, len);
	if (j)
		return j;
	struct buf b;
	buf_init(&b, 0);
	for (size_t i = 0; i < len;) {
		size_t n = utf8_decode(s + i, len - i, NULL);
		if (n) {
			buf_add(&b, s + i, n);
			i += n;
		} else {
			buf_adds(&b, "\xEF\xBF\xBD"); /* U+FFFD */
			i++;
		}
	}
	j = json_stringn(buf_str(&b), b.len);
	buf_release(&b);
	return j ? j : json_string("");
}

char *base64_encode(const void *data, size_t len)
{
	static const char tab[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const unsigned char *u = data;
	char *out = xmalloc((len + 2) / 3 * 4 + 1), *o = out;
	for (size_t i = 0; i < len; i += 3) {
		unsigned v = (unsigned)u[i] << 16;
		if (i + 1 < len)
			v |= (unsigned)u[i + 1] << 8;
		if (i + 2 < len)
			v |= u[i + 2];
		*o++ = tab[(v >> 18) & 63];
		*o++ = tab[(v >> 12) & 63];
		*o++ = i + 1 < len ? tab[(v >> 6) & 63] : '=';
		*o++ = i + 2 < len ? tab[v & 63] : '=';
	}
	*o = 0;
	return out;
}

json_t *json_load_bounded(const char *data, size_t len, size_t max_values, json_error_t *err)
{
	size_t values = 1;
	int in_string = 0;

	/* each value past the first follows a ',' or opens a container */
	for (size_t i = 0; i < len; i++) {
		char c = data[i];
		if (in_string) {
			if (c == '\\')
				i++;
			else if (c == '"')
				in_string = 0;
		} else if (c == '"') {
			in_string = 1;
		} else if (c == ',' || c == '[' || c == '{') {
			values++;
		}
	}
	if (values > max_values) {
		memset(err, 0, sizeof(*err));
		snprintf(err->text, sizeof(err->text),
		         "about %zu values, more than the %zu phasegate reads", values, max_values);
		err->line = err->column = -1;
		return NULL;
	}
	return json_loadb(data, len, JSON_DECODE_ANY, err);
}

/* The value of a character of the standard alphabet, or -1. */
static int b64_value(int c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

char *base64_decode(const char *in, size_t *outlen)
{
	size_t n = strlen(in), o = 0, chars = 0, pad = 0;
	char *out = xmalloc(n / 4 * 3 + 4);
	unsigned acc = 0;
	int bits = 0;

	for (size_t i = 0; i < n; i++) {
		int c = (unsigned char)in[i], v;
		if (c == '\n' || c == '\r')
			continue;
		chars++;
		if (c == '=') {
			pad++;
			continue;
		}
		v = b64_value(c);
		if (v < 0 || pad)
			goto bad; /* another alphabet, or text after the padding */
		acc = (acc << 6) | (unsigned)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (char)((acc >> bits) & 0xff);
		}
	}
	/* whole groups of four, and exactly the padding the data needs */
	if (chars % 4 != 0 || pad > 2 || (pad && (chars - pad) % 4 + pad != 4))
		goto bad;
	out[o] = 0;
	if (outlen)
		*outlen = o;
	return out;
bad:
	free(out);
	return NULL;
}

void sha256_hex(const void *data, size_t len, char hex[65])
{
	unsigned char md[32];
	unsigned int mdlen = 0;

	if (EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL) != 1 || mdlen != 32)
		abort(); /* only when libcrypto itself is broken */
	hex_encode(md, 32, hex);
}

struct sha256_state *sha256_begin(void)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();

	if (!md || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1)
		abort(); /* only when libcrypto itself is broken */
	return (struct sha256_state *)md;
}

void sha256_add(struct sha256_state *s, const void *data, size_t len)
{
	if (EVP_DigestUpdate((EVP_MD_CTX *)s, data, len) != 1)
		abort();
}

void sha256_end(struct sha256_state *s, char hex[65])
{
	unsigned char md[32];
	unsigned int mdlen = 0;

	if (EVP_DigestFinal_ex((EVP_MD_CTX *)s, md, &mdlen) != 1 || mdlen != 32)
		abort();
	EVP_MD_CTX_free((EVP_MD_CTX *)s);
	hex_encode(md, 32, hex);
}

void hex_encode(const unsigned char *data, size_t len, char *hex)
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < len; i++) {
		hex[2 * i] = digits[data[i] >> 4];
		hex[2 * i + 1] = digits[data[i] & 15];
	}
	hex[2 * len] = 0;
}

int sha256_fd(int fd, int (*keep_going)(void *arg, struct pg_err *e), void *arg, char hex[65],
              struct pg_err *e)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned char *chunk = xmalloc(1 << 16), out[32];
	unsigned int outlen = 0;
	int rc = -1;

	if (!md || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1) {
		pg_error(e, "SHA-256 is not available from libcrypto");
		goto out;
	}
	for (;;) {
		ssize_t n = read(fd, chunk, 1 << 16);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			pg_error(e, "%s", strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		EVP_DigestUpdate(md, chunk, (size_t)n);
		if (keep_going && keep_going(arg, e) < 0)
			goto out;
	}
	if (EVP_DigestFinal_ex(md, out, &outlen) != 1 || outlen != 32) {
		pg_error(e, "SHA-256 failed in libcrypto");
		goto out;
	}
	hex_encode(out, 32, hex);
	rc = 0;
out:
	EVP_MD_CTX_free(md);
	free(chunk);
	return rc;
}

/* What a file that is not a regular file is, for messages. */
static const char *file_kind(mode_t m)
{
	if (S_ISDIR(m))
		return "a directory";
	if (S_ISFIFO(m))
		return "a FIFO";
	if (S_ISSOCK(m))
		return "a socket";
	if (S_ISCHR(m))
		return "a character device";
	if (S_ISBLK(m))
		return "a block device";
	return "not a regular file";
}

int open_regular(const char *path, struct pg_err *e)
{
	struct stat st;
	/* non-blocking, so that opening a FIFO with no writer cannot hang */
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return pg_error(e, "cannot read '%s': %s", path, strerror(errno));
	if (fstat(fd, &st) != 0) {
		pg_error(e, "cannot read '%s': %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		pg_error(e, "cannot read '%s': it is %s, not a regular file", path,
		         file_kind(st.st_mode));
		close(fd);
		return -1;
	}
	/* regular files never block; reads go on as usual */
	int fl = fcntl(fd, F_GETFL);
	if (fl >= 0)
		fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
	return fd;
}

int parse_ll(const char *s, long long *out)
{
	if (!s || !*s)
		return -1;
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (errno || *end)
		return -1;
	*out = v;
	return 0;
}

int parse_double(const char *s, double *out)
{
	if (!s || !*s)
		return -1;
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || *end)
		return -1;
	*out = v;
	return 0;
}

int write_file_atomic(const char *path, const char *data, size_t len, struct pg_err *e)
{
	/* one rule for every file phasegate writes (outfile.h) */
	struct outfile f = {.path = path, .data = data, .len = len};
	return outfile_write_set(&f, 1, e);
}

int read_file_capped(const char *path, size_t max, char **data, size_t *len, struct pg_err *e)
{
	int fd = open_regular(path, e);
	if (fd < 0)
		return -1;
	struct stat st;
	if (fstat(fd, &st) != 0) {
		close(fd);
		return pg_error(e, "cannot read '%s': %s", path, strerror(errno));
	}
	if (S_ISREG(st.st_mode) && (size_t)st.st_size > max) {
		close(fd);
		return pg_error(e, "'%s' is too large (%lld bytes, at most %zu)", path,
				(long long)st.st_size, max);
	}
	struct buf b;
	buf_init(&b, 0);
	if (S_ISREG(st.st_mode))
		buf_reserve(&b, (size_t)st.st_size);
	char chunk[65536];
	for (;;) {
		ssize_t r = read(fd, chunk, sizeof(chunk));
		if (r < 0) {
			if (errno == EINTR)
				continue;
			int err = errno;
			close(fd);
			buf_release(&b);
			return pg_error(e, "cannot read '%s': %s", path, strerror(err));
		}
		if (r == 0)
			break;
		if (b.len + (size_t)r > max) {
			close(fd);
			buf_release(&b);
			return pg_error(e, "'%s' is too large (more than %zu bytes)", path, max);
		}
		buf_add(&b, chunk, (size_t)r);
	}
	close(fd);
	*len = b.len;
	*data = buf_detach(&b);
	return 0;
}
