/* Shared by the files of the Xen ABI. */
#ifndef HYPERCALLS_XEN_XEN_H
#define HYPERCALLS_XEN_XEN_H

#include "core/vm.h"
#include "hypercalls/hypercall.h"

/* Guest buffers, through the guest-memory gate: 0 or -XEN_EFAULT (Xen copy_{to,from}_guest). */
int xen_copy_out(struct vcpu *v, uint64_t gpa, const void *src, size_t len);
int xen_copy_in(struct vcpu *v, uint64_t gpa, void *dst, size_t len);

/* The VM's domain ID: dom0 is the control domain in Xen, so VM n is domain n + 1. */
static inline uint32_t xen_domid(const struct vm *vm) { return vm->id + 1; }

#endif
