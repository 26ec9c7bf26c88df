/* fuzz_expect_path.c - libFuzzer harness for the expectation path parser
 * (runner/expect_path.c): any text is either a valid path or refused, and a
 * valid one looks up facts without a crash, a leak or reading past them. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "expect.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static json_t *facts;
	if (!facts)
		facts = json_loads("{\"a\":{\"b\":[1,{\"c\":\"x\"},[2,3]]},\"d.e\":true,\"f\":null,"
		                   "\"items\":[{\"name\":\"n\",\"labels\":{\"k\":\"v\"}}]}",
		                   0, NULL);
	char *path = xstrndup((const char *)data, size);
	if (strlen(path) == size && expect_path_valid(path) == 0) {
		json_t *v = expect_path_get(facts, path);
		char *s = v ? json_dumps(v, JSON_ENCODE_ANY) : NULL;
		free(s);
	}
	free(path);
	return 0;
}
