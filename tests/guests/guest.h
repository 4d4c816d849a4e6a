/*
 * Test guest: a freestanding kernel built once as ELF64 (starts in long mode)
 * and once as ELF32 (starts in flat protected mode) from the same sources.
 * It checks from the inside what the hypervisor offers and reports one
 * "TEST <suite>.<name> PASS|FAIL ..." line per check on COM1.
 *
 * This header is included by the assembly files too, so everything that is
 * not a plain #define sits behind __ASSEMBLER__.
 */
#ifndef TESTS_GUESTS_GUEST_H
#define TESTS_GUESTS_GUEST_H

/* Our own GDT (the hypervisor's at 0x7000 has no user or TSS descriptors). */
#define SEL_KCODE	0x08
#define SEL_KDATA	0x10
#define SEL_UCODE	(0x18 | 3)
#define SEL_UDATA	(0x20 | 3)
#define SEL_TSS		0x28

#define VEC_USER_RETURN	0x80

/* Bit n set: the CPU pushes an error code for exception vector n. */
#define ERRCODE_VECTORS	0x60227d00

#define PORT_COM1	0x3f8
#define PORT_EXIT	0xf4

#define EXIT_UNEXPECTED_EXCEPTION 0xee

#ifndef __ASSEMBLER__

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Register width: 64 bits in the ELF64 build, 32 in the ELF32 one. */
typedef unsigned long ulong;

/*
 * Both builds print the same checks; the suffix keeps their names apart so a
 * log holding both runs can't confuse them.
 */
#ifdef __x86_64__
#define KVM_SUITE	"kvm64"
#define X86_SUITE	"x86_64"
#else
#define KVM_SUITE	"kvm32"
#define X86_SUITE	"x86_32"
#endif

/* KVM hypercall ABI (linux/include/uapi/linux/kvm_para.h). */
#define KVM_HC_VAPIC_POLL_IRQ	1
#define KVM_HC_MMU_OP		2
#define KVM_ENOSYS		1000
#define KVM_EPERM		1
#define KVM_HC_UNKNOWN		0x7fff

#define KVM_CPUID_SIGNATURE	0x40000000u
#define KVM_CPUID_FEATURES	0x40000001u

static inline void outb(uint16_t port, uint8_t v)
{
	__asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline void outl(uint16_t port, uint32_t v)
{
	__asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port));
}

static inline void cpuid_count(uint32_t leaf, uint32_t subleaf, uint32_t r[4])
{
	__asm__ volatile("cpuid"
			 : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3])
			 : "a"(leaf), "c"(subleaf));
}

static inline void cpuid(uint32_t leaf, uint32_t r[4])
{
	cpuid_count(leaf, 0, r);
}

/* 1 GiB + 4 KiB: above any RAM a test VM gets (<= 256 MiB), inside the 64-bit identity map. */
#define OOB_GPA		0x40001000ul

/* cpu.c: a fault taken while fault_armed is set resumes at fault_recover_ip. */
extern volatile int fault_armed;
extern volatile ulong fault_recover_ip;
extern volatile ulong fault_vector;
extern volatile ulong fault_err;
extern volatile ulong fault_ip;

#define NO_FAULT (~0ul)

#ifdef __x86_64__
#define ASM_MOV_PTR "movq"
#else
#define ASM_MOV_PTR "movl"
#endif

/*
 * A hypervisor that doesn't handle the instruction makes it raise #UD; the
 * caller then finds fault_vector set (and RAX unchanged) instead of losing the
 * rest of the run to the unexpected-exception handler.
 *
 * The argument registers are in/out so that a hypervisor that scribbles on
 * them breaks only the check that looks at them (regs_preserved), not the
 * compiler's idea of where our locals are.
 */
#define GUARDED_HYPERCALL(insn_bytes, nr, a0, a1, a2, a3)			\
	__asm__ volatile("movl $1, %[armed]\n\t"				\
			 ASM_MOV_PTR " $1f, %[recover]\n\t"			\
			 ".byte " insn_bytes "\n\t"				\
			 "movl $0, %[armed]\n"					\
			 "1:"							\
			 : "+a"(nr), "+b"(a0), "+c"(a1), "+d"(a2), "+S"(a3),	\
			   [armed] "=m"(fault_armed),				\
			   [recover] "=m"(fault_recover_ip)			\
			 : : "memory")

static inline ulong vmmcall(ulong nr, ulong a0, ulong a1, ulong a2, ulong a3)
{
	fault_vector = NO_FAULT;
	GUARDED_HYPERCALL("0x0f, 0x01, 0xd9", nr, a0, a1, a2, a3);
	return nr;
}

static inline ulong vmcall(ulong nr, ulong a0, ulong a1, ulong a2, ulong a3)
{
	fault_vector = NO_FAULT;
	GUARDED_HYPERCALL("0x0f, 0x01, 0xc1", nr, a0, a1, a2, a3);
	return nr;
}

/* Xen's struct hvm_start_info (public/arch-x86/hvm/start_info.h), version 1. */
#define HVM_START_MAGIC 0x336ec578u

struct hvm_start_info {
	uint32_t magic;
	uint32_t version;
	uint32_t flags;
	uint32_t nr_modules;
	uint64_t modlist_paddr;
	uint64_t cmdline_paddr;
	uint64_t rsdp_paddr;
	uint64_t memmap_paddr;
	uint32_t memmap_entries;
	uint32_t reserved;
};

struct hvm_memmap_table_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type;
	uint32_t reserved;
};

#define HVM_MEMMAP_TYPE_RAM 1

/* lib.c */
void print(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void vprint(const char *fmt, va_list ap);
void check_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
bool check_done(const char *suite, const char *name);
extern unsigned int failed_checks;
__attribute__((noreturn)) void exit_vm(uint32_t status);
void *memset(void *d, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);

/* cpu.c */
void cpu_init(void);
void cpu_init_ap(void);
void load_empty_idt(void);

/*
 * smp.c, lapic.c: the multi-vCPU and local-APIC checks (guest word smp=N),
 * and what exception_handler hands them: interrupts (vectors 0x20..0xff but
 * 0x80), NMIs, and unexpected exceptions (smp_ap_fault parks an AP and
 * returns only on the BSP).
 */
void smp_checks(unsigned int ncpus);
void smp_run_checks(void);
void smp_irq(unsigned int vec, ulong ip);
void smp_nmi(void);
void smp_ap_fault(ulong vector, ulong ip, ulong err);

/* entry{32,64}.S; a zero tss_sel loads no task register (APs share the BSP's tables) */
extern const ulong isr_table[32];
void isr_user_return(void);
void cpu_load_tables(const void *gdtr, const void *idtr, ulong tss_sel);
extern char ring0_stack_top[];

/*
 * Drops to CPL 3 with RAX = nr and runs fn there; fn ends with int 0x80,
 * which brings us back here returning the RAX it left.
 */
ulong user_call(ulong nr, void (*fn)(void));
void user_vmmcall(void);
void user_vmcall(void);
/* main.c: user_call with a fault at CPL 3 caught (fault_vector says which; NO_FAULT if none) */
ulong user_call_guarded(ulong nr, void (*fn)(void));

/*
 * Loads every GPR from probe_in[] (RAX = hypercall number), does VMMCALL and
 * stores every GPR to probe_out[]; probe_sp is RSP just before the call.
 * Slots: ax bx cx dx si di bp sp, then r8..r15 in the 64-bit build.
 * The VMMCALL is guarded: the caller clears fault_vector (NO_FAULT) first.
 */
#ifdef __x86_64__
#define PROBE_REGS 16
#else
#define PROBE_REGS 8
#endif
#define PROBE_SP 7
void regs_probe(void);
extern ulong probe_in[PROBE_REGS];
extern ulong probe_out[PROBE_REGS];
extern ulong probe_sp;

/* Returns 1 if RDMSR faulted (fault_vector/fault_err say how), else 0. */
int rdmsr_probe(uint32_t msr, uint64_t *val);
int wrmsr_probe(uint32_t msr, uint64_t val);

/* kvm_time.c */
/* kvmclock (Linux arch/x86/include/asm/pvclock-abi.h) */
struct pvclock_vcpu_time_info {
	uint32_t version, pad0;
	uint64_t tsc_timestamp, system_time;
	uint32_t tsc_to_system_mul;
	int8_t tsc_shift;
	uint8_t flags, pad[2];
} __attribute__((packed));
_Static_assert(sizeof(struct pvclock_vcpu_time_info) == 32, "pvclock layout");
struct pvclock_wall_clock { uint32_t version, sec, nsec; } __attribute__((packed));
/* (delta << shift) * mul >> 32: the pvclock scaling (kvm_time.c) */
uint64_t pvclock_scale(uint64_t delta, uint32_t mul, int8_t shift);

/*
 * isolation.c: one VM attacks with bad addresses, the other keeps a canary
 * (peer: the other's domid; the canary's attackers are domains peer .. peer + npeers - 1)
 */
void isolation_checks(bool attacker, unsigned int peer, unsigned int npeers);
/* an attacker (isolation.c, storm.c) that is done tells the canary, domain `peer` */
void isolation_tell_done(unsigned int peer);
/* storm.c: the hostile guest (storm=K: K thousand calls over ncpus vCPUs; the canary is domain `canary`) */
void storm_checks(unsigned int thousands, unsigned int ncpus, unsigned int canary);
/* bench.c: the round-trip benchmarks (guest word bench; make bench) for the VM's ABI */
void bench_checks(bool hyperv, bool xen);
/* hyperv.c, xen.c: where each ABI's hypercall page is */
const uint8_t *hv_hcall_page(void);
const uint8_t *xen_hcall_page(void);
/* ext.c: the project's own calls (on: the VM has ext=on; else that it does not see them) */
void ext_checks(bool on);
/* multi.c: the checks of a VM that speaks several ABIs (list: "hyperv,xen,kvm"...) */
void multi_checks(const char *list, bool policy);
/* hyperv.c: the checks of a VM that speaks the Hyper-V ABI */
void hyperv_checks(void);
/* hyperv_synic.c: SynIC messages and events, synthetic timers, VP assist (after hyperv_checks' setup) */
void hyperv_synic_checks(void);
/* xen.c: the checks of a VM that speaks the Xen ABI; domid 0: not known */
void xen_checks(unsigned int domid, unsigned int peer);
/* ends the VM by SCHEDOP_shutdown(poweroff); returns only if that failed (a failed check) */
void xen_poweroff(void);
void check_kvm_cpuid_features(void);
void check_kvm_msr_undefined_gp(void);
void check_kvmclock(void);
void check_wall_clock(void);
void check_clock_pairing(void);
void check_map_gpa_range(void);
void check_kvm_control_msrs(void);

/* x86_checks.c */
void check_single_step(void);
void check_int1(void);
void check_rdpmc_gp(void);
void check_cr8(bool reserved_bits_fault);

#endif /* __ASSEMBLER__ */
#endif
