/* fuzz_luagoto.c - libFuzzer harness for the goto rewrite's lexer and
 * block scanner (checks/luagoto.c): any bytes, no crash, no leak, and a
 * rewrite keeps the number of lines. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "luagoto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t lines(const char *s, size_t n)
{
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		k += s[i] == '\n';
	return k;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *out = NULL;
	size_t n = 0;
	struct pg_err e;
	if (luagoto_rewrite((const char *)data, size, &out, &n, &e) == 0 && out) {
		if (lines(out, n) != lines((const char *)data, size))
			abort();
		free(out);
	}
	return 0;
}
