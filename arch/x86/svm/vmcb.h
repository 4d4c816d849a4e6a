/*
 * The VMCB, AMD APM vol. 2 (24593) appendix B "Layout of VMCB": control area
 * at 0x000, state save area at 0x400. Offsets are pinned below.
 */
#ifndef ARCH_X86_SVM_VMCB_H
#define ARCH_X86_SVM_VMCB_H

#include "core/types.h"

struct vmcb_seg {
	uint16_t sel;
	uint16_t attrib;      /* descriptor bits 47:40 in 7:0, bits 55:52 in 11:8 */
	uint32_t limit;
	uint64_t base;
};

struct vmcb_control {
	uint16_t cr_read, cr_write;          /* 0x000 */
	uint16_t dr_read, dr_write;          /* 0x004 */
	uint32_t exceptions;                 /* 0x008 */
	uint32_t misc1;                      /* 0x00c */
	uint32_t misc2;                      /* 0x010 */
	uint32_t misc3;                      /* 0x014 */
	uint8_t reserved_018[0x03c - 0x018];
	uint16_t pause_filter_thresh;        /* 0x03c */
	uint16_t pause_filter_count;         /* 0x03e */
	uint64_t iopm_base_pa;               /* 0x040 */
	uint64_t msrpm_base_pa;              /* 0x048 */
	uint64_t tsc_offset;                 /* 0x050 */
	uint32_t asid;                       /* 0x058 */
	uint8_t tlb_control;                 /* 0x05c */
	uint8_t reserved_05d[3];
	uint64_t vintr;                      /* 0x060 */
	uint64_t int_state;                  /* 0x068 */
	uint64_t exitcode;                   /* 0x070 */
	uint64_t exitinfo1;                  /* 0x078 */
	uint64_t exitinfo2;                  /* 0x080 */
	uint64_t exitintinfo;                /* 0x088 */
	uint64_t np_enable;                  /* 0x090 */
	uint64_t avic_apic_bar;              /* 0x098 */
	uint64_t ghcb_pa;                    /* 0x0a0 */
	uint64_t event_inj;                  /* 0x0a8 */
	uint64_t ncr3;                       /* 0x0b0 */
	uint64_t virt_ext;                   /* 0x0b8 */
	uint32_t clean;                      /* 0x0c0 */
	uint32_t reserved_0c4;
	uint64_t nrip;                       /* 0x0c8 */
	uint8_t insn_len;                    /* 0x0d0 */
	uint8_t insn_bytes[15];
	uint8_t reserved_0e0[0x400 - 0x0e0];
};

struct vmcb_save {
	struct vmcb_seg es, cs, ss, ds, fs, gs, gdtr, ldtr, idtr, tr; /* 0x400 .. 0x49f */
	uint8_t reserved_4a0[0x4cb - 0x4a0];
	uint8_t cpl;                         /* 0x4cb */
	uint32_t reserved_4cc;
	uint64_t efer;                       /* 0x4d0 */
	uint8_t reserved_4d8[0x548 - 0x4d8];
	uint64_t cr4, cr3, cr0, dr7, dr6, rflags, rip; /* 0x548 .. 0x57f */
	uint8_t reserved_580[0x5d8 - 0x580];
	uint64_t rsp;                        /* 0x5d8 */
	uint64_t s_cet, ssp, isst_addr;      /* 0x5e0 */
	uint64_t rax;                        /* 0x5f8 */
	uint64_t star, lstar, cstar, sfmask, kernel_gs_base; /* 0x600 */
	uint64_t sysenter_cs, sysenter_esp, sysenter_eip;    /* 0x628 */
	uint64_t cr2;                        /* 0x640 */
	uint8_t reserved_648[0x668 - 0x648];
	uint64_t g_pat;                      /* 0x668 */
	uint64_t dbgctl, br_from, br_to, last_excp_from, last_excp_to; /* 0x670 */
	uint8_t reserved_698[0x1000 - 0x698];
};

struct vmcb {
	struct vmcb_control ctl;
	struct vmcb_save save;
};

#define VMCB_OFF(f) (__builtin_offsetof(struct vmcb, f))
_Static_assert(VMCB_OFF(ctl.iopm_base_pa) == 0x040, "VMCB iopm");
_Static_assert(VMCB_OFF(ctl.asid) == 0x058, "VMCB asid");
_Static_assert(VMCB_OFF(ctl.exitcode) == 0x070, "VMCB exitcode");
_Static_assert(VMCB_OFF(ctl.np_enable) == 0x090, "VMCB np_enable");
_Static_assert(VMCB_OFF(ctl.event_inj) == 0x0a8, "VMCB event_inj");
_Static_assert(VMCB_OFF(ctl.nrip) == 0x0c8, "VMCB nrip");
_Static_assert(VMCB_OFF(save.es) == 0x400, "VMCB save area");
_Static_assert(VMCB_OFF(save.tr) == 0x490, "VMCB tr");
_Static_assert(VMCB_OFF(save.cpl) == 0x4cb, "VMCB cpl");
_Static_assert(VMCB_OFF(save.efer) == 0x4d0, "VMCB efer");
_Static_assert(VMCB_OFF(save.cr4) == 0x548, "VMCB cr4");
_Static_assert(VMCB_OFF(save.rip) == 0x578, "VMCB rip");
_Static_assert(VMCB_OFF(save.rsp) == 0x5d8, "VMCB rsp");
_Static_assert(VMCB_OFF(save.rax) == 0x5f8, "VMCB rax");
_Static_assert(VMCB_OFF(save.star) == 0x600, "VMCB star");
_Static_assert(VMCB_OFF(save.cr2) == 0x640, "VMCB cr2");
_Static_assert(VMCB_OFF(save.g_pat) == 0x668, "VMCB g_pat");
_Static_assert(sizeof(struct vmcb) == 0x1000, "VMCB is one page");

/* Intercept bits, APM vol. 2 appendix B table B-1. */
#define SVM_MISC1_INTR     (1u << 0)
#define SVM_MISC1_NMI      (1u << 1)
#define SVM_MISC1_SMI      (1u << 2)
#define SVM_MISC1_INIT     (1u << 3)
#define SVM_MISC1_VINTR    (1u << 4)
#define SVM_MISC1_RDPMC    (1u << 15)
#define SVM_MISC1_IRET     (1u << 20)
#define SVM_MISC1_CPUID    (1u << 18)
#define SVM_MISC1_INVD     (1u << 22)
#define SVM_MISC1_PAUSE    (1u << 23)
#define SVM_MISC1_HLT      (1u << 24)
#define SVM_MISC1_INVLPGA  (1u << 26)
#define SVM_MISC1_IOIO     (1u << 27)
#define SVM_MISC1_MSR      (1u << 28)
#define SVM_MISC1_SHUTDOWN (1u << 31)
#define SVM_MISC2_VMRUN    (1u << 0)
#define SVM_MISC2_VMMCALL  (1u << 1)
#define SVM_MISC2_VMLOAD   (1u << 2)
#define SVM_MISC2_VMSAVE   (1u << 3)
#define SVM_MISC2_STGI     (1u << 4)
#define SVM_MISC2_CLGI     (1u << 5)
#define SVM_MISC2_SKINIT   (1u << 6)
#define SVM_MISC2_RDTSCP   (1u << 7)
#define SVM_MISC2_MONITOR  (1u << 10)
#define SVM_MISC2_MWAIT    (1u << 11)
#define SVM_MISC2_MWAIT_C  (1u << 12)
#define SVM_MISC2_XSETBV   (1u << 13)
#define SVM_MISC2_ICEBP    (1u << 8)
#define SVM_MISC2_RDPRU    (1u << 14)

/* Exit codes, APM vol. 2 appendix C. */
#define SVM_EXIT_EXCP_BASE 0x040
#define SVM_EXIT_INTR      0x060
#define SVM_EXIT_NMI       0x061
#define SVM_EXIT_SMI       0x062
#define SVM_EXIT_INIT      0x063
#define SVM_EXIT_VINTR     0x064
#define SVM_EXIT_RDPMC     0x06f
#define SVM_EXIT_IRET      0x074
#define SVM_EXIT_CPUID     0x072
#define SVM_EXIT_INVD      0x076
#define SVM_EXIT_PAUSE     0x077
#define SVM_EXIT_HLT       0x078
#define SVM_EXIT_INVLPGA   0x07a
#define SVM_EXIT_IOIO      0x07b
#define SVM_EXIT_MSR       0x07c
#define SVM_EXIT_SHUTDOWN  0x07f
#define SVM_EXIT_VMRUN     0x080
#define SVM_EXIT_VMMCALL   0x081
#define SVM_EXIT_VMLOAD    0x082
#define SVM_EXIT_VMSAVE    0x083
#define SVM_EXIT_STGI      0x084
#define SVM_EXIT_CLGI      0x085
#define SVM_EXIT_SKINIT    0x086
#define SVM_EXIT_RDTSCP    0x087
#define SVM_EXIT_MONITOR   0x08a
#define SVM_EXIT_MWAIT     0x08b
#define SVM_EXIT_MWAIT_C   0x08c
#define SVM_EXIT_XSETBV    0x08d
#define SVM_EXIT_ICEBP     0x088
#define SVM_EXIT_RDPRU     0x08e
#define SVM_EXIT_NPF       0x400
#define SVM_EXIT_INVALID   ((uint64_t)-1)
#define SVM_EXIT_INVALID32 0xffffffffull  /* what QEMU 7.2 TCG stores instead */

/* IOIO exit information (EXITINFO1), APM vol. 2 §15.10.2. */
#define SVM_IOIO_IN   (1u << 0)
#define SVM_IOIO_STR  (1u << 2)
#define SVM_IOIO_REP  (1u << 3)
#define SVM_IOIO_SZ_SHIFT 4     /* bits 6:4: SZ8, SZ16, SZ32 */

/* NPF error code (EXITINFO1), APM vol. 2 §15.25.6. */
#define SVM_NPF_WRITE (1ull << 1)
#define SVM_NPF_RSVD  (1ull << 3)
#define SVM_NPF_FETCH (1ull << 4)

/* EVENTINJ / EXITINTINFO, APM vol. 2 §15.20. */
#define SVM_EVT_VALID (1ull << 31)
#define SVM_EVT_ERR_VALID (1ull << 11)
#define SVM_EVT_TYPE_EXCEPTION (3ull << 8)
#define SVM_EVT_TYPE_INTR (0ull << 8)
#define SVM_EVT_TYPE_NMI (2ull << 8)

/* Virtual interrupt control (VMCB 0x60, APM vol. 2 §15.21 and table B-1). */
#define SVM_VINTR_TPR_MASK 0xfull
#define SVM_VINTR_IRQ (1ull << 8)
#define SVM_VINTR_PRIO_SHIFT 16
#define SVM_VINTR_IGN_TPR (1ull << 20)
#define SVM_VINTR_MASKING (1ull << 24)
#define SVM_INT_SHADOW 1ull                  /* int_state bit 0: STI / MOV SS shadow */

#define SVM_TLB_FLUSH_ALL 1     /* TLB_CONTROL: flush the entire TLB (every ASID) */
#define SVM_TLB_FLUSH_ASID 3    /* TLB_CONTROL: this guest's ASID only (with FlushByAsid) */
#define SVM_NP_ENABLE 1ull

#endif
