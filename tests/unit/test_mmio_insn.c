/*
 * arch/x86/mmio_insn.c: byte strings (as objdump prints them) with the exact
 * decode expected from the SDM's encoding rules, rejections, and the register
 * write-back of a completed load. Every decode reads from a heap buffer of
 * exactly the given length, so ASan catches a read past the end.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <arch/regs.h>

#include "arch/x86/mmio_insn.h"
#include "tests/fake_arch/fake_test.h"

#define MAX_BYTES 32

struct insn_case {
	enum cpu_mode mode;
	const char *hex;           /* "8b 07" */
	const char *what;          /* AT&T form, for failure messages */
	struct x86_mmio_insn want;
};

/* Expected decodes. */
#define LD(l, s, r)  { .len = (l), .size = (s), .reg = (r), .dst_size = (s) }
#define ST(l, s, r)  { .len = (l), .size = (s), .reg = (r), .write = true }
#define STI(l, s, i) { .len = (l), .size = (s), .reg = -1, .write = true, .imm = (i) }
#define LDX(l, s, r, x, d) { .len = (l), .size = (s), .reg = (r), .extend = (x), .dst_size = (d) }

static const struct insn_case mov64_cases[] = {
	{ MODE_64, "8b 07", "mov (%rdi),%eax", LD(2, 4, X86_RAX) },
	{ MODE_64, "89 b7 00 03 00 00", "mov %esi,0x300(%rdi)", ST(6, 4, X86_RSI) },
	{ MODE_64, "44 89 40 10", "mov %r8d,0x10(%rax)", ST(4, 4, X86_R8) },
	{ MODE_64, "48 8b 05 10 00 00 00", "mov 0x10(%rip),%rax", LD(7, 8, X86_RAX) },
	{ MODE_64, "4c 8b 3d 10 00 00 00", "mov 0x10(%rip),%r15", LD(7, 8, X86_R15) },
	{ MODE_64, "48 89 07", "mov %rax,(%rdi)", ST(3, 8, X86_RAX) },
	{ MODE_64, "66 89 07", "mov %ax,(%rdi)", ST(3, 2, X86_RAX) },
	{ MODE_64, "66 48 89 07", "mov %rax,(%rdi) (REX.W beats 66)", ST(4, 8, X86_RAX) },
	{ MODE_64, "8b 4c 24 08", "mov 0x8(%rsp),%ecx", LD(4, 4, X86_RCX) },
	{ MODE_64, "41 8b 94 24 00 01 00 00", "mov 0x100(%r12),%edx", LD(8, 4, X86_RDX) },
	{ MODE_64, "41 8b 45 00", "mov 0x0(%r13),%eax", LD(4, 4, X86_RAX) },
	{ MODE_64, "41 8b 05 00 01 00 00", "mov 0x100(%rip),%eax (REX.B keeps RIP-relative)", LD(7, 4, X86_RAX) },
	{ MODE_64, "8b 04 9d b0 00 e0 fe", "mov 0xfee000b0(,%rbx,4),%eax", LD(7, 4, X86_RAX) },
	{ MODE_64, "8b 44 1d 00", "mov 0x0(%rbp,%rbx,1),%eax", LD(4, 4, X86_RAX) },
	{ MODE_64, "67 8b 07", "mov (%edi),%eax", LD(3, 4, X86_RAX) },
	{ MODE_64, "26 89 07", "mov %eax,%es:(%rdi)", ST(3, 4, X86_RAX) },
	{ MODE_64, "64 48 8b 04 25 10 00 00 00", "mov %fs:0x10,%rax", LD(9, 8, X86_RAX) },
	{ MODE_64, "4d 89 bc 24 80 00 00 00", "mov %r15,0x80(%r12)", ST(8, 8, X86_R15) },
};

static const struct insn_case byte_reg_cases[] = {
	{ MODE_64, "88 07", "mov %al,(%rdi)", ST(2, 1, X86_RAX) },
	{ MODE_64, "88 27", "mov %ah,(%rdi)",
	  { .len = 2, .size = 1, .write = true, .reg = X86_RAX, .high_byte = true } },
	{ MODE_64, "40 88 27", "mov %spl,(%rdi)", ST(3, 1, X86_RSP) },
	{ MODE_64, "8a 16", "mov (%rsi),%dl", LD(2, 1, X86_RDX) },
	{ MODE_64, "8a 3e", "mov (%rsi),%bh",
	  { .len = 2, .size = 1, .reg = X86_RBX, .high_byte = true, .dst_size = 1 } },
	{ MODE_64, "40 8a 3e", "mov (%rsi),%dil", LD(3, 1, X86_RDI) },
	{ MODE_64, "44 8a 3e", "mov (%rsi),%r15b", LD(3, 1, X86_R15) },
	{ MODE_64, "8a 6f 04", "mov 0x4(%rdi),%ch",
	  { .len = 3, .size = 1, .reg = X86_RCX, .high_byte = true, .dst_size = 1 } },
	{ MODE_PROT32, "88 27", "mov %ah,(%edi)",
	  { .len = 2, .size = 1, .write = true, .reg = X86_RAX, .high_byte = true } },
	{ MODE_REAL, "88 36 00 03", "mov %dh,0x300",
	  { .len = 4, .size = 1, .write = true, .reg = X86_RDX, .high_byte = true } },
};

/* SDM vol. 2A §2.2.1: a REX not right before the opcode is ignored; so is all but the last of two. */
static const struct insn_case rex_place_cases[] = {
	{ MODE_64, "48 66 89 07", "rex.W; mov %ax,(%rdi)", ST(4, 2, X86_RAX) },
	{ MODE_64, "4c 48 8b 07", "rex.WR; mov (%rdi),%rax", LD(4, 8, X86_RAX) },
	{ MODE_64, "44 3e 89 07", "rex.R; mov %eax,%ds:(%rdi)", ST(4, 4, X86_RAX) },
	{ MODE_64, "40 3e 88 27", "rex; mov %ah,%ds:(%rdi)",
	  { .len = 4, .size = 1, .write = true, .reg = X86_RAX, .high_byte = true } },
	{ MODE_64, "48 67 a1 b0 00 e0 fe", "rex.W; addr32 mov 0xfee000b0,%eax", LD(7, 4, X86_RAX) },
	{ MODE_64, "66 44 89 07", "mov %r8w,(%rdi)", ST(4, 2, X86_R8) },
};

static const struct insn_case imm_cases[] = {
	{ MODE_64, "c7 04 25 b0 00 e0 fe 00 00 00 00", "movl $0x0,0xfee000b0", STI(11, 4, 0) },
	{ MODE_64, "c7 04 25 00 03 e0 fe 78 56 34 12", "movl $0x12345678,0xfee00300",
	  STI(11, 4, 0x12345678) },
	{ MODE_64, "c6 07 ff", "movb $0xff,(%rdi)", STI(3, 1, 0xff) },
	{ MODE_64, "c6 47 10 ab", "movb $0xab,0x10(%rdi)", STI(4, 1, 0xab) },
	{ MODE_64, "66 c7 07 34 12", "movw $0x1234,(%rdi)", STI(5, 2, 0x1234) },
	{ MODE_64, "c7 07 ff ff ff ff", "movl $0xffffffff,(%rdi)", STI(6, 4, 0xffffffff) },
	{ MODE_64, "48 c7 07 ff ff ff ff", "movq $-1,(%rdi)", STI(7, 8, UINT64_MAX) },
	{ MODE_64, "48 c7 07 00 00 00 80", "movq $0xffffffff80000000,(%rdi)",
	  STI(7, 8, 0xffffffff80000000ull) },
	{ MODE_64, "48 c7 07 ff ff ff 7f", "movq $0x7fffffff,(%rdi)", STI(7, 8, 0x7fffffff) },
	{ MODE_64, "c7 05 10 00 00 00 01 00 00 00", "movl $0x1,0x10(%rip)", STI(10, 4, 1) },
	{ MODE_64, "41 c7 04 24 01 00 00 00", "movl $0x1,(%r12)", STI(8, 4, 1) },
	{ MODE_64, "66 48 c7 07 80 00 00 00", "movq $0x80,(%rdi)", STI(8, 8, 0x80) },
	{ MODE_PROT32, "c7 05 b0 00 e0 fe 00 00 00 00", "movl $0x0,0xfee000b0", STI(10, 4, 0) },
	{ MODE_PROT32, "66 c7 05 b0 00 e0 fe ef be", "movw $0xbeef,0xfee000b0", STI(9, 2, 0xbeef) },
	{ MODE_REAL, "c7 06 00 03 34 12", "movw $0x1234,0x300", STI(6, 2, 0x1234) },
	{ MODE_REAL, "26 66 c7 06 00 03 01 00 00 00", "movl $0x1,%es:0x300", STI(10, 4, 1) },
	{ MODE_PROT16, "c6 47 02 05", "movb $0x5,0x2(%bx)", STI(4, 1, 5) },
};

static const struct insn_case moffs_cases[] = {
	{ MODE_64, "a1 b0 00 e0 fe 00 00 00 00", "movabs 0xfee000b0,%eax", LD(9, 4, X86_RAX) },
	{ MODE_64, "48 a3 b0 00 e0 fe 00 00 00 00", "movabs %rax,0xfee000b0", ST(10, 8, X86_RAX) },
	{ MODE_64, "a0 b0 00 e0 fe 00 00 00 00", "movabs 0xfee000b0,%al", LD(9, 1, X86_RAX) },
	{ MODE_64, "a2 b0 00 e0 fe 00 00 00 00", "movabs %al,0xfee000b0", ST(9, 1, X86_RAX) },
	{ MODE_64, "66 a3 b0 00 e0 fe 00 00 00 00", "movabs %ax,0xfee000b0", ST(10, 2, X86_RAX) },
	{ MODE_64, "67 a1 b0 00 e0 fe", "addr32 mov 0xfee000b0,%eax", LD(6, 4, X86_RAX) },
	{ MODE_64, "41 a1 00 00 e0 fe 00 00 00 00", "rex.B movabs 0xfee00000,%eax", LD(10, 4, X86_RAX) },
	{ MODE_PROT32, "a1 b0 00 e0 fe", "mov 0xfee000b0,%eax", LD(5, 4, X86_RAX) },
	{ MODE_PROT32, "66 a3 b0 00 e0 fe", "mov %ax,0xfee000b0", ST(6, 2, X86_RAX) },
	{ MODE_PROT32, "67 a1 00 03", "addr16 mov 0x300,%eax", LD(4, 4, X86_RAX) },
	{ MODE_REAL, "a1 34 12", "mov 0x1234,%ax", LD(3, 2, X86_RAX) },
	{ MODE_REAL, "66 67 a1 b0 00 e0 fe", "addr32 mov 0xfee000b0,%eax", LD(7, 4, X86_RAX) },
	{ MODE_PROT16, "a2 00 03", "mov %al,0x300", ST(3, 1, X86_RAX) },
};

static const struct insn_case movx_cases[] = {
	{ MODE_64, "0f b6 07", "movzbl (%rdi),%eax", LDX(3, 1, X86_RAX, X86_MMIO_ZX, 4) },
	{ MODE_64, "48 0f bf 47 08", "movswq 0x8(%rdi),%rax", LDX(5, 2, X86_RAX, X86_MMIO_SX, 8) },
	{ MODE_64, "66 0f b6 07", "movzbw (%rdi),%ax", LDX(4, 1, X86_RAX, X86_MMIO_ZX, 2) },
	{ MODE_64, "0f be 3e", "movsbl (%rsi),%edi", LDX(3, 1, X86_RDI, X86_MMIO_SX, 4) },
	{ MODE_64, "0f b6 27", "movzbl (%rdi),%esp (not AH)", LDX(3, 1, X86_RSP, X86_MMIO_ZX, 4) },
	{ MODE_64, "44 0f b7 07", "movzwl (%rdi),%r8d", LDX(4, 2, X86_R8, X86_MMIO_ZX, 4) },
	{ MODE_64, "48 0f be 0d 00 03 00 00", "movsbq 0x300(%rip),%rcx", LDX(8, 1, X86_RCX, X86_MMIO_SX, 8) },
	{ MODE_PROT32, "0f bf 05 b0 00 e0 fe", "movswl 0xfee000b0,%eax", LDX(7, 2, X86_RAX, X86_MMIO_SX, 4) },
	{ MODE_REAL, "66 0f b6 07", "movzbl (%bx),%eax", LDX(4, 1, X86_RAX, X86_MMIO_ZX, 4) },
	{ MODE_REAL, "0f bf 07", "movsww (%bx),%ax", LDX(3, 2, X86_RAX, X86_MMIO_SX, 2) },
};

/* SDM vol. 2A §2.1.5, table 2-1. */
static const struct insn_case modrm16_cases[] = {
	{ MODE_REAL, "8b 07", "mov (%bx),%ax", LD(2, 2, X86_RAX) },
	{ MODE_REAL, "8b 06 34 12", "mov 0x1234,%ax", LD(4, 2, X86_RAX) },
	{ MODE_REAL, "8b 46 02", "mov 0x2(%bp),%ax", LD(3, 2, X86_RAX) },
	{ MODE_REAL, "8b 86 34 12", "mov 0x1234(%bp),%ax", LD(4, 2, X86_RAX) },
	{ MODE_REAL, "89 48 08", "mov %cx,0x8(%bx,%si)", ST(3, 2, X86_RCX) },
	{ MODE_REAL, "66 8b 07", "mov (%bx),%eax", LD(3, 4, X86_RAX) },
	{ MODE_REAL, "67 8b 07", "mov (%edi),%ax", LD(3, 2, X86_RAX) },
	{ MODE_REAL, "67 8b 04 24", "mov (%esp),%ax", LD(4, 2, X86_RAX) },
	{ MODE_REAL, "67 8b 05 b0 00 e0 fe", "addr32 mov 0xfee000b0,%ax", LD(7, 2, X86_RAX) },
	{ MODE_REAL, "66 67 89 1c 85 00 03 e0 fe", "mov %ebx,0xfee00300(,%eax,4)", ST(9, 4, X86_RBX) },
	{ MODE_PROT16, "8b 07", "mov (%bx),%ax", LD(2, 2, X86_RAX) },
	{ MODE_PROT16, "8b 16 00 03", "mov 0x300,%dx", LD(4, 2, X86_RDX) },
	{ MODE_PROT32, "67 8b 06 34 12", "addr16 mov 0x1234,%eax", LD(5, 4, X86_RAX) },
	{ MODE_64, "67 8b 06", "mov (%esi),%eax (no 16-bit addressing in 64-bit mode)", LD(3, 4, X86_RAX) },
};

/* SDM vol. 2A §2.1.5, tables 2-2 and 2-3. */
static const struct insn_case modrm32_cases[] = {
	{ MODE_PROT32, "8b 07", "mov (%edi),%eax", LD(2, 4, X86_RAX) },
	{ MODE_PROT32, "8b 05 b0 00 e0 fe", "mov 0xfee000b0,%eax", LD(6, 4, X86_RAX) },
	{ MODE_PROT32, "8b 04 24", "mov (%esp),%eax", LD(3, 4, X86_RAX) },
	{ MODE_PROT32, "8b 44 24 08", "mov 0x8(%esp),%eax", LD(4, 4, X86_RAX) },
	{ MODE_PROT32, "8b 84 24 00 01 00 00", "mov 0x100(%esp),%eax", LD(7, 4, X86_RAX) },
	{ MODE_PROT32, "8b 04 25 b0 00 e0 fe", "mov 0xfee000b0(,%eiz,1),%eax", LD(7, 4, X86_RAX) },
	{ MODE_PROT32, "8b 44 25 08", "mov 0x8(%ebp,%eiz,1),%eax", LD(4, 4, X86_RAX) },
	{ MODE_PROT32, "89 b4 b3 00 03 00 00", "mov %esi,0x300(%ebx,%esi,4)", ST(7, 4, X86_RSI) },
	{ MODE_PROT32, "66 89 07", "mov %ax,(%edi)", ST(3, 2, X86_RAX) },
	{ MODE_PROT16, "66 67 8b 87 00 03 00 00", "mov 0x300(%edi),%eax", LD(8, 4, X86_RAX) },
};

#define TABLE(t) { t, ARRAY_SIZE(t) }
static const struct { const struct insn_case *c; size_t n; } all_tables[] = {
	TABLE(mov64_cases), TABLE(byte_reg_cases), TABLE(rex_place_cases), TABLE(imm_cases),
	TABLE(moffs_cases), TABLE(movx_cases), TABLE(modrm16_cases), TABLE(modrm32_cases),
};

/* "8b 07" -> bytes; returns the count. */
static size_t parse_hex(const char *hex, uint8_t *out)
{
	size_t n = 0;
	for (const char *s = hex; *s; s++) {
		if (*s == ' ')
			continue;
		char pair[3] = { s[0], s[1], 0 };
		char *end;
		unsigned long v = strtoul(pair, &end, 16);
		if (end != pair + 2 || n == MAX_BYTES)
			fail_fmt("bad test hex \"%s\"", hex);
		out[n++] = (uint8_t)v;
		s++;
	}
	return n;
}

/* Decodes the first `n` of `bytes` from a heap copy of exactly n bytes. */
static int decode(const uint8_t *bytes, size_t n, enum cpu_mode mode, struct x86_mmio_insn *out)
{
	uint8_t *buf = malloc(n);
	assert_non_null(buf);
	memcpy(buf, bytes, n);
	int r = x86_decode_mmio(buf, n, mode, out);
	free(buf);
	return r;
}

static struct x86_mmio_insn decode_hex(enum cpu_mode mode, const char *hex)
{
	uint8_t b[MAX_BYTES];
	struct x86_mmio_insn d;
	size_t n = parse_hex(hex, b);
	int r = decode(b, n, mode, &d);
	if (r)
		fail_fmt("%s: %d", hex, r);
	return d;
}

static bool same(const struct x86_mmio_insn *a, const struct x86_mmio_insn *b)
{
	return a->len == b->len && a->size == b->size && a->write == b->write && a->reg == b->reg &&
	       a->high_byte == b->high_byte && a->extend == b->extend && a->dst_size == b->dst_size &&
	       a->imm == b->imm;
}

#define FMT_INSN "len %u size %u write %d reg %d high %d extend %u dst %u imm 0x%llx"
#define ARG_INSN(d) (d).len, (d).size, (d).write, (d).reg, (d).high_byte, (d).extend, (d).dst_size, \
	(unsigned long long)(d).imm

/* Exactly the bytes, then the same bytes followed by more code: both give `want`. */
static void check_case(const struct insn_case *c)
{
	uint8_t b[MAX_BYTES];
	size_t n = parse_hex(c->hex, b);
	memset(b + n, 0x90, sizeof(b) - n);
	size_t lens[] = { n, MIN(n + 4, (size_t)MAX_BYTES) };

	for (size_t i = 0; i < ARRAY_SIZE(lens); i++) {
		struct x86_mmio_insn d;
		memset(&d, 0xa5, sizeof(d));
		int r = decode(b, lens[i], c->mode, &d);
		if (r)
			fail_fmt("%s [%s] (%zu bytes): %d", c->what, c->hex, lens[i], r);
		if (!same(&d, &c->want))
			fail_fmt("%s [%s]:\n   got " FMT_INSN "\n  want " FMT_INSN, c->what, c->hex,
			         ARG_INSN(d), ARG_INSN(c->want));
	}
}

static void check_table(const struct insn_case *c, size_t n)
{
	for (size_t i = 0; i < n; i++)
		check_case(&c[i]);
}

static void test_mov_64(void **state) { check_table(mov64_cases, ARRAY_SIZE(mov64_cases)); }
static void test_byte_registers(void **state) { check_table(byte_reg_cases, ARRAY_SIZE(byte_reg_cases)); }
static void test_rex_placement(void **state) { check_table(rex_place_cases, ARRAY_SIZE(rex_place_cases)); }
static void test_mov_imm(void **state) { check_table(imm_cases, ARRAY_SIZE(imm_cases)); }
static void test_moffs(void **state) { check_table(moffs_cases, ARRAY_SIZE(moffs_cases)); }
static void test_movzx_movsx(void **state) { check_table(movx_cases, ARRAY_SIZE(movx_cases)); }
static void test_modrm16(void **state) { check_table(modrm16_cases, ARRAY_SIZE(modrm16_cases)); }
static void test_modrm32(void **state) { check_table(modrm32_cases, ARRAY_SIZE(modrm32_cases)); }

/* Every proper prefix of every valid instruction is truncated input. */
static void test_truncated_at_every_length(void **state)
{
	for (size_t t = 0; t < ARRAY_SIZE(all_tables); t++) {
		for (size_t i = 0; i < all_tables[t].n; i++) {
			const struct insn_case *c = &all_tables[t].c[i];
			uint8_t b[MAX_BYTES];
			size_t n = parse_hex(c->hex, b);
			for (size_t k = 0; k < n; k++) {
				struct x86_mmio_insn d;
				int r = decode(b, k, c->mode, &d);
				if (r != -EINVAL)
					fail_fmt("%s [%s] cut to %zu bytes: %d", c->what, c->hex, k, r);
			}
		}
	}
}

static void expect_reject(enum cpu_mode mode, const char *hex)
{
	uint8_t b[MAX_BYTES];
	size_t n = parse_hex(hex, b);
	struct x86_mmio_insn d, before;
	memset(&d, 0x5a, sizeof(d));
	before = d;
	int r = decode(b, n, mode, &d);
	if (r != -EINVAL)
		fail_fmt("[%s] mode %d: %d, want -EINVAL", hex, mode, r);
	if (memcmp(&d, &before, sizeof(d)))
		fail_fmt("[%s]: output written on failure", hex);
}

static void test_reject_lock_rep(void **state)
{
	expect_reject(MODE_64, "f0 89 07");
	expect_reject(MODE_64, "f3 89 07");
	expect_reject(MODE_64, "f2 89 07");
	expect_reject(MODE_64, "3e f0 89 07");
	expect_reject(MODE_64, "f3 48 a3 b0 00 e0 fe 00 00 00 00");
	expect_reject(MODE_64, "f0 c7 07 00 00 00 00");
	expect_reject(MODE_PROT32, "f3 0f b6 07");
	expect_reject(MODE_REAL, "f0 8b 07");
}

static void test_reject_register_operand(void **state)
{
	expect_reject(MODE_64, "89 c0");                 /* mov %eax,%eax */
	expect_reject(MODE_64, "8b c7");
	expect_reject(MODE_64, "8a c4");
	expect_reject(MODE_64, "48 88 e0");
	expect_reject(MODE_64, "c6 c0 01");
	expect_reject(MODE_64, "c7 c0 01 00 00 00");
	expect_reject(MODE_64, "c7 f8 00 00 00 00");     /* xbegin */
	expect_reject(MODE_64, "0f b6 c0");
	expect_reject(MODE_PROT32, "0f bf c1");
	expect_reject(MODE_REAL, "8b c3");
}

static void test_reject_other_opcodes(void **state)
{
	expect_reject(MODE_64, "01 07");                 /* add */
	expect_reject(MODE_64, "87 07");                 /* xchg */
	expect_reject(MODE_64, "8c 07");                 /* mov %es,(%rdi) */
	expect_reject(MODE_64, "8e 07");                 /* mov (%rdi),%es */
	expect_reject(MODE_64, "a4");                    /* movsb */
	expect_reject(MODE_64, "a5");
	expect_reject(MODE_64, "ab");                    /* stos */
	expect_reject(MODE_64, "b8 00 00 e0 fe");        /* mov $imm,%eax: no memory operand */
	expect_reject(MODE_64, "c7 0f 00 00 00 00");     /* C7 /1 */
	expect_reject(MODE_64, "c6 4f 10 ab");           /* C6 /1 */
	expect_reject(MODE_64, "0f 01 07");
	expect_reject(MODE_64, "0f b1 0f");              /* cmpxchg */
	expect_reject(MODE_64, "0f c3 07");              /* movnti */
	expect_reject(MODE_64, "0f 38 f0 07");           /* movbe */
	expect_reject(MODE_64, "c5 f9 6f 07");           /* vmovdqa */
	expect_reject(MODE_64, "ff 37");                 /* push */
	expect_reject(MODE_64, "8f 07");                 /* pop */
}

/* 40-4F are INC/DEC outside 64-bit mode, not prefixes. */
static void test_reject_rex_outside_64(void **state)
{
	expect_reject(MODE_PROT32, "48 8b 07");
	expect_reject(MODE_PROT16, "44 89 07");
	expect_reject(MODE_REAL, "40 8b 07");
}

static void test_reject_empty_and_prefix_only(void **state)
{
	struct x86_mmio_insn d;
	assert_int_equal(x86_decode_mmio(NULL, 0, MODE_64, &d), -EINVAL);
	expect_reject(MODE_64, "66 67");
	expect_reject(MODE_64, "48");
	expect_reject(MODE_64, "0f");
	expect_reject(MODE_64, "3e 48 0f");
}

/* SDM vol. 2A §2.2.1: 15 bytes at most, prefixes included. */
static void test_length_limit(void **state)
{
	uint8_t b[MAX_BYTES];
	struct x86_mmio_insn d;

	memset(b, 0x3e, sizeof(b));
	b[13] = 0x8b;
	b[14] = 0x07;
	assert_int_equal(decode(b, 15, MODE_64, &d), 0);
	assert_int_equal(d.len, 15);
	assert_int_equal(d.size, 4);
	assert_int_equal(decode(b, MAX_BYTES, MODE_64, &d), 0);
	assert_int_equal(d.len, 15);

	memset(b, 0x66, sizeof(b));
	b[14] = 0x8b;
	b[15] = 0x07;
	assert_int_equal(decode(b, 16, MODE_64, &d), -EINVAL);
	assert_int_equal(decode(b, MAX_BYTES, MODE_64, &d), -EINVAL);
	memset(b, 0x3e, sizeof(b));
	assert_int_equal(decode(b, MAX_BYTES, MODE_64, &d), -EINVAL);   /* prefixes only */

	expect_reject(MODE_64, "3e 3e 3e 3e 48 c7 04 25 b0 00 e0 fe 00 00 00 00");  /* 16 */
	d = decode_hex(MODE_64, "3e 3e 3e 48 c7 04 25 b0 00 e0 fe 00 00 00 00");    /* 15 */
	assert_int_equal(d.len, 15);
	assert_int_equal(d.size, 8);
	expect_reject(MODE_64, "26 26 26 26 26 26 66 48 a3 b0 00 e0 fe 00 00 00 00");   /* 17 */
}

static struct guest_regs regs_pattern(void)
{
	struct guest_regs r = { 0 };
	for (unsigned i = 0; i < X86_NR_GPRS; i++)
		r.gpr[i] = 0x1122334455667788ull + 0x0101010101010101ull * i;
	return r;
}

static void test_store_value_register(void **state)
{
	struct guest_regs r = regs_pattern();
	struct x86_mmio_insn d;

	d = decode_hex(MODE_64, "89 b7 00 03 00 00");
	assert_int_equal(x86_mmio_store_value(&r, &d), 0x5b6c7d8e);            /* ESI */
	d = decode_hex(MODE_64, "48 89 07");
	assert_int_equal(x86_mmio_store_value(&r, &d), 0x1122334455667788ull);
	d = decode_hex(MODE_64, "66 89 07");
	assert_int_equal(x86_mmio_store_value(&r, &d), 0x7788);
	d = decode_hex(MODE_64, "88 27");                                      /* AH */
	assert_int_equal(x86_mmio_store_value(&r, &d), 0x77);
	d = decode_hex(MODE_64, "88 3f");                                      /* BH */
	assert_int_equal(x86_mmio_store_value(&r, &d), 0x7a);
	d = decode_hex(MODE_64, "40 88 27");                                   /* SPL */
	assert_int_equal(x86_mmio_store_value(&r, &d), 0x8c);
	d = decode_hex(MODE_64, "44 88 3f");                                   /* R15B */
	assert_int_equal(x86_mmio_store_value(&r, &d), 0x97);
	d = decode_hex(MODE_64, "4c 89 3f");
	assert_int_equal(x86_mmio_store_value(&r, &d), 0x2031425364758697ull);
	d = decode_hex(MODE_64, "a3 b0 00 e0 fe 00 00 00 00");
	assert_int_equal(x86_mmio_store_value(&r, &d), 0x55667788);
}

static void test_store_value_imm(void **state)
{
	struct guest_regs r = regs_pattern();
	struct x86_mmio_insn d;

	d = decode_hex(MODE_64, "c6 07 ff");
	assert_int_equal(x86_mmio_store_value(&r, &d), 0xff);
	d = decode_hex(MODE_64, "66 c7 07 34 12");
	assert_int_equal(x86_mmio_store_value(&r, &d), 0x1234);
	d = decode_hex(MODE_64, "c7 04 25 b0 00 e0 fe 00 00 00 00");
	assert_int_equal(x86_mmio_store_value(&r, &d), 0);
	d = decode_hex(MODE_64, "48 c7 07 00 00 00 80");
	assert_int_equal(x86_mmio_store_value(&r, &d), 0xffffffff80000000ull);

	struct x86_mmio_insn wide = { .size = 2, .write = true, .reg = -1, .imm = 0x12345678 };
	assert_int_equal(x86_mmio_store_value(&r, &wide), 0x5678);
}

/* Decodes `hex`, completes the load of `val` into a register preset to `before`; the new value. */
static uint64_t load(enum cpu_mode mode, const char *hex, uint64_t before, uint64_t val)
{
	struct x86_mmio_insn d = decode_hex(mode, hex);
	struct guest_regs r = regs_pattern();
	assert_false(d.write);
	r.gpr[d.reg] = before;
	struct guest_regs expect_others = r;
	x86_mmio_complete_load(&r, &d, mode, val);
	uint64_t got = r.gpr[d.reg];
	expect_others.gpr[d.reg] = got;
	assert_memory_equal(&r, &expect_others, sizeof(r));   /* nothing else changes */
	return got;
}

static void test_load_8bit(void **state)
{
	assert_int_equal(load(MODE_64, "8a 27", 0x1122334455667788ull, 0xab), 0x112233445566ab88ull);  /* AH */
	assert_int_equal(load(MODE_64, "8a 27", 0x1122334455667788ull, 0xffab), 0x112233445566ab88ull);
	assert_int_equal(load(MODE_64, "8a 3e", 0, 0xab), 0xab00);                                      /* BH */
	assert_int_equal(load(MODE_64, "8a 07", 0x1122334455667788ull, 0xab), 0x11223344556677abull);  /* AL */
	assert_int_equal(load(MODE_64, "40 8a 37", 0x1122334455667788ull, 0xab), 0x11223344556677abull); /* SIL */
	assert_int_equal(load(MODE_64, "44 8a 3e", UINT64_MAX, 0), 0xffffffffffffff00ull);           /* R15B */
	assert_int_equal(load(MODE_64, "a0 b0 00 e0 fe 00 00 00 00", UINT64_MAX, 0x12), 0xffffffffffffff12ull);
	assert_int_equal(load(MODE_REAL, "8a 26 00 03", 0x1234, 0xab), 0xab34);                        /* AH */
}

static void test_load_16bit_merge(void **state)
{
	assert_int_equal(load(MODE_64, "66 8b 07", 0x1122334455667788ull, 0xbeef), 0x112233445566beefull);
	assert_int_equal(load(MODE_64, "66 8b 07", 0x1122334455667788ull, 0xdeadbeef), 0x112233445566beefull);
	assert_int_equal(load(MODE_REAL, "8b 07", 0xaaaaaaaaaaaaaaaaull, 0x1234), 0xaaaaaaaaaaaa1234ull);
	assert_int_equal(load(MODE_PROT32, "66 a1 b0 00 e0 fe", 0xffff0000ull, 0x1), 0xffff0001ull);
}

static void test_load_32bit(void **state)
{
	/* 64-bit mode zero-extends (SDM vol. 1 §3.4.1.1) */
	assert_int_equal(load(MODE_64, "8b 07", UINT64_MAX, 0x12345678), 0x12345678);
	assert_int_equal(load(MODE_64, "8b 07", UINT64_MAX, 0xaaaaaaaa12345678ull), 0x12345678);
	assert_int_equal(load(MODE_64, "44 8b 07", UINT64_MAX, 0x80000000), 0x80000000);
	/* elsewhere the upper half is undefined; we keep it */
	assert_int_equal(load(MODE_PROT32, "8b 07", 0xffffffff00000000ull, 0x12345678), 0xffffffff12345678ull);
	assert_int_equal(load(MODE_REAL, "66 8b 07", 0xffffffff00000000ull, 0x12345678), 0xffffffff12345678ull);
}

static void test_load_64bit(void **state)
{
	assert_int_equal(load(MODE_64, "48 8b 05 10 00 00 00", 0, 0x8877665544332211ull), 0x8877665544332211ull);
	assert_int_equal(load(MODE_64, "4c 8b 3d 10 00 00 00", 1, UINT64_MAX), UINT64_MAX);
	assert_int_equal(load(MODE_64, "48 a1 b0 00 e0 fe 00 00 00 00", 0, 0xfee00000), 0xfee00000);
}

static void test_load_movsx(void **state)
{
	assert_int_equal(load(MODE_64, "48 0f be 07", 0, 0x80), 0xffffffffffffff80ull);
	assert_int_equal(load(MODE_64, "48 0f be 07", 0, 0x1280), 0xffffffffffffff80ull);
	assert_int_equal(load(MODE_64, "0f be 07", 0x1111111111111111ull, 0x80), 0xffffff80);
	assert_int_equal(load(MODE_64, "66 0f be 07", 0x1111111111111111ull, 0x80), 0x111111111111ff80ull);
	assert_int_equal(load(MODE_64, "48 0f bf 07", 0, 0x7fff), 0x7fff);
	assert_int_equal(load(MODE_64, "48 0f bf 07", 0, 0x8000), 0xffffffffffff8000ull);
	assert_int_equal(load(MODE_64, "0f be 3e", 0x1111111111111111ull, 0x7f), 0x7f);           /* EDI */
	assert_int_equal(load(MODE_PROT32, "0f be 07", 0xaaaaaaaa00000000ull, 0x80), 0xaaaaaaaaffffff80ull);
	assert_int_equal(load(MODE_REAL, "0f be 07", 0x1111111111111111ull, 0xfe), 0x111111111111fffeull);
}

static void test_load_movzx(void **state)
{
	assert_int_equal(load(MODE_64, "48 0f b6 07", UINT64_MAX, 0x80), 0x80);
	assert_int_equal(load(MODE_64, "0f b7 07", UINT64_MAX, 0x8000), 0x8000);
	assert_int_equal(load(MODE_64, "0f b7 07", UINT64_MAX, 0xffff8000), 0x8000);
	assert_int_equal(load(MODE_64, "66 0f b6 07", UINT64_MAX, 0x80), 0xffffffffffff0080ull);
	assert_int_equal(load(MODE_64, "0f b6 27", UINT64_MAX, 0x80), 0x80);                      /* ESP, not AH */
	assert_int_equal(load(MODE_PROT32, "0f b6 07", 0xaaaaaaaabbbbbbbbull, 0x80), 0xaaaaaaaa00000080ull);
}

static void test_load_ignores_store(void **state)
{
	struct guest_regs r = regs_pattern(), before = r;
	struct x86_mmio_insn d = decode_hex(MODE_64, "89 07");
	x86_mmio_complete_load(&r, &d, MODE_64, 0x1234);
	d = decode_hex(MODE_64, "c7 07 01 00 00 00");
	x86_mmio_complete_load(&r, &d, MODE_64, 0x1234);
	assert_memory_equal(&r, &before, sizeof(r));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mov_64),
		cmocka_unit_test(test_byte_registers),
		cmocka_unit_test(test_rex_placement),
		cmocka_unit_test(test_mov_imm),
		cmocka_unit_test(test_moffs),
		cmocka_unit_test(test_movzx_movsx),
		cmocka_unit_test(test_modrm16),
		cmocka_unit_test(test_modrm32),
		cmocka_unit_test(test_truncated_at_every_length),
		cmocka_unit_test(test_reject_lock_rep),
		cmocka_unit_test(test_reject_register_operand),
		cmocka_unit_test(test_reject_other_opcodes),
		cmocka_unit_test(test_reject_rex_outside_64),
		cmocka_unit_test(test_reject_empty_and_prefix_only),
		cmocka_unit_test(test_length_limit),
		cmocka_unit_test(test_store_value_register),
		cmocka_unit_test(test_store_value_imm),
		cmocka_unit_test(test_load_8bit),
		cmocka_unit_test(test_load_16bit_merge),
		cmocka_unit_test(test_load_32bit),
		cmocka_unit_test(test_load_64bit),
		cmocka_unit_test(test_load_movsx),
		cmocka_unit_test(test_load_movzx),
		cmocka_unit_test(test_load_ignores_store),
	};
	return cmocka_run_group_tests_name("mmio_insn", tests, NULL, NULL);
}
