/*
 * Builds ELF32/ELF64 images in memory for the loader tests. The layouts are
 * written here from the System V ABI independently of core/elf.c, so a
 * mistake in one is not silently mirrored in the other.
 */
#ifndef TESTS_FAKE_ELF_H
#define TESTS_FAKE_ELF_H

#include "core/types.h"

#define FELF_PT_NULL 0
#define FELF_PT_LOAD 1
#define FELF_PT_NOTE 4
#define FELF_ET_EXEC 2
#define FELF_ET_DYN  3
#define FELF_EM_386  3
#define FELF_EM_X86_64 62

#define FELF_MAX_SEGS 24

struct felf_seg {
	uint32_t type;
	uint64_t offset, paddr, vaddr, filesz, memsz;
};

/* Every field the loader looks at, so a test can break exactly one of them. */
struct felf {
	bool is64;
	uint8_t magic[4], cls, data;
	uint16_t type, machine, phentsize, phnum;
	uint64_t entry, phoff;
	struct felf_seg seg[FELF_MAX_SEGS];
	unsigned nseg;
};

/* A valid executable header for the class, no segments yet. */
void felf_init(struct felf *f, bool is64);
/*
 * Adds a segment whose file data follows the previous one's (16-byte
 * aligned, after the program headers). Returns its index.
 */
unsigned felf_add(struct felf *f, uint32_t type, uint64_t paddr, uint64_t filesz, uint64_t memsz);
/*
 * Writes the image into buf (cap bytes) and returns its length: the end of
 * the furthest header or segment data that fits. Segment data that does not
 * fit in cap is left out (for "outside the file" cases).
 */
size_t felf_build(const struct felf *f, uint8_t *buf, size_t cap);
/* The byte felf_build puts at file offset `off` of segment data. */
uint8_t felf_byte(uint64_t off);

#endif
