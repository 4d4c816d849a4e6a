#ifndef ARCH_X86_DESC_H
#define ARCH_X86_DESC_H

#include "core/types.h"

struct boot_info;

/* Pushed by isr.S: general registers, then vector, error code and the CPU's frame. */
struct trap_frame {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
	uint64_t rdi, rsi, rbp, rbx, rdx, rcx, rax;
	uint64_t vector, error;
	uint64_t rip, cs, rflags, rsp, ss;
};

/* Boot CPU: load our GDT (with a TSS: VMX needs a non-zero host TR) and IDT. */
void x86_desc_init(void);
/* Masks the legacy PICs: no device of ours interrupts; guests get virtual interrupts only. */
void x86_pic_mask_all(void);
void x86_lapic_quiesce(void);
void x86_ack_interrupt(uint64_t vector);
/* The hypervisor's page tables: identity map of the memory map, W^X on our image. */
int x86_mmu_init(const struct boot_info *bi);

#endif
