#include <stdarg.h>
#include "core/log.h"
#include "core/vm.h"
#include "hypercalls/hypercall.h"

static const char *const end_names[] = {
	[VM_END_NONE] = "running",
	[VM_END_EXIT] = "exited",
	[VM_END_TRIPLE_FAULT] = "triple fault",
	[VM_END_MEM_FAULT] = "nested page fault",
	[VM_END_HALTED] = "halted forever",
	[VM_END_ERROR] = "hypervisor error",
	[VM_END_LOAD_FAILED] = "not started",
	[VM_END_GUEST_CRASH] = "guest crashed",
	[VM_END_RESET] = "reset by the guest",
};

/* Every VM that exists, for the calls that name another VM (Xen domid_t arguments). */
static struct vm *vm_table[VM_MAX_VMS];

void vm_register(struct vm *vm)
{
	for (unsigned i = 0; i < VM_MAX_VMS; i++)
		if (!vm_table[i]) {
			vm_table[i] = vm;
			return;
		}
}

void vm_unregister(struct vm *vm)
{
	for (unsigned i = 0; i < VM_MAX_VMS; i++)
		if (vm_table[i] == vm)
			vm_table[i] = NULL;
}

struct vm *vm_find(unsigned id)
{
	for (unsigned i = 0; i < VM_MAX_VMS; i++)
		if (vm_table[i] && vm_table[i]->id == id)
			return vm_table[i];
	return NULL;
}

const char *vm_end_name(enum vm_end how)
{
	return how < ARRAY_SIZE(end_names) ? end_names[how] : "?";
}

void vm_end(struct vm *vm, enum vm_end how, uint32_t status, const char *fmt, ...)
{
	if (vm->state == VM_ENDED)
		return;
	vm_console_flush(vm);
	vm->state = VM_ENDED;
	vm->end = how;
	vm->exit_status = status;
	va_list ap;
	va_start(ap, fmt);
	hv_vsnprintf(vm->end_reason, sizeof(vm->end_reason), fmt, ap);
	va_end(ap);
	log_msg(how == VM_END_EXIT ? LOG_INFO : LOG_ERR, "%s: %s: %s\n",
	        vm->name, vm_end_name(how), vm->end_reason);
	hc_vm_ended(vm);
}

void vm_console_flush(struct vm *vm)
{
	if (!vm->con_len)
		return;
	con_printf("[%s] %.*s\n", vm->name, (int)vm->con_len, vm->con_line);
	vm->con_len = 0;
}

void vm_console_putc(struct vm *vm, char c)
{
	if (c == '\n') {
		/* an empty line still shows, so a guest's blank lines are kept */
		if (!vm->con_len)
			con_printf("[%s]\n", vm->name);
		vm_console_flush(vm);
		return;
	}
	if (c == '\r')
		return;
	/* Never let a guest drive the host terminal: show control bytes as '.'. */
	if ((uint8_t)c < 0x20 || (uint8_t)c >= 0x7f)
		c = '.';
	vm->con_line[vm->con_len++] = c;
	if (vm->con_len == sizeof(vm->con_line))
		vm_console_flush(vm);
}
