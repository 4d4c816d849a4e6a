/*
 * Xen checks past discovery: the shared_info page and its clocks, HVM
 * parameters, 2-level event channels and their upcall, the vCPU timers that
 * raise VIRQ_TIMER, SCHEDOP_block/poll and VCPUOP_register_vcpu_info.
 * Layouts and numbers from xen/include/public/: xen.h (shared_info,
 * vcpu_info, vcpu_time_info, VIRQ_*), arch-x86/xen-x86_{32,64}.h,
 * memory.h, hvm/hvm_op.h, hvm/params.h, event_channel.h, vcpu.h, sched.h;
 * the upcall is handled as Linux does (drivers/xen/events/events_2l.c).
 *
 * Runs on vCPU 0 after xen.c's checks (the hypercall page is set up); vCPU 1
 * (guest word smp=2) only takes interrupts. Every wait is bounded: by the TSC
 * (CPUID base+3 gives its rate), and a SCHEDOP_block/poll by a LAPIC one-shot.
 */
#include "smp.h"
#include "xen.h"

/* memory.h */
#define XENMEM_add_to_physmap   7
#define XENMAPSPACE_shared_info 0
struct xen_add_to_physmap {
	uint16_t domid, size;
	uint32_t space;
	ulong idx, gpfn;                    /* xen_ulong_t: 4 bytes for a 32-bit caller */
};

/* hvm/hvm_op.h, hvm/params.h */
#define HVMOP_set_param                0
#define HVMOP_get_param                1
#define HVMOP_set_evtchn_upcall_vector 23
#define HVM_PARAM_CALLBACK_IRQ         0
#define HVM_PARAM_STORE_PFN            1
#define HVM_PARAM_PAE_ENABLED          4    /* deprecated */
#define HVM_NR_PARAMS                  39
#define HVM_PARAM_CALLBACK_TYPE_VECTOR (2ull << 56)
struct xen_hvm_param {
	uint16_t domid;
	uint32_t index;
	uint64_t value;
};
struct xen_hvm_evtchn_upcall_vector {
	uint32_t vcpu;
	uint8_t vector;
};

/* event_channel.h */
#define EVTCHNOP_bind_interdomain 0
#define EVTCHNOP_bind_virq        1
#define EVTCHNOP_close            3
#define EVTCHNOP_send             4
#define EVTCHNOP_status           5
#define EVTCHNOP_alloc_unbound    6
#define EVTCHNOP_bind_ipi         7
#define EVTCHNOP_unmask           9
#define EVTCHNOP_init_control     11        /* FIFO ABI: not offered */
#define EVTCHNSTAT_closed         0
#define EVTCHNSTAT_unbound        1
#define EVTCHNSTAT_interdomain    2
#define EVTCHNSTAT_virq           4
#define EVTCHNSTAT_ipi            5
struct evtchn_alloc_unbound { uint16_t dom, remote_dom; uint32_t port; };
struct evtchn_bind_interdomain { uint16_t remote_dom; uint32_t remote_port, local_port; };
struct evtchn_bind_virq { uint32_t virq, vcpu, port; };
struct evtchn_bind_ipi { uint32_t vcpu, port; };
/* u: unbound {domid_t dom}, interdomain {domid_t dom; evtchn_port_t port}, virq (zeroed first: padding reads 0) */
struct evtchn_status { uint16_t dom; uint32_t port, status, vcpu, u[2]; };

/* xen.h VIRQ_* */
#define VIRQ_TIMER 0
#define VIRQ_DEBUG 1

/* vcpu.h */
#define VCPUOP_set_periodic_timer    6
#define VCPUOP_stop_periodic_timer   7
#define VCPUOP_set_singleshot_timer  8
#define VCPUOP_register_vcpu_info    10
#define VCPU_SSHOTTMR_future         (1u << 0)
struct vcpu_set_singleshot_timer { uint64_t timeout_abs_ns; uint32_t flags; };
struct vcpu_register_vcpu_info { uint64_t mfn; uint32_t offset, rsvd; };

/* sched.h */
#define SCHEDOP_block 1
#define SCHEDOP_poll  3
struct sched_poll {
	uint32_t *ports;                    /* XEN_GUEST_HANDLE(evtchn_port_t): 4 bytes for a 32-bit caller */
	uint32_t nr_ports;
	uint64_t timeout;                   /* absolute system time, ns */
};

/* xen.h struct vcpu_info (arch_vcpu_info: cr2 and pad, 16 bytes in 64-bit, 24 in 32-bit) */
#define WORD_BITS (8 * sizeof(ulong))       /* xen_ulong_t: one selector bit per word of ports */
struct vcpu_info {
	uint8_t evtchn_upcall_pending, evtchn_upcall_mask;
	ulong evtchn_pending_sel;
	ulong arch[32 / sizeof(ulong) - 2];
	struct pvclock_vcpu_time_info time;
};
_Static_assert(sizeof(struct vcpu_info) == 64 && offsetof(struct vcpu_info, time) == 32, "vcpu_info layout");

/* xen.h struct shared_info, up to the wall clock */
struct shared_info {
	struct vcpu_info vcpu_info[32];     /* XEN_LEGACY_MAX_VCPUS */
	ulong evtchn_pending[WORD_BITS];
	ulong evtchn_mask[WORD_BITS];
	uint32_t wc_version, wc_sec, wc_nsec;
};
_Static_assert(offsetof(struct shared_info, wc_version) == (sizeof(ulong) == 8 ? 0xc00 : 0x900), "shared_info layout");

#define SEC_2020      1577836800u
#define NS_PER_MS     1000000ull
#define BACKSTOP_MS   250                 /* far beyond any wake-up expected: only a lost one reaches it */
#define TRACKED_PORTS 128

static union {
	struct shared_info s;
	uint8_t bytes[4096];
} shinfo_page __attribute__((aligned(4096)));
static volatile struct shared_info *const sh = &shinfo_page.s;
static uint8_t own_page[4096] __attribute__((aligned(4096)));   /* register_vcpu_info */
#define OWN_OFFSET 0x140

/* Where each vCPU's vcpu_info is, and what its upcall handler saw. */
static volatile struct vcpu_info *vinfo[2];
static struct {
	volatile uint32_t upcalls, hits[TRACKED_PORTS];
	volatile uint8_t pending_seen;      /* evtchn_upcall_pending on entry */
	volatile ulong sel_seen;            /* the selector it took */
	volatile uint64_t ns;               /* Xen system time then */
} ev[2];
static volatile bool leave_pending;     /* the handler only counts: events stay pending */
static uint32_t domid;

/* ---- calls ---- */

static ulong evtchn(unsigned int cmd, void *arg)
{
	return xen_hc(__HYPERVISOR_event_channel_op, cmd, (ulong)arg, 0);
}

static ulong vcpu_op(unsigned int cmd, unsigned int vcpu, void *arg)
{
	return xen_hc(__HYPERVISOR_vcpu_op, cmd, vcpu, (ulong)arg);
}

static ulong hvm_param(unsigned int op, uint16_t dom, uint32_t index, uint64_t *value)
{
	struct xen_hvm_param p = { dom, index, value ? *value : 0 };
	ulong r = xen_hc(__HYPERVISOR_hvm_op, op, (ulong)&p, 0);
	if (value)
		*value = p.value;
	return r;
}

/* A new port from an op that returns one (its field `port`); 0 after a failed check. */
static uint32_t new_port(const char *what, unsigned int cmd, void *arg, const uint32_t *port)
{
	ulong r = evtchn(cmd, arg);
	expect_xen(what, r, 0);
	return r || fault_vector != NO_FAULT ? 0 : *port;
}

static uint32_t bind_ipi(uint32_t vcpu)
{
	struct evtchn_bind_ipi b = { vcpu, 0 };
	return new_port("bind_ipi", EVTCHNOP_bind_ipi, &b, &b.port);
}

static uint32_t bind_virq(uint32_t virq, uint32_t vcpu)
{
	struct evtchn_bind_virq b = { virq, vcpu, 0 };
	return new_port("bind_virq", EVTCHNOP_bind_virq, &b, &b.port);
}

static uint32_t alloc_unbound(void)
{
	struct evtchn_alloc_unbound a = { DOMID_SELF, DOMID_SELF, 0 };
	return new_port("alloc_unbound", EVTCHNOP_alloc_unbound, &a, &a.port);
}

/* close, send, unmask: a struct of one port */
static void port_op(const char *what, unsigned int cmd, uint32_t port)
{
	if (port)
		expect_xen(what, evtchn(cmd, &port), 0);
}

/* ---- time (xen.h vcpu_time_info, read as Linux pvclock_clocksource_read) ---- */

/* The system time, and in *tsc the TSC it was read at; 0 if the version stays odd. */
static uint64_t xen_time_tsc(const volatile struct pvclock_vcpu_time_info *t, uint64_t *tsc)
{
	for (unsigned int tries = 0; tries < 1000; tries++) {
		uint32_t version = t->version;
		barrier();
		*tsc = rdtsc_ordered();
		uint64_t ns = t->system_time + pvclock_scale(*tsc - t->tsc_timestamp, t->tsc_to_system_mul, t->tsc_shift);
		barrier();
		if (!(version & 1) && version == t->version)
			return ns;
	}
	return 0;
}

static uint64_t xen_time(const volatile struct pvclock_vcpu_time_info *t)
{
	uint64_t tsc;
	return xen_time_tsc(t, &tsc);
}

static uint64_t now0(void)
{
	return xen_time(&vinfo[0]->time);
}

/* ---- the upcall ---- */

/* Linux __xen_evtchn_do_upcall and evtchn_2l_handle_events, on the vCPU it runs on. */
static void handle_events(unsigned int id)
{
	volatile struct vcpu_info *vi = vinfo[id];
	ev[id].pending_seen = vi->evtchn_upcall_pending;
	ev[id].ns = xen_time(&vi->time);
	vi->evtchn_upcall_pending = 0;
	ulong sel = __atomic_exchange_n(&vi->evtchn_pending_sel, 0, __ATOMIC_SEQ_CST);
	ev[id].sel_seen = sel;
	for (; sel; sel &= sel - 1) {
		unsigned int w = (unsigned int)__builtin_ctzl(sel);
		ulong bits = sh->evtchn_pending[w] & ~sh->evtchn_mask[w];
		for (; bits; bits &= bits - 1) {
			unsigned int b = (unsigned int)__builtin_ctzl(bits), port = w * WORD_BITS + b;
			__atomic_fetch_and(&sh->evtchn_pending[w], ~(1ul << b), __ATOMIC_SEQ_CST);   /* clear_evtchn */
			if (port < TRACKED_PORTS)
				ev[id].hits[port]++;
		}
	}
	ev[id].upcalls++;
}

static void upcall_hook(unsigned int vec)
{
	if ((vec == VEC_XEN_CALLBACK || vec == VEC_XEN_UPCALL) && !leave_pending)
		handle_events(this_cpu());
}

/* Interrupts on while waiting up to ms for cond (by the TSC); the value is cond. */
#define XEN_WAIT(cond, ms) ({ irq_enable(); bool xw_ = WAIT_MS(cond, ms); irq_disable(); xw_; })

/* Port p, as the hypervisor marks it: its bit in evtchn_pending / evtchn_mask, and its selector bit. */
static bool port_bit(volatile ulong *words, uint32_t p) { return words[p / WORD_BITS] >> (p % WORD_BITS) & 1; }
static ulong sel_bit(uint32_t p) { return 1ul << (p / WORD_BITS); }

/* What expect_upcall wants: port p handled on vCPU id after vector vec; the counts before the send. */
static struct { unsigned int id, vec; uint32_t port, hits, irqs; } due;

static void upcall_due(unsigned int id, uint32_t p, unsigned int vec)
{
	due.id = id, due.vec = vec, due.port = p;
	due.hits = ev[id].hits[p], due.irqs = cpus[id].irqs[vec];
}

/* Waits for the upcall_due, then 2 ms more: wants exactly one interrupt and one event. */
static void expect_upcall(const char *what)
{
	unsigned int id = due.id, vec = due.vec, p = due.port;
	XEN_WAIT(ev[id].hits[p] != due.hits, 100);
	XEN_WAIT(false, 2);
	if (ev[id].hits[p] - due.hits != 1 || cpus[id].irqs[vec] - due.irqs != 1)
		check_fail("%s: vCPU %u handled port %u %u times, took vector 0x%x %u times; want once", what, id, p,
		           ev[id].hits[p] - due.hits, vec, cpus[id].irqs[vec] - due.irqs);
	else if (!ev[id].pending_seen || !(ev[id].sel_seen & sel_bit(p)))
		check_fail("%s: handler found upcall_pending %u selector 0x%lx, want 1 and bit %u", what,
		           ev[id].pending_seen, (ulong)ev[id].sel_seen, p / (unsigned int)WORD_BITS);
}

/* Sends port p and wants its upcall on vCPU id through vector vec. */
static void send_expect(const char *what, uint32_t p, unsigned int id, unsigned int vec)
{
	upcall_due(id, p, vec);
	port_op("send", EVTCHNOP_send, p);
	expect_upcall(what);
}

/* ---- xen.shared_info ---- */

static ulong map_shinfo(uint16_t dom, ulong idx, ulong gpfn)
{
	struct xen_add_to_physmap x = { dom, 0, XENMAPSPACE_shared_info, idx, gpfn };
	return xen_hc(__HYPERVISOR_memory_op, XENMEM_add_to_physmap, (ulong)&x, 0);
}

static void check_shared_info(void)
{
	ulong gpfn = (ulong)&shinfo_page >> 12;
	memset(&shinfo_page, 0xa5, sizeof(shinfo_page));
	expect_xen("idx 1", map_shinfo(DOMID_SELF, 1, gpfn), XEN_EINVAL);
	expect_xen("gpfn outside RAM", map_shinfo(DOMID_SELF, 0, OOB_GPA >> 12), XEN_EINVAL);
	expect_xen("domain 0's", map_shinfo(0, 0, gpfn), XEN_ESRCH);
	expect_xen("add_to_physmap", map_shinfo(DOMID_SELF, 0, gpfn), 0);
	for (size_t i = offsetof(struct shared_info, evtchn_pending); i < offsetof(struct shared_info, wc_version); i++)
		if (shinfo_page.bytes[i]) {
			check_fail("event bitmap byte 0x%x is 0x%x: page not cleared", (unsigned int)i, shinfo_page.bytes[i]);
			break;
		}
	if (sh->wc_version & 1 || sh->wc_sec < SEC_2020 || sh->wc_nsec >= 1000000000u)
		check_fail("wall clock version %u, %u.%09u s: want even, after 2020", sh->wc_version, sh->wc_sec,
		           sh->wc_nsec);

	/* time: two reads 2 ms of TSC apart move as the TSC does, at CPUID base+3's rate */
	const volatile struct pvclock_vcpu_time_info *t = &sh->vcpu_info[0].time;
	uint64_t tsc0, tsc1, ns0 = xen_time_tsc(t, &tsc0), again = xen_time(t);
	delay_us(2000);
	uint64_t ns1 = xen_time_tsc(t, &tsc1);
	uint64_t want = udiv64((tsc1 - tsc0) * 1000000, smp.tsc_per_ms), slack = want / 100 + 100;
	/* back to back, or a preemption apart when other VMs share the CPU (emulated: tens of ms) */
	if (!t->tsc_to_system_mul || !ns0 || again < ns0 || again - ns0 > 50 * NS_PER_MS)
		check_fail("vcpu_info[0].time: mul %u, reads %llu then %llu", t->tsc_to_system_mul,
		           (unsigned long long)ns0, (unsigned long long)again);
	else if (ns1 - ns0 + slack < want || ns1 - ns0 > want + slack)
		check_fail("system time moved %llu ns while the TSC moved %llu ns", (unsigned long long)(ns1 - ns0),
		           (unsigned long long)want);
	print("INFO " XEN_SUITE ".shared_info system time %llu ns, wall clock at 0: %u s\n", (unsigned long long)ns0,
	      sh->wc_sec);
	check_done(XEN_SUITE, "shared_info");
}

/* ---- xen.hvm_params ---- */

static void check_hvm_params(void)
{
	uint64_t cb = HVM_PARAM_CALLBACK_TYPE_VECTOR | VEC_XEN_CALLBACK, v = 0;
	expect_xen("set CALLBACK_IRQ", hvm_param(HVMOP_set_param, DOMID_SELF, HVM_PARAM_CALLBACK_IRQ, &cb), 0);
	expect_xen("get CALLBACK_IRQ", hvm_param(HVMOP_get_param, DOMID_SELF, HVM_PARAM_CALLBACK_IRQ, &v), 0);
	if (v != cb)
		check_fail("CALLBACK_IRQ reads 0x%llx, want 0x%llx", (unsigned long long)v, (unsigned long long)cb);
	v = ~0ull;
	expect_xen("get STORE_PFN", hvm_param(HVMOP_get_param, (uint16_t)domid, HVM_PARAM_STORE_PFN, &v), 0);
	if (v)
		check_fail("STORE_PFN reads 0x%llx, want 0", (unsigned long long)v);
	expect_xen("set STORE_PFN", hvm_param(HVMOP_set_param, DOMID_SELF, HVM_PARAM_STORE_PFN, &v), XEN_EPERM);
	expect_xen("get index 39", hvm_param(HVMOP_get_param, DOMID_SELF, HVM_NR_PARAMS, &v), XEN_EINVAL);
	expect_xen("set index 39", hvm_param(HVMOP_set_param, DOMID_SELF, HVM_NR_PARAMS, &v), XEN_EINVAL);
	expect_xen("get PAE_ENABLED", hvm_param(HVMOP_get_param, DOMID_SELF, HVM_PARAM_PAE_ENABLED, &v), XEN_EINVAL);
	expect_xen("set PAE_ENABLED", hvm_param(HVMOP_set_param, DOMID_SELF, HVM_PARAM_PAE_ENABLED, &v), XEN_EINVAL);
	expect_xen("get of domain 0", hvm_param(HVMOP_get_param, 0, HVM_PARAM_CALLBACK_IRQ, &v), XEN_ESRCH);
	struct xen_hvm_evtchn_upcall_vector uv = { 0, 0x0f };
	expect_xen("upcall vector 0x0f", xen_hc(__HYPERVISOR_hvm_op, HVMOP_set_evtchn_upcall_vector, (ulong)&uv, 0),
	           XEN_EINVAL);
	uv = (struct xen_hvm_evtchn_upcall_vector){ SMP_MAX_CPUS, VEC_XEN_UPCALL };
	expect_xen("upcall vector of vCPU 8", xen_hc(__HYPERVISOR_hvm_op, HVMOP_set_evtchn_upcall_vector, (ulong)&uv, 0),
	           XEN_ENOENT);
	check_done(XEN_SUITE, "hvm_params");
}

/* ---- xen.evtchn_ipi ---- */

/* Port p sent with interrupts off: pending, and (unless masked) its selector bit and upcall_pending. */
static void expect_marked(const char *what, uint32_t p, bool masked)
{
	volatile struct vcpu_info *vi = vinfo[0];
	bool sel = vi->evtchn_pending_sel & sel_bit(p);
	if (!port_bit(sh->evtchn_pending, p) || sel == masked || vi->evtchn_upcall_pending == masked)
		check_fail("%s: pending bit %u, selector 0x%lx, upcall_pending %u (port %u, masked %u)", what,
		           port_bit(sh->evtchn_pending, p), (ulong)vi->evtchn_pending_sel, vi->evtchn_upcall_pending,
		           p, masked);
}

/* vCPU 1's own port: first the callback vector, then its own upcall vector. */
static void ipi_to_vcpu1(void)
{
	uint32_t q = bind_ipi(1), upcalls0 = ev[0].upcalls;
	if (!q)
		return;
	cpus[1].irq_hook = upcall_hook;
	send_expect("vCPU 1, callback vector", q, 1, VEC_XEN_CALLBACK);
	struct xen_hvm_evtchn_upcall_vector uv = { 1, VEC_XEN_UPCALL };
	expect_xen("set_evtchn_upcall_vector", xen_hc(__HYPERVISOR_hvm_op, HVMOP_set_evtchn_upcall_vector, (ulong)&uv, 0), 0);
	send_expect("vCPU 1, its upcall vector", q, 1, VEC_XEN_UPCALL);
	if (ev[0].upcalls != upcalls0)
		check_fail("vCPU 0 took an upcall for vCPU 1's port");
	port_op("close", EVTCHNOP_close, q);
}

static void check_evtchn_ipi(void)
{
	uint32_t fill[80], n = 0, p;

	/* ports below 70 taken: p/64 and p/32 differ, so the selector shows the layout */
	while (n < 80 && (fill[n] = alloc_unbound()) && fill[n] < 69)
		n++;
	p = bind_ipi(0);
	for (uint32_t i = 0; i <= n && i < 80; i++)
		port_op("close", EVTCHNOP_close, fill[i]);
	if (!p || p >= TRACKED_PORTS) {
		check_fail("IPI port %u", p);
		goto out;
	}
	upcall_due(0, p, VEC_XEN_CALLBACK);
	port_op("send", EVTCHNOP_send, p);
	expect_marked("sent", p, false);
	expect_upcall("sent");

	/* masked: pending only; EVTCHNOP_unmask delivers it (event_channel.h, evtchn_2l_unmask) */
	__atomic_fetch_or(&sh->evtchn_mask[p / WORD_BITS], 1ul << (p % WORD_BITS), __ATOMIC_SEQ_CST);
	port_op("send masked", EVTCHNOP_send, p);
	expect_marked("sent masked", p, true);
	upcall_due(0, p, VEC_XEN_CALLBACK);
	XEN_WAIT(false, 2);
	if (cpus[0].irqs[VEC_XEN_CALLBACK] != due.irqs || ev[0].hits[p] != due.hits)
		check_fail("an upcall for a masked port");
	port_op("unmask", EVTCHNOP_unmask, p);
	if (port_bit(sh->evtchn_mask, p))
		check_fail("EVTCHNOP_unmask left the mask bit set");
	expect_upcall("unmasked");
	port_op("close", EVTCHNOP_close, p);

	if (smp.ncpus >= 2 && smp_require(2, true))
		ipi_to_vcpu1();
	else
		print("INFO " XEN_SUITE ".evtchn_ipi one vCPU (guest word smp=2 for two): vCPU 1 not tried\n");
out:
	smp_check_done(XEN_SUITE, "evtchn_ipi");
}

/* ---- xen.evtchn_ops ---- */

static void expect_status(uint32_t port, uint32_t status, uint32_t vcpu, uint32_t u0, uint32_t u1)
{
	struct evtchn_status s = { .dom = DOMID_SELF, .port = port };
	expect_xen("status", evtchn(EVTCHNOP_status, &s), 0);
	if (s.status != status || s.vcpu != vcpu || s.u[0] != u0 || s.u[1] != u1)
		check_fail("port %u: status %u vcpu %u u %u,%u; want %u %u %u,%u", port, s.status, s.vcpu, s.u[0], s.u[1],
		           status, vcpu, u0, u1);
}

static void evtchn_errors(void)
{
	struct evtchn_status st = { .dom = DOMID_SELF, .port = 5000 };
	struct evtchn_bind_ipi ipi = { SMP_MAX_CPUS, 0 };
	struct evtchn_bind_virq virq = { VIRQ_DEBUG, SMP_MAX_CPUS, 0 };
	struct evtchn_alloc_unbound other = { DOMID_SELF, 0, 0 };
	struct evtchn_bind_interdomain bi = { 0, 1, 0 };
	uint32_t bad = 5000;
	expect_xen("status of port 5000", evtchn(EVTCHNOP_status, &st), XEN_EINVAL);
	expect_xen("send on port 5000", evtchn(EVTCHNOP_send, &bad), XEN_EINVAL);
	expect_xen("bind_ipi to vCPU 8", evtchn(EVTCHNOP_bind_ipi, &ipi), XEN_ENOENT);
	expect_xen("bind_virq on vCPU 8", evtchn(EVTCHNOP_bind_virq, &virq), XEN_ENOENT);
	/* Xen does not look the remote domain up: the port waits for a domain 0 that never comes */
	uint32_t unused = new_port("alloc_unbound for domain 0", EVTCHNOP_alloc_unbound, &other, &other.port);
	port_op("close", EVTCHNOP_close, unused);
	expect_xen("bind_interdomain to domain 0", evtchn(EVTCHNOP_bind_interdomain, &bi), XEN_ESRCH);
	st.dom = 0;
	expect_xen("status in domain 0", evtchn(EVTCHNOP_status, &st), XEN_ESRCH);
	expect_xen("init_control (FIFO)", evtchn(EVTCHNOP_init_control, &bad), XEN_ENOSYS);
}

static void check_evtchn_ops(void)
{
	uint32_t a = alloc_unbound(), ipi = bind_ipi(0), virq = bind_virq(VIRQ_DEBUG, 0);
	expect_status(a, EVTCHNSTAT_unbound, 0, domid, 0);
	expect_status(ipi, EVTCHNSTAT_ipi, 0, 0, 0);
	expect_status(virq, EVTCHNSTAT_virq, 0, VIRQ_DEBUG, 0);
	struct evtchn_bind_virq twice = { VIRQ_DEBUG, 0, 0 };
	expect_xen("VIRQ_DEBUG bound twice", evtchn(EVTCHNOP_bind_virq, &twice), XEN_EEXIST);

	/* a loopback channel: each end's send arrives on the other */
	struct evtchn_bind_interdomain bi = { DOMID_SELF, a, 0 };
	uint32_t b = new_port("bind_interdomain", EVTCHNOP_bind_interdomain, &bi, &bi.local_port);
	if (a && b && a < TRACKED_PORTS && b < TRACKED_PORTS) {
		expect_status(a, EVTCHNSTAT_interdomain, 0, domid, b);
		expect_status(b, EVTCHNSTAT_interdomain, 0, domid, a);
		upcall_due(0, b, VEC_XEN_CALLBACK);
		port_op("send on a", EVTCHNOP_send, a);
		expect_upcall("a to b");
		upcall_due(0, a, VEC_XEN_CALLBACK);
		port_op("send on b", EVTCHNOP_send, b);
		expect_upcall("b to a");
		/* closing one end leaves the other unbound (Xen evtchn_close) */
		port_op("close b", EVTCHNOP_close, b);
		expect_status(b, EVTCHNSTAT_closed, 0, 0, 0);
		expect_status(a, EVTCHNSTAT_unbound, 0, domid, 0);
		expect_xen("close of a closed port", evtchn(EVTCHNOP_close, &b), XEN_EINVAL);
	} else {
		check_fail("ports %u and %u", a, b);
	}
	port_op("close", EVTCHNOP_close, a);
	port_op("close", EVTCHNOP_close, ipi);
	port_op("close", EVTCHNOP_close, virq);
	evtchn_errors();
	check_done(XEN_SUITE, "evtchn_ops");
}

/* ---- xen.virq_timer ---- */

static ulong singleshot(uint64_t at, uint32_t flags)
{
	struct vcpu_set_singleshot_timer s = { at, flags };
	return vcpu_op(VCPUOP_set_singleshot_timer, 0, &s);
}

static ulong periodic(uint64_t ns)
{
	return vcpu_op(VCPUOP_set_periodic_timer, 0, &ns);
}

/* Waits for `count` more VIRQ_TIMER upcalls on port t; the last must come at or after `not_before`. */
static bool timer_events(const char *what, uint32_t t, unsigned int count, uint64_t not_before)
{
	uint32_t seen = ev[0].hits[t];
	if (!XEN_WAIT(ev[0].hits[t] - seen >= count, 100 * count)) {
		check_fail("%s: %u of %u events within %u ms", what, ev[0].hits[t] - seen, count, 100 * count);
		return false;
	}
	if (ev[0].ns < not_before) {
		check_fail("%s: handled at system time %llu, before %llu", what, (unsigned long long)ev[0].ns,
		           (unsigned long long)not_before);
		return false;
	}
	return true;
}

static void check_virq_timer(void)
{
	uint32_t t = bind_virq(VIRQ_TIMER, 0);
	if (!t || t >= TRACKED_PORTS)
		goto out;
	/* far enough ahead that losing the CPU before the call cannot make it the past (-ETIME) */
	uint64_t at = now0() + 20 * NS_PER_MS;
	expect_xen("singleshot 20 ms ahead", singleshot(at, VCPU_SSHOTTMR_future), 0);
	timer_events("singleshot", t, 1, at);
	expect_xen("singleshot in the past", singleshot(now0() - NS_PER_MS, VCPU_SSHOTTMR_future), XEN_ETIME);

	expect_xen("periodic 0.5 ms", periodic(NS_PER_MS / 2), XEN_EINVAL);
	uint64_t start = now0();
	expect_xen("periodic 1 ms", periodic(NS_PER_MS), 0);
	/* the first is due a period after the timer last fired (Xen): at once here; then one per period */
	timer_events("periodic", t, 4, start + 3 * NS_PER_MS);
	expect_xen("stop_periodic_timer", vcpu_op(VCPUOP_stop_periodic_timer, 0, NULL), 0);
	XEN_WAIT(false, 2);                          /* one already on its way */
	uint32_t seen = ev[0].hits[t];
	XEN_WAIT(false, 5);
	if (ev[0].hits[t] != seen)
		check_fail("%u events after stop_periodic_timer", ev[0].hits[t] - seen);
	port_op("close", EVTCHNOP_close, t);
out:
	check_done(XEN_SUITE, "virq_timer");
}

/* ---- xen.sched_block_poll ---- */

/*
 * SCHEDOP_block/poll with interrupts on and a LAPIC one-shot (1 ns ticks,
 * lapic_timer.c) that wakes it if the hypervisor doesn't; *end: the system
 * time after. False (a failed check) if it failed or slept until the backstop.
 */
static bool sched_wait(const char *what, unsigned int cmd, void *arg, uint64_t *end)
{
	uint32_t backstops = cpus[0].irqs[VEC_TIMER];
	apic_write(APIC_TDCR, APIC_TDCR_DIV1);
	apic_write(APIC_LVTT, VEC_TIMER);
	apic_write(APIC_TMICT, BACKSTOP_MS * NS_PER_MS);
	irq_enable();
	ulong r = xen_hc(__HYPERVISOR_sched_op, cmd, (ulong)arg, 0);
	irq_disable();
	apic_write(APIC_LVTT, APIC_LVT_MASKED | VEC_TIMER);
	apic_write(APIC_TMICT, 0);
	*end = now0();
	expect_xen(what, r, 0);
	if (cpus[0].irqs[VEC_TIMER] == backstops)
		return !r && fault_vector == NO_FAULT;
	check_fail("%s: asleep until the %u ms backstop", what, BACKSTOP_MS);
	return false;
}

/*
 * A call that must not sleep: back before the 40 ms poll timeout (and the
 * backstop) that a sleep would end at. Not "within N us": under
 * emulation the few exits around the call take milliseconds of real time,
 * 15 ms seen on a loaded machine.
 */
#define SOON_TIMEOUT_MS 40
static void expect_soon(const char *what, unsigned int cmd, void *arg)
{
	uint64_t start = now0(), end;
	if (sched_wait(what, cmd, arg, &end) && end - start >= (SOON_TIMEOUT_MS - 5) * NS_PER_MS)
		check_fail("%s: took %llu ns, want at once", what, (unsigned long long)(end - start));
}

static void check_sched_block_poll(void)
{
	uint32_t p = bind_ipi(0), t = bind_virq(VIRQ_TIMER, 0);
	uint64_t end;
	if (!p || !t || t >= TRACKED_PORTS || smp.no_apic) {
		check_fail("ports %u, %u; %s", p, t, smp.no_apic ? smp.no_apic : "a LAPIC");
		goto out;
	}
	/* poll, nothing pending: back at the timeout (sched.h: absolute system time) */
	struct sched_poll poll = { &p, 1, now0() + 2 * NS_PER_MS };
	if (sched_wait("poll until the timeout", SCHEDOP_poll, &poll, &end) && end < poll.timeout)
		check_fail("poll returned at %llu, before its timeout %llu", (unsigned long long)end,
		           (unsigned long long)poll.timeout);

	/* poll, the port pending (masked: no upcall to end it otherwise) */
	__atomic_fetch_or(&sh->evtchn_mask[p / WORD_BITS], 1ul << (p % WORD_BITS), __ATOMIC_SEQ_CST);
	port_op("send masked", EVTCHNOP_send, p);
	poll.timeout = now0() + SOON_TIMEOUT_MS * NS_PER_MS;
	expect_soon("poll of a pending port", SCHEDOP_poll, &poll);
	__atomic_fetch_and(&sh->evtchn_pending[p / WORD_BITS], ~(1ul << (p % WORD_BITS)), __ATOMIC_SEQ_CST);
	__atomic_fetch_and(&sh->evtchn_mask[p / WORD_BITS], ~(1ul << (p % WORD_BITS)), __ATOMIC_SEQ_CST);

	/* block with upcall_pending set (the handler leaves it): returns at once */
	leave_pending = true;
	port_op("send", EVTCHNOP_send, p);
	expect_soon("block with an event pending", SCHEDOP_block, NULL);
	leave_pending = false;
	handle_events(0);

	/*
	 * block until the single-shot timer's event. The handler leaves it
	 * pending: a timer that fires before the block (this vCPU lost the CPU
	 * for 2 ms, other VMs running) must still end it, as Xen's block does.
	 */
	uint32_t seen = ev[0].hits[t];
	uint64_t at = now0() + 2 * NS_PER_MS;
	leave_pending = true;
	expect_xen("singleshot 2 ms ahead", singleshot(at, VCPU_SSHOTTMR_future), 0);
	bool woke = sched_wait("block until the timer", SCHEDOP_block, NULL, &end);
	leave_pending = false;
	handle_events(0);
	if (woke && (ev[0].hits[t] == seen || ev[0].ns < at))
		check_fail("block returned at %llu; timer events %u, last handled at %llu (due %llu)",
		           (unsigned long long)end, ev[0].hits[t] - seen, (unsigned long long)ev[0].ns,
		           (unsigned long long)at);
out:
	port_op("close", EVTCHNOP_close, p);
	port_op("close", EVTCHNOP_close, t);
	check_done(XEN_SUITE, "sched_block_poll");
}

/* ---- xen.runstate (vcpu.h struct vcpu_runstate_info; xen.h VMASST_TYPE_runstate_update_flag) ---- */

#define VCPUOP_register_runstate_memory_area 5
#define __HYPERVISOR_vm_assist 21
#define VMASST_CMD_enable 0
#define VMASST_TYPE_runstate_update_flag 5
#define RUNSTATE_running 0
#define RUNSTATE_runnable 1
#define RUNSTATE_blocked 2
#define XEN_RUNSTATE_UPDATE (1ull << 63)

/* The natural layout is the guest's own in both builds: 48 bytes, or 44 (uint64_t 4-aligned on i386). */
static volatile struct vcpu_runstate_info {
	int state;
	uint64_t state_entry_time;
	uint64_t time[4];
} runstate;

/* A consistent copy, as Linux's xen_get_runstate_snapshot: retry while the update flag is set or it moved. */
static struct vcpu_runstate_info runstate_snapshot(void)
{
	struct vcpu_runstate_info r;
	uint64_t entry;
	do {
		entry = runstate.state_entry_time;
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		r.state = runstate.state;
		for (unsigned i = 0; i < 4; i++)
			r.time[i] = runstate.time[i];
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
	} while ((entry & XEN_RUNSTATE_UPDATE) || entry != runstate.state_entry_time);
	r.state_entry_time = entry;
	return r;
}

/* Registered, the area says "running"; a 2 ms poll later it holds 2 ms more of "blocked". */
static void check_runstate(void)
{
	uint64_t addr = (ulong)&runstate, end;
	expect_xen("vm_assist runstate_update_flag", xen_hc(__HYPERVISOR_vm_assist, VMASST_CMD_enable,
	                                                    VMASST_TYPE_runstate_update_flag, 0), 0);
	expect_xen("register_runstate_memory_area", xen_hc(__HYPERVISOR_vcpu_op,
	           VCPUOP_register_runstate_memory_area, 0, (ulong)&addr), 0);
	struct vcpu_runstate_info a = runstate_snapshot();
	uint64_t now = now0();
	if (a.state != RUNSTATE_running || a.state_entry_time > now || a.time[RUNSTATE_running] == 0)
		check_fail("state %d since %llu (now %llu), running %llu ns", a.state,
		           (unsigned long long)a.state_entry_time, (unsigned long long)now,
		           (unsigned long long)a.time[RUNSTATE_running]);
	/* a poll may end early (Xen wakes pollers on any event): poll again until the time is reached */
	struct sched_poll poll = { NULL, 0, now0() + 2 * NS_PER_MS };
	do
		sched_wait("poll, no ports, 2 ms", SCHEDOP_poll, &poll, &end);
	while (end < poll.timeout);
	struct vcpu_runstate_info b = runstate_snapshot();
	/*
	 * Most of the 2 ms off the CPU: asleep, or woken (a poll may end early)
	 * and waiting for it while other vCPUs and VMs have their slices.
	 */
	uint64_t blocked = b.time[RUNSTATE_blocked] - a.time[RUNSTATE_blocked];
	uint64_t waited = b.time[RUNSTATE_runnable] - a.time[RUNSTATE_runnable];
	if (b.state != RUNSTATE_running || !blocked || blocked + waited < NS_PER_MS || b.state_entry_time < poll.timeout)
		check_fail("after a 2 ms sleep: state %d since %llu, blocked %llu ns and runnable %llu ns more", b.state,
		           (unsigned long long)b.state_entry_time, (unsigned long long)blocked, (unsigned long long)waited);
	/* every ns up to the last change is in exactly one state: the times add up to state_entry_time */
	for (unsigned int k = 0; k < 2; k++) {
		const struct vcpu_runstate_info *r = k ? &b : &a;
		uint64_t sum = r->time[0] + r->time[1] + r->time[2] + r->time[3];
		if (sum != r->state_entry_time)
			check_fail("times add up to %llu, state_entry_time %llu", (unsigned long long)sum,
			           (unsigned long long)r->state_entry_time);
	}
	addr = 0;                                    /* no more updates */
	xen_hc(__HYPERVISOR_vcpu_op, VCPUOP_register_runstate_memory_area, 0, (ulong)&addr);
	check_done(XEN_SUITE, "runstate");
}

/* ---- xen.register_vcpu_info ---- */

static ulong register_at(uint64_t gfn, uint32_t offset)
{
	struct vcpu_register_vcpu_info r = { gfn, offset, 0 };
	return vcpu_op(VCPUOP_register_vcpu_info, 0, &r);
}

static void check_register_vcpu_info(void)
{
	uint64_t gfn = (ulong)own_page >> 12;
	volatile struct vcpu_info *mine = (volatile struct vcpu_info *)(own_page + OWN_OFFSET);
	memset(own_page, 0xa5, sizeof(own_page));
	/* Xen 4.17 map_vcpu_info: an offset whose slot crosses the page, or not aligned, is -ENXIO */
	expect_xen("offset 4064", register_at(gfn, 4096 - 32), XEN_ENXIO);         /* crosses the page */
	expect_xen("offset 0x41", register_at(gfn, 0x41), XEN_ENXIO);
	expect_xen("gfn outside RAM", register_at(OOB_GPA >> 12, 0), XEN_EINVAL);
	uint64_t before = now0();
	if (register_at(gfn, OWN_OFFSET)) {
		check_fail("register_vcpu_info failed");
		goto out;
	}
	vinfo[0] = mine;
	uint64_t ns = now0();
	if (own_page[OWN_OFFSET - 1] != 0xa5 || own_page[OWN_OFFSET + 64] != 0xa5 || ns < before ||
	    ns > before + 100 * NS_PER_MS || mine->evtchn_upcall_pending)
		check_fail("new vcpu_info: neighbours 0x%x 0x%x, time %llu after %llu, upcall_pending %u",
		           own_page[OWN_OFFSET - 1], own_page[OWN_OFFSET + 64], (unsigned long long)ns,
		           (unsigned long long)before, mine->evtchn_upcall_pending);

	uint32_t p = bind_ipi(0);
	if (p && p < TRACKED_PORTS) {
		upcall_due(0, p, VEC_XEN_CALLBACK);
		port_op("send", EVTCHNOP_send, p);
		if (!mine->evtchn_upcall_pending || !(mine->evtchn_pending_sel & sel_bit(p)) ||
		    sh->vcpu_info[0].evtchn_upcall_pending)
			check_fail("event marked: new upcall_pending %u selector 0x%lx, old upcall_pending %u",
			           mine->evtchn_upcall_pending, (ulong)mine->evtchn_pending_sel,
			           sh->vcpu_info[0].evtchn_upcall_pending);
		expect_upcall("through the new vcpu_info");
		port_op("close", EVTCHNOP_close, p);
	}
	expect_xen("second registration", register_at(gfn, OWN_OFFSET + 64), XEN_EINVAL);
out:
	check_done(XEN_SUITE, "register_vcpu_info");
}

/* ---- for xen_domains.c ---- */

bool xen_port_take(uint32_t p)
{
	ulong bit = 1ul << (p % WORD_BITS);
	return __atomic_fetch_and(&sh->evtchn_pending[p / WORD_BITS], ~bit, __ATOMIC_SEQ_CST) & bit;
}

void xen_port_mask(uint32_t p, bool on)
{
	ulong bit = 1ul << (p % WORD_BITS);
	if (on)
		__atomic_fetch_or(&sh->evtchn_mask[p / WORD_BITS], bit, __ATOMIC_SEQ_CST);
	else
		__atomic_fetch_and(&sh->evtchn_mask[p / WORD_BITS], ~bit, __ATOMIC_SEQ_CST);
}

uint64_t xen_now(void)
{
	return now0();
}

/* ---- driver ---- */

void xen_events_checks(unsigned int dom)
{
	uint32_t r[4];
	cpuid_count(XEN_CPUID_BASE + 4, 0, r);
	domid = dom ? dom : r[2];
	irq_disable();
	if (!smp.ncpus)
		smp_init(1);
	cpuid_count(XEN_CPUID_BASE + 3, 0, r);
	if (r[2]) {
		smp.tsc_per_ms = r[2];               /* TSC kHz = ticks per ms */
		smp.tsc_known = true;
	}
	vinfo[0] = &sh->vcpu_info[0];
	vinfo[1] = &sh->vcpu_info[1];
	cpus[0].irq_hook = upcall_hook;
	check_shared_info();
	check_hvm_params();
	check_evtchn_ipi();
	check_evtchn_ops();
	check_virq_timer();
	check_sched_block_poll();
	check_runstate();
	check_register_vcpu_info();
	cpus[0].irq_hook = cpus[1].irq_hook = NULL;
}
