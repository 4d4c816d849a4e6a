/*
 * HvCallGetVpRegisters and HvCallSetVpRegisters (TLFS "Virtual Processor
 * Register" calls; layouts in Linux include/hyperv/hvgdk_mini.h): rep
 * calls whose elements are register names (get: 4 bytes in, a 16-byte
 * value out) or name/value pairs (set: 32 bytes).
 *
 * A partition reaches only its own VP (partition and VP "self", or the
 * caller's index; as Microsoft's OpenHCL answers a child): ACCESS_DENIED
 * for another partition, INVALID_VP_INDEX for another VP. Readable: the
 * synthetic registers (through the same code as their MSRs), the
 * discovery leaves, the GPRs, RIP, RFLAGS, control registers, EFER and the
 * TSC. Writable: the synthetic registers the MSRs let a guest write. An
 * unknown name gets INVALID_PARAMETER, a read-only one ACCESS_DENIED, a
 * value the register refuses INVALID_REGISTER_VALUE; the call stops there
 * and reports the elements done before it.
 */
#define LOG_SUB_FILE LOG_SUB_HYPERV   /* its messages: loglevel=hyperv:LEVEL */
#include "core/arch.h"
#include "core/string.h"
#include "core/vm.h"
#include "hypercalls/hyperv/hv_abi.h"
#include "hypercalls/hyperv/hyperv.h"

/* Registers that are MSRs too. */
static const struct { uint32_t name, msr; } msr_regs[] = {
	{ HV_REGISTER_GUEST_OS_ID, HV_X64_MSR_GUEST_OS_ID },
	{ HV_REGISTER_VP_INDEX, HV_X64_MSR_VP_INDEX },
	{ HV_REGISTER_TIME_REF_COUNT, HV_X64_MSR_TIME_REF_COUNT },
	{ HV_REGISTER_VP_ASSIST_PAGE, HV_X64_MSR_VP_ASSIST_PAGE },
	{ HV_REGISTER_REFERENCE_TSC, HV_X64_MSR_REFERENCE_TSC },
	{ HV_REGISTER_SCONTROL, HV_X64_MSR_SCONTROL },
	{ HV_REGISTER_SVERSION, HV_X64_MSR_SVERSION },
	{ HV_REGISTER_SIEFP, HV_X64_MSR_SIEFP },
	{ HV_REGISTER_SIMP, HV_X64_MSR_SIMP },
	{ HV_REGISTER_EOM, HV_X64_MSR_EOM },
	{ HV_REGISTER_GUEST_CRASH_CTL, HV_X64_MSR_CRASH_CTL },
};

/* The MSR behind register `name`, or 0. */
static uint32_t reg_msr(uint32_t name)
{
	for (size_t i = 0; i < ARRAY_SIZE(msr_regs); i++)
		if (msr_regs[i].name == name)
			return msr_regs[i].msr;
	if (name >= HV_REGISTER_SINT0 && name < HV_REGISTER_SINT0 + HV_SYNIC_SINT_COUNT)
		return HV_X64_MSR_SINT0 + (name - HV_REGISTER_SINT0);
	if (name >= HV_REGISTER_STIMER0_CONFIG && name < HV_REGISTER_STIMER0_CONFIG + 2 * HV_STIMER_COUNT)
		return HV_X64_MSR_STIMER0_CONFIG + (name - HV_REGISTER_STIMER0_CONFIG);
	if (name >= HV_REGISTER_GUEST_CRASH_P0 && name < HV_REGISTER_GUEST_CRASH_P0 + 5)
		return HV_X64_MSR_CRASH_P0 + (name - HV_REGISTER_GUEST_CRASH_P0);
	return 0;
}

/* The discovery registers are the CPUID leaves 0x40000002-0x40000006, EAX to EDX. */
static bool cpuid_reg(struct vcpu *v, uint32_t name, uint64_t val[2])
{
	uint32_t leaf;
	switch (name) {
	case HV_REGISTER_HYPERVISOR_VERSION:      leaf = HV_CPUID_VERSION; break;
	case HV_REGISTER_PRIVILEGES_AND_FEATURES: leaf = HV_CPUID_FEATURES; break;
	case HV_REGISTER_FEATURES:                leaf = HV_CPUID_ENLIGHTENMENTS; break;
	case HV_REGISTER_IMPLEMENTATION_LIMITS:   leaf = HV_CPUID_LIMITS; break;
	case HV_REGISTER_HARDWARE_FEATURES:       leaf = HV_CPUID_HW_FEATURES; break;
	default: return false;
	}
	struct cpuid_regs r = { 0 };
	hv_cpuid(v, leaf - HC_CPUID_BASE, 0, &r);
	val[0] = (uint64_t)r.ebx << 32 | r.eax;
	val[1] = (uint64_t)r.edx << 32 | r.ecx;
	return true;
}

/* The architectural registers a guest may read: 0, or -ENOENT for a name that is not one. */
static int arch_reg(struct vcpu *v, uint32_t name, uint64_t *val)
{
	struct arch_ctrl_regs cr;
	if (name >= HV_X64_REGISTER_RAX && name < HV_X64_REGISTER_RAX + X86_NR_GPRS) {
		*val = v->regs.gpr[name - HV_X64_REGISTER_RAX];
		return 0;
	}
	switch (name) {
	case HV_X64_REGISTER_RIP:    *val = v->regs.rip; return 0;
	case HV_X64_REGISTER_RFLAGS: *val = v->regs.rflags; return 0;
	case HV_X64_REGISTER_TSC:    *val = arch_guest_counter(v, arch_read_counter()); return 0;
	}
	arch_vcpu_ctrl_regs(v, &cr);
	switch (name) {
	case HV_X64_REGISTER_CR0:  *val = cr.cr0; return 0;
	case HV_X64_REGISTER_CR2:  *val = cr.cr2; return 0;
	case HV_X64_REGISTER_CR3:  *val = cr.cr3; return 0;
	case HV_X64_REGISTER_CR4:  *val = cr.cr4; return 0;
	case HV_X64_REGISTER_CR8:  *val = cr.cr8; return 0;
	case HV_X64_REGISTER_EFER: *val = cr.efer; return 0;
	}
	return -ENOENT;
}

/* Partition self and VP self (or the caller's own index); the VTL byte names VTL 0 or none. */
static uint16_t check_target(const struct hv_ctx *c)
{
	uint32_t vp = (uint32_t)c->input[1];
	uint8_t vtl = (uint8_t)(c->input[1] >> 32);
	if (c->input[1] >> 40 || (vtl & HV_INPUT_VTL_RESERVED))
		return HV_STATUS_INVALID_HYPERCALL_INPUT;
	if (c->input[0] != HV_PARTITION_ID_SELF)
		return HV_STATUS_ACCESS_DENIED;
	if (vp != HV_VP_INDEX_SELF && vp != c->v->id)
		return HV_STATUS_INVALID_VP_INDEX;
	if ((vtl & HV_INPUT_VTL_USE_TARGET) && (vtl & 0xf))
		return HV_STATUS_INVALID_PARAMETER;   /* no VTL above 0 exists */
	return HV_STATUS_SUCCESS;
}

static uint16_t get_one(struct vcpu *v, uint32_t name, uint64_t val[2])
{
	uint32_t msr = reg_msr(name);
	val[0] = val[1] = 0;
	if (msr)
		return hv_msr_read(v, msr, &val[0]) ? HV_STATUS_INVALID_PARAMETER : HV_STATUS_SUCCESS;
	if (name == HV_REGISTER_VSM_CODE_PAGE_OFFSETS) {
		val[0] = HV_PAGE_VTL_CALL_OFFSET | (uint64_t)HV_PAGE_VTL_RETURN_OFFSET << 12;
		return HV_STATUS_SUCCESS;
	}
	if (cpuid_reg(v, name, val) || !arch_reg(v, name, &val[0]))
		return HV_STATUS_SUCCESS;
	return HV_STATUS_INVALID_PARAMETER;
}

static uint16_t get_element(struct hv_ctx *c, unsigned i)
{
	uint32_t name;
	uint64_t val[2];
	uint16_t status;
	if (hv_rep_in(c, i, &name))
		return HV_STATUS_INVALID_HYPERCALL_INPUT;
	if ((status = get_one(c->v, name, val)))
		return status;
	return hv_rep_out(c, i, val) ? HV_STATUS_INVALID_HYPERCALL_INPUT : HV_STATUS_SUCCESS;
}

uint16_t hv_get_vp_registers(struct hv_ctx *c)
{
	uint16_t status = check_target(c);
	return status ? status : hv_rep_each(c, get_element);
}

/* hv_register_assoc: name, two reserved fields, the 16-byte value. */
struct hv_register_assoc {
	uint32_t name, reserved1;
	uint64_t reserved2;
	uint64_t value[2];
};

static uint16_t set_one(struct vcpu *v, const struct hv_register_assoc *r)
{
	uint64_t unused[2];
	uint32_t msr = reg_msr(r->name);
	if (r->reserved1 || r->reserved2)
		return HV_STATUS_INVALID_PARAMETER;
	if (!msr)
		return get_one(v, r->name, unused) ? HV_STATUS_INVALID_PARAMETER : HV_STATUS_ACCESS_DENIED;
	if (msr == HV_X64_MSR_VP_INDEX || msr == HV_X64_MSR_TIME_REF_COUNT || msr == HV_X64_MSR_SVERSION)
		return HV_STATUS_ACCESS_DENIED;
	if (r->value[1] || hv_msr_write(v, msr, r->value[0]))
		return HV_STATUS_INVALID_REGISTER_VALUE;
	return HV_STATUS_SUCCESS;
}

static uint16_t set_element(struct hv_ctx *c, unsigned i)
{
	struct hv_register_assoc r;
	if (hv_rep_in(c, i, &r))
		return HV_STATUS_INVALID_HYPERCALL_INPUT;
	return set_one(c->v, &r);
}

uint16_t hv_set_vp_registers(struct hv_ctx *c)
{
	uint16_t status = check_target(c);
	return status ? status : hv_rep_each(c, set_element);
}
