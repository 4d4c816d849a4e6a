/*
 * Checks for a VM that speaks the Xen ABI (command line word "xen"; the
 * hypervisor's abi=xen). Numbers from Xen's public headers
 * (xen/include/public/: xen.h, version.h, features.h, sched.h, errno.h,
 * arch-x86/cpuid.h); the calling convention and the hypercall page from
 * xen/arch/x86/hvm/hypercall.c and the vendors' init_hypercall_page.
 */
#include "xen.h"

/* arch-x86/cpuid.h */
#define XEN_CPUID_MAX_OFFSET    5                   /* XEN_CPUID_MAX_NUM_LEAVES */
#define XEN_CPUID_EBX           0x566e6558u         /* "XenV" */
#define XEN_CPUID_ECX           0x65584d4du         /* "MMXe" */
#define XEN_CPUID_EDX           0x4d4d566eu         /* "nVMM" */
#define XEN_HVM_CPUID_IOMMU_MAPPINGS  (1u << 2)
#define XEN_HVM_CPUID_VCPU_ID_PRESENT (1u << 3)
#define XEN_HVM_CPUID_DOMID_PRESENT   (1u << 4)
#define XEN_HVM_CPUID_UPCALL_VECTOR   (1u << 6)
#define XEN_CPUID_HOST_TSC_RELIABLE   (1u << 1)
#define XEN_HYPERCALL_MSR       0x40000000u         /* base+2 EBX */
#define CPUID_INVARIANT_TSC     (1u << 8)           /* CPUID 0x80000007 EDX */

/* The version the hypervisor reports (design sheet: Xen 4.17) */
#define XEN_VERSION             (4u << 16 | 17u)

/* xen.h */
#define XEN_NR_HYPERCALLS           56      /* the table's size: 48-55 are arch_0-7 */
#define XEN_NR_UNKNOWN              0x7fff

/* version.h XENVER_* */
#define XENVER_version             0
#define XENVER_extraversion        1        /* char[16] */
#define XENVER_compile_info        2        /* struct xen_compile_info, 144 bytes */
#define XENVER_capabilities        3        /* char[1024] */
#define XENVER_changeset           4        /* char[64] */
#define XENVER_platform_parameters 5        /* xen_ulong_t virt_start: 4 bytes for a 32-bit caller */
#define XENVER_get_features        6        /* struct xen_feature_info */
#define XENVER_pagesize            7
#define XENVER_guest_handle        8        /* xen_domain_handle_t: uint8_t[16] */
#define XENVER_commandline         9
struct xen_compile_info {
	char compiler[64], compile_by[16], compile_domain[32], compile_date[32];
};
struct xen_feature_info {
	uint32_t submap_idx, submap;
};
/* features.h: what the hypervisor offers in submap 0 (design sheet), the only submap (XENFEAT_NR_SUBMAPS) */
/* writable_page_tables, auto_translated_physmap, hvm_callback_vector, hvm_safe_pvclock, not_direct_mapped */
#define XENFEAT_SUBMAP0 (1u << 0 | 1u << 2 | 1u << 8 | 1u << 9 | 1u << 16)

/* xen.h CONSOLEIO_* */
#define CONSOLEIO_write 0
#define CONSOLEIO_read  1

/* sched.h SCHEDOP_*, SHUTDOWN_* */
#define SCHEDOP_yield           0
#define SCHEDOP_shutdown        2
#define SCHEDOP_remote_shutdown 4
#define SCHEDOP_pin_override    7
#define SHUTDOWN_poweroff       0
struct sched_shutdown {
	uint32_t reason;
};
struct sched_remote_shutdown {
	uint16_t domain_id;                  /* domid_t */
	uint32_t reason;
};

#define X86_UD   6
#define X86_GP   13
#define X86_INT3 0xcc
#define X86_RET  0xc3
#define XEN_STUB_BYTES 32                    /* one stub per hypercall number */
#define CANARY 0xa5

static uint8_t xen_page[4096] __attribute__((aligned(4096)));
static bool page_ok;

/* Direct VMCALL / VMMCALL (no page): the instruction and RET. */
static const uint8_t stub_vmcall[4] __attribute__((aligned(16))) = { 0x0f, 0x01, 0xc1, X86_RET };
static const uint8_t stub_vmmcall[4] __attribute__((aligned(16))) = { 0x0f, 0x01, 0xd9, X86_RET };

/* The instruction the page uses: the CPU vendor's own (VMMCALL for "AuthenticAMD" in EBX, EDX, ECX). */
static const uint8_t *vendor_stub(void)
{
	uint32_t r[4];
	cpuid(0, r);
	bool amd = r[1] == 0x68747541 && r[3] == 0x69746e65 && r[2] == 0x444d4163;
	return amd ? stub_vmmcall : stub_vmcall;
}

/*
 * CALLs target with the number in EAX/RAX and the first three arguments
 * (64-bit: RDI, RSI, RDX; 32-bit: EBX, ECX, EDX; xen/arch/x86/hvm/hypercall.c),
 * and returns RAX. Guarded: a fault resumes at label 1, which drops the
 * return address the CALL pushed; fault_vector/fault_ip then say which and where.
 */
#ifdef __x86_64__
#define XEN_ARG01(a0, a1) "+D"(a0), "+S"(a1)
#define ASM_SP "%%rsp"
#else
#define XEN_ARG01(a0, a1) "+b"(a0), "+c"(a1)
#define ASM_SP "%%esp"
#endif
const uint8_t *xen_vendor_insn(void)
{
	return vendor_stub();
}

/* The other vendor's instruction (VMCALL on AMD): a hypervisor may take it too, or #UD. */
const uint8_t *xen_other_insn(void)
{
	return vendor_stub() == stub_vmmcall ? stub_vmcall : stub_vmmcall;
}

ulong xen_call_at(const void *target, ulong nr, ulong a0, ulong a1, ulong a2)
{
	fault_vector = NO_FAULT;
	__asm__ volatile("movl $1, %[armed]\n\t"
	                 ASM_MOV_PTR " $1f, %[recover]\n\t"
	                 "call *%[t]\n\t"
	                 "movl $0, %[armed]\n\t"
	                 "jmp 2f\n"
	                 "1:\tadd %[w], " ASM_SP "\n"
	                 "2:"
	                 : "+a"(nr), XEN_ARG01(a0, a1), "+d"(a2),
	                   [armed] "=m"(fault_armed), [recover] "=m"(fault_recover_ip)
	                 : [t] "m"(target), [w] "i"(sizeof(ulong))
	                 : "memory", "cc");
	return nr;
}

/* A call as a guest makes it: through the page's stub, or the vendor's instruction if the page is broken. */
ulong xen_hc(ulong nr, ulong a0, ulong a1, ulong a2)
{
	const void *target = page_ok ? (const void *)(xen_page + nr * XEN_STUB_BYTES) : vendor_stub();
	return xen_call_at(target, nr, a0, a1, a2);
}

void expect_xen(const char *what, ulong got, ulong want)
{
	if (fault_vector != NO_FAULT)
		check_fail("%s: vector %lu at 0x%lx", what, fault_vector, fault_ip);
	else if (got != want)
		check_fail("%s gave 0x%lx (%ld), want %ld", what, got, (long)got, (long)want);
}

static void cpuid_expect(uint32_t leaf, uint32_t sub, const uint32_t want[4])
{
	static const char *const regs[4] = { "eax", "ebx", "ecx", "edx" };
	uint32_t r[4];
	cpuid_count(leaf, sub, r);
	for (unsigned int i = 0; i < 4; i++)
		if (r[i] != want[i]) {
			check_fail("0x%x.%u %s 0x%x, want 0x%x", leaf, sub, regs[i], r[i], want[i]);
			return;
		}
}

/* arch-x86/cpuid.h, as xen/arch/x86/cpuid.c fills the leaves for an HVM guest (design sheet). */
static void check_xen_cpuid(unsigned int domid)
{
	static const uint32_t zero[4];
	uint32_t r[4], tsc0[4], off[4];
	const uint32_t base = XEN_CPUID_BASE;

	cpuid_expect(base, 0, (const uint32_t[4]){ base + XEN_CPUID_MAX_OFFSET, XEN_CPUID_EBX, XEN_CPUID_ECX, XEN_CPUID_EDX });
	cpuid_expect(base + 1, 0, (const uint32_t[4]){ XEN_VERSION });
	cpuid_expect(base + 2, 0, (const uint32_t[4]){ 1, XEN_HYPERCALL_MSR });

	/* base+3, time: sub 0 flags and TSC kHz, sub 1 the TSC offset, sub 2 the host's kHz */
	cpuid(0x80000000, r);
	uint32_t invariant = 0;
	if (r[0] >= 0x80000007) {
		cpuid(0x80000007, r);
		invariant = r[3] & CPUID_INVARIANT_TSC ? XEN_CPUID_HOST_TSC_RELIABLE : 0;
	}
	cpuid_count(base + 3, 0, tsc0);
	if (!tsc0[2])
		check_fail("0x%x.0 ecx: TSC kHz 0", base + 3);
	cpuid_expect(base + 3, 0, (const uint32_t[4]){ invariant, 0, tsc0[2], 0 });
	cpuid_count(base + 3, 1, off);
	cpuid_expect(base + 3, 1, (const uint32_t[4]){ off[0], off[1], 0, 0 });   /* and the offset stays put */
	cpuid_expect(base + 3, 2, (const uint32_t[4]){ tsc0[2] });
	cpuid_expect(base + 3, 3, zero);
	print("INFO " XEN_SUITE ".cpuid TSC %u kHz, offset 0x%llx\n", tsc0[2], (unsigned long long)off[1] << 32 | off[0]);

	/* base+4: vCPU and domain IDs (domid = VM index + 1: the guest word domid=N says which; without it, any but 0) */
	cpuid_count(base + 4, 0, r);
	if (!domid)
		domid = r[2] ? r[2] : 1;
	cpuid_expect(base + 4, 0, (const uint32_t[4]){
		XEN_HVM_CPUID_IOMMU_MAPPINGS | XEN_HVM_CPUID_VCPU_ID_PRESENT | XEN_HVM_CPUID_DOMID_PRESENT |
		XEN_HVM_CPUID_UPCALL_VECTOR, 0, domid, 0 });
	cpuid_expect(base + 4, 1, zero);
	cpuid_expect(base + 5, 0, zero);                /* PV only */
	cpuid_expect(base + 6, 0, zero);                /* past the limit */
	cpuid_expect(base + 0x100, 0, zero);            /* a single-ABI VM has no second set of leaves */
	check_done(XEN_SUITE, "cpuid");
}

/* Byte i of a filled page: `mov $nr, %eax; <insn>; ret` per 32-byte stub, `ud2` for iret, INT3 elsewhere. */
static uint8_t page_byte_want(unsigned int i, const uint8_t *insn)
{
	unsigned int nr = i / XEN_STUB_BYTES, off = i % XEN_STUB_BYTES;
	static const uint8_t ud2[2] = { 0x0f, 0x0b };

	if (nr == __HYPERVISOR_iret)
		return off < sizeof(ud2) ? ud2[off] : X86_INT3;
	if (off == 0)
		return 0xb8;                            /* mov imm32, %eax */
	if (off < 5)
		return (uint8_t)(nr >> (8 * (off - 1)));
	if (off < 8)
		return insn[off - 5];
	return off == 8 ? X86_RET : X86_INT3;
}

/* A WRMSR the hypervisor must refuse with #GP, writing nothing. */
static void expect_msr_gp(const char *what, uint64_t val)
{
	if (!wrmsr_probe(XEN_HYPERCALL_MSR, val))
		check_fail("%s: no fault", what);
	else if (fault_vector != X86_GP)
		check_fail("%s: vector %lu, want #GP", what, fault_vector);
}

/* The hypercall MSR (xen/arch/x86/msr.c guest_wrmsr_xen, guest_rdmsr_xen; domain.c init_hypercall_page). */
static void check_xen_hypercall_page(void)
{
	uint64_t val = ~0ull;

	expect_msr_gp("page index 1", (ulong)xen_page | 1);
	expect_msr_gp("page outside RAM", OOB_GPA);
	for (unsigned int i = 0; i < sizeof(xen_page); i++)
		if (xen_page[i]) {
			check_fail("a refused write changed byte 0x%x to 0x%x", i, xen_page[i]);
			break;
		}
	if (wrmsr_probe(XEN_HYPERCALL_MSR, (ulong)xen_page)) {
		check_fail("WRMSR of the page's GPA: vector %lu", fault_vector);
		goto out;
	}
	if (rdmsr_probe(XEN_HYPERCALL_MSR, &val) || val)
		check_fail("RDMSR gave 0x%llx (vector %ld), want 0", (unsigned long long)val, (long)fault_vector);
	const uint8_t *insn = vendor_stub();
	page_ok = true;
	for (unsigned int i = 0; i < sizeof(xen_page); i++)
		if (xen_page[i] != page_byte_want(i, insn)) {
			check_fail("page byte 0x%x is 0x%x, want 0x%x", i, xen_page[i], page_byte_want(i, insn));
			page_ok = false;
			break;
		}
out:
	check_done(XEN_SUITE, "hypercall_page");
}

/* Where the page is (storm.c). */
const uint8_t *xen_hcall_page(void) { return xen_page; }

/* For a VM with several ABIs (multi.c): Xen's page through the MSR CPUID says; whether it was written. */
bool xen_page_at(uint32_t msr)
{
	if (wrmsr_probe(msr, (ulong)xen_page))
		return false;
	page_ok = xen_page[__HYPERVISOR_xen_version * XEN_STUB_BYTES] == 0xb8;   /* mov eax, imm32 */
	return page_ok;
}

/* A call through the page's stub nr, which sets the number itself. */
static ulong page_call(unsigned int nr, ulong a0, ulong a1, ulong a2)
{
	return xen_call_at(xen_page + nr * XEN_STUB_BYTES, 0xdead, a0, a1, a2);
}

static void check_xen_calls_via_page(void)
{
	if (!page_ok) {
		check_fail("no hypercall page");
		goto out;
	}
	expect_xen("stub 17 xen_version(0)", page_call(__HYPERVISOR_xen_version, XENVER_version, 0, 0), XEN_VERSION);
	expect_xen("stub 0 set_trap_table", page_call(__HYPERVISOR_set_trap_table, 0, 0, 0), XEN_ENOSYS);
	expect_xen("stub 127", page_call(sizeof(xen_page) / XEN_STUB_BYTES - 1, 0, 0, 0), XEN_ENOSYS);
	page_call(__HYPERVISOR_iret, 0, 0, 0);
	const ulong ud2_ip = (ulong)xen_page + __HYPERVISOR_iret * XEN_STUB_BYTES;
	if (fault_vector != X86_UD || fault_ip != ud2_ip)
		check_fail("stub 23 iret: vector %ld at 0x%lx, want #UD at 0x%lx", (long)fault_vector, fault_ip, ud2_ip);
out:
	check_done(XEN_SUITE, "calls_via_page");
}

/* Direct VMCALL and VMMCALL: both instructions work on any CPU (the hypervisor promises it). */
static void check_xen_calls_direct(void)
{
	static const struct { const uint8_t *stub; const char *name; } insns[] = {
		{ stub_vmcall, "VMCALL" }, { stub_vmmcall, "VMMCALL" },
	};
	static const ulong unknown[] = {
		XEN_NR_HYPERCALLS, XEN_NR_UNKNOWN,
#ifdef __x86_64__
		1ul << 32 | __HYPERVISOR_xen_version,   /* 64-bit callers' number is all of RAX */
#endif
	};
	for (unsigned int i = 0; i < 2; i++) {
		expect_xen(insns[i].name, xen_call_at(insns[i].stub, __HYPERVISOR_xen_version, XENVER_version, 0, 0),
		           XEN_VERSION);
		for (unsigned int u = 0; u < sizeof(unknown) / sizeof(unknown[0]); u++) {
			ulong r = xen_call_at(insns[i].stub, unknown[u], 0, 0, 0);
			if (fault_vector != NO_FAULT || r != XEN_ENOSYS)
				check_fail("%s nr 0x%lx gave 0x%lx (vector %ld), want -ENOSYS", insns[i].name, unknown[u], r,
				           (long)fault_vector);
		}
	}
	check_done(XEN_SUITE, "calls_direct");
}

/* xen/arch/x86/hvm/hypercall.c: a caller at CPL > 0 gets -EPERM. */
static void check_xen_cpl3(void)
{
	expect_xen("VMCALL at CPL 3", user_call_guarded(__HYPERVISOR_xen_version, user_vmcall), XEN_EPERM);
	expect_xen("VMMCALL at CPL 3", user_call_guarded(__HYPERVISOR_xen_version, user_vmmcall), XEN_EPERM);
	check_done(XEN_SUITE, "cpl3");
}

/* ---- xen_version (xen/common/kernel.c do_xen_version) ---- */

static uint8_t xbuf[1024 + 1];

static ulong version(unsigned int cmd, ulong arg)
{
	return xen_hc(__HYPERVISOR_xen_version, cmd, arg, 0);
}

/* A buffer sub-op: returns 0 and writes exactly size bytes of xbuf (the byte after them keeps the canary). */
static void version_fill(const char *what, unsigned int cmd, size_t size)
{
	memset(xbuf, CANARY, sizeof(xbuf));
	expect_xen(what, version(cmd, (ulong)xbuf), 0);
	if (xbuf[size] != CANARY)
		check_fail("%s wrote past its %u bytes", what, (unsigned int)size);
}

/* A fixed-size string field: s, then NULs to the end. */
static void expect_field(const char *what, const uint8_t *f, size_t size, const char *s)
{
	bool ended = false;
	for (size_t i = 0; i < size; i++) {
		uint8_t want = ended ? 0 : (uint8_t)s[i];
		ended = !want;
		if (f[i] != want) {
			check_fail("%s byte %u is 0x%x, want 0x%x", what, (unsigned int)i, f[i], want);
			return;
		}
	}
}

static void check_xen_version(void)
{
	expect_xen("version", version(XENVER_version, 0), XEN_VERSION);

	version_fill("extraversion", XENVER_extraversion, 16);
	expect_field("extraversion", xbuf, 16, ".0");
	version_fill("compile_info", XENVER_compile_info, sizeof(struct xen_compile_info));
	const struct xen_compile_info *ci = (const void *)xbuf;
	expect_field("compiler", (const uint8_t *)ci->compiler, sizeof(ci->compiler), "gcc");
	expect_field("compile_by", (const uint8_t *)ci->compile_by, sizeof(ci->compile_by), "microhv");
	expect_field("compile_domain", (const uint8_t *)ci->compile_domain, sizeof(ci->compile_domain), "");
	expect_field("compile_date", (const uint8_t *)ci->compile_date, sizeof(ci->compile_date), "");
	version_fill("capabilities", XENVER_capabilities, 1024);
	expect_field("capabilities", xbuf, 1024, "hvm-3.0-x86_32 hvm-3.0-x86_32p hvm-3.0-x86_64 ");   /* each entry ends in a space */
	version_fill("changeset", XENVER_changeset, 64);
	expect_field("changeset", xbuf, 64, "unavailable");
	version_fill("platform_parameters", XENVER_platform_parameters, sizeof(ulong));   /* xen_ulong_t: compat is 4 */
	expect_field("platform_parameters", xbuf, sizeof(ulong), "");                   /* virt_start 0 */
	version_fill("guest_handle", XENVER_guest_handle, 16);
	expect_field("guest_handle", xbuf, 16, "");

	struct xen_feature_info fi = { 0, ~0u };
	expect_xen("get_features(0)", version(XENVER_get_features, (ulong)&fi), 0);
	if (fi.submap_idx != 0 || fi.submap != XENFEAT_SUBMAP0)
		check_fail("get_features(0): idx %u submap 0x%x, want 0x%x", fi.submap_idx, fi.submap, XENFEAT_SUBMAP0);
	fi = (struct xen_feature_info){ 1, ~0u };
	expect_xen("get_features(1)", version(XENVER_get_features, (ulong)&fi), XEN_EINVAL);

	expect_xen("pagesize", version(XENVER_pagesize, 0), 4096);
	expect_xen("pagesize with a buffer", version(XENVER_pagesize, (ulong)xbuf), XEN_EINVAL);   /* arg must be NULL */
	version_fill("commandline", XENVER_commandline, sizeof("<denied>"));    /* a domU's (xen/common/version.c xen_deny) */
	expect_field("commandline", xbuf, sizeof("<denied>"), "<denied>");
	expect_xen("unknown sub-op", version(XEN_NR_UNKNOWN, (ulong)xbuf), XEN_ENOSYS);
	expect_xen("extraversion outside RAM", version(XENVER_extraversion, OOB_GPA), XEN_EFAULT);
	expect_xen("get_features outside RAM", version(XENVER_get_features, OOB_GPA), XEN_EFAULT);
	check_done(XEN_SUITE, "xen_version");
}

/* ---- console_io (xen/drivers/char/console.c do_console_io) and sched_op (sched.h) ---- */

/* tests/run-all.sh looks for this line on the hypervisor console, after the VM's [vmN] prefix. */
static const char console_line[] = "INFO " XEN_SUITE ".console_io written by " X86_SUITE " through CONSOLEIO_write\n";

/* count is an unsigned int: in RSI, bits 63:32 are not part of it */
#ifdef __x86_64__
#define ZERO_COUNT (1ul << 32)
#else
#define ZERO_COUNT 0ul
#endif

static void check_xen_console_io(void)
{
	ulong io = __HYPERVISOR_console_io;
	expect_xen("write", xen_hc(io, CONSOLEIO_write, sizeof(console_line) - 1, (ulong)console_line), 0);
	expect_xen("write of 0 bytes", xen_hc(io, CONSOLEIO_write, ZERO_COUNT, OOB_GPA), 0);
	expect_xen("write from outside RAM", xen_hc(io, CONSOLEIO_write, 16, OOB_GPA), XEN_EFAULT);
	expect_xen("read", xen_hc(io, CONSOLEIO_read, sizeof(xbuf), (ulong)xbuf), 0);
	expect_xen("unknown cmd", xen_hc(io, 2, 0, 0), XEN_ENOSYS);
	check_done(XEN_SUITE, "console_io");
}

/* Every shutdown reason is taken (as a byte, like Xen): SCHEDOP_shutdown itself is only tried at the end. */
static void check_xen_sched_op(void)
{
	ulong so = __HYPERVISOR_sched_op;
	struct sched_remote_shutdown rs = { 0, SHUTDOWN_poweroff };
	expect_xen("yield", xen_hc(so, SCHEDOP_yield, 0, 0), 0);
	expect_xen("shutdown from outside RAM", xen_hc(so, SCHEDOP_shutdown, OOB_GPA, 0), XEN_EFAULT);
	expect_xen("remote_shutdown from outside RAM", xen_hc(so, SCHEDOP_remote_shutdown, OOB_GPA, 0), XEN_EFAULT);
	expect_xen("remote_shutdown", xen_hc(so, SCHEDOP_remote_shutdown, (ulong)&rs, 0), XEN_EPERM);   /* a device model's */
	expect_xen("pin_override", xen_hc(so, SCHEDOP_pin_override, 0, 0), XEN_EPERM);                  /* the hardware domain's */
	expect_xen("unknown cmd", xen_hc(so, XEN_NR_UNKNOWN, 0, 0), XEN_ENOSYS);
	check_done(XEN_SUITE, "sched_op");
}

/*
 * The run's end for a VM with no failed check: SCHEDOP_shutdown(poweroff)
 * ends it with status 0 (tests/run-all.sh checks the hypervisor said so).
 * Returns only if the VM ran on, as a failed check.
 */
void xen_poweroff(void)
{
	struct sched_shutdown sd = { SHUTDOWN_poweroff };
	ulong r = xen_hc(__HYPERVISOR_sched_op, SCHEDOP_shutdown, (ulong)&sd, 0);
	check_fail("SCHEDOP_shutdown poweroff returned 0x%lx (vector %ld)", r, (long)fault_vector);
	check_done(XEN_SUITE, "shutdown");
}

void xen_checks(unsigned int domid, unsigned int peer)
{
	check_xen_cpuid(domid);
	check_xen_hypercall_page();
	check_xen_calls_via_page();
	check_xen_calls_direct();
	check_xen_cpl3();
	check_xen_version();
	check_xen_console_io();
	check_xen_sched_op();
	xen_events_checks(domid);
	xen_balloon_checks();
	xen_domain_checks(domid, peer);
}
