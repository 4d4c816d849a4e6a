/*
 * Guest-linear to guest-physical translation through the guest's own page
 * tables (Intel SDM vol. 3A ch. 4: no paging, 32-bit, PAE, 4-level), used to
 * fetch the bytes of an instruction the hardware did not decode for us
 * (VMCALL arriving as #UD on AMD). Table entries are read through core/gmem.h.
 * Access rights are not checked: this reads, on the guest's behalf, the
 * instruction the guest was executing.
 */
#define LOG_SUB_FILE LOG_SUB_ARCH   /* its messages: loglevel=arch:LEVEL */
#include "arch/x86/cpu.h"
#include "arch/x86/vendor.h"
#include "arch/x86/x86.h"
#include "core/gmem.h"
#include "core/string.h"
#include "core/vm.h"

#define PTE_P  1ull
#define PTE_PS (1ull << 7)
#define PAE_ADDR 0x000ffffffffff000ull

static int read_entry(struct vm *vm, uint64_t gpa, bool wide, uint64_t *e)
{
	uint32_t e32;
	if (wide)
		return gmem_read(vm, mk_gpa(gpa), e, 8);
	int r = gmem_read(vm, mk_gpa(gpa), &e32, 4);
	*e = e32;
	return r;
}

int x86_linear_to_gpa(struct vcpu *v, const struct x86_paging *pg, uint64_t la, uint64_t *gpa)
{
	if (!(pg->cr0 & X86_CR0_PG)) {
		*gpa = la & UINT32_MAX;
		return 0;
	}
	if (pg->cr4 & X86_CR4_LA57)
		return -EFAULT;         /* 5-level paging is not offered to guests (CPUID hides LA57) */
	bool pae = pg->cr4 & X86_CR4_PAE;
	bool lm = pg->efer & X86_EFER_LMA;
	unsigned levels = lm ? 4 : pae ? 3 : 2;
	uint64_t table = pae ? (lm ? pg->cr3 & PAE_ADDR : pg->cr3 & 0xffffffe0u) : pg->cr3 & 0xfffff000u;
	uint64_t e = 0;

	for (unsigned level = levels; level >= 1; level--) {
		unsigned shift = pae ? 12 + 9 * (level - 1) : 12 + 10 * (level - 1);
		uint64_t idx = pae ? (la >> shift) & 511 : (la >> shift) & 1023;
		if (pae && !lm && level == 3)
			idx = (la >> 30) & 3;   /* PDPTE: 4 entries, 8 bytes each */
		if (read_entry(v->vm, table + idx * (pae ? 8 : 4), pae, &e) || !(e & PTE_P))
			return -EFAULT;
		/*
		 * PS maps a page only in a PDE (2 MiB, or 4 MiB with CR4.PSE without
		 * PAE) and in a long-mode PDPTE (1 GiB); in a PML4E it is reserved,
		 * which faults (SDM vol. 3A §4.5.4, table 4-15).
		 */
		bool ps = e & PTE_PS;
		if (lm && level == 4 && ps)
			return -EFAULT;
		bool large = ps && (level == 2 || (lm && level == 3));
		if (!pae && level == 2 && large && !(pg->cr4 & X86_CR4_PSE))
			large = false;
		if (large || level == 1) {
			uint64_t size = 1ull << shift;
			uint64_t base = pae ? e & PAE_ADDR & ~(size - 1) : e & 0xfffff000u & ~(size - 1);
			/* PSE-36: a 4 MiB PDE carries physical address bits 39:32 in bits 20:13 (SDM table 4-4) */
			if (!pae && level == 2)
				base |= ((e >> 13) & 0xff) << 32;
			*gpa = base | (la & (size - 1));
			return 0;
		}
		table = pae ? e & PAE_ADDR : e & 0xfffff000u;
	}
	return -EFAULT;
}

int x86_read_linear(struct vcpu *v, const struct x86_paging *pg, uint64_t la, void *buf, size_t len)
{
	for (size_t done = 0, n = 0; done < len; done += n) {
		uint64_t gpa;
		n = MIN(len - done, PAGE_SIZE - ((la + done) & (PAGE_SIZE - 1)));
		if (x86_linear_to_gpa(v, pg, la + done, &gpa) ||
		    gmem_read(v->vm, mk_gpa(gpa), (uint8_t *)buf + done, n))
			return -EFAULT;
	}
	return 0;
}
