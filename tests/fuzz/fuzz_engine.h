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

/* Guest-physical layout of the fuzzed VMs: RAM, a read-only slot, a hole, RAM again. */
#define FUZZ_LO_SIZE  (256ull << 10)
#define FUZZ_RO_BASE  FUZZ_LO_SIZE
#define FUZZ_RO_SIZE  (16ull << 10)
#define FUZZ_HOLE     (FUZZ_RO_BASE + FUZZ_RO_SIZE)
#define FUZZ_HI_BASE  (1ull << 20)
#define FUZZ_HI_SIZE  (16ull << 10)
#define FUZZ_RAM_END  (FUZZ_HI_BASE + FUZZ_HI_SIZE)

/*
 * The MSRs op_msr picks by index (the ABIs' headers first): every ABI's and
 * some neighbours. tests/fuzz/seeds.c encodes with the same list.
 */
#define FUZZ_MSRS \
	MSR_KVM_WALL_CLOCK, MSR_KVM_SYSTEM_TIME, MSR_KVM_WALL_CLOCK_NEW, MSR_KVM_SYSTEM_TIME_NEW, \
	MSR_KVM_STEAL_TIME, MSR_KVM_PV_EOI_EN, MSR_KVM_POLL_CONTROL, MSR_KVM_MIGRATION_CONTROL, \
	0x4b564d02, 0x4b564d06, 0x4b564d07, \
	HV_X64_MSR_GUEST_OS_ID, HV_X64_MSR_HYPERCALL, HV_X64_MSR_VP_INDEX, HV_X64_MSR_RESET, \
	HV_X64_MSR_TIME_REF_COUNT, HV_X64_MSR_REFERENCE_TSC, HV_X64_MSR_TSC_FREQUENCY, \
	HV_X64_MSR_APIC_FREQUENCY, HV_X64_MSR_EOI, HV_X64_MSR_ICR, HV_X64_MSR_TPR, \
	HV_X64_MSR_VP_ASSIST_PAGE, HV_X64_MSR_SCONTROL, HV_X64_MSR_SVERSION, HV_X64_MSR_SIEFP, \
	HV_X64_MSR_SIMP, HV_X64_MSR_EOM, HV_X64_MSR_CRASH_CTL, XEN_HYPERCALL_MSR_VIRIDIAN

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
