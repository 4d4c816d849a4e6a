/*
 * The project's own calls (hypercalls/ext/ext_abi.h, docs/extensions.md),
 * for a VM given ext=on: a line of guest text into the hypervisor log,
 * pages handed back to the hypervisor and taken again, pages made private
 * or shared, and an interrupt sent to one of the VM's own vCPUs. They are
 * dispatched like an ABI of their own (named "ext" in counters, traces and
 * deny= rules), by call number, before the VM's ABIs see the call.
 * Arguments as KVM's: RBX, RCX, RDX, RSI (EBX, ECX, EDX, ESI); the result
 * in RAX: 0 or more, or -errno.
 */
#include "core/arch.h"
#include "core/gmem.h"
#include "core/log.h"
#include "core/string.h"
#include "core/vm.h"
#include "hypercalls/ext/ext_abi.h"
#include "hypercalls/hypercall.h"

/* EXT_DEBUG_LOG (gpa, len): at most EXT_LOG_MAX bytes a call and EXT_LOG_BUDGET a VM; control bytes shown as '.' */
static int64_t ext_debug_log(struct vcpu *v, const struct hc_args *a)
{
	char buf[EXT_LOG_MAX + 1];
	uint64_t len = a->arg[1];
	if (len > EXT_LOG_MAX)
		return -EXT_EINVAL;
	if (!len)
		return 0;                  /* nothing to say: no line (an empty one would cost the log and not the budget) */
	if (v->vm->hc.ext_logged + len > EXT_LOG_BUDGET)
		return -EXT_ENOSPC;
	if (gmem_read(v->vm, mk_gpa(a->arg[0]), buf, len))
		return -EXT_EFAULT;
	for (uint64_t i = 0; i < len; i++)
		if ((uint8_t)buf[i] < 0x20 || (uint8_t)buf[i] >= 0x7f)
			buf[i] = '.';
	buf[len] = 0;
	v->vm->hc.ext_logged += len;
	pr_info("%s: vcpu%u says: %s\n", v->vm->name, v->id, buf);
	return (int64_t)len;
}

/* A page-aligned range of at most EXT_RANGE_MAX pages, inside guest RAM: its first GFN, or -EINVAL. */
static int64_t ext_range(const struct vm *vm, uint64_t gpa, uint64_t npages)
{
	uint64_t gfn = gpa >> PAGE_SHIFT;
	if (!IS_ALIGNED(gpa, PAGE_SIZE) || !npages || npages > EXT_RANGE_MAX ||
	    gfn + npages < gfn || gfn + npages > vm->mem_size >> PAGE_SHIFT)
		return -EXT_EINVAL;
	return (int64_t)gfn;
}

/*
 * EXT_UNMAP_GPA_RANGE (gpa, npages, flags): the twin of KVM's
 * MAP_GPA_RANGE that really hands the pages back: they leave the VM's
 * stage-2 map and the guest-memory gate (core/gmem.h, as a balloon does);
 * with EXT_UNMAP_RESTORE they come back, zeroed. Pages already out (or in)
 * are left as they are; a page another VM maps, or a hole, stops the call
 * where it is: -EBUSY / -EINVAL, the pages before it done.
 */
static int64_t ext_unmap_gpa_range(struct vcpu *v, const struct hc_args *a)
{
	uint64_t flags = a->arg[2];
	int64_t gfn = ext_range(v->vm, a->arg[0], a->arg[1]);
	if (gfn < 0)
		return gfn;
	if (flags & ~(uint64_t)EXT_UNMAP_RESTORE)
		return -EXT_EINVAL;
	for (uint64_t f = (uint64_t)gfn; f < (uint64_t)gfn + a->arg[1]; f++) {
		bool out = gmem_page_removed(v->vm, f << PAGE_SHIFT);
		int r = 0;
		if ((flags & EXT_UNMAP_RESTORE) && out)
			r = gmem_page_restore(v->vm, f);
		else if (!(flags & EXT_UNMAP_RESTORE) && !out)
			r = gmem_page_remove(v->vm, f);
		if (r)
			return r == -EBUSY ? -EXT_EBUSY : r == -ENOMEM ? -EXT_ENOMEM : -EXT_EINVAL;
	}
	return 0;
}

/* EXT_MEM_ATTRIBUTES (gpa, npages, attrs): private (the hypervisor keeps out) or shared. */
static int64_t ext_mem_attributes(struct vcpu *v, const struct hc_args *a)
{
	uint64_t attrs = a->arg[2];
	int64_t gfn = ext_range(v->vm, a->arg[0], a->arg[1]);
	if (gfn < 0)
		return gfn;
	if (attrs & ~(uint64_t)EXT_ATTR_PRIVATE)
		return -EXT_EINVAL;
	int r = gmem_set_private(v->vm, (uint64_t)gfn, a->arg[1], attrs & EXT_ATTR_PRIVATE);
	return r == -ENOMEM ? -EXT_ENOMEM : r == -EBUSY ? -EXT_EBUSY : r ? -EXT_EINVAL : 0;
}

/* EXT_INJECT_EVENT (vcpu, vector): a fixed, edge interrupt through the target's local APIC. */
static int64_t ext_inject_event(struct vcpu *v, const struct hc_args *a)
{
	if (a->arg[0] >= v->vm->nr_vcpus || a->arg[1] < 32 || a->arg[1] > 255)
		return -EXT_EINVAL;
	return arch_send_ipi(v->vm->vcpus[a->arg[0]], (uint8_t)a->arg[1]) ? 0 : -EXT_EBUSY;
}

static const struct hc_call ext_calls[EXT_NR_CALLS] = {
	[EXT_DEBUG_LOG] = { ext_debug_log, "debug_log" },
	[EXT_UNMAP_GPA_RANGE] = { ext_unmap_gpa_range, "unmap_gpa_range" },
	[EXT_MEM_ATTRIBUTES] = { ext_mem_attributes, "mem_attributes" },
	[EXT_INJECT_EVENT] = { ext_inject_event, "inject_event" },
};

/* Leaves EXT_CPUID_BASE (signature) and EXT_CPUID_FEATURES (what is offered, where the numbers start). */
static bool ext_cpuid(struct vcpu *v UNUSED, uint32_t off, uint32_t subleaf UNUSED, struct cpuid_regs *out)
{
	switch (off) {
	case 0:
		out->eax = EXT_CPUID_FEATURES;
		memcpy(&out->ebx, EXT_CPUID_SIGNATURE, 4);
		memcpy(&out->ecx, &EXT_CPUID_SIGNATURE[4], 4);
		memcpy(&out->edx, &EXT_CPUID_SIGNATURE[8], 4);
		return true;
	case 1:
		out->eax = EXT_F_DEBUG_LOG | EXT_F_UNMAP_GPA_RANGE | EXT_F_MEM_ATTRIBUTES | EXT_F_INJECT_EVENT;
		out->ebx = EXT_NR_BASE;
		return true;
	}
	return false;
}

const struct hc_abi ext_abi = {
	.name = "ext",
	.nr_reg = X86_RAX,
	.result_reg = X86_RAX,
	.nargs = 4,
	.args64 = { X86_RBX, X86_RCX, X86_RDX, X86_RSI },
	.args32 = { X86_RBX, X86_RCX, X86_RDX, X86_RSI },
	.calls = ext_calls,
	.nr_calls = EXT_NR_CALLS,
	.nr_base = EXT_NR_BASE,
	.err_unknown = -38,             /* -ENOSYS: never reached, the range is exact */
	.err_cpl = -EXT_EPERM,
	.err_denied = -EXT_EPERM,
	.cpuid = ext_cpuid,
};
