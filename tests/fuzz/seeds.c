/*
 * Seed inputs for the libFuzzer harnesses (tests/fuzz/fuzz_{kvm,hyperv,xen,multi}.c):
 * `seeds OUTDIR` writes OUTDIR/{kvm,hyperv,xen,multi}/seed-NAME, each one
 * episode in fuzz_engine.c's byte format that replays a scenario of the
 * unit tests (tests/unit/test_*.c, named in each seed's name): the same
 * calls with valid arguments, the structures they point at poked into guest
 * memory first, so the fuzzer starts from deep, valid states rather than
 * from calls that fail their first argument check.
 *
 * Regenerate the corpus in the tree with `make fuzz-seeds` (it builds
 * $(BUILD)/fuzz/seeds from this file and runs it on tests/fuzz/corpus).
 * Old seed-* files in the harness directories are removed first; other
 * files there are left alone.
 *
 * The encoder below mirrors the decoders of tests/fuzz/fuzz_engine.c byte
 * for byte (take8/take, gaddr, value, hv_input, op_call, pick_msr, ...):
 * a change there must be made here too. Values are little-endian; the host
 * is assumed little-endian as well (structures are poked as host arrays).
 */
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hypercalls/ext/ext_abi.h"
#include "hypercalls/hyperv/hv_abi.h"
#include "hypercalls/kvm/kvm_abi.h"
#include "hypercalls/xen/xen_abi.h"
#include "tests/fuzz/fuzz_engine.h"

/* hypercalls/hypercall.h HC_CPUID_BASE (that header does not build on its own here) */
#define CPUID_BASE 0x40000000u


/* fuzz_engine.c run_op: the op byte (op % 16) */
enum {
	OP_CALL = 0,          /* 0-6 */
	OP_CALL_AGAIN = 7,    /* not used by the seeds (a register index, then its value) */
	OP_MSR_WRITE = 8,
	OP_MSR_READ = 9,
	OP_CPUID = 10,
	OP_POKE = 11,         /* 11-12 */
	OP_TIME = 13,
	OP_SCHED = 14,
	OP_PEER_END = 15,     /* 15 without bit 4 */
	OP_BALLOON = 0x1f,    /* 15 with bit 4 */
};

/* fuzz_engine.c op_sched: b % 6 */
enum { SCHED_SCHEDULED, SCHED_PREEMPTED, SCHED_RUNSTATE, SCHED_WAKE, SCHED_INIT, SCHED_CLOCK_CHANGED };

/* fuzz_engine.c op_time: steps[] (host counter ticks; the engine's counter runs at 2 GHz) */
enum { T_1TICK, T_500NS, T_50US, T_1MS, T_1S };

/* fuzz_engine.c op_call: the mode byte */
#define M64    0x00
#define M32    0x02           /* MODE_PROT32 */
#define MREAL  0x83           /* MODE_REAL */
#define CPL3   0x0c
#define VMCALL 0x10           /* HC_INSN_VMCALL instead of VMMCALL */
/* (bit 5: a continued call is left pending; bit 6: a call from its interrupt handler; unused here) */

/* fuzz_engine.c pick_vcpu: bit 0 the neighbour VM, bits 1-7 the vCPU */
#define V(i)    ((uint8_t)((i) << 1))
#define PEER(i) ((uint8_t)((i) << 1 | 1))

/* header bits (fuzz_engine.c fuzz_episode) */
#define CFG_VCPUS(n) ((uint8_t)((n) - 1))
#define CFG_RO       0x04
#define CFG_PEER     0x08
#define CFG_EXT      0x20
#define CFG_POLICY   0x40

/* fuzz_engine.c set_abis: the lists a FUZZ_MULTI episode picks from */
enum { L_KVM, L_HV, L_XEN, L_HV_KVM, L_HV_XEN, L_XEN_KVM, L_KVM_XEN, L_HV_XEN_KVM, L_HV_KVM_XEN };

/* fuzz_engine.c setup_policy: abis[b & 3] */
enum { P_KVM, P_HV, P_XEN, P_EXT };

/* ---- the encoder ---- */

static const char *outdir;
static const char *harness;
static char name[128];
static uint8_t buf[4096];
static size_t len;
static bool is_multi;
static unsigned nr_seeds, total_bytes;

static void die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "seeds: ");
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(1);
}

static void put8(unsigned b)
{
	if (len >= sizeof(buf))
		die("%s/seed-%s: too long", harness, name);
	buf[len++] = (uint8_t)b;
}

static void put_le(uint64_t v, unsigned bytes)
{
	for (unsigned i = 0; i < bytes; i++)
		put8((uint8_t)(v >> (8 * i)));
}

/*
 * gaddr(): the low pages (cases 0 and 1), a misaligned low address (14),
 * or exact (15). gaddr reads its offset byte whatever the case, so 14 and
 * 15 carry an unused one before their own bytes.
 */
static void put_gaddr(uint64_t a)
{
	uint64_t page = a / PAGE_SIZE, off = a % PAGE_SIZE;
	if (page < 32 && !(off & 7) && off / 8 < 256) {
		put8((uint8_t)((page % 16) << 4 | (page < 16 ? 0 : 1)));
		put8((uint8_t)(off / 8));
	} else if (page < 16 && off < 256) {
		put8((uint8_t)(page << 4 | 14));
		put8(0);
		put8((uint8_t)off);
	} else {
		put8(15);
		put8(0);
		put_le(a, 8);
	}
}

/* value() tag 3: an exact 8-byte value */
static void put_value_raw(uint64_t v)
{
	put8(3);
	put_le(v, 8);
}

/*
 * value(), in the shortest form that gives exactly v: small numbers, a
 * low-page address (tag 2, so the fuzzer walks it through gaddr's edges),
 * powers of two, small negatives, 2 or 4 bytes, else all 8.
 */
static void put_value(uint64_t v)
{
	if (v < 32) {
		put8((uint8_t)(v << 3));
	} else if (v < 256) {
		put8(1);
		put8((uint8_t)v);
	} else if (v >= PAGE_SIZE && v < 32 * PAGE_SIZE && !(v & 7) && (v % PAGE_SIZE) / 8 < 256) {
		put8(2);
		put_gaddr(v);
	} else if (v < 65536) {
		put8(7);
		put_le(v, 2);
	} else if (!(v & (v - 1))) {
		put8(5);
		put8((uint8_t)__builtin_ctzll(v));
	} else if ((int64_t)v < 0 && (int64_t)v >= -32) {
		put8((uint8_t)((-(int64_t)v - 1) << 3 | 4));
	} else if (v <= UINT32_MAX) {
		put8(6);
		put_le(v, 4);
	} else {
		put_value_raw(v);
	}
}

/* hv_input(): the fields of a TLFS input value, or all 64 bits (0xff) when reserved or nested bits are set */
static void put_hv_input(uint64_t x)
{
	uint64_t code = x & HV_INPUT_CODE_MASK, varhead = (x & HV_INPUT_VARHEAD_MASK) >> HV_INPUT_VARHEAD_SHIFT;
	uint64_t count = (x & HV_INPUT_REP_COUNT_MASK) >> HV_INPUT_REP_COUNT_SHIFT;
	uint64_t start = (x & HV_INPUT_REP_START_MASK) >> HV_INPUT_REP_START_SHIFT;
	if ((x & (HV_INPUT_RESERVED | HV_INPUT_NESTED)) || varhead > 255) {
		put8(0xff);
		put_le(x, 8);
		return;
	}
	put8((code > 255 ? 1 : 0) | (x & HV_INPUT_FAST ? 2 : 0) | (varhead ? 4 : 0) | (count ? 8 : 0) | (start ? 16 : 0));
	put_le(code, code > 255 ? 2 : 1);
	if (varhead)
		put8((uint8_t)varhead);
	if (count)
		put_le(count, 2);
	if (start)
		put_le(start, 2);
}

/* pick_msr(): its table (FUZZ_MSRS), SINTx/STIMERx by offset, else 4 raw bytes */
static const uint32_t engine_msrs[] = { FUZZ_MSRS };
#define MSR_KVM_ASYNC_PF_EN 0x4b564d02u   /* Linux kvm_para.h; not offered here (#GP) */

static void put_msr(uint32_t msr)
{
	for (unsigned i = 0; i < sizeof(engine_msrs) / sizeof(engine_msrs[0]); i++)
		if (engine_msrs[i] == msr) {
			put8(i);
			return;
		}
	if (msr >= HV_X64_MSR_SINT0 && msr < HV_X64_MSR_SINT0 + 0x40) {
		put8(0x40 + (msr - HV_X64_MSR_SINT0));
		return;
	}
	put8(0xff);
	put_le(msr, 4);
}

/* ---- seeds: one file each ---- */

static void mkdir_p(const char *path)
{
	if (mkdir(path, 0777) && errno != EEXIST)
		die("mkdir %s: %s", path, strerror(errno));
}

/* A new harness directory, its old seed-* files gone (the fuzzer's own finds stay). */
static void begin_harness(const char *h)
{
	char path[4096];
	harness = h;
	is_multi = !strcmp(h, "multi");
	snprintf(path, sizeof(path), "%s/%s", outdir, h);
	mkdir_p(path);
	DIR *d = opendir(path);
	if (!d)
		die("opendir %s: %s", path, strerror(errno));
	for (struct dirent *e; (e = readdir(d));) {
		if (strncmp(e->d_name, "seed-", 5))
			continue;
		char f[8192];
		snprintf(f, sizeof(f), "%s/%s", path, e->d_name);
		if (unlink(f))
			die("unlink %s: %s", f, strerror(errno));
	}
	closedir(d);
}

/* Via which hypercall page the next calls go (FUZZ_MULTI: the dispatch rule), or directly. */
enum via { DIRECT, VIA_HV_PAGE, VIA_XEN_PAGE };
static enum via via;

/*
 * The header: cfg; for FUZZ_MULTI the ABI list, then the policy rules
 * (pairs of rule byte and call number, -1 for any number) when cfg asks.
 */
static void begin(const char *n, uint8_t cfg, int abis, const int *rules, unsigned nrules)
{
	snprintf(name, sizeof(name), "%s", n);
	len = 0;
	via = DIRECT;
	put8(cfg);
	if (is_multi)
		put8((uint8_t)abis);
	if (cfg & CFG_POLICY) {
		put8(nrules);
		for (unsigned i = 0; i < nrules; i++) {
			uint8_t b = (uint8_t)rules[2 * i];
			put8(b | (rules[2 * i + 1] < 0 ? 4 : 0));
			if (rules[2 * i + 1] >= 0)
				put_le((uint64_t)rules[2 * i + 1], 2);
		}
	}
}

static void end(void)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/%s/seed-%s", outdir, harness, name);
	if (len >= 2048)
		die("%s: %zu bytes (keep seeds under 2 KiB)", path, len);
	FILE *f = fopen(path, "wb");
	if (!f || fwrite(buf, 1, len, f) != len || fclose(f))
		die("%s: %s", path, strerror(errno));
	nr_seeds++;
	total_bytes += (unsigned)len;
}

/* ---- operations ---- */

/* A policy rule byte (setup_policy): the ABI, and allow or deny. */
#define RULE(abi, allow) ((abi) | ((allow) ? 8 : 0))

static void page_byte(void)
{
	if (via != DIRECT)
		put8(0);                     /* RIP at the start of the page (the page must be enabled) */
}

static uint8_t page_shape(void)
{
	return via == VIA_HV_PAGE ? 0x28 : via == VIA_XEN_PAGE ? 0x20 : 0;
}

/*
 * One call of a register ABI (op_call): gprs[] in the engine's order
 * RBX RCX RDX RSI RDI R8 R9 R10 R11, RAX, or an ext call (ext >= 0).
 */
enum { G_RBX, G_RCX, G_RDX, G_RSI, G_RDI, G_R8, G_R9, G_R10, G_R11, NR_G };
static void call_regs(uint8_t mode, uint8_t vsel, uint64_t rax, int ext, const uint64_t g[NR_G])
{
	bool any = false;
	for (unsigned i = 0; i < NR_G; i++)
		any |= g[i] != 0;
	put8(OP_CALL);
	put8(mode);
	put8(vsel);
	put8((any ? 0x80 : 0) | (ext >= 0 ? 2 : 0) | page_shape());
	if (any)
		for (unsigned i = 0; i < NR_G; i++)
			put_value(g[i]);
	if (ext >= 0)
		put8((uint8_t)ext);
	else
		put_value(rax);
	page_byte();
}

/* KVM (and ext): RBX, RCX, RDX, RSI */
static void kvm_m(uint8_t mode, uint8_t vsel, uint64_t nr, uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3)
{
	const uint64_t g[NR_G] = { [G_RBX] = a0, [G_RCX] = a1, [G_RDX] = a2, [G_RSI] = a3 };
	call_regs(mode, vsel, nr, -1, g);
}
#define kvm(vsel, nr, a0, a1, a2, a3) kvm_m(M64, vsel, nr, a0, a1, a2, a3)

static void ext_m(uint8_t mode, uint8_t vsel, unsigned n, uint64_t a0, uint64_t a1, uint64_t a2)
{
	const uint64_t g[NR_G] = { [G_RBX] = a0, [G_RCX] = a1, [G_RDX] = a2 };
	call_regs(mode, vsel, 0, (int)n, g);
}

/* Xen: RDI, RSI, RDX, R10, R8 in 64-bit mode; EBX, ECX, EDX, ESI, EDI outside it */
static void xen_m(uint8_t mode, uint8_t vsel, uint64_t nr, uint64_t a0, uint64_t a1, uint64_t a2)
{
	uint64_t g[NR_G] = { 0 };
	if ((mode & 3) == 2 || (mode & 3) == 3) {
		g[G_RBX] = a0, g[G_RCX] = a1, g[G_RDX] = a2;
	} else {
		g[G_RDI] = a0, g[G_RSI] = a1, g[G_RDX] = a2;
	}
	call_regs(mode, vsel, nr, -1, g);
}
#define xen(vsel, nr, a0, a1, a2) xen_m(M64, vsel, nr, a0, a1, a2)
#define xen32(vsel, nr, a0, a1, a2) xen_m(M32, vsel, nr, a0, a1, a2)

/*
 * One Hyper-V call (op_call shape bit 0): the input value, then the input
 * and output GPAs (or RDX and R8 of a fast call); xmm[12] (XMM0-5, low
 * qword first) for an XMM fast call. Outside 64-bit mode the GPAs' high
 * halves are EBX and EDI, from the gprs.
 */
static void hv_m(uint8_t mode, uint8_t vsel, uint64_t input, uint64_t in, uint64_t out, const uint64_t *xmm)
{
	bool lm = (mode & 3) < 2, high = !lm && ((in >> 32) || (out >> 32));
	put8(OP_CALL);
	put8(mode);
	put8(vsel);
	put8(1 | (high ? 0x80 : 0) | (xmm ? 4 : 0) | page_shape());
	if (high) {
		const uint64_t g[NR_G] = { [G_RBX] = in >> 32, [G_RDI] = out >> 32 };
		for (unsigned i = 0; i < NR_G; i++)
			put_value(g[i]);
	}
	put_hv_input(input);
	put_value(lm ? in : (uint32_t)in);
	put_value(lm ? out : (uint32_t)out);
	if (xmm)
		for (unsigned i = 0; i < 12; i++)
			put_value(xmm[i]);
	page_byte();
}
#define hv(vsel, input, in, out) hv_m(M64, vsel, input, in, out, NULL)
#define hv_xmm(vsel, input, rdx, r8, xmm) hv_m(M64, vsel, (input) | HV_INPUT_FAST, rdx, r8, xmm)
#define REP(count, start) ((uint64_t)(count) << HV_INPUT_REP_COUNT_SHIFT | (uint64_t)(start) << HV_INPUT_REP_START_SHIFT)
#define VARHEAD(n) ((uint64_t)(n) << HV_INPUT_VARHEAD_SHIFT)

static void wrmsr(uint8_t vsel, uint32_t msr, uint64_t val)
{
	put8(OP_MSR_WRITE);
	put8(vsel);
	put_msr(msr);
	put_value(val);
	put8(0);                         /* no enable bit added */
}

static void rdmsr(uint8_t vsel, uint32_t msr)
{
	put8(OP_MSR_READ);
	put8(vsel);
	put_msr(msr);
}

static void cpuid(uint8_t vsel, uint32_t leaf, uint8_t subleaf)
{
	put8(OP_CPUID);
	put8(vsel);
	put_le(leaf - CPUID_BASE, 2);
	put8(subleaf);
}

/* Guest memory writes (op_poke), 64 bytes at most each. vm: 0 the fuzzed VM, 1 the neighbour. */
static void poke(unsigned vm, uint64_t gpa, const void *p, size_t n)
{
	const uint8_t *b = p;
	for (size_t off = 0; off < n;) {
		size_t k = n - off < 64 ? n - off : 64;
		put8(OP_POKE);
		put8(vm);
		put_gaddr(gpa + off);
		put8((uint8_t)k);
		for (size_t i = 0; i < k; i++)
			put8(b[off + i]);
		off += k;
	}
}

static void poke64(unsigned vm, uint64_t gpa, uint64_t v) { poke(vm, gpa, &v, 8); }
static void poke32(unsigned vm, uint64_t gpa, uint32_t v) { poke(vm, gpa, &v, 4); }
static void poke16(unsigned vm, uint64_t gpa, uint16_t v) { poke(vm, gpa, &v, 2); }

static void time_step(unsigned step)
{
	put8(OP_TIME);
	put8(step);
}

/* Time passes by exactly `ticks` of the host counter (op_time's 4-byte form). */
static void time_ticks(uint32_t ticks)
{
	put8(OP_TIME);
	put8(0xf0);
	put_le(ticks, 4);
}

static void sched(unsigned what, uint8_t vsel, uint8_t steal_us)
{
	put8(OP_SCHED);
	put8(what);
	put8(vsel);
	if (what == SCHED_SCHEDULED)
		put8(steal_us);
}

static void peer_end(void) { put8(OP_PEER_END); }

/* ---- guest memory the seeds use (low pages: gaddr's short forms) ---- */

#define HV_PAGE   0x2000ull       /* Hyper-V hypercall page */
#define XEN_PAGE  0x3000ull       /* Xen hypercall page */
#define BUF       0x4000ull       /* op structures */
#define LIST      0x5000ull       /* lists, batches */
#define IN_GPA    0x6000ull       /* Hyper-V input page */
#define OUT_GPA   0x7000ull       /* Hyper-V output page */
#define ASSIST    0x8000ull       /* VP assist page */
#define TSC_PAGE  0x9000ull       /* reference TSC page; runstate areas */
#define CLOCK     0xa000ull       /* kvmclock, wall clock, steal time */
#define SHINFO    0x10000ull
#define VINFO     0x11000ull
#define SHINFO2   0x12000ull
#define SIMP(i)   (0x13000ull + (uint64_t)(i) * 0x2000)
#define SIEFP(i)  (SIMP(i) + PAGE_SIZE)
#define GT        0x18000ull      /* a grant-table frame */
#define GPAGE     0x1a000ull      /* the page the neighbour grants */
#define MINE      0x1c000ull      /* a page of the mapper's own */
#define AT_RAM    0x1e000ull      /* a grant mapped over RAM ... */
#define AT_HOLE   (FUZZ_HOLE + 0x4000) /* ... or in the hole */
#define GUEST_OS_LINUX 0x8100000000000000ull
#define GREF      8               /* the first grant entry Linux uses */

#define DOM_A     2u              /* xen.h xen_domid(): VM n is domain n + 1; the fuzzed VM is vm1 */
#define DOM_PEER  3u

/* ---- KVM (tests/unit/test_kvm_pv.c, test_kvm_clock.c) ---- */

static void seeds_kvm(void)
{
	begin_harness("kvm");

	begin("kvm_pv-send_ipi_bitmaps", CFG_VCPUS(4), 0, NULL, 0);
	kvm(V(0), KVM_HC_SEND_IPI, 0xe, 0, 0, 0xf3);                       /* APIC IDs 1, 2, 3 */
	kvm(V(0), KVM_HC_SEND_IPI, 0x3, 0, 2, 0x40f4);                     /* from min 2 */
	kvm(V(1), KVM_HC_SEND_IPI, UINT64_MAX, UINT64_MAX, 0, 0xf5);        /* absent IDs skipped */
	kvm(V(0), KVM_HC_SEND_IPI, 1ull << 32, 1, 0, 0xf8);                 /* high bitmap, 64-bit */
	kvm_m(M32, V(0), KVM_HC_SEND_IPI, 0xffffffff00000000ull, 0xffffffff00000001ull,
	      0xffffffff00000000ull, 0xffffffff000000f9ull);                /* 32-bit: cut to 32 bits */
	kvm(V(0), KVM_HC_SEND_IPI, 0xf, 0, 0, 0x8fc);                      /* logical: -EINVAL */
	kvm_m(CPL3, V(0), KVM_HC_SEND_IPI, 0xf, 0, 0, 0xfd);               /* CPL 3: -EPERM */
	end();

	begin("kvm_pv-kick_cpu", CFG_VCPUS(4), 0, NULL, 0);
	kvm(V(0), KVM_HC_KICK_CPU, 0, 2, 0, 0);
	kvm(V(0), KVM_HC_KICK_CPU, 0, 1, 0, 0);
	kvm(V(3), KVM_HC_KICK_CPU, 0, 77, 0, 0);                           /* unknown ID: harmless */
	kvm(V(0), KVM_HC_KICK_CPU, 0, 0x100000001ull, 0, 0);               /* an int in KVM */
	kvm_m(M32, V(0), KVM_HC_KICK_CPU, 0, 0x700000003ull, 0, 0);
	kvm_m(CPL3, V(1), KVM_HC_KICK_CPU, 0, 2, 0, 0);
	end();

	begin("kvm_pv-sched_yield", CFG_VCPUS(4), 0, NULL, 0);
	kvm(V(0), KVM_HC_SCHED_YIELD, 2, 0, 0, 0);
	kvm(V(0), KVM_HC_SCHED_YIELD, 0, 0, 0, 0);                         /* not to itself */
	kvm(V(1), KVM_HC_SCHED_YIELD, 3, 0, 0, 0);
	kvm(V(0), KVM_HC_SCHED_YIELD, 99, 0, 0, 0);
	kvm_m(M32 | CPL3, V(0), KVM_HC_SCHED_YIELD, 2, 0, 0, 0);
	end();

	begin("kvm_pv-steal_time", CFG_VCPUS(2), 0, NULL, 0);
	{
		/* a record the guest left there: version 4, steal 1000, flags 0x77, preempted */
		const uint32_t st[6] = { 1000, 0, 4, 0x77, 1, 0 };
		poke(0, CLOCK + 0x40, st, sizeof(st));
	}
	wrmsr(V(1), MSR_KVM_STEAL_TIME, (CLOCK + 0x40) | KVM_MSR_ENABLED);
	rdmsr(V(1), MSR_KVM_STEAL_TIME);
	sched(SCHED_SCHEDULED, V(1), 4);
	time_step(T_1MS);
	sched(SCHED_PREEMPTED, V(1), 0);
	sched(SCHED_SCHEDULED, V(1), 250);
	sched(SCHED_SCHEDULED, V(1), 0);
	wrmsr(V(0), MSR_KVM_STEAL_TIME, CLOCK | KVM_MSR_ENABLED | 1ull << 3);   /* reserved bit: #GP */
	wrmsr(V(0), MSR_KVM_STEAL_TIME, (CLOCK + 0xfc0) | KVM_MSR_ENABLED);     /* the page's last 64 bytes */
	sched(SCHED_SCHEDULED, V(0), 9);
	wrmsr(V(1), MSR_KVM_STEAL_TIME, CLOCK + 0x40);                          /* disabled: updates stop */
	sched(SCHED_SCHEDULED, V(1), 3);
	end();

	begin("kvm_clock-system_time", CFG_VCPUS(2), 0, NULL, 0);
	poke32(0, CLOCK, 5);                                                /* whatever the page held */
	time_step(T_1S);
	wrmsr(V(0), MSR_KVM_SYSTEM_TIME_NEW, CLOCK | KVM_SYSTEM_TIME_ENABLE);
	rdmsr(V(0), MSR_KVM_SYSTEM_TIME_NEW);
	wrmsr(V(1), MSR_KVM_SYSTEM_TIME, (CLOCK + 0x40) | KVM_SYSTEM_TIME_ENABLE);
	time_step(T_1S);
	sched(SCHED_CLOCK_CHANGED, V(0), 0);                                /* a TSC write: published again */
	sched(SCHED_SCHEDULED, V(1), 0);
	wrmsr(V(0), MSR_KVM_SYSTEM_TIME_NEW, (CLOCK + 0xff0) | KVM_SYSTEM_TIME_ENABLE);   /* crosses a page */
	wrmsr(V(1), MSR_KVM_SYSTEM_TIME_NEW, CLOCK + 0x40);                 /* disabled */
	sched(SCHED_CLOCK_CHANGED, V(1), 0);
	end();

	begin("kvm_clock-wall_clock", CFG_VCPUS(1), 0, NULL, 0);
	time_step(T_1S);
	wrmsr(V(0), MSR_KVM_WALL_CLOCK_NEW, CLOCK + 0x100);
	rdmsr(V(0), MSR_KVM_WALL_CLOCK);
	time_step(T_1S);
	wrmsr(V(0), MSR_KVM_WALL_CLOCK, CLOCK + 0x200);
	wrmsr(V(0), MSR_KVM_WALL_CLOCK_NEW, 0);                             /* address 0: no wall clock */
	end();

	begin("kvm_clock-clock_pairing", CFG_VCPUS(1), 0, NULL, 0);
	time_step(T_1S);
	kvm(V(0), KVM_HC_CLOCK_PAIRING, BUF, KVM_CLOCK_PAIRING_WALLCLOCK, 0, 0);
	kvm(V(0), KVM_HC_CLOCK_PAIRING, BUF, 1, 0, 0);                     /* -EOPNOTSUPP */
	kvm(V(0), KVM_HC_CLOCK_PAIRING, FUZZ_LO_SIZE - 32, 0, 0, 0);            /* into the read-only slot */
	kvm_m(M32, V(0), KVM_HC_CLOCK_PAIRING, 0xffffffff00000000ull | BUF, 0, 0, 0);
	end();

	begin("kvm_clock-map_gpa_range", CFG_VCPUS(1), 0, NULL, 0);
	kvm(V(0), KVM_HC_MAP_GPA_RANGE, 0x10000, 16, KVM_MAP_GPA_RANGE_ENCRYPTED, 0);
	kvm(V(0), KVM_HC_MAP_GPA_RANGE, 0x18000, 16, KVM_MAP_GPA_RANGE_ENCRYPTED | 2, 0);   /* overlaps */
	kvm(V(0), KVM_HC_MAP_GPA_RANGE, 0x10000, 4, 0, 0);                 /* shared again */
	kvm(V(0), KVM_HC_MAP_GPA_RANGE, FUZZ_RAM_END - PAGE_SIZE, 1, KVM_MAP_GPA_RANGE_ENCRYPTED, 0);
	kvm(V(0), KVM_HC_MAP_GPA_RANGE, 0x1800, 1, KVM_MAP_GPA_RANGE_ENCRYPTED, 0);   /* unaligned */
	end();

	begin("kvm_clock-poll_and_migration_control", CFG_VCPUS(2), 0, NULL, 0);
	rdmsr(V(0), MSR_KVM_POLL_CONTROL);
	wrmsr(V(0), MSR_KVM_POLL_CONTROL, 0);
	rdmsr(V(0), MSR_KVM_POLL_CONTROL);
	wrmsr(V(1), MSR_KVM_POLL_CONTROL, 2);                              /* #GP */
	rdmsr(V(1), MSR_KVM_MIGRATION_CONTROL);
	wrmsr(V(1), MSR_KVM_MIGRATION_CONTROL, KVM_MIGRATION_READY);
	wrmsr(V(0), MSR_KVM_MIGRATION_CONTROL, 1ull << 63);               /* #GP */
	rdmsr(V(0), 0x4b564dffu);                                         /* KVM's range, undefined */
	end();

	begin("kvm-pv_eoi_and_async_pf", CFG_VCPUS(2), 0, NULL, 0);
	wrmsr(V(0), MSR_KVM_PV_EOI_EN, (CLOCK + 0x300) | KVM_MSR_ENABLED);
	rdmsr(V(0), MSR_KVM_PV_EOI_EN);
	wrmsr(V(1), MSR_KVM_PV_EOI_EN, (CLOCK + 0x302) | KVM_MSR_ENABLED);  /* misaligned: #GP */
	wrmsr(V(1), MSR_KVM_ASYNC_PF_EN, (CLOCK + 0x340) | KVM_MSR_ENABLED);
	sched(SCHED_INIT, V(0), 0);                                        /* INIT resets the PV MSRs */
	rdmsr(V(0), MSR_KVM_PV_EOI_EN);
	wrmsr(V(0), MSR_KVM_PV_EOI_EN, 0);
	end();

	begin("kvm-discovery_and_unknown_calls", CFG_VCPUS(1), 0, NULL, 0);
	cpuid(V(0), KVM_CPUID_SIGNATURE, 0);
	cpuid(V(0), KVM_CPUID_FEATURES, 0);
	kvm(V(0), KVM_HC_VAPIC_POLL_IRQ, 0, 0, 0, 0);
	kvm_m(VMCALL, V(0), KVM_HC_VAPIC_POLL_IRQ, 0, 0, 0, 0);            /* Intel's instruction */
	kvm(V(0), KVM_HC_MMU_OP, 0, 0, 0, 0);                              /* removed: -ENOSYS */
	kvm(V(0), KVM_HC_MIPS_EXIT_VM, 0, 0, 0, 0);
	kvm(V(0), 1ull << 32 | KVM_HC_VAPIC_POLL_IRQ, 0, 0, 0, 0);
	kvm_m(M32, V(0), 1ull << 32 | KVM_HC_VAPIC_POLL_IRQ, 0, 0, 0, 0);   /* EAX only */
	end();

	begin("kvm-everything_after_init", CFG_VCPUS(2), 0, NULL, 0);
	wrmsr(V(1), MSR_KVM_SYSTEM_TIME_NEW, CLOCK | KVM_SYSTEM_TIME_ENABLE);
	wrmsr(V(1), MSR_KVM_STEAL_TIME, (CLOCK + 0x40) | KVM_MSR_ENABLED);
	wrmsr(V(1), MSR_KVM_PV_EOI_EN, (CLOCK + 0x80) | KVM_MSR_ENABLED);
	wrmsr(V(0), MSR_KVM_WALL_CLOCK_NEW, CLOCK + 0x100);
	kvm(V(0), KVM_HC_KICK_CPU, 0, 1, 0, 0);
	time_step(T_1MS);
	sched(SCHED_SCHEDULED, V(1), 7);
	sched(SCHED_INIT, V(1), 0);
	sched(SCHED_SCHEDULED, V(1), 7);
	sched(SCHED_CLOCK_CHANGED, V(1), 0);
	kvm(V(1), KVM_HC_SCHED_YIELD, 0, 0, 0, 0);
	kvm(V(1), KVM_HC_MAP_GPA_RANGE, 0x20000, 4, KVM_MAP_GPA_RANGE_ENCRYPTED, 0);
	end();
}

/* ---- Hyper-V (tests/unit/test_hyperv.c, test_hyperv_synic.c) ---- */

/* What a guest does first (TLFS): say who it is, enable the hypercall page. */
static void hv_hello(uint8_t vsel)
{
	wrmsr(vsel, HV_X64_MSR_GUEST_OS_ID, GUEST_OS_LINUX);
	wrmsr(vsel, HV_X64_MSR_HYPERCALL, HV_PAGE | HV_X64_MSR_HYPERCALL_ENABLE);
}

/* test_hyperv_synic.c synic_up: SynIC on, message and event-flag pages, SINT `sint` unmasked on `vector` */
static void synic_up(unsigned vcpu, unsigned sint, uint8_t vector)
{
	wrmsr(V(vcpu), HV_X64_MSR_SCONTROL, HV_SYNIC_CONTROL_ENABLE);
	wrmsr(V(vcpu), HV_X64_MSR_SIMP, SIMP(vcpu) | HV_SYNIC_SIMP_ENABLE);
	wrmsr(V(vcpu), HV_X64_MSR_SIEFP, SIEFP(vcpu) | HV_SYNIC_SIEFP_ENABLE);
	wrmsr(V(vcpu), HV_X64_MSR_SINT0 + sint, vector);
}

#define STIMER_CONFIG(n) (HV_X64_MSR_STIMER0_CONFIG + 2 * (n))
#define STIMER_COUNT(n)  (HV_X64_MSR_STIMER0_CONFIG + 2 * (n) + 1)
#define SINTX(s)         ((uint64_t)(s) << HV_STIMER_SINT_SHIFT)
#define TIMER_SINT 3

static void seeds_hyperv(void)
{
	begin_harness("hyperv");

	begin("hyperv-hypercall_page_and_msrs", CFG_VCPUS(3), 0, NULL, 0);
	wrmsr(V(0), HV_X64_MSR_HYPERCALL, HV_PAGE | 1);                    /* ignored before an OS ID */
	hv_hello(V(0));
	rdmsr(V(0), HV_X64_MSR_HYPERCALL);
	rdmsr(V(1), HV_X64_MSR_VP_INDEX);
	rdmsr(V(0), HV_X64_MSR_TSC_FREQUENCY);
	rdmsr(V(0), HV_X64_MSR_APIC_FREQUENCY);
	time_step(T_1S);
	rdmsr(V(2), HV_X64_MSR_TIME_REF_COUNT);
	wrmsr(V(0), HV_X64_MSR_VP_INDEX, 0);                               /* read-only: #GP */
	wrmsr(V(1), HV_X64_MSR_TPR, 0x70);
	rdmsr(V(1), HV_X64_MSR_TPR);
	wrmsr(V(1), HV_X64_MSR_EOI, 0);
	wrmsr(V(0), HV_X64_MSR_ICR, 0x0200000000004041ull);
	rdmsr(V(0), HV_X64_MSR_ICR);
	for (uint32_t leaf = HV_CPUID_VENDOR_AND_MAX; leaf <= HV_CPUID_HW_FEATURES; leaf++)
		cpuid(V(0), leaf, 0);
	hv(V(0), HVCALL_NOTIFY_LONG_SPIN_WAIT, 0, 0);
	wrmsr(V(0), HV_X64_MSR_GUEST_OS_ID, 0);                            /* the page goes off */
	rdmsr(V(0), HV_X64_MSR_HYPERCALL);
	end();

	begin("hyperv-reference_tsc_page", CFG_VCPUS(2), 0, NULL, 0);
	hv_hello(V(0));
	time_step(T_1S);
	wrmsr(V(0), HV_X64_MSR_REFERENCE_TSC, TSC_PAGE | HV_X64_MSR_TSC_REFERENCE_ENABLE);
	rdmsr(V(0), HV_X64_MSR_REFERENCE_TSC);
	time_step(T_1MS);
	rdmsr(V(1), HV_X64_MSR_TIME_REF_COUNT);
	sched(SCHED_CLOCK_CHANGED, V(1), 0);                               /* a TSC write: the page follows */
	wrmsr(V(0), HV_X64_MSR_REFERENCE_TSC, FUZZ_RAM_END | 1);                /* outside RAM: #GP */
	end();

	begin("hyperv-conventions_spin_wait_and_ud", CFG_VCPUS(3), 0, NULL, 0);
	hv_hello(V(0));
	hv(V(0), HVCALL_NOTIFY_LONG_SPIN_WAIT, 0, 0);
	hv(V(1), HVCALL_NOTIFY_LONG_SPIN_WAIT | HV_INPUT_FAST, 0, 0);
	hv(V(0), 0x7fff, 0, 0);                                            /* unknown code */
	hv(V(0), HVCALL_NOTIFY_LONG_SPIN_WAIT | 1ull << 27, 0, 0);         /* a reserved bit */
	hv(V(0), HVCALL_NOTIFY_LONG_SPIN_WAIT | REP(1, 0), 0, 0);          /* not a rep call */
	hv_m(M32, V(2), HVCALL_NOTIFY_LONG_SPIN_WAIT, 0, 0, NULL);         /* EDX:EAX */
	hv_m(M32, V(0), HVCALL_NOTIFY_LONG_SPIN_WAIT | 1ull << 60, 0, 0, NULL);
	hv_m(CPL3, V(0), HVCALL_NOTIFY_LONG_SPIN_WAIT, 0, 0, NULL);        /* #UD */
	hv_m(MREAL, V(0), HVCALL_NOTIFY_LONG_SPIN_WAIT, 0, 0, NULL);       /* #UD */
	hv(V(0), HVCALL_VTL_CALL, 0, 0);                                   /* no VTL 1: #UD */
	hv(V(0), HVCALL_EXT_QUERY_CAPABILITIES, 0, OUT_GPA);
	end();

	begin("hyperv-flush_space_and_list", CFG_VCPUS(3), 0, NULL, 0);
	hv_hello(V(0));
	{
		const uint64_t mask[] = { 0x1000, 0, 0x5 };                    /* VPs 0 and 2 */
		poke(0, IN_GPA, mask, sizeof(mask));
		hv(V(0), HVCALL_FLUSH_VIRTUAL_ADDRESS_SPACE, IN_GPA, 0);
		const uint64_t all[] = { 0, HV_FLUSH_ALL_PROCESSORS | HV_FLUSH_ALL_VIRTUAL_ADDRESS_SPACES };
		poke(0, IN_GPA, all, sizeof(all));
		hv(V(1), HVCALL_FLUSH_VIRTUAL_ADDRESS_SPACE, IN_GPA, 0);
		const uint64_t list[] = { 0, 0, 0x2, 0x1000, 0x2000, 0x3000, 0x4000 };
		poke(0, IN_GPA, list, sizeof(list));
		hv(V(0), HVCALL_FLUSH_VIRTUAL_ADDRESS_LIST | REP(4, 1), IN_GPA, 0);
		hv(V(0), HVCALL_FLUSH_VIRTUAL_ADDRESS_SPACE, IN_GPA + 4, 0);    /* misaligned */
		const uint64_t badflags[] = { 0, 1ull << 4 };
		poke(0, IN_GPA + 0x100, badflags, sizeof(badflags));
		hv(V(0), HVCALL_FLUSH_VIRTUAL_ADDRESS_SPACE, IN_GPA + 0x100, 0);
	}
	end();

	begin("hyperv-flush_ex_vp_sets", CFG_VCPUS(3), 0, NULL, 0);
	hv_hello(V(0));
	{
		const uint64_t sparse[] = { 0, 0, HV_GENERIC_SET_SPARSE_4K, 1, 1ull << 1 };
		poke(0, IN_GPA, sparse, sizeof(sparse));
		hv(V(0), HVCALL_FLUSH_VIRTUAL_ADDRESS_SPACE_EX | VARHEAD(1), IN_GPA, 0);
		const uint64_t list[] = { 0, 0, HV_GENERIC_SET_SPARSE_4K, 1, 0x5, 0x7000, 0x9000 };
		poke(0, IN_GPA + 0x100, list, sizeof(list));
		hv(V(2), HVCALL_FLUSH_VIRTUAL_ADDRESS_LIST_EX | VARHEAD(1) | REP(2, 0), IN_GPA + 0x100, 0);
		const uint64_t all[] = { 0, 0, HV_GENERIC_SET_ALL, 0 };
		poke(0, IN_GPA + 0x200, all, sizeof(all));
		hv(V(1), HVCALL_FLUSH_VIRTUAL_ADDRESS_SPACE_EX, IN_GPA + 0x200, 0);
	}
	end();

	begin("hyperv-send_ipi_and_ex", CFG_VCPUS(3), 0, NULL, 0);
	hv_hello(V(0));
	hv(V(0), HVCALL_SEND_IPI | HV_INPUT_FAST, 0x41, 0x6);             /* fast: vector in RDX, mask in R8 */
	{
		const uint64_t q[] = { 0x42, 0x1 };
		poke(0, IN_GPA, q, sizeof(q));
		hv(V(1), HVCALL_SEND_IPI, IN_GPA, 0);
		const uint64_t ex[] = { 0x51, HV_GENERIC_SET_SPARSE_4K, 1, 0x5 };
		poke(0, IN_GPA + 0x100, ex, sizeof(ex));
		hv(V(0), HVCALL_SEND_IPI_EX | VARHEAD(1), IN_GPA + 0x100, 0);
		const uint64_t all[] = { 0x52, HV_GENERIC_SET_ALL, 0 };
		poke(0, IN_GPA + 0x200, all, sizeof(all));
		hv(V(2), HVCALL_SEND_IPI_EX, IN_GPA + 0x200, 0);
	}
	hv(V(0), HVCALL_SEND_IPI | HV_INPUT_FAST, 0x0f, 0x7);             /* vector below 0x10 */
	end();

	begin("hyperv_synic-xmm_fast_calls", CFG_VCPUS(3), 0, NULL, 0);
	hv_hello(V(0));
	{
		/* flush: address space, flags in RDX/R8; format, banks, bank 0 (VPs 1, 2) in XMM0-1 */
		const uint64_t flush[12] = { HV_GENERIC_SET_SPARSE_4K, 1, 0x6 };
		hv_xmm(V(0), HVCALL_FLUSH_VIRTUAL_ADDRESS_SPACE_EX | VARHEAD(1), 0x1000, 0, flush);
		/* a list flush: the set, then two GVA ranges */
		const uint64_t list[12] = { HV_GENERIC_SET_SPARSE_4K, 1, 0x1, 0x7000, 0x9000 };
		hv_xmm(V(0), HVCALL_FLUSH_VIRTUAL_ADDRESS_LIST_EX | VARHEAD(1) | REP(2, 0), 0x1000, 0, list);
		/* GetVpRegisters: partition and VP self, 4 names; output in XMM2 on */
		const uint64_t get[12] = {
			HV_REGISTER_VP_INDEX | (uint64_t)HV_X64_REGISTER_RIP << 32,
			HV_REGISTER_GUEST_OS_ID | (uint64_t)HV_REGISTER_HYPERVISOR_VERSION << 32,
		};
		hv_xmm(V(1), HVCALL_GET_VP_REGISTERS | REP(4, 0), HV_PARTITION_ID_SELF, HV_VP_INDEX_SELF, get);
		/* SetVpRegisters: SINT2 on vector 0x52 */
		const uint64_t set[12] = { HV_REGISTER_SINT0 + 2, 0, 0x52, 0 };
		hv_xmm(V(2), HVCALL_SET_VP_REGISTERS | REP(1, 0), HV_PARTITION_ID_SELF, HV_VP_INDEX_SELF, set);
		/* SendSyntheticClusterIpiEx: vector, format in RDX/R8; banks, bank 0 in XMM0 */
		const uint64_t ipi[12] = { 1, 0x5 };
		hv_xmm(V(0), HVCALL_SEND_IPI_EX | VARHEAD(1), 0x51, HV_GENERIC_SET_SPARSE_4K, ipi);
		/* a signal from 32-bit code: EDX:EAX, EBX:ECX */
		hv_m(M32, V(0), HVCALL_NOTIFY_LONG_SPIN_WAIT | HV_INPUT_FAST, 0, 0, NULL);
	}
	end();

	begin("hyperv_synic-vp_registers", CFG_VCPUS(2), 0, NULL, 0);
	hv_hello(V(0));
	{
		const uint64_t hdr[2] = { HV_PARTITION_ID_SELF, HV_VP_INDEX_SELF };
		const uint32_t names[] = {
			HV_REGISTER_GUEST_OS_ID, HV_REGISTER_VP_INDEX, HV_REGISTER_TIME_REF_COUNT,
			HV_REGISTER_HYPERVISOR_VERSION, HV_REGISTER_FEATURES, HV_REGISTER_VSM_CODE_PAGE_OFFSETS,
			HV_X64_REGISTER_RIP, HV_X64_REGISTER_CR0, HV_X64_REGISTER_EFER, HV_X64_REGISTER_TSC,
			HV_REGISTER_SINT0 + 2, HV_REGISTER_STIMER0_CONFIG,
		};
		poke(0, IN_GPA, hdr, sizeof(hdr));
		poke(0, IN_GPA + 16, names, sizeof(names));
		hv(V(0), HVCALL_GET_VP_REGISTERS | REP(12, 0), IN_GPA, OUT_GPA);
		/* SetVpRegisters: name, reserved, reserved, 16-byte value */
		const uint64_t set[] = {
			HV_PARTITION_ID_SELF, HV_VP_INDEX_SELF,
			HV_REGISTER_GUEST_OS_ID, 0, GUEST_OS_LINUX | 1, 0,
			HV_REGISTER_SINT0 + 2, 0, 0x52, 0,
			HV_REGISTER_SIMP, 0, SIMP(1) | HV_SYNIC_SIMP_ENABLE, 0,
		};
		poke(0, IN_GPA + 0x400, set, sizeof(set));
		hv(V(1), HVCALL_SET_VP_REGISTERS | REP(3, 0), IN_GPA + 0x400, 0);
		const uint64_t other[2] = { 5, HV_VP_INDEX_SELF };               /* another partition */
		poke(0, IN_GPA + 0x800, other, sizeof(other));
		hv(V(0), HVCALL_GET_VP_REGISTERS | REP(1, 0), IN_GPA + 0x800, OUT_GPA);
	}
	end();

	begin("hyperv_synic-get_vp_registers_continued", CFG_VCPUS(1), 0, NULL, 0);
	hv_hello(V(0));
	{
		/* 100 names: more than one entry does (64); the call is continued where it stopped */
		uint32_t in[4 + 100];
		const uint64_t hdr[2] = { HV_PARTITION_ID_SELF, HV_VP_INDEX_SELF };
		memcpy(in, hdr, sizeof(hdr));
		for (unsigned i = 0; i < 100; i++)
			in[4 + i] = i % 3 ? HV_REGISTER_VP_INDEX : HV_X64_REGISTER_RIP;
		poke(0, IN_GPA, in, sizeof(in));
		hv(V(0), HVCALL_GET_VP_REGISTERS | REP(100, 0), IN_GPA, OUT_GPA);
		hv(V(0), HVCALL_GET_VP_REGISTERS | REP(100, 90), IN_GPA, OUT_GPA);   /* a start from the guest */
	}
	end();

	begin("hyperv_synic-post_message", CFG_VCPUS(3), 0, NULL, 0);
	hv_hello(V(0));
	synic_up(0, 2, 0x42);
	synic_up(1, 2, 0x52);
	{
		/* connection, reserved; type, payload size; the payload */
		const uint64_t msg[6] = { HV_CONN_ID(1, 2), 0x1234 | 32ull << 32, 0x0706050403020100ull,
		                          0x0f0e0d0c0b0a0908ull, 1, 2 };
		poke(0, IN_GPA, msg, sizeof(msg));
		hv(V(0), HVCALL_POST_MESSAGE, IN_GPA, 0);                         /* delivered */
		poke32(0, IN_GPA + 8, 2);
		hv(V(0), HVCALL_POST_MESSAGE, IN_GPA, 0);                         /* slot full: queued */
		hv(V(2), HVCALL_POST_MESSAGE, IN_GPA, 0);
		poke32(0, SIMP(1) + 2 * sizeof(struct hv_message), HVMSG_NONE);  /* the guest takes it */
		wrmsr(V(1), HV_X64_MSR_EOM, 0);                                   /* the next comes in */
		const uint64_t self[2] = { HV_CONN_ID(0, 2), 7 | 3ull << 32 };
		poke(0, IN_GPA + 0x200, self, sizeof(self));
		hv(V(0), HVCALL_POST_MESSAGE, IN_GPA + 0x200, 0);                 /* to itself */
		poke32(0, IN_GPA + 0x208, HVMSG_TIMER_EXPIRED);
		hv(V(0), HVCALL_POST_MESSAGE, IN_GPA + 0x200, 0);                 /* the hypervisor's type */
	}
	end();

	begin("hyperv_synic-signal_event", CFG_VCPUS(3), 0, NULL, 0);
	hv_hello(V(0));
	synic_up(1, 4, 0x54);
	hv(V(0), HVCALL_SIGNAL_EVENT | HV_INPUT_FAST, HV_CONN_ID(1, 4) | 13ull << 32, 0);
	hv(V(2), HVCALL_SIGNAL_EVENT | HV_INPUT_FAST, HV_CONN_ID(1, 4) | 13ull << 32, 0);   /* already set */
	poke64(0, IN_GPA, HV_CONN_ID(1, 4) | 2047ull << 32);
	hv(V(0), HVCALL_SIGNAL_EVENT, IN_GPA, 0);                              /* the last flag */
	poke16(0, SIEFP(1) + 4 * (HV_EVENT_FLAGS_COUNT / 8), 0);                /* the guest clears flag 13 */
	hv(V(1), HVCALL_SIGNAL_EVENT | HV_INPUT_FAST, HV_CONN_ID(1, 4) | 13ull << 32, 0);
	hv(V(0), HVCALL_SIGNAL_EVENT | HV_INPUT_FAST, HV_CONN_ID(2, 4), 0);    /* SINT masked there */
	end();

	begin("hyperv_synic-stimers", CFG_VCPUS(2), 0, NULL, 0);
	hv_hello(V(0));
	synic_up(0, TIMER_SINT, 0x53);
	/* one-shot: an absolute reference time (100 ns units), then due */
	wrmsr(V(0), STIMER_COUNT(2), 1000);
	wrmsr(V(0), STIMER_CONFIG(2), HV_STIMER_ENABLE | SINTX(TIMER_SINT));
	time_step(T_1MS);
	rdmsr(V(0), STIMER_CONFIG(2));
	poke32(0, SIMP(0) + TIMER_SINT * sizeof(struct hv_message), HVMSG_NONE);
	wrmsr(V(0), HV_X64_MSR_EOM, 0);
	/* periodic, 10 us: a tick, then its slot is full and ticks are dropped */
	wrmsr(V(0), STIMER_COUNT(1), 100);
	wrmsr(V(0), STIMER_CONFIG(1), HV_STIMER_ENABLE | HV_STIMER_PERIODIC | SINTX(TIMER_SINT));
	time_step(T_50US);
	time_step(T_50US);
	time_ticks(2000);                                                   /* 1 us */
	/* direct mode: the vector, no message */
	wrmsr(V(0), STIMER_COUNT(3), 50000);
	wrmsr(V(0), STIMER_CONFIG(3), HV_STIMER_ENABLE | HV_STIMER_DIRECT_MODE | 0x61ull << HV_STIMER_VECTOR_SHIFT);
	/* auto-enable: the count enables it */
	wrmsr(V(1), STIMER_CONFIG(0), HV_STIMER_AUTO_ENABLE | SINTX(TIMER_SINT));
	wrmsr(V(1), STIMER_COUNT(0), 20000);
	time_step(T_1MS);
	time_step(T_1MS);
	poke32(0, SIMP(0) + TIMER_SINT * sizeof(struct hv_message), HVMSG_NONE);
	wrmsr(V(0), HV_X64_MSR_EOM, 0);
	time_step(T_1MS);
	end();

	begin("hyperv_synic-vp_assist_crash_and_reset", CFG_VCPUS(2), 0, NULL, 0);
	hv_hello(V(0));
	wrmsr(V(1), HV_X64_MSR_VP_ASSIST_PAGE, ASSIST | HV_X64_MSR_VP_ASSIST_PAGE_ENABLE);
	rdmsr(V(1), HV_X64_MSR_VP_ASSIST_PAGE);
	wrmsr(V(1), HV_X64_MSR_VP_ASSIST_PAGE, FUZZ_RAM_END | 1);                /* outside RAM: #GP */
	wrmsr(V(1), HV_X64_MSR_VP_ASSIST_PAGE, ASSIST);
	rdmsr(V(0), HV_X64_MSR_SVERSION);
	rdmsr(V(0), HV_X64_MSR_RESET);
	wrmsr(V(0), HV_X64_MSR_RESET, 2);                                   /* only 1 resets */
	rdmsr(V(0), HV_X64_MSR_CRASH_CTL);
	for (unsigned i = 0; i < 5; i++)
		wrmsr(V(0), HV_X64_MSR_CRASH_P0 + i, 0x100 + i);
	wrmsr(V(0), HV_X64_MSR_CRASH_CTL, 0);
	wrmsr(V(0), HV_X64_MSR_CRASH_CTL, HV_CRASH_CTL_CRASH_NOTIFY);       /* the guest's crash report */
	end();

	begin("hyperv_synic-init_resets_synic_and_timers", CFG_VCPUS(2), 0, NULL, 0);
	hv_hello(V(0));
	synic_up(1, TIMER_SINT, 0x53);
	wrmsr(V(1), HV_X64_MSR_SINT0 + 5, 0x60 | HV_SYNIC_SINT_AUTO_EOI);
	wrmsr(V(1), STIMER_COUNT(0), 5000);
	wrmsr(V(1), STIMER_CONFIG(0), HV_STIMER_ENABLE | HV_STIMER_PERIODIC | SINTX(TIMER_SINT));
	time_step(T_1MS);
	sched(SCHED_INIT, V(1), 0);
	rdmsr(V(1), HV_X64_MSR_SCONTROL);
	rdmsr(V(1), STIMER_CONFIG(0));
	time_step(T_1MS);
	synic_up(1, 2, 0x52);
	hv(V(0), HVCALL_SIGNAL_EVENT | HV_INPUT_FAST, HV_CONN_ID(1, 2) | 1ull << 32, 0);
	end();
}

/* ---- Xen (tests/unit/test_xen*.c) ---- */

/*
 * What a guest does first: a 64-bit call (so the MSR write below sees long
 * mode and latches the 64-bit shared_info layout), then the hypercall page.
 */
static void xen_hello(uint8_t vsel)
{
	xen(vsel, __HYPERVISOR_xen_version, XENVER_version, 0, 0);
	wrmsr(vsel, XEN_HYPERCALL_MSR, XEN_PAGE);
}

/* struct xen_add_to_physmap (64-bit): domid, size, space, idx, gpfn */
static void map_space(uint8_t vsel, uint32_t space, uint64_t idx, uint64_t gpa)
{
	const uint64_t b[3] = { DOMID_SELF | (uint64_t)space << 32, idx, gpa >> 12 };
	poke(vsel & 1, BUF, b, sizeof(b));
	xen(vsel, __HYPERVISOR_memory_op, XENMEM_add_to_physmap, BUF, 0);
}

/* An event_channel_op struct at BUF + off, then the call. */
static void evtchn(uint8_t vsel, uint32_t cmd, const uint32_t *a, size_t n, uint64_t off)
{
	poke(vsel & 1, BUF + off, a, n * 4);
	xen(vsel, __HYPERVISOR_event_channel_op, cmd, BUF + off, 0);
}
#define EVTCHN(vsel, cmd, ...) do { \
		const uint32_t a_[] = { __VA_ARGS__ }; \
		evtchn(vsel, cmd, a_, sizeof(a_) / 4, 0x100); \
	} while (0)

/* struct xen_hvm_param: domid, index, value */
static void hvm_param(uint8_t vsel, bool set, uint32_t index, uint64_t value)
{
	const uint64_t p[2] = { DOMID_SELF | (uint64_t)index << 32, value };
	poke(vsel & 1, BUF + 0x200, p, sizeof(p));
	xen(vsel, __HYPERVISOR_hvm_op, set ? HVMOP_set_param : HVMOP_get_param, BUF + 0x200, 0);
}

#define CALLBACK_VECTOR(v) ((uint64_t)HVM_PARAM_CALLBACK_TYPE_VECTOR << HVM_PARAM_CALLBACK_TYPE_SHIFT | (v))

/* A 64-bit grant_table_op with one op struct at BUF + 0x300. */
static void gnttab(uint8_t vsel, uint32_t cmd, const void *op, size_t n, uint32_t count)
{
	poke(vsel & 1, BUF + 0x300, op, n);
	xen(vsel, __HYPERVISOR_grant_table_op, cmd, BUF + 0x300, count);
}

/* The neighbour (domain 3) with its grant frame 0 at GT, entry GREF granting GPAGE to domain 2. */
static void peer_grants(uint16_t flags)
{
	xen_hello(PEER(0));
	map_space(PEER(0), XENMAPSPACE_grant_table, 0, GT);
	poke(1, GPAGE, "granted!", 8);
	const uint16_t e[4] = { flags, DOM_A, (uint16_t)(GPAGE >> 12), 0 };   /* flags, domid, frame */
	poke(1, GT + GREF * 8, e, sizeof(e));
}

static void seeds_xen(void)
{
	begin_harness("xen");

	begin("xen-version_console_and_cpuid", CFG_VCPUS(2), 0, NULL, 0);
	xen_hello(V(0));
	for (uint32_t leaf = CPUID_BASE; leaf <= CPUID_BASE + 5; leaf++)
		cpuid(V(1), leaf, 0);
	cpuid(V(0), CPUID_BASE + 3, 1);
	xen(V(0), __HYPERVISOR_xen_version, XENVER_extraversion, BUF, 0);
	xen(V(0), __HYPERVISOR_xen_version, XENVER_compile_info, BUF, 0);
	xen(V(1), __HYPERVISOR_xen_version, XENVER_capabilities, LIST, 0);
	xen(V(0), __HYPERVISOR_xen_version, XENVER_changeset, BUF, 0);
	xen(V(0), __HYPERVISOR_xen_version, XENVER_platform_parameters, BUF, 0);
	poke64(0, BUF + 0x100, 0);
	xen(V(0), __HYPERVISOR_xen_version, XENVER_get_features, BUF + 0x100, 0);
	xen(V(0), __HYPERVISOR_xen_version, XENVER_pagesize, 0, 0);
	xen(V(0), __HYPERVISOR_xen_version, XENVER_guest_handle, BUF, 0);
	xen(V(0), __HYPERVISOR_xen_version, XENVER_commandline, LIST, 0);
	xen(V(0), __HYPERVISOR_xen_version, XENVER_build_id, BUF, 0);
	xen32(V(1), __HYPERVISOR_xen_version, XENVER_version, 0, 0);
	poke(0, BUF + 0x200, "hello from the guest\n", 21);
	xen(V(0), __HYPERVISOR_console_io, CONSOLEIO_write, 21, BUF + 0x200);
	xen32(V(1), __HYPERVISOR_console_io, CONSOLEIO_write, 6, BUF + 0x200);
	xen(V(0), __HYPERVISOR_console_io, CONSOLEIO_write, 3000, BUF);   /* continued every 1 KiB */
	xen(V(0), __HYPERVISOR_console_io, CONSOLEIO_read, 16, BUF);
	end();

	begin("xen-sched_ops_and_shutdown", CFG_VCPUS(2), 0, NULL, 0);
	xen_hello(V(0));
	xen(V(0), __HYPERVISOR_sched_op, SCHEDOP_yield, 0, 0);
	xen(V(1), __HYPERVISOR_sched_op, 1ull << 32 | SCHEDOP_yield, 0, 0);   /* the sub-op is 32 bits */
	poke(0, BUF, (const uint32_t[]){ DOM_A, SHUTDOWN_reboot }, 8);
	xen(V(0), __HYPERVISOR_sched_op, SCHEDOP_remote_shutdown, BUF, 0);   /* -EPERM */
	xen(V(0), __HYPERVISOR_sched_op, SCHEDOP_pin_override, BUF, 0);
	xen(V(0), __HYPERVISOR_vm_assist, VMASST_CMD_enable, VMASST_TYPE_runstate_update_flag, 0);
	xen_m(CPL3, V(0), __HYPERVISOR_sched_op, SCHEDOP_yield, 0, 0);     /* CPL 3: -EPERM */
	xen(V(0), __HYPERVISOR_iret, 0, 0, 0);                             /* not for HVM: -ENOSYS */
	poke32(0, BUF + 0x100, SHUTDOWN_poweroff);
	xen(V(1), __HYPERVISOR_sched_op, SCHEDOP_shutdown, BUF + 0x100, 0);   /* the domain ends */
	end();

	begin("xen_events-shinfo_vcpu_info_and_params", CFG_VCPUS(2), 0, NULL, 0);
	xen_hello(V(0));
	time_step(T_1MS);
	map_space(V(0), XENMAPSPACE_shared_info, 0, SHINFO);
	time_step(T_1MS);
	map_space(V(1), XENMAPSPACE_shared_info, 0, SHINFO2);              /* moves, with its contents */
	hvm_param(V(0), true, HVM_PARAM_CALLBACK_IRQ, CALLBACK_VECTOR(0xf3));
	hvm_param(V(0), false, HVM_PARAM_CALLBACK_IRQ, 0);
	hvm_param(V(0), false, HVM_PARAM_STORE_PFN, 0);
	hvm_param(V(0), true, HVM_PARAM_STORE_EVTCHN, 5);
	hvm_param(V(0), true, HVM_PARAM_PAE_ENABLED, 1);                   /* deprecated: -EINVAL */
	{
		const uint64_t r[2] = { VINFO >> 12, 0x40 };                    /* gfn, offset */
		poke(0, BUF, r, sizeof(r));
		xen(V(0), __HYPERVISOR_vcpu_op, VCPUOP_register_vcpu_info, 1, BUF);
		xen(V(0), __HYPERVISOR_vcpu_op, VCPUOP_register_vcpu_info, 1, BUF);   /* once: -EINVAL (Xen 4.17) */
		poke(0, BUF, (const uint32_t[]){ 1, 0xf4 }, 8);
		xen(V(1), __HYPERVISOR_hvm_op, HVMOP_set_evtchn_upcall_vector, BUF, 0);
	}
	sched(SCHED_CLOCK_CHANGED, V(1), 0);
	time_step(T_1S);
	sched(SCHED_CLOCK_CHANGED, V(0), 0);
	end();

	begin("xen_events-ipi_delivery_mask_unmask", CFG_VCPUS(2), 0, NULL, 0);
	xen_hello(V(0));
	map_space(V(0), XENMAPSPACE_shared_info, 0, SHINFO);
	hvm_param(V(0), true, HVM_PARAM_CALLBACK_IRQ, CALLBACK_VECTOR(0xf3));
	EVTCHN(V(0), EVTCHNOP_bind_ipi, 0, 0);                             /* port 1 */
	EVTCHN(V(0), EVTCHNOP_bind_ipi, 1, 0);                             /* port 2 */
	EVTCHN(V(1), EVTCHNOP_send, 1);
	EVTCHN(V(0), EVTCHNOP_status, DOMID_SELF, 1, 0, 0, 0, 0);
	poke(0, SHINFO + 0xa00, (const uint8_t[]){ 1u << 2 }, 1);          /* the guest masks port 2 */
	EVTCHN(V(0), EVTCHNOP_send, 2);                                    /* pending, not delivered */
	EVTCHN(V(1), EVTCHNOP_unmask, 2);                                  /* delivered now */
	EVTCHN(V(0), EVTCHNOP_bind_virq, 2, 0, 0);                         /* a global VIRQ: port 3 */
	EVTCHN(V(0), EVTCHNOP_bind_vcpu, 3, 1);                            /* moves to vCPU 1 */
	EVTCHN(V(0), EVTCHNOP_close, 1);
	EVTCHN(V(0), EVTCHNOP_send, 1);                                    /* closed: -EINVAL */
	EVTCHN(V(0), EVTCHNOP_alloc_unbound, DOMID_SELF | DOMID_SELF << 16, 0);
	end();

	begin("xen_events-virq_timer_singleshot_periodic", CFG_VCPUS(2), 0, NULL, 0);
	xen_hello(V(0));
	map_space(V(0), XENMAPSPACE_shared_info, 0, SHINFO);
	poke(0, BUF + 0x80, (const uint32_t[]){ 0, 0xf3 }, 8);
	xen(V(0), __HYPERVISOR_hvm_op, HVMOP_set_evtchn_upcall_vector, BUF + 0x80, 0);
	EVTCHN(V(0), EVTCHNOP_bind_virq, VIRQ_TIMER, 0, 0);                /* port 1 */
	{
		const uint64_t s[2] = { 5000000, VCPU_SSHOTTMR_future };       /* 5 ms, in the future */
		poke(0, BUF, s, sizeof(s));
		xen(V(0), __HYPERVISOR_vcpu_op, VCPUOP_set_singleshot_timer, 0, BUF);
		for (unsigned i = 0; i < 6; i++)
			time_step(T_1MS);
		/*
		 * In the past: with VCPU_SSHOTTMR_future that is -ETIME, an errno the
		 * engine's check does not know yet (it would end every run); without
		 * the flag the timer fires at once.
		 */
		poke64(0, BUF + 8, 0);
		xen(V(0), __HYPERVISOR_vcpu_op, VCPUOP_set_singleshot_timer, 0, BUF);
		time_step(T_1TICK);
		xen(V(1), __HYPERVISOR_vcpu_op, VCPUOP_set_singleshot_timer, 0, BUF);   /* not its own: -EINVAL */
		poke64(0, BUF + 0x40, 10000000);                               /* 10 ms */
		xen(V(0), __HYPERVISOR_vcpu_op, VCPUOP_set_periodic_timer, 0, BUF + 0x40);
		time_step(T_1S);
		time_step(T_1S);
		xen(V(0), __HYPERVISOR_vcpu_op, VCPUOP_stop_periodic_timer, 0, 0);
		EVTCHN(V(1), EVTCHNOP_bind_virq, VIRQ_TIMER, 1, 0);            /* vCPU 1's: port 2 */
		poke64(0, BUF + 0x40, 1000000);                                /* 1 ms, the least */
		xen(V(0), __HYPERVISOR_vcpu_op, VCPUOP_set_periodic_timer, 1, BUF + 0x40);
		for (unsigned i = 0; i < 3; i++)
			time_step(T_1MS);
		xen(V(0), __HYPERVISOR_vcpu_op, VCPUOP_stop_singleshot_timer, 0, 0);
	}
	end();

	begin("xen_events-block_and_poll", CFG_VCPUS(2), 0, NULL, 0);
	xen_hello(V(0));
	map_space(V(0), XENMAPSPACE_shared_info, 0, SHINFO);
	EVTCHN(V(0), EVTCHNOP_bind_ipi, 0, 0);                             /* port 1 */
	EVTCHN(V(0), EVTCHNOP_bind_ipi, 0, 0);                             /* port 2 */
	xen(V(0), __HYPERVISOR_sched_op, SCHEDOP_block, 0, 0);             /* asleep ... */
	EVTCHN(V(1), EVTCHNOP_send, 1);                                    /* ... until an event */
	sched(SCHED_WAKE, V(0), 0);                                        /* (in case it did not sleep) */
	{
		/* the guest acks: upcall_pending, the selector, the pending bits */
		poke16(0, SHINFO, 0);
		poke64(0, SHINFO + 8, 0);
		poke64(0, SHINFO + 0x800, 0);
		const uint64_t p[3] = { LIST, 2, 3000000 };                     /* ports, nr_ports, timeout 3 ms */
		poke(0, LIST, (const uint32_t[]){ 1, 2 }, 8);
		poke(0, BUF, p, sizeof(p));
		xen(V(0), __HYPERVISOR_sched_op, SCHEDOP_poll, BUF, 0);         /* asleep until the timeout */
		time_step(T_1S);
		sched(SCHED_WAKE, V(0), 0);
		poke64(0, BUF + 8, 129);                                        /* too many ports: -EINVAL */
		xen(V(0), __HYPERVISOR_sched_op, SCHEDOP_poll, BUF, 0);
		poke64(0, BUF + 8, 2);
		poke64(0, BUF + 16, 0);
		xen(V(1), __HYPERVISOR_sched_op, SCHEDOP_poll, BUF, 0);         /* vCPU 1 polls */
		EVTCHN(V(0), EVTCHNOP_send, 2);                                 /* wakes pollers, masked or not */
		sched(SCHED_WAKE, V(1), 0);
	}
	end();

	begin("xen_events-interdomain_loopback", CFG_VCPUS(1), 0, NULL, 0);
	xen_hello(V(0));
	map_space(V(0), XENMAPSPACE_shared_info, 0, SHINFO);
	EVTCHN(V(0), EVTCHNOP_alloc_unbound, DOMID_SELF | DOMID_SELF << 16, 0);   /* port 1 */
	EVTCHN(V(0), EVTCHNOP_bind_ipi, 0, 0);                                    /* port 2 */
	EVTCHN(V(0), EVTCHNOP_bind_interdomain, DOMID_SELF, 2, 0);                /* not unbound: -EINVAL */
	EVTCHN(V(0), EVTCHNOP_bind_interdomain, DOM_A, 1, 0);                     /* port 3 */
	EVTCHN(V(0), EVTCHNOP_send, 1);
	EVTCHN(V(0), EVTCHNOP_send, 3);
	EVTCHN(V(0), EVTCHNOP_status, DOMID_SELF, 3, 0, 0, 0, 0);
	EVTCHN(V(0), EVTCHNOP_close, 3);
	EVTCHN(V(0), EVTCHNOP_send, 1);                                           /* dropped */
	EVTCHN(V(0), EVTCHNOP_bind_interdomain, DOMID_SELF, 1, 0);                /* bound again */
	EVTCHN(V(0), EVTCHNOP_bind_vcpu, 1, 0);
	end();

	begin("xen_grants-interdomain_channel", CFG_VCPUS(1) | CFG_PEER, 0, NULL, 0);
	xen_hello(V(0));
	xen_hello(PEER(0));
	map_space(V(0), XENMAPSPACE_shared_info, 0, SHINFO);
	map_space(PEER(0), XENMAPSPACE_shared_info, 0, SHINFO);
	EVTCHN(V(0), EVTCHNOP_alloc_unbound, DOMID_SELF | DOM_PEER << 16, 0);     /* A's port 1, for domain 3 */
	EVTCHN(PEER(0), EVTCHNOP_bind_interdomain, DOM_A, 1, 0);                  /* the neighbour's port 1 */
	EVTCHN(PEER(0), EVTCHNOP_send, 1);
	EVTCHN(V(0), EVTCHNOP_send, 1);
	EVTCHN(V(0), EVTCHNOP_status, DOMID_SELF, 1, 0, 0, 0, 0);
	EVTCHN(V(0), EVTCHNOP_status, DOM_PEER, 1, 0, 0, 0, 0);                   /* not ours: -EPERM */
	EVTCHN(V(0), EVTCHNOP_close, 1);                                          /* the other end: unbound */
	EVTCHN(PEER(0), EVTCHNOP_status, DOMID_SELF, 1, 0, 0, 0, 0);
	EVTCHN(V(0), EVTCHNOP_alloc_unbound, DOMID_SELF | DOM_PEER << 16, 0);
	EVTCHN(PEER(0), EVTCHNOP_bind_interdomain, DOM_A, 1, 0);
	peer_end();                                                               /* its ends close */
	EVTCHN(V(0), EVTCHNOP_status, DOMID_SELF, 1, 0, 0, 0, 0);
	EVTCHN(V(0), EVTCHNOP_send, 1);
	end();

	begin("xen_grants-map_interdomain", CFG_VCPUS(1) | CFG_PEER, 0, NULL, 0);
	xen_hello(V(0));
	peer_grants(GTF_permit_access);
	{
		/* map_grant_ref: host_addr, flags, ref, dom, status, handle, dev_bus_addr */
		uint64_t m[4] = { AT_HOLE, GNTMAP_host_map | (uint64_t)GREF << 32, DOM_PEER | 1ull << 16, 0 };
		gnttab(V(0), GNTTABOP_map_grant_ref, m, sizeof(m), 1);
		poke(0, AT_HOLE + 8, "back", 4);                                /* writes the neighbour's page */
		m[0] = AT_RAM;
		m[1] |= GNTMAP_readonly;
		gnttab(V(0), GNTTABOP_map_grant_ref, m, sizeof(m), 1);           /* a read-only map over RAM */
		/* unmap_grant_ref: host_addr, dev_bus_addr, handle, status */
		const uint64_t u[3] = { AT_HOLE, 0, 0 | 1ull << 32 };
		gnttab(V(0), GNTTABOP_unmap_grant_ref, u, sizeof(u), 1);
		const uint64_t u1[3] = { AT_RAM, 0, 1 | 1ull << 32 };
		gnttab(V(0), GNTTABOP_unmap_grant_ref, u1, sizeof(u1), 1);
		gnttab(V(0), GNTTABOP_unmap_grant_ref, u1, sizeof(u1), 1);       /* gone: bad handle */
		m[0] = AT_HOLE;
		m[1] = GNTMAP_host_map | (uint64_t)GREF << 32;
		gnttab(V(0), GNTTABOP_map_grant_ref, m, sizeof(m), 1);           /* mapped again, */
	}
	peer_end();                                                          /* and the granter goes */
	end();

	begin("xen_grants-copy", CFG_VCPUS(1) | CFG_PEER, 0, NULL, 0);
	xen_hello(V(0));
	peer_grants(GTF_permit_access);
	poke(0, MINE, "from A's own page", 17);
	{
		/* gnttab_copy: source { u, domid, offset }, dest, len, flags, status */
		const uint64_t c[10] = {
			GREF, DOM_PEER, MINE >> 12, DOMID_SELF | 100ull << 16, 8 | (uint64_t)GNTCOPY_source_gref << 16 | 1ull << 32,
			MINE >> 12, DOMID_SELF | 5ull << 16, GREF, DOM_PEER | 4000ull << 16, 12 | (uint64_t)GNTCOPY_dest_gref << 16,
		};
		gnttab(V(0), GNTTABOP_copy, c, sizeof(c), 2);
		const uint64_t ro[5] = { GREF + 1, DOM_PEER, MINE >> 12, DOMID_SELF, 4 | (uint64_t)GNTCOPY_source_gref << 16 };
		const uint16_t e[4] = { GTF_permit_access | GTF_readonly, DOM_A, (uint16_t)(GPAGE >> 12), 0 };
		poke(1, GT + (GREF + 1) * 8, e, sizeof(e));
		gnttab(V(0), GNTTABOP_copy, ro, sizeof(ro), 1);                   /* a read-only grant as source */
	}
	end();

	begin("xen_grants-setup_table_query_swap", CFG_VCPUS(1), 0, NULL, 0);
	xen_hello(V(0));
	map_space(V(0), XENMAPSPACE_grant_table, 1, GT);                   /* grows the table to 2 */
	{
		/* setup_table: dom, nr_frames, status, frame_list */
		const uint64_t s[3] = { DOMID_SELF | 3ull << 32, 1, LIST };
		gnttab(V(0), GNTTABOP_setup_table, s, sizeof(s), 1);
		const uint32_t q[4] = { DOMID_SELF, 0, 0, 1 };                  /* query_size */
		gnttab(V(0), GNTTABOP_query_size, q, sizeof(q), 1);
		gnttab(V(0), GNTTABOP_set_version, (const uint32_t[]){ 1 }, 4, 1);
		gnttab(V(0), GNTTABOP_get_version, (const uint32_t[]){ DOMID_SELF, 0 }, 8, 1);
		map_space(V(0), XENMAPSPACE_grant_table, 0, GT + PAGE_SIZE);
		const uint16_t e[4] = { GTF_permit_access, DOM_PEER, (uint16_t)(MINE >> 12), 0 };
		poke(0, GT + PAGE_SIZE + GREF * 8, e, sizeof(e));
		const uint32_t sw[3] = { GREF, GREF + 1, 0 };                   /* swap_grant_ref */
		gnttab(V(0), GNTTABOP_swap_grant_ref, sw, sizeof(sw), 1);
		/* remove_from_physmap: the frame leaves the guest, stays in the table */
		poke(0, BUF, (const uint64_t[]){ DOMID_SELF, GT >> 12 }, 16);
		xen(V(0), __HYPERVISOR_memory_op, XENMEM_remove_from_physmap, BUF, 0);
		gnttab(V(0), GNTTABOP_query_size, q, sizeof(q), 1);
	}
	end();

	begin("xen_memory-balloon_out_and_in", CFG_VCPUS(1), 0, NULL, 0);
	xen_hello(V(0));
	{
		/* xen_memory_reservation: extent_start, nr_extents, extent_order, mem_flags, domid */
		poke(0, LIST, (const uint64_t[]){ 0x30, 0x31, 0x34 }, 24);
		const uint64_t r[4] = { LIST, 2, 0, DOMID_SELF };
		poke(0, BUF, r, sizeof(r));
		xen(V(0), __HYPERVISOR_memory_op, XENMEM_decrease_reservation, BUF, 0);
		poke16(0, BUF + 0x40, DOMID_SELF);
		xen(V(0), __HYPERVISOR_memory_op, XENMEM_current_reservation, BUF + 0x40, 0);
		xen(V(0), __HYPERVISOR_memory_op, XENMEM_populate_physmap, BUF, 0);
		xen(V(0), __HYPERVISOR_memory_op, XENMEM_maximum_reservation, BUF + 0x40, 0);
		const uint64_t r1[4] = { LIST + 16, 1, 1, DOMID_SELF };         /* order 1: two pages */
		poke(0, BUF + 0x80, r1, sizeof(r1));
		xen(V(0), __HYPERVISOR_memory_op, XENMEM_decrease_reservation, BUF + 0x80, 0);
		xen(V(0), __HYPERVISOR_memory_op, XENMEM_populate_physmap, BUF + 0x80, 0);
		poke(0, BUF + 0xc0, (const uint64_t[]){ 1, LIST + 0x100 }, 16);   /* memory_map */
		xen(V(0), __HYPERVISOR_memory_op, XENMEM_memory_map, BUF + 0xc0, 0);
		poke(0, BUF + 0xe0, (const uint64_t[]){ DOMID_SELF, 0x36 }, 16);
		xen(V(0), __HYPERVISOR_memory_op, XENMEM_remove_from_physmap, BUF + 0xe0, 0);
		const uint64_t r2[4] = { LIST + 0x200, 1, 0, DOMID_SELF };
		poke64(0, LIST + 0x200, 0x36);
		poke(0, BUF + 0x100, r2, sizeof(r2));
		xen(V(0), __HYPERVISOR_memory_op, XENMEM_populate_physmap, BUF + 0x100, 0);
		/* order 2: the second extent runs off the end of RAM, the call stops there (1 done) */
		const uint64_t four[4] = { LIST + 0x300, 2, 2, DOMID_SELF };
		poke(0, LIST + 0x300, (const uint64_t[]){ 0x38, 0x3e }, 16);
		poke(0, BUF + 0x140, four, sizeof(four));
		xen(V(0), __HYPERVISOR_memory_op, XENMEM_decrease_reservation, BUF + 0x140, 0);
		xen(V(0), __HYPERVISOR_memory_op, XENMEM_populate_physmap, BUF + 0x140, 0);
	}
	end();

	begin("xen_memory-multicall", CFG_VCPUS(1), 0, NULL, 0);
	xen_hello(V(0));
	poke16(0, BUF, DOMID_SELF);
	poke(0, BUF + 0x40, "mc!\n", 4);
	{
		/* multicall_entry { op, result, args[6] }: 64 bytes (only the words used are poked) */
		const uint64_t e0[3] = { __HYPERVISOR_xen_version, 0, XENVER_version };
		const uint64_t e1[3] = { __HYPERVISOR_sched_op, 0, SCHEDOP_yield };
		const uint64_t e2[4] = { __HYPERVISOR_memory_op, 0, XENMEM_current_reservation, BUF };
		const uint64_t e3[3] = { __HYPERVISOR_multicall, 0, LIST };      /* nested: -EINVAL */
		const uint64_t e4[5] = { __HYPERVISOR_console_io, 0, CONSOLEIO_write, 4, BUF + 0x40 };
		poke(0, LIST, e0, sizeof(e0));
		poke(0, LIST + 64, e1, sizeof(e1));
		poke(0, LIST + 128, e2, sizeof(e2));
		poke(0, LIST + 192, e3, sizeof(e3));
		poke(0, LIST + 256, e4, sizeof(e4));
		xen(V(0), __HYPERVISOR_multicall, LIST, 5, 0);
		/* 32-bit entries: 4-byte fields, 32 bytes */
		const uint32_t c0[3] = { __HYPERVISOR_xen_version, 0, XENVER_version };
		const uint32_t c1[5] = { __HYPERVISOR_console_io, 0, CONSOLEIO_write, 4, BUF + 0x40 };
		poke(0, LIST + 0x400, c0, sizeof(c0));
		poke(0, LIST + 0x420, c1, sizeof(c1));
		xen32(V(0), __HYPERVISOR_multicall, LIST + 0x400, 2, 0);
	}
	end();

	begin("xen_runstate-states_and_update_flag", CFG_VCPUS(2), 0, NULL, 0);
	xen_hello(V(0));
	xen(V(0), __HYPERVISOR_vm_assist, VMASST_CMD_enable, VMASST_TYPE_runstate_update_flag, 0);
	poke(0, BUF, (const uint64_t[]){ TSC_PAGE, TSC_PAGE + 0x40 }, 16);
	xen(V(0), __HYPERVISOR_vcpu_op, VCPUOP_register_runstate_memory_area, 0, BUF);
	xen(V(0), __HYPERVISOR_vcpu_op, VCPUOP_register_runstate_memory_area, 1, BUF + 8);
	time_step(T_1MS);
	sched(SCHED_RUNSTATE, V(0), 0);
	sched(SCHED_PREEMPTED, V(1), 0);
	time_step(T_1MS);
	sched(SCHED_SCHEDULED, V(1), 100);
	sched(SCHED_RUNSTATE, V(1), 0);
	xen(V(0), __HYPERVISOR_sched_op, SCHEDOP_block, 0, 0);               /* blocked */
	time_step(T_1MS);
	sched(SCHED_WAKE, V(0), 0);
	sched(SCHED_RUNSTATE, V(0), 0);
	xen(V(0), __HYPERVISOR_vm_assist, VMASST_CMD_disable, VMASST_TYPE_runstate_update_flag, 0);
	poke64(0, BUF + 16, TSC_PAGE + PAGE_SIZE - 20);                       /* across two pages */
	xen(V(1), __HYPERVISOR_vcpu_op, VCPUOP_register_runstate_memory_area, 1, BUF + 16);
	sched(SCHED_PREEMPTED, V(1), 0);
	xen32(V(0), __HYPERVISOR_vcpu_op, VCPUOP_register_runstate_memory_area, 0, BUF);   /* compat layout */
	sched(SCHED_RUNSTATE, V(0), 0);
	end();

	begin("xen_events-vcpu_up_down", CFG_VCPUS(3), 0, NULL, 0);
	xen_hello(V(0));
	xen(V(0), __HYPERVISOR_vcpu_op, VCPUOP_is_up, 1, 0);
	xen(V(0), __HYPERVISOR_vcpu_op, VCPUOP_down, 1, 0);
	xen(V(0), __HYPERVISOR_vcpu_op, VCPUOP_is_up, 1, 0);
	xen(V(2), __HYPERVISOR_vcpu_op, VCPUOP_up, 1, 0);
	{
		/* vcpu_hvm_context, 64-bit: mode; rip 0x1234, cr0 PE|PG, cr4 PAE, efer LME */
		uint64_t c[16] = { 1 };
		c[1 + 8] = 0x1234;
		c[1 + 10] = 0x80000001;
		c[1 + 12] = 1u << 5;
		c[1 + 13] = 1u << 8;
		poke(0, BUF, c, sizeof(c));
		xen(V(0), __HYPERVISOR_vcpu_op, VCPUOP_initialise, 2, BUF);   /* initialised already: -EEXIST */
	}
	xen(V(1), __HYPERVISOR_vcpu_op, VCPUOP_down, 2, 0);
	xen(V(0), __HYPERVISOR_vcpu_op, VCPUOP_up, 2, 0);
	xen(V(0), __HYPERVISOR_vcpu_op, VCPUOP_is_up, 5, 0);                /* no such vCPU: -ENOENT */
	end();

	begin("xen-compat_32bit_layouts", CFG_VCPUS(2), 0, NULL, 0);
	xen32(V(0), __HYPERVISOR_xen_version, XENVER_version, 0, 0);
	wrmsr(V(0), XEN_HYPERCALL_MSR, XEN_PAGE);                            /* latches the compat layout */
	/* add_to_physmap, 32-bit: domid, size, space, idx, gpfn (4-byte ulongs) */
	poke(0, BUF, (const uint32_t[]){ DOMID_SELF, XENMAPSPACE_shared_info, 0, SHINFO >> 12 }, 16);
	xen32(V(0), __HYPERVISOR_memory_op, XENMEM_add_to_physmap, BUF, 0);
	poke(0, BUF + 0x40, (const uint32_t[]){ 0, 0 }, 8);
	xen32(V(0), __HYPERVISOR_event_channel_op, EVTCHNOP_bind_ipi, BUF + 0x40, 0);
	xen32(V(1), __HYPERVISOR_event_channel_op, EVTCHNOP_send, BUF + 0x44, 0);
	/* reservation, 32-bit: extent_start, nr, order, flags, domid (20 bytes) */
	poke32(0, LIST, 0x30);
	poke(0, BUF + 0x80, (const uint32_t[]){ LIST, 1, 0, 0, DOMID_SELF }, 20);
	xen32(V(0), __HYPERVISOR_memory_op, XENMEM_decrease_reservation, BUF + 0x80, 0);
	xen32(V(0), __HYPERVISOR_memory_op, XENMEM_populate_physmap, BUF + 0x80, 0);
	/* setup_table, 32-bit: dom, nr_frames, status, list (4 bytes at 12) */
	poke(0, BUF + 0xc0, (const uint32_t[]){ DOMID_SELF, 1, 0, LIST + 0x100 }, 16);
	xen32(V(0), __HYPERVISOR_grant_table_op, GNTTABOP_setup_table, BUF + 0xc0, 1);
	/* singleshot, compat: 12 bytes */
	poke(0, BUF + 0x100, (const uint32_t[]){ 3000000, 0, 0 }, 12);
	xen32(V(0), __HYPERVISOR_vcpu_op, VCPUOP_set_singleshot_timer, 0, BUF + 0x100);
	time_step(T_1S);
	hvm_param(V(0), true, HVM_PARAM_CALLBACK_IRQ, CALLBACK_VECTOR(0xf3));   /* 64-bit: the layout moves */
	end();
}

/* ---- several ABIs in one VM (test_multi_abi.c, test_ext.c, test_intercept.c) ---- */

/* Both pages written (Hyper-V's at HV_PAGE, Xen's at XEN_PAGE): the prelude of test_multi_abi/test_intercept. */
static void pages_hv_xen(uint8_t vsel)
{
	hv_hello(vsel);
	wrmsr(vsel, XEN_HYPERCALL_MSR_VIRIDIAN, XEN_PAGE);
}

static void seeds_multi(void)
{
	begin_harness("multi");

	begin("multi-calls_by_page_then_highest_base", CFG_VCPUS(2), L_HV_KVM_XEN, NULL, 0);
	xen(V(0), __HYPERVISOR_xen_version, XENVER_version, 0, 0);            /* direct: Xen, the highest base */
	pages_hv_xen(V(0));
	cpuid(V(0), CPUID_BASE, 0);
	cpuid(V(0), CPUID_BASE + 0x100, 0);
	cpuid(V(0), CPUID_BASE + 0x200, 0);
	cpuid(V(1), CPUID_BASE + 0x202, 0);
	via = VIA_HV_PAGE;
	hv(V(0), HVCALL_NOTIFY_LONG_SPIN_WAIT, 0, 0);
	hv(V(0), HVCALL_SEND_IPI | HV_INPUT_FAST, 0x41, 0x2);
	via = VIA_XEN_PAGE;
	xen(V(1), __HYPERVISOR_xen_version, XENVER_version, 0, 0);
	map_space(V(0), XENMAPSPACE_shared_info, 0, SHINFO);
	via = DIRECT;
	xen(V(1), __HYPERVISOR_xen_version, XENVER_version, 0, 0);
	wrmsr(V(1), MSR_KVM_SYSTEM_TIME_NEW, CLOCK | 1);                       /* KVM's MSRs reach KVM */
	rdmsr(V(0), HV_X64_MSR_VP_INDEX);
	end();

	begin("multi-pages_on_one_gfn_hyperv_first", CFG_VCPUS(1), L_HV_XEN_KVM, NULL, 0);
	kvm(V(0), KVM_HC_VAPIC_POLL_IRQ, 0, 0, 0, 0);                          /* direct: KVM, the highest base */
	pages_hv_xen(V(0));
	wrmsr(V(0), XEN_HYPERCALL_MSR_VIRIDIAN, HV_PAGE);                      /* Xen's page on Hyper-V's */
	via = VIA_HV_PAGE;
	hv(V(0), 0x11, 0, 0);                                                  /* VTL call: #UD */
	hv(V(0), HVCALL_NOTIFY_LONG_SPIN_WAIT, 0, 0);
	via = DIRECT;
	wrmsr(V(0), HV_X64_MSR_GUEST_OS_ID, 0);                                /* Hyper-V's page off */
	via = VIA_XEN_PAGE;
	xen(V(0), __HYPERVISOR_xen_version, XENVER_version, 0, 0);             /* the page is Xen's alone */
	via = DIRECT;
	kvm(V(0), KVM_HC_SCHED_YIELD, 0, 0, 0, 0);
	end();

	begin("multi-hyperv_kvm", CFG_VCPUS(3), L_HV_KVM, NULL, 0);
	hv_hello(V(0));
	cpuid(V(0), CPUID_BASE + 0x100, 0);
	cpuid(V(0), CPUID_BASE + 0x101, 0);
	kvm(V(0), KVM_HC_SEND_IPI, 0x6, 0, 0, 0xf3);                           /* direct: KVM */
	kvm(V(1), KVM_HC_CLOCK_PAIRING, BUF, 0, 0, 0);
	wrmsr(V(1), MSR_KVM_STEAL_TIME, CLOCK | 1);
	wrmsr(V(1), HV_X64_MSR_REFERENCE_TSC, TSC_PAGE | 1);
	via = VIA_HV_PAGE;
	hv(V(0), HVCALL_SEND_IPI | HV_INPUT_FAST, 0x41, 0x6);
	synic_up(2, 1, 0x51);
	hv(V(0), HVCALL_SIGNAL_EVENT | HV_INPUT_FAST, HV_CONN_ID(2, 1) | 9ull << 32, 0);
	via = DIRECT;
	sched(SCHED_SCHEDULED, V(1), 20);
	sched(SCHED_CLOCK_CHANGED, V(1), 0);
	end();

	begin("multi-hyperv_xen_synic_and_events", CFG_VCPUS(2), L_HV_XEN, NULL, 0);
	xen(V(0), __HYPERVISOR_xen_version, XENVER_version, 0, 0);
	pages_hv_xen(V(0));
	map_space(V(0), XENMAPSPACE_shared_info, 0, SHINFO);
	EVTCHN(V(0), EVTCHNOP_bind_ipi, 1, 0);
	EVTCHN(V(0), EVTCHNOP_send, 1);
	synic_up(1, 2, 0x52);
	via = VIA_HV_PAGE;
	{
		const uint64_t msg[3] = { HV_CONN_ID(1, 2), 0x99 | 8ull << 32, 0x1122334455667788ull };
		poke(0, IN_GPA, msg, sizeof(msg));
		hv(V(0), HVCALL_POST_MESSAGE, IN_GPA, 0);
	}
	via = DIRECT;
	wrmsr(V(1), STIMER_COUNT(0), 1000);
	wrmsr(V(1), STIMER_CONFIG(0), HV_STIMER_ENABLE | SINTX(2));
	EVTCHN(V(1), EVTCHNOP_bind_virq, VIRQ_TIMER, 1, 0);
	poke64(0, BUF + 0x40, 1000000);
	xen(V(1), __HYPERVISOR_vcpu_op, VCPUOP_set_periodic_timer, 1, BUF + 0x40);
	time_step(T_1MS);
	time_step(T_1MS);
	end();

	begin("multi-xen_kvm", CFG_VCPUS(2), L_XEN_KVM, NULL, 0);
	kvm(V(0), KVM_HC_VAPIC_POLL_IRQ, 0, 0, 0, 0);                          /* direct: KVM */
	wrmsr(V(0), XEN_HYPERCALL_MSR, XEN_PAGE);                              /* Xen's at its usual place */
	cpuid(V(0), CPUID_BASE, 0);
	cpuid(V(0), CPUID_BASE + 2, 0);
	cpuid(V(0), CPUID_BASE + 0x100, 0);
	via = VIA_XEN_PAGE;
	map_space(V(0), XENMAPSPACE_shared_info, 0, SHINFO);
	EVTCHN(V(0), EVTCHNOP_bind_ipi, 0, 0);
	EVTCHN(V(1), EVTCHNOP_send, 1);
	via = DIRECT;
	kvm(V(1), KVM_HC_KICK_CPU, 0, 0, 0, 0);
	wrmsr(V(0), MSR_KVM_SYSTEM_TIME_NEW, CLOCK | 1);
	sched(SCHED_CLOCK_CHANGED, V(0), 0);
	end();

	begin("multi-kvm_xen", CFG_VCPUS(2), L_KVM_XEN, NULL, 0);
	xen(V(0), __HYPERVISOR_xen_version, XENVER_version, 0, 0);             /* direct: Xen */
	wrmsr(V(0), XEN_HYPERCALL_MSR, XEN_PAGE);
	cpuid(V(0), CPUID_BASE, 0);
	cpuid(V(0), CPUID_BASE + 0x102, 0);
	wrmsr(V(1), MSR_KVM_STEAL_TIME, CLOCK | 1);
	wrmsr(V(1), MSR_KVM_PV_EOI_EN, (CLOCK + 0x80) | 1);
	map_space(V(0), XENMAPSPACE_shared_info, 0, SHINFO);
	poke(0, BUF + 0x80, (const uint32_t[]){ 1, 0xf3 }, 8);
	xen(V(0), __HYPERVISOR_hvm_op, HVMOP_set_evtchn_upcall_vector, BUF + 0x80, 0);
	EVTCHN(V(0), EVTCHNOP_bind_ipi, 1, 0);
	EVTCHN(V(0), EVTCHNOP_send, 1);
	sched(SCHED_SCHEDULED, V(1), 5);
	end();

	begin("multi-single_abi_takes_every_call", CFG_VCPUS(2), L_HV, NULL, 0);
	hv(V(0), HVCALL_NOTIFY_LONG_SPIN_WAIT, 0, 0);                          /* direct: the one ABI */
	hv(V(1), 0, 0, 0);
	cpuid(V(0), CPUID_BASE, 0);
	cpuid(V(0), CPUID_BASE + 0x100, 0);
	hv_hello(V(0));
	via = VIA_HV_PAGE;
	hv(V(0), HVCALL_SEND_IPI | HV_INPUT_FAST, 0x41, 0x3);
	end();

	begin("ext-calls", CFG_VCPUS(2) | CFG_EXT, L_HV_XEN_KVM, NULL, 0);
	cpuid(V(0), EXT_CPUID_BASE, 0);
	cpuid(V(0), EXT_CPUID_FEATURES, 0);
	poke(0, BUF, "hello from ext", 14);
	ext_m(M64, V(0), EXT_DEBUG_LOG, BUF, 14, 0);
	ext_m(M32, V(1), EXT_DEBUG_LOG, BUF, 5, 0);
	ext_m(M64, V(0), EXT_UNMAP_GPA_RANGE, SHINFO, 2, 0);
	ext_m(M64, V(0), EXT_UNMAP_GPA_RANGE, SHINFO, 3, 0);                   /* out already: left so */
	ext_m(M64, V(0), EXT_UNMAP_GPA_RANGE, SHINFO, 3, EXT_UNMAP_RESTORE);
	ext_m(M64, V(0), EXT_MEM_ATTRIBUTES, SHINFO, 2, EXT_ATTR_PRIVATE);
	ext_m(M64, V(0), EXT_DEBUG_LOG, SHINFO, 4, 0);                          /* private: -EFAULT */
	ext_m(M64, V(0), EXT_MEM_ATTRIBUTES, SHINFO, 2, 0);
	ext_m(M64, V(0), EXT_INJECT_EVENT, 1, 0x50, 0);
	ext_m(M64, V(1), EXT_INJECT_EVENT, 0, 0xff, 0);
	ext_m(M64, V(0), EXT_NR_CALLS, 0, 0, 0);                               /* past the calls: KVM's */
	end();

	begin("ext-off_unless_enabled", CFG_VCPUS(2), L_HV_KVM, NULL, 0);
	cpuid(V(0), EXT_CPUID_BASE, 0);
	poke(0, BUF, "off", 3);
	ext_m(M64, V(0), EXT_DEBUG_LOG, BUF, 3, 0);                             /* KVM's unknown call */
	ext_m(M32, V(0), EXT_INJECT_EVENT, 1, 0x40, 0);
	hv_hello(V(0));
	via = VIA_HV_PAGE;
	ext_m(M32, V(0), EXT_DEBUG_LOG, BUF, 3, 0);                             /* Hyper-V's, reserved bits */
	end();

	{
		static const int rules[] = {
			RULE(P_XEN, false), __HYPERVISOR_xen_version,
			RULE(P_HV, false), HVCALL_NOTIFY_LONG_SPIN_WAIT,
			RULE(P_KVM, false), KVM_HC_VAPIC_POLL_IRQ,
		};
		begin("intercept-deny_gives_each_abis_permission_error", CFG_VCPUS(1) | CFG_POLICY, L_HV_XEN_KVM,
		      rules, 3);
	}
	kvm(V(0), KVM_HC_SCHED_YIELD, 0, 0, 0, 0);                             /* a 64-bit call first */
	pages_hv_xen(V(0));
	via = VIA_XEN_PAGE;
	xen(V(0), __HYPERVISOR_xen_version, XENVER_version, 0, 0);             /* -EPERM */
	xen(V(0), __HYPERVISOR_memory_op, 99, 0, 0);                           /* not denied */
	via = VIA_HV_PAGE;
	hv(V(0), HVCALL_NOTIFY_LONG_SPIN_WAIT | HV_INPUT_FAST, 0, 0);         /* ACCESS_DENIED */
	hv(V(0), 0x7777, 0, 0);
	via = DIRECT;
	kvm(V(0), KVM_HC_VAPIC_POLL_IRQ, 0, 0, 0, 0);                          /* -EPERM */
	kvm(V(0), KVM_HC_SEND_IPI, 1, 0, 0, 0xf3);
	end();

	{
		static const int rules[] = {
			RULE(P_KVM, true), KVM_HC_VAPIC_POLL_IRQ,
			RULE(P_XEN, true), __HYPERVISOR_xen_version,
			RULE(P_XEN, false), -1,
			RULE(P_HV, true), -1,
		};
		begin("intercept-allow_list_and_wildcards", CFG_VCPUS(1) | CFG_POLICY, L_HV_XEN_KVM, rules, 4);
	}
	kvm(V(0), KVM_HC_VAPIC_POLL_IRQ, 0, 0, 0, 0);
	kvm(V(0), KVM_HC_SEND_IPI, 1, 0, 0, 0xf3);                             /* not on KVM's list */
	pages_hv_xen(V(0));
	via = VIA_XEN_PAGE;
	xen(V(0), __HYPERVISOR_xen_version, XENVER_version, 0, 0);             /* the first rule that matches */
	xen(V(0), __HYPERVISOR_memory_op, XENMEM_current_reservation, BUF, 0);
	via = VIA_HV_PAGE;
	hv(V(0), HVCALL_NOTIFY_LONG_SPIN_WAIT, 0, 0);
	end();

	{
		static const int rules[] = { RULE(P_EXT, false), EXT_DEBUG_LOG, RULE(P_KVM, true), -1 };
		begin("ext-policy_and_counters", CFG_VCPUS(2) | CFG_EXT | CFG_POLICY, L_HV_XEN_KVM, rules, 2);
	}
	poke(0, BUF, "denied", 6);
	ext_m(M64, V(0), EXT_DEBUG_LOG, BUF, 6, 0);                             /* -EPERM */
	ext_m(M64, V(0), EXT_INJECT_EVENT, 1, 0x50, 0);
	kvm(V(1), KVM_HC_KICK_CPU, 0, 0, 0, 0);
	end();
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s OUTDIR (writes OUTDIR/{kvm,hyperv,xen,multi}/seed-*)\n", argv[0]);
		return 2;
	}
	outdir = argv[1];
	mkdir_p(outdir);
	seeds_kvm();
	seeds_hyperv();
	seeds_xen();
	seeds_multi();
	printf("seeds: %u seeds, %u bytes, in %s\n", nr_seeds, total_bytes, outdir);
	return 0;
}
