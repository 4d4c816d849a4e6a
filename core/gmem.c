#include "core/gmem.h"
#include "core/string.h"
#include "core/vm.h"

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
		if (write && (s->flags & SLOT_READONLY))
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
