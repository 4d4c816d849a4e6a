/*
 * Self-tests the emulator runs use to prove the hypervisor's own protections
 * and reports work on the real binary (command line `selftest=NAME`). Each
 * ends the machine through the path it exercises; none is for production.
 */
#ifndef CORE_SELFTEST_H
#define CORE_SELFTEST_H

#include "core/types.h"

enum selftest {
	SELFTEST_NONE,
	SELFTEST_UD,          /* an invalid opcode in the hypervisor: crash dump */
	SELFTEST_WRITE_TEXT,  /* write to our own code: W^X page fault */
	SELFTEST_EXEC_DATA,   /* jump into our own data: NX page fault */
	SELFTEST_NULL,        /* read address 0: the unmapped first page */
	SELFTEST_BAD_ENTRY,   /* start every 64-bit guest with CR4.PAE clear: VM-entry failure */
	SELFTEST_BAD_CONTROL, /* run VM 0 with controls the CPU refuses (VMX pin-based 0, SVM ASID 0) */
};

extern enum selftest hv_selftest;

int selftest_parse(const char *s, size_t len);
/* Runs the host-side self-test chosen, if any (after arch_init). */
void selftest_run_host(void);

#endif
