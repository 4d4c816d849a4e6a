/*
 * Application processor start-up and the interrupt stubs, for both builds.
 *
 * An AP leaves wait-for-SIPI in real mode at AP_TRAMP_BASE (SDM vol. 3A
 * 8.4.4 / 10.6.1: CS.sel = vector << 8, CS.base = vector << 12, IP = 0).
 * ap_tramp_start..ap_tramp_end is copied there by the BSP; it only gets to
 * flat 32-bit protected mode and jumps into the image, where ap_pm32 takes a
 * stack slot and, in the 64-bit build, enables long mode with the BSP's CR3
 * (the hypervisor's identity map of 0-4 GiB, docs/guest-boot.md).
 */
#include "smp.h"

/* ---- copied to AP_TRAMP_BASE; position-dependent only through that constant ---- */
	.text
	.code16
	.balign 16
	.globl ap_tramp_start
ap_tramp_start:
	cli
	cld
	mov	%cs, %ax
	mov	%ax, %ds
	/* DS:offset, DS.base = AP_TRAMP_BASE */
	lgdtl	tramp_gdtr - ap_tramp_start
	/* CR0 after INIT has CD|NW|ET (SDM table 9-1): write the whole value */
	movl	$(CR0_PE | CR0_ET | CR0_NE), %eax
	movl	%eax, %cr0
	ljmpl	$TRAMP_CS32, $ap_pm32

	.balign 8
tramp_gdt:
	.quad	0
	.quad	0x00cf9a000000ffff	/* 0x08: flat 32-bit code */
	.quad	0x00cf92000000ffff	/* 0x10: flat data */
	.quad	0x00af9a000000ffff	/* 0x18: 64-bit code */
tramp_gdt_end:
tramp_gdtr:
	.word	tramp_gdt_end - tramp_gdt - 1
	.long	AP_TRAMP_BASE + (tramp_gdt - ap_tramp_start)
	.globl ap_tramp_end
ap_tramp_end:

/* ---- runs in place, flat protected mode, paging off ---- */
	.code32
ap_pm32:
	mov	$TRAMP_DS, %eax
	mov	%eax, %ds
	mov	%eax, %es
	mov	%eax, %ss
	mov	%eax, %fs
	mov	%eax, %gs
	/*
	 * A ticket, not the APIC ID, picks the stack: an AP started twice or
	 * reporting a wrong ID still gets a stack of its own and is caught in C.
	 */
	mov	$1, %eax
	lock xaddl %eax, ap_next_slot
	cmp	$AP_SLOTS, %eax
	jae	ap_park32
	mov	%eax, %ebx
	inc	%eax
	imul	$AP_STACK_SIZE, %eax
	add	$ap_stacks, %eax
	mov	%eax, %esp
#ifdef __x86_64__
	mov	%cr4, %eax
	or	$CR4_PAE, %eax
	mov	%eax, %cr4
	mov	ap_boot_cr3, %eax
	mov	%eax, %cr3
	mov	$MSR_EFER, %ecx
	rdmsr
	or	$EFER_LME, %eax
	wrmsr
	mov	$(CR0_PG | CR0_WP | CR0_NE | CR0_ET | CR0_PE), %eax
	mov	%eax, %cr0
	ljmp	$TRAMP_CS64, $ap_lm64

	.code64
ap_lm64:
	mov	%ebx, %edi
	call	ap_main
	.code32
#else
	push	%ebx
	call	ap_main
#endif
	/* ap_main does not return; more APs than slots end here */
ap_park32:
	cli
	hlt
	jmp	ap_park32

/*
 * Interrupt stubs for vectors 0x20..0xff, IRQ_STUB_SIZE bytes apart, with the
 * same frame as the exception stubs (error code 0, then the vector) so that
 * isr_common and exception_handler serve both. Hand-encoded so every stub
 * has the same size in both builds: push imm8 0, push imm32 vector (sign-
 * extended, and positive), jmp rel32, int3 padding.
 */
#ifdef __x86_64__
	.code64
#endif
	.balign IRQ_STUB_SIZE
	.globl irq_stubs
irq_stubs:
	.set	vec, IRQ_FIRST_VEC
	.rept	256 - IRQ_FIRST_VEC
	.byte	0x6a, 0x00
	.byte	0x68
	.long	vec
	.byte	0xe9
	.long	isr_common - (. + 4)
	.fill	IRQ_STUB_SIZE - 12, 1, 0xcc
	.set	vec, vec + 1
	.endr

/*
 * ulong regs_spin(ulong iterations, ulong mmio, uint32_t want, uint32_t *got):
 * fills the general registers not otherwise used with a pattern, then
 * iterations times reads the 32-bit MMIO register at mmio (an emulated
 * exit: the xAPIC ID register), wants want from it, runs a PAUSE and
 * compares every patterned register. Returns 0; or 100 with *got = what the
 * read returned; or which patterned register first changed (1-based, in load
 * order). Interrupt handlers save and restore every register, so only a
 * hypervisor that mixes up or loses vCPU state across exits and vCPU
 * switches can make a check trip.
 */
#define PAT(n)		(0x5a5a0010 + (n))
#define SPIN_BAD_READ	100
	.text
	.globl regs_spin
#ifdef __x86_64__
	.code64
#define SPIN_REGS	rbx, rbp, rsi, rdi, r8, r9, r10, r11, r12, r13, r14, r15
regs_spin:
	push	%rbx
	push	%rbp
	push	%r12
	push	%r13
	push	%r14
	push	%r15
	push	%rcx			/* 8(%rsp): got */
	push	%rdx			/* 0(%rsp): want */
	mov	%rdi, %rcx
	mov	%rsi, %rdx
	.set	n, 1
	.irp	r, SPIN_REGS
	mov	$PAT(n), %\r
	.set	n, n + 1
	.endr
1:	mov	(%rdx), %eax
	cmp	(%rsp), %eax
	jne	5f
	pause
	.set	n, 1
	.irp	r, SPIN_REGS
	cmp	$PAT(n), %\r
	jne	2f
	.set	n, n + 1
	.endr
	dec	%rcx
	jnz	1b
	xor	%eax, %eax
	jmp	3f
5:	mov	8(%rsp), %rcx
	mov	%eax, (%rcx)
	mov	$SPIN_BAD_READ, %eax
	jmp	3f
2:	mov	$1, %ecx
	.set	n, 1
	.irp	r, SPIN_REGS
	cmp	$PAT(n), %\r
	jne	4f
	inc	%ecx
	.set	n, n + 1
	.endr
4:	mov	%ecx, %eax
3:	add	$16, %rsp
	pop	%r15
	pop	%r14
	pop	%r13
	pop	%r12
	pop	%rbp
	pop	%rbx
	ret
#else
#define SPIN_REGS	ebx, ebp, esi, edi
regs_spin:
	push	%ebx
	push	%ebp
	push	%esi
	push	%edi
	mov	20(%esp), %ecx
	mov	24(%esp), %edx
	.set	n, 1
	.irp	r, SPIN_REGS
	mov	$PAT(n), %\r
	.set	n, n + 1
	.endr
1:	mov	(%edx), %eax
	cmp	28(%esp), %eax
	jne	5f
	pause
	.set	n, 1
	.irp	r, SPIN_REGS
	cmp	$PAT(n), %\r
	jne	2f
	.set	n, n + 1
	.endr
	dec	%ecx
	jnz	1b
	xor	%eax, %eax
	jmp	3f
5:	mov	32(%esp), %ecx
	mov	%eax, (%ecx)
	mov	$SPIN_BAD_READ, %eax
	jmp	3f
2:	mov	$1, %ecx
	.set	n, 1
	.irp	r, SPIN_REGS
	cmp	$PAT(n), %\r
	jne	4f
	inc	%ecx
	.set	n, n + 1
	.endr
4:	mov	%ecx, %eax
3:	pop	%edi
	pop	%esi
	pop	%ebp
	pop	%ebx
	ret
#endif

	.data
	.balign 4
	.globl ap_next_slot, ap_boot_cr3
ap_next_slot:
	.long	0
ap_boot_cr3:
	.long	0

	.section .note.GNU-stack, "", @progbits
