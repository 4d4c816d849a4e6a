/* Shared by the files of the Xen ABI. */
#ifndef HYPERCALLS_XEN_XEN_H
#define HYPERCALLS_XEN_XEN_H

#include "core/vm.h"
#include "hypercalls/hypercall.h"
#include "hypercalls/xen/xen_abi.h"

/* Guest buffers, through the guest-memory gate: 0 or -XEN_EFAULT (Xen copy_{to,from}_guest). */
int xen_copy_out(struct vcpu *v, uint64_t gpa, const void *src, size_t len);
int xen_copy_in(struct vcpu *v, uint64_t gpa, void *dst, size_t len);

/* The VM's domain ID: dom0 is the control domain in Xen, so VM n is domain n + 1. */
static inline uint32_t xen_domid(const struct vm *vm) { return vm->id + 1; }
/* Whether a domid_t argument names the caller's own domain (DOMID_SELF or its ID). */
static inline bool xen_is_self(const struct vm *vm, uint32_t domid)
{
	return domid == DOMID_SELF || domid == xen_domid(vm);
}
/* The domain a domid_t names: the caller's, or another VM that speaks Xen and runs; NULL if none. */
struct vm *xen_domain(struct vm *self, uint32_t domid);
/*
 * The answer to an unprivileged caller naming another domain where only
 * a privileged one may (Xen rcu_lock_domain_by_any_id, then XSM_TARGET):
 * -EPERM if that domain exists, -ESRCH if not.
 */
int64_t xen_not_self(struct vm *self, uint32_t domid);

uint32_t xen_hypercall_msr(const struct vm *vm);

/*
 * Whether a frame number has an address: gfn << 12 does not wrap past 2^64.
 * One that does is no frame of the guest's (Xen's p2m refuses it): every
 * call that places something at a guest-named gfn refuses it (-EINVAL).
 */
static inline bool xen_gfn_fits(uint64_t gfn) { return gfn < 1ull << (64 - PAGE_SHIFT); }
/* Whether vm's shared_info is mapped at gfn (nothing else may be put there). */
static inline bool xen_shinfo_at(const struct vm *vm, uint64_t gfn)
{
	return vm->hc.xen.shinfo_mapped && vm->hc.xen.shinfo_gpa >> PAGE_SHIFT == gfn;
}

/* The shared_info page and vcpu_info (xen_shared.c) */
bool xen_vcpu_info(const struct vcpu *v, uint64_t *gpa);
unsigned xen_nr_ports(const struct vm *vm);
uint64_t xen_pending_base(const struct vm *vm);
uint64_t xen_mask_base(const struct vm *vm);
uint64_t xen_pending_sel(const struct vm *vm, uint64_t vcpu_info);
unsigned xen_word_bits(const struct vm *vm);
/* A bit of a bitmap in guest memory: its old value (0/1) or -EFAULT. */
enum { XEN_BIT_TEST, XEN_BIT_SET, XEN_BIT_CLEAR };
int xen_gbit(struct vm *vm, uint64_t base, unsigned bit, int op);
void xen_publish_time(struct vcpu *v);
/* mode64: whether the caller is in 64-bit mode; -1: judge by EFER.LMA */
void xen_latch_shinfo_size(struct vcpu *v, int mode64);
void xen_clock_changed(struct vcpu *v);

/* Event channels (evtchn.c) */
/* Port `port` fires: pending bit, selector, upcall; the notified vCPU wakes. */
void xen_evtchn_fire(struct vm *vm, unsigned port);
/* A VIRQ of vCPU v fires, if bound. */
void xen_virq_fire(struct vcpu *v, unsigned virq);
/* The callback or an upcall vector changed: deliver what is already pending. */
void xen_evtchn_upcall_recheck(struct vm *vm);
/* The VM ended: its interdomain channels close. */
void xen_evtchn_vm_ended(struct vm *vm);
/* Whether v has an event to handle (its vcpu_info's upcall_pending). */
bool xen_upcall_pending(const struct vcpu *v);
/* Timers of vCPU `t` (vcpu_op timer sub-ops), and the scheduler's poll. */
int64_t xen_vcpu_timer_op(struct vcpu *v, struct vcpu *t, const struct hc_args *a);
uint64_t xen_timers(struct vcpu *v, uint64_t now);

int64_t xen_memory_op(struct vcpu *v, const struct hc_args *a);
/* Grant tables (gnttab.c) */
int64_t xen_grant_table_op(struct vcpu *v, const struct hc_args *a);
int64_t xen_gnttab_place(struct vcpu *v, uint64_t idx, uint64_t gpfn);
bool xen_gnttab_unplace(struct vm *vm, uint64_t gpfn);
void xen_gnttab_vm_ended(struct vm *vm);
void xen_gnttab_destroy(struct vm *vm);
/* Runstate (runstate.c) */
void xen_vcpu_runstate(struct vcpu *v);
int64_t xen_register_runstate(struct vcpu *t, struct vcpu *caller, uint64_t gpa, bool long_mode);
int64_t xen_vm_assist(struct vcpu *v, const struct hc_args *a);
/* Pages the guest gave back (XENMEM_decrease_reservation) and has not taken again. */
static inline uint64_t xen_ballooned_pages(const struct vm *vm) { return vm->nr_removed; }
int64_t xen_vcpu_op(struct vcpu *v, const struct hc_args *a);
/* VCPUOP_initialise, _up, _down, _is_up on vCPU t (vcpu_up.c) */
int64_t xen_vcpu_up_op(struct vcpu *v, struct vcpu *t, const struct hc_args *a);
/* Whether vCPU t is up: initialised and not down (Xen: VPF_down clear). */
bool xen_vcpu_is_up(const struct vcpu *t);
int64_t xen_hvm_op(struct vcpu *v, const struct hc_args *a);
int64_t xen_event_channel_op(struct vcpu *v, const struct hc_args *a);
int64_t xen_sched_block(struct vcpu *v);
int64_t xen_sched_poll(struct vcpu *v, const struct hc_args *a);
void xen_vcpu_scheduled(struct vcpu *v);

#endif
