/*
 * CPU state a guest uses directly that no VMRUN/VM entry switches, and the
 * speculation barriers between one VM and the next.
 *
 * The x87/SSE state guests use directly. The hypervisor itself never touches
 * it (-mgeneral-regs-only), so it stays the guest's across exits; what we
 * must do is hand every new VM the state of a CPU after reset, never the
 * previous VM's (SDM vol. 1 §8.1.1 x87 init values; MXCSR 0x1f80 §10.2.3).
 * XCR0 is not switched by SVM or VMX and guests cannot change it (XSETBV
 * raises #UD): it is fixed to x87|SSE, the state fxrstor resets, matching
 * the guest CPUID that offers no AVX or XSAVE.
 */
#define LOG_SUB_FILE LOG_SUB_ARCH   /* its messages: loglevel=arch:LEVEL */
#include "core/arch.h"
#include "arch/x86/cpu.h"
#include "arch/x86/x86.h"
#include "core/string.h"
#include "core/vm.h"

#define CR0_EM (1ull << 2)
#define CR4_PKE (1ull << 22)
#define CPUID7_ECX_PKU (1u << 3)
#define CPUID7_EDX_MD_CLEAR (1u << 10)
#define CPUID7_EDX_IBRS_IBPB (1u << 26)
#define CPUID7_EDX_L1D_FLUSH (1u << 28)
#define CPUIDX8_EBX_IBPB (1u << 12)
#define MSR_IA32_PRED_CMD 0x49
#define PRED_CMD_IBPB 1ull
#define MSR_IA32_FLUSH_CMD 0x10b
#define FLUSH_CMD_L1D 1ull
#define CR4_OSXSAVE (1ull << 18)
#define CPUID1_ECX_XSAVE (1u << 26)
#define XCR0_X87_SSE 3ull

static bool host_pku;           /* the CPU has protection keys: PKRU is switched per vCPU */

/* FXSAVE image of a reset FPU: FCW 0x37f, everything empty or zero, MXCSR 0x1f80. */
static const struct {
	uint16_t fcw, fsw;
	uint8_t ftw, reserved;
	uint16_t fop;
	uint64_t fip, fdp;
	uint32_t mxcsr, mxcsr_mask;
	uint8_t rest[480];
} __attribute__((aligned(16))) reset_image = { .fcw = 0x37f, .mxcsr = 0x1f80 };
_Static_assert(sizeof(reset_image) == 512, "FXSAVE area (SDM vol. 1 table 10-2)");

/* CPUID leaf 7 subleaf 0, or zeros on a CPU whose highest basic leaf is below 7. */
static void cpuid_leaf7(uint32_t r[4])
{
	cpuid(0, 0, r);
	if (r[0] < 7)
		r[0] = r[1] = r[2] = r[3] = 0;
	else
		cpuid(7, 0, r);
}

void x86_fpu_init(void)
{
	uint32_t r[4];
	write_cr0((read_cr0() & ~CR0_EM) | X86_CR0_MP | X86_CR0_NE);
	write_cr4(read_cr4() | X86_CR4_OSFXSR | X86_CR4_OSXMMEXCPT);
	cpuid(1, 0, r);
	if (r[2] & CPUID1_ECX_XSAVE) {
		write_cr4(read_cr4() | CR4_OSXSAVE);
		__asm__ volatile("xsetbv" :: "c"(0), "a"((uint32_t)XCR0_X87_SSE), "d"(0));
	}
	cpuid_leaf7(r);
	host_pku = r[2] & CPUID7_ECX_PKU;
}

void x86_fpu_reset(void)
{
	__asm__ volatile("fninit\n\tfxrstor %0" :: "m"(reset_image));
}


/*
 * PKRU: a guest on SVM can turn CR4.PKE on (CR4 writes do not exit there)
 * and WRPKRU, and neither VMRUN nor VM entry switches it, so it is saved
 * and restored per vCPU like the FPU. RDPKRU/WRPKRU need CR4.PKE, which we
 * never keep on ourselves.
 */

static uint32_t pkru_read(void)
{
	uint32_t eax, edx;
	uint64_t cr4 = read_cr4();
	write_cr4(cr4 | CR4_PKE);
	__asm__ volatile("rdpkru" : "=a"(eax), "=d"(edx) : "c"(0));
	write_cr4(cr4);
	return eax;
}

static void pkru_write(uint32_t val)
{
	uint64_t cr4 = read_cr4();
	write_cr4(cr4 | CR4_PKE);
	__asm__ volatile("wrpkru" :: "a"(val), "c"(0), "d"(0));
	write_cr4(cr4);
}

/*
 * Between two VMs, leave nothing in the branch predictors, L1D or CPU
 * buffers for the next one to sample (IBPB; L1D flush or VERW where the CPU
 * has them: SDM vol. 4 IA32_PRED_CMD / IA32_FLUSH_CMD, Intel's MDS guidance).
 */
static void speculation_barrier(void)
{
	uint32_t r[4], x[4] = { 0 };
	cpuid(0x80000000, 0, x);
	bool ext = x[0] >= 0x80000008;
	if (ext)
		cpuid(0x80000008, 0, x);
	cpuid_leaf7(r);
	if ((r[3] & CPUID7_EDX_IBRS_IBPB) || (ext && (x[1] & CPUIDX8_EBX_IBPB)))
		wrmsr(MSR_IA32_PRED_CMD, PRED_CMD_IBPB);
	if (r[3] & CPUID7_EDX_L1D_FLUSH)
		wrmsr(MSR_IA32_FLUSH_CMD, FLUSH_CMD_L1D);
	if (r[3] & CPUID7_EDX_MD_CLEAR) {
		uint16_t ds;
		__asm__ volatile("mov %%ds, %0; verw %0" : "=r"(ds) :: "cc");
	}
}

void x86_vcpu_state_init(struct vcpu *v)
{
	struct x86_unswitched *u = &v->arch.saved;
	memcpy(u->fxsave, &reset_image, sizeof(u->fxsave));
	memset(u->dr, 0, sizeof(u->dr));
	u->dr6 = X86_DR6_INIT;
	u->cr2 = 0;
	u->pkru = 0;
}

static struct vcpu *loaded;      /* whose values the CPU holds */

static void save_unswitched(struct vcpu *v)
{
	struct x86_unswitched *u = &v->arch.saved;
	__asm__ volatile("fxsave64 %0" : "=m"(u->fxsave));   /* 64-bit FIP/FDP of a 64-bit guest */
	__asm__ volatile("mov %%db0, %0" : "=r"(u->dr[0]));
	__asm__ volatile("mov %%db1, %0" : "=r"(u->dr[1]));
	__asm__ volatile("mov %%db2, %0" : "=r"(u->dr[2]));
	__asm__ volatile("mov %%db3, %0" : "=r"(u->dr[3]));
	__asm__ volatile("mov %%db6, %0" : "=r"(u->dr6));
	u->cr2 = read_cr2();
	if (host_pku)
		u->pkru = pkru_read();
}
static unsigned loaded_vm_id;    /* and its VM's, still known after it is freed */
static bool any_loaded;

void x86_vcpu_forget(struct vcpu *v)
{
	if (loaded == v)
		loaded = NULL;
}

/*
 * INIT (SDM vol. 3A table 9-1): DR0-3 0, DR6 and CR2 reset; x87/SSE state
 * is kept. When v's values are the ones in the CPU they are saved first.
 */
void x86_vcpu_init_unswitched(struct vcpu *v)
{
	if (loaded == v) {
		save_unswitched(v);
		loaded = NULL;
	}
	struct x86_unswitched *u = &v->arch.saved;
	memset(u->dr, 0, sizeof(u->dr));
	u->dr6 = X86_DR6_INIT;
	u->cr2 = 0;
}

/* XMM0 in the FXSAVE image (SDM vol. 1 table 10-2); the guest's registers are the CPU's while v is loaded. */
#define FXSAVE_XMM0 160

void arch_guest_xmm_read(struct vcpu *v, unsigned n, uint64_t *q)
{
	struct x86_unswitched *u = &v->arch.saved;
	if (loaded == v)
		__asm__ volatile("fxsave64 %0" : "=m"(u->fxsave));
	memcpy(q, u->fxsave + FXSAVE_XMM0, MIN(n, 16u) * 16);
}

void arch_guest_xmm_write(struct vcpu *v, unsigned n, const uint64_t *q)
{
	struct x86_unswitched *u = &v->arch.saved;
	if (loaded == v)
		__asm__ volatile("fxsave64 %0" : "=m"(u->fxsave));
	memcpy(u->fxsave + FXSAVE_XMM0, q, MIN(n, 16u) * 16);
	if (loaded == v)
		__asm__ volatile("fxrstor64 %0" :: "m"(u->fxsave));
}

/* The guest's CR2 (VMX: the CPU's while v is loaded; SVM keeps it in the VMCB). */
uint64_t x86_vcpu_cr2(struct vcpu *v)
{
	return loaded == v ? read_cr2() : v->arch.saved.cr2;
}

void x86_vcpu_load(struct vcpu *v)
{
	if (loaded == v)
		return;
	if (loaded)
		save_unswitched(loaded);
	if (!any_loaded || loaded_vm_id != v->vm->id)
		speculation_barrier();   /* another VM had this CPU: nothing of it may stay to sample */
	const struct x86_unswitched *u = &v->arch.saved;
	/* FNINIT first: AMD's FXRSTOR leaves FIP/FDP/FOP alone when no exception is pending */
	__asm__ volatile("fninit\n\tfxrstor64 %0" :: "m"(u->fxsave));
	__asm__ volatile("mov %0, %%db0" :: "r"(u->dr[0]));
	__asm__ volatile("mov %0, %%db1" :: "r"(u->dr[1]));
	__asm__ volatile("mov %0, %%db2" :: "r"(u->dr[2]));
	__asm__ volatile("mov %0, %%db3" :: "r"(u->dr[3]));
	__asm__ volatile("mov %0, %%db6" :: "r"(u->dr6));
	write_cr2(u->cr2);
	if (host_pku)
		pkru_write(u->pkru);
	loaded = v;
	loaded_vm_id = v->vm->id;
	any_loaded = true;
}
