/*
 * Guest memory: the ONLY code that reads or writes guest-physical memory.
 * Every access is bounds- and overflow-checked and translated page by page
 * through the VM's memory slots, so a buffer that crosses into a hole or a
 * read-only slot fails as a whole with -EFAULT before anything is written.
 */
#ifndef CORE_GMEM_H
#define CORE_GMEM_H

#include "core/types.h"

struct vm;

/* Largest single access: bounds what a guest-supplied size can make us touch. */
#define GMEM_MAX_ACCESS MiB(64)

int gmem_read(struct vm *vm, gpa_t gpa, void *dst, size_t len);
int gmem_write(struct vm *vm, gpa_t gpa, const void *src, size_t len);
int gmem_zero(struct vm *vm, gpa_t gpa, size_t len);
/* True when [gpa, gpa+len) is all guest RAM (writable when `write`). */
bool gmem_range_ok(struct vm *vm, gpa_t gpa, size_t len, bool write);

/*
 * Ballooning. A removed page of guest RAM leaves the VM: its stage-2
 * mapping goes (the guest faults on it) and this gate refuses it; its host
 * memory stays the VM's. Restoring brings it back zeroed, as a fresh page.
 * Remove: 0, -EINVAL (not RAM, or already removed), -ENOMEM. Restore: 0,
 * -EINVAL (not RAM of the VM); a page that is there is zeroed all the same.
 */
int gmem_page_remove(struct vm *vm, uint64_t gfn);
/* Whether the page at `gpa` was removed (a guest touching it faults: its VM ends, as under Xen). */
bool gmem_page_removed(const struct vm *vm, uint64_t gpa);
int gmem_page_restore(struct vm *vm, uint64_t gfn);

#endif
