/*
 * Xen hypercall ABI facts for HVM/PVH guests (Xen xen/include/public/:
 * xen.h, version.h, features.h, sched.h, errno.h, arch-x86/cpuid.h; the
 * calling convention from xen/arch/x86/hvm/hypercall.c).
 */
#ifndef HYPERCALLS_XEN_XEN_ABI_H
#define HYPERCALLS_XEN_XEN_ABI_H

#include "core/types.h"

/* Hypercall numbers (xen.h __HYPERVISOR_*) */
#define __HYPERVISOR_memory_op         12
#define __HYPERVISOR_multicall         13
#define __HYPERVISOR_xen_version       17
#define __HYPERVISOR_console_io        18
#define __HYPERVISOR_grant_table_op    20
#define __HYPERVISOR_iret              23
#define __HYPERVISOR_vcpu_op           24
#define __HYPERVISOR_sched_op          29
#define __HYPERVISOR_event_channel_op  32
#define __HYPERVISOR_hvm_op            34
#define XEN_NR_HYPERCALLS              56     /* 48-55 are arch_0-7 */

/* errno.h: results are -errno */
#define XEN_EPERM      1
#define XEN_ENOENT     2
#define XEN_ESRCH      3
#define XEN_ENXIO      6
#define XEN_ENOMEM    12
#define XEN_EFAULT    14
#define XEN_EBUSY     16
#define XEN_EEXIST    17
#define XEN_EINVAL    22
#define XEN_ENOSPC    28
#define XEN_ENOSYS    38
#define XEN_EOPNOTSUPP 95

/* CPUID (arch-x86/cpuid.h): leaves base+0 .. base+4 */
#define XEN_CPUID_SIGNATURE_EBX 0x566e6558u   /* "XenV" */
#define XEN_CPUID_SIGNATURE_ECX 0x65584d4du   /* "MMXe" */
#define XEN_CPUID_SIGNATURE_EDX 0x4d4d566eu   /* "nVMM" */
#define XEN_CPUID_MAX_OFFSET    5             /* XEN_CPUID_MAX_NUM_LEAVES since Xen 4.10 */
#define XEN_HYPERCALL_MSR       0x40000000u   /* CPUID base+2 EBX */
#define XEN_HYPERCALL_MSR_VIRIDIAN 0x40000200u /* beside Hyper-V (xen/arch/x86/cpuid.c, with viridian) */
#define XEN_HVM_CPUID_APIC_ACCESS_VIRT (1u << 0)
#define XEN_HVM_CPUID_X2APIC_VIRT      (1u << 1)
#define XEN_HVM_CPUID_IOMMU_MAPPINGS   (1u << 2)
#define XEN_HVM_CPUID_VCPU_ID_PRESENT  (1u << 3)
#define XEN_HVM_CPUID_DOMID_PRESENT    (1u << 4)
#define XEN_HVM_CPUID_UPCALL_VECTOR    (1u << 6)

/* base+3 sub-leaf 0 (cpuid.h XEN_CPUID_TSC_*; tsc_mode 0 is "default") */
#define XEN_CPUID_HOST_TSC_RELIABLE    (1u << 1)
#define XEN_TSC_MODE_DEFAULT           0

/* The version we report: Xen 4.17 */
#define XEN_VERSION_MAJOR 4
#define XEN_VERSION_MINOR 17

/* xen_version sub-ops (version.h XENVER_*) and their buffers */
#define XENVER_version      0
#define XENVER_extraversion 1      /* char[16] */
#define XENVER_compile_info 2      /* struct xen_compile_info */
#define XENVER_capabilities 3      /* char[1024] */
#define XENVER_changeset    4      /* char[64] */
#define XENVER_platform_parameters 5
#define XENVER_get_features 6
#define XENVER_pagesize     7
#define XENVER_guest_handle 8      /* uint8_t[16] */
#define XENVER_commandline  9      /* char[1024] */
#define XENVER_build_id     10
#define XEN_EXTRAVERSION_LEN   16
#define XEN_CAPABILITIES_LEN   1024
#define XEN_CHANGESET_LEN      64
#define XEN_DOMAIN_HANDLE_LEN  16
#define XEN_COMMANDLINE_LEN    1024
struct xen_compile_info {
	char compiler[64], compile_by[16], compile_domain[32], compile_date[32];
};
struct xen_feature_info { uint32_t submap_idx, submap; };

/* features.h XENFEAT_* (submap 0) */
#define XENFEAT_writable_page_tables      0
#define XENFEAT_auto_translated_physmap   2
#define XENFEAT_supervisor_mode_kernel    3
#define XENFEAT_hvm_callback_vector       8
#define XENFEAT_hvm_safe_pvclock          9
#define XENFEAT_not_direct_mapped        16

/* console_io (xen.h CONSOLEIO_*) */
#define CONSOLEIO_write 0
#define CONSOLEIO_read  1

/* sched_op (sched.h SCHEDOP_*, SHUTDOWN_*) */
#define SCHEDOP_yield    0
#define SCHEDOP_block    1
#define SCHEDOP_shutdown 2
#define SCHEDOP_poll     3
#define SCHEDOP_remote_shutdown 4
#define SCHEDOP_pin_override    7
#define SHUTDOWN_poweroff 0
#define SHUTDOWN_reboot   1
#define SHUTDOWN_suspend  2
#define SHUTDOWN_crash    3
#define SHUTDOWN_watchdog 4

/* Domains (xen.h) */
#define DOMID_FIRST_RESERVED 0x7ff0u   /* IDs from here on are special, not domains */
#define DOMID_SELF 0x7ff0u

/* memory_op (memory.h) */
#define XENMEM_decrease_reservation 1
#define XENMEM_current_reservation  3
#define XENMEM_maximum_reservation  4
#define XENMEM_populate_physmap     6
#define XENMEM_add_to_physmap   7
#define XENMEM_memory_map       9
#define XEN_MEMOP_CMD_MASK      0x3full      /* (1 << MEMOP_EXTENT_SHIFT) - 1 */
#define XENMAPSPACE_shared_info 0
#define XENMAPSPACE_grant_table 1
#define XENMAPIDX_grant_table_status 0x80000000u   /* v2 status frames: with v1, just a large idx */
#define XENMEM_remove_from_physmap 15

/*
 * Grant tables (xen/include/public/grant_table.h; behaviour of
 * xen/common/grant_table.c, xen/arch/x86/hvm/grant_table.c, and the HVM
 * filter in xen/arch/x86/hvm/hypercall.c)
 */
#define GNTTABOP_map_grant_ref   0
#define GNTTABOP_unmap_grant_ref 1
#define GNTTABOP_setup_table     2
#define GNTTABOP_copy            5
#define GNTTABOP_query_size      6
#define GNTTABOP_set_version     8
#define GNTTABOP_get_version    10
#define GNTTABOP_swap_grant_ref 11
#define GNTTABOP_CMD_MASK    0xfffu             /* higher bits: continuation argument (cache_flush only) */
#define GNTTAB_ENTRIES_PER_FRAME 512            /* v1: 8-byte entries in a 4 KiB frame */
#define GNTTAB_NR_RESERVED_ENTRIES 8
/* grant_entry_v1 { uint16_t flags; domid_t domid; uint32_t frame; } */
#define GTF_permit_access 1
#define GTF_type_mask     3
#define GTF_readonly      0x0004
#define GTF_reading       0x0008
#define GTF_writing       0x0010
#define GTF_sub_page      0x0100
#define GNTMAP_device_map      0x01
#define GNTMAP_host_map        0x02
#define GNTMAP_readonly        0x04
#define GNTMAP_application_map 0x08
#define GNTMAP_contains_pte    0x10
#define GNTCOPY_source_gref 0x1
#define GNTCOPY_dest_gref   0x2
/* GNTST_*: a status in each op, not the call's result */
#define GNTST_okay             0
#define GNTST_general_error   (-1)
#define GNTST_bad_domain      (-2)
#define GNTST_bad_gntref      (-3)
#define GNTST_bad_handle      (-4)
#define GNTST_bad_virt_addr   (-5)
#define GNTST_no_device_space (-7)
#define GNTST_permission_denied (-8)
#define GNTST_bad_page        (-9)
#define GNTST_bad_copy_arg   (-10)
#define GNTST_address_too_big (-11)
#define GNTST_eagain         (-12)

/* hvm_op (hvm/hvm_op.h) and its parameters (hvm/params.h) */
#define HVMOP_op_mask                  0xffull
#define HVMOP_set_param                0
#define HVMOP_get_param                1
#define HVMOP_set_evtchn_upcall_vector 23
#define HVM_PARAM_CALLBACK_IRQ   0
#define HVM_PARAM_STORE_PFN      1
#define HVM_PARAM_STORE_EVTCHN   2
#define HVM_PARAM_PAE_ENABLED    4
#define HVM_PARAM_CONSOLE_PFN    17
#define HVM_PARAM_CONSOLE_EVTCHN 18
#define HVM_NR_PARAMS            39
/* hvm.c hvm_allow_{set,get}_param "deprecated": PAE_ENABLED, DM_DOMAIN, MEMORY_EVENT_*, NESTEDHVM, BUFIOREQ_EVTCHN */
#define HVM_PARAM_DEPRECATED     ((1ull << 4) | (1ull << 13) | (0x7full << 20) | (1ull << 30))
#define HVM_PARAM_CALLBACK_TYPE_SHIFT  56
#define HVM_PARAM_CALLBACK_TYPE_VECTOR 2

/* vcpu_op (vcpu.h VCPUOP_*) */
#define VCPUOP_initialise            0   /* arg: struct vcpu_hvm_context (hvm/hvm_vcpu.h) for HVM */
#define VCPUOP_up                    1
#define VCPUOP_down                  2
#define VCPUOP_is_up                 3
#define VCPUOP_register_runstate_memory_area 5
#define RUNSTATE_running  0
#define RUNSTATE_runnable 1
#define RUNSTATE_blocked  2
#define RUNSTATE_offline  3
#define XEN_RUNSTATE_UPDATE (1ull << 63)    /* in state_entry_time while it is rewritten */
/* vm_assist (xen.h VMASST_*): HVM guests may only ask for the runstate update flag */
#define __HYPERVISOR_vm_assist         21
#define VMASST_CMD_enable              0
#define VMASST_CMD_disable             1
#define VMASST_TYPE_runstate_update_flag 5
#define VCPUOP_set_periodic_timer    6
#define VCPUOP_stop_periodic_timer   7
#define VCPUOP_set_singleshot_timer  8
#define VCPUOP_stop_singleshot_timer 9
#define VCPUOP_register_vcpu_info    10
#define VCPU_SSHOTTMR_future         (1u << 0)
#define XEN_ETIME                    62
/* set_periodic_timer bounds (xen/common/domain.c: at least 1 ms; STIME_DELTA_MAX) */
#define XEN_PERIODIC_MIN_NS          1000000ull
#define XEN_PERIODIC_MAX_NS          (1ull << 62)

/* event_channel_op (event_channel.h EVTCHNOP_*, EVTCHNSTAT_*) and VIRQs (xen.h) */
#define EVTCHNOP_bind_interdomain 0
#define EVTCHNOP_bind_virq        1
#define EVTCHNOP_close            3
#define EVTCHNOP_send             4
#define EVTCHNOP_status           5
#define EVTCHNOP_alloc_unbound    6
#define EVTCHNOP_bind_ipi         7
#define EVTCHNOP_bind_vcpu        8
#define EVTCHNOP_unmask           9
#define EVTCHNSTAT_closed      0
#define EVTCHNSTAT_unbound     1
#define EVTCHNSTAT_interdomain 2
#define EVTCHNSTAT_pirq        3
#define EVTCHNSTAT_virq        4
#define EVTCHNSTAT_ipi         5
#define VIRQ_TIMER   0
#define VIRQ_DEBUG   1
#define VIRQ_XENOPROF 7
#define VIRQ_XENPMU  13

#endif
