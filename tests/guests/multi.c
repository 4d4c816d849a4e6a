/*
 * A VM that speaks several ABIs (abi=LIST; docs/dispatch.md), told its list by
 * the word abis=LIST (the same names, the same order):
 *   multi.cpuid_layout  ABI i's signature at 0x40000000 + 0x100 i, its maximum
 *                       leaf moved with it, nothing after the last; Xen's
 *                       hypercall MSR at 0x40000200 beside Hyper-V (ABI.md §4)
 *   multi.hyperv_page   Hyper-V reached through its hypercall page
 *   multi.xen_page      Xen reached through its hypercall page
 *   multi.direct        a direct VMCALL/VMMCALL reaches the ABI at the highest
 *                       base: xen_version answers only under Xen, and an
 *                       unknown number gets that ABI's own error
 * The calls of the three are made in one run, interleaved, so each attribution
 * holds while the others are in use. With the word "policy" the VM was given
 * deny=xen:memory_op,hyperv:0x2,kvm:send_ipi (multi.cfg):
 *   policy.deny         each denied call gets its ABI's permission error
 *                       (-EPERM, HV_STATUS_ACCESS_DENIED, -KVM_EPERM) and does
 *                       nothing; the calls around it still work
 */
#include "guest.h"
#include "smp.h"
#include "xen.h"

#define SUITE "multi"
#define MAX_ABIS 3
#define KVM_HC_VAPIC_POLL_IRQ 1
#define XEN_VERSION_4_17 0x40011ul
#define XENVER_version 0
#define HV_STATUS_SUCCESS 0
#define HV_STATUS_INVALID_HYPERCALL_CODE 2
#define HVCALL_NOTIFY_LONG_SPIN_WAIT 0x0008
#define HV_INPUT_FAST (1ull << 16)

enum abi { ABI_KVM, ABI_HYPERV, ABI_XEN };
static enum abi abis[MAX_ABIS];
static unsigned int nr_abis;
static bool has_hv, has_xen;

uint64_t hv_call_page(uint64_t input);
bool hv_page_enable(void);

/* "hyperv,xen,kvm" into abis[]; false if a name is unknown */
static bool parse(const char *list)
{
	static const struct { const char *name; enum abi abi; } names[] = {
		{ "kvm", ABI_KVM }, { "hyperv", ABI_HYPERV }, { "xen", ABI_XEN },
	};
	while (*list && nr_abis < MAX_ABIS) {
		size_t n = 0;
		while (list[n] && list[n] != ',' && list[n] != ' ')
			n++;
		bool known = false;
		for (unsigned int i = 0; i < 3; i++)
			if (strlen(names[i].name) == n && !memcmp(names[i].name, list, n)) {
				abis[nr_abis++] = names[i].abi;
				known = true;
			}
		if (!known)
			return false;
		list += n;
		if (*list != ',')
			break;
		list++;
	}
	return nr_abis > 0;
}

static uint32_t block_base(unsigned int i)
{
	return 0x40000000u + 0x100u * i;
}

static int block_of(enum abi a)
{
	for (unsigned int i = 0; i < nr_abis; i++)
		if (abis[i] == a)
			return (int)i;
	return -1;
}

static void check_cpuid_layout(void)
{
	static const char *const sig[] = { "KVMKVMKVM\0\0\0", "Microsoft Hv", "XenVMMXenVMM" };
	static const uint32_t max_off[] = { 1, 0xa, 5 };
	uint32_t r[4];
	for (unsigned int i = 0; i <= nr_abis; i++) {
		cpuid_count(block_base(i), 0, r);
		if (i == nr_abis) {
			if (r[0] | r[1] | r[2] | r[3])
				check_fail("0x%x after the last ABI: %x %x %x %x, want zeros", block_base(i), r[0], r[1], r[2], r[3]);
			break;
		}
		if (memcmp(&r[1], sig[abis[i]], 4) || memcmp(&r[2], sig[abis[i]] + 4, 4) || memcmp(&r[3], sig[abis[i]] + 8, 4))
			check_fail("0x%x: signature %x %x %x, not %s's", block_base(i), r[1], r[2], r[3],
			           abis[i] == ABI_KVM ? "KVM" : abis[i] == ABI_XEN ? "Xen" : "Hyper-V");
		if (r[0] != block_base(i) + max_off[abis[i]])
			check_fail("0x%x: max leaf 0x%x, want 0x%x", block_base(i), r[0], block_base(i) + max_off[abis[i]]);
	}
	int x = block_of(ABI_XEN);
	if (x >= 0) {
		cpuid_count(block_base((unsigned int)x) + 2, 0, r);
		uint32_t want = has_hv ? 0x40000200u : 0x40000000u;
		if (r[1] != want)
			check_fail("Xen's hypercall MSR 0x%x, want 0x%x", r[1], want);
	}
	check_done(SUITE, "cpuid_layout");
}

/* A direct call (the vendor's instruction, no page): what the ABI at the highest base says. */
static ulong direct(ulong nr, ulong a0)
{
	static uint8_t stub[4] __attribute__((aligned(16)));
	memcpy(stub, xen_vendor_insn(), 3);
	stub[3] = 0xc3;
	return xen_call_at(stub, nr, a0, 0, 0);
}

/* The last wrong answer seen, for the report. */
static ulong last_wrong;

/* The direct calls' answers as the ABI at the highest base gives them; mismatches counted. */
static unsigned int direct_calls(void)
{
	enum abi last = abis[nr_abis - 1];
	unsigned int bad = 0;
	ulong r = direct(__HYPERVISOR_xen_version, XENVER_version);
	if (last == ABI_XEN && r != XEN_VERSION_4_17)
		bad++, last_wrong = r;
	if (last == ABI_KVM && r != (ulong)-KVM_ENOSYS)
		bad++, last_wrong = r;
	if (last == ABI_KVM && (r = direct(KVM_HC_VAPIC_POLL_IRQ, 0)) != 0)
		bad++, last_wrong = r;
	if (last == ABI_XEN && (r = direct(0x7fff, 0)) != XEN_ENOSYS)
		bad++, last_wrong = r;
	return bad;
}

static unsigned int hv_calls(void)
{
	unsigned int bad = 0;
	uint64_t r = hv_call_page(0x7fff);
	if (r != HV_STATUS_INVALID_HYPERCALL_CODE)
		bad++, last_wrong = (ulong)r;
	r = hv_call_page(HVCALL_NOTIFY_LONG_SPIN_WAIT | HV_INPUT_FAST);
	if (r != HV_STATUS_SUCCESS)
		bad++, last_wrong = (ulong)r;
	return bad;
}

static unsigned int xen_calls(void)
{
	ulong r = xen_hc(__HYPERVISOR_xen_version, XENVER_version, 0, 0);
	if (r == XEN_VERSION_4_17 && fault_vector == NO_FAULT)
		return 0;
	last_wrong = r;
	return 1;
}

#define __HYPERVISOR_memory_op_ 12
#define XENMEM_current_reservation 3
#define HV_STATUS_ACCESS_DENIED 6
#define HVCALL_FLUSH_VIRTUAL_ADDRESS_SPACE 0x0002
#define KVM_HC_SEND_IPI 10

static void check_policy(void)
{
	uint16_t self = 0x7ff0;                         /* DOMID_SELF */
	if (has_xen)
		expect_xen("denied memory_op", xen_hc(__HYPERVISOR_memory_op_, XENMEM_current_reservation, (ulong)&self, 0),
		           XEN_EPERM);
	if (has_hv) {
		uint64_t r = hv_call_page(HVCALL_FLUSH_VIRTUAL_ADDRESS_SPACE | HV_INPUT_FAST);
		if (r != HV_STATUS_ACCESS_DENIED)
			check_fail("denied FlushVirtualAddressSpace gave 0x%llx, want 6", (unsigned long long)r);
		r = hv_call_page(HVCALL_NOTIFY_LONG_SPIN_WAIT | HV_INPUT_FAST);
		if (r != HV_STATUS_SUCCESS)
			check_fail("NotifyLongSpinWait beside a denied call gave 0x%llx", (unsigned long long)r);
	}
	if (abis[nr_abis - 1] == ABI_KVM) {
		ulong r = direct(KVM_HC_SEND_IPI, 1);
		if (r != (ulong)-1l)
			check_fail("denied KVM_HC_SEND_IPI gave 0x%lx, want -KVM_EPERM", r);
		if ((r = direct(KVM_HC_VAPIC_POLL_IRQ, 0)) != 0)
			check_fail("VAPIC_POLL_IRQ beside a denied call gave 0x%lx", r);
	}
	if (has_xen)
		expect_xen("xen_version beside a denied call", xen_hc(__HYPERVISOR_xen_version, XENVER_version, 0, 0),
		           XEN_VERSION_4_17);
	check_done("policy", "deny");
}

void multi_checks(const char *list, bool policy)
{
	if (!parse(list)) {
		check_fail("abis=: not a list of kvm, hyperv, xen");
		check_done(SUITE, "cpuid_layout");
		return;
	}
	has_hv = block_of(ABI_HYPERV) >= 0;
	has_xen = block_of(ABI_XEN) >= 0;
	check_cpuid_layout();
	bool hv_ok = has_hv && hv_page_enable();
	uint32_t r[4];
	if (has_xen)
		cpuid_count(block_base((unsigned int)block_of(ABI_XEN)) + 2, 0, r);
	bool xen_ok = has_xen && xen_page_at(r[1]);
	/*
	 * Each ABI in turn, three times over: attribution holds while the
	 * others are in use. A failure is reported under the check it belongs
	 * to: the rounds count them, the checks below report them.
	 */
	unsigned int hv_bad = 0, xen_bad = 0, direct_bad = 0;
	for (unsigned int round = 0; round < 3; round++) {
		hv_bad += has_hv && hv_ok ? hv_calls() : 0;
		xen_bad += has_xen && xen_ok ? xen_calls() : 0;
		direct_bad += direct_calls();
	}
	if (has_hv) {
		if (!hv_ok || hv_bad)
			check_fail("Hyper-V's page: %s, %u wrong answers (last 0x%lx)", hv_ok ? "written" : "not written",
			           hv_bad, last_wrong);
		check_done(SUITE, "hyperv_page");
	}
	if (has_xen) {
		if (!xen_ok || xen_bad)
			check_fail("Xen's page: %s, %u wrong answers (last 0x%lx)", xen_ok ? "written" : "not written",
			           xen_bad, last_wrong);
		check_done(SUITE, "xen_page");
	}
	if (direct_bad)
		check_fail("%u wrong answers to direct calls, last 0x%lx (the ABI at the highest base: %s)", direct_bad,
		           last_wrong, abis[nr_abis - 1] == ABI_XEN ? "xen" : abis[nr_abis - 1] == ABI_KVM ? "kvm" : "hyperv");
	check_done(SUITE, "direct");
	if (policy)
		check_policy();
}
