/*
 * A VM that speaks several ABIs (abi=hyperv,kvm,xen and friends; docs/dispatch.md),
 * through the real dispatcher: the CPUID layout (ABI i at 0x40000000 + 0x100 i,
 * the maximum leaf moved with it; Xen's hypercall MSR at 0x40000200 beside
 * Hyper-V, ABI.md §4), MSRs reaching their ABI, and which ABI a call goes to:
 * the one whose hypercall page it was made from, else the one at the highest
 * CPUID base.
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
#include "hypercalls/xen/xen_abi.h"
#include "tests/fake_arch/fake_arch.h"
#include "tests/fake_arch/fake_test.h"

#define HV_PAGE 0x3000ull
#define XEN_PAGE 0x5000ull
#define ELSEWHERE 0x9000ull
#define KVM_ENOSYS (-1000)
#define XEN_VERSION_4_17 0x40011

static struct vm *vm;
static struct vcpu *v;

static void speak(const struct hc_abi *a, const struct hc_abi *b, const struct hc_abi *c)
{
	const struct hc_abi *list[3] = { a, b, c };
	hc_vm_set_abis(vm, list, c ? 3 : b ? 2 : 1);
}

static int setup(void **state)
{
	fake_arch_reset();
	time_init(2000000000ull, 0, 0);
	vm = fake_vm_new();
	fake_vm_add_slot(vm, 0, MiB(1), 0, 0);
	vm->mem_size = MiB(1);
	v = fake_vcpu_new(vm);
	fake.ctrl[0].efer = 1u << 10;            /* long mode */
	speak(&hyperv_abi, &kvm_abi, &xen_abi);
	return 0;
}

static int teardown(void **state)
{
	fake_cleanup();
	return 0;
}

static struct cpuid_regs leaf(uint32_t l)
{
	struct cpuid_regs r;
	assert_true(hc_cpuid(v, l, 0, &r));
	return r;
}

static void assert_signature(uint32_t l, const char *sig, uint32_t max)
{
	struct cpuid_regs r = leaf(l);
	char got[13] = { 0 };
	memcpy(got, &r.ebx, 4);
	memcpy(got + 4, &r.ecx, 4);
	memcpy(got + 8, &r.edx, 4);
	assert_memory_equal(got, sig, 12);
	assert_int_equal(r.eax, max);
}

static void test_cpuid_layout_three(void **state)
{
	assert_signature(0x40000000, "Microsoft Hv", HV_CPUID_MAX_LEAF);
	assert_int_equal(leaf(0x40000001).eax, 0x31237648);          /* "Hv#1" */
	assert_signature(0x40000100, "KVMKVMKVM\0\0\0", 0x40000101);
	assert_signature(0x40000200, "XenVMMXenVMM", 0x40000205);
	assert_int_equal(leaf(0x40000202).ebx, XEN_HYPERCALL_MSR_VIRIDIAN);
	struct cpuid_regs none = leaf(0x40000300);
	assert_true(!none.eax && !none.ebx && !none.ecx && !none.edx);
}

static void test_cpuid_layout_without_hyperv(void **state)
{
	speak(&xen_abi, &kvm_abi, NULL);
	assert_signature(0x40000000, "XenVMMXenVMM", 0x40000005);
	assert_int_equal(leaf(0x40000002).ebx, XEN_HYPERCALL_MSR);
	assert_signature(0x40000100, "KVMKVMKVM\0\0\0", 0x40000101);
	/* no Hyper-V: 0x40000001 is an MSR of nobody's */
	uint64_t val;
	assert_int_equal(hc_msr_read(v, HV_X64_MSR_HYPERCALL, &val), -ENOENT);
	assert_int_equal(hc_msr_write(v, XEN_HYPERCALL_MSR, XEN_PAGE), 0);   /* Xen's, at its usual place */
}

static void test_msrs_reach_their_abi(void **state)
{
	uint64_t val;
	/* 0x40000000 is Hyper-V's GUEST_OS_ID here, Xen's MSR is moved */
	assert_int_equal(hc_msr_write(v, HV_X64_MSR_GUEST_OS_ID, 0x1234), 0);
	assert_int_equal(vm->hc.hv.guest_os_id, 0x1234);
	assert_false(vm->hc.xen.page_written);
	assert_int_equal(hc_msr_write(v, XEN_HYPERCALL_MSR_VIRIDIAN, XEN_PAGE), 0);
	assert_true(vm->hc.xen.page_written);
	assert_int_equal(fake_vm_hva(vm, XEN_PAGE + 17 * 32)[0], 0xb8);  /* mov eax, 17 */
	assert_int_equal(hc_msr_read(v, 0x4b564d01, &val), 0);          /* MSR_KVM_SYSTEM_TIME_NEW */
	assert_int_equal(hc_msr_read(v, 0x40000300, &val), -ENOENT);
}

/* Both pages written: Hyper-V's at HV_PAGE, Xen's at XEN_PAGE. */
static void write_pages(void)
{
	assert_int_equal(hc_msr_write(v, HV_X64_MSR_GUEST_OS_ID, 0x8100000000000000ull), 0);
	assert_int_equal(hc_msr_write(v, HV_X64_MSR_HYPERCALL, HV_PAGE | HV_X64_MSR_HYPERCALL_ENABLE), 0);
	assert_int_equal(hc_msr_write(v, XEN_HYPERCALL_MSR_VIRIDIAN, XEN_PAGE), 0);
}

/* A call at rip with rax, rcx; what the guest gets back in RAX. */
static int64_t call_at(uint64_t rip, uint64_t rax, uint64_t rcx)
{
	v->regs.rip = rip;
	v->regs.gpr[X86_RAX] = rax;
	v->regs.gpr[X86_RCX] = rcx;
	v->regs.gpr[X86_RDI] = 0;                /* XENVER_version */
	struct vm_exit e = { .reason = VMEXIT_HYPERCALL, .insn_len = 3, .mode = MODE_64, .hc.insn = HC_INSN_VMMCALL };
	hc_dispatch(v, &e);
	return (int64_t)v->regs.gpr[X86_RAX];
}

static void test_calls_by_page_then_highest_base(void **state)
{
	write_pages();
	/* from Hyper-V's page: a Hyper-V call (an unknown code: its status) */
	assert_int_equal(call_at(HV_PAGE, 17, 0x7777), HV_STATUS_INVALID_HYPERCALL_CODE);
	/* from Xen's page: xen_version */
	assert_int_equal(call_at(XEN_PAGE + 17 * 32 + 5, 17, 0), XEN_VERSION_4_17);
	/* elsewhere: the ABI at the highest base, Xen here */
	assert_int_equal(call_at(ELSEWHERE, 17, 0), XEN_VERSION_4_17);
	/* with KVM last, direct calls are KVM's, and Xen's page still reaches Xen */
	speak(&hyperv_abi, &xen_abi, &kvm_abi);
	assert_int_equal(hc_msr_write(v, XEN_HYPERCALL_MSR_VIRIDIAN, XEN_PAGE), 0);
	assert_int_equal(call_at(ELSEWHERE, 17, 0), KVM_ENOSYS);
	assert_int_equal(call_at(ELSEWHERE, 1, 0), 0);                 /* KVM_HC_VAPIC_POLL_IRQ */
	assert_int_equal(call_at(XEN_PAGE + 17 * 32 + 5, 17, 0), XEN_VERSION_4_17);
	assert_int_equal(call_at(HV_PAGE, 1, 0x7777), HV_STATUS_INVALID_HYPERCALL_CODE);
	/* RIP that does not translate: a direct call */
	fake.virt_fault = true;
	assert_int_equal(call_at(HV_PAGE, 1, 0x7777), 0);
}

static void test_pages_on_one_gfn_hyperv_first(void **state)
{
	write_pages();
	assert_int_equal(hc_msr_write(v, XEN_HYPERCALL_MSR_VIRIDIAN, HV_PAGE), 0);
	assert_int_equal(call_at(HV_PAGE, 17, 0x7777), HV_STATUS_INVALID_HYPERCALL_CODE);
	/* Hyper-V's page turned off (OS ID 0): the page is Xen's alone */
	assert_int_equal(hc_msr_write(v, HV_X64_MSR_GUEST_OS_ID, 0), 0);
	assert_int_equal(call_at(HV_PAGE, 17, 0x7777), XEN_VERSION_4_17);
}

static void test_single_abi_takes_every_call(void **state)
{
	speak(&hyperv_abi, NULL, NULL);
	assert_int_equal(call_at(ELSEWHERE, 0, 0x7777), HV_STATUS_INVALID_HYPERCALL_CODE);
	speak(&kvm_abi, NULL, NULL);
	assert_int_equal(call_at(ELSEWHERE, 17, 0), KVM_ENOSYS);
	assert_true(hc_speaks(vm, &kvm_abi));
	assert_false(hc_speaks(vm, &xen_abi));
	vm->hc.nr_abis = 0;                      /* no abi=: KVM */
	assert_true(hc_speaks(vm, &kvm_abi));
	assert_signature(0x40000000, "KVMKVMKVM\0\0\0", 0x40000001);
	assert_int_equal(leaf(0x40000100).eax, 0);
}

/*
 * Every list abi= accepts (each ABI once, Hyper-V only first): the layout,
 * Xen's MSR, and where a call from each page and a direct call go.
 */
static void test_every_combination(void **state)
{
	const struct hc_abi *all[] = { &hyperv_abi, &kvm_abi, &xen_abi };
	static const char *const sig[] = { "Microsoft Hv", "KVMKVMKVM\0\0\0", "XenVMMXenVMM" };
	unsigned combos = 0;
	for (unsigned n = 1; n <= 3; n++)
		for (unsigned a = 0; a < 3; a++)
			for (unsigned b = 0; b < 3; b++)
				for (unsigned c = 0; c < 3; c++) {
					unsigned idx[3] = { a, b, c };
					bool ok = true;
					for (unsigned i = 0; i < n; i++)
						for (unsigned j = 0; j < i; j++)
							ok &= idx[i] != idx[j];
					for (unsigned i = 1; i < n; i++)
						ok &= idx[i] != 0;                 /* Hyper-V only first */
					if (!ok || (n < 2 && b) || (n < 3 && c))
						continue;
					teardown(state);
					setup(state);
					const struct hc_abi *list[3] = { all[a], all[b], all[c] };
					hc_vm_set_abis(vm, list, n);
					combos++;
					bool hv = idx[0] == 0, has_xen = false;
					for (unsigned i = 0; i < n; i++) {
						struct cpuid_regs r = leaf(0x40000000 + 0x100 * i);
						if (memcmp(&r.ebx, sig[idx[i]], 4) || memcmp(&r.edx, sig[idx[i]] + 8, 4))
							fail_fmt("list %u %u %u (n %u): block %u is not %s", a, b, c, n, i, sig[idx[i]]);
						if (idx[i] == 2) {
							has_xen = true;
							assert_int_equal(leaf(0x40000000 + 0x100 * i + 2).ebx,
							                 hv ? XEN_HYPERCALL_MSR_VIRIDIAN : XEN_HYPERCALL_MSR);
						}
					}
					assert_int_equal(leaf(0x40000000 + 0x100 * n).eax, 0);
					/* pages as the guest would set them up */
					if (hv) {
						assert_int_equal(hc_msr_write(v, HV_X64_MSR_GUEST_OS_ID, 1), 0);
						assert_int_equal(hc_msr_write(v, HV_X64_MSR_HYPERCALL, HV_PAGE | 1), 0);
						assert_int_equal(call_at(HV_PAGE, 17, 0x7777), HV_STATUS_INVALID_HYPERCALL_CODE);
					}
					if (has_xen) {
						assert_int_equal(hc_msr_write(v, hv ? XEN_HYPERCALL_MSR_VIRIDIAN : XEN_HYPERCALL_MSR,
						                              XEN_PAGE), 0);
						assert_int_equal(call_at(XEN_PAGE + 17 * 32 + 5, 17, 0), XEN_VERSION_4_17);
					}
					/* direct: the last ABI's answer to number 17 with an unknown code in RCX */
					int64_t want = idx[n - 1] == 2 ? XEN_VERSION_4_17 : idx[n - 1] == 1 ? KVM_ENOSYS
					               : HV_STATUS_INVALID_HYPERCALL_CODE;
					assert_int_equal(call_at(ELSEWHERE, 17, 0x7777), want);
				}
	assert_int_equal(combos, 9);          /* 3 alone, 4 pairs, 2 triples */
}

/*
 * A call that overwrites the page it was made from: from Xen's hypercall
 * page, add_to_physmap(shared_info) at that page's own gfn. Taken (the
 * stubs are gone: shared_info starts cleared), and calls from that gfn are
 * still Xen's, attributed by gfn, while a direct call goes to the last ABI.
 */
static void test_call_overwrites_its_own_page(void **state)
{
	speak(&hyperv_abi, &xen_abi, &kvm_abi);
	write_pages();
	assert_int_equal(fake_vm_hva(vm, XEN_PAGE + 12 * 32)[0], 0xb8);         /* mov eax, 12 */
	/* struct xen_add_to_physmap { domid, size; space; idx; gpfn } */
	uint8_t b[24] = { 0 };
	memcpy(b, &(uint16_t){ DOMID_SELF }, 2);
	memcpy(b + 4, &(uint32_t){ XENMAPSPACE_shared_info }, 4);
	memcpy(b + 16, &(uint64_t){ XEN_PAGE >> 12 }, 8);
	memcpy(fake_vm_hva(vm, ELSEWHERE), b, sizeof(b));
	v->regs.rip = XEN_PAGE + 12 * 32 + 5;
	v->regs.gpr[X86_RAX] = __HYPERVISOR_memory_op;
	v->regs.gpr[X86_RDI] = XENMEM_add_to_physmap;
	v->regs.gpr[X86_RSI] = ELSEWHERE;
	struct vm_exit e = { .reason = VMEXIT_HYPERCALL, .insn_len = 3, .mode = MODE_64, .hc.insn = HC_INSN_VMMCALL };
	hc_dispatch(v, &e);
	assert_int_equal(v->regs.gpr[X86_RAX], 0);
	assert_true(vm->hc.xen.shinfo_mapped);
	assert_int_equal(fake_vm_hva(vm, XEN_PAGE + 12 * 32)[0], 0);
	assert_int_equal(fake_vm_hva(vm, XEN_PAGE + 17 * 32)[0], 0);
	assert_int_equal(call_at(XEN_PAGE + 17 * 32 + 5, 17, 0), XEN_VERSION_4_17);
	assert_int_equal(call_at(ELSEWHERE, 17, 0), KVM_ENOSYS);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_cpuid_layout_three), T(test_cpuid_layout_without_hyperv), T(test_msrs_reach_their_abi),
		T(test_calls_by_page_then_highest_base), T(test_pages_on_one_gfn_hyperv_first),
		T(test_single_abi_takes_every_call), T(test_every_combination), T(test_call_overwrites_its_own_page),
	};
	return cmocka_run_group_tests_name("multi_abi", tests, NULL, NULL);
}
