/*
 * KVM paravirtual ABI numbers.
 * Hypercall numbers and errors: Linux include/uapi/linux/kvm_para.h.
 * CPUID leaves: Linux arch/x86/include/uapi/asm/kvm_para.h and
 * Documentation/virt/kvm/x86/cpuid.rst.
 */
#ifndef HYPERCALLS_KVM_KVM_ABI_H
#define HYPERCALLS_KVM_KVM_ABI_H

/* include/uapi/linux/kvm_para.h */
#define KVM_ENOSYS     1000
#define KVM_EFAULT     14      /* EFAULT */
#define KVM_EINVAL     22      /* EINVAL */
#define KVM_E2BIG      7       /* E2BIG */
#define KVM_EPERM      1       /* EPERM */
#define KVM_EOPNOTSUPP 95

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

#endif
