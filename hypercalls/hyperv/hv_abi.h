/*
 * Hyper-V hypercall ABI facts (Microsoft Hypervisor Top-Level Functional
 * Specification, "Hypercall Interface", "Feature and Interface Discovery",
 * "Partition Properties"; the same numbers in Linux include/hyperv/hvgdk.h,
 * hvgdk_mini.h, hvhdk.h and KVM arch/x86/kvm/hyperv.c).
 */
#ifndef HYPERCALLS_HYPERV_HV_ABI_H
#define HYPERCALLS_HYPERV_HV_ABI_H

#include "core/types.h"

/* Hypercall input value (TLFS "Hypercall Inputs") */
#define HV_INPUT_CODE_MASK        0xffffull
#define HV_INPUT_FAST             (1ull << 16)
#define HV_INPUT_VARHEAD_SHIFT    17
#define HV_INPUT_VARHEAD_MASK     (0x3ffull << HV_INPUT_VARHEAD_SHIFT)   /* 26:17, 8-byte units */
#define HV_INPUT_NESTED           (1ull << 31)
#define HV_INPUT_REP_COUNT_SHIFT  32
#define HV_INPUT_REP_COUNT_MASK   (0xfffull << HV_INPUT_REP_COUNT_SHIFT) /* 43:32 */
#define HV_INPUT_REP_START_SHIFT  48
#define HV_INPUT_REP_START_MASK   (0xfffull << HV_INPUT_REP_START_SHIFT) /* 59:48 */
/* 30:27, 47:44, 63:60 */
#define HV_INPUT_RESERVED         ((0xfull << 27) | (0xfull << 44) | (0xfull << 60))
/* Result value: 15:0 status, 43:32 reps completed */
#define HV_RESULT_REPS_SHIFT      32

/* Status codes (TLFS appendix "Hypercall Status Codes") */
#define HV_STATUS_SUCCESS                 0x0000
#define HV_STATUS_INVALID_HYPERCALL_CODE  0x0002
#define HV_STATUS_INVALID_HYPERCALL_INPUT 0x0003
#define HV_STATUS_INVALID_ALIGNMENT       0x0004
#define HV_STATUS_INVALID_PARAMETER       0x0005
#define HV_STATUS_ACCESS_DENIED           0x0006

/* Call codes (TLFS appendix "Hypercall Code Reference") */
#define HVCALL_FLUSH_VIRTUAL_ADDRESS_SPACE    0x0002
#define HVCALL_FLUSH_VIRTUAL_ADDRESS_LIST     0x0003
#define HVCALL_NOTIFY_LONG_SPIN_WAIT          0x0008
#define HVCALL_SEND_IPI                       0x000b
#define HVCALL_FLUSH_VIRTUAL_ADDRESS_SPACE_EX 0x0013
#define HVCALL_FLUSH_VIRTUAL_ADDRESS_LIST_EX  0x0014
#define HVCALL_SEND_IPI_EX                    0x0015

/* Fast calls without XMM input carry 16 bytes: RDX and R8 (EBX:ECX, EDI:ESI) */
#define HV_FAST_INPUT_BYTES 16

/* Flush flags (TLFS "HvCallFlushVirtualAddressSpace") */
#define HV_FLUSH_ALL_PROCESSORS              (1ull << 0)
#define HV_FLUSH_ALL_VIRTUAL_ADDRESS_SPACES  (1ull << 1)
#define HV_FLUSH_NON_GLOBAL_MAPPINGS_ONLY    (1ull << 2)
#define HV_FLUSH_USE_EXTENDED_RANGE_FORMAT   (1ull << 3)
#define HV_FLUSH_VALID_FLAGS                 0xfull

/* Virtual processor sets (TLFS "HV_VP_SET"): 64 banks of 64 VPs */
#define HV_GENERIC_SET_SPARSE_4K 0
#define HV_GENERIC_SET_ALL       1

/* SendSyntheticClusterIpi: vectors 0x10-0xff (KVM hyperv.c HV_IPI_LOW_VECTOR/HIGH_VECTOR) */
#define HV_IPI_LOW_VECTOR  0x10
#define HV_IPI_HIGH_VECTOR 0xff

/* Synthetic MSRs (TLFS appendix "Hypervisor Synthetic MSRs") */
#define HV_X64_MSR_GUEST_OS_ID     0x40000000u
#define HV_X64_MSR_HYPERCALL       0x40000001u
#define HV_X64_MSR_VP_INDEX        0x40000002u
#define HV_X64_MSR_TIME_REF_COUNT  0x40000020u
#define HV_X64_MSR_REFERENCE_TSC   0x40000021u
#define HV_X64_MSR_TSC_FREQUENCY   0x40000022u
#define HV_X64_MSR_APIC_FREQUENCY  0x40000023u
#define HV_X64_MSR_EOI             0x40000070u
#define HV_X64_MSR_ICR             0x40000071u
#define HV_X64_MSR_TPR             0x40000072u
#define HV_X64_MSR_CRASH_P0        0x40000100u
#define HV_X64_MSR_CRASH_P4        0x40000104u
#define HV_X64_MSR_CRASH_CTL       0x40000105u
#define HV_CRASH_CTL_CRASH_NOTIFY  (1ull << 63)
#define HV_X64_MSR_TSC_REFERENCE_ENABLE (1ull << 0)
#define HV_X64_MSR_HYPERCALL_ENABLE      (1ull << 0)
#define HV_X64_MSR_HYPERCALL_LOCKED      (1ull << 1)
#define HV_X64_MSR_HYPERCALL_PAGE_SHIFT  12

/* CPUID (TLFS "Feature and Interface Discovery") */
#define HV_CPUID_VENDOR_AND_MAX   0x40000000u
#define HV_CPUID_INTERFACE        0x40000001u
#define HV_CPUID_VERSION          0x40000002u
#define HV_CPUID_FEATURES         0x40000003u
#define HV_CPUID_ENLIGHTENMENTS   0x40000004u
#define HV_CPUID_LIMITS           0x40000005u
#define HV_CPUID_HW_FEATURES      0x40000006u
#define HV_CPUID_MAX_LEAF         0x4000000au
#define HV_SIGNATURE_EBX 0x7263694du           /* "Micr" */
#define HV_SIGNATURE_ECX 0x666f736fu           /* "osof" */
#define HV_SIGNATURE_EDX 0x76482074u           /* "t Hv" */
#define HV_INTERFACE_HV1 0x31237648u           /* "Hv#1" */
/* Version as KVM reports it (hyperv.c): Windows Server 2016, 10.0 build 14393 */
#define HV_VERSION_BUILD 14393u
#define HV_VERSION_MAJOR_MINOR 0x000a0000u
/* 0x40000003 EAX: partition privileges (HV_MSR_*_AVAILABLE) */
#define HV_MSR_TIME_REF_COUNT_AVAILABLE  (1u << 1)
#define HV_MSR_APIC_ACCESS_AVAILABLE     (1u << 4)
#define HV_MSR_REFERENCE_TSC_AVAILABLE   (1u << 9)
#define HV_MSR_HYPERCALL_AVAILABLE       (1u << 5)
#define HV_MSR_VP_INDEX_AVAILABLE        (1u << 6)
#define HV_ACCESS_FREQUENCY_MSRS         (1u << 11)
/* 0x40000003 EDX */
#define HV_FEATURE_FREQUENCY_MSRS_AVAILABLE (1u << 8)
#define HV_FEATURE_GUEST_CRASH_MSR_AVAILABLE (1u << 10)
/* 0x40000004 EAX: recommendations */
#define HV_X64_REMOTE_TLB_FLUSH_RECOMMENDED  (1u << 2)
#define HV_X64_APIC_ACCESS_RECOMMENDED       (1u << 3)
#define HV_X64_CLUSTER_IPI_RECOMMENDED       (1u << 10)
#define HV_X64_EX_PROCESSOR_MASKS_RECOMMENDED (1u << 11)
/* 0x40000004 EBX: spin-wait retries before NotifyLongSpinWait; all ones is "never" (KVM's default) */
#define HV_SPINLOCK_RETRIES_NEVER 0xffffffffu

/* The reference TSC page (TLFS "Partition Reference TSC Mechanism"): time = ((tsc * scale) >> 64) + offset, 100 ns */
struct hv_ref_tsc_page {
	uint32_t tsc_sequence;        /* 0: not valid, use TIME_REF_COUNT */
	uint32_t reserved;
	uint64_t tsc_scale;
	int64_t tsc_offset;
} __attribute__((packed));
_Static_assert(sizeof(struct hv_ref_tsc_page) == 24, "TLFS reference TSC page header");
#define HV_REF_TIME_HZ 10000000ull     /* 100 ns units */

#endif
