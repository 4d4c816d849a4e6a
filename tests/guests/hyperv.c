/*
 * Checks for a VM that speaks the Hyper-V ABI (command line word "hyperv";
 * the hypervisor's abi=hyperv). Facts from the TLFS ("Feature and Interface
 * Discovery", "Hypercall Interface", "Partition Properties"), the same
 * numbers as Linux include/hyperv/hvgdk_mini.h.
 */
#include "guest.h"
#include "smp.h"

/* one suite name in both builds: the VM prefix of each line tells them apart */
#define HV_SUITE "hyperv"

#define HV_X64_MSR_GUEST_OS_ID    0x40000000u
#define HV_X64_MSR_HYPERCALL      0x40000001u
#define HV_X64_MSR_VP_INDEX       0x40000002u
#define HV_X64_MSR_TIME_REF_COUNT 0x40000020u
#define HV_X64_MSR_REFERENCE_TSC  0x40000021u
#define HV_X64_MSR_TSC_FREQUENCY  0x40000022u
/* A Linux-style guest OS ID (TLFS "Reporting the Guest OS Identity": open-source bit 63, Linux type 0x100) */
#define GUEST_OS_ID_LINUX 0x8100000000000000ull

#define HV_STATUS_SUCCESS                 0
#define HV_STATUS_INVALID_HYPERCALL_CODE  2
#define HV_STATUS_INVALID_HYPERCALL_INPUT 3
#define HVCALL_FLUSH_VIRTUAL_ADDRESS_SPACE 0x0002
#define HVCALL_FLUSH_VIRTUAL_ADDRESS_LIST  0x0003
#define HVCALL_NOTIFY_LONG_SPIN_WAIT      0x0008
#define HVCALL_SEND_IPI                   0x000b
#define HVCALL_SEND_IPI_EX                0x0015
#define HV_STATUS_INVALID_ALIGNMENT       4
#define HV_FLUSH_ALL_PROCESSORS           1ull
#define HV_GENERIC_SET_SPARSE_4K          0ull
#define HV_IPI_VECTOR                     0x61
#define HV_INPUT_FAST                     (1ull << 16)

static uint8_t hcall_page[4096] __attribute__((aligned(4096)));

/* The TLFS convention: input value, input GPA, output GPA; the result value. */
#ifdef __x86_64__
static uint64_t hv_call_at(const void *target, uint64_t input, uint64_t in_gpa, uint64_t out_gpa)
{
	uint64_t rax;
	register uint64_t r8 __asm__("r8") = out_gpa;
	__asm__ volatile("call *%[t]"
	                 : "=a"(rax), "+c"(input), "+d"(in_gpa), "+r"(r8)
	                 : [t] "r"(target)
	                 : "memory", "r9", "r10", "r11");
	return rax;
}
#else
static uint64_t hv_call_at(const void *target, uint64_t input, uint64_t in_gpa, uint64_t out_gpa)
{
	uint32_t eax = (uint32_t)input, edx = (uint32_t)(input >> 32);
	uint32_t ebx = (uint32_t)(in_gpa >> 32), ecx = (uint32_t)in_gpa;
	uint32_t edi = (uint32_t)(out_gpa >> 32), esi = (uint32_t)out_gpa;
	__asm__ volatile("call *%[t]"
	                 : "+a"(eax), "+d"(edx), "+b"(ebx), "+c"(ecx), "+D"(edi), "+S"(esi)
	                 : [t] "m"(target)
	                 : "memory");
	return (uint64_t)edx << 32 | eax;
}
#endif

/* Direct VMCALL / VMMCALL (no page): a small stub of each instruction and RET. */
static const uint8_t stub_vmcall[4] __attribute__((aligned(16))) = { 0x0f, 0x01, 0xc1, 0xc3 };
static const uint8_t stub_vmmcall[4] __attribute__((aligned(16))) = { 0x0f, 0x01, 0xd9, 0xc3 };

static void check_hv_cpuid(void)
{
	uint32_t r[4];
	cpuid(0x40000000, r);
	if (r[1] != 0x7263694d || r[2] != 0x666f736f || r[3] != 0x76482074)
		check_fail("0x40000000 ebx,ecx,edx 0x%x,0x%x,0x%x: not \"Microsoft Hv\"", r[1], r[2], r[3]);
	if (r[0] < 0x40000005)
		check_fail("max leaf 0x%x: Linux needs >= 0x40000005", r[0]);
	cpuid(0x40000001, r);
	if (r[0] != 0x31237648)
		check_fail("0x40000001 eax 0x%x: not \"Hv#1\"", r[0]);
	cpuid(0x40000003, r);
	if ((r[0] & 0x60) != 0x60)
		check_fail("0x40000003 eax 0x%x: HYPERCALL and VP_INDEX MSRs (bits 5, 6) missing", r[0]);
	/* a single-ABI VM is Hyper-V and nothing else */
	cpuid(0x40000100, r);
	if (r[0] | r[1] | r[2] | r[3])
		check_fail("0x40000100 is not empty: 0x%x", r[1]);
	check_done(HV_SUITE, "cpuid");
}

static void check_hv_hypercall_page(void)
{
	uint64_t val = ~0ull;
	/* ignored while the guest OS ID is 0 (TLFS) */
	if (wrmsr_probe(HV_X64_MSR_HYPERCALL, (ulong)hcall_page | 1) || rdmsr_probe(HV_X64_MSR_HYPERCALL, &val))
		check_fail("HYPERCALL MSR faulted before the OS ID");
	else if (val != 0 || hcall_page[0] != 0)
		check_fail("HYPERCALL MSR took 0x%llx before the OS ID was set", (unsigned long long)val);
	if (wrmsr_probe(HV_X64_MSR_GUEST_OS_ID, GUEST_OS_ID_LINUX) ||
	    wrmsr_probe(HV_X64_MSR_HYPERCALL, (ulong)hcall_page | 1) ||
	    rdmsr_probe(HV_X64_MSR_HYPERCALL, &val)) {
		check_fail("GUEST_OS_ID/HYPERCALL MSR faulted");
		goto out;
	}
	if (val != ((ulong)hcall_page | 1))
		check_fail("HYPERCALL MSR reads 0x%llx", (unsigned long long)val);
	bool vmcall = hcall_page[2] == 0xc1, vmmcall = hcall_page[2] == 0xd9;
	if (hcall_page[0] != 0x0f || hcall_page[1] != 0x01 || !(vmcall || vmmcall) || hcall_page[3] != 0xc3)
		check_fail("page starts %02x %02x %02x %02x, want VMCALL or VMMCALL, RET",
		           hcall_page[0], hcall_page[1], hcall_page[2], hcall_page[3]);
	for (unsigned i = 4; i < sizeof(hcall_page); i++)
		if (hcall_page[i] != 0xcc && !(i >= 0x20 && i < 0x30) && !(i >= 0x40 && i < 0x50)) {   /* VTL entries */
			check_fail("page byte %u is 0x%x, want INT3", i, hcall_page[i]);
			break;
		}
out:
	check_done(HV_SUITE, "hypercall_page");
}

/* Status codes through a target (the page, or a direct instruction). */
static void calls_through(const void *target, const char *how)
{
	uint64_t r;
	if ((r = hv_call_at(target, 0x7fff, 0, 0)) != HV_STATUS_INVALID_HYPERCALL_CODE)
		check_fail("%s: unknown code gave 0x%llx, want 2", how, (unsigned long long)r);
	if ((r = hv_call_at(target, HVCALL_NOTIFY_LONG_SPIN_WAIT | HV_INPUT_FAST, 0, 0)) != HV_STATUS_SUCCESS)
		check_fail("%s: NotifyLongSpinWait gave 0x%llx, want 0", how, (unsigned long long)r);
	if ((r = hv_call_at(target, HVCALL_NOTIFY_LONG_SPIN_WAIT | (1ull << 27), 0, 0)) != HV_STATUS_INVALID_HYPERCALL_INPUT)
		check_fail("%s: reserved bit 27 gave 0x%llx, want 3", how, (unsigned long long)r);
	if ((r = hv_call_at(target, HVCALL_NOTIFY_LONG_SPIN_WAIT | (1ull << 61), 0, 0)) != HV_STATUS_INVALID_HYPERCALL_INPUT)
		check_fail("%s: reserved bit 61 gave 0x%llx, want 3", how, (unsigned long long)r);
	if ((r = hv_call_at(target, HVCALL_NOTIFY_LONG_SPIN_WAIT | (1ull << 32), 0, 0)) != HV_STATUS_INVALID_HYPERCALL_INPUT)
		check_fail("%s: rep count on a simple call gave 0x%llx, want 3", how, (unsigned long long)r);
}

static void check_hv_calls(void)
{
	if (hcall_page[3] != 0xc3)
		check_fail("no hypercall page");
	else
		calls_through(hcall_page, "page");
	check_done(HV_SUITE, "calls_via_page");
	calls_through(stub_vmcall, "VMCALL");
	calls_through(stub_vmmcall, "VMMCALL");
	check_done(HV_SUITE, "calls_direct");
}

static void check_hv_msrs(void)
{
	uint64_t idx = ~0ull, hz = 0, t0 = 0, t1 = 0;
	if (rdmsr_probe(HV_X64_MSR_VP_INDEX, &idx) || idx != 0)
		check_fail("VP_INDEX 0x%llx on the BSP, want 0", (unsigned long long)idx);
	if (!wrmsr_probe(HV_X64_MSR_VP_INDEX, 1))
		check_fail("VP_INDEX took a write");
	if (rdmsr_probe(HV_X64_MSR_TSC_FREQUENCY, &hz) || hz < 1000000)
		check_fail("TSC_FREQUENCY %llu", (unsigned long long)hz);
	/* TIME_REF_COUNT counts 100 ns: over ~2 ms of TSC it moves by 2 ms, give or take 20% */
	uint64_t tsc0 = rdtsc_ordered(), wait = udiv64(hz, 500);
	if (rdmsr_probe(HV_X64_MSR_TIME_REF_COUNT, &t0))
		check_fail("TIME_REF_COUNT faulted");
	while (rdtsc_ordered() - tsc0 < wait)
		;
	if (rdmsr_probe(HV_X64_MSR_TIME_REF_COUNT, &t1))
		check_fail("TIME_REF_COUNT faulted");
	uint64_t tsc1 = rdtsc_ordered();
	uint64_t want = udiv64((tsc1 - tsc0) * 10000, udiv64(hz, 1000));   /* TSC ticks in 100 ns units */
	if (t1 <= t0 || t1 - t0 < udiv64(want * 8, 10) || t1 - t0 > udiv64(want * 12, 10) + 10)
		check_fail("TIME_REF_COUNT moved %llu in %llu units of TSC time",
		           (unsigned long long)(t1 - t0), (unsigned long long)want);
	if (!wrmsr_probe(HV_X64_MSR_TIME_REF_COUNT, 0))
		check_fail("TIME_REF_COUNT took a write");
	check_done(HV_SUITE, "msrs");
}

static uint64_t hv_in[512] __attribute__((aligned(4096)));

/* Flushes through the page: status, reps completed (43:32), the alignment rule. */
static void check_hv_flush(void)
{
	uint64_t r;
	hv_in[0] = 0;
	hv_in[1] = HV_FLUSH_ALL_PROCESSORS;
	hv_in[2] = 0;
	if ((r = hv_call_at(hcall_page, HVCALL_FLUSH_VIRTUAL_ADDRESS_SPACE, (ulong)hv_in, 0)) != HV_STATUS_SUCCESS)
		check_fail("FlushVirtualAddressSpace gave 0x%llx", (unsigned long long)r);
	hv_in[1] = 0;
	hv_in[2] = 1;                                           /* VP 0: this one */
	for (unsigned i = 0; i < 3; i++)
		hv_in[3 + i] = (ulong)hcall_page + i * 4096;
	if ((r = hv_call_at(hcall_page, HVCALL_FLUSH_VIRTUAL_ADDRESS_LIST | 3ull << 32, (ulong)hv_in, 0)) !=
	    (HV_STATUS_SUCCESS | 3ull << 32))
		check_fail("FlushVirtualAddressList of 3 gave 0x%llx, want 3 reps completed", (unsigned long long)r);
	if ((r = hv_call_at(hcall_page, HVCALL_FLUSH_VIRTUAL_ADDRESS_SPACE, (ulong)hv_in + 4, 0)) !=
	    HV_STATUS_INVALID_ALIGNMENT)
		check_fail("input at a misaligned GPA gave 0x%llx, want 4", (unsigned long long)r);
	check_done(HV_SUITE, "flush");
}

/* A synthetic IPI to ourselves (VP 0) arrives through the local APIC, in both forms. */
static void check_hv_send_ipi(void)
{
	uint64_t r;
	const char *why = lapic_absent_reason();
	if (why) {
		check_fail("%s", why);
		goto out;
	}
	lapic_local_init();
	irq_disable();
	uint32_t before = cpus[0].irqs[HV_IPI_VECTOR];
	if ((r = hv_call_at(hcall_page, HVCALL_SEND_IPI | HV_INPUT_FAST, HV_IPI_VECTOR, 1)) != HV_STATUS_SUCCESS)
		check_fail("SendSyntheticClusterIpi gave 0x%llx", (unsigned long long)r);
	hv_in[0] = HV_IPI_VECTOR;
	hv_in[1] = HV_GENERIC_SET_SPARSE_4K;
	hv_in[2] = 1;                                           /* bank 0 */
	hv_in[3] = 1;                                           /* VP 0 */
	irq_enable();
	__asm__ volatile("nop");
	irq_disable();
	if ((r = hv_call_at(hcall_page, HVCALL_SEND_IPI_EX | 1ull << 17, (ulong)hv_in, 0)) != HV_STATUS_SUCCESS)
		check_fail("SendSyntheticClusterIpiEx gave 0x%llx", (unsigned long long)r);
	irq_enable();
	__asm__ volatile("nop");
	irq_disable();
	if (cpus[0].irqs[HV_IPI_VECTOR] - before != 2)
		check_fail("vector 0x%x arrived %u times, want 2", HV_IPI_VECTOR, cpus[0].irqs[HV_IPI_VECTOR] - before);
	if ((r = hv_call_at(hcall_page, HVCALL_SEND_IPI | HV_INPUT_FAST, 0x0f, 1)) != HV_STATUS_INVALID_HYPERCALL_INPUT)
		check_fail("vector 0x0f gave 0x%llx, want 3", (unsigned long long)r);
out:
	check_done(HV_SUITE, "send_ipi");
}

/* TLFS "Partition Reference TSC Mechanism" */
static volatile struct {
	uint32_t sequence, reserved;
	uint64_t scale;
	int64_t offset;
} tsc_page __attribute__((aligned(4096)));

/* (a * b) >> 64 in 32-bit pieces: no 128-bit type in the 32-bit build */
static uint64_t mul_hi64(uint64_t a, uint64_t b)
{
	uint64_t al = (uint32_t)a, ah = a >> 32, bl = (uint32_t)b, bh = b >> 32;
	uint64_t ll = al * bl, lh = al * bh, hl = ah * bl, hh = ah * bh;
	uint64_t mid = (ll >> 32) + (uint32_t)lh + (uint32_t)hl;
	return hh + (lh >> 32) + (hl >> 32) + (mid >> 32);
}

/* The page's time agrees with TIME_REF_COUNT (or says "use the MSR": sequence 0). */
static void check_hv_reference_tsc(void)
{
	uint64_t val = 0, before, after;
	if (wrmsr_probe(HV_X64_MSR_REFERENCE_TSC, (ulong)&tsc_page | 1) ||
	    rdmsr_probe(HV_X64_MSR_REFERENCE_TSC, &val) || val != ((ulong)&tsc_page | 1)) {
		check_fail("REFERENCE_TSC MSR 0x%llx", (unsigned long long)val);
		goto out;
	}
	if (!tsc_page.sequence) {
		print("INFO " HV_SUITE ".reference_tsc sequence 0: no constant-rate TSC, the MSR is the clock\n");
		goto out;
	}
	rdmsr_probe(HV_X64_MSR_TIME_REF_COUNT, &before);
	uint64_t t = mul_hi64(rdtsc_ordered(), tsc_page.scale) + (uint64_t)tsc_page.offset;
	rdmsr_probe(HV_X64_MSR_TIME_REF_COUNT, &after);
	/* the two MSR reads are exits: allow 1 ms around them */
	if (t + 10000 < before || t > after + 10000)
		check_fail("page time %llu outside MSR readings %llu..%llu", (unsigned long long)t,
		           (unsigned long long)before, (unsigned long long)after);
out:
	check_done(HV_SUITE, "reference_tsc");
}

void hyperv_checks(void)
{
	check_hv_cpuid();
	check_hv_hypercall_page();
	check_hv_calls();
	check_hv_msrs();
	check_hv_reference_tsc();
	check_hv_flush();
	check_hv_send_ipi();
}
