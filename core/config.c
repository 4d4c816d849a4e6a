#include "core/arch.h"
#include "core/config.h"
#include "core/log.h"
#include "core/selftest.h"
#include "core/string.h"
#include "core/vm.h"
#include "hypercalls/hypercall.h"
#include <arch/vcpu_arch.h>

static bool key_is(const char *tok, size_t keylen, const char *key)
{
	return keylen == strlen(key) && !memcmp(tok, key, keylen);
}

static void config_error(struct hv_config *cfg, const char *tok, size_t len, const char *why)
{
	pr_err("command line: '%.*s': %s\n", (int)len, tok, why);
	cfg->nr_errors++;
}

/*
 * A per-VM number (mem=, vcpus=): for the latest guest=, or the default for
 * the guests that follow when no guest= came yet. 0 or -EINVAL (reported).
 */
static int parse_vm_number(struct hv_config *cfg, const char *tok, size_t len, const char *val, size_t vlen,
                           bool suffix, uint64_t min, uint64_t max, uint64_t align, const char *why,
                           uint64_t *out)
{
	struct vm_config *vm = cfg->nr_vms ? &cfg->vms[cfg->nr_vms - 1] : NULL;
	if (cfg->last_guest_refused) {
		config_error(cfg, tok, len, "belongs to a guest= that was refused");
		return -EINVAL;
	}
	if (parse_u64(val, vlen, suffix, out) || !IS_ALIGNED(*out, align) || *out < min || *out > max) {
		config_error(cfg, tok, len, why);
		if (vm)
			vm->bad = true;
		return -EINVAL;
	}
	return 0;
}

static void parse_mem(struct hv_config *cfg, const char *tok, size_t len, const char *val, size_t vlen)
{
	uint64_t mem;
	if (parse_vm_number(cfg, tok, len, val, vlen, true, ARCH_GUEST_MEM_MIN, ARCH_GUEST_MEM_MAX,
	                    PAGE_SIZE, "guest memory must be 4K-aligned, 1M..3G", &mem))
		return;
	if (cfg->nr_vms)
		cfg->vms[cfg->nr_vms - 1].mem = mem;
	else
		cfg->default_mem = mem;
}

static void parse_vcpus(struct hv_config *cfg, const char *tok, size_t len, const char *val, size_t vlen)
{
	uint64_t n;
	if (parse_vm_number(cfg, tok, len, val, vlen, false, 1, VM_MAX_VCPUS, 1,
	                    "a VM has 1..8 vCPUs", &n))
		return;
	if (cfg->nr_vms)
		cfg->vms[cfg->nr_vms - 1].nr_vcpus = (unsigned)n;
	else
		cfg->default_vcpus = (unsigned)n;
}

static void parse_abi(struct hv_config *cfg, const char *tok, size_t len, const char *val, size_t vlen)
{
	const struct hc_abi *abi = hc_abi_by_name(val, vlen);
	struct vm_config *vm = cfg->nr_vms ? &cfg->vms[cfg->nr_vms - 1] : NULL;
	if (cfg->last_guest_refused) {
		config_error(cfg, tok, len, "belongs to a guest= that was refused");
		return;
	}
	if (!abi) {
		config_error(cfg, tok, len, "the ABI is kvm, hyperv or xen");
		if (vm)
			vm->bad = true;
		return;
	}
	if (vm)
		vm->abi = abi;
	else
		cfg->default_abi = abi;
}

static void parse_module(struct hv_config *cfg, const char *tok, size_t len, const char *val, size_t vlen)
{
	struct vm_config *vm = cfg->nr_vms ? &cfg->vms[cfg->nr_vms - 1] : NULL;
	if (!vm || cfg->last_guest_refused) {
		config_error(cfg, tok, len, vm ? "belongs to a guest= that was refused" : "module= must follow a guest=");
		return;
	}
	if (vm->nr_modules == GUEST_MAX_MODULES || !vlen || vlen >= BOOT_MOD_CMDLINE_MAX) {
		config_error(cfg, tok, len, vlen ? "at most 4 modules per guest" : "bad module name");
		vm->bad = true;
		return;
	}
	memcpy(vm->module_names[vm->nr_modules++], val, vlen);
}

static void parse_token(struct hv_config *cfg, const char *tok, size_t len)
{
	const char *eq = memchr(tok, '=', len);
	if (!eq) {
		config_error(cfg, tok, len, "expected key=value");
		return;
	}
	size_t klen = (size_t)(eq - tok), vlen = len - klen - 1;
	const char *val = eq + 1;
	enum log_level level;

	if (key_is(tok, klen, "guest")) {
		cfg->last_guest_refused = cfg->nr_vms == CFG_MAX_VMS || !vlen || vlen >= BOOT_MOD_CMDLINE_MAX;
		if (cfg->last_guest_refused) {
			config_error(cfg, tok, len, cfg->nr_vms == CFG_MAX_VMS ? "too many guests" : "bad guest name");
			return;
		}
		struct vm_config *vm = &cfg->vms[cfg->nr_vms++];
		*vm = (struct vm_config){ .mem = cfg->default_mem, .nr_vcpus = cfg->default_vcpus, .abi = cfg->default_abi };
		memcpy(vm->image, val, vlen);
	} else if (key_is(tok, klen, "args")) {
		/* the UEFI loader already folded it into the guest's module command line */
		if (!cfg->nr_vms)
			config_error(cfg, tok, len, "args= must follow a guest=");
	} else if (key_is(tok, klen, "mem")) {
		parse_mem(cfg, tok, len, val, vlen);
	} else if (key_is(tok, klen, "vcpus")) {
		parse_vcpus(cfg, tok, len, val, vlen);
	} else if (key_is(tok, klen, "abi")) {
		parse_abi(cfg, tok, len, val, vlen);
	} else if (key_is(tok, klen, "module")) {
		parse_module(cfg, tok, len, val, vlen);
	} else if (key_is(tok, klen, "loglevel")) {
		if (log_parse_level(val, vlen, &level))
			config_error(cfg, tok, len, "log level is err, warn, info or debug");
		else
			log_set_level(level);
	} else if (key_is(tok, klen, "selftest")) {
		if (selftest_parse(val, vlen))
			config_error(cfg, tok, len, "self-test is ud, write-text, exec-data, null, bad-entry or bad-control");
	} else if (key_is(tok, klen, "exit")) {
		if (arch_set_exit_method(val, vlen))
			config_error(cfg, tok, len, "exit method is qemu, bochs or halt");
	} else {
		config_error(cfg, tok, len, "unknown option");
	}
}

void config_parse(const char *cmdline, struct hv_config *cfg)
{
	*cfg = (struct hv_config){ .default_mem = CFG_DEFAULT_MEM, .default_vcpus = 1 };
	for (const char *p = cmdline; *p;) {
		while (*p == ' ' || *p == '\t')
			p++;
		const char *start = p;
		while (*p && *p != ' ' && *p != '\t')
			p++;
		if (p > start)
			parse_token(cfg, start, (size_t)(p - start));
	}
}

/* Length of the module's name: its first word. */
static size_t module_name_len(const struct boot_module *m)
{
	size_t n = 0;
	while (m->cmdline[n] && m->cmdline[n] != ' ')
		n++;
	return n;
}

void config_default_vms(struct hv_config *cfg, const struct boot_info *bi)
{
	for (uint32_t i = 0; i < bi->nr_modules && cfg->nr_vms < CFG_MAX_VMS; i++) {
		struct vm_config *vm = &cfg->vms[cfg->nr_vms++];
		*vm = (struct vm_config){ .mem = cfg->default_mem, .nr_vcpus = cfg->default_vcpus, .abi = cfg->default_abi };
		memcpy(vm->image, bi->modules[i].cmdline, module_name_len(&bi->modules[i]));
	}
}

void config_find_modules(struct hv_config *cfg, const struct boot_info *bi)
{
	for (unsigned i = 0; i < cfg->nr_vms; i++)
		for (unsigned m = 0; m < cfg->vms[i].nr_modules; m++)
			cfg->vms[i].modules[m] = config_find_module(bi, cfg->vms[i].module_names[m]);
}

const struct boot_module *config_find_module(const struct boot_info *bi, const char *name)
{
	size_t len = strlen(name);
	for (uint32_t i = 0; i < bi->nr_modules; i++) {
		const struct boot_module *m = &bi->modules[i];
		if (module_name_len(m) == len && !memcmp(m->cmdline, name, len))
			return m;
	}
	return NULL;
}

const char *config_module_args(const struct boot_module *m)
{
	const char *p = m->cmdline + module_name_len(m);
	while (*p == ' ')
		p++;
	return p;
}
