/*
 * The project's own calls (docs/extensions.md), in a VM given ext=on (guest
 * word "ext"), and their absence in one without (word "noext"):
 *   ext.cpuid            the signature at 0x40000f00, the features, the first number
 *   ext.debug_log        a line into the hypervisor log (run-all.sh finds it)
 *   ext.unmap_gpa_range  two pages handed back and taken again, zeroed
 *   ext.mem_attributes   a private page is one the hypervisor will not read
 *                        (a call naming it fails); shared again, it does
 *   ext.inject_event     an interrupt sent to ourselves arrives
 *   ext.off              without ext=on: the leaves are zero and the numbers
 *                        are the VM's ABI's unknown calls
 */
#include "guest.h"
#include "smp.h"
#include "xen.h"

#define SUITE "ext"
#define EXT_CPUID_BASE 0x40000f00u
#define EXT_NR_BASE_WANT 0x4d480000u
#define EXT_DEBUG_LOG 0
#define EXT_UNMAP_GPA_RANGE 1
#define EXT_MEM_ATTRIBUTES 2
#define EXT_INJECT_EVENT 3
#define EXT_UNMAP_RESTORE 1
#define EXT_ATTR_PRIVATE 1
#define EXT_VEC 0x66
#define EFAULT_ ((ulong)-14l)

static uint32_t nr_base = EXT_NR_BASE_WANT;
static uint8_t stub[4] __attribute__((aligned(16)));
static uint8_t pages[2][4096] __attribute__((aligned(4096)));
static char private_page[4096] __attribute__((aligned(4096)));

/* A call of ours: the number in EAX, arguments in EBX, ECX, EDX (as KVM's), by the vendor's instruction. */
static ulong ext_call(unsigned int n, ulong a0, ulong a1, ulong a2)
{
	ulong rax = nr_base + n;
	memcpy(stub, xen_vendor_insn(), 3);
	stub[3] = 0xc3;
	__asm__ volatile("call *%[s]" : "+a"(rax), "+b"(a0), "+c"(a1), "+d"(a2) : [s] "r"(stub) : "memory", "cc");
	return rax;
}

static void check_cpuid(void)
{
	uint32_t r[4];
	cpuid_count(EXT_CPUID_BASE, 0, r);
	if (memcmp(&r[1], "uHVe", 4) || memcmp(&r[2], "xtuH", 4) || memcmp(&r[3], "Vext", 4) || r[0] != EXT_CPUID_BASE + 1)
		check_fail("0x40000f00: %x %x %x %x, not the signature \"uHVextuHVext\"", r[0], r[1], r[2], r[3]);
	cpuid_count(EXT_CPUID_BASE + 1, 0, r);
	if (r[0] != 0xf || r[1] != EXT_NR_BASE_WANT)
		check_fail("0x40000f01: features 0x%x, first number 0x%x; want 0xf, 0x%x", r[0], r[1], EXT_NR_BASE_WANT);
	nr_base = r[1];
	check_done(SUITE, "cpuid");
}

static void check_debug_log(void)
{
	static const char line[] = "ext.debug_log: a line from the guest";
	ulong r = ext_call(EXT_DEBUG_LOG, (ulong)line, sizeof(line) - 1, 0);
	if (r != sizeof(line) - 1)
		check_fail("debug_log gave %ld, want %u", (long)r, (unsigned int)sizeof(line) - 1);
	if ((r = ext_call(EXT_DEBUG_LOG, (ulong)line, 257, 0)) != (ulong)-22l)
		check_fail("debug_log of 257 bytes gave %ld, want -EINVAL", (long)r);
	check_done(SUITE, "debug_log");
}

static void check_unmap_gpa_range(void)
{
	memset(pages, 0x5a, sizeof(pages));
	ulong r = ext_call(EXT_UNMAP_GPA_RANGE, (ulong)pages, 2, 0);
	if (r)
		check_fail("unmap of 2 pages gave %ld", (long)r);
	/* out: not touched (the VM would end, as a ballooned page's toucher) */
	if ((r = ext_call(EXT_UNMAP_GPA_RANGE, (ulong)pages, 2, EXT_UNMAP_RESTORE)))
		check_fail("restore gave %ld", (long)r);
	for (unsigned int i = 0; i < sizeof(pages); i++)
		if (pages[i / 4096][i % 4096]) {
			check_fail("byte %u of a page taken back is 0x%x, want 0", i, pages[i / 4096][i % 4096]);
			break;
		}
	if ((r = ext_call(EXT_UNMAP_GPA_RANGE, (ulong)pages + 8, 1, 0)) != (ulong)-22l)
		check_fail("unmap of an unaligned address gave %ld, want -EINVAL", (long)r);
	check_done(SUITE, "unmap_gpa_range");
}

static void check_mem_attributes(void)
{
	memcpy(private_page, "secret", 7);
	ulong r = ext_call(EXT_MEM_ATTRIBUTES, (ulong)private_page, 1, EXT_ATTR_PRIVATE);
	if (r)
		check_fail("making a page private gave %ld", (long)r);
	/* ours to use, not the hypervisor's to read */
	if (memcmp(private_page, "secret", 7))
		check_fail("the private page changed");
	if ((r = ext_call(EXT_DEBUG_LOG, (ulong)private_page, 6, 0)) != EFAULT_)
		check_fail("a log line from a private page gave %ld, want -EFAULT", (long)r);
	if ((r = ext_call(EXT_MEM_ATTRIBUTES, (ulong)private_page, 1, 0)))
		check_fail("making it shared gave %ld", (long)r);
	if ((r = ext_call(EXT_DEBUG_LOG, (ulong)private_page, 6, 0)) != 6)
		check_fail("a log line from the shared page gave %ld, want 6", (long)r);
	check_done(SUITE, "mem_attributes");
}

static void check_inject_event(void)
{
	const char *why = lapic_absent_reason();
	if (why) {
		check_fail("%s", why);
		goto out;
	}
	lapic_local_init();
	uint32_t seen = cpus[0].irqs[EXT_VEC];
	ulong r = ext_call(EXT_INJECT_EVENT, 0, EXT_VEC, 0);
	if (r)
		check_fail("inject_event gave %ld", (long)r);
	irq_window();
	if (cpus[0].irqs[EXT_VEC] != seen + 1)
		check_fail("vector 0x%x arrived %u times, want once", EXT_VEC, cpus[0].irqs[EXT_VEC] - seen);
	if ((r = ext_call(EXT_INJECT_EVENT, 99, EXT_VEC, 0)) != (ulong)-22l)
		check_fail("inject_event to vCPU 99 gave %ld, want -EINVAL", (long)r);
out:
	check_done(SUITE, "inject_event");
}

/* Without ext=on: nothing to see, and the numbers are the ABI's own unknown calls (any error, none of ours). */
static void check_off(void)
{
	uint32_t r[4];
	cpuid_count(EXT_CPUID_BASE, 0, r);
	if (r[0] | r[1] | r[2] | r[3])
		check_fail("0x40000f00 without ext=on: %x %x %x %x, want zeros", r[0], r[1], r[2], r[3]);
	static const char line[] = "must not appear";
	ulong got = ext_call(EXT_DEBUG_LOG, (ulong)line, sizeof(line) - 1, 0);
	if (got == sizeof(line) - 1)
		check_fail("debug_log answered without ext=on");
	check_done(SUITE, "off");
}

void ext_checks(bool on)
{
	if (!on) {
		check_off();
		return;
	}
	check_cpuid();
	check_debug_log();
	check_unmap_gpa_range();
	check_mem_attributes();
	check_inject_event();
}
