/* Guest ELF images: validation and loading into guest-physical memory. */
#ifndef CORE_ELF_H
#define CORE_ELF_H

#include "core/types.h"

struct vm;

enum image_kind { IMAGE_ELF32, IMAGE_ELF64 };

/* Modules a guest is given with its image (module= on the command line): the PVH modlist. */
#define GUEST_MAX_MODULES 4
struct guest_module { uint64_t paddr, size; };

struct guest_image {
	enum image_kind kind;      /* how it is entered: a PVH image is IMAGE_ELF32 whatever its class */
	bool pvh;                  /* a XEN_ELFNOTE_PHYS32_ENTRY note gave the entry */
	uint64_t entry;
	uint64_t end;              /* the end of the highest loaded segment */
	const char *cmdline;       /* the guest's own command line */
	unsigned nr_modules;
	struct guest_module modules[GUEST_MAX_MODULES];
};

#define ELF_MAX_SEGMENTS 16

/*
 * Checks `img` completely (header, program headers, every PT_LOAD inside the
 * file, inside guest RAM, clear of the boot area and of each other) before
 * touching guest memory, then copies the segments in and zeroes their bss
 * (unless vm->ram_untouched says guest RAM is still all zero: then the
 * bss already is, and megabytes of zeroing are saved at boot).
 * On failure returns -EINVAL and writes one human-readable reason to `why`.
 */
int elf_load(struct vm *vm, const void *img, size_t len, struct guest_image *out,
             char *why, size_t whylen);

#endif
