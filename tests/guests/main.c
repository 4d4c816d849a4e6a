/*
 * The checks. Each prints exactly one TEST line whatever it finds, so a
 * harness can compare the list of names between runs; the failure count
 * becomes the exit status.
 */
#include "guest.h"
#include "smp.h"

#define BOOT_AREA_START	0x1000ul
#define BOOT_AREA_END	0x10000ul
#define START_INFO_GPA	0x8000ul
#define CMDLINE_MAX	256
#define MIN_RAM		(2ul << 20)

#define MSR_NONEXISTENT	0x12345678u

#define ENOSYS_RET	((ulong)-KVM_ENOSYS)
#define EPERM_RET	((ulong)-KVM_EPERM)

ulong probe_in[PROBE_REGS];
ulong probe_out[PROBE_REGS];
ulong probe_sp;

void guest_main(ulong start_info, ulong start_info_rdi);

/*
 * Formats a hypercall result as both hex and signed so a FAIL line reads
 * "got 0xfffffc18 (-1000)": the hex shows the width the hypervisor wrote.
 */
#define RESULT_FMT "got 0x%lx (%ld) want %ld"
#define RESULT_ARGS(got, want) (got), (long)(got), (long)(want)

/* Addresses in the boot area are RAM by contract; anything else we don't touch. */
static bool in_boot_area(uint64_t gpa, uint64_t size)
{
	return gpa >= BOOT_AREA_START && gpa <= BOOT_AREA_END &&
	       size <= BOOT_AREA_END - gpa;
}

static const char *check_start_info(ulong si_gpa, ulong si_rdi)
{
	const struct hvm_start_info *si;
	const struct hvm_memmap_table_entry *mm;
	const char *cmdline = "";

	(void)si_rdi;
	if (si_gpa != START_INFO_GPA)
		check_fail("start info at 0x%lx want 0x%lx", si_gpa, START_INFO_GPA);
#ifdef __x86_64__
	if (si_rdi != si_gpa)
		check_fail("rdi 0x%lx != rbx 0x%lx", si_rdi, si_gpa);
#endif
	if (!in_boot_area(si_gpa, sizeof(*si)))
		goto out;

	si = (const struct hvm_start_info *)si_gpa;
	if (si->magic != HVM_START_MAGIC) {
		check_fail("magic 0x%x want 0x%x", si->magic, HVM_START_MAGIC);
		goto out;
	}
	if (si->version < 1)
		check_fail("version %u want >= 1", si->version);

	if (si->cmdline_paddr && in_boot_area(si->cmdline_paddr, 1)) {
		const char *p = (const char *)(ulong)si->cmdline_paddr;
		size_t n = 0;

		while (n < CMDLINE_MAX && in_boot_area(si->cmdline_paddr + n, 1) && p[n])
			n++;
		if (n < CMDLINE_MAX && in_boot_area(si->cmdline_paddr + n, 1))
			cmdline = p;
		else
			check_fail("cmdline at 0x%llx not terminated",
				   (unsigned long long)si->cmdline_paddr);
	} else if (si->cmdline_paddr) {
		check_fail("cmdline at 0x%llx outside the boot area",
			   (unsigned long long)si->cmdline_paddr);
	}

	if (si->memmap_entries != 1)
		check_fail("memmap_entries %u want 1", si->memmap_entries);
	if (si->memmap_entries < 1 || !in_boot_area(si->memmap_paddr, sizeof(*mm))) {
		check_fail("memmap at 0x%llx unusable", (unsigned long long)si->memmap_paddr);
		goto out;
	}
	mm = (const struct hvm_memmap_table_entry *)(ulong)si->memmap_paddr;
	print("INFO " X86_SUITE ".start_info memmap[0] addr=0x%llx size=0x%llx type=%u cmdline=\"%s\"\n",
	      (unsigned long long)mm->addr, (unsigned long long)mm->size, mm->type, cmdline);
	if (mm->addr != 0)
		check_fail("memmap[0].addr 0x%llx want 0", (unsigned long long)mm->addr);
	if (mm->size < MIN_RAM)
		check_fail("memmap[0].size 0x%llx want >= 0x%lx",
			   (unsigned long long)mm->size, MIN_RAM);
	if (mm->type != HVM_MEMMAP_TYPE_RAM)
		check_fail("memmap[0].type %u want %u", mm->type, HVM_MEMMAP_TYPE_RAM);
out:
	check_done(X86_SUITE, "start_info");
	return cmdline;
}

static bool word_is(const char *w, size_t len, const char *want)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (want[i] != w[i])
			return false;
	return want[i] == '\0';
}

/*
 * The modules the hypervisor gave us (module= on its command line), in the
 * PVH modlist (start_info.h struct hvm_modlist_entry): `want` of them, each
 * page-aligned in RAM, holding an ELF image (the test configs pass guest
 * images), cmdline and reserved 0. With none: no list.
 */
struct hvm_modlist_entry { uint64_t paddr, size, cmdline_paddr, reserved; };

static void check_start_info_modules(unsigned int want)
{
	const struct hvm_start_info *si = (const struct hvm_start_info *)START_INFO_GPA;
	const struct hvm_memmap_table_entry *mm = (const struct hvm_memmap_table_entry *)(ulong)si->memmap_paddr;
	bool bad = true;
	if (si->nr_modules != want || (!want && si->modlist_paddr))
		check_fail("%u modules at 0x%llx, want %u", si->nr_modules, (unsigned long long)si->modlist_paddr, want);
	else if (want && !in_boot_area(si->modlist_paddr, want * sizeof(struct hvm_modlist_entry)))
		check_fail("modlist at 0x%llx outside the boot area", (unsigned long long)si->modlist_paddr);
	else
		bad = false;
	for (unsigned int i = 0; i < want && !bad; i++) {
		const struct hvm_modlist_entry *m = (const struct hvm_modlist_entry *)(ulong)si->modlist_paddr + i;
		const uint8_t *p = (const uint8_t *)(ulong)m->paddr;
		print("INFO " X86_SUITE ".start_info_modules module %u at 0x%llx, %llu bytes\n", i,
		      (unsigned long long)m->paddr, (unsigned long long)m->size);
		bad = true;
		if ((m->paddr & 0xfff) || !m->size || m->paddr + m->size > mm->size || m->cmdline_paddr || m->reserved)
			check_fail("module %u: 0x%llx, %llu bytes, cmdline 0x%llx, reserved 0x%llx", i,
			           (unsigned long long)m->paddr, (unsigned long long)m->size,
			           (unsigned long long)m->cmdline_paddr, (unsigned long long)m->reserved);
		else if (p[0] != 0x7f || p[1] != 'E' || p[2] != 'L' || p[3] != 'F')
			check_fail("module %u does not hold the ELF image it was given", i);
		else
			bad = false;
	}
	check_done(X86_SUITE, "start_info_modules");
}

struct options {
	bool oob;
	bool triple;
	/*
	 * The CPU is QEMU 7.2's TCG, which lacks INT1 (0xf1 is #UD there) and the
	 * reserved-bit #GP of MOV to CR8: checks of those are skipped, not passed.
	 */
	bool qemu_tcg;
	/* smp=N: the VM has N vCPUs (the hypervisor's vcpus=N); 0 runs no SMP checks */
	unsigned int smp;
	/* hyperv: the VM speaks the Hyper-V ABI (abi=hyperv): its checks replace the KVM ones */
	bool hyperv;
	/* xen: the same for the Xen ABI (abi=xen); domid=N: its domain ID (the VM's index + 1) */
	bool xen;
	unsigned int domid;
	/* peer=N: domain N runs at the same time; the Xen interdomain checks talk to it */
	unsigned int peer;
	/* modules=N: the hypervisor gave this guest N modules (module=) */
	unsigned int modules;
	/* abis=LIST: the VM speaks several ABIs (abi=LIST): the multi.* checks replace the others */
	const char *abis;
	/* policy: the VM was given the deny= rules of multi.cfg: the policy.* checks run too */
	bool policy;
	/* ext / noext: the VM was given ext=on / was not: the ext.* checks */
	bool ext, noext;
	/* isolation=attacker|canary: the isolation.* checks replace the ABI ones (peer=N: the other VM) */
	bool attacker, canary;
	/* peers=N: the canary's attackers are domains peer .. peer + N - 1 */
	unsigned int peers;
	/* storm=K: the hostile guest (storm.c), K thousand calls; peer=N is the canary */
	unsigned int storm;
	/* bench: the round-trip benchmarks (bench.c) instead of the checks */
	bool bench;
};

/* The number after key (e.g. "smp=") in a word of length len; 0 if the word is not key<digits>. */
static unsigned int word_number(const char *w, size_t len, const char *key)
{
	size_t k = 0;
	unsigned int n = 0;

	while (key[k] && k < len && w[k] == key[k])
		k++;
	if (key[k] || k == len)
		return 0;
	for (; k < len; k++) {
		if (w[k] < '0' || w[k] > '9' || n > 1000)
			return 0;
		n = n * 10 + (unsigned int)(w[k] - '0');
	}
	return n;
}

static struct options parse_cmdline(const char *s)
{
	struct options o = { .oob = false };

	while (*s) {
		size_t len = 0;

		while (*s == ' ')
			s++;
		while (s[len] && s[len] != ' ')
			len++;
		/* Unknown words are ignored: the harness may grow options older guests don't know. */
		if (word_is(s, len, "oob"))
			o.oob = true;
		else if (word_is(s, len, "triple"))
			o.triple = true;
		else if (word_is(s, len, "qemu-tcg"))
			o.qemu_tcg = true;
		else if (word_is(s, len, "hyperv"))
			o.hyperv = true;
		else if (word_is(s, len, "policy"))
			o.policy = true;
		else if (word_is(s, len, "ext"))
			o.ext = true;
		else if (word_is(s, len, "noext"))
			o.noext = true;
		else if (word_is(s, len, "bench"))
			o.bench = true;
		else if (word_is(s, len, "isolation=attacker"))
			o.attacker = true;
		else if (word_is(s, len, "isolation=canary"))
			o.canary = true;
		else if (word_is(s, len, "xen"))
			o.xen = true;
		else if (word_number(s, len, "smp="))
			o.smp = word_number(s, len, "smp=");
		else if (word_number(s, len, "domid="))
			o.domid = word_number(s, len, "domid=");
		else if (len > 5 && !memcmp(s, "abis=", 5))
			o.abis = s + 5;
		else if (word_number(s, len, "peer="))
			o.peer = word_number(s, len, "peer=");
		else if (word_number(s, len, "peers="))
			o.peers = word_number(s, len, "peers=");
		else if (word_number(s, len, "storm="))
			o.storm = word_number(s, len, "storm=");
		else if (word_number(s, len, "modules="))
			o.modules = word_number(s, len, "modules=");
		s += len;
	}
	return o;
}

static void check_hypervisor_bit(void)
{
	uint32_t r[4];

	cpuid(1, r);
	if (!(r[2] & (1u << 31)))
		check_fail("cpuid 1 ecx 0x%x: bit 31 clear", r[2]);
	check_done(X86_SUITE, "hypervisor_bit");
}

static void check_cpuid_signature(void)
{
	uint32_t r[4];

	cpuid(KVM_CPUID_SIGNATURE, r);
	if (r[1] != 0x4b4d564b || r[2] != 0x564b4d56 || r[3] != 0x0000004d)
		check_fail("ebx,ecx,edx 0x%x,0x%x,0x%x want 0x4b4d564b,0x564b4d56,0x4d",
			   r[1], r[2], r[3]);
	if (r[0] < KVM_CPUID_FEATURES)
		check_fail("eax 0x%x want >= 0x%x", r[0], KVM_CPUID_FEATURES);
	check_done(KVM_SUITE, "cpuid_signature");
}

static ulong probe_pattern(unsigned int i)
{
	/* High half set in the 64-bit build: catches a hypervisor writing back 32-bit values. */
	return (ulong)0xfeedface00000000ull | (0xc0de0000u + i * 0x1111u);
}

static void check_regs_preserved(void)
{
	static const char *const names[] = {
		"rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rbp", "rsp",
		"r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15",
	};

	for (unsigned int i = 0; i < PROBE_REGS; i++)
		probe_in[i] = probe_pattern(i);
	probe_in[0] = KVM_HC_UNKNOWN;
	fault_vector = NO_FAULT;
	regs_probe();
	if (fault_vector != NO_FAULT) {
		/* The registers then hold what the exception handler restored: no information. */
		check_fail("vmmcall raised vector %lu err 0x%lx at 0x%lx", fault_vector,
			   fault_err, fault_ip);
		check_done(KVM_SUITE, "regs_preserved");
		return;
	}
	for (unsigned int i = 1; i < PROBE_REGS; i++) {
		ulong want = i == PROBE_SP ? probe_sp : probe_in[i];

		if (probe_out[i] != want)
			check_fail("%s 0x%lx want 0x%lx", names[i], probe_out[i], want);
	}
	check_done(KVM_SUITE, "regs_preserved");
}

static void expect_result(const char *what, ulong got, ulong want)
{
	if (fault_vector != NO_FAULT)
		check_fail("%s raised vector %lu err 0x%lx at 0x%lx", what, fault_vector,
			   fault_err, fault_ip);
	else if (got != want)
		check_fail("%s " RESULT_FMT, what, RESULT_ARGS(got, want));
}

static void check_null_call(void)
{
	ulong ret;

	ret = vmmcall(KVM_HC_UNKNOWN, 0, 0, 0, 0);
	expect_result("nr 0x7fff", ret, ENOSYS_RET);
	ret = vmmcall(0, 0, 0, 0, 0);
	expect_result("nr 0", ret, ENOSYS_RET);
	check_done(KVM_SUITE, "null_call");
}

static void check_vapic_poll_irq(void)
{
	ulong ret = vmmcall(KVM_HC_VAPIC_POLL_IRQ, 0, 0, 0, 0);

	expect_result("nr 1", ret, 0);
	check_done(KVM_SUITE, "vapic_poll_irq");
}

static void check_mmu_op(void)
{
	ulong ret = vmmcall(KVM_HC_MMU_OP, 0, 0, 0, 0);

	expect_result("nr 2", ret, ENOSYS_RET);
	check_done(KVM_SUITE, "mmu_op");
}

/* The other vendor's instruction: the hypervisor promises both work on any CPU. */
static void check_vmcall_insn(void)
{
	ulong ret;

	ret = vmcall(KVM_HC_VAPIC_POLL_IRQ, 0, 0, 0, 0);
	expect_result("vmcall nr 1", ret, 0);
	ret = vmcall(KVM_HC_UNKNOWN, 0, 0, 0, 0);
	expect_result("vmcall nr 0x7fff", ret, ENOSYS_RET);
	check_done(KVM_SUITE, "vmcall_insn");
}

static void check_unknown_msr_gp(void)
{
	uint64_t val = 0;

	if (!rdmsr_probe(MSR_NONEXISTENT, &val))
		check_fail("rdmsr 0x%x returned 0x%llx, no fault", MSR_NONEXISTENT,
			   (unsigned long long)val);
	else if (fault_vector != 13 || fault_err != 0)
		check_fail("vector %lu err 0x%lx want 13 err 0", fault_vector, fault_err);
	check_done(X86_SUITE, "unknown_msr_gp");
}

/*
 * A hypervisor that injects an exception instead of returning -KVM_EPERM
 * gets a FAIL line, not the end of the run: a fault at CPL 3 resumes in
 * isr_user_return, as if the user code had come back by itself.
 */
ulong user_call_guarded(ulong nr, void (*fn)(void))
{
	fault_vector = NO_FAULT;
	fault_recover_ip = (ulong)isr_user_return;
	fault_armed = 1;
	ulong ret = user_call(nr, fn);
	fault_armed = 0;
	return ret;
}

static void cpl3_call(const char *what, void (*fn)(void))
{
	expect_result(what, user_call_guarded(KVM_HC_VAPIC_POLL_IRQ, fn), EPERM_RET);
}

static void check_cpl3_eperm(void)
{
	cpl3_call("vmmcall nr 1", user_vmmcall);
	cpl3_call("vmcall nr 1", user_vmcall);
	check_done(KVM_SUITE, "cpl3_eperm");
}

static void __attribute__((noreturn)) oob_access(void)
{
	print("TEST " X86_SUITE ".oob_access_started PASS\n");
	uint8_t v = *(volatile uint8_t *)OOB_GPA;
	print("TEST " X86_SUITE ".oob_access FAIL read returned 0x%x\n", v);
	exit_vm(1);
}

static void __attribute__((noreturn)) triple_fault(void)
{
	print("TEST " X86_SUITE ".triple_fault_started PASS\n");
	/* int3 can't be delivered, nor the #GP that causes, nor the #DF: shutdown. */
	load_empty_idt();
	__asm__ volatile("int3");
	print("TEST " X86_SUITE ".triple_fault FAIL execution continued\n");
	exit_vm(1);
}

/*
 * A VM must start with the x87/SSE state of a CPU after reset (FCW 0x37f,
 * MXCSR 0x1f80, XMM registers zero), never with what the VM before it left:
 * every run dirties the state on its way out so the next VM would notice.
 */
static uint8_t fx_area[512] __attribute__((aligned(16)));

static void enable_sse(void)
{
	ulong cr4;
	__asm__ volatile("mov %%cr4, %0" : "=r"(cr4));
	cr4 |= (1u << 9) | (1u << 10);          /* OSFXSR, OSXMMEXCPT */
	__asm__ volatile("mov %0, %%cr4" :: "r"(cr4));
}

static void check_fpu_clean_at_start(void)
{
	enable_sse();
	__asm__ volatile("fxsave %0" : "=m"(fx_area));
	uint16_t fcw = (uint16_t)(fx_area[0] | fx_area[1] << 8);
	uint32_t mxcsr = (uint32_t)fx_area[24] | (uint32_t)fx_area[25] << 8 |
	                 (uint32_t)fx_area[26] << 16 | (uint32_t)fx_area[27] << 24;
	if (fcw != 0x37f)
		check_fail("FCW 0x%x want 0x37f", fcw);
	if (mxcsr != 0x1f80)
		check_fail("MXCSR 0x%x want 0x1f80", mxcsr);
	for (unsigned i = 160; i < 160 + 8 * 16; i++)
		if (fx_area[i]) {
			check_fail("XMM%u byte %u is 0x%x, not 0", (i - 160) / 16, (i - 160) % 16, fx_area[i]);
			break;
		}
	check_done(X86_SUITE, "fpu_clean_at_start");
}

/* Debug address registers and CR2: the CPU does not switch them between guests on its own. */
static void check_dr_cr2_clean_at_start(void)
{
	ulong dr[4], cr2;
	__asm__ volatile("mov %%db0, %0" : "=r"(dr[0]));
	__asm__ volatile("mov %%db1, %0" : "=r"(dr[1]));
	__asm__ volatile("mov %%db2, %0" : "=r"(dr[2]));
	__asm__ volatile("mov %%db3, %0" : "=r"(dr[3]));
	__asm__ volatile("mov %%cr2, %0" : "=r"(cr2));
	for (unsigned i = 0; i < 4; i++)
		if (dr[i])
			check_fail("DR%u 0x%lx want 0", i, dr[i]);
	if (cr2)
		check_fail("CR2 0x%lx want 0", cr2);
	check_done(X86_SUITE, "dr_cr2_clean_at_start");
}

static void dirty_dr_cr2(void)
{
	ulong v = 0xbad0f00;
	/* DR7 stays 0: the addresses are loaded, no breakpoint is armed */
	__asm__ volatile("mov %0, %%db0\n\tmov %0, %%db1\n\tmov %0, %%db2\n\tmov %0, %%db3\n\t"
	                 "mov %0, %%cr2" :: "r"(v));
}

static void dirty_fpu(void)
{
	static const uint8_t pattern[16] __attribute__((aligned(16))) = {
		0xa5, 0xa5, 0xa5, 0xa5, 0xa5, 0xa5, 0xa5, 0xa5, 0xa5, 0xa5, 0xa5, 0xa5, 0xa5, 0xa5, 0xa5, 0xa5,
	};
	static const uint16_t fcw = 0x27f;
	static const uint32_t mxcsr = 0x7f80;   /* round toward zero */
	__asm__ volatile("movdqa %0, %%xmm0\n\tmovdqa %0, %%xmm1\n\tmovdqa %0, %%xmm2\n\t"
	                 "movdqa %0, %%xmm3\n\tmovdqa %0, %%xmm4\n\tmovdqa %0, %%xmm5\n\t"
	                 "movdqa %0, %%xmm6\n\tmovdqa %0, %%xmm7\n\tfldcw %1\n\tldmxcsr %2"
	                 :: "m"(pattern), "m"(fcw), "m"(mxcsr));
}

/* A VM that speaks the KVM ABI. */
static void kvm_checks(void)
{
	check_cpuid_signature();
	check_kvm_cpuid_features();
	/* Before the other hypercall checks: they'd be unreliable if registers were clobbered. */
	check_regs_preserved();
	check_null_call();
	check_vapic_poll_irq();
	check_mmu_op();
	check_vmcall_insn();
	check_cpl3_eperm();
	check_kvm_msr_undefined_gp();
	check_kvmclock();
	check_wall_clock();
	check_clock_pairing();
	check_map_gpa_range();
	check_kvm_control_msrs();
}

void guest_main(ulong start_info, ulong start_info_rdi)
{
	cpu_init();

	struct options opt = parse_cmdline(check_start_info(start_info, start_info_rdi));
	check_start_info_modules(opt.modules);

	check_fpu_clean_at_start();
	check_dr_cr2_clean_at_start();
	check_hypervisor_bit();
	if (opt.bench) {
		bench_checks(opt.hyperv, opt.xen);
		exit_vm(failed_checks);
	}
	if (opt.storm) {
		/* the hostile guest: only the storm, on every vCPU, then the end (nothing it left pending is ever taken) */
		smp_init(opt.smp ? opt.smp : 1);
		if (opt.smp > 1)
			check_smp_boot();
		storm_checks(opt.storm, opt.smp ? opt.smp : 1, opt.peer);
		exit_vm(failed_checks);
	} else if (opt.attacker || opt.canary) {
		isolation_checks(opt.attacker, opt.peer, opt.peers);
	} else if (opt.abis) {
		multi_checks(opt.abis, opt.policy);
	} else if (opt.hyperv || opt.xen) {
		/* the SynIC and event channel checks give the APs work; the rest of the SMP checks speak KVM */
		if (opt.smp) {
			smp_init(opt.smp);
			check_smp_boot();
		}
		if (opt.hyperv)
			hyperv_checks();
		else
			xen_checks(opt.domid, opt.peer);
	} else {
		kvm_checks();
	}
	if (opt.ext || opt.noext)
		ext_checks(opt.ext);
	check_unknown_msr_gp();
	check_single_step();
	if (!opt.qemu_tcg)
		check_int1();
	check_rdpmc_gp();
#ifdef __x86_64__
	check_cr8(!opt.qemu_tcg);
#endif

	if (opt.smp && !opt.hyperv && !opt.xen && !opt.abis && !opt.attacker && !opt.canary)
		smp_checks(opt.smp);

	if (opt.oob)
		oob_access();
	if (opt.triple)
		triple_fault();
	dirty_fpu();
	dirty_dr_cr2();
	/* a Xen guest that passed ends the Xen way: the VM's end proves SCHEDOP_shutdown works */
	if (opt.xen && !failed_checks)
		xen_poweroff();
	exit_vm(failed_checks);
}
