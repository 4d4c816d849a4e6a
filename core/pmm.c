#define LOG_SUB_FILE LOG_SUB_MEM   /* its messages: loglevel=mem:LEVEL */
#include "core/arch.h"
#include "core/boot_info.h"
#include "core/pmm.h"
#include "core/string.h"

/* Below 1 MiB live the real-mode IVT, BIOS data, EBDA, VGA and option ROMs. */
#define PMM_LOW_LIMIT MiB(1)

static struct {
	uint64_t *bits;        /* 1 = not available; indexed by page frame number */
	uint64_t *zeroed;      /* 1 = a free frame pmm_zero_ahead zeroed: pmm_alloc need not */
	uint64_t nr_frames;    /* frames covered by the bitmaps */
	uint64_t free, total;
	uint64_t hint;         /* first frame worth looking at */
	uint64_t zero_next;    /* where pmm_zero_ahead goes on */
} pmm;

static bool frame_used(uint64_t f) { return pmm.bits[f / 64] & (1ull << (f % 64)); }
static bool frame_zeroed(uint64_t f) { return pmm.zeroed[f / 64] & (1ull << (f % 64)); }

/* A bitmap word at a time: boot marks gigabytes, and each VM's RAM is thousands of frames. */
static void mark(uint64_t first, uint64_t count, bool used)
{
	uint64_t end = MIN(first + count, pmm.nr_frames);
	for (uint64_t f = first; f < end;) {
		unsigned bit = f % 64;
		uint64_t n = MIN(64 - bit, end - f);
		uint64_t m = (n == 64 ? ~0ull : (1ull << n) - 1) << bit;
		uint64_t *w = &pmm.bits[f / 64];
		unsigned changed = popcount64((used ? ~*w : *w) & m);
		if (used) {
			*w |= m;
			pmm.free -= changed;
		} else {
			*w &= ~m;
			pmm.free += changed;
		}
		f += n;
	}
}

/* End of [base, base+len); a (bogus) range wrapping past 2^64 ends at the top. */
static uint64_t range_end(uint64_t base, uint64_t len)
{
	return base + len < base ? UINT64_MAX : base + len;
}

/* Marks every frame that [base, base+len) touches. */
static void mark_range(uint64_t base, uint64_t len, bool used)
{
	if (!len)
		return;
	uint64_t first = base >> PAGE_SHIFT;
	uint64_t last = (range_end(base, len) - 1) >> PAGE_SHIFT;
	mark(first, last - first + 1, used);
}

static bool overlaps(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return a < range_end(b, blen) && b < range_end(a, alen);
}

/* The end of the first forbidden range overlapping [base, base+len), or 0 if none. */
static uint64_t conflict_end(const struct boot_info *bi, const struct pmm_range *ex,
                             size_t nr_ex, uint64_t base, uint64_t len)
{
	if (base < PMM_LOW_LIMIT)
		return PMM_LOW_LIMIT;
	for (size_t i = 0; i < nr_ex; i++)
		if (overlaps(base, len, ex[i].base, ex[i].len))
			return range_end(ex[i].base, ex[i].len);
	for (uint32_t i = 0; i < bi->nr_mmap; i++) {
		const struct boot_mem_region *r = &bi->mmap[i];
		if (r->type != BOOT_MEM_USABLE && overlaps(base, len, r->base, r->len))
			return range_end(r->base, r->len);
	}
	return 0;
}

/* Finds room for the bitmap itself inside usable RAM that nothing else claims. */
static uint64_t place_bitmap(const struct boot_info *bi, const struct pmm_range *ex,
                             size_t nr_ex, uint64_t size)
{
	for (uint32_t i = 0; i < bi->nr_mmap; i++) {
		const struct boot_mem_region *r = &bi->mmap[i];
		if (r->type != BOOT_MEM_USABLE)
			continue;
		uint64_t end = ALIGN_DOWN(range_end(r->base, r->len), PAGE_SIZE);
		uint64_t at = ALIGN_UP(r->base, PAGE_SIZE);
		/* `at` only moves up; a conflict ending at the top of memory ends the search */
		while (at >= r->base && at < end && size <= end - at) {
			uint64_t c = conflict_end(bi, ex, nr_ex, at, size);
			if (!c)
				return at;
			if (c > UINT64_MAX - PAGE_SIZE)
				break;
			at = ALIGN_UP(c, PAGE_SIZE);
		}
	}
	return 0;
}

int pmm_init(const struct boot_info *bi, const struct pmm_range *exclude, size_t nr_exclude)
{
	uint64_t top = 0;
	for (uint32_t i = 0; i < bi->nr_mmap; i++) {
		const struct boot_mem_region *r = &bi->mmap[i];
		if (r->type == BOOT_MEM_USABLE && range_end(r->base, r->len) > top)
			top = range_end(r->base, r->len);
	}
	pmm.nr_frames = top >> PAGE_SHIFT;
	uint64_t bytes = ALIGN_UP(ALIGN_UP(pmm.nr_frames, 64) / 8, PAGE_SIZE);
	uint64_t at = pmm.nr_frames ? place_bitmap(bi, exclude, nr_exclude, 2 * bytes) : 0;
	if (!at)
		return -ENOMEM;
	pmm.bits = arch_phys_to_virt(at);
	memset(pmm.bits, 0xff, bytes);
	pmm.zeroed = arch_phys_to_virt(at + bytes);
	memset(pmm.zeroed, 0, bytes);
	pmm.free = 0;
	pmm.zero_next = 0;

	for (uint32_t i = 0; i < bi->nr_mmap; i++) {
		const struct boot_mem_region *r = &bi->mmap[i];
		if (r->type != BOOT_MEM_USABLE)
			continue;
		/* only whole pages inside a usable region are usable */
		uint64_t b = ALIGN_UP(r->base, PAGE_SIZE), e = ALIGN_DOWN(range_end(r->base, r->len), PAGE_SIZE);
		if (e > b)
			mark(b >> PAGE_SHIFT, (e - b) >> PAGE_SHIFT, false);
	}
	/* firmware maps may overlap: anything also reported non-usable stays out */
	for (uint32_t i = 0; i < bi->nr_mmap; i++)
		if (bi->mmap[i].type != BOOT_MEM_USABLE)
			mark_range(bi->mmap[i].base, bi->mmap[i].len, true);
	mark_range(0, PMM_LOW_LIMIT, true);
	for (size_t i = 0; i < nr_exclude; i++)
		mark_range(exclude[i].base, exclude[i].len, true);
	mark_range(at, 2 * bytes, true);
	pmm.total = pmm.free;
	pmm.hint = 0;
	return 0;
}

/* Frames [f, f + n) just taken: zeroed, except those pmm_zero_ahead did (they lose the mark). */
static void zero_frames(uint64_t f, uint64_t n)
{
	for (uint64_t i = 0; i < n;) {
		if (frame_zeroed(f + i)) {
			pmm.zeroed[(f + i) / 64] &= ~(1ull << ((f + i) % 64));
			i++;
			continue;
		}
		uint64_t j = i + 1;
		while (j < n && !frame_zeroed(f + j))
			j++;
		memset(arch_phys_to_virt((f + i) << PAGE_SHIFT), 0, (j - i) << PAGE_SHIFT);
		i = j;
	}
}

bool pmm_zero_ahead(void)
{
	for (uint64_t f = MAX(pmm.zero_next, pmm.hint); f < pmm.nr_frames; f++) {
		if (frame_used(f) || frame_zeroed(f))
			continue;
		memset(arch_phys_to_virt(f << PAGE_SHIFT), 0, PAGE_SIZE);
		pmm.zeroed[f / 64] |= 1ull << (f % 64);
		pmm.zero_next = f + 1;
		return true;
	}
	pmm.zero_next = pmm.nr_frames;
	return false;
}

hpa_t pmm_alloc(size_t npages, uint64_t align)
{
	uint64_t step = MAX(align, PAGE_SIZE) >> PAGE_SHIFT;
	if (!npages || (step & (step - 1)) || npages > pmm.free)
		return 0;
	for (uint64_t f = ALIGN_UP(pmm.hint, step); f + npages <= pmm.nr_frames && f + npages > f;) {
		uint64_t n = 0;
		while (n < npages && !frame_used(f + n))
			n++;
		if (n == npages) {
			mark(f, npages, true);
			if (step == 1 && f == pmm.hint)
				pmm.hint = f + npages;
			zero_frames(f, npages);
			return f << PAGE_SHIFT;
		}
		f = ALIGN_UP(f + n + 1, step);
	}
	return 0;
}

void pmm_free(hpa_t base, size_t npages)
{
	uint64_t f = base >> PAGE_SHIFT;
	if (!base || !IS_ALIGNED(base, PAGE_SIZE) || f + npages > pmm.nr_frames)
		return;
	mark(f, npages, false);
	if (f < pmm.hint)
		pmm.hint = f;
}

uint64_t pmm_free_pages(void) { return pmm.free; }
uint64_t pmm_total_pages(void) { return pmm.total; }

bool pmm_frame_free(hpa_t pa)
{
	uint64_t f = pa >> PAGE_SHIFT;
	return f < pmm.nr_frames && !frame_used(f);
}
