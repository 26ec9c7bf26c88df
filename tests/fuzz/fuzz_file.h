/* fuzz_file.h - for harnesses whose parser reads a named file: writes the
 * input to one private temporary file per process and returns its path. */
#ifndef PHASEGATE_FUZZ_FILE_H
#define PHASEGATE_FUZZ_FILE_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static const char *fuzz_input_file(const uint8_t *data, size_t size)
{
	static char path[64];
	if (!path[0]) {
		snprintf(path, sizeof(path), "/tmp/pg-fuzz-input-XXXXXX");
		int fd = mkstemp(path);
		if (fd < 0)
			abort();
		close(fd);
	}
	FILE *f = fopen(path, "wb");
	if (!f || (size && fwrite(data, 1, size, f) != size))
		abort();
	fclose(f);
	return path;
}

#endif
