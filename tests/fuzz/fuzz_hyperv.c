/* libFuzzer harness: Hyper-V's hypercall input values (slow, fast, XMM-fast, rep), its synthetic MSRs, SynIC and timers. See fuzz_engine.h for the input format. */
#include "tests/fuzz/fuzz_engine.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fuzz_episode(FUZZ_HYPERV, data, size);
}
