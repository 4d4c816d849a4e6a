/* libFuzzer harness: VMs speaking any valid abi= list, with ext=on and deny/allow rules: the dispatch rule and the hook chain. See fuzz_engine.h for the input format. */
#include "tests/fuzz/fuzz_engine.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fuzz_episode(FUZZ_MULTI, data, size);
}
