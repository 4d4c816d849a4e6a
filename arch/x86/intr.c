/*
 * Between the emulated local APIC and the vendor's event injection: before
 * each entry the highest-priority pending event is injected when the guest
 * can take it, otherwise the vendor is asked for an exit the moment it can
 * (an interrupt window). Also the arch hooks the scheduler uses to wake and
 * time vCPUs, and the xAPIC page's MMIO emulation.
 */
#define LOG_SUB_FILE LOG_SUB_ARCH   /* its messages: loglevel=arch:LEVEL */
#include "arch/x86/cpu.h"
#include "arch/x86/mmio_insn.h"
#include "arch/x86/vendor.h"
#include "arch/x86/vlapic.h"
#include "arch/x86/x86.h"
#include "core/arch.h"
#include "core/exit.h"
#include "core/gmem.h"
#include "core/log.h"
#include "core/vm.h"


/* The vendor's window request, and whether one may now be open (only intr.c opens them). */
static void request_window(struct vcpu *v, bool intr, bool nmi, int tpr_class)
{
	x86_vendor->request_window(v, intr, nmi, tpr_class);
	v->arch.window_open = intr || nmi || tpr_class >= 0;
}

static bool irr_empty(const struct vlapic *a)
{
	uint64_t w[4];                       /* the 256 bits as four words */
	_Static_assert(sizeof(a->irr) == sizeof(w), "IRR is 256 bits");
	__builtin_memcpy(w, a->irr, sizeof(w));
	return !(w[0] | w[1] | w[2] | w[3]);
}

static void inject_pending(struct vcpu *v)
{
	const struct x86_vendor_ops *ops = x86_vendor;
	struct vlapic *a = &v->arch.lapic;
	if (v->arch.insn_skipped) {
		v->arch.insn_skipped = false;
		ops->clear_shadow(v);
	}
	/* the common entry: nothing to deliver and no window to close (what follows would only close it again) */
	if (!a->nmi_pending && !v->arch.window_open && irr_empty(a))
		return;
	int vec = vlapic_pending_vector(v);
	int tpr_class = vec < 0 ? vlapic_tpr_blocked_class(v) : -1;
	bool nmi = a->nmi_pending;
	if (ops->event_queued(v)) {
		/* an exception or a re-injected event goes first; ask to come back for ours */
		request_window(v, vec >= 0, nmi, tpr_class);
		return;
	}
	if (nmi && ops->nmi_allowed(v)) {
		a->nmi_pending = false;
		ops->inject_nmi(v);
		request_window(v, vec >= 0, false, tpr_class);
		return;
	}
	if (vec >= 0 && ops->intr_allowed(v)) {
		vlapic_ack(v, (uint8_t)vec);
		ops->inject_intr(v, (uint8_t)vec);
		/* the next one may wait for the TPR (this one just went in service: no window yet) */
		request_window(v, false, nmi, -1);
		return;
	}
	request_window(v, vec >= 0, nmi, tpr_class);
}

/*
 * KVM PV EOI (Documentation/virt/kvm/x86/msr.rst MSR_KVM_PV_EOI_EN; the
 * conditions are KVM's apic_sync_pv_eoi_to_guest): when exactly one
 * vector is in service and nothing waits, bit 0 of the guest's byte says
 * "EOI by clearing me". After the exit, a cleared bit is that EOI.
 */
#define KVM_PV_EOI_ENABLED 1u

static void pv_eoi_before_entry(struct vcpu *v)
{
	struct vlapic *a = &v->arch.lapic;
	if (!a->pv_eoi_on || !vlapic_eoi_skippable(v))
		return;
	uint8_t flag = KVM_PV_EOI_ENABLED;
	a->pv_eoi_set = !gmem_write(v->vm, mk_gpa(a->pv_eoi_gpa), &flag, 1);
}

static void pv_eoi_after_exit(struct vcpu *v)
{
	struct vlapic *a = &v->arch.lapic;
	uint8_t flag;
	if (!a->pv_eoi_set)
		return;
	a->pv_eoi_set = false;
	if (gmem_read(v->vm, mk_gpa(a->pv_eoi_gpa), &flag, 1))
		return;
	if (!(flag & KVM_PV_EOI_ENABLED)) {
		vlapic_eoi(v);
		return;
	}
	flag &= (uint8_t)~KVM_PV_EOI_ENABLED;
	gmem_write(v->vm, mk_gpa(a->pv_eoi_gpa), &flag, 1);
}

void arch_set_pv_eoi(struct vcpu *v, uint64_t gpa, bool on)
{
	v->arch.lapic.pv_eoi_gpa = gpa;
	v->arch.lapic.pv_eoi_on = on;
}

void arch_vcpu_run(struct vcpu *v, uint64_t deadline, struct vm_exit *e)
{
	x86_vcpu_load(v);
	inject_pending(v);
	pv_eoi_before_entry(v);
	if (!x86_vendor->set_deadline || !x86_vendor->set_deadline(v, deadline))
		x86_host_timer_arm(deadline);
	x86_vendor->run(v, e);
	pv_eoi_after_exit(v);
	if (e->reason == VMEXIT_MEM_FAULT && vlapic_mmio_page(v, e->mem.gpa.v)) {
		/*
		 * Delivering an event (its IDT entry or stack on the APIC page)
		 * faulted there: no instruction at RIP made the access, so none
		 * is emulated (KVM refuses the same case).
		 */
		if (x86_vendor->event_queued(v)) {
			vm_end(v->vm, VM_END_ERROR, 0,
			       "vcpu%u: event delivery touched the local-APIC page at 0x%llx, rip 0x%llx",
			       v->id, (unsigned long long)e->mem.gpa.v, (unsigned long long)v->regs.rip);
			e->reason = VMEXIT_ARCH;
		} else {
			x86_emulate_apic_mmio(v, e);
		}
	}
}

/*
 * HLT ends on an interrupt the guest can take with IF set, or an NMI it is
 * not blocking (SDM vol. 2A "HLT"; KVM kvm_vcpu_has_events): a vCPU that
 * halts inside its NMI handler with another NMI pending sleeps.
 */
bool arch_vcpu_can_wake(struct vcpu *v)
{
	return (v->arch.lapic.nmi_pending && !v->arch.nmi_blocked) ||
	       (vlapic_pending_vector(v) >= 0 && (v->regs.rflags & X86_RFLAGS_IF));
}

uint64_t arch_vcpu_timers(struct vcpu *v, uint64_t now)
{
	return vlapic_timer_poll(v, now);
}

/* Up to 15 instruction bytes at CS:RIP; fewer when the next page is not mapped. */
static size_t fetch_insn(struct vcpu *v, uint8_t *buf, enum cpu_mode mode)
{
	struct x86_paging pg;
	x86_vendor->get_paging(v, &pg);
	uint64_t la = x86_rip_linear(&pg, v->regs.rip, mode == MODE_64);
	size_t in_page = PAGE_SIZE - (la & (PAGE_SIZE - 1));
	size_t n = in_page < 15 ? in_page : 15;
	if (x86_read_linear(v, &pg, la, buf, n))
		return 0;
	if (n < 15 && !x86_read_linear(v, &pg, la + n, buf + n, 15 - n))
		n = 15;
	return n;
}

/*
 * The guest touched its xAPIC page: decode the MOV that did it, perform the
 * register access, and complete the instruction. Accesses other than an
 * aligned 32-bit one read zero and drop writes (the SDM calls them undefined).
 */
void x86_emulate_apic_mmio(struct vcpu *v, struct vm_exit *e)
{
	uint8_t bytes[15] = { 0 };
	struct x86_mmio_insn in;
	size_t n = fetch_insn(v, bytes, e->mode);
	uint32_t off = (uint32_t)(e->mem.gpa.v & (PAGE_SIZE - 1));
	if (!n || x86_decode_mmio(bytes, n, e->mode, &in) || (in.write != !!(e->mem.access & MEM_ACCESS_WRITE))) {
		vm_end(v->vm, VM_END_ERROR, 0,
		       "vcpu%u: cannot emulate the local-APIC access at rip 0x%llx (bytes %02x %02x %02x %02x)",
		       v->id, (unsigned long long)v->regs.rip, bytes[0], n > 1 ? bytes[1] : 0,
		       n > 2 ? bytes[2] : 0, n > 3 ? bytes[3] : 0);
		e->reason = VMEXIT_ARCH;
		return;
	}
	bool whole = in.size == 4 && !(off & 3);
	if (in.write) {
		if (whole)
			vlapic_mmio_write(v, off, (uint32_t)x86_mmio_store_value(&v->regs, &in));
	} else {
		x86_mmio_complete_load(&v->regs, &in, e->mode, whole ? vlapic_mmio_read(v, off) : 0);
	}
	e->insn_len = in.len;
	arch_skip_insn(v, e);
	e->reason = VMEXIT_ARCH;
}
