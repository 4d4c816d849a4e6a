/*
 * Multiboot2 header and the 32-bit entry GRUB (BIOS or EFI) jumps to.
 * Multiboot2 spec §3.3 machine state: 32-bit protected mode, paging off,
 * EAX = 0x36d76289, EBX = physical address of the boot information, no stack.
 * We build an identity map of the low 4 GiB, enter long mode and call
 * mb2_main(magic, info) on the boot stack.
 */
#include "boot/boot_asm.h"

#define MB2_HEADER_MAGIC 0xe85250d6  /* multiboot2 spec §3.1.2 */
#define MB2_ARCH_I386    0

	.section .multiboot2, "a"
	.balign 8
	.globl mb2_header
mb2_header:
	.long MB2_HEADER_MAGIC
	.long MB2_ARCH_I386
	.long mb2_header_end - mb2_header
	.long -(MB2_HEADER_MAGIC + MB2_ARCH_I386 + (mb2_header_end - mb2_header))
	/* end tag (type 0, size 8) */
	.word 0, 0
	.long 8
mb2_header_end:

	.section .text.boot, "ax"
	.code32
	.globl mb2_entry32
mb2_entry32:
	cli
	cld
	mov	%eax, %edi		/* keep magic and info for mb2_main */
	mov	%ebx, %esi
	mov	$boot_stack_top, %esp

	/* Long mode needs CPUID 0x80000001 EDX bit 29 (LM). */
	mov	$0x80000000, %eax
	cpuid
	cmp	$0x80000001, %eax
	jb	.Lno_long_mode
	mov	$0x80000001, %eax
	cpuid
	bt	$29, %edx
	jnc	.Lno_long_mode

	call	boot_build_identity_map32

	mov	%cr4, %eax
	or	$CR4_PAE, %eax
	mov	%eax, %cr4
	mov	$boot_pml4, %eax
	mov	%eax, %cr3
	mov	$MSR_EFER, %ecx
	rdmsr
	or	$EFER_LME, %eax
	wrmsr
	mov	%cr0, %eax
	or	$(CR0_PG | CR0_PE | CR0_WP), %eax
	mov	%eax, %cr0

	lgdt	boot_gdt_desc
	ljmp	$BOOT_CS64, $.Lentry64

.Lno_long_mode:
	mov	$msg_no_lm, %esi
	mov	$COM1_PORT, %dx
1:	lodsb
	test	%al, %al
	jz	2f
	out	%al, %dx
	jmp	1b
2:	hlt
	jmp	2b

/*
 * PML4[0] -> PDPT; PDPT[0..3] -> four page directories of 2 MiB pages:
 * an identity map of 0-4 GiB, enough for the image, the boot information
 * and the modules (all below 4 GiB by the multiboot2 spec).
 */
boot_build_identity_map32:
	mov	$boot_pdpt, %eax
	or	$(PTE_P | PTE_W), %eax
	mov	%eax, boot_pml4
	xor	%ecx, %ecx
1:	mov	%ecx, %eax
	shl	$12, %eax
	add	$boot_pd, %eax
	or	$(PTE_P | PTE_W), %eax
	mov	%eax, boot_pdpt(,%ecx,8)
	inc	%ecx
	cmp	$4, %ecx
	jb	1b
	xor	%ecx, %ecx
2:	mov	%ecx, %eax
	shl	$21, %eax
	or	$(PTE_P | PTE_W | PTE_PS), %eax
	mov	%eax, boot_pd(,%ecx,8)
	mov	%ecx, %eax
	shr	$11, %eax		/* high dword of the 2 MiB frame address */
	mov	%eax, boot_pd+4(,%ecx,8)
	inc	%ecx
	cmp	$2048, %ecx
	jb	2b
	ret

	.code64
.Lentry64:
	mov	$BOOT_DS, %eax
	mov	%eax, %ds
	mov	%eax, %es
	mov	%eax, %ss
	xor	%eax, %eax
	mov	%eax, %fs
	mov	%eax, %gs
	/* edi = magic, esi = info: already the SysV argument registers */
	mov	%edi, %edi
	mov	%esi, %esi
	mov	$boot_stack_top, %rsp
	xor	%ebp, %ebp
	call	mb2_main
1:	cli
	hlt
	jmp	1b

	.section .rodata
msg_no_lm:
	.asciz "hv: this CPU has no 64-bit long mode; cannot run\r\n"
