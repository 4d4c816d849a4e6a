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
	struct hv_queued_message queue[HV_MSG_QUEUE_LEN];
};

struct hc_abi;

struct hc_vm_state {
	const struct hc_abi *abi;      /* the ABI the VM speaks (abi=); NULL: KVM */
	struct kvm_vm_state kvm;
	struct hv_vm_state hv;
};
struct hc_vcpu_state {
	struct kvm_vcpu_state kvm;
	struct hv_vcpu_state hv;
};

#endif
