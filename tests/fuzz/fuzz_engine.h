/*
 * The fuzzing engine behind every harness in tests/fuzz/ (docs/bad-input.md).
 * One input is a whole episode on the fake machine (tests/fake_arch): a
 * header that picks the VMs' layout (memory slots, a read-only slot, holes,
 * vCPUs, a neighbour domain, a page budget that makes allocations fail,
 * ABI order, policy rules), then a sequence of operations: hypercalls with
 * fuzzed registers, XMM, mode, CPL, instruction and RIP, MSR reads and
 * writes, CPUID, writes into guest memory, time passing (timers fire),
 * scheduler events, INIT, ballooning, the neighbour ending.
 *
 * The engine aborts (a libFuzzer finding) when the hypervisor breaks a rule
 * a sanitizer cannot see: a result outside its ABI's error set, a #UD
 * where the ABI has none, a continuation that makes no progress, a
 * bystander VM's memory changed, or host pages not given back once every
 * VM is destroyed.
 */
#ifndef TESTS_FUZZ_ENGINE_H
#define TESTS_FUZZ_ENGINE_H

#include <stddef.h>
#include <stdint.h>

/* Which ABIs the harness's VMs speak. */
enum fuzz_target {
	FUZZ_KVM,
	FUZZ_HYPERV,
	FUZZ_XEN,
	FUZZ_MULTI,      /* any valid abi= list, ext=on, policy rules */
};

/* Runs one episode; always 0 (a broken rule aborts). */
int fuzz_episode(enum fuzz_target t, const uint8_t *data, size_t size);

#endif
