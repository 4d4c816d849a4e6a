/*
 * Descriptor tables and exception handling. The hypervisor's GDT has no user
 * segments and no TSS, and the IDT starts empty, so the guest brings its own:
 * user segments and a TSS to visit CPL 3, and exception handlers so that a
 * fault we provoke (or a broken hypervisor) ends in a readable line rather
 * than a triple fault.
 */
#include "smp.h"

#define DESC_KCODE32	0x00cf9a000000ffffull	/* G, D, P, DPL 0, code r/x */
#define DESC_KCODE64	0x00af9a000000ffffull	/* G, L, P, DPL 0, code r/x */
#define DESC_KDATA	0x00cf92000000ffffull	/* G, B, P, DPL 0, data r/w */
#define DESC_UCODE32	0x00cffa000000ffffull	/* as above with DPL 3 */
#define DESC_UCODE64	0x00affa000000ffffull
#define DESC_UDATA	0x00cff2000000ffffull
#define DESC_TSS_TYPE	0x89ull			/* P, DPL 0, available TSS */

#define GATE_INTR_DPL0	0x8e	/* P, DPL 0, interrupt gate (IF cleared on entry) */
#define GATE_INTR_DPL3	0xee	/* the same, reachable by int n from CPL 3 */

#define VEC_NMI		2

#ifdef __x86_64__
#define DESC_KCODE DESC_KCODE64
#define DESC_UCODE DESC_UCODE64

struct tss {
	uint32_t reserved0;
	uint64_t rsp[3];
	uint64_t reserved1;
	uint64_t ist[7];
	uint64_t reserved2;
	uint16_t reserved3;
	uint16_t iomap_base;
} __attribute__((packed));

struct gate {
	uint16_t off0;
	uint16_t sel;
	uint8_t ist;
	uint8_t type;
	uint16_t off1;
	uint32_t off2;
	uint32_t reserved;
};

/* What isr_common leaves on the stack: its pushes, the stub's, the CPU's. */
struct frame {
	ulong ax, bx, cx, dx, si, di, bp;
	ulong r8, r9, r10, r11, r12, r13, r14, r15;
	ulong vector, err;
	ulong ip, cs, flags, sp, ss;
};
#else
#define DESC_KCODE DESC_KCODE32
#define DESC_UCODE DESC_UCODE32

struct tss {
	uint16_t link, reserved0;
	uint32_t esp0;
	uint16_t ss0, reserved1;
	uint32_t esp1;
	uint16_t ss1, reserved2;
	uint32_t esp2;
	uint16_t ss2, reserved3;
	uint32_t cr3, eip, eflags, eax, ecx, edx, ebx, esp, ebp, esi, edi;
	uint16_t es, reserved4, cs, reserved5, ss, reserved6;
	uint16_t ds, reserved7, fs, reserved8, gs, reserved9;
	uint16_t ldt, reserved10;
	uint16_t trap, iomap_base;
};

struct gate {
	uint16_t off0;
	uint16_t sel;
	uint8_t zero;
	uint8_t type;
	uint16_t off1;
};

/* pusha order; sp/ss at the end exist only when the fault came from CPL 3. */
struct frame {
	ulong es, ds;
	ulong di, si, bp, pusha_sp, bx, dx, cx, ax;
	ulong vector, err;
	ulong ip, cs, flags, sp, ss;
};
#endif

_Static_assert(sizeof(struct tss) == 104, "TSS layout");
_Static_assert(sizeof(struct gate) == 2 * sizeof(ulong), "gate layout");

struct dtr {
	uint16_t limit;
	ulong base;
} __attribute__((packed));

/* null, kcode, kdata, ucode, udata, TSS (two slots in long mode) */
static uint64_t gdt[7] __attribute__((aligned(16)));
static struct tss tss __attribute__((aligned(16)));
static struct gate idt[256] __attribute__((aligned(16)));

volatile int fault_armed;
volatile ulong fault_recover_ip;
volatile ulong fault_vector;
volatile ulong fault_err;
volatile ulong fault_ip;

static void set_gate(unsigned int vec, ulong handler, uint8_t type)
{
	struct gate *g = &idt[vec];

	g->off0 = (uint16_t)handler;
	g->sel = SEL_KCODE;
	g->type = type;
	g->off1 = (uint16_t)(handler >> 16);
#ifdef __x86_64__
	g->ist = 0;
	g->off2 = (uint32_t)(handler >> 32);
	g->reserved = 0;
#else
	g->zero = 0;
#endif
}

static void set_tss_desc(uint64_t *d, ulong base, uint32_t limit)
{
	d[0] = (limit & 0xffffull) | (((uint64_t)base & 0xffffff) << 16) |
	       (DESC_TSS_TYPE << 40) | ((uint64_t)((limit >> 16) & 0xf) << 48) |
	       ((uint64_t)((base >> 24) & 0xff) << 56);
#ifdef __x86_64__
	d[1] = base >> 32;
#endif
}

void cpu_init(void)
{
	struct dtr gdtr, idtr;

	gdt[0] = 0;
	gdt[1] = DESC_KCODE;
	gdt[2] = DESC_KDATA;
	gdt[3] = DESC_UCODE;
	gdt[4] = DESC_UDATA;
	set_tss_desc(&gdt[SEL_TSS / 8], (ulong)&tss, sizeof(tss) - 1);

	/* int 0x80 from CPL 3 lands on this stack; nothing else switches stacks. */
#ifdef __x86_64__
	tss.rsp[0] = (ulong)ring0_stack_top;
#else
	tss.esp0 = (ulong)ring0_stack_top;
	tss.ss0 = SEL_KDATA;
#endif
	/* Past the limit: no I/O bitmap, so CPL 3 I/O faults (IOPL is 0). */
	tss.iomap_base = sizeof(tss);

	for (unsigned int v = 0; v < 32; v++)
		set_gate(v, isr_table[v], GATE_INTR_DPL0);
	for (unsigned int v = IRQ_FIRST_VEC; v < 256; v++)
		set_gate(v, (ulong)irq_stubs + (v - IRQ_FIRST_VEC) * IRQ_STUB_SIZE, GATE_INTR_DPL0);
	set_gate(VEC_USER_RETURN, (ulong)isr_user_return, GATE_INTR_DPL3);

	gdtr.limit = sizeof(gdt) - 1;
	gdtr.base = (ulong)gdt;
	idtr.limit = sizeof(idt) - 1;
	idtr.base = (ulong)idt;
	cpu_load_tables(&gdtr, &idtr, SEL_TSS);
}

/*
 * An AP: the BSP's GDT and IDT (cpu_init ran first). No task register: the
 * one TSS is the BSP's, and an AP never changes privilege level.
 */
void cpu_init_ap(void)
{
	struct dtr gdtr = { sizeof(gdt) - 1, (ulong)gdt };
	struct dtr idtr = { sizeof(idt) - 1, (ulong)idt };

	cpu_load_tables(&gdtr, &idtr, 0);
}

void load_empty_idt(void)
{
	struct dtr idtr = { 0, 0 };

	__asm__ volatile("lidt %0" : : "m"(idtr));
}

static ulong read_cr2(void)
{
	ulong v;

	__asm__ volatile("mov %%cr2, %0" : "=r"(v));
	return v;
}

void exception_handler(struct frame *f);

void exception_handler(struct frame *f)
{
	if (f->vector >= IRQ_FIRST_VEC) {
		smp_irq((unsigned int)f->vector, f->ip);
		return;
	}
	if (f->vector == VEC_NMI) {
		smp_nmi();
		return;
	}
	/*
	 * Probes are the BSP's: fault_armed and its recovery address are one
	 * global, so a fault on an AP never takes them; it parks the AP, and
	 * the BSP reports it.
	 */
	smp_ap_fault(f->vector, f->ip, f->err);
	if (fault_armed) {
		/* A probe expected a fault: tell it which, and resume at its recovery label. */
		fault_armed = 0;
		fault_vector = f->vector;
		fault_err = f->err;
		fault_ip = f->ip;
		f->ip = fault_recover_ip;
		f->flags &= ~0x100ul;   /* a single-step probe's TF must not follow us to the recovery code */
		if (f->cs & 3) {
			/*
			 * Faulted at CPL 3: the recovery code is kernel code. The
			 * IRET then stays at CPL 0, which in 32-bit mode leaves the
			 * user SS:ESP on this stack; the recovery code reloads ESP.
			 */
			f->cs = SEL_KCODE;
#ifdef __x86_64__
			f->ss = SEL_KDATA;
#endif
		}
		return;
	}
	print("TEST " X86_SUITE ".unexpected_exception FAIL vector=%lu rip=0x%lx err=0x%lx cs=0x%lx",
	      f->vector, f->ip, f->err, f->cs);
	if (f->vector == 14)
		print(" cr2=0x%lx", read_cr2());
	print("\n");
	exit_vm(EXIT_UNEXPECTED_EXCEPTION);
}
