/*
 * AMD SVM with nested paging (AMD APM vol. 2, ch. 15). One VMCB per vCPU,
 * one NPT, I/O permission map and MSR permission map per VM. Every exit is
 * decoded once into struct vm_exit (svm_decode) and handed back to core.
 */
#define LOG_SUB_FILE LOG_SUB_ARCH   /* its messages: loglevel=arch:LEVEL */
#include "arch/x86/cpu.h"
#include "arch/x86/pt.h"
#include "arch/x86/svm/svm.h"
#include "arch/x86/svm/vmcb.h"
#include "arch/x86/vendor.h"
#include "arch/x86/vlapic.h"
#include "arch/x86/x86.h"
#include "core/arch.h"
#include "core/exit.h"
#include "core/gmem.h"
#include "core/log.h"
#include "core/pmm.h"
#include "core/selftest.h"
#include "core/string.h"
#include "core/vm.h"

/* CPUID and MSRs, APM vol. 2 §15.4 and vol. 3 appendix E. */
#define CPUID_EXT_SVM (1u << 2)         /* 0x80000001 ECX */
#define CPUID_SVM_FEATURES 0x8000000au
#define SVM_FEAT_NP (1u << 0)           /* 0x8000000a EDX */
#define SVM_FEAT_NRIPS (1u << 3)
#define SVM_FEAT_FLUSH_BY_ASID (1u << 6)
#define SVM_FEAT_PAUSE_FILTER (1u << 10)
#define SVM_FEAT_PAUSE_THRESHOLD (1u << 12)
/* PAUSEs before an intercept, and the cycle gap that restarts the count: KVM's defaults (svm.c, kvm_host.h) */
#define PAUSE_FILTER_COUNT 3000
#define PAUSE_FILTER_THRESH 128
#define MSR_VM_CR 0xc0010114u
#define VM_CR_SVMDIS (1ull << 4)
#define MSR_VM_HSAVE_PA 0xc0010117u

#define IOPM_PAGES 3                    /* 12 KiB, APM §15.10.1 */
#define MSRPM_PAGES 2                   /* 8 KiB, APM §15.11 */
#define DEFAULT_PAT 0x0007040600070406ull /* power-on PAT, SDM vol. 3A §11.12.4 */
#define VMCALL_BYTES "\x0f\x01\xc1"     /* Intel VMCALL: #UD on AMD */
#define HC_INSN_LEN 3                   /* VMCALL and VMMCALL are 0f 01 xx */

static struct {
	hpa_t hsave_pa, host_vmcb_pa;
	bool nrips;
	bool pause_filter, pause_thresh, flush_by_asid;
	uint32_t nr_asids, next_asid;
} svm;

void svm_enter(uint64_t *gprs, hpa_t guest_vmcb, hpa_t host_vmcb);

static int svm_init_cpu(void)
{
	uint32_t r[4];
	cpuid(0x80000000, 0, r);
	uint32_t max_ext = r[0];
	cpuid(0x80000001, 0, r);
	if (max_ext < CPUID_SVM_FEATURES || !(r[2] & CPUID_EXT_SVM))
		return -EOPNOTSUPP;     /* pick_vendor() checked: not reached on a sane CPU */
	if (rdmsr(MSR_VM_CR) & VM_CR_SVMDIS) {
		pr_err("SVM is disabled by the firmware (VM_CR.SVMDIS); enable virtualization in the firmware setup\n");
		return -EOPNOTSUPP;
	}
	cpuid(CPUID_SVM_FEATURES, 0, r);
	if (!(r[3] & SVM_FEAT_NP)) {
		pr_err("SVM without nested paging (CPUID 0x8000000a EDX bit 0 clear): cannot run guests\n");
		return -EOPNOTSUPP;
	}
	svm.nrips = r[3] & SVM_FEAT_NRIPS;
	svm.pause_filter = r[3] & SVM_FEAT_PAUSE_FILTER;
	svm.flush_by_asid = r[3] & SVM_FEAT_FLUSH_BY_ASID;
	svm.pause_thresh = r[3] & SVM_FEAT_PAUSE_THRESHOLD;
	svm.nr_asids = r[1];
	svm.next_asid = 1;
	if (svm.nr_asids < 2) {
		pr_err("SVM reports %u ASIDs: cannot run guests\n", svm.nr_asids);
		return -EOPNOTSUPP;
	}
	svm.hsave_pa = pmm_alloc(1, PAGE_SIZE);
	svm.host_vmcb_pa = pmm_alloc(1, PAGE_SIZE);
	if (!svm.hsave_pa || !svm.host_vmcb_pa)
		return -ENOMEM;
	wrmsr(MSR_EFER, rdmsr(MSR_EFER) | X86_EFER_SVME);
	wrmsr(MSR_VM_HSAVE_PA, svm.hsave_pa);
	/* our FS/GS/TR/LDTR and syscall MSRs, restored after every VMRUN */
	__asm__ volatile("vmsave %%rax" :: "a"(svm.host_vmcb_pa) : "memory");
	pr_info("SVM: nested paging, %u ASIDs, NRIPS %s, PAUSE filter %s\n", svm.nr_asids,
	        svm.nrips ? "yes" : "no", svm.pause_filter ? "yes" : "no");
	return 0;
}

static void svm_vm_destroy(struct vm *vm);

static int svm_vm_init(struct vm *vm)
{
	hpa_t pa = pmm_alloc(1, PAGE_SIZE);
	if (!pa)
		return -ENOMEM;
	struct svm_vm *s = arch_phys_to_virt(pa);
	vm->arch.vendor = s;
	s->iopm_pa = pmm_alloc(IOPM_PAGES, PAGE_SIZE);
	s->msrpm_pa = pmm_alloc(MSRPM_PAGES, PAGE_SIZE);
	if (!s->iopm_pa || !s->msrpm_pa || pt_init(&s->npt, &pt_x86_npt))
		goto nomem;
	/* every port and every MSR exits: what a guest may touch is decided in arch/x86 */
	memset(arch_phys_to_virt(s->iopm_pa), 0xff, IOPM_PAGES * PAGE_SIZE);
	memset(arch_phys_to_virt(s->msrpm_pa), 0xff, MSRPM_PAGES * PAGE_SIZE);
	for (unsigned i = 0; i < vm->nr_slots; i++) {
		const struct vm_slot *sl = &vm->slots[i];
		unsigned perm = PT_R | PT_X | (sl->flags & SLOT_READONLY ? 0 : PT_W);
		if (pt_map(&s->npt, sl->gpa, sl->hpa, sl->size, perm))
			goto nomem;
	}
	s->asid = svm.next_asid++;
	if (svm.next_asid >= svm.nr_asids)
		svm.next_asid = 1;  /* reuse is safe: every vCPU flushes the TLB on its first run */
	return 0;
nomem:
	svm_vm_destroy(vm);     /* frees what was allocated; the rest is 0 */
	return -ENOMEM;
}

static void svm_vm_destroy(struct vm *vm)
{
	struct svm_vm *s = vm->arch.vendor;
	pt_destroy(&s->npt);
	pmm_free(s->iopm_pa, IOPM_PAGES);
	pmm_free(s->msrpm_pa, MSRPM_PAGES);
	pmm_free(arch_virt_to_phys(s), 1);
	vm->arch.vendor = NULL;
}

static int svm_vcpu_init(struct vcpu *v)
{
	struct svm_vm *svm_vm = v->vm->arch.vendor;
	hpa_t pa = pmm_alloc(2, PAGE_SIZE);
	if (!pa)
		return -ENOMEM;
	struct svm_vcpu *s = arch_phys_to_virt(pa + PAGE_SIZE);
	s->vmcb_pa = pa;
	s->vmcb = arch_phys_to_virt(pa);
	s->tpr_window_dead = -1;
	v->arch.vendor = s;

	struct vmcb_control *c = &s->vmcb->ctl;
	c->misc1 = SVM_MISC1_INTR | SVM_MISC1_NMI | SVM_MISC1_SMI | SVM_MISC1_INIT |
	           SVM_MISC1_CPUID | SVM_MISC1_INVD | SVM_MISC1_HLT | SVM_MISC1_INVLPGA | SVM_MISC1_RDPMC |
	           SVM_MISC1_IOIO | SVM_MISC1_MSR | SVM_MISC1_SHUTDOWN;
	c->misc2 = SVM_MISC2_VMRUN | SVM_MISC2_VMMCALL | SVM_MISC2_VMLOAD | SVM_MISC2_VMSAVE |
	           SVM_MISC2_STGI | SVM_MISC2_CLGI | SVM_MISC2_SKINIT | SVM_MISC2_RDTSCP |
	           SVM_MISC2_MONITOR | SVM_MISC2_MWAIT | SVM_MISC2_MWAIT_C | SVM_MISC2_XSETBV |
	           SVM_MISC2_ICEBP | SVM_MISC2_RDPRU;
	/*
	 * #UD: VMCALL on AMD. #DB and #AC: a guest must not be able to keep the
	 * CPU inside exception delivery forever (CVE-2015-5307, CVE-2015-8104):
	 * each one exits and is reflected. #MC: the host's, never the guest's.
	 */
	c->exceptions = X86_EXC_BIT(X86_EXC_UD) | X86_EXC_BIT(X86_EXC_DB) | X86_EXC_BIT(X86_EXC_AC) |
	                X86_EXC_BIT(X86_EXC_MC);
	/*
	 * A vCPU spinning on PAUSE waits for another one: with the PAUSE
	 * filter, a run of PAUSEs exits so the scheduler can run the others.
	 * Without the filter every PAUSE would exit: not intercepted then.
	 */
	if (svm.pause_filter) {
		c->misc1 |= SVM_MISC1_PAUSE;
		c->pause_filter_count = PAUSE_FILTER_COUNT;
		if (svm.pause_thresh)
			c->pause_filter_thresh = PAUSE_FILTER_THRESH;
	}
	c->iopm_base_pa = svm_vm->iopm_pa;
	c->msrpm_base_pa = svm_vm->msrpm_pa;
	c->asid = hv_selftest == SELFTEST_BAD_CONTROL && !v->vm->id ? 0 : svm_vm->asid;
	c->np_enable = SVM_NP_ENABLE;
	c->ncr3 = svm_vm->npt.root;
	/* V_INTR_MASKING: the guest's IF masks only virtual interrupts, ours stay ours */
	c->vintr = SVM_VINTR_MASKING;
	s->vmcb->save.g_pat = DEFAULT_PAT;
	s->vmcb->save.dr6 = X86_DR6_INIT;
	s->vmcb->save.dr7 = X86_DR7_INIT;
	return 0;
}

static void svm_vcpu_destroy(struct vcpu *v)
{
	struct svm_vcpu *s = v->arch.vendor;
	pmm_free(s->vmcb_pa, 2);
	v->arch.vendor = NULL;
}

/* VMX-layout access rights (vendor.h) to the VMCB's compressed attribute. */
static struct vmcb_seg to_vmcb_seg(const struct x86_seg *s)
{
	uint16_t attr = (s->ar & X86_AR_UNUSABLE) ? 0 : (uint16_t)((s->ar & 0xff) | ((s->ar >> 4) & 0xf00));
	return (struct vmcb_seg){ s->sel, attr, s->limit, s->base };
}

static int svm_set_state(struct vcpu *v, const struct x86_cpu_state *st)
{
	struct vmcb_save *s = &((struct svm_vcpu *)v->arch.vendor)->vmcb->save;
	s->cs = to_vmcb_seg(&st->cs);
	s->ds = to_vmcb_seg(&st->ds);
	s->es = to_vmcb_seg(&st->es);
	s->ss = to_vmcb_seg(&st->ss);
	s->fs = to_vmcb_seg(&st->fs);
	s->gs = to_vmcb_seg(&st->gs);
	s->tr = to_vmcb_seg(&st->tr);
	s->ldtr = to_vmcb_seg(&st->ldtr);
	s->gdtr = (struct vmcb_seg){ 0, 0, st->gdtr.limit, st->gdtr.base };
	s->idtr = (struct vmcb_seg){ 0, 0, st->idtr.limit, st->idtr.base };
	s->cr0 = st->cr0;
	s->cr3 = st->cr3;
	s->cr4 = st->cr4;
	s->efer = st->efer | X86_EFER_SVME;   /* VMRUN requires it; the guest never sees it */
	s->cpl = 0;
	return 0;
}

static void svm_get_paging(struct vcpu *v, struct x86_paging *p)
{
	const struct vmcb_save *s = &((struct svm_vcpu *)v->arch.vendor)->vmcb->save;
	*p = (struct x86_paging){ s->cr0, s->cr3, s->cr4, s->efer, s->cs.base, s->cr2 };
}

static void svm_inject_exception(struct vcpu *v, uint8_t vector, bool has_error, uint32_t error)
{
	struct svm_vcpu *s = v->arch.vendor;
	s->pending_event = SVM_EVT_VALID | SVM_EVT_TYPE_EXCEPTION | vector |
	                   (has_error ? SVM_EVT_ERR_VALID | ((uint64_t)error << 32) : 0);
}

static bool svm_event_queued(struct vcpu *v)
{
	return ((struct svm_vcpu *)v->arch.vendor)->pending_event & SVM_EVT_VALID;
}

static bool svm_intr_allowed(struct vcpu *v)
{
	return (v->regs.rflags & X86_RFLAGS_IF) && !(svm_vmcb(v)->ctl.int_state & SVM_INT_SHADOW);
}

/*
 * Without vNMI the CPU blocks NMIs after an injected one until IRET, but
 * tells us nothing: intercept IRET, and count the handler done once RIP
 * has moved off the IRET that exited (the exit comes before IRET retires;
 * KVM svm_complete_interrupts does the same with nmi_iret_rip).
 */
static bool svm_nmi_allowed(struct vcpu *v)
{
	return !v->arch.nmi_blocked && !(svm_vmcb(v)->ctl.int_state & SVM_INT_SHADOW);
}

static void svm_inject_intr(struct vcpu *v, uint8_t vector)
{
	((struct svm_vcpu *)v->arch.vendor)->pending_event = SVM_EVT_VALID | SVM_EVT_TYPE_INTR | vector;
}

static void svm_inject_nmi(struct vcpu *v)
{
	((struct svm_vcpu *)v->arch.vendor)->pending_event = SVM_EVT_VALID | SVM_EVT_TYPE_NMI | X86_EXC_NMI;
	svm_vmcb(v)->ctl.misc1 |= SVM_MISC1_IRET;
	v->arch.nmi_blocked = true;
	v->arch.nmi_iret_seen = false;
}

/*
 * A virtual interrupt (V_IRQ) and its VINTR intercept: the CPU exits as
 * soon as the guest could take it (APM §15.21.4). For a deliverable one:
 * top priority, V_TPR ignored. For one the TPR holds back: its own class,
 * V_TPR honoured, so the exit comes when the guest lowers CR8 (which does
 * not exit on SVM). A blocked NMI waits for the IRET intercept set when
 * the last one was injected.
 */
static void svm_request_window(struct vcpu *v, bool intr, bool nmi UNUSED, int tpr_class)
{
	struct svm_vcpu *s = v->arch.vendor;
	struct vmcb_control *c = &s->vmcb->ctl;
	const uint64_t bits = SVM_VINTR_IRQ | (0xfull << SVM_VINTR_PRIO_SHIFT) | SVM_VINTR_IGN_TPR;
	c->vintr &= ~bits;
	c->misc1 &= ~SVM_MISC1_VINTR;
	s->tpr_window = false;
	/*
	 * Some implementations (QEMU's) take V_IRQ at V_INTR_PRIO == V_TPR, where
	 * the APIC would not: a TPR window that exited for nothing is not armed
	 * again until V_TPR changes, or it would exit for ever.
	 */
	if (!intr && (tpr_class < 0 || (int)(c->vintr & SVM_VINTR_TPR_MASK) == s->tpr_window_dead))
		return;
	if (intr) {
		c->vintr |= bits;
	} else {
		c->vintr |= SVM_VINTR_IRQ | ((uint64_t)tpr_class << SVM_VINTR_PRIO_SHIFT);
		s->tpr_window = true;
	}
	c->misc1 |= SVM_MISC1_VINTR;
}

static void svm_init_event(struct vcpu *v)
{
	struct svm_vcpu *s = v->arch.vendor;
	s->pending_event = 0;
	s->vmcb->ctl.int_state = 0;
	s->vmcb->ctl.misc1 &= ~SVM_MISC1_IRET;
	v->arch.nmi_iret_seen = false;
	svm_request_window(v, false, false, -1);
	s->vmcb->save.dr7 = X86_DR7_INIT;
	s->vmcb->save.dr6 = X86_DR6_INIT;
	s->vmcb->save.cr2 = 0;
}

/* The guest's TLB entries are tagged with its ASID: flushed by TLB_CONTROL at the next VMRUN. */
static void svm_flush_tlb(struct vcpu *v)
{
	((struct svm_vcpu *)v->arch.vendor)->flush_tlb = true;
}

/* Each vCPU flushes its ASID's TLB entries, nested translations included, at its next VMRUN. */
static int svm_set_guest_page(struct vm *vm, uint64_t gpa, hpa_t hpa, unsigned perm, bool present)
{
	int r = pt_set_page(&((struct svm_vm *)vm->arch.vendor)->npt, gpa, hpa, perm, present);
	for (unsigned i = 0; !r && i < vm->nr_vcpus; i++)
		svm_flush_tlb(vm->vcpus[i]);
	return r;
}

/* Completing an instruction ends an STI or MOV SS shadow. */
static void svm_clear_shadow(struct vcpu *v)
{
	svm_vmcb(v)->ctl.int_state &= ~SVM_INT_SHADOW;
}

static void svm_dump(struct vcpu *v)
{
	const struct vmcb *vmcb = svm_vmcb(v);
	const struct vmcb_save *s = &vmcb->save;
	con_printf("  cr0 %llx cr2 %llx cr3 %llx cr4 %llx efer %llx cpl %u\n",
	           (unsigned long long)s->cr0, (unsigned long long)s->cr2, (unsigned long long)s->cr3,
	           (unsigned long long)s->cr4, (unsigned long long)s->efer, s->cpl);
	con_printf("  cs %04x/%03x base %llx  ss %04x/%03x  idtr %llx+%x  gdtr %llx+%x  tr %04x/%03x\n",
	           s->cs.sel, s->cs.attrib, (unsigned long long)s->cs.base, s->ss.sel, s->ss.attrib,
	           (unsigned long long)s->idtr.base, s->idtr.limit, (unsigned long long)s->gdtr.base,
	           s->gdtr.limit, s->tr.sel, s->tr.attrib);
	con_printf("  exit 0x%llx info1 %llx info2 %llx exitintinfo %llx\n",
	           (unsigned long long)vmcb->ctl.exitcode, (unsigned long long)vmcb->ctl.exitinfo1,
	           (unsigned long long)vmcb->ctl.exitinfo2, (unsigned long long)vmcb->ctl.exitintinfo);
}

static enum cpu_mode svm_mode(const struct vmcb_save *s)
{
	if (!(s->cr0 & X86_CR0_PE))
		return MODE_REAL;
	if ((s->efer & X86_EFER_LMA) && (s->cs.attrib & (1u << 9)))  /* CS.L */
		return MODE_64;
	return (s->cs.attrib & (1u << 10)) ? MODE_PROT32 : MODE_PROT16; /* CS.D */
}

/* Without NRIPS (QEMU TCG) the length comes from what we know the instruction is. */
static uint8_t insn_len(const struct vmcb *vmcb, uint8_t known)
{
	if (svm.nrips && vmcb->ctl.nrip > vmcb->save.rip && vmcb->ctl.nrip - vmcb->save.rip <= 15)
		return (uint8_t)(vmcb->ctl.nrip - vmcb->save.rip);
	return known;
}

static void decode_ud(struct vcpu *v, const struct vmcb *vmcb, struct vm_exit *e)
{
	struct x86_paging pg;
	svm_get_paging(v, &pg);
	if (x86_insn_at_rip_is(v, &pg, vmcb->save.rip, e->mode == MODE_64, VMCALL_BYTES, HC_INSN_LEN)) {
		e->reason = VMEXIT_HYPERCALL;
		e->hc.insn = HC_INSN_VMCALL;
		e->insn_len = HC_INSN_LEN;
		return;
	}
	arch_inject_undef(v);      /* a genuine #UD: the guest gets it back */
	e->reason = VMEXIT_ARCH;
}

static void decode_npf(struct vcpu *v, const struct vmcb *vmcb, struct vm_exit *e)
{
	uint64_t info = vmcb->ctl.exitinfo1, gpa = vmcb->ctl.exitinfo2;
	e->mem.gpa = mk_gpa(gpa);
	e->mem.access = (info & SVM_NPF_FETCH) ? MEM_ACCESS_EXEC :
	                (info & SVM_NPF_WRITE) ? MEM_ACCESS_WRITE : MEM_ACCESS_READ;
	if ((gpa < v->vm->mem_size && !gmem_page_removed(v->vm, gpa)) || (info & SVM_NPF_RSVD)) {
		/* RAM we mapped faulted: our NPT is wrong, not the guest */
		e->reason = VMEXIT_FAIL;
		hv_snprintf(e->fail.what, sizeof(e->fail.what),
		            "nested page fault on mapped GPA 0x%llx (error 0x%llx): NPT is inconsistent",
		            (unsigned long long)gpa, (unsigned long long)info);
		return;
	}
	e->reason = VMEXIT_MEM_FAULT;
}

static void decode_io(const struct vmcb *vmcb, struct vm_exit *e)
{
	uint64_t info = vmcb->ctl.exitinfo1;
	e->reason = VMEXIT_IO;
	e->io.port = (uint16_t)(info >> 16);
	e->io.in = info & SVM_IOIO_IN;
	e->io.string = info & SVM_IOIO_STR;
	e->io.rep = info & SVM_IOIO_REP;
	unsigned sz = (info >> SVM_IOIO_SZ_SHIFT) & 7;
	e->io.size = sz & 4 ? 4 : sz & 2 ? 2 : 1;
	/* EXITINFO2 holds the next RIP for IOIO exits even without NRIPS (APM §15.10.2) */
	e->insn_len = (uint8_t)(vmcb->ctl.exitinfo2 - vmcb->save.rip);
}

static void svm_decode(struct vcpu *v, struct vmcb *vmcb, struct vm_exit *e)
{
	uint64_t code = vmcb->ctl.exitcode;
	/* the header only: each case fills the part of the union its reason has (not 120 bytes of zeroes per exit) */
	e->reason = VMEXIT_NONE;
	e->insn_len = 0;
	e->raw_code = code;
	e->cpl = vmcb->save.cpl;
	e->mode = svm_mode(&vmcb->save);
	switch (code) {
	case SVM_EXIT_VMMCALL:
		e->reason = VMEXIT_HYPERCALL;
		e->hc.insn = HC_INSN_VMMCALL;
		e->insn_len = insn_len(vmcb, HC_INSN_LEN);
		break;
	case SVM_EXIT_EXCP_BASE + X86_EXC_UD:
		decode_ud(v, vmcb, e);
		break;
	case SVM_EXIT_EXCP_BASE + X86_EXC_AC:
		svm_inject_exception(v, X86_EXC_AC, true, (uint32_t)vmcb->ctl.exitinfo1);
		e->reason = VMEXIT_ARCH;
		break;
	case SVM_EXIT_EXCP_BASE + X86_EXC_DB:
		/* DR6 already holds the cause in the VMCB; deliver it as the CPU would have */
		svm_inject_exception(v, X86_EXC_DB, false, 0);
		e->reason = VMEXIT_ARCH;
		break;
	case SVM_EXIT_ICEBP:
		/* INT1: a trap after a one-byte instruction, delivered as #DB */
		e->insn_len = insn_len(vmcb, 1);
		arch_skip_insn(v, e);
		svm_inject_exception(v, X86_EXC_DB, false, 0);
		e->reason = VMEXIT_ARCH;
		break;
	case SVM_EXIT_EXCP_BASE + X86_EXC_MC:
		e->reason = VMEXIT_FAIL;
		hv_snprintf(e->fail.what, sizeof(e->fail.what), "machine check while the guest ran");
		break;
	case SVM_EXIT_CPUID:
		e->reason = VMEXIT_CPUID;
		e->cpuid.leaf = (uint32_t)v->regs.gpr[X86_RAX];
		e->cpuid.subleaf = (uint32_t)v->regs.gpr[X86_RCX];
		e->insn_len = insn_len(vmcb, 2);
		break;
	case SVM_EXIT_MSR:
		e->reason = vmcb->ctl.exitinfo1 ? VMEXIT_MSR_WRITE : VMEXIT_MSR_READ;
		e->msr.index = (uint32_t)v->regs.gpr[X86_RCX];
		e->msr.value = (v->regs.gpr[X86_RDX] << 32) | (uint32_t)v->regs.gpr[X86_RAX];
		e->insn_len = insn_len(vmcb, 2);
		break;
	case SVM_EXIT_IOIO:
		decode_io(vmcb, e);
		break;
	case SVM_EXIT_HLT:
		e->reason = VMEXIT_HLT;
		e->insn_len = insn_len(vmcb, 1);
		break;
	case SVM_EXIT_PAUSE:
		e->reason = VMEXIT_PAUSE;
		e->insn_len = insn_len(vmcb, 2);      /* F3 90 */
		break;
	case SVM_EXIT_INVD:
		/* INVD would drop dirty lines the host owns: behave as WBINVD (a no-op here) */
		e->insn_len = insn_len(vmcb, 2);
		arch_skip_insn(v, e);
		e->reason = VMEXIT_ARCH;
		break;
	case SVM_EXIT_RDPMC:
		/* no PMU is offered (CPUID 0xA reads 0): every counter index is invalid */
		svm_inject_exception(v, X86_EXC_GP, true, 0);
		e->reason = VMEXIT_ARCH;
		break;
	case SVM_EXIT_SHUTDOWN:
		e->reason = VMEXIT_SHUTDOWN;
		break;
	case SVM_EXIT_NPF:
		decode_npf(v, vmcb, e);
		break;
	case SVM_EXIT_INTR:
		x86_take_host_interrupt();
		e->reason = VMEXIT_INTR;
		break;
	case SVM_EXIT_VINTR: {
		struct svm_vcpu *s = v->arch.vendor;
		/* a TPR window whose interrupt the TPR still holds exited for nothing */
		s->tpr_window_dead = s->tpr_window && vlapic_tpr_blocked_class(v) >= 0 ?
		                     (int)(vmcb->ctl.vintr & SVM_VINTR_TPR_MASK) : -1;
		svm_request_window(v, false, false, -1);  /* the guest can take an interrupt: inject on entry */
		e->reason = VMEXIT_ARCH;
		break;
	}
	case SVM_EXIT_IRET:
		vmcb->ctl.misc1 &= ~SVM_MISC1_IRET;
		v->arch.nmi_iret_seen = true;
		v->arch.nmi_iret_rip = vmcb->save.rip;
		e->reason = VMEXIT_ARCH;
		break;
	case SVM_EXIT_NMI:
	case SVM_EXIT_SMI:
	case SVM_EXIT_INIT:
		e->reason = VMEXIT_INTR;
		break;
	case SVM_EXIT_VMRUN: case SVM_EXIT_VMLOAD: case SVM_EXIT_VMSAVE:
	case SVM_EXIT_STGI: case SVM_EXIT_CLGI: case SVM_EXIT_SKINIT: case SVM_EXIT_INVLPGA:
	case SVM_EXIT_RDTSCP: case SVM_EXIT_MONITOR: case SVM_EXIT_MWAIT: case SVM_EXIT_MWAIT_C:
	case SVM_EXIT_XSETBV: case SVM_EXIT_RDPRU:
		/* instructions of features the guest's CPUID does not have */
		arch_inject_undef(v);
		e->reason = VMEXIT_ARCH;
		break;
	case SVM_EXIT_INVALID:
	case SVM_EXIT_INVALID32:
		e->reason = VMEXIT_FAIL;
		hv_snprintf(e->fail.what, sizeof(e->fail.what),
		            "VMRUN refused the guest state (VMEXIT_INVALID): cr0 0x%llx cr4 0x%llx efer 0x%llx",
		            (unsigned long long)vmcb->save.cr0, (unsigned long long)vmcb->save.cr4,
		            (unsigned long long)vmcb->save.efer);
		break;
	default:
		e->reason = VMEXIT_FAIL;
		hv_snprintf(e->fail.what, sizeof(e->fail.what), "unexpected SVM exit code 0x%llx",
		            (unsigned long long)code);
	}
}

static void svm_run(struct vcpu *v, struct vm_exit *e)
{
	struct svm_vcpu *s = v->arch.vendor;
	struct vmcb *vmcb = s->vmcb;
	vmcb->save.rax = v->regs.gpr[X86_RAX];
	vmcb->save.rsp = v->regs.gpr[X86_RSP];
	vmcb->save.rip = v->regs.rip;
	vmcb->save.rflags = v->regs.rflags;
	vmcb->ctl.event_inj = s->pending_event;
	/* CR8 / the APIC's TPR: the guest writes V_TPR without an exit (APM §15.21.4) */
	vmcb->ctl.vintr = (vmcb->ctl.vintr & ~SVM_VINTR_TPR_MASK) | (v->arch.lapic.tpr >> 4);
	vmcb->ctl.tlb_control = !s->ran ? SVM_TLB_FLUSH_ALL :
	                        !s->flush_tlb ? 0 : svm.flush_by_asid ? SVM_TLB_FLUSH_ASID : SVM_TLB_FLUSH_ALL;
	s->flush_tlb = false;
	s->pending_event = 0;
	s->ran = true;

	svm_enter(v->regs.gpr, s->vmcb_pa, svm.host_vmcb_pa);

	v->regs.gpr[X86_RAX] = vmcb->save.rax;
	v->regs.gpr[X86_RSP] = vmcb->save.rsp;
	v->regs.rip = vmcb->save.rip;
	v->regs.rflags = vmcb->save.rflags;
	if ((vmcb->ctl.vintr & SVM_VINTR_TPR_MASK) != v->arch.lapic.tpr >> 4)
		v->arch.lapic.tpr = (uint32_t)(vmcb->ctl.vintr & SVM_VINTR_TPR_MASK) << 4;
	if (v->arch.nmi_iret_seen && vmcb->save.rip != v->arch.nmi_iret_rip)
		v->arch.nmi_blocked = v->arch.nmi_iret_seen = false;
	/* an event whose delivery the exit interrupted is delivered again (APM §15.7.2) */
	if (vmcb->ctl.exitintinfo & SVM_EVT_VALID)
		s->pending_event = vmcb->ctl.exitintinfo;
	svm_decode(v, vmcb, e);
}

const struct x86_vendor_ops svm_ops = {
	.name = "AMD SVM",
	.init_cpu = svm_init_cpu,
	.vm_init = svm_vm_init,
	.vm_destroy = svm_vm_destroy,
	.vcpu_init = svm_vcpu_init,
	.vcpu_destroy = svm_vcpu_destroy,
	.set_state = svm_set_state,
	.get_paging = svm_get_paging,
	.run = svm_run,
	.inject_exception = svm_inject_exception,
	.event_queued = svm_event_queued,
	.intr_allowed = svm_intr_allowed,
	.nmi_allowed = svm_nmi_allowed,
	.inject_intr = svm_inject_intr,
	.inject_nmi = svm_inject_nmi,
	.request_window = svm_request_window,
	.clear_shadow = svm_clear_shadow,
	.init_event = svm_init_event,
	.flush_tlb = svm_flush_tlb,
	.set_guest_page = svm_set_guest_page,
	.dump = svm_dump,
	.msr_read = svm_msr_read,
	.msr_write = svm_msr_write,
};
