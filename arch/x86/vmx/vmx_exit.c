/*
 * Running a VMX guest and decoding its exits (SDM vol. 3C ch. 27, appendix C)
 * into struct vm_exit. VM-entry failures are reported with the
 * VM-instruction error's meaning (§31.4) or the guest-state check that failed.
 */
#define LOG_SUB_FILE LOG_SUB_ARCH   /* its messages: loglevel=arch:LEVEL */
#include "arch/x86/cpu.h"
#include "arch/x86/vendor.h"
#include "arch/x86/vmx/vmx.h"
#include "arch/x86/x86.h"
#include "core/arch.h"
#include "core/exit.h"
#include "core/gmem.h"
#include "core/log.h"
#include "core/string.h"

#define HC_INSN_LEN 3
#define VMMCALL_BYTES "\x0f\x01\xd9"    /* AMD VMMCALL: #UD on Intel */
#define AR_L (1u << 13)
#define AR_DB (1u << 14)

static const char *const insn_errors[] = {
	[1] = "VMCALL executed in VMX root operation",
	[2] = "VMCLEAR with invalid physical address",
	[3] = "VMCLEAR with VMXON pointer",
	[4] = "VMLAUNCH with non-clear VMCS",
	[5] = "VMRESUME with non-launched VMCS",
	[6] = "VMRESUME after VMXOFF",
	[7] = "VM entry with invalid control field(s)",
	[8] = "VM entry with invalid host-state field(s)",
	[9] = "VMPTRLD with invalid physical address",
	[10] = "VMPTRLD with VMXON pointer",
	[11] = "VMPTRLD with incorrect VMCS revision identifier",
	[12] = "VMREAD/VMWRITE from/to unsupported VMCS component",
	[13] = "VMWRITE to read-only VMCS component",
	[15] = "VMXON executed in VMX root operation",
	[16] = "VM entry with invalid executive-VMCS pointer",
	[17] = "VM entry with non-launched executive VMCS",
	[18] = "VM entry with executive-VMCS pointer not VMXON pointer",
	[19] = "VMCALL with non-clear VMCS",
	[20] = "VMCALL with invalid VM-exit control fields",
	[22] = "VMCALL with incorrect MSEG revision identifier",
	[23] = "VMXOFF under dual-monitor treatment of SMIs and SMM",
	[24] = "VMCALL with invalid SMM-monitor features",
	[25] = "VM entry with invalid VM-execution control fields in executive VMCS",
	[26] = "VM entry with events blocked by MOV SS",
	[28] = "invalid operand to INVEPT/INVVPID",
};

const char *vmx_insn_error_name(uint64_t err)
{
	return err < ARRAY_SIZE(insn_errors) && insn_errors[err] ? insn_errors[err] : "unknown error";
}

/*
 * The guest-state checks (SDM §26.3.1) most likely to fail for state we
 * built; the CPU only says "invalid guest state", this says which.
 */
static void explain_guest_state(char *buf, size_t n)
{
	uint64_t cr0 = vmx_read(GUEST_CR0), cr4 = vmx_read(GUEST_CR4), efer = vmx_read(GUEST_IA32_EFER);
	uint64_t fixed0 = vmx.cr0_fixed0 & ~(vmx.unrestricted ? X86_CR0_PE | X86_CR0_PG : 0);
	uint32_t cs_ar = (uint32_t)vmx_read(GUEST_CS_AR), tr_ar = (uint32_t)vmx_read(GUEST_TR_AR);
	bool ia32e = vmx_read(ENTRY_CONTROLS) & ENTRY_IA32E_GUEST;
	const char *why = "no check of ours found the cause (see the state dump)";
	if ((cr0 & fixed0) != fixed0 || (cr0 & ~vmx.cr0_fixed1))
		why = "guest CR0 violates IA32_VMX_CR0_FIXED0/FIXED1";
	else if ((cr4 & vmx.cr4_fixed0) != vmx.cr4_fixed0 || (cr4 & ~vmx.cr4_fixed1))
		why = "guest CR4 violates IA32_VMX_CR4_FIXED0/FIXED1";
	else if ((cr0 & X86_CR0_PG) && !(cr0 & X86_CR0_PE))
		why = "guest CR0.PG set without CR0.PE";
	else if (ia32e != !!(efer & X86_EFER_LMA))
		why = "IA-32e mode guest entry control differs from guest EFER.LMA";
	else if (ia32e && !(cr4 & X86_CR4_PAE))
		why = "IA-32e mode guest without CR4.PAE";
	else if (ia32e && (cs_ar & AR_L) && (cs_ar & AR_DB))
		why = "guest CS has both L and D/B set";
	else if ((tr_ar & 0x8f) != 0x8b && (tr_ar & 0x8f) != 0x83)
		why = "guest TR is not a present busy TSS";
	else if (!(vmx_read(GUEST_RFLAGS) & X86_RFLAGS_FIXED))
		why = "guest RFLAGS bit 1 is clear";
	hv_snprintf(buf, n, "VM entry failed: invalid guest state: %s", why);
}

static void entry_failed(int how, struct vm_exit *e)
{
	e->reason = VMEXIT_FAIL;
	if (how == 1) {
		hv_snprintf(e->fail.what, sizeof(e->fail.what), "VM entry failed: VMfailInvalid (no current VMCS)");
		return;
	}
	uint64_t err = vmx_read(VM_INSTRUCTION_ERROR);
	hv_snprintf(e->fail.what, sizeof(e->fail.what), "VM entry failed: VM-instruction error %llu (%s)",
	            (unsigned long long)err, vmx_insn_error_name(err));
}

static enum cpu_mode guest_mode(void)
{
	uint64_t cr0 = vmx_read(GUEST_CR0);
	uint32_t cs_ar = (uint32_t)vmx_read(GUEST_CS_AR);
	if (!(cr0 & X86_CR0_PE))
		return MODE_REAL;
	if ((vmx_read(GUEST_IA32_EFER) & X86_EFER_LMA) && (cs_ar & AR_L))
		return MODE_64;
	return cs_ar & AR_DB ? MODE_PROT32 : MODE_PROT16;
}

/* Reads the PAE PDPTEs at guest CR3 into the VMCS; -EFAULT if they are not guest RAM. */
static int load_pdptes(struct vcpu *v)
{
	static const enum vmcs_field fields[4] = { GUEST_PDPTE0, GUEST_PDPTE1, GUEST_PDPTE2, GUEST_PDPTE3 };
	uint64_t pdpte[4];
	if (gmem_read(v->vm, mk_gpa(vmx_read(GUEST_CR3) & 0xffffffe0u), pdpte, sizeof(pdpte)))
		return -EFAULT;
	for (int i = 0; i < 4; i++)
		vmx_write(fields[i], pdpte[i]);
	return 0;
}

/* MOV to/from CR8, MOV to CR0/CR4, CLTS and LMSW when they touch bits we own. */
static void emulate_cr_access(struct vcpu *v, struct vm_exit *e)
{
	uint64_t q = vmx_read(EXIT_QUALIFICATION);
	unsigned cr = q & 15, type = (q >> 4) & 3, reg = (q >> 8) & 15;
	uint64_t old = vmx_read(CR0_READ_SHADOW);
	uint64_t val = v->regs.gpr[reg];
	if (e->mode != MODE_64)
		val &= UINT32_MAX;
	e->reason = VMEXIT_ARCH;
	if (cr == 8) {
		/* the guest's task priority is its local APIC's TPR[7:4] (SDM §10.8.6.1), never the host's */
		if (type == 1) {
			v->regs.gpr[reg] = v->arch.lapic.tpr >> 4;
		} else if (val & ~0xfull) {
			x86_inject_exception(v, X86_EXC_GP, true, 0);
			return;
		} else {
			v->arch.lapic.tpr = (uint32_t)val << 4;
		}
		arch_skip_insn(v, e);
		return;
	}
	if (type == 2)                          /* CLTS */
		val = old & ~(1ull << 3), cr = 0;
	else if (type == 3)                     /* LMSW: PE can be set, not cleared */
		val = (old & ~0xeull) | ((q >> 16) & 0xf) | (old & X86_CR0_PE), cr = 0;
	else if (type != 0 || (cr != 0 && cr != 4))
		goto unexpected;

	if (cr == 4) {
		if (val & ~(vmx.cr4_fixed1 & ~X86_CR4_GUEST_HIDDEN)) {
			x86_inject_exception(v, X86_EXC_GP, true, 0);
			return;
		}
		vmx_write(CR4_READ_SHADOW, val);
		vmx_write(GUEST_CR4, vmx_real_cr4(val));
		arch_skip_insn(v, e);
		return;
	}
	uint64_t efer = vmx_read(GUEST_IA32_EFER);
	/* SDM vol. 3A §2.5 / MOV CR: clearing PG while in 64-bit mode is #GP too */
	bool pg_off_in_64 = (old & X86_CR0_PG) && !(val & X86_CR0_PG) && e->mode == MODE_64;
	if ((val >> 32) || pg_off_in_64 || ((val & X86_CR0_PG) && !(val & X86_CR0_PE)) ||
	    ((val & X86_CR0_NW) && !(val & X86_CR0_CD)) ||
	    ((val & X86_CR0_PG) && (efer & X86_EFER_LME) && !(vmx_read(CR4_READ_SHADOW) & X86_CR4_PAE))) {
		x86_inject_exception(v, X86_EXC_GP, true, 0);
		return;
	}
	if (!vmx.unrestricted && (~val & (X86_CR0_PE | X86_CR0_PG))) {
		vm_end(v->vm, VM_END_ERROR, 0, "vcpu%u: guest turns off paging, which needs VMX unrestricted guest (not offered by this CPU)", v->id);
		return;
	}
	if ((val ^ old) & X86_CR0_PG && (efer & X86_EFER_LME)) {
		/* we emulated the MOV, so we switch IA-32e mode as the CPU would (SDM §9.8.5) */
		efer = val & X86_CR0_PG ? efer | X86_EFER_LMA : efer & ~X86_EFER_LMA;
		vmx_write(GUEST_IA32_EFER, efer);
		vmx_set_entry_mode(efer);
	}
	vmx_write(CR0_READ_SHADOW, val);
	vmx_write(GUEST_CR0, vmx_real_cr0(val));
	/*
	 * PAE paging switched on by an instruction we emulated: with EPT the CPU
	 * takes the four PDPTEs from the VMCS, so load them as MOV CR0 would
	 * (SDM vol. 3C §26.3.2.4; a bad PDPTE is the guest's #GP).
	 */
	if ((val & X86_CR0_PG) && !(old & X86_CR0_PG) && !(efer & X86_EFER_LME) &&
	    (vmx_read(CR4_READ_SHADOW) & X86_CR4_PAE) && load_pdptes(v)) {
		x86_inject_exception(v, X86_EXC_GP, true, 0);
		return;
	}
	arch_skip_insn(v, e);
	return;
unexpected:
	e->reason = VMEXIT_FAIL;
	hv_snprintf(e->fail.what, sizeof(e->fail.what), "unexpected CR access exit (qualification 0x%llx)",
	            (unsigned long long)q);
}

/*
 * Gives an intercepted exception back to the guest exactly as it arrived:
 * same vector, type (INT1 is a privileged software exception that needs its
 * instruction length) and error code (SDM vol. 3C §27.2.2, §26.6.1).
 */
static void reflect_exception(uint32_t info)
{
	vmx_write(ENTRY_INTR_INFO, info & ~(1u << 12));  /* bit 12: NMI unblocking, exit-only */
	if (info & INTR_INFO_ERR_VALID)
		vmx_write(ENTRY_EXCEPTION_ERROR_CODE, vmx_read(EXIT_INTR_ERROR_CODE));
	vmx_write(ENTRY_INSTRUCTION_LEN, vmx_read(EXIT_INSTRUCTION_LEN));
}

/* A #DB exit leaves DR6 untouched and puts its cause in the qualification (SDM §27.1). */
static void deliver_dr6(void)
{
	uint64_t q = vmx_read(EXIT_QUALIFICATION), dr6;
	__asm__ volatile("mov %%db6, %0" : "=r"(dr6));
	dr6 = (dr6 & ~0xfull) | (q & (0xfull | (1ull << 13) | (1ull << 14)));
	__asm__ volatile("mov %0, %%db6" :: "r"(dr6));
}

static void decode_exception(struct vcpu *v, struct vm_exit *e)
{
	uint32_t info = (uint32_t)vmx_read(EXIT_INTR_INFO);
	uint8_t vector = info & 0xff;
	e->reason = VMEXIT_ARCH;
	if (((info >> 8) & 7) == 2) {           /* NMI: the host's, not the guest's */
		e->reason = VMEXIT_INTR;
		return;
	}
	if (vector == X86_EXC_MC) {
		e->reason = VMEXIT_FAIL;
		hv_snprintf(e->fail.what, sizeof(e->fail.what), "machine check while the guest ran");
		return;
	}
	if (vector == X86_EXC_DB)
		deliver_dr6();
	if (vector != X86_EXC_UD) {
		reflect_exception(info);
		return;
	}
	struct x86_paging pg;
	x86_vendor->get_paging(v, &pg);
	if (x86_insn_at_rip_is(v, &pg, v->regs.rip, e->mode == MODE_64, VMMCALL_BYTES, HC_INSN_LEN)) {
		e->reason = VMEXIT_HYPERCALL;
		e->hc.insn = HC_INSN_VMMCALL;
		e->insn_len = HC_INSN_LEN;
		return;
	}
	reflect_exception(info);
}

static void decode_io(struct vm_exit *e)
{
	uint64_t q = vmx_read(EXIT_QUALIFICATION);   /* SDM table 28-5 */
	e->reason = VMEXIT_IO;
	e->io.size = (uint8_t)((q & 7) + 1);
	e->io.in = q & (1u << 3);
	e->io.string = q & (1u << 4);
	e->io.rep = q & (1u << 5);
	e->io.port = (uint16_t)(q >> 16);
}

static void decode_ept(struct vcpu *v, struct vm_exit *e, bool misconfig)
{
	uint64_t q = vmx_read(EXIT_QUALIFICATION), gpa = vmx_read(GUEST_PHYSICAL_ADDRESS);
	e->mem.gpa = mk_gpa(gpa);
	e->mem.access = q & 4 ? MEM_ACCESS_EXEC : q & 2 ? MEM_ACCESS_WRITE : MEM_ACCESS_READ;
	if (misconfig || (gpa < v->vm->mem_size && !gmem_page_removed(v->vm, gpa))) {
		e->reason = VMEXIT_FAIL;
		hv_snprintf(e->fail.what, sizeof(e->fail.what), "EPT %s on GPA 0x%llx (qualification 0x%llx): EPT is inconsistent",
		            misconfig ? "misconfiguration" : "violation on mapped memory",
		            (unsigned long long)gpa, (unsigned long long)q);
		return;
	}
	e->reason = VMEXIT_MEM_FAULT;
}

static void vmx_decode(struct vcpu *v, struct vm_exit *e)
{
	uint32_t reason = (uint32_t)vmx_read(EXIT_REASON);
	/* the header only: each case fills the part of the union its reason has */
	e->reason = VMEXIT_NONE;
	e->raw_code = reason;
	e->mode = guest_mode();
	e->cpl = (uint8_t)((vmx_read(GUEST_SS_AR) >> 5) & 3);   /* CPL = SS.DPL (§26.3.1.2) */
	e->insn_len = (uint8_t)vmx_read(EXIT_INSTRUCTION_LEN);
	if (reason & EXIT_REASON_ENTRY_FAILURE) {
		e->reason = VMEXIT_FAIL;
		if ((reason & 0xffff) == EXIT_REASON_INVALID_GUEST_STATE)
			explain_guest_state(e->fail.what, sizeof(e->fail.what));
		else
			hv_snprintf(e->fail.what, sizeof(e->fail.what), "VM entry failed: exit reason %u",
			            reason & 0xffff);
		return;
	}
	switch (reason & 0xffff) {
	case EXIT_REASON_EXCEPTION_NMI: decode_exception(v, e); break;
	case EXIT_REASON_EXT_INTR:
		/* not acknowledged on exit: it is still pending and is taken here */
		x86_take_host_interrupt();
		e->reason = VMEXIT_INTR;
		break;
	case EXIT_REASON_INIT:
	case EXIT_REASON_SIPI: e->reason = VMEXIT_INTR; break;
	case EXIT_REASON_PREEMPTION_TIMER: e->reason = VMEXIT_INTR; break;
	case EXIT_REASON_INTR_WINDOW:
	case EXIT_REASON_NMI_WINDOW:
		vmx_request_window(v, false, false, -1);  /* it can take the event now: injected on entry */
		e->reason = VMEXIT_ARCH;
		break;
	case EXIT_REASON_TRIPLE_FAULT: e->reason = VMEXIT_SHUTDOWN; break;
	case EXIT_REASON_CPUID:
		e->reason = VMEXIT_CPUID;
		e->cpuid.leaf = (uint32_t)v->regs.gpr[X86_RAX];
		e->cpuid.subleaf = (uint32_t)v->regs.gpr[X86_RCX];
		break;
	case EXIT_REASON_HLT: e->reason = VMEXIT_HLT; break;
	case EXIT_REASON_PAUSE: e->reason = VMEXIT_PAUSE; break;
	case EXIT_REASON_INVD:
		/* INVD would drop dirty lines the host owns: behave as WBINVD (a no-op here) */
		arch_skip_insn(v, e);
		e->reason = VMEXIT_ARCH;
		break;
	case EXIT_REASON_VMCALL:
		e->reason = VMEXIT_HYPERCALL;
		e->hc.insn = HC_INSN_VMCALL;
		break;
	case EXIT_REASON_CR_ACCESS: emulate_cr_access(v, e); break;
	case EXIT_REASON_RDPMC:
		/* no PMU is offered (CPUID 0xA reads 0): every counter index is invalid */
		x86_inject_exception(v, X86_EXC_GP, true, 0);
		e->reason = VMEXIT_ARCH;
		break;
	case EXIT_REASON_IO: decode_io(e); break;
	case EXIT_REASON_RDMSR:
	case EXIT_REASON_WRMSR:
		e->reason = (reason & 0xffff) == EXIT_REASON_WRMSR ? VMEXIT_MSR_WRITE : VMEXIT_MSR_READ;
		e->msr.index = (uint32_t)v->regs.gpr[X86_RCX];
		e->msr.value = (v->regs.gpr[X86_RDX] << 32) | (uint32_t)v->regs.gpr[X86_RAX];
		break;
	case EXIT_REASON_EPT_VIOLATION: decode_ept(v, e, false); break;
	case EXIT_REASON_EPT_MISCONFIG: decode_ept(v, e, true); break;
	case EXIT_REASON_VMCLEAR ... EXIT_REASON_VMXON:
	case EXIT_REASON_MWAIT: case EXIT_REASON_MONITOR: case EXIT_REASON_INVEPT:
	case EXIT_REASON_RDTSCP: case EXIT_REASON_INVVPID: case EXIT_REASON_XSETBV:
	case EXIT_REASON_INVPCID:
		/* instructions of features the guest's CPUID does not have */
		arch_inject_undef(v);
		e->reason = VMEXIT_ARCH;
		break;
	default:
		e->reason = VMEXIT_FAIL;
		hv_snprintf(e->fail.what, sizeof(e->fail.what), "unexpected VMX exit reason %u", reason & 0xffff);
	}
}

void vmx_run(struct vcpu *v, struct vm_exit *e)
{
	struct vmx_vcpu *x = v->arch.vendor;
	vmx_load_vmcs(v);
	vmx_load_guest_msrs(v);
	vmx_write(GUEST_RSP, v->regs.gpr[X86_RSP]);
	vmx_write(GUEST_RIP, v->regs.rip);
	vmx_write(GUEST_RFLAGS, v->regs.rflags);
	int r = vmx_enter(v->regs.gpr, x->launched);
	if (r) {
		entry_failed(r, e);
		return;
	}
	x->launched = true;
	v->regs.gpr[X86_RSP] = vmx_read(GUEST_RSP);
	v->regs.rip = vmx_read(GUEST_RIP);
	v->regs.rflags = vmx_read(GUEST_RFLAGS);
	/* virtual-NMI blocking, for the scheduler's HLT wake-up test without a VMCS load */
	v->arch.nmi_blocked = vmx_read(GUEST_INTERRUPTIBILITY) & INTERRUPTIBILITY_NMI;
	/* an event whose delivery the exit interrupted is delivered again (SDM §27.2.4) */
	uint32_t idt = (uint32_t)vmx_read(IDT_VECTORING_INFO);
	if (idt & INTR_INFO_VALID) {
		/* an NMI cut short left NMI blocking set: entry would refuse to inject it (SDM §26.3.1.5) */
		if ((idt & INTR_TYPE_MASK) == INTR_TYPE_NMI)
			vmx_write(GUEST_INTERRUPTIBILITY, vmx_read(GUEST_INTERRUPTIBILITY) & ~(uint64_t)INTERRUPTIBILITY_NMI);
		vmx_write(ENTRY_INTR_INFO, idt & ~(1u << 12));
		vmx_write(ENTRY_EXCEPTION_ERROR_CODE, vmx_read(IDT_VECTORING_ERROR_CODE));
		vmx_write(ENTRY_INSTRUCTION_LEN, vmx_read(EXIT_INSTRUCTION_LEN));
	}
	vmx_decode(v, e);
}

void vmx_dump(struct vcpu *v)
{
	vmx_load_vmcs(v);
	con_printf("  cr0 %llx (shadow %llx) cr3 %llx cr4 %llx efer %llx cpl %llu\n",
	           (unsigned long long)vmx_read(GUEST_CR0), (unsigned long long)vmx_read(CR0_READ_SHADOW),
	           (unsigned long long)vmx_read(GUEST_CR3), (unsigned long long)vmx_read(GUEST_CR4),
	           (unsigned long long)vmx_read(GUEST_IA32_EFER),
	           (unsigned long long)((vmx_read(GUEST_SS_AR) >> 5) & 3));
	con_printf("  cs %04llx/%05llx base %llx  ss %04llx/%05llx  tr %04llx/%05llx  idtr %llx+%llx  gdtr %llx+%llx\n",
	           (unsigned long long)vmx_read(GUEST_CS_SELECTOR), (unsigned long long)vmx_read(GUEST_CS_AR),
	           (unsigned long long)vmx_read(GUEST_CS_BASE),
	           (unsigned long long)vmx_read(GUEST_SS_SELECTOR), (unsigned long long)vmx_read(GUEST_SS_AR),
	           (unsigned long long)vmx_read(GUEST_TR_SELECTOR), (unsigned long long)vmx_read(GUEST_TR_AR),
	           (unsigned long long)vmx_read(GUEST_IDTR_BASE), (unsigned long long)vmx_read(GUEST_IDTR_LIMIT),
	           (unsigned long long)vmx_read(GUEST_GDTR_BASE), (unsigned long long)vmx_read(GUEST_GDTR_LIMIT));
	con_printf("  exit reason %llu qualification %llx intr info %llx idt vectoring %llx entry ctls %llx\n",
	           (unsigned long long)vmx_read(EXIT_REASON), (unsigned long long)vmx_read(EXIT_QUALIFICATION),
	           (unsigned long long)vmx_read(EXIT_INTR_INFO), (unsigned long long)vmx_read(IDT_VECTORING_INFO),
	           (unsigned long long)vmx_read(ENTRY_CONTROLS));
}
