#ifndef CORE_HV_H
#define CORE_HV_H

#include "core/types.h"

struct boot_info;

/* The common entry of both boot paths (boot/mb2.c, boot/uefi). Never returns. */
NORETURN void hv_main(const struct boot_info *bi);
/* A failure before anything can run: one line, then stop the machine. */
NORETURN void hv_boot_fail(const char *why);
/* A hypervisor bug (an invariant broke): report and stop the machine. */
NORETURN void hv_panic(const char *fmt, ...) PRINTF_LIKE(1, 2);

/* Invariants only: never for input a guest or the firmware can get wrong. */
#define HV_ASSERT(c) do { if (!(c)) hv_panic("assertion '%s' failed at %s:%d", #c, __FILE__, __LINE__); } while (0)

#endif
