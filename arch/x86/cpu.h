/* One-line wrappers for single x86 instructions, and architectural constants (Intel SDM vol. 3A, AMD APM vol. 2). */
#ifndef ARCH_X86_CPU_H
#define ARCH_X86_CPU_H

#include <arch/counter.h>
#include "core/types.h"

#define X86_CR0_PE (1ull << 0)
#define X86_CR0_MP (1ull << 1)
#define X86_CR0_ET (1ull << 4)
#define X86_CR0_NE (1ull << 5)
#define X86_CR0_WP (1ull << 16)
#define X86_CR0_NW (1ull << 29)
#define X86_CR0_CD (1ull << 30)
#define X86_CR0_PG (1ull << 31)
#define X86_CR4_PSE (1ull << 4)
#define X86_CR4_PAE (1ull << 5)
#define X86_CR4_PGE (1ull << 7)
#define X86_CR4_OSFXSR (1ull << 9)
#define X86_CR4_OSXMMEXCPT (1ull << 10)
#define X86_CR4_LA57 (1ull << 12)
#define X86_CR4_VMXE (1ull << 13)
/*
 * CR4 features arch/x86/cpuid.c hides from guests (PCE, UMIP, LA57, VMXE,
 * SMXE, Key Locker, OSXSAVE, PKE, CET): a guest may not turn them on.
 */
#define X86_CR4_GUEST_HIDDEN ((1ull << 8) | (1ull << 11) | (1ull << 12) | (1ull << 13) | \
	(1ull << 14) | (1ull << 19) | (1ull << 18) | (1ull << 22) | (1ull << 23))
#define X86_EFER_SCE (1ull << 0)
#define X86_EFER_LME (1ull << 8)
#define X86_EFER_LMA (1ull << 10)
#define X86_EFER_NXE (1ull << 11)
#define X86_EFER_SVME (1ull << 12)
#define X86_RFLAGS_FIXED (1ull << 1)
#define X86_RFLAGS_IF (1ull << 9)
#define X86_RFLAGS_VM (1ull << 17)

#define MSR_IA32_TSC 0x10
#define MSR_IA32_APIC_BASE 0x1b
#define MSR_IA32_SYSENTER_CS 0x174
#define MSR_IA32_SYSENTER_ESP 0x175
#define MSR_IA32_SYSENTER_EIP 0x176
#define MSR_IA32_PAT 0x277
#define MSR_EFER 0xc0000080
#define MSR_STAR 0xc0000081
#define MSR_LSTAR 0xc0000082
#define MSR_CSTAR 0xc0000083
#define MSR_SFMASK 0xc0000084
#define MSR_FS_BASE 0xc0000100
#define MSR_GS_BASE 0xc0000101
#define MSR_KERNEL_GS_BASE 0xc0000102

/* Exception vectors (SDM vol. 3A §6.3.1). */
/* DR6 and DR7 after reset and INIT (SDM vol. 3A table 9-1) */
#define X86_DR6_INIT 0xffff0ff0ull
#define X86_DR7_INIT 0x400ull

#define X86_EXC_DB 1
#define X86_EXC_NMI 2
#define X86_EXC_UD 6
#define X86_EXC_DF 8
#define X86_EXC_GP 13
#define X86_EXC_PF 14
#define X86_EXC_AC 17
#define X86_EXC_MC 18
#define X86_EXC_BIT(v) (1u << (v))

static inline void outb(uint16_t port, uint8_t v) { __asm__ volatile("outb %0, %1" :: "a"(v), "Nd"(port)); }
static inline void outl(uint16_t port, uint32_t v) { __asm__ volatile("outl %0, %1" :: "a"(v), "Nd"(port)); }
static inline uint8_t inb(uint16_t port) { uint8_t v; __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port)); return v; }

static inline uint64_t rdmsr(uint32_t msr)
{
	uint32_t lo, hi;
	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return ((uint64_t)hi << 32) | lo;
}

static inline void wrmsr(uint32_t msr, uint64_t v)
{
	__asm__ volatile("wrmsr" :: "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)) : "memory");
}

static inline void cpuid(uint32_t leaf, uint32_t sub, uint32_t r[4])
{
	__asm__ volatile("cpuid" : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3]) : "a"(leaf), "c"(sub));
}

/* RDTSC is the host counter itself (arch/x86/include/arch/counter.h). */
static inline uint64_t rdtsc(void)
{
	return arch_read_counter();
}

#define DEFINE_CR(n) \
	static inline uint64_t read_cr##n(void) { uint64_t v; __asm__ volatile("mov %%cr" #n ", %0" : "=r"(v)); return v; } \
	static inline void write_cr##n(uint64_t v) { __asm__ volatile("mov %0, %%cr" #n :: "r"(v) : "memory"); }
DEFINE_CR(0)
DEFINE_CR(2)
DEFINE_CR(3)
DEFINE_CR(4)
#undef DEFINE_CR

static inline void cpu_halt_forever(void) { for (;;) __asm__ volatile("cli; hlt"); }

#endif
