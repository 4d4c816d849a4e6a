/*
 * The hypervisor's GDT, TSS and IDT, and the crash dump for exceptions taken
 * in the hypervisor itself. Layouts: Intel SDM vol. 3A §3.4.5, §7.7, §6.14.
 */
#define LOG_SUB_FILE LOG_SUB_ARCH   /* its messages: loglevel=arch:LEVEL */
#include "arch/x86/cpu.h"
#include "arch/x86/desc.h"
#include "core/arch.h"
#include "core/log.h"

#define GDT_CS 0x08
#define GDT_DS 0x10
#define GDT_TSS 0x18
#define IST_STACK_SIZE 0x2000

struct tss64 {
	uint32_t reserved0;
	uint64_t rsp[3];
	uint64_t reserved1;
	uint64_t ist[7];
	uint64_t reserved2;
	uint16_t reserved3, iomap_base;
} PACKED;
_Static_assert(sizeof(struct tss64) == 104, "TSS layout (SDM vol. 3A fig. 7-11)");

struct idt_gate {
	uint16_t off_lo, sel;
	uint8_t ist, type;
	uint16_t off_mid;
	uint32_t off_hi, reserved;
} PACKED;
_Static_assert(sizeof(struct idt_gate) == 16, "IDT gate layout");

struct dtr { uint16_t limit; uint64_t base; } PACKED;

static uint64_t gdt[5] __attribute__((aligned(16))) = {
	0,
	0x00af9a000000ffffull,  /* 0x08: 64-bit code */
	0x00cf92000000ffffull,  /* 0x10: data */
	0, 0,                   /* 0x18: TSS (16 bytes), filled at run time */
};
static struct tss64 tss __attribute__((aligned(16)));
static struct idt_gate idt[256] __attribute__((aligned(16)));
static uint8_t ist_stacks[2][IST_STACK_SIZE] __attribute__((aligned(16)));

extern const uint64_t isr_stub_table[256];

static const char *const exc_names[32] = {
	"#DE divide error", "#DB debug", "NMI", "#BP breakpoint", "#OF overflow",
	"#BR bound range", "#UD invalid opcode", "#NM device not available",
	"#DF double fault", "coprocessor overrun", "#TS invalid TSS",
	"#NP segment not present", "#SS stack fault", "#GP general protection",
	"#PF page fault", "reserved", "#MF x87 error", "#AC alignment check",
	"#MC machine check", "#XM SIMD error", "#VE virtualization", "#CP control protection",
};

static void set_gate(unsigned vec, uint64_t handler, uint8_t ist)
{
	idt[vec] = (struct idt_gate){
		.off_lo = (uint16_t)handler, .sel = GDT_CS, .ist = ist,
		.type = 0x8e,           /* present, DPL 0, 64-bit interrupt gate */
		.off_mid = (uint16_t)(handler >> 16), .off_hi = (uint32_t)(handler >> 32),
	};
}

void x86_desc_init(void)
{
	uint64_t base = (uintptr_t)&tss;
	tss.ist[0] = (uintptr_t)ist_stacks[0] + IST_STACK_SIZE;
	tss.ist[1] = (uintptr_t)ist_stacks[1] + IST_STACK_SIZE;
	tss.iomap_base = sizeof(tss);   /* no I/O bitmap */
	gdt[GDT_TSS / 8] = (sizeof(tss) - 1) | ((base & 0xffffff) << 16) | (0x89ull << 40) |
	                   ((base >> 24) & 0xff) << 56;
	gdt[GDT_TSS / 8 + 1] = base >> 32;

	struct dtr g = { sizeof(gdt) - 1, (uintptr_t)gdt };
	__asm__ volatile(
		"lgdt %0\n\t"
		"pushq %1\n\t"
		"leaq 1f(%%rip), %%rax\n\t"
		"pushq %%rax\n\t"
		"lretq\n"
		"1: movl %2, %%eax\n\t"
		"movl %%eax, %%ds\n\t movl %%eax, %%es\n\t movl %%eax, %%ss\n\t"
		"xorl %%eax, %%eax\n\t movl %%eax, %%fs\n\t movl %%eax, %%gs\n\t"
		"ltr %w3"
		:: "m"(g), "i"(GDT_CS), "i"(GDT_DS), "r"(GDT_TSS) : "rax", "memory");

	for (unsigned v = 0; v < 256; v++)
		set_gate(v, isr_stub_table[v], 0);
	/* Faults that can come from a broken stack get a known-good one. */
	set_gate(X86_EXC_DF, isr_stub_table[X86_EXC_DF], 1);
	set_gate(2, isr_stub_table[2], 2);
	struct dtr i = { sizeof(idt) - 1, (uintptr_t)idt };
	__asm__ volatile("lidt %0" :: "m"(i));
}

static bool frame_ok(uint64_t rbp)
{
	extern char __data_start[], __image_end[];
	return IS_ALIGNED(rbp, 8) && rbp >= (uintptr_t)__data_start &&
	       rbp + 16 <= (uintptr_t)__image_end;
}

static void print_backtrace(uint64_t rip, uint64_t rbp)
{
	con_printf("backtrace (addr2line -e build/hv.elf):\n  0x%llx\n", (unsigned long long)rip);
	for (int depth = 0; depth < 16 && frame_ok(rbp); depth++) {
		const uint64_t *f = (const uint64_t *)(uintptr_t)rbp;
		if (!f[1])
			break;
		con_printf("  0x%llx\n", (unsigned long long)f[1]);
		rbp = f[0];
	}
}

static void crash_dump(const struct trap_frame *f)
{
	static const char *const names[16] = {
		"rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
		"r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15",
	};
	uint64_t regs[16] = { f->rax, f->rcx, f->rdx, f->rbx, f->rsp, f->rbp, f->rsi, f->rdi,
	                      f->r8, f->r9, f->r10, f->r11, f->r12, f->r13, f->r14, f->r15 };
	con_printf("\nhv: CRASH: exception %llu (%s) error code 0x%llx\n",
	           (unsigned long long)f->vector,
	           f->vector < 32 && exc_names[f->vector] ? exc_names[f->vector] : "?",
	           (unsigned long long)f->error);
	con_printf("rip %04llx:%016llx rflags %016llx cr2 %016llx cr3 %016llx\n",
	           (unsigned long long)f->cs, (unsigned long long)f->rip,
	           (unsigned long long)f->rflags, (unsigned long long)read_cr2(),
	           (unsigned long long)read_cr3());
	for (unsigned i = 0; i < 16; i++)
		con_printf("%3s %016llx%s", names[i], (unsigned long long)regs[i], i % 4 == 3 ? "\n" : "  ");
	print_backtrace(f->rip, f->rbp);
}

/* Called from isr.S with interrupts off. */
void x86_trap(struct trap_frame *f);
void x86_trap(struct trap_frame *f)
{
	if (f->vector == 2)
		return;                 /* NMI: nothing of ours raises one; ignore */
	if (f->vector >= 32) {
		/* legacy PIC is masked; a late or spurious interrupt: acknowledge and go on */
		x86_ack_interrupt(f->vector);
		return;
	}
	crash_dump(f);
	arch_halt_system(3);
}
