/*
 * Instruction-level helpers shared by both vendors. Pure logic over the
 * register file and core/gmem.h, so the host unit tests build this file.
 */
#define LOG_SUB_FILE LOG_SUB_ARCH   /* its messages: loglevel=arch:LEVEL */
#include "arch/x86/vendor.h"
#include "arch/x86/x86.h"
#include "core/arch.h"
#include "core/exit.h"
#include "core/string.h"
#include "core/vm.h"

/* RIP moves past the instruction; outside 64-bit mode EIP wraps at 4 GiB. */
void arch_skip_insn(struct vcpu *v, const struct vm_exit *e)
{
	v->regs.rip += e->insn_len;
	if (e->mode != MODE_64)
		v->regs.rip &= UINT32_MAX;
	v->arch.insn_skipped = true;   /* its interrupt shadow ends before the next entry (intr.c) */
}

/* The instruction that exited runs again (a continued call): the interrupt shadow it ran in is over all the same. */
void arch_insn_restart(struct vcpu *v)
{
	v->arch.insn_skipped = true;
}

/* CS:RIP as a linear address: CS's base counts outside 64-bit mode only, where it wraps at 4 GiB. */
uint64_t x86_rip_linear(const struct x86_paging *pg, uint64_t rip, bool mode64)
{
	return mode64 ? rip : (uint32_t)(pg->cs_base + rip);
}

bool x86_insn_at_rip_is(struct vcpu *v, const struct x86_paging *pg, uint64_t rip, bool mode64,
                        const void *bytes, size_t len)
{
	uint8_t insn[16];
	uint64_t la = x86_rip_linear(pg, rip, mode64);
	return len <= sizeof(insn) && !x86_read_linear(v, pg, la, insn, len) && !memcmp(insn, bytes, len);
}
