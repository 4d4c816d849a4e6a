/*
 * The vCPU scheduler: every vCPU of a VM on the physical CPU we run on,
 * round-robin in slices that a host timer enforces, so a guest that never
 * exits cannot keep the others (or the hypervisor) from running.
 *
 * A vCPU is runnable, halted (HLT: it sleeps until something it can take
 * arrives, a timer of its own fires or it is kicked) or waiting for a start
 * (an AP before its startup IPI). Whether a halted vCPU can wake is the
 * arch's answer (arch_vcpu_can_wake: interrupt controller state). After an
 * exit the scheduler asks again, and polls the VM's timers, only when
 * something was poked (sched_poke), a timer is due or the slice ended: an
 * exit that armed no timer and delivered no interrupt goes straight back.
 */
#ifndef CORE_SCHED_H
#define CORE_SCHED_H

#include "core/types.h"

struct vm;
struct vcpu;

/* A slice: how long a vCPU runs before the others get their turn. */
#define SCHED_SLICE_US 1000
/* A vCPU that woke up preempts the running one once that has run this long. */
#define SCHED_WAKE_GRANULARITY_US 100

#define SCHED_MAX_VMS 16

/*
 * Runs the vCPUs of `n` VMs at once until every one has ended: VMs take
 * turns a slice at a time, and a VM that ends leaves the others running.
 */
void sched_run(struct vm *const *vms, unsigned n);
/* Runs one VM's vCPUs until it ends. */
void vm_run(struct vm *vm);
/* HLT completed on `v`: it sleeps unless a wake-up is already due. */
void vcpu_halt(struct vcpu *v);
/* Makes a halted or waiting vCPU runnable (a start, a kick); it runs soon (wake granularity). */
void vcpu_wake(struct vcpu *v);
/* Gives the CPU to the next runnable vCPU of v's VM, if there is one (a spinning vCPU). */
void vcpu_yield(struct vcpu *v);
/* Ends the running vCPU's slice and runs `to` next when it is runnable. */
void vcpu_yield_to(struct vcpu *from, struct vcpu *to);
/*
 * A timer of some vCPU was armed, moved or stopped, or an interrupt or NMI
 * was delivered to one: the scheduler polls timers and wake-ups after the
 * current exit. Every code path that arms a timer or delivers an event
 * calls it (a missed one is caught at the slice's end, late).
 */
extern uint64_t sched_pokes;
static inline void sched_poke(void) { sched_pokes++; }

#endif
