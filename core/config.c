#include "core/arch.h"
#include "core/config.h"
#include "core/log.h"
#include "core/selftest.h"
#include "core/string.h"
#include "core/vm.h"
#include "hypercalls/hypercall.h"
#include "hypercalls/intercept.h"
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

/* "kvm", "hyperv,xen"...: each known, none twice, Hyper-V only first; NULL or why not. */
static const char *abi_list_parse(const char *val, size_t vlen, struct abi_list *out)
{
	*out = (struct abi_list){ .n = 0 };
	for (size_t at = 0; at <= vlen;) {
		const char *comma = memchr(val + at, ',', vlen - at);
		size_t n = comma ? (size_t)(comma - (val + at)) : vlen - at;
		const struct hc_abi *abi = hc_abi_by_name(val + at, n);
		if (!abi)
			return "each ABI is kvm, hyperv or xen";
		for (unsigned i = 0; i < out->n; i++)
			if (out->abi[i] == abi)
				return "an ABI listed twice";
		if (abi == &hyperv_abi && out->n)
			return "hyperv may only come first: guests look for it at CPUID 0x40000000 alone";
		out->abi[out->n++] = abi;
		at += n + 1;
	}
	return NULL;
}

static void parse_abi(struct hv_config *cfg, const char *tok, size_t len, const char *val, size_t vlen)
{
	struct vm_config *vm = cfg->nr_vms ? &cfg->vms[cfg->nr_vms - 1] : NULL;
	struct abi_list list;
	if (cfg->last_guest_refused) {
		config_error(cfg, tok, len, "belongs to a guest= that was refused");
		return;
	}
	const char *why = abi_list_parse(val, vlen, &list);
	if (why) {
		config_error(cfg, tok, len, why);
		if (vm)
			vm->bad = true;
		return;
	}
	if (vm)
		vm->abis = list;
	else
		cfg->default_abis = list;
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

/* A comma list's next entry at *at: its start and length; false at the end. */
static bool next_entry(const char *val, size_t vlen, size_t *at, const char **e, size_t *n)
{
	if (*at > vlen)
		return false;
	const char *comma = memchr(val + *at, ',', vlen - *at);
	*e = val + *at;
	*n = comma ? (size_t)(comma - *e) : vlen - *at;
	*at += *n + 1;
	return true;
}

/* "debug" or "hc:debug,sched:warn,info": checked whole (check), then applied. */
static int parse_loglevel(const char *val, size_t vlen, bool check)
{
	const char *e;
	size_t n, at = 0;
	while (next_entry(val, vlen, &at, &e, &n)) {
		const char *colon = memchr(e, ':', n);
		enum log_level level;
		enum log_sub sub = LOG_SUB_CORE;
		size_t sl = colon ? (size_t)(colon - e) : 0;
		if ((colon && log_parse_sub(e, sl, &sub)) || log_parse_level(e + (colon ? sl + 1 : 0), n - (colon ? sl + 1 : 0), &level))
			return -EINVAL;
		if (check)
			continue;
		if (colon)
			log_set_sub_level(sub, level);
		else
			log_set_level(level);
	}
	return 0;
}

static void parse_name(struct hv_config *cfg, const char *tok, size_t len, const char *val, size_t vlen)
{
	struct vm_config *vm = cfg->nr_vms ? &cfg->vms[cfg->nr_vms - 1] : NULL;
	if (!vm || cfg->last_guest_refused) {
		config_error(cfg, tok, len, vm ? "belongs to a guest= that was refused" : "name= must follow a guest=");
		return;
	}
	bool ok = vlen && vlen < CFG_NAME_MAX;
	for (size_t i = 0; ok && i < vlen; i++)
		ok = (val[i] >= 'a' && val[i] <= 'z') || (val[i] >= 'A' && val[i] <= 'Z') ||
		     (val[i] >= '0' && val[i] <= '9') || val[i] == '-' || val[i] == '_';
	for (unsigned i = 0; ok && i + 1 < cfg->nr_vms; i++)
		ok = !(strlen(cfg->vms[i].name) == vlen && !memcmp(cfg->vms[i].name, val, vlen));
	if (!ok) {
		config_error(cfg, tok, len, "a name is 1-31 letters, digits, - or _, and unique");
		vm->bad = true;
		return;
	}
	memcpy(vm->name, val, vlen);
	vm->name[vlen] = 0;
}

/* deny=xen:grant_table_op,hyperv:0x5c,kvm:*: each entry an ABI and a call name, a number or '*'. */
static void parse_policy(struct hv_config *cfg, const char *tok, size_t len, const char *val, size_t vlen, bool allow)
{
	struct vm_config *vm = cfg->nr_vms ? &cfg->vms[cfg->nr_vms - 1] : NULL;
	const char *e, *why = NULL;
	size_t n, at = 0;
	if (!vm || cfg->last_guest_refused) {
		config_error(cfg, tok, len, vm ? "belongs to a guest= that was refused" : "allow= and deny= must follow a guest=");
		return;
	}
	struct hc_policy p = vm->policy;
	while (!why && next_entry(val, vlen, &at, &e, &n)) {
		const char *colon = memchr(e, ':', n);
		size_t al = colon ? (size_t)(colon - e) : 0;
		const struct hc_abi *abi = !colon ? NULL : al == 3 && !memcmp(e, "ext", 3) ? &ext_abi : hc_abi_by_name(e, al);
		const char *call = colon ? colon + 1 : NULL;
		size_t cl = colon ? n - (size_t)(call - e) : 0;
		uint64_t nr;
		if (!abi)
			why = "each entry is abi:call, the ABI kvm, hyperv, xen or ext";
		else if (cl == 1 && call[0] == '*')
			nr = HC_POLICY_ANY;
		else if (parse_u64(call, cl, false, &nr) && hc_call_by_name(abi, call, cl, &nr))
			why = "a call is one of the ABI's call names, a number or *";
		if (!why && p.n == HC_POLICY_MAX)
			why = "at most 16 rules per guest";
		if (!why)
			p.rule[p.n++] = (struct hc_policy_rule){ abi, nr, allow };
	}
	if (why) {
		config_error(cfg, tok, len, why);
		vm->bad = true;
		return;
	}
	vm->policy = p;
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

	if (key_is(tok, klen, "guest")) {
		cfg->last_guest_refused = cfg->nr_vms == CFG_MAX_VMS || !vlen || vlen >= BOOT_MOD_CMDLINE_MAX;
		if (cfg->last_guest_refused) {
			config_error(cfg, tok, len, cfg->nr_vms == CFG_MAX_VMS ? "too many guests" : "bad guest name");
			return;
		}
		struct vm_config *vm = &cfg->vms[cfg->nr_vms++];
		*vm = (struct vm_config){ .mem = cfg->default_mem, .nr_vcpus = cfg->default_vcpus, .abis = cfg->default_abis };
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
		if (parse_loglevel(val, vlen, true))
			config_error(cfg, tok, len, "log levels are err, warn, info or debug, each alone or as "
			             "subsystem:level (core, sched, mem, hc, kvm, hyperv, xen, arch)");
		else
			parse_loglevel(val, vlen, false);
	} else if (key_is(tok, klen, "ext")) {
		struct vm_config *vm = cfg->nr_vms ? &cfg->vms[cfg->nr_vms - 1] : NULL;
		bool on = vlen == 2 && !memcmp(val, "on", 2), off = vlen == 3 && !memcmp(val, "off", 3);
		if (!vm || cfg->last_guest_refused || (!on && !off)) {
			config_error(cfg, tok, len, !vm ? "ext= must follow a guest=" : cfg->last_guest_refused ?
			             "belongs to a guest= that was refused" : "ext= is on or off");
			if (vm && !cfg->last_guest_refused)
				vm->bad = true;
		} else {
			vm->ext = on;
		}
	} else if (key_is(tok, klen, "name")) {
		parse_name(cfg, tok, len, val, vlen);
	} else if (key_is(tok, klen, "deny") || key_is(tok, klen, "allow")) {
		parse_policy(cfg, tok, len, val, vlen, key_is(tok, klen, "allow"));
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
		*vm = (struct vm_config){ .mem = cfg->default_mem, .nr_vcpus = cfg->default_vcpus, .abis = cfg->default_abis };
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
