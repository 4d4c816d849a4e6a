/*
 * KVM paravirtual ABI numbers.
 * Hypercall numbers and errors: Linux include/uapi/linux/kvm_para.h.
 * CPUID leaves: Linux arch/x86/include/uapi/asm/kvm_para.h and
 * Documentation/virt/kvm/x86/cpuid.rst.
 */
#ifndef HYPERCALLS_KVM_KVM_ABI_H
#define HYPERCALLS_KVM_KVM_ABI_H

#include <stdint.h>
#include "hypercalls/pvclock.h"

/* include/uapi/linux/kvm_para.h */
#define KVM_ENOSYS     1000
#define KVM_EFAULT     14      /* EFAULT */
#define KVM_EINVAL     22      /* EINVAL */
#define KVM_E2BIG      7       /* E2BIG */
#define KVM_EPERM      1       /* EPERM */
#define KVM_EOPNOTSUPP 95
#define KVM_ENOMEM     12      /* ENOMEM */

#define KVM_HC_VAPIC_POLL_IRQ     1
#define KVM_HC_MMU_OP             2
#define KVM_HC_FEATURES           3
#define KVM_HC_PPC_MAP_MAGIC_PAGE 4
#define KVM_HC_KICK_CPU           5
#define KVM_HC_MIPS_GET_CLOCK_FREQ 6
#define KVM_HC_MIPS_EXIT_VM       7
#define KVM_HC_MIPS_CONSOLE_OUTPUT 8
#define KVM_HC_CLOCK_PAIRING      9
#define KVM_HC_SEND_IPI           10
#define KVM_HC_SCHED_YIELD        11
#define KVM_HC_MAP_GPA_RANGE      12

/* arch/x86/include/uapi/asm/kvm_para.h */
#define KVM_CPUID_SIGNATURE 0x40000000u
#define KVM_CPUID_FEATURES  0x40000001u
/* "KVMKVMKVM\0\0\0" in EBX, ECX, EDX */
#define KVM_SIGNATURE_EBX 0x4b4d564bu
#define KVM_SIGNATURE_ECX 0x564b4d56u
#define KVM_SIGNATURE_EDX 0x0000004du

/* 0x40000001 EAX feature bits (arch/x86/include/uapi/asm/kvm_para.h) */
#define KVM_FEATURE_CLOCKSOURCE          0
#define KVM_FEATURE_CLOCKSOURCE2         3
#define KVM_FEATURE_STEAL_TIME           5
#define KVM_FEATURE_PV_EOI               6
#define KVM_FEATURE_PV_UNHALT            7
#define KVM_FEATURE_PV_SEND_IPI          11
#define KVM_FEATURE_PV_SCHED_YIELD       13
#define KVM_FEATURE_POLL_CONTROL         12
#define KVM_FEATURE_HC_MAP_GPA_RANGE     16
#define KVM_FEATURE_MIGRATION_CONTROL    17
#define KVM_FEATURE_CLOCKSOURCE_STABLE_BIT 24

/* MSRs (arch/x86/include/uapi/asm/kvm_para.h; Documentation/virt/kvm/x86/msr.rst) */
#define MSR_KVM_WALL_CLOCK      0x11
#define MSR_KVM_SYSTEM_TIME     0x12
#define MSR_KVM_WALL_CLOCK_NEW  0x4b564d00u
#define MSR_KVM_SYSTEM_TIME_NEW 0x4b564d01u
#define MSR_KVM_STEAL_TIME      0x4b564d03u
#define MSR_KVM_PV_EOI_EN       0x4b564d04u
#define MSR_KVM_POLL_CONTROL    0x4b564d05u
#define MSR_KVM_MIGRATION_CONTROL 0x4b564d08u
#define KVM_SYSTEM_TIME_ENABLE  1ull   /* bit 0 of the SYSTEM_TIME MSRs */
#define KVM_POLL_CONTROL_HOST_POLL 1ull /* bit 0: the host may poll on HLT (reset value) */
#define KVM_MIGRATION_READY     1ull   /* bit 0 of MSR_KVM_MIGRATION_CONTROL */

/* arch/x86/include/asm/pvclock-abi.h (the vCPU time structure: hypercalls/pvclock.h) */
struct pvclock_wall_clock {
	uint32_t version;
	uint32_t sec;
	uint32_t nsec;
} __attribute__((packed));

/*
 * Steal time (arch/x86/include/uapi/asm/kvm_para.h): 64-byte aligned, bit 0
 * enables, bits 1-5 are reserved (KVM_STEAL_RESERVED_MASK, #GP when set).
 */
#define KVM_MSR_ENABLED 1ull
#define KVM_STEAL_ALIGNMENT_BITS 5
#define KVM_STEAL_VALID_BITS (~0ull << (KVM_STEAL_ALIGNMENT_BITS + 1))
#define KVM_STEAL_RESERVED_MASK (((1ull << KVM_STEAL_ALIGNMENT_BITS) - 1) << 1)
struct kvm_steal_time {
	uint64_t steal;
	uint32_t version;
	uint32_t flags;
	uint8_t preempted;
	uint8_t u8_pad[3];
	uint32_t pad[11];
} __attribute__((packed));

#define KVM_VCPU_PREEMPTED (1u << 0)         /* kvm_steal_time.preempted */

/* KVM_HC_SEND_IPI: ICR bits that make it -KVM_EINVAL (arch/x86/kvm/lapic.c kvm_pv_send_ipi). */
#define KVM_SEND_IPI_DEST_LOGICAL (1u << 11)     /* APIC_DEST_MASK */
#define KVM_SEND_IPI_SHORTHAND (3u << 18)        /* APIC_SHORT_MASK */

/* KVM_HC_CLOCK_PAIRING (arch/x86/include/uapi/asm/kvm_para.h) */
#define KVM_CLOCK_PAIRING_WALLCLOCK 0
struct kvm_clock_pairing {
	int64_t sec;
	int64_t nsec;
	uint64_t tsc;
	uint32_t flags;
	uint32_t pad[9];
} __attribute__((packed));

/* KVM_HC_MAP_GPA_RANGE attributes (arch/x86/include/uapi/asm/kvm_para.h) */
#define KVM_MAP_GPA_RANGE_PAGE_SZ_MASK 0xfull   /* 0 4K, 1 2M, 2 1G */
#define KVM_MAP_GPA_RANGE_PAGE_SZ_1G   2ull
#define KVM_MAP_GPA_RANGE_ENCRYPTED    (1ull << 4)

_Static_assert(sizeof(struct pvclock_wall_clock) == 12, "pvclock-abi.h");
_Static_assert(sizeof(struct kvm_clock_pairing) == 64, "kvm_para.h");
_Static_assert(sizeof(struct kvm_steal_time) == 64, "kvm_para.h");

#endif
