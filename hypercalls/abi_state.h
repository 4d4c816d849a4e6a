/*
 * What the hypercall ABIs remember per VM and per vCPU. Embedded in struct vm
 * and struct vcpu (core/vm.h); only hypercalls/ reads or writes it.
 */
#ifndef HYPERCALLS_ABI_STATE_H
#define HYPERCALLS_ABI_STATE_H

#include <stdbool.h>
#include <stdint.h>

struct kvm_vm_state {
	uint64_t wall_clock_msr;       /* last MSR_KVM_WALL_CLOCK(_NEW) value */
	uint64_t migration_control;    /* MSR_KVM_MIGRATION_CONTROL */
	uint64_t *encrypted;           /* MAP_GPA_RANGE: one bit per guest page, 1 = encrypted */
	uint64_t encrypted_pa;         /* its pages, for freeing */
	uint64_t nr_encrypted;         /* pages currently marked encrypted */
};

struct kvm_vcpu_state {
	uint64_t system_time_msr;      /* last MSR_KVM_SYSTEM_TIME(_NEW) value */
	uint64_t poll_control;         /* MSR_KVM_POLL_CONTROL, inverted: 0 means the reset value 1 */
	uint64_t steal_time_msr;       /* MSR_KVM_STEAL_TIME */
	uint64_t pv_eoi_msr;           /* MSR_KVM_PV_EOI_EN */
	uint64_t steal_reported;       /* v->steal (host ticks) already added to the guest's record */
};

/* Hyper-V (TLFS "Partition" and "Hypercall interface" MSRs). */
struct hv_vm_state {
	uint64_t guest_os_id;          /* HV_X64_MSR_GUEST_OS_ID */
	uint64_t hypercall;            /* HV_X64_MSR_HYPERCALL */
	uint64_t reference_tsc;        /* HV_X64_MSR_REFERENCE_TSC */
	uint32_t tsc_sequence;         /* the last sequence written into the TSC page */
	uint64_t crash[5];             /* HV_X64_MSR_CRASH_P0..P4 */
};

/* A synthetic timer (TLFS "Synthetic Timers"). */
struct hv_stimer {
	uint64_t config, count;        /* HV_X64_MSR_STIMERn_CONFIG / _COUNT */
	uint64_t due;                  /* reference time (100 ns) it fires next; 0: not armed */
	bool msg_pending;              /* fired, its message waits for the SINT's slot */
	uint64_t pending_exp;          /* that message's expiration time */
};

/* PostMessage buffers per vCPU: a message waits here while its SINT slot is full. */
#define HV_MSG_QUEUE_LEN 4

struct hv_queued_message {
	bool used;
	uint8_t sint;
	uint8_t bytes[256];            /* a struct hv_message */
};

struct hv_vcpu_state {
	uint64_t vp_assist;            /* HV_X64_MSR_VP_ASSIST_PAGE */
	uint64_t scontrol, siefp, simp;
	uint64_t sint[16];
	struct hv_stimer stimer[4];
	/* the earliest timer's host counter time, kept until a timer changes (0 with dirty false: recompute) */
	uint64_t stimer_next_at;
	bool stimer_dirty;
	struct hv_queued_message queue[HV_MSG_QUEUE_LEN];
};

/* Xen (xen/include/public: event_channel.h, vcpu.h, hvm/params.h). */
#define XEN_NR_EVTCHN 1024             /* ports 0..1023 (xl's default max_event_channels is 1023) */
#define XEN_NR_VIRQS  24

struct xen_evtchn {
	uint8_t state;                 /* EVTCHNSTAT_*: closed, unbound, interdomain, pirq, virq, ipi */
	uint8_t virq;
	uint16_t notify_vcpu;          /* the vCPU its events go to */
	uint16_t remote_dom;           /* unbound: who may bind it */
	uint16_t peer;                 /* interdomain: the port at the other end */
};

/*
 * A grant table, version 1 (grant_table.h): frames of 512 8-byte entries
 * in hypervisor pages, placed in the guest by add_to_physmap; and the
 * maptrack: the grants of other domains this one has mapped, by handle.
 */
#define XEN_GNTTAB_MAX_FRAMES 32       /* query_size's max_nr_frames (libxl's default before Xen 4.13) */
#define XEN_MAPTRACK_MAX 96            /* handles; the rest of VM_MAX_FOREIGN holds the table's frames */
#define XEN_NO_GFN UINT64_MAX

struct xen_maptrack {
	bool used;
	bool readonly;
	uint16_t dom;                  /* the granting domain */
	uint32_t ref;
	uint64_t gfn;                  /* where it is mapped (host_addr >> 12) */
	uint64_t frame;                /* the granter's page (the entry's frame when it was mapped) */
};

struct xen_gnttab {
	uint8_t nr_frames;             /* the table's size; 0 until first used, then at least 1 (Xen's initial) */
	uint64_t frame_hpa[XEN_GNTTAB_MAX_FRAMES];
	uint64_t frame_gfn[XEN_GNTTAB_MAX_FRAMES];   /* where the guest placed it, XEN_NO_GFN: nowhere */
	struct xen_maptrack map[XEN_MAPTRACK_MAX];
};

struct xen_vm_state {
	bool shinfo_mapped;
	bool compat;                   /* the 32-bit shared_info layout (latched as Xen does) */
	uint64_t shinfo_gpa;
	uint64_t callback_irq;         /* HVM_PARAM_CALLBACK_IRQ */
	uint64_t store_evtchn, console_evtchn;   /* HVM_PARAM_STORE_EVTCHN, _CONSOLE_EVTCHN */
	uint32_t vm_assist;            /* vm_assist types enabled, a bit each */
	bool page_written;             /* the hypercall page was written (its MSR) at page_gfn */
	uint64_t page_gfn;
	struct xen_evtchn evtchn[XEN_NR_EVTCHN];
	struct xen_gnttab gnttab;
};

struct xen_vcpu_state {
	bool vcpu_info_registered;     /* VCPUOP_register_vcpu_info; else shared_info's slot */
	uint64_t vcpu_info_gpa;
	uint8_t upcall_vector;         /* HVMOP_set_evtchn_upcall_vector; 0: the callback's */
	bool blocked;                  /* in SCHEDOP_block or SCHEDOP_poll */
	uint64_t singleshot_ns;        /* Xen system time the single-shot timer fires; 0: stopped */
	uint64_t periodic_ns, periodic_next_ns;   /* period and next expiry; 0: stopped */
	uint64_t periodic_last_ns;     /* when it last fired (Xen periodic_last_event) */
	bool polling;                  /* in SCHEDOP_poll: any port that becomes pending wakes it */
	bool down_halted;              /* VCPUOP_down found it in HLT: VCPUOP_up puts it back there */
	/*
	 * runstate (vcpu.h struct vcpu_runstate_info): where the area is,
	 * translated when it was registered (its two pages if it crosses one)
	 */
	bool runstate_on;
	uint64_t runstate_gpa[2];
	uint16_t runstate_split;       /* bytes in the first page */
	bool runstate_known;
	uint8_t runstate;              /* RUNSTATE_running, runnable, blocked, offline */
	uint64_t runstate_entry_ns;
	uint64_t runstate_time[4];     /* ns spent in each state */
	uint64_t poll_deadline_ns;     /* SCHEDOP_poll's timeout; 0: none */
	/* the earliest of the three as a host counter time, kept until one changes */
	uint64_t timers_next_at;
	bool timers_dirty;
	uint16_t virq_port[XEN_NR_VIRQS];
};

struct hc_abi;

#define HC_MAX_ABIS 3

/*
 * Observability and policy (hypercalls/intercept.c): a counter per ABI and
 * call number (open addressing; calls beyond the table are counted as
 * "other"), the last HC_TRACE_LEN calls, and the allow/deny rules.
 */
#define HC_STATS_SLOTS 64
struct hc_stat {
	const struct hc_abi *abi;      /* NULL: a free slot */
	uint64_t nr, calls, errors, denied;
};
#define HC_TRACE_LEN 32
struct hc_trace_entry {
	uint64_t counter;              /* the host counter (arch_read_counter); printed as the VM's clock */
	const struct hc_abi *abi;
	uint64_t nr, arg[3];
	int64_t result;
	uint16_t vcpu;
	uint8_t flags;                 /* HC_TRACE_* */
};
#define HC_TRACE_ERROR  1
#define HC_TRACE_DENIED 2
#define HC_TRACE_FAULT  4
#define HC_POLICY_MAX 16
#define HC_POLICY_ANY UINT64_MAX       /* every call of the ABI */
struct hc_policy_rule {
	const struct hc_abi *abi;
	uint64_t nr;
	bool allow;
};
/* The first rule that matches decides; none: denied if the ABI has an allow rule, else allowed. */
struct hc_policy {
	uint8_t n;
	struct hc_policy_rule rule[HC_POLICY_MAX];
};

struct hc_vm_state {
	/*
	 * The ABIs the VM speaks (abi=), in order: CPUID block i (0x40000000 +
	 * 0x100 * i) is abis[i]'s (docs/dispatch.md). None: KVM alone.
	 */
	const struct hc_abi *abis[HC_MAX_ABIS];
	uint8_t nr_abis;
	struct hc_policy policy;
	bool ext;                      /* ext=on: the project's own calls (hypercalls/ext/) */
	uint64_t ext_logged;           /* bytes EXT_DEBUG_LOG wrote for the VM */
	struct hc_stat stats[HC_STATS_SLOTS];
	uint64_t stats_other;          /* calls the table had no room for */
	struct hc_trace_entry trace[HC_TRACE_LEN];
	uint64_t trace_total;          /* calls ever traced: the next entry is trace_total % HC_TRACE_LEN */
	struct kvm_vm_state kvm;
	struct hv_vm_state hv;
	struct xen_vm_state xen;
};
struct hc_vcpu_state {
	/* a handler asked to be continued (hc_continue): RIP stays, these argument registers change */
	uint8_t cont;                  /* a bit per argument */
	uint64_t cont_value[6];
	struct kvm_vcpu_state kvm;
	struct hv_vcpu_state hv;
	struct xen_vcpu_state xen;
};

#endif
