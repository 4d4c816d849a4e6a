# microhv: plain GNU Make. `make` builds build/hv.elf, build/hv.efi and build/hv.iso.
# `make run`, `make run-uefi`, `make test`, `make deps`: see README.md.

BUILD ?= build
HOSTCC ?= gcc
CC := gcc
LD := ld
OBJCOPY := objcopy

HV_CFLAGS := -std=gnu11 -O2 -g -ffreestanding -fno-pic -fno-pie -mno-red-zone \
	-mgeneral-regs-only -mcmodel=small -fno-stack-protector -fno-omit-frame-pointer \
	-fno-asynchronous-unwind-tables -fcf-protection=none -fno-strict-aliasing \
	-Wall -Wextra -Werror -Wmissing-prototypes -I. -Iarch/x86/include -MMD -MP
HV_ASFLAGS := -I. -Iarch/x86/include -MMD -MP
HV_LDFLAGS := -n -static -T linker.ld --build-id=none -z noexecstack -z max-page-size=4096

HV_SRCS := $(wildcard boot/*.c boot/*.S core/*.c arch/x86/*.c arch/x86/*.S \
	arch/x86/svm/*.c arch/x86/svm/*.S arch/x86/vmx/*.c arch/x86/vmx/*.S \
	hypercalls/*.c hypercalls/*/*.c)
HV_OBJS := $(patsubst %,$(BUILD)/hv/%.o,$(HV_SRCS))

.PHONY: all deps run run-uefi run-vmx run-bochs-svm test unit clean iso fuzz fuzz-build stress bench profile FORCE
all: $(BUILD)/hv.elf $(BUILD)/hv.efi $(BUILD)/hv.iso

$(BUILD)/hv/%.c.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@$(CC) $(HV_CFLAGS) -c $< -o $@

$(BUILD)/hv/%.S.o: %.S
	@mkdir -p $(dir $@)
	@echo "  AS      $<"
	@$(CC) $(HV_ASFLAGS) -c $< -o $@

$(BUILD)/hv.elf: $(HV_OBJS) linker.ld
	@echo "  LD      $@"
	@$(LD) $(HV_LDFLAGS) -o $@ $(HV_OBJS)
	@size $@ | tail -1 | awk '{ printf "hv.elf: text %d, data %d, bss %d bytes\n", $$1, $$2, $$3 }'

include tests/guests/guests.mk
include boot/uefi/uefi.mk
include tests/guests/bad/bad.mk

# The ISO boots with GRUB on BIOS and UEFI; its grub.cfg runs boot/hv.cfg's VMs:
# one per ABI and one that speaks all three.
GUESTS := $(BUILD)/guests/test-guest64.elf $(BUILD)/guests/test-guest32.elf
$(BUILD)/hv.iso: $(BUILD)/hv.elf $(GUESTS) tools/mkiso.sh boot/hv.cfg
	tools/mkiso.sh $@ boot/hv.cfg $(BUILD)

# ISOs for the emulator tests, one per config: tests/configs/*.cfg as they
# are, the default guests with each self-test of core/selftest.h, and a Bochs
# twin of each (bochs-NAME) that stops through Bochs' port instead of QEMU's.
SELFTESTS := ud write-text exec-data null bad-entry bad-control
TEST_CONFIGS := $(patsubst tests/configs/%.cfg,%,$(wildcard tests/configs/*.cfg)) \
	$(addprefix selftest-,$(SELFTESTS))
TEST_ISOS := $(patsubst %,$(BUILD)/test-%.iso,$(TEST_CONFIGS) $(addprefix bochs-,$(TEST_CONFIGS)))

$(BUILD)/configs/%.cfg: tests/configs/%.cfg
	@mkdir -p $(dir $@)
	cp $< $@
$(BUILD)/configs/selftest-%.cfg: tests/configs/default.cfg
	@mkdir -p $(dir $@)
	sed 's/^cmdline /cmdline selftest=$* /' $< > $@
# (the guests' "qemu-tcg" word skips what QEMU's TCG lacks; Bochs has it all)
$(BUILD)/configs/bochs-%.cfg: $(BUILD)/configs/%.cfg
	sed -e 's/exit=qemu/exit=bochs/' -e 's/ qemu-tcg//' $< > $@
$(BUILD)/test-%.iso: $(BUILD)/configs/%.cfg $(BUILD)/hv.elf $(GUESTS) $(BAD_GUESTS) tools/mkiso.sh
	tools/mkiso.sh $@ $< $(BUILD)

iso: $(BUILD)/hv.iso

# The long hostile-guest run (tests/stress.sh): storm.cfg with STRESS_THOUSANDS
# thousand calls and MSR accesses per VM under QEMU (two VMs: over a million
# hypercalls by default, MSR accesses aside), a tenth of that under Bochs VMX.
STRESS_THOUSANDS ?= 600
$(BUILD)/configs/stress.cfg: tests/configs/storm.cfg FORCE
	@mkdir -p $(dir $@)
	sed 's/ storm=[0-9]*/ storm=$(STRESS_THOUSANDS)/' $< > $@
$(BUILD)/configs/bochs-stress.cfg: $(BUILD)/configs/stress.cfg
	sed -e 's/exit=qemu/exit=bochs/' -e 's/ qemu-tcg//' -e 's/ storm=[0-9]*/ storm=$(shell expr $(STRESS_THOUSANDS) / 10)/' $< > $@
# make bench (bench/run.sh, docs/performance.md): round trips in instructions under QEMU -icount.
$(BUILD)/bench.iso: bench/bench.cfg $(BUILD)/hv.elf $(GUESTS) tools/mkiso.sh
	tools/mkiso.sh $@ $< $(BUILD)
$(BUILD)/configs/bench-bochs.cfg: bench/bench.cfg
	@mkdir -p $(dir $@)
	sed 's/exit=qemu/exit=bochs/' $< > $@
$(BUILD)/bench-bochs.iso: $(BUILD)/configs/bench-bochs.cfg $(BUILD)/hv.elf $(GUESTS) tools/mkiso.sh
	tools/mkiso.sh $@ $< $(BUILD)
bench: deps
	@$(MAKE) --no-print-directory all $(BUILD)/bench.iso $(BUILD)/bench-bochs.iso
	bench/run.sh $(BUILD)

# make profile [PROFILE="insn_cpuid lines" | PROFILE=boot]: per-exit (or boot) instruction profile, docs/performance.md
profile: deps
	@$(MAKE) --no-print-directory all $(BUILD)/bench.iso
	tools/profile/profile.sh $(BUILD) $(PROFILE)

FORCE:
stress: deps
	@$(MAKE) --no-print-directory all $(BUILD)/test-stress.iso $(BUILD)/test-bochs-stress.iso
	tests/stress.sh $(BUILD) $(STRESS_THOUSANDS)

deps:
	@tools/deps.sh

run: deps
	@$(MAKE) --no-print-directory all
	tests/run-qemu.sh bios $(BUILD)/hv.iso

run-uefi: deps
	@$(MAKE) --no-print-directory all
	tests/run-qemu.sh uefi $(BUILD)/hv.iso

# Intel VMX + EPT under Bochs (Skylake-X, then Tiger Lake: VMCS revision 4);
# AMD SVM with NRIPS under Bochs (Ryzen).
run-vmx: deps
	@$(MAKE) --no-print-directory $(BUILD)/test-bochs-default.iso
	tests/run-bochs.sh corei7_skylake_x $(BUILD)/test-bochs-default.iso
	tests/run-bochs.sh tigerlake $(BUILD)/test-bochs-default.iso

run-bochs-svm: deps
	@$(MAKE) --no-print-directory $(BUILD)/test-bochs-default.iso
	tests/run-bochs.sh ryzen $(BUILD)/test-bochs-default.iso

# ---- host unit tests: core/ + hypercalls/ against tests/fake_arch, ASan + UBSan ----
UNIT_CFLAGS := -std=gnu11 -O1 -g -DHV_HOSTED -fsanitize=address,undefined \
	-fno-sanitize-recover=all -fno-omit-frame-pointer -Wall -Wextra -Werror \
	-Wno-unused-parameter -I. -Itests/fake_arch/include -Iarch/x86/include -MMD -MP
UNIT_CODE := $(filter-out core/main.c,$(wildcard core/*.c)) $(wildcard hypercalls/*.c hypercalls/*/*.c) \
	arch/x86/gwalk.c arch/x86/insn.c arch/x86/mmio_insn.c arch/x86/vlapic.c arch/x86/vlapic_timer.c $(wildcard tests/fake_arch/*.c)
UNIT_CODE_OBJS := $(patsubst %,$(BUILD)/unit/%.o,$(UNIT_CODE))
UNIT_TESTS := $(patsubst tests/unit/%.c,$(BUILD)/unit/bin/%,$(wildcard tests/unit/test_*.c))

$(BUILD)/unit/%.c.o: %.c
	@mkdir -p $(dir $@)
	@echo "  HOSTCC  $<"
	@$(HOSTCC) $(UNIT_CFLAGS) -c $< -o $@

$(BUILD)/unit/bin/%: $(BUILD)/unit/tests/unit/%.c.o $(UNIT_CODE_OBJS)
	@mkdir -p $(dir $@)
	@echo "  HOSTLD  $@"
	@$(HOSTCC) -fsanitize=address,undefined -o $@ $^ -lcmocka

unit: $(UNIT_TESTS)

# ---- fuzzing (docs/bad-input.md): the same code under libFuzzer, clang, ASan + UBSan ----
# `make fuzz FUZZ_SECONDS=N` runs each harness N seconds from its seed corpus
# (tests/fuzz/corpus/NAME) and prints execs and findings per harness.
FUZZ_CC ?= clang
FUZZ_SECONDS ?= 60
FUZZERS := kvm hyperv xen multi
FUZZ_CFLAGS := $(filter-out -fsanitize=%,$(UNIT_CFLAGS)) -fsanitize=fuzzer-no-link,address,undefined
FUZZ_CODE_OBJS := $(patsubst %,$(BUILD)/fuzz/%.o,$(UNIT_CODE) tests/fuzz/fuzz_engine.c)
FUZZ_BINS := $(patsubst %,$(BUILD)/fuzz/bin/fuzz_%,$(FUZZERS))

$(BUILD)/fuzz/%.c.o: %.c
	@mkdir -p $(dir $@)
	@echo "  FUZZCC  $<"
	@$(FUZZ_CC) $(FUZZ_CFLAGS) -c $< -o $@

$(BUILD)/fuzz/bin/fuzz_%: $(BUILD)/fuzz/tests/fuzz/fuzz_%.c.o $(FUZZ_CODE_OBJS)
	@mkdir -p $(dir $@)
	@echo "  FUZZLD  $@"
	@$(FUZZ_CC) -fsanitize=fuzzer,address,undefined -o $@ $^ -lcmocka

fuzz-build: $(FUZZ_BINS)

fuzz: deps
	@$(MAKE) --no-print-directory fuzz-build
	tests/fuzz/run.sh $(BUILD) $(FUZZ_SECONDS) $(FUZZERS)

# The seed corpus (tests/fuzz/seeds.c): `make fuzz-seeds` writes tests/fuzz/corpus/NAME/seed-*
# again, one input per unit-test scenario, in the engine's byte format.
.PHONY: fuzz-seeds
$(BUILD)/fuzz/seeds: tests/fuzz/seeds.c
	@mkdir -p $(dir $@)
	@echo "  HOSTCC  $<"
	@$(HOSTCC) -std=gnu11 -O1 -g -Wall -Wextra -Werror -DHV_HOSTED -I. -Itests/fake_arch/include \
		-Iarch/x86/include -MMD -MP -o $@ $<

fuzz-seeds: $(BUILD)/fuzz/seeds
	$(BUILD)/fuzz/seeds tests/fuzz/corpus

# keep objects between runs (pattern-rule intermediates would be deleted)
.SECONDARY:

test: deps
	@$(MAKE) --no-print-directory all unit fuzz-build $(TEST_ISOS)
	tests/run-all.sh $(BUILD)

clean:
	rm -rf $(BUILD)

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
