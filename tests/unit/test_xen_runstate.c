/*
 * Xen runstate areas and vm_assist (xen/include/public/vcpu.h struct
 * vcpu_runstate_info, VCPUOP_register_runstate_memory_area; xen/common/
 * sched/core.c vcpu_runstate_change; public/xen.h VMASST_*) through the
 * real dispatcher and the real scheduler calls (vcpu_halt, vcpu_wake): the
 * area follows each change of state with the time spent in the old one.
 * The fake arch's guest-virtual addresses are guest-physical.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "core/exit.h"
#include "core/sched.h"
#include "core/time.h"
#include "core/vm.h"
#include "hypercalls/hypercall.h"
#include "hypercalls/xen/xen_abi.h"
#include "tests/fake_arch/fake_arch.h"
#include "tests/fake_arch/fake_test.h"

#define HZ 1000000000ull             /* a 1 GHz counter: ticks are ns */
#define C0 5000ull
#define RAM MiB(1)
#define ARG 0x2000ull
#define AREA 0x3000ull
#define MS 1000000ull
#define ERR(e) ((uint64_t)-(int64_t)(e))

static struct vm *vm;
static struct vcpu *v, *ap;

static int setup(void **state)
{
	fake_arch_reset();
	fake.counter = C0;
	time_init(HZ, C0, 0);
	vm = fake_vm_new();
	fake_vm_add_slot(vm, 0, RAM, 0, 0x5a);
	vm->mem_size = RAM;
	vm->clock_base = C0;
	hc_vm_set_abis(vm, (const struct hc_abi *const[]){ &xen_abi }, 1);
	v = fake_vcpu_new(vm);
	ap = fake_vcpu_new(vm);
	v->state = VCPU_RUNNABLE;
	ap->state = VCPU_WAIT_SIPI;
	vm->running = v;
	return 0;
}

static int teardown(void **state)
{
	fake_cleanup();
	return 0;
}

static uint64_t call(uint64_t nr, uint64_t a0, uint64_t a1, uint64_t a2)
{
	v->regs.gpr[X86_RAX] = nr;
	v->regs.gpr[X86_RDI] = a0;
	v->regs.gpr[X86_RSI] = a1;
	v->regs.gpr[X86_RDX] = a2;
	struct vm_exit e = { .reason = VMEXIT_HYPERCALL, .insn_len = 3, .mode = MODE_64, .hc.insn = HC_INSN_VMMCALL };
	hc_dispatch(v, &e);
	return v->regs.gpr[X86_RAX];
}

static uint64_t register_area(unsigned vcpu, uint64_t addr)
{
	memcpy(fake_vm_hva(vm, ARG), &addr, 8);
	return call(__HYPERVISOR_vcpu_op, VCPUOP_register_runstate_memory_area, vcpu, ARG);
}

struct runstate { uint32_t state; uint64_t entry; uint64_t time[4]; };

/* The area as the guest reads it: 48 bytes, or 44 in the 32-bit layout (uint64_t 4-aligned). */
static struct runstate area(uint64_t at, bool compat)
{
	struct runstate r;
	const uint8_t *p = fake_vm_hva(vm, at);
	size_t e = compat ? 4 : 8;
	memcpy(&r.state, p, 4);
	memcpy(&r.entry, p + e, 8);
	memcpy(r.time, p + e + 8, sizeof(r.time));
	return r;
}

static void expect_area(uint64_t at, bool compat, uint32_t state, uint64_t entry, const uint64_t time[4])
{
	struct runstate r = area(at, compat);
	assert_int_equal(r.state, state);
	assert_int_equal(r.entry, entry);
	for (unsigned i = 0; i < 4; i++)
		if (r.time[i] != time[i])
			fail_fmt("time[%u] %llu, want %llu", i, (unsigned long long)r.time[i], (unsigned long long)time[i]);
}

/* Running, then blocked by HLT, then runnable when woken: each state's time, in ns of system time. */
static void test_states_and_times(void **state)
{
	fake.counter = C0 + 3 * MS;
	assert_int_equal(register_area(0, AREA), 0);
	expect_area(AREA, false, RUNSTATE_running, 0, (uint64_t[4]){ 0 });   /* running since the VM began */
	fake.counter = C0 + 5 * MS;
	vcpu_halt(v);
	expect_area(AREA, false, RUNSTATE_blocked, 5 * MS, (uint64_t[4]){ 5 * MS, 0, 0, 0 });
	fake.counter = C0 + 7 * MS;
	vm->running = NULL;
	vcpu_wake(v);
	expect_area(AREA, false, RUNSTATE_runnable, 7 * MS, (uint64_t[4]){ 5 * MS, 0, 2 * MS, 0 });
	fake.counter = C0 + 10 * MS;
	vm->running = v;
	hc_vcpu_runstate(v);                                /* the scheduler gave it the CPU */
	expect_area(AREA, false, RUNSTATE_running, 10 * MS, (uint64_t[4]){ 5 * MS, 3 * MS, 2 * MS, 0 });
	/* nothing changed: nothing rewritten */
	memset(fake_vm_hva(vm, AREA), 0xee, 48);
	hc_vcpu_runstate(v);
	assert_int_equal(fake_vm_hva(vm, AREA)[0], 0xee);
}

/* Another vCPU's area; an AP that was never started is offline. */
static void test_other_vcpu_offline(void **state)
{
	fake.counter = C0 + MS;
	assert_int_equal(register_area(1, AREA + 0x100), 0);
	expect_area(AREA + 0x100, false, RUNSTATE_offline, 0, (uint64_t[4]){ 0 });
	fake.counter = C0 + 4 * MS;
	vcpu_wake(ap);                                      /* started */
	expect_area(AREA + 0x100, false, RUNSTATE_runnable, 4 * MS, (uint64_t[4]){ 0, 0, 0, 4 * MS });
	assert_int_equal(register_area(9, AREA), ERR(XEN_ENOENT));
}

/* The 32-bit layout (latched from the hypercall page written outside long mode): 44 bytes. */
static void test_compat_layout(void **state)
{
	fake.ctrl[0].efer = 0;
	assert_int_equal(hc_msr_write(v, 0x40000000u, 0x6000), 0);
	memset(fake_vm_hva(vm, AREA), 0xee, 64);
	fake.counter = C0 + 2 * MS;
	assert_int_equal(register_area(0, AREA), 0);
	fake.counter = C0 + 6 * MS;
	vcpu_halt(v);
	expect_area(AREA, true, RUNSTATE_blocked, 6 * MS, (uint64_t[4]){ 6 * MS, 0, 0, 0 });
	assert_int_equal(fake_vm_hva(vm, AREA + 44)[0], 0xee);  /* nothing past 44 bytes */
}

/* With VMASST_TYPE_runstate_update_flag the final state_entry_time carries no XEN_RUNSTATE_UPDATE. */
static void test_update_flag(void **state)
{
	assert_int_equal(call(__HYPERVISOR_vm_assist, VMASST_CMD_enable, VMASST_TYPE_runstate_update_flag, 0), 0);
	assert_int_equal(register_area(0, AREA), 0);
	fake.counter = C0 + MS;
	vcpu_halt(v);
	expect_area(AREA, false, RUNSTATE_blocked, MS, (uint64_t[4]){ MS, 0, 0, 0 });
	assert_int_equal(call(__HYPERVISOR_vm_assist, VMASST_CMD_disable, VMASST_TYPE_runstate_update_flag, 0), 0);
	/* HVM domains may only ask for this one (Xen HVM_VM_ASSIST_MASK) */
	assert_int_equal(call(__HYPERVISOR_vm_assist, VMASST_CMD_enable, 0, 0), ERR(XEN_EINVAL));
	assert_int_equal(call(__HYPERVISOR_vm_assist, 7, VMASST_TYPE_runstate_update_flag, 0), ERR(XEN_ENOSYS));
}

/* Address 0 stops the updates; an area outside RAM is taken, and simply not written. */
static void test_unregister_and_bad_areas(void **state)
{
	assert_int_equal(register_area(0, AREA), 0);
	assert_int_equal(register_area(0, 0), 0);
	memset(fake_vm_hva(vm, AREA), 0xee, 48);
	fake.counter = C0 + MS;
	vcpu_halt(v);
	assert_int_equal(fake_vm_hva(vm, AREA)[0], 0xee);
	assert_int_equal(register_area(0, RAM - 8), 0);
	vm->running = NULL;
	vcpu_wake(v);
	assert_int_equal(call(__HYPERVISOR_vcpu_op, VCPUOP_register_runstate_memory_area, 0, RAM), ERR(XEN_EFAULT));
}

/*
 * The address is translated once, with the registering vCPU's paging: one
 * that is not mapped is taken and never written; an area across a page
 * boundary is written to both pages.
 */
static void test_translation(void **state)
{
	hc_vcpu_runstate(v);                                    /* the scheduler runs it: running since the start */
	fake.virt_fault = true;
	memset(fake_vm_hva(vm, AREA), 0xee, 48);
	assert_int_equal(register_area(0, AREA), 0);
	assert_int_equal(fake_vm_hva(vm, AREA)[0], 0xee);
	fake.virt_fault = false;
	fake.counter = C0 + MS;
	vcpu_halt(v);
	assert_int_equal(fake_vm_hva(vm, AREA)[0], 0xee);       /* still nothing: it was never mapped */
	uint64_t across = AREA + PAGE_SIZE - 20;
	assert_int_equal(register_area(0, across), 0);
	expect_area(across, false, RUNSTATE_blocked, MS, (uint64_t[4]){ MS, 0, 0, 0 });
}

/*
 * A 32-bit caller's handle is 32 bits (a compat XEN_GUEST_HANDLE): bits
 * 63:32 of the 8-byte field are not part of it. The same field from a
 * 64-bit caller names an address nothing maps, never written.
 */
static void test_32bit_handle_cut(void **state)
{
	uint64_t handle = 0xdead000000000000ull | AREA;
	memset(fake_vm_hva(vm, AREA), 0xee, 48);
	assert_int_equal(register_area(0, handle), 0);
	assert_int_equal(fake_vm_hva(vm, AREA)[0], 0xee);
	memcpy(fake_vm_hva(vm, ARG), &handle, 8);
	v->regs.gpr[X86_RAX] = __HYPERVISOR_vcpu_op;
	v->regs.gpr[X86_RBX] = VCPUOP_register_runstate_memory_area;
	v->regs.gpr[X86_RCX] = 0;
	v->regs.gpr[X86_RDX] = ARG;
	struct vm_exit e = { .reason = VMEXIT_HYPERCALL, .insn_len = 3, .mode = MODE_PROT32, .hc.insn = HC_INSN_VMMCALL };
	hc_dispatch(v, &e);
	assert_int_equal(v->regs.gpr[X86_RAX], 0);
	expect_area(AREA, false, RUNSTATE_running, 0, (uint64_t[4]){ 0 });
	fake.counter = C0 + MS;
	vcpu_halt(v);
	expect_area(AREA, false, RUNSTATE_blocked, MS, (uint64_t[4]){ MS, 0, 0, 0 });
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_states_and_times),
		T(test_other_vcpu_offline),
		T(test_compat_layout),
		T(test_update_flag),
		T(test_unregister_and_bad_areas),
		T(test_translation),
		T(test_32bit_handle_cut),
	};
	return cmocka_run_group_tests_name("xen_runstate", tests, NULL, NULL);
}
