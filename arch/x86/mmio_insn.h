/*
 * Decoder for the MOV forms guests use on MMIO (the xAPIC page and any other
 * page trapped through nested paging). The hardware reports the guest-physical
 * address; this only needs the access size, direction, register or immediate
 * and the instruction length. Pure logic over a byte buffer and the register
 * file, so the host unit tests build this file.
 */
#ifndef ARCH_X86_MMIO_INSN_H
#define ARCH_X86_MMIO_INSN_H

#include "core/exit.h"
#include "core/types.h"

struct guest_regs;

/* No instruction is longer, prefixes included (SDM vol. 2A §2.2.1, §2.3.11). */
#define X86_MAX_INSN_LEN 15

#define X86_MMIO_PLAIN 0   /* MOV */
#define X86_MMIO_ZX    1   /* MOVZX */
#define X86_MMIO_SX    2   /* MOVSX */

struct x86_mmio_insn {
	uint8_t len;      /* whole instruction length in bytes, prefixes included */
	uint8_t size;     /* access size: 1, 2, 4 or 8 */
	bool write;       /* true: the instruction stores to memory */
	/*
	 * GPR index (enum x86_gpr) moved to/from memory; -1 when the source is an
	 * immediate. For AH/CH/DH/BH this is the register holding the byte
	 * (X86_RAX..X86_RBX) and high_byte is set: always index gpr[reg].
	 */
	int8_t reg;
	bool high_byte;   /* 8-bit access to bits 15:8 of gpr[reg] (no REX, ModRM.reg 4..7) */
	uint8_t extend;   /* loads: X86_MMIO_PLAIN, X86_MMIO_ZX or X86_MMIO_SX */
	/* Loads: destination register size, 1, 2, 4 or 8; equals size unless extending. 0 for stores. */
	uint8_t dst_size;
	/* Stores of an immediate: the value at `size`, sign-extended from imm32 when size is 8. */
	uint64_t imm;
};

/*
 * Decodes bytes[0..n) fetched at the guest's RIP in `mode` (the CS.D/CS.L
 * view: MODE_PROT16/32 also stand for compatibility mode). Supported: 88, 89,
 * 8A, 8B, C6 /0, C7 /0, A0-A3, 0F B6/B7/BE/BF with a memory operand, and the
 * prefixes 66, 67, segment overrides and (64-bit mode) REX. 0 on success;
 * -EINVAL for any other form, LOCK/REP/REPNE, a register operand (mod == 3),
 * input shorter than the instruction, or an instruction over 15 bytes. Never
 * reads past bytes[n-1]; *out is written only on success. Any context.
 */
int x86_decode_mmio(const uint8_t *bytes, size_t n, enum cpu_mode mode, struct x86_mmio_insn *out);

/* The value a store writes (register or immediate), truncated to in->size. Any context. */
uint64_t x86_mmio_store_value(const struct guest_regs *r, const struct x86_mmio_insn *in);

/*
 * Completes a load: writes `val` (in->size bytes read from the device; higher
 * bits are ignored) into the destination register as the CPU would. 8- and
 * 16-bit results merge, a 32-bit result zero-extends in MODE_64 and keeps the
 * upper half elsewhere, MOVZX/MOVSX extend to dst_size first. Does nothing
 * for a store. Any context; the caller then advances RIP by in->len.
 */
void x86_mmio_complete_load(struct guest_regs *r, const struct x86_mmio_insn *in, enum cpu_mode mode,
                            uint64_t val);

#endif
