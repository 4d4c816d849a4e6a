/* Shared by the files of the KVM ABI. */
#ifndef HYPERCALLS_KVM_KVM_H
#define HYPERCALLS_KVM_KVM_H

#include "hypercalls/hypercall.h"

int64_t kvm_hc_clock_pairing(struct vcpu *v, const struct hc_args *a);
int64_t kvm_hc_map_gpa_range(struct vcpu *v, const struct hc_args *a);
int64_t kvm_hc_kick_cpu(struct vcpu *v, const struct hc_args *a);
int64_t kvm_hc_send_ipi(struct vcpu *v, const struct hc_args *a);
int64_t kvm_hc_sched_yield(struct vcpu *v, const struct hc_args *a);
void kvm_vcpu_scheduled(struct vcpu *v);
void kvm_vcpu_preempted(struct vcpu *v);
int kvm_steal_msr_write(struct vcpu *v, uint64_t val);
int kvm_msr_read(struct vcpu *v, uint32_t msr, uint64_t *val);
int kvm_msr_write(struct vcpu *v, uint32_t msr, uint64_t val);
int kvm_clock_msr_read(struct vcpu *v, uint32_t msr, uint64_t *val);
int kvm_clock_msr_write(struct vcpu *v, uint32_t msr, uint64_t val);
void kvm_mem_vm_destroy(struct vm *vm);
void kvm_clock_changed(struct vcpu *v);

#endif
