#include "core/arch.h"
#include "core/gmem.h"
#include "core/config.h"
#include "core/elf.h"
#include "core/exit.h"
#include "core/log.h"
#include "core/pmm.h"
#include "core/string.h"
#include "core/vm.h"
#include "core/vmm.h"
#include "hypercalls/hypercall.h"

#define STRUCT_PAGES(t) (ALIGN_UP(sizeof(t), PAGE_SIZE) >> PAGE_SHIFT)

/* Guest RAM in 2 MiB-aligned host memory when possible, so stage 2 can use large pages. */
static int vm_alloc_ram(struct vm *vm, uint64_t size)
{
	size_t pages = size >> PAGE_SHIFT;
	hpa_t pa = pmm_alloc(pages, LARGE_PAGE_SIZE);
	if (!pa)
		pa = pmm_alloc(pages, PAGE_SIZE);
	if (!pa)
		return -ENOMEM;
	vm->slots[0] = (struct vm_slot){
		.gpa = 0, .size = size, .hpa = pa, .hva = arch_phys_to_virt(pa),
	};
	vm->nr_slots = 1;
	vm->mem_size = size;
	vm->ram_untouched = true;          /* pmm_alloc zeroed it */
	return 0;
}

static struct vcpu *vcpu_create(struct vm *vm, unsigned id)
{
	hpa_t pa = pmm_alloc(STRUCT_PAGES(struct vcpu), PAGE_SIZE);
	if (!pa)
		return NULL;
	struct vcpu *v = arch_phys_to_virt(pa);
	v->vm = vm;
	v->id = id;
	if (arch_vcpu_init(v)) {
		pmm_free(pa, STRUCT_PAGES(struct vcpu));
		return NULL;
	}
	vm->vcpus[vm->nr_vcpus++] = v;
	return v;
}

/*
 * The guest's modules, each page-aligned, from the top of its RAM down
 * (where a kernel that loads low leaves them alone); they must stay above
 * the image and the boot area. -EINVAL with the VM ended and a reason.
 */
static int load_modules(struct vm *vm, const struct vm_config *cfg, struct guest_image *img)
{
	uint64_t top = vm->mem_size, floor = MAX(img->end, (uint64_t)ARCH_GUEST_BOOT_AREA_END);
	img->nr_modules = 0;
	for (unsigned i = 0; i < cfg->nr_modules; i++) {
		const struct boot_module *m = cfg->modules[i];
		if (!m) {
			vm_end(vm, VM_END_LOAD_FAILED, 0, "module %s: no such boot module", cfg->module_names[i]);
			return -EINVAL;
		}
		uint64_t at = top >= m->len ? ALIGN_DOWN(top - m->len, PAGE_SIZE) : 0;
		if (at < floor || top < m->len) {
			vm_end(vm, VM_END_LOAD_FAILED, 0, "module %s: %llu bytes do not fit between the image and the top of RAM",
			       cfg->module_names[i], (unsigned long long)m->len);
			return -EINVAL;
		}
		const uint8_t *src = arch_phys_to_virt(m->base);
		for (uint64_t done = 0, c; done < m->len; done += c) {
			c = MIN(m->len - done, GMEM_MAX_ACCESS);
			if (gmem_write(vm, mk_gpa(at + done), src + done, c)) {
				vm_end(vm, VM_END_LOAD_FAILED, 0, "module %s: could not be written", cfg->module_names[i]);
				return -EINVAL;
			}
		}
		img->modules[img->nr_modules++] = (struct guest_module){ at, m->len };
		top = at;
	}
	return 0;
}

static bool vm_setup(struct vm *vm, const struct vm_config *cfg, const struct boot_module *mod)
{
	char why[160];
	struct guest_image img;
	if (cfg->bad) {
		vm_end(vm, VM_END_LOAD_FAILED, 0, "%s: bad configuration (see above)", cfg->image);
		return false;
	}
	if (!mod) {
		vm_end(vm, VM_END_LOAD_FAILED, 0, "%s: no such boot module", cfg->image);
		return false;
	}
	if (vm_alloc_ram(vm, cfg->mem)) {
		vm_end(vm, VM_END_LOAD_FAILED, 0, "%s: no host memory for %llu KiB of guest RAM",
		       cfg->image, (unsigned long long)(cfg->mem >> 10));
		return false;
	}
	if (elf_load(vm, arch_phys_to_virt(mod->base), mod->len, &img, why, sizeof(why))) {
		vm_end(vm, VM_END_LOAD_FAILED, 0, "%s: %s", cfg->image, why);
		return false;
	}
	img.cmdline = config_module_args(mod);
	if (load_modules(vm, cfg, &img))
		return false;
	if (!cfg->nr_vcpus || cfg->nr_vcpus > VM_MAX_VCPUS) {
		vm_end(vm, VM_END_LOAD_FAILED, 0, "%s: %u vCPUs (1..%u)", cfg->image, cfg->nr_vcpus, VM_MAX_VCPUS);
		return false;
	}
	_Static_assert(CFG_MAX_ABIS == HC_MAX_ABIS, "abi= lists fit the VM's");
	hc_vm_set_abis(vm, cfg->abis.abi, cfg->abis.n);
	vm->hc.policy = cfg->policy;
	vm->hc.ext = cfg->ext;
	vm->arch_ready = !arch_vm_init(vm);
	for (unsigned i = 0; vm->arch_ready && i < cfg->nr_vcpus; i++)
		if (!vcpu_create(vm, i))
			break;
	if (!vm->arch_ready || vm->nr_vcpus != cfg->nr_vcpus) {
		vm_end(vm, VM_END_LOAD_FAILED, 0, "%s: no host memory for the VM's tables", cfg->image);
		return false;
	}
	/* vCPU 0 starts at the entry; the others wait for a start from it (docs/guest-boot.md) */
	struct vcpu *v = vm->vcpus[0];
	v->state = VCPU_RUNNABLE;
	int r = arch_vcpu_boot(v, &img);
	if (r) {
		vm_end(vm, VM_END_LOAD_FAILED, 0, "%s: %s", cfg->image, r == -EOPNOTSUPP ?
		       "this CPU cannot start a guest in the mode its image needs (see the virtualization line above)" :
		       "cannot write the guest's boot area");
		return false;
	}
	pr_info("%s: %s, %llu MiB, %u vCPU%s, entry 0x%llx (%s)\n", vm->name, cfg->image,
	        (unsigned long long)(vm->mem_size >> 20), vm->nr_vcpus, vm->nr_vcpus > 1 ? "s" : "",
	        (unsigned long long)img.entry,
	        img.pvh ? "PVH, 32-bit" : img.kind == IMAGE_ELF64 ? "64-bit" : "32-bit");
	return true;
}

struct vm *vm_create(unsigned id, const struct vm_config *cfg, const struct boot_module *mod)
{
	hpa_t pa = pmm_alloc(STRUCT_PAGES(struct vm), PAGE_SIZE);
	if (!pa)
		return NULL;
	struct vm *vm = arch_phys_to_virt(pa);
	vm->id = id;
	if (cfg->name[0])
		hv_snprintf(vm->name, sizeof(vm->name), "%s", cfg->name);
	else
		hv_snprintf(vm->name, sizeof(vm->name), "vm%u", id);
	vm->state = VM_CREATED;
	vm->clock_base = arch_read_counter();
	vm_register(vm);
	vm_setup(vm, cfg, mod);
	return vm;
}

void vm_destroy(struct vm *vm)
{
	vm_unregister(vm);
	for (unsigned i = 0; i < vm->nr_vcpus; i++) {
		arch_vcpu_destroy(vm->vcpus[i]);
		pmm_free(arch_virt_to_phys(vm->vcpus[i]), STRUCT_PAGES(struct vcpu));
	}
	if (vm->arch_ready)
		arch_vm_destroy(vm);
	hc_vm_destroy(vm);
	for (unsigned i = 0; i < vm->nr_slots; i++)
		pmm_free(vm->slots[i].hpa, vm->slots[i].size >> PAGE_SHIFT);
	gmem_destroy(vm);
	pmm_free(arch_virt_to_phys(vm), STRUCT_PAGES(struct vm));
}
