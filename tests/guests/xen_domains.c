/*
 * Grant tables and a second domain (xen/include/public/grant_table.h,
 * event_channel.h, memory.h, multicall in xen.h):
 *   xen.grant_table        the table: its size, a frame placed in our
 *                          space, version 1, a copy through a grant to ourselves
 *   xen.continuation       a multicall and a grant copy batch longer than one
 *                          hypercall entry does: results all there, and the
 *                          hypervisor seen re-entering the unfinished call
 *   xen.evtchn_interdomain a channel to the peer domain (peer=N), events both ways
 *   xen.vcpu_up            vCPU 1 reset by INIT, then started by VCPUOP_initialise
 *                          and VCPUOP_up in the mode we run in; it takes itself
 *                          down (VCPUOP_down) and comes back up where it was
 *   xen.grant_map_interdomain  the lower domain ID grants a page; the other maps
 *                          it, reads it, writes back through it, copies from it
 *                          and unmaps it; the granter sees its entry's flags
 *                          follow and the reply in its page
 * The two domains find each other without shared memory: the lower one offers
 * a port to the higher (alloc_unbound), which tries bind_interdomain on each
 * port number until one is offered to it; the grant is entry 8 (the first
 * one Linux hands out). Waits sleep in SCHEDOP_poll on a masked port.
 */
#include "xen.h"
#include "smp.h"

#define __HYPERVISOR_multicall       13
#define __HYPERVISOR_grant_table_op  20
#define XENMEM_add_to_physmap        7
#define XENMAPSPACE_grant_table      1
#define XENVER_version               0
#define EVTCHNOP_bind_interdomain    0
#define EVTCHNOP_send                4
#define EVTCHNOP_status              5
#define EVTCHNOP_alloc_unbound       6
#define EVTCHNSTAT_interdomain       2
#define SCHEDOP_poll                 3
#define GNTTABOP_map_grant_ref   0
#define GNTTABOP_unmap_grant_ref 1
#define GNTTABOP_copy            5
#define GNTTABOP_query_size      6
#define GNTTABOP_set_version     8
#define GTF_permit_access 1
#define GTF_reading       0x0008
#define GTF_writing       0x0010
#define GNTMAP_host_map   0x02
#define GNTCOPY_source_gref 0x1
#define GNTST_bad_domain  (-2)
#define GNTST_general_error (-1)
#define GRANT_REF 8
#define XEN_VERSION (4u << 16 | 17u)
#define NS_PER_MS 1000000ull
#define PEER_WAIT_MS 60000          /* the other domain may still be at its first checks (Bochs) */
#define MAP_AT 0x1800000ul          /* past the 16 MiB of RAM: an empty gfn, as Linux's unpopulated ones */

struct xen_add_to_physmap { uint16_t domid, size; uint32_t space; ulong idx, gpfn; };
struct gnttab_query_size { uint16_t dom; uint32_t nr_frames, max_nr_frames; int16_t status; };
struct gnttab_map_grant_ref {
	uint64_t host_addr;
	uint32_t flags, ref;
	uint16_t dom;
	int16_t status;
	uint32_t handle;
	uint64_t dev_bus_addr;
};
struct gnttab_unmap_grant_ref { uint64_t host_addr, dev_bus_addr; uint32_t handle; int16_t status; };
struct gnttab_copy_ptr { union { uint32_t ref; ulong gmfn; } u; uint16_t domid, offset; };
struct gnttab_copy { struct gnttab_copy_ptr source, dest; uint16_t len, flags; int16_t status; };
_Static_assert(sizeof(struct gnttab_copy) == (sizeof(ulong) == 8 ? 40 : 24), "gnttab_copy layout");
_Static_assert(sizeof(struct gnttab_map_grant_ref) == 32, "gnttab_map_grant_ref layout");
struct grant_entry_v1 { uint16_t flags, domid; uint32_t frame; };
struct multicall_entry { ulong op, result, args[6]; };
struct sched_poll { uint32_t *ports; uint32_t nr_ports; uint64_t timeout; };
struct evtchn_status { uint16_t dom; uint32_t port, status, vcpu; uint32_t u[2]; };

static volatile struct grant_entry_v1 gnt_table[512] __attribute__((aligned(4096)));
static uint8_t granted[4096] __attribute__((aligned(4096)));
static uint8_t copies[4096] __attribute__((aligned(4096)));
static struct multicall_entry calls[200];
static struct gnttab_copy copy_ops[100];
static bool table_placed;
static uint32_t my_port;            /* our end of the channel to the peer */

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
static unsigned int peer_id;

/* prefix followed by n in decimal, into dst (32 bytes) */
static void str_num(char *dst, const char *prefix, unsigned int n)
{
	char digits[12];
	size_t len = strlen(prefix), k = 0;
	memcpy(dst, prefix, len);
	do {
		digits[k++] = (char)('0' + n % 10);
		n /= 10;
	} while (n);
	while (k)
		dst[len++] = digits[--k];
	dst[len] = 0;
}

static ulong gnttab(unsigned int cmd, void *op, unsigned int count)
{
	return xen_hc(__HYPERVISOR_grant_table_op, cmd, (ulong)op, count);
}

/* Frame 0 of our table at gnt_table's gfn: the RAM page there is given up for it. */
static bool place_table(void)
{
	struct xen_add_to_physmap x = { DOMID_SELF, 0, XENMAPSPACE_grant_table, 0, (ulong)gnt_table >> 12 };
	if (!table_placed) {
		expect_xen("add_to_physmap grant_table 0", xen_hc(__HYPERVISOR_memory_op, XENMEM_add_to_physmap, (ulong)&x, 0), 0);
		table_placed = fault_vector == NO_FAULT && gnt_table[GRANT_REF].flags == 0;
	}
	return table_placed;
}

/* Entry ref grants `page` to domain dom: domid and frame, then the flags (Linux gnttab_grant_foreign_access). */
static void grant(unsigned int ref, uint16_t dom, const void *page)
{
	gnt_table[ref].domid = dom;
	gnt_table[ref].frame = (uint32_t)((ulong)page >> 12);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	gnt_table[ref].flags = GTF_permit_access;
}

static void copy_op(struct gnttab_copy *c, uint16_t dom, uint16_t soff, void *dst, uint16_t len)
{
	*c = (struct gnttab_copy){ .source = { .u.ref = GRANT_REF, .domid = dom, .offset = soff },
	                           .dest = { .u.gmfn = (ulong)dst >> 12, .domid = DOMID_SELF,
	                                     .offset = (uint16_t)((ulong)dst & 0xfff) },
	                           .len = len, .flags = GNTCOPY_source_gref, .status = 1 };
}

/* ---- xen.grant_table ---- */

static void check_grant_table(unsigned int domid)
{
	struct gnttab_query_size q = { DOMID_SELF, 0, 0, 1 };
	expect_xen("query_size", gnttab(GNTTABOP_query_size, &q, 1), 0);
	if (q.status || q.nr_frames != 1 || q.max_nr_frames < 1)
		check_fail("query_size: status %d, %u of %u frames; want 0, 1 of >= 1", q.status, q.nr_frames,
		           q.max_nr_frames);
	uint32_t ver = 1;
	expect_xen("set_version 1", gnttab(GNTTABOP_set_version, &ver, 1), 0);
	if (!place_table())
		goto out;
	/* a grant to ourselves, copied from by reference */
	for (unsigned int i = 0; i < 4096; i++)
		granted[i] = (uint8_t)(i * 7 + domid);
	grant(GRANT_REF, (uint16_t)domid, granted);
	struct gnttab_copy c;
	copy_op(&c, (uint16_t)domid, 1000, copies + 8, 100);
	expect_xen("copy from our own grant", gnttab(GNTTABOP_copy, &c, 1), 0);
	if (c.status || memcmp(copies + 8, granted + 1000, 100))
		check_fail("copy: status %d, data %s", c.status, memcmp(copies + 8, granted + 1000, 100) ? "wrong" : "right");
	if (gnt_table[GRANT_REF].flags != GTF_permit_access)
		check_fail("entry flags 0x%x after the copy, want 0x%x", gnt_table[GRANT_REF].flags, GTF_permit_access);
out:
	check_done(XEN_SUITE, "grant_table");
}

/* ---- xen.continuation ---- */

/*
 * The calls are made by `sti; VMCALL; ret` with a local-APIC timer
 * interrupt already pending: STI's shadow keeps it off the first execution.
 * The handler re-arms the timer. An interrupt that finds RIP on the VMCALL
 * with more of the batch done than at the previous interrupt (and not all)
 * can only come from the hypervisor re-entering the unfinished call (Xen
 * hypercall_create_continuation: RIP stays, the arguments move on). One
 * with nothing new done is the timer outrunning the handler: the count
 * then doubles.
 */
static uint8_t cont_stub[8] __attribute__((aligned(16)));
static struct {
	unsigned int (*done)(void);
	unsigned int total;
	volatile unsigned int seen, continued, ticks;
	volatile uint32_t count;
} watch;

static unsigned int multicall_done(void)
{
	unsigned int n = 0;
	while (n < ARRAY_LEN(calls) && ((volatile struct multicall_entry *)calls)[n].result != ~0ul)
		n++;
	return n;
}

static unsigned int copies_done(void)
{
	unsigned int n = 0;
	while (n < ARRAY_LEN(copy_ops) && ((volatile struct gnttab_copy *)copy_ops)[n].status != 1)
		n++;
	return n;
}

static void cont_hook(unsigned int vec)
{
	if (vec != VEC_TIMER)
		return;
	unsigned int done = watch.done();
	if (cpus[0].last_irq_ip == (ulong)cont_stub + 1 && done > watch.seen && done < watch.total)
		watch.continued++;
	else if (done == watch.seen)
		watch.count *= 2;
	watch.seen = done;
	if (done < watch.total && ++watch.ticks < 1000)
		apic_write(APIC_TMICT, watch.count);
}

/* One call through the stub, watched; its result. */
static ulong watched_call(ulong nr, ulong a0, ulong a1, ulong a2, unsigned int (*done)(void), unsigned int total)
{
	watch.done = done;
	watch.total = total;
	watch.seen = watch.continued = watch.ticks = 0;
	watch.count = 1;
	irq_disable();
	cpus[0].irq_hook = cont_hook;
	apic_write(APIC_TDCR, APIC_TDCR_DIV1);
	apic_write(APIC_LVTT, VEC_TIMER);
	apic_write(APIC_TMICT, 1);
	for (unsigned int i = 0; i < 100000 && !apic_irr(VEC_TIMER); i++)
		;
	ulong r = xen_call_at(cont_stub, nr, a0, a1, a2);
	irq_disable();
	apic_write(APIC_LVTT, APIC_LVT_MASKED | VEC_TIMER);
	apic_write(APIC_TMICT, 0);
	irq_window();
	cpus[0].irq_hook = NULL;
	return r;
}

static void check_continuation(unsigned int domid)
{
	const char *why = lapic_absent_reason();
	if (why) {
		check_fail("%s", why);
		goto out;
	}
	lapic_local_init();
	cont_stub[0] = 0xfb;                                  /* sti */
	memcpy(cont_stub + 1, xen_vendor_insn(), 3);
	cont_stub[4] = 0xc3;                                  /* ret */

	/* a multicall of 200 xen_version calls */
	for (unsigned int i = 0; i < ARRAY_LEN(calls); i++)
		calls[i] = (struct multicall_entry){ __HYPERVISOR_xen_version, ~0ul, { XENVER_version, 0 } };
	expect_xen("multicall of 200", watched_call(__HYPERVISOR_multicall, (ulong)calls, ARRAY_LEN(calls), 0,
	                                            multicall_done, ARRAY_LEN(calls)), 0);
	unsigned int wrong = 0;
	for (unsigned int i = 0; i < ARRAY_LEN(calls); i++)
		if (calls[i].result != XEN_VERSION && !wrong++)
			check_fail("multicall entry %u: result 0x%lx, want 0x%x", i, calls[i].result, XEN_VERSION);
	unsigned int mc = watch.continued;

	/* a grant copy batch of 100, a byte each, through a grant to ourselves */
	if (!place_table())
		goto out;
	grant(GRANT_REF, (uint16_t)domid, granted);
	for (unsigned int i = 0; i < ARRAY_LEN(copy_ops); i++)
		copy_op(&copy_ops[i], (uint16_t)domid, (uint16_t)(i * 13), copies + 2048 + i, 1);
	expect_xen("copy batch of 100", watched_call(__HYPERVISOR_grant_table_op, GNTTABOP_copy, (ulong)copy_ops,
	                                             ARRAY_LEN(copy_ops), copies_done, ARRAY_LEN(copy_ops)), 0);
	for (unsigned int i = 0; i < ARRAY_LEN(copy_ops); i++)
		if ((copy_ops[i].status || copies[2048 + i] != granted[i * 13]) && !wrong++)
			check_fail("copy %u: status %d, byte 0x%x, want 0 and 0x%x", i, copy_ops[i].status,
			           copies[2048 + i], granted[i * 13]);
	print("INFO " XEN_SUITE ".continuation interrupts on a continued call: %u (multicall), %u (grant copy)\n",
	      mc, watch.continued);
	if (mc < 2 || watch.continued < 1)
		check_fail("the calls were seen continued %u and %u times, want >= 2 and >= 1", mc, watch.continued);
out:
	check_done(XEN_SUITE, "continuation");
}

/* ---- the peer domain ---- */

/* Sleeps in SCHEDOP_poll until our port is pending (it is masked: no upcall), then clears it. */
static bool wait_peer(const char *what)
{
	uint64_t deadline = tsc_after_ms(PEER_WAIT_MS);
	while (!tsc_passed(deadline)) {
		if (xen_port_take(my_port))
			return true;
		struct sched_poll p = { &my_port, 1, xen_now() + 5 * NS_PER_MS };
		xen_hc(__HYPERVISOR_sched_op, SCHEDOP_poll, (ulong)&p, 0);
	}
	check_fail("%s: nothing from domain %u in %u ms", what, peer_id, PEER_WAIT_MS);
	return false;
}

static void notify_peer(void)
{
	uint32_t p = my_port;
	expect_xen("send", xen_hc(__HYPERVISOR_event_channel_op, EVTCHNOP_send, (ulong)&p, 0), 0);
}

static void check_evtchn_interdomain(unsigned int domid, unsigned int peer)
{
	if (domid < peer) {
		/* the lower ID offers; the peer's bind raises only its own end, so it says hello */
		struct { uint16_t dom, remote; uint32_t port; } a = { DOMID_SELF, (uint16_t)peer, 0 };
		expect_xen("alloc_unbound for the peer", xen_hc(__HYPERVISOR_event_channel_op, EVTCHNOP_alloc_unbound,
		                                                (ulong)&a, 0), 0);
		my_port = a.port;
		xen_port_mask(my_port, true);
		if (!my_port || !wait_peer("hello"))
			goto out;
		notify_peer();
	} else {
		uint64_t deadline = tsc_after_ms(PEER_WAIT_MS);
		while (!my_port && !tsc_passed(deadline)) {
			for (uint32_t p = 1; p < 64 && !my_port; p++) {
				struct { uint16_t dom; uint32_t remote_port, local_port; } b = { (uint16_t)peer, p, 0 };
				ulong r = xen_hc(__HYPERVISOR_event_channel_op, EVTCHNOP_bind_interdomain, (ulong)&b, 0);
				if (!r)
					my_port = b.local_port;
				else if (r != XEN_EINVAL) {
					check_fail("bind_interdomain(%u, %u) gave %ld", peer, p, (long)r);
					goto out;
				}
			}
			if (!my_port)
				xen_hc(__HYPERVISOR_sched_op, 0 /* yield */, 0, 0);
		}
		if (!my_port) {
			check_fail("no port offered by domain %u", peer);
			goto out;
		}
		xen_port_mask(my_port, true);
		if (!xen_port_take(my_port))
			check_fail("port %u not pending after bind_interdomain (Xen raises the new end)", my_port);
		notify_peer();
		if (!wait_peer("reply"))
			goto out;
	}
	struct evtchn_status s = { DOMID_SELF, my_port, 0, 0, { 0, 0 } };
	expect_xen("status", xen_hc(__HYPERVISOR_event_channel_op, EVTCHNOP_status, (ulong)&s, 0), 0);
	if (s.status != EVTCHNSTAT_interdomain || s.u[0] != peer)
		check_fail("status of port %u: %u, domain %u; want interdomain, %u", my_port, s.status, s.u[0], peer);
	print("INFO " XEN_SUITE ".evtchn_interdomain port %u to domain %u port %u\n", my_port, peer, s.u[1]);
out:
	check_done(XEN_SUITE, "evtchn_interdomain");
}

static void check_grant_map_interdomain(unsigned int domid, unsigned int peer)
{
	static const char hello[] = "a page of domain ";
	char want[32];
	if (!my_port || !place_table()) {
		check_fail("no channel or no table");
		goto out;
	}
	str_num(want, hello, domid < peer ? domid : peer);
	/*
	 * A port's pending bit counts nothing: two sends before the peer takes
	 * the first are one event. evtchn_interdomain ended with our "reply" to
	 * the peer, so the peer first says it took it (0: ready); without that,
	 * a fast "granted" merged into "reply" and both sides waited the full
	 * PEER_WAIT_MS (Bochs, once the hypervisor stopped waiting for the UART).
	 */
	if (domid < peer) {
		if (!wait_peer("ready"))                         /* 0: the peer took our reply */
			goto out;
		memset(granted, 0, sizeof(granted));
		memcpy(granted, want, sizeof(want));
		grant(GRANT_REF, (uint16_t)peer, granted);
		notify_peer();                                   /* 1: granted */
		if (!wait_peer("mapped"))                        /* 2: the peer has it mapped and wrote */
			goto out;
		uint16_t f = gnt_table[GRANT_REF].flags;
		if (f != (GTF_permit_access | GTF_reading | GTF_writing))
			check_fail("entry flags 0x%x while mapped, want 0x%x", f, GTF_permit_access | GTF_reading | GTF_writing);
		char reply[32];
		str_num(reply, "written by domain ", peer);
		if (memcmp(granted + 2048, reply, strlen(reply) + 1))
			check_fail("no reply in the granted page: \"%.31s\"", (const char *)granted + 2048);
		notify_peer();                                   /* 3: seen */
		if (!wait_peer("unmapped"))                      /* 4: unmapped */
			goto out;
		if (gnt_table[GRANT_REF].flags != GTF_permit_access)
			check_fail("entry flags 0x%x after the unmap, want 0x%x", gnt_table[GRANT_REF].flags, GTF_permit_access);
		gnt_table[GRANT_REF].flags = 0;                  /* revoked */
	} else {
		notify_peer();                                   /* 0: ready */
		if (!wait_peer("granted"))
			goto out;
		struct gnttab_map_grant_ref m = { MAP_AT, GNTMAP_host_map, GRANT_REF, (uint16_t)peer, 1, 0, 0 };
		struct gnttab_map_grant_ref self = { MAP_AT, GNTMAP_host_map, GRANT_REF, DOMID_SELF, 1, 0, 0 };
		struct gnttab_map_grant_ref other = { MAP_AT + 4096, GNTMAP_host_map, GRANT_REF + 1, (uint16_t)peer, 1, 0, 0 };
		expect_xen("map_grant_ref DOMID_SELF", gnttab(GNTTABOP_map_grant_ref, &self, 1), 0);
		expect_xen("map_grant_ref of an entry not granted", gnttab(GNTTABOP_map_grant_ref, &other, 1), 0);
		if (self.status != GNTST_bad_domain || other.status != GNTST_general_error)
			check_fail("bad maps: status %d and %d, want %d and %d", self.status, other.status, GNTST_bad_domain,
			           GNTST_general_error);
		expect_xen("map_grant_ref", gnttab(GNTTABOP_map_grant_ref, &m, 1), 0);
		if (m.status) {
			check_fail("map_grant_ref status %d", m.status);
			goto out;
		}
		volatile char *page = (volatile char *)MAP_AT;
		if (memcmp((const void *)page, want, strlen(want) + 1))
			check_fail("the mapped page holds \"%.31s\", want \"%s\"", (const char *)page, want);
		char reply[32];
		str_num(reply, "written by domain ", domid);
		memcpy((void *)(page + 2048), reply, strlen(reply) + 1);
		/* a copy by reference sees the same page */
		struct gnttab_copy c;
		copy_op(&c, (uint16_t)peer, 2048, copies, 32);
		expect_xen("copy from the peer's grant", gnttab(GNTTABOP_copy, &c, 1), 0);
		if (c.status || memcmp(copies, reply, strlen(reply) + 1))
			check_fail("copy: status %d, \"%.31s\"", c.status, (const char *)copies);
		notify_peer();                                   /* 2: mapped and written */
		if (!wait_peer("seen"))
			goto out;
		struct gnttab_unmap_grant_ref u = { MAP_AT, 0, m.handle, 1 };
		expect_xen("unmap_grant_ref", gnttab(GNTTABOP_unmap_grant_ref, &u, 1), 0);
		if (u.status)
			check_fail("unmap_grant_ref status %d", u.status);
		notify_peer();                                   /* 4: unmapped (the gfn is empty now: not touched) */
	}
out:
	check_done(XEN_SUITE, "grant_map_interdomain");
}

/* ---- xen.vcpu_up ---- */

#define __HYPERVISOR_vcpu_op_ 24
#define VCPUOP_initialise 0
#define VCPUOP_up         1
#define VCPUOP_down       2
#define VCPUOP_is_up      3
#define AP_MAGIC 0x5a17c0deul

/* struct vcpu_hvm_context (hvm/hvm_vcpu.h): 128 bytes in both builds */
struct vcpu_hvm_context {
	uint32_t mode, pad;
	union {
		struct {
			uint32_t eax, ecx, edx, ebx, esp, ebp, esi, edi, eip, eflags, cr0, cr3, cr4, pad1;
			uint64_t efer;
			uint32_t cs_base, ds_base, ss_base, es_base, tr_base;
			uint32_t cs_limit, ds_limit, ss_limit, es_limit, tr_limit;
			uint16_t cs_ar, ds_ar, ss_ar, es_ar, tr_ar, pad2[3];
		} __attribute__((packed)) x86_32;
		struct { uint64_t rax, rcx, rdx, rbx, rsp, rbp, rsi, rdi, rip, rflags, cr0, cr3, cr4, efer; } x86_64;
	} cpu_regs;
} __attribute__((aligned(8)));
_Static_assert(sizeof(struct vcpu_hvm_context) == 128, "vcpu_hvm_context layout");

static uint8_t ap_stack[4096] __attribute__((aligned(16)));
volatile ulong xen_ap_arg;
static volatile unsigned int ap_runs;

/*
 * Where the hypercall-started AP begins: no GDT, IDT or stack frame of
 * ours, interrupts off. It keeps EBX, counts its runs and takes itself
 * down; each VCPUOP_up resumes it after that call.
 */
void __attribute__((noreturn, used)) xen_ap_main(void)
{
	for (;;) {
		ap_runs++;
		xen_hc(__HYPERVISOR_vcpu_op_, VCPUOP_down, 1, 0);
	}
}
#ifdef __x86_64__
__asm__(".text\n.globl xen_ap_entry\nxen_ap_entry:\n\tmov %rbx, xen_ap_arg(%rip)\n\tjmp xen_ap_main\n");
#else
__asm__(".text\n.globl xen_ap_entry\nxen_ap_entry:\n\tmov %ebx, xen_ap_arg\n\tjmp xen_ap_main\n");
#endif
void xen_ap_entry(void);

static ulong vcpu_op1(unsigned int cmd, void *arg)
{
	return xen_hc(__HYPERVISOR_vcpu_op_, cmd, 1, (ulong)arg);
}

static void check_vcpu_up(void)
{
	struct vcpu_hvm_context c;
	ulong cr0, cr3, cr4;
	__asm__ volatile("mov %%cr0, %0; mov %%cr3, %1; mov %%cr4, %2" : "=r"(cr0), "=r"(cr3), "=r"(cr4));
	memset(&c, 0, sizeof(c));
	if (!smp_require(2, true))
		goto out;
	expect_xen("is_up(1) of a running AP", vcpu_op1(VCPUOP_is_up, NULL), 1);
	expect_xen("initialise of a running AP", vcpu_op1(VCPUOP_initialise, &c), XEN_EEXIST);
	expect_xen("up of a running AP", vcpu_op1(VCPUOP_up, NULL), 0);
	/* INIT resets it: not initialised, not up */
	apic_send(1, ICR_INIT | ICR_LEVEL | ICR_ASSERT);
	apic_send(1, ICR_INIT | ICR_LEVEL);
	expect_xen("is_up(1) after INIT", vcpu_op1(VCPUOP_is_up, NULL), 0);
	expect_xen("up before initialise", vcpu_op1(VCPUOP_up, NULL), XEN_EINVAL);
	c.mode = 7;
	expect_xen("initialise with mode 7", vcpu_op1(VCPUOP_initialise, &c), XEN_EINVAL);
	memset(&c, 0, sizeof(c));
#ifdef __x86_64__
	c.mode = 1;                                           /* VCPU_HVM_MODE_64B */
	c.cpu_regs.x86_64 = (typeof(c.cpu_regs.x86_64)){ .rbx = AP_MAGIC, .rsp = (ulong)ap_stack + sizeof(ap_stack) - 8,
		.rip = (ulong)xen_ap_entry, .rflags = 2, .cr0 = cr0, .cr3 = cr3, .cr4 = cr4, .efer = rdmsr64(MSR_EFER) };
#else
	c.mode = 0;                                           /* VCPU_HVM_MODE_32B: flat, as XTF's APs */
	c.cpu_regs.x86_32.ebx = AP_MAGIC;
	c.cpu_regs.x86_32.esp = (uint32_t)ap_stack + sizeof(ap_stack) - 4;
	c.cpu_regs.x86_32.eip = (uint32_t)xen_ap_entry;
	c.cpu_regs.x86_32.eflags = 2;
	c.cpu_regs.x86_32.cr0 = cr0;
	c.cpu_regs.x86_32.cr3 = cr3;
	c.cpu_regs.x86_32.cr4 = cr4;
	c.cpu_regs.x86_32.cs_limit = c.cpu_regs.x86_32.ds_limit = ~0u;
	c.cpu_regs.x86_32.ss_limit = c.cpu_regs.x86_32.es_limit = ~0u;
	c.cpu_regs.x86_32.tr_limit = 0x67;
	c.cpu_regs.x86_32.cs_ar = 0xc9b;
	c.cpu_regs.x86_32.ds_ar = c.cpu_regs.x86_32.ss_ar = c.cpu_regs.x86_32.es_ar = 0xc93;
	c.cpu_regs.x86_32.tr_ar = 0x8b;
#endif
	expect_xen("initialise", vcpu_op1(VCPUOP_initialise, &c), 0);
	expect_xen("initialise again", vcpu_op1(VCPUOP_initialise, &c), XEN_EEXIST);
	expect_xen("is_up(1) initialised, not up", vcpu_op1(VCPUOP_is_up, NULL), 0);
	if (ap_runs)
		check_fail("the AP ran before VCPUOP_up");
	for (unsigned int round = 1; round <= 2; round++) {
		expect_xen("up", vcpu_op1(VCPUOP_up, NULL), 0);
		/* it runs, then downs itself */
		if (!WAIT_MS(ap_runs == round && vcpu_op1(VCPUOP_is_up, NULL) == 0, 2000)) {
			check_fail("round %u: the AP ran %u times, is_up %ld", round, ap_runs, (long)vcpu_op1(VCPUOP_is_up, NULL));
			goto out;
		}
	}
	if (xen_ap_arg != AP_MAGIC)
		check_fail("the AP started with EBX 0x%lx, want 0x%lx", xen_ap_arg, AP_MAGIC);
	expect_xen("initialise after down", vcpu_op1(VCPUOP_initialise, &c), XEN_EEXIST);
out:
	check_done(XEN_SUITE, "vcpu_up");
}

void xen_domain_checks(unsigned int domid, unsigned int peer)
{
	peer_id = peer;
	check_grant_table(domid);
	check_continuation(domid);
	if (peer) {
		check_evtchn_interdomain(domid, peer);
		check_grant_map_interdomain(domid, peer);
	}
	check_vcpu_up();                  /* last: vCPU 1 stays down */
}
