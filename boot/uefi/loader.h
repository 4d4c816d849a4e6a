/* Shared between the pieces of hv.efi, the UEFI loader of hv.elf. */
#ifndef BOOT_UEFI_LOADER_H
#define BOOT_UEFI_LOADER_H

#include <efi.h>
#include <efilib.h>

#include "core/boot_info.h"

/* The multiboot2 path hands over 32-bit addresses: keep the UEFI path alike. */
#define LOADER_MAX_ADDR 0xffffffffull

#define LOADER_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* AllocatePages, remembering the pages so a failed boot can give them back. */
EFI_STATUS loader_alloc(EFI_ALLOCATE_TYPE how, EFI_MEMORY_TYPE type, UINTN pages,
			EFI_PHYSICAL_ADDRESS *at);
void loader_free_all(void);
/* EfiLoaderData pages below 4 GiB. */
EFI_STATUS loader_alloc_low(UINTN pages, uint64_t *at);

/* Fills bi->cmdline and bi->modules (config.c has the rules). */
EFI_STATUS load_config(EFI_HANDLE image, struct boot_info *bi);

/* Checks the embedded hv.elf, places its segments and returns hv_entry64. */
EFI_STATUS hv_image_load(const uint8_t *blob, uint64_t size, uint64_t *entry);

/*
 * Fills bi->mmap from the final firmware map and leaves boot services. An
 * error before the ExitBootServices call is returned; after it the firmware
 * is half shut down and the function halts instead.
 */
EFI_STATUS leave_firmware(EFI_HANDLE image, struct boot_info *bi);

#endif
