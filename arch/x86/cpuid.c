/*
 * The CPUID a guest sees: the host's, minus everything we do not virtualize,
 * plus the hypervisor bit and the hypervisor leaves (hypercalls/).
 * Bit positions: Intel SDM vol. 2A "CPUID" tables 3-8..3-11; AMD APM vol. 3
 * appendix E.
 */
#define LOG_SUB_FILE LOG_SUB_ARCH   /* its messages: loglevel=arch:LEVEL */
#include "arch/x86/cpu.h"
#include "arch/x86/vlapic.h"
#include "arch/x86/x86.h"
#include "core/arch.h"
#include "core/exit.h"
#include "core/vm.h"
#include "hypercalls/hypercall.h"

#define BIT(n) (1u << (n))

/* Leaf 1 ECX */
#define CPUID1_ECX_HIDE (BIT(3) /* MONITOR */ | BIT(5) /* VMX */ | BIT(6) /* SMX */ | \
	BIT(7) /* EIST */ | BIT(8) /* TM2 */ | BIT(14) /* xTPR */ | BIT(15) /* PDCM */ | \
	BIT(18) /* DCA */ | \
	BIT(26) /* XSAVE */ | BIT(27) /* OSXSAVE */ | BIT(28) /* AVX */ | BIT(29) /* F16C */ | \
	BIT(12) /* FMA */)
#define CPUID1_ECX_HYPERVISOR BIT(31)
/* Leaf 1: the emulated local APIC (arch/x86/vlapic.c) has all of these whatever the host has. */
#define CPUID1_ECX_APIC (BIT(21) /* x2APIC */ | BIT(24) /* TSC-deadline */)
#define CPUID1_EDX_APIC BIT(9)
/* Leaf 1 EDX: no MTRRs or machine checks are virtualized yet. */
#define CPUID1_EDX_HIDE (BIT(7) /* MCE */ | BIT(12) /* MTRR */ | \
	BIT(14) /* MCA */ | BIT(21) /* DS */ | BIT(22) /* ACPI thermal */ | BIT(29) /* TM */ | \
	BIT(31) /* PBE */)
/* Leaf 7.0 EBX: only features that need nothing from us. */
#define CPUID7_EBX_KEEP (BIT(0) /* FSGSBASE */ | BIT(3) /* BMI1 */ | BIT(7) /* SMEP */ | \
	BIT(8) /* BMI2 */ | BIT(9) /* ERMS */ | BIT(18) /* RDSEED */ | BIT(19) /* ADX */ | \
	BIT(20) /* SMAP */ | BIT(23) /* CLFLUSHOPT */ | BIT(24) /* CLWB */ | BIT(29) /* SHA */)
/* 0x80000001 ECX / EDX */
#define CPUIDX1_ECX_HIDE (BIT(2) /* SVM */ | BIT(3) /* ExtApicSpace */ | BIT(10) /* IBS */ | \
	BIT(12) /* SKINIT */ | BIT(13) /* WDT */ | BIT(15) /* LWP */ | BIT(22) /* TopologyExt */ | \
	BIT(23) /* PerfCtrExtCore */ | BIT(24) /* PerfCtrExtNB */ | BIT(26) /* DataBkptExt */ | \
	BIT(28) /* PerfCtrExtLLC */ | BIT(29) /* MONITORX */)
#define CPUIDX1_EDX_HIDE (BIT(27) /* RDTSCP: TSC_AUX is not virtualized */)
/* 0x80000007 EDX: keep only the invariant TSC. */
#define CPUIDX7_EDX_KEEP BIT(8)

void x86_guest_cpuid(struct vcpu *v, uint32_t leaf, uint32_t sub, uint32_t r[4])
{
	struct cpuid_regs hc;
	if (hc_cpuid(v, leaf, sub, &hc)) {
		r[0] = hc.eax, r[1] = hc.ebx, r[2] = hc.ecx, r[3] = hc.edx;
		return;
	}
	uint32_t max[4];
	cpuid(leaf & 0x80000000u, 0, max);
	r[0] = r[1] = r[2] = r[3] = 0;
	if (leaf > max[0])
		return;                 /* out-of-range leaves read as zero (AMD behaviour) */
	cpuid(leaf, sub, r);
	switch (leaf) {
	case 1:
		/* initial APIC ID, one logical CPU per package */
		r[1] = (r[1] & 0x0000ffffu) | (v->id << 24) | (1u << 16);
		r[2] = (r[2] & ~CPUID1_ECX_HIDE) | CPUID1_ECX_HYPERVISOR | CPUID1_ECX_APIC;
		r[3] &= ~(CPUID1_EDX_HIDE | CPUID1_EDX_APIC);
		if (vlapic_hw_enabled(v))
			r[3] |= CPUID1_EDX_APIC;   /* it reads clear while IA32_APIC_BASE disables the APIC (SDM §10.4.3) */
		r[3] &= ~BIT(28);       /* HTT: one logical processor per package */
		break;
	case 4:
		r[0] &= 0x3fffu;        /* cache parameters: no sharing, one core */
		break;
	case 7:
		if (sub == 0) {
			r[0] = 0;
			r[1] &= CPUID7_EBX_KEEP;
			r[2] = r[3] = 0;
		} else {
			r[0] = r[1] = r[2] = r[3] = 0;
		}
		break;
	case 0x80000001:
		r[2] &= ~CPUIDX1_ECX_HIDE;
		r[3] &= ~CPUIDX1_EDX_HIDE;
		break;
	case 0x80000007:
		r[0] = r[1] = r[2] = 0;
		r[3] &= CPUIDX7_EDX_KEEP;
		break;
	case 0:
	case 2:
	case 0x80000000:
	case 0x80000002: case 0x80000003: case 0x80000004:   /* brand string */
	case 0x80000005: case 0x80000006:                    /* caches */
		break;
	case 0x80000008:
		/* address sizes only: EBX advertises IBPB/IBRS/STIBP/SSBD/RDPRU we do not offer, ECX the core count */
		r[1] = r[2] = r[3] = 0;
		break;
	default:
		/* power, PMU, topology, XSAVE, SVM, SEV...: nothing we virtualize */
		r[0] = r[1] = r[2] = r[3] = 0;
	}
}

void x86_emulate_cpuid(struct vcpu *v, const struct vm_exit *e)
{
	uint32_t r[4];
	x86_guest_cpuid(v, e->cpuid.leaf, e->cpuid.subleaf, r);
	/* CPUID writes the full 64-bit registers with the 32-bit results zero-extended */
	v->regs.gpr[X86_RAX] = r[0];
	v->regs.gpr[X86_RBX] = r[1];
	v->regs.gpr[X86_RCX] = r[2];
	v->regs.gpr[X86_RDX] = r[3];
	arch_skip_insn(v, e);
}
