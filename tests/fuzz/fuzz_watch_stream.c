/* fuzz_watch_stream.c - libFuzzer harness for the reader of Kubernetes watch
 * streams (checks/k8s_watch.c): any bytes give values or a reason, never a
 * crash, a leak or a hang; every value is one object within the bound, and
 * the values do not depend on where the stream is cut (the first byte
 * chooses the cut). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "k8s_watch.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_VALUE 4096

struct values {
	struct buf all; /* the values, each followed by a NUL */
	size_t n;
};

static int collect(void *arg, const char *text, size_t len)
{
	struct values *v = arg;
	if (len == 0 || len > MAX_VALUE || text[0] != '{' ||
	    (text[len - 1] != '}' && text[len - 1] != ']'))
		abort(); /* one object, within the bound */
	buf_add(&v->all, text, len);
	buf_addc(&v->all, 0);
	v->n++;
	return 0;
}

static int read_stream(const char *s, size_t size, size_t cut, struct values *v, int *failed)
{
	struct k8s_watch_reader r;
	buf_init(&v->all, 0);
	v->n = 0;
	k8s_watch_reader_init(&r, MAX_VALUE, collect, v);
	int stop = k8s_watch_reader_feed(&r, s, cut);
	if (!stop)
		stop = k8s_watch_reader_feed(&r, s + cut, size - cut);
	*failed = r.error != NULL;
	if (stop && !r.error)
		abort(); /* only an error stops a reader whose callback never does */
	k8s_watch_reader_release(&r);
	return stop;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	size_t cut = size > 1 ? data[0] % size : 0;
	const char *s = (const char *)data + 1;
	size--;
	if (cut > size)
		cut = size;
	struct values a, b;
	int fa, fb;
	read_stream(s, size, size, &a, &fa); /* whole */
	read_stream(s, size, cut, &b, &fb);  /* in two pieces */
	if (fa != fb || a.n != b.n || a.all.len != b.all.len ||
	    (a.all.len && memcmp(a.all.data, b.all.data, a.all.len) != 0))
		abort();
	buf_release(&a.all);
	buf_release(&b.all);
	return 0;
}
