/*
 * void svm_enter(uint64_t gprs[16], hpa_t guest_vmcb, hpa_t host_vmcb)
 *
 * VMRUN loads and saves only RAX, RSP, RIP, RFLAGS and the segment/control
 * state in the VMCB (APM vol. 2 §15.5); every other GPR is ours to switch.
 * VMLOAD/VMSAVE switch FS, GS, TR, LDTR, KernelGsBase and the SYSCALL and
 * SYSENTER MSRs, so the guest's values are live while it runs and ours
 * come back before any C code runs. GIF stays clear throughout so no
 * interrupt or NMI can see the half-switched state; IF is set only while
 * GIF is clear.
 */
#include "arch/x86/include/arch/gpr_macros.h"

	.text
	.code64
	.globl svm_enter
svm_enter:
	push_callee_saved
	push	%rdx			/* 16(%rsp): host VMCB */
	push	%rsi			/*  8(%rsp): guest VMCB */
	push	%rdi			/*  0(%rsp): gprs */

	clgi
	/*
	 * With V_INTR_MASKING the host's IF, saved by VMRUN, decides whether a
	 * physical interrupt ends the guest's run (INTR intercept): set it. GIF
	 * is clear, so nothing is delivered to us here.
	 */
	sti
	mov	%rsi, %rax
	vmload	%rax
	load_guest_gprs %rdi
	mov	GPR_RDI(%rdi), %rdi
	vmrun	%rax
	/* #VMEXIT: host RSP is back; guest RAX/RSP are in the VMCB */
	push	%rdi
	mov	8(%rsp), %rdi
	store_guest_gprs %rdi
	pop	%rax
	mov	%rax, GPR_RDI(%rdi)
	mov	8(%rsp), %rax
	vmsave	%rax
	mov	16(%rsp), %rax
	vmload	%rax
	cli			/* the pending host interrupt is taken later, on purpose */
	stgi
	add	$24, %rsp
	pop_callee_saved
	ret
