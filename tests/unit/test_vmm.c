/*
 * core/vmm.c and core/vm.c on the fake machine: VM creation from boot
 * modules (good and every way it can fail), teardown, the guest console, and
 * vm_run driven by scripted exits.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "core/config.h"
#include "core/log.h"
#include "core/pmm.h"
#include "core/vm.h"
#include "core/sched.h"
#include "core/vmm.h"
#include "tests/fake_arch/fake_arch.h"
#include "tests/fake_arch/fake_elf.h"
#include "tests/fake_arch/fake_test.h"

#define ENTRY64 0x100040ull
#define ENTRY32 0x100010ull

static struct boot_info bi;
static uint64_t free_before;
static struct vm *vm;

static int setup(void **state)
{
	fake_arch_reset();
	fake_console_reset();
	log_set_level(LOG_INFO);
	/* garbage in all "host memory", so guest RAM reads as zero only if core zeroed it */
	fake_phys_fill(0xa5);
	fake_pmm_setup(&bi);
	free_before = pmm_free_pages();
	vm = NULL;
	return 0;
}

static int teardown(void **state)
{
	fake_cleanup();
	log_set_level(LOG_INFO);
	return 0;
}

static void assert_console_has(const char *s)
{
	if (!fake_console_has(s))
		fail_fmt("console lacks \"%s\"; it has:\n%s", s, fake_console_text());
}

static struct felf img_desc;

static const struct boot_module *add_elf(bool is64, const char *cmdline)
{
	static uint8_t buf[KiB(16)];
	felf_init(&img_desc, is64);
	felf_add(&img_desc, FELF_PT_LOAD, 0x100000, 0x300, 0x1000);
	felf_add(&img_desc, FELF_PT_LOAD, 0x180000, 0x80, 0x80);
	img_desc.entry = is64 ? ENTRY64 : ENTRY32;
	size_t len = felf_build(&img_desc, buf, sizeof(buf));
	return fake_boot_add_module(&bi, buf, len, cmdline);
}

static struct vm_config config(const char *image, uint64_t mem)
{
	struct vm_config c = { .mem = mem, .nr_vcpus = 1 };
	snprintf(c.image, sizeof(c.image), "%s", image);
	return c;
}

static struct vm *create_good64(void)
{
	const struct boot_module *m = add_elf(true, "/boot/g64.elf console=x  foo");
	struct vm_config c = config("/boot/g64.elf", MiB(2));
	struct vm *v = vm_create(0, &c, m);
	assert_non_null(v);
	assert_false(vm_ended(v));
	return v;
}

static void assert_load_failed(const struct vm *v, const char *reason)
{
	assert_non_null(v);
	assert_true(vm_ended(v));
	assert_int_equal(v->end, VM_END_LOAD_FAILED);
	assert_string_equal(v->end_reason, reason);
	char line[256];
	snprintf(line, sizeof(line), "hv: %s: not started: %s\n", v->name, reason);
	assert_console_has(line);
	assert_int_equal(fake.vcpu_boot, 0);
}

/* ---- modules (module=): from the top of guest RAM down, page-aligned, in the PVH modlist ---- */

static void test_modules_loaded_at_top(void **state)
{
	static const char initrd[] = "an initrd of 33 bytes, give or take";
	static uint8_t big[PAGE_SIZE + 5];
	memset(big, 0x3c, sizeof(big));
	const struct boot_module *m = add_elf(true, "/boot/g64.elf");
	struct vm_config c = config("/boot/g64.elf", MiB(2));
	c.nr_modules = 2;
	c.modules[0] = fake_boot_add_module(&bi, initrd, sizeof(initrd), "/boot/initrd");
	c.modules[1] = fake_boot_add_module(&bi, big, sizeof(big), "/boot/big");
	vm = vm_create(0, &c, m);
	assert_false(vm_ended(vm));
	const struct guest_image *g = &fake.boot_img;
	assert_int_equal(g->nr_modules, 2);
	assert_int_equal(g->modules[0].paddr, MiB(2) - PAGE_SIZE);
	assert_int_equal(g->modules[0].size, sizeof(initrd));
	assert_int_equal(g->modules[1].paddr, MiB(2) - 3 * PAGE_SIZE);   /* two pages, below the first */
	assert_int_equal(g->modules[1].size, sizeof(big));
	assert_memory_equal(fake_vm_hva(vm, MiB(2) - PAGE_SIZE), initrd, sizeof(initrd));
	assert_memory_equal(fake_vm_hva(vm, MiB(2) - 3 * PAGE_SIZE), big, sizeof(big));
	vm_destroy(vm);
}

static void test_module_missing_or_too_big(void **state)
{
	static uint8_t huge[KiB(900)];
	const struct boot_module *m = add_elf(true, "/boot/g64.elf");
	struct vm_config c = config("/boot/g64.elf", MiB(2));
	c.nr_modules = 1;
	snprintf(c.module_names[0], sizeof(c.module_names[0]), "/boot/initrd");
	vm = vm_create(0, &c, m);
	assert_load_failed(vm, "module /boot/initrd: no such boot module");
	vm_destroy(vm);
	/* 2 MiB of RAM, the image up to 0x180080: 900 KiB cannot go above it */
	c.modules[0] = fake_boot_add_module(&bi, huge, sizeof(huge), "/boot/initrd");
	fake_console_reset();
	vm = vm_create(1, &c, m);
	assert_load_failed(vm, "module /boot/initrd: 921600 bytes do not fit between the image and the top of RAM");
	vm_destroy(vm);
	assert_int_equal(pmm_free_pages(), free_before);
}

/* ---- vm_create failures ---- */

static void test_missing_module(void **state)
{
	struct vm_config c = config("/boot/nothere.elf", MiB(2));
	vm = vm_create(0, &c, NULL);
	assert_load_failed(vm, "/boot/nothere.elf: no such boot module");
	assert_int_equal(vm->nr_vcpus, 0);
	vm_destroy(vm);
	assert_int_equal(pmm_free_pages(), free_before);
}

static void test_bad_config(void **state)
{
	const struct boot_module *m = add_elf(true, "/boot/g64.elf");
	struct vm_config c = config("/boot/g64.elf", MiB(2));
	c.bad = true;
	vm = vm_create(0, &c, m);
	assert_load_failed(vm, "/boot/g64.elf: bad configuration (see above)");
	vm_destroy(vm);
	assert_int_equal(pmm_free_pages(), free_before);
}

static void test_image_not_elf(void **state)
{
	static const char junk[] = "MZ this is not an ELF image at all";
	const struct boot_module *m = fake_boot_add_module(&bi, junk, sizeof(junk), "/boot/junk");
	struct vm_config c = config("/boot/junk", MiB(2));
	vm = vm_create(0, &c, m);
	assert_load_failed(vm, "/boot/junk: not an ELF file");
	vm_destroy(vm);
	assert_int_equal(pmm_free_pages(), free_before);
}

static void test_image_larger_than_guest_ram(void **state)
{
	const struct boot_module *m = add_elf(true, "/boot/g64.elf");
	struct vm_config c = config("/boot/g64.elf", MiB(1));
	vm = vm_create(0, &c, m);
	assert_true(vm_ended(vm));
	assert_int_equal(vm->end, VM_END_LOAD_FAILED);
	assert_non_null(strstr(vm->end_reason, "/boot/g64.elf: segment 0"));
	assert_non_null(strstr(vm->end_reason, "lies outside guest memory"));
	vm_destroy(vm);
	assert_int_equal(pmm_free_pages(), free_before);
}

static void test_no_host_memory_for_ram(void **state)
{
	const struct boot_module *m = add_elf(true, "/boot/g64.elf");
	struct vm_config c = config("/boot/g64.elf", MiB(512));
	vm = vm_create(0, &c, m);
	assert_load_failed(vm, "/boot/g64.elf: no host memory for 524288 KiB of guest RAM");
	vm_destroy(vm);
	assert_int_equal(pmm_free_pages(), free_before);
}

static void test_arch_vm_init_fails(void **state)
{
	const struct boot_module *m = add_elf(true, "/boot/g64.elf");
	struct vm_config c = config("/boot/g64.elf", MiB(2));
	fake.fail_vm_init = -ENOMEM;
	vm = vm_create(0, &c, m);
	assert_load_failed(vm, "/boot/g64.elf: no host memory for the VM's tables");
	vm_destroy(vm);
	assert_int_equal(pmm_free_pages(), free_before);
}

static void test_arch_vcpu_init_fails(void **state)
{
	const struct boot_module *m = add_elf(true, "/boot/g64.elf");
	struct vm_config c = config("/boot/g64.elf", MiB(2));
	fake.fail_vcpu_init = -ENOMEM;
	vm = vm_create(0, &c, m);
	assert_load_failed(vm, "/boot/g64.elf: no host memory for the VM's tables");
	assert_int_equal(vm->nr_vcpus, 0);
	vm_destroy(vm);
	assert_int_equal(fake.vm_destroy, 1);
	assert_int_equal(pmm_free_pages(), free_before);
}

static void test_vcpus_created_only_bsp_runnable(void **state)
{
	const struct boot_module *m = add_elf(true, "/boot/g64.elf");
	struct vm_config c = config("/boot/g64.elf", MiB(2));
	c.nr_vcpus = 3;
	vm = vm_create(0, &c, m);
	assert_false(vm_ended(vm));
	assert_int_equal(vm->nr_vcpus, 3);
	assert_int_equal(fake.vcpu_init, 3);
	assert_int_equal(fake.vcpu_boot, 1);
	for (unsigned i = 0; i < 3; i++) {
		assert_int_equal(vm->vcpus[i]->id, i);
		assert_ptr_equal(vm->vcpus[i]->vm, vm);
		assert_int_equal(vm->vcpus[i]->state, i ? VCPU_WAIT_SIPI : VCPU_RUNNABLE);
	}
	assert_console_has("hv: vm0: /boot/g64.elf, 2 MiB, 3 vCPUs, entry 0x100040 (64-bit)\n");
	vm_destroy(vm);
	assert_int_equal(fake.vcpu_destroy, 3);
	assert_int_equal(pmm_free_pages(), free_before);
}

static void test_vcpu_count_out_of_range(void **state)
{
	static const unsigned bad[] = { 0, VM_MAX_VCPUS + 1 };
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		const struct boot_module *m = add_elf(true, "/boot/g64.elf");
		struct vm_config c = config("/boot/g64.elf", MiB(2));
		c.nr_vcpus = bad[i];
		vm = vm_create(0, &c, m);
		char want[64];
		snprintf(want, sizeof(want), "/boot/g64.elf: %u vCPUs (1..8)", bad[i]);
		assert_load_failed(vm, want);
		assert_int_equal(vm->nr_vcpus, 0);
		vm_destroy(vm);
		assert_int_equal(pmm_free_pages(), free_before);
		setup(state);
	}
}

/* The third vCPU cannot be made: the VM does not start and the two made are freed. */
static void test_later_vcpu_init_fails(void **state)
{
	const struct boot_module *m = add_elf(true, "/boot/g64.elf");
	struct vm_config c = config("/boot/g64.elf", MiB(2));
	c.nr_vcpus = 4;
	fake.fail_vcpu_init = -ENOMEM;
	fake.fail_vcpu_init_after = 2;
	vm = vm_create(0, &c, m);
	assert_load_failed(vm, "/boot/g64.elf: no host memory for the VM's tables");
	assert_int_equal(vm->nr_vcpus, 2);
	assert_int_equal(fake.vcpu_boot, 0);
	vm_destroy(vm);
	assert_int_equal(fake.vcpu_destroy, 2);
	assert_int_equal(pmm_free_pages(), free_before);
}

static void test_arch_vcpu_boot_fails(void **state)
{
	const struct boot_module *m = add_elf(true, "/boot/g64.elf");
	struct vm_config c = config("/boot/g64.elf", MiB(2));
	fake.fail_vcpu_boot = -EFAULT;
	vm = vm_create(0, &c, m);
	assert_true(vm_ended(vm));
	assert_int_equal(vm->end, VM_END_LOAD_FAILED);
	assert_string_equal(vm->end_reason, "/boot/g64.elf: cannot write the guest's boot area");
	vm_destroy(vm);
	assert_int_equal(fake.vcpu_destroy, 1);
	assert_int_equal(fake.vm_destroy, 1);
	assert_int_equal(pmm_free_pages(), free_before);
}

static void test_arch_cannot_start_image_mode(void **state)
{
	const struct boot_module *m = add_elf(false, "/boot/g32.elf");
	struct vm_config c = config("/boot/g32.elf", MiB(2));
	fake.fail_vcpu_boot = -EOPNOTSUPP;
	vm = vm_create(0, &c, m);
	assert_true(vm_ended(vm));
	assert_int_equal(vm->end, VM_END_LOAD_FAILED);
	assert_non_null(strstr(vm->end_reason, "/boot/g32.elf: this CPU cannot start a guest in the mode"));
	vm_destroy(vm);
	assert_int_equal(pmm_free_pages(), free_before);
}

static void test_no_memory_for_vm_struct(void **state)
{
	while (pmm_alloc(1, PAGE_SIZE))
		;
	struct vm_config c = config("/boot/g64.elf", MiB(2));
	assert_null(vm_create(0, &c, NULL));
}

/* ---- vm_create success ---- */

static void test_good_elf64_boots(void **state)
{
	vm = create_good64();
	assert_int_equal(fake.vm_init, 1);
	assert_int_equal(fake.vcpu_init, 1);
	assert_int_equal(fake.vcpu_boot, 1);
	assert_int_equal(fake.boot_img.kind, IMAGE_ELF64);
	assert_int_equal(fake.boot_img.entry, ENTRY64);
	assert_string_equal(fake.boot_cmdline, "console=x  foo");
	assert_int_equal(vm->nr_vcpus, 1);
	assert_ptr_equal(fake.boot_vcpu, vm->vcpus[0]);
	assert_ptr_equal(vm->vcpus[0]->vm, vm);
	assert_int_equal(vm->vcpus[0]->id, 0);
	assert_int_equal(vm->state, VM_CREATED);
	assert_int_equal(vm->end, VM_END_NONE);
	assert_console_has("hv: vm0: /boot/g64.elf, 2 MiB, 1 vCPU, entry 0x100040 (64-bit)\n");
}

static void test_good_elf32_boots_with_empty_cmdline(void **state)
{
	const struct boot_module *m = add_elf(false, "/boot/g32.elf");
	struct vm_config c = config("/boot/g32.elf", MiB(4));
	vm = vm_create(5, &c, m);
	assert_false(vm_ended(vm));
	assert_string_equal(vm->name, "vm5");
	assert_int_equal(vm->id, 5);
	assert_int_equal(fake.boot_img.kind, IMAGE_ELF32);
	assert_int_equal(fake.boot_img.entry, ENTRY32);
	assert_string_equal(fake.boot_cmdline, "");
	assert_console_has("hv: vm5: /boot/g32.elf, 4 MiB, 1 vCPU, entry 0x100010 (32-bit)\n");
}

static void test_guest_ram_layout(void **state)
{
	vm = create_good64();
	assert_int_equal(vm->mem_size, MiB(2));
	assert_int_equal(vm->nr_slots, 1);
	assert_int_equal(vm->slots[0].gpa, 0);
	assert_int_equal(vm->slots[0].size, MiB(2));
	assert_false(vm->slots[0].flags & SLOT_READONLY);
	assert_ptr_equal(vm->slots[0].hva, fake_phys_ptr(vm->slots[0].hpa));
	/* the fake machine has 2 MiB-aligned room, so the large-page placement must win */
	assert_true(IS_ALIGNED(vm->slots[0].hpa, MiB(2)));
}

static void test_guest_ram_zero_except_image(void **state)
{
	vm = create_good64();
	const uint8_t *ram = vm->slots[0].hva;
	for (uint64_t a = 0; a < MiB(2); a++) {
		bool in0 = a >= 0x100000 && a < 0x100300, in1 = a >= 0x180000 && a < 0x180080;
		uint8_t want = in0 ? felf_byte(img_desc.seg[0].offset + (a - 0x100000)) :
		               in1 ? felf_byte(img_desc.seg[1].offset + (a - 0x180000)) : 0;
		if (ram[a] != want)
			fail_fmt("guest byte 0x%llx is 0x%02x, want 0x%02x", (unsigned long long)a, ram[a], want);
	}
}

static void test_destroy_returns_every_page(void **state)
{
	vm = create_good64();
	assert_true(pmm_free_pages() < free_before);
	vm_destroy(vm);
	assert_int_equal(pmm_free_pages(), free_before);
	assert_int_equal(fake.vcpu_destroy, 1);
	assert_int_equal(fake.vm_destroy, 1);
}

static void test_create_destroy_repeatedly(void **state)
{
	for (int i = 0; i < 5; i++) {
		vm = create_good64();
		vm_destroy(vm);
		bi.nr_modules = 0;
		assert_int_equal(pmm_free_pages(), free_before);
	}
}

/* ---- guest console ---- */

static int setup_con(void **state)
{
	setup(state);
	vm = fake_vm_new();
	return 0;
}

static void put(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		vm_console_putc(vm, s[i]);
}

#define PUTS(lit) put(lit, sizeof(lit) - 1)

static void test_console_line(void **state)
{
	PUTS("hello\n");
	assert_string_equal(fake_console_text(), "[vm0] hello\n");
}

static void test_console_buffers_until_newline(void **state)
{
	PUTS("hel");
	assert_string_equal(fake_console_text(), "");
	PUTS("lo\nwor");
	assert_string_equal(fake_console_text(), "[vm0] hello\n");
	PUTS("ld\n");
	assert_string_equal(fake_console_text(), "[vm0] hello\n[vm0] world\n");
}

static void test_console_control_chars_replaced(void **state)
{
	PUTS("a\x01" "b\x7f\xff" "c\t\x1b[2J\n");
	assert_string_equal(fake_console_text(), "[vm0] a.b..c..[2J\n");
}

static void test_console_cr_dropped(void **state)
{
	PUTS("ab\r\ncd\r\n");
	assert_string_equal(fake_console_text(), "[vm0] ab\n[vm0] cd\n");
}

static void test_console_empty_line_kept(void **state)
{
	PUTS("\n\nx\n");
	assert_string_equal(fake_console_text(), "[vm0]\n[vm0]\n[vm0] x\n");
}

static void test_console_long_line_flushed_at_max(void **state)
{
	char line[VM_CON_LINE_MAX + 1], want[VM_CON_LINE_MAX + 32];
	memset(line, 'x', VM_CON_LINE_MAX);
	put(line, VM_CON_LINE_MAX);
	snprintf(want, sizeof(want), "[vm0] %.*s\n", VM_CON_LINE_MAX, line);
	assert_string_equal(fake_console_text(), want);
	PUTS("y\n");
	snprintf(want, sizeof(want), "[vm0] %.*s\n[vm0] y\n", VM_CON_LINE_MAX, line);
	assert_string_equal(fake_console_text(), want);
}

static void test_console_one_less_than_max_waits(void **state)
{
	char line[VM_CON_LINE_MAX];
	memset(line, 'x', sizeof(line));
	put(line, VM_CON_LINE_MAX - 1);
	assert_string_equal(fake_console_text(), "");
}

static void test_console_flush_partial(void **state)
{
	PUTS("part");
	vm_console_flush(vm);
	assert_string_equal(fake_console_text(), "[vm0] part\n");
	vm_console_flush(vm);
	assert_string_equal(fake_console_text(), "[vm0] part\n");
}

static void test_vm_end_flushes_console_first(void **state)
{
	PUTS("last words");
	vm_end(vm, VM_END_TRIPLE_FAULT, 0, "boom");
	assert_string_equal(fake_console_text(), "[vm0] last words\nhv: vm0: triple fault: boom\n");
}

/* ---- vm_end ---- */

static void test_vm_end_records(void **state)
{
	vm_end(vm, VM_END_EXIT, 7, "status %u", 7u);
	assert_true(vm_ended(vm));
	assert_int_equal(vm->state, VM_ENDED);
	assert_int_equal(vm->end, VM_END_EXIT);
	assert_int_equal(vm->exit_status, 7);
	assert_string_equal(vm->end_reason, "status 7");
	assert_string_equal(fake_console_text(), "hv: vm0: exited: status 7\n");
}

static void test_vm_end_only_once(void **state)
{
	vm_end(vm, VM_END_HALTED, 0, "first");
	vm_end(vm, VM_END_EXIT, 5, "second");
	vm_end(vm, VM_END_ERROR, 9, "third");
	assert_int_equal(vm->end, VM_END_HALTED);
	assert_int_equal(vm->exit_status, 0);
	assert_string_equal(vm->end_reason, "first");
	assert_int_equal(fake_console_count("hv: vm0: "), 1);
}

static void test_vm_end_exit_is_info_failure_is_error(void **state)
{
	struct vm *other = fake_vm_new();
	log_set_level(LOG_ERR);
	vm_end(vm, VM_END_EXIT, 0, "clean");
	assert_string_equal(fake_console_text(), "");
	vm_end(other, VM_END_MEM_FAULT, 0, "dirty");
	assert_string_equal(fake_console_text(), "hv: vm0: nested page fault: dirty\n");
}

static void test_vm_end_reason_truncated(void **state)
{
	char longer[300];
	memset(longer, 'r', sizeof(longer) - 1);
	longer[sizeof(longer) - 1] = 0;
	vm_end(vm, VM_END_ERROR, 0, "%s", longer);
	assert_int_equal(strlen(vm->end_reason), sizeof(vm->end_reason) - 1);
}

static void test_vm_end_names(void **state)
{
	assert_string_equal(vm_end_name(VM_END_NONE), "running");
	assert_string_equal(vm_end_name(VM_END_EXIT), "exited");
	assert_string_equal(vm_end_name(VM_END_TRIPLE_FAULT), "triple fault");
	assert_string_equal(vm_end_name(VM_END_MEM_FAULT), "nested page fault");
	assert_string_equal(vm_end_name(VM_END_HALTED), "halted forever");
	assert_string_equal(vm_end_name(VM_END_ERROR), "hypervisor error");
	assert_string_equal(vm_end_name(VM_END_LOAD_FAILED), "not started");
	assert_string_equal(vm_end_name((enum vm_end)99), "?");
}

/* ---- vm_run ---- */

static void script(enum vm_exit_reason reason, const struct guest_regs *regs)
{
	struct vm_exit e = { .reason = reason, .mode = MODE_64 };
	fake_script_exit(&e, regs);
}

static struct guest_regs regs_at(uint64_t rip)
{
	return (struct guest_regs){ .rip = rip, .rflags = 2 };
}

static void run(void)
{
	vm_run(vm);
	assert_int_equal(fake.script_overrun, 0);
	assert_true(vm_ended(vm));
}

static void test_hlt_ends_vm_halted(void **state)
{
	vm = create_good64();
	struct guest_regs r = regs_at(0x101234);
	script(VMEXIT_HLT, &r);
	run();
	assert_int_equal(vm->end, VM_END_HALTED);
	assert_string_equal(vm->end_reason, "vcpu0: HLT at rip 0x101234 and no interrupt can wake it");
	assert_int_equal(fake.dump, 1);
	assert_int_equal(vm->vcpus[0]->nr_exits, 1);
}

/* Steal time counts from when the VM starts running, not from the host's boot. */
static void test_no_steal_before_first_slice(void **state)
{
	fake.counter = 1000000000ull;
	vm = create_good64();
	script(VMEXIT_SHUTDOWN, NULL);
	run();
	assert_int_equal(vm->vcpus[0]->steal, 0);
}

static void test_shutdown_ends_vm_triple_fault(void **state)
{
	vm = create_good64();
	struct guest_regs r = regs_at(0xdead0);
	script(VMEXIT_SHUTDOWN, &r);
	run();
	assert_int_equal(vm->end, VM_END_TRIPLE_FAULT);
	assert_string_equal(vm->end_reason, "vcpu0: triple fault (shutdown), rip 0xdead0");
	assert_console_has("hv: vm0: triple fault: vcpu0: triple fault (shutdown), rip 0xdead0\n");
	assert_int_equal(fake.dump, 1);
}

static void test_mem_fault_names_gpa(void **state)
{
	vm = create_good64();
	struct guest_regs r = regs_at(0x100050);
	struct vm_exit e = { .reason = VMEXIT_MEM_FAULT, .mode = MODE_64 };
	e.mem.gpa = mk_gpa(0x12345678);
	e.mem.access = MEM_ACCESS_WRITE;
	fake_script_exit(&e, &r);
	run();
	assert_int_equal(vm->end, VM_END_MEM_FAULT);
	assert_string_equal(vm->end_reason,
	                    "vcpu0: write at guest-physical 0x12345678 outside guest memory [0, 0x200000), rip 0x100050");
	assert_int_equal(fake.dump, 1);
}

static void test_mem_fault_access_kinds(void **state)
{
	static const struct { unsigned access; const char *kind; } cases[] = {
		{ MEM_ACCESS_READ, "vcpu0: read at" },
		{ MEM_ACCESS_EXEC | MEM_ACCESS_READ, "vcpu0: instruction fetch at" },
		{ MEM_ACCESS_WRITE | MEM_ACCESS_READ, "vcpu0: write at" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		setup(state);
		vm = create_good64();
		struct vm_exit e = { .reason = VMEXIT_MEM_FAULT, .mode = MODE_64 };
		e.mem.gpa = mk_gpa(0x400000);
		e.mem.access = cases[i].access;
		fake_script_exit(&e, NULL);
		run();
		if (strncmp(vm->end_reason, cases[i].kind, strlen(cases[i].kind)))
			fail_fmt("access %u: reason \"%s\"", cases[i].access, vm->end_reason);
	}
}

static void test_fail_exit_ends_with_reason(void **state)
{
	vm = create_good64();
	struct vm_exit e = { .reason = VMEXIT_FAIL, .mode = MODE_64 };
	snprintf(e.fail.what, sizeof(e.fail.what), "VMRUN failed: bad guest state");
	fake_script_exit(&e, NULL);
	run();
	assert_int_equal(vm->end, VM_END_ERROR);
	assert_string_equal(vm->end_reason, "vcpu0: VMRUN failed: bad guest state");
	assert_int_equal(fake.dump, 1);
}

static void test_uneventful_exits_keep_running(void **state)
{
	vm = create_good64();
	script(VMEXIT_INTR, NULL);
	script(VMEXIT_NONE, NULL);
	script(VMEXIT_ARCH, NULL);
	script(VMEXIT_CPUID, NULL);
	script(VMEXIT_IO, NULL);
	script(VMEXIT_MSR_READ, NULL);
	script(VMEXIT_MSR_WRITE, NULL);
	script(VMEXIT_HLT, NULL);
	run();
	assert_int_equal(vm->end, VM_END_HALTED);
	assert_int_equal(vm->vcpus[0]->nr_exits, 8);
	assert_int_equal(fake.handle_exit, 4);
	assert_int_equal(fake.handled[0], VMEXIT_CPUID);
	assert_int_equal(fake.handled[1], VMEXIT_IO);
	assert_int_equal(fake.handled[2], VMEXIT_MSR_READ);
	assert_int_equal(fake.handled[3], VMEXIT_MSR_WRITE);
	assert_int_equal(fake.dump, 1);
}

static void test_hypercall_exit_dispatched(void **state)
{
	vm = create_good64();
	struct guest_regs r = regs_at(ENTRY64);
	r.gpr[X86_RAX] = 1;   /* KVM_HC_VAPIC_POLL_IRQ */
	struct vm_exit e = { .reason = VMEXIT_HYPERCALL, .mode = MODE_64, .insn_len = 3 };
	fake_script_exit(&e, &r);
	script(VMEXIT_HLT, NULL);
	run();
	struct vcpu *v = vm->vcpus[0];
	assert_int_equal(vm->nr_hypercalls, 1);
	assert_int_equal(v->regs.gpr[X86_RAX], 0);
	assert_int_equal(v->regs.rip, ENTRY64 + 3);
	assert_string_equal(vm->end_reason, "vcpu0: HLT at rip 0x100043 and no interrupt can wake it");
}

static void end_with_exit(struct vcpu *v, struct vm_exit *e)
{
	assert_int_equal(v->vm->state, VM_RUNNING);
	vm_end(v->vm, VM_END_EXIT, 0, "status 0");
}

static void test_clean_exit_no_dump(void **state)
{
	vm = create_good64();
	fake.exit_hook = end_with_exit;
	script(VMEXIT_IO, NULL);
	run();
	assert_int_equal(vm->end, VM_END_EXIT);
	assert_int_equal(fake.dump, 0);
	assert_int_equal(vm->vcpus[0]->nr_exits, 1);
	assert_console_has("hv: vm0: exited: status 0\n");
}

static void test_guest_console_flushed_when_vm_dies(void **state)
{
	vm = create_good64();
	put("no newline", 10);
	script(VMEXIT_SHUTDOWN, NULL);
	run();
	const char *text = fake_console_text();
	const char *line = strstr(text, "[vm0] no newline\n");
	const char *end = strstr(text, "hv: vm0: triple fault:");
	assert_non_null(line);
	assert_non_null(end);
	assert_true(line < end);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
#define C(f) cmocka_unit_test_setup_teardown(f, setup_con, teardown)
	const struct CMUnitTest tests[] = {
		T(test_missing_module),
		T(test_modules_loaded_at_top),
		T(test_module_missing_or_too_big),
		T(test_bad_config),
		T(test_image_not_elf),
		T(test_image_larger_than_guest_ram),
		T(test_no_host_memory_for_ram),
		T(test_arch_vm_init_fails),
		T(test_arch_vcpu_init_fails),
		T(test_arch_vcpu_boot_fails),
		T(test_vcpus_created_only_bsp_runnable),
		T(test_vcpu_count_out_of_range),
		T(test_later_vcpu_init_fails),
		T(test_no_steal_before_first_slice),
		T(test_arch_cannot_start_image_mode),
		T(test_no_memory_for_vm_struct),
		T(test_good_elf64_boots),
		T(test_good_elf32_boots_with_empty_cmdline),
		T(test_guest_ram_layout),
		T(test_guest_ram_zero_except_image),
		T(test_destroy_returns_every_page),
		T(test_create_destroy_repeatedly),
		C(test_console_line),
		C(test_console_buffers_until_newline),
		C(test_console_control_chars_replaced),
		C(test_console_cr_dropped),
		C(test_console_empty_line_kept),
		C(test_console_long_line_flushed_at_max),
		C(test_console_one_less_than_max_waits),
		C(test_console_flush_partial),
		C(test_vm_end_flushes_console_first),
		C(test_vm_end_records),
		C(test_vm_end_only_once),
		C(test_vm_end_exit_is_info_failure_is_error),
		C(test_vm_end_reason_truncated),
		C(test_vm_end_names),
		T(test_hlt_ends_vm_halted),
		T(test_shutdown_ends_vm_triple_fault),
		T(test_mem_fault_names_gpa),
		T(test_mem_fault_access_kinds),
		T(test_fail_exit_ends_with_reason),
		T(test_uneventful_exits_keep_running),
		T(test_hypercall_exit_dispatched),
		T(test_clean_exit_no_dump),
		T(test_guest_console_flushed_when_vm_dies),
	};
#undef T
#undef C
	return cmocka_run_group_tests_name("vmm", tests, NULL, NULL);
}
