/* libFuzzer harness: KVM's calls (arch/x86/kvm/x86.c kvm_emulate_hypercall numbers), its paravirtual MSRs. See fuzz_engine.h for the input format. */
#include "tests/fuzz/fuzz_engine.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fuzz_episode(FUZZ_KVM, data, size);
}
