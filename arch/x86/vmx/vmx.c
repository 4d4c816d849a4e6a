/*
 * Intel VMX with EPT (SDM vol. 3C, ch. 23-29). Every control word is derived
 * from the capability MSRs (TRUE_* when offered); CR0/CR4 fixed bits are
 * honoured for host and guest. One VMCS per vCPU; EPT, I/O and MSR bitmaps
 * per VM. Each exit is decoded once into struct vm_exit (vmx_decode).
 */
#define LOG_SUB_FILE LOG_SUB_ARCH   /* its messages: loglevel=arch:LEVEL */
#include "arch/x86/cpu.h"
#include "arch/x86/vendor.h"
#include "arch/x86/vmx/vmx.h"
#include "arch/x86/x86.h"
#include "core/arch.h"
#include "core/exit.h"
#include "core/hv.h"
#include "core/log.h"
#include "core/pmm.h"
#include "core/selftest.h"
#include "core/string.h"

#define CPUID1_ECX_VMX (1u << 5)
#define X86_CR4_VMXE (1ull << 13)
#define VMCALL_LEN 3
#define VMMCALL_BYTES "\x0f\x01\xd9"    /* AMD VMMCALL: #UD on Intel */
#define DEFAULT_PAT 0x0007040600070406ull
/* Pause-loop exiting: PAUSEs closer than GAP TSC ticks form a loop; one longer than WINDOW exits (KVM vmx.c). */
#define VMX_PLE_GAP 128
#define VMX_PLE_WINDOW 4096

struct vmx_caps vmx;

void vmx_exit_entry(void);

/* ---- VMX instructions; failure is a hypervisor bug unless said otherwise ---- */

uint64_t vmx_read(enum vmcs_field f)
{
	uint64_t v = 0;
	bool fail;
	__asm__ volatile("vmread %2, %0" : "=r"(v), "=@ccbe"(fail) : "r"((uint64_t)f));
	if (fail)
		hv_panic("VMREAD of field 0x%x failed", f);
	return v;
}

void vmx_write(enum vmcs_field f, uint64_t v)
{
	bool fail;
	__asm__ volatile("vmwrite %1, %2" : "=@ccbe"(fail) : "r"(v), "r"((uint64_t)f) : "memory");
	if (fail)
		hv_panic("VMWRITE of field 0x%x failed: VM-instruction error %llu (%s)", f,
		         (unsigned long long)vmx_read(VM_INSTRUCTION_ERROR),
		         vmx_insn_error_name(vmx_read(VM_INSTRUCTION_ERROR)));
}

static bool vmx_op(const char *insn_fail, hpa_t pa, int which)
{
	bool fail;
	switch (which) {
	case 0: __asm__ volatile("vmxon %1" : "=@ccbe"(fail) : "m"(pa) : "memory"); break;
	case 1: __asm__ volatile("vmclear %1" : "=@ccbe"(fail) : "m"(pa) : "memory"); break;
	default: __asm__ volatile("vmptrld %1" : "=@ccbe"(fail) : "m"(pa) : "memory"); break;
	}
	if (fail)
		pr_err("VMX: %s failed\n", insn_fail);
	return !fail;
}

/* INVEPT types (SDM vol. 3C §30.3 "INVEPT") */
#define INVEPT_SINGLE 1ull
#define INVEPT_ALL 2ull

/*
 * Drops cached translations made through `eptp`: all contexts when the CPU
 * can, else that one context. Needed whenever a VM's EPT is built or torn
 * down, because the next VM's EPT may reuse the same root page.
 */
static void invept(uint64_t eptp)
{
	struct { uint64_t eptp, zero; } desc = { eptp, 0 };
	uint64_t type = (vmx.ept_cap & EPT_CAP_INVEPT_ALL) ? INVEPT_ALL : INVEPT_SINGLE;
	__asm__ volatile("invept %0, %1" :: "m"(desc), "r"(type) : "memory", "cc");
}

static uint64_t eptp_of(const struct vmx_vm *x) { return x->ept.root | EPTP_WB | EPTP_WALK_4; }

/* ---- capability MSRs ---- */

/*
 * A control word: `want` bits we need, `nice` bits we use when offered. The
 * MSR's low half is the allowed-0 settings (must be 1), the high half the
 * allowed-1 settings (may be 1) (SDM appendix A.3).
 */
static int adjust(const char *what, uint32_t msr, uint32_t want, uint32_t nice, uint32_t *out)
{
	uint64_t cap = rdmsr(msr);
	uint32_t must = (uint32_t)cap, may = (uint32_t)(cap >> 32);
	if ((want & may) != want) {
		pr_err("VMX: this CPU cannot set %s bits 0x%x (MSR 0x%x allows 0x%x)\n",
		       what, want & ~may, msr, may);
		return -EOPNOTSUPP;
	}
	*out = (want | (nice & may) | must) & may;
	return 0;
}

static int vmx_read_caps(void)
{
	uint64_t basic = rdmsr(MSR_IA32_VMX_BASIC);
	bool true_ctls = basic & VMX_BASIC_TRUE_CTLS;
	vmx.revision = basic & 0x7fffffff;
	int r = adjust("pin-based", true_ctls ? MSR_IA32_VMX_TRUE_PINBASED_CTLS : MSR_IA32_VMX_PINBASED_CTLS,
	               PIN_EXT_INTR_EXITING | PIN_NMI_EXITING, PIN_PREEMPTION_TIMER | PIN_VIRTUAL_NMIS, &vmx.pin);
	r = r ?: adjust("processor-based", true_ctls ? MSR_IA32_VMX_TRUE_PROCBASED_CTLS : MSR_IA32_VMX_PROCBASED_CTLS,
	                PROC_HLT_EXITING | PROC_USE_IO_BITMAPS | PROC_USE_MSR_BITMAPS |
	                PROC_SECONDARY | PROC_MWAIT_EXITING | PROC_MONITOR_EXITING |
	                /* without them MOV CR8 would write the host's own local-APIC TPR */
	                PROC_CR8_LOAD_EXITING | PROC_CR8_STORE_EXITING | PROC_RDPMC_EXITING,
	                PROC_TSC_OFFSETTING, &vmx.proc);
	r = r ?: adjust("secondary", MSR_IA32_VMX_PROCBASED_CTLS2, PROC2_EPT,
	                PROC2_UNRESTRICTED | PROC2_PAUSE_LOOP_EXITING, &vmx.proc2);
	r = r ?: adjust("VM-exit", true_ctls ? MSR_IA32_VMX_TRUE_EXIT_CTLS : MSR_IA32_VMX_EXIT_CTLS,
	                /* the guest's DR7 and IA32_DEBUGCTL: without these every exit would clear DR7 (SDM §27.5.1) */
	                EXIT_SAVE_DEBUG | EXIT_HOST_ADDR_SPACE | EXIT_SAVE_EFER | EXIT_LOAD_EFER,
	                EXIT_SAVE_PAT | EXIT_LOAD_PAT, &vmx.exit);
	r = r ?: adjust("VM-entry", true_ctls ? MSR_IA32_VMX_TRUE_ENTRY_CTLS : MSR_IA32_VMX_ENTRY_CTLS,
	                ENTRY_LOAD_DEBUG | ENTRY_LOAD_EFER, ENTRY_LOAD_PAT, &vmx.entry);
	if (r)
		return r;
	vmx.preempt_shift = (vmx.pin & PIN_PREEMPTION_TIMER) ?
	                    (int)(rdmsr(MSR_IA32_VMX_MISC) & VMX_MISC_PREEMPT_RATE_MASK) : -1;
	uint64_t proc_cap = rdmsr(true_ctls ? MSR_IA32_VMX_TRUE_PROCBASED_CTLS : MSR_IA32_VMX_PROCBASED_CTLS);
	/* NMI-window exiting needs virtual NMIs (SDM §26.2.1.1) */
	vmx.window_ok = (uint32_t)(proc_cap >> 32) & (PROC_INTR_WINDOW_EXITING |
	                ((vmx.pin & PIN_VIRTUAL_NMIS) ? PROC_NMI_WINDOW_EXITING : 0));
	if (!(vmx.pin & PIN_VIRTUAL_NMIS))
		pr_warn("VMX: no virtual NMIs: a guest takes at most one NMI (IRET does not unblock them)\n");
	/* the IA-32e-guest bit follows the guest's EFER.LMA at each entry */
	vmx.entry &= ~ENTRY_IA32E_GUEST;
	/* with EPT, CR3 accesses need no exit; only clear them if the CPU lets us */
	vmx.unrestricted = vmx.proc2 & PROC2_UNRESTRICTED;
	vmx.ept_cap = rdmsr(MSR_IA32_VMX_EPT_VPID_CAP);
	if (!(vmx.ept_cap & EPT_CAP_WALK_4) || !(vmx.ept_cap & EPT_CAP_WB) ||
	    !(vmx.ept_cap & EPT_CAP_INVEPT) ||
	    !(vmx.ept_cap & (EPT_CAP_INVEPT_SINGLE | EPT_CAP_INVEPT_ALL))) {
		pr_err("VMX: EPT without 4-level walks, write-back tables or INVEPT (EPT_VPID_CAP 0x%llx)\n",
		       (unsigned long long)vmx.ept_cap);
		return -EOPNOTSUPP;
	}
	vmx.cr0_fixed0 = rdmsr(MSR_IA32_VMX_CR0_FIXED0);
	vmx.cr0_fixed1 = rdmsr(MSR_IA32_VMX_CR0_FIXED1);
	vmx.cr4_fixed0 = rdmsr(MSR_IA32_VMX_CR4_FIXED0);
	vmx.cr4_fixed1 = rdmsr(MSR_IA32_VMX_CR4_FIXED1);
	return 0;
}

static int vmx_init_cpu(void)
{
	uint32_t r[4];
	cpuid(1, 0, r);
	if (!(r[2] & CPUID1_ECX_VMX))
		return -EOPNOTSUPP;
	uint64_t fc = rdmsr(MSR_IA32_FEATURE_CONTROL);
	if (!(fc & FEATURE_CONTROL_LOCK)) {
		/* the firmware left it open: enable VMX and lock, as firmware would */
		wrmsr(MSR_IA32_FEATURE_CONTROL, fc | FEATURE_CONTROL_VMX_OUTSIDE_SMX | FEATURE_CONTROL_LOCK);
	} else if (!(fc & FEATURE_CONTROL_VMX_OUTSIDE_SMX)) {
		pr_err("VMX is disabled and locked by the firmware (IA32_FEATURE_CONTROL 0x%llx); enable virtualization in the firmware setup\n",
		       (unsigned long long)fc);
		return -EOPNOTSUPP;
	}
	uint64_t basic = rdmsr(MSR_IA32_VMX_BASIC);
	uint32_t p2 = (uint32_t)(rdmsr(basic & VMX_BASIC_TRUE_CTLS ? MSR_IA32_VMX_TRUE_PROCBASED_CTLS
	                                                          : MSR_IA32_VMX_PROCBASED_CTLS) >> 32);
	if (!(p2 & PROC_SECONDARY) || !((rdmsr(MSR_IA32_VMX_PROCBASED_CTLS2) >> 32) & PROC2_EPT)) {
		pr_err("VMX without EPT (secondary controls 0x%llx): cannot run guests\n",
		       (unsigned long long)rdmsr(MSR_IA32_VMX_PROCBASED_CTLS2));
		return -EOPNOTSUPP;
	}
	int err = vmx_read_caps();
	if (err)
		return err;
	write_cr0((read_cr0() | vmx.cr0_fixed0) & vmx.cr0_fixed1);
	write_cr4(((read_cr4() | X86_CR4_VMXE) | vmx.cr4_fixed0) & vmx.cr4_fixed1);
	vmx.vmxon_pa = pmm_alloc(1, PAGE_SIZE);
	if (!vmx.vmxon_pa)
		return -ENOMEM;
	*(uint32_t *)arch_phys_to_virt(vmx.vmxon_pa) = vmx.revision;
	if (!vmx_op("VMXON", vmx.vmxon_pa, 0))
		return -EIO;
	pr_info("VMX: EPT, VMCS revision 0x%x, unrestricted guest %s, controls pin %x proc %x/%x exit %x entry %x\n",
	        vmx.revision, vmx.unrestricted ? "yes" : "no", vmx.pin, vmx.proc, vmx.proc2,
	        vmx.exit, vmx.entry);
	if (vmx.preempt_shift >= 0)
		pr_info("VMX: preemption timer at TSC / %u ends each vCPU's run\n", 1u << vmx.preempt_shift);
	if (!vmx.unrestricted)
		pr_warn("VMX: no unrestricted guest: guests that start with paging off (ELF32) cannot run\n");
	return 0;
}

/* ---- EPT (§28.3.2), built by the shared walker in arch/x86/pt.c ---- */

static uint64_t ept_table(hpa_t next) { return next | EPT_R | EPT_W | EPT_X; }
static uint64_t ept_leaf(hpa_t pa, unsigned perm, bool large)
{
	return pa | EPT_MT_WB | (perm & PT_R ? EPT_R : 0) | (perm & PT_W ? EPT_W : 0) |
	       (perm & PT_X ? EPT_X : 0) | (large ? EPT_LARGE : 0);
}
static bool ept_present(uint64_t e) { return e & (EPT_R | EPT_W | EPT_X); }
static bool ept_is_large(uint64_t e) { return e & EPT_LARGE; }
static struct pt_format ept_format = {
	ept_table, ept_leaf, ept_present, ept_is_large, 0x000ffffffffff000ull, false, false,
};

static void vmx_vm_destroy(struct vm *vm);

static int vmx_vm_init(struct vm *vm)
{
	hpa_t pa = pmm_alloc(1, PAGE_SIZE);
	if (!pa)
		return -ENOMEM;
	struct vmx_vm *x = arch_phys_to_virt(pa);
	vm->arch.vendor = x;
	x->io_bitmap_pa = pmm_alloc(2, PAGE_SIZE);
	x->msr_bitmap_pa = pmm_alloc(1, PAGE_SIZE);
	ept_format.has_2m = vmx.ept_cap & EPT_CAP_2M;
	ept_format.has_1g = vmx.ept_cap & EPT_CAP_1G;
	if (!x->io_bitmap_pa || !x->msr_bitmap_pa || pt_init(&x->ept, &ept_format))
		goto nomem;
	/* every port and every MSR exits (MSRs outside the bitmap's ranges always do) */
	memset(arch_phys_to_virt(x->io_bitmap_pa), 0xff, 2 * PAGE_SIZE);
	memset(arch_phys_to_virt(x->msr_bitmap_pa), 0xff, PAGE_SIZE);
	for (unsigned i = 0; i < vm->nr_slots; i++) {
		const struct vm_slot *sl = &vm->slots[i];
		unsigned perm = PT_R | PT_X | (sl->flags & SLOT_READONLY ? 0 : PT_W);
		if (pt_map(&x->ept, sl->gpa, sl->hpa, sl->size, perm))
			goto nomem;
	}
	/* the tables may reuse pages of an earlier VM's: drop any cached translation */
	invept(eptp_of(x));
	return 0;
nomem:
	vmx_vm_destroy(vm);     /* frees what was allocated; the rest is 0 */
	return -ENOMEM;
}

static void vmx_vm_destroy(struct vm *vm)
{
	struct vmx_vm *x = vm->arch.vendor;
	if (x->ept.root)
		invept(eptp_of(x));
	pt_destroy(&x->ept);
	pmm_free(x->io_bitmap_pa, 2);
	pmm_free(x->msr_bitmap_pa, 1);
	pmm_free(arch_virt_to_phys(x), 1);
	vm->arch.vendor = NULL;
}

static void write_host_state(void)
{
	struct { uint16_t limit; uint64_t base; } PACKED gdtr, idtr;
	uint16_t tr;
	__asm__ volatile("sgdt %0; sidt %1; str %2" : "=m"(gdtr), "=m"(idtr), "=r"(tr));
	const uint64_t *gdt = (const uint64_t *)gdtr.base;
	uint64_t lo = gdt[tr / 8], hi = gdt[tr / 8 + 1];
	uint64_t tr_base = ((lo >> 16) & 0xffffff) | ((lo >> 56) << 24) | (hi << 32);
	vmx_write(HOST_CR0, read_cr0());
	vmx_write(HOST_CR3, read_cr3());
	vmx_write(HOST_CR4, read_cr4());
	vmx_write(HOST_CS_SELECTOR, 0x08);
	vmx_write(HOST_SS_SELECTOR, 0x10);
	vmx_write(HOST_DS_SELECTOR, 0x10);
	vmx_write(HOST_ES_SELECTOR, 0x10);
	vmx_write(HOST_FS_SELECTOR, 0);
	vmx_write(HOST_GS_SELECTOR, 0);
	vmx_write(HOST_TR_SELECTOR, tr);
	vmx_write(HOST_FS_BASE, 0);
	vmx_write(HOST_GS_BASE, 0);
	vmx_write(HOST_TR_BASE, tr_base);
	vmx_write(HOST_GDTR_BASE, gdtr.base);
	vmx_write(HOST_IDTR_BASE, idtr.base);
	vmx_write(HOST_SYSENTER_CS, 0);
	vmx_write(HOST_SYSENTER_ESP, 0);
	vmx_write(HOST_SYSENTER_EIP, 0);
	vmx_write(HOST_IA32_EFER, rdmsr(MSR_EFER));
	if (vmx.exit & EXIT_LOAD_PAT)
		vmx_write(HOST_IA32_PAT, rdmsr(MSR_IA32_PAT));
	vmx_write(HOST_RIP, (uintptr_t)vmx_exit_entry);
}

/*
 * The VMCS this CPU has current (VMPTRLD). Every VMPTRLD and VMCLEAR goes
 * through here, or a new VMCS on the pages of a freed one would be taken
 * for current while another is.
 */
static hpa_t current_vmcs;

static int vmx_vcpu_init(struct vcpu *v)
{
	struct vmx_vm *xvm = v->vm->arch.vendor;
	hpa_t pa = pmm_alloc(2, PAGE_SIZE);
	if (!pa)
		return -ENOMEM;
	struct vmx_vcpu *x = arch_phys_to_virt(pa + PAGE_SIZE);
	x->vmcs_pa = pa;
	v->arch.vendor = x;
	*(uint32_t *)arch_phys_to_virt(pa) = vmx.revision;
	if (!vmx_op("VMCLEAR", pa, 1) || !vmx_op("VMPTRLD", pa, 2)) {
		if (current_vmcs == pa)
			current_vmcs = 0;
		pmm_free(pa, 2);
		v->arch.vendor = NULL;
		return -EIO;
	}
	current_vmcs = pa;
	/* selftest: the allowed-0 bits of the pin-based controls are clear for VM 0 */
	vmx_write(PIN_BASED_CONTROLS, hv_selftest == SELFTEST_BAD_CONTROL && !v->vm->id ? 0 : vmx.pin);
	vmx_write(PROC_BASED_CONTROLS, vmx.proc);
	vmx_write(PROC_BASED_CONTROLS2, vmx.proc2);
	if (vmx.proc2 & PROC2_PAUSE_LOOP_EXITING) {
		/* a vCPU spinning on PAUSE exits so the others can run (KVM's ple_gap/ple_window defaults) */
		vmx_write(PLE_GAP, VMX_PLE_GAP);
		vmx_write(PLE_WINDOW, VMX_PLE_WINDOW);
	}
	vmx_write(EXIT_CONTROLS, vmx.exit);
	vmx_write(ENTRY_CONTROLS, vmx.entry);
	/*
	 * #UD: VMMCALL on Intel. #DB and #AC: a guest must not be able to keep
	 * the CPU inside exception delivery forever (CVE-2015-5307, -8104);
	 * each one exits and is reflected. #MC: the host's, never the guest's.
	 */
	vmx_write(EXCEPTION_BITMAP, X86_EXC_BIT(X86_EXC_UD) | X86_EXC_BIT(X86_EXC_DB) |
	                            X86_EXC_BIT(X86_EXC_AC) | X86_EXC_BIT(X86_EXC_MC));
	vmx_write(IO_BITMAP_A, xvm->io_bitmap_pa);
	vmx_write(IO_BITMAP_B, xvm->io_bitmap_pa + PAGE_SIZE);
	vmx_write(MSR_BITMAP, xvm->msr_bitmap_pa);
	vmx_write(EPT_POINTER, eptp_of(xvm));
	vmx_write(CR3_TARGET_COUNT, 0);
	vmx_write(EXIT_MSR_STORE_COUNT, 0);
	vmx_write(EXIT_MSR_LOAD_COUNT, 0);
	vmx_write(ENTRY_MSR_LOAD_COUNT, 0);
	vmx_write(VMCS_LINK_POINTER, ~0ull);
	if (vmx.proc & PROC_TSC_OFFSETTING)
		vmx_write(TSC_OFFSET, 0);
	/*
	 * CR0/CR4 bits the CPU forces in VMX operation are owned by us: the
	 * guest reads its own value from the shadow, writes to them exit.
	 * With unrestricted guest, PE and PG are the guest's (SDM §26.3.1.1).
	 */
	uint64_t cr0_own = vmx.cr0_fixed0 & ~(vmx.unrestricted ? X86_CR0_PE | X86_CR0_PG : 0);
	vmx_write(CR0_GUEST_HOST_MASK, cr0_own | ~vmx.cr0_fixed1);
	/* and the CR4 features the guest's CPUID does not offer: setting one exits and #GPs */
	vmx_write(CR4_GUEST_HOST_MASK, vmx.cr4_fixed0 | ~vmx.cr4_fixed1 | X86_CR4_GUEST_HIDDEN);
	if (vmx.entry & ENTRY_LOAD_PAT)
		vmx_write(GUEST_IA32_PAT, DEFAULT_PAT);
	vmx_write(GUEST_DR7, X86_DR7_INIT);
	vmx_write(GUEST_ACTIVITY_STATE, 0);
	vmx_write(GUEST_INTERRUPTIBILITY, 0);
	vmx_write(GUEST_PENDING_DBG, 0);
	write_host_state();
	return 0;
}

static void vmx_vcpu_destroy(struct vcpu *v)
{
	struct vmx_vcpu *x = v->arch.vendor;
	vmx_forget_guest_msrs(v);
	vmx_op("VMCLEAR", x->vmcs_pa, 1);      /* also makes it not current if it was */
	if (current_vmcs == x->vmcs_pa)
		current_vmcs = 0;
	pmm_free(x->vmcs_pa, 2);
	v->arch.vendor = NULL;
}

void vmx_load_vmcs(struct vcpu *v)
{
	struct vmx_vcpu *x = v->arch.vendor;
	if (current_vmcs != x->vmcs_pa && vmx_op("VMPTRLD", x->vmcs_pa, 2))
		current_vmcs = x->vmcs_pa;
}

/* The real CR0/CR4 the CPU runs the guest with, for the value the guest wants. */
uint64_t vmx_real_cr0(uint64_t want)
{
	uint64_t fixed0 = vmx.cr0_fixed0 & ~(vmx.unrestricted ? X86_CR0_PE | X86_CR0_PG : 0);
	return (want | fixed0) & vmx.cr0_fixed1;
}
uint64_t vmx_real_cr4(uint64_t want)
{
	return (want | vmx.cr4_fixed0) & vmx.cr4_fixed1;
}

void vmx_set_entry_mode(uint64_t efer)
{
	uint64_t ctl = vmx_read(ENTRY_CONTROLS) & ~ENTRY_IA32E_GUEST;
	vmx_write(ENTRY_CONTROLS, ctl | (efer & X86_EFER_LMA ? ENTRY_IA32E_GUEST : 0));
}

#define SEG(name, s) do { \
	vmx_write(GUEST_##name##_SELECTOR, (s).sel); vmx_write(GUEST_##name##_BASE, (s).base); \
	vmx_write(GUEST_##name##_LIMIT, (s).limit); vmx_write(GUEST_##name##_AR, (s).ar); } while (0)

static int vmx_set_state(struct vcpu *v, const struct x86_cpu_state *st)
{
	if (!(st->cr0 & X86_CR0_PG) && !vmx.unrestricted)
		return -EOPNOTSUPP;   /* needs unrestricted guest; caller reports it */
	vmx_load_vmcs(v);
	SEG(CS, st->cs);
	SEG(DS, st->ds);
	SEG(ES, st->es);
	SEG(SS, st->ss);
	SEG(FS, st->fs);
	SEG(GS, st->gs);
	SEG(TR, st->tr);
	SEG(LDTR, st->ldtr);
	vmx_write(GUEST_GDTR_BASE, st->gdtr.base);
	vmx_write(GUEST_GDTR_LIMIT, st->gdtr.limit);
	vmx_write(GUEST_IDTR_BASE, st->idtr.base);
	vmx_write(GUEST_IDTR_LIMIT, st->idtr.limit);
	vmx_write(GUEST_CR0, vmx_real_cr0(st->cr0));
	vmx_write(CR0_READ_SHADOW, st->cr0);
	vmx_write(GUEST_CR3, st->cr3);
	vmx_write(GUEST_CR4, vmx_real_cr4(st->cr4));
	vmx_write(CR4_READ_SHADOW, st->cr4);
	vmx_write(GUEST_IA32_EFER, st->efer);
	vmx_set_entry_mode(st->efer);
	return 0;
}

static void vmx_get_paging(struct vcpu *v, struct x86_paging *p)
{
	vmx_load_vmcs(v);
	*p = (struct x86_paging){
		/* the guest's view of PG/PE/WP, but CR4 as the CPU walks it */
		vmx_read(GUEST_CR0), vmx_read(GUEST_CR3), vmx_read(GUEST_CR4),
		vmx_read(GUEST_IA32_EFER), vmx_read(GUEST_CS_BASE), x86_vcpu_cr2(v),
	};
}

static void vmx_inject_exception(struct vcpu *v, uint8_t vector, bool has_error, uint32_t error)
{
	vmx_load_vmcs(v);
	vmx_write(ENTRY_INTR_INFO, INTR_INFO_VALID | INTR_TYPE_HW_EXCEPTION | vector |
	                           (has_error ? INTR_INFO_ERR_VALID : 0));
	if (has_error)
		vmx_write(ENTRY_EXCEPTION_ERROR_CODE, error);
}

static bool vmx_event_queued(struct vcpu *v)
{
	vmx_load_vmcs(v);
	return vmx_read(ENTRY_INTR_INFO) & INTR_INFO_VALID;
}

static bool vmx_intr_allowed(struct vcpu *v)
{
	vmx_load_vmcs(v);
	return (v->regs.rflags & X86_RFLAGS_IF) &&
	       !(vmx_read(GUEST_INTERRUPTIBILITY) & (INTERRUPTIBILITY_STI | INTERRUPTIBILITY_MOV_SS));
}

/*
 * With virtual NMIs, bit 3 is the guest's own NMI blocking, which an
 * injected NMI sets and IRET clears (SDM §24.4.2, §26.3); entry refuses an
 * NMI under any of these.
 */
static bool vmx_nmi_allowed(struct vcpu *v)
{
	vmx_load_vmcs(v);
	return !(vmx_read(GUEST_INTERRUPTIBILITY) &
	         (INTERRUPTIBILITY_STI | INTERRUPTIBILITY_MOV_SS | INTERRUPTIBILITY_NMI));
}

static void vmx_inject_intr(struct vcpu *v, uint8_t vector)
{
	vmx_load_vmcs(v);
	vmx_write(ENTRY_INTR_INFO, INTR_INFO_VALID | INTR_TYPE_EXT_INTR | vector);
}

static void vmx_inject_nmi(struct vcpu *v)
{
	vmx_load_vmcs(v);
	vmx_write(ENTRY_INTR_INFO, INTR_INFO_VALID | INTR_TYPE_NMI | X86_EXC_NMI);
}

/*
 * Exit as soon as the guest can take an interrupt / an NMI. Without the
 * control (no CPU lacks it in practice) the event waits for the next exit:
 * the slice bounds it. CR8 writes exit on VMX, so a TPR-held interrupt is
 * looked at again when the TPR drops.
 */
void vmx_request_window(struct vcpu *v, bool intr, bool nmi, int tpr_class UNUSED)
{
	struct vmx_vcpu *x = v->arch.vendor;
	uint32_t bits = ((intr ? PROC_INTR_WINDOW_EXITING : 0) | (nmi ? PROC_NMI_WINDOW_EXITING : 0)) &
	                vmx.window_ok;
	if (x->window_bits == bits)
		return;
	vmx_load_vmcs(v);
	vmx_write(PROC_BASED_CONTROLS, vmx.proc | bits);
	x->window_bits = bits;
}

/*
 * The run deadline through the VMX-preemption timer (SDM vol. 3C §25.5.1):
 * it counts down at TSC >> shift whatever the guest does, and costs no
 * host interrupt. Without it the host's local-APIC timer is used.
 */
static bool vmx_set_deadline(struct vcpu *v, uint64_t deadline)
{
	if (vmx.preempt_shift < 0)
		return false;
	uint64_t now = rdtsc();
	uint64_t ticks = deadline > now ? (deadline - now) >> vmx.preempt_shift : 0;
	vmx_load_vmcs(v);
	vmx_write(VMX_PREEMPTION_TIMER_VALUE, ticks > UINT32_MAX ? UINT32_MAX : ticks);
	return true;
}

static void vmx_init_event(struct vcpu *v)
{
	vmx_load_vmcs(v);
	vmx_write(ENTRY_INTR_INFO, 0);
	vmx_write(GUEST_INTERRUPTIBILITY, 0);
	vmx_request_window(v, false, false, -1);
	vmx_write(GUEST_DR7, X86_DR7_INIT);
}

/*
 * Without VPIDs every VM entry and exit invalidates the linear and combined
 * mappings of VPID 0 (SDM vol. 3C, "Invalidation of TLBs and Paging-Structure Caches", VPID 0): the next entry flushes.
 */
static void vmx_flush_tlb(struct vcpu *v UNUSED)
{
}

/* INVEPT drops the guest-physical and combined translations of the VM's EPT at once. */
static int vmx_set_guest_page(struct vm *vm, uint64_t gpa, hpa_t hpa, unsigned perm, bool present)
{
	struct vmx_vm *x = vm->arch.vendor;
	int r = pt_set_page(&x->ept, gpa, hpa, perm, present);
	invept(eptp_of(x));
	return r;
}

/* Completing an instruction ends an STI or MOV SS shadow (SDM vol. 2B "STI"). */
static void vmx_clear_shadow(struct vcpu *v)
{
	vmx_load_vmcs(v);
	uint64_t s = vmx_read(GUEST_INTERRUPTIBILITY);
	if (s & (INTERRUPTIBILITY_STI | INTERRUPTIBILITY_MOV_SS))
		vmx_write(GUEST_INTERRUPTIBILITY, s & ~(uint64_t)(INTERRUPTIBILITY_STI | INTERRUPTIBILITY_MOV_SS));
}

const struct x86_vendor_ops vmx_ops = {
	.name = "Intel VMX",
	.init_cpu = vmx_init_cpu,
	.vm_init = vmx_vm_init,
	.vm_destroy = vmx_vm_destroy,
	.vcpu_init = vmx_vcpu_init,
	.vcpu_destroy = vmx_vcpu_destroy,
	.set_state = vmx_set_state,
	.get_paging = vmx_get_paging,
	.run = vmx_run,
	.inject_exception = vmx_inject_exception,
	.event_queued = vmx_event_queued,
	.intr_allowed = vmx_intr_allowed,
	.nmi_allowed = vmx_nmi_allowed,
	.inject_intr = vmx_inject_intr,
	.inject_nmi = vmx_inject_nmi,
	.request_window = vmx_request_window,
	.clear_shadow = vmx_clear_shadow,
	.init_event = vmx_init_event,
	.flush_tlb = vmx_flush_tlb,
	.set_guest_page = vmx_set_guest_page,
	.set_deadline = vmx_set_deadline,
	.dump = vmx_dump,
	.msr_read = vmx_msr_read,
	.msr_write = vmx_msr_write,
};
