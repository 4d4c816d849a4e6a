/* The fake machine's time counter (tests/fake_arch/fake_arch.c): tests set and step it. */
#ifndef ARCH_COUNTER_H
#define ARCH_COUNTER_H

#include <stdint.h>

uint64_t arch_read_counter(void);

#endif
