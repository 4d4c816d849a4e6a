/*
 * The hostile guest (guest word storm=K, docs/bad-input.md): K thousand
 * hypercalls with random numbers, random arguments and random pointers,
 * spread over every vCPU at once, through every way a guest has of making
 * them in a VM that speaks hyperv,xen,kvm with ext=on: Hyper-V's page, Xen's
 * page, direct VMMCALL/VMCALL (KVM, the project's calls, any number), at
 * CPL 3, and the ABIs' MSRs. The 64-bit and 32-bit builds each run it;
 * a neighbour VM keeps a canary (isolation.c) meanwhile.
 *   storm.run    every vCPU finished its share (none stuck or faulted)
 *   storm.alive  afterwards each ABI still answers as it should
 *
 * A hostile guest can hurt itself; this one must live to report. So its
 * random values never name its own memory except a sandbox (a few pages
 * of its image) and the low 1 MiB it no longer needs after boot, it runs
 * with interrupts off (whatever the random calls make pending is never
 * taken), and a few calls are tamed before they are made: the ones that
 * end the VM or a vCPU (shutdown, VCPUOP_initialise/down, Hyper-V's reset
 * and crash MSRs), that would sleep for ever (SCHEDOP_block, a poll with
 * no timeout), that would send INIT/SIPI, or that would take pages of its
 * image away (extents larger than a page, unmaps of the sandbox). Every
 * tamed call is still made, with the dangerous field changed.
 */
#include "guest.h"
#include "smp.h"
#include "xen.h"

#define SUITE "storm"
#define SANDBOX_PAGES 8
#define SANDBOX_BYTES (SANDBOX_PAGES * 4096)
/*
 * [0x80000, 1 MiB): free for the storm after boot (docs/guest-boot.md: the
 * page tables, GDT and start info are below 0x10000, the AP trampoline at 0x20000)
 */
#define LOW_BASE 0x80000ul
#define LOW_LIMIT 0x100000ul
#define RAM_BYTES (32ul << 20)          /* storm.cfg: mem=32M */
#define CANARY_DOMID 3                  /* storm.cfg: the canary is the third VM */
#define STORM_WAIT_MS 10000

bool hv_page_enable(void);
uint64_t hv_call_page_gpa(uint64_t input, uint64_t in_gpa, uint64_t out_gpa);

static uint8_t sandbox[SANDBOX_BYTES] __attribute__((aligned(4096)));

/* ---- per-vCPU state ---- */

enum way { WAY_KVM, WAY_HYPERV, WAY_XEN, WAY_EXT, WAY_ANY, WAY_CPL3, WAY_MSR, NR_WAYS };
static const char *const way_names[NR_WAYS] = { "kvm", "hyperv", "xen", "ext", "any", "cpl3", "msr" };

struct storm_cpu {
	uint64_t rng;
	uint64_t calls, by_way[NR_WAYS], faults, tamed;
	struct { ulong ax, bx, cx, dx, si, di; const void *target; uint32_t way; } last;   /* the call in progress */
	volatile uint32_t started, finished;
};
static struct storm_cpu st[SMP_MAX_CPUS];
static const uint8_t *hv_page, *xen_page, *vendor_insn, *other_insn;
static uint32_t xen_msr;
static uint64_t hv_msr_val, xen_msr_val;

static uint64_t rnd(struct storm_cpu *c)
{
	/* xorshift64* */
	c->rng ^= c->rng >> 12;
	c->rng ^= c->rng << 25;
	c->rng ^= c->rng >> 27;
	return c->rng * 2685821657736338717ull;
}

/*
 * A random argument: small numbers (counts, ports, vCPUs, domids: also the
 * low 1 MiB as a frame number), the sandbox (aligned or not, near page
 * ends), low pages, addresses outside the VM (past its RAM, the host's RAM,
 * 4 GiB, far above, wrapping) and wide random values (bit 31 set, so that
 * as a frame number they are never inside the image).
 */
static ulong rv(struct storm_cpu *c)
{
	uint64_t r = rnd(c);
	uint32_t k = (uint32_t)(r >> 32);
	switch (r & 15) {
	case 0: case 1: case 2: return k & 0xff;
	case 3: return k & 7;
	case 4: case 5: return (ulong)sandbox + ((k % SANDBOX_BYTES) & ~7u);
	case 6: return (ulong)sandbox + k % SANDBOX_BYTES;
	case 7: return (ulong)sandbox + (k % SANDBOX_PAGES) * 4096 + 4096 - 8 * (1 + (k >> 24) % 4);
	case 8: return LOW_BASE + ((ulong)(k % ((LOW_LIMIT - LOW_BASE) >> 12)) << 12);
	case 9: return RAM_BYTES + (k % 512) * 0x80000ul + (k >> 28);
	case 10: return 0xfffff000ul + (k & 0xff8);
	case 11: return (ulong)(0x7ff0 + (k & 0xf));                   /* DOMID_SELF and friends */
#ifdef __x86_64__
	case 12: return 1ul << (32 + k % 32);
	case 13: return ~0ul - (k & 0xfff);
#endif
	default: return (ulong)(rnd(c) | 0x80000000ul);
	}
}

/* Fills `words` ulongs at p with random arguments: the structures the call reads. */
static void fill(struct storm_cpu *c, ulong p, unsigned int words)
{
	if (p < (ulong)sandbox || p >= (ulong)sandbox + SANDBOX_BYTES)
		return;
	ulong *w = (ulong *)(p & ~(sizeof(ulong) - 1));
	for (unsigned int i = 0; i < words && (ulong)(w + i + 1) <= (ulong)sandbox + SANDBOX_BYTES; i++)
		w[i] = rv(c);
}

static bool in_sandbox(ulong p, ulong len)
{
	return p >= (ulong)sandbox && p < (ulong)sandbox + SANDBOX_BYTES && len <= (ulong)sandbox + SANDBOX_BYTES - p;
}

/* ---- making a call: every GPR loaded, a CALL to the target (a page's entry or an instruction stub) ---- */

struct regs { ulong ax, bx, cx, dx, si, di; ulong r8, r9, r10; };

/* Unguarded: on an AP (the fault guard is the BSP's); the calls made there never fault at CPL 0. */
static ulong call_target(const void *t, struct regs *g)
{
#ifdef __x86_64__
	register ulong r8 __asm__("r8") = g->r8, r9 __asm__("r9") = g->r9, r10 __asm__("r10") = g->r10;
	__asm__ volatile("call *%[t]"
	                 : "+a"(g->ax), "+b"(g->bx), "+c"(g->cx), "+d"(g->dx), "+S"(g->si), "+D"(g->di),
	                   "+r"(r8), "+r"(r9), "+r"(r10)
	                 : [t] "m"(t) : "memory", "cc", "r11");
#else
	__asm__ volatile("call *%[t]"
	                 : "+a"(g->ax), "+b"(g->bx), "+c"(g->cx), "+d"(g->dx), "+S"(g->si), "+D"(g->di)
	                 : [t] "m"(t) : "memory", "cc");
#endif
	return g->ax;
}

/* Guarded (BSP only): a fault resumes after the call with fault_vector set. */
static ulong call_guarded(const void *t, struct regs *g)
{
	fault_vector = NO_FAULT;
#ifdef __x86_64__
	register ulong r8 __asm__("r8") = g->r8, r9 __asm__("r9") = g->r9, r10 __asm__("r10") = g->r10;
	__asm__ volatile("movl $1, %[armed]\n\t"
	                 "movq $1f, %[recover]\n\t"
	                 "call *%[t]\n\t"
	                 "movl $0, %[armed]\n\t"
	                 "jmp 2f\n"
	                 "1:\tadd $8, %%rsp\n"
	                 "2:"
	                 : "+a"(g->ax), "+b"(g->bx), "+c"(g->cx), "+d"(g->dx), "+S"(g->si), "+D"(g->di),
	                   "+r"(r8), "+r"(r9), "+r"(r10), [armed] "=m"(fault_armed), [recover] "=m"(fault_recover_ip)
	                 : [t] "m"(t) : "memory", "cc", "r11");
#else
	__asm__ volatile("movl $1, %[armed]\n\t"
	                 "movl $1f, %[recover]\n\t"
	                 "call *%[t]\n\t"
	                 "movl $0, %[armed]\n\t"
	                 "jmp 2f\n"
	                 "1:\tadd $4, %%esp\n"
	                 "2:"
	                 : "+a"(g->ax), "+b"(g->bx), "+c"(g->cx), "+d"(g->dx), "+S"(g->si), "+D"(g->di),
	                   [armed] "=m"(fault_armed), [recover] "=m"(fault_recover_ip)
	                 : [t] "m"(t) : "memory", "cc");
#endif
	return g->ax;
}

/* CPL 3: the registers from storm_user_regs, then the instruction, then back (int 0x80). */
ulong storm_user_regs[6];
void storm_user_vmmcall(void);
void storm_user_vmcall(void);
#ifdef __x86_64__
__asm__(".globl storm_user_vmmcall\nstorm_user_vmmcall:\n"
        "\tmov storm_user_regs+8(%rip), %rbx\n\tmov storm_user_regs+16(%rip), %rcx\n"
        "\tmov storm_user_regs+24(%rip), %rdx\n\tmov storm_user_regs+32(%rip), %rsi\n"
        "\tmov storm_user_regs+40(%rip), %rdi\n"
        "\t.byte 0x0f, 0x01, 0xd9\n\tint $0x80\n\tud2\n"
        ".globl storm_user_vmcall\nstorm_user_vmcall:\n"
        "\tmov storm_user_regs+8(%rip), %rbx\n\tmov storm_user_regs+16(%rip), %rcx\n"
        "\tmov storm_user_regs+24(%rip), %rdx\n\tmov storm_user_regs+32(%rip), %rsi\n"
        "\tmov storm_user_regs+40(%rip), %rdi\n"
        "\t.byte 0x0f, 0x01, 0xc1\n\tint $0x80\n\tud2\n");
#else
__asm__(".globl storm_user_vmmcall\nstorm_user_vmmcall:\n"
        "\tmov storm_user_regs+4, %ebx\n\tmov storm_user_regs+8, %ecx\n"
        "\tmov storm_user_regs+12, %edx\n\tmov storm_user_regs+16, %esi\n"
        "\tmov storm_user_regs+20, %edi\n"
        "\t.byte 0x0f, 0x01, 0xd9\n\tint $0x80\n\tud2\n"
        ".globl storm_user_vmcall\nstorm_user_vmcall:\n"
        "\tmov storm_user_regs+4, %ebx\n\tmov storm_user_regs+8, %ecx\n"
        "\tmov storm_user_regs+12, %edx\n\tmov storm_user_regs+16, %esi\n"
        "\tmov storm_user_regs+20, %edi\n"
        "\t.byte 0x0f, 0x01, 0xc1\n\tint $0x80\n\tud2\n");
#endif

/* ---- taming: the calls that would end this guest, with the dangerous field changed ---- */

/* Xen numbers and sub-ops (xen/include/public/xen.h, sched.h, vcpu.h, memory.h, grant_table.h, event_channel.h) */
#define X_MEMORY_OP 12
#define X_MULTICALL 13
#define X_XEN_VERSION 17
#define X_CONSOLE_IO 18
#define X_GRANT_TABLE_OP 20
#define X_VCPU_OP 24
#define X_SCHED_OP 29
#define X_EVENT_CHANNEL_OP 32
#define SCHEDOP_yield 0
#define SCHEDOP_block 1
#define SCHEDOP_shutdown 2
#define SCHEDOP_poll 3
#define SCHEDOP_remote_shutdown 4
#define VCPUOP_initialise 0
#define VCPUOP_down 2
#define VCPUOP_is_up 3
#define EVTCHNOP_bind_interdomain 0
#define GNTTABOP_map_grant_ref 0
#define XENMEM_increase_reservation 0
#define XENMEM_decrease_reservation 1
#define XENMEM_populate_physmap 6
#define XENMEM_add_to_physmap 7
#define XENMEM_remove_from_physmap 15
#define GNTTABOP_copy 5
#define VCPUOP_register_vcpu_info 10
#define XENMAPSPACE_gmfn_range 3

/* A frame the storm may lose: [LOW_BASE, LOW_LIMIT), or none of its RAM at all. */
static ulong expendable_frame(ulong f)
{
	if (f >= (RAM_BYTES >> 12) || (f >= (LOW_BASE >> 12) && f < (LOW_LIMIT >> 12)))
		return f;
	return (LOW_BASE >> 12) + f % ((LOW_LIMIT - LOW_BASE) >> 12);
}

/*
 * Xen's calls (arguments a0..a2; xen_ulong_t and handles are ulong-sized
 * on both sides of the 32/64-bit split): the structure is at a1 for most.
 */
static void tame_xen(struct storm_cpu *c, ulong nr, ulong *a0, ulong *a1, ulong *a2)
{
	ulong p = *a1;
	switch (nr) {
	case X_SCHED_OP:
		if (*a0 == SCHEDOP_block || *a0 == SCHEDOP_shutdown) {
			*a0 = SCHEDOP_yield;
			c->tamed++;
		} else if (*a0 == SCHEDOP_poll) {
			/* { ports ptr, unsigned int nr_ports, uint64_t timeout }: in the sandbox, with a timeout already past */
			if (!in_sandbox(p, 8 + 2 * sizeof(ulong))) {
				p = (ulong)sandbox + ((uint32_t)rnd(c) % (SANDBOX_BYTES / 64)) * 64;
				*a1 = p;
			}
			uint64_t one = 1;
			memcpy((uint8_t *)p + 2 * sizeof(ulong), &one, 8);
		} else if (*a0 == SCHEDOP_remote_shutdown && in_sandbox(p, 2)) {
			uint16_t dom = *(uint16_t *)p;
			if (dom == 0x7ff0 || dom < CANARY_DOMID)        /* itself (its domid is 1 or 2): the canary instead */
				*(uint16_t *)p = CANARY_DOMID;
		}
		break;
	case X_VCPU_OP:
		if (*a0 == VCPUOP_initialise || *a0 == VCPUOP_down) {
			*a0 = VCPUOP_is_up;
			c->tamed++;
		} else if (*a0 == VCPUOP_register_vcpu_info && in_sandbox(*a2, 8)) {
			uint64_t *mfn = (uint64_t *)*a2;                /* { uint64_t mfn; uint32_t offset, rsvd; } */
			*mfn = expendable_frame((ulong)*mfn);
		}
		break;
	case X_MEMORY_OP:
		if ((*a0 & 0xf) == XENMEM_increase_reservation || (*a0 & 0xf) == XENMEM_decrease_reservation ||
		    (*a0 & 0xf) == XENMEM_populate_physmap) {
			/* xen_memory_reservation { extent_start, nr_extents, extent_order, mem_flags, domid }: one page per extent */
			if (in_sandbox(p, 4 * sizeof(ulong))) {
				((ulong *)p)[1] &= 0xff;
				((uint32_t *)(p + 2 * sizeof(ulong)))[0] = 0;
				ulong list = ((ulong *)p)[0];
				for (unsigned int i = 0; i < 32 && in_sandbox(list + i * sizeof(ulong), sizeof(ulong)); i++)
					((ulong *)list)[i] = expendable_frame(((ulong *)list)[i]);
			}
		} else if ((*a0 & 0xf) == XENMEM_add_to_physmap && in_sandbox(p, 4 * sizeof(ulong) + 8)) {
			/* { domid, size, space, idx, gpfn }: no range moves over the image */
			uint32_t *space = (uint32_t *)(p + 4);
			if (*space == XENMAPSPACE_gmfn_range)
				*space = 0;
			ulong *idx = (ulong *)(p + 8), *gpfn = idx + 1;
			*idx = expendable_frame(*idx);
			*gpfn = expendable_frame(*gpfn);
		} else if ((*a0 & 0xf) == XENMEM_remove_from_physmap && in_sandbox(p, 2 * sizeof(ulong))) {
			ulong *gpfn = (ulong *)p + 1;                   /* { domid_t domid; xen_pfn_t gpfn; } */
			*gpfn = expendable_frame(*gpfn);
		}
		break;
	case X_GRANT_TABLE_OP:
		*a2 &= 7;                                           /* batches of at most 7 ops */
		if (*a0 == GNTTABOP_map_grant_ref) {
			/* gnttab_map_grant_ref { uint64_t host_addr; ... } x count (32 bytes each): frames it may lose */
			for (unsigned int i = 0; i < 8 && in_sandbox(p + 32 * i, 8); i++) {
				uint64_t *h = (uint64_t *)(p + 32 * i);
				*h = (uint64_t)expendable_frame((ulong)(*h >> 12)) << 12;
			}
		} else if (*a0 == GNTTABOP_copy) {
			/* gnttab_copy { source, dest { xen_pfn_t gmfn or ref; domid; offset }, len, flags, status }: the dest frame */
			unsigned int size = sizeof(ulong) == 8 ? 40 : 24, dest = 2 * sizeof(ulong);
			for (unsigned int i = 0; i < 8 && in_sandbox(p + size * i + dest, sizeof(ulong)); i++) {
				ulong *f = (ulong *)(p + size * i + dest);
				*f = expendable_frame(*f);
			}
		}
		break;
	case X_EVENT_CHANNEL_OP:
		/* the canary's port is for the end of the storm: not a random bind */
		if (*a0 == EVTCHNOP_bind_interdomain && in_sandbox(p, 2) && *(uint16_t *)p == CANARY_DOMID)
			*(uint16_t *)p = 9;
		break;
	case X_CONSOLE_IO:
		if (*a0 == 0 && (rnd(c) & 1023))
			*a0 = 1;                                    /* CONSOLEIO_write rarely, and short: the log stays readable */
		*a1 &= 15;
		break;
	case X_MULTICALL:
		/* (calls, nr_calls), multicall_entry { op, result, args[6] }: nested calls that could hurt become xen_version */
		p = *a0;
		*a1 &= 3;
		for (unsigned int i = 0; i < 4 && in_sandbox(p + i * 8 * sizeof(ulong), 8 * sizeof(ulong)); i++) {
			ulong *e = (ulong *)(p + i * 8 * sizeof(ulong));
			if (e[0] == X_MEMORY_OP || e[0] == X_SCHED_OP || e[0] == X_VCPU_OP || e[0] == X_GRANT_TABLE_OP ||
			    e[0] == X_EVENT_CHANNEL_OP || e[0] == X_CONSOLE_IO)
				e[0] = X_XEN_VERSION;
		}
		break;
	}
}

/* KVM_HC_SEND_IPI (10; RBX, RCX, RDX, RSI = bitmap, bitmap, min, ICR): fixed or NMI, never INIT or SIPI. */
static void tame_kvm(struct regs *g, uint64_t r)
{
	if (g->ax == 10)
		g->si = (g->si & ~0x700ul) | (r & 0x200 ? 0x400 : 0);
}

/* Hyper-V: HvCallSetVpRegisters (0x51) could write GUEST_CRASH_CTL with its crash bit. */
static void tame_hv(ulong in_gpa, uint64_t input)
{
	if ((input & 0xffff) != 0x51 || (input & (1ull << 16)))
		return;
	for (unsigned int i = 0; i < 16 && in_sandbox(in_gpa + 16 + 32 * i, 32); i++) {
		uint32_t *name = (uint32_t *)(in_gpa + 16 + 32 * i);
		if (*name == 0x215)                                 /* HV_REGISTER_GUEST_CRASH_CTL */
			*name = 0x214;
	}
}

/* ---- one call ---- */

static const uint16_t hv_codes[] = { 0x0002, 0x0003, 0x0008, 0x000b, 0x0013, 0x0014, 0x0015, 0x0050, 0x0051,
                                     0x005c, 0x005d, 0x0099, 0x8001 };
static const uint8_t xen_nrs[] = { 12, 13, 15, 17, 18, 20, 21, 24, 29, 32, 34, 2, 40, 47, 55 };
static const uint8_t kvm_nrs[] = { 1, 5, 9, 10, 11, 12, 2, 3, 4, 13 };
static const uint32_t msrs[] = {
	0x40000000, 0x40000001, 0x40000002, 0x40000020, 0x40000021, 0x40000022, 0x40000070, 0x40000071,
	0x40000072, 0x40000073, 0x40000080, 0x40000081, 0x40000082, 0x40000083, 0x40000084, 0x40000090,
	0x40000095, 0x4000009f, 0x400000b0, 0x400000b1, 0x400000b4, 0x40000100, 0x40000105, 0x40000200,
	0x4b564d00, 0x4b564d01, 0x4b564d02, 0x4b564d03, 0x4b564d04, 0x4b564d05, 0x4b564d08, 0x11, 0x12,
};

static void restore_pages(void)
{
	wrmsr_probe(0x40000000, 0x8100000000000000ull);      /* GUEST_OS_ID: a Linux guest */
	wrmsr_probe(0x40000001, hv_msr_val);
	wrmsr_probe(xen_msr, xen_msr_val);
}

static void one_msr(struct storm_cpu *c)
{
	uint64_t r = rnd(c);
	uint32_t msr = r & 1 ? msrs[(uint32_t)(r >> 8) % (sizeof(msrs) / sizeof(msrs[0]))]
	                     : 0x40000000u + (uint32_t)((r >> 8) & 0x1ff);
	uint64_t val = rv(c) | ((r >> 40) & 1);
	if (r & 2) {
		rdmsr_probe(msr, &val);
		return;
	}
	if (msr == 0x40000003)                                  /* HV_X64_MSR_RESET */
		return;
	if (msr == 0x40000105)                                  /* CRASH_CTL: not the crash bit */
		val &= ~(1ull << 63);
	if (msr == 0x40000001)                                  /* HYPERCALL: not locked */
		val &= ~2ull;
	if (msr == 0x40000071)                                  /* ICR: fixed or NMI only */
		val = (val & ~0x700ull) | (r & 4 ? 0x400 : 0);
	wrmsr_probe(msr, val);
	if (fault_vector != NO_FAULT)
		c->faults++;
	if (msr == 0x40000000 || msr == 0x40000001 || msr == xen_msr)
		restore_pages();                                /* the pages stay where the storm calls them */
}

static void one_call(struct storm_cpu *c, bool bsp)
{
	uint64_t r = rnd(c);
	enum way w = (enum way)((uint32_t)(r & 0xff) % (bsp ? NR_WAYS : WAY_CPL3));
	struct regs g = { rv(c), rv(c), rv(c), rv(c), rv(c), rv(c), rv(c), rv(c), rv(c) };
	const void *target = vendor_insn;
	c->by_way[w]++;
	c->calls++;
	/* the structures the pointer arguments name, with random contents */
	fill(c, g.bx, 12);
	fill(c, g.cx, 12);
	fill(c, g.dx, 12);
	fill(c, g.si, 12);
	fill(c, g.di, 12);
	switch (w) {
	case WAY_KVM:
		g.ax = r & 0x100 ? kvm_nrs[(uint32_t)(r >> 16) % sizeof(kvm_nrs)] : (r >> 16) & 0x1f;
		tame_kvm(&g, r);
		if ((r & 0x400) && bsp)
			target = other_insn;                        /* the other vendor's instruction (guarded: it may #UD) */
		break;
	case WAY_HYPERV: {
		uint64_t in = r & 0x100 ? hv_codes[(uint32_t)(r >> 16) % (sizeof(hv_codes) / sizeof(hv_codes[0]))]
		                        : (r >> 16) & 0x1ff;
		if (!bsp && ((in & 0xffff) == 0x11 || (in & 0xffff) == 0x12))
			in = 0x13;                                  /* VTL call/return raise #UD: the BSP's alone (guarded) */
		in |= (r >> 25 & 1) << 16;                          /* fast */
		if (r & 0x200)
			in |= ((r >> 26) & 0xf) << 32 | ((r >> 30) & 3) << 48;     /* reps, start */
		if (!(r & 0x3c00))
			in |= (uint64_t)(rv(c) & 0x3ff) << 17;                  /* variable header */
		if (!(r & 0x3f000))
			in |= 1ull << (27 + (uint32_t)(r >> 20) % 4) | 1ull << (44 + (uint32_t)(r >> 22) % 4);   /* reserved */
#ifdef __x86_64__
		tame_hv(g.dx, in);                                  /* RCX input, RDX input GPA, R8 output GPA */
		g.cx = in;
		g.r8 = g.si;
#else
		if (!(r & 0xc000))
			g.bx = g.di = 0;                            /* EDX:EAX input, EBX:ECX input GPA, EDI:ESI output */
		tame_hv(g.bx ? ~0ul : g.cx, in);
		g.ax = (uint32_t)in;
		g.dx = (ulong)(in >> 32);
#endif
		target = hv_page;
		break;
	}
	case WAY_XEN: {
		ulong nr = r & 0x100 ? xen_nrs[(uint32_t)(r >> 16) % sizeof(xen_nrs)] : (r >> 16) & 0x3f;
#ifdef __x86_64__
		ulong *a0 = &g.di, *a1 = &g.si;                     /* RDI, RSI, RDX */
#else
		ulong *a0 = &g.bx, *a1 = &g.cx;                     /* EBX, ECX, EDX */
#endif
		if (nr == 23 && !bsp)
			nr = 17;                                    /* the page's iret stub is ud2 (as Xen's): the BSP's alone */
		if (r & 0x200)
			*a0 = (r >> 24) & 0x1f;                     /* a sub-op in range */
		tame_xen(c, nr, a0, a1, &g.dx);
		target = xen_page + (nr & 0x7f) * 32;
		break;
	}
	case WAY_EXT:
		g.ax = 0x4d480000ul + ((r >> 16) & 7);
		if (g.ax == 0x4d480000ul && (rnd(c) & 255))
			g.ax = 0x4d480003ul;                        /* debug_log: a line now and then */
		if (g.ax == 0x4d480000ul)
			g.cx &= 15;
		if (g.ax == 0x4d480001ul || g.ax == 0x4d480002ul) {  /* unmap_gpa_range, mem_attributes: expendable pages only */
			g.bx = expendable_frame(g.bx >> 12) << 12;
			g.cx &= 0xf;
			if (g.bx < LOW_LIMIT && g.bx + (g.cx << 12) > LOW_LIMIT)
				g.cx = 1;
		}
		break;
	case WAY_ANY:
		g.ax = rv(c);
		if ((g.ax & 0xffffffff) == 0x4d480001ul || (g.ax & 0xffffffff) == 0x4d480002ul)
			g.ax = 0x4d480003ul;
		tame_kvm(&g, r);
		if ((r & 0x400) && bsp)
			target = other_insn;
		break;
	case WAY_CPL3:
		memcpy(storm_user_regs, &g, sizeof(storm_user_regs));
		user_call_guarded(r & 0x100 ? rv(c) : (r >> 16) & 0x3f,
		                  r & 0x200 ? storm_user_vmmcall : storm_user_vmcall);
		if (fault_vector != NO_FAULT)
			c->faults++;
		return;
	case WAY_MSR:
		one_msr(c);
		return;
	default:
		return;
	}
	c->last.ax = g.ax, c->last.bx = g.bx, c->last.cx = g.cx, c->last.dx = g.dx, c->last.si = g.si, c->last.di = g.di;
	c->last.target = target;
	c->last.way = w;
	if (bsp) {
		call_guarded(target, &g);
		if (fault_vector != NO_FAULT)
			c->faults++;
	} else {
		call_target(target, &g);
	}
}

/* ---- the run ---- */

static volatile uint32_t go;

static void storm_share(ulong n)
{
	unsigned int me = this_cpu();
	struct storm_cpu *c = &st[me];
	__asm__ volatile("cli");
	c->rng = (me + 1) * 0x9e3779b97f4a7c15ull ^ rdtsc_ordered();
	if (!c->rng)
		c->rng = 1;
	c->started = 1;
	while (!go)
		__asm__ volatile("pause");
	for (ulong i = 0; i < n; i++)
		one_call(c, me == 0);
	c->finished = 1;
	if (me)
		for (;;)
			__asm__ volatile("cli; hlt");               /* parked: nothing it has pending is ever taken */
}

/* After the storm: each ABI answers as before. */
static void check_alive(void)
{
	uint32_t r[4];
	cpuid(0x40000000, r);
	if (r[1] != 0x7263694d)                                 /* "Micr" */
		check_fail("CPUID 0x40000000 ebx 0x%x: not Hyper-V's signature any more", r[1]);
	struct regs g = { 0 };
	g.ax = 1000;                                            /* KVM: an unknown number */
	if (call_guarded(vendor_insn, &g) != (ulong)-1000)
		check_fail("KVM unknown call: %ld, not -KVM_ENOSYS", (long)g.ax);
	/* HvCallFlushVirtualAddressSpace, fast: address space 0, HV_FLUSH_ALL_PROCESSORS | ALL_VIRTUAL_ADDRESS_SPACES */
	uint64_t hv = hv_call_page_gpa(0x0002 | 1ull << 16, 0, 3);
	if (hv != 0)
		check_fail("Hyper-V fast FlushVirtualAddressSpace: 0x%llx, not success", (unsigned long long)hv);
	g = (struct regs){ 0 };
	if (call_guarded(xen_page + X_XEN_VERSION * 32, &g) >> 16 != 4)
		check_fail("Xen xen_version: 0x%lx, not 4.x", g.ax);
	check_done(SUITE, "alive");
}

void storm_checks(unsigned int thousands, unsigned int ncpus, unsigned int peer_canary)
{
	uint32_t r[4];
	ulong total = (ulong)thousands * 1000;
	cpuid_count(0x40000102, 0, r);                          /* Xen is second: its MSR beside Hyper-V */
	xen_msr = r[1];
	cpuid_count(0x40000103, 0, r);
	if (r[2]) {
		smp.tsc_per_ms = r[2];
		smp.tsc_known = true;
	}
	vendor_insn = xen_vendor_insn();
	other_insn = xen_other_insn();
	if (!hv_page_enable() || !xen_page_at(xen_msr)) {
		check_fail("no Hyper-V or Xen hypercall page");
		check_done(SUITE, "run");
		return;
	}
	hv_page = hv_hcall_page();
	xen_page = xen_hcall_page();
	hv_msr_val = (ulong)hv_page | 1;
	xen_msr_val = (ulong)xen_page;
	restore_pages();

	/* every AP starts its share and waits; then all go at once */
	ulong share = total / ncpus;
	for (unsigned int id = 1; id < ncpus; id++)
		if (!smp_post(id, storm_share, share))
			check_fail("AP %u cannot take work", id);
	uint64_t deadline = tsc_after_ms(10000);
	for (unsigned int id = 1; id < ncpus; id++)
		while (!st[id].started && !tsc_passed(deadline))
			__asm__ volatile("pause");
	uint64_t t0 = rdtsc_ordered();
	go = 1;
	storm_share(total - share * (ncpus - 1));
	deadline = tsc_after_ms(STORM_WAIT_MS);
	for (unsigned int id = 1; id < ncpus; id++) {
		while (!st[id].finished && !cpus[id].faulted && !tsc_passed(deadline)) {
			smp_check_ap_faults();                      /* an AP that faulted is parked: its FAIL line */
			__asm__ volatile("pause");
		}
		if (!st[id].finished)
			check_fail("vCPU %u did not finish (%s, %llu calls; the last: %s ax=%lx bx=%lx cx=%lx dx=%lx si=%lx di=%lx at 0x%lx)",
			           id, cpus[id].faulted ? "it faulted" : "stuck", (unsigned long long)st[id].calls,
			           way_names[st[id].last.way], st[id].last.ax, st[id].last.bx, st[id].last.cx, st[id].last.dx,
			           st[id].last.si, st[id].last.di, (ulong)st[id].last.target);
	}
	uint64_t calls = 0, by_way[NR_WAYS] = { 0 }, faults = 0, tamed = 0;
	for (unsigned int id = 0; id < ncpus; id++) {
		calls += st[id].calls;
		faults += st[id].faults;
		tamed += st[id].tamed;
		for (unsigned int w = 0; w < NR_WAYS; w++)
			by_way[w] += st[id].by_way[w];
	}
	print("INFO " SUITE ".run %llu hypercalls and MSR accesses on %u vCPUs in %llu ms (%llu faults taken, %llu tamed):",
	      (unsigned long long)calls, ncpus, (unsigned long long)udiv64(rdtsc_ordered() - t0, smp.tsc_per_ms),
	      (unsigned long long)faults, (unsigned long long)tamed);
	for (unsigned int w = 0; w < NR_WAYS; w++)
		print(" %s %llu", way_names[w], (unsigned long long)by_way[w]);
	print("\n");
	if (calls != total)
		check_fail("%llu calls made, %lu asked for", (unsigned long long)calls, total);
	check_done(SUITE, "run");
	restore_pages();
	check_alive();
	/* ports the storm left open are closed, so one is free for the canary's */
	for (uint32_t port = 1; port < 1024; port++)
		xen_hc(X_EVENT_CHANNEL_OP, 3, (ulong)&port, 0);
	if (peer_canary)
		isolation_tell_done(peer_canary);
}
