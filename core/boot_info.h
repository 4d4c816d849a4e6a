/*
 * The one structure both boot paths (multiboot2 and UEFI) fill before calling
 * hv_main(). Nothing after hv_main() knows which path produced it.
 *
 * This header is shared with the UEFI loader (boot/uefi/), which is built with
 * a different compiler configuration: keep it plain fixed-width data.
 */
#ifndef CORE_BOOT_INFO_H
#define CORE_BOOT_INFO_H

#include <stdint.h>

#define BOOT_INFO_MAGIC     0x4856424fu /* "OBVH" */
#define BOOT_MAX_MMAP       256
#define BOOT_MAX_MODULES    16
#define BOOT_CMDLINE_MAX    1024
#define BOOT_MOD_CMDLINE_MAX 256

enum boot_mem_type {
	BOOT_MEM_USABLE = 1,       /* free RAM once the loader has handed over */
	BOOT_MEM_RESERVED = 2,     /* firmware, MMIO holes, anything unknown */
	BOOT_MEM_ACPI_RECLAIM = 3, /* ACPI tables: we never hand these out */
	BOOT_MEM_ACPI_NVS = 4,
	BOOT_MEM_BAD = 5,
	BOOT_MEM_LOADER = 6,       /* loader data still in use (modules, this struct) */
};

struct boot_mem_region {
	uint64_t base;
	uint64_t len;
	uint32_t type;             /* enum boot_mem_type */
	uint32_t reserved;
};

/*
 * A guest image handed over by the boot loader. The first word of cmdline is
 * the module's name (its path, e.g. "/boot/test-guest64.elf"); the rest is the
 * command line passed to the guest.
 */
struct boot_module {
	uint64_t base;             /* host-physical address of the image */
	uint64_t len;
	char cmdline[BOOT_MOD_CMDLINE_MAX];
};

struct boot_info {
	uint32_t magic;            /* BOOT_INFO_MAGIC */
	uint32_t nr_mmap;
	uint32_t nr_modules;
	uint32_t reserved;
	uint64_t rsdp;             /* host-physical address of the ACPI RSDP, 0 if none */
	char cmdline[BOOT_CMDLINE_MAX];
	struct boot_mem_region mmap[BOOT_MAX_MMAP];
	struct boot_module modules[BOOT_MAX_MODULES];
};

/*
 * The 64-bit entry of hv.elf used by loaders that are already in long mode
 * (the UEFI loader). Contract: CPU in 64-bit mode, paging on with physical
 * memory identity-mapped (at least the hypervisor image and *bi), interrupts
 * disabled, boot services exited, RSP on a stack in BOOT_MEM_LOADER memory.
 * The symbol is `hv_entry64` in hv.elf; it takes the SysV calling convention
 * (bi in RDI) and never returns. The firmware's page tables, GDT and IDT live
 * in memory the map calls usable, so hv_entry64 replaces all three before any
 * page is handed out; BOOT_MEM_LOADER memory is never reclaimed.
 */
typedef void (*hv_entry64_fn)(const struct boot_info *bi) __attribute__((sysv_abi, noreturn));

#endif
