/*
 * What a Xen HVM guest shares with the hypervisor: the shared_info page
 * (vcpu_info slots, event channel bitmaps, wall clock), per-vCPU vcpu_info
 * with its vcpu_time_info, and the calls that set them up: memory_op
 * XENMEM_add_to_physmap, vcpu_op VCPUOP_register_vcpu_info, hvm_op
 * parameters and the upcall vector. Layouts from xen/include/public/xen.h
 * and arch-x86/xen-x86_{32,64}.h.
 *
 * Xen places its own shared_info frame at the GFN the guest names; here
 * the guest's RAM page at that GFN becomes the shared_info page: it is
 * cleared (or takes the previous page's contents) when mapped, and the
 * hypervisor writes it through the guest-memory gate from then on.
 */
#define LOG_SUB_FILE LOG_SUB_XEN   /* its messages: loglevel=xen:LEVEL */
#include "core/arch.h"
#include "core/gmem.h"
#include "core/string.h"
#include "core/time.h"
#include "core/vm.h"
#include "hypercalls/pvclock.h"
#include "hypercalls/xen/xen.h"
#include "hypercalls/xen/xen_abi.h"

/* ---- layouts: the 64-bit one, or the 32-bit (compat) one ---- */

struct shinfo_layout { uint32_t pending, mask, wc, wc_sec_hi, pending_sel, word; };
static const struct shinfo_layout layout64 = { 0x800, 0xa00, 0xc00, 0xc0c, 8, 8 };
static const struct shinfo_layout layout32 = { 0x800, 0x880, 0x900, 0x924, 4, 4 };
#define XEN_LEGACY_MAX_VCPUS 32
#define XEN_EFER_LMA (1ull << 10)      /* long mode active (SDM vol. 3A §2.2.1) */
#define VCPU_INFO_SIZE 64
#define VCPU_INFO_TIME 32

static const struct shinfo_layout *layout(const struct vm *vm)
{
	return vm->hc.xen.compat ? &layout32 : &layout64;
}

unsigned xen_nr_ports(const struct vm *vm)
{
	unsigned bits = layout(vm)->word * 8;
	return MIN(bits * bits, (unsigned)XEN_NR_EVTCHN);     /* 2-level: a selector word of words */
}

/* Where v's vcpu_info is: registered, or its shared_info slot (vCPUs 0-31); false if nowhere yet. */
bool xen_vcpu_info(const struct vcpu *v, uint64_t *gpa)
{
	const struct xen_vm_state *x = &v->vm->hc.xen;
	if (v->hc.xen.vcpu_info_registered)
		*gpa = v->hc.xen.vcpu_info_gpa;
	else if (x->shinfo_mapped && v->id < XEN_LEGACY_MAX_VCPUS)
		*gpa = x->shinfo_gpa + (uint64_t)v->id * VCPU_INFO_SIZE;
	else
		return false;
	return true;
}

/* ---- bits in guest memory (little-endian bitmaps: bit n is bit n % 8 of byte n / 8) ---- */

int xen_gbit(struct vm *vm, uint64_t base, unsigned bit, int op)
{
	gpa_t at = mk_gpa(base + bit / 8);
	uint8_t byte, m = (uint8_t)(1u << (bit % 8));
	if (gmem_read(vm, at, &byte, 1))
		return -EFAULT;
	bool was = byte & m;
	if (op != XEN_BIT_TEST && was != (op == XEN_BIT_SET)) {
		byte = op == XEN_BIT_SET ? byte | m : byte & (uint8_t)~m;
		if (gmem_write(vm, at, &byte, 1))
			return -EFAULT;
	}
	return was;
}

uint64_t xen_pending_base(const struct vm *vm) { return vm->hc.xen.shinfo_gpa + layout(vm)->pending; }
uint64_t xen_mask_base(const struct vm *vm) { return vm->hc.xen.shinfo_gpa + layout(vm)->mask; }
uint64_t xen_pending_sel(const struct vm *vm, uint64_t vcpu_info) { return vcpu_info + layout(vm)->pending_sel; }
unsigned xen_word_bits(const struct vm *vm) { return layout(vm)->word * 8; }

/* ---- time ---- */

/* v's vcpu_time_info, in its vcpu_info (Xen time.c update_vcpu_system_time). */
void xen_publish_time(struct vcpu *v)
{
	uint64_t vi;
	if (xen_vcpu_info(v, &vi))
		pvclock_publish(v, mk_gpa(vi + VCPU_INFO_TIME));
}

/* The wall-clock time at which the VM's system time read 0 (shared_info wc_*; Xen update_domain_wallclock_time). */
static void publish_wallclock(struct vm *vm)
{
	const struct shinfo_layout *l = layout(vm);
	gpa_t wc = mk_gpa(vm->hc.xen.shinfo_gpa + l->wc);
	uint32_t version;
	if (!pvclock_begin_update(vm, wc, 12, &version))
		return;
	uint64_t host = arch_read_counter();
	uint64_t boot = time_wall_ns(host) - pvclock_ns(vm, host), sec = boot / NSEC_PER_SEC;
	uint32_t w[3] = { version, (uint32_t)sec, (uint32_t)(boot % NSEC_PER_SEC) }, hi = (uint32_t)(sec >> 32);
	gmem_write(vm, mk_gpa(vm->hc.xen.shinfo_gpa + l->wc_sec_hi), &hi, sizeof(hi));
	gmem_write(vm, wc, w, sizeof(w));
	w[0]++;
	gmem_write(vm, wc, w, sizeof(w[0]));
}

/*
 * The shared_info layout follows the mode of the vCPU that writes the
 * hypercall page or sets the callback (Xen hvm_latch_shinfo_size: 64-bit
 * mode or not); the wall clock is rewritten in the new layout when it
 * changes. An MSR write knows the mode by EFER.LMA (a kernel in
 * compatibility mode does not set up Xen); a hypercall by its exit.
 */
void xen_latch_shinfo_size(struct vcpu *v, int mode64)
{
	struct arch_ctrl_regs cr;
	if (mode64 < 0) {
		arch_vcpu_ctrl_regs(v, &cr);
		mode64 = (cr.efer & XEN_EFER_LMA) != 0;
	}
	bool compat = !mode64;
	struct xen_vm_state *x = &v->vm->hc.xen;
	if (compat == x->compat)
		return;
	x->compat = compat;
	if (x->shinfo_mapped)
		publish_wallclock(v->vm);
}

/* Every vCPU's time and the wall clock, where the guest can see them now. */
static void publish_all(struct vm *vm)
{
	publish_wallclock(vm);
	for (unsigned i = 0; i < vm->nr_vcpus; i++)
		xen_publish_time(vm->vcpus[i]);
}

void xen_clock_changed(struct vcpu *v)
{
	xen_publish_time(v);
}

/* ---- memory_op ---- */

/*
 * XENMAPSPACE_shared_info, idx 0: the page at `gpfn` becomes shared_info,
 * with the contents of the page it replaces (Xen moves its one frame).
 */
static int64_t map_shared_info(struct vcpu *v, uint64_t idx, uint64_t gpfn)
{
	struct vm *vm = v->vm;
	struct xen_vm_state *x = &vm->hc.xen;
	uint64_t gpa = gpfn << PAGE_SHIFT;
	static uint8_t page[PAGE_SIZE];                  /* one pCPU: one call at a time */
	if (idx != 0)
		return -XEN_EINVAL;
	if (!xen_gfn_fits(gpfn) || !gmem_page_is_ram(vm, gpfn))
		return -XEN_EINVAL;                      /* not guest RAM of its own here (a hole, a grant) */
	memset(page, 0, sizeof(page));
	if (x->shinfo_mapped)
		gmem_read(vm, mk_gpa(x->shinfo_gpa), page, sizeof(page));
	gmem_write(vm, mk_gpa(gpa), page, sizeof(page));
	x->shinfo_gpa = gpa;
	x->shinfo_mapped = true;
	publish_all(vm);
	return 0;
}

/* struct xen_add_to_physmap: domid, size, space, idx, gpfn (ulongs: 4 bytes for 32-bit callers). */
static int64_t add_to_physmap(struct vcpu *v, const struct hc_args *a)
{
	uint8_t b[24];
	size_t len = a->long_mode ? 24 : 16;
	if (xen_copy_in(v, a->arg[1], b, len))
		return -XEN_EFAULT;
	uint16_t domid;
	uint32_t space;
	uint64_t idx = 0, gpfn = 0;
	memcpy(&domid, b, 2);
	memcpy(&space, b + 4, 4);
	memcpy(&idx, b + 8, a->long_mode ? 8 : 4);
	memcpy(&gpfn, b + (a->long_mode ? 16 : 12), a->long_mode ? 8 : 4);
	if (!xen_is_self(v->vm, domid))
		return xen_not_self(v->vm, domid);
	if (space == XENMAPSPACE_shared_info)
		return map_shared_info(v, idx, gpfn);
	if (space == XENMAPSPACE_grant_table)
		return xen_gnttab_place(v, idx, gpfn);
	return -XEN_EINVAL;                              /* gmfn, gmfn_range, foreign, dev_mmio: not offered */
}

/*
 * XENMEM_remove_from_physmap { domid_t domid; xen_pfn_t gpfn; } (64-bit:
 * 16 bytes, gpfn at 8; 32-bit: 8, at 4): what is at gpfn leaves the
 * domain and the gfn is empty (Xen guest_remove_page): a grant-table
 * frame goes back to the table, shared_info stops being seen, RAM is given
 * back as by decrease_reservation. Nothing there, or a grant mapped there
 * (unmap_grant_ref's business): -EINVAL.
 */
static int64_t remove_from_physmap(struct vcpu *v, const struct hc_args *a)
{
	uint8_t b[16];
	uint16_t domid;
	uint64_t gpfn = 0;
	if (xen_copy_in(v, a->arg[1], b, a->long_mode ? 16 : 8))
		return -XEN_EFAULT;
	memcpy(&domid, b, 2);
	memcpy(&gpfn, b + (a->long_mode ? 8 : 4), a->long_mode ? 8 : 4);
	if (!xen_is_self(v->vm, domid))
		return xen_not_self(v->vm, domid);
	struct xen_vm_state *x = &v->vm->hc.xen;
	if (xen_gnttab_unplace(v->vm, gpfn))
		return 0;
	if (gmem_page_remove(v->vm, gpfn))
		return -XEN_EINVAL;
	if (xen_shinfo_at(v->vm, gpfn))
		x->shinfo_mapped = false;                    /* events are no longer recorded anywhere */
	return 0;
}

/*
 * XENMEM_memory_map { unsigned nr_entries; handle buffer; } (64-bit: 16
 * bytes, buffer at 8; 32-bit: 8, buffer at 4): the domain's e820, 20-byte
 * packed entries, as many as fit; nr_entries says how many were written
 * (xen/arch/x86/mm.c arch_memory_op). Ours is the map the start info gives.
 */
static int64_t memory_map(struct vcpu *v, const struct hc_args *a)
{
	uint8_t m[16];
	uint32_t nr;
	uint64_t buf = 0;
	size_t len = a->long_mode ? 16 : 8;
	struct __attribute__((packed)) { uint64_t addr, size; uint32_t type; } ram = { 0, v->vm->mem_size, 1 };
	if (xen_copy_in(v, a->arg[1], m, len))
		return -XEN_EFAULT;
	memcpy(&nr, m, 4);
	memcpy(&buf, m + (a->long_mode ? 8 : 4), a->long_mode ? 8 : 4);
	nr = MIN(nr, 1u);
	if (nr && xen_copy_out(v, buf, &ram, sizeof(ram)))
		return -XEN_EFAULT;
	memcpy(m, &nr, 4);
	return xen_copy_out(v, a->arg[1], m, len);
}

/* XENMEM_current/maximum_reservation (arg: a domid_t): the domain's pages now / at most. */
static int64_t reservation(struct vcpu *v, const struct hc_args *a, bool maximum)
{
	uint16_t domid;
	if (xen_copy_in(v, a->arg[1], &domid, sizeof(domid)))
		return -XEN_EFAULT;
	if (!xen_is_self(v->vm, domid))
		return xen_not_self(v->vm, domid);
	uint64_t pages = v->vm->mem_size >> PAGE_SHIFT;
	return (int64_t)(maximum ? pages : pages - xen_ballooned_pages(v->vm));
}

/*
 * XENMEM_decrease_reservation / populate_physmap: real ballooning. struct
 * xen_memory_reservation { handle extent_start; xen_ulong_t nr_extents;
 * unsigned extent_order, mem_flags; domid_t domid; } (64-bit: 32 bytes,
 * fields at 0, 8, 16, 20, 24; 32-bit: 20 bytes at 0, 4, 8, 12, 16). Each
 * extent is a GFN (xen_pfn_t: 8 or 4 bytes) and 2^order pages from it:
 * decrease takes them out of the VM's NPT/EPT, populate puts them back
 * zeroed. Returns the extents done; stops at the first that fails, as Xen
 * does. After XEN_MEMOP_BUDGET pages the call is continued with its
 * progress in the command's bits 63:6 (Xen's MEMOP_EXTENT_SHIFT).
 */
#define XEN_MEMOP_BUDGET 512
#define XEN_MEMOP_EXTENT_SHIFT 6
#define XEN_MAX_EXTENT_ORDER 9                          /* 2 MiB: what a balloon driver asks for at most */
static int64_t reservation_op(struct vcpu *v, const struct hc_args *a, bool populate)
{
	uint8_t r[32];
	bool l = a->long_mode;
	uint64_t extents = 0, nr = 0, done = a->arg[0] >> XEN_MEMOP_EXTENT_SHIFT;
	uint32_t order;
	uint16_t domid;
	if (xen_copy_in(v, a->arg[1], r, l ? 32 : 20))
		return -XEN_EFAULT;
	memcpy(&extents, r, l ? 8 : 4);
	memcpy(&nr, r + (l ? 8 : 4), l ? 8 : 4);
	memcpy(&order, r + (l ? 16 : 8), 4);
	memcpy(&domid, r + (l ? 24 : 16), 2);
	if (!xen_is_self(v->vm, domid))
		return xen_not_self(v->vm, domid);
	if (order > XEN_MAX_EXTENT_ORDER)
		return -XEN_EINVAL;
	/* the progress must fit the command beside the sub-op, at the caller's width (Xen: start_extent back) */
	if (nr > (l ? UINT64_MAX : UINT32_MAX) >> XEN_MEMOP_EXTENT_SHIFT)
		return (int64_t)done;
	for (unsigned pages = 0; done < nr; done++) {
		uint64_t gfn = 0;
		if (pages >= XEN_MEMOP_BUDGET) {
			hc_continue(v, 0, (a->arg[0] & XEN_MEMOP_CMD_MASK) | done << XEN_MEMOP_EXTENT_SHIFT);
			return 0;
		}
		if (xen_copy_in(v, extents + done * (l ? 8 : 4), &gfn, l ? 8 : 4))
			return (int64_t)done;                  /* Xen: the extents done so far, 0 too */
		for (uint64_t i = 0; i < (1ull << order); i++, pages++) {
			int e = populate ? gmem_page_restore(v->vm, gfn + i) : gmem_page_remove(v->vm, gfn + i);
			if (e)
				return (int64_t)done;
		}
	}
	return (int64_t)done;
}

/* memory_op(cmd, arg) (xen/common/memory.c do_memory_op; HVM: hvm_memory_op) */
int64_t xen_memory_op(struct vcpu *v, const struct hc_args *a)
{
	switch (a->arg[0] & XEN_MEMOP_CMD_MASK) {         /* the bits above: a continuation's progress */
	case XENMEM_add_to_physmap:
		return add_to_physmap(v, a);
	case XENMEM_remove_from_physmap:
		return remove_from_physmap(v, a);
	case XENMEM_decrease_reservation:
		return reservation_op(v, a, false);
	case XENMEM_populate_physmap:
		return reservation_op(v, a, true);
	case XENMEM_memory_map:
		return memory_map(v, a);
	case XENMEM_current_reservation:
		return reservation(v, a, false);
	case XENMEM_maximum_reservation:
		return reservation(v, a, true);
	}
	return -XEN_ENOSYS;
}

/* ---- hvm_op ---- */

/* struct xen_hvm_param: domid u16 (padded), index u32, value u64: 16 bytes in both modes. */
struct xen_hvm_param { uint16_t domid, pad; uint32_t index; uint64_t value; };

/* The params a guest may set and read about itself (Xen hvm.c hvm_allow_set_param / _get_param). */
static int64_t hvm_param(struct vcpu *v, uint64_t gpa, bool set, bool long_mode)
{
	struct xen_vm_state *x = &v->vm->hc.xen;
	struct xen_hvm_param p;
	if (xen_copy_in(v, gpa, &p, sizeof(p)))
		return -XEN_EFAULT;
	if (p.index >= HVM_NR_PARAMS)
		return -XEN_EINVAL;
	if (!xen_is_self(v->vm, p.domid))
		return xen_not_self(v->vm, p.domid);
	uint64_t *slot = p.index == HVM_PARAM_CALLBACK_IRQ ? &x->callback_irq :
	                 p.index == HVM_PARAM_STORE_EVTCHN ? &x->store_evtchn :
	                 p.index == HVM_PARAM_CONSOLE_EVTCHN ? &x->console_evtchn : NULL;
	bool readable_only = p.index == HVM_PARAM_STORE_PFN || p.index == HVM_PARAM_CONSOLE_PFN;
	if (HVM_PARAM_DEPRECATED & (1ull << p.index))
		return -XEN_EINVAL;
	if (set) {
		if (!slot)
			return -XEN_EPERM;
		*slot = p.value;
		if (p.index == HVM_PARAM_CALLBACK_IRQ) {
			xen_latch_shinfo_size(v, long_mode);
			xen_evtchn_upcall_recheck(v->vm);
		}
		return 0;
	}
	if (!slot && !readable_only)
		return -XEN_EPERM;
	p.value = slot ? *slot : 0;                      /* no xenstore or console ring here: PFN 0 */
	return xen_copy_out(v, gpa, &p, sizeof(p));
}

/* HVMOP_set_evtchn_upcall_vector: { u32 vcpu; u8 vector; } (8 bytes). */
static int64_t set_upcall_vector(struct vcpu *v, uint64_t gpa)
{
	uint32_t arg[2];
	if (xen_copy_in(v, gpa, arg, sizeof(arg)))
		return -XEN_EFAULT;
	uint8_t vector = (uint8_t)arg[1];
	if (vector < 0x10)
		return -XEN_EINVAL;
	if (arg[0] >= v->vm->nr_vcpus)
		return -XEN_ENOENT;
	struct vcpu *t = v->vm->vcpus[arg[0]];
	t->hc.xen.upcall_vector = vector;
	xen_evtchn_upcall_recheck(v->vm);
	return 0;
}

/* hvm_op(op, arg) (xen/arch/x86/hvm/hvm.c do_hvm_op) */
int64_t xen_hvm_op(struct vcpu *v, const struct hc_args *a)
{
	switch (a->arg[0] & HVMOP_op_mask) {
	case HVMOP_set_param:
		return hvm_param(v, a->arg[1], true, a->long_mode);
	case HVMOP_get_param:
		return hvm_param(v, a->arg[1], false, a->long_mode);
	case HVMOP_set_evtchn_upcall_vector:
		return set_upcall_vector(v, a->arg[1]);
	}
	return -XEN_ENOSYS;
}

/* ---- vcpu_op ---- */

/*
 * VCPUOP_register_vcpu_info { u64 gfn; u32 offset; u32 rsvd; } (rsvd is
 * not looked at), with the checks of Xen 4.17's map_vcpu_info
 * (xen/common/domain.c), in its order:
 * - an offset past PAGE_SIZE - sizeof(vcpu_info_t), or not a multiple of
 *   its alignment (alignof: 8, or 4 with the 32-bit shared_info layout,
 *   has_32bit_shinfo): -ENXIO;
 * - a vCPU that has one registered already: -EINVAL (once per vCPU; Xen
 *   after 4.17 answers -EBUSY);
 * - "Run this command on yourself or on other offline VCPUS": another
 *   vCPU that is up: -EINVAL;
 * - a gfn that is not writable RAM of the domain (get_page_from_gfn,
 *   get_page_type): -EINVAL.
 * The current contents move there.
 */
static int64_t register_vcpu_info(struct vcpu *t, struct vcpu *caller, uint64_t gpa)
{
	struct { uint64_t gfn; uint32_t offset, rsvd; } r;
	uint8_t info[VCPU_INFO_SIZE] = { 0 };
	uint64_t old;
	if (xen_copy_in(caller, gpa, &r, sizeof(r)))
		return -XEN_EFAULT;
	if (r.offset > PAGE_SIZE - VCPU_INFO_SIZE || r.offset % (t->vm->hc.xen.compat ? 4 : 8))
		return -XEN_ENXIO;
	if (t->hc.xen.vcpu_info_registered)
		return -XEN_EINVAL;
	if (t != caller && xen_vcpu_is_up(t))
		return -XEN_EINVAL;
	if (!xen_gfn_fits(r.gfn))
		return -XEN_EINVAL;
	uint64_t at = (r.gfn << PAGE_SHIFT) + r.offset;
	if (!gmem_range_ok(t->vm, mk_gpa(at), VCPU_INFO_SIZE, true))
		return -XEN_EINVAL;
	if (xen_vcpu_info(t, &old))
		gmem_read(t->vm, mk_gpa(old), info, sizeof(info));
	gmem_write(t->vm, mk_gpa(at), info, sizeof(info));
	t->hc.xen.vcpu_info_registered = true;
	t->hc.xen.vcpu_info_gpa = at;
	xen_publish_time(t);
	return 0;
}

/* vcpu_op(cmd, vcpuid, arg) (xen/common/domain.c do_vcpu_op, arch_do_vcpu_op) */
int64_t xen_vcpu_op(struct vcpu *v, const struct hc_args *a)
{
	uint32_t vcpuid = (uint32_t)a->arg[1];             /* int cmd, unsigned int vcpuid */
	if (vcpuid >= v->vm->nr_vcpus)
		return -XEN_ENOENT;
	struct vcpu *t = v->vm->vcpus[vcpuid];
	switch ((uint32_t)a->arg[0]) {
	case VCPUOP_initialise:
	case VCPUOP_up:
	case VCPUOP_down:
	case VCPUOP_is_up:
		return xen_vcpu_up_op(v, t, a);
	case VCPUOP_register_vcpu_info:
		return register_vcpu_info(t, v, a->arg[2]);
	case VCPUOP_register_runstate_memory_area:
		return xen_register_runstate(t, v, a->arg[2], a->long_mode);
	}
	return xen_vcpu_timer_op(v, t, a);
}
