/*
 * The host time counter on x86: the TSC (core/arch.h). Inline, because the
 * scheduler reads it after every exit and a rep call once per element; the
 * host unit tests get the fake's function instead (tests/fake_arch/include).
 */
#ifndef ARCH_COUNTER_H
#define ARCH_COUNTER_H

#include <stdint.h>

static inline uint64_t arch_read_counter(void)
{
	uint32_t lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return (uint64_t)hi << 32 | lo;
}

#endif
