/*
 * The host stand-in for arch/x86 (core/arch.h), plus the helpers the unit
 * tests use to build machines, VMs and exit scripts around it.
 *
 * Host-physical memory is one arena presented at [FAKE_PHYS_BASE,
 * FAKE_PHYS_BASE + FAKE_PHYS_SIZE); touching anything else through
 * arch_phys_to_virt() fails the running test.
 */
#ifndef TESTS_FAKE_ARCH_H
#define TESTS_FAKE_ARCH_H

#include "core/arch.h"
#include "core/boot_info.h"
#include "core/elf.h"
#include "core/exit.h"
#include "core/pmm.h"
#include "core/types.h"
#include "core/vm.h"

#define FAKE_PHYS_BASE 0x1000000ull
#define FAKE_PHYS_SIZE MiB(64)
#define FAKE_PHYS_END  (FAKE_PHYS_BASE + FAKE_PHYS_SIZE)

/*
 * The fake machine's memory map (fake_boot_info). Usable RAM is [0, 0x9f000)
 * (which pmm must refuse: it is below 1 MiB) and the whole arena; inside the
 * arena, firmware also reports a reserved block, an ACPI table that does not
 * start on a page boundary and an NVS block straddling the arena's end.
 */
#define FAKE_LOW_USABLE_END 0x9f000ull
#define FAKE_RSVD_BASE (FAKE_PHYS_BASE + MiB(8))
#define FAKE_RSVD_LEN  KiB(64)
#define FAKE_ACPI_BASE (FAKE_PHYS_BASE + MiB(16) + 0x800)
#define FAKE_ACPI_LEN  0x1000ull          /* touches two frames */
#define FAKE_NVS_BASE  (FAKE_PHYS_END - KiB(8))
#define FAKE_NVS_LEN   KiB(16)

/* What fake_pmm_setup() excludes: the "hypervisor image" and the module window. */
#define FAKE_IMAGE_BASE (FAKE_PHYS_BASE + MiB(2))
#define FAKE_IMAGE_LEN  (MiB(1) + 0x123)  /* ends mid-page */
#define FAKE_MOD_BASE   (FAKE_PHYS_BASE + MiB(48))
#define FAKE_MOD_LEN    MiB(8)

/* ---- console ---- */
void fake_console_reset(void);
/*
 * Everything printed since the last reset, with the serial CRs removed.
 * FAKE_CONSOLE_ECHO=1 in the environment also copies the console to stderr.
 */
const char *fake_console_text(void);
bool fake_console_has(const char *needle);
/* Occurrences of `needle` in the captured text. */
unsigned fake_console_count(const char *needle);
/* The CRs removed from the text since the last reset (one per line on a serial console). */
unsigned fake_console_crs(void);

/* ---- host-physical memory ---- */
/* Host pointer for hpa without the range check (for assertions only). */
uint8_t *fake_phys_ptr(hpa_t pa);
void fake_phys_fill(uint8_t byte);

/* ---- boot info and the page allocator ---- */
void fake_boot_info(struct boot_info *bi);
/*
 * Copies `data` into the module window and adds a module with `cmdline`.
 * Returns the module (inside *bi).
 */
const struct boot_module *fake_boot_add_module(struct boot_info *bi, const void *data,
                                               size_t len, const char *cmdline);
/* pmm_init over fake_boot_info's map, excluding the image and module window. */
void fake_pmm_setup(struct boot_info *bi);
/* Takes every free page (allocations then fail); fake_pmm_give_back (and fake_cleanup) return them. */
void fake_pmm_exhaust(void);
void fake_pmm_give_back(void);

/* ---- recorded arch calls and switches ---- */
#define FAKE_MAX_EVENTS 32

struct fake_apic_write { unsigned vcpu; uint32_t off, val; };
struct fake_page_set { uint64_t gpa; bool present; };
struct fake_page_map { uint64_t gpa; bool writable, present; };
#define FAKE_MAX_RUNS 64

struct fake_arch_state {
	unsigned vm_init, vm_destroy, vcpu_init, vcpu_destroy, vcpu_boot;
	unsigned handle_exit, dump, inject_undef;
	int fail_vm_init, fail_vcpu_init, fail_vcpu_boot;  /* -errno to return, 0: succeed */
	unsigned fail_vcpu_init_after;                     /* vcpu inits that succeed before fail_vcpu_init applies */
	struct guest_image boot_img;
	char boot_cmdline[BOOT_MOD_CMDLINE_MAX];
	const struct vcpu *boot_vcpu;
	enum vm_exit_reason handled[FAKE_MAX_EVENTS];      /* reasons given to arch_handle_exit */
	const struct vcpu *undef_vcpu[FAKE_MAX_EVENTS];    /* who got a #UD, in order */
	/* called by arch_handle_exit after recording, e.g. to end the VM like a port write would */
	void (*exit_hook)(struct vcpu *v, struct vm_exit *e);
	char exit_method[16];
	unsigned script_len, script_pos;
	unsigned script_overrun;                           /* arch_vcpu_run calls past the end */
	/* scheduler hooks: which vCPUs have a wake-up pending (bit per id), their timers */
	uint32_t can_wake;
	uint64_t timer_due[VM_MAX_VCPUS];                  /* host counter, 0: none */
	uint64_t run_deadline;                             /* the last arch_vcpu_run's */
	unsigned idle_calls;
	/* arch_send_ipi: per target vCPU id, IPIs accepted and the last ICR; refuse mask */
	unsigned ipis[VM_MAX_VCPUS];
	uint32_t ipi_icr[VM_MAX_VCPUS];
	uint32_t ipi_refuse;
	uint64_t pv_eoi_gpa[VM_MAX_VCPUS];                 /* arch_set_pv_eoi */
	bool pv_eoi_on[VM_MAX_VCPUS];
	unsigned init_events;                              /* x86_vcpu_init_event */
	unsigned tlb_flushes[VM_MAX_VCPUS];                /* arch_flush_guest_tlb */
	uint64_t counter_step;                             /* added to fake.counter at each reading */
	uint32_t apic_regs[VM_MAX_VCPUS][64];              /* arch_apic_reg_read/write, by offset / 16 */
	struct fake_apic_write apic_write_log[FAKE_MAX_EVENTS];
	uint64_t xmm[VM_MAX_VCPUS][6][2];                  /* arch_guest_xmm_read/write */
	unsigned xmm_reads, xmm_writes;                    /* calls */
	struct arch_ctrl_regs ctrl[VM_MAX_VCPUS];          /* arch_vcpu_ctrl_regs */
	uint32_t auto_eoi[VM_MAX_VCPUS][8];                /* arch_set_auto_eoi */
	struct fake_page_set page_set_log[FAKE_MAX_EVENTS]; /* arch_guest_page_set, in order */
	unsigned page_sets;
	unsigned fail_page_set_after;                      /* arch_guest_page_set: page_sets that succeed before fail_page_set applies */
	const char *console_input;                         /* arch_console_getc: bytes typed, in order */
	unsigned cache_cleans;                             /* arch_cache_clean calls, and bytes */
	uint64_t cache_cleaned;
	struct arch_vcpu_context context[VM_MAX_VCPUS];    /* arch_vcpu_set_context */
	unsigned set_contexts;
	int fail_set_context;
	struct fake_page_map page_map_log[FAKE_MAX_EVENTS]; /* arch_guest_page_map, in order */
	unsigned page_maps;
	int fail_page_set;                                 /* -errno to return, 0: succeed */
	unsigned phys_bits;                                /* arch_guest_page_map: -EINVAL from 2^phys_bits up (0: any) */
	bool virt_fault;                                   /* arch_guest_virt_to_phys fails */
	unsigned apic_writes;
	uint64_t counter;                                  /* what arch_read_counter returns */
	bool counter_stable;                               /* arch_counter_is_stable */
	/* arch_vcpu_run, per call (the first FAKE_MAX_RUNS): which vCPU ran, with which deadline */
	unsigned runs;
	unsigned ran[FAKE_MAX_RUNS];
	unsigned ran_vm[FAKE_MAX_RUNS];                    /* and its VM's id */
	uint64_t ran_deadline[FAKE_MAX_RUNS];
	/* x86_vcpu_start_at_sipi (arch/x86/vlapic.c): calls, the last vCPU and vector */
	unsigned sipi_calls;
	const struct vcpu *sipi_vcpu;
	uint8_t sipi_vector;
	int fail_sipi;                                     /* -errno to return, 0: succeed */
	/* arch_vcpu_by_irq_id: with irq_id_map, vCPU i has controller ID irq_id[i]; else its index */
	bool irq_id_map;
	uint32_t irq_id[VM_MAX_VCPUS];
};

extern struct fake_arch_state fake;

/* Forgets every recorded call, switch and scripted exit. */
void fake_arch_reset(void);

/* ---- scripted exits for vcpu_run_loop ---- */
/* Queues the next exit arch_vcpu_run returns; `regs` (may be NULL) is loaded first. */
void fake_script_exit(const struct vm_exit *e, const struct guest_regs *regs);
/*
 * The exit queued last takes `ticks` of guest time: fake.counter moves on by
 * that much when arch_vcpu_run hands it out (how a test makes slices end).
 */
void fake_script_advance(uint64_t ticks);

/* ---- a VM with slots built from heap buffers (no pmm) ---- */
struct vm *fake_vm_new(void);
/* Adds a slot filled with `fill`; returns its host buffer. */
uint8_t *fake_vm_add_slot(struct vm *vm, uint64_t gpa, uint64_t size, uint32_t flags, uint8_t fill);
/* Like fake_vm_add_slot but the host buffer is `backing` bytes (>= size) long. */
uint8_t *fake_vm_add_slot_backed(struct vm *vm, uint64_t gpa, uint64_t size, uint64_t backing,
                                 uint32_t flags, uint8_t fill);
/* Host pointer for gpa, found by walking the slots directly (not through gmem). */
uint8_t *fake_vm_hva(struct vm *vm, uint64_t gpa);
struct vcpu *fake_vcpu_new(struct vm *vm);
/* Frees the VM, its slot buffers and the vCPUs made by fake_vcpu_new. */
void fake_vm_free(struct vm *vm);

/*
 * Heap memory that fake_cleanup() frees: a failing assertion leaves the test
 * early, and LeakSanitizer would otherwise turn that into a second failure.
 */
void *fake_scratch(size_t n);
/* Frees every fake VM not yet freed and all scratch memory. */
void fake_cleanup(void);

#endif
