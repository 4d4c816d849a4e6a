/*
 * Xen runstate areas (xen/include/public/vcpu.h struct vcpu_runstate_info,
 * VCPUOP_register_runstate_memory_area; xen/common/sched/core.c
 * vcpu_runstate_change, update_runstate_area): how long each vCPU has been
 * running, runnable (waiting for the CPU: its steal time), blocked and
 * offline, in ns of the domain's system time. Linux reads it for its steal
 * clock. The area is named by a guest-virtual address; it is translated
 * once, through the registering vCPU's page tables, when it is registered
 * (as Xen's newer runstate_phys_area is a GPA): a vCPU whose paging is off
 * or changed later cannot make it land elsewhere. With
 * VMASST_TYPE_runstate_update_flag the guest sees XEN_RUNSTATE_UPDATE in
 * state_entry_time while it is rewritten.
 */
#define LOG_SUB_FILE LOG_SUB_XEN   /* its messages: loglevel=xen:LEVEL */
#include "core/arch.h"
#include "core/gmem.h"
#include "core/string.h"
#include "core/vm.h"
#include "hypercalls/pvclock.h"
#include "hypercalls/xen/xen.h"
#include "hypercalls/xen/xen_abi.h"

/* What the scheduler says v is doing now. */
static uint8_t current_runstate(const struct vcpu *v)
{
	if (v->state == VCPU_HALTED)
		return RUNSTATE_blocked;
	if (v->state == VCPU_WAIT_SIPI || v->state == VCPU_DOWN)
		return RUNSTATE_offline;
	return v->vm->running == v ? RUNSTATE_running : RUNSTATE_runnable;
}

/*
 * struct vcpu_runstate_info { int state; uint64_t state_entry_time; uint64_t
 * time[4]; }: 48 bytes, or 44 in the 32-bit layout (uint64_t 4-aligned).
 */
/* Bytes [off, off+len) of the area, across its two pages: all or nothing. */
static int put(struct vcpu *v, size_t off, const void *src, size_t len)
{
	const struct xen_vcpu_state *x = &v->hc.xen;
	size_t first = off < x->runstate_split ? MIN(len, x->runstate_split - off) : 0;
	uint64_t second_at = x->runstate_gpa[1] + (off + first - x->runstate_split);
	if ((first && !gmem_range_ok(v->vm, mk_gpa(x->runstate_gpa[0] + off), first, true)) ||
	    (len > first && !gmem_range_ok(v->vm, mk_gpa(second_at), len - first, true)))
		return -EFAULT;
	if (first)
		gmem_write(v->vm, mk_gpa(x->runstate_gpa[0] + off), src, first);
	if (len > first)
		gmem_write(v->vm, mk_gpa(second_at), (const uint8_t *)src + first, len - first);
	return 0;
}

static void write_area(struct vcpu *v)
{
	const struct xen_vcpu_state *x = &v->hc.xen;
	bool compat = v->vm->hc.xen.compat, flag = v->vm->hc.xen.vm_assist & (1u << VMASST_TYPE_runstate_update_flag);
	size_t entry_at = compat ? 4 : 8, len = entry_at + 8 + sizeof(x->runstate_time);
	uint8_t b[48] = { 0 };
	uint32_t state = x->runstate;
	uint64_t entry = x->runstate_entry_ns;
	if (!x->runstate_on)
		return;
	memcpy(b, &state, 4);
	memcpy(b + entry_at + 8, x->runstate_time, sizeof(x->runstate_time));
	if (flag) {
		uint64_t updating = entry | XEN_RUNSTATE_UPDATE;
		memcpy(b + entry_at, &updating, 8);
		if (put(v, entry_at, &updating, 8) || put(v, 0, b, len))
			return;
		put(v, entry_at, &entry, 8);
		return;
	}
	memcpy(b + entry_at, &entry, 8);
	put(v, 0, b, len);
}

/* Before the first change is seen, the vCPU is taken to have been in its state since the VM began. */
static void runstate_start(struct vcpu *v)
{
	struct xen_vcpu_state *x = &v->hc.xen;
	if (!x->runstate_known) {
		x->runstate_known = true;
		x->runstate = current_runstate(v);
		x->runstate_entry_ns = 0;
	}
}

void xen_vcpu_runstate(struct vcpu *v)
{
	struct xen_vcpu_state *x = &v->hc.xen;
	uint64_t now = pvclock_ns(v->vm, arch_read_counter());
	uint8_t s = current_runstate(v);
	runstate_start(v);
	if (s == x->runstate)
		return;
	if (now > x->runstate_entry_ns)
		x->runstate_time[x->runstate] += now - x->runstate_entry_ns;
	x->runstate = s;
	x->runstate_entry_ns = now;
	write_area(v);
}

/*
 * VCPUOP_register_runstate_memory_area { union { handle; uint64_t p; } addr; }:
 * 0 stops the updates. Written at once (Xen), for any vCPU of the domain.
 */
int64_t xen_register_runstate(struct vcpu *t, struct vcpu *caller, uint64_t gpa, bool long_mode)
{
	struct xen_vcpu_state *x = &t->hc.xen;
	uint64_t addr, where[2] = { 0, 0 };
	if (xen_copy_in(caller, gpa, &addr, sizeof(addr)))
		return -XEN_EFAULT;
	if (!long_mode)
		addr = (uint32_t)addr;                   /* a 32-bit caller's handle is 32 bits */
	size_t split = (size_t)MIN(PAGE_SIZE - (addr & (PAGE_SIZE - 1)), 48u);
	x->runstate_on = false;
	if (!addr)
		return 0;
	/* an address the caller's paging does not map: taken, and never written (Xen's copies would fail) */
	if (arch_guest_virt_to_phys(caller, addr, &where[0]) ||
	    (split < 48 && arch_guest_virt_to_phys(caller, addr + split, &where[1])))
		return 0;
	runstate_start(t);
	x->runstate_on = true;
	x->runstate_gpa[0] = where[0];
	x->runstate_gpa[1] = where[1];
	x->runstate_split = (uint16_t)split;
	write_area(t);
	return 0;
}

/* vm_assist(cmd, type): an HVM domain may turn the runstate update flag on and off (Xen HVM_VM_ASSIST_MASK). */
int64_t xen_vm_assist(struct vcpu *v, const struct hc_args *a)
{
	uint32_t cmd = (uint32_t)a->arg[0], type = (uint32_t)a->arg[1];
	if (cmd != VMASST_CMD_enable && cmd != VMASST_CMD_disable)
		return -XEN_ENOSYS;
	if (type != VMASST_TYPE_runstate_update_flag)
		return -XEN_EINVAL;
	if (cmd == VMASST_CMD_enable)
		v->vm->hc.xen.vm_assist |= 1u << type;
	else
		v->vm->hc.xen.vm_assist &= ~(1u << type);
	return 0;
}
