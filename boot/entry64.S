/*
 * Shared boot data (GDT, boot page tables, boot stack) and the 64-bit entry
 * used by loaders that are already in long mode (the UEFI loader).
 */
#include "boot/boot_asm.h"

	.section .text.boot, "ax"
	.code64
/*
 * hv_entry64(const struct boot_info *bi): contract in core/boot_info.h.
 * The firmware's page tables and GDT live in memory we are about to hand out,
 * so switch to our own before calling any C code.
 */
	.globl hv_entry64
hv_entry64:
	cli
	cld
	mov	%rdi, %r12
	lgdt	boot_gdt_desc
	mov	$boot_stack_top, %rsp
	pushq	$BOOT_CS64
	lea	1f(%rip), %rax
	pushq	%rax
	lretq
1:	mov	$BOOT_DS, %eax
	mov	%eax, %ds
	mov	%eax, %es
	mov	%eax, %ss
	xor	%eax, %eax
	mov	%eax, %fs
	mov	%eax, %gs
	call	boot_build_identity_map64
	mov	$boot_pml4, %eax
	mov	%rax, %cr3
	mov	%r12, %rdi
	xor	%ebp, %ebp
	call	uefi_main
2:	cli
	hlt
	jmp	2b

/* Same 0-4 GiB identity map as the 32-bit path builds (boot/mb2_entry.S). */
boot_build_identity_map64:
	lea	boot_pdpt(%rip), %rax
	or	$(PTE_P | PTE_W), %rax
	mov	%rax, boot_pml4(%rip)
	xor	%ecx, %ecx
1:	mov	%rcx, %rax
	shl	$12, %rax
	lea	boot_pd(%rip), %rdx
	add	%rdx, %rax
	or	$(PTE_P | PTE_W), %rax
	lea	boot_pdpt(%rip), %rdx
	mov	%rax, (%rdx,%rcx,8)
	inc	%ecx
	cmp	$4, %ecx
	jb	1b
	xor	%ecx, %ecx
	lea	boot_pd(%rip), %rdx
2:	mov	%rcx, %rax
	shl	$21, %rax
	or	$(PTE_P | PTE_W | PTE_PS), %rax
	mov	%rax, (%rdx,%rcx,8)
	inc	%ecx
	cmp	$2048, %ecx
	jb	2b
	ret

	.section .rodata
	.balign 16
	.globl boot_gdt
boot_gdt:
	.quad 0
	.quad 0x00af9a000000ffff	/* 0x08: 64-bit code, DPL 0 */
	.quad 0x00cf92000000ffff	/* 0x10: flat data */
boot_gdt_end:
	.globl boot_gdt_desc
boot_gdt_desc:
	.word boot_gdt_end - boot_gdt - 1
	.quad boot_gdt

	.section .bss
	.balign 4096
	.globl boot_pml4, boot_pdpt, boot_pd
boot_pml4:	.skip 4096
boot_pdpt:	.skip 4096
boot_pd:	.skip 4 * 4096
	.globl boot_stack_top
boot_stack:	.skip BOOT_STACK_SIZE
boot_stack_top:
