/* Per-VM and per-vCPU x86 state that core embeds (struct vm / struct vcpu). */
#ifndef ARCH_VCPU_ARCH_H
#define ARCH_VCPU_ARCH_H

#include <stdint.h>
#include "arch/x86/vlapic.h"

struct vm_arch {
	void *vendor;              /* struct svm_vm / struct vmx_vm */
	uint8_t com1_lcr;          /* guest UART line control: DLAB redirects port 0x3f8 */
	bool warned_no_ap_start;   /* the "cannot start an AP" line was printed */
};

/*
 * Guest state that neither VMRUN nor VM entry switches (arch/x86/cpu_state.c):
 * saved and restored when another vCPU gets this CPU.
 */
struct x86_unswitched {
	uint8_t fxsave[512] __attribute__((aligned(16)));   /* x87/SSE (XCR0 is x87|SSE) */
	uint64_t dr[4], dr6, cr2;
	uint32_t pkru;             /* when the CPU has protection keys */
};

struct vcpu_arch {
	struct x86_unswitched saved;
	void *vendor;              /* struct svm_vcpu / struct vmx_vcpu */
	uint64_t tsc_offset;       /* guest TSC = host TSC + tsc_offset */
	struct vlapic lapic;       /* its TPR is CR8 << 4 */
	bool insn_skipped;         /* RIP was moved past an instruction since the last entry */
	bool window_open;          /* intr.c may have asked the vendor for an interrupt/NMI/TPR window */
	uint32_t auto_eoi[8];      /* vectors ended when the guest accepts them (arch_set_auto_eoi) */
	bool nmi_blocked;          /* the guest is in its NMI handler (as of the last exit) */
	bool nmi_iret_seen;        /* SVM: the handler's IRET exited at nmi_iret_rip, not yet retired */
	uint64_t nmi_iret_rip;
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
