/* Creating, running and tearing down VMs. */
#ifndef CORE_VMM_H
#define CORE_VMM_H

#include "core/types.h"

struct vm;
struct vcpu;
struct vm_config;
struct boot_module;

/*
 * Creates VM number `id` from its configuration and boot module (NULL when the
 * module is missing): allocates and zeroes its RAM, loads the image and puts
 * vCPU 0 at the entry. On any failure the VM still exists, already ended with
 * VM_END_LOAD_FAILED and the reason, so it shows up in the final summary.
 * NULL only when there isn't memory for the VM structure itself.
 */
struct vm *vm_create(unsigned id, const struct vm_config *cfg, const struct boot_module *mod);
/* Frees everything the VM owns; guest RAM is scrubbed on its next allocation. */
void vm_destroy(struct vm *vm);

#endif
