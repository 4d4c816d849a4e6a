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
/*
 * Another VM's page in this one (Xen grant maps): owner's RAM page
 * `owner_gfn` appears at `gfn` (RAM or not), for the guest through the
 * stage-2 map and for hypercalls through this gate, read-only unless
 * `writable`. RAM that was at gfn is given up as if ballooned out, and
 * after the unmap the gfn is empty, as Xen leaves it. While mapped, the
 * owner's page can be neither removed nor restored (-EBUSY), nor can a
 * removed page at gfn be restored (-EINVAL).
 * Map: 0, -EINVAL (not the owner's RAM or a page it made private, gfn out of range), -EBUSY
 * (something mapped there already), -ENOSPC (VM_MAX_FOREIGN), -ENOMEM.
 * Unmap: 0, -EINVAL (nothing foreign there).
 */
int gmem_foreign_map(struct vm *vm, uint64_t gfn, struct vm *owner, uint64_t owner_gfn, bool writable);
/* The same for a hypervisor page (Xen grant-table frames): it belongs to no VM. */
int gmem_host_page_map(struct vm *vm, uint64_t gfn, hpa_t hpa, bool writable);
int gmem_foreign_unmap(struct vm *vm, uint64_t gfn);
/*
 * Private pages (confidential-computing style): still the guest's, but the
 * hypervisor no longer reads or writes them (this gate refuses them); the
 * guest marks them private or shared again. A page that changes state has
 * its cache lines cleaned first (arch_cache_clean), as a conversion needs
 * when the two views are encrypted differently. 0, -EINVAL (not all guest
 * RAM of the VM), -EBUSY (making private a page another VM has mapped), -ENOMEM.
 */
int gmem_set_private(struct vm *vm, uint64_t gfn, uint64_t npages, bool private);
bool gmem_page_private(const struct vm *vm, uint64_t gfn);
/* Frees what the gate allocated for the VM (the removed and private maps). */
void gmem_destroy(struct vm *vm);
/* Whether the page at gfn is the VM's own RAM, there (not given back, nothing mapped over it). */
bool gmem_page_is_ram(struct vm *vm, uint64_t gfn);
bool gmem_page_is_foreign(struct vm *vm, uint64_t gfn);

#endif
