/*
 * The project's own calls (docs/extensions.md): not part of KVM, Hyper-V
 * or Xen, and no call number of theirs. Off unless the VM is given ext=on.
 * The numbers are ours; they are chosen so that none is a valid call of any
 * of the three ABIs: above every KVM and Xen call number, and with Hyper-V's
 * reserved input bits (27-30) set for a 32-bit caller, whose EAX is the low
 * half of the Hyper-V input value.
 */
#ifndef HYPERCALLS_EXT_EXT_ABI_H
#define HYPERCALLS_EXT_EXT_ABI_H

/* CPUID: our block, after any ABI's (Linux scans 0x40000000-0x4000ff00 for signatures it knows) */
#define EXT_CPUID_BASE       0x40000f00u
#define EXT_CPUID_SIGNATURE  "uHVextuHVext"      /* EBX, ECX, EDX of EXT_CPUID_BASE */
#define EXT_CPUID_FEATURES   0x40000f01u        /* EAX: EXT_F_*; EBX: the first call number */

#define EXT_NR_BASE 0x4d480000u                  /* "MH" << 16: call n is EXT_NR_BASE + n, in RAX */
#define EXT_DEBUG_LOG       0    /* (gpa, len): a line of text into the hypervisor log; -> bytes logged */
#define EXT_UNMAP_GPA_RANGE 1    /* (gpa, npages, flags): pages back to the hypervisor (flags 1: and back) */
#define EXT_MEM_ATTRIBUTES  2    /* (gpa, npages, attrs): private or shared, with cache maintenance */
#define EXT_INJECT_EVENT    3    /* (vcpu, vector): a fixed interrupt into one of the VM's own vCPUs */
#define EXT_NR_CALLS        4

#define EXT_F_DEBUG_LOG       (1u << EXT_DEBUG_LOG)
#define EXT_F_UNMAP_GPA_RANGE (1u << EXT_UNMAP_GPA_RANGE)
#define EXT_F_MEM_ATTRIBUTES  (1u << EXT_MEM_ATTRIBUTES)
#define EXT_F_INJECT_EVENT    (1u << EXT_INJECT_EVENT)

#define EXT_UNMAP_RESTORE   1u   /* EXT_UNMAP_GPA_RANGE flags: bring the pages back, zeroed */
#define EXT_ATTR_PRIVATE    1u   /* EXT_MEM_ATTRIBUTES attrs: the hypervisor may no longer touch them */

#define EXT_LOG_MAX         256  /* bytes per EXT_DEBUG_LOG */
#define EXT_LOG_BUDGET      65536 /* bytes per VM, in all: then -ENOSPC */
#define EXT_RANGE_MAX       512  /* pages per UNMAP/MEM_ATTRIBUTES call */

/* Results: 0 or more, or a Linux -errno (as KVM's calls) */
#define EXT_EPERM   1
#define EXT_EFAULT 14
#define EXT_EINVAL 22
#define EXT_ENOSPC 28
#define EXT_ENOMEM 12
#define EXT_EBUSY  16

#endif
