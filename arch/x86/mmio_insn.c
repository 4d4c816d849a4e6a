/*
 * MOV-to/from-MMIO decoding (Intel SDM vol. 2A ch. 2 for the format, vol. 2B
 * "MOV", "MOVZX", "MOVSX" for the forms). Only lengths and sizes matter: the
 * address comes from the nested-paging exit, so ModRM/SIB/displacement bytes
 * are counted, never evaluated.
 */
#define LOG_SUB_FILE LOG_SUB_ARCH   /* its messages: loglevel=arch:LEVEL */
#include <arch/regs.h>

#include "arch/x86/mmio_insn.h"
#include "core/string.h"

/* Legacy prefixes, SDM vol. 2A §2.1.1. */
#define PFX_OPSIZE 0x66
#define PFX_ADSIZE 0x67
#define PFX_LOCK   0xf0
#define PFX_REPNE  0xf2
#define PFX_REP    0xf3
#define OP_ESCAPE  0x0f

/* REX: 0100WRXB, 64-bit mode only (SDM vol. 2A §2.2.1, table 2-4). */
#define REX_W 0x8
#define REX_R 0x4
static bool is_rex(uint8_t b) { return (b & 0xf0) == 0x40; }

/* What an opcode does; 0 in the tables below means "not supported". */
#define F_MODRM 0x01   /* memory operand from ModRM; ModRM.reg names the register */
#define F_MOFFS 0x02   /* memory operand is a moffs after the opcode; register is rAX */
#define F_IMM   0x04   /* source is an immediate; ModRM.reg is an opcode extension, must be 0 */
#define F_WRITE 0x08
#define F_MEM8  0x10   /* memory operand is a byte */
#define F_MEM16 0x20   /* memory operand is a word (MOVZX/MOVSX r, r/m16) */
#define F_ZX    0x40
#define F_SX    0x80

static const uint8_t one_byte_ops[256] = {
	[0x88] = F_MODRM | F_WRITE | F_MEM8,       /* MOV r/m8, r8 */
	[0x89] = F_MODRM | F_WRITE,                /* MOV r/m, r */
	[0x8a] = F_MODRM | F_MEM8,                 /* MOV r8, r/m8 */
	[0x8b] = F_MODRM,                          /* MOV r, r/m */
	[0xa0] = F_MOFFS | F_MEM8,                 /* MOV AL, moffs8 */
	[0xa1] = F_MOFFS,                          /* MOV eAX, moffs */
	[0xa2] = F_MOFFS | F_WRITE | F_MEM8,       /* MOV moffs8, AL */
	[0xa3] = F_MOFFS | F_WRITE,                /* MOV moffs, eAX */
	[0xc6] = F_MODRM | F_IMM | F_WRITE | F_MEM8, /* MOV r/m8, imm8 */
	[0xc7] = F_MODRM | F_IMM | F_WRITE,        /* MOV r/m, imm16/32 */
};

static const uint8_t two_byte_ops[256] = {    /* after 0F */
	[0xb6] = F_MODRM | F_MEM8 | F_ZX,          /* MOVZX r, r/m8 */
	[0xb7] = F_MODRM | F_MEM16 | F_ZX,         /* MOVZX r, r/m16 */
	[0xbe] = F_MODRM | F_MEM8 | F_SX,          /* MOVSX r, r/m8 */
	[0xbf] = F_MODRM | F_MEM16 | F_SX,         /* MOVSX r, r/m16 */
};

/* Bytes still allowed: min(n, 15). Every fetch is bounded by `end`. */
struct cursor {
	const uint8_t *b;
	size_t pos, end;
};

static bool fetch(struct cursor *c, uint8_t *byte)
{
	if (c->pos >= c->end)
		return false;
	*byte = c->b[c->pos++];
	return true;
}

/* A little-endian field of `len` bytes (0..8). */
static bool fetch_le(struct cursor *c, unsigned len, uint64_t *val)
{
	if (c->end - c->pos < len)
		return false;
	*val = 0;
	for (unsigned i = 0; i < len; i++)
		*val |= (uint64_t)c->b[c->pos + i] << (8 * i);
	c->pos += len;
	return true;
}

static bool skip(struct cursor *c, unsigned len)
{
	uint64_t unused;
	return fetch_le(c, len, &unused);
}

struct prefixes {
	bool opsize, adsize;
	uint8_t rex;       /* 0: none (or ignored) */
};

/*
 * Consumes prefixes and returns the first opcode byte. A REX counts only
 * right before the opcode (or 0F): a legacy prefix after it, or another REX,
 * makes the CPU ignore it (SDM vol. 2A §2.2.1). Outside 64-bit mode 40-4F are
 * INC/DEC, which are not MOVs.
 */
static int read_prefixes(struct cursor *c, enum cpu_mode mode, struct prefixes *p, uint8_t *op)
{
	uint8_t b;
	*p = (struct prefixes){ 0 };
	for (;;) {
		if (!fetch(c, &b))
			return -EINVAL;
		switch (b) {
		case PFX_OPSIZE:
			p->opsize = true;
			break;
		case PFX_ADSIZE:
			p->adsize = true;
			break;
		case 0x26: case 0x2e: case 0x36: case 0x3e: case 0x64: case 0x65:
			break;          /* segment overrides: the GPA is already known */
		case PFX_LOCK: case PFX_REPNE: case PFX_REP:
			return -EINVAL;
		default:
			if (mode == MODE_64 && is_rex(b)) {
				p->rex = b;
				continue;
			}
			*op = b;
			return 0;
		}
		p->rex = 0;
	}
}

/* SDM vol. 1 §3.6 and table 3-4: REX.W wins over 66. */
static unsigned operand_size(enum cpu_mode mode, const struct prefixes *p)
{
	if (mode == MODE_64 && (p->rex & REX_W))
		return 8;
	bool wide = mode == MODE_PROT32 || mode == MODE_64;
	return wide != p->opsize ? 4 : 2;
}

static unsigned address_size(enum cpu_mode mode, const struct prefixes *p)
{
	if (mode == MODE_64)
		return p->adsize ? 4 : 8;
	bool wide = mode == MODE_PROT32;
	return wide != p->adsize ? 4 : 2;
}

/*
 * Skips what follows a ModRM byte with mod != 3: SIB and displacement (SDM
 * vol. 2A §2.1.5, tables 2-1 to 2-3). REX.B does not change these rules
 * (table 2-5), and 64-bit mode's RIP-relative form (mod 0, rm 5) has the same
 * disp32 as the 32-bit absolute one (§2.2.1.6).
 */
static bool skip_mem_operand(struct cursor *c, uint8_t modrm, unsigned adsize)
{
	unsigned mod = modrm >> 6, rm = modrm & 7;
	if (adsize == 2)
		return skip(c, mod == 1 ? 1 : mod == 2 || (mod == 0 && rm == 6) ? 2 : 0);
	if (rm == 4) {
		uint8_t sib;
		if (!fetch(c, &sib))
			return false;
		if (mod == 0 && (sib & 7) == 5)
			return skip(c, 4);      /* no base register, disp32 */
	}
	return skip(c, mod == 1 ? 1 : mod == 2 || (mod == 0 && rm == 5) ? 4 : 0);
}

static uint64_t sign_extend(uint64_t v, unsigned size)
{
	unsigned shift = 64 - 8 * size;
	return (uint64_t)((int64_t)(v << shift) >> shift);
}

static uint64_t trunc_size(uint64_t v, unsigned size)
{
	return size >= 8 ? v : v & ((1ull << (8 * size)) - 1);
}

/* ModRM forms: the register or immediate, and the bytes after ModRM. */
static int decode_modrm(struct cursor *c, unsigned flags, const struct prefixes *p, unsigned adsize,
                        struct x86_mmio_insn *d)
{
	uint8_t modrm;
	if (!fetch(c, &modrm) || modrm >> 6 == 3 || !skip_mem_operand(c, modrm, adsize))
		return -EINVAL;
	unsigned reg = (modrm >> 3) & 7;

	if (flags & F_IMM) {
		uint64_t imm;
		/* C6/C7 with reg != 0 are not MOV (C6 /7 and C7 /7 are XABORT/XBEGIN) */
		if (reg != 0 || !fetch_le(c, MIN(d->size, 4u), &imm))
			return -EINVAL;
		d->reg = -1;
		/* imm32 with a 64-bit operand is sign-extended (SDM vol. 2A §2.2.1.5) */
		d->imm = d->size == 8 ? sign_extend(imm, 4) : imm;
		return 0;
	}
	/*
	 * Without any REX, byte registers 4-7 are AH, CH, DH, BH; with one they
	 * are SPL, BPL, SIL, DIL (SDM vol. 2A §2.2.1.2, vol. 1 §3.4.1.1).
	 */
	unsigned reg_size = d->extend ? d->dst_size : d->size;
	if (reg_size == 1 && !p->rex && reg >= 4) {
		d->high_byte = true;
		reg -= 4;
	}
	if (p->rex & REX_R)
		reg += 8;
	d->reg = (int8_t)reg;
	return 0;
}

int x86_decode_mmio(const uint8_t *bytes, size_t n, enum cpu_mode mode, struct x86_mmio_insn *out)
{
	struct cursor c = { .b = bytes, .pos = 0, .end = MIN(n, (size_t)X86_MAX_INSN_LEN) };
	struct prefixes p;
	uint8_t op;
	unsigned flags;

	if (read_prefixes(&c, mode, &p, &op))
		return -EINVAL;
	if (op == OP_ESCAPE) {
		if (!fetch(&c, &op))
			return -EINVAL;
		flags = two_byte_ops[op];
	} else {
		flags = one_byte_ops[op];
	}
	if (!flags)
		return -EINVAL;

	unsigned opsize = operand_size(mode, &p), adsize = address_size(mode, &p);
	struct x86_mmio_insn d = { .write = flags & F_WRITE };
	d.size = flags & F_MEM8 ? 1 : flags & F_MEM16 ? 2 : opsize;
	d.extend = flags & F_ZX ? X86_MMIO_ZX : flags & F_SX ? X86_MMIO_SX : X86_MMIO_PLAIN;
	if (!d.write)
		d.dst_size = d.extend ? opsize : d.size;

	if (flags & F_MOFFS) {
		/* the offset is as wide as the address size; REX.B does not apply (vol. 2B "MOV") */
		if (!skip(&c, adsize))
			return -EINVAL;
		d.reg = X86_RAX;
	} else if (decode_modrm(&c, flags, &p, adsize, &d)) {
		return -EINVAL;
	}
	d.len = (uint8_t)c.pos;
	*out = d;
	return 0;
}

uint64_t x86_mmio_store_value(const struct guest_regs *r, const struct x86_mmio_insn *in)
{
	if (in->reg < 0)
		return trunc_size(in->imm, in->size);
	uint64_t v = r->gpr[in->reg];
	return trunc_size(in->high_byte ? v >> 8 : v, in->size);
}

/*
 * Register writes by width (SDM vol. 1 §3.4.1.1): 8 and 16 bits merge, 32
 * bits zero-extend in 64-bit mode. Elsewhere the upper half is undefined
 * after a 32-bit write; keeping it is one valid choice and hides nothing.
 */
void x86_mmio_complete_load(struct guest_regs *r, const struct x86_mmio_insn *in, enum cpu_mode mode,
                            uint64_t val)
{
	if (in->write || in->reg < 0 || in->reg >= X86_NR_GPRS)
		return;
	uint64_t *g = &r->gpr[in->reg];
	unsigned width = in->dst_size ? in->dst_size : in->size;

	val = trunc_size(val, in->size);
	if (in->extend == X86_MMIO_SX)
		val = trunc_size(sign_extend(val, in->size), width);

	if (in->high_byte)
		*g = (*g & ~0xff00ull) | (val << 8);
	else if (width == 8 || (width == 4 && mode == MODE_64))
		*g = val;
	else
		*g = (*g & ~trunc_size(UINT64_MAX, width)) | val;
}
