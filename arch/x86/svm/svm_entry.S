/*
 * void svm_enter(uint64_t gprs[16], hpa_t guest_vmcb, hpa_t host_vmcb)
 *
 * VMRUN loads and saves only RAX, RSP, RIP, RFLAGS and the segment/control
 * state in the VMCB (APM vol. 2 §15.5); every other GPR is ours to switch.
 * VMLOAD/VMSAVE switch FS, GS, TR, LDTR, KernelGsBase and the SYSCALL and
 * SYSENTER MSRs, so the guest's values are live while it runs and ours
 * come back before any C code runs. GIF stays clear throughout so no
 * interrupt or NMI can see the half-switched state.
 */
#include "arch/x86/include/arch/regs_asm.h"

	.text
	.code64
	.globl svm_enter
svm_enter:
	push	%rbp
	push	%rbx
	push	%r12
	push	%r13
	push	%r14
	push	%r15
	push	%rdx			/* 16(%rsp): host VMCB */
	push	%rsi			/*  8(%rsp): guest VMCB */
	push	%rdi			/*  0(%rsp): gprs */

	clgi
	mov	%rsi, %rax
	vmload	%rax
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
	vmrun	%rax
	/* #VMEXIT: host RSP is back; guest RAX/RSP are in the VMCB */
	push	%rdi
	mov	8(%rsp), %rdi
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
	mov	8(%rsp), %rax
	vmsave	%rax
	mov	16(%rsp), %rax
	vmload	%rax
	stgi
	add	$24, %rsp
	pop	%r15
	pop	%r14
	pop	%r13
	pop	%r12
	pop	%rbx
	pop	%rbp
	ret
