/*
 * Hypercall ABIs as data. Each ABI describes its register map, its errors and
 * a bounded table of handlers; hypercalls/dispatch.c is the one place that
 * decodes registers, truncates 32-bit callers, checks CPL, bounds the call
 * number, calls the handler, encodes the result and moves RIP.
 * Handlers never read registers and never dereference guest addresses
 * (they use core/gmem.h).
 */
#ifndef HYPERCALLS_HYPERCALL_H
#define HYPERCALLS_HYPERCALL_H

#include "core/types.h"

struct vm;
struct vcpu;
struct vm_exit;

#define HC_MAX_ARGS 6

/* A decoded call: number and arguments, already truncated for 32-bit callers. */
struct hc_args {
	uint64_t nr;
	uint64_t arg[HC_MAX_ARGS];
	bool long_mode;
};

typedef int64_t (*hc_handler_fn)(struct vcpu *v, const struct hc_args *a);

struct hc_call {
	hc_handler_fn fn;
	const char *name;
};

struct cpuid_regs { uint32_t eax, ebx, ecx, edx; };

/*
 * How calls are made. HC_CONV_REGS: number and arguments in registers
 * (nr_reg, args64/args32), the result in result_reg, RIP always moves on
 * (KVM, Xen). HC_CONV_HYPERV: the TLFS input value, input GPA and output
 * GPA (RCX, RDX, R8; or EDX:EAX, EBX:ECX, EDI:ESI outside 64-bit mode)
 * become arg[0..2]; #UD at CPL > 0 and in real mode; the result value goes
 * to RAX (EDX:EAX); RIP stays on the call when the handler says it is
 * not done (a rep call continued).
 */
enum hc_conv { HC_CONV_REGS, HC_CONV_HYPERV };

struct hc_abi {
	const char *name;
	enum hc_conv conv;
	/* HC_CONV_HYPERV: the whole call; *done false leaves RIP on the instruction */
	uint64_t (*hv_call)(struct vcpu *v, const struct hc_args *a, bool *done);
	uint8_t nr_reg;                 /* X86_* register holding the call number */
	uint8_t result_reg;
	uint8_t nargs;
	uint8_t args64[HC_MAX_ARGS];    /* argument registers in 64-bit mode */
	uint8_t args32[HC_MAX_ARGS];    /* and outside it */
	const struct hc_call *calls;    /* indexed by call number - nr_base; holes are unknown calls */
	uint32_t nr_calls;
	uint64_t nr_base;               /* the first call number (the project's extensions: not 0) */
	int64_t err_unknown;            /* result for a number with no handler */
	int64_t err_cpl;                /* result for a caller at CPL > 0 */
	int64_t err_denied;             /* result for a call the VM's policy denies */
	/* the name of call nr, NULL if it has none (HC_CONV_HYPERV: its call codes) */
	const char *(*call_name)(uint64_t nr);
	/* MSRs of this ABI: -ENOENT if `msr` is not one; -EINVAL makes the caller raise #GP. */
	int (*msr_read)(struct vcpu *v, uint32_t msr, uint64_t *val);
	int (*msr_write)(struct vcpu *v, uint32_t msr, uint64_t val);
	/* The vCPU's TSC was changed: republish any clock derived from it. */
	void (*clock_changed)(struct vcpu *v);
	/* Makes v's timers of this ABI that are due at host counter `now` fire; when the next is due, or UINT64_MAX. */
	uint64_t (*timers)(struct vcpu *v, uint64_t now);
	/* The vCPU is about to get the CPU (after waiting for it: v->steal grew). */
	void (*vcpu_scheduled)(struct vcpu *v);
	/* v's scheduling state may have changed: running, runnable, halted or not started. */
	void (*vcpu_runstate)(struct vcpu *v);
	/* The vCPU lost the CPU while still runnable (preempted, or it yielded). */
	void (*vcpu_preempted)(struct vcpu *v);
	/* The VM ended (its memory stays until it is destroyed): undo what ties other VMs to it. */
	void (*vm_ended)(struct vm *vm);
	/* Frees per-VM state when the VM is destroyed. */
	void (*vm_destroy)(struct vm *vm);
	/* Where the guest had this ABI's hypercall page written, if it did (call attribution). */
	bool (*page_gfn)(const struct vm *vm, uint64_t *gfn);
	/* Fills leaf base+off of this ABI's CPUID block; false if the leaf is not defined. */
	bool (*cpuid)(struct vcpu *v, uint32_t off, uint32_t subleaf, struct cpuid_regs *out);
};

/*
 * HC_CONV_REGS handlers: the call stopped after its budget and is to be
 * continued (Xen's hypercall continuation): no result is written, RIP
 * stays on the call instruction, and argument `arg` (an index into the
 * ABI's argument map) is set to `value`, the progress the next entry
 * resumes from. Called once per argument that changes.
 */
void hc_continue(struct vcpu *v, unsigned arg, uint64_t value);
/* Whether the running handler asked for a continuation; hc_continue_take also withdraws it. */
bool hc_continuing(const struct vcpu *v);
void hc_continue_take(struct vcpu *v, uint8_t *args, uint64_t values[HC_MAX_ARGS]);

/* Entry for every hypercall exit (VMCALL, VMMCALL, VMCALL-as-#UD, HVC). */
void hc_dispatch(struct vcpu *v, const struct vm_exit *e);

/* The hypervisor CPUID range 0x40000000-0x4000ffff as vCPU v sees it; false outside it. */
#define HC_CPUID_BASE  0x40000000u
#define HC_CPUID_LIMIT 0x4000ffffu
#define HC_CPUID_STRIDE 0x100u      /* Linux scans for signatures in steps of 0x100 */
#define HC_CPUID_EXT    0x40000f00u /* the project's own block (ext=on), clear of the ABIs' */
bool hc_cpuid(struct vcpu *v, uint32_t leaf, uint32_t subleaf, struct cpuid_regs *out);

/* The MSRs of the ABIs a VM speaks: -ENOENT when no ABI owns `msr`. */
int hc_msr_read(struct vcpu *v, uint32_t msr, uint64_t *val);
int hc_msr_write(struct vcpu *v, uint32_t msr, uint64_t val);
void hc_vm_ended(struct vm *vm);
void hc_vm_destroy(struct vm *vm);
void hc_clock_changed(struct vcpu *v);
void hc_vcpu_scheduled(struct vcpu *v);
uint64_t hc_vcpu_timers(struct vcpu *v, uint64_t now);
void hc_vcpu_preempted(struct vcpu *v);
void hc_vcpu_runstate(struct vcpu *v);
/* INIT: every ABI's per-vCPU state (paravirtual MSRs) back to its reset value. */
void hc_vcpu_init(struct vcpu *v);

/* The ABI named `name` (abi= on the command line: "kvm", "hyperv", "xen"), or NULL. */
const struct hc_abi *hc_abi_by_name(const char *name, size_t len);
/* Whether the VM speaks `abi` (a VM with no abi= speaks KVM). */
bool hc_speaks(const struct vm *vm, const struct hc_abi *abi);
/* The VM speaks these, in this order (at most HC_MAX_ABIS; the caller checked the list). */
void hc_vm_set_abis(struct vm *vm, const struct hc_abi *const *list, unsigned n);

extern const struct hc_abi kvm_abi, hyperv_abi, xen_abi;
/* The project's own calls (hypercalls/ext/), for a VM given ext=on: not an abi= choice. */
extern const struct hc_abi ext_abi;

#endif
