/*
 * KVM time and memory calls from the inside: kvmclock (both MSR sets), the
 * wall clock, KVM_HC_CLOCK_PAIRING and KVM_HC_MAP_GPA_RANGE, read the way a
 * guest kernel reads them (Linux arch/x86/kernel/pvclock.c does the same sum).
 */
#include "guest.h"

#define MSR_KVM_WALL_CLOCK_NEW	0x4b564d00u
#define MSR_KVM_SYSTEM_TIME_NEW	0x4b564d01u
#define MSR_KVM_SYSTEM_TIME	0x12u
#define MSR_KVM_UNDEFINED	0x4b564dffu
#define KVM_HC_CLOCK_PAIRING	9
#define KVM_HC_MAP_GPA_RANGE	12
#define KVM_EINVAL		22
#define KVM_EFAULT		14
#define KVM_EOPNOTSUPP		95
/* clocksource, clocksource2, steal time, PV EOI, PV unhalt, PV send IPI, poll control, PV sched yield, map GPA range, migration control */
#define KVM_FEATURES_IMPLEMENTED ((1u << 0) | (1u << 3) | (1u << 5) | (1u << 6) | (1u << 7) | (1u << 11) | (1u << 12) | \
				  (1u << 13) | (1u << 16) | (1u << 17))
#define MSR_KVM_POLL_CONTROL	0x4b564d05u
#define MSR_KVM_MIGRATION_CONTROL 0x4b564d08u
#define KVM_FEATURE_STABLE	(1u << 24)
#define SEC_2020		1577836800u

struct kvm_clock_pairing {
	int64_t sec, nsec;
	uint64_t tsc;
	uint32_t flags, pad[9];
} __attribute__((packed));

static struct pvclock_vcpu_time_info pvti __attribute__((aligned(64)));
static struct pvclock_vcpu_time_info pvti_old __attribute__((aligned(64)));
static struct pvclock_wall_clock wall __attribute__((aligned(16)));
static struct kvm_clock_pairing pairing __attribute__((aligned(64)));
static uint8_t range_page[4096] __attribute__((aligned(4096)));

static inline void wrmsr(uint32_t msr, uint64_t v)
{
	__asm__ volatile("wrmsr" :: "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)) : "memory");
}

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

/* (delta << shift) * mul >> 32, in 32-bit halves so the ELF32 build needs no 128-bit type. */
uint64_t pvclock_scale(uint64_t delta, uint32_t mul, int8_t shift)
{
	if (shift < 0)
		delta >>= -shift;
	else
		delta <<= shift;
	uint64_t lo = (uint64_t)(uint32_t)delta * mul;
	uint64_t hi = (delta >> 32) * mul;
	return hi + (lo >> 32);
}

static uint64_t pvclock_now(const volatile struct pvclock_vcpu_time_info *t)
{
	return t->system_time + pvclock_scale(rdtsc() - t->tsc_timestamp, t->tsc_to_system_mul,
	                                      t->tsc_shift);
}

static ulong gpa_of(const void *p) { return (ulong)(uintptr_t)p; }

/*
 * Exactly the features that work: kvmclock (both MSR sets), POLL_CONTROL,
 * MAP_GPA_RANGE and MIGRATION_CONTROL; bit 24 with a stable TSC.
 */
void check_kvm_cpuid_features(void)
{
	uint32_t r[4];
	cpuid(0x40000001, r);
	if ((r[0] & ~KVM_FEATURE_STABLE) != KVM_FEATURES_IMPLEMENTED)
		check_fail("eax 0x%x want 0x%x (bit 24 optional)", r[0], KVM_FEATURES_IMPLEMENTED);
	if (r[3])
		check_fail("edx 0x%x want 0", r[3]);
	check_done(KVM_SUITE, "cpuid_features");
}

void check_kvmclock(void)
{
	uint32_t r[4];
	cpuid(0x40000001, r);
	pvti.version = 0x11;                      /* odd junk: the hypervisor must still end even */
	wrmsr(MSR_KVM_SYSTEM_TIME_NEW, gpa_of(&pvti) | 1);
	uint64_t t0 = pvclock_now(&pvti);
	for (int i = 0; i < 50; i++)
		vmmcall(KVM_HC_VAPIC_POLL_IRQ, 0, 0, 0, 0);
	uint64_t t1 = pvclock_now(&pvti);
	if (pvti.version & 1 || pvti.version < 0x12)
		check_fail("version %u: odd, or not advanced from 0x11", pvti.version);
	if (!pvti.tsc_to_system_mul)
		check_fail("tsc_to_system_mul is 0");
	if (t1 <= t0)
		check_fail("kvmclock went from %llu to %llu ns", (unsigned long long)t0, (unsigned long long)t1);
	if (!!(pvti.flags & 1) != !!(r[0] & KVM_FEATURE_STABLE))
		check_fail("TSC_STABLE flag %u but CPUID bit 24 %u", pvti.flags & 1, !!(r[0] & KVM_FEATURE_STABLE));
	/* the old MSR is the same clock */
	wrmsr(MSR_KVM_SYSTEM_TIME, gpa_of(&pvti_old) | 1);
	uint64_t a = pvclock_now(&pvti), b = pvclock_now(&pvti_old), c = pvclock_now(&pvti);
	if (b < a || b > c)
		check_fail("old-MSR clock %llu not between %llu and %llu", (unsigned long long)b,
		           (unsigned long long)a, (unsigned long long)c);
	check_done(KVM_SUITE, "kvmclock");
}

void check_wall_clock(void)
{
	wrmsr(MSR_KVM_WALL_CLOCK_NEW, gpa_of(&wall));
	if (wall.version & 1 || !wall.version)
		check_fail("version %u", wall.version);
	if (wall.sec < SEC_2020 || wall.nsec >= 1000000000u)
		check_fail("boot time %u.%09u s: before 2020 or bad ns", wall.sec, wall.nsec);
	check_done(KVM_SUITE, "wall_clock");
}

static void expect(const char *what, ulong got, long want)
{
	if (got != (ulong)want)
		check_fail("%s got %ld want %ld", what, (long)got, want);
}

void check_clock_pairing(void)
{
	uint64_t before = rdtsc();
	expect("wallclock", vmmcall(KVM_HC_CLOCK_PAIRING, gpa_of(&pairing), 0, 0, 0), 0);
	uint64_t after = rdtsc();
	if (pairing.sec < SEC_2020 || pairing.nsec < 0 || pairing.nsec >= 1000000000)
		check_fail("time %lld.%09lld", (long long)pairing.sec, (long long)pairing.nsec);
	if (pairing.tsc < before || pairing.tsc > after)
		check_fail("tsc %llu outside [%llu, %llu]", (unsigned long long)pairing.tsc,
		           (unsigned long long)before, (unsigned long long)after);
	expect("clock type 1", vmmcall(KVM_HC_CLOCK_PAIRING, gpa_of(&pairing), 1, 0, 0), -KVM_EOPNOTSUPP);
	expect("GPA outside RAM", vmmcall(KVM_HC_CLOCK_PAIRING, 0x40000000, 0, 0, 0), -KVM_EFAULT);
	check_done(KVM_SUITE, "clock_pairing");
}

void check_map_gpa_range(void)
{
	ulong page = gpa_of(range_page);
	expect("encrypt one page", vmmcall(KVM_HC_MAP_GPA_RANGE, page, 1, 1u << 4, 0), 0);
	expect("share it again", vmmcall(KVM_HC_MAP_GPA_RANGE, page, 1, 0, 0), 0);
	expect("unaligned", vmmcall(KVM_HC_MAP_GPA_RANGE, page + 8, 1, 0, 0), -KVM_EINVAL);
	expect("no pages", vmmcall(KVM_HC_MAP_GPA_RANGE, page, 0, 0, 0), -KVM_EINVAL);
	expect("reserved attribute", vmmcall(KVM_HC_MAP_GPA_RANGE, page, 1, 1u << 7, 0), -KVM_EINVAL);
	expect("page size 3", vmmcall(KVM_HC_MAP_GPA_RANGE, page, 1, 3, 0), -KVM_EINVAL);
	expect("past RAM", vmmcall(KVM_HC_MAP_GPA_RANGE, 0x40000000, 1, 0, 0), -KVM_EINVAL);
	check_done(KVM_SUITE, "map_gpa_range");
}

/* KVM's own MSR range: an MSR it does not define raises #GP, as in KVM. */
void check_kvm_msr_undefined_gp(void)
{
	uint64_t val = 0;
	if (!rdmsr_probe(MSR_KVM_UNDEFINED, &val))
		check_fail("rdmsr 0x%x returned 0x%llx, no #GP", MSR_KVM_UNDEFINED, (unsigned long long)val);
	check_done(KVM_SUITE, "kvm_msr_undefined_gp");
}

/* POLL_CONTROL and MIGRATION_CONTROL: one defined bit each, reset values 1 and 0. */
void check_kvm_control_msrs(void)
{
	uint64_t val = 0;
	if (rdmsr_probe(MSR_KVM_POLL_CONTROL, &val) || val != 1)
		check_fail("POLL_CONTROL reads 0x%llx, want the reset value 1", (unsigned long long)val);
	wrmsr(MSR_KVM_POLL_CONTROL, 0);
	if (rdmsr_probe(MSR_KVM_POLL_CONTROL, &val) || val != 0)
		check_fail("POLL_CONTROL reads 0x%llx after writing 0", (unsigned long long)val);
	wrmsr(MSR_KVM_MIGRATION_CONTROL, 1);
	if (rdmsr_probe(MSR_KVM_MIGRATION_CONTROL, &val) || val != 1)
		check_fail("MIGRATION_CONTROL reads 0x%llx after writing 1", (unsigned long long)val);
	if (!wrmsr_probe(MSR_KVM_POLL_CONTROL, 2))
		check_fail("POLL_CONTROL took reserved bit 1 without #GP");
	check_done(KVM_SUITE, "control_msrs");
}
