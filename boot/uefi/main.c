/*
 * hv.efi: places the embedded hv.elf at its link address, loads the guests
 * named on its command line (config.c), and enters hv_entry64 with a
 * struct boot_info once boot services are gone.
 */
#include "loader.h"

/* hv_entry64 gets a stack of its own: the firmware's is boot-services memory,
 * which bi->mmap calls usable. */
#define STACK_PAGES 16

extern const uint8_t hv_blob_start[] __attribute__((visibility("hidden")));
extern const uint8_t hv_blob_end[] __attribute__((visibility("hidden")));

static struct {
	EFI_PHYSICAL_ADDRESS at;
	UINTN pages;
} allocs[48];
static UINTN nr_allocs;

EFI_STATUS loader_alloc(EFI_ALLOCATE_TYPE how, EFI_MEMORY_TYPE type, UINTN pages,
			EFI_PHYSICAL_ADDRESS *at)
{
	EFI_STATUS st;

	if (nr_allocs == LOADER_ARRAY_SIZE(allocs))
		return EFI_OUT_OF_RESOURCES;
	st = uefi_call_wrapper(BS->AllocatePages, 4, how, type, pages, at);
	if (!EFI_ERROR(st)) {
		allocs[nr_allocs].at = *at;
		allocs[nr_allocs++].pages = pages;
	}
	return st;
}

/* The firmware may try another boot option next, maybe one needing these pages. */
void loader_free_all(void)
{
	while (nr_allocs) {
		nr_allocs--;
		uefi_call_wrapper(BS->FreePages, 2, allocs[nr_allocs].at, allocs[nr_allocs].pages);
	}
}

EFI_STATUS loader_alloc_low(UINTN pages, uint64_t *at)
{
	EFI_PHYSICAL_ADDRESS a = LOADER_MAX_ADDR;
	EFI_STATUS st = loader_alloc(AllocateMaxAddress, EfiLoaderData, pages, &a);

	*at = a;
	return st;
}

static uint64_t find_rsdp(void)
{
	static EFI_GUID guids[] = { ACPI_20_TABLE_GUID, ACPI_TABLE_GUID };

	for (UINTN g = 0; g < LOADER_ARRAY_SIZE(guids); g++)
		for (UINTN i = 0; i < ST->NumberOfTableEntries; i++)
			if (!CompareMem(&ST->ConfigurationTable[i].VendorGuid, &guids[g],
					sizeof(EFI_GUID)))
				return (uintptr_t)ST->ConfigurationTable[i].VendorTable;
	return 0;
}

static void __attribute__((noreturn)) enter_hv(uint64_t entry, const struct boot_info *bi,
					       uint64_t stack_top)
{
	hv_entry64_fn fn = (hv_entry64_fn)entry;

	/* SysV by hand (bi in RDI) because the stack changes under the call. */
	__asm__ volatile("cli\n\t"
			 "mov %0, %%rsp\n\t"
			 "xor %%ebp, %%ebp\n\t"
			 "call *%1\n\t"
			 "ud2"
			 : : "r"(stack_top), "r"(fn), "D"(bi) : "memory");
	__builtin_unreachable();
}

/* Not EFIAPI: gnu-efi's crt0 converts to the SysV convention before calling it. */
EFI_STATUS efi_main(EFI_HANDLE image, EFI_SYSTEM_TABLE *systab)
{
	uint64_t entry, bi_at = 0, stack = 0;
	struct boot_info *bi;
	EFI_STATUS st;

	InitializeLib(image, systab);
	Print(L"hv.efi: loading hypervisor\n");
	/* Before any other allocation can take the hypervisor's fixed address. */
	st = hv_image_load(hv_blob_start, hv_blob_end - hv_blob_start, &entry);
	if (!EFI_ERROR(st))
		st = loader_alloc_low(EFI_SIZE_TO_PAGES(sizeof(*bi)), &bi_at);
	if (!EFI_ERROR(st))
		st = loader_alloc_low(STACK_PAGES, &stack);
	bi = (struct boot_info *)(uintptr_t)bi_at;
	if (!EFI_ERROR(st)) {
		ZeroMem(bi, sizeof(*bi));
		bi->magic = BOOT_INFO_MAGIC;
		bi->rsdp = find_rsdp();
		st = load_config(image, bi);
	}
	if (!EFI_ERROR(st)) {
		Print(L"hv.efi: entry 0x%lx, rsdp 0x%lx, %d guest(s); exiting boot services\n",
		      entry, bi->rsdp, bi->nr_modules);
		st = leave_firmware(image, bi);
	}
	if (EFI_ERROR(st)) {
		Print(L"hv.efi: not started: %r\n", st);
		loader_free_all();
		return st;
	}
	enter_hv(entry, bi, stack + STACK_PAGES * EFI_PAGE_SIZE);
}
