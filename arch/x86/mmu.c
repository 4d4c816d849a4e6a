/*
 * The hypervisor's own page tables: an identity map of everything the memory
 * map lists (RAM write-back, reserved ranges uncached), never executable, with
 * our image split W^X (text R-X, rodata R--, data RW-). Page 0 stays unmapped
 * so a NULL dereference faults.
 */
#define LOG_SUB_FILE LOG_SUB_ARCH   /* its messages: loglevel=arch:LEVEL */
#include "arch/x86/cpu.h"
#include "arch/x86/desc.h"
#include "arch/x86/pt.h"
#include "core/boot_info.h"
#include "core/log.h"

extern char __text_start[], __text_end[], __rodata_start[], __rodata_end[],
	__data_start[], __image_start[], __image_end[];

static struct pt host_pt;

static int map_range_except_image(uint64_t base, uint64_t end, unsigned perm)
{
	uint64_t img_lo = (uintptr_t)__image_start, img_hi = (uintptr_t)__image_end;
	base = MAX(ALIGN_DOWN(base, PAGE_SIZE), PAGE_SIZE);
	end = ALIGN_UP(end, PAGE_SIZE);
	if (end <= base)
		return 0;
	int r = 0;
	if (base < img_lo)
		r = pt_map(&host_pt, base, base, MIN(end, img_lo) - base, perm);
	if (!r && end > img_hi) {
		uint64_t b = MAX(base, img_hi);
		r = pt_map(&host_pt, b, b, end - b, perm);
	}
	return r;
}

int x86_mmu_init(const struct boot_info *bi)
{
	uint32_t id[4];
	cpuid(0x80000001, 0, id);
	pt_use_nx = id[3] & (1u << 20);   /* CPUID 0x80000001 EDX bit 20: NX */
	pt_x86_host.has_1g = pt_x86_npt.has_1g = id[3] & (1u << 26);  /* EDX bit 26: Page1GB */
	if (pt_use_nx)
		wrmsr(MSR_EFER, rdmsr(MSR_EFER) | X86_EFER_NXE);
	if (pt_init(&host_pt, &pt_x86_host))
		return -ENOMEM;
	/* The image first, page by page, so nothing larger covers it. */
	uint64_t t = (uintptr_t)__text_start, r = (uintptr_t)__rodata_start, d = (uintptr_t)__data_start;
	int err = pt_map(&host_pt, t, t, (uintptr_t)__text_end - t, PT_R | PT_X);
	err = err ?: pt_map(&host_pt, r, r, (uintptr_t)__rodata_end - r, PT_R);
	err = err ?: pt_map(&host_pt, d, d, ALIGN_UP((uintptr_t)__image_end, PAGE_SIZE) - d, PT_R | PT_W);
	for (uint32_t i = 0; !err && i < bi->nr_mmap; i++) {
		const struct boot_mem_region *m = &bi->mmap[i];
		if (m->type == BOOT_MEM_BAD || m->base + m->len < m->base)
			continue;
		unsigned perm = PT_R | PT_W | (m->type == BOOT_MEM_RESERVED ? PT_UC : 0);
		err = map_range_except_image(m->base, m->base + m->len, perm);
	}
	/*
	 * Legacy BIOS areas (the RSDP may live in 0xe0000-0xfffff) are absent
	 * from some memory maps: the first MiB is always mapped.
	 */
	err = err ?: map_range_except_image(0, MiB(1), PT_R | PT_W);
	/* the local APIC's registers, usually in no memory-map region */
	cpuid(1, 0, id);
	if (!err && (id[3] & (1u << 9))) {
		uint64_t apic = rdmsr(MSR_IA32_APIC_BASE) & 0x000ffffffffff000ull;
		err = pt_map(&host_pt, apic, apic, PAGE_SIZE, PT_R | PT_W | PT_UC);
	}
	if (err)
		return err;

	write_cr0(read_cr0() | X86_CR0_WP);
	write_cr3(host_pt.root);
	pr_debug("page tables: %u table pages\n", host_pt.nr_tables);
	return 0;
}
