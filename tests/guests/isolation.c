/*
 * Two VMs at once (tests/configs/isolation.cfg): the attacker (64-bit, every
 * ABI and the project's calls: abi=hyperv,xen,kvm ext=on) hands every
 * pointer-taking call of every ABI guest-physical addresses that are not its
 * memory: just past its RAM, across its end, every MiB of the host's RAM
 * (so also wherever the other VM's frames are), far above it, the APIC page.
 * Every one must fail. The canary (32-bit, Xen) fills most of its RAM with a
 * pattern before the attacker starts, waits for its "done" event and checks
 * the pattern. The hypervisor compares its own code's hash at start and end.
 *   isolation.kvm_pointers, .hyperv_pointers, .xen_pointers, .ext_pointers
 *                   (the attacker: the calls that took a bad GPA and did not fail)
 *   isolation.canary (the canary: its memory as it was)
 */
#include "guest.h"
#include "smp.h"
#include "xen.h"

#define SUITE "isolation"
#define MIB (1024ul * 1024)
#define RAM_SIZE (16 * MIB)
#define HOST_RAM_MAX (256 * MIB)               /* QEMU -m 256 (Bochs has 128) */
#define CANARY_WORDS (6 * MIB / 4)             /* 6 MiB of the canary's 16 */
#define PEER_WAIT_MS 300000

uint64_t hv_call_page_gpa(uint64_t input, uint64_t in_gpa, uint64_t out_gpa);
bool hv_page_enable(void);

/* ---- the bad addresses ---- */

static const uint64_t fixed_bad[] = {
	RAM_SIZE, RAM_SIZE - 4, RAM_SIZE + 0x1000, 0xfee00000ull, 0xfffff000ull, 1ull << 36, 1ull << 47,
	0x000ffffffffff000ull, 0xfffffffffffff000ull,
};
#define NR_SWEEP ((HOST_RAM_MAX - RAM_SIZE) / MIB)
#define NR_BAD (sizeof(fixed_bad) / sizeof(fixed_bad[0]) + NR_SWEEP)

static uint64_t bad(unsigned int i)
{
	unsigned int nf = sizeof(fixed_bad) / sizeof(fixed_bad[0]);
	return i < nf ? fixed_bad[i] : RAM_SIZE + (uint64_t)(i - nf) * MIB + 0x800;   /* inside each MiB */
}

/* For calls that take a page: the page at or above g (RAM_SIZE - 4 is a byte range's bad address, not a page's). */
static uint64_t page_of(uint64_t g)
{
	return g + 0xfff < g ? g & ~0xfffull : (g + 0xfff) & ~0xfffull;
}

/* The TSC rate from Xen's leaf base+3 (ECX: kHz), for the waits. */
static void tsc_rate(uint32_t xen_base)
{
	uint32_t r[4];
	cpuid_count(xen_base + 3, 0, r);
	if (r[2]) {
		smp.tsc_per_ms = r[2];
		smp.tsc_known = true;
	}
}

/* One check's tally: calls that took a bad address and still succeeded. */
static unsigned int wrong, tried;
static uint64_t wrong_gpa;
static const char *wrong_call;

static void expect_failed(const char *call, uint64_t gpa, bool failed)
{
	tried++;
	if (!failed && !wrong++) {
		wrong_gpa = gpa;
		wrong_call = call;
	}
}

static void report(const char *name)
{
	if (wrong)
		check_fail("%u of %u calls succeeded with an address not ours (first: %s at 0x%llx)", wrong, tried,
		           wrong_call, (unsigned long long)wrong_gpa);
	print("INFO " SUITE ".%s %u calls with bad addresses\n", name, tried);
	check_done(SUITE, name);
	wrong = tried = 0;
}

/* ---- KVM (direct: the last ABI) ---- */

#define KVM_HC_CLOCK_PAIRING 9
#define KVM_HC_MAP_GPA_RANGE 12
static const uint32_t kvm_msrs[] = { 0x4b564d01 /* SYSTEM_TIME_NEW */, 0x4b564d00 /* WALL_CLOCK_NEW */,
                                     0x4b564d03 /* STEAL_TIME */, 0x4b564d04 /* PV_EOI_EN */ };

static ulong direct(ulong nr, ulong a0, ulong a1, ulong a2)
{
	static uint8_t stub[4] __attribute__((aligned(16)));
	memcpy(stub, xen_vendor_insn(), 3);
	stub[3] = 0xc3;
	/* KVM: RBX, RCX, RDX */
	__asm__ volatile("call *%[s]" : "+a"(nr), "+b"(a0), "+c"(a1), "+d"(a2) : [s] "r"(stub) : "memory", "cc");
	return nr;
}

/* Each MSR given the address (enabled), then 0 again; a #GP is as good an answer as any. */
static void poke_msrs(const uint32_t *msrs, unsigned int n, uint64_t val)
{
	for (unsigned int m = 0; m < n; m++) {
		wrmsr_probe(msrs[m], val);
		wrmsr_probe(msrs[m], 0);
	}
}

static void kvm_pointers(void)
{
	for (unsigned int i = 0; i < NR_BAD; i++) {
		uint64_t g = bad(i);
		expect_failed("KVM_HC_CLOCK_PAIRING", g, direct(KVM_HC_CLOCK_PAIRING, (ulong)g, 0, 0) != 0);
		expect_failed("KVM_HC_MAP_GPA_RANGE", g, direct(KVM_HC_MAP_GPA_RANGE, (ulong)page_of(g), 1, 0) != 0);
		/* MSRs take any address (KVM does): the hypervisor must just never write there */
		poke_msrs(kvm_msrs, sizeof(kvm_msrs) / sizeof(kvm_msrs[0]), (g & ~0x3full) | 1);
	}
	report("kvm_pointers");
}

/* ---- Hyper-V (its page) ---- */

#define HVCALL_FLUSH_VIRTUAL_ADDRESS_SPACE 0x0002
#define HVCALL_GET_VP_REGISTERS 0x0050
#define HVCALL_POST_MESSAGE 0x005c
#define HVCALL_SIGNAL_EVENT 0x005d
static const uint32_t hv_msrs[] = { 0x40000021 /* REFERENCE_TSC */, 0x40000082 /* SIEFP */,
                                    0x40000083 /* SIMP */, 0x40000073 /* VP_ASSIST_PAGE */ };

static void hyperv_pointers(void)
{
	if (!hv_page_enable()) {
		check_fail("no Hyper-V page");
		check_done(SUITE, "hyperv_pointers");
		return;
	}
	static uint8_t ok_page[4096] __attribute__((aligned(4096)));
	for (unsigned int i = 0; i < NR_BAD; i++) {
		uint64_t g = bad(i) & ~7ull;
		expect_failed("FlushVirtualAddressSpace", g, hv_call_page_gpa(HVCALL_FLUSH_VIRTUAL_ADDRESS_SPACE, g, 0) != 0);
		expect_failed("GetVpRegisters in", g, (hv_call_page_gpa(HVCALL_GET_VP_REGISTERS | 1ull << 32, g, (ulong)ok_page) & 0xffff) != 0);
		expect_failed("GetVpRegisters out", g, (hv_call_page_gpa(HVCALL_GET_VP_REGISTERS | 1ull << 32, (ulong)ok_page, g) & 0xffff) != 0);
		expect_failed("PostMessage", g, hv_call_page_gpa(HVCALL_POST_MESSAGE, g, 0) != 0);
		expect_failed("SignalEvent", g, hv_call_page_gpa(HVCALL_SIGNAL_EVENT, g, 0) != 0);
		poke_msrs(hv_msrs, sizeof(hv_msrs) / sizeof(hv_msrs[0]), (g & ~0xfffull) | 1);
	}
	report("hyperv_pointers");
}

/* ---- Xen (its page) ---- */

#define __HYPERVISOR_grant_table_op 20
#define __HYPERVISOR_multicall 13
#define XENVER_extraversion 1
#define XENVER_compile_info 2
#define CONSOLEIO_write 0
#define XENMEM_add_to_physmap 7
#define XENMEM_decrease_reservation 1
#define XENMEM_memory_map 9
#define EVTCHNOP_alloc_unbound 6
#define EVTCHNOP_status 5
#define SCHEDOP_poll 3
#define VCPUOP_register_vcpu_info 10
#define VCPUOP_register_runstate_memory_area 5
#define HVMOP_get_param 1
#define GNTTABOP_query_size 6
#define GNTTABOP_copy 5

static void xen_pointers(void)
{
	uint32_t r[4];
	cpuid_count(0x40000102, 0, r);                     /* Xen is second: its MSR beside Hyper-V */
	if (!xen_page_at(r[1])) {
		check_fail("no Xen page (MSR 0x%x)", r[1]);
		check_done(SUITE, "xen_pointers");
		return;
	}
	for (unsigned int i = 0; i < NR_BAD; i++) {
		ulong g = (ulong)bad(i);
		expect_failed("xen_version extraversion", g, xen_hc(__HYPERVISOR_xen_version, XENVER_extraversion, g, 0) != 0);
		expect_failed("xen_version compile_info", g, xen_hc(__HYPERVISOR_xen_version, XENVER_compile_info, g, 0) != 0);
		expect_failed("console_io write", g, xen_hc(__HYPERVISOR_console_io, CONSOLEIO_write, 8, g) != 0);
		expect_failed("memory_op add_to_physmap", g, xen_hc(__HYPERVISOR_memory_op, XENMEM_add_to_physmap, g, 0) != 0);
		expect_failed("memory_op decrease_reservation", g, xen_hc(__HYPERVISOR_memory_op, XENMEM_decrease_reservation, g, 0) != 0);
		expect_failed("memory_op memory_map", g, xen_hc(__HYPERVISOR_memory_op, XENMEM_memory_map, g, 0) != 0);
		expect_failed("event_channel_op alloc_unbound", g, xen_hc(__HYPERVISOR_event_channel_op, EVTCHNOP_alloc_unbound, g, 0) != 0);
		expect_failed("event_channel_op status", g, xen_hc(__HYPERVISOR_event_channel_op, EVTCHNOP_status, g, 0) != 0);
		expect_failed("sched_op poll", g, xen_hc(__HYPERVISOR_sched_op, SCHEDOP_poll, g, 0) != 0);
		expect_failed("vcpu_op register_vcpu_info", g, xen_hc(__HYPERVISOR_vcpu_op, VCPUOP_register_vcpu_info, 0, g) != 0);
		expect_failed("vcpu_op register_runstate", g, xen_hc(__HYPERVISOR_vcpu_op, VCPUOP_register_runstate_memory_area, 0, g) != 0);
		expect_failed("hvm_op get_param", g, xen_hc(__HYPERVISOR_hvm_op, HVMOP_get_param, g, 0) != 0);
		expect_failed("grant_table_op query_size", g, xen_hc(__HYPERVISOR_grant_table_op, GNTTABOP_query_size, g, 1) != 0);
		expect_failed("grant_table_op copy", g, xen_hc(__HYPERVISOR_grant_table_op, GNTTABOP_copy, g, 1) != 0);
		expect_failed("multicall", g, xen_hc(__HYPERVISOR_multicall, g, 1, 0) != 0);
	}
	report("xen_pointers");
}

/* ---- the project's calls (ext=on) ---- */

static void ext_pointers(void)
{
	for (unsigned int i = 0; i < NR_BAD; i++) {
		uint64_t g = bad(i);
		expect_failed("ext debug_log", g, (long)direct(0x4d480000, (ulong)g, 8, 0) < 0);
		expect_failed("ext unmap_gpa_range", g, direct(0x4d480001, (ulong)page_of(g), 1, 0) != 0);
		expect_failed("ext mem_attributes", g, direct(0x4d480002, (ulong)page_of(g), 1, 1) != 0);
	}
	report("ext_pointers");
}

/* ---- the two sides ---- */

#define EVTCHNOP_bind_interdomain 0
#define EVTCHNOP_send 4

/* Done: tell the canary (domain `peer`) through the port it offers us. */
void isolation_tell_done(unsigned int peer)
{
	uint32_t port = 0;
	uint64_t deadline = tsc_after_ms(PEER_WAIT_MS);
	while (!port && !tsc_passed(deadline))
		for (uint32_t p = 1; p < 64 && !port; p++) {
			struct { uint16_t dom; uint32_t remote_port, local_port; } b = { (uint16_t)peer, p, 0 };
			if (!xen_hc(__HYPERVISOR_event_channel_op, EVTCHNOP_bind_interdomain, (ulong)&b, 0))
				port = b.local_port;
		}
	if (!port || xen_hc(__HYPERVISOR_event_channel_op, EVTCHNOP_send, (ulong)&port, 0))
		print("INFO " SUITE " could not tell domain %u we are done\n", peer);
}

static void attacker(unsigned int peer)
{
	kvm_pointers();
	hyperv_pointers();
	xen_pointers();
	ext_pointers();
	isolation_tell_done(peer);
}

static uint32_t canary[CANARY_WORDS];
static uint8_t shinfo[4096] __attribute__((aligned(4096)));

static uint32_t canary_word(unsigned int i) { return i * 2654435761u ^ 0x5a17c0deu; }

#define MAX_PEERS 4

/* The canary: domains peer .. peer + npeers - 1 attack; each says when it is done. */
static void canary_side(unsigned int peer, unsigned int npeers)
{
	for (unsigned int i = 0; i < CANARY_WORDS; i++)
		canary[i] = canary_word(i);
	struct { uint16_t domid, size; uint32_t space; ulong idx, gpfn; } x = { 0x7ff0, 0, 0, 0, (ulong)shinfo >> 12 };
	uint32_t ports[MAX_PEERS];
	bool told[MAX_PEERS] = { false };
	npeers = npeers < 1 ? 1 : npeers > MAX_PEERS ? MAX_PEERS : npeers;
	if (xen_hc(__HYPERVISOR_memory_op, 7, (ulong)&x, 0)) {
		check_fail("no shared_info");
		goto out;
	}
	for (unsigned int i = 0; i < npeers; i++) {
		struct { uint16_t dom, remote; uint32_t port; } a = { 0x7ff0, (uint16_t)(peer + i), 0 };
		if (xen_hc(__HYPERVISOR_event_channel_op, 6, (ulong)&a, 0)) {
			check_fail("no port for domain %u", peer + i);
			goto out;
		}
		ports[i] = a.port;
	}
	/*
	 * An attacker binds only when it is done, and its bind raises our end
	 * (Xen does), as its send does: the two may come as one event.
	 */
	volatile ulong *pending = (volatile ulong *)(shinfo + 0x800);
	unsigned int bits = 8 * sizeof(ulong), done = 0;
	uint64_t deadline = tsc_after_ms(PEER_WAIT_MS);
	while (done < npeers && !tsc_passed(deadline)) {
		for (unsigned int i = 0; i < npeers; i++) {
			ulong bit = 1ul << (ports[i] % bits);
			if (!told[i] && (pending[ports[i] / bits] & bit)) {
				__atomic_fetch_and(&pending[ports[i] / bits], ~bit, __ATOMIC_SEQ_CST);
				told[i] = true;
				done++;
			}
		}
		if (done == npeers)
			break;
		/* no upcall is set up: forget its flag and selector, so the poll sleeps until a port is pending */
		memset(shinfo, 0, 2 * sizeof(ulong));
		struct { uint32_t *ports; uint32_t nr; uint64_t timeout; } poll = { ports, npeers, 0 };
		xen_hc(__HYPERVISOR_sched_op, 3, (ulong)&poll, 0);   /* no timeout: until a port is pending */
	}
	if (done < npeers)
		check_fail("%u of %u attackers never said they were done", npeers - done, npeers);
	unsigned int bad_words = 0, first = 0;
	for (unsigned int i = 0; i < CANARY_WORDS; i++)
		if (canary[i] != canary_word(i) && !bad_words++)
			first = i;
	if (bad_words)
		check_fail("%u of %u words changed, the first at 0x%lx", bad_words, (unsigned int)CANARY_WORDS, (ulong)&canary[first]);
out:
	check_done(SUITE, "canary");
}

void isolation_checks(bool is_attacker, unsigned int peer, unsigned int npeers)
{
	tsc_rate(is_attacker ? 0x40000100u : 0x40000000u);   /* Xen's block: second beside Hyper-V, else first */
	if (is_attacker)
		attacker(peer);
	else
		canary_side(peer, npeers);
}
