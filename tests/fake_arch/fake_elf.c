#include <string.h>

#include "tests/fake_arch/fake_elf.h"

/* System V ABI "Object Files": ELF header and program header, both classes. */
struct felf32_ehdr {
	uint8_t ident[16];
	uint16_t type, machine;
	uint32_t version, entry, phoff, shoff, flags;
	uint16_t ehsize, phentsize, phnum, shentsize, shnum, shstrndx;
};
struct felf64_ehdr {
	uint8_t ident[16];
	uint16_t type, machine;
	uint32_t version;
	uint64_t entry, phoff, shoff;
	uint32_t flags;
	uint16_t ehsize, phentsize, phnum, shentsize, shnum, shstrndx;
};
struct felf32_phdr { uint32_t type, offset, vaddr, paddr, filesz, memsz, flags, align; };
struct felf64_phdr { uint32_t type, flags; uint64_t offset, vaddr, paddr, filesz, memsz, align; };

_Static_assert(sizeof(struct felf32_ehdr) == 52 && sizeof(struct felf64_ehdr) == 64, "ehdr");
_Static_assert(sizeof(struct felf32_phdr) == 32 && sizeof(struct felf64_phdr) == 56, "phdr");

#define PF_R 4
#define PF_X 1

void felf_init(struct felf *f, bool is64)
{
	memset(f, 0, sizeof(*f));
	f->is64 = is64;
	memcpy(f->magic, "\x7f" "ELF", 4);
	f->cls = is64 ? 2 : 1;
	f->data = 1;
	f->type = FELF_ET_EXEC;
	f->machine = is64 ? FELF_EM_X86_64 : FELF_EM_386;
	f->phentsize = is64 ? sizeof(struct felf64_phdr) : sizeof(struct felf32_phdr);
	f->phoff = is64 ? sizeof(struct felf64_ehdr) : sizeof(struct felf32_ehdr);
}

/* Room for FELF_MAX_SEGS program headers, so adding one never moves the data. */
static uint64_t data_start(const struct felf *f)
{
	return ALIGN_UP(f->phoff + (uint64_t)FELF_MAX_SEGS * f->phentsize, 16);
}

unsigned felf_add(struct felf *f, uint32_t type, uint64_t paddr, uint64_t filesz, uint64_t memsz)
{
	uint64_t off = data_start(f);
	if (f->nseg) {
		const struct felf_seg *p = &f->seg[f->nseg - 1];
		off = ALIGN_UP(p->offset + p->filesz, 16);
	}
	f->seg[f->nseg] = (struct felf_seg){ type, off, paddr, paddr, filesz, memsz };
	f->phnum = (uint16_t)++f->nseg;
	return f->nseg - 1;
}

uint8_t felf_byte(uint64_t off) { return (uint8_t)(off * 7 + (off >> 8) + 1); }

static void put(uint8_t *buf, size_t cap, uint64_t off, const void *src, size_t n, size_t *len)
{
	if (off > cap || n > cap - off)
		return;
	memcpy(buf + off, src, n);
	*len = MAX(*len, (size_t)(off + n));
}

size_t felf_build(const struct felf *f, uint8_t *buf, size_t cap)
{
	size_t len = 0;
	memset(buf, 0, cap);
	if (f->is64) {
		struct felf64_ehdr h = {
			.type = f->type, .machine = f->machine, .version = 1, .entry = f->entry,
			.phoff = f->phoff, .ehsize = sizeof(h), .phentsize = f->phentsize, .phnum = f->phnum,
		};
		memcpy(h.ident, f->magic, 4);
		h.ident[4] = f->cls, h.ident[5] = f->data, h.ident[6] = 1;
		put(buf, cap, 0, &h, sizeof(h), &len);
	} else {
		struct felf32_ehdr h = {
			.type = f->type, .machine = f->machine, .version = 1, .entry = (uint32_t)f->entry,
			.phoff = (uint32_t)f->phoff, .ehsize = sizeof(h), .phentsize = f->phentsize,
			.phnum = f->phnum,
		};
		memcpy(h.ident, f->magic, 4);
		h.ident[4] = f->cls, h.ident[5] = f->data, h.ident[6] = 1;
		put(buf, cap, 0, &h, sizeof(h), &len);
	}
	for (unsigned i = 0; i < f->nseg; i++) {
		const struct felf_seg *s = &f->seg[i];
		uint64_t at = f->phoff + (uint64_t)i * f->phentsize;
		if (f->is64) {
			struct felf64_phdr p = { s->type, PF_R | PF_X, s->offset, s->vaddr, s->paddr,
			                         s->filesz, s->memsz, 0x1000 };
			put(buf, cap, at, &p, sizeof(p), &len);
		} else {
			struct felf32_phdr p = { s->type, (uint32_t)s->offset, (uint32_t)s->vaddr,
			                         (uint32_t)s->paddr, (uint32_t)s->filesz, (uint32_t)s->memsz,
			                         PF_R | PF_X, 0x1000 };
			put(buf, cap, at, &p, sizeof(p), &len);
		}
		if (s->offset <= cap && s->filesz <= cap - s->offset) {
			for (uint64_t k = 0; k < s->filesz; k++)
				buf[s->offset + k] = felf_byte(s->offset + k);
			len = MAX(len, (size_t)(s->offset + s->filesz));
		}
	}
	return len;
}
