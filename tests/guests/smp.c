/*
 * The vCPUs of the SMP checks: per-CPU state, starting the APs (INIT-SIPI-SIPI
 * through the xAPIC ICR, Intel SDM vol. 3A 8.4.4.1; kvm.smp_boot), the idle
 * loop they wait in and the work the BSP posts to them, and the driver.
 *
 * Only the BSP prints and writes the exit status, and only the BSP uses the
 * fault probes (vmmcall(), rdmsr_probe(), ...: their state is global). An AP
 * records what it saw in memory; a fault on an AP parks that AP and the
 * check using it reports it. Every wait is bounded by TSC time, so a missing
 * feature costs a FAIL line and a second or two, never a hang.
 */
#include "smp.h"

struct cpu cpus[SMP_MAX_CPUS];
struct smp_state smp;
uint8_t ap_stacks[AP_SLOTS][AP_STACK_SIZE] __attribute__((aligned(16)));

/* Per start ticket (smp_entry.S), filled by the AP before its ID is known good. */
static struct ap_slot {
	volatile uint32_t started;
	volatile uint32_t apic_id;
	volatile uint32_t bad_id;
	volatile uint32_t faulted;
	volatile uint32_t reported;
	volatile ulong fault_vector, fault_ip, fault_err;
} slots[AP_SLOTS];

/* APIC ID per ticket; SMP_MAX_CPUS until the AP has claimed its ID. */
static volatile uint32_t slot_cpu[AP_SLOTS];
static volatile uint32_t id_claimed[SMP_MAX_CPUS];

static ulong stack_pointer(void)
{
	ulong sp;

#ifdef __x86_64__
	__asm__ volatile("mov %%rsp, %0" : "=r"(sp));
#else
	__asm__ volatile("mov %%esp, %0" : "=r"(sp));
#endif
	return sp;
}

/* Nothing switches stacks but CPL changes, which only the BSP makes. */
static int this_slot(void)
{
	ulong off = stack_pointer() - (ulong)ap_stacks;

	return off < sizeof(ap_stacks) ? (int)(off / AP_STACK_SIZE) : -1;
}

unsigned int this_cpu(void)
{
	int slot = this_slot();

	return slot < 0 ? 0 : slot_cpu[slot];
}

/* cpu.c: an unexpected exception. On an AP: recorded for the BSP, and the AP parks. */
void smp_ap_fault(ulong vector, ulong ip, ulong err)
{
	int slot = this_slot();

	if (slot < 0)
		return;
	slots[slot].fault_vector = vector;
	slots[slot].fault_ip = ip;
	slots[slot].fault_err = err;
	barrier();
	slots[slot].faulted = 1;
	for (;;)
		__asm__ volatile("cli; hlt");
}

/* Adds a FAIL reason, once, for every AP that faulted since the last call. */
void smp_check_ap_faults(void)
{
	for (unsigned int s = 0; s < AP_SLOTS; s++) {
		struct ap_slot *a = &slots[s];

		if (!a->faulted || a->reported)
			continue;
		a->reported = 1;
		if (slot_cpu[s] < SMP_MAX_CPUS)
			cpus[slot_cpu[s]].stuck = cpus[slot_cpu[s]].faulted = 1;
		check_fail("AP (APIC ID %u) took unexpected exception %lu at 0x%lx err 0x%lx",
			   a->apic_id, a->fault_vector, a->fault_ip, a->fault_err);
	}
}

/* check_done for a check that used APs: a fault one of them took is this check's. */
void smp_check_done(const char *suite, const char *name)
{
	smp_check_ap_faults();
	check_done(suite, name);
}

/* Up, not faulted, and not in a job: an AP that finished one late is usable again. */
bool cpu_usable(unsigned int id)
{
	struct cpu *c = &cpus[id];

	if (id >= smp.ncpus || !c->up || c->faulted)
		return false;
	if (c->stuck && c->done_seq == c->job_seq) {
		print("INFO " KVM_SUITE ".smp AP %u finished its job late\n", id);
		c->stuck = 0;
	}
	return !c->stuck;
}

/* Fails the current check (and says why) unless ncpus vCPUs, and with aps all APs, can be used. */
bool smp_require(unsigned int ncpus, bool aps)
{
	smp_check_ap_faults();
	if (smp.no_apic) {
		check_fail("%s", smp.no_apic);
		return false;
	}
	if (smp.ncpus < ncpus) {
		check_fail("needs smp=%u or more, the guest has smp=%u", ncpus, smp.ncpus);
		return false;
	}
	for (unsigned int id = 1; aps && id < smp.ncpus; id++) {
		if (!cpu_usable(id)) {
			check_fail("AP %u is not available (%s)", id,
				   !cpus[id].up ? "never started" :
				   cpus[id].faulted ? "it faulted" : "stuck in an earlier check");
			return false;
		}
	}
	return true;
}

/* ---- work for the APs ---- */

/*
 * An AP between jobs. With smp.idle_halt it sleeps in STI;HLT and the BSP
 * wakes it with VEC_WAKE; the idle_halted store and the job check on one side
 * and the job store and idle_halted check in smp_post on the other are each
 * fenced, so one of the two always sees the other.
 */
static void __attribute__((noreturn)) ap_idle(struct cpu *c)
{
	for (;;) {
		irq_disable();
		c->idle_loops++;
		if (c->job_seq != c->done_seq) {
			uint32_t seq = c->job_seq;
			void (*fn)(ulong) = c->job;
			ulong arg = c->job_arg;

			irq_enable();
			fn(arg);
			barrier();
			c->done_seq = seq;
			continue;
		}
		if (smp.idle_halt) {
			c->idle_halted = 1;
			mfence();
			if (c->job_seq == c->done_seq)
				__asm__ volatile("sti; hlt" : : : "memory");
			c->idle_halted = 0;
		} else {
			irq_enable();
			cpu_relax();
		}
	}
}

bool smp_post(unsigned int id, void (*fn)(ulong), ulong arg)
{
	struct cpu *c = &cpus[id];

	if (!cpu_usable(id) || c->job_seq != c->done_seq)
		return false;
	c->job = fn;
	c->job_arg = arg;
	barrier();
	c->job_seq++;
	mfence();
	if (smp.idle_halt && c->idle_halted)
		apic_send(id, ICR_FIXED | VEC_WAKE);
	return true;
}

/* Waits for the AP's job to end; one that doesn't is marked stuck for the later checks. */
bool smp_wait(unsigned int id, unsigned int ms)
{
	struct cpu *c = &cpus[id];
	uint32_t loops = c->idle_loops;

	if (WAIT_MS(c->done_seq == c->job_seq, ms))
		return true;
	c->stuck = 1;
	/* for whoever reads the log: is it running at all, and where? an interrupt tells */
	uint32_t n = c->irqs[VEC_WAKE];
	apic_send(id, ICR_FIXED | VEC_WAKE);
	bool seen = WAIT_MS(c->irqs[VEC_WAKE] != n, 100);
	print("INFO " KVM_SUITE ".smp AP %u: job %u (0x%lx) not done in %u ms; idle loop %u -> %u;"
	      " %s 0x%lx\n", id, c->job_seq, (ulong)c->job, ms, loops, c->idle_loops,
	      seen ? "interrupted at" : "took no interrupt; last one at", c->last_irq_ip);
	return false;
}

bool smp_call(unsigned int id, void (*fn)(ulong), ulong arg, unsigned int ms)
{
	return smp_post(id, fn, arg) && smp_wait(id, ms);
}

/* ---- the AP's own start ---- */

void ap_main(unsigned int slot)
{
	struct ap_slot *s = &slots[slot];
	uint32_t r[4];
	uint32_t id;

	cpu_init_ap();
	/* after INIT the APIC is in xAPIC mode (SDM 10.4.7.3): ID in bits 31:24 */
	id = xapic_read(APIC_ID) >> 24;
	s->apic_id = id;
	s->started = 1;
	if (id == 0 || id >= SMP_MAX_CPUS || __sync_lock_test_and_set(&id_claimed[id], 1)) {
		s->bad_id = 1;
		for (;;)
			__asm__ volatile("cli; hlt");
	}
	slot_cpu[slot] = id;

	struct cpu *c = &cpus[id];
	c->apic_id = id;
	cpuid(1, r);
	c->cpuid_apic_id = r[1] >> 24;
	c->apic_base = rdmsr64(MSR_APIC_BASE);
	c->svr_at_start = xapic_read(APIC_SVR);
	c->lvtt_at_start = xapic_read(APIC_LVTT);
	lapic_local_init();
	barrier();
	c->up = 1;
	ap_idle(c);
}

/* ---- bring-up ---- */

static ulong read_cr3(void)
{
	ulong v;

	__asm__ volatile("mov %%cr3, %0" : "=r"(v));
	return v;
}

static bool all_aps_up(void)
{
	for (unsigned int id = 1; id < smp.ncpus; id++)
		if (!cpus[id].up)
			return false;
	return true;
}

/*
 * The SDM's universal start-up algorithm, all APs at once: INIT (assert, then
 * the level de-assert Linux still sends and KVM ignores), 10 ms, SIPI, 200 us,
 * SIPI. A SIPI reaching an AP that already left wait-for-SIPI is ignored (SDM
 * 8.4.4.1; KVM kvm_apic_accept_events drops it), so the second one must not
 * start anything twice.
 */
static void start_aps(void)
{
	memcpy((void *)AP_TRAMP_BASE, ap_tramp_start, (size_t)(ap_tramp_end - ap_tramp_start));
	ap_boot_cr3 = (uint32_t)read_cr3();
	for (unsigned int id = 1; id < smp.ncpus; id++) {
		if (!apic_send(id, ICR_INIT | ICR_LEVEL | ICR_ASSERT))
			check_fail("INIT to APIC ID %u: ICR delivery status stayed busy", id);
		apic_send(id, ICR_INIT | ICR_LEVEL);
	}
	delay_us(10000);
	for (unsigned int pass = 0; pass < 2; pass++) {
		for (unsigned int id = 1; id < smp.ncpus; id++)
			if (!apic_send(id, ICR_STARTUP | AP_SIPI_VECTOR))
				check_fail("SIPI to APIC ID %u: ICR delivery status stayed busy", id);
		delay_us(200);
	}
}

/* Idle APs may sleep in HLT only if the wake-up IPI reaches every one of them. */
static void choose_idle_mode(void)
{
	for (unsigned int id = 1; id < smp.ncpus; id++) {
		uint32_t before = cpus[id].irqs[VEC_WAKE];

		if (!apic_send(id, ICR_FIXED | VEC_WAKE) ||
		    !WAIT_MS(cpus[id].irqs[VEC_WAKE] != before, 200)) {
			print("INFO " KVM_SUITE ".smp_boot idle APs poll: no wake-up IPI reached"
			      " APIC ID %u in 200 ms\n", id);
			return;
		}
	}
	smp.idle_halt = true;
}

void check_smp_boot(void)
{
	if (!smp_require(1, false))
		goto out;
	if (smp.ncpus == 1)
		goto out;		/* no AP to start */
	start_aps();
	if (!WAIT_MS(all_aps_up(), 2000)) {
		for (unsigned int id = 1; id < smp.ncpus; id++)
			if (!cpus[id].up)
				check_fail("APIC ID %u did not start within 2 s of INIT-SIPI-SIPI", id);
	}
	delay_us(20000);	/* an AP started twice would take a second ticket by now */
	uint32_t starts = ap_next_slot;
	for (unsigned int s = 0; s < AP_SLOTS && s < starts; s++)
		if (slots[s].started && slots[s].bad_id)
			check_fail("an AP reported APIC ID %u (want 1..%u, each once)",
				   slots[s].apic_id, smp.ncpus - 1);
	if (starts != smp.ncpus - 1)
		check_fail("%u AP starts for %u APs", starts, smp.ncpus - 1);
	for (unsigned int id = 1; id < smp.ncpus; id++)
		if (cpus[id].up && cpus[id].cpuid_apic_id != id)
			check_fail("APIC ID %u: CPUID.1:EBX[31:24] says %u", id, cpus[id].cpuid_apic_id);
	smp_check_ap_faults();
	if (all_aps_up())
		choose_idle_mode();
out:
	smp_check_done(KVM_SUITE, "smp_boot");
}

void smp_init(unsigned int ncpus)
{
	for (unsigned int s = 0; s < AP_SLOTS; s++)
		slot_cpu[s] = SMP_MAX_CPUS;
	smp.ncpus = ncpus < SMP_MAX_CPUS ? ncpus : SMP_MAX_CPUS;
	smp.tsc_per_ms = kvmclock_tsc_per_ms();
	smp.tsc_known = smp.tsc_per_ms != 0;
	if (!smp.tsc_known) {
		/* a guess on the fast side: timeouts only get longer; "too early" goes unchecked */
		smp.tsc_per_ms = 4000000;
		print("INFO " KVM_SUITE ".smp_tsc no kvmclock: assuming a 4 GHz TSC for timeouts\n");
	}
	smp.no_apic = lapic_absent_reason();
	if (smp.no_apic)
		return;
	cpus[0].apic_id = xapic_read(APIC_ID) >> 24;
	cpus[0].up = 1;
	lapic_local_init();
}

void smp_checks(unsigned int ncpus)
{
	smp_init(ncpus);
	smp_run_checks();
}

void smp_run_checks(void)
{
	check_smp_boot();
	check_smp_regs_preserved();
	check_xapic_regs();
	check_self_ipi();
	check_ipi_fixed();
	check_timer_oneshot();
	check_timer_periodic();
	check_timer_tsc_deadline();
	check_hlt_wake();
	check_kick_cpu();
	check_send_ipi();
	check_sched_yield();
	check_kvmclock_smp();
	check_steal_time();
	check_pv_eoi();
	/* last: it leaves and re-enters xAPIC mode on the BSP */
	check_x2apic();
	irq_disable();
}
