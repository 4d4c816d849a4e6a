/*
 * Host time: a free-running counter of known rate (the TSC on x86) and the
 * wall clock read once at boot. Everything a guest is told about time is
 * derived from these with the pvclock scaling below, so the hypervisor and
 * the guest compute the same nanoseconds from the same counter values.
 */
#ifndef CORE_TIME_H
#define CORE_TIME_H

#include "core/types.h"

#define NSEC_PER_SEC 1000000000ull
/*
 * No periodic timer a guest arms fires more often than this (KVM's
 * min_timer_period_us, arch/x86/kvm/lapic.c): one that re-armed itself
 * every few ns would fire at every VM entry and leave the vCPU, and the VMs
 * waiting behind it, no time to run.
 */
#define TIMER_MIN_PERIOD_NS 200000ull

/* mul/shift such that ns = scale(counter delta) (the pvclock ABI's encoding). */
struct time_scale { uint32_t mul; int8_t shift; };

/* Boot CPU, once: the counter's rate and (counter, wall clock) at one instant. */
void time_init(uint64_t counter_hz, uint64_t counter_now, uint64_t wall_ns_now);
uint64_t time_counter_hz(void);
/* The scale that turns counter ticks into nanoseconds. */
struct time_scale time_ns_scale(void);
/* Computes the scale converting `from_hz` ticks into `to_hz` ticks. */
struct time_scale time_make_scale(uint64_t from_hz, uint64_t to_hz);
/* Applies a scale exactly as a pvclock guest does (shift, then 64x32 multiply >> 32). */
uint64_t time_apply_scale(uint64_t delta, struct time_scale s);
/* Unix time in ns at a given counter value. */
uint64_t time_wall_ns(uint64_t counter);

#endif
