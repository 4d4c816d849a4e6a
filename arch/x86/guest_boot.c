/*
 * Puts vCPU 0 of a new VM in the entry state its image format asks for and
 * writes the boot area. The contract is docs/guest-boot.md; the start info is
 * Xen's PVH layout (xen/include/public/arch-x86/hvm/start_info.h).
 */
#define LOG_SUB_FILE LOG_SUB_ARCH   /* its messages: loglevel=arch:LEVEL */
#include "arch/x86/cpu.h"
#include "arch/x86/vendor.h"
#include "arch/x86/x86.h"
#include "core/arch.h"
#include "core/elf.h"
#include "core/gmem.h"
#include "core/log.h"
#include "core/selftest.h"
#include "core/string.h"
#include "core/vm.h"
#include "hypercalls/hypercall.h"

#define BOOT_PML4 0x1000
#define BOOT_PDPT 0x2000
#define BOOT_PD 0x3000          /* four page directories: 0-4 GiB */
#define BOOT_GDT 0x7000
#define BOOT_START_INFO 0x8000
#define BOOT_MODLIST 0x8400      /* hvm_modlist_entry[], 32 bytes each */
#define BOOT_MEMMAP 0x8800
#define BOOT_CMDLINE 0x9000
#define BOOT_CMDLINE_MAX (ARCH_GUEST_BOOT_AREA_END - BOOT_CMDLINE)

#define SEL_CODE64 0x08
#define SEL_DATA 0x10
#define SEL_CODE32 0x18

/* start_info.h */
#define XEN_HVM_START_MAGIC_VALUE 0x336ec578u
#define XEN_HVM_MEMMAP_TYPE_RAM 1

struct hvm_start_info {
	uint32_t magic, version, flags, nr_modules;
	uint64_t modlist_paddr, cmdline_paddr, rsdp_paddr;
	uint64_t memmap_paddr;
	uint32_t memmap_entries, reserved;
};
struct hvm_memmap_table_entry { uint64_t addr, size; uint32_t type, reserved; };
struct hvm_modlist_entry { uint64_t paddr, size, cmdline_paddr, reserved; };
_Static_assert(sizeof(struct hvm_modlist_entry) == 32, "start_info.h module entry");
_Static_assert(sizeof(struct hvm_start_info) == 56, "start_info.h: version 1 is 56 bytes");
_Static_assert(sizeof(struct hvm_memmap_table_entry) == 24, "start_info.h memmap entry");

/* GDT entries (SDM vol. 3A §3.4.5): flat, DPL 0. */
static const uint64_t boot_gdt[] = {
	0,
	0x00af9b000000ffffull,  /* 0x08: 64-bit code */
	0x00cf93000000ffffull,  /* 0x10: data */
	0x00cf9b000000ffffull,  /* 0x18: 32-bit code */
};

/* Access rights as in the GDT above, VMX layout (arch/x86/vendor.h). */
#define AR_CODE64 0xa09bu
#define AR_CODE32 0xc09bu
#define AR_DATA   0xc093u
#define AR_TSS_BUSY 0x008bu
#define AR_LDT_NONE X86_AR_UNUSABLE

static int write_identity_map(struct vm *vm)
{
	/* PML4 -> PDPT -> 4 PDs of 2 MiB pages; present, writable, user (bits 0-2), PS (bit 7) */
	uint64_t e = BOOT_PDPT | 7;
	int r = gmem_write(vm, mk_gpa(BOOT_PML4), &e, 8);
	for (uint64_t i = 0; !r && i < 4; i++) {
		e = (BOOT_PD + i * PAGE_SIZE) | 7;
		r = gmem_write(vm, mk_gpa(BOOT_PDPT + i * 8), &e, 8);
	}
	/* 64 entries per guest-memory write, not one */
	uint64_t pd[64];
	for (uint64_t t = 0; !r && t < 4 * 512 / 64; t++) {
		for (uint64_t i = 0; i < 64; i++)
			pd[i] = ((t * 64 + i) << 21) | 0x87;
		r = gmem_write(vm, mk_gpa(BOOT_PD + t * sizeof(pd)), pd, sizeof(pd));
	}
	return r;
}

static int write_start_info(struct vm *vm, const struct guest_image *img)
{
	const char *cmdline = img->cmdline;
	size_t len = MIN(strlen(cmdline), BOOT_CMDLINE_MAX - 1);
	struct hvm_memmap_table_entry ram = { 0, vm->mem_size, XEN_HVM_MEMMAP_TYPE_RAM, 0 };
	struct hvm_start_info si = {
		.magic = XEN_HVM_START_MAGIC_VALUE, .version = 1,
		.nr_modules = img->nr_modules, .modlist_paddr = img->nr_modules ? BOOT_MODLIST : 0,
		.cmdline_paddr = BOOT_CMDLINE,
		.memmap_paddr = BOOT_MEMMAP, .memmap_entries = 1,
	};
	for (unsigned i = 0; i < img->nr_modules; i++) {
		struct hvm_modlist_entry m = { img->modules[i].paddr, img->modules[i].size, 0, 0 };
		if (gmem_write(vm, mk_gpa(BOOT_MODLIST + i * sizeof(m)), &m, sizeof(m)))
			return -EFAULT;
	}
	return gmem_write(vm, mk_gpa(BOOT_START_INFO), &si, sizeof(si)) ||
	       gmem_write(vm, mk_gpa(BOOT_MEMMAP), &ram, sizeof(ram)) ||
	       gmem_write(vm, mk_gpa(BOOT_CMDLINE), cmdline, len) ||
	       gmem_zero(vm, mk_gpa(BOOT_CMDLINE + len), 1) ? -EFAULT : 0;
}

int arch_vcpu_boot(struct vcpu *v, const struct guest_image *img)
{
	struct vm *vm = v->vm;
	bool is64 = img->kind == IMAGE_ELF64;
	if (gmem_write(vm, mk_gpa(BOOT_GDT), boot_gdt, sizeof(boot_gdt)) ||
	    write_start_info(vm, img) || (is64 && write_identity_map(vm)))
		return -EFAULT;

	struct x86_seg data = { SEL_DATA, AR_DATA, UINT32_MAX, 0 };
	struct x86_cpu_state s = {
		.cs = { is64 ? SEL_CODE64 : SEL_CODE32, is64 ? AR_CODE64 : AR_CODE32, UINT32_MAX, 0 },
		.ds = data, .es = data, .ss = data, .fs = data, .gs = data,
		.tr = { 0, AR_TSS_BUSY, 0x67, 0 },
		.ldtr = { 0, AR_LDT_NONE, 0, 0 },
		.gdtr = { BOOT_GDT, sizeof(boot_gdt) - 1 },
		.idtr = { 0, 0 },
		.cr0 = X86_CR0_PE | X86_CR0_ET | X86_CR0_NE | (is64 ? X86_CR0_PG | X86_CR0_WP : 0),
		.cr3 = is64 ? BOOT_PML4 : 0,
		.cr4 = is64 ? X86_CR4_PAE : 0,
		.efer = is64 ? X86_EFER_LME | X86_EFER_LMA : 0,
	};
	if (hv_selftest == SELFTEST_BAD_ENTRY && is64)
		s.cr4 &= ~X86_CR4_PAE;  /* long mode without PAE: both vendors must refuse the entry */
	memset(&v->regs, 0, sizeof(v->regs));
	v->regs.gpr[X86_RBX] = BOOT_START_INFO;
	if (is64)
		v->regs.gpr[X86_RDI] = BOOT_START_INFO;
	v->regs.rip = img->entry;
	v->regs.rflags = X86_RFLAGS_FIXED;
	return x86_vendor->set_state(v, &s);
}

/*
 * INIT (SDM vol. 3A table 9-1; KVM kvm_vcpu_reset with init_event): no
 * event pending or queued, no NMI blocking, debug registers and CR2 at
 * their reset values, the x87/SSE state kept, and the paravirtual MSRs
 * (kvmclock, steal time, PV EOI) off, so the hypervisor writes nothing
 * more into memory the restarted CPU's kernel may now use otherwise.
 */
void x86_vcpu_init_event(struct vcpu *v)
{
	x86_vendor->init_event(v);
	x86_vcpu_init_unswitched(v);
	v->arch.insn_skipped = false;
	v->arch.nmi_blocked = false;
	arch_set_pv_eoi(v, 0, false);
	memset(v->arch.auto_eoi, 0, sizeof(v->arch.auto_eoi));   /* the SINTs that asked for it are reset too */
	hc_vcpu_init(v);
}

/* Real-mode segments after INIT (SDM vol. 3A table 9-1): limit 64 KiB, present, accessed. */
#define AR_REAL_CODE 0x9bu
#define AR_REAL_DATA 0x93u
#define AR_LDT 0x82u
#define CR0_AFTER_INIT (X86_CR0_CD | X86_CR0_NW | X86_CR0_ET)

int arch_vcpu_set_context(struct vcpu *v, const struct arch_vcpu_context *c)
{
	/* the 12 bits of attributes (AVL, L, D/B, G in 8-11) into the VMX layout (12-15) */
#define SEG(s) { 0, (c->s.attr & 0xffu) | (uint32_t)(c->s.attr & 0xf00u) << 4, c->s.limit, c->s.base }
	struct x86_seg data = { 0, AR_REAL_DATA, 0xffff, 0 };
	struct x86_cpu_state s = {
		.cs = SEG(cs), .ds = SEG(ds), .es = SEG(es), .ss = SEG(ss), .tr = SEG(tr),
		.fs = data, .gs = data,                     /* as INIT left them */
		.ldtr = { 0, AR_LDT, 0xffff, 0 },
		.gdtr = { 0, 0xffff },
		.idtr = { 0, 0xffff },
		.cr0 = c->cr0, .cr3 = c->cr3, .cr4 = c->cr4, .efer = c->efer,
	};
#undef SEG
	static const uint8_t order[8] = { X86_RAX, X86_RCX, X86_RDX, X86_RBX, X86_RSP, X86_RBP, X86_RSI, X86_RDI };
	memset(&v->regs, 0, sizeof(v->regs));
	for (unsigned i = 0; i < 8; i++)
		v->regs.gpr[order[i]] = c->gpr[i];
	v->regs.rip = c->rip;
	v->regs.rflags = c->rflags;
	return x86_vendor->set_state(v, &s);
}

/*
 * A startup IPI: the AP starts in real mode with CS selector vector << 8,
 * base vector << 12 and IP 0 (SDM vol. 3A §8.4.4.1 and table 9-1); EDX
 * holds the processor signature (CPUID.1:EAX) as after INIT.
 */
int x86_vcpu_start_at_sipi(struct vcpu *v, uint8_t vector)
{
	struct x86_seg data = { 0, AR_REAL_DATA, 0xffff, 0 };
	struct x86_cpu_state s = {
		.cs = { (uint16_t)(vector << 8), AR_REAL_CODE, 0xffff, (uint64_t)vector << 12 },
		.ds = data, .es = data, .ss = data, .fs = data, .gs = data,
		.tr = { 0, AR_TSS_BUSY, 0xffff, 0 },
		.ldtr = { 0, AR_LDT, 0xffff, 0 },
		.gdtr = { 0, 0xffff },
		.idtr = { 0, 0xffff },
		.cr0 = CR0_AFTER_INIT,
	};
	uint32_t sig[4];
	x86_guest_cpuid(v, 1, 0, sig);
	memset(&v->regs, 0, sizeof(v->regs));
	v->regs.gpr[X86_RDX] = sig[0];
	v->regs.rflags = X86_RFLAGS_FIXED;
	int r = x86_vendor->set_state(v, &s);
	if (r && !v->vm->arch.warned_no_ap_start) {
		/* once per VM: a guest must not be able to fill the log with SIPIs */
		v->vm->arch.warned_no_ap_start = true;
		pr_warn("%s: vcpu%u: this CPU cannot start an AP in real mode (no unrestricted guest)\n",
		        v->vm->name, v->id);
	}
	return r;
}
