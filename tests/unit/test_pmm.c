/*
 * core/pmm.c on the fake machine (tests/fake_arch/fake_arch.h): what may and
 * may not be handed out, alignment, contiguity, zeroing, exhaustion, counts.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "core/pmm.h"
#include "tests/fake_arch/fake_arch.h"
#include "tests/fake_arch/fake_test.h"

#define ARENA_FRAMES (FAKE_PHYS_SIZE >> PAGE_SHIFT)

static struct boot_info bi;

static int setup(void **state)
{
	fake_arch_reset();
	/* garbage everywhere, so "zeroed" means pmm zeroed it */
	fake_phys_fill(0xa5);
	fake_pmm_setup(&bi);
	return 0;
}

static int teardown(void **state)
{
	fake_cleanup();
	return 0;
}

static bool touches(hpa_t frame, uint64_t base, uint64_t len)
{
	return frame < base + len && base < frame + PAGE_SIZE;
}

/* Every rule of pmm.h for the fake map; the allocator's own bitmap is checked separately. */
static bool forbidden(hpa_t frame)
{
	return frame < MiB(1) || frame < FAKE_PHYS_BASE || frame >= FAKE_PHYS_END ||
	       touches(frame, FAKE_RSVD_BASE, FAKE_RSVD_LEN) ||
	       touches(frame, FAKE_ACPI_BASE, FAKE_ACPI_LEN) ||
	       touches(frame, FAKE_NVS_BASE, FAKE_NVS_LEN) ||
	       touches(frame, FAKE_IMAGE_BASE, FAKE_IMAGE_LEN) ||
	       touches(frame, FAKE_MOD_BASE, FAKE_MOD_LEN);
}

static uint64_t allowed_frames(void)
{
	uint64_t n = 0;
	for (uint64_t f = 0; f < ARENA_FRAMES; f++)
		n += !forbidden(FAKE_PHYS_BASE + (f << PAGE_SHIFT));
	return n;
}

static void assert_range_not_free(uint64_t base, uint64_t len)
{
	for (hpa_t f = ALIGN_DOWN(base, PAGE_SIZE); f < base + len; f += PAGE_SIZE)
		if (pmm_frame_free(f))
			fail_fmt("frame 0x%llx is free but lies in [0x%llx, 0x%llx)",
			         (unsigned long long)f, (unsigned long long)base,
			         (unsigned long long)(base + len));
}

static void test_counts_after_init(void **state)
{
	uint64_t allowed = allowed_frames();
	assert_int_equal(pmm_total_pages(), pmm_free_pages());
	/* the allocator may keep a few pages of the arena for its own bitmap */
	assert_true(pmm_total_pages() <= allowed);
	assert_true(pmm_total_pages() >= allowed - 4);
}

static void test_below_1mib_never_free(void **state)
{
	/* the fake map calls [0, 0x9f000) usable */
	assert_range_not_free(0, MiB(1));
}

static void test_reserved_inside_usable_not_free(void **state)
{
	assert_range_not_free(FAKE_RSVD_BASE, FAKE_RSVD_LEN);
	assert_true(pmm_frame_free(FAKE_RSVD_BASE - PAGE_SIZE));
	assert_true(pmm_frame_free(FAKE_RSVD_BASE + FAKE_RSVD_LEN));
}

static void test_unaligned_acpi_region_excludes_both_frames(void **state)
{
	assert_false(pmm_frame_free(ALIGN_DOWN(FAKE_ACPI_BASE, PAGE_SIZE)));
	assert_false(pmm_frame_free(ALIGN_DOWN(FAKE_ACPI_BASE, PAGE_SIZE) + PAGE_SIZE));
	assert_true(pmm_frame_free(ALIGN_DOWN(FAKE_ACPI_BASE, PAGE_SIZE) - PAGE_SIZE));
	assert_true(pmm_frame_free(ALIGN_DOWN(FAKE_ACPI_BASE, PAGE_SIZE) + 2 * PAGE_SIZE));
}

static void test_nvs_straddling_end_not_free(void **state)
{
	assert_range_not_free(FAKE_NVS_BASE, FAKE_PHYS_END - FAKE_NVS_BASE);
	assert_true(pmm_frame_free(FAKE_NVS_BASE - PAGE_SIZE));
	assert_false(pmm_frame_free(FAKE_PHYS_END));
}

static void test_excluded_image_not_free(void **state)
{
	assert_range_not_free(FAKE_IMAGE_BASE, FAKE_IMAGE_LEN);
	assert_true(pmm_frame_free(FAKE_IMAGE_BASE - PAGE_SIZE));
	/* the image ends mid-page: that page is the image's, the next one is free */
	assert_true(pmm_frame_free(ALIGN_UP(FAKE_IMAGE_BASE + FAKE_IMAGE_LEN, PAGE_SIZE)));
}

static void test_excluded_modules_not_free(void **state)
{
	assert_range_not_free(FAKE_MOD_BASE, FAKE_MOD_LEN);
	assert_true(pmm_frame_free(FAKE_MOD_BASE + FAKE_MOD_LEN));
}

static void test_out_of_range_frames_not_free(void **state)
{
	assert_false(pmm_frame_free(0));
	assert_false(pmm_frame_free(FAKE_PHYS_END + MiB(1)));
	assert_false(pmm_frame_free(~0ull));
}

/*
 * Takes every page one at a time: each must be allowed, none twice, and the
 * number must match the count. Handing out the bitmap would zero it and show
 * up here as a frame handed out twice.
 */
static void test_exhaustive_allocation_respects_every_rule(void **state)
{
	uint8_t *seen = fake_scratch(ARENA_FRAMES);
	memset(seen, 0, ARENA_FRAMES);
	uint64_t total = pmm_total_pages(), n = 0;
	for (hpa_t pa; (pa = pmm_alloc(1, PAGE_SIZE)); n++) {
		if (forbidden(pa))
			fail_fmt("pmm handed out forbidden frame 0x%llx", (unsigned long long)pa);
		uint64_t i = (pa - FAKE_PHYS_BASE) >> PAGE_SHIFT;
		if (seen[i])
			fail_fmt("frame 0x%llx handed out twice", (unsigned long long)pa);
		seen[i] = 1;
		assert_true(n < total);
	}
	assert_int_equal(n, total);
	assert_int_equal(pmm_free_pages(), 0);
}

static void test_exhaustion_returns_zero_without_corruption(void **state)
{
	hpa_t first = pmm_alloc(1, PAGE_SIZE);
	assert_true(first);
	while (pmm_alloc(1, PAGE_SIZE))
		;
	assert_int_equal(pmm_free_pages(), 0);
	assert_int_equal(pmm_alloc(1, PAGE_SIZE), 0);
	assert_int_equal(pmm_alloc(1, MiB(2)), 0);
	assert_int_equal(pmm_free_pages(), 0);
	pmm_free(first, 1);
	assert_int_equal(pmm_free_pages(), 1);
	assert_int_equal(pmm_alloc(1, PAGE_SIZE), first);
	assert_int_equal(pmm_alloc(1, PAGE_SIZE), 0);
}

static void test_request_larger_than_any_run_fails(void **state)
{
	uint64_t before = pmm_free_pages();
	/* the free pages are split by the reserved, ACPI, image and module holes */
	assert_int_equal(pmm_alloc(before, PAGE_SIZE), 0);
	assert_int_equal(pmm_alloc(before + 1, PAGE_SIZE), 0);
	assert_int_equal(pmm_free_pages(), before);
}

static void test_zero_pages_request_fails(void **state)
{
	uint64_t before = pmm_free_pages();
	assert_int_equal(pmm_alloc(0, PAGE_SIZE), 0);
	assert_int_equal(pmm_free_pages(), before);
}

static void test_alignment_2mib(void **state)
{
	/* knock the search off any aligned boundary first */
	assert_true(pmm_alloc(1, PAGE_SIZE));
	hpa_t a = pmm_alloc(1, MiB(2));
	hpa_t b = pmm_alloc(3, MiB(2));
	hpa_t c = pmm_alloc(512, MiB(2));
	assert_true(a && b && c);
	assert_true(IS_ALIGNED(a, MiB(2)));
	assert_true(IS_ALIGNED(b, MiB(2)));
	assert_true(IS_ALIGNED(c, MiB(2)));
	assert_true(a != b && b != c && a != c);
}

static void test_alignment_64k(void **state)
{
	assert_true(pmm_alloc(1, PAGE_SIZE));
	hpa_t a = pmm_alloc(2, KiB(64));
	assert_true(a);
	assert_true(IS_ALIGNED(a, KiB(64)));
}

static void test_alignment_not_power_of_two_rejected(void **state)
{
	uint64_t before = pmm_free_pages();
	assert_int_equal(pmm_alloc(1, 3 * PAGE_SIZE), 0);
	assert_int_equal(pmm_free_pages(), before);
}

static void test_contiguous_block_avoids_holes(void **state)
{
	/* 16 MiB cannot fit below the ACPI table: it must not straddle any hole */
	size_t n = MiB(16) >> PAGE_SHIFT;
	uint64_t before = pmm_free_pages();
	hpa_t pa = pmm_alloc(n, PAGE_SIZE);
	assert_true(pa);
	for (size_t i = 0; i < n; i++) {
		hpa_t f = pa + ((uint64_t)i << PAGE_SHIFT);
		if (forbidden(f) || pmm_frame_free(f))
			fail_fmt("frame %zu (0x%llx) of the block is forbidden or still free", i,
			         (unsigned long long)f);
	}
	assert_int_equal(pmm_free_pages(), before - n);
}

static void test_allocations_do_not_overlap(void **state)
{
	hpa_t a = pmm_alloc(5, PAGE_SIZE);
	hpa_t b = pmm_alloc(7, PAGE_SIZE);
	assert_true(a && b);
	assert_true(a + 5 * PAGE_SIZE <= b || b + 7 * PAGE_SIZE <= a);
}

static bool all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

static void test_pages_are_zeroed(void **state)
{
	hpa_t pa = pmm_alloc(4, PAGE_SIZE);
	assert_true(pa);
	assert_true(all_zero(fake_phys_ptr(pa), 4 * PAGE_SIZE));
}

/* Four pages taken, dirtied and freed come back zeroed. */
static void assert_freed_dirty_pages_come_back_zeroed(void)
{
	hpa_t pa = pmm_alloc(4, PAGE_SIZE);
	assert_true(pa);
	memset(fake_phys_ptr(pa), 0xcc, 4 * PAGE_SIZE);
	pmm_free(pa, 4);
	/* first fit or not, keep allocating until the dirty pages come back */
	for (;;) {
		hpa_t again = pmm_alloc(4, PAGE_SIZE);
		assert_true(again);
		if (again == pa)
			break;
	}
	assert_true(all_zero(fake_phys_ptr(pa), 4 * PAGE_SIZE));
}

static void test_reused_pages_are_zeroed(void **state)
{
	assert_freed_dirty_pages_come_back_zeroed();
}

/* pmm_zero_ahead zeroes free frames in the order pmm_alloc takes them, and pmm_alloc trusts it. */
static void test_zero_ahead_frames_not_zeroed_twice(void **state)
{
	for (int i = 0; i < 8; i++)
		assert_true(pmm_zero_ahead());
	hpa_t pa = pmm_alloc(1, PAGE_SIZE);
	assert_true(pa);
	assert_true(all_zero(fake_phys_ptr(pa), PAGE_SIZE));
	/*
	 * Nothing writes a free frame in the hypervisor; here one is written on
	 * purpose, to see that pmm_alloc does not zero a frame zeroed ahead.
	 */
	hpa_t next = pa + PAGE_SIZE;
	assert_true(pmm_frame_free(next));
	fake_phys_ptr(next)[100] = 0x77;
	assert_int_equal(pmm_alloc(1, PAGE_SIZE), next);
	assert_int_equal(fake_phys_ptr(next)[100], 0x77);
}

/* A frame zeroed ahead loses the mark when handed out: freed dirty, it is zeroed when it goes out again. */
static void test_zero_ahead_mark_lost_when_handed_out(void **state)
{
	for (int i = 0; i < 4; i++)
		assert_true(pmm_zero_ahead());
	assert_freed_dirty_pages_come_back_zeroed();
}

/* It ends: once every free frame is zeroed it says so; frames in use are never touched. */
static void test_zero_ahead_ends_and_spares_used_frames(void **state)
{
	hpa_t used = pmm_alloc(2, PAGE_SIZE);
	assert_true(used);
	memset(fake_phys_ptr(used), 0xcc, 2 * PAGE_SIZE);
	uint64_t n = 0;
	while (pmm_zero_ahead())
		assert_true(++n <= ARENA_FRAMES);
	assert_int_equal(n, pmm_free_pages());
	assert_false(pmm_zero_ahead());
	for (size_t i = 0; i < 2 * PAGE_SIZE; i++)
		assert_int_equal(fake_phys_ptr(used)[i], 0xcc);
	/* everything free is zero now, and so is all that goes out */
	hpa_t pa = pmm_alloc(16, PAGE_SIZE);
	assert_true(pa && all_zero(fake_phys_ptr(pa), 16 * PAGE_SIZE));
}

static void test_free_restores_counts_and_frames(void **state)
{
	uint64_t before = pmm_free_pages();
	hpa_t pa = pmm_alloc(8, PAGE_SIZE);
	assert_true(pa);
	assert_int_equal(pmm_free_pages(), before - 8);
	for (int i = 0; i < 8; i++)
		assert_false(pmm_frame_free(pa + i * PAGE_SIZE));
	pmm_free(pa, 8);
	assert_int_equal(pmm_free_pages(), before);
	for (int i = 0; i < 8; i++)
		assert_true(pmm_frame_free(pa + i * PAGE_SIZE));
	assert_int_equal(pmm_total_pages(), before);
}

static void test_partial_free_then_realloc(void **state)
{
	hpa_t pa = pmm_alloc(8, PAGE_SIZE);
	assert_true(pa);
	pmm_free(pa + 2 * PAGE_SIZE, 3);
	assert_true(pmm_frame_free(pa + 2 * PAGE_SIZE));
	assert_true(pmm_frame_free(pa + 4 * PAGE_SIZE));
	assert_false(pmm_frame_free(pa + 1 * PAGE_SIZE));
	assert_false(pmm_frame_free(pa + 5 * PAGE_SIZE));
	/* the hole is exactly 3 pages: some 3-page request must get it back */
	for (;;) {
		hpa_t again = pmm_alloc(3, PAGE_SIZE);
		assert_true(again);
		if (again == pa + 2 * PAGE_SIZE)
			break;
	}
}

static void test_double_free_does_not_inflate_count(void **state)
{
	uint64_t before = pmm_free_pages();
	hpa_t pa = pmm_alloc(2, PAGE_SIZE);
	assert_true(pa);
	pmm_free(pa, 2);
	pmm_free(pa, 2);
	assert_int_equal(pmm_free_pages(), before);
}

static void test_invalid_free_ignored(void **state)
{
	uint64_t before = pmm_free_pages();
	hpa_t pa = pmm_alloc(1, PAGE_SIZE);
	assert_true(pa);
	pmm_free(0, 1);
	pmm_free(pa + 1, 1);
	pmm_free(FAKE_PHYS_END + MiB(64), 1);
	assert_int_equal(pmm_free_pages(), before - 1);
	assert_false(pmm_frame_free(pa));
}

/* ---- pmm_init on hand-made maps ---- */

static void map_add(struct boot_info *b, uint64_t base, uint64_t len, uint32_t type)
{
	b->mmap[b->nr_mmap++] = (struct boot_mem_region){ .base = base, .len = len, .type = type };
}

static void test_init_without_usable_memory_fails(void **state)
{
	struct boot_info b = { .magic = BOOT_INFO_MAGIC };
	map_add(&b, FAKE_PHYS_BASE, FAKE_PHYS_SIZE, BOOT_MEM_RESERVED);
	assert_int_equal(pmm_init(&b, NULL, 0), -ENOMEM);
}

static void test_init_with_only_low_memory_fails(void **state)
{
	struct boot_info b = { .magic = BOOT_INFO_MAGIC };
	map_add(&b, 0, 0x9f000, BOOT_MEM_USABLE);
	assert_int_equal(pmm_init(&b, NULL, 0), -ENOMEM);
}

static void test_partial_pages_of_usable_region_unused(void **state)
{
	struct boot_info b = { .magic = BOOT_INFO_MAGIC };
	/* [base+0x800, base+0x8800): only frames base+0x1000 .. base+0x7000 are whole */
	map_add(&b, FAKE_PHYS_BASE + 0x800, 0x8000, BOOT_MEM_USABLE);
	map_add(&b, FAKE_PHYS_BASE + MiB(1), MiB(1), BOOT_MEM_USABLE);
	assert_int_equal(pmm_init(&b, NULL, 0), 0);
	assert_false(pmm_frame_free(FAKE_PHYS_BASE));
	assert_false(pmm_frame_free(FAKE_PHYS_BASE + 0x8000));
	uint64_t whole = 7 + (MiB(1) >> PAGE_SHIFT);
	assert_true(pmm_total_pages() <= whole);
	assert_true(pmm_total_pages() >= whole - 2);     /* the allocator's two bitmaps, a page each */
}

static void test_reserved_listed_before_usable_still_wins(void **state)
{
	struct boot_info b = { .magic = BOOT_INFO_MAGIC };
	map_add(&b, FAKE_PHYS_BASE + MiB(4), KiB(8), BOOT_MEM_RESERVED);
	map_add(&b, FAKE_PHYS_BASE + MiB(4), KiB(8), BOOT_MEM_ACPI_NVS);
	map_add(&b, FAKE_PHYS_BASE + MiB(5), KiB(4), BOOT_MEM_LOADER);
	map_add(&b, FAKE_PHYS_BASE + MiB(6), KiB(4), BOOT_MEM_BAD);
	map_add(&b, FAKE_PHYS_BASE, MiB(8), BOOT_MEM_USABLE);
	assert_int_equal(pmm_init(&b, NULL, 0), 0);
	assert_range_not_free(FAKE_PHYS_BASE + MiB(4), KiB(8));
	assert_range_not_free(FAKE_PHYS_BASE + MiB(5), KiB(4));
	assert_range_not_free(FAKE_PHYS_BASE + MiB(6), KiB(4));
	assert_true(pmm_frame_free(FAKE_PHYS_BASE + MiB(4) + KiB(8)));
}

static void test_bitmap_not_placed_in_excluded_or_reserved(void **state)
{
	struct boot_info b = { .magic = BOOT_INFO_MAGIC };
	const struct pmm_range ex[] = { { FAKE_PHYS_BASE, KiB(64) } };
	map_add(&b, FAKE_PHYS_BASE, FAKE_PHYS_SIZE, BOOT_MEM_USABLE);
	map_add(&b, FAKE_PHYS_BASE + KiB(64), KiB(64), BOOT_MEM_RESERVED);
	fake_phys_fill(0x5a);
	assert_int_equal(pmm_init(&b, ex, ARRAY_SIZE(ex)), 0);
	const uint8_t *p = fake_phys_ptr(FAKE_PHYS_BASE);
	for (size_t i = 0; i < KiB(128); i++)
		if (p[i] != 0x5a)
			fail_fmt("byte 0x%zx of the excluded/reserved start was overwritten", i);
}

static void test_zero_length_exclusion_harmless(void **state)
{
	struct boot_info b = { .magic = BOOT_INFO_MAGIC };
	const struct pmm_range ex[] = { { FAKE_PHYS_BASE + MiB(1), 0 } };
	map_add(&b, FAKE_PHYS_BASE, MiB(4), BOOT_MEM_USABLE);
	assert_int_equal(pmm_init(&b, ex, ARRAY_SIZE(ex)), 0);
	assert_true(pmm_frame_free(FAKE_PHYS_BASE + MiB(1)));
}

/*
 * A firmware entry whose end wraps past 2^64 still says "not usable" for
 * everything from its base up; pmm must not hand those frames out.
 */
static void test_reserved_region_wrapping_2_64_excluded(void **state)
{
	struct boot_info b = { .magic = BOOT_INFO_MAGIC };
	uint64_t rbase = FAKE_PHYS_BASE + MiB(32);
	map_add(&b, FAKE_PHYS_BASE, FAKE_PHYS_SIZE, BOOT_MEM_USABLE);
	map_add(&b, rbase, (0 - rbase) + PAGE_SIZE, BOOT_MEM_RESERVED);
	assert_int_equal(pmm_init(&b, NULL, 0), 0);
	assert_true(pmm_frame_free(rbase - PAGE_SIZE));
	assert_false(pmm_frame_free(rbase));
	assert_false(pmm_frame_free(FAKE_PHYS_END - PAGE_SIZE));
}

/*
 * The same kind of entry covering all usable RAM: nothing is left for the
 * bitmap, so pmm_init must fail rather than put the bitmap somewhere else
 * (the search must never move below the usable region it is scanning).
 */
static void test_wrapping_reserved_region_over_all_ram_leaves_nothing(void **state)
{
	struct boot_info b = { .magic = BOOT_INFO_MAGIC };
	map_add(&b, FAKE_PHYS_BASE, FAKE_PHYS_SIZE, BOOT_MEM_USABLE);
	map_add(&b, FAKE_PHYS_BASE, (0 - FAKE_PHYS_BASE) + PAGE_SIZE, BOOT_MEM_RESERVED);
	assert_int_equal(pmm_init(&b, NULL, 0), -ENOMEM);
}

static void test_wrapping_exclusion_over_rest_of_ram(void **state)
{
	struct boot_info b = { .magic = BOOT_INFO_MAGIC };
	/* the first 32 MiB are the "image", everything from there up wraps */
	const struct pmm_range ex[] = {
		{ FAKE_PHYS_BASE, MiB(32) },
		{ FAKE_PHYS_BASE + MiB(32), (0 - (FAKE_PHYS_BASE + MiB(32))) + PAGE_SIZE },
	};
	map_add(&b, FAKE_PHYS_BASE, FAKE_PHYS_SIZE, BOOT_MEM_USABLE);
	assert_int_equal(pmm_init(&b, ex, ARRAY_SIZE(ex)), -ENOMEM);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_counts_after_init, setup),
		cmocka_unit_test_setup(test_below_1mib_never_free, setup),
		cmocka_unit_test_setup(test_reserved_inside_usable_not_free, setup),
		cmocka_unit_test_setup(test_unaligned_acpi_region_excludes_both_frames, setup),
		cmocka_unit_test_setup(test_nvs_straddling_end_not_free, setup),
		cmocka_unit_test_setup(test_excluded_image_not_free, setup),
		cmocka_unit_test_setup(test_excluded_modules_not_free, setup),
		cmocka_unit_test_setup(test_out_of_range_frames_not_free, setup),
		cmocka_unit_test_setup_teardown(test_exhaustive_allocation_respects_every_rule, setup, teardown),
		cmocka_unit_test_setup(test_exhaustion_returns_zero_without_corruption, setup),
		cmocka_unit_test_setup(test_request_larger_than_any_run_fails, setup),
		cmocka_unit_test_setup(test_zero_pages_request_fails, setup),
		cmocka_unit_test_setup(test_alignment_2mib, setup),
		cmocka_unit_test_setup(test_alignment_64k, setup),
		cmocka_unit_test_setup(test_alignment_not_power_of_two_rejected, setup),
		cmocka_unit_test_setup(test_contiguous_block_avoids_holes, setup),
		cmocka_unit_test_setup(test_allocations_do_not_overlap, setup),
		cmocka_unit_test_setup(test_pages_are_zeroed, setup),
		cmocka_unit_test_setup(test_reused_pages_are_zeroed, setup),
		cmocka_unit_test_setup(test_zero_ahead_frames_not_zeroed_twice, setup),
		cmocka_unit_test_setup(test_zero_ahead_mark_lost_when_handed_out, setup),
		cmocka_unit_test_setup(test_zero_ahead_ends_and_spares_used_frames, setup),
		cmocka_unit_test_setup(test_free_restores_counts_and_frames, setup),
		cmocka_unit_test_setup(test_partial_free_then_realloc, setup),
		cmocka_unit_test_setup(test_double_free_does_not_inflate_count, setup),
		cmocka_unit_test_setup(test_invalid_free_ignored, setup),
		cmocka_unit_test(test_init_without_usable_memory_fails),
		cmocka_unit_test(test_init_with_only_low_memory_fails),
		cmocka_unit_test(test_partial_pages_of_usable_region_unused),
		cmocka_unit_test(test_reserved_listed_before_usable_still_wins),
		cmocka_unit_test(test_bitmap_not_placed_in_excluded_or_reserved),
		cmocka_unit_test(test_zero_length_exclusion_harmless),
		cmocka_unit_test(test_reserved_region_wrapping_2_64_excluded),
		cmocka_unit_test(test_wrapping_reserved_region_over_all_ram_leaves_nothing),
		cmocka_unit_test(test_wrapping_exclusion_over_rest_of_ram),
	};
	return cmocka_run_group_tests_name("pmm", tests, NULL, NULL);
}
