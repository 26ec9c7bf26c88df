/* fuzz_results.c - libFuzzer harness for loading a results.json
 * (result_from_json in runner/result.c, what `phasegate report` reads):
 * any document gives a run result or a reason, never a crash or a leak. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "result.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *j = json_loadb((const char *)data, size, 0, NULL);
	struct run_result r;
	struct pg_err e;

	if (!j)
		return 0;
	memset(&r, 0, sizeof(r));
	if (result_from_json(&r, j, &e) == 0) {
		json_t *again = result_to_json(&r);
		json_decref(again);
	}
	result_release(&r);
	json_decref(j);
	return 0;
}
