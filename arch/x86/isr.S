/* Exception and interrupt entry stubs: a uniform struct trap_frame (desc.h) for x86_trap(). */

/* Vectors for which the CPU pushes an error code (SDM vol. 3A table 6-1). */
#define HAS_ERR(v) ((v) == 8 || ((v) >= 10 && (v) <= 14) || (v) == 17 || (v) == 21 || (v) == 29 || (v) == 30)

	.text
	.code64
.macro stub v
	.balign 16
isr_stub_\v:
	.if !HAS_ERR(\v)
	pushq	$0
	.endif
	pushq	$\v
	jmp	isr_common
.endm

isr_common:
	push	%rax
	push	%rcx
	push	%rdx
	push	%rbx
	push	%rbp
	push	%rsi
	push	%rdi
	push	%r8
	push	%r9
	push	%r10
	push	%r11
	push	%r12
	push	%r13
	push	%r14
	push	%r15
	mov	%rsp, %rdi
	/* keep the C code's stack 16-byte aligned */
	mov	%rsp, %rbx
	and	$-16, %rsp
	call	x86_trap
	mov	%rbx, %rsp
	pop	%r15
	pop	%r14
	pop	%r13
	pop	%r12
	pop	%r11
	pop	%r10
	pop	%r9
	pop	%r8
	pop	%rdi
	pop	%rsi
	pop	%rbp
	pop	%rbx
	pop	%rdx
	pop	%rcx
	pop	%rax
	add	$16, %rsp
	iretq

.altmacro
.macro stubs from, to
	stub \from
	.if \to-\from
	stubs %(\from+1), \to
	.endif
.endm
	stubs 0, 63
	stubs 64, 127
	stubs 128, 191
	stubs 192, 255

.macro entry v
	.quad isr_stub_\v
.endm
.macro entries from, to
	entry \from
	.if \to-\from
	entries %(\from+1), \to
	.endif
.endm
	.section .rodata
	.balign 8
	.globl isr_stub_table
isr_stub_table:
	entries 0, 63
	entries 64, 127
	entries 128, 191
	entries 192, 255
