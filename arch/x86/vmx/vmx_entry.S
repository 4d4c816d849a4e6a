/*
 * int vmx_enter(uint64_t gprs[16], int launched)
 *
 * VMX switches RSP, RIP and RFLAGS through the VMCS and no other GPR
 * (SDM vol. 3C §26.3.2, §27.5): this stub loads all of the guest's (RAX
 * included) and the exit path saves them. HOST_RSP is written here so an
 * exit lands on this frame; HOST_RIP is vmx_exit_entry.
 * Returns 0 after a VM exit, 1 on VMfailInvalid, 2 on VMfailValid.
 */
#include "arch/x86/include/arch/gpr_macros.h"

#define HOST_RSP 0x6c14

	.text
	.code64
	.globl vmx_enter
vmx_enter:
	push_callee_saved
	push	%rdi			/* 0(%rsp): gprs */
	mov	$HOST_RSP, %eax
	vmwrite	%rsp, %rax
	test	%esi, %esi		/* MOVs below keep the flags */
	mov	GPR_RAX(%rdi), %rax
	load_guest_gprs %rdi
	mov	GPR_RDI(%rdi), %rdi
	jnz	1f
	vmlaunch
	jmp	2f
1:	vmresume
2:	/* VM entry failed: CF=1 VMfailInvalid, ZF=1 VMfailValid; POP/MOV keep them */
	pop	%rdi
	pop_callee_saved
	mov	$2, %eax
	jnc	3f
	mov	$1, %eax
3:	ret

	.globl vmx_exit_entry
vmx_exit_entry:
	push	%rdi
	mov	8(%rsp), %rdi
	mov	%rax, GPR_RAX(%rdi)
	store_guest_gprs %rdi
	pop	%rax
	mov	%rax, GPR_RDI(%rdi)
	pop	%rdi
	pop_callee_saved
	xor	%eax, %eax
	ret
