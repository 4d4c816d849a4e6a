#define LOG_SUB_FILE LOG_SUB_ARCH   /* its messages: loglevel=arch:LEVEL */
#include "arch/x86/pt.h"
#include "core/arch.h"
#include "core/pmm.h"

#define PT_LEVELS 4
#define PT_ENTRIES 512

/* Intel SDM vol. 3A §4.5 (4-level paging) entry bits, also used by AMD NPT (APM vol. 2 §15.25.5). */
#define X86_PTE_P   (1ull << 0)
#define X86_PTE_W   (1ull << 1)
#define X86_PTE_U   (1ull << 2)
#define X86_PTE_PWT (1ull << 3)
#define X86_PTE_PCD (1ull << 4)
#define X86_PTE_PS  (1ull << 7)
#define X86_PTE_NX  (1ull << 63)
#define X86_PTE_ADDR 0x000ffffffffff000ull

bool pt_use_nx = true;

static uint64_t x86_leaf(hpa_t pa, unsigned perm, bool large, uint64_t extra)
{
	uint64_t e = pa | X86_PTE_P | extra;
	if (perm & PT_W)
		e |= X86_PTE_W;
	if (!(perm & PT_X) && pt_use_nx)
		e |= X86_PTE_NX;
	if (perm & PT_UC)
		e |= X86_PTE_PCD | X86_PTE_PWT;
	if (large)
		e |= X86_PTE_PS;
	return e;
}

static uint64_t host_table(hpa_t next) { return next | X86_PTE_P | X86_PTE_W; }
static uint64_t host_leaf(hpa_t pa, unsigned perm, bool large) { return x86_leaf(pa, perm, large, 0); }
/* NPT: "the U bit must be set at every level" (APM vol. 2 §15.25.5): guest accesses are user accesses. */
static uint64_t npt_table(hpa_t next) { return next | X86_PTE_P | X86_PTE_W | X86_PTE_U; }
static uint64_t npt_leaf(hpa_t pa, unsigned perm, bool large) { return x86_leaf(pa, perm, large, X86_PTE_U); }
static bool x86_present(uint64_t e) { return e & X86_PTE_P; }
static bool x86_is_large(uint64_t e) { return e & X86_PTE_PS; }

/* 2 MiB pages exist wherever long mode does; 1 GiB pages only with CPUID Page1GB (mmu.c). */
struct pt_format pt_x86_host = {
	host_table, host_leaf, x86_present, x86_is_large, X86_PTE_ADDR, true, false,
};
struct pt_format pt_x86_npt = {
	npt_table, npt_leaf, x86_present, x86_is_large, X86_PTE_ADDR, true, false,
};

static uint64_t *table_ptr(hpa_t pa) { return arch_phys_to_virt(pa); }

int pt_init(struct pt *pt, const struct pt_format *fmt)
{
	pt->fmt = fmt;
	pt->root = pmm_alloc(1, PAGE_SIZE);
	pt->nr_tables = pt->root ? 1 : 0;
	return pt->root ? 0 : -ENOMEM;
}

/* Bytes covered by one entry at `level` (1 = 4 KiB ... 4 = 512 GiB). */
static uint64_t level_size(unsigned level) { return 1ull << (PAGE_SHIFT + 9 * (level - 1)); }

static int map_level(struct pt *pt, hpa_t table, unsigned level, uint64_t va, hpa_t pa,
                     uint64_t size, unsigned perm)
{
	uint64_t *t = table_ptr(table);
	uint64_t span = level_size(level);
	while (size) {
		unsigned idx = (va / span) % PT_ENTRIES;
		uint64_t chunk = MIN(size, span - (va & (span - 1)));
		uint64_t e = t[idx];
		bool may_leaf = level == 1 || (level == 2 && pt->fmt->has_2m) ||
		                (level == 3 && pt->fmt->has_1g);
		if (!pt->fmt->present(e) && may_leaf && chunk == span && IS_ALIGNED(pa, span)) {
			t[idx] = pt->fmt->leaf(pa, perm, level > 1);
		} else if (level > 1 && !(pt->fmt->present(e) && pt->fmt->is_large(e))) {
			if (!pt->fmt->present(e)) {
				hpa_t next = pmm_alloc(1, PAGE_SIZE);
				if (!next)
					return -ENOMEM;
				pt->nr_tables++;
				t[idx] = e = pt->fmt->table(next);
			}
			int r = map_level(pt, e & pt->fmt->addr_mask, level - 1, va, pa, chunk, perm);
			if (r)
				return r;
		}
		/* else: already mapped (a leaf): the first mapping wins */
		va += chunk;
		pa += chunk;
		size -= chunk;
	}
	return 0;
}

int pt_map(struct pt *pt, uint64_t va, hpa_t pa, uint64_t size, unsigned perm)
{
	if (!IS_ALIGNED(va | pa | size, PAGE_SIZE) || va + size < va)
		return -EINVAL;
	return map_level(pt, pt->root, PT_LEVELS, va, pa, size, perm);
}

/* A new table for `*entry`: empty, or the large leaf it replaces cut into leaves a level down. */
static int new_table(struct pt *pt, uint64_t *entry, unsigned level, unsigned perm)
{
	uint64_t e = *entry, span = level_size(level), sub = level_size(level - 1);
	hpa_t next = pmm_alloc(1, PAGE_SIZE);                  /* zeroed: nothing present */
	if (!next)
		return -ENOMEM;
	pt->nr_tables++;
	if (pt->fmt->present(e)) {
		uint64_t *n = table_ptr(next);
		hpa_t base = e & pt->fmt->addr_mask & ~(span - 1);
		for (unsigned i = 0; i < PT_ENTRIES; i++)
			n[i] = pt->fmt->leaf(base + i * sub, perm, level - 1 > 1);
	}
	*entry = pt->fmt->table(next);
	return 0;
}

int pt_set_page(struct pt *pt, uint64_t va, hpa_t pa, unsigned perm, bool present)
{
	hpa_t table = pt->root;
	for (unsigned level = PT_LEVELS; level > 1; level--) {
		uint64_t *e = &table_ptr(table)[(va / level_size(level)) % PT_ENTRIES];
		if (!pt->fmt->present(*e) && !present)
			return 0;                                  /* nothing mapped there already */
		if (!pt->fmt->present(*e) || pt->fmt->is_large(*e)) {
			int r = new_table(pt, e, level, perm);
			if (r)
				return r;
		}
		table = *e & pt->fmt->addr_mask;
	}
	table_ptr(table)[(va >> PAGE_SHIFT) % PT_ENTRIES] = present ? pt->fmt->leaf(pa, perm, false) : 0;
	return 0;
}

static void free_level(struct pt *pt, hpa_t table, unsigned level)
{
	uint64_t *t = table_ptr(table);
	for (unsigned i = 0; level > 1 && i < PT_ENTRIES; i++)
		if (pt->fmt->present(t[i]) && !pt->fmt->is_large(t[i]))
			free_level(pt, t[i] & pt->fmt->addr_mask, level - 1);
	pmm_free(table, 1);
}

void pt_destroy(struct pt *pt)
{
	if (pt->root)
		free_level(pt, pt->root, PT_LEVELS);
	pt->root = 0;
	pt->nr_tables = 0;
}
