/*
 * The hand-over: the last memory map, translated into bi->mmap, then
 * ExitBootServices. Between the final GetMemoryMap and ExitBootServices
 * nothing may allocate (or Print, which may allocate): the map key would go
 * stale. The translation only writes into *bi, allocated long before.
 */
#include "loader.h"

/* Descriptors that allocating the map buffer itself may add. */
#define MAP_SLACK 16

struct efi_map {
	EFI_MEMORY_DESCRIPTOR *buf;
	UINTN cap, size, key, desc_size;
	UINT32 desc_ver;
};

static uint32_t boot_type(UINT32 efi_type)
{
	switch (efi_type) {
	case EfiConventionalMemory:
	case EfiBootServicesCode:
	case EfiBootServicesData:
		return BOOT_MEM_USABLE;
	case EfiLoaderCode:
	case EfiLoaderData:
		return BOOT_MEM_LOADER;
	case EfiACPIReclaimMemory:
		return BOOT_MEM_ACPI_RECLAIM;
	case EfiACPIMemoryNVS:
		return BOOT_MEM_ACPI_NVS;
	case EfiUnusableMemory:
		return BOOT_MEM_BAD;
	default:
		return BOOT_MEM_RESERVED;
	}
}

static void remove_region(struct boot_info *bi, uint32_t i)
{
	for (bi->nr_mmap--; i < bi->nr_mmap; i++)
		bi->mmap[i] = bi->mmap[i + 1];
}

static int insert_region(struct boot_info *bi, uint32_t i, uint64_t base, uint64_t len,
			 uint32_t type)
{
	if (bi->nr_mmap == BOOT_MAX_MMAP)
		return 0;
	for (uint32_t j = bi->nr_mmap++; j > i; j--)
		bi->mmap[j] = bi->mmap[j - 1];
	bi->mmap[i] = (struct boot_mem_region){ .base = base, .len = len, .type = type };
	return 1;
}

/*
 * Keeps bi->mmap sorted by base with same-type neighbours merged: the spec
 * does not promise a sorted firmware map, and merging is what keeps a
 * fragmented one within BOOT_MAX_MMAP. Returns 0 when the table is full.
 */
static int add_region(struct boot_info *bi, uint64_t base, uint64_t len, uint32_t type)
{
	struct boot_mem_region *m = bi->mmap;
	uint32_t i = bi->nr_mmap;

	while (i > 0 && m[i - 1].base > base)
		i--;
	if (i > 0 && m[i - 1].type == type && m[i - 1].base + m[i - 1].len == base) {
		m[i - 1].len += len;
		if (i < bi->nr_mmap && m[i].type == type && base + len == m[i].base) {
			m[i - 1].len += m[i].len;
			remove_region(bi, i);
		}
		return 1;
	}
	if (i < bi->nr_mmap && m[i].type == type && base + len == m[i].base) {
		m[i].base = base;
		m[i].len += len;
		return 1;
	}
	return insert_region(bi, i, base, len, type);
}

static int convert_map(struct boot_info *bi, const struct efi_map *mm)
{
	bi->nr_mmap = 0;
	for (UINTN off = 0; off + mm->desc_size <= mm->size; off += mm->desc_size) {
		const EFI_MEMORY_DESCRIPTOR *d = (const void *)((const uint8_t *)mm->buf + off);

		if (d->NumberOfPages &&
		    !add_region(bi, d->PhysicalStart, d->NumberOfPages * EFI_PAGE_SIZE,
				boot_type(d->Type)))
			return 0;
	}
	return 1;
}

static EFI_STATUS read_map(struct efi_map *mm)
{
	mm->size = mm->cap;
	return uefi_call_wrapper(BS->GetMemoryMap, 5, &mm->size, mm->buf, &mm->key,
				 &mm->desc_size, &mm->desc_ver);
}

/* Ends with a successful read into a buffer big enough for a retry without allocating. */
static EFI_STATUS first_map(struct efi_map *mm)
{
	EFI_STATUS st;

	mm->buf = NULL;
	mm->cap = 0;
	while ((st = read_map(mm)) == EFI_BUFFER_TOO_SMALL) {
		if (mm->buf)
			FreePool(mm->buf);
		mm->cap = mm->size + MAP_SLACK * mm->desc_size;
		mm->buf = AllocatePool(mm->cap);
		if (!mm->buf)
			return EFI_OUT_OF_RESOURCES;
	}
	return st;
}

/* The console is gone once ExitBootServices was called; COM1 is the last resort. */
static void __attribute__((noreturn)) halt(const char *why)
{
	for (; *why; why++)
		__asm__ volatile("outb %0, %1" : : "a"(*why), "Nd"((uint16_t)0x3f8));
	for (;;)
		__asm__ volatile("cli; hlt");
}

EFI_STATUS leave_firmware(EFI_HANDLE image, struct boot_info *bi)
{
	struct efi_map mm;
	EFI_STATUS st = first_map(&mm);

	if (EFI_ERROR(st)) {
		Print(L"hv.efi: cannot read the memory map: %r\n", st);
		return st;
	}
	if (!convert_map(bi, &mm)) {
		FreePool(mm.buf);
		Print(L"hv.efi: memory map has more than %d regions\n", BOOT_MAX_MMAP);
		return EFI_BUFFER_TOO_SMALL;
	}
	st = uefi_call_wrapper(BS->ExitBootServices, 2, image, mm.key);
	if (st == EFI_INVALID_PARAMETER) {
		/*
		 * An event changed the map. Only GetMemoryMap is allowed now, so a
		 * map that no longer fits is cut short: what is missing from bi->mmap
		 * is never used as RAM, which is safe, merely wasteful.
		 */
		st = read_map(&mm);
		if (!EFI_ERROR(st)) {
			convert_map(bi, &mm);
			st = uefi_call_wrapper(BS->ExitBootServices, 2, image, mm.key);
		}
	}
	if (EFI_ERROR(st))
		halt("hv.efi: ExitBootServices failed\r\n");
	return EFI_SUCCESS;
}
