/*
 * Multiboot2 boot path: turn the boot information GRUB left at `info` into our
 * struct boot_info. Layouts: The Multiboot2 Specification, version 2.0, §3.6.
 */
#include "core/boot_info.h"
#include "core/hv.h"
#include "core/string.h"

#define MB2_BOOTLOADER_MAGIC 0x36d76289u /* §3.3: value in EAX at entry */

enum mb2_tag_type {     /* §3.6 */
	MB2_TAG_END = 0,
	MB2_TAG_CMDLINE = 1,
	MB2_TAG_MODULE = 3,
	MB2_TAG_MMAP = 6,
	MB2_TAG_ACPI_OLD = 14,
	MB2_TAG_ACPI_NEW = 15,
};

enum mb2_mem_type {     /* §3.6.8 */
	MB2_MEM_AVAILABLE = 1,
	MB2_MEM_ACPI_RECLAIM = 3,
	MB2_MEM_NVS = 4,
	MB2_MEM_BAD = 5,
};

struct mb2_tag { uint32_t type, size; };
struct mb2_tag_module { struct mb2_tag tag; uint32_t mod_start, mod_end; char cmdline[]; };
struct mb2_tag_mmap { struct mb2_tag tag; uint32_t entry_size, entry_version; };
struct mb2_mmap_entry { uint64_t base, len; uint32_t type, reserved; };

static struct boot_info mb2_boot_info;
/* GRUB's copy of the RSDP lies in memory we later hand out: keep our own. */
static uint8_t mb2_rsdp[64] __attribute__((aligned(16)));

static void mb2_keep_rsdp(struct boot_info *bi, const struct mb2_tag *t)
{
	memcpy(mb2_rsdp, t + 1, MIN(t->size - sizeof(*t), sizeof(mb2_rsdp)));
	bi->rsdp = (uintptr_t)mb2_rsdp;
}

static uint32_t mb2_mem_type(uint32_t t)
{
	switch (t) {
	case MB2_MEM_AVAILABLE: return BOOT_MEM_USABLE;
	case MB2_MEM_ACPI_RECLAIM: return BOOT_MEM_ACPI_RECLAIM;
	case MB2_MEM_NVS: return BOOT_MEM_ACPI_NVS;
	case MB2_MEM_BAD: return BOOT_MEM_BAD;
	default: return BOOT_MEM_RESERVED;
	}
}

static void mb2_add_mmap(struct boot_info *bi, const struct mb2_tag_mmap *t)
{
	if (t->entry_size < sizeof(struct mb2_mmap_entry))
		return;
	const uint8_t *p = (const uint8_t *)(t + 1);
	const uint8_t *end = (const uint8_t *)t + t->tag.size;
	for (; p + t->entry_size <= end && bi->nr_mmap < BOOT_MAX_MMAP; p += t->entry_size) {
		const struct mb2_mmap_entry *e = (const void *)p;
		bi->mmap[bi->nr_mmap++] = (struct boot_mem_region){
			.base = e->base, .len = e->len, .type = mb2_mem_type(e->type),
		};
	}
}

/* Copies a tag's string: never past the tag, always terminated. */
static void copy_tag_string(char *dst, size_t dstlen, const char *src, size_t room)
{
	size_t n = strnlen(src, room);
	n = MIN(n, dstlen - 1);
	memcpy(dst, src, n);
	dst[n] = 0;
}

static void mb2_add_module(struct boot_info *bi, const struct mb2_tag_module *t)
{
	if (bi->nr_modules >= BOOT_MAX_MODULES || t->tag.size < sizeof(*t) || t->mod_end < t->mod_start)
		return;
	struct boot_module *m = &bi->modules[bi->nr_modules++];
	m->base = t->mod_start;
	m->len = t->mod_end - t->mod_start;
	copy_tag_string(m->cmdline, sizeof(m->cmdline), t->cmdline, t->tag.size - sizeof(*t));
}

void mb2_main(uint32_t magic, uint32_t info);

void mb2_main(uint32_t magic, uint32_t info)
{
	struct boot_info *bi = &mb2_boot_info;
	bi->magic = BOOT_INFO_MAGIC;
	if (magic != MB2_BOOTLOADER_MAGIC)
		hv_boot_fail("not started by a multiboot2 loader (bad magic)");

	const uint8_t *base = (const uint8_t *)(uintptr_t)info;
	uint32_t total = *(const uint32_t *)base;
	for (uint64_t off = 8; off <= total && total - off >= sizeof(struct mb2_tag);) {
		const struct mb2_tag *t = (const void *)(base + off);
		/* a tag must fit in what is left of the block: anything else ends the walk */
		if (t->type == MB2_TAG_END || t->size < sizeof(*t) || t->size > total - off)
			break;
		switch (t->type) {
		case MB2_TAG_CMDLINE:
			copy_tag_string(bi->cmdline, sizeof(bi->cmdline), (const char *)(t + 1),
			                t->size - sizeof(*t));
			break;
		case MB2_TAG_MODULE:
			mb2_add_module(bi, (const void *)t);
			break;
		case MB2_TAG_MMAP:
			if (t->size >= sizeof(struct mb2_tag_mmap))
				mb2_add_mmap(bi, (const void *)t);
			break;
		case MB2_TAG_ACPI_OLD:
			if (!bi->rsdp)
				mb2_keep_rsdp(bi, t);
			break;
		case MB2_TAG_ACPI_NEW:
			mb2_keep_rsdp(bi, t); /* prefer the ACPI 2.0 RSDP */
			break;
		}
		off = ALIGN_UP(off + t->size, 8);   /* cannot wrap: size <= total - off */
	}
	hv_main(bi);
}

/* UEFI boot path: boot/uefi/ already built the struct; hand it on unchanged. */
void uefi_main(const struct boot_info *bi);

void uefi_main(const struct boot_info *bi)
{
	if (bi->magic != BOOT_INFO_MAGIC)
		hv_boot_fail("UEFI loader passed a bad boot_info (magic)");
	hv_main(bi);
}
