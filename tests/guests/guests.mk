# Test guests: the same sources built as an ELF64 (long mode entry) and an
# ELF32 (protected mode entry) kernel. Included by the top-level Makefile.
#
# Products: $(GUEST_ELFS). Phony target: guests.

BUILD ?= build

GUEST_SRC := $(patsubst %/,%,$(dir $(lastword $(MAKEFILE_LIST))))
GUEST_OUT := $(BUILD)/guests

# Our own tools, not $(CC)/$(LD): the guests are freestanding x86 code
# whatever the hypervisor itself is built with.
GUEST_CC ?= gcc
GUEST_LD ?= ld

GUEST_CFLAGS := -ffreestanding -fno-pic -fno-pie -fno-stack-protector \
	-mno-red-zone -mgeneral-regs-only -nostdlib -static \
	-fno-asynchronous-unwind-tables -fno-unwind-tables -fcf-protection=none \
	-O2 -Wall -Wextra -Werror -std=gnu11 -MMD -MP -I$(GUEST_SRC)
GUEST_LDFLAGS := -nostdlib -static -z noexecstack --build-id=none \
	-z max-page-size=0x1000 -T $(GUEST_SRC)/guest.ld

GUEST_C_SRCS := main.c cpu.c lib.c kvm_time.c x86_checks.c hyperv.c hyperv_synic.c xen.c xen_events.c xen_balloon.c xen_domains.c multi.c ext.c isolation.c storm.c bench.c \
	smp.c smp_lib.c smp_regs.c lapic.c lapic_x2apic.c lapic_timer.c kvm_smp.c kvm_smp_time.c
# assembled for both builds (#ifdef __x86_64__ inside)
GUEST_S_SRCS := smp_entry.S

GUEST_OBJS64 := $(addprefix $(GUEST_OUT)/64/,$(GUEST_C_SRCS:.c=.o) $(GUEST_S_SRCS:.S=.o) entry64.o)
GUEST_OBJS32 := $(addprefix $(GUEST_OUT)/32/,$(GUEST_C_SRCS:.c=.o) $(GUEST_S_SRCS:.S=.o) entry32.o)

GUEST_ELFS := $(GUEST_OUT)/test-guest64.elf $(GUEST_OUT)/test-guest32.elf

# Don't let these rules become the default goal of whoever includes us.
_guests_default_goal := $(.DEFAULT_GOAL)

.PHONY: guests
guests: $(GUEST_ELFS)

$(GUEST_OUT)/64/%.o: $(GUEST_SRC)/%.c
	@mkdir -p $(@D)
	@echo "  CC64    $<"
	@$(GUEST_CC) $(GUEST_CFLAGS) -m64 -c $< -o $@

$(GUEST_OUT)/64/%.o: $(GUEST_SRC)/%.S
	@mkdir -p $(@D)
	@echo "  AS64    $<"
	@$(GUEST_CC) $(GUEST_CFLAGS) -m64 -c $< -o $@

$(GUEST_OUT)/32/%.o: $(GUEST_SRC)/%.c
	@mkdir -p $(@D)
	@echo "  CC32    $<"
	@$(GUEST_CC) $(GUEST_CFLAGS) -m32 -c $< -o $@

$(GUEST_OUT)/32/%.o: $(GUEST_SRC)/%.S
	@mkdir -p $(@D)
	@echo "  AS32    $<"
	@$(GUEST_CC) $(GUEST_CFLAGS) -m32 -c $< -o $@

$(GUEST_OUT)/test-guest64.elf: $(GUEST_OBJS64) $(GUEST_SRC)/guest.ld
	@echo "  LD      $@"
	@$(GUEST_LD) -m elf_x86_64 $(GUEST_LDFLAGS) -o $@ $(GUEST_OBJS64)

$(GUEST_OUT)/test-guest32.elf: $(GUEST_OBJS32) $(GUEST_SRC)/guest.ld
	@echo "  LD      $@"
	@$(GUEST_LD) -m elf_i386 $(GUEST_LDFLAGS) -o $@ $(GUEST_OBJS32)

-include $(GUEST_OBJS64:.o=.d) $(GUEST_OBJS32:.o=.d)

.DEFAULT_GOAL := $(_guests_default_goal)
