/*
 * The pvclock time structure KVM (kvmclock) and Xen (vcpu_time_info) share:
 * the same 32 bytes, the same version protocol (Linux
 * include/xen/interface/xen.h struct vcpu_time_info, arch/x86/include/asm/
 * pvclock-abi.h struct pvclock_vcpu_time_info).
 */
#ifndef HYPERCALLS_PVCLOCK_H
#define HYPERCALLS_PVCLOCK_H

#include "core/types.h"

struct vm;
struct vcpu;

struct pvclock_vcpu_time_info {
	uint32_t version;
	uint32_t pad0;
	uint64_t tsc_timestamp;
	uint64_t system_time;
	uint32_t tsc_to_system_mul;
	int8_t tsc_shift;
	uint8_t flags;
	uint8_t pad[2];
} __attribute__((packed));
_Static_assert(sizeof(struct pvclock_vcpu_time_info) == 32, "pvclock-abi.h");
#define PVCLOCK_TSC_STABLE_BIT (1u << 0)

/* Nanoseconds on the VM's clock (0 at its creation) when the host counter reads `host`. */
uint64_t pvclock_ns(const struct vm *vm, uint64_t host);
/*
 * The first host counter value at which the VM's clock (pvclock_ns) has
 * reached `ns`: a timer armed for it never fires early. UINT64_MAX for
 * times too far away to matter.
 */
uint64_t pvclock_counter_at(const struct vm *vm, uint64_t ns);
/*
 * Starts an update of a versioned structure of `size` bytes at `gpa`: the
 * version goes odd. False, and nothing written, when it is not wholly in
 * writable guest RAM (a half-written one would leave the guest spinning);
 * it may cross pages (KVM's wall clock does, kvm_write_guest).
 */
bool pvclock_begin_update(struct vm *vm, gpa_t gpa, size_t size, uint32_t *version);
/* Publishes v's time at `gpa` (a whole pvclock_vcpu_time_info); false if it could not. */
bool pvclock_publish(struct vcpu *v, gpa_t gpa);

#endif
