/*
 * core/gmem.c over a VM whose slots are heap buffers (exact size, so ASan
 * sees any access past a slot):
 *   A [0x00000, 0x04000) RW  0x11
 *   B [0x04000, 0x08000) RW  0x22   adjacent to A
 *     [0x08000, 0x10000) hole
 *   C [0x10000, 0x14000) RW  0x33
 *   D [0x14000, 0x16000) RO  0x44   adjacent to C
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/gmem.h"
#include "tests/fake_arch/fake_arch.h"
#include "tests/fake_arch/fake_test.h"

#define A_GPA 0x0ull
#define B_GPA 0x4000ull
#define HOLE_GPA 0x8000ull
#define C_GPA 0x10000ull
#define D_GPA 0x14000ull
#define D_END 0x16000ull

static struct vm *vm;

static int setup(void **state)
{
	static struct boot_info bi;
	fake_arch_reset();
	fake_pmm_setup(&bi);                 /* for the bitmap of pages given up */
	vm = fake_vm_new();
	fake_vm_add_slot(vm, A_GPA, 0x4000, 0, 0x11);
	fake_vm_add_slot(vm, B_GPA, 0x4000, 0, 0x22);
	fake_vm_add_slot(vm, C_GPA, 0x4000, 0, 0x33);
	fake_vm_add_slot(vm, D_GPA, 0x2000, SLOT_READONLY, 0x44);
	return 0;
}

static int teardown(void **state)
{
	fake_cleanup();
	vm = NULL;
	return 0;
}

/* Every byte of guest RAM in [gpa, gpa+len) still holds `byte`. */
static void assert_guest_bytes(uint64_t gpa, size_t len, uint8_t byte)
{
	for (size_t i = 0; i < len; i++)
		if (fake_vm_hva(vm, gpa + i)[0] != byte)
			fail_fmt("guest byte at 0x%llx is 0x%02x, expected 0x%02x",
			         (unsigned long long)(gpa + i), fake_vm_hva(vm, gpa + i)[0], byte);
}

/* Each slot still holds only its fill byte: nothing was written anywhere. */
static void assert_all_slots_pristine(void)
{
	assert_guest_bytes(A_GPA, 0x4000, 0x11);
	assert_guest_bytes(B_GPA, 0x4000, 0x22);
	assert_guest_bytes(C_GPA, 0x4000, 0x33);
	assert_guest_bytes(D_GPA, 0x2000, 0x44);
}

static void fill_pattern(uint8_t *p, size_t n, uint8_t seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(seed + i * 13);
}

static void test_read_within_slot(void **state)
{
	uint8_t want[64], got[64];
	fill_pattern(want, sizeof(want), 1);
	memcpy(fake_vm_hva(vm, C_GPA + 0x100), want, sizeof(want));
	assert_int_equal(gmem_read(vm, mk_gpa(C_GPA + 0x100), got, sizeof(got)), 0);
	assert_memory_equal(got, want, sizeof(want));
}

static void test_write_within_slot(void **state)
{
	uint8_t src[64];
	fill_pattern(src, sizeof(src), 2);
	assert_int_equal(gmem_write(vm, mk_gpa(C_GPA + 0x100), src, sizeof(src)), 0);
	assert_memory_equal(fake_vm_hva(vm, C_GPA + 0x100), src, sizeof(src));
	assert_guest_bytes(C_GPA + 0xff, 1, 0x33);
	assert_guest_bytes(C_GPA + 0x140, 1, 0x33);
}

static void test_zero_within_slot(void **state)
{
	assert_int_equal(gmem_zero(vm, mk_gpa(A_GPA + 0x10), 0x20), 0);
	assert_guest_bytes(A_GPA + 0x10, 0x20, 0);
	assert_guest_bytes(A_GPA + 0xf, 1, 0x11);
	assert_guest_bytes(A_GPA + 0x30, 1, 0x11);
}

static void test_whole_slot_read(void **state)
{
	uint8_t *buf = fake_scratch(0x4000);
	assert_int_equal(gmem_read(vm, mk_gpa(B_GPA), buf, 0x4000), 0);
	for (size_t i = 0; i < 0x4000; i++)
		if (buf[i] != 0x22)
			fail_fmt("byte %zu", i);
}

static void test_read_across_adjacent_slots(void **state)
{
	uint8_t got[32];
	assert_int_equal(gmem_read(vm, mk_gpa(B_GPA - 16), got, sizeof(got)), 0);
	for (int i = 0; i < 16; i++)
		assert_int_equal(got[i], 0x11);
	for (int i = 16; i < 32; i++)
		assert_int_equal(got[i], 0x22);
}

static void test_write_across_adjacent_slots(void **state)
{
	uint8_t src[32];
	fill_pattern(src, sizeof(src), 3);
	assert_int_equal(gmem_write(vm, mk_gpa(B_GPA - 16), src, sizeof(src)), 0);
	assert_memory_equal(fake_vm_hva(vm, B_GPA - 16), src, 16);
	assert_memory_equal(fake_vm_hva(vm, B_GPA), src + 16, 16);
}

static void test_zero_across_adjacent_slots(void **state)
{
	assert_int_equal(gmem_zero(vm, mk_gpa(B_GPA - 0x800), 0x1000), 0);
	assert_guest_bytes(B_GPA - 0x800, 0x1000, 0);
	assert_guest_bytes(B_GPA - 0x801, 1, 0x11);
	assert_guest_bytes(B_GPA + 0x800, 1, 0x22);
}

static void test_read_into_hole_fails(void **state)
{
	uint8_t got[32];
	assert_int_equal(gmem_read(vm, mk_gpa(HOLE_GPA - 16), got, sizeof(got)), -EFAULT);
	assert_int_equal(gmem_read(vm, mk_gpa(HOLE_GPA + 0x100), got, 1), -EFAULT);
	assert_int_equal(gmem_read(vm, mk_gpa(C_GPA - 1), got, 2), -EFAULT);
}

static void test_write_into_hole_writes_nothing(void **state)
{
	uint8_t src[32];
	fill_pattern(src, sizeof(src), 4);
	assert_int_equal(gmem_write(vm, mk_gpa(HOLE_GPA - 16), src, sizeof(src)), -EFAULT);
	assert_all_slots_pristine();
}

static void test_write_out_of_hole_writes_nothing(void **state)
{
	uint8_t src[32];
	fill_pattern(src, sizeof(src), 5);
	assert_int_equal(gmem_write(vm, mk_gpa(C_GPA - 16), src, sizeof(src)), -EFAULT);
	assert_all_slots_pristine();
}

static void test_write_spanning_hole_writes_neither_side(void **state)
{
	size_t len = (size_t)(C_GPA + 0x1000 - (B_GPA + 0x3000));
	uint8_t *src = fake_scratch(len);
	fill_pattern(src, len, 6);
	assert_int_equal(gmem_write(vm, mk_gpa(B_GPA + 0x3000), src, len), -EFAULT);
	assert_all_slots_pristine();
}

static void test_zero_across_hole_writes_nothing(void **state)
{
	assert_int_equal(gmem_zero(vm, mk_gpa(HOLE_GPA - 0x100), 0x200), -EFAULT);
	assert_int_equal(gmem_zero(vm, mk_gpa(C_GPA - 0x100), 0x200), -EFAULT);
	assert_int_equal(gmem_zero(vm, mk_gpa(B_GPA), (size_t)(C_GPA + 0x10 - B_GPA)), -EFAULT);
	assert_all_slots_pristine();
}

static void test_readonly_slot_readable(void **state)
{
	uint8_t got[16];
	assert_int_equal(gmem_read(vm, mk_gpa(D_GPA + 8), got, sizeof(got)), 0);
	for (int i = 0; i < 16; i++)
		assert_int_equal(got[i], 0x44);
}

static void test_readonly_slot_write_fails(void **state)
{
	uint8_t src[16];
	fill_pattern(src, sizeof(src), 7);
	assert_int_equal(gmem_write(vm, mk_gpa(D_GPA + 8), src, sizeof(src)), -EFAULT);
	assert_int_equal(gmem_zero(vm, mk_gpa(D_GPA), 1), -EFAULT);
	assert_all_slots_pristine();
}

static void test_write_from_rw_into_readonly_writes_nothing(void **state)
{
	uint8_t src[0x100];
	fill_pattern(src, sizeof(src), 8);
	assert_int_equal(gmem_write(vm, mk_gpa(D_GPA - 0x80), src, sizeof(src)), -EFAULT);
	assert_int_equal(gmem_zero(vm, mk_gpa(D_GPA - 0x80), sizeof(src)), -EFAULT);
	assert_all_slots_pristine();
}

static void test_read_from_rw_into_readonly_works(void **state)
{
	uint8_t got[0x20];
	assert_int_equal(gmem_read(vm, mk_gpa(D_GPA - 0x10), got, sizeof(got)), 0);
	assert_int_equal(got[0x0f], 0x33);
	assert_int_equal(got[0x10], 0x44);
}

static void test_read_past_last_slot_fails(void **state)
{
	uint8_t got[2];
	assert_int_equal(gmem_read(vm, mk_gpa(D_END - 1), got, 2), -EFAULT);
	assert_int_equal(gmem_read(vm, mk_gpa(D_END), got, 1), -EFAULT);
	assert_int_equal(gmem_read(vm, mk_gpa(D_END - 1), got, 1), 0);
}

static void test_wraparound_fails(void **state)
{
	uint8_t buf[32];
	fill_pattern(buf, sizeof(buf), 9);
	assert_int_equal(gmem_read(vm, mk_gpa(UINT64_MAX - 15), buf, sizeof(buf)), -EFAULT);
	assert_int_equal(gmem_write(vm, mk_gpa(UINT64_MAX - 15), buf, sizeof(buf)), -EFAULT);
	assert_int_equal(gmem_zero(vm, mk_gpa(UINT64_MAX), 2), -EFAULT);
	assert_false(gmem_range_ok(vm, mk_gpa(UINT64_MAX - 15), sizeof(buf), false));
	assert_int_equal(gmem_read(vm, mk_gpa(UINT64_MAX), buf, SIZE_MAX), -EFAULT);
	assert_all_slots_pristine();
}

/* With RAM at the very top, a wrapping access would otherwise succeed on both ends. */
static void test_wraparound_with_ram_at_top_fails(void **state)
{
	struct vm *top = fake_vm_new();
	fake_vm_add_slot(top, 0, 0x1000, 0, 0x55);
	fake_vm_add_slot(top, UINT64_MAX - 0xfff, 0x1000, 0, 0x66);
	uint8_t buf[32];
	fill_pattern(buf, sizeof(buf), 10);
	assert_int_equal(gmem_read(top, mk_gpa(UINT64_MAX - 15), buf, sizeof(buf)), -EFAULT);
	assert_int_equal(gmem_write(top, mk_gpa(UINT64_MAX - 15), buf, sizeof(buf)), -EFAULT);
	assert_int_equal(gmem_zero(top, mk_gpa(UINT64_MAX - 15), sizeof(buf)), -EFAULT);
	assert_int_equal(fake_vm_hva(top, UINT64_MAX)[0], 0x66);
	assert_int_equal(fake_vm_hva(top, 0)[0], 0x55);
}

static void test_len_zero(void **state)
{
	uint8_t buf[1] = { 0xee };
	assert_int_equal(gmem_read(vm, mk_gpa(C_GPA), buf, 0), 0);
	assert_int_equal(buf[0], 0xee);
	assert_int_equal(gmem_write(vm, mk_gpa(C_GPA), buf, 0), 0);
	assert_int_equal(gmem_zero(vm, mk_gpa(C_GPA), 0), 0);
	assert_int_equal(gmem_write(vm, mk_gpa(HOLE_GPA), buf, 0), 0);
	assert_true(gmem_range_ok(vm, mk_gpa(HOLE_GPA), 0, true));
	assert_all_slots_pristine();
}

static void test_range_ok(void **state)
{
	assert_true(gmem_range_ok(vm, mk_gpa(A_GPA), 0x8000, true));
	assert_true(gmem_range_ok(vm, mk_gpa(B_GPA - 1), 2, true));
	assert_false(gmem_range_ok(vm, mk_gpa(A_GPA), 0x8001, false));
	assert_false(gmem_range_ok(vm, mk_gpa(HOLE_GPA), 1, false));
	assert_true(gmem_range_ok(vm, mk_gpa(D_GPA), 0x2000, false));
	assert_false(gmem_range_ok(vm, mk_gpa(D_GPA), 0x2000, true));
	assert_false(gmem_range_ok(vm, mk_gpa(D_GPA - 1), 2, true));
	assert_true(gmem_range_ok(vm, mk_gpa(C_GPA), 0x6000, false));
	assert_false(gmem_range_ok(vm, mk_gpa(C_GPA), 0x6001, false));
}

/* A guest-chosen length is capped even where the RAM behind it exists. */
static void test_len_above_max_access_fails(void **state)
{
	struct vm *big = fake_vm_new();
	uint8_t *ram = fake_vm_add_slot(big, 0, GMEM_MAX_ACCESS + MiB(1), 0, 0x77);
	uint8_t *buf = fake_scratch(GMEM_MAX_ACCESS + 1);
	memset(buf, 0x12, GMEM_MAX_ACCESS + 1);
	assert_false(gmem_range_ok(big, mk_gpa(0), GMEM_MAX_ACCESS + 1, false));
	assert_int_equal(gmem_read(big, mk_gpa(0), buf, GMEM_MAX_ACCESS + 1), -EFAULT);
	assert_int_equal(gmem_write(big, mk_gpa(0), buf, GMEM_MAX_ACCESS + 1), -EFAULT);
	assert_int_equal(gmem_zero(big, mk_gpa(0), GMEM_MAX_ACCESS + 1), -EFAULT);
	assert_int_equal(ram[0], 0x77);
	assert_int_equal(ram[GMEM_MAX_ACCESS], 0x77);
	assert_true(gmem_range_ok(big, mk_gpa(0), GMEM_MAX_ACCESS, true));
	assert_int_equal(gmem_write(big, mk_gpa(0), buf, GMEM_MAX_ACCESS), 0);
	assert_int_equal(ram[GMEM_MAX_ACCESS - 1], 0x12);
	assert_int_equal(ram[GMEM_MAX_ACCESS], 0x77);
}

/* An unaligned access spanning several pages lands byte for byte. */
static void test_unaligned_multipage_roundtrip(void **state)
{
	size_t len = 0x2345;
	uint8_t *src = fake_scratch(len), *got = fake_scratch(len);
	fill_pattern(src, len, 11);
	assert_int_equal(gmem_write(vm, mk_gpa(A_GPA + 0x2ff7), src, len), 0);
	assert_int_equal(gmem_read(vm, mk_gpa(A_GPA + 0x2ff7), got, len), 0);
	assert_memory_equal(got, src, len);
	assert_memory_equal(fake_vm_hva(vm, B_GPA), src + (B_GPA - 0x2ff7), 0x100);
}

/*
 * A slot whose size is not a whole number of pages ends mid-page; the bytes
 * after its end are a hole like any other. The slot's host buffer is a full
 * page so the overrun shows up as wrong results rather than an ASan abort.
 */
static void test_subpage_slot_end_is_respected(void **state)
{
	struct vm *odd = fake_vm_new();
	uint8_t *buf = fake_vm_add_slot_backed(odd, 0x10000, 0x800, 0x1000, 0, 0x88);
	uint8_t src[0x100], got[0x100];
	fill_pattern(src, sizeof(src), 12);
	assert_false(gmem_range_ok(odd, mk_gpa(0x107c0), 0x80, false));
	assert_int_equal(gmem_read(odd, mk_gpa(0x107c0), got, 0x80), -EFAULT);
	assert_int_equal(gmem_write(odd, mk_gpa(0x107c0), src, 0x80), -EFAULT);
	for (size_t i = 0x7c0; i < 0x1000; i++)
		if (buf[i] != 0x88)
			fail_fmt("host byte 0x%zx of the slot's buffer was written", i);
}

/* ---- foreign pages (Xen grant maps) ---- */

/* A second VM, id 1, with one RW page-aligned slot [0, 0x4000) of 0x77 and a RO page at 0x4000. */
static struct vm *owner_vm(void)
{
	struct vm *o = fake_vm_new();
	o->id = 1;
	fake_vm_add_slot(o, 0, 0x4000, 0, 0x77);
	fake_vm_add_slot(o, 0x4000, 0x1000, SLOT_READONLY, 0x66);
	return o;
}

static void test_foreign_map_into_hole(void **state)
{
	struct vm *o = owner_vm();
	uint8_t b[4];
	assert_int_equal(gmem_foreign_map(vm, HOLE_GPA >> 12, o, 1, true), 0);
	assert_int_equal(fake.page_maps, 1);
	assert_int_equal(fake.page_map_log[0].gpa, HOLE_GPA);
	assert_true(fake.page_map_log[0].writable && fake.page_map_log[0].present);
	assert_int_equal(gmem_read(vm, mk_gpa(HOLE_GPA + 0x10), b, 4), 0);
	assert_int_equal(b[0], 0x77);
	assert_int_equal(gmem_write(vm, mk_gpa(HOLE_GPA + 0x10), "abcd", 4), 0);
	assert_memory_equal(fake_vm_hva(o, 0x1010), "abcd", 4);      /* the owner's page */
	/* the next page is still a hole: a write across fails whole */
	assert_int_equal(gmem_write(vm, mk_gpa(HOLE_GPA + 0xffe), "wxyz", 4), -EFAULT);
	assert_int_equal(fake_vm_hva(o, 0x1ffe)[0], 0x77);
	assert_int_equal(vm->nr_removed, 0);                        /* no RAM was given up */
	assert_int_equal(gmem_foreign_unmap(vm, HOLE_GPA >> 12), 0);
	assert_false(fake.page_map_log[1].present);
	assert_int_equal(gmem_read(vm, mk_gpa(HOLE_GPA), b, 1), -EFAULT);
	assert_int_equal(gmem_foreign_unmap(vm, HOLE_GPA >> 12), -EINVAL);
}

static void test_foreign_map_readonly(void **state)
{
	struct vm *o = owner_vm();
	uint8_t b;
	assert_int_equal(gmem_foreign_map(vm, HOLE_GPA >> 12, o, 0, false), 0);
	assert_false(fake.page_map_log[0].writable);
	assert_int_equal(gmem_read(vm, mk_gpa(HOLE_GPA), &b, 1), 0);
	assert_int_equal(gmem_write(vm, mk_gpa(HOLE_GPA), "x", 1), -EFAULT);
	assert_int_equal(fake_vm_hva(o, 0)[0], 0x77);
}

static void test_foreign_map_over_ram_gives_it_up(void **state)
{
	struct vm *o = owner_vm();
	uint8_t b;
	assert_int_equal(gmem_foreign_map(vm, 2, o, 3, true), 0);
	assert_int_equal(vm->nr_removed, 1);
	assert_int_equal(gmem_read(vm, mk_gpa(0x2000), &b, 1), 0);
	assert_int_equal(b, 0x77);
	assert_int_equal(gmem_page_restore(vm, 2), -EINVAL);         /* the map is there */
	assert_int_equal(gmem_page_remove(vm, 2), -EINVAL);
	assert_int_equal(gmem_foreign_unmap(vm, 2), 0);
	/* empty afterwards, as Xen leaves a gfn it unmapped a grant from; populating brings RAM back */
	assert_int_equal(gmem_read(vm, mk_gpa(0x2000), &b, 1), -EFAULT);
	assert_int_equal(gmem_page_restore(vm, 2), 0);
	assert_int_equal(gmem_read(vm, mk_gpa(0x2000), &b, 1), 0);
	assert_int_equal(b, 0);
	assert_int_equal(vm->nr_removed, 0);
	assert_guest_bytes(0x1000, 0x1000, 0x11);                    /* its neighbours untouched */
	assert_guest_bytes(0x3000, 0x1000, 0x11);
}

static void test_foreign_map_errors(void **state)
{
	struct vm *o = owner_vm();
	assert_int_equal(gmem_foreign_map(vm, HOLE_GPA >> 12, o, 8, true), -EINVAL);   /* owner hole */
	assert_int_equal(gmem_foreign_map(vm, HOLE_GPA >> 12, o, 4, false), -EINVAL);  /* owner ROM */
	assert_int_equal(gmem_page_remove(o, 2), 0);
	assert_int_equal(gmem_foreign_map(vm, HOLE_GPA >> 12, o, 2, true), -EINVAL);   /* given back */
	assert_int_equal(gmem_foreign_map(vm, HOLE_GPA >> 12, o, 1, true), 0);
	assert_int_equal(gmem_foreign_map(vm, HOLE_GPA >> 12, o, 0, true), -EBUSY);    /* taken */
	/* while mapped, the owner can neither give the page back nor have it zeroed */
	assert_int_equal(gmem_page_remove(o, 1), -EBUSY);
	assert_int_equal(gmem_page_restore(o, 1), -EBUSY);
	assert_int_equal(fake_vm_hva(o, 0x1000)[0], 0x77);
	/* the owner cannot pass on a page it has mapped from elsewhere */
	assert_int_equal(gmem_foreign_map(o, 3, vm, 0, true), 0);
	struct vm *third = fake_vm_new();
	third->id = 2;
	fake_vm_add_slot(third, 0, 0x4000, 0, 0);
	assert_int_equal(gmem_foreign_map(third, 9, o, 3, true), -EINVAL);
	/* a failing stage-2 update leaves everything as it was */
	fake.fail_page_set = -ENOMEM;
	assert_int_equal(gmem_foreign_map(vm, 1, o, 0, true), -ENOMEM);
	fake.fail_page_set = 0;
	assert_int_equal(vm->nr_removed, 0);
	uint8_t b;
	assert_int_equal(gmem_read(vm, mk_gpa(0x1000), &b, 1), 0);
	assert_int_equal(b, 0x11);
	/* a bounded table */
	for (unsigned i = 1; i < VM_MAX_FOREIGN; i++)
		assert_int_equal(gmem_foreign_map(vm, 0x100 + i, o, 0, false), 0);
	assert_int_equal(gmem_foreign_map(vm, 0x100, o, 0, false), -ENOSPC);
	assert_int_equal(gmem_foreign_unmap(vm, 0x101), 0);
	assert_int_equal(gmem_foreign_map(vm, 0x100, o, 0, false), 0);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_read_within_slot),
		T(test_write_within_slot),
		T(test_zero_within_slot),
		T(test_whole_slot_read),
		T(test_read_across_adjacent_slots),
		T(test_write_across_adjacent_slots),
		T(test_zero_across_adjacent_slots),
		T(test_read_into_hole_fails),
		T(test_write_into_hole_writes_nothing),
		T(test_write_out_of_hole_writes_nothing),
		T(test_write_spanning_hole_writes_neither_side),
		T(test_zero_across_hole_writes_nothing),
		T(test_readonly_slot_readable),
		T(test_readonly_slot_write_fails),
		T(test_write_from_rw_into_readonly_writes_nothing),
		T(test_read_from_rw_into_readonly_works),
		T(test_read_past_last_slot_fails),
		T(test_wraparound_fails),
		T(test_wraparound_with_ram_at_top_fails),
		T(test_len_zero),
		T(test_range_ok),
		T(test_len_above_max_access_fails),
		T(test_unaligned_multipage_roundtrip),
		T(test_subpage_slot_end_is_respected),
		T(test_foreign_map_into_hole),
		T(test_foreign_map_readonly),
		T(test_foreign_map_over_ram_gives_it_up),
		T(test_foreign_map_errors),
	};
#undef T
	return cmocka_run_group_tests_name("gmem", tests, NULL, NULL);
}
