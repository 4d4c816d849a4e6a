#define LOG_SUB_FILE LOG_SUB_MEM   /* its messages: loglevel=mem:LEVEL */
#include "core/arch.h"
#include "core/gmem.h"
#include "core/pmm.h"
#include "core/string.h"
#include "core/vm.h"

bool gmem_page_removed(const struct vm *vm, uint64_t gpa)
{
	uint64_t gfn = gpa >> PAGE_SHIFT;
	return vm->removed && gfn < vm->removed_bits && (vm->removed[gfn / 64] >> (gfn % 64)) & 1;
}

/* The foreign page mapped at `gfn`, or NULL (the table is kept packed: nr_foreign entries). */
static struct vm_foreign *foreign_at(struct vm *vm, uint64_t gfn)
{
	for (unsigned i = 0; i < vm->nr_foreign; i++)
		if (vm->foreign[i].gfn == gfn)
			return &vm->foreign[i];
	return NULL;
}

/*
 * Host pointer for `gpa`. Callers take the pointer in a statement of its own:
 * *avail is only valid after the call returns. and how many bytes from it stay inside the same page
 * (never more than `want`). NULL for a hole, or a read-only slot when writing.
 */
static uint8_t *gmem_page(struct vm *vm, uint64_t gpa, bool write, size_t want, size_t *avail)
{
	if (vm->nr_foreign) {
		const struct vm_foreign *f = foreign_at(vm, gpa >> PAGE_SHIFT);
		if (f) {
			if (write && !f->writable)
				return NULL;
			*avail = MIN(want, PAGE_SIZE - (gpa & (PAGE_SIZE - 1)));
			return f->hva + (gpa & (PAGE_SIZE - 1));
		}
	}
	for (unsigned i = 0; i < vm->nr_slots; i++) {
		const struct vm_slot *s = &vm->slots[i];
		if (gpa < s->gpa || gpa - s->gpa >= s->size)
			continue;
		if ((write && (s->flags & SLOT_READONLY)) || gmem_page_removed(vm, gpa) ||
		    (vm->nr_private && gmem_page_private(vm, gpa >> PAGE_SHIFT)))
			return NULL;
		/*
		 * A slot is contiguous in host memory: with no page removed, private
		 * or foreign anywhere in the VM, the rest of the slot is one span
		 * (images load and bss is zeroed at boot in one piece, not per page).
		 */
		uint64_t span = !vm->nr_removed && !vm->nr_private && !vm->nr_foreign ?
		                s->size - (gpa - s->gpa) : PAGE_SIZE - (gpa & (PAGE_SIZE - 1));
		*avail = MIN(MIN((uint64_t)want, span), s->size - (gpa - s->gpa));
		return s->hva + (gpa - s->gpa);
	}
	return NULL;
}

/* Bounds and wrap-around: the one check every entry point starts with. */
static bool gmem_span_ok(gpa_t gpa, size_t len)
{
	return len <= GMEM_MAX_ACCESS && gpa.v + len >= gpa.v;
}

bool gmem_range_ok(struct vm *vm, gpa_t gpa, size_t len, bool write)
{
	if (!gmem_span_ok(gpa, len))
		return false;
	for (size_t done = 0, n = 0; done < len; done += n)
		if (!gmem_page(vm, gpa.v + done, write, len - done, &n))
			return false;
	return true;
}

int gmem_read(struct vm *vm, gpa_t gpa, void *dst, size_t len)
{
	if (!gmem_range_ok(vm, gpa, len, false))
		return -EFAULT;
	for (size_t done = 0, n = 0; done < len; done += n) {
		const uint8_t *src = gmem_page(vm, gpa.v + done, false, len - done, &n);
		memcpy((uint8_t *)dst + done, src, n);
	}
	return 0;
}

/* Writers check the whole range first so a failed write leaves guest memory untouched. */
int gmem_write(struct vm *vm, gpa_t gpa, const void *src, size_t len)
{
	if (!gmem_range_ok(vm, gpa, len, true))
		return -EFAULT;
	for (size_t done = 0, n = 0; done < len; done += n) {
		uint8_t *dst = gmem_page(vm, gpa.v + done, true, len - done, &n);
		memcpy(dst, (const uint8_t *)src + done, n);
	}
	return 0;
}

int gmem_zero(struct vm *vm, gpa_t gpa, size_t len)
{
	if (!gmem_range_ok(vm, gpa, len, true))
		return -EFAULT;
	for (size_t done = 0, n = 0; done < len; done += n) {
		uint8_t *dst = gmem_page(vm, gpa.v + done, true, len - done, &n);
		memset(dst, 0, n);
	}
	return 0;
}

/* The writable slot's page behind `gfn`, removed or not (and its host address); NULL outside guest RAM. */
static uint8_t *page_backing(struct vm *vm, uint64_t gfn, hpa_t *hpa)
{
	uint64_t gpa = gfn << PAGE_SHIFT;
	if (gfn >= (1ull << (64 - PAGE_SHIFT)))
		return NULL;
	for (unsigned i = 0; i < vm->nr_slots; i++) {
		const struct vm_slot *s = &vm->slots[i];
		if (gpa >= s->gpa && gpa - s->gpa < s->size && !(s->flags & SLOT_READONLY)) {
			if (hpa)
				*hpa = s->hpa + (gpa - s->gpa);
			return s->hva + (gpa - s->gpa);
		}
	}
	return NULL;
}

/* Records the RAM page at `gfn` as gone from the VM (its stage-2 entry is the caller's business). */
static int mark_removed(struct vm *vm, uint64_t gfn)
{
	if (!vm->removed) {
		uint64_t bits = ALIGN_UP(vm->mem_size >> PAGE_SHIFT, 64);
		hpa_t pa = pmm_alloc(ALIGN_UP(bits / 8, PAGE_SIZE) >> PAGE_SHIFT, PAGE_SIZE);   /* zeroed */
		if (!pa)
			return -ENOMEM;
		vm->removed = arch_phys_to_virt(pa);
		vm->removed_bits = bits;
	}
	if (gfn >= vm->removed_bits)
		return -EINVAL;
	vm->removed[gfn / 64] |= 1ull << (gfn % 64);
	vm->nr_removed++;
	return 0;
}

/* Whether another VM has the page at `gfn` of `owner` mapped (it must stay as it is). */
static bool mapped_elsewhere(const struct vm *owner, uint64_t gfn)
{
	for (unsigned id = 0; id < VM_MAX_VMS; id++) {
		const struct vm *m = vm_find(id);
		for (unsigned i = 0; m && i < m->nr_foreign; i++)
			if (m->foreign[i].owner == owner && m->foreign[i].owner_gfn == gfn)
				return true;
	}
	return false;
}

int gmem_page_remove(struct vm *vm, uint64_t gfn)
{
	if (!page_backing(vm, gfn, NULL) || gmem_page_removed(vm, gfn << PAGE_SHIFT) || foreign_at(vm, gfn))
		return -EINVAL;
	if (mapped_elsewhere(vm, gfn))
		return -EBUSY;
	if (gfn >= ALIGN_UP(vm->mem_size >> PAGE_SHIFT, 64))
		return -EINVAL;
	int r = arch_guest_page_set(vm, gfn << PAGE_SHIFT, false);
	if (!r && (r = mark_removed(vm, gfn)))
		arch_guest_page_set(vm, gfn << PAGE_SHIFT, true);   /* back as it was */
	return r;
}

int gmem_page_restore(struct vm *vm, uint64_t gfn)
{
	uint8_t *page = page_backing(vm, gfn, NULL);
	if (!page || foreign_at(vm, gfn))
		return -EINVAL;
	if (mapped_elsewhere(vm, gfn))
		return -EBUSY;
	memset(page, 0, PAGE_SIZE);
	if (!gmem_page_removed(vm, gfn << PAGE_SHIFT))
		return 0;
	int r = arch_guest_page_set(vm, gfn << PAGE_SHIFT, true);
	if (r)
		return r;
	vm->removed[gfn / 64] &= ~(1ull << (gfn % 64));
	vm->nr_removed--;
	return 0;
}

/* Puts `f` (hva, owner) at gfn: the stage-2 entry, RAM there given up, the table entry. */
static int map_at(struct vm *vm, uint64_t gfn, struct vm_foreign f, hpa_t hpa)
{
	if (foreign_at(vm, gfn))
		return -EBUSY;
	if (vm->nr_foreign == VM_MAX_FOREIGN)
		return -ENOSPC;
	bool ram = page_backing(vm, gfn, NULL) && !gmem_page_removed(vm, gfn << PAGE_SHIFT);
	if (ram && mapped_elsewhere(vm, gfn))
		return -EBUSY;
	int r = arch_guest_page_map(vm, gfn << PAGE_SHIFT, hpa, f.writable, true);
	if (!r && ram && (r = mark_removed(vm, gfn)))
		arch_guest_page_set(vm, gfn << PAGE_SHIFT, true);   /* back as it was */
	if (r)
		return r;
	f.gfn = gfn;
	vm->foreign[vm->nr_foreign++] = f;
	return 0;
}

int gmem_foreign_map(struct vm *vm, uint64_t gfn, struct vm *owner, uint64_t owner_gfn, bool writable)
{
	hpa_t hpa;
	uint8_t *page = page_backing(owner, owner_gfn, &hpa);
	if (!page || gmem_page_removed(owner, owner_gfn << PAGE_SHIFT) || foreign_at(owner, owner_gfn) ||
	    gmem_page_private(owner, owner_gfn))
		return -EINVAL;                                /* not the owner's own RAM, or its private page */
	return map_at(vm, gfn, (struct vm_foreign){ .writable = writable, .hva = page,
	                                            .owner = owner, .owner_gfn = owner_gfn }, hpa);
}

int gmem_host_page_map(struct vm *vm, uint64_t gfn, hpa_t hpa, bool writable)
{
	return map_at(vm, gfn, (struct vm_foreign){ .writable = writable, .hva = arch_phys_to_virt(hpa) }, hpa);
}

bool gmem_page_is_ram(struct vm *vm, uint64_t gfn)
{
	return page_backing(vm, gfn, NULL) && !gmem_page_removed(vm, gfn << PAGE_SHIFT) && !foreign_at(vm, gfn);
}

bool gmem_page_is_foreign(struct vm *vm, uint64_t gfn)
{
	return foreign_at(vm, gfn) != NULL;
}

int gmem_foreign_unmap(struct vm *vm, uint64_t gfn)
{
	struct vm_foreign *f = foreign_at(vm, gfn);
	if (!f)
		return -EINVAL;
	int r = arch_guest_page_map(vm, gfn << PAGE_SHIFT, 0, false, false);
	if (r)
		return r;
	*f = vm->foreign[--vm->nr_foreign];
	return 0;
}

/* ---- private pages ---- */

static size_t private_map_pages(const struct vm *vm)
{
	return ALIGN_UP(ALIGN_UP(vm->mem_size >> PAGE_SHIFT, 64) / 8, PAGE_SIZE) >> PAGE_SHIFT;
}

bool gmem_page_private(const struct vm *vm, uint64_t gfn)
{
	return vm->private_map && gfn < (vm->mem_size >> PAGE_SHIFT) && (vm->private_map[gfn / 64] >> (gfn % 64)) & 1;
}

int gmem_set_private(struct vm *vm, uint64_t gfn, uint64_t npages, bool private)
{
	uint64_t end = gfn + npages;
	if (end < gfn || end > vm->mem_size >> PAGE_SHIFT)
		return -EINVAL;
	for (uint64_t f = gfn; f < end; f++) {
		if (!page_backing(vm, f, NULL))
			return -EINVAL;                            /* a hole or ROM inside */
		if (private && mapped_elsewhere(vm, f))
			return -EBUSY;                             /* another VM reaches it through the hypervisor */
	}
	if (!vm->private_map) {
		hpa_t pa = pmm_alloc(private_map_pages(vm), PAGE_SIZE);
		if (!pa)
			return -ENOMEM;
		vm->private_map = arch_phys_to_virt(pa);
	}
	for (uint64_t f = gfn; f < end; f++) {
		uint64_t bit = 1ull << (f % 64), *w = &vm->private_map[f / 64];
		if (!!(*w & bit) == private)
			continue;
		arch_cache_clean(page_backing(vm, f, NULL), PAGE_SIZE);
		*w ^= bit;
		vm->nr_private += private ? 1 : (uint64_t)-1;
	}
	return 0;
}

void gmem_destroy(struct vm *vm)
{
	if (vm->private_map)
		pmm_free(arch_virt_to_phys(vm->private_map), private_map_pages(vm));
	vm->private_map = NULL;
	if (vm->removed)
		pmm_free(arch_virt_to_phys(vm->removed), ALIGN_UP(vm->removed_bits / 8, PAGE_SIZE) >> PAGE_SHIFT);
	vm->removed = NULL;
}
