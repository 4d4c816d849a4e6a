/* The neutral exit record: each arch decodes a hardware exit into this once. */
#ifndef CORE_EXIT_H
#define CORE_EXIT_H

#include "core/types.h"

enum vm_exit_reason {
	VMEXIT_NONE,
	VMEXIT_HYPERCALL,   /* VMCALL, VMMCALL (also via #UD), HVC */
	VMEXIT_CPUID,
	VMEXIT_MSR_READ,
	VMEXIT_MSR_WRITE,
	VMEXIT_IO,
	VMEXIT_HLT,
	VMEXIT_PAUSE,       /* a spin loop: pause-loop exiting / the PAUSE filter fired */
	VMEXIT_SHUTDOWN,    /* triple fault */
	VMEXIT_MEM_FAULT,   /* guest-physical access with no mapping */
	VMEXIT_INTR,        /* a host interrupt arrived: nothing for the guest */
	VMEXIT_ARCH,        /* handled inside the arch (e.g. XSETBV), nothing for core */
	VMEXIT_FAIL,        /* entry failed or an exit we cannot handle: VM is stopped */
};

/* CPU mode at the exit; hypercall ABIs truncate arguments outside MODE_64. */
enum cpu_mode { MODE_REAL, MODE_PROT16, MODE_PROT32, MODE_64 };

enum hc_insn { HC_INSN_VMCALL, HC_INSN_VMMCALL, HC_INSN_HVC };

#define MEM_ACCESS_READ  1u
#define MEM_ACCESS_WRITE 2u
#define MEM_ACCESS_EXEC  4u

struct vm_exit {
	enum vm_exit_reason reason;
	uint8_t insn_len;          /* bytes to skip to complete the instruction */
	uint8_t cpl;
	enum cpu_mode mode;
	uint64_t raw_code;         /* the vendor's exit code, for reports */
	union {
		struct { enum hc_insn insn; } hc;
		struct { uint32_t leaf, subleaf; } cpuid;
		struct { uint32_t index; uint64_t value; } msr;
		struct { uint16_t port; uint8_t size; bool in, string, rep; } io;
		struct { gpa_t gpa; unsigned access; } mem;
		struct { char what[96]; } fail;
	};
};

#endif
