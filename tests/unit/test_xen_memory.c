/*
 * Xen memory_op ballooning and the memory map (xen/common/memory.c
 * do_memory_op, decrease_reservation, populate_physmap; public/memory.h)
 * and multicall batches (xen/common/multicall.c) through the real
 * dispatcher: pages leave the VM's stage-2 map (the fake arch records
 * arch_guest_page_set) and the guest-memory gate, come back zeroed, and a
 * long batch is continued with its progress in its argument registers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "core/boot_info.h"
#include "core/exit.h"
#include "core/gmem.h"
#include "core/time.h"
#include "core/vm.h"
#include "hypercalls/hypercall.h"
#include "hypercalls/xen/xen_abi.h"
#include "tests/fake_arch/fake_arch.h"
#include "tests/fake_arch/fake_test.h"

#define RAM MiB(4)
#define PAGES (RAM >> PAGE_SHIFT)
#define RIP0 0x1000ull
#define RES 0x2000ull                /* struct xen_memory_reservation */
#define LIST 0x3000ull               /* the extent list */
#define FILL 0x5a
#define ERR(e) ((uint64_t)-(int64_t)(e))

static struct boot_info bi;
static struct vm *vm;
static struct vcpu *v;

static int setup(void **state)
{
	fake_arch_reset();
	fake_pmm_setup(&bi);
	time_init(2000000000ull, 0, 0);
	vm = fake_vm_new();
	fake_vm_add_slot(vm, 0, RAM, 0, FILL);
	vm->mem_size = RAM;
	hc_vm_set_abis(vm, (const struct hc_abi *const[]){ &xen_abi }, 1);
	v = fake_vcpu_new(vm);
	v->state = VCPU_RUNNABLE;
	v->regs.rip = RIP0;
	return 0;
}

static int teardown(void **state)
{
	fake_cleanup();
	return 0;
}

static uint8_t *hva(uint64_t gpa) { return fake_vm_hva(vm, gpa); }

/* The guest executes its VMMCALL (again, after a continuation: the registers as they were left). */
static void reenter(enum cpu_mode mode)
{
	struct vm_exit e = { .reason = VMEXIT_HYPERCALL, .insn_len = 3, .mode = mode, .hc.insn = HC_INSN_VMMCALL };
	hc_dispatch(v, &e);
}

/* Call `nr` with two arguments: RDI, RSI in 64-bit mode, EBX, ECX outside it; returns RAX. */
static uint64_t xen_call(enum cpu_mode mode, uint64_t nr, uint64_t a0, uint64_t a1)
{
	bool lm = mode == MODE_64;
	v->regs.gpr[X86_RAX] = nr;
	v->regs.gpr[lm ? X86_RDI : X86_RBX] = a0;
	v->regs.gpr[lm ? X86_RSI : X86_RCX] = a1;
	reenter(mode);
	return v->regs.gpr[X86_RAX];
}

static uint64_t memory_op(enum cpu_mode mode, uint64_t cmd, uint64_t arg)
{
	return xen_call(mode, __HYPERVISOR_memory_op, cmd, arg);
}

/* A reservation of `nr` extents of 2^order pages, GFNs first, first+stride, ... (memory.h layout). */
static void put_reservation(bool lm, uint64_t nr, uint32_t order, uint16_t domid, uint64_t first, uint64_t stride)
{
	uint8_t r[32] = { 0 };
	uint64_t list = LIST;
	memcpy(r, &list, lm ? 8 : 4);
	memcpy(r + (lm ? 8 : 4), &nr, lm ? 8 : 4);
	memcpy(r + (lm ? 16 : 8), &order, 4);
	memcpy(r + (lm ? 24 : 16), &domid, 2);
	memcpy(hva(RES), r, sizeof(r));
	for (uint64_t i = 0; i < nr; i++) {
		uint64_t gfn = first + i * stride;
		memcpy(hva(LIST + i * (lm ? 8 : 4)), &gfn, lm ? 8 : 4);
	}
}

static uint64_t reservation(uint64_t cmd)
{
	uint16_t self = DOMID_SELF;
	memcpy(hva(RES + 64), &self, sizeof(self));
	return memory_op(MODE_64, cmd, RES + 64);
}

static bool readable(uint64_t gfn)
{
	uint8_t b;
	return !gmem_read(vm, mk_gpa(gfn << PAGE_SHIFT), &b, 1);
}

static void test_balloon_out_and_in(void **state)
{
	put_reservation(true, 3, 0, DOMID_SELF, 0x100, 2);
	assert_int_equal(memory_op(MODE_64, XENMEM_decrease_reservation, RES), 3);
	assert_int_equal(v->regs.rip, RIP0 + 3);
	assert_int_equal(fake.page_sets, 3);
	for (unsigned i = 0; i < 3; i++) {
		assert_int_equal(fake.page_set_log[i].gpa, (0x100 + 2 * i) << PAGE_SHIFT);
		assert_false(fake.page_set_log[i].present);
		assert_false(readable(0x100 + 2 * i));     /* the gate refuses it too */
	}
	assert_true(readable(0x101));
	assert_int_equal(reservation(XENMEM_current_reservation), PAGES - 3);
	assert_int_equal(reservation(XENMEM_maximum_reservation), PAGES);
	/* back in, zeroed: a fresh page, not the old contents */
	assert_int_equal(memory_op(MODE_64, XENMEM_populate_physmap, RES), 3);
	assert_int_equal(fake.page_sets, 6);
	assert_true(fake.page_set_log[5].present);
	assert_true(readable(0x104));
	for (unsigned i = 0; i < PAGE_SIZE; i++)
		if (hva(0x104000)[i])
			fail_fmt("byte %u of a populated page is 0x%x", i, hva(0x104000)[i]);
	assert_int_equal(hva(0x101000)[0], FILL);
	assert_int_equal(reservation(XENMEM_current_reservation), PAGES);
}

/* The count returned is the extents done: a failing extent stops the call there (Xen). */
static void test_stops_at_first_failure(void **state)
{
	put_reservation(true, 3, 0, DOMID_SELF, 0x200, 0);      /* the same GFN three times */
	assert_int_equal(memory_op(MODE_64, XENMEM_decrease_reservation, RES), 1);
	put_reservation(true, 2, 0, DOMID_SELF, PAGES - 1, 1);  /* the second lies past RAM */
	assert_int_equal(memory_op(MODE_64, XENMEM_decrease_reservation, RES), 1);
	fake.fail_page_set = -ENOMEM;
	put_reservation(true, 1, 0, DOMID_SELF, 0x300, 0);
	assert_int_equal(memory_op(MODE_64, XENMEM_decrease_reservation, RES), 0);
	assert_true(readable(0x300));
	fake.fail_page_set = 0;
	/* populate outside RAM cannot grow the VM */
	put_reservation(true, 1, 0, DOMID_SELF, PAGES, 0);
	assert_int_equal(memory_op(MODE_64, XENMEM_populate_physmap, RES), 0);
}

static void test_extent_order(void **state)
{
	put_reservation(true, 1, 2, DOMID_SELF, 0x380, 0);      /* 4 pages */
	assert_int_equal(memory_op(MODE_64, XENMEM_decrease_reservation, RES), 1);
	assert_int_equal(fake.page_sets, 4);
	assert_false(readable(0x383));
	assert_true(readable(0x384));
	put_reservation(true, 1, 10, DOMID_SELF, 0x380, 0);
	assert_int_equal(memory_op(MODE_64, XENMEM_decrease_reservation, RES), ERR(XEN_EINVAL));
}

/* A 32-bit caller's progress must fit bits 31:6 of its command: more extents than that are refused up front. */
static void test_too_many_extents_for_32bit(void **state)
{
	put_reservation(false, 1, 0, DOMID_SELF, 0x100, 0);
	uint32_t nr = (UINT32_MAX >> 6) + 1;
	memcpy(hva(RES + 4), &nr, 4);
	assert_int_equal(memory_op(MODE_PROT32, XENMEM_decrease_reservation, RES), 0);
	assert_int_equal(fake.page_sets, 0);
}

static void test_bad_arguments(void **state)
{
	put_reservation(true, 1, 0, 5, 0x100, 0);
	assert_int_equal(memory_op(MODE_64, XENMEM_decrease_reservation, RES), ERR(XEN_ESRCH));
	assert_int_equal(memory_op(MODE_64, XENMEM_decrease_reservation, RAM - 8), ERR(XEN_EFAULT));
	put_reservation(true, 1, 0, DOMID_SELF, 0x100, 0);
	uint64_t bad_list = RAM;                                 /* the extent list itself outside RAM */
	memcpy(hva(RES), &bad_list, 8);
	assert_int_equal(memory_op(MODE_64, XENMEM_decrease_reservation, RES), 0);   /* Xen: nr_done, 0 */
	assert_int_equal(fake.page_sets, 0);
}

/* More than XEN_MEMOP_BUDGET pages: RIP stays, RDI = cmd | progress << 6, then the rest (Xen continuation). */
static void test_long_batch_continued(void **state)
{
	put_reservation(true, 600, 0, DOMID_SELF, 0x100, 1);
	v->regs.gpr[X86_RAX] = 0;
	memory_op(MODE_64, XENMEM_decrease_reservation, RES);
	assert_int_equal(v->regs.rip, RIP0);
	assert_int_equal(v->regs.gpr[X86_RDI], XENMEM_decrease_reservation | 512ull << 6);
	assert_int_equal(v->regs.gpr[X86_RAX], __HYPERVISOR_memory_op);   /* no result written */
	assert_int_equal(fake.page_sets, 512);
	/* the guest executes the call again with what it was left */
	reenter(MODE_64);
	assert_int_equal(v->regs.gpr[X86_RAX], 600);
	assert_int_equal(v->regs.rip, RIP0 + 3);
	assert_int_equal(fake.page_sets, 600);
	assert_int_equal(reservation(XENMEM_current_reservation), PAGES - 600);
}

/* 32-bit callers: the 20-byte struct and 4-byte GFNs; the continued command lands in EBX. */
static void test_32bit_layout(void **state)
{
	put_reservation(false, 520, 0, DOMID_SELF, 0x100, 1);
	memory_op(MODE_PROT32, XENMEM_decrease_reservation, RES);
	assert_int_equal(v->regs.gpr[X86_RBX], XENMEM_decrease_reservation | 512ull << 6);
	reenter(MODE_PROT32);
	assert_int_equal(v->regs.gpr[X86_RAX], 520);
	assert_false(readable(0x100 + 519));
	assert_true(readable(0x100 + 520));
}

/* XENMEM_memory_map: as many e820 entries as fit (one: RAM), nr_entries set to the count written. */
static void test_memory_map(void **state)
{
	struct { uint32_t nr, pad; uint64_t buf; } m = { 4, 0, LIST };
	memcpy(hva(RES), &m, sizeof(m));
	assert_int_equal(memory_op(MODE_64, XENMEM_memory_map, RES), 0);
	memcpy(&m, hva(RES), sizeof(m));
	assert_int_equal(m.nr, 1);
	struct __attribute__((packed)) { uint64_t addr, size; uint32_t type; } e;
	memcpy(&e, hva(LIST), sizeof(e));
	assert_int_equal(e.addr, 0);
	assert_int_equal(e.size, RAM);
	assert_int_equal(e.type, 1);
	assert_int_equal(hva(LIST + 20)[0], FILL);              /* 20-byte packed entries, one */
	struct { uint32_t nr, buf; } m32 = { 0, LIST + 64 };
	memcpy(hva(RES), &m32, sizeof(m32));
	assert_int_equal(memory_op(MODE_PROT32, XENMEM_memory_map, RES), 0);
	assert_int_equal(hva(LIST + 64)[0], FILL);              /* room for none: nothing written */
}

/* ---- multicall ---- */

#define MC 0x8000ull                 /* the multicall list */

/* Entry i: op and up to three arguments (64-bit: 8-byte fields; 32-bit: 4-byte). */
static void put_entry(bool lm, unsigned i, uint64_t op, uint64_t a0, uint64_t a1)
{
	size_t w = lm ? 8 : 4;
	uint64_t f[8] = { op, 0x7777, a0, a1 };
	for (unsigned k = 0; k < 8; k++)
		memcpy(hva(MC + i * 8 * w + k * w), &f[k], w);
}

static uint64_t result(bool lm, unsigned i)
{
	uint64_t r = 0;
	memcpy(&r, hva(MC + i * 8 * (lm ? 8 : 4) + (lm ? 8 : 4)), lm ? 8 : 4);
	return r;
}

static uint64_t multicall(enum cpu_mode mode, uint64_t list, uint64_t nr)
{
	return xen_call(mode, __HYPERVISOR_multicall, list, nr);
}

static void test_multicall_results(void **state)
{
	put_entry(true, 0, __HYPERVISOR_xen_version, XENVER_version, 0);
	put_entry(true, 1, __HYPERVISOR_xen_version, XENVER_pagesize, 0);
	put_entry(true, 2, 99, 0, 0);
	put_entry(true, 3, __HYPERVISOR_multicall, MC, 1);          /* nested: refused */
	assert_int_equal(multicall(MODE_64, MC, 4), 0);
	assert_int_equal(result(true, 0), XEN_VERSION_MAJOR << 16 | XEN_VERSION_MINOR);
	assert_int_equal(result(true, 1), PAGE_SIZE);
	assert_int_equal(result(true, 2), ERR(XEN_ENOSYS));
	assert_int_equal(result(true, 3), ERR(XEN_EINVAL));
	assert_int_equal(v->regs.rip, RIP0 + 3);
	/* 32-bit entries are 32 bytes of 4-byte fields */
	put_entry(false, 0, __HYPERVISOR_xen_version, XENVER_pagesize, 0);
	put_entry(false, 1, 99, 0, 0);
	assert_int_equal(multicall(MODE_PROT32, MC, 2), 0);
	assert_int_equal(result(false, 0), PAGE_SIZE);
	assert_int_equal(result(false, 1), (uint32_t)-XEN_ENOSYS);
	assert_int_equal(multicall(MODE_64, RAM - 32, 1), ERR(XEN_EFAULT));
}

/* 70 entries: 64 run, then the multicall is continued at entry 64 with 6 left. */
static void test_multicall_continued_by_budget(void **state)
{
	for (unsigned i = 0; i < 70; i++)
		put_entry(true, i, __HYPERVISOR_xen_version, XENVER_pagesize, 0);
	v->regs.gpr[X86_RAX] = 0;
	multicall(MODE_64, MC, 70);
	assert_int_equal(v->regs.rip, RIP0);
	assert_int_equal(v->regs.gpr[X86_RDI], MC + 64 * 64);
	assert_int_equal(v->regs.gpr[X86_RSI], 6);
	assert_int_equal(result(true, 63), PAGE_SIZE);
	assert_int_equal(result(true, 64), 0x7777);                 /* not run yet */
	reenter(MODE_64);
	assert_int_equal(v->regs.gpr[X86_RAX], 0);
	assert_int_equal(result(true, 69), PAGE_SIZE);
	assert_int_equal(v->regs.rip, RIP0 + 3);
}

/* Entries are also counted in time: with every counter read 1 ms later, one entry per hypervisor entry. */
static void test_multicall_time_budget(void **state)
{
	for (unsigned i = 0; i < 3; i++)
		put_entry(true, i, __HYPERVISOR_xen_version, XENVER_pagesize, 0);
	fake.counter_step = 2000000;                                /* 1 ms at the 2 GHz counter */
	multicall(MODE_64, MC, 3);
	assert_int_equal(v->regs.rip, RIP0);
	assert_int_equal(v->regs.gpr[X86_RDI], MC + 64);
	assert_int_equal(v->regs.gpr[X86_RSI], 2);
	assert_int_equal(result(true, 0), PAGE_SIZE);
	assert_int_equal(result(true, 1), 0x7777);
}

/* An entry that is itself continued keeps its progress in the entry; the multicall resumes at it. */
static void test_multicall_entry_continued(void **state)
{
	put_reservation(true, 600, 0, DOMID_SELF, 0x100, 1);
	put_entry(true, 0, __HYPERVISOR_xen_version, XENVER_pagesize, 0);
	put_entry(true, 1, __HYPERVISOR_memory_op, XENMEM_decrease_reservation, RES);
	multicall(MODE_64, MC, 2);
	assert_int_equal(v->regs.rip, RIP0);
	assert_int_equal(v->regs.gpr[X86_RDI], MC + 64);
	assert_int_equal(v->regs.gpr[X86_RSI], 1);
	uint64_t cmd;
	memcpy(&cmd, hva(MC + 64 + 16), 8);
	assert_int_equal(cmd, XENMEM_decrease_reservation | 512ull << 6);
	reenter(MODE_64);
	assert_int_equal(v->regs.gpr[X86_RAX], 0);
	assert_int_equal(result(true, 1), 600);
	assert_int_equal(fake.page_sets, 600);
}

/*
 * Re-entry with progress the guest edited (a fresh call as far as we can
 * tell, as for Xen): at or past nr_extents nothing is done and the progress
 * comes back as the count; inside the list the call starts where told; a
 * count changed between the entries of a continued call is the new count.
 */
static void test_reentry_with_edited_progress(void **state)
{
	put_reservation(true, 3, 0, DOMID_SELF, 0x380, 1);
	assert_int_equal(memory_op(MODE_64, XENMEM_decrease_reservation | 5ull << 6, RES), 5);
	assert_int_equal(memory_op(MODE_64, XENMEM_decrease_reservation | 3ull << 6, RES), 3);
	assert_int_equal(fake.page_sets, 0);
	assert_int_equal(memory_op(MODE_64, XENMEM_decrease_reservation | 1ull << 6, RES), 3);
	assert_int_equal(fake.page_sets, 2);
	assert_true(readable(0x380));
	assert_false(readable(0x381) || readable(0x382));
	fake.page_sets = 0;
	put_reservation(true, 600, 0, DOMID_SELF, 0x100, 1);
	uint64_t rip = v->regs.rip;
	memory_op(MODE_64, XENMEM_decrease_reservation, RES);
	assert_int_equal(v->regs.rip, rip);                            /* continued */
	assert_int_equal(fake.page_sets, 512);
	uint64_t fewer = 520;
	memcpy(hva(RES + 8), &fewer, 8);
	reenter(MODE_64);
	assert_int_equal(v->regs.gpr[X86_RAX], 520);
	assert_int_equal(fake.page_sets, 520);
	assert_false(readable(0x100 + 519));
	assert_true(readable(0x100 + 520));
}

/* The removed-pages map cannot be allocated at the first balloon-out: extent not done, page still there. */
static void test_removed_map_cannot_be_allocated(void **state)
{
	fake_pmm_exhaust();
	put_reservation(true, 1, 0, DOMID_SELF, 0x100, 0);
	assert_int_equal(memory_op(MODE_64, XENMEM_decrease_reservation, RES), 0);
	assert_true(readable(0x100));
	assert_int_equal(fake.page_sets, 2);                          /* out, then back as it was */
	assert_int_equal(fake.page_set_log[0].gpa, 0x100000);
	assert_false(fake.page_set_log[0].present);
	assert_int_equal(fake.page_set_log[1].gpa, 0x100000);
	assert_true(fake.page_set_log[1].present);
	assert_int_equal(vm->nr_removed, 0);
	assert_int_equal(reservation(XENMEM_current_reservation), PAGES);
}

/*
 * Another vCPU's call between the entries of a continued call: nothing is
 * held between them (the progress is in the first vCPU's registers).
 */
static void test_continuation_interleaved(void **state)
{
	struct vcpu *v2 = fake_vcpu_new(vm);
	v2->state = VCPU_RUNNABLE;
	v2->regs.rip = RIP0;
	put_reservation(true, 600, 0, DOMID_SELF, 0x100, 1);
	memory_op(MODE_64, XENMEM_decrease_reservation, RES);
	assert_int_equal(v->regs.rip, RIP0);
	assert_int_equal(fake.page_sets, 512);
	/* vCPU 1: xen_version, then a reservation query of its own */
	struct vm_exit e = { .reason = VMEXIT_HYPERCALL, .insn_len = 3, .mode = MODE_64, .hc.insn = HC_INSN_VMMCALL };
	v2->regs.gpr[X86_RAX] = __HYPERVISOR_xen_version;
	v2->regs.gpr[X86_RDI] = XENVER_version;
	hc_dispatch(v2, &e);
	assert_int_equal(v2->regs.gpr[X86_RAX], XEN_VERSION_MAJOR << 16 | XEN_VERSION_MINOR);
	memcpy(hva(RES + 64), &(uint16_t){ DOMID_SELF }, 2);
	v2->regs.gpr[X86_RAX] = __HYPERVISOR_memory_op;
	v2->regs.gpr[X86_RDI] = XENMEM_current_reservation;
	v2->regs.gpr[X86_RSI] = RES + 64;
	hc_dispatch(v2, &e);
	assert_int_equal(v2->regs.gpr[X86_RAX], PAGES - 512);
	assert_int_equal(v2->regs.rip, RIP0 + 6);
	/* vCPU 0 goes on where it was */
	reenter(MODE_64);
	assert_int_equal(v->regs.gpr[X86_RAX], 600);
	assert_int_equal(v->regs.rip, RIP0 + 3);
	assert_int_equal(fake.page_sets, 600);
	assert_false(readable(0x100 + 599));
	assert_true(readable(0x100 + 600));
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_balloon_out_and_in),
		T(test_stops_at_first_failure),
		T(test_extent_order),
		T(test_bad_arguments),
		T(test_too_many_extents_for_32bit),
		T(test_long_batch_continued),
		T(test_32bit_layout),
		T(test_memory_map),
		T(test_multicall_results),
		T(test_multicall_continued_by_budget),
		T(test_multicall_time_budget),
		T(test_multicall_entry_continued),
		T(test_reentry_with_edited_progress),
		T(test_removed_map_cannot_be_allocated),
		T(test_continuation_interleaved),
	};
	return cmocka_run_group_tests_name("xen_memory", tests, NULL, NULL);
}
