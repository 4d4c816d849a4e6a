/* x86 guest register file as core and the hypercall ABIs see it. */
#ifndef ARCH_REGS_H
#define ARCH_REGS_H

#include <stdint.h>

/* Hardware encoding order (Intel SDM vol. 2 §2.1.3): the entry stubs rely on it. */
enum x86_gpr {
	X86_RAX, X86_RCX, X86_RDX, X86_RBX, X86_RSP, X86_RBP, X86_RSI, X86_RDI,
	X86_R8, X86_R9, X86_R10, X86_R11, X86_R12, X86_R13, X86_R14, X86_R15,
	X86_NR_GPRS
};

struct guest_regs {
	uint64_t gpr[X86_NR_GPRS];
	uint64_t rip;
	uint64_t rflags;
};

_Static_assert(__builtin_offsetof(struct guest_regs, gpr) == 0, "entry stubs index gpr[] from 0");
_Static_assert(__builtin_offsetof(struct guest_regs, rip) == 16 * 8, "layout used by entry stubs");

#include "regs_asm.h"
_Static_assert(GPR_R15 == X86_R15 * 8 && GPR_RDI == X86_RDI * 8 && GPR_RCX == X86_RCX * 8,
               "regs_asm.h offsets match enum x86_gpr");

#endif
