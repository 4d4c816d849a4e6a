/*
 * int vmx_enter(uint64_t gprs[16], int launched)
 *
 * VMX switches RSP, RIP and RFLAGS through the VMCS and no other GPR
 * (SDM vol. 3C §26.3.2, §27.5): this stub loads all of the guest's (RAX
 * included) and the exit path saves them. HOST_RSP is written here so an
 * exit lands on this frame; HOST_RIP is vmx_exit_entry.
 * Returns 0 after a VM exit, 1 on VMfailInvalid, 2 on VMfailValid.
 */
#include "arch/x86/include/arch/regs_asm.h"

#define HOST_RSP 0x6c14

	.text
	.code64
	.globl vmx_enter
vmx_enter:
	push	%rbp
	push	%rbx
	push	%r12
	push	%r13
	push	%r14
	push	%r15
	push	%rdi			/* 0(%rsp): gprs */
	mov	$HOST_RSP, %eax
	vmwrite	%rsp, %rax
	test	%esi, %esi		/* MOVs below keep the flags */
	mov	GPR_RAX(%rdi), %rax
	mov	GPR_RCX(%rdi), %rcx
	mov	GPR_RDX(%rdi), %rdx
	mov	GPR_RBX(%rdi), %rbx
	mov	GPR_RBP(%rdi), %rbp
	mov	GPR_RSI(%rdi), %rsi
	mov	GPR_R8(%rdi), %r8
	mov	GPR_R9(%rdi), %r9
	mov	GPR_R10(%rdi), %r10
	mov	GPR_R11(%rdi), %r11
	mov	GPR_R12(%rdi), %r12
	mov	GPR_R13(%rdi), %r13
	mov	GPR_R14(%rdi), %r14
	mov	GPR_R15(%rdi), %r15
	mov	GPR_RDI(%rdi), %rdi
	jnz	1f
	vmlaunch
	jmp	2f
1:	vmresume
2:	/* VM entry failed: CF=1 VMfailInvalid, ZF=1 VMfailValid; POP/MOV keep them */
	pop	%rdi
	pop	%r15
	pop	%r14
	pop	%r13
	pop	%r12
	pop	%rbx
	pop	%rbp
	mov	$2, %eax
	jnc	3f
	mov	$1, %eax
3:	ret

	.globl vmx_exit_entry
vmx_exit_entry:
	push	%rdi
	mov	8(%rsp), %rdi
	mov	%rax, GPR_RAX(%rdi)
	mov	%rcx, GPR_RCX(%rdi)
	mov	%rdx, GPR_RDX(%rdi)
	mov	%rbx, GPR_RBX(%rdi)
	mov	%rbp, GPR_RBP(%rdi)
	mov	%rsi, GPR_RSI(%rdi)
	mov	%r8, GPR_R8(%rdi)
	mov	%r9, GPR_R9(%rdi)
	mov	%r10, GPR_R10(%rdi)
	mov	%r11, GPR_R11(%rdi)
	mov	%r12, GPR_R12(%rdi)
	mov	%r13, GPR_R13(%rdi)
	mov	%r14, GPR_R14(%rdi)
	mov	%r15, GPR_R15(%rdi)
	pop	%rax
	mov	%rax, GPR_RDI(%rdi)
	pop	%rdi
	pop	%r15
	pop	%r14
	pop	%r13
	pop	%r12
	pop	%rbx
	pop	%rbp
	xor	%eax, %eax
	ret
