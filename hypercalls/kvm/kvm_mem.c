/*
 * KVM_HC_MAP_GPA_RANGE (Documentation/virt/kvm/x86/hypercalls.rst): a guest
 * declares a range of its pages encrypted or shared. KVM checks the
 * alignment, a non-zero count and overflow (x86.c) and hands the rest to
 * its VMM; we are both, so we also check the attribute bits and that the
 * range is guest RAM, and record the attribute per page.
 */
#define LOG_SUB_FILE LOG_SUB_KVM   /* its messages: loglevel=kvm:LEVEL */
#include "core/arch.h"
#include "core/pmm.h"
#include "core/vm.h"
#include "hypercalls/kvm/kvm.h"
#include "hypercalls/kvm/kvm_abi.h"

static size_t bitmap_pages(const struct vm *vm)
{
	uint64_t bits = vm->mem_size >> PAGE_SHIFT;
	return ALIGN_UP(ALIGN_UP(bits, 64) / 8, PAGE_SIZE) >> PAGE_SHIFT;
}

void kvm_mem_vm_destroy(struct vm *vm)
{
	struct kvm_vm_state *k = &vm->hc.kvm;
	if (k->encrypted)
		pmm_free(k->encrypted_pa, bitmap_pages(vm));
	k->encrypted = NULL;
}

/* a0: GPA (4 KiB aligned), a1: number of 4 KiB pages, a2: attributes. */
int64_t kvm_hc_map_gpa_range(struct vcpu *v, const struct hc_args *a)
{
	struct kvm_vm_state *k = &v->vm->hc.kvm;
	uint64_t gpa = a->arg[0], npages = a->arg[1], attrs = a->arg[2];
	uint64_t gfn = gpa >> PAGE_SHIFT, end = gfn + npages;
	if (!IS_ALIGNED(gpa, PAGE_SIZE) || !npages || end <= gfn)
		return -KVM_EINVAL;
	if ((attrs & ~(KVM_MAP_GPA_RANGE_PAGE_SZ_MASK | KVM_MAP_GPA_RANGE_ENCRYPTED)) ||
	    (attrs & KVM_MAP_GPA_RANGE_PAGE_SZ_MASK) > KVM_MAP_GPA_RANGE_PAGE_SZ_1G)
		return -KVM_EINVAL;
	if (end > v->vm->mem_size >> PAGE_SHIFT)
		return -KVM_EINVAL;     /* only guest RAM has an encryption attribute */
	if (!k->encrypted) {
		k->encrypted_pa = pmm_alloc(bitmap_pages(v->vm), PAGE_SIZE);
		if (!k->encrypted_pa)
			return -KVM_ENOMEM;
		k->encrypted = arch_phys_to_virt(k->encrypted_pa);
	}
	bool enc = attrs & KVM_MAP_GPA_RANGE_ENCRYPTED;
	for (uint64_t f = gfn; f < end; f++) {
		uint64_t bit = 1ull << (f % 64), *w = &k->encrypted[f / 64];
		if (!!(*w & bit) == enc)
			continue;
		*w ^= bit;
		if (enc)
			k->nr_encrypted++;
		else
			k->nr_encrypted--;
	}
	return 0;
}
