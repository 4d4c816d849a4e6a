/* libFuzzer harness: Xen's calls and sub-ops (memory, grant tables, event channels, vCPU ops, multicalls), two domains. See fuzz_engine.h for the input format. */
#include "tests/fuzz/fuzz_engine.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fuzz_episode(FUZZ_XEN, data, size);
}
