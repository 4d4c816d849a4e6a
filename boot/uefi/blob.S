/*
 * hv.elf travels inside hv.efi. elf_x86_64_efi.lds folds .rodata* into the PE
 * .data section; the alignment lets elf.c read the ELF headers in place.
 * HV_ELF_PATH comes from uefi.mk, which also makes this object depend on it.
 */
	.section .rodata.hv_blob, "a"
	.balign 16
	.globl hv_blob_start, hv_blob_end
	.hidden hv_blob_start, hv_blob_end
hv_blob_start:
	.incbin HV_ELF_PATH
hv_blob_end:

	.section .note.GNU-stack, "", @progbits
