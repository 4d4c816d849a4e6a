/*
 * hypercalls/hyperv/ beyond the basics of test_hyperv.c, through the real
 * dispatcher and the MSR entry points: XMM fast input and output, the
 * output page rules, rep continuation, Get/SetVpRegisters, VTL call and
 * return, ExtQueryCapabilities, the SynIC (MSRs, PostMessage,
 * SignalEvent), synthetic timers, the VP assist page, RESET and INIT.
 * Section names are those of the TLFS (Hyper-V Top-Level Functional
 * Specification).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "core/exit.h"
#include "core/gmem.h"
#include "core/time.h"
#include "core/vm.h"
#include "hypercalls/hypercall.h"
#include "hypercalls/hyperv/hv_abi.h"
#include "hypercalls/hyperv/hyperv.h"
#include "tests/fake_arch/fake_arch.h"
#include "tests/fake_arch/fake_test.h"

#define HZ 2000000000ull
#define C0 1000000000ull
#define TICKS_PER_REF (HZ / HV_REF_TIME_HZ)          /* host ticks per 100 ns of reference time */
#define RAM MiB(1)
#define RIP0 0x1000ull
#define IN_GPA 0x3000ull
#define OUT_GPA 0x5000ull                           /* a page apart: a page-crossing write shows */
#define SIMP_GPA(id) (0x10000ull + (uint64_t)(id) * 0x2000)
#define SIEFP_GPA(id) (SIMP_GPA(id) + PAGE_SIZE)
#define ASSIST_GPA 0x8000ull
#define ROM_GPA 0x200000ull                        /* a read-only slot past RAM, where a test adds one */
#define XMM_FILL 0x5a5a5a5a00000000ull               /* fake.xmm[id][r][h] = XMM_FILL | r << 8 | h */

static struct vm *vm;
static struct vcpu *vc[3];
static struct boot_info bi;

/* Every vCPU's XMM registers hold a pattern that tells register and half apart. */
static void xmm_fill(void)
{
	for (unsigned i = 0; i < 3; i++)
		for (unsigned r = 0; r < HV_XMM_REGS; r++)
			for (unsigned h = 0; h < 2; h++)
				fake.xmm[i][r][h] = XMM_FILL | r << 8 | h;
	fake.xmm_reads = fake.xmm_writes = 0;
}

static int setup(void **state)
{
	fake_arch_reset();
	fake_pmm_setup(&bi);                           /* for the gate's maps of pages given back or private */
	fake.counter = C0;
	time_init(HZ, C0, 0);
	vm = fake_vm_new();
	fake_vm_add_slot(vm, 0, RAM, 0, 0);
	vm->mem_size = RAM;
	hc_vm_set_abis(vm, (const struct hc_abi *const[]){ &hyperv_abi }, 1);
	vm->clock_base = C0;
	for (unsigned i = 0; i < 3; i++) {
		vc[i] = fake_vcpu_new(vm);
		vc[i]->state = VCPU_RUNNABLE;
		vc[i]->regs.rip = RIP0;
		for (unsigned r = 0; r < X86_NR_GPRS; r++)
			vc[i]->regs.gpr[r] = 0x0101010101010101ull * (r + 1) + i;
	}
	xmm_fill();
	return 0;
}

static int teardown(void **state)
{
	gmem_destroy(vm);
	fake_cleanup();
	return 0;
}

/* ---- making calls ---- */

/* One VMMCALL exit of vCPU c, with the registers as they are. */
static void exec(struct vcpu *c, enum cpu_mode mode)
{
	struct vm_exit e = {
		.reason = VMEXIT_HYPERCALL, .insn_len = 3, .cpl = 0, .mode = mode, .hc.insn = HC_INSN_VMMCALL,
	};
	hc_dispatch(c, &e);
}

/* 64-bit: input value in RCX, GPAs (or fast input) in RDX and R8, result in RAX. */
static uint64_t call_on(struct vcpu *c, uint64_t input, uint64_t rdx, uint64_t r8)
{
	c->regs.gpr[X86_RCX] = input;
	c->regs.gpr[X86_RDX] = rdx;
	c->regs.gpr[X86_R8] = r8;
	exec(c, MODE_64);
	return c->regs.gpr[X86_RAX];
}

static uint64_t call64(uint64_t input, uint64_t rdx, uint64_t r8)
{
	return call_on(vc[0], input, rdx, r8);
}

/* An XMM fast call (TLFS "XMM Fast Hypercall Input"): q[] laid out over RDX, R8, XMM0-XMM5. */
static uint64_t call_xmm(uint64_t input, const uint64_t *q, unsigned n)
{
	for (unsigned i = 2; i < n; i++)
		fake.xmm[0][(i - 2) / 2][(i - 2) % 2] = q[i];
	return call64(input | HV_INPUT_FAST, n > 0 ? q[0] : 0, n > 1 ? q[1] : 0);
}

#define REP(count, start) ((uint64_t)(count) << HV_INPUT_REP_COUNT_SHIFT | (uint64_t)(start) << HV_INPUT_REP_START_SHIFT)
#define VARHEAD(n) ((uint64_t)(n) << HV_INPUT_VARHEAD_SHIFT)

static uint64_t with_rep_start(uint64_t input, unsigned start)
{
	return (input & ~HV_INPUT_REP_START_MASK) | (uint64_t)start << HV_INPUT_REP_START_SHIFT;
}

static uint8_t *hva(uint64_t gpa) { return fake_vm_hva(vm, gpa); }

static void put(uint64_t gpa, const void *p, size_t n) { memcpy(hva(gpa), p, n); }

/* GetVpRegisters input (TLFS HvCallGetVpRegisters): partition self, VP self, then the names. */
static void put_get_regs(const uint32_t *names, unsigned n)
{
	const uint64_t hdr[2] = { HV_PARTITION_ID_SELF, HV_VP_INDEX_SELF };
	put(IN_GPA, hdr, sizeof(hdr));
	put(IN_GPA + sizeof(hdr), names, n * sizeof(*names));
}

/* Output element i of a slow GetVpRegisters (16 bytes, low qword first). */
static void out_val(unsigned i, uint64_t val[2])
{
	memcpy(val, hva(OUT_GPA + 16ull * i), 16);
}

static void assert_untouched(uint64_t gpa, size_t n, uint8_t fill)
{
	const uint8_t *p = hva(gpa);
	for (size_t i = 0; i < n; i++)
		if (p[i] != fill)
			fail_fmt("byte at 0x%llx is 0x%x, want 0x%x", (unsigned long long)(gpa + i), p[i], fill);
}

static uint64_t rdmsr(struct vcpu *c, uint32_t msr)
{
	uint64_t val = 0xdeadbeef;
	assert_int_equal(hc_msr_read(c, msr, &val), 0);
	return val;
}

static void wrmsr(struct vcpu *c, uint32_t msr, uint64_t val)
{
	int r = hc_msr_write(c, msr, val);
	if (r)
		fail_fmt("MSR 0x%x <- 0x%llx: %d", msr, (unsigned long long)val, r);
}

/* ---- XMM fast input (TLFS "XMM Fast Hypercall Input") ---- */

/* Ex flushes: the HV_VP_SET header and its bank go on into XMM0 and XMM1; list elements follow. */
static void test_xmm_flush_ex(void **state)
{
	/* address space, flags, format, valid banks, bank 0 = VPs 1 and 2 */
	const uint64_t space[] = { 0x1000, 0, HV_GENERIC_SET_SPARSE_4K, 1, 0x6 };
	assert_int_equal(call_xmm(HVCALL_FLUSH_VIRTUAL_ADDRESS_SPACE_EX | VARHEAD(1), space, 5), HV_STATUS_SUCCESS);
	assert_int_equal(fake.tlb_flushes[0], 0);
	assert_int_equal(fake.tlb_flushes[1], 1);
	assert_int_equal(fake.tlb_flushes[2], 1);
	assert_int_equal(fake.xmm_reads, 1);
	/* the same set, then two GVA ranges in XMM1 high and XMM2 low */
	const uint64_t list[] = { 0x1000, 0, HV_GENERIC_SET_SPARSE_4K, 1, 0x1, 0x7000, 0x9000 };
	assert_int_equal(call_xmm(HVCALL_FLUSH_VIRTUAL_ADDRESS_LIST_EX | VARHEAD(1) | REP(2, 0), list, 7),
	                 HV_STATUS_SUCCESS | 2ull << 32);
	assert_int_equal(fake.tlb_flushes[0], 1);
	assert_int_equal(fake.tlb_flushes[1] + fake.tlb_flushes[2], 2);
	assert_int_equal(fake.xmm_writes, 0);                   /* no output: XMM registers stay */
}

/* A list flush: 3 header qwords and 11 elements fill the 112 bytes exactly. */
static void test_xmm_flush_list_elements(void **state)
{
	uint64_t q[14] = { 0, 0, 0x4 };                         /* VP 2 */
	for (unsigned i = 3; i < 14; i++)
		q[i] = 0x100000ull * i;
	assert_int_equal(call_xmm(HVCALL_FLUSH_VIRTUAL_ADDRESS_LIST | REP(11, 0), q, 14),
	                 HV_STATUS_SUCCESS | 11ull << 32);
	assert_int_equal(fake.tlb_flushes[2], 1);
	assert_int_equal(fake.tlb_flushes[0] + fake.tlb_flushes[1], 0);
	assert_int_equal(fake.xmm_reads, 1);
	assert_int_equal(vc[0]->regs.rip, RIP0 + 3);
}

static void test_xmm_send_ipi_ex(void **state)
{
	/* vector, format, valid banks, bank 0 = VPs 0 and 2 */
	const uint64_t q[] = { 0x61, HV_GENERIC_SET_SPARSE_4K, 1, 0x5 };
	assert_int_equal(call_xmm(HVCALL_SEND_IPI_EX | VARHEAD(1), q, 4), HV_STATUS_SUCCESS);
	assert_int_equal(fake.ipis[0], 1);
	assert_int_equal(fake.ipis[1], 0);
	assert_int_equal(fake.ipis[2], 1);
	assert_int_equal(fake.ipi_icr[2], 0x61);
}

/* More than RDX, R8 and XMM0-5 hold, or fast where no fast form exists: invalid input, nothing done. */
static void test_xmm_input_refused(void **state)
{
	static const struct { uint64_t input; const char *what; } bad[] = {
		{ HVCALL_FLUSH_VIRTUAL_ADDRESS_LIST | REP(12, 0), "list flush, 120 bytes" },
		{ HVCALL_FLUSH_VIRTUAL_ADDRESS_SPACE_EX | VARHEAD(11), "Ex flush, 15 qwords" },
		{ HVCALL_SEND_IPI_EX | VARHEAD(12), "Ex IPI, 15 qwords" },
		{ HVCALL_GET_VP_REGISTERS | REP(25, 0), "25 names, 116 bytes" },
		{ HVCALL_SET_VP_REGISTERS | REP(4, 0), "4 assocs, 144 bytes" },
		{ HVCALL_POST_MESSAGE, "PostMessage has no fast form" },
		{ HVCALL_EXT_QUERY_CAPABILITIES, "ExtQueryCapabilities has no fast form" },
	};
	const uint64_t q[2] = { 0, HV_FLUSH_ALL_PROCESSORS };
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		uint64_t r = call_xmm(bad[i].input, q, 2);
		if (r != HV_STATUS_INVALID_HYPERCALL_INPUT)
			fail_fmt("%s: result 0x%llx", bad[i].what, (unsigned long long)r);
	}
	assert_int_equal(fake.tlb_flushes[0] + fake.tlb_flushes[1] + fake.tlb_flushes[2], 0);
	assert_int_equal(fake.ipis[0] + fake.ipis[1] + fake.ipis[2], 0);
	assert_int_equal(fake.xmm_reads + fake.xmm_writes, 0);
	assert_int_equal(vc[0]->regs.rip, RIP0 + 3 * ARRAY_SIZE(bad));
}

/* A call whose input is 16 bytes is an ordinary fast call: RDX and R8 only. */
static void test_fast_16_bytes_reads_no_xmm(void **state)
{
	assert_int_equal(call64(HVCALL_SEND_IPI | HV_INPUT_FAST, 0x45, 0x2), HV_STATUS_SUCCESS);
	assert_int_equal(fake.ipis[1], 1);
	assert_int_equal(fake.ipi_icr[1], 0x45);
	assert_int_equal(fake.xmm_reads, 0);
}

/* ---- XMM fast output (TLFS "XMM Fast Hypercall Output") ---- */

static void assert_xmm_fill(unsigned reg)
{
	for (unsigned h = 0; h < 2; h++)
		if (fake.xmm[0][reg][h] != (XMM_FILL | reg << 8 | h))
			fail_fmt("XMM%u[%u] changed to 0x%llx", reg, h, (unsigned long long)fake.xmm[0][reg][h]);
}

/* The values of these names, 16 bytes each (low qword first), for vCPU 0 as set up. */
static const uint32_t four_names[] = {
	HV_X64_REGISTER_RAX + X86_RBX, HV_REGISTER_VSM_CODE_PAGE_OFFSETS, HV_REGISTER_VP_INDEX, HV_REGISTER_SVERSION,
};
static uint64_t four_value(unsigned i)
{
	const uint64_t vals[] = { vc[0]->regs.gpr[X86_RBX], 0x20 | 0x40ull << 12, 0, HV_SYNIC_VERSION_1 };
	return vals[i];
}

/* Input 16 + 4n bytes, rounded up to 16: the values start in XMM1 for 1 to 4 names. */
static void test_xmm_get_registers(void **state)
{
	for (unsigned n = 1; n <= 4; n++) {
		uint64_t q[4] = { HV_PARTITION_ID_SELF, HV_VP_INDEX_SELF };
		memcpy(&q[2], four_names, n * 4);
		xmm_fill();
		assert_int_equal(call_xmm(HVCALL_GET_VP_REGISTERS | REP(n, 0), q, 2 + (n + 1) / 2),
		                 HV_STATUS_SUCCESS | (uint64_t)n << 32);
		for (unsigned i = 0; i < n; i++)
			if (fake.xmm[0][1 + i][0] != four_value(i) || fake.xmm[0][1 + i][1])
				fail_fmt("%u names: XMM%u = 0x%llx:%llx", n, 1 + i,
				         (unsigned long long)fake.xmm[0][1 + i][1], (unsigned long long)fake.xmm[0][1 + i][0]);
		/* TLFS "Volatile Registers": input registers stay; so do those past the output */
		assert_int_equal(fake.xmm[0][0][0], q[2]);
		assert_int_equal(fake.xmm[0][0][1], n > 2 ? q[3] : (XMM_FILL | 1));
		for (unsigned r = 1 + n; r < HV_XMM_REGS; r++)
			assert_xmm_fill(r);
		assert_int_equal(vc[0]->regs.gpr[X86_RDX], HV_PARTITION_ID_SELF);
		assert_int_equal(vc[0]->regs.gpr[X86_R8], HV_VP_INDEX_SELF);
	}
}

/* 5 names: 48 bytes in, 80 out, more than 112 together. */
static void test_xmm_get_five_registers_refused(void **state)
{
	const uint64_t q[5] = { HV_PARTITION_ID_SELF, HV_VP_INDEX_SELF, HV_X64_REGISTER_RIP, 0, 0 };
	assert_int_equal(call_xmm(HVCALL_GET_VP_REGISTERS | REP(5, 0), q, 5), HV_STATUS_INVALID_HYPERCALL_INPUT);
	assert_int_equal(fake.xmm_writes, 0);
	for (unsigned r = 2; r < HV_XMM_REGS; r++)
		assert_xmm_fill(r);
}

/*
 * The 50 us backstop does not split a fast call (at most 4 elements here):
 * its output is in registers, and it completes in one entry.
 */
static void test_xmm_get_registers_not_split(void **state)
{
	uint64_t q[4] = { HV_PARTITION_ID_SELF, HV_VP_INDEX_SELF };
	memcpy(&q[2], four_names, sizeof(four_names));
	fake.counter_step = HZ;                                 /* each clock reading: a second later */
	assert_int_equal(call_xmm(HVCALL_GET_VP_REGISTERS | REP(4, 0), q, 4), HV_STATUS_SUCCESS | 4ull << 32);
	fake.counter_step = 0;
	assert_int_equal(vc[0]->regs.rip, RIP0 + 3);
	for (unsigned i = 0; i < 4; i++)
		assert_int_equal(fake.xmm[0][1 + i][0], four_value(i));
}

/*
 * 32-bit callers: XMM input as in 64-bit mode, with EBX:ECX and EDI:ESI for
 * RDX and R8 (TLFS "XMM Fast Hypercall Input"); XMM output "is only
 * supported on x64 platforms" (TLFS "XMM Fast Hypercall Output").
 */
static void test_xmm_32bit(void **state)
{
	struct vcpu *c = vc[0];
	const uint64_t ipi_ex = HVCALL_SEND_IPI_EX | HV_INPUT_FAST | VARHEAD(1);
	c->regs.gpr[X86_RDX] = ipi_ex >> 32;
	c->regs.gpr[X86_RAX] = (uint32_t)ipi_ex;
	c->regs.gpr[X86_RBX] = 0;                                /* vector 0x71 */
	c->regs.gpr[X86_RCX] = 0x71;
	c->regs.gpr[X86_RDI] = 0;                                /* format: sparse */
	c->regs.gpr[X86_RSI] = HV_GENERIC_SET_SPARSE_4K;
	fake.xmm[0][0][0] = 1;                                   /* valid banks */
	fake.xmm[0][0][1] = 0x2;                                 /* bank 0: VP 1 */
	exec(c, MODE_PROT32);
	assert_int_equal(c->regs.gpr[X86_RAX], HV_STATUS_SUCCESS);
	assert_int_equal(fake.ipis[1], 1);
	assert_int_equal(fake.ipi_icr[1], 0x71);
	/* GetVpRegisters, one name: its value would go to XMM1 */
	const uint64_t get = HVCALL_GET_VP_REGISTERS | HV_INPUT_FAST | REP(1, 0);
	c->regs.gpr[X86_RDX] = get >> 32;
	c->regs.gpr[X86_RAX] = (uint32_t)get;
	c->regs.gpr[X86_RBX] = c->regs.gpr[X86_RCX] = 0xffffffff;   /* partition self */
	c->regs.gpr[X86_RDI] = 0;
	c->regs.gpr[X86_RSI] = HV_VP_INDEX_SELF;
	fake.xmm[0][0][0] = HV_REGISTER_SVERSION;
	exec(c, MODE_PROT32);
	assert_int_equal(c->regs.gpr[X86_RAX], HV_STATUS_INVALID_HYPERCALL_INPUT);
	assert_int_equal(c->regs.gpr[X86_RDX], 0);
	assert_int_equal(fake.xmm_writes, 0);
	assert_xmm_fill(1);
	assert_int_equal(c->regs.rip, RIP0 + 6);
}

/* SetVpRegisters in XMM form: header in RDX/R8, one 32-byte assoc in XMM0-XMM1. */
static void test_xmm_set_register(void **state)
{
	const uint64_t q[] = { HV_PARTITION_ID_SELF, HV_VP_INDEX_SELF, HV_REGISTER_GUEST_OS_ID, 0, 0x8100000000001234ull, 0 };
	assert_int_equal(call_xmm(HVCALL_SET_VP_REGISTERS | REP(1, 0), q, 6), HV_STATUS_SUCCESS | 1ull << 32);
	assert_int_equal(rdmsr(vc[0], HV_X64_MSR_GUEST_OS_ID), 0x8100000000001234ull);
	assert_int_equal(fake.xmm_writes, 0);
}

/*
 * ---- output page rules (TLFS "Alignment Requirements") ----
 * Misaligned, crossing a page or outside the GPA space: INVALID_ALIGNMENT
 * (TLFS "Hypercall Status Codes"); overlapping the input: INVALID_PARAMETER.
 */
static void test_output_page_rules(void **state)
{
	static const struct { uint16_t code; unsigned reps; uint64_t out; uint16_t want; const char *what; } cases[] = {
		{ HVCALL_GET_VP_REGISTERS, 2, OUT_GPA + 4, HV_STATUS_INVALID_ALIGNMENT, "misaligned" },
		{ HVCALL_GET_VP_REGISTERS, 2, OUT_GPA + PAGE_SIZE - 16, HV_STATUS_INVALID_ALIGNMENT, "crosses a page" },
		{ HVCALL_GET_VP_REGISTERS, 2, RAM, HV_STATUS_INVALID_ALIGNMENT, "outside RAM" },
		{ HVCALL_GET_VP_REGISTERS, 2, IN_GPA + 16, HV_STATUS_INVALID_PARAMETER, "overlaps the names" },
		{ HVCALL_GET_VP_REGISTERS, 2, IN_GPA, HV_STATUS_INVALID_PARAMETER, "the input's own GPA" },
		{ HVCALL_EXT_QUERY_CAPABILITIES, 0, OUT_GPA + 4, HV_STATUS_INVALID_ALIGNMENT, "misaligned" },
		{ HVCALL_EXT_QUERY_CAPABILITIES, 0, RAM, HV_STATUS_INVALID_ALIGNMENT, "outside RAM" },
	};
	const uint32_t names[2] = { HV_X64_REGISTER_RIP, HV_X64_REGISTER_RIP };
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		memset(hva(IN_GPA - PAGE_SIZE), 0xee, 4 * PAGE_SIZE);   /* the pages around input and output */
		put_get_regs(names, 2);
		uint64_t r = call64(cases[i].code | REP(cases[i].reps, 0), IN_GPA, cases[i].out);
		if (r != cases[i].want)
			fail_fmt("call 0x%x, %s: result 0x%llx", cases[i].code, cases[i].what, (unsigned long long)r);
		assert_untouched(IN_GPA - PAGE_SIZE, PAGE_SIZE, 0xee);
		assert_untouched(IN_GPA + 24, 3 * PAGE_SIZE - 24, 0xee);
	}
}

/* TLFS HvExtCallQueryCapabilities: one u64 of capability bits at the output GPA; none offered. */
static void test_ext_query_capabilities(void **state)
{
	memset(hva(OUT_GPA), 0xff, 16);
	assert_int_equal(call64(HVCALL_EXT_QUERY_CAPABILITIES, 0, OUT_GPA), HV_STATUS_SUCCESS);
	uint64_t caps;
	memcpy(&caps, hva(OUT_GPA), 8);
	assert_int_equal(caps, 0);
	assert_untouched(OUT_GPA + 8, 8, 0xff);
	assert_int_equal(vc[0]->regs.rip, RIP0 + 3);
}

/* TLFS "Alignment Requirements": a call without input (or output) ignores that GPA. */
static void test_unused_gpa_ignored(void **state)
{
	const uint64_t flush[3] = { 0, HV_FLUSH_ALL_PROCESSORS, 0 };
	put(IN_GPA, flush, sizeof(flush));
	assert_int_equal(call64(HVCALL_FLUSH_VIRTUAL_ADDRESS_SPACE, IN_GPA, 0x3), HV_STATUS_SUCCESS);
	assert_int_equal(call64(HVCALL_FLUSH_VIRTUAL_ADDRESS_SPACE, IN_GPA, RAM + 5), HV_STATUS_SUCCESS);
	assert_int_equal(call64(HVCALL_EXT_QUERY_CAPABILITIES, RAM + 8, OUT_GPA), HV_STATUS_SUCCESS);
	assert_int_equal(call64(HVCALL_EXT_QUERY_CAPABILITIES, 0x3, OUT_GPA), HV_STATUS_SUCCESS);
	assert_int_equal(fake.tlb_flushes[0], 2);
}

/*
 * Read-only memory as the output list: refused before the call runs, with
 * the status of a list outside the GPA space, INVALID_ALIGNMENT (TLFS
 * "Hypercall Status Codes"; KVM, which checks nothing first, answers
 * INVALID_HYPERCALL_INPUT when kvm_vcpu_write_guest fails). Nothing is
 * written. The same memory as input is fine.
 */
static void test_output_in_rom(void **state)
{
	fake_vm_add_slot(vm, ROM_GPA, PAGE_SIZE, SLOT_READONLY, 0x5a);
	const uint32_t names[1] = { HV_REGISTER_SVERSION };
	put_get_regs(names, 1);
	assert_int_equal(call64(HVCALL_GET_VP_REGISTERS | REP(1, 0), IN_GPA, ROM_GPA), HV_STATUS_INVALID_ALIGNMENT);
	assert_int_equal(call64(HVCALL_EXT_QUERY_CAPABILITIES, 0, ROM_GPA), HV_STATUS_INVALID_ALIGNMENT);
	assert_untouched(ROM_GPA, PAGE_SIZE, 0x5a);
	/* input from ROM, output to RAM */
	const uint64_t q[3] = { HV_PARTITION_ID_SELF, HV_VP_INDEX_SELF, HV_REGISTER_SVERSION };
	memcpy(hva(ROM_GPA), q, sizeof(q));
	assert_int_equal(call64(HVCALL_GET_VP_REGISTERS | REP(1, 0), ROM_GPA, OUT_GPA), HV_STATUS_SUCCESS | 1ull << 32);
	uint64_t val[2];
	out_val(0, val);
	assert_int_equal(val[0], HV_SYNIC_VERSION_1);
}

/*
 * A page the guest made private (ext mem_attributes, gmem_set_private): the
 * gate refuses it, and a list there gets the status a list the hypervisor
 * cannot use gets, INVALID_ALIGNMENT (docs/extensions.md: "Hyper-V its
 * status for the buffer"). Nothing is read or written; shared again, the
 * same calls work.
 */
static void test_private_buffers(void **state)
{
	const uint32_t names[1] = { HV_REGISTER_SVERSION };
	put_get_regs(names, 1);
	memset(hva(OUT_GPA), 0xee, PAGE_SIZE);
	assert_int_equal(gmem_set_private(vm, OUT_GPA >> PAGE_SHIFT, 1, true), 0);
	assert_int_equal(call64(HVCALL_GET_VP_REGISTERS | REP(1, 0), IN_GPA, OUT_GPA), HV_STATUS_INVALID_ALIGNMENT);
	assert_int_equal(call64(HVCALL_EXT_QUERY_CAPABILITIES, 0, OUT_GPA), HV_STATUS_INVALID_ALIGNMENT);
	assert_untouched(OUT_GPA, PAGE_SIZE, 0xee);
	/* the input private: nothing read (the flush would flush VP 1) */
	assert_int_equal(gmem_set_private(vm, OUT_GPA >> PAGE_SHIFT, 1, false), 0);
	const uint64_t flush[3] = { 0, 0, 0x2 };
	put(IN_GPA + 0x100, flush, sizeof(flush));
	assert_int_equal(gmem_set_private(vm, IN_GPA >> PAGE_SHIFT, 1, true), 0);
	assert_int_equal(call64(HVCALL_GET_VP_REGISTERS | REP(1, 0), IN_GPA, OUT_GPA), HV_STATUS_INVALID_ALIGNMENT);
	assert_int_equal(call64(HVCALL_FLUSH_VIRTUAL_ADDRESS_SPACE, IN_GPA + 0x100, 0), HV_STATUS_INVALID_ALIGNMENT);
	assert_int_equal(fake.tlb_flushes[1], 0);
	assert_untouched(OUT_GPA, PAGE_SIZE, 0xee);
	assert_int_equal(gmem_set_private(vm, IN_GPA >> PAGE_SHIFT, 1, false), 0);
	assert_int_equal(call64(HVCALL_GET_VP_REGISTERS | REP(1, 0), IN_GPA, OUT_GPA), HV_STATUS_SUCCESS | 1ull << 32);
	uint64_t val[2];
	out_val(0, val);
	assert_int_equal(val[0], HV_SYNIC_VERSION_1);
	assert_int_equal(call64(HVCALL_FLUSH_VIRTUAL_ADDRESS_SPACE, IN_GPA + 0x100, 0), HV_STATUS_SUCCESS);
	assert_int_equal(fake.tlb_flushes[1], 1);
}

/* ---- rep calls and continuation (TLFS "Hypercall Continuation", "Hypercall Outputs") ---- */

/* every GPR but RCX, which a continuation rewrites: names of n GetVpRegisters elements, cycling through them */
static const unsigned cont_gprs[] = { X86_RAX, X86_RDX, X86_RBX, X86_RSP, X86_RBP, X86_RSI, X86_RDI, X86_R8,
                                      X86_R9, X86_R10, X86_R11, X86_R12, X86_R13, X86_R14, X86_R15 };

static void put_gpr_names(uint32_t *names, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		names[i] = HV_X64_REGISTER_RAX + cont_gprs[i % ARRAY_SIZE(cont_gprs)];
	put_get_regs(names, n);
}

/* The n output elements at OUT_GPA hold those registers' values (regs: as they were). */
static void assert_gpr_elements(const uint64_t *regs, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		uint64_t val[2];
		out_val(i, val);
		if (val[0] != regs[cont_gprs[i % ARRAY_SIZE(cont_gprs)]] || val[1])
			fail_fmt("element %u: 0x%llx:%llx", i, (unsigned long long)val[1], (unsigned long long)val[0]);
	}
}

/*
 * 256 names take four entries of 64: after each but the last, RIP stays on
 * the call, RAX is untouched and RCX holds the input value with the next
 * rep start index; the last entry reports 256 reps completed.
 */
static void test_get_256_registers_continued(void **state)
{
	struct vcpu *c = vc[0];
	uint32_t names[256];
	put_gpr_names(names, 256);
	memset(hva(OUT_GPA), 0xee, PAGE_SIZE);
	uint64_t input = HVCALL_GET_VP_REGISTERS | REP(256, 0);
	c->regs.gpr[X86_RCX] = input;
	c->regs.gpr[X86_RDX] = IN_GPA;
	c->regs.gpr[X86_R8] = OUT_GPA;
	uint64_t regs[X86_NR_GPRS];
	memcpy(regs, c->regs.gpr, sizeof(regs));
	for (unsigned start = 64; start < 256; start += 64) {
		exec(c, MODE_64);
		assert_int_equal(c->regs.rip, RIP0);
		assert_int_equal(c->regs.gpr[X86_RAX], regs[X86_RAX]);
		assert_int_equal(c->regs.gpr[X86_RCX], with_rep_start(input, start));
		assert_untouched(OUT_GPA + 16ull * start, 16ull * (256 - start), 0xee);
	}
	exec(c, MODE_64);
	assert_int_equal(c->regs.gpr[X86_RAX], HV_STATUS_SUCCESS | 256ull << 32);
	assert_int_equal(c->regs.rip, RIP0 + 3);
	assert_gpr_elements(regs, 256);
}

/* The 50 us backstop: when time runs out after every element, each entry still does one. */
static void test_rep_time_backstop_progress(void **state)
{
	const uint64_t q[3 + 6] = { 0, 0, 0x1 };
	put(IN_GPA, q, sizeof(q));
	fake.counter_step = HZ;
	uint64_t input = HVCALL_FLUSH_VIRTUAL_ADDRESS_LIST | REP(6, 0);
	call64(input, IN_GPA, 0);
	unsigned entries = 1;
	for (; vc[0]->regs.rip == RIP0 && entries <= 6; entries++) {
		assert_int_equal(vc[0]->regs.gpr[X86_RCX], with_rep_start(input, entries));
		exec(vc[0], MODE_64);
	}
	fake.counter_step = 0;
	assert_int_equal(entries, 6);
	assert_int_equal(vc[0]->regs.gpr[X86_RAX], HV_STATUS_SUCCESS | 6ull << 32);
	assert_true(fake.tlb_flushes[0] >= 1);
	assert_int_equal(fake.tlb_flushes[1] + fake.tlb_flushes[2], 0);
}

/* 32-bit: EDX:EAX input value, EBX:ECX input GPA, EDI:ESI output GPA; the continued value in EDX:EAX. */
static void test_rep_continuation_32bit(void **state)
{
	struct vcpu *c = vc[0];
	uint32_t names[128];
	for (unsigned i = 0; i < 128; i++)
		names[i] = HV_REGISTER_VSM_CODE_PAGE_OFFSETS;
	put_get_regs(names, 128);
	uint64_t input = HVCALL_GET_VP_REGISTERS | REP(128, 0);
	c->regs.gpr[X86_RAX] = (uint32_t)input;
	c->regs.gpr[X86_RDX] = input >> 32;
	c->regs.gpr[X86_RBX] = 0;
	c->regs.gpr[X86_RCX] = IN_GPA;
	c->regs.gpr[X86_RDI] = 0;
	c->regs.gpr[X86_RSI] = OUT_GPA;
	exec(c, MODE_PROT32);
	assert_int_equal(c->regs.rip, RIP0);
	assert_int_equal(c->regs.gpr[X86_RAX], (uint32_t)input);
	assert_int_equal(c->regs.gpr[X86_RDX], with_rep_start(input, 64) >> 32);
	assert_int_equal(c->regs.gpr[X86_RCX], IN_GPA);
	exec(c, MODE_PROT32);
	assert_int_equal(c->regs.gpr[X86_RAX], HV_STATUS_SUCCESS);
	assert_int_equal(c->regs.gpr[X86_RDX], 128);            /* reps completed, bits 43:32 */
	assert_int_equal(c->regs.rip, RIP0 + 3);
	uint64_t val[2];
	out_val(127, val);
	assert_int_equal(val[0], 0x20 | 0x40ull << 12);
}

/* A guest-given rep start: elements before it are not touched; reps completed counts from 0. */
static void test_rep_start_from_guest(void **state)
{
	const uint32_t names[4] = { HV_X64_REGISTER_RIP, HV_X64_REGISTER_RIP, HV_REGISTER_VP_INDEX, HV_REGISTER_SVERSION };
	put_get_regs(names, 4);
	memset(hva(OUT_GPA), 0xee, PAGE_SIZE);
	assert_int_equal(call_on(vc[1], HVCALL_GET_VP_REGISTERS | REP(4, 2), IN_GPA, OUT_GPA),
	                 HV_STATUS_SUCCESS | 4ull << 32);
	assert_untouched(OUT_GPA, 32, 0xee);
	uint64_t val[2];
	out_val(2, val);
	assert_int_equal(val[0], 1);
	out_val(3, val);
	assert_int_equal(val[0], HV_SYNIC_VERSION_1);
	assert_untouched(OUT_GPA + 64, 16, 0xee);
}

/*
 * Other vCPUs' calls between the entries of a continued call, among them
 * another continued call: nothing of a call is kept between its entries
 * (the progress is in the caller's RCX), so each finishes with its own
 * values, as if alone.
 */
#define IN2_GPA 0x6000ull
#define OUT2_GPA 0x7000ull

static void test_rep_continuation_interleaved(void **state)
{
	struct vcpu *a = vc[0], *b = vc[1];
	uint32_t names[256];
	put_gpr_names(names, 256);
	const uint64_t hdr[2] = { HV_PARTITION_ID_SELF, HV_VP_INDEX_SELF };
	put(IN2_GPA, hdr, sizeof(hdr));
	for (unsigned i = 0; i < 128; i++)
		put(IN2_GPA + sizeof(hdr) + 4 * i, &(uint32_t){ i % 2 ? HV_REGISTER_VP_INDEX : HV_X64_REGISTER_RIP }, 4);
	memset(hva(OUT_GPA), 0xee, PAGE_SIZE);
	memset(hva(OUT2_GPA), 0xee, PAGE_SIZE);
	const uint64_t in_a = HVCALL_GET_VP_REGISTERS | REP(256, 0), in_b = HVCALL_GET_VP_REGISTERS | REP(128, 0);
	a->regs.gpr[X86_RCX] = in_a;
	a->regs.gpr[X86_RDX] = IN_GPA;
	a->regs.gpr[X86_R8] = OUT_GPA;
	uint64_t regs[X86_NR_GPRS];
	memcpy(regs, a->regs.gpr, sizeof(regs));
	exec(a, MODE_64);                                       /* a: 0-63 */
	assert_int_equal(a->regs.gpr[X86_RCX], with_rep_start(in_a, 64));
	assert_int_equal(call_on(b, HVCALL_NOTIFY_LONG_SPIN_WAIT, 0, 0), HV_STATUS_SUCCESS);
	b->regs.gpr[X86_RCX] = in_b;
	b->regs.gpr[X86_RDX] = IN2_GPA;
	b->regs.gpr[X86_R8] = OUT2_GPA;
	exec(b, MODE_64);                                       /* b: 0-63 */
	assert_int_equal(b->regs.gpr[X86_RCX], with_rep_start(in_b, 64));
	exec(a, MODE_64);                                       /* a: 64-127 */
	assert_int_equal(a->regs.gpr[X86_RCX], with_rep_start(in_a, 128));
	exec(b, MODE_64);                                       /* b: 64-127, done */
	assert_int_equal(b->regs.gpr[X86_RAX], HV_STATUS_SUCCESS | 128ull << 32);
	assert_int_equal(b->regs.rip, RIP0 + 6);
	exec(a, MODE_64);
	exec(a, MODE_64);
	assert_int_equal(a->regs.gpr[X86_RAX], HV_STATUS_SUCCESS | 256ull << 32);
	assert_int_equal(a->regs.rip, RIP0 + 3);
	assert_gpr_elements(regs, 256);
	for (unsigned i = 0; i < 128; i++) {
		uint64_t val[2];
		memcpy(val, hva(OUT2_GPA + 16ull * i), 16);
		/* RIP was RIP0 + 3 during b's call (after its spin wait), its VP index 1 */
		if (val[0] != (i % 2 ? 1 : RIP0 + 3) || val[1])
			fail_fmt("vCPU 1 element %u: 0x%llx:%llx", i, (unsigned long long)val[1], (unsigned long long)val[0]);
	}
	assert_untouched(OUT2_GPA + 128 * 16, PAGE_SIZE - 128 * 16, 0xee);
}

/* ---- Get/SetVpRegisters (TLFS HvCallGetVpRegisters, HvCallSetVpRegisters) ---- */

#define VTL_BYTE(b) ((uint64_t)(b) << 32)
static const struct {
	unsigned caller;
	uint64_t partition, vp_vtl;
	uint16_t want;
	const char *what;
} target_cases[] = {
	{ 0, HV_PARTITION_ID_SELF, HV_VP_INDEX_SELF, HV_STATUS_SUCCESS, "self, self" },
	{ 1, HV_PARTITION_ID_SELF, 1, HV_STATUS_SUCCESS, "own VP index" },
	{ 1, HV_PARTITION_ID_SELF, 0, HV_STATUS_INVALID_VP_INDEX, "another VP" },
	{ 0, HV_PARTITION_ID_SELF, 7, HV_STATUS_INVALID_VP_INDEX, "a VP that does not exist" },
	{ 0, HV_PARTITION_ID_SELF, 0xffffffff, HV_STATUS_INVALID_VP_INDEX, "HV_ANY_VP" },
	{ 0, 0, HV_VP_INDEX_SELF, HV_STATUS_ACCESS_DENIED, "partition 0" },
	{ 0, 0x1234, HV_VP_INDEX_SELF, HV_STATUS_ACCESS_DENIED, "another partition" },
	{ 0, HV_PARTITION_ID_SELF, HV_VP_INDEX_SELF | VTL_BYTE(0x10), HV_STATUS_SUCCESS, "target VTL 0" },
	{ 0, HV_PARTITION_ID_SELF, HV_VP_INDEX_SELF | VTL_BYTE(0x01), HV_STATUS_SUCCESS, "VTL 1 not used" },
	{ 0, HV_PARTITION_ID_SELF, HV_VP_INDEX_SELF | VTL_BYTE(0x11), HV_STATUS_INVALID_PARAMETER, "target VTL 1" },
	{ 0, HV_PARTITION_ID_SELF, HV_VP_INDEX_SELF | VTL_BYTE(0x20), HV_STATUS_INVALID_HYPERCALL_INPUT, "VTL bit 5" },
	{ 0, HV_PARTITION_ID_SELF, HV_VP_INDEX_SELF | VTL_BYTE(0x80), HV_STATUS_INVALID_HYPERCALL_INPUT, "VTL bit 7" },
	{ 0, HV_PARTITION_ID_SELF, HV_VP_INDEX_SELF | 1ull << 40, HV_STATUS_INVALID_HYPERCALL_INPUT, "byte 13" },
	{ 0, HV_PARTITION_ID_SELF, HV_VP_INDEX_SELF | 1ull << 63, HV_STATUS_INVALID_HYPERCALL_INPUT, "byte 15" },
};

/* One element each: Get of the VP index, Set of the guest OS ID (32-byte assoc). */
static void test_vp_registers_target(void **state)
{
	for (size_t i = 0; i < ARRAY_SIZE(target_cases); i++) {
		struct vcpu *c = vc[target_cases[i].caller];
		const uint64_t get[3] = { target_cases[i].partition, target_cases[i].vp_vtl, HV_REGISTER_VP_INDEX };
		const uint64_t set[6] = { target_cases[i].partition, target_cases[i].vp_vtl, HV_REGISTER_GUEST_OS_ID, 0, i + 1, 0 };
		uint64_t want = target_cases[i].want ? target_cases[i].want : HV_STATUS_SUCCESS | 1ull << 32;
		memset(hva(OUT_GPA), 0xee, 16);
		put(IN_GPA, get, sizeof(get));
		uint64_t r = call_on(c, HVCALL_GET_VP_REGISTERS | REP(1, 0), IN_GPA, OUT_GPA);
		if (r != want)
			fail_fmt("get, %s: result 0x%llx", target_cases[i].what, (unsigned long long)r);
		uint64_t val[2];
		out_val(0, val);
		if (!target_cases[i].want && val[0] != c->id)
			fail_fmt("get, %s: VP index %llu", target_cases[i].what, (unsigned long long)val[0]);
		if (target_cases[i].want)
			assert_untouched(OUT_GPA, 16, 0xee);
		uint64_t os_id = rdmsr(c, HV_X64_MSR_GUEST_OS_ID);
		put(IN_GPA, set, sizeof(set));
		r = call_on(c, HVCALL_SET_VP_REGISTERS | REP(1, 0), IN_GPA, 0);
		if (r != want)
			fail_fmt("set, %s: result 0x%llx", target_cases[i].what, (unsigned long long)r);
		assert_int_equal(rdmsr(c, HV_X64_MSR_GUEST_OS_ID), target_cases[i].want ? os_id : i + 1);
	}
}

/* An unknown name ends the call: INVALID_PARAMETER, reps completed = its index, RIP moves on. */
static void test_get_unknown_name_stops(void **state)
{
	const uint32_t names[4] = { HV_X64_REGISTER_RIP, HV_REGISTER_SVERSION, 0x00030000 /* XMM0 */, HV_X64_REGISTER_RIP };
	put_get_regs(names, 4);
	memset(hva(OUT_GPA), 0xee, PAGE_SIZE);
	assert_int_equal(call64(HVCALL_GET_VP_REGISTERS | REP(4, 0), IN_GPA, OUT_GPA),
	                 HV_STATUS_INVALID_PARAMETER | 2ull << 32);
	uint64_t val[2];
	out_val(0, val);
	assert_int_equal(val[0], RIP0);
	out_val(1, val);
	assert_int_equal(val[0], HV_SYNIC_VERSION_1);
	assert_untouched(OUT_GPA + 32, 32, 0xee);
	assert_int_equal(vc[0]->regs.rip, RIP0 + 3);
}

struct assoc { uint32_t name, reserved1; uint64_t reserved2, lo, hi; };

static uint64_t set_regs(const struct assoc *a, unsigned n)
{
	const uint64_t hdr[2] = { HV_PARTITION_ID_SELF, HV_VP_INDEX_SELF };
	put(IN_GPA, hdr, sizeof(hdr));
	put(IN_GPA + sizeof(hdr), a, n * sizeof(*a));
	return call64(HVCALL_SET_VP_REGISTERS | REP(n, 0), IN_GPA, 0);
}

static void test_set_registers(void **state)
{
	_Static_assert(sizeof(struct assoc) == 32, "TLFS HV_REGISTER_ASSOC");
	static const struct { struct assoc a; uint16_t want; const char *what; } cases[] = {
		{ { HV_REGISTER_GUEST_OS_ID, 0, 0, 0x8100000000000001ull, 0 }, HV_STATUS_SUCCESS, "guest OS ID" },
		{ { HV_REGISTER_GUEST_OS_ID, 1, 0, 0x8100000000000002ull, 0 }, HV_STATUS_INVALID_PARAMETER, "reserved1" },
		{ { HV_REGISTER_GUEST_OS_ID, 0, 1, 0x8100000000000003ull, 0 }, HV_STATUS_INVALID_PARAMETER, "reserved2" },
		{ { HV_REGISTER_GUEST_OS_ID, 0, 0, 0x8100000000000004ull, 1 }, HV_STATUS_INVALID_REGISTER_VALUE, "value_hi" },
		{ { HV_REGISTER_VP_INDEX, 0, 0, 2, 0 }, HV_STATUS_ACCESS_DENIED, "VP index" },
		{ { HV_REGISTER_TIME_REF_COUNT, 0, 0, 2, 0 }, HV_STATUS_ACCESS_DENIED, "time ref count" },
		{ { HV_REGISTER_SVERSION, 0, 0, 1, 0 }, HV_STATUS_ACCESS_DENIED, "SVERSION" },
		{ { HV_X64_REGISTER_RAX, 0, 0, 1, 0 }, HV_STATUS_ACCESS_DENIED, "RAX" },
		{ { HV_REGISTER_HYPERVISOR_VERSION, 0, 0, 1, 0 }, HV_STATUS_ACCESS_DENIED, "hypervisor version" },
		{ { 0x00030000, 0, 0, 1, 0 }, HV_STATUS_INVALID_PARAMETER, "XMM0: not offered" },
		{ { HV_REGISTER_SINT0 + 2, 0, 0, 0x05, 0 }, HV_STATUS_INVALID_REGISTER_VALUE, "SINT vector 5 unmasked" },
		{ { HV_REGISTER_SIMP, 0, 0, RAM | 1, 0 }, HV_STATUS_INVALID_REGISTER_VALUE, "SIMP outside RAM" },
		{ { HV_REGISTER_SINT0 + 2, 0, 0, 0x52, 0 }, HV_STATUS_SUCCESS, "SINT2 vector 0x52" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		uint64_t r = set_regs(&cases[i].a, 1);
		uint64_t want = cases[i].want ? cases[i].want : HV_STATUS_SUCCESS | 1ull << 32;
		if (r != want)
			fail_fmt("%s: result 0x%llx", cases[i].what, (unsigned long long)r);
	}
	/* only the accepted values arrived */
	assert_int_equal(rdmsr(vc[0], HV_X64_MSR_GUEST_OS_ID), 0x8100000000000001ull);
	assert_int_equal(rdmsr(vc[0], HV_X64_MSR_SINT0 + 2), 0x52);
	assert_int_equal(rdmsr(vc[0], HV_X64_MSR_SIMP), 0);
	/* a refused element stops the call after the ones before it */
	const struct assoc two[2] = { { HV_REGISTER_GUEST_OS_ID, 0, 0, 0x77, 0 }, { HV_REGISTER_VP_INDEX, 0, 0, 0, 0 } };
	assert_int_equal(set_regs(two, 2), HV_STATUS_ACCESS_DENIED | 1ull << 32);
	assert_int_equal(rdmsr(vc[0], HV_X64_MSR_GUEST_OS_ID), 0x77);
}

/* The discovery registers are the CPUID leaves (EBX:EAX low, EDX:ECX high), and the x64 registers. */
static void test_get_discovery_and_x64_registers(void **state)
{
	static const struct { uint32_t name, leaf; } leaves[] = {
		{ HV_REGISTER_HYPERVISOR_VERSION, 0x40000002 }, { HV_REGISTER_PRIVILEGES_AND_FEATURES, 0x40000003 },
		{ HV_REGISTER_FEATURES, 0x40000004 }, { HV_REGISTER_IMPLEMENTATION_LIMITS, 0x40000005 },
		{ HV_REGISTER_HARDWARE_FEATURES, 0x40000006 },
	};
	fake.ctrl[0] = (struct arch_ctrl_regs){ .cr0 = 0x80050033, .cr2 = 0x7777000, .cr3 = 0x123000,
	                                        .cr4 = 0x3606f0, .cr8 = 0x2, .efer = 0xd01 };
	vc[0]->regs.rflags = 0x246;
	const struct { uint32_t name; uint64_t val; } x64[] = {
		{ HV_X64_REGISTER_RAX, vc[0]->regs.gpr[X86_RAX] }, { HV_X64_REGISTER_RAX + X86_R15, vc[0]->regs.gpr[X86_R15] },
		{ HV_X64_REGISTER_RIP, RIP0 }, { HV_X64_REGISTER_RFLAGS, 0x246 },
		{ HV_X64_REGISTER_CR0, 0x80050033 }, { HV_X64_REGISTER_CR2, 0x7777000 }, { HV_X64_REGISTER_CR3, 0x123000 },
		{ HV_X64_REGISTER_CR4, 0x3606f0 }, { HV_X64_REGISTER_CR8, 0x2 }, { HV_X64_REGISTER_EFER, 0xd01 },
		/* TLFS "Hypercall Page Assist": VTL call offset 11:0, VTL return offset 23:12 */
		{ HV_REGISTER_VSM_CODE_PAGE_OFFSETS, 0x20 | 0x40ull << 12 },
	};
	const unsigned nl = ARRAY_SIZE(leaves), n = nl + ARRAY_SIZE(x64);
	uint32_t names[ARRAY_SIZE(leaves) + ARRAY_SIZE(x64)];
	for (unsigned i = 0; i < n; i++)
		names[i] = i < nl ? leaves[i].name : x64[i - nl].name;
	put_get_regs(names, n);
	assert_int_equal(call64(HVCALL_GET_VP_REGISTERS | REP(n, 0), IN_GPA, OUT_GPA), HV_STATUS_SUCCESS | (uint64_t)n << 32);
	for (unsigned i = 0; i < n; i++) {
		uint64_t val[2], want[2] = { i < nl ? 0 : x64[i - nl].val, 0 };
		if (i < nl) {
			struct cpuid_regs r;
			assert_true(hc_cpuid(vc[0], leaves[i].leaf, 0, &r));
			want[0] = (uint64_t)r.ebx << 32 | r.eax;
			want[1] = (uint64_t)r.edx << 32 | r.ecx;
		}
		out_val(i, val);
		if (val[0] != want[0] || val[1] != want[1])
			fail_fmt("name 0x%x: 0x%llx:%llx, want 0x%llx:%llx", names[i], (unsigned long long)val[1],
			         (unsigned long long)val[0], (unsigned long long)want[1], (unsigned long long)want[0]);
	}
}

/* ---- VTL call and return (TLFS "Virtual Secure Mode"): no VTL 1, so #UD ---- */

static void test_vtl_call_and_return_ud(void **state)
{
	static const uint16_t codes[] = { HVCALL_VTL_CALL, HVCALL_VTL_RETURN };
	struct vcpu *c = vc[0];
	for (size_t i = 0; i < ARRAY_SIZE(codes); i++) {
		uint64_t rax = c->regs.gpr[X86_RAX];
		assert_int_equal(call64(codes[i], IN_GPA, OUT_GPA), rax);
		assert_int_equal(fake.inject_undef, i + 1);
		assert_ptr_equal(fake.undef_vcpu[i], c);
		assert_int_equal(c->regs.rip, RIP0);
		assert_int_equal(c->regs.gpr[X86_RCX], codes[i]);
		assert_int_equal(c->regs.gpr[X86_RDX], IN_GPA);
	}
}

/* ---- SynIC MSRs (TLFS "Synthetic Interrupt Controller") ---- */

static void test_sint_msrs(void **state)
{
	struct vcpu *c = vc[0];
	for (unsigned i = 0; i < HV_SYNIC_SINT_COUNT; i++)
		assert_int_equal(rdmsr(c, HV_X64_MSR_SINT0 + i), HV_SYNIC_SINT_MASKED);   /* reset value */
	static const struct { uint64_t val; int want; const char *what; } cases[] = {
		{ 0x0f, -EINVAL, "vector 15 unmasked" },
		{ 0x00, -EINVAL, "vector 0 unmasked" },
		{ HV_SYNIC_SINT_MASKED | 0x0f, 0, "vector 15 masked" },
		{ 0x10, 0, "vector 16" },
		{ 0xff | HV_SYNIC_SINT_AUTO_EOI | HV_SYNIC_SINT_POLLING, 0, "auto-EOI, polling" },
		/* RsvdP (TLFS): taken and kept, as KVM does */
		{ 0x50 | 1ull << 8, 0, "bit 8" },
		{ 0x50 | 1ull << 19, 0, "bit 19 (as_intercept)" },
		{ 0x50 | 1ull << 63, 0, "bit 63" },
	};
	uint64_t now = HV_SYNIC_SINT_MASKED;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		int r = hc_msr_write(c, HV_X64_MSR_SINT0 + 5, cases[i].val);
		if (r != cases[i].want)
			fail_fmt("%s: %d", cases[i].what, r);
		if (!r)
			now = cases[i].val;
		assert_int_equal(rdmsr(c, HV_X64_MSR_SINT0 + 5), now);
	}
	assert_int_equal(rdmsr(c, HV_X64_MSR_SINT0 + 4), HV_SYNIC_SINT_MASKED);
}

/* AutoEOI (TLFS "SINTx Registers"): the vectors of unmasked SINTs that ask for it end when accepted. */
static void test_sint_auto_eoi_vectors(void **state)
{
	static const uint32_t none[8];
	const uint32_t want[8] = { [0x62 / 32] = 1u << (0x62 % 32) };
	wrmsr(vc[0], HV_X64_MSR_SINT0 + 1, 0x62 | HV_SYNIC_SINT_AUTO_EOI);
	wrmsr(vc[0], HV_X64_MSR_SINT0 + 2, 0x63);
	wrmsr(vc[0], HV_X64_MSR_SINT0 + 3, 0xe1 | HV_SYNIC_SINT_AUTO_EOI | HV_SYNIC_SINT_MASKED);
	assert_memory_equal(fake.auto_eoi[0], want, sizeof(want));
	assert_memory_equal(fake.auto_eoi[1], none, sizeof(none));
	wrmsr(vc[0], HV_X64_MSR_SINT0 + 1, 0x62 | HV_SYNIC_SINT_AUTO_EOI | HV_SYNIC_SINT_MASKED);
	assert_memory_equal(fake.auto_eoi[0], none, sizeof(none));
}

static void test_sversion_and_scontrol(void **state)
{
	assert_int_equal(rdmsr(vc[0], HV_X64_MSR_SVERSION), 1);
	assert_int_equal(hc_msr_write(vc[0], HV_X64_MSR_SVERSION, 1), -EINVAL);
	assert_int_equal(rdmsr(vc[0], HV_X64_MSR_SCONTROL), 0);
	/* bits 63:1 are RsvdP (TLFS): taken and kept */
	assert_int_equal(hc_msr_write(vc[0], HV_X64_MSR_SCONTROL, 2), 0);
	assert_int_equal(rdmsr(vc[0], HV_X64_MSR_SCONTROL), 2);
	wrmsr(vc[0], HV_X64_MSR_SCONTROL, HV_SYNIC_CONTROL_ENABLE);
	assert_int_equal(rdmsr(vc[0], HV_X64_MSR_SCONTROL), 1);
	assert_int_equal(rdmsr(vc[0], HV_X64_MSR_EOM), 0);
}

/* SIMP and SIEFP: enabling clears the page (KVM synic_set_msr); bits 11:1 are RsvdP; outside RAM #GP. */
static void test_synic_page_msrs(void **state)
{
	static const uint32_t msrs[] = { HV_X64_MSR_SIMP, HV_X64_MSR_SIEFP };
	const uint64_t page = 0x9000;
	for (size_t i = 0; i < ARRAY_SIZE(msrs); i++) {
		memset(hva(page), 0xaa, PAGE_SIZE + 1);
		wrmsr(vc[0], msrs[i], page | 1);
		assert_int_equal(rdmsr(vc[0], msrs[i]), page | 1);
		assert_untouched(page, PAGE_SIZE, 0);
		assert_untouched(page + PAGE_SIZE, 1, 0xaa);
		/* disabling keeps the page as it is */
		memset(hva(page), 0xbb, PAGE_SIZE);
		wrmsr(vc[0], msrs[i], page);
		assert_untouched(page, PAGE_SIZE, 0xbb);
		static const uint64_t bad[] = { RAM | 1, 0xfffffffffffff001ull };
		for (size_t b = 0; b < ARRAY_SIZE(bad); b++)
			if (hc_msr_write(vc[0], msrs[i], bad[b]) != -EINVAL)
				fail_fmt("MSR 0x%x <- 0x%llx accepted", msrs[i], (unsigned long long)bad[b]);
		assert_int_equal(rdmsr(vc[0], msrs[i]), page);
		assert_untouched(page, PAGE_SIZE, 0xbb);
	}
}

/* ---- PostMessage (TLFS HvCallPostMessage, "SynIC Messages") ---- */

/* vCPU c: SynIC on, message and event pages enabled, SINT `sint` unmasked with `vector`. */
static void synic_up(struct vcpu *c, unsigned sint, uint8_t vector)
{
	wrmsr(c, HV_X64_MSR_SCONTROL, HV_SYNIC_CONTROL_ENABLE);
	wrmsr(c, HV_X64_MSR_SIMP, SIMP_GPA(c->id) | HV_SYNIC_SIMP_ENABLE);
	wrmsr(c, HV_X64_MSR_SIEFP, SIEFP_GPA(c->id) | HV_SYNIC_SIEFP_ENABLE);
	wrmsr(c, HV_X64_MSR_SINT0 + sint, vector);
}

static struct hv_message *slot(const struct vcpu *c, unsigned sint)
{
	return (struct hv_message *)hva(SIMP_GPA(c->id) + sint * sizeof(struct hv_message));
}

#define TYPE1_8B (1 | 8ull << 32)                           /* PostMessage: message type 1, 8 bytes of payload */

/* PostMessage input: connection ID, reserved, type, payload size, 240 bytes of payload (byte i = i ^ seed). */
static uint64_t post_raw(struct vcpu *c, uint64_t q0, uint64_t q1, uint8_t seed)
{
	uint64_t q[32] = { q0, q1 };
	for (unsigned i = 0; i < HV_MESSAGE_PAYLOAD_BYTES; i++)
		((uint8_t *)&q[2])[i] = (uint8_t)(i ^ seed);
	put(IN_GPA, q, sizeof(q));
	return call_on(c, HVCALL_POST_MESSAGE, IN_GPA, 0);
}

static uint64_t post(uint32_t conn, uint32_t type, uint32_t size)
{
	return post_raw(vc[0], conn, type | (uint64_t)size << 32, (uint8_t)type);
}

static void assert_message(const struct vcpu *c, unsigned sint, uint32_t type, uint32_t size, uint8_t flags)
{
	const struct hv_message *m = slot(c, sint);
	if (m->type != type || m->payload_size != size || m->flags != flags || m->reserved ||
	    m->origin != HV_CONN_ID(c->id, sint))
		fail_fmt("vCPU %u SINT %u: type 0x%x size %u flags %u reserved %u origin 0x%llx", c->id, sint, m->type,
		         m->payload_size, m->flags, m->reserved, (unsigned long long)m->origin);
	for (unsigned i = 0; i < size; i++)
		if (m->payload[i] != (uint8_t)(i ^ type))
			fail_fmt("payload byte %u is 0x%x", i, m->payload[i]);
}

/* The guest consumes its message: type 0, then EOM if the hypervisor said more are pending. */
static void consume(struct vcpu *c, unsigned sint)
{
	struct hv_message *m = slot(c, sint);
	bool pending = m->flags & HV_MESSAGE_FLAG_PENDING;
	m->type = HVMSG_NONE;
	if (pending)
		wrmsr(c, HV_X64_MSR_EOM, 0);
}

static void test_post_message_delivered(void **state)
{
	synic_up(vc[0], 2, 0x42);
	synic_up(vc[1], 2, 0x52);
	assert_int_equal(post(HV_CONN_ID(1, 2), 0x1234, HV_MESSAGE_PAYLOAD_BYTES), HV_STATUS_SUCCESS);
	assert_message(vc[1], 2, 0x1234, HV_MESSAGE_PAYLOAD_BYTES, 0);
	assert_int_equal(fake.ipis[1], 1);
	assert_int_equal(fake.ipi_icr[1], 0x52);
	/* only that slot of only vCPU 1's page; the sender's page stays empty */
	assert_untouched(SIMP_GPA(1), 2 * sizeof(struct hv_message), 0);
	assert_untouched(SIMP_GPA(1) + 3 * sizeof(struct hv_message), PAGE_SIZE - 3 * sizeof(struct hv_message), 0);
	assert_untouched(SIMP_GPA(0), PAGE_SIZE, 0);
	assert_int_equal(fake.ipis[0] + fake.ipis[2], 0);
	/* to itself, a short message */
	assert_int_equal(post(HV_CONN_ID(0, 2), 7, 3), HV_STATUS_SUCCESS);
	assert_message(vc[0], 2, 7, 3, 0);
	assert_int_equal(fake.ipi_icr[0], 0x42);
}

/* A full slot: "message pending" set, the message queued; type 0 and EOM bring the next one. */
static void test_post_message_busy_slot(void **state)
{
	synic_up(vc[1], 2, 0x52);
	for (uint32_t type = 1; type <= 3; type++)
		assert_int_equal(post(HV_CONN_ID(1, 2), type, 16 * type), HV_STATUS_SUCCESS);
	assert_message(vc[1], 2, 1, 16, HV_MESSAGE_FLAG_PENDING);
	assert_int_equal(fake.ipis[1], 1);
	/* emptied but no EOM yet (TLFS "Message Buffers"): a new message still waits behind the queued ones */
	slot(vc[1], 2)->type = HVMSG_NONE;
	assert_int_equal(post(HV_CONN_ID(1, 2), 4, 64), HV_STATUS_SUCCESS);
	assert_int_equal(slot(vc[1], 2)->type, HVMSG_NONE);
	assert_int_equal(fake.ipis[1], 1);
	wrmsr(vc[1], HV_X64_MSR_EOM, 0);
	for (uint32_t type = 2; type <= 4; type++) {
		assert_message(vc[1], 2, type, 16 * type, type < 4 ? HV_MESSAGE_FLAG_PENDING : 0);
		assert_int_equal(fake.ipis[1], type);
		consume(vc[1], 2);
	}
	/* nothing left: EOM changes nothing */
	wrmsr(vc[1], HV_X64_MSR_EOM, 0);
	assert_int_equal(slot(vc[1], 2)->type, HVMSG_NONE);
	assert_int_equal(fake.ipis[1], 4);
}

/* 4 messages wait per vCPU; the 5th gets INSUFFICIENT_BUFFERS. They come out in order. */
static void test_post_message_queue_full(void **state)
{
	synic_up(vc[1], 2, 0x52);
	wrmsr(vc[1], HV_X64_MSR_SINT0 + 3, 0x53);
	assert_int_equal(post(HV_CONN_ID(1, 2), 1, 8), HV_STATUS_SUCCESS);  /* in the slot */
	for (uint32_t type = 2; type <= 5; type++)
		assert_int_equal(post(HV_CONN_ID(1, 2), type, 8), HV_STATUS_SUCCESS);
	assert_int_equal(post(HV_CONN_ID(1, 2), 6, 8), HV_STATUS_INSUFFICIENT_BUFFERS);
	/* a message for a free slot with nothing waiting before it needs no queue space */
	assert_int_equal(post(HV_CONN_ID(1, 3), 9, 8), HV_STATUS_SUCCESS);
	assert_message(vc[1], 3, 9, 8, 0);
	/* message 1 read, 2 delivered: room for one more, which comes last */
	consume(vc[1], 2);
	assert_int_equal(post(HV_CONN_ID(1, 2), 6, 8), HV_STATUS_SUCCESS);
	for (uint32_t type = 2; type <= 6; type++) {
		assert_message(vc[1], 2, type, 8, type < 6 ? HV_MESSAGE_FLAG_PENDING : 0);
		consume(vc[1], 2);
	}
	assert_int_equal(slot(vc[1], 2)->type, HVMSG_NONE);
}

static void test_post_message_errors(void **state)
{
	synic_up(vc[1], 2, 0x52);
	wrmsr(vc[2], HV_X64_MSR_SIMP, SIMP_GPA(2) | 1);
	wrmsr(vc[2], HV_X64_MSR_SINT0 + 2, 0x62);
	static const struct { uint64_t q0, q1; uint16_t want; const char *what; } cases[] = {
		{ HV_CONN_ID(1, 2) | 1ull << 32, TYPE1_8B, HV_STATUS_INVALID_HYPERCALL_INPUT, "reserved" },
		{ HV_CONN_ID(1, 2), 1 | 241ull << 32, HV_STATUS_INVALID_PARAMETER, "241 bytes" },
		{ HV_CONN_ID(1, 2), 0 | 8ull << 32, HV_STATUS_INVALID_PARAMETER, "type 0" },
		{ HV_CONN_ID(1, 2), 0x80000001 | 8ull << 32, HV_STATUS_INVALID_PARAMETER, "a hypervisor type" },
		{ HV_CONN_ID(3, 2), TYPE1_8B, HV_STATUS_INVALID_CONNECTION_ID, "VP 3 does not exist" },
		{ 0x2, TYPE1_8B, HV_STATUS_INVALID_CONNECTION_ID, "not a connection" },
		{ HV_CONN_ID(1, 2) | 0x100000, TYPE1_8B, HV_STATUS_INVALID_CONNECTION_ID, "bit 20" },
		{ HV_CONN_ID(1, 5), TYPE1_8B, HV_STATUS_INVALID_SYNIC_STATE, "SINT masked" },
		{ HV_CONN_ID(2, 2), TYPE1_8B, HV_STATUS_INVALID_SYNIC_STATE, "SynIC off" },
		{ HV_CONN_ID(0, 2), TYPE1_8B, HV_STATUS_INVALID_SYNIC_STATE, "nothing on" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		uint64_t r = post_raw(vc[0], cases[i].q0, cases[i].q1, 1);
		if (r != cases[i].want)
			fail_fmt("%s: result 0x%llx", cases[i].what, (unsigned long long)r);
	}
	/* vCPU 2: SynIC on, message page off */
	wrmsr(vc[2], HV_X64_MSR_SCONTROL, HV_SYNIC_CONTROL_ENABLE);
	wrmsr(vc[2], HV_X64_MSR_SIMP, SIMP_GPA(2));
	assert_int_equal(post_raw(vc[0], HV_CONN_ID(2, 2), TYPE1_8B, 1), HV_STATUS_INVALID_SYNIC_STATE);
	assert_int_equal(fake.ipis[0] + fake.ipis[1] + fake.ipis[2], 0);
	assert_int_equal(slot(vc[1], 2)->type, HVMSG_NONE);
	/* and with everything on, the same message goes through */
	wrmsr(vc[2], HV_X64_MSR_SIMP, SIMP_GPA(2) | 1);
	assert_int_equal(post_raw(vc[0], HV_CONN_ID(2, 2), TYPE1_8B, 1), HV_STATUS_SUCCESS);
	assert_int_equal(fake.ipis[2], 1);
}

/* ---- SignalEvent (TLFS HvCallSignalEvent, "SynIC Event Flags") ---- */

static uint64_t signal_fast(uint32_t conn, uint64_t flag)
{
	return call64(HVCALL_SIGNAL_EVENT | HV_INPUT_FAST, conn | flag << 32, 0);
}

/* Byte `byte` of the event flags of `sint` in vCPU vp's SIEF page (TLFS "SynIC Event Flags": LSB first). */
static uint8_t *flags_at(unsigned vp, unsigned sint, unsigned byte)
{
	return hva(SIEFP_GPA(vp) + sint * (HV_EVENT_FLAGS_COUNT / 8) + byte);
}

static void test_signal_event(void **state)
{
	synic_up(vc[1], 4, 0x54);
	assert_int_equal(signal_fast(HV_CONN_ID(1, 4), 13), HV_STATUS_SUCCESS);
	assert_int_equal(*flags_at(1, 4, 1), 1u << 5);        /* flag 13: byte 1, bit 5 */
	assert_int_equal(fake.ipis[1], 1);
	assert_int_equal(fake.ipi_icr[1], 0x54);
	/* the flag was already set: no second interrupt */
	assert_int_equal(signal_fast(HV_CONN_ID(1, 4), 13), HV_STATUS_SUCCESS);
	assert_int_equal(fake.ipis[1], 1);
	/* slow form: 8 bytes in the input page; the last flag */
	const uint64_t q = HV_CONN_ID(1, 4) | 2047ull << 32;
	put(IN_GPA, &q, sizeof(q));
	assert_int_equal(call64(HVCALL_SIGNAL_EVENT, IN_GPA, 0), HV_STATUS_SUCCESS);
	assert_int_equal(*flags_at(1, 4, 255), 0x80);
	assert_int_equal(fake.ipis[1], 2);
	/* the guest clears the flag: the next signal interrupts again */
	*flags_at(1, 4, 1) = 0;
	assert_int_equal(signal_fast(HV_CONN_ID(1, 4), 13), HV_STATUS_SUCCESS);
	assert_int_equal(fake.ipis[1], 3);
	/* nothing else in the page */
	unsigned bits = 0;
	for (unsigned i = 0; i < PAGE_SIZE; i++)
		bits += popcount64(*hva(SIEFP_GPA(1) + i));
	assert_int_equal(bits, 2);
	assert_int_equal(fake.ipis[0] + fake.ipis[2], 0);
}

static void test_signal_event_errors(void **state)
{
	synic_up(vc[1], 4, 0x54);
	wrmsr(vc[2], HV_X64_MSR_SIEFP, SIEFP_GPA(2) | 1);
	wrmsr(vc[2], HV_X64_MSR_SINT0 + 4, 0x64);
	static const struct { uint32_t conn; uint64_t flag; uint16_t want; const char *what; } cases[] = {
		{ HV_CONN_ID(1, 4), 2048, HV_STATUS_INVALID_PARAMETER, "flag 2048" },
		{ HV_CONN_ID(1, 4), 0xffff, HV_STATUS_INVALID_PARAMETER, "flag 65535" },
		{ HV_CONN_ID(1, 4), 1ull << 16, HV_STATUS_INVALID_HYPERCALL_INPUT, "reserved bit 48" },
		{ HV_CONN_ID(1, 4), 1ull << 31, HV_STATUS_INVALID_HYPERCALL_INPUT, "reserved bit 63" },
		{ HV_CONN_ID(3, 4), 0, HV_STATUS_INVALID_CONNECTION_ID, "VP 3 does not exist" },
		{ 0x4, 0, HV_STATUS_INVALID_CONNECTION_ID, "not a connection" },
		{ HV_CONN_ID(1, 5), 0, HV_STATUS_INVALID_SYNIC_STATE, "SINT masked" },
		{ HV_CONN_ID(2, 4), 0, HV_STATUS_INVALID_SYNIC_STATE, "SynIC off" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		uint64_t r = signal_fast(cases[i].conn, cases[i].flag);
		if (r != cases[i].want)
			fail_fmt("%s: result 0x%llx", cases[i].what, (unsigned long long)r);
	}
	wrmsr(vc[2], HV_X64_MSR_SCONTROL, HV_SYNIC_CONTROL_ENABLE);
	wrmsr(vc[2], HV_X64_MSR_SIEFP, SIEFP_GPA(2));
	assert_int_equal(signal_fast(HV_CONN_ID(2, 4), 0), HV_STATUS_INVALID_SYNIC_STATE);  /* event page off */
	assert_int_equal(fake.ipis[0] + fake.ipis[1] + fake.ipis[2], 0);
	assert_untouched(SIEFP_GPA(1), PAGE_SIZE, 0);
	wrmsr(vc[2], HV_X64_MSR_SIEFP, SIEFP_GPA(2) | 1);
	assert_int_equal(signal_fast(HV_CONN_ID(2, 4), 0), HV_STATUS_SUCCESS);
	assert_int_equal(fake.ipis[2], 1);
}

/*
 * SIMP and SIEFP bits 11:1 and the VP assist page's bits 11:1 are RsvdP
 * (TLFS "SynIC Message Page", "SynIC Event Flags Page", "Virtual Processor
 * Assist Page"): taken and read back (KVM synic_set_msr, kvm_hv_set_msr keep
 * the whole value); the page is bits 63:12 and messages, events and the
 * assist word land there.
 */
static void test_synic_page_msrs_reserved_bits(void **state)
{
	struct vcpu *c = vc[1];
	wrmsr(c, HV_X64_MSR_SCONTROL, HV_SYNIC_CONTROL_ENABLE);
	wrmsr(c, HV_X64_MSR_SIMP, SIMP_GPA(1) | 0xffe | HV_SYNIC_SIMP_ENABLE);
	wrmsr(c, HV_X64_MSR_SIEFP, SIEFP_GPA(1) | 0x010 | HV_SYNIC_SIEFP_ENABLE);
	wrmsr(c, HV_X64_MSR_SINT0 + 2, 0x52);
	wrmsr(c, HV_X64_MSR_SINT0 + 4, 0x54);
	assert_int_equal(rdmsr(c, HV_X64_MSR_SIMP), SIMP_GPA(1) | 0xfff);
	assert_int_equal(rdmsr(c, HV_X64_MSR_SIEFP), SIEFP_GPA(1) | 0x011);
	assert_int_equal(post(HV_CONN_ID(1, 2), 0x33, 16), HV_STATUS_SUCCESS);
	assert_message(c, 2, 0x33, 16, 0);
	assert_int_equal(signal_fast(HV_CONN_ID(1, 4), 9), HV_STATUS_SUCCESS);
	assert_int_equal(*flags_at(1, 4, 1), 1u << 1);
	assert_int_equal(fake.ipis[1], 2);
	memset(hva(ASSIST_GPA), 0xaa, 8);
	wrmsr(c, HV_X64_MSR_VP_ASSIST_PAGE, ASSIST_GPA | 0xffe | HV_X64_MSR_VP_ASSIST_PAGE_ENABLE);
	assert_int_equal(rdmsr(c, HV_X64_MSR_VP_ASSIST_PAGE), ASSIST_GPA | 0xfff);
	assert_untouched(ASSIST_GPA, 4, 0);
	assert_untouched(ASSIST_GPA + 4, 4, 0xaa);
	assert_int_equal(fake.pv_eoi_gpa[1], ASSIST_GPA);
}

/*
 * The message or event page leaves the VM while enabled (ballooned out, or
 * unmapped by ext in a multi-ABI VM): the gate refuses it, so nothing is
 * written there. PostMessage treats the unreadable slot as a full one: the
 * message waits in the VP's queue (4 deep, then INSUFFICIENT_BUFFERS) and
 * comes when the page is back and the guest writes EOM. SignalEvent cannot
 * set the flag: INVALID_SYNIC_STATE, no interrupt.
 */
static void test_synic_pages_leave_the_vm(void **state)
{
	synic_up(vc[1], 2, 0x52);
	wrmsr(vc[1], HV_X64_MSR_SINT0 + 4, 0x54);
	assert_int_equal(gmem_page_remove(vm, SIMP_GPA(1) >> PAGE_SHIFT), 0);
	assert_int_equal(gmem_page_remove(vm, SIEFP_GPA(1) >> PAGE_SHIFT), 0);
	memset(hva(SIMP_GPA(1)), 0xee, 2 * PAGE_SIZE);          /* the host pages behind them */
	for (uint32_t type = 1; type <= 4; type++)
		assert_int_equal(post(HV_CONN_ID(1, 2), type, 8), HV_STATUS_SUCCESS);
	assert_int_equal(post(HV_CONN_ID(1, 2), 5, 8), HV_STATUS_INSUFFICIENT_BUFFERS);
	assert_int_equal(signal_fast(HV_CONN_ID(1, 4), 9), HV_STATUS_INVALID_SYNIC_STATE);
	wrmsr(vc[1], HV_X64_MSR_EOM, 0);                        /* still gone: nothing moves */
	assert_untouched(SIMP_GPA(1), 2 * PAGE_SIZE, 0xee);
	assert_int_equal(fake.ipis[1], 0);
	/* back (zeroed, gmem_page_restore): EOM brings the queued messages, in order */
	assert_int_equal(gmem_page_restore(vm, SIMP_GPA(1) >> PAGE_SHIFT), 0);
	assert_int_equal(gmem_page_restore(vm, SIEFP_GPA(1) >> PAGE_SHIFT), 0);
	wrmsr(vc[1], HV_X64_MSR_EOM, 0);
	for (uint32_t type = 1; type <= 4; type++) {
		assert_message(vc[1], 2, type, 8, type < 4 ? HV_MESSAGE_FLAG_PENDING : 0);
		assert_int_equal(fake.ipis[1], type);
		consume(vc[1], 2);
	}
	assert_int_equal(slot(vc[1], 2)->type, HVMSG_NONE);
	assert_int_equal(signal_fast(HV_CONN_ID(1, 4), 9), HV_STATUS_SUCCESS);
	assert_int_equal(*flags_at(1, 4, 1), 1u << 1);
	assert_int_equal(fake.ipis[1], 5);
}

/*
 * The output list on the SynIC message page: guest RAM, so it is written
 * (KVM keeps no overlay either); the hypervisor then reads whatever is in
 * the slot. Here the output lands on SINT 2's message header, so the slot
 * looks full and the next PostMessage waits for EOM.
 */
static void test_output_on_synic_page(void **state)
{
	synic_up(vc[0], 2, 0x42);
	const uint32_t names[1] = { HV_REGISTER_SVERSION };
	put_get_regs(names, 1);
	const uint64_t at = SIMP_GPA(0) + 2 * sizeof(struct hv_message);
	assert_int_equal(call64(HVCALL_GET_VP_REGISTERS | REP(1, 0), IN_GPA, at), HV_STATUS_SUCCESS | 1ull << 32);
	assert_int_equal(slot(vc[0], 2)->type, HV_SYNIC_VERSION_1);
	assert_int_equal(post(HV_CONN_ID(0, 2), 7, 8), HV_STATUS_SUCCESS);
	assert_int_equal(slot(vc[0], 2)->flags, HV_MESSAGE_FLAG_PENDING);
	assert_int_equal(fake.ipis[0], 0);
	consume(vc[0], 2);
	assert_message(vc[0], 2, 7, 8, 0);
	assert_int_equal(fake.ipis[0], 1);
}

/* ---- synthetic timers (TLFS "Synthetic Timers") ---- */

#define STIMER_CONFIG(n) (HV_X64_MSR_STIMER0_CONFIG + 2 * (n))
#define STIMER_COUNT(n) (STIMER_CONFIG(n) + 1)
#define SINTX(s) ((uint64_t)(s) << HV_STIMER_SINT_SHIFT)
#define TIMER_SINT 3

/* The host counter at reference time `ref` (100 ns units since the partition began). */
static uint64_t at_ref(uint64_t ref) { return C0 + ref * TICKS_PER_REF; }

static void stimer_set(struct vcpu *c, unsigned n, uint64_t config, uint64_t count)
{
	wrmsr(c, STIMER_COUNT(n), count);
	wrmsr(c, STIMER_CONFIG(n), config);
}

/* Polls vCPU 0's timers at reference time `ref`; returns when the next is due, in reference time. */
static uint64_t poll_at(uint64_t ref)
{
	fake.counter = at_ref(ref);
	uint64_t next = hc_vcpu_timers(vc[0], fake.counter);
	return next == UINT64_MAX ? UINT64_MAX : (next - C0) / TICKS_PER_REF;
}

static void assert_timer_message(unsigned n, uint64_t exp, uint64_t delivered)
{
	const struct hv_message *m = slot(vc[0], TIMER_SINT);
	struct hv_timer_message_payload p;
	memcpy(&p, m->payload, sizeof(p));
	if (m->type != HVMSG_TIMER_EXPIRED || m->payload_size != sizeof(p) || m->origin || p.timer_index != n ||
	    p.expiration_time != exp || p.delivery_time != delivered)
		fail_fmt("message type 0x%x size %u origin %llu timer %u expiration %llu delivery %llu; "
		         "want timer %u expiration %llu delivery %llu", m->type, m->payload_size,
		         (unsigned long long)m->origin, p.timer_index, (unsigned long long)p.expiration_time,
		         (unsigned long long)p.delivery_time, n, (unsigned long long)exp, (unsigned long long)delivered);
}

static void test_stimer_one_shot_message(void **state)
{
	synic_up(vc[0], TIMER_SINT, 0x53);
	stimer_set(vc[0], 2, HV_STIMER_ENABLE | SINTX(TIMER_SINT), 1000);
	assert_int_equal(poll_at(999), 1000);
	assert_int_equal(fake.ipis[0], 0);
	assert_int_equal(slot(vc[0], TIMER_SINT)->type, HVMSG_NONE);
	assert_int_equal(poll_at(1003), UINT64_MAX);
	assert_timer_message(2, 1000, 1003);
	assert_int_equal(fake.ipis[0], 1);
	assert_int_equal(fake.ipi_icr[0], 0x53);
	/* a one-shot timer disables itself when it fires */
	assert_int_equal(rdmsr(vc[0], STIMER_CONFIG(2)), SINTX(TIMER_SINT));
	assert_int_equal(rdmsr(vc[0], STIMER_COUNT(2)), 1000);
}

/* A one-shot time already past fires at once (TLFS). */
static void test_stimer_one_shot_in_the_past(void **state)
{
	synic_up(vc[0], TIMER_SINT, 0x53);
	fake.counter = at_ref(5000);
	stimer_set(vc[0], 0, HV_STIMER_ENABLE | SINTX(TIMER_SINT), 40);
	assert_int_equal(poll_at(5000), UINT64_MAX);
	assert_timer_message(0, 40, 5000);
	assert_int_equal(fake.ipis[0], 1);
}

/* A period past the end of time never comes: no wrap into the past, no storm of expiries. */
static void test_stimer_huge_period(void **state)
{
	synic_up(vc[0], TIMER_SINT, 0x53);
	fake.counter = at_ref(1000);
	stimer_set(vc[0], 2, HV_STIMER_ENABLE | HV_STIMER_PERIODIC | SINTX(TIMER_SINT), UINT64_MAX);
	assert_int_equal(hc_vcpu_timers(vc[0], at_ref(2000)), UINT64_MAX);
	assert_int_equal(fake.ipis[0], 0);
}

/* Periodic: the first expiry a period after enabling; a late poll gets one tick, the phase stays. */
static void test_stimer_periodic(void **state)
{
	synic_up(vc[0], TIMER_SINT, 0x53);
	fake.counter = at_ref(1000);
	stimer_set(vc[0], 1, HV_STIMER_ENABLE | HV_STIMER_PERIODIC | SINTX(TIMER_SINT), 2000);
	assert_int_equal(poll_at(2999), 3000);
	assert_int_equal(fake.ipis[0], 0);
	assert_int_equal(poll_at(3000), 5000);
	assert_timer_message(1, 3000, 3000);
	consume(vc[0], TIMER_SINT);
	/* 2.5 periods late: the tick due at 5000 comes now, 7000 and 9000 are dropped, the next is 11000 */
	assert_int_equal(poll_at(10000), 11000);
	assert_timer_message(1, 5000, 10000);
	assert_int_equal(fake.ipis[0], 2);
	consume(vc[0], TIMER_SINT);
	assert_int_equal(poll_at(11000), 13000);
	assert_timer_message(1, 11000, 11000);
	assert_int_equal(fake.ipis[0], 3);
	assert_true(rdmsr(vc[0], STIMER_CONFIG(1)) & HV_STIMER_ENABLE);
}

/*
 * A period below 200 us (TIMER_MIN_PERIOD_NS) runs at 200 us: a timer that
 * re-armed itself every 100 ns livelocked the host (the hostile guest,
 * docs/bad-input.md). The count reads back as written.
 */
static void test_stimer_period_floor(void **state)
{
	synic_up(vc[0], TIMER_SINT, 0x53);
	fake.counter = at_ref(1000);
	stimer_set(vc[0], 1, HV_STIMER_ENABLE | HV_STIMER_PERIODIC | SINTX(TIMER_SINT), 1);
	assert_int_equal(rdmsr(vc[0], STIMER_COUNT(1)), 1);
	assert_int_equal(poll_at(1001), 3000);
	assert_int_equal(fake.ipis[0], 0);
	assert_int_equal(poll_at(3000), 5000);
	assert_timer_message(1, 3000, 3000);
	consume(vc[0], TIMER_SINT);
	/* a poll long after: one tick, the phase kept, never a burst */
	assert_int_equal(poll_at(100000 + 7), 101000);
	assert_int_equal(fake.ipis[0], 2);
}

/* Direct mode (TLFS "Synthetic Timers", CPUID 0x40000003 EDX bit 19): the vector, no message. */
static void test_stimer_direct_mode(void **state)
{
	synic_up(vc[0], TIMER_SINT, 0x53);
	stimer_set(vc[0], 3, HV_STIMER_ENABLE | HV_STIMER_DIRECT_MODE | 0x61ull << HV_STIMER_VECTOR_SHIFT, 500);
	assert_int_equal(poll_at(500), UINT64_MAX);
	assert_int_equal(fake.ipis[0], 1);
	assert_int_equal(fake.ipi_icr[0], 0x61);
	assert_untouched(SIMP_GPA(0), PAGE_SIZE, 0);
	assert_false(rdmsr(vc[0], STIMER_CONFIG(3)) & HV_STIMER_ENABLE);
}

/* AutoEnable: a non-zero COUNT sets Enable; COUNT 0 stops the timer whatever the config says. */
static void test_stimer_auto_enable_and_count_zero(void **state)
{
	synic_up(vc[0], TIMER_SINT, 0x53);
	const uint64_t config = HV_STIMER_AUTO_ENABLE | HV_STIMER_PERIODIC | SINTX(TIMER_SINT);
	wrmsr(vc[0], STIMER_CONFIG(0), config);
	assert_int_equal(rdmsr(vc[0], STIMER_CONFIG(0)), config);
	assert_int_equal(poll_at(0), UINT64_MAX);
	wrmsr(vc[0], STIMER_COUNT(0), 2100);
	assert_int_equal(rdmsr(vc[0], STIMER_CONFIG(0)), config | HV_STIMER_ENABLE);
	assert_int_equal(poll_at(2100), 4200);
	assert_timer_message(0, 2100, 2100);
	wrmsr(vc[0], STIMER_COUNT(0), 0);
	assert_int_equal(rdmsr(vc[0], STIMER_CONFIG(0)), config);
	consume(vc[0], TIMER_SINT);
	assert_int_equal(poll_at(100000), UINT64_MAX);
	assert_int_equal(slot(vc[0], TIMER_SINT)->type, HVMSG_NONE);
	assert_int_equal(fake.ipis[0], 1);
}

static void test_stimer_config_checks(void **state)
{
	/* message mode needs a SINT other than 0: Enable is cleared at once (TLFS) */
	wrmsr(vc[0], STIMER_COUNT(1), 100);
	wrmsr(vc[0], STIMER_CONFIG(1), HV_STIMER_ENABLE);
	assert_int_equal(rdmsr(vc[0], STIMER_CONFIG(1)), 0);
	assert_int_equal(poll_at(100), UINT64_MAX);
	static const uint64_t reserved[] = { 1ull << 13, 1ull << 14, 1ull << 15, 1ull << 20, 1ull << 63 };
	for (size_t i = 0; i < ARRAY_SIZE(reserved); i++)
		assert_int_equal(hc_msr_write(vc[0], STIMER_CONFIG(1), HV_STIMER_ENABLE | SINTX(2) | reserved[i]), -EINVAL);
	assert_int_equal(rdmsr(vc[0], STIMER_CONFIG(1)), 0);
	assert_int_equal(fake.ipis[0], 0);
}

/* The slot is full: a one-shot message waits for EOM and keeps its expiration time. */
static void test_stimer_one_shot_held_until_eom(void **state)
{
	synic_up(vc[0], TIMER_SINT, 0x53);
	slot(vc[0], TIMER_SINT)->type = 0x99;                  /* an unread message */
	stimer_set(vc[0], 0, HV_STIMER_ENABLE | SINTX(TIMER_SINT), 300);
	poll_at(300);
	assert_int_equal(slot(vc[0], TIMER_SINT)->type, 0x99);
	assert_int_equal(slot(vc[0], TIMER_SINT)->flags, HV_MESSAGE_FLAG_PENDING);
	assert_int_equal(fake.ipis[0], 0);
	assert_int_equal(poll_at(350), UINT64_MAX);             /* not fired again */
	fake.counter = at_ref(400);
	consume(vc[0], TIMER_SINT);
	assert_timer_message(0, 300, 400);
	assert_int_equal(fake.ipis[0], 1);
	assert_false(rdmsr(vc[0], STIMER_CONFIG(0)) & HV_STIMER_ENABLE);
}

/* No message page yet: the message is written nowhere, and arrives when the page is turned on. */
static void test_stimer_message_waits_for_message_page(void **state)
{
	wrmsr(vc[0], HV_X64_MSR_SCONTROL, HV_SYNIC_CONTROL_ENABLE);
	wrmsr(vc[0], HV_X64_MSR_SINT0 + TIMER_SINT, 0x53);
	stimer_set(vc[0], 0, HV_STIMER_ENABLE | SINTX(TIMER_SINT), 100);
	assert_int_equal(poll_at(100), UINT64_MAX);
	assert_int_equal(fake.ipis[0], 0);
	assert_untouched(0, PAGE_SIZE, 0);                      /* the MSR's GPA field is 0 */
	fake.counter = at_ref(150);
	wrmsr(vc[0], HV_X64_MSR_SIMP, SIMP_GPA(0) | HV_SYNIC_SIMP_ENABLE);
	assert_timer_message(0, 100, 150);
	assert_int_equal(fake.ipis[0], 1);
}

/* The slot is full: a periodic tick is dropped (KVM stimer_expiration), the next one comes. */
static void test_stimer_periodic_tick_dropped(void **state)
{
	synic_up(vc[0], TIMER_SINT, 0x53);
	slot(vc[0], TIMER_SINT)->type = 0x99;
	stimer_set(vc[0], 0, HV_STIMER_ENABLE | HV_STIMER_PERIODIC | SINTX(TIMER_SINT), 2000);
	assert_int_equal(poll_at(2000), 4000);
	assert_int_equal(fake.ipis[0], 0);
	consume(vc[0], TIMER_SINT);
	assert_int_equal(slot(vc[0], TIMER_SINT)->type, HVMSG_NONE);   /* the dropped tick is not delivered */
	assert_int_equal(poll_at(4000), 6000);
	assert_timer_message(0, 4000, 4000);
	assert_int_equal(fake.ipis[0], 1);
}

/*
 * The message page left the VM: a one-shot timer's message cannot be
 * written, so it is held as for a full slot (KVM stimer_expiration keeps
 * msg_pending when synic_deliver_msg fails) and comes, with its expiration
 * time, once the page is back and the guest writes EOM.
 */
static void test_stimer_message_held_while_page_gone(void **state)
{
	synic_up(vc[0], TIMER_SINT, 0x53);
	assert_int_equal(gmem_page_remove(vm, SIMP_GPA(0) >> PAGE_SHIFT), 0);
	memset(hva(SIMP_GPA(0)), 0xee, PAGE_SIZE);
	stimer_set(vc[0], 0, HV_STIMER_ENABLE | SINTX(TIMER_SINT), 100);
	assert_int_equal(poll_at(100), UINT64_MAX);
	assert_int_equal(poll_at(200), UINT64_MAX);             /* not fired again */
	assert_int_equal(fake.ipis[0], 0);
	assert_untouched(SIMP_GPA(0), PAGE_SIZE, 0xee);
	assert_true(rdmsr(vc[0], STIMER_CONFIG(0)) & HV_STIMER_ENABLE);
	assert_int_equal(gmem_page_restore(vm, SIMP_GPA(0) >> PAGE_SHIFT), 0);
	fake.counter = at_ref(250);
	wrmsr(vc[0], HV_X64_MSR_EOM, 0);
	assert_timer_message(0, 100, 250);
	assert_int_equal(fake.ipis[0], 1);
	assert_false(rdmsr(vc[0], STIMER_CONFIG(0)) & HV_STIMER_ENABLE);
}

/*
 * A 3 GHz counter: 100 ns of reference time is 300 ticks, and host time
 * converts to reference time rounding down. A timer still fires once per
 * period, and not before the reference counter reaches its time (TLFS
 * "Synthetic Timers": a one-shot count is the reference time it expires at,
 * a periodic one fires once every count units).
 */
#define HZ3 3000000000ull

static void test_stimer_periodic_once_per_period_3ghz(void **state)
{
	time_init(HZ3, C0, 0);
	stimer_set(vc[0], 0, HV_STIMER_ENABLE | HV_STIMER_PERIODIC | HV_STIMER_DIRECT_MODE |
	                     0x61ull << HV_STIMER_VECTOR_SHIFT, 100);
	uint64_t due = hc_vcpu_timers(vc[0], C0);
	assert_int_equal(fake.ipis[0], 0);
	fake.counter = due;
	uint64_t next = hc_vcpu_timers(vc[0], due);
	assert_int_equal(fake.ipis[0], 1);
	if (next <= due)
		fail_fmt("fired at %llu, next due at %llu", (unsigned long long)due, (unsigned long long)next);
	hc_vcpu_timers(vc[0], due);
	assert_int_equal(fake.ipis[0], 1);
}

static void test_stimer_not_early_3ghz(void **state)
{
	time_init(HZ3, C0, 0);
	synic_up(vc[0], TIMER_SINT, 0x53);
	stimer_set(vc[0], 0, HV_STIMER_ENABLE | SINTX(TIMER_SINT), 100);
	uint64_t due = hc_vcpu_timers(vc[0], C0);
	fake.counter = due;
	hc_vcpu_timers(vc[0], due);
	struct hv_timer_message_payload p;
	memcpy(&p, slot(vc[0], TIMER_SINT)->payload, sizeof(p));
	assert_int_equal(p.expiration_time, 100);
	uint64_t now = rdmsr(vc[0], HV_X64_MSR_TIME_REF_COUNT);
	if (now < 100 || p.delivery_time < 100)
		fail_fmt("fired at reference time %llu (delivery time %llu), due at 100", (unsigned long long)now,
		         (unsigned long long)p.delivery_time);
}

/* ---- VP assist page (TLFS "Virtual Processor Assist Page") ---- */

static void test_vp_assist_page(void **state)
{
	memset(hva(ASSIST_GPA), 0xaa, PAGE_SIZE);
	wrmsr(vc[1], HV_X64_MSR_VP_ASSIST_PAGE, ASSIST_GPA | HV_X64_MSR_VP_ASSIST_PAGE_ENABLE);
	assert_int_equal(rdmsr(vc[1], HV_X64_MSR_VP_ASSIST_PAGE), ASSIST_GPA | 1);
	/* only apic_assist is cleared (KVM: the rest may hold state the guest keeps) */
	assert_untouched(ASSIST_GPA, 4, 0);
	assert_untouched(ASSIST_GPA + 4, PAGE_SIZE - 4, 0xaa);
	/* apic_assist bit 0 is "no EOI required": the PV EOI flag lives there */
	assert_int_equal(fake.pv_eoi_gpa[1], ASSIST_GPA);
	assert_true(fake.pv_eoi_on[1]);
	assert_false(fake.pv_eoi_on[0]);
	static const uint64_t bad[] = { RAM | 1, 0xfffffffffffff001ull };
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		assert_int_equal(hc_msr_write(vc[1], HV_X64_MSR_VP_ASSIST_PAGE, bad[i]), -EINVAL);
	assert_int_equal(rdmsr(vc[1], HV_X64_MSR_VP_ASSIST_PAGE), ASSIST_GPA | 1);
	assert_true(fake.pv_eoi_on[1]);
	wrmsr(vc[1], HV_X64_MSR_VP_ASSIST_PAGE, ASSIST_GPA);
	assert_false(fake.pv_eoi_on[1]);
	assert_int_equal(rdmsr(vc[1], HV_X64_MSR_VP_ASSIST_PAGE), ASSIST_GPA);
}

/*
 * SIMP, SIEFP and the VP assist page in read-only memory: the page cannot
 * be cleared, so #GP and the MSR keeps its value (KVM: kvm_clear_guest, or
 * the assist page's __put_user, fails on a read-only memslot; the write
 * returns 1). The ROM is not written, PV EOI stays as it was.
 */
static void test_page_msrs_in_rom(void **state)
{
	fake_vm_add_slot(vm, ROM_GPA, PAGE_SIZE, SLOT_READONLY, 0x5a);
	static const struct { uint32_t msr; uint64_t before; } msrs[] = {
		{ HV_X64_MSR_SIMP, SIMP_GPA(0) | 1 },
		{ HV_X64_MSR_SIEFP, SIEFP_GPA(0) | 1 },
		{ HV_X64_MSR_VP_ASSIST_PAGE, ASSIST_GPA | 1 },
	};
	for (size_t i = 0; i < ARRAY_SIZE(msrs); i++) {
		wrmsr(vc[0], msrs[i].msr, msrs[i].before);
		if (hc_msr_write(vc[0], msrs[i].msr, ROM_GPA | 1) != -EINVAL)
			fail_fmt("MSR 0x%x <- ROM accepted", msrs[i].msr);
		assert_int_equal(rdmsr(vc[0], msrs[i].msr), msrs[i].before);
	}
	assert_untouched(ROM_GPA, PAGE_SIZE, 0x5a);
	assert_int_equal(fake.pv_eoi_gpa[0], ASSIST_GPA);
	assert_true(fake.pv_eoi_on[0]);
}

/* ---- HV_X64_MSR_RESET (TLFS appendix "Hypervisor Synthetic MSRs"; KVM: exactly 1 resets) ---- */

static void test_reset_msr(void **state)
{
	assert_int_equal(rdmsr(vc[0], HV_X64_MSR_RESET), 0);
	wrmsr(vc[0], HV_X64_MSR_RESET, 2);
	wrmsr(vc[0], HV_X64_MSR_RESET, 3);
	assert_false(vm_ended(vm));
	wrmsr(vc[0], HV_X64_MSR_RESET, 1);
	assert_true(vm_ended(vm));
	assert_int_equal(vm->end, VM_END_RESET);
}

/* ---- INIT: SynIC and timers back to their reset values (TLFS: SINTs masked) ---- */

static void test_init_resets_synic_and_timers(void **state)
{
	synic_up(vc[0], TIMER_SINT, 0x53);
	stimer_set(vc[0], 0, HV_STIMER_ENABLE | SINTX(TIMER_SINT), 100);
	hc_vcpu_init(vc[0]);
	for (unsigned i = 0; i < HV_SYNIC_SINT_COUNT; i++)
		assert_int_equal(rdmsr(vc[0], HV_X64_MSR_SINT0 + i), HV_SYNIC_SINT_MASKED);
	assert_int_equal(rdmsr(vc[0], HV_X64_MSR_SCONTROL), 0);
	assert_int_equal(rdmsr(vc[0], STIMER_CONFIG(0)), 0);
	assert_int_equal(poll_at(1000), UINT64_MAX);
	assert_int_equal(fake.ipis[0], 0);
	assert_int_equal(slot(vc[0], TIMER_SINT)->type, HVMSG_NONE);
	assert_int_equal(post(HV_CONN_ID(0, TIMER_SINT), 1, 8), HV_STATUS_INVALID_SYNIC_STATE);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_xmm_flush_ex),
		T(test_xmm_flush_list_elements),
		T(test_xmm_send_ipi_ex),
		T(test_xmm_input_refused),
		T(test_fast_16_bytes_reads_no_xmm),
		T(test_xmm_get_registers),
		T(test_xmm_get_five_registers_refused),
		T(test_xmm_get_registers_not_split),
		T(test_xmm_32bit),
		T(test_xmm_set_register),
		T(test_output_page_rules),
		T(test_ext_query_capabilities),
		T(test_unused_gpa_ignored),
		T(test_output_in_rom),
		T(test_private_buffers),
		T(test_get_256_registers_continued),
		T(test_rep_time_backstop_progress),
		T(test_rep_continuation_32bit),
		T(test_rep_start_from_guest),
		T(test_rep_continuation_interleaved),
		T(test_vp_registers_target),
		T(test_get_unknown_name_stops),
		T(test_set_registers),
		T(test_get_discovery_and_x64_registers),
		T(test_vtl_call_and_return_ud),
		T(test_sint_msrs),
		T(test_sint_auto_eoi_vectors),
		T(test_sversion_and_scontrol),
		T(test_synic_page_msrs),
		T(test_post_message_delivered),
		T(test_post_message_busy_slot),
		T(test_post_message_queue_full),
		T(test_post_message_errors),
		T(test_signal_event),
		T(test_signal_event_errors),
		T(test_synic_page_msrs_reserved_bits),
		T(test_synic_pages_leave_the_vm),
		T(test_output_on_synic_page),
		T(test_stimer_one_shot_message),
		T(test_stimer_one_shot_in_the_past),
		T(test_stimer_periodic), T(test_stimer_period_floor),
		T(test_stimer_huge_period),
		T(test_stimer_direct_mode),
		T(test_stimer_auto_enable_and_count_zero),
		T(test_stimer_config_checks),
		T(test_stimer_one_shot_held_until_eom),
		T(test_stimer_message_waits_for_message_page),
		T(test_stimer_periodic_tick_dropped),
		T(test_stimer_message_held_while_page_gone),
		T(test_stimer_periodic_once_per_period_3ghz),
		T(test_stimer_not_early_3ghz),
		T(test_vp_assist_page),
		T(test_page_msrs_in_rom),
		T(test_reset_msr),
		T(test_init_resets_synic_and_timers),
	};
#undef T
	return cmocka_run_group_tests_name("hyperv_synic", tests, NULL, NULL);
}
