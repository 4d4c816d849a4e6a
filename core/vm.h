/* Virtual machines and their vCPUs. */
#ifndef CORE_VM_H
#define CORE_VM_H

#include "core/types.h"
#include <arch/regs.h>
#include <arch/vcpu_arch.h>
#include "hypercalls/abi_state.h"

#define VM_MAX_VMS 16
#define VM_MAX_VCPUS 8
#define VM_MAX_SLOTS 4
#define VM_NAME_MAX 32
#define VM_CON_LINE_MAX 160

#define SLOT_READONLY 1u

/* A range of guest-physical RAM backed by host memory. */
struct vm_slot {
	uint64_t gpa;
	uint64_t size;
	hpa_t hpa;
	uint8_t *hva;              /* arch_phys_to_virt(hpa) */
	uint32_t flags;
};

/*
 * A page of another VM mapped into this one at `gfn` (a Xen grant map):
 * the stage-2 tables and the guest-memory gate both see the other VM's
 * page there. The other VM's memory outlives the map: VMs are destroyed
 * only once all have ended.
 */
#define VM_MAX_FOREIGN 128
struct vm_foreign {
	uint64_t gfn;
	bool writable;
	uint8_t *hva;
	struct vm *owner;          /* NULL: a hypervisor page */
	uint64_t owner_gfn;
};

enum vm_state { VM_CREATED, VM_RUNNING, VM_ENDED };

/* How a VM ended; only VM_END_EXIT with status 0 counts as success. */
enum vm_end {
	VM_END_NONE,
	VM_END_EXIT,        /* guest wrote its status to the exit port */
	VM_END_TRIPLE_FAULT,
	VM_END_MEM_FAULT,
	VM_END_HALTED,      /* HLT with nothing that could ever wake it */
	VM_END_ERROR,       /* hypervisor-side failure for this VM */
	VM_END_LOAD_FAILED,
	VM_END_GUEST_CRASH, /* the guest reported a crash (Hyper-V CRASH_CTL) */
	VM_END_RESET,       /* the guest asked for a reset (Hyper-V RESET MSR) */
};

/*
 * Scheduling state (core/sched.c). An AP starts in VCPU_WAIT_SIPI until
 * another vCPU starts it (x86: INIT, then a startup IPI). VCPU_DOWN: taken
 * offline, or given its state but not started, by a paravirtual CPU call
 * (Xen VCPUOP_down, VCPUOP_initialise): it runs again when brought up.
 */
enum vcpu_state { VCPU_WAIT_SIPI, VCPU_RUNNABLE, VCPU_HALTED, VCPU_DOWN };

struct vcpu {
	struct vm *vm;
	unsigned id;
	enum vcpu_state state;
	bool pv_unhalt;            /* kicked (KVM_HC_KICK_CPU): its next halt ends at once */
	uint64_t ready_since;      /* host counter when it became runnable but not running */
	uint64_t steal;            /* host counter ticks spent runnable but not running */
	struct guest_regs regs;
	struct vcpu_arch arch;
	struct hc_vcpu_state hc;
	uint64_t nr_exits;
	uint64_t nr_slices;        /* times it got the CPU */
};

struct vm {
	unsigned id;
	char name[VM_NAME_MAX];
	uint64_t mem_size;
	/* guest RAM is as pmm_alloc left it, all zero, with nothing written yet (elf_load skips the bss then) */
	bool ram_untouched;
	struct vm_slot slots[VM_MAX_SLOTS];
	unsigned nr_slots;
	/* pages of guest RAM taken out of the VM (ballooned: core/gmem.h), a bit per GFN */
	uint64_t *removed;
	uint64_t removed_bits, nr_removed;
	/* pages the guest made private (core/gmem.h): the hypervisor does not touch them; a bit per GFN */
	uint64_t *private_map;
	uint64_t nr_private;
	struct vm_foreign foreign[VM_MAX_FOREIGN];
	unsigned nr_foreign;       /* entries in use, packed at the start */
	bool arch_ready;           /* arch_vm_init succeeded: arch_vm_destroy is owed */
	unsigned nr_vcpus;
	struct vcpu *vcpus[VM_MAX_VCPUS];
	struct vcpu *yield_to;     /* runs next (a directed yield), if still runnable */
	struct vcpu *woken;        /* then this one: it just woke up */
	struct vcpu *yield_target; /* picked for a directed yield: its slice is not cut by wake-ups */
	struct vcpu *running;      /* the vCPU in its slice, if any */
	unsigned sched_prev;       /* the vCPU that ran last (round-robin) */
	enum vm_state state;
	enum vm_end end;
	uint32_t exit_status;
	char end_reason[256];      /* room for an image path and a loader reason */
	struct vm_arch arch;
	struct hc_vm_state hc;
	uint64_t clock_base;       /* host counter when the VM's clock read 0 (its creation) */
	/* guest COM1 output is collected into lines so VMs never interleave mid-line */
	char con_line[VM_CON_LINE_MAX];
	unsigned con_len;
	uint64_t nr_hypercalls;
};

/* Ends the VM (once: later calls are ignored) and reports why on the console. */
void vm_end(struct vm *vm, enum vm_end how, uint32_t status, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static inline bool vm_ended(const struct vm *vm) { return vm->state == VM_ENDED; }
/* One byte the guest wrote to its console. */
void vm_console_putc(struct vm *vm, char c);
/* Flushes a partial console line (when the VM ends). */
void vm_console_flush(struct vm *vm);
const char *vm_end_name(enum vm_end how);
/* The table of VMs that exist (vm_create .. vm_destroy); vm_find: the VM with that id, or NULL. */
void vm_register(struct vm *vm);
void vm_unregister(struct vm *vm);
struct vm *vm_find(unsigned id);

#endif
