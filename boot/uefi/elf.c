/*
 * Places the embedded hv.elf at its link address. Every check runs before the
 * first allocation so that a bad image leaves the firmware's memory untouched.
 */
#include <elf.h>

#include "loader.h"

#define PG 4096ull
#define PG_DOWN(x) ((x) & ~(PG - 1))
#define PG_UP(x) PG_DOWN((x) + PG - 1)

struct image {
	const uint8_t *blob;
	uint64_t size;
	const Elf64_Ehdr *eh;
	const Elf64_Phdr *ph;
};

static int in_blob(const struct image *im, uint64_t off, uint64_t len)
{
	return off <= im->size && len <= im->size - off;
}

/* Tables are indexed in place, so their entries must match our structs and be aligned. */
static const void *table(const struct image *im, uint64_t off, uint64_t n,
			 uint64_t entsize, uint64_t want)
{
	if (entsize != want || off % 8 || n > im->size / want || !in_blob(im, off, n * want))
		return NULL;
	return im->blob + off;
}

static const char *check_header(struct image *im)
{
	const Elf64_Ehdr *eh = (const void *)im->blob;

	if (im->size < sizeof(*eh) || CompareMem(eh->e_ident, ELFMAG, SELFMAG))
		return "not an ELF file";
	if (eh->e_ident[EI_CLASS] != ELFCLASS64 || eh->e_ident[EI_DATA] != ELFDATA2LSB ||
	    eh->e_machine != EM_X86_64 || eh->e_type != ET_EXEC)
		return "not an x86-64 ELF64 executable";
	im->eh = eh;
	im->ph = table(im, eh->e_phoff, eh->e_phnum, eh->e_phentsize, sizeof(Elf64_Phdr));
	return im->ph ? NULL : "program headers outside the image";
}

/* Ascending, disjoint segments let place_segment() share boundary pages safely. */
static const char *check_segments(const struct image *im)
{
	uint64_t prev_end = 0, loads = 0;

	for (unsigned i = 0; i < im->eh->e_phnum; i++) {
		const Elf64_Phdr *p = &im->ph[i];

		if (p->p_type != PT_LOAD || !p->p_memsz)
			continue;
		if (!in_blob(im, p->p_offset, p->p_filesz) || p->p_filesz > p->p_memsz)
			return "segment outside the image";
		if (p->p_paddr != p->p_vaddr)
			return "segment not identity-mapped (p_paddr != p_vaddr)";
		if (p->p_paddr < prev_end || p->p_paddr > ~0ull - PG ||
		    p->p_memsz > ~0ull - PG - p->p_paddr)
			return "segments overlap or are out of order";
		prev_end = p->p_paddr + p->p_memsz;
		loads++;
	}
	return loads ? NULL : "no PT_LOAD segment";
}

static int name_is(const char *s, uint64_t max, const char *want)
{
	for (uint64_t i = 0; i < max; i++) {
		if (s[i] != want[i])
			return 0;
		if (!want[i])
			return 1;
	}
	return 0;
}

static uint64_t lookup_in(const struct image *im, const Elf64_Shdr *symtab,
			  const Elf64_Shdr *strtab, const char *name)
{
	const Elf64_Sym *sym = table(im, symtab->sh_offset, symtab->sh_size / sizeof(*sym),
				     symtab->sh_entsize, sizeof(*sym));
	const char *strs = (const char *)im->blob + strtab->sh_offset;

	if (!sym || !in_blob(im, strtab->sh_offset, strtab->sh_size))
		return 0;
	for (uint64_t i = 0; i < symtab->sh_size / sizeof(*sym); i++)
		if (sym[i].st_shndx != SHN_UNDEF && sym[i].st_name < strtab->sh_size &&
		    name_is(strs + sym[i].st_name, strtab->sh_size - sym[i].st_name, name))
			return sym[i].st_value;
	return 0;
}

static uint64_t find_symbol(const struct image *im, const char *name)
{
	const Elf64_Ehdr *eh = im->eh;
	const Elf64_Shdr *sh = table(im, eh->e_shoff, eh->e_shnum, eh->e_shentsize, sizeof(*sh));
	uint64_t v = 0;

	for (unsigned i = 0; sh && i < eh->e_shnum && !v; i++)
		if (sh[i].sh_type == SHT_SYMTAB && sh[i].sh_link < eh->e_shnum)
			v = lookup_in(im, &sh[i], &sh[sh[i].sh_link], name);
	return v;
}

static int in_code(const struct image *im, uint64_t addr)
{
	for (unsigned i = 0; i < im->eh->e_phnum; i++) {
		const Elf64_Phdr *p = &im->ph[i];

		if (p->p_type == PT_LOAD && (p->p_flags & PF_X) &&
		    addr >= p->p_vaddr && addr - p->p_vaddr < p->p_memsz)
			return 1;
	}
	return 0;
}

static EFI_STATUS place_segment(const struct image *im, const Elf64_Phdr *p, uint64_t *placed_end)
{
	uint64_t start = PG_DOWN(p->p_paddr), end = PG_UP(p->p_paddr + p->p_memsz);
	EFI_PHYSICAL_ADDRESS at;
	EFI_STATUS st;

	/* A segment may begin in the page where the previous one ends: that page is ours already. */
	if (start < *placed_end)
		start = *placed_end;
	if (start < end) {
		at = start;
		st = loader_alloc(AllocateAddress, (p->p_flags & PF_X) ? EfiLoaderCode : EfiLoaderData,
				  (end - start) / PG, &at);
		if (EFI_ERROR(st)) {
			Print(L"hv.efi: cannot place hypervisor at 0x%lx: %r\n", start, st);
			return st;
		}
		*placed_end = end;
	}
	CopyMem((void *)(uintptr_t)p->p_paddr, im->blob + p->p_offset, p->p_filesz);
	ZeroMem((void *)(uintptr_t)(p->p_paddr + p->p_filesz), p->p_memsz - p->p_filesz);
	return EFI_SUCCESS;
}

EFI_STATUS hv_image_load(const uint8_t *blob, uint64_t size, uint64_t *entry)
{
	struct image im = { .blob = blob, .size = size };
	const char *err = check_header(&im);
	uint64_t placed_end = 0;
	EFI_STATUS st = EFI_SUCCESS;

	if (!err)
		err = check_segments(&im);
	if (!err && !(*entry = find_symbol(&im, "hv_entry64")))
		err = "no symbol hv_entry64 (stripped image?)";
	if (!err && !in_code(&im, *entry))
		err = "hv_entry64 is not in an executable segment";
	if (err) {
		Print(L"hv.efi: bad embedded hv.elf: %a\n", err);
		return EFI_LOAD_ERROR;
	}
	for (unsigned i = 0; i < im.eh->e_phnum && !EFI_ERROR(st); i++)
		if (im.ph[i].p_type == PT_LOAD && im.ph[i].p_memsz)
			st = place_segment(&im, &im.ph[i], &placed_end);
	return st;
}
