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
#define HV_STATUS_INVALID_PARTITION_ID    0x000d
#define HV_STATUS_INVALID_VP_INDEX        0x000e
#define HV_STATUS_INVALID_PORT_ID         0x0011
#define HV_STATUS_INVALID_CONNECTION_ID   0x0012
#define HV_STATUS_INSUFFICIENT_BUFFERS    0x0013
#define HV_STATUS_INVALID_VP_STATE        0x0015
#define HV_STATUS_INVALID_SYNIC_STATE     0x0018   /* TLFS HvCallPostMessage, HvCallSignalEvent */
#define HV_STATUS_INVALID_REGISTER_VALUE  0x0050

/* Call codes (TLFS appendix "Hypercall Code Reference") */
#define HVCALL_FLUSH_VIRTUAL_ADDRESS_SPACE    0x0002
#define HVCALL_FLUSH_VIRTUAL_ADDRESS_LIST     0x0003
#define HVCALL_NOTIFY_LONG_SPIN_WAIT          0x0008
#define HVCALL_SEND_IPI                       0x000b
#define HVCALL_FLUSH_VIRTUAL_ADDRESS_SPACE_EX 0x0013
#define HVCALL_FLUSH_VIRTUAL_ADDRESS_LIST_EX  0x0014
#define HVCALL_SEND_IPI_EX                    0x0015
#define HVCALL_VTL_CALL                       0x0011
#define HVCALL_VTL_RETURN                     0x0012
#define HVCALL_GET_VP_REGISTERS               0x0050
#define HVCALL_SET_VP_REGISTERS               0x0051
#define HVCALL_POST_MESSAGE                   0x005c
#define HVCALL_SIGNAL_EVENT                   0x005d
#define HVCALL_EXT_QUERY_CAPABILITIES         0x8001

/* Fast calls without XMM input carry 16 bytes: RDX and R8 (EBX:ECX, EDI:ESI) */
#define HV_FAST_INPUT_BYTES 16
/* XMM fast calls (TLFS "XMM Fast Hypercalls"): RDX, R8, then XMM0-XMM5: 112 bytes */
#define HV_XMM_REGS 6
#define HV_XMM_INPUT_BYTES (HV_FAST_INPUT_BYTES + HV_XMM_REGS * 16)

/* Get/SetVpRegisters (TLFS "HvCallGetVpRegisters"): the caller's own partition and VP */
#define HV_PARTITION_ID_SELF ((uint64_t)-1)
#define HV_VP_INDEX_SELF     0xfffffffeu
/* input_vtl byte: target VTL 3:0, use it 4, reserved 7:5 */
#define HV_INPUT_VTL_USE_TARGET (1u << 4)
#define HV_INPUT_VTL_RESERVED   0xe0u

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
#define HV_X64_MSR_RESET           0x40000003u
#define HV_X64_MSR_VP_ASSIST_PAGE  0x40000073u
#define HV_X64_MSR_SCONTROL        0x40000080u
#define HV_X64_MSR_SVERSION        0x40000081u
#define HV_X64_MSR_SIEFP           0x40000082u
#define HV_X64_MSR_SIMP            0x40000083u
#define HV_X64_MSR_EOM             0x40000084u
#define HV_X64_MSR_SINT0           0x40000090u
#define HV_X64_MSR_SINT15          0x4000009fu
#define HV_X64_MSR_STIMER0_CONFIG  0x400000b0u
#define HV_X64_MSR_STIMER3_COUNT   0x400000b7u
#define HV_X64_MSR_CRASH_P0        0x40000100u
#define HV_X64_MSR_CRASH_P4        0x40000104u
#define HV_X64_MSR_CRASH_CTL       0x40000105u
#define HV_CRASH_CTL_CRASH_NOTIFY  (1ull << 63)
#define HV_X64_MSR_TSC_REFERENCE_ENABLE (1ull << 0)
#define HV_X64_MSR_HYPERCALL_ENABLE      (1ull << 0)
#define HV_X64_MSR_HYPERCALL_LOCKED      (1ull << 1)
#define HV_X64_MSR_HYPERCALL_PAGE_SHIFT  12
#define HV_X64_MSR_RESET_BIT             (1ull << 0)
#define HV_X64_MSR_VP_ASSIST_PAGE_ENABLE (1ull << 0)

/* SynIC (TLFS "Synthetic Interrupt Controller") */
#define HV_SYNIC_SINT_COUNT        16
#define HV_SYNIC_CONTROL_ENABLE    (1ull << 0)
#define HV_SYNIC_VERSION_1         1ull
#define HV_SYNIC_SIMP_ENABLE       (1ull << 0)
#define HV_SYNIC_SIEFP_ENABLE      (1ull << 0)
#define HV_SYNIC_SINT_VECTOR_MASK  0xffull
#define HV_SYNIC_SINT_MASKED       (1ull << 16)
#define HV_SYNIC_SINT_AUTO_EOI     (1ull << 17)
#define HV_SYNIC_SINT_POLLING      (1ull << 18)
#define HV_SYNIC_FIRST_VALID_VECTOR 16
#define HV_EVENT_FLAGS_COUNT       2048     /* 256 bytes of flags per SINT */

/* Synthetic timers (TLFS "Synthetic Timers"): CONFIG at 0x400000b0 + 2n, COUNT after it */
#define HV_STIMER_COUNT            4
#define HV_STIMER_ENABLE           (1ull << 0)
#define HV_STIMER_PERIODIC         (1ull << 1)
#define HV_STIMER_LAZY             (1ull << 2)
#define HV_STIMER_AUTO_ENABLE      (1ull << 3)
#define HV_STIMER_VECTOR_SHIFT     4          /* 11:4, direct mode */
#define HV_STIMER_DIRECT_MODE      (1ull << 12)
#define HV_STIMER_SINT_SHIFT       16         /* 19:16 */

/* Messages (TLFS "SynIC Messages"; Linux hvgdk_mini.h struct hv_message) */
#define HVMSG_NONE                 0x00000000u
#define HVMSG_TIMER_EXPIRED        0x80000010u
#define HV_MESSAGE_PAYLOAD_BYTES   240
#define HV_MESSAGE_FLAG_PENDING    (1u << 0)
#define HV_MESSAGE_TYPE_HYPERVISOR (1u << 31)   /* types the hypervisor sends; PostMessage refuses them */
/*
 * Connections (TLFS "Inter-Partition Communication": ports and connections
 * are made by the parent). Here each VM has one connection per VP and SINT,
 * a project convention (docs/hyperv.md): 0x10000 | VP index << 4 | SINT.
 */
#define HV_CONN_ID_BASE            0x10000u
#define HV_CONN_ID_MASK            0xfffu
#define HV_CONN_ID(vp, sint)       (HV_CONN_ID_BASE | (uint32_t)(vp) << 4 | (uint32_t)(sint))
struct hv_message {
	uint32_t type;
	uint8_t payload_size;
	uint8_t flags;
	uint16_t reserved;
	uint64_t origin;               /* the port the message came through */
	uint8_t payload[HV_MESSAGE_PAYLOAD_BYTES];
} __attribute__((packed));
_Static_assert(sizeof(struct hv_message) == 256, "TLFS HV_MESSAGE");
struct hv_timer_message_payload {
	uint32_t timer_index;
	uint32_t reserved;
	uint64_t expiration_time;      /* when it should have fired, reference time */
	uint64_t delivery_time;        /* when the message was written */
} __attribute__((packed));

/*
 * Register names for Get/SetVpRegisters (TLFS "HV_REGISTER_NAME"; Linux
 * include/hyperv/hvgdk_mini.h enum hv_register_name).
 */
#define HV_REGISTER_HYPERVISOR_VERSION     0x00000100u
#define HV_REGISTER_PRIVILEGES_AND_FEATURES 0x00000200u
#define HV_REGISTER_FEATURES               0x00000201u
#define HV_REGISTER_IMPLEMENTATION_LIMITS  0x00000202u
#define HV_REGISTER_HARDWARE_FEATURES      0x00000203u
#define HV_REGISTER_GUEST_CRASH_P0         0x00000210u
#define HV_REGISTER_GUEST_CRASH_CTL        0x00000215u
#define HV_X64_REGISTER_RAX                0x00020000u   /* RAX..R15 in encoding order */
#define HV_X64_REGISTER_RIP                0x00020010u
#define HV_X64_REGISTER_RFLAGS             0x00020011u
#define HV_X64_REGISTER_CR0                0x00040000u
#define HV_X64_REGISTER_CR2                0x00040001u
#define HV_X64_REGISTER_CR3                0x00040002u
#define HV_X64_REGISTER_CR4                0x00040003u
#define HV_X64_REGISTER_CR8                0x00040004u
#define HV_X64_REGISTER_TSC                0x00080000u
#define HV_X64_REGISTER_EFER               0x00080001u
#define HV_REGISTER_GUEST_OS_ID            0x00090002u
#define HV_REGISTER_VP_INDEX               0x00090003u
#define HV_REGISTER_TIME_REF_COUNT         0x00090004u
#define HV_REGISTER_VP_ASSIST_PAGE         0x00090013u
#define HV_REGISTER_REFERENCE_TSC          0x00090017u
#define HV_REGISTER_SINT0                  0x000a0000u
#define HV_REGISTER_SCONTROL               0x000a0010u
#define HV_REGISTER_SVERSION               0x000a0011u
#define HV_REGISTER_SIEFP                  0x000a0012u
#define HV_REGISTER_SIMP                   0x000a0013u
#define HV_REGISTER_EOM                    0x000a0014u
#define HV_REGISTER_STIMER0_CONFIG         0x000b0000u   /* then COUNT; timer n at + 2n */
#define HV_REGISTER_VSM_CODE_PAGE_OFFSETS  0x000d0002u   /* VTL call offset 11:0, VTL return 23:12 */

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
#define HV_MSR_SYNIC_AVAILABLE           (1u << 2)
#define HV_MSR_SYNTIMER_AVAILABLE        (1u << 3)
#define HV_MSR_RESET_AVAILABLE           (1u << 7)
#define HV_MSR_APIC_ACCESS_AVAILABLE     (1u << 4)
#define HV_MSR_REFERENCE_TSC_AVAILABLE   (1u << 9)
#define HV_MSR_HYPERCALL_AVAILABLE       (1u << 5)
#define HV_MSR_VP_INDEX_AVAILABLE        (1u << 6)
#define HV_ACCESS_FREQUENCY_MSRS         (1u << 11)
/* 0x40000003 EBX */
#define HV_POST_MESSAGES                 (1u << 4)
#define HV_SIGNAL_EVENTS                 (1u << 5)
#define HV_ACCESS_VP_REGISTERS           (1u << 17)
#define HV_ENABLE_EXTENDED_HYPERCALLS    (1u << 20)
/* 0x40000003 EDX */
#define HV_X64_HYPERCALL_XMM_INPUT_AVAILABLE  (1u << 4)
#define HV_X64_HYPERCALL_XMM_OUTPUT_AVAILABLE (1u << 15)
#define HV_STIMER_DIRECT_MODE_AVAILABLE       (1u << 19)
#define HV_FEATURE_FREQUENCY_MSRS_AVAILABLE (1u << 8)
#define HV_FEATURE_GUEST_CRASH_MSR_AVAILABLE (1u << 10)
/* 0x40000004 EAX: recommendations */
#define HV_X64_REMOTE_TLB_FLUSH_RECOMMENDED  (1u << 2)
#define HV_X64_APIC_ACCESS_RECOMMENDED       (1u << 3)
#define HV_DEPRECATING_AEOI_RECOMMENDED      (1u << 9)
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
