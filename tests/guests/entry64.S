/*
 * ELF64 test guest: entry, exception stubs, and the probes that need exact
 * control of registers or privilege level.
 *
 * The entry contract (docs/guest-boot.md) gives long mode, CS = 0x08, RBX =
 * RDI = start info, and RSP = 0: no stack until we set one.
 */
#include "guest.h"

	.code64

	.section .text.entry, "ax", @progbits
	.globl _start
_start:
	cld
	mov	%rbx, %r12
	mov	%rdi, %r13
	/* The contract doesn't say guest RAM outside the image is zero. */
	lea	__bss_start(%rip), %rdi
	lea	__bss_end(%rip), %rcx
	sub	%rdi, %rcx
	xor	%eax, %eax
	rep stosb
	lea	boot_stack_top(%rip), %rsp
	mov	%r12, %rdi
	mov	%r13, %rsi
	call	guest_main
1:	cli
	hlt
	jmp	1b

	.text

/* void cpu_load_tables(const void *gdtr, const void *idtr, ulong tss_sel) */
	.globl cpu_load_tables
cpu_load_tables:
	lgdt	(%rdi)
	lidt	(%rsi)
	/* CS still holds the hypervisor's descriptor until a far transfer reloads it. */
	pushq	$SEL_KCODE
	lea	1f(%rip), %rax
	push	%rax
	lretq
1:	mov	$SEL_KDATA, %eax
	mov	%eax, %ds
	mov	%eax, %es
	mov	%eax, %ss
	mov	%eax, %fs
	mov	%eax, %gs
	test	%edx, %edx
	jz	2f
	ltr	%dx
2:	ret

/*
 * One stub per exception vector; those for which the CPU pushes no error code
 * push a zero so that isr_common sees one frame layout.
 */
.macro ISR vec
isr_\vec:
	.if ((ERRCODE_VECTORS >> \vec) & 1) == 0
	pushq	$0
	.endif
	pushq	$\vec
	jmp	isr_common
.endm

.irp v, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
	ISR	\v
.endr

/*
 * The CPU aligns RSP to 16 before pushing its 5 words; with error code,
 * vector and 15 registers the call below is made with RSP 16-aligned.
 * Global: smp_entry.S's interrupt stubs end here too.
 */
	.globl isr_common
isr_common:
	push	%r15
	push	%r14
	push	%r13
	push	%r12
	push	%r11
	push	%r10
	push	%r9
	push	%r8
	push	%rbp
	push	%rdi
	push	%rsi
	push	%rdx
	push	%rcx
	push	%rbx
	push	%rax
	mov	%rsp, %rdi
	cld
	call	exception_handler
	pop	%rax
	pop	%rbx
	pop	%rcx
	pop	%rdx
	pop	%rsi
	pop	%rdi
	pop	%rbp
	pop	%r8
	pop	%r9
	pop	%r10
	pop	%r11
	pop	%r12
	pop	%r13
	pop	%r14
	pop	%r15
	add	$16, %rsp
	iretq

/*
 * ulong user_call(ulong nr, void (*fn)(void))
 *
 * Saves the callee-saved registers and RSP, then IRETs to fn at CPL 3 with
 * RAX = nr and interrupts off. fn ends with int $0x80 into isr_user_return,
 * which drops the interrupt frame, restores the saved state and returns RAX
 * (whatever fn's hypercall left there) to our caller.
 */
	.globl user_call
user_call:
	push	%rbx
	push	%rbp
	push	%r12
	push	%r13
	push	%r14
	push	%r15
	mov	%rsp, user_call_saved_rsp(%rip)
	mov	%rdi, %rax
	pushq	$SEL_UDATA		/* SS */
	lea	user_stack_top(%rip), %rcx
	push	%rcx			/* RSP */
	pushq	$0x2			/* RFLAGS: IF = 0, IOPL = 0 */
	pushq	$SEL_UCODE		/* CS */
	push	%rsi			/* RIP */
	iretq

	.globl isr_user_return
isr_user_return:
	/*
	 * The IRET to CPL 3 nulled DS/ES/FS/GS and this interrupt loaded a null
	 * SS; legal at CPL 0 in long mode, but restore the flat ones anyway.
	 * RCX is free: it is caller-saved for user_call's caller. RAX is the result.
	 */
	mov	$SEL_KDATA, %ecx
	mov	%ecx, %ds
	mov	%ecx, %es
	mov	%ecx, %ss
	mov	%ecx, %fs
	mov	%ecx, %gs
	mov	user_call_saved_rsp(%rip), %rsp
	pop	%r15
	pop	%r14
	pop	%r13
	pop	%r12
	pop	%rbp
	pop	%rbx
	ret

/* CPL 3 code: runs from the kernel image, which the identity map marks U/S=1. */
	.globl user_vmmcall
user_vmmcall:
	.byte	0x0f, 0x01, 0xd9	/* vmmcall */
	int	$VEC_USER_RETURN
	ud2

	.globl user_vmcall
user_vmcall:
	.byte	0x0f, 0x01, 0xc1	/* vmcall */
	int	$VEC_USER_RETURN
	ud2

/*
 * void regs_probe(void)
 *
 * Addresses are RIP-relative so that nothing depends on a register that the
 * hypercall might have changed; RSP is restored from memory for the same reason.
 */
	.globl regs_probe
regs_probe:
	push	%rbx
	push	%rbp
	push	%r12
	push	%r13
	push	%r14
	push	%r15
	mov	%rsp, probe_sp(%rip)
	mov	probe_in+0*8(%rip), %rax
	mov	probe_in+1*8(%rip), %rbx
	mov	probe_in+2*8(%rip), %rcx
	mov	probe_in+3*8(%rip), %rdx
	mov	probe_in+4*8(%rip), %rsi
	mov	probe_in+5*8(%rip), %rdi
	mov	probe_in+6*8(%rip), %rbp
	mov	probe_in+8*8(%rip), %r8
	mov	probe_in+9*8(%rip), %r9
	mov	probe_in+10*8(%rip), %r10
	mov	probe_in+11*8(%rip), %r11
	mov	probe_in+12*8(%rip), %r12
	mov	probe_in+13*8(%rip), %r13
	mov	probe_in+14*8(%rip), %r14
	mov	probe_in+15*8(%rip), %r15
	movl	$1, fault_armed(%rip)
	movq	$1f, fault_recover_ip(%rip)
	.byte	0x0f, 0x01, 0xd9	/* vmmcall */
	movl	$0, fault_armed(%rip)
1:	mov	%rax, probe_out+0*8(%rip)
	mov	%rbx, probe_out+1*8(%rip)
	mov	%rcx, probe_out+2*8(%rip)
	mov	%rdx, probe_out+3*8(%rip)
	mov	%rsi, probe_out+4*8(%rip)
	mov	%rdi, probe_out+5*8(%rip)
	mov	%rbp, probe_out+6*8(%rip)
	mov	%rsp, probe_out+7*8(%rip)
	mov	%r8, probe_out+8*8(%rip)
	mov	%r9, probe_out+9*8(%rip)
	mov	%r10, probe_out+10*8(%rip)
	mov	%r11, probe_out+11*8(%rip)
	mov	%r12, probe_out+12*8(%rip)
	mov	%r13, probe_out+13*8(%rip)
	mov	%r14, probe_out+14*8(%rip)
	mov	%r15, probe_out+15*8(%rip)
	mov	probe_sp(%rip), %rsp
	pop	%r15
	pop	%r14
	pop	%r13
	pop	%r12
	pop	%rbp
	pop	%rbx
	ret

/* int rdmsr_probe(uint32_t msr, uint64_t *val) */
	.globl rdmsr_probe
rdmsr_probe:
	mov	%edi, %ecx
	lea	1f(%rip), %rax
	mov	%rax, fault_recover_ip(%rip)
	movl	$1, fault_armed(%rip)
	xor	%eax, %eax
	xor	%edx, %edx
	rdmsr
	movl	$0, fault_armed(%rip)
	shl	$32, %rdx
	or	%rdx, %rax
	mov	%rax, (%rsi)
	xor	%eax, %eax
	ret
1:	mov	$1, %eax
	ret

/* int wrmsr_probe(uint32_t msr, uint64_t val): 0, or 1 if it faulted */
	.globl wrmsr_probe
wrmsr_probe:
	mov	%edi, %ecx
	mov	%rsi, %rax
	mov	%rsi, %rdx
	shr	$32, %rdx
	lea	1f(%rip), %r8
	mov	%r8, fault_recover_ip(%rip)
	movl	$1, fault_armed(%rip)
	wrmsr
	movl	$0, fault_armed(%rip)
	xor	%eax, %eax
	ret
1:	mov	$1, %eax
	ret

	.section .rodata
	.balign 8
	.globl isr_table
isr_table:
.irp v, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
	.quad	isr_\v
.endr

	.bss
	.balign 16
user_call_saved_rsp:
	.skip	8
	.balign 16
boot_stack:
	.skip	16384
boot_stack_top:
ring0_stack:
	.skip	4096
	.globl ring0_stack_top
ring0_stack_top:
user_stack:
	.skip	4096
user_stack_top:

	.section .note.GNU-stack, "", @progbits
