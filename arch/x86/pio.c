/*
 * Port I/O a guest may do: COM1 (its console), the exit port, and nothing
 * else. Every other port reads as all ones and ignores writes, as an empty
 * ISA bus does.
 */
#define LOG_SUB_FILE LOG_SUB_ARCH   /* its messages: loglevel=arch:LEVEL */
#include "arch/x86/x86.h"
#include "core/arch.h"
#include "core/exit.h"
#include "core/vm.h"

#define GUEST_COM1 0x3f8
#define GUEST_COM1_END 0x3ff
#define UART_LCR 3
#define UART_LCR_DLAB 0x80
#define UART_LSR 5
#define UART_LSR_THRE_TEMT 0x60   /* transmitter empty: the guest never waits */
#define GUEST_EXIT_PORT 0xf4      /* docs/guest-boot.md */

static uint32_t com1_read(struct vm *vm, uint16_t port)
{
	switch (port - GUEST_COM1) {
	case UART_LSR: return UART_LSR_THRE_TEMT;
	case UART_LCR: return vm->arch.com1_lcr;
	default: return 0;
	}
}

static void com1_write(struct vm *vm, uint16_t port, uint8_t val)
{
	if (port - GUEST_COM1 == UART_LCR)
		vm->arch.com1_lcr = val;
	else if (port == GUEST_COM1 && !(vm->arch.com1_lcr & UART_LCR_DLAB))
		vm_console_putc(vm, (char)val);
}

void x86_emulate_io(struct vcpu *v, const struct vm_exit *e)
{
	uint16_t port = e->io.port;
	uint64_t mask = e->io.size == 4 ? UINT32_MAX : (1ull << (8 * e->io.size)) - 1;
	if (e->io.string) {
		vm_end(v->vm, VM_END_ERROR, 0, "vcpu%u: string port I/O (port 0x%x) is not emulated",
		       v->id, port);
		return;
	}
	if (e->io.in) {
		bool com1 = port >= GUEST_COM1 && port <= GUEST_COM1_END;
		uint32_t val = com1 ? com1_read(v->vm, port) : UINT32_MAX;
		uint64_t *rax = &v->regs.gpr[X86_RAX];
		/* IN EAX zero-extends into RAX; 8/16-bit forms keep the other bits */
		*rax = e->io.size == 4 ? (uint32_t)val : (*rax & ~mask) | (val & mask);
	} else {
		uint32_t val = (uint32_t)(v->regs.gpr[X86_RAX] & mask);
		if (port >= GUEST_COM1 && port <= GUEST_COM1_END)
			com1_write(v->vm, port, (uint8_t)val);
		else if (port == GUEST_EXIT_PORT) {
			vm_end(v->vm, VM_END_EXIT, val, "vcpu%u wrote status %u to port 0x%x", v->id,
			       val, GUEST_EXIT_PORT);
			return;
		}
	}
	arch_skip_insn(v, e);
}
