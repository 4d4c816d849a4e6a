/*
 * The host time base on x86: the TSC's rate and the wall clock at boot.
 * TSC rate: CPUID 0x15 when it names the crystal (SDM vol. 3B §18.7.3: TSC =
 * crystal * EBX / EAX), otherwise measured against the PIT's 1.193182 MHz
 * channel 2 (gated through port 0x61; the same on QEMU, Bochs and hardware).
 * CPUID 0x16 is not used: it is the base frequency, which the TSC need not
 * match (Bochs Skylake-X reports 3.5 GHz for a TSC counting ~100 MHz).
 * Wall clock: the CMOS RTC (MC146818 registers), read when no update runs.
 */
#define LOG_SUB_FILE LOG_SUB_ARCH   /* its messages: loglevel=arch:LEVEL */
#include "arch/x86/cpu.h"
#include "arch/x86/x86.h"
#include "core/log.h"
#include "core/pmm.h"
#include "core/time.h"

#define PIT_HZ 1193182ull
#define PIT_CH2 0x42
#define PIT_CMD 0x43
#define PIT_GATE 0x61
#define PIT_CALIBRATE_TICKS 11932u      /* 10 ms */
#define PIT_SPIN_LIMIT 100000000u
#define PIT_TIGHT_TICKS 1193u           /* the last 1 ms of the window is polled without other work */

#define CMOS_INDEX 0x70
#define CMOS_DATA 0x71

static uint64_t tsc_hz_from_cpuid(void)
{
	uint32_t r[4];
	cpuid(0, 0, r);
	uint32_t max = r[0];
	if (max >= 0x15) {
		cpuid(0x15, 0, r);          /* EAX denominator, EBX numerator, ECX crystal Hz */
		if (r[0] && r[1] && r[2])
			return (uint64_t)r[2] * r[1] / r[0];
	}
	return 0;
}

/* Channel 2's count now (the 8254's counter latch command, then low and high byte). */
static uint16_t pit_ch2_count(void)
{
	outb(PIT_CMD, 0x80);                     /* channel 2, counter latch */
	uint8_t lo = inb(PIT_CH2);
	return (uint16_t)(lo | inb(PIT_CH2) << 8);
}

/*
 * Counts TSC ticks, and the local-APIC timer's, while PIT channel 2 counts
 * PIT_CALIBRATE_TICKS down in mode 0: one window for both rates (10 ms of
 * boot, not 20).
 */
static uint64_t tsc_hz_from_pit(uint64_t *tsc_ticks, uint64_t *apic_ticks)
{
	uint8_t gate = inb(PIT_GATE);
	outb(PIT_GATE, (gate & ~0x02) | 0x01);  /* speaker off, gate on */
	outb(PIT_CMD, 0xb0);                     /* channel 2, lo/hi byte, mode 0, binary */
	outb(PIT_CH2, PIT_CALIBRATE_TICKS & 0xff);
	outb(PIT_CH2, PIT_CALIBRATE_TICKS >> 8);
	x86_lapic_count_start();
	uint64_t t0 = rdtsc();
	uint32_t spins = 0;
	/*
	 * The window does boot work that waits anyway: zeroing the free frames
	 * VMs will get (pmm_zero_ahead), a page per step, while more than
	 * PIT_TIGHT_TICKS remain. The end is then polled tightly, as before: the
	 * measurement is as exact as without the work.
	 */
	bool work = true;
	while (!(inb(PIT_GATE) & 0x20) && ++spins < PIT_SPIN_LIMIT) {  /* OUT2 goes high at 0 */
		uint16_t left = work ? pit_ch2_count() : 0;
		/* above the window's start: it wrapped past 0 just now (mode 0 counts on) */
		if (left > PIT_TIGHT_TICKS && left <= PIT_CALIBRATE_TICKS)
			work = pmm_zero_ahead();
	}
	uint64_t t1 = rdtsc();
	uint64_t apic = x86_lapic_count_ticks();
	outb(PIT_GATE, gate);
	if (spins >= PIT_SPIN_LIMIT)
		return 0;
	*tsc_ticks = t1 - t0;
	*apic_ticks = apic;
	return (t1 - t0) * PIT_HZ / PIT_CALIBRATE_TICKS;
}

static uint8_t cmos_read(uint8_t reg)
{
	outb(CMOS_INDEX, reg);
	return inb(CMOS_DATA);
}

static unsigned bcd(uint8_t v, bool binary) { return binary ? v : (v & 15) + (v >> 4) * 10; }

/* Days since 1970-01-01 of a proleptic Gregorian date (the civil-from-days inverse). */
static uint64_t days_from_civil(unsigned y, unsigned m, unsigned d)
{
	y -= m <= 2;
	uint64_t era = y / 400, yoe = y - era * 400;
	uint64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	uint64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static uint64_t rtc_unix_seconds(void)
{
	uint8_t t[6], again[6];
	static const uint8_t regs[6] = { 0x00, 0x02, 0x04, 0x07, 0x08, 0x09 }; /* s m h day mon year */
	for (int tries = 0; tries < 10; tries++) {
		for (int spin = 0; spin < 100000 && (cmos_read(0x0a) & 0x80); spin++)
			;                                       /* update in progress */
		for (int i = 0; i < 6; i++)
			t[i] = cmos_read(regs[i]);
		for (int i = 0; i < 6; i++)
			again[i] = cmos_read(regs[i]);
		if (!__builtin_memcmp(t, again, sizeof(t)))
			break;
	}
	uint8_t b = cmos_read(0x0b);
	bool binary = b & 0x04, h24 = b & 0x02;
	unsigned hour = bcd(t[2] & 0x7f, binary);
	if (!h24 && (t[2] & 0x80))
		hour = (hour % 12) + 12;                        /* 12-hour mode, PM */
	unsigned year = bcd(t[5], binary) + 2000;           /* the century register is not reliable */
	if (year >= 2070)
		year -= 100;                                    /* 70-99: 1970-1999 */
	unsigned month = bcd(t[4], binary), day = bcd(t[3], binary);
	if (!month || month > 12 || !day || day > 31 || hour > 23)
		return 0;
	return days_from_civil(year, month, day) * 86400 + hour * 3600 +
	       bcd(t[1], binary) * 60 + bcd(t[0], binary);
}

void x86_time_init(uint64_t *tsc_ticks, uint64_t *apic_ticks)
{
	uint64_t hz = tsc_hz_from_cpuid();
	const char *how = "CPUID";
	*tsc_ticks = *apic_ticks = 0;
	if (!hz) {
		hz = tsc_hz_from_pit(tsc_ticks, apic_ticks);
		how = "PIT";
	}
	if (!hz) {
		hz = 1000000000;
		how = "a guess (no PIT answered)";
	}
	uint64_t secs = rtc_unix_seconds();
	time_init(hz, rdtsc(), secs * NSEC_PER_SEC);
	pr_info("time: TSC %llu kHz (from %s), RTC at boot %llu s since 1970\n",
	        (unsigned long long)(hz / 1000), how, (unsigned long long)secs);
}
