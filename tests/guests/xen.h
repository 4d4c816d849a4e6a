/*
 * What the Xen checks share (xen.c, xen_events.c): the suite name, the
 * hypercall numbers and results they use (xen/include/public/xen.h,
 * errno.h, arch-x86/cpuid.h) and the call helpers of xen.c.
 */
#ifndef TESTS_GUESTS_XEN_H
#define TESTS_GUESTS_XEN_H

#include "guest.h"

/* one suite name in both builds: the VM prefix of each line tells them apart */
#define XEN_SUITE "xen"

#define XEN_CPUID_BASE 0x40000000u          /* arch-x86/cpuid.h; base+3 ECX: TSC kHz */

/* xen.h __HYPERVISOR_* */
#define __HYPERVISOR_set_trap_table   0
#define __HYPERVISOR_memory_op       12
#define __HYPERVISOR_xen_version     17
#define __HYPERVISOR_console_io      18
#define __HYPERVISOR_iret            23
#define __HYPERVISOR_vcpu_op         24
#define __HYPERVISOR_sched_op        29
#define __HYPERVISOR_event_channel_op 32
#define __HYPERVISOR_hvm_op          34

/* errno.h: results are -errno */
#define XEN_EPERM   ((ulong)-1l)
#define XEN_ENOENT  ((ulong)-2l)
#define XEN_ESRCH   ((ulong)-3l)
#define XEN_ENXIO   ((ulong)-6l)
#define XEN_EFAULT  ((ulong)-14l)
#define XEN_EBUSY   ((ulong)-16l)
#define XEN_EEXIST  ((ulong)-17l)
#define XEN_EINVAL  ((ulong)-22l)
#define XEN_ENOSYS  ((ulong)-38l)
#define XEN_ETIME   ((ulong)-62l)

/* xen.h */
#define DOMID_SELF 0x7ff0u

/* xen.c: a call through the hypercall page (or the vendor's instruction), guarded like a probe */
ulong xen_hc(ulong nr, ulong a0, ulong a1, ulong a2);
/* fails the current check unless the call returned want without a fault */
void expect_xen(const char *what, ulong got, ulong want);

/* xen.c: a call through `target` (a stub ending in RET); the vendor's 3-byte hypercall instruction */
ulong xen_call_at(const void *target, ulong nr, ulong a0, ulong a1, ulong a2);
const uint8_t *xen_vendor_insn(void);
const uint8_t *xen_other_insn(void);
bool xen_page_at(uint32_t msr);

/* xen_events.c: shared_info, time, HVM params, event channels, timers, block/poll */
void xen_events_checks(unsigned int domid);
/* port p's pending bit in shared_info: whether it was set (it is cleared); its mask bit; Xen system time */
bool xen_port_take(uint32_t p);
void xen_port_mask(uint32_t p, bool on);
uint64_t xen_now(void);
/* xen_domains.c: grant tables, continuations, and with a peer domain, interdomain channels and grants */
void xen_domain_checks(unsigned int domid, unsigned int peer);
/* xen_balloon.c: pages out of the domain and back */
void xen_balloon_checks(void);

#endif
