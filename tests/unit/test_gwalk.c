/*
 * arch/x86/gwalk.c: guest page tables written into an 8 MiB heap-backed guest
 * RAM, walked the way the CPU would (Intel SDM vol. 3A ch. 4).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "arch/x86/cpu.h"
#include "arch/x86/vendor.h"
#include "arch/x86/x86.h"
#include "tests/fake_arch/fake_arch.h"
#include "tests/fake_arch/fake_test.h"

#define RAM MiB(8)

#define P   0x1ull
#define RW  0x2ull
#define US  0x4ull
#define PS  0x80ull
#define NX  (1ull << 63)

/* Table locations (guest-physical). */
#define PD32  0x10000ull
#define PT32  0x20000ull
#define PDPT_PAE 0x10020ull    /* 32-byte aligned, not page aligned */
#define PD_PAE   0x21000ull
#define PT_PAE   0x22000ull
#define PML4  0x30000ull
#define PDPT  0x31000ull
#define PD    0x32000ull
#define PT    0x33000ull

static struct vm *vm;
static struct vcpu *v;

static const struct x86_paging pg_off = { .cr0 = X86_CR0_PE };
static const struct x86_paging pg_32 = { .cr0 = X86_CR0_PE | X86_CR0_PG, .cr3 = PD32 };
static const struct x86_paging pg_32pse = {
	.cr0 = X86_CR0_PE | X86_CR0_PG, .cr3 = PD32, .cr4 = X86_CR4_PSE,
};
static const struct x86_paging pg_pae = {
	.cr0 = X86_CR0_PE | X86_CR0_PG, .cr3 = PDPT_PAE, .cr4 = X86_CR4_PAE,
};
static const struct x86_paging pg_lm = {
	.cr0 = X86_CR0_PE | X86_CR0_PG, .cr3 = PML4, .cr4 = X86_CR4_PAE,
	.efer = X86_EFER_LME | X86_EFER_LMA,
};

static int setup(void **state)
{
	vm = fake_vm_new();
	fake_vm_add_slot(vm, 0, RAM, 0, 0);
	v = fake_vcpu_new(vm);
	return 0;
}

static int teardown(void **state)
{
	fake_cleanup();
	return 0;
}

static void w32(uint64_t gpa, uint32_t val) { memcpy(fake_vm_hva(vm, gpa), &val, 4); }
static void w64(uint64_t gpa, uint64_t val) { memcpy(fake_vm_hva(vm, gpa), &val, 8); }

static uint64_t translate_ok(const struct x86_paging *pg, uint64_t la)
{
	uint64_t gpa = 0xbadbadbad;
	int r = x86_linear_to_gpa(v, pg, la, &gpa);
	if (r)
		fail_fmt("la 0x%llx: %d", (unsigned long long)la, r);
	return gpa;
}

static int translate(const struct x86_paging *pg, uint64_t la)
{
	uint64_t gpa;
	return x86_linear_to_gpa(v, pg, la, &gpa);
}

/* 32-bit paging: PD at PD32, PT at PT32. */
static uint64_t map32(uint32_t la, uint32_t page)
{
	uint64_t pde = PD32 + ((la >> 22) & 1023) * 4, pte = PT32 + ((la >> 12) & 1023) * 4;
	w32(pde, PT32 | P | RW | US);
	w32(pte, page | P | RW);
	return pde;
}

/* PAE: the 4 PDPTEs only know P (their RW/US bits are reserved). */
static void map_pae(uint32_t la, uint64_t page, uint64_t ent[3])
{
	ent[0] = PDPT_PAE + ((la >> 30) & 3) * 8;
	ent[1] = PD_PAE + ((la >> 21) & 511) * 8;
	ent[2] = PT_PAE + ((la >> 12) & 511) * 8;
	w64(ent[0], PD_PAE | P);
	w64(ent[1], PT_PAE | P | RW);
	w64(ent[2], page | P | RW | NX);
}

/* 4-level: returns the entry addresses, PML4E first. */
static void map_lm(uint64_t la, uint64_t page, uint64_t ent[4])
{
	ent[0] = PML4 + ((la >> 39) & 511) * 8;
	ent[1] = PDPT + ((la >> 30) & 511) * 8;
	ent[2] = PD + ((la >> 21) & 511) * 8;
	ent[3] = PT + ((la >> 12) & 511) * 8;
	w64(ent[0], PDPT | P | RW | US);
	w64(ent[1], PD | P | RW | US);
	w64(ent[2], PT | P | RW | US);
	w64(ent[3], page | P | RW | US | NX);
}

/* la with distinct indices at every level: PML4 255, PDPT 1, PD 3, PT 5. */
#define LA_LM 0x00007f8040605abcull

static void test_paging_off_identity(void **state)
{
	assert_int_equal(translate_ok(&pg_off, 0x12345678), 0x12345678);
	assert_int_equal(translate_ok(&pg_off, 0), 0);
}

static void test_paging_off_truncates_to_32_bits(void **state)
{
	assert_int_equal(translate_ok(&pg_off, 0xffffffff00001234ull), 0x1234);
	assert_int_equal(translate_ok(&pg_off, 0x1ffffffffull), 0xffffffff);
}

static void test_32bit_4k(void **state)
{
	map32(0x80401abc, 0x345000);
	assert_int_equal(translate_ok(&pg_32, 0x80401abc), 0x345abc);
	assert_int_equal(translate_ok(&pg_32, 0x80401000), 0x345000);
	assert_int_equal(translate_ok(&pg_32, 0x80401fff), 0x345fff);
}

static void test_32bit_cr3_low_bits_ignored(void **state)
{
	map32(0x80401abc, 0x345000);
	struct x86_paging pg = pg_32;
	pg.cr3 |= 0x18;     /* PWT, PCD */
	assert_int_equal(translate_ok(&pg, 0x80401abc), 0x345abc);
}

static void test_32bit_4m_pse(void **state)
{
	/* bit 12 of a 4 MiB PDE is PAT, not an address bit */
	w32(PD32 + (0x80512345u >> 22) * 4, 0x00400000 | 0x1000 | PS | P | RW);
	assert_int_equal(translate_ok(&pg_32pse, 0x80512345), 0x400000 + 0x112345);
}

/*
 * SDM vol. 3A §4.3 (table 4-4): in a 4 MiB PDE, bits 20:13 are physical
 * address bits 39:32 (PSE-36, which guests see in CPUID). This PDE maps
 * 0x1_0040_0000, far outside guest RAM; the walk must not hand back the
 * address with those bits dropped (0x400000 is guest RAM, the wrong bytes).
 */
static void test_32bit_4m_pse36_high_bits(void **state)
{
	uint32_t la = 0x80512345;
	w32(PD32 + (la >> 22) * 4, 0x00400000 | (1u << 13) | PS | P | RW);
	uint64_t gpa = 0;
	int r = x86_linear_to_gpa(v, &pg_32pse, la, &gpa);
	if (r == 0 && gpa != 0x100512345ull)
		fail_fmt("4 MiB page with PA bit 32 set translated to 0x%llx", (unsigned long long)gpa);
	uint8_t b;
	assert_int_equal(x86_read_linear(v, &pg_32pse, la, &b, 1), -EFAULT);
}

static void test_32bit_ps_ignored_without_cr4_pse(void **state)
{
	uint32_t la = 0x80512345;
	w32(PD32 + (la >> 22) * 4, 0x00400000 | PS | P | RW);
	/* without CR4.PSE that PDE points at a page table at 0x400000 */
	assert_int_equal(translate(&pg_32, la), -EFAULT);
	w32(0x400000 + ((la >> 12) & 1023) * 4, 0x777000 | P);
	assert_int_equal(translate_ok(&pg_32, la), 0x777345);
}

static void test_32bit_not_present(void **state)
{
	uint64_t pde = map32(0x80401abc, 0x345000);
	w32(PT32 + 1 * 4, 0x345000);   /* PTE without P */
	assert_int_equal(translate(&pg_32, 0x80401abc), -EFAULT);
	map32(0x80401abc, 0x345000);
	w32(pde, PT32 | RW);            /* PDE without P */
	assert_int_equal(translate(&pg_32, 0x80401abc), -EFAULT);
	/* an untouched PDE (all zero) */
	assert_int_equal(translate(&pg_32, 0x00001000), -EFAULT);
}

static void test_pae_4k(void **state)
{
	uint64_t ent[3];
	map_pae(0xc0603abc, 0x7ff000, ent);
	assert_int_equal(translate_ok(&pg_pae, 0xc0603abc), 0x7ffabc);
}

static void test_pae_2m(void **state)
{
	uint32_t la = 0x40312345;
	w64(PDPT_PAE + 1 * 8, PD_PAE | P);
	w64(PD_PAE + ((la >> 21) & 511) * 8, 0x600000 | PS | P | RW | NX);
	assert_int_equal(translate_ok(&pg_pae, la), 0x600000 + 0x112345);
}

static void test_pae_not_present(void **state)
{
	uint64_t ent[3];
	for (int lvl = 0; lvl < 3; lvl++) {
		map_pae(0xc0603abc, 0x7ff000, ent);
		uint64_t e;
		memcpy(&e, fake_vm_hva(vm, ent[lvl]), 8);
		w64(ent[lvl], e & ~P);
		if (translate(&pg_pae, 0xc0603abc) != -EFAULT)
			fail_fmt("PAE level %d not present but translated", lvl);
	}
}

static void test_lm_4k(void **state)
{
	uint64_t ent[4];
	map_lm(LA_LM, 0x5ff000, ent);
	assert_int_equal(translate_ok(&pg_lm, LA_LM), 0x5ffabc);
}

static void test_lm_upper_half(void **state)
{
	uint64_t ent[4], la = 0xffff800000201234ull;
	map_lm(la, 0x1ab000, ent);
	assert_int_equal(ent[0], PML4 + 256 * 8);
	assert_int_equal(translate_ok(&pg_lm, la), 0x1ab234);
}

static void test_lm_2m(void **state)
{
	uint64_t la = LA_LM;
	w64(PML4 + ((la >> 39) & 511) * 8, PDPT | P | RW);
	w64(PDPT + ((la >> 30) & 511) * 8, PD | P | RW);
	/* bit 12 of a 2 MiB PDE is PAT */
	w64(PD + ((la >> 21) & 511) * 8, 0x400000 | 0x1000 | PS | P | RW | NX);
	assert_int_equal(translate_ok(&pg_lm, la), 0x400000 | (la & 0x1fffff));
}

static void test_lm_1g(void **state)
{
	uint64_t la = LA_LM;
	w64(PML4 + ((la >> 39) & 511) * 8, PDPT | P | RW);
	w64(PDPT + ((la >> 30) & 511) * 8, 0x80000000ull | PS | P | RW);
	assert_int_equal(translate_ok(&pg_lm, la), 0x80000000ull | (la & 0x3fffffff));
}

static void test_lm_not_present_each_level(void **state)
{
	uint64_t ent[4];
	for (int lvl = 0; lvl < 4; lvl++) {
		map_lm(LA_LM, 0x5ff000, ent);
		uint64_t e;
		memcpy(&e, fake_vm_hva(vm, ent[lvl]), 8);
		w64(ent[lvl], e & ~P);
		if (translate(&pg_lm, LA_LM) != -EFAULT)
			fail_fmt("4-level: level %d not present but translated", 4 - lvl);
	}
}

/* SDM vol. 3A table 4-15: PS is reserved (must be 0) in a PML4E, so this cannot map. */
static void test_lm_pml4e_ps_is_not_a_page(void **state)
{
	uint64_t ent[4];
	map_lm(LA_LM, 0x5ff000, ent);
	w64(ent[0], PDPT | PS | P | RW);
	assert_int_equal(translate(&pg_lm, LA_LM), -EFAULT);
}

static void test_la57_refused(void **state)
{
	uint64_t ent[4];
	map_lm(LA_LM, 0x5ff000, ent);
	struct x86_paging pg = pg_lm;
	pg.cr4 |= X86_CR4_LA57;
	assert_int_equal(translate(&pg, LA_LM), -EFAULT);
}

static void test_table_outside_guest_ram(void **state)
{
	struct x86_paging pg = pg_lm;
	pg.cr3 = 0x10000000;            /* 256 MiB: past the 8 MiB of RAM */
	assert_int_equal(translate(&pg, LA_LM), -EFAULT);

	uint64_t ent[4];
	map_lm(LA_LM, 0x5ff000, ent);
	w64(ent[2], 0x7ff00000ull | P | RW);    /* PD entry -> PT beyond RAM */
	assert_int_equal(translate(&pg_lm, LA_LM), -EFAULT);

	pg = pg_32;
	pg.cr3 = 0xfffff000;
	assert_int_equal(translate(&pg, 0x1000), -EFAULT);
}

static void test_read_linear_through_paging(void **state)
{
	uint64_t ent[4];
	map_lm(LA_LM, 0x5ff000, ent);
	memcpy(fake_vm_hva(vm, 0x5ffabc), "\x0f\x01\xd9", 3);
	uint8_t insn[3];
	assert_int_equal(x86_read_linear(v, &pg_lm, LA_LM, insn, 3), 0);
	assert_memory_equal(insn, "\x0f\x01\xd9", 3);
}

static void test_read_linear_stitches_pages(void **state)
{
	uint64_t ent[4], next[4];
	uint64_t la = (LA_LM & ~0xfffull) + 0xffe;
	map_lm(la, 0x5ff000, ent);
	map_lm(la + 2, 0x123000, next);  /* the next page maps somewhere else entirely */
	memcpy(fake_vm_hva(vm, 0x5ffffe), "\x0f\x01", 2);
	memcpy(fake_vm_hva(vm, 0x123000), "\xc1\x90", 2);
	uint8_t buf[4];
	assert_int_equal(x86_read_linear(v, &pg_lm, la, buf, 4), 0);
	assert_memory_equal(buf, "\x0f\x01\xc1\x90", 4);
}

static void test_read_linear_into_unmapped_page(void **state)
{
	uint64_t ent[4];
	uint64_t la = (LA_LM & ~0xfffull) + 0xffe;
	map_lm(la, 0x5ff000, ent);
	uint8_t buf[4];
	assert_int_equal(x86_read_linear(v, &pg_lm, la, buf, 2), 0);
	assert_int_equal(x86_read_linear(v, &pg_lm, la, buf, 4), -EFAULT);
}

static void test_read_linear_page_outside_ram(void **state)
{
	uint64_t ent[4];
	map_lm(LA_LM, 0x40000000, ent);   /* translation is fine, the memory is not there */
	assert_int_equal(translate_ok(&pg_lm, LA_LM), 0x40000abc);
	uint8_t buf[2];
	assert_int_equal(x86_read_linear(v, &pg_lm, LA_LM, buf, 2), -EFAULT);
}

static void test_read_linear_paging_off(void **state)
{
	memcpy(fake_vm_hva(vm, 0x7000), "abcd", 4);
	uint8_t buf[4];
	assert_int_equal(x86_read_linear(v, &pg_off, 0x100007000ull, buf, 4), 0);
	assert_memory_equal(buf, "abcd", 4);
}

static void test_read_linear_32bit(void **state)
{
	map32(0x80401abc, 0x345000);
	memcpy(fake_vm_hva(vm, 0x345abc), "\x0f\x01\xc1", 3);
	uint8_t buf[3];
	assert_int_equal(x86_read_linear(v, &pg_32, 0x80401abc, buf, 3), 0);
	assert_memory_equal(buf, "\x0f\x01\xc1", 3);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_paging_off_identity),
		T(test_paging_off_truncates_to_32_bits),
		T(test_32bit_4k),
		T(test_32bit_cr3_low_bits_ignored),
		T(test_32bit_4m_pse),
		T(test_32bit_4m_pse36_high_bits),
		T(test_32bit_ps_ignored_without_cr4_pse),
		T(test_32bit_not_present),
		T(test_pae_4k),
		T(test_pae_2m),
		T(test_pae_not_present),
		T(test_lm_4k),
		T(test_lm_upper_half),
		T(test_lm_2m),
		T(test_lm_1g),
		T(test_lm_not_present_each_level),
		T(test_lm_pml4e_ps_is_not_a_page),
		T(test_la57_refused),
		T(test_table_outside_guest_ram),
		T(test_read_linear_through_paging),
		T(test_read_linear_stitches_pages),
		T(test_read_linear_into_unmapped_page),
		T(test_read_linear_page_outside_ram),
		T(test_read_linear_paging_off),
		T(test_read_linear_32bit),
	};
#undef T
	return cmocka_run_group_tests_name("gwalk", tests, NULL, NULL);
}
