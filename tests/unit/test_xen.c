/*
 * hypercalls/xen/ through the real dispatcher, checked against Xen's public
 * sources: the HVM calling convention (xen/arch/x86/hvm/hypercall.c
 * hvm_hypercall), the CPUID leaves (xen/arch/x86/cpuid.c
 * cpuid_hypervisor_leaves, public/arch-x86/cpuid.h), the hypercall page
 * (guest_wrmsr_xen, init_hypercall_page, svm_init_hypercall_page),
 * xen_version (xen/common/kernel.c do_xen_version, public/version.h),
 * console_io (xen/drivers/char/console.c do_console_io) and sched_op
 * (xen/common/sched/core.c do_sched_op, xen/common/domain.c
 * domain_shutdown, public/sched.h).
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
#include "hypercalls/xen/xen_abi.h"
#include "tests/fake_arch/fake_arch.h"
#include "tests/fake_arch/fake_test.h"

#define HZ 2000000000ull
#define KHZ ((uint32_t)(HZ / 1000))
#define C0 1000000000ull
#define RAM MiB(1)
#define RIP0 0x1000ull
#define ILEN 3                      /* VMMCALL */
#define BUF 0x4000ull               /* a guest buffer well inside RAM */
#define PAGE_GPA 0x3000ull          /* where tests put the hypercall page */
#define FILL 0x5a                   /* what guest RAM holds before each test */
#define ERR64(e) ((uint64_t)-(int64_t)(e))
#define ERR32(e) ((uint64_t)(uint32_t)-(int32_t)(e))   /* EAX, zero-extended */
#define HI(x) ((uint64_t)(x) << 32)

static struct vm *vm;
static struct vcpu *v, *v2;

static int setup(void **state)
{
	fake_arch_reset();
	fake_console_reset();
	fake.counter = C0;
	time_init(HZ, C0, 0);
	vm = fake_vm_new();
	fake_vm_add_slot(vm, 0, RAM, 0, FILL);
	vm->mem_size = RAM;
	hc_vm_set_abis(vm, (const struct hc_abi *const[]){ &xen_abi }, 1);
	vm->state = VM_RUNNING;
	v = fake_vcpu_new(vm);
	v2 = fake_vcpu_new(vm);
	v->state = v2->state = VCPU_RUNNABLE;
	/* a distinct value in every register, so a read of the wrong one shows */
	for (unsigned i = 0; i < X86_NR_GPRS; i++)
		v->regs.gpr[i] = v2->regs.gpr[i] = 0x1111111111111111ull * (i + 1) ^ 0x8000000000000000ull;
	v->regs.rip = v2->regs.rip = RIP0;
	return 0;
}

static int teardown(void **state)
{
	fake_cleanup();
	return 0;
}

/* One hypercall exit of `cpu`; returns RAX. */
static uint64_t trap(struct vcpu *cpu, enum cpu_mode mode, uint8_t cpl, enum hc_insn insn)
{
	struct vm_exit e = {
		.reason = VMEXIT_HYPERCALL, .insn_len = ILEN, .cpl = cpl, .mode = mode, .hc.insn = insn,
	};
	hc_dispatch(cpu, &e);
	return cpu->regs.gpr[X86_RAX];
}

/* Number in RAX; the first three arguments in RDI, RSI, RDX (64-bit) or EBX, ECX, EDX. */
static uint64_t hc_on(struct vcpu *cpu, enum cpu_mode mode, uint8_t cpl, uint64_t nr,
                      uint64_t a0, uint64_t a1, uint64_t a2)
{
	bool lm = mode == MODE_64;
	cpu->regs.gpr[X86_RAX] = nr;
	cpu->regs.gpr[lm ? X86_RDI : X86_RBX] = a0;
	cpu->regs.gpr[lm ? X86_RSI : X86_RCX] = a1;
	cpu->regs.gpr[X86_RDX] = a2;
	return trap(cpu, mode, cpl, HC_INSN_VMMCALL);
}

#define hc64(...) hc_on(v, MODE_64, 0, __VA_ARGS__)
#define hc32(...) hc_on(v, MODE_PROT32, 0, __VA_ARGS__)

static uint8_t *hva(uint64_t gpa) { return fake_vm_hva(vm, gpa); }

static void put_guest(uint64_t gpa, const void *src, size_t len) { memcpy(hva(gpa), src, len); }

/* Fails unless guest bytes [gpa, gpa+len) all still hold FILL. */
static void assert_untouched(uint64_t gpa, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (hva(gpa)[i] != FILL)
			fail_fmt("guest byte 0x%llx written (0x%x)", (unsigned long long)(gpa + i), hva(gpa)[i]);
}

/* ---- calling convention (hvm/hypercall.c) ---- */

static void test_register_maps(void **state)
{
	/* mode 8: RDI, RSI, RDX, R10, R8; modes 4, 2, 0: EBX, ECX, EDX, ESI, EDI */
	static const uint8_t want64[] = { X86_RDI, X86_RSI, X86_RDX, X86_R10, X86_R8 };
	static const uint8_t want32[] = { X86_RBX, X86_RCX, X86_RDX, X86_RSI, X86_RDI };
	assert_int_equal(xen_abi.conv, HC_CONV_REGS);
	assert_int_equal(xen_abi.nargs, 5);
	assert_memory_equal(xen_abi.args64, want64, sizeof(want64));
	assert_memory_equal(xen_abi.args32, want32, sizeof(want32));
	assert_int_equal(xen_abi.nr_reg, X86_RAX);
	assert_int_equal(xen_abi.result_reg, X86_RAX);
}

static void test_convention_64bit(void **state)
{
	put_guest(BUF, "abc", 3);
	/* console_io(write, 3, BUF): EBX and ECX hold junk, so a 32-bit decode would fail */
	assert_int_equal(hc64(__HYPERVISOR_console_io, CONSOLEIO_write, 3, BUF), 0);
	assert_int_equal(vm->con_len, 3);
	assert_memory_equal(vm->con_line, "abc", 3);
	assert_int_equal(v->regs.rip, RIP0 + ILEN);
	/* a direct VMCALL (Intel) is the same call as the page's VMMCALL */
	v->regs.gpr[X86_RAX] = __HYPERVISOR_xen_version;
	v->regs.gpr[X86_RDI] = XENVER_version;
	assert_int_equal(trap(v, MODE_64, 0, HC_INSN_VMCALL), XEN_VERSION_MAJOR << 16 | XEN_VERSION_MINOR);
	/* mode 8 takes all of RAX: a number with high bits is unknown */
	assert_int_equal(hc64(HI(1) | __HYPERVISOR_xen_version, XENVER_version, 0, 0), ERR64(XEN_ENOSYS));
	assert_int_equal(hc64(99, 0, 0, 0), ERR64(XEN_ENOSYS));        /* full 64-bit -errno */
	assert_int_equal(v->regs.rip, RIP0 + 4 * ILEN);
}

static void test_convention_32bit_truncates(void **state)
{
	put_guest(BUF, "xyz", 3);
	/* EAX, EBX, ECX, EDX: the upper halves are not part of the call */
	uint64_t r = hc32(HI(0xdeadbeef) | __HYPERVISOR_console_io, HI(0xffffffff) | CONSOLEIO_write,
	                  HI(7) | 3, HI(0x12345678) | BUF);
	assert_int_equal(r, 0);
	assert_memory_equal(vm->con_line, "xyz", 3);
	assert_int_equal(vm->con_len, 3);
	assert_int_equal(hc32(HI(1) | __HYPERVISOR_xen_version, XENVER_version, 0, 0),
	                 XEN_VERSION_MAJOR << 16 | XEN_VERSION_MINOR);
	/* the result is EAX, zero-extended into RAX */
	assert_int_equal(hc32(99, 0, 0, 0), ERR32(XEN_ENOSYS));
	/* real mode and 16-bit protected mode use the 32-bit ABI too (modes 0 and 2) */
	assert_int_equal(hc_on(v, MODE_REAL, 0, HI(2) | __HYPERVISOR_xen_version, HI(3) | XENVER_version, 0, 0),
	                 XEN_VERSION_MAJOR << 16 | XEN_VERSION_MINOR);
	assert_int_equal(hc_on(v, MODE_PROT16, 0, 99, 0, 0, 0), ERR32(XEN_ENOSYS));
	assert_int_equal(v->regs.rip, RIP0 + 5 * ILEN);
	/* outside 64-bit mode RIP wraps at 4 GiB */
	v->regs.rip = 0xfffffffeull;
	hc32(99, 0, 0, 0);
	assert_int_equal(v->regs.rip, ILEN - 2);
}

/* "Hypercalls may only be issued by kernel-level software": -EPERM at CPL > 0, for every call. */
static void test_cpl_eperm(void **state)
{
	static const enum cpu_mode modes[] = { MODE_64, MODE_PROT32, MODE_PROT16 };
	uint32_t poweroff = SHUTDOWN_poweroff;
	put_guest(BUF, &poweroff, sizeof(poweroff));
	unsigned calls = 0;
	for (size_t m = 0; m < ARRAY_SIZE(modes); m++)
		for (uint8_t cpl = 1; cpl <= 3; cpl++) {
			uint64_t want = modes[m] == MODE_64 ? ERR64(XEN_EPERM) : ERR32(XEN_EPERM);
			uint64_t r = hc_on(v, modes[m], cpl, __HYPERVISOR_sched_op, SCHEDOP_shutdown, BUF, 0);
			uint64_t r2 = hc_on(v, modes[m], cpl, 99, 0, 0, 0);   /* before the number is looked at */
			if (r != want || r2 != want)
				fail_fmt("mode %d cpl %u: 0x%llx 0x%llx", modes[m], cpl,
				         (unsigned long long)r, (unsigned long long)r2);
			calls += 2;
		}
	assert_false(vm_ended(vm));
	assert_int_equal(v->regs.rip, RIP0 + calls * ILEN);
}

static void test_unknown_numbers_enosys(void **state)
{
	/*
	 * Calls Xen never gives an HVM guest (hypercall-defs.c: PV only, iret 23,
	 * unused 43, arch_0-7 48-55) and numbers past the table (56+); 0x80000000
	 * is viridian's bit, off for a Xen guest.
	 */
	static const uint64_t nrs[] = {
		0, 1, 2, 3, 14, 16, 19, 22, 23, 25, 28, 30, 43, 48, 55, 56, 57, 127, 128,
		0x80000000ull, 0xffffffffull, HI(1), UINT64_MAX,
	};
	for (size_t i = 0; i < ARRAY_SIZE(nrs); i++) {
		uint64_t r = hc64(nrs[i], 0, 0, 0);
		if (r != ERR64(XEN_ENOSYS))
			fail_fmt("number 0x%llx: 0x%llx", (unsigned long long)nrs[i], (unsigned long long)r);
		r = hc32(nrs[i], 0, 0, 0);
		if (r != ERR32(XEN_ENOSYS))
			fail_fmt("32-bit number 0x%llx: 0x%llx", (unsigned long long)nrs[i], (unsigned long long)r);
	}
	assert_int_equal(v->regs.rip, RIP0 + 2 * ARRAY_SIZE(nrs) * ILEN);
	assert_false(vm_ended(vm));
	assert_int_equal(vm->nr_hypercalls, 2 * ARRAY_SIZE(nrs));
}

/* ---- CPUID (cpuid.c cpuid_hypervisor_leaves; arch-x86/cpuid.h) ---- */

struct leaf_want { uint32_t leaf, sub, eax, ebx, ecx, edx; };

static void check_leaves(struct vcpu *cpu, const struct leaf_want *w, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct cpuid_regs r;
		memset(&r, 0xa5, sizeof(r));
		bool ok = hc_cpuid(cpu, w[i].leaf, w[i].sub, &r);
		if (!ok || r.eax != w[i].eax || r.ebx != w[i].ebx || r.ecx != w[i].ecx || r.edx != w[i].edx)
			fail_fmt("leaf 0x%x.%u: %d %08x %08x %08x %08x, want %08x %08x %08x %08x", w[i].leaf,
			         w[i].sub, ok, r.eax, r.ebx, r.ecx, r.edx, w[i].eax, w[i].ebx, w[i].ecx, w[i].edx);
	}
}

static void test_cpuid_leaves(void **state)
{
	fake.counter_stable = true;
	vm->id = 6;                                              /* domid 7: dom0 is the control domain */
	v2->arch.tsc_offset = 0x123456789abcdef0ull;
	const struct leaf_want w[] = {
		/* base+0: max leaf base + XEN_CPUID_MAX_NUM_LEAVES (5), "XenVMMXenVMM" */
		{ 0x40000000, 0, 0x40000005, 0x566e6558, 0x65584d4d, 0x4d4d566e },
		{ 0x40000001, 0, 4 << 16 | 17, 0, 0, 0 },            /* major << 16 | minor */
		{ 0x40000002, 0, 1, 0x40000000, 0, 0 },              /* one page, its MSR; FEAT1 bits are PV only */
		{ 0x40000003, 0, 1u << 1, 0, KHZ, 0 },               /* HOST_TSC_RELIABLE, tsc_mode 0, kHz */
		{ 0x40000003, 1, 0x9abcdef0, 0x12345678, 0, 0 },     /* the vCPU's TSC offset */
		{ 0x40000003, 2, KHZ, 0, 0, 0 },                     /* physical kHz */
		{ 0x40000003, 3, 0, 0, 0, 0 },
		/* base+4 (HVM): IOMMU_MAPPINGS | VCPU_ID_PRESENT | DOMID_PRESENT | UPCALL_VECTOR, vcpu_id, domain_id */
		{ 0x40000004, 0, 0x5c, 1, 7, 0 },
		{ 0x40000004, 1, 0, 0, 0, 0 },                       /* sub-leaf != 0: zeros */
		{ 0x40000005, 0, 0, 0, 0, 0 },                       /* PV only */
		{ 0x40000006, 0, 0, 0, 0, 0 },                       /* idx > limit: zeros */
		{ 0x400000ff, 0, 0, 0, 0, 0 },
		{ 0x40000100, 0, 0, 0, 0, 0 },                       /* no viridian: idx 0x100 > limit */
		{ 0x40000101, 0, 0, 0, 0, 0 },
	};
	check_leaves(v2, w, ARRAY_SIZE(w));
	/* vCPU 0 of VM 0 is domain 1; an unstable TSC is not reliable */
	fake.counter_stable = false;
	vm->id = 0;
	const struct leaf_want w0[] = {
		{ 0x40000003, 0, 0, 0, KHZ, 0 },
		{ 0x40000003, 1, 0, 0, 0, 0 },
		{ 0x40000004, 0, 0x5c, 0, 1, 0 },
	};
	check_leaves(v, w0, ARRAY_SIZE(w0));
	struct cpuid_regs r;
	assert_false(hc_cpuid(v, 0x3fffffff, 0, &r));
}

/* ---- the hypercall page ---- */

/* What Xen writes: 0xcc everywhere, then `mov $i,%eax; vmmcall; ret` per 32-byte stub, ud2 for iret. */
static void check_page(uint64_t gpa)
{
	uint8_t want[PAGE_SIZE];
	memset(want, 0xcc, PAGE_SIZE);
	for (uint32_t i = 0; i < PAGE_SIZE / 32; i++) {
		uint8_t *s = want + i * 32;
		if (i == __HYPERVISOR_iret) {
			s[0] = 0x0f, s[1] = 0x0b;
			continue;
		}
		s[0] = 0xb8, s[1] = (uint8_t)i, s[2] = s[3] = s[4] = 0;
		s[5] = 0x0f, s[6] = 0x01, s[7] = 0xd9;               /* VMMCALL: the fake arch is AMD */
		s[8] = 0xc3;
	}
	for (size_t i = 0; i < PAGE_SIZE; i++)
		if (hva(gpa)[i] != want[i])
			fail_fmt("page byte 0x%zx (stub %zu +%zu): 0x%02x, want 0x%02x", i, i / 32, i % 32,
			         hva(gpa)[i], want[i]);
}

static void test_hypercall_page(void **state)
{
	assert_int_equal(hc_msr_write(v, XEN_HYPERCALL_MSR, PAGE_GPA), 0);
	check_page(PAGE_GPA);
	assert_untouched(PAGE_GPA - 1, 1);
	assert_untouched(PAGE_GPA + PAGE_SIZE, 1);
	/* earlier content is overwritten, whichever vCPU writes the MSR; the last page of RAM works */
	memset(hva(PAGE_GPA), 0, PAGE_SIZE);
	assert_int_equal(hc_msr_write(v2, XEN_HYPERCALL_MSR, PAGE_GPA), 0);
	check_page(PAGE_GPA);
	assert_int_equal(hc_msr_write(v, XEN_HYPERCALL_MSR, RAM - PAGE_SIZE), 0);
	check_page(RAM - PAGE_SIZE);
	/* RDMSR gives 0, whatever was written */
	uint64_t val = 0xdead;
	assert_int_equal(hc_msr_read(v, XEN_HYPERCALL_MSR, &val), 0);
	assert_int_equal(val, 0);
}

static void test_hypercall_page_gp(void **state)
{
	/* page_index (bits 11:0) > 0: #GP */
	static const uint64_t idx[] = { 1, 0x800, 0xfff };
	for (size_t i = 0; i < ARRAY_SIZE(idx); i++)
		assert_int_equal(hc_msr_write(v, XEN_HYPERCALL_MSR, PAGE_GPA | idx[i]), -EINVAL);
	/* not RAM, or not writable: #GP */
	static const uint64_t bad[] = { RAM, RAM + PAGE_SIZE, 0xfee00000ull, 0xfffffffffffff000ull };
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		assert_int_equal(hc_msr_write(v, XEN_HYPERCALL_MSR, bad[i]), -EINVAL);
	fake_vm_add_slot(vm, 0x200000, PAGE_SIZE, SLOT_READONLY, FILL);
	assert_int_equal(hc_msr_write(v, XEN_HYPERCALL_MSR, 0x200000), -EINVAL);
	assert_untouched(0x200000, PAGE_SIZE);
	/* only base+0 is Xen's: base+1..base+0xff are #GP (-ENOENT lets the arch raise it) */
	static const uint32_t msrs[] = { 0x40000001, 0x40000002, 0x40000080, 0x400000ff, 0x40000200 };
	for (size_t i = 0; i < ARRAY_SIZE(msrs); i++) {
		uint64_t val;
		assert_int_equal(hc_msr_write(v, msrs[i], PAGE_GPA), -ENOENT);
		assert_int_equal(hc_msr_read(v, msrs[i], &val), -ENOENT);
	}
	assert_untouched(PAGE_GPA, PAGE_SIZE);
}

/* ---- xen_version (kernel.c do_xen_version) ---- */

static uint64_t version(enum cpu_mode mode, uint64_t cmd, uint64_t arg)
{
	return hc_on(v, mode, 0, __HYPERVISOR_xen_version, cmd, arg, 0);
}

static void test_version_number(void **state)
{
	/* XENVER_version: (major << 16) | minor; arg ignored (here not even RAM) */
	assert_int_equal(version(MODE_64, XENVER_version, UINT64_MAX), 4 << 16 | 17);
	assert_int_equal(version(MODE_PROT32, XENVER_version, RAM), 4 << 16 | 17);
	/* pagesize: "return (!guest_handle_is_null(arg) ? -EINVAL : PAGE_SIZE)" */
	assert_int_equal(version(MODE_64, XENVER_pagesize, 0), 4096);
	assert_int_equal(version(MODE_PROT32, XENVER_pagesize, HI(1)), 4096);
	assert_int_equal(version(MODE_64, XENVER_pagesize, BUF), ERR64(XEN_EINVAL));
	assert_untouched(BUF, 8);
}

/*
 * Fixed-size NUL-padded arrays (xen_extraversion_t, ...); commandline is
 * XSM_PRIV, so a domU gets 0 and xen_deny()'s "<denied>" with its NUL only.
 */
static const struct { uint32_t cmd; size_t size; const char *text; } strbufs[] = {
	{ XENVER_extraversion, 16, ".0" },
	/* setup.c: a 64-bit Xen without PV; every entry ends in a space */
	{ XENVER_capabilities, 1024, "hvm-3.0-x86_32 hvm-3.0-x86_32p hvm-3.0-x86_64 " },
	{ XENVER_changeset, 64, "unavailable" },
	{ XENVER_guest_handle, 16, "" },                         /* xen_domain_handle_t: no UUID */
	{ XENVER_commandline, 9, "<denied>" },
};

/* `size` bytes at gpa are `text` then zeros. */
static void check_field(uint64_t gpa, size_t size, const char *text, const char *what)
{
	size_t n = strlen(text);
	if (memcmp(hva(gpa), text, n))
		fail_fmt("%s: \"%.*s\", want \"%s\"", what, (int)n, (const char *)hva(gpa), text);
	for (size_t i = n; i < size; i++)
		if (hva(gpa)[i])
			fail_fmt("%s: byte %zu is 0x%x, want NUL padding", what, i, hva(gpa)[i]);
}

static void test_version_strings(void **state)
{
	for (size_t i = 0; i < ARRAY_SIZE(strbufs); i++) {
		char what[32];
		snprintf(what, sizeof(what), "cmd %u", strbufs[i].cmd);
		memset(hva(BUF - 1), FILL, strbufs[i].size + 2);
		assert_int_equal(version(MODE_64, strbufs[i].cmd, BUF), 0);
		check_field(BUF, strbufs[i].size, strbufs[i].text, what);
		assert_untouched(BUF - 1, 1);
		assert_untouched(BUF + strbufs[i].size, 1);
		/* 32-bit: cmd and pointer cut to 32 bits */
		memset(hva(BUF), FILL, strbufs[i].size);
		assert_int_equal(version(MODE_PROT32, HI(9) | strbufs[i].cmd, HI(1) | BUF), 0);
		check_field(BUF, strbufs[i].size, strbufs[i].text, what);
		assert_untouched(BUF + strbufs[i].size, 1);
	}
}

static void test_version_structs(void **state)
{
	assert_int_equal(sizeof(struct xen_compile_info), 144);   /* 64 + 16 + 32 + 32 */
	assert_int_equal(version(MODE_64, XENVER_compile_info, BUF), 0);
	check_field(BUF, 64, "gcc", "compiler");
	check_field(BUF + 64, 16, "microhv", "compile_by");
	check_field(BUF + 80, 32, "", "compile_domain");
	check_field(BUF + 112, 32, "", "compile_date");
	assert_untouched(BUF + 144, 1);
	/* xen_platform_parameters_t: unsigned long virt_start, 4 bytes in the compat layout; 0 for HVM */
	assert_int_equal(version(MODE_64, XENVER_platform_parameters, BUF + 0x200), 0);
	assert_memory_equal(hva(BUF + 0x200), (uint8_t[8]){ 0 }, 8);
	assert_untouched(BUF + 0x208, 1);
	assert_int_equal(version(MODE_PROT32, XENVER_platform_parameters, BUF + 0x100), 0);
	assert_memory_equal(hva(BUF + 0x100), (uint8_t[4]){ 0 }, 4);
	assert_untouched(BUF + 0x104, 1);
}

static void test_version_get_features(void **state)
{
	static const enum cpu_mode modes[] = { MODE_64, MODE_PROT32 };
	for (size_t m = 0; m < ARRAY_SIZE(modes); m++) {
		struct xen_feature_info fi = { .submap_idx = 0, .submap = 0xdeadbeef };
		put_guest(BUF, &fi, sizeof(fi));
		assert_int_equal(version(modes[m], XENVER_get_features, BUF), 0);
		memcpy(&fi, hva(BUF), sizeof(fi));
		assert_int_equal(fi.submap_idx, 0);
		/* kernel.c get_features for an HVM domU: translated paging, callback vector, safe pvclock, not direct-mapped */
		assert_int_equal(fi.submap, 1u << XENFEAT_writable_page_tables | 1u << XENFEAT_auto_translated_physmap |
		                            1u << XENFEAT_hvm_callback_vector | 1u << XENFEAT_hvm_safe_pvclock |
		                            1u << XENFEAT_not_direct_mapped);
		/* PV's bit 3 never */
		assert_int_equal(fi.submap & (1u << XENFEAT_supervisor_mode_kernel), 0);
		assert_untouched(BUF + sizeof(fi), 1);
	}
	/* get_features(): "default: return -EINVAL" (XENFEAT_NR_SUBMAPS is 1), nothing copied back */
	struct xen_feature_info fi = { .submap_idx = 1, .submap = 0xdeadbeef };
	put_guest(BUF, &fi, sizeof(fi));
	assert_int_equal(version(MODE_64, XENVER_get_features, BUF), ERR64(XEN_EINVAL));
	assert_memory_equal(hva(BUF), &fi, sizeof(fi));
}

/* copy_to_guest / copy_from_guest fail: -EFAULT, and a one-piece copy writes nothing. */
static void test_version_efault(void **state)
{
	static const struct { uint32_t cmd; size_t size; } ops[] = {
		{ XENVER_extraversion, 16 }, { XENVER_compile_info, 144 }, { XENVER_capabilities, 1024 },
		{ XENVER_changeset, 64 }, { XENVER_platform_parameters, 8 }, { XENVER_get_features, 8 },
		{ XENVER_guest_handle, 16 },
	};
	for (size_t i = 0; i < ARRAY_SIZE(ops); i++) {
		const uint64_t gpas[] = { RAM, RAM - ops[i].size / 2, 0xfee00000ull, UINT64_MAX - 3 };
		for (size_t g = 0; g < ARRAY_SIZE(gpas); g++) {
			uint64_t r = version(MODE_64, ops[i].cmd, gpas[g]);
			if (r != ERR64(XEN_EFAULT))
				fail_fmt("cmd %u at 0x%llx: 0x%llx", ops[i].cmd, (unsigned long long)gpas[g],
				         (unsigned long long)r);
		}
		assert_untouched(RAM - ops[i].size / 2, ops[i].size / 2);
	}
	/* a 32-bit caller's 4-byte platform_parameters crossing out of RAM */
	assert_int_equal(version(MODE_PROT32, XENVER_platform_parameters, RAM - 2), ERR32(XEN_EFAULT));
	assert_untouched(RAM - 2, 2);
	assert_int_equal(version(MODE_PROT32, XENVER_platform_parameters, RAM - 4), 0);
}

static void test_version_unknown(void **state)
{
	/* 10 build_id is left out: Xen answers a domU -EPERM there (see the report) */
	static const uint64_t cmds[] = { 11, 12, 13, 14, 15, 0x7fffffff, 0x80000000ull, 0xffffffffull };
	for (size_t i = 0; i < ARRAY_SIZE(cmds); i++)
		assert_int_equal(version(MODE_64, cmds[i], BUF), ERR64(XEN_ENOSYS));
	assert_untouched(BUF, 64);
}

/*
 * The sub-op is an int (do_xen_version(int cmd), do_sched_op(int cmd),
 * do_console_io(unsigned int cmd, ...); hypercall-defs.c): a 64-bit caller's
 * RDI bits 63:32 are not part of it.
 */
static void test_subop_is_32_bits(void **state)
{
	assert_int_equal(version(MODE_64, HI(0xffffffff) | XENVER_pagesize, 0), 4096);
	assert_int_equal(hc64(__HYPERVISOR_console_io, HI(1) | CONSOLEIO_read, 0, BUF), 0);
	assert_int_equal(hc64(__HYPERVISOR_sched_op, HI(1) | SCHEDOP_yield, 0, 0), 0);
}

/* ---- console_io (console.c do_console_io, guest_console_write) ---- */

static uint64_t console(uint64_t cmd, uint64_t count, uint64_t buf)
{
	return hc64(__HYPERVISOR_console_io, cmd, count, buf);
}

static void test_console_write(void **state)
{
	put_guest(BUF, "hello\nworld", 11);
	assert_int_equal(console(CONSOLEIO_write, 11, BUF), 0);    /* 0, not the count */
	assert_true(fake_console_has("[vm0] hello\n"));
	assert_false(fake_console_has("world"));                   /* a partial line waits */
	assert_int_equal(vm->con_len, 5);
	assert_memory_equal(vm->con_line, "world", 5);
	/* a line longer than one 128-byte chunk arrives whole */
	char line[151];
	for (size_t i = 0; i < 150; i++)
		line[i] = (char)('a' + i % 26);
	line[150] = '\n';
	put_guest(BUF + 0x100, line, sizeof(line));
	assert_int_equal(console(CONSOLEIO_write, sizeof(line), BUF + 0x100), 0);
	char want[170] = "[vm0] world";
	memcpy(want + 11, line, sizeof(line));
	want[11 + sizeof(line)] = 0;
	assert_true(fake_console_has(want));
	/* count is an unsigned int: bits 63:32 of RSI do not count */
	assert_int_equal(console(CONSOLEIO_write, HI(1) | 3, BUF), 0);
	assert_int_equal(vm->con_len, 3);
}

/* A long write is continued every 1024 bytes: RIP stays, count and buffer moved on (console.c's preemption). */
static void test_console_write_continued(void **state)
{
	char text[2600];
	for (size_t i = 0; i < sizeof(text); i++)
		text[i] = (i % 100 == 99) ? '\n' : (char)('a' + i % 26);
	put_guest(BUF, text, sizeof(text));
	v->regs.gpr[X86_RAX] = 0;
	console(CONSOLEIO_write, sizeof(text), BUF);
	assert_int_equal(v->regs.rip, RIP0);
	assert_int_equal(v->regs.gpr[X86_RSI], sizeof(text) - 1024);
	assert_int_equal(v->regs.gpr[X86_RDX], BUF + 1024);
	assert_int_equal(v->regs.gpr[X86_RAX], __HYPERVISOR_console_io);   /* no result yet */
	for (int entries = 1; v->regs.rip == RIP0; entries++) {
		assert_true(entries <= 3);
		trap(v, MODE_64, 0, HC_INSN_VMMCALL);                          /* the guest runs the call again */
	}
	assert_int_equal(v->regs.gpr[X86_RAX], 0);
	assert_int_equal(v->regs.rip, RIP0 + ILEN);
	char line[120] = "[vm0] ";
	memcpy(line + 6, text + 2500, 100);
	line[106] = 0;
	assert_true(fake_console_has(line));                               /* the last line, whole */
}

static void test_console_write_count_zero(void **state)
{
	assert_int_equal(console(CONSOLEIO_write, 0, BUF), 0);
	assert_int_equal(console(CONSOLEIO_write, 0, UINT64_MAX), 0);   /* nothing to copy, no fault */
	assert_int_equal(console(CONSOLEIO_write, HI(1), RAM), 0);      /* count 0 after truncation */
	assert_int_equal(vm->con_len, 0);
	assert_string_equal(fake_console_text(), "");
}

static void test_console_write_efault(void **state)
{
	memset(hva(RAM - 200), 'x', 200);
	assert_int_equal(console(CONSOLEIO_write, 1, RAM), ERR64(XEN_EFAULT));
	assert_int_equal(console(CONSOLEIO_write, 20, RAM - 10), ERR64(XEN_EFAULT));
	assert_int_equal(vm->con_len, 0);                          /* one chunk: copied whole or not at all */
	assert_string_equal(fake_console_text(), "");
	/* several chunks: those before the bad one may be out, never a byte past RAM */
	assert_int_equal(console(CONSOLEIO_write, 300, RAM - 200), ERR64(XEN_EFAULT));
	assert_true(vm->con_len <= 200);
	assert_false(fake_console_has("[vm0]"));
	assert_int_equal(console(CONSOLEIO_write, 16, UINT64_MAX - 7), ERR64(XEN_EFAULT));
}

static void test_console_read_and_unknown(void **state)
{
	/* read: the number of bytes read; a guest never has input */
	assert_int_equal(console(CONSOLEIO_read, 100, BUF), 0);
	assert_int_equal(hc32(__HYPERVISOR_console_io, CONSOLEIO_read, 100, BUF), 0);
	assert_untouched(BUF, 100);
	static const uint64_t cmds[] = { 2, 3, 0x7fffffff, 0xffffffffull };
	for (size_t i = 0; i < ARRAY_SIZE(cmds); i++)
		assert_int_equal(console(cmds[i], 3, BUF), ERR64(XEN_ENOSYS));
	assert_int_equal(vm->con_len, 0);
}

/* ---- sched_op (sched/core.c do_sched_op, sched.h) ---- */

static uint64_t sched_op(uint64_t cmd, uint64_t arg)
{
	return hc64(__HYPERVISOR_sched_op, cmd, arg, 0);
}

static void test_sched_yield(void **state)
{
	assert_int_equal(sched_op(SCHEDOP_yield, 0), 0);
	assert_ptr_equal(vm->yield_to, v2);                        /* the other runnable vCPU runs next */
	vm->yield_to = NULL;
	v2->state = VCPU_HALTED;
	assert_int_equal(sched_op(SCHEDOP_yield, UINT64_MAX), 0); /* arg unused */
	assert_null(vm->yield_to);
	assert_false(vm_ended(vm));
	assert_int_equal(v->regs.rip, RIP0 + 2 * ILEN);
}

/*
 * struct sched_shutdown { unsigned int reason; }, SHUTDOWN_* 0-5; Xen takes
 * any reason, as a byte: domain_shutdown(d, (u8)reason). How each ends the
 * VM is our choice (no toolstack): see hypercalls/xen/xen.c.
 */
static void test_sched_shutdown_reasons(void **state)
{
	static const struct { uint32_t reason; enum vm_end end; uint32_t status; const char *name; } cases[] = {
		{ 0, VM_END_EXIT, 0, "poweroff" }, { 1, VM_END_RESET, 1, "reboot" },
		{ 2, VM_END_EXIT, 2, "suspend" }, { 3, VM_END_GUEST_CRASH, 3, "crash" },
		{ 4, VM_END_EXIT, 4, "watchdog" }, { 5, VM_END_EXIT, 5, "soft_reset" },
		{ 6, VM_END_EXIT, 6, "reason 6" }, { 0xff, VM_END_EXIT, 0xff, "reason 255" },
		{ 0x100, VM_END_EXIT, 0, "poweroff" }, { 0xffffff03, VM_END_GUEST_CRASH, 3, "crash" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		teardown(NULL);
		setup(NULL);
		put_guest(BUF, &cases[i].reason, 4);
		assert_int_equal(sched_op(SCHEDOP_shutdown, BUF), 0);
		assert_int_equal(v->regs.rip, RIP0 + ILEN);
		char reason[64], line[128];
		snprintf(reason, sizeof(reason), "vcpu0: SCHEDOP_shutdown %s", cases[i].name);
		snprintf(line, sizeof(line), "vm0: %s: %s\n", vm_end_name(cases[i].end), reason);
		if (!vm_ended(vm) || vm->end != cases[i].end || vm->exit_status != cases[i].status ||
		    strcmp(vm->end_reason, reason) || !fake_console_has(line))
			fail_fmt("reason 0x%x: ended %d how %d status %u \"%s\"; console:\n%s", cases[i].reason,
			         vm_ended(vm), vm->end, vm->exit_status, vm->end_reason, fake_console_text());
	}
}

static void test_sched_shutdown_32bit_other_vcpu(void **state)
{
	uint32_t reason[2] = { SHUTDOWN_crash, 0xff };             /* only 4 bytes are the struct */
	put_guest(BUF, reason, sizeof(reason));
	assert_int_equal(hc_on(v2, MODE_PROT32, 0, __HYPERVISOR_sched_op, HI(5) | SCHEDOP_shutdown,
	                       HI(0xabcd) | BUF, 0), 0);
	assert_true(vm_ended(vm));
	assert_int_equal(vm->end, VM_END_GUEST_CRASH);
	assert_string_equal(vm->end_reason, "vcpu1: SCHEDOP_shutdown crash");
}

/* Device-model and hardware-domain calls: refused (XSM_DM_PRIV, pin_override's hwdom check). */
static void test_sched_privileged_eperm(void **state)
{
	/* struct sched_remote_shutdown { domid_t domain_id; unsigned int reason; }: 8 bytes, read first */
	uint32_t rs[2] = { 1, SHUTDOWN_poweroff };
	put_guest(BUF, rs, sizeof(rs));
	assert_int_equal(sched_op(SCHEDOP_remote_shutdown, BUF), ERR64(XEN_EPERM));
	assert_int_equal(sched_op(SCHEDOP_remote_shutdown, RAM), ERR64(XEN_EFAULT));
	assert_int_equal(sched_op(SCHEDOP_remote_shutdown, RAM - 4), ERR64(XEN_EFAULT));
	assert_int_equal(sched_op(SCHEDOP_pin_override, BUF), ERR64(XEN_EPERM));
	assert_false(vm_ended(vm));
	assert_int_equal(v->regs.rip, RIP0 + 4 * ILEN);
}

static void test_sched_shutdown_efault(void **state)
{
	static const uint64_t bad[] = { RAM, RAM - 2, 0xfee00000ull, UINT64_MAX, UINT64_MAX - 1 };
	memset(hva(RAM - 4), 0, 4);                                /* reason 0 in RAM's last 4 bytes */
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		assert_int_equal(sched_op(SCHEDOP_shutdown, bad[i]), ERR64(XEN_EFAULT));
	assert_false(vm_ended(vm));
	assert_int_equal(sched_op(SCHEDOP_shutdown, RAM - 4), 0);
	assert_true(vm_ended(vm));
	assert_int_equal(vm->end, VM_END_EXIT);
	assert_int_equal(vm->exit_status, 0);
}

static void test_sched_unknown(void **state)
{
	/* shutdown_code 5 and watchdog 6 are not offered; 8 and up are not defined (sched.h) */
	static const uint64_t cmds[] = { 5, 6, 8, 0x7fffffff, 0xffffffffull };
	uint32_t poweroff = 0;
	put_guest(BUF, &poweroff, 4);
	for (size_t i = 0; i < ARRAY_SIZE(cmds); i++)
		assert_int_equal(sched_op(cmds[i], BUF), ERR64(XEN_ENOSYS));
	assert_false(vm_ended(vm));
	assert_null(vm->yield_to);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_register_maps),
		T(test_convention_64bit),
		T(test_convention_32bit_truncates),
		T(test_cpl_eperm),
		T(test_unknown_numbers_enosys),
		T(test_cpuid_leaves),
		T(test_hypercall_page),
		T(test_hypercall_page_gp),
		T(test_version_number),
		T(test_version_strings),
		T(test_version_structs),
		T(test_version_get_features),
		T(test_version_efault),
		T(test_version_unknown),
		T(test_subop_is_32_bits),
		T(test_console_write),
		T(test_console_write_continued),
		T(test_console_write_count_zero),
		T(test_console_write_efault),
		T(test_console_read_and_unknown),
		T(test_sched_yield),
		T(test_sched_shutdown_reasons),
		T(test_sched_shutdown_32bit_other_vcpu),
		T(test_sched_privileged_eperm),
		T(test_sched_shutdown_efault),
		T(test_sched_unknown),
	};
	return cmocka_run_group_tests_name("xen", tests, NULL, NULL);
}
