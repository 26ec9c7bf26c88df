/* fuzz_kubeconfig.c - libFuzzer harness for kubeconfig loading
 * (kube_config_load in checks/kubeconfig.c): any file gives a client
 * configuration or a reason, never a crash, a hang or a leak. Loading reads
 * the file only; exec plugins run when credentials are asked for, which
 * this harness never does. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "fuzz_file.h"
#include "kubeconfig.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *path = fuzz_input_file(data, size);
	struct kube_config kc;
	struct kube_config_opts o = {.kubeconfig = path, .sa_dir = "/nonexistent"};
	struct pg_err e;
	memset(&kc, 0, sizeof(kc));
	if (kube_config_load(&kc, &o, &e) == 0)
		kube_config_release(&kc);
	return 0;
}
