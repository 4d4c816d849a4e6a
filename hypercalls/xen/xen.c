/*
 * The Xen hypercall ABI for HVM/PVH guests. Calling convention, from Xen
 * xen/arch/x86/hvm/hypercall.c: number in RAX; arguments RDI, RSI, RDX,
 * R10, R8 in 64-bit mode, EBX, ECX, EDX, ESI, EDI outside it; result
 * (-errno on failure, xen/include/public/errno.h) in RAX; a caller at
 * CPL > 0 gets -EPERM, an unknown number -ENOSYS. Calls arrive through the
 * hypercall page or by a direct VMCALL/VMMCALL (Linux since 6.13): the
 * same dispatcher serves both.
 */
#define LOG_SUB_FILE LOG_SUB_XEN   /* its messages: loglevel=xen:LEVEL */
#include "core/arch.h"
#include "core/gmem.h"
#include "core/sched.h"
#include "core/string.h"
#include "core/time.h"
#include "core/vm.h"
#include "hypercalls/xen/xen.h"
#include "hypercalls/xen/xen_abi.h"

/* Copies `len` bytes of `src` to the guest buffer at `gpa`: 0 or -EFAULT (Xen copy_to_guest). */
int xen_copy_out(struct vcpu *v, uint64_t gpa, const void *src, size_t len)
{
	return gmem_write(v->vm, mk_gpa(gpa), src, len) ? -XEN_EFAULT : 0;
}

int xen_copy_in(struct vcpu *v, uint64_t gpa, void *dst, size_t len)
{
	return gmem_read(v->vm, mk_gpa(gpa), dst, len) ? -XEN_EFAULT : 0;
}

/* `s` into a zeroed field of `size` bytes, always NUL-terminated. */
static void put_string(char *field, size_t size, const char *s)
{
	memset(field, 0, size);
	memcpy(field, s, MIN(strlen(s), size - 1));
}

/* A NUL-padded string of a fixed-size xen_version buffer. */
static int64_t copy_string(struct vcpu *v, uint64_t gpa, const char *s, size_t size)
{
	char buf[XEN_CAPABILITIES_LEN];
	put_string(buf, size, s);
	return xen_copy_out(v, gpa, buf, size);
}

/*
 * What a guest may run here: HVM only, as a 64-bit Xen built without PV
 * says it (xen/arch/x86/setup.c init_xen_cap_info; every entry ends in a space).
 */
#define XEN_CAPABILITIES "hvm-3.0-x86_32 hvm-3.0-x86_32p hvm-3.0-x86_64 "

/*
 * Submap 0 (features.h), what Xen sets for an HVM/PVH domU that holds
 * here: its page tables are its own, its physmap is translated, events may
 * come by a callback vector, vcpu_time_info is safe to use, and it is not
 * direct-mapped. Linux looks for the callback-vector and pvclock bits
 * before it uses either.
 */
static uint32_t xen_features(void)
{
	return 1u << XENFEAT_writable_page_tables | 1u << XENFEAT_auto_translated_physmap |
	       1u << XENFEAT_hvm_callback_vector | 1u << XENFEAT_hvm_safe_pvclock |
	       1u << XENFEAT_not_direct_mapped;
}

/* xen_version(cmd, arg) (xen/common/kernel.c do_xen_version) */
static int64_t xen_version(struct vcpu *v, const struct hc_args *a)
{
	uint64_t arg = a->arg[1];
	switch ((uint32_t)a->arg[0]) {                    /* int cmd */
	case XENVER_version:
		return XEN_VERSION_MAJOR << 16 | XEN_VERSION_MINOR;
	case XENVER_extraversion:
		return copy_string(v, arg, ".0", XEN_EXTRAVERSION_LEN);
	case XENVER_compile_info: {
		struct xen_compile_info ci;
		put_string(ci.compiler, sizeof(ci.compiler), "gcc");
		put_string(ci.compile_by, sizeof(ci.compile_by), "microhv");
		put_string(ci.compile_domain, sizeof(ci.compile_domain), "");
		put_string(ci.compile_date, sizeof(ci.compile_date), "");
		return xen_copy_out(v, arg, &ci, sizeof(ci));
	}
	case XENVER_capabilities:
		return copy_string(v, arg, XEN_CAPABILITIES, XEN_CAPABILITIES_LEN);
	case XENVER_changeset:
		return copy_string(v, arg, "unavailable", XEN_CHANGESET_LEN);
	case XENVER_platform_parameters: {
		/* virt_start: where a PV guest's hypervisor hole begins; an HVM guest has none */
		uint64_t virt_start = 0;
		return xen_copy_out(v, arg, &virt_start, a->long_mode ? 8 : 4);
	}
	case XENVER_get_features: {
		struct xen_feature_info fi;
		if (xen_copy_in(v, arg, &fi, sizeof(fi)))
			return -XEN_EFAULT;
		if (fi.submap_idx != 0)
			return -XEN_EINVAL;            /* XENFEAT_NR_SUBMAPS is 1 */
		fi.submap = xen_features();
		return xen_copy_out(v, arg, &fi, sizeof(fi));
	}
	case XENVER_pagesize:
		return arg ? -XEN_EINVAL : (int64_t)PAGE_SIZE;   /* the argument must be NULL (Xen 4.17+) */
	case XENVER_guest_handle: {
		uint8_t handle[XEN_DOMAIN_HANDLE_LEN] = { 0 };   /* no toolstack gave the domain a UUID */
		return xen_copy_out(v, arg, handle, sizeof(handle));
	}
	case XENVER_build_id:
		return -XEN_EPERM;                 /* privileged (XSM_PRIV) */
	case XENVER_commandline:
		/* the host's command line is privileged: a domU gets "<denied>" (xen/common/version.c xen_deny) */
		return copy_string(v, arg, "<denied>", sizeof("<denied>"));
	}
	return -XEN_ENOSYS;
}

/*
 * console_io(cmd, count, buffer) (xen/drivers/char/console.c
 * do_console_io). Every VM here may use it, as a console domain or any
 * domain of a debug Xen may: a release Xen refuses a domU with -EPERM.
 * A long write is continued every XEN_CONSOLE_BUDGET bytes, as Xen's is
 * preempted between its 128-byte chunks: the serial line is slow.
 */
#define XEN_CONSOLE_CHUNK 128
#define XEN_CONSOLE_BUDGET 1024
static int64_t xen_console_io(struct vcpu *v, const struct hc_args *a)
{
	uint64_t count = a->arg[1] & UINT32_MAX, buf = a->arg[2];
	switch ((uint32_t)a->arg[0]) {                    /* unsigned int cmd */
	case CONSOLEIO_write:
		/* chunk by chunk, nothing written past a bad byte: the guest's console line, as its port output */
		for (uint64_t done = 0; done < count;) {
			char chunk[XEN_CONSOLE_CHUNK];
			size_t n = (size_t)MIN(count - done, sizeof(chunk));
			if (done == XEN_CONSOLE_BUDGET) {
				hc_continue(v, 1, count - done);
				hc_continue(v, 2, buf + done);
				return 0;
			}
			if (xen_copy_in(v, buf + done, chunk, n))
				return -XEN_EFAULT;
			for (size_t i = 0; i < n; i++)
				vm_console_putc(v->vm, chunk[i]);
			done += n;
		}
		return 0;
	case CONSOLEIO_read:
		return 0;                          /* bytes read: no input is ever queued for a guest */
	}
	return -XEN_ENOSYS;
}

/*
 * SCHEDOP_shutdown: the domain ends with the reason as its status, so
 * poweroff (0) is success; a crash and a reboot are reported as such
 * (there is no toolstack to restart or save it). Like Xen, any reason is
 * taken, as a byte.
 */
static int64_t xen_shutdown(struct vcpu *v, uint32_t reason)
{
	static const char *const names[] = { "poweroff", "reboot", "suspend", "crash", "watchdog", "soft_reset" };
	uint8_t r = (uint8_t)reason;
	enum vm_end how = r == SHUTDOWN_crash ? VM_END_GUEST_CRASH : r == SHUTDOWN_reboot ? VM_END_RESET : VM_END_EXIT;
	if (r < ARRAY_SIZE(names))
		vm_end(v->vm, how, r, "vcpu%u: SCHEDOP_shutdown %s", v->id, names[r]);
	else
		vm_end(v->vm, how, r, "vcpu%u: SCHEDOP_shutdown reason %u", v->id, r);
	return 0;
}

/* sched_op(cmd, arg) (xen/common/sched/core.c do_sched_op) */
static int64_t xen_sched_op(struct vcpu *v, const struct hc_args *a)
{
	switch ((uint32_t)a->arg[0]) {                    /* int cmd */
	case SCHEDOP_yield:
		vcpu_yield(v);
		return 0;
	case SCHEDOP_block:
		return xen_sched_block(v);
	case SCHEDOP_poll:
		return xen_sched_poll(v, a);
	case SCHEDOP_shutdown: {
		uint32_t reason;
		if (xen_copy_in(v, a->arg[1], &reason, sizeof(reason)))
			return -XEN_EFAULT;
		return xen_shutdown(v, reason);
	}
	case SCHEDOP_remote_shutdown: {
		uint32_t rs[2];                    /* domid_t domain_id (padded), unsigned int reason */
		if (xen_copy_in(v, a->arg[1], rs, sizeof(rs)))
			return -XEN_EFAULT;
		return -XEN_EPERM;                 /* a device-model privilege (XSM_DM_PRIV) */
	}
	case SCHEDOP_pin_override:
		return -XEN_EPERM;                 /* the hardware domain's */
	}
	return -XEN_ENOSYS;
}

static int64_t xen_multicall(struct vcpu *v, const struct hc_args *a);

static const struct hc_call xen_calls[XEN_NR_HYPERCALLS] = {
	[__HYPERVISOR_memory_op] = { xen_memory_op, "memory_op" },
	[__HYPERVISOR_multicall] = { xen_multicall, "multicall" },
	[__HYPERVISOR_xen_version] = { xen_version, "xen_version" },
	[__HYPERVISOR_console_io] = { xen_console_io, "console_io" },
	[__HYPERVISOR_vm_assist] = { xen_vm_assist, "vm_assist" },
	[__HYPERVISOR_vcpu_op] = { xen_vcpu_op, "vcpu_op" },
	[__HYPERVISOR_sched_op] = { xen_sched_op, "sched_op" },
	[__HYPERVISOR_event_channel_op] = { xen_event_channel_op, "event_channel_op" },
	[__HYPERVISOR_hvm_op] = { xen_hvm_op, "hvm_op" },
	[__HYPERVISOR_grant_table_op] = { xen_grant_table_op, "grant_table_op" },
};

/*
 * multicall(call_list, nr_calls) (xen/common/multicall.c do_multicall):
 * struct multicall_entry { xen_ulong_t op, result; xen_ulong_t args[6]; }
 * (64 bytes; 32 with a 32-bit caller's 4-byte fields). Each entry runs as
 * if called alone and its result is written back; a multicall inside one
 * gets -EINVAL. After XEN_MULTICALL_BUDGET entries or XEN_MULTICALL_BUDGET_US
 * of work, or when an entry is itself to be continued (its updated
 * arguments written into it), the multicall is continued at that entry:
 * the list advanced, the count less.
 */
#define XEN_MULTICALL_BUDGET 64
#define XEN_MULTICALL_BUDGET_US 100
static int64_t multicall_continued(struct vcpu *v, uint64_t at, uint32_t left)
{
	hc_continue(v, 0, at);
	hc_continue(v, 1, left);
	return 0;
}

static int64_t xen_multicall(struct vcpu *v, const struct hc_args *a)
{
	size_t w = a->long_mode ? 8 : 4, size = 8 * w;
	uint64_t list = a->arg[0];
	uint32_t nr = (uint32_t)a->arg[1];               /* uint32_t nr_calls */
	uint64_t start = arch_read_counter(), budget = time_counter_hz() / 1000000 * XEN_MULTICALL_BUDGET_US;
	for (uint32_t i = 0; i < nr && !vm_ended(v->vm); i++) {
		uint8_t e[64];
		uint64_t at = list + i * size;
		if (i == XEN_MULTICALL_BUDGET || (i && arch_read_counter() - start >= budget))
			return multicall_continued(v, at, nr - i);
		if (xen_copy_in(v, at, e, size))
			return -XEN_EFAULT;
		struct hc_args c = { .long_mode = a->long_mode };
		memcpy(&c.nr, e, w);
		for (unsigned k = 0; k < HC_MAX_ARGS; k++)
			memcpy(&c.arg[k], e + (2 + k) * w, w);
		int64_t r = -XEN_ENOSYS;
		if (c.nr == __HYPERVISOR_multicall)
			r = -XEN_EINVAL;
		else if (c.nr < ARRAY_SIZE(xen_calls) && xen_calls[c.nr].fn)
			r = xen_calls[c.nr].fn(v, &c);
		if (hc_continuing(v)) {
			uint8_t args;
			uint64_t values[HC_MAX_ARGS];
			hc_continue_take(v, &args, values);
			for (unsigned k = 0; k < HC_MAX_ARGS; k++)
				if (args & (1u << k))
					memcpy(e + (2 + k) * w, &values[k], w);
			if (xen_copy_out(v, at, e, size))
				return -XEN_EFAULT;
			return multicall_continued(v, at, nr - i);
		}
		if (xen_copy_out(v, at + w, &r, w))
			return -XEN_EFAULT;
	}
	return 0;
}

/* ---- discovery ---- */

/*
 * The leaves as Xen fills them for an HVM guest (xen/arch/x86/cpuid.c
 * cpuid_hypervisor_leaves): the maximum is base+5 (a PV-only leaf, zero
 * here); time in base+3 with the TSC rate, the guest's TSC offset and the
 * host rate; base+4 says the vCPU and domain IDs are in EBX and ECX and
 * that per-vCPU upcall vectors work (HVMOP_set_evtchn_upcall_vector).
 * The APIC-virtualization bits stay clear: our APIC is emulated by exits.
 */
static bool xen_cpuid(struct vcpu *v, uint32_t off, uint32_t subleaf, struct cpuid_regs *out)
{
	uint32_t khz = (uint32_t)(time_counter_hz() / 1000);
	uint64_t offset = arch_guest_counter(v, 0);
	switch (off) {
	case 0:
		*out = (struct cpuid_regs){ HC_CPUID_BASE + XEN_CPUID_MAX_OFFSET, XEN_CPUID_SIGNATURE_EBX,
		                            XEN_CPUID_SIGNATURE_ECX, XEN_CPUID_SIGNATURE_EDX };
		return true;
	case 1:
		*out = (struct cpuid_regs){ .eax = XEN_VERSION_MAJOR << 16 | XEN_VERSION_MINOR };
		return true;
	case 2:
		*out = (struct cpuid_regs){ .eax = 1, .ebx = xen_hypercall_msr(v->vm) };
		return true;
	case 3:
		if (subleaf == 0)
			*out = (struct cpuid_regs){
				.eax = arch_counter_is_stable() ? XEN_CPUID_HOST_TSC_RELIABLE : 0,
				.ebx = XEN_TSC_MODE_DEFAULT, .ecx = khz,
			};
		else if (subleaf == 1)
			*out = (struct cpuid_regs){ .eax = (uint32_t)offset, .ebx = (uint32_t)(offset >> 32) };
		else if (subleaf == 2)
			*out = (struct cpuid_regs){ .eax = khz };
		return true;
	case 4:
		if (subleaf == 0)
			*out = (struct cpuid_regs){
				.eax = XEN_HVM_CPUID_IOMMU_MAPPINGS | XEN_HVM_CPUID_VCPU_ID_PRESENT |
				       XEN_HVM_CPUID_DOMID_PRESENT | XEN_HVM_CPUID_UPCALL_VECTOR,
				.ebx = v->id, .ecx = xen_domid(v->vm),
			};
		return true;
	case 5:
		return true;                       /* PV only */
	}
	return false;
}

/* ---- the hypercall page ---- */

/*
 * 32-byte stubs `mov eax, nr; <VMCALL|VMMCALL>; ret`, one per number; the
 * iret stub is `ud2` (an HVM guest has no iret hypercall); INT3 between
 * them (Xen hvm_hypercall_page_initialise and the vendor's init_hypercall_page).
 */
#define XEN_STUB_BYTES 32
static int xen_write_hypercall_page(struct vcpu *v, uint64_t gpa)
{
	uint8_t stub[XEN_STUB_BYTES];
	if (!gmem_range_ok(v->vm, mk_gpa(gpa), PAGE_SIZE, true))
		return -EFAULT;
	for (uint32_t nr = 0; nr < PAGE_SIZE / XEN_STUB_BYTES; nr++) {
		memset(stub, 0xcc, sizeof(stub));
		if (nr == __HYPERVISOR_iret) {
			stub[0] = 0x0f, stub[1] = 0x0b;
		} else {
			stub[0] = 0xb8;                 /* mov eax, imm32 */
			memcpy(&stub[1], &nr, sizeof(nr));
			size_t n = 5 + arch_hypercall_insn(&stub[5]);
			stub[n] = 0xc3;                 /* ret */
		}
		gmem_write(v->vm, mk_gpa(gpa + nr * XEN_STUB_BYTES), stub, sizeof(stub));
	}
	return 0;
}

/* The MSR takes the page's GPA with the page index (0: we have one page) in bits 11:0. */
static int xen_msr_write(struct vcpu *v, uint32_t msr, uint64_t val)
{
	if (msr != xen_hypercall_msr(v->vm))
		return -ENOENT;
	if ((val & (PAGE_SIZE - 1)) || xen_write_hypercall_page(v, val))
		return -EINVAL;
	v->vm->hc.xen.page_written = true;
	v->vm->hc.xen.page_gfn = val >> PAGE_SHIFT;
	xen_latch_shinfo_size(v, -1);
	return 0;
}

static bool xen_page_gfn(const struct vm *vm, uint64_t *gfn)
{
	*gfn = vm->hc.xen.page_gfn;
	return vm->hc.xen.page_written;
}

/*
 * Where the hypercall-page MSR is (CPUID base+2 EBX): 0x40000000, or
 * 0x40000200 beside Hyper-V, whose MSRs start at 0x40000000 (Xen
 * cpuid_hypervisor_leaves with viridian; ABI.md §4).
 */
uint32_t xen_hypercall_msr(const struct vm *vm)
{
	return hc_speaks(vm, &hyperv_abi) ? XEN_HYPERCALL_MSR_VIRIDIAN : XEN_HYPERCALL_MSR;
}

struct vm *xen_domain(struct vm *self, uint32_t domid)
{
	if (xen_is_self(self, domid))
		return self;
	if (domid == 0 || domid >= DOMID_FIRST_RESERVED)
		return NULL;                                   /* dom0 (no control domain here), reserved IDs */
	struct vm *d = vm_find(domid - 1);
	return d && hc_speaks(d, &xen_abi) && !vm_ended(d) ? d : NULL;
}

int64_t xen_not_self(struct vm *self, uint32_t domid)
{
	return xen_domain(self, domid) ? -XEN_EPERM : -XEN_ESRCH;
}

/* The VM ended: what tied other domains to it goes, as when Xen destroys a domain. */
static void xen_vm_ended(struct vm *vm)
{
	xen_evtchn_vm_ended(vm);
	xen_gnttab_vm_ended(vm);
}

/* Reads of the MSR give 0 (Xen guest_rdmsr_xen). */
static int xen_msr_read(struct vcpu *v, uint32_t msr, uint64_t *val)
{
	if (msr != xen_hypercall_msr(v->vm))
		return -ENOENT;
	*val = 0;
	return 0;
}

const struct hc_abi xen_abi = {
	.name = "xen",
	.nr_reg = X86_RAX,
	.result_reg = X86_RAX,
	.nargs = 5,
	.args64 = { X86_RDI, X86_RSI, X86_RDX, X86_R10, X86_R8 },
	.args32 = { X86_RBX, X86_RCX, X86_RDX, X86_RSI, X86_RDI },
	.calls = xen_calls,
	.nr_calls = ARRAY_SIZE(xen_calls),
	.err_unknown = -XEN_ENOSYS,
	.err_cpl = -XEN_EPERM,
	.err_denied = -XEN_EPERM,       /* what an XSM policy refusal gives */
	.cpuid = xen_cpuid,
	.msr_read = xen_msr_read,
	.msr_write = xen_msr_write,
	.clock_changed = xen_clock_changed,
	.timers = xen_timers,
	.vcpu_scheduled = xen_vcpu_scheduled,
	.vcpu_runstate = xen_vcpu_runstate,
	.vm_ended = xen_vm_ended,
	.page_gfn = xen_page_gfn,
	.vm_destroy = xen_gnttab_destroy,
};
