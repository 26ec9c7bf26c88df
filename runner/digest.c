/* digest.c - the suite digest (runner/digest.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "digest.h"

#define DIGEST_FILE_MAX ((size_t)64 * 1024 * 1024)

void digest_note(struct digest_files *f, const char *path)
{
	f->paths = xrealloc(f->paths, (f->n + 1) * sizeof(*f->paths));
	f->paths[f->n++] = xstrdup(path);
}

/* sha256 of "<length>\n<bytes>" for each file in order, fed one file at a
 * time so that memory holds one file, not the whole suite. */
int digest_compute(const struct digest_files *f, char hex[65], struct pg_err *e)
{
	struct sha256_state *s = sha256_begin();
	char head[32];

	for (size_t i = 0; i < f->n; i++) {
		char *data = NULL;
		size_t len = 0;
		if (read_file_capped(f->paths[i], DIGEST_FILE_MAX, &data, &len, e) < 0) {
			sha256_end(s, hex);
			return -1;
		}
		snprintf(head, sizeof(head), "%zu\n", len);
		sha256_add(s, head, strlen(head));
		sha256_add(s, data, len);
		free(data);
	}
	sha256_end(s, hex);
	return 0;
}

void digest_release(struct digest_files *f)
{
	for (size_t i = 0; i < f->n; i++)
		free(f->paths[i]);
	free(f->paths);
	f->paths = NULL;
	f->n = 0;
}

int digest_is_prefix(const char *text)
{
	size_t n = strlen(text);
	if (n < 12 || n > 64)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!strchr("0123456789abcdef", text[i]))
			return 0;
	return 1;
}
