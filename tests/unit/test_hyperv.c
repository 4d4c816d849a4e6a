/*
 * hypercalls/hyperv/ through the real dispatcher: the TLFS input value and
 * both calling conventions, #UD from CPL > 0 and real mode, status codes,
 * discovery leaves and the synthetic MSRs (hypercall page included).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "core/exit.h"
#include "core/time.h"
#include "core/vm.h"
#include "hypercalls/hypercall.h"
#include "hypercalls/hyperv/hv_abi.h"
#include "hypercalls/hyperv/hyperv.h"
#include "tests/fake_arch/fake_arch.h"
#include "tests/fake_arch/fake_test.h"

#define HZ 2000000000ull
#define C0 1000000000ull
#define RAM MiB(1)
#define RIP0 0x1000ull

static struct vm *vm;
static struct vcpu *v, *v2, *v3;

static int setup(void **state)
{
	fake_arch_reset();
	fake.counter = C0;
	time_init(HZ, C0, 0);
	vm = fake_vm_new();
	fake_vm_add_slot(vm, 0, RAM, 0, 0);
	vm->mem_size = RAM;
	hc_vm_set_abis(vm, (const struct hc_abi *const[]){ &hyperv_abi }, 1);
	vm->clock_base = C0;
	v = fake_vcpu_new(vm);
	v2 = fake_vcpu_new(vm);
	v3 = fake_vcpu_new(vm);
	v->state = v2->state = v3->state = VCPU_RUNNABLE;
	for (unsigned i = 0; i < X86_NR_GPRS; i++)
		v->regs.gpr[i] = 0x1111111111111111ull * (i + 1) ^ 0x8000000000000000ull;
	v->regs.rip = RIP0;
	return 0;
}

static int teardown(void **state)
{
	fake_cleanup();
	return 0;
}

static void call(enum cpu_mode mode, uint8_t cpl)
{
	struct vm_exit e = {
		.reason = VMEXIT_HYPERCALL, .insn_len = 3, .cpl = cpl, .mode = mode, .hc.insn = HC_INSN_VMMCALL,
	};
	hc_dispatch(v, &e);
}

/* 64-bit: input value in RCX, GPAs in RDX and R8, result in RAX. */
static uint64_t call64(uint64_t input, uint64_t in_gpa, uint64_t out_gpa)
{
	v->regs.gpr[X86_RCX] = input;
	v->regs.gpr[X86_RDX] = in_gpa;
	v->regs.gpr[X86_R8] = out_gpa;
	call(MODE_64, 0);
	return v->regs.gpr[X86_RAX];
}

/* ---- the input value, decoded once ---- */

static void test_decode_fields(void **state)
{
	struct hv_input in;
	/* code 0x1234, fast, varhead 0x155, nested, rep count 0xabc, rep start 0x123 */
	uint64_t input = 0x1234 | (1ull << 16) | (0x155ull << 17) | (1ull << 31) | (0xabcull << 32) | (0x123ull << 48);
	assert_int_equal(hv_decode_input(input, &in), HV_STATUS_SUCCESS);
	assert_int_equal(in.code, 0x1234);
	assert_true(in.fast);
	assert_int_equal(in.varhead, 0x155);
	assert_true(in.nested);
	assert_int_equal(in.rep_count, 0xabc);
	assert_int_equal(in.rep_start, 0x123);
	assert_int_equal(hv_decode_input(0x8001, &in), HV_STATUS_SUCCESS);
	assert_int_equal(in.code, 0x8001);
	assert_false(in.fast || in.nested || in.varhead || in.rep_count || in.rep_start);
}

/* Bits 30:27, 47:44 and 63:60 are reserved: each one alone is invalid input. */
static void test_decode_every_reserved_bit(void **state)
{
	struct hv_input in;
	for (unsigned b = 0; b < 64; b++) {
		bool reserved = (b >= 27 && b <= 30) || (b >= 44 && b <= 47) || b >= 60;
		int st = hv_decode_input(HVCALL_NOTIFY_LONG_SPIN_WAIT | (1ull << b), &in);
		if (st != (reserved ? HV_STATUS_INVALID_HYPERCALL_INPUT : HV_STATUS_SUCCESS))
			fail_fmt("bit %u: status %d", b, st);
	}
}

/* ---- conventions ---- */

static void test_unknown_code(void **state)
{
	static const uint64_t codes[] = { 0, 1, 0x0007, 0x0009, 0x00ff, 0x7fff, 0x8002, 0xffff };
	for (size_t i = 0; i < ARRAY_SIZE(codes); i++) {
		uint64_t r = call64(codes[i], 0, 0);
		if (r != HV_STATUS_INVALID_HYPERCALL_CODE)
			fail_fmt("code 0x%llx: result 0x%llx", (unsigned long long)codes[i], (unsigned long long)r);
	}
	assert_int_equal(v->regs.rip, RIP0 + 3 * ARRAY_SIZE(codes));
}

static void test_reserved_bits_before_code(void **state)
{
	/* an unknown code with a reserved bit: the input is checked first (KVM hyperv.c) */
	assert_int_equal(call64(0x7fff | (1ull << 27), 0, 0), HV_STATUS_INVALID_HYPERCALL_INPUT);
	assert_int_equal(call64(HVCALL_NOTIFY_LONG_SPIN_WAIT | (1ull << 63), 0, 0), HV_STATUS_INVALID_HYPERCALL_INPUT);
}

/* 32-bit: EDX:EAX input value, EBX:ECX / EDI:ESI GPAs, result EDX:EAX. */
static void test_convention_32bit(void **state)
{
	v->regs.gpr[X86_RDX] = 0xffffffff00000000ull;            /* upper halves are not part of it */
	v->regs.gpr[X86_RAX] = 0xdeadbeef00000000ull | 0x7777;
	call(MODE_PROT32, 0);
	assert_int_equal(v->regs.gpr[X86_RAX], HV_STATUS_INVALID_HYPERCALL_CODE);
	assert_int_equal(v->regs.gpr[X86_RDX], 0);
	/* a reserved bit in the high half (bit 60 = EDX bit 28) reaches the decoder */
	v->regs.gpr[X86_RDX] = 1u << 28;
	v->regs.gpr[X86_RAX] = HVCALL_NOTIFY_LONG_SPIN_WAIT;
	call(MODE_PROT32, 0);
	assert_int_equal(v->regs.gpr[X86_RAX], HV_STATUS_INVALID_HYPERCALL_INPUT);
	assert_int_equal(v->regs.rip, RIP0 + 6);
}

static void test_cpl3_and_real_mode_ud(void **state)
{
	uint64_t rax = v->regs.gpr[X86_RAX];
	v->regs.gpr[X86_RCX] = HVCALL_NOTIFY_LONG_SPIN_WAIT;
	call(MODE_64, 3);
	call(MODE_PROT32, 1);
	call(MODE_REAL, 0);
	assert_int_equal(fake.inject_undef, 3);
	assert_int_equal(v->regs.rip, RIP0);                     /* the #UD is at the instruction */
	assert_int_equal(v->regs.gpr[X86_RAX], rax);             /* no result written */
	assert_null(vm->yield_to);
}

/* ---- calls ---- */

static void test_notify_long_spin_wait_yields(void **state)
{
	assert_int_equal(call64(HVCALL_NOTIFY_LONG_SPIN_WAIT, 0, 0), HV_STATUS_SUCCESS);
	assert_ptr_equal(vm->yield_to, v2);
	vm->yield_to = NULL;
	v2->state = v3->state = VCPU_HALTED;                     /* nobody to give the CPU to */
	assert_int_equal(call64(HVCALL_NOTIFY_LONG_SPIN_WAIT | HV_INPUT_FAST, 0, 0), HV_STATUS_SUCCESS);
	assert_null(vm->yield_to);
}

/* ---- calls on other VPs: input in a page ---- */

#define IN_GPA 0x3000ull

static void put_input(uint64_t gpa, const uint64_t *q, unsigned n)
{
	memcpy(fake_vm_hva(vm, gpa), q, n * 8);
}

static uint64_t rep(unsigned count, unsigned start)
{
	return (uint64_t)count << 32 | (uint64_t)start << 48;
}

static uint64_t varhead(unsigned n) { return (uint64_t)n << 17; }

static void test_flush_space_mask_and_all(void **state)
{
	const uint64_t q[] = { 0x1000, 0, 0x5 };                 /* address space, flags, VPs 0 and 2 */
	put_input(IN_GPA, q, 3);
	assert_int_equal(call64(HVCALL_FLUSH_VIRTUAL_ADDRESS_SPACE, IN_GPA, 0), HV_STATUS_SUCCESS);
	assert_int_equal(fake.tlb_flushes[0], 1);
	assert_int_equal(fake.tlb_flushes[1], 0);
	assert_int_equal(fake.tlb_flushes[2], 1);
	const uint64_t all[] = { 0, HV_FLUSH_ALL_PROCESSORS | HV_FLUSH_ALL_VIRTUAL_ADDRESS_SPACES, 0 };
	put_input(IN_GPA, all, 3);
	assert_int_equal(call64(HVCALL_FLUSH_VIRTUAL_ADDRESS_SPACE, IN_GPA, 0), HV_STATUS_SUCCESS);
	assert_int_equal(fake.tlb_flushes[0] + fake.tlb_flushes[1] + fake.tlb_flushes[2], 5);
	/* VPs that do not exist are ignored */
	const uint64_t far[] = { 0, 0, 1ull << 40 };
	put_input(IN_GPA, far, 3);
	assert_int_equal(call64(HVCALL_FLUSH_VIRTUAL_ADDRESS_SPACE, IN_GPA, 0), HV_STATUS_SUCCESS);
	assert_int_equal(fake.tlb_flushes[0] + fake.tlb_flushes[1] + fake.tlb_flushes[2], 5);
}

static void test_flush_bad_input(void **state)
{
	const uint64_t badflags[] = { 0, 1ull << 4, 1 };
	put_input(IN_GPA, badflags, 3);
	assert_int_equal(call64(HVCALL_FLUSH_VIRTUAL_ADDRESS_SPACE, IN_GPA, 0), HV_STATUS_INVALID_PARAMETER);
	assert_int_equal(call64(HVCALL_FLUSH_VIRTUAL_ADDRESS_SPACE, IN_GPA + 4, 0), HV_STATUS_INVALID_ALIGNMENT);
	/* the header crosses into the next page; it lies outside RAM (TLFS: both INVALID_ALIGNMENT) */
	assert_int_equal(call64(HVCALL_FLUSH_VIRTUAL_ADDRESS_SPACE, IN_GPA + PAGE_SIZE - 16, 0),
	                 HV_STATUS_INVALID_ALIGNMENT);
	assert_int_equal(call64(HVCALL_FLUSH_VIRTUAL_ADDRESS_SPACE, RAM, 0), HV_STATUS_INVALID_ALIGNMENT);
	/* a space flush is not a rep call; a list flush is, and needs a count above its start */
	assert_int_equal(call64(HVCALL_FLUSH_VIRTUAL_ADDRESS_SPACE | rep(1, 0), IN_GPA, 0),
	                 HV_STATUS_INVALID_HYPERCALL_INPUT);
	assert_int_equal(call64(HVCALL_FLUSH_VIRTUAL_ADDRESS_LIST, IN_GPA, 0), HV_STATUS_INVALID_HYPERCALL_INPUT);
	assert_int_equal(call64(HVCALL_FLUSH_VIRTUAL_ADDRESS_LIST | rep(2, 2), IN_GPA, 0),
	                 HV_STATUS_INVALID_HYPERCALL_INPUT);
	/* the rep list must stay in the page */
	assert_int_equal(call64(HVCALL_FLUSH_VIRTUAL_ADDRESS_LIST | rep(510, 0), IN_GPA + 8, 0),
	                 HV_STATUS_INVALID_ALIGNMENT);
	for (unsigned i = 0; i < 3; i++)
		assert_int_equal(fake.tlb_flushes[i], 0);
}

static void test_flush_ex_vp_sets(void **state)
{
	/* sparse: bank 0 only, VP 1 */
	const uint64_t sparse[] = { 0, 0, HV_GENERIC_SET_SPARSE_4K, 1, 1ull << 1 };
	put_input(IN_GPA, sparse, 5);
	assert_int_equal(call64(HVCALL_FLUSH_VIRTUAL_ADDRESS_SPACE_EX | varhead(1), IN_GPA, 0), HV_STATUS_SUCCESS);
	assert_int_equal(fake.tlb_flushes[1], 1);
	assert_int_equal(fake.tlb_flushes[0] + fake.tlb_flushes[2], 0);
	/* the variable header must count the banks (KVM: var_cnt == hweight64(valid_bank_mask)) */
	assert_int_equal(call64(HVCALL_FLUSH_VIRTUAL_ADDRESS_SPACE_EX | varhead(2), IN_GPA, 0),
	                 HV_STATUS_INVALID_HYPERCALL_INPUT);
	assert_int_equal(call64(HVCALL_FLUSH_VIRTUAL_ADDRESS_SPACE_EX, IN_GPA, 0), HV_STATUS_INVALID_HYPERCALL_INPUT);
	/* banks beyond the VM's VPs name nobody */
	const uint64_t high[] = { 0, 0, HV_GENERIC_SET_SPARSE_4K, 2, ~0ull };
	put_input(IN_GPA, high, 5);
	assert_int_equal(call64(HVCALL_FLUSH_VIRTUAL_ADDRESS_SPACE_EX | varhead(1), IN_GPA, 0), HV_STATUS_SUCCESS);
	assert_int_equal(fake.tlb_flushes[0] + fake.tlb_flushes[1] + fake.tlb_flushes[2], 1);
	/* format "all" */
	const uint64_t all[] = { 0, 0, HV_GENERIC_SET_ALL, 0 };
	put_input(IN_GPA, all, 4);
	assert_int_equal(call64(HVCALL_FLUSH_VIRTUAL_ADDRESS_SPACE_EX, IN_GPA, 0), HV_STATUS_SUCCESS);
	assert_int_equal(fake.tlb_flushes[0] + fake.tlb_flushes[1] + fake.tlb_flushes[2], 4);
	/* an unknown format */
	const uint64_t bad[] = { 0, 0, 7, 0 };
	put_input(IN_GPA, bad, 4);
	assert_int_equal(call64(HVCALL_FLUSH_VIRTUAL_ADDRESS_SPACE_EX, IN_GPA, 0), HV_STATUS_INVALID_HYPERCALL_INPUT);
}

/* A list flush reports its reps completed (43:32), counted from 0 (TLFS "Hypercall Outputs"). */
static void test_flush_list_reps_completed(void **state)
{
	const uint64_t q[] = { 0, 0, 0x2, 0x1000, 0x2000, 0x3000, 0x4000 };
	put_input(IN_GPA, q, 7);
	uint64_t r = call64(HVCALL_FLUSH_VIRTUAL_ADDRESS_LIST | rep(4, 1), IN_GPA, 0);
	assert_int_equal(r, HV_STATUS_SUCCESS | 4ull << 32);
	assert_int_equal(fake.tlb_flushes[1], 1);
	assert_int_equal(v->regs.rip, RIP0 + 3);
}

/*
 * The budget runs out after one element: RIP stays, RCX carries the rep
 * start index of the next element, RAX is untouched; executing the call
 * again finishes it.
 */
static void test_rep_continuation(void **state)
{
	const uint64_t q[] = { 0, 0, 0x1, 0x1000, 0x2000, 0x3000 };
	put_input(IN_GPA, q, 6);
	uint64_t rax = v->regs.gpr[X86_RAX];
	fake.counter_step = HZ;                                   /* each clock reading: a second later */
	uint64_t input = HVCALL_FLUSH_VIRTUAL_ADDRESS_LIST | rep(3, 0);
	call64(input, IN_GPA, 0);
	assert_int_equal(v->regs.rip, RIP0);
	assert_int_equal(v->regs.gpr[X86_RAX], rax);
	assert_int_equal(v->regs.gpr[X86_RCX], (input & ~(0xfffull << 48)) | (1ull << 48));
	/* the guest executes the same instruction again, with the registers as they are */
	call(MODE_64, 0);
	assert_int_equal(v->regs.gpr[X86_RCX], (input & ~(0xfffull << 48)) | (2ull << 48));
	call(MODE_64, 0);
	assert_int_equal(v->regs.gpr[X86_RAX], HV_STATUS_SUCCESS | 3ull << 32);
	assert_int_equal(v->regs.rip, RIP0 + 3);
	fake.counter_step = 0;
}

/* 32-bit: the continued input value goes back to EDX:EAX. */
static void test_rep_continuation_32bit(void **state)
{
	const uint64_t q[] = { 0, 0, 0x1, 0x1000, 0x2000 };
	put_input(IN_GPA, q, 5);
	fake.counter_step = HZ;
	uint64_t input = HVCALL_FLUSH_VIRTUAL_ADDRESS_LIST | rep(2, 0);
	v->regs.gpr[X86_RAX] = (uint32_t)input;
	v->regs.gpr[X86_RDX] = input >> 32;
	v->regs.gpr[X86_RBX] = 0;
	v->regs.gpr[X86_RCX] = IN_GPA;
	call(MODE_PROT32, 0);
	assert_int_equal(v->regs.rip, RIP0);
	assert_int_equal(v->regs.gpr[X86_RDX], (input >> 32) | (1u << 16));
	call(MODE_PROT32, 0);
	assert_int_equal(v->regs.gpr[X86_RAX], HV_STATUS_SUCCESS);
	assert_int_equal(v->regs.gpr[X86_RDX], 2);                /* reps completed, bits 43:32 */
	assert_int_equal(v->regs.rip, RIP0 + 3);
	fake.counter_step = 0;
}

static void test_send_ipi(void **state)
{
	/* fast: vector in RDX, mask in R8 */
	assert_int_equal(call64(HVCALL_SEND_IPI | HV_INPUT_FAST, 0x41, 0x6), HV_STATUS_SUCCESS);
	assert_int_equal(fake.ipis[0], 0);
	assert_int_equal(fake.ipis[1], 1);
	assert_int_equal(fake.ipis[2], 1);
	assert_int_equal(fake.ipi_icr[1], 0x41);                  /* fixed, edge */
	/* slow, the same layout in the page */
	const uint64_t q[] = { 0x42, 0x1 };
	put_input(IN_GPA, q, 2);
	assert_int_equal(call64(HVCALL_SEND_IPI, IN_GPA, 0), HV_STATUS_SUCCESS);
	assert_int_equal(fake.ipis[0], 1);
	/* vectors below 0x10, a target VTL, reserved bits: invalid input, nothing sent */
	assert_int_equal(call64(HVCALL_SEND_IPI | HV_INPUT_FAST, 0x0f, 0x7), HV_STATUS_INVALID_HYPERCALL_INPUT);
	assert_int_equal(call64(HVCALL_SEND_IPI | HV_INPUT_FAST, 0x41 | 1ull << 32, 0x7), HV_STATUS_INVALID_HYPERCALL_INPUT);
	assert_int_equal(call64(HVCALL_SEND_IPI | HV_INPUT_FAST, 0x100, 0x7), HV_STATUS_INVALID_HYPERCALL_INPUT);
	assert_int_equal(fake.ipis[0] + fake.ipis[1] + fake.ipis[2], 3);
}

static void test_send_ipi_ex(void **state)
{
	const uint64_t q[] = { 0x51, HV_GENERIC_SET_SPARSE_4K, 1, 0x5 };
	put_input(IN_GPA, q, 4);
	assert_int_equal(call64(HVCALL_SEND_IPI_EX | varhead(1), IN_GPA, 0), HV_STATUS_SUCCESS);
	assert_int_equal(fake.ipis[0], 1);
	assert_int_equal(fake.ipis[1], 0);
	assert_int_equal(fake.ipis[2], 1);
	const uint64_t all[] = { 0x52, HV_GENERIC_SET_ALL, 0 };
	put_input(IN_GPA, all, 3);
	assert_int_equal(call64(HVCALL_SEND_IPI_EX, IN_GPA, 0), HV_STATUS_SUCCESS);
	assert_int_equal(fake.ipis[0] + fake.ipis[1] + fake.ipis[2], 5);
	/* "all" counts its banks too: a header that does not match the mask is refused (KVM), nothing sent */
	const uint64_t all_banks[] = { 0x52, HV_GENERIC_SET_ALL, 1, 0x7 };
	put_input(IN_GPA, all_banks, 4);
	assert_int_equal(call64(HVCALL_SEND_IPI_EX, IN_GPA, 0), HV_STATUS_INVALID_HYPERCALL_INPUT);
	assert_int_equal(call64(HVCALL_SEND_IPI_EX | varhead(2), IN_GPA, 0), HV_STATUS_INVALID_HYPERCALL_INPUT);
	assert_int_equal(fake.ipis[0] + fake.ipis[1] + fake.ipis[2], 5);
	assert_int_equal(call64(HVCALL_SEND_IPI_EX | varhead(1), IN_GPA, 0), HV_STATUS_SUCCESS);
	assert_int_equal(fake.ipis[0] + fake.ipis[1] + fake.ipis[2], 8);
	/* a format that is neither */
	const uint64_t other[] = { 0x52, 2, 0 };
	put_input(IN_GPA, other, 3);
	assert_int_equal(call64(HVCALL_SEND_IPI_EX, IN_GPA, 0), HV_STATUS_INVALID_HYPERCALL_INPUT);
}

static void test_notify_long_spin_wait_rejects_rep_and_varhead(void **state)
{
	static const uint64_t bad[] = { 1ull << 32, 1ull << 48, 1ull << 17 };
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		assert_int_equal(call64(HVCALL_NOTIFY_LONG_SPIN_WAIT | bad[i], 0, 0), HV_STATUS_INVALID_HYPERCALL_INPUT);
	assert_null(vm->yield_to);
}

/*
 * 16-bit protected mode at CPL 0 is protected mode: the call is served, with
 * the 32-bit convention (TLFS "Hypercall Interface": real mode and CPL > 0
 * #UD; KVM kvm_hv_hypercall: #UD only for CPL != 0 or !is_protmode, EDX:EAX
 * whenever the caller is not in 64-bit mode).
 */
static void test_convention_16bit_protected(void **state)
{
	v->regs.gpr[X86_RDX] = 0xffffffff00000000ull;            /* upper halves are not part of it */
	v->regs.gpr[X86_RAX] = 0xdeadbeef00000000ull | 0x7777;
	call(MODE_PROT16, 0);
	assert_int_equal(fake.inject_undef, 0);
	assert_int_equal(v->regs.gpr[X86_RAX], HV_STATUS_INVALID_HYPERCALL_CODE);
	assert_int_equal(v->regs.gpr[X86_RDX], 0);
	assert_int_equal(v->regs.rip, RIP0 + 3);
	/* a slow flush of VP 1: input value in EDX:EAX, input GPA in EBX:ECX */
	const uint64_t q[] = { 0, 0, 0x2 };
	put_input(IN_GPA, q, 3);
	v->regs.gpr[X86_RDX] = 0xffffffff00000000ull;
	v->regs.gpr[X86_RAX] = 0xffffffff00000000ull | HVCALL_FLUSH_VIRTUAL_ADDRESS_SPACE;
	v->regs.gpr[X86_RBX] = 0xffffffff00000000ull;
	v->regs.gpr[X86_RCX] = 0xffffffff00000000ull | IN_GPA;
	call(MODE_PROT16, 0);
	assert_int_equal(fake.inject_undef, 0);
	assert_int_equal(v->regs.gpr[X86_RAX], HV_STATUS_SUCCESS);
	assert_int_equal(v->regs.gpr[X86_RDX], 0);
	assert_int_equal(fake.tlb_flushes[1], 1);
	assert_int_equal(fake.tlb_flushes[0] + fake.tlb_flushes[2], 0);
	assert_int_equal(v->regs.rip, RIP0 + 6);
}

/*
 * Bit 31, IsNested (TLFS "Hypercall Inputs"), asks for the L0 hypervisor,
 * which this is: the call is served as without it, and a continued call
 * keeps the bit. (KVM differs: its HV_HYPERCALL_RSVD0_MASK is 31:27, so
 * kvm_hv_hypercall answers INVALID_HYPERCALL_INPUT.)
 */
static void test_nested_bit_served(void **state)
{
	assert_int_equal(call64(HVCALL_NOTIFY_LONG_SPIN_WAIT | HV_INPUT_NESTED, 0, 0), HV_STATUS_SUCCESS);
	assert_ptr_equal(vm->yield_to, v2);
	const uint64_t q[] = { 0, 0, 0x4, 0x1000, 0x2000 };
	put_input(IN_GPA, q, 5);
	assert_int_equal(call64(HVCALL_FLUSH_VIRTUAL_ADDRESS_SPACE | HV_INPUT_NESTED, IN_GPA, 0), HV_STATUS_SUCCESS);
	assert_int_equal(fake.tlb_flushes[2], 1);
	fake.counter_step = HZ;                                   /* one element per entry */
	uint64_t input = HVCALL_FLUSH_VIRTUAL_ADDRESS_LIST | HV_INPUT_NESTED | rep(2, 0);
	call64(input, IN_GPA, 0);
	assert_int_equal(v->regs.rip, RIP0 + 6);
	assert_int_equal(v->regs.gpr[X86_RCX], input | 1ull << 48);
	call(MODE_64, 0);
	fake.counter_step = 0;
	assert_int_equal(v->regs.gpr[X86_RAX], HV_STATUS_SUCCESS | 2ull << 32);
	assert_true(fake.tlb_flushes[2] >= 2);
	assert_int_equal(fake.tlb_flushes[0] + fake.tlb_flushes[1], 0);
}

/*
 * A list running past 2^64 (TLFS "Hypercall Status Codes": a list outside
 * the GPA space is INVALID_ALIGNMENT): one that crosses a page on the way is
 * refused by the page rule, one that ends exactly at 2^64 by the gate's
 * wrap check. Nothing is done, and nothing lands at GPA 0.
 */
static void test_lists_wrapping_past_2_64(void **state)
{
	memset(fake_vm_hva(vm, 0), 0xee, PAGE_SIZE);
	assert_int_equal(call64(HVCALL_FLUSH_VIRTUAL_ADDRESS_SPACE, 0xfffffffffffffff8ull, 0),
	                 HV_STATUS_INVALID_ALIGNMENT);
	assert_int_equal(call64(HVCALL_FLUSH_VIRTUAL_ADDRESS_LIST | rep(2, 0), 0xffffffffffffffe0ull, 0),
	                 HV_STATUS_INVALID_ALIGNMENT);
	/* SignalEvent's 8 bytes, ending exactly at 2^64 */
	assert_int_equal(call64(HVCALL_SIGNAL_EVENT, 0xfffffffffffffff8ull, 0), HV_STATUS_INVALID_ALIGNMENT);
	/* output lists: ExtQueryCapabilities' 8 bytes up to 2^64; two register values across it */
	assert_int_equal(call64(HVCALL_EXT_QUERY_CAPABILITIES, 0, 0xfffffffffffffff8ull), HV_STATUS_INVALID_ALIGNMENT);
	const uint64_t get[3] = { HV_PARTITION_ID_SELF, HV_VP_INDEX_SELF,
	                          HV_REGISTER_VP_INDEX | (uint64_t)HV_REGISTER_VP_INDEX << 32 };
	put_input(IN_GPA, get, 3);
	assert_int_equal(call64(HVCALL_GET_VP_REGISTERS | rep(2, 0), IN_GPA, 0xfffffffffffffff0ull),
	                 HV_STATUS_INVALID_ALIGNMENT);
	for (unsigned i = 0; i < 3; i++)
		assert_int_equal(fake.tlb_flushes[i], 0);
	const uint8_t *p = fake_vm_hva(vm, 0);
	for (unsigned i = 0; i < PAGE_SIZE; i++)
		if (p[i] != 0xee)
			fail_fmt("GPA 0x%x written: 0x%x", i, p[i]);
	assert_int_equal(v->regs.rip, RIP0 + 15);
}

/*
 * Fixed plus variable header: at most 68 qwords (HV_MAX_INPUT_QWORDS, an Ex
 * call with all 64 banks), though the 10-bit field goes to 1023; more is
 * INVALID_HYPERCALL_INPUT before anything is read, whatever the rest says.
 */
static void test_flush_ex_variable_header_limit(void **state)
{
	uint64_t q[4 + 64 + 2] = { 0, 0, HV_GENERIC_SET_SPARSE_4K, ~0ull, 0x5 };   /* 64 banks; bank 0: VPs 0, 2 */
	for (unsigned i = 5; i < 4 + 64; i++)
		q[i] = ~0ull;                                     /* VPs 64 and up: nobody */
	q[68] = 0x1000;                                           /* two list elements after the banks */
	q[69] = 0x2000;
	put_input(IN_GPA, q, 70);
	assert_int_equal(call64(HVCALL_FLUSH_VIRTUAL_ADDRESS_SPACE_EX | varhead(64), IN_GPA, 0), HV_STATUS_SUCCESS);
	assert_int_equal(fake.tlb_flushes[0], 1);
	assert_int_equal(fake.tlb_flushes[1], 0);
	assert_int_equal(fake.tlb_flushes[2], 1);
	assert_int_equal(call64(HVCALL_FLUSH_VIRTUAL_ADDRESS_LIST_EX | varhead(64) | rep(2, 0), IN_GPA, 0),
	                 HV_STATUS_SUCCESS | 2ull << 32);
	assert_int_equal(fake.tlb_flushes[0] + fake.tlb_flushes[1] + fake.tlb_flushes[2], 4);
	/*
	 * 65 qwords of variable header with format "all": only the limit refuses
	 * it. 508: 4 KiB of header, the whole page; 1023: more than a page, still
	 * INVALID_HYPERCALL_INPUT (the header check comes before the page rule).
	 */
	q[2] = HV_GENERIC_SET_ALL;
	put_input(IN_GPA, q, 70);
	static const unsigned too_big[] = { 65, 508, 1023 };
	for (size_t i = 0; i < ARRAY_SIZE(too_big); i++) {
		uint64_t r = call64(HVCALL_FLUSH_VIRTUAL_ADDRESS_SPACE_EX | varhead(too_big[i]), IN_GPA, 0);
		if (r != HV_STATUS_INVALID_HYPERCALL_INPUT)
			fail_fmt("variable header of %u qwords: result 0x%llx", too_big[i], (unsigned long long)r);
	}
	assert_int_equal(fake.tlb_flushes[0] + fake.tlb_flushes[1] + fake.tlb_flushes[2], 4);
}

/* ---- discovery ---- */

static void test_cpuid_leaves(void **state)
{
	struct cpuid_regs r;
	assert_true(hc_cpuid(v, 0x40000000, 0, &r));
	assert_int_equal(r.eax, 0x4000000a);
	assert_memory_equal(&r.ebx, "Micr", 4);
	assert_memory_equal(&r.ecx, "osof", 4);
	assert_memory_equal(&r.edx, "t Hv", 4);
	assert_true(hc_cpuid(v, 0x40000001, 0, &r));
	assert_memory_equal(&r.eax, "Hv#1", 4);
	assert_int_equal(r.ebx | r.ecx | r.edx, 0);
	assert_true(hc_cpuid(v, 0x40000003, 0, &r));
	/*
	 * exactly what works: TIME_REF_COUNT, SynIC, synthetic timers, APIC MSRs, HYPERCALL,
	 * VP_INDEX, RESET, REFERENCE_TSC, frequency MSRs
	 */
	assert_int_equal(r.eax, (1u << 1) | (1u << 2) | (1u << 3) | (1u << 4) | (1u << 5) | (1u << 6) |
	                        (1u << 7) | (1u << 9) | (1u << 11));
	/* PostMessage, SignalEvent, AccessVpRegisters, extended calls */
	assert_int_equal(r.ebx, (1u << 4) | (1u << 5) | (1u << 17) | (1u << 20));
	/* XMM input, frequency MSRs, crash MSRs, XMM output, direct-mode timers */
	assert_int_equal(r.edx, (1u << 4) | (1u << 8) | (1u << 10) | (1u << 15) | (1u << 19));
	assert_true(hc_cpuid(v, 0x40000004, 0, &r));
	/* remote TLB flush, APIC MSRs, no auto-EOI, cluster IPI, Ex processor masks by hypercall */
	assert_int_equal(r.eax, (1u << 2) | (1u << 3) | (1u << 9) | (1u << 10) | (1u << 11));
	assert_int_equal(r.ebx, 0xffffffffu);
	assert_true(hc_cpuid(v, 0x40000005, 0, &r));
	assert_int_equal(r.eax, VM_MAX_VCPUS);
	for (uint32_t leaf = 0x40000006; leaf <= 0x4000000b; leaf++) {
		memset(&r, 0xff, sizeof(r));
		assert_true(hc_cpuid(v, leaf, 0, &r));
		assert_int_equal(r.eax | r.ebx | r.ecx | r.edx, 0);
	}
}

/* ---- synthetic MSRs ---- */

static void test_hypercall_page(void **state)
{
	uint64_t val;
	const uint64_t page = 0x5000;
	/* ignored until a guest OS ID is set */
	assert_int_equal(hc_msr_write(v, HV_X64_MSR_HYPERCALL, page | 1), 0);
	assert_int_equal(hc_msr_read(v, HV_X64_MSR_HYPERCALL, &val), 0);
	assert_int_equal(val, 0);
	assert_int_equal(*fake_vm_hva(vm, page), 0);
	assert_int_equal(hc_msr_write(v, HV_X64_MSR_GUEST_OS_ID, 0x8100000000000000ull), 0);
	assert_int_equal(hc_msr_write(v, HV_X64_MSR_HYPERCALL, page | 1), 0);
	assert_int_equal(hc_msr_read(v, HV_X64_MSR_HYPERCALL, &val), 0);
	assert_int_equal(val, page | 1);
	const uint8_t *p = fake_vm_hva(vm, page);
	static const uint8_t want[] = { 0x0f, 0x01, 0xd9, 0xc3 };   /* VMMCALL; RET (the fake is AMD) */
	assert_memory_equal(p, want, sizeof(want));
	/* the VTL entries of a 32-bit guest (EFER.LMA clear): mov ecx, eax; mov eax, code; VMMCALL; RET */
	static const uint8_t vtl_call[] = { 0x89, 0xc1, 0xb8, 0x11, 0, 0, 0, 0x0f, 0x01, 0xd9, 0xc3 };
	static const uint8_t vtl_ret[] = { 0x89, 0xc1, 0xb8, 0x12, 0, 0, 0, 0x0f, 0x01, 0xd9, 0xc3 };
	assert_memory_equal(p + 0x20, vtl_call, sizeof(vtl_call));
	assert_memory_equal(p + 0x40, vtl_ret, sizeof(vtl_ret));
	for (unsigned i = sizeof(want); i < PAGE_SIZE; i++) {
		if ((i >= 0x20 && i < 0x20 + sizeof(vtl_call)) || (i >= 0x40 && i < 0x40 + sizeof(vtl_ret)))
			continue;
		if (p[i] != 0xcc)
			fail_fmt("page byte %u is 0x%x, want int3", i, p[i]);
	}
	assert_int_equal(p[PAGE_SIZE], 0);                      /* nothing past the page */
	/* an OS ID of 0 turns the page off */
	assert_int_equal(hc_msr_write(v, HV_X64_MSR_GUEST_OS_ID, 0), 0);
	assert_int_equal(hc_msr_read(v, HV_X64_MSR_HYPERCALL, &val), 0);
	assert_int_equal(val, page);
}

static void test_hypercall_page_outside_ram_gp(void **state)
{
	assert_int_equal(hc_msr_write(v, HV_X64_MSR_GUEST_OS_ID, 1), 0);
	assert_int_equal(hc_msr_write(v, HV_X64_MSR_HYPERCALL, RAM | 1), -EINVAL);
	assert_int_equal(hc_msr_write(v, HV_X64_MSR_HYPERCALL, 0xfffffffffffff001ull), -EINVAL);
	uint64_t val;
	assert_int_equal(hc_msr_read(v, HV_X64_MSR_HYPERCALL, &val), 0);
	assert_int_equal(val, 0);
}

/*
 * HYPERCALL bits 11:2 and REFERENCE_TSC bits 11:1 are reserved (TLFS
 * "Hypercall Page", "Reference TSC Page"): taken and read back, as KVM
 * stores the whole value (kvm_hv_set_msr_pw); the page is bits 63:12.
 */
static void test_page_msrs_reserved_bits(void **state)
{
	uint64_t val;
	assert_int_equal(hc_msr_write(v, HV_X64_MSR_GUEST_OS_ID, 0x8100000000000000ull), 0);
	assert_int_equal(hc_msr_write(v, HV_X64_MSR_HYPERCALL, 0x5000 | 0xffc | 1), 0);
	assert_int_equal(hc_msr_read(v, HV_X64_MSR_HYPERCALL, &val), 0);
	assert_int_equal(val, 0x5000 | 0xffc | 1);
	static const uint8_t call_ret[] = { 0x0f, 0x01, 0xd9, 0xc3 };
	assert_memory_equal(fake_vm_hva(vm, 0x5000), call_ret, sizeof(call_ret));
	assert_int_equal(*fake_vm_hva(vm, 0x5ffc), 0xcc);          /* the page's last bytes, not past them */
	assert_int_equal(*fake_vm_hva(vm, 0x6000), 0);
	fake.counter_stable = true;
	assert_int_equal(hc_msr_write(v, HV_X64_MSR_REFERENCE_TSC, 0x7000 | 0xffe | 1), 0);
	assert_int_equal(hc_msr_read(v, HV_X64_MSR_REFERENCE_TSC, &val), 0);
	assert_int_equal(val, 0x7000 | 0xffe | 1);
	struct hv_ref_tsc_page p;
	memcpy(&p, fake_vm_hva(vm, 0x7000), sizeof(p));
	assert_int_not_equal(p.tsc_sequence, 0);
	assert_int_equal(p.tsc_scale, hv_ref_tsc_scale(HZ));
	assert_int_equal(*fake_vm_hva(vm, 0x7ffe), 0);
}

/*
 * Locked (bit 1): "the value of this MSR can't be changed" until reset
 * (TLFS "Hypercall Page"). Later writes are ignored, as before an OS ID;
 * no #GP, the TLFS names none. (KVM does not implement the bit.)
 */
static void test_hypercall_page_locked(void **state)
{
	uint64_t val;
	assert_int_equal(hc_msr_write(v, HV_X64_MSR_GUEST_OS_ID, 0x8100000000000000ull), 0);
	assert_int_equal(hc_msr_write(v, HV_X64_MSR_HYPERCALL, 0x5000 | HV_X64_MSR_HYPERCALL_LOCKED | 1), 0);
	static const uint64_t later[] = { 0x6000 | 1, 0x5000 | 1, 0x5000, 0 };
	for (size_t i = 0; i < ARRAY_SIZE(later); i++) {
		assert_int_equal(hc_msr_write(v2, HV_X64_MSR_HYPERCALL, later[i]), 0);
		assert_int_equal(hc_msr_read(v, HV_X64_MSR_HYPERCALL, &val), 0);
		if (val != (0x5000 | HV_X64_MSR_HYPERCALL_LOCKED | 1))
			fail_fmt("after writing 0x%llx: 0x%llx", (unsigned long long)later[i], (unsigned long long)val);
	}
	const uint8_t *p = fake_vm_hva(vm, 0x6000);
	for (unsigned i = 0; i < PAGE_SIZE; i++)
		if (p[i])
			fail_fmt("page 0x6000 byte %u written: 0x%x", i, p[i]);
	assert_int_equal(*fake_vm_hva(vm, 0x5000), 0x0f);
}

/*
 * Read-only memory (a ROM slot) for a page MSR: the page cannot be written,
 * so #GP and the MSR keeps its value, as for a page outside RAM. (KVM: the
 * hypercall page's kvm_vcpu_write_guest fails on a read-only memslot and the
 * write returns 1; it fills the TSC page later and only marks it broken, but
 * here the page is written at once.)
 */
static void test_page_msrs_in_rom(void **state)
{
	const uint64_t rom = 0x200000;
	fake_vm_add_slot(vm, rom, PAGE_SIZE, SLOT_READONLY, 0x5a);
	uint64_t val;
	assert_int_equal(hc_msr_write(v, HV_X64_MSR_GUEST_OS_ID, 0x8100000000000000ull), 0);
	assert_int_equal(hc_msr_write(v, HV_X64_MSR_HYPERCALL, rom | 1), -EINVAL);
	assert_int_equal(hc_msr_read(v, HV_X64_MSR_HYPERCALL, &val), 0);
	assert_int_equal(val, 0);
	fake.counter_stable = true;
	assert_int_equal(hc_msr_write(v, HV_X64_MSR_REFERENCE_TSC, 0x6000 | 1), 0);
	assert_int_equal(hc_msr_write(v, HV_X64_MSR_REFERENCE_TSC, rom | 1), -EINVAL);
	assert_int_equal(hc_msr_read(v, HV_X64_MSR_REFERENCE_TSC, &val), 0);
	assert_int_equal(val, 0x6000 | 1);
	const uint8_t *p = fake_vm_hva(vm, rom);
	for (unsigned i = 0; i < PAGE_SIZE; i++)
		if (p[i] != 0x5a)
			fail_fmt("ROM byte %u written: 0x%x", i, p[i]);
}

/*
 * The output list on the hypercall page: that page is guest RAM the
 * hypervisor filled once (KVM writes it with kvm_vcpu_write_guest and keeps
 * no overlay), so the output is written there like anywhere else, and the
 * MSR stays as it was.
 */
static void test_output_on_hypercall_page(void **state)
{
	uint64_t val;
	assert_int_equal(hc_msr_write(v, HV_X64_MSR_GUEST_OS_ID, 0x8100000000000000ull), 0);
	assert_int_equal(hc_msr_write(v, HV_X64_MSR_HYPERCALL, 0x5000 | 1), 0);
	const uint64_t q[3] = { HV_PARTITION_ID_SELF, HV_VP_INDEX_SELF,
	                        HV_REGISTER_VP_INDEX | (uint64_t)HV_X64_REGISTER_RIP << 32 };
	put_input(IN_GPA, q, 3);
	assert_int_equal(call64(HVCALL_GET_VP_REGISTERS | rep(2, 0), IN_GPA, 0x5000), HV_STATUS_SUCCESS | 2ull << 32);
	const uint64_t want[4] = { 0, 0, RIP0, 0 };               /* VP index 0, then RIP, 16 bytes each */
	assert_memory_equal(fake_vm_hva(vm, 0x5000), want, sizeof(want));
	assert_int_equal(*fake_vm_hva(vm, 0x5000 + sizeof(want)), 0x89);   /* the VTL call entry, untouched */
	assert_int_equal(hc_msr_read(v, HV_X64_MSR_HYPERCALL, &val), 0);
	assert_int_equal(val, 0x5000 | 1);
}

static void test_read_only_msrs(void **state)
{
	uint64_t val;
	assert_int_equal(hc_msr_read(v2, HV_X64_MSR_VP_INDEX, &val), 0);
	assert_int_equal(val, 1);
	assert_int_equal(hc_msr_read(v, HV_X64_MSR_TSC_FREQUENCY, &val), 0);
	assert_int_equal(val, HZ);
	assert_int_equal(hc_msr_read(v, HV_X64_MSR_APIC_FREQUENCY, &val), 0);
	assert_int_equal(val, 1000000000ull);
	assert_int_equal(hc_msr_read(v, HV_X64_MSR_TIME_REF_COUNT, &val), 0);
	assert_int_equal(val, 0);
	fake.counter = C0 + HZ;                                  /* one second: 10^7 units of 100 ns */
	assert_int_equal(hc_msr_read(v, HV_X64_MSR_TIME_REF_COUNT, &val), 0);
	assert_int_equal(val, 10000000);
	static const uint32_t ro[] = { HV_X64_MSR_VP_INDEX, HV_X64_MSR_TIME_REF_COUNT,
	                               HV_X64_MSR_TSC_FREQUENCY, HV_X64_MSR_APIC_FREQUENCY };
	for (size_t i = 0; i < ARRAY_SIZE(ro); i++)
		assert_int_equal(hc_msr_write(v, ro[i], 0), -EINVAL);
	/* MSRs of another ABI are not this VM's */
	assert_int_equal(hc_msr_read(v, 0x4b564d01, &val), -ENOENT);
	assert_int_equal(hc_msr_read(v, 0x40000010, &val), -ENOENT);   /* VP_RUNTIME: not offered */
}

/* ---- reference TSC page ---- */

static void test_ref_tsc_scale(void **state)
{
	/* 10^7 * 2^64 / hz: exact for powers of two, and 2^64 / 200 for 2 GHz */
	assert_int_equal(hv_ref_tsc_scale(20000000), 1ull << 63);
	assert_int_equal(hv_ref_tsc_scale(2000000000ull), 92233720368547758ull);
	assert_int_equal(hv_ref_tsc_scale(HV_REF_TIME_HZ), 0);    /* not slower than 100 ns */
	assert_int_equal(hv_ref_tsc_scale(5000000000ull), 36893488147419103ull);
}

static void test_reference_tsc_page(void **state)
{
	const uint64_t page = 0x6000;
	fake.counter_stable = true;
	vm->clock_base = C0 - 3 * HZ;                             /* the partition is 3 s old */
	assert_int_equal(hc_msr_write(v, HV_X64_MSR_REFERENCE_TSC, page | 1), 0);
	uint64_t val;
	assert_int_equal(hc_msr_read(v, HV_X64_MSR_REFERENCE_TSC, &val), 0);
	assert_int_equal(val, page | 1);
	struct hv_ref_tsc_page p;
	memcpy(&p, fake_vm_hva(vm, page), sizeof(p));
	assert_int_not_equal(p.tsc_sequence, 0);
	assert_int_equal(p.tsc_scale, hv_ref_tsc_scale(HZ));
	/* at any TSC value the guest's sum is TIME_REF_COUNT */
	fake.counter = C0 + 12345678;
	uint64_t tsc = fake.counter + v->arch.tsc_offset;
	uint64_t t = (uint64_t)(((unsigned __int128)tsc * p.tsc_scale) >> 64) + (uint64_t)p.tsc_offset;
	assert_int_equal(hc_msr_read(v, HV_X64_MSR_TIME_REF_COUNT, &val), 0);
	if (t > val + 1 || val > t + 1)
		fail_fmt("page gives %llu, MSR %llu", (unsigned long long)t, (unsigned long long)val);
	/* a TSC write moves the offset and the sequence */
	uint32_t seq = p.tsc_sequence;
	v->arch.tsc_offset = 1000 * HZ;
	hc_clock_changed(v);
	memcpy(&p, fake_vm_hva(vm, page), sizeof(p));
	assert_int_not_equal(p.tsc_sequence, seq);
	tsc = fake.counter + v->arch.tsc_offset;
	t = (uint64_t)(((unsigned __int128)tsc * p.tsc_scale) >> 64) + (uint64_t)p.tsc_offset;
	if (t > val + 1 || val > t + 1)
		fail_fmt("after the TSC write the page gives %llu, MSR %llu", (unsigned long long)t, (unsigned long long)val);
	/* without a constant-rate TSC the page says "use the MSR" */
	fake.counter_stable = false;
	hc_clock_changed(v);
	memcpy(&p, fake_vm_hva(vm, page), sizeof(p));
	assert_int_equal(p.tsc_sequence, 0);
	/* a page outside RAM: #GP, the MSR keeps its value */
	assert_int_equal(hc_msr_write(v, HV_X64_MSR_REFERENCE_TSC, RAM | 1), -EINVAL);
	assert_int_equal(hc_msr_read(v, HV_X64_MSR_REFERENCE_TSC, &val), 0);
	assert_int_equal(val, page | 1);
}

/* ---- crash MSRs, synthetic APIC MSRs ---- */

static void test_crash_report_ends_vm(void **state)
{
	uint64_t val;
	assert_int_equal(hc_msr_read(v, HV_X64_MSR_CRASH_CTL, &val), 0);
	assert_int_equal(val, 1ull << 63);                        /* CRASH_NOTIFY is offered */
	for (unsigned i = 0; i < 5; i++)
		assert_int_equal(hc_msr_write(v, HV_X64_MSR_CRASH_P0 + i, 0x100 + i), 0);
	assert_int_equal(hc_msr_read(v, HV_X64_MSR_CRASH_P0 + 3, &val), 0);
	assert_int_equal(val, 0x103);
	assert_int_equal(hc_msr_write(v, HV_X64_MSR_CRASH_CTL, 0), 0);
	assert_false(vm_ended(vm));
	assert_int_equal(hc_msr_write(v, HV_X64_MSR_CRASH_CTL, 1ull << 63), 0);
	assert_true(vm_ended(vm));
	assert_int_equal(vm->end, VM_END_GUEST_CRASH);
	assert_string_equal(vm->end_reason,
	                    "vcpu0: guest crash report P0 0x100 P1 0x101 P2 0x102 P3 0x103 P4 0x104");
	assert_int_equal(hc_msr_read(v, HV_X64_MSR_CRASH_P4 + 2, &val), -ENOENT);
}

static void test_apic_msrs(void **state)
{
	uint64_t val;
	assert_int_equal(hc_msr_write(v2, HV_X64_MSR_TPR, 0x70), 0);
	assert_int_equal(hc_msr_read(v2, HV_X64_MSR_TPR, &val), 0);
	assert_int_equal(val, 0x70);
	assert_int_equal(hc_msr_write(v2, HV_X64_MSR_TPR, 0x100), -EINVAL);
	assert_int_equal(hc_msr_write(v2, HV_X64_MSR_EOI, 0), 0);
	/* ICR: high half (destination) first, then the low half that sends */
	assert_int_equal(hc_msr_write(v, HV_X64_MSR_ICR, 0x0200000000004041ull), 0);
	assert_int_equal(hc_msr_read(v, HV_X64_MSR_ICR, &val), 0);
	assert_int_equal(val, 0x0200000000004041ull);
	assert_int_equal(fake.apic_writes, 4);
	assert_int_equal(fake.apic_write_log[1].off, 0x0b0);      /* the EOI */
	assert_int_equal(fake.apic_write_log[1].vcpu, 1);
	assert_int_equal(fake.apic_write_log[2].off, 0x310);
	assert_int_equal(fake.apic_write_log[2].val, 0x02000000);
	assert_int_equal(fake.apic_write_log[3].off, 0x300);
	assert_int_equal(fake.apic_write_log[3].val, 0x4041);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_decode_fields),
		T(test_decode_every_reserved_bit),
		T(test_unknown_code),
		T(test_reserved_bits_before_code),
		T(test_convention_32bit),
		T(test_cpl3_and_real_mode_ud),
		T(test_notify_long_spin_wait_yields),
		T(test_notify_long_spin_wait_rejects_rep_and_varhead),
		T(test_flush_space_mask_and_all),
		T(test_flush_bad_input),
		T(test_flush_ex_vp_sets),
		T(test_flush_list_reps_completed),
		T(test_rep_continuation),
		T(test_rep_continuation_32bit),
		T(test_send_ipi),
		T(test_send_ipi_ex),
		T(test_convention_16bit_protected),
		T(test_nested_bit_served),
		T(test_lists_wrapping_past_2_64),
		T(test_flush_ex_variable_header_limit),
		T(test_cpuid_leaves),
		T(test_hypercall_page),
		T(test_hypercall_page_outside_ram_gp),
		T(test_page_msrs_reserved_bits),
		T(test_hypercall_page_locked),
		T(test_page_msrs_in_rom),
		T(test_output_on_hypercall_page),
		T(test_read_only_msrs),
		T(test_ref_tsc_scale),
		T(test_reference_tsc_page),
		T(test_crash_report_ends_vm),
		T(test_apic_msrs),
	};
#undef T
	return cmocka_run_group_tests_name("hyperv", tests, NULL, NULL);
}
