/*
 * A 4-level x86-style page table builder shared by the hypervisor's own page
 * tables and the stage-2 tables (NPT now, EPT later). The format hooks
 * encode entries; the walk is written once.
 */
#ifndef ARCH_X86_PT_H
#define ARCH_X86_PT_H

#include "core/types.h"

#define PT_R  1u
#define PT_W  2u
#define PT_X  4u
#define PT_UC 8u   /* uncached (device memory) */

struct pt_format {
	uint64_t (*table)(hpa_t next);                       /* entry pointing to a lower table */
	uint64_t (*leaf)(hpa_t pa, unsigned perm, bool large); /* large: 2 MiB / 1 GiB */
	bool (*present)(uint64_t e);
	bool (*is_large)(uint64_t e);
	uint64_t addr_mask;
	bool has_2m;                                          /* may map 2 MiB leaves */
	bool has_1g;                                          /* may map 1 GiB leaves */
};

struct pt {
	hpa_t root;
	const struct pt_format *fmt;
	unsigned nr_tables;
};

int pt_init(struct pt *pt, const struct pt_format *fmt);
/*
 * Maps [va, va+size) to [pa, pa+size) with the largest pages that alignment
 * allows. Ranges that are already mapped keep their first mapping.
 * Returns 0 or -ENOMEM.
 */
int pt_map(struct pt *pt, uint64_t va, hpa_t pa, uint64_t size, unsigned perm);
/*
 * One 4 KiB page of an existing map: va -> pa with `perm`, or not present.
 * A large leaf over it is split first into leaves of the next size with
 * `perm` (a large leaf maps one slot, so the same permissions). The caller
 * invalidates cached translations. 0 or -ENOMEM.
 */
int pt_set_page(struct pt *pt, uint64_t va, hpa_t pa, unsigned perm, bool present);
/* Frees every table page (not the memory mapped). */
void pt_destroy(struct pt *pt);

/*
 * The large-page sizes a format may use are set at start-up from what the CPU
 * offers (CPUID 0x80000001 EDX.Page1GB for ours and NPT; EPT's capability MSR).
 */
/* False on CPUs without NX (CPUID 0x80000001 EDX bit 20): the bit is then reserved. */
extern bool pt_use_nx;

/* The standard x86-64 4-level format: `user` sets U/S on every level (NPT needs it). */
extern struct pt_format pt_x86_host, pt_x86_npt;

#endif
