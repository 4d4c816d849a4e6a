/*
 * The hypervisor command line (GRUB `multiboot2 /boot/hv.elf ...` or hv.cfg on
 * the ESP). Tokens are separated by spaces:
 *   guest=NAME     start a VM from the boot module whose first word is NAME
 *   args=A,B       (UEFI only) the guest's arguments, read by the loader
 *   mem=SIZE       guest RAM (K/M/G suffix) for the last guest= (default 16M;
 *                  before any guest= it sets the default)
 *   vcpus=N        vCPUs (1..8) for the last guest= (default 1; before any
 *                  guest= it sets the default)
 *   abi=LIST       the hypercall ABIs the last guest= speaks, in order, comma
 *                  separated: kvm (default), hyperv, xen, any combination;
 *                  hyperv only first (docs/dispatch.md). Before any guest=
 *                  it sets the default
 *   module=NAME    give the last guest= the boot module NAME too (up to 4):
 *                  loaded at the top of its RAM, listed in its start info
 *   name=NAME      the last guest='s name (letters, digits, - and _; at most
 *                  31; unique): its console lines and reports carry it
 *   deny=LIST      calls the last guest= may not make: abi:call, the call by
 *   allow=LIST     name or number, or abi:* for all; allow= makes the ABIs it
 *                  names allow-listed (hypercalls/intercept.c). At most 16
 *   ext=on|off     the last guest= may make the project's own calls
 *                  (docs/extensions.md); off by default
 *   loglevel=L     err|warn|info|debug, or a list with subsystem:level
 *                  entries (core, sched, mem, hc, kvm, hyperv, xen, arch)
 *   exit=M         how the machine stops when every VM has ended:
 *                  qemu (isa-debug-exit 0xf4), bochs (port 0x8900), halt
 *   selftest=T     make the hypervisor fault on purpose (core/selftest.h)
 * With no guest= at all, every boot module becomes a VM.
 */
#ifndef CORE_CONFIG_H
#define CORE_CONFIG_H

#include "core/boot_info.h"
#include "core/elf.h"
#include "core/types.h"
#include "hypercalls/abi_state.h"

struct hc_abi;

#define CFG_MAX_VMS 16
#define CFG_MAX_ABIS 3

/* An abi= list: the ABIs in order (CPUID block i is abi[i]'s); n 0: the default (KVM). */
struct abi_list {
	const struct hc_abi *abi[CFG_MAX_ABIS];
	unsigned n;
};
#define CFG_DEFAULT_MEM MiB(16)

#define CFG_NAME_MAX 32

struct vm_config {
	char image[BOOT_MOD_CMDLINE_MAX]; /* module name: first word of its command line */
	char name[CFG_NAME_MAX];          /* name=; empty: vmN */
	struct hc_policy policy;          /* deny=, allow= */
	bool ext;                         /* ext=on: the project's own calls (docs/extensions.md) */
	uint64_t mem;
	unsigned nr_vcpus;
	struct abi_list abis;
	bool bad;                         /* a token for this VM was rejected */
	unsigned nr_modules;
	char module_names[GUEST_MAX_MODULES][BOOT_MOD_CMDLINE_MAX];
	const struct boot_module *modules[GUEST_MAX_MODULES];   /* config_find_modules: NULL if absent */
};

struct hv_config {
	struct vm_config vms[CFG_MAX_VMS];
	unsigned nr_vms;
	uint64_t default_mem;
	unsigned default_vcpus;
	struct abi_list default_abis;
	unsigned nr_errors;               /* bad tokens (each already reported) */
	bool last_guest_refused;          /* the latest guest= was rejected */
};

/* Parses the command line; every bad token gets one error line naming it. */
void config_parse(const char *cmdline, struct hv_config *cfg);
/* With no guest= tokens: one VM per module. */
void config_default_vms(struct hv_config *cfg, const struct boot_info *bi);
/* Resolves every VM's module= names against the boot modules. */
void config_find_modules(struct hv_config *cfg, const struct boot_info *bi);
/* The boot module named `name` (first word of its cmdline), or NULL. */
const struct boot_module *config_find_module(const struct boot_info *bi, const char *name);
/* The module's own guest command line: everything after its first word. */
const char *config_module_args(const struct boot_module *m);

#endif
