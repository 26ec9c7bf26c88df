/* fuzz_attest.c - libFuzzer harness for attestation files (attest_load in
 * runner/attest.c, what --attest reads before anything runs): any file is
 * accepted as sign-offs or refused with file:line:column, never a crash, a
 * hang or a leak. Signed entries are read without running ssh-keygen. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "fuzz_file.h"
#include "attest.h"
#include "node.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *path = fuzz_input_file(data, size);
	static const char *const ids[] = {"trained", "approve-devops", "backup-verified"};
	struct attest_rules rules = {.ids = ids,
				     .nids = 3,
				     .max_age_s = 86400 * 30,
				     .now = 1795683600,
				     .keep_signatures_unverified = 1};
	const char *files[] = {path};
	struct diags d;
	diags_init(&d);
	attest_load(files, 1, &rules, &d);
	diags_release(&d);
	return 0;
}
