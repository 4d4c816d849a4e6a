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

/*
 * Host pointer for `gpa`. Callers take the pointer in a statement of its own:
 * *avail is only valid after the call returns. and how many bytes from it stay inside the same page
 * (never more than `want`). NULL for a hole, or a read-only slot when writing.
 */
static uint8_t *gmem_page(struct vm *vm, uint64_t gpa, bool write, size_t want, size_t *avail)
{
	for (unsigned i = 0; i < vm->nr_slots; i++) {
		const struct vm_slot *s = &vm->slots[i];
		if (gpa < s->gpa || gpa - s->gpa >= s->size)
			continue;
		if ((write && (s->flags & SLOT_READONLY)) || gmem_page_removed(vm, gpa))
			return NULL;
		*avail = MIN(MIN(want, PAGE_SIZE - (gpa & (PAGE_SIZE - 1))), s->size - (gpa - s->gpa));
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

/* The slot byte behind `gfn`, removed or not; NULL outside guest RAM. */
static uint8_t *page_backing(struct vm *vm, uint64_t gfn)
{
	uint64_t gpa = gfn << PAGE_SHIFT;
	if (gfn >= (1ull << (64 - PAGE_SHIFT)))
		return NULL;
	for (unsigned i = 0; i < vm->nr_slots; i++) {
		const struct vm_slot *s = &vm->slots[i];
		if (gpa >= s->gpa && gpa - s->gpa < s->size && !(s->flags & SLOT_READONLY))
			return s->hva + (gpa - s->gpa);
	}
	return NULL;
}

int gmem_page_remove(struct vm *vm, uint64_t gfn)
{
	if (!page_backing(vm, gfn) || gmem_page_removed(vm, gfn << PAGE_SHIFT))
		return -EINVAL;
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
	int r = arch_guest_page_set(vm, gfn << PAGE_SHIFT, false);
	if (r)
		return r;
	vm->removed[gfn / 64] |= 1ull << (gfn % 64);
	vm->nr_removed++;
	return 0;
}

int gmem_page_restore(struct vm *vm, uint64_t gfn)
{
	uint8_t *page = page_backing(vm, gfn);
	if (!page)
		return -EINVAL;
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
