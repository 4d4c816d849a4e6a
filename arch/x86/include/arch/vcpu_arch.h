/* Per-VM and per-vCPU x86 state that core embeds (struct vm / struct vcpu). */
#ifndef ARCH_VCPU_ARCH_H
#define ARCH_VCPU_ARCH_H

#include <stdint.h>

struct vm_arch {
	void *vendor;              /* struct svm_vm / struct vmx_vm */
	uint8_t com1_lcr;          /* guest UART line control: DLAB redirects port 0x3f8 */
};

struct vcpu_arch {
	void *vendor;              /* struct svm_vcpu / struct vmx_vcpu */
	uint64_t tsc_offset;       /* guest TSC = host TSC + tsc_offset */
	uint8_t tpr;               /* CR8 as the guest sees it (VMX intercepts CR8 accesses) */
};

#endif

/*
 * Guest boot contract (docs/guest-boot.md): where the hypervisor writes the
 * guest's boot structures, which ELF machines it starts, and the RAM limit
 * (the identity map it builds for ELF64 guests covers 4 GiB, and the top of
 * the low 4 GiB is kept free for device windows such as the local APIC).
 */
#define ARCH_GUEST_BOOT_AREA_START 0x1000ull
#define ARCH_GUEST_BOOT_AREA_END   0x10000ull
#define ARCH_GUEST_MEM_MIN         (1ull << 20)
#define ARCH_GUEST_MEM_MAX         (3ull << 30)
#define ARCH_ELF_MACHINE32 3       /* EM_386, System V ABI i386 supplement */
#define ARCH_ELF_MACHINE64 62      /* EM_X86_64, System V ABI x86-64 supplement */
