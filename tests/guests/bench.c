/*
 * The benchmark guest (guest word bench, `make bench`, docs/performance.md).
 * Under QEMU with -icount shift=0 (and Bochs with clock: sync=none) RDTSC
 * counts executed instructions, the hypervisor's included, so the TSC
 * delta around one call is its whole software round trip: exit, handler,
 * entry. Each figure is the median of ROUNDS measurements after a warm-up,
 * printed as
 *   BENCH <name> <median> <min> <max>
 * The delta includes the second RDTSC and, for calls through a hypercall
 * page, the page's CALL and RET (what a guest pays).
 */
#include "guest.h"
#include "xen.h"

#define ROUNDS 101
#define WARMUP 8

bool hv_page_enable(void);

static inline uint64_t tsc(void)
{
	uint32_t lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi) :: "memory");
	return (uint64_t)hi << 32 | lo;
}

/* One measured call: the registers it loads, where it goes (an instruction stub or a page entry). */
struct op {
	const char *name;
	const void *target;
	ulong ax, bx, cx, dx, si, di, r8;
};

static uint64_t once(const struct op *o)
{
	ulong ax = o->ax, bx = o->bx, cx = o->cx, dx = o->dx, si = o->si, di = o->di;
#ifdef __x86_64__
	register ulong r8 __asm__("r8") = o->r8;
#endif
	uint64_t t0 = tsc();
#ifdef __x86_64__
	__asm__ volatile("call *%[t]" : "+a"(ax), "+b"(bx), "+c"(cx), "+d"(dx), "+S"(si), "+D"(di), "+r"(r8)
	                 : [t] "r"(o->target) : "memory", "cc", "r9", "r10", "r11");
#else
	__asm__ volatile("call *%[t]" : "+a"(ax), "+b"(bx), "+c"(cx), "+d"(dx), "+S"(si), "+D"(di)
	                 : [t] "m"(o->target) : "memory", "cc");
#endif
	return tsc() - t0;
}

static void sort(uint64_t *v, unsigned n)
{
	for (unsigned i = 1; i < n; i++)
		for (unsigned j = i; j && v[j - 1] > v[j]; j--) {
			uint64_t t = v[j];
			v[j] = v[j - 1];
			v[j - 1] = t;
		}
}

static uint64_t report(const char *name, uint64_t *d)
{
	sort(d, ROUNDS);
	print("BENCH %s %llu %llu %llu\n", name, (unsigned long long)d[ROUNDS / 2], (unsigned long long)d[0],
	      (unsigned long long)d[ROUNDS - 1]);
	return d[ROUNDS / 2];
}

static uint64_t bench(const struct op *o)
{
	uint64_t d[ROUNDS];
	for (unsigned i = 0; i < WARMUP; i++)
		once(o);
	for (unsigned i = 0; i < ROUNDS; i++)
		d[i] = once(o);
	return report(o->name, d);
}

static const uint8_t insn_cpuid[3] __attribute__((aligned(16))) = { 0x0f, 0xa2, 0xc3 };
static const uint8_t insn_in_lsr[5] __attribute__((aligned(16))) = { 0x66, 0xba, 0xfd, 0x03, 0xec };  /* mov dx,0x3fd; in al,dx */
static uint8_t stub_io[8] __attribute__((aligned(16)));

/* What every VM measures: an exit that is not a hypercall. */
static void bench_exits(void)
{
	memcpy(stub_io, insn_in_lsr, sizeof(insn_in_lsr));
	stub_io[sizeof(insn_in_lsr)] = 0xc3;
	bench(&(struct op){ .name = "exit.cpuid", .target = insn_cpuid, .ax = 0 });
	bench(&(struct op){ .name = "exit.io_in", .target = stub_io });
	bench(&(struct op){ .name = "guest.empty_call", .target = insn_cpuid + 2 });    /* just CALL + RET: the harness's own cost */
}

/* KVM: the unknown-number call (-KVM_ENOSYS) and KVM_HC_VAPIC_POLL_IRQ, RAX; arguments RBX.. */
static void bench_kvm(void)
{
	bench(&(struct op){ .name = "kvm.null", .target = xen_vendor_insn(), .ax = 1000 });
	bench(&(struct op){ .name = "kvm.vapic_poll_irq", .target = xen_vendor_insn(), .ax = 1 });
}

#define HVCALL_FLUSH_VIRTUAL_ADDRESS_SPACE 0x0002
#define HVCALL_FLUSH_VIRTUAL_ADDRESS_LIST 0x0003
#define HV_FAST (1ull << 16)
#define HV_FLUSH_ALL (3ull)                     /* all processors, all address spaces */
static uint64_t hv_in[512] __attribute__((aligned(4096)));

/* Hyper-V through its page: RCX input value, RDX input GPA / first fast qword, R8 output GPA / second. */
static void bench_hyperv(void)
{
	if (!hv_page_enable()) {
		print("BENCH hyperv unavailable\n");
		return;
	}
	const void *page = hv_hcall_page();
#ifdef __x86_64__
	hv_in[0] = 0;
	hv_in[1] = HV_FLUSH_ALL;
	hv_in[2] = 0;
	bench(&(struct op){ .name = "hyperv.slow_flush", .target = page, .cx = HVCALL_FLUSH_VIRTUAL_ADDRESS_SPACE, .dx = (ulong)hv_in });
	/* fast: address space in RDX, flags in R8 */
	bench(&(struct op){ .name = "hyperv.fast_flush", .target = page, .cx = HVCALL_FLUSH_VIRTUAL_ADDRESS_SPACE | HV_FAST, .dx = 0,
	                    .r8 = HV_FLUSH_ALL });
	/* a list flush: header, then one GVA range per rep; per element = (64 reps - 1 rep) / 63 */
	uint64_t one = bench(&(struct op){ .name = "hyperv.rep_flush_1", .target = page,
	                                   .cx = HVCALL_FLUSH_VIRTUAL_ADDRESS_LIST | 1ull << 32, .dx = (ulong)hv_in });
	uint64_t many = bench(&(struct op){ .name = "hyperv.rep_flush_64", .target = page,
	                                    .cx = HVCALL_FLUSH_VIRTUAL_ADDRESS_LIST | 64ull << 32, .dx = (ulong)hv_in });
	print("BENCH hyperv.rep_flush_per_element %llu %llu %llu\n", (unsigned long long)((many - one) / 63),
	      (unsigned long long)((many - one) / 63), (unsigned long long)((many - one) / 63));
#else
	(void)page;
	(void)hv_in;
	print("BENCH hyperv 64-bit only\n");
#endif
}

#define __HYPERVISOR_xen_version 17
#define __HYPERVISOR_event_channel_op 32
#define EVTCHNOP_send 4
#define EVTCHNOP_bind_ipi 7

/* Xen: xen_version through the page and directly; an event sent to itself (a port bound by bind_ipi). */
static void bench_xen(uint32_t msr)
{
	if (!xen_page_at(msr)) {
		print("BENCH xen unavailable\n");
		return;
	}
	const uint8_t *page = xen_hcall_page();
#ifdef __x86_64__
	bench(&(struct op){ .name = "xen.version_page", .target = page + __HYPERVISOR_xen_version * 32, .di = 0 });
	bench(&(struct op){ .name = "xen.version_direct", .target = xen_vendor_insn(), .ax = __HYPERVISOR_xen_version, .di = 0 });
	static struct { uint32_t vcpu, port; } b;
	if (xen_hc(__HYPERVISOR_event_channel_op, EVTCHNOP_bind_ipi, (ulong)&b, 0)) {
		print("BENCH xen.evtchn_send unavailable\n");
		return;
	}
	static uint32_t port;
	port = b.port;
	bench(&(struct op){ .name = "xen.evtchn_send_self", .target = page + __HYPERVISOR_event_channel_op * 32, .di = EVTCHNOP_send,
	                    .si = (ulong)&port });
#else
	(void)page;
	print("BENCH xen 64-bit only\n");
#endif
}

void bench_checks(bool hyperv, bool xen)
{
	__asm__ volatile("cli");                        /* no interrupt handler inside a measurement */
	print("BENCH start %llu\n", (unsigned long long)tsc());
	bench_exits();
	if (hyperv)
		bench_hyperv();
	else if (xen)
		bench_xen(0x40000000);
	else
		bench_kvm();
	__asm__ volatile("sti");
}
