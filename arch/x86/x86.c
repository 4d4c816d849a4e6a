/* The arch contract (core/arch.h) for x86: glue between core and the vendor. */
#define LOG_SUB_FILE LOG_SUB_ARCH   /* its messages: loglevel=arch:LEVEL */
#include "arch/x86/cpu.h"
#include "arch/x86/desc.h"
#include "arch/x86/pt.h"
#include "arch/x86/vendor.h"
#include "arch/x86/vlapic.h"
#include "arch/x86/x86.h"
#include "core/arch.h"
#include "core/exit.h"
#include "core/log.h"
#include "core/string.h"
#include "core/time.h"
#include "core/vm.h"

/* 16550 UART registers (offsets from the base port). */
#define COM1 0x3f8
#define UART_THR 0
#define UART_IER 1
#define UART_FCR 2
#define UART_LCR 3
#define UART_MCR 4
#define UART_LSR 5
#define UART_LSR_THRE 0x20
#define UART_SPIN_LIMIT 100000   /* a missing UART must never hang us */

/* Emulator exit devices. */
#define QEMU_DEBUG_EXIT_PORT 0xf4    /* isa-debug-exit: QEMU exits with (value << 1) | 1 */
#define BOCHS_SHUTDOWN_PORT 0x8900   /* writing "Shutdown" ends Bochs */
/* Values we write to isa-debug-exit; QEMU's own failures exit 1, so none of ours does. */
#define QEMU_EXIT_SUCCESS 0x10       /* exit status 33 */
#define QEMU_EXIT_FAILURE 0x11       /* 35 */

enum exit_method { EXIT_HALT, EXIT_QEMU, EXIT_BOCHS };
static enum exit_method exit_method = EXIT_HALT;

const struct x86_vendor_ops *x86_vendor;

static void uart_init(void)
{
	outb(COM1 + UART_IER, 0);
	outb(COM1 + UART_LCR, 0x80);  /* DLAB: divisor follows */
	outb(COM1 + 0, 1);            /* 115200 baud */
	outb(COM1 + 1, 0);
	outb(COM1 + UART_LCR, 0x03);  /* 8N1 */
	outb(COM1 + UART_FCR, 0xc7);
	outb(COM1 + UART_MCR, 0x03);
}

/*
 * Console output goes through a ring that the UART drains without waiting:
 * at 115200 baud a character takes 87 us, and the ~1,000 characters of a
 * boot would keep the CPU spinning for 87 ms (Bochs emulates the line rate:
 * it was half its boot). Each putc sends bytes while the UART says THRE;
 * the rest waits for the next putc, a slice's end (arch_console_getc), the
 * idle loop (it sends while it waits for its deadline) or the end
 * (arch_halt_system, which waits for the line). A full ring waits too: no
 * byte is ever dropped. One byte per THRE, not a FIFO's
 * worth: Bochs reports the 16550A's FIFO on and still dropped bytes sent
 * 16 at a time.
 */
#define CON_RING 4096u
static char con_ring[CON_RING];
static uint32_t con_head, con_tail;   /* written, sent: free-running, con_head - con_tail <= CON_RING */

static void uart_send_one(void)
{
	outb(COM1 + UART_THR, (uint8_t)con_ring[con_tail++ % CON_RING]);
}

/* Sends what the UART takes now; false if bytes are left. */
static bool uart_push(void)
{
	while (con_tail != con_head) {
		if (!(inb(COM1 + UART_LSR) & UART_LSR_THRE))
			return false;
		uart_send_one();
	}
	return true;
}

/* Waits until the ring is sent (a UART that never says THRE is written to anyway, as before the ring). */
static void uart_flush(void)
{
	for (int i = 0; !uart_push(); i++)
		if (i == UART_SPIN_LIMIT) {
			uart_send_one();
			i = 0;
		}
}

void arch_console_putc(char c)
{
	if (con_head - con_tail == CON_RING)
		uart_flush();
	con_ring[con_head++ % CON_RING] = c;
	uart_push();
}

/* CLFLUSH line by line (CPUID.1:EDX bit 19, line size in EBX[15:8] x 8), else WBINVD. */
void arch_cache_clean(void *hva, size_t len)
{
	uint32_t r[4];
	cpuid(1, 0, r);
	unsigned line = ((r[1] >> 8) & 0xff) * 8;
	if (!(r[3] & (1u << 19)) || !line) {
		__asm__ volatile("wbinvd" ::: "memory");
		return;
	}
	__asm__ volatile("mfence" ::: "memory");
	for (uintptr_t p = (uintptr_t)hva & ~(uintptr_t)(line - 1); p < (uintptr_t)hva + len; p += line)
		__asm__ volatile("clflush (%0)" : : "r"(p) : "memory");
	__asm__ volatile("mfence" ::: "memory");
}

/* A byte typed on COM1, or -1 (LSR bit 0: data ready; a missing UART reads 0xff: nothing). */
int arch_console_getc(void)
{
	uart_push();                          /* called at every slice's end: output moves on too */
	uint8_t lsr = inb(COM1 + UART_LSR);
	if (lsr == 0xff || !(lsr & 1))
		return -1;
	return inb(COM1 + UART_THR);
}

uint64_t arch_guest_counter(struct vcpu *v, uint64_t host) { return host + v->arch.tsc_offset; }

/* CPUID 0x80000007 EDX bit 8: the TSC runs at a constant rate in every state. */
bool arch_counter_is_stable(void)
{
	uint32_t r[4];
	cpuid(0x80000000, 0, r);
	if (r[0] < 0x80000007)
		return false;
	cpuid(0x80000007, 0, r);
	return r[3] & (1u << 8);
}

void *arch_phys_to_virt(hpa_t pa) { return (void *)(uintptr_t)pa; }
hpa_t arch_virt_to_phys(const void *p) { return (uintptr_t)p; }

int arch_set_exit_method(const char *s, size_t len)
{
	if (len == 4 && !memcmp(s, "qemu", 4))
		exit_method = EXIT_QEMU;
	else if (len == 5 && !memcmp(s, "bochs", 5))
		exit_method = EXIT_BOCHS;
	else if (len == 4 && !memcmp(s, "halt", 4))
		exit_method = EXIT_HALT;
	else
		return -EINVAL;
	return 0;
}

void arch_halt_system(int status)
{
	con_printf("hv: stopping the machine (status %d)\n", status);
	uart_flush();
	if (exit_method == EXIT_QEMU)
		outl(QEMU_DEBUG_EXIT_PORT, status ? QEMU_EXIT_FAILURE : QEMU_EXIT_SUCCESS);
	if (exit_method == EXIT_BOCHS)
		for (const char *p = "Shutdown"; *p; p++)
			outb(BOCHS_SHUTDOWN_PORT, (uint8_t)*p);
	con_printf("hv: halted\n");
	uart_flush();
	cpu_halt_forever();
	__builtin_unreachable();
}

void arch_early_init(void)
{
	uart_init();
	x86_desc_init();
	x86_pic_mask_all();
}

/* Intel VMX (CPUID.1:ECX bit 5) or AMD SVM (CPUID 0x80000001:ECX bit 2). */
static const struct x86_vendor_ops *pick_vendor(void)
{
	uint32_t r[4];
	cpuid(1, 0, r);
	if (r[2] & (1u << 5))
		return &vmx_ops;
	cpuid(0x80000000, 0, r);
	if (r[0] >= 0x80000001) {
		cpuid(0x80000001, 0, r);
		if (r[2] & (1u << 2))
			return &svm_ops;
	}
	return NULL;
}

int arch_init(const struct boot_info *bi)
{
	if (x86_mmu_init(bi)) {
		pr_err("cannot build the hypervisor page tables\n");
		return -ENOMEM;
	}
	x86_fpu_init();
	x86_lapic_quiesce();
	uint64_t tsc_ticks, apic_ticks;
	x86_time_init(&tsc_ticks, &apic_ticks);
	x86_host_timer_init(tsc_ticks, apic_ticks);
	x86_vendor = pick_vendor();
	if (!x86_vendor) {
		pr_err("this CPU has neither Intel VMX nor AMD SVM: cannot run guests\n");
		return -EOPNOTSUPP;
	}
	int r = x86_vendor->init_cpu();
	if (r)
		return r;
	pr_info("virtualization: %s\n", x86_vendor->name);
	return 0;
}

int arch_vm_init(struct vm *vm) { return x86_vendor->vm_init(vm); }
void arch_vm_destroy(struct vm *vm) { x86_vendor->vm_destroy(vm); }

int arch_vcpu_init(struct vcpu *v)
{
	int r = x86_vendor->vcpu_init(v);
	if (r)
		return r;
	x86_vcpu_state_init(v);
	vlapic_reset(v);
	return 0;
}

void arch_vcpu_destroy(struct vcpu *v)
{
	x86_vcpu_forget(v);
	x86_vendor->vcpu_destroy(v);
}

void x86_inject_exception(struct vcpu *v, uint8_t vector, bool has_error, uint32_t error)
{
	/* real mode pushes no error code; VM entry refuses one there (SDM vol. 3C §26.2.1.3) */
	struct x86_paging pg;
	x86_vendor->get_paging(v, &pg);
	if (!(pg.cr0 & X86_CR0_PE))
		has_error = false;
	x86_vendor->inject_exception(v, vector, has_error, error);
}

void arch_dump_vcpu(struct vcpu *v)
{
	static const char *const names[16] = {
		"rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
		"r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15",
	};
	con_printf("  rip %016llx rflags %016llx\n", (unsigned long long)v->regs.rip,
	           (unsigned long long)v->regs.rflags);
	for (unsigned i = 0; i < 16; i++)
		con_printf("  %3s %016llx%s", names[i], (unsigned long long)v->regs.gpr[i],
		           i % 4 == 3 ? "\n" : "");
	x86_vendor->dump(v);
}

struct vcpu *arch_vcpu_by_irq_id(struct vm *vm, uint32_t id) { return vlapic_find(vm, id); }

uint64_t arch_apic_timer_hz(void) { return VLAPIC_BUS_HZ; }

void arch_flush_guest_tlb(struct vcpu *t) { x86_vendor->flush_tlb(t); }

uint32_t arch_apic_reg_read(struct vcpu *v, uint32_t off) { return vlapic_mmio_read(v, off); }
void arch_apic_reg_write(struct vcpu *v, uint32_t off, uint32_t val) { vlapic_mmio_write(v, off, val); }

/* VMCALL on Intel, VMMCALL on AMD: the one that does not need the #UD detour. */
size_t arch_hypercall_insn(uint8_t *buf)
{
	static const uint8_t vmcall[3] = { 0x0f, 0x01, 0xc1 }, vmmcall[3] = { 0x0f, 0x01, 0xd9 };
	memcpy(buf, x86_vendor == &svm_ops ? vmmcall : vmcall, 3);
	return 3;
}

int arch_send_ipi(struct vcpu *t, uint32_t icr)
{
	return vlapic_deliver_icr(t, icr);
}

int arch_guest_virt_to_phys(struct vcpu *v, uint64_t gva, uint64_t *gpa)
{
	struct x86_paging pg;
	x86_vendor->get_paging(v, &pg);
	if (!(pg.cr0 & X86_CR0_PG) && (gva >> 32))
		return -EFAULT;         /* with paging off, a 64-bit address names nothing (no silent truncation) */
	return x86_linear_to_gpa(v, &pg, gva, gpa);
}

/* The page's slot gives its host page and permissions, as when the stage-2 map was built. */
int arch_guest_page_set(struct vm *vm, uint64_t gpa, bool present)
{
	for (unsigned i = 0; i < vm->nr_slots; i++) {
		const struct vm_slot *sl = &vm->slots[i];
		if (gpa < sl->gpa || gpa - sl->gpa >= sl->size)
			continue;
		unsigned perm = PT_R | PT_X | (sl->flags & SLOT_READONLY ? 0 : PT_W);
		return x86_vendor->set_guest_page(vm, gpa & PAGE_MASK, sl->hpa + (gpa & PAGE_MASK) - sl->gpa, perm, present);
	}
	return -EINVAL;
}

/* The guest's physical-address width: the CPU's (CPUID 0x80000008 EAX[7:0], passed through), at most 48. */
static unsigned guest_phys_bits(void)
{
	static unsigned bits;
	if (!bits) {
		uint32_t r[4] = { 0 };
		cpuid(0x80000000, 0, r);
		bits = 36;                                     /* SDM: the width without the leaf */
		if (r[0] >= 0x80000008) {
			cpuid(0x80000008, 0, r);
			bits = MIN(r[0] & 0xff, 48u);
		}
	}
	return bits;
}

int arch_guest_page_map(struct vm *vm, uint64_t gpa, hpa_t hpa, bool writable, bool present)
{
	if (gpa >> guest_phys_bits())
		return -EINVAL;
	return x86_vendor->set_guest_page(vm, gpa & PAGE_MASK, hpa, PT_R | (writable ? PT_W : 0), present);
}

void arch_set_auto_eoi(struct vcpu *v, const uint32_t vectors[8])
{
	memcpy(v->arch.auto_eoi, vectors, sizeof(v->arch.auto_eoi));
}

/*
 * The guest's view: CR4 without the VMXE that VMX operation forces on, EFER
 * without the SVME that SVM does (as RDMSR shows it); CR8 is the APIC's TPR class.
 */
void arch_vcpu_ctrl_regs(struct vcpu *v, struct arch_ctrl_regs *r)
{
	struct x86_paging pg;
	x86_vendor->get_paging(v, &pg);
	*r = (struct arch_ctrl_regs){
		.cr0 = pg.cr0, .cr2 = pg.cr2, .cr3 = pg.cr3, .cr4 = pg.cr4 & ~X86_CR4_VMXE,
		.cr8 = v->arch.lapic.tpr >> 4, .efer = pg.efer & ~X86_EFER_SVME,
	};
}

void arch_inject_undef(struct vcpu *v) { x86_inject_exception(v, X86_EXC_UD, false, 0); }

void arch_handle_exit(struct vcpu *v, struct vm_exit *e)
{
	switch (e->reason) {
	case VMEXIT_CPUID:
		x86_emulate_cpuid(v, e);
		break;
	case VMEXIT_MSR_READ:
	case VMEXIT_MSR_WRITE:
		x86_emulate_msr(v, e);
		break;
	case VMEXIT_IO:
		x86_emulate_io(v, e);
		break;
	default:
		vm_end(v->vm, VM_END_ERROR, 0, "vcpu%u: exit %d not handled", v->id, e->reason);
	}
}

/* Local APIC (SDM vol. 3A ch. 10); register offsets are the ones arch/x86/vlapic.h names. */
#define APIC_LVT_MASKED (1u << 16)
#define APIC_LVT_LINT1 0x360            /* left alone: usually the NMI line */
#define APIC_TIMER_DIV1 0xbu            /* divide configuration: by 1 (SDM figure 10-10) */
#define X2APIC_MSR(reg) (0x800u + ((reg) >> 4))
/* Our preemption timer's vector: any free one above the exceptions will do. */
#define HOST_TIMER_VECTOR 0xecu
/* Without a PIT window (the TSC rate from CPUID, exact): measured against the TSC over 1 ms. */
#define HOST_TIMER_CALIBRATE_DIV 1000

static uint64_t host_apic_base;         /* IA32_APIC_BASE when enabled, else 0 */

static void lapic_write(uint32_t reg, uint32_t val)
{
	if (host_apic_base & APIC_BASE_EXTD)
		wrmsr(X2APIC_MSR(reg), val);
	else
		*(volatile uint32_t *)(uintptr_t)((host_apic_base & APIC_BASE_ADDR) + reg) = val;
}

static uint32_t lapic_read(uint32_t reg)
{
	if (host_apic_base & APIC_BASE_EXTD)
		return (uint32_t)rdmsr(X2APIC_MSR(reg));
	return *(volatile uint32_t *)(uintptr_t)((host_apic_base & APIC_BASE_ADDR) + reg);
}

/*
 * Mask every local interrupt source the firmware may have left armed (a
 * running LAPIC timer would make every guest exit again and again), except
 * LINT1, the NMI line. The timer is ours again in x86_host_timer_init.
 */
void x86_lapic_quiesce(void)
{
	uint32_t r[4];
	cpuid(1, 0, r);
	if (!(r[3] & (1u << 9)))              /* CPUID.1:EDX.APIC */
		return;
	uint64_t base = rdmsr(MSR_IA32_APIC_BASE);
	if (!(base & APIC_BASE_EN))
		return;
	host_apic_base = base;
	for (uint32_t reg = APIC_LVT_TIMER; reg <= APIC_LVT_ERROR; reg += 0x10)
		if (reg != APIC_LVT_LINT1)
			lapic_write(reg, lapic_read(reg) | APIC_LVT_MASKED);
}

/*
 * The scheduler's preemption source: the local-APIC timer in one-shot mode,
 * its rate measured against the TSC once. A guest that never exits is still
 * interrupted at the end of its slice: SVM intercepts INTR (with the host's
 * IF set across VMRUN), VMX exits on external interrupts.
 */
static struct time_scale host_timer_scale;   /* TSC ticks -> timer ticks */
static bool host_timer_ok;

void x86_lapic_count_start(void)
{
	if (!host_apic_base)
		return;
	lapic_write(APIC_TIMER_DCR, APIC_TIMER_DIV1);
	lapic_write(APIC_LVT_TIMER, APIC_LVT_MASKED | HOST_TIMER_VECTOR);
	lapic_write(APIC_TIMER_ICR, UINT32_MAX);
}

uint64_t x86_lapic_count_ticks(void)
{
	if (!host_apic_base)
		return 0;
	uint32_t left = lapic_read(APIC_TIMER_CCR);
	lapic_write(APIC_TIMER_ICR, 0);
	return UINT32_MAX - left;
}

void x86_host_timer_init(uint64_t tsc_ticks, uint64_t apic_ticks)
{
	if (!host_apic_base) {
		pr_warn("no local APIC: vCPUs run until they exit on their own (no preemption)\n");
		return;
	}
	if (!tsc_ticks) {
		x86_lapic_count_start();
		uint64_t t0 = rdtsc(), wait = time_counter_hz() / HOST_TIMER_CALIBRATE_DIV;
		while (rdtsc() - t0 < wait)
			__asm__ volatile("pause");
		apic_ticks = x86_lapic_count_ticks();
		tsc_ticks = rdtsc() - t0;
	}
	if (!apic_ticks || !tsc_ticks) {
		pr_warn("the local-APIC timer does not count: vCPUs are not preempted\n");
		return;
	}
	host_timer_scale = time_make_scale(tsc_ticks, apic_ticks);
	lapic_write(APIC_LVT_TIMER, HOST_TIMER_VECTOR);     /* one-shot, unmasked */
	host_timer_ok = true;
	pr_info("preemption: local-APIC timer at %llu kHz\n",
	        (unsigned long long)(time_apply_scale(time_counter_hz(), host_timer_scale) / 1000));
}

/* The deadline the timer counts towards; 0 once it fired (or was never armed). */
static uint64_t host_timer_armed;

void x86_host_timer_arm(uint64_t deadline)
{
	/* most entries of a slice share its deadline: the LAPIC write (an exit when we are nested) is skipped */
	if (!host_timer_ok || deadline == host_timer_armed)
		return;
	host_timer_armed = deadline;
	uint64_t now = rdtsc();
	uint64_t count = deadline > now ? time_apply_scale(deadline - now, host_timer_scale) : 1;
	lapic_write(APIC_TIMER_ICR, count == 0 ? 1 : count > UINT32_MAX ? UINT32_MAX : (uint32_t)count);
}

void arch_idle_until(uint64_t deadline)
{
	while (rdtsc() < deadline) {
		if (!uart_push()) {               /* nothing else to do: the console catches up */
			__asm__ volatile("pause");
			continue;
		}
		if (host_timer_ok) {
			x86_host_timer_arm(deadline);
			__asm__ volatile("sti; hlt; cli" ::: "memory");   /* STI's shadow covers HLT */
		} else {
			__asm__ volatile("pause");
		}
	}
}

void x86_take_host_interrupt(void)
{
	__asm__ volatile("sti; nop; cli" ::: "memory");
}

void x86_pic_mask_all(void)
{
	outb(0x21, 0xff);   /* master 8259 IMR */
	outb(0xa1, 0xff);   /* slave 8259 IMR */
}

void x86_ack_interrupt(uint64_t vector)
{
	if (host_apic_base)
		lapic_write(APIC_EOI, 0);
	if (vector == HOST_TIMER_VECTOR) {
		host_timer_armed = 0;
		return;
	}
	/* Otherwise the source is unknown: EOI both PICs too (an EOI with nothing in service is ignored). */
	outb(0xa0, 0x20);
	outb(0x20, 0x20);
}
