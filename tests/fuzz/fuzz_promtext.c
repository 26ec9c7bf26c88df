/* fuzz_promtext.c - libFuzzer harness for the Prometheus text parser
 * (checks/promtext.c): any bytes give facts or a line number and a reason,
 * never a crash, a leak or a hang; the sample bound holds. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <jansson.h>

#include "promtext.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct promtext_limits lim = {.max_samples = 1000};
	json_t *facts = NULL;
	unsigned line = 0;
	struct pg_err e;

	if (promtext_parse((const char *)data, size, &lim, &facts, &line, &e) == 0) {
		if (json_integer_value(json_object_get(facts, "samples")) > 1000)
			abort(); /* the bound must hold */
		json_decref(facts);
	} else if (line == 0) {
		abort(); /* every refusal names its line */
	}
	return 0;
}
