# Malformed guest images for the bad-input emulator test (tests/configs/bad-input.cfg).
$(BUILD)/guests/overlap.elf: tests/guests/bad/overlap.S tests/guests/bad/overlap.ld
	@mkdir -p $(dir $@)
	@echo "  AS/LD   $@"
	@$(CC) -c tests/guests/bad/overlap.S -o $(BUILD)/guests/overlap.o
	@$(LD) -m elf_x86_64 --no-check-sections -z noexecstack --build-id=none -T tests/guests/bad/overlap.ld \
		-o $@ $(BUILD)/guests/overlap.o

$(BUILD)/guests/not-an-elf.bin:
	@mkdir -p $(dir $@)
	@echo "this is a text file, not a guest kernel" > $@

BAD_GUESTS := $(BUILD)/guests/overlap.elf $(BUILD)/guests/not-an-elf.bin
