/* core/config.c: the hypervisor command line and the boot modules it names. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "core/config.h"
#include "hypercalls/hypercall.h"
#include "core/log.h"
#include "tests/fake_arch/fake_arch.h"
#include "tests/fake_arch/fake_test.h"

static struct hv_config cfg;

static int setup(void **state)
{
	fake_arch_reset();
	fake_console_reset();
	/* loglevel= changes a global; errors must print whatever the last test set */
	log_set_level(LOG_INFO);
	memset(&cfg, 0x5a, sizeof(cfg));
	return 0;
}

static int teardown(void **state)
{
	log_set_level(LOG_INFO);
	return 0;
}

/* The one error line config_parse prints for a rejected token. */
static void assert_error_line(const char *tok, const char *why)
{
	char line[512];
	snprintf(line, sizeof(line), "hv: command line: '%s': %s\n", tok, why);
	if (!fake_console_has(line))
		fail_fmt("console lacks \"%s\"; it has:\n%s", line, fake_console_text());
}

static void test_empty_command_line(void **state)
{
	config_parse("", &cfg);
	assert_int_equal(cfg.nr_vms, 0);
	assert_int_equal(cfg.nr_errors, 0);
	assert_int_equal(cfg.default_mem, CFG_DEFAULT_MEM);
	assert_string_equal(fake_console_text(), "");
}

static void test_only_spaces(void **state)
{
	config_parse("  \t  ", &cfg);
	assert_int_equal(cfg.nr_vms, 0);
	assert_int_equal(cfg.nr_errors, 0);
}

static void test_guest_gets_default_mem(void **state)
{
	config_parse("guest=/boot/a.elf", &cfg);
	assert_int_equal(cfg.nr_vms, 1);
	assert_string_equal(cfg.vms[0].image, "/boot/a.elf");
	assert_int_equal(cfg.vms[0].mem, CFG_DEFAULT_MEM);
	assert_false(cfg.vms[0].bad);
	assert_int_equal(cfg.nr_errors, 0);
}

static void test_mem_applies_to_last_guest(void **state)
{
	config_parse("guest=a mem=32M guest=b", &cfg);
	assert_int_equal(cfg.nr_vms, 2);
	assert_string_equal(cfg.vms[0].image, "a");
	assert_int_equal(cfg.vms[0].mem, MiB(32));
	assert_string_equal(cfg.vms[1].image, "b");
	assert_int_equal(cfg.vms[1].mem, CFG_DEFAULT_MEM);
}

static void test_mem_before_guest_sets_default(void **state)
{
	config_parse("mem=8M guest=a guest=b mem=2M guest=c", &cfg);
	assert_int_equal(cfg.default_mem, MiB(8));
	assert_int_equal(cfg.nr_vms, 3);
	assert_int_equal(cfg.vms[0].mem, MiB(8));
	assert_int_equal(cfg.vms[1].mem, MiB(2));
	assert_int_equal(cfg.vms[2].mem, MiB(8));
	assert_int_equal(cfg.nr_errors, 0);
}

static void test_later_mem_overrides(void **state)
{
	config_parse("guest=a mem=2M mem=4M", &cfg);
	assert_int_equal(cfg.vms[0].mem, MiB(4));
}

static void test_mem_units(void **state)
{
	config_parse("guest=a mem=4096K guest=b mem=2G guest=c mem=1048576 guest=d mem=0x200000 "
	             "guest=e mem=3g guest=f mem=1m", &cfg);
	assert_int_equal(cfg.nr_errors, 0);
	assert_int_equal(cfg.vms[0].mem, MiB(4));
	assert_int_equal(cfg.vms[1].mem, GiB(2));
	assert_int_equal(cfg.vms[2].mem, MiB(1));
	assert_int_equal(cfg.vms[3].mem, MiB(2));
	assert_int_equal(cfg.vms[4].mem, GiB(3));
	assert_int_equal(cfg.vms[5].mem, MiB(1));
}

static void assert_bad_mem(const char *line, const char *tok)
{
	setup(NULL);
	config_parse(line, &cfg);
	assert_int_equal(cfg.nr_vms, 1);
	assert_true(cfg.vms[0].bad);
	assert_int_equal(cfg.vms[0].mem, CFG_DEFAULT_MEM);
	assert_int_equal(cfg.nr_errors, 1);
	assert_error_line(tok, "guest memory must be 4K-aligned, 1M..3G");
	assert_int_equal(fake_console_count("hv: "), 1);
}

static void test_mem_not_page_aligned(void **state)
{
	assert_bad_mem("guest=a mem=1048577", "mem=1048577");
	assert_bad_mem("guest=a mem=0x100800", "mem=0x100800");
}

static void test_mem_below_1m(void **state)
{
	assert_bad_mem("guest=a mem=1020K", "mem=1020K");
	assert_bad_mem("guest=a mem=0", "mem=0");
}

static void test_mem_above_3g(void **state)
{
	assert_bad_mem("guest=a mem=4G", "mem=4G");
	assert_bad_mem("guest=a mem=3145732K", "mem=3145732K");
	assert_bad_mem("guest=a mem=18446744073709551615", "mem=18446744073709551615");
}

static void test_mem_junk(void **state)
{
	assert_bad_mem("guest=a mem=12Q", "mem=12Q");
	assert_bad_mem("guest=a mem=", "mem=");
	assert_bad_mem("guest=a mem=-1M", "mem=-1M");
	assert_bad_mem("guest=a mem=99999999999G", "mem=99999999999G");
}

static void test_mem_limits_inclusive(void **state)
{
	config_parse("guest=a mem=1M guest=b mem=3G guest=c mem=1028K", &cfg);
	assert_int_equal(cfg.nr_errors, 0);
	assert_int_equal(cfg.vms[0].mem, MiB(1));
	assert_int_equal(cfg.vms[1].mem, GiB(3));
	assert_int_equal(cfg.vms[2].mem, KiB(1028));
}

static void test_bad_mem_before_guests_keeps_default(void **state)
{
	config_parse("mem=12Q guest=a", &cfg);
	assert_int_equal(cfg.nr_errors, 1);
	assert_error_line("mem=12Q", "guest memory must be 4K-aligned, 1M..3G");
	assert_int_equal(cfg.default_mem, CFG_DEFAULT_MEM);
	assert_int_equal(cfg.nr_vms, 1);
	assert_int_equal(cfg.vms[0].mem, CFG_DEFAULT_MEM);
	/* the bad token belonged to no VM */
	assert_false(cfg.vms[0].bad);
}

static void test_bad_mem_marks_only_its_guest(void **state)
{
	config_parse("guest=a guest=b mem=5 guest=c", &cfg);
	assert_int_equal(cfg.nr_vms, 3);
	assert_false(cfg.vms[0].bad);
	assert_true(cfg.vms[1].bad);
	assert_false(cfg.vms[2].bad);
}

static void test_unknown_option(void **state)
{
	config_parse("foo=bar guest=a", &cfg);
	assert_int_equal(cfg.nr_errors, 1);
	assert_error_line("foo=bar", "unknown option");
	assert_int_equal(cfg.nr_vms, 1);
}

static void test_key_is_matched_exactly(void **state)
{
	config_parse("guests=a Guest=b memory=2M =x", &cfg);
	assert_int_equal(cfg.nr_vms, 0);
	assert_int_equal(cfg.nr_errors, 4);
	assert_error_line("guests=a", "unknown option");
	assert_error_line("Guest=b", "unknown option");
	assert_error_line("memory=2M", "unknown option");
	assert_error_line("=x", "unknown option");
}

static void test_token_without_equals(void **state)
{
	config_parse("guest quiet", &cfg);
	assert_int_equal(cfg.nr_errors, 2);
	assert_int_equal(cfg.nr_vms, 0);
	assert_error_line("guest", "expected key=value");
	assert_error_line("quiet", "expected key=value");
}

static void test_empty_guest_name(void **state)
{
	config_parse("guest=", &cfg);
	assert_int_equal(cfg.nr_vms, 0);
	assert_int_equal(cfg.nr_errors, 1);
	assert_error_line("guest=", "bad guest name");
}

static void test_guest_name_too_long(void **state)
{
	char line[BOOT_MOD_CMDLINE_MAX + 16] = "guest=";
	memset(line + 6, 'n', BOOT_MOD_CMDLINE_MAX);
	line[6 + BOOT_MOD_CMDLINE_MAX] = 0;
	config_parse(line, &cfg);
	assert_int_equal(cfg.nr_vms, 0);
	assert_int_equal(cfg.nr_errors, 1);
	assert_true(fake_console_has("': bad guest name\n"));
}

static void test_guest_name_longest_allowed(void **state)
{
	char line[BOOT_MOD_CMDLINE_MAX + 16] = "guest=";
	memset(line + 6, 'n', BOOT_MOD_CMDLINE_MAX - 1);
	line[6 + BOOT_MOD_CMDLINE_MAX - 1] = 0;
	config_parse(line, &cfg);
	assert_int_equal(cfg.nr_vms, 1);
	assert_int_equal(strlen(cfg.vms[0].image), BOOT_MOD_CMDLINE_MAX - 1);
}

static void build_many_guests(char *line, size_t size, unsigned n, const char *tail)
{
	size_t at = 0;
	for (unsigned i = 0; i < n; i++)
		at += (size_t)snprintf(line + at, size - at, "guest=g%u ", i);
	snprintf(line + at, size - at, "%s", tail);
}

static void test_too_many_guests(void **state)
{
	char line[1024];
	build_many_guests(line, sizeof(line), CFG_MAX_VMS + 1, "");
	config_parse(line, &cfg);
	assert_int_equal(cfg.nr_vms, CFG_MAX_VMS);
	assert_int_equal(cfg.nr_errors, 1);
	char tok[32];
	snprintf(tok, sizeof(tok), "guest=g%u", CFG_MAX_VMS);
	assert_error_line(tok, "too many guests");
	snprintf(tok, sizeof(tok), "g%u", CFG_MAX_VMS - 1);
	assert_string_equal(cfg.vms[CFG_MAX_VMS - 1].image, tok);
}

/*
 * mem= belongs to the last guest=; when that guest= was refused, the size must
 * not silently move to the guest before it.
 */
static void test_mem_after_refused_guest_not_given_to_previous(void **state)
{
	char line[1024];
	build_many_guests(line, sizeof(line), CFG_MAX_VMS + 1, "mem=2M");
	config_parse(line, &cfg);
	assert_int_equal(cfg.nr_vms, CFG_MAX_VMS);
	assert_int_equal(cfg.vms[CFG_MAX_VMS - 1].mem, CFG_DEFAULT_MEM);
	assert_int_equal(cfg.nr_errors, 2);
	assert_error_line("mem=2M", "belongs to a guest= that was refused");
}

static void test_mem_after_refused_guest_not_made_default(void **state)
{
	config_parse("guest= mem=2M guest=b", &cfg);
	assert_int_equal(cfg.default_mem, CFG_DEFAULT_MEM);
	assert_int_equal(cfg.nr_vms, 1);
	assert_int_equal(cfg.vms[0].mem, CFG_DEFAULT_MEM);
	assert_int_equal(cfg.nr_errors, 2);
	assert_error_line("mem=2M", "belongs to a guest= that was refused");
}

static void test_guest_after_refused_guest_takes_mem_again(void **state)
{
	config_parse("guest= guest=b mem=2M", &cfg);
	assert_int_equal(cfg.nr_vms, 1);
	assert_int_equal(cfg.vms[0].mem, MiB(2));
	assert_int_equal(cfg.nr_errors, 1);
}

static void test_vcpus_default_one(void **state)
{
	config_parse("guest=a", &cfg);
	assert_int_equal(cfg.vms[0].nr_vcpus, 1);
}

static void test_vcpus_applies_to_last_guest_or_default(void **state)
{
	config_parse("vcpus=2 guest=a guest=b vcpus=8 guest=c vcpus=1", &cfg);
	assert_int_equal(cfg.nr_errors, 0);
	assert_int_equal(cfg.default_vcpus, 2);
	assert_int_equal(cfg.vms[0].nr_vcpus, 2);
	assert_int_equal(cfg.vms[1].nr_vcpus, 8);
	assert_int_equal(cfg.vms[2].nr_vcpus, 1);
}

static void assert_bad_vcpus(const char *line, const char *tok)
{
	setup(NULL);
	config_parse(line, &cfg);
	assert_int_equal(cfg.nr_vms, 1);
	assert_true(cfg.vms[0].bad);
	assert_int_equal(cfg.vms[0].nr_vcpus, 1);
	assert_int_equal(cfg.nr_errors, 1);
	assert_error_line(tok, "a VM has 1..8 vCPUs");
}

static void test_vcpus_out_of_range_or_junk(void **state)
{
	assert_bad_vcpus("guest=a vcpus=0", "vcpus=0");
	assert_bad_vcpus("guest=a vcpus=9", "vcpus=9");
	assert_bad_vcpus("guest=a vcpus=4K", "vcpus=4K");   /* no size suffixes for a count */
	assert_bad_vcpus("guest=a vcpus=", "vcpus=");
	assert_bad_vcpus("guest=a vcpus=-1", "vcpus=-1");
	assert_bad_vcpus("guest=a vcpus=4294967297", "vcpus=4294967297");
}

static void test_vcpus_after_refused_guest(void **state)
{
	config_parse("guest= vcpus=4 guest=b", &cfg);
	assert_int_equal(cfg.default_vcpus, 1);
	assert_int_equal(cfg.vms[0].nr_vcpus, 1);
	assert_int_equal(cfg.nr_errors, 2);
	assert_error_line("vcpus=4", "belongs to a guest= that was refused");
}

static void test_abi_per_guest_and_default(void **state)
{
	config_parse("guest=a abi=hyperv guest=b abi=xen guest=c abi=kvm", &cfg);
	assert_int_equal(cfg.nr_errors, 0);
	assert_ptr_equal(cfg.vms[0].abis.abi[0], &hyperv_abi);
	assert_ptr_equal(cfg.vms[1].abis.abi[0], &xen_abi);
	assert_ptr_equal(cfg.vms[2].abis.abi[0], &kvm_abi);
	setup(NULL);
	config_parse("abi=hyperv guest=a guest=b abi=kvm", &cfg);
	assert_ptr_equal(cfg.vms[0].abis.abi[0], &hyperv_abi);
	assert_ptr_equal(cfg.vms[1].abis.abi[0], &kvm_abi);
}

static void test_abi_lists(void **state)
{
	config_parse("abi=hyperv,xen guest=a guest=b abi=xen,kvm guest=c abi=hyperv,kvm,xen", &cfg);
	assert_int_equal(cfg.nr_errors, 0);
	assert_int_equal(cfg.vms[0].abis.n, 2);                       /* the default list */
	assert_ptr_equal(cfg.vms[0].abis.abi[0], &hyperv_abi);
	assert_ptr_equal(cfg.vms[0].abis.abi[1], &xen_abi);
	assert_int_equal(cfg.vms[1].abis.n, 2);
	assert_ptr_equal(cfg.vms[1].abis.abi[0], &xen_abi);
	assert_ptr_equal(cfg.vms[1].abis.abi[1], &kvm_abi);
	assert_int_equal(cfg.vms[2].abis.n, 3);
	assert_ptr_equal(cfg.vms[2].abis.abi[2], &xen_abi);
	static const struct { const char *line, *tok, *why; } bad[] = {
		{ "guest=a abi=kvm,hyperv", "abi=kvm,hyperv",
		  "hyperv may only come first: guests look for it at CPUID 0x40000000 alone" },
		{ "guest=a abi=xen,xen", "abi=xen,xen", "an ABI listed twice" },
		{ "guest=a abi=hyperv,kvm,xen,kvm", "abi=hyperv,kvm,xen,kvm", "an ABI listed twice" },
		{ "guest=a abi=kvm,", "abi=kvm,", "each ABI is kvm, hyperv or xen" },
		{ "guest=a abi=,kvm", "abi=,kvm", "each ABI is kvm, hyperv or xen" },
		{ "guest=a abi=kvm,vmware", "abi=kvm,vmware", "each ABI is kvm, hyperv or xen" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		setup(NULL);
		config_parse(bad[i].line, &cfg);
		assert_int_equal(cfg.nr_errors, 1);
		assert_true(cfg.vms[0].bad);
		assert_error_line(bad[i].tok, bad[i].why);
	}
}

static void test_modules_per_guest(void **state)
{
	config_parse("guest=a module=/boot/initrd module=m2 guest=b guest=c module=x", &cfg);
	assert_int_equal(cfg.nr_errors, 0);
	assert_int_equal(cfg.vms[0].nr_modules, 2);
	assert_string_equal(cfg.vms[0].module_names[0], "/boot/initrd");
	assert_string_equal(cfg.vms[0].module_names[1], "m2");
	assert_int_equal(cfg.vms[1].nr_modules, 0);
	assert_int_equal(cfg.vms[2].nr_modules, 1);
	assert_string_equal(cfg.vms[2].module_names[0], "x");
}

static void test_module_errors(void **state)
{
	config_parse("module=early guest=a", &cfg);
	assert_error_line("module=early", "module= must follow a guest=");
	assert_false(cfg.vms[0].bad);
	setup(NULL);
	config_parse("guest=a module=1 module=2 module=3 module=4 module=5", &cfg);
	assert_error_line("module=5", "at most 4 modules per guest");
	assert_true(cfg.vms[0].bad);
	assert_int_equal(cfg.vms[0].nr_modules, 4);
	setup(NULL);
	config_parse("guest=a module=", &cfg);
	assert_error_line("module=", "bad module name");
	assert_true(cfg.vms[0].bad);
}

static void test_abi_unknown(void **state)
{
	config_parse("guest=a abi=vmware", &cfg);
	assert_true(cfg.vms[0].bad);
	assert_int_equal(cfg.nr_errors, 1);
	assert_error_line("abi=vmware", "each ABI is kvm, hyperv or xen");
	setup(NULL);
	config_parse("guest=a abi=", &cfg);
	assert_true(cfg.vms[0].bad);
	setup(NULL);
	config_parse("guest= abi=hyperv guest=b", &cfg);
	assert_int_equal(cfg.vms[0].abis.n, 0);
	assert_error_line("abi=hyperv", "belongs to a guest= that was refused");
}

static void test_loglevel(void **state)
{
	config_parse("loglevel=debug", &cfg);
	assert_int_equal(log_get_level(), LOG_DEBUG);
	config_parse("loglevel=warn", &cfg);
	assert_int_equal(log_get_level(), LOG_WARN);
	config_parse("loglevel=0", &cfg);
	assert_int_equal(log_get_level(), LOG_ERR);
	config_parse("loglevel=3", &cfg);
	assert_int_equal(log_get_level(), LOG_DEBUG);
	assert_int_equal(cfg.nr_errors, 0);
}

static void test_bad_loglevel(void **state)
{
	config_parse("loglevel=verbose loglevel=4 loglevel=", &cfg);
	assert_int_equal(cfg.nr_errors, 3);
	assert_int_equal(log_get_level(), LOG_INFO);
#define LOGLEVEL_WHY "log levels are err, warn, info or debug, each alone or as subsystem:level " \
	"(core, sched, mem, hc, kvm, hyperv, xen, arch)"
	assert_error_line("loglevel=verbose", LOGLEVEL_WHY);
	assert_error_line("loglevel=4", LOGLEVEL_WHY);
	assert_error_line("loglevel=", LOGLEVEL_WHY);
}

/* Subsystem levels: a list, checked whole before any of it applies. */
static void test_loglevel_subsystems(void **state)
{
	log_reset_subs();
	config_parse("loglevel=hc:debug,warn,sched:err", &cfg);
	assert_int_equal(cfg.nr_errors, 0);
	assert_int_equal(log_get_level(), LOG_WARN);
	assert_true(log_sub_enabled(LOG_SUB_HC, LOG_DEBUG));
	assert_false(log_sub_enabled(LOG_SUB_SCHED, LOG_WARN));
	assert_true(log_sub_enabled(LOG_SUB_XEN, LOG_WARN));           /* follows the global level */
	assert_false(log_sub_enabled(LOG_SUB_XEN, LOG_INFO));
	config_parse("loglevel=xen:debug,bogus:info", &cfg);
	assert_false(log_sub_enabled(LOG_SUB_XEN, LOG_DEBUG));         /* nothing of a bad list applies */
	assert_error_line("loglevel=xen:debug,bogus:info", LOGLEVEL_WHY);
	log_reset_subs();
}

static void test_names(void **state)
{
	config_parse("guest=a name=web-1 guest=b guest=c name=db_2", &cfg);
	assert_int_equal(cfg.nr_errors, 0);
	assert_string_equal(cfg.vms[0].name, "web-1");
	assert_string_equal(cfg.vms[1].name, "");
	assert_string_equal(cfg.vms[2].name, "db_2");
	static const char *const bad[] = { "guest=a name=", "guest=a name=has.dot", "guest=a name=x guest=b name=x",
	                                   "guest=a name=abcdefghijklmnopqrstuvwxyz0123456" };
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		setup(NULL);
		config_parse(bad[i], &cfg);
		assert_int_equal(cfg.nr_errors, 1);
		assert_true(cfg.vms[cfg.nr_vms - 1].bad);
	}
	setup(NULL);
	config_parse("name=early guest=a", &cfg);
	assert_error_line("name=early", "name= must follow a guest=");
}

static void test_policy_rules(void **state)
{
	config_parse("guest=a abi=hyperv,xen,kvm deny=xen:grant_table_op,hyperv:0x5c allow=kvm:send_ipi deny=kvm:*", &cfg);
	assert_int_equal(cfg.nr_errors, 0);
	const struct hc_policy *p = &cfg.vms[0].policy;
	assert_int_equal(p->n, 4);
	assert_ptr_equal(p->rule[0].abi, &xen_abi);
	assert_int_equal(p->rule[0].nr, 20);                           /* __HYPERVISOR_grant_table_op */
	assert_false(p->rule[0].allow);
	assert_ptr_equal(p->rule[1].abi, &hyperv_abi);
	assert_int_equal(p->rule[1].nr, 0x5c);
	assert_ptr_equal(p->rule[2].abi, &kvm_abi);
	assert_int_equal(p->rule[2].nr, 10);                           /* KVM_HC_SEND_IPI */
	assert_true(p->rule[2].allow);
	assert_int_equal(p->rule[3].nr, HC_POLICY_ANY);
	/* Hyper-V calls by name too */
	setup(NULL);
	config_parse("guest=a deny=hyperv:notify_long_spin_wait", &cfg);
	assert_int_equal(cfg.vms[0].policy.rule[0].nr, 8);
	static const struct { const char *line, *tok, *why; } bad[] = {
		{ "guest=a deny=xen", "deny=xen", "each entry is abi:call, the ABI kvm, hyperv, xen or ext" },
		{ "guest=a deny=vmware:1", "deny=vmware:1", "each entry is abi:call, the ABI kvm, hyperv, xen or ext" },
		{ "guest=a deny=xen:no_such_call", "deny=xen:no_such_call", "a call is one of the ABI's call names, a number or *" },
		{ "guest=a deny=kvm:", "deny=kvm:", "a call is one of the ABI's call names, a number or *" },
		{ "deny=kvm:1", "deny=kvm:1", "allow= and deny= must follow a guest=" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		setup(NULL);
		config_parse(bad[i].line, &cfg);
		assert_int_equal(cfg.nr_errors, 1);
		assert_error_line(bad[i].tok, bad[i].why);
	}
	setup(NULL);
	config_parse("guest=a deny=kvm:1,kvm:2,kvm:3,kvm:4,kvm:5,kvm:6,kvm:7,kvm:8 "
	             "deny=kvm:9,kvm:10,kvm:11,kvm:12,kvm:13,kvm:14,kvm:15,kvm:16,kvm:17", &cfg);
	assert_error_line("deny=kvm:9,kvm:10,kvm:11,kvm:12,kvm:13,kvm:14,kvm:15,kvm:16,kvm:17", "at most 16 rules per guest");
	assert_int_equal(cfg.vms[0].policy.n, 8);                      /* the bad token adds none */
}

static void test_exit_method(void **state)
{
	config_parse("exit=bochs", &cfg);
	assert_int_equal(cfg.nr_errors, 0);
	assert_string_equal(fake.exit_method, "bochs");
	config_parse("exit=halt", &cfg);
	assert_string_equal(fake.exit_method, "halt");
}

static void test_bad_exit_method(void **state)
{
	config_parse("exit=reboot exit=", &cfg);
	assert_int_equal(cfg.nr_errors, 2);
	assert_string_equal(fake.exit_method, "");
	assert_error_line("exit=reboot", "exit method is qemu, bochs or halt");
	assert_error_line("exit=", "exit method is qemu, bochs or halt");
}

static void test_whitespace_separation(void **state)
{
	config_parse("  guest=a\t\tmem=2M   guest=b  ", &cfg);
	assert_int_equal(cfg.nr_errors, 0);
	assert_int_equal(cfg.nr_vms, 2);
	assert_string_equal(cfg.vms[0].image, "a");
	assert_int_equal(cfg.vms[0].mem, MiB(2));
	assert_string_equal(cfg.vms[1].image, "b");
}

static void test_one_line_per_error(void **state)
{
	config_parse("bogus guest=a mem=7 foo=1 exit=x guest=b", &cfg);
	assert_int_equal(cfg.nr_errors, 4);
	assert_int_equal(fake_console_count("hv: command line: "), 4);
	assert_int_equal(fake_console_count("\n"), 4);
	assert_int_equal(cfg.nr_vms, 2);
}

static void test_parse_resets_previous_state(void **state)
{
	config_parse("guest=a guest=b mem=2M bogus", &cfg);
	config_parse("guest=c", &cfg);
	assert_int_equal(cfg.nr_vms, 1);
	assert_int_equal(cfg.nr_errors, 0);
	assert_string_equal(cfg.vms[0].image, "c");
	assert_int_equal(cfg.default_mem, CFG_DEFAULT_MEM);
}

static void test_args_after_guest_accepted(void **state)
{
	config_parse("guest=a args=x,y", &cfg);
	assert_int_equal(cfg.nr_errors, 0);
	assert_int_equal(cfg.nr_vms, 1);
}

static void test_args_before_guest_rejected(void **state)
{
	config_parse("args=x guest=a", &cfg);
	assert_int_equal(cfg.nr_errors, 1);
	assert_error_line("args=x", "args= must follow a guest=");
}

/* ---- modules ---- */

static struct boot_info bi;

static void add_module(const char *cmdline)
{
	struct boot_module *m = &bi.modules[bi.nr_modules++];
	m->base = FAKE_MOD_BASE + bi.nr_modules * PAGE_SIZE;
	m->len = 100;
	snprintf(m->cmdline, sizeof(m->cmdline), "%s", cmdline);
}

static int setup_modules(void **state)
{
	setup(state);
	memset(&bi, 0, sizeof(bi));
	add_module("/boot/a.elf arg1 arg2");
	add_module("/boot/b.elf");
	add_module("/boot/c.elf    spaced  out ");
	return 0;
}

static void test_default_vms_one_per_module(void **state)
{
	config_parse("mem=8M vcpus=3", &cfg);
	config_default_vms(&cfg, &bi);
	assert_int_equal(cfg.nr_vms, 3);
	assert_string_equal(cfg.vms[0].image, "/boot/a.elf");
	assert_string_equal(cfg.vms[1].image, "/boot/b.elf");
	assert_string_equal(cfg.vms[2].image, "/boot/c.elf");
	for (int i = 0; i < 3; i++) {
		assert_int_equal(cfg.vms[i].mem, MiB(8));
		assert_int_equal(cfg.vms[i].nr_vcpus, 3);
		assert_false(cfg.vms[i].bad);
	}
}

static void test_default_vms_none_without_modules(void **state)
{
	bi.nr_modules = 0;
	config_parse("", &cfg);
	config_default_vms(&cfg, &bi);
	assert_int_equal(cfg.nr_vms, 0);
}

static void test_find_module_by_first_word(void **state)
{
	assert_ptr_equal(config_find_module(&bi, "/boot/a.elf"), &bi.modules[0]);
	assert_ptr_equal(config_find_module(&bi, "/boot/b.elf"), &bi.modules[1]);
	assert_ptr_equal(config_find_module(&bi, "/boot/c.elf"), &bi.modules[2]);
}

static void test_find_module_needs_whole_word(void **state)
{
	assert_null(config_find_module(&bi, "/boot/a"));
	assert_null(config_find_module(&bi, "/boot/a.elfx"));
	assert_null(config_find_module(&bi, "/boot/a.elf arg1"));
	assert_null(config_find_module(&bi, "arg1"));
	assert_null(config_find_module(&bi, "/boot/missing.elf"));
	assert_null(config_find_module(&bi, ""));
}

static void test_module_args(void **state)
{
	assert_string_equal(config_module_args(&bi.modules[0]), "arg1 arg2");
	assert_string_equal(config_module_args(&bi.modules[1]), "");
	assert_string_equal(config_module_args(&bi.modules[2]), "spaced  out ");
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
#define M(f) cmocka_unit_test_setup_teardown(f, setup_modules, teardown)
	const struct CMUnitTest tests[] = {
		T(test_empty_command_line),
		T(test_only_spaces),
		T(test_guest_gets_default_mem),
		T(test_mem_applies_to_last_guest),
		T(test_mem_before_guest_sets_default),
		T(test_later_mem_overrides),
		T(test_mem_units),
		T(test_mem_not_page_aligned),
		T(test_mem_below_1m),
		T(test_mem_above_3g),
		T(test_mem_junk),
		T(test_vcpus_default_one),
		T(test_vcpus_applies_to_last_guest_or_default),
		T(test_vcpus_out_of_range_or_junk),
		T(test_vcpus_after_refused_guest),
		T(test_abi_per_guest_and_default),
		T(test_abi_lists),
		T(test_abi_unknown),
		T(test_modules_per_guest),
		T(test_module_errors),
		T(test_mem_limits_inclusive),
		T(test_bad_mem_before_guests_keeps_default),
		T(test_bad_mem_marks_only_its_guest),
		T(test_unknown_option),
		T(test_key_is_matched_exactly),
		T(test_token_without_equals),
		T(test_empty_guest_name),
		T(test_guest_name_too_long),
		T(test_guest_name_longest_allowed),
		T(test_too_many_guests),
		T(test_mem_after_refused_guest_not_given_to_previous),
		T(test_mem_after_refused_guest_not_made_default),
		T(test_guest_after_refused_guest_takes_mem_again),
		T(test_loglevel),
		T(test_bad_loglevel),
		T(test_loglevel_subsystems),
		T(test_names),
		T(test_policy_rules),
		T(test_exit_method),
		T(test_bad_exit_method),
		T(test_whitespace_separation),
		T(test_one_line_per_error),
		T(test_parse_resets_previous_state),
		T(test_args_after_guest_accepted),
		T(test_args_before_guest_rejected),
		M(test_default_vms_one_per_module),
		M(test_default_vms_none_without_modules),
		M(test_find_module_by_first_word),
		M(test_find_module_needs_whole_word),
		M(test_module_args),
	};
#undef T
#undef M
	return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
