/* hv_main: the common path after either boot entry. */
#include <stdarg.h>
#include "core/arch.h"
#include "core/boot_info.h"
#include "core/config.h"
#include "core/hv.h"
#include "core/log.h"
#include "core/pmm.h"
#include "core/selftest.h"
#include "core/string.h"
#include "core/sched.h"
#include "core/vm.h"
#include "core/vmm.h"

#define HV_VERSION "0.1"

extern char __image_start[], __image_end[];
extern char __text_start[], __text_end[], __rodata_start[], __rodata_end[];

static uint64_t boot_counter;                /* the counter when hv_main began */

/*
 * FNV-1a over our code and read-only data: taken at start and again when
 * every VM has ended. They are mapped read-only (W^X), so a difference
 * would mean something wrote through another mapping: a VM reached us.
 */
/* FNV-1a over 64-bit words (the sections are page-aligned in linker.ld), then a final mix of the high bits down. */
static uint64_t hash_words(uint64_t h, const char *start, const char *end)
{
	typedef uint64_t __attribute__((may_alias)) word_t;
	for (const word_t *p = (const word_t *)start; p < (const word_t *)end; p++)
		h = (h ^ *p) * 0x100000001b3ull;
	return h;
}

static uint64_t image_hash(void)
{
	uint64_t h = hash_words(0xcbf29ce484222325ull, __text_start, __text_end);
	h = hash_words(h, __rodata_start, __rodata_end);
	return h ^ (h >> 29) ^ (h >> 47);
}

/* The loader's, used in place: mb2.c's is in our bss, the UEFI loader's in memory never reclaimed. */
static const struct boot_info *boot_info;
static struct hv_config config;

void hv_boot_fail(const char *why)
{
	con_printf("hv: cannot start: %s\n", why);
	arch_halt_system(1);
}

void hv_panic(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char buf[200];
	hv_vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	con_printf("hv: PANIC: %s\n", buf);
	arch_halt_system(2);
}

static const char *const mem_type_names[] = {
	[BOOT_MEM_USABLE] = "usable", [BOOT_MEM_RESERVED] = "reserved",
	[BOOT_MEM_ACPI_RECLAIM] = "ACPI", [BOOT_MEM_ACPI_NVS] = "ACPI NVS",
	[BOOT_MEM_BAD] = "bad", [BOOT_MEM_LOADER] = "loader",
};

static void print_boot_info(const struct boot_info *bi)
{
	pr_info("command line: %s\n", bi->cmdline);
	for (uint32_t i = 0; i < bi->nr_mmap; i++) {
		const struct boot_mem_region *r = &bi->mmap[i];
		pr_debug("  mem [0x%012llx-0x%012llx) %s\n", (unsigned long long)r->base,
		         (unsigned long long)(r->base + r->len),
		         r->type < ARRAY_SIZE(mem_type_names) && mem_type_names[r->type] ?
		         mem_type_names[r->type] : "?");
	}
	for (uint32_t i = 0; i < bi->nr_modules; i++)
		pr_info("module %u: %s (%llu bytes at 0x%llx)\n", i, bi->modules[i].cmdline,
		        (unsigned long long)bi->modules[i].len, (unsigned long long)bi->modules[i].base);
	pr_debug("ACPI RSDP at 0x%llx\n", (unsigned long long)bi->rsdp);
}

static void init_memory(const struct boot_info *bi)
{
	struct pmm_range ex[1 + BOOT_MAX_MODULES];
	size_t n = 0;
	ex[n++] = (struct pmm_range){ arch_virt_to_phys(__image_start),
	                              (uint64_t)(__image_end - __image_start) };
	for (uint32_t i = 0; i < bi->nr_modules; i++)
		ex[n++] = (struct pmm_range){ bi->modules[i].base, bi->modules[i].len };
	if (pmm_init(bi, ex, n))
		hv_boot_fail("no usable memory for the page allocator");
	pr_info("memory: %llu MiB free for VMs and the hypervisor\n",
	        (unsigned long long)(pmm_free_pages() >> (20 - PAGE_SHIFT)));
}

/*
 * Every configured VM at once (core/sched.c); returns how many did not
 * succeed. A VM's memory stays until all have ended: another VM may still
 * hold what it shared (Xen grants, event channels).
 */
static unsigned run_vms(void)
{
	struct { enum vm_end end; uint32_t status; } result[CFG_MAX_VMS];
	struct vm *vms[CFG_MAX_VMS], *run[CFG_MAX_VMS];
	unsigned failed = 0, nr_run = 0;
	for (unsigned i = 0; i < config.nr_vms; i++) {
		const struct vm_config *c = &config.vms[i];
		vms[i] = vm_create(i, c, config_find_module(boot_info, c->image));
		if (!vms[i])
			pr_err("vm%u: no memory for the VM itself\n", i);
		else if (!vm_ended(vms[i]))
			run[nr_run++] = vms[i];
	}
	/* under QEMU -icount shift=0 (make bench) the counter counts instructions */
	pr_info("boot: %llu counter ticks from hv_main to the first VM entry\n",
	        (unsigned long long)(arch_read_counter() - boot_counter));
	if (nr_run)
		sched_run(run, nr_run);
	for (unsigned i = 0; i < config.nr_vms; i++) {
		struct vm *vm = vms[i];
		result[i].end = vm ? vm->end : VM_END_ERROR;
		result[i].status = vm ? vm->exit_status : 0;
		if (result[i].end != VM_END_EXIT || result[i].status)
			failed++;
		if (vm)
			vm_destroy(vm);
	}
	pr_info("all VMs ended:\n");
	for (unsigned i = 0; i < config.nr_vms; i++)
		pr_info("  vm%u %-28s %s, status %u\n", i, config.vms[i].image,
		        vm_end_name(result[i].end), result[i].status);
	return failed;
}

void hv_main(const struct boot_info *bi)
{
	boot_counter = arch_read_counter();
	boot_info = bi;
	arch_early_init();
	con_printf("\nhv: microhv " HV_VERSION " starting\n");
	config_parse(bi->cmdline, &config);
	config_find_modules(&config, bi);
	print_boot_info(bi);
	if (!config.nr_vms)
		config_default_vms(&config, bi);
	init_memory(bi);
	if (arch_init(bi)) {
		pr_err("no VM can run on this machine; stopping\n");
		arch_halt_system(1);
	}
	selftest_run_host();
	if (!config.nr_vms) {
		pr_err("no guest configured and no boot module found; nothing to run\n");
		arch_halt_system(1);
	}
	uint64_t hash0 = image_hash();
	unsigned failed = run_vms();
	uint64_t hash1 = image_hash();
	if (hash1 == hash0)
		pr_info("text and rodata hash %016llx at start and end: unchanged\n", (unsigned long long)hash0);
	else
		pr_err("text and rodata hash %016llx at start, %016llx at end: CHANGED\n",
		       (unsigned long long)hash0, (unsigned long long)hash1);
	pr_info("%u of %u VMs succeeded\n", config.nr_vms - failed, config.nr_vms);
	arch_halt_system(failed || hash1 != hash0 ? 1 : 0);   /* a changed image fails the run whatever the VMs did */
}
