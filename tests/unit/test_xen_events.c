/*
 * The second slice of hypercalls/xen/ through the real dispatcher and the
 * MSR entry point: shared_info and time (memory_op XENMEM_add_to_physmap;
 * xen/include/public/xen.h, arch-x86/xen-x86_{32,64}.h), hvm_op
 * (hvm/hvm_op.h, hvm/params.h; xen/arch/x86/hvm/hvm.c), vcpu_op (vcpu.h;
 * xen/common/domain.c), event channels (event_channel.h;
 * xen/common/event_channel.c, event_2l.c), the vCPU timers and
 * SCHEDOP_block/poll (sched.h; xen/common/sched/core.c). Tests named
 * ".../32" run in the 32-bit layout, latched by a hypercall-MSR write with
 * EFER.LMA clear (hvm.c hvm_latch_shinfo_size), with 32-bit calls.
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
#include "core/sched.h"
#include "core/vm.h"
#include "hypercalls/hypercall.h"
#include "hypercalls/xen/xen_abi.h"
#include "tests/fake_arch/fake_arch.h"
#include "tests/fake_arch/fake_test.h"

#define HZ 2000000000ull
#define C0 1000000000ull                 /* host counter at VM creation (clock_base) */
#define AT(ns) (C0 + 2 * (uint64_t)(ns)) /* host counter when Xen system time is ns: 2 ticks per ns */
#define MS 1000000ull
#define WALL_SEC ((1ull << 32) + 5)      /* after 2106: wc_sec_hi is 1 */
#define WALL_NSEC 123456789ull
#define TSC_OFF0 0x1000ull
#define TSC_OFF1 0x123456789ull
#define RAM MiB(1)
#define PAGE_GPA 0x3000ull               /* hypercall page */
#define BUF 0x4000ull                    /* argument structs */
#define LIST 0x5000ull                   /* poll port lists */
#define SHINFO 0x10000ull
#define SHINFO2 0x20000ull
#define VINFO 0x30000ull                 /* a page for register_vcpu_info */
#define ROM 0x200000ull                  /* a read-only page */
#define FILL 0x5a
#define VEC 0xf3                         /* the callback vector */
#define EFER_LMA (1ull << 10)
#define SELF2 (DOMID_SELF | DOMID_SELF << 16)   /* evtchn_alloc_unbound's dom, remote_dom */

/* shared_info / vcpu_info offsets (xen.h; compat: KVM asserts wc at 0x900, wc_sec_hi at 0x924) */
struct layout { enum cpu_mode mode; uint32_t pending, mask, wc, wc_sec_hi, sel, word_bits; };
static const struct layout L64 = { MODE_64, 0x800, 0xa00, 0xc00, 0xc0c, 8, 64 };
static const struct layout L32 = { MODE_PROT32, 0x800, 0x880, 0x900, 0x924, 4, 32 };
static const struct layout *L;

static struct vm *vm;
static struct vcpu *v, *v2;
static uint64_t vinfo[2];                /* where each vCPU's vcpu_info is */

static uint8_t *hva(uint64_t gpa) { return fake_vm_hva(vm, gpa); }
static void put(uint64_t gpa, const void *p, size_t n) { memcpy(hva(gpa), p, n); }
static uint32_t g32(uint64_t gpa) { uint32_t x; memcpy(&x, hva(gpa), 4); return x; }
static uint64_t g64(uint64_t gpa) { uint64_t x; memcpy(&x, hva(gpa), 8); return x; }

/* One hypercall of `c` in the layout's mode; the result signed (32-bit: EAX, zero-extended). */
static int64_t hc(struct vcpu *c, uint64_t nr, uint64_t a0, uint64_t a1, uint64_t a2)
{
	bool lm = L->mode == MODE_64;
	c->regs.gpr[X86_RAX] = nr;
	c->regs.gpr[lm ? X86_RDI : X86_RBX] = a0;
	c->regs.gpr[lm ? X86_RSI : X86_RCX] = a1;
	c->regs.gpr[X86_RDX] = a2;
	struct vm_exit e = { .reason = VMEXIT_HYPERCALL, .insn_len = 3, .mode = L->mode, .hc.insn = HC_INSN_VMMCALL };
	hc_dispatch(c, &e);
	uint64_t rax = c->regs.gpr[X86_RAX];
	if (!lm && rax >> 32)
		fail_fmt("32-bit result 0x%llx not zero-extended", (unsigned long long)rax);
	return lm ? (int64_t)rax : (int64_t)(int32_t)rax;
}

/* `s` at BUF, the call (vcpu_op: cmd, vcpuid, BUF; others: cmd, BUF), BUF read back into `s`. */
static int64_t call_buf(struct vcpu *c, uint64_t nr, uint64_t cmd, uint64_t vcpuid, void *s, size_t len)
{
	put(BUF, s, len);
	int64_t r = nr == __HYPERVISOR_vcpu_op ? hc(c, nr, cmd, vcpuid, BUF) : hc(c, nr, cmd, BUF, 0);
	memcpy(s, hva(BUF), len);
	return r;
}

static int setup(void **state)
{
	L = *state;
	fake_arch_reset();
	fake.counter = C0;
	fake.counter_stable = true;
	time_init(HZ, C0, WALL_SEC * 1000000000ull + WALL_NSEC);
	vm = fake_vm_new();
	fake_vm_add_slot(vm, 0, RAM, 0, FILL);
	vm->mem_size = RAM;
	hc_vm_set_abis(vm, (const struct hc_abi *const[]){ &xen_abi }, 1);
	vm->state = VM_RUNNING;
	vm->clock_base = C0;
	v = fake_vcpu_new(vm);
	v2 = fake_vcpu_new(vm);
	v->state = v2->state = VCPU_RUNNABLE;
	v->arch.tsc_offset = TSC_OFF0;
	v2->arch.tsc_offset = TSC_OFF1;
	for (unsigned i = 0; i < 2; i++) {
		fake.ctrl[i].efer = L == &L64 ? EFER_LMA : 0;
		vinfo[i] = SHINFO + 64ull * i;
	}
	assert_int_equal(hc_msr_write(v, XEN_HYPERCALL_MSR, PAGE_GPA), 0);   /* latches the layout */
	return 0;
}

static int teardown(void **state) { fake_cleanup(); return 0; }

/* ---- the guest's view ---- */

static bool gbit(uint64_t base, unsigned n) { return hva(base)[n / 8] >> (n % 8) & 1; }
static void set_gbit(uint64_t base, unsigned n, bool on)
{
	uint8_t m = (uint8_t)(1u << (n % 8));
	hva(base)[n / 8] = on ? hva(base)[n / 8] | m : hva(base)[n / 8] & (uint8_t)~m;
}
static bool pending(unsigned port) { return gbit(SHINFO + L->pending, port); }
static void mask(unsigned port) { set_gbit(SHINFO + L->mask, port, true); }
static uint8_t upcall(unsigned id) { return hva(vinfo[id])[0]; }
static uint64_t sel(unsigned id) { return L->word_bits == 64 ? g64(vinfo[id] + 8) : g32(vinfo[id] + 4); }

/* vCPU `id`: evtchn_upcall_pending, evtchn_pending_sel and the interrupts it was sent. */
#define expect(id, up, s, n) expect_at(__LINE__, id, up, s, n)
static void expect_at(int line, unsigned id, uint8_t up, uint64_t s, unsigned ipis)
{
	if (upcall(id) != up || sel(id) != s || fake.ipis[id] != ipis)
		fail_fmt("line %d, vcpu%u: upcall_pending %u sel 0x%llx ipis %u, want %u 0x%llx %u", line, id,
		         upcall(id), (unsigned long long)sel(id), fake.ipis[id], up, (unsigned long long)s, ipis);
}

/* What a guest's handler leaves behind: nothing pending anywhere. */
static void guest_acks(void)
{
	for (unsigned i = 0; i < 2; i++)
		memset(hva(vinfo[i]), 0, 16);
	memset(hva(SHINFO + L->pending), 0, 128);
	fake.ipis[0] = fake.ipis[1] = 0;
}

/* ---- calls ---- */

/* XENMEM_add_to_physmap { u16 domid, size; u32 space; ulong idx; ulong gpfn; } (64-bit: 24 bytes, 32-bit: 16) */
static int64_t add_to_physmap(uint16_t domid, uint32_t space, uint64_t idx, uint64_t gpfn)
{
	uint8_t b[24];
	bool lm = L->mode == MODE_64;
	memset(b, 0xee, sizeof(b));               /* past a 32-bit struct: junk that a 64-bit reading would take */
	memcpy(b, &(uint32_t){ domid }, 4);
	memcpy(b + 4, &space, 4);
	memcpy(b + 8, &idx, lm ? 8 : 4);
	memcpy(b + (lm ? 16 : 12), &gpfn, lm ? 8 : 4);
	put(BUF, b, sizeof(b));
	return hc(v, __HYPERVISOR_memory_op, XENMEM_add_to_physmap, BUF, 0);
}

static void map_shinfo(uint64_t gpa) { assert_int_equal(add_to_physmap(DOMID_SELF, 0, 0, gpa >> 12), 0); }
struct hvm_param { uint16_t domid, pad; uint32_t index; uint64_t value; };   /* 16 bytes, both modes */
static int64_t hvm_param(uint8_t op, uint16_t domid, uint32_t index, uint64_t *value)
{
	struct hvm_param p = { domid, 0, index, *value };
	int64_t r = call_buf(v, __HYPERVISOR_hvm_op, op, 0, &p, sizeof(p));
	*value = p.value;
	return r;
}

/* HVM_PARAM_CALLBACK_IRQ of type 2 (vector) in bits 63:56 (hvm/params.h) */
static void set_callback_vector(uint8_t vec)
{
	uint64_t val = 2ull << 56 | vec;
	assert_int_equal(hvm_param(HVMOP_set_param, DOMID_SELF, HVM_PARAM_CALLBACK_IRQ, &val), 0);
}

static int64_t set_upcall_vector(uint32_t vcpu, uint8_t vec)
{
	uint32_t a[2] = { vcpu, vec };            /* { uint32_t vcpu; uint8_t vector; } */
	return call_buf(v, __HYPERVISOR_hvm_op, HVMOP_set_evtchn_upcall_vector, 0, a, sizeof(a));
}

static int64_t evtchn(struct vcpu *c, uint32_t cmd, void *s, size_t len)
{
	return call_buf(c, __HYPERVISOR_event_channel_op, cmd, 0, s, len);
}
/* { evtchn_port_t port; }: close, send, unmask */
static int64_t port_op(struct vcpu *c, uint32_t cmd, uint32_t port) { return evtchn(c, cmd, &port, 4); }
static void send(struct vcpu *c, uint32_t port) { assert_int_equal(port_op(c, EVTCHNOP_send, port), 0); }

/*
 * The ops that make a port: two u32 fields (bind_ipi {vcpu}, alloc_unbound
 * {dom, remote_dom}) or three (bind_virq {virq, vcpu}, bind_interdomain
 * {remote_dom, remote_port}), the last one the port made.
 */
static int64_t bind(struct vcpu *c, uint32_t cmd, uint32_t a, uint32_t b, uint32_t *port)
{
	bool three = cmd == EVTCHNOP_bind_virq || cmd == EVTCHNOP_bind_interdomain;
	uint32_t s[3] = { a, three ? b : 0xdead, 0xdead };
	int64_t r = evtchn(c, cmd, s, three ? 12 : 8);
	*port = s[three ? 2 : 1];
	return r;
}
static uint32_t new_port(uint32_t cmd, uint32_t a, uint32_t b)
{
	uint32_t p;
	assert_int_equal(bind(v, cmd, a, b, &p), 0);
	return p;
}
static uint32_t ipi(uint32_t vcpu) { return new_port(EVTCHNOP_bind_ipi, vcpu, 0); }
static uint32_t unbound(void) { return new_port(EVTCHNOP_alloc_unbound, SELF2, 0); }
static uint32_t virq(uint32_t virq, uint32_t vcpu) { return new_port(EVTCHNOP_bind_virq, virq, vcpu); }
static void ipis_up_to(uint32_t port) { while (ipi(0) < port) {} }

struct status { uint16_t dom, pad; uint32_t port, status, vcpu, u[2]; };   /* 24 bytes */
static struct status status(uint32_t port)
{
	struct status s = { DOMID_SELF, 0, port, 0xdead, 0xdead, { 0xdead, 0xdead } };
	assert_int_equal(evtchn(v, EVTCHNOP_status, &s, sizeof(s)), 0);
	return s;
}

/* struct vcpu_set_singleshot_timer { uint64_t timeout_abs_ns; uint32_t flags; } */
static int64_t singleshot(uint64_t vcpuid, uint64_t at_ns, uint32_t flags)
{
	uint32_t s[4] = { (uint32_t)at_ns, (uint32_t)(at_ns >> 32), flags, 0 };
	return call_buf(v, __HYPERVISOR_vcpu_op, VCPUOP_set_singleshot_timer, vcpuid, s, sizeof(s));
}

static int64_t periodic(uint64_t vcpuid, uint64_t period_ns)
{
	return call_buf(v, __HYPERVISOR_vcpu_op, VCPUOP_set_periodic_timer, vcpuid, &period_ns, 8);
}
static int64_t vcpu_cmd(uint64_t cmd, uint64_t vcpuid) { return hc(v, __HYPERVISOR_vcpu_op, cmd, vcpuid, 0); }

/* struct sched_poll { XEN_GUEST_HANDLE(evtchn_port_t) ports; unsigned int nr_ports; uint64_t timeout; } */
static int64_t poll_ports(const uint32_t *ports, uint32_t nr, uint64_t list, uint64_t timeout)
{
	uint8_t b[24] = { 0 };
	bool lm = L->mode == MODE_64;
	if (ports)
		put(LIST, ports, nr * 4ull);
	memcpy(b, &list, lm ? 8 : 4);
	memcpy(b + (lm ? 8 : 4), &nr, 4);
	memcpy(b + (lm ? 16 : 8), &timeout, 8);
	put(BUF, b, lm ? 24 : 16);
	return hc(v, __HYPERVISOR_sched_op, SCHEDOP_poll, BUF, 0);
}

/* ---- shared_info and time ---- */

/* vcpu_time_info (xen.h): version@0, tsc_timestamp@8, system_time@16, mul@24, shift@28, flags@29. */
static void check_time(uint64_t ti, uint64_t counter, uint64_t tsc_offset)
{
	uint32_t ver = g32(ti);
	if (!ver || ver & 1 || g64(ti + 8) != counter + tsc_offset || g64(ti + 16) != (counter - C0) / 2 ||
	    g32(ti + 24) != 1u << 31 || hva(ti)[28] != 0 || hva(ti)[29] != 1)
		fail_fmt("time at 0x%llx: version %u tsc 0x%llx system %llu mul 0x%x shift %d flags %u",
		         (unsigned long long)ti, ver, (unsigned long long)g64(ti + 8),
		         (unsigned long long)g64(ti + 16), g32(ti + 24), (int8_t)hva(ti)[28], hva(ti)[29]);
}

/* wc_version (even: done), wc_sec, wc_nsec, wc_sec_hi: the wall time when system time was 0. */
static void check_wallclock(uint64_t shinfo, const struct layout *l, uint32_t version)
{
	assert_int_equal(g32(shinfo + l->wc), version);
	assert_int_equal(g32(shinfo + l->wc + 4), (uint32_t)WALL_SEC);
	assert_int_equal(g32(shinfo + l->wc + 8), WALL_NSEC);
	assert_int_equal(g32(shinfo + l->wc_sec_hi), WALL_SEC >> 32);
}

static void test_shinfo_contents(void **state)
{
	fake.counter = AT(12345);
	map_shinfo(SHINFO);
	check_wallclock(SHINFO, L, 2);
	check_time(SHINFO + 32, AT(12345), TSC_OFF0);          /* vcpu_info[0].time */
	check_time(SHINFO + 64 + 32, AT(12345), TSC_OFF1);
	/* the rest is cleared: vcpu_info before time and 2-31, bitmaps, arch_shared_info */
	static const uint32_t zero[][2] = { { 0, 32 }, { 64, 32 }, { 128, 0x800 - 128 }, { 0x800, 0x100 }, { 0xc10, 0x3f0 } };
	for (size_t i = 0; i < ARRAY_SIZE(zero); i++)
		for (uint32_t b = zero[i][0]; b < zero[i][0] + zero[i][1]; b++)
			if (hva(SHINFO + b)[0])
				fail_fmt("shared_info byte 0x%x is 0x%x", b, hva(SHINFO + b)[0]);
	assert_int_equal(hva(SHINFO - 1)[0], FILL);
	assert_int_equal(hva(SHINFO + PAGE_SIZE)[0], FILL);
}

static void test_shinfo_remap_copies(void **state)
{
	map_shinfo(SHINFO);
	hva(SHINFO)[1] = 1;                                    /* vCPU 0's upcall_mask */
	mask(77);
	fake.counter = AT(5 * MS);
	map_shinfo(SHINFO2);
	assert_int_equal(hva(SHINFO2)[1], 1);
	assert_true(gbit(SHINFO2 + L->mask, 77));
	check_wallclock(SHINFO2, L, 4);                        /* the copy's version 2, moved on */
	check_time(SHINFO2 + 32, AT(5 * MS), TSC_OFF0);
	assert_int_equal(g32(SHINFO2 + 32), 4);
	uint32_t p = ipi(0);                                   /* events land in the new page */
	send(v, p);
	assert_true(gbit(SHINFO2 + L->pending, p));
	assert_false(gbit(SHINFO + L->pending, p));
}

static void test_physmap_errors(void **state)
{
	static const struct { uint16_t domid; uint32_t space; uint64_t idx, gpfn; int64_t want; } bad[] = {
		{ DOMID_SELF, 0, 1, SHINFO >> 12, -XEN_EINVAL },      /* shared_info has one frame */
		{ DOMID_SELF, 0, 0, RAM >> 12, -XEN_EINVAL },         /* not guest RAM */
		{ DOMID_SELF, 0, 0, 0xfee00, -XEN_EINVAL },
		{ 2, 0, 0, SHINFO >> 12, -XEN_ESRCH },                /* VM 0 is domain 1 */
		{ 0, 0, 0, SHINFO >> 12, -XEN_ESRCH },
		{ DOMID_SELF, 1, 0, SHINFO >> 12, -XEN_EINVAL },      /* XENMAPSPACE_grant_table */
		{ DOMID_SELF, 2, 0, SHINFO >> 12, -XEN_EINVAL },      /* gmfn */
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		int64_t r = add_to_physmap(bad[i].domid, bad[i].space, bad[i].idx, bad[i].gpfn);
		if (r != bad[i].want)
			fail_fmt("case %zu: %lld, want %lld", i, (long long)r, (long long)bad[i].want);
	}
	assert_int_equal(hva(SHINFO)[0], FILL);
	assert_int_equal(hc(v, __HYPERVISOR_memory_op, XENMEM_add_to_physmap, RAM - 8, 0), -XEN_EFAULT);
	/* the last page of RAM, by our own domid; memory_op's cmd bits above 5 are continuation state */
	put(BUF, (uint8_t[24]){ 1 }, 24);
	memcpy(hva(BUF + (L->mode == MODE_64 ? 16 : 12)), &(uint32_t){ (RAM >> 12) - 1 }, 4);
	assert_int_equal(hc(v, __HYPERVISOR_memory_op, 1 << 6 | XENMEM_add_to_physmap, BUF, 0), 0);
	check_wallclock(RAM - PAGE_SIZE, L, 2);
}

/* The bitness follows the last MSR write or CALLBACK_IRQ set (hvm.c hvm_latch_shinfo_size). */
static void test_layout_latch(void **state)
{
	map_shinfo(SHINFO);
	check_wallclock(SHINFO, &L64, 2);
	fake.ctrl[1].efer = 0;                                 /* vCPU 1, in 32-bit mode, sets the callback */
	L = &L32;                                              /* the call's mode decides (hypercall.c: mode != 8) */
	put(BUF, &(struct hvm_param){ DOMID_SELF, 0, HVM_PARAM_CALLBACK_IRQ, 2ull << 56 | VEC }, 16);
	assert_int_equal(hc(v2, __HYPERVISOR_hvm_op, HVMOP_set_param, BUF, 0), 0);
	check_wallclock(SHINFO, &L32, 2);                      /* rewritten in the compat layout */
	ipis_up_to(40);
	send(v, 40);
	expect(0, 1, 1u << 1, 1);                              /* 32-bit selector words */
	assert_int_equal(hc_msr_write(v, XEN_HYPERCALL_MSR, PAGE_GPA), 0);   /* vCPU 0 is in long mode */
	check_wallclock(SHINFO, &L64, 4);
}

/* ---- hvm_op ---- */

static void test_hvm_param_rules(void **state)
{
	enum { SET = HVMOP_set_param, GET = HVMOP_get_param, SELF = DOMID_SELF, OWN = 1, J = 0xdeadbeef };
	/* in order: the SETs store what the GETs read back; a failed call leaves the struct as it was */
	static const struct { uint8_t op; uint16_t domid; uint32_t index; uint64_t in, out; int64_t want; } rules[] = {
		{ SET, DOMID_SELF, HVM_PARAM_CALLBACK_IRQ, 0x100, 0x100, 0 },     /* type 0: GSI 256 */
		{ SET, OWN, HVM_PARAM_STORE_EVTCHN, 0x102, 0x102, 0 }, { SET, SELF, HVM_PARAM_CONSOLE_EVTCHN, 0x118, 0x118, 0 },
		{ GET, SELF, HVM_PARAM_CALLBACK_IRQ, J, 0x100, 0 }, { GET, OWN, HVM_PARAM_STORE_EVTCHN, J, 0x102, 0 },
		{ GET, SELF, HVM_PARAM_CONSOLE_EVTCHN, J, 0x118, 0 }, { GET, SELF, HVM_PARAM_STORE_PFN, J, 0, 0 },
		{ GET, SELF, HVM_PARAM_CONSOLE_PFN, J, 0, 0 },
		/* hvm_allow_set_param: "The remaining parameters should not be set by the guest" */
		{ SET, SELF, HVM_PARAM_STORE_PFN, 1, 1, -XEN_EPERM }, { SET, SELF, HVM_PARAM_CONSOLE_PFN, 1, 1, -XEN_EPERM },
		{ SET, SELF, 9, 1, 1, -XEN_EPERM }, { SET, SELF, 38, 1, 1, -XEN_EPERM }, { GET, SELF, 9, J, J, -XEN_EPERM },
		{ GET, SELF, 12, J, J, -XEN_EPERM }, { GET, SELF, 38, J, J, -XEN_EPERM },
		{ SET, SELF, HVM_PARAM_PAE_ENABLED, 1, 1, -XEN_EINVAL }, { GET, SELF, HVM_PARAM_PAE_ENABLED, J, J, -XEN_EINVAL },
		/* index >= HVM_NR_PARAMS is checked before the domain lookup */
		{ SET, SELF, HVM_NR_PARAMS, 1, 1, -XEN_EINVAL }, { GET, 2, HVM_NR_PARAMS, J, J, -XEN_EINVAL },
		{ GET, SELF, UINT32_MAX, J, J, -XEN_EINVAL },
		{ SET, 2, HVM_PARAM_CALLBACK_IRQ, 1, 1, -XEN_ESRCH }, { GET, 0, HVM_PARAM_STORE_EVTCHN, J, J, -XEN_ESRCH },
		{ GET, SELF, HVM_PARAM_CALLBACK_IRQ, J, 0x100, 0 },               /* the failed SET changed nothing */
	};
	for (size_t i = 0; i < ARRAY_SIZE(rules); i++) {
		uint64_t val = rules[i].in;
		int64_t r = hvm_param(rules[i].op, rules[i].domid, rules[i].index, &val);
		if (r != rules[i].want || val != rules[i].out)
			fail_fmt("rule %zu (op %u index %u): %lld value 0x%llx, want %lld 0x%llx", i, rules[i].op,
			         rules[i].index, (long long)r, (unsigned long long)val, (long long)rules[i].want,
			         (unsigned long long)rules[i].out);
	}
	/* op & 0xff (the rest is continuation state); copy faults both ways */
	put(BUF, &(struct hvm_param){ DOMID_SELF, 0, HVM_PARAM_STORE_EVTCHN, 0 }, 16);
	assert_int_equal(hc(v, __HYPERVISOR_hvm_op, 0x100 | HVMOP_get_param, BUF, 0), 0);
	assert_int_equal(g64(BUF + 8), 0x102);
	assert_int_equal(hc(v, __HYPERVISOR_hvm_op, HVMOP_get_param, RAM - 8, 0), -XEN_EFAULT);
	fake_vm_add_slot(vm, ROM, PAGE_SIZE, SLOT_READONLY, 0);
	memcpy(hva(ROM), &(struct hvm_param){ DOMID_SELF, 0, HVM_PARAM_STORE_EVTCHN, 7 }, 16);
	assert_int_equal(hc(v, __HYPERVISOR_hvm_op, HVMOP_get_param, ROM, 0), -XEN_EFAULT);
	assert_int_equal(g64(ROM + 8), 7);
	assert_int_equal(hc(v, __HYPERVISOR_hvm_op, 2, BUF, 0), -XEN_ENOSYS);
}

/*
 * hvm.c hvm_allow_set_param / hvm_allow_get_param: "The following
 * parameters are deprecated" (DM_DOMAIN 13, MEMORY_EVENT_* 20-23, 25, 30,
 * NESTEDHVM 24, BUFIOREQ_EVTCHN 26) give -EINVAL, as PAE_ENABLED does.
 */
static void test_hvm_deprecated_params_einval(void **state)
{
	static const uint32_t deprecated[] = { 13, 20, 21, 22, 23, 24, 25, 26, 30 };
	for (size_t i = 0; i < ARRAY_SIZE(deprecated); i++)
		for (uint8_t op = HVMOP_set_param; op <= HVMOP_get_param; op++) {
			uint64_t val = 1;
			int64_t r = hvm_param(op, DOMID_SELF, deprecated[i], &val);
			if (r != -XEN_EINVAL)
				fail_fmt("%s param %u: %lld, want -EINVAL", op ? "get" : "set", deprecated[i], (long long)r);
		}
}

static void test_upcall_vector_rules(void **state)
{
	assert_int_equal(set_upcall_vector(0, 0x0f), -XEN_EINVAL);
	assert_int_equal(set_upcall_vector(5, 0x0f), -XEN_EINVAL);     /* the vector is checked first */
	assert_int_equal(set_upcall_vector(2, 0x40), -XEN_ENOENT);
	assert_int_equal(hc(v, __HYPERVISOR_hvm_op, HVMOP_set_evtchn_upcall_vector, RAM - 4, 0), -XEN_EFAULT);
	/* an upcall already pending is raised at once (hvm_assert_evtchn_irq) */
	map_shinfo(SHINFO);
	send(v, ipi(1));
	expect(1, 1, 1, 0);                                            /* no vector yet */
	assert_int_equal(set_upcall_vector(1, 0x10), 0);
	expect(1, 1, 1, 1);
	assert_int_equal(fake.ipi_icr[1], 0x10);
	assert_int_equal(fake.ipis[0], 0);
}

/* ---- vcpu_op ---- */

static void test_vcpu_is_up(void **state)
{
	assert_int_equal(vcpu_cmd(VCPUOP_is_up, 0), 1);
	v2->state = VCPU_WAIT_SIPI;
	assert_int_equal(vcpu_cmd(VCPUOP_is_up, 1), 0);
	v2->state = VCPU_HALTED;
	/* int cmd, unsigned int vcpuid: a 64-bit caller's upper halves are not part of them */
	assert_int_equal(vcpu_cmd(0xffff000000000000ull | VCPUOP_is_up, 1ull << 32 | 1), 1);
	static const uint64_t bad[] = { 2, 31, UINT32_MAX };
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		assert_int_equal(vcpu_cmd(VCPUOP_is_up, bad[i]), -XEN_ENOENT);
	assert_int_equal(vcpu_cmd(99, 2), -XEN_ENOENT);                 /* the vCPU is looked up first */
	assert_int_equal(vcpu_cmd(99, 0), -XEN_ENOSYS);
}

/* ---- VCPUOP_initialise / up / down (hvm/hvm_vcpu.h struct vcpu_hvm_context, 128 bytes) ---- */

struct hvm32 {
	uint32_t mode, pad;
	uint32_t eax, ecx, edx, ebx, esp, ebp, esi, edi, eip, eflags, cr0, cr3, cr4, pad1;
	uint64_t efer;
	uint32_t cs_base, ds_base, ss_base, es_base, tr_base, cs_limit, ds_limit, ss_limit, es_limit, tr_limit;
	uint16_t cs_ar, ds_ar, ss_ar, es_ar, tr_ar, pad2[3];
};
_Static_assert(sizeof(struct hvm32) == 128, "vcpu_hvm_context");
struct hvm64 { uint32_t mode, pad; uint64_t rax, rcx, rdx, rbx, rsp, rbp, rsi, rdi, rip, rflags, cr0, cr3, cr4, efer, unused; };

/* The flat 32-bit context of Xen's PVH dom0 builder and XTF */
static struct hvm32 flat32(void)
{
	return (struct hvm32){ .mode = 0, .eax = 1, .ebx = 4, .esp = 0x9000, .edi = 8, .eip = 0x1234, .eflags = 2,
		.cr0 = 0x11, .cs_limit = ~0u, .ds_limit = ~0u, .ss_limit = ~0u, .es_limit = ~0u, .tr_limit = 0x67,
		.cs_ar = 0xc9b, .ds_ar = 0xc93, .ss_ar = 0xc93, .es_ar = 0xc93, .tr_ar = 0x8b };
}

static int64_t initialise(uint64_t vcpuid, const void *ctx)
{
	uint8_t b[128];
	memcpy(b, ctx, sizeof(b));
	return call_buf(v, __HYPERVISOR_vcpu_op, VCPUOP_initialise, vcpuid, b, sizeof(b));
}

/* Each way Xen's arch_set_info_hvm_guest refuses a context, on a vCPU waiting for its start. */
static void test_vcpu_initialise_refused(void **state)
{
	struct hvm32 c = flat32();
	assert_int_equal(initialise(1, &c), -XEN_EEXIST);                  /* running: initialised */
	assert_int_equal(initialise(0, &c), -XEN_EEXIST);
	assert_int_equal(initialise(2, &c), -XEN_ENOENT);
	v2->state = VCPU_WAIT_SIPI;                                        /* as after INIT */
	assert_int_equal(vcpu_cmd(VCPUOP_up, 1), -XEN_EINVAL);             /* not initialised */
	assert_int_equal(hc(v, __HYPERVISOR_vcpu_op, VCPUOP_initialise, 1, RAM - 64), -XEN_EFAULT);
#define BAD(field, value) do { struct hvm32 b_ = flat32(); b_.field = value; \
		assert_int_equal(initialise(1, &b_), -XEN_EINVAL); } while (0)
	BAD(mode, 2);
	BAD(pad, 1);
	BAD(pad1, 1);
	BAD(pad2[1], 1);
	BAD(cs_ar, 0);                   /* null CS */
	BAD(ss_ar, 0);
	BAD(tr_ar, 0);
	BAD(cs_ar, 0xc93);               /* data as CS */
	BAD(ss_ar, 0xc9b);               /* code as SS */
	BAD(ss_ar, 0xc91);               /* read-only SS */
	BAD(ds_ar, 0xc99);               /* execute-only code as DS */
	BAD(cs_ar, 0xc1b);               /* not present */
	BAD(tr_ar, 0x83);                /* a 16-bit TSS */
	BAD(tr_ar, 0x9b);                /* code as TR */
	BAD(cs_ar, 0x1c9b);              /* bits 12-15 */
	BAD(ss_ar, 0xcf3);               /* SS DPL 3, CS DPL 0 */
	BAD(ds_ar, 0xcf3);               /* DS with a DPL above CS's */
	struct hvm32 lim = flat32();
	lim.cs_ar = 0x49b;               /* G clear: the limit is in bytes */
	lim.cs_limit = 0xfff;            /* EIP past it */
	assert_int_equal(initialise(1, &lim), -XEN_EINVAL);
	BAD(efer, 1u << 10);             /* LMA without LME */
	BAD(efer, 1u << 12);             /* SVME */
	BAD(cr4, 1u << 13);              /* VMXE */
	BAD(cr0, 0x80000010);            /* paging without protection */
	BAD(eflags, 2 | 1u << 17);       /* virtual-8086 mode */
	struct hvm64 l = { .mode = 1, .rip = 0x1000, .rflags = 2, .cr0 = 0x80000011, .cr4 = 0x20, .efer = 1u << 8 };
	l.rip = 0x0000800000000000ull;   /* not canonical */
	assert_int_equal(initialise(1, &l), -XEN_EINVAL);
	l.rip = 0x1000;
	l.cr0 = 0x11;                    /* long mode needs paging, PAE and LME */
	assert_int_equal(initialise(1, &l), -XEN_EINVAL);
	assert_int_equal(fake.set_contexts, 0);
	assert_int_equal(v2->state, VCPU_WAIT_SIPI);
	/* what Xen lets through: a TSS given as available (made busy), a null DS, G-scaled limits */
	struct hvm32 ok = flat32();
	ok.tr_ar = 0x89;
	ok.ds_ar = 0;
	ok.cs_limit = 0xfffff;
	assert_int_equal(initialise(1, &ok), 0);
	assert_int_equal(fake.context[1].tr.attr, 0x8b);
}

static void test_vcpu_initialise_up_down(void **state)
{
	v2->state = VCPU_WAIT_SIPI;
	struct hvm32 c = flat32();
	c.eflags = 0xffffffff & ~(1u << 17);
	c.cs_ar = 0xc9a;                                                   /* accessed bit added */
	assert_int_equal(initialise(1, &c), 0);
	const struct arch_vcpu_context *got = &fake.context[1];
	assert_int_equal(got->rip, 0x1234);
	assert_int_equal(got->rflags, (0x3f7fd5 & ~(1u << 17)) | 2);        /* Xen keeps only X86_EFLAGS_ALL */
	assert_int_equal(got->gpr[0], 1);                                  /* eax */
	assert_int_equal(got->gpr[3], 4);                                  /* ebx */
	assert_int_equal(got->gpr[4], 0x9000);                             /* esp */
	assert_int_equal(got->gpr[7], 8);                                  /* edi */
	assert_int_equal(got->cs.attr, 0xc9b);
	assert_int_equal(got->cs.limit, UINT32_MAX);
	assert_int_equal(got->cr0, 0x11);
	/* initialised but down until up */
	assert_int_equal(v2->state, VCPU_DOWN);
	assert_int_equal(vcpu_cmd(VCPUOP_is_up, 1), 0);
	assert_int_equal(initialise(1, &c), -XEN_EEXIST);
	assert_int_equal(vcpu_cmd(VCPUOP_up, 1), 0);
	assert_int_equal(v2->state, VCPU_RUNNABLE);
	assert_int_equal(vcpu_cmd(VCPUOP_is_up, 1), 1);
	assert_int_equal(vcpu_cmd(VCPUOP_up, 1), 0);                       /* already up: nothing */
	assert_int_equal(vcpu_cmd(VCPUOP_up, 0), 0);
	/* down and up again: a vCPU asleep in HLT goes back to sleep */
	v2->state = VCPU_HALTED;
	assert_int_equal(vcpu_cmd(VCPUOP_down, 1), 0);
	assert_int_equal(v2->state, VCPU_DOWN);
	assert_int_equal(vcpu_cmd(VCPUOP_down, 1), 0);                     /* down already: nothing */
	assert_int_equal(initialise(1, &c), -XEN_EEXIST);                  /* still initialised */
	uint64_t pokes = sched_pokes;
	assert_int_equal(vcpu_cmd(VCPUOP_up, 1), 0);
	assert_int_equal(v2->state, VCPU_HALTED);
	assert_true(sched_pokes != pokes);        /* an interrupt that came while it was down wakes it after this exit */
	/* a long-mode context: the segments Xen sets, LMA with LME */
	v2->state = VCPU_WAIT_SIPI;
	struct hvm64 l = { .mode = 1, .rdi = 77, .rip = 0xffffffff80001000ull, .rflags = 2,
	                   .cr0 = 0x80000011, .cr3 = 0x5000, .cr4 = 0x20, .efer = 1u << 8 };
	assert_int_equal(initialise(1, &l), 0);
	assert_int_equal(got->gpr[7], 77);
	assert_int_equal(got->efer, (1u << 8) | (1u << 10));
	assert_int_equal(got->cs.attr, 0xa9b);
	assert_int_equal(got->ss.attr, 0xc93);
	assert_int_equal(got->tr.limit, 0x67);
	/* the last vCPU up going down powers the domain off (Xen domain_shutdown) */
	assert_int_equal(vcpu_cmd(VCPUOP_down, 0), 0);
	assert_true(vm_ended(vm));
	assert_int_equal(vm->end, VM_END_EXIT);
	assert_int_equal(vm->exit_status, 0);
}

/* struct vcpu_register_vcpu_info { uint64_t mfn; uint32_t offset, rsvd; }, made by vCPU c */
static int64_t register_vcpu_info_by(struct vcpu *c, uint64_t vcpuid, uint64_t gfn, uint32_t offset, uint32_t rsvd)
{
	uint32_t r[4] = { (uint32_t)gfn, (uint32_t)(gfn >> 32), offset, rsvd };
	return call_buf(c, __HYPERVISOR_vcpu_op, VCPUOP_register_vcpu_info, vcpuid, r, sizeof(r));
}
static int64_t register_vcpu_info(uint64_t vcpuid, uint64_t gfn, uint32_t offset)
{
	return register_vcpu_info_by(v, vcpuid, gfn, offset, 0);
}

/*
 * Xen 4.17 map_vcpu_info (common/domain.c), in its order: the offset (past
 * 4032, or not a multiple of alignof(vcpu_info_t): 8, 4 in the 32-bit
 * layout) -ENXIO; registered already -EINVAL; "Run this command on yourself
 * or on other offline VCPUS" -EINVAL; a gfn that is not RAM -EINVAL.
 */
static void test_register_vcpu_info(void **state)
{
	bool compat = L->mode != MODE_64;
	map_shinfo(SHINFO);
	memset(hva(SHINFO + 64), 0xa7, 32);                   /* vCPU 1's slot before its time */
	fake.counter = AT(3 * MS);
	/* vCPU 0 for vCPU 1: not while vCPU 1 is up (running or blocked), only once it is offline */
	assert_int_equal(register_vcpu_info(1, VINFO >> 12, 0x40), -XEN_EINVAL);
	v2->state = VCPU_HALTED;
	assert_int_equal(register_vcpu_info(1, VINFO >> 12, 0x40), -XEN_EINVAL);
	assert_int_equal(hva(VINFO + 0x40)[0], FILL);
	v2->state = VCPU_DOWN;
	assert_int_equal(register_vcpu_info(1, VINFO >> 12, 0x40), 0);
	v2->state = VCPU_RUNNABLE;
	uint64_t at = VINFO + 0x40;
	for (unsigned i = 0; i < 32; i++)
		assert_int_equal(hva(at)[i], 0xa7);               /* the contents moved */
	check_time(at + 32, AT(3 * MS), TSC_OFF1);
	assert_true(g32(at + 32) > g32(SHINFO + 64 + 32));    /* the moved version, moved on */
	/* once per vCPU, asked by itself too (-EINVAL in 4.17; -EBUSY in later Xen) */
	assert_int_equal(register_vcpu_info_by(v2, 1, VINFO >> 12, 0x80, 0), -XEN_EINVAL);
	assert_int_equal(hva(VINFO + 0x80)[0], FILL);
	vinfo[1] = at;                                         /* events for vCPU 1 go there now */
	memset(hva(at), 0, 16);
	send(v, ipi(1));
	expect(1, 1, 1, 0);
	assert_int_equal(hva(SHINFO + 64)[0], 0xa7);
	/* the offset is checked first: -ENXIO where the rest would give -EINVAL */
	assert_int_equal(register_vcpu_info_by(v2, 1, VINFO >> 12, PAGE_SIZE - 63, 0), -XEN_ENXIO);
	assert_int_equal(register_vcpu_info_by(v2, 1, VINFO >> 12, 0x41, 0), -XEN_ENXIO);
	assert_int_equal(register_vcpu_info_by(v2, 1, VINFO >> 12, 0x44, 0), compat ? -XEN_EINVAL : -XEN_ENXIO);
	/* the slot must lie in one page of RAM, at an aligned offset */
	assert_int_equal(register_vcpu_info(0, VINFO >> 12, PAGE_SIZE - 63), -XEN_ENXIO);
	assert_int_equal(register_vcpu_info(0, VINFO >> 12, 1), -XEN_ENXIO);
	assert_int_equal(register_vcpu_info(0, RAM >> 12, 0), -XEN_EINVAL);
	assert_int_equal(register_vcpu_info(0, 1ull << 52, 0), -XEN_EINVAL);
	assert_int_equal(register_vcpu_info(2, VINFO >> 12, 0), -XEN_ENOENT);
	assert_int_equal(hc(v, __HYPERVISOR_vcpu_op, VCPUOP_register_vcpu_info, 0, RAM - 8), -XEN_EFAULT);
	/* the last slot of RAM: 4-byte alignment is enough in the 32-bit layout */
	uint32_t last = compat ? PAGE_SIZE - 68 : PAGE_SIZE - 64;
	uint64_t own = RAM - PAGE_SIZE + last;
	assert_int_equal(register_vcpu_info(0, (RAM >> 12) - 1, last), 0);
	check_time(own + 32, AT(3 * MS), TSC_OFF0);
	/* a new shared_info publishes time in the registered vcpu_info, not in the slot */
	fake.counter = AT(4 * MS);
	map_shinfo(SHINFO2);
	check_time(own + 32, AT(4 * MS), TSC_OFF0);
	check_time(at + 32, AT(4 * MS), TSC_OFF1);
	assert_int_equal(g32(SHINFO2 + 32), g32(SHINFO + 32));                  /* the copy, untouched */
}

/*
 * Argument structs are copied bytewise (xen_copy_in/out): one at an odd
 * address, or across a page boundary inside RAM, is read and written
 * whole, and nothing beside it.
 */
static void test_struct_at_odd_address(void **state)
{
	put(BUF + 1, &(struct hvm_param){ DOMID_SELF, 0, HVM_PARAM_STORE_EVTCHN, 0x1234 }, 16);
	assert_int_equal(hc(v, __HYPERVISOR_hvm_op, HVMOP_set_param, BUF + 1, 0), 0);
	put(BUF + 1, &(struct hvm_param){ DOMID_SELF, 0, HVM_PARAM_STORE_EVTCHN, 0 }, 16);
	assert_int_equal(hc(v, __HYPERVISOR_hvm_op, HVMOP_get_param, BUF + 1, 0), 0);
	assert_int_equal(g64(BUF + 9), 0x1234);
	assert_int_equal(hva(BUF)[0], FILL);
	assert_int_equal(hva(BUF + 17)[0], FILL);
}

static void test_struct_across_pages(void **state)
{
	uint64_t at = BUF + PAGE_SIZE - 12;                   /* value at 0x4ffc..0x5003: split by the boundary */
	put(at, &(struct hvm_param){ DOMID_SELF, 0, HVM_PARAM_CONSOLE_EVTCHN, 0x1122334455667788ull }, 16);
	assert_int_equal(hc(v, __HYPERVISOR_hvm_op, HVMOP_set_param, at, 0), 0);
	put(at, &(struct hvm_param){ DOMID_SELF, 0, HVM_PARAM_CONSOLE_EVTCHN, 0 }, 16);
	assert_int_equal(hc(v, __HYPERVISOR_hvm_op, HVMOP_get_param, at, 0), 0);
	assert_int_equal(g32(at + 8), 0x55667788);            /* the half in the first page */
	assert_int_equal(g32(at + 12), 0x11223344);           /* and the half in the second */
	assert_int_equal(hva(at + 16)[0], FILL);
}

/*
 * Reserved and pad fields Xen does not look at are not looked at here:
 * vcpu_register_vcpu_info.rsvd, xen_hvm_param.pad, evtchn_status.pad,
 * singleshot flag bits other than VCPU_SSHOTTMR_future.
 */
static void test_ignored_pad_fields(void **state)
{
	fake.counter = AT(MS);
	assert_int_equal(register_vcpu_info_by(v, 0, VINFO >> 12, 0, UINT32_MAX), 0);
	check_time(VINFO + 32, AT(MS), TSC_OFF0);
	struct hvm_param p = { DOMID_SELF, 0xffff, HVM_PARAM_STORE_EVTCHN, 5 };
	assert_int_equal(call_buf(v, __HYPERVISOR_hvm_op, HVMOP_set_param, 0, &p, sizeof(p)), 0);
	p = (struct hvm_param){ DOMID_SELF, 0xffff, HVM_PARAM_STORE_EVTCHN, 0 };
	assert_int_equal(call_buf(v, __HYPERVISOR_hvm_op, HVMOP_get_param, 0, &p, sizeof(p)), 0);
	assert_int_equal(p.value, 5);
	uint32_t port = ipi(1);
	struct status s = { DOMID_SELF, 0xffff, port, 0, 0, { 0, 0 } };
	assert_int_equal(evtchn(v, EVTCHNOP_status, &s, sizeof(s)), 0);
	assert_int_equal(s.status, EVTCHNSTAT_ipi);
	assert_int_equal(s.vcpu, 1);
	/* a timeout in the past: fires at once unless VCPU_SSHOTTMR_future, whatever the other bits */
	fake.counter = AT(10 * MS);
	assert_int_equal(singleshot(0, MS, ~(uint32_t)VCPU_SSHOTTMR_future), 0);
	assert_int_equal(singleshot(0, MS, UINT32_MAX), -XEN_ETIME);
}

/* A buffer on a page the guest made private (gmem_set_private): the gate refuses it, -EFAULT. */
static void test_private_buffer_efault(void **state)
{
	static struct boot_info bi;
	fake_pmm_setup(&bi);                                   /* the private map comes from the pmm */
	map_shinfo(SHINFO);
	uint32_t p = ipi(0);
	put(BUF, &(struct hvm_param){ DOMID_SELF, 0, HVM_PARAM_STORE_EVTCHN, 7 }, 16);
	assert_int_equal(gmem_set_private(vm, BUF >> 12, 1, true), 0);
	assert_int_equal(hc(v, __HYPERVISOR_hvm_op, HVMOP_set_param, BUF, 0), -XEN_EFAULT);
	assert_int_equal(hc(v, __HYPERVISOR_hvm_op, HVMOP_get_param, BUF, 0), -XEN_EFAULT);
	assert_int_equal(g64(BUF + 8), 7);                     /* nothing written */
	memcpy(hva(BUF + 16), &p, 4);
	assert_int_equal(hc(v, __HYPERVISOR_event_channel_op, EVTCHNOP_send, BUF + 16, 0), -XEN_EFAULT);
	assert_false(pending(p));
	/* shared again: the same calls work, and the refused set changed nothing */
	assert_int_equal(gmem_set_private(vm, BUF >> 12, 1, false), 0);
	assert_int_equal(hc(v, __HYPERVISOR_hvm_op, HVMOP_get_param, BUF, 0), 0);
	assert_int_equal(g64(BUF + 8), 0);
	assert_int_equal(hc(v, __HYPERVISOR_event_channel_op, EVTCHNOP_send, BUF + 16, 0), 0);
	assert_true(pending(p));
}

/* ---- event channel operations ---- */

static void test_port_allocation(void **state)
{
	assert_int_equal(unbound(), 1);                        /* lowest free first; port 0 is reserved */
	assert_int_equal(ipi(1), 2);
	assert_int_equal(virq(VIRQ_TIMER, 0), 3);
	assert_int_equal(port_op(v, EVTCHNOP_close, 2), 0);
	assert_int_equal(unbound(), 2);
	assert_int_equal(ipi(0), 4);
	/* 1023 ports in both layouts (64-bit capped at 1024); then -ENOSPC */
	uint32_t p, last = 0;
	while (bind(v, EVTCHNOP_bind_ipi, 0, 0, &p) == 0)
		last = p;
	assert_int_equal(last, 1023);
	assert_int_equal(bind(v, EVTCHNOP_bind_ipi, 0, 0, &p), -XEN_ENOSPC);
	assert_int_equal(bind(v, EVTCHNOP_alloc_unbound, SELF2, 0, &p), -XEN_ENOSPC);
}

static void test_status_each_state(void **state)
{
	uint32_t unb = unbound(), i1 = ipi(1), vq = virq(1, 1), remote = unbound(), local;   /* VIRQ_DEBUG: per vCPU */
	assert_int_equal(bind(v, EVTCHNOP_bind_interdomain, DOMID_SELF, remote, &local), 0);
	const struct { uint32_t port, status, vcpu, u0, u1; } want[] = {
		{ 0, EVTCHNSTAT_closed, 0, 0, 0 }, { 900, EVTCHNSTAT_closed, 0, 0, 0 },
		{ unb, EVTCHNSTAT_unbound, 0, 1, 0 },              /* u.unbound.dom: DOMID_SELF stored as 1 */
		{ i1, EVTCHNSTAT_ipi, 1, 0, 0 }, { vq, EVTCHNSTAT_virq, 1, 1, 0 },
		{ remote, EVTCHNSTAT_interdomain, 0, 1, local }, { local, EVTCHNSTAT_interdomain, 0, 1, remote },
	};
	for (size_t i = 0; i < ARRAY_SIZE(want); i++) {
		struct status s = status(want[i].port);
		/* the local end's vCPU is Xen's question: see test_interdomain_like_xen */
		bool vcpu_ok = want[i].port == local || s.vcpu == want[i].vcpu;
		if (s.status != want[i].status || !vcpu_ok || (uint16_t)s.u[0] != want[i].u0 ||
		    (want[i].status == EVTCHNSTAT_interdomain && s.u[1] != want[i].u1))
			fail_fmt("port %u: status %u vcpu %u u 0x%x 0x%x", want[i].port, s.status, s.vcpu, s.u[0], s.u[1]);
	}
	struct status s = { 2, 0, unb, 0, 0, { 0, 0 } };
	assert_int_equal(evtchn(v, EVTCHNOP_status, &s, sizeof(s)), -XEN_ESRCH);
	s = (struct status){ 1, 0, 1024, 0, 0, { 0, 0 } };
	assert_int_equal(evtchn(v, EVTCHNOP_status, &s, sizeof(s)), -XEN_EINVAL);
	assert_int_equal(hc(v, __HYPERVISOR_event_channel_op, EVTCHNOP_status, RAM - 12, 0), -XEN_EFAULT);
}

static void test_bind_errors(void **state)
{
	uint32_t p;
	assert_int_equal(bind(v, EVTCHNOP_alloc_unbound, 2 | DOMID_SELF << 16, 0, &p), -XEN_ESRCH);
	/* the remote domain need not exist yet (Xen does not look it up) */
	assert_int_equal(bind(v, EVTCHNOP_alloc_unbound, DOMID_SELF | 9 << 16, 0, &p), 0);
	assert_int_equal(status(p).status, EVTCHNSTAT_unbound);
	assert_int_equal((uint16_t)status(p).u[0], 9);
	assert_int_equal(bind(v, EVTCHNOP_bind_virq, 24, 0, &p), -XEN_EINVAL);   /* NR_VIRQS */
	assert_int_equal(bind(v, EVTCHNOP_bind_virq, VIRQ_TIMER, 2, &p), -XEN_ENOENT);
	uint32_t first = virq(VIRQ_TIMER, 0);
	assert_int_equal(bind(v, EVTCHNOP_bind_virq, VIRQ_TIMER, 0, &p), -XEN_EEXIST);
	virq(VIRQ_TIMER, 1);                                              /* per vCPU */
	assert_int_equal(port_op(v, EVTCHNOP_close, first), 0);
	virq(VIRQ_TIMER, 0);                                              /* free again once closed */
	assert_int_equal(bind(v, EVTCHNOP_bind_ipi, 2, 0, &p), -XEN_ENOENT);
	assert_int_equal(hc(v, __HYPERVISOR_event_channel_op, EVTCHNOP_bind_ipi, RAM - 4, 0), -XEN_EFAULT);
	static const uint32_t unknown[] = { 2, 10, 11, 12, 13, UINT32_MAX };   /* bind_pirq, reset, FIFO */
	for (size_t i = 0; i < ARRAY_SIZE(unknown); i++)
		assert_int_equal(hc(v, __HYPERVISOR_event_channel_op, unknown[i], BUF, 0), -XEN_ENOSYS);
}

static void test_interdomain_loopback(void **state)
{
	map_shinfo(SHINFO);
	uint32_t a = unbound(), i0 = ipi(0), b;
	assert_int_equal(bind(v, EVTCHNOP_bind_interdomain, DOMID_SELF, i0, &b), -XEN_EINVAL);  /* not unbound */
	assert_int_equal(bind(v, EVTCHNOP_bind_interdomain, DOMID_SELF, 1024, &b), -XEN_EINVAL);
	assert_int_equal(bind(v, EVTCHNOP_bind_interdomain, DOMID_SELF, 500, &b), -XEN_EINVAL);   /* closed */
	assert_int_equal(bind(v, EVTCHNOP_bind_interdomain, 2, a, &b), -XEN_ESRCH);
	assert_int_equal(status(a).status, EVTCHNSTAT_unbound);
	assert_int_equal(bind(v, EVTCHNOP_bind_interdomain, 1, a, &b), 0);
	assert_int_equal(b, 3);
	guest_acks();
	send(v, a);                 /* fires the peer */
	assert_true(pending(b) && !pending(a));
	send(v, b);
	assert_true(pending(a));
	/* closing one end leaves the other unbound, for our domain; sends on it are dropped */
	assert_int_equal(port_op(v, EVTCHNOP_close, b), 0);
	assert_false(pending(b));                                          /* evtchn_free clears it */
	struct status s = status(a);
	assert_int_equal(s.status, EVTCHNSTAT_unbound);
	assert_int_equal((uint16_t)s.u[0], 1);
	guest_acks();
	send(v, a);
	assert_false(pending(a) || pending(b));
	assert_int_equal(bind(v, EVTCHNOP_bind_interdomain, DOMID_SELF, a, &b), 0);  /* it can be bound again */
}

/*
 * event_channel.c evtchn_bind_interdomain: the local port is a free one,
 * which evtchn_free "Reset binding to vcpu0"; then "We may have lost
 * notifications on the remote unbound port. Fix that up here by
 * conservatively always setting a notification on the local port."
 */
static void test_interdomain_like_xen(void **state)
{
	map_shinfo(SHINFO);
	set_callback_vector(VEC);
	uint32_t b;
	assert_int_equal(bind(v2, EVTCHNOP_bind_interdomain, DOMID_SELF, unbound(), &b), 0);
	assert_int_equal(status(b).vcpu, 0);
	assert_true(pending(b));
	expect(0, 1, 1, 1);
}

static void test_close_send_rules(void **state)
{
	map_shinfo(SHINFO);
	uint32_t unb = unbound(), vq = virq(VIRQ_TIMER, 0), i0 = ipi(0);
	static const uint32_t closed[] = { 0, 900, 1024, UINT32_MAX };
	for (size_t i = 0; i < ARRAY_SIZE(closed); i++) {
		assert_int_equal(port_op(v, EVTCHNOP_close, closed[i]), -XEN_EINVAL);
		assert_int_equal(port_op(v, EVTCHNOP_send, closed[i]), -XEN_EINVAL);
	}
	assert_int_equal(port_op(v, EVTCHNOP_send, vq), -XEN_EINVAL);     /* only Xen raises VIRQs */
	send(v, unb);              /* "silently drop" */
	assert_false(pending(unb));
	send(v, i0);
	assert_true(pending(i0));
	assert_int_equal(port_op(v, EVTCHNOP_close, i0), 0);
	assert_false(pending(i0));
	assert_int_equal(port_op(v, EVTCHNOP_close, i0), -XEN_EINVAL);
	assert_int_equal(status(i0).status, EVTCHNSTAT_closed);
	assert_int_equal(hc(v, __HYPERVISOR_event_channel_op, EVTCHNOP_send, RAM - 2, 0), -XEN_EFAULT);
}

/* One vCPU closes a port, then another sends on it (one pCPU: an ordering, never a race): -EINVAL, nothing raised. */
static void test_close_then_send_from_another_vcpu(void **state)
{
	map_shinfo(SHINFO);
	set_callback_vector(VEC);
	uint32_t p = ipi(0);
	send(v, p);
	assert_true(pending(p));
	guest_acks();
	assert_int_equal(port_op(v2, EVTCHNOP_close, p), 0);
	assert_int_equal(port_op(v, EVTCHNOP_send, p), -XEN_EINVAL);
	assert_false(pending(p));
	expect(0, 0, 0, 0);
	assert_int_equal(status(p).status, EVTCHNSTAT_closed);
}

static void test_bind_vcpu(void **state)
{
	map_shinfo(SHINFO);
	set_callback_vector(VEC);
	uint32_t unb = unbound(), i0 = ipi(0), vq = virq(VIRQ_TIMER, 0), idom;
	assert_int_equal(bind(v, EVTCHNOP_bind_interdomain, DOMID_SELF, unb, &idom), 0);
	uint32_t ok[][2] = { { idom, 1 }, { unbound(), 1 } }, bad[][2] = { { i0, 1 }, { vq, 1 }, { 900, 1 }, { 1024, 1 } };
	for (size_t i = 0; i < ARRAY_SIZE(ok); i++)
		assert_int_equal(evtchn(v, EVTCHNOP_bind_vcpu, ok[i], 8), 0);
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		assert_int_equal(evtchn(v, EVTCHNOP_bind_vcpu, bad[i], 8), -XEN_EINVAL);
	assert_int_equal(evtchn(v, EVTCHNOP_bind_vcpu, (uint32_t[2]){ idom, 2 }, 8), -XEN_ENOENT);
	assert_int_equal(status(idom).vcpu, 1);
	assert_int_equal(status(ok[1][0]).vcpu, 1);
	assert_int_equal(status(i0).vcpu, 0);
	guest_acks();
	send(v, unb);              /* fires idom, on vCPU 1 */
	assert_true(pending(idom));
	expect(1, 1, 1, 1);
	expect(0, 0, 0, 0);
}

/* ---- delivery (event_2l.c evtchn_2l_set_pending, evtchn_2l_unmask; vcpu_mark_events_pending) ---- */

static void test_delivery(void **state)
{
	uint64_t sel40 = L->word_bits == 64 ? 1 : 2;            /* bit 40 / BITS_PER_EVTCHN_WORD */
	map_shinfo(SHINFO);
	set_callback_vector(VEC);
	ipis_up_to(40);
	send(v, 40);
	assert_true(pending(40));
	expect(0, 1, sel40, 1);
	assert_int_equal(fake.ipi_icr[0], VEC);
	expect(1, 0, 0, 0);
	/* already pending: nothing more; pending again under a set selector bit: no second interrupt */
	send(v, 40);
	set_gbit(SHINFO + L->pending, 40, false);
	send(v, 39);
	send(v, 40);
	expect(0, 1, sel40, 1);
	/* upcall_pending still set: a newly set selector bit raises nothing either */
	memset(hva(vinfo[0] + L->sel), 0, L->word_bits / 8);
	set_gbit(SHINFO + L->pending, 40, false);
	send(v, 40);
	expect(0, 1, sel40, 1);
	guest_acks();                                           /* an interrupt per 0 -> 1 of upcall_pending */
	send(v, 1);
	expect(0, 1, 1, 1);
	/* a masked port only becomes pending; unmask delivers it */
	guest_acks();
	mask(40);
	send(v, 40);
	assert_true(pending(40));
	expect(0, 0, 0, 0);
	assert_int_equal(port_op(v, EVTCHNOP_unmask, 40), 0);
	assert_false(gbit(SHINFO + L->mask, 40));
	expect(0, 1, sel40, 1);
	guest_acks();                                           /* unmasking a port not pending: nothing */
	mask(7);
	assert_int_equal(port_op(v, EVTCHNOP_unmask, 7), 0);
	expect(0, 0, 0, 0);
	assert_int_equal(port_op(v, EVTCHNOP_unmask, 1024), -XEN_EINVAL);
}

static void test_delivery_vectors(void **state)
{
	map_shinfo(SHINFO);
	uint32_t p0 = ipi(0), p1 = ipi(1);
	/* no vector: upcall_pending, no interrupt; an IPI port fires on its own vCPU */
	send(v, p1);
	expect(1, 1, 1, 0);
	expect(0, 0, 0, 0);
	guest_acks();                                           /* a GSI callback (type 0) has no vector either */
	uint64_t gsi = 5;
	assert_int_equal(hvm_param(HVMOP_set_param, DOMID_SELF, HVM_PARAM_CALLBACK_IRQ, &gsi), 0);
	send(v, p0);
	expect(0, 1, 1, 0);
	set_callback_vector(VEC);                               /* what is pending is raised now */
	expect(0, 1, 1, 1);
	assert_int_equal(fake.ipi_icr[0], VEC);
	/* a vCPU's own vector takes precedence over the callback's */
	guest_acks();
	assert_int_equal(set_upcall_vector(1, 0x50), 0);
	send(v, p1);
	send(v, p0);
	expect(1, 1, 1, 1);
	expect(0, 1, 1, 1);
	assert_int_equal(fake.ipi_icr[1], 0x50);
	assert_int_equal(fake.ipi_icr[0], VEC);
}

static void test_events_before_shinfo_dropped(void **state)
{
	set_callback_vector(VEC);
	uint32_t p = ipi(0);
	send(v, p);
	assert_int_equal(port_op(v, EVTCHNOP_unmask, p), 0);
	assert_int_equal(fake.ipis[0], 0);
	map_shinfo(SHINFO);
	assert_false(pending(p));
	expect(0, 0, 0, 0);
}

/* ---- timers (domain.c VCPUOP_*_timer; VIRQ_TIMER) ---- */

/* VIRQ_TIMER of vCPU 0 bound, delivery on; its port. */
static uint32_t timer_port(void)
{
	map_shinfo(SHINFO);
	set_callback_vector(VEC);
	return virq(VIRQ_TIMER, 0);
}

static void test_singleshot(void **state)
{
	uint32_t p = timer_port();
	assert_int_equal(singleshot(0, 5 * MS, VCPU_SSHOTTMR_future), 0);
	assert_int_equal(hc_vcpu_timers(v, AT(5 * MS) - 1), AT(5 * MS));    /* the counter it is due at */
	assert_false(pending(p));
	assert_int_equal(hc_vcpu_timers(v, AT(5 * MS)), UINT64_MAX);
	assert_true(pending(p));
	expect(0, 1, 1, 1);
	guest_acks();
	assert_int_equal(hc_vcpu_timers(v, AT(50 * MS)), UINT64_MAX);       /* once */
	assert_false(pending(p));
	/* in the past: -ETIME with VCPU_SSHOTTMR_future, else it fires at once */
	fake.counter = AT(10 * MS);
	assert_int_equal(singleshot(0, 10 * MS - 1, VCPU_SSHOTTMR_future), -XEN_ETIME);
	assert_int_equal(singleshot(0, 10 * MS, VCPU_SSHOTTMR_future), 0);  /* now is not the past */
	assert_int_equal(singleshot(0, 1, 0), 0);
	hc_vcpu_timers(v, AT(10 * MS));
	assert_true(pending(p));
	/* one's own vCPU only ("if ( v != current ) return -EINVAL"); stop */
	assert_int_equal(singleshot(1, 20 * MS, 0), -XEN_EINVAL);
	assert_int_equal(vcpu_cmd(VCPUOP_stop_singleshot_timer, 1), -XEN_EINVAL);
	guest_acks();
	assert_int_equal(singleshot(0, 20 * MS, 0), 0);
	assert_int_equal(vcpu_cmd(VCPUOP_stop_singleshot_timer, 0), 0);
	assert_int_equal(hc_vcpu_timers(v, AT(30 * MS)), UINT64_MAX);
	assert_false(pending(p));
	assert_int_equal(hc(v, __HYPERVISOR_vcpu_op, VCPUOP_set_singleshot_timer, 0, RAM - 8), -XEN_EFAULT);
}

/*
 * A 32-bit guest's struct vcpu_set_singleshot_timer is 12 bytes (the
 * compat layout packs uint64_t to 4; common/compat/domain.c copies a
 * compat_vcpu_set_singleshot_timer): one ending at the end of RAM is valid.
 */
static void test_singleshot_compat_size(void **state)
{
	put(RAM - 12, (uint32_t[3]){ 7 * MS, 0, 0 }, 12);
	assert_int_equal(hc(v, __HYPERVISOR_vcpu_op, VCPUOP_set_singleshot_timer, 0, RAM - 12), 0);
}

static void test_periodic(void **state)
{
	uint32_t p = timer_port();
	assert_int_equal(periodic(0, MS - 1), -XEN_EINVAL);
	assert_int_equal(hc(v, __HYPERVISOR_vcpu_op, VCPUOP_set_periodic_timer, 0, RAM - 4), -XEN_EFAULT);
	fake.counter = AT(2 * MS);
	assert_int_equal(periodic(0, 10 * MS), 0);
	/*
	 * Xen vcpu_periodic_timer_work: due one period after it last fired (never yet: at 10 ms);
	 * after a late fire the next period counts from then.
	 */
	static const struct { uint64_t at, next; bool fires; } steps[] = {
		{ 10 * MS - 1, 10 * MS, false }, { 10 * MS, 20 * MS, true }, { 19 * MS, 20 * MS, false },
		{ 20 * MS, 30 * MS, true },
		{ 57 * MS, 67 * MS, true },                    /* late by 2.7 periods: once, then from now */
		{ 66 * MS, 67 * MS, false }, { 67 * MS, 77 * MS, true },
	};
	for (size_t i = 0; i < ARRAY_SIZE(steps); i++) {
		guest_acks();
		uint64_t next = hc_vcpu_timers(v, AT(steps[i].at));
		if (next != AT(steps[i].next) || pending(p) != steps[i].fires)
			fail_fmt("at %llu ns: next %llu ns, fired %d", (unsigned long long)steps[i].at,
			         (unsigned long long)(next - C0) / 2, pending(p));
	}
	assert_int_equal(vcpu_cmd(VCPUOP_stop_periodic_timer, 0), 0);
	guest_acks();
	assert_int_equal(hc_vcpu_timers(v, AT(100 * MS)), UINT64_MAX);
	assert_false(pending(p));
	/* 1 ms is allowed, for another vCPU too (no "v != current" check): its own VIRQ_TIMER */
	uint32_t p1 = virq(VIRQ_TIMER, 1);
	fake.counter = AT(100 * MS);
	assert_int_equal(periodic(1, MS), 0);
	assert_int_equal(hc_vcpu_timers(v2, AT(101 * MS)), AT(102 * MS));
	assert_true(pending(p1));
	expect(1, 1, 1, 1);
}

/* ---- SCHEDOP_block, SCHEDOP_poll (sched/core.c vcpu_block, do_poll) ---- */

static void test_block(void **state)
{
	map_shinfo(SHINFO);
	uint32_t p = ipi(0);
	hva(vinfo[0])[0] = 1;                                  /* an event is there: no sleep */
	assert_int_equal(hc(v, __HYPERVISOR_sched_op, SCHEDOP_block, 0, 0), 0);
	assert_int_equal(v->state, VCPU_RUNNABLE);
	hva(vinfo[0])[0] = 0;
	assert_int_equal(hc(v, __HYPERVISOR_sched_op, SCHEDOP_block, 0, 0), 0);
	assert_int_equal(v->state, VCPU_HALTED);
	send(v2, p);    /* an event wakes it, with no vector to raise */
	assert_int_equal(v->state, VCPU_RUNNABLE);
	expect(0, 1, 1, 0);
}

static void test_poll(void **state)
{
	map_shinfo(SHINFO);
	uint32_t a = ipi(0), b = ipi(0), ports[129] = { a, b }, bad[] = { a, 1024 };
	set_gbit(SHINFO + L->pending, b, true);                /* a listed port pending: at once */
	assert_int_equal(poll_ports(ports, 2, LIST, 0), 0);
	assert_int_equal(v->state, VCPU_RUNNABLE);
	set_gbit(SHINFO + L->pending, b, false);
	assert_int_equal(poll_ports(ports, 129, LIST, 0), -XEN_EINVAL);      /* "Fairly arbitrary limit" */
	assert_int_equal(poll_ports(bad, 2, LIST, 0), -XEN_EINVAL);
	assert_int_equal(poll_ports(NULL, 2, RAM - 4, 0), -XEN_EFAULT);
	assert_int_equal(hc(v, __HYPERVISOR_sched_op, SCHEDOP_poll, RAM - 8, 0), -XEN_EFAULT);
	assert_int_equal(v->state, VCPU_RUNNABLE);
	/* asleep until one of its ports fires */
	assert_int_equal(poll_ports(ports, 2, LIST, 0), 0);
	assert_int_equal(v->state, VCPU_HALTED);
	send(v2, b);
	assert_int_equal(v->state, VCPU_RUNNABLE);
	/* or until the timeout, an absolute system time */
	guest_acks();
	fake.counter = AT(MS);
	assert_int_equal(poll_ports(ports, 1, LIST, 3 * MS), 0);
	assert_int_equal(v->state, VCPU_HALTED);
	assert_int_equal(hc_vcpu_timers(v, AT(3 * MS) - 1), AT(3 * MS));
	assert_int_equal(v->state, VCPU_HALTED);
	hc_vcpu_timers(v, AT(3 * MS));
	assert_int_equal(v->state, VCPU_RUNNABLE);
}

/*
 * event_2l.c evtchn_2l_set_pending ends in evtchn_check_pollers(d, port),
 * masked or not: a poller wakes on a masked port. Linux's PV spinlocks
 * rely on it (arch/x86/xen/spinlock.c: the kicker IPI is disable_irq()ed,
 * i.e. masked, and xen_qlock_wait polls it).
 */
static void test_poll_wakes_on_masked_port(void **state)
{
	map_shinfo(SHINFO);
	set_callback_vector(VEC);
	uint32_t kick = ipi(0);
	mask(kick);
	assert_int_equal(poll_ports(&kick, 1, LIST, 0), 0);
	assert_int_equal(v->state, VCPU_HALTED);
	send(v2, kick);
	assert_true(pending(kick));
	expect(0, 0, 0, 0);                                    /* masked: no upcall */
	assert_int_equal(v->state, VCPU_RUNNABLE);
}

int main(void)
{
#define T(f) { #f, f, setup, teardown, (void *)&L64 }
#define T32(f) { #f "/32", f, setup, teardown, (void *)&L32 }
#define T2(f) T(f), T32(f)
	const struct CMUnitTest tests[] = {
		T2(test_shinfo_contents), T2(test_shinfo_remap_copies), T2(test_physmap_errors),
		T(test_layout_latch), T2(test_hvm_param_rules), T(test_hvm_deprecated_params_einval),
		T(test_upcall_vector_rules), T2(test_vcpu_is_up), T2(test_register_vcpu_info),
		T2(test_struct_at_odd_address), T2(test_struct_across_pages), T2(test_ignored_pad_fields),
		T2(test_private_buffer_efault),
		T(test_vcpu_initialise_refused), T2(test_vcpu_initialise_up_down),
		T2(test_port_allocation), T(test_status_each_state), T(test_bind_errors),
		T(test_interdomain_loopback), T(test_interdomain_like_xen), T(test_close_send_rules),
		T(test_close_then_send_from_another_vcpu),
		T(test_bind_vcpu), T2(test_delivery), T2(test_delivery_vectors),
		T(test_events_before_shinfo_dropped), T2(test_singleshot), T32(test_singleshot_compat_size),
		T(test_periodic), T(test_block), T2(test_poll), T(test_poll_wakes_on_masked_port),
	};
	return cmocka_run_group_tests_name("xen_events", tests, NULL, NULL);
}
