/*
 * ELF32 test guest: entry, exception stubs, and the probes that need exact
 * control of registers or privilege level.
 *
 * The entry contract (docs/guest-boot.md) gives flat protected mode with
 * paging off, CS = 0x18, EBX = start info and nothing else: no stack.
 */
#include "guest.h"

	.code32

	.section .text.entry, "ax", @progbits
	.globl _start
_start:
	cld
	mov	%ebx, %esi
	/* The contract doesn't say guest RAM outside the image is zero. */
	mov	$__bss_start, %edi
	mov	$__bss_end, %ecx
	sub	%edi, %ecx
	xor	%eax, %eax
	rep stosb
	mov	$boot_stack_top, %esp
	/* guest_main(start_info, start_info): only the 64-bit entry has a second copy (RDI). */
	sub	$8, %esp
	push	%esi
	push	%esi
	call	guest_main
1:	cli
	hlt
	jmp	1b

	.text

/* void cpu_load_tables(const void *gdtr, const void *idtr, ulong tss_sel) */
	.globl cpu_load_tables
cpu_load_tables:
	mov	4(%esp), %eax
	lgdt	(%eax)
	mov	8(%esp), %eax
	lidt	(%eax)
	/* CS still holds the hypervisor's 0x18 until a far jump reloads it. */
	ljmp	$SEL_KCODE, $1f
1:	mov	$SEL_KDATA, %eax
	mov	%eax, %ds
	mov	%eax, %es
	mov	%eax, %ss
	mov	%eax, %fs
	mov	%eax, %gs
	mov	12(%esp), %eax
	test	%eax, %eax
	jz	2f
	ltr	%ax
2:	ret

/*
 * One stub per exception vector; those for which the CPU pushes no error code
 * push a zero so that isr_common sees one frame layout.
 */
.macro ISR vec
isr_\vec:
	.if ((ERRCODE_VECTORS >> \vec) & 1) == 0
	pushl	$0
	.endif
	pushl	$\vec
	jmp	isr_common
.endm

.irp v, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
	ISR	\v
.endr

/*
 * A fault at CPL 3 arrives with the user's DS/ES (or null ones, see
 * user_call): the C handler needs the kernel's, and the interrupted code
 * gets its own back on return. Global: smp_entry.S's interrupt stubs end
 * here too.
 */
	.globl isr_common
isr_common:
	pusha
	push	%ds
	push	%es
	mov	$SEL_KDATA, %eax
	mov	%eax, %ds
	mov	%eax, %es
	mov	%esp, %eax
	push	%eax
	cld
	call	exception_handler
	add	$4, %esp
	pop	%es
	pop	%ds
	popa
	add	$8, %esp
	iret

/*
 * ulong user_call(ulong nr, void (*fn)(void))
 *
 * Saves the callee-saved registers and ESP, then IRETs to fn at CPL 3 with
 * EAX = nr and interrupts off. fn ends with int $0x80 into isr_user_return,
 * which drops the interrupt frame, restores the saved state and returns EAX
 * (whatever fn's hypercall left there) to our caller.
 *
 * The IRET to CPL 3 nulls DS/ES/FS/GS (DPL 0 < CPL 3); fn touches no memory
 * except through SS, so that is harmless.
 */
	.globl user_call
user_call:
	push	%ebx
	push	%esi
	push	%edi
	push	%ebp
	mov	%esp, user_call_saved_esp
	mov	20(%esp), %eax		/* nr */
	mov	24(%esp), %ecx		/* fn */
	pushl	$SEL_UDATA		/* SS */
	pushl	$user_stack_top		/* ESP */
	pushl	$0x2			/* EFLAGS: IF = 0, IOPL = 0 */
	pushl	$SEL_UCODE		/* CS */
	push	%ecx			/* EIP */
	iret

	.globl isr_user_return
isr_user_return:
	/*
	 * SS:ESP came from TSS.SS0/ESP0; DS is still null from the IRET and
	 * must be reloaded before the absolute load below. ECX is free:
	 * caller-saved for user_call's caller. EAX is the result.
	 */
	mov	$SEL_KDATA, %ecx
	mov	%ecx, %ds
	mov	%ecx, %es
	mov	%ecx, %fs
	mov	%ecx, %gs
	mov	user_call_saved_esp, %esp
	pop	%ebp
	pop	%edi
	pop	%esi
	pop	%ebx
	ret

/* CPL 3 code: paging is off, so only the DPL 3 flat segments matter. */
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
 * Absolute addresses so that nothing depends on a register that the
 * hypercall might have changed; ESP is restored from memory for the same reason.
 */
	.globl regs_probe
regs_probe:
	push	%ebx
	push	%esi
	push	%edi
	push	%ebp
	mov	%esp, probe_sp
	mov	probe_in+0*4, %eax
	mov	probe_in+1*4, %ebx
	mov	probe_in+2*4, %ecx
	mov	probe_in+3*4, %edx
	mov	probe_in+4*4, %esi
	mov	probe_in+5*4, %edi
	mov	probe_in+6*4, %ebp
	movl	$1, fault_armed
	movl	$1f, fault_recover_ip
	.byte	0x0f, 0x01, 0xd9	/* vmmcall */
	movl	$0, fault_armed
1:	mov	%eax, probe_out+0*4
	mov	%ebx, probe_out+1*4
	mov	%ecx, probe_out+2*4
	mov	%edx, probe_out+3*4
	mov	%esi, probe_out+4*4
	mov	%edi, probe_out+5*4
	mov	%ebp, probe_out+6*4
	mov	%esp, probe_out+7*4
	mov	probe_sp, %esp
	pop	%ebp
	pop	%edi
	pop	%esi
	pop	%ebx
	ret

/* int rdmsr_probe(uint32_t msr, uint64_t *val) */
	.globl rdmsr_probe
rdmsr_probe:
	mov	4(%esp), %ecx
	movl	$1f, fault_recover_ip
	movl	$1, fault_armed
	xor	%eax, %eax
	xor	%edx, %edx
	rdmsr
	movl	$0, fault_armed
	mov	8(%esp), %ecx
	mov	%eax, (%ecx)
	mov	%edx, 4(%ecx)
	xor	%eax, %eax
	ret
1:	mov	$1, %eax
	ret

/* int wrmsr_probe(uint32_t msr, uint64_t val): 0, or 1 if it faulted */
	.globl wrmsr_probe
wrmsr_probe:
	mov	4(%esp), %ecx
	mov	8(%esp), %eax
	mov	12(%esp), %edx
	movl	$1f, fault_recover_ip
	movl	$1, fault_armed
	wrmsr
	movl	$0, fault_armed
	xor	%eax, %eax
	ret
1:	mov	$1, %eax
	ret

	.section .rodata
	.balign 4
	.globl isr_table
isr_table:
.irp v, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
	.long	isr_\v
.endr

	.bss
	.balign 16
user_call_saved_esp:
	.skip	4
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
