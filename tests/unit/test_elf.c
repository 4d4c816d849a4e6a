/*
 * core/elf.c: images built by tests/fake_arch/fake_elf.c, loaded into a VM
 * with 4 MiB of RAM at [0, 4 MiB) (one heap slot, like vm_create makes) whose
 * every byte starts as GUEST_FILL, so any write by a rejected load shows.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "core/elf.h"
#include "tests/fake_arch/fake_arch.h"
#include "tests/fake_arch/fake_elf.h"
#include "tests/fake_arch/fake_test.h"

#define GUEST_MEM MiB(4)
#define GUEST_FILL 0xee
#define IMG_CAP KiB(64)

static struct vm *vm;
static struct felf f;
static uint8_t img[IMG_CAP];
static size_t img_len;
static char why[160];
static struct guest_image out;

static int setup(void **state)
{
	vm = fake_vm_new();
	fake_vm_add_slot(vm, 0, GUEST_MEM, 0, GUEST_FILL);
	memset(why, 0, sizeof(why));
	memset(&out, 0, sizeof(out));
	return 0;
}

static int teardown(void **state)
{
	fake_cleanup();
	vm = NULL;
	return 0;
}

/* The default good image: text+bss, a note that would break every rule if loaded, data. */
static void good64(void)
{
	felf_init(&f, true);
	felf_add(&f, FELF_PT_LOAD, 0x100000, 0x300, 0x1000);
	felf_add(&f, FELF_PT_NOTE, 0x2000, 0x10, 0x10);
	felf_add(&f, FELF_PT_LOAD, 0x200000, 0x100, 0x100);
	f.entry = 0x100040;
}

static void good32(void)
{
	felf_init(&f, false);
	felf_add(&f, FELF_PT_LOAD, 0x100000, 0x280, 0x800);
	felf_add(&f, FELF_PT_LOAD, 0x180000, 0x40, 0x40);
	f.entry = 0x100010;
}

static int load_len(size_t len)
{
	return elf_load(vm, img, len, &out, why, sizeof(why));
}

static void build(void)
{
	img_len = felf_build(&f, img, sizeof(img));
}

static int load(void)
{
	build();
	return load_len(img_len);
}

static void assert_guest_untouched(void)
{
	const uint8_t *ram = vm->slots[0].hva;
	for (size_t i = 0; i < GUEST_MEM; i++)
		if (ram[i] != GUEST_FILL)
			fail_fmt("a rejected image wrote guest byte 0x%zx (0x%02x)", i, ram[i]);
}

static void assert_segment_loaded(unsigned i)
{
	const struct felf_seg *s = &f.seg[i];
	for (uint64_t k = 0; k < s->filesz; k++) {
		uint8_t got = fake_vm_hva(vm, s->paddr + k)[0];
		if (got != felf_byte(s->offset + k))
			fail_fmt("segment %u byte %llu: guest 0x%02x, file 0x%02x", i,
			         (unsigned long long)k, got, felf_byte(s->offset + k));
	}
}

static void assert_guest_fill(uint64_t from, uint64_t to)
{
	for (uint64_t a = from; a < to; a++)
		if (fake_vm_hva(vm, a)[0] != GUEST_FILL)
			fail_fmt("guest byte 0x%llx was written", (unsigned long long)a);
}

static void reject(int rc, const char *reason)
{
	assert_int_equal(rc, -EINVAL);
	assert_string_equal(why, reason);
	assert_guest_untouched();
}

static void reject_containing(int rc, const char *part)
{
	assert_int_equal(rc, -EINVAL);
	if (!strstr(why, part))
		fail_fmt("reason \"%s\" does not mention \"%s\"", why, part);
	assert_guest_untouched();
}

/* ---- good images ---- */

static void test_load_elf64(void **state)
{
	good64();
	assert_int_equal(load(), 0);
	assert_int_equal(out.kind, IMAGE_ELF64);
	assert_int_equal(out.entry, 0x100040);
	assert_segment_loaded(0);
	assert_segment_loaded(2);
	assert_guest_fill(0, 0x100000);
	assert_guest_fill(0x101000, 0x200000);
	assert_guest_fill(0x200100, GUEST_MEM);
}

static void test_load_elf32(void **state)
{
	good32();
	assert_int_equal(load(), 0);
	assert_int_equal(out.kind, IMAGE_ELF32);
	assert_int_equal(out.entry, 0x100010);
	assert_segment_loaded(0);
	assert_segment_loaded(1);
	assert_guest_fill(0, 0x100000);
	assert_guest_fill(0x100800, 0x180000);
	assert_guest_fill(0x180040, GUEST_MEM);
}

/* elf.h: "copies the segments in and zeroes their bss" */
static void test_bss_zeroed(void **state)
{
	good64();
	assert_int_equal(load(), 0);
	for (uint64_t a = 0x100300; a < 0x101000; a++)
		if (fake_vm_hva(vm, a)[0] != 0)
			fail_fmt("bss byte 0x%llx is 0x%02x, not 0", (unsigned long long)a,
			         fake_vm_hva(vm, a)[0]);
}

/*
 * vm->ram_untouched: RAM still as pmm_alloc zeroed it, so the bss is left
 * alone (the fill stands for those zeroes here); the flag is gone after
 * the load, and the next load zeroes again.
 */
static void test_bss_of_untouched_ram_left_alone(void **state)
{
	good64();
	vm->ram_untouched = true;
	assert_int_equal(load(), 0);
	assert_false(vm->ram_untouched);
	assert_segment_loaded(0);
	assert_guest_fill(0x100300, 0x101000);
	assert_int_equal(load(), 0);
	for (uint64_t a = 0x100300; a < 0x101000; a++)
		if (fake_vm_hva(vm, a)[0] != 0)
			fail_fmt("bss byte 0x%llx not zeroed on the second load", (unsigned long long)a);
}

static void test_entry_at_segment_edges(void **state)
{
	good64();
	f.entry = 0x100000;
	assert_int_equal(load(), 0);
	good64();
	f.entry = 0x100fff;     /* last byte of the bss still counts */
	assert_int_equal(load(), 0);
}

static void test_segments_touching_boot_area_edges(void **state)
{
	felf_init(&f, true);
	felf_add(&f, FELF_PT_LOAD, 0x800, 0x100, 0x800);      /* ends at 0x1000 */
	felf_add(&f, FELF_PT_LOAD, 0x10000, 0x100, 0x100);    /* starts at 0x10000 */
	f.entry = 0x10000;
	assert_int_equal(load(), 0);
	assert_segment_loaded(0);
	assert_segment_loaded(1);
}

static void test_adjacent_segments_allowed(void **state)
{
	felf_init(&f, true);
	felf_add(&f, FELF_PT_LOAD, 0x100000, 0x100, 0x1000);
	felf_add(&f, FELF_PT_LOAD, 0x101000, 0x100, 0x1000);
	f.entry = 0x101000;
	assert_int_equal(load(), 0);
}

static void test_segment_ending_at_top_of_ram(void **state)
{
	felf_init(&f, true);
	felf_add(&f, FELF_PT_LOAD, GUEST_MEM - 0x1000, 0x1000, 0x1000);
	f.entry = GUEST_MEM - 1;
	assert_int_equal(load(), 0);
	assert_segment_loaded(0);
}

static void test_empty_load_segments_ignored(void **state)
{
	good64();
	/* memsz 0: nothing to load, so its (bad) address does not matter */
	felf_add(&f, FELF_PT_LOAD, 0x2000, 0, 0);
	assert_int_equal(load(), 0);
}

static void test_bss_only_segment(void **state)
{
	good64();
	felf_add(&f, FELF_PT_LOAD, 0x300000, 0, 0x2000);
	f.entry = 0x300000;
	assert_int_equal(load(), 0);
	assert_int_equal(out.entry, 0x300000);
	for (uint64_t a = 0x300000; a < 0x302000; a++)
		if (fake_vm_hva(vm, a)[0] != 0)
			fail_fmt("bss byte 0x%llx not zeroed", (unsigned long long)a);
	assert_guest_fill(0x302000, 0x302001);
}

static void test_sixteen_segments_allowed(void **state)
{
	felf_init(&f, true);
	for (unsigned i = 0; i < 16; i++)
		felf_add(&f, FELF_PT_LOAD, 0x100000 + i * 0x1000, 0x10, 0x100);
	f.entry = 0x100000;
	assert_int_equal(load(), 0);
	for (unsigned i = 0; i < 16; i++)
		assert_segment_loaded(i);
}

/* ---- rejected images ---- */

static void test_not_elf(void **state)
{
	good64();
	f.magic[1] = 'X';
	reject(load(), "not an ELF file");
}

static void test_too_short_for_ident(void **state)
{
	good64();
	build();
	reject(load_len(15), "not an ELF file");
	reject(load_len(0), "not an ELF file");
}

static void test_big_endian(void **state)
{
	good64();
	f.data = 2;
	reject(load(), "not a little-endian ELF");
	good32();
	f.data = 0;
	reject(load(), "not a little-endian ELF");
}

static void test_bad_class(void **state)
{
	good64();
	f.cls = 3;
	reject(load(), "unknown ELF class 3");
	good64();
	f.cls = 0;
	reject(load(), "unknown ELF class 0");
}

static void test_truncated_header(void **state)
{
	good64();
	build();
	reject(load_len(63), "truncated ELF header");
	good32();
	build();
	reject(load_len(51), "truncated ELF header");
}

static void test_elf64_with_i386_machine(void **state)
{
	good64();
	f.machine = FELF_EM_386;
	reject(load(), "ELF machine 3 cannot run here");
}

static void test_elf32_with_x86_64_machine(void **state)
{
	good32();
	f.machine = FELF_EM_X86_64;
	reject(load(), "ELF machine 62 cannot run here");
}

static void test_foreign_machine(void **state)
{
	good64();
	f.machine = 183;    /* EM_AARCH64 */
	reject(load(), "ELF machine 183 cannot run here");
}

static void test_not_executable(void **state)
{
	good64();
	f.type = FELF_ET_DYN;
	reject(load(), "ELF type 3 is not an executable");
	good32();
	f.type = 1;         /* ET_REL */
	reject(load(), "ELF type 1 is not an executable");
}

static void test_phdrs_offset_outside_file(void **state)
{
	good64();
	f.phoff = 0x100000;
	reject(load(), "program headers outside the file");
}

static void test_phdrs_run_past_end_of_file(void **state)
{
	good64();
	build();
	size_t phdr_end = f.phoff + f.phnum * 56ull;
	reject(load_len(phdr_end - 1), "program headers outside the file");
	good64();
	f.phnum = 0xffff;
	reject(load(), "program headers outside the file");
}

static void test_phdr_entry_size_wrong(void **state)
{
	good64();
	f.phentsize = 32;
	reject(load(), "program headers outside the file");
	good32();
	f.phentsize = 56;
	reject(load(), "program headers outside the file");
}

static void test_segment_offset_outside_file(void **state)
{
	good64();
	f.seg[0].offset = 0x100000;
	reject(load(), "segment 0 data outside the file");
}

static void test_segment_data_runs_past_end_of_file(void **state)
{
	good64();
	build();
	/* the last segment's data ends the file: one byte less cuts it */
	reject(load_len(img_len - 1), "segment 1 data outside the file");
	good32();
	f.seg[0].filesz = 0x10000;
	f.seg[0].memsz = 0x10000;
	reject(load(), "segment 0 data outside the file");
}

static void test_filesz_above_memsz(void **state)
{
	good64();
	f.seg[0].memsz = 0x200;         /* filesz is 0x300 */
	reject_containing(load(), "segment 0");
}

static void test_segment_outside_guest_memory(void **state)
{
	good64();
	f.seg[2].paddr = GUEST_MEM - 0x80;
	f.seg[2].vaddr = f.seg[2].paddr;
	reject(load(), "segment 1 [0x3fff80, 0x400080) lies outside guest memory (0x400000 bytes)");
}

static void test_segment_far_outside_guest_memory(void **state)
{
	good32();
	f.seg[1].paddr = 0xc0000000;
	reject_containing(load(), "lies outside guest memory");
}

static void test_segment_end_overflows(void **state)
{
	good64();
	f.seg[2].paddr = 0xfffffffffffff000ull;
	f.seg[2].memsz = 0x2000;
	f.seg[2].filesz = 0x100;
	reject_containing(load(), "segment 1 [0xfffffffffffff000, 0x1000) lies outside guest memory");
}

static void test_segment_overlaps_boot_area(void **state)
{
	good64();
	f.seg[2].paddr = 0x8000;
	reject(load(), "segment 1 [0x8000, 0x8100) overlaps the boot area [0x1000, 0x10000)");
}

static void test_segment_overlaps_boot_area_edges(void **state)
{
	felf_init(&f, true);
	felf_add(&f, FELF_PT_LOAD, 0x800, 0x100, 0x801);     /* one byte into it */
	f.entry = 0x800;
	reject_containing(load(), "overlaps the boot area");
	felf_init(&f, true);
	felf_add(&f, FELF_PT_LOAD, 0xffff, 0x1, 0x100);     /* starts on its last byte */
	f.entry = 0xffff;
	reject_containing(load(), "overlaps the boot area");
	felf_init(&f, true);
	felf_add(&f, FELF_PT_LOAD, 0x0, 0x1, 0x20000);      /* covers it completely */
	f.entry = 0;
	reject_containing(load(), "overlaps the boot area");
}

static void test_overlapping_segments(void **state)
{
	good64();
	f.seg[2].paddr = 0x100800;
	reject(load(), "segments 0 and 1 overlap at 0x100800");
}

static void test_overlapping_segments_in_bss(void **state)
{
	good32();
	/* the first segment's file data ends at 0x100280, its bss at 0x100800 */
	f.seg[1].paddr = 0x100400;
	reject_containing(load(), "overlap");
}

static void test_no_load_segment(void **state)
{
	felf_init(&f, true);
	felf_add(&f, FELF_PT_NOTE, 0x100000, 0x10, 0x10);
	felf_add(&f, FELF_PT_NULL, 0x100000, 0x10, 0x10);
	f.entry = 0x100000;
	reject(load(), "no loadable segment");
}

static void test_no_program_headers(void **state)
{
	felf_init(&f, false);
	f.entry = 0x100000;
	reject(load(), "no loadable segment");
}

static void test_only_empty_load_segments(void **state)
{
	felf_init(&f, true);
	felf_add(&f, FELF_PT_LOAD, 0x100000, 0, 0);
	f.entry = 0x100000;
	reject(load(), "no loadable segment");
}

static void test_entry_not_in_segment(void **state)
{
	good64();
	f.entry = 0x300000;
	reject(load(), "entry point 0x300000 is not inside a loaded segment");
}

static void test_entry_just_past_segment(void **state)
{
	good64();
	f.entry = 0x101000;
	reject(load(), "entry point 0x101000 is not inside a loaded segment");
	good32();
	f.entry = 0xfffff;
	reject(load(), "entry point 0xfffff is not inside a loaded segment");
}

static void test_entry_in_non_load_segment(void **state)
{
	good64();
	f.entry = 0x2000;   /* inside the PT_NOTE only */
	reject_containing(load(), "entry point 0x2000");
}

/* ---- PVH: XEN_ELFNOTE_PHYS32_ENTRY (xen/include/public/elfnote.h, docs/misc/pvh.pandoc) ---- */

/* One ELF note: namesz, descsz, type, the name and the descriptor, each padded to 4 bytes. */
static size_t put_note(uint8_t *p, const char *name, uint32_t type, const void *desc, uint32_t descsz)
{
	uint32_t h[3] = { (uint32_t)strlen(name) + 1, descsz, type };
	size_t n = sizeof(h);
	memcpy(p, h, sizeof(h));
	memcpy(p + n, name, h[0]);
	n += (h[0] + 3) & ~3u;
	memcpy(p + n, desc, descsz);
	return n + ((descsz + 3) & ~3u);
}

/* good64 with its note segment holding a GNU note, then a Xen PHYS32_ENTRY of `descsz` bytes. */
static int load_pvh(uint64_t entry, uint32_t descsz, uint32_t xen_type)
{
	good64();
	f.seg[1].filesz = f.seg[1].memsz = 0x30;
	build();
	uint8_t *p = img + f.seg[1].offset;
	uint32_t gnu = 0x12345678;
	p += put_note(p, "GNU", 3, &gnu, sizeof(gnu));
	put_note(p, "Xen", xen_type, &entry, descsz);
	return load_len(img_len);
}

static void test_pvh_note_gives_32bit_entry(void **state)
{
	assert_int_equal(load_pvh(0x100080, 4, 18), 0);
	assert_true(out.pvh);
	assert_int_equal(out.kind, IMAGE_ELF32);        /* entered in flat 32-bit mode whatever the class */
	assert_int_equal(out.entry, 0x100080);
	assert_segment_loaded(0);
	/* an 8-byte descriptor (how Linux writes it: _ASM_PTR) holds the same 32-bit address */
	teardown(NULL);
	setup(NULL);
	assert_int_equal(load_pvh(0x200010, 8, 18), 0);
	assert_true(out.pvh);
	assert_int_equal(out.entry, 0x200010);
}

static void test_other_xen_notes_ignored(void **state)
{
	assert_int_equal(load_pvh(0x100080, 4, 1), 0);   /* XEN_ELFNOTE_INFO: not an entry */
	assert_false(out.pvh);
	assert_int_equal(out.kind, IMAGE_ELF64);
	assert_int_equal(out.entry, 0x100040);
}

static void test_pvh_entry_must_be_loaded(void **state)
{
	reject_containing(load_pvh(0x300000, 4, 18), "entry point 0x300000");
}

static void test_malformed_note_ignored(void **state)
{
	good64();
	f.seg[1].filesz = f.seg[1].memsz = 0x30;
	build();
	uint32_t h[3] = { 4, 0x1000, 18 };               /* descsz runs past the segment */
	memcpy(img + f.seg[1].offset, h, sizeof(h));
	memcpy(img + f.seg[1].offset + 12, "Xen", 4);
	assert_int_equal(load_len(img_len), 0);
	assert_false(out.pvh);
	assert_int_equal(out.entry, 0x100040);
}

static void test_seventeen_segments_rejected(void **state)
{
	felf_init(&f, true);
	for (unsigned i = 0; i < 17; i++)
		felf_add(&f, FELF_PT_LOAD, 0x100000 + i * 0x1000, 0x10, 0x100);
	f.entry = 0x100000;
	reject(load(), "more than 16 loadable segments");
}

static void test_reason_truncated_to_buffer(void **state)
{
	char small[8];
	memset(small, 'Z', sizeof(small));
	good64();
	f.magic[0] = 0;
	build();
	assert_int_equal(elf_load(vm, img, img_len, &out, small, sizeof(small)), -EINVAL);
	assert_string_equal(small, "not an ");
	assert_int_equal(elf_load(vm, img, img_len, &out, NULL, 0), -EINVAL);
	assert_guest_untouched();
}

/*
 * elf.h: everything, including "inside guest RAM", is checked before guest
 * memory is touched. With a hole in guest RAM (below mem_size), a segment in
 * the hole must be refused without the segment before it being written.
 */
static void test_segment_in_ram_hole_writes_nothing(void **state)
{
	struct vm *holey = fake_vm_new();
	uint8_t *low = fake_vm_add_slot(holey, 0, MiB(1), 0, GUEST_FILL);
	fake_vm_add_slot(holey, MiB(2), MiB(2), 0, GUEST_FILL);
	felf_init(&f, true);
	felf_add(&f, FELF_PT_LOAD, 0x20000, 0x100, 0x100);
	felf_add(&f, FELF_PT_LOAD, 0x180000, 0x100, 0x100);
	f.entry = 0x20000;
	build();
	assert_int_equal(elf_load(holey, img, img_len, &out, why, sizeof(why)), -EINVAL);
	for (size_t i = 0; i < MiB(1); i++)
		if (low[i] != GUEST_FILL)
			fail_fmt("guest byte 0x%zx written before the image was refused (%s)", i, why);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_load_elf64),
		T(test_load_elf32),
		T(test_bss_zeroed),
		T(test_bss_of_untouched_ram_left_alone),
		T(test_entry_at_segment_edges),
		T(test_segments_touching_boot_area_edges),
		T(test_adjacent_segments_allowed),
		T(test_segment_ending_at_top_of_ram),
		T(test_empty_load_segments_ignored),
		T(test_bss_only_segment),
		T(test_sixteen_segments_allowed),
		T(test_not_elf),
		T(test_too_short_for_ident),
		T(test_big_endian),
		T(test_bad_class),
		T(test_truncated_header),
		T(test_elf64_with_i386_machine),
		T(test_elf32_with_x86_64_machine),
		T(test_foreign_machine),
		T(test_not_executable),
		T(test_phdrs_offset_outside_file),
		T(test_phdrs_run_past_end_of_file),
		T(test_phdr_entry_size_wrong),
		T(test_segment_offset_outside_file),
		T(test_segment_data_runs_past_end_of_file),
		T(test_filesz_above_memsz),
		T(test_segment_outside_guest_memory),
		T(test_segment_far_outside_guest_memory),
		T(test_segment_end_overflows),
		T(test_segment_overlaps_boot_area),
		T(test_segment_overlaps_boot_area_edges),
		T(test_overlapping_segments),
		T(test_overlapping_segments_in_bss),
		T(test_no_load_segment),
		T(test_no_program_headers),
		T(test_only_empty_load_segments),
		T(test_entry_not_in_segment),
		T(test_entry_just_past_segment),
		T(test_entry_in_non_load_segment),
		T(test_pvh_note_gives_32bit_entry),
		T(test_other_xen_notes_ignored),
		T(test_pvh_entry_must_be_loaded),
		T(test_malformed_note_ignored),
		T(test_seventeen_segments_rejected),
		T(test_reason_truncated_to_buffer),
		T(test_segment_in_ram_hole_writes_nothing),
	};
#undef T
	return cmocka_run_group_tests_name("elf", tests, NULL, NULL);
}
