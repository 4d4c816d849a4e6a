/*
 * tests/fake_arch: core/arch.h for the host. Every function either records
 * what core asked of it or follows a script the test wrote, so core's
 * behaviour can be checked deterministically. A call that would be a bug in
 * core (a physical address outside the arena, halting the machine) fails the
 * running cmocka test instead of crashing the binary.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/arch.h"
#include "core/gmem.h"
#include "core/log.h"
#include "core/string.h"
#include "arch/x86/x86.h"
#include "hypercalls/hypercall.h"
#include "tests/fake_arch/fake_arch.h"
#include "tests/fake_arch/fake_test.h"

struct fake_arch_state fake;

/* ---- console ---- */

#define CON_MAX (256 * 1024)
static char con_buf[CON_MAX + 1];
static size_t con_len;
static unsigned con_crs;

void arch_console_putc(char c)
{
	/* log.c turns '\n' into CRLF for serial lines; assertions read plain lines */
	if (c == '\r') {
		con_crs++;
		return;
	}
	if (getenv("FAKE_CONSOLE_ECHO"))
		fputc(c, stderr);
	if (con_len < CON_MAX)
		con_buf[con_len++] = c;
	con_buf[con_len] = 0;
}

void fake_console_reset(void)
{
	con_len = 0;
	con_crs = 0;
	con_buf[0] = 0;
}

const char *fake_console_text(void) { return con_buf; }

unsigned fake_console_crs(void) { return con_crs; }

bool fake_console_has(const char *needle) { return strstr(con_buf, needle) != NULL; }

unsigned fake_console_count(const char *needle)
{
	unsigned n = 0;
	size_t step = strlen(needle) ? strlen(needle) : 1;
	for (const char *p = con_buf; (p = strstr(p, needle)); p += step)
		n++;
	return n;
}

/* ---- host-physical memory ---- */

static uint8_t *arena;

static uint8_t *arena_get(void)
{
	if (!arena) {
		/* 2 MiB-aligned so host-virtual and fake-physical alignment agree */
		arena = aligned_alloc(MiB(2), FAKE_PHYS_SIZE);
		if (!arena)
			abort();
		memset(arena, 0xa5, FAKE_PHYS_SIZE);
	}
	return arena;
}

uint8_t *fake_phys_ptr(hpa_t pa) { return arena_get() + (pa - FAKE_PHYS_BASE); }

void fake_phys_fill(uint8_t byte) { memset(arena_get(), byte, FAKE_PHYS_SIZE); }

void *arch_phys_to_virt(hpa_t pa)
{
	if (pa < FAKE_PHYS_BASE || pa >= FAKE_PHYS_END) {
		fail_fmt("arch_phys_to_virt(0x%llx): outside the fake physical arena [0x%llx, 0x%llx)",
		         (unsigned long long)pa, FAKE_PHYS_BASE, FAKE_PHYS_END);
		/* outside a running test cmocka's failure returns */
		abort();
	}
	return fake_phys_ptr(pa);
}

hpa_t arch_virt_to_phys(const void *p)
{
	const uint8_t *b = arena_get();
	if ((const uint8_t *)p < b || (const uint8_t *)p >= b + FAKE_PHYS_SIZE) {
		fail_fmt("arch_virt_to_phys(%p): not in the fake physical arena", p);
		abort();
	}
	return FAKE_PHYS_BASE + (hpa_t)((const uint8_t *)p - b);
}

/* ---- machine control ---- */

void arch_halt_system(int status)
{
	fail_fmt("arch_halt_system(%d): core tried to stop the machine", status);
	abort();
}

int arch_set_exit_method(const char *s, size_t len)
{
	static const char *const methods[] = { "qemu", "bochs", "halt" };
	for (size_t i = 0; i < ARRAY_SIZE(methods); i++) {
		if (len == strlen(methods[i]) && !memcmp(s, methods[i], len)) {
			strlcpy(fake.exit_method, methods[i], sizeof(fake.exit_method));
			return 0;
		}
	}
	return -EINVAL;
}

void arch_early_init(void) {}

int arch_init(const struct boot_info *bi) { return 0; }

/* ---- VMs and vCPUs ---- */

int arch_vm_init(struct vm *vm)
{
	fake.vm_init++;
	if (fake.fail_vm_init)
		return fake.fail_vm_init;
	return 0;
}

void arch_vm_destroy(struct vm *vm)
{
	fake.vm_destroy++;
}

int arch_vcpu_init(struct vcpu *v)
{
	fake.vcpu_init++;
	if (fake.fail_vcpu_init && fake.vcpu_init > fake.fail_vcpu_init_after)
		return fake.fail_vcpu_init;
	return 0;
}

void arch_vcpu_destroy(struct vcpu *v)
{
	fake.vcpu_destroy++;
}

int arch_vcpu_boot(struct vcpu *v, const struct guest_image *img)
{
	fake.vcpu_boot++;
	fake.boot_vcpu = v;
	fake.boot_img = *img;
	/* img->cmdline points into the module; keep a copy that outlives it */
	strlcpy(fake.boot_cmdline, img->cmdline ? img->cmdline : "(null)", sizeof(fake.boot_cmdline));
	fake.boot_img.cmdline = fake.boot_cmdline;
	if (fake.fail_vcpu_boot)
		return fake.fail_vcpu_boot;
	v->regs.rip = img->entry;
	return 0;
}

/* ---- the exit script ---- */

#define SCRIPT_MAX 64

static struct {
	struct vm_exit e;
	bool set_regs;
	struct guest_regs regs;
	uint64_t advance;          /* fake.counter moves on by this when the exit is taken */
} script[SCRIPT_MAX];

void fake_script_exit(const struct vm_exit *e, const struct guest_regs *regs)
{
	assert_true(fake.script_len < SCRIPT_MAX);
	script[fake.script_len].e = *e;
	script[fake.script_len].set_regs = regs != NULL;
	if (regs)
		script[fake.script_len].regs = *regs;
	fake.script_len++;
}

void fake_script_advance(uint64_t ticks)
{
	assert_true(fake.script_len > 0);
	script[fake.script_len - 1].advance = ticks;
}

void arch_vcpu_run(struct vcpu *v, uint64_t deadline, struct vm_exit *e)
{
	fake.run_deadline = deadline;
	if (fake.runs < FAKE_MAX_RUNS) {
		fake.ran[fake.runs] = v->id;
		fake.ran_vm[fake.runs] = v->vm->id;
		fake.ran_deadline[fake.runs] = deadline;
	}
	fake.runs++;
	if (fake.script_pos < fake.script_len) {
		unsigned i = fake.script_pos++;
		if (script[i].set_regs)
			v->regs = script[i].regs;
		fake.counter += script[i].advance;
		*e = script[i].e;
		return;
	}
	/* a loop that does not stop when the script says it should must still end */
	fake.script_overrun++;
	memset(e, 0, sizeof(*e));
	e->reason = VMEXIT_NONE;
	vm_end(v->vm, VM_END_ERROR, 0, "fake: exit script exhausted");
}

bool arch_vcpu_can_wake(struct vcpu *v)
{
	return fake.can_wake & (1u << v->id);
}

uint64_t arch_vcpu_timers(struct vcpu *v, uint64_t now)
{
	if (fake.timer_due[v->id] && now >= fake.timer_due[v->id]) {
		fake.timer_due[v->id] = 0;
		fake.can_wake |= 1u << v->id;      /* its timer interrupt is pending */
	}
	return fake.timer_due[v->id] ? fake.timer_due[v->id] : UINT64_MAX;
}

struct vcpu *arch_vcpu_by_irq_id(struct vm *vm, uint32_t id)
{
	if (fake.irq_id_map) {
		for (unsigned i = 0; i < vm->nr_vcpus; i++)
			if (fake.irq_id[i] == id)
				return vm->vcpus[i];
		return NULL;
	}
	return id < vm->nr_vcpus ? vm->vcpus[id] : NULL;
}

int arch_send_ipi(struct vcpu *t, uint32_t icr)
{
	fake.ipi_icr[t->id] = icr;
	if (fake.ipi_refuse & (1u << t->id))
		return 0;
	fake.ipis[t->id]++;
	return 1;
}

uint64_t arch_apic_timer_hz(void) { return 1000000000ull; }

void arch_guest_xmm_read(struct vcpu *v, unsigned n, uint64_t *q)
{
	assert_true(n <= 6);
	memcpy(q, fake.xmm[v->id], n * 16);
	fake.xmm_reads++;
}

void arch_guest_xmm_write(struct vcpu *v, unsigned n, const uint64_t *q)
{
	assert_true(n <= 6);
	memcpy(fake.xmm[v->id], q, n * 16);
	fake.xmm_writes++;
}

void arch_vcpu_ctrl_regs(struct vcpu *v, struct arch_ctrl_regs *r) { *r = fake.ctrl[v->id]; }

/* guest-virtual is guest-physical here (a guest without paging); fake.virt_fault refuses */
int arch_guest_virt_to_phys(struct vcpu *v, uint64_t gva, uint64_t *gpa)
{
	if (fake.virt_fault)
		return -EFAULT;
	*gpa = gva;
	return 0;
}

int arch_guest_page_set(struct vm *vm, uint64_t gpa, bool present)
{
	if (fake.fail_page_set && fake.page_sets >= fake.fail_page_set_after)
		return fake.fail_page_set;
	if (fake.page_sets < FAKE_MAX_EVENTS)
		fake.page_set_log[fake.page_sets] = (struct fake_page_set){ gpa, present };
	fake.page_sets++;
	return 0;
}

int arch_vcpu_set_context(struct vcpu *v, const struct arch_vcpu_context *c)
{
	if (fake.fail_set_context)
		return fake.fail_set_context;
	fake.context[v->id] = *c;
	fake.set_contexts++;
	v->regs.rip = c->rip;
	v->regs.rflags = c->rflags;
	return 0;
}

void arch_cache_clean(void *hva, size_t len)
{
	fake.cache_cleans++;
	fake.cache_cleaned += len;
	(void)hva;
}

int arch_console_getc(void)
{
	return fake.console_input && *fake.console_input ? (unsigned char)*fake.console_input++ : -1;
}

int arch_guest_page_map(struct vm *vm, uint64_t gpa, hpa_t hpa, bool writable, bool present)
{
	if (fake.phys_bits && gpa >> fake.phys_bits)
		return -EINVAL;                                /* above the guest's width, as arch/x86/x86.c */
	if (fake.fail_page_set)
		return fake.fail_page_set;
	if (fake.page_maps < FAKE_MAX_EVENTS)
		fake.page_map_log[fake.page_maps] = (struct fake_page_map){ gpa, writable, present };
	fake.page_maps++;
	return 0;
}

void arch_set_auto_eoi(struct vcpu *v, const uint32_t vectors[8])
{
	memcpy(fake.auto_eoi[v->id], vectors, sizeof(fake.auto_eoi[v->id]));
	memcpy(v->arch.auto_eoi, vectors, sizeof(v->arch.auto_eoi));   /* as x86.c: arch/x86/vlapic.c reads it */
}

void arch_flush_guest_tlb(struct vcpu *t) { fake.tlb_flushes[t->id]++; }

/* a register file per vCPU; writes are also logged in order */
uint32_t arch_apic_reg_read(struct vcpu *v, uint32_t off) { return fake.apic_regs[v->id][(off >> 4) & 0x3f]; }

void arch_apic_reg_write(struct vcpu *v, uint32_t off, uint32_t val)
{
	fake.apic_regs[v->id][(off >> 4) & 0x3f] = val;
	if (fake.apic_writes < FAKE_MAX_EVENTS)
		fake.apic_write_log[fake.apic_writes] = (struct fake_apic_write){ v->id, off, val };
	fake.apic_writes++;
}

/* VMMCALL, as on the SVM machines the tests mostly run on */
size_t arch_hypercall_insn(uint8_t *buf)
{
	buf[0] = 0x0f, buf[1] = 0x01, buf[2] = 0xd9;
	return 3;
}

void arch_set_pv_eoi(struct vcpu *v, uint64_t gpa, bool on)
{
	fake.pv_eoi_gpa[v->id] = gpa;
	fake.pv_eoi_on[v->id] = on;
}

void arch_idle_until(uint64_t deadline)
{
	fake.idle_calls++;
	if (fake.counter < deadline)
		fake.counter = deadline;
}

void arch_handle_exit(struct vcpu *v, struct vm_exit *e)
{
	if (fake.handle_exit < FAKE_MAX_EVENTS)
		fake.handled[fake.handle_exit] = e->reason;
	fake.handle_exit++;
	if (fake.exit_hook)
		fake.exit_hook(v, e);
}

/* arch_skip_insn: the real one, from arch/x86/insn.c */

/* arch/x86/vlapic.c starts an AP through this (arch/x86/guest_boot.c in the image). */
int x86_vcpu_start_at_sipi(struct vcpu *v, uint8_t vector)
{
	fake.sipi_calls++;
	fake.sipi_vcpu = v;
	fake.sipi_vector = vector;
	return fake.fail_sipi;
}

/* and INIT's reset of what the APIC does not hold */
void x86_vcpu_init_event(struct vcpu *v)
{
	fake.init_events++;
	hc_vcpu_init(v);
}

void arch_dump_vcpu(struct vcpu *v)
{
	fake.dump++;
}

void arch_inject_undef(struct vcpu *v)
{
	if (fake.inject_undef < FAKE_MAX_EVENTS)
		fake.undef_vcpu[fake.inject_undef] = v;
	fake.inject_undef++;
}

void fake_arch_reset(void)
{
	memset(&fake, 0, sizeof(fake));
	memset(script, 0, sizeof(script));
}

/* ---- boot info ---- */

static void add_region(struct boot_info *bi, uint64_t base, uint64_t len, uint32_t type)
{
	assert_true(bi->nr_mmap < BOOT_MAX_MMAP);
	bi->mmap[bi->nr_mmap++] = (struct boot_mem_region){ .base = base, .len = len, .type = type };
}

void fake_boot_info(struct boot_info *bi)
{
	memset(bi, 0, sizeof(*bi));
	bi->magic = BOOT_INFO_MAGIC;
	add_region(bi, 0, FAKE_LOW_USABLE_END, BOOT_MEM_USABLE);
	add_region(bi, FAKE_LOW_USABLE_END, MiB(1) - FAKE_LOW_USABLE_END, BOOT_MEM_RESERVED);
	add_region(bi, FAKE_PHYS_BASE, FAKE_PHYS_SIZE, BOOT_MEM_USABLE);
	add_region(bi, FAKE_RSVD_BASE, FAKE_RSVD_LEN, BOOT_MEM_RESERVED);
	add_region(bi, FAKE_ACPI_BASE, FAKE_ACPI_LEN, BOOT_MEM_ACPI_RECLAIM);
	add_region(bi, FAKE_NVS_BASE, FAKE_NVS_LEN, BOOT_MEM_ACPI_NVS);
}

const struct boot_module *fake_boot_add_module(struct boot_info *bi, const void *data,
                                               size_t len, const char *cmdline)
{
	uint64_t at = FAKE_MOD_BASE;
	assert_true(bi->nr_modules < BOOT_MAX_MODULES);
	if (bi->nr_modules) {
		const struct boot_module *last = &bi->modules[bi->nr_modules - 1];
		at = ALIGN_UP(last->base + last->len, PAGE_SIZE);
	}
	assert_true(at + len <= FAKE_MOD_BASE + FAKE_MOD_LEN);
	memcpy(fake_phys_ptr(at), data, len);
	struct boot_module *m = &bi->modules[bi->nr_modules++];
	m->base = at;
	m->len = len;
	strlcpy(m->cmdline, cmdline, sizeof(m->cmdline));
	return m;
}

void fake_pmm_setup(struct boot_info *bi)
{
	const struct pmm_range ex[] = {
		{ FAKE_IMAGE_BASE, FAKE_IMAGE_LEN },
		{ FAKE_MOD_BASE, FAKE_MOD_LEN },
	};
	fake_boot_info(bi);
	assert_int_equal(pmm_init(bi, ex, ARRAY_SIZE(ex)), 0);
}

static hpa_t taken[FAKE_PHYS_SIZE / PAGE_SIZE];
static size_t nr_taken;

void fake_pmm_exhaust(void)
{
	for (hpa_t pa; nr_taken < ARRAY_SIZE(taken) && (pa = pmm_alloc(1, PAGE_SIZE));)
		taken[nr_taken++] = pa;
	assert_int_equal(pmm_free_pages(), 0);
}

void fake_pmm_give_back(void)
{
	while (nr_taken)
		pmm_free(taken[--nr_taken], 1);
}

/* ---- heap-backed VMs ---- */

#define MAX_LIVE 64
static struct vm *live_vms[MAX_LIVE];
static void *scratch[MAX_LIVE];

static void track(void **table, void *p)
{
	for (unsigned i = 0; i < MAX_LIVE; i++) {
		if (!table[i]) {
			table[i] = p;
			return;
		}
	}
	fail_fmt("fake_arch: more than %d live allocations", MAX_LIVE);
}

void *fake_scratch(size_t n)
{
	void *p = malloc(n ? n : 1);
	assert_non_null(p);
	track(scratch, p);
	return p;
}

struct vm *fake_vm_new(void)
{
	struct vm *vm = calloc(1, sizeof(*vm));
	assert_non_null(vm);
	track((void **)live_vms, vm);
	vm_register(vm);
	strlcpy(vm->name, "vm0", sizeof(vm->name));
	vm->state = VM_CREATED;
	return vm;
}

uint8_t *fake_vm_add_slot_backed(struct vm *vm, uint64_t gpa, uint64_t size, uint64_t backing,
                                 uint32_t flags, uint8_t fill)
{
	assert_true(vm->nr_slots < VM_MAX_SLOTS);
	assert_true(backing >= size);
	uint8_t *buf = malloc(backing);
	assert_non_null(buf);
	memset(buf, fill, backing);
	vm->slots[vm->nr_slots++] = (struct vm_slot){
		.gpa = gpa, .size = size, .hpa = 0, .hva = buf, .flags = flags,
	};
	vm->mem_size = MAX(vm->mem_size, gpa + size);
	return buf;
}

uint8_t *fake_vm_add_slot(struct vm *vm, uint64_t gpa, uint64_t size, uint32_t flags, uint8_t fill)
{
	return fake_vm_add_slot_backed(vm, gpa, size, size, flags, fill);
}

uint8_t *fake_vm_hva(struct vm *vm, uint64_t gpa)
{
	for (unsigned i = 0; i < vm->nr_slots; i++) {
		const struct vm_slot *s = &vm->slots[i];
		if (gpa >= s->gpa && gpa - s->gpa < s->size)
			return s->hva + (gpa - s->gpa);
	}
	fail_fmt("fake_vm_hva(0x%llx): not in any slot", (unsigned long long)gpa);
	return NULL;
}

struct vcpu *fake_vcpu_new(struct vm *vm)
{
	assert_true(vm->nr_vcpus < VM_MAX_VCPUS);
	struct vcpu *v = calloc(1, sizeof(*v));
	assert_non_null(v);
	v->vm = vm;
	v->id = vm->nr_vcpus;
	vm->vcpus[vm->nr_vcpus++] = v;
	return v;
}

void fake_vm_free(struct vm *vm)
{
	if (!vm)
		return;
	for (unsigned i = 0; i < MAX_LIVE; i++)
		if (live_vms[i] == vm)
			live_vms[i] = NULL;
	vm_unregister(vm);
	for (unsigned i = 0; i < vm->nr_slots; i++)
		free(vm->slots[i].hva);
	for (unsigned i = 0; i < vm->nr_vcpus; i++)
		free(vm->vcpus[i]);
	free(vm);
}

void fake_cleanup(void)
{
	fake_pmm_give_back();                  /* a test that failed half-way */
	for (unsigned i = 0; i < MAX_LIVE; i++) {
		if (live_vms[i])
			fake_vm_free(live_vms[i]);
		free(scratch[i]);
		scratch[i] = NULL;
	}
}

/* ---- time: a counter the tests set; a vCPU's counter adds its tsc_offset ---- */
uint64_t arch_read_counter(void)
{
	uint64_t now = fake.counter;
	fake.counter += fake.counter_step;      /* time that passes with each reading, when a test wants it */
	return now;
}
bool arch_counter_is_stable(void) { return fake.counter_stable; }
uint64_t arch_guest_counter(struct vcpu *v, uint64_t host) { return host + v->arch.tsc_offset; }
