/*
 * Assembler macros for the VM entry stubs: move the guest GPRs that neither
 * VMRUN nor VMX switches between registers and struct guest_regs.gpr.
 * RAX, RSP and RDI are left to the stubs: VMRUN switches RAX and RSP, VMX
 * only RSP, and RDI holds the pointer itself.
 */
#ifndef ARCH_GPR_MACROS_H
#define ARCH_GPR_MACROS_H

#include "regs_asm.h"

.macro load_guest_gprs base
	mov	GPR_RCX(\base), %rcx
	mov	GPR_RDX(\base), %rdx
	mov	GPR_RBX(\base), %rbx
	mov	GPR_RBP(\base), %rbp
	mov	GPR_RSI(\base), %rsi
	mov	GPR_R8(\base), %r8
	mov	GPR_R9(\base), %r9
	mov	GPR_R10(\base), %r10
	mov	GPR_R11(\base), %r11
	mov	GPR_R12(\base), %r12
	mov	GPR_R13(\base), %r13
	mov	GPR_R14(\base), %r14
	mov	GPR_R15(\base), %r15
.endm

.macro store_guest_gprs base
	mov	%rcx, GPR_RCX(\base)
	mov	%rdx, GPR_RDX(\base)
	mov	%rbx, GPR_RBX(\base)
	mov	%rbp, GPR_RBP(\base)
	mov	%rsi, GPR_RSI(\base)
	mov	%r8, GPR_R8(\base)
	mov	%r9, GPR_R9(\base)
	mov	%r10, GPR_R10(\base)
	mov	%r11, GPR_R11(\base)
	mov	%r12, GPR_R12(\base)
	mov	%r13, GPR_R13(\base)
	mov	%r14, GPR_R14(\base)
	mov	%r15, GPR_R15(\base)
.endm

/* The callee-saved registers of the C caller (SysV ABI). */
.macro push_callee_saved
	push	%rbp
	push	%rbx
	push	%r12
	push	%r13
	push	%r14
	push	%r15
.endm

.macro pop_callee_saved
	pop	%r15
	pop	%r14
	pop	%r13
	pop	%r12
	pop	%rbx
	pop	%rbp
.endm

#endif
