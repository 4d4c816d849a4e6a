/*
 * ELF layouts: System V ABI, "Object Files" chapter (ELF header, program
 * header). Only what a statically linked kernel image needs.
 */
#include "core/elf.h"
#include "core/gmem.h"
#include "core/printf.h"
#include "core/string.h"
#include "core/vm.h"
#include <arch/vcpu_arch.h>

#define EI_CLASS 4
#define EI_DATA 5
#define ELFCLASS32 1
#define ELFCLASS64 2
#define ELFDATA2LSB 1
#define ET_EXEC 2
#define PT_LOAD 1
#define PT_NOTE 4
/* Xen's ELF notes (xen/include/public/elfnote.h): name "Xen", type 18 = the PVH 32-bit entry */
#define XEN_ELFNOTE_PHYS32_ENTRY 18

struct elf32_ehdr {
	uint8_t ident[16];
	uint16_t type, machine;
	uint32_t version, entry, phoff, shoff, flags;
	uint16_t ehsize, phentsize, phnum, shentsize, shnum, shstrndx;
};
struct elf64_ehdr {
	uint8_t ident[16];
	uint16_t type, machine;
	uint32_t version;
	uint64_t entry, phoff, shoff;
	uint32_t flags;
	uint16_t ehsize, phentsize, phnum, shentsize, shnum, shstrndx;
};
struct elf32_phdr { uint32_t type, offset, vaddr, paddr, filesz, memsz, flags, align; };
struct elf64_phdr { uint32_t type, flags; uint64_t offset, vaddr, paddr, filesz, memsz, align; };

_Static_assert(sizeof(struct elf32_ehdr) == 52 && sizeof(struct elf64_ehdr) == 64, "ELF header");
_Static_assert(sizeof(struct elf32_phdr) == 32 && sizeof(struct elf64_phdr) == 56, "ELF phdr");

/* A loadable segment in a class-neutral form. */
struct seg { uint64_t offset, gpa, filesz, memsz; };

static int fail(char *why, size_t n, const char *fmt, ...) PRINTF_LIKE(3, 4);
static int fail(char *why, size_t n, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	hv_vsnprintf(why, n, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/*
 * Looks through a PT_NOTE segment's notes (namesz, descsz, type; name and
 * desc each padded to 4 bytes) for XEN_ELFNOTE_PHYS32_ENTRY: a PVH kernel's
 * 32-bit entry point (docs/misc/pvh.pandoc). True and *entry set if found.
 * Notes are only a hint: the scan stops at one that runs past its segment,
 * as other loaders do, and the image is loaded by its ELF entry then.
 */
static bool find_pvh_entry(const uint8_t *notes, uint64_t size, uint64_t *entry)
{
	for (uint64_t at = 0; at < size;) {
		uint32_t h[3];
		if (size - at < sizeof(h))
			return false;
		memcpy(h, notes + at, sizeof(h));
		uint64_t name = at + sizeof(h), desc = name + ALIGN_UP((uint64_t)h[0], 4);
		uint64_t next = desc + ALIGN_UP((uint64_t)h[1], 4);
		if (next > size)
			return false;
		if (h[0] == 4 && !memcmp(notes + name, "Xen", 4) && h[2] == XEN_ELFNOTE_PHYS32_ENTRY &&
		    (h[1] == 4 || h[1] == 8)) {
			uint32_t e;
			memcpy(&e, notes + desc, sizeof(e));   /* a 32-bit address, in 4 or 8 bytes */
			*entry = e;
			return true;
		}
		at = next;
	}
	return false;
}

/* Reads the header and the PT_LOAD entries of either class into `segs`. */
static int elf_parse(const uint8_t *img, size_t len, struct guest_image *out,
                     struct seg *segs, unsigned *nsegs, char *why, size_t wl)
{
	if (len < 16 || memcmp(img, "\x7f" "ELF", 4))
		return fail(why, wl, "not an ELF file");
	if (img[EI_DATA] != ELFDATA2LSB)
		return fail(why, wl, "not a little-endian ELF");
	bool is64 = img[EI_CLASS] == ELFCLASS64;
	if (!is64 && img[EI_CLASS] != ELFCLASS32)
		return fail(why, wl, "unknown ELF class %u", img[EI_CLASS]);
	if (len < (is64 ? sizeof(struct elf64_ehdr) : sizeof(struct elf32_ehdr)))
		return fail(why, wl, "truncated ELF header");

	uint64_t phoff, phnum, phentsize;
	uint16_t type, machine;
	if (is64) {
		struct elf64_ehdr h;
		memcpy(&h, img, sizeof(h));
		type = h.type, machine = h.machine, out->entry = h.entry;
		phoff = h.phoff, phnum = h.phnum, phentsize = h.phentsize;
	} else {
		struct elf32_ehdr h;
		memcpy(&h, img, sizeof(h));
		type = h.type, machine = h.machine, out->entry = h.entry;
		phoff = h.phoff, phnum = h.phnum, phentsize = h.phentsize;
	}
	out->kind = is64 ? IMAGE_ELF64 : IMAGE_ELF32;
	out->pvh = false;
	if (type != ET_EXEC)
		return fail(why, wl, "ELF type %u is not an executable", type);
	if (machine != (is64 ? ARCH_ELF_MACHINE64 : ARCH_ELF_MACHINE32))
		return fail(why, wl, "ELF machine %u cannot run here", machine);
	if (phentsize != (is64 ? sizeof(struct elf64_phdr) : sizeof(struct elf32_phdr)) ||
	    phoff > len || phnum * phentsize > len - phoff)
		return fail(why, wl, "program headers outside the file");

	*nsegs = 0;
	for (uint64_t i = 0; i < phnum; i++) {
		const uint8_t *ph = img + phoff + i * phentsize;
		struct seg s;
		uint32_t ptype;
		if (is64) {
			struct elf64_phdr p;
			memcpy(&p, ph, sizeof(p));
			ptype = p.type;
			s = (struct seg){ p.offset, p.paddr, p.filesz, p.memsz };
		} else {
			struct elf32_phdr p;
			memcpy(&p, ph, sizeof(p));
			ptype = p.type;
			s = (struct seg){ p.offset, p.paddr, p.filesz, p.memsz };
		}
		uint64_t entry = 0;
		if (ptype == PT_NOTE && !out->pvh && s.offset <= len && s.filesz <= len - s.offset &&
		    find_pvh_entry(img + s.offset, s.filesz, &entry)) {
			out->pvh = true;
			out->entry = entry;
			out->kind = IMAGE_ELF32;           /* entered as PVH: flat 32-bit protected mode */
		}
		if (ptype != PT_LOAD || !s.memsz)
			continue;
		if (*nsegs == ELF_MAX_SEGMENTS)
			return fail(why, wl, "more than %d loadable segments", ELF_MAX_SEGMENTS);
		if (s.filesz > s.memsz)
			return fail(why, wl, "segment %u has more file data than memory", *nsegs);
		if (s.offset > len || s.filesz > len - s.offset)
			return fail(why, wl, "segment %u data outside the file", *nsegs);
		segs[(*nsegs)++] = s;
	}
	if (!*nsegs)
		return fail(why, wl, "no loadable segment");
	return 0;
}

/* True when [gpa, gpa+len) is writable guest RAM; in gmem-sized chunks, any length. */
static bool range_is_ram(struct vm *vm, uint64_t gpa, uint64_t len)
{
	for (uint64_t done = 0, c; done < len; done += c) {
		c = MIN(len - done, GMEM_MAX_ACCESS);
		if (!gmem_range_ok(vm, mk_gpa(gpa + done), c, true))
			return false;
	}
	return true;
}

/* Every segment inside guest RAM, clear of the boot area and of the others. */
static int elf_check_layout(struct vm *vm, const struct seg *segs, unsigned n,
                            char *why, size_t wl)
{
	for (unsigned i = 0; i < n; i++) {
		uint64_t b = segs[i].gpa, e = b + segs[i].memsz;
		if (e < b || e > vm->mem_size || !range_is_ram(vm, b, segs[i].memsz))
			return fail(why, wl, "segment %u [0x%llx, 0x%llx) lies outside guest memory (0x%llx bytes)",
			            i, (unsigned long long)b, (unsigned long long)e,
			            (unsigned long long)vm->mem_size);
		if (b < ARCH_GUEST_BOOT_AREA_END && e > ARCH_GUEST_BOOT_AREA_START)
			return fail(why, wl, "segment %u [0x%llx, 0x%llx) overlaps the boot area [0x%llx, 0x%llx)",
			            i, (unsigned long long)b, (unsigned long long)e,
			            ARCH_GUEST_BOOT_AREA_START, ARCH_GUEST_BOOT_AREA_END);
		for (unsigned j = 0; j < i; j++) {
			uint64_t b2 = segs[j].gpa, e2 = b2 + segs[j].memsz;
			if (b < e2 && b2 < e)
				return fail(why, wl, "segments %u and %u overlap at 0x%llx", j, i,
				            (unsigned long long)MAX(b, b2));
		}
	}
	return 0;
}

int elf_load(struct vm *vm, const void *img, size_t len, struct guest_image *out,
             char *why, size_t whylen)
{
	struct seg segs[ELF_MAX_SEGMENTS];
	unsigned n = 0;
	int r = elf_parse(img, len, out, segs, &n, why, whylen);
	if (!r)
		r = elf_check_layout(vm, segs, n, why, whylen);
	if (r)
		return r;
	bool entry_ok = false;
	for (unsigned i = 0; i < n; i++)
		entry_ok |= out->entry >= segs[i].gpa && out->entry - segs[i].gpa < segs[i].memsz;
	if (!entry_ok)
		return fail(why, whylen, "entry point 0x%llx is not inside a loaded segment",
		            (unsigned long long)out->entry);
	out->end = 0;
	for (unsigned i = 0; i < n; i++)
		out->end = MAX(out->end, segs[i].gpa + segs[i].memsz);
	/* gmem bounds each access, hence the chunks; the bss is zeroed, not assumed zero, unless RAM is untouched */
	for (unsigned i = 0; i < n; i++) {
		const struct seg *s = &segs[i];
		for (uint64_t done = 0, c; done < s->memsz; done += c) {
			c = MIN(s->memsz - done, GMEM_MAX_ACCESS);
			gpa_t at = mk_gpa(s->gpa + done);
			uint64_t file = done < s->filesz ? MIN(c, s->filesz - done) : 0;
			if ((file && gmem_write(vm, at, (const uint8_t *)img + s->offset + done, file)) ||
			    (c > file && !vm->ram_untouched && gmem_zero(vm, mk_gpa(at.v + file), c - file)))
				return fail(why, whylen, "segment %u could not be written", i);
		}
	}
	vm->ram_untouched = false;
	return 0;
}
