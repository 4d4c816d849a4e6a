# hv.efi, the UEFI loader that carries hv.elf (boot/uefi/). Included by the
# top-level Makefile, which defines BUILD and the rule for $(BUILD)/hv.elf.
# gnu-efi flags: the shared TESTING.md, section "UEFI".

# Where this fragment lives, so it works whatever directory includes it.
UEFI_DIR := $(patsubst %/,%,$(dir $(lastword $(MAKEFILE_LIST))))
UEFI_ROOT := $(abspath $(UEFI_DIR)/../..)
UEFI_OUT := $(BUILD)/uefi

# Host tools, never the hypervisor's (possibly cross) toolchain.
UEFI_CC ?= gcc
UEFI_LD ?= ld
UEFI_OBJCOPY ?= objcopy
UEFI_INC ?= /usr/include/efi
UEFI_LIB ?= /usr/lib

UEFI_CFLAGS := -std=gnu11 -O2 -Wall -Wextra -Werror \
	-fpic -fshort-wchar -mno-red-zone -ffreestanding -fno-stack-protector \
	-fno-strict-aliasing -DGNU_EFI_USE_MS_ABI \
	-I$(UEFI_INC) -I$(UEFI_INC)/x86_64 -I$(UEFI_ROOT) -MMD -MP

UEFI_C_OBJS := $(UEFI_OUT)/main.o $(UEFI_OUT)/config.o $(UEFI_OUT)/elf.o $(UEFI_OUT)/mmap.o
UEFI_OBJS := $(UEFI_C_OBJS) $(UEFI_OUT)/blob.o

$(UEFI_C_OBJS): $(UEFI_OUT)/%.o: $(UEFI_DIR)/%.c
	@mkdir -p $(@D)
	$(UEFI_CC) $(UEFI_CFLAGS) -c $< -o $@

# The embedded copy drops debug info but keeps .symtab (the loader looks up hv_entry64).
$(UEFI_OUT)/hv-embed.elf: $(BUILD)/hv.elf
	@mkdir -p $(@D)
	$(UEFI_OBJCOPY) --strip-debug $< $@

# .incbin is invisible to -MMD: the dependency on the blob is spelled out.
$(UEFI_OUT)/blob.o: $(UEFI_DIR)/blob.S $(UEFI_OUT)/hv-embed.elf
	@mkdir -p $(@D)
	$(UEFI_CC) $(UEFI_CFLAGS) -DHV_ELF_PATH='"$(abspath $(UEFI_OUT)/hv-embed.elf)"' -c $< -o $@

# --no-undefined: a -shared link would otherwise accept a missing symbol silently.
$(UEFI_OUT)/hv.so: $(UEFI_OBJS)
	$(UEFI_LD) -shared -Bsymbolic -nostdlib -znocombreloc --no-undefined \
		-T $(UEFI_LIB)/elf_x86_64_efi.lds $(UEFI_LIB)/crt0-efi-x86_64.o $^ \
		-L$(UEFI_LIB) -lefi -lgnuefi -o $@

$(BUILD)/hv.efi: $(UEFI_OUT)/hv.so
	$(UEFI_OBJCOPY) -j .text -j .sdata -j .data -j .dynamic -j .dynsym \
		-j .rel -j .rela -j '.rel.*' -j '.rela.*' -j .reloc \
		--target efi-app-x86_64 --subsystem=10 $< $@

-include $(UEFI_OBJS:.o=.d)
