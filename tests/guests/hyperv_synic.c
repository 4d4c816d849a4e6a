/*
 * Hyper-V SynIC checks: messages and event flags, synthetic timers, the VP
 * assist page's EOI assist and the SynIC MSRs. Facts from the TLFS
 * ("Synthetic Interrupt Controller (SynIC)", "Inter-Partition Communication",
 * "Timers", "Virtual Processor Assist Page", HvCallPostMessage,
 * HvCallSignalEvent), with the numbers and the message header layout of
 * Linux include/hyperv/hvgdk_mini.h (the TLFS hv_message page orders the
 * header fields wrongly). Connection IDs are this hypervisor's convention
 * (docs/hyperv.md): 0x10000 | VP index << 4 | SINT, any VP of the VM.
 *
 * Runs on vCPU 0 after hyperv.c's checks, which set up the hypercall page;
 * the message receiver is vCPU 1 (guest word smp=2).
 */
#include "guest.h"
#include "smp.h"

#define HV_SUITE "hyperv"

/* MSRs (hvgdk_mini.h) */
#define HV_X64_MSR_HYPERCALL        0x40000001u
#define HV_X64_MSR_TIME_REF_COUNT   0x40000020u
#define HV_X64_MSR_APIC_FREQUENCY   0x40000023u
#define HV_X64_MSR_VP_ASSIST_PAGE   0x40000073u
#define HV_X64_MSR_SCONTROL         0x40000080u
#define HV_X64_MSR_SVERSION         0x40000081u
#define HV_X64_MSR_SIEFP            0x40000082u
#define HV_X64_MSR_SIMP             0x40000083u
#define HV_X64_MSR_EOM              0x40000084u
#define HV_X64_MSR_SINT(n)          (0x40000090u + (n))
#define HV_X64_MSR_STIMER_CONFIG(n) (0x400000b0u + 2 * (n))
#define HV_X64_MSR_STIMER_COUNT(n)  (0x400000b1u + 2 * (n))

#define HV_PAGE_ENABLE     1ull            /* SIMP, SIEFP, VP assist: bit 0; 11:1 reserved */
#define HV_SCONTROL_ENABLE 1ull
#define HV_SINT_MASKED     (1ull << 16)    /* also the SINT reset value */
#define HV_SYNIC_VERSION_1 1

/* STIMERn_CONFIG (TLFS "Synthetic Timer Configuration Register") */
#define STIMER_ENABLE      (1ull << 0)
#define STIMER_PERIODIC    (1ull << 1)
#define STIMER_AUTO_ENABLE (1ull << 3)
#define STIMER_VECTOR(v)   ((uint64_t)(v) << 4)
#define STIMER_DIRECT      (1ull << 12)
#define STIMER_SINT(s)     ((uint64_t)(s) << 16)

#define HVCALL_SEND_IPI     0x000b
#define HVCALL_POST_MESSAGE 0x005c
#define HVCALL_SIGNAL_EVENT 0x005d
#define HV_INPUT_FAST       (1ull << 16)

#define HV_STATUS_SUCCESS               0
#define HV_STATUS_INVALID_PARAMETER     5
#define HV_STATUS_INVALID_CONNECTION_ID 0x12
#define HV_STATUS_INVALID_SYNIC_STATE   0x18
#define HV_NO_PAGE                      0xffff   /* not a status: hv_call found no hypercall page */

#define HVMSG_TIMER_EXPIRED   0x80000010u
#define HV_MSG_PENDING        1                  /* message_flags bit 0 */
#define HV_MSG_PAYLOAD_BYTES  240
#define HV_SIEF_BYTES_PER_SINT 256               /* 2048 flags, LSB first */

#define HV_CPUID_FEATURES               0x40000003u
#define HV_STIMER_DIRECT_MODE_AVAILABLE (1u << 19)   /* EDX */

#define CONN_ID(vp, sint) (0x10000u | (vp) << 4 | (sint))

/* Reference time counts 100 ns (TLFS "Partition Reference Counter"). */
#define REF_PER_MS 10000ull

#define SINT_MSG          2        /* messages and timer messages */
#define SINT_EVENT        3
#define VEC_SINT_MSG      0x62
#define VEC_STIMER_DIRECT 0x63
#define VEC_SINT_EVENT    0x66
#define VEC_ASSIST_IPI    0x67

/* hvgdk_mini.h struct hv_message: 16-byte header, 240 bytes of payload */
struct hv_message {
	uint32_t type;
	uint8_t payload_size;
	uint8_t flags;
	uint16_t reserved;
	uint64_t origin;
	uint8_t payload[HV_MSG_PAYLOAD_BYTES];
};
_Static_assert(sizeof(struct hv_message) == 256, "hv_message layout");

/* TLFS hv_timer_message_payload */
struct hv_timer_payload {
	uint32_t timer_index, reserved;
	uint64_t expiration_time, delivery_time;
};

/* HvCallPostMessage input */
static struct {
	uint32_t connection_id, reserved, type, payload_size;
	uint8_t payload[HV_MSG_PAYLOAD_BYTES];
} post_in __attribute__((aligned(4096)));

static volatile struct hv_message bsp_simp[16] __attribute__((aligned(4096)));
static volatile struct hv_message ap_simp[16] __attribute__((aligned(4096)));
static volatile uint8_t bsp_sief[4096] __attribute__((aligned(4096)));
static volatile struct {
	uint32_t apic_assist;      /* bit 0: no EOI needed (hvgdk_mini.h struct hv_vp_assist_page) */
	uint8_t rest[4092];
} assist_page __attribute__((aligned(4096)));

static const void *hv_page;     /* the page hyperv.c installed, found through the HYPERCALL MSR */
#define BACKSTOP_US 500
static uint32_t backstop_ticks; /* LAPIC timer period: BACKSTOP_US (0: no LAPIC, HV_WAIT polls) */

/* ---- calls, MSRs, waiting ---- */

/* hyperv.c's hv_call_at through the hypercall page: input value, then two GPAs or fast values. */
#ifdef __x86_64__
static uint64_t hv_call(uint64_t input, uint64_t a, uint64_t b)
{
	uint64_t rax;
	register uint64_t r8 __asm__("r8") = b;
	if (!hv_page)
		return HV_NO_PAGE;
	__asm__ volatile("call *%[t]"
	                 : "=a"(rax), "+c"(input), "+d"(a), "+r"(r8)
	                 : [t] "r"(hv_page)
	                 : "memory", "r9", "r10", "r11");
	return rax;
}
#else
static uint64_t hv_call(uint64_t input, uint64_t a, uint64_t b)
{
	uint32_t eax = (uint32_t)input, edx = (uint32_t)(input >> 32);
	uint32_t ebx = (uint32_t)(a >> 32), ecx = (uint32_t)a;
	uint32_t edi = (uint32_t)(b >> 32), esi = (uint32_t)b;
	if (!hv_page)
		return HV_NO_PAGE;
	__asm__ volatile("call *%[t]"
	                 : "+a"(eax), "+d"(edx), "+b"(ebx), "+c"(ecx), "+D"(edi), "+S"(esi)
	                 : [t] "m"(hv_page)
	                 : "memory");
	return (uint64_t)edx << 32 | eax;
}
#endif

static bool expect_status(const char *what, uint64_t got, uint64_t want)
{
	if (got == want)
		return true;
	check_fail("%s gave 0x%llx, want 0x%llx", what, (unsigned long long)got, (unsigned long long)want);
	return false;
}

/* WRMSR on vCPU 0; a fault fails the check. */
static bool msr_set(uint32_t msr, uint64_t val)
{
	if (!wrmsr_probe(msr, val))
		return true;
	check_fail("WRMSR 0x%x <- 0x%llx raised vector %lu", msr, (unsigned long long)val, fault_vector);
	return false;
}

static uint64_t msr_get(uint32_t msr)
{
	uint64_t val = 0;
	if (rdmsr_probe(msr, &val))
		check_fail("RDMSR 0x%x raised vector %lu", msr, fault_vector);
	return val;
}

static uint64_t ref_now(void)
{
	return rdmsr64(HV_X64_MSR_TIME_REF_COUNT);
}

/*
 * Interrupts on for one HLT; the periodic LAPIC timer ends it within
 * BACKSTOP_US if nothing else does, even when a wake-up interrupt slipped in
 * before the HLT (QEMU TCG SVM can deliver one inside STI's shadow).
 */
static void hlt_once(void)
{
	if (backstop_ticks)
		__asm__ volatile("sti; hlt; cli" : : : "memory");
	else
		irq_window();
}

/* Sleeps (HLT) until COND holds or MS ms of reference time pass; the value is COND. */
#define HV_WAIT(cond, ms) ({						\
	uint64_t hv_end_ = ref_now() + (uint64_t)(ms) * REF_PER_MS;	\
	bool hv_ok_;							\
	while (!(hv_ok_ = (cond)) && ref_now() < hv_end_)		\
		hlt_once();						\
	hv_ok_;								\
})

/* How often vec reached vCPU `cpu` since `seen`: waits up to `ms` for one, then 2 ms for more. */
static uint32_t irqs_since(unsigned int cpu, unsigned int vec, uint32_t seen, unsigned int ms)
{
	HV_WAIT(cpus[cpu].irqs[vec] != seen, ms);
	HV_WAIT(false, 2);
	return cpus[cpu].irqs[vec] - seen;
}

/*
 * TLFS "SynIC Message Buffers" (Linux vmbus_signal_eom): empty the slot, and
 * if the hypervisor marked a message pending behind it, write EOM so that it
 * comes. Both vCPUs use it; the AP can't use the fault probes.
 */
static void msg_consume(volatile struct hv_message *m)
{
	m->type = 0;
	mfence();
	if (m->flags & HV_MSG_PENDING)
		wrmsr64(HV_X64_MSR_EOM, 0);
}

/* vCPU 0's SynIC on with fresh pages: SINT_MSG and SINT_EVENT routed to their vectors. */
static bool bsp_synic_on(void)
{
	memset((void *)bsp_simp, 0, sizeof(bsp_simp));
	memset((void *)bsp_sief, 0, sizeof(bsp_sief));
	return msr_set(HV_X64_MSR_SIMP, (ulong)bsp_simp | HV_PAGE_ENABLE) &&
	       msr_set(HV_X64_MSR_SIEFP, (ulong)bsp_sief | HV_PAGE_ENABLE) &&
	       msr_set(HV_X64_MSR_SINT(SINT_MSG), VEC_SINT_MSG) &&
	       msr_set(HV_X64_MSR_SINT(SINT_EVENT), VEC_SINT_EVENT) &&
	       msr_set(HV_X64_MSR_SCONTROL, HV_SCONTROL_ENABLE);
}

/* ---- hyperv.synic_msrs ---- */

static void check_synic_msrs(void)
{
	uint64_t v = msr_get(HV_X64_MSR_SVERSION);
	if (v != HV_SYNIC_VERSION_1)
		check_fail("SVERSION reads 0x%llx, want 1", (unsigned long long)v);
	if (!wrmsr_probe(HV_X64_MSR_SVERSION, 1))
		check_fail("SVERSION took a write (read-only: TLFS wants #GP)");
	for (unsigned int n = 0; n < 16; n++)
		if ((v = msr_get(HV_X64_MSR_SINT(n))) != HV_SINT_MASKED)
			check_fail("SINT%u reads 0x%llx, want the reset value 0x10000", n, (unsigned long long)v);
	/* TLFS: vectors 0-15 are invalid; KVM synic_set_sint: #GP when unmasked */
	if (!wrmsr_probe(HV_X64_MSR_SINT(5), 0x0f))
		check_fail("SINT5 took vector 0x0f unmasked, want #GP");
	if ((v = msr_get(HV_X64_MSR_SINT(5))) != HV_SINT_MASKED)
		check_fail("SINT5 reads 0x%llx after the refused write", (unsigned long long)v);
	check_done(HV_SUITE, "synic_msrs");
}

/* ---- hyperv.synic_message ---- */

/* vCPU 1's SynIC: message page, SINT_MSG unmasked, SCONTROL; arg 0 turns it all off again. */
static void ap_synic(ulong on)
{
	wrmsr64(HV_X64_MSR_SIMP, on ? (ulong)ap_simp | HV_PAGE_ENABLE : 0);
	wrmsr64(HV_X64_MSR_SINT(SINT_MSG), on ? VEC_SINT_MSG : HV_SINT_MASKED);
	wrmsr64(HV_X64_MSR_SCONTROL, on ? HV_SCONTROL_ENABLE : 0);
}

static void ap_consume(ulong sint)
{
	msg_consume(&ap_simp[sint]);
}

static uint8_t pattern(unsigned int tag, unsigned int i)
{
	return (uint8_t)(tag + i * 7);
}

/* HvCallPostMessage (slow only) with `size` bytes of pattern(tag). */
static uint64_t post(uint32_t conn, uint32_t type, uint32_t size, unsigned int tag)
{
	post_in.connection_id = conn;
	post_in.reserved = 0;
	post_in.type = type;
	post_in.payload_size = size;
	for (unsigned int i = 0; i < HV_MSG_PAYLOAD_BYTES; i++)
		post_in.payload[i] = pattern(tag, i);
	return hv_call(HVCALL_POST_MESSAGE, (ulong)&post_in, 0);
}

static void expect_msg(const char *what, volatile struct hv_message *m, uint32_t type, uint32_t size,
                       unsigned int tag, uint64_t origin, bool pending)
{
	if (m->type != type || m->payload_size != size || m->origin != origin ||
	    (m->flags & HV_MSG_PENDING) != pending)
		check_fail("%s: slot has type 0x%x size %u flags 0x%x origin 0x%llx, want 0x%x %u %u 0x%llx",
		           what, m->type, m->payload_size, m->flags, (unsigned long long)m->origin,
		           type, size, pending, (unsigned long long)origin);
	for (unsigned int i = 0; i < size; i++)
		if (m->payload[i] != pattern(tag, i)) {
			check_fail("%s: payload byte %u is 0x%x, want 0x%x", what, i, m->payload[i], pattern(tag, i));
			break;
		}
}

/* Posts to vCPU 1 and wants its SINT interrupt. */
static bool post_delivered(const char *what, uint32_t type, uint32_t size, unsigned int tag)
{
	uint32_t seen = cpus[1].irqs[VEC_SINT_MSG];
	if (!expect_status(what, post(CONN_ID(1, SINT_MSG), type, size, tag), HV_STATUS_SUCCESS))
		return false;
	if (irqs_since(1, VEC_SINT_MSG, seen, 100) == 1)
		return true;
	check_fail("%s: vCPU 1 took vector 0x%x %u times, want once", what, VEC_SINT_MSG,
	           cpus[1].irqs[VEC_SINT_MSG] - seen);
	return false;
}

static void post_errors(void)
{
	uint32_t conn = CONN_ID(1, SINT_MSG);
	expect_status("PostMessage to VP 8 (the VM has 2)", post(CONN_ID(8, SINT_MSG), 1, 8, 0),
	              HV_STATUS_INVALID_CONNECTION_ID);
	expect_status("PostMessage to connection 0x2", post(SINT_MSG, 1, 8, 0), HV_STATUS_INVALID_CONNECTION_ID);
	expect_status("PostMessage of 241 bytes", post(conn, 1, 241, 0), HV_STATUS_INVALID_PARAMETER);
	expect_status("PostMessage of type 0x80000001", post(conn, 0x80000001u, 8, 0), HV_STATUS_INVALID_PARAMETER);
	expect_status("PostMessage to a masked SINT", post(CONN_ID(1, SINT_EVENT), 1, 8, 0),
	              HV_STATUS_INVALID_SYNIC_STATE);
	if (ap_simp[SINT_MSG].type)
		check_fail("a refused post left type 0x%x in the slot", ap_simp[SINT_MSG].type);
}

static void check_synic_message(void)
{
	volatile struct hv_message *slot = &ap_simp[SINT_MSG];
	uint32_t conn = CONN_ID(1, SINT_MSG);

	if (!smp_require(2, true))
		goto out;
	memset((void *)ap_simp, 0, sizeof(ap_simp));
	if (!smp_call(1, ap_synic, 1, 1000)) {
		check_fail("vCPU 1 did not turn its SynIC on");
		goto out;
	}
	if (post_delivered("PostMessage", 1, 20, 0x10))
		expect_msg("first message", slot, 1, 20, 0x10, conn, false);
	smp_call(1, ap_consume, SINT_MSG, 1000);

	/* two back to back: the second waits behind the first (msg_pending) until EOM */
	if (post_delivered("PostMessage A", 2, HV_MSG_PAYLOAD_BYTES, 0x20) &&
	    expect_status("PostMessage B", post(conn, 3, 8, 0x30), HV_STATUS_SUCCESS)) {
		expect_msg("A, B held", slot, 2, HV_MSG_PAYLOAD_BYTES, 0x20, conn, true);
		uint32_t seen = cpus[1].irqs[VEC_SINT_MSG];
		smp_call(1, ap_consume, SINT_MSG, 1000);
		if (irqs_since(1, VEC_SINT_MSG, seen, 100) != 1)
			check_fail("B: %u interrupts after type = 0 and EOM, want 1",
			           cpus[1].irqs[VEC_SINT_MSG] - seen);
		expect_msg("B after EOM", slot, 3, 8, 0x30, conn, false);
		smp_call(1, ap_consume, SINT_MSG, 1000);
	}
	post_errors();
	smp_call(1, ap_synic, 0, 1000);
out:
	smp_check_done(HV_SUITE, "synic_message");
}

/* ---- hyperv.synic_event ---- */

static void check_synic_event(void)
{
	volatile uint8_t *flags = bsp_sief + SINT_EVENT * HV_SIEF_BYTES_PER_SINT;
	uint64_t event = CONN_ID(0, SINT_EVENT) | 100ull << 32;    /* SignalEvent fast input: conn, flag */
	uint32_t seen = cpus[0].irqs[VEC_SINT_EVENT];

	if (!bsp_synic_on())
		goto out;
	if (!expect_status("SignalEvent flag 100", hv_call(HVCALL_SIGNAL_EVENT | HV_INPUT_FAST, event, 0),
	                   HV_STATUS_SUCCESS))
		goto out;
	for (unsigned int i = 0; i < sizeof(bsp_sief); i++) {
		uint8_t want = i == SINT_EVENT * HV_SIEF_BYTES_PER_SINT + 100 / 8 ? 1u << (100 % 8) : 0;
		if (bsp_sief[i] != want) {
			check_fail("event page byte %u is 0x%x, want 0x%x", i, bsp_sief[i], want);
			break;
		}
	}
	uint32_t n = irqs_since(0, VEC_SINT_EVENT, seen, 100);
	if (n != 1)
		check_fail("SINT%u vector arrived %u times, want once", SINT_EVENT, n);
	/* TLFS: a flag already set is not signalled again */
	seen = cpus[0].irqs[VEC_SINT_EVENT];
	expect_status("SignalEvent of a set flag", hv_call(HVCALL_SIGNAL_EVENT | HV_INPUT_FAST, event, 0),
	              HV_STATUS_SUCCESS);
	if ((n = irqs_since(0, VEC_SINT_EVENT, seen, 5)) != 0)
		check_fail("signalling a set flag sent %u interrupts, want none", n);
	if (!(flags[100 / 8] & 1u << (100 % 8)))
		check_fail("flag 100 cleared");
	expect_status("SignalEvent flag 2048",
	              hv_call(HVCALL_SIGNAL_EVENT | HV_INPUT_FAST, CONN_ID(0, SINT_EVENT) | 2048ull << 32, 0),
	              HV_STATUS_INVALID_PARAMETER);
out:
	check_done(HV_SUITE, "synic_event");
}

/* ---- synthetic timers ---- */

static const volatile struct hv_timer_payload *timer_payload(volatile struct hv_message *m)
{
	return (const volatile struct hv_timer_payload *)m->payload;
}

/* Waits up to ms for a message in vCPU 0's SINT_MSG slot. */
static bool msg_arrives(unsigned int ms)
{
	return HV_WAIT(bsp_simp[SINT_MSG].type != 0, ms);
}

/* The slot holds timer n's expiry message, written at or after its expiration time. */
static bool expect_timer_msg(unsigned int n)
{
	volatile struct hv_message *m = &bsp_simp[SINT_MSG];
	const volatile struct hv_timer_payload *p = timer_payload(m);
	if (m->type != HVMSG_TIMER_EXPIRED || m->payload_size != sizeof(*p) || p->timer_index != n ||
	    p->delivery_time < p->expiration_time) {
		check_fail("message type 0x%x size %u timer %u expiration %llu delivery %llu: want 0x%x %u %u,"
		           " delivered >= expiration", m->type, m->payload_size, p->timer_index,
		           (unsigned long long)p->expiration_time, (unsigned long long)p->delivery_time,
		           HVMSG_TIMER_EXPIRED, (unsigned int)sizeof(*p), n);
		return false;
	}
	return true;
}

static void timer_off(unsigned int n)
{
	msr_set(HV_X64_MSR_STIMER_CONFIG(n), 0);
	msr_set(HV_X64_MSR_STIMER_COUNT(n), 0);
}

static void check_stimer_oneshot(void)
{
	volatile struct hv_message *m = &bsp_simp[SINT_MSG];
	uint32_t seen = cpus[0].irqs[VEC_SINT_MSG];

	if (!bsp_synic_on())
		goto out;
	/* TLFS: with AutoEnable, writing a non-zero count sets Enable; one-shot count = absolute time */
	uint64_t due = ref_now() + REF_PER_MS;
	if (!msr_set(HV_X64_MSR_STIMER_CONFIG(0), STIMER_AUTO_ENABLE | STIMER_SINT(SINT_MSG)) ||
	    !msr_set(HV_X64_MSR_STIMER_COUNT(0), due))
		goto out;
	uint64_t config = msr_get(HV_X64_MSR_STIMER_CONFIG(0));
	if (!(config & STIMER_ENABLE) && !m->type)
		check_fail("CONFIG 0x%llx after COUNT: AutoEnable did not set Enable", (unsigned long long)config);
	if (!msg_arrives(100)) {
		check_fail("no message within 100 ms of a 1 ms timer");
		goto off;
	}
	uint64_t seen_at = ref_now();
	const volatile struct hv_timer_payload *p = timer_payload(m);
	if (expect_timer_msg(0) && (p->expiration_time != due || p->delivery_time > due + 50 * REF_PER_MS))
		check_fail("expiration %llu delivery %llu: want %llu and at most 50 ms later",
		           (unsigned long long)p->expiration_time, (unsigned long long)p->delivery_time,
		           (unsigned long long)due);
	if (seen_at < due)
		check_fail("message seen at %llu, before the due time %llu", (unsigned long long)seen_at,
		           (unsigned long long)due);
	print("INFO " HV_SUITE ".stimer_oneshot delivered %llu x 100 ns after the due time\n",
	      (unsigned long long)(p->delivery_time - due));
	if (irqs_since(0, VEC_SINT_MSG, seen, 10) != 1)
		check_fail("SINT%u vector arrived %u times, want once", SINT_MSG, cpus[0].irqs[VEC_SINT_MSG] - seen);
	/* TLFS: a one-shot timer is disabled when it expires */
	if ((config = msr_get(HV_X64_MSR_STIMER_CONFIG(0))) & STIMER_ENABLE)
		check_fail("CONFIG 0x%llx after expiry: still enabled", (unsigned long long)config);
	msg_consume(m);
off:
	timer_off(0);
out:
	check_done(HV_SUITE, "stimer_oneshot");
}

#define PERIOD    2000ull      /* 200 us */
#define PERIODS   5

/* Expiration times: strictly increasing, a whole number of periods apart, the first a period or more after start. */
static void expect_periods(const uint64_t *exp, uint64_t start)
{
	if (exp[0] < start + PERIOD)
		check_fail("first expiration %llu, less than a period after the start %llu",
		           (unsigned long long)exp[0], (unsigned long long)start);
	for (unsigned int i = 1; i < PERIODS; i++) {
		uint64_t d = exp[i] - exp[0];
		if (exp[i] <= exp[i - 1] || d != udiv64(d, PERIOD) * PERIOD) {
			check_fail("expiration %u is %llu after %llu: want later by a multiple of %llu", i,
			           (unsigned long long)exp[i], (unsigned long long)exp[i - 1], PERIOD);
			return;
		}
	}
}

static void check_stimer_periodic(void)
{
	volatile struct hv_message *m = &bsp_simp[SINT_MSG];
	uint64_t exp[PERIODS];
	unsigned int got = 0;

	if (!bsp_synic_on())
		goto out;
	/* count first, then Enable: the first period starts now (TLFS) */
	uint64_t start = ref_now();
	if (!msr_set(HV_X64_MSR_STIMER_COUNT(1), PERIOD) ||
	    !msr_set(HV_X64_MSR_STIMER_CONFIG(1), STIMER_ENABLE | STIMER_PERIODIC | STIMER_SINT(SINT_MSG)))
		goto off;
	for (; got < PERIODS && msg_arrives(50); got++) {
		if (!expect_timer_msg(1))
			goto off;
		exp[got] = timer_payload(m)->expiration_time;
		msg_consume(m);
	}
	if (got < PERIODS) {
		check_fail("%u of %u messages of a 200 us periodic timer within 50 ms each", got, PERIODS);
		goto off;
	}
	expect_periods(exp, start);
	/* TLFS: count 0 disables the timer */
	msr_set(HV_X64_MSR_STIMER_COUNT(1), 0);
	uint64_t config = msr_get(HV_X64_MSR_STIMER_CONFIG(1));
	if (config & STIMER_ENABLE)
		check_fail("CONFIG 0x%llx after COUNT = 0: still enabled", (unsigned long long)config);
	HV_WAIT(false, 1);              /* the interrupt of a tick from before the write */
	irq_window();                   /* taken even if the 1 ms had passed before the wait began */
	msg_consume(m);
	uint32_t seen = cpus[0].irqs[VEC_SINT_MSG];
	if (msg_arrives(2))
		check_fail("message type 0x%x after the timer was stopped", m->type);
	if (cpus[0].irqs[VEC_SINT_MSG] != seen)
		check_fail("%u interrupts after the timer was stopped", cpus[0].irqs[VEC_SINT_MSG] - seen);
off:
	timer_off(1);
	msg_consume(m);
out:
	check_done(HV_SUITE, "stimer_periodic");
}

static void check_stimer_direct(void)
{
	uint32_t r[4], seen = cpus[0].irqs[VEC_STIMER_DIRECT], msgs = cpus[0].irqs[VEC_SINT_MSG];

	cpuid(HV_CPUID_FEATURES, r);
	if (!(r[3] & HV_STIMER_DIRECT_MODE_AVAILABLE)) {
		check_fail("CPUID 0x40000003 EDX bit 19 (direct mode) clear");
		goto out;
	}
	if (!bsp_synic_on())
		goto out;
	/* direct mode ignores SINTx: a message in SINT_MSG's slot would be wrong */
	uint64_t config = STIMER_AUTO_ENABLE | STIMER_DIRECT | STIMER_VECTOR(VEC_STIMER_DIRECT) | STIMER_SINT(SINT_MSG);
	if (!msr_set(HV_X64_MSR_STIMER_CONFIG(2), config) ||
	    !msr_set(HV_X64_MSR_STIMER_COUNT(2), ref_now() + REF_PER_MS / 2))
		goto off;
	uint32_t n = irqs_since(0, VEC_STIMER_DIRECT, seen, 100);
	if (n != 1)
		check_fail("vector 0x%x arrived %u times, want once", VEC_STIMER_DIRECT, n);
	if (bsp_simp[SINT_MSG].type || cpus[0].irqs[VEC_SINT_MSG] != msgs)
		check_fail("a message (type 0x%x) or SINT%u interrupt came too", bsp_simp[SINT_MSG].type, SINT_MSG);
	if ((config = msr_get(HV_X64_MSR_STIMER_CONFIG(2))) & STIMER_ENABLE)
		check_fail("CONFIG 0x%llx after expiry: still enabled", (unsigned long long)config);
off:
	timer_off(2);
out:
	check_done(HV_SUITE, "stimer_direct");
}

/* ---- hyperv.vp_assist ---- */

/*
 * Linux hv_apic_eoi_write: apic_assist bit 0 set means the hypervisor wants
 * no EOI for this interrupt. Handed on to smp_irq's PV-EOI word, which then
 * skips the EOI and counts it.
 */
static void assist_eoi_hook(unsigned int vec)
{
	(void)vec;
	if (__atomic_exchange_n(&assist_page.apic_assist, 0, __ATOMIC_SEQ_CST) & 1)
		cpus[0].pv_eoi_word = 1;
}

/* Self-IPIs through SendSyntheticClusterIpi; each must come, none may stay in service. */
static void assist_ipis(unsigned int count)
{
	struct cpu *c = &cpus[0];
	uint32_t skipped = c->pv_eoi_skipped;

	c->pv_eoi_word = 0;
	c->irq_hook = assist_eoi_hook;
	c->pv_eoi_on = 1;
	for (unsigned int i = 0; i < count; i++) {
		uint32_t seen = c->irqs[VEC_ASSIST_IPI];
		if (!expect_status("SendSyntheticClusterIpi",
		                   hv_call(HVCALL_SEND_IPI | HV_INPUT_FAST, VEC_ASSIST_IPI, 1), HV_STATUS_SUCCESS))
			break;
		if (!HV_WAIT(c->irqs[VEC_ASSIST_IPI] != seen, 100)) {
			check_fail("IPI %u of %u not delivered: an EOI the assist page spared was lost", i + 1, count);
			break;
		}
		if (apic_isr(VEC_ASSIST_IPI)) {
			check_fail("ISR bit of 0x%x still set after IPI %u", VEC_ASSIST_IPI, i + 1);
			break;
		}
	}
	c->pv_eoi_on = 0;
	c->irq_hook = NULL;
	print("INFO " HV_SUITE ".vp_assist %u EOIs skipped through apic_assist in %u self-IPIs\n",
	      c->pv_eoi_skipped - skipped, count);
}

static void check_vp_assist(void)
{
	uint64_t on = (ulong)&assist_page | HV_PAGE_ENABLE, v = 0;

	assist_page.apic_assist = 0xffffffffu;
	assist_page.rest[100 - 4] = 0x5a;
	if (!msr_set(HV_X64_MSR_VP_ASSIST_PAGE, on))
		goto out;
	/* KVM: enabling clears apic_assist only; the rest of the page is the guest's */
	if (assist_page.apic_assist != 0 || assist_page.rest[100 - 4] != 0x5a)
		check_fail("after enabling: apic_assist 0x%x (want 0), byte 100 0x%x (want 0x5a)",
		           assist_page.apic_assist, assist_page.rest[100 - 4]);
	/* bits 11:1 are RsvdP (TLFS): taken and kept, as KVM does */
	if (wrmsr_probe(HV_X64_MSR_VP_ASSIST_PAGE, on | 2) || (v = msr_get(HV_X64_MSR_VP_ASSIST_PAGE)) != (on | 2))
		check_fail("reserved bit 1: VP_ASSIST_PAGE reads 0x%llx, want 0x%llx", (unsigned long long)v,
		           (unsigned long long)(on | 2));
	msr_set(HV_X64_MSR_VP_ASSIST_PAGE, on);
	if ((v = msr_get(HV_X64_MSR_VP_ASSIST_PAGE)) != on)
		check_fail("VP_ASSIST_PAGE reads 0x%llx, want 0x%llx", (unsigned long long)v, (unsigned long long)on);
	assist_ipis(8);
	msr_set(HV_X64_MSR_VP_ASSIST_PAGE, 0);
out:
	check_done(HV_SUITE, "vp_assist");
}

/* ---- driver ---- */

/* The hypercall page, and the LAPIC timer that bounds every HLT (its rate: TLFS APIC_FREQUENCY MSR). */
static void synic_setup(void)
{
	uint64_t hc = 0, hz = 0;
	if (!rdmsr_probe(HV_X64_MSR_HYPERCALL, &hc) && (hc & 1))
		hv_page = (const void *)(ulong)(hc & ~0xfffull);
	irq_disable();
	if (lapic_absent_reason())
		return;
	lapic_local_init();
	if (rdmsr_probe(HV_X64_MSR_APIC_FREQUENCY, &hz) || hz < 1000000)
		hz = 1000000000;
	backstop_ticks = (uint32_t)udiv64(hz * BACKSTOP_US, 1000000);
	apic_write(APIC_TDCR, APIC_TDCR_DIV1);
	apic_write(APIC_LVTT, APIC_LVTT_PERIODIC | VEC_TIMER);
	apic_write(APIC_TMICT, backstop_ticks);
}

static void synic_teardown(void)
{
	for (unsigned int n = 0; n < 16; n++)
		wrmsr_probe(HV_X64_MSR_SINT(n), HV_SINT_MASKED);
	wrmsr_probe(HV_X64_MSR_SCONTROL, 0);
	wrmsr_probe(HV_X64_MSR_SIMP, 0);
	wrmsr_probe(HV_X64_MSR_SIEFP, 0);
	if (!backstop_ticks)
		return;
	/* no timer interrupt left pending for the checks that follow (they run with interrupts off) */
	apic_write(APIC_LVTT, APIC_LVT_MASKED | VEC_TIMER);
	apic_write(APIC_TMICT, 0);
	uint64_t end = ref_now() + REF_PER_MS;
	irq_enable();
	while (ref_now() < end)
		cpu_relax();
	irq_disable();
}

void hyperv_synic_checks(void)
{
	synic_setup();
	check_synic_msrs();
	check_synic_message();
	check_synic_event();
	check_stimer_oneshot();
	check_stimer_periodic();
	check_stimer_direct();
	check_vp_assist();
	synic_teardown();
}
