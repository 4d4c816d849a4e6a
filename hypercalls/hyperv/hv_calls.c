/*
 * The Hyper-V calls that act on other virtual processors: TLB flushes and
 * synthetic cluster IPIs, in their mask and HV_VP_SET (Ex) forms (TLFS
 * "Virtual Processor Management" and "Virtual MMU"; the same layouts in
 * Linux include/hyperv/hvgdk_mini.h hv_tlb_flush(_ex), hv_send_ipi(_ex)).
 * hv_call has checked and read the headers; VP index i is vCPU i.
 */
#define LOG_SUB_FILE LOG_SUB_HYPERV   /* its messages: loglevel=hyperv:LEVEL */
#include "core/arch.h"
#include "core/vm.h"
#include "hypercalls/hyperv/hv_abi.h"
#include "hypercalls/hyperv/hyperv.h"

/* The mask of VPs the VM has (VP index i is bit i). */
static uint64_t all_vps(unsigned vp_count)
{
	return vp_count >= 64 ? ~0ull : (1ull << vp_count) - 1;
}

/*
 * An HV_VP_SET at input[at]: format, valid-bank mask, then one qword per
 * valid bank (as many as the variable header says, KVM: hweight64 must
 * equal var_cnt, whatever the format). Bank 0 holds VPs 0-63; VPs beyond
 * the VM's are ignored.
 */
int hv_vp_set(const struct hv_ctx *c, unsigned at, uint64_t *mask, unsigned vp_count)
{
	uint64_t all = all_vps(vp_count);
	uint64_t format = c->input[at], banks = c->input[at + 1];
	/* the bank count is checked for "all" too (KVM kvm_hv_flush_tlb, kvm_hv_send_ipi check it first) */
	if ((format != HV_GENERIC_SET_ALL && format != HV_GENERIC_SET_SPARSE_4K) || popcount64(banks) != c->in.varhead)
		return -1;
	if (format == HV_GENERIC_SET_ALL) {
		*mask = all;
		return 0;
	}
	*mask = (banks & 1) ? c->input[at + 2] & all : 0;   /* bank 0 is the first one listed */
	return 0;
}

static bool is_ex(uint16_t code)
{
	return code == HVCALL_FLUSH_VIRTUAL_ADDRESS_SPACE_EX || code == HVCALL_FLUSH_VIRTUAL_ADDRESS_LIST_EX ||
	       code == HVCALL_SEND_IPI_EX;
}

/* A list flush's element, a GVA range: only read, as the flush covers every address anyway. */
static uint16_t flush_element(struct hv_ctx *c, unsigned i)
{
	return hv_rep_elem(c, i) ? HV_STATUS_SUCCESS : HV_STATUS_INVALID_HYPERCALL_INPUT;
}

/*
 * FlushVirtualAddressSpace/List(Ex): every named VP's TLB is flushed before
 * it runs again; with one physical CPU that is before any of them runs, so
 * the flush is complete when the call returns. A list flush flushes
 * everything too: its elements (GVA ranges) are taken one by one within the
 * call's time budget, and the call is continued when that runs out.
 */
uint16_t hv_flush(struct hv_ctx *c)
{
	struct vm *vm = c->v->vm;
	uint64_t flags = c->input[1], mask;
	if (flags & ~HV_FLUSH_VALID_FLAGS)
		return HV_STATUS_INVALID_PARAMETER;
	if (flags & HV_FLUSH_ALL_PROCESSORS)
		mask = all_vps(vm->nr_vcpus);
	else if (!is_ex(c->in.code))
		mask = c->input[2] & all_vps(vm->nr_vcpus);
	else if (hv_vp_set(c, 2, &mask, vm->nr_vcpus))
		return HV_STATUS_INVALID_HYPERCALL_INPUT;
	bool list = c->in.code == HVCALL_FLUSH_VIRTUAL_ADDRESS_LIST ||
	            c->in.code == HVCALL_FLUSH_VIRTUAL_ADDRESS_LIST_EX;
	if (list) {
		uint16_t status = hv_rep_each(c, flush_element);
		if (status)
			return status;
	}
	for (unsigned i = 0; i < vm->nr_vcpus; i++)
		if (mask & (1ull << i))
			arch_flush_guest_tlb(vm->vcpus[i]);
	return HV_STATUS_SUCCESS;
}

/*
 * SendSyntheticClusterIpi(Ex): a fixed interrupt with `vector` to each named
 * VP. The vector must be 0x10-0xff and the target VTL 0 (no VTLs here).
 */
uint16_t hv_send_ipi(struct hv_ctx *c)
{
	struct vm *vm = c->v->vm;
	uint32_t vector = (uint32_t)c->input[0];
	uint32_t vtl_and_reserved = (uint32_t)(c->input[0] >> 32);
	uint64_t mask;
	if (vector < HV_IPI_LOW_VECTOR || vector > HV_IPI_HIGH_VECTOR || vtl_and_reserved)
		return HV_STATUS_INVALID_HYPERCALL_INPUT;
	if (c->in.code == HVCALL_SEND_IPI)
		mask = c->input[1] & all_vps(vm->nr_vcpus);
	else if (hv_vp_set(c, 1, &mask, vm->nr_vcpus))
		return HV_STATUS_INVALID_HYPERCALL_INPUT;
	for (unsigned i = 0; i < vm->nr_vcpus; i++)
		if (mask & (1ull << i))
			arch_send_ipi(vm->vcpus[i], vector);   /* ICR: fixed delivery, edge */
	return HV_STATUS_SUCCESS;
}
