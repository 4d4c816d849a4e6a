/*
 * The KVM ABI's scheduling calls and steal time (hypercalls/kvm/kvm_pv.c)
 * through the real dispatcher, checked against Linux arch/x86/kvm/x86.c
 * (kvm_emulate_hypercall, kvm_sched_yield, record_steal_time) and lapic.c
 * (kvm_pv_send_ipi): KVM_HC_KICK_CPU, KVM_HC_SEND_IPI, KVM_HC_SCHED_YIELD and
 * MSR_KVM_STEAL_TIME, alone and inside vm_run.
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
#include "hypercalls/kvm/kvm_abi.h"
#include "tests/fake_arch/fake_arch.h"
#include "tests/fake_arch/fake_test.h"

#define HZ 2000000000ull                     /* 2 ticks per ns: steal converts exactly */
#define C0 1000000000ull
#define S (HZ * SCHED_SLICE_US / 1000000)
#define RAM MiB(1)
#define NCPU 4
#define EINVAL64 ((uint64_t)-KVM_EINVAL)
#define EINVAL32 ((uint64_t)(uint32_t)-KVM_EINVAL)
#define EPERM64  ((uint64_t)-KVM_EPERM)

static struct vm *vm;
static struct vcpu *cpu[NCPU];

static int setup(void **state)
{
	fake_arch_reset();
	fake_console_reset();
	fake.counter = C0;
	time_init(HZ, C0, 0);
	vm = fake_vm_new();
	fake_vm_add_slot(vm, 0, RAM, 0, 0);
	vm->mem_size = RAM;
	for (unsigned i = 0; i < NCPU; i++) {
		cpu[i] = fake_vcpu_new(vm);
		cpu[i]->state = VCPU_RUNNABLE;
		cpu[i]->ready_since = C0;
	}
	return 0;
}

static int teardown(void **state)
{
	hc_vm_destroy(vm);
	fake_cleanup();
	return 0;
}

static uint64_t hcall(struct vcpu *v, enum cpu_mode mode, uint8_t cpl, uint64_t nr,
                      uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3)
{
	struct vm_exit e = { .reason = VMEXIT_HYPERCALL, .mode = mode, .cpl = cpl, .insn_len = 3 };
	v->regs.gpr[X86_RAX] = nr;
	v->regs.gpr[X86_RBX] = a0;
	v->regs.gpr[X86_RCX] = a1;
	v->regs.gpr[X86_RDX] = a2;
	v->regs.gpr[X86_RSI] = a3;
	hc_dispatch(v, &e);
	return v->regs.gpr[X86_RAX];
}

static uint64_t send_ipi(uint64_t low, uint64_t high, uint64_t min, uint64_t icr)
{
	return hcall(cpu[0], MODE_64, 0, KVM_HC_SEND_IPI, low, high, min, icr);
}

static unsigned total_ipis(void)
{
	unsigned n = 0;
	for (unsigned i = 0; i < VM_MAX_VCPUS; i++)
		n += fake.ipis[i];
	return n;
}

/* ---- KVM_HC_SEND_IPI ---- */

static void test_send_ipi_low_bitmap(void **state)
{
	assert_int_equal(send_ipi(0xe, 0, 0, 0xf3), 3);           /* APIC IDs 1, 2, 3 */
	assert_int_equal(fake.ipis[0], 0);
	for (unsigned i = 1; i < NCPU; i++) {
		assert_int_equal(fake.ipis[i], 1);
		assert_int_equal(fake.ipi_icr[i], 0xf3);
	}
	assert_int_equal(cpu[0]->regs.rip, 3);
}

static void test_send_ipi_min_offsets_bitmap(void **state)
{
	assert_int_equal(send_ipi(0x3, 0, 2, 0x40f4), 2);         /* bits 0, 1 from min 2: IDs 2, 3 */
	assert_int_equal(fake.ipis[2], 1);
	assert_int_equal(fake.ipis[3], 1);
	assert_int_equal(total_ipis(), 2);
	assert_int_equal(fake.ipi_icr[3], 0x40f4);                /* the ICR goes through whole */
}

static void test_send_ipi_absent_ids_skipped(void **state)
{
	assert_int_equal(send_ipi(UINT64_MAX, UINT64_MAX, 0, 0xf5), NCPU);
	assert_int_equal(total_ipis(), NCPU);
	fake.irq_id_map = true;                                    /* sparse APIC IDs: 0, 5, 7, 9 */
	fake.irq_id[0] = 0, fake.irq_id[1] = 5, fake.irq_id[2] = 7, fake.irq_id[3] = 9;
	memset(fake.ipis, 0, sizeof(fake.ipis));
	assert_int_equal(send_ipi(0x3fe, 0, 0, 0xf6), 3);         /* IDs 1-9: 5, 7, 9 exist */
	assert_int_equal(fake.ipis[0], 0);
	assert_int_equal(total_ipis(), 3);
}

static void test_send_ipi_refused_not_counted(void **state)
{
	fake.ipi_refuse = 1u << 2;
	assert_int_equal(send_ipi(0xe, 0, 0, 0xf7), 2);
	assert_int_equal(fake.ipis[2], 0);
	assert_int_equal(fake.ipi_icr[2], 0xf7);                  /* offered, not accepted */
	assert_int_equal(fake.ipis[1] + fake.ipis[3], 2);
}

static void test_send_ipi_high_bitmap_64bit(void **state)
{
	fake.irq_id_map = true;
	fake.irq_id[0] = 0, fake.irq_id[1] = 8, fake.irq_id[2] = 40, fake.irq_id[3] = 72;
	/* 64-bit caller: the high word starts at min + 64 */
	assert_int_equal(send_ipi(0, 1, 8, 0xf8), 1);
	assert_int_equal(fake.ipis[3], 1);
	assert_int_equal(total_ipis(), 1);
	/* and the low word covers 64 IDs: bit 32 is min + 32 */
	assert_int_equal(send_ipi(1ull << 32, 0, 8, 0xf8), 1);
	assert_int_equal(fake.ipis[2], 1);
	assert_int_equal(send_ipi(1, 0, 8, 0xf8), 1);
	assert_int_equal(fake.ipis[1], 1);
	assert_int_equal(total_ipis(), 3);
}

static void test_send_ipi_high_bitmap_32bit(void **state)
{
	fake.irq_id_map = true;
	fake.irq_id[0] = 0, fake.irq_id[1] = 8, fake.irq_id[2] = 40, fake.irq_id[3] = 72;
	/* 32-bit caller: arguments cut to 32 bits, the high word starts at min + 32 */
	uint64_t r = hcall(cpu[0], MODE_PROT32, 0, KVM_HC_SEND_IPI,
	                   0xffffffff00000000ull, 0xffffffff00000001ull, 0xffffffff00000008ull,
	                   0xffffffff000000f9ull);
	assert_int_equal(r, 1);
	assert_int_equal(fake.ipis[2], 1);                         /* ID 40 = 8 + 32 */
	assert_int_equal(fake.ipi_icr[2], 0xf9);
	assert_int_equal(total_ipis(), 1);
	/*
	 * The same registers from a 64-bit caller: min is a u32 in KVM too (8),
	 * low bits 32-63 are IDs 40-71, the high word starts at 72.
	 */
	memset(fake.ipis, 0, sizeof(fake.ipis));
	r = hcall(cpu[0], MODE_64, 0, KVM_HC_SEND_IPI,
	          0xffffffff00000000ull, 0xffffffff00000001ull, 0xffffffff00000008ull, 0xffffffff000000f9ull);
	assert_int_equal(r, 2);
	assert_int_equal(fake.ipis[2], 1);
	assert_int_equal(fake.ipis[3], 1);
	assert_int_equal(fake.ipi_icr[3], 0xf9);
	assert_int_equal(total_ipis(), 2);
}

static void test_send_ipi_min_above_all_ids(void **state)
{
	assert_int_equal(send_ipi(UINT64_MAX, UINT64_MAX, NCPU, 0xfb), 0);
	assert_int_equal(send_ipi(UINT64_MAX, UINT64_MAX, 1000, 0xfb), 0);
	assert_int_equal(send_ipi(UINT64_MAX, UINT64_MAX, 0xffffffffull, 0xfb), 0);
	/* min + 64 past 2^32 does not wrap around to ID 0 (documented in kvm_pv.c) */
	assert_int_equal(send_ipi(0, 1, 0xffffffc0ull, 0xfb), 0);
	assert_int_equal(total_ipis(), 0);
}

static void test_send_ipi_logical_or_shorthand_einval(void **state)
{
	static const uint32_t bad[] = {
		0x8fc,                    /* bit 11: logical destination */
		0x400fc, 0x800fc, 0xc00fc, /* shorthands self, all, all but self */
		0xc08fc,
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		uint64_t r = send_ipi(0xf, 0, 0, bad[i]);
		if (r != EINVAL64)
			fail_fmt("ICR 0x%x: rax 0x%llx", bad[i], (unsigned long long)r);
	}
	assert_int_equal(total_ipis(), 0);
	/* a 32-bit caller sees the error zero-extended */
	assert_int_equal(hcall(cpu[0], MODE_PROT32, 0, KVM_HC_SEND_IPI, 1, 0, 0, 0x8fc), EINVAL32);
}

static void test_send_ipi_cpl3_eperm(void **state)
{
	assert_int_equal(hcall(cpu[0], MODE_64, 3, KVM_HC_SEND_IPI, 0xf, 0, 0, 0xfd), EPERM64);
	assert_int_equal(total_ipis(), 0);
}

/* ---- KVM_HC_KICK_CPU ---- */

static void test_kick_halted_vcpu_wakes_it(void **state)
{
	cpu[2]->state = VCPU_HALTED;
	fake.counter = C0 + 500;
	assert_int_equal(hcall(cpu[0], MODE_64, 0, KVM_HC_KICK_CPU, 0, 2, 0, 0), 0);
	assert_int_equal(cpu[2]->state, VCPU_RUNNABLE);
	assert_false(cpu[2]->pv_unhalt);                            /* used up by this wake-up */
	assert_int_equal(cpu[2]->ready_since, C0 + 500);
	assert_ptr_equal(vm->yield_to, cpu[2]);
	assert_int_equal(cpu[0]->regs.rip, 3);
}

static void test_kick_running_vcpu_skips_its_next_hlt(void **state)
{
	assert_int_equal(hcall(cpu[0], MODE_64, 0, KVM_HC_KICK_CPU, 0, 1, 0, 0), 0);
	assert_true(cpu[1]->pv_unhalt);
	assert_ptr_equal(vm->yield_to, cpu[1]);
	vcpu_halt(cpu[1]);
	assert_int_equal(cpu[1]->state, VCPU_RUNNABLE);
	assert_false(cpu[1]->pv_unhalt);
	vcpu_halt(cpu[1]);
	assert_int_equal(cpu[1]->state, VCPU_HALTED);
}

static void test_kick_unknown_id_harmless(void **state)
{
	assert_int_equal(hcall(cpu[0], MODE_64, 0, KVM_HC_KICK_CPU, 0, 77, 0, 0), 0);
	assert_int_equal(hcall(cpu[0], MODE_64, 0, KVM_HC_KICK_CPU, 0, 0xffffffffull, 0, 0), 0);
	for (unsigned i = 0; i < NCPU; i++)
		assert_false(cpu[i]->pv_unhalt);
	assert_null(vm->yield_to);
	/* the APIC ID is an int in KVM (kvm_pv_kick_cpu_op): bits 63:32 do not count */
	assert_int_equal(hcall(cpu[0], MODE_64, 0, KVM_HC_KICK_CPU, 0, 0x100000001ull, 0, 0), 0);
	assert_true(cpu[1]->pv_unhalt);
}

/* Gap 5.4: a0 (flags) is not looked at, as KVM (x86.c kvm_emulate_hypercall passes only a1 to kvm_pv_kick_cpu_op). */
static void test_kick_flags_ignored(void **state)
{
	cpu[2]->state = VCPU_HALTED;
	assert_int_equal(hcall(cpu[0], MODE_64, 0, KVM_HC_KICK_CPU, 0xffff, 2, 0, 0), 0);
	assert_int_equal(cpu[2]->state, VCPU_RUNNABLE);
	assert_ptr_equal(vm->yield_to, cpu[2]);
	cpu[3]->state = VCPU_HALTED;
	assert_int_equal(hcall(cpu[0], MODE_64, 0, KVM_HC_KICK_CPU, UINT64_MAX, 3, 0, 0), 0);
	assert_int_equal(cpu[3]->state, VCPU_RUNNABLE);
	assert_int_equal(cpu[0]->regs.rip, 6);
}

static void test_kick_32bit_truncates_id(void **state)
{
	cpu[1]->state = VCPU_HALTED;
	assert_int_equal(hcall(cpu[0], MODE_PROT32, 0, KVM_HC_KICK_CPU, 0, 0x700000001ull, 0, 0), 0);
	assert_int_equal(cpu[1]->state, VCPU_RUNNABLE);
}

static void test_kick_unstarted_vcpu_does_not_start_it(void **state)
{
	cpu[3]->state = VCPU_WAIT_SIPI;
	assert_int_equal(hcall(cpu[0], MODE_64, 0, KVM_HC_KICK_CPU, 0, 3, 0, 0), 0);
	assert_int_equal(cpu[3]->state, VCPU_WAIT_SIPI);
	assert_null(vm->yield_to);
}

static void test_kick_cpl3_eperm(void **state)
{
	cpu[2]->state = VCPU_HALTED;
	assert_int_equal(hcall(cpu[0], MODE_64, 3, KVM_HC_KICK_CPU, 0, 2, 0, 0), EPERM64);
	assert_int_equal(cpu[2]->state, VCPU_HALTED);
	assert_false(cpu[2]->pv_unhalt);
}

/* ---- KVM_HC_SCHED_YIELD ---- */

static void test_sched_yield(void **state)
{
	assert_int_equal(hcall(cpu[0], MODE_64, 0, KVM_HC_SCHED_YIELD, 2, 0, 0, 0), 0);
	assert_ptr_equal(vm->yield_to, cpu[2]);
	vm->yield_to = NULL;
	/* not to itself, not to a vCPU that cannot run, not to an unknown ID */
	assert_int_equal(hcall(cpu[0], MODE_64, 0, KVM_HC_SCHED_YIELD, 0, 0, 0, 0), 0);
	assert_null(vm->yield_to);
	cpu[1]->state = VCPU_HALTED;
	assert_int_equal(hcall(cpu[0], MODE_64, 0, KVM_HC_SCHED_YIELD, 1, 0, 0, 0), 0);
	assert_null(vm->yield_to);
	cpu[3]->state = VCPU_WAIT_SIPI;
	assert_int_equal(hcall(cpu[0], MODE_64, 0, KVM_HC_SCHED_YIELD, 3, 0, 0, 0), 0);
	assert_null(vm->yield_to);
	assert_int_equal(hcall(cpu[0], MODE_64, 0, KVM_HC_SCHED_YIELD, 99, 0, 0, 0), 0);
	assert_null(vm->yield_to);
	assert_int_equal(cpu[1]->state, VCPU_HALTED);
}

static void test_sched_yield_in_vm_run(void **state)
{
	/* vcpu0 yields to vcpu2: vcpu2 runs next, ahead of vcpu1 */
	cpu[3]->state = VCPU_WAIT_SIPI;
	struct guest_regs r = { .rip = 0x1000, .rflags = 2 };
	r.gpr[X86_RAX] = KVM_HC_SCHED_YIELD;
	r.gpr[X86_RBX] = 2;
	struct vm_exit hc = { .reason = VMEXIT_HYPERCALL, .mode = MODE_64, .insn_len = 3 };
	struct vm_exit down = { .reason = VMEXIT_SHUTDOWN, .mode = MODE_64 };
	fake_script_exit(&hc, &r);
	fake_script_exit(&down, NULL);
	vm_run(vm);
	assert_int_equal(fake.runs, 2);
	assert_int_equal(fake.ran[0], 0);
	assert_int_equal(fake.ran[1], 2);
	assert_int_equal(cpu[0]->regs.gpr[X86_RAX], 0);
	assert_int_equal(cpu[0]->regs.rip, 0x1003);
	assert_int_equal(vm->end, VM_END_TRIPLE_FAULT);
}

/* ---- MSR_KVM_STEAL_TIME ---- */

static struct kvm_steal_time *st_at(uint64_t gpa)
{
	return (struct kvm_steal_time *)fake_vm_hva(vm, gpa);
}

static void test_steal_reserved_bits_gp(void **state)
{
	struct kvm_steal_time *st = st_at(0x2000);
	st->version = 4;
	for (unsigned b = 1; b <= 5; b++)
		assert_int_equal(hc_msr_write(cpu[0], MSR_KVM_STEAL_TIME, 0x2000 | 1 | (1ull << b)), -EINVAL);
	uint64_t val = 1;
	assert_int_equal(hc_msr_read(cpu[0], MSR_KVM_STEAL_TIME, &val), 0);
	assert_int_equal(val, 0);
	assert_int_equal(st->version, 4);
}

static void test_steal_enable_writes_record(void **state)
{
	struct kvm_steal_time *st = st_at(0x2040);
	st->version = 4;
	st->steal = 1000;
	st->flags = 0x77;
	st->preempted = 1;
	assert_int_equal(hc_msr_write(cpu[1], MSR_KVM_STEAL_TIME, 0x2040 | 1), 0);
	assert_int_equal(st->version, 6);                          /* odd while written, even after */
	assert_int_equal(st->steal, 1000);
	assert_int_equal(st->preempted, 0);
	assert_int_equal(st->flags, 0x77);
	uint64_t val = 0;
	assert_int_equal(hc_msr_read(cpu[1], MSR_KVM_STEAL_TIME, &val), 0);
	assert_int_equal(val, 0x2041);
	/* only the record changed */
	assert_int_equal(*fake_vm_hva(vm, 0x203f), 0);
	assert_int_equal(*fake_vm_hva(vm, 0x2080), 0);
}

static void test_steal_grows_in_ns(void **state)
{
	struct kvm_steal_time *st = st_at(0x2000);
	assert_int_equal(hc_msr_write(cpu[1], MSR_KVM_STEAL_TIME, 0x2000 | 1), 0);
	assert_int_equal(st->version, 2);
	assert_int_equal(st->steal, 0);
	cpu[1]->steal += 4000;                                      /* ticks: 2000 ns at 2 GHz */
	hc_vcpu_scheduled(cpu[1]);
	assert_int_equal(st->steal, 2000);
	assert_int_equal(st->version, 4);
	cpu[1]->steal += 6000000;                                   /* 3 ms */
	hc_vcpu_scheduled(cpu[1]);
	assert_int_equal(st->steal, 3002000);
	assert_int_equal(st->version, 6);
	hc_vcpu_scheduled(cpu[1]);                                  /* no new steal: same value, new version */
	assert_int_equal(st->steal, 3002000);
	assert_int_equal(st->version, 8);
	/* another vCPU's record is its own */
	assert_int_equal(cpu[0]->hc.kvm.steal_time_msr, 0);
}

static void test_steal_odd_version_fixed_up(void **state)
{
	struct kvm_steal_time *st = st_at(0x2000);
	st->version = 7;                                           /* a guest left it odd */
	assert_int_equal(hc_msr_write(cpu[0], MSR_KVM_STEAL_TIME, 0x2000 | 1), 0);
	assert_int_equal(st->version, 10);
	st->version = 11;
	hc_vcpu_scheduled(cpu[0]);
	assert_int_equal(st->version, 14);
}

static void test_steal_disabled_writes_nothing(void **state)
{
	struct kvm_steal_time *st = st_at(0x2000);
	st->version = 4;
	assert_int_equal(hc_msr_write(cpu[0], MSR_KVM_STEAL_TIME, 0x2000), 0);
	cpu[0]->steal += 1000;
	hc_vcpu_scheduled(cpu[0]);
	assert_int_equal(st->version, 4);
	assert_int_equal(st->steal, 0);
	uint64_t val = 0;
	assert_int_equal(hc_msr_read(cpu[0], MSR_KVM_STEAL_TIME, &val), 0);
	assert_int_equal(val, 0x2000);
	/* enabled, then disabled: updates stop */
	assert_int_equal(hc_msr_write(cpu[0], MSR_KVM_STEAL_TIME, 0x2000 | 1), 0);
	uint32_t ver = st->version;
	assert_int_equal(hc_msr_write(cpu[0], MSR_KVM_STEAL_TIME, 0x2000), 0);
	cpu[0]->steal += 1000;
	hc_vcpu_scheduled(cpu[0]);
	assert_int_equal(st->version, ver);
}

static void test_steal_outside_ram_harmless(void **state)
{
	uint8_t *tail = fake_vm_hva(vm, RAM - 64);
	memset(tail, 0x3c, 64);
	static const uint64_t gpas[] = { RAM, RAM + 0x1000, 0xfee00000, 0xffffffffffffffc0ull };
	for (size_t i = 0; i < ARRAY_SIZE(gpas); i++) {
		assert_int_equal(hc_msr_write(cpu[0], MSR_KVM_STEAL_TIME, gpas[i] | 1), 0);
		cpu[0]->steal += 100;
		hc_vcpu_scheduled(cpu[0]);
	}
	for (int i = 0; i < 64; i++)
		assert_int_equal(tail[i], 0x3c);
	/* the last 64 bytes of RAM are a valid place */
	assert_int_equal(hc_msr_write(cpu[0], MSR_KVM_STEAL_TIME, (RAM - 64) | 1), 0);
	assert_int_equal(((struct kvm_steal_time *)tail)->version, 0x3c3c3c3c + 2);
}

static void test_steal_reported_through_vm_run(void **state)
{
	/* vcpu1 waits one slice of vcpu0's: its guest sees 1 ms of steal */
	cpu[2]->state = cpu[3]->state = VCPU_WAIT_SIPI;
	struct kvm_steal_time *st = st_at(0x3000);
	assert_int_equal(hc_msr_write(cpu[1], MSR_KVM_STEAL_TIME, 0x3000 | 1), 0);
	assert_int_equal(st->steal, 0);
	struct vm_exit intr = { .reason = VMEXIT_INTR, .mode = MODE_64 };
	struct vm_exit down = { .reason = VMEXIT_SHUTDOWN, .mode = MODE_64 };
	fake_script_exit(&intr, NULL);
	fake_script_advance(S);
	fake_script_exit(&down, NULL);
	vm_run(vm);
	assert_int_equal(fake.runs, 2);
	assert_int_equal(fake.ran[1], 1);
	assert_int_equal(cpu[1]->steal, S);
	assert_int_equal(st->steal, SCHED_SLICE_US * 1000ull);
	assert_int_equal(st->version & 1, 0);
}

static void test_sched_yield_cpl3_eperm(void **state)
{
	assert_int_equal(hcall(cpu[0], MODE_64, 3, KVM_HC_SCHED_YIELD, 2, 0, 0, 0), EPERM64);
	assert_null(vm->yield_to);
	assert_int_equal(hcall(cpu[0], MODE_PROT32, 3, KVM_HC_SCHED_YIELD, 2, 0, 0, 0),
	                 (uint64_t)(uint32_t)-KVM_EPERM);
}

/* A read-only page right after RAM (ROM; in a real VM a read-only grant map). */
#define ROM RAM
static void add_rom(void)
{
	fake_vm_add_slot(vm, ROM, PAGE_SIZE, SLOT_READONLY, 0x5a);
	vm->mem_size = RAM;                    /* ROM is not RAM */
}

static void assert_bytes(uint64_t gpa, size_t len, uint8_t byte)
{
	const uint8_t *p = fake_vm_hva(vm, gpa);
	for (size_t i = 0; i < len; i++)
		if (p[i] != byte)
			fail_fmt("guest byte 0x%llx is 0x%02x, not 0x%02x", (unsigned long long)(gpa + i), p[i], byte);
}

/*
 * Gap 11.2: two vCPUs registering one steal-time record. KVM checks nothing
 * (each vCPU's st.cache is its own): each updates it with the version
 * protocol, adding its own steal; the version is even after every update.
 */
static void test_steal_shared_by_two_vcpus(void **state)
{
	struct kvm_steal_time *st = st_at(0x2000);
	assert_int_equal(hc_msr_write(cpu[0], MSR_KVM_STEAL_TIME, 0x2000 | 1), 0);
	assert_int_equal(st->version, 2);
	assert_int_equal(hc_msr_write(cpu[1], MSR_KVM_STEAL_TIME, 0x2000 | 1), 0);
	assert_int_equal(st->version, 4);
	cpu[0]->steal += 4000;                                      /* 2000 ns */
	hc_vcpu_scheduled(cpu[0]);
	assert_int_equal(st->version, 6);
	assert_int_equal(st->steal, 2000);
	cpu[1]->steal += 2000;                                      /* 1000 ns, added to what is there */
	hc_vcpu_scheduled(cpu[1]);
	assert_int_equal(st->version, 8);
	assert_int_equal(st->steal, 3000);
	hc_vcpu_preempted(cpu[0]);
	assert_int_equal(st->preempted, KVM_VCPU_PREEMPTED);
	hc_vcpu_scheduled(cpu[1]);                                  /* the last writer clears it */
	assert_int_equal(st->preempted, 0);
	assert_int_equal(st->version, 10);
	assert_int_equal(st->steal, 3000);
}

/*
 * Gap 14.4 (steal time): a record in read-only memory. The MSR is taken
 * (KVM: record_steal_time skips a record kvm_gfn_to_hva_cache_init
 * refuses), nothing is ever written, the preempted flag neither.
 */
static void test_steal_in_rom_writes_nothing(void **state)
{
	add_rom();
	assert_int_equal(hc_msr_write(cpu[0], MSR_KVM_STEAL_TIME, ROM | 1), 0);
	uint64_t val = 0;
	assert_int_equal(hc_msr_read(cpu[0], MSR_KVM_STEAL_TIME, &val), 0);
	assert_int_equal(val, ROM | 1);
	cpu[0]->steal += 4000;
	hc_vcpu_scheduled(cpu[0]);
	hc_vcpu_preempted(cpu[0]);
	assert_bytes(ROM, PAGE_SIZE, 0x5a);
}

/*
 * Gap 2.7 (unit part): PV EOI enabled outside RAM. KVM refuses it with
 * #GP and keeps the old value: lapic.c kvm_lapic_set_pv_eoi returns the
 * error of kvm_gfn_to_hva_cache_init (-EFAULT: no memslot there), x86.c
 * kvm_set_msr_common turns it into #GP, and msr_val is only updated after
 * it succeeds ("KVM: x86: Don't update vcpu->arch.pv_eoi.msr_val when a
 * bogus value was written to MSR_KVM_PV_EOI_EN", 2021). Disabled, the
 * address is not looked at.
 */
static void test_pv_eoi_outside_ram_gp(void **state)
{
	static const uint64_t gpas[] = { RAM, RAM + 0x1000, 0xfee00000, 0xfffffffffffffffcull };
	for (size_t i = 0; i < ARRAY_SIZE(gpas); i++) {
		int r = hc_msr_write(cpu[0], MSR_KVM_PV_EOI_EN, gpas[i] | 1);
		if (r != -EINVAL)
			fail_fmt("PV_EOI_EN 0x%llx: %d, not -EINVAL (#GP)", (unsigned long long)(gpas[i] | 1), r);
	}
	uint64_t val = 1;
	assert_int_equal(hc_msr_read(cpu[0], MSR_KVM_PV_EOI_EN, &val), 0);
	assert_int_equal(val, 0);
	assert_false(fake.pv_eoi_on[0]);
	/* disabled: taken whatever the address */
	assert_int_equal(hc_msr_write(cpu[0], MSR_KVM_PV_EOI_EN, RAM + 0x1000), 0);
	assert_int_equal(hc_msr_read(cpu[0], MSR_KVM_PV_EOI_EN, &val), 0);
	assert_int_equal(val, RAM + 0x1000);
	assert_false(fake.pv_eoi_on[0]);
	/* the last 4 bytes of RAM are a valid place */
	assert_int_equal(hc_msr_write(cpu[0], MSR_KVM_PV_EOI_EN, (RAM - 4) | 1), 0);
	assert_true(fake.pv_eoi_on[0]);
	assert_int_equal(fake.pv_eoi_gpa[0], RAM - 4);
}

/*
 * Gap 14.4 (PV EOI): the flag in read-only memory. KVM: #GP, as outside
 * RAM: kvm_gfn_to_hva_cache_init looks the page up for writing
 * (gfn_to_hva_many, write = true) and a read-only memslot gives
 * KVM_HVA_ERR_RO_BAD, so -EFAULT.
 */
static void test_pv_eoi_in_rom_gp(void **state)
{
	add_rom();
	assert_int_equal(hc_msr_write(cpu[1], MSR_KVM_PV_EOI_EN, (RAM - 4) | 1), 0);
	assert_int_equal(hc_msr_write(cpu[1], MSR_KVM_PV_EOI_EN, ROM | 1), -EINVAL);
	uint64_t val = 0;
	assert_int_equal(hc_msr_read(cpu[1], MSR_KVM_PV_EOI_EN, &val), 0);
	assert_int_equal(val, (RAM - 4) | 1);                     /* the old value stays */
	assert_int_equal(fake.pv_eoi_gpa[1], RAM - 4);
	assert_true(fake.pv_eoi_on[1]);
	assert_bytes(ROM, PAGE_SIZE, 0x5a);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_send_ipi_low_bitmap),
		T(test_send_ipi_min_offsets_bitmap),
		T(test_send_ipi_absent_ids_skipped),
		T(test_send_ipi_refused_not_counted),
		T(test_send_ipi_high_bitmap_64bit),
		T(test_send_ipi_high_bitmap_32bit),
		T(test_send_ipi_min_above_all_ids),
		T(test_send_ipi_logical_or_shorthand_einval),
		T(test_send_ipi_cpl3_eperm),
		T(test_kick_halted_vcpu_wakes_it),
		T(test_kick_running_vcpu_skips_its_next_hlt),
		T(test_kick_unknown_id_harmless),
		T(test_kick_32bit_truncates_id),
		T(test_kick_unstarted_vcpu_does_not_start_it),
		T(test_kick_cpl3_eperm),
		T(test_sched_yield),
		T(test_sched_yield_in_vm_run),
		T(test_steal_reserved_bits_gp),
		T(test_steal_enable_writes_record),
		T(test_steal_grows_in_ns),
		T(test_steal_odd_version_fixed_up),
		T(test_steal_disabled_writes_nothing),
		T(test_steal_outside_ram_harmless),
		T(test_steal_reported_through_vm_run),
		T(test_sched_yield_cpl3_eperm),
		T(test_kick_flags_ignored),
		T(test_steal_shared_by_two_vcpus),
		T(test_steal_in_rom_writes_nothing),
		T(test_pv_eoi_outside_ram_gp),
		T(test_pv_eoi_in_rom_gp),
	};
	return cmocka_run_group_tests_name("kvm_pv", tests, NULL, NULL);
}
